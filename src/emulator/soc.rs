//! The emulator as a small SOC: a virtual clock, log data that arrives through the Azure Monitor
//! Logs Ingestion API, a scheduler that runs every enabled Scheduled and NRT rule at its
//! frequency over its period, alerts in `SecurityAlert`, incidents in `SecurityIncident` (one
//! row per incident version) and through the incidents REST API, a `SentinelHealth` row per
//! rule run, and rules auto-disabled after repeated failures as Sentinel does it.
//!
//! What is emulated and how (README, "The emulator"):
//! - `POST /vigil-emulator/advance {"days"|"hours"|"minutes"|"seconds": N}` moves the virtual
//!   clock and runs every rule run that falls due; `GET /vigil-emulator/clock` reads it. Without
//!   `--clock` the emulator runs on real time and schedules nothing until the clock is advanced
//!   (the first advance starts the virtual clock at the real time).
//! - `POST /dataCollectionRules/{dcrImmutableId}/streams/{stream}?api-version=2023-01-01`: a
//!   JSON array of objects, at most 1 MB, answered with 204. A workspace's DCR immutable id is
//!   `dcr-` and its GUID without dashes ([`dcr_id`]); stream `Custom-X` writes table `X`,
//!   `Microsoft-X` table `X`. Rows without `TimeGenerated` get the emulator's clock.
//! - Incidents: `GET .../incidents` (paged, `$top` ≤ 1000, `$skipToken`), `GET/PUT/DELETE
//!   .../incidents/{id}`, `POST .../incidents/{id}/alerts`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::http::{Request, Response};
use super::query::{Logs, RaisedAlert};
use super::validate::Reject;
use super::{error, Inner, Kind, Service, Ws};
use crate::datetime::{format_datetime, parse_datetime, MINUTE, SECOND};

/// The scheduler's key prefix of anomaly settings.
const ML: &str = "ml:";
use crate::model::duration::Duration;

/// api-version of the Logs Ingestion API.
pub const INGESTION_API: &str = "2023-01-01";
/// The largest body the Logs Ingestion API takes.
pub const INGESTION_MAX: usize = 1024 * 1024;
/// api-versions the incidents API answers.
const INCIDENT_APIS: &[&str] = &[
    "2023-02-01",
    "2023-11-01",
    "2024-03-01",
    "2025-06-01",
    "2025-09-01",
    "2025-07-01-preview",
    "2025-10-01-preview",
];
/// Scheduled runs one advance may make per rule (a year of 5-minute runs).
const MAX_RUNS: usize = 110_000;

/// The DCR immutable id the emulator gives a workspace.
pub fn dcr_id(workspace_guid: &str) -> String {
    format!(
        "dcr-{}",
        workspace_guid.replace('-', "").to_ascii_lowercase()
    )
}

/// A rule's scheduler state.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RuleState {
    /// End of the next run's query period (ticks).
    pub next: i64,
    /// Alerts are suppressed until then (ticks).
    pub silent_until: i64,
    /// Consecutive failed runs.
    pub failures: u32,
}

/// The SOC side of a workspace.
#[derive(Default)]
pub struct Soc {
    pub logs: Logs,
    /// lower-case incident name → incident as served.
    pub incidents: BTreeMap<String, Value>,
    /// SystemAlertId → alert entity (for `POST .../incidents/{id}/alerts`).
    pub alerts: BTreeMap<String, Value>,
    pub incident_seq: i64,
    /// lower-case rule name → scheduler state.
    pub rules: BTreeMap<String, RuleState>,
}

impl Soc {
    /// Append rows to a log table.
    pub fn append(&mut self, table: &str, rows: Vec<Value>) {
        let t = self.logs.entry(table.to_string()).or_default();
        Arc::make_mut(t).extend(rows);
    }
}

fn reject(status: u16, code: &'static str, message: impl Into<String>) -> Response {
    error(Reject {
        status,
        code,
        message: message.into(),
    })
}

fn ticks_of(d: &Value) -> Option<i64> {
    d.as_str()
        .and_then(Duration::parse)
        .map(|d| d.0 as i64 * SECOND)
}

impl Service {
    /// The emulator's clock (ticks): the virtual one, else real time.
    pub(super) fn now_ticks(&self) -> i64 {
        match *self.clock.lock().expect("clock lock") {
            Some(t) => t,
            None => parse_datetime(&crate::clock::now_rfc3339()).unwrap_or(0),
        }
    }

    /// The emulator's clock as RFC 3339.
    pub(super) fn now_text(&self) -> String {
        match *self.clock.lock().expect("clock lock") {
            Some(t) => format_datetime(t),
            None => crate::clock::now_rfc3339(),
        }
    }

    /// The virtual clock, when the emulator runs on one.
    pub(super) fn virtual_now(&self) -> Option<String> {
        self.clock.lock().expect("clock lock").map(format_datetime)
    }

