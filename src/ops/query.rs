//! `vigil query`: ad-hoc KQL over the sandbox data with the embedded engine, one query or a
//! batch of JSON lines (`{"id","query"}` in, `{"id","ok","columns","rows","error"}` out).

use std::path::PathBuf;

use serde_json::{json, Value};

use super::{Context, OpError};
use crate::engine::{self, EngineError, RunOptions, Sandbox};

#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    /// Folder of table files (default `[sandbox] data`).
    pub data: Option<PathBuf>,
    /// The pinned clock for now()/ago() (default `[sandbox] now`).
    pub now: Option<String>,
}

/// The engine, its data and its clock, ready for queries.
pub struct QueryEngine {
    pub data: Sandbox,
    pub opts: RunOptions,
}

/// Open the sandbox data with the repository's functions and watchlists.
pub fn open(cx: &Context, o: &QueryOptions) -> Result<QueryEngine, OpError> {
    let mut cfg = cx.sandbox();
    if let Some(n) = &o.now {
        cfg.now = engine::value::parse_datetime(n)
            .ok_or_else(|| OpError::usage(format!("--now: `{n}` is not a datetime")))?;
    }
    let ws = cx.workspace();
    let checked = crate::pipeline::check(&ws, &cx.siblings(), None);
    // A folder named on the command line is the user's; the configured one is contained.
    let data = match &o.data {
        Some(d) => crate::sandbox::with_geoip(
            crate::sandbox::for_definitions(&cx.path(d), &checked.definitions, &cx.config.schemas),
            &cx.root,
            &cx.config,
        ),
        None => crate::sandbox::for_repository(
            &cx.root,
            &cx.sandbox_dir()?,
            &checked.definitions,
            &cx.config,
        ),
    };
    Ok(QueryEngine {
        data,
        opts: RunOptions {
            now: cfg.now,
            window: None,
        },
    })
}

/// One query's result.
pub struct QueryOutcome {
    pub output: engine::Output,
    pub millis: f64,
}

/// Run one query.
pub fn run(e: &QueryEngine, query: &str) -> Result<QueryOutcome, EngineError> {
    let started = std::time::Instant::now();
    let output = engine::run(query, &e.data, e.opts)?;
    Ok(QueryOutcome {
        output,
        millis: started.elapsed().as_secs_f64() * 1000.0,
    })
}

/// The columns of a table as `[{name, type}]`.
pub fn columns_json(t: &engine::Table) -> Value {
    Value::Array(
        t.columns
            .iter()
            .map(|c| json!({"name": c.name, "type": c.ty.name()}))
            .collect(),
    )
}

/// The answer to one request line of the batch mode.
pub fn answer_line(e: &QueryEngine, line: &str) -> Value {
    let req: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(err) => {
            return json!({"id": null, "ok": false, "error": format!("bad request line: {err}")})
        }
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let q = req.get("query").and_then(|q| q.as_str()).unwrap_or("");
    match engine::run(q, &e.data, e.opts) {
        Ok(o) => json!({
            "id": id,
            "ok": true,
            "columns": columns_json(&o.table),
            "rows": o.table.json_rows(),
            "error": null,
        }),
        Err(err) => {
            json!({"id": id, "ok": false, "columns": [], "rows": [], "error": err.message, "unsupported": err.unsupported})
        }
    }
}
