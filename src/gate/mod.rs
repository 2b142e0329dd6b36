//! The PR gate: one verdict over a set of changed definitions, and the record of why.
//!
//! Stage entry: [`evaluate`]. Input: the changed set ([`Change`]; from `git::changed(base,
//! head)` once it exists, from `--all` or explicit paths today), the validated workspace, the
//! policy, shadow evidence ([`evidence`]) and, where the workflow grants it, the pull request's
//! reviews ([`review::PullRequest`], fetched by [`github`]). Output: a [`GateReport`] (plain
//! data, serialized as the JSON verdict) plus the gate's own diagnostics (POL007, POL008,
//! POL010). Renderers for the PR comment, JUnit and the audit log are in [`report`] and
//! [`audit`]. Pure apart from [`github`]: no file system, no printing.
//!
//! Checks per definition: `validate` (schema and Sentinel's limits), `kql` (syntax, binding,
//! lints), `policy` (file-local POL codes), `rollout` (entry in shadow, promotion evidence),
//! `review` (confirmation on GitHub), `compile` (payload per environment), and `test`,
//! `dry-run`, `plan` from [`stages::StageResults`] (a stage that could not run is "not run"
//! with the reason, never a pass).

pub mod audit;
pub mod codeowners;
pub mod evidence;
pub mod github;
pub mod report;
pub mod review;
pub mod stages;

use std::path::PathBuf;

use serde::Serialize;

use crate::compile::{self, RolloutSummary};
use crate::config::Config;
use crate::diagnostics::{code, Diagnostic, Severity};
use crate::hash;
use crate::model::{Definition, Origin, Rollout};
use crate::pipeline::Checked;
use crate::rollout;
use crate::source::{FileId, SourceDb};
use crate::validate::policy::{is_ai, rollout_path};
use crate::yaml::Seg;

/// Where the gate runs: `offline` needs no secrets and is safe for forks; `trusted` runs
/// where the workflow grants credentials, and must confirm reviews.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Offline,
    Trusted,
}

/// How a file changed between the base and the head of the pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    Added,
    Modified,
    Deleted,
    /// No base to compare with (`--all`, explicit paths): judged as if it were new to its
    /// current rollout stage.
    Unknown,
}

/// One entry of the changed set.
#[derive(Clone, Debug)]
pub struct Change {
    /// Repository-relative path.
    pub path: PathBuf,
    pub status: ChangeStatus,
    /// The definition as it was at the base (modified files), for rollout transitions.
    pub base: Option<Definition>,
}

/// What the gate needs.
pub struct Inputs<'a> {
    pub stage: Stage,
    pub changes: &'a [Change],
    /// Load + validate of the head (the whole repository, trees kept).
    pub checked: &'a Checked,
    pub db: &'a SourceDb,
    pub config: &'a Config,
    /// Shadow evidence for promotions.
    pub evidence: &'a [evidence::Evidence],
    /// The pull request, when the workflow provides one.
    pub pull_request: Option<&'a review::PullRequest>,
    /// The commit judged (the PR head, or `GITHUB_SHA`).
    pub commit: Option<String>,
    /// Tests, dry-run and plan as the CLI ran them.
    pub stages: &'a stages::StageResults,
    /// Modified definitions that were AI-drafted at the base and are not at the head.
    pub relabels: &'a [Relabel],
}

/// A definition that was AI-drafted at the base and whose head changes or drops that
/// provenance: how it is judged unless the takeover is confirmed.
#[derive(Clone, Debug)]
pub struct Relabel {
    /// Repository-relative path (as the gate keys changes).
    pub path: String,
    /// The head's definition with the base's provenance: what the AI rules judge.
    pub governed: Definition,
    /// The AI policy checks of the governed definition (POL codes), at the head's positions.
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether a relabelled definition is a confirmed takeover: `provenance.rewritten_by` names
/// who rewrote it, and a review block whose every reviewer is confirmed on GitHub covers it.
fn takeover_confirmed(d: &Definition, reviews: &[review::Confirmation]) -> bool {
    d.provenance()
        .and_then(|p| p.rewritten_by.as_deref())
        .is_some_and(|l| !l.trim().is_empty())
        && d.review().is_some()
        && !reviews.is_empty()
        && reviews.iter().all(|c| c.confirmed)
}

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// The check did not run; `detail` says why. Never counted as a pass.
    NotRun,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

impl Check {
    pub fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name,
            status,
            detail: detail.into(),
        }
    }
}

