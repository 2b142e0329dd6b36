//! `vigil schema [KIND] [--write DIR | --check DIR]`

use std::path::PathBuf;

use clap::Args;

use super::{err, out, Global};
use crate::model::{schema, ContentKind};

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Content kind: rule, hunt, function, anomaly, watchlist (default: all, with --write/--check);
    /// or `pull` with --env: each workspace's tables and functions into schemas/workspaces/ENV/.
    pub kind: Option<String>,
    /// With `pull`: the environment whose workspaces to read.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Write every schema into DIR (as committed in schemas/).
    #[arg(long, value_name = "DIR", conflicts_with = "check")]
    pub write: Option<PathBuf>,
    /// Exit 1 if the schemas in DIR differ from the generated ones.
    #[arg(long, value_name = "DIR")]
    pub check: Option<PathBuf>,
}

pub fn exec(g: &Global, a: SchemaArgs) -> anyhow::Result<i32> {
    if a.kind.as_deref() == Some("pull") {
        let Some(env) = &a.env else {
            anyhow::bail!("`vigil schema pull` needs --env ENV");
        };
        return super::deploy::schema_pull(g, env);
    }
    let kinds: Vec<ContentKind> = match &a.kind {
        Some(k) => vec![ContentKind::parse(k).ok_or_else(|| {
            anyhow::anyhow!("unknown kind `{k}`; kinds: rule, hunt, function, anomaly, watchlist")
        })?],
        None => ContentKind::ALL.to_vec(),
    };
    if let Some(dir) = &a.write {
        std::fs::create_dir_all(dir)?;
        for k in &kinds {
            std::fs::write(dir.join(schema::file_name(*k)), schema::render(*k))?;
        }
        return Ok(0);
    }
    if let Some(dir) = &a.check {
        let mut stale = Vec::new();
        for k in &kinds {
            let p = dir.join(schema::file_name(*k));
            if std::fs::read_to_string(&p).ok().as_deref() != Some(schema::render(*k).as_str()) {
                stale.push(p.display().to_string());
            }
        }
        if stale.is_empty() {
            return Ok(0);
        }
        err(&format!(
            "schemas out of date: {}\nrun `vigil schema --write {}`\n",
            stale.join(", "),
            dir.display()
        ));
        return Ok(1);
    }
    if kinds.len() != 1 {
        anyhow::bail!(
            "name a kind to print (rule, hunt, function, anomaly, watchlist), or use --write DIR"
        );
    }
    out(&schema::render(kinds[0]))?;
    Ok(0)
}
