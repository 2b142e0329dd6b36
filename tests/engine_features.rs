//! The 44 feature queries of ../shared/bench/kql-engines over a seeded SecurityEvent table,
//! each checked against an answer computed independently in plain Rust (as peers.py does with
//! pandas), never against vigil's own output.

mod common;
#[path = "common/secevent.rs"]
mod secevent;

use std::collections::{BTreeMap, BTreeSet};

use secevent::{make_table, Row, HOUR};
use vigil::engine::value::{format_datetime, parse_datetime, Type, Value, DAY};
use vigil::engine::{self, RunOptions, Sandbox};

fn bench_dir() -> Option<std::path::PathBuf> {
    let p = common::manifest_dir().join("../shared/bench/kql-engines");
    p.join("feature_queries.jsonl").is_file().then_some(p)
}

fn table(rows: &[Row]) -> engine::Table {
    let schema = vec![
        ("TimeGenerated".to_string(), Type::DateTime),
        ("Computer".to_string(), Type::String),
        ("Account".to_string(), Type::String),
        ("EventID".to_string(), Type::Int),
        ("CommandLine".to_string(), Type::String),
        ("Process".to_string(), Type::String),
        ("EventData".to_string(), Type::String),
    ];
    let data = rows
        .iter()
        .map(|r| {
            vec![
                ("TimeGenerated".to_string(), Value::DateTime(r.time)),
                ("Computer".to_string(), Value::str(&r.computer)),
                ("Account".to_string(), Value::str(&r.account)),
                ("EventID".to_string(), Value::Long(r.event_id)),
                ("CommandLine".to_string(), Value::str(&r.command_line)),
                ("Process".to_string(), Value::str(&r.process)),
                ("EventData".to_string(), Value::str(&r.event_data)),
            ]
        })
        .collect();
    engine::data::rows_to_table(data, Some(&schema))
}

/// Term match as peers.py defines it: the term between non-alphanumeric characters.
fn has_term(s: &str, term: &str) -> bool {
    let re = regex::Regex::new(&format!(
        r"(?i)(?:^|[^0-9a-z]){}(?:$|[^0-9a-z])",
        regex::escape(term)
    ))
    .unwrap();
    re.is_match(s)
}

enum Expect {
    Rows(usize),
    Scalar(i64),
}

