//! `vigil kql check [FILE.kql ...]` and `--jsonl`: the KQL front end on standalone queries.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::report::{report, ReportArgs};
use super::super::{with, ExitCode, Global};
use crate::ops::kql_check::{self, QueryInput};
use crate::ops::OpError;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Query files.
    pub files: Vec<PathBuf>,
    /// Read `{"id", "query", "mode"}` lines on stdin and answer one JSON line each
    /// (`{"id", "ok", "mode", "diagnostics": [...]}`), as the kql-oracle harness does.
    #[arg(long)]
    pub jsonl: bool,
    /// A schema file in the oracle's format (`{"tables": ..., "functions": ...}`) to bind
    /// against instead of the embedded Sentinel catalog.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Parse only; do not bind names (in `--jsonl`, `"mode": "semantic"` also binds).
    #[arg(long)]
    pub syntax_only: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn cli() -> Command {
    Command::new("kql")
        .about("Check standalone KQL queries (also as JSONL, in the kql-oracle format).")
        .subcommand_required(true)
        .subcommand(CheckArgs::augment_args(Command::new("check").about(
            "Check standalone queries (`.kql` files, or `-` for stdin).",
        )))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let Some(("check", sub)) = m.subcommand() else {
        return ExitCode::Usage;
    };
    let a: CheckArgs = match super::args(g, sub) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let cx = match super::super::report::context_or_report(g, &a.report) {
        Ok(cx) => cx,
        Err(c) => return c,
    };
    with(g, Ok(cx), |cx| {
        let catalog = kql_check::catalog(&cx, a.schema.as_deref())?;
        if a.jsonl {
            let stdin = std::io::stdin();
            let mut out = std::io::stdout().lock();
            for line in stdin.lock().lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                writeln!(out, "{}", kql_check::answer_line(&line, &catalog))?;
            }
            out.flush()?;
            return Ok(ExitCode::Clean);
        }
        if a.files.is_empty() {
            return Err(OpError::usage(
                "give query files, `-` for stdin, or --jsonl",
            ));
        }
        let mut inputs = Vec::new();
        for f in &a.files {
            let text = if f.as_os_str() == "-" {
                Some(std::io::read_to_string(std::io::stdin())?)
            } else {
                None
            };
            inputs.push(QueryInput {
                path: f.clone(),
                text,
            });
        }
        let (db, diags) = kql_check::check_files(&cx, &inputs, &catalog, a.syntax_only)?;
        report(g, Some(&cx), &a.report, &db, &diags, a.files.len(), "")
    })
}
