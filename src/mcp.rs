//! `vigil mcp`: vigil as a Model Context Protocol server over stdio (the official Rust SDK,
//! `rmcp`), so any MCP client (an IDE agent, a chat assistant) drafts with vigil's front end
//! and engine in its loop. Tools: `validate_query`, `list_tables`, `describe_table`,
//! `dry_run_query`, `hash_query`, `validate_file`, `explain_diagnostic`.
//!
//! Nothing but protocol bytes on stdout; a tool that fails returns `isError: true` with the
//! diagnostics as text; arguments that do not fit a tool's input schema are JSON-RPC error
//! -32602. Results are computed from the repository the server was started in: its functions,
//! watchlists and custom tables are known; dry-runs run on its sandbox with rows capped and
//! redacted ([`crate::redact`]).

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler};
use serde_json::{json, Map, Value};

use crate::engine::{RunOptions, Sandbox};
use crate::kql::catalog::Catalog;

/// Most rows `dry_run_query` returns.
pub const MAX_ROWS: usize = 100;

/// What the tools answer from, built once when the server starts.
pub struct Repository {
    pub root: std::path::PathBuf,
    /// The embedded catalog with the repository's functions, watchlists and custom tables.
    pub catalog: Catalog,
    /// The sandbox data with the repository's functions and watchlists.
    pub sandbox: Sandbox,
    /// The sandbox clock.
    pub now: i64,
    /// Tables with sandbox data.
    pub tables_with_data: Vec<String>,
    /// `[ai.redact]`: applied to every row `dry_run_query` returns.
    pub redactor: crate::redact::Redactor,
    /// Validates one repository file; returns its rendered diagnostics and whether any is an
    /// error (the operations layer supplies it).
    pub validate_file: FileValidator,
    /// Parses and binds one query against `catalog`: `{ok, diagnostics, result}` in the format
    /// of `vigil kql check` (the operations layer supplies it).
    pub check_query: QueryChecker,
}

/// See [`Repository::validate_file`].
pub type FileValidator = Box<dyn Fn(&str) -> Result<(bool, String), String> + Send + Sync>;
/// See [`Repository::check_query`].
pub type QueryChecker = Box<dyn Fn(&str, &Catalog) -> Value + Send + Sync>;

#[derive(Clone)]
pub struct Server {
    repo: Arc<Repository>,
}

impl Server {
    pub fn new(repo: Repository) -> Server {
        Server {
            repo: Arc::new(repo),
        }
    }
}

fn schema(props: Value, required: &[&str]) -> Arc<Map<String, Value>> {
    let v = json!({"type": "object", "properties": props, "required": required});
    Arc::new(v.as_object().cloned().unwrap_or_default())
}

fn tool(name: &'static str, description: &'static str, input: Arc<Map<String, Value>>) -> Tool {
    Tool::new(name, description, input)
}

/// The tools vigil offers.
pub fn tools() -> Vec<Tool> {
    vec![
        tool(
            "validate_query",
            "Parse and bind a KQL query against the workspace schema vigil knows (embedded Sentinel catalog plus the repository's functions, watchlists and custom tables); returns the diagnostics with codes and offsets, and the result columns.",
            schema(
                json!({"query": {"type": "string"}, "kind": {"type": "string", "enum": ["rule", "hunt", "query"]}}),
                &["query"],
            ),
        ),
        tool(
            "list_tables",
            "Tables that have sandbox data (and, with all=true, every table of the catalog).",
            schema(json!({"all": {"type": "boolean"}}), &[]),
        ),
        tool(
            "describe_table",
            "The columns and types of a table.",
            schema(json!({"table": {"type": "string"}}), &["table"]),
        ),
        tool(
            "dry_run_query",
            "Run a KQL query on the repository's sandbox data with vigil's embedded engine; at most max_rows rows (100), with IP addresses, e-mail addresses and GUIDs redacted.",
            schema(
                json!({"query": {"type": "string"}, "max_rows": {"type": "integer", "minimum": 0, "maximum": MAX_ROWS}}),
                &["query"],
            ),
        ),
        tool(
            "hash_query",
            "vigil's hash of a query (what review.query_sha256 records).",
            schema(json!({"query": {"type": "string"}}), &["query"]),
        ),
        tool(
            "validate_file",
            "Validate one content file of the repository (a path relative to its root): schema, Sentinel's limits, KQL and policy diagnostics.",
            schema(json!({"path": {"type": "string"}}), &["path"]),
        ),
        tool(
            "explain_diagnostic",
            "What a diagnostic code (VG..., KQL..., POL..., DEP..., GATE...) means, why it matters and an example.",
            schema(json!({"code": {"type": "string"}}), &["code"]),
        ),
    ]
}

fn text_result(v: Value, error: bool) -> CallToolResponse {
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    let content = vec![ContentBlock::text(text)];
    if error {
        CallToolResult::error(content).into()
    } else {
        CallToolResult::success(content).into()
    }
}

fn invalid(message: impl Into<String>) -> McpError {
    McpError::invalid_params(message.into(), None)
}

