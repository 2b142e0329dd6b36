//! The output edge of compilation: compiles and writes each definition's files as it goes,
//! then the combined ARM templates, the manifest and the Markdown summary. Paths and bytes
//! depend only on the inputs. Only a small record per item is kept in memory. Files from an
//! earlier run that this run did not write are removed, so the folder mirrors the content.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::json;

use crate::compile::{self, templates::Templates, Artifact, ProvenanceSummary};
use crate::diagnostics::Diagnostic;
use crate::model::{ContentKind, Definition};

/// Write a file, creating its folder.
pub fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Write `text` unless the file already holds exactly these bytes (rewriting unchanged files is
/// the slowest part of a re-run on most file systems).
fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.len() == text.len() as u64
            && std::fs::read(path).is_ok_and(|old| old == text.as_bytes())
        {
            return Ok(());
        }
    }
    std::fs::write(path, text)
}

/// Folders under the output folder that vigil owns.
fn owned_dirs() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = ContentKind::ALL.iter().map(|k| k.plural()).collect();
    v.push("arm");
    v
}

fn existing_files(out_dir: &Path) -> BTreeSet<PathBuf> {
    let mut set = BTreeSet::new();
    for d in owned_dirs() {
        if let Ok(rd) = std::fs::read_dir(out_dir.join(d)) {
            for e in rd.flatten() {
                set.insert(e.path());
            }
        }
    }
    set
}

/// File creation is bound by the file system, not the CPU: write with more threads than cores.
fn io_pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        rayon::ThreadPoolBuilder::new()
            .num_threads((n * 2).min(16))
            .build()
            .expect("thread pool")
    })
}

/// What is kept of an item once its files are written.
#[derive(Clone, Debug)]
pub struct Record {
    pub kind: ContentKind,
    pub name: String,
    pub display_name: String,
    pub source: String,
    pub path: String,
    pub api_version: String,
    pub content_hash: String,
    pub provenance: Option<ProvenanceSummary>,
    /// The size of the item's ARM resources text (for splitting the combined templates; the
    /// text itself is compiled again when a combined template is written, so memory stays
    /// flat in the number of definitions).
    pub arm_len: usize,
    /// Index of the definition in the list being compiled.
    pub index: usize,
}

/// What writing produced.
pub struct Written {
    pub items: usize,
    pub templates: usize,
    pub resources: usize,
    pub diagnostics: Vec<Diagnostic>,
}

fn item_file(out_dir: &Path, kind: ContentKind, name: &str, ext: &str) -> PathBuf {
    out_dir.join(kind.plural()).join(format!("{name}{ext}"))
}

/// Write one compiled artifact's two files; returns its record.
fn write_item(
    out_dir: &Path,
    index: usize,
    a: Artifact,
    wrapper: &compile::templates::ArmWrapper,
) -> anyhow::Result<Record> {
    let kind = a.content_kind;
    let mut body = serde_json::to_string_pretty(&a)?;
    body.push('\n');
    write_if_changed(&item_file(out_dir, kind, &a.name, ".json"), &body)?;
    let arm_text = a.arm_text();
    let mut arm = wrapper.assemble(
        &format!("{} {} ({})", a.kind, a.display_name, a.source),
        &format!("[\n{arm_text}\n]"),
    );
    arm.push('\n');
    write_if_changed(&item_file(out_dir, kind, &a.name, ".arm.json"), &arm)?;
    Ok(Record {
        kind,
        name: a.name,
        display_name: a.display_name,
        source: a.source,
        path: a.resource.path,
        api_version: a.resource.api_version,
        content_hash: a.content_hash,
        provenance: a.provenance,
        arm_len: arm_text.len(),
        index,
    })
}

/// Compile `defs` and write every output file into `out_dir`.
pub fn compile_and_write(
    out_dir: &Path,
    defs: &[&Definition],
    opts: &compile::Options<'_>,
    templates: &Templates,
) -> anyhow::Result<Written> {
    let wrapper = templates.arm_wrapper().map_err(anyhow::Error::msg)?;
    let before = existing_files(out_dir);
    for d in owned_dirs() {
        std::fs::create_dir_all(out_dir.join(d))?;
    }
    let records: Vec<Record> = io_pool().install(|| {
        defs.par_iter()
            .enumerate()
            .map(|(i, d)| write_item(out_dir, i, compile::compile_one(d, opts), &wrapper))
            .collect::<anyhow::Result<_>>()
    })?;
    write_rest(out_dir, defs, records, opts, templates, &wrapper, before)
}

