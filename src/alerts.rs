//! Alerts as Sentinel raises them from a scheduled (or NRT) rule: each run queries its query
//! period, the trigger compares the result count with the threshold, event grouping makes one
//! alert or one per result (capped at 150 for scheduled rules, 30 for NRT), entities come from
//! the entity mappings, custom details and the alert details override from result columns,
//! and suppression silences runs after an alert.

use serde::Serialize;

use crate::engine::exec::{DataSource, Exec, RunOptions, R};
use crate::engine::ir::Query;
use crate::engine::value::{Value, SECOND};
use crate::engine::{EngineError, Table};
use crate::model::duration::Duration;
use crate::model::types::{AggregationKind, Rule, RuleKind, TriggerOperator};

/// The per-run alert cap.
pub fn alert_cap(kind: RuleKind) -> usize {
    match kind {
        RuleKind::Nrt => 30,
        _ => 150,
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Alert {
    pub display_name: String,
    pub severity: String,
    /// Results in this alert.
    pub rows: usize,
    pub entities: Vec<serde_json::Value>,
    pub custom_details: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// End of the run's query period (ISO 8601).
    pub at: String,
    pub rows: usize,
    pub rows_scanned: u64,
    /// Rows read per source table.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scanned_tables: std::collections::BTreeMap<String, u64>,
    pub alerts: Vec<Alert>,
    pub suppressed: bool,
}

/// The rule's schedule in ticks: (frequency, period).
pub fn schedule(rule: &Rule) -> (i64, i64) {
    let ticks = |s: &Option<String>, default: u64| {
        s.as_deref()
            .and_then(Duration::parse)
            .map(|d| d.0)
            .unwrap_or(default) as i64
            * SECOND
    };
    match rule.kind {
        // NRT rules run every minute over what arrived since the last run.
        RuleKind::Nrt => (60 * SECOND, 60 * SECOND),
        _ => (
            ticks(&rule.query_frequency, 3600),
            ticks(&rule.query_period, 3600),
        ),
    }
}

fn fires(rule: &Rule, rows: usize) -> bool {
    let threshold = rule.trigger_threshold.unwrap_or(0);
    let n = rows as i64;
    match rule.trigger_operator.unwrap_or(TriggerOperator::Gt) {
        TriggerOperator::Gt | TriggerOperator::GreaterThan => n > threshold,
        TriggerOperator::Lt | TriggerOperator::LessThan => n < threshold,
        TriggerOperator::Eq | TriggerOperator::Equal => n == threshold,
        TriggerOperator::Ne | TriggerOperator::NotEqual => n != threshold,
    }
}

fn cell(t: &Table, col: &str, row: usize) -> Option<Value> {
    t.column(col).map(|c| c.data[row].clone())
}

fn fill_format(fmt: &str, t: &Table, row: usize) -> String {
    let re = regex::Regex::new(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}").expect("valid regex");
    re.replace_all(fmt, |c: &regex::Captures| {
        cell(t, &c[1], row)
            .map(|v| v.to_kusto_string())
            .unwrap_or_default()
    })
    .into_owned()
}

/// The alerts one run's result produces.
pub fn alerts_for(rule: &Rule, result: &Table) -> Vec<Alert> {
    if !fires(rule, result.rows) {
        return Vec::new();
    }
    let per_result = matches!(
        rule.event_grouping_settings
            .as_ref()
            .map(|e| e.aggregation_kind),
        Some(AggregationKind::AlertPerResult)
    );
    let severity = |row: usize| -> String {
        rule.alert_details_override
            .as_ref()
            .and_then(|o| o.alert_severity_column_name.as_deref())
            .and_then(|c| cell(result, c, row))
            .map(|v| v.to_kusto_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("{:?}", rule.severity))
    };
    let name = |row: usize| -> String {
        rule.alert_details_override
            .as_ref()
            .and_then(|o| o.alert_display_name_format.as_deref())
            .map(|f| fill_format(f, result, row))
            .unwrap_or_else(|| rule.name.clone())
    };
    let entities = |rows: &[usize]| -> Vec<serde_json::Value> {
        let mut out: Vec<serde_json::Value> = Vec::new();
        for &r in rows {
            for m in rule.entity_mappings.iter().flatten() {
                let mut e = serde_json::Map::new();
                e.insert(
                    "type".into(),
                    serde_json::Value::String(m.entity_type.clone()),
                );
                let mut any = false;
                for f in &m.field_mappings {
                    if let Some(v) = cell(result, &f.column_name, r) {
                        if !v.is_empty() {
                            any = true;
                            e.insert(f.identifier.clone(), v.to_json());
                        }
                    }
                }
                let e = serde_json::Value::Object(e);
                if any && !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        out
    };
    let details = |rows: &[usize]| -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for (k, col) in rule.custom_details.iter().flatten() {
            let mut vals: Vec<serde_json::Value> = Vec::new();
            for &r in rows {
                if let Some(v) = cell(result, col, r) {
                    let j = serde_json::Value::String(v.to_kusto_string());
                    if !vals.contains(&j) {
                        vals.push(j);
                    }
                }
            }
            m.insert(k.clone(), serde_json::Value::Array(vals));
        }
        m
    };
    if per_result {
        let cap = alert_cap(rule.kind);
        let mut out = Vec::new();
        for r in 0..result.rows {
            if out.len() + 1 == cap && result.rows > cap {
                // The last alert carries every remaining result.
                let rest: Vec<usize> = (r..result.rows).collect();
                out.push(Alert {
                    display_name: name(r),
                    severity: severity(r),
                    rows: rest.len(),
                    entities: entities(&rest),
                    custom_details: details(&rest),
                });
                break;
            }
            out.push(Alert {
                display_name: name(r),
                severity: severity(r),
                rows: 1,
                entities: entities(&[r]),
                custom_details: details(&[r]),
            });
        }
        out
    } else {
        let all: Vec<usize> = (0..result.rows).collect();
        vec![Alert {
            display_name: name(0),
            severity: severity(0),
            rows: result.rows,
            entities: entities(&all),
            custom_details: details(&all),
        }]
    }
}

/// Run the rule once with its query period ending at `at`.
pub fn run_once(rule: &Rule, q: &Query, data: &dyn DataSource, at: i64) -> R<(Table, u64)> {
    run_once_by_table(rule, q, data, at).map(|(t, n, _)| (t, n))
}

/// [`run_once`] with the rows read per source table.
fn run_once_by_table(
    rule: &Rule,
    q: &Query,
    data: &dyn DataSource,
    at: i64,
) -> R<(Table, u64, std::collections::BTreeMap<String, u64>)> {
    let (_, period) = schedule(rule);
    let mut exec = Exec::new(
        data,
        RunOptions {
            now: at,
            window: Some((at - period, at)),
        },
    );
    let t = exec.run(q)?;
    let by_table = exec
        .scanned_tables()
        .into_iter()
        .map(|(n, t)| (n, t.rows as u64))
        .collect();
    Ok((t, exec.rows_scanned, by_table))
}

/// Parse and lower a rule's query for repeated runs.
pub fn prepare(query: &str) -> R<Query> {
    let parsed = crate::kql::parse(query);
    if let Some(e) = parsed.errors.first() {
        return Err(EngineError::new(
            format!("syntax error: {}", e.message),
            None,
        ));
    }
    Ok(crate::engine::lower::lower(query, &parsed.tree))
}

/// Every scheduled run whose query period ends in `(start, end]`, oldest first.
pub fn simulate(rule: &Rule, data: &dyn DataSource, start: i64, end: i64) -> R<Vec<Run>> {
    let q = prepare(&rule.query)?;
    let (freq, _) = schedule(rule);
    let suppression = if rule.suppression_enabled == Some(true) {
        rule.suppression_duration
            .as_deref()
            .and_then(Duration::parse)
            .map(|d| d.0 as i64 * SECOND)
            .unwrap_or(0)
    } else {
        0
    };
    let mut ends = Vec::new();
    let mut t = end;
    while t > start && ends.len() < 100_000 {
        ends.push(t);
        t -= freq;
    }
    ends.reverse();
    let mut runs = Vec::new();
    let mut silent_until = i64::MIN;
    for at in ends {
        let (table, scanned, scanned_tables) = run_once_by_table(rule, &q, data, at)?;
        let mut alerts = alerts_for(rule, &table);
        let suppressed = !alerts.is_empty() && at < silent_until;
        if suppressed {
            alerts.clear();
        } else if !alerts.is_empty() && suppression > 0 {
            silent_until = at + suppression;
        }
        runs.push(Run {
            at: crate::engine::value::format_datetime(at),
            rows: table.rows,
            rows_scanned: scanned,
            scanned_tables,
            alerts,
            suppressed,
        });
    }
    Ok(runs)
}
