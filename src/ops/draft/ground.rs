//! What the model is told about the target: the tables it can answer (the environment's
//! pulled catalog, else the embedded one) narrowed to tables with data (the sandbox's, or with
//! `--env` the workspace's tables seen over the sandbox window through the query API), their
//! columns and types, the repository's functions and watchlists, the ATT&CK techniques the input
//! names, and the existing rules and hunts nearest to the draft (same techniques, or later the
//! same tables) so the model does not duplicate them.

use super::super::{Context, OpError};
use crate::kql::catalog::Catalog;
use crate::model::Item;

/// An existing rule or hunt, for "do not duplicate".
pub struct Existing {
    pub kind: &'static str,
    pub name: String,
    pub path: String,
    pub tables: Vec<String>,
    pub techniques: Vec<String>,
}

/// Where the candidate's dry-run goes.
pub enum Target {
    /// The embedded engine over the sandbox data.
    Sandbox(crate::engine::Sandbox),
    /// An environment's first workspace, through the query API.
    Workspace {
        env: crate::deploy::env::Environment,
        workspace_id: String,
        label: String,
    },
}

pub struct Grounding {
    /// The grounding part of the first prompt.
    pub text: String,
    pub target: Target,
    pub existing: Vec<Existing>,
    /// Tables with data (what the prompt lists).
    pub tables: Vec<String>,
}

/// Whether two technique ids are the same or one is the other's parent.
fn related(a: &str, b: &str) -> bool {
    a == b || a.split('.').next() == b.split('.').next()
}

/// The existing rules and hunts that share a technique with `techniques`, or a table with
/// `tables`, nearest first (shared techniques count before shared tables), at most `max`.
pub fn nearest<'a>(
    existing: &'a [Existing],
    techniques: &[&str],
    tables: &[String],
    max: usize,
) -> Vec<&'a Existing> {
    let mut scored: Vec<(usize, &Existing)> = existing
        .iter()
        .filter_map(|e| {
            let t = e
                .techniques
                .iter()
                .filter(|x| techniques.iter().any(|y| related(x, y)))
                .count();
            let tb = e.tables.iter().filter(|x| tables.contains(x)).count();
            (t + tb > 0).then_some((t * 100 + tb, e))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.path.cmp(&b.1.path)));
    scored.into_iter().take(max).map(|(_, e)| e).collect()
}

pub fn describe(e: &Existing) -> String {
    format!(
        "{} `{}` ({}; tables {}; techniques {})",
        e.kind,
        e.name,
        e.path,
        if e.tables.is_empty() {
            "-".into()
        } else {
            e.tables.join(", ")
        },
        if e.techniques.is_empty() {
            "-".into()
        } else {
            e.techniques.join(", ")
        }
    )
}

