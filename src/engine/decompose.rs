//! KQL's time-series decomposition and anomaly functions over dynamic arrays:
//! `series_outliers`, `series_decompose`, `series_decompose_anomalies`,
//! `series_decompose_forecast`, `series_fit_2lines`, `series_periods_detect` and
//! `series_periods_validate`, following the algorithm their documentation pages describe.
//!
//! What the pages leave open is decided here and recorded in ARCHITECTURE.md ("KQL's
//! time-series functions"): percentiles interpolate linearly between order statistics; a
//! Tukey range of zero width is widened to 1e-9 of the fence (so a spike in a flat series
//! scores high instead of dividing by zero); period scores are vigil's own (the correlation of
//! the detrended series with itself one period later, clipped to [0, 1], harmonics of a
//! stronger shorter period dropped). Microsoft does not publish its period score, so periods
//! found by auto-detection can differ from Kusto's; the documented outputs of the two period
//! functions are conformance cases with that difference listed.

use super::error::{EngineError, R};
use super::value::Value;

type F = fn(&[Value]) -> R<Value>;

static NULL: Value = Value::Null;

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&NULL)
}

/// The series' elements (null where an element is not a number), or None if not an array.
fn series(v: &Value) -> Option<Vec<Option<f64>>> {
    let arr = match v {
        Value::Dyn(d) => d.as_array()?.clone(),
        Value::Str(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Array(a)) => a,
            _ => return None,
        },
        _ => return None,
    };
    Some(arr.iter().map(|e| e.as_f64()).collect())
}

fn num(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

fn opt(x: Option<f64>) -> serde_json::Value {
    x.map(num).unwrap_or(serde_json::Value::Null)
}

fn array(xs: impl IntoIterator<Item = serde_json::Value>) -> serde_json::Value {
    serde_json::Value::Array(xs.into_iter().collect())
}

fn tuple(parts: Vec<serde_json::Value>) -> Value {
    Value::dynamic(serde_json::Value::Array(parts))
}

fn real_arg(a: &[Value], i: usize, default: f64) -> f64 {
    arg(a, i).as_f64().unwrap_or(default)
}

fn int_arg(a: &[Value], i: usize, default: i64) -> i64 {
    arg(a, i).as_i64().unwrap_or(default)
}

fn text_arg(a: &[Value], i: usize, default: &str) -> String {
    match arg(a, i) {
        Value::Null => default.to_string(),
        v => v.to_kusto_string().to_ascii_lowercase(),
    }
}

/// The `p`-th percentile (0-100) of sorted values, interpolating between order statistics.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0).clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

/// Tukey fence scores: `(x - Q_hi) / (Q_hi - Q_lo)` above the range, `(x - Q_lo) / (Q_hi -
/// Q_lo)` below it, 0 inside; missing values score 0.
fn outlier_scores(x: &[Option<f64>], lo_pct: f64, hi_pct: f64) -> Vec<f64> {
    let mut sorted: Vec<f64> = x.iter().flatten().copied().collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let (lo, hi) = (percentile(&sorted, lo_pct), percentile(&sorted, hi_pct));
    let width = (hi - lo).max(1e-9 * hi.abs().max(lo.abs()).max(1.0));
    x.iter()
        .map(|v| match v {
            Some(v) if *v > hi => (v - hi) / width,
            Some(v) if *v < lo => (v - lo) / width,
            _ => 0.0,
        })
        .collect()
}

fn method_range(method: &str, a: &[Value], lo_at: usize) -> R<(f64, f64)> {
    match method {
        "tukey" => Ok((25.0, 75.0)),
        "ctukey" => {
            let (lo, hi) = (real_arg(a, lo_at, 10.0), real_arg(a, lo_at + 1, 90.0));
            if !(2.0..=98.0).contains(&lo) || !(2.0..=98.0).contains(&hi) || lo >= hi {
                return Err(EngineError::new(
                    format!("series_outliers(): percentiles must lie in [2, 98] with the minimum below the maximum (got {lo}, {hi})"),
                    None,
                ));
            }
            Ok((lo, hi))
        }
        other => Err(EngineError::new(
            format!("series_outliers(): unknown kind '{other}' (tukey or ctukey)"),
            None,
        )),
    }
}

fn outliers(a: &[Value]) -> R<Value> {
    let Some(mut x) = series(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let method = text_arg(a, 1, "ctukey");
    let (lo, hi) = method_range(&method, a, 3)?;
    if let Some(ignore) = arg(a, 2).as_f64() {
        for v in x.iter_mut() {
            if *v == Some(ignore) {
                *v = None;
            }
        }
    }
    Ok(Value::dynamic(array(
        outlier_scores(&x, lo, hi).into_iter().map(num),
    )))
}

/// Least-squares line through `(i, y[i])` for the indexes given: (slope, interception).
fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    if points.is_empty() {
        return (0.0, 0.0);
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx == 0.0 { 0.0 } else { sxy / sxx };
    (slope, my - slope * mx)
}

/// Scores of candidate periods: the correlation of the detrended series with itself `p`
/// points later, clipped to [0, 1]; 0 unless 4 <= p < n/2 (the pages say "at most half the
/// series", and the series_seasonal page shows a 12-point series whose 6-point period is not
/// detected, so half itself is out).
fn period_score(x: &[f64], p: usize) -> f64 {
    let n = x.len();
    if p < 4 || 2 * p >= n {
        return 0.0;
    }
    let pts: Vec<(f64, f64)> = x.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect();
    let (s, b) = line(&pts);
    let d: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v - (s * i as f64 + b))
        .collect();
    let (l, r) = (&d[..n - p], &d[p..]);
    let m = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ml, mr) = (m(l), m(r));
    let cov: f64 = l.iter().zip(r).map(|(a, b)| (a - ml) * (b - mr)).sum();
    let vl: f64 = l.iter().map(|a| (a - ml).powi(2)).sum();
    let vr: f64 = r.iter().map(|b| (b - mr).powi(2)).sum();
    if vl == 0.0 || vr == 0.0 {
        return 0.0;
    }
    (cov / (vl * vr).sqrt()).clamp(0.0, 1.0)
}

