//! Date and time functions: bin, parts, arithmetic, formatting, Unix times.

use super::args::*;
use super::*;

pub(super) fn lookup(name: &str) -> Option<F> {
    let f: F = match name {
        // datetime
        "bin" | "floor" => |a| Ok(bin(arg(a, 0), arg(a, 1))),
        "bin_at" => |a| {
            let (v, size, at) = (arg(a, 0), arg(a, 1), arg(a, 2));
            let shifted = sub(v, at);
            let b = bin(&shifted, size);
            Ok(match (v, &b) {
                (Value::DateTime(_), Value::TimeSpan(x)) => add(at, &Value::TimeSpan(*x)),
                (_, Value::Null) => Value::Null,
                _ => add(&b, at),
            })
        },
        "startofday" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::DateTime(t.div_euclid(DAY) * DAY + long(a, 1).unwrap_or(0) * DAY))
                .unwrap_or(Value::Null))
        },
        "endofday" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    Value::DateTime((t.div_euclid(DAY) + 1 + long(a, 1).unwrap_or(0)) * DAY - 1)
                })
                .unwrap_or(Value::Null))
        },
        "startofweek" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    let days = t.div_euclid(DAY);
                    // 1970-01-01 was a Thursday; weeks start on Sunday.
                    let dow = (days + 4).rem_euclid(7);
                    Value::DateTime((days - dow + 7 * long(a, 1).unwrap_or(0)) * DAY)
                })
                .unwrap_or(Value::Null))
        },
        "startofmonth" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    let (y, m, ..) = datetime_parts(t);
                    Value::DateTime(add_months(
                        make_datetime(y, m, 1, 0, 0, 0, 0),
                        long(a, 1).unwrap_or(0),
                    ))
                })
                .unwrap_or(Value::Null))
        },
        "endofmonth" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    let (y, m, ..) = datetime_parts(t);
                    let start = add_months(
                        make_datetime(y, m, 1, 0, 0, 0, 0),
                        long(a, 1).unwrap_or(0) + 1,
                    );
                    Value::DateTime(start - 1)
                })
                .unwrap_or(Value::Null))
        },
        "startofyear" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    let (y, ..) = datetime_parts(t);
                    Value::DateTime(make_datetime(y + long(a, 1).unwrap_or(0), 1, 1, 0, 0, 0, 0))
                })
                .unwrap_or(Value::Null))
        },
        "week_of_year" | "weekofyear" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::Long(iso_week(t)))
                .unwrap_or(Value::Null))
        },
        "dayofweek" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::TimeSpan((t.div_euclid(DAY) + 4).rem_euclid(7) * DAY))
                .unwrap_or(Value::Null))
        },
        "dayofmonth" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::Long(datetime_parts(t).2 as i64))
                .unwrap_or(Value::Null))
        },
        "dayofyear" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    let (y, ..) = datetime_parts(t);
                    Value::Long(t.div_euclid(DAY) - days_from_civil(y, 1, 1) + 1)
                })
                .unwrap_or(Value::Null))
        },
        "hourofday" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::Long(datetime_parts(t).3 as i64))
                .unwrap_or(Value::Null))
        },
        "getmonth" | "monthofyear" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::Long(datetime_parts(t).1 as i64))
                .unwrap_or(Value::Null))
        },
        "getyear" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::Long(datetime_parts(t).0))
                .unwrap_or(Value::Null))
        },
        "datetime_add" => |a| {
            let part = s(a, 0).to_ascii_lowercase();
            let n = long(a, 1).unwrap_or(0);
            let Some(t) = dt(a, 2) else {
                return Ok(Value::Null);
            };
            Ok(Value::DateTime(match part.as_str() {
                "year" => add_months(t, 12 * n),
                "quarter" => add_months(t, 3 * n),
                "month" => add_months(t, n),
                p => {
                    t + n * unit_ticks(p)
                        .ok_or_else(|| err(format!("unknown datetime part `{p}`")))?
                }
            }))
        },
        "datetime_diff" => |a| {
            let part = s(a, 0).to_ascii_lowercase();
            let (Some(x), Some(y)) = (dt(a, 1), dt(a, 2)) else {
                return Ok(Value::Null);
            };
            let (xy, xm, ..) = datetime_parts(x);
            let (yy, ym, ..) = datetime_parts(y);
            Ok(Value::Long(match part.as_str() {
                "year" => xy - yy,
                "quarter" => (xy * 4 + (xm as i64 - 1) / 3) - (yy * 4 + (ym as i64 - 1) / 3),
                "month" => (xy * 12 + xm as i64) - (yy * 12 + ym as i64),
                "week" => {
                    let w = |t: i64| (t.div_euclid(DAY) + 4).div_euclid(7);
                    w(x) - w(y)
                }
                p => {
                    let u =
                        unit_ticks(p).ok_or_else(|| err(format!("unknown datetime part `{p}`")))?;
                    if u == 0 {
                        (x - y) * 100
                    } else {
                        x.div_euclid(u) - y.div_euclid(u)
                    }
                }
            }))
        },
        "datetime_part" | "datepart" => |a| {
            let part = s(a, 0).to_ascii_lowercase();
            let Some(t) = dt(a, 1) else {
                return Ok(Value::Null);
            };
            let (y, m, d, h, mi, sec, f) = datetime_parts(t);
            Ok(Value::Long(match part.as_str() {
                "year" => y,
                "quarter" => (m as i64 - 1) / 3 + 1,
                "month" => m as i64,
                "day" => d as i64,
                "dayofyear" => t.div_euclid(DAY) - days_from_civil(y, 1, 1) + 1,
                "week_of_year" | "weekofyear" => iso_week(t),
                "hour" => h as i64,
                "minute" => mi as i64,
                "second" => sec as i64,
                "millisecond" => f / MILLISECOND,
                "microsecond" => f / MICROSECOND,
                "nanosecond" => f * 100,
                p => return Err(err(format!("unknown datetime part `{p}`"))),
            }))
        },
        "format_datetime" => |a| {
            Ok(dt(a, 0)
                .map(|t| Value::string(format_dt(t, &s(a, 1))))
                .unwrap_or(Value::empty_str()))
        },
        "format_timespan" => |a| {
            Ok(ts(a, 0)
                .map(|t| {
                    let fmt = s(a, 1);
                    let dd = (t / DAY).abs();
                    let rest = (t % DAY).abs();
                    // A run of `d` is the day count, zero-padded to the run's length; the rest
                    // of the format applies to the time of day.
                    let mut out = String::new();
                    let mut seg = String::new();
                    let chars: Vec<char> = fmt.chars().collect();
                    let mut i = 0;
                    while i < chars.len() {
                        if chars[i] == 'd' {
                            let mut n = 0;
                            while i + n < chars.len() && chars[i + n] == 'd' {
                                n += 1;
                            }
                            out.push_str(&format_dt(rest, &std::mem::take(&mut seg)));
                            out.push_str(&format!("{dd:0n$}"));
                            i += n;
                        } else {
                            seg.push(chars[i]);
                            i += 1;
                        }
                    }
                    out.push_str(&format_dt(rest, &seg));
                    Value::string(if t < 0 { format!("-{out}") } else { out })
                })
                .unwrap_or(Value::empty_str()))
        },
        "make_datetime" => |a| {
            let y = long(a, 0);
            let mo = long(a, 1).unwrap_or(1);
            let d = long(a, 2).unwrap_or(1);
            let h = long(a, 3).unwrap_or(0);
            let mi = long(a, 4).unwrap_or(0);
            let sec = real(a, 5).unwrap_or(0.0);
            Ok(match y {
                Some(y) if (1..=12).contains(&mo) && (1..=31).contains(&d) => Value::DateTime(
                    make_datetime(y, mo as u32, d as u32, h as u32, mi as u32, 0, 0)
                        + (sec * SECOND as f64).round() as i64,
                ),
                _ => Value::Null,
            })
        },
        "make_timespan" => |a| {
            let vals: Vec<f64> = a.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect();
            let t = match vals.len() {
                2 => vals[0] * HOUR as f64 + vals[1] * MINUTE as f64,
                3 => vals[0] * HOUR as f64 + vals[1] * MINUTE as f64 + vals[2] * SECOND as f64,
                4 => {
                    vals[0] * DAY as f64
                        + vals[1] * HOUR as f64
                        + vals[2] * MINUTE as f64
                        + vals[3] * SECOND as f64
                }
                _ => return Ok(Value::Null),
            };
            Ok(Value::TimeSpan(t.round() as i64))
        },
        "unixtime_seconds_todatetime" => {
            |a| Ok(opt_dt(real(a, 0).map(|x| (x * SECOND as f64) as i64)))
        }
        "unixtime_milliseconds_todatetime" => {
            |a| Ok(opt_dt(real(a, 0).map(|x| (x * MILLISECOND as f64) as i64)))
        }
        "unixtime_microseconds_todatetime" => {
            |a| Ok(opt_dt(real(a, 0).map(|x| (x * MICROSECOND as f64) as i64)))
        }
        "unixtime_nanoseconds_todatetime" => |a| Ok(opt_dt(real(a, 0).map(|x| (x / 100.0) as i64))),
        "datetime_utc_to_local" | "datetime_local_to_utc" => {
            |_| Err(EngineError::unsupported("time zone conversion", None))
        }
        _ => return None,
    };
    Some(f)
}

