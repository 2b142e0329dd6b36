//! KQL's series functions over dynamic arrays (the values `make-series` produces): filling
//! missing values, element-wise arithmetic and comparison, and the dynamic-bag forms of the
//! statistics and line fit. Checked against the output tables on their documentation pages
//! (`tests/data/engine/conformance_ml/`). Elements that are not numbers are nulls.

use super::error::R;
use super::value::Value;

type F = fn(&[Value]) -> R<Value>;

static NULL: Value = Value::Null;

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&NULL)
}

fn dynamic(v: serde_json::Value) -> Value {
    Value::dynamic(v)
}

/// The array of a dynamic value (or of JSON text).
fn array(v: &Value) -> Option<Vec<serde_json::Value>> {
    match v {
        Value::Dyn(d) => d.as_array().cloned(),
        Value::Str(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Array(a)) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

fn num(v: &serde_json::Value) -> Option<f64> {
    v.as_f64()
}

fn out(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// Whether an element is "missing" for the fill functions: null, or equal to the placeholder.
fn missing(v: &serde_json::Value, placeholder: &Value) -> bool {
    match placeholder {
        Value::Null => v.is_null(),
        p => match (p.as_f64(), num(v)) {
            (Some(p), Some(x)) => x == p,
            _ => v.is_null(),
        },
    }
}

fn fill_forward(a: &[Value]) -> R<Value> {
    let Some(mut xs) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let ph = arg(a, 1).clone();
    let mut last: Option<serde_json::Value> = None;
    for x in xs.iter_mut() {
        if missing(x, &ph) {
            if let Some(l) = &last {
                *x = l.clone();
            }
        } else {
            last = Some(x.clone());
        }
    }
    Ok(dynamic(serde_json::Value::Array(xs)))
}

fn fill_backward(a: &[Value]) -> R<Value> {
    let Some(mut xs) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let ph = arg(a, 1).clone();
    let mut next: Option<serde_json::Value> = None;
    for x in xs.iter_mut().rev() {
        if missing(x, &ph) {
            if let Some(n) = &next {
                *x = n.clone();
            }
        } else {
            next = Some(x.clone());
        }
    }
    Ok(dynamic(serde_json::Value::Array(xs)))
}

fn fill_const(a: &[Value]) -> R<Value> {
    let Some(mut xs) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let c = match a.get(1) {
        Some(v) => v.to_json(),
        None => serde_json::Value::from(0),
    };
    let ph = arg(a, 2).clone();
    for x in xs.iter_mut() {
        if missing(x, &ph) {
            *x = c.clone();
        }
    }
    Ok(dynamic(serde_json::Value::Array(xs)))
}

/// Linear interpolation between the nearest present values; the edges take the nearest value
/// when `fill_edges` (default true); an array of missing values only becomes `constant_value`
/// (default 0). The element type is kept: in an array of whole numbers the interpolated values
/// are whole too (the documentation's output truncates: 73.5 becomes 73).
fn fill_linear(a: &[Value]) -> R<Value> {
    let Some(xs) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let ph = arg(a, 1).clone();
    let fill_edges = arg(a, 2).as_bool().unwrap_or(true);
    let vals: Vec<Option<f64>> = xs
        .iter()
        .map(|v| if missing(v, &ph) { None } else { num(v) })
        .collect();
    let known: Vec<usize> = (0..vals.len()).filter(|&i| vals[i].is_some()).collect();
    if known.is_empty() {
        let c = match a.get(3) {
            Some(v) if !v.is_null() => v.as_f64().map(out).unwrap_or(serde_json::Value::Null),
            Some(_) => serde_json::Value::Null,
            None => out(0.0),
        };
        return Ok(dynamic(serde_json::Value::Array(vec![c; xs.len()])));
    }
    let integral = known.iter().all(|&i| xs[i].is_i64() || xs[i].is_u64());
    let mut res: Vec<serde_json::Value> = Vec::with_capacity(vals.len());
    for (i, v) in vals.iter().enumerate() {
        if v.is_some() {
            res.push(xs[i].clone());
            continue;
        }
        let before = known.iter().rev().find(|&&k| k < i).copied();
        let after = known.iter().find(|&&k| k > i).copied();
        let y = match (before, after) {
            (Some(b), Some(f)) => {
                let (yb, yf) = (vals[b].unwrap_or(0.0), vals[f].unwrap_or(0.0));
                Some(yb + (yf - yb) * (i - b) as f64 / (f - b) as f64)
            }
            (Some(b), None) if fill_edges => vals[b],
            (None, Some(f)) if fill_edges => vals[f],
            _ => None,
        };
        res.push(match y {
            Some(y) if integral => serde_json::Value::from(y.trunc() as i64),
            Some(y) => out(y),
            None => xs[i].clone(),
        });
    }
    Ok(dynamic(serde_json::Value::Array(res)))
}

/// `{min, min_idx, max, max_idx, avg, stdev, variance, sum, len}` over the numeric elements (sample
/// variance); non-finite elements are skipped when `ignore_nonfinite`, else they make the
/// statistics null.
fn stats_dynamic(a: &[Value]) -> R<Value> {
    let Some(xs) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let ignore = arg(a, 1).as_bool().unwrap_or(false);
    let vals: Vec<(usize, f64)> = xs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| num(v).map(|x| (i, x)))
        .filter(|(_, x)| !ignore || x.is_finite())
        .collect();
    if vals.is_empty() {
        return Ok(dynamic(serde_json::json!({
            "min": null, "min_idx": null, "max": null, "max_idx": null,
            "avg": null, "stdev": null, "variance": null, "sum": null, "len": 0})));
    }
    let (mut min, mut max) = (vals[0], vals[0]);
    for &(i, x) in &vals {
        if x < min.1 {
            min = (i, x);
        }
        if x > max.1 {
            max = (i, x);
        }
    }
    let n = vals.len() as f64;
    let sum = vals.iter().map(|v| v.1).sum::<f64>();
    let avg = sum / n;
    let variance = if vals.len() > 1 {
        vals.iter().map(|v| (v.1 - avg).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Ok(dynamic(serde_json::json!({
        "min": out(min.1), "min_idx": min.0, "max": out(max.1), "max_idx": max.0,
        "avg": out(avg), "stdev": out(variance.sqrt()), "variance": out(variance),
        "sum": out(sum), "len": vals.len()})))
}

/// Least squares over `(x, y_x)` with `x` from 1: `{rsquare, slope, variance, rvariance,
/// interception, line_fit}`; `interception` is the line at `x = 0`, `variance` of the input
/// and `rvariance` of the residuals (sample variances).
fn fit_line_dynamic(a: &[Value]) -> R<Value> {
    let Some(xs) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let ys: Vec<f64> = xs.iter().map(|v| num(v).unwrap_or(0.0)).collect();
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return Ok(Value::Null);
    }
    let mx = (n + 1.0) / 2.0;
    let my = ys.iter().sum::<f64>() / n;
    let sxy: f64 = ys
        .iter()
        .enumerate()
        .map(|(i, y)| ((i + 1) as f64 - mx) * (y - my))
        .sum();
    let sxx: f64 = (1..=ys.len()).map(|x| (x as f64 - mx).powi(2)).sum();
    let slope = sxy / sxx;
    let icpt = my - slope * mx;
    let fit: Vec<f64> = (1..=ys.len()).map(|x| icpt + slope * x as f64).collect();
    let ss_tot: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let ss_res: f64 = ys.iter().zip(&fit).map(|(y, f)| (y - f).powi(2)).sum();
    let rsquare = if ss_tot == 0.0 {
        1.0
    } else {
        1.0 - ss_res / ss_tot
    };
    Ok(dynamic(serde_json::json!({
        "rsquare": out(rsquare), "slope": out(slope), "variance": out(ss_tot / (n - 1.0)),
        "rvariance": out(ss_res / (n - 1.0)), "interception": out(icpt),
        "line_fit": fit.into_iter().map(out).collect::<Vec<_>>()})))
}

/// Element-wise over two series (or a series and a scalar); null where either side is not a
/// number; the shorter series decides the length.
fn binary(a: &[Value], f: fn(f64, f64) -> serde_json::Value) -> R<Value> {
    let side = |v: &Value| -> Option<Result<Vec<serde_json::Value>, f64>> {
        match array(v) {
            Some(x) => Some(Ok(x)),
            None => v.as_f64().map(Err),
        }
    };
    let (Some(l), Some(r)) = (side(arg(a, 0)), side(arg(a, 1))) else {
        return Ok(Value::Null);
    };
    let at = |s: &Result<Vec<serde_json::Value>, f64>, i: usize| -> Option<f64> {
        match s {
            Ok(x) => x.get(i).and_then(num),
            Err(c) => Some(*c),
        }
    };
    let len = match (&l, &r) {
        (Ok(x), Ok(y)) => x.len().min(y.len()),
        (Ok(x), Err(_)) | (Err(_), Ok(x)) => x.len(),
        _ => 1,
    };
    Ok(dynamic(serde_json::Value::Array(
        (0..len)
            .map(|i| match (at(&l, i), at(&r, i)) {
                (Some(x), Some(y)) => f(x, y),
                _ => serde_json::Value::Null,
            })
            .collect(),
    )))
}

fn unary(a: &[Value], f: fn(f64) -> f64) -> R<Value> {
    let Some(xs) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    Ok(dynamic(serde_json::Value::Array(
        xs.iter()
            .map(|v| num(v).map(|x| out(f(x))).unwrap_or(serde_json::Value::Null))
            .collect(),
    )))
}

/// The numbers of a series (nulls and non-numbers as 0).
fn nums(v: &Value) -> Option<Vec<f64>> {
    array(v).map(|x| x.iter().map(|e| num(e).unwrap_or(0.0)).collect())
}

fn real(x: f64) -> Value {
    if x.is_finite() {
        Value::Real(x)
    } else {
        Value::Null
    }
}

fn reduce(a: &[Value], f: fn(&[f64]) -> f64) -> R<Value> {
    Ok(nums(arg(a, 0)).map(|x| real(f(&x))).unwrap_or(Value::Null))
}

/// Two series, or a series and a scalar (broadcast).
fn pair(a: &[Value]) -> Option<(Vec<f64>, Vec<f64>)> {
    let x = nums(arg(a, 0))?;
    let y = match nums(arg(a, 1)) {
        Some(y) => y,
        None => vec![arg(a, 1).as_f64()?; x.len()],
    };
    let n = x.len().min(y.len());
    Some((x[..n].to_vec(), y[..n].to_vec()))
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// `series_iir(x, numerators, denominators)`: y[n] = (Σ b[i]·x[n-i] − Σ_{j≥1} a[j]·y[n-j]) / a[0].
fn iir(a: &[Value]) -> R<Value> {
    let (Some(x), Some(b), Some(d)) = (nums(arg(a, 0)), nums(arg(a, 1)), nums(arg(a, 2))) else {
        return Ok(Value::Null);
    };
    let a0 = d.first().copied().unwrap_or(1.0);
    let mut y: Vec<f64> = Vec::with_capacity(x.len());
    for n in 0..x.len() {
        let mut acc: f64 = b
            .iter()
            .enumerate()
            .filter(|(i, _)| *i <= n)
            .map(|(i, bi)| bi * x[n - i])
            .sum();
        for (j, aj) in d.iter().enumerate().skip(1) {
            if j <= n {
                acc -= aj * y[n - j];
            }
        }
        y.push(acc / a0);
    }
    Ok(dynamic(serde_json::Value::Array(
        y.into_iter().map(out).collect(),
    )))
}

/// `series_seasonal(series, period)`: per phase of the period, the median of the values there.
/// Without a period Kusto detects one (`series_periods_detect`), which vigil does not do yet.
fn seasonal(a: &[Value]) -> R<Value> {
    let Some(x) = nums(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    // -1 (the default) detects the period (threshold 0.7, as the page says); any other value
    // below 1, or no period found, gives zeros.
    let p = match arg(a, 1).as_i64().unwrap_or(-1) {
        -1 => super::decompose::auto_period(&x, 0.7),
        p if p >= 1 => Some(p as usize),
        _ => None,
    };
    let Some(p) = p else {
        return Ok(dynamic(serde_json::Value::Array(
            x.iter().map(|_| out(0.0)).collect(),
        )));
    };
    let medians: Vec<f64> = (0..p)
        .map(|phase| {
            crate::stats::median(x.iter().skip(phase).step_by(p).copied().collect()).unwrap_or(0.0)
        })
        .collect();
    Ok(dynamic(serde_json::Value::Array(
        (0..x.len()).map(|i| out(medians[i % p])).collect(),
    )))
}

fn cmp(b: bool) -> serde_json::Value {
    serde_json::Value::Bool(b)
}

/// The parts of a tuple function (one list, `kql::view::tuple_parts`, names them for binder and
/// engine alike).
fn parts(function: &str) -> &'static [&'static str] {
    crate::kql::view::tuple_parts(function).unwrap_or(&[])
}

/// A bag's values in the order of a tuple function's parts (`(a, b) = f(...)`).
fn as_tuple(v: Value, parts: &[&str]) -> Value {
    match v {
        Value::Dyn(d) => dynamic(serde_json::Value::Array(
            parts
                .iter()
                .map(|p| d.get(*p).cloned().unwrap_or(serde_json::Value::Null))
                .collect(),
        )),
        other => other,
    }
}

/// `series_fir(series, filter [, normalize [, center]])`: `y[i] = sum_k filter[k] * x[i - k]`
/// (points before the series count as 0; nulls too), divided by the coefficients' sum when
/// normalized (the default unless a coefficient is negative; an explicit normalization of a
/// filter with a negative coefficient is null, as the page says); `center` moves the output
/// back by `(len(filter) - 1) / 2` points so a symmetric filter keeps peaks in place.
fn fir(a: &[Value]) -> R<Value> {
    let (Some(x), Some(f)) = (nums(arg(a, 0)), nums(arg(a, 1))) else {
        return Ok(Value::Null);
    };
    let negative = f.iter().any(|c| *c < 0.0);
    let normalize = arg(a, 2).as_bool().unwrap_or(!negative);
    let center = arg(a, 3).as_bool().unwrap_or(false);
    if f.is_empty() || (normalize && negative) {
        return Ok(Value::Null);
    }
    let scale = if normalize {
        f.iter().sum::<f64>()
    } else {
        1.0
    };
    let shift = if center { (f.len() - 1) / 2 } else { 0 };
    let y: Vec<serde_json::Value> = (0..x.len())
        .map(|i| {
            let at = i + shift;
            let v: f64 = f
                .iter()
                .enumerate()
                .filter(|(k, _)| *k <= at && at - k < x.len())
                .map(|(k, c)| c * x[at - k])
                .sum();
            out(v / scale)
        })
        .collect();
    Ok(dynamic(serde_json::Value::Array(y)))
}

pub(super) fn lookup(name: &str) -> Option<F> {
    Some(match name {
        "series_fir" => fir,
        "series_stats" => |a| Ok(as_tuple(stats_dynamic(a)?, parts("series_stats"))),
        "series_fit_line" => |a| Ok(as_tuple(fit_line_dynamic(a)?, parts("series_fit_line"))),
        "series_fill_forward" => fill_forward,
        "series_fill_backward" => fill_backward,
        "series_fill_const" => fill_const,
        "series_fill_linear" => fill_linear,
        "series_stats_dynamic" => stats_dynamic,
        "series_fit_line_dynamic" => fit_line_dynamic,
        "series_add" => |a| binary(a, |x, y| out(x + y)),
        "series_subtract" => |a| binary(a, |x, y| out(x - y)),
        "series_multiply" => |a| binary(a, |x, y| out(x * y)),
        "series_divide" => |a| binary(a, |x, y| out(x / y)),
        "series_pow" => |a| binary(a, |x, y| out(x.powf(y))),
        "series_greater" => |a| binary(a, |x, y| cmp(x > y)),
        "series_greater_equals" => |a| binary(a, |x, y| cmp(x >= y)),
        "series_less" => |a| binary(a, |x, y| cmp(x < y)),
        "series_less_equals" => |a| binary(a, |x, y| cmp(x <= y)),
        "series_equals" => |a| binary(a, |x, y| cmp(x == y)),
        "series_not_equals" => |a| binary(a, |x, y| cmp(x != y)),
        "series_abs" => |a| unary(a, f64::abs),
        "series_sign" => |a| {
            unary(a, |x| {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            })
        },
        "series_floor" => |a| unary(a, f64::floor),
        "series_ceiling" => |a| unary(a, f64::ceil),
        "series_exp" => |a| unary(a, f64::exp),
        "series_log" => |a| unary(a, f64::ln),
        "series_acos" => |a| unary(a, f64::acos),
        "series_asin" => |a| unary(a, f64::asin),
        "series_atan" => |a| unary(a, f64::atan),
        "series_cos" => |a| unary(a, f64::cos),
        "series_sin" => |a| unary(a, f64::sin),
        "series_tan" => |a| unary(a, f64::tan),
        "series_sum" => |a| reduce(a, |x| x.iter().sum()),
        "series_product" => |a| reduce(a, |x| x.iter().product()),
        "series_magnitude" => |a| reduce(a, |x| dot(x, x).sqrt()),
        "series_dot_product" => |a| {
            Ok(pair(a)
                .map(|(x, y)| real(dot(&x, &y)))
                .unwrap_or(Value::Null))
        },
        "series_cosine_similarity" => |a| {
            Ok(pair(a)
                .map(|(x, y)| real(dot(&x, &y) / (dot(&x, &x).sqrt() * dot(&y, &y).sqrt())))
                .unwrap_or(Value::Null))
        },
        "series_pearson_correlation" => |a| {
            Ok(pair(a)
                .map(|(x, y)| {
                    let n = x.len() as f64;
                    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
                    let dx: Vec<f64> = x.iter().map(|v| v - mx).collect();
                    let dy: Vec<f64> = y.iter().map(|v| v - my).collect();
                    real(dot(&dx, &dy) / (dot(&dx, &dx).sqrt() * dot(&dy, &dy).sqrt()))
                })
                .unwrap_or(Value::Null))
        },
        "series_iir" => iir,
        "series_seasonal" => seasonal,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(x: &[f64]) -> Value {
        Value::dynamic(serde_json::json!(x))
    }

    fn values(v: Value) -> Vec<Option<f64>> {
        let Value::Dyn(d) = v else { panic!("{v:?}") };
        d.as_array().unwrap().iter().map(|x| x.as_f64()).collect()
    }

    /// Worked by hand: a 3-point moving average (normalized by default), centered or not, the
    /// page's difference filter [1, -1], and the null cases the page names.
    #[test]
    fn series_fir_filters_as_the_page_describes() {
        let x = series(&[0.0, 0.0, 3.0, 6.0, 3.0, 0.0]);
        let avg = series(&[1.0, 1.0, 1.0]);
        assert_eq!(
            values(fir(&[x.clone(), avg.clone()]).unwrap()),
            [0.0, 0.0, 1.0, 3.0, 4.0, 3.0].map(Some)
        );
        let centered = fir(&[x.clone(), avg.clone(), Value::Bool(true), Value::Bool(true)]);
        assert_eq!(
            values(centered.unwrap()),
            [0.0, 1.0, 3.0, 4.0, 3.0, 1.0].map(Some)
        );
        let diff = series(&[1.0, -1.0]);
        let steps = series(&[0.0, 0.0, 2.0, 2.0, 3.0]);
        let d = fir(&[
            steps.clone(),
            diff.clone(),
            Value::Bool(false),
            Value::Bool(false),
        ]);
        assert_eq!(values(d.unwrap()), [0.0, 0.0, 2.0, 0.0, 1.0].map(Some));
        // A negative coefficient is not normalized by default, and cannot be normalized.
        assert_eq!(
            values(fir(&[steps.clone(), diff.clone()]).unwrap())[2],
            Some(2.0)
        );
        assert!(fir(&[steps, diff, Value::Bool(true)]).unwrap().is_null());
        assert!(fir(&[x, series(&[])]).unwrap().is_null());
        assert!(fir(&[Value::str("x"), avg]).unwrap().is_null());
    }
}
