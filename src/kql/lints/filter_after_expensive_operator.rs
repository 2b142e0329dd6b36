//! KQL308 `filter_after_expensive_operator`
//!
//! **What it does:** flags a time filter (`where TimeGenerated > ago(1d)`, a `between` on an
//! event-time column, a `{{placeholder}}`) that comes after an expensive operator (`join`,
//! `lookup`, `mv-expand`, `mv-apply`, `parse`, `parse-kv`, `sort`) in the same pipeline, when
//! no time filter comes before it. Only operators that keep the table's rows' columns and whose
//! result does not depend on which rows come in count: a time filter after `summarize`, `top`
//! or `serialize` may mean something else, so it is not flagged.
//!
//! **Why:** Kusto runs the operators in order: the expensive one reads every row of the table's
//! retention before the time filter throws most of them away. Generated queries often add the
//! time filter last. Filtering first gives the same result (the filter is on a column of the
//! table) and reads a fraction of the data; in rules it is the difference between a query that
//! finishes and one that times out.
//!
//! **Example:** `SecurityEvent | mv-expand d = parse_json(EventData) | where TimeGenerated >
//! ago(1d)` → `SecurityEvent | where TimeGenerated > ago(1d) | mv-expand d = parse_json(EventData)`.

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::ast::OpKind;
use crate::kql::syntax::NodeKind;

const EXPENSIVE: &[OpKind] = &[
    OpKind::Join,
    OpKind::Lookup,
    OpKind::MvExpand,
    OpKind::MvApply,
    OpKind::Parse,
    OpKind::ParseKv,
    OpKind::Sort,
];

/// The event-time columns a `where` operator bounds by an absolute time (`ago()`, `now()`, a
/// `datetime(...)` literal, a `{{placeholder}}`); empty when it is not such a filter (a
/// correlation window such as `T1 between (T0 .. T0 + 5s)` is not).
fn time_filter_columns<'a>(cx: &LintContext<'a>, op: u32) -> Vec<&'a str> {
    if cx.operator_kind(op) != Some(OpKind::Where) {
        return Vec::new();
    }
    let nodes = cx.nodes_under(op);
    let anchored = nodes.iter().any(|&n| match cx.kind(n) {
        NodeKind::Call => cx.call_name(n).is_some_and(|f| f == "ago" || f == "now"),
        NodeKind::Literal => cx.is_time_expression(n),
        _ => false,
    });
    if !anchored {
        return Vec::new();
    }
    nodes
        .iter()
        .filter(|n| cx.is_time_column(**n))
        .filter_map(|n| cx.tokens(*n).first().map(|t| cx.text_of(*t)))
        .collect()
}

/// Whether the operator names `column` (it may create or replace it); for `join` and
/// `lookup`, in their `on` clause only (the right side's own columns do not matter).
fn mentions(cx: &LintContext<'_>, op: u32, column: &str) -> bool {
    let scope: Vec<u32> = match cx.operator(op).and_then(crate::kql::ast::Join::cast) {
        // The `on` conditions, as the binder and the engine read them.
        Some(join) => join
            .on()
            .into_iter()
            .flat_map(|c| cx.nodes_under(c))
            .collect(),
        None => cx.nodes_under(op),
    };
    scope.into_iter().any(|n| {
        cx.kind(n) == NodeKind::Name
            && cx
                .tokens(n)
                .first()
                .is_some_and(|t| cx.text_of(*t) == column)
    })
}

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in cx.nodes() {
        if cx.kind(id) != NodeKind::Pipeline {
            continue;
        }
        let kids = cx.children(id);
        // Only pipelines that read a table or a let-bound name directly.
        if !kids.first().is_some_and(|s| cx.kind(*s) == NodeKind::Name) {
            continue;
        }
        let mut expensive: Option<(u32, &str)> = None;
        for &op in &kids[1..] {
            if cx.kind(op) != NodeKind::Operator {
                continue;
            }
            let columns = time_filter_columns(cx, op);
            if !columns.is_empty() {
                // The expensive operator must not create or replace the filtered column.
                let movable = |e: u32| !columns.iter().any(|c| mentions(cx, e, c));
                if let Some((e, kw)) = expensive.filter(|(e, _)| movable(*e)) {
                    let (start, end) = cx.range(op);
                    let (e_start, _) = cx.range(e);
                    out.push(
                        Finding::new(
                            code::KQL_FILTER_AFTER_EXPENSIVE,
                            start,
                            end.min(start + 80),
                            format!("this time filter runs after `{kw}`, which reads every row of the table first"),
                        )
                        .with_hint(format!(
                            "move the time filter before `{kw}` (byte {e_start}): same result, a fraction of the rows read"
                        )),
                    );
                }
                // A filter before any expensive operator: the pipeline is bounded.
                break;
            }
            if expensive.is_none() && cx.operator_kind(op).is_some_and(|k| EXPENSIVE.contains(&k)) {
                expensive = cx.operator_keyword(op).map(|kw| (op, kw));
            }
        }
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
                .any(|f| f.code.as_str() == "KQL308")
        };
        assert!(flagged(
            "SecurityEvent | mv-expand d = parse_json(EventData) | where TimeGenerated > ago(1d)"
        ));
        assert!(flagged(
            "SigninLogs | join (AADNonInteractiveUserSignInLogs | where TimeGenerated > ago(1h)) on UserPrincipalName | where TimeGenerated > ago(1h)"
        ));
        assert!(flagged(
            "SigninLogs | parse UserAgent with Browser '/' * | where TimeGenerated between (ago(1d) .. now())"
        ));
        // After summarize or top the filter may mean something else: not flagged.
        assert!(!flagged(
            "SigninLogs | summarize StartTime = min(TimeGenerated) by UserPrincipalName | where StartTime > ago(1d)"
        ));
        assert!(!flagged(
            "SigninLogs | top 10 by TimeGenerated | where TimeGenerated > ago(1d)"
        ));
        // Filtered first: fine, even with a second time filter later.
        assert!(!flagged(
            "SecurityEvent | where TimeGenerated > ago(1d) | mv-expand d = parse_json(EventData) | where TimeGenerated > ago(1h)"
        ));
        // A filter that is not on time, after an expensive operator: not this lint.
        assert!(!flagged(
            "SecurityEvent | summarize c = count() by Account | where c > 10"
        ));
        // A correlation window is not a time filter; a column the operator creates cannot move.
        assert!(!flagged(
            "DeviceNetworkEvents | join kind=inner DeviceLogonEvents on DeviceId | where Timestamp1 between (Timestamp .. datetime_add('second', 5, Timestamp))"
        ));
        assert!(!flagged(
            "S | mv-expand TimeGenerated to typeof(datetime), Total to typeof(double) | where TimeGenerated >= ago(1d)"
        ));
        // Cheap operators before the time filter are fine.
        assert!(!flagged(
            "SecurityEvent | extend a = 1 | project TimeGenerated, a | where TimeGenerated > ago(1d)"
        ));
    }
}
