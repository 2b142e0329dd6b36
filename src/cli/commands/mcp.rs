//! `vigil mcp`

use clap::{ArgMatches, Command};

use super::super::{with, ExitCode, Global};
use crate::ops;

pub fn cli() -> Command {
    Command::new("mcp").about(
        "Serve vigil's KQL validation, schema, sandbox dry-runs, query hashing, file validation and diagnostic explanations to MCP clients over stdio (nothing but protocol on stdout).",
    )
}

pub fn exec(g: &Global, _m: &ArgMatches) -> ExitCode {
    with(g, g.context(), |cx| {
        ops::mcp::mcp(&cx)?;
        Ok(ExitCode::Clean)
    })
}
