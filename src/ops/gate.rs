//! `vigil gate`: the PR check. Validate + lints + policy + review confirmation + compile +
//! detection tests + the local dry-run (+ in the trusted stage the plan against `--env` and
//! shadow evidence from its query API) over the changed set; the outcome carries the verdict
//! and every report's content, which the CLI writes.

use std::path::PathBuf;

use super::{Context, OpError};
use crate::deploy::resource::{RType, ResKey};
use crate::diagnostics::{code, Diagnostic};
use crate::dryrun::{self, alerts};
use crate::gate::stages::{self, StageResults};
use crate::gate::{self, evidence, github, Change, ChangeStatus, Check, GateReport, Stage, Status};
use crate::model::load::SiblingReader;
use crate::model::{Definition, Item, Rollout};
use crate::sandbox::{self, SandboxConfig};
use crate::source::SourceDb;
use crate::{pipeline, rollout, workspace};

/// What to judge and how.
#[derive(Clone, Debug)]
pub struct GateOptions {
    /// Files or folders to judge (with `all`: the whole repository).
    pub paths: Vec<PathBuf>,
    pub all: bool,
    /// Judge what changed since this ref.
    pub base: Option<String>,
    /// The head of the comparison (default: the work tree).
    pub head: Option<String>,
    /// Trusted stage: the environments to plan against and read shadow evidence from.
    pub env: Vec<String>,
    pub stage: Stage,
    /// Shadow evidence for promotions (JSON; see `gate::evidence`).
    pub evidence: Option<PathBuf>,
    /// Take `[policy]` from this vigil.toml instead of the repository's.
    pub policy: Option<PathBuf>,
    /// Pull request number (default: from the GitHub event).
    pub pr: Option<u64>,
    /// Render the Markdown PR comment.
    pub comment: bool,
}

/// The verdict and the content of every report.
pub struct GateOutcome {
    pub stage: Stage,
    pub report: GateReport,
    pub diagnostics: Vec<Diagnostic>,
    pub db: SourceDb,
    /// The Markdown PR comment (when asked for).
    pub comment: Option<String>,
    /// One JSON line per definition, for the audit log.
    pub audit: String,
}

impl GateOutcome {
    pub fn passed(&self) -> bool {
        self.report.verdict == Status::Pass
    }
}

fn now_rfc3339() -> Option<String> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(evidence::format_rfc3339(secs as i64))
}

