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

/// Every aggregation `builtins.tsv` declares, called unnamed in `summarize` with a named and an
/// unnamed first argument (and the nesting and percentile forms), names its columns as
/// Kusto.Language does, in the binder's schema and in the engine's result alike: one naming
/// rule (`kql::view::View::aggregate_names`, from the table's `result_name` column) serves
/// both, and the live oracle is the referee.
#[test]
fn aggregation_column_names_agree_with_kusto_language_in_binder_and_engine() {
    let Some((corpus, oracle)) = corpus_and_oracle(
        "aggregation_column_names_agree_with_kusto_language_in_binder_and_engine",
    ) else {
        return;
    };
    const BASE: &str = "range x from 1 to 3 step 1 | extend EventID = toint(x), Account = tostring(x), D = pack_array(x), B = bag_pack('a', x)";
    let table =
        std::fs::read_to_string(common::manifest_dir().join("src/kql/data/builtins.tsv")).unwrap();
    let mut probes: Vec<String> = Vec::new();
    for line in table.lines().filter(|l| l.starts_with("aggregate\t")) {
        let f: Vec<&str> = line.split('\t').collect();
        let (name, min) = (f[1], f[2].parse::<usize>().unwrap());
        let types: Vec<&str> = f[5].split(',').filter(|t| !t.is_empty()).collect();
        for anonymous in [false, true] {
            let args: Vec<String> = (0..min.max(usize::from(!types.is_empty())))
                .map(|i| {
                    let bag =
                        name.contains("bag") || name == "buildschema" || name == "make_dictionary";
                    let arg = match types[i.min(types.len() - 1)] {
                        "predicate" => "EventID > 1",
                        "long" => "10",
                        "numeric" => "50",
                        "dynamic" if bag => "B",
                        "dynamic" => "D",
                        _ => "EventID",
                    };
                    // An argument without a name: an operator or a call with no name rule.
                    match arg {
                        "EventID" if anonymous && i == 0 => "EventID + 1".to_string(),
                        "D" if anonymous && i == 0 => "pack_array(x)".to_string(),
                        "B" if anonymous && i == 0 => "bag_pack('a', x)".to_string(),
                        _ => arg.to_string(),
                    }
                })
                .collect();
            probes.push(format!("{name}({})", args.join(", ")));
        }
    }
    probes.extend(
        [
            "percentiles(EventID, 5, 99.5)",
            "percentilesw(EventID, x, 50, 95)",
            "log(count())",
            "tostring(dcount(Account))",
            "count() * 2",
            "count(), count()",
            "max(EventID), tolong(max(EventID))",
            "arg_max(EventID + 1, Account)",
            "arg_min(EventID, Account, x + 1)",
            "take_any(EventID + 1, Account)",
            "any(EventID + 1, Account)",
            "count() * 2 by strcat('a', Account)",
            "count() by Column1 = x",
            "count(), dcount(Account) by Account",
        ]
        .map(String::from),
    );
    let queries: Vec<String> = probes
        .iter()
        .map(|p| format!("{BASE} | summarize {p}"))
        .collect();
    let (engine_checked, failures) = names_against_the_oracle(&oracle, &corpus, &queries);
    eprintln!(
        "aggregation names: {} probes, engine ran {engine_checked}, {} disagreements",
        queries.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        engine_checked >= 100,
        "the engine ran only {engine_checked} probes"
    );
}

/// The corpus folder and the live oracle, or None (after saying why) when either is missing;
/// a missing oracle fails under `VIGIL_REQUIRE_ORACLE`.
fn corpus_and_oracle(test: &str) -> Option<(std::path::PathBuf, common::oracle::Oracle)> {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIPPED {test}: corpus not found (set VIGIL_CORPUS)");
        return None;
    };
    let Some(oracle) = common::oracle::Oracle::find(&corpus) else {
        assert!(
            !common::oracle::required(),
            "VIGIL_REQUIRE_ORACLE is set but the oracle is not installed (node, KQL_ORACLE_PKG)"
        );
        eprintln!("SKIPPED {test}: oracle not installed (set KQL_ORACLE_PKG)");
        return None;
    };
    Some((corpus, oracle))
}

