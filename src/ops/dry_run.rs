//! `vigil dry-run`: every scheduled run of each selected rule over the sandbox window, on the
//! embedded engine (`local`) or through an environment's Log Analytics query API.

use std::path::PathBuf;

use serde::Serialize;

use super::{open_selected, Context, OpError};
use crate::dryrun::alerts;
use crate::engine::value::{format_datetime, HOUR};
use crate::model::{Definition, Item};

#[derive(Clone, Debug)]
pub struct DryRunOptions {
    /// Definitions to dry-run (empty: all rules).
    pub paths: Vec<PathBuf>,
    /// `local` (the embedded engine over the sandbox folder) or an environment (`env:NAME`
    /// names one explicitly; its first workspace, through the query API).
    pub sandbox: String,
    /// Sample alerts (rules) and result rows (hunts) to keep, redacted (0: none).
    pub samples: usize,
}

impl Default for DryRunOptions {
    fn default() -> Self {
        DryRunOptions {
            paths: Vec::new(),
            sandbox: "local".into(),
            samples: 0,
        }
    }
}

/// A sample alert of a firing run.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    pub at: String,
    pub display_name: String,
    pub entities: Vec<serde_json::Value>,
}

/// One rule's dry-run.
#[derive(Clone, Debug, Serialize)]
pub struct RuleRun {
    pub definition: String,
    /// `hunt` for hunts (one run over the window); absent for rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Hunts: the first result rows, redacted (`--samples N`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample_rows: Vec<serde_json::Value>,
    /// Where it ran when not locally (a workspace label).
    #[serde(skip)]
    pub workspace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firing_runs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts_per_day: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_budget: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_rows: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_scanned: Option<u64>,
    /// Rows read per source table (local runs).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub rows_scanned_by_table: std::collections::BTreeMap<String, u64>,
    /// Through a workspace: the service's statistics projected to a day of runs (an estimate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::Projection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firing_at: Option<Vec<String>>,
    #[serde(skip)]
    pub millis: f64,
    #[serde(skip)]
    pub samples: Vec<Sample>,
}

impl RuleRun {
    fn failed(definition: &str, error: String, unsupported: Option<bool>) -> RuleRun {
        RuleRun {
            error: Some(error),
            unsupported,
            ..RuleRun::empty(definition)
        }
    }

    fn empty(definition: &str) -> RuleRun {
        RuleRun {
            definition: definition.to_string(),
            kind: None,
            sample_rows: Vec::new(),
            workspace: None,
            error: None,
            unsupported: None,
            runs: None,
            firing_runs: None,
            alerts: None,
            alerts_per_day: None,
            over_budget: None,
            result_rows: None,
            rows_scanned: None,
            rows_scanned_by_table: Default::default(),
            cost: None,
            firing_at: None,
            millis: 0.0,
            samples: Vec::new(),
        }
    }
}

pub struct DryRunOutcome {
    pub rules: Vec<RuleRun>,
    /// The alert budget per day the runs were judged against.
    pub budget: f64,
    /// Whether the runs went through a workspace's query API.
    pub remote: bool,
}

impl DryRunOutcome {
    /// Rules that failed to run or went over the budget.
    pub fn failed(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.error.is_some() || r.over_budget == Some(true))
            .count()
    }
}

