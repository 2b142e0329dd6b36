//! `vigil debug STAGE FILE`: print one stage's representation.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{out, Global};
use crate::diagnostics::CATALOG;
use crate::model::load::FsReader;
use crate::yaml::{Kind, Node};
use crate::{pipeline, workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// The span-bearing YAML tree.
    Yaml,
    /// The KQL tokens of a query (a `.kql` file, or a definition's `query`).
    Tokens,
    /// The KQL syntax tree of a query, with its errors.
    Ast,
    /// The engine's lowered form of a query (what `vigil query` and `vigil test` run).
    Ir,
    /// The typed definition (after coercions), as JSON.
    Model,
    /// The compiled payloads, as JSON.
    Payload,
    /// The diagnostic catalog (no FILE).
    Codes,
}

#[derive(Args, Debug)]
pub struct DebugArgs {
    pub stage: Stage,
    /// The definition file (not for `codes`).
    pub file: Option<PathBuf>,
    /// For `payload`: apply this environment's overrides.
    #[arg(long)]
    pub env: Option<String>,
    /// For `codes`: print the Markdown reference (docs/diagnostics.md).
    #[arg(long)]
    pub markdown: bool,
}

pub fn exec(g: &Global, a: DebugArgs) -> anyhow::Result<i32> {
    if a.stage == Stage::Codes {
        out(&if a.markdown {
            crate::diagnostics::catalog::markdown()
        } else {
            codes_text()
        })?;
        return Ok(0);
    }
    let Some(file) = a.file else {
        anyhow::bail!("debug {:?} needs a FILE", a.stage);
    };
    if matches!(a.stage, Stage::Tokens | Stage::Ast | Stage::Ir) {
        let text = std::fs::read_to_string(&file)?;
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
                .ok_or_else(|| anyhow::anyhow!("{} has no `query`", file.display()))?
        };
        let mut s = String::new();
        if a.stage == Stage::Tokens {
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
        } else if a.stage == Stage::Ir {
            let p = crate::kql::parse(&query);
            let q = crate::engine::lower::lower(&query, &p.tree);
            let _ = writeln!(s, "{q:#?}");
            for e in &p.errors {
                let _ = writeln!(s, "error {}..{}: {}", e.start, e.end, e.message);
            }
        } else {
            let p = crate::kql::parse(&query);
            s.push_str(&p.tree.dump(&query));
            for e in &p.errors {
                let _ = writeln!(s, "error {}..{}: {}", e.start, e.end, e.message);
            }
        }
        out(&s)?;
        return Ok(0);
    }
    let root = g.root()?;
    let abs = if file.is_absolute() {
        file.clone()
    } else {
        std::env::current_dir()?.join(&file)
    };
    let ws = workspace::open(&root, &[abs]);
    let Some(&fid) = ws.files.first() else {
        anyhow::bail!("{} is not a content file", file.display());
    };
    match a.stage {
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
            out(&s)?;
        }
        Stage::Model | Stage::Payload => {
            let reader = FsReader { root: root.clone() };
            let checked = pipeline::check(&ws, &reader, None);
            for d in &checked.diagnostics {
                super::err(&format!(
                    "{} {}: {}\n",
                    d.severity.as_str(),
                    d.code,
                    d.message
                ));
            }
            let Some(def) = checked.definitions.first() else {
                return Ok(1);
            };
            if a.stage == Stage::Model {
                let v = match &def.item {
                    crate::model::Item::Rule(r) => serde_json::to_value(r)?,
                    crate::model::Item::Hunt(h) => serde_json::to_value(h)?,
                    crate::model::Item::Function(f) => serde_json::to_value(f)?,
                    crate::model::Item::Anomaly(x) => serde_json::to_value(x)?,
                    crate::model::Item::Watchlist(w, items) => serde_json::json!({
                        "watchlist": w, "header": items.header, "rows": items.rows,
                    }),
                };
                out(&(serde_json::to_string_pretty(&v)? + "\n"))?;
            } else {
                let outp = pipeline::compile(&ws, &checked, a.env.as_deref());
                let Some(art) = outp.first() else {
                    return Ok(1);
                };
                let v = serde_json::json!({ "artifact": art, "arm": art.arm_resources() });
                out(&(serde_json::to_string_pretty(&v)? + "\n"))?;
            }
        }
        Stage::Codes | Stage::Tokens | Stage::Ast | Stage::Ir => unreachable!("handled above"),
    }
    Ok(0)
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
