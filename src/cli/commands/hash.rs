//! `vigil hash FILE...`: the review hash (see the `hash` module for the definition).

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{err, out, with, ExitCode, Global};
use crate::ops::hash::{self, HashError, HashInput};

#[derive(Args, Debug)]
pub struct HashArgs {
    /// Definition files (the `query` field is hashed) or, with --raw, query files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Hash each file's whole text as the query (for .kql files); `-` reads stdin.
    #[arg(long)]
    pub raw: bool,
}

pub fn cli() -> Command {
    HashArgs::augment_args(
        Command::new("hash").about(
            "Print the review hash of each file's query (what review.query_sha256 must hold).",
        ),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: HashArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let mut inputs = Vec::new();
        for f in &a.files {
            let text = if f.as_os_str() == "-" {
                Some(std::io::read_to_string(std::io::stdin())?)
            } else {
                None
            };
            inputs.push(HashInput {
                path: f.clone(),
                text,
            });
        }
        let mut code = ExitCode::Clean;
        for r in hash::hash(&cx, &inputs, a.raw) {
            match r.hash {
                Ok(h) => out(&format!("{h}  {}\n", r.path.display()))?,
                Err(HashError::Unreadable(e)) => {
                    err(&format!("{}: {e}\n", r.path.display()));
                    code = ExitCode::Usage;
                }
                Err(HashError::NoQuery) => {
                    err(&format!("{}: no `query` field to hash\n", r.path.display()));
                    if code == ExitCode::Clean {
                        code = ExitCode::Failed;
                    }
                }
            }
        }
        Ok(code)
    })
}
