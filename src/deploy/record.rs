//! Deployment records: what an apply or rollback is about to change (the prior state of every
//! resource, enough to restore it), its progress and outcome.
//!
//! Where they live (see ARCHITECTURE.md, "Deployment records live in the workspace"): each
//! workspace keeps the part of the record that concerns it as saved searches of category
//! `vigil deployments` (`print record = @'<json>'`, split over several when large), written
//! *before* the first change and updated at the end. A local copy with the step journal
//! (prior state, request, response per step) is kept under `.vigil/deployments/<env>/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::env::Workspace;
use super::plan::{Action, MetaTarget};
use super::resource::ResKey;

/// Category of the saved searches that hold records.
pub const CATEGORY: &str = "vigil deployments";
/// Bytes of record JSON per saved search.
const PART: usize = 200_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Changes may be under way: a re-run restores the prior state first.
    Applying,
    /// A restore is under way (or was interrupted): a re-run finishes it.
    Restoring,
    Succeeded,
    /// Failed and restored: the workspaces are as before.
    RolledBack,
    /// Failed with `--no-rollback`: left as it was when it failed.
    Failed,
}

impl Status {
    pub fn incomplete(self) -> bool {
        matches!(self, Status::Applying | Status::Restoring)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applying => "applying",
            Status::Restoring => "restoring",
            Status::Succeeded => "succeeded",
            Status::RolledBack => "rolled-back",
            Status::Failed => "failed",
        }
    }
}

/// One resource an apply changes, with what restores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRecord {
    pub key: ResKey,
    pub name: String,
    pub action: Action,
    /// api-version to restore with.
    pub api_version: String,
    /// The resource before (a body to PUT back), or `None` when it did not exist.
    pub prior: Option<Value>,
    pub prior_meta: Option<MetaTarget>,
    /// Name of the metadata resource this change writes (deleted on restore when there was
    /// none before).
    #[serde(default)]
    pub meta_name: Option<String>,
    /// What was sent (the target body), for readers.
    #[serde(default)]
    pub after: Option<Value>,
}

/// The part of a record about one workspace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceRecord {
    pub workspace: Workspace,
    pub changes: Vec<ChangeRecord>,
}

/// A deployment record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Sortable: `20261002T143000Z-1a2b3c`.
    pub id: String,
    pub environment: String,
    /// `apply` or `rollback`.
    pub kind: String,
    /// The git ref or deployment the content came from.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub commit: Option<String>,
    pub started: String,
    #[serde(default)]
    pub finished: Option<String>,
    pub status: Status,
    #[serde(default)]
    pub error: Option<String>,
    pub workspaces: Vec<WorkspaceRecord>,
}

impl Record {
    pub fn new_id() -> String {
        format!(
            "{}-{}",
            crate::clock::now_compact(),
            &crate::clock::new_guid()[..6]
        )
    }

    /// The record as one workspace stores it (its own part only).
    pub fn for_workspace(&self, ws: &Workspace) -> Record {
        Record {
            workspaces: self
                .workspaces
                .iter()
                .filter(|w| w.workspace == *ws)
                .cloned()
                .collect(),
            ..self.clone()
        }
    }
}

/// Saved-search bodies that store `rec` in a workspace: `(name, body)` per part.
pub fn to_saved_searches(rec: &Record) -> Vec<(String, Value)> {
    let text = serde_json::to_string(rec).expect("records serialize");
    let chars: Vec<char> = text.chars().collect();
    let parts: Vec<String> = chars
        .chunks(PART)
        .map(|c| c.iter().collect::<String>())
        .collect();
    let n = parts.len();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            (
                format!("vigil-deployment-{}-{i}", rec.id),
                json!({
                    "etag": "*",
                    "properties": {
                        "category": CATEGORY,
                        "displayName": format!("vigil deployment {} ({}/{n}) {} {}", rec.id, i + 1, rec.kind, rec.status.as_str()),
                        "query": format!("print record = @'{}'", p.replace('\'', "''")),
                        "version": 2,
                        "tags": [
                            {"name": "vigilRecord", "value": rec.id},
                            {"name": "part", "value": format!("{i}/{n}")},
                        ],
                    }
                }),
            )
        })
        .collect()
}

/// Rebuild records from the saved searches of a workspace (parts grouped by record id).
pub fn from_saved_searches(searches: &[Value]) -> Vec<Record> {
    let mut parts: std::collections::BTreeMap<String, Vec<(usize, usize, String)>> =
        Default::default();
    for s in searches {
        let p = &s["properties"];
        let tag = |name: &str| {
            p["tags"].as_array().and_then(|ts| {
                ts.iter()
                    .find(|t| t["name"].as_str() == Some(name))
                    .and_then(|t| t["value"].as_str())
                    .map(String::from)
            })
        };
        let (Some(id), Some(part), Some(q)) =
            (tag("vigilRecord"), tag("part"), p["query"].as_str())
        else {
            continue;
        };
        let (i, n) = part.split_once('/').unwrap_or(("0", "1"));
        let body = q
            .strip_prefix("print record = @'")
            .and_then(|b| b.strip_suffix('\''))
            .unwrap_or("")
            .replace("''", "'");
        parts
            .entry(id)
            .or_default()
            .push((i.parse().unwrap_or(0), n.parse().unwrap_or(1), body));
    }
    let mut out = Vec::new();
    for (_, mut ps) in parts {
        ps.sort_by_key(|p| p.0);
        let n = ps.first().map(|p| p.1).unwrap_or(0);
        if ps.len() != n {
            continue;
        }
        let text: String = ps.into_iter().map(|p| p.2).collect();
        if let Ok(r) = serde_json::from_str::<Record>(&text) {
            out.push(r);
        }
    }
    out
}

