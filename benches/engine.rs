//! The embedded engine on the 1,000,000-row table and the five timed detections of
//! ../shared/bench/kql-engines, side by side with duckdb-kql on the same data in the same run
//! (when a Python with duckdb_kql is given in `VIGIL_PEERS_PYTHON`, e.g. a venv made from that
//! folder's requirements.txt). Data is loaded first; load time is reported apart; best of 3.
//!
//! `cargo bench --bench engine` (`VIGIL_ENGINE_ROWS` to change the row count).

#[path = "../tests/common/secevent.rs"]
mod secevent;

use std::time::Instant;

use vigil::engine::value::{format_datetime, parse_datetime, Type};
use vigil::engine::{self, RunOptions, Sandbox};

const QUERIES: &[(&str, &str)] = &[
    ("T0_filter", "SecurityEvent | where EventID == 4625 and Account != \"SYSTEM\" | project TimeGenerated, Computer, Account"),
    ("T1_where_summarize", "SecurityEvent | where EventID == 4625 and Account != \"SYSTEM\" | summarize Failures = count() by Account, Computer | where Failures > 5"),
    ("T2_bin", "SecurityEvent | where EventID == 4688 | summarize Count = count() by bin(TimeGenerated, 1h), Computer"),
    ("T3_join", "let fails = SecurityEvent | where EventID == 4625 | summarize Fails = count() by Account;\nlet succ = SecurityEvent | where EventID == 4624 | summarize Succ = count() by Account;\nfails | join kind=inner succ on Account | where Fails > 10"),
    ("T3b_join_inline", "SecurityEvent | where EventID == 4625 | summarize Fails = count() by Account\n| join kind=inner (SecurityEvent | where EventID == 4624 | summarize Succ = count() by Account) on Account\n| where Fails > 10"),
];

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

const PEER: &str = r#"
import json, sys, time
import duckdb, duckdb_kql
path, queries = sys.argv[1], json.loads(sys.argv[2])
con = duckdb_kql.connect()
con.execute("SET TimeZone='UTC'")
t0 = time.perf_counter()
con.execute(f"CREATE TABLE SecurityEvent AS SELECT CAST(TimeGenerated AS TIMESTAMP) AS TimeGenerated, Computer, Account, CAST(EventID AS INTEGER) AS EventID, CommandLine, Process, EventData FROM read_json('{path}', format='newline_delimited')")
load = time.perf_counter() - t0
out = {"load_s": load}
for name, q in queries:
    ts = []; rows = None
    for _ in range(3):
        t = time.perf_counter(); df = duckdb_kql.kql(con, q).df(); ts.append(time.perf_counter() - t); rows = len(df)
    out[name] = {"best_s": min(ts), "rows": rows}
print(json.dumps(out))
"#;

fn main() {
    let n: usize = std::env::var("VIGIL_ENGINE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = secevent::make_table(n, now, 42);
    let dir = std::env::temp_dir().join(format!("vigil-engine-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("SecurityEvent.jsonl");
    std::fs::write(&path, secevent::to_jsonl(&rows, format_datetime)).unwrap();
    drop(rows);

    // Load: the file through the sandbox loader (typed by the bench's schema).
    let t = Instant::now();
    let mut sb = Sandbox::open(&dir);
    sb.add_schema(
        "SecurityEvent",
        vec![
            ("TimeGenerated".into(), Type::DateTime),
            ("Computer".into(), Type::String),
            ("Account".into(), Type::String),
            ("EventID".into(), Type::Int),
            ("CommandLine".into(), Type::String),
            ("Process".into(), Type::String),
            ("EventData".into(), Type::String),
        ],
    );
    let loaded = sb.load("SecurityEvent").unwrap().unwrap();
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "engine: {} rows loaded from JSON Lines in {load_s:.3} s",
        loaded.rows
    );

    let opts = RunOptions { now, window: None };
    let mut ours = Vec::new();
    for (name, q) in QUERIES {
        let mut best = f64::MAX;
        let mut nrows = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let o = engine::run(q, &sb, opts).expect("query runs");
            best = best.min(t.elapsed().as_secs_f64());
            nrows = o.table.rows;
        }
        ours.push((name.to_string(), best, nrows));
    }
    let peak = peak_rss_mb();

    let peer: Option<serde_json::Value> = std::env::var("VIGIL_PEERS_PYTHON").ok().and_then(|py| {
        let out = std::process::Command::new(py)
            .arg("-c")
            .arg(PEER)
            .arg(&path)
            .arg(serde_json::to_string(QUERIES).unwrap())
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "duckdb-kql failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    });
    if let Some(p) = &peer {
        println!(
            "duckdb-kql: loaded in {:.3} s",
            p["load_s"].as_f64().unwrap_or(0.0)
        );
    } else {
        println!("duckdb-kql: not run (set VIGIL_PEERS_PYTHON to a Python with duckdb_kql)");
    }
    println!();
    println!("| query | vigil s (rows) | duckdb-kql s (rows) | ratio duckdb/vigil |");
    println!("|---|---|---|---|");
    for (name, s, r) in &ours {
        let (ps, pr) = peer
            .as_ref()
            .and_then(|p| p.get(name))
            .map(|x| {
                (
                    x["best_s"].as_f64().unwrap_or(f64::NAN),
                    x["rows"].as_u64().unwrap_or(0),
                )
            })
            .unwrap_or((f64::NAN, 0));
        if ps.is_nan() {
            println!("| {name} | {s:.4} ({r}) | - | - |");
        } else {
            println!(
                "| {name} | {s:.4} ({r}) | {ps:.4} ({pr}) | {:.2}x |",
                ps / s
            );
        }
    }
    println!();
    println!("vigil peak RSS: {peak:.0} MB (data generation, file and load included)");
    let _ = std::fs::remove_dir_all(&dir);
}
