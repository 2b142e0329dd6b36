//! The embedded KQL catalog (`src/kql/data/*.tsv`): generated files match their sources and
//! `sentinel-schema.json`, and every data file parses.
mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

use vigil::kql::catalog_gen::{self, KQL_TYPES};

fn data_file(name: &str) -> String {
    let path = common::manifest_dir().join("src/kql/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schemas_dir() -> Option<PathBuf> {
    let dir = common::corpus()?.join("schemas");
    dir.is_dir().then_some(dir)
}

/// Non-comment, non-blank lines with their 1-based line numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

type Columns = BTreeMap<String, String>;

/// `tables.tsv` as table -> column -> type, checking the format on the way.
fn parse_tables(text: &str) -> BTreeMap<String, Columns> {
    let mut tables: BTreeMap<String, Columns> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (n, line) in data_lines(text) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "tables.tsv:{n}: expected 3 fields: {line:?}");
        assert!(
            !f[0].is_empty() && !f[1].is_empty(),
            "tables.tsv:{n}: empty name"
        );
        assert!(
            KQL_TYPES.contains(&f[2]),
            "tables.tsv:{n}: unknown type {:?}",
            f[2]
        );
        if order.last() != Some(&f[0]) {
            order.push(f[0]);
        }
        let old = tables
            .entry(f[0].to_string())
            .or_default()
            .insert(f[1].to_string(), f[2].to_string());
        assert!(old.is_none(), "tables.tsv:{n}: duplicate column {line:?}");
    }
    let mut sorted = order.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        order, sorted,
        "tables.tsv: tables not sorted or not contiguous"
    );
    tables
}

struct Function {
    params: String,
    columns: Columns,
}

/// `functions.tsv` as name -> (params, result columns), checking the format on the way.
fn parse_functions(text: &str) -> BTreeMap<String, Function> {
    let mut functions = BTreeMap::new();
    let mut last: Option<String> = None;
    for (n, line) in data_lines(text) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "functions.tsv:{n}: expected 3 fields: {line:?}");
        let (name, params, cols) = (f[0], f[1], f[2]);
        assert!(!name.is_empty(), "functions.tsv:{n}: empty name");
        assert!(
            params.is_empty() || (params.starts_with('(') && params.ends_with(')')),
            "functions.tsv:{n}: parameters {params:?} not in parentheses"
        );
        let mut columns = Columns::new();
        for c in cols.split(',').filter(|c| !c.is_empty()) {
            let (col, ty) = c
                .rsplit_once(':')
                .unwrap_or_else(|| panic!("functions.tsv:{n}: column {c:?} is not Col:type"));
            assert!(
                KQL_TYPES.contains(&ty),
                "functions.tsv:{n}: unknown type {ty:?}"
            );
            let old = columns.insert(col.to_string(), ty.to_string());
            assert!(old.is_none(), "functions.tsv:{n}: duplicate column {col:?}");
        }
        if let Some(prev) = &last {
            assert!(
                prev.as_str() < name,
                "functions.tsv:{n}: {name} not sorted or repeated"
            );
        }
        last = Some(name.to_string());
        functions.insert(
            name.to_string(),
            Function {
                params: params.to_string(),
                columns,
            },
        );
    }
    functions
}

const REGENERATE: &str = "run `cargo run --example gen_catalog` and commit src/kql/data/";

#[test]
fn generated_files_are_up_to_date() {
    let Some(dir) = schemas_dir() else {
        eprintln!("SKIPPED generated_files_are_up_to_date: no corpus (../shared/corpus)");
        return;
    };
    let generated = catalog_gen::generate(&dir).expect("generate the catalog");
    assert!(
        generated.warnings.is_empty(),
        "warnings: {:?}",
        generated.warnings
    );
    assert!(
        generated.tables_tsv == data_file("tables.tsv"),
        "src/kql/data/tables.tsv differs from what the schema sources give: {REGENERATE}"
    );
    assert!(
        generated.functions_tsv == data_file("functions.tsv"),
        "src/kql/data/functions.tsv differs from what the schema sources give: {REGENERATE}"
    );
}

