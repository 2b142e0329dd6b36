//! Math functions: rounding, powers and logs, trigonometry, the error function, bitwise.

use super::args::*;
use super::*;

pub(super) fn lookup(name: &str) -> Option<F> {
    let f: F = match name {
        // math
        // `around(value, center, delta)`: center - delta <= value <= center + delta, on
        // integers, reals, datetimes and timespans (integer ticks compared exactly).
        "around" => |a| {
            let v: Vec<Value> = (0..3).map(|i| arg(a, i).unwrap_dynamic()).collect();
            let ticks = |x: &Value| match x {
                Value::Long(i) | Value::DateTime(i) | Value::TimeSpan(i) => Some(*i as i128),
                _ => None,
            };
            let float = |x: &Value| match x {
                Value::Real(r) => Some(*r),
                other => ticks(other).map(|t| t as f64),
            };
            Ok(match (ticks(&v[0]), ticks(&v[1]), ticks(&v[2])) {
                (Some(x), Some(c), Some(d)) => Value::Bool(c - d <= x && x <= c + d),
                _ => match (float(&v[0]), float(&v[1]), float(&v[2])) {
                    (Some(x), Some(c), Some(d)) => Value::Bool(c - d <= x && x <= c + d),
                    _ => Value::Null,
                },
            })
        },
        "abs" => |a| {
            Ok(match arg(a, 0).unwrap_dynamic() {
                Value::Long(x) => Value::Long(x.abs()),
                Value::Real(x) => Value::Real(x.abs()),
                Value::TimeSpan(x) => Value::TimeSpan(x.abs()),
                _ => Value::Null,
            })
        },
        "round" => |a| {
            let p = long(a, 1).unwrap_or(0);
            Ok(match arg(a, 0).unwrap_dynamic() {
                Value::Long(x) if p >= 0 => Value::Long(x),
                v => v
                    .as_f64()
                    .map(|x| {
                        let m = 10f64.powi(p as i32);
                        Value::Real((x * m).round() / m)
                    })
                    .unwrap_or(Value::Null),
            })
        },
        "ceiling" => |a| {
            Ok(match arg(a, 0).unwrap_dynamic() {
                Value::Long(x) => Value::Long(x),
                v => opt_real(v.as_f64().map(f64::ceil)),
            })
        },
        "sqrt" => |a| Ok(opt_real(real(a, 0).map(f64::sqrt))),
        "exp" => |a| Ok(opt_real(real(a, 0).map(f64::exp))),
        "exp2" => |a| Ok(opt_real(real(a, 0).map(f64::exp2))),
        "sin" => |a| Ok(opt_real(real(a, 0).map(f64::sin))),
        "cos" => |a| Ok(opt_real(real(a, 0).map(f64::cos))),
        "tan" => |a| Ok(opt_real(real(a, 0).map(f64::tan))),
        "cot" => |a| Ok(opt_real(real(a, 0).map(|x| 1.0 / x.tan()))),
        "asin" => |a| Ok(opt_real(real(a, 0).map(f64::asin))),
        "acos" => |a| Ok(opt_real(real(a, 0).map(f64::acos))),
        "atan" => |a| Ok(opt_real(real(a, 0).map(f64::atan))),
        "atan2" => |a| {
            Ok(match (real(a, 0), real(a, 1)) {
                (Some(y), Some(x)) => Value::Real(y.atan2(x)),
                _ => Value::Null,
            })
        },
        "exp10" => |a| Ok(opt_real(real(a, 0).map(|x| 10f64.powf(x)))),
        "log" => |a| Ok(opt_real(real(a, 0).map(f64::ln))),
        "log2" => |a| Ok(opt_real(real(a, 0).map(f64::log2))),
        "log10" => |a| Ok(opt_real(real(a, 0).map(f64::log10))),
        "pow" => |a| {
            Ok(match (real(a, 0), real(a, 1)) {
                (Some(x), Some(y)) => Value::Real(x.powf(y)),
                _ => Value::Null,
            })
        },
        "sign" => |a| {
            Ok(opt_real(real(a, 0).map(|x| {
                if x == 0.0 {
                    0.0
                } else {
                    x.signum()
                }
            })))
        },
        "pi" => |_| Ok(Value::Real(std::f64::consts::PI)),
        // The beta distribution (`x` in [0, 1], positive shapes; NaN otherwise, as the pages
        // show; `beta_inv` of a probability outside [0, 1] is null).
        "beta_cdf" => |a| {
            Ok(beta3(a, |x, p, q| {
                (0.0..=1.0).contains(&x).then(|| inc_beta(x, p, q))
            }))
        },
        "beta_pdf" => |a| {
            Ok(beta3(a, |x, p, q| {
                (0.0..=1.0).contains(&x).then(|| beta_pdf(x, p, q))
            }))
        },
        "beta_inv" => |a| {
            Ok(match real(a, 0) {
                Some(pr) if !(0.0..=1.0).contains(&pr) => Value::Null,
                _ => beta3(a, |pr, p, q| Some(beta_inv(pr, p, q))),
            })
        },
        // Welch's t-test: the two-sided p-value of the difference of two means.
        "welch_test" => |a| {
            let v: Option<Vec<f64>> = (0..6).map(|i| real(a, i)).collect();
            Ok(opt_real(
                v.map(|v| welch(v[0], v[1], v[2], v[3], v[4], v[5])),
            ))
        },
        "erf" => |a| Ok(opt_real(real(a, 0).map(libm::erf))),
        "erfc" => |a| Ok(opt_real(real(a, 0).map(libm::erfc))),
        "gamma" => |a| Ok(opt_real(real(a, 0).map(crate::stats::gamma))),
        "loggamma" => |a| Ok(opt_real(real(a, 0).map(crate::stats::ln_gamma))),
        "min_of" => |a| {
            Ok(a.iter()
                .filter(|v| !v.is_null())
                .min_by(|x, y| sort_cmp(x, y))
                .cloned()
                .unwrap_or(Value::Null))
        },
        "max_of" => |a| {
            Ok(a.iter()
                .filter(|v| !v.is_null())
                .max_by(|x, y| sort_cmp(x, y))
                .cloned()
                .unwrap_or(Value::Null))
        },
        "degrees" => |a| Ok(opt_real(real(a, 0).map(f64::to_degrees))),
        "radians" => |a| Ok(opt_real(real(a, 0).map(f64::to_radians))),
        "binary_and" => |a| Ok(bits2(a, |x, y| x & y)),
        "binary_or" => |a| Ok(bits2(a, |x, y| x | y)),
        "binary_xor" => |a| Ok(bits2(a, |x, y| x ^ y)),
        "binary_not" => |a| Ok(long(a, 0).map(|x| Value::Long(!x)).unwrap_or(Value::Null)),
        "binary_shift_left" => |a| {
            Ok(bits2(
                a,
                |x, y| if (0..64).contains(&y) { x << y } else { 0 },
            ))
        },
        "binary_shift_right" => |a| {
            Ok(bits2(
                a,
                |x, y| if (0..64).contains(&y) { x >> y } else { 0 },
            ))
        },
        "bitset_count_ones" => |a| {
            Ok(long(a, 0)
                .map(|x| Value::Long(x.count_ones() as i64))
                .unwrap_or(Value::Null))
        },
        _ => return None,
    };
    Some(f)
}

