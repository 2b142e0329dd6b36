//! Validation: Sentinel's limits per definition, repository-wide uniqueness, and the seam where
//! KQL analysis plugs in.
//!
//! Stage entries: [`check_definition`] (one definition, while its YAML tree is at hand) and
//! [`repo_checks`] (across definitions). Output: diagnostics. Pure: no IO.

pub mod entities;
pub mod kql;
pub mod limits;
pub mod policy;
pub mod text;

use std::collections::BTreeMap;

use crate::diagnostics::{code, Diagnostic, Severity};
use crate::model::{ContentKind, Definition, Item, RuleKind};
use crate::yaml::Node;

/// Analysis of a definition's KQL query. The KQL front end implements it; validation calls it
/// for every query with the YAML node the query came from, so positions map back into the file.
pub trait QueryAnalyzer: Sync {
    /// `source` is the text of the definition's file; `node` the YAML node of the query.
    fn analyze(&self, def: &Definition, source: &str, query: &str, node: &Node) -> Vec<Diagnostic>;
}

/// What validation needs besides the definitions.
pub struct Context<'a> {
    /// Environment names from vigil.toml (empty: any name is accepted).
    pub environments: Vec<String>,
    /// KQL analysis, when enabled.
    pub analyzer: Option<&'a dyn QueryAnalyzer>,
    /// `[policy]` from vigil.toml.
    pub policy: &'a crate::config::Policy,
}

/// The checks of one definition on its own (limits, provenance, KQL). Needs its YAML tree.
pub fn check_definition(d: &Definition, source: &str, ctx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = limits::check(d, &ctx.environments);
    out.extend(policy::check(d, ctx.policy));
    out.extend(text::check(&d.doc));
    if let (Some(a), Some(q), Some(node)) = (ctx.analyzer, d.query(), d.doc.get("query")) {
        out.extend(a.analyze(d, source, q, node));
    }
    out
}

/// The Sentinel resource type a definition deploys to: ids must be unique per type.
fn resource_type(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Rule => "alertRules",
        ContentKind::Hunt | ContentKind::Function => "savedSearches",
        ContentKind::Anomaly => "securityMLAnalyticsSettings",
        ContentKind::Watchlist => "watchlists",
    }
}

/// Whether two definitions are identical copies (same kind, name and query or body).
fn identical(a: &Definition, b: &Definition) -> bool {
    a.kind() == b.kind() && a.item == b.item
}

/// Checks across files: unique ids per resource type, unique rule names, the NRT rule cap.
/// Uses only the key spans, so it works on definitions whose trees were released.
pub fn repo_checks(defs: &[Definition]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut ids: BTreeMap<(&'static str, String), &Definition> = BTreeMap::new();
    let mut names: BTreeMap<(ContentKind, String), &Definition> = BTreeMap::new();
    let mut aliases: BTreeMap<(ContentKind, String), &Definition> = BTreeMap::new();
    let mut nrt: Vec<&Definition> = Vec::new();
    for d in defs {
        if let Some(id) = d.id() {
            let key = (resource_type(d.kind()), id.to_ascii_lowercase());
            match ids.get(&key) {
                Some(first) if identical(first, d) => diags.push(
                    Diagnostic::new(
                        code::DUPLICATE_ID,
                        d.spans.id,
                        format!("this file is an identical copy of {}; it is deployed once", first.path.display()),
                    )
                    .with_severity(Severity::Warning)
                    .with_related(first.spans.id, "the same definition")
                    .with_hint("delete one of the copies"),
                ),
                Some(first) => diags.push(
                    Diagnostic::new(
                        code::DUPLICATE_ID,
                        d.spans.id,
                        format!(
                            "id `{id}` is already used by {}, with different content: one would overwrite the other",
                            first.path.display()
                        ),
                    )
                    .with_related(first.spans.id, "first used here")
                    .with_hint("each definition needs its own GUID: the id is its resource name"),
                ),
                None => {
                    ids.insert(key, d);
                }
            }
        }
        let name_key = (d.kind(), d.name().trim().to_lowercase());
        match names.get(&name_key) {
            Some(first) if !identical(first, d) => {
                // Sentinel identifies rules by id and accepts repeated display names (Microsoft's
                // own content repeats some); two rules of one name only confuse analysts.
                let severity = Severity::Warning;
                diags.push(
                    Diagnostic::new(
                        code::DUPLICATE_NAME,
                        d.spans.name,
                        format!(
                            "another {} is already named `{}` ({})",
                            d.kind().as_str(),
                            d.name(),
                            first.path.display()
                        ),
                    )
                    .with_severity(severity)
                    .with_related(first.spans.name, "first named here"),
                )
            }
            Some(_) => {}
            None => {
                names.insert(name_key, d);
            }
        }
        let alias = match &d.item {
            Item::Function(f) => Some(f.function_alias.to_lowercase()),
            Item::Watchlist(w, _) => Some(w.alias.to_lowercase()),
            _ => None,
        };
        if let Some(alias) = alias {
            let k = (d.kind(), alias.clone());
            match aliases.get(&k) {
                Some(first) => diags.push(
                    Diagnostic::new(
                        code::DUPLICATE_NAME,
                        d.spans.alias,
                        format!(
                            "alias `{alias}` is already used by {}",
                            first.path.display()
                        ),
                    )
                    .with_related(first.spans.alias, "first used here"),
                ),
                None => {
                    aliases.insert(k, d);
                }
            }
        }
        if let Item::Rule(r) = &d.item {
            if r.kind == RuleKind::Nrt {
                nrt.push(d);
            }
        }
    }
    if nrt.len() > 50 {
        let d = nrt[50];
        diags.push(
            Diagnostic::new(
                code::TOO_MANY_NRT,
                d.spans.kind,
                format!("{} NRT rules; Sentinel allows 50 per workspace", nrt.len()),
            )
            .with_hint(
                "turn the least urgent NRT rules into Scheduled rules running every 5 minutes",
            ),
        );
    }
    diags
}
