//! `vigil health --env E [--deployment ID] [--timeout S] [--interval S] [--allow-unknown] [--json FILE]`

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, Command};

use super::super::{out, with, write_report, ExitCode, Global};
use crate::deploy::health::HealthStatus;
use crate::ops::health::{self, HealthOptions};

#[derive(Args, Debug)]
pub struct HealthArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The deployment to check (default: the latest successful apply of the environment).
    #[arg(long, value_name = "ID")]
    pub deployment: Option<String>,
    /// Seconds to wait for every rule's first run; rules without one are "unknown".
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub timeout: u64,
    /// Seconds between polls.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub interval: u64,
    /// Exit 0 when some rules are unknown (none failed or disabled).
    #[arg(long)]
    pub allow_unknown: bool,
    /// Also write the verdicts as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

pub fn cli() -> Command {
    HealthArgs::augment_args(Command::new("health").about(
        "After an apply: wait for each rule it wrote to run, and check it ran without error and was not disabled (a timeout is \"unknown\", never \"healthy\").",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: HealthArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = health::health(
            &cx,
            &HealthOptions {
                env: a.env.clone(),
                deployment: a.deployment.clone(),
                timeout: Duration::from_secs(a.timeout),
                interval: Duration::from_secs(a.interval),
            },
        )?;
        let mut text = String::new();
        for v in &o.verdicts {
            text.push_str(&format!(
                "{:<8} {} ({}) in {}: {}\n",
                v.status.as_str(),
                v.display_name,
                v.name,
                v.workspace,
                v.detail
            ));
        }
        text.push_str(&format!(
            "deployment {}: {} rule(s): {} healthy, {} failed, {} disabled, {} unknown\n",
            o.deployment,
            o.verdicts.len(),
            o.count(HealthStatus::Healthy),
            o.count(HealthStatus::Failed),
            o.count(HealthStatus::Disabled),
            o.count(HealthStatus::Unknown)
        ));
        out(&text)?;
        if let Some(p) = &a.json {
            write_report(
                &cx,
                p,
                &serde_json::to_string_pretty(&serde_json::json!({
                    "deployment": o.deployment, "environment": o.env_name, "rules": o.verdicts,
                }))?,
            )?;
        }
        let bad = o.count(HealthStatus::Failed) + o.count(HealthStatus::Disabled);
        let unknown = o.count(HealthStatus::Unknown);
        Ok(ExitCode::failed_if(
            bad > 0 || (unknown > 0 && !a.allow_unknown),
        ))
    })
}
