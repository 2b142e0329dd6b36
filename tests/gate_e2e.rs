//! The PR gate and the release end to end, with the commands the workflows run: a temporary git
//! repository, the real binary, the emulator in-process (`VIGIL_EMULATOR`, its query API
//! answering from the repository's sandbox through the embedded engine) with two emulated
//! environments (staging and prod), and a GitHub API server on loopback.

mod deploy_support;
#[path = "soc_seed/mod.rs"]
mod soc_seed;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

use deploy_support::{text, Repo};
use serde_json::{json, Value};

/// A GitHub REST API for `o/r` pull request #5 at `head`, with `reviews`.
fn github(head: &str, base: &str, reviews: Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let pull = json!({
        "number": 5,
        "user": { "login": "drafter" },
        "head": { "sha": head, "ref": "feature" },
        "base": { "sha": base, "ref": "main" },
    });
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, text) = if path == "/repos/o/r/pulls/5" {
                (200, pull.to_string())
            } else if path.starts_with("/repos/o/r/pulls/5/reviews") {
                if path.contains("page=1") {
                    (200, reviews.to_string())
                } else {
                    (200, "[]".to_string())
                }
            } else {
                (404, r#"{"message":"Not Found"}"#.to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    url
}

fn approval(login: &str, commit: &str) -> Value {
    json!({ "user": { "login": login }, "state": "APPROVED", "commit_id": commit,
            "submitted_at": "2026-10-03T09:12:00Z", "author_association": "MEMBER" })
}

const CONFIG: &str = r#"[project]
id = "e2e"

[[environments.staging.workspaces]]
name = "ws-staging"
subscription = "00000000-0000-0000-0000-000000000001"
resource_group = "rg"

[[environments.prod.workspaces]]
name = "ws-prod"
subscription = "00000000-0000-0000-0000-000000000001"
resource_group = "rg"

[environments.staging]
endpoint = "emulator"
auth = "none"

[environments.prod]
endpoint = "emulator"
auth = "none"

[sandbox]
data = "sandbox"
now = "2026-01-08T00:00:00Z"
days = 7
alert_budget_per_day = 10

[policy]
models = ["gpt-5*"]

[policy.review]
reviewers = ["alice"]

[policy.rollout]
min_shadow_days = 7
max_shadow_alerts_per_day = 2.0
"#;

const HUMAN_RULE: &str = r#"id: 00000000-0000-4000-8000-000000000001
name: Password spray
description: Many failures from one IP.
severity: Medium
kind: Scheduled
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
query: |
  SigninLogs
  | where ResultType == "50126"
  | summarize Failures = count() by IPAddress
  | where Failures >= 3
entityMappings:
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: IPAddress
"#;

const HUMAN_TESTS: &str = r#"tests:
  - name: fires on a spray
    data:
      SigninLogs:
        - { TimeGenerated: -10m, IPAddress: 203.0.113.7, ResultType: "50126" }
        - { TimeGenerated: -9m, IPAddress: 203.0.113.7, ResultType: "50126" }
        - { TimeGenerated: -8m, IPAddress: 203.0.113.7, ResultType: "50126" }
    expect: { alerts: 1 }
"#;

const HUNT_QUERY: &str =
    "SigninLogs\n| where TimeGenerated > ago(1d)\n| where ResultType == \"50126\"\n";

fn ai_hunt(review: &str) -> String {
    format!(
        r#"id: 00000000-0000-4000-8000-000000000002
name: AI hunt
description: Drafted by a model.
query: |
  SigninLogs
  | where TimeGenerated > ago(1d)
  | where ResultType == "50126"
provenance:
  origin: ai
  model: gpt-5
  model_version: "2026-08-01"
  prompt_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  generated_at: 2026-10-02T14:30:00Z
  generator: draft-bot
  sources: [https://attack.mitre.org/techniques/T1110/]
rollout: shadow
{review}"#
    )
}

const AI_RULE_ID: &str = "00000000-0000-4000-8000-000000000003";
const AI_RULE_QUERY: &str =
    "SigninLogs\n| where ResultType == \"50053\"\n| project TimeGenerated, UserPrincipalName\n";

fn ai_rule(rollout: &str) -> String {
    format!(
        r#"id: {AI_RULE_ID}
name: AI lockouts
description: Drafted by a model.
severity: Medium
kind: Scheduled
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
query: |
  SigninLogs
  | where ResultType == "50053"
  | project TimeGenerated, UserPrincipalName
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
provenance:
  origin: ai
  model: gpt-5
  model_version: "2026-08-01"
  prompt_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  generated_at: 2026-10-02T14:30:00Z
  generator: draft-bot
  sources: [https://attack.mitre.org/techniques/T1110/]
review:
  approved_by: [alice]
  query_sha256: {}
{rollout}"#,
        vigil::hash::query_sha256(AI_RULE_QUERY)
    )
}

/// Sign-in background: a spray on day 3, one lockout a day.
fn signins() -> String {
    let mut s = String::new();
    for i in 0..3 {
        s.push_str(&format!(
            "{{\"TimeGenerated\":\"2026-01-03T10:0{i}:00Z\",\"IPAddress\":\"203.0.113.7\",\"ResultType\":\"50126\",\"UserPrincipalName\":\"u{i}@contoso.com\"}}\n"
        ));
    }
    for d in 1..=7 {
        s.push_str(&format!(
            "{{\"TimeGenerated\":\"2026-01-0{d}T05:00:00Z\",\"IPAddress\":\"198.51.100.1\",\"ResultType\":\"50053\",\"UserPrincipalName\":\"x@contoso.com\"}}\n"
        ));
    }
    s
}

/// Shadow alerts of the AI rule in SecurityAlert, `n` over the last week.
fn shadow_alerts(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"TimeGenerated\":\"2026-01-0{}T0{}:00:00Z\",\"AlertName\":\"[shadow] AI lockouts\",\"AlertType\":\"ws_{AI_RULE_ID}\",\"ProviderName\":\"ASI Scheduled Alerts\",\"ExtendedProperties\":\"{{}}\"}}\n",
                2 + i % 6,
                i % 10
            )
        })
        .collect()
}

