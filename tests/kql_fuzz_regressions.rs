//! Inputs the fuzzers (fuzz/, `bash fuzz/run.sh`) found to crash or hang the KQL front end,
//! replayed through lexing, parsing, lints and binding: each must finish with diagnostics.
//! Plus the shape behind the binder hang: call trees of let-bound functions that double at
//! every level, and recursion, which binding now bounds (a call budget and a recursion guard).

mod common;

use vigil::kql::catalog::Catalog;
use vigil::kql::lints::{self, QueryUse};

fn exercise(q: &str) -> usize {
    let p = vigil::kql::parse(q);
    assert_eq!(p.tree.text(q), q, "lossless");
    let l = lints::run(q, &p.tree, QueryUse::Rule).len();
    let b = vigil::kql::binder::bind(q, &p.tree, Catalog::embedded());
    p.errors.len() + l + b.errors.len()
}

#[test]
fn fuzzer_findings_finish() {
    let dir = common::manifest_dir().join("tests/data/fuzz");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let q = String::from_utf8_lossy(&bytes);
        exercise(&q);
    }
}

#[test]
fn doubling_call_trees_and_recursion_are_bounded() {
    // f30 calls f29 twice, ..., f0 reads a table: 2^30 bodies if each call were bound.
    let mut q = String::from("let f0 = () { SecurityEvent | take 1 };\n");
    for i in 1..=30 {
        q.push_str(&format!(
            "let f{i} = () {{ union f{p}(), f{p}() }};\n",
            p = i - 1
        ));
    }
    q.push_str("f30() | count");
    exercise(&q);
    // The same tree with a known string argument: each call is bound twice (its types, then
    // its expansion, where `table(t)` reads the table), 4^30 bodies without the budget; and
    // functions nobody calls, each bound once at the end, reaching into the tree.
    let mut q = String::from("let f0 = (t:string) { table(t) | take 1 };\n");
    for i in 1..=30 {
        q.push_str(&format!(
            "let f{i} = (t:string) {{ union f{p}(t), f{p}(t) }};\n",
            p = i - 1
        ));
    }
    for i in 0..50 {
        q.push_str(&format!("let g{i} = () {{ f30('SecurityEvent') }};\n"));
    }
    q.push_str("f30('SecurityEvent') | count");
    let started = std::time::Instant::now();
    exercise(&q);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // Recursion (Kusto rejects it; vigil must not loop).
    exercise("let f = (n:long) { f(n - 1) }; print x = toscalar(f(3))");
    exercise("let a = () { b() }; let b = () { a() }; a()");
}
