//! `vigil sandbox init`: seeded sample data for every table the content references.

use std::path::PathBuf;

use super::{Context, OpError};
use crate::dryrun::{self, TestFile};
use crate::model::Definition;

pub struct SandboxInitOutcome {
    /// Each table written and its row count.
    pub tables: Vec<(String, usize)>,
    /// The data folder, absolute.
    pub dir: PathBuf,
}

pub fn sandbox_init(cx: &Context) -> Result<SandboxInitOutcome, OpError> {
    let data = sandbox_data(cx);
    let cfg = cx.sandbox();
    let dir = cx.root.join(&cfg.data);
    std::fs::create_dir_all(&dir)?;
    let progress = cx.progress("sandbox init", data.len() as u64);
    let mut tables = Vec::new();
    for (table, (rows, text)) in &data {
        let p = dir.join(format!("{table}.jsonl"));
        crate::emit::write_file(&p, text)?;
        tables.push((table.clone(), *rows));
        progress.inc(1);
    }
    progress.finish();
    Ok(SandboxInitOutcome { tables, dir })
}

/// What `sandbox init` writes: per table, its row count and its JSON Lines text.
pub fn sandbox_data(cx: &Context) -> std::collections::BTreeMap<String, (usize, String)> {
    let ws = cx.workspace();
    let checked = crate::pipeline::check(&ws, &cx.siblings(), None);
    let cfg = cx.sandbox();
    let defs: Vec<(Definition, Option<TestFile>)> = checked
        .definitions
        .iter()
        .map(|d| {
            let tf = dryrun::tests_path(&cx.root.join(&d.path));
            let tests = tf
                .is_file()
                .then(|| dryrun::read_tests_in(&cx.root, &tf).ok())
                .flatten();
            (d.clone(), tests)
        })
        .collect();
    dryrun::generate::generate(&cx.root, &defs, cfg.now, cfg.days, cfg.seed)
        .into_iter()
        .map(|(t, rows)| {
            let text = dryrun::generate::to_jsonl(&rows);
            (t, (rows.len(), text))
        })
        .collect()
}
