//! `evaluate basket([Threshold, WeightColumn, MaxDimensions, CustomWildcard, ...])`: the
//! frequent patterns of a table's values (Apriori, as its documentation page says).
//!
//! A pattern is a set of (column, value) pairs; its count is the rows (or the sum of the weight
//! column) that have all of them. The plugin returns the *closed* frequent patterns: those whose
//! count reaches `Threshold` of the total and that no larger frequent pattern matches with the
//! same count (the page's example lists `Damage == "NO", DamageCrops == 0` but not
//! `Damage == "NO"` alone, whose rows are the same). Null and empty values are never part of a
//! pattern (they are the wildcard). Kusto samples to find frequent values, so its output may
//! differ near the threshold; vigil counts exactly. Rows are ordered by count, then by fewer
//! wildcards, then by the values (Kusto's order is its own), and `SegmentId` numbers them.

use std::collections::HashMap;

use super::error::{EngineError, R};
use super::ir::Span;
use super::table::{Column, Table};
use super::value::{sort_cmp, Key, Type, Value};

/// The plugin's arguments, resolved.
pub struct BasketArgs {
    pub threshold: f64,
    pub weight: Option<String>,
    pub max_dimensions: usize,
    /// A wildcard per column type (else null, or "" for strings).
    pub wildcards: Vec<Value>,
}

/// The most candidate patterns one level may hold: beyond it the query fails with a clear
/// error rather than exhaust the runner.
const MAX_CANDIDATES: usize = 100_000;

struct Item {
    col: usize,
    value: Value,
    rows: Vec<u64>,
}

fn count(bits: &[u64], weights: Option<&[f64]>) -> f64 {
    match weights {
        None => bits.iter().map(|w| w.count_ones() as f64).sum(),
        Some(ws) => {
            let mut sum = 0.0;
            for (k, w) in bits.iter().enumerate() {
                let mut w = *w;
                while w != 0 {
                    let b = w.trailing_zeros() as usize;
                    sum += ws[k * 64 + b];
                    w &= w - 1;
                }
            }
            sum
        }
    }
}

fn and(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x & y).collect()
}

