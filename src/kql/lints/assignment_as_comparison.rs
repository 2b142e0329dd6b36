//! KQL306 `assignment_as_comparison`
//!
//! **What it does:** flags `=` after `where`/`filter` (`where a = "x"`).
//!
//! **Why:** Kusto parses `where a = "x"` as a *named* predicate whose value is the string
//! `"x"`: the query fails to bind (the predicate must be a bool, KQL208) or, with a bool on the
//! right, silently ignores `a`. It is a frequent slip in generated queries; `==` says what is
//! meant.
//!
//! **Example:** `where ActingProcessName = "cmd.exe"` → `where ActingProcessName == "cmd.exe"`.

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::ast::OpKind;
use crate::kql::syntax::{NodeKind, TokenKind};

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    cx.nodes()
        .into_iter()
        .filter(|&id| cx.kind(id) == NodeKind::Operator)
        .filter(|&id| cx.operator_kind(id) == Some(OpKind::Where))
        .flat_map(|id| cx.children(id))
        .filter(|&c| cx.kind(c) == NodeKind::Assignment)
        .filter_map(|c| cx.tokens(c).into_iter().find(|t| t.kind == TokenKind::Eq))
        .map(|op| {
            Finding::new(
                code::KQL_ASSIGNMENT_AS_COMPARISON,
                op.start,
                op.end(),
                "`=` after `where` names the predicate instead of comparing; write `==`",
            )
            .with_hint("use `==` (or `=~` for a case-insensitive comparison)")
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
                .any(|f| f.code.as_str() == "KQL306")
        };
        assert!(flagged("T | where a = 'x'"));
        assert!(!flagged(
            "T | where a == 'x' | extend b = 1 | summarize c = count() by d = e"
        ));
    }
}
