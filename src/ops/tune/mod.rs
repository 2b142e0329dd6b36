//! `vigil tune rule ID --env E`: exclusions for a noisy rule from its incident outcomes,
//! backtested before they are proposed, written into the repository with `--write` (`crate::tune`
//! decides; this file fetches and writes).
//!
//! The window's events are fetched once (the rule's tables through the environment's query API,
//! a day per request, capped by `[tune] max_fetch_rows`; or `--data DIR` of exported JSON Lines)
//! and both queries are replayed locally on the rule's schedule: never a query per run against
//! the service, which throttles per user.

mod anomaly;

pub use anomaly::{TuneAnomalyOptions, TuneAnomalyOutcome};

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use super::{Context, OpError};
use crate::config::ExclusionForm;
use crate::engine::value::{format_datetime, DAY};
use crate::model::{Definition, Item, Rule};
use crate::outcomes::{format_kusto_timespan, parse_since, ALERTS_KQL, INCIDENTS_KQL};
use crate::tune::{self, Backtest, ClosedIncident, Exclusion, Form};

#[derive(Clone, Debug, Default)]
pub struct TuneRuleOptions {
    /// The rule: its id, display name or file.
    pub rule: String,
    pub env: String,
    /// `30d`, `12h`, ...
    pub since: String,
    pub write: bool,
    /// Replay over these exported events (JSON Lines per table) instead of fetching them.
    pub data: Option<PathBuf>,
    pub allow_tp_loss: bool,
    pub no_tp_evidence_ok: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TuneRuleOutcome {
    pub rule: String,
    pub name: String,
    pub path: String,
    pub environment: String,
    pub since: String,
    /// Closed incidents of the rule in the window, by classification.
    pub closed: BTreeMap<String, usize>,
    pub exclusions: Vec<Exclusion>,
    /// `watchlist` or `inline`.
    pub form: &'static str,
    pub tuned_query: Option<String>,
    /// `vigil hash` of the tuned query (for the reviewer's `review.query_sha256`).
    pub tuned_query_sha256: Option<String>,
    pub backtest: Option<Backtest>,
    /// Event rows the backtest replayed over.
    pub events: usize,
    /// Why nothing is proposed or written (None: a proposal).
    pub refused: Option<String>,
    pub written: Vec<PathBuf>,
}

/// The definition of `kind` a user names by id, display name or file.
pub(super) fn find<'a>(
    defs: &'a [Definition],
    cx: &Context,
    kind: crate::model::ContentKind,
    w: &str,
) -> Result<&'a Definition, OpError> {
    defs.iter()
        .find(|d| {
            d.kind() == kind
                && (d.resource_name().eq_ignore_ascii_case(w)
                    || d.name() == w
                    || d.path == std::path::Path::new(w)
                    || cx.path(std::path::Path::new(w)) == cx.root.join(&d.path))
        })
        .ok_or_else(|| {
            OpError::usage(format!(
                "`{w}` is not {} of this repository (give its id, display name or file)",
                match kind {
                    crate::model::ContentKind::Anomaly => "an anomaly setting",
                    _ => "an analytics rule",
                }
            ))
        })
}

