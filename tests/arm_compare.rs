//! vigil's compiled output against Microsoft's own published ARM templates for the same content.
//!
//! `../shared/corpus/arm/MAPPING.json` links resources of Microsoft solution packages
//! (`Package/mainTemplate.json`) to the YAML files they were generated from. For every such pair
//! this test compiles the YAML with vigil and compares the ARM item resource it writes with the
//! published one, field by field. Every field that differs (or is on one side only) must have a
//! reason in `tests/corpus/arm-differences.tsv`; entries that no longer match anything fail too.
//! The per-field statistics are written to `tests/corpus/arm-comparison.md`, a reviewed file
//! compared for equality (regenerate with `VIGIL_BLESS=1`). `VIGIL_ARM_DETAILS=1` prints every
//! difference of every pair (run with `--nocapture`), for reviewing the list.
//!
//! The corpus is found through `$VIGIL_CORPUS` or `../shared/corpus`; when it is absent the test
//! says so and passes without checking anything.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use vigil::model::load::FsReader;
use vigil::{pipeline, workspace};

const REPORT: &str = "tests/corpus/arm-comparison.md";
const DIFFERENCES: &str = "tests/corpus/arm-differences.tsv";

/// Pseudo-fields for the resource envelope, compared beside `properties`.
const ENVELOPE: [&str; 3] = ["type", "kind", "apiVersion"];

/// Fields whose objects are compared as whole values (their keys are data, not schema).
const WHOLE_OBJECTS: [&str; 1] = ["customDetails"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Equal,
    Different,
    OnlyVigil,
    OnlyPublished,
    Parameterised,
}

impl Outcome {
    fn is_difference(self) -> bool {
        matches!(
            self,
            Outcome::Different | Outcome::OnlyVigil | Outcome::OnlyPublished
        )
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Equal => "equal",
            Outcome::Different => "different",
            Outcome::OnlyVigil => "only in vigil",
            Outcome::OnlyPublished => "only in published",
            Outcome::Parameterised => "parameterised",
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Counts([usize; 5]);

impl Counts {
    fn add(&mut self, o: Outcome) {
        self.0[o as usize] += 1;
    }
}

/// One compared field of one pair.
struct FieldResult {
    field: String,
    outcome: Outcome,
    vigil: Option<Value>,
    published: Option<Value>,
}

/// The first difference seen for a (type, field, outcome), to show when it is not explained.
struct Example {
    yaml: String,
    vigil: Option<Value>,
    published: Option<Value>,
}

/// An ARM template expression (`[...]`; `[[` escapes a literal bracket).
fn is_expression(v: &Value) -> bool {
    match v {
        Value::String(s) => s.starts_with('[') && !s.starts_with("[[") && s.ends_with(']'),
        Value::Array(a) => a.iter().any(is_expression),
        Value::Object(o) => o.values().any(is_expression),
        _ => false,
    }
}

/// Absent, null and empty collections all mean "not set" to the API.
fn present(v: Option<&Value>) -> Option<&Value> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(Value::Object(o)) if o.is_empty() => None,
        Some(v) => Some(v),
    }
}

fn text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_string()
}

/// Sorted, deduplicated strings of a list, or of a comma-separated string.
fn set_of(v: &Value) -> Value {
    let mut set = BTreeSet::new();
    match v {
        Value::Array(a) => {
            for x in a {
                match x {
                    Value::String(s) => set.insert(s.trim().to_string()),
                    other => set.insert(other.to_string()),
                };
            }
        }
        Value::String(s) => {
            set.extend(
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
            );
        }
        other => return other.clone(),
    }
    Value::Array(set.into_iter().map(Value::String).collect())
}

