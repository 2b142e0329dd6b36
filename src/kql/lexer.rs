//! The KQL lexer: text → tokens, losslessly (whitespace and comments are tokens too).
//!
//! Never fails: anything it cannot read becomes an `Error` token with a diagnostic, and lexing
//! goes on. Offsets are bytes into the query text.

use super::syntax::TokenKind as T;
use super::syntax::{Token, TokenKind};

/// A lexical problem: byte range and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub start: u32,
    pub end: u32,
    pub message: String,
}

/// Hyphenated words Kusto has that vigil does not parse as operators but still lexes as one
/// word (the operators' own hyphenated keywords come from [`super::ast::KEYWORDS`]).
const OTHER_HYPHENATED: &[&str] = &[
    "project-smart",
    "graph-merge",
    "graph-to-table",
    "graph-shortest-paths",
];

/// Words with hyphens that lex as one word: the operators' keywords and a few more.
fn hyphenated() -> impl Iterator<Item = &'static str> {
    super::ast::KEYWORDS
        .iter()
        .map(|(k, ..)| *k)
        .filter(|k| k.contains('-'))
        .chain(OTHER_HYPHENATED.iter().copied())
}

/// Word operators that start with `!` (`!has`, `!contains_cs`, `!in~`, ...).
const BANG_WORDS: &[&str] = &[
    "has",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "contains",
    "contains_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "in",
    "between",
    "has_all",
    "has_any",
];

/// Literal forms whose parenthesised body is raw text, not tokens.
const RAW_LITERALS: &[&str] = &["datetime", "date", "timespan", "time", "guid"];

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    errors: Vec<LexError>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Tokenize `text`. The concatenation of the tokens' text is always `text`.
pub fn lex(text: &str) -> (Vec<Token>, Vec<LexError>) {
    let mut lx = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        tokens: Vec::with_capacity(text.len() / 3 + 4),
        errors: Vec::new(),
    };
    while lx.pos < lx.bytes.len() {
        lx.next_token();
    }
    (lx.tokens, lx.errors)
}

