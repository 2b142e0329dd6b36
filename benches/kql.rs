//! KQL front-end speed (a benchmark, not a timed test): parse-only and parse + bind queries per
//! second over the real corpus (../shared/corpus/kql/queries.jsonl), one thread, in-process,
//! best of 5; binding against the embedded Sentinel catalog, and Kusto.Language against the
//! same schema (../shared/corpus/schemas/sentinel-schema.json).
//! When Microsoft's parser harness is installed (`npm ci` in ../shared/tools/kql-oracle, or
//! elsewhere with `KQL_ORACLE_PKG` naming the package), it is run on the same queries in the same run and its in-process timings
//! (the `ms` field of each answer; node start-up and JSON I/O excluded) give the ratio.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

fn corpus() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    p.join("MANIFEST.md").is_file().then_some(p)
}

fn oracle_ms(
    dir: &std::path::Path,
    queries: &[String],
    schema: Option<&std::path::Path>,
) -> Option<f64> {
    let mode = if schema.is_some() {
        "semantic"
    } else {
        "syntax"
    };
    // The package is either installed beside the script or named by KQL_ORACLE_PKG.
    if !dir.join("node_modules").is_dir() && std::env::var_os("KQL_ORACLE_PKG").is_none() {
        return None;
    }
    let mut child = Command::new("node")
        .arg(dir.join("kql-oracle.js"))
        .args(["--mode", mode])
        .args(
            schema
                .map(|p| vec!["--schema".to_string(), p.display().to_string()])
                .unwrap_or_default(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let qs: Vec<String> = queries.to_vec();
    let writer = std::thread::spawn(move || {
        for (i, q) in qs.iter().enumerate() {
            let line = serde_json::json!({ "id": i, "query": q, "mode": mode });
            let _ = writeln!(stdin, "{line}");
        }
    });
    let mut total = 0.0;
    for line in BufReader::new(child.stdout.take()?).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.ok()?).ok()?;
        total += v["ms"].as_f64().unwrap_or(0.0);
    }
    writer.join().ok()?;
    child.wait().ok()?;
    Some(total)
}

fn main() {
    let Some(corpus) = corpus() else {
        println!("kql: SKIPPED (corpus not found; set VIGIL_CORPUS)");
        return;
    };
    let queries: Vec<String> = std::fs::read_to_string(corpus.join("kql/queries.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["query"].as_str().map(String::from))
        .collect();
    let bytes: usize = queries.iter().map(|q| q.len()).sum();
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for q in &queries {
            std::hint::black_box(vigil::kql::parse(q));
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let ours = queries.len() as f64 / best;
    println!(
        "vigil parse: {} queries ({:.0} bytes on average) in {:.3} s = {:.0} queries/s (one thread)",
        queries.len(),
        bytes as f64 / queries.len() as f64,
        best,
        ours
    );
    let catalog = vigil::kql::catalog::Catalog::oracle_base();
    let mut best_bind = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for q in &queries {
            let p = vigil::kql::parse(q);
            std::hint::black_box(vigil::kql::binder::bind(q, &p.tree, catalog));
        }
        best_bind = best_bind.min(t.elapsed().as_secs_f64());
    }
    let ours_bind = queries.len() as f64 / best_bind;
    println!(
        "vigil parse + bind: {} queries in {:.3} s = {:.0} queries/s (one thread)",
        queries.len(),
        best_bind,
        ours_bind
    );
    let dir = std::env::var_os("KQL_ORACLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/kql-oracle")
        });
    let schema = corpus.join("schemas/sentinel-schema.json");
    for (label, schema, ours) in [
        ("parse", None, ours),
        ("parse + bind", Some(schema.as_path()), ours_bind),
    ] {
        match oracle_ms(&dir, &queries, schema) {
            Some(ms) => {
                let theirs = queries.len() as f64 / (ms / 1000.0);
                println!(
                    "Kusto.Language {label} (in-process timings): {:.3} s = {:.0} queries/s; vigil is {:.1}x faster (goal 50x)",
                    ms / 1000.0,
                    theirs,
                    ours / theirs
                );
            }
            None => println!(
                "Kusto.Language: not installed here (npm ci in {}, or set KQL_ORACLE_PKG); the issue quotes about 440 queries/s parse-only and 35 parse + bind on this machine: vigil {label} is {:.0}x that",
                dir.display(),
                ours / if schema.is_some() { 35.0 } else { 440.0 }
            ),
        }
    }
}
