//! `vigil sandbox init`: seeded sample data for every table the content references.
//!
//! - Benign background: each rule's tests that expect no alert are replayed once per query
//!   period across the window, plus schema-driven filler rows (plausible values by column
//!   name and type) for every referenced table.
//! - Attack patterns: each test that expects alerts is placed once in the window, on the
//!   rule's schedule grid, so a dry-run shows the rule firing there and nowhere else.
//!
//! Stable under edits: each table's filler is seeded from `[sandbox] seed`, the table's name
//! and the ids of the rules that read it, and each rule's attack slots from its own id, never
//! from one stream shared across tables. Adding or changing a rule regenerates only the tables
//! it reads; every other file stays byte-identical.

use std::collections::BTreeMap;

use super::{table_rows, TableData, TestFile};
use crate::engine::value::{format_datetime, Type, Value, HOUR, MINUTE, SECOND};
use crate::kql::catalog::Catalog;
use crate::model::{Definition, Item};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A seed from the configured one and names (FNV-1a over their bytes).
fn mix(seed: u64, name: &str, more: &[&str]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ seed;
    for part in std::iter::once(name).chain(more.iter().copied()) {
        for b in part.bytes().chain([0xFF]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
    }
    h
}

/// Tables a query names (identifiers that are catalog tables).
pub fn referenced_tables(query: &str) -> Vec<String> {
    let (tokens, _) = crate::kql::lexer::lex(query);
    let cat = Catalog::embedded();
    let mut out: Vec<String> = tokens
        .iter()
        .filter(|t| t.kind == crate::kql::syntax::TokenKind::Ident)
        .map(|t| &query[t.range()])
        .filter(|w| cat.tables.contains_key(*w))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

fn filler(name: &str, ty: Type, r: &mut Rng, t: i64) -> Value {
    let n = name.to_ascii_lowercase();
    match ty {
        Type::DateTime => Value::DateTime(t),
        Type::Bool => Value::Bool(r.below(10) == 0),
        Type::Long | Type::Int => {
            if n.contains("port") {
                Value::Long([443, 80, 53, 22, 3389][r.below(5) as usize])
            } else {
                Value::Long(r.below(100) as i64)
            }
        }
        Type::Real | Type::Decimal => Value::Real(r.below(1000) as f64 / 10.0),
        Type::Dynamic => Value::dynamic(serde_json::json!({})),
        Type::TimeSpan => Value::TimeSpan(r.below(3600) as i64 * SECOND),
        _ => {
            let s = if n.contains("ip") && (n.contains("addr") || n.ends_with("ip")) {
                format!("10.0.{}.{}", r.below(4), 1 + r.below(250))
            } else if n.contains("userprincipalname") || n.ends_with("upn") {
                format!("user{:02}@contoso.com", r.below(40))
            } else if n.contains("account") || n.contains("user") {
                format!("user{:02}", r.below(40))
            } else if n.contains("computer") || n.contains("host") || n.contains("device") {
                format!("host-{:02}", r.below(20))
            } else {
                String::new()
            };
            Value::string(s)
        }
    }
}

/// `n` schema-driven filler rows for a table's columns, with times spread over
/// `[start, end)`.
pub fn filler_rows(
    cols: &[(String, Type)],
    n: usize,
    seed: u64,
    start: i64,
    end: i64,
) -> Vec<Vec<(String, Value)>> {
    let mut r = Rng(seed);
    let span = ((end - start) / MINUTE).max(1) as u64;
    (0..n)
        .map(|_| {
            let t = start + r.below(span) as i64 * MINUTE;
            cols.iter()
                .map(|(c, ty)| (c.clone(), filler(c, *ty, &mut r, t)))
                .collect()
        })
        .collect()
}

/// Generated rows per table (already typed), for the window `[now - days, now)`.
pub fn generate(
    root: &std::path::Path,
    defs: &[(Definition, Option<TestFile>)],
    now: i64,
    days: i64,
    seed: u64,
) -> BTreeMap<String, Vec<Vec<(String, Value)>>> {
    let start = now - days * 24 * HOUR;
    let mut out: BTreeMap<String, Vec<Vec<(String, Value)>>> = BTreeMap::new();
    // The readers of each referenced table (definition ids, sorted).
    let mut readers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (d, _) in defs {
        let Some(q) = d.query() else { continue };
        for table in referenced_tables(q) {
            readers.entry(table).or_default().push(d.resource_name());
        }
    }
    // Filler for every referenced table, each from its own seed.
    for (table, ids) in &mut readers {
        ids.sort_unstable();
        ids.dedup();
        let mut r = Rng(mix(seed, table, ids));
        let table = table.clone();
        {
            let cols: Vec<(String, Type)> = Catalog::embedded()
                .tables
                .get(&table)
                .map(|s| s.columns.clone())
                .unwrap_or_default();
            let mut rows = Vec::new();
            for _ in 0..(days * 24) {
                let t = start + (r.below((days * 24 * 60) as u64) as i64) * MINUTE;
                rows.push(
                    cols.iter()
                        .filter(|(c, _)| !c.starts_with('_'))
                        .map(|(c, ty)| (c.clone(), filler(c, *ty, &mut r, t)))
                        .collect(),
                );
            }
            out.insert(table, rows);
        }
    }
    // Test data: benign replayed per period, attacks once each.
    for (d, tests) in defs {
        let (Item::Rule(rule), Some(tests)) = (&d.item, tests) else {
            continue;
        };
        let (freq, period) = super::alerts::schedule(rule);
        // The rule's attack cases take consecutive 6-hour slots from a place of its own, late
        // enough in the window for a whole query period before them.
        let slots = ((days * 24 * HOUR - period - freq) / (6 * HOUR)).max(1);
        let first = 1 + (mix(seed, "attacks", &[d.resource_name()]) % slots as u64) as i64;
        let mut attack_slot = first;
        for case in &tests.tests {
            let benign = case.expect.alerts == Some(0);
            let ends: Vec<i64> = if benign {
                let mut v = Vec::new();
                let mut t = now - period;
                while t - period > start && v.len() < 2000 {
                    v.push(t);
                    t -= period.max(freq).max(HOUR) * 2;
                }
                v
            } else {
                // One attack per rule case, a few hours apart, on the schedule grid.
                let at = now - attack_slot * 6 * HOUR;
                attack_slot = 1 + attack_slot % slots;
                vec![at - at.rem_euclid(freq.max(MINUTE))]
            };
            for at in ends {
                for (table, data) in &case.data {
                    let rows = match data {
                        TableData::Rows(rows) => rows.clone(),
                        TableData::File { file } => {
                            let dir = d.path.parent().unwrap_or(std::path::Path::new(""));
                            super::read_rows(&root.join(dir).join(file)).unwrap_or_default()
                        }
                    };
                    out.entry(table.clone())
                        .or_default()
                        .extend(table_rows(&rows, at));
                }
            }
        }
    }
    for rows in out.values_mut() {
        rows.sort_by_key(|row| {
            row.iter()
                .find(|(k, _)| k == "TimeGenerated")
                .and_then(|(_, v)| match v {
                    Value::DateTime(t) => Some(*t),
                    _ => None,
                })
                .unwrap_or(0)
        });
    }
    out
}

/// Rows as JSON Lines (datetimes as ISO 8601).
pub fn to_jsonl(rows: &[Vec<(String, Value)>]) -> String {
    let mut s = String::new();
    for row in rows {
        let mut m = serde_json::Map::new();
        for (k, v) in row {
            // Empty values are left out: the loader fills them from the table's schema.
            if v.is_empty() {
                continue;
            }
            let j = match v {
                Value::DateTime(t) => serde_json::Value::String(format_datetime(*t)),
                other => other.to_json(),
            };
            m.insert(k.clone(), j);
        }
        s.push_str(&serde_json::Value::Object(m).to_string());
        s.push('\n');
    }
    s
}
