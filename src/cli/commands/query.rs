//! `vigil query [--data DIR] [--format table|json|csv] QUERY`, and `--jsonl` batches.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::{ArgMatches, Args, Command, ValueEnum};

use super::super::{err, out, with, ExitCode, Global};
use crate::ops::query::{self, QueryOptions};
use crate::ops::OpError;

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
    /// Folder of table files (`Table.jsonl`, `Table.csv`, `Table.parquet`); default `[sandbox] data`.
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

pub fn cli() -> Command {
    QueryArgs::augment_args(
        Command::new("query")
            .about("Run a KQL query over the sandbox data with the embedded engine."),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: QueryArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let engine = query::open(
            &cx,
            &QueryOptions {
                data: a.data.clone(),
                now: a.now.clone(),
            },
        )?;
        if a.jsonl {
            let stdin = std::io::stdin();
            let mut o = std::io::stdout().lock();
            for line in stdin.lock().lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                writeln!(o, "{}", query::answer_line(&engine, &line))?;
            }
            return Ok(ExitCode::Clean);
        }
        let text = match a.query.as_deref() {
            Some("-") => std::io::read_to_string(std::io::stdin())?,
            Some(q) => q.to_string(),
            None => {
                return Err(OpError::usage(
                    "give a QUERY (or `-` for stdin), or use --jsonl",
                ))
            }
        };
        match query::run(&engine, &text) {
            Ok(r) => {
                let t = &r.output.table;
                let s = match a.format {
                    QueryFormat::Table => {
                        let mut s = t.to_text(a.limit);
                        if !g.quiet {
                            s.push_str(&format!(
                                "{} rows, {} rows scanned, {:.1} ms\n",
                                t.rows, r.output.rows_scanned, r.millis
                            ));
                        }
                        s
                    }
                    QueryFormat::Csv => t.to_csv(),
                    QueryFormat::Json => {
                        let v = serde_json::json!({
                            "columns": query::columns_json(t),
                            "rows": t.json_rows(),
                        });
                        format!("{}\n", serde_json::to_string_pretty(&v)?)
                    }
                };
                out(&s)?;
                Ok(ExitCode::Clean)
            }
            Err(e) => {
                let at = e
                    .span
                    .map(|s| {
                        let before = &text[..(s.start as usize).min(text.len())];
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
                err(&format!("error: {}{at}\n", e.message));
                Ok(ExitCode::Failed)
            }
        }
    })
}
