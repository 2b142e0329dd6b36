//! `vigil hash`: the review hash of each file's query (see `crate::hash` for the definition).

use std::path::PathBuf;

use super::Context;
use crate::source::FileId;

/// A file to hash: a path, or text already read (stdin, `-`).
pub struct HashInput {
    pub path: PathBuf,
    pub text: Option<String>,
}

/// Why a file has no hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashError {
    /// The file cannot be read (exit 2).
    Unreadable(String),
    /// The file has no `query` field (exit 1).
    NoQuery,
}

pub struct HashResult {
    pub path: PathBuf,
    pub hash: Result<String, HashError>,
}

/// The review hash of each input: its `query` field, or (with `raw`, or for `.kql` files) its
/// whole text.
pub fn hash(cx: &Context, inputs: &[HashInput], raw: bool) -> Vec<HashResult> {
    inputs
        .iter()
        .map(|i| {
            let text = match &i.text {
                Some(t) => Ok(t.clone()),
                None => std::fs::read_to_string(cx.path(&i.path))
                    .map_err(|e| HashError::Unreadable(e.to_string())),
            };
            let hash = text.and_then(|text| {
                let raw = raw || i.path.extension().is_some_and(|e| e == "kql");
                let query = if raw {
                    Some(text)
                } else {
                    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                    crate::yaml::parse(FileId(0), text)
                        .root
                        .as_ref()
                        .and_then(|r| r.get("query"))
                        .and_then(|q| q.as_scalar())
                        .map(|s| s.text.clone())
                };
                query
                    .map(|q| crate::hash::query_sha256(&q))
                    .ok_or(HashError::NoQuery)
            });
            HashResult {
                path: i.path.clone(),
                hash,
            }
        })
        .collect()
}