#[test]
fn feature_queries_match_independent_answers() {
    let Some(dir) = bench_dir() else {
        eprintln!("skipped: ../shared/bench/kql-engines not present");
        return;
    };
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(10_000, now, 7);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));

    // Independent answers (plain Rust over the rows).
    let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    let ncomp = rows
        .iter()
        .map(|r| &r.computer)
        .collect::<BTreeSet<_>>()
        .len();
    let fails: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.event_id == 4625)
        .map(|r| r.account.as_str())
        .collect();
    let succ: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.event_id == 4624)
        .map(|r| r.account.as_str())
        .collect();
    let tmin = rows.iter().map(|r| r.time).min().unwrap();
    let lo = (tmin + HOUR).div_euclid(HOUR) * HOUR;
    let hi = lo + 6 * HOUR;
    let mut expect: BTreeMap<&str, Expect> = BTreeMap::new();
    use Expect::*;
    expect.insert("take", Rows(10));
    expect.insert("where_eq", Rows(count(&|r| r.event_id == 4688)));
    expect.insert("count_op", Scalar(count(&|r| r.event_id == 4625) as i64));
    expect.insert(
        "where_and_or",
        Rows(count(&|r| {
            (r.event_id == 4625 && r.account != "SYSTEM") || r.event_id == 4720
        })),
    );
    expect.insert("project", Rows(rows.len()));
    expect.insert("extend_strcat", Rows(rows.len()));
    expect.insert("has", Rows(count(&|r| has_term(&r.command_line, "whoami"))));
    expect.insert(
        "not_has",
        Rows(count(&|r| {
            r.event_id == 4688 && !has_term(&r.command_line, "whoami")
        })),
    );
    expect.insert(
        "contains",
        Rows(count(&|r| r.command_line.to_lowercase().contains("enc"))),
    );
    expect.insert(
        "has_any",
        Rows(count(&|r| {
            has_term(&r.command_line, "whoami") || has_term(&r.command_line, "rundll32")
        })),
    );
    expect.insert(
        "in_ci",
        Rows(count(&|r| {
            ["powershell.exe", "cmd.exe"].contains(&r.process.to_lowercase().as_str())
        })),
    );
    expect.insert("eq_ci", Rows(count(&|r| r.process == "whoami.exe")));
    expect.insert(
        "startswith_endswith",
        Rows(count(&|r| {
            r.process.ends_with(".exe") && r.computer.starts_with("host-00")
        })),
    );
    let enc = regex::Regex::new(r"-enc\s+[A-Za-z0-9+/=]{8,}").unwrap();
    expect.insert(
        "matches_regex",
        Rows(count(&|r| enc.is_match(&r.command_line))),
    );
    expect.insert("ago", Rows(count(&|r| r.time > now - DAY)));
    expect.insert(
        "between_datetime",
        Rows(count(&|r| r.time >= lo && r.time <= hi)),
    );
    expect.insert("summarize_count_by", Rows(ncomp));
    let hours = rows
        .iter()
        .map(|r| r.time.div_euclid(HOUR))
        .collect::<BTreeSet<_>>();
    expect.insert("summarize_bin", Rows(hours.len()));
    expect.insert("dcount", Rows(ncomp));
    expect.insert("arg_max", Rows(ncomp));
    expect.insert("make_set", Rows(ncomp));
    expect.insert("countif", Rows(ncomp));
    expect.insert("let_scalar", Rows(count(&|r| r.event_id == 4625)));
    expect.insert(
        "let_dynamic_in",
        Rows(count(&|r| {
            r.computer == "host-001" || r.computer == "host-002"
        })),
    );
    expect.insert("materialize", Rows(fails.len()));
    expect.insert(
        "join_inner_left_right",
        Rows(fails.intersection(&succ).count()),
    );
    expect.insert("join_inner_inline", Rows(fails.intersection(&succ).count()));
    expect.insert("summarize_then_where", Rows(ncomp));
    expect.insert("join_leftanti", Rows(fails.difference(&succ).count()));
    expect.insert(
        "union",
        Rows(count(&|r| r.event_id == 4624) + count(&|r| r.event_id == 4625)),
    );
    expect.insert("iff", Rows(2));
    expect.insert("case", Rows(3));
    expect.insert(
        "parse_json",
        Rows(count(&|r| r.event_data.contains("\"LogonType\": 3,"))),
    );
    expect.insert(
        "todynamic_mvexpand",
        Rows(
            rows.iter()
                .filter(|r| r.event_id == 4688)
                .map(|r| r.command_line.split(' ').count())
                .sum(),
        ),
    );
    expect.insert("parse_op", Rows(count(&|r| r.event_id == 4688)));
    let enc2 = regex::Regex::new(r"-enc\s+\S+").unwrap();
    expect.insert("extract", Rows(count(&|r| enc2.is_match(&r.command_line))));
    expect.insert("datetime_diff", Rows(ncomp));
    expect.insert("top", Rows(5));
    expect.insert("sort_take", Rows(5));
    expect.insert("distinct", Rows(ncomp));
    expect.insert("project_away_rename", Rows(rows.len()));
    expect.insert(
        "datatable_in",
        Rows(count(&|r| r.account == "SYSTEM" || r.account == "user001")),
    );
    expect.insert("make_series", Rows(ncomp));
    expect.insert("tolower_substring", Rows(rows.len()));

    #[derive(serde::Deserialize)]
    struct Q {
        id: String,
        query: String,
    }
    let queries: Vec<Q> = common::read_jsonl(&dir.join("feature_queries.jsonl"));
    assert_eq!(queries.len(), 44);
    let dt = regex::Regex::new(r"datetime\([^)]*\)").unwrap();
    let mut failures = Vec::new();
    for q in &queries {
        let mut text = q.query.clone();
        if q.id == "between_datetime" {
            // The bench pins the range to its own data; use this table's range.
            let mut k = 0;
            text = dt
                .replace_all(&text, |_: &regex::Captures| {
                    k += 1;
                    format!(
                        "datetime({})",
                        format_datetime(if k == 1 { lo } else { hi })
                    )
                })
                .into_owned();
        }
        let got = engine::run(&text, &sb, RunOptions { now, window: None });
        let Some(want) = expect.get(q.id.as_str()) else {
            failures.push(format!("{}: no independent answer", q.id));
            continue;
        };
        match (got, want) {
            (Err(e), _) => failures.push(format!("{}: error {}", q.id, e.message)),
            (Ok(o), Rows(n)) => {
                if o.table.rows != *n {
                    failures.push(format!("{}: {} rows, expected {n}", q.id, o.table.rows));
                }
            }
            (Ok(o), Scalar(v)) => {
                let got = o
                    .table
                    .columns
                    .first()
                    .and_then(|c| c.data.first())
                    .and_then(|v| v.as_i64());
                if got != Some(*v) {
                    failures.push(format!("{}: {got:?}, expected {v}", q.id));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Values, not only row counts: per-host aggregates against plain Rust.
#[test]
fn aggregates_match_independent_values() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(5_000, now, 11);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let q = "SecurityEvent | summarize Fails = countif(EventID == 4625), Total = count(), \
             Accounts = dcount(Account), First = min(TimeGenerated), Last = max(TimeGenerated) \
             by Computer | sort by Computer asc";
    let o = engine::run(q, &sb, RunOptions { now, window: None }).unwrap();
    let mut want: BTreeMap<&str, (i64, i64, BTreeSet<&str>, i64, i64)> = BTreeMap::new();
    for r in &rows {
        let e = want
            .entry(&r.computer)
            .or_insert((0, 0, BTreeSet::new(), i64::MAX, i64::MIN));
        e.0 += (r.event_id == 4625) as i64;
        e.1 += 1;
        e.2.insert(&r.account);
        e.3 = e.3.min(r.time);
        e.4 = e.4.max(r.time);
    }
    assert_eq!(o.table.rows, want.len());
    let col = |n: &str| o.table.column(n).unwrap().data.clone();
    let (c, f, t, a, first, last) = (
        col("Computer"),
        col("Fails"),
        col("Total"),
        col("Accounts"),
        col("First"),
        col("Last"),
    );
    for (i, (host, w)) in want.iter().enumerate() {
        assert_eq!(c[i].to_kusto_string(), *host);
        assert_eq!(f[i].as_i64(), Some(w.0), "{host} fails");
        assert_eq!(t[i].as_i64(), Some(w.1), "{host} total");
        assert_eq!(a[i].as_i64(), Some(w.2.len() as i64), "{host} dcount");
        assert!(
            matches!(first[i], Value::DateTime(x) if x == w.3),
            "{host} first"
        );
        assert!(
            matches!(last[i], Value::DateTime(x) if x == w.4),
            "{host} last"
        );
    }
}

/// `evaluate pivot`: the seeded table pivoted on EventID per Computer, against counts and sums
/// computed in plain Rust; then the page's shapes (an aggregation, group columns, an output
/// schema) on a datatable whose answer is worked out by hand.
#[test]
fn pivot_matches_independent_counts() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(3_000, now, 5);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let opts = RunOptions { now, window: None };
    let o = engine::run(
        "SecurityEvent | project Computer, EventID | evaluate pivot(EventID)",
        &sb,
        opts,
    )
    .unwrap();
    // Columns: Computer, then event ids in order of first appearance.
    let mut ids: Vec<i64> = Vec::new();
    let mut hosts: Vec<&str> = Vec::new();
    let mut want: BTreeMap<(&str, i64), i64> = BTreeMap::new();
    for r in &rows {
        if !ids.contains(&r.event_id) {
            ids.push(r.event_id);
        }
        if !hosts.contains(&r.computer.as_str()) {
            hosts.push(&r.computer);
        }
        *want.entry((&r.computer, r.event_id)).or_default() += 1;
    }
    let names: Vec<String> = o.table.columns.iter().map(|c| c.name.clone()).collect();
    let mut expect = vec!["Computer".to_string()];
    expect.extend(ids.iter().map(|i| i.to_string()));
    assert_eq!(names, expect);
    assert_eq!(o.table.rows, hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        assert_eq!(
            o.table.column("Computer").unwrap().data[i].to_kusto_string(),
            *h
        );
        for id in &ids {
            let got = o.table.column(&id.to_string()).unwrap().data[i].as_i64();
            assert_eq!(got, Some(*want.get(&(*h, *id)).unwrap_or(&0)), "{h} {id}");
        }
    }

    let data = r#"datatable(State:string, EventType:string, Source:string, Deaths:long)[
        "ARKANSAS", "Heat", "News", 2,
        "ARIZONA", "Flash Flood", "Spotter", 6,
        "ARKANSAS", "Heat", "News", 1,
        "ARKANSAS", "Heavy Rain", "Manager", 1,
        "ARIZONA", "Lightning", "News", 1,
        "ARIZONA", "Flash Flood", "News", 3]"#;
    let run = |tail: &str| {
        let o = engine::run(&format!("{data} {tail}"), &sb, opts).unwrap();
        let names: Vec<String> = o.table.columns.iter().map(|c| c.name.clone()).collect();
        let types: Vec<Type> = o.table.columns.iter().map(|c| c.ty).collect();
        (names, types, o.table.json_rows())
    };
    let j = |v: serde_json::Value| v.as_array().unwrap().clone();
    let (names, types, rows) =
        run("| project State, EventType, Deaths | evaluate pivot(State, sum(Deaths))");
    assert_eq!(names, ["EventType", "ARKANSAS", "ARIZONA"]);
    assert_eq!(types, [Type::String, Type::Long, Type::Long]);
    assert_eq!(
        rows,
        j(serde_json::json!([
            ["Heat", 3, 0],
            ["Flash Flood", 0, 9],
            ["Heavy Rain", 1, 0],
            ["Lightning", 0, 1]
        ]))
    );
    // Group columns named: the rest (Source) is not a group.
    let (names, _, rows) = run("| evaluate pivot(State, sum(Deaths), EventType)");
    assert_eq!(names, ["EventType", "ARKANSAS", "ARIZONA"]);
    assert_eq!(rows.len(), 4);
    let (names, _, rows) = run("| evaluate pivot(State, sum(Deaths), EventType, Source)");
    assert_eq!(names, ["EventType", "Source", "ARKANSAS", "ARIZONA"]);
    assert_eq!(
        rows,
        j(serde_json::json!([
            ["Heat", "News", 3, 0],
            ["Flash Flood", "Spotter", 0, 6],
            ["Heavy Rain", "Manager", 1, 0],
            ["Lightning", "News", 0, 1],
            ["Flash Flood", "News", 0, 3]
        ]))
    );
    // Default count(); min() leaves empty cells null.
    let (_, _, rows) = run("| project State, EventType | evaluate pivot(State)");
    assert_eq!(rows[0], serde_json::json!(["Heat", 2, 0]));
    let (_, _, rows) =
        run("| project State, EventType, Deaths | evaluate pivot(State, min(Deaths))");
    assert_eq!(rows[0], serde_json::json!(["Heat", 1, null]));
    // An output schema decides the columns: ARKANSAS is dropped, TEXAS is all zeros.
    let (names, types, rows) = run(
        "| project State, EventType | evaluate pivot(State): (EventType:string, ARIZONA:long, TEXAS:long)",
    );
    assert_eq!(names, ["EventType", "ARIZONA", "TEXAS"]);
    assert_eq!(types, [Type::String, Type::Long, Type::Long]);
    assert_eq!(rows[1], serde_json::json!(["Flash Flood", 2, 0]));
    // Hostile arguments: a clear error, not a panic.
    for bad in [
        "| evaluate pivot(Nope)",
        "| evaluate pivot(State, count(), Nope)",
        "| evaluate pivot()",
    ] {
        let e = engine::run(&format!("{data} {bad}"), &sb, opts).unwrap_err();
        assert!(e.message.contains("pivot"), "{bad}: {}", e.message);
    }
}

/// The binder's function table (`src/kql/data/builtins.tsv`) and the engine agree on names:
/// every scalar, aggregate and plugin the table declares either runs on the engine or is
/// listed, with nothing else, in `src/engine/not_yet.tsv` (generated: `VIGIL_BLESS=1`); and
/// every name the engine's function tables implement is declared, so the binder never rejects
/// what the engine runs. A name is "not supported yet" when calling it says exactly that.
#[test]
fn the_engine_implements_what_the_function_table_declares_or_says_not_yet() {
    use vigil::kql::catalog::{BuiltinKind, Catalog};
    let c = Catalog::embedded();
    let sb = Sandbox::default();
    let opts = RunOptions {
        now: 0,
        window: None,
    };
    let mut missing: BTreeSet<String> = BTreeSet::new();
    let mut declared: BTreeSet<String> = BTreeSet::new();
    for (name, sigs) in &c.builtins {
        for b in sigs {
            let q = match b.kind {
                BuiltinKind::Scalar => format!("print {name}()"),
                BuiltinKind::Aggregate => format!("print x = 1 | summarize {name}(x)"),
                BuiltinKind::Plugin => format!("print x = 1 | evaluate {name}()"),
                _ => continue,
            };
            declared.insert(name.clone());
            let kind = format!("{:?}", b.kind).to_lowercase();
            if let Err(e) = engine::run(&q, &sb, opts) {
                let m = &e.message;
                let unsupported = m == &format!("not supported yet: function {name}()")
                    || m == &format!("not supported yet: evaluate {name}()")
                    || m == &format!("not supported yet: aggregation {name}()")
                    || (m.starts_with("not supported yet:") && m.contains(&format!("{name}(")));
                if unsupported {
                    missing.insert(format!("{kind}\t{name}"));
                }
            }
        }
    }
    let path = common::manifest_dir().join("src/engine/not_yet.tsv");
    let text = format!(
        "# Built-in functions src/kql/data/builtins.tsv declares that the engine does not run yet\n\
         # (calling one says \"not supported yet\"). Generated by tests/engine_features.rs\n\
         # (VIGIL_BLESS=1 cargo test --test engine_features); the test fails when it is out of date.\n{}",
        missing.iter().map(|l| format!("{l}\n")).collect::<String>()
    );
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        text,
        "src/engine/not_yet.tsv is out of date (VIGIL_BLESS=1 to rewrite)"
    );
    // Every name in the engine's function tables (the match arms of the `lookup`s) is declared.
    // The arms of the `lookup` match (eight spaces in; deeper arms belong to the functions).
    let arm = regex::Regex::new(r#"^ {8}("[a-z0-9_]+"(?:\s*\|\s*"[a-z0-9_]+")*)\s*=>"#).unwrap();
    let word = regex::Regex::new(r#""([a-z0-9_]+)""#).unwrap();
    // Type names also appear as calls (`int(5)`, `datetime(2024-01-01)`): literals to Kusto.
    let literals = [
        "bool", "boolean", "date", "datetime", "decimal", "double", "dynamic", "guid", "int",
        "long", "real", "string", "time", "timespan",
    ];
    let mut undeclared = Vec::new();
    for file in [
        "functions/mod.rs",
        "functions/strings.rs",
        "functions/datetime.rs",
        "functions/math.rs",
        "functions/dynamic.rs",
        "functions/ip.rs",
        "series.rs",
        "decompose.rs",
        "text.rs",
        "arrays.rs",
        "hashes.rs",
    ] {
        let src =
            std::fs::read_to_string(common::manifest_dir().join("src/engine").join(file)).unwrap();
        let start = src.find("fn lookup(").or_else(|| src.find("fn core("));
        let body = &src[start.expect("a lookup")..];
        let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
        for line in body.lines() {
            if let Some(c) = arm.captures(line) {
                for w in word.captures_iter(&c[1]) {
                    if !declared.contains(&w[1]) && !literals.contains(&&w[1]) {
                        undeclared.push(format!("{file}: {}", &w[1]));
                    }
                }
            }
        }
    }
    assert!(
        undeclared.is_empty(),
        "the engine implements names builtins.tsv does not declare: {undeclared:?}"
    );
}

/// `evaluate basket`: the closed frequent patterns of three columns of the seeded table
/// against a brute-force count of every subset of every row's values (not Apriori), with and
/// without a weight column and a lower MaxDimensions; what counts as a match is the set of
/// patterns and their counts (Kusto samples, so its order and patterns near the threshold may
/// differ; vigil counts exactly and orders by count).
#[test]
fn basket_matches_brute_force_closed_patterns() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(4_000, now, 9);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let opts = RunOptions { now, window: None };
    type Pattern = BTreeSet<(usize, String)>;
    for (threshold, max_dims, weighted) in [(0.05, 5, false), (0.02, 2, false), (0.05, 5, true)] {
        // The values of one row: EventID, Process (empty is a wildcard), Outcome; and a weight.
        let items = |r: &Row| -> (Vec<(usize, String)>, i64) {
            let mut v = vec![(0, r.event_id.to_string())];
            if !r.process.is_empty() {
                v.push((1, r.process.clone()));
            }
            let outcome = if r.event_id == 4625 { "fail" } else { "ok" };
            v.push((2, outcome.to_string()));
            (v, if weighted { r.event_id % 7 + 1 } else { 1 })
        };
        let mut counts: BTreeMap<Pattern, i64> = BTreeMap::new();
        let mut total = 0;
        for r in &rows {
            let (v, w) = items(r);
            total += w;
            for mask in 1u32..(1 << v.len()) {
                if mask.count_ones() as usize > max_dims {
                    continue;
                }
                let s: Pattern = (0..v.len())
                    .filter(|k| mask & (1 << k) != 0)
                    .map(|k| v[k].clone())
                    .collect();
                *counts.entry(s).or_default() += w;
            }
        }
        let frequent: BTreeMap<&Pattern, i64> = counts
            .iter()
            .filter(|(_, c)| **c as f64 >= threshold * total as f64)
            .map(|(p, c)| (p, *c))
            .collect();
        let want: BTreeMap<Pattern, i64> = frequent
            .iter()
            .filter(|(p, c)| {
                !frequent
                    .iter()
                    .any(|(q, d)| q.len() > p.len() && d == *c && p.is_subset(q))
            })
            .map(|(p, c)| ((*p).clone(), *c))
            .collect();
        let weight = if weighted {
            ", W = EventID % 7 + 1"
        } else {
            ""
        };
        let args = if weighted {
            format!("{threshold}, W")
        } else {
            format!("{threshold}, '~', {max_dims}")
        };
        let q = format!(
            "SecurityEvent | project EventID, Process, Outcome = iff(EventID == 4625, 'fail', 'ok'){weight} \
             | evaluate basket({args})"
        );
        let o = engine::run(&q, &sb, opts).unwrap();
        let cols: Vec<String> = o.table.columns.iter().map(|c| c.name.clone()).collect();
        // The weight column is not a dimension of the patterns.
        let expect_cols = [
            "SegmentId",
            "Count",
            "Percent",
            "EventID",
            "Process",
            "Outcome",
        ];
        assert_eq!(cols, expect_cols, "{q}");
        let mut got: BTreeMap<Pattern, i64> = BTreeMap::new();
        for i in 0..o.table.rows {
            let mut p = Pattern::new();
            for (k, name) in ["EventID", "Process", "Outcome"].iter().enumerate() {
                let v = o.table.column(name).unwrap().data.get(i).clone();
                if !v.is_empty() {
                    p.insert((k, v.to_kusto_string()));
                }
            }
            let c = o
                .table
                .column("Count")
                .unwrap()
                .data
                .get(i)
                .as_i64()
                .unwrap();
            let pct = o
                .table
                .column("Percent")
                .unwrap()
                .data
                .get(i)
                .as_f64()
                .unwrap();
            assert!(
                (pct - 100.0 * c as f64 / total as f64).abs() < 1e-9,
                "{q}: {pct}"
            );
            assert_eq!(
                o.table.column("SegmentId").unwrap().data.get(i).as_i64(),
                Some(i as i64)
            );
            got.insert(p, c);
        }
        assert!(!want.is_empty() && want.len() > 3, "{want:?}");
        assert_eq!(got, want, "{q}");
    }
}

/// An item of the pattern tests: a column index and its value, ordered as the engine orders
/// values (numbers numerically, strings by their bytes).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Val {
    N(i64),
    S(String),
}

