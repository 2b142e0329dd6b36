//! `vigil compile [PATHS...] --out DIR [--env E]`

use std::path::{Path, PathBuf};

use clap::Args;

use super::report::report;
use super::{out, Global, ReportArgs};
use crate::compile::{self, templates::Templates};
use crate::model::load::FsReader;
use crate::{pipeline, workspace};

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Files or folders to compile (default: the whole repository).
    pub paths: Vec<PathBuf>,
    /// Output folder.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Apply this environment's per-definition overrides.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Load user overrides of the built-in templates from `<root>/templates/`.
pub fn templates(root: &Path) -> anyhow::Result<Templates> {
    let mut t = Templates::new();
    for name in [
        compile::templates::ARM_TEMPLATE,
        compile::templates::SUMMARY,
        compile::templates::GATE_COMMENT,
    ] {
        let p = root.join("templates").join(name);
        if let Ok(text) = std::fs::read_to_string(&p) {
            t.set(name, &text).map_err(anyhow::Error::msg)?;
        }
    }
    Ok(t)
}

pub fn exec(g: &Global, a: CompileArgs) -> anyhow::Result<i32> {
    let root = g.root()?;
    let ws = workspace::open(&root, &g.paths(&a.paths)?);
    if let Some(env) = &a.env {
        if !ws.config.environments.is_empty() && !ws.config.environments.contains_key(env) {
            let known: Vec<&str> = ws.config.environments.keys().map(|s| s.as_str()).collect();
            anyhow::bail!(
                "[{}] environment `{env}` is not defined in vigil.toml (defined: {})",
                crate::diagnostics::code::UNKNOWN_ENVIRONMENT,
                known.join(", ")
            );
        }
    }
    let reader = FsReader { root: root.clone() };
    // Compilation does not need the YAML trees: release them as soon as each file is checked.
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace(&ws);
    let checked = pipeline::check_with(&ws, &reader, Some(&kql), false);
    let templates = templates(&root)?;
    let out_dir = if a.out.is_absolute() {
        a.out.clone()
    } else {
        std::env::current_dir()?.join(&a.out)
    };
    let defs = pipeline::compilable(&checked);
    let opts = pipeline::options(&ws, a.env.as_deref());
    let written = crate::emit::compile_and_write(&out_dir, &defs, &opts, &templates)?;
    let mut diags = checked.diagnostics.clone();
    diags.extend(written.diagnostics);
    let summary = format!(
        " ({} compiled into {}, {} combined template(s))",
        written.items,
        crate::diagnostics::render::display_path(&a.out),
        written.templates
    );
    let code = report(g, &a.report, &ws.db, &diags, checked.stats.files, &summary)?;
    if g.verbose {
        out(&format!("wrote {}\n", out_dir.display()))?;
    }
    Ok(code)
}
