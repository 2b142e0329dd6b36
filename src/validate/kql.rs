//! The KQL analysis that `vigil validate` runs on every query: the seam between the KQL front
//! end (which works on query text and byte offsets) and the content model (YAML files). Query
//! offsets are mapped back into the YAML file line by line (`yaml::offsets`).
//!
//! Per query: syntax errors; then, for queries that parse, lints and binding against the
//! catalog (embedded Sentinel tables and functions plus the repository's own functions); for
//! rules, the columns that entity mappings, custom details and alert details override name are
//! checked against the query's result schema.

use super::QueryAnalyzer;
use crate::diagnostics::{code, Diagnostic};
use crate::kql::binder;
use crate::kql::catalog::Catalog;
use crate::kql::{self, lints, lints::QueryUse};
use crate::model::{classify, ContentKind, Definition, Item};
use crate::source::Span;
use crate::workspace::Workspace;
use crate::yaml::{offsets, Node, Seg};

/// Parses, lints and binds each query, and reports at the query's place in the file.
pub struct KqlAnalyzer {
    catalog: Catalog,
    policy: crate::config::Policy,
}

impl Default for KqlAnalyzer {
    fn default() -> Self {
        KqlAnalyzer {
            catalog: Catalog::embedded().clone(),
            policy: crate::config::Policy::default(),
        }
    }
}

impl KqlAnalyzer {
    /// The catalog queries bind against (embedded, `[schemas.tables]`, repository functions and
    /// watchlists).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The embedded catalog plus the workspace functions defined in this repository
    /// (`functions/`), so rules that call them bind.
    pub fn for_workspace(ws: &Workspace) -> KqlAnalyzer {
        KqlAnalyzer::for_workspace_with(ws, &crate::model::load::NoSiblings)
    }

    /// [`KqlAnalyzer::for_workspace`], reading watchlist CSV files through `siblings` so that
    /// `_GetWatchlist('alias')` binds the repository's watchlists with their real columns.
    pub fn for_workspace_with(
        ws: &Workspace,
        siblings: &dyn crate::model::load::SiblingReader,
    ) -> KqlAnalyzer {
        let mut a = KqlAnalyzer {
            policy: ws.config.policy.clone(),
            ..KqlAnalyzer::default()
        };
        a.catalog.watchlists = Some(repo_watchlists(ws, siblings));
        // `[schemas.tables]` in vigil.toml: custom tables, or columns missing from the embedded
        // lists: `MyTable_CL = { Col = "string" }`.
        for (name, cols) in &ws.config.schemas.tables {
            let entry = a.catalog.tables.entry(name.clone()).or_default();
            for (c, t) in cols {
                entry.set(c, crate::kql::catalog::Type::parse(t));
            }
        }
        for &f in &ws.files {
            let src = ws.db.get(f);
            if classify::by_folder(&src.path, &ws.config.content) != Some(ContentKind::Function) {
                continue;
            }
            let parsed = crate::yaml::parse(f, &src.text);
            let Some(root) = parsed.root else { continue };
            let text = |k: &str| {
                root.get(k)
                    .and_then(|n| n.as_scalar())
                    .map(|s| s.text.clone())
            };
            let (Some(alias), Some(query)) = (text("functionAlias"), text("query")) else {
                continue;
            };
            let params: Vec<String> = root
                .get("functionParameters")
                .and_then(|n| n.as_seq())
                .unwrap_or(&[])
                .iter()
                .filter_map(|p| {
                    let name = p.get("name")?.as_scalar()?.text.clone();
                    let ty = p.get("type")?.as_scalar()?.text.clone();
                    Some(match p.get("default").and_then(|d| d.as_scalar()) {
                        Some(d) => format!("{name}:{ty}={}", d.text),
                        None => format!("{name}:{ty}"),
                    })
                })
                .collect();
            // The body binds with its parameters as let-bound names.
            binder::add_saved_function(&mut a.catalog, &alias, &params.join(", "), &query);
        }
        a
    }
}

