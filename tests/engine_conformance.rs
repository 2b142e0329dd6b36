//! Conformance of the embedded engine with Kusto, from facts in the public Kusto documentation:
//! each case in `tests/data/engine/conformance/*.yaml` is a self-contained query (print,
//! datatable, range) with the output table the documentation shows for it, and the page it
//! comes from. Expected values never come from vigil's own output.
//!
//! A case vigil does not pass yet is listed in `tests/data/engine/conformance/known.tsv` with
//! the reason; the test fails when a listed case starts passing (so the list shrinks) or an
//! unlisted one fails.
//!
//! Case format (a YAML list per file):
//! ```yaml
//! - name: strcat joins its arguments
//!   source: https://learn.microsoft.com/kusto/query/strcat-function
//!   query: print str = strcat("hello", " ", "world")
//!   columns: [str]            # optional: expected column names, in order
//!   rows:                     # expected rows (cells: string, number, bool, null, or for
//!     - ["hello world"]       # dynamic values YAML lists/maps or JSON text)
//!   ordered: true             # optional: compare in order (default: as a multiset)
//! ```
//! Datetimes are compared as instants (any ISO-8601 form, `2021-01-01 00:00:00.0000000` too),
//! timespans as Kusto writes them (`1.00:00:00`, `00:30:00`) or as durations, reals with a
//! relative tolerance of 1e-6 (the documentation rounds).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as J;
use vigil::engine::{self, data::Sandbox, exec::RunOptions, value::Type};

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    source: String,
    query: String,
    #[serde(default)]
    columns: Option<Vec<String>>,
    rows: Vec<Vec<serde_json::Value>>,
    #[serde(default)]
    ordered: bool,
    /// A coarser relative tolerance for reals, where the page rounds its output more.
    #[serde(default)]
    tolerance: Option<f64>,
}

thread_local! {
    /// The relative tolerance of the case being checked.
    static TOLERANCE: std::cell::Cell<f64> = const { std::cell::Cell::new(1e-6) };
}

fn files(sub: &str) -> Vec<PathBuf> {
    let dir = common::manifest_dir().join("tests/data/engine").join(sub);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    v.sort();
    v
}

/// Ticks (100 ns) of a datetime written in any of the documentation's forms.
fn datetime_ticks(s: &str) -> Option<i64> {
    vigil::engine::value::parse_datetime(s.trim())
}

/// Ticks of a timespan written as Kusto prints it (`[-][d.]hh:mm:ss[.fffffff]`) or as a
/// literal (`1d`, `30m`).
fn timespan_ticks(s: &str) -> Option<i64> {
    vigil::engine::value::parse_timespan_text(s.trim())
}

fn num(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn close(a: f64, b: f64) -> bool {
    let tol = TOLERANCE.with(|t| t.get());
    a == b || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-9)
}

/// Dynamic values: JSON equality with numbers compared numerically.
fn json_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(_), J::Number(_)) => close(num(a).unwrap(), num(b).unwrap()),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        // Datetimes inside dynamic values are strings; the documentation writes them with
        // seven fractional digits.
        (J::String(x), J::String(y)) if x != y => match (datetime_ticks(x), datetime_ticks(y)) {
            (Some(p), Some(q)) => p == q && x.contains('T') && y.contains('T'),
            _ => false,
        },
        _ => a == b,
    }
}

/// Whether an actual cell (as the query API renders it) equals an expected one.
fn cell_eq(actual: &J, ty: Type, expected: &J) -> bool {
    if expected.is_null() {
        return actual.is_null() || (ty == Type::String && actual == &J::String(String::new()));
    }
    match ty {
        Type::DateTime => match (actual.as_str(), expected.as_str()) {
            (Some(a), Some(e)) => {
                datetime_ticks(a).is_some() && datetime_ticks(a) == datetime_ticks(e)
            }
            _ => false,
        },
        Type::TimeSpan => match (actual.as_str(), expected.as_str()) {
            (Some(a), Some(e)) => {
                timespan_ticks(a).is_some() && timespan_ticks(a) == timespan_ticks(e)
            }
            _ => false,
        },
        Type::Real | Type::Decimal => match (num(actual), num(expected)) {
            // A page's NaN cell matches a NaN (rendered "NaN", as Kusto writes it).
            (Some(a), Some(e)) => close(a, e) || (a.is_nan() && e.is_nan()),
            _ => actual.as_str() == expected.as_str() && actual.is_string(), // NaN, inf
        },
        Type::Long | Type::Int => match (num(actual), num(expected)) {
            (Some(a), Some(e)) => a == e,
            _ => false,
        },
        Type::Bool => match expected {
            J::Bool(_) => actual == expected,
            J::String(s) => actual
                .as_bool()
                .is_some_and(|b| b.to_string() == s.to_ascii_lowercase()),
            J::Number(n) => actual
                .as_bool()
                .is_some_and(|b| (b as i64 as f64) == n.as_f64().unwrap_or(-1.0)),
            _ => false,
        },
        Type::Dynamic => {
            let e = match expected {
                J::String(s) => serde_json::from_str(s).unwrap_or_else(|_| expected.clone()),
                _ => expected.clone(),
            };
            json_eq(actual, &e)
        }
        _ => match (actual, expected) {
            (J::String(a), J::String(e)) => a == e,
            (J::String(a), e) => a.as_str() == e.to_string().as_str(),
            _ => actual == expected,
        },
    }
}

