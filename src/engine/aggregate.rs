//! Aggregation functions of `summarize` (and `make-series`), computed per group.
//!
//! `dcount` is exact here; Kusto's is a HyperLogLog estimate that equals the exact count for
//! the small cardinalities of sample data. Percentiles use the nearest-rank method.

use std::collections::HashSet;

use super::error::{EngineError, R};
use super::ir::{Assign, Span};
use super::table::{infer_type, Cv};
use super::table::{Column, Data, Table};
use super::value::{sort_cmp, Key, Type, Value};

pub enum Arg {
    /// An argument's values, its name (a column's, `Name = x`'s, or the default name of an
    /// expression such as `tostring(Id)` → `Id`), and its type when it is a column as is
    /// (otherwise the values' type).
    Col(Cv, Option<String>, Option<Type>),
    Star,
    Wildcard(String),
}

/// Whether a call in `summarize` aggregates: the function table (`builtins.tsv`) declares it an
/// aggregation. One the engine does not run yet fails in [`run`] with "not supported yet".
pub fn is_aggregate(name: &str) -> bool {
    use crate::kql::catalog::{BuiltinKind, Catalog};
    Catalog::embedded()
        .builtin(name, BuiltinKind::Aggregate)
        .is_some()
}

fn col<'a>(args: &'a [Arg], i: usize, name: &str, span: Span) -> R<&'a Cv> {
    match args.get(i) {
        Some(Arg::Col(c, ..)) => Ok(c),
        _ => Err(EngineError::new(
            format!("{name}() is missing an argument"),
            Some(span),
        )),
    }
}

fn scalar_arg(args: &[Arg], i: usize) -> Option<Value> {
    match args.get(i) {
        Some(Arg::Col(c, ..)) => Some(c.get(0).clone()),
        _ => None,
    }
}

