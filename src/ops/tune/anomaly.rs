//! `vigil tune anomaly SETTING --env E`: stricter thresholds and exclusions for an anomaly
//! (ML analytics) setting from what it fired and how the incidents that include those anomalies
//! were closed (`crate::tune::anomaly` decides); `--write` writes a Flighting copy beside the
//! Production one; `--compare` reports both copies and, with `--write`, proposes the promotion.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};

use super::{Context, OpError, Workspace};
use crate::model::{Definition, Item, SettingsStatus};
use crate::tune::anomaly::{self as ta, AnomalyRow, CopyFigures, Label, ThresholdProposal};

#[derive(Clone, Debug, Default)]
pub struct TuneAnomalyOptions {
    /// The setting: its id, display name or file.
    pub setting: String,
    pub env: String,
    pub since: String,
    pub write: bool,
    pub compare: bool,
    pub no_tp_evidence_ok: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TuneAnomalyOutcome {
    pub setting: String,
    pub name: String,
    pub path: String,
    pub settings_definition_id: String,
    /// The setting's anomalies in the window, by label.
    pub anomalies: usize,
    pub labelled: BTreeMap<String, usize>,
    pub thresholds: Vec<ThresholdProposal>,
    /// Entities to add to the exclude list, with the false anomalies they appear in.
    pub excludes: Vec<(String, usize)>,
    /// Observations that cannot be replayed from `Anomalies`.
    pub not_backtestable: Vec<String>,
    /// `--compare`: figures per copy (`Production`, `Flighting`).
    pub copies: BTreeMap<String, CopyFigures>,
    /// `--compare --write`: the promotion written (or why not).
    pub promotion: Option<String>,
    pub refused: Option<String>,
    pub written: Vec<PathBuf>,
}

fn rows(t: &crate::azure::query::Table) -> Vec<AnomalyRow> {
    let col = |n: &str| t.columns.iter().position(|c| c.0 == n);
    let get = |r: &Vec<Value>, n: &str| {
        col(n)
            .and_then(|i| r.get(i))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let dynamic = |v: Value| match v {
        Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::Null),
        other => other,
    };
    t.rows
        .iter()
        .filter_map(|r| {
            let time = get(r, "TimeGenerated")
                .as_str()
                .and_then(crate::engine::value::parse_datetime)?;
            let mut entities: Vec<String> = dynamic(get(r, "Entities"))
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["Name"].as_str().map(String::from))
                .collect();
            if let Some(u) = get(r, "UserName").as_str().filter(|u| !u.is_empty()) {
                if !entities.iter().any(|e| e.eq_ignore_ascii_case(u)) {
                    entities.push(u.to_string());
                }
            }
            Some(AnomalyRow {
                time,
                rule_id: get(r, "RuleId").as_str().unwrap_or("").to_string(),
                status: get(r, "RuleStatus").as_str().unwrap_or("").to_string(),
                score: get(r, "Score").as_f64().unwrap_or(0.0),
                details: dynamic(get(r, "AnomalyDetails")),
                entities,
            })
        })
        .collect()
}

