//! What the emulator checks on PUT, as Sentinel does: api-versions per resource type, required
//! properties, enums, durations and their ranges, and for alert rules the query itself (syntax
//! and binding against the workspace's own catalog). Responses follow the REST spec's
//! schemas: properties the spec does not list for the kind and api-version are dropped, server
//! defaults are filled in.

use serde_json::{json, Map, Value};

use crate::kql::catalog::Catalog;
use crate::model::duration::Duration;

/// A rejected request: status, ARM error code, message.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

pub fn bad(message: impl Into<String>) -> Reject {
    Reject {
        status: 400,
        code: "BadRequest",
        message: message.into(),
    }
}

/// Stable Microsoft.SecurityInsights api-versions the emulator accepts.
pub const SI_STABLE: &[&str] = &[
    "2025-12-01",
    "2025-09-01",
    "2025-06-01",
    "2025-03-01",
    "2024-09-01",
    "2024-03-01",
    "2023-11-01",
    "2023-02-01",
    "2022-11-01",
    "2021-10-01",
];
/// Preview Microsoft.SecurityInsights api-versions.
pub const SI_PREVIEW: &[&str] = &[
    "2025-07-01-preview",
    "2025-04-01-preview",
    "2025-01-01-preview",
    "2024-10-01-preview",
    "2024-04-01-preview",
    "2024-01-01-preview",
    "2023-12-01-preview",
    "2023-02-01-preview",
    "2022-11-01-preview",
];
/// Microsoft.OperationalInsights api-versions (saved searches, workspaces).
pub const LA_VERSIONS: &[&str] = &[
    "2025-07-01",
    "2025-02-01",
    "2023-09-01",
    "2022-10-01",
    "2020-08-01",
    "2020-03-01-preview",
    "2015-03-20",
];

/// Check the api-version of a request for a resource provider.
pub fn api_version(version: Option<&str>, security_insights: bool) -> Result<bool, Reject> {
    let Some(v) = version else {
        return Err(Reject {
            status: 400,
            code: "MissingApiVersionParameter",
            message:
                "The api-version query parameter (?api-version=) is required for all requests."
                    .into(),
        });
    };
    let ok = if security_insights {
        SI_STABLE.contains(&v) || SI_PREVIEW.contains(&v)
    } else {
        LA_VERSIONS.contains(&v)
    };
    if !ok {
        let list: Vec<&str> = if security_insights {
            SI_STABLE.iter().chain(SI_PREVIEW).copied().collect()
        } else {
            LA_VERSIONS.to_vec()
        };
        return Err(Reject {
            status: 400,
            code: "InvalidApiVersionParameter",
            message: format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                list.join(",")
            ),
        });
    }
    Ok(v.ends_with("-preview"))
}

fn props(body: &Value) -> Result<&Map<String, Value>, Reject> {
    body.get("properties")
        .and_then(|p| p.as_object())
        .ok_or_else(|| bad("The request body must have a 'properties' object."))
}

fn req_str<'a>(p: &'a Map<String, Value>, k: &str) -> Result<&'a str, Reject> {
    match p.get(k) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(bad(format!("Property '{k}' must be a string."))),
        None => Err(bad(format!("Required property '{k}' is missing."))),
    }
}

fn req_bool(p: &Map<String, Value>, k: &str) -> Result<bool, Reject> {
    match p.get(k) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(format!("Property '{k}' must be a boolean."))),
        None => Err(bad(format!("Required property '{k}' is missing."))),
    }
}

fn one_of(p: &Map<String, Value>, k: &str, allowed: &[&str], required: bool) -> Result<(), Reject> {
    match p.get(k) {
        None | Some(Value::Null) if !required => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(v) => Err(bad(format!(
            "Property '{k}' has an invalid value {v}; allowed: {}.",
            allowed.join(", ")
        ))),
        None => Err(bad(format!("Required property '{k}' is missing."))),
    }
}

