//! The product's own stages as the gate reports them: detection tests (`dryrun::run_rule_tests`),
//! the local dry-run (`dryrun::alerts::simulate`) and the plan (`deploy::plan`). The CLI runs the
//! stages (they read files and talk to workspaces); the functions here turn their results into
//! the gate's checks and report rows. Pure: no file system, no network, no printing.
//!
//! Reports carry counts and column summaries (entity types and how many distinct values), never
//! log rows.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Check, Status};
use crate::deploy::plan::{Action, Totals, WorkspacePlan};
use crate::deploy::DeployError;
use crate::dryrun::alerts::Run;
use crate::dryrun::CaseResult;

/// Results of the stages the CLI ran for this gate run.
#[derive(Clone, Debug, Default)]
pub struct StageResults {
    /// Per changed path (repository-relative, `/`-separated): checks named `test`, `dry-run`
    /// and `plan`.
    pub checks: BTreeMap<String, Vec<Check>>,
    /// Stages that did not run at all, as `NotRun` checks with the reason.
    pub not_run: Vec<Check>,
    pub tests: Vec<TestRow>,
    pub volume: Vec<VolumeRow>,
    pub plan: Option<PlanSummary>,
}

impl StageResults {
    /// Record a check for a path.
    pub fn add(&mut self, path: &str, check: Check) {
        self.checks.entry(path.to_string()).or_default().push(check);
    }

    /// Record a check for a path, merged with an earlier check of the same name (a stage run
    /// for several environments): it fails if either fails; the details are joined.
    pub fn merge(&mut self, path: &str, check: Check) {
        let list = self.checks.entry(path.to_string()).or_default();
        match list.iter_mut().find(|c| c.name == check.name) {
            Some(c) => {
                let rank = |s: Status| match s {
                    Status::Pass => 0,
                    Status::NotRun => 1,
                    Status::Fail => 2,
                };
                if rank(check.status) > rank(c.status) {
                    c.status = check.status;
                }
                c.detail = format!("{}; {}", c.detail, check.detail);
            }
            None => list.push(check),
        }
    }

    /// The check of a stage for a path: the one the CLI recorded, else the stage's reason for
    /// not running, else "not run".
    pub fn check_for(&self, path: &str, name: &'static str) -> Check {
        if let Some(c) = self
            .checks
            .get(path)
            .and_then(|cs| cs.iter().find(|c| c.name == name))
        {
            return c.clone();
        }
        self.not_run
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .unwrap_or_else(|| {
                Check::new(
                    name,
                    Status::NotRun,
                    "not run: this gate run was not given the stage's result",
                )
            })
    }
}

/// One detection test case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestRow {
    pub path: String,
    pub definition: String,
    pub case: String,
    pub passed: bool,
    pub failures: Vec<String>,
    pub alerts: usize,
    pub rows: usize,
}

