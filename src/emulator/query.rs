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

/// Runs KQL for the emulator's `POST /v1/workspaces/{id}/query`. `workspace` is the
/// workspace GUID from the path, so one engine can keep data per workspace.
pub trait QueryEngine: Send + Sync {
    fn run(
        &self,
        workspace: &str,
        query: &str,
        timespan: Option<&str>,
    ) -> Result<QueryTable, String>;
}

/// The default engine: no engine yet.
pub struct NotWired;

/// The message [`NotWired`] answers with.
pub const NOT_WIRED: &str = "not supported yet: query execution (embedded engine not wired)";

impl QueryEngine for NotWired {
    fn run(&self, _: &str, _: &str, _: Option<&str>) -> Result<QueryTable, String> {
        Err(NOT_WIRED.to_string())
    }
}