/// An ISO-8601 duration (the REST API accepts no other spelling).
pub fn iso_duration(p: &Map<String, Value>, k: &str) -> Result<Option<Duration>, Reject> {
    match p.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.starts_with('P') => {
            Duration::parse(s).map(Some).ok_or_else(|| {
                bad(format!(
                    "Property '{k}' is not a valid ISO 8601 duration: '{s}'."
                ))
            })
        }
        Some(v) => Err(bad(format!(
            "Property '{k}' is not a valid ISO 8601 duration: {v}."
        ))),
    }
}

fn in_range(k: &str, d: Duration, min: Duration, max: Duration) -> Result<(), Reject> {
    if d < min || d > max {
        return Err(bad(format!(
            "Property '{k}' must be between {} and {}; it is {}.",
            min.to_iso(),
            max.to_iso(),
            d.to_iso()
        )));
    }
    Ok(())
}

/// Keep the spec's properties, in the spec's order, with defaults; durations come back in the
/// service's canonical spelling (`PT24H` is answered as `P1D`).
fn shape(p: &Map<String, Value>, spec: &[(&str, Option<Value>)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, default) in spec {
        match p.get(*k) {
            Some(v) if !v.is_null() => {
                out.insert(k.to_string(), v.clone());
            }
            _ => {
                if let Some(d) = default {
                    out.insert(k.to_string(), d.clone());
                }
            }
        }
    }
    crate::rest::canonical_durations(&mut out);
    out
}

const TACTICS: &[&str] = &[
    "Reconnaissance",
    "ResourceDevelopment",
    "InitialAccess",
    "Execution",
    "Persistence",
    "PrivilegeEscalation",
    "DefenseEvasion",
    "CredentialAccess",
    "Discovery",
    "LateralMovement",
    "Collection",
    "Exfiltration",
    "CommandAndControl",
    "Impact",
    "PreAttack",
    "ImpairProcessControl",
    "InhibitResponseFunction",
];

fn tactics(p: &Map<String, Value>) -> Result<(), Reject> {
    if let Some(Value::Array(ts)) = p.get("tactics") {
        for t in ts {
            if !t.as_str().is_some_and(|t| TACTICS.contains(&t)) {
                return Err(bad(format!("Invalid tactic {t}.")));
            }
        }
    }
    Ok(())
}

/// Parse and bind a query against the workspace catalog, with Sentinel's error texts.
pub fn query(text: &str, catalog: &Catalog) -> Result<(), Reject> {
    if text.is_empty() || text.chars().count() > 10_000 {
        return Err(bad("The query must have 1 to 10,000 characters."));
    }
    let parsed = crate::kql::parse(text);
    if let Some(e) = parsed.errors.first() {
        return Err(bad(format!(
            "Failed to run the analytics rule query. {{\"error\":{{\"code\":\"BadArgumentError\",\"innererror\":{{\"code\":\"SyntaxError\",\"message\":\"SYN0002: {} at offset {}\"}}}}}}",
            e.message, e.start
        )));
    }
    let bound = crate::kql::binder::bind(text, &parsed.tree, catalog);
    if let Some(e) = bound.errors.first() {
        if e.kind.code() == crate::diagnostics::code::KQL_UNKNOWN_TABLE {
            return Err(bad(format!(
                "Failed to run the analytics rule query. One of the tables does not exist. ({})",
                e.message
            )));
        }
        return Err(bad(format!(
            "Failed to run the analytics rule query. {{\"error\":{{\"code\":\"BadArgumentError\",\"innererror\":{{\"code\":\"SemanticError\",\"message\":\"SEM0100: {}\"}}}}}}",
            e.message
        )));
    }
    Ok(())
}

fn empty_list() -> Option<Value> {
    Some(json!([]))
}

