//! `vigil emulate`: a local Microsoft Sentinel on loopback, for the quick start and the tests.
//!
//! A real HTTP server ([`http`]) serving the subset of ARM vigil uses — alert rules, saved
//! searches, anomaly settings, watchlists and their items, metadata — with api-version checks,
//! etags, server-side defaults, read-only fields that change on every write (`etag`,
//! `lastModifiedUtc`, `systemData`), long-running watchlist PUT and DELETE, and validation on
//! PUT as Sentinel does it ([`validate`]); plus the Log Analytics query API
//! (`POST /v1/workspaces/{id}/query`, answered by a [`QueryEngine`]) and its metadata endpoint
//! (`GET /v1/workspaces/{id}/metadata`, the workspace's tables and functions).
//!
//! Any number of workspaces: paths carry subscription, resource group and workspace name; a
//! workspace exists once something is written to it (or a schema file names it). The workspace
//! GUID (`customerId`) is derived from its path. State persists in a folder, one JSON file per
//! resource, so a restarted emulator serves what it served before.
//!
//! **Architecture Invariant:** the emulator knows nothing of vigil's model or compiler: it sees
//! only HTTP requests, like Sentinel. It reuses the KQL front end and catalog to check queries.

pub mod http;
pub mod query;
pub mod soc;
pub mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::kql::catalog::{Catalog, Schema};
pub use http::Faults;
use http::{Request, Response};
pub use query::{NotWired, QueryEngine, QueryTable, NOT_WIRED};
use validate::Reject;

/// How to run an emulator.
pub struct Options {
    /// State folder (`None`: in memory only).
    pub state: Option<PathBuf>,
    pub faults: Faults,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// How long a watchlist operation stays in progress.
    pub lro_delay: Duration,
    /// Extra tables for every workspace (kql-oracle schema format).
    pub schema: Option<Value>,
    pub engine: Arc<dyn QueryEngine>,
    /// Start on a virtual clock at this time (RFC 3339); `None`: real time (a state folder's
    /// saved virtual clock wins over real time).
    pub clock: Option<String>,
    /// Consecutive failed runs after which the scheduler disables a rule.
    pub auto_disable_after: u32,
}

/// Default of [`Options::auto_disable_after`].
pub const AUTO_DISABLE_AFTER: u32 = 5;

impl Default for Options {
    fn default() -> Self {
        Options {
            state: None,
            faults: Faults::default(),
            token: None,
            lro_delay: Duration::from_millis(50),
            schema: None,
            engine: Arc::new(NotWired),
            clock: None,
            auto_disable_after: AUTO_DISABLE_AFTER,
        }
    }
}

/// The fixed tenant the emulator reports.
pub const TENANT: &str = "00000000-0000-0000-0000-00000000e0e0";

/// A running emulator.
pub struct Emulator {
    pub server: http::Server,
}

impl Emulator {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }
}

/// Start an emulator on `addr` (`127.0.0.1:0` for an ephemeral port).
pub fn start(addr: &str, opts: Options) -> std::io::Result<Emulator> {
    let listener = std::net::TcpListener::bind(addr)?;
    let faults = opts.faults.clone();
    let svc = Service::new(opts)?;
    Ok(Emulator {
        server: http::serve(listener, Arc::new(svc), faults),
    })
}

/// The GUID (customerId) the emulator gives a workspace.
pub fn workspace_guid(subscription: &str, resource_group: &str, workspace: &str) -> String {
    crate::clock::guid_of(&format!(
        "{}/{}/{}",
        subscription.to_ascii_lowercase(),
        resource_group.to_ascii_lowercase(),
        workspace.to_ascii_lowercase()
    ))
}

/// The resource kinds the emulator serves: the one table of `crate::rest`.
use crate::rest::RType as Kind;

#[derive(Default)]
struct Ws {
    sub: String,
    rg: String,
    name: String,
    guid: String,
    /// (kind, lower-case name) → stored resource as served.
    resources: BTreeMap<(Kind, String), Value>,
    /// lower-case alias → items as served.
    items: BTreeMap<String, Vec<Value>>,
    /// Tables this workspace lacks / adds (schema.json in its state folder).
    schema: Option<Value>,
    catalog: Option<Arc<Catalog>>,
    /// Logs, incidents, alerts and the scheduler's state.
    soc: soc::Soc,
}

impl Ws {
    fn base_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationalInsights/workspaces/{}",
            self.sub, self.rg, self.name
        )
    }
}

enum OpAction {
    Put,
    Delete,
}

struct Op {
    ws: String,
    alias: String,
    action: OpAction,
    ready: Instant,
    done: bool,
    start: String,
}

#[derive(Default)]
struct Inner {
    workspaces: BTreeMap<String, Ws>,
    ops: BTreeMap<String, Op>,
    seq: u64,
}

struct Service {
    opts: Options,
    inner: Mutex<Inner>,
    /// The virtual clock (ticks), when the emulator runs on one.
    clock: Mutex<Option<i64>>,
}

fn ws_key(sub: &str, rg: &str, ws: &str) -> String {
    format!("{sub}/{rg}/{ws}").to_ascii_lowercase()
}

fn file_name(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            s.push(c);
        } else {
            for b in c.to_string().bytes() {
                s.push_str(&format!("%{b:02X}"));
            }
        }
    }
    s
}

