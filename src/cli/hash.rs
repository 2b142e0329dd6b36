//! `vigil hash FILE...`: the review hash (see `hash` module for the definition).

use std::path::PathBuf;

use clap::Args;

use super::{err, out, Global};
use crate::source::FileId;
use crate::yaml;

#[derive(Args, Debug)]
pub struct HashArgs {
    /// Definition files (the `query` field is hashed) or, with --raw, query files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Hash each file's whole text as the query (for .kql files); `-` reads stdin.
    #[arg(long)]
    pub raw: bool,
}

pub fn exec(_g: &Global, a: HashArgs) -> anyhow::Result<i32> {
    let mut code = 0;
    for f in &a.files {
        let text = if f.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            match std::fs::read_to_string(f) {
                Ok(t) => t,
                Err(e) => {
                    err(&format!("{}: {e}\n", f.display()));
                    code = 2;
                    continue;
                }
            }
        };
        let raw = a.raw || f.extension().is_some_and(|e| e == "kql");
        let query = if raw {
            Some(text)
        } else {
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let parsed = yaml::parse(FileId(0), text);
            parsed
                .root
                .as_ref()
                .and_then(|r| r.get("query"))
                .and_then(|q| q.as_scalar())
                .map(|s| s.text.clone())
        };
        match query {
            Some(q) => out(&format!(
                "{}  {}\n",
                crate::hash::query_sha256(&q),
                f.display()
            ))?,
            None => {
                err(&format!("{}: no `query` field to hash\n", f.display()));
                code = 1;
            }
        }
    }
    Ok(code)
}
