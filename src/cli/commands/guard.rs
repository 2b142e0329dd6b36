//! `vigil guard --env E [--since DURATION] [--apply] [--json FILE] [--audit FILE] [--allow-unknown]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{append_report, out, with, write_report, ExitCode, Global};
use crate::ops::guard::{self, GuardOptions};

#[derive(Args, Debug)]
pub struct GuardArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The window the breakers judge (default: `[policy.guard] window`, 7d).
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Act: write each demotion or disablement into the rule's file and deploy those rules (a
    /// deployment of kind `guard`, reversible with `vigil rollback --to ID`).
    #[arg(long)]
    pub apply: bool,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Append one audit line (JSON) per trip to FILE.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Exit 0 when a workspace could not be read (its rules are not judged).
    #[arg(long)]
    pub allow_unknown: bool,
}

pub fn cli() -> Command {
    GuardArgs::augment_args(Command::new("guard").about(
        "Circuit breakers: demote or disable rules whose alerts per day, false-positive rate or failed runs exceed their limits ([policy.guard], a rule's guard: block); reports by default, --apply writes the change into git and deploys it.",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: GuardArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = guard::guard(
            &cx,
            &GuardOptions {
                env: a.env.clone(),
                since: a.since.clone(),
                apply: a.apply,
            },
        )?;
        let mut text = String::new();
        for u in &o.unknown {
            text.push_str(&format!(
                "unknown  {}: {} (its rules were not judged)\n",
                u.workspace, u.reason
            ));
        }
        for t in &o.trips {
            text.push_str(&format!(
                "TRIPPED  {} ({}) in {}: {} -> {}\n",
                t.display_name,
                t.rule,
                t.workspace,
                t.reason,
                match t.action {
                    crate::config::GuardAction::Demote => "demote to shadow",
                    crate::config::GuardAction::Disable => "disable",
                }
            ));
        }
        let deployment = o
            .applied
            .as_ref()
            .and_then(|a| a.report.as_ref())
            .map(|r| r.record.id.clone());
        text.push_str(&format!(
            "guard `{}` over the last {}: {} rule(s) judged, {} tripped, {} workspace(s) unknown{}\n",
            o.env_name,
            o.window,
            o.judged,
            o.trips.len(),
            o.unknown.len(),
            match (&deployment, a.apply) {
                (Some(id), _) => format!("; applied as deployment {id} (files: {})", o.files.join(", ")),
                (None, true) if !o.trips.is_empty() => "; nothing to deploy".into(),
                (None, false) if !o.trips.is_empty() => "; run with --apply to act".into(),
                _ => String::new(),
            }
        ));
        out(&text)?;
        if let Some(p) = &a.json {
            write_report(&cx, p, &serde_json::to_string_pretty(&o.json())?)?;
        }
        if let (Some(p), false) = (&a.audit, o.audit.is_empty()) {
            let lines: Vec<String> = o.audit.iter().map(|l| l.to_string()).collect();
            append_report(&cx, p, &lines)?;
        }
        let tripped_unapplied = !o.trips.is_empty() && deployment.is_none() && !a.apply;
        Ok(ExitCode::failed_if(
            tripped_unapplied || (!o.unknown.is_empty() && !a.allow_unknown),
        ))
    })
}