pub fn dry_run(cx: &Context, o: &DryRunOptions) -> Result<DryRunOutcome, OpError> {
    let (ws, sel) = open_selected(cx, &o.paths);
    let checked = crate::pipeline::check_selected(&ws, &cx.siblings(), None, true, sel.as_ref());
    let selected: Vec<&Definition> = checked.selected_definitions().collect();
    if o.sandbox != "local" {
        return remote(cx, o, &selected);
    }
    let cfg = cx.sandbox();
    let redactor = cx.redactor();
    let dir = cx.sandbox_dir()?;
    if !dir.is_dir() {
        return Err(OpError::new(
            super::Failure::Setup,
            format!(
                "no sandbox data in {}: run `vigil sandbox init` first",
                dir.display()
            ),
        ));
    }
    let sb = crate::sandbox::for_repository(&cx.root, &dir, &checked.definitions, &cx.config);
    let (start, end) = cfg.window();
    let days = cfg.days as f64;
    let rules: Vec<_> = selected
        .iter()
        .filter_map(|d| match &d.item {
            Item::Rule(r) => Some((d, r)),
            _ => None,
        })
        .collect();
    let progress = cx.progress("dry-run", rules.len() as u64);
    // Rules replay on every core (each rule's runs are independent); the results are collected
    // in the rules' order, so the report is the same with one thread or many.
    let deadline = cx.run_deadline();
    let simulated: Vec<_> = {
        use rayon::prelude::*;
        rules
            .par_iter()
            .map(|(_, rule)| {
                let started = std::time::Instant::now();
                if started >= deadline {
                    return None;
                }
                Some((alerts::simulate(rule, &sb, start, end), started.elapsed()))
            })
            .collect()
    };
    let mut out = Vec::new();
    for ((d, _), sim) in rules.into_iter().zip(simulated) {
        let Some((simulated, took)) = sim else {
            out.push(RuleRun::failed(
                d.name(),
                cx.out_of_run_time_message(),
                None,
            ));
            progress.inc(1);
            continue;
        };
        let run = match simulated {
            Err(e) => RuleRun::failed(d.name(), e.message, Some(e.unsupported)),
            Ok(runs) => {
                let alerts: usize = runs.iter().map(|r| r.alerts.len()).sum();
                let per_day = alerts as f64 / days;
                let samples = runs
                    .iter()
                    .filter(|r| !r.alerts.is_empty())
                    .flat_map(|r| {
                        r.alerts.iter().map(|al| Sample {
                            at: r.at.clone(),
                            display_name: redactor.text(&al.display_name),
                            entities: al.entities.iter().map(|e| redactor.json(e)).collect(),
                        })
                    })
                    .take(o.samples)
                    .collect();
                RuleRun {
                    definition: d.name().to_string(),
                    kind: None,
                    sample_rows: Vec::new(),
                    workspace: None,
                    error: None,
                    unsupported: None,
                    runs: Some(runs.len()),
                    firing_runs: Some(runs.iter().filter(|r| !r.alerts.is_empty()).count()),
                    alerts: Some(alerts),
                    alerts_per_day: Some(per_day),
                    over_budget: Some(per_day > cfg.alert_budget_per_day),
                    result_rows: Some(runs.iter().map(|r| r.rows).sum()),
                    rows_scanned: Some(runs.iter().map(|r| r.rows_scanned).sum()),
                    rows_scanned_by_table: {
                        let mut m = std::collections::BTreeMap::new();
                        for r in &runs {
                            for (t, n) in &r.scanned_tables {
                                *m.entry(t.clone()).or_insert(0) += n;
                            }
                        }
                        m
                    },
                    cost: None,
                    firing_at: Some(
                        runs.iter()
                            .filter(|r| !r.alerts.is_empty())
                            .map(|r| r.at.clone())
                            .collect(),
                    ),
                    millis: took.as_secs_f64() * 1000.0,
                    samples,
                }
            }
        };
        out.push(run);
        progress.inc(1);
    }
    progress.finish();
    // Hunts: one run over the sandbox window.
    for d in &selected {
        let Item::Hunt(h) = &d.item else { continue };
        let started = std::time::Instant::now();
        let opts = crate::engine::RunOptions {
            now: end,
            window: Some((start, end)),
        };
        let mut run = match crate::engine::run(&h.query, &sb, opts) {
            Err(e) => RuleRun::failed(d.name(), e.message.clone(), Some(e.unsupported)),
            Ok(res) => {
                let rows = res.table.json_rows();
                let names: Vec<&str> = res.table.columns.iter().map(|c| c.name.as_str()).collect();
                let sample_rows = rows
                    .iter()
                    .take(o.samples)
                    .map(|r| {
                        redactor.row(
                            names.iter().copied(),
                            r.as_array().map(Vec::as_slice).unwrap_or(&[]),
                        )
                    })
                    .collect();
                RuleRun {
                    result_rows: Some(res.table.rows),
                    rows_scanned: Some(res.rows_scanned),
                    rows_scanned_by_table: res.scanned_rows(),
                    runs: Some(1),
                    sample_rows,
                    millis: started.elapsed().as_secs_f64() * 1000.0,
                    ..RuleRun::empty(d.name())
                }
            }
        };
        run.kind = Some("hunt");
        out.push(run);
    }
    Ok(DryRunOutcome {
        rules: out,
        budget: cfg.alert_budget_per_day,
        remote: false,
    })
}