#[test]
fn catalog_matches_sentinel_schema_json() {
    let Some(dir) = schemas_dir() else {
        eprintln!("SKIPPED catalog_matches_sentinel_schema_json: no corpus (../shared/corpus)");
        return;
    };
    let path = dir.join("sentinel-schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("sentinel-schema.json parses");
    let as_columns = |v: &serde_json::Value, what: &str| -> Columns {
        v.as_object()
            .unwrap_or_else(|| panic!("{what}: not an object"))
            .iter()
            .map(|(c, t)| {
                let t = t
                    .as_str()
                    .unwrap_or_else(|| panic!("{what}.{c}: not a string"));
                (c.clone(), t.to_string())
            })
            .collect()
    };

    let want_tables: BTreeMap<String, Columns> = json["tables"]
        .as_object()
        .expect("tables")
        .iter()
        .map(|(t, cols)| (t.clone(), as_columns(cols, t)))
        .collect();
    let tables = parse_tables(&data_file("tables.tsv"));
    let names: BTreeSet<&String> = tables.keys().collect();
    let want_names: BTreeSet<&String> = want_tables.keys().collect();
    assert_eq!(
        names.symmetric_difference(&want_names).collect::<Vec<_>>(),
        Vec::<&&String>::new(),
        "tables in only one of tables.tsv and sentinel-schema.json"
    );
    for (t, want) in &want_tables {
        assert_eq!(&tables[t], want, "columns of table {t}");
    }

    let want_functions = json["functions"].as_object().expect("functions");
    let functions = parse_functions(&data_file("functions.tsv"));
    let names: BTreeSet<&str> = functions.keys().map(String::as_str).collect();
    let want_names: BTreeSet<&str> = want_functions.keys().map(String::as_str).collect();
    assert_eq!(names, want_names, "function names");
    for (name, want) in want_functions {
        let f = &functions[name];
        assert_eq!(
            f.params,
            want["params"].as_str().expect("params"),
            "parameters of {name}"
        );
        assert_eq!(
            f.columns,
            as_columns(&want["columns"], name),
            "result columns of {name}"
        );
    }
}

#[test]
fn committed_catalog_parses_and_has_well_known_entries() {
    let tables_text = data_file("tables.tsv");
    let functions_text = data_file("functions.tsv");
    for (name, text) in [
        ("tables.tsv", &tables_text),
        ("functions.tsv", &functions_text),
    ] {
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with('#') && first.contains("cargo run --example gen_catalog"),
            "{name}: the first line must say how the file is generated"
        );
    }
    let tables = parse_tables(&tables_text);
    assert!(tables.len() > 1000, "only {} tables", tables.len());
    for (t, c, ty) in [
        ("SigninLogs", "UserPrincipalName", "string"),
        ("SigninLogs", "ResultType", "string"),
        ("SigninLogs", "LocationDetails", "dynamic"),
        ("SecurityEvent", "EventID", "int"),
        ("SecurityEvent", "TimeGenerated", "datetime"),
        ("AuditLogs", "InitiatedBy", "dynamic"),
        ("CommonSecurityLog", "DestinationPort", "int"),
        ("DeviceProcessEvents", "Timestamp", "datetime"),
        ("DeviceProcessEvents", "ProcessCommandLine", "string"),
        ("DeviceNetworkEvents", "RemotePort", "int"),
        ("OfficeActivity", "Operation", "string"),
        ("Syslog", "SyslogMessage", "string"),
        ("AzureActivity", "OperationNameValue", "string"),
        ("Heartbeat", "Computer", "string"),
        ("SecurityAlert", "AlertName", "string"),
        ("ThreatIntelligenceIndicator", "NetworkIP", "string"),
    ] {
        let got = tables.get(t).and_then(|cols| cols.get(c));
        assert_eq!(got.map(String::as_str), Some(ty), "{t}.{c}");
    }

    let functions = parse_functions(&functions_text);
    let watchlist = &functions["_GetWatchlist"];
    assert_eq!(watchlist.params, "(watchlistAlias:string)");
    assert_eq!(
        watchlist.columns.get("SearchKey").map(String::as_str),
        Some("string")
    );
    for name in [
        "imAuthentication",
        "_Im_Dns",
        "imNetworkSession",
        "_Im_WebSession",
        "ASimProcessCreate",
    ] {
        let f = functions
            .get(name)
            .unwrap_or_else(|| panic!("no function {name}"));
        assert!(f.params.contains("starttime:datetime"), "{name} parameters");
        assert_eq!(
            f.columns.get("TimeGenerated").map(String::as_str),
            Some("datetime"),
            "{name}.TimeGenerated"
        );
    }
}

