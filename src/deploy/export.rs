//! `vigil export`: live workspace content as YAML in vigil's format (Azure-Sentinel spelling),
//! for teams adopting vigil on an existing workspace. Each resource maps back to the fields
//! that compile to the same body, so export → compile → plan is a no-op.
//!
//! Exported: Scheduled and NRT alert rules, hunting queries and functions (saved searches),
//! anomaly settings, watchlists (YAML + CSV). Other alert rule kinds (Fusion, Microsoft
//! security, ML, threat intelligence) and other saved searches are listed as skipped.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::plan::{Live, LiveMeta};
use super::resource::{self, RType};

/// What export writes: files by relative path, and what it skipped (with why).
#[derive(Debug, Default)]
pub struct Export {
    pub files: Vec<(PathBuf, String)>,
    /// The resource name of each file's item (`None` for watchlist CSV files).
    pub names: Vec<Option<String>>,
    pub skipped: Vec<String>,
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A YAML document for a JSON value (a mapping at the top).
pub fn yaml(v: &Value) -> String {
    let mut s = String::new();
    emit_map(v.as_object().expect("top level is a map"), 0, &mut s);
    s
}

fn plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !k.starts_with('-')
}

fn key(k: &str) -> String {
    if plain_key(k) {
        k.to_string()
    } else {
        serde_json::to_string(k).expect("strings serialize")
    }
}

fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::String(s) => {
            let multiline = s.contains('\n')
                && !s.contains('\r')
                && !s.starts_with(' ')
                && !s.starts_with('\t')
                && !s.lines().any(|l| l.trim().is_empty() && !l.is_empty());
            if multiline {
                let trailing = s.len() - s.trim_end_matches('\n').len();
                let chomp = match trailing {
                    0 => "-",
                    1 => "",
                    _ => "+",
                };
                let pad = " ".repeat(indent + 2);
                let mut out = format!("|{chomp}\n");
                let body = if trailing == 1 {
                    &s[..s.len() - 1]
                } else {
                    s.as_str()
                };
                let lines: Vec<&str> = body.split('\n').collect();
                for (i, l) in lines.iter().enumerate() {
                    if l.is_empty() {
                        if i + 1 < lines.len() || trailing == 0 {
                            out.push('\n');
                        }
                    } else {
                        out.push_str(&pad);
                        out.push_str(l);
                        out.push('\n');
                    }
                }
                while out.ends_with("\n\n") && trailing <= 1 {
                    out.pop();
                }
                out.pop();
                out
            } else {
                serde_json::to_string(s).expect("strings serialize")
            }
        }
        Value::Null => "null".into(),
        v => v.to_string(),
    }
}

fn emit_map(m: &Map<String, Value>, indent: usize, s: &mut String) {
    let pad = " ".repeat(indent);
    for (k, v) in m {
        match v {
            Value::Object(o) if !o.is_empty() => {
                s.push_str(&format!("{pad}{}:\n", key(k)));
                emit_map(o, indent + 2, s);
            }
            Value::Array(a) if !a.is_empty() => {
                s.push_str(&format!("{pad}{}:\n", key(k)));
                emit_seq(a, indent + 2, s);
            }
            Value::Object(_) => s.push_str(&format!("{pad}{}: {{}}\n", key(k))),
            Value::Array(_) => s.push_str(&format!("{pad}{}: []\n", key(k))),
            v => s.push_str(&format!("{pad}{}: {}\n", key(k), scalar(v, indent))),
        }
    }
}

fn emit_seq(a: &[Value], indent: usize, s: &mut String) {
    let pad = " ".repeat(indent);
    for v in a {
        match v {
            Value::Object(o) if !o.is_empty() => {
                let mut inner = String::new();
                emit_map(o, indent + 2, &mut inner);
                // The first key goes on the dash line.
                let trimmed = inner.trim_start_matches(' ');
                s.push_str(&format!("{pad}- {trimmed}"));
            }
            Value::Array(x) if !x.is_empty() => {
                s.push_str(&format!("{pad}-\n"));
                emit_seq(x, indent + 2, s);
            }
            v => s.push_str(&format!("{pad}- {}\n", scalar(v, indent + 2))),
        }
    }
}

fn put(m: &mut Map<String, Value>, k: &str, v: &Value) {
    let empty = match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if !empty {
        m.insert(k.to_string(), v.clone());
    }
}

/// Techniques and sub-techniques back into `relevantTechniques` (compile splits them again).
fn relevant(techniques: &Value, subs: &Value) -> Value {
    let subs: Vec<&str> = subs
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for t in techniques
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str())
    {
        let mine: Vec<&&str> = subs
            .iter()
            .filter(|s| s.split('.').next() == Some(t))
            .collect();
        if mine.is_empty() {
            out.push(t.to_string());
        } else {
            out.extend(mine.into_iter().map(|s| s.to_string()));
        }
    }
    for s in &subs {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    json!(out)
}

