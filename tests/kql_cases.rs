//! Data-driven KQL front-end cases: `tests/data/kql/ok/*.kql` must parse and bind against the
//! embedded Sentinel catalog without errors, `err/*.kql` must not. Each input has its snapshot
//! beside it (`x.snap`: every error as `code line:col message`), and the verdict of Microsoft's
//! parser for every case is committed in `tests/data/kql/oracle.jsonl`, so each case is judged
//! by the referee and not by vigil's own output. With the live oracle installed (see
//! tests/kql_mutations.rs) the committed verdicts are re-checked; `VIGIL_BLESS=1` rewrites the
//! snapshots and the verdict file after review.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use vigil::kql::catalog::Catalog;

#[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
struct Verdict {
    id: String,
    ok: bool,
    /// The byte offset of Kusto's first error, when it rejects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_error: Option<u32>,
}

fn cases() -> Vec<(String, PathBuf)> {
    let root = common::manifest_dir().join("tests/data/kql");
    let mut out = Vec::new();
    for dir in ["ok", "err"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "kql"))
            .collect();
        files.sort();
        for f in files {
            let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((format!("{dir}/{stem}"), f));
        }
    }
    out
}

fn line_col(text: &str, at: u32) -> (usize, usize) {
    let before = &text[..(at as usize).min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

/// Every error vigil's parser and binder report, in order: (code, offset, message).
fn errors(text: &str) -> Vec<(String, u32, String)> {
    let p = vigil::kql::parse(text);
    let mut out: Vec<(String, u32, String)> = p
        .errors
        .iter()
        .map(|e| {
            (
                e.kind.code().as_str().to_string(),
                e.start,
                e.message.clone(),
            )
        })
        .collect();
    if out.is_empty() {
        let b = vigil::kql::binder::bind(text, &p.tree, Catalog::oracle_base());
        out.extend(b.errors.iter().map(|e| {
            (
                e.kind.code().as_str().to_string(),
                e.start,
                e.message.clone(),
            )
        }));
    }
    out
}

/// Ask the live oracle (semantic mode, the corpus's Sentinel schema), if installed.
fn live_oracle(texts: &[(String, String)]) -> Option<BTreeMap<String, Verdict>> {
    let corpus = common::corpus()?;
    let script = std::env::var_os("VIGIL_KQL_ORACLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| corpus.join("../tools/kql-oracle"))
        .join("kql-oracle.js");
    let pkg = std::env::var("KQL_ORACLE_PKG").ok()?;
    if !script.is_file() || !Path::new(&pkg).is_dir() {
        return None;
    }
    let schema = corpus.join("schemas/sentinel-schema.json");
    let mut child = Command::new("node")
        .arg(&script)
        .args(["--mode", "semantic", "--schema"])
        .arg(&schema)
        .env("KQL_ORACLE_PKG", &pkg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let input: String = texts
        .iter()
        .map(|(id, q)| serde_json::json!({"id": id, "query": q}).to_string() + "\n")
        .collect();
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let mut verdicts = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let first_error = v["diagnostics"]
            .as_array()?
            .iter()
            .filter(|d| d["severity"] == "Error")
            .filter_map(|d| d["byte_start"].as_u64())
            .min()
            .map(|x| x as u32);
        let id = v["id"].as_str()?.to_string();
        verdicts.insert(
            id.clone(),
            Verdict {
                id,
                ok: v["ok"].as_bool()?,
                first_error,
            },
        );
    }
    Some(verdicts)
}

#[test]
fn kql_cases_match_their_snapshots_and_the_oracle() {
    let bless = std::env::var_os("VIGIL_BLESS").is_some();
    let root = common::manifest_dir().join("tests/data/kql");
    let verdict_file = root.join("oracle.jsonl");
    let committed: BTreeMap<String, Verdict> = std::fs::read_to_string(&verdict_file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Verdict>(l).unwrap())
        .map(|v| (v.id.clone(), v))
        .collect();
    let cases = cases();
    let texts: Vec<(String, String)> = cases
        .iter()
        .map(|(id, p)| (id.clone(), std::fs::read_to_string(p).unwrap()))
        .collect();
    let live = live_oracle(&texts);
    match &live {
        Some(live) if bless => {
            let text: String = live
                .values()
                .map(|v| serde_json::to_string(v).unwrap() + "\n")
                .collect();
            std::fs::write(&verdict_file, text).unwrap();
        }
        Some(live) => assert_eq!(
            live, &committed,
            "the live oracle's verdicts differ from tests/data/kql/oracle.jsonl"
        ),
        None => eprintln!("live oracle not installed: judging against the committed verdicts"),
    }
    let verdicts = live.unwrap_or(committed);
    let mut failures = Vec::new();
    let (mut offsets_agree, mut rejected) = (0, 0);
    for ((id, path), (_, text)) in cases.iter().zip(&texts) {
        let errs = errors(text);
        let mut snap = String::new();
        for (code, at, msg) in &errs {
            let (l, c) = line_col(text, *at);
            snap.push_str(&format!("{code} {l}:{c} {msg}\n"));
        }
        let snap_path = path.with_extension("snap");
        if bless {
            std::fs::write(&snap_path, &snap).unwrap();
        }
        if std::fs::read_to_string(&snap_path).unwrap_or_default() != snap {
            failures.push(format!(
                "{id}: snapshot differs (bless with VIGIL_BLESS=1):\n{snap}"
            ));
        }
        let Some(v) = verdicts.get(id) else {
            failures.push(format!("{id}: no oracle verdict committed"));
            continue;
        };
        let expect_ok = id.starts_with("ok/");
        if v.ok != expect_ok {
            failures.push(format!(
                "{id}: the oracle says ok={}, but the case is in {}",
                v.ok,
                if expect_ok { "ok/" } else { "err/" }
            ));
        }
        if errs.is_empty() != v.ok {
            failures.push(format!(
                "{id}: vigil {} but Kusto {}",
                if errs.is_empty() {
                    "accepts"
                } else {
                    "rejects"
                },
                if v.ok { "accepts" } else { "rejects" }
            ));
        }
        if !v.ok && !errs.is_empty() {
            rejected += 1;
            if v.first_error == Some(errs[0].1) {
                offsets_agree += 1;
            }
        }
    }
    eprintln!(
        "{} cases; first error offset agrees with Kusto on {offsets_agree}/{rejected}",
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 30);
}
