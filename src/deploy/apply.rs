//! Executing a plan: changed resources only, in dependency order (watchlists, functions,
//! anomalies, hunts, rules; deletions after, in reverse), each level concurrently. Before the
//! first change the deployment record (every resource's prior state) is written to each
//! workspace and locally; every write is journaled (intent, then outcome). On any failure the
//! changes are restored from the recorded prior state (unless `no_rollback`); afterwards every
//! changed resource is read back and compared with what was sent.
//!
//! Restores are idempotent (each resource is read first and only written when it differs from
//! its prior state), so after any exit — kill -9 at any step, faults during the restore — the
//! next run ([`recover`]) finishes the restore from the record and leaves every workspace
//! all-old, then applies anew.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::rest::Method;

use super::env::Workspace;
use super::plan::{Action, Change, LiveResource, WorkspacePlan};
use super::record::{self, ChangeRecord, Journal, Record, Status, WorkspaceRecord};
use super::resource::{self, RType};
use super::{DeployError, Session};
use crate::azure::{ApiResponse, AzureError};
use crate::diagnostics::code;

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub no_rollback: bool,
    pub max_deletions: usize,
    /// `apply` or `rollback`.
    pub kind: &'static str,
    /// The git ref (or deployment id) the content came from.
    pub source: Option<String>,
    pub commit: Option<String>,
}

/// What an apply did.
#[derive(Clone, Debug)]
pub struct ApplyReport {
    pub record: Record,
    /// Writes sent (including restore writes).
    pub writes: u64,
    pub error: Option<DeployError>,
    /// The failure was restored.
    pub restored: bool,
}

struct Run<'a> {
    s: &'a Session,
    journal: Mutex<Journal>,
    step: AtomicU64,
    writes: AtomicU64,
    failed: AtomicBool,
    first_error: Mutex<Option<DeployError>>,
}

fn meta_path(name: &str) -> String {
    format!("providers/Microsoft.SecurityInsights/metadata/{name}")
}

