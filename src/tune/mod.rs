//! Tuning from outcomes, as data: which entities to exclude from a rule (FP/BP-dominant, never
//! seen in a TP-closed incident), the tuned query, and the backtest that replays the current and
//! the tuned query over the same events with the rule's schedule and alert semantics and tells
//! which closed incidents each would still raise. Pure: no I/O (`ops::tune` fetches and writes).

pub mod anomaly;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::alerts::{self, Run};
use crate::engine::DataSource;
use crate::model::Rule;

/// A closed incident of the rule, with the entities of its alerts.
#[derive(Clone, Debug, PartialEq)]
pub struct ClosedIncident {
    pub number: i64,
    /// `TruePositive`, `FalsePositive`, `BenignPositive`, `Undetermined`.
    pub classification: String,
    /// Each alert: its time (ticks) and its entities (`{"type": "Account", "Name": ...}`).
    pub alerts: Vec<(i64, Vec<Value>)>,
}

impl ClosedIncident {
    pub fn is_tp(&self) -> bool {
        self.classification.eq_ignore_ascii_case("TruePositive")
    }
    pub fn is_fp_or_bp(&self) -> bool {
        self.classification.eq_ignore_ascii_case("FalsePositive")
            || self.classification.eq_ignore_ascii_case("BenignPositive")
    }
}

/// An entity value an exclusion filters out, on the result column its mapping binds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Exclusion {
    pub column: String,
    pub entity_type: String,
    pub identifier: String,
    /// As it appears in the alerts (compared case-insensitively).
    pub value: String,
    /// The FP/BP incidents it appears in.
    pub incidents: Vec<i64>,
}

/// `(entity type, identifier) → result column`, lower-cased keys, from the rule's mappings.
fn mapped_columns(rule: &Rule) -> BTreeMap<(String, String), String> {
    let mut m = BTreeMap::new();
    for em in rule.entity_mappings.iter().flatten() {
        for f in &em.field_mappings {
            m.insert(
                (
                    em.entity_type.to_ascii_lowercase(),
                    f.identifier.to_ascii_lowercase(),
                ),
                f.column_name.clone(),
            );
        }
    }
    m
}

/// The `(column, entity type, identifier, value)` keys of an alert's entities.
fn keys(
    entities: &[Value],
    cols: &BTreeMap<(String, String), String>,
) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for e in entities {
        let Some(o) = e.as_object() else { continue };
        let ty = o
            .get("type")
            .or_else(|| o.get("Type"))
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_string();
        for (k, v) in o {
            let Some(v) = v.as_str().filter(|v| !v.is_empty()) else {
                continue;
            };
            if let Some(col) = cols.get(&(ty.to_ascii_lowercase(), k.to_ascii_lowercase())) {
                out.insert((col.clone(), ty.clone(), k.clone(), v.to_string()));
            }
        }
    }
    out
}

/// Entities in at least `min_support` FP/BP incidents and in no TP incident, most supported
/// first. Values compare case-insensitively.
pub fn candidates(rule: &Rule, incidents: &[ClosedIncident], min_support: usize) -> Vec<Exclusion> {
    let cols = mapped_columns(rule);
    // (column, lower-case value) → (entity type, identifier, value as seen, incidents).
    type Seen = (String, String, String, BTreeSet<i64>);
    let mut fp: BTreeMap<(String, String), Seen> = BTreeMap::new();
    let mut tp: BTreeSet<(String, String)> = BTreeSet::new();
    for inc in incidents {
        let ks: BTreeSet<_> = inc
            .alerts
            .iter()
            .flat_map(|(_, e)| keys(e, &cols))
            .collect();
        for (col, ty, id, v) in ks {
            let k = (col.clone(), v.to_lowercase());
            if inc.is_tp() {
                tp.insert(k);
            } else if inc.is_fp_or_bp() {
                fp.entry(k)
                    .or_insert_with(|| (ty, id, v, BTreeSet::new()))
                    .3
                    .insert(inc.number);
            }
        }
    }
    let mut out: Vec<Exclusion> = fp
        .into_iter()
        .filter(|(k, (_, _, _, n))| n.len() >= min_support && !tp.contains(k))
        .map(|((col, _), (ty, id, v, n))| Exclusion {
            column: col,
            entity_type: ty,
            identifier: id,
            value: v,
            incidents: n.into_iter().collect(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.incidents
            .len()
            .cmp(&a.incidents.len())
            .then(a.column.cmp(&b.column))
            .then(a.value.cmp(&b.value))
    });
    out
}

/// How exclusions are written.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    /// `| where Col !in~ ("a", "b")`.
    Inline,
    /// `| where Col !in~ ((_GetWatchlist('alias') | where Column == 'Col' | project SearchKey))`.
    Watchlist(String),
}

