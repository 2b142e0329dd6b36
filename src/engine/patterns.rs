//! The pattern plugins: `basket`, `diffpatterns` and `autocluster`. A pattern is a set of
//! (column, value) pairs; the rows it covers have all of them. Null and empty values are never
//! part of a pattern (they are the wildcard the output shows for a column the pattern leaves
//! free). Rows are bitsets, so a pattern's rows are the AND of its items'.
//!
//! Kusto's implementations sample, and two are heuristics Microsoft describes but does not
//! publish, so vigil states what each returns (and ARCHITECTURE.md what counts as a match):
//! - `basket`: the *closed* frequent patterns (count at least `Threshold` of the total, and no
//!   pattern of one more item covers the same rows), as the page's example shows.
//! - `diffpatterns`: the closed patterns frequent in A or in B whose share of A and of B differ
//!   by at least `Threshold` (in percentage points, ×100), kept greedily by that difference
//!   while no kept pattern contains or is contained in the next (a small, divergent set).
//! - `autocluster`: Seed-Expand, as the page names it, made deterministic: the seeds are the
//!   `NumSeeds` most frequent distinct rows (not random ones); each is generalized one value at
//!   a time while the score `coverage^SizeWeight × (values / dimensions)^(1-SizeWeight)` (the
//!   page's weighted geometric mean) improves; the local optima are kept by score while no kept
//!   pattern contains or is contained in the next.

use std::collections::HashMap;

use super::error::{EngineError, R};
use super::ir::Span;
use super::table::{Column, Table};
use super::value::{sort_cmp, Key, Type, Value};

/// The most candidate patterns one level may hold, and the most bytes of row bitsets the
/// mining may keep: beyond either the query fails with a budget error rather than exhaust the
/// runner.
const MAX_CANDIDATES: usize = 100_000;
const MAX_BITSET_BYTES: usize = 256 << 20;

/// The input, ready for mining: the dimension columns, row weights, and bitset size.
struct Input<'a> {
    t: &'a Table,
    dims: Vec<usize>,
    weights: Option<Vec<f64>>,
    words: usize,
    /// The query's time budget (the engine's own check), asked every few thousand steps.
    check: &'a dyn Fn() -> R<()>,
    steps: std::cell::Cell<u32>,
}

struct Item {
    col: usize,
    value: Value,
    rows: Vec<u64>,
}

