//! `vigil dry-run [PATHS] [--sandbox local|ENV] [--samples [N]] [--json FILE]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{out, with, write_report, ExitCode, Global};
use crate::ops::dry_run::{self, DryRunOptions};

#[derive(Args, Debug)]
pub struct DryRunArgs {
    /// Definitions to dry-run (default: all rules and hunts).
    pub paths: Vec<PathBuf>,
    /// Where to run: `local` (the embedded engine over the sandbox folder), or an environment
    /// of vigil.toml (its first workspace, through the Log Analytics query API); `env:local`
    /// is the environment that points at `vigil emulate`.
    #[arg(long, default_value = "local")]
    pub sandbox: String,
    /// Show N sample alerts (rules) and result rows (hunts), with IP addresses, e-mail
    /// addresses and GUIDs redacted (`--samples` alone: 3).
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "3")]
    pub samples: Option<usize>,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

pub fn cli() -> Command {
    DryRunArgs::augment_args(Command::new("dry-run").about(
        "Replay every scheduled run of each rule over the sandbox window (alerts per run and day), and run each hunt once over it (rows returned and scanned, redacted samples).",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: DryRunArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = dry_run::dry_run(
            &cx,
            &DryRunOptions {
                paths: a.paths.clone(),
                sandbox: a.sandbox.clone(),
                samples: a.samples.unwrap_or(0),
            },
        )?;
        let mut text = String::new();
        for r in &o.rules {
            if let Some(e) = &r.error {
                text.push_str(&format!("ERROR {}: {e}\n", r.definition));
                continue;
            }
            if r.kind == Some("hunt") {
                text.push_str(&format!(
                    "hunt {}: {} result rows, {} rows scanned, {:.0} ms\n",
                    r.definition,
                    r.result_rows.unwrap_or(0),
                    r.rows_scanned.unwrap_or(0),
                    r.millis
                ));
                for row in &r.sample_rows {
                    text.push_str(&format!("       {row}\n"));
                }
                continue;
            }
            let over = r.over_budget == Some(true);
            let per_day = r.alerts_per_day.unwrap_or(0.0);
            if o.remote {
                text.push_str(&format!(
                    "{} {}: {} runs on {}, {} firing, {} alerts ({:.1}/day), {} result rows\n",
                    if over { "OVER" } else { "ok  " },
                    r.definition,
                    r.runs.unwrap_or(0),
                    r.workspace.as_deref().unwrap_or(""),
                    r.firing_runs.unwrap_or(0),
                    r.alerts.unwrap_or(0),
                    per_day,
                    r.result_rows.unwrap_or(0)
                ));
                continue;
            }
            text.push_str(&format!(
                "{} {}: {} runs, {} firing, {} alerts ({:.1}/day{}), {} result rows, {} rows scanned, {:.0} ms\n",
                if over { "OVER" } else { "ok  " },
                r.definition,
                r.runs.unwrap_or(0),
                r.firing_runs.unwrap_or(0),
                r.alerts.unwrap_or(0),
                per_day,
                if over { format!(", budget {}", o.budget) } else { String::new() },
                r.result_rows.unwrap_or(0),
                r.rows_scanned.unwrap_or(0),
                r.millis
            ));
            for s in &r.samples {
                text.push_str(&format!(
                    "       {} {} entities={}\n",
                    s.at,
                    s.display_name,
                    serde_json::Value::Array(s.entities.clone())
                ));
            }
        }
        out(&text)?;
        if let Some(p) = &a.json {
            write_report(&cx, p, &(serde_json::to_string_pretty(&o.rules)? + "\n"))?;
        }
        Ok(ExitCode::failed_if(o.failed() > 0))
    })
}
