//! Content at any git ref, read through git2 without a checkout, into the same in-memory
//! workspace the pipeline uses; and `vigil changed`: the definitions added, modified and
//! deleted between two refs.
//!
//! Library entry points: [`workspace_at`] (content at a ref) and [`changed`] (what a PR
//! touches), both returning data; the gate calls `changed` directly.
//!
//! **Architecture Invariant:** this module reads repositories only (no network: git2 is built
//! without transports); a missing base commit in a shallow clone is a diagnostic that says how
//! to fetch it.

use std::collections::BTreeMap;
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::deploy::DeployError;
use crate::diagnostics::code;
use crate::model::{ContentKind, Definition};
use crate::workspace::{self, MemSource, Workspace};

fn git_err(m: impl Into<String>) -> DeployError {
    DeployError::new(code::DEP_GIT, m)
}

/// The repository holding `root`, and `root`'s path inside its work tree.
fn open(root: &Path) -> Result<(git2::Repository, PathBuf), DeployError> {
    let repo = git2::Repository::discover(root).map_err(|e| {
        git_err(format!(
            "{} is not inside a git repository: {}",
            root.display(),
            e.message()
        ))
    })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| git_err("the repository has no work tree (bare)"))?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let prefix = root
        .strip_prefix(&workdir)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    Ok((repo, prefix))
}

fn resolve<'r>(repo: &'r git2::Repository, rev: &str) -> Result<git2::Commit<'r>, DeployError> {
    match repo.revparse_single(rev).and_then(|o| o.peel_to_commit()) {
        Ok(c) => Ok(c),
        Err(e) => {
            if repo.is_shallow() {
                Err(DeployError::new(
                    code::DEP_BASE_NOT_FETCHED,
                    format!(
                        "`{rev}` is not in this clone, which is shallow (it holds only recent commits): {}",
                        e.message()
                    ),
                )
                .hint(format!(
                    "fetch it first: `git fetch --no-tags --depth=1 origin {rev}` (or `git fetch --unshallow`); in GitHub Actions set `fetch-depth: 0` on actions/checkout"
                )))
            } else {
                Err(git_err(format!("unknown git ref `{rev}`: {}", e.message()))
                    .hint("use a branch, tag or commit (`git log --oneline` lists commits)"))
            }
        }
    }
}

/// The files under `prefix` in a commit's tree that a workspace can need: definitions,
/// watchlist files and vigil.toml.
fn tree_files(
    repo: &git2::Repository,
    commit: &git2::Commit<'_>,
    prefix: &Path,
) -> Result<MemSource, DeployError> {
    let tree = commit
        .tree()
        .map_err(|e| git_err(format!("cannot read the tree: {}", e.message())))?;
    let mut src = MemSource::default();
    let mut err = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let (name, bad_name) = match entry.name() {
            Some(n) => (n.to_string(), false),
            None => {
                // Not UTF-8: kept under its byte-escaped name, reported (VG007) when loaded.
                let raw = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(entry.name_bytes()));
                (crate::paths::escaped_name(&raw), true)
            }
        };
        let lower = name.to_ascii_lowercase();
        let wanted = lower.ends_with(".yaml")
            || lower.ends_with(".yml")
            || lower.ends_with(".csv")
            || lower.ends_with(".tsv")
            || lower == "vigil.toml";
        if !wanted {
            return git2::TreeWalkResult::Ok;
        }
        let full = Path::new(dir).join(&name);
        let Ok(rel) = full.strip_prefix(prefix) else {
            return git2::TreeWalkResult::Ok;
        };
        match repo.find_blob(entry.id()) {
            Ok(b) => {
                if bad_name {
                    src.bad_names.insert(rel.to_path_buf());
                }
                src.files.insert(rel.to_path_buf(), b.content().to_vec());
            }
            Err(e) => {
                err = Some(e.message().to_string());
                return git2::TreeWalkResult::Abort;
            }
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(|e| git_err(e.message().to_string()))?;
    if let Some(e) = err {
        return Err(git_err(format!("cannot read a file of the tree: {e}")));
    }
    Ok(src)
}

/// Content at a ref: the workspace (as `workspace::open` builds from disk), the source to read
/// sibling files from, and the commit id.
pub fn workspace_at(root: &Path, rev: &str) -> Result<(Workspace, MemSource, String), DeployError> {
    workspace_at_with(root, rev, None)
}

