//! `vigil debug STAGE FILE`: print one stage's representation.

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command, ValueEnum};

use super::super::{err, out, with, ExitCode, Global};
use crate::ops::debug::{self, Stage};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    /// The span-bearing YAML tree.
    Yaml,
    /// The KQL tokens of a query (a `.kql` file, or a definition's `query`).
    Tokens,
    /// The KQL syntax tree of a query, with its errors.
    Ast,
    /// The engine's lowered form of a query (what `vigil query` and `vigil test` run).
    Ir,
    /// The typed definition (after coercions), as JSON.
    Model,
    /// The compiled payloads, as JSON.
    Payload,
    /// The diagnostic catalog (no FILE).
    Codes,
}

#[derive(Args, Debug)]
pub struct DebugArgs {
    pub stage: StageArg,
    /// The definition file (not for `codes`).
    pub file: Option<PathBuf>,
    /// For `payload`: apply this environment's overrides.
    #[arg(long)]
    pub env: Option<String>,
    /// For `codes`: print the Markdown reference (docs/diagnostics.md).
    #[arg(long)]
    pub markdown: bool,
}

pub fn cli() -> Command {
    DebugArgs::augment_args(Command::new("debug").about(
        "Print an internal stage for one file (yaml, tokens, ast, ir, model, payload) or the diagnostic catalog.",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: DebugArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    let stage = match a.stage {
        StageArg::Yaml => Stage::Yaml,
        StageArg::Tokens => Stage::Tokens,
        StageArg::Ast => Stage::Ast,
        StageArg::Ir => Stage::Ir,
        StageArg::Model => Stage::Model,
        StageArg::Payload => Stage::Payload,
        StageArg::Codes => Stage::Codes,
    };
    with(g, g.context(), |cx| {
        let o = debug::debug(&cx, stage, a.file.as_deref(), a.env.as_deref(), a.markdown)?;
        for n in &o.notes {
            err(&format!("{n}\n"));
        }
        if !o.found {
            return Ok(ExitCode::Failed);
        }
        out(&o.text)?;
        Ok(ExitCode::Clean)
    })
}
