//! Operations: one per command, each a library function that takes a [`Context`] and typed
//! options and returns a data outcome (diagnostics, artifacts, plan, record, report) or an
//! [`OpError`]. Operations never print and never exit; the CLI (`src/cli/commands/`) parses
//! arguments, calls one operation, renders its outcome and maps it to an exit code. New doors
//! onto the pipeline (an MCP server, a scheduled job) call the same functions.
//!
//! | command | operation |
//! |---|---|
//! | `validate` | [`validate::validate`] |
//! | `compile` | [`compile::compile`] |
//! | `test` | [`test::test`] |
//! | `dry-run` | [`dry_run::dry_run`] |
//! | `query` | [`query::open`] + [`query::run`] / [`query::answer_line`] |
//! | `kql check` | [`kql_check::check_files`] / [`kql_check::answer_line`] |
//! | `hash` | [`hash::hash`] |
//! | `sandbox init` | [`sandbox_init::sandbox_init`] |
//! | `plan` | [`plan::plan`] |
//! | `apply` | [`apply::apply`] |
//! | `rollback` | [`rollback::rollback`] |
//! | `export` | [`export::export`] |
//! | `health` | [`health::health`] |
//! | `outcomes` | [`outcomes::outcomes`] |
//! | `guard` | [`guard::guard`] |
//! | `mcp` | [`mcp::mcp`] |
//! | `draft` | [`draft::draft`] |
//! | `gate` | [`gate::gate`] |
//! | `changed` | [`changed::changed`] |
//! | `schema` | [`schema::schemas`] |
//! | `schema pull` | [`schema_pull::schema_pull`] |
//! | `emulate` | [`emulate::emulate`] |
//! | `debug` | [`debug::debug`] |

pub mod apply;
pub mod changed;
pub mod compile;
pub mod context;
pub mod debug;
mod deploy;
pub mod draft;
pub mod dry_run;
pub mod emulate;
pub mod error;
pub mod export;
pub mod gate;
pub mod guard;
pub mod hash;
pub mod health;
pub mod kql_check;
pub mod mcp;
pub mod outcomes;
pub mod plan;
pub mod query;
pub mod rollback;
pub mod sandbox_init;
pub mod schema;
pub mod schema_pull;
pub mod test;
pub mod tune;
pub mod validate;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use context::{Context, ContextOptions, Progress, Reporter, Silent};
pub use deploy::Applied;
pub use error::{Failure, OpError};

use crate::source::FileId;
use crate::workspace::{self, Workspace};

/// The files of a workspace that user-given paths select (every file when none are given).
pub fn select(cx: &Context, ws: &Workspace, paths: &[PathBuf]) -> Option<BTreeSet<FileId>> {
    if paths.is_empty() {
        return None;
    }
    let wanted: Vec<PathBuf> = paths.iter().map(|p| rel_of(cx, p)).collect();
    Some(
        ws.files
            .iter()
            .chain(&ws.unreadable)
            .copied()
            .filter(|&f| {
                let p = ws.db.path(f);
                wanted
                    .iter()
                    .any(|w| p.starts_with(w) || w.as_os_str().is_empty())
            })
            .collect(),
    )
}

/// A user-given path relative to the repository root (as the workspace names its files).
pub fn rel_of(cx: &Context, p: &Path) -> PathBuf {
    let abs = cx.path(p);
    let abs = abs.canonicalize().unwrap_or(abs);
    workspace::relative(&cx.root, &abs)
}

/// The workspace with the files user paths name (files outside content folders included),
/// and the selection they make.
pub fn open_selected(cx: &Context, paths: &[PathBuf]) -> (Workspace, Option<BTreeSet<FileId>>) {
    let abs = cx.paths(paths);
    let ws = cx.workspace_with(&abs);
    let sel = select(cx, &ws, paths);
    (ws, sel)
}