/// The emulator, its query API over the repository's sandbox.
fn emulator(root: &Path) -> vigil::emulator::Emulator {
    let cx = vigil::ops::Context::open(vigil::ops::ContextOptions::new(root)).unwrap();
    vigil::emulator::start(
        "127.0.0.1:0",
        vigil::emulator::Options {
            engine: cx.sandbox_engine(),
            lro_delay: std::time::Duration::from_millis(20),
            ..vigil::emulator::Options::default()
        },
    )
    .unwrap()
}

/// `vigil gate` as pr.yml's trusted job runs it (plus `--env staging`).
fn trusted_gate(r: &Repo, emu: &str, gh: &str, extra: &[&str]) -> (Output, Value, String) {
    let mut args = vec![
        "gate",
        "--base",
        "main",
        "--stage",
        "trusted",
        "--pr",
        "5",
        "--env",
        "staging",
        "--format",
        "github",
        "--comment",
        "gate/comment.md",
        "--sarif",
        "gate/gate.sarif",
        "--junit",
        "gate/gate.xml",
        "--json",
        "gate/verdict.json",
        "--audit",
        "gate/audit.jsonl",
    ];
    args.extend_from_slice(extra);
    let o = deploy_support::vigil(
        r.path(),
        emu,
        &args,
        &[
            ("GITHUB_TOKEN", "gh-token"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_API_URL", gh),
        ],
    );
    let v: Value = std::fs::read(r.path().join("gate/verdict.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| panic!("no verdict: {}", text(&o)));
    let comment = std::fs::read_to_string(r.path().join("gate/comment.md")).unwrap_or_default();
    (o, v, comment)
}

/// Writable projections of everything in an environment's workspace (records excluded).
fn snapshot(url: &str, env: &str) -> std::collections::BTreeMap<String, Value> {
    let config = vigil::config::parse(vigil::source::FileId(0), CONFIG).0;
    let e = vigil::deploy::env::resolve(&config, env, Path::new("/nonexistent"), &|k| {
        (k == "VIGIL_EMULATOR").then(|| url.to_string())
    })
    .unwrap();
    let ws = e.workspaces[0].clone();
    let s = vigil::deploy::Session::new(
        e,
        std::env::temp_dir(),
        "vigil:e2e".into(),
        vigil::azure::Credential::None,
    );
    let live = deploy_support::rt().block_on(s.observe(&ws)).unwrap();
    live.resources
        .iter()
        .map(|(k, r)| (format!("{:?}/{}", k.rtype, k.lname), r.projection(k.rtype)))
        .collect()
}

fn check<'a>(v: &'a Value, path: &str, name: &str) -> &'a Value {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .and_then(|e| {
            e["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == name)
        })
        .unwrap_or(&Value::Null)
}

/// A repository (not committed yet) with the human-written spray rule, its tests and the
/// sign-in sample data.
fn spray_repo() -> deploy_support::Repo {
    let r = deploy_support::repo(CONFIG);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write("detections/spray.yaml", HUMAN_RULE);
    r.write("detections/spray.tests.yaml", HUMAN_TESTS);
    r.write("sandbox/SigninLogs.jsonl", &signins());
    r
}

