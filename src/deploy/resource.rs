//! Resources as the deploy stage compares them: a key (type and name), the writable projection
//! of a body (what a field-level diff and the drift hash look at), the body that restores a
//! resource read from the service, and the field-level diff.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::ApiVersions;
use crate::model::ContentKind;

/// The Sentinel resource types vigil manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RType {
    Watchlist,
    SavedSearch,
    MlSetting,
    AlertRule,
}

impl RType {
    pub const ALL: [RType; 4] = [
        RType::Watchlist,
        RType::SavedSearch,
        RType::MlSetting,
        RType::AlertRule,
    ];

    /// The collection path relative to the workspace.
    pub fn collection(self) -> &'static str {
        match self {
            RType::AlertRule => "providers/Microsoft.SecurityInsights/alertRules",
            RType::SavedSearch => "savedSearches",
            RType::MlSetting => "providers/Microsoft.SecurityInsights/securityMLAnalyticsSettings",
            RType::Watchlist => "providers/Microsoft.SecurityInsights/watchlists",
        }
    }

    pub fn segment(self) -> &'static str {
        self.collection().rsplit('/').next().unwrap_or("")
    }

    pub fn from_segment(s: &str) -> Option<RType> {
        RType::ALL
            .into_iter()
            .find(|t| t.segment().eq_ignore_ascii_case(s))
    }

    /// The api-version to read and restore with. Alert rules use the preview version, which
    /// knows every kind and field (NRT, subTechniques).
    pub fn api_version(self, v: &ApiVersions) -> String {
        match self {
            RType::AlertRule => v.preview.clone(),
            RType::SavedSearch => v.saved_searches.clone(),
            RType::MlSetting => v.anomalies.clone(),
            RType::Watchlist => v.watchlists.clone(),
        }
    }

    pub fn from_kind(k: ContentKind) -> RType {
        match k {
            ContentKind::Rule => RType::AlertRule,
            ContentKind::Hunt | ContentKind::Function => RType::SavedSearch,
            ContentKind::Anomaly => RType::MlSetting,
            ContentKind::Watchlist => RType::Watchlist,
        }
    }
}

/// A resource's identity in a workspace. Names compare case-insensitively (ARM does), so the
/// key holds the lower-case name and `name` the spelling to use.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResKey {
    pub rtype: RType,
    pub lname: String,
}

impl ResKey {
    pub fn new(rtype: RType, name: &str) -> ResKey {
        ResKey {
            rtype,
            lname: name.to_ascii_lowercase(),
        }
    }
}

/// `collection/name` relative to the workspace.
pub fn path(rtype: RType, name: &str) -> String {
    format!("{}/{name}", rtype.collection())
}

/// Parse a resource id (or the tail of one) into its key: `.../alertRules/NAME`.
pub fn key_of_id(id: &str) -> Option<(ResKey, String)> {
    let mut it = id.trim_end_matches('/').rsplit('/');
    let name = it.next()?;
    let seg = it.next()?;
    let t = RType::from_segment(seg)?;
    Some((ResKey::new(t, name), name.to_string()))
}

/// Read-only properties per type: never compared, never sent back.
fn read_only(rtype: RType) -> &'static [&'static str] {
    match rtype {
        RType::AlertRule | RType::MlSetting => &["lastModifiedUtc"],
        RType::SavedSearch => &[],
        RType::Watchlist => &[
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
    }
}

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
    for k in read_only(rtype) {
        props.remove(*k);
    }
    out.insert("properties".into(), Value::Object(props));
    normalize(&Value::Object(out)).unwrap_or(json!({}))
}

/// The hash of a projection, recorded in the metadata's `customVersion` at deploy so a later
/// plan can tell a change made in the portal (drift) from one made in git.
pub fn content_hash(projection: &Value) -> String {
    crate::hash::sha256_hex(projection.to_string().as_bytes())[..16].to_string()
}

/// A body that writes a resource back as it was read (for restore and rollback).
pub fn restore_body(rtype: RType, live: &Value, items: Option<&[Value]>) -> Value {
    let mut props = live
        .get("properties")
        .and_then(|p| p.as_object())
        .cloned()
        .unwrap_or_default();
    for k in read_only(rtype) {
        props.remove(*k);
    }
    props.retain(|_, v| !v.is_null());
    let mut body = Map::new();
    if let Some(k) = live.get("kind").filter(|k| !k.is_null()) {
        body.insert("kind".into(), k.clone());
    }
    if rtype == RType::SavedSearch {
        body.insert("etag".into(), json!("*"));
    }
    if rtype == RType::Watchlist {
        let rows = rows_from_items(items.unwrap_or(&[]));
        let mut header: Vec<String> = Vec::new();
        for r in &rows {
            if let Some(o) = r.as_object() {
                for k in o.keys() {
                    if !header.contains(k) {
                        header.push(k.clone());
                    }
                }
            }
        }
        if header.is_empty() {
            if let Some(k) = props.get("itemsSearchKey").and_then(|k| k.as_str()) {
                header.push(k.to_string());
            }
        }
        let mut records = vec![header.clone()];
        for r in &rows {
            records.push(
                header
                    .iter()
                    .map(|h| r[h].as_str().unwrap_or("").to_string())
                    .collect(),
            );
        }
        props.insert("rawContent".into(), json!(crate::csv::write(&records)));
        props.insert("contentType".into(), json!("text/csv"));
        props.insert("numberOfLinesToSkip".into(), json!(0));
    }
    body.insert("properties".into(), Value::Object(props));
    Value::Object(body)
}

