//! Where the engine's tables, stored functions and watchlists come from.

use std::sync::Arc;

use super::table::Table;

/// A stored function: its parameter list as written (`(a:string, b:long)`, or empty) and body.
#[derive(Clone, Debug)]
pub struct StoredFunction {
    pub params: String,
    pub body: String,
}

/// Where tables, stored functions and watchlists come from.
pub trait DataSource {
    fn table(&self, name: &str) -> Option<Arc<Table>>;
    fn function(&self, _name: &str) -> Option<StoredFunction> {
        None
    }
    fn watchlist(&self, _alias: &str) -> Option<Arc<Table>> {
        None
    }
    /// Every table name (for `union *`).
    fn table_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// The text of an `externaldata` URL, from a local copy (the engine never downloads).
    fn external(&self, _url: &str) -> Option<Result<String, String>> {
        None
    }
    /// The message for a name that is neither data, a variable nor a function.
    fn missing_table(&self, name: &str) -> String {
        format!("`{name}` is not a table in the sandbox data, a variable or a function")
    }
    /// A time index of the table `table(name)` returns, when the source keeps one: each run of
    /// a window then reads only its own rows instead of rescanning the table.
    fn time_index(&self, _name: &str) -> Option<Arc<TimeIndex>> {
        None
    }
    /// The geo-IP database `geo_info_from_ip_address()` reads: None when none is configured,
    /// an error when the configured one cannot be read.
    fn geoip(&self) -> Option<Result<Arc<super::geoip::GeoIp>, String>> {
        None
    }
    /// The catalog the source's tables, functions and watchlists are typed by, which the
    /// binder binds queries against (the bound plan's names and types come from it).
    fn catalog(&self) -> &crate::kql::catalog::Catalog {
        crate::kql::catalog::Catalog::embedded()
    }
}

/// The rows of a table ordered by `TimeGenerated` (rows whose `TimeGenerated` is not a
/// datetime are left out, as a window leaves them out).
#[derive(Debug)]
pub struct TimeIndex {
    /// The table's row count when the index was built.
    pub rows: usize,
    /// Sorted times.
    pub times: Vec<i64>,
    /// `order[i]`: the row of `times[i]`.
    pub order: Vec<u32>,
}

impl TimeIndex {
    pub fn build(t: &Table) -> Option<TimeIndex> {
        let col = t.column("TimeGenerated")?;
        let mut pairs: Vec<(i64, u32)> = col
            .data
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                super::value::Value::DateTime(x) => Some((*x, i as u32)),
                _ => None,
            })
            .collect();
        pairs.sort_unstable();
        Some(TimeIndex {
            rows: t.rows,
            times: pairs.iter().map(|p| p.0).collect(),
            order: pairs.iter().map(|p| p.1).collect(),
        })
    }

    /// How many rows have `start <= TimeGenerated < end`.
    pub fn count(&self, start: i64, end: i64) -> usize {
        let lo = self.times.partition_point(|&t| t < start);
        let hi = self.times.partition_point(|&t| t < end);
        hi.saturating_sub(lo)
    }

    /// The rows with `start <= TimeGenerated < end`, in table order.
    pub fn window(&self, start: i64, end: i64) -> Vec<usize> {
        let lo = self.times.partition_point(|&t| t < start);
        let hi = self.times.partition_point(|&t| t < end).max(lo);
        let mut idx: Vec<usize> = self.order[lo..hi].iter().map(|&i| i as usize).collect();
        idx.sort_unstable();
        idx
    }
}
