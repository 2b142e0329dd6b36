//! Helpers for the deploy tests: a content repository in a temporary folder (a git
//! repository), the emulator in-process on an ephemeral loopback port, the vigil binary as a
//! child process, and snapshots of a workspace's state.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use vigil::deploy::env::{local_workspace, Environment, Workspace};
use vigil::deploy::resource::ResKey;
use vigil::deploy::Session;
use vigil::emulator::{self, Emulator, Faults};

pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path().join(rel)).unwrap();
    }

    pub fn git(&self, args: &[&str]) -> String {
        let o = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }

    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }
}

pub fn repo(config: &str) -> Repo {
    let r = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    r.write("vigil.toml", config);
    r.git(&["init", "-q", "-b", "main"]);
    r
}

pub const CONFIG: &str = "[project]\nid = \"deploy-test\"\n";

/// A Scheduled rule.
pub fn rule(id: &str, name: &str, query: &str) -> String {
    format!(
        r#"id: {id}
name: {name}
description: Test rule {name}.
severity: Medium
kind: Scheduled
requiredDataConnectors: []
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics: [CredentialAccess]
relevantTechniques: [T1110]
query: |
  {query}
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
"#
    )
}

pub fn hunt(id: &str, name: &str) -> String {
    format!(
        r#"id: {id}
name: {name}
description: Hunt {name}.
tactics: [Discovery]
relevantTechniques: [T1087]
query: |
  SigninLogs
  | where TimeGenerated > ago(1d)
  | summarize count() by UserPrincipalName
"#
    )
}

pub fn function(id: &str, alias: &str) -> String {
    format!(
        r#"id: {id}
name: Function {alias}
description: Failed sign-ins.
functionAlias: {alias}
query: |
  SigninLogs
  | where ResultType != "0"
  | project TimeGenerated, UserPrincipalName, IPAddress
"#
    )
}

pub fn watchlist(alias: &str) -> String {
    format!(
        r#"alias: {alias}
name: Watchlist {alias}
description: Test watchlist.
provider: Custom
itemsSearchKey: ip
source: {alias}.csv
"#
    )
}

pub fn guid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Start an emulator on an ephemeral port.
pub fn emulator(state: Option<PathBuf>, faults: Faults) -> Emulator {
    emulator::start(
        "127.0.0.1:0",
        emulator::Options {
            state,
            faults,
            lro_delay: std::time::Duration::from_millis(20),
            ..emulator::Options::default()
        },
    )
    .unwrap()
}

/// Run the vigil binary in the repository against an emulator.
pub fn vigil(repo: &Path, url: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
    c.arg("-C")
        .arg(repo)
        .args(args)
        .env("VIGIL_EMULATOR", url)
        .env("NO_COLOR", "1")
        .env_remove("VIGIL_TEST_KILL_AFTER_STEP")
        .env_remove("VIGIL_AZURE_TOKEN");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The plan as JSON.
pub fn plan_json(repo: &Path, url: &str) -> Value {
    let o = vigil(
        repo,
        url,
        &["plan", "--env", "local", "--format", "json"],
        &[],
    );
    assert!(o.status.code() == Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

pub fn totals(plan: &Value) -> (u64, u64, u64, u64) {
    let t = &plan["totals"];
    (
        t["create"].as_u64().unwrap(),
        t["update"].as_u64().unwrap(),
        t["delete"].as_u64().unwrap(),
        t["drift"].as_u64().unwrap(),
    )
}

/// A session on the emulator's local workspace (for direct reads and writes).
pub fn session(url: &str) -> Session {
    let config = vigil::config::Config::default();
    let env: Environment =
        vigil::deploy::env::resolve(&config, "local", Path::new("/nonexistent"), &|k| {
            (k == "VIGIL_EMULATOR").then(|| url.to_string())
        })
        .unwrap();
    Session::new(
        env,
        std::env::temp_dir(),
        "vigil:deploy-test".into(),
        vigil::azure::Credential::None,
    )
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Writable projections of every resource and metadata properties, by key.
pub fn snapshot(url: &str) -> BTreeMap<String, Value> {
    let s = session(url);
    let ws: Workspace = local_workspace();
    let live = rt().block_on(s.observe(&ws)).unwrap();
    let mut out = BTreeMap::new();
    for (k, r) in &live.resources {
        out.insert(format!("{:?}/{}", k.rtype, k.lname), r.projection(k.rtype));
    }
    for (k, m) in &live.metadata {
        let k: &ResKey = k;
        out.insert(
            format!("meta:{:?}/{}", k.rtype, k.lname),
            vigil::deploy::resource::normalize(&m.body["properties"]).unwrap_or(Value::Null),
        );
    }
    out
}
