//! `vigil schema`: the JSON Schemas of the content kinds and of `vigil.toml`, printed, written
//! or checked against a folder (as committed in `schemas/`).

use std::path::{Path, PathBuf};

use super::{Context, OpError};
use crate::model::{schema, ContentKind};

/// One generated schema file.
pub struct SchemaFile {
    pub file_name: String,
    pub text: String,
}

/// The schemas of `kind` (`rule`, `hunt`, `function`, `anomaly`, `watchlist`, `config`,
/// `tests`), or all of them.
pub fn schemas(kind: Option<&str>) -> Result<Vec<SchemaFile>, OpError> {
    let tests = || SchemaFile {
        file_name: crate::dryrun::SCHEMA_FILE.to_string(),
        text: crate::dryrun::render_schema(),
    };
    if matches!(kind, Some("tests") | Some("test")) {
        return Ok(vec![tests()]);
    }
    let kinds: Vec<Option<ContentKind>> = match kind {
        Some("config") | Some("vigil.toml") => vec![None],
        Some(k) => vec![Some(ContentKind::parse(k).ok_or_else(|| {
            OpError::usage(format!(
                "unknown kind `{k}`; kinds: rule, hunt, function, anomaly, watchlist, config, tests"
            ))
        })?)],
        None => ContentKind::ALL
            .iter()
            .copied()
            .map(Some)
            .chain([None])
            .collect(),
    };
    let mut out: Vec<SchemaFile> = kinds
        .into_iter()
        .map(|k| match k {
            Some(k) => SchemaFile {
                file_name: schema::file_name(k).to_string(),
                text: schema::render(k),
            },
            None => SchemaFile {
                file_name: crate::config::SCHEMA_FILE.to_string(),
                text: crate::config::render_schema(),
            },
        })
        .collect();
    if kind.is_none() {
        out.push(tests());
    }
    Ok(out)
}

/// Write the schemas into `dir`.
pub fn write(cx: &Context, dir: &Path, files: &[SchemaFile]) -> Result<(), OpError> {
    let dir = cx.path(dir);
    std::fs::create_dir_all(&dir)?;
    for f in files {
        std::fs::write(dir.join(&f.file_name), &f.text)?;
    }
    Ok(())
}

/// The files in `dir` that differ from the generated schemas.
pub fn stale(cx: &Context, dir: &Path, files: &[SchemaFile]) -> Vec<PathBuf> {
    let dir = cx.path(dir);
    files
        .iter()
        .map(|f| dir.join(&f.file_name))
        .zip(files)
        .filter(|(p, f)| std::fs::read_to_string(p).ok().as_deref() != Some(f.text.as_str()))
        .map(|(p, _)| p)
        .collect()
}