/// A dynamic cell as JSON (an array, or JSON in a string).
fn json_cell(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

fn column(t: &crate::azure::query::Table, name: &str) -> Option<usize> {
    t.columns.iter().position(|c| c.0 == name)
}

fn empty_table() -> crate::azure::query::Table {
    crate::azure::query::Table {
        name: String::new(),
        columns: Vec::new(),
        rows: Vec::new(),
    }
}

/// The environment's first workspace through its query API.
pub(super) struct Workspace {
    env: String,
    id: String,
    client: crate::azure::Client,
    rt: tokio::runtime::Runtime,
}

impl Workspace {
    pub(super) fn open(cx: &Context, env: &str) -> Result<Workspace, OpError> {
        let s = cx.session(env)?;
        let w = s
            .env
            .workspaces
            .first()
            .ok_or_else(|| OpError::usage(format!("--env {env}: no workspace")))?
            .clone();
        let id = super::deploy::query_workspace_id(&w, s.env.emulator).ok_or_else(|| {
            OpError::usage(format!(
                "--env {env}: tuning needs the workspace id (customer id) of {}",
                w.label()
            ))
        })?;
        Ok(Workspace {
            env: env.to_string(),
            id,
            client: cx.query_client(&s.env)?,
            rt: super::deploy::runtime()?,
        })
    }

    pub(super) fn query(
        &self,
        text: &str,
        span: Option<&str>,
    ) -> Result<crate::azure::query::Table, OpError> {
        let r = self
            .rt
            .block_on(crate::azure::query::query(
                &self.client,
                &self.id,
                text,
                span,
                false,
            ))
            .map_err(|e| OpError::usage(format!("--env {}: {e}", self.env)))?;
        if let Some(p) = r.partial_error {
            return Err(OpError::usage(format!(
                "--env {}: partial result: {p}",
                self.env
            )));
        }
        Ok(r.tables.into_iter().next().unwrap_or_else(empty_table))
    }

    /// The service's clock (the emulator's may be virtual).
    pub(super) fn now(&self) -> Result<i64, OpError> {
        let t = self.query("print Now = now()", None)?;
        t.rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.as_str())
            .and_then(crate::engine::value::parse_datetime)
            .ok_or_else(|| OpError::usage("the workspace did not tell its time (print now())"))
    }

    /// Closed incidents created in the last `secs` seconds, each with its rule ids
    /// (lower-case) and its alerts' times and entities.
    pub(super) fn closed_incidents(
        &self,
        secs: u64,
    ) -> Result<Vec<(Vec<String>, ClosedIncident)>, OpError> {
        let since_kql = format_kusto_timespan(secs);
        let incidents_t = self.query(&crate::outcomes::kql(INCIDENTS_KQL, &since_kql), None)?;
        let alerts_t = self.query(&crate::outcomes::kql(ALERTS_KQL, &since_kql), None)?;
        let data = crate::outcomes::parse_workspace(&incidents_t, &alerts_t, &empty_table());
        let mut alert_entities: BTreeMap<String, (i64, Vec<Value>)> = BTreeMap::new();
        if let (Some(id), Some(t), Some(e)) = (
            column(&alerts_t, "SystemAlertId"),
            column(&alerts_t, "TimeGenerated"),
            column(&alerts_t, "Entities"),
        ) {
            for r in &alerts_t.rows {
                let (Some(aid), Some(at)) = (
                    r.get(id).and_then(|v| v.as_str()),
                    r.get(t)
                        .and_then(|v| v.as_str())
                        .and_then(crate::engine::value::parse_datetime),
                ) else {
                    continue;
                };
                let ents = json_cell(r.get(e).unwrap_or(&Value::Null))
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                alert_entities.insert(aid.to_string(), (at, ents));
            }
        }
        Ok(data
            .incidents
            .iter()
            .filter(|i| i.status.eq_ignore_ascii_case("Closed"))
            .map(|i| {
                (
                    i.rules.clone(),
                    ClosedIncident {
                        number: i.number,
                        classification: i.classification.clone(),
                        alerts: i
                            .alerts
                            .iter()
                            .filter_map(|a| alert_entities.get(a).cloned())
                            .collect(),
                    },
                )
            })
            .collect())
    }
}

