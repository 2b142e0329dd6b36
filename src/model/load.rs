//! Loading one definition file: YAML tree → JSON (with the coercions real content needs) →
//! JSON Schema validation (jsonschema) → typed item.
//!
//! Unknown keys are warnings with a did-you-mean (cargo's habit); wrong types and missing
//! fields are errors at the YAML node's position. The JSON Schema used here is the one
//! generated from [`super::types`], so `schemas/` and the loader cannot disagree.

use std::path::Path;

use serde_json::{Map, Number, Value};

use super::classify;
use super::schema;
use super::{ContentKind, Definition, Item, WatchlistItems};
use crate::config::ContentFolders;
use crate::csv;
use crate::diagnostics::{code, did_you_mean, Diagnostic};
use crate::source::{FileId, SourceFile, Span};
use crate::yaml::{self, Kind, Node, Resolved, Seg, Style};

/// Reads files that a definition refers to (a watchlist's CSV), relative to its own file.
pub trait SiblingReader: Sync {
    fn read(&self, definition: &Path, relative: &str) -> std::io::Result<String>;
}

/// Reads siblings from the real file system, resolving against `root`.
pub struct FsReader {
    pub root: std::path::PathBuf,
}

/// Largest file beside a definition that is read (a watchlist CSV; Sentinel takes 3.8 MB).
pub const MAX_SIBLING_BYTES: u64 = 16 * 1024 * 1024;

impl SiblingReader for FsReader {
    /// Only files inside the repository, after symbolic links (`workspace::contained`).
    fn read(&self, definition: &Path, relative: &str) -> std::io::Result<String> {
        let dir = definition.parent().unwrap_or(Path::new(""));
        crate::paths::read_contained(&self.root, dir, relative, MAX_SIBLING_BYTES)
    }
}

/// Reads nothing: for tests and for content without sibling files.
pub struct NoSiblings;

impl SiblingReader for NoSiblings {
    fn read(&self, _: &Path, relative: &str) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{relative}: no sibling files in this context"),
        ))
    }
}

/// What loading one file produced.
#[derive(Debug, Default)]
pub struct Loaded {
    pub definition: Option<Definition>,
    pub diagnostics: Vec<Diagnostic>,
    /// The file is an Azure-Sentinel "moved" stub, not a definition.
    pub stub: bool,
    /// The file could not be classified and was skipped.
    pub unclassified: bool,
}