pub fn gate(cx: &Context, o: &GateOptions) -> Result<GateOutcome, OpError> {
    if !o.all && o.paths.is_empty() && o.base.is_none() {
        return Err(OpError::usage(
            "say what to judge: --base REF (what changed), --all, or files and folders",
        ));
    }
    // The trusted configuration: `--policy FILE` (the workflow passes the base branch's
    // vigil.toml), else the base ref's vigil.toml read through git, else what the context has
    // (`VIGIL_TRUSTED_CONFIG`, or none: a local run judges the repository as it is).
    let owned;
    let cx = match (&o.policy, &o.base) {
        (Some(p), _) => {
            let trusted = super::context::load_config_file(&cx.path(p))?;
            let mut c = cx.derive();
            let dir = cx
                .path(p)
                .parent()
                .map(|d| d.to_path_buf())
                .unwrap_or_default();
            c.set_trusted(
                trusted,
                p.display().to_string(),
                super::context::TrustedRoot::Dir(dir),
            );
            owned = c;
            &owned
        }
        (None, Some(base)) if cx.trusted_from.is_none() => {
            let trusted = match crate::git::file_at(&cx.root, base, "vigil.toml")? {
                Some(text) => {
                    let (c, diags) = crate::config::parse(crate::source::FileId(0), &text);
                    if !diags.is_empty() {
                        let mut db = SourceDb::new();
                        db.add(format!("vigil.toml at {base}"), text.as_str());
                        return Err(OpError::invalid(
                            format!(
                                "the base's vigil.toml ({base}) has {} problem(s)",
                                diags.len()
                            ),
                            db,
                            diags,
                        ));
                    }
                    c
                }
                None => crate::config::Config::default(),
            };
            let mut c = cx.derive();
            c.set_trusted(
                trusted,
                format!("vigil.toml at {base}"),
                super::context::TrustedRoot::GitRef(base.clone()),
            );
            owned = c;
            &owned
        }
        _ => cx,
    };
    let root = cx.root.clone();
    // With --head, the head's tree is also written to a scratch folder, where detection tests
    // and the dry-run run (they read test files and sandbox data beside the definitions).
    let mut head_tree: Option<ScratchDir> = None;
    let (ws, siblings): (workspace::Workspace, Box<dyn SiblingReader>) = match &o.head {
        Some(h) => {
            let (ws, src, _) = crate::git::workspace_at_with(&root, h, Some(&cx.config))?;
            let dir = ScratchDir::new("vigil-gate-head").map_err(|e| {
                OpError::internal(format!("creating a folder for the head's tree: {e}"))
            })?;
            crate::git::materialize(&root, h, dir.path())?;
            head_tree = Some(dir);
            (ws, Box::new(src))
        }
        None => (cx.workspace(), Box::new(cx.siblings())),
    };
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, siblings.as_ref());
    let checked = pipeline::check(&ws, siblings.as_ref(), Some(&kql));

    let changes: Vec<Change> = match &o.base {
        Some(base) => {
            let (c, mut bases) =
                crate::git::changed_with_base(&root, base, o.head.as_deref(), Some(&cx.config))?;
            let mut v = Vec::new();
            for (list, status) in [
                (&c.added, ChangeStatus::Added),
                (&c.modified, ChangeStatus::Modified),
                (&c.deleted, ChangeStatus::Deleted),
            ] {
                for d in list {
                    v.push(Change {
                        path: PathBuf::from(&d.path),
                        status,
                        base: bases.remove(&d.path),
                    });
                }
            }
            v.sort_by(|x, y| x.path.cmp(&y.path));
            v
        }
        None => {
            // Every file, or those under the given paths.
            let mut files: Vec<PathBuf> = ws
                .files
                .iter()
                .chain(&ws.unreadable)
                .map(|&f| ws.db.path(f).to_path_buf())
                .collect();
            files.sort();
            if !o.all {
                let wanted: Vec<PathBuf> = o.paths.iter().map(|p| super::rel_of(cx, p)).collect();
                for w in &wanted {
                    if !files.iter().any(|f| f.starts_with(w)) {
                        return Err(OpError::usage(format!(
                            "{} holds no content file",
                            w.display()
                        )));
                    }
                }
                files.retain(|f| wanted.iter().any(|w| f.starts_with(w)));
            }
            files
                .into_iter()
                .map(|path| Change {
                    path,
                    status: ChangeStatus::Unknown,
                    base: None,
                })
                .collect()
        }
    };

    let file_evidence = match &o.evidence {
        Some(p) => {
            let p = cx.path(p);
            let text = std::fs::read_to_string(&p).map_err(|e| {
                OpError::usage(format!("reading the evidence file {}: {e}", p.display()))
            })?;
            let f: evidence::EvidenceFile = serde_json::from_str(&text).map_err(|e| {
                OpError::usage(format!("{} is not a vigil evidence file: {e}", p.display()))
            })?;
            f.items
        }
        None => Vec::new(),
    };

    let stage = o.stage;
    let ctx =
        github::GithubContext::from_env(|k| cx.var(k), |p| std::fs::read_to_string(p).ok(), o.pr)
            .map_err(|e| OpError::usage(format!("{e:#}")))?;
    if stage == Stage::Trusted && ctx.is_none() {
        return Err(OpError::usage(
            "the trusted stage confirms reviews on GitHub: set GITHUB_TOKEN and GITHUB_REPOSITORY (and run on a pull request, or pass --pr N)",
        ));
    }
    let pr = match &ctx {
        Some(c) => Some(github::fetch(c).map_err(|e| {
            OpError::new(
                super::Failure::Setup,
                format!("reading the pull request from GitHub: {e:#}"),
            )
        })?),
        None => None,
    };
    let commit = pr
        .as_ref()
        .map(|p| p.head_sha.clone())
        .or_else(|| cx.var("GITHUB_SHA").filter(|s| !s.is_empty()));

    // The product's stages, run for the changed set.
    let mut st = StageResults::default();
    let stage_root = head_tree
        .as_ref()
        .map(|d| d.path().to_path_buf())
        .unwrap_or_else(|| root.clone());
    run_local_stages(cx, &stage_root, &ws, &checked, &changes, &mut st);
    let mut evidence_items = file_evidence.clone();
    match stage {
        Stage::Offline => st.not_run.push(Check::new(
            "plan",
            Status::NotRun,
            "not run: the plan against real workspaces belongs to the trusted stage",
        )),
        Stage::Trusted => {
            if o.env.is_empty() {
                st.not_run.push(Check::new(
                    "plan",
                    Status::NotRun,
                    "not run: no --env ENV (the trusted stage plans against the target environment)",
                ));
            }
            let several = o.env.len() > 1;
            for env_name in &o.env {
                let found = run_trusted_stages(
                    cx,
                    env_name,
                    several,
                    &ws,
                    &checked,
                    &changes,
                    &file_evidence,
                    &mut st,
                )?;
                evidence_items.extend(found);
            }
        }
    }

    let relabels = relabels(&ws, &checked, &changes, &kql);
    let outcome = gate::evaluate(&gate::Inputs {
        stage,
        changes: &changes,
        checked: &checked,
        db: &ws.db,
        config: &ws.config,
        evidence: &evidence_items,
        pull_request: pr.as_ref(),
        commit,
        stages: &st,
        relabels: &relabels,
    });
    let mut outcome = outcome;
    // The pull request's own changes to trust-deciding keys: shown, not applied.
    if let Some(from) = &cx.trusted_from {
        let toml = ws
            .db
            .iter()
            .find(|(_, f)| f.path == std::path::Path::new("vigil.toml"))
            .map(|(id, _)| id);
        for ch in &cx.trust_changes {
            let Some(f) = toml else { break };
            let span = match ch.span {
                Some((a, b)) => crate::source::Span::new(f, a, b),
                None => crate::source::Span::file_start(f),
            };
            outcome.diagnostics.push(
                Diagnostic::new(
                    code::TRUSTED_CONFIG_CHANGE,
                    span,
                    format!(
                        "this pull request changes `{}` in vigil.toml, a key that decides trust; the trusted configuration ({from}) applies",
                        ch.key
                    ),
                )
                .with_hint("the change takes effect once it is merged into the base branch"),
            );
            outcome.report.warnings += 1;
        }
        crate::diagnostics::sort(&mut outcome.diagnostics);
    }
    let comment = if o.comment {
        let templates = cx.templates()?;
        Some(
            gate::report::comment(&templates, &outcome.report, &ws.db, &outcome.diagnostics)
                .map_err(OpError::internal)?,
        )
    } else {
        None
    };
    let repo = cx.var("GITHUB_REPOSITORY");
    let audit = gate::audit::lines(&outcome.report, now_rfc3339().as_deref(), repo.as_deref());
    Ok(GateOutcome {
        stage,
        report: outcome.report,
        diagnostics: outcome.diagnostics,
        db: ws.db,
        comment,
        audit,
    })
}

