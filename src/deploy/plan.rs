//! The plan: desired state (compiled content) against live state (listed from a workspace), as
//! a pure function. Per resource: create, update (field-level diff over writable properties),
//! replace (a change of kind: delete + create), delete (only what this repository owns,
//! recognised by the owner id in its metadata resource), adopt (same properties, metadata to
//! write), and drift (an owned resource changed in the portal since vigil deployed it).
//! Everything else live is unmanaged and left alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::env::Workspace;
use super::resource::{self, FieldChange, RType, ResKey};

/// What a resource should become.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub name: String,
    pub api_version: String,
    pub body: Value,
    pub display_name: String,
    /// `rule`, `hunt`, ... (or the resource type for restored resources).
    pub kind: String,
    /// The definition file.
    pub source: Option<String>,
    /// Dependency order: watchlists, functions, anomalies, hunts, rules.
    pub order: u8,
    pub metadata: Option<MetaTarget>,
}

/// The metadata resource that goes with a target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetaTarget {
    pub name: String,
    pub api_version: String,
    pub body: Value,
}

/// A resource as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveResource {
    pub name: String,
    pub body: Value,
    /// Watchlist items, as listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<Value>>,
}

impl LiveResource {
    pub fn projection(&self, rtype: RType) -> Value {
        resource::project(
            rtype,
            &self.body,
            self.items.as_deref().map(resource::rows_from_items),
        )
    }
}

/// A metadata resource as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveMeta {
    pub name: String,
    pub body: Value,
}

impl LiveMeta {
    pub fn owner(&self) -> Option<&str> {
        self.body["properties"]["source"]["sourceId"].as_str()
    }
}

/// Live state of one workspace.
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub resources: BTreeMap<ResKey, LiveResource>,
    /// Metadata by the resource it describes (`parentId`).
    pub metadata: BTreeMap<ResKey, LiveMeta>,
    /// Saved searches holding deployment records (category `vigil deployments`).
    pub records: Vec<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Replace,
    Adopt,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Adopt => "adopt",
            Action::Delete => "delete",
        }
    }
}

/// One planned change.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub action: Action,
    #[serde(rename = "type")]
    pub rtype: RType,
    pub name: String,
    pub kind: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The live resource was changed since vigil deployed it.
    pub drift: bool,
    pub fields: Vec<FieldChange>,
    #[serde(skip)]
    pub key: ResKey,
    #[serde(skip)]
    pub target: Option<Target>,
    #[serde(skip)]
    pub live: Option<LiveResource>,
    /// The live metadata of the resource, when vigil owns it (deleted with it).
    #[serde(skip)]
    pub live_meta: Option<LiveMeta>,
}

impl Change {
    /// Dependency order of the change.
    pub fn order(&self) -> u8 {
        match &self.target {
            Some(t) => t.order,
            None => self.rtype.order(),
        }
    }
}

/// A resource vigil does not own and does not touch.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unmanaged {
    #[serde(rename = "type")]
    pub rtype: RType,
    pub name: String,
    pub display_name: String,
}

/// The plan of one workspace.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspacePlan {
    pub workspace: Workspace,
    pub changes: Vec<Change>,
    pub unchanged: usize,
    pub unmanaged: Vec<Unmanaged>,
}

impl WorkspacePlan {
    pub fn count(&self, a: Action) -> usize {
        self.changes.iter().filter(|c| c.action == a).count()
    }
}

fn display(v: &Value, rtype: RType) -> String {
    let p = &v["properties"];
    p["displayName"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| format!("{:?}", rtype))
}

/// Plan one workspace: `targets` (desired) against `live`; `owner` is this repository's owner
/// id (`vigil:<project id>`).
pub fn plan_workspace(
    workspace: &Workspace,
    targets: Vec<Target>,
    live: &Live,
    owner: &str,
) -> WorkspacePlan {
    plan_scoped(workspace, targets, live, owner, None)
}

