//! `vigil kql check [FILE.kql ...]` and `--jsonl`: the KQL front end on standalone queries,
//! speaking the JSONL format of Microsoft's parser harness (../shared/tools/kql-oracle) so
//! verdicts compare directly.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::report::report;
use super::{Global, ReportArgs};
use crate::diagnostics::{Code, Diagnostic};
use crate::kql;
use crate::kql::catalog::Catalog;
use crate::source::{SourceDb, Span};

#[derive(Args, Debug)]
pub struct KqlArgs {
    #[command(subcommand)]
    pub command: KqlCommand,
}

#[derive(Subcommand, Debug)]
pub enum KqlCommand {
    /// Check standalone queries (`.kql` files, or `-` for stdin).
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Query files.
    pub files: Vec<PathBuf>,
    /// Read `{"id", "query", "mode"}` lines on stdin and answer one JSON line each
    /// (`{"id", "ok", "mode", "diagnostics": [...]}`), as the kql-oracle harness does.
    #[arg(long)]
    pub jsonl: bool,
    /// A schema file in the oracle's format (`{"tables": ..., "functions": ...}`) to bind
    /// against instead of the embedded Sentinel catalog.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Parse only; do not bind names (in `--jsonl`, `"mode": "semantic"` also binds).
    #[arg(long)]
    pub syntax_only: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn exec(g: &Global, a: KqlArgs) -> anyhow::Result<i32> {
    match a.command {
        KqlCommand::Check(c) => check(g, c),
    }
}

/// UTF-16 offset of a byte offset, as Kusto reports positions.
fn utf16_offset(text: &str, byte: usize) -> usize {
    let mut b = byte.min(text.len());
    while !text.is_char_boundary(b) {
        b -= 1;
    }
    text[..b].encode_utf16().count()
}

fn diag_json(
    query: &str,
    code: Code,
    category: &str,
    message: &str,
    start: u32,
    end: u32,
) -> Value {
    let s16 = utf16_offset(query, start as usize);
    let e16 = utf16_offset(query, end as usize);
    json!({
        "code": code.as_str(),
        "severity": "Error",
        "category": category,
        "message": message,
        "start": s16,
        "length": e16 - s16,
        "byte_start": start,
        "byte_length": end - start,
    })
}

/// One JSONL answer for one query: syntax, or (with a catalog) syntax and binding, with the
/// result columns as the harness reports them.
pub fn answer(id: &Value, query: &str, catalog: Option<&Catalog>) -> Value {
    let p = kql::parse(query);
    let mut diags: Vec<Value> = p
        .errors
        .iter()
        .map(|e| diag_json(query, e.kind.code(), "Syntax", &e.message, e.start, e.end))
        .collect();
    let Some(catalog) = catalog else {
        return json!({ "id": id, "ok": diags.is_empty(), "mode": "syntax", "diagnostics": diags });
    };
    let b = kql::binder::bind(query, &p.tree, catalog);
    diags.extend(
        b.errors
            .iter()
            .map(|e| diag_json(query, e.kind.code(), "Semantic", &e.message, e.start, e.end)),
    );
    let result = b.result.map(|s| {
        json!({
            "kind": "Query",
            "type": "Table",
            "open": s.open,
            "columns": s.columns.iter().map(|(c, t)| json!([c, t.name()])).collect::<Vec<_>>(),
        })
    });
    json!({ "id": id, "ok": diags.is_empty(), "mode": "semantic", "diagnostics": diags, "result": result })
}

fn check(g: &Global, a: CheckArgs) -> anyhow::Result<i32> {
    let catalog = match &a.schema {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
            let json: Value =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            Catalog::from_oracle_schema(&json)
        }
        None => Catalog::embedded().clone(),
    };
    if a.jsonl {
        let stdin = std::io::stdin();
        let mut out = std::io::stdout().lock();
        for line in stdin.lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let reply = match serde_json::from_str::<Value>(&line) {
                Err(e) => {
                    json!({ "id": Value::Null, "ok": false, "error": format!("bad JSON: {e}") })
                }
                Ok(req) => {
                    let id = req.get("id").cloned().unwrap_or(Value::Null);
                    let mode = req.get("mode").and_then(|m| m.as_str()).unwrap_or("syntax");
                    match (req.get("query").and_then(|q| q.as_str()), mode) {
                        (None, _) => json!({ "id": id, "ok": false, "error": "no query" }),
                        (Some(q), "syntax") => answer(&id, q, None),
                        (Some(q), "semantic") => answer(&id, q, Some(&catalog)),
                        (Some(_), m) => json!({
                            "id": id, "ok": false, "mode": m,
                            "error": format!("not supported yet: mode `{m}` (syntax and semantic only)"),
                        }),
                    }
                }
            };
            writeln!(out, "{reply}")?;
        }
        out.flush()?;
        return Ok(0);
    }
    if a.files.is_empty() {
        anyhow::bail!("give query files, `-` for stdin, or --jsonl");
    }
    let mut db = SourceDb::new();
    let mut diags = Vec::new();
    for f in &a.files {
        let text = if f.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(f)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", f.display()))?
        };
        let id = db.add(f.clone(), text.as_str());
        let p = kql::parse(&text);
        for e in &p.errors {
            diags.push(Diagnostic::new(
                e.kind.code(),
                Span::new(id, e.start as usize, e.end as usize),
                e.message.clone(),
            ));
        }
        if p.errors.is_empty() {
            for f in kql::lints::run(&text, &p.tree, kql::lints::QueryUse::Other) {
                let mut d = Diagnostic::new(
                    f.code,
                    Span::new(id, f.start as usize, f.end as usize),
                    f.message,
                );
                if let Some(s) = f.severity {
                    d.severity = s;
                }
                d.hint = f.hint;
                diags.push(d);
            }
            if !a.syntax_only {
                for e in kql::binder::bind(&text, &p.tree, &catalog).errors {
                    diags.push(Diagnostic::new(
                        e.kind.code(),
                        Span::new(id, e.start as usize, e.end as usize),
                        e.message,
                    ));
                }
            }
        }
    }
    report(g, &a.report, &db, &diags, a.files.len(), "")
}