/// Validate an alert rule PUT; returns the kind and the stored properties (without
/// `lastModifiedUtc`, which the store sets).
pub fn alert_rule(
    body: &Value,
    preview: bool,
    catalog: &Catalog,
) -> Result<(String, Map<String, Value>), Reject> {
    let kind = body
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or_else(|| bad("Required property 'kind' is missing."))?;
    let p = props(body)?;
    let stable_kinds = ["Scheduled", "MicrosoftSecurityIncidentCreation", "Fusion"];
    match kind {
        "Scheduled" => {}
        "NRT" if preview => {}
        "NRT" | "MLBehaviorAnalytics" | "ThreatIntelligence" => {
            return Err(bad(format!(
                "The alert rule kind '{kind}' requires a preview api-version."
            )))
        }
        k if stable_kinds.contains(&k) => {
            return Err(bad(format!(
                "not supported yet: alert rule kind '{k}' in vigil emulate"
            )))
        }
        k => return Err(bad(format!("Unknown alert rule kind '{k}'."))),
    }
    req_str(p, "displayName")?;
    req_bool(p, "enabled")?;
    one_of(
        p,
        "severity",
        &["High", "Medium", "Low", "Informational"],
        true,
    )?;
    let q = req_str(p, "query")?;
    req_bool(p, "suppressionEnabled")?;
    let supp = iso_duration(p, "suppressionDuration")?
        .ok_or_else(|| bad("Required property 'suppressionDuration' is missing."))?;
    in_range(
        "suppressionDuration",
        supp,
        Duration(0),
        Duration::hours(24),
    )?;
    tactics(p)?;
    if !preview {
        for k in ["subTechniques", "sentinelEntitiesMappings"] {
            if p.get(k).is_some_and(|v| !v.is_null()) {
                return Err(bad(format!(
                    "Property '{k}' is available in preview api-versions only."
                )));
            }
        }
    }
    if kind == "Scheduled" {
        let f = iso_duration(p, "queryFrequency")?
            .ok_or_else(|| bad("Required property 'queryFrequency' is missing."))?;
        let per = iso_duration(p, "queryPeriod")?
            .ok_or_else(|| bad("Required property 'queryPeriod' is missing."))?;
        in_range(
            "queryFrequency",
            f,
            Duration::minutes(5),
            Duration::days(14),
        )?;
        in_range("queryPeriod", per, Duration::minutes(5), Duration::days(14))?;
        if per < f {
            return Err(bad(
                "queryPeriod must be greater than or equal to queryFrequency.",
            ));
        }
        if per >= Duration::days(2) && f < Duration::hours(1) {
            return Err(bad(
                "When queryPeriod is 2 days or more, queryFrequency must be at least 1 hour.",
            ));
        }
        one_of(
            p,
            "triggerOperator",
            &["GreaterThan", "LessThan", "Equal", "NotEqual"],
            true,
        )?;
        match p.get("triggerThreshold") {
            Some(Value::Number(n)) if n.as_i64().is_some_and(|n| (0..=10_000).contains(&n)) => {}
            Some(v) => return Err(bad(format!("Invalid triggerThreshold {v}."))),
            None => return Err(bad("Required property 'triggerThreshold' is missing.")),
        }
    }
    if let Some(ic) = p.get("incidentConfiguration").filter(|v| !v.is_null()) {
        if let Some(g) = ic.get("groupingConfiguration").filter(|v| !v.is_null()) {
            let g = g
                .as_object()
                .ok_or_else(|| bad("groupingConfiguration must be an object."))?;
            if let Some(lb) = iso_duration(g, "lookbackDuration")? {
                in_range(
                    "lookbackDuration",
                    lb,
                    Duration::minutes(5),
                    Duration::days(7),
                )?;
            }
            one_of(
                g,
                "matchingMethod",
                &["AllEntities", "AnyAlert", "Selected"],
                true,
            )?;
            if g.get("matchingMethod").and_then(|m| m.as_str()) == Some("Selected") {
                let nonempty = |k: &str| {
                    g.get(k)
                        .and_then(|v| v.as_array())
                        .is_some_and(|a| !a.is_empty())
                };
                if !nonempty("groupByEntities")
                    && !nonempty("groupByAlertDetails")
                    && !nonempty("groupByCustomDetails")
                {
                    return Err(bad(
                        "Grouping by 'Selected' needs at least one entity, alert detail or custom detail.",
                    ));
                }
            }
        }
    }
    query(q, catalog)?;
    let mut spec: Vec<(&str, Option<Value>)> = vec![
        ("displayName", None),
        ("description", None),
        ("severity", None),
        ("enabled", None),
        ("query", None),
    ];
    if kind == "Scheduled" {
        spec.extend([
            ("queryFrequency", None),
            ("queryPeriod", None),
            ("triggerOperator", None),
            ("triggerThreshold", None),
        ]);
    }
    spec.extend([
        ("suppressionDuration", None),
        ("suppressionEnabled", None),
        ("tactics", empty_list()),
        ("techniques", empty_list()),
        ("alertRuleTemplateName", Some(Value::Null)),
        ("templateVersion", Some(Value::Null)),
        ("customDetails", Some(Value::Null)),
        ("entityMappings", Some(Value::Null)),
        ("alertDetailsOverride", Some(Value::Null)),
        (
            "eventGroupingSettings",
            Some(json!({"aggregationKind": "SingleAlert"})),
        ),
        (
            "incidentConfiguration",
            Some(json!({"createIncident": true, "groupingConfiguration": {
                "enabled": false, "reopenClosedIncident": false, "lookbackDuration": "PT5H",
                "matchingMethod": "AllEntities", "groupByEntities": [], "groupByAlertDetails": [],
                "groupByCustomDetails": []}})),
        ),
    ]);
    if preview {
        spec.extend([
            ("subTechniques", empty_list()),
            ("sentinelEntitiesMappings", Some(Value::Null)),
        ]);
    }
    Ok((kind.to_string(), shape(p, &spec)))
}

