//! KQL306 `assignment_as_comparison`
//!
//! **What it does:** flags `=` used to compare in an expression (`where a = "x"`).
//!
//! **Why:** Kusto accepts a single `=` as equality, but it reads like an assignment and is a
//! frequent slip in generated queries; `==` says what is meant.
//!
//! **Example:** `where ActingProcessName = "cmd.exe"` → `where ActingProcessName == "cmd.exe"`.

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::syntax::{NodeKind, TokenKind};

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    cx.nodes()
        .into_iter()
        .filter(|&id| cx.kind(id) == NodeKind::Binary)
        .filter_map(|id| cx.binary_operator(id))
        .filter(|op| op.kind == TokenKind::Eq)
        .map(|op| {
            Finding::new(
                code::KQL_ASSIGNMENT_AS_COMPARISON,
                op.start,
                op.end(),
                "`=` compares here; write `==`",
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
