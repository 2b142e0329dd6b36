//! Deploy: make workspaces match the repository, show every difference first, never leave a
//! workspace half-deployed, go back to any earlier state.
//!
//! Stage entries: [`Session::observe`] (live state of a workspace), [`targets`] (desired state
//! from compiled artifacts), [`plan::plan_workspace`] (pure diff), [`apply::apply`] (execute a
//! plan with a deployment record, restore on failure), [`apply::recover`] (finish what an
//! interrupted run left), [`rollback_targets`] (the state before a recorded deployment).
//!
//! **Architecture Invariant:** deploy never prints and never reads the process environment;
//! the CLI passes the credential, the options and the test hooks in. Plans are pure functions
//! of desired and live state.

pub mod apply;
pub mod catalog;
pub mod env;
pub mod export;
pub mod health;
pub mod plan;
pub mod record;
pub mod render;
pub mod resource;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::azure::{AzureError, Client, Credential, RetryPolicy};
use crate::compile::Artifact;
use crate::diagnostics::Code;
use env::{Environment, Workspace};
use plan::{Live, LiveMeta, LiveResource, MetaTarget, Target};
use resource::{RType, ResKey};

/// An error that stops a deploy command, with its diagnostic code.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployError {
    pub code: Code,
    pub message: String,
    pub hint: Option<String>,
}