/// A beta-distribution function of `(x, alpha, beta)`: null for a null argument, NaN for a
/// shape that is not positive or for `f`'s None (an `x` out of range).
fn beta3(a: &[Value], f: impl Fn(f64, f64, f64) -> Option<f64>) -> Value {
    match (real(a, 0), real(a, 1), real(a, 2)) {
        (Some(x), Some(p), Some(q)) if p > 0.0 && q > 0.0 => {
            Value::Real(f(x, p, q).unwrap_or(f64::NAN))
        }
        (Some(_), Some(_), Some(_)) => Value::Real(f64::NAN),
        _ => Value::Null,
    }
}

/// ln B(p, q).
fn ln_beta(p: f64, q: f64) -> f64 {
    libm::lgamma(p) + libm::lgamma(q) - libm::lgamma(p + q)
}

fn beta_pdf(x: f64, p: f64, q: f64) -> f64 {
    ((p - 1.0) * x.ln() + (q - 1.0) * (1.0 - x).ln() - ln_beta(p, q)).exp()
}

/// The regularized incomplete beta function I_x(p, q), by its continued fraction (Lentz's
/// method), on the side of the mean where it converges fast.
pub(crate) fn inc_beta(x: f64, p: f64, q: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (p * x.ln() + q * (1.0 - x).ln() - ln_beta(p, q)).exp();
    if x < (p + 1.0) / (p + q + 2.0) {
        front * beta_fraction(x, p, q) / p
    } else {
        1.0 - front * beta_fraction(1.0 - x, q, p) / q
    }
}