/// Merge the parts of one record read from several workspaces.
pub fn merge(records: Vec<Record>) -> Vec<Record> {
    let mut by_id: std::collections::BTreeMap<String, Record> = Default::default();
    for r in records {
        match by_id.get_mut(&r.id) {
            None => {
                by_id.insert(r.id.clone(), r);
            }
            Some(e) => {
                for w in r.workspaces {
                    if !e.workspaces.iter().any(|x| x.workspace == w.workspace) {
                        e.workspaces.push(w);
                    }
                }
                // The least final status wins: a workspace still applying makes the record
                // incomplete.
                if r.status.incomplete() {
                    e.status = r.status;
                }
            }
        }
    }
    by_id.into_values().collect()
}

/// The local folder of an environment's records.
pub fn local_dir(root: &Path, env: &str) -> PathBuf {
    root.join(".vigil").join("deployments").join(env)
}

/// Write the local copy.
pub fn save_local(root: &Path, rec: &Record) -> std::io::Result<()> {
    let dir = local_dir(root, &rec.environment);
    std::fs::create_dir_all(&dir)?;
    let p = dir.join(format!("{}.json", rec.id));
    let tmp = p.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(rec).expect("records serialize"),
    )?;
    std::fs::rename(tmp, p)
}

/// Local records of an environment, oldest first.
pub fn load_local(root: &Path, env: &str) -> Vec<Record> {
    let Ok(rd) = std::fs::read_dir(local_dir(root, env)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect()
}

/// The step journal: one JSON line per step (intent, then outcome), appended as it happens.
pub struct Journal {
    file: Option<std::fs::File>,
}

impl Journal {
    pub fn open(root: &Path, env: &str, id: &str) -> Journal {
        let dir = local_dir(root, env);
        let _ = std::fs::create_dir_all(&dir);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{id}.journal.jsonl")))
            .ok();
        Journal { file }
    }

    pub fn none() -> Journal {
        Journal { file: None }
    }

    pub fn write(&mut self, entry: &Value) {
        if let Some(f) = &mut self.file {
            let mut line = entry.to_string();
            line.push('\n');
            let _ = f.write_all(line.as_bytes());
        }
    }

    pub fn sync(&mut self) {
        if let Some(f) = &mut self.file {
            let _ = f.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_saved_searches() {
        let ws = super::super::env::local_workspace();
        let rec = Record {
            id: "20260101T000000Z-abcdef".into(),
            environment: "local".into(),
            kind: "apply".into(),
            source: Some("HEAD".into()),
            commit: None,
            started: "2026-01-01T00:00:00Z".into(),
            finished: None,
            status: Status::Applying,
            error: None,
            workspaces: vec![WorkspaceRecord {
                workspace: ws,
                changes: vec![ChangeRecord {
                    key: ResKey::new(super::super::resource::RType::AlertRule, "a"),
                    name: "a".into(),
                    action: Action::Update,
                    api_version: "v".into(),
                    prior: Some(
                        json!({"properties": {"query": "T | where x == 'it''s'", "big": "x".repeat(450_000)}}),
                    ),
                    prior_meta: None,
                    meta_name: Some("analyticsrule-a".into()),
                    after: None,
                }],
            }],
        };
        let parts = to_saved_searches(&rec);
        assert_eq!(parts.len(), 3);
        let searches: Vec<Value> = parts.into_iter().rev().map(|(_, b)| b).collect();
        assert_eq!(from_saved_searches(&searches), vec![rec]);
        // A missing part drops the record rather than misreading it.
        assert!(from_saved_searches(&searches[1..]).is_empty());
    }

    #[test]
    fn deployments_in_one_second_are_ordered_by_their_start() {
        let rec = |id: &str, started: &str, name: &str, prior: Option<Value>| Record {
            id: id.into(),
            environment: "local".into(),
            kind: "apply".into(),
            source: None,
            commit: None,
            started: started.into(),
            finished: None,
            status: Status::Succeeded,
            error: None,
            workspaces: vec![WorkspaceRecord {
                workspace: super::super::env::local_workspace(),
                changes: vec![ChangeRecord {
                    key: ResKey::new(super::super::resource::RType::AlertRule, name),
                    name: name.into(),
                    action: Action::Update,
                    api_version: "v".into(),
                    prior,
                    prior_meta: None,
                    meta_name: None,
                    after: None,
                }],
            }],
        };
        // Same second; the random suffix sorts the later deployment first.
        let first = rec(
            "20260101T000000Z-ffffff",
            "2026-01-01T00:00:00.1000000Z",
            "b",
            None,
        );
        let second = rec(
            "20260101T000000Z-000000",
            "2026-01-01T00:00:00.2000000Z",
            "a",
            Some(json!({"v": 1})),
        );
        let t =
            crate::deploy::rollback_targets(&[first, second], "20260101T000000Z-000000").unwrap();
        let changes = t.values().next().unwrap();
        let names: Vec<&str> = changes.values().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a"], "only the second deployment is undone");
    }
}