/// Each query's result column names from the binder's schema and from the engine's run, each
/// against Kusto.Language's: the disagreements, and how many queries the engine ran (a
/// "not supported yet" is skipped and printed).
fn names_against_the_oracle(
    oracle: &common::oracle::Oracle,
    corpus: &std::path::Path,
    queries: &[String],
) -> (usize, Vec<String>) {
    columns_against_the_oracle(oracle, corpus, queries, false)
}

/// [`names_against_the_oracle`], comparing each column's type too (`name:type`) when
/// `with_types` is set.
fn columns_against_the_oracle(
    oracle: &common::oracle::Oracle,
    corpus: &std::path::Path,
    queries: &[String],
    with_types: bool,
) -> (usize, Vec<String>) {
    let queries: Vec<(String, String)> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| (i.to_string(), q.clone()))
        .collect();
    let verdicts = ask_semantic(oracle, corpus, &queries);
    let column = |n: &str, t: &str| {
        if with_types {
            format!("{n}:{t}")
        } else {
            n.to_string()
        }
    };
    let catalog = Catalog::oracle_base();
    let (mut engine_checked, mut failures) = (0, Vec::new());
    for (id, q) in &queries {
        let v = &verdicts[id];
        assert!(
            v.first_error().is_none(),
            "probe {q}: Kusto.Language rejects it ({}); fix the probe",
            v.first_error().unwrap().message
        );
        let theirs: Vec<String> = v
            .result
            .iter()
            .flat_map(|r| r.columns.iter().map(|(n, t)| column(n, t)))
            .collect();
        let p = vigil::kql::parse(q);
        let b = vigil::kql::binder::bind(q, &p.tree, catalog);
        let mine: Vec<String> = match &b.result {
            Some(s) if !s.open => s.columns.iter().map(|(c, t)| column(c, t.name())).collect(),
            _ => vec!["(open)".into()],
        };
        if mine != theirs {
            failures.push(format!("binder: {q}: vigil {mine:?}, Kusto {theirs:?}"));
        }
        let opts = vigil::engine::RunOptions {
            now: 0,
            window: None,
        };
        match vigil::engine::run(q, &vigil::engine::Sandbox::default(), opts) {
            Ok(out) => {
                engine_checked += 1;
                let got: Vec<String> = out
                    .table
                    .columns
                    .iter()
                    .map(|c| column(&c.name, c.ty.name()))
                    .collect();
                if got != theirs {
                    failures.push(format!("engine: {q}: vigil {got:?}, Kusto {theirs:?}"));
                }
            }
            Err(e) if e.message.contains("not supported yet") => {
                eprintln!("engine: {q}: {}", e.message)
            }
            Err(e) => failures.push(format!("engine: {q}: {}", e.message)),
        }
    }
    (engine_checked, failures)
}

/// Kusto.Language's semantic verdicts, with result columns, against the shared schema.
fn ask_semantic(
    oracle: &common::oracle::Oracle,
    corpus: &std::path::Path,
    queries: &[(String, String)],
) -> std::collections::BTreeMap<String, common::oracle::Verdict> {
    let schema = corpus.join("schemas/sentinel-schema.json");
    oracle.ask(
        &[
            "--mode",
            "semantic",
            "--result",
            "--schema",
            schema.to_str().unwrap(),
        ],
        queries,
    )
}

