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
    let data = dryrun::generate::generate(&cx.root, &defs, cfg.now, cfg.days, cfg.seed);
    let dir = cx.root.join(&cfg.data);
    std::fs::create_dir_all(&dir)?;
    let progress = cx.progress("sandbox init", data.len() as u64);
    let mut tables = Vec::new();
    for (table, rows) in &data {
        let p = dir.join(format!("{table}.jsonl"));
        crate::emit::write_file(&p, &dryrun::generate::to_jsonl(rows))?;
        tables.push((table.clone(), rows.len()));
        progress.inc(1);
    }
    progress.finish();
    Ok(SandboxInitOutcome { tables, dir })
}
