//! The Log Analytics query API of the emulator answers through [`QueryEngine`], so the
//! embedded KQL engine (`src/engine/`, built separately) plugs in without the emulator knowing
//! it. Until it is wired, [`NotWired`] answers every query with a "not supported yet" error.

use serde::Serialize;
use serde_json::Value;

/// One result table, in the query API's shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryTable {
    pub name: String,
    /// `(name, type)`; types as the query API spells them (`string`, `long`, `datetime`, ...).
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Value>>,
    /// What the query read, for `Prefer: include-statistics=true`: (rows, bytes).
    #[serde(skip)]
    pub scanned: Option<(u64, u64)>,
}

impl QueryTable {
    /// The table as the query API writes it: `{name, columns: [{name, type}], rows}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "columns": self.columns.iter()
                .map(|(n, t)| serde_json::json!({"name": n, "type": t}))
                .collect::<Vec<_>>(),
            "rows": self.rows,
        })
    }
}

/// Rows a workspace holds beyond the data folder: what arrived through the Logs Ingestion API
/// and what the emulator itself wrote (`SecurityAlert`, `SecurityIncident`, `SentinelHealth`),
/// per table, oldest first. Tables only grow, so (table, length) names a content.
pub type Logs = std::collections::BTreeMap<String, std::sync::Arc<Vec<Value>>>;

/// One call of the query API.
pub struct QueryRequest<'a> {
    /// The workspace GUID from the path, so one engine can keep data per workspace.
    pub workspace: &'a str,
    pub query: &'a str,
    pub timespan: Option<&'a str>,
    /// The emulator's virtual clock (RFC 3339), when it runs on one: `now()` of the query.
    pub now: Option<&'a str>,
    pub logs: &'a Logs,
}

/// An alert one rule run raised.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RaisedAlert {
    pub display_name: String,
    pub description: String,
    pub severity: String,
    /// Results in this alert.
    pub rows: usize,
    pub entities: Vec<Value>,
    pub custom_details: serde_json::Map<String, Value>,
}

/// One scheduled run of an alert rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleRun {
    /// Rows the query returned.
    pub rows: usize,
    /// The alerts the trigger and event grouping made (before suppression).
    pub alerts: Vec<RaisedAlert>,
}

/// Runs KQL for the emulator's `POST /v1/workspaces/{id}/query` and its scheduler.
pub trait QueryEngine: Send + Sync {
    fn run(&self, request: &QueryRequest<'_>) -> Result<QueryTable, String>;

    /// The tables a workspace holds data in (for the ARM tables list).
    fn tables(&self, _workspace: &str, _logs: &Logs) -> Vec<String> {
        Vec::new()
    }

    /// Run an alert rule once, as Sentinel's scheduler does: `kind` and `properties` as the
    /// rule's REST resource has them, its query period ending at `end` (RFC 3339).
    fn run_rule(
        &self,
        _workspace: &str,
        _kind: &str,
        _properties: &Value,
        _end: &str,
        _logs: &Logs,
    ) -> Result<RuleRun, String> {
        Err(NOT_WIRED.to_string())
    }
}

/// The default engine: no engine yet.
pub struct NotWired;

/// The message [`NotWired`] answers with.
pub const NOT_WIRED: &str = "not supported yet: query execution (embedded engine not wired)";

impl QueryEngine for NotWired {
    fn run(&self, _: &QueryRequest<'_>) -> Result<QueryTable, String> {
        Err(NOT_WIRED.to_string())
    }
}
