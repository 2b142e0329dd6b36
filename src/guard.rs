//! Circuit breakers: which rules' outcomes exceed their limits (`[policy.guard]`, overridden by a
//! rule's `guard:` block), and what to do about it. Pure: `ops::guard` reads the outcomes,
//! writes the files and deploys.
//!
//! A breaker trips only on figures that were read: a rule of a workspace that could not be
//! read is never judged (neither tripped nor cleared). A rule already demoted (shadow, for
//! `demote`) or disabled (for `disable`) in the environment is not tripped again.

use indexmap::IndexMap;
use serde::Serialize;

use crate::config::{GuardAction, GuardPolicy};
use crate::model::types::Guard;
use crate::outcomes::RuleOutcome;

/// The limits that apply to one rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Limits {
    pub max_alerts_per_day: Option<u32>,
    pub max_fp_rate: Option<f64>,
    pub min_closed: u32,
    pub max_failed_runs: Option<u32>,
    pub action: GuardAction,
}

/// `[policy.guard]` with a rule's own `guard:` block over it.
pub fn limits(policy: &GuardPolicy, rule: Option<&Guard>) -> Limits {
    let g = rule.cloned().unwrap_or_default();
    Limits {
        max_alerts_per_day: g.max_alerts_per_day.or(policy.max_alerts_per_day),
        max_fp_rate: g.max_fp_rate.or(policy.max_fp_rate),
        min_closed: g.min_closed.unwrap_or(policy.min_closed).max(1),
        max_failed_runs: g.max_failed_runs.or(policy.max_failed_runs),
        action: g.action.unwrap_or(policy.action),
    }
}

/// One tripped breaker.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trip {
    pub workspace: String,
    pub rule: String,
    pub display_name: String,
    pub source: String,
    /// `max_alerts_per_day`, `max_fp_rate` or `max_failed_runs`.
    pub breaker: &'static str,
    pub action: GuardAction,
    /// The figures the breaker saw.
    pub observed: IndexMap<String, f64>,
    pub limit: f64,
    /// In words.
    pub reason: String,
}

/// The rule's state in the environment, as its file says.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Current {
    pub shadow: bool,
    pub disabled: bool,
}

/// The first breaker a rule trips, if any (alerts per day, then FP rate, then failed runs).
pub fn judge(r: &RuleOutcome, l: &Limits, current: Current) -> Option<Trip> {
    let done = match l.action {
        GuardAction::Demote => current.shadow || current.disabled,
        GuardAction::Disable => current.disabled,
    };
    if done {
        return None;
    }
    let f = &r.figures;
    let trip =
        |breaker: &'static str, limit: f64, observed: Vec<(&str, f64)>, reason: String| Trip {
            workspace: r.workspace.clone(),
            rule: r.rule.clone(),
            display_name: r.display_name.clone(),
            source: r.source.clone(),
            breaker,
            action: l.action,
            observed: observed
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            limit,
            reason,
        };
    if let Some(max) = l.max_alerts_per_day {
        if f.alerts_per_day_max > max as usize {
            return Some(trip(
                "max_alerts_per_day",
                max as f64,
                vec![
                    ("alerts_per_day_max", f.alerts_per_day_max as f64),
                    ("alerts", f.alerts as f64),
                ],
                format!("{} alerts on one day (limit {max})", f.alerts_per_day_max),
            ));
        }
    }
    if let (Some(max), Some(rate)) = (l.max_fp_rate, f.fp_rate) {
        if f.closed >= l.min_closed as usize && rate > max {
            return Some(trip(
                "max_fp_rate",
                max,
                vec![
                    ("fp_rate", rate),
                    ("closed", f.closed as f64),
                    ("false_positive", f.classification.false_positive as f64),
                ],
                format!(
                    "false-positive rate {:.0}% over {} closed incidents (limit {:.0}%)",
                    rate * 100.0,
                    f.closed,
                    max * 100.0
                ),
            ));
        }
    }
    if let Some(max) = l.max_failed_runs {
        if r.failed_runs > max as usize {
            return Some(trip(
                "max_failed_runs",
                max as f64,
                vec![
                    ("failed_runs", r.failed_runs as f64),
                    ("runs", r.runs as f64),
                ],
                format!("{} of {} runs failed (limit {max})", r.failed_runs, r.runs),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcomes::{Closed, Figures};

    fn outcome(closed: usize, fp: usize, per_day: usize, failed: usize) -> RuleOutcome {
        RuleOutcome {
            workspace: "w".into(),
            rule: "r".into(),
            display_name: "R".into(),
            source: "detections/r.yaml".into(),
            stage: "active".into(),
            origin: "human".into(),
            model: None,
            version: "q:0".into(),
            figures: Figures {
                closed,
                classification: Closed {
                    false_positive: fp,
                    true_positive: closed - fp,
                    ..Closed::default()
                },
                fp_rate: (closed > 0).then(|| fp as f64 / closed as f64),
                alerts_per_day_max: per_day,
                ..Figures::default()
            },
            silent: false,
            runs: 100,
            failed_runs: failed,
            auto_disabled: false,
            versions: Vec::new(),
        }
    }

    #[test]
    fn breakers_trip_on_their_limits_only() {
        let policy = GuardPolicy {
            max_alerts_per_day: Some(50),
            max_fp_rate: Some(0.5),
            max_failed_runs: Some(3),
            ..GuardPolicy::default()
        };
        let l = limits(&policy, None);
        let now = Current::default();
        assert!(
            judge(&outcome(20, 10, 50, 3), &l, now).is_none(),
            "at the limits"
        );
        assert_eq!(
            judge(&outcome(20, 11, 0, 0), &l, now).unwrap().breaker,
            "max_fp_rate"
        );
        // A handful of closed incidents gives no verdict.
        assert!(judge(&outcome(9, 9, 0, 0), &l, now).is_none());
        assert_eq!(
            judge(&outcome(0, 0, 51, 0), &l, now).unwrap().breaker,
            "max_alerts_per_day"
        );
        assert_eq!(
            judge(&outcome(0, 0, 0, 4), &l, now).unwrap().breaker,
            "max_failed_runs"
        );
        // Already demoted: nothing to do; a rule's own block overrides the policy.
        let shadow = Current {
            shadow: true,
            disabled: false,
        };
        assert!(judge(&outcome(20, 20, 0, 0), &l, shadow).is_none());
        let own = Guard {
            max_fp_rate: Some(0.9),
            action: Some(GuardAction::Disable),
            ..Guard::default()
        };
        let l2 = limits(&policy, Some(&own));
        assert!(judge(&outcome(20, 11, 0, 0), &l2, now).is_none());
        let t = judge(&outcome(20, 19, 0, 0), &l2, shadow).unwrap();
        assert_eq!(t.action, GuardAction::Disable);
        assert_eq!(t.observed["fp_rate"], 0.95);
    }
}