/// Validate a saved search PUT.
pub fn saved_search(body: &Value) -> Result<Map<String, Value>, Reject> {
    let p = props(body)?;
    req_str(p, "category")?;
    req_str(p, "displayName")?;
    req_str(p, "query")?;
    if let Some(Value::Array(tags)) = p.get("tags") {
        for t in tags {
            if t.get("name").and_then(|v| v.as_str()).is_none()
                || t.get("value").and_then(|v| v.as_str()).is_none()
            {
                return Err(bad("Each tag needs a string 'name' and 'value'."));
            }
        }
    }
    Ok(shape(
        p,
        &[
            ("category", None),
            ("displayName", None),
            ("query", None),
            ("functionAlias", None),
            ("functionParameters", None),
            ("version", Some(json!(2))),
            ("tags", empty_list()),
        ],
    ))
}

/// Validate an anomaly settings PUT.
pub fn ml_settings(body: &Value) -> Result<Map<String, Value>, Reject> {
    match body.get("kind").and_then(|k| k.as_str()) {
        Some("Anomaly") => {}
        Some(k) => return Err(bad(format!("Unknown settings kind '{k}'."))),
        None => return Err(bad("Required property 'kind' is missing.")),
    }
    let p = props(body)?;
    req_str(p, "displayName")?;
    req_bool(p, "enabled")?;
    req_str(p, "anomalyVersion")?;
    iso_duration(p, "frequency")?
        .ok_or_else(|| bad("Required property 'frequency' is missing."))?;
    one_of(p, "settingsStatus", &["Production", "Flighting"], true)?;
    req_bool(p, "isDefaultSettings")?;
    tactics(p)?;
    Ok(shape(
        p,
        &[
            ("displayName", None),
            ("description", None),
            ("enabled", None),
            ("anomalyVersion", None),
            ("customizableObservations", None),
            ("frequency", None),
            ("settingsStatus", None),
            ("isDefaultSettings", None),
            ("anomalySettingsVersion", None),
            ("settingsDefinitionId", None),
            ("requiredDataConnectors", empty_list()),
            ("tactics", empty_list()),
            ("techniques", empty_list()),
        ],
    ))
}

/// Watchlist rows as `{column: value}` maps.
pub type Rows = Vec<Map<String, Value>>;

