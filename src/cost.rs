//! What a query costs, as the Log Analytics query API reports it (`Prefer:
//! include-statistics=true`), projected to a day of scheduled runs, and the share of it that
//! is charged per GB: only Basic and Auxiliary tables carry a query charge (Analytics tables do
//! not), by the table plans `vigil schema pull` records.
//!
//! The statistics payload varies by query and is read as optional, untyped JSON. "Data scanned"
//! is the bytes the shards read (`resourceUsage.cache.shards` hot and cold `hitbytes` +
//! `missbytes`, plus `bypassbytes`) and the row-store values scanned
//! (`inputDatasetStatistics.rowstores.scannedValuesSize`); a response without any of these has
//! no figure, and a figure that is missing is "unknown", never zero.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// The figures of one query's statistics.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueryStats {
    /// Seconds, as `executionTime` reports them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_seconds: Option<f64>,
    /// `resourceUsage.cpu.totalCpu`, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
    /// Data scanned (see the module docs), in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanned_bytes: Option<u64>,
    /// `inputDatasetStatistics.rows.scanned`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanned_rows: Option<u64>,
}

/// A .NET TimeSpan string (`hh:mm:ss.fffffff`, `d.hh:mm:ss`) in seconds.
pub fn timespan_seconds(s: &str) -> Option<f64> {
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if r.contains(':') && !d.contains(':') => (d.parse::<f64>().ok()?, r),
        _ => (0.0, s),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() != 3 {
        return None;
    }
    let h: f64 = parts[0].parse().ok()?;
    let m: f64 = parts[1].parse().ok()?;
    let sec: f64 = parts[2].parse().ok()?;
    Some(days * 86_400.0 + h * 3_600.0 + m * 60.0 + sec)
}

/// Read a query API `statistics` object (the whole `statistics` value or its `query` member).
pub fn from_statistics(v: &Value) -> QueryStats {
    let q = if v.get("query").is_some() {
        &v["query"]
    } else {
        v
    };
    let shards = &q["resourceUsage"]["cache"]["shards"];
    let mut bytes: Option<u64> = None;
    let mut add = |x: &Value| {
        if let Some(n) = x.as_u64() {
            bytes = Some(bytes.unwrap_or(0) + n);
        }
    };
    for tier in ["hot", "cold"] {
        for k in ["hitbytes", "missbytes"] {
            add(&shards[tier][k]);
        }
    }
    add(&shards["bypassbytes"]);
    add(&q["inputDatasetStatistics"]["rowstores"]["scannedValuesSize"]);
    QueryStats {
        execution_seconds: q["executionTime"].as_f64(),
        cpu_seconds: q["resourceUsage"]["cpu"]["totalCpu"]
            .as_str()
            .and_then(timespan_seconds),
        scanned_bytes: bytes,
        scanned_rows: q["inputDatasetStatistics"]["rows"]["scanned"].as_u64(),
    }
}

/// A table's plan.
pub fn is_chargeable(plan: &str) -> bool {
    plan.eq_ignore_ascii_case("Basic") || plan.eq_ignore_ascii_case("Auxiliary")
}

