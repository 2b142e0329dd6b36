//! `vigil gate (--base REF [--head REF] | --all | PATHS...) [--stage offline|trusted] [--env E]
//! [--comment F] [--sarif F] [--junit F] [--json F] [--audit F] [--evidence F]
//! [--policy vigil.toml] [--pr N]`
//!
//! The PR check: validate + lints + policy + review confirmation + compile + detection tests +
//! the local dry-run (+ in the trusted stage the plan against `--env` and shadow evidence from
//! its query API) over the changed set, every report written in one run, and the exit code as
//! the verdict.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::{out, Global};
use crate::azure::Credential;
use crate::deploy::env::Auth;
use crate::deploy::resource::{RType, ResKey};
use crate::diagnostics::code;
use crate::diagnostics::render::{self, Format, HumanOptions};
use crate::dryrun::{self, alerts};
use crate::emit::write_file;
use crate::gate::stages::{self, StageResults};
use crate::gate::{self, evidence, github, Change, ChangeStatus, Check, Stage, Status};
use crate::model::load::{FsReader, SiblingReader};
use crate::model::{Definition, Item, Rollout};
use crate::sandbox::{self, SandboxConfig};
use crate::{pipeline, rollout, workspace};

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
    /// Trusted stage: the environment to plan against and to read shadow evidence from.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
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

