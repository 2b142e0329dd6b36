//! Differential test of vigil's binder against Kusto.Language's (12.4.1), binding the 4,397
//! real queries against the same Sentinel schema (../shared/corpus/kql/oracle-semantic.jsonl,
//! computed against ../shared/corpus/schemas/sentinel-schema.json, whose tables and functions
//! vigil embeds). Every disagreement is listed in `tests/corpus/kql-semantic-disagreements.tsv`
//! (bless with VIGIL_BLESS=1 after review).

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use vigil::kql::catalog::Catalog;

#[derive(serde::Deserialize)]
struct Verdict {
    id: String,
    ok: bool,
    #[serde(default)]
    diagnostics: Vec<OracleDiag>,
    #[serde(default)]
    result: Option<OracleResult>,
}

#[derive(serde::Deserialize)]
struct OracleDiag {
    severity: String,
    message: String,
    byte_start: u32,
}

#[derive(serde::Deserialize)]
struct OracleResult {
    #[serde(default)]
    columns: Vec<(String, String)>,
}

#[test]
fn binding_verdicts_agree_with_kusto_language() {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIPPED binding_verdicts_agree_with_kusto_language: corpus not found (set VIGIL_CORPUS)");
        return;
    };
    let queries: Vec<common::CorpusQuery> = common::read_jsonl(&corpus.join("kql/queries.jsonl"));
    let oracle: BTreeMap<String, Verdict> =
        common::read_jsonl::<Verdict>(&corpus.join("kql/oracle-semantic.jsonl"))
            .into_iter()
            .map(|v| (v.id.clone(), v))
            .collect();
    let catalog = Catalog::oracle_base();
    let (mut total, mut agree, mut oracle_fails, mut caught) = (0usize, 0usize, 0usize, 0usize);
    let (mut both_ok, mut cols_agree) = (0usize, 0usize);
    let mut lines = Vec::new();
    for q in &queries {
        let Some(o) = oracle.get(&q.id) else { continue };
        total += 1;
        let p = vigil::kql::parse(&q.query);
        let b = vigil::kql::binder::bind(&q.query, &p.tree, catalog);
        let ours = p.errors.is_empty() && b.errors.is_empty();
        if !o.ok {
            oracle_fails += 1;
            if !ours {
                caught += 1;
            }
        }
        let first_oracle = o.diagnostics.iter().find(|d| d.severity == "Error");
        if ours == o.ok {
            agree += 1;
            if ours {
                both_ok += 1;
                let theirs: Vec<&str> = o
                    .result
                    .as_ref()
                    .map(|r| r.columns.iter().map(|(c, _)| c.as_str()).collect())
                    .unwrap_or_default();
                match &b.result {
                    Some(s) if !s.open => {
                        let mine: Vec<&str> = s.columns.iter().map(|(c, _)| c.as_str()).collect();
                        if mine == theirs {
                            cols_agree += 1;
                        } else {
                            lines.push(format!(
                                "{}\tresult-columns\tvigil [{}] / kusto [{}]",
                                q.id,
                                mine.join(","),
                                theirs.join(",")
                            ));
                        }
                    }
                    _ => lines.push(format!(
                        "{}\tresult-columns\tvigil cannot tell (open schema)",
                        q.id
                    )),
                }
            }
        } else if ours {
            let d = first_oracle
                .map(|d| format!("kusto at {}: {}", d.byte_start, d.message))
                .unwrap_or_default();
            lines.push(format!(
                "{}\tvigil-accepts\t{}",
                q.id,
                d.replace(['\t', '\n'], " ")
            ));
        } else {
            let d = match (p.errors.first(), b.errors.first()) {
                (Some(e), _) => format!("vigil at {}: {}", e.start, e.message),
                (None, Some(e)) => format!("vigil at {}: {}", e.start, e.message),
                _ => String::new(),
            };
            lines.push(format!(
                "{}\tvigil-rejects\t{}",
                q.id,
                d.replace(['\t', '\n'], " ")
            ));
        }
    }
    let report = format!(
        "binding: {agree}/{total} verdicts agree ({:.2}%); Kusto fails {oracle_fails}, vigil also fails {caught} ({:.2}%); result columns agree on {cols_agree}/{both_ok} queries both accept ({:.2}%)",
        100.0 * agree as f64 / total as f64,
        100.0 * caught as f64 / oracle_fails.max(1) as f64,
        100.0 * cols_agree as f64 / both_ok.max(1) as f64,
    );
    eprintln!("{report}");
    lines.sort();
    let mut text = String::from("# vigil vs Kusto.Language binding disagreements (regenerate with VIGIL_BLESS=1 after review)\n# query id\tkind\tdetail\n");
    for l in &lines {
        let _ = writeln!(text, "{l}");
    }
    let path = common::manifest_dir().join("tests/corpus/kql-semantic-disagreements.tsv");
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "binding disagreements changed; review and bless with VIGIL_BLESS=1"
    );
    // Goals: verdicts agree on 98%, and 95% of the queries Kusto fails are caught.
    assert!(agree as f64 >= 0.98 * total as f64, "{report}");
    assert!(caught as f64 >= 0.95 * oracle_fails as f64, "{report}");
}