/// Generated names (`Column1`, ...) as Kusto.Language gives them: never twice in a query,
/// `extend` skipping names its table has, `project` and `summarize` making a taken one unique,
/// the `by` list before the aggregations; in the binder's schema and the engine's result alike
/// (the lowering takes the binder's names).
#[test]
fn generated_column_names_agree_with_kusto_language_in_binder_and_engine() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("generated_column_names_agree_with_kusto_language_in_binder_and_engine")
    else {
        return;
    };
    let queries: Vec<String> = [
        "print a = 1 | project Column1 = 2, strcat('x', 'y')",
        "print Column1 = 1 | project strcat('x', 'y')",
        "print Column2 = 1 | extend strcat('a', 'b'), strcat('c', 'd')",
        "print Column1 = 1 | summarize count() * 2 by strcat('a', 'b')",
        "print x = 1 | summarize count() * 2, sum(x) + 1",
        "print X = 1 | extend strcat('a', 'b') | project X | project strcat('c', 'd')",
        "print X = 1 | extend strcat('a', 'b') | project-rename Y = Column1 | project strcat('c', 'd')",
        "print X = 1 | extend strcat('a', 'b') | project Column1 | project Column1 = 5, strcat('c', 'd')",
        "let t = print X = 1 | extend strcat('a', 'b'); t | project strcat('c', 'd')",
        "print T = now(), X = 1 | summarize arg_max(T, *) by X, startofmonth(T) | summarize count() by X, startofmonth(T)",
        "print T = now(), X = 1 | summarize arg_max(T, *) by X, Column1 = startofmonth(T) | summarize count() by X, strcat('a', 'b')",
        "range x from 1 to 3 step 1 | summarize count() by bin(x, 2), x % 2 | extend x * 3",
        "print a = 1 | extend b = a + 1, a * 2, a * 3 | project-away Column1 | extend a - 1",
    ]
    .map(String::from)
    .to_vec();
    assert_columns_agree(&oracle, &corpus, &queries, false, queries.len());
}

/// `mv-apply`'s result schema (the row's columns except those expanded in place, retyped by
/// the subquery, then the subquery's other columns) and errors inside its subquery, in the
/// binder and the engine alike, against Kusto.Language.
#[test]
fn mv_apply_schemas_agree_with_kusto_language_in_binder_and_engine() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("mv_apply_schemas_agree_with_kusto_language_in_binder_and_engine")
    else {
        return;
    };
    let row = "print d = dynamic([1, 2]), a = 1, m = dynamic([3])";
    let queries: Vec<String> = [
        "mv-apply x = d to typeof(long) on (where x > 0 | extend y = x * 2)",
        "mv-apply d to typeof(long) on (project d)",
        "mv-apply with_itemindex = i d on (top 1 by tolong(d))",
        "mv-apply d on (project z = 1)",
        "mv-apply d on (where a > 0)",
        "mv-apply d on (extend a = tostring(a))",
        "mv-apply d on (summarize c = count() by a)",
        "mv-apply x = d on (project y = 1, a)",
        "mv-apply d = m on (extend z = 1)",
        "mv-apply d limit 1 on (summarize c = count())",
        "mv-apply x = m on (extend z = 1) | mv-apply x = m on (extend y = 1)",
        "mv-apply d, m on (take 1)",
    ]
    .map(|t| format!("{row} | {t}"))
    .to_vec();
    assert_columns_agree(&oracle, &corpus, &queries, false, queries.len());
    // An unknown name inside the subquery is an error in both.
    let bad = format!("{row} | mv-apply d on (where nope > 0)");
    let verdicts = ask_semantic(&oracle, &corpus, &[("bad".to_string(), bad.clone())]);
    assert!(
        verdicts["bad"].first_error().is_some(),
        "Kusto.Language rejects it"
    );
    let p = vigil::kql::parse(&bad);
    let b = vigil::kql::binder::bind(&bad, &p.tree, Catalog::oracle_base());
    assert!(
        b.errors.iter().any(|e| e.message.contains("nope")),
        "{:?}",
        b.errors
    );
}

/// A plugin's declared output schema (`: (...)`) and `narrow`'s fixed one are the result in
/// the binder (a closed schema) and the engine alike, as in Kusto.Language.
#[test]
fn plugin_output_schemas_agree_with_kusto_language_in_binder_and_engine() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("plugin_output_schemas_agree_with_kusto_language_in_binder_and_engine")
    else {
        return;
    };
    let data = r#"datatable(a:string, b:long, c:string)["x", 1, "p", "x", 1, "q"]"#;
    let queries: Vec<String> = [
        "evaluate narrow()",
        r#"extend d = dynamic({"k": 1}) | evaluate bag_unpack(d) : (a:string, k:long)"#,
        "evaluate pivot(c) : (a:string, p:long, q:long)",
        "evaluate pivot(c, sum(b)) : (a:string, p:long, q:long)",
    ]
    .map(|t| format!("{data} | {t}"))
    .to_vec();
    assert_columns_agree(&oracle, &corpus, &queries, false, queries.len());
}

