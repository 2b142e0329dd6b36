//! Dynamic (JSON) functions: arrays, property bags, packing, JSON paths, ranges.

use super::args::*;
use super::*;

pub(super) fn lookup(name: &str) -> Option<F> {
    let f: F = match name {
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
        "treepath" => |a| {
            let Value::Dyn(doc) = arg(a, 0) else {
                return Ok(Value::Null);
            };
            let mut out = indexmap::IndexSet::new();
            tree_paths(doc, String::new(), &mut out);
            Ok(json(serde_json::Value::Array(
                out.into_iter().map(serde_json::Value::String).collect(),
            )))
        },
        _ => return None,
    };
    Some(f)
}

/// `treepath`: every path in a document, in document order, once; a bag's keys as
/// `['key']` and every element of an array as `[0]` (an array's elements share one path).
fn tree_paths(v: &serde_json::Value, path: String, out: &mut indexmap::IndexSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}['{k}']");
                out.insert(p.clone());
                tree_paths(x, p, out);
            }
        }
        serde_json::Value::Array(xs) if !xs.is_empty() => {
            let p = format!("{path}[0]");
            out.insert(p.clone());
            for x in xs {
                tree_paths(x, p.clone(), out);
            }
        }
        _ => {}
    }
}

/// `array_sort_asc` / `array_sort_desc(array1, ..., arrayN [, nulls_last])`: the first array
/// sorted (stably; nulls last unless `nulls_last` is false), the others reordered to match
/// (null for one whose length differs). One array returns the array, several an array of them.
pub(super) fn sort_arrays(a: &[Value], desc: bool) -> Value {
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
pub(super) fn array_index_of(a: &[Value]) -> Value {
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
pub(super) fn key_path(key: &str) -> Option<Vec<String>> {
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

/// A JSONPath subset as steps: `$`, `.name`, `['name']`, `[index]` (None when malformed).
pub(super) fn json_path_segments(path: &str) -> Option<Vec<PathSeg>> {
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
pub(super) fn json_path<'a>(
    doc: &'a serde_json::Value,
    path: &str,
) -> Option<&'a serde_json::Value> {
    let mut cur = doc;
    for seg in json_path_segments(path)? {
        cur = match seg {
            PathSeg::Key(k) => cur.get(k.as_str())?,
            PathSeg::Index(i) => cur.get(i)?,
        };
    }
    Some(cur)
}