const KINDS: &[&str] = &["scalar", "aggregate", "plugin", "window", "tabular"];
const RETURNS: &[&str] = &["arg1", "arg2", "arg3", "numeric", "unknown"];
const ARG_TYPES: &[&str] = &[
    "numeric",
    "scalar",
    "any",
    "column",
    "predicate",
    "regex",
    "lambda",
    "type",
    "tabular",
];

struct Builtin {
    kind: String,
    name: String,
    min: usize,
    max: Option<usize>,
}

fn parse_builtins(text: &str) -> Vec<Builtin> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in data_lines(text) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7, "builtins.tsv:{n}: expected 7 fields: {line:?}");
        let (kind, name, min, max, ret, args) = (f[0], f[1], f[2], f[3], f[4], f[5]);
        let rule = f[6];
        let prefix = rule.strip_prefix("prefix:").is_some_and(|p| !p.is_empty());
        if kind == "aggregate" {
            // Every aggregation names its column (Kusto never gives one a bare `ColumnN`
            // unless its argument has no name).
            assert!(
                prefix || matches!(rule, "arg1" | "percentiles" | "columns"),
                "builtins.tsv:{n}: aggregate result_name {rule:?}"
            );
        } else {
            assert!(
                matches!(rule, "-" | "arg1" | "only_arg" | "column_ifexists")
                    || prefix
                    || rule.strip_prefix("fixed:").is_some_and(|p| !p.is_empty()),
                "builtins.tsv:{n}: result_name {rule:?}"
            );
        }
        assert!(KINDS.contains(&kind), "builtins.tsv:{n}: kind {kind:?}");
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "builtins.tsv:{n}: name {name:?}"
        );
        let min: usize = min
            .parse()
            .unwrap_or_else(|_| panic!("builtins.tsv:{n}: min_args {min:?}"));
        let max: Option<usize> = (max != "*").then(|| {
            max.parse()
                .unwrap_or_else(|_| panic!("builtins.tsv:{n}: max_args {max:?}"))
        });
        if let Some(max) = max {
            assert!(min <= max, "builtins.tsv:{n}: min_args > max_args");
        }
        assert!(
            KQL_TYPES.contains(&ret) || RETURNS.contains(&ret),
            "builtins.tsv:{n}: returns {ret:?}"
        );
        let args: Vec<&str> = if args.is_empty() {
            Vec::new()
        } else {
            args.split(',').collect()
        };
        for a in &args {
            assert!(
                KQL_TYPES.contains(a) || ARG_TYPES.contains(a),
                "builtins.tsv:{n}: argument type {a:?}"
            );
        }
        match max {
            Some(max) => assert_eq!(
                args.len(),
                max,
                "builtins.tsv:{n}: one argument type per position"
            ),
            None => assert!(!args.is_empty(), "builtins.tsv:{n}: variadic without types"),
        }
        if let Some(i) = ret.strip_prefix("arg") {
            let i: usize = i.parse().unwrap();
            assert!(
                max.is_none_or(|m| i <= m),
                "builtins.tsv:{n}: returns {ret} beyond the arguments"
            );
        }
        assert!(
            seen.insert((kind.to_string(), name.to_string())),
            "builtins.tsv:{n}: duplicate {kind} {name}"
        );
        out.push(Builtin {
            kind: kind.to_string(),
            name: name.to_string(),
            min,
            max,
        });
    }
    out
}