/// A metadata body as read, to write back.
pub fn restore_metadata(live: &Value) -> Value {
    let mut props = live
        .get("properties")
        .and_then(|p| p.as_object())
        .cloned()
        .unwrap_or_default();
    props.retain(|_, v| !v.is_null());
    json!({ "properties": props })
}

/// One changed field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    /// Dotted path: `properties.query`, `items`.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

/// Field-level differences between two projections. Objects are walked; arrays and scalars
/// are compared whole (watchlist `items` are summarised as rows added and removed).
pub fn diff(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", Some(old), Some(new), &mut out);
    out
}

fn walk(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(&p, a.get(k), b.get(k), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) if path == "items" => {
            let rows = |v: Option<&Value>| -> Vec<String> {
                v.and_then(|v| v.as_array())
                    .map(|a| a.iter().map(|r| r.to_string()).collect())
                    .unwrap_or_default()
            };
            let (ra, rb) = (rows(a), rows(b));
            let removed = ra.iter().filter(|r| !rb.contains(r)).count();
            let added = rb.iter().filter(|r| !ra.contains(r)).count();
            out.push(FieldChange {
                path: path.into(),
                old: Some(json!(format!("{} rows", ra.len()))),
                new: Some(json!(format!("{} rows (+{added} -{removed})", rb.len()))),
            });
        }
        (a, b) => out.push(FieldChange {
            path: path.into(),
            old: a.cloned(),
            new: b.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_ignores_read_only_fields_nulls_and_order() {
        let desired = json!({"kind": "Scheduled", "properties": {"query": "T", "tactics": [],
            "displayName": "x"}});
        let live = json!({"id": "/s/alertRules/a", "etag": "\"1\"", "kind": "Scheduled",
            "systemData": {}, "properties": {"displayName": "x", "query": "T",
            "lastModifiedUtc": "now", "templateVersion": null, "tactics": []}});
        let a = project(RType::AlertRule, &desired, None);
        let b = project(RType::AlertRule, &live, None);
        assert_eq!(a, b);
        assert_eq!(content_hash(&a), content_hash(&b));
        let changed =
            json!({"kind": "Scheduled", "properties": {"query": "T2", "displayName": "x"}});
        let d = diff(&b, &project(RType::AlertRule, &changed, None));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, "properties.query");
    }

    #[test]
    fn watchlist_rows_compare_as_sets_and_restore_round_trips() {
        let desired = json!({"properties": {"displayName": "w", "itemsSearchKey": "ip",
            "rawContent": "ip,label\n1.1.1.1,a\n2.2.2.2,b\n"}});
        let items = vec![
            json!({"properties": {"itemsKeyValue": {"ip": "2.2.2.2", "label": "b"}}}),
            json!({"properties": {"itemsKeyValue": {"ip": "1.1.1.1", "label": "a"}}}),
        ];
        let live = json!({"properties": {"displayName": "w", "itemsSearchKey": "ip",
            "watchlistId": "g", "provisioningState": "Succeeded"}});
        assert_eq!(
            project(RType::Watchlist, &desired, None),
            project(RType::Watchlist, &live, Some(rows_from_items(&items)))
        );
        let back = restore_body(RType::Watchlist, &live, Some(&items));
        assert_eq!(
            project(RType::Watchlist, &back, None),
            project(RType::Watchlist, &desired, None)
        );
        let fewer = json!({"properties": {"displayName": "w", "itemsSearchKey": "ip",
            "rawContent": "ip,label\n1.1.1.1,a\n"}});
        let d = diff(
            &project(RType::Watchlist, &desired, None),
            &project(RType::Watchlist, &fewer, None),
        );
        assert_eq!(d[0].path, "items");
        assert_eq!(d[0].new, Some(json!("1 rows (+0 -1)")));
    }

    #[test]
    fn keys_from_ids() {
        let (k, n) = key_of_id("/subscriptions/s/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w/providers/Microsoft.SecurityInsights/alertRules/ABC").unwrap();
        assert_eq!(
            (k.rtype, k.lname.as_str(), n.as_str()),
            (RType::AlertRule, "abc", "ABC")
        );
        assert_eq!(
            key_of_id("x/savedSearches/s").unwrap().0.rtype,
            RType::SavedSearch
        );
        assert!(key_of_id("x/other/s").is_none());
    }
}
