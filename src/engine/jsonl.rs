//! The common JSON Lines row read without serde's visitor machinery: one object whose keys are
//! strings and whose values are strings, integers, `true`, `false` or `null`; nested objects,
//! arrays and other numbers are handed to serde_json on their own bytes.
//!
//! It is a fast path, never a second dialect. On a line that is valid JSON it reports, in
//! order, exactly the cells the full parser (`data::RowSeed`) would; it gives up (`false`) only
//! on a line that is not a valid JSON object (invalid UTF-8, a control byte in a string, a
//! lone surrogate escape, a leading zero, trailing bytes, ...), and the caller then parses the
//! line with serde_json, which reports the error. Cells reported before it gave up are
//! reported again by the full parser, so they leave nothing behind but dictionary entries of a
//! load that is about to fail.

use super::value::Value;

/// Where the cells of a row go.
pub trait Sink {
    /// The column of the next cell.
    fn column(&mut self, key: &str) -> usize;
    fn string(&mut self, col: usize, s: &str);
    fn value(&mut self, col: usize, v: Value);
}

/// Reused from line to line, so a row costs no allocation of its own.
#[derive(Default)]
pub struct Lexer {
    /// A string with escapes, decoded.
    scratch: String,
}

/// A string read by [`Lexer::string`]: in the line, or decoded into the scratch text.
enum Str {
    Line(usize, usize),
    Scratch,
}

impl Lexer {
    /// Read `line` as one JSON object into `sink`; `false` when the line is not one.
    pub fn row<S: Sink>(&mut self, line: &[u8], sink: &mut S) -> bool {
        // UTF-8 checked once per line: every string then starts and ends at an ASCII quote.
        let Ok(text) = std::str::from_utf8(line) else {
            return false;
        };
        self.object(text, sink).is_some()
    }

    #[inline(always)]
    fn object<S: Sink>(&mut self, text: &str, sink: &mut S) -> Option<()> {
        let s = text.as_bytes();
        let mut i = skip_ws(s, 0);
        if s.get(i) != Some(&b'{') {
            return None;
        }
        i = skip_ws(s, i + 1);
        if s.get(i) == Some(&b'}') {
            return (skip_ws(s, i + 1) == s.len()).then_some(());
        }
        loop {
            let (key, j) = self.string(text, i)?;
            let col = sink.column(self.text(text, key));
            i = skip_ws(s, j);
            if s.get(i) != Some(&b':') {
                return None;
            }
            i = skip_ws(s, i + 1);
            i = match *s.get(i)? {
                b'"' => {
                    let (v, j) = self.string(text, i)?;
                    sink.string(col, self.text(text, v));
                    j
                }
                b'n' => literal(s, i, b"null", || sink.value(col, Value::Null))?,
                b't' => literal(s, i, b"true", || sink.value(col, Value::Bool(true)))?,
                b'f' => literal(s, i, b"false", || sink.value(col, Value::Bool(false)))?,
                b'{' | b'[' => {
                    // Self-delimiting: serde_json reads exactly this value and says where it
                    // ended.
                    let mut it = serde_json::Deserializer::from_str(&text[i..])
                        .into_iter::<serde_json::Value>();
                    let v = it.next()?.ok()?;
                    sink.value(col, Value::dynamic(v));
                    i + it.byte_offset()
                }
                b'-' | b'0'..=b'9' => {
                    let end = i + s[i..]
                        .iter()
                        .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                        .unwrap_or(s.len() - i);
                    let v = match integer(&s[i..end]) {
                        Some(n) => Value::Long(n),
                        None => number(&text[i..end])?,
                    };
                    sink.value(col, v);
                    end
                }
                _ => return None,
            };
            i = skip_ws(s, i);
            match s.get(i) {
                Some(b',') => i = skip_ws(s, i + 1),
                Some(b'}') => return (skip_ws(s, i + 1) == s.len()).then_some(()),
                _ => return None,
            }
        }
    }

