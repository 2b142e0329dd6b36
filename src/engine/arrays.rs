//! Array and set functions: `array_split`, `array_shift_left`/`_right`, `array_rotate_left`/
//! `_right`, `array_iff`, `repeat`, `set_equals`, `jaccard_index`, `bag_zip`,
//! `base64_decode_toarray` and `base64_encode_fromarray`, as their documentation pages describe.

use super::error::R;
use super::value::Value;

type F = fn(&[Value]) -> R<Value>;
type J = serde_json::Value;

static NULL: Value = Value::Null;

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&NULL)
}

fn array(v: &Value) -> Option<Vec<J>> {
    match v.clone().cast(super::value::Type::Dynamic) {
        Value::Dyn(d) => d.as_array().cloned(),
        _ => None,
    }
}

fn dynamic(v: Vec<J>) -> Value {
    Value::dynamic(J::Array(v))
}

/// A position from the start, a negative one from the end, clamped into the array.
fn position(i: i64, len: usize) -> usize {
    if i < 0 {
        (len as i64 + i).max(0) as usize
    } else {
        (i as usize).min(len)
    }
}

fn split(a: &[Value]) -> R<Value> {
    let Some(x) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let mut cuts: Vec<usize> = match array(arg(a, 1)) {
        Some(ix) if matches!(arg(a, 1), Value::Dyn(_)) => ix
            .iter()
            .filter_map(|v| v.as_i64())
            .map(|i| position(i, x.len()))
            .collect(),
        _ => arg(a, 1)
            .as_i64()
            .map(|i| position(i, x.len()))
            .into_iter()
            .collect(),
    };
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in cuts {
        let c = c.max(from);
        out.push(J::Array(x[from..c].to_vec()));
        from = c;
    }
    out.push(J::Array(x[from..].to_vec()));
    Ok(dynamic(out))
}

/// Shift by `n` (negative: the other way), filling with `fill` (null by default).
fn shift(a: &[Value], left: bool) -> R<Value> {
    let Some(x) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let n = arg(a, 1).as_i64().unwrap_or(0);
    let n = if left { n } else { -n };
    let fill = if a.len() > 2 {
        arg(a, 2).to_json()
    } else {
        J::Null
    };
    let len = x.len() as i64;
    Ok(dynamic(
        (0..len)
            .map(|i| {
                let j = i + n;
                if (0..len).contains(&j) {
                    x[j as usize].clone()
                } else {
                    fill.clone()
                }
            })
            .collect(),
    ))
}

fn rotate(a: &[Value], left: bool) -> R<Value> {
    let Some(mut x) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    if x.is_empty() {
        return Ok(dynamic(x));
    }
    let n = arg(a, 1).as_i64().unwrap_or(0).rem_euclid(x.len() as i64) as usize;
    if left {
        x.rotate_left(n);
    } else {
        x.rotate_right(n);
    }
    Ok(dynamic(x))
}

/// Element-wise `iff`: the condition array decides; a scalar branch applies to every element,
/// an array branch gives its element (null past its end); a non-boolean condition is null.
fn iff(a: &[Value]) -> R<Value> {
    let Some(cond) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let branch = |v: &Value| -> Box<dyn Fn(usize) -> J> {
        match (v, array(v)) {
            (Value::Dyn(_), Some(x)) => Box::new(move |i| x.get(i).cloned().unwrap_or(J::Null)),
            _ => {
                let j = v.to_json();
                Box::new(move |_| j.clone())
            }
        }
    };
    let (t, f) = (branch(arg(a, 1)), branch(arg(a, 2)));
    Ok(dynamic(
        cond.iter()
            .enumerate()
            .map(|(i, c)| match c {
                J::Bool(true) => t(i),
                J::Bool(false) => f(i),
                J::Number(n) if n.as_f64().is_some() => {
                    if n.as_f64() != Some(0.0) {
                        t(i)
                    } else {
                        f(i)
                    }
                }
                _ => J::Null,
            })
            .collect(),
    ))
}

fn repeat(a: &[Value]) -> R<Value> {
    let n = arg(a, 1).as_i64().unwrap_or(0);
    if n < 0 {
        return Ok(Value::Null);
    }
    if n > 1_000_000 {
        return Err(super::error::EngineError::new(
            "repeat(): more than 1,000,000 elements",
            None,
        ));
    }
    Ok(dynamic(vec![arg(a, 0).to_json(); n as usize]))
}

fn set_of(v: &Value) -> Option<std::collections::BTreeSet<String>> {
    array(v).map(|x| x.iter().map(|e| e.to_string()).collect())
}

fn set_equals(a: &[Value]) -> R<Value> {
    Ok(match (set_of(arg(a, 0)), set_of(arg(a, 1))) {
        (Some(x), Some(y)) => Value::Bool(x == y),
        _ => Value::Null,
    })
}

fn jaccard(a: &[Value]) -> R<Value> {
    Ok(match (set_of(arg(a, 0)), set_of(arg(a, 1))) {
        (Some(x), Some(y)) => {
            let union = x.union(&y).count();
            if union == 0 {
                Value::Real(0.0)
            } else {
                Value::Real(x.intersection(&y).count() as f64 / union as f64)
            }
        }
        _ => Value::Null,
    })
}