fn write_rest(
    out_dir: &Path,
    defs: &[&Definition],
    mut records: Vec<Record>,
    opts: &compile::Options<'_>,
    templates: &Templates,
    wrapper: &compile::templates::ArmWrapper,
    before: BTreeSet<PathBuf>,
) -> anyhow::Result<Written> {
    records.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    let pieces: Vec<compile::Piece<'_>> = records
        .iter()
        .map(|r| compile::Piece {
            kind: r.kind,
            name: &r.name,
            size: r.arm_len,
        })
        .collect();
    let (groups, diagnostics) = compile::split_combined(
        &pieces,
        opts.config.max_resources_per_template,
        opts.config.max_template_bytes,
    );
    groups
        .par_iter()
        .enumerate()
        .try_for_each(|(i, g)| -> anyhow::Result<()> {
            let joined = g
                .iter()
                .map(|&j| compile::compile_one(defs[records[j].index], opts).arm_text())
                .collect::<Vec<_>>()
                .join(",\n");
            let mut text = wrapper.assemble(
                &format!("vigil combined template {} of {}", i + 1, groups.len()),
                &format!("[\n{joined}\n]"),
            );
            text.push('\n');
            write_if_changed(
                &out_dir
                    .join("arm")
                    .join(format!("combined-{:03}.json", i + 1)),
                &text,
            )?;
            Ok(())
        })?;
    // Remove what an earlier run wrote and this one did not.
    let mut now: BTreeSet<PathBuf> = BTreeSet::new();
    for r in &records {
        now.insert(item_file(out_dir, r.kind, &r.name, ".json"));
        now.insert(item_file(out_dir, r.kind, &r.name, ".arm.json"));
    }
    for i in 1..=groups.len() {
        now.insert(out_dir.join("arm").join(format!("combined-{i:03}.json")));
    }
    for stale in before.difference(&now) {
        if stale.is_file() {
            std::fs::remove_file(stale)?;
        }
    }
    let env = opts.environment;
    let manifest = json!({
        "version": 1,
        "generator": format!("vigil {}", env!("CARGO_PKG_VERSION")),
        "environment": env,
        "items": records.iter().map(|r| json!({
            "kind": r.kind.as_str(),
            "name": r.name,
            "displayName": r.display_name,
            "source": r.source,
            "path": r.path,
            "apiVersion": r.api_version,
            "contentHash": r.content_hash,
            "file": format!("{}/{}.json", r.kind.plural(), r.name),
        })).collect::<Vec<_>>(),
        "templates": (1..=groups.len()).map(|i| format!("arm/combined-{i:03}.json")).collect::<Vec<_>>(),
    });
    write_file(
        &out_dir.join("manifest.json"),
        &(serde_json::to_string_pretty(&manifest)? + "\n"),
    )?;
    let resources = groups.iter().map(|g| g.len() * 2).sum::<usize>();
    let summary = summary_data(&records, groups.len(), resources, env);
    let md = templates
        .render(compile::templates::SUMMARY, &summary)
        .map_err(anyhow::Error::msg)?;
    write_file(&out_dir.join("summary.md"), &md)?;
    Ok(Written {
        items: records.len(),
        templates: groups.len(),
        resources,
        diagnostics,
    })
}

/// Data for the Markdown summary template.
pub fn summary_data(
    records: &[Record],
    templates: usize,
    resources: usize,
    env: Option<&str>,
) -> serde_json::Value {
    let counts: Vec<_> = ContentKind::ALL
        .iter()
        .map(|k| {
            json!({
                "kind": k.plural(),
                "count": records.iter().filter(|r| r.kind == *k).count(),
            })
        })
        .collect();
    let ai: Vec<_> = records
        .iter()
        .filter_map(|r| {
            let p = r.provenance.as_ref().filter(|p| p.origin == "ai")?;
            Some(json!({
                "name": r.display_name,
                "model": p.model.clone().unwrap_or_else(|| "unknown".into()),
                "approvedBy": if p.approved_by.is_empty() { None } else { Some(p.approved_by.join(", ")) },
            }))
        })
        .collect();
    json!({
        "environment": env,
        "counts": counts,
        "ai": ai,
        "items": records.iter().map(|r| json!({
            "kind": r.kind.as_str(),
            "name": r.name,
            "displayName": r.display_name,
            "apiVersion": r.api_version,
            "source": r.source,
        })).collect::<Vec<_>>(),
        "templates": templates,
        "resources": resources,
    })
}
