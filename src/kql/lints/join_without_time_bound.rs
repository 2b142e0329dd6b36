//! KQL305 `join_without_time_bound`
//!
//! **What it does:** flags a `join` or `lookup` whose right side reads a table with no time
//! filter.
//!
//! **Why:** the right side of a join is read in full; without a time bound it scans the
//! table's whole retention, which is slow, costly, and in rules can time out.
//!
//! **Example:** `T | join (SigninLogs | where ResultType == 0) on UserPrincipalName` →
//! `T | join (SigninLogs | where TimeGenerated > ago(1d) | where ResultType == 0) on UserPrincipalName`.

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::ast::Join;
use crate::kql::syntax::NodeKind;

/// Whether a subtree restricts time somewhere.
fn time_bounded(cx: &LintContext<'_>, id: u32) -> bool {
    cx.nodes_under(id)
        .into_iter()
        .any(|n| cx.is_time_expression(n) || cx.is_time_column(n))
}

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in cx.nodes() {
        if cx.kind(id) != NodeKind::Operator {
            continue;
        }
        let Some(kw) = cx.operator_keyword(id) else {
            continue;
        };
        // The right side, as the binder and the engine read it.
        let Some(right) = cx.operator(id).and_then(Join::cast).and_then(|j| j.right()) else {
            continue;
        };
        // Only parenthesised queries: a bare name may be a let-bound, already bounded table.
        if cx.kind(right) != NodeKind::Paren || time_bounded(cx, right) {
            continue;
        }
        let reads_table = cx.nodes_under(right).into_iter().any(|n| {
            cx.kind(n) == NodeKind::Pipeline
                && cx
                    .children(n)
                    .first()
                    .is_some_and(|s| cx.kind(*s) == NodeKind::Name)
        });
        if !reads_table {
            continue;
        }
        let (start, end) = cx.range(right);
        out.push(
            Finding::new(
                code::KQL_JOIN_NO_TIME_BOUND,
                start,
                end.min(start + 80),
                format!("the right side of this {kw} reads its table without a time filter"),
            )
            .with_hint("add `| where TimeGenerated > ago(...)` inside the parentheses"),
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
                .any(|f| f.code.as_str() == "KQL305")
        };
        assert!(flagged(
            "T | join (SigninLogs | where ResultType == 0) on UserPrincipalName"
        ));
        assert!(!flagged(
            "T | join (SigninLogs | where TimeGenerated > ago(1d)) on UserPrincipalName"
        ));
        assert!(!flagged(
            "let s = SigninLogs | where TimeGenerated > ago(1d); T | join s on UserPrincipalName"
        ));
        assert!(!flagged("T | join (datatable(a:string) ['x']) on a"));
    }
}
