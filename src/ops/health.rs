//! `vigil health`: after an apply, wait for each alert rule the deployment wrote to run, and
//! check it ran without error and is still enabled (`SentinelHealth` through the query API).
//! A rule with no run by the timeout is "unknown", never "healthy".

use std::time::{Duration, Instant};

use super::deploy::runtime;
use super::{Context, OpError};
use crate::deploy::health::{self, HealthStatus, RuleHealth};
use crate::deploy::resource::{RType, ResKey};
use crate::deploy::{apply, record, DeployError};
use crate::diagnostics::code;

#[derive(Clone, Debug)]
pub struct HealthOptions {
    pub env: String,
    /// The deployment to check (default: the latest successful apply of the environment).
    pub deployment: Option<String>,
    /// How long to wait for every rule's first run.
    pub timeout: Duration,
    /// Time between polls.
    pub interval: Duration,
}

pub struct HealthOutcome {
    pub deployment: String,
    pub env_name: String,
    pub verdicts: Vec<RuleHealth>,
}

impl HealthOutcome {
    pub fn count(&self, st: HealthStatus) -> usize {
        self.verdicts.iter().filter(|v| v.status == st).count()
    }
}

pub fn health(cx: &Context, o: &HealthOptions) -> Result<HealthOutcome, OpError> {
    let s = cx.session(&o.env)?;
    let rt = runtime()?;
    let lives = rt.block_on(s.observe_all())?;
    let mut records = apply::remote_records(&lives);
    records.extend(record::load_local(&cx.root, &s.env.name));
    let records = record::merge(records);
    let rec = match &o.deployment {
        Some(id) => records.iter().find(|r| &r.id == id),
        None => records
            .iter()
            .filter(|r| r.kind == "apply" && r.status == record::Status::Succeeded)
            .max_by(|x, y| x.started.cmp(&y.started)),
    };
    let Some(rec) = rec else {
        return Err(DeployError::new(
            code::DEP_ENVIRONMENT,
            match &o.deployment {
                Some(id) => format!("no deployment {id} in `{}`", s.env.name),
                None => format!("no successful apply recorded in `{}`", s.env.name),
            },
        )
        .hint("`vigil apply --env ENV --json FILE` prints the deployment id")
        .into());
    };
    let watched = health::watched(rec);
    let client = cx.query_client(&s.env)?;
    let deadline = Instant::now() + o.timeout;
    let mut verdicts: Vec<Option<RuleHealth>> = vec![None; watched.len()];
    loop {
        for (i, w) in watched.iter().enumerate() {
            if verdicts[i].as_ref().is_some_and(|v| v.status.is_final()) {
                continue;
            }
            let Some(ws) = rec.workspaces.get(w.workspace_index).map(|x| &x.workspace) else {
                continue;
            };
            let key = ResKey::new(RType::AlertRule, &w.name);
            let live = rt
                .block_on(s.read(ws, &key, &w.name))
                .map_err(DeployError::from)?
                .map(|r| r.body["properties"]["enabled"].as_bool());
            let workspace_id = super::deploy::query_workspace_id(ws, s.env.emulator);
            let last = match workspace_id {
                Some(id) => {
                    let q = health::health_query(&w.name, &rec.started);
                    let r = rt
                        .block_on(crate::azure::query::query(&client, &id, &q, None, false))
                        .map_err(DeployError::from)?;
                    r.tables.first().and_then(|t| {
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
                    })
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
        std::thread::sleep(
            o.interval
                .max(Duration::from_secs(1))
                .min(deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(1)),
        );
    }
    Ok(HealthOutcome {
        deployment: rec.id.clone(),
        env_name: s.env.name.clone(),
        verdicts: verdicts.into_iter().flatten().collect(),
    })
}
