//! `vigil gate` end to end, as the workflows run it: a temporary content repository, the real
//! binary, and a small GitHub API server on loopback (real HTTP) serving the pull request, its
//! reviews and CODEOWNERS.

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use common::github::{review, GithubServer, BASE, HEAD, OLD};

const RULE_QUERY: &str =
    "SigninLogs\n| where ResultType == \"50126\"\n| project TimeGenerated, UserPrincipalName\n";

/// An AI-drafted rule; `extra` is appended (review, rollout, environments).
fn ai_rule(extra: &str) -> String {
    format!(
        r#"id: 9a1d2a40-0001-4000-8000-000000000001
name: AI drafted sign-in failures
description: Drafted by a model.
severity: Medium
kind: Scheduled
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
query: |
{}
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
{extra}"#,
        RULE_QUERY
            .lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

fn query_hash() -> String {
    vigil::hash::query_sha256(RULE_QUERY)
}

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("vigil.toml"),
        "[project]\nid = \"gate-tests\"\n\n[environments.prod]\n\n[policy]\nmodels = [\"gpt-5*\"]\n",
    )
    .unwrap();
    for (p, text) in files {
        let path = tmp.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    tmp
}

/// Run `vigil gate` in `dir` with a clean GitHub environment (plus `env`).
fn gate(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = std::process::Command::new(common::vigil_bin());
    c.arg("gate").args(args).current_dir(dir);
    for k in [
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "GITHUB_API_URL",
        "GITHUB_EVENT_PATH",
        "GITHUB_REF",
        "GITHUB_SHA",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn github_env(server: &GithubServer) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_TOKEN", "gh-test-token-123".to_string()),
        ("GITHUB_REPOSITORY", "o/r".to_string()),
        ("GITHUB_API_URL", server.url.clone()),
    ]
}

fn trusted(dir: &Path, server: &GithubServer, extra: &[&str]) -> Output {
    let env = github_env(server);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut args = vec!["--all", "--stage", "trusted", "--pr", "5"];
    args.extend_from_slice(extra);
    gate(dir, &args, &env)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn reviewed(by: &str, hash: &str, rollout: &str) -> String {
    ai_rule(&format!(
        "review:\n  approved_by: [{by}]\n  query_sha256: {hash}\nrollout: {rollout}\n"
    ))
}

#[test]
fn an_ai_hunt_without_review_fails_with_the_policy_message() {
    let hunt = r#"id: 9a1d2a40-0002-4000-8000-000000000001
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
  sources: [https://attack.mitre.org/techniques/T1110/]
rollout: shadow
"#;
    let r = repo(&[("hunts/ai.yaml", hunt)]);
    let o = gate(r.path(), &["hunts/ai.yaml", "--json", "v.json"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("AI-drafted content needs a review before it can merge"),
        "{}",
        text(&o)
    );
    let v: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("v.json")).unwrap()).unwrap();
    assert_eq!(v["verdict"], "fail");
    let policy = v["entries"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "policy")
        .unwrap()
        .clone();
    assert_eq!(policy["status"], "fail");
    assert!(policy["detail"].as_str().unwrap().contains("POL006"));
}

#[test]
fn a_review_without_a_matching_approval_fails() {
    let server = GithubServer::start(
        "drafter",
        json!([
            review("alice", "COMMENTED", HEAD),
            review("bob", "APPROVED", HEAD)
        ]),
        Some("* @alice @bob\n"),
    );
    let r = repo(&[(
        "detections/ai.yaml",
        &reviewed("alice", &query_hash(), "shadow"),
    )]);
    let o = trusted(r.path(), &server, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("POL010"), "{}", text(&o));
    assert!(
        text(&o).contains("alice has not approved pull request #5"),
        "{}",
        text(&o)
    );
    // The workflow token went to GitHub in the header, and never into the output.
    let seen = server.seen.lock().unwrap().clone();
    assert!(seen
        .iter()
        .all(|(_, auth)| auth == "bearer gh-test-token-123"));
    assert!(seen
        .iter()
        .any(|(p, _)| p == &format!("/repos/o/r/contents/.github/CODEOWNERS?ref={BASE}")));
    assert!(!text(&o).contains("gh-test-token-123"));
}

#[test]
fn an_approval_of_an_older_commit_or_by_the_author_fails() {
    let server = GithubServer::start(
        "alice",
        json!([
            review("alice", "APPROVED", HEAD),
            review("bob", "APPROVED", OLD)
        ]),
        Some("* @alice @bob\n"),
    );
    let r = repo(&[(
        "detections/ai.yaml",
        &reviewed("alice, bob", &query_hash(), "shadow"),
    )]);
    let o = trusted(r.path(), &server, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("alice opened the pull request and cannot approve their own change"),
        "{t}"
    );
    assert!(
        t.contains("bob approved commit 2222222, not the head commit 1111111"),
        "{t}"
    );
}

#[test]
fn a_stale_hash_fails() {
    let server = GithubServer::start(
        "drafter",
        json!([review("alice", "APPROVED", HEAD)]),
        Some("* @alice\n"),
    );
    let r = repo(&[(
        "detections/ai.yaml",
        &reviewed("alice", &"0".repeat(64), "shadow"),
    )]);
    let o = trusted(r.path(), &server, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("approval is stale: the query changed after review"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_valid_approved_review_passes_and_every_report_is_written() {
    let server = GithubServer::start(
        "drafter",
        json!([
            review("alice", "CHANGES_REQUESTED", OLD),
            review("alice", "APPROVED", HEAD),
            review("alice", "COMMENTED", HEAD)
        ]),
        Some("# owners\n/detections/ @alice\n"),
    );
    let r = repo(&[(
        "detections/ai.yaml",
        &reviewed("alice", &query_hash(), "shadow"),
    )]);
    let o = trusted(
        r.path(),
        &server,
        &[
            "--comment",
            "out/comment.md",
            "--sarif",
            "out/gate.sarif",
            "--junit",
            "out/junit.xml",
            "--json",
            "out/verdict.json",
            "--audit",
            "audit/gate.jsonl",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = r.path().join("out");
    let v: Value =
        serde_json::from_slice(&std::fs::read(out.join("verdict.json")).unwrap()).unwrap();
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["commit"], HEAD);
    assert_eq!(v["pull_request"], 5);
    let e = &v["entries"][0];
    assert_eq!(e["reviews"][0]["confirmed"], true);
    assert_eq!(e["reviews"][0]["commit"], HEAD);
    // Shadow compiled into the payload, in the comment's plan preview too.
    assert_eq!(e["compiled"][0]["rollout"]["stage"], "shadow");
    let comment = std::fs::read_to_string(out.join("comment.md")).unwrap();
    assert!(
        comment.contains("vigil gate: pass (trusted stage)"),
        "{comment}"
    );
    assert!(comment.contains("✅ alice"), "{comment}");
    assert!(
        comment.contains("not run: no tests (no detections/ai.tests.yaml)"),
        "{comment}"
    );
    assert!(comment.contains("not run: no --env ENV"), "{comment}");
    assert!(
        comment.contains("not run: no sandbox data in sandbox"),
        "{comment}"
    );
    assert!(comment.contains("incident creation off"));
    let sarif: Value =
        serde_json::from_slice(&std::fs::read(out.join("gate.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("failures=\"0\""), "{junit}");
    assert!(
        junit.contains("<skipped message=\"not run: no tests"),
        "{junit}"
    );
    // The audit log gains one line per definition and run.
    let audit = r.path().join("audit/gate.jsonl");
    let _ = trusted(r.path(), &server, &["--audit", "audit/gate.jsonl"]);
    let lines: Vec<Value> = common::read_jsonl(&audit);
    assert_eq!(lines.len(), 2);
    let l = &lines[0];
    assert_eq!(l["commit"], HEAD);
    assert_eq!(l["pull_request"], 5);
    assert_eq!(
        l["definition"]["id"],
        "9a1d2a40-0001-4000-8000-000000000001"
    );
    assert_eq!(l["definition"]["query_sha256"], query_hash());
    assert_eq!(l["provenance"]["model"], "gpt-5");
    assert_eq!(l["approving_reviews"][0]["login"], "alice");
    assert_eq!(l["verdict"], "pass");
    assert!(l["recorded_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn promotion_needs_evidence_within_the_budget() {
    let rule = reviewed("alice", &query_hash(), "shadow").replace(
        "rollout: shadow\n",
        "rollout: shadow\nenvironments:\n  prod:\n    rollout: active\n",
    );
    let r = repo(&[("detections/ai.yaml", &rule)]);
    let o = gate(r.path(), &["--all"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("POL008"), "{}", text(&o));
    assert!(
        text(&o).contains("no shadow evidence for 9a1d2a40-0001-4000-8000-000000000001 in prod")
    );
    let evidence = |alerts: u64| {
        json!({ "version": 1, "items": [{
            "id": "9a1d2a40-0001-4000-8000-000000000001", "environment": "prod",
            "query_sha256": query_hash(), "from": "2026-10-01T00:00:00Z",
            "to": "2026-10-08T00:00:00Z", "shadow_alerts": alerts,
            "source": "test fixture" }]})
        .to_string()
    };
    std::fs::write(r.path().join("over.json"), evidence(100)).unwrap();
    let o = gate(r.path(), &["--all", "--evidence", "over.json"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("exceed the budget of 10/day"),
        "{}",
        text(&o)
    );
    std::fs::write(r.path().join("ok.json"), evidence(14)).unwrap();
    let o = gate(
        r.path(),
        &["--all", "--evidence", "ok.json", "--json", "v.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("v.json")).unwrap()).unwrap();
    let compiled = v["entries"][0]["compiled"].as_array().unwrap();
    assert_eq!(compiled[0]["environment"], "prod");
    assert_eq!(compiled[0]["rollout"]["stage"], "active");
}

#[test]
fn the_trusted_stage_needs_the_pull_request_and_the_offline_stage_does_not() {
    let r = repo(&[(
        "detections/ai.yaml",
        &reviewed("alice", &query_hash(), "shadow"),
    )]);
    let o = gate(r.path(), &["--all", "--stage", "trusted"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("GITHUB_TOKEN"), "{}", text(&o));
    let o = gate(r.path(), &["--all", "--json", "v.json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value =
        serde_json::from_slice(&std::fs::read(r.path().join("v.json")).unwrap()).unwrap();
    let review = v["entries"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "review")
        .unwrap()
        .clone();
    assert_eq!(review["status"], "not-run");
    // Nothing to judge is a usage error.
    assert_eq!(gate(r.path(), &[], &[]).status.code(), Some(2));
}

#[test]
fn the_policy_can_come_from_the_base_branch() {
    // The pull request loosens its own policy (any model); the base's policy still applies.
    let r = repo(&[(
        "detections/ai.yaml",
        &reviewed("alice", &query_hash(), "shadow").replace("model: gpt-5", "model: other-llm"),
    )]);
    std::fs::write(r.path().join("vigil.toml"), "[environments.prod]\n").unwrap();
    assert_eq!(gate(r.path(), &["--all"], &[]).status.code(), Some(0));
    std::fs::write(
        r.path().join("base.toml"),
        "[policy]\nmodels = [\"gpt-5*\"]\n",
    )
    .unwrap();
    let o = gate(r.path(), &["--all", "--policy", "base.toml"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("model `other-llm` is not allowed"),
        "{}",
        text(&o)
    );
}

#[test]
fn new_ai_content_must_enter_in_shadow() {
    // The changed set from git::changed (issue 5) marks added files; the library takes it as
    // input today.
    let r = repo(&[(
        "detections/ai.yaml",
        &reviewed("alice", &query_hash(), "canary"),
    )]);
    let (ws, checked) = common::check_root(r.path());
    let changes = [vigil::gate::Change {
        path: "detections/ai.yaml".into(),
        status: vigil::gate::ChangeStatus::Added,
        base: None,
    }];
    let outcome = vigil::gate::evaluate(&vigil::gate::Inputs {
        stage: vigil::gate::Stage::Offline,
        changes: &changes,
        checked: &checked,
        db: &ws.db,
        config: &ws.config,
        evidence: &[],
        pull_request: None,
        commit: None,
        stages: &Default::default(),
        relabels: &[],
    });
    assert_eq!(outcome.report.verdict, vigil::gate::Status::Fail);
    let codes: Vec<&str> = outcome
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert!(codes.contains(&"POL007"), "{codes:?}");
    // Modified from canary at the base: no promotion, nothing to prove.
    let base = checked.definitions[0].clone();
    let changes = [vigil::gate::Change {
        path: "detections/ai.yaml".into(),
        status: vigil::gate::ChangeStatus::Modified,
        base: Some(base),
    }];
    let outcome = vigil::gate::evaluate(&vigil::gate::Inputs {
        stage: vigil::gate::Stage::Offline,
        changes: &changes,
        checked: &checked,
        db: &ws.db,
        config: &ws.config,
        evidence: &[],
        pull_request: None,
        commit: None,
        stages: &Default::default(),
        relabels: &[],
    });
    assert_eq!(
        outcome.report.verdict,
        vigil::gate::Status::Pass,
        "{:?}",
        outcome.report.entries[0].checks
    );
}

/// CODEOWNERS teams: `gate::github::fetch` reads the members of every team CODEOWNERS names
/// (GitHub's team members API, over a loopback server), and leaves out a team it may not read,
/// which review confirmation then reports.
#[test]
fn codeowners_teams_are_expanded_through_the_api() {
    let gh = GithubServer::with_teams(
        "drafter",
        json!([]),
        Some("/detections/ @Contoso/SecOps\n/hunts/ @contoso/hunters @lead\n"),
        json!({ "contoso/secops": ["tina", "uma"] }),
    );
    let pr = vigil::gate::github::fetch(&vigil::gate::github::GithubContext {
        api_url: gh.url.clone(),
        repository: "o/r".into(),
        token: "t".into(),
        pr: 5,
    })
    .unwrap();
    assert_eq!(
        pr.team_members.get("contoso/secops"),
        Some(&vec!["tina".to_string(), "uma".to_string()])
    );
    assert!(!pr.team_members.contains_key("contoso/hunters"));
    let paths: Vec<String> = gh
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/orgs/contoso/teams/hunters/members")),
        "{paths:?}"
    );
}
