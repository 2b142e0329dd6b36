//! KQL307 `cross_resource_query`
//!
//! **What it does:** flags queries that read outside the workspace: `workspace()`, `app()`,
//! `resource()`, `adx()`, `cluster()`, `database()` and `externaldata`.
//!
//! **Why:** data from other workspaces or from URLs is outside the repository's review: an
//! AI-drafted rule that pulls a URL can change behaviour without a commit. NRT rules cannot
//! query other workspaces at all. Allow what you trust with `[policy] cross_resource` in
//! vigil.toml (validation drops the finding for allowed references).
//!
//! **Example:** `externaldata(ip:string)["https://example.org/list.csv"]` → keep the list in a
//! watchlist (`_GetWatchlist('BadIPs')`).

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::refs;

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    refs::external_references(cx.text, cx.tree)
        .into_iter()
        .map(|r| {
            let what = if r.kind == "externaldata" {
                "`externaldata`".to_string()
            } else {
                format!("`{}()`", r.kind)
            };
            Finding::new(
                code::KQL_CROSS_RESOURCE,
                r.start,
                r.end.min(r.start + 64),
                format!("the query reads outside the workspace with {what}"),
            )
            .with_hint(format!(
                "keep external lists in a watchlist, or allow this source with `cross_resource = [\"{}\"]` under [policy] in vigil.toml",
                r.key()
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{lint, QueryUse};

    #[test]
    fn pass_and_fail() {
        let flagged = |q: &str| {
            lint(q, QueryUse::Rule)
                .iter()
                .any(|f| f.code.as_str() == "KQL307")
        };
        assert!(flagged("workspace('other').SigninLogs | take 1"));
        assert!(flagged(
            "externaldata(ip:string)[@'https://example.org/x.csv'] | take 1"
        ));
        assert!(!flagged("_GetWatchlist('BadIPs') | take 1"));
    }
}