pub fn run(cx: &Context, o: &TuneAnomalyOptions) -> Result<TuneAnomalyOutcome, OpError> {
    let secs = crate::outcomes::parse_since(&o.since).map_err(OpError::usage)?;
    let ws = cx.workspace();
    let checked = crate::pipeline::check(&ws, &cx.siblings(), None);
    let d = super::find(
        &checked.definitions,
        cx,
        crate::model::ContentKind::Anomaly,
        &o.setting,
    )?;
    let Item::Anomaly(a) = &d.item else {
        unreachable!("find returns anomaly settings")
    };
    let def_id = a.settings_definition_id.clone().ok_or_else(|| {
        OpError::usage(format!(
            "{}: no settingsDefinitionId: vigil cannot tell which anomaly template this is",
            d.path.display()
        ))
    })?;
    let template = crate::anomaly::template(&def_id);
    let obs = a.customizable_observations.clone().unwrap_or(Value::Null);
    let thresholds = crate::anomaly::thresholds(&obs);
    if thresholds.is_empty()
        && obs["prioritizeExcludeObservations"]
            .as_array()
            .is_none_or(|x| x.is_empty())
    {
        return Err(OpError::usage(format!(
            "{}: the setting has no threshold or exclude observations: nothing vigil can tune (run a Flighting copy and compare)",
            d.path.display()
        )));
    }
    let mut out = TuneAnomalyOutcome {
        setting: d.resource_name().to_string(),
        name: d.name().to_string(),
        path: d.path.display().to_string(),
        settings_definition_id: def_id.clone(),
        anomalies: 0,
        labelled: BTreeMap::new(),
        thresholds: Vec::new(),
        excludes: Vec::new(),
        not_backtestable: Vec::new(),
        copies: BTreeMap::new(),
        promotion: None,
        refused: None,
        written: Vec::new(),
    };
    let w = Workspace::open(cx, &o.env)?;
    let since_kql = crate::outcomes::format_kusto_timespan(secs);
    let t = w.query(
        &format!(
            "Anomalies | where TimeGenerated > ago({since_kql}) | where AnomalyTemplateId =~ '{}' | project TimeGenerated, RuleId, RuleName, RuleStatus, Score, UserName, AnomalyDetails, Entities",
            def_id.replace('\'', "")
        ),
        None,
    )?;
    let all = rows(&t);
    let closed: Vec<_> = w
        .closed_incidents(secs)?
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    // An incident over `Anomalies` raises its alert within the run after the anomaly: two hours.
    let labels = ta::label(&all, &closed, 2 * crate::engine::value::HOUR);
    if o.compare {
        out.copies = ta::compare(&all, &labels);
    }
    // This setting's own anomalies: what fired under its current values.
    let own = |r: &AnomalyRow| {
        r.rule_id
            .rsplit('/')
            .next()
            .is_some_and(|id| id.eq_ignore_ascii_case(d.resource_name()))
    };
    let (mine, my_labels): (Vec<AnomalyRow>, Vec<Label>) = all
        .iter()
        .zip(&labels)
        .filter(|(r, _)| own(r))
        .map(|(r, l)| (r.clone(), *l))
        .unzip();
    out.anomalies = mine.len();
    for l in &my_labels {
        let k = match l {
            Label::TruePositive => "TruePositive",
            Label::FalsePositive => "FalsePositive/BenignPositive",
            Label::Unknown => "in no closed incident",
        };
        *out.labelled.entry(k.into()).or_insert(0) += 1;
    }
    for (name, min, max, value) in &thresholds {
        match template.and_then(|t| t.observations.iter().find(|x| x.name == name)) {
            Some(ob) => out.thresholds.push(ta::propose_threshold(
                ob,
                (*min, *max, *value),
                &mine,
                &my_labels,
            )),
            None => out.not_backtestable.push(format!(
                "{name}: cannot be backtested (no recorded field for it): run a Flighting copy and compare"
            )),
        }
    }
    for k in [
        "singleSelectObservations",
        "multiSelectObservations",
        "singleValueObservations",
    ] {
        for x in obs[k].as_array().into_iter().flatten() {
            out.not_backtestable.push(format!(
                "{}: cannot be backtested: run a Flighting copy and compare",
                x["name"].as_str().unwrap_or(k)
            ));
        }
    }
    if template.is_some() {
        out.excludes = ta::propose_excludes(&mine, &my_labels, cx.config.tune.min_support.max(1));
    }
    let has_tp = my_labels.contains(&Label::TruePositive);
    let changes = out.thresholds.iter().any(|p| p.proposed.is_some()) || !out.excludes.is_empty();
    out.refused = if mine.is_empty() {
        Some(format!(
            "the setting fired no anomaly in the last {} in {}: nothing to learn from",
            o.since, o.env
        ))
    } else if !has_tp && !o.no_tp_evidence_ok {
        Some("no TP evidence in the window: no anomaly of this setting is in a TruePositive incident (--no-tp-evidence-ok to propose anyway)".into())
    } else if !changes && !o.compare {
        Some("no stricter value or exclusion removes a false anomaly while keeping every TruePositive one".into())
    } else {
        None
    };
    if o.write && out.refused.is_none() {
        if changes {
            out.written.push(write_flighting(cx, d, a, &obs, &out)?);
        }
        if o.compare {
            out.promotion = Some(promote(
                cx,
                &checked.definitions,
                &def_id,
                &out.copies,
                &mut out.written,
            )?);
        }
    } else if o.compare {
        out.promotion = promotion_verdict(&out.copies).err().or(Some(
            "Flighting is more precise: --write --compare writes the promotion".into(),
        ));
    }
    Ok(out)
}