impl<'a> Lexer<'a> {
    fn peek(&self, n: usize) -> u8 {
        *self.bytes.get(self.pos + n).unwrap_or(&0)
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            start: start as u32,
            len: (self.pos - start) as u32,
        });
    }

    fn error(&mut self, start: usize, message: impl Into<String>) {
        self.errors.push(LexError {
            start: start as u32,
            end: self.pos.max(start + 1).min(self.bytes.len()) as u32,
            message: message.into(),
        });
    }

    fn next_token(&mut self) {
        let start = self.pos;
        let b = self.peek(0);
        match b {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c => {
                while matches!(self.peek(0), b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c) {
                    self.pos += 1;
                }
                self.push(T::Whitespace, start);
            }
            b'/' if self.peek(1) == b'/' => {
                while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                    self.pos += 1;
                }
                self.push(T::Comment, start);
            }
            b'\'' | b'"' => self.string(start, false),
            b'@' if matches!(self.peek(1), b'\'' | b'"') => {
                self.pos += 1;
                self.string(start, true);
            }
            b'`' if self.peek(1) == b'`' && self.peek(2) == b'`' => self.fenced(start, b'`'),
            b'~' if self.peek(1) == b'~' && self.peek(2) == b'~' => self.fenced(start, b'~'),
            b'h' | b'H'
                if matches!(self.peek(1), b'\'' | b'"')
                    || (self.peek(1) == b'@' && matches!(self.peek(2), b'\'' | b'"')) =>
            {
                self.pos += 1;
                let verbatim = self.peek(0) == b'@';
                if verbatim {
                    self.pos += 1;
                }
                self.string(start, verbatim);
            }
            b'{' if self.peek(1) == b'{' => self.placeholder(start),
            b'0'..=b'9' => self.number(start),
            b'.' if self.peek(1).is_ascii_digit() => self.number(start),
            b'[' if (matches!(self.peek(1), b'\'' | b'"')
                || (self.peek(1) == b'@' && matches!(self.peek(2), b'\'' | b'"')))
                && !self.indexing() =>
            {
                self.bracketed_name(start)
            }
            b'!' if is_ident_start(self.peek(1)) => {
                // `!has`, `!in~`, ...
                let mut end = self.pos + 1;
                while end < self.bytes.len() && is_ident_continue(self.bytes[end]) {
                    end += 1;
                }
                let word = &self.text[self.pos + 1..end];
                if BANG_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                    self.pos = end;
                    if word.eq_ignore_ascii_case("in") && self.peek(0) == b'~' {
                        self.pos += 1;
                    }
                    self.push(T::Ident, start);
                } else {
                    self.pos += 1;
                    self.push(T::Bang, start);
                }
            }
            _ if is_ident_start(b) => self.word(start),
            _ if b >= 0x80 => {
                let c = self.text[self.pos..].chars().next().unwrap_or(' ');
                if c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}' | '\u{2060}') {
                    // Unicode spaces (no-break, zero-width) count as whitespace, as in Kusto.
                    while let Some(c) = self.text[self.pos..].chars().next() {
                        if c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}' | '\u{2060}') {
                            self.pos += c.len_utf8();
                        } else {
                            break;
                        }
                    }
                    self.push(T::Whitespace, start);
                } else {
                    // Any other non-ASCII character outside a string: KQL names are ASCII.
                    self.pos += c.len_utf8();
                    self.error(start, format!("unexpected character `{c}`"));
                    self.push(T::Error, start);
                }
            }
            _ => self.punct(start),
        }
    }

    /// `d['k']`: a `[` glued to a name or a closing bracket indexes; elsewhere `['x']` is a
    /// bracketed name.
    fn indexing(&self) -> bool {
        self.tokens.last().is_some_and(|t| {
            t.end() as usize == self.pos
                && matches!(
                    t.kind,
                    T::Ident | T::BracketedName | T::RParen | T::RBracket
                )
        })
    }

    fn punct(&mut self, start: usize) {
        let (kind, len) = match (self.peek(0), self.peek(1)) {
            (b'=', b'=') => (T::EqEq, 2),
            (b'=', b'~') => (T::EqTilde, 2),
            (b'=', b'>') => (T::FatArrow, 2),
            (b'=', _) => (T::Eq, 1),
            (b'!', b'=') => (T::NotEq, 2),
            (b'!', b'~') => (T::BangTilde, 2),
            (b'!', _) => (T::Bang, 1),
            (b'<', b'>') => (T::NotEq, 2),
            (b'<', b'=') => (T::LtEq, 2),
            (b'<', b'|') => (T::Pipe, 2),
            (b'<', _) => (T::Lt, 1),
            (b'>', b'=') => (T::GtEq, 2),
            (b'>', _) => (T::Gt, 1),
            (b'.', b'.') => (T::DotDot, 2),
            (b'.', _) => (T::Dot, 1),
            (b'|', _) => (T::Pipe, 1),
            (b'(', _) => (T::LParen, 1),
            (b')', _) => (T::RParen, 1),
            (b'[', _) => (T::LBracket, 1),
            (b']', _) => (T::RBracket, 1),
            (b'{', _) => (T::LBrace, 1),
            (b'}', _) => (T::RBrace, 1),
            (b',', _) => (T::Comma, 1),
            (b';', _) => (T::Semi, 1),
            (b':', _) => (T::Colon, 1),
            (b'+', _) => (T::Plus, 1),
            (b'-', _) => (T::Minus, 1),
            (b'*', _) => (T::Star, 1),
            (b'/', _) => (T::Slash, 1),
            (b'%', _) => (T::Percent, 1),
            (b'?', _) => (T::Question, 1),
            (b'~', _) => (T::Tilde, 1),
            (b'@', _) => (T::At, 1),
            (b'#', _) => (T::Hash, 1),
            _ => {
                self.pos += 1;
                self.error(
                    start,
                    format!("unexpected character `{}`", self.peek_char(start)),
                );
                self.push(T::Error, start);
                return;
            }
        };
        self.pos += len;
        self.push(kind, start);
    }

    fn peek_char(&self, at: usize) -> char {
        self.text[at..].chars().next().unwrap_or(' ')
    }

    /// A quoted string; the opening quote is at `self.pos`.
    fn string(&mut self, start: usize, verbatim: bool) {
        let q = self.peek(0);
        self.pos += 1;
        loop {
            if self.pos >= self.bytes.len() {
                // Reported where the closing quote is missing, as Kusto does.
                self.errors.push(LexError {
                    start: self.pos as u32,
                    end: self.pos as u32,
                    message: "string is not closed".into(),
                });
                self.push(T::String, start);
                return;
            }
            let c = self.bytes[self.pos];
            if c == b'\n' && !verbatim {
                let at = if self.pos > 0 && self.bytes[self.pos - 1] == b'\r' {
                    self.pos - 1
                } else {
                    self.pos
                };
                self.errors.push(LexError {
                    start: at as u32,
                    end: at as u32,
                    message: "string is not closed before the end of the line".into(),
                });
                self.push(T::String, start);
                return;
            }
            if c == b'\\' && !verbatim {
                // An escape: skip the backslash and the whole character after it.
                let next = self.text[self.pos + 1..]
                    .chars()
                    .next()
                    .map(|c| c.len_utf8())
                    .unwrap_or(0);
                self.pos += 1 + next;
                continue;
            }
            if c == q {
                if verbatim && self.peek(1) == q {
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                self.push(T::String, start);
                return;
            }
            self.pos += 1;
        }
    }

    /// ```` ```multi-line``` ```` or `~~~multi-line~~~`.
    fn fenced(&mut self, start: usize, fence: u8) {
        self.pos += 3;
        while self.pos < self.bytes.len() {
            if self.bytes[self.pos] == fence && self.peek(1) == fence && self.peek(2) == fence {
                self.pos += 3;
                self.push(T::String, start);
                return;
            }
            self.pos += 1;
        }
        self.error(start, "multi-line string is not closed");
        self.push(T::String, start);
    }

    /// `{{Name}}` template placeholders used in Sentinel content.
    fn placeholder(&mut self, start: usize) {
        let rest = &self.text[self.pos..];
        if let Some(end) = rest.find("}}") {
            let inner = &rest[2..end];
            if !inner.is_empty()
                && inner.len() < 128
                && inner
                    .bytes()
                    .all(|b| is_ident_continue(b) || b == b'.' || b == b'-')
            {
                self.pos += end + 2;
                self.push(T::Placeholder, start);
                return;
            }
        }
        self.pos += 1;
        self.push(T::LBrace, start);
    }

    /// `['name']` and `["name"]`.
    fn bracketed_name(&mut self, start: usize) {
        self.pos += 1;
        let verbatim = self.peek(0) == b'@';
        if verbatim {
            self.pos += 1;
        }
        let str_start = self.pos;
        self.string(str_start, verbatim);
        // `string` pushed a String token; fold it into the bracketed name.
        self.tokens.pop();
        while matches!(self.peek(0), b' ' | b'\t') {
            self.pos += 1;
        }
        if self.peek(0) == b']' {
            self.pos += 1;
            self.push(T::BracketedName, start);
        } else {
            // Not a bracketed name (`['x', 1]` in datatable rows): just `[`.
            self.errors.retain(|e| e.start as usize != str_start);
            self.pos = start + 1;
            self.push(T::LBracket, start);
        }
    }

    fn number(&mut self, start: usize) {
        let mut is_real = false;
        if self.peek(0) == b'0'
            && matches!(self.peek(1), b'x' | b'X')
            && self.peek(2).is_ascii_hexdigit()
        {
            self.pos += 2;
            while self.peek(0).is_ascii_hexdigit() {
                self.pos += 1;
            }
            self.push(T::Int, start);
            return;
        }
        while self.peek(0).is_ascii_digit() {
            self.pos += 1;
        }
        if self.peek(0) == b'.' && self.peek(1) != b'.' {
            // `1.5`, `1.` ; but not `1..2` (a range).
            is_real = true;
            self.pos += 1;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), b'e' | b'E')
            && (self.peek(1).is_ascii_digit()
                || (matches!(self.peek(1), b'+' | b'-') && self.peek(2).is_ascii_digit()))
        {
            is_real = true;
            self.pos += 2;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        // Timespan units glued to the number: 5m, 1h, 2d, 100ms, 10sec, 1tick ...
        if is_ident_start(self.peek(0)) && self.peek(0) != b'$' {
            let mut end = self.pos;
            while end < self.bytes.len() && is_ident_continue(self.bytes[end]) {
                end += 1;
            }
            let unit = self.text[self.pos..end].to_ascii_lowercase();
            if is_timespan_unit(&unit) {
                self.pos = end;
                self.push(T::Timespan, start);
                return;
            }
            // `5Minutebin`, `3rdPartyApp`: names may start with digits.
            self.pos = end;
            self.push(T::Ident, start);
            return;
        }
        self.push(if is_real { T::Real } else { T::Int }, start);
    }

    fn word(&mut self, start: usize) {
        self.pos += 1;
        while self.pos < self.bytes.len() && is_ident_continue(self.bytes[self.pos]) {
            self.pos += 1;
        }
        // Hyphenated operator names.
        if self.peek(0) == b'-' && self.peek(1).is_ascii_alphabetic() {
            let mut end = self.pos + 1;
            while end < self.bytes.len()
                && (is_ident_continue(self.bytes[end]) || self.bytes[end] == b'-')
            {
                end += 1;
            }
            // Longest known hyphenated word that is a prefix ending on a word boundary.
            let cand = &self.text[start..end];
            if let Some(h) = hyphenated()
                .filter(|h| {
                    cand.len() >= h.len()
                        && cand[..h.len()].eq_ignore_ascii_case(h)
                        && (cand.len() == h.len() || !is_ident_continue(cand.as_bytes()[h.len()]))
                })
                .max_by_key(|h| h.len())
            {
                self.pos = start + h.len();
                self.push(T::Ident, start);
                return;
            }
        }
        let word = &self.text[start..self.pos];
        // `in~`, `contains~`? Only `in~` exists.
        if word.eq_ignore_ascii_case("in") && self.peek(0) == b'~' {
            self.pos += 1;
            self.push(T::Ident, start);
            return;
        }
        // datetime(...), timespan(...), guid(...): raw literal bodies.
        if RAW_LITERALS.iter().any(|w| w.eq_ignore_ascii_case(word)) {
            let mut p = self.pos;
            while matches!(self.bytes.get(p), Some(b' ') | Some(b'\t')) {
                p += 1;
            }
            if self.bytes.get(p) == Some(&b'(') {
                if let Some(close) = self.text[p..].find(')') {
                    let body = &self.text[p + 1..p + close];
                    if !body.contains(['\n', '(']) {
                        self.pos = p + close + 1;
                        self.push(T::RawLiteral, start);
                        return;
                    }
                }
            }
        }
        self.push(T::Ident, start);
    }
}

