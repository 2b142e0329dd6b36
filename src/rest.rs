//! The REST surface vigil speaks, in one table: the Sentinel resource kinds it manages (their
//! collection path, ARM types, api-version, deployment order, the properties the service owns)
//! and the HTTP methods it sends. Compile, deploy and the emulator all read this table; none
//! spells a path, a type or a method itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::ApiVersions;
use crate::model::ContentKind;

/// An HTTP method of the REST API. An enum, so a typo cannot turn into another method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "GET" => Some(Method::Get),
            "PUT" => Some(Method::Put),
            "POST" => Some(Method::Post),
            "DELETE" => Some(Method::Delete),
            _ => None,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Sentinel resource kinds vigil manages, in deployment order (a rule may read a watchlist,
/// a function or an anomaly setting; metadata describes the others and goes last).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RType {
    Watchlist,
    SavedSearch,
    MlSetting,
    AlertRule,
    Metadata,
}

/// One row of the table.
pub struct Kind {
    pub rtype: RType,
    /// The collection path relative to the workspace.
    pub collection: &'static str,
    /// `type` as ARM reports it on GET.
    pub arm_type: &'static str,
    /// `type` of the resource in an ARM template that deploys it under the workspace.
    pub template_type: &'static str,
    /// Whether the resource lives under the Microsoft.SecurityInsights provider of the
    /// workspace (its template name is `workspace/Microsoft.SecurityInsights/name`).
    pub security_insights: bool,
    /// Whether the body's `kind` is part of the resource (compared by plans).
    pub kinded: bool,
    /// Deployment level when nothing more is known (a deletion): what others depend on
    /// first. Content kinds have their own level ([`deploy_order`]).
    pub order: u8,
    /// Properties the service owns: never compared, never sent back.
    pub read_only: &'static [&'static str],
}

const TABLE: [Kind; 5] = [
    Kind {
        rtype: RType::Watchlist,
        order: 0,
        collection: "providers/Microsoft.SecurityInsights/watchlists",
        arm_type: "Microsoft.SecurityInsights/Watchlists",
        template_type: "Microsoft.OperationalInsights/workspaces/providers/watchlists",
        security_insights: true,
        kinded: false,
        read_only: &[
            "watchlistId",
            "tenantId",
            "isDeleted",
            "created",
            "updated",
            "createdBy",
            "updatedBy",
            "uploadStatus",
            "provisioningState",
            "watchlistType",
            "rawContent",
            "contentType",
            "numberOfLinesToSkip",
        ],
    },
    Kind {
        rtype: RType::SavedSearch,
        order: 1,
        collection: "savedSearches",
        arm_type: "Microsoft.OperationalInsights/workspaces/savedSearches",
        template_type: "Microsoft.OperationalInsights/workspaces/savedSearches",
        security_insights: false,
        kinded: false,
        // ARM templates (content hub, Sentinel Repositories) carry the etag inside properties.
        read_only: &["etag", "eTag"],
    },
    Kind {
        rtype: RType::MlSetting,
        order: 2,
        collection: "providers/Microsoft.SecurityInsights/securityMLAnalyticsSettings",
        arm_type: "Microsoft.SecurityInsights/securityMLAnalyticsSettings",
        template_type:
            "Microsoft.OperationalInsights/workspaces/providers/securityMLAnalyticsSettings",
        security_insights: true,
        kinded: true,
        read_only: &["lastModifiedUtc"],
    },
    Kind {
        rtype: RType::AlertRule,
        order: 4,
        collection: "providers/Microsoft.SecurityInsights/alertRules",
        arm_type: "Microsoft.SecurityInsights/alertRules",
        template_type: "Microsoft.OperationalInsights/workspaces/providers/alertRules",
        security_insights: true,
        kinded: true,
        read_only: &["lastModifiedUtc"],
    },
    Kind {
        rtype: RType::Metadata,
        order: 5,
        collection: "providers/Microsoft.SecurityInsights/metadata",
        arm_type: "Microsoft.SecurityInsights/metadata",
        template_type: "Microsoft.OperationalInsights/workspaces/providers/metadata",
        security_insights: true,
        kinded: false,
        read_only: &[],
    },
];