/// Whether the Flighting copy should be promoted, from the figures.
fn promotion_verdict(c: &BTreeMap<String, CopyFigures>) -> Result<(), String> {
    let (Some(f), Some(p)) = (c.get("Flighting"), c.get("Production")) else {
        return Err("not both copies fired in the window: nothing to compare".into());
    };
    match (f.precision, p.precision) {
        (Some(fp), Some(pp)) if fp > pp => Ok(()),
        (Some(fp), Some(pp)) => Err(format!(
            "Flighting is not more precise ({fp:.2} against Production's {pp:.2}): no promotion"
        )),
        _ => Err("no labelled anomalies for one of the copies: no promotion".into()),
    }
}

/// YAML text of a JSON value as a block under `indent` spaces.
fn yaml_block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let scalar = |v: &Value| match v {
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Null => "null".into(),
        other => other.to_string(),
    };
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml_block(x, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() && a.iter().all(|e| e.is_object()) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml_block(x, indent + 2, out);
                    }
                    Value::Array(a) => out.push_str(&format!(
                        "{pad}{k}: [{}]\n",
                        a.iter().map(scalar).collect::<Vec<_>>().join(", ")
                    )),
                    other => out.push_str(&format!("{pad}{k}: {}\n", scalar(other))),
                }
            }
        }
        Value::Array(a) => {
            for e in a {
                let mut inner = String::new();
                yaml_block(e, indent + 2, &mut inner);
                let inner = inner.trim_start();
                out.push_str(&format!("{pad}- {inner}"));
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn fmt_value(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{v:.decimals$}")
}

/// The Flighting copy: a new resource name, `isDefaultSettings: false`, the same
/// `settingsDefinitionId`, `settingsStatus: Flighting`, the tuned observations.
fn write_flighting(
    cx: &Context,
    d: &Definition,
    a: &crate::model::Anomaly,
    obs: &Value,
    out: &TuneAnomalyOutcome,
) -> Result<PathBuf, OpError> {
    use crate::yaml::edit::{self, Value as Y};
    let stem = d
        .path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    let path = cx
        .root
        .join(&d.path)
        .with_file_name(format!("{stem}_flighting.yaml"));
    if path.exists() {
        return Err(OpError::usage(format!(
            "{} exists: a Flighting copy is already in the repository (compare it with --compare)",
            path.display()
        )));
    }
    let mut tuned = obs.clone();
    let template = crate::anomaly::template(&out.settings_definition_id);
    for p in &out.thresholds {
        let Some(v) = p.proposed else { continue };
        let step = template
            .and_then(|t| t.observations.iter().find(|o| o.name == p.observation))
            .map(|o| o.step)
            .unwrap_or(1.0);
        for x in tuned["thresholdObservations"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if x["name"] == p.observation.as_str() {
                x["value"] = json!(fmt_value(v, step));
            }
        }
    }
    if let (false, Some(t)) = (out.excludes.is_empty(), template) {
        for x in tuned["prioritizeExcludeObservations"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if x["name"] == t.exclude_observation {
                let mut list: Vec<String> = x["exclude"]
                    .as_str()
                    .unwrap_or("")
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                for (e, _) in &out.excludes {
                    if !list.iter().any(|l| l.eq_ignore_ascii_case(e)) {
                        list.push(e.clone());
                    }
                }
                x["exclude"] = json!(list.join(","));
            }
        }
    }
    let text = std::fs::read_to_string(cx.root.join(&d.path))?;
    let id = crate::clock::guid_of(&format!(
        "tune/{}/flighting/{}",
        d.resource_name(),
        crate::clock::now_rfc3339()
    ));
    let mut t = text;
    for k in ["customizableObservations", "provenance", "review"] {
        t = edit::remove(&t, &[], k);
    }
    let set = |t: String, k: &str, v: String| {
        edit::set(&t, &[], k, &Y::Scalar(v))
            .map_err(|e| OpError::usage(format!("{}: {e}", d.path.display())))
    };
    t = set(t, "id", id)?;
    t = set(
        t,
        "name",
        format!("'{} (tuned)'", a.name.replace('\'', "''")),
    )?;
    t = set(t, "settingsStatus", "Flighting".into())?;
    t = set(t, "isDefaultSettings", "false".into())?;
    t = set(t, "enabled", "true".into())?;
    let mut block = String::from("customizableObservations:\n");
    yaml_block(&tuned, 2, &mut block);
    let prior = a.provenance.as_ref().map(|p| p.origin);
    let origin = match prior {
        Some(crate::model::Origin::Ai) => "ai",
        Some(crate::model::Origin::Imported) => "imported",
        Some(crate::model::Origin::Tuned) => "tuned",
        _ => "human",
    };
    block.push_str(&format!(
        "provenance:\n  origin: tuned\n  generator: 'vigil tune {}'\n  generated_at: '{}'\n  sources: ['anomalies:{}/{}']\n  derived_from:\n    origin: {origin}\n",
        env!("CARGO_PKG_VERSION"),
        crate::clock::now_rfc3339(),
        out.setting,
        out.anomalies,
    ));
    let t = format!("{}\n{block}", t.trim_end());
    crate::emit::write_file(&path, &t).map_err(|e| OpError::internal(e.to_string()))?;
    Ok(path)
}

/// The promotion as Sentinel does it: the Flighting copy becomes Production and the Production
/// copy becomes Flighting (only one Production per definition; the reference marks the
/// service's own swap unconfirmed, so vigil writes both sides). A Production copy that is not
/// in the repository (the built-in default) is named in the message.
fn promote(
    cx: &Context,
    defs: &[Definition],
    def_id: &str,
    copies: &BTreeMap<String, CopyFigures>,
    written: &mut Vec<PathBuf>,
) -> Result<String, OpError> {
    if let Err(why) = promotion_verdict(copies) {
        return Ok(why);
    }
    let same: Vec<(&Definition, &crate::model::Anomaly)> = defs
        .iter()
        .filter_map(|d| match &d.item {
            Item::Anomaly(a)
                if a.settings_definition_id
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(def_id)) =>
            {
                Some((d, a.as_ref()))
            }
            _ => None,
        })
        .collect();
    let flighting: Vec<_> = same
        .iter()
        .filter(|(_, a)| a.settings_status == SettingsStatus::Flighting)
        .collect();
    if flighting.len() != 1 {
        return Ok(format!(
            "{} Flighting copies of this definition in the repository: promote one by hand",
            flighting.len()
        ));
    }
    let production: Vec<_> = same
        .iter()
        .filter(|(_, a)| a.settings_status == SettingsStatus::Production)
        .collect();
    let mut changed = Vec::new();
    for ((d, _), status) in flighting
        .iter()
        .map(|x| (*x, "Production"))
        .chain(production.iter().map(|x| (*x, "Flighting")))
    {
        let p = cx.root.join(&d.path);
        let t = std::fs::read_to_string(&p)?;
        let t = crate::yaml::edit::set(
            &t,
            &[],
            "settingsStatus",
            &crate::yaml::edit::Value::Scalar(status.into()),
        )
        .map_err(|e| OpError::usage(format!("{}: {e}", d.path.display())))?;
        let t = crate::yaml::edit::remove(&t, &[], "review");
        crate::emit::write_file(&p, &t).map_err(|e| OpError::internal(e.to_string()))?;
        changed.push(format!("{} -> {status}", d.path.display()));
        written.push(p);
    }
    Ok(format!(
        "promoted: {}{}",
        changed.join(", "),
        if production.is_empty() {
            "; the Production copy is not in this repository (the built-in default): set it to Flighting or disable it in the workspace"
        } else {
            ""
        }
    ))
}