/// Rows per group, honouring an optional predicate column.
fn rows_by_group(ids: &[u32], ngroups: usize, pred: Option<&Cv>) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); ngroups];
    for (i, g) in ids.iter().enumerate() {
        if pred.is_none_or(|p| p.get(i).truthy()) {
            out[*g as usize].push(i);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    name: &str,
    args: &[Arg],
    a: &Assign,
    t: &Table,
    ids: &[u32],
    ngroups: usize,
    by: &[String],
    span: Span,
) -> R<Vec<Column>> {
    // The lowering names every aggregation whose rule names it (`kql::view::aggregate_names`);
    // no name is a generated `ColumnN`, which `summarize` gives (an empty name here).
    let out_name = || a.names.first().cloned().unwrap_or_default();
    let one = |data: Vec<Value>, ty: Type| -> R<Vec<Column>> {
        let ty = if ty == Type::Unknown {
            infer_type(&data)
        } else {
            ty
        };
        Ok(vec![Column::new(out_name(), ty, data)])
    };
    match name {
        "count" => {
            let mut n = vec![0i64; ngroups];
            for g in ids {
                n[*g as usize] += 1;
            }
            one(n.into_iter().map(Value::Long).collect(), Type::Long)
        }
        "countif" => {
            let p = col(args, 0, name, span)?;
            let mut n = vec![0i64; ngroups];
            for (i, g) in ids.iter().enumerate() {
                if p.get(i).truthy() {
                    n[*g as usize] += 1;
                }
            }
            one(n.into_iter().map(Value::Long).collect(), Type::Long)
        }
        "dcount" | "dcountif" | "count_distinct" | "count_distinctif" => {
            let x = col(args, 0, name, span)?;
            let pred = if name.ends_with("if") {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let mut sets: Vec<HashSet<Key>> = vec![HashSet::new(); ngroups];
            for (i, g) in ids.iter().enumerate() {
                if pred.is_some_and(|p| !p.get(i).truthy()) {
                    continue;
                }
                let v = x.get(i);
                if !v.is_null() {
                    sets[*g as usize].insert(v.key());
                }
            }
            one(
                sets.into_iter()
                    .map(|s| Value::Long(s.len() as i64))
                    .collect(),
                Type::Long,
            )
        }
        "sum" | "sumif" => {
            let x = col(args, 0, name, span)?;
            let pred = if name == "sumif" {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let mut longs = vec![Some(0i64); ngroups];
            let mut reals = vec![0f64; ngroups];
            let mut is_real = false;
            let mut ts = false;
            for (i, g) in ids.iter().enumerate() {
                if pred.is_some_and(|p| !p.get(i).truthy()) {
                    continue;
                }
                let g = *g as usize;
                match x.get(i).unwrap_dynamic() {
                    Value::Long(v) => {
                        longs[g] = longs[g].and_then(|s| s.checked_add(v));
                        reals[g] += v as f64;
                    }
                    Value::TimeSpan(v) => {
                        ts = true;
                        longs[g] = longs[g].and_then(|s| s.checked_add(v));
                    }
                    Value::Real(v) => {
                        is_real = true;
                        reals[g] += v;
                    }
                    _ => {}
                }
            }
            let data = (0..ngroups)
                .map(|g| {
                    if ts {
                        longs[g].map(Value::TimeSpan).unwrap_or(Value::Null)
                    } else if is_real {
                        Value::Real(reals[g])
                    } else {
                        longs[g].map(Value::Long).unwrap_or(Value::Real(reals[g]))
                    }
                })
                .collect();
            one(data, Type::Unknown)
        }
        "avg" | "avgif" => {
            let x = col(args, 0, name, span)?;
            let pred = if name == "avgif" {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let mut sum = vec![0f64; ngroups];
            let mut n = vec![0u64; ngroups];
            for (i, g) in ids.iter().enumerate() {
                if pred.is_some_and(|p| !p.get(i).truthy()) {
                    continue;
                }
                if let Some(v) = numeric(x.get(i)) {
                    sum[*g as usize] += v;
                    n[*g as usize] += 1;
                }
            }
            let data = (0..ngroups)
                .map(|g| {
                    if n[g] == 0 {
                        Value::Null
                    } else {
                        Value::Real(sum[g] / n[g] as f64)
                    }
                })
                .collect();
            one(data, Type::Real)
        }
        "min" | "max" | "minif" | "maxif" => {
            let x = col(args, 0, name, span)?;
            let pred = if name.ends_with("if") {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let want_max = name.starts_with("max");
            let mut best: Vec<Option<usize>> = vec![None; ngroups];
            for (i, g) in ids.iter().enumerate() {
                if pred.is_some_and(|p| !p.get(i).truthy()) {
                    continue;
                }
                let v = x.get(i);
                if v.is_null() {
                    continue;
                }
                let g = *g as usize;
                let better = match best[g] {
                    None => true,
                    Some(b) => {
                        let o = sort_cmp(v, x.get(b));
                        if want_max {
                            o.is_gt()
                        } else {
                            o.is_lt()
                        }
                    }
                };
                if better {
                    best[g] = Some(i);
                }
            }
            let data = best
                .iter()
                .map(|b| b.map(|i| x.get(i).clone()).unwrap_or(Value::Null))
                .collect();
            let ty = match args.first() {
                Some(Arg::Col(_, _, Some(ty))) => *ty,
                _ => Type::Unknown,
            };
            one(data, ty)
        }
        "arg_max" | "arg_min" | "argmax" | "argmin" => {
            let x = col(args, 0, name, span)?;
            let want_max = name.ends_with("max");
            let deprecated = !name.contains('_');
            let mut best: Vec<Option<usize>> = vec![None; ngroups];
            // A group whose values are all null gives its first row (the page's example).
            let mut first: Vec<Option<usize>> = vec![None; ngroups];
            for (i, g) in ids.iter().enumerate() {
                let g = *g as usize;
                first[g].get_or_insert(i);
                let v = x.get(i);
                if v.is_null() {
                    continue;
                }
                let better = match best[g] {
                    None => true,
                    Some(b) => {
                        let o = sort_cmp(v, x.get(b));
                        if want_max {
                            o.is_gt()
                        } else {
                            o.is_lt()
                        }
                    }
                };
                if better {
                    best[g] = Some(i);
                }
            }
            let best: Vec<Option<usize>> = best.iter().zip(&first).map(|(b, f)| b.or(*f)).collect();
            let pick = |c: &Cv| -> Vec<Value> {
                best.iter()
                    .map(|b| b.map(|i| c.get(i).clone()).unwrap_or(Value::Null))
                    .collect()
            };
            let mut out: Vec<Column> = Vec::new();
            let first_name = match (&a.names.first(), args.first()) {
                (Some(n), _) => (*n).clone(),
                (None, Some(Arg::Col(_, Some(n), _))) => n.clone(),
                // `arg_max(x + 1)` → `max_`, as Kusto.Language names it.
                _ if want_max => "max_".to_string(),
                _ => "min_".to_string(),
            };
            let first_ty = match args.first() {
                Some(Arg::Col(_, _, ty)) => *ty,
                _ => None,
            };
            let d = pick(x);
            // A first column named like a `by` column gets a number (`arg_max(t, *) by bin(t,
            // 1d)` → `t1`), as Kusto.Language names it.
            let first_out = if a.names.is_empty() && by.contains(&first_name) {
                (1..)
                    .map(|k| format!("{first_name}{k}"))
                    .find(|n| !by.contains(n))
                    .expect("a free name")
            } else {
                first_name.clone()
            };
            out.push(Column::new(
                first_out,
                first_ty.unwrap_or_else(|| infer_type(&d)),
                d,
            ));
            let source_first = match args.first() {
                Some(Arg::Col(_, Some(n), _)) => Some(n.clone()),
                _ => None,
            };
            // `explicit`: an argument written out, not a column `*` or a wildcard brings.
            let push = |out: &mut Vec<Column>, c: &Column, explicit: bool| {
                // `R = arg_max(T, R)`: the name given to the first column is taken, so the
                // column R is `R1` (Kusto.Language's name); other repeats appear once. An
                // argument named like a `by` column is numbered too (`arg_max(t, d) by d` →
                // `d1`); `*` leaves the `by` columns out.
                let renamed = (c.name == first_name && source_first.as_deref() != Some(&c.name))
                    || (explicit && by.contains(&c.name));
                let name = if renamed {
                    (1..)
                        .map(|k| format!("{}{k}", c.name))
                        .find(|n| out.iter().all(|o| &o.name != n) && !by.contains(n))
                        .expect("a free name")
                } else {
                    c.name.clone()
                };
                if (!renamed && out.iter().any(|o| o.name == c.name))
                    || (!explicit && by.contains(&c.name))
                    || source_first.as_deref() == Some(c.name.as_str())
                {
                    return;
                }
                out.push(Column {
                    name,
                    ty: c.ty,
                    data: Data::new(pick(&Cv::Col(c.data.clone()))),
                });
            };
            for (k, arg) in args.iter().enumerate().skip(1) {
                match arg {
                    Arg::Star => {
                        for c in &t.columns {
                            push(&mut out, c, false);
                        }
                    }
                    Arg::Wildcard(p) => {
                        for c in t
                            .columns
                            .iter()
                            .filter(|c| super::strings::glob(p, &c.name))
                        {
                            push(&mut out, c, false);
                        }
                    }
                    Arg::Col(cv, Some(n), ty) => {
                        let data = cv.clone().into_data(t.rows);
                        let ty = ty.unwrap_or_else(|| infer_type(&data.to_vec()));
                        let c = Column {
                            name: n.clone(),
                            ty,
                            data,
                        };
                        push(&mut out, &c, true);
                    }
                    Arg::Col(cv, None, _) => {
                        let d = pick(cv);
                        let ty = infer_type(&d);
                        // `arg_min(T, x + 1)` → `min_T_arg1`, as Kusto.Language names it.
                        let stem = if want_max { "max" } else { "min" };
                        let x = source_first.clone().unwrap_or_default();
                        let nm = format!("{stem}_{x}_arg{k}");
                        out.push(Column::new(nm, ty, d));
                    }
                }
            }
            // The deprecated argmax/argmin: `max_X`, then `max_X_col` (Kusto.Language's names).
            if deprecated {
                let stem = if want_max { "max" } else { "min" };
                let x = source_first.clone().unwrap_or_default();
                for (k, c) in out.iter_mut().enumerate() {
                    c.name = if k == 0 {
                        format!("{stem}_{x}")
                    } else {
                        format!("{stem}_{x}_{}", c.name)
                    };
                }
            }
            // `(t, who) = arg_max(T, Account)`: the names in order.
            for (c, n) in out.iter_mut().zip(&a.names) {
                c.name = n.clone();
            }
            Ok(out)
        }
        "make_set"
        | "makeset"
        | "make_set_if"
        | "make_list"
        | "makelist"
        | "make_list_if"
        | "make_list_with_nulls" => {
            let x = col(args, 0, name, span)?;
            let is_if = name.ends_with("_if");
            let pred = if is_if {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let limit = scalar_arg(args, if is_if { 2 } else { 1 })
                .and_then(|v| v.as_i64())
                .unwrap_or(1_048_576)
                .max(0) as usize;
            let set = name.contains("set");
            let keep_nulls = name == "make_list_with_nulls";
            let groups = rows_by_group(ids, ngroups, pred);
            let data = groups
                .iter()
                .map(|rows| {
                    let mut seen: HashSet<Key> = HashSet::new();
                    let mut items = Vec::new();
                    for &i in rows {
                        if items.len() >= limit {
                            break;
                        }
                        let v = x.get(i);
                        if v.is_null() && !keep_nulls {
                            continue;
                        }
                        // Arrays are flattened into sets and lists, as Kusto does.
                        let vals: Vec<Value> = match v {
                            Value::Dyn(d) if d.is_array() => d
                                .as_array()
                                .map(|a| a.iter().map(|j| Value::dynamic(j.clone())).collect())
                                .unwrap_or_default(),
                            other => vec![other.clone()],
                        };
                        for v in vals {
                            if items.len() >= limit {
                                break;
                            }
                            if set && !seen.insert(v.unwrap_dynamic().key()) {
                                continue;
                            }
                            items.push(v.to_json());
                        }
                    }
                    Value::dynamic(serde_json::Value::Array(items))
                })
                .collect();
            one(data, Type::Dynamic)
        }
        "make_bag" | "make_bag_if" => {
            let x = col(args, 0, name, span)?;
            let pred = if name == "make_bag_if" {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let groups = rows_by_group(ids, ngroups, pred);
            let data = groups
                .iter()
                .map(|rows| {
                    let mut m = serde_json::Map::new();
                    for &i in rows {
                        if let Value::Dyn(d) = x.get(i) {
                            if let serde_json::Value::Object(o) = &**d {
                                for (k, v) in o {
                                    m.entry(k.clone()).or_insert_with(|| v.clone());
                                }
                            }
                        }
                    }
                    Value::dynamic(serde_json::Value::Object(m))
                })
                .collect();
            one(data, Type::Dynamic)
        }
        "take_any" | "any" | "take_anyif" | "anyif" => {
            let is_if = name.ends_with("if");
            let pred = if is_if {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let groups = rows_by_group(ids, ngroups, pred);
            let first: Vec<Option<usize>> = groups.iter().map(|r| r.first().copied()).collect();
            let cols: Vec<(Option<String>, Cv, Option<Type>)> = if is_if {
                vec![match args.first() {
                    Some(Arg::Col(c, n, ty)) => (n.clone(), c.clone(), *ty),
                    _ => {
                        return Err(EngineError::new(
                            format!("{name}() needs a column"),
                            Some(span),
                        ))
                    }
                }]
            } else {
                // `*` is every column but the `by` keys (each once), as Kusto.Language names
                // them; a column named twice is taken once.
                let mut v: Vec<(Option<String>, Cv, Option<Type>)> = Vec::new();
                for x in args {
                    let mut add = |n: Option<String>, c: Cv, ty: Option<Type>| {
                        if n.as_ref().is_none_or(|n| {
                            !by.contains(n) && !v.iter().any(|(m, ..)| m.as_ref() == Some(n))
                        }) {
                            v.push((n, c, ty));
                        }
                    };
                    match x {
                        Arg::Col(c, n, ty) => add(n.clone(), c.clone(), *ty),
                        Arg::Star => {
                            for c in &t.columns {
                                add(Some(c.name.clone()), Cv::Col(c.data.clone()), Some(c.ty));
                            }
                        }
                        Arg::Wildcard(_) => {
                            return Err(EngineError::unsupported(
                                format!("{name}() of a column wildcard"),
                                Some(span),
                            ))
                        }
                    }
                }
                v
            };
            let cols: Vec<(Option<String>, &Cv, Option<Type>)> =
                cols.iter().map(|(n, c, ty)| (n.clone(), c, *ty)).collect();
            // The deprecated `any`/`anyif` prefix their columns (`any(x)` → `any_x`, as
            // Kusto.Language names them); `take_any` keeps the names.
            let prefixed = matches!(name, "any" | "anyif");
            let several = cols.len() > 1;
            let named = a.names.len() == cols.len();
            Ok(cols
                .into_iter()
                .enumerate()
                .map(|(k, (n, c, ty))| {
                    let d: Vec<Value> = first
                        .iter()
                        .map(|f| f.map(|i| c.get(i).clone()).unwrap_or(Value::Null))
                        .collect();
                    let ty = ty.unwrap_or_else(|| infer_type(&d));
                    let nm = if named {
                        a.names[k].clone()
                    } else if prefixed {
                        // `any(x + 1)` → `any_`, `any(x + 1, y)` → `any_arg0`.
                        match n {
                            Some(n) => format!("{name}_{n}"),
                            None if several => format!("{name}_arg{k}"),
                            None => format!("{name}_"),
                        }
                    } else if name == "take_anyif" {
                        // Without a name, a generated `ColumnN` (empty here).
                        n.unwrap_or_default()
                    } else {
                        // `take_any(x + 1, y)` → `any_arg0`, `y`, as Kusto.Language names it.
                        n.unwrap_or_else(|| format!("any_arg{k}"))
                    };
                    Column::new(nm, ty, d)
                })
                .collect())
        }
        "percentile" | "percentiles" | "percentiles_array" | "percentilew" | "percentilesw"
        | "percentilesw_array" => {
            let x = col(args, 0, name, span)?;
            // `percentilesw(x, weight, p...)`: each value counts `weight` times; rows whose
            // weight is not a positive whole number are left out.
            let weighted = name.starts_with("percentilew") || name.starts_with("percentilesw");
            let weight = if weighted {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let first_p = if weighted { 2 } else { 1 };
            let mut ps: Vec<f64> = Vec::new();
            for i in first_p..args.len() {
                match scalar_arg(args, i) {
                    // `percentiles_array(x, dynamic([50, 75]))`.
                    Some(Value::Dyn(d)) => ps.extend(
                        d.as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(serde_json::Value::as_f64),
                    ),
                    Some(v) => ps.extend(v.as_f64()),
                    None => {}
                }
            }
            if ps.is_empty() {
                return Err(EngineError::new(
                    format!("{name}() needs a percentile"),
                    Some(span),
                ));
            }
            let groups = rows_by_group(ids, ngroups, None);
            // Each group's values in order with their cumulative weights (1 per row unweighted).
            let sorted: Vec<Vec<(Value, i64)>> = groups
                .iter()
                .map(|rows| {
                    let mut v: Vec<(Value, i64)> = rows
                        .iter()
                        .filter_map(|&i| {
                            let w = match weight {
                                Some(w) => w.get(i).as_i64().filter(|w| *w > 0)?,
                                None => 1,
                            };
                            let x = x.get(i);
                            (!x.is_null()).then(|| (x.clone(), w))
                        })
                        .collect();
                    v.sort_by(|a, b| sort_cmp(&a.0, &b.0));
                    let mut total = 0i64;
                    for e in &mut v {
                        total = total.saturating_add(e.1);
                        e.1 = total;
                    }
                    v
                })
                .collect();
            // Nearest rank: the first value whose cumulative weight reaches p% of the total.
            let nearest = |v: &Vec<(Value, i64)>, p: f64| -> Value {
                let Some(total) = v.last().map(|e| e.1) else {
                    return Value::Null;
                };
                let rank = (((p / 100.0) * total as f64).ceil() as i64).clamp(1, total);
                let k = v.partition_point(|e| e.1 < rank);
                v[k.min(v.len() - 1)].0.clone()
            };
            if name.ends_with("_array") {
                let data = sorted
                    .iter()
                    .map(|v| {
                        Value::dynamic(serde_json::Value::Array(
                            ps.iter().map(|p| nearest(v, *p).to_json()).collect(),
                        ))
                    })
                    .collect();
                return one(data, Type::Dynamic);
            }
            let base = match args.first() {
                Some(Arg::Col(_, Some(n), _)) => n.clone(),
                _ => String::new(),
            };
            Ok(ps
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let d: Vec<Value> = sorted.iter().map(|v| nearest(v, *p)).collect();
                    let ty = infer_type(&d);
                    let nm = match a.names.get(k) {
                        Some(n) => n.clone(),
                        None => format!(
                            "percentile_{base}_{}",
                            super::value::format_real(*p).replace('.', "_")
                        ),
                    };
                    Column::new(nm, ty, d)
                })
                .collect())
        }
        "stdev" | "stdevif" | "stdevp" | "variance" | "varianceif" | "variancep"
        | "variancepif" => {
            let x = col(args, 0, name, span)?;
            let pred = if name.ends_with("if") {
                Some(col(args, 1, name, span)?)
            } else {
                None
            };
            let population = name.trim_end_matches("if").ends_with('p');
            let groups = rows_by_group(ids, ngroups, pred);
            let data = groups
                .iter()
                .map(|rows| {
                    let v: Vec<f64> = rows.iter().filter_map(|&i| numeric(x.get(i))).collect();
                    let n = v.len() as f64;
                    let d = if population { n } else { n - 1.0 };
                    if v.is_empty() || d <= 0.0 {
                        return Value::Real(0.0);
                    }
                    let mean = v.iter().sum::<f64>() / n;
                    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / d;
                    Value::Real(if name.starts_with("stdev") {
                        var.sqrt()
                    } else {
                        var
                    })
                })
                .collect();
            one(data, Type::Real)
        }
        "covariance" | "covarianceif" | "covariancep" | "covariancepif" => {
            // Over the rows where both values are numbers (and the predicate holds); the
            // sample form divides by n - 1, the population form by n; 0 without enough rows.
            let (x, y) = (col(args, 0, name, span)?, col(args, 1, name, span)?);
            let pred = if name.ends_with("if") {
                Some(col(args, 2, name, span)?)
            } else {
                None
            };
            let population = name.trim_end_matches("if").ends_with('p');
            let data = rows_by_group(ids, ngroups, pred)
                .iter()
                .map(|rows| {
                    let v: Vec<(f64, f64)> = rows
                        .iter()
                        .filter_map(|&i| Some((numeric(x.get(i))?, numeric(y.get(i))?)))
                        .collect();
                    let n = v.len() as f64;
                    let d = if population { n } else { n - 1.0 };
                    if v.is_empty() || d <= 0.0 {
                        return Value::Real(0.0);
                    }
                    let mx = v.iter().map(|p| p.0).sum::<f64>() / n;
                    let my = v.iter().map(|p| p.1).sum::<f64>() / n;
                    Value::Real(v.iter().map(|(a, b)| (a - mx) * (b - my)).sum::<f64>() / d)
                })
                .collect();
            one(data, Type::Real)
        }
        "binary_all_and" | "binary_all_or" | "binary_all_xor" => {
            // Bitwise over the group's non-null longs; null for a group without one.
            let x = col(args, 0, name, span)?;
            let f: fn(i64, i64) -> i64 = match name {
                "binary_all_and" => |a, b| a & b,
                "binary_all_or" => |a, b| a | b,
                _ => |a, b| a ^ b,
            };
            let mut acc: Vec<Option<i64>> = vec![None; ngroups];
            for (i, g) in ids.iter().enumerate() {
                if let Some(v) = x.get(i).unwrap_dynamic().as_i64() {
                    let slot = &mut acc[*g as usize];
                    *slot = Some(slot.map_or(v, |s| f(s, v)));
                }
            }
            let data = acc
                .into_iter()
                .map(|v| v.map(Value::Long).unwrap_or(Value::Null))
                .collect();
            one(data, Type::Long)
        }
        other => Err(EngineError::unsupported(
            format!("aggregation {other}()"),
            Some(span),
        )),
    }
}

fn numeric(v: &Value) -> Option<f64> {
    match v.unwrap_dynamic() {
        Value::Long(i) => Some(i as f64),
        Value::Real(r) => Some(r),
        Value::Bool(b) => Some(b as i64 as f64),
        _ => None,
    }
}
