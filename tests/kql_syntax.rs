//! Differential test of vigil's KQL parser against Microsoft's (Kusto.Language 12.4.1):
//! the precomputed syntax verdicts in ../shared/corpus/kql/oracle-syntax.jsonl for the 4,397
//! real queries of queries.jsonl. Every disagreement is listed with its reason in
//! `tests/corpus/kql-syntax-disagreements.tsv` (bless with VIGIL_BLESS=1 after review).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(serde::Deserialize)]
struct Verdict {
    id: String,
    ok: bool,
    #[serde(default)]
    diagnostics: Vec<OracleDiag>,
}

#[derive(serde::Deserialize)]
struct OracleDiag {
    severity: String,
    message: String,
    byte_start: u32,
}

#[test]
fn syntax_verdicts_agree_with_kusto_language() {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIPPED syntax_verdicts_agree_with_kusto_language: corpus not found (set VIGIL_CORPUS)");
        return;
    };
    let queries: Vec<common::CorpusQuery> = common::read_jsonl(&corpus.join("kql/queries.jsonl"));
    let oracle: BTreeMap<String, Verdict> =
        common::read_jsonl::<Verdict>(&corpus.join("kql/oracle-syntax.jsonl"))
            .into_iter()
            .map(|v| (v.id.clone(), v))
            .collect();
    let (mut agree, mut total, mut oracle_rejects, mut both_reject_agree, mut both_reject) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    let mut offset_agree = 0usize;
    let mut lines = Vec::new();
    for q in &queries {
        let Some(o) = oracle.get(&q.id) else { continue };
        total += 1;
        let p = vigil::kql::parse(&q.query);
        assert_eq!(
            p.tree.text(&q.query),
            q.query,
            "{}: the tree must reproduce the text",
            q.id
        );
        let ours = p.errors.is_empty();
        let o_first = o
            .diagnostics
            .iter()
            .filter(|d| d.severity == "Error")
            .map(|d| d.byte_start)
            .min();
        if !o.ok {
            oracle_rejects += 1;
        }
        if ours == o.ok {
            agree += 1;
            if !ours {
                both_reject_agree += 1;
                both_reject += 1;
                if p.errors.first().map(|e| e.start) == o_first {
                    offset_agree += 1;
                } else {
                    lines.push(format!(
                        "{}\tfirst-error-offset\tvigil {} / kusto {}: {}",
                        q.id,
                        p.errors.first().map(|e| e.start).unwrap_or(0),
                        o_first.unwrap_or(0),
                        p.errors.first().map(|e| e.message.as_str()).unwrap_or("")
                    ));
                }
            }
        } else if ours {
            let msg = o
                .diagnostics
                .iter()
                .find(|d| d.severity == "Error")
                .map(|d| d.message.as_str())
                .unwrap_or("");
            lines.push(format!(
                "{}\tvigil-accepts\tkusto at {}: {}",
                q.id,
                o_first.unwrap_or(0),
                msg.replace(['\t', '\n'], " ")
            ));
        } else {
            let e = &p.errors[0];
            lines.push(format!(
                "{}\tvigil-rejects\tvigil at {}: {}",
                q.id,
                e.start,
                e.message.replace(['\t', '\n'], " ")
            ));
        }
    }
    let rejected_agree = both_reject_agree;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "syntax: {agree}/{total} verdicts agree ({:.2}%); oracle rejects {oracle_rejects}, vigil also rejects {rejected_agree} ({:.2}%); first error offset agrees on {offset_agree}/{both_reject} ({:.2}%)",
        100.0 * agree as f64 / total as f64,
        100.0 * rejected_agree as f64 / oracle_rejects.max(1) as f64,
        100.0 * offset_agree as f64 / both_reject.max(1) as f64,
    );
    eprintln!("{report}");
    lines.sort();
    let mut text = String::from("# vigil vs Kusto.Language syntax disagreements (regenerate with VIGIL_BLESS=1 after review)\n# query id\tkind\tdetail\n");
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let path = common::manifest_dir().join("tests/corpus/kql-syntax-disagreements.tsv");
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    if std::env::var_os("VIGIL_KQL_REPORT").is_some() {
        eprintln!("{text}");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "syntax disagreements changed; review and bless with VIGIL_BLESS=1"
    );
}
