//! The lossless KQL syntax tree: tokens (trivia included) and nodes over token ranges.
//!
//! Every byte of the input belongs to exactly one token, and the root node covers every token,
//! so the tree reproduces the text exactly. Nodes have a kind and children (nodes or tokens);
//! typed views for the binder are built on top of this.

use std::fmt::Write as _;

/// Token kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Whitespace,
    Comment,
    /// Identifiers and keywords (KQL keywords are contextual), including `$left`, `!has`,
    /// `in~` and hyphenated operator names.
    Ident,
    /// `['name']`.
    BracketedName,
    Int,
    Real,
    /// `5m`, `1h`, `100ms`.
    Timespan,
    String,
    /// `datetime(...)`, `timespan(...)`, `guid(...)` with their raw bodies.
    RawLiteral,
    /// `{{Name}}`.
    Placeholder,
    Pipe,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Colon,
    Dot,
    DotDot,
    Eq,
    EqEq,
    NotEq,
    EqTilde,
    BangTilde,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    Question,
    Tilde,
    At,
    Hash,
    FatArrow,
    Error,
    Eof,
}

impl TokenKind {
    pub fn is_trivia(self) -> bool {
        matches!(self, TokenKind::Whitespace | TokenKind::Comment)
    }

    /// How the token kind is named in messages.
    pub fn describe(self) -> &'static str {
        use TokenKind::*;
        match self {
            Whitespace => "whitespace",
            Comment => "a comment",
            Ident => "a name",
            BracketedName => "a bracketed name",
            Int | Real => "a number",
            Timespan => "a timespan",
            String => "a string",
            RawLiteral => "a literal",
            Placeholder => "a placeholder",
            Pipe => "`|`",
            LParen => "`(`",
            RParen => "`)`",
            LBracket => "`[`",
            RBracket => "`]`",
            LBrace => "`{`",
            RBrace => "`}`",
            Comma => "`,`",
            Semi => "`;`",
            Colon => "`:`",
            Dot => "`.`",
            DotDot => "`..`",
            Eq => "`=`",
            EqEq => "`==`",
            NotEq => "`!=`",
            EqTilde => "`=~`",
            BangTilde => "`!~`",
            Lt => "`<`",
            LtEq => "`<=`",
            Gt => "`>`",
            GtEq => "`>=`",
            Plus => "`+`",
            Minus => "`-`",
            Star => "`*`",
            Slash => "`/`",
            Percent => "`%`",
            Bang => "`!`",
            Question => "`?`",
            Tilde => "`~`",
            At => "`@`",
            Hash => "`#`",
            FatArrow => "`=>`",
            Error => "an invalid token",
            Eof => "the end of the query",
        }
    }
}

/// A token: kind and byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: u32,
    pub len: u32,
}