/// Load one file whose text is already in the source database.
pub fn load(
    file: FileId,
    src: &SourceFile,
    folders: &ContentFolders,
    siblings: &dyn SiblingReader,
) -> Loaded {
    let mut out = Loaded::default();
    let parsed = yaml::parse(file, &src.text);
    out.diagnostics = parsed.diagnostics;
    let Some(root) = parsed.root else {
        if out.diagnostics.is_empty() {
            out.diagnostics.push(Diagnostic::new(
                code::EMPTY_FILE,
                Span::file_start(file),
                "the file is empty: it defines nothing",
            ));
        }
        return out;
    };
    if out.diagnostics.iter().any(|d| d.is_error()) {
        return out;
    }
    if root.as_map().is_none() {
        if matches!(&root.kind, Kind::Scalar(s) if s.resolve() == Resolved::Null) {
            out.diagnostics.push(Diagnostic::new(
                code::EMPTY_FILE,
                Span::file_start(file),
                "the file is empty: it defines nothing",
            ));
        } else {
            out.diagnostics.push(
                Diagnostic::new(
                    code::NOT_A_MAPPING,
                    root.span,
                    format!(
                        "a definition is a mapping of keys to values, not {}",
                        root.type_name()
                    ),
                )
                .with_hint("start the file with `id:`, `name:`, `query:` ..."),
            );
        }
        return out;
    }

    let kind = match classify::by_folder(&src.path, folders) {
        Some(k) => k,
        None => {
            let rule_kind = root
                .get("kind")
                .and_then(|n| n.as_scalar())
                .map(|s| s.text.to_ascii_lowercase());
            if matches!(rule_kind.as_deref(), Some("scheduled") | Some("nrt")) {
                ContentKind::Rule
            } else {
                out.unclassified = true;
                out.diagnostics.push(
                    Diagnostic::new(
                        code::UNCLASSIFIED_FILE,
                        Span::file_start(file),
                        "cannot tell what kind of content this is from its folder; skipped",
                    )
                    .with_hint("put it under detections/, hunts/, functions/, anomalies/ or watchlists/, or list its folder under [content] in vigil.toml"),
                );
                return out;
            }
        }
    };

    if matches!(kind, ContentKind::Rule | ContentKind::Hunt) && root.get("query").is_none() {
        if let Some(desc) = root.get("description").and_then(|n| n.as_scalar()) {
            let d = desc.text.to_ascii_lowercase();
            if d.contains("moved to") || d.contains("content migration") {
                out.stub = true;
                out.diagnostics.push(
                    Diagnostic::new(
                        code::MOVED_STUB,
                        desc_span(&root),
                        "not a definition: this file only says that its content moved",
                    )
                    .with_hint("delete the stub, or replace it with the definition it points to"),
                );
                return out;
            }
        }
    }

    let schema = schema::schema(kind);
    let mut walker = Walker {
        root_schema: schema,
        diags: &mut out.diagnostics,
    };
    let json = walker.convert(&root, Some(schema));
    let before = out.diagnostics.len();
    for err in schema::validator(kind).iter_errors(&json) {
        out.diagnostics.push(schema_diagnostic(&root, &err, kind));
    }
    dedupe_schema_errors(&mut out.diagnostics, before);
    if out.diagnostics.iter().any(|d| d.is_error()) {
        return out;
    }

    let item = match kind {
        ContentKind::Rule => serde_json::from_value(json).map(|r| Item::Rule(Box::new(r))),
        ContentKind::Hunt => serde_json::from_value(json).map(|h| Item::Hunt(Box::new(h))),
        ContentKind::Function => serde_json::from_value(json).map(|f| Item::Function(Box::new(f))),
        ContentKind::Anomaly => serde_json::from_value(json).map(|a| Item::Anomaly(Box::new(a))),
        ContentKind::Watchlist => serde_json::from_value::<super::Watchlist>(json).map(|w| {
            let items = watchlist_items(&w, &root, &src.path, siblings, &mut out.diagnostics);
            Item::Watchlist(Box::new(w), items)
        }),
    };
    match item {
        Ok(item) => {
            let at = |k: &str| root.span_at(&[Seg::from(k)], false);
            let spans = super::KeySpans {
                id: at("id"),
                name: at("name"),
                kind: at("kind"),
                alias: if root.get("functionAlias").is_some() {
                    at("functionAlias")
                } else {
                    at("alias")
                },
            };
            out.definition = Some(Definition {
                file,
                path: src.path.clone(),
                doc: root,
                spans,
                item,
            })
        }
        Err(e) => out.diagnostics.push(Diagnostic::new(
            code::WRONG_TYPE,
            Span::file_start(file),
            format!(
                "the definition does not fit the {} model: {e}",
                kind.as_str()
            ),
        )),
    }
    out
}

fn desc_span(root: &Node) -> Span {
    root.entry("description")
        .map(|e| e.key_span)
        .unwrap_or(root.span)
}

/// Converts the YAML tree to JSON, guided by the schema: warns on unknown keys and applies the
/// coercions the Azure-Sentinel tooling applies.
struct Walker<'a, 'd> {
    root_schema: &'a Value,
    diags: &'d mut Vec<Diagnostic>,
}

fn types_of(s: &Value) -> Vec<&str> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => {
            if s.get("enum").is_some() {
                vec!["string"]
            } else {
                Vec::new()
            }
        }
    }
}

fn natural_type(node: &Node) -> &'static str {
    match &node.kind {
        Kind::Map(_) => "object",
        Kind::Seq(_) => "array",
        Kind::Scalar(s) => match s.resolve() {
            Resolved::Null => "null",
            Resolved::Bool(_) => "boolean",
            Resolved::Int(_) => "integer",
            Resolved::Float(_) => "number",
            Resolved::Str(_) => "string",
        },
    }
}

