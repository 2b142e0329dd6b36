//! `vigil test`, `vigil sandbox init` and `vigil dry-run` end to end on copies of the bundled
//! content: tests pass, a wrong expectation fails with JUnit written, and the sandbox shows
//! each tested rule firing on its attack data.

mod common;
#[path = "common/mmdb.rs"]
mod mmdb;

use std::process::Command;

fn copy_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::manifest_dir();
    for dir in [
        "detections",
        "hunts",
        "functions",
        "watchlists",
        "anomalies",
    ] {
        common::copy_dir(&root.join(dir), &tmp.path().join(dir));
    }
    std::fs::copy(root.join("vigil.toml"), tmp.path().join("vigil.toml")).unwrap();
    tmp
}

fn vigil(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(common::vigil_bin())
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

/// Run a self-contained query on the embedded engine (no tables, clock at 0): the columns
/// (name, type) and each row as its cells' Kusto text joined with `|`.
fn run_engine(q: &str) -> (Vec<(String, &'static str)>, Vec<String>) {
    use vigil::engine::{self, data::Sandbox, exec::RunOptions};
    let t = engine::run(
        q,
        &Sandbox::default(),
        RunOptions {
            now: 0,
            window: None,
        },
    )
    .unwrap_or_else(|e| panic!("{q}: {}", e.message))
    .table;
    let cols = t
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.name()))
        .collect();
    let rows = (0..t.rows)
        .map(|r| {
            t.columns
                .iter()
                .map(|c| c.data[r].to_kusto_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    (cols, rows)
}

#[test]
fn bundled_tests_pass_and_a_wrong_expectation_fails() {
    let tmp = copy_repo();
    let (code, out) = vigil(tmp.path(), &["test"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 failed"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");

    // Break one expectation: the run must fail and JUnit must say why.
    let tf = tmp
        .path()
        .join("detections/powershell_encoded_command.tests.yaml");
    let text = std::fs::read_to_string(&tf).unwrap();
    std::fs::write(&tf, text.replacen("alerts: 1", "alerts: 2", 1)).unwrap();
    let junit = tmp.path().join("junit.xml");
    let (code, out) = vigil(tmp.path(), &["test", "--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("expected 2 alert(s), the run raised 1"),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=\"expected 2 alert(s)"),
        "{xml}"
    );
    assert!(xml.contains("failures=\"1\""), "{xml}");
}

#[test]
fn sandbox_init_then_dry_run_shows_attacks_firing() {
    let tmp = copy_repo();
    let (code, out) = vigil(tmp.path(), &["sandbox", "init"]);
    assert_eq!(code, 0, "{out}");
    assert!(tmp
        .path()
        .join("sandbox/DeviceProcessEvents.jsonl")
        .is_file());
    let report = tmp.path().join("dry.json");
    let (_, out) = vigil(tmp.path(), &["dry-run", "--json", report.to_str().unwrap()]);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let by_name = |n: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["definition"] == n)
            .unwrap_or_else(|| panic!("{n} missing: {out}"))
            .clone()
    };
    // Each rule fires exactly once per attack test case, and never on the benign background.
    for (rule, attacks) in [
        ("LSASS memory dump via command line", 2),
        ("Suspicious PowerShell encoded command", 1),
        ("Password spray against Entra ID accounts", 1),
        (
            "MFA fatigue - repeated push denials followed by a successful sign-in",
            1,
        ),
        ("User added to a privileged Entra ID role", 1),
        ("Rare process executed on a high-value asset", 1),
        ("Mass file download from SharePoint or OneDrive", 1),
    ] {
        let r = by_name(rule);
        assert_eq!(r["alerts"], attacks, "{rule}: {r}");
        assert_eq!(r["firing_runs"], attacks, "{rule}: {r}");
    }
    // Every bundled rule runs on the engine (no "not supported yet").
    for r in v.as_array().unwrap() {
        assert!(r.get("error").is_none(), "{r}");
    }
}

#[test]
fn query_command_formats_and_batch_mode() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("T.csv"), "Name,Count\nalpha,3\nbeta,5\n").unwrap();
    let data = tmp.path().to_str().unwrap();
    let (code, out) = vigil(
        tmp.path(),
        &[
            "query",
            "--data",
            data,
            "--format",
            "csv",
            "T | summarize Total = sum(toint(Count))",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "Total\n8");
    let mut child = Command::new(common::vigil_bin())
        .args(["-C", data, "query", "--data", data, "--jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"id\":\"a\",\"query\":\"T | count\"}\n{\"id\":\"b\",\"query\":\"T | evaluate sequence_detect()\"}\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["rows"][0][0], 2);
    assert_eq!(lines[1]["ok"], false);
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("not supported yet: evaluate sequence_detect()"));
}

/// The same dry-run through the Log Analytics query API of the emulator (real HTTP on
/// loopback, answered by the embedded engine over the sandbox) gives the same alerts.
#[test]
fn dry_run_through_the_emulator_query_api_matches_local() {
    let tmp = copy_repo();
    common::copy_dir(
        &common::manifest_dir().join("sandbox"),
        &tmp.path().join("sandbox"),
    );
    let cx = vigil::ops::Context::open(vigil::ops::ContextOptions::new(tmp.path())).unwrap();
    let emu = vigil::emulator::start(
        "127.0.0.1:0",
        vigil::emulator::Options {
            engine: cx.sandbox_engine(),
            ..vigil::emulator::Options::default()
        },
    )
    .unwrap();
    let url = emu.url();
    let run = |args: &[&str]| {
        let o = Command::new(common::vigil_bin())
            .arg("-C")
            .arg(tmp.path())
            .args(args)
            .env("VIGIL_EMULATOR", &url)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )
    };
    let (code, out) = run(&["apply", "--env", "local"]);
    assert_eq!(code, 0, "{out}");
    let remote = tmp.path().join("remote.json");
    let local = tmp.path().join("local.json");
    let (code, out) = run(&[
        "dry-run",
        "--sandbox",
        "env:local",
        "--json",
        remote.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&["dry-run", "--json", local.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let read = |p: &std::path::Path| -> Vec<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (r, l) = (read(&remote), read(&local));
    let rules = |v: &[serde_json::Value]| -> Vec<serde_json::Value> {
        v.iter().filter(|x| x["kind"] != "hunt").cloned().collect()
    };
    let (rr, lr) = (rules(&r), rules(&l));
    assert_eq!(rr.len(), 7);
    for (a, b) in rr.iter().zip(&lr) {
        assert_eq!(a["definition"], b["definition"]);
        assert_eq!(a["alerts"], b["alerts"], "{a} vs {b}");
        assert!(a["alerts"].as_u64().unwrap() >= 1, "{a}");
    }
    // The hunts run through the query API too, over the same window: the same rows.
    let hunts: Vec<&serde_json::Value> = r.iter().filter(|x| x["kind"] == "hunt").collect();
    assert_eq!(hunts.len(), 4);
    for h in hunts {
        let local = l
            .iter()
            .find(|x| x["kind"] == "hunt" && x["definition"] == h["definition"])
            .unwrap();
        assert_eq!(h["result_rows"], local["result_rows"], "{h} vs {local}");
    }
}

/// Parquet sample data (tests/data/engine/ParquetSample.parquet, Snappy-compressed, written by
/// DuckDB from `SELECT TIMESTAMP '2026-01-01 10:00:00' + INTERVAL (i) MINUTE AS TimeGenerated,
/// 'host-' || (i % 3) AS Computer, CAST(4624 + (i % 2) AS INTEGER) AS EventID,
/// CAST(i AS DOUBLE) * 1.5 AS Score, (i % 2 = 0) AS Flag FROM range(10)`): the expected values
/// follow from that definition.
#[test]
fn parquet_tables_load_with_their_types() {
    let dir = common::manifest_dir().join("tests/data/engine");
    let (code, out) = vigil(
        &dir,
        &[
            "query",
            "--data",
            dir.to_str().unwrap(),
            "--format",
            "csv",
            "ParquetSample | summarize n = count(), s = sum(Score), first = min(TimeGenerated) by EventID, Flag | sort by EventID asc",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.trim(),
        "EventID,Flag,n,s,first\n4624,true,5,30,2026-01-01T10:00:00Z\n4625,false,5,37.5,2026-01-01T10:01:00Z"
    );
}

/// A table file that is there but cannot be read says why (its path, and the line for text
/// formats), not that the sandbox has no data: a damaged Parquet file (cut short) and a JSON
/// Lines file with a broken second line.
#[test]
fn a_table_file_that_cannot_be_read_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        std::fs::read(common::manifest_dir().join("tests/data/engine/ParquetSample.parquet"))
            .unwrap();
    std::fs::write(dir.path().join("Cut.parquet"), &good[..good.len() / 2]).unwrap();
    std::fs::write(dir.path().join("Broken.jsonl"), "{\"a\": 1}\n{\"a\":\n").unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, out) = vigil(dir.path(), &["query", "--data", data, "Cut | count"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("table `Cut` cannot be loaded") && out.contains("Cut.parquet"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    let (code, out) = vigil(dir.path(), &["query", "--data", data, "Broken | count"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("table `Broken` cannot be loaded") && out.contains("Broken.jsonl:2"),
        "{out}"
    );
}

/// `search`: a bare term is matched (as `has`) in every column of every searched table, with a
/// `$table` column naming the table; `Col:value` is `Col has value`; `x*` is a prefix; piped,
/// it filters. Expected rows worked out by hand from the inputs.
#[test]
fn search_matches_terms_in_any_column() {
    let run = |q: &str| run_engine(q).1;
    let tables = r#"let T = datatable(a:string, b:long)["user admin logged", 1, "administrator", 2, "other", 3]; let U = datatable(c:string)["ADMIN", "x"];"#;
    let mut got = run(&format!(
        "{tables} search in (T, U) \"admin\" | project $table, a, b, c"
    ));
    got.sort();
    assert_eq!(got, vec!["T|user admin logged|1|", "U|||ADMIN"]);
    assert_eq!(
        run(&format!(
            "{tables} T | search \"admin*\" or b:3 | project a"
        )),
        vec!["user admin logged", "administrator", "other"]
    );
    assert_eq!(
        run(&format!(
            "{tables} search kind=case_sensitive in (U) \"admin\""
        )),
        Vec::<String>::new()
    );
}

/// Kusto's result types are static: a query that returns no rows still has typed columns
/// (the types Kusto.Language's `--result` gives for this query).
#[test]
fn an_empty_result_still_has_typed_columns() {
    use vigil::engine::{self, data::Sandbox, exec::RunOptions};
    let q = r#"datatable(a:long, s:string, d:dynamic)[]
        | extend r = a * 2.0, t = tostring(a), b = iff(a > 1, d.x, 'n'), w = ago(1d),
            j = extractjson('$.p', s, typeof(int)), x = d.y, n = strlen(s)
        | extend span = now() - w, ratio = 1d / 5h, ii = int(1) + int(2)
        | summarize c = count(), m = max(w), l = make_set(t), avg_r = avg(r), k = countif(n > 2) * 2
            by b, j, span, ratio, ii"#;
    let out = engine::run(
        q,
        &Sandbox::default(),
        RunOptions {
            now: 0,
            window: None,
        },
    )
    .unwrap_or_else(|e| panic!("{}", e.message));
    let got: Vec<(String, &str)> = out
        .table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.ty.name()))
        .collect();
    let want = [
        ("b", "string"),
        ("j", "int"),
        ("span", "timespan"),
        ("ratio", "real"),
        ("ii", "long"),
        ("c", "long"),
        ("m", "datetime"),
        ("l", "dynamic"),
        ("avg_r", "real"),
        ("k", "long"),
    ];
    assert_eq!(out.table.rows, 0);
    assert_eq!(
        got,
        want.iter()
            .map(|(n, t)| (n.to_string(), *t))
            .collect::<Vec<_>>()
    );
}

/// `union` of tables whose same-named columns differ in type: one column per type, `Name_type`,
/// and rows go to the column of their type (names and values as the union documentation and
/// Kusto.Language show them; kind=inner keeps only the names every table has).
#[test]
fn union_splits_columns_whose_types_differ() {
    let run = run_engine;
    let (cols, rows) = run(
        r#"union (datatable(x:int, a:string, b:long)[1, "s", 2]), (datatable(a:long, c:string)[5, "c"])"#,
    );
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["x", "a_string", "a_long", "b", "c"]);
    assert_eq!(cols[2].1, "long");
    assert_eq!(rows, ["1|s||2|", "||5||c"]);
    let (cols, _) = run(
        r#"union kind=inner (datatable(a:string, b:int)[]), (datatable(a:long, b:int, c:long)[])"#,
    );
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a_string", "a_long", "b"]);
    // Same types: one column, as before.
    let (cols, rows) = run(r#"union (datatable(a:long)[1]), (datatable(a:long)[2])"#);
    assert_eq!(cols, [("a".to_string(), "long")]);
    assert_eq!(rows, ["1", "2"]);
}

/// `evaluate ipv4_lookup`: ranges as CIDR prefixes or single addresses, extra keys compared as
/// in a join, every matching range gives a row, return_unmatched keeps the rest with nulls.
/// Expected rows worked out by hand from the inputs.
#[test]
fn ipv4_lookup_joins_addresses_to_ranges() {
    let run = |q: &str| {
        let (cols, rows) = run_engine(q);
        (cols.into_iter().map(|(n, _)| n).collect::<Vec<_>>(), rows)
    };
    let data = r#"let Ranges = datatable(network:string, site:string, tenant:string)[
            "10.1.0.0/16", "hq", "a",
            "10.1.2.0/24", "lab", "a",
            "192.0.2.7", "vpn", "b",
            "not an ip", "x", "a"];
        let Seen = datatable(ip:string, tenant:string)[
            "10.1.2.3", "a", "10.1.9.9", "a", "192.0.2.7", "b", "192.0.2.8", "b", "10.1.2.4", "b"];"#;
    let (cols, rows) = run(&format!(
        "{data} Seen | evaluate ipv4_lookup(Ranges, ip, network) | project ip, site, network"
    ));
    assert_eq!(cols, ["ip", "site", "network"]);
    assert_eq!(
        rows,
        [
            "10.1.2.3|hq|10.1.0.0/16",
            "10.1.2.3|lab|10.1.2.0/24",
            "10.1.9.9|hq|10.1.0.0/16",
            "192.0.2.7|vpn|192.0.2.7",
            "10.1.2.4|hq|10.1.0.0/16",
            "10.1.2.4|lab|10.1.2.0/24",
        ]
    );
    // An extra key must be equal too; unmatched rows kept with nulls on request.
    let (cols, rows) = run(&format!(
        "{data} Seen | evaluate ipv4_lookup(Ranges, ip, network, tenant, true)"
    ));
    assert_eq!(cols, ["ip", "tenant", "network", "site"]);
    assert_eq!(
        rows,
        [
            "10.1.2.3|a|10.1.0.0/16|hq",
            "10.1.2.3|a|10.1.2.0/24|lab",
            "10.1.9.9|a|10.1.0.0/16|hq",
            "192.0.2.7|b|192.0.2.7|vpn",
            "192.0.2.8|b||",
            "10.1.2.4|b||",
        ]
    );
}

/// The deprecated aggregates keep their own result names (as Kusto.Language gives them):
/// argmax/argmin → `max_X`, `max_X_col` (star leaves out the by columns); any → `any_col`;
/// makeset/makelist → `set_col`/`list_col`; a name list names the columns in order.
#[test]
fn deprecated_aggregates_are_named_as_kusto_names_them() {
    let run = |q: &str| {
        let (cols, rows) = run_engine(q);
        (cols.into_iter().map(|(n, _)| n).collect::<Vec<_>>(), rows)
    };
    let t =
        r#"let T = datatable(a:long, b:string, c:string)[1, "x", "k", 3, "y", "k", 2, "z", "m"];"#;
    let (cols, rows) = run(&format!("{t} T | summarize argmax(a, *) by c"));
    assert_eq!(cols, ["c", "max_a", "max_a_b"]);
    assert_eq!(rows, ["k|3|y", "m|2|z"]);
    let (cols, rows) = run(&format!("{t} T | summarize argmin(a, b)"));
    assert_eq!(cols, ["min_a", "min_a_b"]);
    assert_eq!(rows, ["1|x"]);
    let (cols, rows) = run(&format!("{t} T | summarize (lo, who) = arg_min(a, b)"));
    assert_eq!(cols, ["lo", "who"]);
    assert_eq!(rows, ["1|x"]);
    let (cols, _) = run(&format!(
        "{t} T | summarize any(b), makeset(c), makelist(a)"
    ));
    assert_eq!(cols, ["any_b", "set_c", "list_a"]);
}

/// All files of a folder and their bytes.
fn files_of(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Each rule's dry-run numbers.
fn dry_numbers(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let report = dir.join("dry.json");
    let (_, out) = vigil(dir, &["dry-run", "--json", report.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {out}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["definition"].as_str().unwrap().to_string(),
                format!("{} {} {}", r["alerts"], r["firing_runs"], r["result_rows"]),
            )
        })
        .collect()
}

#[test]
fn sandbox_init_is_stable_when_a_rule_is_added() {
    let tmp = copy_repo();
    let (code, out) = vigil(tmp.path(), &["sandbox", "init"]);
    assert_eq!(code, 0, "{out}");
    let before = files_of(&tmp.path().join("sandbox"));
    let numbers = dry_numbers(tmp.path());
    assert!(!before.contains_key("SecurityEvent.jsonl"));
    // A new rule on a table no other rule reads, with an attack test of its own.
    std::fs::write(
        tmp.path().join("detections/failed_logons.yaml"),
        "id: 0b7c9a52-1f0e-4c53-9a7e-3b8f2d6c1e11\nname: Many failed logons on one account\ndescription: Brute force.\nseverity: Medium\nkind: Scheduled\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\ntactics: [CredentialAccess]\nrelevantTechniques: [T1110]\nquery: |\n  SecurityEvent\n  | where EventID == 4625\n  | summarize Failures = count() by Account\n  | where Failures > 20\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: Name\n        columnName: Account\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("detections/failed_logons.tests.yaml"),
        "tests:\n  - name: fires on 30 failures\n    data:\n      SecurityEvent:\n        - { repeat: 30, every: 1m, TimeGenerated: -40m, EventID: 4625, Account: victim }\n    expect: { alerts: 1 }\n",
    )
    .unwrap();
    let (code, out) = vigil(tmp.path(), &["sandbox", "init"]);
    assert_eq!(code, 0, "{out}");
    let after = files_of(&tmp.path().join("sandbox"));
    assert!(
        after.contains_key("SecurityEvent.jsonl"),
        "{:?}",
        after.keys()
    );
    for (name, bytes) in &before {
        assert!(
            after.get(name) == Some(bytes),
            "{name} changed although the new rule does not read it"
        );
    }
    let now = dry_numbers(tmp.path());
    for (rule, n) in &numbers {
        assert_eq!(now.get(rule), Some(n), "{rule}'s dry-run changed");
    }
    assert_eq!(
        now.get("Many failed logons on one account")
            .map(String::as_str),
        Some("1 1 1")
    );
}

#[test]
fn missing_data_names_the_fix() {
    let tmp = copy_repo();
    // A sandbox with one table only: the other rules' tables have no data.
    std::fs::create_dir_all(tmp.path().join("sandbox")).unwrap();
    std::fs::copy(
        common::manifest_dir().join("sandbox/SigninLogs.jsonl"),
        tmp.path().join("sandbox/SigninLogs.jsonl"),
    )
    .unwrap();
    let (code, out) = vigil(tmp.path(), &["dry-run"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no data for table `DeviceProcessEvents` in the sandbox")
            && out.contains("run `vigil sandbox init`"),
        "{out}"
    );
    // A test that gives no rows for a table its rule reads says where they go; one that repeats
    // a row more than 10,000 times is refused.
    std::fs::write(
        tmp.path()
            .join("detections/entra_password_spray.tests.yaml"),
        "tests:\n  - name: no data\n    expect: { alerts: 0 }\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("detections/lsass_credential_dumping.tests.yaml"),
        "tests:\n  - name: too many\n    data:\n      DeviceProcessEvents:\n        - { repeat: 10001, every: 1s, TimeGenerated: -1h }\n    expect: { alerts: 0 }\n",
    )
    .unwrap();
    let (code, out) = vigil(tmp.path(), &["test"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "no data for table `SigninLogs`: this test has no rows for it: add them under `data:`"
        ),
        "{out}"
    );
    assert!(
        out.contains("`repeat: 10001` is more than 10000 rows"),
        "{out}"
    );
}

/// Hunts are dry-run too (one run over the sandbox window: rows returned and scanned), and
/// `--samples N` shows N alerts or result rows with addresses, e-mail addresses and GUIDs
/// redacted.
#[test]
fn dry_run_runs_hunts_and_redacts_samples() {
    let tmp = copy_repo();
    common::copy_dir(
        &common::manifest_dir().join("sandbox"),
        &tmp.path().join("sandbox"),
    );
    // A hunt that returns sign-ins with addresses and accounts.
    std::fs::write(
        tmp.path().join("hunts/all_signins.yaml"),
        "id: 5d0e1c2b-3a4f-4b5c-9d6e-7f8091a2b3c4\nname: Every sign-in\ndescription: All sign-ins in the window.\nquery: |\n  SigninLogs\n  | where TimeGenerated > ago(7d)\n  | project TimeGenerated, UserPrincipalName, IPAddress\n",
    )
    .unwrap();
    let json = tmp.path().join("dry.json");
    let (code, out) = vigil(
        tmp.path(),
        &[
            "dry-run",
            "--samples",
            "2",
            "--json",
            json.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hunt Every sign-in: "), "{out}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let hunt = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["definition"] == "Every sign-in")
        .unwrap();
    assert_eq!(hunt["kind"], "hunt");
    assert_eq!(hunt["runs"], 1);
    assert!(hunt["result_rows"].as_u64().unwrap() > 2, "{hunt}");
    assert!(hunt["rows_scanned"].as_u64().unwrap() >= hunt["result_rows"].as_u64().unwrap());
    let rows = hunt["sample_rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{hunt}");
    for r in rows {
        assert_eq!(r["UserPrincipalName"], "<email>", "{r}");
        assert_eq!(r["IPAddress"], "<ip>", "{r}");
    }
    // The printed samples carry no address or account either.
    let printed: Vec<&str> = out.lines().filter(|l| l.starts_with("       ")).collect();
    assert!(!printed.is_empty(), "{out}");
    for l in printed {
        assert!(
            !l.contains("@contoso.com") && !l.contains("203.0.113."),
            "{l}"
        );
    }
}

/// Rules replay on every core; the report is byte-identical with one thread and with two.
#[test]
fn the_dry_run_report_is_the_same_on_one_core_and_on_two() {
    let tmp = copy_repo();
    common::copy_dir(
        &common::manifest_dir().join("sandbox"),
        &tmp.path().join("sandbox"),
    );
    let run = |threads: &str, out: &str| {
        let o = Command::new(common::vigil_bin())
            .arg("-C")
            .arg(tmp.path())
            .args(["dry-run", "--samples", "2", "--json", out])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(
            o.status.code().is_some(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read(tmp.path().join(out)).unwrap()
    };
    let one = run("1", "one.json");
    let two = run("2", "two.json");
    assert!(
        one.len() > 1000,
        "a real report: {}",
        String::from_utf8_lossy(&one)
    );
    assert!(one == two, "the reports differ between 1 and 2 threads");
}

/// `make-series ... on T in range(start, stop, step)` (the alternate syntax, as the
/// make-series page describes it): bins of `bin()` aligned to the step (a start of 00:30 gives
/// a first bin at 00:00) and an inclusive stop (12:00 is a bin). Worked by hand: values 1..10
/// at 01:00..10:00 sum per 2-hour bin to 1, 5, 9, 13, 17, 10, then 0 for 12:00.
#[test]
fn make_series_in_range_bins_like_bin_with_an_inclusive_stop() {
    let (_, rows) = run_engine(
        "range x from 1 to 10 step 1 | extend T = datetime(2024-01-01) + x * 1h, v = x \
         | make-series s = sum(v) default = 0 on T in range(datetime(2024-01-01 00:30), datetime(2024-01-01 12:00), 2h) \
         | project s, first = todatetime(T[0]), n = array_length(T)",
    );
    assert_eq!(rows, ["[1,5,9,13,17,10,0]|2024-01-01T00:00:00Z|7"]);
    // The main syntax: bins from start (00:30, 02:30, ...), stop exclusive: 1+2, 3+4, ... and
    // nothing in the 10:30 bin.
    let (_, rows) = run_engine(
        "range x from 1 to 10 step 1 | extend T = datetime(2024-01-01) + x * 1h, v = x \
         | make-series s = sum(v) default = 0 on T from datetime(2024-01-01 00:30) to datetime(2024-01-01 12:00) step 2h \
         | project s, first = todatetime(T[0]), n = array_length(T)",
    );
    assert_eq!(rows, ["[3,7,11,15,19,0]|2024-01-01T00:30:00Z|6"]);
}

/// `geo_info_from_ip_address()` over the database `[sandbox] geoip` names (a City database
/// the test writes from the format specification, holding the page's example address), and
/// what an adversarial configuration gets: no database, one outside the repository, a file
/// that is not a database.
#[test]
fn geo_info_reads_the_configured_database_and_refuses_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("geo")).unwrap();
    std::fs::write(root.join("geo/city.mmdb"), mmdb::sample()).unwrap();
    let q = "print a = geo_info_from_ip_address('20.53.203.50'), b = geo_info_from_ip_address('81.2.69.160'), \
             c = geo_info_from_ip_address('192.0.2.1'), d = geo_info_from_ip_address('2a03:2880::1'), \
             e = geo_info_from_ip_address('not an address') \
             | extend Country = tostring(a.country)";
    let run = |toml: &str| {
        std::fs::write(root.join("vigil.toml"), toml).unwrap();
        vigil(root, &["query", q, "--format", "json"])
    };
    let (code, out) = run("[sandbox]\ngeoip = \"geo/city.mmdb\"\n");
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let row = &v["rows"][0];
    assert_eq!(
        row[0],
        serde_json::json!({"country": "Australia", "state": "New South Wales", "city": "Sydney", "latitude": -33.8715, "longitude": 151.2006})
    );
    assert_eq!(
        row[1],
        serde_json::json!({"country": "Germany", "latitude": 51.2993, "longitude": 9.491})
    );
    assert_eq!(
        row[2],
        serde_json::json!({}),
        "an address the database does not hold"
    );
    assert_eq!(
        row[3],
        serde_json::json!({}),
        "IPv6 in an IPv4-only database"
    );
    assert!(row[4].is_null(), "not an address: {}", row[4]);
    assert_eq!(row[5], "Australia");

    let (code, out) = run("");
    assert_ne!(code, 0);
    assert!(
        out.contains("needs geo-IP data") && out.contains("[sandbox] geoip"),
        "{out}"
    );
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("city.mmdb"), mmdb::sample()).unwrap();
    let (code, out) = run(&format!(
        "[sandbox]\ngeoip = \"{}\"\n",
        outside.path().join("city.mmdb").display()
    ));
    assert_ne!(code, 0);
    assert!(out.contains("geoip") && !out.contains("Australia"), "{out}");
    let (code, out) = run("[sandbox]\ngeoip = \"../city.mmdb\"\n");
    assert_ne!(code, 0, "{out}");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path().join("city.mmdb"), root.join("geo/link.mmdb"))
            .unwrap();
        let (code, out) = run("[sandbox]\ngeoip = \"geo/link.mmdb\"\n");
        assert_ne!(code, 0);
        assert!(
            out.contains("symbolic link") && !out.contains("Australia"),
            "{out}"
        );
    }
    std::fs::write(
        root.join("geo/bad.mmdb"),
        b"\xAB\xCD\xEFMaxMind.com\xe0garbage",
    )
    .unwrap();
    let (code, out) = run("[sandbox]\ngeoip = \"geo/bad.mmdb\"\n");
    assert_ne!(code, 0);
    assert!(out.contains("not a readable MaxMind database"), "{out}");
    // A damaged tree (the sample cut short) is an error, not a panic.
    let mut cut = mmdb::sample();
    cut.drain(8..40);
    std::fs::write(root.join("geo/cut.mmdb"), cut).unwrap();
    let (code, out) = run("[sandbox]\ngeoip = \"geo/cut.mmdb\"\n");
    assert!(!out.contains("panicked"), "{out}");
    assert!(code == 0 || out.contains("geo"), "{out}");
}

/// `take_any(*)` and a join on `... and ...`, with the columns Kusto.Language names (checked
/// with the oracle: `take_any(*) by a` → a, b, c; `any(*) by a` → a, any_b, any_c).
#[test]
fn take_any_star_and_join_on_and() {
    let t = r#"datatable(a:int, b:string, c:long)[1,"x",2, 1,"y",3, 2,"z",4]"#;
    let (cols, rows) = run_engine(&format!("{t} | summarize take_any(*) by a"));
    assert_eq!(
        cols,
        [
            ("a".into(), "int"),
            ("b".into(), "string"),
            ("c".into(), "long")
        ]
    );
    assert_eq!(rows, ["1|x|2", "2|z|4"], "one row's values per group");
    let (cols, _) = run_engine(&format!("{t} | summarize any(*) by a"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["a", "any_b", "any_c"]);
    let (cols, rows) = run_engine(&format!("{t} | summarize take_any(*, c)"));
    assert_eq!(cols.len(), 3);
    assert_eq!(rows, ["1|x|2"]);
    let (_, rows) = run_engine(&format!(
        "{t} | join kind=inner (datatable(k:int, d:string)[1,\"y\", 2,\"q\"]) on $left.a == $right.k and $left.b == $right.d | project a, b, c"
    ));
    assert_eq!(rows, ["1|y|3"]);
}
