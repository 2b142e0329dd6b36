//! Running content offline: detection tests (`*.tests.yaml` beside a definition), dry-runs of
//! every scheduled run over the sandbox window, and the sandbox data generator.
//!
//! A test file (`detections/x.yaml` → `detections/x.tests.yaml`):
//!
//! ```yaml
//! tests:
//!   - name: fires on a spray from one IP
//!     data:                       # rows per table, inline or `{file: rows.jsonl}`
//!       SigninLogs:
//!         - { TimeGenerated: -10m, IPAddress: 203.0.113.7, ResultType: "50126" }
//!     expect: { alerts: 1, entities: [{ type: IP, Address: 203.0.113.7 }] }
//!   - name: silent on ordinary failures
//!     data: { SigninLogs: [ ... ] }
//!     expect: { alerts: 0 }
//! ```
//!
//! `TimeGenerated` (and any datetime) may be relative to the test's clock: `-10m`, `-2h`,
//! `+5m`, `now`. Each test is one scheduled run ending at the clock (`now:` in the test, else
//! `[sandbox] now`), over the rule's query period, as Sentinel would run it.
//!
//! A row may stand for many: `repeat: 25, every: 1m` makes 25 rows, row n (from 0) with every
//! datetime value moved by n × 1m and `{n}` in its strings replaced by n (`user{n}@x.com`).
//! `repeat` and `every` are therefore reserved in test rows; `repeat` above 10,000 is an error.
//! The format's JSON Schema is `schemas/vigil.tests.schema.json` (generated, drift-tested).

pub use crate::alerts;
pub mod generate;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::data::rows_to_table;
use crate::engine::value::{parse_datetime, parse_timespan_text, Type, Value};
use crate::engine::Sandbox;
use crate::kql::catalog::Catalog;
use crate::model::{Definition, Item};

/// A `*.tests.yaml` file: detection tests for the rule beside it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "vigil detection tests (x.tests.yaml)")]
pub struct TestFile {
    pub tests: Vec<TestCase>,
}

/// One test: data, one scheduled run of the rule at the clock, what the run must give.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the test shows (reported by `vigil test`).
    pub name: String,
    /// The clock of the run (default `[sandbox] now`).
    #[serde(default)]
    pub now: Option<String>,
    /// Rows per table: a list of objects, or `{ file: path }` relative to the test file.
    #[serde(default)]
    pub data: indexmap::IndexMap<String, TableData>,
    pub expect: Expect,
}

/// One table's rows: inline, or a JSON Lines file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(untagged)]
pub enum TableData {
    /// Row objects (column → value).
    Rows(#[schemars(with = "Vec<RowSchema>")] Vec<serde_json::Map<String, serde_json::Value>>),
    /// `{ file: rows.jsonl }`: JSON Lines of row objects, relative to the tests file, inside
    /// the repository.
    File { file: String },
}

/// The JSON Schema of a test row (column values, plus `repeat` and `every`).
pub struct RowSchema;

impl schemars::JsonSchema for RowSchema {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Row".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "One row: column → value. Datetimes may be relative to the clock (`-10m`, `+5m`, `now`).",
            "type": "object",
            "properties": {
                "repeat": {
                    "description": "Make this many rows from this one (row n from 0).",
                    "type": "integer", "minimum": 1, "maximum": MAX_REPEAT
                },
                "every": {
                    "description": "With `repeat`: row n has every datetime moved by n × this timespan (`1m`, `30s`); `{n}` in strings becomes n.",
                    "type": "string"
                }
            },
            "dependentRequired": { "every": ["repeat"] },
            "additionalProperties": true
        })
    }
}

/// The JSON Schema of a tests file.
pub fn json_schema() -> serde_json::Value {
    let mut v = schemars::schema_for!(TestFile).to_value();
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "$id".into(),
            serde_json::json!("https://vigil.dev/schemas/vigil.tests.schema.json"),
        );
    }
    v
}

/// The committed file name of [`json_schema`] under `schemas/`.
pub const SCHEMA_FILE: &str = "vigil.tests.schema.json";

