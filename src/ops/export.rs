//! `vigil export`: the live content of an environment's workspaces as vigil YAML; with
//! `update`, each item written over the file that defines it (how portal drift comes back
//! into git).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::deploy::{env_compile_config, runtime};
use super::{Context, OpError};
use crate::deploy::env::Environment;
use crate::pipeline;

#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    pub env: String,
    /// Output folder (one subfolder per workspace when the environment has several).
    pub out: PathBuf,
    /// Write into the repository instead, over each defining file (see the module docs).
    pub update: bool,
}

/// What was exported from one workspace.
pub struct ExportedWorkspace {
    pub label: String,
    /// Where new files went (absolute).
    pub dir: PathBuf,
    pub files: usize,
    /// Files updated in place (`update`).
    pub updated: usize,
    /// Items not updated in place, with the reason.
    pub notes: Vec<String>,
    /// Live items that could not be exported, with the reason.
    pub skipped: Vec<String>,
}

pub struct ExportOutcome {
    pub workspaces: Vec<ExportedWorkspace>,
}

/// vigil's own keys, which the live workspace does not hold: kept from the file on `update`.
const VIGIL_KEYS: &[&str] = &[
    "provenance",
    "review",
    "rollout",
    "environments",
    "tests",
    "guard",
    "hypothesis",
];

/// Where an item is defined and how to rewrite its file.
struct RepoItem {
    path: PathBuf,
    /// vigil keys as YAML.
    keep: String,
    /// The compiled provenance footer to strip from the description.
    footer: Option<String>,
    /// Why the file is not rewritten (a rollout rewrites the payload).
    note: Option<String>,
}

fn repo_items(cx: &Context, envr: &Environment) -> BTreeMap<String, RepoItem> {
    let ws = cx.workspace();
    let checked = pipeline::check_with(&ws, &cx.siblings(), None, false);
    let cfg = env_compile_config(&ws.config, envr);
    let opts = crate::compile::Options::for_env(&ws.config, &cfg, Some(&envr.name));
    let mut by_name = BTreeMap::new();
    for d in pipeline::compilable(&checked) {
        let art = crate::compile::compile_one(d, &opts);
        let old = crate::yaml::parse(crate::source::FileId(0), &ws.db.get(d.file).text)
            .root
            .map(|n| crate::yaml::to_json(&n))
            .unwrap_or_default();
        let mut keep = serde_json::Map::new();
        for k in VIGIL_KEYS {
            if let Some(v) = old.get(*k) {
                keep.insert((*k).to_string(), v.clone());
            }
        }
        let keep = if keep.is_empty() {
            String::new()
        } else {
            crate::deploy::export::yaml(&serde_json::Value::Object(keep))
        };
        let footer = if cfg.provenance_footer {
            crate::model::footer::footer(d.provenance(), d.review())
        } else {
            None
        };
        let stage = crate::rollout::effective(d, Some(&envr.name));
        let note = (stage != crate::model::Rollout::Active).then(|| {
            format!(
                "{}: rollout `{}` in `{}` rewrites the payload; update the file by hand",
                d.path.display(),
                crate::rollout::name(stage),
                envr.name
            )
        });
        by_name.insert(
            art.name.clone(),
            RepoItem {
                path: d.path.clone(),
                keep,
                footer,
                note,
            },
        );
    }
    by_name
}

/// Remove the compiled provenance footer from an exported YAML's description.
fn strip_footer(yaml_text: &str, footer: &str) -> String {
    let Some(root) = crate::yaml::parse(crate::source::FileId(0), yaml_text).root else {
        return yaml_text.to_string();
    };
    let mut v = crate::yaml::to_json(&root);
    let stripped = v
        .get("description")
        .and_then(|d| d.as_str())
        .and_then(|d| d.strip_suffix(footer))
        .map(str::to_string);
    match stripped {
        Some(d) => {
            v["description"] = serde_json::Value::String(d);
            crate::deploy::export::yaml(&v)
        }
        None => yaml_text.to_string(),
    }
}

pub fn export(cx: &Context, o: &ExportOptions) -> Result<ExportOutcome, OpError> {
    let s = cx.session(&o.env)?;
    let rt = runtime()?;
    let lives = rt.block_on(s.observe_all())?;
    let several = s.env.workspaces.len() > 1;
    let repo = if o.update {
        Some(repo_items(cx, &s.env))
    } else {
        None
    };
    let mut out = Vec::new();
    for (ws, live) in s.env.workspaces.iter().zip(&lives) {
        let base = cx.path(&o.out);
        let dir = if several {
            base.join(format!("{}.{}", ws.resource_group, ws.name))
        } else {
            base
        };
        let ex = crate::deploy::export::export(live);
        let mut updated = 0usize;
        let mut notes = Vec::new();
        for ((rel, text), name) in ex.files.iter().zip(&ex.names) {
            let known = repo
                .as_ref()
                .and_then(|r| r.get(name.as_deref().unwrap_or("")));
            match known {
                Some(RepoItem {
                    note: Some(note), ..
                }) => notes.push(note.clone()),
                Some(item) => {
                    // The provenance footer is compiled into the description; the file holds
                    // the description without it.
                    let mut body = match &item.footer {
                        Some(f) => strip_footer(text, f),
                        None => text.clone(),
                    };
                    body.push_str(&item.keep);
                    crate::emit::write_file(&cx.root.join(&item.path), &body)?;
                    updated += 1;
                }
                None => crate::emit::write_file(&dir.join(rel), text)?,
            }
        }
        out.push(ExportedWorkspace {
            label: ws.label(),
            dir,
            files: ex.files.len(),
            updated,
            notes,
            skipped: ex.skipped.clone(),
        });
    }
    Ok(ExportOutcome { workspaces: out })
}
