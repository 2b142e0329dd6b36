//! Command-line interface: argument parsing, output and exit codes. The only module that prints.
//!
//! Exit codes everywhere: 0 clean, 1 findings at or above the failing level (or failed checks),
//! 2 usage or internal error.

mod compile;
mod debug;
mod deploy;
mod gate;
mod hash;
mod kql;
mod query;
mod report;
mod run;
mod schema;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diagnostics::render::Format;

/// Detection-as-code for Microsoft Sentinel: validate, compile and deploy analytics rules,
/// hunting queries, functions, anomaly settings and watchlists from a git repository.
#[derive(Parser, Debug)]
#[command(
    name = "vigil",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    after_help = "Examples:\n  \
      vigil validate                          check the whole repository\n  \
      vigil validate detections/ --format github --sarif vigil.sarif\n  \
      vigil compile --out out --env prod      payloads and ARM templates with prod overrides\n  \
      vigil hash detections/rule.yaml         the hash to put in review.query_sha256\n  \
      vigil gate --all --comment c.md --sarif g.sarif --junit g.xml --json g.json\n  \
      vigil schema --write schemas            regenerate the JSON Schemas\n  \
      vigil debug codes                       every diagnostic code\n  \
      vigil emulate &                         a local Sentinel for the `local` environment\n  \
      vigil plan --env local                  what apply would change\n  \
      vigil apply --env local                 deploy; restores everything on failure\n  \
      vigil rollback --env local --to ID      back to the state before deployment ID\n  \
      vigil changed --base origin/main        definitions a branch adds, modifies, deletes\n\n\
      Exit codes: 0 clean, 1 findings or failed, 2 usage or internal error, 3 plan changes\n\
      (with --detailed-exitcode).\n\
      Configuration: vigil.toml at the repository root (see README.md)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Run as if started in DIR: the repository root is the nearest folder holding vigil.toml
    /// from there (else DIR itself), and relative paths are relative to DIR.
    #[arg(short = 'C', long, global = true, value_name = "DIR")]
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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check definitions: YAML, schema, Sentinel's limits, provenance and review fields.
    Validate(validate::ValidateArgs),
    /// Compile definitions to REST payloads and ARM templates.
    Compile(compile::CompileArgs),
    /// Print or write the JSON Schemas of the content kinds.
    Schema(schema::SchemaArgs),
    /// The PR check: validate, lints, policy, review confirmation and compile over a set of
    /// definitions; writes the PR comment, SARIF, JUnit, JSON verdict and audit log in one run.
    Gate(gate::GateArgs),
    /// Print the review hash of each file's query (what review.query_sha256 must hold).
    Hash(hash::HashArgs),
    /// Check standalone KQL queries (also as JSONL, in the kql-oracle format).
    Kql(kql::KqlArgs),
    /// Run a KQL query over the sandbox data with the embedded engine.
    Query(query::QueryArgs),
    /// Run the detection tests (`x.tests.yaml` beside each rule) offline; JUnit with --junit.
    Test(run::TestArgs),
    /// Replay every scheduled run of each rule over the sandbox window: alerts per run and day.
    DryRun(run::DryRunArgs),
    /// Manage the local sandbox data.
    Sandbox(run::SandboxArgs),
    /// Print an internal stage for one file (yaml, tokens, ast, model, payload) or the
    /// diagnostic catalog.
    Debug(debug::DebugArgs),
    /// Show what `apply` would change in an environment's workspaces (exit 3 with
    /// --detailed-exitcode when there are changes).
    Plan(deploy::PlanArgs),
    /// Make an environment's workspaces match the content; restores them on failure.
    Apply(deploy::ApplyArgs),
    /// Restore the state before a recorded deployment, or apply the content of a git ref.
    Rollback(deploy::RollbackArgs),
    /// After an apply: wait for each rule it wrote to run, and check it ran without error and
    /// was not disabled (a timeout is "unknown", never "healthy").
    Health(deploy::HealthArgs),
    /// Write the live content of an environment's workspaces as vigil YAML.
    Export(deploy::ExportArgs),
    /// Definitions added, modified and deleted between two git refs.
    Changed(deploy::ChangedArgs),
    /// Run a local Sentinel emulator (ARM subset and query API) on loopback.
    Emulate(deploy::EmulateArgs),
}

/// Output options shared by commands that report diagnostics.
#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Format of the report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a SARIF 2.1.0 report to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Fail (exit 1) on warnings too, not only on errors.
    #[arg(long, value_name = "LEVEL", value_parser = ["warnings"])]
    pub deny: Option<String>,
}

/// Run the CLI with the process arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    run(cli)
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Validate(a) => validate::exec(&cli.global, a),
        Command::Compile(a) => compile::exec(&cli.global, a),
        Command::Schema(a) => schema::exec(&cli.global, a),
        Command::Hash(a) => hash::exec(&cli.global, a),
        Command::Gate(a) => gate::exec(&cli.global, a),
        Command::Kql(a) => kql::exec(&cli.global, a),
        Command::Query(a) => query::exec(&cli.global, a),
        Command::Test(a) => run::test(&cli.global, a),
        Command::DryRun(a) => run::dry_run(&cli.global, a),
        Command::Sandbox(a) => run::sandbox(&cli.global, a),
        Command::Debug(a) => debug::exec(&cli.global, a),
        Command::Plan(a) => deploy::plan(&cli.global, a),
        Command::Apply(a) => deploy::apply_cmd(&cli.global, a),
        Command::Rollback(a) => deploy::rollback(&cli.global, a),
        Command::Health(a) => deploy::health(&cli.global, a),
        Command::Export(a) => deploy::export(&cli.global, a),
        Command::Changed(a) => deploy::changed(&cli.global, a),
        Command::Emulate(a) => deploy::emulate(&cli.global, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return 0;
            }
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            2
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
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

    /// User-given paths, resolved against the current folder.
    pub fn paths(&self, paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
        // Like `git -C`, `-C DIR` runs as if vigil were started in DIR.
        let cwd = match &self.root {
            Some(r) if r.is_absolute() => r.clone(),
            Some(r) => std::env::current_dir()?.join(r),
            None => std::env::current_dir()?,
        };
        Ok(paths
            .iter()
            .map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    cwd.join(p)
                }
            })
            .collect())
    }

    /// The repository root to work in.
    pub fn root(&self) -> anyhow::Result<PathBuf> {
        let start = match &self.root {
            Some(r) => r.clone(),
            None => std::env::current_dir()?,
        };
        if !start.is_dir() {
            anyhow::bail!("{} is not a folder", start.display());
        }
        Ok(crate::workspace::find_root(&start))
    }
}

/// Write to stdout, returning IO errors (a closed pipe ends the program quietly).
pub fn out(text: &str) -> anyhow::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.flush()?;
    Ok(())
}

/// Write to stderr.
pub fn err(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}
