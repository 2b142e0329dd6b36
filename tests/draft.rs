//! `vigil draft` against a scripted loopback OpenAI-compatible server: the replies are fixed
//! in each test; the test checks what vigil sent (grounding, the problems fed back, redaction,
//! the key only in the header), what it wrote and what it audited. No claim about any model's
//! drafting quality is made.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// A recorded request: (headers lower-cased, body).
type Seen = Arc<Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// One scripted reply: (status, body, extra headers).
type Reply = (u16, Value, Vec<(&'static str, &'static str)>);

/// Serve the scripted replies in order.
fn model_server(replies: Vec<Reply>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut replies = replies.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut len = 0;
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                    break;
                }
                if let Some((k, v)) = l.trim_end().split_once(':') {
                    let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                    if k == "content-length" {
                        len = v.parse().unwrap_or(0);
                    }
                    headers.push((k, v));
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            log.lock()
                .unwrap()
                .push((headers, String::from_utf8_lossy(&body).into_owned()));
            let (status, reply, extra) =
                replies
                    .next()
                    .unwrap_or((500, json!({"error": "script exhausted"}), vec![]));
            let text = reply.to_string();
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                text.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let _ = write!(stream, "{head}\r\n{text}");
        }
    });
    (url, seen)
}

/// A chat completion whose message is `content`.
fn answer(content: &str) -> Reply {
    (
        200,
        json!({"id": "c1", "object": "chat.completion", "model": "scripted-model-1",
               "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
               "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}),
        vec![],
    )
}

fn draft_value(query: &str) -> Value {
    json!({"name": "Failed sign-ins by address", "description": "Accounts failing to sign in.", "query": query,
           "hypothesis": "An actor sprays passwords against many accounts.", "expected_evidence": "many failures from one address",
           "tactics": ["CredentialAccess"], "techniques": ["T1110"], "rationale": "r", "false_positives": "typos", "confidence": "medium"})
}

fn draft_json(query: &str) -> String {
    draft_value(query).to_string()
}

/// A rule draft: the hunt's fields, a schedule, entity mappings and test cases.
fn rule_json(query: &str, tests: Value) -> String {
    let mut v = draft_value(query);
    v["severity"] = json!("Medium");
    v["query_frequency"] = json!("1h");
    v["query_period"] = json!("1h");
    v["entity_mappings"] = json!([{"entityType": "Account", "fieldMappings": [{"identifier": "FullName", "columnName": "UserPrincipalName"}]}]);
    v["tests"] = tests;
    v.to_string()
}

fn repo(url: &str, max_repairs: u32) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::manifest_dir();
    for dir in ["detections", "hunts", "functions", "watchlists", "sandbox"] {
        common::copy_dir(&root.join(dir), &tmp.path().join(dir));
    }
    // The scripted model is an allowed model.
    let cfg = std::fs::read_to_string(root.join("vigil.toml"))
        .unwrap()
        .replacen("models = [", "models = [\"scripted*\", ", 1);
    std::fs::write(
        tmp.path().join("vigil.toml"),
        format!("{cfg}\n[ai]\nbase_url = \"{url}\"\nmodel = \"scripted\"\napi_key_env = \"VIGIL_TEST_AI_KEY\"\nmax_repairs = {max_repairs}\n"),
    )
    .unwrap();
    tmp
}

fn vigil(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(common::vigil_bin())
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("VIGIL_TEST_AI_KEY", "sekrit-key-123")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

#[test]
fn a_misspelled_column_is_repaired_in_the_second_round() {
    let (url, seen) = model_server(vec![
        answer(&draft_json("SigninLogs\n| where ResultType != \"0\"\n| project TimeGenerated, UserPrincipalName, IpAdress")),
        answer(&draft_json("SigninLogs\n| where ResultType != \"0\"\n| project TimeGenerated, UserPrincipalName, IPAddress")),
    ]);
    let tmp = repo(&url, 2);
    std::fs::write(
        tmp.path().join("report.txt"),
        "The actor sprayed passwords from 203.0.113.9 at alice@contoso.com.",
    )
    .unwrap();
    let (code, out) = vigil(
        tmp.path(),
        &[
            "draft",
            "--hypothesis",
            "password spray (T1110.003, and the made-up T1999)",
            "--from",
            "report.txt",
            "--out",
            "hunts/drafted.yaml",
            "--audit",
            "audit.jsonl",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("in 2 round(s)"), "{out}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let (h1, b1) = &seen[0];
    assert!(
        h1.contains(&("authorization".into(), "Bearer sekrit-key-123".into())),
        "{h1:?}"
    );
    assert!(
        b1.contains("SigninLogs: ") && b1.contains("IPAddress:string"),
        "grounding: {b1}"
    );
    assert!(b1.contains("password spray"));
    // The answer's shape is asked for as a strict JSON schema.
    let req: Value = serde_json::from_str(b1).unwrap();
    assert_eq!(req["response_format"]["type"], "json_schema", "{b1}");
    assert_eq!(req["response_format"]["json_schema"]["strict"], true);
    assert!(req["response_format"]["json_schema"]["schema"]["required"]
        .as_array()
        .unwrap()
        .contains(&json!("hypothesis")));
    // ATT&CK grounding: the technique named, from the pinned extract; the unknown id flagged.
    assert!(
        b1.contains("T1110.003 Password Spraying (tactics: CredentialAccess)"),
        "ATT&CK: {b1}"
    );
    assert!(b1.contains("T1999: not an ATT&CK"), "{b1}");
    // The nearest existing content: the bundled password-spray rule shares T1110.
    assert!(
        b1.contains("rule `") && b1.contains("entra_password_spray"),
        "nearest: {b1}"
    );
    assert!(
        b1.contains("<ip>") && b1.contains("<email>") && !b1.contains("203.0.113.9"),
        "redacted: {b1}"
    );
    let (_, b2) = &seen[1];
    assert!(
        b2.contains("KQL201") && b2.contains("IpAdress"),
        "the diagnostic goes back: {b2}"
    );
    let hunt = std::fs::read_to_string(tmp.path().join("hunts/drafted.yaml")).unwrap();
    assert!(
        hunt.contains("| project TimeGenerated, UserPrincipalName, IPAddress"),
        "{hunt}"
    );
    assert!(
        hunt.contains("origin: ai")
            && hunt.contains("model: 'scripted-model-1'")
            && hunt.contains("rollout: shadow"),
        "{hunt}"
    );
    assert!(hunt.contains("report.txt sha256:"), "{hunt}");
    assert!(
        hunt.contains(
            "hypothesis:\n  statement: 'An actor sprays passwords against many accounts.'"
        ) && hunt.contains("  expected_evidence: 'many failures from one address'"),
        "{hunt}"
    );
    // The written hunt passes validation except for the human review it still needs.
    let o = Command::new(common::vigil_bin())
        .arg("-C")
        .arg(tmp.path())
        .args(["validate", "hunts/drafted.yaml", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    let codes: Vec<String> = v["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|d| d["severity"] == "error")
                .map(|d| d["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(codes, ["POL006"], "{out}");
    // The audit: one line per round; the key nowhere.
    let audit = std::fs::read_to_string(tmp.path().join("audit.jsonl")).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outcome"], "rejected");
    assert_eq!(lines[1]["outcome"], "accepted");
    assert_eq!(lines[1]["usage"]["total_tokens"], 120);
    assert!(lines[0]["vigil_ms"].as_f64().is_some() && lines[1]["vigil_ms"].as_f64().is_some());
    assert_eq!(lines[0]["grounding"]["target"], "sandbox window");
    assert!(!audit.contains("sekrit") && !out.contains("sekrit") && !hunt.contains("sekrit"));
}

#[test]
fn policy_empty_results_and_bad_json_go_back_and_nothing_is_written() {
    let (url, seen) = model_server(vec![
        answer(&draft_json("externaldata (x: string) [@'https://example.com/x.csv'] | project x")),
        answer(&draft_json("SigninLogs\n| where UserPrincipalName == 'nobody@nowhere.example'\n| project TimeGenerated, UserPrincipalName")),
        answer("this is not JSON"),
    ]);
    let tmp = repo(&url, 2);
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--hypothesis", "anything", "--out", "hunts/x.yaml"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no draft passed in 3 round(s)"), "{out}");
    assert!(out.contains("not one JSON object"), "{out}");
    assert!(!tmp.path().join("hunts/x.yaml").exists());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert!(
        seen[1].1.contains("POL005"),
        "policy fed back: {}",
        seen[1].1
    );
    assert!(
        seen[2].1.contains("returned no rows"),
        "empty dry-run fed back: {}",
        seen[2].1
    );
}

#[test]
fn throttling_is_retried_and_a_content_filter_stop_writes_nothing() {
    let (url, seen) = model_server(vec![
        (
            429,
            json!({"error": {"message": "slow down"}}),
            vec![("Retry-After", "1")],
        ),
        answer(&draft_json(
            "SigninLogs\n| where ResultType != \"0\"\n| project TimeGenerated, UserPrincipalName",
        )),
    ]);
    let tmp = repo(&url, 0);
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--hypothesis", "failures", "--out", "hunts/y.yaml"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(seen.lock().unwrap().len(), 2);

    let (url, _) = model_server(vec![(
        200,
        json!({"model": "m", "choices": [{"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant", "content": ""}}]}),
        vec![],
    )]);
    let tmp = repo(&url, 1);
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--hypothesis", "x", "--out", "hunts/z.yaml"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("content filter"), "{out}");
    assert!(!tmp.path().join("hunts/z.yaml").exists());
}

#[test]
fn plain_http_is_for_loopback_only() {
    let tmp = repo("http://model.example.com/v1", 0);
    let (code, out) = vigil(tmp.path(), &["draft", "--hypothesis", "x"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("https is required"), "{out}");
}

#[test]
fn a_rule_is_drafted_with_entity_mappings_and_tests_that_vigil_runs() {
    let burst = |user: &str, result: &str| {
        format!("{{\"TimeGenerated\": \"-30m\", \"UserPrincipalName\": \"{user}\", \"ResultType\": \"{result}\", \"repeat\": 6, \"every\": \"1m\"}}")
    };
    let fires = json!({"name": "fires on a failure burst", "table": "SigninLogs", "alerts": 1, "rows": burst("a@contoso.com", "50126")});
    // Wrong: a burst of failures does fire.
    let silent_wrong = json!({"name": "silent on success", "table": "SigninLogs", "alerts": 0, "rows": burst("b@contoso.com", "50126")});
    let silent = json!({"name": "silent on success", "table": "SigninLogs", "alerts": 0, "rows": burst("b@contoso.com", "0")});
    let q = "SigninLogs\n| where ResultType != \"0\"\n| summarize Failures = count() by UserPrincipalName\n| where Failures >= 6";
    let (url, seen) = model_server(vec![
        // Missing fields: the shape goes back.
        answer(&json!({"name": "x", "query": q}).to_string()),
        // A test case that contradicts the query: the failing case goes back.
        answer(&rule_json(q, json!([fires, silent_wrong]))),
        answer(&rule_json(q, json!([fires, silent]))),
    ]);
    let tmp = repo(&url, 2);
    let (code, out) = vigil(
        tmp.path(),
        &[
            "draft",
            "--kind",
            "rule",
            "--hypothesis",
            "failure bursts",
            "--audit",
            "audit.jsonl",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("in 3 round(s)") && out.contains(".tests.yaml"),
        "{out}"
    );
    let seen = seen.lock().unwrap();
    let req: Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(
        req["response_format"]["json_schema"]["name"],
        "vigil_rule_draft"
    );
    assert!(
        seen[1].1.contains("`hypothesis` is missing")
            && seen[1].1.contains("`entity_mappings` is missing"),
        "{}",
        seen[1].1
    );
    assert!(
        seen[2].1.contains("test `silent on success` failed"),
        "{}",
        seen[2].1
    );
    let rule = std::fs::read_to_string(
        tmp.path()
            .join("detections/failed_sign_ins_by_address.yaml"),
    )
    .unwrap();
    assert!(
        rule.contains("kind: Scheduled")
            && rule.contains("severity: Medium")
            && rule.contains("columnName: 'UserPrincipalName'")
            && rule.contains("rollout: shadow")
            && rule.contains("origin: ai"),
        "{rule}"
    );
    let tests = std::fs::read_to_string(
        tmp.path()
            .join("detections/failed_sign_ins_by_address.tests.yaml"),
    )
    .unwrap();
    assert!(
        tests.contains("fires on a failure burst") && tests.contains("alerts: 1"),
        "{tests}"
    );
    // What was written passes vigil test, and validate except for the human review.
    let (code, out) = vigil(
        tmp.path(),
        &["test", "detections/failed_sign_ins_by_address.yaml"],
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = vigil(
        tmp.path(),
        &[
            "validate",
            "detections/failed_sign_ins_by_address.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    let v: Value = serde_json::from_str(out.lines().next().unwrap_or("")).unwrap_or_else(|_| {
        serde_json::from_str(&out[..out.rfind('}').map(|i| i + 1).unwrap_or(0)])
            .unwrap_or(Value::Null)
    });
    let errors: Vec<&str> = v["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(errors, ["POL006"], "{out}");
    let audit = std::fs::read_to_string(tmp.path().join("audit.jsonl")).unwrap();
    let last: Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["tests"], json!({"passed": 2, "cases": 2}));
}

#[test]
fn azure_openai_sends_api_key_or_an_entra_token_and_classic_urls_need_api_version() {
    let ok = || {
        answer(&draft_json(
            "SigninLogs\n| where ResultType != \"0\"\n| project TimeGenerated, UserPrincipalName",
        ))
    };
    let azure = |tmp: &tempfile::TempDir, url: &str, key: bool, version: bool| {
        let p = tmp.path().join("vigil.toml");
        let cfg = std::fs::read_to_string(&p).unwrap();
        let cfg = cfg[..cfg.find("[ai]").unwrap()].to_string();
        std::fs::write(&p, format!(
            "{cfg}[ai]\nprovider = \"azure-openai\"\nbase_url = \"{url}\"\nmodel = \"scripted\"\nmax_repairs = 0\n{}{}",
            if key { "api_key_env = \"VIGIL_TEST_AI_KEY\"\n" } else { "" },
            if version { "api_version = \"2024-10-21\"\n" } else { "" },
        )).unwrap();
    };
    // A key: the api-key header, not Authorization; the classic URL carries api-version.
    let (url, seen) = model_server(vec![ok()]);
    let tmp = repo(&url, 0);
    azure(&tmp, &format!("{url}/openai/deployments/gpt"), true, true);
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--hypothesis", "x", "--out", "hunts/a.yaml"],
    );
    assert_eq!(code, Some(0), "{out}");
    let h = &seen.lock().unwrap()[0].0;
    assert!(
        h.contains(&("api-key".into(), "sekrit-key-123".into())),
        "{h:?}"
    );
    assert!(!h.iter().any(|(k, _)| k == "authorization"), "{h:?}");
    // No key: an Entra ID token (here the static credential) as a bearer token.
    let (url, seen) = model_server(vec![ok()]);
    let tmp = repo(&url, 0);
    azure(&tmp, &format!("{url}/openai/v1"), false, false);
    let o = Command::new(common::vigil_bin())
        .arg("-C")
        .arg(tmp.path())
        .args(["draft", "--hypothesis", "x", "--out", "hunts/b.yaml"])
        .env("VIGIL_AZURE_TOKEN", "entra-token-456")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let h = &seen.lock().unwrap()[0].0;
    assert!(
        h.contains(&("authorization".into(), "Bearer entra-token-456".into())),
        "{h:?}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("entra-token-456"));
    // A classic deployment URL without api_version is refused before anything is sent.
    let tmp = repo("http://127.0.0.1:9/v1", 0);
    azure(
        &tmp,
        "https://x.openai.azure.com/openai/deployments/gpt",
        true,
        false,
    );
    let (code, out) = vigil(tmp.path(), &["draft", "--hypothesis", "x"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("api_version is required"), "{out}");
}

#[test]
fn configured_redaction_rules_apply_to_what_is_sent() {
    let (url, seen) = model_server(vec![answer(&draft_json(
        "SigninLogs\n| where ResultType != \"0\"\n| project TimeGenerated, UserPrincipalName",
    ))]);
    let tmp = repo(&url, 0);
    let p = tmp.path().join("vigil.toml");
    let cfg = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, format!("{cfg}\n[ai.redact]\nhosts = [\"(?i)\\\\bWS-[0-9]{{4}}\\\\b\"]\nrules = [{{ pattern = \"(?i)token=\\\\S+\", with = \"token=<secret>\" }}]\n")).unwrap();
    std::fs::write(
        tmp.path().join("r.txt"),
        "WS-0042 beaconed to dc01.contoso.corp with token=abc123 from 198.51.100.7",
    )
    .unwrap();
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--from", "r.txt", "--out", "hunts/r.yaml"],
    );
    assert_eq!(code, Some(0), "{out}");
    let b = &seen.lock().unwrap()[0].1;
    assert!(
        b.contains("<host> beaconed to dc01.contoso.corp with token=<secret> from <ip>"),
        "the configured hosts replace the default list: {b}"
    );
    assert!(!b.contains("abc123") && !b.contains("WS-0042"));
}

#[test]
fn env_grounds_in_the_workspace_and_runs_there() {
    let (url, seen) = model_server(vec![answer(&draft_json(
        "SigninLogs\n| where ResultType != \"0\"\n| project TimeGenerated, UserPrincipalName",
    ))]);
    let tmp = repo(&url, 0);
    // The embedded emulator knows the workspace once something is deployed to it.
    let (code, out) = vigil(tmp.path(), &["apply", "--env", "local"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = vigil(
        tmp.path(),
        &[
            "draft",
            "--hypothesis",
            "x",
            "--env",
            "local",
            "--out",
            "hunts/e.yaml",
            "--audit",
            "a.jsonl",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    let b = &seen.lock().unwrap()[0].1;
    assert!(
        b.contains("- SigninLogs: ") && b.contains("- AuditLogs: "),
        "{b}"
    );
    let audit = std::fs::read_to_string(tmp.path().join("a.jsonl")).unwrap();
    let l: Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert!(
        l["grounding"]["target"]
            .as_str()
            .unwrap()
            .starts_with("window in "),
        "{l}"
    );
    assert!(
        l["grounding"]["tables"]
            .as_array()
            .unwrap()
            .contains(&json!("SigninLogs")),
        "{l}"
    );
    assert!(l["dry_run"]["rows"].as_u64().unwrap() > 0, "{l}");
    // An unknown environment is a usage error before the model is asked.
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--hypothesis", "x", "--env", "nowhere"],
    );
    assert_eq!(code, Some(2), "{out}");
}

#[test]
fn an_existing_out_file_is_never_overwritten() {
    let tmp = repo("http://127.0.0.1:9/v1", 0);
    let (code, out) = vigil(
        tmp.path(),
        &[
            "draft",
            "--hypothesis",
            "x",
            "--out",
            "detections/entra_password_spray.yaml",
        ],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("does not overwrite"), "{out}");
}

#[test]
fn a_model_that_never_answers_times_out_with_a_clear_message() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let tmp = repo(&url, 0);
    let p = tmp.path().join("vigil.toml");
    let cfg = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        cfg.replace("max_repairs = 0\n", "max_repairs = 0\ntimeout_secs = 1\n"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--hypothesis", "x", "--out", "hunts/t.yaml"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("did not answer within [ai] timeout_secs"),
        "{out}"
    );
    assert!(!tmp.path().join("hunts/t.yaml").exists());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "retries are bounded"
    );
}
