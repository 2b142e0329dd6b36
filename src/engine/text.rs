//! String functions: `translate`, `replace_strings`, `format_bytes`, `regex_quote`,
//! `parse_urlquery`, `make_string`, `unicode_codepoints_from_string` /
//! `_to_string`, `to_utf8`, `has_any_index`, `indexof_regex`, `parse_csv`, punycode, each as its documentation page describes (the pages with output
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

/// `has_any_index(source, lookups)`: the index of the first lookup (in the array's order) that
/// `source` has as a term, or -1.
fn has_any_index(a: &[Value]) -> R<Value> {
    let source = s(a, 0);
    let Some(lookups) = array(arg(a, 1)) else {
        return Ok(Value::Null);
    };
    for (k, l) in lookups.iter().enumerate() {
        let text = match l {
            serde_json::Value::String(t) => t.clone(),
            serde_json::Value::Null => continue,
            other => other.to_string(),
        };
        if !text.is_empty() && super::strings::Needle::new(&text, false).has(&source, true, true) {
            return Ok(Value::Long(k as i64));
        }
    }
    Ok(Value::Long(-1))
}

/// `indexof_regex(source, regex [, start [, length [, occurrence]]])`: the character index of
/// the `occurrence`-th non-overlapping match inside `source[start, start+length)` (length -1:
/// to the end), -1 when there is none; null for a negative start, a length under -1 or an
/// occurrence under 1.
fn indexof_regex(a: &[Value]) -> R<Value> {
    let source = s(a, 0);
    let re = super::regexes::regex(&s(a, 1))?;
    let start = if a.len() > 2 {
        arg(a, 2).as_i64()
    } else {
        Some(0)
    };
    let length = if a.len() > 3 {
        arg(a, 3).as_i64()
    } else {
        Some(-1)
    };
    let occurrence = if a.len() > 4 {
        arg(a, 4).as_i64()
    } else {
        Some(1)
    };
    let (Some(start), Some(length), Some(occurrence)) = (start, length, occurrence) else {
        return Ok(Value::Null);
    };
    if start < 0 || length < -1 || occurrence < 1 {
        return Ok(Value::Null);
    }
    let chars: Vec<(usize, char)> = source.char_indices().collect();
    let n = chars.len() as i64;
    if start > n {
        return Ok(Value::Long(-1));
    }
    let end = if length == -1 {
        n
    } else {
        start.saturating_add(length).min(n)
    };
    let byte = |i: i64| chars.get(i as usize).map_or(source.len(), |c| c.0);
    let window = &source[byte(start)..byte(end)];
    let found = match re.find_iter(window).nth(occurrence as usize - 1) {
        Some(m) => start + window[..m.start()].chars().count() as i64,
        None => -1,
    };
    Ok(Value::Long(found))
}

/// `parse_csv(text)`: the first record of CSV text as an array of strings: fields split at
/// commas, double-quoted fields may hold commas, newlines and `""` for a quote.
fn parse_csv(a: &[Value]) -> R<Value> {
    let text = s(a, 0);
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            ',' => {
                fields.push(serde_json::Value::String(std::mem::take(&mut field)));
                at_start = true;
            }
            '\n' => break,
            '\r' if chars.peek() == Some(&'\n') => break,
            _ => {
                field.push(c);
                at_start = false;
            }
        }
    }
    fields.push(serde_json::Value::String(field));
    Ok(Value::dynamic(serde_json::Value::Array(fields)))
}

// Punycode (RFC 3492) parameters.
const BASE: u32 = 36;
const TMIN: u32 = 1;
const TMAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 128;

fn adapt(mut delta: u32, points: u32, first: bool) -> u32 {
    delta /= if first { DAMP } else { 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - TMIN) * TMAX) / 2 {
        delta /= BASE - TMIN;
        k += BASE;
    }
    k + (BASE - TMIN + 1) * delta / (delta + SKEW)
}

fn digit(d: u32) -> char {
    (if d < 26 {
        b'a' + d as u8
    } else {
        b'0' + (d - 26) as u8
    }) as char
}

fn threshold(k: u32, bias: u32) -> u32 {
    if k <= bias {
        TMIN
    } else if k >= bias + TMAX {
        TMAX
    } else {
        k - bias
    }
}

