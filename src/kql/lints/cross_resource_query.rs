//! KQL307 `cross_resource_query`
//!
//! **What it does:** flags queries that read outside the workspace: `workspace()`, `app()`,
//! `resource()`, `adx()`, `cluster()`, `database()` and `externaldata`.
//!
//! **Why:** data from other workspaces or from URLs is outside the repository's review: an
//! AI-drafted rule that pulls a URL can change behaviour without a commit. NRT rules cannot
//! query other workspaces at all. Allow what you trust with `[lints]` in vigil.toml.
//!
//! **Example:** `externaldata(ip:string)["https://example.org/list.csv"]` → keep the list in a
//! watchlist (`_GetWatchlist('BadIPs')`).

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::syntax::NodeKind;

const CROSS: &[&str] = &["workspace", "app", "resource", "adx", "cluster", "database"];

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in cx.nodes() {
        let what = match cx.kind(id) {
            NodeKind::Call => match cx.call_name(id) {
                Some(n) if CROSS.contains(&n) => format!("`{n}()`"),
                _ => continue,
            },
            NodeKind::Operator => match cx.operator_keyword(id) {
                Some(k @ ("externaldata" | "external_data")) => format!("`{k}`"),
                _ => continue,
            },
            _ => continue,
        };
        let (start, end) = cx.range(id);
        let end = end.min(start + 64);
        out.push(
            Finding::new(
                code::KQL_CROSS_RESOURCE,
                start,
                end,
                format!("the query reads outside the workspace with {what}"),
            )
            .with_hint("keep external lists in a watchlist, or allow this source under [lints] in vigil.toml"),
        );
    }
    out
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