/// Modified definitions that were AI-drafted at the base and are not (or carry no provenance)
/// at the head: each with the head's definition under the base's provenance, and the AI policy
/// checks of that governed view (review required, provenance, models, constructs).
fn relabels(
    ws: &workspace::Workspace,
    checked: &pipeline::Checked,
    changes: &[Change],
    kql: &crate::validate::kql::KqlAnalyzer,
) -> Vec<gate::Relabel> {
    let mut out = Vec::new();
    for c in changes
        .iter()
        .filter(|c| c.status == ChangeStatus::Modified)
    {
        let Some(base) = &c.base else { continue };
        if !crate::validate::policy::is_ai(base) {
            continue;
        }
        let path = key(&c.path);
        let Some(d) = checked.definitions.iter().find(|d| key(&d.path) == path) else {
            continue;
        };
        if crate::validate::policy::is_ai(d) {
            continue;
        }
        let mut governed = d.clone();
        *governed.provenance_mut() = base.provenance().cloned();
        let ctx = crate::validate::Context {
            environments: ws.config.environments.keys().cloned().collect(),
            analyzer: Some(kql),
            policy: &ws.config.policy,
        };
        let diagnostics =
            crate::validate::check_definition(&governed, &ws.db.get(d.file).text, &ctx)
                .into_iter()
                .filter(|x| x.code.as_str().starts_with("POL"))
                .collect();
        out.push(gate::Relabel {
            path,
            governed,
            diagnostics,
        });
    }
    out
}