/// [`json_schema`] as committed (pretty, newline-terminated).
pub fn render_schema() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// What the run must give; every field given is checked.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Exact number of alerts of the run.
    #[serde(default)]
    pub alerts: Option<usize>,
    /// Exact number of query results.
    #[serde(default)]
    pub rows: Option<usize>,
    /// Entities that must appear in the alerts (each a subset match).
    #[serde(default)]
    pub entities: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Custom details that must appear in an alert (values as strings).
    #[serde(default)]
    pub custom_details: serde_json::Map<String, serde_json::Value>,
}

/// The tests file of a definition file.
pub fn tests_path(def: &Path) -> PathBuf {
    let stem = def.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    def.with_file_name(format!("{stem}.tests.yaml"))
}

/// Whether a path is a tests file (not content).
pub fn is_tests_file(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".tests.yaml") || n.ends_with(".tests.yml"))
}

/// Read a tests file.
/// [`read_tests`] for a tests file of a repository: it must lie inside `root` after symbolic
/// links (it is named by the definition's path, but it may be a link).
pub fn read_tests_in(root: &Path, path: &Path) -> Result<TestFile, String> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    crate::paths::contained(root, Path::new(""), &rel.to_string_lossy())
        .map_err(|e| format!("{}: {e}", rel.display()))?;
    read_tests(path)
}

pub fn read_tests(path: &Path) -> Result<TestFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let parsed = crate::yaml::parse(crate::source::FileId(0), &text);
    if let Some(e) = parsed
        .diagnostics
        .iter()
        .find(|d| d.severity == crate::diagnostics::Severity::Error)
    {
        return Err(format!("{}: {}", path.display(), e.message));
    }
    let json = parsed
        .root
        .as_ref()
        .map(crate::yaml::to_json)
        .unwrap_or(serde_json::Value::Null);
    let file: TestFile =
        serde_json::from_value(json).map_err(|e| format!("{}: {e}", path.display()))?;
    for case in &file.tests {
        for (table, data) in &case.data {
            if let TableData::Rows(rows) = data {
                check_repeats(rows).map_err(|e| {
                    format!("{}: test `{}`, {table} {e}", path.display(), case.name)
                })?;
            }
        }
    }
    Ok(file)
}

/// Most rows one `repeat` makes.
pub const MAX_REPEAT: u64 = 10_000;

/// `repeat`/`every` of a row: (count, step in the engine's time unit); None without `repeat`.
fn repeat_of(
    row: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<(u64, i64)>, String> {
    let every = match row.get("every") {
        None => None,
        Some(serde_json::Value::String(s)) => Some(
            parse_timespan_text(s.trim())
                .ok_or_else(|| format!("`every: {s}` is not a timespan (`1m`, `30s`, `2h`)"))?,
        ),
        Some(v) => {
            return Err(format!(
                "`every: {v}` is not a timespan (`1m`, `30s`, `2h`)"
            ))
        }
    };
    match row.get("repeat") {
        None if every.is_some() => Err("has `every` without `repeat`".into()),
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=MAX_REPEAT).contains(&n) => Ok(Some((n, every.unwrap_or(0)))),
            Some(n) if n > MAX_REPEAT => Err(format!(
                "`repeat: {n}` is more than {MAX_REPEAT} rows; use a data file (`file: rows.jsonl`) for bulk data"
            )),
            _ => Err(format!("`repeat: {v}` must be a whole number from 1 to {MAX_REPEAT}")),
        },
    }
}

/// Check every row's `repeat`/`every`.
fn check_repeats(rows: &[serde_json::Map<String, serde_json::Value>]) -> Result<(), String> {
    for (i, r) in rows.iter().enumerate() {
        repeat_of(r).map_err(|e| format!("row {}: {e}", i + 1))?;
    }
    Ok(())
}

