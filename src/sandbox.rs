//! The local sandbox: `[sandbox]` settings and the data source the embedded engine runs
//! against — table files from the sandbox folder, plus the repository's own functions and
//! watchlists, so `_GetWatchlist('x')` and parser functions work offline.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::emulator::query::{Logs, QueryRequest, RaisedAlert, RuleRun};
use crate::engine::data::{json_row, rows_to_table};
use crate::engine::source::DataSource;
use crate::engine::table::Table;
use crate::engine::value::{parse_datetime, Type, Value, DAY};
use crate::engine::{Sandbox, StoredFunction};
use crate::model::{Definition, Item};

/// `[sandbox]` of vigil.toml, resolved: the clock as 100-ns ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct SandboxConfig {
    /// Folder of table files, relative to the repository root (default `sandbox`).
    pub data: PathBuf,
    /// The pinned clock: `now()` and `ago()` in the sandbox, and the end of the dry-run window.
    pub now: i64,
    /// Days of data `vigil sandbox init` generates and dry-runs replay.
    pub days: i64,
    /// Seed of the generator.
    pub seed: u64,
    /// Alerts per day above which dry-run flags a rule (default 10).
    pub alert_budget_per_day: f64,
}

/// The default pinned clock.
pub const DEFAULT_NOW: &str = crate::config::DEFAULT_NOW;

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig::from_settings(&crate::config::SandboxSettings::default())
    }
}

impl SandboxConfig {
    /// Resolve `[sandbox]` of a configuration that `config::parse` accepted (its values are
    /// checked there; a clock that does not parse falls back on the default).
    pub fn from_settings(s: &crate::config::SandboxSettings) -> SandboxConfig {
        SandboxConfig {
            data: s.data.clone(),
            now: parse_datetime(&s.now.0)
                .or_else(|| parse_datetime(DEFAULT_NOW))
                .unwrap_or(0),
            days: s.days.clamp(1, 90),
            seed: s.seed,
            alert_budget_per_day: s.alert_budget_per_day.max(0.0),
        }
    }

    /// `[sandbox]` of a configuration.
    pub fn from_config(c: &crate::config::Config) -> SandboxConfig {
        SandboxConfig::from_settings(&c.sandbox)
    }

    /// The sandbox window: `days` ending at `now`.
    pub fn window(&self) -> (i64, i64) {
        (self.now - self.days * DAY, self.now)
    }
}

