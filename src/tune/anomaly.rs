//! Tuning an anomaly (ML analytics) setting from what it fired: the `Anomalies` rows of the
//! setting, each labelled by the closed incidents that include it, and proposals only where
//! they can be replayed. The table holds only what fired under the current values, so only
//! stricter values of a threshold observation that maps to a recorded field are judged
//! (`crate::anomaly` has the mapping); exclusions come from FP-dominant entities; anything else
//! "cannot be backtested: run a Flighting copy and compare". Pure: no I/O.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::ClosedIncident;
use crate::anomaly::{self, Observation};

/// One `Anomalies` row.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyRow {
    pub time: i64,
    /// The setting's resource id (`RuleId`).
    pub rule_id: String,
    /// `Production` or `Flighting`.
    pub status: String,
    pub score: f64,
    /// Recorded details (`AnomalyDetails`), for fields such as `Count`.
    pub details: Value,
    /// The entity values (`Entities[].Name`, `UserName`).
    pub entities: Vec<String>,
}

impl AnomalyRow {
    pub fn field(&self, name: &str) -> Option<f64> {
        if name == "Score" {
            Some(self.score)
        } else {
            self.details[name]
                .as_f64()
                .or_else(|| self.details[name].as_str().and_then(|s| s.parse().ok()))
        }
    }
}

/// What the incidents say about an anomaly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Label {
    TruePositive,
    /// FalsePositive or BenignPositive.
    FalsePositive,
    /// In no closed incident.
    Unknown,
}

/// Label each anomaly by the closed incidents with an alert in `(time, time + within]` that
/// names one of its entities (a TruePositive incident wins).
pub fn label(rows: &[AnomalyRow], incidents: &[ClosedIncident], within: i64) -> Vec<Label> {
    rows.iter()
        .map(|a| {
            let mut l = Label::Unknown;
            for inc in incidents {
                let hit = inc.alerts.iter().any(|(at, ents)| {
                    *at >= a.time
                        && *at <= a.time + within
                        && ents.iter().any(|e| {
                            e.as_object().is_some_and(|o| {
                                o.values().any(|v| {
                                    v.as_str().is_some_and(|s| {
                                        a.entities.iter().any(|x| x.eq_ignore_ascii_case(s))
                                    })
                                })
                            })
                        })
                });
                if hit && inc.is_tp() {
                    return Label::TruePositive;
                }
                if hit && inc.is_fp_or_bp() {
                    l = Label::FalsePositive;
                }
            }
            l
        })
        .collect()
}

/// A threshold observation's replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdProposal {
    pub observation: String,
    /// The recorded field it maps to.
    pub field: String,
    pub minimum: f64,
    pub maximum: f64,
    pub current: f64,
    /// The stricter value that keeps every TruePositive anomaly with the fewest false ones;
    /// `None` when no stricter value removes any.
    pub proposed: Option<f64>,
    /// Under the proposed value (or the current one): anomalies, FP and TP kept.
    pub anomalies_kept: usize,
    pub fp_kept: usize,
    pub tp_kept: usize,
    pub anomalies: usize,
    pub fp: usize,
    pub tp: usize,
}

/// The proposal for one threshold observation over the setting's labelled anomalies.
pub fn propose_threshold(
    o: &Observation,
    (minimum, maximum, current): (f64, f64, f64),
    rows: &[AnomalyRow],
    labels: &[Label],
) -> ThresholdProposal {
    let fields: Vec<(f64, Label)> = rows
        .iter()
        .zip(labels)
        .filter_map(|(r, l)| Some((r.field(o.field)?, *l)))
        .collect();
    let judge = |v: f64| {
        let kept: Vec<&(f64, Label)> = fields
            .iter()
            .filter(|(f, _)| anomaly::holds(o.cmp, *f, v))
            .collect();
        (
            kept.len(),
            kept.iter().filter(|k| k.1 == Label::FalsePositive).count(),
            kept.iter().filter(|k| k.1 == Label::TruePositive).count(),
        )
    };
    let tp = fields.iter().filter(|f| f.1 == Label::TruePositive).count();
    let fp = fields
        .iter()
        .filter(|f| f.1 == Label::FalsePositive)
        .count();
    // Candidates: one step past each false anomaly's recorded value, so that the value fails
    // the threshold even where the record is rounded (a recorded 0.7692 may be 0.76923).
    let mut cands: Vec<f64> = fields
        .iter()
        .filter(|f| f.1 == Label::FalsePositive)
        .map(|(x, _)| ((x + o.step) / o.step).round() * o.step)
        .filter(|v| *v > current && *v >= minimum && *v <= maximum)
        .collect();
    cands.sort_by(|a, b| a.total_cmp(b));
    cands.dedup();
    let (k0, f0, t0) = judge(current);
    let mut best: Option<(f64, (usize, usize, usize))> = None;
    for c in cands {
        let j = judge(c);
        if j.2 < tp {
            continue; // loses a TruePositive
        }
        if best.is_none_or(|b| j.1 < b.1 .1) {
            best = Some((c, j));
        }
    }
    let best = best.filter(|b| b.1 .1 < f0);
    let (kept, fpk, tpk) = best.map(|b| b.1).unwrap_or((k0, f0, t0));
    ThresholdProposal {
        observation: o.name.to_string(),
        field: o.field.to_string(),
        minimum,
        maximum,
        current,
        proposed: best.map(|b| b.0),
        anomalies_kept: kept,
        fp_kept: fpk,
        tp_kept: tpk,
        anomalies: fields.len(),
        fp,
        tp,
    }
}

