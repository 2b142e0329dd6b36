//! Outcomes: what happened to the alerts and incidents of every rule the repository
//! manages in an environment, per rule, per content version and per rollout stage and model.
//!
//! Three queries per workspace through the Log Analytics query API (never one per rule): the
//! latest version of each incident (`SecurityIncident`, `arg_max(LastModifiedTime, *) by
//! IncidentNumber`), each alert's latest row (`SecurityAlert`), and analytics-rule runs
//! (`SentinelHealth`). Incidents are attributed to rules through `RelatedAnalyticRuleIds`
//! (the last path segment: the column may hold GUIDs or full resource ids), and to the content
//! version that raised them: the query the alert records (`ExtendedProperties.Query`), else the
//! deployment records (when each query went live); an incident whose alerts span two versions
//! counts for the newer. A workspace that cannot be read is "unknown", never zero.

use std::collections::{BTreeMap, BTreeSet};

pub mod render;

use serde::Serialize;
use serde_json::Value;

use crate::datetime::{parse_datetime, DAY, HOUR};
use crate::deploy::record;

/// The classification counts of closed incidents.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Closed {
    pub true_positive: usize,
    pub benign_positive: usize,
    pub false_positive: usize,
    pub undetermined: usize,
}

/// Figures for one rule (or one version of it, or a group of rules).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub alerts: usize,
    pub incidents: usize,
    pub closed: usize,
    pub classification: Closed,
    /// Closing reasons of closed incidents.
    pub reasons: BTreeMap<String, usize>,
    /// TP / (TP + FP) over closed incidents; `None` without any.
    pub precision: Option<f64>,
    /// FP / (TP + BP + FP) over closed incidents (Undetermined left out).
    pub fp_rate: Option<f64>,
    /// Median hours from creation to closing.
    pub median_hours_to_close: Option<f64>,
    pub alerts_per_day_max: usize,
    pub alerts_per_day_mean: f64,
    /// Alerts per UTC day (`2026-03-01`), days with alerts only.
    pub alerts_by_day: BTreeMap<String, usize>,
    /// Entities of incidents closed as FalsePositive, most frequent first (at most 5).
    pub top_fp_entities: Vec<(String, usize)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionOutcome {
    /// `q:` and 12 hex digits of SHA-256 of the query, or `unknown`.
    pub version: String,
    pub current: bool,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOutcome {
    pub workspace: String,
    /// The rule's id (its resource name).
    pub rule: String,
    pub display_name: String,
    pub source: String,
    pub stage: String,
    pub origin: String,
    pub model: Option<String>,
    /// The version this repository deploys now.
    pub version: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// No alert in the window.
    pub silent: bool,
    pub runs: usize,
    pub failed_runs: usize,
    pub auto_disabled: bool,
    /// Per content version, newest first.
    pub versions: Vec<VersionOutcome>,
}

/// Rules grouped (by rollout stage, or by origin and model).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub key: String,
    pub rules: usize,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unknown {
    pub workspace: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomesReport {
    pub environment: String,
    pub since: String,
    /// Rules, ranked by false-positive rate (highest first), then alerts.
    pub rules: Vec<RuleOutcome>,
    pub by_stage: Vec<Group>,
    pub by_model: Vec<Group>,
    /// Workspaces that could not be read: their rules are not in `rules`.
    pub unknown: Vec<Unknown>,
}

/// The window a `--since` value names, in seconds.
pub fn parse_since(s: &str) -> Result<u64, String> {
    crate::model::duration::Duration::parse(s)
        .filter(|d| d.0 > 0 && d.0 <= 366 * 86_400)
        .map(|d| d.0)
        .ok_or_else(|| {
            format!("--since `{s}` is not a duration between 1s and 366d (e.g. 30d, 12h, 90m)")
        })
}

/// The version name of a query.
pub fn version_of(query: &str) -> String {
    format!("q:{}", &crate::hash::sha256_hex(query.as_bytes())[..12])
}

/// A rule as the repository deploys it.
#[derive(Clone, Debug)]
pub struct ManagedRule {
    pub id: String,
    pub display_name: String,
    pub source: String,
    pub stage: String,
    pub origin: String,
    pub model: Option<String>,
    pub version: String,
}

/// One incident's latest state.
#[derive(Clone, Debug, Default)]
pub struct Incident {
    pub number: i64,
    pub status: String,
    pub classification: String,
    pub reason: String,
    pub created: Option<i64>,
    pub closed: Option<i64>,
    /// Lower-case rule ids (last path segments).
    pub rules: Vec<String>,
    pub alerts: Vec<String>,
}

/// One alert's latest row.
#[derive(Clone, Debug, Default)]
pub struct Alert {
    pub id: String,
    pub time: i64,
    pub rules: Vec<String>,
    pub query: Option<String>,
    pub entities: Vec<String>,
}

/// Analytics-rule runs of one rule.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    pub runs: usize,
    pub failed: usize,
    pub auto_disabled: bool,
}

/// What one workspace holds for the window.
#[derive(Clone, Debug, Default)]
pub struct WorkspaceData {
    pub incidents: Vec<Incident>,
    pub alerts: Vec<Alert>,
    /// lower-case rule id → runs.
    pub runs: BTreeMap<String, Runs>,
    /// lower-case rule id → (time live, version), oldest first.
    pub deployed: BTreeMap<String, Vec<(i64, String)>>,
}

pub const INCIDENTS_KQL: &str = "SecurityIncident
| where CreatedTime > ago({since})
| summarize arg_max(LastModifiedTime, *) by IncidentNumber
| project IncidentNumber, Status, Classification, ClassificationReason, CreatedTime, ClosedTime, RelatedAnalyticRuleIds, AlertIds";

pub const ALERTS_KQL: &str = "SecurityAlert
| where TimeGenerated > ago({since})
| where ProductName in~ ('Azure Sentinel', 'Microsoft Sentinel') or ProviderName =~ 'ASI Scheduled Alerts'
| summarize arg_max(TimeGenerated, *) by SystemAlertId
| project SystemAlertId, TimeGenerated, ExtendedProperties, Entities";

pub const HEALTH_KQL: &str = "SentinelHealth
| where TimeGenerated > ago({since})
| where SentinelResourceType =~ 'Analytics Rule'
| extend RuleId = tostring(ExtendedProperties.RuleId)
| summarize Runs = count(), Failures = countif(Status == 'Failure'), Disabled = countif(Description contains 'disabled automatically' or Reason contains 'auto-disabled') by RuleId, SentinelResourceId";

pub fn kql(template: &str, since: &str) -> String {
    template.replace("{since}", since)
}

/// The last path segment, lower-case.
fn rule_key(id: &str) -> String {
    id.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(id)
        .to_ascii_lowercase()
}

/// A dynamic cell as a list of strings (an array, or a JSON array in a string).
fn strings(v: &Value) -> Vec<String> {
    let v = match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    };
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn time(v: &Value) -> Option<i64> {
    v.as_str().and_then(parse_datetime)
}

/// An entity as a short label: `type:value/value`.
fn entity_label(e: &Value) -> Option<String> {
    let o = e.as_object()?;
    let ty = o
        .get("type")
        .or_else(|| o.get("Type"))
        .and_then(|t| t.as_str())
        .unwrap_or("entity")
        .to_ascii_lowercase();
    let mut vals: Vec<String> = o
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "type" | "Type" | "$id"))
        .filter_map(|(_, v)| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    if vals.is_empty() {
        return None;
    }
    vals.sort();
    Some(format!("{ty}:{}", vals.join("/")))
}

