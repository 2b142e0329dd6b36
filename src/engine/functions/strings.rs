//! String functions: length, case, search, split/join, trim, replace, extract, URL and path parsing, base64.

use super::args::*;
use super::*;

pub(super) fn lookup(name: &str) -> Option<F> {
    let f: F = match name {
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
                crate::engine::hashes::full_text(arg(a, 0))
                    .chars()
                    .rev()
                    .collect(),
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
        "extract_all" | "extractall" => |a| {
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
        // A guid is held as its text; its bytes are .NET's (`Guid.ToByteArray`).
        "base64_encode_fromguid" => |a| {
            Ok(match guid_bytes(&s(a, 0)) {
                Some(b) => Value::string(base64_encode(&b)),
                None => Value::Null,
            })
        },
        "base64_decode_toguid" => |a| {
            Ok(base64_decode(&s(a, 0))
                .and_then(|b| guid_text(&b))
                .map(Value::string)
                .unwrap_or(Value::Null))
        },
        // Every string the engine holds is UTF-8 (files are decoded when loaded).
        "isutf8" => |_| Ok(Value::Bool(true)),
        "gzip_decompress_from_base64_string" => {
            |a| Ok(Value::string(decompress_base64(&s(a, 0), Wrapper::Gzip)))
        }
        "zlib_decompress_from_base64_string" => {
            |a| Ok(Value::string(decompress_base64(&s(a, 0), Wrapper::Zlib)))
        }
        "base64_encode_tostring" | "base64_encodestring" => {
            |a| Ok(Value::string(base64_encode(s(a, 0).as_bytes())))
        }
        "parse_url" | "parseurl" => |a| Ok(json(parse_url(&s(a, 0)))),
        "parse_path" => |a| Ok(json(parse_path(&s(a, 0)))),
        "isascii" => |a| Ok(Value::Bool(s(a, 0).is_ascii())),
        _ => return None,
    };
    Some(f)
}

pub(super) fn decode_quoted(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    (s.len() >= 2 && (q == '\'' || q == '"') && s.ends_with(q))
        .then(|| s[1..s.len() - 1].to_string())
}

/// Kusto rewrite strings use `\1`; the regex crate uses `${1}`.
pub(super) fn kusto_rewrite(s: &str) -> String {
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

pub(super) fn url_encode(s: &str) -> String {
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
pub(super) fn url_encode_form(s: &str) -> String {
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

pub(super) fn parse_url(u: &str) -> serde_json::Value {
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

pub(super) fn parse_path(p: &str) -> serde_json::Value {
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
