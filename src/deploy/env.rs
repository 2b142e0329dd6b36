//! `[environments.NAME]` in vigil.toml: where an environment deploys (one or more workspaces),
//! how (endpoint, credential, api-versions, concurrency) and with which limits.
//!
//! ```toml
//! [environments.prod]
//! endpoint = "https://management.azure.com"      # default; "emulator" = the local emulator
//! query_endpoint = "https://api.loganalytics.io" # default
//! auth = "azure"                                  # "azure" (credential chain) or "none"
//! concurrency = 8                                 # requests in flight per workspace
//! max_deletions = 10                              # an apply deleting more is refused
//! [environments.prod.api_versions]                # overrides [compile.api_versions]
//! scheduled = "2025-09-01"
//! [[environments.prod.workspaces]]
//! name = "sentinel-prod"
//! subscription = "00000000-0000-0000-0000-000000000000"
//! resource_group = "rg-sentinel"
//! tenant = "00000000-0000-0000-0000-000000000000"  # optional
//! workspace_id = "..."                             # optional: the GUID, else read from ARM
//! ```
//!
//! An environment named `local` that vigil.toml does not define is built in: one workspace on
//! the local emulator, no credential. The emulator's address is, in order: `$VIGIL_EMULATOR`,
//! the `address` file `vigil emulate` writes in its state folder (`.vigil/emulator/address`
//! under the repository root by default), else `http://127.0.0.1:8790`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{ApiVersions, Config};

/// Default port of `vigil emulate`.
pub const DEFAULT_EMULATOR: &str = "127.0.0.1:8790";
/// Default state folder of `vigil emulate`, relative to the repository root.
pub const EMULATOR_STATE: &str = ".vigil/emulator";

/// One target workspace.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    pub name: String,
    pub subscription: String,
    pub resource_group: String,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub workspace_id: Option<String>,
}

impl Workspace {
    /// ARM path of the workspace (no leading slash).
    pub fn path(&self) -> String {
        format!(
            "subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationalInsights/workspaces/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    /// The resource id (`/subscriptions/...`).
    pub fn id(&self) -> String {
        format!("/{}", self.path())
    }

    /// `resource_group/name`, for messages and file names.
    pub fn label(&self) -> String {
        format!("{}/{}", self.resource_group, self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    Azure,
    None,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    endpoint: Option<String>,
    query_endpoint: Option<String>,
    auth: Option<Auth>,
    concurrency: Option<usize>,
    max_deletions: Option<usize>,
    api_versions: Option<toml::Value>,
    #[serde(default)]
    workspaces: Vec<Workspace>,
    /// Read by the gate (issue 6): hooks and rules per environment.
    #[allow(dead_code)]
    policy: Option<toml::Value>,
}

/// A resolved environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Environment {
    pub name: String,
    /// ARM base URL.
    pub endpoint: String,
    /// Query API base URL.
    pub query_endpoint: String,
    pub auth: Auth,
    pub concurrency: usize,
    pub max_deletions: usize,
    pub api_versions: ApiVersions,
    pub workspaces: Vec<Workspace>,
    /// Whether the endpoint is the local emulator.
    pub emulator: bool,
}

/// The emulator's address for a repository (see the module docs).
pub fn emulator_url(root: &Path, get: &dyn Fn(&str) -> Option<String>) -> String {
    if let Some(v) = get("VIGIL_EMULATOR").filter(|v| !v.is_empty()) {
        return with_scheme(&v);
    }
    if let Ok(a) = std::fs::read_to_string(root.join(EMULATOR_STATE).join("address")) {
        let a = a.trim();
        if !a.is_empty() {
            return with_scheme(a);
        }
    }
    with_scheme(DEFAULT_EMULATOR)
}

fn with_scheme(a: &str) -> String {
    if a.starts_with("http://") || a.starts_with("https://") {
        a.trim_end_matches('/').to_string()
    } else {
        format!("http://{a}")
    }
}

/// The built-in `local` environment's workspace.
pub fn local_workspace() -> Workspace {
    Workspace {
        name: "local".into(),
        subscription: "00000000-0000-0000-0000-000000000000".into(),
        resource_group: "vigil-local".into(),
        tenant: None,
        workspace_id: None,
    }
}

/// Resolve `[environments.NAME]`. `root` locates the emulator's address file; `get` reads
/// environment variables.
pub fn resolve(
    config: &Config,
    name: &str,
    root: &Path,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Environment, String> {
    let raw: Raw = match config.environments.get(name) {
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e| format!("[environments.{name}] in vigil.toml: {e}"))?,
        None if name == "local" => Raw {
            endpoint: Some("emulator".into()),
            auth: Some(Auth::None),
            max_deletions: Some(1000),
            ..Raw::default()
        },
        None => {
            let mut known: Vec<&str> = config.environments.keys().map(|s| s.as_str()).collect();
            known.push("local");
            return Err(format!(
                "environment `{name}` is not defined in vigil.toml (defined: {})",
                known.join(", ")
            ));
        }
    };
    let endpoint = raw
        .endpoint
        .unwrap_or_else(|| "https://management.azure.com".into());
    let emulator = endpoint == "emulator";
    let endpoint = if emulator {
        emulator_url(root, get)
    } else {
        endpoint.trim_end_matches('/').to_string()
    };
    let query_endpoint = match raw.query_endpoint {
        Some(q) => q.trim_end_matches('/').to_string(),
        None if emulator => endpoint.clone(),
        None => "https://api.loganalytics.io".into(),
    };
    let mut workspaces = raw.workspaces;
    if workspaces.is_empty() && emulator {
        workspaces.push(local_workspace());
    }
    if workspaces.is_empty() {
        return Err(format!(
            "[environments.{name}] has no workspaces: add [[environments.{name}.workspaces]] with name, subscription and resource_group"
        ));
    }
    let mut api_versions = config.compile.api_versions.clone();
    if let Some(v) = raw.api_versions {
        let mut merged =
            toml::Value::try_from(ApiVersionsSer(&api_versions)).map_err(|e| e.to_string())?;
        if let (Some(m), Some(o)) = (merged.as_table_mut(), v.as_table()) {
            for (k, v) in o {
                m.insert(k.clone(), v.clone());
            }
        }
        api_versions = merged
            .try_into()
            .map_err(|e| format!("[environments.{name}.api_versions]: {e}"))?;
    }
    Ok(Environment {
        name: name.to_string(),
        endpoint,
        query_endpoint,
        auth: raw
            .auth
            .unwrap_or(if emulator { Auth::None } else { Auth::Azure }),
        concurrency: raw.concurrency.unwrap_or(8).max(1),
        max_deletions: raw.max_deletions.unwrap_or(10),
        api_versions,
        workspaces,
        emulator,
    })
}

struct ApiVersionsSer<'a>(&'a ApiVersions);

impl serde::Serialize for ApiVersionsSer<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let v = self.0;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("scheduled", &v.scheduled)?;
        m.serialize_entry("preview", &v.preview)?;
        m.serialize_entry("saved_searches", &v.saved_searches)?;
        m.serialize_entry("anomalies", &v.anomalies)?;
        m.serialize_entry("watchlists", &v.watchlists)?;
        m.serialize_entry("metadata", &v.metadata)?;
        m.end()
    }
}