pub fn tune_rule(cx: &Context, o: &TuneRuleOptions) -> Result<TuneRuleOutcome, OpError> {
    let secs = parse_since(&o.since).map_err(OpError::usage)?;
    let ws = cx.workspace();
    let checked = crate::pipeline::check(&ws, &cx.siblings(), None);
    let d = find(
        &checked.definitions,
        cx,
        crate::model::ContentKind::Rule,
        &o.rule,
    )?;
    let Item::Rule(rule) = &d.item else {
        unreachable!("find_rule returns rules")
    };
    if rule.entity_mappings.as_ref().is_none_or(|m| m.is_empty()) {
        return Err(OpError::usage(format!(
            "{}: the rule maps no entities, so there is no entity to exclude (add entityMappings)",
            d.path.display()
        )));
    }
    let tcfg = cx.config.tune.clone();
    let form = match tcfg.exclusions {
        ExclusionForm::Inline => Form::Inline,
        ExclusionForm::Watchlist => Form::Watchlist(format!(
            "{}Exclusions",
            alias_stem(&d.path.file_stem().unwrap_or_default().to_string_lossy())
        )),
    };
    let mut out = TuneRuleOutcome {
        rule: d.resource_name().to_string(),
        name: d.name().to_string(),
        path: d.path.display().to_string(),
        environment: o.env.clone(),
        since: o.since.clone(),
        closed: BTreeMap::new(),
        exclusions: Vec::new(),
        form: match form {
            Form::Inline => "inline",
            Form::Watchlist(_) => "watchlist",
        },
        tuned_query: None,
        tuned_query_sha256: None,
        backtest: None,
        events: 0,
        refused: None,
        written: Vec::new(),
    };

    // The rule's closed incidents and their alerts' entities.
    let w = Workspace::open(cx, &o.env)?;
    let q = |text: &str, span: Option<&str>| w.query(text, span);
    let now = w.now()?;
    let key = d.resource_name().to_ascii_lowercase();
    let closed: Vec<ClosedIncident> = w
        .closed_incidents(secs)?
        .into_iter()
        .filter(|(rules, _)| rules.contains(&key))
        .map(|(_, c)| c)
        .collect();
    for c in &closed {
        *out.closed.entry(c.classification.clone()).or_insert(0) += 1;
    }
    if closed.is_empty() {
        out.refused = Some(format!(
            "no closed incident of this rule in the last {} in {}: nothing to learn from",
            o.since, o.env
        ));
        return Ok(out);
    }
    out.exclusions = tune::candidates(rule, &closed, tcfg.min_support.max(1));
    if out.exclusions.is_empty() {
        out.refused = Some(format!(
            "no entity appears in {} or more FalsePositive/BenignPositive incidents and in no TruePositive one: no exclusion to propose",
            tcfg.min_support.max(1)
        ));
        return Ok(out);
    }
    let catalog = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &cx.siblings())
        .catalog()
        .clone();
    let tuned_q = tune::tuned_query(&rule.query, &out.exclusions, &form, &catalog);
    out.tuned_query_sha256 = Some(crate::hash::query_sha256(&tuned_q));
    out.tuned_query = Some(tuned_q.clone());

    // The window's events, fetched once; both queries replayed locally.
    let (_, period) = crate::alerts::schedule(rule);
    let start = now - secs as i64 * crate::engine::value::SECOND;
    let mut sb = crate::sandbox::for_repository(
        &cx.root,
        &match &o.data {
            Some(p) => cx.path(p),
            None => cx.root.join(".vigil/tune-no-data"),
        },
        &checked.definitions,
        &cx.config,
    );
    // The exclusion watchlist as it will be, so the tuned query binds and runs.
    if let Form::Watchlist(alias) = &form {
        sb.add_watchlist(alias, exclusion_table(&out.exclusions));
    }
    if o.data.is_none() {
        for table in crate::dryrun::generate::referenced_tables(&rule.query) {
            let mut all = empty_table();
            let mut from = start - period;
            while from < now {
                let to = (from + DAY).min(now);
                let span = format!("{}/{}", format_datetime(from), format_datetime(to));
                let text = format!(
                    "{table} | where TimeGenerated >= datetime({}) and TimeGenerated < datetime({})",
                    format_datetime(from),
                    format_datetime(to)
                );
                let t = q(&text, Some(&span))?;
                if all.columns.is_empty() {
                    all.columns = t.columns.clone();
                }
                if t.columns == all.columns {
                    all.rows.extend(t.rows);
                }
                if all.rows.len() > tcfg.max_fetch_rows {
                    return Err(OpError::usage(format!(
                        "{table} holds more than [tune] max_fetch_rows = {} rows over the window: narrow --since, raise the limit, or export the events and pass --data DIR",
                        tcfg.max_fetch_rows
                    )));
                }
                from = to;
            }
            out.events += all.rows.len();
            sb.add_table(&table, super::dry_run::api_table(&all));
        }
    } else {
        for table in crate::dryrun::generate::referenced_tables(&rule.query) {
            if let Ok(Some(t)) = sb.load(&table) {
                out.events += t.rows;
            }
        }
    }
    let mut tuned_rule: Rule = (**rule).clone();
    tuned_rule.query = tuned_q.clone();
    let b = tune::backtest(rule, &tuned_rule, &sb, start, now, &closed)
        .map_err(|e| OpError::usage(format!("the backtest could not run: {e}")))?;
    let tp_total = closed.iter().filter(|c| c.is_tp()).count();
    let tp_unknown: Vec<i64> = closed
        .iter()
        .filter(|c| c.is_tp() && b.not_reproduced.contains(&c.number))
        .map(|c| c.number)
        .collect();
    out.refused = if tp_total == 0 && !o.no_tp_evidence_ok {
        Some("no TP evidence in the window: no TruePositive incident shows what the exclusions must keep (--no-tp-evidence-ok to propose anyway)".into())
    } else if !b.tp_lost.is_empty() && !o.allow_tp_loss {
        Some(format!(
            "the tuned rule would lose TruePositive incident(s) {} (--allow-tp-loss to propose anyway)",
            list(&b.tp_lost)
        ))
    } else if !tp_unknown.is_empty() && !o.allow_tp_loss {
        Some(format!(
            "TruePositive incident(s) {} are not raised again from the fetched events, so the backtest cannot show they are kept (--allow-tp-loss to propose anyway)",
            list(&tp_unknown)
        ))
    } else {
        None
    };
    out.backtest = Some(b);
    if o.write && out.refused.is_none() {
        out.written = write(cx, d, rule, &out, &form, &tuned_q)?;
    }
    Ok(out)
}

