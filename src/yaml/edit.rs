//! Targeted edits of a YAML document's text: set the value at a path of block-mapping keys,
//! keeping every other byte (comments, order, quoting) as it was. Used where vigil writes a
//! change back into git (the guard's demotions). Flow-style mappings on the path are refused.

use super::{parse, Kind, Node};
use crate::source::FileId;

/// A value to write: a scalar (already YAML text, e.g. `shadow`, `false`, `'30d'`) or a
/// mapping of such entries.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(String),
    Map(Vec<(String, Value)>),
}

fn is_null(s: &super::Scalar) -> bool {
    s.text.is_empty() || s.text == "~" || s.text == "null"
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..]
        .find('\n')
        .map(|i| at + i + 1)
        .unwrap_or(text.len())
}

fn render(key: &str, v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Scalar(s) => out.push_str(&format!("{pad}{key}: {s}\n")),
        Value::Map(entries) => {
            out.push_str(&format!("{pad}{key}:\n"));
            for (k, v) in entries {
                render(k, v, indent + 2, out);
            }
        }
    }
}

/// The last byte of a node's own text (block scalars and maps may end with line breaks).
fn node_end(text: &str, n: &Node) -> usize {
    let mut end = (n.span.end as usize).min(text.len());
    while end > n.span.start as usize && text.as_bytes()[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// Set `path` + `key` to `value` in a YAML document; missing mappings on the path are created.
pub fn set(text: &str, path: &[&str], key: &str, value: &Value) -> Result<String, String> {
    let mut text = text.to_string();
    // Create the missing mappings on the path one level at a time.
    for depth in 0..=path.len() {
        let parsed = parse(FileId(0), &text);
        if let Some(d) = parsed.diagnostics.iter().find(|d| d.is_error()) {
            return Err(format!("the file is not valid YAML: {}", d.message));
        }
        let Some(root) = parsed.root else {
            return Err("the file is empty".into());
        };
        // Walk to the deepest existing mapping on the path.
        let mut node = &root;
        let mut key_col = 0usize;
        let mut key_line_end = 0usize;
        let mut missing = None;
        for (i, seg) in path.iter().enumerate() {
            let entries: &[super::Entry] = match &node.kind {
                Kind::Map(entries) => entries,
                Kind::Scalar(s) if is_null(s) && i > 0 => &[],
                _ => return Err(format!("`{}` is not a mapping", path[..i].join("."))),
            };
            match entries.iter().find(|e| e.key == *seg) {
                Some(e) => {
                    key_col =
                        e.key_span.start as usize - line_start(&text, e.key_span.start as usize);
                    key_line_end = line_end(&text, e.key_span.start as usize);
                    node = &e.value;
                }
                None => {
                    missing = Some(i);
                    break;
                }
            }
        }
        let (parent_path_len, k, v) = match missing {
            Some(i) => (i, path[i].to_string(), Value::Map(Vec::new())),
            None => (path.len(), key.to_string(), value.clone()),
        };
        // `node` is the mapping to write into (or a null scalar standing for an empty one).
        let child_indent;
        let mut insert_at;
        match &node.kind {
            Kind::Map(entries) if !entries.is_empty() => {
                if text[node.span.start as usize..].starts_with('{') {
                    return Err(format!(
                        "`{}` is a flow mapping; write it as a block mapping to let vigil edit it",
                        path[..parent_path_len].join(".")
                    ));
                }
                let first = &entries[0];
                child_indent = first.key_span.start as usize
                    - line_start(&text, first.key_span.start as usize);
                insert_at = line_end(&text, node_end(&text, node).max(1) - 1);
                if let Some(e) = entries.iter().find(|e| e.key == k) {
                    // Replace the entry's lines.
                    let from = line_start(&text, e.key_span.start as usize);
                    let end = node_end(&text, &e.value).max(e.key_span.end as usize);
                    let to = line_end(&text, end.max(1) - 1);
                    let mut new = String::new();
                    render(&k, &v, child_indent, &mut new);
                    text.replace_range(from..to, &new);
                    if missing.is_none() {
                        return Ok(text);
                    }
                    continue;
                }
            }
            Kind::Scalar(s) if is_null(s) => {
                if parent_path_len == 0 {
                    child_indent = 0;
                    insert_at = text.len();
                } else {
                    // `key:` with nothing after it: children go on the lines below.
                    child_indent = key_col + 2;
                    insert_at = key_line_end;
                    let line = &text[line_start(&text, key_line_end.max(1) - 1)..key_line_end];
                    let trimmed = line.trim_end();
                    if !trimmed.ends_with(':') {
                        return Err(format!(
                            "`{}` has a value that is not a mapping",
                            path[..parent_path_len].join(".")
                        ));
                    }
                }
            }
            Kind::Map(_) if parent_path_len == 0 => {
                child_indent = 0;
                insert_at = text.len();
            }
            _ => {
                return Err(format!(
                    "`{}` is not a block mapping",
                    path[..parent_path_len].join(".")
                ))
            }
        }
        if insert_at > 0 && !text[..insert_at].ends_with('\n') {
            text.insert(insert_at, '\n');
            insert_at += 1;
        }
        let mut new = String::new();
        render(&k, &v, child_indent, &mut new);
        text.insert_str(insert_at, &new);
        if missing.is_none() {
            return Ok(text);
        }
        let _ = depth;
    }
    Err("the path could not be created".into())
}

/// Remove `path` + `key` if present (its lines); the text unchanged otherwise.
pub fn remove(text: &str, path: &[&str], key: &str) -> String {
    let parsed = parse(FileId(0), text);
    let Some(root) = parsed.root else {
        return text.to_string();
    };
    let mut node = &root;
    for seg in path {
        match node.get(seg) {
            Some(n) => node = n,
            None => return text.to_string(),
        }
    }
    let Some(e) = node.entry(key) else {
        return text.to_string();
    };
    let from = line_start(text, e.key_span.start as usize);
    let end = node_end(text, &e.value).max(e.key_span.end as usize);
    let to = line_end(text, end.max(1) - 1);
    let mut out = text.to_string();
    out.replace_range(from..to, "");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trip() -> Value {
        Value::Map(vec![
            ("breaker".into(), Value::Scalar("max_fp_rate".into())),
            ("window".into(), Value::Scalar("30d".into())),
        ])
    }

    #[test]
    fn creates_the_path_at_the_end() {
        let t = "id: x\n# a comment\nquery: |\n  T\n  | take 1\n";
        let out = set(
            t,
            &["environments", "prod"],
            "rollout",
            &Value::Scalar("shadow".into()),
        )
        .unwrap();
        assert_eq!(out, "id: x\n# a comment\nquery: |\n  T\n  | take 1\nenvironments:\n  prod:\n    rollout: shadow\n");
        let out = set(&out, &["environments", "prod"], "guard_trip", &trip()).unwrap();
        assert_eq!(out, "id: x\n# a comment\nquery: |\n  T\n  | take 1\nenvironments:\n  prod:\n    rollout: shadow\n    guard_trip:\n      breaker: max_fp_rate\n      window: 30d\n");
        // Replacing keeps the rest.
        let out2 = set(
            &out,
            &["environments", "prod"],
            "rollout",
            &Value::Scalar("active".into()),
        )
        .unwrap();
        assert!(
            out2.contains("    rollout: active\n    guard_trip:\n"),
            "{out2}"
        );
        let out3 = remove(&out, &["environments", "prod"], "guard_trip");
        assert_eq!(out3, "id: x\n# a comment\nquery: |\n  T\n  | take 1\nenvironments:\n  prod:\n    rollout: shadow\n");
    }

    #[test]
    fn inserts_into_existing_mappings_in_the_middle() {
        let t =
            "id: x\nenvironments:\n    staging:\n        enabled: true\nseverity: High # keep\n";
        let out = set(
            t,
            &["environments", "prod"],
            "enabled",
            &Value::Scalar("false".into()),
        )
        .unwrap();
        assert_eq!(out, "id: x\nenvironments:\n    staging:\n        enabled: true\n    prod:\n      enabled: false\nseverity: High # keep\n");
        assert!(parse(FileId(0), &out).diagnostics.is_empty());
        let out = set(
            t,
            &["environments", "staging"],
            "enabled",
            &Value::Scalar("false".into()),
        )
        .unwrap();
        assert_eq!(
            out,
            "id: x\nenvironments:\n    staging:\n        enabled: false\nseverity: High # keep\n"
        );
    }

    #[test]
    fn flow_mappings_are_refused() {
        let t = "id: x\nenvironments: {prod: {enabled: true}}\n";
        assert!(set(
            t,
            &["environments", "prod"],
            "enabled",
            &Value::Scalar("false".into())
        )
        .is_err());
    }
}