    /// `/vigil-emulator/clock` and `/vigil-emulator/advance`.
    pub(super) fn admin(&self, req: &Request, what: &str) -> Response {
        match (what, req.method.as_str()) {
            ("clock", "GET") => Response::json(200, &json!({"now": self.now_text()})),
            ("advance", "POST") => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let mut by = 0i64;
                let mut named = false;
                for (k, unit) in [
                    ("days", 24 * 60 * MINUTE),
                    ("hours", 60 * MINUTE),
                    ("minutes", MINUTE),
                    ("seconds", SECOND),
                ] {
                    if let Some(v) = body.get(k) {
                        let Some(n) = v.as_f64().filter(|n| n.is_finite() && *n >= 0.0) else {
                            return reject(
                                400,
                                "BadRequest",
                                format!("`{k}` must be a number of at least 0"),
                            );
                        };
                        by += (n * unit as f64) as i64;
                        named = true;
                    }
                }
                if !named || by > 400 * 24 * 60 * MINUTE {
                    return reject(
                        400,
                        "BadRequest",
                        "advance takes {\"days\"|\"hours\"|\"minutes\"|\"seconds\": N}, at most 400 days at a time",
                    );
                }
                let mut guard = self.inner.lock().expect("emulator state lock");
                let from = self.now_ticks();
                let to = from + by;
                *self.clock.lock().expect("clock lock") = Some(to);
                let runs = self.schedule(&mut guard, to);
                self.persist_clock(to);
                Response::json(200, &json!({"now": format_datetime(to), "ruleRuns": runs}))
            }
            _ => reject(
                404,
                "PathNotFoundError",
                format!("The requested path does not exist: {}", req.path()),
            ),
        }
    }

    fn persist_clock(&self, t: i64) {
        if let Some(d) = &self.opts.state {
            let _ = super::write_atomic(&d.join("clock.json"), &json!({"now": format_datetime(t)}));
        }
    }

    /// `POST /dataCollectionRules/{dcr}/streams/{stream}`.
    pub(super) fn ingest(&self, req: &Request, dcr: &str, stream: &str) -> Response {
        if req.method != "POST" {
            return reject(
                405,
                "MethodNotAllowed",
                "The Logs Ingestion API takes POST.",
            );
        }
        match req.query("api-version").as_deref() {
            Some(INGESTION_API) => {}
            other => {
                return reject(
                    400,
                    "InvalidApiVersion",
                    format!(
                        "The api-version '{}' is not supported; use {INGESTION_API}.",
                        other.unwrap_or("")
                    ),
                )
            }
        }
        if req.body.len() > INGESTION_MAX {
            return reject(
                413,
                "ContentLengthLimitExceeded",
                format!(
                    "The request body is {} bytes; the limit is {INGESTION_MAX} bytes per call.",
                    req.body.len()
                ),
            );
        }
        let table = match stream.split_once('-') {
            Some((p, t)) if (p == "Custom" || p == "Microsoft") && !t.is_empty() => t.to_string(),
            _ => {
                return reject(
                    400,
                    "InvalidStream",
                    format!("Stream '{stream}' is not declared in the data collection rule (expected Custom-<Table> or Microsoft-<Table>)."),
                )
            }
        };
        let rows: Vec<Value> = match serde_json::from_slice(&req.body) {
            Ok(Value::Array(a)) => a,
            Ok(_) => {
                return reject(
                    400,
                    "InvalidPayload",
                    "The request body must be a JSON array of objects.",
                )
            }
            Err(e) => {
                return reject(
                    400,
                    "InvalidPayload",
                    format!("The request body is not valid JSON: {e}"),
                )
            }
        };
        if rows.iter().any(|r| !r.is_object()) {
            return reject(
                400,
                "InvalidPayload",
                "Every element of the array must be a JSON object.",
            );
        }
        let now = self.now_text();
        let mut guard = self.inner.lock().expect("emulator state lock");
        let Some(key) = guard
            .workspaces
            .iter()
            .find(|(_, w)| dcr_id(&w.guid) == dcr.to_ascii_lowercase())
            .map(|(k, _)| k.clone())
        else {
            return reject(
                404,
                "DataCollectionRuleNotFound",
                format!("The data collection rule '{dcr}' was not found (the emulator's are dcr-<workspace GUID without dashes>)."),
            );
        };
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|mut r| {
                if r.get("TimeGenerated").is_none_or(|t| t.is_null()) {
                    r["TimeGenerated"] = json!(now);
                }
                r
            })
            .collect();
        let ws = guard.workspaces.get_mut(&key).expect("found above");
        self.append_logs(ws, &table, rows);
        Response::empty(204)
    }

    /// Append rows to a workspace's log table and to its state folder.
    pub(super) fn append_logs(&self, ws: &mut Ws, table: &str, rows: Vec<Value>) {
        if let Some(dir) = self.dir(ws) {
            let p = dir
                .join("logs")
                .join(format!("{}.jsonl", super::file_name(table)));
            let _ = std::fs::create_dir_all(dir.join("logs"));
            let mut text = String::new();
            for r in &rows {
                text.push_str(&r.to_string());
                text.push('\n');
            }
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
            {
                let _ = f.write_all(text.as_bytes());
            }
        }
        ws.soc.append(table, rows);
    }

    fn persist_soc(&self, ws: &Ws) {
        let Some(dir) = self.dir(ws) else { return };
        let _ = super::write_atomic(
            &dir.join("soc.json"),
            &json!({
                "incidentSeq": ws.soc.incident_seq,
                "rules": ws.soc.rules,
                "incidents": ws.soc.incidents.values().collect::<Vec<_>>(),
                "alerts": ws.soc.alerts.values().collect::<Vec<_>>(),
            }),
        );
    }

    /// Run every rule run due up to `to`, in every workspace; returns the number of runs.
    pub(super) fn schedule(&self, inner: &mut Inner, to: i64) -> usize {
        let keys: Vec<String> = inner.workspaces.keys().cloned().collect();
        let mut total = 0;
        for key in keys {
            let ws = inner.workspaces.get_mut(&key).expect("listed");
            let rules: Vec<(String, Value)> = ws
                .resources
                .iter()
                .filter(|((k, _), v)| {
                    (*k == Kind::AlertRule
                        && matches!(v["kind"].as_str(), Some("Scheduled") | Some("NRT")))
                        || *k == Kind::MlSetting
                })
                .map(|((k, n), v)| {
                    // Anomaly settings run under their own key, before the rules of the same
                    // instant (rules over `Anomalies` read what the hour produced).
                    let key = if *k == Kind::MlSetting {
                        format!("{ML}{n}")
                    } else {
                        n.clone()
                    };
                    (key, v.clone())
                })
                .collect();
            let mut runs: Vec<(i64, u8, String)> = Vec::new();
            for (name, rule) in &rules {
                let p = &rule["properties"];
                let freq = if name.starts_with(ML) {
                    ticks_of(&p["frequency"]).unwrap_or(60 * MINUTE).max(MINUTE)
                } else if rule["kind"] == "NRT" {
                    MINUTE
                } else {
                    ticks_of(&p["queryFrequency"])
                        .unwrap_or(60 * MINUTE)
                        .max(MINUTE)
                };
                let created = p["lastModifiedUtc"]
                    .as_str()
                    .and_then(parse_datetime)
                    .unwrap_or(to);
                let st = ws
                    .soc
                    .rules
                    .entry(name.clone())
                    .or_insert_with(|| RuleState {
                        next: created,
                        ..RuleState::default()
                    });
                let mut t = st.next;
                let mut n = 0;
                while t <= to && n < MAX_RUNS {
                    if p["enabled"].as_bool() == Some(true) {
                        runs.push((t, u8::from(!name.starts_with(ML)), name.clone()));
                    }
                    t += freq;
                    n += 1;
                }
                st.next = t;
            }
            runs.sort();
            total += runs.len();
            for (at, _, name) in runs {
                match name.strip_prefix(ML) {
                    Some(setting) => self.run_anomaly(ws, setting, at),
                    None => self.run_rule(ws, &name, at),
                }
            }
            self.persist_soc(ws);
        }
        total
    }

    /// One run of an anomaly setting over the hour before `at` (`crate::anomaly` documents the
    /// scoring): `Anomalies` rows for the entities whose activity is far enough from their own
    /// baseline under the setting's thresholds and exclusions. A template vigil does not model
    /// produces nothing.
    fn run_anomaly(&self, ws: &mut Ws, name: &str, at: i64) {
        use crate::anomaly;
        let Some(setting) = ws
            .resources
            .get(&(Kind::MlSetting, name.to_string()))
            .cloned()
        else {
            return;
        };
        let p = &setting["properties"];
        let Some(t) = p["settingsDefinitionId"]
            .as_str()
            .and_then(anomaly::template)
        else {
            return;
        };
        let hour = 60 * MINUTE;
        let from = at - 337 * hour;
        let span = format!("{}/{}", format_datetime(from), format_datetime(at));
        let end = format_datetime(at);
        let req = super::query::QueryRequest {
            workspace: &ws.guid,
            query: t.events,
            timespan: Some(&span),
            now: Some(&end),
            logs: &ws.soc.logs,
        };
        let Ok(events) = self.opts.engine.run(&req) else {
            return;
        };
        let col = |n: &str| events.columns.iter().position(|c| c.0 == n);
        let (Some(tc), Some(ec)) = (col("TimeGenerated"), col("Entity")) else {
            return;
        };
        // entity → hourly counts: [0] the run's hour, [k] k hours before it.
        let mut counts: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for r in &events.rows {
            let (Some(ts), Some(e)) = (
                r.get(tc).and_then(|v| v.as_str()).and_then(parse_datetime),
                r.get(ec).and_then(|v| v.as_str()).filter(|e| !e.is_empty()),
            ) else {
                continue;
            };
            let k = ((at - 1 - ts) / hour) as usize;
            if ts < at && k <= 336 {
                counts
                    .entry(e.to_string())
                    .or_insert_with(|| vec![0.0; 337])[k] += 1.0;
            }
        }
        let obs = &p["customizableObservations"];
        let values = anomaly::thresholds(obs);
        let excluded = anomaly::excluded(obs, t.exclude_observation);
        let mut rows = Vec::new();
        for (entity, c) in &counts {
            if c[0] == 0.0 || excluded.contains(&entity.to_lowercase()) {
                continue;
            }
            let (score, mean, sd, z) = anomaly::score(c[0], &c[1..]);
            let passes = t.observations.iter().all(|o| {
                let field = if o.field == "Score" { score } else { c[0] };
                values
                    .iter()
                    .find(|v| v.0 == o.name)
                    .is_none_or(|v| anomaly::holds(o.cmp, field, v.3))
            });
            if !passes {
                continue;
            }
            rows.push(json!({
                "TimeGenerated": end,
                "Id": crate::clock::guid_of(&format!("{}/{name}/{entity}/{end}", ws.guid)),
                "WorkspaceId": ws.guid,
                "VendorName": "Microsoft",
                "AnomalyTemplateId": t.id,
                "AnomalyTemplateName": t.name,
                "AnomalyTemplateVersion": p["anomalyVersion"],
                "RuleId": setting["id"],
                "RuleName": p["displayName"],
                "RuleStatus": p["settingsStatus"],
                "RuleConfigVersion": p["anomalySettingsVersion"],
                "Description": p["description"],
                "Score": (score * 10_000.0).round() / 10_000.0,
                "StartTime": format_datetime(at - hour),
                "EndTime": end,
                "UserName": entity,
                "Tactics": p["tactics"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(",")),
                "Techniques": p["techniques"].as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(",")),
                "AnomalyReasons": [{"Name": "Count", "Value": c[0], "BaselineMean": mean, "BaselineStdDev": sd, "ZScore": z}],
                "AnomalyDetails": {"Count": c[0], "BaselineMean": mean, "BaselineStdDev": sd, "ZScore": z},
                "Entities": [{"Type": t.entity_type, "Name": entity}],
                "Type": "Anomalies",
            }));
        }
        if !rows.is_empty() {
            self.append_logs(ws, "Anomalies", rows);
        }
    }

    /// One scheduled run of a rule at `at`: health row, alerts, incidents, auto-disable.
    fn run_rule(&self, ws: &mut Ws, name: &str, at: i64) {
        let Some(rule) = ws
            .resources
            .get(&(Kind::AlertRule, name.to_string()))
            .cloned()
        else {
            return;
        };
        let p = &rule["properties"];
        if p["enabled"].as_bool() != Some(true) {
            return; // disabled by an earlier run of this advance
        }
        let kind = rule["kind"].as_str().unwrap_or("Scheduled").to_string();
        let rule_name = rule["name"].as_str().unwrap_or(name).to_string();
        let rule_id = rule["id"].as_str().unwrap_or_default().to_string();
        let period = if kind == "NRT" {
            MINUTE
        } else {
            ticks_of(&p["queryPeriod"]).unwrap_or(60 * MINUTE)
        };
        let end = format_datetime(at);
        let start = format_datetime(at - period);
        let result = self
            .opts
            .engine
            .run_rule(&ws.guid, &kind, p, &end, &ws.soc.logs);
        let display = p["displayName"].as_str().unwrap_or_default().to_string();
        let guid = ws.guid.clone();
        let mut ext = json!({
            "RuleId": rule_name,
            "TriggerType": if kind == "NRT" { "NrtRun" } else { "Scheduled" },
            "QueryStartTimeUTC": start,
            "QueryEndTimeUTC": end,
            "QueryFrequency": p["queryFrequency"],
            "QueryPeriod": p["queryPeriod"],
            "TriggerOperator": p["triggerOperator"],
            "TriggerThreshold": p["triggerThreshold"],
            "SuppressionEnabled": if p["suppressionEnabled"].as_bool() == Some(true) { "True" } else { "False" },
        });
        let health = |status: &str, description: String, reason: &str, ext: Value| {
            json!({
                "TimeGenerated": end,
                "WorkspaceId": guid,
                "OperationName": if kind == "NRT" { "NRT analytics rule run" } else { "Scheduled analytics rule run" },
                "SentinelResourceId": rule_id,
                "SentinelResourceName": display,
                "SentinelResourceType": "Analytics Rule",
                "SentinelResourceKind": kind,
                "Status": status,
                "Description": description,
                "Reason": reason,
                "RecordId": crate::clock::guid_of(&format!("{rule_id}/{end}")),
                "ExtendedProperties": ext,
                "Type": "SentinelHealth",
            })
        };
        match result {
            Err(message) => {
                let failures = {
                    let st = ws.soc.rules.entry(name.to_string()).or_default();
                    st.failures += 1;
                    st.failures
                };
                let disable = failures >= self.opts.auto_disable_after;
                let row = if disable {
                    health(
                        "Failure",
                        format!(
                            "The analytics rule failed to run: {message}. The rule was disabled automatically after {failures} consecutive failed runs."
                        ),
                        "Rule auto-disabled",
                        ext,
                    )
                } else {
                    health(
                        "Failure",
                        format!("The analytics rule failed to run: {message}"),
                        "Query failed",
                        ext,
                    )
                };
                self.append_logs(ws, "SentinelHealth", vec![row]);
                if disable {
                    self.auto_disable(ws, name, &message, at);
                }
            }
            Ok(run) => {
                ws.soc.rules.entry(name.to_string()).or_default().failures = 0;
                let silent = ws
                    .soc
                    .rules
                    .get(name)
                    .map(|s| s.silent_until)
                    .unwrap_or(i64::MIN);
                let suppressed = !run.alerts.is_empty() && at < silent;
                let alerts = if suppressed { Vec::new() } else { run.alerts };
                if !alerts.is_empty() && p["suppressionEnabled"].as_bool() == Some(true) {
                    let d = ticks_of(&p["suppressionDuration"]).unwrap_or(0);
                    ws.soc
                        .rules
                        .entry(name.to_string())
                        .or_default()
                        .silent_until = at + d;
                }
                ext["QueryResultAmount"] = json!(run.rows);
                ext["AlertsGeneratedAmount"] = json!(alerts.len());
                let row = health(
                    "Success",
                    if suppressed {
                        "The analytics rule ran; its alerts were suppressed.".into()
                    } else {
                        "The analytics rule ran successfully.".into()
                    },
                    "",
                    ext,
                );
                self.append_logs(ws, "SentinelHealth", vec![row]);
                for a in alerts {
                    self.raise(ws, &rule, a, &start, &end, run.rows, at);
                }
            }
        }
    }

    /// Disable a rule whose query keeps failing, as Sentinel shows it.
    fn auto_disable(&self, ws: &mut Ws, name: &str, message: &str, at: i64) {
        let now = format_datetime(at);
        let etag = format!(
            "\"{}\"",
            crate::clock::guid_of(&format!("auto-disable-{name}-{now}"))
        );
        if let Some(r) = ws.resources.get_mut(&(Kind::AlertRule, name.to_string())) {
            let p = &mut r["properties"];
            p["enabled"] = json!(false);
            let dn = p["displayName"].as_str().unwrap_or_default().to_string();
            if !dn.starts_with("AUTO DISABLED") {
                p["displayName"] = json!(format!("AUTO DISABLED {dn}"));
            }
            let desc = p["description"].as_str().unwrap_or_default().to_string();
            p["description"] = json!(format!(
                "{desc}\n\nThe rule was disabled automatically after {} consecutive failed runs: {message}",
                self.opts.auto_disable_after
            ));
            p["lastModifiedUtc"] = json!(now);
            r["etag"] = json!(etag);
        }
        self.persist(ws, Kind::AlertRule, name);
    }

    /// An alert in `SecurityAlert` and, per the rule's incident settings, in an incident.
    #[allow(clippy::too_many_arguments)]
    fn raise(
        &self,
        ws: &mut Ws,
        rule: &Value,
        a: RaisedAlert,
        start: &str,
        end: &str,
        results: usize,
        at: i64,
    ) {
        let p = &rule["properties"];
        let rule_name = rule["name"].as_str().unwrap_or_default().to_string();
        let seq = ws.soc.alerts.len();
        let alert_id = crate::clock::guid_of(&format!("{}/{rule_name}/{end}/{seq}", ws.guid));
        // SecurityAlert's Tactics and Techniques are comma-separated strings.
        let joined = |k: &str| {
            p[k].as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default()
        };
        let (tactics, techniques) = (joined("tactics"), joined("techniques"));
        let ext = json!({
            "Query": p["query"],
            "Query Period": p["queryPeriod"],
            "Trigger Operator": p["triggerOperator"],
            "Trigger Threshold": p["triggerThreshold"].to_string(),
            "Search Query Results Overall Count": results.to_string(),
            "Query Start Time UTC": start,
            "Query End Time UTC": end,
            "Analytic Rule Ids": json!([rule_name]).to_string(),
            "Analytic Rule Name": p["displayName"],
            "Event Grouping": p["eventGroupingSettings"]["aggregationKind"].as_str().unwrap_or("SingleAlert"),
            "ProcessedBySentinel": "True",
            "Alert generation status": "Full alert created",
            "Custom Details": Value::Object(a.custom_details.clone()).to_string(),
        });
        let row = json!({
            "TimeGenerated": end,
            "DisplayName": a.display_name,
            "AlertName": a.display_name,
            "AlertSeverity": a.severity,
            "Description": a.description,
            "ProviderName": "ASI Scheduled Alerts",
            "VendorName": "Microsoft",
            "ProductName": "Azure Sentinel",
            "ProductComponentName": "Scheduled Alerts",
            "SystemAlertId": alert_id,
            "VendorOriginalId": alert_id,
            "StartTime": start,
            "EndTime": end,
            "ProcessingEndTime": end,
            "Status": "New",
            "IsIncident": false,
            "ConfidenceLevel": "Unknown",
            "Entities": Value::Array(a.entities.clone()).to_string(),
            "ExtendedProperties": ext.to_string(),
            "Tactics": tactics,
            "Techniques": techniques,
            "WorkspaceSubscriptionId": ws.sub,
            "WorkspaceResourceGroup": ws.rg,
            "Type": "SecurityAlert",
        });
        self.append_logs(ws, "SecurityAlert", vec![row]);
        ws.soc.alerts.insert(
            alert_id.clone(),
            json!({
                "id": format!("{}/providers/Microsoft.SecurityInsights/entities/{alert_id}", ws.base_id()),
                "name": alert_id,
                "type": "Microsoft.SecurityInsights/Entities",
                "kind": "SecurityAlert",
                "properties": {
                    "alertDisplayName": a.display_name,
                    "alertType": format!("{}_{}", ws.guid, rule_name),
                    "productName": "Azure Sentinel",
                    "productComponentName": "Scheduled Alerts",
                    "providerAlertId": alert_id,
                    "systemAlertId": alert_id,
                    "severity": a.severity,
                    "status": "New",
                    "startTimeUtc": start,
                    "endTimeUtc": end,
                    "timeGenerated": end,
                    "tactics": p["tactics"],
                    "techniques": p["techniques"],
                    "vendorName": "Microsoft",
                    "friendlyName": a.display_name,
                    "additionalData": {"Query": p["query"], "Analytic Rule Ids": json!([rule_name]).to_string()},
                }
            }),
        );
        let ic = &p["incidentConfiguration"];
        if ic["createIncident"].as_bool() != Some(true) {
            return;
        }
        let g = &ic["groupingConfiguration"];
        let group_key = grouping_key(g, &a);
        let mut target: Option<String> = None;
        if g["enabled"].as_bool() == Some(true) {
            let lookback = ticks_of(&g["lookbackDuration"]).unwrap_or(5 * 60 * MINUTE);
            let reopen = g["reopenClosedIncident"].as_bool() == Some(true);
            let mine: Vec<(&String, &Value)> = ws
                .soc
                .incidents
                .iter()
                .filter(|(_, i)| {
                    i["properties"]["relatedAnalyticRuleIds"]
                        .as_array()
                        .is_some_and(|ids| {
                            ids.iter().any(|x| {
                                x.as_str() == Some(rule["id"].as_str().unwrap_or_default())
                            })
                        })
                })
                .filter(|(_, i)| {
                    i["properties"]["createdTimeUtc"]
                        .as_str()
                        .and_then(parse_datetime)
                        .is_some_and(|c| c >= at - lookback)
                })
                .filter(|(_, i)| reopen || i["properties"]["status"] != "Closed")
                .filter(|(_, i)| i["properties"]["vigilGroupKey"] == json!(group_key))
                .collect();
            target = mine
                .iter()
                .max_by_key(|(_, i)| i["properties"]["incidentNumber"].as_i64())
                .map(|(k, _)| (*k).clone());
        }
        let now = format_datetime(at);
        match target {
            Some(k) => {
                let inc = ws.soc.incidents.get_mut(&k).expect("found");
                let pr = &mut inc["properties"];
                if pr["status"] == "Closed" {
                    pr["status"] = json!("Active");
                    pr["classification"] = Value::Null;
                    pr["classificationReason"] = Value::Null;
                }
                let mut ids = pr["vigilAlertIds"].as_array().cloned().unwrap_or_default();
                ids.push(json!(alert_id));
                pr["additionalData"]["alertsCount"] = json!(ids.len());
                pr["vigilAlertIds"] = Value::Array(ids);
                pr["lastActivityTimeUtc"] = json!(end);
                pr["lastModifiedTimeUtc"] = json!(now);
                let name = k.clone();
                self.incident_version(ws, &name, "Alert grouping");
            }
            None => {
                ws.soc.incident_seq += 1;
                let number = ws.soc.incident_seq;
                let name = crate::clock::guid_of(&format!("{}/incident/{number}", ws.guid));
                let inc = json!({
                    "id": format!("{}/providers/Microsoft.SecurityInsights/Incidents/{name}", ws.base_id()),
                    "name": name,
                    "type": "Microsoft.SecurityInsights/Incidents",
                    "etag": format!("\"{}\"", crate::clock::guid_of(&format!("{name}/1"))),
                    "properties": {
                        "title": a.display_name,
                        "description": a.description,
                        "severity": a.severity,
                        "status": "New",
                        "classification": Value::Null,
                        "classificationReason": Value::Null,
                        "classificationComment": Value::Null,
                        "owner": {"objectId": Value::Null, "email": Value::Null, "assignedTo": Value::Null, "userPrincipalName": Value::Null},
                        "labels": [],
                        "firstActivityTimeUtc": start,
                        "lastActivityTimeUtc": end,
                        "createdTimeUtc": now,
                        "lastModifiedTimeUtc": now,
                        "incidentNumber": number,
                        "incidentUrl": format!("https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident{}/providers/Microsoft.SecurityInsights/Incidents/{name}", ws.base_id()),
                        "providerName": "Azure Sentinel",
                        "providerIncidentId": number.to_string(),
                        "relatedAnalyticRuleIds": [rule["id"]],
                        "additionalData": {"alertsCount": 1, "bookmarksCount": 0, "commentsCount": 0, "alertProductNames": ["Azure Sentinel"], "tactics": p["tactics"]},
                        "vigilAlertIds": [alert_id],
                        "vigilGroupKey": group_key,
                    }
                });
                ws.soc.incidents.insert(name.to_ascii_lowercase(), inc);
                self.incident_version(ws, &name.to_ascii_lowercase(), "Alert");
            }
        }
    }

    /// Write the incident's current state as a `SecurityIncident` row.
    fn incident_version(&self, ws: &mut Ws, key: &str, modified_by: &str) {
        let Some(inc) = ws.soc.incidents.get(key) else {
            return;
        };
        let p = &inc["properties"];
        let rule_ids: Vec<Value> = p["relatedAnalyticRuleIds"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .map(|x| json!(x.rsplit('/').next().unwrap_or(x)))
                    .collect()
            })
            .unwrap_or_default();
        let closed = p["status"] == "Closed";
        let row = json!({
            "TimeGenerated": p["lastModifiedTimeUtc"],
            "IncidentName": inc["name"],
            "IncidentNumber": p["incidentNumber"],
            "IncidentUrl": p["incidentUrl"],
            "Title": p["title"],
            "Description": p["description"],
            "Severity": p["severity"],
            "Status": p["status"],
            "Classification": p["classification"].as_str().unwrap_or(""),
            "ClassificationReason": p["classificationReason"].as_str().unwrap_or(""),
            "ClassificationComment": p["classificationComment"].as_str().unwrap_or(""),
            "Owner": p["owner"],
            "CreatedTime": p["createdTimeUtc"],
            "FirstModifiedTime": p["createdTimeUtc"],
            "LastModifiedTime": p["lastModifiedTimeUtc"],
            "ClosedTime": if closed { p["lastModifiedTimeUtc"].clone() } else { Value::Null },
            "FirstActivityTime": p["firstActivityTimeUtc"],
            "LastActivityTime": p["lastActivityTimeUtc"],
            "ModifiedBy": modified_by,
            "ProviderName": p["providerName"],
            "ProviderIncidentId": p["providerIncidentId"],
            "RelatedAnalyticRuleIds": rule_ids,
            "AlertIds": p["vigilAlertIds"],
            "BookmarkIds": [],
            "Labels": p["labels"],
            "Comments": [],
            "Tasks": [],
            "AdditionalData": p["additionalData"],
            "Type": "SecurityIncident",
        });
        self.append_logs(ws, "SecurityIncident", vec![row]);
    }

    /// The incidents REST API under a workspace: `rest` is what follows `.../incidents`.
    pub(super) fn incidents(&self, req: &Request, key: &str, rest: &[&str]) -> Response {
        let api = req.query("api-version").unwrap_or_default();
        if !INCIDENT_APIS.contains(&api.as_str()) {
            return reject(
                400,
                "InvalidApiVersionParameter",
                format!("The api-version '{api}' is invalid for incidents. The supported versions are '{}'.", INCIDENT_APIS.join(",")),
            );
        }
        let mut guard = self.inner.lock().expect("emulator state lock");
        let Some(ws) = guard.workspaces.get_mut(key) else {
            return reject(404, "ResourceNotFound", "The workspace was not found.");
        };
        match (req.method.as_str(), rest) {
            ("GET", []) => {
                let top = req
                    .query("$top")
                    .and_then(|t| t.parse::<usize>().ok())
                    .unwrap_or(50)
                    .clamp(1, 1000);
                let skip: usize = req
                    .query("$skipToken")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
                let mut all: Vec<&Value> = ws.soc.incidents.values().collect();
                all.sort_by_key(|i| i["properties"]["incidentNumber"].as_i64());
                let end = (skip + top).min(all.len());
                let page: Vec<Value> = all
                    .get(skip..end)
                    .unwrap_or(&[])
                    .iter()
                    .map(|v| served(v))
                    .collect();
                let mut body = json!({"value": page});
                if end < all.len() {
                    body["nextLink"] = json!(format!(
                        "{}{}?api-version={api}&$top={top}&$skipToken={end}",
                        super::host(req),
                        req.path()
                    ));
                }
                Response::json(200, &body)
            }
            ("GET", [id]) => match ws.soc.incidents.get(&id.to_ascii_lowercase()) {
                Some(i) => Response::json(200, &served(i)),
                None => super::not_found(&format!("Incident '{id}'")),
            },
            ("DELETE", [id]) => match ws.soc.incidents.remove(&id.to_ascii_lowercase()) {
                Some(_) => {
                    self.persist_soc(ws);
                    Response::empty(200)
                }
                None => Response::empty(204),
            },
            ("POST", [id, a]) if a.eq_ignore_ascii_case("alerts") => {
                match ws.soc.incidents.get(&id.to_ascii_lowercase()) {
                    Some(i) => {
                        let alerts: Vec<Value> = i["properties"]["vigilAlertIds"]
                            .as_array()
                            .map(|ids| {
                                ids.iter()
                                    .filter_map(|x| x.as_str())
                                    .filter_map(|x| ws.soc.alerts.get(x))
                                    .map(served)
                                    .collect()
                            })
                            .unwrap_or_default();
                        Response::json(200, &json!({"value": alerts}))
                    }
                    None => super::not_found(&format!("Incident '{id}'")),
                }
            }
            ("PUT", [id]) => self.put_incident(req, ws, id),
            _ => reject(
                405,
                "MethodNotAllowed",
                format!("{} is not supported on {}", req.method, req.path()),
            ),
        }
    }

    fn put_incident(&self, req: &Request, ws: &mut Ws, id: &str) -> Response {
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return reject(
                    400,
                    "BadRequest",
                    format!("The request content is not valid JSON: {e}"),
                )
            }
        };
        let k = id.to_ascii_lowercase();
        let existing = ws.soc.incidents.get(&k).cloned();
        if let (Some(etag), Some(e)) = (body.get("etag").and_then(|e| e.as_str()), &existing) {
            if etag != "*" && e["etag"].as_str() != Some(etag) {
                return reject(
                    409,
                    "Conflict",
                    format!("The etag {etag} does not match the current etag of incident '{id}'."),
                );
            }
        }
        let Some(p) = body["properties"].as_object() else {
            return reject(400, "BadRequest", "The request must have 'properties'.");
        };
        let text = |k: &str| p.get(k).and_then(|v| v.as_str());
        for (k, allowed) in [
            ("severity", &["High", "Medium", "Low", "Informational"][..]),
            ("status", &["New", "Active", "Closed"][..]),
        ] {
            match text(k) {
                Some(v) if allowed.contains(&v) => {}
                Some(v) => {
                    return reject(
                        400,
                        "BadRequest",
                        format!(
                            "Property '{k}' has an invalid value '{v}'; allowed: {}.",
                            allowed.join(", ")
                        ),
                    )
                }
                None => return reject(400, "BadRequest", format!("Property '{k}' is required.")),
            }
        }
        if text("title").is_none_or(|t| t.trim().is_empty()) {
            return reject(400, "BadRequest", "Property 'title' is required.");
        }
        for (k, ok) in [
            (
                "classification",
                &[
                    "Undetermined",
                    "TruePositive",
                    "BenignPositive",
                    "FalsePositive",
                ][..],
            ),
            (
                "classificationReason",
                &[
                    "SuspiciousActivity",
                    "SuspiciousButExpected",
                    "IncorrectAlertLogic",
                    "InaccurateData",
                ][..],
            ),
        ] {
            if let Some(c) = p.get(k).filter(|v| !v.is_null()) {
                if !c.as_str().is_some_and(|c| ok.contains(&c)) {
                    return reject(
                        400,
                        "BadRequest",
                        format!(
                            "Property '{k}' has an invalid value {c}; allowed: {}.",
                            ok.join(", ")
                        ),
                    );
                }
            }
        }
        if text("status") == Some("Closed") && p.get("classification").is_none_or(|c| c.is_null()) {
            return reject(
                400,
                "BadRequest",
                "A closed incident needs a classification.",
            );
        }
        let now = self.now_text();
        let created = existing.is_none();
        let mut inc = existing.unwrap_or_else(|| {
            ws.soc.incident_seq += 1;
            let number = ws.soc.incident_seq;
            json!({
                "id": format!("{}/providers/Microsoft.SecurityInsights/Incidents/{id}", ws.base_id()),
                "name": id,
                "type": "Microsoft.SecurityInsights/Incidents",
                "properties": {
                    "createdTimeUtc": now,
                    "incidentNumber": number,
                    "incidentUrl": format!("https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident{}/providers/Microsoft.SecurityInsights/Incidents/{id}", ws.base_id()),
                    "providerName": "Azure Sentinel",
                    "providerIncidentId": number.to_string(),
                    "relatedAnalyticRuleIds": [],
                    "additionalData": {"alertsCount": 0, "bookmarksCount": 0, "commentsCount": 0, "alertProductNames": [], "tactics": []},
                    "vigilAlertIds": [],
                    "labels": [],
                }
            })
        });
        let read_only = [
            "createdTimeUtc",
            "lastModifiedTimeUtc",
            "incidentNumber",
            "incidentUrl",
            "providerName",
            "providerIncidentId",
            "relatedAnalyticRuleIds",
            "additionalData",
        ];
        let mut props: Map<String, Value> =
            inc["properties"].as_object().cloned().unwrap_or_default();
        for (k, v) in p {
            if !read_only.contains(&k.as_str()) && !k.starts_with("vigil") {
                props.insert(k.clone(), v.clone());
            }
        }
        if props.get("status").and_then(|s| s.as_str()) != Some("Closed") {
            for k in [
                "classification",
                "classificationReason",
                "classificationComment",
            ] {
                props.insert(k.into(), Value::Null);
            }
        }
        props.insert("lastModifiedTimeUtc".into(), json!(now));
        inc["properties"] = Value::Object(props);
        inc["etag"] = json!(format!(
            "\"{}\"",
            crate::clock::guid_of(&format!("{id}/{now}/{}", ws.soc.incident_seq))
        ));
        ws.soc.incidents.insert(k.clone(), inc.clone());
        self.incident_version(ws, &k, "vigil-emulator analyst (REST API)");
        self.persist_soc(ws);
        Response::json(if created { 201 } else { 200 }, &served(&inc))
    }
}

