//! `vigil outcomes --env E [--since 30d] [RULES...] [--format human|json|markdown|html] [--out FILE]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command, ValueEnum};

use super::super::{out, with, write_report, ExitCode, Global};
use crate::ops::outcomes::{self, OutcomesOptions};
use crate::outcomes::render;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
    Html,
}

#[derive(Args, Debug)]
pub struct OutcomesArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The window: incidents created and alerts raised in the last DURATION (30d, 12h, 90m).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub since: String,
    /// Rules to report (ids, display names or files; default: every rule of the environment).
    #[arg(value_name = "RULES")]
    pub rules: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when a workspace could not be read (its rules are reported as unknown).
    #[arg(long)]
    pub allow_unknown: bool,
}

pub fn cli() -> Command {
    OutcomesArgs::augment_args(Command::new("outcomes").about(
        "Incident outcomes per rule: alerts, incidents, classifications, precision and false-positive rate, time to close, per content version, rollout stage and model (an unreadable workspace is \"unknown\", never zero).",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: OutcomesArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let r = outcomes::outcomes(
            &cx,
            &OutcomesOptions {
                env: a.env.clone(),
                since: a.since.clone(),
                rules: a.rules.clone(),
            },
        )?;
        let text = match a.format {
            Format::Human => render::human(&r),
            Format::Json => format!("{}\n", serde_json::to_string_pretty(&r)?),
            Format::Markdown => render::markdown(&r),
            Format::Html => render::html(&r),
        };
        match &a.out {
            Some(p) => write_report(&cx, p, &text)?,
            None => out(&text)?,
        }
        Ok(ExitCode::failed_if(
            !r.unknown.is_empty() && !a.allow_unknown,
        ))
    })
}
