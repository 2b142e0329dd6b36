//! The file-system edge: find the repository root and `vigil.toml`, discover content files,
//! read them into a [`SourceDb`] with file-level checks (size, binary, encoding, BOM).
//!
//! Everything after this module works on text in memory.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::{self, Config, ContentFolders};
use crate::diagnostics::{code, Diagnostic};
use crate::model::classify;
use crate::source::{FileId, SourceDb, SourceFile, Span};

/// A content repository: its root, configuration, and the loaded sources.
pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
    pub db: SourceDb,
    /// Content files, in sorted path order.
    pub files: Vec<FileId>,
    /// Files that could not be read as text (each has a diagnostic).
    pub unreadable: Vec<FileId>,
    /// Problems found while reading files or the configuration.
    pub diagnostics: Vec<Diagnostic>,
}

/// The nearest ancestor of `start` (itself included) holding `vigil.toml`, else `start`.
pub fn find_root(start: &Path) -> PathBuf {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        if d.join("vigil.toml").is_file() {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    start
}

fn skip_dir(name: &str) -> bool {
    name.starts_with('.') || name == "target" || name == "node_modules"
}

/// Content files under `paths` (files as given; directories walked), sorted, deduplicated.
///
/// A directory is visited once (by its canonical path), and a symbolic link to a directory is
/// followed only when it stays inside the repository: a link loop (`ln -s .. detections/a`) or
/// a link out of the repository adds nothing. Discovery is also bounded: it stops at
/// [`MAX_DISCOVERED`] files.
pub fn discover(root: &Path, paths: &[PathBuf], folders: &ContentFolders) -> Vec<PathBuf> {
    discover_marked(root, paths, folders)
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// [`discover`], each file marked `true` when it was reached from the root through plain
/// directories and is not a link itself (it is inside the repository without resolving it).
fn discover_marked(
    root: &Path,
    paths: &[PathBuf],
    folders: &ContentFolders,
) -> Vec<(PathBuf, bool)> {
    let canon_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut visited: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut stack: Vec<(PathBuf, bool)> = if paths.is_empty() {
        vec![(root.to_path_buf(), true)]
    } else {
        paths
            .iter()
            .map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    root.join(p)
                }
            })
            .map(|p| (p, false))
            .collect()
    };
    while let Some((p, plain)) = stack.pop() {
        if out.len() >= MAX_DISCOVERED {
            break;
        }
        if p.is_dir() {
            let Ok(canon) = p.canonicalize() else {
                continue;
            };
            if !visited.insert(canon) {
                continue;
            }
            if let Ok(rd) = std::fs::read_dir(&p) {
                for e in rd.flatten() {
                    let path = e.path();
                    let name = e.file_name().to_string_lossy().to_string();
                    if folders.excluded(&relative(root, &path)) {
                        continue;
                    }
                    // The entry's type comes with the directory listing (no stat), except
                    // for symbolic links: a link to a directory is followed only inside the
                    // repository.
                    let is_dir = match e.file_type() {
                        Ok(t) if t.is_symlink() => {
                            path.is_dir()
                                && path
                                    .canonicalize()
                                    .is_ok_and(|c| c.starts_with(&canon_root))
                        }
                        Ok(t) => t.is_dir(),
                        Err(_) => path.is_dir(),
                    };
                    let is_link_out = matches!(e.file_type(), Ok(t) if t.is_symlink())
                        && path.is_dir()
                        && !is_dir;
                    if is_link_out {
                        continue;
                    }
                    let link = matches!(e.file_type(), Ok(t) if t.is_symlink());
                    if is_dir {
                        if !skip_dir(&name) {
                            stack.push((path, plain && !link));
                        }
                    } else if classify::is_content_file(&path)
                        && !crate::dryrun::is_tests_file(&path)
                    {
                        // Detection tests (`x.tests.yaml`) belong to `vigil test`, not content.
                        out.push((path, plain && !link));
                    }
                }
            }
        } else {
            out.push((p, false));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Most content files discovery collects (a repository is not a file-system bomb).
pub const MAX_DISCOVERED: usize = 200_000;

pub use crate::paths::{contained, escaped_name, read_contained};

/// The path shown to users and used for classification: relative to the root when inside it.
pub fn relative(root: &Path, p: &Path) -> PathBuf {
    p.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| p.to_path_buf())
}

enum Read {
    Text(String, Vec<(crate::diagnostics::Code, String, usize)>),
    Failed(crate::diagnostics::Code, String),
}

fn read_one(path: &Path, max: u64) -> Read {
    use std::io::Read as _;
    let failed =
        |e: std::io::Error| Read::Failed(code::IO_ERROR, format!("cannot read the file: {e}"));
    // One open; the size from the open file (no second path lookup).
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return failed(e),
    };
    if len > max {
        return Read::Failed(
            code::FILE_TOO_LARGE,
            format!("the file is {len} bytes; the limit is {max}"),
        );
    }
    let mut bytes = Vec::with_capacity(len as usize + 1);
    // A file that grows while it is read is still held to the limit.
    if let Err(e) = (&mut file).take(max + 1).read_to_end(&mut bytes) {
        return failed(e);
    }
    if bytes.len() as u64 > max {
        return Read::Failed(
            code::FILE_TOO_LARGE,
            format!("the file is over the limit of {max} bytes"),
        );
    }
    decode(bytes)
}

