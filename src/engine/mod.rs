//! The embedded KQL engine: runs queries over sample tables with Kusto's semantics, so
//! detections can be tested offline.
//!
//! Stages: text → [`crate::kql::parse`] (syntax tree) → [`lower::lower`] ([`ir::Query`]) →
//! [`exec::Exec::run`] ([`table::Table`]). Constructs the engine lacks fail with
//! "not supported yet: ..." ([`EngineError::unsupported`]); nothing is silently skipped.
//!
//! This module knows nothing of YAML, rules or Azure: callers give it query text and a
//! [`DataSource`].

pub mod activity;
pub mod aggregate;
pub mod arrays;
pub mod budget;
pub mod builder;
pub mod codec;
pub mod data;
pub mod decompose;
pub mod error;
pub mod exec;
pub mod functions;
pub mod geoip;
pub mod hashes;
pub mod ir;
pub mod jsonl;
pub mod lower;
pub mod parquet;
pub mod parse_kv;
pub mod patterns;
pub mod regexes;
pub mod series;
pub mod source;
pub mod strings;
pub mod table;
pub mod text;
pub mod value;
pub mod xml;

pub use budget::Budget;
pub use data::Sandbox;
pub use exec::{DataSource, EngineError, Exec, RunOptions, StoredFunction};
pub use table::{Column, Table};
pub use value::{Type, Value};

/// The outcome of one query run.
#[derive(Debug)]
pub struct Output {
    pub table: Table,
    /// Rows read from source tables (after any time window).
    pub rows_scanned: u64,
    /// The source tables read (after the time window), by name.
    pub scanned: Vec<(String, std::sync::Arc<Table>)>,
}

impl Output {
    /// Rows read per source table.
    pub fn scanned_rows(&self) -> std::collections::BTreeMap<String, u64> {
        self.scanned
            .iter()
            .map(|(n, t)| (n.clone(), t.rows as u64))
            .collect()
    }

    /// The data the source tables hold after the window, in bytes (UTF-8 bytes of strings, 8 per
    /// number, datetime and timespan, 1 per bool, the JSON text of dynamic values; nulls none).
    pub fn scanned_bytes(&self) -> u64 {
        self.scanned.iter().map(|(_, t)| t.data_bytes()).sum()
    }
}

/// The bound plan of a parsed query: the binder decides each assignment's static type against
/// the catalog the data is typed by, and lowering carries those types into the plan the
/// executor runs.
pub fn plan(
    text: &str,
    tree: &crate::kql::syntax::SyntaxTree,
    catalog: &crate::kql::catalog::Catalog,
) -> ir::Query {
    let bound = crate::kql::binder::bind(text, tree, catalog);
    lower::lower_bound(text, tree, Some(&bound))
}

