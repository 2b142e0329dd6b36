//! Scalar values with Kusto's semantics: typed nulls, 100-nanosecond datetime and timespan
//! ticks, case rules, and `dynamic` as a first-class JSON value.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::sync::Arc;

pub use crate::kql::catalog::Type;

/// Ticks (100 ns) per unit.
pub const TICK: i64 = 1;
pub const MICROSECOND: i64 = 10;
pub const MILLISECOND: i64 = 10_000;
pub const SECOND: i64 = 10_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// A scalar value. Strings are never null in Kusto (an empty string stands for "no value");
/// every other type has a null, represented by [`Value::Null`].
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    /// 100-ns ticks since 1970-01-01T00:00:00Z.
    DateTime(i64),
    /// 100-ns ticks.
    TimeSpan(i64),
    Str(Arc<str>),
    Dyn(Arc<serde_json::Value>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn string(s: String) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn dynamic(v: serde_json::Value) -> Value {
        Value::Dyn(Arc::new(v))
    }

    pub fn empty_str() -> Value {
        thread_local! {
            static EMPTY: Arc<str> = Arc::from("");
        }
        EMPTY.with(|e| Value::Str(e.clone()))
    }

    /// Null, or a dynamic JSON null.
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dyn(d) => d.is_null(),
            _ => false,
        }
    }

    /// `isempty`: null or an empty string.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Str(s) => s.is_empty(),
            Value::Dyn(d) => match &**d {
                serde_json::Value::Null => true,
                serde_json::Value::String(s) => s.is_empty(),
                _ => false,
            },
            other => other.is_null(),
        }
    }

    /// The natural type of a value.
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null => Type::Unknown,
            Value::Bool(_) => Type::Bool,
            Value::Long(_) => Type::Long,
            Value::Real(_) => Type::Real,
            Value::DateTime(_) => Type::DateTime,
            Value::TimeSpan(_) => Type::TimeSpan,
            Value::Str(_) => Type::String,
            Value::Dyn(_) => Type::Dynamic,
        }
    }

    /// A scalar inside a dynamic value as a plain value (numbers, strings, bools); arrays and
    /// bags stay dynamic.
    pub fn unwrap_dynamic(&self) -> Value {
        match self {
            Value::Dyn(d) => match &**d {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::Long(i),
                    None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => Value::str(s),
                _ => self.clone(),
            },
            other => other.clone(),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(b),
            Value::Long(i) => Some(i != 0),
            Value::Str(s) => match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// True only for a true boolean (the `where` rule: null and false drop the row).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Dyn(_) => matches!(self.unwrap_dynamic(), Value::Bool(true)),
            _ => false,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.unwrap_dynamic() {
            Value::Long(i) => Some(i),
            Value::Real(r) if r.is_finite() => Some(r.trunc() as i64),
            Value::Bool(b) => Some(b as i64),
            Value::DateTime(t) | Value::TimeSpan(t) => Some(t),
            Value::Str(s) => parse_long(&s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.unwrap_dynamic() {
            Value::Long(i) => Some(i as f64),
            Value::Real(r) => Some(r),
            Value::Bool(b) => Some(b as i64 as f64),
            Value::DateTime(t) | Value::TimeSpan(t) => Some(t as f64),
            Value::Str(s) => parse_real(&s),
            _ => None,
        }
    }

    /// `tostring`: the text form Kusto gives a value (null → empty string).
    pub fn to_kusto_string(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => if *b { "true" } else { "false" }.to_string(),
            Value::Long(i) => i.to_string(),
            Value::Real(r) => format_real(*r),
            Value::DateTime(t) => format_datetime(*t),
            Value::TimeSpan(t) => format_timespan(*t),
            Value::Str(s) => s.to_string(),
            Value::Dyn(d) => match &**d {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        }
    }

    /// The string form used by string operators (`has`, `contains`, ...), borrowed when
    /// possible.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Str(s) => std::borrow::Cow::Borrowed(s),
            other => std::borrow::Cow::Owned(other.to_kusto_string()),
        }
    }

    /// The value as JSON, for dynamic values, output and `pack`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Long(i) => serde_json::Value::from(*i),
            Value::Real(r) => serde_json::Number::from_f64(*r)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::DateTime(_) | Value::TimeSpan(_) => {
                serde_json::Value::String(self.to_kusto_string())
            }
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Dyn(d) => (**d).clone(),
        }
    }

    /// Cast to a column type when loading data or declaring a schema.
    pub fn cast(&self, ty: Type) -> Value {
        if self.is_null() && ty != Type::String && ty != Type::Dynamic {
            return Value::Null;
        }
        match ty {
            Type::String => Value::string(self.to_kusto_string()),
            Type::Long | Type::Int => self.as_i64().map(Value::Long).unwrap_or(Value::Null),
            Type::Real | Type::Decimal => self.as_f64().map(Value::Real).unwrap_or(Value::Null),
            Type::Bool => self.as_bool().map(Value::Bool).unwrap_or(Value::Null),
            Type::DateTime => match self.unwrap_dynamic() {
                Value::DateTime(t) => Value::DateTime(t),
                Value::Str(s) => parse_datetime(&s)
                    .map(Value::DateTime)
                    .unwrap_or(Value::Null),
                Value::Long(i) => Value::DateTime(i),
                _ => Value::Null,
            },
            Type::TimeSpan => match self.unwrap_dynamic() {
                Value::TimeSpan(t) => Value::TimeSpan(t),
                Value::Str(s) => parse_timespan_text(&s)
                    .map(Value::TimeSpan)
                    .unwrap_or(Value::Null),
                Value::Long(i) => Value::TimeSpan(i),
                _ => Value::Null,
            },
            Type::Guid => Value::string(self.to_kusto_string()),
            Type::Dynamic => match self {
                Value::Dyn(_) => self.clone(),
                Value::Str(s) => Value::dynamic(
                    serde_json::from_str(s)
                        .unwrap_or_else(|_| serde_json::Value::String(s.to_string())),
                ),
                other => Value::dynamic(other.to_json()),
            },
            Type::Unknown => self.clone(),
        }
    }

    /// A hashable, totally ordered key for grouping, distinct and joins. Numbers of different
    /// types that are equal share a key; strings keep their case.
    pub fn key(&self) -> Key {
        match self {
            Value::Null => Key::Null,
            Value::Bool(b) => Key::Long(*b as i64),
            Value::Long(i) => Key::Long(*i),
            Value::Real(r) => {
                if r.fract() == 0.0 && r.abs() < 9.0e15 {
                    Key::Long(*r as i64)
                } else {
                    Key::Real(r.to_bits())
                }
            }
            Value::DateTime(t) => Key::DateTime(*t),
            Value::TimeSpan(t) => Key::TimeSpan(*t),
            Value::Str(s) => Key::Str(s.clone()),
            Value::Dyn(d) => match &**d {
                serde_json::Value::Null => Key::Null,
                serde_json::Value::String(s) => Key::Str(Arc::from(s.as_str())),
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                    self.unwrap_dynamic().key()
                }
                other => Key::Json(Arc::from(other.to_string())),
            },
        }
    }
}

