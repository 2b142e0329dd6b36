//! The activity plugins: `activity_counts_metrics` (each time window against all the windows
//! before it) and `sliding_window_counts` (each period with the periods of its lookback), as
//! their documentation pages describe and their examples' output tables check
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
    let (groups, time_ty, dim_cols) = windows(
        "activity_counts_metrics",
        t,
        id,
        time,
        (start, end, step),
        dims,
    )?;
    let wrap = wrapper(time_ty);
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
    let names = ["count", "dcount", "new_dcount", "aggregated_dcount"];
    Ok(output(
        time,
        time_ty,
        out_time,
        dims,
        &dim_cols,
        out_dims,
        &names,
        counts.to_vec(),
    ))
}

/// `sliding_window_counts(IdColumn, TimelineColumn, Start, End, LookbackWindow, Bin [,
/// Dimensions...])`: per period `Start + k*Bin` up to `End` and per combination of the
/// dimensions, the rows (`Count`) and distinct ids (`Dcount`) of the periods from
/// `LookbackWindow` (rounded down to whole bins, at least one) back to this one, as the page's
/// example shows. Periods whose lookback has no rows are not in the result; `check` is called
/// with the result's size as it grows (the engine's row budget), since a one-tick bin under a
/// long lookback makes a row per tick.
pub fn sliding_window_counts(
    t: &Table,
    id: &str,
    time: &str,
    (start, end, step, lookback): (i64, i64, i64, i64),
    dims: &[String],
    check: &dyn Fn(usize) -> R<()>,
) -> R<Table> {
    let (groups, time_ty, dim_cols) = windows(
        "sliding_window_counts",
        t,
        id,
        time,
        (start, end, step),
        dims,
    )?;
    let bins = (lookback / step).max(1);
    let wrap = wrapper(time_ty);
    let mut out_time = Vec::new();
    let mut out_dims: Vec<Vec<Value>> = vec![Vec::new(); dims.len()];
    let mut counts: [Vec<Value>; 2] = Default::default();
    for (dv, windows) in groups {
        // The periods whose lookback holds a window with rows, in order: from each window's
        // start to `bins - 1` periods after it (and not past `End`).
        let mut periods: Vec<i64> = Vec::new();
        for ws in windows.keys() {
            let last = ws.saturating_add((bins - 1).saturating_mul(step)).min(end);
            let mut p = (*ws).max(periods.last().map_or(i64::MIN, |l| l.saturating_add(step)));
            while p <= last {
                periods.push(p);
                if periods.len().is_multiple_of(4096) {
                    check(out_time.len() + periods.len())?;
                }
                p = match p.checked_add(step) {
                    Some(n) => n,
                    None => break,
                };
            }
        }
        for p in periods {
            let from = p.saturating_sub((bins - 1).saturating_mul(step));
            let mut n = 0;
            let mut ids: HashSet<&Key> = HashSet::new();
            for (_, (rows, window_ids)) in windows.range(from..=p) {
                n += rows;
                ids.extend(window_ids.iter());
            }
            out_time.push(wrap(p));
            for (k, v) in dv.iter().enumerate() {
                out_dims[k].push(v.clone());
            }
            counts[0].push(Value::Long(n));
            counts[1].push(Value::Long(ids.len() as i64));
        }
    }
    check(out_time.len())?;
    // Kusto.Language's names (the page's schema writes them in lower case).
    Ok(output(
        time,
        time_ty,
        out_time,
        dims,
        &dim_cols,
        out_dims,
        &["Count", "Dcount"],
        counts.to_vec(),
    ))
}

/// (dimension values) -> window start -> (rows, distinct ids).
type Windows = std::collections::BTreeMap<i64, (i64, HashSet<Key>)>;

