//! `vigil plan`, `apply`, `rollback`, `export`, `changed`, `emulate` and `schema pull`: thin
//! commands over `deploy`, `git` and `emulator`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, ValueEnum};

use super::{err, out, Global};
use crate::azure::Credential;
use crate::compile::Artifact;
use crate::deploy::env::{self, Auth, Environment};
use crate::deploy::plan::{self, WorkspacePlan};
use crate::deploy::{apply, catalog, record, render, DeployError, Session};
use crate::diagnostics::{code, render as drender};
use crate::model::load::{FsReader, SiblingReader};
use crate::{pipeline, workspace};

fn getenv(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// Print a deploy error; returns its exit code (1: a failed check or deploy, 2: setup).
pub fn fail(e: &DeployError) -> i32 {
    err(&format!("error[{}]: {}\n", e.code, e.message));
    if let Some(h) = &e.hint {
        err(&format!("  hint: {h}\n"));
    }
    if matches!(
        e.code,
        code::DEP_ENVIRONMENT | code::DEP_CREDENTIAL | code::DEP_GIT | code::DEP_BASE_NOT_FETCHED
    ) {
        2
    } else {
        1
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

static EMBEDDED: std::sync::OnceLock<crate::emulator::Emulator> = std::sync::OnceLock::new();

/// The embedded default: when an environment points at the emulator, no emulator answers
/// there and `VIGIL_EMULATOR` is not set, start one inside this process for the command
/// (same state folder, `.vigil/emulator`, so state persists between commands; the query API
/// answers from the sandbox). A running `vigil emulate` is always preferred.
pub(crate) fn ensure_emulator(
    g: &Global,
    root: &Path,
    envr: &mut Environment,
) -> anyhow::Result<()> {
    if !envr.emulator || getenv("VIGIL_EMULATOR").is_some_and(|v| !v.is_empty()) {
        return Ok(());
    }
    let addr = envr
        .endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string();
    let reachable = std::net::ToSocketAddrs::to_socket_addrs(&addr.as_str())
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|sa| {
            std::net::TcpStream::connect_timeout(&sa, std::time::Duration::from_millis(300)).is_ok()
        });
    if reachable {
        return Ok(());
    }
    let emu = match EMBEDDED.get() {
        Some(e) => e,
        None => {
            let opts = crate::emulator::Options {
                state: Some(root.join(env::EMULATOR_STATE)),
                engine: sandbox_engine(g)?,
                ..crate::emulator::Options::default()
            };
            let e = crate::emulator::start("127.0.0.1:0", opts)?;
            let _ = EMBEDDED.set(e);
            EMBEDDED.get().expect("just set")
        }
    };
    if g.verbose {
        err(&format!(
            "vigil: no emulator at {addr}; using an embedded one on {} (state in {})\n",
            emu.url(),
            env::EMULATOR_STATE
        ));
    }
    envr.endpoint = emu.url();
    envr.query_endpoint = emu.url();
    Ok(())
}

/// The environment and a session on it.
pub(crate) fn session(g: &Global, name: &str) -> Result<(PathBuf, Session), DeployError> {
    let root = g
        .root()
        .map_err(|e| DeployError::new(code::DEP_ENVIRONMENT, e.to_string()))?;
    let config = match std::fs::read_to_string(root.join("vigil.toml")) {
        Ok(t) => crate::config::parse(crate::source::FileId(0), &t).0,
        Err(_) => crate::config::Config::default(),
    };
    let mut envr: Environment = env::resolve(&config, name, &root, &getenv)
        .map_err(|m| DeployError::new(code::DEP_ENVIRONMENT, m))?;
    ensure_emulator(g, &root, &mut envr)
        .map_err(|e| DeployError::new(code::DEP_ENVIRONMENT, e.to_string()))?;
    let credential = match envr.auth {
        Auth::None => match getenv("VIGIL_AZURE_TOKEN").filter(|t| !t.is_empty()) {
            Some(t) => Credential::Static(crate::azure::auth::Secret::new(t)),
            None => Credential::None,
        },
        Auth::Azure => crate::azure::auth::from_env(&getenv)
            .map_err(|m| DeployError::new(code::DEP_CREDENTIAL, m))?,
    };
    if g.verbose {
        err(&format!(
            "vigil: environment `{}`: {} workspace(s) at {} ({})\n",
            envr.name,
            envr.workspaces.len(),
            envr.endpoint,
            credential.name()
        ));
    }
    let owner = format!("vigil:{}", config.project.id);
    let mut s = Session::new(envr, root.clone(), owner, credential);
    if let Some(k) = getenv("VIGIL_TEST_KILL_AFTER_STEP").and_then(|v| v.parse::<u64>().ok()) {
        s.on_step = Some(Arc::new(move |n| {
            if n == k {
                // SAFETY: sending SIGKILL to ourselves; a test hook that simulates kill -9.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
            }
        }));
    }
    Ok((root, s))
}

/// Desired content: compiled at a ref (or the work tree). `strict`: with KQL analysis (plan,
/// apply); without (an emergency rollback checks Sentinel's hard limits only). Errors in the
/// content stop the command: deploying the rest would delete what failed.
fn desired(
    g: &Global,
    root: &Path,
    reference: Option<&str>,
    envr: &Environment,
    strict: bool,
) -> anyhow::Result<Result<Desired, i32>> {
    let (ws, siblings, commit): (workspace::Workspace, Box<dyn SiblingReader>, Option<String>) =
        match reference {
            Some(r) => match crate::git::workspace_at(root, r) {
                Ok((ws, src, c)) => (ws, Box::new(src), Some(c)),
                Err(e) => return Ok(Err(fail(&e))),
            },
            None => (
                workspace::open(root, &[]),
                Box::new(FsReader {
                    root: root.to_path_buf(),
                }),
                None,
            ),
        };
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace(&ws);
    let analyzer: Option<&dyn crate::validate::QueryAnalyzer> =
        if strict { Some(&kql) } else { None };
    let checked = pipeline::check_with(&ws, siblings.as_ref(), analyzer, false);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .filter(|d| strict || !d.code.as_str().starts_with("POL"))
        .cloned()
        .collect();
    if !errors.is_empty() {
        out(&drender::human(
            &ws.db,
            &errors,
            drender::HumanOptions {
                color: g.color(),
                width: 100,
            },
        ))?;
        err(&format!(
            "error: {} definition error(s); nothing was planned or deployed (fix them, then run again)\n",
            errors.len()
        ));
        return Ok(Err(1));
    }
    let cfg = env_compile_config(&ws, envr);
    let opts = env_compile_options(&ws, envr, &cfg);
    let artifacts = pipeline::compilable(&checked)
        .iter()
        .map(|d| crate::compile::compile_one(d, &opts))
        .collect();
    Ok(Ok((artifacts, commit)))
}

/// The compile settings for an environment: the repository's, with the environment's
/// api-versions.
fn env_compile_config(
    ws: &workspace::Workspace,
    envr: &Environment,
) -> crate::config::CompileConfig {
    let mut cfg = ws.config.compile.clone();
    cfg.api_versions = envr.api_versions.clone();
    cfg
}

fn env_compile_options<'a>(
    ws: &'a workspace::Workspace,
    envr: &'a Environment,
    cfg: &'a crate::config::CompileConfig,
) -> crate::compile::Options<'a> {
    crate::compile::Options {
        config: cfg,
        project: &ws.config.project,
        environment: Some(&envr.name),
        rollout: &ws.config.policy.rollout,
    }
}

