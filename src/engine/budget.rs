//! The budget of one query run: an untrusted query (a pull request's rule, an AI draft) must
//! not take down the runner. Rows any one operator materialises, the estimated memory of one
//! table, the wall-clock time of the query, and the number of function bodies evaluated (the
//! binder has the same call budget). Exceeding any of them is an error that says "query
//! exceeds the sandbox budget: ...", never a truncated result.
//!
//! The process default is set once per run from the trusted configuration (`[engine]` in
//! vigil.toml, via `ops::Context`); engine runs read it when they start.

use std::sync::RwLock;
use std::time::Duration;

use super::error::EngineError;

/// Limits of one query.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Most rows one operator may produce.
    pub max_rows: usize,
    /// Most estimated bytes of one table (values are counted at their in-memory size).
    pub max_bytes: u64,
    /// Wall-clock time of one query.
    pub query_time: Duration,
    /// Most function bodies (let-bound or stored functions) evaluated by one query.
    pub max_calls: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_rows: 10_000_000,
            max_bytes: 2 * 1024 * 1024 * 1024,
            query_time: Duration::from_secs(30),
            max_calls: 10_000,
        }
    }
}

static PROCESS: RwLock<Option<Budget>> = RwLock::new(None);

/// Set the budget every later query of this process runs under.
pub fn set_default(b: Budget) {
    if let Ok(mut g) = PROCESS.write() {
        *g = Some(b);
    }
}

/// The budget queries run under (the process default, else [`Budget::default`]).
pub fn current() -> Budget {
    PROCESS.read().ok().and_then(|g| *g).unwrap_or_default()
}

/// The error of an exceeded budget.
pub fn exceeded(what: impl std::fmt::Display) -> EngineError {
    EngineError::new(
        format!("query exceeds the sandbox budget: {what} (limits are set in the trusted vigil.toml, [engine])"),
        None,
    )
}

/// Bytes a value takes in a column, beyond its heap data.
pub const VALUE_BYTES: u64 = std::mem::size_of::<super::value::Value>() as u64;
