//! `vigil apply --env E [--ref REF] [--no-rollback] [--max-deletions N] [--json FILE]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{err, out, with, write_report, ExitCode, Global};
use crate::deploy::{record, render};
use crate::diagnostics::code;
use crate::ops::apply::{self, ApplyOptions};
use crate::ops::{Context, OpError};

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Apply the content at this git ref; default: the work tree.
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,
    /// On failure, leave the workspaces as they are instead of restoring them.
    #[arg(long)]
    pub no_rollback: bool,
    /// Allow this many deletions (default: the environment's `max_deletions`).
    #[arg(long, value_name = "N")]
    pub max_deletions: Option<usize>,
    /// Also write the apply result (record id, status, plan) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

pub fn cli() -> Command {
    ApplyArgs::augment_args(
        Command::new("apply")
            .about("Make an environment's workspaces match the content; restores them on failure."),
    )
}

/// Render what an apply or rollback did (shared with `rollback`).
pub fn report(
    g: &Global,
    cx: &Context,
    o: &crate::ops::Applied,
    json: &Option<PathBuf>,
    nothing: &str,
) -> Result<ExitCode, OpError> {
    for id in &o.recovered {
        if !g.quiet {
            err(&format!(
                "warning[{}]: deployment {id} was interrupted; its prior state was restored before this run\n",
                code::DEP_RECOVERED
            ));
        }
    }
    if !g.quiet {
        out(&render::human(&o.env_name, &o.plans, g.verbose))?;
    }
    if !o.problems.is_empty() {
        super::plan::problems(&o.problems);
        err("error: nothing was deployed\n");
        return Ok(ExitCode::Failed);
    }
    let Some(rep) = &o.report else {
        if !g.quiet {
            out(nothing)?;
        }
        return Ok(ExitCode::Clean);
    };
    if let Some(p) = json {
        write_report(cx, p, &serde_json::to_string_pretty(&o.json())?)?;
    }
    let st = o.requests;
    let t = crate::deploy::plan::Totals::of(&o.plans);
    match &rep.error {
        None => {
            if !g.quiet {
                out(&format!(
                    "Applied {} change(s) to {} workspace(s) in {:.1}s: deployment {} ({} writes, {} requests, {} retried: {} throttled, {} server errors, {} connection errors). Read back and verified.\n",
                    t.changes(),
                    o.plans.iter().filter(|p| !p.changes.is_empty()).count(),
                    o.seconds,
                    rep.record.id,
                    rep.writes,
                    st[0],
                    st[4],
                    st[1],
                    st[2],
                    st[3],
                ))?;
            }
            Ok(ExitCode::Clean)
        }
        Some(e) => {
            let code = super::super::fail(g, &OpError::from(e.clone()));
            if rep.restored {
                err(&format!(
                    "The apply failed; every change it made was restored (deployment {} is rolled back).\n",
                    rep.record.id
                ));
            } else if rep.record.status == record::Status::Failed {
                err(&format!(
                    "The apply failed; --no-rollback left the workspaces as they were at the failure (deployment {}).\n",
                    rep.record.id
                ));
            } else if rep.record.status.incomplete() {
                err(&format!(
                    "The apply failed and restoring failed too; run the command again to finish the restore (deployment {}).\n",
                    rep.record.id
                ));
            }
            Ok(if code == ExitCode::Clean {
                ExitCode::Failed
            } else {
                code
            })
        }
    }
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: ApplyArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = apply::apply(
            &cx,
            &ApplyOptions {
                env: a.env.clone(),
                reference: a.reference.clone(),
                no_rollback: a.no_rollback,
                max_deletions: a.max_deletions,
            },
        )?;
        report(g, &cx, &o, &a.json, "Nothing to apply.\n")
    })
}