fn type_matches(types: &[&str], natural: &str) -> bool {
    types.contains(&natural) || (natural == "integer" && types.contains(&"number"))
}

impl<'a> Walker<'a, '_> {
    fn resolve(&self, mut s: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match s.get("$ref").and_then(|r| r.as_str()) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap_or("");
                    match self.root_schema.get("$defs").and_then(|d| d.get(name)) {
                        Some(t) => s = t,
                        None => return s,
                    }
                }
                None => return s,
            }
        }
        s
    }

    /// The branch of a schema that applies to this node.
    fn pick(&self, s: &'a Value, node: &Node) -> &'a Value {
        let s = self.resolve(s);
        let branches = s
            .get("anyOf")
            .or_else(|| s.get("oneOf"))
            .and_then(|b| b.as_array());
        let Some(branches) = branches else {
            return s;
        };
        let natural = natural_type(node);
        let resolved: Vec<&'a Value> = branches.iter().map(|b| self.pick(b, node)).collect();
        if let Some(b) = resolved
            .iter()
            .find(|b| type_matches(&types_of(b), natural))
        {
            return b;
        }
        if matches!(node.kind, Kind::Scalar(_)) {
            if let Some(b) = resolved.iter().find(|b| types_of(b).contains(&"string")) {
                return b;
            }
        }
        resolved
            .iter()
            .find(|b| types_of(b) != ["null"])
            .copied()
            .unwrap_or(s)
    }

    fn convert(&mut self, node: &Node, schema: Option<&'a Value>) -> Value {
        let schema = schema.map(|s| self.pick(s, node));
        match &node.kind {
            Kind::Map(entries) => {
                let props = schema
                    .and_then(|s| s.get("properties"))
                    .and_then(|p| p.as_object());
                let additional = schema
                    .and_then(|s| s.get("additionalProperties"))
                    .filter(|a| a.is_object());
                let mut obj = Map::with_capacity(entries.len());
                for e in entries {
                    let child = match props.and_then(|p| p.get(&e.key)) {
                        Some(c) => Some(c),
                        None => {
                            if let Some(a) = additional {
                                Some(a)
                            } else {
                                if let Some(p) = props {
                                    self.unknown_key(e, p);
                                }
                                None
                            }
                        }
                    };
                    let v = self.convert(&e.value, child);
                    obj.insert(e.key.clone(), v);
                }
                Value::Object(obj)
            }
            Kind::Seq(items) => {
                let item_schema = schema.and_then(|s| s.get("items"));
                let nullable = item_schema
                    .map(|s| {
                        let s = self.resolve(s);
                        types_of(s).contains(&"null") || s.get("anyOf").is_some()
                    })
                    .unwrap_or(true);
                let mut out = Vec::with_capacity(items.len());
                for n in items {
                    let is_null =
                        matches!(&n.kind, Kind::Scalar(sc) if sc.resolve() == Resolved::Null);
                    if is_null && !nullable {
                        self.diags.push(
                            Diagnostic::new(
                                code::COERCED_VALUE,
                                n.span,
                                "an empty list item is ignored",
                            )
                            .with_hint("remove the empty `-` line"),
                        );
                        continue;
                    }
                    out.push(self.convert(n, item_schema));
                }
                Value::Array(out)
            }
            Kind::Scalar(s) => {
                let natural = scalar_json(s);
                match schema {
                    Some(sc) => self.coerce(node, s, natural, sc),
                    None => natural,
                }
            }
        }
    }

    fn unknown_key(&mut self, e: &yaml::Entry, props: &Map<String, Value>) {
        let mut d = Diagnostic::new(
            code::UNKNOWN_KEY,
            e.key_span,
            format!("unknown key `{}` is ignored", e.key),
        );
        if let Some(s) = did_you_mean(&e.key, props.keys().map(|k| k.as_str())) {
            d = d.with_hint(format!("did you mean `{s}`?"));
        }
        self.diags.push(d);
    }

    fn coerce(
        &mut self,
        node: &Node,
        s: &yaml::Scalar,
        natural: Value,
        schema: &'a Value,
    ) -> Value {
        let types = types_of(schema);
        let nat_type = natural_type(node);
        if type_matches(&types, nat_type) || types.is_empty() {
            if let (Some(Value::Array(options)), Value::String(v)) = (schema.get("enum"), &natural)
            {
                if !options.iter().any(|o| o.as_str() == Some(v)) {
                    let norm = |x: &str| -> String {
                        x.chars()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .map(|c| c.to_ascii_lowercase())
                            .collect()
                    };
                    let nv = norm(v);
                    if let Some(canon) = options
                        .iter()
                        .filter_map(|o| o.as_str())
                        .find(|o| !nv.is_empty() && norm(o) == nv)
                    {
                        self.diags.push(
                            Diagnostic::new(
                                code::NONCANONICAL_SPELLING,
                                node.span,
                                format!("`{v}` is read as `{canon}`"),
                            )
                            .with_hint(format!("write `{canon}`")),
                        );
                        return Value::String(canon.to_string());
                    }
                }
            }
            return natural;
        }
        if types.contains(&"string") && matches!(nat_type, "integer" | "number" | "boolean") {
            return Value::String(s.text.clone());
        }
        let scalar_items = schema
            .get("items")
            .map(|i| {
                let i = self.resolve(i);
                let t = types_of(i);
                t.contains(&"string") || i.get("enum").is_some()
            })
            .unwrap_or(false);
        if types.contains(&"array") && nat_type == "string" && scalar_items {
            let items: Vec<&str> = s
                .text
                .split(',')
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .collect();
            let item_schema = schema.get("items").map(|i| self.resolve(i));
            let mut out = Vec::with_capacity(items.len());
            for it in &items {
                let sc = yaml::Scalar {
                    text: it.to_string(),
                    style: Style::DoubleQuoted,
                    tag: None,
                };
                let v = Value::String(it.to_string());
                out.push(match item_schema {
                    Some(is) => self.coerce(node, &sc, v, is),
                    None => v,
                });
            }
            self.diags.push(
                Diagnostic::new(
                    code::COERCED_VALUE,
                    node.span,
                    "a single string where a list is expected; it is read as a comma-separated list",
                )
                .with_hint(format!("write a YAML list: [{}]", items.join(", "))),
            );
            return Value::Array(out);
        }
        if types.contains(&"boolean") && nat_type == "string" {
            let t = s.text.trim().to_ascii_lowercase();
            if t == "true" || t == "false" {
                self.diags.push(
                    Diagnostic::new(
                        code::COERCED_VALUE,
                        node.span,
                        format!("the string `{}` is read as a boolean", s.text),
                    )
                    .with_hint(format!("write {t} without quotes")),
                );
                return Value::Bool(t == "true");
            }
        }
        if types.contains(&"integer") && nat_type == "string" {
            if let Ok(i) = s.text.trim().parse::<i64>() {
                self.diags.push(
                    Diagnostic::new(
                        code::COERCED_VALUE,
                        node.span,
                        format!("the string `{}` is read as a number", s.text),
                    )
                    .with_hint(format!("write {i} without quotes")),
                );
                return Value::Number(i.into());
            }
        }
        natural
    }
}