/// `range`'s column type (a datetime or timespan start gives its type; numbers give real when
/// any bound or the step is real, else long), in the binder's schema and the engine's result,
/// names and types, against Kusto.Language. The binder used to take the step's type, so a
/// datetime range with a timespan step was a timespan and a union with it split
/// `TimeGenerated` in two (a false rejection of a published Sentinel health query).
#[test]
fn range_types_agree_with_kusto_language_in_binder_and_engine() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("range_types_agree_with_kusto_language_in_binder_and_engine")
    else {
        return;
    };
    let queries: Vec<String> = [
        "range x from 1 to 10 step 0.5",
        "range x from 1.0 to 10 step 1",
        "range x from datetime(2026-01-01) to datetime(2026-01-02) step 5m",
        "range x from 1 to 10.5 step 1",
        "range x from int(1) to 10 step 1",
        "range x from 1h to 2h step 1m",
        "let f = (s: datetime) { print TimeGenerated = now() | union (range TimeGenerated from s to s + 1h step 5m) }; f(datetime(2026-01-01))",
    ]
    .map(String::from)
    .to_vec();
    assert_columns_agree(&oracle, &corpus, &queries, true, queries.len());
}

/// The columns of `top-nested` (keys made unique over the levels, `aggregated_<key>` unless
/// named), `top-hitters`, `sample-distinct`, `reduce`, `partition` and `T | search`, names and
/// types, in the binder's schema and (where the engine runs the operator) its result, against
/// Kusto.Language. The binder used to leave all of them open, so nothing after them was
/// checked and the engine named their columns alone.
#[test]
fn ranking_and_partition_schemas_agree_with_kusto_language_in_binder_and_engine() {
    let Some((corpus, oracle)) = corpus_and_oracle(
        "ranking_and_partition_schemas_agree_with_kusto_language_in_binder_and_engine",
    ) else {
        return;
    };
    let data = r#"datatable(a:string, b:long, c:real, t:datetime)["x", 1, 0.5, datetime(2026-01-01), "y", 2, 1.5, datetime(2026-01-02), "x", 3, 2.5, datetime(2026-01-03)]"#;
    let engine_runs = [
        "top-nested 2 of a by sum(b), top-nested of a by count() asc",
        "top-nested of tostring(b) by avg(c), top-nested 1 of bin(t, 1d) by max(c)",
        "top-nested of U = a by s = max(t), top-nested of strlen(a) by dcount(b)",
        "partition by a (summarize n = count(), m = max(t) by b)",
        "partition hint.strategy=shuffle by a (top 1 by b | project a, c)",
        r#"search "x""#,
        r#"top-nested of a by count() | where aggregated_a > 1 | project a"#,
        "top-hitters 2 of a",
        "top-hitters 2 of a by c",
        "top-hitters 1 of t by b",
        "sample-distinct 2 of b",
    ];
    let binder_only = [
        r#"top-nested 2 of a with others = "rest" by count()"#,
        r#"reduce by a with threshold=0.5, characters="-""#,
    ];
    let queries: Vec<String> = engine_runs
        .iter()
        .chain(&binder_only)
        .map(|t| format!("{data} | {t}"))
        .collect();
    assert_columns_agree(&oracle, &corpus, &queries, true, engine_runs.len());
}

