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