impl<'a> Input<'a> {
    /// `skip`: columns that are not dimensions (the weight column, the split column).
    fn new(
        t: &'a Table,
        weight: Option<&str>,
        skip: &[&str],
        span: Span,
        check: &'a dyn Fn() -> R<()>,
    ) -> R<Input<'a>> {
        let weights = match weight {
            Some(w) => {
                let c = t.column(w).ok_or_else(|| {
                    EngineError::new(format!("no weight column `{w}`"), Some(span))
                })?;
                Some(
                    (0..t.rows)
                        .map(|i| c.data.get(i).as_f64().unwrap_or(0.0))
                        .collect(),
                )
            }
            None => None,
        };
        let dims = (0..t.columns.len())
            .filter(|&k| {
                let n = t.columns[k].name.as_str();
                Some(n) != weight && !skip.contains(&n)
            })
            .collect();
        Ok(Input {
            t,
            dims,
            weights,
            words: t.rows.div_ceil(64),
            check,
            steps: std::cell::Cell::new(0),
        })
    }

    /// One unit of mining work: every 4,096 the time budget is checked, so a wide or
    /// low-threshold input cannot run past the query's limit.
    fn tick(&self) -> R<()> {
        let n = self.steps.get().wrapping_add(1);
        self.steps.set(n);
        if n.is_multiple_of(4096) {
            (self.check)()?;
        }
        Ok(())
    }

    fn all(&self) -> Vec<u64> {
        let mut bits = vec![u64::MAX; self.words];
        if !self.t.rows.is_multiple_of(64) {
            if let Some(last) = bits.last_mut() {
                *last = (1u64 << (self.t.rows % 64)) - 1;
            }
        }
        bits
    }

    fn count(&self, bits: &[u64]) -> f64 {
        match &self.weights {
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

    /// Every (column, value) item whose rows pass `keep`, in column then value order.
    fn items(&self, keep: &dyn Fn(&[u64]) -> bool) -> R<Vec<Item>> {
        let mut items = Vec::new();
        for &k in &self.dims {
            let mut by_value: HashMap<Key, (Value, Vec<u64>)> = HashMap::new();
            for i in 0..self.t.rows {
                let v = self.t.columns[k].data.get(i);
                if v.is_empty() {
                    continue;
                }
                if !by_value.contains_key(&v.key()) {
                    if (by_value.len() + 1) * self.words * 8 > MAX_BITSET_BYTES {
                        return Err(too_big("distinct values"));
                    }
                    by_value.insert(v.key(), (v.clone(), vec![0u64; self.words]));
                }
                let e = by_value.get_mut(&v.key()).expect("inserted");
                e.1[i / 64] |= 1 << (i % 64);
            }
            let mut kept: Vec<(Value, Vec<u64>)> =
                by_value.into_values().filter(|(_, b)| keep(b)).collect();
            kept.sort_by(|x, y| sort_cmp(&x.0, &y.0));
            items.extend(kept.into_iter().map(|(value, rows)| Item {
                col: k,
                value,
                rows,
            }));
        }
        Ok(items)
    }
}

fn too_big(what: &str) -> EngineError {
    super::budget::exceeded(format!(
        "pattern mining: too many {what} to keep in memory; raise the threshold, lower \
         MaxDimensions or filter the input"
    ))
}

fn and(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x & y).collect()
}

/// Every pattern (sorted item indexes, at most `max_dims` items, one per column) whose rows
/// pass `frequent` (which must hold for a pattern's sub-patterns whenever it holds for the
/// pattern), with its rows: Apriori, level by level.
fn mine(
    input: &Input<'_>,
    items: &[Item],
    frequent: &dyn Fn(&[u64]) -> bool,
    max_dims: usize,
) -> R<Vec<(Vec<usize>, Vec<u64>)>> {
    let mut all: Vec<(Vec<usize>, Vec<u64>)> = Vec::new();
    let mut level: Vec<(Vec<usize>, Vec<u64>)> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (vec![i], it.rows.clone()))
        .collect();
    let mut size = 1;
    let mut kept_bytes = 0usize;
    while !level.is_empty() {
        kept_bytes += level.len() * input.words * 8;
        if kept_bytes > MAX_BITSET_BYTES {
            return Err(too_big("frequent patterns"));
        }
        if size >= max_dims.max(1) {
            all.extend(level);
            break;
        }
        let mut next = Vec::new();
        for (x, (p, bits)) in level.iter().enumerate() {
            for (q, qbits) in &level[x + 1..] {
                // A sorted level: once the prefix differs, it differs for the rest.
                if p[..size - 1] != q[..size - 1] {
                    break;
                }
                let last = *q.last().expect("a pattern has items");
                if p.iter().any(|&i| items[i].col == items[last].col) {
                    continue;
                }
                input.tick()?;
                let rows = and(bits, qbits);
                if frequent(&rows) {
                    let mut np = p.clone();
                    np.push(last);
                    next.push((np, rows));
                    if next.len() > MAX_CANDIDATES {
                        return Err(super::budget::exceeded(format!(
                            "pattern mining: more than {MAX_CANDIDATES} frequent patterns of {} \
                             columns; raise the threshold or lower MaxDimensions",
                            size + 1
                        )));
                    }
                }
            }
        }
        all.extend(level);
        level = next;
        size += 1;
    }
    Ok(all)
}

