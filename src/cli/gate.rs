//! `vigil gate (--all | PATHS...) [--stage offline|trusted] [--comment F] [--sarif F] [--junit F]
//! [--json F] [--audit F] [--evidence F] [--policy vigil.toml] [--pr N]`
//!
//! The PR check: validate + lints + policy + review confirmation + compile over a set of
//! definitions, every report written in one run, and the exit code as the verdict.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::{out, Global};
use crate::diagnostics::render::{self, Format, HumanOptions};
use crate::emit::write_file;
use crate::gate::{self, evidence, github, Change, ChangeStatus, Stage, Status};
use crate::model::load::FsReader;
use crate::{pipeline, workspace};

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
    // TODO(issue 5): `--base REF [--head REF]` takes the changed set from `git::changed(base,
    // head)` (added / modified / deleted, with the base definitions for rollout transitions)
    // once the deploy stream's `src/git.rs` lands; until then the set is `--all` or PATHS,
    // judged with ChangeStatus::Unknown.
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

fn now_rfc3339() -> Option<String> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(evidence::format_rfc3339(secs as i64))
}

pub fn exec(g: &Global, a: GateArgs) -> anyhow::Result<i32> {
    if !a.all && a.paths.is_empty() {
        anyhow::bail!(
            "say what to judge: --all, or files and folders (the changed set from --base REF is not supported yet)"
        );
    }
    let root = g.root()?;
    let mut ws = workspace::open(&root, &[]);
    if let Some(p) = &a.policy {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading the policy file {}", p.display()))?;
        let policy = crate::config::parse(crate::source::FileId::default(), &text);
        if let Some(d) = policy.1.first() {
            anyhow::bail!("{}: {}", p.display(), d.message);
        }
        ws.config.policy = policy.0.policy;
    }
    let reader = FsReader { root: root.clone() };
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace(&ws);
    let checked = pipeline::check(&ws, &reader, Some(&kql));

    // The changed set: every file, or those under the given paths.
    let mut files: Vec<PathBuf> = ws
        .files
        .iter()
        .chain(&ws.unreadable)
        .map(|&f| ws.db.path(f).to_path_buf())
        .collect();
    files.sort();
    if !a.all {
        let wanted: Vec<PathBuf> = g
            .paths(&a.paths)?
            .iter()
            .map(|p| workspace::relative(&root, p))
            .collect();
        for w in &wanted {
            if !files.iter().any(|f| f.starts_with(w)) {
                anyhow::bail!("{} holds no content file", w.display());
            }
        }
        files.retain(|f| wanted.iter().any(|w| f.starts_with(w)));
    }
    let changes: Vec<Change> = files
        .into_iter()
        .map(|path| Change {
            path,
            status: ChangeStatus::Unknown,
            base: None,
        })
        .collect();

    let evidence_items = match &a.evidence {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the evidence file {}", p.display()))?;
            let f: evidence::EvidenceFile = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a vigil evidence file", p.display()))?;
            f.items
        }
        None => Vec::new(),
    };

    let stage = match a.stage {
        StageArg::Offline => Stage::Offline,
        StageArg::Trusted => Stage::Trusted,
    };
    let ctx = github::GithubContext::from_env(
        |k| std::env::var(k).ok(),
        |p| std::fs::read_to_string(p).ok(),
        a.pr,
    )?;
    if stage == Stage::Trusted && ctx.is_none() {
        anyhow::bail!(
            "the trusted stage confirms reviews on GitHub: set GITHUB_TOKEN and GITHUB_REPOSITORY (and run on a pull request, or pass --pr N)"
        );
    }
    let pr = match &ctx {
        Some(c) => Some(github::fetch(c).context("reading the pull request from GitHub")?),
        None => None,
    };
    let commit = pr
        .as_ref()
        .map(|p| p.head_sha.clone())
        .or_else(|| std::env::var("GITHUB_SHA").ok().filter(|s| !s.is_empty()));

    let outcome = gate::evaluate(&gate::Inputs {
        stage,
        changes: &changes,
        checked: &checked,
        db: &ws.db,
        config: &ws.config,
        evidence: &evidence_items,
        pull_request: pr.as_ref(),
        commit,
    });
    let report = &outcome.report;
    let diags = &outcome.diagnostics;

    // Every report of the run.
    if let Some(p) = &a.comment {
        let templates = super::compile::templates(&root)?;
        let text =
            gate::report::comment(&templates, report, &ws.db, diags).map_err(anyhow::Error::msg)?;
        write_file(p, &text)?;
    }
    if let Some(p) = &a.sarif {
        write_file(p, &render::sarif(&ws.db, diags))?;
    }
    if let Some(p) = &a.junit {
        write_file(p, &gate::report::junit(report))?;
    }
    let json = {
        let mut s = serde_json::to_string_pretty(report)?;
        s.push('\n');
        s
    };
    if let Some(p) = &a.json {
        write_file(p, &json)?;
    }
    if let Some(p) = &a.audit {
        let repo = std::env::var("GITHUB_REPOSITORY").ok();
        let lines = gate::audit::lines(report, now_rfc3339().as_deref(), repo.as_deref());
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .with_context(|| format!("opening the audit log {}", p.display()))?;
        f.write_all(lines.as_bytes())
            .with_context(|| format!("appending to the audit log {}", p.display()))?;
    }

    match a.format {
        Format::Json => out(&json)?,
        Format::Sarif => out(&render::sarif(&ws.db, diags))?,
        Format::Github => out(&render::github(&ws.db, diags))?,
        Format::Human => {
            if !g.quiet {
                out(&render::human(
                    &ws.db,
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
                if report.verdict == Status::Pass { "passed" } else { "FAILED" },
                match stage {
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
    Ok(if report.verdict == Status::Pass { 0 } else { 1 })
}