/// Entities in at least `min_support` false anomalies and in no TruePositive one, most
/// supported first (lower-case).
pub fn propose_excludes(
    rows: &[AnomalyRow],
    labels: &[Label],
    min_support: usize,
) -> Vec<(String, usize)> {
    let mut fp: BTreeMap<String, usize> = BTreeMap::new();
    let mut tp: Vec<String> = Vec::new();
    for (r, l) in rows.iter().zip(labels) {
        for e in &r.entities {
            let e = e.to_lowercase();
            match l {
                Label::TruePositive => tp.push(e),
                Label::FalsePositive => *fp.entry(e).or_insert(0) += 1,
                Label::Unknown => {}
            }
        }
    }
    let mut out: Vec<(String, usize)> = fp
        .into_iter()
        .filter(|(e, n)| *n >= min_support && !tp.contains(e))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// One copy's figures over the window.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CopyFigures {
    pub anomalies: usize,
    pub tp: usize,
    pub fp: usize,
    /// TP / (TP + FP) over labelled anomalies; `None` without any.
    pub precision: Option<f64>,
}

/// Figures per `RuleStatus` (`Production`, `Flighting`).
pub fn compare(rows: &[AnomalyRow], labels: &[Label]) -> BTreeMap<String, CopyFigures> {
    let mut m: BTreeMap<String, CopyFigures> = BTreeMap::new();
    for (r, l) in rows.iter().zip(labels) {
        let f = m.entry(r.status.clone()).or_default();
        f.anomalies += 1;
        match l {
            Label::TruePositive => f.tp += 1,
            Label::FalsePositive => f.fp += 1,
            Label::Unknown => {}
        }
    }
    for f in m.values_mut() {
        f.precision = (f.tp + f.fp > 0).then(|| f.tp as f64 / (f.tp + f.fp) as f64);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(score: f64, count: f64, who: &str) -> AnomalyRow {
        AnomalyRow {
            time: 0,
            rule_id: "r".into(),
            status: "Production".into(),
            score,
            details: json!({"Count": count}),
            entities: vec![who.into()],
        }
    }

    #[test]
    fn the_strictest_value_that_keeps_every_tp() {
        let t = crate::anomaly::template("c95d49c8-55d0-4e97-8c87-88cf48c41157").unwrap();
        let rows = vec![
            row(6.0 / 9.0, 6.0, "svc"),
            row(6.0 / 9.0, 6.0, "svc"),
            row(10.0 / 13.0, 10.0, "bob"),
            row(30.0 / 33.0, 30.0, "jdoe"),
        ];
        let labels = [
            Label::FalsePositive,
            Label::FalsePositive,
            Label::FalsePositive,
            Label::TruePositive,
        ];
        let score = propose_threshold(&t.observations[0], (0.25, 1.0, 0.25), &rows, &labels);
        // Just past bob's 0.76923...: 0.7693 keeps jdoe only.
        assert_eq!(score.proposed, Some(0.7693));
        assert_eq!(
            (score.anomalies_kept, score.fp_kept, score.tp_kept),
            (1, 0, 1)
        );
        let count = propose_threshold(&t.observations[1], (5.0, 500.0, 5.0), &rows, &labels);
        assert_eq!(count.proposed, Some(11.0));
        // A maximum below what would help: nothing stricter is proposed.
        let capped = propose_threshold(&t.observations[1], (5.0, 6.0, 5.0), &rows, &labels);
        assert_eq!(capped.proposed, None);
        assert_eq!(
            propose_excludes(&rows, &labels, 2),
            [("svc".to_string(), 2)]
        );
        let c = compare(&rows, &labels);
        assert_eq!(c["Production"].precision, Some(0.25));
    }
}
