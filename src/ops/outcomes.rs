//! `vigil outcomes`: incident outcomes per rule, per content version, per rollout stage and
//! model, read through each workspace's query API (three queries per workspace); the figures
//! are computed in [`crate::outcomes`].

use super::deploy::{desired, query_workspace_id, runtime};
use super::{Context, OpError};
use crate::deploy::{apply, record};
use crate::outcomes::*;

#[derive(Clone, Debug)]
pub struct OutcomesOptions {
    pub env: String,
    /// The window, e.g. `30d`, `12h`, `90m`.
    pub since: String,
    /// Rule ids, display names or file paths to report (default: every rule).
    pub rules: Vec<String>,
}

pub fn outcomes(cx: &Context, o: &OutcomesOptions) -> Result<OutcomesReport, OpError> {
    let secs = parse_since(&o.since).map_err(OpError::usage)?;
    let window = secs as i64 * crate::datetime::SECOND;
    let since_kql = format_kusto_timespan(secs);
    let s = cx.session(&o.env)?;
    let d = desired(cx, None, &s.env, false)?;
    let mut rules: Vec<ManagedRule> = d
        .artifacts
        .iter()
        .filter(|a| a.content_kind == crate::model::ContentKind::Rule)
        .map(|a| ManagedRule {
            id: a.name.clone(),
            display_name: a.display_name.clone(),
            source: a.source.clone(),
            stage: a
                .rollout
                .as_ref()
                .map(|r| r.stage.to_string())
                .unwrap_or_else(|| "active".into()),
            origin: a
                .provenance
                .as_ref()
                .map(|p| p.origin.to_string())
                .unwrap_or_else(|| "unspecified".into()),
            model: a.provenance.as_ref().and_then(|p| p.model.clone()),
            version: version_of(
                a.resource.body["properties"]["query"]
                    .as_str()
                    .unwrap_or(""),
            ),
        })
        .collect();
    if !o.rules.is_empty() {
        let unmatched: Vec<&String> = o
            .rules
            .iter()
            .filter(|w| {
                !rules.iter().any(|r| {
                    r.id.eq_ignore_ascii_case(w) || r.display_name == **w || r.source == **w
                })
            })
            .collect();
        if let Some(w) = unmatched.first() {
            return Err(OpError::usage(format!(
                "`{w}` is not a rule this repository deploys to `{}` (give an id, a display name or a file)",
                s.env.name
            )));
        }
        rules.retain(|r| {
            o.rules
                .iter()
                .any(|w| r.id.eq_ignore_ascii_case(w) || r.display_name == *w || r.source == *w)
        });
    }
    let rt = runtime()?;
    let client = cx.query_client(&s.env)?;
    let mut records = record::load_local(&cx.root, &s.env.name);
    if let Ok(lives) = rt.block_on(s.observe_all()) {
        records.extend(apply::remote_records(&lives));
    }
    let deployed = deployed_versions(&record::merge(records));
    let days = window as f64 / crate::datetime::DAY as f64;
    let mut all = Vec::new();
    let mut unknown = Vec::new();
    for ws in &s.env.workspaces {
        let label = ws.label();
        let Some(id) = query_workspace_id(ws, s.env.emulator) else {
            unknown.push(Unknown {
                workspace: label,
                reason: "the workspace id (customer id) is not configured, so its logs cannot be queried".into(),
            });
            continue;
        };
        let mut tables = Vec::new();
        let mut failed = None;
        for t in [INCIDENTS_KQL, ALERTS_KQL, HEALTH_KQL] {
            let q = kql(t, &since_kql);
            match rt.block_on(crate::azure::query::query(&client, &id, &q, None, false)) {
                Ok(r) if r.partial_error.is_some() => {
                    failed = r.partial_error;
                    break;
                }
                Ok(r) => tables.push(r.tables.into_iter().next().unwrap_or(
                    crate::azure::query::Table {
                        name: String::new(),
                        columns: Vec::new(),
                        rows: Vec::new(),
                    },
                )),
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            }
        }
        if let Some(reason) = failed {
            unknown.push(Unknown {
                workspace: label,
                reason,
            });
            continue;
        }
        let mut data = parse_workspace(&tables[0], &tables[1], &tables[2]);
        data.deployed = deployed.clone();
        all.extend(compute(&label, &rules, &data, days));
    }
    Ok(report(&s.env.name, &o.since, all, unknown))
}