/// The grouping key of a value (see [`Value::key`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Null,
    Long(i64),
    Real(u64),
    DateTime(i64),
    TimeSpan(i64),
    Str(Arc<str>),
    Json(Arc<str>),
}

/// Kusto ordering of two values of comparable types (nulls first); `None` when they cannot be
/// compared.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    use Value::*;
    match (a, b) {
        (Null, Null) => Some(Ordering::Equal),
        (Null, _) => Some(Ordering::Less),
        (_, Null) => Some(Ordering::Greater),
        (Long(x), Long(y)) => Some(x.cmp(y)),
        (Long(x), Real(y)) => (*x as f64).partial_cmp(y),
        (Real(x), Long(y)) => x.partial_cmp(&(*y as f64)),
        (Real(x), Real(y)) => x.partial_cmp(y),
        (DateTime(x), DateTime(y)) | (TimeSpan(x), TimeSpan(y)) => Some(x.cmp(y)),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Dyn(_), _) | (_, Dyn(_)) => {
            let (ua, ub) = (a.unwrap_dynamic(), b.unwrap_dynamic());
            if matches!(ua, Dyn(_)) || matches!(ub, Dyn(_)) {
                return Some(a.to_kusto_string().cmp(&b.to_kusto_string()));
            }
            match (&ua, &ub) {
                (Str(s), DateTime(_)) => parse_datetime(s).and_then(|t| compare(&DateTime(t), &ub)),
                (DateTime(_), Str(s)) => parse_datetime(s).and_then(|t| compare(&ua, &DateTime(t))),
                (Str(s), Long(_) | Real(_)) => parse_real(s).and_then(|x| compare(&Real(x), &ub)),
                (Long(_) | Real(_), Str(s)) => parse_real(s).and_then(|x| compare(&ua, &Real(x))),
                _ => compare(&ua, &ub),
            }
        }
        (Str(s), DateTime(_)) => parse_datetime(s).and_then(|t| compare(&DateTime(t), b)),
        (DateTime(_), Str(s)) => parse_datetime(s).and_then(|t| compare(a, &DateTime(t))),
        _ => None,
    }
}

