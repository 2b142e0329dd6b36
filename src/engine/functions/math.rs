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
