//! RE2's regular-expression syntax, the one Kusto runs: [`check`] decides whether RE2 (default
//! options: Perl classes, `\b`, `(?flags)`, Unicode groups, non-greedy operators, one-line
//! `^`/`$`) accepts a pattern, with RE2's own error text; [`translate`] rewrites an accepted
//! pattern into the `regex` crate's syntax with the same meaning, for the embedded engine.
//!
//! The rules follow RE2's parser (`re2/parse.cc`): what may be escaped, when `{` is a literal,
//! `[` inside a class, octal and hex escapes, the 1,000 limit on counted repetition (also
//! across nesting), stacked repetition operators, `(?P<name>`/`(?<name>`, and the Unicode
//! group names of `re2/unicode_groups.cc`. The differences from the `regex` crate that matter:
//! `\d`, `\s`, `\w` and `\b` are ASCII in RE2; `[[]` is a class holding `[`; `\Q...\E`
//! quotes; `{,3}` and an unclosed `{` are literals; `&&`, `--`, `~~` in a class are literals.
//! Not modelled: RE2's program-size limit (8 MB by default; `\pL{1000}` exceeds it): vigil
//! accepts such patterns and the engine's own size limit applies.
//!
//! This module depends on nothing else in vigil.

use std::fmt;

/// RE2's counted-repetition limit (`{1001}` is an error).
const MAX_REPEAT: u32 = 1000;

/// Why RE2 rejects a pattern: RE2's error text and the argument it quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// RE2's words for the error ("missing ]", "invalid escape sequence", ...).
    pub kind: &'static str,
    /// The part of the pattern RE2 quotes (may be empty).
    pub arg: String,
    /// Byte offset in the pattern where the quoted part starts.
    pub offset: usize,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.arg.is_empty() {
            f.write_str(self.kind)
        } else {
            write!(f, "{}: {}", self.kind, self.arg)
        }
    }
}

const BAD_ESCAPE: &str = "invalid escape sequence";
const BAD_RANGE: &str = "invalid character class range";
const MISSING_BRACKET: &str = "missing ]";
const MISSING_PAREN: &str = "missing )";
const UNEXPECTED_PAREN: &str = "unexpected )";
const TRAILING_BACKSLASH: &str = "trailing \\";
const REPEAT_ARGUMENT: &str = "no argument for repetition operator";
const REPEAT_SIZE: &str = "invalid repetition size";
const REPEAT_OP: &str = "bad repetition operator";
const BAD_PERL_OP: &str = "invalid perl operator";
const BAD_NAMED_CAPTURE: &str = "invalid named capture group";

/// Whether RE2 accepts `pattern` under its default options.
pub fn check(pattern: &str) -> Result<(), Error> {
    translate(pattern).map(|_| ())
}

/// `pattern` (RE2 syntax) in the `regex` crate's syntax, or RE2's error.
pub fn translate(pattern: &str) -> Result<String, Error> {
    let mut p = Parser {
        src: pattern,
        pos: 0,
        out: String::with_capacity(pattern.len() + 8),
        frames: vec![Frame::default()],
        names: Vec::new(),
    };
    p.run()?;
    Ok(p.out)
}

/// What sits on top of RE2's parse stack, for the repetition checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Top {
    /// Nothing, `(` or `|`: a repetition operator here has no argument.
    Marker,
    /// An operand; `start` is where its text begins in the output.
    Operand {
        start: usize,
        /// The largest product of counted repetitions on one path inside it.
        repeats: u32,
        /// It is a repetition itself (a further operator needs a group around it).
        repeated: bool,
        /// It is one atom of the `regex` syntax (a further operator applies to all of it).
        atom: bool,
    },
}

/// One level of parentheses.
#[derive(Clone, Debug)]
struct Frame {
    top: Top,
    /// The largest repetition product among the finished pieces of this level.
    repeats: u32,
    /// Where the group's text starts in the output (its `(`).
    start: usize,
}