fn decode(bytes: Vec<u8>) -> Read {
    if let Some(pos) = bytes.iter().position(|b| *b == 0) {
        return Read::Failed(
            code::BINARY_FILE,
            format!("the file is binary (NUL byte at offset {pos})"),
        );
    }
    let mut notes = Vec::new();
    let bytes = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        notes.push((
            code::BYTE_ORDER_MARK,
            "the file starts with a UTF-8 byte-order mark; it is ignored".to_string(),
            0,
        ));
        bytes[3..].to_vec()
    } else {
        bytes
    };
    match String::from_utf8(bytes) {
        Ok(s) => Read::Text(s, notes),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            Read::Failed(
                code::NOT_UTF8,
                format!("the file is not valid UTF-8 (first bad byte at offset {at})"),
            )
        }
    }
}

/// Open a workspace: read `vigil.toml` (if any) and the content files under `paths`.
pub fn open(root: &Path, paths: &[PathBuf]) -> Workspace {
    let text = std::fs::read_to_string(root.join("vigil.toml")).ok();
    let (config, diags) = match &text {
        Some(t) => config::parse(FileId(0), t),
        None => (Config::default(), Vec::new()),
    };
    let mut ws = open_with(root, paths, &config, text.as_deref());
    ws.diagnostics.extend(diags);
    ws
}

/// Open a workspace with a configuration already read (its text becomes file 0 of the source
/// db, so configuration diagnostics render against it).
pub fn open_with(
    root: &Path,
    paths: &[PathBuf],
    config: &Config,
    config_text: Option<&str>,
) -> Workspace {
    let mut db = SourceDb::new();
    let mut diagnostics = Vec::new();
    if let Some(text) = config_text {
        db.add("vigil.toml", text);
    }
    let config = config.clone();
    let found = discover_marked(root, paths, &config.content);
    let canon_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let max = config.validate.max_file_size;
    // Read, decode and index lines in parallel; ids are given in path order.
    enum Got {
        Text(SourceFile, Vec<(crate::diagnostics::Code, String, usize)>),
        Failed(PathBuf, crate::diagnostics::Code, String),
    }
    let read: Vec<Got> = found
        .par_iter()
        .map(|(p, plain)| {
            let rel = relative(root, p);
            if rel.to_str().is_none() {
                // Two names that differ only in invalid bytes must not collapse into one.
                return Got::Failed(
                    PathBuf::from(escaped_name(&rel)),
                    code::PATH_NOT_UTF8,
                    format!(
                        "the file name `{}` is not valid UTF-8; rename it",
                        escaped_name(&rel)
                    ),
                );
            }
            // A file under the repository that is a link out of it is not read (its text would
            // be quoted in reports); files the user names outside the repository are theirs.
            if !plain && (p.starts_with(root) || p.starts_with(&canon_root)) {
                let inside = p
                    .canonicalize()
                    .map(|c| c.starts_with(&canon_root))
                    .unwrap_or(true);
                if !inside {
                    return Got::Failed(
                        rel,
                        code::PATH_OUTSIDE_REPOSITORY,
                        "the file is a symbolic link out of the repository; it is not read".into(),
                    );
                }
            }
            match read_one(p, max) {
                Read::Text(text, notes) => Got::Text(SourceFile::new(rel, text.into()), notes),
                Read::Failed(c, m) => Got::Failed(rel, c, m),
            }
        })
        .collect();
    let mut files = Vec::with_capacity(found.len());
    let mut unreadable = Vec::new();
    for got in read {
        match got {
            Got::Text(file, notes) => {
                let id = db.add_file(file);
                for (c, m, at) in notes {
                    diagnostics.push(Diagnostic::new(c, Span::new(id, at, at), m));
                }
                files.push(id);
            }
            Got::Failed(rel, c, m) => {
                let id = db.add(rel, "");
                diagnostics.push(Diagnostic::new(c, Span::file_start(id), m));
                unreadable.push(id);
            }
        }
    }
    Workspace {
        root: root.to_path_buf(),
        config,
        db,
        files,
        unreadable,
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rejects_binary_and_bad_utf8_and_strips_bom() {
        assert!(matches!(decode(b"a\0b".to_vec()), Read::Failed(c, ..) if c == code::BINARY_FILE));
        assert!(matches!(decode(vec![b'a', 0xff]), Read::Failed(c, ..) if c == code::NOT_UTF8));
        match decode(b"\xEF\xBB\xBFid: x".to_vec()) {
            Read::Text(t, notes) => {
                assert_eq!(t, "id: x");
                assert_eq!(notes.len(), 1);
            }
            Read::Failed(..) => panic!("BOM file should decode"),
        }
    }
}

/// Content that is not on disk: files by root-relative path (the tree of a git commit).
/// Reading goes through the same checks as files (size, binary, encoding).
#[derive(Clone, Debug, Default)]
pub struct MemSource {
    pub files: std::collections::BTreeMap<PathBuf, Vec<u8>>,
    /// Files whose names are not UTF-8 (keyed in `files` by their byte-escaped names).
    pub bad_names: std::collections::BTreeSet<PathBuf>,
}

impl MemSource {
    fn skipped(&self, rel: &Path, folders: &ContentFolders) -> bool {
        folders.excluded(rel)
            || rel
                .parent()
                .into_iter()
                .flat_map(|p| p.components())
                .any(|c| skip_dir(&c.as_os_str().to_string_lossy()))
    }
}

impl crate::model::load::SiblingReader for MemSource {
    fn read(&self, definition: &Path, relative: &str) -> std::io::Result<String> {
        let dir = definition.parent().unwrap_or(Path::new(""));
        let mut p = PathBuf::new();
        for c in dir.join(relative).components() {
            match c {
                std::path::Component::ParentDir => {
                    p.pop();
                }
                std::path::Component::CurDir => {}
                c => p.push(c),
            }
        }
        let bytes = self.files.get(&p).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not in this tree", p.display()),
            )
        })?;
        String::from_utf8(bytes.clone())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

