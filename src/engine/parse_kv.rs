//! `parse-kv`: key/value pairs read out of text, in the three modes of its documentation page:
//! given delimiters (optionally greedy), no delimiters (any non-alphanumeric character
//! separates), and a regular expression with two groups. Values and keys may be quoted (one or
//! two quote characters: opening and closing) with escape characters inside quotes; leading
//! and trailing white space is dropped; the first appearance of a key wins.

use std::collections::HashMap;

/// How `parse-kv` reads pairs (its `with (...)` properties).
#[derive(Clone, Debug, Default)]
pub struct KvOptions {
    pub pair_delimiter: Option<String>,
    pub kv_delimiter: Option<String>,
    /// (opening, closing) quote characters.
    pub quotes: Vec<(char, char)>,
    pub escapes: Vec<char>,
    pub greedy: bool,
    pub regex: Option<std::sync::Arc<regex::Regex>>,
}

/// The pairs of `text` (first appearance of each key).
pub fn pairs(text: &str, o: &KvOptions) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut put = |k: String, v: String| {
        out.entry(k).or_insert(v);
    };
    if let Some(re) = &o.regex {
        for c in re.captures_iter(text) {
            if let (Some(k), Some(v)) = (c.get(1), c.get(2)) {
                put(k.as_str().trim().to_string(), v.as_str().trim().to_string());
            }
        }
        return out;
    }
    let chars: Vec<char> = text.chars().collect();
    match (&o.pair_delimiter, &o.kv_delimiter) {
        (Some(p), Some(kv)) => {
            let p: Vec<char> = p.chars().collect();
            let kv: Vec<char> = kv.chars().collect();
            for (k, v) in delimited(&chars, &p, &kv, o) {
                put(k, v);
            }
        }
        _ => {
            let tokens = words(&chars, o);
            for w in tokens.windows(2) {
                put(w[0].clone(), w[1].clone());
            }
        }
    }
    out
}

fn at(chars: &[char], i: usize, pat: &[char]) -> bool {
    !pat.is_empty() && chars.len() >= i + pat.len() && chars[i..i + pat.len()] == *pat
}

/// A quoted run starting at `i` (an opening quote): its text without the quotes (escapes
/// applied) and the index after the closing quote; an unclosed quote runs to the end.
fn quoted(chars: &[char], i: usize, o: &KvOptions) -> Option<(String, usize)> {
    let &(_, close) = o.quotes.iter().find(|(open, _)| *open == chars[i])?;
    let mut s = String::new();
    let mut j = i + 1;
    while j < chars.len() {
        let c = chars[j];
        if o.escapes.contains(&c) && j + 1 < chars.len() {
            s.push(chars[j + 1]);
            j += 2;
            continue;
        }
        if c == close {
            return Some((s, j + 1));
        }
        s.push(c);
        j += 1;
    }
    Some((s, j))
}

