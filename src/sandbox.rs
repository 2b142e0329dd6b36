//! The local sandbox: `[sandbox]` settings and the data source the embedded engine runs
//! against — table files from the sandbox folder, plus the repository's own functions and
//! watchlists, so `_GetWatchlist('x')` and parser functions work offline.

use std::path::{Path, PathBuf};

use crate::engine::data::rows_to_table;
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
    schemas: &crate::config::SchemasConfig,
) -> Sandbox {
    for_definitions(dir, defs, schemas).contained_in(root)
}

/// The embedded engine behind the emulator's query API: every workspace of the emulator reads
/// the same sandbox data (the repository's `[sandbox]` folder, functions and watchlists).
/// The query's `timespan` (`PT1H`, or `start/end`) restricts `TimeGenerated` as the real API
/// does; `now()` is the end of the timespan, else the sandbox clock.
pub struct SandboxEngine {
    pub data: Sandbox,
    pub now: i64,
}

impl SandboxEngine {
    /// The window a query API timespan names, relative to `now`.
    pub fn window(&self, timespan: Option<&str>) -> Result<Option<(i64, i64)>, String> {
        let Some(ts) = timespan else {
            return Ok(None);
        };
        let bad = || format!("invalid timespan `{ts}`");
        let dur = |s: &str| {
            crate::model::duration::Duration::parse(s)
                .map(|d| d.0 as i64 * crate::engine::value::SECOND)
        };
        match ts.split_once('/') {
            None => Ok(Some((self.now - dur(ts).ok_or_else(bad)?, self.now))),
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

impl crate::emulator::QueryEngine for SandboxEngine {
    fn run(
        &self,
        _workspace: &str,
        query: &str,
        timespan: Option<&str>,
    ) -> Result<crate::emulator::QueryTable, String> {
        let window = self.window(timespan)?;
        let opts = crate::engine::RunOptions {
            now: window.map(|w| w.1).unwrap_or(self.now),
            window,
        };
        let out = crate::engine::run(query, &self.data, opts).map_err(|e| e.message)?;
        Ok(crate::emulator::QueryTable {
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
}
