//! The engine's error: a message, where in the query, and whether a feature is missing.

use super::ir::Span;

/// An error while running a query; `unsupported` marks features the engine lacks.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineError {
    pub message: String,
    pub span: Option<Span>,
    pub unsupported: bool,
}

impl EngineError {
    pub fn new(message: impl Into<String>, span: Option<Span>) -> EngineError {
        EngineError {
            message: message.into(),
            span,
            unsupported: false,
        }
    }

    pub fn unsupported(what: impl Into<String>, span: Option<Span>) -> EngineError {
        EngineError {
            message: format!("not supported yet: {}", what.into()),
            span,
            unsupported: true,
        }
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type R<T> = Result<T, EngineError>;