fn operator(op: &Value) -> Value {
    match op.as_str() {
        Some("GreaterThan") => json!("gt"),
        Some("LessThan") => json!("lt"),
        Some("Equal") => json!("eq"),
        Some("NotEqual") => json!("ne"),
        _ => op.clone(),
    }
}

fn version(meta: Option<&LiveMeta>) -> Value {
    meta.map(|m| m.body["properties"]["version"].clone())
        .unwrap_or(Value::Null)
}

fn tag(p: &Value, name: &str) -> Option<String> {
    p["tags"].as_array().and_then(|ts| {
        ts.iter()
            .find(|t| {
                t["name"]
                    .as_str()
                    .or(t["Name"].as_str())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|t| t["value"].as_str().or(t["Value"].as_str()))
            .map(String::from)
    })
}

fn list_tag(p: &Value, name: &str) -> Value {
    match tag(p, name) {
        Some(s) if !s.trim().is_empty() => json!(s.split(',').map(str::trim).collect::<Vec<_>>()),
        _ => Value::Null,
    }
}

/// The files for a workspace's live content.
pub fn export(live: &Live) -> Export {
    let mut out = export_files(live);
    out.names = out
        .files
        .iter()
        .map(|(p, text)| {
            if p.extension().is_some_and(|e| e == "yaml") {
                name_in(text)
            } else {
                None
            }
        })
        .collect();
    out
}

/// The resource name an exported YAML text declares (its `id`, or a watchlist's alias).
fn name_in(text: &str) -> Option<String> {
    let root = crate::yaml::parse(crate::source::FileId(0), text).root?;
    let v = crate::yaml::to_json(&root);
    v.get("id")
        .or_else(|| v.get("watchlistAlias"))
        .or_else(|| v.get("alias"))
        .and_then(|x| x.as_str())
        .map(str::to_string)
}

fn export_files(live: &Live) -> Export {
    let mut out = Export::default();
    for (key, lr) in &live.resources {
        let p = &lr.body["properties"];
        let meta = live.metadata.get(key);
        let mut m = Map::new();
        match key.rtype {
            RType::AlertRule => {
                let kind = lr.body["kind"].as_str().unwrap_or("");
                if kind != "Scheduled" && kind != "NRT" {
                    out.skipped.push(format!(
                        "alert rule {} ({}): kind {kind} is not exported",
                        lr.name,
                        p["displayName"].as_str().unwrap_or("")
                    ));
                    continue;
                }
                m.insert("id".into(), json!(lr.name));
                m.insert("name".into(), p["displayName"].clone());
                m.insert(
                    "description".into(),
                    json!(p["description"].as_str().unwrap_or("")),
                );
                m.insert("severity".into(), p["severity"].clone());
                m.insert("kind".into(), json!(kind));
                put(&mut m, "enabled", &p["enabled"]);
                if kind == "Scheduled" {
                    m.insert("requiredDataConnectors".into(), json!([]));
                    put(&mut m, "queryFrequency", &p["queryFrequency"]);
                    put(&mut m, "queryPeriod", &p["queryPeriod"]);
                    put(&mut m, "triggerOperator", &operator(&p["triggerOperator"]));
                    put(&mut m, "triggerThreshold", &p["triggerThreshold"]);
                }
                put(&mut m, "suppressionEnabled", &p["suppressionEnabled"]);
                put(&mut m, "suppressionDuration", &p["suppressionDuration"]);
                put(&mut m, "tactics", &p["tactics"]);
                put(
                    &mut m,
                    "relevantTechniques",
                    &relevant(&p["techniques"], &p["subTechniques"]),
                );
                m.insert("query".into(), p["query"].clone());
                for k in [
                    "entityMappings",
                    "customDetails",
                    "alertDetailsOverride",
                    "eventGroupingSettings",
                    "incidentConfiguration",
                    "sentinelEntitiesMappings",
                    "alertRuleTemplateName",
                ] {
                    put(&mut m, k, &p[k]);
                }
                put(&mut m, "version", &version(meta));
                out.files.push((
                    PathBuf::from("detections").join(format!("{}.yaml", safe(&lr.name))),
                    yaml(&Value::Object(m)),
                ));
            }
            RType::SavedSearch => {
                let category = p["category"].as_str().unwrap_or("");
                if category.eq_ignore_ascii_case("Hunting Queries") {
                    m.insert("id".into(), json!(lr.name));
                    m.insert("name".into(), p["displayName"].clone());
                    m.insert(
                        "description".into(),
                        json!(tag(p, "description").unwrap_or_default()),
                    );
                    put(&mut m, "tactics", &list_tag(p, "tactics"));
                    put(&mut m, "relevantTechniques", &list_tag(p, "techniques"));
                    m.insert("query".into(), p["query"].clone());
                    put(&mut m, "version", &version(meta));
                    out.files.push((
                        PathBuf::from("hunts").join(format!("{}.yaml", safe(&lr.name))),
                        yaml(&Value::Object(m)),
                    ));
                } else if let Some(alias) = p["functionAlias"].as_str() {
                    m.insert("id".into(), json!(lr.name));
                    m.insert("name".into(), p["displayName"].clone());
                    if let Some(d) = tag(p, "description") {
                        m.insert("description".into(), json!(d));
                    }
                    m.insert("functionAlias".into(), json!(alias));
                    m.insert("category".into(), json!(category));
                    let params: Vec<Value> = p["functionParameters"]
                        .as_str()
                        .unwrap_or("")
                        .split(',')
                        .filter(|x| !x.trim().is_empty())
                        .filter_map(|x| {
                            let (n, rest) = x.split_once(':')?;
                            let (ty, default) = match rest.split_once('=') {
                                Some((t, d)) => (t.trim(), Some(d.trim())),
                                None => (rest.trim(), None),
                            };
                            let mut o = json!({"name": n.trim(), "type": ty});
                            if let Some(d) = default {
                                o["default"] = json!(d);
                            }
                            Some(o)
                        })
                        .collect();
                    put(&mut m, "functionParameters", &json!(params));
                    m.insert("query".into(), p["query"].clone());
                    put(&mut m, "version", &version(meta));
                    out.files.push((
                        PathBuf::from("functions").join(format!("{}.yaml", safe(&lr.name))),
                        yaml(&Value::Object(m)),
                    ));
                } else {
                    out.skipped.push(format!(
                        "saved search {} ({}): category `{category}` is neither a hunting query nor a function",
                        lr.name,
                        p["displayName"].as_str().unwrap_or("")
                    ));
                }
            }
            RType::MlSetting => {
                m.insert("id".into(), json!(lr.name));
                m.insert("name".into(), p["displayName"].clone());
                put(&mut m, "description", &p["description"]);
                for k in [
                    "enabled",
                    "anomalyVersion",
                    "frequency",
                    "settingsStatus",
                    "isDefaultSettings",
                    "settingsDefinitionId",
                    "anomalySettingsVersion",
                    "customizableObservations",
                    "requiredDataConnectors",
                    "tactics",
                ] {
                    put(&mut m, k, &p[k]);
                }
                put(&mut m, "relevantTechniques", &p["techniques"]);
                out.files.push((
                    PathBuf::from("anomalies").join(format!("{}.yaml", safe(&lr.name))),
                    yaml(&Value::Object(m)),
                ));
            }
            RType::Watchlist => {
                let alias = p["watchlistAlias"].as_str().unwrap_or(&lr.name).to_string();
                let csv_name = p["source"]
                    .as_str()
                    .filter(|s| {
                        s.to_ascii_lowercase().ends_with(".csv")
                            && s.chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    })
                    .map(String::from)
                    .unwrap_or_else(|| format!("{}.csv", safe(&alias)));
                m.insert("alias".into(), json!(alias));
                m.insert("name".into(), p["displayName"].clone());
                put(&mut m, "description", &p["description"]);
                put(&mut m, "provider", &p["provider"]);
                m.insert("itemsSearchKey".into(), p["itemsSearchKey"].clone());
                m.insert("source".into(), json!(csv_name));
                put(&mut m, "labels", &p["labels"]);
                put(&mut m, "defaultDuration", &p["defaultDuration"]);
                let body = resource::restore_body(RType::Watchlist, &lr.body, lr.items.as_deref());
                let csv = body["properties"]["rawContent"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                out.files.push((
                    PathBuf::from("watchlists").join(format!("{}.yaml", safe(&alias))),
                    yaml(&Value::Object(m)),
                ));
                out.files
                    .push((PathBuf::from("watchlists").join(csv_name), csv));
            }
            // Metadata is read beside the item it describes, never listed as a resource.
            RType::Metadata => continue,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trips_through_vigils_parser() {
        let v = json!({"id": "x", "query": "T\n| where A == 'b'\n| project C\n",
            "q2": "one\ntwo", "list": ["a", {"k": 1, "m": [true]}], "empty": [],
            "weird key": "yes", "n": 5});
        let text = yaml(&v);
        let parsed = crate::yaml::parse(crate::source::FileId(0), &text);
        assert!(
            parsed.diagnostics.is_empty(),
            "{text}\n{:?}",
            parsed.diagnostics
        );
        let root = parsed.root.unwrap();
        assert_eq!(
            root.get("query").unwrap().as_scalar().unwrap().text,
            "T\n| where A == 'b'\n| project C\n"
        );
        assert_eq!(
            root.get("q2").unwrap().as_scalar().unwrap().text,
            "one\ntwo"
        );
        assert_eq!(
            root.get("weird key").unwrap().as_scalar().unwrap().text,
            "yes"
        );
    }
}
