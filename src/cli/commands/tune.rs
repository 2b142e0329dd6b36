//! `vigil tune rule RULE --env E [--since DURATION] [--data DIR] [--write] [--allow-tp-loss] [--no-tp-evidence-ok] [--json FILE]`
//! and `vigil tune anomaly SETTING --env E [--since DURATION] [--write] [--compare] [--no-tp-evidence-ok] [--json FILE]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{err, out, with, write_report, ExitCode, Global};
use crate::ops::tune::{self, TuneAnomalyOptions, TuneRuleOptions};

#[derive(Args, Debug)]
pub struct RuleArgs {
    /// The rule: its id, display name or file.
    pub rule: String,
    /// The environment whose incident outcomes (and events) to learn from.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The window (`30d`, `12h`).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub since: String,
    /// Replay over exported events (JSON Lines per table) instead of fetching them through the
    /// query API.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Write the proposal into the repository (`provenance.origin: tuned`, no review: a human
    /// approves it in the pull request).
    #[arg(long)]
    pub write: bool,
    /// Propose even when the backtest loses a TruePositive incident.
    #[arg(long)]
    pub allow_tp_loss: bool,
    /// Propose even without a TruePositive incident in the window.
    #[arg(long)]
    pub no_tp_evidence_ok: bool,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AnomalyArgs {
    /// The anomaly setting: its id, display name or file.
    pub setting: String,
    /// The environment whose `Anomalies` and incident outcomes to learn from.
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The window (`30d`, `12h`).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub since: String,
    /// Write the tuned setting as a Flighting copy beside the Production one (with `--compare`:
    /// the promotion, when the Flighting copy is more precise).
    #[arg(long)]
    pub write: bool,
    /// Report the Flighting copy against the Production one over the window.
    #[arg(long)]
    pub compare: bool,
    /// Propose even without a TruePositive incident in the window.
    #[arg(long)]
    pub no_tp_evidence_ok: bool,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

pub fn cli() -> Command {
    Command::new("tune")
        .about("Tuning proposals from incident outcomes, backtested before anyone approves them.")
        .subcommand_required(true)
        .subcommand(RuleArgs::augment_args(Command::new("rule").about(
            "Exclusions for a rule's entities that appear only in FalsePositive/BenignPositive incidents, backtested by replaying the current and the tuned query over the window's events; --write puts the change into git for review.",
        )))
        .subcommand(AnomalyArgs::augment_args(Command::new("anomaly").about(
            "Stricter thresholds (replayed over the setting's Anomalies, keeping every TruePositive) and exclusions for an anomaly setting; --write writes a Flighting copy beside Production, --compare reports both and proposes the promotion.",
        )))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let sub = match m.subcommand() {
        Some(("rule", sub)) => sub,
        Some(("anomaly", sub)) => return exec_anomaly(g, sub),
        _ => {
            err("vigil tune: give a subcommand (rule or anomaly)");
            return ExitCode::Usage;
        }
    };
    let a: RuleArgs = match super::args(g, sub) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = tune::tune_rule(
            &cx,
            &TuneRuleOptions {
                rule: a.rule.clone(),
                env: a.env.clone(),
                since: a.since.clone(),
                write: a.write,
                data: a.data.clone(),
                allow_tp_loss: a.allow_tp_loss,
                no_tp_evidence_ok: a.no_tp_evidence_ok,
            },
        )?;
        let mut text = format!(
            "{} ({}) in {} over the last {}: closed incidents {}\n",
            o.name,
            o.path,
            o.environment,
            o.since,
            if o.closed.is_empty() {
                "none".to_string()
            } else {
                o.closed
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        for e in &o.exclusions {
            text.push_str(&format!(
                "  exclude {} = {} ({}.{}; only in FP/BP incidents {})\n",
                e.column,
                e.value,
                e.entity_type,
                e.identifier,
                e.incidents
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(b) = &o.backtest {
            text.push_str(&format!(
                "  backtest over {} events, {} runs ({:.0} ms): alerts {} -> {}; FP/BP incidents removed {:?}, kept {:?}; TP incidents kept {:?}, lost {:?}{}\n",
                o.events,
                b.runs,
                b.millis,
                b.alerts_before,
                b.alerts_after,
                b.fp_removed,
                b.fp_kept,
                b.tp_kept,
                b.tp_lost,
                if b.not_reproduced.is_empty() {
                    String::new()
                } else {
                    format!("; not raised again from the events: {:?}", b.not_reproduced)
                }
            ));
        }
        if let Some(q) = &o.tuned_query {
            text.push_str(&format!("  tuned query ({} form):\n", o.form));
            for l in q.lines() {
                text.push_str(&format!("    {l}\n"));
            }
        }
        match (&o.refused, o.written.is_empty()) {
            (Some(r), _) => text.push_str(&format!("no proposal: {r}\n")),
            (None, true) => text.push_str("proposal only: --write puts it into the repository\n"),
            (None, false) => {
                for p in &o.written {
                    text.push_str(&format!("wrote {}\n", p.display()));
                }
                text.push_str(&format!(
                    "the change needs a human review: review.query_sha256: {}\n",
                    o.tuned_query_sha256.as_deref().unwrap_or("")
                ));
            }
        }
        out(&text)?;
        if let Some(p) = &a.json {
            write_report(&cx, p, &(serde_json::to_string_pretty(&o)? + "\n"))?;
        }
        Ok(ExitCode::failed_if(o.refused.is_some()))
    })
}

fn exec_anomaly(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: AnomalyArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = tune::tune_anomaly(
            &cx,
            &TuneAnomalyOptions {
                setting: a.setting.clone(),
                env: a.env.clone(),
                since: a.since.clone(),
                write: a.write,
                compare: a.compare,
                no_tp_evidence_ok: a.no_tp_evidence_ok,
            },
        )?;
        let mut text = format!(
            "{} ({}) in {} over the last {}: {} anomalies ({})\n",
            o.name,
            o.path,
            a.env,
            a.since,
            o.anomalies,
            o.labelled
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for p in &o.thresholds {
            match p.proposed {
                Some(v) => text.push_str(&format!(
                    "  {}: {} -> {v} ({} in [{}, {}]): anomalies {} -> {}, FP {} -> {}, TP {} -> {}\n",
                    p.observation, p.current, p.field, p.minimum, p.maximum, p.anomalies, p.anomalies_kept, p.fp, p.fp_kept, p.tp, p.tp_kept
                )),
                None => text.push_str(&format!(
                    "  {}: {} kept (no stricter value removes a false anomaly and keeps every TP)\n",
                    p.observation, p.current
                )),
            }
        }
        for (e, n) in &o.excludes {
            text.push_str(&format!("  exclude {e} (in {n} false anomalies, no TP)\n"));
        }
        for n in &o.not_backtestable {
            text.push_str(&format!("  {n}\n"));
        }
        for (status, f) in &o.copies {
            text.push_str(&format!(
                "  {status}: {} anomalies, TP {}, FP {}, precision {}\n",
                f.anomalies,
                f.tp,
                f.fp,
                f.precision
                    .map(|p| format!("{p:.2}"))
                    .unwrap_or_else(|| "n/a".into())
            ));
        }
        if let Some(p) = &o.promotion {
            text.push_str(&format!("  {p}\n"));
        }
        if let Some(r) = &o.refused {
            text.push_str(&format!("no proposal: {r}\n"));
        }
        for p in &o.written {
            text.push_str(&format!("wrote {}\n", p.display()));
        }
        out(&text)?;
        if let Some(p) = &a.json {
            write_report(&cx, p, &(serde_json::to_string_pretty(&o)? + "\n"))?;
        }
        Ok(ExitCode::failed_if(o.refused.is_some()))
    })
}