/// What alerts must share to be grouped into one incident: nothing (`AnyAlert`), every entity
/// (`AllEntities`), or the selected entity types, alert details and custom details (`Selected`).
fn grouping_key(g: &Value, a: &RaisedAlert) -> String {
    let mut ents: Vec<String> = match g["matchingMethod"].as_str().unwrap_or("AllEntities") {
        "AnyAlert" => return String::new(),
        "Selected" => {
            let types: Vec<String> = g["groupByEntities"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|x| x.as_str())
                        .map(|x| x.to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default();
            a.entities
                .iter()
                .filter(|e| {
                    e["type"]
                        .as_str()
                        .is_some_and(|t| types.contains(&t.to_ascii_lowercase()))
                })
                .map(|e| e.to_string())
                .collect()
        }
        _ => a.entities.iter().map(|e| e.to_string()).collect(),
    };
    ents.sort();
    let mut key = ents.join("|");
    for d in g["groupByAlertDetails"].as_array().into_iter().flatten() {
        match d.as_str() {
            Some("DisplayName") => key.push_str(&format!("|name={}", a.display_name)),
            Some("Severity") => key.push_str(&format!("|severity={}", a.severity)),
            _ => {}
        }
    }
    for c in g["groupByCustomDetails"].as_array().into_iter().flatten() {
        if let Some(c) = c.as_str() {
            key.push_str(&format!(
                "|{c}={}",
                a.custom_details.get(c).unwrap_or(&Value::Null)
            ));
        }
    }
    key
}

/// An incident or alert as the API serves it (the emulator's own bookkeeping fields removed).
fn served(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(p) = v["properties"].as_object_mut() {
        p.retain(|k, _| !k.starts_with("vigil"));
    }
    v
}

/// Read a workspace's SOC state from its folder (logs, incidents, scheduler).
pub(super) fn load(dir: &std::path::Path, ws: &mut Ws) {
    if let Ok(files) = std::fs::read_dir(dir.join("logs")) {
        let mut files: Vec<_> = files.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let Some(table) = f.file_stem().and_then(|s| s.to_str()).map(String::from) else {
                continue;
            };
            let rows: Vec<Value> = std::fs::read_to_string(&f)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            ws.soc.append(&table, rows);
        }
    }
    let soc: Value = std::fs::read(dir.join("soc.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    ws.soc.incident_seq = soc["incidentSeq"].as_i64().unwrap_or(0);
    if let Ok(r) = serde_json::from_value(soc["rules"].clone()) {
        ws.soc.rules = r;
    }
    for i in soc["incidents"].as_array().into_iter().flatten() {
        if let Some(n) = i["name"].as_str() {
            ws.soc.incidents.insert(n.to_ascii_lowercase(), i.clone());
        }
    }
    for a in soc["alerts"].as_array().into_iter().flatten() {
        if let Some(n) = a["name"].as_str() {
            ws.soc.alerts.insert(n.to_string(), a.clone());
        }
    }
}