impl Token {
    pub fn end(&self) -> u32 {
        self.start + self.len
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// Node kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// The whole query: statements separated by `;`.
    Query,
    LetStatement,
    SetStatement,
    DeclareStatement,
    AliasStatement,
    /// A statement that is an expression (usually the final tabular expression).
    ExprStatement,
    /// `(params) { body }` as a let value.
    FunctionDecl,
    ParamList,
    Param,
    /// A type: `string`, `(*)`, `(a:string, b:long)`.
    TypeRef,
    /// `{ statements }` body of a function.
    Block,
    /// `source | op | op ...`.
    Pipeline,
    /// One tabular operator after a `|` (or a source operator such as `union` or `print`);
    /// the operator's keyword is its first token.
    Operator,
    /// `name=value` operator parameters (`kind=inner`, `hint.strategy=shuffle`).
    OperatorParam,
    /// An `on`, `by`, `with`, `of` ... clause inside an operator.
    Clause,
    /// `name = expr`, `(a, b) = expr` in project/extend/summarize lists.
    Assignment,
    /// `step Name [output=all|last|none]: Condition [=> Column = Expr, ...];` in `scan`.
    ScanStep,
    /// A comma-separated list.
    List,
    /// `expr asc nulls last` in sort/top.
    SortKey,
    /// Expressions.
    Literal,
    Name,
    Paren,
    Binary,
    Unary,
    Call,
    NamedArg,
    Member,
    Index,
    /// `in (...)`, `has_any (...)` right-hand lists.
    ExprList,
    /// `between (a .. b)`.
    Range,
    /// `dynamic(...)` literal bodies, arrays and property bags inside them.
    DynamicLiteral,
    DynamicArray,
    DynamicBag,
    DynamicPair,
    /// `datatable(...)[...]`, `externaldata(...)[...]`: the schema part.
    Schema,
    ColumnDecl,
    /// `parse` patterns.
    Pattern,
    /// `*` or `Col*` wildcards in lists.
    Wildcard,
    /// Tokens skipped by error recovery.
    Error,
}

/// A child of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Child {
    Node(u32),
    Token(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeData {
    pub kind: NodeKind,
    pub children: Vec<Child>,
}

/// The syntax tree of one query.
#[derive(Clone, Debug, Default)]
pub struct SyntaxTree {
    pub tokens: Vec<Token>,
    pub nodes: Vec<NodeData>,
    /// Index of the root (`Query`) node.
    pub root: u32,
}

impl SyntaxTree {
    pub fn node(&self, id: u32) -> &NodeData {
        &self.nodes[id as usize]
    }

    /// The child nodes of a node, in order.
    pub fn child_nodes(&self, id: u32) -> Vec<u32> {
        self.node(id)
            .children
            .iter()
            .filter_map(|c| match c {
                Child::Node(n) => Some(*n),
                Child::Token(_) => None,
            })
            .collect()
    }

    /// The non-trivia tokens directly under a node, in order.
    pub fn child_tokens(&self, id: u32) -> Vec<Token> {
        self.node(id)
            .children
            .iter()
            .filter_map(|c| match c {
                Child::Token(t) => Some(self.tokens[*t as usize]),
                Child::Node(_) => None,
            })
            .filter(|t| !t.kind.is_trivia())
            .collect()
    }

    /// The byte range of a node: from its first to its last token (trivia excluded at the edges).
    pub fn node_range(&self, id: u32) -> Option<(u32, u32)> {
        let first = self.first_token(id, true)?;
        let last = self.first_token(id, false)?;
        Some((self.tokens[first].start, self.tokens[last].end()))
    }

    fn first_token(&self, id: u32, forward: bool) -> Option<usize> {
        let children = &self.node(id).children;
        let iter: Box<dyn Iterator<Item = &Child>> = if forward {
            Box::new(children.iter())
        } else {
            Box::new(children.iter().rev())
        };
        for c in iter {
            match c {
                Child::Token(t) => {
                    if !self.tokens[*t as usize].kind.is_trivia() {
                        return Some(*t as usize);
                    }
                }
                Child::Node(n) => {
                    if let Some(t) = self.first_token(*n, forward) {
                        return Some(t);
                    }
                }
            }
        }
        None
    }

    /// The text covered by all tokens under the root; equals the input.
    pub fn text(&self, source: &str) -> String {
        let mut out = String::with_capacity(source.len());
        self.collect(self.root, source, &mut out);
        out
    }

    fn collect(&self, id: u32, source: &str, out: &mut String) {
        for c in &self.node(id).children {
            match c {
                Child::Token(t) => out.push_str(&source[self.tokens[*t as usize].range()]),
                Child::Node(n) => self.collect(*n, source, out),
            }
        }
    }

    /// An indented dump of the tree (non-trivia tokens shown with their text).
    pub fn dump(&self, source: &str) -> String {
        let mut out = String::new();
        self.dump_node(self.root, source, 0, &mut out);
        out
    }

    fn dump_node(&self, id: u32, source: &str, depth: usize, out: &mut String) {
        let (s, e) = self.node_range(id).unwrap_or((0, 0));
        let _ = writeln!(
            out,
            "{}{:?}@{}..{}",
            "  ".repeat(depth),
            self.node(id).kind,
            s,
            e
        );
        for c in &self.node(id).children {
            match c {
                Child::Token(t) => {
                    let tok = self.tokens[*t as usize];
                    if !tok.kind.is_trivia() {
                        let _ = writeln!(
                            out,
                            "{}{:?}@{}..{} {:?}",
                            "  ".repeat(depth + 1),
                            tok.kind,
                            tok.start,
                            tok.end(),
                            &source[tok.range()]
                        );
                    }
                }
                Child::Node(n) => self.dump_node(*n, source, depth + 1, out),
            }
        }
    }
}
