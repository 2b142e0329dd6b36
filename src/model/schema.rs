//! JSON Schemas generated from the model types, and their compiled validators.
//!
//! `schemas/*.schema.json` are these schemas, committed; `tests/generated.rs` fails when
//! they drift (`vigil schema --write schemas` regenerates them).

use std::sync::OnceLock;

use serde_json::Value;

use super::types::{Anomaly, Function, Hunt, Rule, Watchlist};
use super::ContentKind;

fn generate(kind: ContentKind) -> Value {
    let mut schema = match kind {
        ContentKind::Rule => schemars::schema_for!(Rule),
        ContentKind::Hunt => schemars::schema_for!(Hunt),
        ContentKind::Function => schemars::schema_for!(Function),
        ContentKind::Anomaly => schemars::schema_for!(Anomaly),
        ContentKind::Watchlist => schemars::schema_for!(Watchlist),
    }
    .to_value();
    inline_optional_enums(&mut schema);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            Value::String(format!(
                "https://vigil.dev/schemas/{}.schema.json",
                kind.as_str()
            )),
        );
    }
    schema
}

/// `Option<Enum>` comes out of schemars as `anyOf: [{$ref}, {type: null}]`; inline it as one
/// nullable `enum`, so a wrong value is reported as "not one of ..." rather than "no branch
/// matched", and editors complete the values.
fn inline_optional_enums(schema: &mut Value) {
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    fn walk(v: &mut Value, defs: &Value) {
        match v {
            Value::Object(map) => {
                let replacement =
                    map.get("anyOf")
                        .and_then(|a| a.as_array())
                        .and_then(|branches| {
                            if branches.len() != 2
                                || branches[1] != serde_json::json!({"type": "null"})
                            {
                                return None;
                            }
                            let name = branches[0].get("$ref")?.as_str()?.rsplit('/').next()?;
                            let def = defs.get(name)?;
                            let mut values = def.get("enum")?.as_array()?.clone();
                            values.push(Value::Null);
                            Some(serde_json::json!({ "type": ["string", "null"], "enum": values }))
                        });
                if let Some(r) = replacement {
                    map.remove("anyOf");
                    if let Value::Object(rm) = r {
                        map.extend(rm);
                    }
                }
                for (_, child) in map.iter_mut() {
                    walk(child, defs);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, defs)),
            _ => {}
        }
    }
    walk(schema, &defs);
}

struct Compiled {
    schema: Value,
    validator: jsonschema::Validator,
}

fn compiled(kind: ContentKind) -> &'static Compiled {
    static CELLS: [OnceLock<Compiled>; 5] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    CELLS[kind as usize].get_or_init(|| {
        let schema = generate(kind);
        let validator = jsonschema::options()
            .should_validate_formats(false)
            .build(&schema)
            .expect("generated schemas are valid JSON Schema");
        Compiled { schema, validator }
    })
}

/// The JSON Schema of one content kind.
pub fn schema(kind: ContentKind) -> &'static Value {
    &compiled(kind).schema
}

/// The compiled validator of one content kind.
pub fn validator(kind: ContentKind) -> &'static jsonschema::Validator {
    &compiled(kind).validator
}

/// The file name under `schemas/` for a kind.
pub fn file_name(kind: ContentKind) -> String {
    format!("{}.schema.json", kind.as_str())
}

/// The schema as committed: pretty JSON with a trailing newline.
pub fn render(kind: ContentKind) -> String {
    let mut s = serde_json::to_string_pretty(schema(kind)).expect("schemas serialize");
    s.push('\n');
    s
}
