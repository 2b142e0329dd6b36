//! Resources as the deploy stage compares them: a key (type and name), the writable projection
//! of a body (what a field-level diff and the drift hash look at), the body that restores a
//! resource read from the service, and the field-level diff.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub use crate::rest::{content_hash, normalize, project, rows_from_csv, rows_from_items, RType};

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
    rtype.path(name)
}

/// Parse a resource id (or the tail of one) into its key: `.../alertRules/NAME`.
pub fn key_of_id(id: &str) -> Option<(ResKey, String)> {
    let mut it = id.trim_end_matches('/').rsplit('/');
    let name = it.next()?;
    let seg = it.next()?;
    let t = RType::from_segment(seg)?;
    Some((ResKey::new(t, name), name.to_string()))
}

/// A body that writes a resource back as it was read (for restore and rollback).
pub fn restore_body(rtype: RType, live: &Value, items: Option<&[Value]>) -> Value {
    let mut props = live
        .get("properties")
        .and_then(|p| p.as_object())
        .cloned()
        .unwrap_or_default();
    for k in rtype.read_only() {
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
