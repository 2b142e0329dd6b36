//! The one structured answer a drafting round asks for: its JSON schema (sent in
//! `response_format` where the endpoint enforces schemas, strict-mode compatible: every object
//! closed, every property required, optional values nullable) and the local check of the answer
//! against it, which runs whatever the endpoint promised.

use serde_json::{json, Value};

use super::DraftKind;

fn s() -> Value {
    json!({"type": "string"})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

/// The answer's JSON schema for a hunt or a rule.
pub fn schema(kind: DraftKind) -> Value {
    let mut props = serde_json::Map::new();
    for k in [
        "name",
        "description",
        "hypothesis",
        "rationale",
        "query",
        "expected_evidence",
        "false_positives",
    ] {
        props.insert(k.into(), s());
    }
    props.insert("tactics".into(), strings());
    props.insert("techniques".into(), strings());
    props.insert(
        "confidence".into(),
        json!({"type": "string", "enum": ["low", "medium", "high"]}),
    );
    if kind == DraftKind::Rule {
        props.insert(
            "severity".into(),
            json!({"type": "string", "enum": ["Informational", "Low", "Medium", "High"]}),
        );
        props.insert("query_frequency".into(), s());
        props.insert("query_period".into(), s());
        props.insert(
            "entity_mappings".into(),
            json!({"type": "array", "items": {
                "type": "object", "additionalProperties": false,
                "required": ["entityType", "fieldMappings"],
                "properties": {
                    "entityType": {"type": "string"},
                    "fieldMappings": {"type": "array", "items": {
                        "type": "object", "additionalProperties": false,
                        "required": ["identifier", "columnName"],
                        "properties": {"identifier": {"type": "string"}, "columnName": {"type": "string"}}
                    }}
                }
            }}),
        );
        props.insert(
            "tests".into(),
            json!({"type": "array", "items": {
                "type": "object", "additionalProperties": false,
                "required": ["name", "table", "rows", "alerts"],
                "properties": {
                    "name": {"type": "string"},
                    "table": {"type": "string"},
                    "rows": {"type": "string", "description": "JSON Lines: one row object per line; TimeGenerated relative to the run, e.g. \"-10m\""},
                    "alerts": {"type": "integer"}
                }
            }}),
        );
    }
    let required: Vec<&String> = props.keys().collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": props,
    })
}

/// `response_format` for the request.
pub fn response_format(kind: DraftKind, f: crate::config::AiResponseFormat) -> Option<Value> {
    use crate::config::AiResponseFormat as F;
    match f {
        F::JsonSchema => Some(json!({"type": "json_schema", "json_schema": {
            "name": match kind { DraftKind::Hunt => "vigil_hunt_draft", DraftKind::Rule => "vigil_rule_draft" },
            "strict": true,
            "schema": schema(kind),
        }})),
        F::JsonObject => Some(json!({"type": "json_object"})),
        F::None => None,
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => false,
    }
}

/// Where `v` departs from `schema` (the subset [`schema`] uses: type, enum, required,
/// properties, additionalProperties, items), as `path: problem` lines.
pub fn check(schema: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let at = if path.is_empty() { "the answer" } else { path };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(a) => a.iter().filter_map(|t| t.as_str()).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| type_ok(t, v)) {
        out.push(format!("{at}: expected {}", types.join(" or ")));
        return;
    }
    if let Some(e) = schema["enum"].as_array() {
        if !e.contains(v) {
            out.push(format!(
                "{at}: {v} is not one of {}",
                e.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if let (Some(o), Some(props)) = (v.as_object(), schema["properties"].as_object()) {
        for r in schema["required"].as_array().into_iter().flatten() {
            if let Some(k) = r.as_str() {
                if !o.contains_key(k) {
                    out.push(format!("{at}: `{k}` is missing"));
                }
            }
        }
        for (k, x) in o {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match props.get(k) {
                Some(ps) => check(ps, x, &sub, out),
                None if schema["additionalProperties"] == json!(false) => {
                    out.push(format!("{at}: `{k}` is not a field of the answer"))
                }
                None => {}
            }
        }
    }
    if let (Some(a), Some(items)) = (v.as_array(), schema.get("items")) {
        for (i, x) in a.iter().enumerate() {
            check(items, x, &format!("{at}[{i}]"), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_strict_mode_shaped_and_the_check_finds_departures() {
        // Strict mode: every object closed and every property required.
        fn walk(v: &Value) {
            if v["type"] == "object" {
                assert_eq!(v["additionalProperties"], json!(false), "{v}");
                let props: Vec<&String> = v["properties"].as_object().unwrap().keys().collect();
                let req: Vec<&str> = v["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap())
                    .collect();
                assert_eq!(props.len(), req.len(), "{v}");
                for p in v["properties"].as_object().unwrap().values() {
                    walk(p);
                }
            }
            if let Some(i) = v.get("items") {
                walk(i);
            }
        }
        walk(&schema(DraftKind::Hunt));
        walk(&schema(DraftKind::Rule));
        let mut out = Vec::new();
        let answer = json!({"name": "x", "query": 3, "confidence": "sure", "extra": 1,
            "entity_mappings": [{"entityType": "Account"}]});
        check(&schema(DraftKind::Rule), &answer, "", &mut out);
        assert!(out.iter().any(|p| p == "query: expected string"), "{out:?}");
        assert!(out
            .iter()
            .any(|p| p.starts_with("confidence: \"sure\" is not one of")));
        assert!(out
            .iter()
            .any(|p| p == "the answer: `extra` is not a field of the answer"));
        assert!(out.iter().any(|p| p == "the answer: `tests` is missing"));
        assert!(out
            .iter()
            .any(|p| p == "entity_mappings[0]: `fieldMappings` is missing"));
    }
}