type Pat = Vec<(usize, Val)>;

/// The rows of the pattern tests: EventID, Process (empty: none), Account, and whether the
/// event is a failure (the split of diffpatterns).
fn pattern_rows(rows: &[Row]) -> Vec<(Vec<(usize, Val)>, bool)> {
    rows.iter()
        .map(|r| {
            let mut v = vec![(0, Val::N(r.event_id))];
            if !r.process.is_empty() {
                v.push((1, Val::S(r.process.clone())));
            }
            v.push((2, Val::S(r.account.clone())));
            (v, r.event_id == 4625)
        })
        .collect()
}

fn covers(p: &Pat, row: &[(usize, Val)]) -> bool {
    p.iter().all(|i| row.contains(i))
}

fn engine_patterns(o: &engine::Output, dims: &[&str], measures: &[&str]) -> Vec<(Pat, Vec<f64>)> {
    (0..o.table.rows)
        .map(|i| {
            let mut p = Pat::new();
            for (k, name) in dims.iter().enumerate() {
                let v = o.table.column(name).unwrap().data.get(i).clone();
                if !v.is_empty() {
                    p.push((
                        k,
                        match v.as_i64().filter(|_| k == 0) {
                            Some(n) => Val::N(n),
                            None => Val::S(v.to_kusto_string()),
                        },
                    ));
                }
            }
            let m = measures
                .iter()
                .map(|m| o.table.column(m).unwrap().data.get(i).as_f64().unwrap())
                .collect();
            (p, m)
        })
        .collect()
}

