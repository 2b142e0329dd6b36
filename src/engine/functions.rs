//! Scalar functions and arithmetic with Kusto's rules.
//!
//! A function is a row-wise `fn(&[Value]) -> R<Value>`; [`call`] applies it to columns (once
//! when every argument is constant). Unknown names fail with "not supported yet".

use super::codec::{base64_decode, base64_encode, url_decode};
use super::error::{EngineError, R};
use super::ir::Span;
use super::table::{Cv, Data};
use super::value::*;

type F = fn(&[Value]) -> R<Value>;

fn err(msg: impl Into<String>) -> EngineError {
    EngineError::new(msg, None)
}

pub use super::regexes::{re2_to_rust, regex, rust_regex};

/// Whether a name is a scalar function (some names are both, like `min`/`max` in other
/// engines; in Kusto they are aggregations only).
pub fn is_scalar(name: &str) -> bool {
    lookup(name).is_some()
}

/// Apply a scalar function to columns.
pub fn call(name: &str, args: Vec<Cv>, n: usize, span: Span) -> R<Cv> {
    let Some(f) = lookup(name) else {
        return Err(EngineError::unsupported(
            format!("function {name}()"),
            Some(span),
        ));
    };
    let with_span = |mut e: EngineError| {
        if e.span.is_none() {
            e.span = Some(span);
        }
        e
    };
    if args.iter().all(|a| matches!(a, Cv::Const(_))) {
        let vals: Vec<Value> = args.iter().map(|a| a.get(0).clone()).collect();
        return f(&vals).map(Cv::Const).map_err(with_span);
    }
    let mut buf: Vec<Value> = Vec::with_capacity(args.len());
    // One dictionary column and constants: once per dictionary entry (functions are pure;
    // an entry that fails, perhaps one no row uses, sends the call down the per-row path,
    // which reports the row's error if there is one).
    let cols: Vec<usize> = (0..args.len()).filter(|&i| !args[i].is_const()).collect();
    if let [c] = cols[..] {
        if let Cv::Col(Data::Dict(keys, dict)) = &args[c] {
            if dict.len() <= n && keys.len() == n {
                let mut out = Vec::with_capacity(dict.len());
                for v in dict.iter() {
                    buf.clear();
                    buf.extend(args.iter().enumerate().map(|(i, a)| {
                        if i == c {
                            v.clone()
                        } else {
                            a.get(0).clone()
                        }
                    }));
                    match f(&buf) {
                        Ok(r) => out.push(r),
                        Err(_) => break,
                    }
                }
                if out.len() == dict.len() {
                    return Ok(Cv::Col(Data::Dict(keys.clone(), std::sync::Arc::new(out))));
                }
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        buf.clear();
        buf.extend(args.iter().map(|a| a.get(i).clone()));
        out.push(f(&buf).map_err(with_span)?);
    }
    Ok(Cv::Col(Data::new(out)))
}

fn arg(a: &[Value], i: usize) -> &Value {
    static NULL: Value = Value::Null;
    a.get(i).unwrap_or(&NULL)
}

fn s(a: &[Value], i: usize) -> String {
    arg(a, i).to_kusto_string()
}

fn long(a: &[Value], i: usize) -> Option<i64> {
    arg(a, i).as_i64()
}

fn real(a: &[Value], i: usize) -> Option<f64> {
    arg(a, i).as_f64()
}

fn json(v: serde_json::Value) -> Value {
    Value::dynamic(v)
}

fn bits2(a: &[Value], f: impl Fn(i64, i64) -> i64) -> Value {
    match (long(a, 0), long(a, 1)) {
        (Some(x), Some(y)) => Value::Long(f(x, y)),
        _ => Value::Null,
    }
}

/// Kusto's `geo_distance_2points`: the great-circle distance in meters on a sphere of radius
/// 6,371,010 m (haversine; matches the documentation's Seattle-Los Angeles example to the
/// printed digits); `None` for coordinates out of range.
fn geo_distance(lo1: f64, la1: f64, lo2: f64, la2: f64) -> Option<f64> {
    let ok = |lo: f64, la: f64| (-180.0..=180.0).contains(&lo) && (-90.0..=90.0).contains(&la);
    if !ok(lo1, la1) || !ok(lo2, la2) {
        return None;
    }
    let (p1, p2) = (la1.to_radians(), la2.to_radians());
    let (dp, dl) = (p2 - p1, (lo2 - lo1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    Some(2.0 * 6_371_010.0 * h.sqrt().min(1.0).asin())
}

fn opt_real(r: Option<f64>) -> Value {
    r.map(Value::Real).unwrap_or(Value::Null)
}

// ---- arithmetic ----

pub fn negate(v: &Value) -> Value {
    match v.unwrap_dynamic() {
        Value::Long(i) => Value::Long(i.wrapping_neg()),
        Value::Real(r) => Value::Real(-r),
        Value::TimeSpan(t) => Value::TimeSpan(-t),
        _ => Value::Null,
    }
}

pub fn add(a: &Value, b: &Value) -> Value {
    use Value::*;
    match (a.unwrap_dynamic(), b.unwrap_dynamic()) {
        (Long(x), Long(y)) => Long(x.wrapping_add(y)),
        (Long(x), Real(y)) => Real(x as f64 + y),
        (Real(x), Long(y)) => Real(x + y as f64),
        (Real(x), Real(y)) => Real(x + y),
        (DateTime(x), TimeSpan(y)) | (TimeSpan(y), DateTime(x)) => DateTime(x + y),
        (TimeSpan(x), TimeSpan(y)) => TimeSpan(x + y),
        _ => Null,
    }
}

pub fn sub(a: &Value, b: &Value) -> Value {
    use Value::*;
    match (a.unwrap_dynamic(), b.unwrap_dynamic()) {
        (Long(x), Long(y)) => Long(x.wrapping_sub(y)),
        (Long(x), Real(y)) => Real(x as f64 - y),
        (Real(x), Long(y)) => Real(x - y as f64),
        (Real(x), Real(y)) => Real(x - y),
        (DateTime(x), DateTime(y)) => TimeSpan(x - y),
        (DateTime(x), TimeSpan(y)) => DateTime(x - y),
        (TimeSpan(x), TimeSpan(y)) => TimeSpan(x - y),
        _ => Null,
    }
}

pub fn mul(a: &Value, b: &Value) -> Value {
    use Value::*;
    match (a.unwrap_dynamic(), b.unwrap_dynamic()) {
        (Long(x), Long(y)) => Long(x.wrapping_mul(y)),
        (Long(x), Real(y)) => Real(x as f64 * y),
        (Real(x), Long(y)) => Real(x * y as f64),
        (Real(x), Real(y)) => Real(x * y),
        (TimeSpan(x), Long(y)) | (Long(y), TimeSpan(x)) => TimeSpan(x * y),
        (TimeSpan(x), Real(y)) | (Real(y), TimeSpan(x)) => TimeSpan((x as f64 * y) as i64),
        _ => Null,
    }
}

pub fn div(a: &Value, b: &Value) -> Value {
    use Value::*;
    match (a.unwrap_dynamic(), b.unwrap_dynamic()) {
        (Long(_), Long(0)) => Null,
        (Long(x), Long(y)) => Long(x / y),
        (Long(x), Real(y)) => Real(x as f64 / y),
        (Real(x), Long(y)) => Real(x / y as f64),
        (Real(x), Real(y)) => Real(x / y),
        (TimeSpan(x), TimeSpan(y)) if y != 0 => Real(x as f64 / y as f64),
        (TimeSpan(x), Long(y)) if y != 0 => TimeSpan(x / y),
        (TimeSpan(x), Real(y)) => TimeSpan((x as f64 / y) as i64),
        _ => Null,
    }
}

pub fn modulo(a: &Value, b: &Value) -> Value {
    use Value::*;
    match (a.unwrap_dynamic(), b.unwrap_dynamic()) {
        (Long(_), Long(0)) => Null,
        (Long(x), Long(y)) => Long(x % y),
        (Real(x), Real(y)) => Real(x % y),
        (Long(x), Real(y)) => Real(x as f64 % y),
        (Real(x), Long(y)) => Real(x % y as f64),
        (TimeSpan(x), TimeSpan(y)) if y != 0 => TimeSpan(x % y),
        _ => Null,
    }
}

// ---- dynamic access ----

pub fn member(v: &Value, prop: &str) -> Value {
    match v {
        Value::Dyn(d) => match d.get(prop) {
            Some(x) => Value::dynamic(x.clone()),
            None => Value::dynamic(serde_json::Value::Null),
        },
        Value::Str(s) => {
            // Kusto parses JSON strings accessed as dynamic only via parse_json; a string
            // column with a property access is an error in Kusto, null here.
            let _ = s;
            Value::Null
        }
        _ => Value::Null,
    }
}

pub fn index(v: &Value, i: &Value) -> Value {
    let Value::Dyn(d) = v else {
        return Value::Null;
    };
    let out = match i.unwrap_dynamic() {
        Value::Long(k) => match &**d {
            serde_json::Value::Array(a) => {
                let k = if k < 0 { a.len() as i64 + k } else { k };
                if k >= 0 {
                    a.get(k as usize).cloned()
                } else {
                    None
                }
            }
            _ => None,
        },
        Value::Str(k) => d.get(&*k).cloned(),
        _ => None,
    };
    Value::dynamic(out.unwrap_or(serde_json::Value::Null))
}

fn as_array(v: &Value) -> Option<Vec<serde_json::Value>> {
    match v {
        Value::Dyn(d) => match &**d {
            serde_json::Value::Array(a) => Some(a.clone()),
            _ => None,
        },
        Value::Str(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Array(a)) => Some(a),
            _ => None,
        },
        _ => None,
    }
}

fn parse_json_value(v: &Value) -> Value {
    match v {
        Value::Dyn(_) => v.clone(),
        Value::Str(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(j) => json(j),
            Err(_) => json(serde_json::Value::String(s.to_string())),
        },
        Value::Null => json(serde_json::Value::Null),
        other => json(other.to_json()),
    }
}

// ---- datetime helpers ----

fn dt(a: &[Value], i: usize) -> Option<i64> {
    match arg(a, i).unwrap_dynamic() {
        Value::DateTime(t) => Some(t),
        Value::Str(s) => parse_datetime(&s),
        _ => None,
    }
}

fn ts(a: &[Value], i: usize) -> Option<i64> {
    match arg(a, i).unwrap_dynamic() {
        Value::TimeSpan(t) => Some(t),
        Value::Long(d) => Some(d * DAY),
        Value::Real(d) => Some((d * DAY as f64) as i64),
        Value::Str(s) => parse_timespan_text(&s),
        _ => None,
    }
}

fn add_months(t: i64, months: i64) -> i64 {
    let (y, m, d, h, mi, s, f) = datetime_parts(t);
    let total = y * 12 + (m as i64 - 1) + months;
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    let last = days_in_month(ny, nm);
    make_datetime(ny, nm, d.min(last), h, mi, s, f)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    (next - days_from_civil(y, m, 1)) as u32
}

fn unit_ticks(unit: &str) -> Option<i64> {
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

fn bin(v: &Value, size: &Value) -> Value {
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

fn format_dt(t: i64, fmt: &str) -> String {
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

// ---- IP ----

/// `a.b.c.d` or `a.b.c.d/n`: the address and the prefix length.
pub(crate) fn parse_ipv4_prefix(s: &str) -> Option<(u32, u32)> {
    let (addr, bits) = match s.trim().split_once('/') {
        Some((a, b)) => (a, b.trim().parse::<u32>().ok()?),
        None => (s.trim(), 32),
    };
    if bits > 32 {
        return None;
    }
    let ip: std::net::Ipv4Addr = addr.trim().parse().ok()?;
    Some((u32::from(ip), bits))
}

/// ISO 8601 week number of the day `t` (ticks): weeks start on Monday and week 1 holds the
/// year's first Thursday.
fn iso_week(t: i64) -> i64 {
    let day = t.div_euclid(DAY);
    let weekday = (day + 3).rem_euclid(7); // Monday = 0
    let thursday = day - weekday + 3;
    let (y, ..) = super::value::civil_from_days(thursday);
    (thursday - days_from_civil(y, 1, 1)) / 7 + 1
}

fn mask(bits: u32) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    }
}

/// The address of `format_ipv4` / `format_ipv4_mask` (a number or `a.b.c.d[/n]`) under the
/// smaller of its own prefix and the mask argument (default 32): the masked address and the
/// prefix length. A mask outside 0..=32 gives none (the functions then return "").
fn ipv4_masked(a: &[Value]) -> Option<(u32, u32)> {
    let bits = match arg(a, 1) {
        Value::Null if a.len() < 2 => 32,
        _ => u32::try_from(long(a, 1)?).ok().filter(|b| *b <= 32)?,
    };
    let (x, b) = match long(a, 0) {
        Some(x) if (0..=u32::MAX as i64).contains(&x) => (x as u32, 32),
        _ => parse_ipv4_prefix(&s(a, 0))?,
    };
    let b = b.min(bits);
    Some((x & mask(b), b))
}

/// The fewest CIDR blocks covering `lo..=hi` in order (empty when `lo > hi`).
fn cidr_blocks(lo: u32, hi: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let (mut cur, hi) = (lo as u64, hi as u64);
    while cur <= hi {
        // The largest block aligned at `cur` that stays inside the range.
        let mut size = if cur == 0 {
            1u64 << 32
        } else {
            1u64 << cur.trailing_zeros().min(32)
        };
        while cur + size - 1 > hi {
            size >>= 1;
        }
        out.push((cur as u32, 32 - size.trailing_zeros()));
        cur += size;
    }
    out
}

/// The IPv4 addresses in text, delimited by non-alphanumeric characters: runs of letters,
/// digits and dots that are four octets of 0-255 (`1.2.3.4.5`, `x1.2.3.4` and `54127.0.0.1`
/// are not addresses).
fn ipv4_in_text(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|run| valid_ipv4(run))
}

fn valid_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u32>().is_ok_and(|n| n <= 255))
}

/// A complete address, or one to three octets ending with a dot (`192.`, `10.0.`).
fn valid_ipv4_prefix(p: &str) -> bool {
    if valid_ipv4(p) {
        return true;
    }
    let Some(body) = p.strip_suffix('.') else {
        return false;
    };
    let parts: Vec<&str> = body.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|x| !x.is_empty() && x.len() <= 3 && x.parse::<u32>().is_ok_and(|n| n <= 255))
}

