//! The embedded engine on the 1,000,000-row table and the five timed detections of
//! ../shared/bench/kql-engines, side by side with duckdb-kql on the same data in the same run
//! (when a Python with duckdb_kql is given in `VIGIL_PEERS_PYTHON`, e.g. a venv made from that
//! folder's requirements.txt). Data is loaded first; load time is reported apart; best of 3.
//!
//! Memory: vigil's load and queries run in a child process of their own (as the peer does),
//! so its peak RSS counts the engine, not the bench's data generation. Both peaks are printed
//! beside the raw column data of the input file (UTF-8 bytes of the string values plus 8 bytes
//! per number or datetime) and the bytes vigil's column layout holds.
//!
//! `cargo bench --bench engine` (`VIGIL_ENGINE_ROWS` to change the row count;
//! `VIGIL_ENGINE_FORMAT=parquet` to load the same rows from a Snappy Parquet file, in row
//! groups of 122,880 rows as DuckDB writes them, instead of JSON Lines;
//! `VIGIL_ENGINE_KEEP=1` keeps the data file for profiling).

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
import resource
t0 = time.perf_counter()
source = f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_json('{path}', format='newline_delimited')"
con.execute(f"CREATE TABLE SecurityEvent AS SELECT CAST(TimeGenerated AS TIMESTAMP) AS TimeGenerated, Computer, Account, CAST(EventID AS INTEGER) AS EventID, CommandLine, Process, EventData FROM {source}")
load = time.perf_counter() - t0
out = {"load_s": load}
for name, q in queries:
    ts = []; rows = None
    for _ in range(3):
        t = time.perf_counter(); df = duckdb_kql.kql(con, q).df(); ts.append(time.perf_counter() - t); rows = len(df)
    out[name] = {"best_s": min(ts), "rows": rows}
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"#;

/// The raw column data of a JSON Lines file: UTF-8 bytes of string values, 8 bytes per
/// number (datetimes are strings in JSON; the bench's schema makes `TimeGenerated` one, so it
/// counts 8).
fn raw_bytes(path: &std::path::Path) -> u64 {
    use std::io::BufRead;
    let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut total = 0u64;
    for line in f.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        for (k, x) in v.as_object().unwrap() {
            total += match x {
                _ if k == "TimeGenerated" => 8,
                serde_json::Value::String(s) => s.len() as u64,
                serde_json::Value::Number(_) => 8,
                _ => 0,
            };
        }
    }
    total
}

/// The rows as a Parquet file: Snappy, row groups of 122,880 rows (DuckDB's default),
/// dictionary-encoded where the writer finds it pays (arrow-rs's default).
fn write_parquet(path: &std::path::Path, rows: &[secevent::Row]) {
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
    use std::sync::Arc;
    let strings = |f: fn(&secevent::Row) -> &str| {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f))) as ArrayRef
    };
    let batch = RecordBatch::try_from_iter(vec![
        (
            "TimeGenerated",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(rows.iter().map(|r| r.time / 10))
                    .with_timezone("UTC"),
            ) as ArrayRef,
        ),
        ("Computer", strings(|r| &r.computer)),
        ("Account", strings(|r| &r.account)),
        (
            "EventID",
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.event_id),
            )) as ArrayRef,
        ),
        ("CommandLine", strings(|r| &r.command_line)),
        ("Process", strings(|r| &r.process)),
        ("EventData", strings(|r| &r.event_data)),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(122_880))
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// The child: load the file and time the queries; prints one JSON object.
fn child(dir: &std::path::Path, now: i64) {
    let t = Instant::now();
    let mut sb = Sandbox::open(dir);
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
    let layout: u64 = loaded.columns.iter().map(|c| c.data.heap_bytes()).sum();
    let opts = RunOptions { now, window: None };
    let mut out = serde_json::json!({"load_s": load_s, "rows": loaded.rows, "layout_bytes": layout, "load_peak_mb": peak_rss_mb()});
    let only = std::env::var("VIGIL_ENGINE_ONLY").ok();
    if let Ok(q) = std::env::var("VIGIL_ENGINE_QUERY") {
        let o = engine::run(&q, &sb, opts).expect("query runs");
        println!("{} rows; peak {:.0} MB", o.table.rows, peak_rss_mb());
        return;
    }
    for (name, q) in QUERIES {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let mut best = f64::MAX;
        let mut nrows = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let o = engine::run(q, &sb, opts).expect("query runs");
            best = best.min(t.elapsed().as_secs_f64());
            nrows = o.table.rows;
        }
        out[*name] = serde_json::json!({"best_s": best, "rows": nrows});
    }
    out["peak_mb"] = serde_json::json!(peak_rss_mb());
    println!("{out}");
}