/// [`workspace_at`] with a configuration given instead of the tree's `vigil.toml`.
pub fn workspace_at_with(
    root: &Path,
    rev: &str,
    config: Option<&crate::config::Config>,
) -> Result<(Workspace, MemSource, String), DeployError> {
    let (repo, prefix) = open(root)?;
    let commit = resolve(&repo, rev)?;
    let src = tree_files(&repo, &commit, &prefix)?;
    let ws = workspace::open_mem_with(root, &src, config);
    Ok((ws, src, commit.id().to_string()))
}

/// The text of one file (relative to the vigil root) in the tree at `rev`; `None` when the tree
/// has no such file.
pub fn file_at(root: &Path, rev: &str, rel: &str) -> Result<Option<String>, DeployError> {
    let (repo, prefix) = open(root)?;
    let commit = resolve(&repo, rev)?;
    let tree = commit
        .tree()
        .map_err(|e| git_err(format!("cannot read the tree: {}", e.message())))?;
    let path = prefix.join(rel);
    let Ok(entry) = tree.get_path(&path) else {
        return Ok(None);
    };
    let blob = repo
        .find_blob(entry.id())
        .map_err(|e| git_err(format!("cannot read {rel} at {rev}: {}", e.message())))?;
    Ok(Some(String::from_utf8_lossy(blob.content()).into_owned()))
}

/// Write every file of the tree at `rev` (under the vigil root) into `dest`: the scratch copy
/// where the gate runs a head's detection tests and dry-run (test files, sample data).
pub fn materialize(root: &Path, rev: &str, dest: &Path) -> Result<usize, DeployError> {
    let (repo, prefix) = open(root)?;
    let commit = resolve(&repo, rev)?;
    let tree = commit
        .tree()
        .map_err(|e| git_err(format!("cannot read the tree: {}", e.message())))?;
    let mut written = 0usize;
    let mut err = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let full = Path::new(dir).join(entry.name().unwrap_or_default());
        let Ok(rel) = full.strip_prefix(&prefix) else {
            return git2::TreeWalkResult::Ok;
        };
        let to = dest.join(rel);
        let res = repo
            .find_blob(entry.id())
            .map_err(|e| e.message().to_string())
            .and_then(|b| {
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                std::fs::write(&to, b.content()).map_err(|e| e.to_string())
            });
        match res {
            Ok(()) => written += 1,
            Err(e) => {
                err = Some(format!("{}: {e}", rel.display()));
                return git2::TreeWalkResult::Abort;
            }
        }
        git2::TreeWalkResult::Ok
    })
    .map_err(|e| git_err(e.message().to_string()))?;
    match err {
        Some(e) => Err(git_err(format!("cannot write the tree of {rev}: {e}"))),
        None => Ok(written),
    }
}

/// The commit a ref names.
pub fn commit_of(root: &Path, rev: &str) -> Result<String, DeployError> {
    let (repo, _) = open(root)?;
    let id = resolve(&repo, rev)?.id().to_string();
    Ok(id)
}

/// One definition in a change list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChangedDefinition {
    pub kind: &'static str,
    /// The resource name (id; alias for watchlists).
    pub id: String,
    pub name: String,
    /// Path at the head (at the base for deletions).
    pub path: String,
    /// Path at the base, when the file moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
}

/// Definitions added, modified and deleted between two refs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    pub base: String,
    pub head: String,
    pub added: Vec<ChangedDefinition>,
    pub modified: Vec<ChangedDefinition>,
    pub deleted: Vec<ChangedDefinition>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.deleted.is_empty()
    }
}

fn definitions(
    ws: &Workspace,
    siblings: &dyn crate::model::load::SiblingReader,
) -> Vec<Definition> {
    crate::pipeline::check_with(ws, siblings, None, false).definitions
}

/// Definitions and diagnostics of a workspace (no KQL analysis).
fn checked(
    ws: &Workspace,
    siblings: &dyn crate::model::load::SiblingReader,
) -> (Vec<Definition>, Vec<crate::diagnostics::Diagnostic>) {
    let c = crate::pipeline::check_with(ws, siblings, None, false);
    (c.definitions, c.diagnostics)
}

fn keyed(defs: Vec<Definition>) -> BTreeMap<(ContentKind, String), Definition> {
    defs.into_iter()
        .map(|d| ((d.kind(), d.resource_name().to_ascii_lowercase()), d))
        .collect()
}

fn entry(d: &Definition, old: Option<&Definition>) -> ChangedDefinition {
    let path = crate::diagnostics::render::display_path(&d.path);
    ChangedDefinition {
        kind: d.kind().as_str(),
        id: d.resource_name().to_string(),
        name: d.name().to_string(),
        old_path: old
            .map(|o| crate::diagnostics::render::display_path(&o.path))
            .filter(|p| *p != path),
        path,
    }
}

