//! Microsoft's Kusto.Language behind `../shared/tools/kql-oracle` (node), for differential
//! tests. `.ci/run` installs it and sets `VIGIL_REQUIRE_ORACLE=1`; elsewhere tests skip when it
//! is missing.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(serde::Deserialize)]
pub struct Verdict {
    pub id: String,
    pub ok: bool,
    #[serde(default)]
    pub diagnostics: Vec<OracleDiag>,
    #[serde(default)]
    pub error: Option<String>,
    /// The query's output columns (`--result`).
    #[serde(default)]
    pub result: Option<OracleResult>,
}

#[derive(serde::Deserialize)]
pub struct OracleResult {
    #[serde(default)]
    pub columns: Vec<(String, String)>,
}

impl Verdict {
    /// The names of the output columns, when asked with `--result`.
    pub fn result_columns(&self) -> impl Iterator<Item = &str> {
        self.result
            .iter()
            .flat_map(|r| r.columns.iter().map(|(c, _)| c.as_str()))
    }

    /// The first diagnostic of Error severity.
    pub fn first_error(&self) -> Option<&OracleDiag> {
        self.diagnostics.iter().find(|d| d.severity == "Error")
    }
}

#[derive(serde::Deserialize)]
pub struct OracleDiag {
    pub severity: String,
    pub message: String,
    pub byte_start: u32,
}

/// The oracle script and the environment node needs to find Kusto.Language, if installed.
pub struct Oracle {
    script: PathBuf,
    env: Vec<(String, String)>,
}

/// Whether `VIGIL_REQUIRE_ORACLE` is set (a missing oracle then fails the test).
pub fn required() -> bool {
    std::env::var_os("VIGIL_REQUIRE_ORACLE").is_some()
}

impl Oracle {
    pub fn find(corpus: &Path) -> Option<Oracle> {
        let dir = std::env::var_os("VIGIL_KQL_ORACLE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| corpus.join("../tools/kql-oracle"));
        let script = dir.join("kql-oracle.js");
        if !script.is_file() {
            return None;
        }
        let mut env = Vec::new();
        match std::env::var("KQL_ORACLE_PKG") {
            Ok(pkg) if Path::new(&pkg).is_dir() => env.push(("KQL_ORACLE_PKG".to_string(), pkg)),
            _ if dir
                .join("node_modules/@kusto/language-service-next")
                .is_dir() => {}
            _ => return None,
        }
        let node = Command::new("node").arg("--version").output().ok()?;
        node.status.success().then_some(Oracle { script, env })
    }

    /// Send every query to one oracle process; answers come back in order, keyed by id.
    pub fn ask(&self, args: &[&str], queries: &[(String, String)]) -> BTreeMap<String, Verdict> {
        let mut child = Command::new("node")
            .arg(&self.script)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the oracle");
        let mut stdin = child.stdin.take().unwrap();
        let input: String = queries
            .iter()
            .map(|(id, q)| serde_json::json!({ "id": id, "query": q }).to_string() + "\n")
            .collect();
        let writer = std::thread::spawn(move || {
            stdin.write_all(input.as_bytes()).unwrap();
        });
        let mut out = BTreeMap::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let v: Verdict = serde_json::from_str(&line.unwrap()).expect("oracle answer");
            out.insert(v.id.clone(), v);
        }
        writer.join().unwrap();
        assert!(child.wait().unwrap().success(), "the oracle failed");
        out
    }
}
