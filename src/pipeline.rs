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
    /// Every definition of the workspace, selected or not (what the repository knows).
    pub definitions: Vec<Definition>,
    /// Diagnostics of the selected files.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts over the selected files.
    pub stats: Stats,
    /// Files (by index in `definitions`' order) that had at least one error.
    pub files_with_errors: usize,
    /// The files a command was asked about (`None`: all).
    pub selected: Option<std::collections::BTreeSet<crate::source::FileId>>,
}

impl Checked {
    /// Whether a definition is in the selection (what is reported and compiled).
    pub fn is_selected(&self, d: &Definition) -> bool {
        self.selected.as_ref().is_none_or(|s| s.contains(&d.file))
    }

    /// The selected definitions.
    pub fn selected_definitions(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.iter().filter(|d| self.is_selected(d))
    }
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
    check_selected(ws, siblings, analyzer, keep_trees, None)
}

/// [`check_with`] for a selection of files: every file is loaded (so the repository's
/// functions, watchlists and identities are known), only the selected ones are validated and
/// reported. `None` selects every file.
pub fn check_selected(
    ws: &Workspace,
    siblings: &dyn SiblingReader,
    analyzer: Option<&dyn QueryAnalyzer>,
    keep_trees: bool,
    selected: Option<&std::collections::BTreeSet<crate::source::FileId>>,
) -> Checked {
    let is_selected = |f: crate::source::FileId| selected.is_none_or(|s| s.contains(&f));
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
            if !is_selected(f) {
                // Known, not judged.
                l.diagnostics.clear();
                l.stub = false;
                l.unclassified = false;
                if let Some(d) = &mut l.definition {
                    if !keep_trees {
                        d.doc = crate::yaml::Node::empty();
                    }
                }
                return l;
            }
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
        files: ws
            .files
            .iter()
            .chain(&ws.unreadable)
            .filter(|f| is_selected(**f))
            .count(),
        ..Stats::default()
    };
    // Problems reading the configuration (file 0) always count; files only when selected.
    let mut diags: Vec<Diagnostic> = ws
        .diagnostics
        .iter()
        .filter(|d| {
            is_selected(d.span.file)
                || ws.db.path(d.span.file) == std::path::Path::new("vigil.toml")
        })
        .cloned()
        .collect();
    let mut defs = Vec::new();
    for l in loaded {
        stats.stubs += l.stub as usize;
        stats.unclassified += l.unclassified as usize;
        diags.extend(l.diagnostics);
        if let Some(d) = l.definition {
            defs.push(d);
        }
    }
    for d in defs.iter().filter(|d| is_selected(d.file)) {
        stats.definitions += 1;
        match d.kind() {
            ContentKind::Rule => stats.rules += 1,
            ContentKind::Hunt => stats.hunts += 1,
            ContentKind::Function => stats.functions += 1,
            ContentKind::Anomaly => stats.anomalies += 1,
            ContentKind::Watchlist => stats.watchlists += 1,
        }
    }
    let mut repo = validate::repo_checks(&defs);
    repo.extend(validate::policy::repo_checks(&defs, &ws.config.policy));
    repo.retain(|d| is_selected(d.span.file));
    diags.extend(repo);
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
        selected: selected.cloned(),
    }
}

/// `[lints]` in vigil.toml: per-code (or per-name) severity, or `off`.
fn apply_severity_overrides(ws: &Workspace, diags: &mut Vec<Diagnostic>) {
    if ws.config.lints.is_empty() {
        return;
    }
    let mut table: Vec<(&'static str, Option<diagnostics::Severity>)> = Vec::new();
    // Keys were checked against the catalog when vigil.toml was read.
    for (key, level) in &ws.config.lints {
        if let Some(i) = diagnostics::CATALOG
            .iter()
            .find(|c| c.code == key || c.name == key)
        {
            table.push((i.code, level.severity()));
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

/// The selected definitions whose files have no errors: what may be compiled.
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
        .selected_definitions()
        .filter(|d| bad.binary_search(&d.file).is_err())
        .collect()
}

/// Compile options from a workspace's configuration.
pub fn options<'a>(ws: &'a Workspace, environment: Option<&'a str>) -> compile::Options<'a> {
    compile::Options::for_env(&ws.config, &ws.config.compile, environment)
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
