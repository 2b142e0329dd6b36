//! `vigil apply`: make an environment's workspaces match the content; restores them on failure.

use super::deploy::{desired, recover_then_plan, runtime, Applied};
use super::{Context, OpError};
use crate::deploy::{apply as run, plan};

#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    pub env: String,
    /// Apply the content at this git ref; default: the work tree.
    pub reference: Option<String>,
    /// On failure, leave the workspaces as they are instead of restoring them.
    pub no_rollback: bool,
    /// Allow this many deletions (default: the environment's `max_deletions`).
    pub max_deletions: Option<usize>,
}

pub fn apply(cx: &Context, o: &ApplyOptions) -> Result<Applied, OpError> {
    let started = std::time::Instant::now();
    let s = cx.session(&o.env)?;
    let d = desired(cx, o.reference.as_deref(), &s.env, true)?;
    let rt = runtime()?;
    let r = rt.block_on(recover_then_plan(&s, &d.artifacts))?;
    let mut out = Applied {
        env_name: s.env.name.clone(),
        plans: r.plans,
        problems: r.problems,
        recovered: r.recovered,
        report: None,
        requests: [0; 5],
        seconds: 0.0,
    };
    if !out.problems.is_empty() || plan::Totals::of(&out.plans).changes() == 0 {
        return Ok(out);
    }
    let opts = run::ApplyOptions {
        no_rollback: o.no_rollback,
        max_deletions: o.max_deletions.unwrap_or(s.env.max_deletions),
        kind: "apply",
        source: Some(o.reference.clone().unwrap_or_else(|| "work tree".into())),
        commit: d
            .commit
            .or_else(|| crate::git::commit_of(&cx.root, "HEAD").ok()),
    };
    let progress = cx.progress("apply", plan::Totals::of(&out.plans).changes() as u64);
    let rep = rt.block_on(run::apply(&s, &out.plans, &opts));
    progress.finish();
    out.report = Some(rep);
    out.requests = s.arm.stats.snapshot();
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}