/// Open a workspace from files in memory (see [`MemSource`]), as [`open`] does from disk.
/// `root` is only shown in messages.
pub fn open_mem(root: &Path, src: &MemSource) -> Workspace {
    open_mem_with(root, src, None)
}

/// [`open_mem`] with a configuration given instead of the tree's own `vigil.toml` (the run's
/// effective configuration, whose trust-deciding keys come from the trusted side).
pub fn open_mem_with(root: &Path, src: &MemSource, given: Option<&Config>) -> Workspace {
    let mut db = SourceDb::new();
    let mut diagnostics = Vec::new();
    let config = match (given, src.files.get(Path::new("vigil.toml"))) {
        (Some(c), _) => c.clone(),
        (None, Some(bytes)) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let id = db.add("vigil.toml", text.as_str());
            let (c, d) = config::parse(id, &text);
            diagnostics.extend(d);
            c
        }
        (None, None) => Config::default(),
    };
    let max = config.validate.max_file_size;
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    for (rel, bytes) in &src.files {
        if !classify::is_content_file(rel) || src.skipped(rel, &config.content) {
            continue;
        }
        let r = if src.bad_names.contains(rel) {
            Read::Failed(
                code::PATH_NOT_UTF8,
                format!(
                    "the file name `{}` is not valid UTF-8; rename it",
                    rel.display()
                ),
            )
        } else if bytes.len() as u64 > max {
            Read::Failed(
                code::FILE_TOO_LARGE,
                format!("the file is {} bytes; the limit is {max}", bytes.len()),
            )
        } else {
            decode(bytes.clone())
        };
        match r {
            Read::Text(text, notes) => {
                let id = db.add(rel.clone(), text);
                for (c, m, at) in notes {
                    diagnostics.push(Diagnostic::new(c, Span::new(id, at, at), m));
                }
                files.push(id);
            }
            Read::Failed(c, m) => {
                let id = db.add(rel.clone(), "");
                diagnostics.push(Diagnostic::new(c, Span::file_start(id), m));
                unreadable.push(id);
            }
        }
    }
    Workspace {
        root: root.to_path_buf(),
        config,
        db,
        files,
        unreadable,
        diagnostics,
    }
}