/// Periods in `[min, max]` (at least 4 points, at most half the series), strongest first.
/// Candidates are the local maxima of [`period_score`] scoring at least 0.1 (below that a
/// correlation is noise); a candidate within two points (or 15%) of a stronger one is that
/// period seen with jitter, and one that is a multiple (within one point) of a shorter
/// candidate scoring at least 90% as high is its harmonic: both are dropped.
fn detect_periods(x: &[f64], min: f64, max: f64, count: usize) -> Vec<(usize, f64)> {
    let n = x.len();
    let lo = (min.ceil().max(4.0)) as usize;
    let hi = (max.floor().max(0.0) as usize).min(n.saturating_sub(1) / 2);
    if lo > hi {
        return Vec::new();
    }
    let scores: Vec<(usize, f64)> = (lo..=hi).map(|p| (p, period_score(x, p))).collect();
    let mut peaks: Vec<(usize, f64)> = Vec::new();
    for (k, &(p, s)) in scores.iter().enumerate() {
        let left = k.checked_sub(1).map(|j| scores[j].1).unwrap_or(f64::MIN);
        let right = scores.get(k + 1).map(|q| q.1).unwrap_or(f64::MIN);
        if s >= 0.1 && s >= left && s >= right {
            peaks.push((p, s));
        }
    }
    let near = |p: usize, q: usize| p.abs_diff(q) as f64 <= (0.15 * q as f64).max(2.0);
    let harmonic = |p: usize, q: usize| {
        let k = (p as f64 / q as f64).round();
        q < p && k >= 2.0 && (p as f64 - k * q as f64).abs() <= 1.0
    };
    let mut kept: Vec<(usize, f64)> = peaks
        .iter()
        .copied()
        .filter(|&(p, s)| {
            !peaks.iter().any(|&(q, t)| {
                (q != p && near(p, q) && (t > s || (t == s && q < p)))
                    || (harmonic(p, q) && t >= 0.9 * s)
            })
        })
        .collect();
    kept.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    kept.truncate(count);
    kept
}

