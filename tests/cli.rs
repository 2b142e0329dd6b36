//! The binary from the outside: exit codes, output formats, files written, robustness.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn vigil(args: &[&str], cwd: &Path) -> Output {
    Command::new(common::vigil_bin())
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("vigil runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok_dir() -> std::path::PathBuf {
    common::manifest_dir().join("tests/data/validate/ok")
}

fn err_dir() -> std::path::PathBuf {
    common::manifest_dir().join("tests/data/validate/err")
}

#[test]
fn exit_codes() {
    assert_eq!(vigil(&["validate"], &ok_dir()).status.code(), Some(0));
    assert_eq!(vigil(&["validate"], &err_dir()).status.code(), Some(1));
    assert_eq!(
        vigil(&["validate", "--bogus"], &ok_dir()).status.code(),
        Some(2)
    );
    // Warnings alone pass, unless --deny warnings.
    let hunts = err_dir().join("hunts");
    assert_eq!(
        vigil(&["validate", "hunts/rule_keys_in_hunt.yaml"], &err_dir())
            .status
            .code(),
        Some(0),
        "{hunts:?}"
    );
    assert_eq!(
        vigil(
            &[
                "validate",
                "hunts/rule_keys_in_hunt.yaml",
                "--deny",
                "warnings"
            ],
            &err_dir()
        )
        .status
        .code(),
        Some(1)
    );
}

#[test]
fn json_sarif_and_github_formats_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let json_path = tmp.path().join("r/report.json");
    let sarif_path = tmp.path().join("r/report.sarif");
    let o = vigil(
        &[
            "validate",
            "--format",
            "github",
            "--json",
            json_path.to_str().unwrap(),
            "--sarif",
            sarif_path.to_str().unwrap(),
        ],
        &err_dir(),
    );
    assert_eq!(o.status.code(), Some(1));
    let gh = stdout(&o);
    assert!(gh.lines().all(|l| l.starts_with("::")), "{gh}");
    assert!(
        gh.contains("::error file=detections/frequency_out_of_range.yaml,line=6,col=17"),
        "{gh}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let diags = json["diagnostics"].as_array().unwrap();
    assert!(diags.len() > 40);
    assert_eq!(
        json["summary"]["errors"].as_u64().unwrap() as usize,
        diags.iter().filter(|d| d["severity"] == "error").count()
    );
    let d = diags.iter().find(|d| d["code"] == "VG202").unwrap();
    assert_eq!(d["file"], "detections/frequency_out_of_range.yaml");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(6), Some(17))
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), diags.len());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
    }
}