/// Run one case; `Err` says what differs.
fn check(case: &Case, data: &Sandbox) -> Result<(), String> {
    let opts = RunOptions {
        now: datetime_ticks("2024-01-01T00:00:00Z").unwrap(),
        window: None,
    };
    let out = engine::run(&case.query, data, opts).map_err(|e| format!("error: {}", e.message))?;
    let t = &out.table;
    let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
    if let Some(cols) = &case.columns {
        if *cols != names {
            return Err(format!("columns {names:?}, expected {cols:?}"));
        }
    }
    let types: Vec<Type> = t.columns.iter().map(|c| c.ty).collect();
    let actual: Vec<Vec<J>> = (0..t.rows)
        .map(|r| {
            t.columns
                .iter()
                .map(|c| engine::table::cell_json(&c.data[r], c.ty))
                .collect()
        })
        .collect();
    if actual.len() != case.rows.len() {
        return Err(format!(
            "{} rows, expected {}: {}",
            actual.len(),
            case.rows.len(),
            serde_json::to_string(&actual).unwrap()
        ));
    }
    let row_eq = |a: &Vec<J>, e: &Vec<J>| {
        a.len() == e.len()
            && a.iter()
                .zip(e)
                .zip(&types)
                .all(|((a, e), ty)| cell_eq(a, *ty, e))
    };
    if case.ordered {
        for (i, (a, e)) in actual.iter().zip(&case.rows).enumerate() {
            if !row_eq(a, e) {
                return Err(format!(
                    "row {i}: {} expected {}",
                    serde_json::to_string(a).unwrap(),
                    serde_json::to_string(e).unwrap()
                ));
            }
        }
    } else {
        let mut used = vec![false; actual.len()];
        for e in &case.rows {
            match (0..actual.len()).find(|&i| !used[i] && row_eq(&actual[i], e)) {
                Some(i) => used[i] = true,
                None => {
                    return Err(format!(
                        "no row matches {}; got {}",
                        serde_json::to_string(e).unwrap(),
                        serde_json::to_string(&actual).unwrap()
                    ))
                }
            }
        }
    }
    Ok(())
}

#[test]
fn engine_agrees_with_the_kusto_documentation() {
    suite("conformance", 100);
}

/// KQL's series (machine-learning) functions, reported apart from the cases above: each case's
/// expected output is the table its documentation page prints.
#[test]
fn series_functions_agree_with_the_kusto_documentation() {
    suite("conformance_ml", 15);
}

fn suite(sub: &str, min_total: usize) {
    let data = Sandbox::default();
    let known_path = common::manifest_dir()
        .join("tests/data/engine")
        .join(sub)
        .join("known.tsv");
    let known: BTreeMap<String, String> = std::fs::read_to_string(&known_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (mut total, mut passed) = (0, 0);
    let mut problems = Vec::new();
    let mut failing = BTreeMap::new();
    let mut sources = std::collections::BTreeSet::new();
    for f in files(sub) {
        let text = std::fs::read_to_string(&f).unwrap();
        let parsed = vigil::yaml::parse(vigil::source::FileId(0), &text);
        let root = parsed
            .root
            .unwrap_or_else(|| panic!("{}: not YAML: {:?}", f.display(), parsed.diagnostics));
        let cases: Vec<Case> = serde_json::from_value(vigil::yaml::to_json(&root))
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let file = f.file_stem().unwrap().to_string_lossy().into_owned();
        for c in cases {
            assert!(
                c.source.starts_with("https://"),
                "{file}/{}: source must be a URL",
                c.name
            );
            sources.insert(c.source.clone());
            total += 1;
            let id = format!("{file}/{}", c.name);
            TOLERANCE.with(|t| t.set(c.tolerance.unwrap_or(1e-6)));
            match check(&c, &data) {
                Ok(()) => {
                    passed += 1;
                    if known.contains_key(&id) {
                        problems.push(format!("{id}: passes now; remove it from known.tsv"));
                    }
                }
                Err(e) => {
                    if !known.contains_key(&id) {
                        problems.push(format!("{id}: {e}\n    query: {}", c.query.trim()));
                    }
                    failing.insert(id, e);
                }
            }
        }
    }
    for id in known.keys() {
        if !failing.contains_key(id) && !problems.iter().any(|p| p.starts_with(id.as_str())) {
            problems.push(format!("{id}: listed in known.tsv but no such case"));
        }
    }
    eprintln!(
        "{sub}: {passed}/{total} documented cases pass ({:.1}%) from {} documentation pages; {} known differences",
        100.0 * passed as f64 / total.max(1) as f64,
        sources.len(),
        failing.len()
    );
    if std::env::var_os("VIGIL_CONFORMANCE_REPORT").is_some() {
        for (id, e) in &failing {
            eprintln!("{id}\t{e}");
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(total >= min_total, "too few {sub} cases: {total}");
}
