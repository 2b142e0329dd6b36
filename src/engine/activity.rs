//! The activity plugins: `activity_counts_metrics` (each time window against all the windows
//! before it), as its documentation page describes and its example's output table checks
//! (`tests/data/engine/conformance/functions_more.yaml`).

use std::collections::{HashMap, HashSet};

use super::error::{EngineError, R};
use super::table::{Column, Table};
use super::value::{Key, Type, Value};

/// `activity_counts_metrics(IdColumn, TimelineColumn, Start, End, Step [, Dimensions...])`:
/// per window `[Start + k*Step, Start + (k+1)*Step)` with a start at or before `End`, and per
/// combination of the dimensions, the rows (`count`), the distinct ids (`dcount`), the ids no
/// earlier window of that combination had (`new_dcount`) and the distinct ids from the first
/// window to this one (`aggregated_dcount`). Windows without rows are not in the result (it is
/// a summary of the rows, like `summarize ... by bin(...)`); rows outside the windows, or with
/// a null time, are not counted. Output: the timeline column (window starts), the dimensions,
/// then the four counts, ordered by dimensions, then time.
pub fn counts_metrics(
    t: &Table,
    id: &str,
    time: &str,
    (start, end, step): (i64, i64, i64),
    dims: &[String],
) -> R<Table> {
    let missing = |c: &str| {
        EngineError::new(
            format!("activity_counts_metrics(): the input has no column `{c}`"),
            None,
        )
    };
    let ids = t.column(id).ok_or_else(|| missing(id))?;
    let times = t.column(time).ok_or_else(|| missing(time))?;
    let dim_cols: Vec<&Column> = dims
        .iter()
        .map(|d| t.column(d).ok_or_else(|| missing(d)))
        .collect::<R<_>>()?;
    if step <= 0 {
        return Err(EngineError::new(
            "activity_counts_metrics(): the step must be positive",
            None,
        ));
    }
    // (dimension values) -> window -> (rows, ids in the window)
    type Windows = std::collections::BTreeMap<i64, (i64, HashSet<Key>)>;
    let mut groups: Vec<(Vec<Value>, Windows)> = Vec::new();
    let mut index: HashMap<Vec<Key>, usize> = HashMap::new();
    for i in 0..t.rows {
        let Some(ts) = times.data.get(i).as_i64() else {
            continue;
        };
        if ts < start || ts > end.saturating_add(step) {
            continue;
        }
        let w = (ts - start) / step;
        let ws = start + w * step;
        if ws > end {
            continue;
        }
        let dv: Vec<Value> = dim_cols.iter().map(|c| c.data.get(i).clone()).collect();
        let dk: Vec<Key> = dv.iter().map(|v| v.key()).collect();
        let g = *index.entry(dk).or_insert_with(|| {
            groups.push((dv, Windows::new()));
            groups.len() - 1
        });
        let slot = groups[g].1.entry(ws).or_default();
        slot.0 += 1;
        let v = ids.data.get(i);
        if !v.is_null() {
            slot.1.insert(v.key());
        }
    }
    groups.sort_by(|a, b| {
        a.0.iter()
            .zip(&b.0)
            .map(|(x, y)| super::value::sort_cmp(x, y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let time_ty = match times.ty {
        Type::Unknown => Type::DateTime,
        ty => ty,
    };
    let wrap = |x: i64| match time_ty {
        Type::TimeSpan => Value::TimeSpan(x),
        Type::Long | Type::Int => Value::Long(x),
        _ => Value::DateTime(x),
    };
    let mut out_time = Vec::new();
    let mut out_dims: Vec<Vec<Value>> = vec![Vec::new(); dims.len()];
    let mut counts: [Vec<Value>; 4] = Default::default();
    for (dv, windows) in groups {
        let mut seen: HashSet<Key> = HashSet::new();
        for (ws, (n, window_ids)) in windows {
            let new = window_ids.iter().filter(|k| !seen.contains(*k)).count();
            seen.extend(window_ids.iter().cloned());
            out_time.push(wrap(ws));
            for (k, v) in dv.iter().enumerate() {
                out_dims[k].push(v.clone());
            }
            for (c, x) in
                counts
                    .iter_mut()
                    .zip([n, window_ids.len() as i64, new as i64, seen.len() as i64])
            {
                c.push(Value::Long(x));
            }
        }
    }
    let mut columns = vec![Column::new(time.to_string(), time_ty, out_time)];
    for ((name, col), data) in dims.iter().zip(&dim_cols).zip(out_dims) {
        columns.push(Column::new(name.clone(), col.ty, data));
    }
    for (name, data) in ["count", "dcount", "new_dcount", "aggregated_dcount"]
        .into_iter()
        .zip(counts)
    {
        columns.push(Column::new(name.to_string(), Type::Long, data));
    }
    Ok(Table {
        rows: columns[0].data.len(),
        columns,
    })
}

#[cfg(test)]
mod tests {
    use crate::engine::{run, RunOptions, Sandbox};

    fn rows(q: &str) -> Result<Vec<String>, String> {
        let opts = RunOptions {
            now: 0,
            window: None,
        };
        let out = run(q, &Sandbox::default(), opts).map_err(|e| e.message)?;
        let t = out.table;
        let head: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let mut v = vec![head.join(",")];
        for i in 0..t.rows {
            let r: Vec<String> = t
                .columns
                .iter()
                .map(|c| c.data.get(i).to_kusto_string())
                .collect();
            v.push(r.join(","));
        }
        Ok(v)
    }

    const DATA: &str = "datatable(U:string, T:datetime, D:string)[
        'a', datetime(2024-01-01 01:00), 'x', 'b', datetime(2024-01-01 02:00), 'x',
        'a', datetime(2024-01-02 01:00), 'x', 'c', datetime(2024-01-02 01:00), 'y',
        'a', datetime(2024-01-03 01:00), 'y', 'a', datetime(2024-01-09 01:00), 'x',
        'z', datetime(2023-12-31 23:00), 'x']";

    /// Per dimension, each window against the earlier windows of that dimension only; rows
    /// before `Start` or after the last window are not counted; empty windows are absent.
    #[test]
    fn counts_per_dimension_against_earlier_windows() {
        let q = format!(
            "{DATA} | evaluate activity_counts_metrics(U, T, datetime(2024-01-01), datetime(2024-01-03), 1d, D)"
        );
        assert_eq!(
            rows(&q).unwrap(),
            [
                "T,D,count,dcount,new_dcount,aggregated_dcount",
                "2024-01-01T00:00:00Z,x,2,2,2,2",
                "2024-01-02T00:00:00Z,x,1,1,0,2",
                "2024-01-02T00:00:00Z,y,1,1,1,1",
                "2024-01-03T00:00:00Z,y,1,1,1,2",
            ]
        );
    }

    /// Bad arguments are clear errors, not panics or endless loops.
    #[test]
    fn hostile_arguments() {
        for (args, want) in [
            (
                "U, T, datetime(2024-01-01), datetime(2024-01-03), 0d",
                "step must be positive",
            ),
            (
                "U, T, datetime(2024-01-01), datetime(2024-01-03), -1d",
                "step must be positive",
            ),
            (
                "U, T, datetime(2024-01-01), datetime(2024-01-03), 'week'",
                "not supported yet",
            ),
            (
                "U, Nope, datetime(2024-01-01), datetime(2024-01-03), 1d",
                "no column `Nope`",
            ),
            ("U, T, datetime(2024-01-01)", "needs IdColumn"),
        ] {
            let e = rows(&format!(
                "{DATA} | evaluate activity_counts_metrics({args})"
            ))
            .unwrap_err();
            assert!(e.contains(want), "{args}: {e}");
        }
        // A one-tick step over ten thousand years makes no windows it does not need.
        let start = std::time::Instant::now();
        let q = format!(
            "{DATA} | evaluate activity_counts_metrics(U, T, datetime(0001-01-01), datetime(9999-12-31), 1tick)"
        );
        assert_eq!(rows(&q).unwrap().len(), 7);
        assert!(start.elapsed().as_secs() < 5);
    }
}