/// Rows of a query result as maps from column name to cell.
fn rows(t: &crate::azure::query::Table) -> Vec<BTreeMap<&str, &Value>> {
    t.rows
        .iter()
        .map(|r| {
            t.columns
                .iter()
                .map(|(n, _)| n.as_str())
                .zip(r.iter())
                .collect()
        })
        .collect()
}

/// Parse the three query results of a workspace.
pub fn parse_workspace(
    incidents: &crate::azure::query::Table,
    alerts: &crate::azure::query::Table,
    health: &crate::azure::query::Table,
) -> WorkspaceData {
    let null = Value::Null;
    let mut d = WorkspaceData::default();
    for r in rows(incidents) {
        let get = |k: &str| r.get(k).copied().unwrap_or(&null);
        d.incidents.push(Incident {
            number: get("IncidentNumber").as_i64().unwrap_or(0),
            status: get("Status").as_str().unwrap_or("").to_string(),
            classification: get("Classification").as_str().unwrap_or("").to_string(),
            reason: get("ClassificationReason")
                .as_str()
                .unwrap_or("")
                .to_string(),
            created: time(get("CreatedTime")),
            closed: time(get("ClosedTime")),
            rules: strings(get("RelatedAnalyticRuleIds"))
                .iter()
                .map(|x| rule_key(x))
                .collect(),
            alerts: strings(get("AlertIds")),
        });
    }
    for r in rows(alerts) {
        let get = |k: &str| r.get(k).copied().unwrap_or(&null);
        let ep: Value = match get("ExtendedProperties") {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        let ents: Value = match get("Entities") {
            Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            other => other.clone(),
        };
        d.alerts.push(Alert {
            id: get("SystemAlertId").as_str().unwrap_or("").to_string(),
            time: time(get("TimeGenerated")).unwrap_or(0),
            rules: strings(&ep["Analytic Rule Ids"])
                .iter()
                .map(|x| rule_key(x))
                .collect(),
            query: ep["Query"].as_str().map(String::from),
            entities: ents
                .as_array()
                .map(|a| a.iter().filter_map(entity_label).collect())
                .unwrap_or_default(),
        });
    }
    for r in rows(health) {
        let get = |k: &str| r.get(k).copied().unwrap_or(&null);
        let id = match get("RuleId").as_str().filter(|s| !s.is_empty()) {
            Some(s) => rule_key(s),
            None => rule_key(get("SentinelResourceId").as_str().unwrap_or("")),
        };
        let e = d.runs.entry(id).or_default();
        e.runs += get("Runs").as_u64().unwrap_or(0) as usize;
        e.failed += get("Failures").as_u64().unwrap_or(0) as usize;
        e.auto_disabled |= get("Disabled").as_u64().unwrap_or(0) > 0;
    }
    d
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Figures over a set of alerts and incidents, in a window of `days`.
fn figures(
    alerts: &[&Alert],
    incidents: &[&Incident],
    fp_entities: &[String],
    days: f64,
) -> Figures {
    let mut f = Figures {
        alerts: alerts.len(),
        incidents: incidents.len(),
        ..Figures::default()
    };
    let mut hours = Vec::new();
    for i in incidents {
        if i.status != "Closed" {
            continue;
        }
        f.closed += 1;
        match i.classification.as_str() {
            "TruePositive" => f.classification.true_positive += 1,
            "BenignPositive" => f.classification.benign_positive += 1,
            "FalsePositive" => f.classification.false_positive += 1,
            _ => f.classification.undetermined += 1,
        }
        if !i.reason.is_empty() {
            *f.reasons.entry(i.reason.clone()).or_default() += 1;
        }
        if let (Some(c), Some(x)) = (i.created, i.closed) {
            hours.push((x - c) as f64 / HOUR as f64);
        }
    }
    let c = &f.classification;
    let tp_fp = c.true_positive + c.false_positive;
    if tp_fp > 0 {
        f.precision = Some(round(c.true_positive as f64 / tp_fp as f64));
    }
    let judged = c.true_positive + c.benign_positive + c.false_positive;
    if judged > 0 {
        f.fp_rate = Some(round(c.false_positive as f64 / judged as f64));
    }
    f.median_hours_to_close = crate::stats::median(hours).map(round);
    let mut per_day: BTreeMap<i64, usize> = BTreeMap::new();
    for a in alerts {
        *per_day.entry(a.time.div_euclid(DAY)).or_default() += 1;
    }
    f.alerts_per_day_max = per_day.values().copied().max().unwrap_or(0);
    f.alerts_by_day = per_day
        .iter()
        .map(|(d, n)| {
            let day = crate::datetime::format_datetime(d * DAY);
            (day[..10].to_string(), *n)
        })
        .collect();
    f.alerts_per_day_mean = round(alerts.len() as f64 / days.max(1.0));
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in fp_entities {
        *counts.entry(e).or_default() += 1;
    }
    let mut top: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(5);
    f.top_fp_entities = top;
    f
}

/// The version an alert belongs to: its recorded query, else what was deployed at its time.
fn alert_version(a: &Alert, deployed: Option<&Vec<(i64, String)>>) -> String {
    if let Some(q) = &a.query {
        return version_of(q);
    }
    deployed
        .and_then(|d| d.iter().rev().find(|(t, _)| *t <= a.time))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "unknown".into())
}

/// Outcomes of the managed rules of one workspace.
pub fn compute(
    workspace: &str,
    rules: &[ManagedRule],
    d: &WorkspaceData,
    days: f64,
) -> Vec<RuleOutcome> {
    let alerts_by_id: BTreeMap<&str, &Alert> =
        d.alerts.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut out = Vec::new();
    for r in rules {
        let key = r.id.to_ascii_lowercase();
        let deployed = d.deployed.get(&key);
        let alerts: Vec<&Alert> = d.alerts.iter().filter(|a| a.rules.contains(&key)).collect();
        let incidents: Vec<&Incident> = d
            .incidents
            .iter()
            .filter(|i| i.rules.contains(&key))
            .collect();
        // Version of each incident: that of its newest alert of this rule.
        let inc_version = |i: &Incident| -> String {
            i.alerts
                .iter()
                .filter_map(|id| alerts_by_id.get(id.as_str()))
                .filter(|a| a.rules.contains(&key))
                .max_by_key(|a| a.time)
                .map(|a| alert_version(a, deployed))
                .or_else(|| {
                    let t = i.created?;
                    deployed?
                        .iter()
                        .rev()
                        .find(|(x, _)| *x <= t)
                        .map(|(_, v)| v.clone())
                })
                .unwrap_or_else(|| "unknown".into())
        };
        let fp_entities = |incs: &[&Incident]| -> Vec<String> {
            let mut out = Vec::new();
            for i in incs
                .iter()
                .filter(|i| i.status == "Closed" && i.classification == "FalsePositive")
            {
                let mut seen = BTreeSet::new();
                for a in i
                    .alerts
                    .iter()
                    .filter_map(|id| alerts_by_id.get(id.as_str()))
                {
                    for e in &a.entities {
                        if seen.insert(e.clone()) {
                            out.push(e.clone());
                        }
                    }
                }
            }
            out
        };
        let mut versions: BTreeMap<String, (Vec<&Alert>, Vec<&Incident>, i64)> = BTreeMap::new();
        for a in &alerts {
            let v = versions.entry(alert_version(a, deployed)).or_default();
            v.0.push(a);
            v.2 = v.2.max(a.time);
        }
        for i in &incidents {
            let v = versions.entry(inc_version(i)).or_default();
            v.1.push(i);
            v.2 = v.2.max(i.created.unwrap_or(0));
        }
        let mut versions: Vec<VersionOutcome> = versions
            .into_iter()
            .map(|(v, (a, i, last))| {
                (
                    last,
                    VersionOutcome {
                        current: v == r.version,
                        version: v,
                        figures: figures(&a, &i, &fp_entities(&i), days),
                    },
                )
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|(last, v)| (std::cmp::Reverse((v.current, last)), v))
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.current));
        let runs = d.runs.get(&key).cloned().unwrap_or_default();
        out.push(RuleOutcome {
            workspace: workspace.to_string(),
            rule: r.id.clone(),
            display_name: r.display_name.clone(),
            source: r.source.clone(),
            stage: r.stage.clone(),
            origin: r.origin.clone(),
            model: r.model.clone(),
            version: r.version.clone(),
            figures: figures(&alerts, &incidents, &fp_entities(&incidents), days),
            silent: alerts.is_empty(),
            runs: runs.runs,
            failed_runs: runs.failed,
            auto_disabled: runs.auto_disabled,
            versions,
        });
    }
    out
}