#[test]
fn the_pr_gate_then_the_release_and_rollbacks() {
    let r = spray_repo();
    r.write("sandbox/SecurityAlert.jsonl", &shadow_alerts(3));
    let base = r.commit("base");
    let emu = emulator(r.path());
    let url = emu.url();
    // The base is live in staging and prod.
    for env in ["staging", "prod"] {
        let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", env], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }

    // 1. An AI hunt without review fails with the policy message.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("hunts/ai.yaml", &ai_hunt(""));
    let head = r.commit("AI hunt");
    let gh = github(&head, &base, json!([]));
    let (o, v, comment) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("AI-drafted content needs a review before it can merge"),
        "{}",
        text(&o)
    );
    assert_eq!(v["entries"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["entries"][0]["change"], "added");
    assert_eq!(
        check(&v, "hunts/ai.yaml", "plan")["status"],
        "not-run",
        "{v}"
    );
    assert!(comment.contains("the content has errors"), "{comment}");

    // 2. A review field with no approving review on GitHub fails.
    let hash = vigil::hash::query_sha256(HUNT_QUERY);
    r.write(
        "hunts/ai.yaml",
        &ai_hunt(&format!(
            "review:\n  approved_by: [alice]\n  query_sha256: {hash}\n"
        )),
    );
    let head = r.commit("review");
    let gh = github(&head, &base, json!([]));
    let (o, _, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("review by alice is not confirmed"),
        "{}",
        text(&o)
    );

    // 3. A stale hash fails, even with an approval.
    r.write(
        "hunts/ai.yaml",
        &ai_hunt(&format!(
            "review:\n  approved_by: [alice]\n  query_sha256: {}\n",
            "0".repeat(64)
        )),
    );
    let head = r.commit("stale");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, _, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("approval is stale"), "{}", text(&o));

    // 4. A valid approved review passes; the plan against staging shows the hunt's creation.
    r.write(
        "hunts/ai.yaml",
        &ai_hunt(&format!(
            "review:\n  approved_by: [alice]\n  query_sha256: {hash}\n"
        )),
    );
    let head = r.commit("approved");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, v, comment) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["plan"]["environment"], "staging");
    assert_eq!(v["plan"]["create"], 1, "{v}");
    assert_eq!(v["plan"]["delete"], 0);
    assert_eq!(
        check(&v, "hunts/ai.yaml", "plan")["detail"],
        "staging: create in rg/ws-staging"
    );
    assert!(comment.contains("Against `staging`: 1 create"), "{comment}");
    assert!(
        comment.contains("not run: detection tests cover analytics rules"),
        "{comment}"
    );

    // A changed rule runs its tests and its dry-run in the gate; a failing test fails it.
    r.write(
        "detections/spray.yaml",
        &HUMAN_RULE.replace("Failures >= 3", "Failures >= 4"),
    );
    let head = r.commit("raise the threshold");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, v, comment) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(v["entries"][0]["change"], "modified", "{v}");
    let t = check(&v, "detections/spray.yaml", "test");
    assert_eq!(t["status"], "fail", "{v}");
    assert!(t["detail"]
        .as_str()
        .unwrap()
        .contains("expected 1 alert(s), the run raised 0"));
    assert_eq!(
        check(&v, "detections/spray.yaml", "dry-run")["status"],
        "pass"
    );
    assert_eq!(v["volume"][0]["runs"], 168);
    assert!(comment.contains("0 passed, 1 failed"), "{comment}");
    assert!(
        text(&o).contains("title=GATE001::detection tests failed"),
        "{}",
        text(&o)
    );
    let junit = std::fs::read_to_string(r.path().join("gate/gate.xml")).unwrap();
    assert!(junit.contains("expected 1 alert(s)"), "{junit}");
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);

    // Over the alert budget fails the gate.
    r.write(
        "detections/spray.yaml",
        &HUMAN_RULE.replace("  | where Failures >= 3\n", ""),
    );
    r.write(
        "detections/spray.tests.yaml",
        &HUMAN_TESTS.replace("alerts: 1", "alerts: 1, rows: 1"),
    );
    r.write(
        "vigil.toml",
        &CONFIG.replace("alert_budget_per_day = 10", "alert_budget_per_day = 0.1"),
    );
    let head = r.commit("noisy");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, v, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let d = check(&v, "detections/spray.yaml", "dry-run");
    assert!(
        d["detail"]
            .as_str()
            .unwrap()
            .starts_with("over the alert budget"),
        "{v}"
    );
    assert!(text(&o).contains("title=GATE002::"), "{}", text(&o));
    r.git(&["reset", "-q", "--hard", "HEAD~1"]);

    // The release: merge, then what release.yml runs, staging then prod.
    r.git(&["checkout", "-q", "main"]);
    r.git(&["merge", "-q", "--no-ff", "feature", "-m", "merge"]);
    let mut deployments = Vec::new();
    for env in ["staging", "prod"] {
        let json_file = format!("deploy-{env}.json");
        let o = deploy_support::vigil(
            r.path(),
            &url,
            &["apply", "--env", env, "--json", &json_file],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let v: Value =
            serde_json::from_slice(&std::fs::read(r.path().join(&json_file)).unwrap()).unwrap();
        deployments.push(v["deployment"].as_str().unwrap().to_string());
    }
    let released = snapshot(&url, "prod");
    assert!(
        released.keys().any(|k| k.contains("000000000002")),
        "{released:?}"
    );

    // An injected failure (Sentinel rejects a rule on a table the workspace lacks) rolls back.
    r.write(
        "vigil.toml",
        &format!("{CONFIG}\n[schemas.tables]\nMyApp_CL = {{ User_s = \"string\" }}\n"),
    );
    r.write(
        "detections/bad.yaml",
        &deploy_support::rule(
            &deploy_support::guid(9),
            "Custom table rule",
            "MyApp_CL | summarize count() by UserPrincipalName = User_s",
        ),
    );
    r.write(
        "hunts/ai.yaml",
        &ai_hunt(&format!(
            "review:\n  approved_by: [alice]\n  query_sha256: {hash}\n"
        ))
        .replace("name: AI hunt", "name: AI hunt v2"),
    );
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "prod"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("restored"), "{}", text(&o));
    assert_eq!(
        snapshot(&url, "prod"),
        released,
        "all-old after the failure"
    );
    r.remove("detections/bad.yaml");
    r.write("vigil.toml", CONFIG);

    // A later successful apply, then a manual rollback to the release restores it.
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &["apply", "--env", "prod", "--json", "later.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let later: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("later.json")).unwrap()).unwrap();
    assert_ne!(snapshot(&url, "prod"), released);
    // What rollback.yml runs: undo the later deployment, back to the release.
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &[
            "rollback",
            "--env",
            "prod",
            "--to",
            later["deployment"].as_str().unwrap(),
            "--json",
            "rollback.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(snapshot(&url, "prod"), released, "the release is back");
    // And back to before the release: the base only.
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &["rollback", "--env", "prod", "--to", &deployments[1]],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = snapshot(&url, "prod");
    assert!(
        !before.keys().any(|k| k.contains("000000000002")),
        "{before:?}"
    );
    assert!(
        before.keys().any(|k| k.contains("000000000001")),
        "{before:?}"
    );
    // Staging was not touched by prod's rollbacks.
    assert!(snapshot(&url, "staging")
        .keys()
        .any(|k| k.contains("000000000002")));
}

#[test]
fn promotion_evidence_comes_from_the_query_api() {
    let r = deploy_support::repo(CONFIG);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write("detections/ai.yaml", &ai_rule("rollout: shadow\n"));
    r.write("sandbox/SigninLogs.jsonl", &signins());
    r.write("sandbox/SecurityAlert.jsonl", &shadow_alerts(7));
    let base = r.commit("shadow");
    let emu = emulator(r.path());
    let url = emu.url();
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "staging"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Promote to active in staging: 7 shadow alerts over 7 days, under the budget of 2/day.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "detections/ai.yaml",
        &ai_rule("rollout: shadow\nenvironments:\n  staging:\n    rollout: active\n"),
    );
    let head = r.commit("promote");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, v, comment) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rollout = check(&v, "detections/ai.yaml", "rollout")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        rollout.contains("staging: shadow -> active with evidence"),
        "{rollout}"
    );
    assert!(
        comment.contains("Shadow evidence used for promotions"),
        "{comment}"
    );
    assert_eq!(
        check(&v, "detections/ai.yaml", "plan")["status"],
        "pass",
        "{v}"
    );

    // Not deployed in shadow in prod: no evidence there, so promoting in prod fails.
    r.write(
        "detections/ai.yaml",
        &ai_rule("rollout: shadow\nenvironments:\n  staging:\n    rollout: active\n  prod:\n    rollout: active\n"),
    );
    let head = r.commit("promote in prod too");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, _, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("no shadow evidence for {AI_RULE_ID} in prod")),
        "{}",
        text(&o)
    );
    // --evidence overrides the query API.
    let ev = json!({ "version": 1, "items": [{
        "id": AI_RULE_ID, "environment": "prod",
        "query_sha256": vigil::hash::query_sha256(AI_RULE_QUERY),
        "from": "2026-01-01T00:00:00Z", "to": "2026-01-08T00:00:00Z",
        "shadow_alerts": 1, "source": "reviewed export" }]});
    std::fs::write(r.path().join("gate-evidence.json"), ev.to_string()).unwrap();
    let (o, _, _) = trusted_gate(&r, &url, &gh, &["--evidence", "gate-evidence.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn noisy_shadow_rules_are_not_promoted() {
    let r = deploy_support::repo(CONFIG);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write("detections/ai.yaml", &ai_rule("rollout: shadow\n"));
    r.write("sandbox/SigninLogs.jsonl", &signins());
    r.write("sandbox/SecurityAlert.jsonl", &shadow_alerts(40));
    let base = r.commit("shadow");
    let emu = emulator(r.path());
    let url = emu.url();
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "staging"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "detections/ai.yaml",
        &ai_rule("rollout: shadow\nenvironments:\n  staging:\n    rollout: active\n"),
    );
    let head = r.commit("promote");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, _, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("exceed the budget"), "{}", text(&o));
}

