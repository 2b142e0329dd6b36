//! Lints on KQL queries, aimed at what AI-written queries get wrong. One rule per file, each
//! with its documentation (what, why, example) and pass/fail cases; codes live in the
//! diagnostics catalog (KQL3xx). Lints work on the syntax tree only; they know nothing of
//! YAML or Sentinel's API.

mod assignment_as_comparison;
mod contains_where_has_serves;
mod cross_resource_query;
mod filter_after_expensive_operator;
mod hunt_without_time_filter;
mod invalid_regex;
mod invisible_character_in_query;

pub use invisible_character_in_query::scan as invisible_characters;
mod join_without_time_bound;
mod search_or_union_star;

use super::syntax::SyntaxTree;
pub use super::walk::{LintContext, QueryUse};
use crate::diagnostics::Code;

/// One lint finding, in query byte offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    /// Overrides the code's default severity (e.g. a rule-only error that is a warning in hunts).
    pub severity: Option<crate::diagnostics::Severity>,
    pub start: u32,
    pub end: u32,
    pub message: String,
    pub hint: Option<String>,
}

impl Finding {
    /// A finding with the code's default severity and no hint.
    pub fn new(code: Code, start: u32, end: u32, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: None,
            start,
            end,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// Run every lint on a parsed query.
pub fn run(text: &str, tree: &SyntaxTree, usage: QueryUse) -> Vec<Finding> {
    let cx = LintContext { text, tree, usage };
    let mut out = Vec::new();
    out.extend(search_or_union_star::check(&cx));
    out.extend(contains_where_has_serves::check(&cx));
    out.extend(invalid_regex::check(&cx));
    out.extend(hunt_without_time_filter::check(&cx));
    out.extend(join_without_time_bound::check(&cx));
    out.extend(assignment_as_comparison::check(&cx));
    out.extend(cross_resource_query::check(&cx));
    out.extend(filter_after_expensive_operator::check(&cx));
    out.extend(invisible_character_in_query::check(&cx));
    out.sort_by_key(|f| (f.start, f.end, f.code));
    out
}

/// The literal regular expressions of a query (decoded text and the literal's span).
pub fn regex_literals(text: &str, tree: &SyntaxTree) -> Vec<(String, u32, u32)> {
    invalid_regex::regex_literals(&LintContext {
        text,
        tree,
        usage: QueryUse::Other,
    })
}

#[cfg(test)]
pub(crate) fn lint(query: &str, usage: QueryUse) -> Vec<Finding> {
    let p = super::parse(query);
    assert!(p.errors.is_empty(), "{query}: {:?}", p.errors);
    run(query, &p.tree, usage)
}
