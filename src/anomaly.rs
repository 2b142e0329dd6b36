//! Anomaly (ML analytics) templates as vigil models them: what the emulator scores for an
//! enabled `securityMLAnalyticsSettings` resource, and which `customizableObservations` map to a
//! field the `Anomalies` table records, so that `vigil tune anomaly` can replay stricter values.
//!
//! Microsoft's template logic is not public; the emulator's form is a documented
//! simplification: per entity and run hour, the count of matching events `c`, the entity's own
//! baseline over the previous 14 days of hourly counts (mean `m`, standard deviation `s`, hours
//! without events counted as 0), `z = (c - m) / max(s, 1)`, and `Score = z / (z + 3)` for
//! `z > 0` (0 to 1, 0.5 at three deviations). An anomaly is written when every threshold
//! observation holds (the comparison per observation is in [`Observation`]) and the entity is
//! not excluded.

/// How an observation's value compares with the recorded field (kept when it holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `field > value`.
    Gt,
    /// `field >= value`.
    Ge,
}

/// A threshold observation that maps to a recorded field of `Anomalies`.
#[derive(Clone, Copy, Debug)]
pub struct Observation {
    /// The observation's `name` in `thresholdObservations`.
    pub name: &'static str,
    /// The recorded field: `Score`, or a key of `AnomalyDetails`.
    pub field: &'static str,
    pub cmp: Cmp,
    /// The smallest step of the value (0.0001 for scores, 1 for counts).
    pub step: f64,
}

/// An anomaly template vigil can score.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    /// `settingsDefinitionId`.
    pub id: &'static str,
    pub name: &'static str,
    /// KQL over the workspace: one row per event with the entity in a column `Entity`.
    pub events: &'static str,
    /// The entity type in `Entities` (`account`, `host`, `ip`).
    pub entity_type: &'static str,
    /// The `prioritizeExcludeObservations` entry whose `exclude` list applies to the entity.
    pub exclude_observation: &'static str,
    pub observations: &'static [Observation],
}

/// The templates (one today: the brute-force template the bundled content tunes).
pub const TEMPLATES: &[Template] = &[Template {
    id: "c95d49c8-55d0-4e97-8c87-88cf48c41157",
    name: "Attempted user account brute force per failure reason",
    events: "SecurityEvent | where EventID == 4625 | extend Entity = tostring(TargetAccount) | project TimeGenerated, Entity",
    entity_type: "account",
    exclude_observation: "Accounts",
    observations: &[
        Observation {
            name: "Score threshold",
            field: "Score",
            cmp: Cmp::Gt,
            step: 0.0001,
        },
        Observation {
            name: "Minimum failed logons per hour",
            field: "Count",
            cmp: Cmp::Ge,
            step: 1.0,
        },
    ],
}];

pub fn template(settings_definition_id: &str) -> Option<&'static Template> {
    TEMPLATES
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(settings_definition_id))
}

/// The score of `count` events against a baseline of hourly counts.
pub fn score(count: f64, baseline: &[f64]) -> (f64, f64, f64, f64) {
    let n = baseline.len().max(1) as f64;
    let mean = baseline.iter().sum::<f64>() / n;
    let var = baseline.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt();
    let z = (count - mean) / sd.max(1.0);
    let s = if z > 0.0 { z / (z + 3.0) } else { 0.0 };
    (s, mean, sd, z)
}

/// Whether a recorded value passes an observation's value.
pub fn holds(cmp: Cmp, field: f64, value: f64) -> bool {
    match cmp {
        Cmp::Gt => field > value,
        Cmp::Ge => field >= value,
    }
}

/// The threshold observations of a setting's `customizableObservations` as (name, minimum,
/// maximum, value), numbers parsed from their strings.
pub fn thresholds(obs: &serde_json::Value) -> Vec<(String, f64, f64, f64)> {
    let num = |v: &serde_json::Value| -> Option<f64> {
        v.as_str()
            .and_then(|s| s.trim().parse().ok())
            .or_else(|| v.as_f64())
    };
    obs["thresholdObservations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| {
            Some((
                o["name"].as_str()?.to_string(),
                num(&o["minimum"]).unwrap_or(f64::MIN),
                num(&o["maximum"]).unwrap_or(f64::MAX),
                num(&o["value"])?,
            ))
        })
        .collect()
}

/// The excluded entity values of a setting (`prioritizeExcludeObservations[name].exclude`,
/// comma separated), lower-case.
pub fn excluded(obs: &serde_json::Value, name: &str) -> Vec<String> {
    obs["prioritizeExcludeObservations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["name"].as_str() == Some(name))
        .filter_map(|o| o["exclude"].as_str())
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_documented_form() {
        // No history: z = c, Score = c / (c + 3).
        let (s, m, sd, z) = score(6.0, &[0.0; 336]);
        assert_eq!((m, sd, z), (0.0, 0.0, 6.0));
        assert!((s - 6.0 / 9.0).abs() < 1e-12);
        // A steady baseline of 2 an hour with sd 1: 5 events is three deviations: 0.5.
        let base: Vec<f64> = (0..336)
            .map(|i| if i % 2 == 0 { 1.0 } else { 3.0 })
            .collect();
        assert!((score(5.0, &base).0 - 0.5).abs() < 1e-12);
        assert_eq!(score(1.0, &base).0, 0.0, "below the baseline");
        let t = template("C95D49C8-55D0-4E97-8C87-88CF48C41157").unwrap();
        assert!(t.observations.iter().any(|o| o.field == "Score"));
    }
}
