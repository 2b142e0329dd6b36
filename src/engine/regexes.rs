//! Regular expressions as Kusto has them (RE2 syntax, checked and translated by
//! [`crate::re2`]), compiled once per pattern and thread (a leaf of the engine).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::error::{EngineError, R};

fn err(msg: impl Into<String>) -> EngineError {
    EngineError::new(msg, None)
}

thread_local! {
    static REGEXES: RefCell<HashMap<String, Arc<regex::Regex>>> = RefCell::new(HashMap::new());
}

/// A compiled regular expression in RE2 syntax, as Kusto has it ([`crate::re2`] checks it and
/// translates it for the `regex` crate), cached per pattern.
pub fn regex(pattern: &str) -> R<Arc<regex::Regex>> {
    let rust = re2_to_rust(pattern)?;
    rust_regex(&rust)
}

/// A pattern in RE2 syntax, in the `regex` crate's syntax.
pub fn re2_to_rust(pattern: &str) -> R<String> {
    crate::re2::translate(pattern).map_err(|e| {
        err(format!(
            "invalid regular expression `{pattern}`: RE2 rejects it: {e}"
        ))
    })
}

/// A compiled regular expression in the `regex` crate's syntax, cached per pattern.
pub fn rust_regex(pattern: &str) -> R<Arc<regex::Regex>> {
    REGEXES.with(|m| {
        if let Some(r) = m.borrow().get(pattern) {
            return Ok(r.clone());
        }
        let r = Arc::new(
            regex::Regex::new(pattern)
                .map_err(|e| err(format!("invalid regular expression `{pattern}`: {e}")))?,
        );
        let mut m = m.borrow_mut();
        if m.len() > 256 {
            m.clear();
        }
        m.insert(pattern.to_string(), r.clone());
        Ok(r)
    })
}
