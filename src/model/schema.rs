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