fn skip_ws(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

fn text(chars: &[char], a: usize, b: usize) -> String {
    chars[a..b.min(chars.len())]
        .iter()
        .collect::<String>()
        .trim()
        .to_string()
}

/// Every start of `pat` in `chars`, in order (for "the next one at or after i" by binary
/// search, so a scan never rereads the text: hostile input stays linear).
fn positions(chars: &[char], pat: &[char]) -> Vec<usize> {
    if pat.is_empty() {
        return Vec::new();
    }
    (0..chars.len()).filter(|&i| at(chars, i, pat)).collect()
}

fn next(pos: &[usize], from: usize) -> Option<usize> {
    pos.get(pos.partition_point(|&p| p < from)).copied()
}

/// Pairs separated by `p`, key from value by `kv`. A greedy value runs to the pair delimiter
/// that a key follows (text up to `kv` with no pair delimiter in it), or to the end.
fn delimited(chars: &[char], p: &[char], kv: &[char], o: &KvOptions) -> Vec<(String, String)> {
    let (ps, kvs) = (positions(chars, p), positions(chars, kv));
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        i = skip_ws(chars, i);
        if i >= chars.len() {
            break;
        }
        // The key: quoted, or up to the key/value delimiter (not past a pair delimiter).
        let (key, after_key) = match quoted(chars, i, o) {
            Some((k, j)) => (k, skip_ws(chars, j)),
            None => match (next(&kvs, i), next(&ps, i)) {
                (Some(k), Some(q)) if q < k => {
                    // A piece without a key/value delimiter: skip it.
                    i = q + p.len();
                    continue;
                }
                (Some(k), _) => (text(chars, i, k), k),
                (None, _) => break,
            },
        };
        if !at(chars, after_key, kv) {
            i = next(&ps, after_key).map_or(chars.len(), |q| q + p.len());
            continue;
        }
        let v0 = skip_ws(chars, after_key + kv.len());
        if v0 < chars.len() {
            if let Some((v, j)) = quoted(chars, v0, o) {
                out.push((key, v));
                i = next(&ps, j).map_or(chars.len(), |q| q + p.len());
                continue;
            }
        }
        let end = if o.greedy {
            next_key_start(&ps, &kvs, v0, p.len(), chars.len())
        } else {
            next(&ps, v0).unwrap_or(chars.len())
        };
        out.push((key, text(chars, v0, end)));
        i = end + if end < chars.len() { p.len() } else { 0 };
    }
    out
}

/// Greedy mode: the first pair delimiter at or after `from` that a key follows (a key/value
/// delimiter comes before the next pair delimiter).
fn next_key_start(ps: &[usize], kvs: &[usize], from: usize, plen: usize, end: usize) -> usize {
    let mut k = ps.partition_point(|&q| q < from);
    while let Some(&d) = ps.get(k) {
        let key_start = d + plen;
        let following = ps[k + 1..].iter().find(|&&q| q >= key_start).copied();
        match (next(kvs, key_start), following) {
            (Some(kv), Some(n)) if kv < n => return d,
            (Some(_), None) => return d,
            (None, _) => return end,
            _ => k += 1,
        }
    }
    end
}

/// No delimiters given: words (runs of letters, digits and `_`, or quoted runs) in order; a
/// key's value is the word after it.
fn words(chars: &[char], o: &KvOptions) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some((w, j)) = quoted(chars, i, o) {
            out.push(w);
            i = j;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(p: &str, kv: &str, greedy: bool) -> KvOptions {
        KvOptions {
            pair_delimiter: Some(p.into()),
            kv_delimiter: Some(kv.into()),
            greedy,
            ..Default::default()
        }
    }

    #[test]
    fn long_hostile_text_stays_linear() {
        // 400,000 pair delimiters and one key/value delimiter at the very end: quadratic
        // scanning would take minutes.
        let mut t = "a=".to_string();
        t.push_str(&" x".repeat(200_000));
        t.push_str(" k=v");
        let start = std::time::Instant::now();
        for greedy in [false, true] {
            let m = pairs(&t, &opts(" ", "=", greedy));
            assert_eq!(m.get("k").map(String::as_str), Some("v"));
        }
        let mut t = " ".repeat(300_000);
        t.push_str("k=v");
        assert_eq!(
            pairs(&t, &opts(" ", "=", true))
                .get("k")
                .map(String::as_str),
            Some("v")
        );
        assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    }

    #[test]
    fn hostile_text_ends() {
        // Unclosed quotes, delimiters at the ends, empty keys: no panic, nothing invented.
        let mut o = opts(" ", "=", true);
        o.quotes = vec![('"', '"')];
        o.escapes = vec!['\\'];
        for t in [
            "", "=", " = ", "a=\"x", "a=\\", "\"k", "a= b=", "==== ", "a=1 a=2",
        ] {
            let _ = pairs(t, &o);
        }
        assert_eq!(pairs("a=1 a=2", &o).get("a").map(String::as_str), Some("1"));
        assert_eq!(pairs("a=\"x", &o).get("a").map(String::as_str), Some("x"));
    }
}
