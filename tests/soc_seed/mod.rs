//! Seeding the emulator's SOC tables at scale (the outcomes test and bench): N rules in a
//! repository, and M incidents with their alerts and health rows sent through the Logs
//! Ingestion API, with figures a test can work out from the seeding rule:
//! incident i belongs to rule i % N (k = i / N is its number within the rule); k % 4 == 0 is
//! closed TruePositive, 1 FalsePositive, 2 BenignPositive, 3 left New; each incident has one
//! alert whose entity is `user{k % 7}`; each rule has one health row per incident, failed when
//! k % 10 == 9.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{json, Value};

/// One HTTP/1.1 request; (status, JSON body or Null).
pub fn http(url: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text[9..12].parse().unwrap();
    let (_, rest) = text.split_once("\r\n\r\n").unwrap_or(("", ""));
    (status, serde_json::from_str(rest).unwrap_or(Value::Null))
}

/// Send rows through the Logs Ingestion API in calls under 1 MB.
pub fn ingest(url: &str, dcr: &str, stream: &str, rows: &[Value]) {
    let mut batch: Vec<Value> = Vec::new();
    let mut size = 2;
    let path = format!("/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01");
    for r in rows {
        let n = r.to_string().len() + 1;
        if size + n > 900_000 {
            let (st, b) = http(
                url,
                "POST",
                &path,
                Some(&Value::Array(std::mem::take(&mut batch))),
            );
            assert_eq!(st, 204, "{b}");
            size = 2;
        }
        size += n;
        batch.push(r.clone());
    }
    if !batch.is_empty() {
        let (st, b) = http(url, "POST", &path, Some(&Value::Array(batch)));
        assert_eq!(st, 204, "{b}");
    }
}

pub fn rule_id(r: usize) -> String {
    format!("00000000-0000-4000-9000-{r:012}")
}

pub const QUERY: &str =
    "SigninLogs | where ResultType != \"0\" | project TimeGenerated, UserPrincipalName";

/// A Scheduled rule file of the seeded repository.
pub fn rule_yaml(r: usize) -> String {
    format!(
        "id: {}\nname: Seeded rule {r}\ndescription: Seeded rule {r}.\nseverity: Medium\nkind: Scheduled\nrequiredDataConnectors: []\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\ntactics: [CredentialAccess]\nrelevantTechniques: [T1110]\nquery: |\n  {QUERY} | extend Seed = {r}\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: UserPrincipalName\n",
        rule_id(r)
    )
}

/// The compiled query of seeded rule `r` (what its alerts record).
pub fn rule_query(r: usize) -> String {
    format!("{QUERY} | extend Seed = {r}\n")
}

/// (SecurityIncident, SecurityAlert, SentinelHealth) rows for `rules` rules and `incidents`
/// incidents, all inside the day before `now` (RFC 3339 minutes are enough).
pub fn rows(rules: usize, incidents: usize, day: &str) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let (mut inc, mut al, mut he) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..incidents {
        let r = i % rules;
        let k = i / rules;
        let rid = rule_id(r);
        let alert = format!("a-{i}");
        let minute = i % 600;
        let created = format!("{day}T{:02}:{:02}:00Z", minute / 60, minute % 60);
        let closed = format!("{day}T{:02}:{:02}:00Z", minute / 60 + 12, minute % 60);
        let (status, class, reason) = match k % 4 {
            0 => ("Closed", "TruePositive", "SuspiciousActivity"),
            1 => ("Closed", "FalsePositive", "IncorrectAlertLogic"),
            2 => ("Closed", "BenignPositive", "SuspiciousButExpected"),
            _ => ("New", "", ""),
        };
        // Two versions of each incident: the first New, the latest as classified.
        inc.push(json!({"TimeGenerated": created, "IncidentNumber": i + 1, "IncidentName": format!("inc-{i}"), "Title": format!("Seeded rule {r}"), "Severity": "Medium", "Status": "New", "Classification": "", "CreatedTime": created, "LastModifiedTime": created, "RelatedAnalyticRuleIds": [rid], "AlertIds": [alert]}));
        if status == "Closed" {
            inc.push(json!({"TimeGenerated": closed, "IncidentNumber": i + 1, "IncidentName": format!("inc-{i}"), "Title": format!("Seeded rule {r}"), "Severity": "Medium", "Status": status, "Classification": class, "ClassificationReason": reason, "CreatedTime": created, "LastModifiedTime": closed, "ClosedTime": closed, "RelatedAnalyticRuleIds": [format!("/subscriptions/x/resourceGroups/y/providers/Microsoft.OperationalInsights/workspaces/z/providers/Microsoft.SecurityInsights/alertRules/{rid}")], "AlertIds": [alert]}));
        }
        al.push(json!({"TimeGenerated": created, "SystemAlertId": alert, "ProductName": "Azure Sentinel", "ProviderName": "ASI Scheduled Alerts", "AlertName": format!("Seeded rule {r}"),
            "ExtendedProperties": json!({"Query": rule_query(r), "Analytic Rule Ids": json!([rid]).to_string()}).to_string(),
            "Entities": json!([{"type": "account", "FullName": format!("user{}@contoso.com", k % 7)}]).to_string()}));
        he.push(json!({"TimeGenerated": created, "SentinelResourceType": "Analytics Rule", "SentinelResourceId": format!("/x/alertRules/{rid}"), "Status": if k % 10 == 9 { "Failure" } else { "Success" }, "Description": "", "Reason": "", "ExtendedProperties": {"RuleId": rid}, "OperationName": "Scheduled analytics rule run"}));
    }
    (inc, al, he)
}