pub fn exec(g: &Global, mut a: GateArgs) -> anyhow::Result<i32> {
    // Like every path argument, report and input files are relative to `-C DIR`.
    for p in [
        &mut a.comment,
        &mut a.sarif,
        &mut a.junit,
        &mut a.json,
        &mut a.audit,
        &mut a.evidence,
        &mut a.policy,
    ]
    .into_iter()
    .flatten()
    {
        *p = g.paths(std::slice::from_ref(p))?.remove(0);
    }
    if !a.all && a.paths.is_empty() && a.base.is_none() {
        anyhow::bail!("say what to judge: --base REF (what changed), --all, or files and folders");
    }
    let root = g.root()?;
    // With --head, the head's tree is also written to a scratch folder, where detection tests
    // and the dry-run run (they read test files and sandbox data beside the definitions).
    let mut head_tree: Option<ScratchDir> = None;
    let (mut ws, siblings): (workspace::Workspace, Box<dyn SiblingReader>) = match &a.head {
        Some(h) => match crate::git::workspace_at(&root, h) {
            Ok((ws, src, _)) => {
                let dir = ScratchDir::new("vigil-gate-head")
                    .context("creating a folder for the head's tree")?;
                if let Err(e) = crate::git::materialize(&root, h, dir.path()) {
                    return Ok(super::deploy::fail(&e));
                }
                head_tree = Some(dir);
                (ws, Box::new(src))
            }
            Err(e) => return Ok(super::deploy::fail(&e)),
        },
        None => (
            workspace::open(&root, &[]),
            Box::new(FsReader { root: root.clone() }),
        ),
    };
    if let Some(p) = &a.policy {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading the policy file {}", p.display()))?;
        let policy = crate::config::parse(crate::source::FileId::default(), &text);
        if let Some(d) = policy.1.first() {
            anyhow::bail!("{}: {}", p.display(), d.message);
        }
        ws.config.policy = policy.0.policy;
    }
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace(&ws);
    let checked = pipeline::check(&ws, siblings.as_ref(), Some(&kql));

    let changes: Vec<Change> = match &a.base {
        Some(base) => match crate::git::changed_with_base(&root, base, a.head.as_deref()) {
            Ok((c, mut bases)) => {
                let mut v = Vec::new();
                for (list, status) in [
                    (&c.added, ChangeStatus::Added),
                    (&c.modified, ChangeStatus::Modified),
                    (&c.deleted, ChangeStatus::Deleted),
                ] {
                    for d in list {
                        v.push(Change {
                            path: PathBuf::from(&d.path),
                            status,
                            base: bases.remove(&d.path),
                        });
                    }
                }
                v.sort_by(|x, y| x.path.cmp(&y.path));
                v
            }
            Err(e) => return Ok(super::deploy::fail(&e)),
        },
        None => {
            // Every file, or those under the given paths.
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
            files
                .into_iter()
                .map(|path| Change {
                    path,
                    status: ChangeStatus::Unknown,
                    base: None,
                })
                .collect()
        }
    };

    let file_evidence = match &a.evidence {
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

    // The product's stages, run for the changed set.
    let mut st = StageResults::default();
    let stage_root = head_tree
        .as_ref()
        .map(|d| d.path().to_path_buf())
        .unwrap_or_else(|| root.clone());
    run_local_stages(&stage_root, &ws, &checked, &changes, &mut st);
    let mut evidence_items = file_evidence.clone();
    match stage {
        Stage::Offline => st.not_run.push(Check::new(
            "plan",
            Status::NotRun,
            "not run: the plan against real workspaces belongs to the trusted stage",
        )),
        Stage::Trusted => {
            match run_trusted_stages(g, &a, &ws, &checked, &changes, &file_evidence, &mut st)? {
                Ok(found) => evidence_items.extend(found),
                Err(code) => return Ok(code),
            }
        }
    }

    let outcome = gate::evaluate(&gate::Inputs {
        stage,
        changes: &changes,
        checked: &checked,
        db: &ws.db,
        config: &ws.config,
        evidence: &evidence_items,
        pull_request: pr.as_ref(),
        commit,
        stages: &st,
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

/// A folder under the system's temporary directory, removed when dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new(prefix: &str) -> std::io::Result<ScratchDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(ScratchDir(p))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path of a change as the gate keys it.
fn key(p: &std::path::Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// Run detection tests and the local dry-run over the changed rules, in `root`: the work tree,
/// or with `--head` a scratch copy of the head's tree.
fn run_local_stages(
    root: &std::path::Path,
    ws: &workspace::Workspace,
    checked: &pipeline::Checked,
    changes: &[Change],
    st: &mut StageResults,
) {
    let judged: Vec<(String, &Definition)> = changes
        .iter()
        .filter(|c| c.status != ChangeStatus::Deleted)
        .filter_map(|c| {
            let k = key(&c.path);
            let d = checked.definitions.iter().find(|d| key(&d.path) == k)?;
            Some((k, d))
        })
        .collect();
    let cfg = match SandboxConfig::from_toml(ws.config.sandbox.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            let why = format!("not run: vigil.toml [sandbox]: {e}");
            st.not_run
                .push(Check::new("test", Status::NotRun, why.clone()));
            st.not_run.push(Check::new("dry-run", Status::NotRun, why));
            return;
        }
    };
    // Detection tests.
    for (path, d) in &judged {
        if !matches!(d.item, Item::Rule(_)) {
            st.add(
                path,
                Check::new(
                    "test",
                    Status::NotRun,
                    "not run: detection tests cover analytics rules",
                ),
            );
            continue;
        }
        let tf = dryrun::tests_path(&root.join(&d.path));
        if !tf.is_file() {
            st.add(
                path,
                Check::new(
                    "test",
                    Status::NotRun,
                    format!(
                        "not run: no tests (no {})",
                        key(&workspace::relative(root, &tf))
                    ),
                ),
            );
            continue;
        }
        let results = match dryrun::read_tests(&tf) {
            Ok(tests) => dryrun::run_rule_tests(
                d,
                &tests,
                &tf,
                &checked.definitions,
                cfg.now,
                ws.config.schemas.as_ref(),
            ),
            Err(e) => vec![dryrun::CaseResult::unreadable(d.name(), &tf, e)],
        };
        let (check, rows) = stages::test_check(path, &results);
        st.add(path, check);
        st.tests.extend(rows);
    }
    // The local dry-run over the sandbox.
    let dir = root.join(&cfg.data);
    if !dir.is_dir() {
        st.not_run.push(Check::new(
            "dry-run",
            Status::NotRun,
            format!(
                "not run: no sandbox data in {} (`vigil sandbox init` writes it)",
                key(&cfg.data)
            ),
        ));
        return;
    }
    let rules: Vec<&(String, &Definition)> = judged
        .iter()
        .filter(|(path, d)| {
            if matches!(d.item, Item::Rule(_)) {
                true
            } else {
                st.add(
                    path,
                    Check::new(
                        "dry-run",
                        Status::NotRun,
                        "not run: only analytics rules raise alerts",
                    ),
                );
                false
            }
        })
        .collect();
    if rules.is_empty() {
        return;
    }
    let sb = sandbox::for_definitions(&dir, &checked.definitions, ws.config.schemas.as_ref());
    let (start, end) = cfg.window();
    for (path, d) in rules {
        let Item::Rule(rule) = &d.item else { continue };
        let runs = alerts::simulate(rule, &sb, start, end);
        let (check, row) = stages::volume_check(
            path,
            d.name(),
            runs.as_deref().map_err(|e| e.message.clone()),
            cfg.days as f64,
            cfg.alert_budget_per_day,
        );
        st.add(path, check);
        st.volume.push(row);
    }
}

/// The credential of an environment, as `vigil plan` chooses it.
fn credential(envr: &crate::deploy::env::Environment) -> Result<Credential, String> {
    match envr.auth {
        Auth::None => Ok(
            match std::env::var("VIGIL_AZURE_TOKEN")
                .ok()
                .filter(|t| !t.is_empty())
            {
                Some(t) => Credential::Static(crate::azure::auth::Secret::new(t)),
                None => Credential::None,
            },
        ),
        Auth::Azure => crate::azure::auth::from_env(&|k: &str| std::env::var(k).ok()),
    }
}

/// Trusted stage: the plan against `--env` and shadow evidence from its query API. Returns the
/// evidence read, or the exit code of a setup error.
#[allow(clippy::too_many_arguments)]
fn run_trusted_stages(
    g: &Global,
    a: &GateArgs,
    ws: &workspace::Workspace,
    checked: &pipeline::Checked,
    changes: &[Change],
    file_evidence: &[evidence::Evidence],
    st: &mut StageResults,
) -> anyhow::Result<Result<Vec<evidence::Evidence>, i32>> {
    let Some(env_name) = &a.env else {
        st.not_run.push(Check::new(
            "plan",
            Status::NotRun,
            "not run: no --env ENV (the trusted stage plans against the target environment)",
        ));
        return Ok(Ok(Vec::new()));
    };
    let (_, s) = match super::deploy::session(g, env_name) {
        Ok(x) => x,
        Err(e) if e.code == code::DEP_CREDENTIAL => {
            st.not_run.push(Check::new(
                "plan",
                Status::NotRun,
                format!("not run: no credentials for `{env_name}`: {}", e.message),
            ));
            return Ok(Ok(Vec::new()));
        }
        Err(e) => return Ok(Err(super::deploy::fail(&e))),
    };
    if checked.diagnostics.iter().any(|d| d.is_error()) {
        st.not_run.push(Check::new(
            "plan",
            Status::NotRun,
            "not run: the content has errors (a plan would delete what failed)",
        ));
        return Ok(Ok(Vec::new()));
    }
    let mut cfg = ws.config.compile.clone();
    cfg.api_versions = s.env.api_versions.clone();
    let opts = crate::compile::Options {
        config: &cfg,
        project: &ws.config.project,
        environment: Some(&s.env.name),
        rollout: &ws.config.policy.rollout,
    };
    let artifacts: Vec<_> = pipeline::compilable(checked)
        .iter()
        .map(|d| crate::compile::compile_one(d, &opts))
        .collect();
    let rt = super::deploy::runtime()?;
    let (lives, plans, problems, _) =
        match rt.block_on(super::deploy::observe_and_plan(&s, &artifacts)) {
            Ok(x) => x,
            Err(e) => {
                for c in changes {
                    st.add(
                        &key(&c.path),
                        Check::new(
                            "plan",
                            Status::Fail,
                            format!("the plan against `{env_name}` failed: {e}"),
                        ),
                    );
                }
                return Ok(Ok(Vec::new()));
            }
        };
    let summary = stages::plan_summary(&s.env.name, &plans, &problems);
    for c in changes {
        let name = match c.status {
            ChangeStatus::Deleted => c.base.as_ref().map(|b| b.resource_name().to_string()),
            _ => checked
                .definitions
                .iter()
                .find(|d| key(&d.path) == key(&c.path))
                .map(|d| d.resource_name().to_string()),
        };
        if let Some(n) = name {
            st.add(&key(&c.path), stages::plan_check(&summary, &n));
        }
    }
    st.plan = Some(summary);

    // Shadow evidence for promotions, from SecurityAlert through the query API.
    let cred = match credential(&s.env) {
        Ok(c) => c,
        Err(_) => return Ok(Ok(Vec::new())),
    };
    let client = crate::azure::Client::new(
        &s.env.query_endpoint,
        crate::azure::query::SCOPE,
        cred,
        s.env.concurrency.max(1),
        crate::azure::RetryPolicy::default(),
    );
    let sandbox_now = SandboxConfig::from_toml(ws.config.sandbox.as_ref())
        .map(|c| c.now)
        .ok();
    let to_ticks = match (s.env.emulator, sandbox_now) {
        // The emulator answers from the sandbox, whose clock is `[sandbox] now`.
        (true, Some(now)) => now,
        _ => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            crate::engine::value::parse_datetime(&evidence::format_rfc3339(secs)).unwrap_or(0)
        }
    };
    let policy = &ws.config.policy.rollout;
    let from_ticks = to_ticks - policy.min_shadow_days as i64 * 24 * crate::engine::value::HOUR;
    let (from, to) = (
        crate::engine::value::format_datetime(from_ticks),
        crate::engine::value::format_datetime(to_ticks),
    );
    let records = crate::deploy::apply::remote_records(&lives);
    let mut found = Vec::new();
    for c in changes.iter().filter(|c| c.status != ChangeStatus::Deleted) {
        let Some(d) = checked
            .definitions
            .iter()
            .find(|d| key(&d.path) == key(&c.path))
        else {
            continue;
        };
        if !matches!(d.item, Item::Rule(_)) || !crate::validate::policy::is_ai(d) {
            continue;
        }
        let head = rollout::effective(d, Some(env_name));
        let base = c
            .base
            .as_ref()
            .map(|b| rollout::effective(b, Some(env_name)));
        if head == Rollout::Shadow || base.is_some_and(|b| rollout::rank(b) >= rollout::rank(head))
        {
            continue;
        }
        let id = d.resource_name().to_string();
        if file_evidence
            .iter()
            .any(|e| e.id == id && e.environment.as_deref().is_none_or(|x| x == env_name))
        {
            continue; // --evidence overrides the query API
        }
        let rkey = ResKey::new(RType::AlertRule, &id);
        let mut best: Option<evidence::Evidence> = None;
        for (w, live) in s.env.workspaces.iter().zip(&lives) {
            let Some(res) = live.resources.get(&rkey) else {
                continue;
            };
            let props = &res.body["properties"];
            let in_shadow = props["displayName"]
                .as_str()
                .is_some_and(|n| n.starts_with("[shadow]"));
            let Some(query) = props["query"].as_str().filter(|_| in_shadow) else {
                continue;
            };
            let workspace_id = match &w.workspace_id {
                Some(x) => x.clone(),
                None if s.env.emulator => {
                    crate::emulator::workspace_guid(&w.subscription, &w.resource_group, &w.name)
                }
                None => continue,
            };
            let text = format!(
                "SecurityAlert\n| where AlertName startswith \"[shadow]\"\n| where AlertType contains \"{id}\" or ExtendedProperties contains \"{id}\"\n| summarize Alerts = count()"
            );
            // The window starts no earlier than the last deployment that touched the rule in
            // this workspace: a rule put in shadow an hour ago has no week of evidence. (The
            // emulator's data runs on the sandbox clock, not the records' wall clock, so there
            // the window is the policy's.)
            let from = if s.env.emulator {
                from.clone()
            } else {
                let since = records
                    .iter()
                    .filter(|r| r.status == crate::deploy::record::Status::Succeeded)
                    .filter(|r| {
                        r.workspaces
                            .iter()
                            .any(|x| x.workspace == *w && x.changes.iter().any(|c| c.key == rkey))
                    })
                    .filter_map(|r| evidence::unix_seconds(&r.started))
                    .max();
                let Some(since) = since else {
                    continue; // not deployed by vigil: how long it ran in shadow is unknown
                };
                let since = crate::engine::value::parse_datetime(&evidence::format_rfc3339(since))
                    .unwrap_or(i64::MAX);
                crate::engine::value::format_datetime(since.max(from_ticks).min(to_ticks))
            };
            let span = format!("{from}/{to}");
            let res = rt.block_on(crate::azure::query::query(
                &client,
                &workspace_id,
                &text,
                Some(&span),
                false,
            ));
            let n = match res {
                Ok(r) if r.partial_error.is_none() => r
                    .tables
                    .first()
                    .and_then(|t| t.rows.first())
                    .and_then(|row| row.first())
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())),
                _ => None,
            };
            let Some(n) = n else { continue };
            if best.as_ref().is_none_or(|b| n > b.shadow_alerts) {
                best = Some(evidence::Evidence {
                    id: id.clone(),
                    environment: Some(env_name.clone()),
                    query_sha256: crate::hash::query_sha256(query),
                    from: from.clone(),
                    to: to.clone(),
                    shadow_alerts: n,
                    source: Some(format!("SecurityAlert via the query API of {}", w.label())),
                });
            }
        }
        found.extend(best);
    }
    Ok(Ok(found))
}
