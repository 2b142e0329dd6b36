//! `vigil guard`: circuit breakers over each rule's outcomes. Without `apply` it reports which
//! breakers trip; with `apply` it writes each demotion or disablement into the rule's file (the
//! environment override and a `guard_trip:` record) and deploys exactly those rules through the
//! deploy pipeline as a deployment of kind `guard` (recorded, read back, reversible with
//! `vigil rollback --to ID`). Rules of a workspace that could not be read are never judged.

use serde_json::json;

use super::deploy::{desired, recover_then_plan, runtime, Applied};
use super::outcomes::{outcomes, OutcomesOptions};
use super::{Context, OpError};
use crate::config::GuardAction;
use crate::deploy::{apply as run, plan};
use crate::guard::{self, Current, Trip};
use crate::model::Item;
use crate::outcomes::Unknown;
use crate::yaml::edit::{self, Value};

#[derive(Clone, Debug, Default)]
pub struct GuardOptions {
    pub env: String,
    /// The window (default `[policy.guard] window`).
    pub since: Option<String>,
    /// Act: write the files and deploy.
    pub apply: bool,
}

pub struct GuardOutcome {
    pub env_name: String,
    pub window: String,
    pub trips: Vec<Trip>,
    pub unknown: Vec<Unknown>,
    /// Rules judged.
    pub judged: usize,
    /// Files written (`apply`).
    pub files: Vec<String>,
    /// The deployment (`apply`, when something changed).
    pub applied: Option<Applied>,
    /// One audit line per trip (`apply`).
    pub audit: Vec<serde_json::Value>,
}

impl GuardOutcome {
    pub fn json(&self) -> serde_json::Value {
        json!({
            "environment": self.env_name,
            "window": self.window,
            "judged": self.judged,
            "trips": self.trips,
            "unknown": self.unknown,
            "files": self.files,
            "deployment": self.applied.as_ref().and_then(|a| a.report.as_ref()).map(|r| r.record.id.clone()),
            "audit": self.audit,
        })
    }
}

