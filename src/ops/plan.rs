//! `vigil plan`: what `apply` would change in an environment's workspaces.

use super::deploy::{desired, observe_and_plan, runtime};
use super::{Context, OpError};
use crate::deploy::plan::{self, WorkspacePlan};
use crate::deploy::DeployError;

#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    pub env: String,
    /// Plan the content at this git ref (read without a checkout); default: the work tree.
    pub reference: Option<String>,
}

pub struct PlanOutcome {
    pub env_name: String,
    pub plans: Vec<WorkspacePlan>,
    /// Rules that do not bind in a workspace's committed catalog (exit 1).
    pub problems: Vec<DeployError>,
    /// Deployments found interrupted: (id, status).
    pub interrupted: Vec<(String, String)>,
    /// The plan as JSON (`--format json`, `--json FILE`, and the Markdown template's input).
    pub report: serde_json::Value,
}

impl PlanOutcome {
    pub fn changes(&self) -> usize {
        plan::Totals::of(&self.plans).changes()
    }
}

pub fn plan(cx: &Context, o: &PlanOptions) -> Result<PlanOutcome, OpError> {
    let s = cx.session(&o.env)?;
    let d = desired(cx, o.reference.as_deref(), &s.env, true)?;
    let rt = runtime()?;
    let obs = rt.block_on(observe_and_plan(&s, &d.artifacts))?;
    let report = crate::deploy::render::report(&s.env.name, &obs.plans, &obs.problems);
    Ok(PlanOutcome {
        env_name: s.env.name.clone(),
        interrupted: obs
            .records
            .iter()
            .filter(|r| r.status.incomplete())
            .map(|r| (r.id.clone(), r.status.as_str().to_string()))
            .collect(),
        plans: obs.plans,
        problems: obs.problems,
        report,
    })
}

/// The plan report rendered with the Markdown template (`templates/plan.md.hbs` overrides it).
pub fn markdown(cx: &Context, report: &serde_json::Value) -> Result<String, OpError> {
    cx.templates()?
        .render(crate::compile::templates::PLAN, report)
        .map_err(OpError::internal)
}
