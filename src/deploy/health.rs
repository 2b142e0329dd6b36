//! Post-deploy health: after an apply, each alert rule it created or updated must run without
//! error and must still be enabled (Sentinel auto-disables rules that keep failing). The
//! evidence is the rule's state through ARM and its runs in `SentinelHealth` through the query
//! API; the CLI (`vigil health`) polls both until every rule has a verdict or the timeout
//! passes. Pure: the query text and the judgement.
//!
//! A rule with no run recorded by the timeout is `unknown`, never `healthy`.

use serde::Serialize;

use super::plan::Action;
use super::record::Record;
use super::resource::RType;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The first run since the deployment succeeded and the rule is enabled.
    Healthy,
    /// The latest run since the deployment failed, or the rule is gone.
    Failed,
    /// Deployed enabled, now disabled (auto-disabled, or by hand).
    Disabled,
    /// No run recorded yet.
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Failed => "failed",
            HealthStatus::Disabled => "disabled",
            HealthStatus::Unknown => "unknown",
        }
    }

    /// Whether more waiting can change the verdict.
    pub fn is_final(self) -> bool {
        !matches!(self, HealthStatus::Unknown)
    }
}

/// An alert rule a deployment wrote, to be checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Watched {
    /// Index of the workspace in the record.
    #[serde(skip)]
    pub workspace_index: usize,
    pub workspace: String,
    pub name: String,
    pub display_name: String,
    /// Whether the deployment wrote it enabled (a rule deployed disabled is not watched).
    pub enabled: bool,
}

/// The alert rules a deployment created or updated (enabled ones: a disabled rule never runs).
pub fn watched(rec: &Record) -> Vec<Watched> {
    let mut out = Vec::new();
    for (i, w) in rec.workspaces.iter().enumerate() {
        for c in &w.changes {
            if c.key.rtype != RType::AlertRule || c.action == Action::Delete {
                continue;
            }
            let props = c.after.as_ref().map(|a| &a["properties"]);
            let enabled = props.and_then(|p| p["enabled"].as_bool()).unwrap_or(true);
            if !enabled {
                continue;
            }
            out.push(Watched {
                workspace_index: i,
                workspace: w.workspace.label(),
                name: c.name.clone(),
                display_name: props
                    .and_then(|p| p["displayName"].as_str())
                    .unwrap_or(&c.name)
                    .to_string(),
                enabled,
            });
        }
    }
    out
}

/// The query for a rule's latest run since `since` (an ISO 8601 datetime) in `SentinelHealth`:
/// one row (`Status`, `Description`, `TimeGenerated`) or none.
pub fn health_query(rule_name: &str, since: &str) -> String {
    let id = rule_name.replace('"', "");
    format!(
        "SentinelHealth\n| where SentinelResourceType == \"Analytics Rule\"\n| where SentinelResourceId contains \"{id}\"\n| where TimeGenerated >= datetime({since})\n| summarize arg_max(TimeGenerated, Status, Description)\n| where isnotnull(TimeGenerated)\n| project TimeGenerated, Status, Description"
    )
}

/// One rule's verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleHealth {
    pub workspace: String,
    pub name: String,
    pub display_name: String,
    pub status: HealthStatus,
    pub detail: String,
}

/// Judge a rule from its live state (`None`: not found; else `enabled`) and its latest run since
/// the deployment (`(status, description)`).
pub fn judge(
    w: &Watched,
    live_enabled: Option<Option<bool>>,
    last_run: Option<(&str, &str)>,
) -> RuleHealth {
    let (status, detail) = match (live_enabled, last_run) {
        (None, _) => (
            HealthStatus::Failed,
            "the rule no longer exists in the workspace".to_string(),
        ),
        (Some(Some(false)), run) => (
            HealthStatus::Disabled,
            match run {
                Some((s, d)) => format!("deployed enabled, now disabled; last run: {s}: {d}"),
                None => "deployed enabled, now disabled (auto-disabled?)".to_string(),
            },
        ),
        (Some(_), None) => (
            HealthStatus::Unknown,
            "no run recorded since the deployment".to_string(),
        ),
        (Some(_), Some((s, d))) if s.eq_ignore_ascii_case("success") => (
            HealthStatus::Healthy,
            format!(
                "ran successfully{}",
                if d.is_empty() {
                    String::new()
                } else {
                    format!(": {d}")
                }
            ),
        ),
        (Some(_), Some((s, d))) => (HealthStatus::Failed, format!("last run: {s}: {d}")),
    };
    RuleHealth {
        workspace: w.workspace.clone(),
        name: w.name.clone(),
        display_name: w.display_name.clone(),
        status,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w() -> Watched {
        Watched {
            workspace_index: 0,
            workspace: "rg/ws".into(),
            name: "r1".into(),
            display_name: "Rule".into(),
            enabled: true,
        }
    }

    #[test]
    fn a_timeout_is_unknown_never_healthy() {
        assert_eq!(
            judge(&w(), Some(Some(true)), None).status,
            HealthStatus::Unknown
        );
        assert!(!HealthStatus::Unknown.is_final());
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            judge(&w(), Some(Some(true)), Some(("Success", ""))).status,
            HealthStatus::Healthy
        );
        assert_eq!(
            judge(&w(), Some(Some(true)), Some(("Failure", "query timed out"))).status,
            HealthStatus::Failed
        );
        assert_eq!(
            judge(&w(), Some(Some(false)), Some(("Success", ""))).status,
            HealthStatus::Disabled
        );
        assert_eq!(judge(&w(), None, None).status, HealthStatus::Failed);
        assert!(health_query("r1", "2026-01-01T00:00:00Z").contains("contains \"r1\""));
    }
}