/// The rows of `t` per combination of the dimensions and per window `[Start + k*Step, Start +
/// (k+1)*Step)` starting at or before `End` (rows outside them, or with a null time, are not
/// counted), the groups ordered by their dimension values; with the timeline's type and the
/// dimension columns.
#[allow(clippy::type_complexity)]
fn windows<'t>(
    plugin: &str,
    t: &'t Table,
    id: &str,
    time: &str,
    (start, end, step): (i64, i64, i64),
    dims: &[String],
) -> R<(Vec<(Vec<Value>, Windows)>, Type, Vec<&'t Column>)> {
    let missing =
        |c: &str| EngineError::new(format!("{plugin}(): the input has no column `{c}`"), None);
    let ids = t.column(id).ok_or_else(|| missing(id))?;
    let times = t.column(time).ok_or_else(|| missing(time))?;
    let dim_cols: Vec<&Column> = dims
        .iter()
        .map(|d| t.column(d).ok_or_else(|| missing(d)))
        .collect::<R<_>>()?;
    if step <= 0 {
        return Err(EngineError::new(
            format!("{plugin}(): the step must be positive"),
            None,
        ));
    }
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
    Ok((groups, time_ty, dim_cols))
}

/// A window start as a value of the timeline's type.
fn wrapper(time_ty: Type) -> impl Fn(i64) -> Value {
    move |x| match time_ty {
        Type::TimeSpan => Value::TimeSpan(x),
        Type::Long | Type::Int => Value::Long(x),
        _ => Value::DateTime(x),
    }
}

/// The plugins' output: the timeline column, the dimensions, then the counts.
#[allow(clippy::too_many_arguments)]
fn output(
    time: &str,
    time_ty: Type,
    out_time: Vec<Value>,
    dims: &[String],
    dim_cols: &[&Column],
    out_dims: Vec<Vec<Value>>,
    names: &[&str],
    counts: Vec<Vec<Value>>,
) -> Table {
    let mut columns = vec![Column::new(time.to_string(), time_ty, out_time)];
    for ((name, col), data) in dims.iter().zip(dim_cols).zip(out_dims) {
        columns.push(Column::new(name.clone(), col.ty, data));
    }
    for (name, data) in names.iter().zip(counts) {
        columns.push(Column::new(name.to_string(), Type::Long, data));
    }
    Table {
        rows: columns[0].data.len(),
        columns,
    }
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

    /// Per dimension, each day with the two days before it; days whose lookback has no rows
    /// are absent; rows before `Start` are not counted.
    #[test]
    fn sliding_window_counts_per_dimension() {
        let q = format!(
            "{DATA} | evaluate sliding_window_counts(U, T, datetime(2024-01-01), datetime(2024-01-10), 3d, 1d, D)"
        );
        assert_eq!(
            rows(&q).unwrap(),
            [
                "T,D,Count,Dcount",
                "2024-01-01T00:00:00Z,x,2,2",
                "2024-01-02T00:00:00Z,x,3,2",
                "2024-01-03T00:00:00Z,x,3,2",
                "2024-01-04T00:00:00Z,x,1,1",
                "2024-01-09T00:00:00Z,x,1,1",
                "2024-01-10T00:00:00Z,x,1,1",
                "2024-01-02T00:00:00Z,y,1,1",
                "2024-01-03T00:00:00Z,y,2,2",
                "2024-01-04T00:00:00Z,y,2,2",
                "2024-01-05T00:00:00Z,y,1,1",
            ]
        );
    }

    /// A one-tick bin under a year's lookback would make a row per tick: it stops at the
    /// engine's row budget with a clear error, fast; bad arguments are errors.
    #[test]
    fn sliding_window_counts_stops_at_the_row_budget() {
        let start = std::time::Instant::now();
        let q = format!(
            "{DATA} | evaluate sliding_window_counts(U, T, datetime(2024-01-01), datetime(2025-01-01), 365d, 1tick)"
        );
        let e = rows(&q).unwrap_err();
        assert!(e.contains("rows, over"), "{e}");
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
        for (args, want) in [
            (
                "U, T, datetime(2024-01-01), datetime(2024-01-03), 3d, 0d",
                "step must be positive",
            ),
            (
                "U, T, datetime(2024-01-01), datetime(2024-01-03), 3d, 'month'",
                "not supported yet",
            ),
            (
                "U, T, datetime(2024-01-01), datetime(2024-01-03), 3d",
                "needs IdColumn",
            ),
        ] {
            let e = rows(&format!("{DATA} | evaluate sliding_window_counts({args})")).unwrap_err();
            assert!(e.contains(want), "{args}: {e}");
        }
    }
}
