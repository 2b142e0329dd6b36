//! `vigil test [PATHS] [--junit FILE] [--json FILE]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{out, with, write_report, ExitCode, Global};
use crate::ops::test::{self, TestOptions};

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Definitions to test (default: all).
    pub paths: Vec<PathBuf>,
    /// Also write JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

pub fn cli() -> Command {
    TestArgs::augment_args(Command::new("test").about(
        "Run the detection tests (`x.tests.yaml` beside each rule) offline; JUnit with --junit.",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: TestArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = test::test(
            &cx,
            &TestOptions {
                paths: a.paths.clone(),
            },
        )?;
        let failed = o.failed();
        let mut text = String::new();
        for r in &o.results {
            if r.passed && g.quiet {
                continue;
            }
            text.push_str(&format!(
                "{} {} :: {} ({} alert(s), {} row(s))\n",
                if r.passed { "ok  " } else { "FAIL" },
                r.definition,
                r.name,
                r.alerts,
                r.rows
            ));
            for f in &r.failures {
                text.push_str(&format!("       {f}\n"));
            }
        }
        if !g.quiet {
            for u in &o.untested {
                text.push_str(&format!("note: no tests for {u}\n"));
            }
        }
        text.push_str(&format!(
            "{} test(s), {} passed, {} failed\n",
            o.results.len(),
            o.results.len() - failed,
            failed
        ));
        out(&text)?;
        if let Some(p) = &a.junit {
            write_report(&cx, p, &crate::dryrun::junit(&o.results))?;
        }
        if let Some(p) = &a.json {
            write_report(&cx, p, &(serde_json::to_string_pretty(&o.results)? + "\n"))?;
        }
        Ok(ExitCode::failed_if(failed > 0))
    })
}
