//! The audit log: one JSON line per gate decision and definition (commit, pull request,
//! definition, provenance, checks, approving reviews, verdict), appended to a file that the
//! release workflow keeps as an artifact, so one chain links each deployed rule to its commit,
//! approval, checks and provenance.
//!
//! This module builds the lines; the CLI appends them.

use serde::Serialize;

use super::review::Confirmation;
use super::{ChangeStatus, Check, GateReport, ProvenanceReport, Stage, Status};

/// One line of the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct Record<'a> {
    /// When the decision was made (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<&'a str>,
    pub vigil_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<&'a str>,
    pub stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<u64>,
    pub definition: DefinitionRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<&'a ProvenanceReport>,
    pub checks: &'a [Check],
    /// Confirmed approvals only: the reviews that count.
    pub approving_reviews: Vec<&'a Confirmation>,
    /// This definition's verdict, and the whole gate's.
    pub verdict: Status,
    pub gate_verdict: Status,
}

#[derive(Clone, Debug, Serialize)]
pub struct DefinitionRef<'a> {
    pub path: &'a str,
    pub change: ChangeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_sha256: Option<&'a str>,
}

/// The audit lines of a gate run (each ends with a newline).
pub fn lines(report: &GateReport, recorded_at: Option<&str>, repository: Option<&str>) -> String {
    let mut out = String::new();
    for e in &report.entries {
        let r = Record {
            recorded_at,
            vigil_version: env!("CARGO_PKG_VERSION"),
            repository,
            stage: report.stage,
            commit: report.commit.as_deref(),
            pull_request: report.pull_request,
            definition: DefinitionRef {
                path: &e.path,
                change: e.change,
                kind: e.kind,
                id: e.id.as_deref(),
                name: e.name.as_deref(),
                query_sha256: e.query_sha256.as_deref(),
            },
            provenance: e.provenance.as_ref(),
            checks: &e.checks,
            approving_reviews: e.reviews.iter().filter(|c| c.confirmed).collect(),
            verdict: e.verdict,
            gate_verdict: report.verdict,
        };
        out.push_str(&serde_json::to_string(&r).expect("audit records serialize"));
        out.push('\n');
    }
    out
}
