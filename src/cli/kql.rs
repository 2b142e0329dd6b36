//! `vigil kql check [FILE.kql ...]` and `--jsonl`: the KQL front end on standalone queries,
//! speaking the JSONL format of Microsoft's parser harness (../shared/tools/kql-oracle) so
//! verdicts compare directly.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::report::report;
use super::{Global, ReportArgs};
use crate::diagnostics::{code, Code, Diagnostic};
use crate::kql;
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
    /// A schema file (the oracle's format) for binding. Binding is not supported yet.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn exec(g: &Global, a: KqlArgs) -> anyhow::Result<i32> {
    match a.command {
        KqlCommand::Check(c) => check(g, c),
    }
}

fn error_code(kind: kql::ErrorKind) -> Code {
    match kind {
        kql::ErrorKind::Expected => code::KQL_SYNTAX,
        kql::ErrorKind::Lexical => code::KQL_LEXICAL,
        kql::ErrorKind::TooDeep => code::KQL_TOO_DEEP,
        kql::ErrorKind::UnknownOperator => code::KQL_UNKNOWN_OPERATOR,
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

/// One JSONL answer for one query.
pub fn answer(id: &Value, query: &str) -> Value {
    let p = kql::parse(query);
    let diags: Vec<Value> = p
        .errors
        .iter()
        .map(|e| {
            let s16 = utf16_offset(query, e.start as usize);
            let e16 = utf16_offset(query, e.end as usize);
            json!({
                "code": error_code(e.kind).as_str(),
                "severity": "Error",
                "category": "Syntax",
                "message": e.message,
                "start": s16,
                "length": e16 - s16,
                "byte_start": e.start,
                "byte_length": e.end - e.start,
            })
        })
        .collect();
    json!({ "id": id, "ok": diags.is_empty(), "mode": "syntax", "diagnostics": diags })
}

fn check(g: &Global, a: CheckArgs) -> anyhow::Result<i32> {
    if a.schema.is_some() {
        anyhow::bail!("not supported yet: binding queries against --schema (vigil checks KQL syntax only so far)");
    }
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
                        (Some(_), m) if m != "syntax" => json!({
                            "id": id, "ok": false, "mode": m,
                            "error": format!("not supported yet: mode `{m}` (syntax only so far)"),
                        }),
                        (Some(q), _) => answer(&id, q),
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
        for e in kql::parse(&text).errors {
            diags.push(Diagnostic::new(
                error_code(e.kind),
                Span::new(id, e.start as usize, e.end as usize),
                e.message,
            ));
        }
    }
    report(g, &a.report, &db, &diags, a.files.len(), "")
}
