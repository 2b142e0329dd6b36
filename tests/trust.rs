//! The trust boundary, tried as an attacker would: a pull request's files are the only input,
//! and none of them may lower the gate, leak a secret, or exhaust the runner. Each test is an
//! attack that worked before the fix (issue "The trust boundary"), run through the real binary
//! on a real git repository.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::github::{review, GithubServer, HEAD};
use serde_json::{json, Value};

const CONFIG: &str = "[project]\nid = \"trust\"\n\n[policy]\nmodels = [\"gpt-5*\"]\n";

const QUERY: &str =
    "SigninLogs\n| where ResultType == \"50126\"\n| project TimeGenerated, UserPrincipalName\n";

/// A secret in the process environment that no output may show.
const SECRET: &str = "ghs_SuperSecretTokenValue123";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let r = Repo { dir };
        r.git(&["init", "-q", "-b", "main"]);
        r.write("vigil.toml", CONFIG);
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn git(&self, args: &[&str]) -> String {
        let o = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// Run vigil in `dir` with a clean environment plus `env`; at most 60 s.
fn vigil(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, Duration) {
    let mut c = Command::new(common::vigil_bin());
    c.args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in [
        "GITHUB_TOKEN",
        "GITHUB_REPOSITORY",
        "GITHUB_API_URL",
        "GITHUB_EVENT_PATH",
        "GITHUB_SHA",
        "VIGIL_EMULATOR",
        "VIGIL_TRUSTED_CONFIG",
        "VIGIL_AZURE_TOKEN",
    ] {
        c.env_remove(k);
    }
    c.env("VIGIL_TEST_SECRET", SECRET);
    for (k, v) in env {
        c.env(k, v);
    }
    let started = Instant::now();
    let child = c.spawn().unwrap();
    let pid = child.id();
    // Read the output while waiting (a full pipe would block the child), with a deadline.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(o) => {
            let o = o.unwrap();
            (o.status.code(), text(&o), started.elapsed())
        }
        Err(_) => {
            // SAFETY: killing our own child process, which has not been reaped.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            (
                None,
                format!("vigil {args:?} ran past 60 s"),
                started.elapsed(),
            )
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn indent(q: &str) -> String {
    q.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A rule with `id`, `query` and `extra` keys appended.
fn rule(id: u32, query: &str, extra: &str) -> String {
    format!(
        "id: 9b1d2a40-0001-4000-8000-{id:012}\nname: Rule {id}\ndescription: d\nseverity: Medium\nkind: Scheduled\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\nquery: |\n{}\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: UserPrincipalName\n{extra}",
        indent(query)
    )
}

const AI: &str = "provenance:\n  origin: ai\n  model: gpt-5\n  model_version: \"2026-08-01\"\n  prompt_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n  generated_at: 2026-10-02T14:30:00Z\n  generator: draft-bot\n  sources: [https://attack.mitre.org/techniques/T1110/]\n";

fn reviewed(query: &str, by: &str) -> String {
    format!(
        "review:\n  approved_by: [{by}]\n  query_sha256: {}\n",
        vigil::hash::query_sha256(query)
    )
}

fn gate_json(r: &Repo, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, Value) {
    let mut all = vec!["gate", "--json", "v.json"];
    all.extend_from_slice(args);
    let (code, out, _) = vigil(r.path(), &all, env);
    let v = std::fs::read(r.path().join("v.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    (code, out, v)
}

#[test]
fn a_pull_request_cannot_lower_its_own_policy_through_vigil_toml() {
    let r = Repo::new();
    r.write("hunts/h.yaml", "id: 9b1d2a40-0009-4000-8000-000000000001\nname: h\ndescription: d\nquery: SigninLogs | where TimeGenerated > ago(1d)\n");
    let base = r.commit("base");
    // The attack: a new AI rule with no review, and the PR's vigil.toml turning the policy off.
    r.write(
        "detections/ai.yaml",
        &rule(1, QUERY, &format!("{AI}rollout: shadow\n")),
    );
    r.write(
        "vigil.toml",
        &format!("{CONFIG}\n[lints]\nPOL006 = \"off\"\nPOL001 = \"off\"\n"),
    );
    r.commit("attack");
    let (code, out, _) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("POL006"),
        "the review requirement applies: {out}"
    );
    assert!(
        out.contains("POL011") && out.contains("lints.POL006"),
        "the change is reported: {out}"
    );
    // The trusted job's form: the base's vigil.toml as --policy.
    std::fs::write(r.path().join("base.toml"), CONFIG).unwrap();
    let (code, out, _) = gate_json(&r, &["--all", "--policy", "base.toml"], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL006"), "{out}");
    // Any command under the workflow's trusted configuration.
    let (code, out, _) = vigil(
        r.path(),
        &["validate"],
        &[("VIGIL_TRUSTED_CONFIG", "base.toml")],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL006"), "{out}");
    // Siblings: the PR hides its rule from the content folders, or loosens the review scope.
    r.write(
        "vigil.toml",
        &format!("{CONFIG}\n[content]\nexclude = [\"detections\"]\n\n[policy.review]\nrequired_for = \"none\"\n"),
    );
    r.commit("hide it");
    let (code, out, v) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "detections/ai.yaml"),
        "the excluded rule is still judged: {v:#}"
    );
    assert!(
        out.contains("content.exclude") && out.contains("policy.review.required_for"),
        "{out}"
    );
}

#[test]
fn ai_content_relabelled_as_human_stays_ai_governed() {
    let r = Repo::new();
    let shadow = format!("{AI}{}rollout: shadow\n", reviewed(QUERY, "alice"));
    r.write("detections/ai.yaml", &rule(2, QUERY, &shadow));
    let base = r.commit("reviewed AI rule in shadow");
    // origin: ai -> human, review deleted, active, query edited.
    let edited = format!("{QUERY}| where UserPrincipalName != \"svc\"\n");
    let relabel = AI.replace("origin: ai", "origin: human");
    r.write(
        "detections/ai.yaml",
        &rule(2, &edited, &format!("{relabel}rollout: active\n")),
    );
    r.commit("relabel");
    let (code, out, v) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL012"), "{out}");
    assert!(out.contains("POL006"), "review is still required: {out}");
    assert!(
        out.contains("POL008"),
        "active still needs shadow evidence: {out}"
    );
    assert!(
        !v.to_string()
            .contains("not AI-drafted: no rollout rule applies"),
        "{v:#}"
    );
    // Deleting provenance altogether counts the same.
    r.write("detections/ai.yaml", &rule(2, &edited, "rollout: active\n"));
    r.commit("drop provenance");
    let (code, out, _) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL012") && out.contains("POL006"), "{out}");
}

/// `origin: tuned` is not a way out of AI governance: tuned AI content keeps the AI rules
/// (denied constructs, the model allowlist, reviews), a claim without `derived_from` is
/// incomplete, and claiming a human past for content that was AI at the base is a relabel.
#[test]
fn origin_tuned_does_not_launder_ai_content() {
    let r = Repo::new();
    let shadow = format!("{AI}{}rollout: shadow\n", reviewed(QUERY, "alice"));
    r.write("detections/ai.yaml", &rule(7, QUERY, &shadow));
    let base = r.commit("reviewed AI rule");
    let tuned = |from: &str| {
        format!(
            "provenance:\n  origin: tuned\n  generator: vigil tune 0.1.0\n  generated_at: 2026-10-03T10:00:00Z\n  sources: ['incident:prod/1']\n{from}rollout: shadow\n"
        )
    };
    // Tuned from AI, with a construct denied to AI content and a model outside the allowlist.
    let q =
        "externaldata (x: string) [@'https://example.com/x.csv'] | project UserPrincipalName = x";
    r.write(
        "detections/ai.yaml",
        &rule(
            7,
            q,
            &tuned("  derived_from:\n    origin: ai\n    model: llama-evil\n"),
        ),
    );
    r.commit("tuned");
    let (code, out, _) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL005"), "denied to AI content: {out}");
    assert!(
        out.contains("POL003") && out.contains("llama-evil"),
        "{out}"
    );
    assert!(
        out.contains("POL006"),
        "a tuned change needs a review: {out}"
    );
    // No derived_from: incomplete.
    r.write("detections/ai.yaml", &rule(7, QUERY, &tuned("")));
    r.commit("tuned, no past");
    let (code, out, _) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("tuned content must record derived_from"),
        "{out}"
    );
    // Claiming a human past for content that was AI at the base.
    r.write(
        "detections/ai.yaml",
        &rule(7, QUERY, &tuned("  derived_from:\n    origin: human\n")),
    );
    r.commit("tuned, human past");
    let (code, out, _) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL012"), "a relabel: {out}");
}

#[test]
fn a_takeover_needs_rewritten_by_and_a_review_confirmed_on_github() {
    let r = Repo::new();
    let shadow = format!("{AI}{}rollout: shadow\n", reviewed(QUERY, "alice"));
    r.write("detections/ai.yaml", &rule(3, QUERY, &shadow));
    let base = r.commit("reviewed AI rule in shadow");
    let edited = format!("{QUERY}| where UserPrincipalName != \"svc\"\n");
    let takeover = format!(
        "provenance:\n  origin: human\n  rewritten_by: bob\n{}rollout: shadow\n",
        reviewed(&edited, "alice")
    );
    r.write("detections/ai.yaml", &rule(3, &edited, &takeover));
    r.commit("take over");
    // Offline: the review cannot be confirmed, so the takeover does not count.
    let (code, out, _) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL012"), "{out}");
    // Trusted, with alice's approval of the head commit on GitHub: a human rule now.
    let gh = GithubServer::start("bob", json!([review("alice", "APPROVED", HEAD)]), None);
    let env = [
        ("GITHUB_TOKEN", "gh-test-token"),
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_API_URL", gh.url.as_str()),
    ];
    let (code, out, v) = gate_json(
        &r,
        &["--base", &base, "--stage", "trusted", "--pr", "5"],
        &env,
    );
    assert!(!out.contains("POL012"), "{out}");
    let e = &v["entries"][0];
    let prov = e["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "provenance")
        .unwrap();
    assert_eq!(prov["status"], "pass", "{e:#}");
    assert_eq!(code, Some(0), "{out}");
    // Without rewritten_by the same confirmed review is not a takeover.
    let no_claim = takeover.replace("  rewritten_by: bob\n", "");
    r.write("detections/ai.yaml", &rule(3, &edited, &no_claim));
    r.commit("no claim");
    let (code, out, _) = gate_json(
        &r,
        &["--base", &base, "--stage", "trusted", "--pr", "5"],
        &env,
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("POL012"), "{out}");
}

#[test]
fn files_that_do_not_load_fail_the_gate() {
    let r = Repo::new();
    r.write("detections/a.yaml", &rule(4, QUERY, ""));
    r.write("detections/b.yaml", &rule(5, QUERY, ""));
    let base = r.commit("two rules");
    r.write(
        "detections/a.yaml",
        &rule(4, QUERY, "").replace("severity: Medium", "severity: Bogus"),
    );
    r.write(
        "detections/b.yaml",
        &format!("{}x: [\n", rule(5, QUERY, "")),
    );
    r.write("detections/c.yaml", "name: [unclosed\n");
    r.commit("broken");
    let (code, out, v) = gate_json(&r, &["--base", &base], &[]);
    assert_eq!(code, Some(1), "{out}");
    let entries = v["entries"].as_array().unwrap();
    for p in [
        "detections/a.yaml",
        "detections/b.yaml",
        "detections/c.yaml",
    ] {
        let e = entries
            .iter()
            .find(|e| e["path"] == p)
            .unwrap_or_else(|| panic!("{p} not judged: {v:#}"));
        assert_eq!(e["verdict"], "fail", "{p}: {e:#}");
        assert_ne!(e["change"], "deleted", "{p}: {e:#}");
    }
    // `vigil changed` lists them too.
    let (_, out, _) = vigil(
        r.path(),
        &["changed", "--base", &base, "--format", "json"],
        &[],
    );
    let c: Value = serde_json::from_str(&out).unwrap();
    assert!(c["deleted"].as_array().unwrap().is_empty(), "{c:#}");
    assert_eq!(
        c["modified"].as_array().unwrap().len() + c["added"].as_array().unwrap().len(),
        3,
        "{c:#}"
    );
}

#[cfg(unix)]
#[test]
fn file_names_that_differ_only_in_invalid_bytes_are_judged_apart() {
    use std::os::unix::ffi::OsStrExt;
    let r = Repo::new();
    let dir = r.path().join("detections");
    std::fs::create_dir_all(&dir).unwrap();
    let clean = rule(6, QUERY, "");
    let unreviewed = rule(7, QUERY, &format!("{AI}rollout: shadow\n"));
    std::fs::write(dir.join(std::ffi::OsStr::from_bytes(b"x\xfe.yaml")), clean).unwrap();
    std::fs::write(
        dir.join(std::ffi::OsStr::from_bytes(b"x\xff.yaml")),
        unreviewed,
    )
    .unwrap();
    let (code, out, _) = vigil(r.path(), &["validate"], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("VG007"), "{out}");
    assert!(
        out.contains("x\\xfe.yaml") && out.contains("x\\xff.yaml"),
        "{out}"
    );
    let (code, out, v) = gate_json(&r, &["--all"], &[]);
    assert_eq!(code, Some(1), "{out}");
    let paths: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"detections/x\\xfe.yaml") && paths.contains(&"detections/x\\xff.yaml"),
        "{paths:?}"
    );
}

fn watchlist(source: &str) -> String {
    format!("alias: wl\nname: wl\ndescription: d\nitemsSearchKey: Nothere\nsource: {source}\n")
}

#[cfg(unix)]
#[test]
fn paths_named_by_content_stay_inside_the_repository() {
    let r = Repo::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.csv"),
        format!("{SECRET},b\n1,2\n"),
    )
    .unwrap();
    r.write("watchlists/a.yaml", &watchlist("/proc/self/environ"));
    r.write(
        "watchlists/b.yaml",
        &watchlist("../../../../../../etc/passwd"),
    );
    r.write("watchlists/c.yaml", &watchlist("link.csv"));
    std::os::unix::fs::symlink(
        outside.path().join("secret.csv"),
        r.path().join("watchlists/link.csv"),
    )
    .unwrap();
    r.write(
        "watchlists/d.yaml",
        &watchlist(&outside.path().join("secret.csv").display().to_string()),
    );
    for format in ["human", "json", "sarif", "github"] {
        let (code, out, _) = vigil(r.path(), &["validate", "--format", format], &[]);
        assert_eq!(code, Some(1), "{out}");
        assert!(!out.contains(SECRET), "{format}: the secret leaked: {out}");
        assert!(
            !out.contains("root:x:0"),
            "{format}: /etc/passwd leaked: {out}"
        );
        assert!(out.contains("VG008"), "{format}: {out}");
    }
    // A content file that is itself a link out of the repository is not read either.
    std::os::unix::fs::symlink(
        outside.path().join("secret.csv"),
        r.path().join("watchlists/e.yaml"),
    )
    .unwrap();
    let (_, out, _) = vigil(r.path(), &["validate"], &[]);
    assert!(!out.contains(SECRET), "{out}");
    // Test data and the sandbox folder go through the same rule.
    r.write("detections/r.yaml", &rule(8, QUERY, ""));
    r.write(
        "detections/r.tests.yaml",
        "tests:\n  - name: t\n    data:\n      SigninLogs:\n        file: /proc/self/environ\n    expect:\n      alerts: 0\n",
    );
    let (code, out, _) = vigil(r.path(), &["test"], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains(SECRET), "{out}");
    assert!(out.contains("stay inside the repository"), "{out}");
    r.write(
        "vigil.toml",
        &format!("{CONFIG}\n[sandbox]\ndata = \"/etc\"\n"),
    );
    let (code, out, _) = vigil(r.path(), &["dry-run"], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("VG008"), "{out}");
    // A sandbox table file linked out of the repository is not a table.
    r.write("vigil.toml", CONFIG);
    std::fs::create_dir_all(r.path().join("sandbox")).unwrap();
    std::fs::write(outside.path().join("t.csv"), format!("Secret\n{SECRET}\n")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("t.csv"),
        r.path().join("sandbox/Leak.csv"),
    )
    .unwrap();
    let (_, out, _) = vigil(r.path(), &["query", "Leak"], &[]);
    assert!(!out.contains(SECRET), "{out}");
}