impl RType {
    /// The content kinds, in deployment order (metadata is written beside each of them).
    pub const ALL: [RType; 4] = [
        RType::Watchlist,
        RType::SavedSearch,
        RType::MlSetting,
        RType::AlertRule,
    ];

    /// Every kind of the table, metadata included.
    pub const EVERY: [RType; 5] = [
        RType::Watchlist,
        RType::SavedSearch,
        RType::MlSetting,
        RType::AlertRule,
        RType::Metadata,
    ];

    /// This kind's row of the table.
    pub fn info(self) -> &'static Kind {
        &TABLE[self as usize]
    }

    /// The collection path relative to the workspace.
    pub fn collection(self) -> &'static str {
        self.info().collection
    }

    /// The last segment of the collection path (`alertRules`).
    pub fn segment(self) -> &'static str {
        self.collection().rsplit('/').next().unwrap_or("")
    }

    /// The kind whose collection ends in `s` (case-insensitive, as ARM compares).
    pub fn from_segment(s: &str) -> Option<RType> {
        RType::EVERY
            .into_iter()
            .find(|t| t.segment().eq_ignore_ascii_case(s))
    }

    /// `collection/name` relative to the workspace.
    pub fn path(self, name: &str) -> String {
        format!("{}/{name}", self.collection())
    }

    /// The api-version to read and restore with. Alert rules use the preview version, which
    /// knows every kind and field (NRT, subTechniques).
    pub fn api_version(self, v: &ApiVersions) -> String {
        match self {
            RType::AlertRule => v.preview.clone(),
            RType::SavedSearch => v.saved_searches.clone(),
            RType::MlSetting => v.anomalies.clone(),
            RType::Watchlist => v.watchlists.clone(),
            RType::Metadata => v.metadata.clone(),
        }
    }

    /// The resource kind a content kind deploys as.
    pub fn from_kind(k: ContentKind) -> RType {
        match k {
            ContentKind::Rule => RType::AlertRule,
            ContentKind::Hunt | ContentKind::Function => RType::SavedSearch,
            ContentKind::Anomaly => RType::MlSetting,
            ContentKind::Watchlist => RType::Watchlist,
        }
    }

    /// Deployment level (see [`Kind::order`]).
    pub fn order(self) -> u8 {
        self.info().order
    }

    /// Properties the service owns.
    pub fn read_only(self) -> &'static [&'static str] {
        self.info().read_only
    }

    /// The resource's `name` in an ARM template deploying it into `parameters('workspace')`.
    pub fn template_name(self, name: &str) -> String {
        if self.info().security_insights {
            format!("[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{name}')]")
        } else {
            format!("[concat(parameters('workspace'),'/{name}')]")
        }
    }

    /// The resource id expression in an ARM template (what metadata's `parentId` names).
    pub fn template_id(self, name: &str) -> String {
        if self.info().security_insights {
            format!(
                "[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', parameters('workspace'), 'Microsoft.SecurityInsights'),'/{}/{name}')]",
                self.segment()
            )
        } else {
            format!(
                "[resourceId('{}', parameters('workspace'), '{name}')]",
                self.info().template_type
            )
        }
    }
}

/// Deployment order of a content kind: what others depend on first (a rule may read a
/// watchlist, call a function or an anomaly setting's output; hunts go before rules).
pub fn deploy_order(kind: ContentKind) -> u8 {
    match kind {
        ContentKind::Watchlist => RType::Watchlist.order(),
        ContentKind::Function => RType::SavedSearch.order(),
        ContentKind::Anomaly => RType::MlSetting.order(),
        ContentKind::Hunt => 3,
        ContentKind::Rule => RType::AlertRule.order(),
    }
}

// ---- the projection: what plans compare and the content identity hashes ----

/// Drop nulls, empty arrays and empty objects (the service writes `null` or `[]` for what a
/// client leaves out), sort object keys.
pub fn normalize(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Array(a) => {
            let items: Vec<Value> = a.iter().filter_map(normalize).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(o) => {
            let sorted: BTreeMap<&String, Value> = o
                .iter()
                .filter_map(|(k, v)| normalize(v).map(|v| (k, v)))
                .collect();
            if sorted.is_empty() {
                return None;
            }
            let mut m = Map::new();
            for (k, v) in sorted {
                m.insert(k.clone(), v);
            }
            Some(Value::Object(m))
        }
        v => Some(v.clone()),
    }
}

