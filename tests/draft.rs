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

fn draft_json(query: &str) -> String {
    json!({"name": "Failed sign-ins by address", "description": "Accounts failing to sign in.", "query": query,
           "tactics": ["CredentialAccess"], "techniques": ["T1110"], "rationale": "r", "false_positives": "typos", "confidence": "medium"})
    .to_string()
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
            "password spray",
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
fn what_is_not_supported_yet_says_so() {
    let tmp = repo("http://127.0.0.1:9/v1", 0);
    let (code, out) = vigil(
        tmp.path(),
        &["draft", "--hypothesis", "x", "--kind", "rule"],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not supported yet: drafting rules"), "{out}");
    let (code, out) = vigil(tmp.path(), &["draft", "--hypothesis", "x", "--env", "prod"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("not supported yet: --env prod"), "{out}");
}
