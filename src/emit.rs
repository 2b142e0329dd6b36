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

/// The output folder of one run.
#[derive(Clone, Copy)]
struct Out<'a> {
    dir: &'a Path,
    /// Nothing of vigil's was there before this run: write without comparing.
    fresh: bool,
}

impl Out<'_> {
    fn put(&self, path: &Path, text: &str) -> anyhow::Result<()> {
        let r = if self.fresh {
            std::fs::write(path, text)
        } else {
            write_if_changed(path, text)
        };
        r.map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }
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

/// Write one compiled artifact's two files; returns its record and its ARM resources text (for
/// the combined template it goes into).
fn write_item(
    out: Out<'_>,
    a: Artifact,
    wrapper: &compile::templates::ArmWrapper,
) -> anyhow::Result<(Record, String)> {
    let kind = a.content_kind;
    let mut body = serde_json::to_string_pretty(&a)?;
    body.push('\n');
    out.put(&item_file(out.dir, kind, &a.name, ".json"), &body)?;
    let arm_text = a.arm_text();
    let mut arm = wrapper.assemble(
        &format!("{} {} ({})", a.kind, a.display_name, a.source),
        &format!("[\n{arm_text}\n]"),
    );
    arm.push('\n');
    out.put(&item_file(out.dir, kind, &a.name, ".arm.json"), &arm)?;
    let record = Record {
        kind,
        name: a.name,
        display_name: a.display_name,
        source: a.source,
        path: a.resource.path,
        api_version: a.resource.api_version,
        content_hash: a.content_hash,
        provenance: a.provenance,
    };
    Ok((record, arm_text))
}

/// Fills the combined templates while items are compiled: items arrive in deployment order,
/// the [`compile::Splitter`] decides where a template ends, and a full template is written at
/// once, so only one template's text is held.
struct Combined<'a> {
    out: Out<'a>,
    wrapper: &'a compile::templates::ArmWrapper,
    splitter: compile::Splitter,
    /// Resources text of the template being filled.
    text: String,
    items: usize,
    written: usize,
}

impl Combined<'_> {
    fn push(&mut self, r: &Record, arm_text: &str) -> anyhow::Result<()> {
        let piece = compile::Piece {
            kind: r.kind,
            name: &r.name,
            size: arm_text.len(),
        };
        if self.splitter.push(&piece) {
            self.flush()?;
        }
        if self.items > 0 {
            self.text.push_str(",\n");
        }
        self.text.push_str(arm_text);
        self.items += 1;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.items == 0 {
            return Ok(());
        }
        self.written += 1;
        let i = self.written;
        let mut text = self.wrapper.assemble(
            &format!("vigil combined template {i}; deploy the combined templates in number order"),
            &format!("[\n{}\n]", self.text),
        );
        text.push('\n');
        self.out.put(&combined_file(self.out.dir, i), &text)?;
        self.text.clear();
        self.items = 0;
        Ok(())
    }
}

fn combined_file(out_dir: &Path, i: usize) -> PathBuf {
    out_dir.join("arm").join(format!("combined-{i:03}.json"))
}

/// Definitions are compiled in slices of this many, in parallel within a slice; the slice's ARM
/// texts then go into the combined templates in order.
const SLICE: usize = 1024;

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
    // Deployment order, in which the combined templates are filled.
    let mut order: Vec<usize> = (0..defs.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (defs[a], defs[b]);
        (compile::order(a.kind()), a.resource_name())
            .cmp(&(compile::order(b.kind()), b.resource_name()))
    });
    let out = Out {
        dir: out_dir,
        fresh: before.is_empty(),
    };
    let mut combined = Combined {
        out,
        wrapper: &wrapper,
        splitter: compile::Splitter::new(
            opts.config.max_resources_per_template,
            opts.config.max_template_bytes,
        ),
        text: String::new(),
        items: 0,
        written: 0,
    };
    let mut records: Vec<Record> = Vec::with_capacity(defs.len());
    for slice in order.chunks(SLICE) {
        let done: Vec<(Record, String)> = io_pool().install(|| {
            slice
                .par_iter()
                .map(|&i| write_item(out, compile::compile_one(defs[i], opts), &wrapper))
                .collect::<anyhow::Result<_>>()
        })?;
        for (r, arm_text) in done {
            combined.push(&r, &arm_text)?;
            records.push(r);
        }
    }
    combined.flush()?;
    let templates_written = combined.written;
    let diagnostics = std::mem::take(&mut combined.splitter.diagnostics);
    records.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    // Remove what an earlier run wrote and this one did not (nothing to do in a new folder).
    if !before.is_empty() {
        let mut now: BTreeSet<PathBuf> = BTreeSet::new();
        for r in &records {
            now.insert(item_file(out_dir, r.kind, &r.name, ".json"));
            now.insert(item_file(out_dir, r.kind, &r.name, ".arm.json"));
        }
        for i in 1..=templates_written {
            now.insert(combined_file(out_dir, i));
        }
        for stale in before.difference(&now) {
            if stale.is_file() {
                std::fs::remove_file(stale)?;
            }
        }
    }
    let env = opts.environment;
    let manifest = Manifest {
        version: 1,
        generator: format!("vigil {}", env!("CARGO_PKG_VERSION")),
        environment: env,
        items: records
            .iter()
            .map(|r| ManifestItem {
                kind: r.kind.as_str(),
                name: &r.name,
                display_name: &r.display_name,
                source: &r.source,
                path: &r.path,
                api_version: &r.api_version,
                content_hash: &r.content_hash,
                file: format!("{}/{}.json", r.kind.plural(), r.name),
            })
            .collect(),
        templates: (1..=templates_written)
            .map(|i| format!("arm/combined-{i:03}.json"))
            .collect(),
    };
    let resources = records.len() * 2;
    // The manifest and the Markdown summary are independent: written side by side.
    let (manifest_written, summary_written) = rayon::join(
        || -> anyhow::Result<()> {
            write_file(
                &out_dir.join("manifest.json"),
                &(serde_json::to_string_pretty(&manifest)? + "\n"),
            )
        },
        || -> anyhow::Result<()> {
            let summary = summary_data(&records, templates_written, resources, env);
            let md = templates
                .render(compile::templates::SUMMARY, &summary)
                .map_err(anyhow::Error::msg)?;
            write_file(&out_dir.join("summary.md"), &md)
        },
    );
    manifest_written?;
    summary_written?;
    Ok(Written {
        items: records.len(),
        templates: templates_written,
        resources,
        diagnostics,
    })
}

/// `manifest.json`: every item written and the combined templates, in a stable order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    version: u32,
    generator: String,
    environment: Option<&'a str>,
    items: Vec<ManifestItem<'a>>,
    templates: Vec<String>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestItem<'a> {
    kind: &'static str,
    name: &'a str,
    display_name: &'a str,
    source: &'a str,
    path: &'a str,
    api_version: &'a str,
    content_hash: &'a str,
    file: String,
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