/// Watchlist rows from CSV raw content, as `{column: value}` maps.
pub fn rows_from_csv(raw: &str) -> Vec<Value> {
    let Ok(records) = crate::csv::parse(raw) else {
        return Vec::new();
    };
    let mut it = records.into_iter();
    let Some(header) = it.next() else {
        return Vec::new();
    };
    it.map(|r| {
        Value::Object(
            header
                .iter()
                .cloned()
                .zip(r.into_iter().map(Value::String))
                .collect(),
        )
    })
    .collect()
}

/// Rows of a live watchlist's items.
pub fn rows_from_items(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .map(|i| i["properties"]["itemsKeyValue"].clone())
        .collect()
}

fn sorted_rows(rows: Vec<Value>) -> Value {
    let mut rows: Vec<(String, Value)> = rows
        .into_iter()
        .filter_map(|r| normalize(&r))
        .map(|r| (r.to_string(), r))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Array(rows.into_iter().map(|(_, r)| r).collect())
}

/// The writable projection of a body: `kind` (where the type has one) and the writable
/// properties, normalised; for watchlists the rows (`items`, sorted) instead of raw content.
/// `rows` are the live items of a watchlist (for a desired body they come from rawContent).
pub fn project(rtype: RType, body: &Value, rows: Option<Vec<Value>>) -> Value {
    let mut out = Map::new();
    if let Some(k) = body.get("kind").filter(|k| !k.is_null()) {
        if matches!(rtype, RType::AlertRule | RType::MlSetting) {
            out.insert("kind".into(), k.clone());
        }
    }
    let mut props = body
        .get("properties")
        .and_then(|p| p.as_object())
        .cloned()
        .unwrap_or_default();
    if rtype == RType::Watchlist {
        let rows = rows.unwrap_or_else(|| {
            props
                .get("rawContent")
                .and_then(|r| r.as_str())
                .map(rows_from_csv)
                .unwrap_or_default()
        });
        out.insert("items".into(), sorted_rows(rows));
    }
    for k in rtype.read_only() {
        props.remove(*k);
    }
    canonical(&mut props);
    out.insert("properties".into(), Value::Object(props));
    normalize(&Value::Object(out)).unwrap_or(json!({}))
}

/// The content identity of a resource: the hash of its projection. Compile writes it into
/// the item's metadata (`customVersion`), deploy writes the same value, and plan compares the
/// live projection's hash with it to tell a change made in the portal (drift) from one made in
/// git. Defined once, here.
pub fn content_hash(projection: &Value) -> String {
    crate::hash::sha256_hex(projection.to_string().as_bytes())[..16].to_string()
}

/// [`content_hash`] of [`project`]`(rtype, body, None)`, computed without building the
/// projection: the same JSON text is streamed into the hash (keys sorted, nulls and empty
/// containers dropped, durations and sets canonical, read-only properties left out). Compile
/// calls it for every definition; watchlists take the plain path.
pub fn body_content_hash(rtype: RType, body: &Value) -> String {
    use sha2::Digest;
    if rtype == RType::Watchlist {
        return content_hash(&project(rtype, body, None));
    }
    let mut w = HashWriter(sha2::Sha256::new());
    let kind = body
        .get("kind")
        .filter(|k| !k.is_null() && matches!(rtype, RType::AlertRule | RType::MlSetting))
        .filter(|k| !norm_empty(k, false));
    let ro = rtype.read_only();
    let props: Vec<(&String, &Value)> = body
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| {
            let mut v: Vec<_> = p
                .iter()
                .filter(|(k, v)| !ro.contains(&k.as_str()) && !dropped(k, v, true))
                .collect();
            v.sort_by(|a, b| a.0.cmp(b.0));
            v
        })
        .unwrap_or_default();
    w.put(b"{");
    if let Some(k) = kind {
        w.put(b"\"kind\":");
        write_norm(&mut w, None, k, false);
        if !props.is_empty() {
            w.put(b",");
        }
    }
    if !props.is_empty() {
        w.put(b"\"properties\":");
        write_entries(&mut w, &props, true);
    }
    w.put(b"}");
    let digest = w.0.finalize();
    crate::hash::hex_of(&digest)[..16].to_string()
}

