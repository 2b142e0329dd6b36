//! Per-workspace catalogs: `vigil schema pull --env E` reads each workspace's tables, columns
//! and functions from the query API's metadata endpoint and commits them as
//! `schemas/workspaces/<env>/<resource group>.<workspace>.json`, written relative to the
//! embedded catalog (`missing`: embedded tables the workspace lacks; `tables`: tables it has
//! that the embedded catalog lacks or spells differently; `functions`). `plan` binds every rule
//! against the catalog of each workspace it deploys to, so a rule that would fail in one
//! workspace fails the plan, not the deploy.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::plan::Target;
use super::DeployError;
use crate::diagnostics::code;
use crate::kql::catalog::{Catalog, Type};

/// The committed form of a workspace's schema, from the metadata endpoint's answer.
pub fn from_metadata(workspace: &str, meta: &Value) -> Value {
    let embedded = Catalog::embedded();
    let mut present: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for t in meta["tables"].as_array().into_iter().flatten() {
        let Some(name) = t["name"].as_str() else {
            continue;
        };
        let cols = t["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c["name"].as_str()?.to_string(),
                    Type::parse(c["type"].as_str().unwrap_or(""))
                        .name()
                        .to_string(),
                ))
            })
            .collect();
        present.insert(name.to_string(), cols);
    }
    let mut missing: Vec<&String> = embedded
        .tables
        .keys()
        .filter(|t| !present.contains_key(*t))
        .collect();
    missing.sort();
    let mut tables = Map::new();
    for (name, cols) in &present {
        let same = embedded.tables.get(name).is_some_and(|s| {
            s.columns.len() == cols.len()
                && s.columns
                    .iter()
                    .zip(cols)
                    .all(|((a, at), (b, bt))| a == b && at.name() == bt)
        });
        if !same {
            let mut m = Map::new();
            for (c, t) in cols {
                m.insert(c.clone(), json!(t));
            }
            tables.insert(name.clone(), Value::Object(m));
        }
    }
    let mut funcs: Vec<(String, Value)> = meta["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let name = f["name"].as_str()?.to_string();
            let mut cols = Map::new();
            for c in f["resultColumns"].as_array().into_iter().flatten() {
                if let Some(n) = c["name"].as_str() {
                    cols.insert(n.to_string(), c["type"].clone());
                }
            }
            let mut v = json!({"params": format!("({})", f["parameters"].as_str().unwrap_or(""))});
            if !cols.is_empty() {
                v["columns"] = Value::Object(cols);
            }
            Some((name, v))
        })
        .collect();
    funcs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut fm = Map::new();
    for (n, v) in funcs {
        fm.insert(n, v);
    }
    json!({
        "workspace": workspace,
        "missing": missing,
        "tables": tables,
        "functions": fm,
    })
}

/// The catalog a committed workspace schema describes.
pub fn catalog_of(schema: &Value) -> Catalog {
    let mut c = Catalog::embedded().clone();
    c.add_schema_tables(schema);
    for (name, f) in schema["functions"].as_object().into_iter().flatten() {
        let cols: Vec<String> = f["columns"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}:{}", v.as_str().unwrap_or("dynamic")))
            .collect();
        c.add_function(name, f["params"].as_str().unwrap_or("()"), &cols.join(","));
    }
    c
}

/// Add the functions a deployment will create (saved searches with an alias), bound against
/// the catalog so rules that call them bind too.
fn add_target_functions(c: &mut Catalog, targets: &[Target]) {
    for t in targets {
        let p = &t.body["properties"];
        let (Some(alias), Some(body)) = (p["functionAlias"].as_str(), p["query"].as_str()) else {
            continue;
        };
        crate::kql::binder::add_saved_function(
            c,
            alias,
            p["functionParameters"].as_str().unwrap_or(""),
            body,
        );
    }
}

/// Bind every rule of `targets` against a workspace's committed schema.
pub fn check(workspace: &str, schema: &Value, targets: &[Target]) -> Vec<DeployError> {
    let mut c = catalog_of(schema);
    add_target_functions(&mut c, targets);
    let mut out = Vec::new();
    for t in targets.iter().filter(|t| t.kind == "rule") {
        let Some(q) = t.body["properties"]["query"].as_str() else {
            continue;
        };
        let parsed = crate::kql::parse(q);
        let bound = crate::kql::binder::bind(q, &parsed.tree, &c);
        if let Some(e) = bound.errors.first() {
            out.push(
                DeployError::new(
                    code::DEP_WORKSPACE_BINDING,
                    format!(
                        "rule `{}` ({}) does not bind in workspace {workspace}: {}",
                        t.display_name,
                        t.source.as_deref().unwrap_or(&t.name),
                        e.message
                    ),
                )
                .hint("the workspace lacks a table or column the query reads; connect the data source, or keep the rule out of this environment. Refresh the catalog with `vigil schema pull --env ENV`"),
            );
        }
    }
    out
}
