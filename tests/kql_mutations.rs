//! Differential test against the live oracle (Kusto.Language 12.4.1 behind
//! ../shared/tools/kql-oracle), on deterministic mutations of real queries, so the suite tests
//! rejection and not only acceptance:
//! - `drop`: one token removed;
//! - `swap`: an operator or keyword replaced by another one (of the same class or not);
//! - `misspell`: two adjacent letters of a table, column or function name swapped (bound
//!   against the same Sentinel schema as tests/kql_semantic.rs).
//!
//! The oracle runs as a child process (node). `.ci/run` installs it and sets
//! `VIGIL_REQUIRE_ORACLE=1`, so there a missing oracle fails the test; elsewhere the test says it
//! skipped. Every disagreement is listed in `tests/corpus/kql-mutation-disagreements.tsv`
//! (bless with VIGIL_BLESS=1 after review). `VIGIL_MUTATION_DUMP=FILE` writes the first-error offset
//! disagreements as JSON lines (with `VIGIL_MUTATION_DUMP_ALL=1`, every case both reject).

mod common;

use std::collections::BTreeMap;

use vigil::kql::catalog::Catalog;
use vigil::kql::syntax::TokenKind;

use common::Rng;

use common::oracle::{self, Oracle, Verdict};

const SCALAR_OPS: &[&str] = &[
    "==",
    "!=",
    "=~",
    "!~",
    "<",
    "<=",
    ">",
    ">=",
    "has",
    "!has",
    "contains",
    "!contains",
    "startswith",
    "endswith",
    "has_any",
    "in",
    "!in",
    "in~",
    "and",
    "or",
    "+",
    "-",
    "*",
    "/",
];
const TABULAR_OPS: &[&str] = &[
    "where",
    "project",
    "extend",
    "summarize",
    "distinct",
    "take",
    "sort",
    "top",
    "join",
    "union",
    "mv-expand",
    "parse",
    "count",
    "project-away",
    "lookup",
    "make-series",
];
const PUNCT: &[&str] = &["|", ",", "(", ")", "[", "]", "by", "on", "=", ";", "with"];

fn token_text(q: &str, t: &vigil::kql::syntax::Token) -> String {
    q[t.start as usize..t.end() as usize].to_string()
}

fn splice(q: &str, t: &vigil::kql::syntax::Token, with: &str) -> String {
    format!(
        "{}{}{}",
        &q[..t.start as usize],
        with,
        &q[t.end() as usize..]
    )
}

fn pick<'a>(rng: &mut Rng, v: &'a [&'a str]) -> &'a str {
    v[rng.below(v.len())]
}

/// One token removed.
fn drop_token(rng: &mut Rng, q: &str) -> Option<String> {
    let (tokens, _) = vigil::kql::lexer::lex(q);
    let real: Vec<_> = tokens
        .iter()
        .filter(|t| !t.kind.is_trivia() && t.kind != TokenKind::Eof && t.len > 0)
        .collect();
    if real.is_empty() {
        return None;
    }
    Some(splice(q, real[rng.below(real.len())], ""))
}

/// An operator or keyword replaced: half the time by one of its own class, else by anything.
fn swap_operator(rng: &mut Rng, q: &str) -> Option<String> {
    let (tokens, _) = vigil::kql::lexer::lex(q);
    let all: Vec<&str> = SCALAR_OPS
        .iter()
        .chain(TABULAR_OPS)
        .chain(PUNCT)
        .copied()
        .collect();
    let candidates: Vec<_> = tokens
        .iter()
        .filter(|t| all.contains(&token_text(q, t).as_str()))
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let t = candidates[rng.below(candidates.len())];
    let old = token_text(q, t);
    let class: &[&str] = if SCALAR_OPS.contains(&old.as_str()) {
        SCALAR_OPS
    } else if TABULAR_OPS.contains(&old.as_str()) {
        TABULAR_OPS
    } else {
        PUNCT
    };
    let new = if rng.below(2) == 0 {
        pick(rng, class)
    } else {
        pick(rng, &all)
    };
    if new == old {
        return None;
    }
    let (before, after) = (&q[..t.start as usize], &q[t.end() as usize..]);
    // Keep words apart: `a has b` -> `a contains b`, never `acontainsb`.
    let pad_l = if before.ends_with(|c: char| c.is_alphanumeric() || c == '_') {
        " "
    } else {
        ""
    };
    let pad_r = if after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
        " "
    } else {
        ""
    };
    Some(format!("{before}{pad_l}{new}{pad_r}{after}"))
}