#[test]
fn the_engine_has_a_budget() {
    let r = Repo::new();
    // Doubling let-functions (2^35 calls) in a rule: the dry-run ends, with the budget's error.
    let mut q = String::from("let g0 = (x:long) { x + 1 };\n");
    for i in 1..=35 {
        q.push_str(&format!(
            "let g{i} = (x:long) {{ g{}(x) + g{}(x) }};\n",
            i - 1,
            i - 1
        ));
    }
    q.push_str("SigninLogs\n| extend r = g35(1)\n| project TimeGenerated, UserPrincipalName, r\n");
    r.write("detections/dbl.yaml", &rule(9, &q, ""));
    std::fs::create_dir_all(r.path().join("sandbox")).unwrap();
    r.write(
        "sandbox/SigninLogs.jsonl",
        "{\"TimeGenerated\": \"2025-12-31T23:30:00Z\", \"UserPrincipalName\": \"a\"}\n",
    );
    let (code, out, took) = vigil(r.path(), &["dry-run"], &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("exceeds the sandbox budget"), "{out}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    // A cross join of two 30,000-row ranges is refused, not run out of memory; the batch goes on.
    let batch = [
        json!({"id": 1, "query": "range a from 1 to 30000 step 1 | extend k = 1 | join kind=inner (range b from 1 to 30000 step 1 | extend k = 1) on k | count"}),
        json!({"id": 2, "query": "range x from 1 to 100000000 step 1 | count"}),
        json!({"id": 3, "query": "print ok = 1"}),
    ];
    let answers = jsonl(r.path(), &batch);
    assert!(
        answers[0]["error"]
            .as_str()
            .unwrap()
            .contains("exceeds the sandbox budget"),
        "{answers:?}"
    );
    assert!(
        answers[1]["error"]
            .as_str()
            .unwrap()
            .contains("exceeds the sandbox budget"),
        "no silent truncation: {answers:?}"
    );
    assert_eq!(answers[2]["ok"], true);
    // The trusted configuration sets the budget; a pull request cannot raise it.
    r.write(
        "vigil.toml",
        &format!("{CONFIG}\n[engine]\nmax_rows = 100\n"),
    );
    let a = jsonl(
        r.path(),
        &[json!({"id": 1, "query": "range x from 1 to 1000 step 1 | count"})],
    );
    assert!(a[0]["error"].as_str().unwrap().contains("100"), "{a:?}");
    std::fs::write(r.path().join("base.toml"), CONFIG).unwrap();
    r.write(
        "vigil.toml",
        &format!("{CONFIG}\n[engine]\nmax_rows = 1000000000\n"),
    );
    let (_, out, _) = vigil_stdin(
        r.path(),
        &["query", "--jsonl"],
        &[("VIGIL_TRUSTED_CONFIG", "base.toml")],
        &json!({"id": 1, "query": "range x from 1 to 100000000 step 1 | count"}).to_string(),
    );
    assert!(out.contains("exceeds the sandbox budget"), "{out}");
}

/// Run vigil with `input` on stdin.
fn vigil_stdin(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    input: &str,
) -> (Option<i32>, String, Duration) {
    let mut c = Command::new(common::vigil_bin());
    c.args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.env_remove("VIGIL_TRUSTED_CONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    let started = Instant::now();
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    (o.status.code(), text(&o), started.elapsed())
}

fn jsonl(dir: &Path, requests: &[Value]) -> Vec<Value> {
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let (code, out, _) = vigil_stdin(dir, &["query", "--jsonl"], &[], &input);
    assert_eq!(code, Some(0), "{out}");
    let answers: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(
        answers.len(),
        requests.len(),
        "every line is answered: {out}"
    );
    answers
}

#[test]
fn range_follows_kusto() {
    let r = Repo::new();
    let a = jsonl(
        r.path(),
        &[
            json!({"id": 1, "query": "range x from 1 to 0 step 1 | count"}),
            json!({"id": 2, "query": "range x from 10 to 1 step -1 | summarize make_list(x)"}),
            json!({"id": 3, "query": "range x from 1 to 3 step 0"}),
            json!({"id": 4, "query": "range x from 1 to 5 step 2 | summarize make_list(x)"}),
        ],
    );
    assert_eq!(a[0]["rows"], json!([[0]]), "{a:?}");
    assert_eq!(
        a[1]["rows"],
        json!([[[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]]]),
        "{a:?}"
    );
    assert_eq!(a[2]["ok"], false, "{a:?}");
    assert_eq!(a[3]["rows"], json!([[[1, 3, 5]]]), "{a:?}");
}

#[cfg(unix)]
#[test]
fn directory_links_do_not_loop_or_leave_the_repository() {
    let r = Repo::new();
    r.write("detections/r.yaml", &rule(10, QUERY, ""));
    std::os::unix::fs::symlink("..", r.path().join("detections/a")).unwrap();
    std::os::unix::fs::symlink("../detections", r.path().join("detections/b")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("detections")).unwrap();
    std::fs::write(
        outside.path().join("detections/x.yaml"),
        rule(11, QUERY, ""),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), r.path().join("detections/out")).unwrap();
    let (code, out, took) = vigil(r.path(), &["validate"], &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("in 1 file"),
        "each file once, nothing from outside: {out}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    let (code, out, _) = gate_json(&r, &["--all"], &[]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn deep_expressions_do_not_crash_the_engine() {
    let r = Repo::new();
    let terms: Vec<String> = (0..10_000).map(|i| format!("x == {i}")).collect();
    let deep = format!(
        "range x from 1 to 10 step 1 | where {} | count",
        terms.join(" or ")
    );
    let sum: Vec<&str> = vec!["1"; 5000];
    let a = jsonl(
        r.path(),
        &[
            json!({"id": 1, "query": deep}),
            json!({"id": 2, "query": format!("print x = {}", sum.join(" + "))}),
            json!({"id": 3, "query": "print ok = 1"}),
        ],
    );
    assert_eq!(a[0]["rows"], json!([[10]]), "{a:?}");
    assert_eq!(a[1]["ok"], false, "{a:?}");
    assert_eq!(a[2]["ok"], true, "{a:?}");
    // The same query in a rule goes through validate, test and dry-run.
    r.write(
        "detections/deep.yaml",
        &rule(
            12,
            &format!("SigninLogs\n| where {}\n", terms[..3000].join(" or ")),
            "",
        ),
    );
    let (code, out, _) = vigil(r.path(), &["validate"], &[]);
    assert!(code.is_some(), "{out}");
    let (code, out, _) = vigil(r.path(), &["dry-run"], &[]);
    assert!(code.is_some(), "{out}");
}

#[test]
fn invisible_characters_are_errors_in_rules() {
    let r = Repo::new();
    let bidi = QUERY.replace("\"50126\"", "\"50126\u{202e}\"");
    r.write("detections/a.yaml", &rule(13, &bidi, ""));
    r.write(
        "detections/b.yaml",
        &rule(14, QUERY, "").replace("name: Rule 14", "name: Rule\u{200b} 14"),
    );
    let zw = QUERY.replace("ResultType", "Result\u{200b}Type");
    r.write("detections/c.yaml", &rule(15, &zw, ""));
    let (code, out, _) = vigil(r.path(), &["validate", "--format", "json"], &[]);
    assert_eq!(code, Some(1), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<(String, String, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (f, c) in [
        ("detections/a.yaml", "KQL309"),
        ("detections/b.yaml", "VG118"),
        ("detections/c.yaml", "KQL309"),
    ] {
        assert!(
            codes
                .iter()
                .any(|(ff, cc, s)| ff == f && cc == c && s == "error"),
            "{f} {c}: {codes:?}"
        );
    }
    let _ = PathBuf::new();
}

/// A server on loopback that answers 404 to everything and records each request's
/// `Authorization` header.
fn recording_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut auth = String::from("(none)");
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if h.to_ascii_lowercase().starts_with("authorization:") {
                    auth = h.trim().to_string();
                }
            }
            log.lock().unwrap().push(auth);
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            );
        }
    });
    (url, seen)
}

