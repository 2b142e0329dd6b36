//! The Log Analytics query API (data plane): `POST /v1/workspaces/{id}/query` with a
//! timespan and `Prefer: include-statistics=true`, and `GET /v1/workspaces/{id}/metadata`
//! (the workspace's tables and functions, for `vigil schema pull`). Partial errors (200 with
//! `error.code = PartialError`) are returned beside the data so callers can fail on them.

use serde_json::{json, Value};

use super::client::{AzureError, Client};

/// One result table.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    /// `(name, type)`.
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
}

/// A query's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResult {
    pub tables: Vec<Table>,
    pub statistics: Option<Value>,
    /// `error` of a 200 answer (`PartialError`): the data is incomplete.
    pub partial_error: Option<String>,
}

/// Scope of tokens for the query API.
pub const SCOPE: &str = "https://api.loganalytics.io/.default";

fn tables(body: &Value) -> Vec<Table> {
    body["tables"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| Table {
                    name: t["name"].as_str().unwrap_or("").to_string(),
                    columns: t["columns"]
                        .as_array()
                        .map(|cs| {
                            cs.iter()
                                .map(|c| {
                                    (
                                        c["name"].as_str().unwrap_or("").to_string(),
                                        c["type"].as_str().unwrap_or("").to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    rows: t["rows"]
                        .as_array()
                        .map(|rs| {
                            rs.iter()
                                .map(|r| r.as_array().cloned().unwrap_or_default())
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Run a query. `timespan`: ISO-8601 duration or interval (`PT1H`, `start/end`).
pub async fn query(
    client: &Client,
    workspace_id: &str,
    text: &str,
    timespan: Option<&str>,
    statistics: bool,
) -> Result<QueryResult, AzureError> {
    let mut body = json!({ "query": text });
    if let Some(t) = timespan {
        body["timespan"] = json!(t);
    }
    let prefer = if statistics {
        vec![("Prefer", "include-statistics=true")]
    } else {
        Vec::new()
    };
    let r = client
        .send(
            crate::rest::Method::Post,
            &format!("v1/workspaces/{workspace_id}/query"),
            None,
            Some(&body),
            &prefer,
        )
        .await?;
    if r.status == 204 {
        return Ok(QueryResult {
            tables: Vec::new(),
            statistics: None,
            partial_error: None,
        });
    }
    Ok(QueryResult {
        tables: tables(&r.body),
        statistics: r.body.get("statistics").cloned(),
        partial_error: r.body.get("error").map(|e| {
            format!(
                "{}: {}",
                e["code"].as_str().unwrap_or("PartialError"),
                e["message"].as_str().unwrap_or("")
            )
        }),
    })
}

/// The workspace's tables and functions, as the metadata endpoint returns them.
pub async fn metadata(client: &Client, workspace_id: &str) -> Result<Value, AzureError> {
    Ok(client
        .send(
            crate::rest::Method::Get,
            &format!("v1/workspaces/{workspace_id}/metadata"),
            None,
            None,
            &[],
        )
        .await?
        .body)
}