/// Two adjacent letters of a PascalCase name (tables, columns and most functions) swapped.
fn misspell(rng: &mut Rng, q: &str) -> Option<String> {
    let (tokens, _) = vigil::kql::lexer::lex(q);
    let names: Vec<_> = tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Ident)
        .filter(|t| {
            let s = token_text(q, t);
            s.len() >= 5
                && s.starts_with(|c: char| c.is_ascii_uppercase())
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    let t = names[rng.below(names.len())];
    let s = token_text(q, t);
    let mut b = s.clone().into_bytes();
    let i = 1 + rng.below(b.len() - 2);
    if b[i] == b[i + 1] {
        return None;
    }
    b.swap(i, i + 1);
    Some(splice(q, t, &String::from_utf8(b).unwrap()))
}

/// The text around a byte offset, on one line, for the disagreement list.
fn around(q: &str, at: u32) -> String {
    let at = (at as usize).min(q.len());
    let mut lo = at.saturating_sub(30);
    while !q.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = (at + 30).min(q.len());
    while !q.is_char_boundary(hi) {
        hi += 1;
    }
    format!("{}⟨here⟩{}", &q[lo..at], &q[at..hi])
        .replace(['\t', '\n', '\r'], " ")
        .replace('`', "'")
}

struct Tally {
    total: usize,
    agree: usize,
    oracle_rejects: usize,
    both_reject: usize,
    offset_agree: usize,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            total: 0,
            agree: 0,
            oracle_rejects: 0,
            both_reject: 0,
            offset_agree: 0,
        }
    }
    fn pct(a: usize, b: usize) -> f64 {
        100.0 * a as f64 / b.max(1) as f64
    }
    fn report(&self, name: &str) -> String {
        format!(
            "{name}: {}/{} verdicts agree ({:.2}%); oracle rejects {}, vigil also rejects {} ({:.2}%); first error offset agrees on {}/{} ({:.2}%)",
            self.agree,
            self.total,
            Self::pct(self.agree, self.total),
            self.oracle_rejects,
            self.both_reject,
            Self::pct(self.both_reject, self.oracle_rejects),
            self.offset_agree,
            self.both_reject,
            Self::pct(self.offset_agree, self.both_reject),
        )
    }
}