/// A value of test data: relative times (`-10m`, `now`) resolved against the clock.
fn test_value(v: &serde_json::Value, now: i64) -> Value {
    match v {
        serde_json::Value::String(s) => {
            let t = s.trim();
            if t == "now" {
                return Value::DateTime(now);
            }
            for (sign, rest) in [(-1, t.strip_prefix('-')), (1, t.strip_prefix('+'))] {
                if let Some(rest) = rest {
                    if let Some(d) = parse_timespan_text(rest) {
                        if rest.chars().last().is_some_and(|c| c.is_ascii_alphabetic()) {
                            return Value::DateTime(now + sign * d);
                        }
                    }
                }
            }
            Value::str(s)
        }
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => Value::Real(n.as_f64().unwrap_or(0.0)),
        },
        other => Value::dynamic(other.clone()),
    }
}

/// Typed rows of one table from test data.
pub fn table_rows(
    rows: &[serde_json::Map<String, serde_json::Value>],
    now: i64,
) -> Vec<Vec<(String, Value)>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        // Checked when the file was read; a bad value here makes one row.
        let Ok(Some((repeat, every))) = repeat_of(r) else {
            out.push(
                r.iter()
                    .filter(|(k, _)| k.as_str() != "repeat" && k.as_str() != "every")
                    .map(|(k, v)| (k.clone(), test_value(v, now)))
                    .collect(),
            );
            continue;
        };
        for n in 0..repeat {
            out.push(
                r.iter()
                    .filter(|(k, _)| k.as_str() != "repeat" && k.as_str() != "every")
                    .map(|(k, v)| {
                        let v = match v {
                            serde_json::Value::String(s) if s.contains("{n}") => {
                                serde_json::Value::String(s.replace("{n}", &n.to_string()))
                            }
                            v => v.clone(),
                        };
                        let step = n as i64 * every;
                        let val = match test_value(&v, now) {
                            Value::DateTime(t) => Value::DateTime(t + step),
                            // An absolute datetime is text until the table's schema types it.
                            other if every != 0 => match v
                                .as_str()
                                .filter(|s| {
                                    let b = s.as_bytes();
                                    b.len() >= 10
                                        && b[..4].iter().all(u8::is_ascii_digit)
                                        && b[4] == b'-'
                                })
                                .and_then(parse_datetime)
                            {
                                Some(t) => Value::DateTime(t + step),
                                None => other,
                            },
                            other => other,
                        };
                        (k.clone(), val)
                    })
                    .collect(),
            );
        }
    }
    out
}

/// Row objects of a JSON Lines file.
pub fn read_rows(p: &Path) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    rows_of(&text, &p.display().to_string())
}

/// Largest test data file read (`file:` in a tests file).
pub const MAX_TEST_DATA: u64 = 64 * 1024 * 1024;

/// Rows of JSON Lines text (`name` for messages).
fn rows_of(
    text: &str,
    name: &str,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{name}:{}: {e}", i + 1)))
        .collect()
}

/// The result of one test case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub definition: String,
    pub file: String,
    pub name: String,
    pub passed: bool,
    pub failures: Vec<String>,
    pub alerts: usize,
    pub rows: usize,
    pub seconds: f64,
}

impl CaseResult {
    /// A failed case standing for a tests file that could not be read.
    pub fn unreadable(definition: &str, file: &std::path::Path, error: String) -> CaseResult {
        CaseResult {
            definition: definition.to_string(),
            file: file.display().to_string(),
            name: "(tests file)".into(),
            passed: false,
            failures: vec![error],
            alerts: 0,
            rows: 0,
            seconds: 0.0,
        }
    }
}