/// Provenance as the gate reports it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProvenanceReport {
    pub origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    pub sources: Vec<String>,
    pub approved_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_query_sha256: Option<String>,
}

/// The compiled stage of a definition in one environment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Compiled {
    /// `null`: without environment overrides.
    pub environment: Option<String>,
    pub resource: String,
    pub api_version: String,
    pub content_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutSummary>,
}

/// The gate's view of one changed file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub path: String,
    pub change: ChangeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `vigil hash` of the query, for kinds that have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceReport>,
    pub checks: Vec<Check>,
    pub reviews: Vec<review::Confirmation>,
    pub compiled: Vec<Compiled>,
    pub verdict: Status,
    pub errors: usize,
    pub warnings: usize,
}

/// The whole verdict (the `--json` report).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateReport {
    pub version: u32,
    pub verdict: Status,
    pub stage: Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<u64>,
    pub entries: Vec<Entry>,
    /// Stages of the product the gate could not run, with the reason.
    pub not_run: Vec<Check>,
    /// Detection test cases of the changed rules.
    pub tests: Vec<stages::TestRow>,
    /// Alert volume of the changed rules over the sandbox window.
    pub volume: Vec<stages::VolumeRow>,
    /// The plan against the target environment (trusted stage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<stages::PlanSummary>,
    pub errors: usize,
    pub warnings: usize,
}

/// The report and every diagnostic of the changed files (validation's and the gate's own).
pub struct Outcome {
    pub report: GateReport,
    pub diagnostics: Vec<Diagnostic>,
}

/// The diagnostic of a failed stage check (at the query, where the annotation helps most).
fn stage_diagnostic(d: &Definition, c: &Check) -> Diagnostic {
    let (code, what, hint) = match c.name {
        "test" => (
            code::GATE_TEST_FAILED,
            "detection tests failed",
            "run `vigil test` on the rule; fix the query or the tests file beside it",
        ),
        "dry-run" => (
            code::GATE_DRY_RUN_FAILED,
            "the dry-run over the sandbox failed",
            "run `vigil dry-run` on the rule; tune it (threshold, grouping, filters) under [sandbox] alert_budget_per_day",
        ),
        "cost" => (
            code::GATE_COST_OVER_LIMIT,
            "the rule's projected data scanned is over [policy] max_scanned_gb_per_day",
            "narrow the query's time range or tables, run it less often, or raise the limit in the trusted vigil.toml",
        ),
        _ => (
            code::GATE_PLAN_FAILED,
            "the plan against the target environment failed",
            "run `vigil plan --env ENV` to see the whole plan",
        ),
    };
    let span = d.doc.span_at(&[Seg::from("query")], false);
    Diagnostic::new(code, span, format!("{what}: {}", c.detail)).with_hint(hint)
}

fn origin_name(o: Origin) -> &'static str {
    match o {
        Origin::Ai => "ai",
        Origin::Human => "human",
        Origin::Imported => "imported",
        Origin::Tuned => "tuned",
    }
}

fn provenance_report(d: &Definition) -> Option<ProvenanceReport> {
    let p = d.provenance();
    let r = d.review();
    if p.is_none() && r.is_none() {
        return None;
    }
    Some(ProvenanceReport {
        origin: p.map(|p| origin_name(p.origin)).unwrap_or("unstated"),
        model: p.and_then(|p| p.model.clone()),
        model_version: p.and_then(|p| p.model_version.clone()),
        prompt_sha256: p.and_then(|p| p.prompt_sha256.clone()),
        generated_at: p.and_then(|p| p.generated_at.clone()),
        generator: p.and_then(|p| p.generator.clone()),
        sources: p.and_then(|p| p.sources.clone()).unwrap_or_default(),
        approved_by: r.map(|r| r.approved_by.to_vec()).unwrap_or_default(),
        review_query_sha256: r.map(|r| r.query_sha256.clone()),
    })
}

/// The environments the gate judges: those of vigil.toml, or the definition as written when
/// none are configured.
pub fn environments(config: &Config) -> Vec<Option<String>> {
    if config.environments.is_empty() {
        vec![None]
    } else {
        config.environments.keys().cloned().map(Some).collect()
    }
}