/// [`plan_workspace`] limited to `scope` (a rollback to a recorded deployment touches only
/// what that deployment and later ones changed): live resources in scope that no target wants
/// are deleted, live resources outside it are ignored.
pub fn plan_scoped(
    workspace: &Workspace,
    targets: Vec<Target>,
    live: &Live,
    owner: &str,
    scope: Option<&std::collections::BTreeSet<ResKey>>,
) -> WorkspacePlan {
    let mut changes = Vec::new();
    let mut unchanged = 0;
    let mut unmanaged = Vec::new();
    let mut wanted: BTreeMap<ResKey, Target> = BTreeMap::new();
    for t in targets {
        wanted.insert(target_key(&t), t);
    }
    let owned_meta = |k: &ResKey| live.metadata.get(k).filter(|m| m.owner() == Some(owner));
    for (key, t) in &wanted {
        let lr = live.resources.get(key);
        let meta = live.metadata.get(key);
        let desired = resource::project(key.rtype, &t.body, None);
        let mut c = Change {
            action: Action::Create,
            rtype: key.rtype,
            name: t.name.clone(),
            kind: t.kind.clone(),
            display_name: t.display_name.clone(),
            source: t.source.clone(),
            drift: false,
            fields: Vec::new(),
            key: key.clone(),
            target: Some(t.clone()),
            live: lr.cloned(),
            live_meta: owned_meta(key).cloned(),
        };
        let Some(lr) = lr else {
            changes.push(c);
            continue;
        };
        let current = lr.projection(key.rtype);
        c.drift = owned_meta(key).is_some_and(|m| {
            m.body["properties"]["customVersion"].as_str()
                != Some(&resource::content_hash(&current))
        });
        if key.rtype == RType::AlertRule && lr.body["kind"] != t.body["kind"] {
            c.action = Action::Replace;
            c.fields = resource::diff(&current, &desired);
            changes.push(c);
            continue;
        }
        if current != desired {
            c.action = Action::Update;
            c.fields = resource::diff(&current, &desired);
            changes.push(c);
            continue;
        }
        let want_meta = t
            .metadata
            .as_ref()
            .and_then(|m| resource::normalize(&m.body["properties"]));
        let have_meta = meta.and_then(|m| resource::normalize(&m.body["properties"]));
        let stray_meta = t.metadata.is_none() && owned_meta(key).is_some();
        if (t.metadata.is_some() && want_meta != have_meta) || stray_meta {
            c.action = Action::Adopt;
            c.fields = resource::diff(
                &serde_json::json!({ "metadata": have_meta }),
                &serde_json::json!({ "metadata": want_meta }),
            );
            changes.push(c);
            continue;
        }
        unchanged += 1;
    }
    for (key, lr) in &live.resources {
        if wanted.contains_key(key) {
            continue;
        }
        let in_scope = scope.map(|s| s.contains(key));
        if in_scope == Some(false) {
            continue;
        }
        let meta = owned_meta(key).or_else(|| in_scope.and(live.metadata.get(key)));
        let delete_anyway = in_scope == Some(true);
        match meta.filter(|_| true) {
            _ if delete_anyway && meta.is_none() => changes.push(Change {
                action: Action::Delete,
                rtype: key.rtype,
                name: lr.name.clone(),
                kind: key.rtype.segment().to_string(),
                display_name: display(&lr.body, key.rtype),
                source: None,
                drift: false,
                fields: Vec::new(),
                key: key.clone(),
                target: None,
                live: Some(lr.clone()),
                live_meta: None,
            }),
            Some(m) => {
                let current = lr.projection(key.rtype);
                changes.push(Change {
                    action: Action::Delete,
                    rtype: key.rtype,
                    name: lr.name.clone(),
                    kind: m.body["properties"]["kind"]
                        .as_str()
                        .map(kind_of_metadata)
                        .unwrap_or("resource")
                        .to_string(),
                    display_name: display(&lr.body, key.rtype),
                    source: None,
                    drift: m.body["properties"]["customVersion"].as_str()
                        != Some(&resource::content_hash(&current)),
                    fields: Vec::new(),
                    key: key.clone(),
                    target: None,
                    live: Some(lr.clone()),
                    live_meta: Some(m.clone()),
                })
            }
            None => unmanaged.push(Unmanaged {
                rtype: key.rtype,
                name: lr.name.clone(),
                display_name: display(&lr.body, key.rtype),
            }),
        }
    }
    changes.sort_by(|a, b| (a.order(), &a.key, a.action).cmp(&(b.order(), &b.key, b.action)));
    WorkspacePlan {
        workspace: workspace.clone(),
        changes,
        unchanged,
        unmanaged,
    }
}

/// The key a target deploys to (its type is in its metadata's parentId or its kind).
pub fn target_key(t: &Target) -> ResKey {
    ResKey::new(rtype_of_kind(&t.kind), &t.name)
}

/// Resource type from a content kind name (`rule`, `hunt`, ...) or a type segment.
pub fn rtype_of_kind(kind: &str) -> RType {
    match kind {
        "rule" => RType::AlertRule,
        "hunt" | "function" => RType::SavedSearch,
        "anomaly" => RType::MlSetting,
        "watchlist" => RType::Watchlist,
        other => RType::from_segment(other).unwrap_or(RType::AlertRule),
    }
}

/// vigil's kind name from a metadata kind.
pub fn kind_of_metadata(k: &str) -> &'static str {
    match k {
        "AnalyticsRule" => "rule",
        "HuntingQuery" => "hunt",
        "Parser" => "function",
        "AnomalyRule" => "anomaly",
        "Watchlist" => "watchlist",
        _ => "resource",
    }
}

/// Totals over a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub adopt: usize,
    pub delete: usize,
    pub drift: usize,
    pub unchanged: usize,
    pub unmanaged: usize,
}

impl Totals {
    pub fn of(plans: &[WorkspacePlan]) -> Totals {
        let mut t = Totals::default();
        for p in plans {
            t.create += p.count(Action::Create);
            t.update += p.count(Action::Update);
            t.replace += p.count(Action::Replace);
            t.adopt += p.count(Action::Adopt);
            t.delete += p.count(Action::Delete);
            t.drift += p.changes.iter().filter(|c| c.drift).count();
            t.unchanged += p.unchanged;
            t.unmanaged += p.unmanaged.len();
        }
        t
    }

    pub fn changes(&self) -> usize {
        self.create + self.update + self.replace + self.adopt + self.delete
    }
}