/// Definitions added, modified and deleted from `base` to `head` (a ref, or `None` for the
/// work tree as it is on disk). A definition is identified by its kind and resource name, so
/// a moved file with the same content is not a change; a modified one is any change of what
/// it defines (watchlist rows included).
pub fn changed(root: &Path, base: &str, head: Option<&str>) -> Result<Changes, DeployError> {
    changed_with_base(root, base, head, None).map(|(c, _)| c)
}

/// [`changed`], plus the base's definitions of what was modified or deleted, keyed by the
/// entry's path (for the gate's rollout transitions).
pub fn changed_with_base(
    root: &Path,
    base: &str,
    head: Option<&str>,
    head_config: Option<&crate::config::Config>,
) -> Result<(Changes, BTreeMap<String, Definition>), DeployError> {
    let (bws, bsrc, bcommit) = workspace_at(root, base)?;
    let before_defs = definitions(&bws, &bsrc);
    let (hws, (after_defs, head_diags), head_name) = match head {
        Some(h) => {
            let (hws, hsrc, hcommit) = workspace_at_with(root, h, head_config)?;
            let defs = checked(&hws, &hsrc);
            (hws, defs, hcommit)
        }
        None => {
            let ws = match head_config {
                Some(c) => workspace::open_with(root, &[], c, None),
                None => workspace::open(root, &[]),
            };
            let reader = crate::model::load::FsReader {
                root: root.to_path_buf(),
            };
            let defs = checked(&ws, &reader);
            (ws, defs, "work tree".to_string())
        }
    };
    // Content files at the head that hold no definition (they do not load, or load to
    // nothing): each is a change the gate must judge, never a silent deletion.
    let base_text: BTreeMap<PathBuf, &str> = bws
        .files
        .iter()
        .map(|&f| (bws.db.path(f).to_path_buf(), &*bws.db.get(f).text))
        .collect();
    let base_unreadable: std::collections::BTreeSet<PathBuf> = bws
        .unreadable
        .iter()
        .map(|&f| bws.db.path(f).to_path_buf())
        .collect();
    let mut broken: Vec<(PathBuf, bool)> = Vec::new(); // (path, existed at the base)
    for &f in hws.files.iter().chain(&hws.unreadable) {
        let path = hws.db.path(f).to_path_buf();
        if after_defs.iter().any(|d| d.path == path) {
            continue;
        }
        // Not a definition and nothing wrong with it: a moved stub, a YAML file outside the
        // content folders.
        let errors = head_diags.iter().any(|d| d.span.file == f && d.is_error());
        let benign = head_diags.iter().any(|d| {
            d.span.file == f && (d.code == code::MOVED_STUB || d.code == code::UNCLASSIFIED_FILE)
        });
        if benign && !errors {
            continue;
        }
        let unreadable = hws.unreadable.contains(&f);
        let same = if unreadable {
            base_unreadable.contains(&path)
        } else {
            base_text
                .get(&path)
                .is_some_and(|t| *t == &*hws.db.get(f).text)
        };
        if !same {
            let existed = base_text.contains_key(&path) || base_unreadable.contains(&path);
            broken.push((path, existed));
        }
    }
    let before = keyed(before_defs);
    let after = keyed(after_defs);
    let mut c = Changes {
        base: bcommit,
        head: head_name,
        ..Changes::default()
    };
    let mut bases = BTreeMap::new();
    for (k, d) in &after {
        match before.get(k) {
            None => c.added.push(entry(d, None)),
            Some(o) if o.item != d.item => {
                let e = entry(d, Some(o));
                bases.insert(e.path.clone(), o.clone());
                c.modified.push(e);
            }
            Some(_) => {}
        }
    }
    for (k, d) in &before {
        if after.contains_key(k) {
            continue;
        }
        // A definition whose file is still there but no longer loads is a broken file, not a
        // deletion.
        if broken.iter().any(|(p, _)| *p == d.path) {
            bases.insert(crate::diagnostics::render::display_path(&d.path), d.clone());
            continue;
        }
        let e = entry(d, None);
        bases.insert(e.path.clone(), d.clone());
        c.deleted.push(e);
    }
    for (path, existed) in broken {
        let e = ChangedDefinition {
            kind: "unloadable",
            id: String::new(),
            name: String::new(),
            path: crate::diagnostics::render::display_path(&path),
            old_path: None,
        };
        if existed {
            c.modified.push(e);
        } else {
            c.added.push(e);
        }
    }
    Ok((c, bases))
}