fn kql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Where each filter can go in the final tabular expression: the byte offsets of its
/// top-level `|` (and the end), after the `let` statements.
fn insertion_points(query: &str) -> Vec<usize> {
    use crate::kql::syntax::TokenKind as K;
    let (tokens, _) = crate::kql::lexer::lex(query);
    let mut depth = 0i32;
    let mut points = Vec::new();
    for t in &tokens {
        match t.kind {
            K::LParen | K::LBracket | K::LBrace => depth += 1,
            K::RParen | K::RBracket | K::RBrace => depth -= 1,
            // A new statement: only the last one's pipes count.
            K::Semi if depth == 0 => points.clear(),
            K::Pipe if depth == 0 => points.push(t.start as usize),
            _ => {}
        }
    }
    points.push(query.trim_end().trim_end_matches(';').trim_end().len());
    points
}

/// The query with one filter per excluded column, each at the first place of the final
/// tabular expression where the column exists (by binding the query up to each top-level `|`
/// against `catalog`): excluding an entity's events before an aggregation counts them, which is
/// the intent of an exclusion, and what the backtest then measures. Where no place can be
/// told, the filter goes at the end, where the mapped column exists by definition.
pub fn tuned_query(
    query: &str,
    ex: &[Exclusion],
    form: &Form,
    catalog: &crate::kql::catalog::Catalog,
) -> String {
    let mut by_col: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in ex {
        by_col.entry(&e.column).or_default().push(&e.value);
    }
    let base = query
        .trim_end()
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    let points = insertion_points(&base);
    // The first point where each column is a result column of the prefix.
    let has_col = |prefix: &str, col: &str| -> bool {
        let p = crate::kql::parse(prefix);
        if !p.errors.is_empty() {
            return false;
        }
        let b = crate::kql::binder::bind(prefix, &p.tree, catalog);
        b.errors.is_empty()
            && b.result
                .is_some_and(|s| !s.open && s.columns.iter().any(|(c, _)| c == col))
    };
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for (col, vals) in by_col {
        let at = points
            .iter()
            .copied()
            .find(|&p| has_col(&base[..p], col))
            .unwrap_or(base.len());
        let filter = match form {
            Form::Inline => format!(
                "| where {col} !in~ ({})",
                vals.iter().map(|v| kql_string(v)).collect::<Vec<_>>().join(", ")
            ),
            Form::Watchlist(alias) => format!(
                "| where {col} !in~ ((_GetWatchlist('{alias}') | where Column == '{col}' | project SearchKey))"
            ),
        };
        inserts.push((at, filter));
    }
    // Insert from the back so earlier offsets stay valid; each filter on its own line.
    inserts.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut q = base;
    for (at, f) in inserts {
        let before = q[..at].trim_end().len();
        q = format!("{}\n{f}\n{}", &q[..before], q[at..].trim_start());
    }
    let mut q = q.trim_end().to_string();
    q.push('\n');
    q
}

/// What the replay says.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Backtest {
    pub runs: usize,
    pub alerts_before: usize,
    pub alerts_after: usize,
    /// FP/BP incidents the tuned rule would no longer raise.
    pub fp_removed: Vec<i64>,
    /// FP/BP incidents it would still raise.
    pub fp_kept: Vec<i64>,
    /// TP incidents it would no longer raise.
    pub tp_lost: Vec<i64>,
    pub tp_kept: Vec<i64>,
    /// Closed incidents the current query does not raise again from the fetched events (data
    /// gone, or the rule changed since): nothing can be said about them.
    pub not_reproduced: Vec<i64>,
    /// Milliseconds the two replays took.
    pub millis: f64,
}

/// Whether a replayed run raised an alert for the incident's alert at `at` with one of its
/// entities: the run ends within one schedule period after the alert's time (the replay's
/// grid is aligned to the alerts, so it is normally the same instant).
fn raised(runs: &[Run], at: i64, entities: &[Value], freq: i64) -> bool {
    runs.iter().any(|r| {
        let end = crate::engine::value::parse_datetime(&r.at).unwrap_or(i64::MIN);
        end >= at - 60 * crate::engine::value::SECOND
            && end < at + freq
            && r.alerts
                .iter()
                .any(|a| a.entities.iter().any(|e| entities.contains(e)))
    })
}