pub fn run(t: &Table, a: &BasketArgs, span: Span) -> R<Table> {
    if !(a.threshold > 0.0 && a.threshold <= 1.0) {
        return Err(EngineError::new(
            format!(
                "basket: the threshold must be in (0, 1], not {}",
                a.threshold
            ),
            Some(span),
        ));
    }
    let weights: Option<Vec<f64>> = match &a.weight {
        Some(w) => {
            let c = t.column(w).ok_or_else(|| {
                EngineError::new(format!("basket: no weight column `{w}`"), Some(span))
            })?;
            Some(
                (0..t.rows)
                    .map(|i| c.data.get(i).as_f64().unwrap_or(0.0))
                    .collect(),
            )
        }
        None => None,
    };
    let dims: Vec<usize> = (0..t.columns.len())
        .filter(|&k| Some(&t.columns[k].name) != a.weight.as_ref())
        .collect();
    let total: f64 = match &weights {
        Some(w) => w.iter().sum(),
        None => t.rows as f64,
    };
    let min = a.threshold * total;
    let words = t.rows.div_ceil(64);
    // Frequent single items.
    let mut items: Vec<Item> = Vec::new();
    for &k in &dims {
        let mut by_value: HashMap<Key, (Value, Vec<u64>)> = HashMap::new();
        for i in 0..t.rows {
            let v = t.columns[k].data.get(i);
            if v.is_empty() {
                continue;
            }
            let e = by_value
                .entry(v.key())
                .or_insert_with(|| (v.clone(), vec![0u64; words]));
            e.1[i / 64] |= 1 << (i % 64);
        }
        let mut frequent: Vec<(Value, Vec<u64>)> = by_value
            .into_values()
            .filter(|(_, bits)| count(bits, weights.as_deref()) >= min && total > 0.0)
            .collect();
        frequent.sort_by(|x, y| sort_cmp(&x.0, &y.0));
        items.extend(frequent.into_iter().map(|(value, rows)| Item {
            col: k,
            value,
            rows,
        }));
    }
    // Level-wise: patterns as sorted item indexes with their rows and count.
    let mut all: Vec<(Vec<usize>, f64)> = Vec::new();
    let mut level: Vec<(Vec<usize>, Vec<u64>, f64)> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            (
                vec![i],
                it.rows.clone(),
                count(&it.rows, weights.as_deref()),
            )
        })
        .collect();
    let max_dims = a.max_dimensions.max(1);
    let mut size = 1;
    while !level.is_empty() {
        all.extend(level.iter().map(|(p, _, c)| (p.clone(), *c)));
        if size >= max_dims {
            break;
        }
        let mut next = Vec::new();
        for (x, (p, bits, _)) in level.iter().enumerate() {
            for (q, qbits, _) in &level[x + 1..] {
                // Join patterns that share all but their last item, on different columns.
                // Sorted level: once the prefix differs, it differs for the rest.
                if p[..size - 1] != q[..size - 1] {
                    break;
                }
                let last = *q.last().expect("a pattern has items");
                if p.iter().any(|&i| items[i].col == items[last].col) {
                    continue;
                }
                let rows = and(bits, qbits);
                let c = count(&rows, weights.as_deref());
                if c >= min && c > 0.0 {
                    let mut np = p.clone();
                    np.push(last);
                    next.push((np, rows, c));
                    if next.len() > MAX_CANDIDATES {
                        return Err(super::budget::exceeded(format!(
                            "basket: more than {MAX_CANDIDATES} frequent patterns of {} columns; \
                             raise the threshold or lower MaxDimensions",
                            size + 1
                        )));
                    }
                }
            }
        }
        level = next;
        size += 1;
    }
    // Closed patterns: no frequent pattern of one more item has the same count.
    let by_set: HashMap<&[usize], f64> = all.iter().map(|(p, c)| (p.as_slice(), *c)).collect();
    let mut closed: Vec<(Vec<usize>, f64)> = all
        .iter()
        .filter(|(p, c)| {
            !(0..items.len()).any(|i| {
                if p.iter().any(|&j| items[j].col == items[i].col) {
                    return false;
                }
                let mut q = p.clone();
                q.push(i);
                q.sort_unstable();
                by_set
                    .get(q.as_slice())
                    .is_some_and(|d| (d - c).abs() < 1e-9)
            })
        })
        .cloned()
        .collect();
    // By count, then more specific patterns first, then by the items (column, then value).
    closed.sort_by(|(p, c), (q, d)| d.total_cmp(c).then(q.len().cmp(&p.len())).then(p.cmp(q)));
    // The output: SegmentId, Count, Percent, then each column's value or wildcard.
    let n = closed.len();
    let integral = weights.is_none()
        || a.weight.as_ref().is_some_and(|w| {
            t.column(w)
                .is_some_and(|c| matches!(c.ty, Type::Long | Type::Int))
        });
    let mut columns = vec![
        Column::new(
            "SegmentId",
            Type::Long,
            (0..n).map(|i| Value::Long(i as i64)).collect(),
        ),
        Column::new(
            "Count",
            if integral { Type::Long } else { Type::Real },
            closed
                .iter()
                .map(|(_, c)| {
                    if integral {
                        Value::Long(c.round() as i64)
                    } else {
                        Value::Real(*c)
                    }
                })
                .collect(),
        ),
        Column::new(
            "Percent",
            Type::Real,
            closed
                .iter()
                .map(|(_, c)| Value::Real(100.0 * c / total))
                .collect(),
        ),
    ];
    for &k in &dims {
        let col = &t.columns[k];
        let wildcard = a
            .wildcards
            .iter()
            .find(|w| !w.is_null() && w.type_of() == col.ty)
            .cloned()
            .unwrap_or(if col.ty == Type::String {
                Value::empty_str()
            } else {
                Value::Null
            });
        let data = closed
            .iter()
            .map(|(p, _)| {
                p.iter()
                    .find(|&&i| items[i].col == k)
                    .map(|&i| items[i].value.clone())
                    .unwrap_or_else(|| wildcard.clone())
            })
            .collect();
        columns.push(Column::new(col.name.clone(), col.ty, data));
    }
    Ok(Table { columns, rows: n })
}