fn main() {
    let n: usize = std::env::var("VIGIL_ENGINE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    if let Ok(dir) = std::env::var("VIGIL_ENGINE_CHILD") {
        child(std::path::Path::new(&dir), now);
        return;
    }
    let rows = secevent::make_table(n, now, 42);
    let dir = std::env::temp_dir().join(format!("vigil-engine-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let parquet = std::env::var("VIGIL_ENGINE_FORMAT").is_ok_and(|f| f == "parquet");
    // The raw column data is counted on the JSON Lines form (kept beside the folder when the
    // engines read Parquet).
    let jsonl = if parquet {
        dir.with_extension("jsonl")
    } else {
        dir.join("SecurityEvent.jsonl")
    };
    std::fs::write(&jsonl, secevent::to_jsonl(&rows, format_datetime)).unwrap();
    let path = if parquet {
        let p = dir.join("SecurityEvent.parquet");
        write_parquet(&p, &rows);
        p
    } else {
        jsonl.clone()
    };
    drop(rows);
    // Flushed before either engine runs, so the first to run (vigil) does not load while the
    // kernel writes the file back.
    std::fs::File::open(&path).unwrap().sync_all().unwrap();
    let raw = raw_bytes(&jsonl);
    if parquet {
        let _ = std::fs::remove_file(&jsonl);
    }

    let run = |cmd: &mut std::process::Command, who: &str| -> Option<serde_json::Value> {
        let out = match cmd.output() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{who} did not start: {e}");
                return None;
            }
        };
        if !out.status.success() {
            eprintln!(
                "{who} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        // The last line is the result (libraries may print before it).
        let text = String::from_utf8_lossy(&out.stdout);
        match text
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .map(serde_json::from_str)
        {
            Some(Ok(v)) => Some(v),
            _ => {
                eprintln!("{who} printed no result: {text}");
                None
            }
        }
    };
    let ours = run(
        std::process::Command::new(std::env::current_exe().unwrap())
            .env("VIGIL_ENGINE_CHILD", &dir)
            .env("VIGIL_ENGINE_ROWS", n.to_string()),
        "vigil",
    )
    .expect("vigil's run");
    let peer: Option<serde_json::Value> = std::env::var("VIGIL_PEERS_PYTHON").ok().and_then(|py| {
        run(
            std::process::Command::new(py)
                .arg("-c")
                .arg(PEER)
                .arg(&path)
                .arg(serde_json::to_string(QUERIES).unwrap()),
            "duckdb-kql",
        )
    });
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "engine: {} rows loaded from {} in {:.3} s",
        ours["rows"],
        if parquet { "Parquet" } else { "JSON Lines" },
        f(&ours, "load_s")
    );
    if let Some(p) = &peer {
        println!("duckdb-kql: loaded in {:.3} s", f(p, "load_s"));
    } else {
        println!("duckdb-kql: not run (set VIGIL_PEERS_PYTHON to a Python with duckdb_kql)");
    }
    println!();
    println!("| query | vigil s (rows) | duckdb-kql s (rows) | ratio duckdb/vigil |");
    println!("|---|---|---|---|");
    for (name, _) in QUERIES {
        let (s, r) = (f(&ours[*name], "best_s"), &ours[*name]["rows"]);
        match peer.as_ref().map(|p| &p[*name]) {
            Some(x) if x.is_object() => println!(
                "| {name} | {s:.4} ({r}) | {:.4} ({}) | {:.2}x |",
                f(x, "best_s"),
                x["rows"],
                f(x, "best_s") / s
            ),
            _ => println!("| {name} | {s:.4} ({r}) | - | - |"),
        }
    }
    println!();
    let raw_mb = raw as f64 / 1048576.0;
    let layout_mb = f(&ours, "layout_bytes") / 1048576.0;
    let peak = f(&ours, "peak_mb");
    println!(
        "raw column data: {raw_mb:.0} MB; vigil's column layout: {layout_mb:.0} MB; vigil's peak after the load: {:.0} MB",
        f(&ours, "load_peak_mb")
    );
    println!(
        "vigil peak RSS: {peak:.0} MB ({:.2}x the raw column data; load and queries, own process)",
        peak / raw_mb
    );
    if let Some(p) = &peer {
        println!("duckdb-kql peak RSS: {:.0} MB", f(p, "peak_mb"));
    }
    if std::env::var_os("VIGIL_ENGINE_KEEP").is_some() {
        println!(
            "data kept in {} (VIGIL_ENGINE_CHILD=that folder runs vigil's side alone)",
            dir.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
