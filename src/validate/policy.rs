//! `[policy]` checks that need only the definition (and, for the query checks, its syntax
//! tree): complete AI provenance (POL002), allowed models (POL003), allowed cross-resource
//! references (POL004), constructs denied to AI content (POL005), required reviews (POL006) and
//! canary scoping (POL009).
//!
//! Checks that need more than the file — the pull request's reviews (POL010), the base of the
//! change (POL007) and shadow evidence (POL008) — live in `gate`. Pure: no IO.

use crate::config::{Policy, ReviewScope};
use crate::diagnostics::{code, Diagnostic, Severity};
use crate::kql::lints::Finding;
use crate::kql::refs;
use crate::kql::syntax::SyntaxTree;
use crate::model::{ContentKind, Definition, Item, Origin, Rollout};
use crate::rollout;
use crate::yaml::Seg;

/// Whether the definition is AI-governed: drafted by AI, or tuned from AI content (the
/// stricter origin governs).
pub fn is_ai(def: &Definition) -> bool {
    def.provenance().is_some_and(|p| {
        p.origin == Origin::Ai
            || (p.origin == Origin::Tuned
                && p.derived_from
                    .as_ref()
                    .is_some_and(|d| d.origin == Origin::Ai))
    })
}

/// Whether `vigil tune` changed the definition (every tuned change needs a review).
pub fn is_tuned(def: &Definition) -> bool {
    def.provenance().is_some_and(|p| p.origin == Origin::Tuned)
}

/// Whether an allowlist entry (`gpt-5`, or a prefix `gpt-5*`) allows a model.
fn model_allowed(entry: &str, model: &str) -> bool {
    let e = entry.trim().to_ascii_lowercase();
    let m = model.trim().to_ascii_lowercase();
    match e.strip_suffix('*') {
        Some(prefix) => m.starts_with(prefix),
        None => e == m,
    }
}

/// The YAML path of the rollout stage declared for `env` (`None`: the top-level key).
pub fn rollout_path(env: Option<&str>) -> Vec<Seg<'_>> {
    match env {
        Some(e) => vec![
            Seg::from("environments"),
            Seg::from(e),
            Seg::from("rollout"),
        ],
        None => vec![Seg::from("rollout")],
    }
}

/// The per-definition policy checks.
pub fn check(def: &Definition, policy: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let ai = is_ai(def);
    let prov_key = def.doc.span_at(&[Seg::from("provenance")], true);
    if let (true, Some(p)) = (is_tuned(def), def.provenance()) {
        let mut missing = Vec::new();
        if p.generator.as_deref().is_none_or(|s| s.trim().is_empty()) {
            missing.push("generator");
        }
        if p.generated_at
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            missing.push("generated_at");
        }
        if p.sources.as_ref().is_none_or(|s| s.is_empty()) {
            missing.push("sources (the incidents used)");
        }
        if p.derived_from.is_none() {
            missing.push("derived_from (the provenance before tuning)");
        }
        if !missing.is_empty() {
            out.push(
                Diagnostic::new(
                    code::AI_PROVENANCE_INCOMPLETE,
                    prov_key,
                    format!("tuned content must record {} in provenance", missing.join(", ")),
                )
                .with_hint("`vigil tune --write` records them; a hand edit that claims `origin: tuned` must too"),
            );
        }
    }
    // A tuned AI definition is checked against the model that drafted it (an `origin: ai` one
    // is checked below).
    let derived_model = def
        .provenance()
        .filter(|p| p.origin == Origin::Tuned)
        .and_then(|p| p.derived_from.as_ref())
        .filter(|d| d.origin == Origin::Ai)
        .and_then(|d| d.model.as_deref());
    if let Some(m) = derived_model.filter(|m| !m.trim().is_empty()) {
        {
            if !policy.models.is_empty() && !policy.models.iter().any(|e| model_allowed(e, m)) {
                out.push(
                    Diagnostic::new(
                        code::MODEL_NOT_ALLOWED,
                        prov_key,
                        format!("model `{m}` (provenance.derived_from) is not allowed by [policy] models"),
                    )
                    .with_hint(format!("allowed: {}", policy.models.join(", "))),
                );
            }
        }
    }
    if let (true, Some(p)) = (ai && !is_tuned(def), def.provenance()) {
        let mut missing = Vec::new();
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        if blank(&p.model) {
            missing.push("model");
        }
        if blank(&p.model_version) {
            missing.push("model_version");
        }
        if blank(&p.prompt_sha256) {
            missing.push("prompt_sha256");
        }
        if blank(&p.generated_at) {
            missing.push("generated_at");
        }
        if p.sources.as_ref().is_none_or(|s| s.is_empty()) {
            missing.push("sources (at least one)");
        }
        if !missing.is_empty() {
            out.push(
                Diagnostic::new(
                    code::AI_PROVENANCE_INCOMPLETE,
                    prov_key,
                    format!(
                        "AI-drafted content must record {} in provenance",
                        missing.join(", ")
                    ),
                )
                .with_hint("the drafting tool knows them: the model and its version, the SHA-256 of the prompt, when it ran, and the material it used"),
            );
        }
        if let Some(m) = p.model.as_deref().filter(|m| !m.trim().is_empty()) {
            if !policy.models.is_empty() && !policy.models.iter().any(|e| model_allowed(e, m)) {
                out.push(
                    Diagnostic::new(
                        code::MODEL_NOT_ALLOWED,
                        def.doc
                            .span_at(&[Seg::from("provenance"), Seg::from("model")], false),
                        format!("model `{m}` is not allowed by [policy] models"),
                    )
                    .with_hint(format!("allowed: {}", policy.models.join(", "))),
                );
            }
        }
    }
    let needs_review = match policy.review.required_for {
        ReviewScope::Ai => ai || is_tuned(def),
        ReviewScope::All => true,
        ReviewScope::None => false,
    };
    if needs_review && def.review().is_none() {
        let span = if ai || is_tuned(def) {
            prov_key
        } else {
            def.spans.id
        };
        let what = if is_tuned(def) {
            "a change made by `vigil tune`"
        } else if ai {
            "AI-drafted content"
        } else {
            "every definition ([policy.review] required_for = \"all\")"
        };
        let mut hint = String::from(
            "a reviewer approves the pull request on GitHub and is named in review.approved_by",
        );
        if let Some(q) = def.query() {
            hint.push_str(&format!(
                ", with review.query_sha256: {}",
                crate::hash::query_sha256(q)
            ));
        }
        out.push(
            Diagnostic::new(
                code::REVIEW_REQUIRED,
                span,
                format!("{what} needs a review before it can merge"),
            )
            .with_hint(hint),
        );
    }
    if let Item::Rule(r) = &def.item {
        for (env, stage) in rollout::declared(def) {
            if stage != Rollout::Canary {
                continue;
            }
            if rollout::canary_scope(r, &policy.rollout).is_none() {
                out.push(
                    Diagnostic::new(
                        code::CANARY_SCOPE,
                        def.doc.span_at(&rollout_path(env.as_deref()), false),
                        format!(
                            "canary rollout needs an entity mapping of type {} to scope the query by",
                            policy.rollout.canary_entities.join(", ")
                        ),
                    )
                    .with_hint("add such an entity mapping, or set [policy.rollout] canary_entities"),
                );
            }
        }
    }
    out
}

