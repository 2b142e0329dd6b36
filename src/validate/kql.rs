//! The KQL analysis that `vigil validate` runs on every query: the seam between the KQL front
//! end (which works on query text and byte offsets) and the content model (YAML files). Query
//! offsets are mapped back into the YAML file line by line (`yaml::offsets`).

use super::QueryAnalyzer;
use crate::diagnostics::{code, Diagnostic};
use crate::kql::{self, lints, lints::QueryUse};
use crate::model::{ContentKind, Definition};
use crate::source::Span;
use crate::yaml::{offsets, Node};

/// Parses each query and reports syntax errors at their place in the file.
#[derive(Default)]
pub struct KqlAnalyzer;

/// Map a query byte range to a file span, or to the whole query node when positions inside
/// the scalar cannot be established.
pub fn map_span(map: Option<&[u32]>, node: &Node, start: u32, end: u32) -> Span {
    match map {
        Some(m) => {
            let s = m[(start as usize).min(m.len() - 1)];
            let e = m[(end as usize).min(m.len() - 1)].max(s);
            Span {
                file: node.span.file,
                start: s,
                end: e,
            }
        }
        None => node.span,
    }
}

impl QueryAnalyzer for KqlAnalyzer {
    fn analyze(&self, def: &Definition, source: &str, query: &str, node: &Node) -> Vec<Diagnostic> {
        let parse = kql::parse(query);
        let map = offsets::value_offsets(source, node);
        if parse.errors.is_empty() {
            // Lints run on queries that parse.
            let usage = match def.kind() {
                ContentKind::Rule => QueryUse::Rule,
                ContentKind::Hunt => QueryUse::Hunt,
                _ => QueryUse::Other,
            };
            return lints::run(query, &parse.tree, usage)
                .into_iter()
                .map(|f| {
                    let mut d = Diagnostic::new(
                        f.code,
                        map_span(map.as_deref(), node, f.start, f.end),
                        f.message,
                    );
                    if let Some(s) = f.severity {
                        d.severity = s;
                    }
                    if let Some(h) = f.hint {
                        d.hint = Some(h);
                    }
                    d
                })
                .collect();
        }
        parse
            .errors
            .iter()
            .map(|e| {
                let c = match e.kind {
                    kql::ErrorKind::Expected => code::KQL_SYNTAX,
                    kql::ErrorKind::Lexical => code::KQL_LEXICAL,
                    kql::ErrorKind::TooDeep => code::KQL_TOO_DEEP,
                    kql::ErrorKind::UnknownOperator => code::KQL_UNKNOWN_OPERATOR,
                };
                let mut d = Diagnostic::new(
                    c,
                    map_span(map.as_deref(), node, e.start, e.end),
                    e.message.clone(),
                );
                if map.is_none() {
                    d.message = format!("{} (at byte {} of the query)", d.message, e.start);
                }
                d
            })
            .collect()
    }
}