/// Sum figures of several rules (rates recomputed from the sums).
fn group(key: String, rs: &[&RuleOutcome]) -> Group {
    let mut f = Figures::default();
    let mut hours_weighted = Vec::new();
    for r in rs {
        let g = &r.figures;
        f.alerts += g.alerts;
        f.incidents += g.incidents;
        f.closed += g.closed;
        f.classification.true_positive += g.classification.true_positive;
        f.classification.benign_positive += g.classification.benign_positive;
        f.classification.false_positive += g.classification.false_positive;
        f.classification.undetermined += g.classification.undetermined;
        for (k, n) in &g.reasons {
            *f.reasons.entry(k.clone()).or_default() += n;
        }
        f.alerts_per_day_max = f.alerts_per_day_max.max(g.alerts_per_day_max);
        for (d, n) in &g.alerts_by_day {
            *f.alerts_by_day.entry(d.clone()).or_default() += n;
        }
        f.alerts_per_day_mean += g.alerts_per_day_mean;
        if let Some(h) = g.median_hours_to_close {
            hours_weighted.push(h);
        }
    }
    let c = &f.classification;
    let tp_fp = c.true_positive + c.false_positive;
    f.precision = (tp_fp > 0).then(|| round(c.true_positive as f64 / tp_fp as f64));
    let judged = c.true_positive + c.benign_positive + c.false_positive;
    f.fp_rate = (judged > 0).then(|| round(c.false_positive as f64 / judged as f64));
    f.median_hours_to_close = crate::stats::median(hours_weighted).map(round);
    f.alerts_per_day_mean = round(f.alerts_per_day_mean);
    Group {
        key,
        rules: rs.len(),
        figures: f,
    }
}

