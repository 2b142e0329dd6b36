//! Reporting diagnostics: stdout in the chosen format, plus per-artifact files in the same run.

use std::path::PathBuf;

use clap::Args;

use super::{out, write_report, ExitCode, Global};
use crate::diagnostics::render::{self, Format, HumanOptions};
use crate::diagnostics::{Counts, Diagnostic, Severity};
use crate::ops::{Context, OpError};
use crate::source::SourceDb;

// Output options shared by commands that report diagnostics (a plain comment: a doc comment
// would become the about text of every command that flattens it).
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Format of the report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a SARIF 2.1.0 report to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long, value_name = "LEVEL", value_parser = ["warnings"])]
    pub deny: Option<String>,
}

/// Print and write the reports; returns the exit code the findings call for.
pub fn report(
    g: &Global,
    cx: Option<&Context>,
    args: &ReportArgs,
    db: &SourceDb,
    diags: &[Diagnostic],
    files: usize,
    summary_extra: &str,
) -> Result<ExitCode, OpError> {
    let shown: Vec<Diagnostic> = if g.quiet {
        diags
            .iter()
            .filter(|d| d.severity >= Severity::Warning)
            .cloned()
            .collect()
    } else {
        diags.to_vec()
    };
    let counts = Counts::of(diags);
    match args.format {
        Format::Human => {
            let text = render::human(
                db,
                &shown,
                HumanOptions {
                    color: g.color(),
                    width: 100,
                },
            );
            out(&text)?;
            if !g.quiet || counts.errors > 0 || counts.warnings > 0 {
                out(&format!(
                    "{}{}\n",
                    render::summary_line(counts, files),
                    summary_extra
                ))?;
            }
        }
        Format::Json => out(&render::json(db, diags, files))?,
        Format::Sarif => out(&render::sarif(db, diags))?,
        Format::Github => out(&render::github(db, &shown))?,
    }
    let write = |p: &PathBuf, text: String| -> Result<(), OpError> {
        match cx {
            Some(cx) => write_report(cx, p, &text),
            None => crate::emit::write_file(p, &text).map_err(OpError::from),
        }
    };
    if let Some(p) = &args.json {
        write(p, render::json(db, diags, files))?;
    }
    if let Some(p) = &args.sarif {
        write(p, render::sarif(db, diags))?;
    }
    let fail = counts.errors > 0 || (args.deny.is_some() && counts.warnings > 0);
    Ok(ExitCode::failed_if(fail))
}

/// The run's context; a broken `vigil.toml` is reported like any finding, in the format the
/// user asked for (so `--format sarif` in CI points at `vigil.toml:line:col`), with exit 1.
pub fn context_or_report(g: &Global, args: &ReportArgs) -> Result<Context, ExitCode> {
    match g.context() {
        Ok(cx) => Ok(cx),
        Err(e) => match &e.diagnostics {
            Some(d) => {
                let (db, diags) = &**d;
                Err(match report(g, None, args, db, diags, 1, "") {
                    Ok(_) => ExitCode::Failed,
                    Err(e2) => super::fail(g, &e2),
                })
            }
            None => Err(super::fail(g, &e)),
        },
    }
}
