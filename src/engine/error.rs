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

thread_local! {
    static CONTAINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run a third-party decoder on untrusted bytes (a Parquet file, a geo-IP database) where a
/// panic in it must become an error about the input, not end the run: the panic is caught, and
/// the panic hook (installed once, chained to the one before it) stays silent for it, so the
/// user sees one diagnostic. Each thread that decodes calls this itself.
pub fn contain_panics<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.with(|c| c.get()) {
                previous(info)
            }
        }));
    });
    let was = CONTAINED.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CONTAINED.with(|c| c.set(was));
    r.unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(format!("the decoder failed on this input ({why})"))
    })
}