/// `has_any_ipv4(text, ip, ...)` / `has_any_ipv4_prefix(text, prefix, ...)`: each lookup a
/// string or a dynamic array of them.
fn has_any_ipv4(a: &[Value], prefix: bool) -> bool {
    let text = s(a, 0);
    let mut lookups: Vec<String> = Vec::new();
    for v in a.iter().skip(1) {
        match as_array(v) {
            Some(items) if matches!(v.unwrap_dynamic(), Value::Dyn(_)) => lookups.extend(
                items
                    .iter()
                    .map(|x| Value::dynamic(x.clone()).to_kusto_string()),
            ),
            _ => lookups.push(v.to_kusto_string()),
        }
    }
    lookups.retain(|l| {
        if prefix {
            valid_ipv4_prefix(l)
        } else {
            valid_ipv4(l)
        }
    });
    let found = ipv4_in_text(&text).any(|ip| {
        lookups.iter().any(|l| {
            if prefix {
                ip.starts_with(l.as_str())
            } else {
                ip == l
            }
        })
    });
    found
}

fn ipv4_in_range(ip: &str, range: &str) -> Option<bool> {
    let (a, abits) = parse_ipv4_prefix(ip)?;
    let (r, bits) = parse_ipv4_prefix(range)?;
    let m = mask(bits.min(abits));
    Some(a & m == r & m)
}