fn env_toml(name: &str, endpoint: &str) -> String {
    format!(
        "\n[environments.{name}]\nendpoint = \"{endpoint}\"\nauth = \"none\"\n[[environments.{name}.workspaces]]\nname = \"w\"\nsubscription = \"00000000-0000-0000-0000-000000000000\"\nresource_group = \"rg\"\nworkspace_id = \"00000000-0000-0000-0000-00000000000a\"\n"
    )
}

#[test]
fn a_pull_request_cannot_choose_where_the_token_goes() {
    let emu = vigil::emulator::start("127.0.0.1:0", vigil::emulator::Options::default()).unwrap();
    let (evil, seen) = recording_server();
    let r = Repo::new();
    let trusted = format!("{CONFIG}{}", env_toml("staging", &emu.url()));
    r.write("vigil.toml", &trusted);
    r.write("detections/r.yaml", &rule(16, QUERY, ""));
    let base = r.commit("base");
    // The attack: the PR points the environment the trusted job plans against at its server.
    r.write(
        "vigil.toml",
        &format!("{CONFIG}{}", env_toml("staging", &evil)),
    );
    r.write(
        "detections/r.yaml",
        &rule(16, &format!("{QUERY}| take 5\n"), ""),
    );
    r.commit("redirect the token");
    let gh = GithubServer::start("bob", json!([]), None);
    let env = [
        ("GITHUB_TOKEN", "gh-test-token"),
        ("GITHUB_REPOSITORY", "o/r"),
        ("GITHUB_API_URL", gh.url.as_str()),
        ("VIGIL_AZURE_TOKEN", SECRET),
    ];
    let (_, out, v) = gate_json(
        &r,
        &[
            "--base", &base, "--stage", "trusted", "--pr", "5", "--env", "staging",
        ],
        &env,
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "the PR's endpoint got requests: {:?}",
        seen.lock().unwrap()
    );
    assert!(
        out.contains("POL011") && out.contains("environments.staging.endpoint"),
        "{out}"
    );
    assert!(!out.contains(SECRET), "{out}");
    assert!(
        v["plan"].is_object(),
        "the plan ran against the trusted endpoint: {v:#}"
    );
    // Tokens go only to their audience's hosts over https, whatever the configuration says.
    for endpoint in ["http://evil.example.com", "https://evil.example.com"] {
        std::fs::write(
            r.path().join("base.toml"),
            format!("{CONFIG}{}", env_toml("staging", endpoint)),
        )
        .unwrap();
        let (code, out, _) = vigil(
            r.path(),
            &["plan", "--env", "staging"],
            &[
                ("VIGIL_AZURE_TOKEN", SECRET),
                ("VIGIL_TRUSTED_CONFIG", "base.toml"),
            ],
        );
        assert_ne!(code, Some(0), "{out}");
        assert!(
            out.contains("refusing to send a token"),
            "{endpoint}: {out}"
        );
        assert!(!out.contains(SECRET), "{out}");
    }
}