/// Policy checks on a parsed query, in query byte offsets. `lints` are the query's lint
/// findings: those about allowed cross-resource references are dropped.
pub fn query_checks(
    def: &Definition,
    text: &str,
    tree: &SyntaxTree,
    policy: &Policy,
    lints: &mut Vec<Finding>,
) -> Vec<Finding> {
    let ai = is_ai(def);
    let mut out = Vec::new();
    let denied: Vec<refs::Construct> = if ai {
        refs::constructs(text, tree)
            .into_iter()
            .filter(|c| policy.ai_denied.iter().any(|e| c.matches(e)))
            .collect()
    } else {
        Vec::new()
    };
    for c in &denied {
        // An operator and its plugin are reported once, by the most specific spelling.
        if c.kind == refs::ConstructKind::Operator
            && denied
                .iter()
                .any(|p| p.kind == refs::ConstructKind::Plugin && p.start == c.start)
        {
            continue;
        }
        out.push(
            Finding::new(
                code::DENIED_CONSTRUCT,
                c.start,
                c.end.min(c.start + 64),
                format!(
                    "AI-drafted content may not use `{}` ([policy] ai_denied)",
                    c.spelling()
                ),
            )
            .with_hint("rewrite without it, or have a human take over the definition (provenance.origin: human)"),
        );
    }
    for r in refs::external_references(text, tree) {
        if policy.cross_resource.iter().any(|e| r.allowed_by(e)) {
            lints.retain(|f| !(f.code == code::KQL_CROSS_RESOURCE && f.start == r.start));
            continue;
        }
        if ai && !denied.iter().any(|c| c.start == r.start) {
            out.push(
                Finding::new(
                    code::CROSS_RESOURCE_NOT_ALLOWED,
                    r.start,
                    r.end.min(r.start + 64),
                    format!(
                        "AI-drafted content reads `{}`, which [policy] cross_resource does not allow",
                        r.key()
                    ),
                )
                .with_hint(format!(
                    "if the team trusts it, add \"{}\" to [policy] cross_resource",
                    r.key()
                )),
            );
        }
    }
    out
}

/// Checks across definitions: the canary watchlist should be defined in the repository when a
/// rule rolls out as canary (a note: it may be managed in the workspace directly).
pub fn repo_checks(defs: &[Definition], policy: &Policy) -> Vec<Diagnostic> {
    let alias = &policy.rollout.canary_watchlist;
    let defined = defs.iter().any(|d| {
        d.kind() == ContentKind::Watchlist && d.resource_name().eq_ignore_ascii_case(alias)
    });
    if defined {
        return Vec::new();
    }
    let mut out = Vec::new();
    for d in defs.iter().filter(|d| d.kind() == ContentKind::Rule) {
        if let Some((env, _)) = rollout::declared(d)
            .into_iter()
            .find(|(_, s)| *s == Rollout::Canary)
        {
            // Trees may have been released (compile): fall back to the id's span.
            let mut span = d.doc.span_at(&rollout_path(env.as_deref()), false);
            if span.file != d.file {
                span = d.spans.id;
            }
            out.push(
                Diagnostic::new(
                    code::CANARY_SCOPE,
                    span,
                    format!(
                        "the canary watchlist `{alias}` is not defined in this repository; the rule matches no entity unless the workspace has it"
                    ),
                )
                .with_severity(Severity::Note)
                .with_hint("add watchlists/<name>.yaml with that alias, or set [policy.rollout] canary_watchlist"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_allowlist_entries() {
        assert!(model_allowed("gpt-5", "GPT-5"));
        assert!(model_allowed("gpt-5*", "gpt-5-mini"));
        assert!(!model_allowed("gpt-5", "gpt-5-mini"));
        assert!(!model_allowed("claude*", "gpt-5"));
    }
}