fn ipv4_private(ip: &str) -> Option<bool> {
    let (a, _) = parse_ipv4_prefix(ip)?;
    Some(
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .any(|r| {
                let (n, b) = parse_ipv4_prefix(r).expect("valid range");
                a & mask(b) == n & mask(b)
            }),
    )
}

// ---- the table ----

fn lookup(name: &str) -> Option<F> {
    let f: F = match name {
        // conversions
        "tostring" | "string" => |a| Ok(Value::string(s(a, 0))),
        "toint" | "int" | "tolong" | "long" => |a| {
            Ok(match arg(a, 0).unwrap_dynamic() {
                Value::Real(r) if r.is_finite() => Value::Long(r as i64),
                Value::Str(st) => parse_long(&st).map(Value::Long).unwrap_or(Value::Null),
                Value::DateTime(_) | Value::TimeSpan(_) => {
                    arg(a, 0).as_i64().map(Value::Long).unwrap_or(Value::Null)
                }
                other => other.as_i64().map(Value::Long).unwrap_or(Value::Null),
            })
        },
        "toreal" | "todouble" | "real" | "double" | "todecimal" | "decimal" => {
            |a| Ok(opt_real(real(a, 0)))
        }
        "tobool" | "toboolean" | "bool" => {
            |a| Ok(arg(a, 0).as_bool().map(Value::Bool).unwrap_or(Value::Null))
        }
        "todatetime" | "datetime" => |a| Ok(arg(a, 0).cast(Type::DateTime)),
        "totimespan" | "timespan" | "time" | "totime" => |a| Ok(arg(a, 0).cast(Type::TimeSpan)),
        "todynamic" | "parse_json" | "parsejson" | "dynamic" | "toobject" => {
            |a| Ok(parse_json_value(arg(a, 0)))
        }
        "parse_xml" => super::xml::parse_xml,
        "toguid" | "guid" => |a| Ok(Value::string(s(a, 0))),
        "tohex" => |a| {
            // Negative values in two's complement, 32-bit when they fit an int; an optional
            // minimum length pads with zeros.
            let width = long(a, 1).unwrap_or(0).clamp(0, 64) as usize;
            Ok(match long(a, 0) {
                Some(x) => {
                    let h = if x < 0 && x >= i32::MIN as i64 {
                        format!("{:x}", x as i32)
                    } else {
                        format!("{x:x}")
                    };
                    Value::string(format!("{h:0>width$}"))
                }
                None => Value::Null,
            })
        },
        "gettype" => |a| {
            Ok(Value::str(match arg(a, 0) {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Long(_) => "long",
                Value::Real(_) => "real",
                Value::DateTime(_) => "datetime",
                Value::TimeSpan(_) => "timespan",
                Value::Str(_) => "string",
                Value::Dyn(d) => match &**d {
                    serde_json::Value::Array(_) => "array",
                    serde_json::Value::Object(_) => "dictionary",
                    serde_json::Value::String(_) => "string",
                    serde_json::Value::Number(n) if n.is_i64() => "long",
                    serde_json::Value::Number(_) => "real",
                    serde_json::Value::Bool(_) => "bool",
                    serde_json::Value::Null => "null",
                },
            }))
        },
        // logic
        "iff" | "iif" => |a| {
            Ok(if arg(a, 0).truthy() {
                arg(a, 1).clone()
            } else {
                arg(a, 2).clone()
            })
        },
        "case" => |a| {
            let mut i = 0;
            while i + 1 < a.len() {
                if a[i].truthy() {
                    return Ok(a[i + 1].clone());
                }
                i += 2;
            }
            Ok(a.last().cloned().unwrap_or(Value::Null))
        },
        "not" => |a| {
            Ok(arg(a, 0)
                .as_bool()
                .map(|b| Value::Bool(!b))
                .unwrap_or(Value::Null))
        },
        "coalesce" => |a| {
            Ok(a.iter()
                .find(|v| !v.is_null() && !matches!(v, Value::Str(s) if s.is_empty()))
                .cloned()
                .unwrap_or_else(|| a.first().cloned().unwrap_or(Value::Null)))
        },
        "isnull" => |a| {
            Ok(Value::Bool(match arg(a, 0) {
                Value::Str(_) => false,
                v => v.is_null(),
            }))
        },
        "isnotnull" | "notnull" => |a| {
            Ok(Value::Bool(match arg(a, 0) {
                Value::Str(_) => true,
                v => !v.is_null(),
            }))
        },
        "isempty" => |a| Ok(Value::Bool(arg(a, 0).is_empty())),
        "isnotempty" | "notempty" => |a| Ok(Value::Bool(!arg(a, 0).is_empty())),
        "isnan" => |a| Ok(Value::Bool(real(a, 0).is_some_and(f64::is_nan))),
        "isinf" => |a| Ok(Value::Bool(real(a, 0).is_some_and(f64::is_infinite))),
        "isfinite" => |a| Ok(Value::Bool(real(a, 0).is_some_and(f64::is_finite))),
        // strings
        "strlen" => |a| Ok(Value::Long(s(a, 0).chars().count() as i64)),
        "string_size" => |a| Ok(Value::Long(s(a, 0).len() as i64)),
        "tolower" => |a| Ok(Value::string(s(a, 0).to_lowercase())),
        "toupper" => |a| Ok(Value::string(s(a, 0).to_uppercase())),
        "strcat" => |a| {
            Ok(Value::string(
                a.iter().map(|v| v.to_kusto_string()).collect(),
            ))
        },
        "strcat_delim" => |a| {
            let d = s(a, 0);
            Ok(Value::string(
                a.iter()
                    .skip(1)
                    .map(|v| v.to_kusto_string())
                    .collect::<Vec<_>>()
                    .join(&d),
            ))
        },
        "substring" => |a| {
            let text: Vec<char> = s(a, 0).chars().collect();
            // A negative start counts from the end.
            let start = match long(a, 1).unwrap_or(0) {
                x if x < 0 => (text.len() as i64 + x).max(0) as usize,
                x => x as usize,
            };
            let len = match a.get(2) {
                Some(v) if !v.is_null() => v.as_i64().unwrap_or(0).max(0) as usize,
                _ => usize::MAX,
            };
            if start >= text.len() {
                return Ok(Value::empty_str());
            }
            let end = start.saturating_add(len).min(text.len());
            Ok(Value::string(text[start..end].iter().collect()))
        },
        "indexof" => |a| {
            // indexof(source, lookup [, start [, length [, occurrence]]]): the occurrence-th
            // match inside the `length` characters (-1: to the end) from `start` (from the end
            // when negative); -1 when there is none.
            let chars: Vec<char> = s(a, 0).chars().collect();
            let needle: Vec<char> = s(a, 1).chars().collect();
            let len = chars.len() as i64;
            let start = match long(a, 2).unwrap_or(0) {
                x if x < 0 => (len + x).max(0),
                x => x,
            };
            if start > len {
                return Ok(Value::Long(-1));
            }
            let end = match long(a, 3).unwrap_or(-1) {
                x if x < -1 => return Ok(Value::Null),
                -1 => len,
                x => (start + x).min(len),
            };
            let occurrence = long(a, 4).unwrap_or(1);
            if occurrence < 1 {
                return Ok(Value::Null);
            }
            let mut seen = 0;
            let mut i = start;
            while i + needle.len() as i64 <= end {
                let at = i as usize;
                if chars[at..at + needle.len()] == needle[..] {
                    seen += 1;
                    if seen == occurrence {
                        return Ok(Value::Long(i));
                    }
                }
                i += 1;
            }
            Ok(Value::Long(-1))
        },
        "split" => |a| {
            let text = s(a, 0);
            let d = s(a, 1);
            let parts: Vec<serde_json::Value> = if d.is_empty() {
                vec![serde_json::Value::String(text.clone())]
            } else {
                text.split(d.as_str())
                    .map(|p| serde_json::Value::String(p.to_string()))
                    .collect()
            };
            match a.get(2) {
                Some(i) if !i.is_null() => {
                    let k = i.as_i64().unwrap_or(0);
                    Ok(json(serde_json::Value::Array(
                        parts.get(k.max(0) as usize).cloned().into_iter().collect(),
                    )))
                }
                _ => Ok(json(serde_json::Value::Array(parts))),
            }
        },
        "replace_string" => |a| Ok(Value::string(s(a, 0).replace(&s(a, 1), &s(a, 2)))),
        "replace_regex" => |a| {
            let re = regex(&s(a, 1))?;
            Ok(Value::string(
                re.replace_all(&s(a, 0), kusto_rewrite(&s(a, 2)))
                    .into_owned(),
            ))
        },
        "replace" => |a| {
            // replace(regex, rewrite, text)
            let re = regex(&s(a, 0))?;
            Ok(Value::string(
                re.replace_all(&s(a, 2), kusto_rewrite(&s(a, 1)))
                    .into_owned(),
            ))
        },
        "trim" => |a| {
            let p = re2_to_rust(&s(a, 0))?;
            let re = rust_regex(&format!("^(?:{p})+|(?:{p})+$"))?;
            Ok(Value::string(re.replace_all(&s(a, 1), "").into_owned()))
        },
        "trim_start" => |a| {
            let re = rust_regex(&format!("^(?:{})+", re2_to_rust(&s(a, 0))?))?;
            Ok(Value::string(re.replace_all(&s(a, 1), "").into_owned()))
        },
        "trim_end" => |a| {
            let re = rust_regex(&format!("(?:{})+$", re2_to_rust(&s(a, 0))?))?;
            Ok(Value::string(re.replace_all(&s(a, 1), "").into_owned()))
        },
        "reverse" => |a| {
            Ok(Value::string(
                super::hashes::full_text(arg(a, 0)).chars().rev().collect(),
            ))
        },
        "strrep" => |a| {
            let n = long(a, 1).unwrap_or(0).clamp(0, 1_000_000) as usize;
            let d = s(a, 2);
            Ok(Value::string(vec![s(a, 0); n].join(&d)))
        },
        "countof" => |a| {
            let text = s(a, 0);
            let what = s(a, 1);
            if s(a, 2) == "regex" {
                let re = regex(&what)?;
                return Ok(Value::Long(re.find_iter(&text).count() as i64));
            }
            if what.is_empty() {
                return Ok(Value::Long(0));
            }
            // Plain-text matches may overlap ("aa" occurs twice in "aaa").
            let mut n = 0i64;
            let mut from = 0usize;
            while let Some(i) = text[from..].find(what.as_str()) {
                n += 1;
                from += i + text[from + i..].chars().next().map_or(1, char::len_utf8);
            }
            Ok(Value::Long(n))
        },
        "strcmp" => |a| {
            Ok(Value::Long(match s(a, 0).cmp(&s(a, 1)) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }))
        },
        "extract" => |a| {
            let re = regex(&s(a, 0))?;
            let group = long(a, 1).unwrap_or(0).max(0) as usize;
            let text = s(a, 2);
            let v = re
                .captures(&text)
                .and_then(|c| c.get(group).map(|m| m.as_str().to_string()));
            Ok(match (v, a.get(3)) {
                (Some(x), Some(ty)) => Value::string(x).cast(Type::parse(&ty.to_kusto_string())),
                (Some(x), None) => Value::string(x),
                (None, _) => Value::empty_str(),
            })
        },
        "extract_all" => |a| {
            let re = regex(&s(a, 0))?;
            let (groups, text) = if a.len() >= 3 {
                (as_array(arg(a, 1)), s(a, 2))
            } else {
                (None, s(a, 1))
            };
            let mut out = Vec::new();
            for c in re.captures_iter(&text) {
                let caps = re.captures_len() - 1;
                let item = match &groups {
                    Some(g) => serde_json::Value::Array(
                        g.iter()
                            .map(|k| {
                                // A group by number or by name (`(?P<first>...)`).
                                let m = match k {
                                    serde_json::Value::String(name) => c.name(name),
                                    k => c.get(k.as_i64().unwrap_or(0) as usize),
                                };
                                serde_json::Value::String(
                                    m.map(|m| m.as_str().to_string()).unwrap_or_default(),
                                )
                            })
                            .collect(),
                    ),
                    None if caps <= 1 => serde_json::Value::String(
                        c.get(caps)
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_default(),
                    ),
                    None => serde_json::Value::Array(
                        (1..=caps)
                            .map(|k| {
                                serde_json::Value::String(
                                    c.get(k).map(|m| m.as_str().to_string()).unwrap_or_default(),
                                )
                            })
                            .collect(),
                    ),
                };
                out.push(item);
            }
            if out.is_empty() {
                return Ok(Value::Null);
            }
            Ok(json(serde_json::Value::Array(out)))
        },
        "extractjson" | "extract_json" => |a| {
            let doc = match arg(a, 1) {
                Value::Dyn(d) => (**d).clone(),
                other => {
                    match serde_json::from_str::<serde_json::Value>(&other.to_kusto_string()) {
                        Ok(j) => j,
                        Err(_) => return Ok(Value::Null),
                    }
                }
            };
            let found = json_path(&doc, &s(a, 0)).cloned();
            let v = match found {
                Some(serde_json::Value::String(x)) => Value::string(x),
                Some(j) => Value::dynamic(j).unwrap_dynamic(),
                None => return Ok(Value::Null),
            };
            Ok(match a.get(2) {
                Some(ty) => v.cast(Type::parse(&ty.to_kusto_string())),
                None => Value::string(v.to_kusto_string()),
            })
        },
        "endofyear" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    let (y, ..) = datetime_parts(t);
                    Value::DateTime(
                        make_datetime(y + 1 + long(a, 1).unwrap_or(0), 1, 1, 0, 0, 0, 0) - 1,
                    )
                })
                .unwrap_or(Value::Null))
        },
        "endofweek" => |a| {
            Ok(dt(a, 0)
                .map(|t| {
                    let days = t.div_euclid(DAY);
                    let dow = (days + 4).rem_euclid(7);
                    Value::DateTime((days - dow + 7 * (1 + long(a, 1).unwrap_or(0))) * DAY - 1)
                })
                .unwrap_or(Value::Null))
        },
        "parse_command_line" => |a| {
            // Windows rules: whitespace separates arguments, double quotes group them.
            let text = s(a, 0);
            let mut args: Vec<serde_json::Value> = Vec::new();
            let mut cur = String::new();
            let (mut quoted, mut any) = (false, false);
            for c in text.chars() {
                match c {
                    '"' => {
                        quoted = !quoted;
                        any = true;
                    }
                    c if c.is_whitespace() && !quoted => {
                        if any {
                            args.push(serde_json::Value::String(std::mem::take(&mut cur)));
                            any = false;
                        }
                    }
                    c => {
                        cur.push(c);
                        any = true;
                    }
                }
            }
            if any {
                args.push(serde_json::Value::String(cur));
            }
            Ok(json(serde_json::Value::Array(args)))
        },
        "url_decode" => |a| Ok(Value::string(url_decode(&s(a, 0)))),
        "url_encode" => |a| Ok(Value::string(url_encode_form(&s(a, 0)))),
        "url_encode_component" => |a| Ok(Value::string(url_encode(&s(a, 0)))),
        "base64_decode_tostring" | "base64_decodestring" => |a| {
            // Bytes that are not UTF-8 give null (the base64_decode_tostring page).
            Ok(match base64_decode(&s(a, 0)).map(String::from_utf8) {
                Some(Ok(t)) => Value::string(t),
                Some(Err(_)) => Value::Null,
                None => Value::empty_str(),
            })
        },
        "base64_encode_tostring" | "base64_encodestring" => {
            |a| Ok(Value::string(base64_encode(s(a, 0).as_bytes())))
        }
        "parse_url" | "parseurl" => |a| Ok(json(parse_url(&s(a, 0)))),
        "parse_path" => |a| Ok(json(parse_path(&s(a, 0)))),
        "isascii" => |a| Ok(Value::Bool(s(a, 0).is_ascii())),
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
        "degrees" => |a| Ok(opt_real(real(a, 0).map(f64::to_degrees))),
        "radians" => |a| Ok(opt_real(real(a, 0).map(f64::to_radians))),
        "geo_distance_2points" => |a| {
            Ok(opt_real(
                match (real(a, 0), real(a, 1), real(a, 2), real(a, 3)) {
                    (Some(lo1), Some(la1), Some(lo2), Some(la2)) => {
                        geo_distance(lo1, la1, lo2, la2)
                    }
                    _ => None,
                },
            ))
        },
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
        "ipv4_netmask_suffix" => |a| {
            Ok(parse_ipv4_prefix(&s(a, 0))
                .map(|(_, b)| Value::Long(b as i64))
                .unwrap_or(Value::Null))
        },
        "format_ipv4_mask" => |a| {
            Ok(match ipv4_masked(a) {
                Some((x, b)) => Value::string(format!("{}/{b}", std::net::Ipv4Addr::from(x))),
                None => Value::empty_str(),
            })
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
        // math
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
        // dynamic
        "array_length" | "arraylength" => |a| {
            Ok(match as_array(arg(a, 0)) {
                Some(x) => Value::Long(x.len() as i64),
                None => Value::Null,
            })
        },
        "pack" | "bag_pack" | "pack_dictionary" => |a| {
            let mut m = serde_json::Map::new();
            let mut i = 0;
            while i + 1 < a.len() {
                m.insert(a[i].to_kusto_string(), a[i + 1].to_json());
                i += 2;
            }
            Ok(json(serde_json::Value::Object(m)))
        },
        "pack_array" => |a| {
            Ok(json(serde_json::Value::Array(
                a.iter().map(|v| v.to_json()).collect(),
            )))
        },
        "array_concat" => |a| {
            let mut out = Vec::new();
            for v in a {
                out.extend(as_array(v).unwrap_or_default());
            }
            Ok(json(serde_json::Value::Array(out)))
        },
        "array_slice" => |a| {
            let Some(arr) = as_array(arg(a, 0)) else {
                return Ok(Value::Null);
            };
            let n = arr.len() as i64;
            let norm = |x: i64| if x < 0 { (n + x).max(0) } else { x.min(n) };
            let start = norm(long(a, 1).unwrap_or(0));
            let end = norm(long(a, 2).unwrap_or(n - 1)) + 1;
            let end = end.min(n);
            Ok(json(serde_json::Value::Array(if start < end {
                arr[start as usize..end as usize].to_vec()
            } else {
                Vec::new()
            })))
        },
        "array_index_of" => |a| Ok(array_index_of(a)),
        "set_has_element" => |a| {
            let Some(arr) = as_array(arg(a, 0)) else {
                return Ok(Value::Null);
            };
            let needle = arg(a, 1).to_json();
            Ok(Value::Bool(arr.contains(&needle)))
        },
        "array_reverse" => |a| {
            Ok(match as_array(arg(a, 0)) {
                Some(mut x) => {
                    x.reverse();
                    json(serde_json::Value::Array(x))
                }
                None => Value::Null,
            })
        },
        "array_sort_asc" => |a| Ok(sort_arrays(a, false)),
        "array_sort_desc" => |a| Ok(sort_arrays(a, true)),
        "array_sum" => |a| {
            Ok(match as_array(arg(a, 0)) {
                Some(x) => Value::Real(x.iter().filter_map(|v| v.as_f64()).sum()),
                None => Value::Null,
            })
        },
        "array_strcat" | "strcat_array" => |a| {
            Ok(match as_array(arg(a, 0)) {
                Some(x) => Value::string(
                    x.iter()
                        .map(|v| Value::dynamic(v.clone()).to_kusto_string())
                        .collect::<Vec<_>>()
                        .join(&s(a, 1)),
                ),
                None => Value::empty_str(),
            })
        },
        "bag_keys" => |a| {
            Ok(match arg(a, 0) {
                Value::Dyn(d) => match &**d {
                    serde_json::Value::Object(o) => json(serde_json::Value::Array(
                        o.keys()
                            .map(|k| serde_json::Value::String(k.clone()))
                            .collect(),
                    )),
                    _ => Value::Null,
                },
                _ => Value::Null,
            })
        },
        "bag_merge" => |a| {
            let mut m = serde_json::Map::new();
            for v in a {
                if let Value::Dyn(d) = v {
                    if let serde_json::Value::Object(o) = &**d {
                        for (k, x) in o {
                            m.entry(k.clone()).or_insert_with(|| x.clone());
                        }
                    }
                }
            }
            Ok(json(serde_json::Value::Object(m)))
        },
        "bag_remove_keys" => |a| {
            let mut bag = match arg(a, 0).unwrap_dynamic() {
                Value::Dyn(d) if d.is_object() => (*d).clone(),
                _ => return Ok(Value::Null),
            };
            for key in as_array(arg(a, 1)).unwrap_or_default() {
                let Some(path) = key.as_str().and_then(key_path) else {
                    continue;
                };
                let (last, parents) = path.split_last().expect("a path has a key");
                let mut cur = Some(&mut bag);
                for p in parents {
                    cur = cur.and_then(|c| c.get_mut(p.as_str()));
                }
                if let Some(serde_json::Value::Object(o)) = cur {
                    o.shift_remove(last.as_str());
                }
            }
            Ok(json(bag))
        },
        "bag_set_key" => |a| {
            let mut bag = match arg(a, 0).unwrap_dynamic() {
                Value::Dyn(d) if d.is_object() => (*d).clone(),
                _ => return Ok(Value::Null),
            };
            let Some(path) = key_path(&s(a, 1)) else {
                return Ok(Value::Null);
            };
            let (last, parents) = path.split_last().expect("a path has a key");
            let mut cur = &mut bag;
            for p in parents {
                let serde_json::Value::Object(o) = cur else {
                    return Ok(Value::Null);
                };
                cur = o
                    .entry(p.clone())
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
                if !cur.is_object() {
                    *cur = serde_json::Value::Object(Default::default());
                }
            }
            if let serde_json::Value::Object(o) = cur {
                o.insert(last.clone(), arg(a, 2).to_json());
            }
            Ok(json(bag))
        },
        "bag_has_key" => |a| {
            Ok(Value::Bool(match arg(a, 0) {
                Value::Dyn(d) => d.get(s(a, 1)).is_some(),
                _ => false,
            }))
        },
        "set_union" => |a| {
            let mut out: Vec<serde_json::Value> = Vec::new();
            for v in a {
                for x in as_array(v).unwrap_or_default() {
                    if !out.contains(&x) {
                        out.push(x);
                    }
                }
            }
            Ok(json(serde_json::Value::Array(out)))
        },
        "set_intersect" => |a| {
            let arrays: Vec<Vec<serde_json::Value>> =
                a.iter().map(|v| as_array(v).unwrap_or_default()).collect();
            let mut out: Vec<serde_json::Value> = Vec::new();
            if let Some((first, rest)) = arrays.split_first() {
                for x in first {
                    if !out.contains(x) && rest.iter().all(|r| r.contains(x)) {
                        out.push(x.clone());
                    }
                }
            }
            Ok(json(serde_json::Value::Array(out)))
        },
        "set_difference" => |a| {
            let arrays: Vec<Vec<serde_json::Value>> =
                a.iter().map(|v| as_array(v).unwrap_or_default()).collect();
            let mut out: Vec<serde_json::Value> = Vec::new();
            if let Some((first, rest)) = arrays.split_first() {
                for x in first {
                    if !out.contains(x) && !rest.iter().any(|r| r.contains(x)) {
                        out.push(x.clone());
                    }
                }
            }
            Ok(json(serde_json::Value::Array(out)))
        },
        "dynamic_to_json" => |a| Ok(Value::string(arg(a, 0).to_json().to_string())),
        "zip" => |a| {
            let arrays: Vec<Vec<serde_json::Value>> =
                a.iter().map(|v| as_array(v).unwrap_or_default()).collect();
            let n = arrays.iter().map(|x| x.len()).max().unwrap_or(0);
            Ok(json(serde_json::Value::Array(
                (0..n)
                    .map(|i| {
                        serde_json::Value::Array(
                            arrays
                                .iter()
                                .map(|x| x.get(i).cloned().unwrap_or(serde_json::Value::Null))
                                .collect(),
                        )
                    })
                    .collect(),
            )))
        },
        "range" => |a| {
            let (Some(start), Some(stop)) = (real(a, 0), real(a, 1)) else {
                return Ok(Value::Null);
            };
            let step = real(a, 2).unwrap_or(1.0);
            if step == 0.0 {
                return Ok(Value::Null);
            }
            let ints = matches!(arg(a, 0), Value::Long(_))
                && matches!(arg(a, 2), Value::Long(_) | Value::Null);
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x <= stop) || (step < 0.0 && x >= stop) {
                out.push(if ints {
                    serde_json::Value::from(x as i64)
                } else {
                    serde_json::json!(x)
                });
                if out.len() >= 1_048_576 {
                    break;
                }
                x += step;
            }
            Ok(json(serde_json::Value::Array(out)))
        },
        // IP
        "ipv4_is_in_range" => |a| {
            Ok(ipv4_in_range(&s(a, 0), &s(a, 1))
                .map(Value::Bool)
                .unwrap_or(Value::Null))
        },
        "ipv4_is_in_any_range" => |a| {
            let ip = s(a, 0);
            let mut ranges: Vec<String> = Vec::new();
            for v in &a[1.min(a.len())..] {
                match as_array(v) {
                    Some(arr) => ranges.extend(
                        arr.iter()
                            .map(|x| Value::dynamic(x.clone()).to_kusto_string()),
                    ),
                    None => ranges.push(v.to_kusto_string()),
                }
            }
            if parse_ipv4_prefix(&ip).is_none() {
                return Ok(Value::Null);
            }
            Ok(Value::Bool(
                ranges.iter().any(|r| ipv4_in_range(&ip, r) == Some(true)),
            ))
        },
        "ipv4_is_private" => |a| {
            Ok(ipv4_private(&s(a, 0))
                .map(Value::Bool)
                .unwrap_or(Value::Null))
        },
        "ipv4_is_match" => |a| {
            let bits = long(a, 2).unwrap_or(32).clamp(0, 32) as u32;
            Ok(
                match (parse_ipv4_prefix(&s(a, 0)), parse_ipv4_prefix(&s(a, 1))) {
                    (Some((x, xb)), Some((y, yb))) => {
                        let m = mask(bits.min(xb).min(yb));
                        Value::Bool(x & m == y & m)
                    }
                    _ => Value::Null,
                },
            )
        },
        "ipv4_compare" => |a| {
            let bits = long(a, 2).unwrap_or(32).clamp(0, 32) as u32;
            Ok(
                match (parse_ipv4_prefix(&s(a, 0)), parse_ipv4_prefix(&s(a, 1))) {
                    (Some((x, xb)), Some((y, yb))) => {
                        let m = mask(bits.min(xb).min(yb));
                        Value::Long(match (x & m).cmp(&(y & m)) {
                            std::cmp::Ordering::Less => -1,
                            std::cmp::Ordering::Equal => 0,
                            std::cmp::Ordering::Greater => 1,
                        })
                    }
                    _ => Value::Null,
                },
            )
        },
        "parse_ipv4" => |a| {
            Ok(match parse_ipv4_prefix(&s(a, 0)) {
                Some((x, bits)) => Value::Long((x & mask(bits)) as i64),
                None => Value::Null,
            })
        },
        "parse_ipv4_mask" => |a| {
            Ok(match parse_ipv4_prefix(&s(a, 0)) {
                Some((x, _)) => {
                    Value::Long((x & mask(long(a, 1).unwrap_or(32).clamp(0, 32) as u32)) as i64)
                }
                None => Value::Null,
            })
        },
        "format_ipv4" => |a| {
            Ok(match ipv4_masked(a) {
                Some((x, _)) => Value::string(std::net::Ipv4Addr::from(x).to_string()),
                None => Value::empty_str(),
            })
        },
        "ipv4_range_to_cidr_list" => |a| {
            let (Some((lo, _)), Some((hi, _))) =
                (parse_ipv4_prefix(&s(a, 0)), parse_ipv4_prefix(&s(a, 1)))
            else {
                return Ok(Value::Null);
            };
            Ok(json(serde_json::Value::Array(
                cidr_blocks(lo, hi)
                    .into_iter()
                    .map(|(n, b)| format!("{}/{b}", std::net::Ipv4Addr::from(n)).into())
                    .collect(),
            )))
        },
        "has_ipv4" => |a| {
            let ip = s(a, 1);
            Ok(Value::Bool(
                valid_ipv4(&ip) && ipv4_in_text(&s(a, 0)).any(|x| x == ip),
            ))
        },
        "has_ipv4_prefix" => |a| {
            let p = s(a, 1);
            Ok(Value::Bool(
                valid_ipv4_prefix(&p) && ipv4_in_text(&s(a, 0)).any(|x| x.starts_with(&p)),
            ))
        },
        "has_any_ipv4" => |a| Ok(Value::Bool(has_any_ipv4(a, false))),
        "has_any_ipv4_prefix" => |a| Ok(Value::Bool(has_any_ipv4(a, true))),
        "new_guid" => |_| {
            Err(EngineError::unsupported(
                "new_guid() (results would not be reproducible)",
                None,
            ))
        },
        "rand" => |_| {
            Err(EngineError::unsupported(
                "rand() (results would not be reproducible)",
                None,
            ))
        },
        _ => {
            return super::series::lookup(name)
                .or_else(|| super::decompose::lookup(name))
                .or_else(|| super::text::lookup(name))
                .or_else(|| super::arrays::lookup(name))
                .or_else(|| super::hashes::lookup(name))
        }
    };
    Some(f)
}