impl DeployError {
    pub fn new(code: Code, message: impl Into<String>) -> DeployError {
        DeployError {
            code,
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, h: impl Into<String>) -> DeployError {
        self.hint = Some(h.into());
        self
    }
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DeployError {}

impl From<AzureError> for DeployError {
    fn from(e: AzureError) -> DeployError {
        DeployError::new(crate::diagnostics::code::DEP_REQUEST_FAILED, e.to_string())
    }
}

/// Called after every step (a write's intent, and its outcome): the test hook that kills the
/// process at step k.
pub type StepHook = Arc<dyn Fn(u64) + Send + Sync>;

/// One environment, connected.
pub struct Session {
    pub env: Environment,
    pub root: PathBuf,
    /// `vigil:<project id>`: what this repository owns.
    pub owner: String,
    pub arm: Client,
    pub on_step: Option<StepHook>,
}

impl Session {
    pub fn new(env: Environment, root: PathBuf, owner: String, credential: Credential) -> Session {
        let concurrency = env.concurrency * env.workspaces.len().max(1);
        let arm = Client::new(
            &env.endpoint,
            crate::azure::ARM_SCOPE,
            credential,
            concurrency,
            RetryPolicy::default(),
        );
        Session {
            env,
            root,
            owner,
            arm,
            on_step: None,
        }
    }

    fn url(&self, ws: &Workspace, rel: &str) -> String {
        format!("{}/{}", ws.path(), rel)
    }

    /// List everything vigil manages in a workspace (and the records it keeps there).
    pub async fn observe(&self, ws: &Workspace) -> Result<Live, AzureError> {
        let v = &self.env.api_versions;
        let lists = futures::future::join_all(RType::ALL.into_iter().map(|t| async move {
            let items = self
                .arm
                .list(&self.url(ws, t.collection()), &t.api_version(v))
                .await?;
            Ok::<_, AzureError>((t, items))
        }))
        .await;
        let metas = self
            .arm
            .list(
                &self.url(ws, "providers/Microsoft.SecurityInsights/metadata"),
                &v.metadata,
            )
            .await?;
        let mut live = Live::default();
        let mut watchlists = Vec::new();
        for r in lists {
            let (t, items) = r?;
            for body in items {
                let name = body["name"].as_str().unwrap_or_default().to_string();
                if t == RType::SavedSearch
                    && body["properties"]["category"].as_str() == Some(record::CATEGORY)
                {
                    live.records.push(body);
                    continue;
                }
                if t == RType::Watchlist {
                    watchlists.push(name.clone());
                }
                live.resources.insert(
                    ResKey::new(t, &name),
                    LiveResource {
                        name,
                        body,
                        items: None,
                    },
                );
            }
        }
        let items = futures::future::join_all(watchlists.iter().map(|w| async move {
            let r = self
                .arm
                .list(
                    &self.url(
                        ws,
                        &format!("{}/watchlistItems", resource::path(RType::Watchlist, w)),
                    ),
                    &v.watchlists,
                )
                .await;
            (w.clone(), r)
        }))
        .await;
        for (w, r) in items {
            if let Some(lr) = live.resources.get_mut(&ResKey::new(RType::Watchlist, &w)) {
                lr.items = Some(r?);
            }
        }
        for m in metas {
            let Some((key, _)) = m["properties"]["parentId"]
                .as_str()
                .and_then(resource::key_of_id)
            else {
                continue;
            };
            let lm = LiveMeta {
                name: m["name"].as_str().unwrap_or_default().to_string(),
                body: m,
            };
            let owned = lm.owner() == Some(self.owner.as_str());
            match live.metadata.get(&key) {
                Some(e) if e.owner() == Some(self.owner.as_str()) && !owned => {}
                _ => {
                    live.metadata.insert(key, lm);
                }
            }
        }
        Ok(live)
    }

    /// Observe every workspace of the environment, concurrently.
    pub async fn observe_all(&self) -> Result<Vec<Live>, AzureError> {
        futures::future::join_all(self.env.workspaces.iter().map(|w| self.observe(w)))
            .await
            .into_iter()
            .collect()
    }

    /// Read one resource (with a watchlist's items).
    pub async fn read(
        &self,
        ws: &Workspace,
        key: &ResKey,
        name: &str,
    ) -> Result<Option<LiveResource>, AzureError> {
        let api = key.rtype.api_version(&self.env.api_versions);
        let path = self.url(ws, &resource::path(key.rtype, name));
        let Some(body) = self.arm.get_opt(&path, &api).await? else {
            return Ok(None);
        };
        let items = if key.rtype == RType::Watchlist {
            Some(
                self.arm
                    .list(&format!("{path}/watchlistItems"), &api)
                    .await?,
            )
        } else {
            None
        };
        Ok(Some(LiveResource {
            name: name.to_string(),
            body,
            items,
        }))
    }
}

/// Desired state of a workspace from compiled artifacts: each item's body, and its metadata
/// with `parentId` naming the resource in this workspace and `customVersion` the item's
/// content identity as compiled ([`crate::rest::content_hash`] of the writable projection:
/// what drift detection compares the live resource against).
pub fn targets(artifacts: &[Artifact], ws: &Workspace) -> Vec<Target> {
    artifacts
        .iter()
        .map(|a| {
            let mut meta = a.metadata.body.clone();
            meta["properties"]["parentId"] =
                Value::String(format!("{}/{}", ws.id(), a.resource.path));
            meta["properties"]["customVersion"] = Value::String(a.content_hash.clone());
            Target {
                name: a.name.clone(),
                api_version: a.resource.api_version.clone(),
                body: a.resource.body.clone(),
                display_name: a.display_name.clone(),
                kind: a.kind.to_string(),
                source: Some(a.source.clone()),
                order: crate::compile::order(a.content_kind),
                metadata: Some(MetaTarget {
                    name: a
                        .metadata
                        .path
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    api_version: a.metadata.api_version.clone(),
                    body: meta,
                }),
            }
        })
        .collect()
}

/// The state before deployment `id`, per workspace: for each resource a record at or after
/// `id` touched, the prior state recorded by the oldest of them (`None`: it did not exist).
/// Records that were rolled back, or are still incomplete, are skipped (their changes were
/// undone or will be).
pub fn rollback_targets(
    records: &[record::Record],
    id: &str,
) -> Result<BTreeMap<Workspace, BTreeMap<ResKey, record::ChangeRecord>>, DeployError> {
    let mut sorted: Vec<&record::Record> = records.iter().collect();
    // Ids have one-second resolution (and a random suffix): two deployments in one second
    // are ordered by their start time (100 ns resolution), then the id.
    sorted.sort_by(|a, b| (&a.started, &a.id).cmp(&(&b.started, &b.id)));
    let Some(start) = sorted.iter().position(|r| r.id == id) else {
        let known: Vec<&str> = sorted
            .iter()
            .rev()
            .take(10)
            .map(|r| r.id.as_str())
            .collect();
        return Err(DeployError::new(
            crate::diagnostics::code::DEP_UNKNOWN_DEPLOYMENT,
            format!("no deployment record `{id}` in this environment"),
        )
        .hint(format!(
            "recent deployments: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    let mut out: BTreeMap<Workspace, BTreeMap<ResKey, record::ChangeRecord>> = BTreeMap::new();
    for r in sorted[start..].iter().rev() {
        if matches!(
            r.status,
            record::Status::RolledBack | record::Status::Applying | record::Status::Restoring
        ) {
            continue;
        }
        for w in &r.workspaces {
            let m = out.entry(w.workspace.clone()).or_default();
            for c in &w.changes {
                m.insert(c.key.clone(), c.clone());
            }
        }
    }
    Ok(out)
}

impl PartialOrd for Workspace {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Workspace {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.subscription, &self.resource_group, &self.name).cmp(&(
            &other.subscription,
            &other.resource_group,
            &other.name,
        ))
    }
}

/// Targets that put each recorded resource back as it was before (`None` entries become
/// deletions in the plan, since the resource is not wanted).
pub fn prior_targets(
    changes: &BTreeMap<ResKey, record::ChangeRecord>,
) -> (Vec<Target>, Vec<ResKey>) {
    let mut targets = Vec::new();
    let mut absent = Vec::new();
    for (k, c) in changes {
        match &c.prior {
            Some(body) => targets.push(Target {
                name: c.name.clone(),
                api_version: c.api_version.clone(),
                body: body.clone(),
                display_name: body["properties"]["displayName"]
                    .as_str()
                    .unwrap_or(&c.name)
                    .to_string(),
                kind: k.rtype.segment().to_string(),
                source: None,
                order: k.rtype.order(),
                metadata: c.prior_meta.clone(),
            }),
            None => absent.push(k.clone()),
        }
    }
    (targets, absent)
}