/// The plans of a pulled workspace catalog (`"plans": {"T": "Basic"}`; a table not listed is
/// Analytics).
pub fn plans(pulled: &Value) -> BTreeMap<String, String> {
    pulled["plans"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// A day of scheduled runs, projected from the measured runs. An estimate: data volume varies
/// by hour and day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    pub runs_per_day: f64,
    /// Average data scanned per measured run (`None`: unknown).
    pub scanned_bytes_per_run: Option<f64>,
    /// GB (10^9 bytes) scanned per day.
    pub scanned_gb_per_day: Option<f64>,
    /// The share charged per GB scanned: the whole figure when the query reads a Basic or
    /// Auxiliary table (statistics are per query, not per table, so this is an upper bound),
    /// else 0.
    pub chargeable_gb_per_day: Option<f64>,
    /// The tables the query reads that carry a query charge, with their plan.
    pub chargeable_tables: Vec<(String, String)>,
    /// Average CPU seconds per run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_seconds_per_run: Option<f64>,
}

/// Project measured runs (`stats`, one per run) to `runs_per_day`.
pub fn project(
    stats: &[QueryStats],
    runs_per_day: f64,
    tables: &[String],
    plans: &BTreeMap<String, String>,
) -> Projection {
    let avg = |f: &dyn Fn(&QueryStats) -> Option<f64>| -> Option<f64> {
        if stats.is_empty() {
            return None;
        }
        let xs: Option<Vec<f64>> = stats.iter().map(f).collect();
        xs.map(|v| v.iter().sum::<f64>() / v.len() as f64)
    };
    let bytes = avg(&|s| s.scanned_bytes.map(|b| b as f64));
    let gb = bytes.map(|b| b * runs_per_day / 1e9);
    let chargeable_tables: Vec<(String, String)> = tables
        .iter()
        .filter_map(|t| {
            plans
                .get(t)
                .filter(|p| is_chargeable(p))
                .map(|p| (t.clone(), p.clone()))
        })
        .collect();
    Projection {
        runs_per_day,
        scanned_bytes_per_run: bytes,
        scanned_gb_per_day: gb,
        chargeable_gb_per_day: gb.map(|g| if chargeable_tables.is_empty() { 0.0 } else { g }),
        chargeable_tables,
        cpu_seconds_per_run: avg(&|s| s.cpu_seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statistics_are_read_as_the_service_reports_them() {
        // The observed shape (reference §19.2).
        let v = json!({"query": {
            "executionTime": 0.5937856,
            "resourceUsage": {"cache": {"shards": {"hot": {"hitbytes": 1000, "missbytes": 24, "retrievebytes": 0},
                "cold": {"hitbytes": 0, "missbytes": 0, "retrievebytes": 0}, "bypassbytes": 0}},
                "cpu": {"user": "00:00:00.0156250", "kernel": "00:00:00", "totalCpu": "00:00:01.5000000"}},
            "inputDatasetStatistics": {"rows": {"total": 36656, "scanned": 36656},
                "rowstores": {"scannedRows": 12323, "scannedValuesSize": 4308574}}}});
        let s = from_statistics(&v);
        assert_eq!(s.scanned_bytes, Some(1024 + 4_308_574));
        assert_eq!(s.cpu_seconds, Some(1.5));
        assert_eq!(s.scanned_rows, Some(36656));
        assert_eq!(s.execution_seconds, Some(0.5937856));
        assert_eq!(timespan_seconds("1.02:00:00"), Some(93_600.0));
        // No byte figures: unknown, not zero.
        assert_eq!(
            from_statistics(&json!({"query": {"executionTime": 0.1}})).scanned_bytes,
            None
        );
    }

    #[test]
    fn projection_charges_only_basic_and_auxiliary_tables() {
        let s = |b| QueryStats {
            scanned_bytes: Some(b),
            ..QueryStats::default()
        };
        let plans: BTreeMap<String, String> = [(
            "AADNonInteractiveUserSignInLogs".to_string(),
            "Basic".to_string(),
        )]
        .into();
        let p = project(
            &[s(1_000_000_000), s(3_000_000_000)],
            24.0,
            &["SigninLogs".into()],
            &plans,
        );
        assert_eq!(p.scanned_gb_per_day, Some(48.0));
        assert_eq!(p.chargeable_gb_per_day, Some(0.0));
        let p = project(
            &[s(500_000_000)],
            288.0,
            &[
                "SigninLogs".into(),
                "AADNonInteractiveUserSignInLogs".into(),
            ],
            &plans,
        );
        assert_eq!(p.scanned_gb_per_day, Some(144.0));
        assert_eq!(p.chargeable_gb_per_day, Some(144.0));
        assert_eq!(p.chargeable_tables[0].1, "Basic");
        // One run without figures makes the whole projection unknown.
        let p = project(&[s(1), QueryStats::default()], 24.0, &[], &plans);
        assert_eq!(p.scanned_gb_per_day, None);
        assert_eq!(p.chargeable_gb_per_day, None);
    }
}
