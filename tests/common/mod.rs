//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod github;
pub mod oracle;

use std::path::{Path, PathBuf};

use vigil::diagnostics::render::{self, HumanOptions};
use vigil::diagnostics::Diagnostic;
use vigil::model::load::FsReader;
use vigil::pipeline::{self, Checked};
use vigil::workspace::{self, Workspace};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Open a folder as a workspace and run load + validate on it, as `vigil validate` does
/// (KQL analysis included).
pub fn check_root(root: &Path) -> (Workspace, Checked) {
    check_root_with(root, true)
}

/// [`check_root`], choosing whether KQL analysis runs.
pub fn check_root_with(root: &Path, kql: bool) -> (Workspace, Checked) {
    let ws = workspace::open(root, &[]);
    let reader = FsReader {
        root: root.to_path_buf(),
    };
    let analyzer = vigil::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &reader);
    let checked = pipeline::check(
        &ws,
        &reader,
        if kql {
            Some(&analyzer as &dyn vigil::validate::QueryAnalyzer)
        } else {
            None
        },
    );
    (ws, checked)
}

/// Human rendering without colour at a fixed width, as snapshots store it.
pub fn render(ws: &Workspace, diags: &[Diagnostic]) -> String {
    render::human(
        &ws.db,
        diags,
        HumanOptions {
            color: false,
            width: 100,
        },
    )
}

/// The shared corpus, if present: `$VIGIL_CORPUS`, else `../shared/corpus`.
pub fn corpus() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../shared/corpus"));
    p.join("MANIFEST.md").is_file().then_some(p)
}

/// Path of the built `vigil` binary.
pub fn vigil_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vigil"))
}

/// Read a JSON Lines file into values of `T`.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A small deterministic generator (xorshift) for mutation tests, so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A query of ../shared/corpus/kql/queries.jsonl (the fields the tests use).
#[derive(serde::Deserialize)]
pub struct CorpusQuery {
    pub id: String,
    pub query: String,
}

/// Copy a folder tree (test repositories built from the bundled content).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