impl<'a> Run<'a> {
    fn new(s: &'a Session, journal: Journal) -> Run<'a> {
        Run {
            s,
            journal: Mutex::new(journal),
            step: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            first_error: Mutex::new(None),
        }
    }

    fn tick(&self) {
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(h) = &self.s.on_step {
            h(n);
        }
    }

    fn log(&self, v: Value) {
        self.journal.lock().expect("journal lock").write(&v);
    }

    fn fail(&self, e: DeployError) {
        self.failed.store(true, Ordering::SeqCst);
        let mut f = self.first_error.lock().expect("error lock");
        if f.is_none() {
            *f = Some(e);
        }
    }

    /// One journaled write.
    async fn write(
        &self,
        ws: &Workspace,
        method: Method,
        rel: &str,
        api: &str,
        body: Option<&Value>,
        phase: &str,
    ) -> Result<ApiResponse, AzureError> {
        let path = format!("{}/{rel}", ws.path());
        let step = self.step.load(Ordering::SeqCst) + 1;
        self.log(
            json!({"step": step, "phase": phase, "event": "intent", "workspace": ws.label(),
            "method": method.as_str(), "path": rel, "apiVersion": api, "body": body}),
        );
        self.tick();
        self.writes.fetch_add(1, Ordering::Relaxed);
        let r = match method {
            Method::Put => {
                self.s
                    .arm
                    .put(&path, api, body.unwrap_or(&Value::Null))
                    .await
            }
            Method::Delete => self.s.arm.delete(&path, api).await,
            Method::Get | Method::Post => unreachable!("deploy writes with PUT and DELETE"),
        };
        self.tick();
        match &r {
            Ok(resp) => self.log(json!({"step": step, "event": "done", "status": resp.status,
                "requestId": resp.request_id, "etag": resp.body.get("etag")})),
            Err(e) => self.log(json!({"step": step, "event": "error", "status": e.status,
                "code": e.code, "message": e.message, "requestId": e.request_id})),
        }
        r
    }

    /// Write a metadata resource as planned (`phase`: apply or restore).
    async fn put_metadata(
        &self,
        ws: &Workspace,
        m: &super::plan::MetaTarget,
        phase: &str,
    ) -> Result<(), DeployError> {
        let path = meta_path(&m.name);
        self.write(ws, Method::Put, &path, &m.api_version, Some(&m.body), phase)
            .await?;
        Ok(())
    }

    /// Bring a change's metadata resource to its target: written when the target has one,
    /// deleted when only the live item has one.
    async fn sync_metadata(
        &self,
        ws: &Workspace,
        t: &crate::deploy::Target,
        c: &Change,
    ) -> Result<(), DeployError> {
        match (&t.metadata, &c.live_meta) {
            (Some(m), _) => {
                self.put_metadata(ws, m, "apply").await?;
            }
            (None, Some(lm)) => {
                let meta_api = &self.s.env.api_versions.metadata;
                self.write(
                    ws,
                    Method::Delete,
                    &meta_path(&lm.name),
                    meta_api,
                    None,
                    "apply",
                )
                .await?;
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// Apply one change.
    async fn change(&self, ws: &Workspace, c: &Change) -> Result<(), DeployError> {
        let rel = resource::path(c.rtype, &c.name);
        let read_api = c.rtype.api_version(&self.s.env.api_versions);
        let meta_api = &self.s.env.api_versions.metadata;
        match c.action {
            Action::Create | Action::Update | Action::Replace => {
                let t = c
                    .target
                    .as_ref()
                    .expect("creates and updates have a target");
                if c.action == Action::Replace {
                    self.write(ws, Method::Delete, &rel, &read_api, None, "apply")
                        .await?;
                }
                let mut body = t.body.clone();
                if c.action == Action::Update {
                    if let Some(etag) = c.live.as_ref().and_then(|l| l.body.get("etag")) {
                        if etag.is_string() {
                            body["etag"] = etag.clone();
                        }
                    }
                }
                match self
                    .write(ws, Method::Put, &rel, &t.api_version, Some(&body), "apply")
                    .await
                {
                    Ok(_) => {}
                    Err(e) if e.status == Some(409) && c.action == Action::Update => {
                        // Our own earlier attempt may have landed (its answer lost): then the
                        // resource is what we sent. Anything else is a concurrent change.
                        let now = self.s.read(ws, &c.key, &c.name).await?;
                        let want = resource::project(c.rtype, &t.body, None);
                        if now.map(|l| l.projection(c.rtype)) != Some(want) {
                            return Err(DeployError::new(
                                code::DEP_CONFLICT,
                                format!(
                                    "{} `{}` in {} was changed by someone else during the apply: {e}",
                                    c.kind,
                                    c.name,
                                    ws.label()
                                ),
                            )
                            .hint("run `vigil plan` again to see the new state"));
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
                self.sync_metadata(ws, t, c).await?;
            }
            Action::Adopt => {
                let t = c.target.as_ref().expect("adoptions have a target");
                self.sync_metadata(ws, t, c).await?;
            }
            Action::Delete => {
                self.write(ws, Method::Delete, &rel, &read_api, None, "apply")
                    .await?;
                if let Some(lm) = &c.live_meta {
                    self.write(
                        ws,
                        Method::Delete,
                        &meta_path(&lm.name),
                        meta_api,
                        None,
                        "apply",
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Put one recorded change back as it was. Reads first: nothing is written when the
    /// resource already is as before.
    async fn restore(&self, ws: &Workspace, c: &ChangeRecord) -> Result<(), DeployError> {
        let rel = resource::path(c.key.rtype, &c.name);
        let now = self.s.read(ws, &c.key, &c.name).await?;
        let want = c
            .prior
            .as_ref()
            .map(|p| resource::project(c.key.rtype, p, None));
        let have = now.as_ref().map(|l| l.projection(c.key.rtype));
        if want != have {
            match &c.prior {
                Some(p) => {
                    let kind_differs = now
                        .as_ref()
                        .is_some_and(|l| l.body.get("kind") != p.get("kind"));
                    if kind_differs {
                        self.write(ws, Method::Delete, &rel, &c.api_version, None, "restore")
                            .await?;
                    }
                    self.write(ws, Method::Put, &rel, &c.api_version, Some(p), "restore")
                        .await?;
                }
                None => {
                    self.write(ws, Method::Delete, &rel, &c.api_version, None, "restore")
                        .await?;
                }
            }
        }
        let meta_api = &self.s.env.api_versions.metadata;
        match (&c.prior_meta, &c.meta_name) {
            (Some(m), _) => {
                let cur = self
                    .s
                    .arm
                    .get_opt(&format!("{}/{}", ws.path(), meta_path(&m.name)), meta_api)
                    .await?;
                let same = cur
                    .as_ref()
                    .and_then(|v| resource::normalize(&v["properties"]))
                    == resource::normalize(&m.body["properties"]);
                if !same {
                    self.put_metadata(ws, m, "restore").await?;
                }
                if let Some(n) = &c.meta_name {
                    if !n.eq_ignore_ascii_case(&m.name) {
                        self.write(ws, Method::Delete, &meta_path(n), meta_api, None, "restore")
                            .await?;
                    }
                }
            }
            (None, Some(n)) => {
                let cur = self
                    .s
                    .arm
                    .get_opt(&format!("{}/{}", ws.path(), meta_path(n)), meta_api)
                    .await?;
                if cur.is_some() {
                    self.write(ws, Method::Delete, &meta_path(n), meta_api, None, "restore")
                        .await?;
                }
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// Save the record in each workspace it concerns (and locally).
    async fn save(&self, rec: &Record, previous_parts: &mut Vec<usize>) -> Result<(), DeployError> {
        let _ = record::save_local(&self.s.root, rec);
        let api = self.s.env.api_versions.saved_searches.clone();
        let results = futures::future::join_all(rec.workspaces.iter().enumerate().map(|(i, w)| {
            let part = rec.for_workspace(&w.workspace);
            let api = api.clone();
            let before = previous_parts.get(i).copied().unwrap_or(0);
            async move {
                let searches = record::to_saved_searches(&part);
                for (name, body) in &searches {
                    self.write(
                        &w.workspace,
                        Method::Put,
                        &resource::path(RType::SavedSearch, name),
                        &api,
                        Some(body),
                        "record",
                    )
                    .await?;
                }
                for stale in searches.len()..before {
                    let name = format!("vigil-deployment-{}-{stale}", rec.id);
                    self.write(
                        &w.workspace,
                        Method::Delete,
                        &resource::path(RType::SavedSearch, &name),
                        &api,
                        None,
                        "record",
                    )
                    .await?;
                }
                Ok::<usize, AzureError>(searches.len())
            }
        }))
        .await;
        previous_parts.clear();
        for r in results {
            previous_parts.push(r.map_err(|e| {
                DeployError::new(
                    code::DEP_RECORD,
                    format!("could not save the deployment record {}: {e}", rec.id),
                )
            })?);
        }
        Ok(())
    }
}

fn change_record(s: &Session, c: &Change) -> ChangeRecord {
    let t = c.target.as_ref();
    ChangeRecord {
        key: c.key.clone(),
        name: c.name.clone(),
        action: c.action,
        api_version: c.rtype.api_version(&s.env.api_versions),
        prior: c
            .live
            .as_ref()
            .map(|l| resource::restore_body(c.rtype, &l.body, l.items.as_deref())),
        prior_meta: c.live_meta.as_ref().map(|m| super::plan::MetaTarget {
            name: m.name.clone(),
            api_version: s.env.api_versions.metadata.clone(),
            body: resource::restore_metadata(&m.body),
        }),
        meta_name: t.and_then(|t| t.metadata.as_ref().map(|m| m.name.clone())),
        after: t.map(|t| t.body.clone()),
    }
}

/// Dependency levels: creates and updates by kind order, then deletions in reverse order.
fn levels(plans: &[WorkspacePlan]) -> Vec<Vec<(usize, usize)>> {
    let mut keys: BTreeSet<(u8, u8)> = BTreeSet::new();
    for p in plans {
        for c in &p.changes {
            keys.insert(level_of(c));
        }
    }
    keys.into_iter()
        .map(|lk| {
            let mut v = Vec::new();
            for (pi, p) in plans.iter().enumerate() {
                for (ci, c) in p.changes.iter().enumerate() {
                    if level_of(c) == lk {
                        v.push((pi, ci));
                    }
                }
            }
            v
        })
        .collect()
}

fn level_of(c: &Change) -> (u8, u8) {
    if c.action == Action::Delete {
        (1, 10 - c.order())
    } else {
        (0, c.order())
    }
}

/// Execute plans. Refuses (before any change) to delete more than `max_deletions`.
pub async fn apply(s: &Session, plans: &[WorkspacePlan], opts: &ApplyOptions) -> ApplyReport {
    let id = Record::new_id();
    let mut rec = Record {
        id: id.clone(),
        environment: s.env.name.clone(),
        kind: opts.kind.to_string(),
        source: opts.source.clone(),
        commit: opts.commit.clone(),
        started: crate::clock::now_rfc3339(),
        finished: None,
        status: Status::Applying,
        error: None,
        workspaces: plans
            .iter()
            .filter(|p| !p.changes.is_empty())
            .map(|p| WorkspaceRecord {
                workspace: p.workspace.clone(),
                changes: p.changes.iter().map(|c| change_record(s, c)).collect(),
            })
            .collect(),
    };
    let deletions: usize = plans.iter().map(|p| p.count(Action::Delete)).sum();
    let mut report = ApplyReport {
        record: rec.clone(),
        writes: 0,
        error: None,
        restored: false,
    };
    if deletions > opts.max_deletions {
        report.error = Some(
            DeployError::new(
                code::DEP_TOO_MANY_DELETIONS,
                format!(
                    "the plan deletes {deletions} resources; this environment allows at most {} per apply",
                    opts.max_deletions
                ),
            )
            .hint("check that the checkout is complete; to delete this many on purpose, raise `max_deletions` for the environment or pass `--max-deletions N`"),
        );
        return report;
    }
    if rec.workspaces.is_empty() {
        rec.status = Status::Succeeded;
        report.record = rec;
        return report;
    }
    let run = Run::new(s, Journal::open(&s.root, &s.env.name, &id));
    let mut parts = Vec::new();
    if let Err(e) = run.save(&rec, &mut parts).await {
        report.error = Some(e);
        report.writes = run.writes.load(Ordering::Relaxed);
        // Parts that were written say "applying": mark the record rolled back (nothing changed).
        rec.status = Status::RolledBack;
        let _ = run.save(&rec, &mut parts).await;
        report.record = rec;
        return report;
    }
    for level in levels(plans) {
        if run.failed.load(Ordering::SeqCst) {
            break;
        }
        futures::future::join_all(level.iter().map(|&(pi, ci)| {
            let run = &run;
            async move {
                if run.failed.load(Ordering::SeqCst) {
                    return;
                }
                let ws = &plans[pi].workspace;
                if let Err(e) = run.change(ws, &plans[pi].changes[ci]).await {
                    run.fail(e);
                }
            }
        }))
        .await;
    }
    if !run.failed.load(Ordering::SeqCst) {
        if let Err(e) = verify(s, plans).await {
            run.fail(e);
        }
    }
    let error = run.first_error.lock().expect("error lock").take();
    match error {
        None => {
            rec.status = Status::Succeeded;
        }
        Some(e) => {
            rec.error = Some(e.to_string());
            if opts.no_rollback {
                rec.status = Status::Failed;
            } else {
                rec.status = Status::Restoring;
                let _ = record::save_local(&s.root, &rec);
                match restore_record(&run, &rec).await {
                    Ok(()) => {
                        rec.status = Status::RolledBack;
                        report.restored = true;
                    }
                    Err(re) => {
                        rec.error = Some(format!("{e}; the restore failed too: {re}"));
                    }
                }
            }
            report.error = Some(e);
        }
    }
    rec.finished = Some(crate::clock::now_rfc3339());
    if rec.status != Status::Restoring {
        if let Err(e) = run.save(&rec, &mut parts).await {
            report.error.get_or_insert(e);
        }
    }
    run.journal.lock().expect("journal lock").sync();
    report.writes = run.writes.load(Ordering::Relaxed);
    report.record = rec;
    report
}

/// Read every changed resource back and compare it with what was sent.
async fn verify(s: &Session, plans: &[WorkspacePlan]) -> Result<(), DeployError> {
    let checks = plans.iter().flat_map(|p| {
        p.changes.iter().map(move |c| async move {
            let now = s.read(&p.workspace, &c.key, &c.name).await?;
            let ok = match (&c.target, &now, c.action) {
                (_, None, Action::Delete) => true,
                (Some(t), Some(l), _) => {
                    l.projection(c.rtype) == resource::project(c.rtype, &t.body, None)
                }
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(DeployError::new(
                    code::DEP_VERIFY_FAILED,
                    format!(
                        "read-back of {} `{}` in {} does not match what was sent",
                        c.kind,
                        c.name,
                        p.workspace.label()
                    ),
                )
                .hint(describe_mismatch(c, now.as_ref())))
            }
        })
    });
    for r in futures::future::join_all(checks).await {
        r?;
    }
    Ok(())
}

fn describe_mismatch(c: &Change, now: Option<&LiveResource>) -> String {
    match (&c.target, now) {
        (Some(t), Some(l)) => {
            let d = resource::diff(
                &resource::project(c.rtype, &t.body, None),
                &l.projection(c.rtype),
            );
            let paths: Vec<String> = d.iter().take(5).map(|f| f.path.clone()).collect();
            format!("fields that differ: {}", paths.join(", "))
        }
        (Some(_), None) => "the resource is missing".into(),
        (None, Some(_)) => "the resource still exists".into(),
        (None, None) => String::new(),
    }
}

async fn restore_record(run: &Run<'_>, rec: &Record) -> Result<(), DeployError> {
    // Puts in dependency order, then deletions in reverse: a restored rule never refers to a
    // function that is not there.
    let mut puts: Vec<(&Workspace, &ChangeRecord)> = Vec::new();
    let mut dels: Vec<(&Workspace, &ChangeRecord)> = Vec::new();
    for w in &rec.workspaces {
        for c in &w.changes {
            if c.prior.is_some() {
                puts.push((&w.workspace, c));
            } else {
                dels.push((&w.workspace, c));
            }
        }
    }
    let order = |c: &ChangeRecord| c.key.rtype.order();
    let mut groups: Vec<Vec<(&Workspace, &ChangeRecord)>> = Vec::new();
    for o in [0u8, 1, 2, 4] {
        groups.push(
            puts.iter()
                .filter(|(_, c)| order(c) == o)
                .copied()
                .collect(),
        );
    }
    for o in [4u8, 2, 1, 0] {
        groups.push(
            dels.iter()
                .filter(|(_, c)| order(c) == o)
                .copied()
                .collect(),
        );
    }
    let mut first_err = None;
    for g in groups {
        for r in futures::future::join_all(g.iter().map(|(w, c)| run.restore(w, c))).await {
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Finish interrupted deployments: every record still `applying` or `restoring` (in any
/// workspace, or locally) is restored from its prior state and marked rolled back. Returns
/// the ids recovered. Run before planning, on fresh observations.
pub async fn recover(s: &Session, remote: Vec<Record>) -> Result<Vec<String>, DeployError> {
    let mut all = remote;
    all.extend(record::load_local(&s.root, &s.env.name));
    let mut incomplete: Vec<Record> = record::merge(all)
        .into_iter()
        .filter(|r| r.status.incomplete())
        .collect();
    incomplete.sort_by(|a, b| (&b.started, &b.id).cmp(&(&a.started, &a.id)));
    let mut done = Vec::new();
    for mut rec in incomplete {
        let run = Run::new(s, Journal::open(&s.root, &s.env.name, &rec.id));
        restore_record(&run, &rec).await.map_err(|e| {
            DeployError::new(
                code::DEP_RECOVERY_FAILED,
                format!(
                    "deployment {} was interrupted and restoring it failed: {e}",
                    rec.id
                ),
            )
            .hint("run the command again; the restore is idempotent")
        })?;
        rec.status = Status::RolledBack;
        rec.finished = Some(crate::clock::now_rfc3339());
        rec.error
            .get_or_insert_with(|| "interrupted; restored by a later run".into());
        let mut parts = Vec::new();
        // Parts may have been written with more pieces than now: list-based cleanup is not
        // needed because a part count mismatch only makes a stale record unreadable, and the
        // status of this one is rewritten whole.
        run.save(&rec, &mut parts).await?;
        done.push(rec.id.clone());
    }
    Ok(done)
}

/// Records stored in the observed workspaces.
pub fn remote_records(lives: &[super::plan::Live]) -> Vec<Record> {
    record::merge(
        lives
            .iter()
            .flat_map(|l| record::from_saved_searches(&l.records))
            .collect(),
    )
}