impl Default for Frame {
    fn default() -> Self {
        Frame {
            top: Top::Marker,
            repeats: 1,
            start: 0,
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    out: String,
    frames: Vec<Frame>,
    names: Vec<String>,
}

fn err(kind: &'static str, arg: &str, offset: usize) -> Error {
    Error {
        kind,
        arg: arg.to_string(),
        offset,
    }
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn frame(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a frame")
    }

    /// Close the operand on top (its repetition product joins the level's).
    fn settle(&mut self) {
        let f = self.frame();
        if let Top::Operand { repeats, .. } = f.top {
            f.repeats = f.repeats.max(repeats);
        }
    }

    /// Push an operand whose text is `text` (one atom of the `regex` syntax when `atom`).
    fn operand(&mut self, text: &str, atom: bool) {
        self.settle();
        let start = self.out.len();
        self.out.push_str(text);
        self.frame().top = Top::Operand {
            start,
            repeats: 1,
            repeated: false,
            atom,
        };
    }

    fn literal(&mut self, c: char) {
        let mut buf = [0u8; 4];
        let text = regex_escape_char(c, c.encode_utf8(&mut buf));
        self.operand(&text, true);
    }

    fn run(&mut self) -> Result<(), Error> {
        // Whether the previous item was a repetition operator (RE2's `lastunary`).
        let mut last_repeat: Option<usize> = None;
        while let Some(c) = self.peek() {
            let at = self.pos;
            let mut this_repeat = None;
            match c {
                '(' => self.open()?,
                '|' => {
                    self.pos += 1;
                    self.settle();
                    self.out.push('|');
                    self.frame().top = Top::Marker;
                }
                ')' => {
                    if self.frames.len() == 1 {
                        return Err(err(UNEXPECTED_PAREN, self.src, at));
                    }
                    self.pos += 1;
                    self.settle();
                    let f = self.frames.pop().expect("a frame");
                    self.out.push(')');
                    self.frame().top = Top::Operand {
                        start: f.start,
                        repeats: f.repeats,
                        repeated: false,
                        atom: true,
                    };
                }
                '^' | '$' | '.' => {
                    self.pos += 1;
                    // An assertion repeated (`^*`) is valid RE2; grouped so `regex` takes it.
                    let text = match c {
                        '^' => "(?:^)",
                        '$' => "(?:$)",
                        _ => ".",
                    };
                    self.operand(text, true);
                }
                '[' => {
                    let class = self.class()?;
                    self.operand(&class, true);
                }
                '*' | '+' | '?' => {
                    self.pos += 1;
                    if self.peek() == Some('?') {
                        self.pos += 1;
                    }
                    let op = &self.src[at..self.pos];
                    if let Some(prev) = last_repeat {
                        return Err(err(REPEAT_OP, &self.src[prev..self.pos], prev));
                    }
                    self.repeat(op, at, None)?;
                    this_repeat = Some(at);
                }
                '{' => match parse_repeat(self.rest()) {
                    None => {
                        self.pos += 1;
                        self.literal('{');
                    }
                    Some((lo, hi, len)) => {
                        self.pos += len;
                        if self.peek() == Some('?') {
                            self.pos += 1;
                        }
                        let op = self.src[at..self.pos].to_string();
                        if let Some(prev) = last_repeat {
                            return Err(err(REPEAT_OP, &self.src[prev..self.pos], prev));
                        }
                        self.repeat(&op, at, Some((lo, hi)))?;
                        this_repeat = Some(at);
                    }
                },
                '\\' => self.escape()?,
                _ => {
                    self.pos += c.len_utf8();
                    self.literal(c);
                }
            }
            last_repeat = this_repeat;
        }
        if self.frames.len() > 1 {
            return Err(err(MISSING_PAREN, self.src, self.src.len()));
        }
        Ok(())
    }

    /// A repetition operator `op` (its text, with a non-greedy `?`) at `at`; `counted` for
    /// `{lo,hi}` (`hi` None: unbounded).
    fn repeat(
        &mut self,
        op: &str,
        at: usize,
        counted: Option<(u32, Option<u32>)>,
    ) -> Result<(), Error> {
        if let Some((lo, hi)) = counted {
            if hi.is_some_and(|h| h < lo) || lo > MAX_REPEAT || hi.is_some_and(|h| h > MAX_REPEAT) {
                return Err(err(REPEAT_SIZE, op, at));
            }
        }
        let Top::Operand {
            start,
            repeats,
            repeated,
            atom,
        } = self.frame().top
        else {
            return Err(err(REPEAT_ARGUMENT, op, at));
        };
        let mut repeats = repeats;
        if let Some((lo, hi)) = counted {
            let m = hi.unwrap_or(lo);
            if m > 0 {
                repeats = repeats.saturating_mul(m);
            }
            if (lo >= 2 || hi.is_some_and(|h| h >= 2)) && repeats > MAX_REPEAT {
                return Err(err(REPEAT_SIZE, op, at));
            }
        }
        if repeated || !atom {
            self.out.insert_str(start, "(?:");
            self.out.push(')');
        }
        self.out.push_str(op);
        self.frame().top = Top::Operand {
            start,
            repeats,
            repeated: true,
            atom: true,
        };
        Ok(())
    }

    /// `(`, `(?flags)`, `(?flags:`, `(?P<name>`, `(?<name>`.
    fn open(&mut self) -> Result<(), Error> {
        let at = self.pos;
        let t = self.rest();
        if !t.starts_with("(?") {
            self.pos += 1;
            self.push_group("(");
            return Ok(());
        }
        let b = t.as_bytes();
        if (b.len() > 3 && (b[2] == b'=' || b[2] == b'!'))
            || (b.len() > 4 && b[2] == b'<' && (b[3] == b'=' || b[3] == b'!'))
        {
            let n = if b[2] == b'<' { 4 } else { 3 };
            return Err(err(BAD_PERL_OP, &t[..n], at));
        }
        if (b.len() > 4 && b[2] == b'P' && b[3] == b'<') || (b.len() > 3 && b[2] == b'<') {
            let begin = if b[2] == b'P' { 4 } else { 3 };
            let Some(end) = t[begin..].find('>').map(|e| e + begin) else {
                return Err(err(BAD_NAMED_CAPTURE, t, at));
            };
            let name = &t[begin..end];
            if !valid_capture_name(name) {
                return Err(err(BAD_NAMED_CAPTURE, &t[..=end], at));
            }
            self.pos += end + 1;
            // `regex` wants unique names that start with a letter or `_`; RE2 allows repeats
            // and leading digits. Such groups keep their number and lose the name.
            let usable = !self.names.iter().any(|n| n == name)
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || c == '_');
            if usable {
                self.names.push(name.to_string());
                self.push_group(&format!("(?P<{name}>"));
            } else {
                self.push_group("(");
            }
            return Ok(());
        }
        // Flags: i m s U, one `-`, then `)` or `:`.
        let mut i = 2;
        let mut negated = false;
        let mut saw = false;
        let bad = |i: usize| err(BAD_PERL_OP, &t[..i.min(t.len())], at);
        loop {
            let Some(c) = t[i..].chars().next() else {
                return Err(bad(i));
            };
            i += c.len_utf8();
            match c {
                'i' | 'm' | 's' | 'U' => saw = true,
                '-' => {
                    if negated {
                        return Err(bad(i));
                    }
                    negated = true;
                    saw = false;
                }
                ':' | ')' => {
                    if negated && !saw {
                        return Err(bad(i));
                    }
                    let flags = &t[2..i - 1];
                    self.pos += i;
                    if c == ':' {
                        self.push_group(&format!("(?{flags}:"));
                    } else if !flags.is_empty() {
                        // Flags for the rest of the group: no operand, no marker.
                        self.out.push_str(&format!("(?{flags})"));
                    }
                    return Ok(());
                }
                _ => return Err(bad(i)),
            }
        }
    }

    fn push_group(&mut self, text: &str) {
        self.settle();
        let start = self.out.len();
        self.out.push_str(text);
        self.frames.push(Frame {
            start,
            ..Frame::default()
        });
    }

    /// A backslash outside a class.
    fn escape(&mut self) -> Result<(), Error> {
        let at = self.pos;
        let t = self.rest();
        let mut chars = t.chars();
        chars.next();
        let Some(c) = chars.next() else {
            return Err(err(TRAILING_BACKSLASH, "", at));
        };
        match c {
            'b' => {
                self.pos += 2;
                self.operand(r"(?-u:\b)", true);
            }
            'B' => {
                self.pos += 2;
                self.operand(r"(?-u:\B)", true);
            }
            'A' => {
                self.pos += 2;
                self.operand(r"(?:\A)", true);
            }
            'z' => {
                self.pos += 2;
                self.operand(r"(?:\z)", true);
            }
            'C' => {
                // Any byte; the engine works on text, so any character.
                self.pos += 2;
                self.operand("(?s:.)", true);
            }
            'Q' => {
                self.pos += 2;
                while !self.rest().is_empty() {
                    if self.rest().starts_with("\\E") {
                        self.pos += 2;
                        break;
                    }
                    let c = self.peek().expect("not empty");
                    self.pos += c.len_utf8();
                    self.literal(c);
                }
            }
            'p' | 'P' => {
                let class = self.unicode_group()?;
                self.operand(&class, true);
            }
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => {
                self.pos += 2;
                let (set, negated) = perl_class(c);
                let text = if negated {
                    format!("[^{set}]")
                } else {
                    format!("[{set}]")
                };
                self.operand(&text, true);
            }
            _ => {
                let r = self.escaped_char()?;
                self.literal(r);
            }
        }
        Ok(())
    }

    /// An escape that names one character (`\n`, `\x41`, `\101`, `\.`), at `self.pos`.
    fn escaped_char(&mut self) -> Result<char, Error> {
        let at = self.pos;
        let t = self.rest();
        let mut it = t.char_indices();
        it.next();
        let Some((_, c)) = it.next() else {
            return Err(err(TRAILING_BACKSLASH, "", at));
        };
        let after = 1 + c.len_utf8();
        let bad = |end: usize| err(BAD_ESCAPE, &t[..end.min(t.len())], at);
        let b = t.as_bytes();
        let (r, len) = match c {
            '1'..='7' if !b.get(2).is_some_and(|d| (b'0'..=b'7').contains(d)) => {
                return Err(bad(2));
            }
            '0'..='7' => {
                let mut code = c as u32 - '0' as u32;
                let mut len = 2;
                for _ in 0..2 {
                    match b.get(len) {
                        Some(d @ b'0'..=b'7') => {
                            code = code * 8 + u32::from(d - b'0');
                            len += 1;
                        }
                        _ => break,
                    }
                }
                (char::from_u32(code).ok_or_else(|| bad(len))?, len)
            }
            'x' => {
                let rest = &t[2..];
                if let Some(body) = rest.strip_prefix('{') {
                    let digits: String =
                        body.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
                    let mut code: u32 = 0;
                    for (k, d) in digits.chars().enumerate() {
                        code = code * 16 + d.to_digit(16).expect("hex");
                        if code > 0x10FFFF {
                            return Err(bad(3 + k + 1));
                        }
                    }
                    let close = 3 + digits.len();
                    if digits.is_empty() || b.get(close) != Some(&b'}') {
                        let end = (close + 1).min(t.len());
                        let end = (0..=end)
                            .rev()
                            .find(|e| t.is_char_boundary(*e))
                            .unwrap_or(0);
                        return Err(bad(end));
                    }
                    match char::from_u32(code) {
                        Some(r) => (r, close + 1),
                        // A surrogate: RE2 takes it as a rune; text cannot hold it.
                        None => (char::REPLACEMENT_CHARACTER, close + 1),
                    }
                } else {
                    let mut hex = rest.chars();
                    let (h1, h2) = (hex.next(), hex.next());
                    match (h1, h2) {
                        (Some(a), Some(b2)) if a.is_ascii_hexdigit() && b2.is_ascii_hexdigit() => {
                            let code = a.to_digit(16).unwrap() * 16 + b2.to_digit(16).unwrap();
                            (char::from_u32(code).expect("a byte"), 4)
                        }
                        _ => {
                            let end =
                                2 + h1.map_or(0, char::len_utf8) + h2.map_or(0, char::len_utf8);
                            return Err(bad(end));
                        }
                    }
                }
            }
            'n' => ('\n', 2),
            'r' => ('\r', 2),
            't' => ('\t', 2),
            'a' => ('\x07', 2),
            'f' => ('\x0C', 2),
            'v' => ('\x0B', 2),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => (c, 2),
            _ => return Err(bad(after)),
        };
        self.pos += len;
        Ok(r)
    }

    /// `\pL`, `\p{Greek}`, `\P{^Greek}`, at `self.pos`: the class in `regex` syntax.
    fn unicode_group(&mut self) -> Result<String, Error> {
        let at = self.pos;
        let t = self.rest();
        let mut negated = t.as_bytes()[1] == b'P';
        let body = &t[2..];
        let (name, len) = match body.chars().next() {
            None => return Err(err(BAD_RANGE, t, at)),
            Some('{') => match body.find('}') {
                None => return Err(err(BAD_RANGE, t, at)),
                Some(e) => (&body[1..e], 2 + e + 1),
            },
            Some(c) => (&body[..c.len_utf8()], 2 + c.len_utf8()),
        };
        let seq = &t[..len];
        let name = match name.strip_prefix('^') {
            Some(n) => {
                negated = !negated;
                n
            }
            None => name,
        };
        if name != "Any" && UNICODE_GROUPS.binary_search(&name).is_err() {
            return Err(err(BAD_RANGE, seq, at));
        }
        self.pos += len;
        Ok(format!("\\{}{{{name}}}", if negated { 'P' } else { 'p' }))
    }

    /// A character class from `[` to `]`, in `regex` syntax.
    fn class(&mut self) -> Result<String, Error> {
        let at = self.pos;
        let whole = self.rest();
        let mut out = String::from("[");
        self.pos += 1;
        if self.peek() == Some('^') {
            self.pos += 1;
            out.push('^');
        }
        // `regex` has no empty class syntax; a class of only `[^...]` items is a union.
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(err(MISSING_BRACKET, whole, at));
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            let t = self.rest();
            // [:alpha:]
            if t.len() > 2 && t.starts_with("[:") {
                if let Some(e) = t[2..].find(":]") {
                    let name = &t[..2 + e + 2];
                    let inner = &name[2..name.len() - 2];
                    let bare = inner.strip_prefix('^').unwrap_or(inner);
                    if !POSIX_CLASSES.contains(&bare) {
                        return Err(err(BAD_RANGE, name, self.pos));
                    }
                    out.push_str(name);
                    self.pos += name.len();
                    continue;
                }
            }
            if t.len() > 2 && (t.starts_with("\\p") || t.starts_with("\\P")) {
                let g = self.unicode_group()?;
                out.push_str(&g);
                continue;
            }
            if t.len() > 1 && t.starts_with('\\') {
                let k = t.as_bytes()[1] as char;
                if matches!(k, 'd' | 'D' | 's' | 'S' | 'w' | 'W') {
                    self.pos += 2;
                    let (set, negated) = perl_class(k);
                    if negated {
                        out.push_str(&format!("[^{set}]"));
                    } else {
                        out.push_str(set);
                    }
                    continue;
                }
            }
            // A character or a range.
            let from = self.pos;
            let lo = self.class_char(whole, at)?;
            let t = self.rest();
            if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
                self.pos += 1;
                let hi = self.class_char(whole, at)?;
                if hi < lo {
                    return Err(err(BAD_RANGE, &self.src[from..self.pos], from));
                }
                push_class_char(&mut out, lo);
                out.push('-');
                push_class_char(&mut out, hi);
            } else {
                push_class_char(&mut out, lo);
            }
        }
        out.push(']');
        Ok(out)
    }

    fn class_char(&mut self, whole: &str, at: usize) -> Result<char, Error> {
        match self.peek() {
            None => Err(err(MISSING_BRACKET, whole, at)),
            Some('\\') => self.escaped_char(),
            Some(c) => {
                self.pos += c.len_utf8();
                Ok(c)
            }
        }
    }
}