/// Run the test cases of one rule.
pub fn run_rule_tests(
    root: &Path,
    def: &Definition,
    tests: &TestFile,
    tests_file: &Path,
    all: &[Definition],
    default_now: i64,
    schemas: &crate::config::SchemasConfig,
) -> Vec<CaseResult> {
    let Item::Rule(rule) = &def.item else {
        return tests
            .tests
            .iter()
            .map(|c| CaseResult {
                definition: def.name().to_string(),
                file: tests_file.display().to_string(),
                name: c.name.clone(),
                passed: false,
                failures: vec![
                    "not supported yet: tests for content other than analytics rules".into(),
                ],
                alerts: 0,
                rows: 0,
                seconds: 0.0,
            })
            .collect();
    };
    let mut out = Vec::new();
    for case in &tests.tests {
        let started = std::time::Instant::now();
        let mut failures = Vec::new();
        let now = match &case.now {
            Some(n) => match parse_datetime(n) {
                Some(t) => t,
                None => {
                    failures.push(format!("`now: {n}` is not a datetime"));
                    default_now
                }
            },
            None => default_now,
        };
        // Data: only the test's tables (plus the repository's functions and watchlists).
        let mut sb: Sandbox =
            crate::sandbox::for_definitions(Path::new("/nonexistent-vigil-sandbox"), all, schemas)
                .with_missing_hint("this test has no rows for it: add them under `data:`");
        for (table, data) in &case.data {
            let rows = match data {
                TableData::Rows(r) => table_rows(r, now),
                TableData::File { file } => {
                    // JSON Lines of row objects; times may be relative as inline. The file is
                    // named by content: it must lie inside the repository.
                    let dir = tests_file.parent().unwrap_or(Path::new("."));
                    let rows = crate::paths::read_contained(root, dir, file, MAX_TEST_DATA)
                        .map_err(|e| {
                            format!("test data `{}`: {e}", crate::diagnostics::excerpt(file, 80))
                        })
                        .and_then(|text| rows_of(&text, file))
                        .and_then(|r| {
                            check_repeats(&r).map_err(|e| format!("{file}: {e}"))?;
                            Ok(r)
                        });
                    match rows {
                        Ok(r) => table_rows(&r, now),
                        Err(e) => {
                            failures.push(e);
                            Vec::new()
                        }
                    }
                }
            };
            let schema: Option<Vec<(String, Type)>> = Catalog::embedded()
                .tables
                .get(table)
                .map(|s| s.columns.clone());
            sb.add_table(table, rows_to_table(rows, schema.as_deref()));
        }
        let (mut nalerts, mut nrows) = (0, 0);
        match alerts::prepare(&rule.query, crate::engine::DataSource::catalog(&sb))
            .and_then(|q| alerts::run_once(rule, &q, &sb, now))
        {
            Err(e) => failures.push(format!("the query failed: {}", e.message)),
            Ok((table, _)) => {
                let alerts = alerts::alerts_for(rule, &table);
                nalerts = alerts.len();
                nrows = table.rows;
                if let Some(want) = case.expect.alerts {
                    if alerts.len() != want {
                        failures.push(format!(
                            "expected {want} alert(s), the run raised {} ({} result row(s))",
                            alerts.len(),
                            table.rows
                        ));
                    }
                }
                if let Some(want) = case.expect.rows {
                    if table.rows != want {
                        failures.push(format!("expected {want} result row(s), got {}", table.rows));
                    }
                }
                for e in &case.expect.entities {
                    let found = alerts.iter().flat_map(|a| &a.entities).any(|got| {
                        e.iter().all(|(k, v)| {
                            let g = got.get(k);
                            g == Some(v)
                                || g.map(|g| Value::dynamic(g.clone()).to_kusto_string())
                                    == Some(Value::dynamic(v.clone()).to_kusto_string())
                        })
                    });
                    if !found {
                        failures.push(format!(
                            "no alert has the entity {}",
                            serde_json::Value::Object(e.clone())
                        ));
                    }
                }
                for (k, v) in &case.expect.custom_details {
                    let want = Value::dynamic(v.clone()).to_kusto_string();
                    let found = alerts.iter().any(|a| {
                        a.custom_details.get(k).is_some_and(|vals| {
                            vals.as_array().is_some_and(|arr| {
                                arr.iter().any(|x| x.as_str() == Some(want.as_str()))
                            })
                        })
                    });
                    if !found {
                        failures.push(format!("no alert has the custom detail {k} = {want}"));
                    }
                }
            }
        }
        out.push(CaseResult {
            definition: def.name().to_string(),
            file: tests_file.display().to_string(),
            name: case.name.clone(),
            passed: failures.is_empty(),
            failures,
            alerts: nalerts,
            rows: nrows,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    out
}

/// JUnit XML of test results (one suite per definition).
pub fn junit(results: &[CaseResult]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut suites: indexmap::IndexMap<&str, Vec<&CaseResult>> = indexmap::IndexMap::new();
    for r in results {
        suites.entry(r.definition.as_str()).or_default().push(r);
    }
    let failures = results.iter().filter(|r| !r.passed).count();
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"vigil test\" tests=\"{}\" failures=\"{failures}\">\n",
        results.len()
    );
    for (name, cases) in suites {
        let f = cases.iter().filter(|c| !c.passed).count();
        s.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\">\n",
            esc(name),
            cases.len()
        ));
        for c in cases {
            s.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
                esc(name),
                esc(&c.name),
                esc(&c.file),
                c.seconds
            ));
            if c.passed {
                s.push_str("/>\n");
            } else {
                s.push_str(">\n");
                s.push_str(&format!(
                    "      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    esc(c.failures.first().map(String::as_str).unwrap_or("failed")),
                    esc(&c.failures.join("\n"))
                ));
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(yaml: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let parsed = crate::yaml::parse(crate::source::FileId(0), yaml);
        serde_json::from_value(crate::yaml::to_json(parsed.root.as_ref().unwrap())).unwrap()
    }

    #[test]
    fn repeat_every_steps_datetimes_and_numbers_strings() {
        let now = parse_datetime("2026-01-01T12:00:00Z").unwrap();
        let r = rows("- { repeat: 3, every: 1m, TimeGenerated: -10m, Created: 2026-01-01T00:00:00Z, User: \"u{n}\", Count: 5, Code: \"50126\" }\n- { TimeGenerated: +5m, User: x }\n");
        let t = table_rows(&r, now);
        assert_eq!(t.len(), 4);
        let minute = parse_timespan_text("1m").unwrap();
        for (n, row) in t[..3].iter().enumerate() {
            let get = |k: &str| {
                row.iter()
                    .find(|(c, _)| c == k)
                    .map(|(_, v)| format!("{v:?}"))
            };
            assert_eq!(
                get("TimeGenerated"),
                Some(format!(
                    "{:?}",
                    Value::DateTime(now - 10 * minute + n as i64 * minute)
                ))
            );
            assert_eq!(
                get("Created"),
                Some(format!(
                    "{:?}",
                    Value::DateTime(
                        parse_datetime("2026-01-01T00:00:00Z").unwrap() + n as i64 * minute
                    )
                ))
            );
            assert_eq!(
                get("User"),
                Some(format!("{:?}", Value::str(&format!("u{n}"))))
            );
            assert_eq!(get("Count"), Some(format!("{:?}", Value::Long(5))));
            assert_eq!(get("Code"), Some(format!("{:?}", Value::str("50126"))));
            assert!(get("repeat").is_none() && get("every").is_none());
        }
        assert_eq!(
            format!("{:?}", t[3][0].1),
            format!("{:?}", Value::DateTime(now + 5 * minute))
        );
    }

    #[test]
    fn repeat_limits_and_mistakes_are_reported() {
        let err = |y: &str| check_repeats(&rows(y)).unwrap_err();
        assert!(err("- { repeat: 10001, TimeGenerated: -1m }\n").contains("more than 10000 rows"));
        assert!(err("- { repeat: 0 }\n").contains("from 1 to 10000"));
        assert!(err("- { repeat: -3 }\n").contains("from 1 to 10000"));
        assert!(err("- { repeat: 2.5 }\n").contains("from 1 to 10000"));
        assert!(err("- { every: 1m }\n").contains("without `repeat`"));
        assert!(err("- { repeat: 2, every: soon }\n").contains("not a timespan"));
        assert!(err("- { a: 1 }\n- { repeat: 99999999999999999999 }\n").starts_with("row 2:"));
        check_repeats(&rows("- { repeat: 10000, every: 1s }\n")).unwrap();
    }
}