/// `table(name)` of a string known before the query runs: a literal or a let-bound literal
/// reads that table (a misspelt column after it, or an unknown table, is an error), and a
/// function's string parameter reads it in the call's expansion, which gives the result's
/// columns while the body's errors are the ones its declaration has (Kusto.Language reports
/// nothing found only in an expansion). The Azure-Sentinel `aadFunc(tableName)` pattern was
/// open before, so its columns were never checked downstream. Verdicts, and result columns
/// with types where both accept, against the oracle.
#[test]
fn table_of_a_known_string_agrees_with_kusto_language() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("table_of_a_known_string_agrees_with_kusto_language")
    else {
        return;
    };
    let queries: Vec<String> = [
        r#"table("SigninLogs") | project TimeGenerated, UserPrincipalName"#,
        r#"table("SigninLogs") | project Foo"#,
        r#"let t = "SigninLogs"; table(t) | project Foo"#,
        r#"let t = "SigninLogs"; table(t) | summarize count() by AppId"#,
        r#"table("Nope") | take 1"#,
        r#"let f = (t:string) { table(t) | project TimeGenerated, UserPrincipalNam }; f("SigninLogs")"#,
        r#"let aadFunc = (tableName:string) { table(tableName) | where ResultType == 500121 | project TimeGenerated, UserPrincipalName, Type }; union isfuzzy=true aadFunc("SigninLogs"), aadFunc("AADNonInteractiveUserSignInLogs")"#,
        r#"let f = (t:string) { table(t) | summarize count() by UserPrincipalName }; f("SigninLogs") | project UserPrincipalName, count_"#,
        r#"let f = (t:string) { table(t) | summarize count() by UserPrincipalName }; f("SigninLogs") | project Foo"#,
        r#"let t = "SigninLogs"; let f = (t:string) { table(t) | project Foo }; f("x")"#,
    ]
    .map(String::from)
    .to_vec();
    assert_binder_agrees(&oracle, &corpus, &queries);
}

/// The aggregations whose columns are their arguments' (`arg_max`, `arg_min`, `take_any`,
/// `take_anyif`, `any`) name an expression argument by its default name and type it by the
/// expression, not by the column it is named after (`arg_max(T, tostring(Id))` is a string
/// `Id` even where `Id` is a long; a union of such a summarize with the table used to split
/// `ReportId` in two in the binder, and the engine named it `max_T_arg1`); `Name = x` takes
/// x's type. Names and types, binder and engine, against Kusto.Language.
#[test]
fn aggregations_named_after_expression_arguments_take_their_types() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("aggregations_named_after_expression_arguments_take_their_types")
    else {
        return;
    };
    let data = r#"datatable(t:datetime, r:long, d:string)[datetime(2026-01-01), 5, "a", datetime(2026-01-02), 6, "b"]"#;
    let queries: Vec<String> = [
        "summarize arg_max(t, w = d, tostring(r)) by d",
        "summarize take_any(tostring(r), d) by t",
        "summarize arg_min(tostring(r), d) by t",
        "summarize any(tostring(r))",
        "summarize any(tostring(r), d)",
        "summarize take_anyif(tostring(r), r > 1)",
        "summarize arg_max(t, *) by d",
        "summarize arg_max(t, tostring(r)) by d | union (print r = 1)",
    ]
    .map(|q| format!("{data} | {q}"))
    .to_vec();
    assert_columns_agree(&oracle, &corpus, &queries, true, queries.len());
}

/// A `summarize ... by` expression named after a column the list already has gets a number
/// (`by b, tostring(b)` → `b`, `b1`), in the binder's schema and the engine's result; the
/// binder used to drop the second column (a published hunting query grouped by
/// `tostring(LoggedOnUsers)` twice). Names and types against Kusto.Language.
#[test]
fn summarize_by_names_taken_twice_get_numbers() {
    let Some((corpus, oracle)) = corpus_and_oracle("summarize_by_names_taken_twice_get_numbers")
    else {
        return;
    };
    let queries: Vec<String> = [
        r#"datatable(a:string, b:long)["x", 1] | summarize count() by b, tostring(b)"#,
        "datatable(a:dynamic)[dynamic(1)] | summarize by tostring(a), tostring(a)",
        "datatable(a:dynamic, b:long)[dynamic(1), 2] | summarize by b, tostring(a), bin(b, 1), tostring(a)",
    ]
    .map(String::from)
    .to_vec();
    assert_columns_agree(&oracle, &corpus, &queries, true, queries.len());
}