#[test]
fn builtins_parse_and_cover_common_functions() {
    let builtins = parse_builtins(&data_file("builtins.tsv"));
    let find = |kind: &str, name: &str| {
        builtins
            .iter()
            .find(|b| b.kind == kind && b.name == name)
            .unwrap_or_else(|| panic!("builtins.tsv has no {kind} {name}"))
    };
    let scalars = "strcat strcat_delim strlen substring tolower toupper trim trim_start trim_end split \
        replace replace_string replace_regex extract extract_all extract_json parse_json parse_xml \
        parse_url parse_urlquery parse_path parse_user_agent parse_command_line parse_csv parse_ipv4 \
        parse_ipv4_mask parse_ipv6 indexof indexof_regex countof reverse base64_encode_tostring \
        base64_decode_tostring base64_decode_toarray base64_encode_fromarray url_encode url_decode \
        url_encode_component translate strrep has_any_index format_ipv4 unicode_codepoints_to_string \
        string_size hash hash_sha256 hash_md5 hash_sha1 hash_xxhash64 hash_combine hash_many \
        tostring toint tolong toreal todouble tobool toboolean todatetime totimespan toguid todecimal \
        todynamic toobject ago now bin bin_at floor startofday startofweek startofmonth startofyear \
        endofday endofweek endofmonth endofyear datetime_add datetime_diff datetime_part dayofweek \
        dayofmonth dayofyear hourofday getmonth getyear monthofyear weekofyear format_datetime \
        format_timespan make_datetime make_timespan unixtime_seconds_todatetime \
        unixtime_milliseconds_todatetime unixtime_microseconds_todatetime \
        unixtime_nanoseconds_todatetime datetime_local_to_utc datetime_utc_to_local abs round \
        ceiling exp exp2 exp10 log log2 log10 pow sqrt sign rand min_of max_of isnan isinf isfinite \
        gamma pi cos sin tan acos asin atan atan2 degrees radians binary_and binary_or binary_xor \
        binary_not binary_shift_left binary_shift_right percentrank_tdigest iff iif case coalesce \
        isempty isnotempty isnull isnotnull column_ifexists not array_length array_concat array_slice \
        array_index_of array_sort_asc array_sort_desc array_reverse array_rotate_left \
        array_rotate_right array_shift_left array_shift_right array_split array_sum array_iff \
        array_iif set_union set_intersect set_difference set_has_element pack pack_all pack_array \
        pack_dictionary bag_pack bag_pack_columns bag_keys bag_merge bag_remove_keys bag_set_key \
        bag_has_key treepath zip repeat range jaccard_index gettype dynamic_to_json \
        geo_info_from_ip_address geo_distance_2points geo_point_in_polygon ipv4_is_in_range \
        ipv4_is_in_any_range ipv4_is_match ipv4_is_private ipv4_compare ipv4_netmask_suffix \
        ipv6_compare ipv6_is_match ipv6_is_in_range ipv6_is_in_any_range has_ipv4 has_ipv4_prefix \
        has_any_ipv4 has_any_ipv4_prefix format_ipv4_mask series_decompose_anomalies \
        series_decompose series_fit_line series_stats series_outliers series_fill_linear \
        series_fill_forward series_fill_backward series_fill_const series_add ingestion_time";
    for name in scalars.split_whitespace() {
        find("scalar", name);
    }
    let aggregates =
        "count countif dcount dcountif sum sumif avg avgif min max minif maxif arg_max \
        arg_min take_any take_anyif any anyif make_set make_set_if make_list make_list_if \
        make_list_with_nulls make_bag make_bag_if percentile percentiles percentiles_array tdigest \
        stdev stdevif variance varianceif hll hll_merge buildschema count_distinct \
        count_distinctif binary_all_and binary_all_or binary_all_xor makeset makelist";
    for name in aggregates.split_whitespace() {
        find("aggregate", name);
    }
    for name in "row_number row_cumsum row_rank_dense row_rank_min prev next row_window_session"
        .split_whitespace()
    {
        find("window", name);
    }
    let plugins = "bag_unpack pivot narrow autocluster basket diffpatterns dcount_intersect \
        funnel_sequence funnel_sequence_completion sequence_detect sliding_window_counts \
        active_users_count activity_counts_metrics activity_engagement rolling_percentile \
        infer_storage_schema ipv4_lookup ipv6_lookup schema_merge session_count preview python r";
    for name in plugins.split_whitespace() {
        find("plugin", name);
    }
    for name in ["workspace", "app", "resource", "table"] {
        find("tabular", name);
    }

    let strcat = find("scalar", "strcat");
    assert_eq!((strcat.min, strcat.max), (1, None));
    let iff = find("scalar", "iff");
    assert_eq!((iff.min, iff.max), (3, Some(3)));
    let count = find("aggregate", "count");
    assert_eq!(count.min, 0);
}