struct HashWriter(sha2::Sha256);

impl HashWriter {
    fn put(&mut self, b: &[u8]) {
        sha2::Digest::update(&mut self.0, b);
    }
}

impl std::io::Write for HashWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.put(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether [`normalize`] (after [`canonical`] when `canon`) drops the value.
fn norm_empty(v: &Value, canon: bool) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().all(|e| norm_empty(e, false)),
        Value::Object(o) => o.iter().all(|(k, v)| dropped(k, v, canon)),
        _ => false,
    }
}

/// Whether an object entry disappears from the projection.
fn dropped(k: &str, v: &Value, canon: bool) -> bool {
    (canon && k == "description" && v.as_str() == Some("")) || norm_empty(v, canon)
}

/// An object's kept entries (sorted), as JSON.
fn write_entries(w: &mut HashWriter, entries: &[(&String, &Value)], canon: bool) {
    w.put(b"{");
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            w.put(b",");
        }
        serde_json::to_writer(&mut *w, k).expect("hashing cannot fail");
        w.put(b":");
        write_norm(w, Some(k), v, canon);
    }
    w.put(b"}");
}

/// A kept value as the projection's JSON; `canon` inside objects reached from the properties
/// through objects only (where [`canonical`] applies).
fn write_norm(w: &mut HashWriter, key: Option<&str>, v: &Value, canon: bool) {
    match v {
        Value::String(s) if canon && key.is_some_and(|k| DURATIONS.contains(&k)) => {
            serde_json::to_writer(&mut *w, &canonical_duration(s)).expect("hashing cannot fail");
        }
        Value::Array(a)
            if canon
                && key.is_some_and(|k| SETS.contains(&k))
                && a.iter().all(Value::is_string) =>
        {
            let mut items: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            items.sort_unstable();
            items.dedup();
            serde_json::to_writer(&mut *w, &items).expect("hashing cannot fail");
        }
        Value::Array(a) => {
            w.put(b"[");
            let mut first = true;
            for e in a.iter().filter(|e| !norm_empty(e, false)) {
                if !first {
                    w.put(b",");
                }
                first = false;
                write_norm(w, None, e, false);
            }
            w.put(b"]");
        }
        Value::Object(o) => {
            let mut entries: Vec<(&String, &Value)> =
                o.iter().filter(|(k, v)| !dropped(k, v, canon)).collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            write_entries(w, &entries, canon);
        }
        v => serde_json::to_writer(&mut *w, v).expect("hashing cannot fail"),
    }
}

/// Properties whose value is an ISO-8601 duration: compared in one canonical spelling
/// (`PT24H` and `P1D` are the same period; Azure answers with its own spelling).
const DURATIONS: &[&str] = &[
    "queryFrequency",
    "queryPeriod",
    "suppressionDuration",
    "lookbackDuration",
    "defaultDuration",
    "frequency",
];

/// Properties whose value is a set of strings: order carries no meaning to the service.
const SETS: &[&str] = &[
    "tactics",
    "techniques",
    "subTechniques",
    "labels",
    "groupByEntities",
    "groupByAlertDetails",
    "groupByCustomDetails",
];

/// The canonical spelling of an ISO-8601 duration (unchanged when it does not parse).
pub fn canonical_duration(s: &str) -> String {
    crate::model::duration::Duration::parse(s)
        .map(|d| d.to_iso())
        .unwrap_or_else(|| s.to_string())
}

/// Rewrite duration properties to their canonical spelling, at any depth (as the service
/// answers them on GET).
pub fn canonical_durations(props: &mut Map<String, Value>) {
    for (k, v) in props.iter_mut() {
        match v {
            Value::String(s) if DURATIONS.contains(&k.as_str()) => *s = canonical_duration(s),
            Value::Object(o) => canonical_durations(o),
            _ => {}
        }
    }
}