/// `==`: null if either side is null; numbers compare across types.
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    if let (Value::Str(x), Value::Str(y)) = (a, b) {
        return Some(Arc::ptr_eq(x, y) || x == y);
    }
    // Kusto: a null and a value are not equal; two nulls compare to null.
    match (a.is_null(), b.is_null()) {
        (true, true) => return None,
        (true, false) | (false, true) => return Some(false),
        _ => {}
    }
    match (a, b) {
        (Value::Dyn(x), Value::Dyn(y)) => Some(x == y),
        _ => compare(a, b).map(|o| o == Ordering::Equal),
    }
}

/// Ordering for sort: values of different kinds are ordered by kind.
pub fn sort_cmp(a: &Value, b: &Value) -> Ordering {
    compare(a, b).unwrap_or_else(|| rank(a).cmp(&rank(b)))
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Long(_) | Value::Real(_) => 2,
        Value::DateTime(_) => 3,
        Value::TimeSpan(_) => 4,
        Value::Str(_) => 5,
        Value::Dyn(_) => 6,
    }
}

pub fn parse_long(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    t.parse::<f64>()
        .ok()
        .filter(|r| r.is_finite())
        .map(|r| r.trunc() as i64)
}

pub fn parse_real(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "nan" | "NaN" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => t.parse::<f64>().ok(),
    }
}

