//! String functions: `translate`, `replace_strings`, `format_bytes`, `regex_quote`,
//! `parse_urlquery`, `make_string`, `unicode_codepoints_from_string` /
//! `_to_string`, `to_utf8`, each as its documentation page describes (the pages with output
//! tables are cases of `tests/data/engine/conformance/strings.yaml`).

use super::error::R;
use super::value::Value;

type F = fn(&[Value]) -> R<Value>;

static NULL: Value = Value::Null;

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&NULL)
}

fn s(a: &[Value], i: usize) -> String {
    arg(a, i).to_kusto_string()
}

fn array(v: &Value) -> Option<Vec<serde_json::Value>> {
    match v.clone().cast(super::value::Type::Dynamic) {
        Value::Dyn(d) => d.as_array().cloned(),
        _ => None,
    }
}

/// Each character of `search` becomes the character of `replace` at its index (the last one
/// when `replace` is shorter); an empty `replace` removes them.
fn translate(a: &[Value]) -> R<Value> {
    let (search, replace, source) = (s(a, 0), s(a, 1), s(a, 2));
    let search: Vec<char> = search.chars().collect();
    let replace: Vec<char> = replace.chars().collect();
    let out: String = source
        .chars()
        .filter_map(|c| match search.iter().position(|x| *x == c) {
            None => Some(c),
            Some(_) if replace.is_empty() => None,
            Some(i) => Some(replace[i.min(replace.len() - 1)]),
        })
        .collect();
    Ok(Value::string(out))
}

/// Lookups in order of precedence: each replaces its matches in the text the earlier ones did
/// not match (matches never overlap); a rewrite that is not a string keeps the matched text.
fn replace_strings(a: &[Value]) -> R<Value> {
    let text = s(a, 0);
    let (Some(lookups), Some(rewrites)) = (array(arg(a, 1)), array(arg(a, 2))) else {
        return Ok(Value::string(text));
    };
    // (piece, settled): settled pieces are rewrites and are not searched again.
    let mut pieces: Vec<(String, bool)> = vec![(text, false)];
    for (k, l) in lookups.iter().enumerate() {
        let Some(l) = l.as_str().filter(|l| !l.is_empty()) else {
            continue;
        };
        let rewrite = rewrites
            .get(k)
            .and_then(|r| r.as_str())
            .unwrap_or(l)
            .to_string();
        let mut next = Vec::with_capacity(pieces.len());
        for (p, settled) in pieces {
            if settled || !p.contains(l) {
                next.push((p, settled));
                continue;
            }
            let mut rest = p.as_str();
            while let Some(at) = rest.find(l) {
                if at > 0 {
                    next.push((rest[..at].to_string(), false));
                }
                next.push((rewrite.clone(), true));
                rest = &rest[at + l.len()..];
            }
            if !rest.is_empty() {
                next.push((rest.to_string(), false));
            }
        }
        pieces = next;
    }
    Ok(Value::string(pieces.into_iter().map(|p| p.0).collect()))
}

/// `format_bytes(size [, precision [, units [, base]]])`: the size in the named unit, or the
/// largest unit the size reaches, rounded to `precision` digits.
fn format_bytes(a: &[Value]) -> R<Value> {
    let Some(size) = arg(a, 0).as_f64() else {
        return Ok(Value::empty_str());
    };
    let precision = arg(a, 1).as_i64().unwrap_or(0).clamp(0, 15) as usize;
    let base = match arg(a, 3).as_i64() {
        Some(1000) => 1000.0,
        _ => 1024.0,
    };
    const UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
    let named = s(a, 2);
    let k = match UNITS
        .iter()
        .position(|u| u.eq_ignore_ascii_case(named.trim()))
    {
        Some(k) => k,
        None => {
            let mut k = 0;
            while k + 1 < UNITS.len() && size.abs() >= f64::powi(base, k as i32 + 1) {
                k += 1;
            }
            k
        }
    };
    let v = size / f64::powi(base, k as i32);
    let scale = 10f64.powi(precision as i32);
    let rounded = (v * scale).round() / scale;
    Ok(Value::string(format!("{rounded:.precision$} {}", UNITS[k])))
}

/// The text with every regular-expression metacharacter escaped.
fn regex_quote(a: &[Value]) -> R<Value> {
    Ok(Value::string(regex::escape(&s(a, 0))))
}

/// `{"Query Parameters": {name: value}}`, values URL-decoded.
fn parse_urlquery(a: &[Value]) -> R<Value> {
    let q = s(a, 0);
    let q = q.trim_start_matches('?');
    let mut params = serde_json::Map::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(
            super::codec::url_decode(k),
            serde_json::Value::String(super::codec::url_decode(v)),
        );
    }
    Ok(Value::dynamic(
        serde_json::json!({"Query Parameters": params}),
    ))
}

/// A string from code points (numbers or arrays of numbers); null when one is not a valid
/// Unicode scalar value.
fn make_string(a: &[Value]) -> R<Value> {
    let mut out = String::new();
    for v in a {
        let points: Vec<serde_json::Value> = match array(v) {
            Some(x) if matches!(v, Value::Dyn(_)) => x,
            _ => vec![v.to_json()],
        };
        for p in points {
            match p
                .as_i64()
                .and_then(|c| u32::try_from(c).ok())
                .and_then(char::from_u32)
            {
                Some(c) => out.push(c),
                None => return Ok(Value::Null),
            }
        }
    }
    Ok(Value::string(out))
}

fn codepoints(a: &[Value]) -> R<Value> {
    Ok(Value::dynamic(serde_json::Value::Array(
        s(a, 0)
            .chars()
            .map(|c| serde_json::json!(c as u32))
            .collect(),
    )))
}

fn to_utf8(a: &[Value]) -> R<Value> {
    Ok(Value::dynamic(serde_json::Value::Array(
        s(a, 0).bytes().map(|b| serde_json::json!(b)).collect(),
    )))
}

pub(super) fn lookup(name: &str) -> Option<F> {
    Some(match name {
        "translate" => translate,
        "replace_strings" => replace_strings,
        "format_bytes" => format_bytes,
        "regex_quote" => regex_quote,
        "parse_urlquery" | "parseurlquery" => parse_urlquery,
        "make_string" | "unicode_codepoints_to_string" => make_string,
        "unicode_codepoints_from_string" => codepoints,
        "to_utf8" => to_utf8,
        _ => return None,
    })
}