/// Rewrite durations to their canonical spelling and sort set-valued arrays, at any depth;
/// an empty description is no description.
fn canonical(props: &mut Map<String, Value>) {
    if props
        .get("description")
        .is_some_and(|d| d.as_str() == Some(""))
    {
        props.remove("description");
    }
    for (k, v) in props.iter_mut() {
        match v {
            Value::String(s) if DURATIONS.contains(&k.as_str()) => *s = canonical_duration(s),
            Value::Array(a) if SETS.contains(&k.as_str()) && a.iter().all(Value::is_string) => {
                a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                a.dedup();
            }
            Value::Object(o) => canonical(o),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_hash_is_the_projection_hash() {
        let bodies = [
            json!({}),
            json!({"kind": "Scheduled"}),
            json!({"kind": null, "properties": {"description": ""}}),
            json!({"kind": "Scheduled", "etag": "x", "properties": {
                "displayName": "n\u{e9} \"q\"", "description": "", "lastModifiedUtc": "t",
                "queryFrequency": "P1D", "queryPeriod": "PT24H", "tactics": ["b", "a", "b"],
                "techniques": [], "severity": null, "enabled": true, "triggerThreshold": 0,
                "entityMappings": [{"entityType": "IP", "description": "", "fieldMappings": [
                    {"identifier": "Address", "columnName": "IP", "x": null}]}, null, {}],
                "incidentConfiguration": {"createIncident": true, "groupingConfiguration": {
                    "lookbackDuration": "PT5H", "groupByEntities": ["IP", "Account"],
                    "matchingMethod": "Selected", "description": "", "empty": {"a": null}}},
                "customDetails": {"b": "B", "a": "A"}, "numbers": [1.5, -2, 3e20]}}),
            json!({"properties": {"query": "T", "etag": "*", "tags": [{"name": "a", "value": null}]}}),
        ];
        for rtype in RType::EVERY {
            if rtype == RType::Watchlist {
                continue;
            }
            for b in &bodies {
                assert_eq!(
                    body_content_hash(rtype, b),
                    content_hash(&project(rtype, b, None)),
                    "{rtype:?} {b}"
                );
            }
        }
    }

    #[test]
    fn the_table_is_in_enum_order_and_round_trips() {
        for t in RType::EVERY {
            assert_eq!(t.info().rtype, t);
            assert_eq!(RType::from_segment(t.segment()), Some(t));
            assert_eq!(RType::from_segment(&t.segment().to_uppercase()), Some(t));
        }
        assert!(RType::from_segment("other").is_none());
        for m in [Method::Get, Method::Put, Method::Post, Method::Delete] {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("PTU"), None);
        assert_eq!(serde_json::to_string(&Method::Put).unwrap(), "\"PUT\"");
    }

    #[test]
    fn the_projection_ignores_spelling_order_and_server_fields() {
        let compiled = json!({"kind": "Scheduled", "properties": {
            "displayName": "r", "query": "T", "queryFrequency": "PT24H", "queryPeriod": "P1D",
            "tactics": ["Persistence", "Execution"], "description": "",
            "incidentConfiguration": {"groupingConfiguration": {"lookbackDuration": "PT300M"}}}});
        let served = json!({"id": "/x/alertRules/r", "etag": "\"2\"", "kind": "Scheduled",
            "properties": {"displayName": "r", "query": "T", "queryFrequency": "P1D",
            "queryPeriod": "PT24H", "tactics": ["Execution", "Persistence"],
            "lastModifiedUtc": "2026-01-01T00:00:00Z", "alertRuleTemplateName": null,
            "incidentConfiguration": {"groupingConfiguration": {"lookbackDuration": "PT5H"}}}});
        let a = project(RType::AlertRule, &compiled, None);
        let b = project(RType::AlertRule, &served, None);
        assert_eq!(a, b);
        assert_eq!(content_hash(&a), content_hash(&b));
        let other = json!({"kind": "Scheduled", "properties": {"displayName": "r", "query": "T2"}});
        assert_ne!(
            content_hash(&a),
            content_hash(&project(RType::AlertRule, &other, None))
        );
        // A saved search deployed by an ARM template carries its etag inside properties.
        let arm = json!({"properties": {"displayName": "h", "query": "T", "eTag": "*"}});
        let rest = json!({"properties": {"displayName": "h", "query": "T"}});
        assert_eq!(
            project(RType::SavedSearch, &arm, None),
            project(RType::SavedSearch, &rest, None)
        );
    }
}
