//! KQL303 `invalid_regex`
//!
//! **What it does:** compiles every literal regular expression (`matches regex`, `extract`,
//! `extract_all`, `replace_regex`, `indexof_regex`, `trim*`) with an RE2-compatible engine.
//!
//! **Why:** Kusto uses RE2, which has no lookaround and no backreferences; such patterns, and
//! malformed ones (unbalanced groups), fail at run time or never match. AI-written queries often
//! carry PCRE habits.
//!
//! **Example:** `extract(@"(?<=user=)\w+", 0, Msg)` → `extract(@"user=(\w+)", 1, Msg)`.

use super::{Finding, LintContext};
use crate::diagnostics::{code, Severity};
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
    let pcre_only = ["(?=", "(?!", "(?<=", "(?<!", "(?>"]
        .iter()
        .find(|p| pattern.contains(*p))
        .map(|p| format!("lookaround `{p}`"))
        .or_else(|| {
            let b = pattern.as_bytes();
            (0..b.len().saturating_sub(1))
                .find(|&i| {
                    b[i] == b'\\'
                        && b[i + 1].is_ascii_digit()
                        && b[i + 1] != b'0'
                        && (i == 0 || b[i - 1] != b'\\')
                })
                .map(|i| format!("backreference `{}`", &pattern[i..i + 2]))
        });
    if let Some(what) = pcre_only {
        out.push(
            Finding::new(
                code::KQL_INVALID_REGEX,
                start,
                end,
                format!("Kusto's regex engine (RE2) does not support {what}"),
            )
            .with_hint("rewrite with a capture group, e.g. extract(@\"user=(\\w+)\", 1, Msg)"),
        );
        return;
    }
    if let Err(e) = regex::Regex::new(pattern) {
        let text = e.to_string();
        let msg = text.lines().last().unwrap_or(&text).trim().to_string();
        let mut f = Finding::new(
            code::KQL_INVALID_REGEX,
            start,
            end,
            format!("invalid regular expression: {msg}"),
        );
        // Escape rules differ slightly between engines: report those as warnings.
        if msg.contains("escape") {
            f.severity = Some(Severity::Warning);
            f.hint = Some(
                "escape rules differ slightly between RE2 and vigil's checker; verify in Sentinel"
                    .into(),
            );
        }
        out.push(f);
    }
}

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
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
                    if let Some((p, s, e)) = cx.string_value(rhs) {
                        check_pattern(&p, s, e, &mut out);
                    }
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
                    if let Some((p, s, e)) = cx.string_value(*arg) {
                        check_pattern(&p, s, e, &mut out);
                    }
                }
            }
            _ => {}
        }
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
    }
}
