//! `vigil dry-run [PATHS] [--sandbox local|ENV | --env ENV] [--samples [N]] [--json FILE]`

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
    /// Run through this environment's query API with statistics (the same as
    /// `--sandbox env:E`): adds the service's CPU time and data scanned, projected to a day of
    /// runs, and the share charged per GB by the table plans `vigil schema pull` recorded.
    #[arg(long, value_name = "ENV", conflicts_with = "sandbox")]
    pub env: Option<String>,
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
                sandbox: match &a.env {
                    Some(e) => format!("env:{e}"),
                    None => a.sandbox.clone(),
                },
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
                if !r.rows_scanned_by_table.is_empty() {
                    let by: Vec<String> = r
                        .rows_scanned_by_table
                        .iter()
                        .map(|(t, n)| format!("{t} {n}"))
                        .collect();
                    text.push_str(&format!("       scanned: {}\n", by.join(", ")));
                }
                if let Some(c) = &r.cost {
                    // One run over the window: the figure is per run, not per day.
                    text.push_str(&format!(
                        "       {}\n",
                        match c.scanned_bytes_per_run {
                            Some(b) => format!(
                                "data scanned ≈ {} in this run (estimate){}",
                                bytes(b),
                                if c.chargeable_tables.is_empty() {
                                    "; no per-GB query charge (Analytics tables)".to_string()
                                } else {
                                    format!(
                                        "; charged per GB: {}",
                                        c.chargeable_tables
                                            .iter()
                                            .map(|(t, p)| format!("{t} ({p})"))
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    )
                                }
                            ),
                            None =>
                                "data scanned: unknown (the service returned no statistics)".into(),
                        }
                    ));
                }
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
                if let Some(c) = &r.cost {
                    text.push_str(&format!("       {}\n", cost_line(c)));
                }
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

/// The cost figures of a run through a workspace, labelled as the estimate they are.
fn cost_line(c: &crate::cost::Projection) -> String {
    let Some(gb) = c.scanned_gb_per_day else {
        return "data scanned: unknown (the service returned no statistics)".into();
    };
    let per_run = bytes(c.scanned_bytes_per_run.unwrap_or(0.0));
    let charged = if c.chargeable_tables.is_empty() {
        "no per-GB query charge (Analytics tables)".to_string()
    } else {
        format!(
            "chargeable {:.3} GB/day: {}",
            c.chargeable_gb_per_day.unwrap_or(0.0),
            c.chargeable_tables
                .iter()
                .map(|(t, p)| format!("{t} ({p})"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "data scanned ≈ {per_run}/run × {:.0} runs/day = {}/day = {gb:.6} GB/day (estimate){}; {charged}",
        c.runs_per_day,
        bytes(gb * 1e9),
        c.cpu_seconds_per_run
            .map(|s| format!(", CPU {s:.3} s/run"))
            .unwrap_or_default()
    )
}

/// Bytes in decimal units.
fn bytes(b: f64) -> String {
    match b {
        b if b >= 1e9 => format!("{:.2} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.2} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.1} KB", b / 1e3),
        b => format!("{b:.0} B"),
    }
}