/// `array_sort_asc` / `array_sort_desc(array1, ..., arrayN [, nulls_last])`: the first array
/// sorted (stably; nulls last unless `nulls_last` is false), the others reordered to match
/// (null for one whose length differs). One array returns the array, several an array of them.
fn sort_arrays(a: &[Value], desc: bool) -> Value {
    let mut args = a;
    let mut nulls_last = true;
    if let Some((Value::Bool(b), rest)) = a.split_last().map(|(l, r)| (l.unwrap_dynamic(), r)) {
        nulls_last = b;
        args = rest;
    }
    let Some(first) = args.first().and_then(as_array) else {
        return Value::Null;
    };
    let keys: Vec<Value> = first
        .iter()
        .map(|x| Value::dynamic(x.clone()).unwrap_dynamic())
        .collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&i, &j| {
        let (p, q) = (&keys[i], &keys[j]);
        match (p.is_null(), q.is_null()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) if nulls_last => std::cmp::Ordering::Greater,
            (true, false) => std::cmp::Ordering::Less,
            (false, true) if nulls_last => std::cmp::Ordering::Less,
            (false, true) => std::cmp::Ordering::Greater,
            _ if desc => sort_cmp(p, q).reverse(),
            _ => sort_cmp(p, q),
        }
    });
    let sorted: Vec<serde_json::Value> = args
        .iter()
        .map(|v| match as_array(v) {
            Some(x) if x.len() == order.len() => {
                serde_json::Value::Array(order.iter().map(|&i| x[i].clone()).collect())
            }
            _ => serde_json::Value::Null,
        })
        .collect();
    match <[serde_json::Value; 1]>::try_from(sorted) {
        Ok([one]) => json(one),
        Err(all) => json(serde_json::Value::Array(all)),
    }
}

