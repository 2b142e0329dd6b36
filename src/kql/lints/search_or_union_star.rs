//! KQL301 `search_or_union_star`
//!
//! **What it does:** flags `search *` and `union *`.
//!
//! **Why:** Sentinel rejects analytics rules whose query contains `search *` or `union *`; in
//! hunts they scan every table of the workspace, which is slow and costly.
//!
//! **Example:** `union * | where Account == "x"` → name the tables: `union SigninLogs, AuditLogs`.

use super::{Finding, LintContext, QueryUse};
use crate::diagnostics::{code, Severity};
use crate::kql::ast::{OpKind, Union, UnionLeg};
use crate::kql::syntax::NodeKind;

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in cx.nodes() {
        if cx.kind(id) != NodeKind::Operator {
            continue;
        }
        let Some(kw) = cx.operator_keyword(id) else {
            continue;
        };
        if !matches!(cx.operator_kind(id), Some(OpKind::Search | OpKind::Union)) {
            continue;
        }
        let is_star = |n: u32| cx.tokens(n).len() == 1 && cx.text_of(cx.tokens(n)[0]) == "*";
        // `union`: a leg that is `*` (not a `*` inside a leg's own query); `search`: its
        // table scope.
        let star = match cx.operator(id).and_then(Union::cast) {
            Some(u) => u.legs().into_iter().find_map(|leg| match leg {
                UnionLeg::Pattern(n) if is_star(n) => Some(n),
                _ => None,
            }),
            None => cx
                .nodes_under(id)
                .into_iter()
                .find(|&n| cx.kind(n) == NodeKind::Wildcard && is_star(n)),
        };
        if let Some(s) = star {
            let (start, _) = cx.range(id);
            let (_, end) = cx.range(s);
            out.push(Finding {
                severity: (cx.usage != QueryUse::Rule).then_some(Severity::Warning),
                code: code::KQL_SEARCH_STAR,
                start,
                end,
                message: if cx.usage == QueryUse::Rule {
                    format!("Sentinel rejects rules that use `{kw} *`")
                } else {
                    format!("`{kw} *` scans every table of the workspace")
                },
                hint: Some("name the tables the query needs".into()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{lint, QueryUse};

    #[test]
    fn pass_and_fail() {
        for q in [
            "union SigninLogs, AuditLogs | take 1",
            "search in (SigninLogs) \"x\"",
            "T | project a, b",
            // A `*` inside a leg's own query is not `union *`.
            "union (SigninLogs | project-keep *), AuditLogs",
            // Two published Azure-Sentinel rules (TimeSeriesAnomaly-MultiVendor_DataExfiltration).
            "union isfuzzy=true (T | summarize arg_max(TimeGenerated, *) by x), U",
        ] {
            assert!(
                lint(q, QueryUse::Rule)
                    .iter()
                    .all(|f| f.code.as_str() != "KQL301"),
                "{q}"
            );
        }
        for q in ["union * | where x == 1", "search * | take 1", "T | union *"] {
            assert!(
                lint(q, QueryUse::Rule)
                    .iter()
                    .any(|f| f.code.as_str() == "KQL301"),
                "{q}"
            );
        }
    }
}
