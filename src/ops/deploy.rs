//! What the deploy operations (plan, apply, rollback, export, health, gate's trusted stage)
//! share: the desired content at a ref, observing and planning every workspace, recovering
//! interrupted deployments.

use crate::compile::Artifact;
use crate::deploy::env::Environment;
use crate::deploy::plan::{self, WorkspacePlan};
use crate::deploy::{apply, catalog, env, record, DeployError, Session};
use crate::diagnostics::code;
use crate::model::load::SiblingReader;
use crate::pipeline;
use crate::workspace::Workspace;

use super::{Context, OpError};

/// A current-thread tokio runtime for the async deploy code.
pub fn runtime() -> Result<tokio::runtime::Runtime, OpError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| OpError::internal(format!("starting the async runtime: {e}")))
}

/// The compile settings for an environment: the repository's, with the environment's
/// api-versions.
pub fn env_compile_config(
    config: &crate::config::Config,
    envr: &Environment,
) -> crate::config::CompileConfig {
    let mut cfg = config.compile.clone();
    cfg.api_versions = envr.api_versions.clone();
    cfg
}

/// Compiled artifacts and the commit they came from.
pub struct Desired {
    pub artifacts: Vec<Artifact>,
    pub commit: Option<String>,
}

/// Content at a ref or in the work tree: the workspace, the reader of files beside
/// definitions, and the commit (for a ref).
pub struct Content {
    pub ws: Workspace,
    pub siblings: Box<dyn SiblingReader>,
    pub commit: Option<String>,
}

/// The content at a ref (read through git, no checkout) or in the work tree.
pub fn content_at(cx: &Context, reference: Option<&str>) -> Result<Content, OpError> {
    Ok(match reference {
        Some(r) => {
            let (ws, src, c) = crate::git::workspace_at(&cx.root, r)?;
            Content {
                ws,
                siblings: Box::new(src),
                commit: Some(c),
            }
        }
        None => Content {
            ws: cx.workspace(),
            siblings: Box::new(cx.siblings()),
            commit: None,
        },
    })
}

/// Desired content compiled for an environment. `strict`: with KQL analysis (plan, apply);
/// without (an emergency rollback checks Sentinel's hard limits only, no policy). Errors in
/// the content stop the command: deploying the rest would delete what failed.
pub fn desired(
    cx: &Context,
    reference: Option<&str>,
    envr: &Environment,
    strict: bool,
) -> Result<Desired, OpError> {
    let Content {
        ws,
        siblings,
        commit,
    } = content_at(cx, reference)?;
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, siblings.as_ref());
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
        let n = errors.len();
        return Err(OpError::invalid(
            format!("{n} definition error(s); nothing was planned or deployed (fix them, then run again)"),
            ws.db,
            errors,
        ));
    }
    let cfg = env_compile_config(&ws.config, envr);
    let opts = crate::compile::Options::for_env(&ws.config, &cfg, Some(&envr.name));
    let artifacts = pipeline::compilable(&checked)
        .iter()
        .map(|d| crate::compile::compile_one(d, &opts))
        .collect();
    Ok(Desired { artifacts, commit })
}

/// Live state per workspace, the plans, the problems (rules that do not bind in a workspace's
/// committed catalog) and the deployment records found.
pub struct Observed {
    pub lives: Vec<plan::Live>,
    pub plans: Vec<WorkspacePlan>,
    pub problems: Vec<DeployError>,
    pub records: Vec<record::Record>,
}

/// Observe and plan every workspace of the session's environment.
pub async fn observe_and_plan(
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
    Ok(Observed {
        lives,
        plans,
        problems,
        records,
    })
}

/// Plans after recovering interrupted deployments (their ids in `recovered`).
pub struct Recovered {
    pub plans: Vec<WorkspacePlan>,
    pub problems: Vec<DeployError>,
    pub recovered: Vec<String>,
}

/// Recover interrupted deployments, then plan anew.
pub async fn recover_then_plan(
    s: &Session,
    artifacts: &[Artifact],
) -> Result<Recovered, DeployError> {
    let o = observe_and_plan(s, artifacts).await?;
    if !o.records.iter().any(|r| r.status.incomplete())
        && record::load_local(&s.root, &s.env.name)
            .iter()
            .all(|r| !r.status.incomplete())
    {
        return Ok(Recovered {
            plans: o.plans,
            problems: o.problems,
            recovered: Vec::new(),
        });
    }
    let recovered = apply::recover(s, o.records).await?;
    let o = observe_and_plan(s, artifacts).await?;
    Ok(Recovered {
        plans: o.plans,
        problems: o.problems,
        recovered,
    })
}

/// What an apply or rollback did, with the client's request counts.
pub struct Applied {
    pub env_name: String,
    pub plans: Vec<WorkspacePlan>,
    /// Rules that do not bind in a workspace: nothing was deployed.
    pub problems: Vec<DeployError>,
    /// Interrupted deployments restored before this run.
    pub recovered: Vec<String>,
    /// `None` when there was nothing to do (or problems stopped it).
    pub report: Option<apply::ApplyReport>,
    /// Requests, throttled, server errors, transport errors, retries.
    pub requests: [u64; 5],
    pub seconds: f64,
}

impl Applied {
    /// The apply's JSON result (for `--json FILE`).
    pub fn json(&self) -> serde_json::Value {
        let st = self.requests;
        let rep = self.report.as_ref();
        serde_json::json!({
            "deployment": rep.map(|r| r.record.id.clone()),
            "status": rep.map(|r| r.record.status.as_str()),
            "error": rep.and_then(|r| r.error.as_ref().map(|e| e.to_string())),
            "restored": rep.map(|r| r.restored),
            "writes": rep.map(|r| r.writes),
            "requests": st[0],
            "throttled": st[1],
            "serverErrors": st[2],
            "transportErrors": st[3],
            "retries": st[4],
            "seconds": self.seconds,
            "plan": crate::deploy::render::report(&self.env_name, &self.plans, &[]),
        })
    }

    /// Whether the apply failed (a problem, or an error in the report).
    pub fn failed(&self) -> bool {
        !self.problems.is_empty() || self.report.as_ref().is_some_and(|r| r.error.is_some())
    }
}

/// The id (customer id) the query API knows a workspace by: configured, or derived by the
/// emulator from the workspace's path.
/// The table plans `vigil schema pull` recorded for a workspace (absent: every table
/// Analytics).
pub fn table_plans(
    root: &std::path::Path,
    env: &str,
    ws: &crate::config::Workspace,
) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(crate::deploy::env::catalog_file(root, env, ws))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|v| crate::cost::plans(&v))
        .unwrap_or_default()
}

pub fn query_workspace_id(ws: &crate::config::Workspace, emulator: bool) -> Option<String> {
    match &ws.workspace_id {
        Some(id) => Some(id.clone()),
        None if emulator => Some(crate::emulator::workspace_guid(
            &ws.subscription,
            &ws.resource_group,
            &ws.name,
        )),
        None => None,
    }
}