/// The watchlists a repository defines: lower-case alias → columns (from inline items or the
/// header of the CSV file beside the definition).
fn repo_watchlists(
    ws: &Workspace,
    siblings: &dyn crate::model::load::SiblingReader,
) -> std::collections::HashMap<String, Option<Vec<String>>> {
    let mut out = std::collections::HashMap::new();
    for &f in &ws.files {
        let src = ws.db.get(f);
        if classify::by_folder(&src.path, &ws.config.content) != Some(ContentKind::Watchlist) {
            continue;
        }
        let parsed = crate::yaml::parse(f, &src.text);
        let Some(root) = parsed.root else { continue };
        let text = |k: &str| {
            root.get(k)
                .and_then(|n| n.as_scalar())
                .map(|s| s.text.clone())
        };
        let Some(alias) = text("alias").or_else(|| text("watchlistAlias")) else {
            continue;
        };
        let mut cols: Option<Vec<String>> = None;
        if let Some(items) = root.get("items").and_then(|n| n.as_seq()) {
            let cols = cols.get_or_insert_with(Vec::new);
            for item in items {
                if let crate::yaml::Kind::Map(entries) = &item.kind {
                    for e in entries {
                        if !cols.contains(&e.key) {
                            cols.push(e.key.clone());
                        }
                    }
                }
            }
        } else if let Some(source) = text("source") {
            if let Ok(csv) = siblings.read(&src.path, &source) {
                if let Ok(mut records) = crate::csv::parse(&csv) {
                    if !records.is_empty() {
                        cols = Some(records.remove(0));
                    }
                }
            }
        }
        out.insert(alias.to_ascii_lowercase(), cols);
    }
    out
}

/// Map a query byte range to a file span, or to the whole query node when positions inside
/// the scalar cannot be established.
pub fn map_span(map: Option<&[u32]>, node: &Node, start: u32, end: u32) -> Span {
    match map {
        Some(m) => {
            let s = m[(start as usize).min(m.len() - 1)];
            let e = m[(end as usize).min(m.len() - 1)].max(s);
            Span {
                file: node.span.file,
                start: s,
                end: e,
            }
        }
        None => node.span,
    }
}

/// Columns a rule's settings name, with where they are in the YAML.
fn named_columns(def: &Definition) -> Vec<(String, Vec<Seg<'static>>, &'static str)> {
    let Item::Rule(r) = &def.item else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, m) in r.entity_mappings.iter().flatten().enumerate() {
        for (j, f) in m.field_mappings.iter().enumerate() {
            out.push((
                f.column_name.clone(),
                vec![
                    Seg::from("entityMappings"),
                    Seg::Index(i),
                    Seg::from("fieldMappings"),
                    Seg::Index(j),
                    Seg::from("columnName"),
                ],
                "entity mapping",
            ));
        }
    }
    for (k, v) in r.custom_details.iter().flatten() {
        out.push((
            v.clone(),
            vec![Seg::from("customDetails"), Seg::Key(k.clone().into())],
            "custom detail",
        ));
    }
    if let Some(o) = &r.alert_details_override {
        for (key, val) in [
            ("alertTacticsColumnName", &o.alert_tactics_column_name),
            ("alertSeverityColumnName", &o.alert_severity_column_name),
        ] {
            if let Some(v) = val {
                out.push((
                    v.clone(),
                    vec![Seg::from("alertDetailsOverride"), Seg::from(key)],
                    "alert details override",
                ));
            }
        }
        for (key, val) in [
            ("alertDisplayNameFormat", &o.alert_display_name_format),
            ("alertDescriptionFormat", &o.alert_description_format),
        ] {
            for cap in val.iter().flat_map(|v| placeholders(v)) {
                out.push((
                    cap,
                    vec![Seg::from("alertDetailsOverride"), Seg::from(key)],
                    "alert details placeholder",
                ));
            }
        }
        for (i, p) in o.alert_dynamic_properties.iter().flatten().enumerate() {
            out.push((
                p.value.clone(),
                vec![
                    Seg::from("alertDetailsOverride"),
                    Seg::from("alertDynamicProperties"),
                    Seg::Index(i),
                    Seg::from("value"),
                ],
                "alert dynamic property",
            ));
        }
    }
    for (i, m) in r.sentinel_entities_mappings.iter().flatten().enumerate() {
        out.push((
            m.column_name.clone(),
            vec![
                Seg::from("sentinelEntitiesMappings"),
                Seg::Index(i),
                Seg::from("columnName"),
            ],
            "sentinel entities mapping",
        ));
    }
    out
}

fn placeholders(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        let Some(j) = rest[i + 2..].find("}}") else {
            break;
        };
        out.push(rest[i + 2..i + 2 + j].trim().to_string());
        rest = &rest[i + 2 + j + 2..];
    }
    out
}