/// The patterns no pattern of one more item matches on `key` (the same rows, as far as the
/// output can tell).
fn closed<K: PartialEq>(
    input: &Input<'_>,
    items: &[Item],
    all: &[(Vec<usize>, Vec<u64>)],
    key: impl Fn(&[u64]) -> K,
) -> R<Vec<usize>> {
    let by_set: HashMap<&[usize], usize> = all
        .iter()
        .enumerate()
        .map(|(k, (p, _))| (p.as_slice(), k))
        .collect();
    let mut out = Vec::new();
    for k in 0..all.len() {
        input.tick()?;
        let (p, bits) = &all[k];
        let mine = key(bits);
        let covered = (0..items.len()).any(|i| {
            if p.iter().any(|&j| items[j].col == items[i].col) {
                return false;
            }
            let mut q = p.clone();
            q.push(i);
            q.sort_unstable();
            by_set
                .get(q.as_slice())
                .is_some_and(|&s| key(&all[s].1) == mine)
        });
        if !covered {
            out.push(k);
        }
    }
    Ok(out)
}

/// Kept greedily in order: a pattern is dropped when a kept one contains it or is contained
/// in it.
fn divergent(order: Vec<Vec<usize>>) -> Vec<Vec<usize>> {
    let mut kept: Vec<Vec<usize>> = Vec::new();
    for p in order {
        let related = kept
            .iter()
            .any(|q| p.iter().all(|i| q.contains(i)) || q.iter().all(|i| p.contains(i)));
        if !related {
            kept.push(p);
        }
    }
    kept
}

/// The output: `SegmentId`, the leading measure columns, then each dimension's value or
/// wildcard (a custom wildcard of the column's type, else null, or "" for strings).
fn output(
    input: &Input<'_>,
    items: &[Item],
    patterns: &[Vec<usize>],
    leading: Vec<Column>,
    wildcards: &[Value],
) -> Table {
    let n = patterns.len();
    let mut columns = vec![Column::new(
        "SegmentId",
        Type::Long,
        (0..n).map(|i| Value::Long(i as i64)).collect(),
    )];
    columns.extend(leading);
    for &k in &input.dims {
        let col = &input.t.columns[k];
        let wildcard = wildcards
            .iter()
            .find(|w| !w.is_null() && w.type_of() == col.ty)
            .cloned()
            .unwrap_or(if col.ty == Type::String {
                Value::empty_str()
            } else {
                Value::Null
            });
        let data = patterns
            .iter()
            .map(|p| {
                p.iter()
                    .find(|&&i| items[i].col == k)
                    .map(|&i| items[i].value.clone())
                    .unwrap_or_else(|| wildcard.clone())
            })
            .collect();
        columns.push(Column::new(col.name.clone(), col.ty, data));
    }
    Table { columns, rows: n }
}

/// `Count` and `Percent` of each pattern.
fn count_and_percent(input: &Input<'_>, counts: Vec<f64>, total: f64) -> Vec<Column> {
    let percent = counts
        .iter()
        .map(|c| Value::Real(100.0 * c / total))
        .collect();
    vec![
        count_column("Count", input, counts),
        Column::new("Percent", Type::Real, percent),
    ]
}

/// A count column: long when rows are unweighted or the weights are whole numbers.
fn count_column(name: &str, input: &Input<'_>, counts: Vec<f64>) -> Column {
    let integral = input
        .weights
        .as_ref()
        .is_none_or(|w| w.iter().all(|x| x.fract() == 0.0));
    if integral {
        Column::new(
            name,
            Type::Long,
            counts
                .into_iter()
                .map(|c| Value::Long(c.round() as i64))
                .collect(),
        )
    } else {
        Column::new(
            name,
            Type::Real,
            counts.into_iter().map(Value::Real).collect(),
        )
    }
}

fn check_ratio(what: &str, x: f64, span: Span) -> R<()> {
    if x > 0.0 && x <= 1.0 {
        Ok(())
    } else {
        Err(EngineError::new(
            format!("{what} must be in (0, 1], not {x}"),
            Some(span),
        ))
    }
}

/// A pattern plugin's arguments as written: each one's value (None for `~`, the default) and,
/// for a column given by its bare name (or as a string), the name.
pub struct Args {
    pub values: Vec<Option<Value>>,
    pub names: Vec<Option<String>>,
}