fn list(n: &[i64]) -> String {
    n.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `noisy_signins` → `NoisySignins`.
fn alias_stem(stem: &str) -> String {
    stem.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The exclusion watchlist's rows: SearchKey (the value), Column, Entity, Incidents.
fn exclusion_table(ex: &[Exclusion]) -> crate::engine::Table {
    use crate::engine::value::{Type, Value};
    let col = |name: &str, f: &dyn Fn(&Exclusion) -> String| {
        crate::engine::Column::new(
            name,
            Type::String,
            ex.iter().map(|e| Value::string(f(e))).collect(),
        )
    };
    crate::engine::Table::new(vec![
        col("SearchKey", &|e| e.value.clone()),
        col("Column", &|e| e.column.clone()),
        col("Entity", &|e| format!("{}.{}", e.entity_type, e.identifier)),
        col("Incidents", &|e| list(&e.incidents)),
    ])
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Write the tuned rule (and the exclusion watchlist): provenance `origin: tuned` with the
/// prior provenance kept under `derived_from`, the review removed (a tuned change needs a new
/// one).
fn write(
    cx: &Context,
    d: &Definition,
    rule: &Rule,
    out: &TuneRuleOutcome,
    form: &Form,
    tuned_q: &str,
) -> Result<Vec<PathBuf>, OpError> {
    use crate::yaml::edit::{self, Value as Y};
    let path = cx.root.join(&d.path);
    let mut written = Vec::new();
    if let Form::Watchlist(alias) = form {
        let stem = d
            .path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let dir = cx.root.join(
            cx.config
                .content
                .watchlists
                .first()
                .map(String::as_str)
                .unwrap_or("watchlists"),
        );
        let yaml = dir.join(format!("{stem}_exclusions.yaml"));
        let csv = dir.join(format!("{stem}_exclusions.csv"));
        if yaml.exists() {
            return Err(OpError::usage(format!(
                "{} exists: merge the proposal by hand, or remove it and tune again",
                yaml.display()
            )));
        }
        let mut body = String::from("SearchKey,Column,Entity,Incidents\n");
        for e in &out.exclusions {
            body.push_str(&format!(
                "{},{},{},{}\n",
                csv_field(&e.value),
                csv_field(&e.column),
                csv_field(&format!("{}.{}", e.entity_type, e.identifier)),
                csv_field(&list(&e.incidents))
            ));
        }
        let id = crate::clock::guid_of(&format!("tune/{}/exclusions", d.resource_name()));
        let wl = format!(
            "alias: {alias}\nid: {id}\nname: 'Exclusions of {}'\ndescription: 'Entities excluded from the rule {} by vigil tune: each appeared only in FalsePositive/BenignPositive incidents (see Incidents).'\nprovider: Custom\nitemsSearchKey: SearchKey\nsource: {stem}_exclusions.csv\nlabels:\n  - exclusions\nprovenance:\n  origin: tuned\n  generator: 'vigil tune {}'\n  generated_at: '{}'\n  sources: [{}]\n  derived_from:\n    origin: human\n",
            rule.name.replace('\'', "''"),
            d.path.display(),
            env!("CARGO_PKG_VERSION"),
            crate::clock::now_rfc3339(),
            sources(out)
        );
        crate::emit::write_file(&csv, &body).map_err(|e| OpError::internal(e.to_string()))?;
        crate::emit::write_file(&yaml, &wl).map_err(|e| OpError::internal(e.to_string()))?;
        written.push(yaml);
        written.push(csv);
    }
    let text = std::fs::read_to_string(&path)?;
    let block: String = tuned_q
        .trim_end()
        .lines()
        .map(|l| format!("\n  {l}"))
        .collect();
    let mut text = edit::set(&text, &[], "query", &Y::Scalar(format!("|{block}")))
        .map_err(|e| OpError::usage(format!("{}: {e}", d.path.display())))?;
    let prior = rule.provenance.as_ref();
    let mut derived = vec![(
        "origin".to_string(),
        Y::Scalar(
            prior
                .map(|p| origin_word(p.origin))
                .unwrap_or("human")
                .to_string(),
        ),
    )];
    if let Some(p) = prior {
        // A tuned definition keeps what it was derived from (its own derived_from when tuned
        // again).
        let (model, version, prompt) = match (&p.derived_from, p.origin) {
            (Some(df), crate::model::Origin::Tuned) => {
                derived[0].1 = Y::Scalar(origin_word(df.origin).to_string());
                (
                    df.model.clone(),
                    df.model_version.clone(),
                    df.prompt_sha256.clone(),
                )
            }
            _ => (
                p.model.clone(),
                p.model_version.clone(),
                p.prompt_sha256.clone(),
            ),
        };
        for (k, v) in [
            ("model", model),
            ("model_version", version),
            ("prompt_sha256", prompt),
        ] {
            if let Some(v) = v {
                derived.push((k.into(), Y::Scalar(format!("'{}'", v.replace('\'', "''")))));
            }
        }
    }
    let prov = Y::Map(vec![
        ("origin".into(), Y::Scalar("tuned".into())),
        (
            "generator".into(),
            Y::Scalar(format!("'vigil tune {}'", env!("CARGO_PKG_VERSION"))),
        ),
        (
            "generated_at".into(),
            Y::Scalar(format!("'{}'", crate::clock::now_rfc3339())),
        ),
        ("sources".into(), Y::Scalar(format!("[{}]", sources(out)))),
        ("derived_from".into(), Y::Map(derived)),
    ]);
    text = edit::remove(&text, &[], "provenance");
    text = edit::set(&text, &[], "provenance", &prov)
        .map_err(|e| OpError::usage(format!("{}: {e}", d.path.display())))?;
    text = edit::remove(&text, &[], "review");
    crate::emit::write_file(&path, &text).map_err(|e| OpError::internal(e.to_string()))?;
    written.insert(0, path);
    Ok(written)
}

fn origin_word(o: crate::model::Origin) -> &'static str {
    match o {
        crate::model::Origin::Human => "human",
        crate::model::Origin::Ai => "ai",
        crate::model::Origin::Imported => "imported",
        crate::model::Origin::Tuned => "tuned",
    }
}

/// The incidents used, as provenance sources.
fn sources(out: &TuneRuleOutcome) -> String {
    let mut n: Vec<i64> = out
        .exclusions
        .iter()
        .flat_map(|e| e.incidents.iter().copied())
        .collect();
    n.sort_unstable();
    n.dedup();
    n.iter()
        .map(|i| format!("'incident:{}/{i}'", out.environment))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `vigil tune anomaly SETTING --env E`: see `anomaly.rs`.
pub fn tune_anomaly(cx: &Context, o: &TuneAnomalyOptions) -> Result<TuneAnomalyOutcome, OpError> {
    anomaly::run(cx, o)
}
