//! `vigil compile`: REST payloads, metadata and ARM templates for every selected definition
//! without errors, written into a folder.

use std::path::PathBuf;

use super::{open_selected, Context, OpError};
use crate::diagnostics::{code, Diagnostic};
use crate::pipeline::{self, Stats};
use crate::source::SourceDb;

#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Files or folders to compile (empty: the whole repository).
    pub paths: Vec<PathBuf>,
    /// The output folder (relative to the folder the command runs in).
    pub out: PathBuf,
    /// Apply this environment's per-definition overrides.
    pub env: Option<String>,
}

pub struct CompileOutcome {
    pub db: SourceDb,
    /// Validation diagnostics and problems writing the output.
    pub diagnostics: Vec<Diagnostic>,
    pub stats: Stats,
    pub written: crate::emit::Written,
    /// The output folder, absolute.
    pub out_dir: PathBuf,
}

pub fn compile(cx: &Context, o: &CompileOptions) -> Result<CompileOutcome, OpError> {
    if let Some(env) = &o.env {
        let envs = &cx.config.environments;
        if !envs.is_empty() && !envs.contains_key(env) {
            let known: Vec<&str> = envs.keys().map(|s| s.as_str()).collect();
            return Err(OpError::usage(format!(
                "environment `{env}` is not defined in vigil.toml (defined: {})",
                known.join(", ")
            ))
            .with_code(code::UNKNOWN_ENVIRONMENT));
        }
    }
    let (ws, sel) = open_selected(cx, &o.paths);
    // Compilation does not need the YAML trees: release them as soon as each file is checked.
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &cx.siblings());
    let checked = pipeline::check_selected(&ws, &cx.siblings(), Some(&kql), false, sel.as_ref());
    let templates = cx.templates()?;
    let out_dir = cx.path(&o.out);
    let defs = pipeline::compilable(&checked);
    let opts = pipeline::options(&ws, o.env.as_deref());
    let written = crate::emit::compile_and_write(&out_dir, &defs, &opts, &templates)?;
    let mut diagnostics = checked.diagnostics;
    diagnostics.extend(written.diagnostics.iter().cloned());
    Ok(CompileOutcome {
        db: ws.db,
        diagnostics,
        stats: checked.stats,
        written,
        out_dir,
    })
}