fn scalar_json(s: &yaml::Scalar) -> Value {
    match s.resolve() {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::Number(i.into()),
        Resolved::Float(f) => Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(s.text.clone())),
        Resolved::Str(t) => Value::String(t.to_string()),
    }
}

fn segs(path: &jsonschema::paths::Location) -> Vec<Seg<'static>> {
    path.segments()
        .map(|s| match s {
            jsonschema::paths::LocationSegment::Property(p) => Seg::Key(p.into_owned().into()),
            jsonschema::paths::LocationSegment::Index(i) => Seg::Index(i),
        })
        .collect()
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn field_name(path: &[Seg<'_>]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "the definition".into()
    } else {
        format!("`{out}`")
    }
}

fn schema_diagnostic(
    root: &Node,
    err: &jsonschema::ValidationError<'_>,
    kind: ContentKind,
) -> Diagnostic {
    use jsonschema::error::ValidationErrorKind as K;
    let path = segs(err.instance_path());
    let span = root.span_at(&path, false);
    let what = field_name(&path);
    let instance = err.instance();
    match err.kind() {
        K::Required { property } => {
            let prop = property.as_str().unwrap_or("?");
            let node = root.at(&path).unwrap_or(root);
            let at = match node.as_map().and_then(|m| m.first()) {
                Some(e) if path.is_empty() => e.key_span,
                _ => node.span,
            };
            let place = if path.is_empty() {
                String::new()
            } else {
                format!(" in {what}")
            };
            Diagnostic::new(
                code::MISSING_FIELD,
                at,
                format!("missing required field `{prop}`{place}"),
            )
            .with_label(if path.is_empty() {
                format!("this definition has no `{prop}`")
            } else {
                format!("no `{prop}` here")
            })
            .with_hint(format!("add `{prop}:`"))
        }
        K::Type { kind } => {
            use jsonschema::error::TypeKind;
            let names: Vec<&'static str> = match kind {
                TypeKind::Single(t) => vec![t.as_str()],
                TypeKind::Multiple(set) => set.iter().map(|t| t.as_str()).collect(),
            };
            let expected: Vec<&'static str> = names
                .into_iter()
                .filter(|t| *t != "null")
                .map(|t| match t {
                    "object" => "a mapping",
                    "array" => "a list",
                    "string" => "a string",
                    "integer" => "an integer",
                    "boolean" => "a boolean (true or false)",
                    "number" => "a number",
                    _ => "a value",
                })
                .collect();
            let expected = if expected.is_empty() {
                "empty".to_string()
            } else {
                expected.join(" or ")
            };
            Diagnostic::new(
                code::WRONG_TYPE,
                span,
                format!(
                    "{what} should be {expected}, found {}",
                    json_type_name(instance)
                ),
            )
        }
        K::Enum { options } => {
            let opts: Vec<&str> = options
                .as_array()
                .map(|a| a.iter().filter_map(|o| o.as_str()).collect())
                .unwrap_or_default();
            let got = instance
                .as_str()
                .map(|s| s.to_string())
                .unwrap_or_else(|| instance.to_string());
            if kind == ContentKind::Rule && path == [Seg::from("kind")] {
                return Diagnostic::new(
                    code::UNKNOWN_RULE_KIND,
                    span,
                    format!("`{got}` rules are not managed by vigil; kind must be Scheduled or NRT"),
                )
                .with_hint("Fusion, ML behaviour analytics and threat-intelligence rules are enabled from Microsoft's templates");
            }
            let mut d = Diagnostic::new(
                code::INVALID_VALUE,
                span,
                format!("`{got}` is not a valid value for {what}"),
            );
            let hint = match did_you_mean(&got, opts.iter().copied()) {
                Some(m) => format!("did you mean `{m}`? allowed: {}", opts.join(", ")),
                None => format!("allowed: {}", opts.join(", ")),
            };
            d = d.with_hint(hint);
            d
        }
        K::AnyOf { .. } | K::OneOfNotValid { .. } => Diagnostic::new(
            code::WRONG_TYPE,
            span,
            format!(
                "{what} has the wrong shape: found {}",
                json_type_name(instance)
            ),
        ),
        _ => Diagnostic::new(code::SCHEMA_VIOLATION, span, format!("{what}: {err}")),
    }
}

