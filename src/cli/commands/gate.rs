//! `vigil gate (--base REF [--head REF] | --all | PATHS...) [--stage offline|trusted] [--env E]
//! [--comment F] [--sarif F] [--junit F] [--json F] [--audit F] [--evidence F]
//! [--policy vigil.toml] [--pr N] [--format F]`: the PR check; the exit code is the verdict.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{ArgMatches, Args, Command, ValueEnum};

use super::super::{out, with, write_report, ExitCode, Global};
use crate::diagnostics::render::{self, Format, HumanOptions};
use crate::gate::{Stage, Status};
use crate::ops::gate::{self, GateOptions};
use crate::ops::OpError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    /// No secrets, safe for pull requests from forks: validate, lints, policy, compile (and
    /// review confirmation when GITHUB_TOKEN can read the pull request).
    Offline,
    /// Where the workflow grants credentials: review confirmation is required.
    Trusted,
}

#[derive(Args, Debug)]
pub struct GateArgs {
    /// Definitions to judge: files or folders (default with --all: the whole repository).
    pub paths: Vec<PathBuf>,
    /// Judge every definition of the repository.
    #[arg(long, conflicts_with = "paths")]
    pub all: bool,
    /// Judge what changed since this git ref: definitions added, modified (judged against
    /// their base for rollout promotions) and deleted.
    #[arg(long, value_name = "REF", conflicts_with_all = ["paths", "all"])]
    pub base: Option<String>,
    /// The head of the comparison, read through git (default: the work tree); detection tests
    /// and the dry-run run on a scratch copy of its tree.
    #[arg(long, value_name = "REF", requires = "base")]
    pub head: Option<String>,
    /// Trusted stage: an environment to plan against and to read shadow evidence from (repeat
    /// it for each environment a promotion reaches, e.g. `--env staging --env prod`).
    #[arg(long, value_name = "ENV")]
    pub env: Vec<String>,
    /// offline (no secrets, safe for forks) or trusted (confirms reviews on GitHub).
    #[arg(long, value_enum, default_value_t = StageArg::Offline)]
    pub stage: StageArg,
    /// Write the Markdown PR comment to FILE.
    #[arg(long, value_name = "FILE")]
    pub comment: Option<PathBuf>,
    /// Write SARIF 2.1.0 (inline annotations) to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Write JUnit XML (one test case per definition and check) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the JSON verdict to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Append one JSON line per definition to this audit log.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Shadow evidence for promotions (JSON; see `gate::evidence`).
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
    /// Take `[policy]` from this vigil.toml instead of the repository's (the trusted stage
    /// passes the base branch's, so a pull request cannot loosen its own policy).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Pull request number (default: from the GitHub event).
    #[arg(long, value_name = "N")]
    pub pr: Option<u64>,
    /// Format of the report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn cli() -> Command {
    GateArgs::augment_args(Command::new("gate").about(
        "The PR check: validate, lints, policy, review confirmation and compile over a set of definitions; writes the PR comment, SARIF, JUnit, JSON verdict and audit log in one run.",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: GateArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let stage = match a.stage {
            StageArg::Offline => Stage::Offline,
            StageArg::Trusted => Stage::Trusted,
        };
        let o = gate::gate(
            &cx,
            &GateOptions {
                paths: a.paths.clone(),
                all: a.all,
                base: a.base.clone(),
                head: a.head.clone(),
                env: a.env.clone(),
                stage,
                evidence: a.evidence.clone(),
                policy: a.policy.clone(),
                pr: a.pr,
                comment: a.comment.is_some(),
            },
        )?;
        let report = &o.report;
        let diags = &o.diagnostics;
        // Every report of the run.
        if let (Some(p), Some(text)) = (&a.comment, &o.comment) {
            write_report(&cx, p, text)?;
        }
        if let Some(p) = &a.sarif {
            write_report(&cx, p, &render::sarif(&o.db, diags))?;
        }
        if let Some(p) = &a.junit {
            write_report(&cx, p, &crate::gate::report::junit(report))?;
        }
        let json = {
            let mut s = serde_json::to_string_pretty(report)?;
            s.push('\n');
            s
        };
        if let Some(p) = &a.json {
            write_report(&cx, p, &json)?;
        }
        if let Some(p) = &a.audit {
            let p = cx.path(p);
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(|e| {
                    OpError::internal(format!("opening the audit log {}: {e}", p.display()))
                })?;
            f.write_all(o.audit.as_bytes()).map_err(|e| {
                OpError::internal(format!("appending to the audit log {}: {e}", p.display()))
            })?;
        }
        match a.format {
            Format::Json => out(&json)?,
            Format::Sarif => out(&render::sarif(&o.db, diags))?,
            Format::Github => out(&render::github(&o.db, diags))?,
            Format::Human => {
                if !g.quiet {
                    out(&render::human(
                        &o.db,
                        diags,
                        HumanOptions {
                            color: g.color(),
                            width: 100,
                        },
                    ))?;
                }
                let mut s = String::new();
                for e in &report.entries {
                    let failed: Vec<String> = e
                        .checks
                        .iter()
                        .filter(|c| c.status == Status::Fail)
                        .map(|c| format!("{}: {}", c.name, c.detail))
                        .collect();
                    if failed.is_empty() {
                        if !g.quiet {
                            s.push_str(&format!("pass  {}\n", e.path));
                        }
                    } else {
                        s.push_str(&format!("FAIL  {}\n", e.path));
                        for f in failed {
                            s.push_str(&format!("      {f}\n"));
                        }
                    }
                }
                for c in &report.not_run {
                    if !g.quiet {
                        s.push_str(&format!("{} {}\n", c.name, c.detail));
                    }
                }
                let passed = report
                    .entries
                    .iter()
                    .filter(|e| e.verdict == Status::Pass)
                    .count();
                s.push_str(&format!(
                    "gate {} ({} stage): {passed} of {} definition(s) pass, {} error(s), {} warning(s)\n",
                    if o.passed() { "passed" } else { "FAILED" },
                    match o.stage {
                        Stage::Offline => "offline",
                        Stage::Trusted => "trusted",
                    },
                    report.entries.len(),
                    report.errors,
                    report.warnings
                ));
                out(&s)?;
            }
        }
        Ok(ExitCode::failed_if(!o.passed()))
    })
}
