//! `vigil kql check`: the KQL front end on standalone queries (files, or JSON lines in the
//! format of Microsoft's parser harness, `../shared/tools/kql-oracle`, so verdicts compare
//! directly).

use std::path::PathBuf;

use serde_json::{json, Value};

use super::{Context, OpError};
use crate::diagnostics::{Code, Diagnostic};
use crate::kql;
use crate::kql::catalog::Catalog;
use crate::source::{SourceDb, Span};

/// The catalog to bind against: a schema file in the oracle's format, or the embedded one.
pub fn catalog(cx: &Context, schema: Option<&std::path::Path>) -> Result<Catalog, OpError> {
    match schema {
        Some(p) => {
            let p = cx.path(p);
            let text = std::fs::read_to_string(&p)
                .map_err(|e| OpError::usage(format!("cannot read {}: {e}", p.display())))?;
            let json: Value = serde_json::from_str(&text)
                .map_err(|e| OpError::usage(format!("{}: {e}", p.display())))?;
            Ok(Catalog::from_oracle_schema(&json))
        }
        None => Ok(Catalog::embedded().clone()),
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

/// The answer to one request line (`{"id", "query", "mode"}`).
pub fn answer_line(line: &str, catalog: &Catalog) -> Value {
    match serde_json::from_str::<Value>(line) {
        Err(e) => json!({ "id": Value::Null, "ok": false, "error": format!("bad JSON: {e}") }),
        Ok(req) => {
            let id = req.get("id").cloned().unwrap_or(Value::Null);
            let mode = req.get("mode").and_then(|m| m.as_str()).unwrap_or("syntax");
            match (req.get("query").and_then(|q| q.as_str()), mode) {
                (None, _) => json!({ "id": id, "ok": false, "error": "no query" }),
                (Some(q), "syntax") => answer(&id, q, None),
                (Some(q), "semantic") => answer(&id, q, Some(catalog)),
                (Some(_), m) => json!({
                    "id": id, "ok": false, "mode": m,
                    "error": format!("not supported yet: mode `{m}` (syntax and semantic only)"),
                }),
            }
        }
    }
}

/// A query to check: a file, or text already read (stdin).
pub struct QueryInput {
    pub path: PathBuf,
    pub text: Option<String>,
}

/// Syntax, lints and (unless `syntax_only`) binding of each query.
pub fn check_files(
    cx: &Context,
    inputs: &[QueryInput],
    catalog: &Catalog,
    syntax_only: bool,
) -> Result<(SourceDb, Vec<Diagnostic>), OpError> {
    let mut db = SourceDb::new();
    let mut diags = Vec::new();
    for input in inputs {
        let text = match &input.text {
            Some(t) => t.clone(),
            None => {
                let p = cx.path(&input.path);
                std::fs::read_to_string(&p).map_err(|e| {
                    OpError::usage(format!("cannot read {}: {e}", input.path.display()))
                })?
            }
        };
        let id = db.add(input.path.clone(), text.as_str());
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
            if !syntax_only {
                for e in kql::binder::bind(&text, &p.tree, catalog).errors {
                    diags.push(Diagnostic::new(
                        e.kind.code(),
                        Span::new(id, e.start as usize, e.end as usize),
                        e.message,
                    ));
                }
            }
        }
    }
    Ok((db, diags))
}