/// Compiled artifacts and the commit they came from; or the exit code of a failure.
type Desired = (Vec<Artifact>, Option<String>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Environment from vigil.toml (`local`: the emulator).
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Plan the content at this git ref (read without a checkout); default: the work tree.
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Also write the plan as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the plan as Markdown to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Exit 3 when the plan has changes.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

/// Observe and plan every workspace; problems are rules that do not bind in a workspace.
async fn make_plans(
    s: &Session,
    artifacts: &[Artifact],
) -> Result<(Vec<WorkspacePlan>, Vec<DeployError>, Vec<record::Record>), DeployError> {
    let (_, plans, problems, records) = observe_and_plan(s, artifacts).await?;
    Ok((plans, problems, records))
}

/// What [`observe_and_plan`] returns: live state per workspace, the plans, the problems and the
/// deployment records found.
pub(crate) type Observed = (
    Vec<plan::Live>,
    Vec<WorkspacePlan>,
    Vec<DeployError>,
    Vec<record::Record>,
);

/// [`make_plans`], keeping the observed live state (the gate reads deployed rules from it).
pub(crate) async fn observe_and_plan(
    s: &Session,
    artifacts: &[Artifact],
) -> Result<Observed, DeployError> {
    let lives = s.observe_all().await?;
    let records = apply::remote_records(&lives);
    let mut plans = Vec::new();
    let mut problems = Vec::new();
    for (ws, live) in s.env.workspaces.iter().zip(&lives) {
        let targets = crate::deploy::targets(artifacts, ws);
        let cat = env::catalog_file(&s.root, &s.env.name, ws);
        if let Ok(text) = std::fs::read_to_string(&cat) {
            match serde_json::from_str(&text) {
                Ok(schema) => problems.extend(catalog::check(&ws.label(), &schema, &targets)),
                Err(e) => problems.push(DeployError::new(
                    code::DEP_ENVIRONMENT,
                    format!("{}: not a workspace catalog: {e}", cat.display()),
                )),
            }
        }
        plans.push(plan::plan_workspace(ws, targets, live, &s.owner));
    }
    Ok((lives, plans, problems, records))
}

fn write_reports(
    a_json: &Option<PathBuf>,
    a_md: &Option<PathBuf>,
    report: &serde_json::Value,
    root: &Path,
) -> anyhow::Result<()> {
    if let Some(p) = a_json {
        crate::emit::write_file(p, &serde_json::to_string_pretty(report)?)?;
    }
    if let Some(p) = a_md {
        crate::emit::write_file(p, &markdown(report, root)?)?;
    }
    Ok(())
}

fn markdown(report: &serde_json::Value, root: &Path) -> anyhow::Result<String> {
    let mut t = super::compile::templates(root)?;
    if let Ok(text) =
        std::fs::read_to_string(root.join("templates").join(crate::compile::templates::PLAN))
    {
        t.set(crate::compile::templates::PLAN, &text)
            .map_err(anyhow::Error::msg)?;
    }
    t.render(crate::compile::templates::PLAN, report)
        .map_err(anyhow::Error::msg)
}

pub fn plan(g: &Global, a: PlanArgs) -> anyhow::Result<i32> {
    let (root, s) = match session(g, &a.env) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    let (artifacts, _) = match desired(g, &root, a.reference.as_deref(), &s.env, true)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let rt = runtime()?;
    let (plans, problems, records) = match rt.block_on(make_plans(&s, &artifacts)) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    let report = render::report(&s.env.name, &plans, &problems);
    match a.format {
        PlanFormat::Human => {
            out(&render::human(&s.env.name, &plans, g.verbose))?;
            for p in &problems {
                fail(p);
            }
        }
        PlanFormat::Json => out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?,
        PlanFormat::Markdown => out(&markdown(&report, &root)?)?,
    }
    for r in records.iter().filter(|r| r.status.incomplete()) {
        err(&format!(
            "warning: deployment {} was interrupted ({}); the next apply restores its prior state first\n",
            r.id,
            r.status.as_str()
        ));
    }
    let json = a
        .json
        .as_ref()
        .map(|p| g.paths(std::slice::from_ref(p)))
        .transpose()?;
    let md = a
        .markdown
        .as_ref()
        .map(|p| g.paths(std::slice::from_ref(p)))
        .transpose()?;
    write_reports(
        &json.map(|mut v| v.remove(0)),
        &md.map(|mut v| v.remove(0)),
        &report,
        &root,
    )?;
    if !problems.is_empty() {
        return Ok(1);
    }
    let changes = plan::Totals::of(&plans).changes();
    Ok(if a.detailed_exitcode && changes > 0 {
        3
    } else {
        0
    })
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Apply the content at this git ref; default: the work tree.
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,
    /// On failure, leave the workspaces as they are instead of restoring them.
    #[arg(long)]
    pub no_rollback: bool,
    /// Allow this many deletions (default: the environment's `max_deletions`).
    #[arg(long, value_name = "N")]
    pub max_deletions: Option<usize>,
    /// Also write the apply result (record id, status, plan) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

fn report_apply(
    g: &Global,
    s: &Session,
    plans: &[WorkspacePlan],
    rep: &apply::ApplyReport,
    started: Instant,
    json: &Option<PathBuf>,
) -> anyhow::Result<i32> {
    let t = plan::Totals::of(plans);
    let st = s.arm.stats.snapshot();
    if let Some(p) = json {
        let p = &g.paths(std::slice::from_ref(p))?[0];
        let v = serde_json::json!({
            "deployment": rep.record.id,
            "status": rep.record.status.as_str(),
            "error": rep.error.as_ref().map(|e| e.to_string()),
            "restored": rep.restored,
            "writes": rep.writes,
            "requests": st[0],
            "throttled": st[1],
            "serverErrors": st[2],
            "transportErrors": st[3],
            "retries": st[4],
            "seconds": started.elapsed().as_secs_f64(),
            "plan": render::report(&s.env.name, plans, &[]),
        });
        crate::emit::write_file(p, &serde_json::to_string_pretty(&v)?)?;
    }
    match &rep.error {
        None => {
            if !g.quiet {
                out(&format!(
                    "Applied {} change(s) to {} workspace(s) in {:.1}s: deployment {} ({} writes, {} requests, {} retried: {} throttled, {} server errors, {} connection errors). Read back and verified.\n",
                    t.changes(),
                    plans.iter().filter(|p| !p.changes.is_empty()).count(),
                    started.elapsed().as_secs_f64(),
                    rep.record.id,
                    rep.writes,
                    st[0],
                    st[4],
                    st[1],
                    st[2],
                    st[3],
                ))?;
            }
            Ok(0)
        }
        Some(e) => {
            let code = fail(e);
            if rep.restored {
                err(&format!(
                    "The apply failed; every change it made was restored (deployment {} is rolled back).\n",
                    rep.record.id
                ));
            } else if rep.record.status == record::Status::Failed {
                err(&format!(
                    "The apply failed; --no-rollback left the workspaces as they were at the failure (deployment {}).\n",
                    rep.record.id
                ));
            } else if rep.record.status.incomplete() {
                err(&format!(
                    "The apply failed and restoring failed too; run the command again to finish the restore (deployment {}).\n",
                    rep.record.id
                ));
            }
            Ok(code.max(1))
        }
    }
}

/// Recover interrupted deployments; returns fresh plans afterwards.
async fn recover_then_plan(
    g: &Global,
    s: &Session,
    artifacts: &[Artifact],
) -> Result<(Vec<WorkspacePlan>, Vec<DeployError>), DeployError> {
    let (plans, problems, records) = make_plans(s, artifacts).await?;
    if !records.iter().any(|r| r.status.incomplete())
        && record::load_local(&s.root, &s.env.name)
            .iter()
            .all(|r| !r.status.incomplete())
    {
        return Ok((plans, problems));
    }
    let done = apply::recover(s, records).await?;
    for id in &done {
        if !g.quiet {
            err(&format!(
                "warning[{}]: deployment {id} was interrupted; its prior state was restored before this run\n",
                code::DEP_RECOVERED
            ));
        }
    }
    let (plans, problems, _) = make_plans(s, artifacts).await?;
    Ok((plans, problems))
}

pub fn apply_cmd(g: &Global, a: ApplyArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let (root, s) = match session(g, &a.env) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    let (artifacts, commit) = match desired(g, &root, a.reference.as_deref(), &s.env, true)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let rt = runtime()?;
    let (plans, problems) = match rt.block_on(recover_then_plan(g, &s, &artifacts)) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    if !g.quiet {
        out(&render::human(&s.env.name, &plans, g.verbose))?;
    }
    if !problems.is_empty() {
        for p in &problems {
            fail(p);
        }
        err("error: nothing was deployed\n");
        return Ok(1);
    }
    if plan::Totals::of(&plans).changes() == 0 {
        if !g.quiet {
            out("Nothing to apply.\n")?;
        }
        return Ok(0);
    }
    let opts = apply::ApplyOptions {
        no_rollback: a.no_rollback,
        max_deletions: a.max_deletions.unwrap_or(s.env.max_deletions),
        kind: "apply",
        source: Some(a.reference.clone().unwrap_or_else(|| "work tree".into())),
        commit: commit.or_else(|| crate::git::commit_of(&root, "HEAD").ok()),
    };
    let rep = rt.block_on(apply::apply(&s, &plans, &opts));
    report_apply(g, &s, &plans, &rep, started, &a.json)
}

#[derive(Args, Debug)]
pub struct RollbackArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// A deployment id (restores the state recorded before it, and undoes every later
    /// deployment), or a git ref (applies the content at that ref).
    #[arg(long, value_name = "DEPLOYMENT_ID|REF")]
    pub to: String,
    #[arg(long)]
    pub no_rollback: bool,
    /// Allow this many deletions (default: unlimited for a deployment id, the environment's
    /// `max_deletions` for a ref).
    #[arg(long, value_name = "N")]
    pub max_deletions: Option<usize>,
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

fn is_deployment_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
        && b[17..].iter().all(u8::is_ascii_hexdigit)
}

pub fn rollback(g: &Global, a: RollbackArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let (root, s) = match session(g, &a.env) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    let rt = runtime()?;
    if !is_deployment_id(&a.to) {
        // An emergency rollback to a ref: Sentinel's hard limits only, no lints or policy.
        let (artifacts, commit) = match desired(g, &root, Some(&a.to), &s.env, false)? {
            Ok(x) => x,
            Err(code) => return Ok(code),
        };
        let (plans, _) = match rt.block_on(recover_then_plan(g, &s, &artifacts)) {
            Ok(x) => x,
            Err(e) => return Ok(fail(&e)),
        };
        if !g.quiet {
            out(&render::human(&s.env.name, &plans, g.verbose))?;
        }
        let opts = apply::ApplyOptions {
            no_rollback: a.no_rollback,
            max_deletions: a.max_deletions.unwrap_or(s.env.max_deletions),
            kind: "rollback",
            source: Some(a.to.clone()),
            commit,
        };
        let rep = rt.block_on(apply::apply(&s, &plans, &opts));
        return report_apply(g, &s, &plans, &rep, started, &a.json);
    }
    let result = rt.block_on(async {
        let lives = s.observe_all().await?;
        let remote = apply::remote_records(&lives);
        let lives = if remote.iter().any(|r| r.status.incomplete())
            || record::load_local(&s.root, &s.env.name)
                .iter()
                .any(|r| r.status.incomplete())
        {
            apply::recover(&s, remote).await?;
            s.observe_all().await?
        } else {
            lives
        };
        let mut all = apply::remote_records(&lives);
        all.extend(record::load_local(&s.root, &s.env.name));
        let all = record::merge(all);
        let per_ws = crate::deploy::rollback_targets(&all, &a.to)?;
        let mut plans = Vec::new();
        for (ws, live) in s.env.workspaces.iter().zip(&lives) {
            let changes = per_ws.get(ws).cloned().unwrap_or_default();
            let scope: std::collections::BTreeSet<_> = changes.keys().cloned().collect();
            let (targets, _) = crate::deploy::prior_targets(&changes);
            plans.push(plan::plan_scoped(ws, targets, live, &s.owner, Some(&scope)));
        }
        Ok::<_, DeployError>(plans)
    });
    let plans = match result {
        Ok(p) => p,
        Err(e) => return Ok(fail(&e)),
    };
    if !g.quiet {
        out(&render::human(&s.env.name, &plans, g.verbose))?;
    }
    if plan::Totals::of(&plans).changes() == 0 {
        if !g.quiet {
            out("Nothing to roll back: the workspaces already hold the recorded prior state.\n")?;
        }
        return Ok(0);
    }
    let opts = apply::ApplyOptions {
        no_rollback: a.no_rollback,
        max_deletions: a.max_deletions.unwrap_or(usize::MAX),
        kind: "rollback",
        source: Some(a.to.clone()),
        commit: None,
    };
    let rep = rt.block_on(apply::apply(&s, &plans, &opts));
    report_apply(g, &s, &plans, &rep, started, &a.json)
}

#[derive(Args, Debug)]
pub struct ChangedArgs {
    /// The base ref (e.g. origin/main).
    #[arg(long, value_name = "REF")]
    pub base: String,
    /// The head ref; default: the work tree as it is on disk.
    #[arg(long, value_name = "REF")]
    pub head: Option<String>,
    #[arg(long, value_enum, default_value_t = ChangedFormat::Human)]
    pub format: ChangedFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChangedFormat {
    Human,
    Json,
}

pub fn changed(g: &Global, a: ChangedArgs) -> anyhow::Result<i32> {
    let root = g.root()?;
    let c = match crate::git::changed(&root, &a.base, a.head.as_deref()) {
        Ok(c) => c,
        Err(e) => return Ok(fail(&e)),
    };
    match a.format {
        ChangedFormat::Json => out(&format!("{}\n", serde_json::to_string_pretty(&c)?))?,
        ChangedFormat::Human => {
            let mut s = String::new();
            for (sym, list) in [("A", &c.added), ("M", &c.modified), ("D", &c.deleted)] {
                for d in list {
                    s.push_str(&format!("{sym} {:<9} {}  {}\n", d.kind, d.path, d.name));
                }
            }
            s.push_str(&format!(
                "{} added, {} modified, {} deleted ({}..{})\n",
                c.added.len(),
                c.modified.len(),
                c.deleted.len(),
                &c.base[..c.base.len().min(12)],
                c.head
            ));
            out(&s)?;
        }
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct EmulateArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = env::DEFAULT_EMULATOR)]
    pub addr: String,
    /// State folder (default: .vigil/emulator under the repository root). Its `address` file
    /// tells the `local` environment where the emulator listens.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Keep state in memory only.
    #[arg(long, conflicts_with = "state")]
    pub memory: bool,
    /// Latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of 429 Too Many Requests.
    #[arg(long, default_value_t = 0.0)]
    pub p429: f64,
    /// Retry-After of injected 429s, in seconds.
    #[arg(long, default_value_t = 1)]
    pub retry_after: u64,
    /// Probability of 500 Internal Server Error.
    #[arg(long, default_value_t = 0.0)]
    pub p500: f64,
    /// Probability of a connection reset (half before the change is made, half after).
    #[arg(long, default_value_t = 0.0)]
    pub preset: f64,
    /// Probability of a slow body.
    #[arg(long, default_value_t = 0.0)]
    pub pslow: f64,
    /// Duration of a slow body, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub slow_ms: u64,
    /// Seed of the fault decisions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Require `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// How long watchlist operations stay in progress, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub lro_delay_ms: u64,
    /// Extra tables for every workspace (kql-oracle schema JSON).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
}

pub fn emulate(g: &Global, a: EmulateArgs) -> anyhow::Result<i32> {
    let state = if a.memory {
        None
    } else {
        Some(match a.state {
            Some(s) => s,
            None => g.root()?.join(env::EMULATOR_STATE),
        })
    };
    let schema = match &a.schema {
        Some(p) => Some(serde_json::from_str(&std::fs::read_to_string(p)?)?),
        None => None,
    };
    let opts = crate::emulator::Options {
        state: state.clone(),
        faults: crate::emulator::Faults {
            latency: std::time::Duration::from_millis(a.latency_ms),
            p429: a.p429,
            retry_after_secs: a.retry_after,
            p500: a.p500,
            preset: a.preset,
            pslow: a.pslow,
            slow: std::time::Duration::from_millis(a.slow_ms),
            seed: a.seed,
        },
        token: a.token,
        lro_delay: std::time::Duration::from_millis(a.lro_delay_ms),
        schema,
        engine: sandbox_engine(g)?,
    };
    let described = crate::emulator::describe(&opts);
    let emu = crate::emulator::start(&a.addr, opts)?;
    if let Some(s) = &state {
        std::fs::create_dir_all(s)?;
        std::fs::write(s.join("address"), format!("{}\n", emu.url()))?;
    }
    out(&format!(
        "vigil emulate: Sentinel emulator on {} ({described}); Ctrl-C stops it\n",
        emu.url()
    ))?;
    emu.server.wait();
    Ok(0)
}

/// The embedded engine over the repository's sandbox (data folder, functions, watchlists), for
/// the emulator's query API.
fn sandbox_engine(g: &Global) -> anyhow::Result<Arc<dyn crate::emulator::QueryEngine>> {
    let root = g.root()?;
    let ws = crate::workspace::open(&root, &[]);
    let cfg = crate::sandbox::SandboxConfig::from_toml(ws.config.sandbox.as_ref())
        .map_err(|e| anyhow::anyhow!("vigil.toml: {e}"))?;
    let reader = crate::model::load::FsReader { root: root.clone() };
    let checked = pipeline::check(&ws, &reader, None);
    let data = crate::sandbox::for_definitions(
        &root.join(&cfg.data),
        &checked.definitions,
        ws.config.schemas.as_ref(),
    );
    Ok(Arc::new(crate::sandbox::SandboxEngine {
        data,
        now: cfg.now,
    }))
}

/// `vigil schema pull --env E`: each workspace's catalog into schemas/workspaces/E/.
pub fn schema_pull(g: &Global, env_name: &str) -> anyhow::Result<i32> {
    let (root, s) = match session(g, env_name) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    let credential = match s.env.auth {
        Auth::None => Credential::None,
        Auth::Azure => match crate::azure::auth::from_env(&getenv) {
            Ok(c) => c,
            Err(m) => return Ok(fail(&DeployError::new(code::DEP_CREDENTIAL, m))),
        },
    };
    let q = crate::azure::Client::new(
        &s.env.query_endpoint,
        crate::azure::query::SCOPE,
        credential,
        4,
        crate::azure::RetryPolicy::default(),
    );
    let rt = runtime()?;
    for ws in &s.env.workspaces {
        let r = rt.block_on(async {
            let id = match &ws.workspace_id {
                Some(id) => id.clone(),
                None => {
                    let w = s.arm.get(&ws.path(), "2025-02-01").await?;
                    w.body["properties"]["customerId"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                }
            };
            crate::azure::query::metadata(&q, &id).await
        });
        match r {
            Ok(meta) => {
                let v = catalog::from_metadata(&ws.label(), &meta);
                let p = env::catalog_file(&root, &s.env.name, ws);
                crate::emit::write_file(&p, &format!("{}\n", serde_json::to_string_pretty(&v)?))?;
                if !g.quiet {
                    out(&format!(
                        "{}: {} table(s) beyond the embedded catalog, {} missing, {} function(s) → {}\n",
                        ws.label(),
                        v["tables"].as_object().map(|o| o.len()).unwrap_or(0),
                        v["missing"].as_array().map(|o| o.len()).unwrap_or(0),
                        v["functions"].as_object().map(|o| o.len()).unwrap_or(0),
                        drender::display_path(&p)
                    ))?;
                }
            }
            Err(e) => return Ok(fail(&e.into())),
        }
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Output folder (one subfolder per workspace when the environment has several).
    #[arg(long, value_name = "DIR", default_value = "export")]
    pub out: PathBuf,
    /// Write into the repository instead: each item over the file that defines it (same
    /// resource name), keeping the file's vigil keys (provenance, review, rollout,
    /// environments, tests); items the repository does not define go to `--out`. This is how
    /// drift made in the portal comes back into git (the drift workflow opens a PR with it).
    #[arg(long)]
    pub update: bool,
}

/// vigil's own keys, which the live workspace does not hold: kept from the file on `--update`.
const VIGIL_KEYS: &[&str] = &["provenance", "review", "rollout", "environments", "tests"];

/// `--update`: where each resource name is defined, and how to rewrite its file.
struct RepoItems {
    /// Resource name → (definition path relative to the root, vigil keys as YAML, footer to
    /// strip from the description, rollout note when the payload is rewritten by a rollout).
    by_name: std::collections::BTreeMap<String, (PathBuf, String, Option<String>, Option<String>)>,
}

fn repo_items(root: &Path, envr: &Environment) -> anyhow::Result<RepoItems> {
    let ws = workspace::open(root, &[]);
    let reader = FsReader {
        root: root.to_path_buf(),
    };
    let checked = pipeline::check_with(&ws, &reader, None, false);
    let cfg = env_compile_config(&ws, envr);
    let opts = env_compile_options(&ws, envr, &cfg);
    let mut by_name = std::collections::BTreeMap::new();
    for d in pipeline::compilable(&checked) {
        let art = crate::compile::compile_one(d, &opts);
        let text = std::fs::read_to_string(root.join(&d.path)).unwrap_or_default();
        let old = crate::yaml::parse(crate::source::FileId(0), &text)
            .root
            .map(|n| crate::yaml::to_json(&n))
            .unwrap_or_default();
        let mut keep = serde_json::Map::new();
        for k in VIGIL_KEYS {
            if let Some(v) = old.get(*k) {
                keep.insert((*k).to_string(), v.clone());
            }
        }
        let keep = if keep.is_empty() {
            String::new()
        } else {
            crate::deploy::export::yaml(&serde_json::Value::Object(keep))
        };
        let footer = if cfg.provenance_footer {
            crate::model::footer::footer(d.provenance(), d.review())
        } else {
            None
        };
        let stage = crate::rollout::effective(d, Some(&envr.name));
        let note = (stage != crate::model::Rollout::Active).then(|| {
            format!(
                "{}: rollout `{}` in `{}` rewrites the payload; update the file by hand",
                d.path.display(),
                crate::rollout::name(stage),
                envr.name
            )
        });
        by_name.insert(art.name.clone(), (d.path.clone(), keep, footer, note));
    }
    Ok(RepoItems { by_name })
}

/// Remove the compiled provenance footer from an exported YAML's description.
fn strip_footer(yaml_text: &str, footer: &str) -> String {
    let Some(root) = crate::yaml::parse(crate::source::FileId(0), yaml_text).root else {
        return yaml_text.to_string();
    };
    let mut v = crate::yaml::to_json(&root);
    let stripped = v
        .get("description")
        .and_then(|d| d.as_str())
        .and_then(|d| d.strip_suffix(footer))
        .map(str::to_string);
    match stripped {
        Some(d) => {
            v["description"] = serde_json::Value::String(d);
            crate::deploy::export::yaml(&v)
        }
        None => yaml_text.to_string(),
    }
}

pub fn export(g: &Global, a: ExportArgs) -> anyhow::Result<i32> {
    let (root, s) = match session(g, &a.env) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    let rt = runtime()?;
    let lives = match rt.block_on(s.observe_all()) {
        Ok(l) => l,
        Err(e) => return Ok(fail(&e.into())),
    };
    let several = s.env.workspaces.len() > 1;
    for (ws, live) in s.env.workspaces.iter().zip(&lives) {
        let base = g.paths(std::slice::from_ref(&a.out))?.remove(0);
        let dir = if several {
            base.join(format!("{}.{}", ws.resource_group, ws.name))
        } else {
            base
        };
        let ex = crate::deploy::export::export(live);
        let repo = if a.update {
            Some(repo_items(&root, &s.env)?)
        } else {
            None
        };
        let mut updated = 0usize;
        let mut notes = Vec::new();
        for ((rel, text), name) in ex.files.iter().zip(&ex.names) {
            let known = repo
                .as_ref()
                .and_then(|r| r.by_name.get(name.as_deref().unwrap_or("")));
            match known {
                Some((_, _, _, Some(note))) => notes.push(note.clone()),
                Some((path, keep, footer, None)) => {
                    // The provenance footer is compiled into the description; the file holds
                    // the description without it.
                    let mut body = match footer {
                        Some(f) => strip_footer(text, f),
                        None => text.clone(),
                    };
                    body.push_str(keep);
                    crate::emit::write_file(&root.join(path), &body)?;
                    updated += 1;
                }
                None => crate::emit::write_file(&dir.join(rel), text)?,
            }
        }
        if a.update && !g.quiet {
            out(&format!(
                "{}: {updated} file(s) updated in place\n",
                ws.label()
            ))?;
            for n in &notes {
                out(&format!("  not updated: {n}\n"))?;
            }
        }
        if !g.quiet {
            out(&format!(
                "{}: {} file(s) written to {}\n",
                ws.label(),
                ex.files.len(),
                drender::display_path(&dir)
            ))?;
            for sk in &ex.skipped {
                out(&format!("  skipped {sk}\n"))?;
            }
        }
    }
    Ok(0)
}

#[derive(Args, Debug)]
pub struct HealthArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The deployment to check (default: the latest successful apply of the environment).
    #[arg(long, value_name = "ID")]
    pub deployment: Option<String>,
    /// Seconds to wait for every rule's first run; rules without one are "unknown".
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub timeout: u64,
    /// Seconds between polls.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub interval: u64,
    /// Exit 0 when some rules are unknown (none failed or disabled).
    #[arg(long)]
    pub allow_unknown: bool,
    /// Also write the verdicts as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// `vigil health`: post-deploy health of the alert rules a deployment wrote.
pub fn health(g: &Global, a: HealthArgs) -> anyhow::Result<i32> {
    use crate::deploy::health::{self, HealthStatus};
    use crate::deploy::resource::{RType, ResKey};
    let (root, s) = match session(g, &a.env) {
        Ok(x) => x,
        Err(e) => return Ok(fail(&e)),
    };
    let rt = runtime()?;
    let lives = match rt.block_on(s.observe_all()) {
        Ok(l) => l,
        Err(e) => return Ok(fail(&DeployError::from(e))),
    };
    let mut records = apply::remote_records(&lives);
    records.extend(record::load_local(&root, &s.env.name));
    let records = record::merge(records);
    let rec = match &a.deployment {
        Some(id) => records.iter().find(|r| &r.id == id),
        None => records
            .iter()
            .filter(|r| r.kind == "apply" && r.status == record::Status::Succeeded)
            .max_by(|x, y| x.started.cmp(&y.started)),
    };
    let Some(rec) = rec else {
        return Ok(fail(
            &DeployError::new(
                code::DEP_ENVIRONMENT,
                match &a.deployment {
                    Some(id) => format!("no deployment {id} in `{}`", s.env.name),
                    None => format!("no successful apply recorded in `{}`", s.env.name),
                },
            )
            .hint("`vigil apply --env ENV --json FILE` prints the deployment id"),
        ));
    };
    let watched = health::watched(rec);
    let credential = match s.env.auth {
        Auth::None => match getenv("VIGIL_AZURE_TOKEN").filter(|t| !t.is_empty()) {
            Some(t) => Credential::Static(crate::azure::auth::Secret::new(t)),
            None => Credential::None,
        },
        Auth::Azure => match crate::azure::auth::from_env(&getenv) {
            Ok(c) => c,
            Err(m) => return Ok(fail(&DeployError::new(code::DEP_CREDENTIAL, m))),
        },
    };
    let client = crate::azure::Client::new(
        &s.env.query_endpoint,
        crate::azure::query::SCOPE,
        credential,
        s.env.concurrency.max(1),
        crate::azure::RetryPolicy::default(),
    );
    let deadline = Instant::now() + std::time::Duration::from_secs(a.timeout);
    let mut verdicts: Vec<Option<health::RuleHealth>> = vec![None; watched.len()];
    loop {
        for (i, w) in watched.iter().enumerate() {
            if verdicts[i].as_ref().is_some_and(|v| v.status.is_final()) {
                continue;
            }
            let Some(ws) = rec.workspaces.get(w.workspace_index).map(|x| &x.workspace) else {
                continue;
            };
            let key = ResKey::new(RType::AlertRule, &w.name);
            let live = match rt.block_on(s.read(ws, &key, &w.name)) {
                Ok(l) => l.map(|r| r.body["properties"]["enabled"].as_bool()),
                Err(e) => return Ok(fail(&DeployError::from(e))),
            };
            let workspace_id = match &ws.workspace_id {
                Some(id) => Some(id.clone()),
                None if s.env.emulator => Some(crate::emulator::workspace_guid(
                    &ws.subscription,
                    &ws.resource_group,
                    &ws.name,
                )),
                None => None,
            };
            let last = match workspace_id {
                Some(id) => {
                    let q = health::health_query(&w.name, &rec.started);
                    match rt.block_on(crate::azure::query::query(&client, &id, &q, None, false)) {
                        Ok(r) => r.tables.first().and_then(|t| {
                            let col = |n: &str| t.columns.iter().position(|(c, _)| c == n);
                            let row = t.rows.first()?;
                            let get = |n: &str| {
                                col(n)
                                    .and_then(|i| row.get(i))
                                    .and_then(|v| v.as_str())
                                    .unwrap_or("")
                                    .to_string()
                            };
                            Some((get("Status"), get("Description")))
                        }),
                        Err(e) => return Ok(fail(&DeployError::from(e))),
                    }
                }
                None => None,
            };
            verdicts[i] = Some(health::judge(
                w,
                live,
                last.as_ref().map(|(s, d)| (s.as_str(), d.as_str())),
            ));
        }
        let done = verdicts
            .iter()
            .all(|v| v.as_ref().is_some_and(|v| v.status.is_final()));
        if done || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(a.interval.max(1)).min(
            deadline.saturating_duration_since(Instant::now())
                + std::time::Duration::from_millis(1),
        ));
    }
    let verdicts: Vec<health::RuleHealth> = verdicts.into_iter().flatten().collect();
    let count = |st: HealthStatus| verdicts.iter().filter(|v| v.status == st).count();
    let mut text = String::new();
    for v in &verdicts {
        text.push_str(&format!(
            "{:<8} {} ({}) in {}: {}\n",
            v.status.as_str(),
            v.display_name,
            v.name,
            v.workspace,
            v.detail
        ));
    }
    text.push_str(&format!(
        "deployment {}: {} rule(s): {} healthy, {} failed, {} disabled, {} unknown\n",
        rec.id,
        verdicts.len(),
        count(HealthStatus::Healthy),
        count(HealthStatus::Failed),
        count(HealthStatus::Disabled),
        count(HealthStatus::Unknown)
    ));
    out(&text)?;
    if let Some(p) = &a.json {
        let p = &g.paths(std::slice::from_ref(p))?[0];
        crate::emit::write_file(
            p,
            &serde_json::to_string_pretty(&serde_json::json!({
                "deployment": rec.id, "environment": s.env.name, "rules": verdicts,
            }))?,
        )?;
    }
    let bad = count(HealthStatus::Failed) + count(HealthStatus::Disabled);
    let unknown = count(HealthStatus::Unknown);
    Ok(if bad > 0 || (unknown > 0 && !a.allow_unknown) {
        1
    } else {
        0
    })
}
