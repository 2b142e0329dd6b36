//! KQL304 `hunt_without_time_filter`
//!
//! **What it does:** flags hunting queries that never restrict time (no `ago()`, no time
//! placeholder, no comparison on `TimeGenerated` or `Timestamp`).
//!
//! **Why:** without a filter a hunt reads the whole retention period when it runs outside the
//! portal's time picker (API, notebooks, scheduled exports), which is slow and expensive.
//!
//! **Example:** `SecurityEvent | where EventID == 4688` →
//! `SecurityEvent | where TimeGenerated > ago(7d) | where EventID == 4688`.

use super::{Finding, LintContext, QueryUse};
use crate::diagnostics::code;
use crate::kql::ast::OpKind;
use crate::kql::syntax::NodeKind;

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    if cx.usage != QueryUse::Hunt {
        return Vec::new();
    }
    let mut filtered = false;
    for id in cx.nodes() {
        if cx.is_time_expression(id) {
            filtered = true;
        }
        if cx.kind(id) == NodeKind::Operator
            && cx.operator_kind(id) == Some(OpKind::Where)
            && cx.nodes_under(id).into_iter().any(|n| cx.is_time_column(n))
        {
            filtered = true;
        }
        if filtered {
            return Vec::new();
        }
    }
    let end = cx.text.trim_end().len() as u32;
    vec![Finding::new(
        code::KQL_HUNT_NO_TIME_FILTER,
        0,
        end.min(cx.text.find('\n').map(|i| i as u32).unwrap_or(end)),
        "this hunting query never filters on time",
    )
    .with_hint(
        "add `| where TimeGenerated > ago(7d)` (or the window you hunt in) early in the query",
    )]
}

#[cfg(test)]
mod tests {
    use super::super::{lint, QueryUse};

    #[test]
    fn pass_and_fail() {
        let flagged = |q: &str, u| lint(q, u).iter().any(|f| f.code.as_str() == "KQL304");
        assert!(flagged(
            "SecurityEvent | where EventID == 4688",
            QueryUse::Hunt
        ));
        assert!(!flagged(
            "SecurityEvent | where EventID == 4688",
            QueryUse::Rule
        ));
        assert!(!flagged(
            "SecurityEvent | where TimeGenerated > ago(7d)",
            QueryUse::Hunt
        ));
        assert!(!flagged(
            "let lookback = 7d; T | where Timestamp between (now(-lookback) .. now())",
            QueryUse::Hunt
        ));
        assert!(!flagged("T | where TimeGenerated between (todatetime('{{StartTimeISO}}') .. todatetime('{{EndTimeISO}}'))", QueryUse::Hunt));
    }
}