pub(super) fn add_months(t: i64, months: i64) -> i64 {
    let (y, m, d, h, mi, s, f) = datetime_parts(t);
    let total = y * 12 + (m as i64 - 1) + months;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let last = days_in_month(ny, nm);
    make_datetime(ny, nm, d.min(last), h, mi, s, f)
}

pub(super) fn days_in_month(y: i64, m: u32) -> u32 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    (next - days_from_civil(y, m, 1)) as u32
}

pub(super) fn unit_ticks(unit: &str) -> Option<i64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "week" | "weeks" => 7 * DAY,
        "day" | "days" => DAY,
        "hour" | "hours" => HOUR,
        "minute" | "minutes" => MINUTE,
        "second" | "seconds" => SECOND,
        "millisecond" | "milliseconds" => MILLISECOND,
        "microsecond" | "microseconds" => MICROSECOND,
        "nanosecond" | "nanoseconds" => 0,
        _ => return None,
    })
}

pub(super) fn bin(v: &Value, size: &Value) -> Value {
    match (v.unwrap_dynamic(), size.unwrap_dynamic()) {
        (_, Value::Null) | (Value::Null, _) => Value::Null,
        (Value::DateTime(t), Value::TimeSpan(s)) if s > 0 => Value::DateTime(t.div_euclid(s) * s),
        (Value::DateTime(t), Value::Long(d)) if d > 0 => {
            let s = d * DAY;
            Value::DateTime(t.div_euclid(s) * s)
        }
        (Value::TimeSpan(t), Value::TimeSpan(s)) if s > 0 => Value::TimeSpan(t.div_euclid(s) * s),
        (Value::Long(x), Value::Long(s)) if s > 0 => Value::Long(x.div_euclid(s) * s),
        (Value::Long(x), Value::Real(s)) if s > 0.0 => Value::Real((x as f64 / s).floor() * s),
        (Value::Real(x), Value::Long(s)) if s > 0 => Value::Real((x / s as f64).floor() * s as f64),
        (Value::Real(x), Value::Real(s)) if s > 0.0 => Value::Real((x / s).floor() * s),
        _ => Value::Null,
    }
}

