//! `vigil rollback --env E --to DEPLOYMENT_ID|REF [--no-rollback] [--max-deletions N] [--json FILE]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{with, ExitCode, Global};
use crate::ops::rollback::{self, RollbackOptions};

#[derive(Args, Debug)]
pub struct RollbackArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// A deployment id (restores the state recorded before it, and undoes every later
    /// deployment), or a git ref (applies the content at that ref).
    #[arg(long, value_name = "DEPLOYMENT_ID|REF")]
    pub to: String,
    /// On failure, leave the workspaces as they are instead of restoring them.
    #[arg(long)]
    pub no_rollback: bool,
    /// Allow this many deletions (default: unlimited for a deployment id, the environment's
    /// `max_deletions` for a ref).
    #[arg(long, value_name = "N")]
    pub max_deletions: Option<usize>,
    /// Also write the result (record id, status, plan) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

pub fn cli() -> Command {
    RollbackArgs::augment_args(Command::new("rollback").about(
        "Restore the state before a recorded deployment, or apply the content of a git ref.",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: RollbackArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = rollback::rollback(
            &cx,
            &RollbackOptions {
                env: a.env.clone(),
                to: a.to.clone(),
                no_rollback: a.no_rollback,
                max_deletions: a.max_deletions,
            },
        )?;
        super::apply::report(
            g,
            &cx,
            &o,
            &a.json,
            "Nothing to roll back: the workspaces already hold the recorded prior state.\n",
        )
    })
}