/// `array_index_of(array, value [, start [, length [, occurrence]]])`: the index of the
/// `occurrence`-th element equal to `value` among `length` elements from `start` (negative:
/// from the end; length -1: to the end), -1 when absent, null for an occurrence under 1 or a
/// length under -1.
fn array_index_of(a: &[Value]) -> Value {
    let Some(arr) = as_array(arg(a, 0)) else {
        return Value::Null;
    };
    let opt = |i: usize, default: i64| {
        if a.len() > i {
            long(a, i)
        } else {
            Some(default)
        }
    };
    let (Some(start), Some(length), Some(occurrence)) = (opt(2, 0), opt(3, -1), opt(4, 1)) else {
        return Value::Null;
    };
    if length < -1 || occurrence < 1 {
        return Value::Null;
    }
    let n = arr.len() as i64;
    let start = if start < 0 {
        (n + start).max(0)
    } else {
        start.min(n)
    };
    let end = if length == -1 {
        n
    } else {
        start.saturating_add(length).min(n)
    };
    let needle = arg(a, 1).to_json();
    // A number finds a number of the same value (1 finds 1.0).
    let same = |x: &serde_json::Value| {
        *x == needle || (x.is_number() && needle.is_number() && x.as_f64() == needle.as_f64())
    };
    Value::Long(
        arr[start as usize..end as usize]
            .iter()
            .enumerate()
            .filter(|(_, x)| same(x))
            .nth(occurrence as usize - 1)
            .map_or(-1, |(i, _)| start + i as i64),
    )
}

