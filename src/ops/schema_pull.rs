//! `vigil schema pull --env E`: each workspace's tables and functions into
//! `schemas/workspaces/E/<rg>.<workspace>.json` (committed; plan binds rules against it).

use std::path::PathBuf;

use super::deploy::runtime;
use super::{Context, OpError};
use crate::deploy::{catalog, env};

/// One workspace's pulled catalog.
pub struct Pulled {
    pub label: String,
    /// Tables beyond the embedded catalog.
    pub tables: usize,
    /// Embedded tables the workspace lacks.
    pub missing: usize,
    pub functions: usize,
    /// Tables on the Basic or Auxiliary plan (charged per GB a query scans).
    pub charged_tables: usize,
    pub path: PathBuf,
}

/// The ARM api-version of the workspace tables API (`properties.plan`).
const TABLES_API: &str = "2022-10-01";

pub fn schema_pull(cx: &Context, env_name: &str) -> Result<Vec<Pulled>, OpError> {
    let s = cx.session(env_name)?;
    let q = cx.query_client(&s.env)?;
    let rt = runtime()?;
    let mut out = Vec::new();
    for ws in &s.env.workspaces {
        // Table plans (ARM): only Basic and Auxiliary are recorded; a table not listed is
        // Analytics.
        let plans = rt.block_on(async {
            let r = s
                .arm
                .get(&format!("{}/tables", ws.path()), TABLES_API)
                .await?;
            let mut plans = serde_json::Map::new();
            for t in r.body["value"].as_array().into_iter().flatten() {
                if let (Some(n), Some(p)) = (t["name"].as_str(), t["properties"]["plan"].as_str()) {
                    if crate::cost::is_chargeable(p) {
                        plans.insert(n.to_string(), serde_json::json!(p));
                    }
                }
            }
            Ok::<_, crate::azure::AzureError>(plans)
        })?;
        let meta = rt.block_on(async {
            let id = match &ws.workspace_id {
                Some(id) => id.clone(),
                None => {
                    let w = s.arm.get(&ws.path(), "2025-02-01").await?;
                    w.body["properties"]["customerId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                }
            };
            crate::azure::query::metadata(&q, &id).await
        })?;
        let mut v = catalog::from_metadata(&ws.label(), &meta);
        let charged_tables = plans.len();
        v["plans"] = serde_json::Value::Object(plans);
        let p = env::catalog_file(&cx.root, &s.env.name, ws);
        crate::emit::write_file(&p, &format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        out.push(Pulled {
            label: ws.label(),
            tables: v["tables"].as_object().map(|o| o.len()).unwrap_or(0),
            missing: v["missing"].as_array().map(|o| o.len()).unwrap_or(0),
            functions: v["functions"].as_object().map(|o| o.len()).unwrap_or(0),
            charged_tables,
            path: p,
        });
    }
    Ok(out)
}