/// Kusto prints reals with up to 15 significant digits and no trailing `.0`.
pub fn format_real(r: f64) -> String {
    if r.is_nan() {
        return "NaN".into();
    }
    if r.is_infinite() {
        return if r > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if r.fract() == 0.0 && r.abs() < 1e15 {
        return format!("{}", r as i64);
    }
    let s = format!("{r}");
    s
}

// ---- calendar ----

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parts of a datetime: (year, month, day, hour, minute, second, ticks within the second).
pub fn datetime_parts(t: i64) -> (i64, u32, u32, u32, u32, u32, i64) {
    let days = t.div_euclid(DAY);
    let rem = t.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let h = (rem / HOUR) as u32;
    let mi = ((rem % HOUR) / MINUTE) as u32;
    let s = ((rem % MINUTE) / SECOND) as u32;
    (y, m, d, h, mi, s, rem % SECOND)
}

pub fn make_datetime(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, frac: i64) -> i64 {
    days_from_civil(y, mo, d) * DAY
        + h as i64 * HOUR
        + mi as i64 * MINUTE
        + s as i64 * SECOND
        + frac
}

/// ISO 8601 as Kusto prints it: `2026-11-20T19:00:00Z`, fractions to 7 digits when present.
pub fn format_datetime(t: i64) -> String {
    let (y, m, d, h, mi, s, frac) = datetime_parts(t);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if frac != 0 {
        let f = format!("{frac:07}");
        let _ = write!(out, ".{}", f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// `[-][d.]hh:mm:ss[.fffffff]`, as Kusto prints timespans.
pub fn format_timespan(t: i64) -> String {
    let neg = t < 0;
    let a = t.unsigned_abs() as i64;
    let days = a / DAY;
    let h = (a % DAY) / HOUR;
    let m = (a % HOUR) / MINUTE;
    let s = (a % MINUTE) / SECOND;
    let frac = a % SECOND;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        let _ = write!(out, "{days}.");
    }
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if frac != 0 {
        let _ = write!(out, ".{frac:07}");
    }
    out
}

/// Parse the datetime forms Kusto accepts: ISO 8601 with `T` or a space, optional seconds,
/// fractions and `Z`/offset, date only; RFC 822/1123 (`Sat, 8 Nov 2014 15:05:02 GMT`).
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_iso(s) {
        return Some(t);
    }
    if let Some(t) = parse_us(s) {
        return Some(t);
    }
    parse_rfc(s)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[0].is_ascii_digit() {
        return None;
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let mut dp = date.split(['-', '/']);
    let y: i64 = num(dp.next()?)? as i64;
    let mo = num(dp.next()?)?;
    let d = num(dp.next()?)?;
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut frac, mut offset) = (0u32, 0u32, 0u32, 0i64, 0i64);
    if !rest.is_empty() {
        let (time, tz) = split_tz(rest)?;
        offset = tz;
        let mut tp = time.split(':');
        h = num(tp.next()?)?;
        mi = tp.next().map(num).unwrap_or(Some(0))?;
        if let Some(sp) = tp.next() {
            let (whole, f) = match sp.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sp, None),
            };
            sec = num(whole)?;
            if let Some(f) = f {
                if f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let mut digits: String = f.chars().take(7).collect();
                while digits.len() < 7 {
                    digits.push('0');
                }
                frac = digits.parse().ok()?;
            }
        }
        if tp.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
    }
    Some(make_datetime(y, mo, d, h, mi, sec, frac) - offset)
}

/// `MM/DD/YYYY[ HH:MM[:SS]]`, which Kusto also accepts.
fn parse_us(s: &str) -> Option<i64> {
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, t.trim()),
        None => (s, ""),
    };
    let mut p = date.split('/');
    let mo = num(p.next()?)?;
    let d = num(p.next()?)?;
    let y = num(p.next()?)? as i64;
    if p.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || y < 1000 {
        return None;
    }
    let iso = format!(
        "{y:04}-{mo:02}-{d:02}{}",
        if time.is_empty() {
            String::new()
        } else {
            format!("T{time}")
        }
    );
    parse_iso(&iso)
}

fn split_tz(t: &str) -> Option<(&str, i64)> {
    let t = t.trim();
    if let Some(x) = t.strip_suffix(['Z', 'z']) {
        return Some((x.trim(), 0));
    }
    if let Some(i) = t.rfind(['+', '-']) {
        if i > 0 {
            let (time, off) = (&t[..i], &t[i..]);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let body = &off[1..];
            let (hh, mm) = match body.split_once(':') {
                Some((h, m)) => (num(h)?, num(m)?),
                None if body.len() == 4 => (num(&body[..2])?, num(&body[2..])?),
                None => (num(body)?, 0),
            };
            return Some((time.trim(), sign * (hh as i64 * HOUR + mm as i64 * MINUTE)));
        }
    }
    Some((t, 0))
}