/// Rank rules and build the groups.
pub fn report(
    environment: &str,
    since: &str,
    mut rules: Vec<RuleOutcome>,
    unknown: Vec<Unknown>,
) -> OutcomesReport {
    rules.sort_by(|a, b| {
        b.figures
            .fp_rate
            .unwrap_or(-1.0)
            .total_cmp(&a.figures.fp_rate.unwrap_or(-1.0))
            .then(b.figures.alerts.cmp(&a.figures.alerts))
            .then(a.rule.cmp(&b.rule))
            .then(a.workspace.cmp(&b.workspace))
    });
    let mut by_stage: BTreeMap<String, Vec<&RuleOutcome>> = BTreeMap::new();
    let mut by_model: BTreeMap<String, Vec<&RuleOutcome>> = BTreeMap::new();
    for r in &rules {
        by_stage.entry(r.stage.clone()).or_default().push(r);
        let k = match &r.model {
            Some(m) => format!("{} ({m})", r.origin),
            None => r.origin.clone(),
        };
        by_model.entry(k).or_default().push(r);
    }
    let rank = |mut g: Vec<Group>| {
        g.sort_by(|a, b| {
            b.figures
                .precision
                .unwrap_or(-1.0)
                .total_cmp(&a.figures.precision.unwrap_or(-1.0))
                .then(a.key.cmp(&b.key))
        });
        g
    };
    OutcomesReport {
        environment: environment.to_string(),
        since: since.to_string(),
        by_stage: rank(by_stage.into_iter().map(|(k, v)| group(k, &v)).collect()),
        by_model: rank(by_model.into_iter().map(|(k, v)| group(k, &v)).collect()),
        rules,
        unknown,
    }
}

