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
    pub path: PathBuf,
}

pub fn schema_pull(cx: &Context, env_name: &str) -> Result<Vec<Pulled>, OpError> {
    let s = cx.session(env_name)?;
    let q = cx.query_client(&s.env)?;
    let rt = runtime()?;
    let mut out = Vec::new();
    for ws in &s.env.workspaces {
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
        let v = catalog::from_metadata(&ws.label(), &meta);
        let p = env::catalog_file(&cx.root, &s.env.name, ws);
        crate::emit::write_file(&p, &format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        out.push(Pulled {
            label: ws.label(),
            tables: v["tables"].as_object().map(|o| o.len()).unwrap_or(0),
            missing: v["missing"].as_array().map(|o| o.len()).unwrap_or(0),
            functions: v["functions"].as_object().map(|o| o.len()).unwrap_or(0),
            path: p,
        });
    }
    Ok(out)
}