    #[inline(always)]
    fn text<'a>(&'a self, text: &'a str, s: Str) -> &'a str {
        match s {
            Str::Line(a, b) => &text[a..b],
            Str::Scratch => &self.scratch,
        }
    }

    /// A string starting at its opening quote `i`, and the index after its closing quote.
    #[inline(always)]
    fn string(&mut self, text: &str, i: usize) -> Option<(Str, usize)> {
        let s = text.as_bytes();
        if s.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let mut j = start;
        while let Some(&c) = s.get(j) {
            if c == b'"' {
                return Some((Str::Line(start, j), j + 1));
            }
            if c == b'\\' || c < 0x20 {
                break;
            }
            j += 1;
        }
        self.escaped(text, start, j)
    }

    /// The rest of a string from its first escape at `j`, decoded into the scratch text.
    #[cold]
    fn escaped(&mut self, text: &str, start: usize, mut j: usize) -> Option<(Str, usize)> {
        let s = text.as_bytes();
        self.scratch.clear();
        let mut at = start;
        loop {
            match *s.get(j)? {
                b'"' => {
                    self.scratch.push_str(&text[at..j]);
                    return Some((Str::Scratch, j + 1));
                }
                b'\\' => {
                    self.scratch.push_str(&text[at..j]);
                    let (c, next) = escape(s, j)?;
                    self.scratch.push(c);
                    j = next;
                    at = j;
                }
                c if c < 0x20 => return None,
                _ => j += 1,
            }
        }
    }
}

/// The escape sequence at `j` (its backslash) and the index after it.
fn escape(s: &[u8], j: usize) -> Option<(char, usize)> {
    let c = match *s.get(j + 1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hi = hex4(s, j + 2)?;
            return match hi {
                0xD800..=0xDBFF => {
                    // A surrogate pair is two escapes; a lone half is an error for serde_json.
                    if s.get(j + 6) != Some(&b'\\') || s.get(j + 7) != Some(&b'u') {
                        return None;
                    }
                    let lo = hex4(s, j + 8)?;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        return None;
                    }
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    Some((char::from_u32(c)?, j + 12))
                }
                0xDC00..=0xDFFF => None,
                _ => Some((char::from_u32(hi)?, j + 6)),
            };
        }
        _ => return None,
    };
    Some((c, j + 2))
}

fn hex4(s: &[u8], at: usize) -> Option<u32> {
    let h = s.get(at..at + 4)?;
    h.iter()
        .try_fold(0u32, |acc, &c| Some(acc * 16 + (c as char).to_digit(16)?))
}

#[inline(always)]
fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = s.get(i) {
        i += 1;
    }
    i
}

#[inline(always)]
fn literal(s: &[u8], i: usize, word: &[u8], then: impl FnOnce()) -> Option<usize> {
    s[i..].starts_with(word).then(|| {
        then();
        i + word.len()
    })
}

/// A JSON integer of at most 18 digits without a leading zero (so it fits an `i64` and reads
/// as the full parser reads it); anything else is left to serde_json.
#[inline(always)]
fn integer(n: &[u8]) -> Option<i64> {
    let (neg, digits) = match n.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, n),
    };
    let first = *digits.first()?;
    if digits.len() > 18
        || !digits.iter().all(u8::is_ascii_digit)
        || (first == b'0' && (digits.len() > 1 || neg))
    {
        return None;
    }
    let v = digits
        .iter()
        .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    Some(if neg { -v } else { v })
}

/// Any other number, read by serde_json into the value the full parser makes of it.
#[cold]
fn number(n: &str) -> Option<Value> {
    match serde_json::from_str::<serde_json::Value>(n).ok()? {
        serde_json::Value::Number(x) => Some(if let Some(i) = x.as_i64() {
            Value::Long(i)
        } else if let Some(u) = x.as_u64() {
            Value::Real(u as f64)
        } else {
            Value::Real(x.as_f64()?)
        }),
        _ => None,
    }
}