/// Pairs of keys and values into arrays `[key, value]` (the shorter side padded with null).
fn bag_zip(a: &[Value]) -> R<Value> {
    let (Some(k), Some(v)) = (array(arg(a, 0)), array(arg(a, 1))) else {
        return Ok(Value::Null);
    };
    let mut bag = serde_json::Map::new();
    for (i, key) in k.iter().enumerate() {
        if let Some(key) = key.as_str() {
            bag.insert(key.to_string(), v.get(i).cloned().unwrap_or(J::Null));
        }
    }
    Ok(Value::dynamic(J::Object(bag)))
}

fn base64_toarray(a: &[Value]) -> R<Value> {
    Ok(
        match super::codec::base64_decode(&arg(a, 0).to_kusto_string()) {
            Some(b) => dynamic(b.into_iter().map(|x| serde_json::json!(x)).collect()),
            None => Value::Null,
        },
    )
}

fn base64_fromarray(a: &[Value]) -> R<Value> {
    let Some(x) = array(arg(a, 0)) else {
        return Ok(Value::Null);
    };
    let bytes: Option<Vec<u8>> = x
        .iter()
        .map(|v| v.as_i64().and_then(|b| u8::try_from(b).ok()))
        .collect();
    Ok(match bytes {
        Some(b) => Value::string(super::codec::base64_encode(&b)),
        None => Value::Null,
    })
}

pub(super) fn lookup(name: &str) -> Option<F> {
    Some(match name {
        "array_split" => split,
        "array_shift_left" => |a| shift(a, true),
        "array_shift_right" => |a| shift(a, false),
        "array_rotate_left" => |a| rotate(a, true),
        "array_rotate_right" => |a| rotate(a, false),
        "array_iff" | "array_iif" => iff,
        "repeat" => repeat,
        "set_equals" => set_equals,
        "jaccard_index" => jaccard,
        "bag_zip" => bag_zip,
        "base64_decode_toarray" => base64_toarray,
        "base64_encode_fromarray" => base64_fromarray,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    fn run(q: &str) -> String {
        let sb = super::super::Sandbox::default();
        let o = super::super::run(
            q,
            &sb,
            super::super::RunOptions {
                now: 0,
                window: None,
            },
        )
        .unwrap_or_else(|e| panic!("{q}: {}", e.message));
        o.table.columns[0].data[0].to_kusto_string()
    }

    #[test]
    fn shifts_rotations_and_element_wise_iff() {
        assert_eq!(
            run("print array_shift_left(dynamic([1,2,3,4,5]), 2)"),
            "[3,4,5,null,null]"
        );
        assert_eq!(
            run("print array_shift_left(dynamic([1,2,3,4,5]), -2, -1)"),
            "[-1,-1,1,2,3]"
        );
        assert_eq!(
            run("print array_shift_right(dynamic([1,2,3,4,5]), 1, 0)"),
            "[0,1,2,3,4]"
        );
        assert_eq!(
            run("print array_rotate_left(dynamic([1,2,3,4,5]), 7)"),
            "[3,4,5,1,2]"
        );
        assert_eq!(
            run("print array_rotate_right(dynamic([1,2,3,4,5]), -1)"),
            "[2,3,4,5,1]"
        );
        assert_eq!(
            run("print array_iff(dynamic([true, false, true, 'x']), dynamic([1,2,3]), 0)"),
            "[1,0,3,null]"
        );
        assert_eq!(run("print repeat('ab', 3)"), "[\"ab\",\"ab\",\"ab\"]");
        assert_eq!(run("print repeat(1, -1)"), "");
        assert_eq!(
            run("print set_equals(dynamic([1,2,2]), dynamic([2,1]))"),
            "true"
        );
        assert_eq!(
            run("print jaccard_index(dynamic([1,2,3]), dynamic([2,3,4]))"),
            "0.5"
        );
        assert_eq!(
            run("print bag_zip(dynamic(['a','b']), dynamic([1]))"),
            "{\"a\":1,\"b\":null}"
        );
        assert_eq!(
            run("print array_split(dynamic([1,2,3]), -1)"),
            "[[1,2],[3]]"
        );
        // A hostile count is refused, not allocated.
        let sb = super::super::Sandbox::default();
        let e = super::super::run(
            "print repeat(1, 1000000000)",
            &sb,
            super::super::RunOptions {
                now: 0,
                window: None,
            },
        )
        .unwrap_err();
        assert!(e.message.contains("1,000,000"), "{}", e.message);
    }

    #[test]
    fn text_functions() {
        assert_eq!(run("print regex_quote('a.b*c')"), "a\\.b\\*c");
        assert_eq!(run("print to_utf8('é')"), "[195,169]");
        assert_eq!(run("print make_string(75, dynamic([117, 115]))"), "Kus");
        assert_eq!(run("print make_string(-1)"), "");
        assert_eq!(run("print format_bytes(1000, 1, '', 1000)"), "1.0 KB");
        assert_eq!(run("print round(atan2(1, 1) * 4, 6)"), "3.141593");
        assert_eq!(run("print round(cot(pi() / 4), 6)"), "1");
    }
}