/// The last segment of a field path.
fn leaf(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// Normalise a whole value before comparison, by field.
fn normalise(field: &str, v: &Value) -> Value {
    match (leaf(field), v) {
        ("query" | "description", Value::String(s)) => Value::String(text(s)),
        ("tactics" | "techniques" | "subTechniques", _) => set_of(v),
        _ => v.clone(),
    }
}

/// Saved-search tags (`[{name, value}]`) as an object keyed by name, when names are unique.
fn tags_as_object(v: &Value) -> Option<Value> {
    let a = v.as_array()?;
    let mut m = Map::new();
    for t in a {
        let name = t.get("name")?.as_str()?;
        let value = t.get("value")?.clone();
        if m.insert(name.to_string(), value).is_some() {
            return None;
        }
    }
    Some(Value::Object(m))
}

fn compare(
    field: &str,
    vigil: Option<&Value>,
    published: Option<&Value>,
    out: &mut Vec<FieldResult>,
) {
    let (vigil, published) = (present(vigil), present(published));
    let tags = |v: Option<&Value>| {
        v.and_then(|v| {
            if field == "tags" {
                tags_as_object(v)
            } else {
                None
            }
        })
    };
    let (vt, pt) = (tags(vigil), tags(published));
    let vigil = vt.as_ref().or(vigil);
    let published = pt.as_ref().or(published);
    let recurse = !WHOLE_OBJECTS.contains(&leaf(field));
    if let (Some(Value::Object(v)), Some(Value::Object(p)), true) = (vigil, published, recurse) {
        let keys: BTreeSet<&String> = v.keys().chain(p.keys()).collect();
        for k in keys {
            compare(&format!("{field}.{k}"), v.get(k), p.get(k), out);
        }
        return;
    }
    let outcome = match (vigil, published) {
        (None, None) => return,
        (_, Some(p)) if is_expression(p) => Outcome::Parameterised,
        (Some(_), None) => Outcome::OnlyVigil,
        (None, Some(_)) => Outcome::OnlyPublished,
        (Some(v), Some(p)) if normalise(field, v) == normalise(field, p) => Outcome::Equal,
        (Some(_), Some(_)) => Outcome::Different,
    };
    out.push(FieldResult {
        field: field.to_string(),
        outcome,
        vigil: vigil.cloned(),
        published: published.cloned(),
    });
}

/// Compare an ARM item resource vigil writes with a published one.
fn compare_resources(vigil: &Value, published: &Value) -> Vec<FieldResult> {
    let mut out = Vec::new();
    for k in ENVELOPE {
        compare(&format!("@{k}"), vigil.get(k), published.get(k), &mut out);
    }
    let empty = Map::new();
    let vp = vigil
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let pp = published
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let keys: BTreeSet<&String> = vp.keys().chain(pp.keys()).collect();
    for k in keys {
        compare(k, vp.get(k), pp.get(k), &mut out);
    }
    out
}

/// Shared lines over all lines (Jaccard) of two query texts; 1.0 when both are absent.
fn similarity(a: Option<&Value>, b: Option<&Value>) -> f64 {
    let lines = |v: Option<&Value>| -> BTreeSet<String> {
        v.and_then(Value::as_str)
            .unwrap_or("")
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let (a, b) = (lines(a), lines(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 1.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// Every resource object of a template, at any depth.
fn collect_resources<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(o) => {
            if o.get("type").is_some_and(Value::is_string)
                && o.get("properties").is_some_and(Value::is_object)
            {
                out.push(v);
            }
            o.values().for_each(|x| collect_resources(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_resources(x, out)),
        _ => {}
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The published resource of a mapping entry: by (type, name), else by type and displayName.
fn find_published<'a>(resources: &[&'a Value], entry: &Value) -> Option<&'a Value> {
    let ty = str_of(entry, "arm_type");
    let of_type: Vec<&Value> = resources
        .iter()
        .copied()
        .filter(|r| str_of(r, "type") == ty)
        .collect();
    let by_name: Vec<&Value> = of_type
        .iter()
        .copied()
        .filter(|r| str_of(r, "name") == str_of(entry, "arm_name"))
        .collect();
    if by_name.len() == 1 {
        return Some(by_name[0]);
    }
    let display = str_of(entry, "displayName");
    let by_display: Vec<&Value> = of_type
        .into_iter()
        .filter(|r| r["properties"].get("displayName").and_then(Value::as_str) == Some(display))
        .collect();
    (by_display.len() == 1).then(|| by_display[0])
}

/// Where a YAML file lies relative to a package: 0 in the package's own folder, 1 elsewhere in
/// the package's snapshot, 2 in another snapshot.
fn rank(yaml: &str, arm_file: &str) -> usize {
    let snapshot = arm_file.split('/').nth(1).unwrap_or("");
    let package = arm_file
        .strip_suffix("Package/mainTemplate.json")
        .and_then(|p| p.strip_prefix("arm/"))
        .unwrap_or("");
    let inside = yaml.strip_prefix("sentinel-yaml/").unwrap_or(yaml);
    if !package.is_empty() && inside.starts_with(package) {
        0
    } else if inside.split('/').next() == Some(snapshot) {
        1
    } else {
        2
    }
}

const PLACEMENTS: [&str; 3] = [
    "the package's own folder",
    "elsewhere in the package's snapshot",
    "another snapshot",
];

/// The YAML files of a mapping entry in the order they are tried: same id before same name,
/// and within that the file of the package's own folder first, then files of the package's
/// snapshot, then (only when the snapshot has none) the rest, so a package is compared with the
/// YAML it was built from.
fn candidates(entry: &Value, arm_file: &str) -> Vec<String> {
    let mut files: Vec<(usize, usize, String)> = Vec::new();
    for (group, key) in ["yaml_files_same_id", "yaml_files_same_name"]
        .iter()
        .enumerate()
    {
        for f in entry
            .get(*key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(f) = f.as_str() else { continue };
            let rank = rank(f, arm_file);
            if !files.iter().any(|(_, _, g)| g == f) {
                files.push((group, rank, f.to_string()));
            }
        }
    }
    // Another snapshot holds another version of the content: only when the package's own
    // snapshot has no file for it.
    if files.iter().any(|(_, rank, _)| *rank < 2) {
        files.retain(|(_, rank, _)| *rank < 2);
    }
    files.sort_by_key(|(group, rank, _)| (*group, *rank));
    files.into_iter().map(|(_, _, f)| f).collect()
}

/// Compile one corpus YAML (`sentinel-yaml/<snapshot>/<path>`) on its own: vigil's ARM item
/// resource, or the error codes that stopped it.
fn compile_yaml(corpus: &Path, rel: &str) -> Result<Value, Vec<String>> {
    let mut parts = rel.splitn(3, '/');
    let (_, snapshot, inside) = (
        parts.next(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let root: PathBuf = corpus.join("sentinel-yaml").join(snapshot);
    let ws = workspace::open(&root, &[root.join(inside)]);
    let checked = pipeline::check(&ws, &FsReader { root: root.clone() }, None);
    let out = pipeline::compile(&ws, &checked, None);
    if let Some(a) = out.first() {
        let [item, _meta] = a.arm_resources();
        return Ok(item);
    }
    let mut codes: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.to_string())
        .collect();
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        codes.push("no artifact".into());
    }
    Err(codes)
}

/// The reviewed list: (resource type, field) → reason. A field entry covers its nested fields.
fn read_differences(text: &str) -> BTreeMap<(String, String), String> {
    let mut m = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() == 3 && !cols[2].trim().is_empty(),
            "{DIFFERENCES}:{}: expected `resource_type<TAB>field<TAB>reason`",
            i + 1
        );
        let key = (cols[0].to_string(), cols[1].to_string());
        assert!(
            m.insert(key, cols[2].trim().to_string()).is_none(),
            "{DIFFERENCES}:{}: duplicate entry for {} {}",
            i + 1,
            cols[0],
            cols[1]
        );
    }
    m
}

/// The entry explaining a field: the longest listed field equal to it or a parent of it.
fn reason_for<'a>(
    list: &'a BTreeMap<(String, String), String>,
    ty: &str,
    field: &str,
) -> Option<(&'a (String, String), &'a String)> {
    let mut f = field;
    loop {
        if let Some(kv) = list.get_key_value(&(ty.to_string(), f.to_string())) {
            return Some(kv);
        }
        f = &f[..f.rfind('.')?];
    }
}

fn short(v: &Option<Value>) -> String {
    let s = match v {
        None => "(absent)".to_string(),
        Some(v) => v.to_string(),
    };
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

#[test]
fn compiled_output_matches_published_arm_templates() {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIPPED compiled_output_matches_published_arm_templates: corpus not found (set VIGIL_CORPUS)");
        return;
    };
    // VIGIL_ARM_DETAILS=1 prints every difference, for reviewing the list of reasons.
    let details = std::env::var_os("VIGIL_ARM_DETAILS").is_some();
    let mapping = read_json(&corpus.join("arm/MAPPING.json"));
    let packages = mapping.as_array().expect("MAPPING.json is a list");

    let mut compiled_cache: BTreeMap<String, Result<Value, Vec<String>>> = BTreeMap::new();
    let (mut mapped, mut no_yaml, mut not_found, mut pairs, mut compiled) = (0, 0, 0, 0, 0);
    let mut kind_mismatch: Vec<String> = Vec::new();
    let mut not_compiled: Vec<String> = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    let mut fallbacks: Vec<String> = Vec::new();
    let mut used_from: BTreeMap<usize, usize> = BTreeMap::new();
    // type → field → counts
    let mut stats: BTreeMap<String, BTreeMap<String, Counts>> = BTreeMap::new();
    let mut compared_per_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: BTreeMap<(String, String, Outcome), (usize, Example)> = BTreeMap::new();

    for package in packages {
        let arm_file = str_of(package, "arm_file");
        let template = read_json(&corpus.join(arm_file));
        let mut resources = Vec::new();
        collect_resources(&template, &mut resources);
        for entry in package["resources"].as_array().into_iter().flatten() {
            mapped += 1;
            let ty = str_of(entry, "arm_type").to_string();
            let display = str_of(entry, "displayName");
            let files = candidates(entry, arm_file);
            if files.is_empty() {
                no_yaml += 1;
                continue;
            }
            let Some(published) = find_published(&resources, entry) else {
                not_found += 1;
                missing.push(format!("| {arm_file} | {ty} | {display} |"));
                continue;
            };
            pairs += 1;
            // A rule compared with a saved search (or the reverse) says nothing field by field:
            // a file of the other kind (same name, other folder) is passed over. Among the files
            // that compile to the right kind, the file the
            // package was built from is the one whose query is closest to the published one (names
            // are not unique: two Jira rules share theirs).
            let published_is_rule = ty.to_ascii_lowercase().contains("alertrule");
            let published_query = published["properties"]
                .get("query")
                .map(|q| normalise("query", q));
            let mut eligible: Vec<(String, Value)> = Vec::new();
            let mut errors = Vec::new();
            let mut other_kind = Vec::new();
            for f in &files {
                let r = compiled_cache
                    .entry(f.clone())
                    .or_insert_with(|| compile_yaml(&corpus, f));
                match r {
                    Ok(item)
                        if str_of(item, "type").ends_with("/alertRules") == published_is_rule =>
                    {
                        eligible.push((f.clone(), item.clone()));
                    }
                    Ok(item) => other_kind.push(format!("`{f}` ({})", str_of(item, "type"))),
                    Err(codes) => errors.push((f.clone(), codes.join(", "))),
                }
            }
            let best = eligible
                .iter()
                .enumerate()
                .map(|(i, (_, item))| {
                    let q = item["properties"]
                        .get("query")
                        .map(|q| normalise("query", q));
                    (similarity(q.as_ref(), published_query.as_ref()), i)
                })
                // Most shared lines first; among equals, the earlier file.
                .min_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)))
                .map_or(0, |(_, i)| i);
            let Some((yaml, item)) = eligible.get(best).cloned() else {
                if other_kind.is_empty() {
                    let tried: Vec<String> =
                        errors.iter().map(|(f, c)| format!("`{f}`: {c}")).collect();
                    not_compiled.push(format!("| {ty} | {display} | {} |", tried.join("<br>")));
                } else {
                    compiled += 1;
                    kind_mismatch.push(format!(
                        "| {ty} | {display} | {} |",
                        other_kind.join("<br>")
                    ));
                }
                continue;
            };
            // A better-placed file that vigil rejects is worth knowing about.
            let rank_of = |f: &str| files.iter().position(|g| g == f).unwrap_or(usize::MAX);
            for (f, codes) in &errors {
                if rank_of(f) < rank_of(&yaml) {
                    fallbacks.push(format!("| {ty} | {display} | `{f}`: {codes} | `{yaml}` |"));
                }
            }
            *used_from.entry(rank(&yaml, arm_file)).or_default() += 1;
            compiled += 1;
            *compared_per_type.entry(ty.clone()).or_default() += 1;
            for r in compare_resources(&item, published) {
                stats
                    .entry(ty.clone())
                    .or_default()
                    .entry(r.field.clone())
                    .or_default()
                    .add(r.outcome);
                if r.outcome.is_difference() && details {
                    eprintln!(
                        "{ty}\t{}\t{}\t{yaml}\n  vigil:     {}\n  published: {}",
                        r.field,
                        r.outcome.label(),
                        r.vigil.as_ref().map_or("(absent)".into(), Value::to_string),
                        r.published
                            .as_ref()
                            .map_or("(absent)".into(), Value::to_string),
                    );
                }
                if r.outcome.is_difference() {
                    let e = examples
                        .entry((ty.clone(), r.field.clone(), r.outcome))
                        .or_insert_with(|| {
                            (
                                0,
                                Example {
                                    yaml: yaml.clone(),
                                    vigil: r.vigil.clone(),
                                    published: r.published.clone(),
                                },
                            )
                        });
                    e.0 += 1;
                }
            }
        }
    }
    let compared: usize = compared_per_type.values().sum();

    let list_path = common::manifest_dir().join(DIFFERENCES);
    let list = read_differences(&std::fs::read_to_string(&list_path).unwrap_or_default());

    // Every difference needs a reason; every reason must still explain something.
    let mut unexplained = String::new();
    let mut used = BTreeSet::new();
    for ((ty, field, outcome), (n, ex)) in &examples {
        match reason_for(&list, ty, field) {
            Some((key, _)) => {
                used.insert(key.clone());
            }
            None => {
                let _ = writeln!(
                    unexplained,
                    "- {ty}\t{field}: {} in {n} pair(s); e.g. {}\n    vigil:     {}\n    published: {}",
                    outcome.label(),
                    ex.yaml,
                    short(&ex.vigil),
                    short(&ex.published)
                );
            }
        }
    }
    let stale: Vec<String> = list
        .keys()
        .filter(|k| !used.contains(*k))
        .map(|(t, f)| format!("- {t}\t{f}"))
        .collect();

    // The report.
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# vigil's compiled output against Microsoft's published ARM templates\n"
    );
    let _ = writeln!(
        md,
        "Generated by `cargo test --test arm_compare` from `../shared/corpus/arm` (regenerate with \
         `VIGIL_BLESS=1`). Each resource of a Microsoft solution package that `arm/MAPPING.json` links \
         to a YAML file is paired with vigil's compilation of that YAML, and the ARM item resource \
         vigil writes is compared with the published one, field by field. Reasons come from \
         `tests/corpus/arm-differences.tsv`; the test fails on any difference without one.\n"
    );
    let _ = writeln!(md, "## Numbers\n");
    let _ = writeln!(md, "| | count |\n|---|---:|");
    let _ = writeln!(md, "| packages | {} |", packages.len());
    let _ = writeln!(md, "| mapped resources | {mapped} |");
    let _ = writeln!(md, "| without a YAML file in the corpus | {no_yaml} |");
    let _ = writeln!(
        md,
        "| published resource not found in its template | {not_found} |"
    );
    let _ = writeln!(md, "| **pairs found** | {pairs} |");
    let _ = writeln!(md, "| **compiled** by vigil | {compiled} |");
    let _ = writeln!(
        md,
        "| not compiled (every YAML file rejected) | {} |",
        pairs - compiled
    );
    let _ = writeln!(
        md,
        "| compiled only to the other kind (rule vs saved search), skipped | {} |",
        kind_mismatch.len()
    );
    let _ = writeln!(md, "| **compared** | {compared} |");
    for (rank, n) in &used_from {
        let _ = writeln!(
            md,
            "| compared with the YAML file from {} | {n} |",
            PLACEMENTS[*rank]
        );
    }
    md.push('\n');
    let _ = writeln!(
        md,
        "## Method\n\n\
         - YAML files are tried in order: those with the same id before those with the same name; \
         within each, the file in the package's own folder first, then files of the package's \
         snapshot; files of other snapshots (other versions of the content) only when the \
         package's snapshot has none. Each is compiled on its own, with the default configuration. \
         Of the files that compile to the published kind (rule or saved search), the one whose \
         query shares the most lines with the published query is used (among equals, the \
         earlier).\n\
         - The published resource is found by (type, name), else by type and displayName.\n\
         - `@type`, `@kind` and `@apiVersion` are the resource envelope; every other field is under \
         `properties`. Objects are compared key by key (`a.b`), except `customDetails`; arrays as \
         whole values. Saved-search `tags` are compared by tag name (`tags.description`, ...).\n\
         - Normalisation: absent, null, `[]` and `{{}}` are the same; `query` and `description` \
         texts compare with line endings normalised and surrounding whitespace trimmed; \
         `tactics`, `techniques`, `subTechniques` (and the comma-separated tags of the same names) \
         compare as sets; object key order never matters.\n\
         - A published value that is (or holds) an ARM expression (`[...]`) counts as \
         *parameterised* and is not compared.\n"
    );
    let open: Vec<_> = examples
        .iter()
        .filter(|((ty, field, _), _)| reason_for(&list, ty, field).is_none())
        .collect();
    if !open.is_empty() {
        let _ = writeln!(
            md,
            "## Unexplained differences\n\nThe test fails until vigil is fixed or a reason is listed.\n\n\
             | type | field | outcome | pairs | e.g. |\n|---|---|---|---:|---|"
        );
        for ((ty, field, outcome), (n, ex)) in open {
            let _ = writeln!(
                md,
                "| {ty} | `{field}` | {} | {n} | `{}`: vigil {}, published {} |",
                outcome.label(),
                ex.yaml,
                short(&ex.vigil).replace('|', "\\|"),
                short(&ex.published).replace('|', "\\|")
            );
        }
        md.push('\n');
    }
    if !missing.is_empty() {
        let _ = writeln!(
            md,
            "## Published resource not found\n\n| template | type | displayName |\n|---|---|---|"
        );
        for l in &missing {
            let _ = writeln!(md, "{l}");
        }
        md.push('\n');
    }
    if !not_compiled.is_empty() {
        not_compiled.sort();
        let _ = writeln!(md, "## Not compiled\n\n| type | displayName | YAML files tried: error codes |\n|---|---|---|");
        for l in &not_compiled {
            let _ = writeln!(md, "{l}");
        }
        md.push('\n');
    }
    if !fallbacks.is_empty() {
        fallbacks.sort();
        let _ = writeln!(
            md,
            "## Compared with a later file because an earlier one was rejected\n\n\
             | type | displayName | rejected: error codes | used |\n|---|---|---|---|"
        );
        for l in &fallbacks {
            let _ = writeln!(md, "{l}");
        }
        md.push('\n');
    }
    if !kind_mismatch.is_empty() {
        kind_mismatch.sort();
        let _ = writeln!(md, "## Compiled only to the other kind\n\n| type | displayName | YAML (vigil type) |\n|---|---|---|");
        for l in &kind_mismatch {
            let _ = writeln!(md, "{l}");
        }
        md.push('\n');
    }
    for (ty, fields) in &stats {
        let _ = writeln!(md, "## `{ty}` ({} pairs)\n", compared_per_type[ty]);
        let _ = writeln!(
            md,
            "| field | equal | different | only vigil | only published | parameterised | reason |\n\
             |---|---:|---:|---:|---:|---:|---|"
        );
        for (field, c) in fields {
            let differs = c.0[1] + c.0[2] + c.0[3] > 0;
            let reason = if differs {
                reason_for(&list, ty, field)
                    .map(|(_, r)| r.replace('|', "\\|"))
                    .unwrap_or_else(|| "**unexplained**".into())
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "| `{field}` | {} | {} | {} | {} | {} | {reason} |",
                c.0[0], c.0[1], c.0[2], c.0[3], c.0[4]
            );
        }
        md.push('\n');
    }
    let md = md.trim_end().to_string() + "\n";

    eprintln!("arm_compare: {pairs} pairs found, {compiled} compiled, {compared} compared");
    let report_path = common::manifest_dir().join(REPORT);
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&report_path, &md).unwrap();
    }
    assert!(
        unexplained.is_empty(),
        "fields differ from the published ARM templates without a reason in {DIFFERENCES}; fix \
         vigil or add `resource_type<TAB>field<TAB>reason` lines:\n{unexplained}"
    );
    assert!(
        stale.is_empty(),
        "{DIFFERENCES} lists differences that no longer occur; remove them:\n{}",
        stale.join("\n")
    );
    let committed = std::fs::read_to_string(&report_path).unwrap_or_default();
    assert!(
        committed == md,
        "{REPORT} is out of date; review the change and regenerate it with \
         `VIGIL_BLESS=1 cargo test --test arm_compare`:\n{}",
        diff(&committed, &md)
    );
}

fn diff(old: &str, new: &str) -> String {
    let o: BTreeSet<&str> = old.lines().collect();
    let n: BTreeSet<&str> = new.lines().collect();
    let mut s = String::new();
    for l in o.difference(&n) {
        let _ = writeln!(s, "- {l}");
    }
    for l in n.difference(&o) {
        let _ = writeln!(s, "+ {l}");
    }
    s
}
