//! KQL302 `contains_where_has_serves`
//!
//! **What it does:** flags `contains` (and `!contains`) with a literal that is one whole word.
//!
//! **Why:** `has` looks terms up in the index; `contains` scans every value. When the word is
//! meant as a whole term, `has` is much faster (Microsoft's KQL best practices). `contains`
//! also matches inside longer words (`admin` in `badminton`), which is rarely what a detection
//! means.
//!
//! **Example:** `where CommandLine contains "mimikatz"` → `where CommandLine has "mimikatz"`.

use super::{Finding, LintContext};
use crate::diagnostics::code;
use crate::kql::syntax::NodeKind;

pub fn check(cx: &LintContext<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in cx.nodes() {
        if cx.kind(id) != NodeKind::Binary {
            continue;
        }
        let Some(op) = cx.binary_operator(id) else {
            continue;
        };
        let op_text = cx.text_of(op);
        let better = match op_text {
            "contains" => "has",
            "!contains" => "!has",
            "contains_cs" => "has_cs",
            "!contains_cs" => "!has_cs",
            _ => continue,
        };
        let Some(rhs) = cx.children(id).into_iter().nth(1) else {
            continue;
        };
        let Some((value, _, _)) = cx.string_value(rhs) else {
            continue;
        };
        if value.len() >= 3 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            out.push(
                Finding::new(
                    code::KQL_CONTAINS_HAS,
                    op.start,
                    op.end(),
                    format!(
                        "`{op_text} \"{value}\"` scans every value; `{better}` uses the term index"
                    ),
                )
                .with_hint(format!(
                    "use `{better}` if you mean the whole word `{value}`"
                )),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{lint, QueryUse};

    #[test]
    fn pass_and_fail() {
        let has = |q: &str| {
            lint(q, QueryUse::Hunt)
                .iter()
                .any(|f| f.code.as_str() == "KQL302")
        };
        assert!(has("T | where CommandLine contains \"mimikatz\""));
        assert!(has("T | where CommandLine !contains 'psexec'"));
        assert!(!has("T | where CommandLine has \"mimikatz\""));
        assert!(!has("T | where Path contains \"\\\\temp\\\\\""));
        assert!(!has("T | where Url contains \"a.b\""));
        assert!(!has("T | where x contains y"));
    }
}