#[test]
fn mutated_queries_agree_with_the_live_oracle() {
    let required = oracle::required();
    let Some(corpus) = common::corpus() else {
        assert!(
            !required,
            "VIGIL_REQUIRE_ORACLE is set but the corpus was not found"
        );
        eprintln!("SKIPPED mutated_queries_agree_with_the_live_oracle: corpus not found (set VIGIL_CORPUS)");
        return;
    };
    let Some(oracle) = Oracle::find(&corpus) else {
        assert!(
            !required,
            "VIGIL_REQUIRE_ORACLE is set but the oracle is not installed (node, KQL_ORACLE_PKG)"
        );
        eprintln!("SKIPPED mutated_queries_agree_with_the_live_oracle: oracle not installed (see ../shared/tools/kql-oracle/README.md; set KQL_ORACLE_PKG)");
        return;
    };
    let queries: Vec<common::CorpusQuery> = common::read_jsonl(&corpus.join("kql/queries.jsonl"));
    // Mutate queries that Kusto accepts as they are (syntax and binding), one in five.
    let sem_ok: BTreeMap<String, bool> =
        common::read_jsonl::<Verdict>(&corpus.join("kql/oracle-semantic.jsonl"))
            .into_iter()
            .map(|v| (v.id, v.ok))
            .collect();
    let mut rng = Rng(0x5EED_0F4B_1D00);
    let (mut syntax, mut semantic) = (Vec::new(), Vec::new());
    let mut kind_of: BTreeMap<String, &'static str> = BTreeMap::new();
    for (n, q) in queries.iter().enumerate() {
        if n % 5 != 0 || sem_ok.get(&q.id) != Some(&true) || q.query.len() > 20_000 {
            continue;
        }
        if let Some(m) = drop_token(&mut rng, &q.query) {
            let id = format!("{}~drop", q.id);
            kind_of.insert(id.clone(), "drop");
            syntax.push((id, m));
        }
        if let Some(m) = swap_operator(&mut rng, &q.query) {
            let id = format!("{}~swap", q.id);
            kind_of.insert(id.clone(), "swap");
            syntax.push((id, m));
        }
        if let Some(m) = misspell(&mut rng, &q.query) {
            let id = format!("{}~misspell", q.id);
            kind_of.insert(id.clone(), "misspell");
            semantic.push((id, m));
        }
    }
    let schema = corpus.join("schemas/sentinel-schema.json");
    let o_syntax = oracle.ask(&["--mode", "syntax"], &syntax);
    let o_semantic = oracle.ask(
        &["--mode", "semantic", "--schema", schema.to_str().unwrap()],
        &semantic,
    );
    let catalog = Catalog::oracle_base();
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut lines = Vec::new();
    for (set, answers, bind) in [(&syntax, &o_syntax, false), (&semantic, &o_semantic, true)] {
        for (id, q) in set {
            let o = answers.get(id).expect("an answer per query");
            assert!(
                o.error.is_none(),
                "{id}: the oracle could not answer: {:?}",
                o.error
            );
            let p = vigil::kql::parse(q);
            assert_eq!(p.tree.text(q), *q, "{id}: lossless");
            let mut first: Option<(u32, String)> =
                p.errors.first().map(|e| (e.start, e.message.clone()));
            if bind && first.is_none() {
                let b = vigil::kql::binder::bind(q, &p.tree, catalog);
                first = b.errors.first().map(|e| (e.start, e.message.clone()));
            }
            let o_first = o
                .diagnostics
                .iter()
                .filter(|d| d.severity == "Error")
                .min_by_key(|d| d.byte_start);
            let kind = kind_of[id];
            let t = tallies.entry(kind).or_insert_with(Tally::new);
            t.total += 1;
            let ours = first.is_none();
            if !o.ok {
                t.oracle_rejects += 1;
            }
            match (ours, o.ok) {
                (true, true) => t.agree += 1,
                (false, false) => {
                    t.agree += 1;
                    t.both_reject += 1;
                    let (at, msg) = first.unwrap();
                    let o_at = o_first.map(|d| d.byte_start).unwrap_or(0);
                    if at == o_at {
                        t.offset_agree += 1;
                    }
                    if at != o_at || std::env::var_os("VIGIL_MUTATION_DUMP_ALL").is_some() {
                        if let Some(path) = std::env::var_os("VIGIL_MUTATION_DUMP") {
                            use std::io::Write as _;
                            let mut f = std::fs::OpenOptions::new()
                                .create(true)
                                .append(true)
                                .open(path)
                                .unwrap();
                            let line = serde_json::json!({"id": id, "query": q, "vigil": at,
                                "vigil_msg": msg, "kusto": o_at,
                                "kusto_msg": o_first.map(|d| d.message.clone())});
                            writeln!(f, "{line}").unwrap();
                        }
                    }
                    if at != o_at {
                        lines.push(format!(
                            "{id}\tfirst-error-offset\tvigil {at} / kusto {o_at}: {}",
                            msg.replace(['\t', '\n'], " ")
                        ));
                    }
                }
                (true, false) => {
                    let o_at = o_first.map(|d| d.byte_start).unwrap_or(0);
                    lines.push(format!(
                        "{id}\tvigil-accepts\tkusto at {o_at}: {} in `{}`",
                        o_first
                            .map(|d| d.message.as_str())
                            .unwrap_or("")
                            .replace(['\t', '\n'], " "),
                        around(q, o_at)
                    ))
                }
                (false, true) => {
                    let (at, msg) = first.unwrap();
                    lines.push(format!(
                        "{id}\tvigil-rejects\tvigil at {at}: {} in `{}`",
                        msg.replace(['\t', '\n'], " "),
                        around(q, at)
                    ));
                }
            }
        }
    }
    let mut all = Tally::new();
    for (name, t) in &tallies {
        eprintln!("{}", t.report(name));
        all.total += t.total;
        all.agree += t.agree;
        all.oracle_rejects += t.oracle_rejects;
        all.both_reject += t.both_reject;
        all.offset_agree += t.offset_agree;
    }
    eprintln!("{}", all.report("all mutations"));
    lines.sort();
    let mut text = String::from("# vigil vs Kusto.Language on mutated corpus queries (tests/kql_mutations.rs; regenerate with VIGIL_BLESS=1 after review)\n# mutant id\tkind\tdetail\n");
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let path = common::manifest_dir().join("tests/corpus/kql-mutation-disagreements.tsv");
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert!(all.total >= 1_000, "too few mutants: {}", all.total);
    assert!(
        all.oracle_rejects >= 300,
        "the mutations must produce rejections"
    );
    // The same goals as on the unmutated corpus.
    let verdicts = Tally::pct(all.agree, all.total);
    let recall = Tally::pct(all.both_reject, all.oracle_rejects);
    let offsets = Tally::pct(all.offset_agree, all.both_reject);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "mutation disagreements changed; review and bless with VIGIL_BLESS=1"
    );
    assert!(verdicts >= 97.0, "verdict agreement {verdicts:.2}% < 97%");
    assert!(recall >= 95.0, "rejection recall {recall:.2}% < 95%");
    assert!(
        offsets >= 95.0,
        "first error offset agreement {offsets:.2}% < 95%"
    );
}