/// One `SentinelHealth` row of an analytics rule, an hour from now (after the apply).
fn health_row(rule_id: &str, status: &str, description: &str) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let at = vigil::gate::evidence::format_rfc3339(secs + 3600);
    json!({
        "TimeGenerated": at, "SentinelResourceType": "Analytics Rule",
        "SentinelResourceId": format!("/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws-prod/providers/Microsoft.SecurityInsights/alertRules/{rule_id}"),
        "SentinelResourceName": "rule", "OperationName": "Scheduled analytics rule run",
        "Status": status, "Description": description,
    })
    .to_string()
        + "\n"
}

#[test]
fn post_deploy_health_then_rollback_on_failure() {
    let r = deploy_support::repo(CONFIG);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write("detections/spray.yaml", HUMAN_RULE);
    r.write("sandbox/SigninLogs.jsonl", &signins());
    let failing = deploy_support::guid(5);
    let silent = deploy_support::guid(6);
    r.write(
        "sandbox/SentinelHealth.jsonl",
        &(health_row("00000000-0000-4000-8000-000000000001", "Success", "")
            + &health_row(&failing, "Failure", "The query exceeded the time limit")),
    );
    r.commit("base");
    let emu = emulator(r.path());
    let url = emu.url();
    let apply = |file: &str| {
        let o = deploy_support::vigil(
            r.path(),
            &url,
            &["apply", "--env", "prod", "--json", file],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let v: Value =
            serde_json::from_slice(&std::fs::read(r.path().join(file)).unwrap()).unwrap();
        v["deployment"].as_str().unwrap().to_string()
    };
    let first = apply("d1.json");
    let released = snapshot(&url, "prod");
    // What release.yml runs after apply.
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &[
            "health",
            "--env",
            "prod",
            "--deployment",
            &first,
            "--timeout",
            "5",
            "--interval",
            "1",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("1 healthy, 0 failed, 0 disabled, 0 unknown"),
        "{}",
        text(&o)
    );

    // A release whose new rule fails its first run, and another that has not run yet.
    r.write(
        "detections/failing.yaml",
        &deploy_support::rule(
            &failing,
            "Slow rule",
            "SigninLogs | project UserPrincipalName",
        ),
    );
    r.write(
        "detections/silent.yaml",
        &deploy_support::rule(
            &silent,
            "Quiet rule",
            "SigninLogs | project UserPrincipalName",
        ),
    );
    r.commit("two rules");
    let second = apply("d2.json");
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &[
            "health",
            "--env",
            "prod",
            "--timeout",
            "1",
            "--interval",
            "1",
            "--json",
            "health.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("failed   Slow rule"), "{t}");
    assert!(t.contains("The query exceeded the time limit"), "{t}");
    assert!(t.contains("unknown  Quiet rule"), "{t}");
    let h: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("health.json")).unwrap()).unwrap();
    assert_eq!(h["deployment"], second.as_str());
    // The release workflow's reaction: roll back the deployment.
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &["rollback", "--env", "prod", "--to", &second],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(snapshot(&url, "prod"), released);

    // Sentinel auto-disables a rule that keeps failing: deployed enabled, now disabled.
    let config = vigil::config::parse(vigil::source::FileId(0), CONFIG).0;
    let e = vigil::deploy::env::resolve(&config, "prod", Path::new("/nonexistent"), &|k| {
        (k == "VIGIL_EMULATOR").then(|| url.to_string())
    })
    .unwrap();
    let ws = e.workspaces[0].clone();
    let api = e.api_versions.preview.clone();
    let s = vigil::deploy::Session::new(
        e,
        std::env::temp_dir(),
        "vigil:e2e".into(),
        vigil::azure::Credential::None,
    );
    let path = format!(
        "{}/providers/Microsoft.SecurityInsights/alertRules/00000000-0000-4000-8000-000000000001",
        ws.path()
    );
    let rt = deploy_support::rt();
    let mut body = rt.block_on(s.arm.get_opt(&path, &api)).unwrap().unwrap();
    body["properties"]["enabled"] = json!(false);
    body.as_object_mut().unwrap().remove("etag");
    rt.block_on(s.arm.put(&path, &api, &body)).unwrap();
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &[
            "health",
            "--env",
            "prod",
            "--deployment",
            &first,
            "--timeout",
            "1",
            "--interval",
            "1",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("disabled Password spray"), "{}", text(&o));
    assert!(
        text(&o).contains("deployed enabled, now disabled"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_rule_just_put_in_shadow_has_no_week_of_evidence() {
    // A real (non-emulator) environment: the evidence window starts at the deployment that
    // put the rule in shadow, read from the records in the workspace.
    let r = deploy_support::repo(CONFIG);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write("detections/ai.yaml", &ai_rule("rollout: shadow\n"));
    r.write("sandbox/SigninLogs.jsonl", &signins());
    r.write("sandbox/SecurityAlert.jsonl", &shadow_alerts(7));
    let emu = emulator(r.path());
    let url = emu.url();
    r.write(
        "vigil.toml",
        &format!(
            "{CONFIG}\n[environments.direct]\nendpoint = \"{url}\"\nquery_endpoint = \"{url}\"\nauth = \"none\"\n\n[[environments.direct.workspaces]]\nname = \"ws-direct\"\nsubscription = \"00000000-0000-0000-0000-000000000001\"\nresource_group = \"rg\"\nworkspace_id = \"{}\"\n",
            vigil::emulator::workspace_guid("00000000-0000-0000-0000-000000000001", "rg", "ws-direct")
        ),
    );
    let base = r.commit("shadow");
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "direct"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "detections/ai.yaml",
        &ai_rule("rollout: shadow\nenvironments:\n  direct:\n    rollout: active\n"),
    );
    let head = r.commit("promote at once");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &[
            "gate", "--base", "main", "--stage", "trusted", "--pr", "5", "--env", "direct",
        ],
        &[
            ("GITHUB_TOKEN", "gh-token"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("GITHUB_API_URL", &gh),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("days in shadow; the policy asks for at least 7 days"),
        "{}",
        text(&o)
    );
}

/// `--head REF` judges a commit that is not checked out: its definitions are read through git,
/// and its detection tests and dry-run run on a scratch copy of its tree (here the work tree is
/// back on the base, whose rule passes its tests, while the head's raised threshold fails them).
#[test]
fn gate_with_head_runs_the_heads_tests() {
    let r = spray_repo();
    r.commit("base");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "detections/spray.yaml",
        &HUMAN_RULE.replace("Failures >= 3", "Failures >= 4"),
    );
    r.commit("raise the threshold");
    r.git(&["checkout", "-q", "main"]);
    let o = deploy_support::vigil(
        r.path(),
        "http://127.0.0.1:9",
        &[
            "gate",
            "--base",
            "main",
            "--head",
            "feature",
            "--stage",
            "offline",
            "--json",
            "gate/verdict.json",
        ],
        &[],
    );
    let v: Value = std::fs::read(r.path().join("gate/verdict.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| panic!("no verdict: {}", text(&o)));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = check(&v, "detections/spray.yaml", "test");
    assert_eq!(t["status"], "fail", "{v}");
    assert!(
        t["detail"]
            .as_str()
            .unwrap()
            .contains("expected 1 alert(s), the run raised 0"),
        "{v}"
    );
    assert_eq!(
        check(&v, "detections/spray.yaml", "dry-run")["status"],
        "pass",
        "{v}"
    );
    // The work tree is untouched (still the base).
    let now = std::fs::read_to_string(r.path().join("detections/spray.yaml")).unwrap();
    assert!(now.contains("Failures >= 3"));
}

/// The environments pr.yml's trusted job passes to `vigil gate` (`--env E` flags).
fn workflow_gate_envs() -> Vec<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/pr.yml"),
    )
    .unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("gate --base") && l.contains("--stage trusted"))
        .expect("pr.yml runs the trusted gate");
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "--env")
        .map(|w| w[1].to_string())
        .collect()
}