/// Asserts that [`binder_against_the_oracle`] finds no disagreement.
fn assert_binder_agrees(
    oracle: &common::oracle::Oracle,
    corpus: &std::path::Path,
    queries: &[String],
) {
    let failures = binder_against_the_oracle(oracle, corpus, queries);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Asserts that [`columns_against_the_oracle`] finds no disagreement and that the engine ran
/// `engine_runs` of the queries (the others say "not supported yet").
fn assert_columns_agree(
    oracle: &common::oracle::Oracle,
    corpus: &std::path::Path,
    queries: &[String],
    with_types: bool,
    engine_runs: usize,
) {
    let (engine_checked, failures) =
        columns_against_the_oracle(oracle, corpus, queries, with_types);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(engine_checked, engine_runs);
}

/// The binder's verdict on each query, and its result columns with types where both accept,
/// against Kusto.Language's: the disagreements.
fn binder_against_the_oracle(
    oracle: &common::oracle::Oracle,
    corpus: &std::path::Path,
    queries: &[String],
) -> Vec<String> {
    let queries: Vec<(String, String)> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| (i.to_string(), q.clone()))
        .collect();
    let queries = &queries;
    let verdicts = ask_semantic(oracle, corpus, queries);
    let catalog = Catalog::oracle_base();
    let mut failures = Vec::new();
    for (id, q) in queries {
        let v = &verdicts[id];
        let p = vigil::kql::parse(q);
        let b = vigil::kql::binder::bind(q, &p.tree, catalog);
        let ours = p.errors.is_empty() && b.errors.is_empty();
        let theirs = v.first_error().is_none();
        if ours != theirs {
            failures.push(format!(
                "{q}: vigil {}, Kusto {}",
                b.errors.first().map_or("accepts", |e| e.message.as_str()),
                v.first_error().map_or("accepts", |e| e.message.as_str())
            ));
            continue;
        }
        if ours {
            let mine: Vec<String> = match &b.result {
                Some(s) if !s.open => s
                    .columns
                    .iter()
                    .map(|(c, t)| format!("{c}:{}", t.name()))
                    .collect(),
                _ => vec!["(open)".into()],
            };
            let kusto: Vec<String> = v
                .result
                .iter()
                .flat_map(|r| r.columns.iter().map(|(n, t)| format!("{n}:{t}")))
                .collect();
            if mine != kusto {
                failures.push(format!("{q}: vigil {mine:?}, Kusto {kusto:?}"));
            }
        }
    }
    failures
}

/// A stored function shadows a table of the same name, as in Kusto: the oracle's schema has
/// nine names that are both (ASIM's `imProcessCreate`, `VMwareESXi`, ...) and resolves them to
/// the function, whose columns differ; the binder took the table, so it reported none of the
/// function's columns missing and named the wrong ones (17 corpus queries).
#[test]
fn a_function_shadows_a_table_of_its_name() {
    let Some((corpus, oracle)) = corpus_and_oracle("a_function_shadows_a_table_of_its_name") else {
        return;
    };
    let queries: Vec<String> = [
        "VMwareESXi | project CollectorHostName, TimeGenerated",
        "VMwareESXi | summarize count() by CollectorHostName",
        "imDns | take 1 | project SrcIpAddr, DnsQuery",
        "imDns | project SrcDvcIpAddr",
    ]
    .map(String::from)
    .to_vec();
    assert_binder_agrees(&oracle, &corpus, &queries);
}

/// A let-function no call binds is bound at the end with its declared parameter types, so a
/// misspelt column in its body is reported, as Kusto.Language reports a declaration's errors;
/// a tabular parameter is an open table (its declared columns are a minimum), and a body that
/// is right says nothing. Verdicts against the oracle.
#[test]
fn uncalled_functions_are_bound_with_their_declared_types() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("uncalled_functions_are_bound_with_their_declared_types")
    else {
        return;
    };
    let queries: Vec<String> = [
        "let f = (t:string) { SigninLogs | project Foo }; print 1",
        "let f = view () { SigninLogs | where ResultTyp == 0 }; print 1",
        "let f = (n:long) { SigninLogs | where DurationMs > n | project UserPrincipalName }; print 1",
        "let f = (T:(TimeGenerated:datetime)) { T | where TimeGenerated > ago(1d) }; print 1",
        "let g = (t:string) { SigninLogs | take 1 }; let f = () { g('x') | project UserPrincipalName }; print 1",
    ]
    .map(String::from)
    .to_vec();
    assert_binder_agrees(&oracle, &corpus, &queries);
}