fn write_atomic(path: &Path, value: &Value) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(value).expect("JSON serializes"),
    )?;
    std::fs::rename(tmp, path)
}

fn error(r: Reject) -> Response {
    Response::json(
        r.status,
        &json!({"error": {"code": r.code, "message": r.message}}),
    )
}

fn not_found(what: &str) -> Response {
    error(Reject {
        status: 404,
        code: "NotFound",
        message: format!("{what} was not found."),
    })
}

impl Service {
    fn new(opts: Options) -> std::io::Result<Service> {
        let mut inner = Inner::default();
        let mut clock = None;
        if let Some(dir) = &opts.state {
            std::fs::create_dir_all(dir)?;
            load(dir, &mut inner)?;
            clock = std::fs::read(dir.join("clock.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v["now"].as_str().and_then(crate::datetime::parse_datetime));
        }
        if let Some(c) = &opts.clock {
            clock = Some(crate::datetime::parse_datetime(c).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("--clock `{c}` is not a date and time (e.g. 2026-01-05T00:00:00Z)"),
                )
            })?);
        }
        Ok(Service {
            opts,
            inner: Mutex::new(inner),
            clock: Mutex::new(clock),
        })
    }

    fn dir(&self, ws: &Ws) -> Option<PathBuf> {
        self.opts.state.as_ref().map(|d| {
            d.join("workspaces")
                .join(file_name(&ws.sub.to_ascii_lowercase()))
                .join(file_name(&ws.rg.to_ascii_lowercase()))
                .join(file_name(&ws.name.to_ascii_lowercase()))
        })
    }

    fn persist(&self, ws: &Ws, kind: Kind, name: &str) {
        let Some(dir) = self.dir(ws) else { return };
        let _ = write_atomic(
            &dir.join("workspace.json"),
            &json!({"subscription": ws.sub, "resourceGroup": ws.rg, "name": ws.name}),
        );
        let key = (kind, name.to_ascii_lowercase());
        let path = dir
            .join(kind.segment())
            .join(format!("{}.json", file_name(&key.1)));
        match ws.resources.get(&key) {
            Some(v) => {
                let _ = write_atomic(&path, v);
            }
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
        if kind == Kind::Watchlist {
            let p = dir
                .join("watchlists")
                .join(format!("{}.items.json", file_name(&key.1)));
            match ws.items.get(&key.1) {
                Some(items) => {
                    let _ = write_atomic(&p, &Value::Array(items.clone()));
                }
                None => {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }
}

/// Read a state folder.
fn load(dir: &Path, inner: &mut Inner) -> std::io::Result<()> {
    let root = dir.join("workspaces");
    let Ok(subs) = std::fs::read_dir(&root) else {
        return Ok(());
    };
    let mut ws_dirs = Vec::new();
    for s in subs.flatten() {
        for r in std::fs::read_dir(s.path())?.flatten() {
            for w in std::fs::read_dir(r.path())?.flatten() {
                ws_dirs.push(w.path());
            }
        }
    }
    ws_dirs.sort();
    for wd in ws_dirs {
        let info: Value = std::fs::read(wd.join("workspace.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let (Some(sub), Some(rg), Some(name)) = (
            info["subscription"].as_str(),
            info["resourceGroup"].as_str(),
            info["name"].as_str(),
        ) else {
            continue;
        };
        let mut ws = Ws {
            sub: sub.into(),
            rg: rg.into(),
            name: name.into(),
            guid: workspace_guid(sub, rg, name),
            schema: std::fs::read(wd.join("schema.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok()),
            ..Ws::default()
        };
        for kind in [
            Kind::AlertRule,
            Kind::SavedSearch,
            Kind::MlSetting,
            Kind::Watchlist,
            Kind::Metadata,
        ] {
            let Ok(files) = std::fs::read_dir(wd.join(kind.segment())) else {
                continue;
            };
            let mut files: Vec<PathBuf> = files.flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                let fname = f
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                if !fname.ends_with(".json") || fname.ends_with(".items.json") {
                    continue;
                }
                let Some(mut v) = std::fs::read(&f)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                else {
                    continue;
                };
                let name = v["name"].as_str().unwrap_or_default().to_ascii_lowercase();
                if kind == Kind::Watchlist {
                    // Operations do not survive a restart: finish them.
                    let state = v["properties"]["provisioningState"].as_str().unwrap_or("");
                    if state == "Deleting" {
                        continue;
                    }
                    v["properties"]["provisioningState"] = json!("Succeeded");
                    let items = std::fs::read(f.with_extension("items.json"))
                        .ok()
                        .and_then(|b| serde_json::from_slice::<Vec<Value>>(&b).ok())
                        .unwrap_or_default();
                    ws.items.insert(name.clone(), items);
                }
                ws.resources.insert((kind, name), v);
            }
        }
        soc::load(&wd, &mut ws);
        inner.workspaces.insert(ws_key(sub, rg, name), ws);
    }
    // Workspaces that only have a schema file.
    Ok(())
}

/// The catalog a workspace binds queries against: the embedded catalog, the emulator's extra
/// tables, the workspace's schema file (`missing` tables removed, `tables` added), and the
/// functions saved in the workspace.
fn build_catalog(global: Option<&Value>, ws: &Ws) -> Catalog {
    let mut c = Catalog::embedded().clone();
    if let Some(g) = global {
        c.add_schema_tables(g);
    }
    if let Some(s) = &ws.schema {
        c.add_schema_tables(s);
    }
    for ((kind, _), v) in &ws.resources {
        if *kind != Kind::SavedSearch {
            continue;
        }
        let p = &v["properties"];
        let (Some(alias), Some(body)) = (p["functionAlias"].as_str(), p["query"].as_str()) else {
            continue;
        };
        crate::kql::binder::add_saved_function(
            &mut c,
            alias,
            p["functionParameters"].as_str().unwrap_or(""),
            body,
        );
    }
    c
}

/// The query API's statistics in the service's shape (reference §19.2): the emulator reads
/// everything from its hot cache, so the bytes scanned are `shards.hot.hitbytes`.
fn statistics(t: &query::QueryTable, took: std::time::Duration) -> Value {
    let secs = took.as_secs_f64();
    let (rows, bytes) = t.scanned.unwrap_or((0, 0));
    let result_size: usize = t
        .rows
        .iter()
        .map(|r| Value::from(r.clone()).to_string().len())
        .sum();
    json!({"query": {
        "executionTime": secs,
        "resourceUsage": {
            "cache": {"shards": {
                "hot": {"hitbytes": bytes, "missbytes": 0, "retrievebytes": 0},
                "cold": {"hitbytes": 0, "missbytes": 0, "retrievebytes": 0},
                "bypassbytes": 0}},
            "cpu": {"user": timespan(secs), "kernel": "00:00:00", "totalCpu": timespan(secs)},
        },
        "inputDatasetStatistics": {"rows": {"total": rows, "scanned": rows}},
        "datasetStatistics": [{"tableRowCount": t.rows.len(), "tableSize": result_size}],
    }})
}

/// Seconds as a .NET TimeSpan string (`hh:mm:ss.fffffff`).
fn timespan(secs: f64) -> String {
    let ticks = (secs * 1e7).round() as u64;
    let (s, frac) = (ticks / 10_000_000, ticks % 10_000_000);
    format!(
        "{:02}:{:02}:{:02}.{frac:07}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

struct Route<'a> {
    ws: (&'a str, &'a str, &'a str),
    /// None: the workspace itself.
    kind: Option<Kind>,
    name: Option<&'a str>,
    /// `Some(None)`: the items list; `Some(Some(id))`: one item.
    items: Option<Option<&'a str>>,
}

fn route(path: &str) -> Option<Route<'_>> {
    let s: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let eq = |i: usize, w: &str| s.get(i).is_some_and(|x| x.eq_ignore_ascii_case(w));
    if !(eq(0, "subscriptions")
        && eq(2, "resourceGroups")
        && eq(4, "providers")
        && eq(5, "Microsoft.OperationalInsights")
        && eq(6, "workspaces")
        && s.len() >= 8)
    {
        return None;
    }
    let ws = (s[1], s[3], s[7]);
    let rest = &s[8..];
    let mut r = Route {
        ws,
        kind: None,
        name: None,
        items: None,
    };
    match rest {
        [] => {}
        [t] | [t, _] if t.eq_ignore_ascii_case("savedSearches") => {
            r.kind = Some(Kind::SavedSearch);
            r.name = rest.get(1).copied();
        }
        [p, si, t, more @ ..]
            if p.eq_ignore_ascii_case("providers")
                && si.eq_ignore_ascii_case("Microsoft.SecurityInsights") =>
        {
            let kind = Kind::from_segment(t).filter(|k| *k != Kind::SavedSearch)?;
            r.kind = Some(kind);
            match more {
                [] => {}
                [n] => r.name = Some(n),
                [n, i] if kind == Kind::Watchlist && i.eq_ignore_ascii_case("watchlistItems") => {
                    r.name = Some(n);
                    r.items = Some(None);
                }
                [n, i, id]
                    if kind == Kind::Watchlist && i.eq_ignore_ascii_case("watchlistItems") =>
                {
                    r.name = Some(n);
                    r.items = Some(Some(id));
                }
                _ => return None,
            }
        }
        _ => return None,
    }
    Some(r)
}

const PAGE: usize = 50;

fn host(req: &Request) -> String {
    format!("http://{}", req.header("host").unwrap_or("127.0.0.1"))
}

fn page(req: &Request, all: Vec<Value>, paged: bool) -> Response {
    if !paged {
        return Response::json(200, &json!({ "value": all }));
    }
    let start: usize = req
        .query("$skipToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let end = (start + PAGE).min(all.len());
    let mut body = json!({ "value": all.get(start..end).unwrap_or(&[]) });
    if end < all.len() {
        let api = req.query("api-version").unwrap_or_default();
        body["nextLink"] = json!(format!(
            "{}{}?api-version={api}&$skipToken={end}",
            host(req),
            req.path()
        ));
    }
    Response::json(200, &body)
}

impl Service {
    fn next_etag(inner: &mut Inner) -> String {
        inner.seq += 1;
        let n = inner.seq;
        format!(
            "\"{}\"",
            crate::clock::guid_of(&format!("etag-{n}-{}", crate::clock::now_rfc3339()))
        )
    }

    /// Finish operations whose time has come.
    fn settle(&self, inner: &mut Inner) {
        let now = Instant::now();
        let due: Vec<String> = inner
            .ops
            .iter()
            .filter(|(_, o)| !o.done && o.ready <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for id in due {
            let (wsk, alias, del) = {
                let o = inner.ops.get_mut(&id).expect("listed above");
                o.done = true;
                (
                    o.ws.clone(),
                    o.alias.clone(),
                    matches!(o.action, OpAction::Delete),
                )
            };
            if let Some(ws) = inner.workspaces.get_mut(&wsk) {
                let key = (Kind::Watchlist, alias.clone());
                if del {
                    ws.resources.remove(&key);
                    ws.items.remove(&alias);
                } else if let Some(v) = ws.resources.get_mut(&key) {
                    v["properties"]["provisioningState"] = json!("Succeeded");
                }
                self.persist(ws, Kind::Watchlist, &alias);
            }
        }
    }

    fn system_data(existing: Option<&Value>, now: &str) -> Value {
        let created = existing
            .and_then(|e| e["systemData"]["createdAt"].as_str())
            .unwrap_or(now)
            .to_string();
        json!({
            "createdBy": "vigil-emulator@example.invalid",
            "createdByType": "Application",
            "createdAt": created,
            "lastModifiedBy": "vigil-emulator@example.invalid",
            "lastModifiedByType": "Application",
            "lastModifiedAt": now,
        })
    }

    fn arm(&self, req: &Request, r: Route<'_>) -> Response {
        let mut guard = self.inner.lock().expect("emulator state lock");
        let inner = &mut *guard;
        self.settle(inner);
        let key = ws_key(r.ws.0, r.ws.1, r.ws.2);
        let si = !matches!(r.kind, None | Some(Kind::SavedSearch));
        let preview = match validate::api_version(req.query("api-version").as_deref(), si) {
            Ok(p) => p,
            Err(e) => return error(e),
        };
        let Some(kind) = r.kind else {
            if req.method != "GET" {
                return error(Reject {
                    status: 405,
                    code: "MethodNotAllowed",
                    message: "Only GET is emulated for workspaces.".into(),
                });
            }
            let guid = workspace_guid(r.ws.0, r.ws.1, r.ws.2);
            return Response::json(
                200,
                &json!({
                    "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationalInsights/workspaces/{}", r.ws.0, r.ws.1, r.ws.2),
                    "name": r.ws.2,
                    "type": "Microsoft.OperationalInsights/workspaces",
                    "location": "local",
                    "properties": {"customerId": guid, "provisioningState": "Succeeded"},
                }),
            );
        };
        if !inner.workspaces.contains_key(&key) {
            if req.method != "PUT" {
                // Reading an empty workspace: lists are empty, items absent.
                return match (r.name, req.method.as_str()) {
                    (None, "GET") => page(req, Vec::new(), kind != Kind::SavedSearch),
                    (Some(n), "DELETE") => {
                        let _ = n;
                        Response::empty(204)
                    }
                    (Some(n), "GET") => not_found(&format!("{} '{n}'", kind.segment())),
                    _ => error(Reject {
                        status: 405,
                        code: "MethodNotAllowed",
                        message: format!("{} is not supported here.", req.method),
                    }),
                };
            }
            inner.workspaces.insert(
                key.clone(),
                Ws {
                    sub: r.ws.0.into(),
                    rg: r.ws.1.into(),
                    name: r.ws.2.into(),
                    guid: workspace_guid(r.ws.0, r.ws.1, r.ws.2),
                    schema: self.dir_for(r.ws).and_then(|d| {
                        std::fs::read(d.join("schema.json"))
                            .ok()
                            .and_then(|b| serde_json::from_slice(&b).ok())
                    }),
                    ..Ws::default()
                },
            );
        }
        if let Some(item) = r.items {
            return self.items(req, inner, &key, r.name.unwrap_or(""), item);
        }
        let Some(name) = r.name else {
            if req.method != "GET" {
                return error(Reject {
                    status: 405,
                    code: "MethodNotAllowed",
                    message: format!("{} is not supported on a collection.", req.method),
                });
            }
            let ws = &inner.workspaces[&key];
            let all: Vec<Value> = ws
                .resources
                .iter()
                .filter(|((k, _), _)| *k == kind)
                .map(|(_, v)| v.clone())
                .collect();
            return page(req, all, kind != Kind::SavedSearch);
        };
        match req.method.as_str() {
            "GET" => match inner.workspaces[&key]
                .resources
                .get(&(kind, name.to_ascii_lowercase()))
            {
                Some(v) => Response::json(200, v),
                None => not_found(&format!("{} '{name}'", kind.segment())),
            },
            "PUT" => self.put(req, inner, &key, kind, name, preview),
            "DELETE" => self.delete(req, inner, &key, kind, name),
            m => error(Reject {
                status: 405,
                code: "MethodNotAllowed",
                message: format!("{m} is not supported."),
            }),
        }
    }

    fn dir_for(&self, ws: (&str, &str, &str)) -> Option<PathBuf> {
        self.opts.state.as_ref().map(|d| {
            d.join("workspaces")
                .join(file_name(&ws.0.to_ascii_lowercase()))
                .join(file_name(&ws.1.to_ascii_lowercase()))
                .join(file_name(&ws.2.to_ascii_lowercase()))
        })
    }

    fn catalog(&self, inner: &mut Inner, key: &str) -> Arc<Catalog> {
        let ws = inner.workspaces.get_mut(key).expect("workspace exists");
        if let Some(c) = &ws.catalog {
            return c.clone();
        }
        let c = Arc::new(build_catalog(self.opts.schema.as_ref(), ws));
        ws.catalog = Some(c.clone());
        c
    }

    fn put(
        &self,
        req: &Request,
        inner: &mut Inner,
        key: &str,
        kind: Kind,
        name: &str,
        preview: bool,
    ) -> Response {
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return error(validate::bad(format!(
                    "The request content is not valid JSON: {e}"
                )))
            }
        };
        let lname = name.to_ascii_lowercase();
        let existing = inner.workspaces[key]
            .resources
            .get(&(kind, lname.clone()))
            .cloned();
        // Optimistic concurrency: a body etag must match the current one (`*` overwrites).
        if let Some(etag) = body.get("etag").and_then(|e| e.as_str()) {
            if etag != "*" {
                match &existing {
                    Some(e) if e["etag"].as_str() == Some(etag) => {}
                    Some(_) => {
                        return error(Reject {
                            status: 409,
                            code: "Conflict",
                            message: format!(
                                "The etag {etag} does not match the current etag of {} '{name}'; it was changed by someone else.",
                                kind.segment()
                            ),
                        })
                    }
                    None => {
                        return error(Reject {
                            status: 409,
                            code: "Conflict",
                            message: format!(
                                "{} '{name}' does not exist, but the request carries an etag.",
                                kind.segment()
                            ),
                        })
                    }
                }
            }
        }
        let mut items = None;
        let mut kind_field = None;
        let validated = match kind {
            Kind::AlertRule => {
                let catalog = self.catalog(inner, key);
                validate::alert_rule(&body, preview, &catalog).and_then(|(k, p)| {
                    if let Some(e) = &existing {
                        if e["kind"].as_str() != Some(k.as_str()) {
                            return Err(validate::bad(format!(
                                "The kind of alert rule '{name}' cannot change from {} to {k}; delete it and create it again.",
                                e["kind"]
                            )));
                        }
                    }
                    kind_field = Some(k);
                    Ok(p)
                })
            }
            Kind::SavedSearch => validate::saved_search(&body),
            Kind::MlSetting => validate::ml_settings(&body).inspect(|_| {
                kind_field = Some("Anomaly".to_string());
            }),
            Kind::Watchlist => validate::watchlist(&body, name).map(|(p, i)| {
                items = i;
                p
            }),
            Kind::Metadata => validate::metadata(&body),
        };
        let mut props = match validated {
            Ok(p) => p,
            Err(e) => return error(e),
        };
        let now = self.now_text();
        let etag = Self::next_etag(inner);
        let ws = inner.workspaces.get_mut(key).expect("workspace exists");
        let id = match kind {
            Kind::SavedSearch => format!("{}/savedSearches/{name}", ws.base_id()),
            _ => format!(
                "{}/providers/Microsoft.SecurityInsights/{}/{name}",
                ws.base_id(),
                kind.segment()
            ),
        };
        let mut lro = None;
        match kind {
            Kind::AlertRule | Kind::MlSetting => {
                props.insert("lastModifiedUtc".into(), json!(now));
            }
            Kind::Watchlist => {
                let old = existing.as_ref().map(|e| &e["properties"]);
                let wid = props
                    .get("watchlistId")
                    .cloned()
                    .or_else(|| old.map(|o| o["watchlistId"].clone()))
                    .unwrap_or_else(|| json!(crate::clock::new_guid()));
                props.insert("watchlistId".into(), wid);
                props.insert("tenantId".into(), json!(TENANT));
                props.insert("isDeleted".into(), json!(false));
                let user = json!({"objectId": "00000000-0000-0000-0000-0000000000e1",
                    "email": "vigil-emulator@example.invalid", "name": "vigil emulator"});
                props.insert(
                    "created".into(),
                    old.map(|o| o["created"].clone()).unwrap_or(json!(now)),
                );
                props.insert("updated".into(), json!(now));
                props.insert("createdBy".into(), user.clone());
                props.insert("updatedBy".into(), user);
                props.insert("uploadStatus".into(), json!("Complete"));
                props.insert("provisioningState".into(), json!("InProgress"));
                if let Some(rows) = items.take() {
                    let tenant = TENANT;
                    let list = rows
                        .into_iter()
                        .enumerate()
                        .map(|(i, kv)| {
                            let iid = crate::clock::guid_of(&format!("{id}/{i}/{now}"));
                            json!({
                                "id": format!("{id}/watchlistItems/{iid}"),
                                "name": iid,
                                "type": "Microsoft.SecurityInsights/watchlists/watchlistItems",
                                "etag": format!("\"{}\"", crate::clock::guid_of(&format!("e{iid}"))),
                                "properties": {
                                    "watchlistItemType": "watchlist-item",
                                    "watchlistItemId": iid,
                                    "tenantId": tenant,
                                    "isDeleted": false,
                                    "created": now,
                                    "updated": now,
                                    "itemsKeyValue": Value::Object(kv),
                                    "entityMapping": {},
                                }
                            })
                        })
                        .collect();
                    ws.items.insert(lname.clone(), list);
                } else {
                    ws.items.entry(lname.clone()).or_default();
                }
                lro = Some(OpAction::Put);
            }
            Kind::SavedSearch | Kind::Metadata => {}
        }
        let mut v = json!({
            "id": id,
            "name": name,
            "type": kind.info().arm_type,
        });
        if let Some(k) = kind_field {
            v["kind"] = json!(k);
        }
        v["etag"] = if kind == Kind::SavedSearch {
            json!(format!("W/\"datetime'{}'\"", now.replace(':', "%3A")))
        } else {
            json!(etag)
        };
        v["systemData"] = Self::system_data(existing.as_ref(), &now);
        v["properties"] = Value::Object(props);
        ws.resources.insert((kind, lname.clone()), v.clone());
        if kind == Kind::SavedSearch {
            ws.catalog = None;
        }
        self.persist(ws, kind, &lname);
        let status = if existing.is_some() { 200 } else { 201 };
        let mut resp = Response::json(status, &v);
        if let Some(action) = lro {
            let op = self.start_op(inner, key, &lname, action);
            resp = resp.with_header("Azure-AsyncOperation", self.op_url(req, &op));
        }
        resp
    }

    fn start_op(&self, inner: &mut Inner, key: &str, alias: &str, action: OpAction) -> String {
        inner.seq += 1;
        let id =
            crate::clock::guid_of(&format!("op-{}-{}", inner.seq, crate::clock::now_rfc3339()));
        inner.ops.insert(
            id.clone(),
            Op {
                ws: key.to_string(),
                alias: alias.to_string(),
                action,
                ready: Instant::now() + self.opts.lro_delay,
                done: false,
                start: self.now_text(),
            },
        );
        id
    }

    fn op_url(&self, req: &Request, op: &str) -> String {
        let sub = req.path().split('/').nth(2).unwrap_or("00000000");
        format!(
            "{}/subscriptions/{sub}/providers/Microsoft.SecurityInsights/operationStatuses/{op}?api-version={}",
            host(req),
            req.query("api-version").unwrap_or_default()
        )
    }

    fn delete(
        &self,
        req: &Request,
        inner: &mut Inner,
        key: &str,
        kind: Kind,
        name: &str,
    ) -> Response {
        let lname = name.to_ascii_lowercase();
        let ws = inner.workspaces.get_mut(key).expect("workspace exists");
        let Some(existing) = ws.resources.get(&(kind, lname.clone())) else {
            return Response::empty(204);
        };
        if kind == Kind::Watchlist {
            let state = existing["properties"]["provisioningState"]
                .as_str()
                .unwrap_or("");
            if state == "Deleting" {
                // Already being deleted: the same operation answers.
                return Response::empty(202);
            }
            if state == "InProgress" {
                return error(Reject {
                    status: 409,
                    code: "Conflict",
                    message: format!(
                        "Watchlist '{name}' cannot be deleted while its upload is in progress."
                    ),
                });
            }
            let v = ws
                .resources
                .get_mut(&(kind, lname.clone()))
                .expect("checked above");
            v["properties"]["provisioningState"] = json!("Deleting");
            self.persist(ws, kind, &lname);
            let op = self.start_op(inner, key, &lname, OpAction::Delete);
            let url = self.op_url(req, &op);
            return Response::empty(202)
                .with_header("Azure-AsyncOperation", url.clone())
                .with_header("Location", url);
        }
        ws.resources.remove(&(kind, lname.clone()));
        if kind == Kind::SavedSearch {
            ws.catalog = None;
        }
        self.persist(ws, kind, &lname);
        Response::empty(200)
    }

    fn items(
        &self,
        req: &Request,
        inner: &mut Inner,
        key: &str,
        alias: &str,
        item: Option<&str>,
    ) -> Response {
        let la = alias.to_ascii_lowercase();
        let ws = inner.workspaces.get_mut(key).expect("workspace exists");
        if !ws.resources.contains_key(&(Kind::Watchlist, la.clone())) {
            return not_found(&format!("Watchlist '{alias}'"));
        }
        let list = ws.items.entry(la.clone()).or_default();
        match (item, req.method.as_str()) {
            (None, "GET") => {
                let all = list.clone();
                page(req, all, true)
            }
            (Some(id), "GET") => match list.iter().find(|i| i["name"].as_str() == Some(id)) {
                Some(v) => Response::json(200, v),
                None => not_found(&format!("Watchlist item '{id}'")),
            },
            (Some(id), "DELETE") => {
                let before = list.len();
                list.retain(|i| i["name"].as_str() != Some(id));
                let status = if list.len() < before { 200 } else { 204 };
                self.persist(ws, Kind::Watchlist, &la);
                Response::empty(status)
            }
            (Some(id), "PUT") => {
                let body: Value = match serde_json::from_slice(&req.body) {
                    Ok(v) => v,
                    Err(e) => return error(validate::bad(format!("invalid JSON: {e}"))),
                };
                let mut props = match validate::watchlist_item(&body) {
                    Ok(p) => p,
                    Err(e) => return error(e),
                };
                let now = self.now_text();
                props.insert("watchlistItemId".into(), json!(id));
                props.insert("tenantId".into(), json!(TENANT));
                props.insert("isDeleted".into(), json!(false));
                props.insert("updated".into(), json!(now));
                let v = json!({
                    "id": format!("{}/providers/Microsoft.SecurityInsights/watchlists/{alias}/watchlistItems/{id}", ws.base_id()),
                    "name": id,
                    "type": "Microsoft.SecurityInsights/watchlists/watchlistItems",
                    "etag": format!("\"{}\"", crate::clock::guid_of(&format!("{id}{now}"))),
                    "properties": Value::Object(props),
                });
                let list = ws.items.entry(la.clone()).or_default();
                let status = match list.iter_mut().find(|i| i["name"].as_str() == Some(id)) {
                    Some(slot) => {
                        *slot = v.clone();
                        200
                    }
                    None => {
                        list.push(v.clone());
                        201
                    }
                };
                self.persist(ws, Kind::Watchlist, &la);
                Response::json(status, &v)
            }
            (_, m) => error(Reject {
                status: 405,
                code: "MethodNotAllowed",
                message: format!("{m} is not supported on watchlist items."),
            }),
        }
    }

    fn operation(&self, id: &str) -> Response {
        let mut guard = self.inner.lock().expect("emulator state lock");
        self.settle(&mut guard);
        match guard.ops.get(id) {
            Some(o) => Response::json(
                200,
                &json!({
                    "id": id,
                    "name": id,
                    "status": if o.done { "Succeeded" } else { "InProgress" },
                    "startTime": o.start,
                }),
            ),
            None => not_found(&format!("Operation '{id}'")),
        }
    }

    /// The workspace's tables (ARM `GET .../workspaces/{ws}/tables[/{name}]`): the tables with
    /// data, each with `properties.plan` (`Analytics` unless the workspace's schema file names
    /// another under `"plans"`) and `retentionInDays`.
    fn tables(&self, req: &Request, sub: &str, rg: &str, ws: &str, name: Option<&str>) -> Response {
        if req.method != "GET" {
            return error(Reject {
                status: 405,
                code: "MethodNotAllowed",
                message: "Only GET is emulated for workspace tables.".into(),
            });
        }
        let guard = self.inner.lock().expect("emulator state lock");
        let key = ws_key(sub, rg, ws);
        let (guid, logs, schema) = match guard.workspaces.get(&key) {
            Some(w) => (w.guid.clone(), w.soc.logs.clone(), w.schema.clone()),
            None => (workspace_guid(sub, rg, ws), Default::default(), None),
        };
        drop(guard);
        let plans = schema
            .as_ref()
            .or(self.opts.schema.as_ref())
            .and_then(|s| s.get("plans").cloned())
            .unwrap_or(Value::Null);
        let mut names = self.opts.engine.tables(&guid, &logs);
        if let Some(o) = plans.as_object() {
            names.extend(o.keys().cloned());
        }
        names.sort();
        names.dedup();
        let id = format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/tables");
        let item = |n: &str| {
            json!({
                "id": format!("{id}/{n}"), "name": n,
                "type": "Microsoft.OperationalInsights/workspaces/tables",
                "properties": {
                    "plan": plans[n].as_str().unwrap_or("Analytics"),
                    "retentionInDays": 90, "totalRetentionInDays": 90,
                    "provisioningState": "Succeeded",
                },
            })
        };
        match name {
            None => Response::json(
                200,
                &json!({"value": names.iter().map(|n| item(n)).collect::<Vec<_>>()}),
            ),
            Some(n) => match names.iter().find(|x| x.eq_ignore_ascii_case(n)) {
                Some(n) => Response::json(200, &item(n)),
                None => not_found(&format!("Table '{n}'")),
            },
        }
    }

    /// Log Analytics data plane: `/v1/workspaces/{guid}/query|metadata`.
    fn data_plane(&self, req: &Request, guid: &str, what: &str) -> Response {
        let (catalog, logs) = {
            let mut guard = self.inner.lock().expect("emulator state lock");
            let key = guard
                .workspaces
                .iter()
                .find(|(_, w)| w.guid.eq_ignore_ascii_case(guid))
                .map(|(k, _)| k.clone());
            match key {
                Some(k) => (
                    self.catalog(&mut guard, &k),
                    guard.workspaces[&k].soc.logs.clone(),
                ),
                None => {
                    return error(Reject {
                        status: 404,
                        code: "WorkspaceNotFoundError",
                        message: format!("The workspace {guid} could not be found."),
                    })
                }
            }
        };
        match (what, req.method.as_str()) {
            ("metadata", "GET") => {
                let mut tables: Vec<(&String, &Schema)> = catalog.tables.iter().collect();
                tables.sort_by(|a, b| a.0.cmp(b.0));
                let mut funcs: Vec<_> = catalog.functions.iter().collect();
                funcs.sort_by(|a, b| a.0.cmp(b.0));
                Response::json(
                    200,
                    &json!({
                        "tables": tables.iter().map(|(n, s)| json!({
                            "id": format!("t/{n}"),
                            "name": n,
                            "columns": s.columns.iter()
                                .map(|(c, t)| json!({"name": c, "type": t.name()}))
                                .collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                        "functions": funcs.iter().map(|(n, f)| json!({
                            "id": format!("f/{n}"),
                            "name": n,
                            "parameters": f.params.trim_start_matches('(').trim_end_matches(')'),
                            "resultColumns": if f.result.open { Value::Null } else {
                                Value::Array(f.result.columns.iter()
                                    .map(|(c, t)| json!({"name": c, "type": t.name()}))
                                    .collect())
                            },
                        })).collect::<Vec<_>>(),
                    }),
                )
            }
            ("query", "POST") | ("query", "GET") => {
                let (query, timespan) = if req.method == "POST" {
                    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                    (
                        body["query"].as_str().map(String::from),
                        body["timespan"].as_str().map(String::from),
                    )
                } else {
                    (req.query("query"), req.query("timespan"))
                };
                let Some(query) = query else {
                    return error(Reject {
                        status: 400,
                        code: "BadArgumentError",
                        message: "The request had some invalid properties: 'query' is required."
                            .into(),
                    });
                };
                let now = self.virtual_now();
                let request = query::QueryRequest {
                    workspace: guid,
                    query: &query,
                    timespan: timespan.as_deref(),
                    now: now.as_deref(),
                    logs: &logs,
                };
                let started = std::time::Instant::now();
                match self.opts.engine.run(&request) {
                    Ok(t) => {
                        let mut body = json!({"tables": [t.to_json()]});
                        if req
                            .header("prefer")
                            .is_some_and(|p| p.contains("include-statistics=true"))
                        {
                            body["statistics"] = statistics(&t, started.elapsed());
                        }
                        Response::json(200, &body)
                    }
                    Err(m) if m.starts_with("not supported yet") => error(Reject {
                        status: 501,
                        code: "NotSupported",
                        message: m,
                    }),
                    Err(m) => error(Reject {
                        status: 400,
                        code: "BadArgumentError",
                        message: m,
                    }),
                }
            }
            _ => error(Reject {
                status: 404,
                code: "PathNotFoundError",
                message: format!("The requested path does not exist: {}", req.path()),
            }),
        }
    }
}

impl http::Handler for Service {
    fn handle(&self, req: &Request) -> Response {
        if let Some(t) = &self.opts.token {
            let want = format!("Bearer {t}");
            if req.header("authorization") != Some(want.as_str()) {
                return error(Reject {
                    status: 401,
                    code: "AuthenticationFailed",
                    message:
                        "Authentication failed. The 'Authorization' header is missing or invalid."
                            .into(),
                });
            }
        }
        let path = req.path().to_string();
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut resp = match segs.as_slice() {
            ["v1", w, guid, what] if w.eq_ignore_ascii_case("workspaces") => {
                self.data_plane(req, guid, what)
            }
            ["vigil-emulator", what] => self.admin(req, what),
            [d, dcr, st, stream]
                if d.eq_ignore_ascii_case("dataCollectionRules")
                    && st.eq_ignore_ascii_case("streams") =>
            {
                self.ingest(req, dcr, stream)
            }
            [s, sub, r, rg, p, oi, w, ws, p2, si, inc, rest @ ..]
                if s.eq_ignore_ascii_case("subscriptions")
                    && r.eq_ignore_ascii_case("resourceGroups")
                    && p.eq_ignore_ascii_case("providers")
                    && oi.eq_ignore_ascii_case("Microsoft.OperationalInsights")
                    && w.eq_ignore_ascii_case("workspaces")
                    && p2.eq_ignore_ascii_case("providers")
                    && si.eq_ignore_ascii_case("Microsoft.SecurityInsights")
                    && inc.eq_ignore_ascii_case("incidents") =>
            {
                self.incidents(req, &ws_key(sub, rg, ws), rest)
            }
            [s, _, p, si, o, id]
                if s.eq_ignore_ascii_case("subscriptions")
                    && p.eq_ignore_ascii_case("providers")
                    && si.eq_ignore_ascii_case("Microsoft.SecurityInsights")
                    && o.eq_ignore_ascii_case("operationStatuses") =>
            {
                self.operation(id)
            }
            [s, sub, r, rg, p, oi, w, ws, t, name @ ..]
                if s.eq_ignore_ascii_case("subscriptions")
                    && r.eq_ignore_ascii_case("resourceGroups")
                    && p.eq_ignore_ascii_case("providers")
                    && oi.eq_ignore_ascii_case("Microsoft.OperationalInsights")
                    && w.eq_ignore_ascii_case("workspaces")
                    && t.eq_ignore_ascii_case("tables")
                    && name.len() <= 1 =>
            {
                self.tables(req, sub, rg, ws, name.first().copied())
            }
            _ => match route(&path) {
                Some(r) => self.arm(req, r),
                None => error(Reject {
                    status: 404,
                    code: "InvalidResourceType",
                    message: format!("The resource type could not be found for path '{path}'."),
                }),
            },
        };
        let rid = crate::clock::new_guid();
        resp.headers.push(("x-ms-request-id".into(), rid.clone()));
        resp.headers
            .push(("x-ms-correlation-request-id".into(), rid));
        resp
    }
}

/// Human-readable sizes of what a state folder holds, for `vigil emulate --verbose`.
pub fn describe(opts: &Options) -> String {
    match &opts.state {
        Some(d) => format!("state in {}", d.display()),
        None => "state in memory".into(),
    }
}

/// Write the workspace schema file the emulator reads (`missing` tables, extra `tables`).
pub fn write_workspace_schema(
    state: &Path,
    subscription: &str,
    resource_group: &str,
    workspace: &str,
    schema: &Value,
) -> std::io::Result<()> {
    let d = state
        .join("workspaces")
        .join(file_name(&subscription.to_ascii_lowercase()))
        .join(file_name(&resource_group.to_ascii_lowercase()))
        .join(file_name(&workspace.to_ascii_lowercase()));
    write_atomic(
        &d.join("workspace.json"),
        &json!({"subscription": subscription, "resourceGroup": resource_group, "name": workspace}),
    )?;
    write_atomic(&d.join("schema.json"), schema)
}