/// jsonschema may report one bad value several times (once per anyOf branch); keep one
/// diagnostic per span and code.
fn dedupe_schema_errors(diags: &mut Vec<Diagnostic>, from: usize) {
    let mut seen = std::collections::BTreeSet::new();
    let mut i = from;
    while i < diags.len() {
        let key = (diags[i].span, diags[i].code);
        if seen.insert(key) {
            i += 1;
        } else {
            diags.remove(i);
        }
    }
}

/// The columns of a watchlist for a message: at most 10, each a bounded excerpt (a file that is
/// not what it claims to be must not be quoted whole).
fn columns_excerpt(header: &[String]) -> String {
    let mut cols: Vec<String> = header
        .iter()
        .take(10)
        .map(|h| crate::diagnostics::excerpt(h, 40))
        .collect();
    if header.len() > 10 {
        cols.push(format!("… {} more", header.len() - 10));
    }
    crate::diagnostics::excerpt(&cols.join(", "), 300)
}

fn watchlist_items(
    w: &super::Watchlist,
    root: &Node,
    path: &Path,
    siblings: &dyn SiblingReader,
    diags: &mut Vec<Diagnostic>,
) -> WatchlistItems {
    let mut items = WatchlistItems::default();
    match (&w.source, &w.items) {
        (Some(_), Some(_)) => {
            diags.push(Diagnostic::new(
                code::WATCHLIST_CONTENT,
                root.span_at(&["items".into()], true),
                "a watchlist takes its items either inline (`items`) or from a CSV file (`source`), not both",
            ));
        }
        (None, None) => {
            diags.push(
                Diagnostic::new(
                    code::WATCHLIST_CONTENT,
                    root.span_at(&["alias".into()], true),
                    "the watchlist has no items: give `items` inline or a CSV file in `source`",
                )
                .with_hint("source: high_value_assets.csv"),
            );
        }
        (Some(src), None) => {
            let at = root.span_at(&["source".into()], false);
            match siblings.read(path, src) {
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => diags.push(
                    Diagnostic::new(
                        code::PATH_OUTSIDE_REPOSITORY,
                        at,
                        format!("the watchlist file is not read: {e}"),
                    )
                    .with_hint(
                        "name a CSV file beside the watchlist, e.g. source: high_value_assets.csv",
                    ),
                ),
                Err(e) => diags.push(Diagnostic::new(
                    code::WATCHLIST_CONTENT,
                    at,
                    format!(
                        "cannot read the watchlist file `{}`: {e}",
                        crate::diagnostics::excerpt(src, 80)
                    ),
                )),
                Ok(text) => match csv::parse(&text) {
                    Err(e) => diags.push(Diagnostic::new(
                        code::WATCHLIST_CONTENT,
                        at,
                        format!("`{src}` line {}: {}", e.line, e.message),
                    )),
                    Ok(mut records) => {
                        if records.is_empty() {
                            diags.push(Diagnostic::new(
                                code::WATCHLIST_CONTENT,
                                at,
                                format!("`{src}` is empty; it needs a header row"),
                            ));
                        } else {
                            items.header = records.remove(0);
                            for (i, r) in records.iter().enumerate() {
                                if r.len() != items.header.len() {
                                    diags.push(Diagnostic::new(
                                        code::WATCHLIST_CONTENT,
                                        at,
                                        format!(
                                            "`{src}` line {}: {} fields, but the header has {}",
                                            i + 2,
                                            r.len(),
                                            items.header.len()
                                        ),
                                    ));
                                }
                            }
                            items.rows = records;
                        }
                    }
                },
            }
        }
        (None, Some(rows)) => {
            for row in rows {
                for k in row.keys() {
                    if !items.header.contains(k) {
                        items.header.push(k.clone());
                    }
                }
            }
            for row in rows {
                items.rows.push(
                    items
                        .header
                        .iter()
                        .map(|h| match row.get(h) {
                            None | Some(Value::Null) => String::new(),
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                        })
                        .collect(),
                );
            }
        }
    }
    if !items.header.is_empty() && !items.header.iter().any(|h| h == &w.items_search_key) {
        let mut d = Diagnostic::new(
            code::WATCHLIST_CONTENT,
            root.span_at(&["itemsSearchKey".into()], false),
            format!(
                "the search key `{}` is not a column of the items ({})",
                crate::diagnostics::excerpt(&w.items_search_key, 60),
                columns_excerpt(&items.header)
            ),
        );
        if let Some(m) = did_you_mean(&w.items_search_key, items.header.iter().map(|s| s.as_str()))
        {
            d = d.with_hint(format!(
                "did you mean `{}`?",
                crate::diagnostics::excerpt(m, 40)
            ));
        }
        diags.push(d);
    }
    items
}
