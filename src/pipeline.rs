//! The pipeline driver: load every file of a workspace, validate, compile.
//!
//! `load (YAML + spans) → validate (schema, limits, KQL seam) → compile (payloads)`.
//! Each command stops at the stage it needs and none re-implements a stage.

use rayon::prelude::*;
use serde::Serialize;

use crate::compile;
use crate::diagnostics::{self, Diagnostic};
use crate::model::load::{self, SiblingReader};
use crate::model::{ContentKind, Definition};
use crate::validate::{self, QueryAnalyzer};
use crate::workspace::Workspace;

/// Counts of what a run saw.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub files: usize,
    pub definitions: usize,
    pub rules: usize,
    pub hunts: usize,
    pub functions: usize,
    pub anomalies: usize,
    pub watchlists: usize,
    pub stubs: usize,
    pub unclassified: usize,
}

/// The result of checking a workspace.
pub struct Checked {
    pub definitions: Vec<Definition>,
    pub diagnostics: Vec<Diagnostic>,
    pub stats: Stats,
    /// Files (by index in `definitions`' order) that had at least one error.
    pub files_with_errors: usize,
}

/// Load and validate every content file of the workspace. Each file is loaded and checked on
/// its own in parallel; unless `keep_trees`, its YAML tree is released right after, so memory
/// stays proportional to the typed items, not to the trees.
pub fn check(
    ws: &Workspace,
    siblings: &dyn SiblingReader,
    analyzer: Option<&dyn QueryAnalyzer>,
) -> Checked {
    check_with(ws, siblings, analyzer, true)
}

/// [`check`], choosing whether definitions keep their YAML trees.
pub fn check_with(
    ws: &Workspace,
    siblings: &dyn SiblingReader,
    analyzer: Option<&dyn QueryAnalyzer>,
    keep_trees: bool,
) -> Checked {
    let ctx = validate::Context {
        environments: ws.config.environments.keys().cloned().collect(),
        analyzer,
        policy: &ws.config.policy,
    };
    let loaded: Vec<load::Loaded> = ws
        .files
        .par_iter()
        .map(|&f| {
            let mut l = load::load(f, ws.db.get(f), &ws.config.content, siblings);
            if let Some(d) = &mut l.definition {
                l.diagnostics
                    .extend(validate::check_definition(d, &ws.db.get(f).text, &ctx));
                if !keep_trees {
                    d.doc = crate::yaml::Node::empty();
                }
            }
            l
        })
        .collect();
    let mut stats = Stats {
        files: ws.files.len() + ws.unreadable.len(),
        ..Stats::default()
    };
    let mut diags = ws.diagnostics.clone();
    let mut defs = Vec::new();
    for l in loaded {
        stats.stubs += l.stub as usize;
        stats.unclassified += l.unclassified as usize;
        diags.extend(l.diagnostics);
        if let Some(d) = l.definition {
            defs.push(d);
        }
    }
    for d in &defs {
        stats.definitions += 1;
        match d.kind() {
            ContentKind::Rule => stats.rules += 1,
            ContentKind::Hunt => stats.hunts += 1,
            ContentKind::Function => stats.functions += 1,
            ContentKind::Anomaly => stats.anomalies += 1,
            ContentKind::Watchlist => stats.watchlists += 1,
        }
    }
    diags.extend(validate::repo_checks(&defs));
    diags.extend(validate::policy::repo_checks(&defs, &ws.config.policy));
    apply_severity_overrides(ws, &mut diags);
    diagnostics::sort(&mut diags);
    let mut err_files: Vec<_> = diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.span.file)
        .collect();
    err_files.dedup();
    Checked {
        files_with_errors: err_files.len(),
        definitions: defs,
        diagnostics: diags,
        stats,
    }
}

/// `[lints]` in vigil.toml: per-code (or per-name) severity, or `off`.
fn apply_severity_overrides(ws: &Workspace, diags: &mut Vec<Diagnostic>) {
    if ws.config.lints.is_empty() {
        return;
    }
    let mut table: Vec<(&'static str, Option<diagnostics::Severity>)> = Vec::new();
    let config_file = ws
        .db
        .iter()
        .find(|(_, f)| f.path.as_os_str() == "vigil.toml")
        .map(|(id, _)| id);
    for (key, value) in &ws.config.lints {
        let info = diagnostics::CATALOG
            .iter()
            .find(|c| c.code == key || c.name == key);
        let sev = match value.as_str() {
            "off" => Some(None),
            "note" => Some(Some(diagnostics::Severity::Note)),
            "warning" => Some(Some(diagnostics::Severity::Warning)),
            "error" => Some(Some(diagnostics::Severity::Error)),
            _ => None,
        };
        match (info, sev) {
            (Some(i), Some(s)) => table.push((i.code, s)),
            _ => {
                if let Some(f) = config_file {
                    diags.push(
                        Diagnostic::new(
                            diagnostics::code::CONFIG_ERROR,
                            crate::source::Span::file_start(f),
                            format!("[lints] {key} = \"{value}\": unknown code or level"),
                        )
                        .with_hint("use a code or name from docs/diagnostics.md and off, note, warning or error"),
                    );
                }
            }
        }
    }
    diags.retain_mut(
        |d| match table.iter().find(|(c, _)| *c == d.code.as_str()) {
            Some((_, None)) => false,
            Some((_, Some(s))) => {
                d.severity = *s;
                true
            }
            None => true,
        },
    );
}

/// The definitions whose files have no errors: what may be compiled.
pub fn compilable(checked: &Checked) -> Vec<&Definition> {
    let mut bad: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.span.file)
        .collect();
    bad.sort();
    bad.dedup();
    checked
        .definitions
        .iter()
        .filter(|d| bad.binary_search(&d.file).is_err())
        .collect()
}

/// Compile options from a workspace's configuration.
pub fn options<'a>(ws: &'a Workspace, environment: Option<&'a str>) -> compile::Options<'a> {
    compile::Options {
        config: &ws.config.compile,
        project: &ws.config.project,
        environment,
        rollout: &ws.config.policy.rollout,
    }
}

/// Compile the definitions of a checked workspace whose files have no errors.
pub fn compile(
    ws: &Workspace,
    checked: &Checked,
    environment: Option<&str>,
) -> Vec<compile::Artifact> {
    let opts = options(ws, environment);
    compilable(checked)
        .par_iter()
        .map(|d| compile::compile_one(d, &opts))
        .collect()
}
