//! Paths that content and configuration name, and file names: the one containment rule
//! ([`contained`]) every such path goes through, and the byte-escaped form of names that are
//! not UTF-8. A leaf module: the loader, the tests runner, the sandbox and discovery use it.

use std::path::{Path, PathBuf};

/// A file name shown byte for byte: valid UTF-8 as is, other bytes as `\xNN`.
pub fn escaped_name(p: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut s = String::new();
        for chunk in p.as_os_str().as_bytes().utf8_chunks() {
            s.push_str(chunk.valid());
            for b in chunk.invalid() {
                s.push_str(&format!("\\x{b:02x}"));
            }
        }
        s
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().into_owned()
    }
}

/// Why a path named by content or configuration was refused (`PermissionDenied`), or that it
/// is not there (`NotFound`).
fn refuse(named: &str, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!(
            "`{}` {why}: paths named by content and by vigil.toml are relative and stay inside the repository",
            crate::diagnostics::excerpt(named, 80)
        ),
    )
}

/// The one path-containment rule: resolve `named` (a path that content or `vigil.toml` names,
/// relative to `dir`, a folder given relative to `root`) to a path inside the repository
/// after symbolic links. Absolute paths, `..` above the root and links that lead out of the
/// repository are refused with `PermissionDenied`. Paths given on the command line belong to
/// the user and do not pass through here.
pub fn contained(root: &Path, dir: &Path, named: &str) -> std::io::Result<PathBuf> {
    use std::path::Component;
    if named.trim().is_empty() {
        return Err(refuse(named, "is empty"));
    }
    let p = Path::new(named);
    if named.starts_with('/')
        || named.starts_with('\\')
        || p.components()
            .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
    {
        return Err(refuse(named, "is absolute"));
    }
    let canon_root = root.canonicalize()?;
    // `dir` may be given as a path under the root; make it relative.
    let dir = dir
        .strip_prefix(root)
        .or_else(|_| dir.strip_prefix(&canon_root))
        .unwrap_or(dir);
    let mut rel = PathBuf::new();
    for c in dir.join(p).components() {
        match c {
            Component::ParentDir => {
                if !rel.pop() {
                    return Err(refuse(named, "leads outside the repository"));
                }
            }
            Component::CurDir => {}
            Component::Normal(x) => rel.push(x),
            Component::Prefix(_) | Component::RootDir => return Err(refuse(named, "is absolute")),
        }
    }
    let full = canon_root.join(&rel);
    match full.canonicalize() {
        Ok(c) if c.starts_with(&canon_root) => Ok(c),
        Ok(_) => Err(refuse(
            named,
            "leads outside the repository through a symbolic link",
        )),
        Err(e) => Err(e),
    }
}

/// Read a file that content names (see [`contained`]): a regular file inside the repository,
/// at most `max` bytes.
pub fn read_contained(root: &Path, dir: &Path, named: &str, max: u64) -> std::io::Result<String> {
    use std::io::Read as _;
    let p = contained(root, dir, named)?;
    let f = std::fs::File::open(&p)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Err(refuse(named, "is not a regular file"));
    }
    if meta.len() > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("`{named}` is {} bytes; the limit is {max}", meta.len()),
        ));
    }
    let mut text = String::new();
    f.take(max + 1).read_to_string(&mut text)?;
    Ok(text)
}