/// `evaluate diffpatterns`: against a brute-force version of the rule vigil states (every
/// subset of every row's values counted in A and B; closed, frequent in A or B, a difference
/// of at least the threshold; kept by difference while no kept pattern contains or is
/// contained in the next).
#[test]
fn diffpatterns_match_the_stated_rule() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(4_000, now, 11);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let opts = RunOptions { now, window: None };
    let data = pattern_rows(&rows);
    let threshold = 0.05;
    let (tot_a, tot_b) = (
        data.iter().filter(|r| !r.1).count() as f64,
        data.iter().filter(|r| r.1).count() as f64,
    );
    let mut counts: BTreeMap<Pat, (f64, f64)> = BTreeMap::new();
    for (v, failed) in &data {
        for mask in 1u32..(1 << v.len()) {
            let p: Pat = (0..v.len())
                .filter(|k| mask & (1 << k) != 0)
                .map(|k| v[k].clone())
                .collect();
            let e = counts.entry(p).or_default();
            if *failed {
                e.1 += 1.0;
            } else {
                e.0 += 1.0;
            }
        }
    }
    let frequent: Vec<(&Pat, (f64, f64))> = counts
        .iter()
        .filter(|(_, (a, b))| *a >= threshold * tot_a || *b >= threshold * tot_b)
        .map(|(p, c)| (p, *c))
        .collect();
    let mut chosen: Vec<(Pat, f64)> = frequent
        .iter()
        .filter(|(p, c)| {
            !frequent
                .iter()
                .any(|(q, d)| q.len() > p.len() && d == c && p.iter().all(|i| q.contains(i)))
        })
        .map(|(p, (a, b))| ((*p).clone(), (100.0 * a / tot_a - 100.0 * b / tot_b).abs()))
        .filter(|(_, d)| *d >= 100.0 * threshold)
        .collect();
    chosen.sort_by(|x, y| {
        y.1.total_cmp(&x.1)
            .then(y.0.len().cmp(&x.0.len()))
            .then(x.0.cmp(&y.0))
    });
    let mut want: Vec<Pat> = Vec::new();
    for (p, _) in chosen {
        let related = want
            .iter()
            .any(|q| p.iter().all(|i| q.contains(i)) || q.iter().all(|i| p.contains(i)));
        if !related {
            want.push(p);
        }
    }
    let q = "SecurityEvent | extend Failed = iff(EventID == 4625, 'yes', 'no') \
             | project EventID, Process, Account, Failed \
             | evaluate diffpatterns(Failed, 'no', 'yes')";
    let o = engine::run(q, &sb, opts).unwrap();
    let cols: Vec<String> = o.table.columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        cols,
        [
            "SegmentId",
            "CountA",
            "CountB",
            "PercentA",
            "PercentB",
            "PercentDiffAB",
            "EventID",
            "Process",
            "Account"
        ]
    );
    let got = engine_patterns(
        &o,
        &["EventID", "Process", "Account"],
        &["CountA", "CountB"],
    );
    let got_patterns: Vec<Pat> = got.iter().map(|g| g.0.clone()).collect();
    assert!(want.len() >= 3, "{want:?}");
    assert_eq!(got_patterns, want);
    for (p, m) in &got {
        let (a, b) = counts[p];
        assert_eq!((m[0], m[1]), (a, b), "{p:?}");
    }
}