fn string_arg<'a>(args: &'a Map<String, Value>, key: &str) -> Result<&'a str, McpError> {
    match args.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(format!("`{key}` must be a string"))),
        None => Err(invalid(format!("`{key}` is required"))),
    }
}

impl Server {
    /// One tool call: `Ok(result)` (possibly `isError`), or a protocol error for bad
    /// parameters or an unknown tool.
    pub fn call(
        &self,
        name: &str,
        args: &Map<String, Value>,
    ) -> Result<CallToolResponse, McpError> {
        let r = &self.repo;
        match name {
            "validate_query" => {
                let q = string_arg(args, "query")?;
                let answer = (r.check_query)(q, &r.catalog);
                let mut lints: Vec<Value> = Vec::new();
                let parsed = crate::kql::parse(q);
                let usage = match args.get("kind").and_then(|k| k.as_str()) {
                    Some("hunt") => crate::kql::lints::QueryUse::Hunt,
                    _ => crate::kql::lints::QueryUse::Rule,
                };
                for f in crate::kql::lints::run(q, &parsed.tree, usage) {
                    lints.push(json!({"code": f.code.as_str(), "message": f.message, "start": f.start, "end": f.end}));
                }
                let ok = answer["ok"].as_bool().unwrap_or(false);
                Ok(text_result(
                    json!({"ok": ok, "diagnostics": answer["diagnostics"], "lints": lints, "result": answer["result"]}),
                    !ok,
                ))
            }
            "list_tables" => {
                let all = match args.get("all") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(invalid("`all` must be a boolean")),
                };
                let mut names: Vec<String> = if all {
                    r.catalog.tables.keys().cloned().collect()
                } else {
                    r.tables_with_data.clone()
                };
                names.sort();
                Ok(text_result(json!({"tables": names}), false))
            }
            "describe_table" => {
                let t = string_arg(args, "table")?;
                match r.catalog.tables.get(t) {
                    Some(s) => Ok(text_result(
                        json!({"table": t, "columns": s.columns.iter().map(|(c, ty)| json!({"name": c, "type": ty.name()})).collect::<Vec<_>>()}),
                        false,
                    )),
                    None => Ok(text_result(
                        json!({"error": format!("`{t}` is not a table vigil knows")}),
                        true,
                    )),
                }
            }
            "dry_run_query" => {
                let q = string_arg(args, "query")?;
                let max = match args.get("max_rows") {
                    None => 20,
                    Some(v) => match v.as_u64() {
                        Some(n) if n as usize <= MAX_ROWS => n as usize,
                        _ => {
                            return Err(invalid(format!(
                                "`max_rows` must be an integer from 0 to {MAX_ROWS}"
                            )))
                        }
                    },
                };
                let opts = RunOptions {
                    now: r.now,
                    window: None,
                };
                match crate::engine::run(q, &r.sandbox, opts) {
                    Ok(out) => {
                        let names: Vec<&str> =
                            out.table.columns.iter().map(|c| c.name.as_str()).collect();
                        let rows: Vec<Value> = out
                            .table
                            .json_rows()
                            .iter()
                            .take(max)
                            .map(|row| {
                                r.redactor.row(
                                    names.iter().copied(),
                                    row.as_array().map(Vec::as_slice).unwrap_or(&[]),
                                )
                            })
                            .collect();
                        Ok(text_result(
                            json!({"rows_returned": out.table.rows, "rows_scanned": out.rows_scanned, "rows": rows, "redacted": true}),
                            false,
                        ))
                    }
                    Err(e) => Ok(text_result(json!({"error": e.message}), true)),
                }
            }
            "hash_query" => {
                let q = string_arg(args, "query")?;
                Ok(text_result(
                    json!({"query_sha256": crate::hash::query_sha256(q)}),
                    false,
                ))
            }
            "validate_file" => {
                let p = string_arg(args, "path")?;
                match (r.validate_file)(p) {
                    Ok((errors, text)) => Ok(text_result(
                        json!({"ok": !errors, "diagnostics": text}),
                        errors,
                    )),
                    Err(e) => Ok(text_result(json!({"error": e}), true)),
                }
            }
            "explain_diagnostic" => {
                let c = string_arg(args, "code")?;
                match crate::diagnostics::CATALOG
                    .iter()
                    .find(|i| i.code.eq_ignore_ascii_case(c) || i.name == c)
                {
                    Some(i) => Ok(text_result(
                        json!({"code": i.code, "name": i.name, "severity": format!("{:?}", i.default_severity).to_lowercase(), "summary": i.summary, "why": i.why, "example": i.example}),
                        false,
                    )),
                    None => Ok(text_result(
                        json!({"error": format!("`{c}` is not a diagnostic code vigil has")}),
                        true,
                    )),
                }
            }
            other => Err(McpError::invalid_params(
                format!("unknown tool `{other}`"),
                None,
            )),
        }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("vigil", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "vigil checks KQL for Microsoft Sentinel as Sentinel would: validate_query before proposing a query, describe_table for columns, dry_run_query on sample data.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments.unwrap_or_default();
        self.call(&request.name, &args)
    }
}
