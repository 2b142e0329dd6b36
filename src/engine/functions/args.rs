//! Argument accessors every function family shares.

use super::*;

pub(super) fn arg(a: &[Value], i: usize) -> &Value {
    static NULL: Value = Value::Null;
    a.get(i).unwrap_or(&NULL)
}

pub(super) fn s(a: &[Value], i: usize) -> String {
    arg(a, i).to_kusto_string()
}

pub(super) fn long(a: &[Value], i: usize) -> Option<i64> {
    arg(a, i).as_i64()
}

pub(super) fn real(a: &[Value], i: usize) -> Option<f64> {
    arg(a, i).as_f64()
}

pub(super) fn json(v: serde_json::Value) -> Value {
    Value::dynamic(v)
}

pub(super) fn opt_real(r: Option<f64>) -> Value {
    r.map(Value::Real).unwrap_or(Value::Null)
}

pub(super) fn dt(a: &[Value], i: usize) -> Option<i64> {
    match arg(a, i).unwrap_dynamic() {
        Value::DateTime(t) => Some(t),
        Value::Str(s) => parse_datetime(&s),
        _ => None,
    }
}

pub(super) fn ts(a: &[Value], i: usize) -> Option<i64> {
    match arg(a, i).unwrap_dynamic() {
        Value::TimeSpan(t) => Some(t),
        Value::Long(d) => Some(d * DAY),
        Value::Real(d) => Some((d * DAY as f64) as i64),
        Value::Str(s) => parse_timespan_text(&s),
        _ => None,
    }
}

pub(super) fn opt_dt(t: Option<i64>) -> Value {
    t.map(Value::DateTime).unwrap_or(Value::Null)
}

pub(super) fn as_array(v: &Value) -> Option<Vec<serde_json::Value>> {
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

pub(super) fn parse_json_value(v: &Value) -> Value {
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

pub(super) fn bits2(a: &[Value], f: impl Fn(i64, i64) -> i64) -> Value {
    match (long(a, 0), long(a, 1)) {
        (Some(x), Some(y)) => Value::Long(f(x, y)),
        _ => Value::Null,
    }
}
