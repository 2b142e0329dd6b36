//! Alerts as Sentinel raises them from a scheduled (or NRT) rule: each run queries its query
//! period, the trigger compares the result count with the threshold, event grouping makes one
//! alert or one per result (capped at 150 for scheduled rules, 30 for NRT), entities come from
//! the entity mappings, custom details and the alert details override from result columns,
//! and suppression silences runs after an alert.

use std::collections::BTreeMap;

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

/// Parse, bind (against the catalog of the data the runs read) and lower a rule's query for
/// repeated runs.
pub fn prepare(query: &str, catalog: &crate::kql::catalog::Catalog) -> R<Query> {
    let parsed = crate::kql::parse(query);
    if let Some(e) = parsed.errors.first() {
        return Err(EngineError::new(
            format!("syntax error: {}", e.message),
            None,
        ));
    }
    Ok(crate::engine::plan(query, &parsed.tree, catalog))
}

/// The tables a query reads, when every row of its result can only come from them: no
/// operator or function that makes rows of its own or reads what no window bounds (`print`,
/// `range`, `datatable`, `externaldata`, `make-series`, `evaluate`, watchlists, stored
/// functions) and a time index for each. `None`: every run must execute.
fn windowed_sources(query: &str, data: &dyn DataSource) -> Option<Vec<String>> {
    use crate::kql::syntax::TokenKind as K;
    let (tokens, _) = crate::kql::lexer::lex(query);
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != K::Ident {
            continue;
        }
        let w = &query[t.range()];
        let lower = w.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "print"
                | "range"
                | "datatable"
                | "externaldata"
                | "make-series"
                | "evaluate"
                | "_getwatchlist"
                | "materialize"
        ) || lower.starts_with("make-series")
        {
            return None;
        }
        let called = tokens[i + 1..]
            .iter()
            .find(|n| !n.kind.is_trivia())
            .is_some_and(|n| n.kind == K::LParen);
        if data.function(w).is_some() && (called || data.table(w).is_none()) {
            return None;
        }
    }
    let mut tables: Vec<String> = tokens
        .iter()
        .filter(|t| t.kind == K::Ident)
        .map(|t| &query[t.range()])
        .filter(|w| data.table(w).is_some())
        .map(str::to_string)
        .collect();
    tables.sort();
    tables.dedup();
    if tables.is_empty() || tables.iter().any(|t| data.time_index(t).is_none()) {
        return None;
    }
    Some(tables)
}

