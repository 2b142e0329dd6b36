//! KQL309 `invisible_character_in_query`
//!
//! **What it does:** flags zero-width characters and bidirectional controls anywhere in the
//! query text: names, string literals, comments.
//!
//! **Why:** the diff a reviewer reads is not what runs ("Trojan Source"): a right-to-left
//! override (U+202E) reorders the text on screen, a zero-width space (U+200B) makes
//! `admin` and `adm\u{200b}in` look the same. A pull request proposing an AI-drafted rule is
//! untrusted input; its query must read as it runs. An error in rules and hunts, a warning in
//! functions and standalone queries.
//!
//! **Example:** `| where Account != "admin\u{202e}nimda"` → remove the control character.

use super::{Finding, LintContext, QueryUse};
use crate::diagnostics::{code, is_invisible, Severity};

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    scan(cx.text, cx.usage)
}

/// The findings of a query text, parsed or not (a zero-width space in a name is also a syntax
/// error, whose message alone would not say why).
pub fn scan(text: &str, usage: QueryUse) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        if !is_invisible(c) {
            continue;
        }
        let start = i as u32;
        let mut f = Finding::new(
            code::KQL_INVISIBLE_CHARACTER,
            start,
            start + c.len_utf8() as u32,
            format!(
                "the query holds an invisible or bidirectional control character (U+{:04X}): what a reviewer reads is not what runs",
                c as u32
            ),
        )
        .with_hint("delete it; a legitimate value can be written with unicode escapes in a string");
        if !matches!(usage, QueryUse::Rule | QueryUse::Hunt) {
            f.severity = Some(Severity::Warning);
        }
        out.push(f);
        if out.len() >= 20 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{lint, QueryUse};

    #[test]
    fn pass_and_fail() {
        let found = |q: &str, u| {
            lint(q, u)
                .iter()
                .filter(|f| f.code.as_str() == "KQL309")
                .map(|f| (f.start, f.severity))
                .collect::<Vec<_>>()
        };
        let bidi = "T | where a != \"admin\u{202e}nimda\"";
        assert_eq!(found(bidi, QueryUse::Rule), vec![(21, None)]);
        assert_eq!(
            found("T | where a == 1 // x\u{200b}y", QueryUse::Other),
            vec![(21, Some(crate::diagnostics::Severity::Warning))]
        );
        assert!(found("T | where a == 'café' // ünïcode is fine", QueryUse::Hunt).is_empty());
    }
}