/// The strongest period of a series (4 to n/2 points) if it scores at least `threshold`: the
/// auto-detection of `series_decompose`, `series_seasonal` and their kin.
pub(super) fn auto_period(x: &[f64], threshold: f64) -> Option<usize> {
    detect_periods(x, 4.0, x.len() as f64 / 2.0, 1)
        .first()
        .filter(|(_, score)| *score >= threshold)
        .map(|(p, _)| *p)
}

fn periods_detect(a: &[Value]) -> R<Value> {
    let Some(x) = series(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let x: Vec<f64> = x.into_iter().map(|v| v.unwrap_or(0.0)).collect();
    let count = int_arg(a, 3, 1).clamp(0, 1024) as usize;
    let found = detect_periods(
        &x,
        real_arg(a, 1, 4.0),
        real_arg(a, 2, x.len() as f64 / 2.0),
        count,
    );
    let mut periods: Vec<serde_json::Value> =
        found.iter().map(|(p, _)| serde_json::json!(p)).collect();
    let mut scores: Vec<serde_json::Value> = found.iter().map(|(_, s)| num(*s)).collect();
    periods.resize(count, serde_json::json!(0));
    scores.resize(count, serde_json::json!(0));
    Ok(tuple(vec![array(periods), array(scores)]))
}

fn periods_validate(a: &[Value]) -> R<Value> {
    let Some(x) = series(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let x: Vec<f64> = x.into_iter().map(|v| v.unwrap_or(0.0)).collect();
    let periods: Vec<f64> = a[1..].iter().take(16).filter_map(|v| v.as_f64()).collect();
    let scores = periods.iter().map(|p| {
        let q = p.round() as usize;
        if (p - q as f64).abs() > 1e-9 {
            0.0
        } else {
            period_score(&x, q)
        }
    });
    Ok(tuple(vec![
        array(periods.iter().map(|p| num(*p))),
        array(scores.map(num)),
    ]))
}

/// The decomposition of a series: (baseline, seasonal, trend, residual), learned from all but
/// the last `test_points` points.
struct Parts {
    baseline: Vec<f64>,
    seasonal: Vec<f64>,
    trend: Vec<f64>,
    residual: Vec<Option<f64>>,
}

fn decompose_series(
    x: &[Option<f64>],
    seasonality: i64,
    trend: &str,
    test_points: usize,
    threshold: f64,
) -> R<Parts> {
    let n = x.len();
    let train = n.saturating_sub(test_points);
    let learn: Vec<f64> = x[..train].iter().map(|v| v.unwrap_or(0.0)).collect();
    let period = match seasonality {
        s if s < 0 => auto_period(&learn, threshold),
        0 => None,
        s => Some(s as usize).filter(|p| *p >= 2 && *p <= train.max(2)),
    };
    let seasonal: Vec<f64> = match period {
        Some(p) => {
            let medians: Vec<f64> = (0..p)
                .map(|phase| {
                    crate::stats::median(
                        x[..train]
                            .iter()
                            .skip(phase)
                            .step_by(p)
                            .flatten()
                            .copied()
                            .collect(),
                    )
                    .unwrap_or(0.0)
                })
                .collect();
            (0..n).map(|i| medians[i % p]).collect()
        }
        None => vec![0.0; n],
    };
    let deseasonal: Vec<(f64, f64)> = x[..train]
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i as f64, v - seasonal[i])))
        .collect();
    let trend: Vec<f64> = match trend {
        "avg" => {
            let m = if deseasonal.is_empty() {
                0.0
            } else {
                deseasonal.iter().map(|p| p.1).sum::<f64>() / deseasonal.len() as f64
            };
            vec![m; n]
        }
        "linefit" => {
            let (s, b) = line(&deseasonal);
            (0..n).map(|i| s * i as f64 + b).collect()
        }
        "none" => vec![0.0; n],
        other => {
            return Err(EngineError::new(
                format!("unknown trend '{other}' (avg, linefit or none)"),
                None,
            ))
        }
    };
    let baseline: Vec<f64> = seasonal.iter().zip(&trend).map(|(s, t)| s + t).collect();
    let residual = x
        .iter()
        .zip(&baseline)
        .map(|(v, b)| v.map(|v| v - b))
        .collect();
    Ok(Parts {
        baseline,
        seasonal,
        trend,
        residual,
    })
}