/// RFC 3492 encoding of `input` (no `xn--` prefix); None on overflow.
pub(crate) fn punycode_encode(input: &str) -> Option<String> {
    let points: Vec<u32> = input.chars().map(|c| c as u32).collect();
    let mut out: String = input.chars().filter(char::is_ascii).collect();
    let basic = out.len() as u32;
    let mut handled = basic;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    while (handled as usize) < points.len() {
        let m = points.iter().copied().filter(|&p| p >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(handled + 1)?)?;
        n = m;
        for &p in &points {
            if p < n {
                delta = delta.checked_add(1)?;
            }
            if p == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = threshold(k, bias);
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta = delta.checked_add(1)?;
        n += 1;
    }
    Some(out)
}

/// RFC 3492 decoding; None for input that is not valid punycode.
pub(crate) fn punycode_decode(input: &str) -> Option<String> {
    if !input.is_ascii() {
        return None;
    }
    let (basic, rest) = match input.rfind('-') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => ("", input),
    };
    let mut out: Vec<char> = basic.chars().collect();
    let (mut n, mut i, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    let mut it = rest.bytes().peekable();
    while it.peek().is_some() {
        let old = i;
        let mut w = 1u32;
        let mut k = BASE;
        loop {
            let b = it.next()?;
            let d = match b {
                b'a'..=b'z' => (b - b'a') as u32,
                b'A'..=b'Z' => (b - b'A') as u32,
                b'0'..=b'9' => (b - b'0') as u32 + 26,
                _ => return None,
            };
            i = i.checked_add(d.checked_mul(w)?)?;
            let t = threshold(k, bias);
            if d < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k += BASE;
        }
        let len = out.len() as u32 + 1;
        bias = adapt(i - old, len, old == 0);
        n = n.checked_add(i / len)?;
        i %= len;
        out.insert(i as usize, char::from_u32(n)?);
        i += 1;
    }
    Some(out.into_iter().collect())
}

/// Punycode is for domain-name labels (63 characters in DNS); longer text gives null, which
/// keeps the quadratic encoding and decoding bounded.
const PUNYCODE_MAX: usize = 4096;

fn punycode_from_string(a: &[Value]) -> R<Value> {
    let text = s(a, 0);
    if text.chars().count() > PUNYCODE_MAX {
        return Ok(Value::Null);
    }
    Ok(punycode_encode(&text)
        .map(Value::string)
        .unwrap_or(Value::Null))
}

fn punycode_to_string(a: &[Value]) -> R<Value> {
    let text = s(a, 0);
    if text.len() > PUNYCODE_MAX {
        return Ok(Value::Null);
    }
    Ok(punycode_decode(&text)
        .map(Value::string)
        .unwrap_or(Value::Null))
}

/// The label separators of an internationalized domain name: `.` and its ideographic and
/// full-width forms, which the encoded name writes as `.` (the page's example).
const DOTS: &[char] = &['.', '\u{3002}', '\u{ff0e}', '\u{ff61}'];

/// `punycode_domain_to_string`: each label with a non-ASCII character becomes `xn--` and its
/// Punycode, ASCII labels stay; the empty string when a label cannot be encoded (or the name
/// is longer than [`PUNYCODE_MAX`]), as the page says.
fn punycode_domain_to_string(a: &[Value]) -> R<Value> {
    let domain = s(a, 0);
    if domain.chars().count() > PUNYCODE_MAX {
        return Ok(Value::empty_str());
    }
    let labels: Option<Vec<String>> = domain
        .split(DOTS)
        .map(|l| match l.is_ascii() {
            true => Some(l.to_string()),
            false => punycode_encode(l).map(|p| format!("xn--{p}")),
        })
        .collect();
    Ok(Value::string(
        labels.map(|l| l.join(".")).unwrap_or_default(),
    ))
}

/// `punycode_domain_from_string`: each `xn--` label decoded; the empty string when one is not
/// valid Punycode.
fn punycode_domain_from_string(a: &[Value]) -> R<Value> {
    let domain = s(a, 0);
    if domain.len() > PUNYCODE_MAX {
        return Ok(Value::empty_str());
    }
    let labels: Option<Vec<String>> = domain
        .split('.')
        .map(|l| match l.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("xn--") => punycode_decode(&l[4..]),
            _ => Some(l.to_string()),
        })
        .collect();
    Ok(Value::string(
        labels.map(|l| l.join(".")).unwrap_or_default(),
    ))
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
        "has_any_index" => has_any_index,
        "indexof_regex" => indexof_regex,
        "parse_csv" => parse_csv,
        "punycode_from_string" => punycode_from_string,
        "punycode_to_string" => punycode_to_string,
        "punycode_domain_to_string" => punycode_domain_to_string,
        "punycode_domain_from_string" => punycode_domain_from_string,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn hostile_domains_give_the_empty_string() {
        let dom =
            |f: fn(&[Value]) -> R<Value>, x: &str| f(&[Value::str(x)]).unwrap().to_kusto_string();
        // Digits that overflow, a bad digit, an over-long name: the empty string.
        assert_eq!(
            dom(
                super::punycode_domain_from_string,
                "xn--99999999999999999.com"
            ),
            ""
        );
        assert_eq!(dom(super::punycode_domain_from_string, "xn--ab!c.com"), "");
        let long = format!("xn--{}.com", "a".repeat(10_000));
        assert_eq!(dom(super::punycode_domain_from_string, &long), "");
        assert_eq!(
            dom(super::punycode_domain_to_string, &"\u{e9}".repeat(10_000)),
            ""
        );
        assert_eq!(
            dom(super::punycode_domain_to_string, "plain.example.com"),
            "plain.example.com"
        );
        assert_eq!(
            dom(super::punycode_domain_from_string, "XN--Ge-mia.Bulg.edu"),
            "G\u{e1}e.Bulg.edu"
        );
    }
    use super::*;

    #[test]
    fn punycode_round_trips_the_rfc_samples() {
        // RFC 3492 section 7.1 (A) Arabic (Egyptian) and (L) the Japanese sample.
        let arabic = "\u{644}\u{64A}\u{647}\u{645}\u{627}\u{628}\u{62A}\u{643}\u{644}\u{645}\u{648}\u{634}\u{639}\u{631}\u{628}\u{64A}\u{61F}";
        assert_eq!(
            punycode_encode(arabic).as_deref(),
            Some("egbpdaj6bu4bxfgehfvwxn")
        );
        assert_eq!(
            punycode_decode("egbpdaj6bu4bxfgehfvwxn").as_deref(),
            Some(arabic)
        );
        let l = "3\u{5E74}B\u{7D44}\u{91D1}\u{516B}\u{5148}\u{751F}";
        assert_eq!(
            punycode_encode(l).as_deref(),
            Some("3B-ww4c5e180e575a65lsy2b")
        );
        assert_eq!(
            punycode_decode("3B-ww4c5e180e575a65lsy2b").as_deref(),
            Some(l)
        );
        assert_eq!(punycode_decode("ab$c"), None);
        assert_eq!(punycode_decode("99999999999999"), None);
    }
}
