//! `vigil debug STAGE FILE`: one stage's representation of a file, as text.

use std::fmt::Write as _;
use std::path::Path;

use super::{Context, OpError};
use crate::diagnostics::CATALOG;
use crate::yaml::{Kind, Node};

/// The stages `vigil debug` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The span-bearing YAML tree.
    Yaml,
    /// The KQL tokens of a query (a `.kql` file, or a definition's `query`).
    Tokens,
    /// The KQL syntax tree of a query, with its errors.
    Ast,
    /// The engine's lowered form of a query.
    Ir,
    /// The typed definition (after coercions), as JSON.
    Model,
    /// The compiled payloads, as JSON.
    Payload,
    /// The diagnostic catalog (no file).
    Codes,
}

/// What `debug` printed, and whether the file had a definition to show (exit 1 otherwise).
pub struct DebugOutcome {
    pub text: String,
    /// Diagnostics of loading the file (for `model` and `payload`), one line each.
    pub notes: Vec<String>,
    pub found: bool,
}

/// The representation of `file` at `stage` (`env`: for `payload`, apply that environment's
/// overrides; `markdown`: for `codes`, the Markdown reference).
pub fn debug(
    cx: &Context,
    stage: Stage,
    file: Option<&Path>,
    env: Option<&str>,
    markdown: bool,
) -> Result<DebugOutcome, OpError> {
    let done = |text: String| {
        Ok(DebugOutcome {
            text,
            notes: Vec::new(),
            found: true,
        })
    };
    if stage == Stage::Codes {
        return done(if markdown {
            crate::diagnostics::catalog::markdown()
        } else {
            codes_text()
        });
    }
    let Some(file) = file else {
        return Err(OpError::usage(format!("debug {stage:?} needs a FILE")));
    };
    let abs = cx.path(file);
    if matches!(stage, Stage::Tokens | Stage::Ast | Stage::Ir) {
        let text = std::fs::read_to_string(&abs)
            .map_err(|e| OpError::usage(format!("cannot read {}: {e}", file.display())))?;
        let is_kql = file.extension().is_some_and(|e| e == "kql" || e == "txt");
        let query = if is_kql {
            text
        } else {
            let t = text.strip_prefix('\u{feff}').unwrap_or(&text);
            crate::yaml::parse(crate::source::FileId(0), t)
                .root
                .as_ref()
                .and_then(|r| r.get("query"))
                .and_then(|q| q.as_scalar())
                .map(|s| s.text.clone())
                .ok_or_else(|| OpError::usage(format!("{} has no `query`", file.display())))?
        };
        let mut s = String::new();
        match stage {
            Stage::Tokens => {
                let (tokens, errors) = crate::kql::lexer::lex(&query);
                for t in tokens.iter().filter(|t| !t.kind.is_trivia()) {
                    let _ = writeln!(
                        s,
                        "{:?} {}..{} {:?}",
                        t.kind,
                        t.start,
                        t.end(),
                        &query[t.range()]
                    );
                }
                for e in errors {
                    let _ = writeln!(s, "error {}..{}: {}", e.start, e.end, e.message);
                }
            }
            Stage::Ir => {
                let p = crate::kql::parse(&query);
                let q =
                    crate::engine::plan(&query, &p.tree, crate::kql::catalog::Catalog::embedded());
                let _ = writeln!(s, "{q:#?}");
                for e in &p.errors {
                    let _ = writeln!(s, "error {}..{}: {}", e.start, e.end, e.message);
                }
            }
            _ => {
                let p = crate::kql::parse(&query);
                s.push_str(&p.tree.dump(&query));
                for e in &p.errors {
                    let _ = writeln!(s, "error {}..{}: {}", e.start, e.end, e.message);
                }
            }
        }
        return done(s);
    }
    let ws = cx.workspace_with(std::slice::from_ref(&abs));
    let rel = super::rel_of(cx, file);
    let Some(fid) = ws.files.iter().copied().find(|&f| ws.db.path(f) == rel) else {
        return Err(OpError::usage(format!(
            "{} is not a content file",
            file.display()
        )));
    };
    match stage {
        Stage::Yaml => {
            let src = ws.db.get(fid);
            let parsed = crate::yaml::parse(fid, &src.text);
            let mut s = String::new();
            if let Some(root) = &parsed.root {
                tree(&mut s, src, root, 0);
            }
            for d in &parsed.diagnostics {
                let _ = writeln!(s, "{}: {}", d.code, d.message);
            }
            done(s)
        }
        Stage::Model | Stage::Payload => {
            let sel = std::collections::BTreeSet::from([fid]);
            let checked =
                crate::pipeline::check_selected(&ws, &cx.siblings(), None, true, Some(&sel));
            let notes = checked
                .diagnostics
                .iter()
                .map(|d| format!("{} {}: {}", d.severity.as_str(), d.code, d.message))
                .collect();
            let Some(def) = checked.selected_definitions().next() else {
                return Ok(DebugOutcome {
                    text: String::new(),
                    notes,
                    found: false,
                });
            };
            let v = if stage == Stage::Model {
                match &def.item {
                    crate::model::Item::Rule(r) => serde_json::to_value(r)?,
                    crate::model::Item::Hunt(h) => serde_json::to_value(h)?,
                    crate::model::Item::Function(f) => serde_json::to_value(f)?,
                    crate::model::Item::Anomaly(x) => serde_json::to_value(x)?,
                    crate::model::Item::Watchlist(w, items) => serde_json::json!({
                        "watchlist": w, "header": items.header, "rows": items.rows,
                    }),
                }
            } else {
                let outp = crate::pipeline::compile(&ws, &checked, env);
                let Some(art) = outp.first() else {
                    return Ok(DebugOutcome {
                        text: String::new(),
                        notes,
                        found: false,
                    });
                };
                serde_json::json!({ "artifact": art, "arm": art.arm_resources() })
            };
            Ok(DebugOutcome {
                text: serde_json::to_string_pretty(&v)? + "\n",
                notes,
                found: true,
            })
        }
        Stage::Codes | Stage::Tokens | Stage::Ast | Stage::Ir => unreachable!("handled above"),
    }
}

fn tree(s: &mut String, src: &crate::source::SourceFile, n: &Node, depth: usize) {
    let lc = src.line_col(n.span.start);
    let pad = "  ".repeat(depth);
    match &n.kind {
        Kind::Scalar(sc) => {
            let mut t: String = sc.text.chars().take(60).collect();
            if sc.text.chars().count() > 60 {
                t.push('…');
            }
            let _ = writeln!(
                s,
                "{pad}{:?} {}:{} {:?} {:?}",
                sc.style, lc.line, lc.col, n.span, t
            );
        }
        Kind::Seq(items) => {
            let _ = writeln!(s, "{pad}Seq {}:{} {:?}", lc.line, lc.col, n.span);
            for i in items {
                tree(s, src, i, depth + 1);
            }
        }
        Kind::Map(entries) => {
            let _ = writeln!(s, "{pad}Map {}:{} {:?}", lc.line, lc.col, n.span);
            for e in entries {
                let klc = src.line_col(e.key_span.start);
                let _ = writeln!(s, "{pad}  key {:?} {}:{}", e.key, klc.line, klc.col);
                tree(s, src, &e.value, depth + 2);
            }
        }
    }
}

fn codes_text() -> String {
    let mut s = String::new();
    for c in CATALOG {
        let _ = writeln!(
            s,
            "{:<7} {:<8} {:<36} {}",
            c.code,
            c.default_severity.as_str(),
            c.name,
            c.summary
        );
    }
    s
}