/// Whether `unit` is a timespan suffix KQL accepts after a number.
pub fn is_timespan_unit(unit: &str) -> bool {
    matches!(
        unit,
        "d" | "day"
            | "days"
            | "h"
            | "hr"
            | "hrs"
            | "hour"
            | "hours"
            | "m"
            | "min"
            | "minute"
            | "minutes"
            | "s"
            | "sec"
            | "second"
            | "seconds"
            | "ms"
            | "milli"
            | "millis"
            | "millisec"
            | "millisecond"
            | "milliseconds"
            | "microsec"
            | "microsecond"
            | "microseconds"
            | "nanosec"
            | "nanosecond"
            | "nanoseconds"
            | "tick"
            | "ticks"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        let (toks, errs) = lex(text);
        assert!(errs.is_empty(), "{errs:?}");
        let mut rebuilt = String::new();
        for t in &toks {
            rebuilt.push_str(&text[t.range()]);
        }
        assert_eq!(rebuilt, text, "lossless");
        toks.iter()
            .filter(|t| !t.kind.is_trivia())
            .map(|t| (t.kind, &text[t.range()]))
            .collect()
    }

    #[test]
    fn words_operators_and_literals() {
        let k = kinds("T | project-away A | where B !has 'x' and C in~ (\"a\") and D !in~ (1) // c\n| take 5m");
        assert!(k.contains(&(T::Ident, "project-away")));
        assert!(k.contains(&(T::Ident, "!has")));
        assert!(k.contains(&(T::Ident, "in~")));
        assert!(k.contains(&(T::Ident, "!in~")));
        assert!(k.contains(&(T::Timespan, "5m")));
        assert!(!k.iter().any(|(t, _)| *t == T::Comment));
    }

    #[test]
    fn strings_of_every_kind() {
        let k = kinds(
            r#"print 'a\'b', "c\"d", @'e''f', @"g\h", h'secret', h@'x', ```multi
line```, ~~~x~~~, ['col name'], ["x"]"#,
        );
        let strings = k.iter().filter(|(t, _)| *t == T::String).count();
        assert_eq!(strings, 8);
        assert_eq!(k.iter().filter(|(t, _)| *t == T::BracketedName).count(), 2);
    }

    #[test]
    fn raw_literals_and_numbers() {
        let k = kinds("print datetime(2021-05-01 10:00:00.5), timespan(1.02:03:04), guid(74be27de-1e4e-49d9-b579-fe0b331d3642), 0x1F, 1.5e-3, .5, 1..2");
        assert_eq!(k.iter().filter(|(t, _)| *t == T::RawLiteral).count(), 3);
        assert!(k.contains(&(T::Int, "0x1F")));
        assert!(k.contains(&(T::Real, "1.5e-3")));
        assert!(k.contains(&(T::Real, ".5")));
        assert!(k.contains(&(T::DotDot, "..")));
    }

    #[test]
    fn placeholders_and_errors() {
        let k =
            kinds("T | where TimeGenerated > todatetime('{{StartTimeISO}}') and x == {{Value}}");
        assert!(k.contains(&(T::Placeholder, "{{Value}}")));
        let (_, errs) = lex("print 'unclosed");
        assert_eq!(errs.len(), 1);
        let k = kinds("print 5Minutebin, 3rdPartyApp\u{202f}\u{200b}");
        assert!(k.contains(&(T::Ident, "5Minutebin")));
    }
}
