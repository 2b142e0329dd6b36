//! `vigil validate [PATHS]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::report::{report, ReportArgs};
use super::super::{with, ExitCode, Global};
use crate::ops::validate::{self, ValidateOptions};

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

pub fn cli() -> Command {
    ValidateArgs::augment_args(
        Command::new("validate").about(
            "Check definitions: YAML, schema, Sentinel's limits, provenance and review fields.",
        ),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: ValidateArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let cx = match super::super::report::context_or_report(g, &a.report) {
        Ok(cx) => cx,
        Err(c) => return c,
    };
    with(g, Ok(cx), |cx| {
        let o = validate::validate(
            &cx,
            &ValidateOptions {
                paths: a.paths.clone(),
                kql: !a.no_kql,
            },
        )?;
        let s = &o.stats;
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
        report(
            g,
            Some(&cx),
            &a.report,
            &o.db,
            &o.diagnostics,
            s.files,
            &extra,
        )
    })
}