/// Replay `current` and `tuned` (the same rule with the tuned query) over `(start, end]` on the
/// same data, on a grid aligned to the incidents' alert times, and judge each closed incident.
pub fn backtest(
    current: &Rule,
    tuned: &Rule,
    data: &dyn DataSource,
    start: i64,
    end: i64,
    incidents: &[ClosedIncident],
) -> Result<Backtest, String> {
    let started = std::time::Instant::now();
    let (freq, _) = alerts::schedule(current);
    // Align the run ends to an alert time, as the service's schedule produced them.
    let end = incidents
        .iter()
        .flat_map(|i| i.alerts.iter().map(|a| a.0))
        .next()
        .map(|a| a + (end - a).div_euclid(freq) * freq)
        .unwrap_or(end);
    let before = alerts::simulate(current, data, start, end).map_err(|e| e.message)?;
    let after = alerts::simulate(tuned, data, start, end).map_err(|e| e.message)?;
    let mut b = Backtest {
        runs: before.len(),
        alerts_before: before.iter().map(|r| r.alerts.len()).sum(),
        alerts_after: after.iter().map(|r| r.alerts.len()).sum(),
        ..Backtest::default()
    };
    for inc in incidents {
        let reproduced = inc
            .alerts
            .iter()
            .any(|(at, e)| raised(&before, *at, e, freq));
        if !reproduced {
            b.not_reproduced.push(inc.number);
            continue;
        }
        let kept = inc
            .alerts
            .iter()
            .any(|(at, e)| raised(&after, *at, e, freq));
        match (inc.is_tp(), inc.is_fp_or_bp(), kept) {
            (true, _, true) => b.tp_kept.push(inc.number),
            (true, _, false) => b.tp_lost.push(inc.number),
            (_, true, true) => b.fp_kept.push(inc.number),
            (_, true, false) => b.fp_removed.push(inc.number),
            _ => {}
        }
    }
    b.millis = started.elapsed().as_secs_f64() * 1000.0;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule() -> Rule {
        serde_json::from_value(json!({
            "id": "00000000-0000-4000-8000-000000000001", "name": "r", "description": "d",
            "severity": "Medium", "kind": "Scheduled", "queryFrequency": "1h", "queryPeriod": "1h",
            "triggerOperator": "gt", "triggerThreshold": 0,
            "query": "SigninLogs | where ResultType != \"0\" | project TimeGenerated, UserPrincipalName, IPAddress",
            "entityMappings": [
                {"entityType": "Account", "fieldMappings": [{"identifier": "FullName", "columnName": "UserPrincipalName"}]},
                {"entityType": "IP", "fieldMappings": [{"identifier": "Address", "columnName": "IPAddress"}]}
            ]
        }))
        .unwrap()
    }

    fn inc(n: i64, class: &str, user: &str, ip: &str) -> ClosedIncident {
        ClosedIncident {
            number: n,
            classification: class.into(),
            alerts: vec![(
                0,
                vec![
                    json!({"type": "Account", "FullName": user}),
                    json!({"type": "IP", "Address": ip}),
                ],
            )],
        }
    }

    #[test]
    fn candidates_need_support_and_no_tp() {
        let incs = vec![
            inc(1, "FalsePositive", "svc-backup@contoso.com", "10.0.0.1"),
            inc(2, "FalsePositive", "SVC-BACKUP@contoso.com", "10.0.0.1"),
            inc(3, "BenignPositive", "svc-backup@contoso.com", "10.0.0.2"),
            inc(4, "FalsePositive", "svc-scan@contoso.com", "10.0.0.1"),
            inc(5, "TruePositive", "alice@contoso.com", "10.0.0.1"),
            inc(6, "Undetermined", "svc-scan@contoso.com", "10.0.0.9"),
        ];
        let c = candidates(&rule(), &incs, 3);
        // svc-backup: 3 incidents (case-insensitive); 10.0.0.1 is in a TP; svc-scan only once.
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].column, "UserPrincipalName");
        assert_eq!(c[0].incidents, [1, 2, 3]);
        // With support 1: svc-scan (incident 4) and 10.0.0.2 (incident 3) too.
        let c1 = candidates(&rule(), &incs, 1);
        assert_eq!(c1.len(), 3, "{c1:?}");
        assert!(c1
            .iter()
            .any(|e| e.column == "IPAddress" && e.value == "10.0.0.2"));
    }

    #[test]
    fn the_tuned_query_filters_the_final_expression() {
        let ex = vec![Exclusion {
            column: "UserPrincipalName".into(),
            entity_type: "Account".into(),
            identifier: "FullName".into(),
            value: "svc\"x".into(),
            incidents: vec![1],
        }];
        let cat = crate::kql::catalog::Catalog::embedded();
        // The column exists in the source table: the filter goes right after it.
        assert_eq!(
            tuned_query(
                "let x = 1;\nSigninLogs\n| where ResultType != \"0\"\n| summarize n = count() by UserPrincipalName;\n",
                &ex,
                &Form::Inline,
                cat
            ),
            "let x = 1;\nSigninLogs\n| where UserPrincipalName !in~ (\"svc\\\"x\")\n| where ResultType != \"0\"\n| summarize n = count() by UserPrincipalName\n"
        );
        // Made by an operator: after it.
        let mut ex2 = ex.clone();
        ex2[0].column = "User".into();
        assert_eq!(
            tuned_query(
                "SigninLogs | extend User = tolower(UserPrincipalName) | summarize c = count() by User",
                &ex2,
                &Form::Watchlist("RExclusions".into()),
                cat
            ),
            "SigninLogs | extend User = tolower(UserPrincipalName)\n| where User !in~ ((_GetWatchlist('RExclusions') | where Column == 'User' | project SearchKey))\n| summarize c = count() by User\n"
        );
        // Nothing binds (an unknown table): at the end.
        assert_eq!(
            tuned_query("Nope | project UserPrincipalName", &ex, &Form::Inline, cat),
            "Nope | project UserPrincipalName\n| where UserPrincipalName !in~ (\"svc\\\"x\")\n"
        );
    }
}