fn parse_rfc(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let s = s.split_once(',').map(|(_, r)| r).unwrap_or(s).trim();
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() < 3 {
        return None;
    }
    let d = num(parts[0])?;
    let mo = MONTHS
        .iter()
        .position(|m| parts[1].to_ascii_lowercase().starts_with(m))? as u32
        + 1;
    let y = num(parts[2])? as i64;
    let (mut h, mut mi, mut sec) = (0, 0, 0);
    if let Some(time) = parts.get(3) {
        let mut tp = time.split(':');
        h = num(tp.next()?)?;
        mi = num(tp.next()?)?;
        sec = tp.next().map(num).unwrap_or(Some(0))?;
    }
    Some(make_datetime(y, mo, d, h, mi, sec, 0))
}

/// A timespan literal token or `timespan(...)` body: `5m`, `1.5h`, `100ms`, `2d`,
/// `10microseconds`, `3ticks`, `1.02:03:04.5`, `00:05:00`.
pub fn parse_timespan_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.contains(':') {
        return parse_clock_span(s);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "d" | "day" | "days" | "" => DAY,
        "h" | "hr" | "hrs" | "hour" | "hours" => HOUR,
        "m" | "min" | "minute" | "minutes" => MINUTE,
        "s" | "sec" | "second" | "seconds" => SECOND,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => MILLISECOND,
        "microsecond" | "microseconds" => MICROSECOND,
        "tick" | "ticks" => TICK,
        _ => return None,
    };
    Some((n * mult as f64).round() as i64)
}

fn parse_clock_span(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let (days, hours) = match parts[0].split_once('.') {
        Some((d, h)) => (num(d)? as i64, num(h)? as i64),
        None => (0, num(parts[0])? as i64),
    };
    let minutes = num(parts[1])? as i64;
    let (secs, frac) = match parts.get(2) {
        Some(p) => match p.split_once('.') {
            Some((w, f)) => {
                let mut digits: String = f.chars().take(7).collect();
                while digits.len() < 7 {
                    digits.push('0');
                }
                (num(w)? as i64, digits.parse::<i64>().ok()?)
            }
            None => (num(p)? as i64, 0),
        },
        None => (0, 0),
    };
    let t = days * DAY + hours * HOUR + minutes * MINUTE + secs * SECOND + frac;
    Some(if neg { -t } else { t })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_round_trip() {
        let t = parse_datetime("2026-11-20T19:00:00Z").unwrap();
        assert_eq!(format_datetime(t), "2026-11-20T19:00:00Z");
        let t = parse_datetime("2014-05-25 08:20:03.1234567").unwrap();
        assert_eq!(format_datetime(t), "2014-05-25T08:20:03.1234567Z");
        assert_eq!(parse_datetime("1970-01-01"), Some(0));
        assert_eq!(
            parse_datetime("2026-01-01T02:00:00+02:00"),
            parse_datetime("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_datetime("Sat, 8 Nov 2014 15:05:02 GMT"),
            parse_datetime("2014-11-08T15:05:02Z")
        );
        assert_eq!(parse_datetime("not a date"), None);
        // Leap years and the far past.
        let t = parse_datetime("2024-02-29T00:00:00Z").unwrap();
        assert_eq!(format_datetime(t), "2024-02-29T00:00:00Z");
        let t = parse_datetime("1601-01-01").unwrap();
        assert_eq!(format_datetime(t), "1601-01-01T00:00:00Z");
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan_text("5m"), Some(5 * MINUTE));
        assert_eq!(parse_timespan_text("1.5h"), Some(90 * MINUTE));
        assert_eq!(parse_timespan_text("100ms"), Some(100 * MILLISECOND));
        assert_eq!(
            parse_timespan_text("1.02:03:04"),
            Some(DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND)
        );
        assert_eq!(
            format_timespan(DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND),
            "1.02:03:04"
        );
        assert_eq!(format_timespan(-5 * MINUTE), "-00:05:00");
        assert_eq!(format_timespan(SECOND / 2), "00:00:00.5000000");
    }
}
