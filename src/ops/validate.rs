//! `vigil validate`: YAML, schema, Sentinel's limits, provenance and policy, KQL.

use std::path::PathBuf;

use super::{open_selected, Context, OpError};
use crate::diagnostics::Diagnostic;
use crate::pipeline::{self, Stats};
use crate::source::SourceDb;

/// What to validate.
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    /// Files or folders to report on (empty: the whole repository). The whole repository is
    /// always loaded: its functions and watchlists are known to every query.
    pub paths: Vec<PathBuf>,
    /// Run the KQL analysis (syntax, binding, lints).
    pub kql: bool,
}

/// The diagnostics of the selected files.
pub struct ValidateOutcome {
    pub db: SourceDb,
    pub diagnostics: Vec<Diagnostic>,
    pub stats: Stats,
}

pub fn validate(cx: &Context, o: &ValidateOptions) -> Result<ValidateOutcome, OpError> {
    let (ws, sel) = open_selected(cx, &o.paths);
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &cx.siblings());
    let analyzer: Option<&dyn crate::validate::QueryAnalyzer> =
        if o.kql { Some(&kql) } else { None };
    let checked = pipeline::check_selected(&ws, &cx.siblings(), analyzer, true, sel.as_ref());
    Ok(ValidateOutcome {
        diagnostics: checked.diagnostics,
        stats: checked.stats,
        db: ws.db,
    })
}