#[test]
fn hash_agrees_with_an_independent_implementation() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("r.yaml");
    std::fs::write(
        &f,
        "id: x\r\nquery: |\r\n  SigninLogs\r\n  | where UserPrincipalName =~ \"é\"\r\n\r\n",
    )
    .unwrap();
    let o = vigil(&["hash", f.to_str().unwrap()], tmp.path());
    assert_eq!(o.status.code(), Some(0));
    let ours = stdout(&o).split_whitespace().next().unwrap().to_string();
    // Python's hashlib over the same normalisation, written independently.
    let py = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys; q='SigninLogs\\n| where UserPrincipalName =~ \"\\u00e9\"\\n'; \
             print(hashlib.sha256(q.replace('\\r\\n','\\n').rstrip('\\n').encode()).hexdigest())",
        ])
        .output()
        .expect("python3 is available (the hash definition is checked against it)");
    assert_eq!(ours, String::from_utf8_lossy(&py.stdout).trim());
    // Raw .kql files hash their whole text.
    let k = tmp.path().join("q.kql");
    std::fs::write(&k, "SigninLogs\n| where UserPrincipalName =~ \"é\"\n").unwrap();
    let o = vigil(&["hash", k.to_str().unwrap()], tmp.path());
    assert!(stdout(&o).starts_with(&ours));
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn compile_writes_deterministic_parseable_output() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    for out in [&a, &b] {
        let o = vigil(
            &["compile", "--out", out.to_str().unwrap(), "--env", "prod"],
            &ok_dir(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    }
    let ta = read_tree(&a);
    assert_eq!(ta, read_tree(&b));
    assert!(ta.iter().any(|(p, _)| p == "manifest.json"));
    for (p, bytes) in &ta {
        if p.ends_with(".json") {
            let v: serde_json::Value =
                serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{p}: {e}"));
            if p.ends_with(".arm.json") || p.starts_with("arm/") {
                assert_eq!(v["contentVersion"], "1.0.0.0", "{p}");
                assert!(
                    v["resources"].as_array().is_some_and(|r| !r.is_empty()),
                    "{p}"
                );
            }
        }
    }
    let summary = String::from_utf8(
        ta.iter()
            .find(|(p, _)| p == "summary.md")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(summary.contains("| rules | 3 |"), "{summary}");
    assert!(summary.contains("gpt-5 2026-08-01"), "{summary}");
    // An unknown environment is a usage error.
    let o = vigil(
        &["compile", "--out", a.to_str().unwrap(), "--env", "prdo"],
        &ok_dir(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("VG402"));
}

#[test]
fn bad_input_never_panics_and_every_bad_file_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("detections");
    std::fs::create_dir_all(&d).unwrap();
    let good = |i: usize| {
        format!(
            "id: 00000000-0000-4000-8000-{i:012}\nname: Rule {i}\ndescription: d\nseverity: Low\nkind: Scheduled\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\nquery: SigninLogs | take {i}\n"
        )
    };
    for i in 0..2000 {
        std::fs::write(d.join(format!("good{i:04}.yaml")), good(i)).unwrap();
    }
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("binary.yaml", vec![0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]),
        ("latin1.yaml", b"name: caf\xe9\n".to_vec()),
        ("empty.yaml", Vec::new()),
        ("comments.yaml", b"# nothing here\n".to_vec()),
        ("huge.yaml", vec![b'a'; 2 * 1024 * 1024]),
        ("deep.yaml", "[".repeat(50_000).into_bytes()),
        (
            "deepmap.yaml",
            (0..200)
                .map(|i| format!("{}a:\n", "  ".repeat(i)))
                .collect::<String>()
                .into_bytes(),
        ),
        ("dupkeys.yaml", b"id: 1\nid: 2\n".to_vec()),
        ("list.yaml", b"- a\n- b\n".to_vec()),
        ("scalar.yaml", b"just text\n".to_vec()),
        ("tabs.yaml", b"id:\t\"x\n".to_vec()),
        ("bomb.yaml", {
            let mut t = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
            for i in 0..9 {
                let p = if i == 0 {
                    "a".to_string()
                } else {
                    format!("a{}", i - 1)
                };
                t.push_str(&format!(
                    "a{i}: &a{i} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                ));
            }
            t.into_bytes()
        }),
    ];
    for (name, bytes) in &bad {
        std::fs::write(d.join(name), bytes).unwrap();
    }
    let o = vigil(&["validate", "--format", "json"], tmp.path());
    assert_eq!(
        o.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["summary"]["files"], 2000 + bad.len());
    let files: std::collections::BTreeSet<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap().to_string())
        .collect();
    for (name, _) in &bad {
        assert!(
            files.contains(&format!("detections/{name}")),
            "{name} got no diagnostic"
        );
    }
    assert!(!files.iter().any(|f| f.contains("good")), "{files:?}");
}

#[test]
fn schema_and_debug_commands() {
    let root = common::manifest_dir();
    assert_eq!(
        vigil(&["schema", "--check", "schemas"], &root)
            .status
            .code(),
        Some(0)
    );
    let o = vigil(&["schema", "rule"], &root);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["title"], "vigil analytics rule");
    let f = "detections/folded_and_anchors.yaml";
    for stage in ["yaml", "model", "payload"] {
        let o = vigil(&["debug", stage, f], &ok_dir());
        assert_eq!(
            o.status.code(),
            Some(0),
            "{stage}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!o.stdout.is_empty());
    }
    let o = vigil(&["debug", "codes"], &root);
    assert!(stdout(&o).contains("VG202"));
}

#[test]
fn more_than_fifty_nrt_rules_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("detections");
    std::fs::create_dir_all(&d).unwrap();
    for i in 0..51 {
        std::fs::write(
            d.join(format!("nrt{i:02}.yaml")),
            format!("id: 00000000-0000-4000-8000-{i:012}\nname: NRT {i}\ndescription: d\nseverity: Low\nkind: NRT\nquery: SigninLogs | take {i}\n"),
        )
        .unwrap();
    }
    let o = vigil(&["validate", "--format", "json"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["VG209"]);
    std::fs::remove_file(d.join("nrt50.yaml")).unwrap();
    assert_eq!(vigil(&["validate"], tmp.path()).status.code(), Some(0));
}

#[test]
fn bundled_content_is_clean_and_compiles() {
    let root = common::manifest_dir();
    let o = vigil(&["validate", "--deny", "warnings"], &root);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("7 rules, 4 hunts, 1 functions, 1 anomaly settings, 3 watchlists"),
        "{}",
        stdout(&o)
    );
    let tmp = tempfile::tempdir().unwrap();
    for env in ["staging", "prod"] {
        let out = tmp.path().join(env);
        let o = vigil(
            &["compile", "--out", out.to_str().unwrap(), "--env", env],
            &root,
        );
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["items"].as_array().unwrap().len(), 16);
    }
}