pub fn guard(cx: &Context, o: &GuardOptions) -> Result<GuardOutcome, OpError> {
    let policy = cx.config.policy.guard.clone();
    let window = o.since.clone().unwrap_or(policy.window.clone());
    let report = outcomes(
        cx,
        &OutcomesOptions {
            env: o.env.clone(),
            since: window.clone(),
            rules: Vec::new(),
        },
    )?;
    let ws = cx.workspace();
    let checked = crate::pipeline::check(&ws, &cx.siblings(), None);
    let rule_of = |id: &str| {
        checked.definitions.iter().find_map(|d| match &d.item {
            Item::Rule(r) if r.id.eq_ignore_ascii_case(id) => Some((d, r)),
            _ => None,
        })
    };
    let mut trips: Vec<Trip> = Vec::new();
    for r in &report.rules {
        let Some((_, rule)) = rule_of(&r.rule) else {
            continue;
        };
        let over = rule
            .environments
            .as_ref()
            .and_then(|e| e.get(&report.environment));
        let current = Current {
            shadow: r.stage == "shadow",
            disabled: over.and_then(|o| o.enabled).or(rule.enabled) == Some(false),
        };
        let limits = guard::limits(&policy, rule.guard.as_ref());
        // One trip per rule and environment: its file holds one override per environment.
        if trips.iter().any(|t| t.rule == r.rule) {
            continue;
        }
        if let Some(t) = guard::judge(r, &limits, current) {
            trips.push(t);
        }
    }
    let mut out = GuardOutcome {
        env_name: report.environment.clone(),
        window: window.clone(),
        judged: report.rules.len(),
        trips,
        unknown: report.unknown.clone(),
        files: Vec::new(),
        applied: None,
        audit: Vec::new(),
    };
    if !o.apply || out.trips.is_empty() {
        return Ok(out);
    }
    let at = crate::clock::now_rfc3339();
    let env = out.env_name.clone();
    // Git first: the files say what the workspace is about to become.
    let mut originals = Vec::new();
    for t in &out.trips {
        let Some((d, _)) = rule_of(&t.rule) else {
            continue;
        };
        let path = cx.root.join(&d.path);
        let text = std::fs::read_to_string(&path)?;
        let path_in = ["environments", env.as_str()];
        let (key, value) = match t.action {
            GuardAction::Demote => ("rollout", "shadow"),
            GuardAction::Disable => ("enabled", "false"),
        };
        let trip_value = Value::Map(vec![
            ("breaker".into(), Value::Scalar(t.breaker.into())),
            (
                "action".into(),
                Value::Scalar(
                    match t.action {
                        GuardAction::Demote => "demote",
                        GuardAction::Disable => "disable",
                    }
                    .into(),
                ),
            ),
            (
                "observed".into(),
                Value::Map(
                    t.observed
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Scalar(v.to_string())))
                        .collect(),
                ),
            ),
            ("window".into(), Value::Scalar(quote(&window))),
            ("at".into(), Value::Scalar(quote(&at))),
        ]);
        let new = edit::set(&text, &path_in, key, &Value::Scalar(value.into()))
            .and_then(|t2| edit::set(&t2, &path_in, "guard_trip", &trip_value))
            .map_err(|e| {
                OpError::failed(format!(
                    "{}: cannot write the guard's change: {e}",
                    d.path.display()
                ))
            })?;
        std::fs::write(&path, &new)?;
        originals.push((path, text));
        out.files.push(d.path.display().to_string());
    }
    // Then the workspace, through the deploy pipeline, for exactly these rules.
    let deployed = (|| -> Result<Applied, OpError> {
        let s = cx.session(&env)?;
        let d = desired(cx, None, &s.env, false)?;
        let rt = runtime()?;
        let r = rt.block_on(recover_then_plan(&s, &d.artifacts))?;
        let names: Vec<String> = out
            .trips
            .iter()
            .map(|t| t.rule.to_ascii_lowercase())
            .collect();
        let mut plans = r.plans;
        for p in &mut plans {
            p.changes
                .retain(|c| names.contains(&c.name.to_ascii_lowercase()));
            p.unmanaged.clear();
        }
        let mut applied = Applied {
            env_name: s.env.name.clone(),
            plans,
            problems: r.problems,
            recovered: r.recovered,
            report: None,
            requests: [0; 5],
            seconds: 0.0,
        };
        if plan::Totals::of(&applied.plans).changes() == 0 {
            return Ok(applied);
        }
        let opts = run::ApplyOptions {
            no_rollback: false,
            max_deletions: 0,
            kind: "guard",
            source: Some(format!("vigil guard --env {env}")),
            commit: crate::git::commit_of(&cx.root, "HEAD").ok(),
        };
        let rep = rt.block_on(run::apply(&s, &applied.plans, &opts));
        applied.report = Some(rep);
        applied.requests = s.arm.stats.snapshot();
        Ok(applied)
    })();
    let applied = match deployed {
        Ok(a) if !a.failed() => a,
        failed => {
            // All or nothing: the files go back to what they said.
            for (p, text) in &originals {
                let _ = std::fs::write(p, text);
            }
            out.files.clear();
            return match failed {
                Err(e) => Err(e),
                Ok(a) => Err(OpError::failed(format!(
                    "the guard's deployment failed and was restored; the files are unchanged: {}",
                    a.report
                        .as_ref()
                        .and_then(|r| r.error.as_ref().map(|e| e.to_string()))
                        .or_else(|| a.problems.first().map(|p| p.to_string()))
                        .unwrap_or_default()
                ))),
            };
        }
    };
    let deployment = applied.report.as_ref().map(|r| r.record.id.clone());
    if let Some(id) = &deployment {
        for (p, _) in &originals {
            let text = std::fs::read_to_string(p)?;
            let path_in = ["environments", env.as_str()];
            if let Ok(t) = edit::set(
                &text,
                &[path_in[0], path_in[1], "guard_trip"],
                "deployment",
                &Value::Scalar(quote(id)),
            ) {
                std::fs::write(p, t)?;
            }
        }
    }
    for t in &out.trips {
        out.audit.push(json!({
            "recorded_at": at,
            "vigil_version": env!("CARGO_PKG_VERSION"),
            "kind": "guard",
            "environment": env,
            "workspace": t.workspace,
            "rule": t.rule,
            "path": t.source,
            "breaker": t.breaker,
            "action": t.action,
            "observed": t.observed,
            "limit": t.limit,
            "window": window,
            "deployment": deployment,
        }));
    }
    out.applied = Some(applied);
    Ok(out)
}

/// A string as a single-quoted YAML scalar.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