/// `evaluate autocluster`: against a plain-Rust version of the rule vigil states (seeds: the
/// most frequent distinct rows; each generalized one value at a time while
/// coverage^w × (values/dimensions)^(1-w) improves; kept by score while no kept pattern
/// contains or is contained in the next), computed by scanning rows instead of bitsets.
#[test]
fn autocluster_matches_the_stated_rule() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(3_000, now, 13);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let opts = RunOptions { now, window: None };
    let data: Vec<Vec<(usize, Val)>> = pattern_rows(&rows).into_iter().map(|r| r.0).collect();
    for (w, seeds) in [(0.5, 25usize), (0.8, 5), (0.2, 40)] {
        let total = data.len() as f64;
        let count = |p: &Pat| data.iter().filter(|r| covers(p, r)).count() as f64;
        let score = |p: &Pat| (count(p) / total).powf(w) * (p.len() as f64 / 3.0).powf(1.0 - w);
        // Seeds: distinct rows by frequency, then first appearance.
        let mut freq: Vec<(Pat, usize, usize)> = Vec::new();
        for (i, r) in data.iter().enumerate() {
            match freq.iter_mut().find(|f| f.0 == *r) {
                Some(f) => f.2 += 1,
                None => freq.push((r.clone(), i, 1)),
            }
        }
        freq.sort_by(|x, y| y.2.cmp(&x.2).then(x.1.cmp(&y.1)));
        let mut optima: Vec<(Pat, f64)> = Vec::new();
        for (seed, ..) in freq.into_iter().take(seeds) {
            let mut p = seed;
            let mut s = score(&p);
            while p.len() > 1 {
                let mut best: Option<(Pat, f64)> = None;
                for r in 0..p.len() {
                    let mut q = p.clone();
                    q.remove(r);
                    let sq = score(&q);
                    // Ties: the smaller pattern in item order wins, as in the engine.
                    if best
                        .as_ref()
                        .is_none_or(|(bq, bs)| sq > *bs || (sq == *bs && q < *bq))
                    {
                        best = Some((q, sq));
                    }
                }
                match best {
                    Some((q, sq)) if sq > s => {
                        p = q;
                        s = sq;
                    }
                    _ => break,
                }
            }
            if !optima.iter().any(|(q, _)| *q == p) {
                optima.push((p, s));
            }
        }
        optima.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        let mut want: Vec<Pat> = Vec::new();
        for (p, _) in optima {
            let related = want
                .iter()
                .any(|q| p.iter().all(|i| q.contains(i)) || q.iter().all(|i| p.contains(i)));
            if !related {
                want.push(p);
            }
        }
        let q = format!(
            "SecurityEvent | project EventID, Process, Account | evaluate autocluster({w}, '~', {seeds})"
        );
        let o = engine::run(&q, &sb, opts).unwrap();
        let got = engine_patterns(
            &o,
            &["EventID", "Process", "Account"],
            &["Count", "Percent"],
        );
        let got_patterns: Vec<Pat> = got.iter().map(|g| g.0.clone()).collect();
        assert!(!want.is_empty());
        assert_eq!(got_patterns, want, "{q}");
        for (p, m) in &got {
            assert_eq!(m[0], count(p), "{p:?}");
            assert!((m[1] - 100.0 * count(p) / total).abs() < 1e-9);
        }
    }
}