/// A folder under the system's temporary directory, removed when dropped.
struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    fn new(prefix: &str) -> std::io::Result<ScratchDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(ScratchDir(p))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path of a change as the gate keys it.
fn key(p: &std::path::Path) -> String {
    crate::diagnostics::render::display_path(p)
}

/// Run detection tests and the local dry-run over the changed rules, in `root`: the work tree,
/// or with `--head` a scratch copy of the head's tree.
fn run_local_stages(
    cx: &Context,
    root: &std::path::Path,
    ws: &workspace::Workspace,
    checked: &pipeline::Checked,
    changes: &[Change],
    st: &mut StageResults,
) {
    let judged: Vec<(String, &Definition)> = changes
        .iter()
        .filter(|c| c.status != ChangeStatus::Deleted)
        .filter_map(|c| {
            let k = key(&c.path);
            let d = checked.definitions.iter().find(|d| key(&d.path) == k)?;
            Some((k, d))
        })
        .collect();
    let cfg = SandboxConfig::from_config(&ws.config);
    // Detection tests.
    for (path, d) in &judged {
        if !matches!(d.item, Item::Rule(_)) {
            st.add(
                path,
                Check::new(
                    "test",
                    Status::NotRun,
                    "not run: detection tests cover analytics rules",
                ),
            );
            continue;
        }
        let tf = dryrun::tests_path(&root.join(&d.path));
        if !tf.is_file() {
            st.add(
                path,
                Check::new(
                    "test",
                    Status::NotRun,
                    format!(
                        "not run: no tests (no {})",
                        key(&workspace::relative(root, &tf))
                    ),
                ),
            );
            continue;
        }
        let results = match dryrun::read_tests_in(root, &tf) {
            Ok(tests) => dryrun::run_rule_tests(
                root,
                d,
                &tests,
                &tf,
                &checked.definitions,
                cfg.now,
                &ws.config.schemas,
            ),
            Err(e) => vec![dryrun::CaseResult::unreadable(d.name(), &tf, e)],
        };
        let (check, rows) = stages::test_check(path, &results);
        st.add(path, check);
        st.tests.extend(rows);
    }
    // The local dry-run over the sandbox.
    let dir = match crate::paths::contained(
        root,
        std::path::Path::new(""),
        &cfg.data.to_string_lossy(),
    ) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => root.join(&cfg.data),
        Err(e) => {
            // A pull request pointing the sandbox outside the repository fails the check; it
            // is not a reason to skip it.
            for (path, _) in &judged {
                st.add(
                    path,
                    Check::new("dry-run", Status::Fail, format!("[sandbox] data: {e}")),
                );
            }
            return;
        }
    };
    if !dir.is_dir() {
        st.not_run.push(Check::new(
            "dry-run",
            Status::NotRun,
            format!(
                "not run: no sandbox data in {} (`vigil sandbox init` writes it)",
                key(&cfg.data)
            ),
        ));
        return;
    }
    let rules: Vec<&(String, &Definition)> = judged
        .iter()
        .filter(|(path, d)| {
            if matches!(d.item, Item::Rule(_)) {
                true
            } else {
                st.add(
                    path,
                    Check::new(
                        "dry-run",
                        Status::NotRun,
                        "not run: only analytics rules raise alerts",
                    ),
                );
                false
            }
        })
        .collect();
    if rules.is_empty() {
        return;
    }
    let sb = sandbox::for_repository(root, &dir, &checked.definitions, &ws.config);
    let (start, end) = cfg.window();
    for (path, d) in rules {
        let Item::Rule(rule) = &d.item else { continue };
        let runs = if cx.out_of_run_time() {
            Err(crate::engine::EngineError::new(
                cx.out_of_run_time_message(),
                None,
            ))
        } else {
            alerts::simulate(rule, &sb, start, end)
        };
        let (check, row) = stages::volume_check(
            path,
            d.name(),
            runs.as_deref().map_err(|e| e.message.clone()),
            cfg.days as f64,
            cfg.alert_budget_per_day,
        );
        st.add(path, check);
        st.volume.push(row);
    }
}