/// `{lo}`, `{lo,}`, `{lo,hi}` at the start of `t`: (lo, hi, length); None when RE2 takes the
/// `{` as a literal (no digits, leading zeros, `{,n}`, unclosed, a number past 10^8).
fn parse_repeat(t: &str) -> Option<(u32, Option<u32>, usize)> {
    let b = t.as_bytes();
    let mut i = 1;
    let int = |i: &mut usize| -> Option<u32> {
        let s = *i;
        if !b.get(s)?.is_ascii_digit() {
            return None;
        }
        if b[s] == b'0' && b.get(s + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut n: u32 = 0;
        while let Some(d) = b.get(*i).filter(|d| d.is_ascii_digit()) {
            if n >= 100_000_000 {
                return None;
            }
            n = n * 10 + u32::from(d - b'0');
            *i += 1;
        }
        Some(n)
    };
    let lo = int(&mut i)?;
    let hi = match b.get(i)? {
        b',' => {
            i += 1;
            if *b.get(i)? == b'}' {
                None
            } else {
                Some(int(&mut i)?)
            }
        }
        _ => Some(lo),
    };
    if *b.get(i)? != b'}' {
        return None;
    }
    Some((lo, hi, i + 1))
}

/// The ASCII set of a Perl class (`\d` → `0-9`) and whether it is negated.
fn perl_class(c: char) -> (&'static str, bool) {
    match c {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        's' => (r"\t\n\x0C\r ", false),
        'S' => (r"\t\n\x0C\r ", true),
        'w' => ("0-9A-Za-z_", false),
        _ => ("0-9A-Za-z_", true),
    }
}

/// One character outside a class, escaped for `regex` when it is a metacharacter.
fn regex_escape_char(c: char, s: &str) -> String {
    if c.is_ascii_punctuation() || c.is_whitespace() || c.is_control() {
        format!("\\x{{{:X}}}", c as u32)
    } else {
        s.to_string()
    }
}

/// One character inside a class: letters and digits as they are, anything else by code
/// point (so `&&`, `--`, `~~`, `[` and `]` stay literal).
fn push_class_char(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

/// RE2's capture names: letters, marks, decimal and letter numbers, connector punctuation.
fn valid_capture_name(name: &str) -> bool {
    use std::sync::OnceLock;
    static WORD: OnceLock<regex::Regex> = OnceLock::new();
    let re = WORD.get_or_init(|| {
        regex::Regex::new(r"^[\p{Lu}\p{Ll}\p{Lt}\p{Lm}\p{Lo}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]+$")
            .expect("a valid class")
    });
    re.is_match(name)
}

/// The POSIX classes RE2 knows inside brackets (`[[:alpha:]]`, `[[:^alpha:]]`).
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// The Unicode groups RE2 knows (`\p{Greek}`, `\pL`; `Any` besides), from
/// `re2/unicode_groups.cc` (Unicode 15.1), sorted.
pub const UNICODE_GROUPS: &[&str] = &[
    "Adlam",
    "Ahom",
    "Anatolian_Hieroglyphs",
    "Arabic",
    "Armenian",
    "Avestan",
    "Balinese",
    "Bamum",
    "Bassa_Vah",
    "Batak",
    "Bengali",
    "Bhaiksuki",
    "Bopomofo",
    "Brahmi",
    "Braille",
    "Buginese",
    "Buhid",
    "C",
    "Canadian_Aboriginal",
    "Carian",
    "Caucasian_Albanian",
    "Cc",
    "Cf",
    "Chakma",
    "Cham",
    "Cherokee",
    "Chorasmian",
    "Co",
    "Common",
    "Coptic",
    "Cs",
    "Cuneiform",
    "Cypriot",
    "Cypro_Minoan",
    "Cyrillic",
    "Deseret",
    "Devanagari",
    "Dives_Akuru",
    "Dogra",
    "Duployan",
    "Egyptian_Hieroglyphs",
    "Elbasan",
    "Elymaic",
    "Ethiopic",
    "Georgian",
    "Glagolitic",
    "Gothic",
    "Grantha",
    "Greek",
    "Gujarati",
    "Gunjala_Gondi",
    "Gurmukhi",
    "Han",
    "Hangul",
    "Hanifi_Rohingya",
    "Hanunoo",
    "Hatran",
    "Hebrew",
    "Hiragana",
    "Imperial_Aramaic",
    "Inherited",
    "Inscriptional_Pahlavi",
    "Inscriptional_Parthian",
    "Javanese",
    "Kaithi",
    "Kannada",
    "Katakana",
    "Kawi",
    "Kayah_Li",
    "Kharoshthi",
    "Khitan_Small_Script",
    "Khmer",
    "Khojki",
    "Khudawadi",
    "L",
    "Lao",
    "Latin",
    "Lepcha",
    "Limbu",
    "Linear_A",
    "Linear_B",
    "Lisu",
    "Ll",
    "Lm",
    "Lo",
    "Lt",
    "Lu",
    "Lycian",
    "Lydian",
    "M",
    "Mahajani",
    "Makasar",
    "Malayalam",
    "Mandaic",
    "Manichaean",
    "Marchen",
    "Masaram_Gondi",
    "Mc",
    "Me",
    "Medefaidrin",
    "Meetei_Mayek",
    "Mende_Kikakui",
    "Meroitic_Cursive",
    "Meroitic_Hieroglyphs",
    "Miao",
    "Mn",
    "Modi",
    "Mongolian",
    "Mro",
    "Multani",
    "Myanmar",
    "N",
    "Nabataean",
    "Nag_Mundari",
    "Nandinagari",
    "Nd",
    "New_Tai_Lue",
    "Newa",
    "Nko",
    "Nl",
    "No",
    "Nushu",
    "Nyiakeng_Puachue_Hmong",
    "Ogham",
    "Ol_Chiki",
    "Old_Hungarian",
    "Old_Italic",
    "Old_North_Arabian",
    "Old_Permic",
    "Old_Persian",
    "Old_Sogdian",
    "Old_South_Arabian",
    "Old_Turkic",
    "Old_Uyghur",
    "Oriya",
    "Osage",
    "Osmanya",
    "P",
    "Pahawh_Hmong",
    "Palmyrene",
    "Pau_Cin_Hau",
    "Pc",
    "Pd",
    "Pe",
    "Pf",
    "Phags_Pa",
    "Phoenician",
    "Pi",
    "Po",
    "Ps",
    "Psalter_Pahlavi",
    "Rejang",
    "Runic",
    "S",
    "Samaritan",
    "Saurashtra",
    "Sc",
    "Sharada",
    "Shavian",
    "Siddham",
    "SignWriting",
    "Sinhala",
    "Sk",
    "Sm",
    "So",
    "Sogdian",
    "Sora_Sompeng",
    "Soyombo",
    "Sundanese",
    "Syloti_Nagri",
    "Syriac",
    "Tagalog",
    "Tagbanwa",
    "Tai_Le",
    "Tai_Tham",
    "Tai_Viet",
    "Takri",
    "Tamil",
    "Tangsa",
    "Tangut",
    "Telugu",
    "Thaana",
    "Thai",
    "Tibetan",
    "Tifinagh",
    "Tirhuta",
    "Toto",
    "Ugaritic",
    "Vai",
    "Vithkuqi",
    "Wancho",
    "Warang_Citi",
    "Yezidi",
    "Yi",
    "Z",
    "Zanabazar_Square",
    "Zl",
    "Zp",
    "Zs",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(p: &str) -> String {
        translate(p).unwrap_or_else(|e| panic!("{p:?} rejected: {e}"))
    }

    fn bad(p: &str) -> String {
        match translate(p) {
            Ok(t) => panic!("{p:?} accepted as {t:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn groups_are_sorted() {
        assert!(UNICODE_GROUPS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn verdicts_and_messages_follow_re2() {
        // Each verdict and message as google-re2 1.1.20251105 gives it.
        assert_eq!(bad("a**"), "bad repetition operator: **");
        assert_eq!(bad(r"\Z"), r"invalid escape sequence: \Z");
        assert_eq!(bad(r"\1"), r"invalid escape sequence: \1");
        assert_eq!(bad("(?x)a"), "invalid perl operator: (?x");
        assert_eq!(bad("a{1001}"), "invalid repetition size: {1001}");
        assert_eq!(bad("(?=a)"), "invalid perl operator: (?=");
        assert_eq!(bad("[[:foo:]]"), "invalid character class range: [:foo:]");
        assert_eq!(bad(r"\p{Foo}"), r"invalid character class range: \p{Foo}");
        assert_eq!(bad("x{2,1}"), "invalid repetition size: {2,1}");
        assert_eq!(bad(r"[\b]"), r"invalid escape sequence: \b");
        assert_eq!(bad("a|*"), "no argument for repetition operator: *");
        assert_eq!(bad("a{2}{3}"), "bad repetition operator: {2}{3}");
        assert_eq!(bad("(a{100}){11}"), "invalid repetition size: {11}");
        assert_eq!(bad("[]"), "missing ]: []");
        assert_eq!(bad("{1}"), "no argument for repetition operator: {1}");
        assert_eq!(bad(")"), "unexpected ): )");
        assert_eq!(bad("(a"), "missing ): (a");
        assert_eq!(bad(r"\x{110000}"), r"invalid escape sequence: \x{110000");
        assert_eq!(bad(r"\x{}"), r"invalid escape sequence: \x{}");
        assert_eq!(bad(r"\xg1"), r"invalid escape sequence: \xg1");
        assert_eq!(bad("(?P<a-b>x)"), "invalid named capture group: (?P<a-b>");
        assert_eq!(bad("(?i-)"), "invalid perl operator: (?i-)");
        assert_eq!(bad("x*?*"), "bad repetition operator: *?*");
        assert_eq!(bad("\\"), "trailing \\");
        assert_eq!(bad("[a"), "missing ]: [a");
        assert_eq!(bad("[z-a]"), "invalid character class range: z-a");
        for p in [
            "[[]",
            r"\12",
            "(?<n>a)",
            r"\Qa.b\E",
            r"\pZ",
            "{",
            "a{,3}",
            "(?i)",
            "()",
            "[]a]",
            "[^]a]",
            r"[\d-z]",
            "^*",
            "$+",
            r"\b*",
            "a{01}",
            "(|a)",
            "a|",
            "|",
            r"\Qab",
            r"\Qa\E*",
            "[[:alpha:]-z]",
            r"\p{^Greek}",
            r"\pN",
            r"\p{Any}",
            r"\0",
            r"\400",
            r"\_",
            r"\ ",
            "[a-]",
            "[-a]",
            "(?P<a>x)(?P<a>y)",
            "(?<é>x)",
            "(a{100}){10}",
            "(?-i)",
            "(?)",
        ] {
            ok(p);
        }
    }

    #[test]
    fn translations_mean_the_same_in_the_regex_crate() {
        let m = |p: &str, s: &str| regex::Regex::new(&ok(p)).unwrap().is_match(s);
        assert!(m("[[]", "["));
        assert!(m("a{,3}", "a{,3}"));
        assert!(!m("a{,3}", "aaa"));
        assert!(m(r"\Qa.b\E", "a.b"));
        assert!(!m(r"\Qa.b\E", "axb"));
        assert!(m("[a&&b]", "&"));
        assert!(m(r"^\d+$", "123"));
        assert!(!m(r"^\d$", "٣"), "RE2's \\d is ASCII");
        assert!(!m(r"^\w$", "é"), "RE2's \\w is ASCII");
        assert!(m(r"\101", "A"));
        assert!(m("(a)(?P<a>b)(?P<a>c)", "abc"));
        assert!(m("^*a", "a"));
        assert!(m(r"[\d_]", "_"));
        assert!(m(r"[^\D]", "5"));
        assert!(m("(?i)abc", "ABC"));
        assert!(m(r"\<", "<"));
    }
}
