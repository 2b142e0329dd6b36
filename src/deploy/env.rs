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

use crate::config::{ApiVersions, Config, EnvironmentConfig};
pub use crate::config::{Auth, Workspace};

/// Default port of `vigil emulate`.
pub const DEFAULT_EMULATOR: &str = "127.0.0.1:8790";
/// Default state folder of `vigil emulate`, relative to the repository root.
pub const EMULATOR_STATE: &str = ".vigil/emulator";

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
    /// Extra hosts this environment's tokens may go to (see `azure::hosts`).
    pub token_hosts: Vec<String>,
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
    let raw: EnvironmentConfig = match config.environments.get(name) {
        Some(v) => v.clone(),
        None if name == "local" => EnvironmentConfig {
            endpoint: Some("emulator".into()),
            auth: Some(Auth::None),
            max_deletions: Some(1000),
            ..EnvironmentConfig::default()
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
    let api_versions: ApiVersions = raw.api_versions.apply(&config.compile.api_versions);
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
        token_hosts: raw.token_hosts.clone(),
    })
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
        let (_, bad) =
            crate::config::parse(crate::source::FileId(0), "[environments.x]\nbogus = 1\n");
        assert!(bad[0].message.contains("bogus"), "{bad:?}");
    }
}