/// Trusted stage for one environment: the plan against it and shadow evidence from its query
/// API (for every promotion in that environment). Returns the evidence read.
/// The definition a change holds at the head.
fn head_definition<'a>(checked: &'a pipeline::Checked, c: &Change) -> Option<&'a Definition> {
    checked
        .definitions
        .iter()
        .find(|d| key(&d.path) == key(&c.path))
}

#[allow(clippy::too_many_arguments)]
fn run_trusted_stages(
    cx: &Context,
    env_name: &String,
    several: bool,
    ws: &workspace::Workspace,
    checked: &pipeline::Checked,
    changes: &[Change],
    file_evidence: &[evidence::Evidence],
    st: &mut StageResults,
) -> Result<Vec<evidence::Evidence>, OpError> {
    let s = match cx.session(env_name) {
        Ok(x) => x,
        Err(e) if e.code == Some(code::DEP_CREDENTIAL) => {
            st.not_run.push(Check::new(
                "plan",
                Status::NotRun,
                format!("not run: no credentials for `{env_name}`: {}", e.message),
            ));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    if checked.diagnostics.iter().any(|d| d.is_error()) {
        st.not_run.push(Check::new(
            "plan",
            Status::NotRun,
            "not run: the content has errors (a plan would delete what failed)",
        ));
        return Ok(Vec::new());
    }
    let cfg = super::deploy::env_compile_config(&ws.config, &s.env);
    let opts = crate::compile::Options::for_env(&ws.config, &cfg, Some(&s.env.name));
    let artifacts: Vec<_> = pipeline::compilable(checked)
        .iter()
        .map(|d| crate::compile::compile_one(d, &opts))
        .collect();
    let rt = super::deploy::runtime()?;
    let (lives, plans, problems) =
        match rt.block_on(super::deploy::observe_and_plan(&s, &artifacts)) {
            Ok(x) => (x.lives, x.plans, x.problems),
            Err(e) => {
                for c in changes {
                    st.merge(
                        &key(&c.path),
                        Check::new(
                            "plan",
                            Status::Fail,
                            format!("the plan against `{env_name}` failed: {e}"),
                        ),
                    );
                }
                return Ok(Vec::new());
            }
        };
    let summary = stages::plan_summary(&s.env.name, &plans, &problems);
    for c in changes {
        let name = match c.status {
            ChangeStatus::Deleted => c.base.as_ref().map(|b| b.resource_name().to_string()),
            _ => head_definition(checked, c).map(|d| d.resource_name().to_string()),
        };
        if let Some(n) = name {
            let mut check = stages::plan_check(&summary, &n);
            if several {
                check.detail = format!("{env_name}: {}", check.detail);
            }
            st.merge(&key(&c.path), check);
        }
    }
    // The comment's plan section shows the first environment; every environment's checks are
    // on each definition.
    if st.plan.is_none() {
        st.plan = Some(summary);
    }

    // Shadow evidence for promotions, from SecurityAlert through the query API.
    let client = match cx.query_client(&s.env) {
        Ok(c) => c,
        Err(_) => return Ok(Vec::new()),
    };
    let sandbox_now = Some(SandboxConfig::from_config(&ws.config).now);
    let to_ticks = match (s.env.emulator, sandbox_now) {
        // The emulator answers from the sandbox, whose clock is `[sandbox] now`.
        (true, Some(now)) => now,
        _ => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            crate::engine::value::parse_datetime(&evidence::format_rfc3339(secs)).unwrap_or(0)
        }
    };
    if let Some(max) = ws.config.policy.max_scanned_gb_per_day {
        for (path, check) in cost_checks(cx, &rt, &client, &s.env, checked, changes, to_ticks, max)
        {
            let mut check = check;
            if several {
                check.detail = format!("{env_name}: {}", check.detail);
            }
            st.merge(&path, check);
        }
    }
    let policy = &ws.config.policy.rollout;
    let from_ticks = to_ticks - policy.min_shadow_days as i64 * 24 * crate::engine::value::HOUR;
    let (from, to) = (
        crate::engine::value::format_datetime(from_ticks),
        crate::engine::value::format_datetime(to_ticks),
    );
    let records = crate::deploy::apply::remote_records(&lives);
    let mut found = Vec::new();
    for c in changes.iter().filter(|c| c.status != ChangeStatus::Deleted) {
        let Some(d) = head_definition(checked, c) else {
            continue;
        };
        if !matches!(d.item, Item::Rule(_)) || !crate::validate::policy::is_ai(d) {
            continue;
        }
        let head = rollout::effective(d, Some(env_name));
        let base = c
            .base
            .as_ref()
            .map(|b| rollout::effective(b, Some(env_name)));
        if head == Rollout::Shadow || base.is_some_and(|b| rollout::rank(b) >= rollout::rank(head))
        {
            continue;
        }
        let id = d.resource_name().to_string();
        if file_evidence
            .iter()
            .any(|e| e.id == id && e.environment.as_deref().is_none_or(|x| x == env_name))
        {
            continue; // --evidence overrides the query API
        }
        if base == Some(Rollout::Canary) && head == Rollout::Active {
            if let Some(b) = &c.base {
                found.extend(canary_outcomes(&rt, &client, &s, &opts, b, &id, env_name));
            }
            continue;
        }
        let rkey = ResKey::new(RType::AlertRule, &id);
        let mut best: Option<evidence::Evidence> = None;
        for (w, live) in s.env.workspaces.iter().zip(&lives) {
            let Some(res) = live.resources.get(&rkey) else {
                continue;
            };
            let props = &res.body["properties"];
            let in_shadow = props["displayName"]
                .as_str()
                .is_some_and(|n| n.starts_with("[shadow]"));
            let Some(query) = props["query"].as_str().filter(|_| in_shadow) else {
                continue;
            };
            let Some(workspace_id) = super::deploy::query_workspace_id(w, s.env.emulator) else {
                continue;
            };
            let text = format!(
                "SecurityAlert\n| where AlertName startswith \"[shadow]\"\n| where AlertType contains \"{id}\" or ExtendedProperties contains \"{id}\"\n| summarize Alerts = count()"
            );
            // The window starts no earlier than the last deployment that touched the rule in
            // this workspace: a rule put in shadow an hour ago has no week of evidence. (The
            // emulator's data runs on the sandbox clock, not the records' wall clock, so there
            // the window is the policy's.)
            let from = if s.env.emulator {
                from.clone()
            } else {
                let since = records
                    .iter()
                    .filter(|r| r.status == crate::deploy::record::Status::Succeeded)
                    .filter(|r| {
                        r.workspaces
                            .iter()
                            .any(|x| x.workspace == *w && x.changes.iter().any(|c| c.key == rkey))
                    })
                    .filter_map(|r| evidence::unix_seconds(&r.started))
                    .max();
                let Some(since) = since else {
                    continue; // not deployed by vigil: how long it ran in shadow is unknown
                };
                let since = crate::engine::value::parse_datetime(&evidence::format_rfc3339(since))
                    .unwrap_or(i64::MAX);
                crate::engine::value::format_datetime(since.max(from_ticks).min(to_ticks))
            };
            let span = format!("{from}/{to}");
            let res = rt.block_on(crate::azure::query::query(
                &client,
                &workspace_id,
                &text,
                Some(&span),
                false,
            ));
            let n = match res {
                Ok(r) if r.partial_error.is_none() => r
                    .tables
                    .first()
                    .and_then(|t| t.rows.first())
                    .and_then(|row| row.first())
                    .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())),
                _ => None,
            };
            let Some(n) = n else { continue };
            if best.as_ref().is_none_or(|b| n > b.shadow_alerts) {
                best = Some(evidence::Evidence {
                    id: id.clone(),
                    environment: Some(env_name.clone()),
                    query_sha256: crate::hash::query_sha256(query),
                    from: from.clone(),
                    to: to.clone(),
                    shadow_alerts: n,
                    source: Some(format!("SecurityAlert via the query API of {}", w.label())),
                    stage: None,
                    closed: None,
                    true_positive: None,
                    benign_positive: None,
                    false_positive: None,
                });
            }
        }
        found.extend(best);
    }
    Ok(found)
}