/// A key of `bag_set_key` / `bag_remove_keys`: a root-level key name, or a JSONPath of
/// names (`$.a.b`, `$['a']['b']`); array indexes and the bare root are not keys (None).
fn key_path(key: &str) -> Option<Vec<String>> {
    if !key.trim().starts_with('$') {
        return (!key.is_empty()).then(|| vec![key.to_string()]);
    }
    let out: Vec<String> = json_path_segments(key)?
        .into_iter()
        .map(|s| match s {
            PathSeg::Key(k) => Some(k),
            PathSeg::Index(_) => None,
        })
        .collect::<Option<_>>()?;
    // Deeper paths than `parse_json` accepts would build bags too deep to drop or print.
    (!out.is_empty() && out.len() <= MAX_KEY_DEPTH && out.iter().all(|k| !k.is_empty()))
        .then_some(out)
}

/// The deepest key path `bag_set_key` / `bag_remove_keys` follow (null beyond).
const MAX_KEY_DEPTH: usize = 100;

/// One step of a JSONPath: a key or an array index.
enum PathSeg {
    Key(String),
    Index(usize),
}

/// A JSONPath subset as steps: `$`, `.name`, `['name']`, `[index]` (None when malformed).
fn json_path_segments(path: &str) -> Option<Vec<PathSeg>> {
    let p = path.trim().strip_prefix('$')?;
    let b = p.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                out.push(PathSeg::Key(p[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let end = p[i..].find(']')? + i;
                let inner = p[i + 1..end].trim();
                out.push(match decode_quoted(inner) {
                    Some(k) => PathSeg::Key(k),
                    None => PathSeg::Index(inner.parse::<usize>().ok()?),
                });
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The value at a JSONPath (see [`json_path_segments`]).
fn json_path<'a>(doc: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut cur = doc;
    for seg in json_path_segments(path)? {
        cur = match seg {
            PathSeg::Key(k) => cur.get(k.as_str())?,
            PathSeg::Index(i) => cur.get(i)?,
        };
    }
    Some(cur)
}

fn decode_quoted(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    (s.len() >= 2 && (q == '\'' || q == '"') && s.ends_with(q))
        .then(|| s[1..s.len() - 1].to_string())
}

fn opt_dt(t: Option<i64>) -> Value {
    t.map(Value::DateTime).unwrap_or(Value::Null)
}

/// Kusto rewrite strings use `\1`; the regex crate uses `${1}`.
fn kusto_rewrite(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit()) {
                chars.next();
                out.push_str(&format!("${{{d}}}"));
                continue;
            }
        }
        if c == '$' {
            out.push_str("$$");
            continue;
        }
        out.push(c);
    }
    out
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `url_encode`: form encoding as the url_encode page shows it (space as `+`, lowercase hex,
/// `-_.!*()` kept).
fn url_encode_form(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!*()".contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

fn parse_url(u: &str) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    let (scheme, rest) = match u.split_once("://") {
        Some((s, r)) => (s, r),
        None => return serde_json::Value::Object(m),
    };
    let (authority, path_q) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, p),
        _ => (hostport, ""),
    };
    let (path_q, fragment) = match path_q.split_once('#') {
        Some((p, f)) => (p, f),
        None => (path_q, ""),
    };
    let (path, query) = match path_q.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path_q, ""),
    };
    let (user, pass) = match userinfo.map(|u| u.split_once(':').unwrap_or((u, ""))) {
        Some((u, p)) => (u, p),
        None => ("", ""),
    };
    let mut params = serde_json::Map::new();
    for kv in query.split('&').filter(|x| !x.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        params.insert(k.to_string(), serde_json::Value::String(url_decode(v)));
    }
    for (k, v) in [
        ("Scheme", scheme),
        ("Host", host),
        ("Port", port),
        ("Path", path),
        ("Username", user),
        ("Password", pass),
    ] {
        m.insert(k.into(), serde_json::Value::String(v.to_string()));
    }
    m.insert("Query Parameters".into(), serde_json::Value::Object(params));
    m.insert(
        "Fragment".into(),
        serde_json::Value::String(fragment.to_string()),
    );
    serde_json::Value::Object(m)
}