fn summarize(diags: &[&Diagnostic], name: &'static str, what: &str) -> Check {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    if errors > 0 {
        let mut codes: Vec<&str> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.as_str())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        Check::new(
            name,
            Status::Fail,
            format!("{errors} error(s) in {what}: {}", codes.join(", ")),
        )
    } else if warnings > 0 {
        Check::new(name, Status::Pass, format!("{warnings} warning(s)"))
    } else {
        Check::new(name, Status::Pass, "clean")
    }
}

/// Rollout transitions of AI content: new content enters in shadow (POL007); a stage above
/// shadow that is higher than at the base (or with no base known) needs evidence (POL008).
fn rollout_check(
    d: &Definition,
    change: &Change,
    envs: &[Option<String>],
    inputs: &Inputs<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Check {
    if !is_ai(d) {
        return Check::new(
            "rollout",
            Status::Pass,
            "not AI-drafted: no rollout rule applies",
        );
    }
    if !matches!(
        d.kind(),
        crate::model::ContentKind::Rule | crate::model::ContentKind::Hunt
    ) {
        return Check::new("rollout", Status::Pass, "this kind has no rollout stage");
    }
    let policy = &inputs.config.policy.rollout;
    let qhash = d.query().map(hash::query_sha256).unwrap_or_default();
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    for env in envs {
        let head = rollout::effective(d, env.as_deref());
        let env_name = env.as_deref().unwrap_or("default");
        // The YAML path that decides the stage in this environment.
        let decided_by_env = env
            .as_deref()
            .and_then(|e| d.environments()?.get(e)?.rollout)
            .is_some();
        let path = rollout_path(if decided_by_env { env.as_deref() } else { None });
        let span = d.doc.span_at(&path, false);
        if head == Rollout::Shadow {
            notes.push(format!("{env_name}: shadow"));
            continue;
        }
        if change.status == ChangeStatus::Added {
            failures.push(format!("{env_name}: enters as {}", rollout::name(head)));
            diags.push(
                Diagnostic::new(
                    code::AI_ENTRY_NOT_SHADOW,
                    span,
                    format!(
                        "new AI-drafted content must enter as rollout: shadow; in {env_name} it is {}",
                        rollout::name(head)
                    ),
                )
                .with_hint("set rollout: shadow (and no environment override above it); promote later with shadow evidence"),
            );
            continue;
        }
        let base = change
            .base
            .as_ref()
            .map(|b| rollout::effective(b, env.as_deref()));
        if base.is_some_and(|b| rollout::rank(b) >= rollout::rank(head)) {
            notes.push(format!("{env_name}: {} (unchanged)", rollout::name(head)));
            continue;
        }
        let from = base.map(rollout::name).unwrap_or("unknown (no base)");
        let found = inputs.evidence.iter().find(|e| {
            Some(e.id.as_str()) == d.id().or(Some(d.resource_name()))
                && (e.environment.is_none() || e.environment.as_deref() == env.as_deref())
        });
        // Canary → active needs the canary's outcomes; other promotions its shadow volume.
        let canary_to_active = base == Some(Rollout::Canary) && head == Rollout::Active;
        let found = if canary_to_active {
            inputs
                .evidence
                .iter()
                .filter(|e| {
                    Some(e.id.as_str()) == d.id().or(Some(d.resource_name()))
                        && (e.environment.is_none() || e.environment.as_deref() == env.as_deref())
                })
                .find(|e| e.is_canary())
                .or(found)
        } else {
            found
        };
        let judgement = found.map(|e| {
            if canary_to_active {
                evidence::judge_canary(e, &qhash, policy)
            } else {
                evidence::judge(e, &qhash, policy)
            }
        });
        match judgement {
            Some(j) if j.ok => notes.push(format!(
                "{env_name}: {from} -> {} with evidence: {}",
                rollout::name(head),
                j.reason
            )),
            other => {
                let why = match other {
                    Some(j) => j.reason,
                    None if canary_to_active => format!(
                        "no canary outcomes (classified incidents) for {} in {env_name}",
                        d.id().unwrap_or(d.resource_name())
                    ),
                    None => format!(
                        "no shadow evidence for {} in {env_name}",
                        d.id().unwrap_or(d.resource_name())
                    ),
                };
                failures.push(format!(
                    "{env_name}: {from} -> {}: {why}",
                    rollout::name(head)
                ));
                diags.push(
                    Diagnostic::new(
                        code::PROMOTION_WITHOUT_EVIDENCE,
                        span,
                        format!(
                            "promotion of AI-drafted content to {} in {env_name} needs {}: {why}",
                            rollout::name(head),
                            if canary_to_active { "canary outcomes" } else { "shadow evidence" }
                        ),
                    )
                    .with_hint(if canary_to_active {
                        format!(
                            "run it in canary until at least {} of its incidents are closed with a false-positive rate up to {:.0}% (`vigil outcomes`); the trusted gate reads them from the query API, or pass them with --evidence FILE",
                            policy.canary_min_closed,
                            policy.canary_max_fp_rate * 100.0
                        )
                    } else {
                        format!(
                            "run it in shadow for at least {} days under {} alerts/day, then pass the count with --evidence FILE",
                            policy.min_shadow_days, policy.max_shadow_alerts_per_day
                        )
                    }),
                );
            }
        }
    }
    if failures.is_empty() {
        Check::new("rollout", Status::Pass, notes.join("; "))
    } else {
        Check::new("rollout", Status::Fail, failures.join("; "))
    }
}

/// Environments whose `guard_trip:` the base has and the head does not.
fn guard_cleared(d: &Definition, change: &Change) -> Vec<String> {
    let trips = |x: &Definition| -> Vec<String> {
        x.environments()
            .map(|e| {
                e.iter()
                    .filter(|(_, o)| o.guard_trip.is_some())
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let Some(base) = &change.base else {
        return Vec::new();
    };
    let now = trips(d);
    trips(base)
        .into_iter()
        .filter(|e| !now.contains(e))
        .collect()
}

/// A guard trip removed (the rule re-enabled or re-promoted) needs a review confirmed on
/// GitHub (POL013). `None` when no trip was removed.
fn guard_check(
    d: &Definition,
    change: &Change,
    inputs: &Inputs<'_>,
    reviews: &[review::Confirmation],
    diags: &mut Vec<Diagnostic>,
) -> Option<Check> {
    let cleared = guard_cleared(d, change);
    if cleared.is_empty() {
        return None;
    }
    let envs = cleared.join(", ");
    if inputs.pull_request.is_none() {
        return Some(Check::new(
            "guard",
            Status::NotRun,
            format!("not run: the guard's trip in {envs} is removed; the trusted stage confirms the review it needs"),
        ));
    }
    if !reviews.is_empty() && reviews.iter().all(|c| c.confirmed) {
        return Some(Check::new(
            "guard",
            Status::Pass,
            format!("the guard's trip in {envs} is removed with a confirmed review"),
        ));
    }
    let span = match d.environments() {
        Some(_) => d.doc.span_at(&[Seg::from("environments")], true),
        None => d.doc.span_at(&[], false),
    };
    diags.push(
        Diagnostic::new(
            code::GUARD_CLEARED_WITHOUT_REVIEW,
            span,
            format!("re-enabling a rule the guard stopped in {envs} needs a review confirmed on GitHub"),
        )
        .with_hint("add a review: block naming the approver, who approves this pull request on its head commit"),
    );
    Some(Check::new(
        "guard",
        Status::Fail,
        format!("the guard's trip in {envs} is removed without a confirmed review"),
    ))
}

fn review_check(
    d: &Definition,
    path: &str,
    inputs: &Inputs<'_>,
    diags: &mut Vec<Diagnostic>,
) -> (Check, Vec<review::Confirmation>) {
    let Some(r) = d.review() else {
        return (
            Check::new("review", Status::Pass, "no review block to confirm"),
            Vec::new(),
        );
    };
    let Some(pr) = inputs.pull_request else {
        return (
            Check::new(
                "review",
                Status::NotRun,
                "not run: no pull request context (GITHUB_TOKEN, GITHUB_REPOSITORY, PR number); the trusted stage confirms reviews",
            ),
            Vec::new(),
        );
    };
    let confirmations = review::confirm(path, r, d.provenance(), pr, &inputs.config.policy.review);
    let span = d
        .doc
        .span_at(&[Seg::from("review"), Seg::from("approved_by")], false);
    let mut failed = Vec::new();
    for c in confirmations.iter().filter(|c| !c.confirmed) {
        failed.push(c.reason.clone());
        diags.push(
            Diagnostic::new(
                code::REVIEW_NOT_CONFIRMED,
                span,
                format!("review by {} is not confirmed: {}", c.login, c.reason),
            )
            .with_hint(format!(
                "the named reviewer approves pull request #{} on its head commit {}",
                pr.number,
                pr.head_sha.get(..7).unwrap_or(&pr.head_sha)
            )),
        );
    }
    let check = if failed.is_empty() {
        Check::new(
            "review",
            Status::Pass,
            confirmations
                .iter()
                .map(|c| c.reason.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    } else {
        Check::new("review", Status::Fail, failed.join("; "))
    };
    (check, confirmations)
}

fn compile_all(d: &Definition, envs: &[Option<String>], config: &Config) -> Vec<Compiled> {
    envs.iter()
        .map(|env| {
            let opts = compile::Options::for_env(config, &config.compile, env.as_deref());
            let a = compile::compile_one(d, &opts);
            Compiled {
                environment: env.clone(),
                resource: a.resource.path,
                api_version: a.resource.api_version,
                content_hash: a.content_hash,
                rollout: a.rollout,
            }
        })
        .collect()
}

/// Run the gate over the changed set.
pub fn evaluate(inputs: &Inputs<'_>) -> Outcome {
    let envs = environments(inputs.config);
    let mut all_diags: Vec<Diagnostic> = Vec::new();
    let mut entries = Vec::new();
    // vigil.toml problems concern every definition.
    let config_diags: Vec<&Diagnostic> = inputs
        .checked
        .diagnostics
        .iter()
        .filter(|d| inputs.db.path(d.span.file).as_os_str() == "vigil.toml")
        .collect();
    all_diags.extend(config_diags.iter().map(|d| (*d).clone()));
    for change in inputs.changes {
        let path = crate::diagnostics::render::display_path(&change.path);
        let file: Option<FileId> = inputs
            .db
            .iter()
            .find(|(_, f)| crate::diagnostics::render::display_path(&f.path) == path)
            .map(|(id, _)| id);
        let def = file.and_then(|f| inputs.checked.definitions.iter().find(|d| d.file == f));
        let file_diags: Vec<&Diagnostic> = match file {
            Some(f) => inputs
                .checked
                .diagnostics
                .iter()
                .filter(|d| d.span.file == f)
                .collect(),
            None => Vec::new(),
        };
        all_diags.extend(file_diags.iter().map(|d| (*d).clone()));
        let mut checks = Vec::new();
        let mut gate_diags = Vec::new();
        let mut reviews = Vec::new();
        let mut compiled = Vec::new();
        if change.status == ChangeStatus::Deleted {
            checks.push(Check::new(
                "validate",
                Status::Pass,
                "deleted: nothing to validate; the plan deletes what this repository owns",
            ));
        } else {
            let by = |p: &str| -> Vec<&Diagnostic> {
                file_diags
                    .iter()
                    .copied()
                    .filter(|d| d.code.as_str().starts_with(p))
                    .collect()
            };
            let mut validate = by("VG");
            validate.extend(config_diags.iter().copied());
            checks.push(summarize(
                &validate,
                "validate",
                "schema and Sentinel's limits",
            ));
            checks.push(summarize(&by("KQL"), "kql", "the query"));
            checks.push(summarize(
                &by("POL"),
                "policy",
                "provenance, review and allowlists",
            ));
            match def {
                Some(d) => {
                    let (c, r) = review_check(d, &path, inputs, &mut gate_diags);
                    reviews = r;
                    // AI content relabelled at the head stays AI-governed unless the takeover
                    // is confirmed.
                    let relabel = inputs.relabels.iter().find(|x| x.path == path);
                    let governed = match relabel {
                        Some(x) if !takeover_confirmed(d, &reviews) => {
                            gate_diags.push(
                                Diagnostic::new(
                                    code::AI_RELABEL,
                                    d.doc.span_at(&[Seg::from("provenance")], true),
                                    "this definition was AI-drafted at the base; changing or removing its provenance does not make it human-written: it is judged as AI content",
                                )
                                .with_hint("to take it over, set provenance.rewritten_by to your login and have a reviewer named in review.approved_by approve the pull request"),
                            );
                            gate_diags.extend(x.diagnostics.iter().cloned());
                            checks.push(Check::new(
                                "provenance",
                                Status::Fail,
                                "AI-drafted at the base: a relabel needs provenance.rewritten_by and a confirmed review",
                            ));
                            &x.governed
                        }
                        Some(_) => {
                            checks.push(Check::new(
                                "provenance",
                                Status::Pass,
                                "taken over from AI content: rewritten_by with a confirmed review",
                            ));
                            d
                        }
                        None => d,
                    };
                    checks.push(rollout_check(
                        governed,
                        change,
                        &envs,
                        inputs,
                        &mut gate_diags,
                    ));
                    if let Some(g) = guard_check(d, change, inputs, &reviews, &mut gate_diags) {
                        checks.push(g);
                    }
                    checks.push(c);
                    if file_diags.iter().any(|x| x.is_error())
                        || config_diags.iter().any(|x| x.is_error())
                    {
                        checks.push(Check::new(
                            "compile",
                            Status::NotRun,
                            "not run: the definition has errors",
                        ));
                    } else {
                        compiled = compile_all(d, &envs, inputs.config);
                        checks.push(Check::new(
                            "compile",
                            Status::Pass,
                            format!("{} environment(s)", compiled.len()),
                        ));
                    }
                }
                None => {
                    // A file at the head that loads to no definition fails, unless it is a
                    // moved stub or a YAML file outside the content folders.
                    let benign = file_diags
                        .iter()
                        .any(|x| x.code == code::MOVED_STUB || x.code == code::UNCLASSIFIED_FILE)
                        && !file_diags.iter().any(|x| x.is_error());
                    if !benign {
                        checks.push(Check::new(
                            "load",
                            Status::Fail,
                            "the file holds no definition vigil can load; the gate cannot judge it",
                        ));
                        if let Some(f) = file {
                            gate_diags.push(
                                Diagnostic::new(
                                    code::GATE_UNLOADABLE,
                                    crate::source::Span::file_start(f),
                                    "this file does not load into a definition; a file the gate cannot read does not pass",
                                )
                                .with_hint("fix the errors above (or delete the file)"),
                            );
                        }
                    }
                    checks.push(Check::new(
                        "compile",
                        Status::NotRun,
                        "not run: the file holds no definition",
                    ))
                }
            }
            let cost = inputs.config.policy.max_scanned_gb_per_day.is_some()
                && def.is_some_and(|d| matches!(d.item, crate::model::Item::Rule(_)));
            let names: &[&'static str] = if cost {
                &["test", "dry-run", "plan", "cost"]
            } else {
                &["test", "dry-run", "plan"]
            };
            for &name in names {
                let c = inputs.stages.check_for(&path, name);
                if let (Status::Fail, Some(d)) = (c.status, def) {
                    gate_diags.push(stage_diagnostic(d, &c));
                }
                checks.push(c);
            }
        }
        if change.status == ChangeStatus::Deleted {
            if let Some(c) = inputs
                .stages
                .checks
                .get(&path)
                .and_then(|cs| cs.iter().find(|c| c.name == "plan"))
            {
                checks.push(c.clone());
            }
        }
        all_diags.extend(gate_diags.iter().cloned());
        let errors = file_diags.iter().filter(|d| d.is_error()).count()
            + gate_diags.iter().filter(|d| d.is_error()).count();
        let warnings = file_diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        let verdict = if checks.iter().any(|c| c.status == Status::Fail) {
            Status::Fail
        } else {
            Status::Pass
        };
        entries.push(Entry {
            path,
            change: change.status,
            kind: def.map(|d| d.kind().as_str()),
            id: def.map(|d| d.id().unwrap_or(d.resource_name()).to_string()),
            name: def.map(|d| d.name().to_string()),
            query_sha256: def.and_then(|d| d.query()).map(hash::query_sha256),
            provenance: def.and_then(provenance_report),
            checks,
            reviews,
            compiled,
            verdict,
            errors,
            warnings,
        });
    }
    let config_errors = config_diags.iter().filter(|d| d.is_error()).count();
    let errors = entries.iter().map(|e| e.errors).sum::<usize>() + config_errors;
    let warnings = entries.iter().map(|e| e.warnings).sum();
    let verdict = if config_errors > 0 || entries.iter().any(|e| e.verdict == Status::Fail) {
        Status::Fail
    } else {
        Status::Pass
    };
    crate::diagnostics::sort(&mut all_diags);
    all_diags.dedup();
    Outcome {
        report: GateReport {
            version: 1,
            verdict,
            stage: inputs.stage,
            commit: inputs.commit.clone(),
            pull_request: inputs.pull_request.map(|p| p.number),
            entries,
            not_run: inputs.stages.not_run.clone(),
            tests: inputs.stages.tests.clone(),
            volume: inputs.stages.volume.clone(),
            plan: inputs.stages.plan.clone(),
            errors,
            warnings,
        },
        diagnostics: all_diags,
    }
}