/// Arithmetic (`+ - * / %`) over int, long, real, string, bool, datetime and timespan on both
/// sides (245 probes): the binder rejects exactly what Kusto.Language rejects (adding 1 to
/// `TimeGenerated`, `Name * 2`, `1 + 1d`) and types the rest as it does (`datetime /
/// timespan` is real). The binder checked no arithmetic before, and typed some of it apart
/// from Kusto.
#[test]
fn arithmetic_operand_types_agree_with_kusto_language() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("arithmetic_operand_types_agree_with_kusto_language")
    else {
        return;
    };
    let values = [
        ("int", "int(1)"),
        ("long", "1"),
        ("real", "1.5"),
        ("string", "\"a\""),
        ("bool", "true"),
        ("datetime", "datetime(2026-01-01)"),
        ("timespan", "1d"),
    ];
    let mut queries = Vec::new();
    for (_, x) in values {
        for (_, y) in values {
            for op in ["+", "-", "*", "/", "%"] {
                queries.push(format!("print x = {x} {op} {y}"));
            }
        }
    }
    assert_binder_agrees(&oracle, &corpus, &queries);
}

/// An aggregation's column named like a `by` column, or like an earlier aggregation's, gets a
/// number (`arg_max(t, d) by d` → `d1`, `any(t), any(t)` → `any_t1`, `arg_max(t, *) by
/// bin(t, 1d)` → `t1`), while `*` leaves the `by` columns out; the binder used to drop the
/// second column and the engine dropped some. Names and types, binder and engine, against
/// Kusto.Language.
#[test]
fn aggregation_columns_named_like_by_columns_get_numbers() {
    let Some((corpus, oracle)) =
        corpus_and_oracle("aggregation_columns_named_like_by_columns_get_numbers")
    else {
        return;
    };
    let data = r#"datatable(t:datetime, d:string, x:long)[datetime(2026-01-01), "a", 1, datetime(2026-01-02), "b", 2]"#;
    let queries: Vec<String> = [
        "summarize any(t), any(t) by d",
        "summarize arg_max(t, d) by d",
        "summarize c = count(), arg_max(t, *) by d, bin(t, 1d)",
        "summarize arg_max(t, *) by d",
        "summarize take_any(*) by d",
        "summarize arg_min(x, d, t) by d, t",
    ]
    .map(|q| format!("{data} | {q}"))
    .to_vec();
    assert_columns_agree(&oracle, &corpus, &queries, true, queries.len());
}

/// `find in (...) where ... project c, ...`: the source column (`source_`, or `withsource=`),
/// then each projected column typed by the first listed table that has it; a misspelt column
/// after it is an error. The binder left `find` open before. Verdicts and typed columns
/// against the oracle.
#[test]
fn find_with_project_agrees_with_kusto_language() {
    let Some((corpus, oracle)) = corpus_and_oracle("find_with_project_agrees_with_kusto_language")
    else {
        return;
    };
    let queries: Vec<String> = [
        r#"find in (SigninLogs, AuditLogs) where OperationName == "x" project OperationName, TimeGenerated, Category, UserPrincipalName"#,
        r#"find withsource=T in (SigninLogs) where OperationName == "x" project OperationName"#,
        r#"find in (SigninLogs) where OperationName == "x" project OperationName | project Foo"#,
        r#"find in (SigninLogs) where OperationName == "x" project OperationName | summarize count() by source_"#,
    ]
    .map(String::from)
    .to_vec();
    assert_binder_agrees(&oracle, &corpus, &queries);
}