fn parse_path(p: &str) -> serde_json::Value {
    // `file://C:/temp/file.txt:stream`: a scheme of two or more letters before `://` (one
    // letter is a drive), and an alternate data stream after a `:` in the file name.
    let (scheme, p) = match p.split_once("://") {
        Some((s, rest))
            if s.len() > 1
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) =>
        {
            (s, rest)
        }
        _ => ("", p),
    };
    let sep = if p.contains('\\') { '\\' } else { '/' };
    let (dir, file) = match p.rfind(sep) {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => ("", p),
    };
    let (file, stream) = match file.split_once(':') {
        Some((f, s)) if !dir.is_empty() || p.as_bytes().get(1) != Some(&b':') => (f, s),
        _ => (file, ""),
    };
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let root = if p.len() >= 2 && p.as_bytes()[1] == b':' {
        &p[..2]
    } else {
        ""
    };
    serde_json::json!({
        "Scheme": scheme,
        "RootPath": root,
        "DirectoryPath": dir,
        "DirectoryName": dir.rsplit(sep).next().unwrap_or(""),
        "Filename": file,
        "Extension": ext,
        "AlternateDataStreamName": stream,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, args: &[Value]) -> Value {
        lookup(name).expect("a function")(args).expect("no error")
    }

    #[test]
    fn json_paths_and_command_lines() {
        let doc = Value::str(r#"{"a":{"b":[10,{"c":"x"}]},"k y":1}"#);
        assert_eq!(
            f("extractjson", &[Value::str("$.a.b[1].c"), doc.clone()]).to_kusto_string(),
            "x"
        );
        assert_eq!(
            f(
                "extractjson",
                &[Value::str("$['k y']"), doc.clone(), Value::str("long")]
            )
            .as_i64(),
            Some(1)
        );
        assert!(f("extractjson", &[Value::str("$.nope"), doc]).is_null());
        let args = f(
            "parse_command_line",
            &[Value::str(r#"cmd.exe /c "C:\a b\x.bat" -q"#)],
        );
        assert_eq!(
            args.to_kusto_string(),
            r#"["cmd.exe","/c","C:\\a b\\x.bat","-q"]"#
        );
    }

    #[test]
    fn documented_examples() {
        // Examples from the Kusto function reference pages.
        assert_eq!(f("strlen", &[Value::str("hello")]).as_i64(), Some(5));
        assert_eq!(
            f(
                "substring",
                &[Value::str("123456"), Value::Long(1), Value::Long(2)]
            )
            .to_kusto_string(),
            "23"
        );
        assert_eq!(
            f(
                "substring",
                &[Value::str("ABCD"), Value::Long(0), Value::Long(2)]
            )
            .to_kusto_string(),
            "AB"
        );
        assert_eq!(
            f("indexof", &[Value::str("abcdefg"), Value::str("cde")]).as_i64(),
            Some(2)
        );
        assert_eq!(
            f("indexof", &[Value::str("abcdefg"), Value::str("z")]).as_i64(),
            Some(-1)
        );
        assert_eq!(
            f(
                "strcat_delim",
                &[Value::str("-"), Value::str("a"), Value::str("b")]
            )
            .to_kusto_string(),
            "a-b"
        );
        assert_eq!(
            f("base64_encode_tostring", &[Value::str("Kusto1")]).to_kusto_string(),
            "S3VzdG8x"
        );
        assert_eq!(
            f("base64_decode_tostring", &[Value::str("S3VzdG8=")]).to_kusto_string(),
            "Kusto"
        );
        assert!(f("ipv4_is_private", &[Value::str("192.168.1.1/24")]).truthy());
        assert!(!f("ipv4_is_private", &[Value::str("20.2.3.4")]).truthy());
        let in_range =
            |ip: &str, r: &str| f("ipv4_is_in_range", &[Value::str(ip), Value::str(r)]).truthy();
        assert!(in_range("192.168.1.6", "192.168.1.1/24"));
        assert!(!in_range("192.168.1.6", "192.168.1.1/30"));
        assert_eq!(
            f("parse_ipv4", &[Value::str("127.0.0.1")]).as_i64(),
            Some(2130706433)
        );
        assert_eq!(
            f("parse_ipv4", &[Value::str("192.1.168.1/31")]).as_i64(),
            Some(3221334016)
        );
        assert_eq!(
            f(
                "ipv4_compare",
                &[
                    Value::str("192.168.1.1"),
                    Value::str("192.168.1.255"),
                    Value::Long(24)
                ]
            )
            .as_i64(),
            Some(0)
        );
        assert_eq!(
            f("format_ipv4", &[Value::str("192.168.1.255")]).to_kusto_string(),
            "192.168.1.255"
        );
        assert_eq!(
            f(
                "extract",
                &[
                    Value::str(r"x=([0-9.]+)"),
                    Value::Long(1),
                    Value::str("hello x=45.6|wo")
                ]
            )
            .to_kusto_string(),
            "45.6"
        );
        assert_eq!(
            f(
                "replace_regex",
                &[
                    Value::str("Number is 1"),
                    Value::str(r"is (\d+)"),
                    Value::str(r"was: \1")
                ]
            )
            .to_kusto_string(),
            "Number was: 1"
        );
        assert_eq!(
            f("hash_sha256", &[Value::str("World")]).to_kusto_string(),
            "78ae647dc5544d227130a0682a51e30bc7777fbb6d8a8f17007463a3ecd1d524"
        );
        assert_eq!(
            f("countof", &[Value::str("aaa"), Value::str("a")]).as_i64(),
            Some(3)
        );
        // Plain-text matches overlap (the countof page: "aba" occurs twice in "ababa").
        assert_eq!(
            f("countof", &[Value::str("ababa"), Value::str("aba")]).as_i64(),
            Some(2)
        );
        let d = parse_datetime("2017-01-01T00:00:00Z").unwrap();
        let e = parse_datetime("2000-01-01T00:00:00Z").unwrap();
        assert_eq!(
            f(
                "datetime_diff",
                &[Value::str("year"), Value::DateTime(d), Value::DateTime(e)]
            )
            .as_i64(),
            Some(17)
        );
        let d2 = parse_datetime("2017-10-30T01:10:15Z").unwrap();
        let d3 = parse_datetime("2017-10-30T01:00:00Z").unwrap();
        assert_eq!(
            f(
                "datetime_diff",
                &[
                    Value::str("minute"),
                    Value::DateTime(d2),
                    Value::DateTime(d3)
                ]
            )
            .as_i64(),
            Some(10)
        );
        let t = parse_datetime("2017-01-01T15:18:20Z").unwrap();
        assert_eq!(
            f(
                "format_datetime",
                &[Value::DateTime(t), Value::str("yy-MM-dd [HH:mm:ss]")]
            )
            .to_kusto_string(),
            "17-01-01 [15:18:20]"
        );
        let t = parse_datetime("2017-01-01T15:18:20Z").unwrap();
        assert_eq!(
            f("startofweek", &[Value::DateTime(t)]).to_kusto_string(),
            "2017-01-01T00:00:00Z"
        );
        assert_eq!(
            f(
                "dayofweek",
                &[Value::DateTime(parse_datetime("1947-11-30").unwrap())]
            )
            .to_kusto_string(),
            "00:00:00"
        );
        assert_eq!(
            f(
                "dayofweek",
                &[Value::DateTime(parse_datetime("1970-05-11").unwrap())]
            )
            .to_kusto_string(),
            "1.00:00:00"
        );
        let b = f(
            "bin",
            &[
                Value::DateTime(parse_datetime("1970-05-11 13:45:07").unwrap()),
                Value::TimeSpan(DAY),
            ],
        );
        assert_eq!(b.to_kusto_string(), "1970-05-11T00:00:00Z");
        assert_eq!(
            f("bin", &[Value::Real(4.5), Value::Long(1)]).as_f64(),
            Some(4.0)
        );
        assert_eq!(
            f("bin", &[Value::Long(10), Value::Long(4)]).as_i64(),
            Some(8)
        );
    }
}