#[test]
fn the_documented_promotion_path_passes_with_the_workflows_flags() {
    // An AI rule runs in shadow in staging and prod for a week; the promotion PR sets it
    // active everywhere; the trusted job's gate, with pr.yml's own --env flags, finds shadow
    // evidence in every environment the promotion reaches and passes.
    let envs = workflow_gate_envs();
    assert!(
        envs.contains(&"staging".to_string()) && envs.contains(&"prod".to_string()),
        "{envs:?}"
    );
    let r = deploy_support::repo(CONFIG);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write("detections/ai.yaml", &ai_rule("rollout: shadow\n"));
    r.write("sandbox/SigninLogs.jsonl", &signins());
    r.write("sandbox/SecurityAlert.jsonl", &shadow_alerts(7));
    let base = r.commit("shadow");
    let emu = emulator(r.path());
    let url = emu.url();
    for env in ["staging", "prod"] {
        let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", env], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("detections/ai.yaml", &ai_rule("rollout: active\n"));
    let head = r.commit("promote everywhere");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    // trusted_gate passes `--env staging`; add the rest of the workflow's environments.
    let mut extra = Vec::new();
    for e in envs.iter().filter(|e| *e != "staging") {
        extra.push("--env");
        extra.push(e.as_str());
    }
    let (o, v, _) = trusted_gate(&r, &url, &gh, &extra);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rollout = check(&v, "detections/ai.yaml", "rollout")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        rollout.contains("staging: shadow -> active with evidence"),
        "{rollout}"
    );
    assert!(
        rollout.contains("prod: shadow -> active with evidence"),
        "{rollout}"
    );
    let plan = check(&v, "detections/ai.yaml", "plan");
    assert_eq!(plan["status"], "pass", "{v}");
    assert!(plan["detail"].as_str().unwrap().contains("prod:"), "{plan}");
    // With staging alone (what the workflow ran before), prod has no evidence.
    let (o, _, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

/// Canary → active needs classified incidents of the canary stage of the current query, read
/// by the trusted stage from the query API: refused without them, accepted with enough closed
/// incidents under the false-positive limit.
#[test]
fn canary_to_active_needs_canary_outcomes() {
    let config = format!("{CONFIG}canary_min_closed = 3\ncanary_max_fp_rate = 0.4\n");
    let r = deploy_support::repo(&config);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write(
        "detections/ai.yaml",
        &ai_rule("rollout: shadow\nenvironments:\n  staging:\n    rollout: canary\n"),
    );
    r.write("sandbox/SigninLogs.jsonl", &signins());
    let base = r.commit("canary in staging");
    let emu = emulator(r.path());
    let url = emu.url();
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "staging"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The canary query as deployed (scoped to the canary watchlist).
    let (st, live) = soc_seed::http(
        &url,
        "GET",
        &format!("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws-staging/providers/Microsoft.SecurityInsights/alertRules/{AI_RULE_ID}?api-version=2025-09-01"),
        None,
    );
    assert_eq!(st, 200, "{live}");
    let canary_query = live["properties"]["query"].as_str().unwrap().to_string();
    assert_ne!(
        canary_query, AI_RULE_QUERY,
        "canary scoping is part of the query"
    );

    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "detections/ai.yaml",
        &ai_rule("rollout: shadow\nenvironments:\n  staging:\n    rollout: active\n"),
    );
    let head = r.commit("promote to active");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    // No incidents yet: refused.
    let (o, _, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("0 canary incident(s) closed; the policy asks for at least 3"),
        "{}",
        text(&o)
    );

    // Three closed canary incidents (TP, TP, FP) and one open, plus an FP of an older query
    // that must not count.
    let mut inc = String::new();
    let mut al = String::new();
    for (i, (status, class, query)) in [
        ("Closed", "TruePositive", canary_query.as_str()),
        ("Closed", "TruePositive", canary_query.as_str()),
        ("Closed", "FalsePositive", canary_query.as_str()),
        ("New", "", canary_query.as_str()),
        ("Closed", "FalsePositive", "SigninLogs | take 1"),
    ]
    .into_iter()
    .enumerate()
    {
        let ep = json!({"Query": query, "Analytic Rule Ids": json!([AI_RULE_ID]).to_string()})
            .to_string();
        inc.push_str(&format!(
            "{}\n",
            json!({"TimeGenerated": "2026-01-05T00:00:00Z", "IncidentNumber": i + 1, "Status": status, "Classification": class, "CreatedTime": "2026-01-05T00:00:00Z", "LastModifiedTime": "2026-01-06T00:00:00Z", "ClosedTime": if status == "Closed" { json!("2026-01-06T00:00:00Z") } else { Value::Null }, "RelatedAnalyticRuleIds": [AI_RULE_ID], "AlertIds": [format!("a{i}")]})
        ));
        al.push_str(&format!(
            "{}\n",
            json!({"TimeGenerated": "2026-01-05T00:00:00Z", "SystemAlertId": format!("a{i}"), "ProductName": "Azure Sentinel", "ExtendedProperties": ep, "Entities": "[]"})
        ));
    }
    r.write("sandbox/SecurityIncident.jsonl", &inc);
    r.write("sandbox/SecurityAlert.jsonl", &al);
    drop(emu);
    let emu = emulator(r.path());
    let url = emu.url();
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &["apply", "--env", "staging", "--ref", "main"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let (o, v, comment) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rollout = check(&v, "detections/ai.yaml", "rollout")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        rollout.contains("staging: canary -> active with evidence: 3 canary incidents closed (TP 2 / BP 0 / FP 1): false-positive rate 33% within the limit of 40%"),
        "{rollout}"
    );
    // The PR comment carries the rule's outcome line.
    assert!(
        comment.contains("3 canary incidents closed (TP 2 / BP 0 / FP 1)"),
        "{comment}"
    );
}

/// The guard's trip removed by a pull request (re-enabling the rule) needs a confirmed review;
/// a pull request that only changes guard-written fields needs none.
#[test]
fn removing_a_guard_trip_needs_a_confirmed_review() {
    let r = deploy_support::repo(CONFIG);
    r.write(".gitignore", "gate/\n.vigil/\n");
    r.write("sandbox/SigninLogs.jsonl", &signins());
    let tripped = format!(
        "{HUMAN_RULE}environments:\n  staging:\n    enabled: false\n    guard_trip:\n      breaker: max_fp_rate\n      action: disable\n      observed:\n        fp_rate: 0.9\n        closed: 20.0\n      window: '7d'\n      at: '2026-10-02T00:00:00Z'\n"
    );
    r.write("detections/spray.yaml", &tripped);
    let base = r.commit("the guard disabled the spray rule in staging");
    let emu = emulator(r.path());
    let url = emu.url();
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "staging"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Guard fields alone (a newer trip record): no review needed.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "detections/spray.yaml",
        &tripped.replace("fp_rate: 0.9", "fp_rate: 0.95"),
    );
    let head = r.commit("guard: newer figures");
    let gh = github(&head, &base, json!([]));
    let (o, v, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        v["entries"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "guard"),
        "{v:#}"
    );

    // Re-enabled without a review block: refused at the environments key.
    r.write("detections/spray.yaml", HUMAN_RULE);
    let head = r.commit("re-enable");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, v, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        check(&v, "detections/spray.yaml", "guard")["status"],
        "fail",
        "{v:#}"
    );
    assert!(text(&o).contains("POL013"), "{}", text(&o));

    // With a review block whose reviewer approved the head commit: accepted.
    let reviewed = format!(
        "{HUMAN_RULE}review:\n  approved_by: [alice]\n  query_sha256: {}\n",
        vigil::hash::query_sha256(
            "SigninLogs\n| where ResultType == \"50126\"\n| summarize Failures = count() by IPAddress\n| where Failures >= 3\n"
        )
    );
    r.write("detections/spray.yaml", &reviewed);
    let head = r.commit("re-enable, reviewed");
    let gh = github(&head, &base, json!([approval("alice", &head)]));
    let (o, v, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        check(&v, "detections/spray.yaml", "guard")["status"],
        "pass",
        "{v:#}"
    );
}