/// Every scheduled run whose query period ends in `(start, end]`, oldest first.
///
/// A run whose tables hold no row in its period gives what the first such run gave, when that
/// was nothing (see `windowed_sources`): it is recorded without executing the query, so long
/// windows over sparse data (an NRT rule runs 43,200 times in 30 days) cost what their rows
/// cost.
pub fn simulate(rule: &Rule, data: &dyn DataSource, start: i64, end: i64) -> R<Vec<Run>> {
    let q = prepare(&rule.query, data.catalog())?;
    let (freq, period) = schedule(rule);
    let sources = windowed_sources(&rule.query, data);
    let indexes: Vec<_> = sources
        .iter()
        .flatten()
        .filter_map(|t| data.time_index(t))
        .collect();
    // Some(true): an empty period gave no rows, so later empty periods are skipped.
    let mut empty_gives_nothing: Option<bool> = None;
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
        let empty = sources.is_some() && indexes.iter().all(|ix| ix.count(at - period, at) == 0);
        if empty && empty_gives_nothing == Some(true) {
            runs.push(Run {
                at: crate::engine::value::format_datetime(at),
                rows: 0,
                rows_scanned: 0,
                scanned_tables: BTreeMap::new(),
                alerts: Vec::new(),
                suppressed: false,
            });
            continue;
        }
        let (table, scanned, scanned_tables) = run_once_by_table(rule, &q, data, at)?;
        if empty && empty_gives_nothing.is_none() {
            empty_gives_nothing = Some(table.rows == 0);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::value::{Type, MINUTE};
    use crate::engine::{Column, Sandbox};
    use std::sync::Arc;

    /// The sandbox without its time index: every run executes.
    struct NoIndex<'a>(&'a Sandbox);

    impl DataSource for NoIndex<'_> {
        fn table(&self, name: &str) -> Option<Arc<Table>> {
            self.0.table(name)
        }
    }

    /// The sandbox, counting the table reads (one per executed run).
    struct Counting<'a>(&'a Sandbox, std::cell::Cell<usize>);

    impl DataSource for Counting<'_> {
        fn table(&self, name: &str) -> Option<Arc<Table>> {
            self.1.set(self.1.get() + 1);
            self.0.table(name)
        }
        fn time_index(&self, name: &str) -> Option<Arc<crate::engine::source::TimeIndex>> {
            self.0.time_index(name)
        }
    }

    fn rule(kind: &str, query: &str) -> Rule {
        serde_json::from_value(serde_json::json!({
            "id": "00000000-0000-4000-8000-000000000001", "name": "r", "description": "d",
            "severity": "Medium", "kind": kind, "queryFrequency": "5m", "queryPeriod": "5m",
            "triggerOperator": "gt", "triggerThreshold": 0, "query": query,
            "entityMappings": [{"entityType": "Account", "fieldMappings": [{"identifier": "FullName", "columnName": "U"}]}]
        }))
        .unwrap()
    }

    #[test]
    fn skipping_empty_periods_changes_nothing() {
        let t0 = crate::engine::value::parse_datetime("2026-01-01T00:00:00Z").unwrap();
        // Sparse data: a few failures on one day of a week.
        let times: Vec<Value> = (0..12)
            .map(|i| Value::DateTime(t0 + (i * 37) * MINUTE))
            .collect();
        let users: Vec<Value> = (0..12)
            .map(|i| Value::string(format!("u{}", i % 3)))
            .collect();
        let mut sb = Sandbox::default();
        sb.add_table(
            "SigninLogs",
            Table::new(vec![
                Column::new("TimeGenerated", Type::DateTime, times),
                Column::new("U", Type::String, users),
            ]),
        );
        let (start, end) = (t0 - 3 * 24 * 60 * MINUTE, t0 + 4 * 24 * 60 * MINUTE);
        for (kind, q) in [
            ("Scheduled", "SigninLogs | project TimeGenerated, U"),
            // One row from no rows: every period runs.
            (
                "Scheduled",
                "SigninLogs | summarize n = count() | extend U = 'x'",
            ),
            ("NRT", "SigninLogs | summarize n = count() by U"),
            // Rows that do not come from the table: every period runs.
            (
                "Scheduled",
                "union (print U = 'p'), (SigninLogs | project U)",
            ),
        ] {
            let r = rule(kind, q);
            let skipped = simulate(&r, &sb, start, end).unwrap();
            let all = simulate(&r, &NoIndex(&sb), start, end).unwrap();
            let key = |runs: &[Run]| -> Vec<(String, usize, usize)> {
                runs.iter()
                    .map(|x| (x.at.clone(), x.rows, x.alerts.len()))
                    .collect()
            };
            assert_eq!(key(&skipped), key(&all), "{q}");
            assert!(skipped.iter().any(|x| !x.alerts.is_empty()), "{q}");
        }
        // The sparse case really skips: 2,016 periods, table reads for the few with rows.
        let c = Counting(&sb, std::cell::Cell::new(0));
        let runs = simulate(
            &rule("Scheduled", "SigninLogs | project TimeGenerated, U"),
            &c,
            start,
            end,
        )
        .unwrap();
        assert_eq!(runs.len(), 2016);
        assert!(c.1.get() < 40, "{} table reads", c.1.get());
        assert!(windowed_sources("SigninLogs | project U", &sb).is_some());
        assert!(windowed_sources("union (print U = 'p'), (SigninLogs | project U)", &sb).is_none());
    }
}
