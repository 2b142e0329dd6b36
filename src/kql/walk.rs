//! What the KQL lints and the reference finder see of a query: its text, its syntax tree and
//! what it is used for, with helpers to walk the tree. A leaf under `lints` and `refs`.

use super::literal::decode_string;
use super::syntax::{Child, NodeKind, SyntaxTree, Token, TokenKind};

/// Columns that hold an event's time.
const TIME_COLUMNS: &[&str] = &[
    "TimeGenerated",
    "Timestamp",
    "EventTime",
    "StartTime",
    "starttime",
];
/// Functions whose use means the query reasons about a time window.
const TIME_FUNCTIONS: &[&str] = &[
    "ago",
    "now",
    "startofday",
    "startofweek",
    "startofmonth",
    "datetime_add",
];

/// What the query is used for; some lints apply only to some uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryUse {
    /// A scheduled or NRT analytics rule.
    Rule,
    /// A hunting query.
    Hunt,
    /// A workspace function, or a standalone query.
    Other,
}

/// What a lint sees.
pub struct LintContext<'a> {
    pub text: &'a str,
    pub tree: &'a SyntaxTree,
    pub usage: QueryUse,
}

impl<'a> LintContext<'a> {
    /// Every node id, in document order.
    pub fn nodes(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack = vec![self.tree.root];
        while let Some(n) = stack.pop() {
            out.push(n);
            for c in self.tree.node(n).children.iter().rev() {
                if let Child::Node(id) = c {
                    stack.push(*id);
                }
            }
        }
        out
    }

    pub fn kind(&self, id: u32) -> NodeKind {
        self.tree.node(id).kind
    }

    /// The non-trivia tokens directly under a node.
    pub fn tokens(&self, id: u32) -> Vec<Token> {
        self.tree.child_tokens(id)
    }

    /// Every node under `id` (itself included), in document order.
    pub fn nodes_under(&self, id: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            out.push(n);
            for c in self.tree.node(n).children.iter().rev() {
                if let Child::Node(c) = c {
                    stack.push(*c);
                }
            }
        }
        out
    }

    /// The child nodes of a node.
    pub fn children(&self, id: u32) -> Vec<u32> {
        self.tree.child_nodes(id)
    }

    pub fn text_of(&self, t: Token) -> &'a str {
        &self.text[t.range()]
    }

    /// The keyword of an `Operator` node (`where`, `project`, ...).
    pub fn operator_keyword(&self, id: u32) -> Option<&'a str> {
        let t = *self.tokens(id).first()?;
        (t.kind == TokenKind::Ident).then(|| self.text_of(t))
    }

    /// Which query operator an `Operator` node is ([`super::ast::OpKind`]).
    pub fn operator_kind(&self, id: u32) -> Option<super::ast::OpKind> {
        super::ast::OpKind::from_keyword(self.operator_keyword(id)?)
    }

    /// The typed view of an `Operator` node (the accessors binder and lowering use too).
    pub fn operator(&self, id: u32) -> Option<super::ast::Operator<'a>> {
        super::ast::Operator::cast(self.tree, self.text, id)
    }

    /// The operator token of a `Binary` node.
    pub fn binary_operator(&self, id: u32) -> Option<Token> {
        self.tokens(id).into_iter().next()
    }

    /// The called name of a `Call` node (`extract`, `workspace`, ...).
    pub fn call_name(&self, id: u32) -> Option<&'a str> {
        let first = *self.children(id).first()?;
        if self.kind(first) != NodeKind::Name {
            return None;
        }
        let t = *self.tokens(first).first()?;
        Some(self.text_of(t))
    }

    /// The argument nodes of a `Call` node.
    pub fn call_args(&self, id: u32) -> Vec<u32> {
        self.children(id)
            .into_iter()
            .find(|c| self.kind(*c) == NodeKind::List)
            .map(|l| self.children(l))
            .unwrap_or_default()
    }

    /// The value of a string literal node (adjacent literals concatenated).
    pub fn string_value(&self, id: u32) -> Option<(String, u32, u32)> {
        if self.kind(id) != NodeKind::Literal {
            return None;
        }
        let toks = self.tokens(id);
        if toks.is_empty() || toks.iter().any(|t| t.kind != TokenKind::String) {
            return None;
        }
        let mut s = String::new();
        for t in &toks {
            s.push_str(&decode_string(self.text_of(*t))?);
        }
        Some((s, toks[0].start, toks[toks.len() - 1].end()))
    }

    /// Whether `id` is a time function call or a literal that fixes a time (a `{{placeholder}}`,
    /// `datetime(...)`).
    pub fn is_time_expression(&self, id: u32) -> bool {
        match self.kind(id) {
            NodeKind::Call => self
                .call_name(id)
                .is_some_and(|n| TIME_FUNCTIONS.contains(&n)),
            NodeKind::Literal => self
                .tokens(id)
                .iter()
                .any(|t| matches!(t.kind, TokenKind::Placeholder | TokenKind::RawLiteral)),
            _ => false,
        }
    }

    /// Whether `id` names an event-time column.
    pub fn is_time_column(&self, id: u32) -> bool {
        self.kind(id) == NodeKind::Name
            && self
                .tokens(id)
                .first()
                .is_some_and(|t| TIME_COLUMNS.contains(&self.text_of(*t)))
    }

    /// The byte range of a node.
    pub fn range(&self, id: u32) -> (u32, u32) {
        self.tree.node_range(id).unwrap_or((0, 0))
    }
}
