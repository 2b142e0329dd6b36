//! Renderers of a gate run: the Markdown PR comment (Handlebars, `templates/gate-comment.md.hbs`,
//! overridable per repository) and JUnit XML. The JSON verdict is the [`GateReport`] itself;
//! SARIF is `diagnostics::render::sarif` over the run's diagnostics.
//!
//! Stages that could not run (tests, dry-run, plan) are printed as "not run" with the reason:
//! the comment never shows a result vigil did not compute. The alert-volume preview shows
//! counts and column summaries, never log rows.

use serde_json::{json, Value};

use super::{GateReport, Status};
use crate::compile::templates::{Templates, GATE_COMMENT};
use crate::diagnostics::Diagnostic;
use crate::source::SourceDb;

/// Findings listed in the comment; the rest are counted.
const MAX_FINDINGS: usize = 50;

fn icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::NotRun => "⏭️",
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::NotRun => "not run",
    }
}

/// The data the comment template sees.
pub fn comment_data(report: &GateReport, db: &SourceDb, diags: &[Diagnostic]) -> Value {
    let entries: Vec<Value> = report
        .entries
        .iter()
        .map(|e| {
            json!({
                "icon": icon(e.verdict),
                "change": e.change,
                "kind": e.kind.unwrap_or("-"),
                "name": e.name.clone().unwrap_or_else(|| "-".into()),
                "path": e.path,
                "verdict": status_name(e.verdict),
                "checks": e.checks.iter().map(|c| json!({
                    "name": c.name,
                    "icon": icon(c.status),
                    "status": status_name(c.status),
                    "detail": c.detail,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let findings: Vec<Value> = diags
        .iter()
        .take(MAX_FINDINGS)
        .map(|d| {
            let f = db.get(d.span.file);
            let lc = f.line_col(d.span.start);
            json!({
                "code": d.code.as_str(),
                "severity": d.severity.as_str(),
                "location": format!("{}:{}", crate::diagnostics::render::display_path(&f.path), lc.line),
                "message": d.message,
            })
        })
        .collect();
    let not_run = |name: &str| -> String {
        report
            .not_run
            .iter()
            .find(|c| c.name == name)
            .map(|c| format!("⏭️ {}", c.detail))
            .unwrap_or_default()
    };
    let evidence: Vec<Value> = report
        .entries
        .iter()
        .flat_map(|e| {
            e.checks
                .iter()
                .filter(|c| c.name == "rollout" && c.detail.contains("evidence"))
                .map(move |c| json!({ "path": e.path, "detail": c.detail }))
        })
        .collect();
    let compiled: Vec<Value> = report
        .entries
        .iter()
        .flat_map(|e| {
            e.compiled.iter().map(move |c| {
                let r = c.rollout.as_ref();
                json!({
                    "name": e.name.clone().unwrap_or_default(),
                    "environment": c.environment.clone().unwrap_or_else(|| "(as written)".into()),
                    "stage": r.map(|r| r.stage).unwrap_or("-"),
                    "changes": r.map(|r| r.changes.join("; ")).filter(|s| !s.is_empty()).unwrap_or_else(|| "-".into()),
                })
            })
        })
        .collect();
    let provenance: Vec<Value> = report
        .entries
        .iter()
        .filter_map(|e| {
            let p = e.provenance.as_ref()?;
            let confirmed: Vec<String> = e
                .reviews
                .iter()
                .map(|c| format!("{} {}", if c.confirmed { "✅" } else { "❌" }, c.login))
                .collect();
            let review_check = e.checks.iter().find(|c| c.name == "review");
            Some(json!({
                "name": e.name.clone().unwrap_or_default(),
                "origin": p.origin,
                "model": match (&p.model, &p.model_version) {
                    (Some(m), Some(v)) => format!("{m} {v}"),
                    (Some(m), None) => m.clone(),
                    _ => "-".into(),
                },
                "generator": p.generator.clone().unwrap_or_else(|| "-".into()),
                "sources": p.sources.len(),
                "approvedBy": if p.approved_by.is_empty() { "-".to_string() } else { p.approved_by.join(", ") },
                "confirmed": if !confirmed.is_empty() {
                    confirmed.join(", ")
                } else {
                    match review_check {
                        Some(c) if c.status == Status::NotRun => "not run".to_string(),
                        _ => "-".to_string(),
                    }
                },
            }))
        })
        .collect();
    json!({
        "verdict": status_name(report.verdict),
        "verdictIcon": icon(report.verdict),
        "stage": report.stage,
        "commit": report.commit,
        "pullRequest": report.pull_request,
        "entryCount": report.entries.len(),
        "errors": report.errors,
        "warnings": report.warnings,
        "entries": entries,
        "findings": findings,
        "findingsOmitted": diags.len().saturating_sub(MAX_FINDINGS),
        "testsNotRun": not_run("test"),
        "tests": report.tests.iter().map(|t| json!({
            "icon": if t.passed { "✅" } else { "❌" },
            "definition": t.definition,
            "case": t.case,
            "alerts": t.alerts,
            "rows": t.rows,
            "failures": t.failures.join("; "),
        })).collect::<Vec<_>>(),
        "testsPassed": report.tests.iter().filter(|t| t.passed).count(),
        "testsFailed": report.tests.iter().filter(|t| !t.passed).count(),
        "volumeNotRun": not_run("dry-run"),
        "volume": report.volume.iter().map(|v| json!({
            "icon": if v.error.is_some() || v.over_budget { "❌" } else { "✅" },
            "definition": v.definition,
            "runs": v.runs,
            "firing": v.firing_runs,
            "alerts": v.alerts,
            "perDay": format!("{:.1}", v.alerts_per_day),
            "budget": v.budget_per_day,
            "entities": if v.entities.is_empty() { "-".to_string() } else { v.entities.join(", ") },
            "details": if v.custom_details.is_empty() { "-".to_string() } else { v.custom_details.join(", ") },
            "error": v.error,
        })).collect::<Vec<_>>(),
        "evidence": evidence,
        "planNotRun": not_run("plan"),
        "plan": report.plan,
        "compiled": compiled,
        "provenance": provenance,
    })
}

/// The Markdown PR comment.
pub fn comment(
    templates: &Templates,
    report: &GateReport,
    db: &SourceDb,
    diags: &[Diagnostic],
) -> Result<String, String> {
    templates.render(GATE_COMMENT, &comment_data(report, db, diags))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test case per definition and check; failures fail, checks not run are
/// skipped (with the reason).
pub fn junit(report: &GateReport) -> String {
    let mut cases = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for e in &report.entries {
        for c in &e.checks {
            tests += 1;
            let head = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml_escape(&e.path),
                c.name
            );
            match c.status {
                Status::Pass => cases.push_str(&format!("{head}/>\n")),
                Status::Fail => {
                    failures += 1;
                    cases.push_str(&format!(
                        "{head}>\n      <failure message=\"{}\"/>\n    </testcase>\n",
                        xml_escape(&c.detail)
                    ));
                }
                Status::NotRun => {
                    skipped += 1;
                    cases.push_str(&format!(
                        "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        xml_escape(&c.detail)
                    ));
                }
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"vigil gate\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">\n  <testsuite name=\"vigil gate ({})\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">\n{cases}  </testsuite>\n</testsuites>\n",
        match report.stage {
            super::Stage::Offline => "offline",
            super::Stage::Trusted => "trusted",
        }
    )
}
