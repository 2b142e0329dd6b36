//! Reporting diagnostics: stdout in the chosen format, plus per-artifact files in the same run.

use crate::diagnostics::render::{self, Format, HumanOptions};
use crate::diagnostics::{Counts, Diagnostic, Severity};
use crate::source::SourceDb;

use super::{out, Global, ReportArgs};
use crate::emit::write_file;

/// Print and write the reports; returns the exit code the findings call for.
pub fn report(
    g: &Global,
    args: &ReportArgs,
    db: &SourceDb,
    diags: &[Diagnostic],
    files: usize,
    summary_extra: &str,
) -> anyhow::Result<i32> {
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
            let width = 100;
            let text = render::human(
                db,
                &shown,
                HumanOptions {
                    color: g.color(),
                    width,
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
    if let Some(p) = &args.json {
        write_file(p, &render::json(db, diags, files))?;
    }
    if let Some(p) = &args.sarif {
        write_file(p, &render::sarif(db, diags))?;
    }
    let fail = counts.errors > 0 || (args.deny.is_some() && counts.warnings > 0);
    Ok(if fail { 1 } else { 0 })
}