#[test]
fn kql_check_and_debug_views() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.kql");
    let bad = tmp.path().join("bad.kql");
    std::fs::write(&good, "SigninLogs | where ResultType == '0' | take 5\n").unwrap();
    std::fs::write(&bad, "SigninLogs\n| wher ResultType == '0'\n").unwrap();
    let o = vigil(&["kql", "check", good.to_str().unwrap()], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = vigil(
        &["kql", "check", bad.to_str().unwrap(), "--format", "json"],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["code"], "KQL104");
    assert_eq!(v["diagnostics"][0]["line"], 2);
    // JSONL in the oracle's format: UTF-16 and byte offsets.
    let mut child = Command::new(common::vigil_bin())
        .args(["kql", "check", "--jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(stdin, r#"{{"id":1,"query":"print 'é' | wher x"}}"#).unwrap();
        writeln!(stdin, r#"{{"id":2,"query":"print 1"}}"#).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ok"], false);
    assert_eq!(lines[0]["diagnostics"][0]["byte_start"], 13);
    assert_eq!(lines[0]["diagnostics"][0]["start"], 12);
    assert_eq!(lines[1]["ok"], true);
    for stage in ["tokens", "ast"] {
        let o = vigil(&["debug", stage, bad.to_str().unwrap()], tmp.path());
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("wher"));
    }
    // Binding against a schema in the oracle's format.
    let schema = tmp.path().join("schema.json");
    std::fs::write(
        &schema,
        r#"{"tables": {"MyTable_CL": {"User_s": "string"}}, "functions": {}}"#,
    )
    .unwrap();
    let q = tmp.path().join("custom.kql");
    std::fs::write(&q, "MyTable_CL | where User_s == 'x' | project Usr_s\n").unwrap();
    let args = [
        "kql",
        "check",
        q.to_str().unwrap(),
        "--schema",
        schema.to_str().unwrap(),
        "--format",
        "json",
    ];
    let o = vigil(&args, tmp.path());
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["code"], "KQL201");
    let o = vigil(
        &[
            "kql",
            "check",
            good.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1), "SigninLogs is not in this schema");
}

#[test]
fn lint_severities_follow_vigil_toml() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("hunts")).unwrap();
    std::fs::write(
        tmp.path().join("hunts/h.yaml"),
        "id: 00000000-0000-4000-8000-000000000001\nname: h\ndescription: d\nquery: SecurityEvent | where EventID == 4688\n",
    )
    .unwrap();
    let run = |toml: &str| {
        std::fs::write(tmp.path().join("vigil.toml"), toml).unwrap();
        let o = vigil(&["validate", "--format", "json"], tmp.path());
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let sev: Vec<String> = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "KQL304")
            .map(|d| d["severity"].as_str().unwrap().to_string())
            .collect();
        (o.status.code(), sev)
    };
    assert_eq!(run(""), (Some(0), vec!["warning".to_string()]));
    assert_eq!(
        run("[lints]\nKQL304 = \"error\"\n"),
        (Some(1), vec!["error".to_string()])
    );
    assert_eq!(
        run("[lints]\nhunt_without_time_filter = \"off\"\n"),
        (Some(0), vec![])
    );
    let (code, _) = run("[lints]\nKQL999 = \"off\"\n");
    assert_eq!(code, Some(1));
}
