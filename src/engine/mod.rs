//! The embedded KQL engine: runs queries over sample tables with Kusto's semantics, so
//! detections can be tested offline.
//!
//! Stages: text → [`crate::kql::parse`] (syntax tree) → [`lower::lower`] ([`ir::Query`]) →
//! [`exec::Exec::run`] ([`table::Table`]). Constructs the engine lacks fail with
//! "not supported yet: ..." ([`EngineError::unsupported`]); nothing is silently skipped.
//!
//! This module knows nothing of YAML, rules or Azure: callers give it query text and a
//! [`DataSource`].

pub mod aggregate;
pub mod budget;
pub mod data;
pub mod error;
pub mod exec;
pub mod functions;
pub mod ir;
pub mod lower;
pub mod source;
pub mod strings;
pub mod table;
pub mod value;

pub use budget::Budget;
pub use data::Sandbox;
pub use exec::{DataSource, EngineError, Exec, RunOptions, StoredFunction};
pub use table::{Column, Table};
pub use value::{Type, Value};

/// The outcome of one query run.
#[derive(Debug)]
pub struct Output {
    pub table: Table,
    /// Rows read from source tables (after any time window).
    pub rows_scanned: u64,
}

/// Parse, lower and run a query. Syntax errors are reported as errors (the first one).
pub fn run(text: &str, source: &dyn DataSource, opts: RunOptions) -> Result<Output, EngineError> {
    let parsed = crate::kql::parse(text);
    if let Some(e) = parsed.errors.first() {
        return Err(EngineError::new(
            format!("syntax error: {}", e.message),
            Some(ir::Span {
                start: e.start,
                end: e.end,
            }),
        ));
    }
    let q = lower::lower(text, &parsed.tree);
    let mut exec = Exec::new(source, opts);
    let table = exec.run(&q)?;
    Ok(Output {
        table,
        rows_scanned: exec.rows_scanned,
    })
}
