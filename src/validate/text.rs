//! VG118: zero-width and bidirectional control characters in a definition's text fields (the
//! query has its own lint, KQL309). Names, ids, aliases, column references and keys are errors;
//! free text (descriptions, alert description formats) is a warning.

use crate::diagnostics::{code, is_invisible, Diagnostic, Severity};
use crate::yaml::{Kind, Node};

/// Keys whose values are free text, where such a character is suspicious but not decisive.
fn free_text(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("description") || k == "alertdescriptionformat"
}

/// VG118 over a definition's YAML tree (the top-level `query` value excepted).
pub fn check(doc: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // Iterative: the tree's depth is bounded by the loader, but nothing here recurses.
    let mut stack: Vec<(&Node, bool, usize)> = vec![(doc, false, 0)];
    while let Some((n, soft, depth)) = stack.pop() {
        if out.len() >= 20 {
            break;
        }
        match &n.kind {
            Kind::Scalar(s) => {
                if let Some(c) = (!s.text.is_ascii())
                    .then(|| s.text.chars().find(|c| is_invisible(*c)))
                    .flatten()
                {
                    let mut d = Diagnostic::new(
                        code::INVISIBLE_CHARACTER,
                        n.span,
                        format!(
                            "this text holds an invisible or bidirectional control character (U+{:04X}): what a reviewer reads is not what deploys",
                            c as u32
                        ),
                    )
                    .with_hint("delete the character");
                    if soft {
                        d.severity = Severity::Warning;
                    }
                    out.push(d);
                }
            }
            Kind::Seq(items) => {
                for i in items.iter().rev() {
                    stack.push((i, soft, depth + 1));
                }
            }
            Kind::Map(entries) => {
                for e in entries.iter().rev() {
                    if let Some(c) = (!e.key.is_ascii())
                        .then(|| e.key.chars().find(|c| is_invisible(*c)))
                        .flatten()
                    {
                        out.push(Diagnostic::new(
                            code::INVISIBLE_CHARACTER,
                            e.key_span,
                            format!(
                                "this key holds an invisible or bidirectional control character (U+{:04X})",
                                c as u32
                            ),
                        ));
                    }
                    if depth == 0 && e.key == "query" {
                        continue; // KQL309
                    }
                    stack.push((&e.value, soft || free_text(&e.key), depth + 1));
                }
            }
        }
    }
    out
}
