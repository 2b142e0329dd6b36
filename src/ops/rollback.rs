//! `vigil rollback`: the state recorded before a deployment (undoing later ones too), or the
//! content of a git ref (Sentinel's limits only, no lints or policy).

use super::deploy::{desired, recover_then_plan, runtime, Applied};
use super::{Context, OpError};
use crate::deploy::{apply as run, plan, record, DeployError};

#[derive(Clone, Debug, Default)]
pub struct RollbackOptions {
    pub env: String,
    /// A deployment id or a git ref.
    pub to: String,
    pub no_rollback: bool,
    /// Allow this many deletions (default: unlimited for a deployment id, the environment's
    /// `max_deletions` for a ref).
    pub max_deletions: Option<usize>,
}

/// Whether `s` is a deployment id (`YYYYMMDDTHHMMSSZ-hhhhhh`) rather than a git ref.
pub fn is_deployment_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
        && b[17..].iter().all(u8::is_ascii_hexdigit)
}

pub fn rollback(cx: &Context, o: &RollbackOptions) -> Result<Applied, OpError> {
    let started = std::time::Instant::now();
    let s = cx.session(&o.env)?;
    let rt = runtime()?;
    if !is_deployment_id(&o.to) {
        // An emergency rollback to a ref: Sentinel's hard limits only, no lints or policy.
        let d = desired(cx, Some(&o.to), &s.env, false)?;
        let r = rt.block_on(recover_then_plan(&s, &d.artifacts))?;
        let opts = run::ApplyOptions {
            no_rollback: o.no_rollback,
            max_deletions: o.max_deletions.unwrap_or(s.env.max_deletions),
            kind: "rollback",
            source: Some(o.to.clone()),
            commit: d.commit,
        };
        let rep = rt.block_on(run::apply(&s, &r.plans, &opts));
        return Ok(Applied {
            env_name: s.env.name.clone(),
            plans: r.plans,
            problems: Vec::new(),
            recovered: r.recovered,
            report: Some(rep),
            requests: s.arm.stats.snapshot(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let plans = rt.block_on(async {
        let lives = s.observe_all().await?;
        let remote = run::remote_records(&lives);
        let lives = if remote.iter().any(|r| r.status.incomplete())
            || record::load_local(&s.root, &s.env.name)
                .iter()
                .any(|r| r.status.incomplete())
        {
            run::recover(&s, remote).await?;
            s.observe_all().await?
        } else {
            lives
        };
        let mut all = run::remote_records(&lives);
        all.extend(record::load_local(&s.root, &s.env.name));
        let all = record::merge(all);
        let per_ws = crate::deploy::rollback_targets(&all, &o.to)?;
        let mut plans = Vec::new();
        for (ws, live) in s.env.workspaces.iter().zip(&lives) {
            let changes = per_ws.get(ws).cloned().unwrap_or_default();
            let scope: std::collections::BTreeSet<_> = changes.keys().cloned().collect();
            let (targets, _) = crate::deploy::prior_targets(&changes);
            plans.push(plan::plan_scoped(ws, targets, live, &s.owner, Some(&scope)));
        }
        Ok::<_, DeployError>(plans)
    })?;
    let mut out = Applied {
        env_name: s.env.name.clone(),
        plans,
        problems: Vec::new(),
        recovered: Vec::new(),
        report: None,
        requests: [0; 5],
        seconds: 0.0,
    };
    if plan::Totals::of(&out.plans).changes() == 0 {
        return Ok(out);
    }
    let opts = run::ApplyOptions {
        no_rollback: o.no_rollback,
        max_deletions: o.max_deletions.unwrap_or(usize::MAX),
        kind: "rollback",
        source: Some(o.to.clone()),
        commit: None,
    };
    out.report = Some(rt.block_on(run::apply(&s, &out.plans, &opts)));
    out.requests = s.arm.stats.snapshot();
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}
