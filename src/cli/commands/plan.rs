//! `vigil plan --env E [--ref REF] [--format human|json|markdown] [--json FILE] [--markdown FILE] [--detailed-exitcode]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command, ValueEnum};

use super::super::{err, out, with, write_report, ExitCode, Global};
use crate::ops::plan::{self, PlanOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Environment from vigil.toml (`local`: the emulator).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Plan the content at this git ref (read without a checkout); default: the work tree.
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Also write the plan as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the plan as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Exit 3 when the plan has changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

pub fn cli() -> Command {
    PlanArgs::augment_args(Command::new("plan").about(
        "Show what `apply` would change in an environment's workspaces (exit 3 with --detailed-exitcode when there are changes).",
    ))
}

/// Print deploy problems (rules that do not bind in a workspace) on stderr.
pub fn problems(ps: &[crate::deploy::DeployError]) {
    for p in ps {
        err(&format!("error[{}]: {}\n", p.code, p.message));
        if let Some(h) = &p.hint {
            err(&format!("  hint: {h}\n"));
        }
    }
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: PlanArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = plan::plan(
            &cx,
            &PlanOptions {
                env: a.env.clone(),
                reference: a.reference.clone(),
            },
        )?;
        match a.format {
            PlanFormat::Human => {
                out(&crate::deploy::render::human(
                    &o.env_name,
                    &o.plans,
                    g.verbose,
                ))?;
                problems(&o.problems);
            }
            PlanFormat::Json => out(&format!("{}\n", serde_json::to_string_pretty(&o.report)?))?,
            PlanFormat::Markdown => out(&plan::markdown(&cx, &o.report)?)?,
        }
        for (id, status) in &o.interrupted {
            err(&format!(
                "warning: deployment {id} was interrupted ({status}); the next apply restores its prior state first\n"
            ));
        }
        if let Some(p) = &a.json {
            write_report(&cx, p, &serde_json::to_string_pretty(&o.report)?)?;
        }
        if let Some(p) = &a.markdown {
            write_report(&cx, p, &plan::markdown(&cx, &o.report)?)?;
        }
        if !o.problems.is_empty() {
            return Ok(ExitCode::Failed);
        }
        Ok(if a.detailed_exitcode && o.changes() > 0 {
            ExitCode::Changes
        } else {
            ExitCode::Clean
        })
    })
}