/// When each version of each alert rule went live, from the deployment records.
pub fn deployed_versions(records: &[record::Record]) -> BTreeMap<String, Vec<(i64, String)>> {
    let mut out: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.status == record::Status::Succeeded)
    {
        let Some(t) = r
            .finished
            .as_deref()
            .or(Some(r.started.as_str()))
            .and_then(parse_datetime)
        else {
            continue;
        };
        for w in &r.workspaces {
            for c in &w.changes {
                if let Some(q) = c
                    .after
                    .as_ref()
                    .and_then(|a| a["properties"]["query"].as_str())
                {
                    out.entry(c.name.to_ascii_lowercase())
                        .or_default()
                        .push((t, version_of(q)));
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// A window as a Kusto timespan literal (`30d`, `12h`, `90m`, `45s`).
pub fn format_kusto_timespan(secs: u64) -> String {
    if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs.is_multiple_of(3_600) {
        format!("{}h", secs / 3_600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_keys_are_last_segments() {
        assert_eq!(rule_key("/subscriptions/s/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/alertRules/ABC"), "abc");
        assert_eq!(rule_key("abc"), "abc");
    }

    #[test]
    fn since_is_checked() {
        assert!(parse_since("30d").is_ok());
        assert!(parse_since("0d").is_err());
        assert!(parse_since("soon").is_err());
        assert!(parse_since("400d").is_err());
        assert_eq!(format_kusto_timespan(30 * 86_400), "30d");
        assert_eq!(format_kusto_timespan(5400), "90m");
    }
}
