//! `vigil compile [PATHS...] --out DIR [--env E]`

use std::path::{Path, PathBuf};

use clap::Args;
use rayon::prelude::*;
use serde_json::json;

use super::report::{report, write_file};
use super::{out, Global, ReportArgs};
use crate::compile::{self, templates::Templates, Artifact};
use crate::model::load::FsReader;
use crate::model::ContentKind;
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
    let ws = workspace::open(&root, &a.paths);
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
    let checked = pipeline::check(&ws, &reader, None);
    let output = pipeline::compile(&ws, &checked, a.env.as_deref());
    let templates = templates(&root)?;
    let out_dir = if a.out.is_absolute() {
        a.out.clone()
    } else {
        std::env::current_dir()?.join(&a.out)
    };
    let (groups, mut extra_diags) = compile::split_combined(
        &output.artifacts,
        ws.config.compile.max_resources_per_template,
        ws.config.compile.max_template_bytes,
    );
    write_outputs(
        &out_dir,
        &output.artifacts,
        &groups,
        &templates,
        a.env.as_deref(),
    )?;
    let mut diags = checked.diagnostics.clone();
    diags.append(&mut extra_diags);
    let summary = format!(
        " ({} compiled into {}, {} combined template(s))",
        output.artifacts.len(),
        crate::diagnostics::render::display_path(&a.out),
        groups.len()
    );
    let code = report(g, &a.report, &ws.db, &diags, checked.stats.files, &summary)?;
    if g.verbose {
        out(&format!("wrote {}\n", out_dir.display()))?;
    }
    Ok(code)
}

fn clean(out_dir: &Path) -> anyhow::Result<()> {
    for k in ContentKind::ALL {
        let p = out_dir.join(k.plural());
        if p.is_dir() {
            std::fs::remove_dir_all(&p)?;
        }
    }
    let arm = out_dir.join("arm");
    if arm.is_dir() {
        std::fs::remove_dir_all(&arm)?;
    }
    Ok(())
}

/// Write every compiled file. Paths and contents depend only on the artifacts.
pub fn write_outputs(
    out_dir: &Path,
    artifacts: &[Artifact],
    groups: &[Vec<serde_json::Value>],
    templates: &Templates,
    env: Option<&str>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out_dir)?;
    clean(out_dir)?;
    for k in ContentKind::ALL {
        std::fs::create_dir_all(out_dir.join(k.plural()))?;
    }
    std::fs::create_dir_all(out_dir.join("arm"))?;
    artifacts
        .par_iter()
        .try_for_each(|a| -> anyhow::Result<()> {
            let plural = a.content_kind.map(|k| k.plural()).unwrap_or("other");
            let dir = out_dir.join(plural);
            let mut body = serde_json::to_string_pretty(a)?;
            body.push('\n');
            std::fs::write(dir.join(format!("{}.json", a.name)), body)?;
            let arm = templates
                .arm(
                    &a.arm_resources,
                    &format!("{} {} ({})", a.kind, a.display_name, a.source),
                )
                .map_err(anyhow::Error::msg)?;
            let mut text = serde_json::to_string_pretty(&arm)?;
            text.push('\n');
            std::fs::write(dir.join(format!("{}.arm.json", a.name)), text)?;
            Ok(())
        })?;
    groups
        .par_iter()
        .enumerate()
        .try_for_each(|(i, g)| -> anyhow::Result<()> {
            let arm = templates
                .arm(
                    g,
                    &format!("vigil combined template {} of {}", i + 1, groups.len()),
                )
                .map_err(anyhow::Error::msg)?;
            let mut text = serde_json::to_string_pretty(&arm)?;
            text.push('\n');
            std::fs::write(
                out_dir
                    .join("arm")
                    .join(format!("combined-{:03}.json", i + 1)),
                text,
            )?;
            Ok(())
        })?;
    let mut sorted: Vec<&Artifact> = artifacts.iter().collect();
    sorted.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    let manifest = json!({
        "version": 1,
        "generator": format!("vigil {}", env!("CARGO_PKG_VERSION")),
        "environment": env,
        "items": sorted.iter().map(|a| json!({
            "kind": a.kind,
            "name": a.name,
            "displayName": a.display_name,
            "source": a.source,
            "path": a.resource.path,
            "apiVersion": a.resource.api_version,
            "contentHash": a.content_hash,
            "file": format!("{}/{}.json", a.content_kind.map(|k| k.plural()).unwrap_or("other"), a.name),
        })).collect::<Vec<_>>(),
        "templates": (1..=groups.len()).map(|i| format!("arm/combined-{i:03}.json")).collect::<Vec<_>>(),
    });
    write_file(
        &out_dir.join("manifest.json"),
        &(serde_json::to_string_pretty(&manifest)? + "\n"),
    )?;
    let summary = summary_data(&sorted, groups, env);
    let md = templates
        .render(compile::templates::SUMMARY, &summary)
        .map_err(anyhow::Error::msg)?;
    write_file(&out_dir.join("summary.md"), &md)?;
    Ok(())
}

/// Data for the Markdown summary template.
pub fn summary_data(
    sorted: &[&Artifact],
    groups: &[Vec<serde_json::Value>],
    env: Option<&str>,
) -> serde_json::Value {
    let counts: Vec<_> = ContentKind::ALL
        .iter()
        .map(|k| {
            json!({
                "kind": k.plural(),
                "count": sorted.iter().filter(|a| a.content_kind == Some(*k)).count(),
            })
        })
        .collect();
    let ai: Vec<_> = sorted
        .iter()
        .filter_map(|a| {
            let p = a.provenance.as_ref().filter(|p| p.origin == "ai")?;
            Some(json!({
                "name": a.display_name,
                "model": p.model.clone().unwrap_or_else(|| "unknown".into()),
                "approvedBy": if p.approved_by.is_empty() { None } else { Some(p.approved_by.join(", ")) },
            }))
        })
        .collect();
    json!({
        "environment": env,
        "counts": counts,
        "ai": ai,
        "items": sorted.iter().map(|a| json!({
            "kind": a.kind,
            "name": a.name,
            "displayName": a.display_name,
            "apiVersion": a.resource.api_version,
            "source": a.source,
        })).collect::<Vec<_>>(),
        "templates": groups.len(),
        "resources": groups.iter().map(|g| g.len()).sum::<usize>(),
    })
}