fn beta_fraction(x: f64, p: f64, q: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (p + q) * x / (p + 1.0);
    d = 1.0 / if d.abs() < TINY { TINY } else { d };
    let mut h = d;
    for m in 1..=500 {
        let m = m as f64;
        for num in [
            m * (q - m) * x / ((p + 2.0 * m - 1.0) * (p + 2.0 * m)),
            -(p + m) * (p + q + m) * x / ((p + 2.0 * m) * (p + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            d = 1.0 / if d.abs() < TINY { TINY } else { d };
            c = 1.0 + num / c;
            if c.abs() < TINY {
                c = TINY;
            }
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The `x` with I_x(p, q) = `pr`, by bisection (the CDF is monotone; 64 halvings of [0, 1]
/// reach below a double's spacing, and bound the work per row).
fn beta_inv(pr: f64, p: f64, q: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..64 {
        let mid = 0.5 * (lo + hi);
        if inc_beta(mid, p, q) < pr {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Welch's t-test p-value (two-sided): t over the Welch–Satterthwaite degrees of freedom,
/// through Student's t distribution as an incomplete beta.
fn welch(m1: f64, v1: f64, n1: f64, m2: f64, v2: f64, n2: f64) -> f64 {
    let (s1, s2) = (v1 / n1, v2 / n2);
    let t = (m1 - m2) / (s1 + s2).sqrt();
    let df = (s1 + s2).powi(2) / (s1 * s1 / (n1 - 1.0) + s2 * s2 / (n2 - 1.0));
    inc_beta(df / (df + t * t), df / 2.0, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_test_gives_the_wikipedia_example_p_value() {
        // The welch_test page's data (Wikipedia's example 1): p = 0.021.
        let s1 = [
            27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7,
            21.4,
        ];
        let s2 = [
            27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5,
            24.4,
        ];
        let stats = |s: &[f64]| {
            let n = s.len() as f64;
            let m = s.iter().sum::<f64>() / n;
            (
                m,
                s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
                n,
            )
        };
        let ((m1, v1, n1), (m2, v2, n2)) = (stats(&s1), stats(&s2));
        let p = welch(m1, v1, n1, m2, v2, n2);
        assert!((p - 0.021).abs() < 0.0005, "{p}");
        // Known values of I_x: a uniform (1, 1) is x, and the symmetric (2, 2) at 1/2 is 1/2.
        assert!((inc_beta(0.3, 1.0, 1.0) - 0.3).abs() < 1e-12);
        assert!((inc_beta(0.5, 2.0, 2.0) - 0.5).abs() < 1e-12);
        assert!((beta_inv(inc_beta(0.37, 3.5, 7.25), 3.5, 7.25) - 0.37).abs() < 1e-12);
        // Degenerate input is NaN or null, never a panic or a hang.
        let v = |x: &[f64]| x.iter().map(|f| Value::Real(*f)).collect::<Vec<_>>();
        assert!(
            matches!(beta3(&v(&[0.5, 0.0, 2.0]), |_, _, _| Some(1.0)), Value::Real(r) if r.is_nan())
        );
        assert!(matches!(
            beta3(
                &[Value::Null, Value::Real(1.0), Value::Real(1.0)],
                |_, _, _| Some(1.0)
            ),
            Value::Null
        ));
        assert!(welch(1.0, 0.0, 1.0, 1.0, 0.0, 1.0).is_nan());
        // Extreme shapes end (the continued fraction stops at 500 terms) in [0, 1] or NaN.
        let v = inc_beta(0.5, 1e300, 1e-300);
        assert!(v.is_nan() || (0.0..=1.0).contains(&v), "{v}");
        // A query of many rows stays cheap per row (bounded iterations): 20,000 inverses.
        let start = std::time::Instant::now();
        for i in 1..20_000 {
            let x = beta_inv(0.5, 1.0 + (i % 97) as f64, 2.0 + (i % 89) as f64);
            assert!((0.0..=1.0).contains(&x));
        }
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }
}