impl KqlAnalyzer {
    /// A rule that rolls out as canary anywhere: its scoped query (as compiled) must bind too.
    fn canary_binds(&self, def: &Definition, query: &str) -> Vec<Diagnostic> {
        let Some(rule) = crate::rollout::rule(def) else {
            return Vec::new();
        };
        let Some(scope) = crate::rollout::canary_scope(rule, &self.policy.rollout) else {
            return Vec::new();
        };
        let Some((env, _)) = crate::rollout::declared(def)
            .into_iter()
            .find(|(_, s)| *s == crate::model::Rollout::Canary)
        else {
            return Vec::new();
        };
        let scoped = crate::rollout::scoped_query(query, &scope);
        let parse = kql::parse(&scoped);
        let problem = match parse.errors.first() {
            Some(e) => Some(e.message.clone()),
            // (The canary watchlist not being in the repository is its own note, POL009.)
            None => binder::bind(&scoped, &parse.tree, &self.catalog)
                .errors
                .iter()
                .find(|e| e.kind != binder::BindErrorKind::UnknownWatchlist)
                .map(|e| e.message.clone()),
        };
        problem
            .map(|m| {
                Diagnostic::new(
                    code::CANARY_SCOPE,
                    def.doc
                        .span_at(&super::policy::rollout_path(env.as_deref()), false),
                    format!(
                        "the query scoped to the canary watchlist (`{} in~ (_GetWatchlist('{}'))`) does not bind: {m}",
                        scope.column, scope.watchlist
                    ),
                )
                .with_hint("`vigil debug payload FILE --env ENV` shows the scoped query")
            })
            .into_iter()
            .collect()
    }
}

impl QueryAnalyzer for KqlAnalyzer {
    fn analyze(&self, def: &Definition, source: &str, query: &str, node: &Node) -> Vec<Diagnostic> {
        let parse = kql::parse(query);
        let map = offsets::value_offsets(source, node);
        let usage = match def.kind() {
            ContentKind::Rule => QueryUse::Rule,
            ContentKind::Hunt => QueryUse::Hunt,
            _ => QueryUse::Other,
        };
        if !parse.errors.is_empty() {
            // Invisible characters are reported even when the query does not parse: a
            // zero-width space inside a name is also a syntax error that would not say why.
            let invisible = lints::invisible_characters(query, usage)
                .into_iter()
                .map(|f| {
                    let mut d = Diagnostic::new(
                        f.code,
                        map_span(map.as_deref(), node, f.start, f.end),
                        f.message,
                    );
                    if let Some(s) = f.severity {
                        d.severity = s;
                    }
                    d.hint = f.hint;
                    d
                });
            return parse
                .errors
                .iter()
                .map(|e| {
                    let c = e.kind.code();
                    let mut d = Diagnostic::new(
                        c,
                        map_span(map.as_deref(), node, e.start, e.end),
                        e.message.clone(),
                    );
                    if map.is_none() {
                        d.message = format!("{} (at byte {} of the query)", d.message, e.start);
                    }
                    d
                })
                .chain(invisible)
                .collect();
        }
        let mut findings = lints::run(query, &parse.tree, usage);
        let policy_findings =
            super::policy::query_checks(def, query, &parse.tree, &self.policy, &mut findings);
        findings.extend(policy_findings);
        let mut out: Vec<Diagnostic> = findings
            .into_iter()
            .map(|f| {
                let mut d = Diagnostic::new(
                    f.code,
                    map_span(map.as_deref(), node, f.start, f.end),
                    f.message,
                );
                if let Some(s) = f.severity {
                    d.severity = s;
                }
                d.hint = f.hint;
                d
            })
            .collect();
        // Functions are bound with their parameters when they are called; their bodies alone
        // refer to names they do not define.
        if def.kind() == ContentKind::Function {
            return out;
        }
        let bound = binder::bind(query, &parse.tree, &self.catalog);
        for e in &bound.errors {
            let mut d = Diagnostic::new(
                e.kind.code(),
                map_span(map.as_deref(), node, e.start, e.end),
                e.message.clone(),
            );
            d.hint = e.hint.clone();
            out.push(d);
        }
        // Notes (a watchlist the repository does not define) do not stop the checks below.
        let bound_ok = bound
            .errors
            .iter()
            .all(|e| e.kind == binder::BindErrorKind::UnknownWatchlist);
        if bound_ok {
            out.extend(self.canary_binds(def, query));
        }
        if bound_ok {
            if let Some(result) = bound.result.filter(|r| !r.open) {
                for (col, path, what) in named_columns(def) {
                    if result.get(&col).is_none() {
                        let mut d = Diagnostic::new(
                            code::KQL_RESULT_COLUMN,
                            def.doc.span_at(&path, false),
                            format!("the {what} names `{col}`, which the query does not output"),
                        );
                        let names: Vec<&str> =
                            result.columns.iter().map(|(c, _)| c.as_str()).collect();
                        d.hint = Some(
                            match crate::diagnostics::did_you_mean(&col, names.iter().copied()) {
                                Some(m) => format!(
                                    "did you mean `{m}`? the query outputs: {}",
                                    names.join(", ")
                                ),
                                None => format!("the query outputs: {}", names.join(", ")),
                            },
                        );
                        out.push(d);
                    }
                }
            }
        }
        out
    }
}
