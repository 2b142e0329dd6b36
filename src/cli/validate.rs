//! `vigil validate [PATHS...]`

use std::path::PathBuf;

use clap::Args;

use super::{report, Global, ReportArgs};
use crate::model::load::FsReader;
use crate::{pipeline, workspace};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Files or folders to check (default: the whole repository).
    pub paths: Vec<PathBuf>,
    /// Skip KQL analysis (YAML, schema and Sentinel's limits only).
    #[arg(long)]
    pub no_kql: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn exec(g: &Global, a: ValidateArgs) -> anyhow::Result<i32> {
    let root = g.root()?;
    let ws = workspace::open(&root, &g.paths(&a.paths)?);
    let reader = FsReader { root: root.clone() };
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace(&ws);
    let analyzer: Option<&dyn crate::validate::QueryAnalyzer> =
        if a.no_kql { None } else { Some(&kql) };
    let checked = pipeline::check(&ws, &reader, analyzer);
    let s = &checked.stats;
    let extra = format!(
        " ({} definitions: {} rules, {} hunts, {} functions, {} anomaly settings, {} watchlists{})",
        s.definitions,
        s.rules,
        s.hunts,
        s.functions,
        s.anomalies,
        s.watchlists,
        if s.stubs > 0 {
            format!("; {} moved stubs", s.stubs)
        } else {
            String::new()
        }
    );
    report::report(g, &a.report, &ws.db, &checked.diagnostics, s.files, &extra)
}