/// A typed engine table from a query API answer, for the alert logic.
pub(super) fn api_table(t: &crate::azure::query::Table) -> crate::engine::Table {
    use crate::engine::value::{Type, Value};
    let cols = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let ty = Type::parse(ty);
            let data = t
                .rows
                .iter()
                .map(|r| {
                    let v = r.get(i).cloned().unwrap_or(serde_json::Value::Null);
                    let v = match v {
                        serde_json::Value::String(s) => Value::string(s),
                        serde_json::Value::Null => Value::Null,
                        other => Value::dynamic(other).unwrap_dynamic(),
                    };
                    v.cast(ty)
                })
                .collect();
            crate::engine::Column::new(name.clone(), ty, data)
        })
        .collect();
    crate::engine::Table::new(cols)
}

/// The same runs through the Log Analytics query API of the environment's first workspace
/// (each run is one query with the run's timespan). NRT rules are replayed as hourly runs
/// there, to keep the request count reasonable.
fn remote(
    cx: &Context,
    o: &DryRunOptions,
    selected: &[&Definition],
) -> Result<DryRunOutcome, OpError> {
    let cfg = cx.sandbox();
    // `env:NAME` names an environment explicitly (the emulator's environment is called `local`,
    // like the embedded sandbox).
    let name = o.sandbox.strip_prefix("env:").unwrap_or(&o.sandbox);
    let env = cx
        .environment(name)
        .map_err(|e| OpError::usage(format!("--sandbox {}: {}", o.sandbox, e.message)))?;
    let client = cx
        .query_client(&env)
        .map_err(|e| OpError::new(e.failure, format!("--sandbox {}: {}", o.sandbox, e.message)))?;
    let Some(ws) = env.workspaces.first() else {
        return Err(OpError::usage(format!(
            "--sandbox {}: the environment has no workspace",
            o.sandbox
        )));
    };
    let workspace_id = match super::deploy::query_workspace_id(ws, env.emulator) {
        Some(id) => id,
        None => {
            return Err(OpError::usage(format!(
                "--sandbox {}: dry-runs need the workspace id (customer id) of {}",
                o.sandbox,
                ws.label()
            )))
        }
    };
    let end = if env.emulator {
        cfg.now
    } else {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        (secs / 60) * 60 * crate::engine::value::SECOND
            + crate::engine::value::parse_datetime("1970-01-01").unwrap_or(0)
    };
    let start = end - cfg.days * 24 * HOUR;
    let rt = super::deploy::runtime()?;
    // Table plans as `vigil schema pull` recorded them (absent: every table Analytics).
    let plans = super::deploy::table_plans(&cx.root, &env.name, ws);
    let redactor = cx.redactor();
    let mut out = Vec::new();
    for d in selected {
        if let Item::Hunt(h) = &d.item {
            out.push(remote_hunt(
                &rt,
                &client,
                &workspace_id,
                d.name(),
                &h.query,
                (start, end),
                &plans,
                o.samples,
                &redactor,
                &ws.label(),
            ));
            continue;
        }
        let Item::Rule(rule) = &d.item else { continue };
        let (mut freq, mut period) = alerts::schedule(rule);
        if freq < HOUR && period < HOUR {
            freq = HOUR;
            period = HOUR;
        }
        let mut at = end;
        let mut ends = Vec::new();
        while at > start {
            ends.push(at);
            at -= freq;
        }
        ends.reverse();
        let (mut alerts_n, mut firing, mut rows, mut error) = (0usize, 0usize, 0usize, None);
        let mut stats = Vec::new();
        for at in &ends {
            let span = format!("{}/{}", format_datetime(at - period), format_datetime(*at));
            match rt.block_on(crate::azure::query::query(
                &client,
                &workspace_id,
                &rule.query,
                Some(&span),
                true,
            )) {
                Ok(res) => {
                    if let Some(p) = res.partial_error {
                        error = Some(format!("partial result: {p}"));
                        break;
                    }
                    stats.push(
                        res.statistics
                            .as_ref()
                            .map(crate::cost::from_statistics)
                            .unwrap_or_default(),
                    );
                    let t = res.tables.first().map(api_table).unwrap_or_default();
                    rows += t.rows;
                    let al = alerts::alerts_for(rule, &t);
                    if !al.is_empty() {
                        firing += 1;
                    }
                    alerts_n += al.len();
                }
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        out.push(match error {
            Some(e) => RuleRun::failed(d.name(), e, None),
            None => {
                let per_day = alerts_n as f64 / cfg.days as f64;
                let cost = crate::cost::project(
                    &stats,
                    (24 * HOUR) as f64 / freq as f64,
                    &crate::dryrun::generate::referenced_tables(&rule.query),
                    &plans,
                );
                RuleRun {
                    definition: d.name().to_string(),
                    kind: None,
                    sample_rows: Vec::new(),
                    workspace: Some(ws.label()),
                    error: None,
                    unsupported: None,
                    runs: Some(ends.len()),
                    firing_runs: Some(firing),
                    alerts: Some(alerts_n),
                    alerts_per_day: Some(per_day),
                    over_budget: Some(per_day > cfg.alert_budget_per_day),
                    result_rows: Some(rows),
                    rows_scanned: None,
                    rows_scanned_by_table: Default::default(),
                    cost: Some(cost),
                    firing_at: None,
                    millis: 0.0,
                    samples: Vec::new(),
                }
            }
        });
    }
    Ok(DryRunOutcome {
        rules: out,
        budget: cfg.alert_budget_per_day,
        remote: true,
    })
}

/// A hunt through the workspace: one run over the window with statistics; the cost is that
/// run's (a hunt has no schedule, so `runs_per_day` is 1: the figure is per run).
#[allow(clippy::too_many_arguments)]
fn remote_hunt(
    rt: &tokio::runtime::Runtime,
    client: &crate::azure::Client,
    workspace_id: &str,
    name: &str,
    query: &str,
    (start, end): (i64, i64),
    plans: &std::collections::BTreeMap<String, String>,
    samples: usize,
    redactor: &crate::redact::Redactor,
    label: &str,
) -> RuleRun {
    let span = format!("{}/{}", format_datetime(start), format_datetime(end));
    let mut run = match rt.block_on(crate::azure::query::query(
        client,
        workspace_id,
        query,
        Some(&span),
        true,
    )) {
        Err(e) => RuleRun::failed(name, e.to_string(), None),
        Ok(res) if res.partial_error.is_some() => RuleRun::failed(
            name,
            format!("partial result: {}", res.partial_error.unwrap_or_default()),
            None,
        ),
        Ok(res) => {
            let stats = res
                .statistics
                .as_ref()
                .map(crate::cost::from_statistics)
                .unwrap_or_default();
            let t = res.tables.first();
            let names: Vec<&str> = t
                .map(|t| t.columns.iter().map(|c| c.0.as_str()).collect())
                .unwrap_or_default();
            RuleRun {
                result_rows: Some(t.map(|t| t.rows.len()).unwrap_or(0)),
                rows_scanned: stats.scanned_rows,
                runs: Some(1),
                workspace: Some(label.to_string()),
                sample_rows: t
                    .map(|t| {
                        t.rows
                            .iter()
                            .take(samples)
                            .map(|r| redactor.row(names.iter().copied(), r))
                            .collect()
                    })
                    .unwrap_or_default(),
                cost: Some(crate::cost::project(
                    &[stats],
                    1.0,
                    &crate::dryrun::generate::referenced_tables(query),
                    plans,
                )),
                ..RuleRun::empty(name)
            }
        }
    };
    run.kind = Some("hunt");
    run
}