impl Args {
    fn value(&self, k: usize) -> Option<Value> {
        self.values.get(k).cloned().flatten()
    }

    fn real(&self, k: usize, default: f64) -> f64 {
        self.value(k).and_then(|v| v.as_f64()).unwrap_or(default)
    }

    fn count(&self, k: usize, default: usize, max: i64) -> usize {
        self.value(k)
            .and_then(|v| v.as_i64())
            .map_or(default, |n| n.clamp(1, max) as usize)
    }

    fn column(&self, k: usize) -> Option<String> {
        self.names.get(k).cloned().flatten()
    }

    fn wildcards(&self, from: usize) -> Vec<Value> {
        (from..self.values.len())
            .filter_map(|k| self.value(k))
            .collect()
    }
}

/// Run the pattern plugin `name` (None when `name` is not one); `check` is the query's time
/// budget.
pub fn run(
    name: &str,
    t: &Table,
    a: &Args,
    span: Span,
    check: &dyn Fn() -> R<()>,
) -> Option<R<Table>> {
    Some(match name {
        "basket" => basket(
            t,
            &BasketArgs {
                threshold: a.real(0, 0.05),
                weight: a.column(1),
                max_dimensions: a.count(2, 5, 64),
                wildcards: a.wildcards(3),
            },
            span,
            check,
        ),
        "diffpatterns" => match a.column(0) {
            Some(split) => diffpatterns(
                t,
                &DiffArgs {
                    split,
                    a: a.value(1).map(|v| v.to_kusto_string()).unwrap_or_default(),
                    b: a.value(2).map(|v| v.to_kusto_string()).unwrap_or_default(),
                    weight: a.column(3),
                    threshold: a.real(4, 0.05),
                    max_dimensions: a.count(5, 64, 64),
                    wildcards: a.wildcards(6),
                },
                span,
                check,
            ),
            None => Err(EngineError::new(
                "diffpatterns needs a split column",
                Some(span),
            )),
        },
        "autocluster" => autocluster(
            t,
            &ClusterArgs {
                size_weight: a.real(0, 0.5),
                weight: a.column(1),
                seeds: a.count(2, 25, 1000),
                wildcards: a.wildcards(3),
            },
            span,
            check,
        ),
        _ => return None,
    })
}

/// `basket`'s arguments, resolved.
struct BasketArgs {
    threshold: f64,
    pub weight: Option<String>,
    pub max_dimensions: usize,
    pub wildcards: Vec<Value>,
}

fn basket(t: &Table, a: &BasketArgs, span: Span, check: &dyn Fn() -> R<()>) -> R<Table> {
    check_ratio("basket: the threshold", a.threshold, span)?;
    let input = Input::new(t, a.weight.as_deref(), &[], span, check)?;
    let total = input.count(&input.all());
    let min = a.threshold * total;
    let frequent = |b: &[u64]| total > 0.0 && input.count(b) >= min;
    let items = input.items(&frequent)?;
    let all = mine(&input, &items, &frequent, a.max_dimensions)?;
    let mut chosen: Vec<(Vec<usize>, f64)> =
        closed(&input, &items, &all, |b| input.count(b).to_bits())?
            .into_iter()
            .map(|k| (all[k].0.clone(), input.count(&all[k].1)))
            .collect();
    // By count, then more specific patterns first, then by the items (column, then value).
    chosen.sort_by(|(p, c), (q, d)| d.total_cmp(c).then(q.len().cmp(&p.len())).then(p.cmp(q)));
    let counts: Vec<f64> = chosen.iter().map(|(_, c)| *c).collect();
    let leading = count_and_percent(&input, counts, total);
    let patterns: Vec<Vec<usize>> = chosen.into_iter().map(|(p, _)| p).collect();
    Ok(output(&input, &items, &patterns, leading, &a.wildcards))
}

/// `diffpatterns`' arguments, resolved.
struct DiffArgs {
    pub split: String,
    pub a: String,
    pub b: String,
    pub weight: Option<String>,
    threshold: f64,
    pub max_dimensions: usize,
    pub wildcards: Vec<Value>,
}

