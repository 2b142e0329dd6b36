//! A span-bearing YAML tree.
//!
//! Built from `saphyr-parser` events, keeping the byte span of every node and key, the scalar
//! style (needed later to map KQL positions back into block scalars) and the raw scalar text.
//! Duplicate keys, alias bombs and deep nesting become diagnostics here; nothing panics or
//! recurses without bound. This module knows nothing about Sentinel.

pub mod edit;
pub mod offsets;

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diagnostics::{code, Diagnostic};
use crate::source::{FileId, Span};

/// Deepest nesting of collections accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may expand to through aliases.
const MAX_NODES: usize = 1_000_000;

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` block scalar.
    Literal,
    /// `>` block scalar.
    Folded,
}

/// A scalar: its text after YAML unescaping and folding, how it was written, and its tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// Core-schema tag suffix given explicitly (`str`, `int`, ...), if any.
    pub tag: Option<String>,
}

/// A scalar resolved under the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Scalar {
    pub fn resolve(&self) -> Resolved<'_> {
        let t = self.text.as_str();
        match self.tag.as_deref() {
            Some("str") => return Resolved::Str(t),
            Some("null") => return Resolved::Null,
            _ => {}
        }
        if self.style != Style::Plain && self.tag.is_none() {
            return Resolved::Str(t);
        }
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
            "true" | "True" | "TRUE" => return Resolved::Bool(true),
            "false" | "False" | "FALSE" => return Resolved::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return Resolved::Float(f64::INFINITY)
            }
            "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
            _ => {}
        }
        if let Some(i) = parse_int(t) {
            return Resolved::Int(i);
        }
        if is_float(t) {
            if let Ok(f) = t.parse::<f64>() {
                return Resolved::Float(f);
            }
        }
        Resolved::Str(t)
    }
}

fn parse_int(t: &str) -> Option<i64> {
    if let Some(h) = t.strip_prefix("0x") {
        return i64::from_str_radix(h, 16).ok();
    }
    if let Some(o) = t.strip_prefix("0o") {
        return i64::from_str_radix(o, 8).ok();
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok();
    }
    None
}

fn is_float(t: &str) -> bool {
    // [-+]? ( \.[0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let b = t.strip_prefix(['-', '+']).unwrap_or(t).as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// A key and its value in a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A YAML node with the span of its source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: Kind,
}

/// One step of a path into a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

impl<'a> From<&'a str> for Seg<'a> {
    fn from(s: &'a str) -> Self {
        Seg::Key(Cow::Borrowed(s))
    }
}

impl From<usize> for Seg<'_> {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

impl Node {
    /// An empty mapping, to release a tree that is no longer needed.
    pub fn empty() -> Node {
        Node {
            span: Span::default(),
            kind: Kind::Map(Vec::new()),
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The entry for `key` in a mapping (first one if duplicated).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follow a path; `None` if any step is missing.
    pub fn at(&self, path: &[Seg<'_>]) -> Option<&Node> {
        let mut n = self;
        for seg in path {
            n = match seg {
                Seg::Key(k) => n.get(k)?,
                Seg::Index(i) => n.as_seq()?.get(*i)?,
            };
        }
        Some(n)
    }

    /// The span of the deepest node that exists along `path`; for the final step, the key's span
    /// is used when `key_span` is set.
    pub fn span_at(&self, path: &[Seg<'_>], key_span: bool) -> Span {
        let mut n = self;
        let mut span = self.span;
        for (i, seg) in path.iter().enumerate() {
            match seg {
                Seg::Key(k) => match n.entry(k) {
                    Some(e) => {
                        span = if key_span && i + 1 == path.len() {
                            e.key_span
                        } else {
                            e.value.span
                        };
                        n = &e.value;
                    }
                    None => return span,
                },
                Seg::Index(idx) => match n.as_seq().and_then(|s| s.get(*idx)) {
                    Some(c) => {
                        span = c.span;
                        n = c;
                    }
                    None => return span,
                },
            }
        }
        span
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Map(_) => "a mapping",
            Kind::Seq(_) => "a list",
            Kind::Scalar(s) => match s.resolve() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) => "an integer",
                Resolved::Float(_) => "a number",
                Resolved::Str(_) => "a string",
            },
        }
    }
}

/// The result of parsing one file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The first document's root, if the text parsed and held a document.
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

struct Frame {
    start: usize,
    anchor: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<Entry>,
        pending_key: Option<(String, Span)>,
        skip_value: bool,
    },
}

/// Converts character indexes (what saphyr reports) into byte offsets.
struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    table: Vec<u32>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Offsets<'a> {
        let ascii = text.is_ascii();
        let table = if ascii {
            Vec::new()
        } else {
            let mut t: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
            t.push(text.len() as u32);
            t
        };
        Offsets { text, ascii, table }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.ascii {
            char_index.min(self.text.len())
        } else {
            self.table
                .get(char_index)
                .map(|b| *b as usize)
                .unwrap_or(self.text.len())
        }
    }
}

fn style_of(s: ScalarStyle) -> Style {
    match s {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

fn count_nodes(n: &Node) -> usize {
    let mut count = 0;
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        count += 1;
        match &n.kind {
            Kind::Scalar(_) => {}
            Kind::Seq(s) => stack.extend(s.iter()),
            Kind::Map(m) => stack.extend(m.iter().map(|e| &e.value)),
        }
    }
    count
}

/// Parse YAML text. Never panics; every problem becomes a diagnostic.
pub fn parse(file: FileId, text: &str) -> Parsed {
    let offsets = Offsets::new(text);
    let span = |s: &saphyr_parser::Span| {
        Span::new(
            file,
            offsets.byte(s.start.index()),
            offsets.byte(s.end.index()),
        )
    };
    let mut out = Parsed::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut documents = 0usize;
    let mut expanded = 0usize;

    for item in Parser::new_from_str(text) {
        let (event, ev_span) = match item {
            Ok(x) => x,
            Err(e) => {
                let at = offsets.byte(e.marker().index());
                let end = (at + 1).min(text.len()).max(at);
                out.root = None;
                if e.info().contains("recursion limit") {
                    out.diagnostics.push(Diagnostic::new(
                        code::NESTING_TOO_DEEP,
                        Span::new(file, at, at),
                        "YAML nests too deeply",
                    ));
                    return out;
                }
                out.diagnostics.push(
                    Diagnostic::new(
                        code::YAML_SYNTAX,
                        Span::new(file, at, end),
                        format!("YAML syntax error: {}", e.info()),
                    )
                    .with_hint(yaml_hint(e.info())),
                );
                return out;
            }
        };
        // The node completed by this event, if any, with its anchor id.
        let completed: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents == 2 {
                    out.diagnostics.push(
                        Diagnostic::new(
                            code::MULTIPLE_DOCUMENTS,
                            span(&ev_span),
                            "this file holds more than one YAML document; only the first is read",
                        )
                        .with_hint("put each definition in its own file"),
                    );
                }
                None
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    out.diagnostics.push(Diagnostic::new(
                        code::NESTING_TOO_DEEP,
                        span(&ev_span),
                        format!("YAML nests deeper than {MAX_DEPTH} levels"),
                    ));
                    out.root = None;
                    return out;
                }
                let kind = if matches!(event, Event::MappingStart(..)) {
                    FrameKind::Map {
                        entries: Vec::new(),
                        pending_key: None,
                        skip_value: false,
                    }
                } else {
                    FrameKind::Seq(Vec::new())
                };
                stack.push(Frame {
                    start: offsets.byte(ev_span.start.index()),
                    anchor,
                    kind,
                });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some(frame) = stack.pop() else {
                    continue;
                };
                let flow = matches!(text.as_bytes().get(frame.start), Some(b'[') | Some(b'{'));
                let last_child_end = match &frame.kind {
                    FrameKind::Seq(items) => items.last().map(|n| n.span.end as usize),
                    FrameKind::Map { entries, .. } => {
                        entries.last().map(|e| e.value.span.end as usize)
                    }
                };
                // Block collections end where their last child ends (the parser's end marker
                // sits on the next token); flow collections end at their closing bracket.
                let end = match (flow, last_child_end) {
                    (false, Some(e)) => e,
                    _ => offsets.byte(ev_span.end.index()),
                }
                .max(frame.start);
                let kind = match frame.kind {
                    FrameKind::Seq(items) => Kind::Seq(items),
                    FrameKind::Map { entries, .. } => Kind::Map(entries),
                };
                Some((
                    Node {
                        span: Span::new(file, frame.start, end),
                        kind,
                    },
                    frame.anchor,
                ))
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.and_then(|t| {
                    if t.handle == "tag:yaml.org,2002:" || t.handle == "!!" {
                        Some(t.suffix.clone())
                    } else {
                        out.diagnostics.push(Diagnostic::new(
                            code::UNSUPPORTED_YAML,
                            span(&ev_span),
                            format!("unknown YAML tag `{}{}` is ignored", t.handle, t.suffix),
                        ));
                        None
                    }
                });
                Some((
                    Node {
                        span: span(&ev_span),
                        kind: Kind::Scalar(Scalar {
                            text: value.into_owned(),
                            style: style_of(style),
                            tag,
                        }),
                    },
                    anchor,
                ))
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(n) => {
                    expanded += count_nodes(n);
                    if expanded > MAX_NODES {
                        out.root = None;
                        out.diagnostics.push(Diagnostic::new(
                            code::NESTING_TOO_DEEP,
                            span(&ev_span),
                            "YAML aliases expand to more than a million nodes",
                        ));
                        return out;
                    }
                    let mut n = n.clone();
                    n.span = span(&ev_span);
                    Some((n, 0))
                }
                None => {
                    out.diagnostics.push(Diagnostic::new(
                        code::YAML_SYNTAX,
                        span(&ev_span),
                        "alias to an unknown anchor",
                    ));
                    out.root = None;
                    return out;
                }
            },
        };
        let Some((node, anchor)) = completed else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => {
                if documents <= 1 && out.root.is_none() {
                    out.root = Some(node);
                }
            }
            Some(Frame {
                kind: FrameKind::Seq(items),
                ..
            }) => items.push(node),
            Some(Frame {
                kind:
                    FrameKind::Map {
                        entries,
                        pending_key,
                        skip_value,
                    },
                ..
            }) => match pending_key.take() {
                None => match &node.kind {
                    Kind::Scalar(s) => {
                        let key = s.text.clone();
                        if let Some(prev) = entries.iter().find(|e| e.key == key) {
                            out.diagnostics.push(
                                    Diagnostic::new(
                                        code::DUPLICATE_KEY,
                                        node.span,
                                        format!("duplicate key `{key}`"),
                                    )
                                    .with_label("second occurrence")
                                    .with_related(prev.key_span, "first defined here")
                                    .with_hint("remove one of the two; YAML tools disagree on which value wins"),
                                );
                            *skip_value = true;
                        }
                        *pending_key = Some((key, node.span));
                    }
                    _ => {
                        out.diagnostics.push(
                            Diagnostic::new(
                                code::YAML_SYNTAX,
                                node.span,
                                format!(
                                    "YAML reads this as {} used as a key, not as text",
                                    node.type_name()
                                ),
                            )
                            .with_hint("quote values that start with `{` or `[`, e.g. '{{Title}}'"),
                        );
                        *pending_key = Some((String::new(), node.span));
                        *skip_value = true;
                    }
                },
                Some((key, key_span)) => {
                    if *skip_value {
                        *skip_value = false;
                    } else {
                        entries.push(Entry {
                            key,
                            key_span,
                            value: node,
                        });
                    }
                }
            },
        }
    }
    out
}

fn yaml_hint(info: &str) -> &'static str {
    if info.contains("did not find expected key") || info.contains("mapping values are not allowed")
    {
        "check the indentation and quote values that contain `: `, `{`, `[`, `#` or start with `*`/`&`"
    } else if info.contains("unclosed") || info.contains("did not find expected") {
        "a bracket, brace or quote is not closed"
    } else {
        "quote values that contain YAML punctuation ({{...}}, `: `, ` #`)"
    }
}

/// A node as plain JSON (YAML 1.2 core scalar resolution), for files vigil reads without a
/// schema-guided loader (test files).
pub fn to_json(node: &Node) -> serde_json::Value {
    match &node.kind {
        Kind::Scalar(s) => match s.resolve() {
            Resolved::Null => serde_json::Value::Null,
            Resolved::Bool(b) => serde_json::Value::Bool(b),
            Resolved::Int(i) => serde_json::Value::Number(i.into()),
            Resolved::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(s.text.clone())),
            Resolved::Str(t) => serde_json::Value::String(t.to_string()),
        },
        Kind::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Kind::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), to_json(&e.value)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(t: &str) -> Node {
        let p = parse(FileId(0), t);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        p.root.unwrap()
    }

    #[test]
    fn spans_point_at_values_and_keys() {
        let t = "id: abc\nname: 'x y'\nlist:\n  - 1\n  - two\n";
        let n = parse_ok(t);
        let e = n.entry("name").unwrap();
        assert_eq!(&t[e.key_span.range()], "name");
        assert_eq!(&t[e.value.span.range()], "'x y'");
        let two = n.at(&["list".into(), 1.into()]).unwrap();
        assert_eq!(&t[two.span.range()], "two");
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let t = "a: héllo\nb: ok\n";
        let n = parse_ok(t);
        let b = n.get("b").unwrap();
        assert_eq!(&t[b.span.range()], "ok");
    }

    #[test]
    fn duplicate_keys_are_reported_and_first_wins() {
        let p = parse(FileId(0), "a: 1\na: 2\n");
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(p.diagnostics[0].code, code::DUPLICATE_KEY);
        let root = p.root.unwrap();
        assert_eq!(root.get("a").unwrap().as_scalar().unwrap().text, "1");
    }

    #[test]
    fn deep_nesting_is_a_diagnostic_not_a_crash() {
        let t = "[".repeat(100_000);
        let p = parse(FileId(0), &t);
        assert!(p.root.is_none());
        assert_eq!(p.diagnostics[0].code, code::NESTING_TOO_DEEP);
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut t = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("a{}", i - 1)
            };
            t.push_str(&format!(
                "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let p = parse(FileId(0), &t);
        assert!(p.root.is_none());
        assert!(!p.diagnostics.is_empty());
    }

    #[test]
    fn core_schema_resolution() {
        let n = parse_ok("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: 1.0.0\ng: 0x1f\n");
        let r = |k: &str| n.get(k).unwrap().as_scalar().unwrap().resolve();
        assert_eq!(r("a"), Resolved::Int(1));
        assert_eq!(r("b"), Resolved::Float(1.5));
        assert_eq!(r("c"), Resolved::Bool(true));
        assert_eq!(r("d"), Resolved::Null);
        assert_eq!(r("e"), Resolved::Str("1"));
        assert_eq!(r("f"), Resolved::Str("1.0.0"));
        assert_eq!(r("g"), Resolved::Int(31));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let p = parse(FileId(0), "a: [1, 2\nb: 3\n");
        assert_eq!(p.diagnostics[0].code, code::YAML_SYNTAX);
    }
}
