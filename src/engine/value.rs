//! Scalar values with Kusto's semantics: typed nulls, 100-nanosecond datetime and timespan
//! ticks, case rules, and `dynamic` as a first-class JSON value.

use std::cmp::Ordering;
use std::sync::Arc;

pub use crate::datetime::*;
pub use crate::kql::catalog::Type;

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
            // JSON has no NaN or infinity: Kusto's results write them as strings.
            Value::Real(r) => serde_json::Number::from_f64(*r)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(format_real(*r))),
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