fn diffpatterns(t: &Table, a: &DiffArgs, span: Span, check: &dyn Fn() -> R<()>) -> R<Table> {
    check_ratio("diffpatterns: the threshold", a.threshold, span)?;
    let split = t.column(&a.split).ok_or_else(|| {
        EngineError::new(
            format!("diffpatterns: no split column `{}`", a.split),
            Some(span),
        )
    })?;
    let input = Input::new(t, a.weight.as_deref(), &[a.split.as_str()], span, check)?;
    let (mut set_a, mut set_b) = (vec![0u64; input.words], vec![0u64; input.words]);
    for i in 0..t.rows {
        let s = split.data.get(i).to_kusto_string();
        if s == a.a {
            set_a[i / 64] |= 1 << (i % 64);
        } else if s == a.b {
            set_b[i / 64] |= 1 << (i % 64);
        }
    }
    let (total_a, total_b) = (input.count(&set_a), input.count(&set_b));
    if total_a == 0.0 || total_b == 0.0 {
        return Err(EngineError::new(
            format!(
                "diffpatterns: set {} is empty (no row has `{}` == \"{}\")",
                if total_a == 0.0 { "A" } else { "B" },
                a.split,
                if total_a == 0.0 { &a.a } else { &a.b }
            ),
            Some(span),
        ));
    }
    let shares = |b: &[u64]| (input.count(&and(b, &set_a)), input.count(&and(b, &set_b)));
    let frequent = |b: &[u64]| {
        let (ca, cb) = shares(b);
        ca >= a.threshold * total_a || cb >= a.threshold * total_b
    };
    let items = input.items(&frequent)?;
    let all = mine(&input, &items, &frequent, a.max_dimensions)?;
    let mut chosen: Vec<(Vec<usize>, f64, f64, f64)> = closed(&input, &items, &all, |b| {
        let (x, y) = shares(b);
        (x.to_bits(), y.to_bits())
    })?
    .into_iter()
    .filter_map(|k| {
        let (ca, cb) = shares(&all[k].1);
        let diff = (100.0 * ca / total_a - 100.0 * cb / total_b).abs();
        (diff >= 100.0 * a.threshold).then(|| (all[k].0.clone(), ca, cb, diff))
    })
    .collect();
    chosen.sort_by(|x, y| {
        y.3.total_cmp(&x.3)
            .then(y.0.len().cmp(&x.0.len()))
            .then(x.0.cmp(&y.0))
    });
    let by_pattern: HashMap<Vec<usize>, (f64, f64, f64)> = chosen
        .iter()
        .map(|(p, ca, cb, d)| (p.clone(), (*ca, *cb, *d)))
        .collect();
    let patterns = divergent(chosen.into_iter().map(|c| c.0).collect());
    let stats: Vec<(f64, f64, f64)> = patterns.iter().map(|p| by_pattern[p]).collect();
    let leading = vec![
        count_column("CountA", &input, stats.iter().map(|s| s.0).collect()),
        count_column("CountB", &input, stats.iter().map(|s| s.1).collect()),
        Column::new(
            "PercentA",
            Type::Real,
            stats
                .iter()
                .map(|s| Value::Real(100.0 * s.0 / total_a))
                .collect(),
        ),
        Column::new(
            "PercentB",
            Type::Real,
            stats
                .iter()
                .map(|s| Value::Real(100.0 * s.1 / total_b))
                .collect(),
        ),
        Column::new(
            "PercentDiffAB",
            Type::Real,
            stats.iter().map(|s| Value::Real(s.2)).collect(),
        ),
    ];
    Ok(output(&input, &items, &patterns, leading, &a.wildcards))
}

/// `autocluster`'s arguments, resolved.
struct ClusterArgs {
    pub size_weight: f64,
    pub weight: Option<String>,
    pub seeds: usize,
    pub wildcards: Vec<Value>,
}