/// `[policy] max_scanned_gb_per_day`: the trusted stage measures each changed rule once through
/// the query API with statistics and projects a day of its runs.
#[test]
fn the_trusted_stage_checks_the_projected_data_scanned_per_day() {
    let cfg = CONFIG.replace("[policy]\n", "[policy]\nmax_scanned_gb_per_day = 0.0001\n");
    let r = deploy_support::repo(&cfg);
    r.write(".gitignore", "gate/\n.vigil/\ntrusted.toml\n");
    r.write("detections/spray.yaml", HUMAN_RULE);
    r.write("detections/spray.tests.yaml", HUMAN_TESTS);
    // 100 sign-ins in the last hour before the sandbox clock: each row holds a datetime (8
    // bytes), "203.0.113.7" (11), "50053" (5) and "user@contoso.com" (16): 40 bytes, so one
    // hourly run scans 4,000 bytes and a day of runs 96,000 bytes = 0.000096 GB.
    let mut rows = String::new();
    for i in 0..100 {
        rows.push_str(&format!(
            "{{\"TimeGenerated\":\"2026-01-07T23:{:02}:{:02}Z\",\"IPAddress\":\"203.0.113.7\",\"ResultType\":\"50053\",\"UserPrincipalName\":\"user@contoso.com\"}}\n",
            10 + i / 60,
            i % 60
        ));
    }
    r.write("sandbox/SigninLogs.jsonl", &rows);
    let base = r.commit("base");
    let emu = emulator(r.path());
    let url = emu.url();
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "staging"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "detections/spray.yaml",
        &HUMAN_RULE.replace("Failures >= 3", "Failures >= 4"),
    );
    r.write(
        "detections/spray.tests.yaml",
        &HUMAN_TESTS.replace("expect: { alerts: 1 }", "expect: { alerts: 0 }"),
    );
    let head = r.commit("tune");
    let gh = github(&head, &base, json!([]));
    // Under a limit of 0.00009 GB a day: fails, at the query, with GATE005.
    r.write("trusted.toml", &cfg.replace("= 0.0001", "= 0.00009"));
    let (o, v, _) = trusted_gate(&r, &url, &gh, &["--policy", "trusted.toml"]);
    let c = check(&v, "detections/spray.yaml", "cost");
    assert_eq!(c["status"], "fail", "{v}");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "0.000096 GB/day projected (24 runs/day from one measured run on rg/ws-staging"
        ),
        "{detail}"
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("GATE005"), "{}", text(&o));
    // The figure itself, from the JSON dry-run through the same workspace.
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &[
            "dry-run",
            "--env",
            "staging",
            "detections/spray.yaml",
            "--json",
            "gate/dry.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let d: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("gate/dry.json")).unwrap()).unwrap();
    let cost = &d[0]["cost"];
    assert_eq!(cost["runs_per_day"], 24.0, "{d}");
    // 168 hourly runs over the week; only the last hour holds the 100 rows.
    let per_run = cost["scanned_bytes_per_run"].as_f64().unwrap();
    assert!((per_run - 4_000.0 / 168.0).abs() < 1e-6, "{d}");
    assert_eq!(
        cost["chargeable_gb_per_day"], 0.0,
        "Analytics tables carry no query charge: {d}"
    );
    // Over the limit of 0.0001 GB a day: passes.
    let (o, v, _) = trusted_gate(&r, &url, &gh, &[]);
    assert_eq!(
        check(&v, "detections/spray.yaml", "cost")["status"],
        "pass",
        "{v}"
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// `vigil schema pull` records table plans (ARM tables API); a dry-run through the workspace
/// counts what a Basic table's query scans as charged per GB, and nothing for Analytics tables.
#[test]
fn table_plans_are_pulled_and_decide_the_charged_share() {
    let r = spray_repo();
    r.write(
        "hunts/failures.yaml",
        "id: 00000000-0000-4000-8000-0000000000f1\nname: Failed sign-ins\ndescription: d\nquery: SigninLogs | where ResultType == \"50126\" | project TimeGenerated, UserPrincipalName\n",
    );
    r.commit("base");
    let cx = vigil::ops::Context::open(vigil::ops::ContextOptions::new(r.path())).unwrap();
    let emu = vigil::emulator::start(
        "127.0.0.1:0",
        vigil::emulator::Options {
            engine: cx.sandbox_engine(),
            schema: Some(json!({"plans": {"SigninLogs": "Basic", "AADNonInteractiveUserSignInLogs": "Auxiliary"}})),
            ..vigil::emulator::Options::default()
        },
    )
    .unwrap();
    let url = emu.url();
    let o = deploy_support::vigil(r.path(), &url, &["apply", "--env", "staging"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = deploy_support::vigil(r.path(), &url, &["schema", "pull", "--env", "staging"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("2 table(s) on a Basic or Auxiliary plan"),
        "{}",
        text(&o)
    );
    let pulled: Value = serde_json::from_slice(
        &std::fs::read(
            r.path()
                .join("schemas/workspaces/staging/rg.ws-staging.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pulled["plans"],
        json!({"AADNonInteractiveUserSignInLogs": "Auxiliary", "SigninLogs": "Basic"})
    );
    let o = deploy_support::vigil(
        r.path(),
        &url,
        &["dry-run", "--env", "staging", "--json", "gate/dry.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("chargeable") && text(&o).contains("SigninLogs (Basic)"),
        "{}",
        text(&o)
    );
    let d: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("gate/dry.json")).unwrap()).unwrap();
    let cost = &d[0]["cost"];
    assert!(cost["scanned_gb_per_day"].as_f64().unwrap() > 0.0, "{d}");
    assert_eq!(
        cost["chargeable_gb_per_day"], cost["scanned_gb_per_day"],
        "{d}"
    );
    assert_eq!(cost["chargeable_tables"], json!([["SigninLogs", "Basic"]]));
    // Hunts run through the workspace too: one run over the window, its own figures.
    let hunt = d
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "hunt")
        .unwrap_or_else(|| panic!("no hunt in {d}"));
    assert_eq!(
        hunt["result_rows"], 3,
        "the three failures in the window: {hunt}"
    );
    assert_eq!(hunt["cost"]["runs_per_day"], 1.0);
    assert!(
        hunt["cost"]["scanned_bytes_per_run"].as_f64().unwrap() > 0.0,
        "{hunt}"
    );
    assert_eq!(
        hunt["cost"]["chargeable_tables"],
        json!([["SigninLogs", "Basic"]])
    );
}
