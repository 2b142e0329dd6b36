//! `vigil mcp`: serve the repository's KQL front end, catalog and sandbox to MCP clients over
//! stdio until the client closes it (`crate::mcp`).

use super::{Context, OpError};
use crate::diagnostics::render::{self, HumanOptions};
use crate::mcp::{Repository, Server};

/// What the server answers from, built once.
pub fn repository(cx: &Context) -> Result<Repository, OpError> {
    let ws = cx.workspace();
    let siblings = cx.siblings();
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &siblings);
    let checked = crate::pipeline::check(&ws, &siblings, None);
    let sandbox = crate::sandbox::for_repository(
        &cx.root,
        &cx.sandbox_dir()?,
        &checked.definitions,
        &cx.config,
    );
    let tables_with_data = sandbox.table_names();
    let root = cx.root.clone();
    let config = cx.config.clone();
    let config_text = cx.config_text().map(String::from);
    let validate_file = move |named: &str| -> Result<(bool, String), String> {
        // Content the client names stays inside the repository.
        let abs = crate::paths::contained(&root, std::path::Path::new(""), named)
            .map_err(|e| e.to_string())?;
        let ws = crate::workspace::open_with(
            &root,
            &[root.clone(), abs.clone()],
            &config,
            config_text.as_deref(),
        );
        let rel = crate::workspace::relative(&root, &abs);
        let selected: std::collections::BTreeSet<_> = ws
            .files
            .iter()
            .copied()
            .filter(|&f| ws.db.path(f) == rel.as_path())
            .collect();
        if selected.is_empty() {
            return Err(format!("`{named}` is not a content file of the repository"));
        }
        let reader = crate::model::load::FsReader { root: root.clone() };
        let kql = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &reader);
        let checked =
            crate::pipeline::check_selected(&ws, &reader, Some(&kql), false, Some(&selected));
        let errors = checked.diagnostics.iter().any(|d| d.is_error());
        let text = render::human(
            &ws.db,
            &checked.diagnostics,
            HumanOptions {
                color: false,
                width: 100,
            },
        );
        Ok((errors, text))
    };
    Ok(Repository {
        root: cx.root.clone(),
        catalog: kql.catalog().clone(),
        sandbox,
        now: cx.sandbox().now,
        tables_with_data,
        redactor: cx.redactor(),
        validate_file: Box::new(validate_file),
        check_query: Box::new(|q, catalog| {
            super::kql_check::answer(&serde_json::Value::Null, q, Some(catalog))
        }),
    })
}

/// Serve on stdin/stdout until the client disconnects.
pub fn mcp(cx: &Context) -> Result<(), OpError> {
    use rmcp::ServiceExt;
    let server = Server::new(repository(cx)?);
    let rt = super::deploy::runtime()?;
    rt.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| OpError::internal(format!("MCP: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| OpError::internal(format!("MCP: {e}")))?;
        Ok(())
    })
}