/// Parse, lower and run a query. Syntax errors are reported as errors (the first one).
pub fn run(text: &str, source: &dyn DataSource, opts: RunOptions) -> Result<Output, EngineError> {
    let parsed = crate::kql::parse(text);
    if let Some(e) = parsed.errors.first() {
        return Err(EngineError::new(
            format!("syntax error: {}", e.message),
            Some(ir::Span {
                start: e.start,
                end: e.end,
            }),
        ));
    }
    let q = plan(text, &parsed.tree, source.catalog());
    let mut exec = Exec::new(source, opts);
    let table = exec.run(&q)?;
    let mut scanned: Vec<(String, std::sync::Arc<Table>)> = exec.scanned_tables();
    scanned.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Output {
        table,
        rows_scanned: exec.rows_scanned,
        scanned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: RunOptions = RunOptions {
        now: 0,
        window: None,
    };

    /// The error of a query run under a `ms` millisecond time budget (hostile queries must
    /// stop at it).
    fn over_time_budget(text: &str, ms: u64) -> EngineError {
        let parsed = crate::kql::parse(text);
        let q = lower::lower(text, &parsed.tree);
        let budget = Budget {
            query_time: std::time::Duration::from_millis(ms),
            ..budget::current()
        };
        let start = std::time::Instant::now();
        let e = Exec::new(&Sandbox::default(), OPTS)
            .with_budget(budget)
            .run(&q)
            .expect_err("over the time budget");
        assert!(e.message.contains("longer than"), "{}", e.message);
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
        e
    }

    fn one(query: &str) -> String {
        let opts = OPTS;
        let out = run(query, &Sandbox::default(), opts).expect("runs");
        out.table.columns[0].data.get(0).to_json().to_string()
    }

    #[test]
    fn hostile_arguments_give_answers_not_panics() {
        let deep = format!("$.{}", vec!["a"; 5_000].join("."));
        assert_eq!(
            one(&format!("print bag_set_key(dynamic({{}}), '{deep}', 1)")),
            "null"
        );
        assert_eq!(
            one("print bag_set_key(dynamic({'a': 1}), '$.a.b', 2)"),
            r#"{"a":{"b":2}}"#
        );
        let max = i64::MAX;
        assert_eq!(
            one(&format!(
                "print array_index_of(dynamic([1,2]), 2, 0, {max})"
            )),
            "1"
        );
        assert_eq!(
            one(&format!("print indexof_regex('abc', 'c', 0, {max})")),
            "2"
        );
        assert_eq!(one("print array_index_of(dynamic([1]), 1, 0, -2)"), "null");
        assert_eq!(
            one("print array_index_of(dynamic([1]), 1, 0, -1, 0)"),
            "null"
        );
        let long = "é".repeat(5_000);
        assert_eq!(
            one(&format!("print punycode_from_string('{long}')")),
            "null"
        );
        assert_eq!(one("print hash(int(null)), hash_md5(int(null))"), "null");
        assert_eq!(one("print hash('World', 0)"), "null");
        assert_eq!(
            one(r#"print parse_csv('a,"unclosed')"#),
            r#"["a","unclosed"]"#
        );
        assert_eq!(one("print format_ipv4('10.1.2.3', 33)"), r#""""#);
        assert_eq!(
            one("print ipv4_range_to_cidr_list('0.0.0.0', '255.255.255.255')"),
            r#"["0.0.0.0/0"]"#
        );
        assert_eq!(
            one("print ipv4_range_to_cidr_list('10.0.0.9', '10.0.0.1')"),
            "[]"
        );
        // The poles: no panic (infinite or NaN).
        one("print gamma(0), gamma(-1), loggamma(0)");
    }

    #[test]
    fn basket_stays_bounded() {
        let opts = || OPTS;
        let cols: Vec<String> = (0..30).map(|i| format!("c{i} = 1")).collect();
        let q = format!(
            "range x from 1 to 10 step 1 | project {} | evaluate basket(0.5)",
            cols.join(", ")
        );
        let start = std::time::Instant::now();
        let e = run(&q, &Sandbox::default(), opts()).expect_err("too many patterns");
        assert!(e.message.contains("frequent patterns"), "{}", e.message);
        assert!(start.elapsed().as_secs() < 10);
        let e = run(
            "print a = 1 | evaluate basket(0)",
            &Sandbox::default(),
            opts(),
        )
        .expect_err("a zero threshold");
        assert!(e.message.contains("threshold"), "{}", e.message);
        // Three dimensions of one constant: one closed pattern, all rows.
        let o = run(
            "range x from 1 to 4 step 1 | project a = 'k', b = 2 | evaluate basket()",
            &Sandbox::default(),
            opts(),
        )
        .expect("runs");
        assert_eq!(o.table.rows, 1);
        assert_eq!(
            serde_json::Value::Array(o.table.json_rows()).to_string(),
            r#"[[0,4,100.0,"k",2]]"#
        );
    }

    #[test]
    fn pattern_mining_stops_at_the_query_time_budget() {
        // A hostile pull request's hunt: 40 columns of 3,000 distinct values and a tiny
        // threshold make every value frequent, so pairing them is billions of steps. The
        // query's time budget must stop it, as it stops every other operator.
        let cols: Vec<String> = (0..40).map(|i| format!("c{i} = x * {}", i + 1)).collect();
        let text = format!(
            "range x from 1 to 3000 step 1 | project {} | evaluate basket(0.0003, '~', 2)",
            cols.join(", ")
        );
        over_time_budget(&text, 300);
    }

    #[test]
    fn bag_unpack_refuses_a_conflict_by_default() {
        let q = "datatable(Name:string, d:dynamic)['a', dynamic({'Name': 'b'})] | evaluate bag_unpack(d)";
        let opts = OPTS;
        let e = run(q, &Sandbox::default(), opts).expect_err("a conflict");
        assert!(e.message.contains("columnsConflict"), "{}", e.message);
    }

    #[test]
    fn one_string_dynamic_arrays_keep_their_element() {
        // `['abc']` lexes as a bracketed name; as a dynamic array it is one string, and
        // `has_any` / `in` over it must still match.
        assert_eq!(one("print dynamic(['abc'])"), r#"["abc"]"#);
        assert_eq!(one(r#"print dynamic(["a b"])"#), r#"["a b"]"#);
        assert_eq!(one("print 'x abc y' has_any (dynamic(['abc']))"), "true");
        assert_eq!(one("print 'abc' in (dynamic(['abc']))"), "true");
    }

    /// `R = arg_max(T, R)`: the name goes to the first column and the column R comes back as
    /// `R1` (the result schema Kusto.Language gives: D, R, R1, T, L, L1); it used to be dropped,
    /// so a later `project ReportId = ReportId1` failed on real content.
    #[test]
    fn arg_max_renames_a_column_its_own_name_takes() {
        let q = "datatable(D:string, T:datetime, R:string, L:string)['a', datetime(2024-01-01), 'r1', 'l1'] \
                 | summarize R=arg_max(T, R), T=max(T), L=arg_max(T, L) by D";
        let opts = OPTS;
        let out = run(q, &Sandbox::default(), opts).expect("runs");
        let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["D", "R", "R1", "T", "L", "L1"]);
        assert_eq!(out.table.columns[2].data.get(0).to_kusto_string(), "r1");
    }

    /// `declare query_parameters`: a parameter is its default in the sandbox (there is no
    /// client to supply it); one without a default fails where it is used, saying so.
    #[test]
    fn query_parameters_take_their_defaults() {
        assert_eq!(
            one("declare query_parameters(lb:timespan = 14d, s:string = 'x'); print strcat(lb, s)"),
            r#""14.00:00:00x""#
        );
        let opts = OPTS;
        let e = run(
            "declare query_parameters(lb:timespan); print lb",
            &Sandbox::default(),
            opts,
        )
        .expect_err("no value");
        assert!(
            e.message
                .starts_with("not supported yet: query parameter lb"),
            "{}",
            e.message
        );
    }

    /// `make-series` over no rows has its columns (a later `extend` may name them); it used to
    /// return a table without any.
    #[test]
    fn make_series_over_no_rows_keeps_its_columns() {
        let q = "range t from datetime(2024-01-01) to datetime(2024-01-02) step 1h | where t < datetime(2000-01-01) \
                 | make-series n = count() on t step 1h by U = 'a' | extend m = n";
        let opts = OPTS;
        let out = run(q, &Sandbox::default(), opts).expect("runs");
        let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["U", "n", "t", "m"]);
        assert_eq!(out.table.rows, 0);
    }

    /// The legacy `notcontains`, `notcontainscs` and `containscs` are `!contains`,
    /// `!contains_cs` and `contains_cs`.
    #[test]
    fn legacy_contains_spellings() {
        assert_eq!(one("print 'Hello' notcontains 'ell'"), "false");
        assert_eq!(one("print 'Hello' notcontains 'xyz'"), "true");
        assert_eq!(one("print 'Hello' containscs 'ell'"), "true");
        assert_eq!(one("print 'Hello' containscs 'ELL'"), "false");
        assert_eq!(one("print 'Hello' notcontainscs 'ELL'"), "true");
    }

    /// `mv-apply` whose subquery projects keeps the row's own columns beside the subquery's
    /// (Kusto.Language's schema for this query: R, P, K); it used to return K alone.
    #[test]
    fn mv_apply_keeps_the_row_columns_when_the_subquery_projects() {
        let q = "datatable(R:string, P:dynamic)['r1', dynamic(['a sql', 'b']), 'r2', dynamic(['c sql', 'd sql'])] \
                 | mv-apply K = P on (where K contains 'sql' | project K)";
        let opts = OPTS;
        let out = run(q, &Sandbox::default(), opts).expect("runs");
        let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["R", "P", "K"]);
        let rows: Vec<String> = (0..out.table.rows)
            .map(|i| {
                format!(
                    "{}:{}",
                    out.table.columns[0].data.get(i).to_kusto_string(),
                    out.table.columns[2].data.get(i).to_kusto_string()
                )
            })
            .collect();
        assert_eq!(rows, ["r1:a sql", "r2:c sql", "r2:d sql"]);
    }

    /// The bound plan: the binder's types are the result's types. For each query the columns
    /// the engine returns (names and types) are the closed schema the binder announces, over
    /// catalog tables (empty here, so no value can decide a type).
    /// A let-bound function of no parameters whose body is a scalar, named without
    /// parentheses (`has_any (Keywords)`, as a corpus query writes it), is called: its value,
    /// not a table.
    #[test]
    fn a_scalar_function_named_without_parentheses_is_called() {
        let q = r#"let K = () { pack_array("login", "password"); };
            datatable(S:string)["reset your password", "hello"]
            | where S has_any (K) | extend k = K, n = array_length(K)"#;
        let out = run(q, &Sandbox::default(), OPTS).unwrap().table;
        assert_eq!(out.rows, 1);
        assert_eq!(
            out.columns[1].data.get(0).to_kusto_string(),
            r#"["login","password"]"#
        );
        assert_eq!(out.columns[2].data.get(0).as_i64(), Some(2));
    }

    #[test]
    fn the_engine_returns_the_schema_the_binder_announces() {
        use crate::kql::catalog::Catalog;
        let queries = [
            "print x = extractjson('$.a', '{}', typeof(int)), y = 1.5 * 2, z = now() - 1d",
            "SecurityEvent | extend n = toint(EventID) + 1, s = strcat(Account, 'x') | project n, s, TimeGenerated",
            "SecurityEvent | summarize c = count(), d = dcount(Account), a = avg(EventID) by bin(TimeGenerated, 1h)",
            "SigninLogs | extend p = extract('(\\d+)', 1, IPAddress, typeof(long)) | summarize arg_max(TimeGenerated, p) by UserPrincipalName",
            "SecurityEvent | make-series n = count() default = 0 on TimeGenerated step 1h by Computer",
        ];
        let opts = OPTS;
        let mut sb = Sandbox::default();
        for t in ["SecurityEvent", "SigninLogs"] {
            let cols = Catalog::embedded().tables[t].columns.clone();
            sb.add_table(t, data::rows_to_table(Vec::new(), Some(&cols)));
        }
        for q in queries {
            let parsed = crate::kql::parse(q);
            let bound = crate::kql::binder::bind(q, &parsed.tree, Catalog::embedded());
            let want = bound.result.expect("a result");
            assert!(!want.open, "{q}");
            let out = run(q, &sb, opts).expect("runs");
            let got: Vec<(String, crate::kql::catalog::Type)> = out
                .table
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.ty))
                .collect();
            assert_eq!(got, want.columns, "{q}");
        }
        // The plan carries the binder's type on each assignment.
        let q = "print x = extractjson('$.a', '{}', typeof(int))";
        let p = plan(q, &crate::kql::parse(q).tree, Catalog::embedded());
        let shown = format!("{p:?}");
        assert!(shown.contains("ty: Some(Int)"), "{shown}");
    }

    /// A sandbox's own tables (`[schemas.tables]`), stored functions and watchlists are in the
    /// catalog the binder binds against, so queries over them get the binder's closed schema
    /// from the engine too, and a stored function's body is planned with the binder's names:
    /// a generated name is never given twice (`Column2` after an earlier `Column1`), where the
    /// executor's own counter said `Column1` again.
    #[test]
    fn sandbox_tables_functions_and_watchlists_are_bound() {
        use crate::kql::catalog::Type as T;
        let mut sb = Sandbox::default();
        let cols = vec![
            ("TimeGenerated".to_string(), T::DateTime),
            ("User".to_string(), T::String),
            ("Bytes".to_string(), T::Long),
        ];
        sb.add_schema("Transfers_CL", cols.clone());
        sb.add_table("Transfers_CL", data::rows_to_table(Vec::new(), Some(&cols)));
        sb.add_function(
            "BigTransfers",
            StoredFunction {
                params: "(min:long, suffix:string = \"-x\")".into(),
                body: "Transfers_CL | where Bytes > min | extend strcat(User, suffix) | project User, Column1, strcat(User, 'y'), kb = Bytes / 1024.0".into(),
            },
        );
        sb.add_function(
            "Reshaped",
            StoredFunction {
                params: "(T:(User:string))".into(),
                body: "T | extend strlen(User)".into(),
            },
        );
        sb.add_watchlist(
            "vips",
            data::rows_to_table(
                Vec::new(),
                Some(&[
                    ("SearchKey".to_string(), T::String),
                    ("Upn".to_string(), T::String),
                ]),
            ),
        );
        let queries = [
            "Transfers_CL | summarize total = sum(Bytes) by User",
            "BigTransfers(10)",
            "BigTransfers(10) | join kind=inner (_GetWatchlist('vips') | project User = Upn) on User",
        ];
        for q in queries {
            let parsed = crate::kql::parse(q);
            let bound = crate::kql::binder::bind(q, &parsed.tree, sb.catalog());
            assert!(bound.errors.is_empty(), "{q}: {:?}", bound.errors);
            let want = bound.result.expect("a result");
            assert!(!want.open, "{q}: the sandbox catalog closes the schema");
            let out = run(q, &sb, OPTS).expect("runs");
            let got: Vec<(String, T)> = out
                .table
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.ty))
                .collect();
            assert_eq!(got, want.columns, "{q}");
        }
        let out = run("BigTransfers(10)", &sb, OPTS).expect("runs");
        let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["User", "Column1", "Column2", "kb"]);
        // A tabular parameter leaves the stored result open (the binder binds stored functions
        // once, not per call); the engine still runs it with the binder's names.
        let out = run("Reshaped(Transfers_CL | project User)", &sb, OPTS).expect("runs");
        let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["User", "strlen_User"]);
        // Without the declarations the catalog is the embedded one, shared, not a copy.
        assert!(std::ptr::eq(
            Sandbox::default().catalog(),
            crate::kql::catalog::Catalog::embedded()
        ));
    }

    /// `mv-apply` over no rows gives no rows, even when its subquery makes a row of nothing
    /// (`summarize count()`), and still has the row's columns beside the subquery's.
    #[test]
    fn mv_apply_over_no_rows_keeps_the_columns_and_no_row() {
        let q = "print d = dynamic([1]), a = 1 | where a > 5 | mv-apply x = d on (summarize c = count())";
        let out = run(q, &Sandbox::default(), OPTS).expect("runs");
        let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!((names, out.table.rows), (vec!["d", "a", "c"], 0));
    }

    /// Each row of `q`'s result, its cells as `tostring` gives them, joined with `|`.
    fn rows_of(q: &str, sb: &Sandbox) -> Vec<String> {
        let out = run(q, sb, OPTS).expect("runs");
        (0..out.table.rows)
            .map(|i| {
                out.table
                    .columns
                    .iter()
                    .map(|c| c.data.get(i).to_kusto_string())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    /// `narrow()`: a row per cell, numbered from 0, the value as `tostring` gives it (an empty
    /// string for null).
    #[test]
    fn narrow_gives_a_row_per_cell() {
        let q = "datatable(a:string, b:long)['x', 1, '', long(null)] | evaluate narrow()";
        assert_eq!(
            rows_of(q, &Sandbox::default()),
            ["0|a|x", "0|b|1", "1|a|", "1|b|"]
        );
    }

    /// `top-hitters` ranks values by count (or by the sum of `by`), largest first, and
    /// `sample-distinct` takes distinct values in order of first appearance; `T | search`
    /// names the table its rows came from.
    #[test]
    fn top_hitters_sample_distinct_and_search_rows() {
        let data = "datatable(a:string, c:real)['x', 0.5, 'y', 1.5, 'x', 2.5, 'z', 9.0, 'y', 0.0, 'x', 1.0]";
        let rows = |q: &str| rows_of(q, &Sandbox::default());
        assert_eq!(
            rows(&format!("{data} | top-hitters 2 of a")),
            ["x|3", "y|2"]
        );
        assert_eq!(rows(&format!("{data} | top-hitters 1 of a by c")), ["z|9"]);
        assert_eq!(
            rows(&format!("{data} | sample-distinct 5 of a")),
            ["x", "y", "z"]
        );
        assert_eq!(rows(&format!("{data} | search 'z'")), ["|z|9"]);
        let mut sb = Sandbox::default();
        sb.add_table(
            "Events",
            crate::engine::data::rows_to_table(
                vec![vec![("Host".to_string(), Value::string("web-1".into()))]],
                None,
            ),
        );
        let out = run("Events | search 'web'", &sb, OPTS).expect("runs");
        assert_eq!(out.table.columns[0].name, "$table");
        assert_eq!(out.table.columns[0].data.get(0).to_kusto_string(), "Events");
    }

    /// `project-reorder ... granny-asc` orders names with their numbers as numbers (`a2`
    /// before `a10`); it used to be a syntax error.
    #[test]
    fn project_reorder_granny_orders_numbers_as_numbers() {
        for (order, want) in [
            ("granny-asc", ["a1", "a2", "a10", "b"]),
            ("asc", ["a1", "a10", "a2", "b"]),
            ("granny-desc", ["a10", "a2", "a1", "b"]),
        ] {
            let q = format!("print b = 1, a10 = 3, a2 = 4, a1 = 2 | project-reorder a* {order}");
            let out = run(&q, &Sandbox::default(), OPTS).expect("runs");
            let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, want, "{order}");
        }
    }

    /// Named arguments of `arg_min`/`arg_max` name the result columns (Kusto.Language's
    /// schemas: I, P, PC, Q, QC and I, P, R); they used to be lost, so a later reference to
    /// them failed on real content (the `activity_counts_metrics` rules).
    #[test]
    fn arg_extremes_take_named_arguments() {
        let data = "datatable(T:datetime, C:long, I:string)[datetime(2024-01-01), 5, 'a', datetime(2024-01-02), 7, 'a']";
        let opts = OPTS;
        for (tail, want) in [
            (
                "summarize arg_min(P = T, PC = C), arg_max(Q = T, QC = C) by I",
                vec!["I", "P", "PC", "Q", "QC"],
            ),
            ("summarize P = arg_min(T, R = C) by I", vec!["I", "P", "R"]),
        ] {
            let out = run(&format!("{data} | {tail}"), &Sandbox::default(), opts).expect("runs");
            let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, want, "{tail}");
        }
        let out = run(
            &format!("{data} | summarize arg_max(Q = T, QC = C) by I | project QC"),
            &Sandbox::default(),
            opts,
        )
        .expect("runs");
        assert_eq!(out.table.columns[0].data.get(0).to_kusto_string(), "7");
    }

    /// `scan`'s `output=last` keeps the last of a step's repeated matches per sequence; an
    /// assignment to an undeclared column is an error; and a hostile scan over many rows stops
    /// at the query's time budget.
    #[test]
    fn scan_output_last_errors_and_budget() {
        let opts = OPTS;
        let q = "range x from 1 to 6 step 1 | scan with_match_id=m declare (c:long) with \
                 (step s1: x == 1 or x == 4; step s2 output=last: x != 1 and x != 4 => c = x;)";
        assert_eq!(
            rows_of(q, &Sandbox::default()),
            ["1||0", "3|3|0", "4||1", "6|6|1"]
        );
        let e = run(
            "range x from 1 to 3 step 1 | scan declare (c:long) with (step s1: true => d = x;)",
            &Sandbox::default(),
            opts,
        )
        .expect_err("not declared");
        assert!(
            e.message.contains("`d` is not a declared column"),
            "{}",
            e.message
        );
        let text = "range x from 1 to 300000 step 1 | scan declare (c:long=0) with \
                    (step s1: true => c = x + s1.c; step s2: s1.c < 0;)";
        over_time_budget(text, 300);
    }

    /// Inside `scan`, `pack_all()` sees the record (its input and declared columns), never the
    /// state the steps read (`s1.x`), which is not a column of the record.
    #[test]
    fn scan_state_is_not_a_column_of_the_record() {
        let q = "range x from 1 to 2 step 1 | extend y = x * 10 | scan declare (p:string) with \
                 (step s1: true => p = strcat(tostring(pack_all()), '|', s1.x);)";
        let out = run(q, &Sandbox::default(), OPTS).expect("runs");
        let p: Vec<String> = (0..2)
            .map(|i| out.table.columns[2].data.get(i).to_kusto_string())
            .collect();
        assert_eq!(
            p,
            [
                r#"{"x":1,"y":10,"p":null}|"#,
                r#"{"x":2,"y":20,"p":null}|1"#
            ]
        );
    }

    /// `externaldata` with `multijson` reads a stream of records, each possibly over many
    /// lines, and an array as its elements; a hostile file (nesting 100,000 deep, a record
    /// that never ends) is an error naming the URL, never a stack overflow or a hang.
    #[test]
    fn multijson_reads_a_record_stream_and_refuses_hostile_files() {
        struct Files(String);
        impl DataSource for Files {
            fn table(&self, _: &str) -> Option<std::sync::Arc<Table>> {
                None
            }
            fn external(&self, _: &str) -> Option<Result<String, String>> {
                Some(Ok(self.0.clone()))
            }
        }
        let q = "externaldata(a:long, b:string)['https://x/f.json'] with (format='multijson')";
        let good = Files("{\n \"a\": 1,\n \"b\": \"x\"\n}\n[{\"a\": 2}, {\"a\": 3}]".into());
        let out = run(q, &good, OPTS).expect("runs");
        let a: Vec<String> = (0..out.table.rows)
            .map(|i| out.table.columns[0].data.get(i).to_kusto_string())
            .collect();
        assert_eq!(a, ["1", "2", "3"]);
        for bad in [
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            "{\"a\": 1".to_string(),
        ] {
            let e = run(q, &Files(bad), OPTS).expect_err("a bad file");
            assert!(e.message.starts_with("https://x/f.json:"), "{}", e.message);
        }
    }
}