fn parts_tuple(p: Parts) -> Value {
    tuple(vec![
        array(p.baseline.into_iter().map(num)),
        array(p.seasonal.into_iter().map(num)),
        array(p.trend.into_iter().map(num)),
        array(p.residual.into_iter().map(opt)),
    ])
}

fn decompose(a: &[Value]) -> R<Value> {
    let Some(x) = series(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let p = decompose_series(
        &x,
        int_arg(a, 1, -1),
        &text_arg(a, 2, "avg"),
        int_arg(a, 3, 0).max(0) as usize,
        real_arg(a, 4, 0.6),
    )?;
    Ok(parts_tuple(p))
}

fn decompose_forecast(a: &[Value]) -> R<Value> {
    let Some(x) = series(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let points = int_arg(a, 1, 0).max(0) as usize;
    let p = decompose_series(
        &x,
        int_arg(a, 2, -1),
        &text_arg(a, 3, "linefit"),
        points,
        real_arg(a, 4, 0.6),
    )?;
    Ok(parts_tuple(p))
}

fn decompose_anomalies(a: &[Value]) -> R<Value> {
    let Some(x) = series(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let threshold = real_arg(a, 1, 1.5);
    let p = decompose_series(
        &x,
        int_arg(a, 2, -1),
        &text_arg(a, 3, "avg"),
        int_arg(a, 4, 0).max(0) as usize,
        real_arg(a, 6, 0.6),
    )?;
    let method = text_arg(a, 5, "ctukey");
    let (lo, hi) = method_range(&method, &[], 0)?;
    let scores = outlier_scores(&p.residual, lo, hi);
    let flags = scores.iter().map(|s| {
        serde_json::json!(if *s > threshold {
            1
        } else if *s < -threshold {
            -1
        } else {
            0
        })
    });
    Ok(tuple(vec![
        array(flags),
        array(scores.iter().map(|s| num(*s))),
        array(p.baseline.into_iter().map(num)),
    ]))
}

/// Two lines split at the index that leaves the least residual (each side at least two
/// points; `split_idx` is the last index of the left line): the overall and per-side
/// statistics in `kql::binder::tuple_parts` order.
fn fit_2lines(a: &[Value]) -> R<Value> {
    let Some(x) = series(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let y: Vec<f64> = x.into_iter().map(|v| v.unwrap_or(0.0)).collect();
    let n = y.len();
    if n < 4 {
        return Ok(Value::Null);
    }
    let fit = |lo: usize, hi: usize| {
        let pts: Vec<(f64, f64)> = (lo..hi).map(|i| ((i + 1) as f64, y[i])).collect();
        let (s, b) = line(&pts);
        let m = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
        let ss_tot: f64 = pts.iter().map(|p| (p.1 - m).powi(2)).sum();
        let ss_res: f64 = pts.iter().map(|p| (p.1 - (s * p.0 + b)).powi(2)).sum();
        (s, b, ss_tot, ss_res, pts.len() as f64)
    };
    let mut best: Option<(usize, f64)> = None;
    for split in 2..=n - 2 {
        let r = fit(0, split).3 + fit(split, n).3;
        if best.is_none_or(|(_, b)| r < b) {
            best = Some((split, r));
        }
    }
    let (split, ss_res) = best.expect("n >= 4 has a split");
    let (ls, lb, lt, lr, ln) = fit(0, split);
    let (rs, rb, rt, rr, rn) = fit(split, n);
    let m = y.iter().sum::<f64>() / n as f64;
    let ss_tot: f64 = y.iter().map(|v| (v - m).powi(2)).sum();
    let rsq = |tot: f64, res: f64| if tot == 0.0 { 1.0 } else { 1.0 - res / tot };
    let var = |ss: f64, k: f64| if k > 1.0 { ss / (k - 1.0) } else { 0.0 };
    let line_fit = (0..n).map(|i| {
        let x = (i + 1) as f64;
        num(if i < split { ls * x + lb } else { rs * x + rb })
    });
    Ok(tuple(vec![
        num(rsq(ss_tot, ss_res)),
        serde_json::json!(split - 1),
        num(var(ss_tot, n as f64)),
        num(var(ss_res, n as f64)),
        array(line_fit),
        num(rsq(rt, rr)),
        num(rs),
        num(rb),
        num(var(rt, rn)),
        num(var(rr, rn)),
        num(rsq(lt, lr)),
        num(ls),
        num(lb),
        num(var(lt, ln)),
        num(var(lr, ln)),
    ]))
}

/// `series_fit_2lines_dynamic`: `series_fit_2lines`'s values as a property bag, the sides'
/// values nested under `right` and `left` (the page's `right.rsquare`, ...).
fn fit_2lines_dynamic(a: &[Value]) -> R<Value> {
    let Value::Dyn(v) = fit_2lines(a)? else {
        return Ok(Value::Null);
    };
    let Some(values) = v.as_array() else {
        return Ok(Value::Null);
    };
    let parts = crate::kql::view::tuple_parts("series_fit_2lines").unwrap_or(&[]);
    let mut bag = serde_json::Map::new();
    for (part, value) in parts.iter().zip(values) {
        match part
            .split_once('_')
            .filter(|(side, _)| matches!(*side, "right" | "left"))
        {
            Some((side, key)) => {
                let side = bag
                    .entry(side.to_string())
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                if let Some(side) = side.as_object_mut() {
                    side.insert(key.to_string(), value.clone());
                }
            }
            None => {
                bag.insert(part.to_string(), value.clone());
            }
        }
    }
    Ok(Value::dynamic(serde_json::Value::Object(bag)))
}

pub(super) fn lookup(name: &str) -> Option<F> {
    Some(match name {
        "series_fit_2lines_dynamic" => fit_2lines_dynamic,
        "series_outliers" => outliers,
        "series_decompose" => decompose,
        "series_decompose_anomalies" => decompose_anomalies,
        "series_decompose_forecast" => decompose_forecast,
        "series_fit_2lines" => fit_2lines,
        "series_periods_detect" => periods_detect,
        "series_periods_validate" => periods_validate,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(v: &Value, k: usize) -> Vec<f64> {
        let Value::Dyn(d) = v else { panic!("{v:?}") };
        d[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect()
    }

    fn dynv(x: &[f64]) -> Value {
        Value::dynamic(serde_json::json!(x))
    }

    /// A weekly pattern (period 7) with a rising trend, and spikes at known points.
    fn weekly(n: usize, spikes: &[(usize, f64)]) -> Vec<f64> {
        let pattern = [10.0, 12.0, 11.0, 13.0, 12.0, 4.0, 3.0];
        let mut y: Vec<f64> = (0..n)
            .map(|i| pattern[i % 7] + 0.05 * i as f64 + 0.3 * ((i * 37 % 11) as f64 / 11.0))
            .collect();
        for (i, d) in spikes {
            y[*i] += d;
        }
        y
    }

    /// The bag holds the tuple's values, the sides' nested: two exact lines (1..5 rising by 1,
    /// then 10..6 falling by 1) split at index 5 with perfect fits.
    #[test]
    fn fit_2lines_dynamic_is_the_tuple_as_a_bag() {
        let y = dynv(&[1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 9.0, 8.0, 7.0, 6.0]);
        let tuple = fit_2lines(std::slice::from_ref(&y)).unwrap();
        let Value::Dyn(bag) = fit_2lines_dynamic(&[y]).unwrap() else {
            panic!("a bag")
        };
        let Value::Dyn(t) = tuple else {
            panic!("a tuple")
        };
        assert_eq!(bag["split_idx"], t[1]);
        assert_eq!(bag["split_idx"], serde_json::json!(4));
        assert_eq!(bag["rsquare"], t[0]);
        assert_eq!(bag["line_fit"], t[4]);
        assert_eq!(bag["right"]["slope"], t[6]);
        assert_eq!(bag["right"]["slope"].as_f64(), Some(-1.0));
        assert_eq!(bag["left"]["slope"].as_f64(), Some(1.0));
        assert_eq!(bag["left"]["interception"].as_f64(), Some(0.0));
        assert_eq!(bag.as_object().unwrap().len(), 7, "{bag}");
        assert!(fit_2lines_dynamic(&[Value::str("not a series")])
            .unwrap()
            .is_null());
    }

    #[test]
    fn the_weekly_period_is_found_and_not_its_multiples() {
        let y = weekly(70, &[]);
        let p = detect_periods(&y, 4.0, 35.0, 3);
        assert_eq!(p.first().map(|p| p.0), Some(7), "{p:?}");
        assert!(p.iter().all(|(q, _)| q % 7 != 0 || *q == 7), "{p:?}");
        // Noise-free white noise has no period above the default threshold.
        let noise: Vec<f64> = (0..70).map(|i| ((i * 7919 % 101) as f64).sin()).collect();
        let v = periods_validate(&[dynv(&noise), Value::Real(7.0)]).unwrap();
        assert!(arr(&v, 1)[0] < 0.6);
    }

    #[test]
    fn anomalies_flag_the_injected_spikes_and_only_them() {
        let y = weekly(84, &[(30, 15.0), (61, -12.0)]);
        let v = decompose_anomalies(&[
            dynv(&y),
            Value::Real(3.0),
            Value::Long(-1),
            Value::str("linefit"),
        ])
        .unwrap();
        let flags = arr(&v, 0);
        let flagged: Vec<(usize, f64)> = flags
            .iter()
            .enumerate()
            .filter(|(_, f)| **f != 0.0)
            .map(|(i, f)| (i, *f))
            .collect();
        assert_eq!(flagged, [(30, 1.0), (61, -1.0)]);
        // The baseline follows the pattern: within 1 of every unspiked point.
        let base = arr(&v, 2);
        for (i, (b, x)) in base.iter().zip(&y).enumerate() {
            if i != 30 && i != 61 {
                assert!((b - x).abs() < 1.0, "{i}: {b} vs {x}");
            }
        }
    }

    #[test]
    fn a_spike_in_a_flat_series_is_an_outlier() {
        let mut y = vec![0.0; 48];
        y[20] = 5.0;
        let v = outliers(&[dynv(&y)]).unwrap();
        let Value::Dyn(d) = v else { panic!() };
        let s: Vec<f64> = d
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!(s[20] > 1.5 && s.iter().enumerate().all(|(i, v)| i == 20 || *v == 0.0));
        assert!(outliers(&[
            dynv(&y),
            Value::str("ctukey"),
            Value::Null,
            Value::Real(1.0)
        ])
        .is_err());
    }

    #[test]
    fn forecast_continues_pattern_and_trend_into_the_test_points() {
        let y = weekly(84, &[]);
        let mut input = y[..70].to_vec();
        input.extend(std::iter::repeat_n(0.0, 14));
        let v = decompose_forecast(&[dynv(&input), Value::Long(14)]).unwrap();
        let base = arr(&v, 0);
        for i in 70..84 {
            assert!((base[i] - y[i]).abs() < 1.0, "{i}: {} vs {}", base[i], y[i]);
        }
    }

    #[test]
    fn two_lines_find_the_break() {
        let y: Vec<f64> = (0..20)
            .map(|i| {
                if i < 12 {
                    i as f64
                } else {
                    30.0 - 2.0 * i as f64
                }
            })
            .collect();
        let v = fit_2lines(&[dynv(&y)]).unwrap();
        let Value::Dyn(d) = v else { panic!() };
        assert!(d[0].as_f64().unwrap() > 0.999, "{d}");
        assert_eq!(d[1].as_i64(), Some(11));
        assert!(
            (d[6].as_f64().unwrap() + 2.0).abs() < 1e-9,
            "right slope {}",
            d[6]
        );
        assert!(
            (d[11].as_f64().unwrap() - 1.0).abs() < 1e-9,
            "left slope {}",
            d[11]
        );
    }
}