/// Where the committed per-workspace catalogs of an environment live.
pub fn catalog_dir(root: &Path, env: &str) -> PathBuf {
    root.join("schemas").join("workspaces").join(env)
}

/// The committed catalog file of one workspace.
pub fn catalog_file(root: &Path, env: &str, ws: &Workspace) -> PathBuf {
    catalog_dir(root, env).join(format!(
        "{}.{}.json",
        ws.resource_group.to_ascii_lowercase(),
        ws.name.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        crate::config::parse(crate::source::FileId(0), text).0
    }

    #[test]
    fn resolves_environments_and_the_builtin_local() {
        let c = cfg(r#"
[compile.api_versions]
scheduled = "2025-06-01"
[environments.prod]
concurrency = 4
max_deletions = 3
[environments.prod.api_versions]
preview = "2025-04-01-preview"
[[environments.prod.workspaces]]
name = "a"
subscription = "s"
resource_group = "rg"
[[environments.prod.workspaces]]
name = "b"
subscription = "s"
resource_group = "rg"
[environments.empty]
"#);
        let none = |_: &str| None;
        let p = resolve(&c, "prod", Path::new("/nonexistent"), &none).unwrap();
        assert_eq!(p.workspaces.len(), 2);
        assert_eq!(p.endpoint, "https://management.azure.com");
        assert_eq!(p.auth, Auth::Azure);
        assert_eq!((p.concurrency, p.max_deletions), (4, 3));
        assert_eq!(p.api_versions.scheduled, "2025-06-01");
        assert_eq!(p.api_versions.preview, "2025-04-01-preview");
        let l = resolve(&c, "local", Path::new("/nonexistent"), &none).unwrap();
        assert!(l.emulator);
        assert_eq!(l.endpoint, "http://127.0.0.1:8790");
        assert_eq!(l.auth, Auth::None);
        let env = |k: &str| (k == "VIGIL_EMULATOR").then(|| "127.0.0.1:9999".to_string());
        let l = resolve(&c, "local", Path::new("/nonexistent"), &env).unwrap();
        assert_eq!(l.endpoint, "http://127.0.0.1:9999");
        assert!(resolve(&c, "empty", Path::new("/x"), &none)
            .unwrap_err()
            .contains("no workspaces"));
        assert!(resolve(&c, "nope", Path::new("/x"), &none)
            .unwrap_err()
            .contains("not defined"));
        let bad = cfg("[environments.x]\nbogus = 1\n");
        assert!(resolve(&bad, "x", Path::new("/x"), &none)
            .unwrap_err()
            .contains("bogus"));
    }
}
