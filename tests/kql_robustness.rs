//! Never a panic: parse, lint and bind real queries and thousands of deterministic mutations
//! of them (truncations, deleted and inserted bytes, duplicated spans). A crash fails the test.

mod common;

use vigil::kql::catalog::Catalog;
use vigil::kql::lints::{self, QueryUse};

use common::Rng;

const INSERTS: &[&str] = &[
    "|",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "@'",
    "```",
    ",",
    ";",
    "=",
    "==",
    "..",
    "$left.",
    " let ",
    " by ",
    " on ",
    " with ",
    "*",
    "/",
    "//",
    "\n",
    "dynamic(",
    "datetime(",
    "{{",
    "}}",
    "!",
    "h'",
    "é",
    "'\\é'",
    "\\",
    "\u{200b}",
    "mv-expand ",
    "summarize ",
    "join (",
    " in (",
];

fn mutate(rng: &mut Rng, q: &str) -> String {
    let mut s: Vec<u8> = q.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(s.len() + 1);
        match rng.below(4) {
            0 => s.truncate(at),
            1 => {
                if at < s.len() {
                    let end = (at + 1 + rng.below(8)).min(s.len());
                    s.drain(at..end);
                }
            }
            2 => {
                let ins = INSERTS[rng.below(INSERTS.len())].as_bytes();
                s.splice(at..at, ins.iter().copied());
            }
            _ => {
                let end = (at + rng.below(40)).min(s.len());
                let dup = s[at..end].to_vec();
                s.splice(at..at, dup);
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn exercise(q: &str, catalog: &Catalog) {
    let p = vigil::kql::parse(q);
    assert_eq!(p.tree.text(q), q, "lossless under mutation");
    let _ = lints::run(q, &p.tree, QueryUse::Hunt);
    let _ = vigil::kql::binder::bind(q, &p.tree, catalog);
}

#[test]
fn mutated_queries_never_panic() {
    let catalog = Catalog::embedded();
    let mut queries: Vec<String> = vec![
        "SecurityEvent | where EventID == 4625 | summarize count() by Account".into(),
        "let f = (a:string) { T | where x == a }; f('x') | join kind=inner (U) on $left.a == $right.b".into(),
    ];
    if let Some(corpus) = common::corpus() {
        let text = std::fs::read_to_string(corpus.join("kql/queries.jsonl")).unwrap();
        for (i, line) in text.lines().enumerate() {
            if i % 10 == 0 {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                queries.push(v["query"].as_str().unwrap_or("").to_string());
            }
        }
    } else {
        eprintln!("corpus not found: mutating the built-in queries only");
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0usize;
    for q in &queries {
        exercise(q, catalog);
        for _ in 0..12 {
            let m = mutate(&mut rng, q);
            exercise(&m, catalog);
            runs += 1;
        }
    }
    eprintln!("{} queries, {runs} mutations: no panic", queries.len());
    assert!(runs >= 24);
}