/// The `test` check of one rule and its rows.
pub fn test_check(path: &str, results: &[CaseResult]) -> (Check, Vec<TestRow>) {
    let rows: Vec<TestRow> = results
        .iter()
        .map(|r| TestRow {
            path: path.to_string(),
            definition: r.definition.clone(),
            case: r.name.clone(),
            passed: r.passed,
            failures: r.failures.clone(),
            alerts: r.alerts,
            rows: r.rows,
        })
        .collect();
    let failed: Vec<&TestRow> = rows.iter().filter(|r| !r.passed).collect();
    let check = if rows.is_empty() {
        Check::new(
            "test",
            Status::NotRun,
            "not run: no tests (the tests file has no cases)",
        )
    } else if failed.is_empty() {
        Check::new(
            "test",
            Status::Pass,
            format!("{} test(s) passed", rows.len()),
        )
    } else {
        Check::new(
            "test",
            Status::Fail,
            format!(
                "{} of {} test(s) failed: {}",
                failed.len(),
                rows.len(),
                failed
                    .iter()
                    .map(|r| format!(
                        "{} ({})",
                        r.case,
                        r.failures.first().map(String::as_str).unwrap_or("failed")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
    };
    (check, rows)
}

/// One rule's alert volume over the sandbox window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VolumeRow {
    pub path: String,
    pub definition: String,
    pub runs: usize,
    pub firing_runs: usize,
    pub alerts: usize,
    pub alerts_per_day: f64,
    pub budget_per_day: f64,
    pub over_budget: bool,
    pub result_rows: usize,
    pub rows_scanned: u64,
    /// Entity types of the alerts with the number of distinct values (`Account: 3`).
    pub entities: Vec<String>,
    /// Custom detail keys of the alerts.
    pub custom_details: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `dry-run` check of one rule: its simulated runs (or the engine's error) against the
/// budget.
pub fn volume_check(
    path: &str,
    definition: &str,
    runs: Result<&[Run], String>,
    days: f64,
    budget_per_day: f64,
) -> (Check, VolumeRow) {
    let mut row = VolumeRow {
        path: path.to_string(),
        definition: definition.to_string(),
        runs: 0,
        firing_runs: 0,
        alerts: 0,
        alerts_per_day: 0.0,
        budget_per_day,
        over_budget: false,
        result_rows: 0,
        rows_scanned: 0,
        entities: Vec::new(),
        custom_details: Vec::new(),
        error: None,
    };
    let runs = match runs {
        Ok(r) => r,
        Err(e) => {
            row.error = Some(e.clone());
            return (
                Check::new("dry-run", Status::Fail, format!("the query failed: {e}")),
                row,
            );
        }
    };
    row.runs = runs.len();
    row.firing_runs = runs.iter().filter(|r| !r.alerts.is_empty()).count();
    row.alerts = runs.iter().map(|r| r.alerts.len()).sum();
    row.result_rows = runs.iter().map(|r| r.rows).sum();
    row.rows_scanned = runs.iter().map(|r| r.rows_scanned).sum();
    row.alerts_per_day = if days > 0.0 {
        row.alerts as f64 / days
    } else {
        row.alerts as f64
    };
    row.over_budget = row.alerts_per_day > budget_per_day;
    let mut entities: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut details: BTreeSet<String> = BTreeSet::new();
    for a in runs.iter().flat_map(|r| &r.alerts) {
        for e in &a.entities {
            let ty = e
                .get("Type")
                .or_else(|| e.get("type"))
                .and_then(|t| t.as_str())
                .unwrap_or("entity")
                .to_string();
            entities.entry(ty).or_default().insert(e.to_string());
        }
        details.extend(a.custom_details.keys().cloned());
    }
    row.entities = entities
        .iter()
        .map(|(t, v)| format!("{t}: {}", v.len()))
        .collect();
    row.custom_details = details.into_iter().collect();
    let summary = format!(
        "{} run(s), {} firing, {} alert(s) ({:.1}/day; budget {})",
        row.runs, row.firing_runs, row.alerts, row.alerts_per_day, budget_per_day
    );
    let check = if row.over_budget {
        Check::new(
            "dry-run",
            Status::Fail,
            format!("over the alert budget: {summary}"),
        )
    } else {
        Check::new("dry-run", Status::Pass, summary)
    };
    (check, row)
}

/// One planned action on one definition's resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanAction {
    pub workspace: String,
    pub action: &'static str,
    #[serde(rename = "type")]
    pub rtype: String,
    pub name: String,
    pub display_name: String,
    pub drift: bool,
    /// Changed fields (paths only, no values).
    pub fields: Vec<String>,
}

/// The plan against one environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanSummary {
    pub environment: String,
    pub workspaces: Vec<String>,
    #[serde(flatten)]
    pub totals: Totals,
    pub actions: Vec<PlanAction>,
    /// Rules that do not bind against a workspace's catalog, and similar plan problems.
    pub problems: Vec<String>,
}

/// Summarise the plans of an environment's workspaces.
pub fn plan_summary(
    environment: &str,
    plans: &[WorkspacePlan],
    problems: &[DeployError],
) -> PlanSummary {
    PlanSummary {
        environment: environment.to_string(),
        workspaces: plans.iter().map(|p| p.workspace.label()).collect(),
        totals: Totals::of(plans),
        actions: plans
            .iter()
            .flat_map(|p| {
                p.changes.iter().map(move |c| PlanAction {
                    workspace: p.workspace.label(),
                    action: c.action.as_str(),
                    rtype: serde_json::to_value(c.rtype)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    name: c.name.clone(),
                    display_name: c.display_name.clone(),
                    drift: c.drift,
                    fields: c.fields.iter().map(|f| f.path.clone()).collect(),
                })
            })
            .collect(),
        problems: problems
            .iter()
            .map(|p| format!("{}: {}", p.code.as_str(), p.message))
            .collect(),
    }
}

/// The `plan` check of one definition: what the plan does to its resource in each workspace.
pub fn plan_check(summary: &PlanSummary, resource_name: &str) -> Check {
    let lname = resource_name.to_ascii_lowercase();
    let mine: Vec<&PlanAction> = summary
        .actions
        .iter()
        .filter(|a| a.name.to_ascii_lowercase() == lname)
        .collect();
    let problems: Vec<&String> = summary
        .problems
        .iter()
        .filter(|p| p.to_ascii_lowercase().contains(&lname))
        .collect();
    if !problems.is_empty() {
        return Check::new(
            "plan",
            Status::Fail,
            problems
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    let detail = if mine.is_empty() {
        format!("{}: no change", summary.environment)
    } else {
        mine.iter()
            .map(|a| {
                format!(
                    "{}: {} in {}{}",
                    summary.environment,
                    a.action,
                    a.workspace,
                    if a.action == Action::Update.as_str() && !a.fields.is_empty() {
                        format!(" ({})", a.fields.join(", "))
                    } else {
                        String::new()
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Check::new("plan", Status::Pass, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dryrun::alerts::{Alert, Run};

    fn run(alerts: usize) -> Run {
        Run {
            at: "2026-01-01T00:00:00Z".into(),
            rows: alerts,
            rows_scanned: 10,
            scanned_tables: Default::default(),
            alerts: (0..alerts)
                .map(|i| Alert {
                    display_name: "a".into(),
                    severity: "Medium".into(),
                    rows: 1,
                    entities: vec![
                        serde_json::json!({"Type": "ip", "Address": format!("10.0.0.{i}")}),
                    ],
                    custom_details: Default::default(),
                })
                .collect(),
            suppressed: false,
        }
    }

    #[test]
    fn volume_over_the_budget_fails_and_reports_counts_only() {
        let runs = vec![run(0), run(3), run(3)];
        let (c, row) = volume_check("r.yaml", "R", Ok(&runs), 2.0, 2.0);
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.starts_with("over the alert budget"),
            "{}",
            c.detail
        );
        assert_eq!((row.runs, row.firing_runs, row.alerts), (3, 2, 6));
        assert_eq!(row.entities, ["ip: 3"]);
        let (c, _) = volume_check("r.yaml", "R", Ok(&runs), 2.0, 3.0);
        assert_eq!(c.status, Status::Pass);
        let (c, row) = volume_check("r.yaml", "R", Err("not supported yet: x".into()), 2.0, 3.0);
        assert_eq!(c.status, Status::Fail);
        assert_eq!(row.error.as_deref(), Some("not supported yet: x"));
    }

    #[test]
    fn a_stage_without_a_result_is_not_run_never_pass() {
        let mut st = StageResults::default();
        assert_eq!(st.check_for("x.yaml", "test").status, Status::NotRun);
        st.not_run
            .push(Check::new("plan", Status::NotRun, "not run: no --env ENV"));
        assert_eq!(
            st.check_for("x.yaml", "plan").detail,
            "not run: no --env ENV"
        );
        st.add(
            "x.yaml",
            Check::new("plan", Status::Pass, "local: no change"),
        );
        assert_eq!(st.check_for("x.yaml", "plan").status, Status::Pass);
        let (c, rows) = test_check("x.yaml", &[]);
        assert_eq!(c.status, Status::NotRun);
        assert!(rows.is_empty());
    }
}