/// A data source over `dir` with the repository's functions, watchlists and custom table
/// schemas.
pub fn for_definitions(
    dir: &Path,
    defs: &[Definition],
    schemas: &crate::config::SchemasConfig,
) -> Sandbox {
    let mut sb = Sandbox::open(dir);
    {
        for (name, cols) in &schemas.tables {
            let mut schema: Vec<(String, Type)> = crate::kql::catalog::Catalog::embedded()
                .tables
                .get(name)
                .map(|s| s.columns.clone())
                .unwrap_or_default();
            for (c, t) in cols {
                let ty = Type::parse(t);
                match schema.iter_mut().find(|(n, _)| n == c) {
                    Some(e) => e.1 = ty,
                    None => schema.push((c.clone(), ty)),
                }
            }
            sb.add_schema(name, schema);
        }
    }
    for d in defs {
        match &d.item {
            Item::Function(f) => {
                let params = match &f.function_parameters {
                    Some(ps) if !ps.is_empty() => format!(
                        "({})",
                        ps.iter()
                            .map(|p| match &p.default {
                                Some(def) => format!("{}:{}={def}", p.name, p.ty),
                                None => format!("{}:{}", p.name, p.ty),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => String::new(),
                };
                sb.add_function(
                    &f.function_alias,
                    StoredFunction {
                        params,
                        body: f.query.clone(),
                    },
                );
            }
            Item::Watchlist(w, items) => {
                let key_idx = items.header.iter().position(|h| *h == w.items_search_key);
                let rows: Vec<Vec<(String, Value)>> = items
                    .rows
                    .iter()
                    .map(|r| {
                        let mut row: Vec<(String, Value)> = Vec::new();
                        let key = key_idx.and_then(|k| r.get(k)).cloned().unwrap_or_default();
                        row.push(("SearchKey".into(), Value::string(key)));
                        let mut bag = serde_json::Map::new();
                        for (h, v) in items.header.iter().zip(r) {
                            row.push((h.clone(), Value::str(v)));
                            bag.insert(h.clone(), serde_json::Value::String(v.clone()));
                        }
                        row.push((
                            "WatchlistItem".into(),
                            Value::dynamic(serde_json::Value::Object(bag)),
                        ));
                        row
                    })
                    .collect();
                let mut schema: Vec<(String, Type)> = vec![("SearchKey".into(), Type::String)];
                schema.extend(items.header.iter().map(|h| (h.clone(), Type::String)));
                schema.push(("WatchlistItem".into(), Type::Dynamic));
                sb.add_watchlist(&w.alias, rows_to_table(rows, Some(&schema)));
            }
            _ => {}
        }
    }
    sb
}

/// The repository's sandbox: [`for_definitions`] over `dir`, reading only files that lie inside
/// `root` after symbolic links.
pub fn for_repository(
    root: &Path,
    dir: &Path,
    defs: &[Definition],
    config: &crate::config::Config,
) -> Sandbox {
    with_geoip(
        for_definitions(dir, defs, &config.schemas).contained_in(root),
        root,
        config,
    )
}

/// `[sandbox] geoip`: the database named there, which must lie inside the repository (the
/// containment rule of every path content or `vigil.toml` names); read on first use.
pub fn with_geoip(sb: Sandbox, root: &Path, config: &crate::config::Config) -> Sandbox {
    match &config.sandbox.geoip {
        None => sb,
        Some(p) => {
            let named = p.to_string_lossy();
            sb.with_geoip_file(
                crate::paths::contained(root, root, &named)
                    .map_err(|e| format!("`[sandbox] geoip`: {e}")),
            )
        }
    }
}

/// The embedded engine behind the emulator's query API and scheduler: every workspace of the
/// emulator reads the same sandbox data (the repository's `[sandbox]` folder, functions and
/// watchlists) plus its own logs (ingested rows and the alerts, incidents and health rows the
/// emulator wrote), each log table appended to the sandbox table of the same name.
/// The query's `timespan` (`PT1H`, or `start/end`) restricts `TimeGenerated` as the real API
/// does; `now()` is the end of the timespan, else the emulator's virtual clock, else the
/// sandbox clock.
pub struct SandboxEngine {
    pub data: Sandbox,
    pub now: i64,
    /// Log tables converted once: (workspace, table) → (rows converted, table).
    logs: Mutex<LogCache>,
}

/// (workspace, table) → (rows converted, table).
type LogCache = HashMap<(String, String), (usize, Arc<Table>)>;

/// The sandbox with a workspace's log tables on top.
struct WithLogs<'a> {
    base: &'a Sandbox,
    engine: &'a SandboxEngine,
    workspace: String,
    logs: &'a Logs,
}

impl DataSource for WithLogs<'_> {
    fn table(&self, name: &str) -> Option<Arc<Table>> {
        let log = self
            .logs
            .get(name)
            .map(|rows| self.engine.log_table(&self.workspace, name, rows));
        match (log, self.base.table(name)) {
            (Some(l), Some(b)) if b.rows > 0 => Some(Arc::new(b.concat(&l))),
            (Some(l), _) => Some(l),
            // A workspace has the tables of its catalog, empty until data arrives (Sentinel's
            // own tables always); a table outside the catalog (a custom table whose data
            // collection was never set up) fails as Log Analytics fails to resolve it.
            (None, None) => crate::kql::catalog::Catalog::embedded()
                .tables
                .get(name)
                .map(|s| Arc::new(Table::empty(&s.columns))),
            (None, b) => b,
        }
    }
    fn function(&self, name: &str) -> Option<StoredFunction> {
        self.base.function(name)
    }
    fn watchlist(&self, alias: &str) -> Option<Arc<Table>> {
        self.base.watchlist(alias)
    }
    fn table_names(&self) -> Vec<String> {
        let mut n = self.base.table_names();
        n.extend(self.logs.keys().cloned());
        n.sort();
        n.dedup();
        n
    }
    fn external(&self, url: &str) -> Option<Result<String, String>> {
        self.base.external(url)
    }
    fn missing_table(&self, name: &str) -> String {
        self.base.missing_table(name)
    }
    fn catalog(&self) -> &crate::kql::catalog::Catalog {
        self.base.catalog()
    }
    /// A table with no workspace logs is the sandbox's, so its index serves (a table with
    /// logs has more rows than the index, which the engine then ignores).
    fn time_index(&self, name: &str) -> Option<Arc<crate::engine::source::TimeIndex>> {
        if self.logs.contains_key(name) {
            None
        } else {
            self.base.time_index(name)
        }
    }
    fn geoip(&self) -> Option<Result<Arc<crate::engine::geoip::GeoIp>, String>> {
        self.base.geoip()
    }
}

impl SandboxEngine {
    pub fn new(data: Sandbox, now: i64) -> SandboxEngine {
        SandboxEngine {
            data,
            now,
            logs: Mutex::new(HashMap::new()),
        }
    }

    /// The sandbox with the workspace's log tables (converted once per new row count).
    fn with_logs<'a>(&'a self, workspace: &str, logs: &'a Logs) -> WithLogs<'a> {
        WithLogs {
            base: &self.data,
            engine: self,
            workspace: workspace.to_ascii_lowercase(),
            logs,
        }
    }

    /// A workspace's log table as an engine table, converted when a query first reads it at
    /// this length (tables only grow).
    fn log_table(&self, workspace: &str, name: &str, rows: &[serde_json::Value]) -> Arc<Table> {
        let key = (workspace.to_string(), name.to_string());
        if let Some((n, t)) = self.logs.lock().expect("log table cache").get(&key) {
            if *n == rows.len() {
                return t.clone();
            }
        }
        let schema = crate::kql::catalog::Catalog::embedded()
            .tables
            .get(name)
            .map(|s| s.columns.clone());
        let t = Arc::new(rows_to_table(
            rows.iter()
                .filter_map(|r| r.as_object().cloned())
                .map(json_row)
                .collect(),
            schema.as_deref(),
        ));
        self.logs
            .lock()
            .expect("log table cache")
            .insert(key, (rows.len(), t.clone()));
        t
    }

    /// The window a query API timespan names, relative to `now`.
    pub fn window(&self, timespan: Option<&str>) -> Result<Option<(i64, i64)>, String> {
        self.window_at(timespan, self.now)
    }

    fn window_at(&self, timespan: Option<&str>, now: i64) -> Result<Option<(i64, i64)>, String> {
        let Some(ts) = timespan else {
            return Ok(None);
        };
        let bad = || format!("invalid timespan `{ts}`");
        let dur = |s: &str| {
            crate::model::duration::Duration::parse(s)
                .map(|d| d.0 as i64 * crate::engine::value::SECOND)
        };
        match ts.split_once('/') {
            None => Ok(Some((now - dur(ts).ok_or_else(bad)?, now))),
            Some((a, b)) => {
                let start = parse_datetime(a);
                let end = parse_datetime(b);
                match (start, end) {
                    (Some(s), Some(e)) => Ok(Some((s, e))),
                    (Some(s), None) => Ok(Some((s, s + dur(b).ok_or_else(bad)?))),
                    (None, Some(e)) => Ok(Some((e - dur(a).ok_or_else(bad)?, e))),
                    (None, None) => Err(bad()),
                }
            }
        }
    }
}

/// An alert rule's REST properties as the model's rule (the fields the scheduler reads).
fn rule_of(kind: &str, p: &serde_json::Value) -> Result<crate::model::types::Rule, String> {
    let mut r = serde_json::Map::new();
    r.insert("id".into(), "00000000-0000-0000-0000-000000000000".into());
    r.insert("name".into(), p["displayName"].clone());
    r.insert(
        "description".into(),
        p.get("description").cloned().unwrap_or_else(|| "".into()),
    );
    r.insert("kind".into(), kind.into());
    for k in [
        "severity",
        "query",
        "queryFrequency",
        "queryPeriod",
        "triggerOperator",
        "triggerThreshold",
        "entityMappings",
        "customDetails",
        "alertDetailsOverride",
        "eventGroupingSettings",
        "suppressionEnabled",
        "suppressionDuration",
    ] {
        if let Some(v) = p.get(k).filter(|v| !v.is_null()) {
            r.insert(k.into(), v.clone());
        }
    }
    serde_json::from_value(serde_json::Value::Object(r))
        .map_err(|e| format!("the rule cannot run: {e}"))
}

impl crate::emulator::QueryEngine for SandboxEngine {
    fn run(&self, r: &QueryRequest<'_>) -> Result<crate::emulator::QueryTable, String> {
        let now = r.now.and_then(parse_datetime).unwrap_or(self.now);
        let window = self.window_at(r.timespan, now)?;
        let opts = crate::engine::RunOptions {
            now: window.map(|w| w.1).unwrap_or(now),
            window,
        };
        let data = self.with_logs(r.workspace, r.logs);
        let out = crate::engine::run(r.query, &data, opts).map_err(|e| e.message)?;
        Ok(crate::emulator::QueryTable {
            scanned: Some((out.rows_scanned, out.scanned_bytes())),
            name: "PrimaryResult".into(),
            columns: out
                .table
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.ty.name().to_string()))
                .collect(),
            rows: out
                .table
                .json_rows()
                .into_iter()
                .map(|r| match r {
                    serde_json::Value::Array(a) => a,
                    other => vec![other],
                })
                .collect(),
        })
    }

    fn tables(&self, workspace: &str, logs: &Logs) -> Vec<String> {
        use crate::engine::DataSource;
        self.with_logs(workspace, logs).table_names()
    }

    fn run_rule(
        &self,
        workspace: &str,
        kind: &str,
        properties: &serde_json::Value,
        end: &str,
        logs: &Logs,
    ) -> Result<RuleRun, String> {
        let rule = rule_of(kind, properties)?;
        let at = parse_datetime(end).ok_or_else(|| format!("invalid time `{end}`"))?;
        let data = self.with_logs(workspace, logs);
        let q = crate::alerts::prepare(&rule.query, data.catalog()).map_err(|e| e.message)?;
        let (table, _) = crate::alerts::run_once(&rule, &q, &data, at).map_err(|e| e.message)?;
        Ok(RuleRun {
            rows: table.rows,
            alerts: crate::alerts::alerts_for(&rule, &table)
                .into_iter()
                .map(|a| RaisedAlert {
                    description: rule.description.clone(),
                    display_name: a.display_name,
                    severity: a.severity,
                    rows: a.rows,
                    entities: a.entities,
                    custom_details: a.custom_details,
                })
                .collect(),
        })
    }
}