/// `partition by Column (operators)`: per host, the two latest events, against the same
/// selection made in plain Rust; hosts in order of first appearance.
#[test]
fn partition_runs_the_operators_per_value() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(2_000, now, 17);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let opts = RunOptions { now, window: None };
    let o = engine::run(
        "SecurityEvent | partition hint.strategy=native by Computer (top 2 by TimeGenerated desc | project Computer, TimeGenerated, n = 1)",
        &sb,
        opts,
    )
    .unwrap();
    let mut hosts: Vec<&str> = Vec::new();
    for r in &rows {
        if !hosts.contains(&r.computer.as_str()) {
            hosts.push(&r.computer);
        }
    }
    let mut want: Vec<(String, i64)> = Vec::new();
    for h in &hosts {
        let mut times: Vec<i64> = rows
            .iter()
            .filter(|r| r.computer == *h)
            .map(|r| r.time)
            .collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        want.extend(times.into_iter().take(2).map(|t| (h.to_string(), t)));
    }
    let got: Vec<(String, i64)> = (0..o.table.rows)
        .map(|i| {
            (
                o.table
                    .column("Computer")
                    .unwrap()
                    .data
                    .get(i)
                    .to_kusto_string(),
                match o.table.column("TimeGenerated").unwrap().data.get(i) {
                    Value::DateTime(t) => *t,
                    other => panic!("{other:?}"),
                },
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(o.table.columns.len(), 3);
}

/// `top-nested`: the top 3 hosts by event count, and under each its top 2 event ids by count
/// (ties in order of first appearance), against plain-Rust counts; names as Kusto.Language gives
/// them (`aggregated_Computer`, a named aggregation keeps its name).
#[test]
fn top_nested_matches_independent_counts() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(3_000, now, 19);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let opts = RunOptions { now, window: None };
    let o = engine::run(
        "SecurityEvent | top-nested 3 of Computer by count(), top-nested 2 of EventID by Events = count()",
        &sb,
        opts,
    )
    .unwrap();
    let names: Vec<String> = o.table.columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        names,
        ["Computer", "aggregated_Computer", "EventID", "Events"]
    );
    // Rank (value, count) pairs: count descending, ties by first appearance.
    fn ranked<K: PartialEq + Clone>(keys: impl Iterator<Item = K>) -> Vec<(K, i64)> {
        let mut out: Vec<(K, i64)> = Vec::new();
        for k in keys {
            match out.iter_mut().find(|(x, _)| *x == k) {
                Some(e) => e.1 += 1,
                None => out.push((k, 1)),
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.1));
        out
    }
    let mut want: Vec<(String, i64, i64, i64)> = Vec::new();
    for (host, n) in ranked(rows.iter().map(|r| r.computer.clone()))
        .into_iter()
        .take(3)
    {
        let ids = ranked(
            rows.iter()
                .filter(|r| r.computer == host)
                .map(|r| r.event_id),
        );
        for (id, m) in ids.into_iter().take(2) {
            want.push((host.clone(), n, id, m));
        }
    }
    let col = |name: &str, i: usize| o.table.column(name).unwrap().data.get(i).clone();
    let got: Vec<(String, i64, i64, i64)> = (0..o.table.rows)
        .map(|i| {
            (
                col("Computer", i).to_kusto_string(),
                col("aggregated_Computer", i).as_i64().unwrap(),
                col("EventID", i).as_i64().unwrap(),
                col("Events", i).as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // `with others` is not supported yet, and says so.
    let e = engine::run(
        "SecurityEvent | top-nested 2 of Computer with others = 'x' by count()",
        &sb,
        opts,
    )
    .unwrap_err();
    assert!(
        e.message.contains("not supported yet") || e.unsupported,
        "{}",
        e.message
    );
}

/// `find`: over two tables, the rows the predicate keeps with their source table, against a
/// plain-Rust filter; `project` keeps the named columns (null where a table lacks one), and
/// `project-smart` lists the predicate's and the common columns by name, then `pack_`.
#[test]
fn find_filters_each_table_and_names_the_source() {
    let now = parse_datetime("2026-11-21T12:00:00Z").unwrap();
    let rows = make_table(1_000, now, 23);
    let mut sb = Sandbox::default();
    sb.add_table("SecurityEvent", table(&rows));
    let opts = RunOptions { now, window: None };
    let q = "let Other = datatable(Computer:string, Extra:long)['host-001', 7, 'host-002', 8]; \
             find in (SecurityEvent, Other) where Computer == 'host-001' project Computer, Extra, EventID";
    let o = engine::run(q, &sb, opts).unwrap();
    let names: Vec<String> = o.table.columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["source_", "Computer", "Extra", "EventID"]);
    let want_se = rows.iter().filter(|r| r.computer == "host-001").count();
    let col = |n: &str, i: usize| o.table.column(n).unwrap().data.get(i).clone();
    let se = (0..o.table.rows)
        .filter(|&i| col("source_", i).to_kusto_string() == "SecurityEvent")
        .count();
    assert!(want_se > 0);
    assert_eq!(se, want_se);
    assert_eq!(o.table.rows, want_se + 1);
    let other = (0..o.table.rows)
        .find(|&i| col("source_", i).to_kusto_string() == "Other")
        .unwrap();
    assert_eq!(col("Extra", other).as_i64(), Some(7));
    assert!(col("EventID", other).is_null());
    let o = engine::run(
        "let Other = datatable(Computer:string, Extra:long)['host-1', 7]; \
         find withsource=T in (SecurityEvent, Other) where Extra == 7",
        &sb,
        opts,
    )
    .unwrap();
    // SecurityEvent has no `Extra`: left out. Columns: T, the predicate's and the common ones
    // in name order, then pack_.
    let names: Vec<String> = o.table.columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["T", "Computer", "Extra", "pack_"]);
    assert_eq!(o.table.rows, 1);
}