/// Validate a watchlist PUT; returns the stored properties and, when the body carries raw
/// content, the items it defines (a PUT with content replaces the items).
pub fn watchlist(body: &Value, alias: &str) -> Result<(Map<String, Value>, Option<Rows>), Reject> {
    let p = props(body)?;
    req_str(p, "displayName")?;
    req_str(p, "provider")?;
    let key = req_str(p, "itemsSearchKey")?;
    one_of(
        p,
        "sourceType",
        &["Local", "AzureStorage", "Local file"],
        false,
    )?;
    if let Some(d) = iso_duration(p, "defaultDuration")? {
        let _ = d;
    }
    if let Some(a) = p.get("watchlistAlias").and_then(|a| a.as_str()) {
        if !a.eq_ignore_ascii_case(alias) {
            return Err(bad(format!(
                "watchlistAlias '{a}' differs from the alias in the path '{alias}'."
            )));
        }
    }
    let items = match p.get("rawContent").and_then(|r| r.as_str()) {
        Some(raw) => {
            let skip = p
                .get("numberOfLinesToSkip")
                .and_then(|n| n.as_u64())
                .unwrap_or(0) as usize;
            let content_type = p
                .get("contentType")
                .and_then(|c| c.as_str())
                .unwrap_or("text/csv");
            let text: String = raw
                .split_inclusive('\n')
                .skip(skip)
                .collect::<Vec<_>>()
                .concat();
            let records = match content_type.to_ascii_lowercase().as_str() {
                "text/csv" => crate::csv::parse(&text)
                    .map_err(|e| bad(format!("rawContent line {}: {}", e.line, e.message)))?,
                "text/tsv" => text
                    .lines()
                    .map(|l| l.split('\t').map(String::from).collect())
                    .collect(),
                c => return Err(bad(format!("Unsupported contentType '{c}'."))),
            };
            let mut it = records.into_iter();
            let header = it
                .next()
                .ok_or_else(|| bad("rawContent has no header row."))?;
            if !header.iter().any(|h| h == key) {
                return Err(bad(format!(
                    "itemsSearchKey '{key}' is not a column of the raw content ({}).",
                    header.join(", ")
                )));
            }
            let rows = it
                .map(|r| {
                    header
                        .iter()
                        .cloned()
                        .zip(r.into_iter().map(Value::String))
                        .collect::<Map<String, Value>>()
                })
                .collect();
            Some(rows)
        }
        None => None,
    };
    let stored = shape(
        p,
        &[
            ("watchlistId", None),
            ("displayName", None),
            ("provider", None),
            ("source", None),
            ("sourceType", Some(json!("Local"))),
            ("description", None),
            ("watchlistType", Some(json!("watchlist"))),
            ("watchlistAlias", Some(json!(alias))),
            ("labels", empty_list()),
            ("defaultDuration", None),
            ("itemsSearchKey", None),
        ],
    );
    Ok((stored, items))
}

/// Validate a metadata PUT.
pub fn metadata(body: &Value) -> Result<Map<String, Value>, Reject> {
    let p = props(body)?;
    req_str(p, "parentId")?;
    req_str(p, "kind")?;
    Ok(shape(
        p,
        &[
            ("contentId", None),
            ("parentId", None),
            ("version", None),
            ("kind", None),
            ("source", None),
            ("author", None),
            ("support", None),
            ("dependencies", None),
            ("categories", None),
            ("providers", None),
            ("firstPublishDate", None),
            ("lastPublishDate", None),
            ("customVersion", None),
            ("contentSchemaVersion", None),
            ("threatAnalysisTactics", None),
            ("threatAnalysisTechniques", None),
        ],
    ))
}

/// Validate a watchlist item PUT.
pub fn watchlist_item(body: &Value) -> Result<Map<String, Value>, Reject> {
    let p = props(body)?;
    match p.get("itemsKeyValue") {
        Some(Value::Object(_)) => {}
        _ => return Err(bad("Required property 'itemsKeyValue' is missing.")),
    }
    Ok(shape(
        p,
        &[("itemsKeyValue", None), ("entityMapping", Some(json!({})))],
    ))
}
