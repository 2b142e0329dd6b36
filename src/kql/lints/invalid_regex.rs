//! KQL303 `invalid_regex`
//!
//! **What it does:** compiles every literal regular expression (`matches regex`, `extract`,
//! `extract_all`, `replace_regex`, `indexof_regex`, `trim*`) with RE2's own rules
//! ([`crate::re2`]: what RE2 accepts under its default options, with RE2's error text).
//!
//! **Why:** Kusto uses RE2, which has no lookaround and no backreferences; such patterns, and
//! malformed ones (unbalanced groups), fail at run time or never match. AI-written queries often
//! carry PCRE habits.
//!
//! **Example:** `extract(@"(?<=user=)\w+", 0, Msg)` → `extract(@"user=(\w+)", 1, Msg)`.

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::syntax::NodeKind;

/// Functions with a regex argument, and its position.
const REGEX_ARGS: &[(&str, usize)] = &[
    ("extract", 0),
    ("extract_all", 0),
    ("replace_regex", 1),
    ("indexof_regex", 1),
    ("trim", 0),
    ("trim_start", 0),
    ("trim_end", 0),
];

fn check_pattern(pattern: &str, start: u32, end: u32, out: &mut Vec<Finding>) {
    let Err(e) = crate::re2::check(pattern) else {
        return;
    };
    let hint = match e.kind {
        "invalid perl operator" if e.arg.starts_with("(?=") || e.arg.starts_with("(?!") || e.arg.starts_with("(?<") => {
            Some("RE2 has no lookaround: match the context and capture the part you want, e.g. extract(@\"user=(\\w+)\", 1, Msg)")
        }
        "invalid escape sequence" if e.arg.len() == 2 && e.arg.as_bytes()[1].is_ascii_digit() => {
            Some("RE2 has no backreferences; \\0 and three-digit octal escapes name characters")
        }
        _ => None,
    };
    let mut f = Finding::new(
        code::KQL_INVALID_REGEX,
        start,
        end,
        format!("RE2 rejects this regular expression: {e}"),
    );
    if let Some(h) = hint {
        f = f.with_hint(h);
    }
    out.push(f);
}

/// Every literal regular expression of a query: its decoded text and the literal's span.
pub fn regex_literals(cx: &LintContext<'_>) -> Vec<(String, u32, u32)> {
    let mut out = Vec::new();
    for id in cx.nodes() {
        match cx.kind(id) {
            NodeKind::Binary => {
                let Some(op) = cx.binary_operator(id) else {
                    continue;
                };
                if cx.text_of(op) != "matches" {
                    continue;
                }
                if let Some(rhs) = cx.children(id).into_iter().nth(1) {
                    out.extend(cx.string_value(rhs));
                }
            }
            NodeKind::Call => {
                let Some(name) = cx.call_name(id) else {
                    continue;
                };
                let Some(&(_, pos)) = REGEX_ARGS.iter().find(|(n, _)| *n == name) else {
                    continue;
                };
                if let Some(arg) = cx.call_args(id).get(pos) {
                    out.extend(cx.string_value(*arg));
                }
            }
            _ => {}
        }
    }
    out
}

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (p, s, e) in regex_literals(cx) {
        check_pattern(&p, s, e, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{lint, QueryUse};

    #[test]
    fn pass_and_fail() {
        let bad = |q: &str| {
            lint(q, QueryUse::Rule)
                .iter()
                .any(|f| f.code.as_str() == "KQL303")
        };
        assert!(bad(r#"T | extend u = extract(@"(?<=user=)\w+", 0, Msg)"#));
        assert!(bad(r#"T | where Msg matches regex @"(a)\1""#));
        assert!(bad(r#"T | where Msg matches regex "(unclosed""#));
        assert!(bad(r#"T | extend x = replace_regex(Msg, @"[a-", "")"#));
        assert!(!bad(r#"T | extend u = extract(@"user=(\w+)", 1, Msg)"#));
        assert!(!bad(
            r#"T | where Msg matches regex @"^\d{1,3}(\.\d{1,3}){3}$""#
        ));
        assert!(!bad(r#"T | extend s = trim(@"[\s\x27]+", Name)"#));
        // Valid RE2, rejected by other engines: `[` inside a class, `{` without a count.
        assert!(!bad(r#"T | where Msg matches regex @'[[]'"#));
        assert!(!bad(r#"T | where Msg matches regex @'a{,3}'"#));
    }
}
