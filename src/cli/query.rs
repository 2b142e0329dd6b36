//! `vigil query [--data DIR] [--format table|json|csv] QUERY`: ad-hoc KQL over the sandbox
//! data with the embedded engine; `--jsonl` runs a batch (`{"id","query"}` per line in,
//! `{"id","ok","columns","rows","error"}` per line out).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::Global;
use crate::engine::{self, RunOptions};
use crate::sandbox::{self, SandboxConfig};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The query text (or `-` to read it from stdin); not with `--jsonl`.
    pub query: Option<String>,
    /// Folder of table files (`Table.jsonl`, `Table.csv`); default `[sandbox] data`.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
    /// Rows shown in table format.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// The pinned clock for now()/ago() (default `[sandbox] now`).
    #[arg(long, value_name = "DATETIME")]
    pub now: Option<String>,
    /// Batch mode: JSON lines in on stdin, one JSON line out per query.
    #[arg(long)]
    pub jsonl: bool,
}

pub fn exec(g: &Global, a: QueryArgs) -> anyhow::Result<i32> {
    let root = g.root()?;
    let ws = crate::workspace::open(&root, &[]);
    let mut cfg = SandboxConfig::from_toml(ws.config.sandbox.as_ref())
        .map_err(|e| anyhow::anyhow!("vigil.toml: {e}"))?;
    if let Some(n) = &a.now {
        cfg.now = engine::value::parse_datetime(n)
            .ok_or_else(|| anyhow::anyhow!("--now: `{n}` is not a datetime"))?;
    }
    let dir = match &a.data {
        Some(d) => g.paths(std::slice::from_ref(d))?.remove(0),
        None => root.join(&cfg.data),
    };
    let reader = crate::model::load::FsReader { root: root.clone() };
    let checked = crate::pipeline::check(&ws, &reader, None);
    let sb = sandbox::for_definitions(&dir, &checked.definitions, ws.config.schemas.as_ref());
    let opts = RunOptions {
        now: cfg.now,
        window: None,
    };
    if a.jsonl {
        let stdin = std::io::stdin();
        let mut out = std::io::stdout().lock();
        for line in stdin.lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let req: serde_json::Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(e) => {
                    writeln!(
                        out,
                        "{}",
                        json!({"id": null, "ok": false, "error": format!("bad request line: {e}")})
                    )?;
                    continue;
                }
            };
            let id = req.get("id").cloned().unwrap_or(serde_json::Value::Null);
            let q = req.get("query").and_then(|q| q.as_str()).unwrap_or("");
            let answer = match engine::run(q, &sb, opts) {
                Ok(o) => json!({
                    "id": id,
                    "ok": true,
                    "columns": o.table.columns.iter().map(|c| json!({"name": c.name, "type": c.ty.name()})).collect::<Vec<_>>(),
                    "rows": o.table.json_rows(),
                    "error": null,
                }),
                Err(e) => {
                    json!({"id": id, "ok": false, "columns": [], "rows": [], "error": e.message, "unsupported": e.unsupported})
                }
            };
            writeln!(out, "{answer}")?;
        }
        return Ok(0);
    }
    let query = match a.query.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
            s
        }
        Some(q) => q.to_string(),
        None => anyhow::bail!("give a QUERY (or `-` for stdin), or use --jsonl"),
    };
    let started = std::time::Instant::now();
    match engine::run(&query, &sb, opts) {
        Ok(o) => {
            let text = match a.format {
                QueryFormat::Table => {
                    let mut s = o.table.to_text(a.limit);
                    if !g.quiet {
                        s.push_str(&format!(
                            "{} rows, {} rows scanned, {:.1} ms\n",
                            o.table.rows,
                            o.rows_scanned,
                            started.elapsed().as_secs_f64() * 1000.0
                        ));
                    }
                    s
                }
                QueryFormat::Csv => o.table.to_csv(),
                QueryFormat::Json => {
                    let v = json!({
                        "columns": o.table.columns.iter().map(|c| json!({"name": c.name, "type": c.ty.name()})).collect::<Vec<_>>(),
                        "rows": o.table.json_rows(),
                    });
                    format!("{}\n", serde_json::to_string_pretty(&v)?)
                }
            };
            super::out(&text)?;
            Ok(0)
        }
        Err(e) => {
            let at = e
                .span
                .map(|s| {
                    let before = &query[..(s.start as usize).min(query.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before
                        .rsplit('\n')
                        .next()
                        .map(|l| l.chars().count())
                        .unwrap_or(0)
                        + 1;
                    format!(" (at {line}:{col})")
                })
                .unwrap_or_default();
            eprintln!("error: {}{at}", e.message);
            Ok(1)
        }
    }
}