/// Tables seen in the workspace over the last `days` days (one query through the query API).
fn workspace_tables(
    cx: &Context,
    env: &crate::deploy::env::Environment,
    workspace_id: &str,
    days: i64,
) -> Result<Vec<String>, OpError> {
    let client = cx.query_client(env)?;
    let rt = super::super::deploy::runtime()?;
    let q = format!(
        "union withsource=SourceTable * | where TimeGenerated > ago({days}d) | summarize Rows = count() by SourceTable"
    );
    let r = rt
        .block_on(crate::azure::query::query(
            &client,
            workspace_id,
            &q,
            Some(&format!("P{days}D")),
            false,
        ))
        .map_err(|e| OpError::usage(format!("--env {}: the tables query failed: {e}", env.name)))?;
    let t = r.tables.first();
    let col = t
        .and_then(|t| t.columns.iter().position(|c| c.0 == "SourceTable"))
        .unwrap_or(0);
    let mut out: Vec<String> = t
        .map(|t| {
            t.rows
                .iter()
                .filter_map(|row| row.get(col).and_then(|v| v.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    Ok(out)
}

pub fn grounding(cx: &Context, env: Option<&str>, input: &str) -> Result<Grounding, OpError> {
    let ws = cx.workspace();
    let checked = crate::pipeline::check(&ws, &cx.siblings(), None);
    let mut catalog = Catalog::embedded().clone();
    let (target, tables) = match env {
        None => {
            let sb = crate::sandbox::for_repository(
                &cx.root,
                &cx.sandbox_dir()?,
                &checked.definitions,
                &cx.config,
            );
            let t = sb.table_names();
            (Target::Sandbox(sb), t)
        }
        Some(name) => {
            let envr = cx
                .environment(name)
                .map_err(|e| OpError::usage(format!("--env {name}: {}", e.message)))?;
            let Some(w) = envr.workspaces.first() else {
                return Err(OpError::usage(format!(
                    "--env {name}: the environment has no workspace"
                )));
            };
            // The workspace's own schema, when `vigil schema pull` recorded it.
            let pulled = crate::deploy::env::catalog_file(&cx.root, &envr.name, w);
            if let Ok(text) = std::fs::read_to_string(&pulled) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    catalog.add_schema_tables(&v);
                }
            }
            let Some(id) = super::super::deploy::query_workspace_id(w, envr.emulator) else {
                return Err(OpError::usage(format!(
                    "--env {name}: drafting needs the workspace id (customer id) of {}",
                    w.label()
                )));
            };
            let tables = workspace_tables(cx, &envr, &id, cx.sandbox().days)?;
            let label = w.label();
            (
                Target::Workspace {
                    env: envr,
                    workspace_id: id,
                    label,
                },
                tables,
            )
        }
    };
    let mut g = String::from("Tables with data (name: columns):\n");
    for t in &tables {
        let cols: Vec<String> = catalog
            .tables
            .get(t)
            .map(|s| {
                s.columns
                    .iter()
                    .map(|(c, ty)| format!("{c}:{}", ty.name()))
                    .collect()
            })
            .unwrap_or_default();
        g.push_str(&format!("- {t}: {}\n", cols.join(", ")));
    }
    g.push_str("Functions and watchlists of the repository:\n");
    let mut existing = Vec::new();
    for d in &checked.definitions {
        let techniques = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
        match &d.item {
            Item::Function(f) => g.push_str(&format!("- {}\n", f.function_alias)),
            Item::Watchlist(w, items) => g.push_str(&format!(
                "- watchlist _GetWatchlist('{}') columns: {}\n",
                w.alias,
                items.header.join(", ")
            )),
            Item::Hunt(h) => existing.push(Existing {
                kind: "hunt",
                name: h.name.clone(),
                path: d.path.display().to_string(),
                tables: crate::dryrun::generate::referenced_tables(&h.query),
                techniques: techniques(&h.relevant_techniques),
            }),
            Item::Rule(r) => existing.push(Existing {
                kind: "rule",
                name: r.name.clone(),
                path: d.path.display().to_string(),
                tables: crate::dryrun::generate::referenced_tables(&r.query),
                techniques: techniques(&r.relevant_techniques),
            }),
            _ => {}
        }
    }
    let attack = crate::attack::attack();
    let (named, unknown) = attack.mentioned(input);
    if !named.is_empty() || !unknown.is_empty() {
        g.push_str(&format!(
            "MITRE ATT&CK techniques named in the input (ATT&CK Enterprise {}):\n",
            attack.version
        ));
        for t in &named {
            g.push_str(&format!(
                "- {} {} (tactics: {})\n",
                t.id,
                t.name,
                t.tactics.join(", ")
            ));
        }
        for u in &unknown {
            g.push_str(&format!(
                "- {u}: not an ATT&CK {} technique (revoked, deprecated or mistyped); do not use it\n",
                attack.version
            ));
        }
    }
    let ids: Vec<&str> = named.iter().map(|t| t.id).collect();
    let near = nearest(&existing, &ids, &[], 10);
    if !near.is_empty() {
        g.push_str("Existing rules and hunts for these techniques (do not duplicate them):\n");
        for e in near {
            g.push_str(&format!("- {}\n", describe(e)));
        }
    }
    Ok(Grounding {
        text: g,
        target,
        existing,
        tables,
    })
}
