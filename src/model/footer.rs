//! The provenance footer appended to deployed descriptions, so an analyst in the portal sees
//! who or what drafted an item and who approved it.

use super::{Origin, Provenance, Review};

/// The footer text (starting with a blank line), or `None` when there is nothing to say.
pub fn footer(provenance: Option<&Provenance>, review: Option<&Review>) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(p) = provenance {
        match p.origin {
            Origin::Ai => {
                let mut s = String::from("AI-drafted");
                if let Some(m) = &p.model {
                    s.push_str(&format!(" by {m}"));
                    if let Some(v) = &p.model_version {
                        s.push_str(&format!(" {v}"));
                    }
                }
                if let Some(g) = &p.generated_at {
                    s.push_str(&format!(" on {}", g.get(..10).unwrap_or(g)));
                }
                parts.push(s);
            }
            Origin::Imported => parts.push("Imported".into()),
            Origin::Tuned => parts.push("Tuned from incident outcomes".into()),
            Origin::Human => parts.push("Written by a human".into()),
        }
    }
    if let Some(r) = review {
        let mut s = format!("approved by {}", r.approved_by.to_vec().join(", "));
        if let Some(at) = &r.approved_at {
            s.push_str(&format!(" on {}", at.get(..10).unwrap_or(at)));
        }
        s.push_str(&format!(
            " (query {})",
            r.query_sha256.get(..12).unwrap_or(&r.query_sha256)
        ));
        parts.push(s);
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("\n\n[vigil] {}.", parts.join("; ")))
}