/// Canary → active: the outcomes of the canary stage of the base's query in every workspace of
/// the environment (incidents attributed to the rule and to the canary query as deployed, the
/// base definition compiled for the environment), summed. `None` when no workspace could be
/// read: unknown is never zero.
fn canary_outcomes(
    rt: &tokio::runtime::Runtime,
    client: &crate::azure::Client,
    s: &crate::deploy::Session,
    opts: &crate::compile::Options<'_>,
    base: &crate::model::Definition,
    id: &str,
    env_name: &str,
) -> Option<evidence::Evidence> {
    use crate::outcomes as oc;
    let art = crate::compile::compile_one(base, opts);
    let canary_query = art.resource.body["properties"]["query"]
        .as_str()?
        .to_string();
    let rule = oc::ManagedRule {
        id: id.to_string(),
        display_name: art.display_name.clone(),
        source: art.source.clone(),
        stage: "canary".into(),
        origin: String::new(),
        model: None,
        version: oc::version_of(&canary_query),
    };
    let since = "30d";
    let mut read = false;
    let (mut closed, mut tp, mut bp, mut fp, mut alerts) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut sources = Vec::new();
    for w in &s.env.workspaces {
        let Some(wid) = super::deploy::query_workspace_id(w, s.env.emulator) else {
            continue;
        };
        let mut tables = Vec::new();
        for t in [oc::INCIDENTS_KQL, oc::ALERTS_KQL] {
            let q = oc::kql(t, since);
            match rt.block_on(crate::azure::query::query(client, &wid, &q, None, false)) {
                Ok(r) if r.partial_error.is_none() => tables.extend(r.tables.into_iter().next()),
                _ => break,
            }
        }
        if tables.len() != 2 {
            continue;
        }
        read = true;
        let empty = crate::azure::query::Table {
            name: String::new(),
            columns: Vec::new(),
            rows: Vec::new(),
        };
        let data = oc::parse_workspace(&tables[0], &tables[1], &empty);
        for r in oc::compute(&w.label(), std::slice::from_ref(&rule), &data, 30.0) {
            if let Some(v) = r.versions.iter().find(|v| v.current) {
                let c = &v.figures.classification;
                closed += v.figures.closed as u64;
                tp += c.true_positive as u64;
                bp += c.benign_positive as u64;
                fp += c.false_positive as u64;
                alerts += v.figures.alerts as u64;
            }
        }
        sources.push(w.label());
    }
    if !read {
        return None;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Some(evidence::Evidence {
        id: id.to_string(),
        environment: Some(env_name.to_string()),
        query_sha256: crate::hash::query_sha256(base.query().unwrap_or_default()),
        from: evidence::format_rfc3339(secs - 30 * 86_400),
        to: evidence::format_rfc3339(secs),
        shadow_alerts: alerts,
        source: Some(format!(
            "SecurityIncident and SecurityAlert via the query API of {}",
            sources.join(", ")
        )),
        stage: Some("canary".into()),
        closed: Some(closed),
        true_positive: Some(tp),
        benign_positive: Some(bp),
        false_positive: Some(fp),
    })
}

/// `[policy] max_scanned_gb_per_day`: each changed rule runs once through the environment's
/// first workspace with statistics, over its query period ending at `to_ticks`; the data scanned
/// times its runs per day is compared with the limit. No statistics: "unknown", never a pass.
#[allow(clippy::too_many_arguments)]
fn cost_checks(
    cx: &Context,
    rt: &tokio::runtime::Runtime,
    client: &crate::azure::Client,
    envr: &crate::deploy::env::Environment,
    checked: &pipeline::Checked,
    changes: &[Change],
    to_ticks: i64,
    max_gb: f64,
) -> Vec<(String, Check)> {
    use crate::engine::value::format_datetime;
    let mut out = Vec::new();
    let Some(w) = envr.workspaces.first() else {
        return out;
    };
    let plans = super::deploy::table_plans(&cx.root, &envr.name, w);
    let id = super::deploy::query_workspace_id(w, envr.emulator);
    for c in changes.iter().filter(|c| c.status != ChangeStatus::Deleted) {
        let Some(d) = head_definition(checked, c) else {
            continue;
        };
        let Item::Rule(rule) = &d.item else { continue };
        let (freq, period) = crate::alerts::schedule(rule);
        // NRT rules are measured over an hour and projected as 24 such hours.
        let (freq, period) =
            if freq < crate::engine::value::HOUR && period < crate::engine::value::HOUR {
                (crate::engine::value::HOUR, crate::engine::value::HOUR)
            } else {
                (freq, period)
            };
        let unknown = |why: String| {
            Check::new(
                "cost",
                Status::NotRun,
                format!("data scanned per day unknown: {why}; the limit is {max_gb} GB/day"),
            )
        };
        let check = match &id {
            None => unknown(format!("no workspace id (customer id) for {}", w.label())),
            Some(id) => {
                let span = format!(
                    "{}/{}",
                    format_datetime(to_ticks - period),
                    format_datetime(to_ticks)
                );
                match rt.block_on(crate::azure::query::query(
                    client,
                    id,
                    &rule.query,
                    Some(&span),
                    true,
                )) {
                    Err(e) => unknown(format!("the measuring run failed: {e}")),
                    Ok(r) => {
                        let stats = r
                            .statistics
                            .as_ref()
                            .map(crate::cost::from_statistics)
                            .unwrap_or_default();
                        let p = crate::cost::project(
                            &[stats],
                            (24 * crate::engine::value::HOUR) as f64 / freq as f64,
                            &crate::dryrun::generate::referenced_tables(&rule.query),
                            &plans,
                        );
                        match p.scanned_gb_per_day {
                            None => unknown("the service returned no statistics".into()),
                            Some(gb) => {
                                let detail = format!(
                                    "{gb:.6} GB/day projected ({:.0} runs/day from one measured run on {}; an estimate), limit {max_gb} GB/day{}",
                                    p.runs_per_day,
                                    w.label(),
                                    if p.chargeable_tables.is_empty() {
                                        String::new()
                                    } else {
                                        format!(
                                            "; charged per GB: {}",
                                            p.chargeable_tables.iter().map(|(t, pl)| format!("{t} ({pl})")).collect::<Vec<_>>().join(", ")
                                        )
                                    }
                                );
                                Check::new(
                                    "cost",
                                    if gb > max_gb {
                                        Status::Fail
                                    } else {
                                        Status::Pass
                                    },
                                    detail,
                                )
                            }
                        }
                    }
                }
            }
        };
        out.push((key(&c.path), check));
    }
    out
}