/// The emulator's local workspace (the `local` environment's default).
pub const SUB: &str = "00000000-0000-0000-0000-000000000000";
pub const RG: &str = "vigil-local";
pub const WS: &str = "local";

/// The emulator on a virtual clock starting at `t0`, answering from an empty sandbox plus
/// what is ingested (`state`: a state folder, or memory).
pub fn start_on_clock(t0: &str, state: Option<std::path::PathBuf>) -> vigil::emulator::Emulator {
    vigil::emulator::start(
        "127.0.0.1:0",
        vigil::emulator::Options {
            state,
            lro_delay: std::time::Duration::from_millis(10),
            engine: std::sync::Arc::new(vigil::sandbox::SandboxEngine::new(
                vigil::engine::Sandbox::default(),
                0,
            )),
            clock: Some(t0.into()),
            ..vigil::emulator::Options::default()
        },
    )
    .unwrap()
}

/// The local workspace's ARM path.
pub fn ws_path() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.OperationalInsights/workspaces/{WS}")
}

/// Hour `h` after `t0`, minus 30 minutes (inside the hourly run that ends at `t0` + h).
pub fn hour_after(t0: &str, h: i64) -> String {
    let t = vigil::datetime::parse_datetime(t0).unwrap() + h * vigil::datetime::HOUR
        - 30 * vigil::datetime::MINUTE;
    vigil::datetime::format_datetime(t)
}

/// The local workspace's incidents through the REST API.
pub fn incidents(url: &str) -> Vec<Value> {
    let (st, all) = http(
        url,
        "GET",
        &format!(
            "{}/providers/Microsoft.SecurityInsights/incidents?api-version=2025-09-01",
            ws_path()
        ),
        None,
    );
    assert_eq!(st, 200, "{all}");
    all["value"].as_array().unwrap().clone()
}

/// Close incidents by number as an analyst does (PUT with the etag), each with its
/// classification and a matching reason.
pub fn close(url: &str, closing: &[(i64, &str)]) {
    let all = incidents(url);
    for &(n, class) in closing {
        let inc = all
            .iter()
            .find(|i| i["properties"]["incidentNumber"] == n)
            .unwrap_or_else(|| panic!("incident {n}: {all:#?}"));
        let mut body =
            json!({"properties": inc["properties"].clone(), "etag": inc["etag"].clone()});
        body["properties"]["status"] = json!("Closed");
        body["properties"]["classification"] = json!(class);
        body["properties"]["classificationReason"] = json!(match class {
            "TruePositive" => "SuspiciousActivity",
            "BenignPositive" => "SuspiciousButExpected",
            _ => "IncorrectAlertLogic",
        });
        let (st, b) = http(
            url,
            "PUT",
            &format!(
                "{}/providers/Microsoft.SecurityInsights/incidents/{}?api-version=2025-09-01",
                ws_path(),
                inc["name"].as_str().unwrap()
            ),
            Some(&body),
        );
        assert_eq!(st, 200, "{b}");
        assert_eq!(b["properties"]["status"], "Closed");
    }
}
