//! Scalar functions and arithmetic with Kusto's rules.
//!
//! A function is a row-wise `fn(&[Value]) -> R<Value>`; [`call`] applies it to columns (once
//! when every argument is constant). Unknown names fail with "not supported yet".

use super::codec::{
    base64_decode, base64_encode, decompress_base64, guid_bytes, guid_text, url_decode, Wrapper,
};
use super::error::{EngineError, R};
use super::ir::Span;
use super::table::{Cv, Data};
use super::value::*;

mod args;
mod datetime;
mod dynamic;
mod geo;
mod ip;
mod math;
mod strings;

use args::*;
use dynamic::json_path;
use strings::decode_quoted;

pub(crate) use ip::{parse_ipv4_prefix, parse_ipv6_prefix};

type F = fn(&[Value]) -> R<Value>;

type Family = fn(&str) -> Option<F>;

/// The function families, each a `lookup` by name; a name belongs to one family
/// (`tests::each_name_has_one_family`).
const FAMILIES: &[(&str, Family)] = &[
    ("conversions and logic", core),
    ("strings", strings::lookup),
    ("datetime", datetime::lookup),
    ("math", math::lookup),
    ("dynamic", dynamic::lookup),
    ("ip", ip::lookup),
    ("geo", geo::lookup),
    ("series", super::series::lookup),
    ("decompose", super::decompose::lookup),
    ("text", super::text::lookup),
    ("arrays", super::arrays::lookup),
    ("hashes", super::hashes::lookup),
];

fn lookup(name: &str) -> Option<F> {
    FAMILIES.iter().find_map(|(_, f)| f(name))
}

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

// ---- datetime helpers ----

// ---- IP ----

// ---- conversions and logic ----

fn core(name: &str) -> Option<F> {
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
        "rand" => |_| {
            Err(EngineError::unsupported(
                "rand() (results would not be reproducible)",
                None,
            ))
        },
        _ => return None,
    };
    Some(f)
}

/// The deepest key path `bag_set_key` / `bag_remove_keys` follow (null beyond).
const MAX_KEY_DEPTH: usize = 100;

/// One step of a JSONPath: a key or an array index.
enum PathSeg {
    Key(String),
    Index(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, args: &[Value]) -> Value {
        lookup(name).expect("a function")(args).expect("no error")
    }

    /// Hostile or malformed addresses, prefixes and geohashes give null (or Kusto's empty
    /// string), never a panic or a wrong match.
    #[test]
    fn ipv6_and_geohash_reject_malformed_input() {
        let st = |x: &str| Value::str(x);
        for bad in [
            "",
            "::/129",
            "fe80::1/-1",
            "fe80::1/ 12x",
            "1.2.3.4/33",
            "::1.2.3.4/33",
            "fe80::1%eth0",
            ":::",
            "1::2::3",
            &"f".repeat(100_000),
        ] {
            assert!(
                f("parse_ipv6", &[st(bad)]).is_null(),
                "parse_ipv6({bad:.20})"
            );
            assert!(
                f("ipv6_is_match", &[st(bad), st("::1")]).is_null(),
                "{bad:.20}"
            );
        }
        // A prefix argument outside 0..=128 is null; 0 matches everything.
        assert!(f("ipv6_compare", &[st("::1"), st("::2"), Value::Long(129)]).is_null());
        assert!(f("ipv6_compare", &[st("::1"), st("::2"), Value::Long(-1)]).is_null());
        assert_eq!(
            f("ipv6_compare", &[st("::1"), st("::2"), Value::Long(0)]).as_i64(),
            Some(0)
        );
        assert_eq!(
            f("ipv6_compare", &[st("::1"), st("::2")]).as_i64(),
            Some(-1)
        );
        assert!(f("parse_ipv6_mask", &[st("::1"), Value::Long(500)]).is_null());
        // An IPv4 range never contains an unrelated IPv6 address, and the reverse.
        assert_eq!(
            f("ipv6_is_in_range", &[st("fe80::1"), st("10.0.0.0/8")]).as_bool(),
            Some(false)
        );
        assert_eq!(
            f("ipv6_is_in_range", &[st("10.1.2.3"), st("10.0.0.0/8")]).as_bool(),
            Some(true)
        );
        for n in [0, 19, -5, i64::MAX] {
            let h = f(
                "geo_point_to_geohash",
                &[Value::Real(1.0), Value::Real(1.0), Value::Long(n)],
            );
            assert_eq!(h.to_kusto_string(), "", "accuracy {n}");
        }
        assert_eq!(
            f(
                "geo_point_to_geohash",
                &[Value::Real(1.0), Value::Real(f64::NAN), Value::Long(5)]
            )
            .to_kusto_string(),
            ""
        );
        for bad in ["", "a", "sunnyi", &"s".repeat(19), "SUNNY"] {
            assert!(
                f("geo_geohash_to_central_point", &[st(bad)]).is_null(),
                "{bad}"
            );
        }
        assert!(f(
            "geo_point_in_circle",
            &[1.0, 1.0, 1.0, 1.0, f64::INFINITY].map(Value::Real)
        )
        .is_null());
    }

    /// A declared function is implemented by at most one family: a second arm for the same
    /// name in a later family would be dead code that looks live.
    #[test]
    fn each_name_has_one_family() {
        let c = crate::kql::catalog::Catalog::embedded();
        let mut implemented = 0;
        for name in c.builtins.keys() {
            let owners: Vec<&str> = FAMILIES
                .iter()
                .filter(|(_, f)| f(name).is_some())
                .map(|(n, _)| *n)
                .collect();
            assert!(owners.len() <= 1, "{name}() is in {owners:?}");
            implemented += owners.len();
        }
        assert!(implemented > 250, "{implemented} functions found");
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