fn autocluster(t: &Table, a: &ClusterArgs, span: Span, check: &dyn Fn() -> R<()>) -> R<Table> {
    check_ratio("autocluster: SizeWeight", a.size_weight, span)?;
    let input = Input::new(t, a.weight.as_deref(), &[], span, check)?;
    let total = input.count(&input.all());
    let d = input.dims.len().max(1) as f64;
    // Seeds: the most frequent distinct rows (by their non-empty values).
    let mut rows_by_values: HashMap<Vec<(usize, Key)>, (usize, f64)> = HashMap::new();
    for i in 0..t.rows {
        let vals: Vec<(usize, Key)> = input
            .dims
            .iter()
            .filter_map(|&k| {
                let v = t.columns[k].data.get(i);
                (!v.is_empty()).then(|| (k, v.key()))
            })
            .collect();
        let w = input.weights.as_ref().map_or(1.0, |w| w[i]);
        let e = rows_by_values.entry(vals).or_insert((i, 0.0));
        e.1 += w;
    }
    let mut seeds: Vec<(usize, f64)> = rows_by_values.into_values().collect();
    seeds.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    seeds.truncate(a.seeds.max(1));
    // Items: only the values the seeds hold.
    let wanted: std::collections::HashSet<(usize, Key)> = seeds
        .iter()
        .flat_map(|&(i, _)| {
            input.dims.iter().filter_map(move |&k| {
                let v = t.columns[k].data.get(i);
                (!v.is_empty()).then(|| (k, v.key()))
            })
        })
        .collect();
    let mut items: Vec<Item> = Vec::new();
    let mut index: HashMap<(usize, Key), usize> = HashMap::new();
    for &k in &input.dims {
        for i in 0..t.rows {
            let v = t.columns[k].data.get(i);
            if v.is_empty() || !wanted.contains(&(k, v.key())) {
                continue;
            }
            let at = *index.entry((k, v.key())).or_insert_with(|| {
                items.push(Item {
                    col: k,
                    value: v.clone(),
                    rows: vec![0u64; input.words],
                });
                items.len() - 1
            });
            items[at].rows[i / 64] |= 1 << (i % 64);
        }
        if items.len() * input.words * 8 > MAX_BITSET_BYTES {
            return Err(too_big("distinct values"));
        }
    }
    let rows_of = |p: &[usize]| {
        let mut bits = input.all();
        for &i in p {
            bits = and(&bits, &items[i].rows);
        }
        bits
    };
    let score = |p: &[usize]| {
        if p.is_empty() || total == 0.0 {
            return 0.0;
        }
        let cov = input.count(&rows_of(p)) / total;
        cov.powf(a.size_weight) * (p.len() as f64 / d).powf(1.0 - a.size_weight)
    };
    let mut optima: Vec<(Vec<usize>, f64)> = Vec::new();
    for &(i, _) in &seeds {
        let mut p: Vec<usize> = input
            .dims
            .iter()
            .filter_map(|&k| {
                let v = t.columns[k].data.get(i);
                (!v.is_empty()).then(|| index[&(k, v.key())])
            })
            .collect();
        p.sort_unstable();
        let mut s = score(&p);
        // Generalize one value at a time while the score improves.
        while p.len() > 1 {
            input.tick()?;
            let best = (0..p.len())
                .map(|r| {
                    let mut q = p.clone();
                    q.remove(r);
                    let sq = score(&q);
                    (q, sq)
                })
                .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)));
            match best {
                Some((q, sq)) if sq > s => {
                    p = q;
                    s = sq;
                }
                _ => break,
            }
        }
        if !optima.iter().any(|(q, _)| *q == p) {
            optima.push((p, s));
        }
    }
    optima.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let patterns = divergent(optima.into_iter().map(|(p, _)| p).collect());
    let counts: Vec<f64> = patterns.iter().map(|p| input.count(&rows_of(p))).collect();
    let leading = count_and_percent(&input, counts, total);
    Ok(output(&input, &items, &patterns, leading, &a.wildcards))
}
