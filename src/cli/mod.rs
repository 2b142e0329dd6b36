//! Command-line interface: argument parsing, rendering and exit codes; the only module that
//! prints. Each command is one file in [`commands`] with `cli()` (its clap arguments) and
//! `exec()` (call one operation of [`crate::ops`], render its outcome, return an
//! [`ExitCode`]). No file here touches the network, git or the repository's files, except
//! writing the report files the user asked for.
//!
//! Exit codes everywhere (one table, README "Exit codes"): see [`ExitCode`].

mod commands;
mod report;
mod shell;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

pub use commands::{Cli, OPERATIONS};

use crate::ops::{Context, ContextOptions, Failure, OpError};

/// The exit codes every command follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: clean; success.
    Clean,
    /// 1: findings at the failing level, failed checks, a failed deploy, invalid content or
    /// configuration, or a verdict that could not be reached ("unknown").
    Failed,
    /// 2: usage or internal error.
    Usage,
    /// 3: changes exist (only with `plan --detailed-exitcode`).
    Changes,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Clean => 0,
            ExitCode::Failed => 1,
            ExitCode::Usage => 2,
            ExitCode::Changes => 3,
        }
    }

    /// `Failed` when `failed`, else `Clean`.
    pub fn failed_if(failed: bool) -> ExitCode {
        if failed {
            ExitCode::Failed
        } else {
            ExitCode::Clean
        }
    }
}

impl From<Failure> for ExitCode {
    fn from(f: Failure) -> ExitCode {
        match f {
            Failure::Usage | Failure::Setup | Failure::Internal => ExitCode::Usage,
            Failure::Invalid | Failure::Failed => ExitCode::Failed,
        }
    }
}

// Options every command takes (a plain comment: a doc comment would become the about text
// of every command that flattens it).
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Run as if started in DIR: the repository root is the nearest folder holding vigil.toml
    /// from there (else DIR itself), and relative paths are relative to DIR.
    #[arg(short = 'C', long = "root", global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print only findings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more about what vigil does.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl Global {
    pub fn color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }

    /// The folder the command runs in (`-C DIR`, else the current folder).
    fn cwd(&self) -> Result<PathBuf, OpError> {
        let here = std::env::current_dir().map_err(OpError::from)?;
        Ok(match &self.root {
            Some(r) if r.is_absolute() => r.clone(),
            Some(r) => here.join(r),
            None => here,
        })
    }

    /// The context of this run: the repository and its checked configuration.
    pub fn context(&self) -> Result<Context, OpError> {
        let mut o = ContextOptions::new(self.cwd()?);
        o.verbose = self.verbose;
        o.quiet = self.quiet;
        o.reporter = std::sync::Arc::new(shell::Shell::new(self.quiet));
        Context::open(o)
    }
}

/// Run the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let m = match commands::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    commands::exec(&m).code()
}

/// Print an operation's failure on stderr (its diagnostics first); returns its exit code.
pub fn fail(g: &Global, e: &OpError) -> ExitCode {
    if let Some(d) = &e.diagnostics {
        let (db, diags) = &**d;
        err(&crate::diagnostics::render::human(
            db,
            diags,
            crate::diagnostics::render::HumanOptions {
                color: false,
                width: 100,
            },
        ));
    }
    if is_broken_pipe(e) {
        return ExitCode::Clean;
    }
    match e.code {
        Some(c) => err(&format!("error[{c}]: {}\n", e.message)),
        None => err(&format!("error: {}\n", e.message)),
    }
    if let Some(h) = &e.hint {
        err(&format!("  hint: {h}\n"));
    }
    let _ = g;
    e.failure.into()
}

fn is_broken_pipe(e: &OpError) -> bool {
    e.failure == Failure::Internal && e.message.contains("Broken pipe")
}

/// Run an operation's result through `f`, or render its failure.
pub fn with<T>(
    g: &Global,
    r: Result<T, OpError>,
    f: impl FnOnce(T) -> Result<ExitCode, OpError>,
) -> ExitCode {
    match r.and_then(f) {
        Ok(c) => c,
        Err(e) => fail(g, &e),
    }
}

/// Write to stdout, returning IO errors (a closed pipe ends the program quietly).
pub fn out(text: &str) -> Result<(), OpError> {
    let mut o = std::io::stdout().lock();
    let r = o.write_all(text.as_bytes()).and_then(|_| o.flush());
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            Err(OpError::internal("Broken pipe"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Write to stderr.
pub fn err(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Write a report file the user asked for (its path relative to the folder the command runs in).
pub fn write_report(cx: &Context, path: &std::path::Path, text: &str) -> Result<(), OpError> {
    crate::emit::write_file(&cx.path(path), text).map_err(OpError::from)
}

/// Append lines to a report file the user named (an audit log).
pub fn append_report(
    cx: &Context,
    path: &std::path::Path,
    lines: &[String],
) -> Result<(), OpError> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(cx.path(path))?;
    for l in lines {
        writeln!(f, "{l}")?;
    }
    Ok(())
}