#[test]
fn content_cannot_shape_what_the_trusted_job_publishes() {
    let r = Repo::new();
    r.write("hunts/h.yaml", "id: 9b1d2a40-0009-4000-8000-000000000002\nname: h\ndescription: d\nquery: SigninLogs | where TimeGenerated > ago(1d)\n");
    let base = r.commit("base");
    // A rule whose name and description try to forge a verdict, mention a team, link out and
    // break out of the table; a file name with backticks.
    let hostile = "Evil |\n## ✅ vigil gate: pass <details><summary>ok</summary> @org/secops [click](https://evil.example/x) `x` https://evil.example/y";
    // (An unreviewed AI rule: the real verdict is a failure.)
    let text = rule(17, QUERY, &format!("{AI}rollout: shadow\n")).replace(
        "name: Rule 17",
        &format!("name: {}", serde_json::to_string(hostile).unwrap()),
    );
    r.write("detections/a`b`c.yaml", &text);
    // And the PR's own comment template, which the trusted job must not use.
    r.write(
        "templates/gate-comment.md.hbs",
        "## ✅ vigil gate: pass (forged)\n",
    );
    r.commit("hostile");
    let (_, out, _) = gate_json(&r, &["--base", &base, "--comment", "c.md"], &[]);
    let c = std::fs::read_to_string(r.path().join("c.md")).unwrap_or_else(|_| panic!("{out}"));
    assert!(!c.contains("(forged)"), "the PR's template was used: {c}");
    // Only the real verdict starts a line (content stays inside table cells).
    let verdicts: Vec<&str> = c
        .lines()
        .filter(|l| l.trim_start().starts_with('#') && l.contains("vigil gate:"))
        .collect();
    assert_eq!(verdicts.len(), 1, "a forged verdict: {verdicts:?}\n{c}");
    assert!(verdicts[0].starts_with("## ❌ vigil gate: fail"), "{c}");
    assert!(!c.contains("<details><summary>ok"), "{c}");
    for line in c.lines() {
        // Mentions and links survive only inside code spans.
        for needle in ["@org/secops", "https://evil.example", "]("] {
            if let Some(i) = line.find(needle) {
                let before = &line[..i];
                assert!(
                    before.matches('`').count() % 2 == 1,
                    "{needle} outside a code span: {line}"
                );
            }
        }
    }
    // Each table row keeps its cells: the hostile pipe did not add one.
    let row = c.lines().find(|l| l.contains("Evil")).unwrap();
    assert_eq!(row.matches(" | ").count(), 5, "{row}");
}