pub(super) fn format_dt(t: i64, fmt: &str) -> String {
    let (y, mo, d, h, mi, s, frac) = datetime_parts(t);
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let piece = match c {
            'y' => match n {
                1 => (y % 100).to_string(),
                2 => format!("{:02}", y % 100),
                _ => format!("{y:0n$}"),
            },
            'M' => match n {
                1 => mo.to_string(),
                _ => format!("{mo:02}"),
            },
            'd' => match n {
                1 => d.to_string(),
                _ => format!("{d:02}"),
            },
            'H' => match n {
                1 => h.to_string(),
                _ => format!("{h:02}"),
            },
            'h' => {
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                match n {
                    1 => h12.to_string(),
                    _ => format!("{h12:02}"),
                }
            }
            'm' => match n {
                1 => mi.to_string(),
                _ => format!("{mi:02}"),
            },
            's' => match n {
                1 => s.to_string(),
                _ => format!("{s:02}"),
            },
            'f' | 'F' => {
                let digits = format!("{frac:07}");
                let cut = &digits[..n.min(7)];
                if c == 'F' {
                    cut.trim_end_matches('0').to_string()
                } else {
                    cut.to_string()
                }
            }
            't' => (if h < 12 { "AM" } else { "PM" })[..n.min(2)].to_string(),
            other => std::iter::repeat_n(other, n).collect(),
        };
        out.push_str(&piece);
        i += n;
    }
    out
}

/// ISO 8601 week number of the day `t` (ticks): weeks start on Monday and week 1 holds the
/// year's first Thursday.
pub(super) fn iso_week(t: i64) -> i64 {
    let day = t.div_euclid(DAY);
    let weekday = (day + 3).rem_euclid(7); // Monday = 0
    let thursday = day - weekday + 3;
    let (y, ..) = crate::engine::value::civil_from_days(thursday);
    (thursday - days_from_civil(y, 1, 1)) / 7 + 1
}
