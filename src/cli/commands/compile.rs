//! `vigil compile [PATHS] --out DIR [--env E]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::report::{report, ReportArgs};
use super::super::{out, with, ExitCode, Global};
use crate::ops::compile::{self, CompileOptions};

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Files or folders to compile (default: the whole repository).
    pub paths: Vec<PathBuf>,
    /// Output folder.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Apply this environment's per-definition overrides.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn cli() -> Command {
    CompileArgs::augment_args(
        Command::new("compile").about("Compile definitions to REST payloads and ARM templates."),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: CompileArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let cx = match super::super::report::context_or_report(g, &a.report) {
        Ok(cx) => cx,
        Err(c) => return c,
    };
    with(g, Ok(cx), |cx| {
        let o = compile::compile(
            &cx,
            &CompileOptions {
                paths: a.paths.clone(),
                out: a.out.clone(),
                env: a.env.clone(),
            },
        )?;
        let summary = format!(
            " ({} compiled into {}, {} combined template(s))",
            o.written.items,
            crate::diagnostics::render::display_path(&a.out),
            o.written.templates
        );
        let code = report(
            g,
            Some(&cx),
            &a.report,
            &o.db,
            &o.diagnostics,
            o.stats.files,
            &summary,
        )?;
        if g.verbose {
            out(&format!("wrote {}\n", o.out_dir.display()))?;
        }
        Ok(code)
    })
}
