//! Where the engine's tables, stored functions and watchlists come from.

use std::sync::Arc;

use super::table::Table;

/// A stored function: its parameter list as written (`(a:string, b:long)`, or empty) and body.
#[derive(Clone, Debug)]
pub struct StoredFunction {
    pub params: String,
    pub body: String,
}

/// Where tables, stored functions and watchlists come from.
pub trait DataSource {
    fn table(&self, name: &str) -> Option<Arc<Table>>;
    fn function(&self, _name: &str) -> Option<StoredFunction> {
        None
    }
    fn watchlist(&self, _alias: &str) -> Option<Arc<Table>> {
        None
    }
    /// Every table name (for `union *`).
    fn table_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// The text of an `externaldata` URL, from a local copy (the engine never downloads).
    fn external(&self, _url: &str) -> Option<Result<String, String>> {
        None
    }
    /// The message for a name that is neither data, a variable nor a function.
    fn missing_table(&self, name: &str) -> String {
        format!("`{name}` is not a table in the sandbox data, a variable or a function")
    }
}
