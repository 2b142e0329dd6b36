//! The KQL parser: tokens → lossless syntax tree, with error recovery.
//!
//! Hand-written recursive descent for statements and tabular operators, and Pratt parsing for
//! scalar expressions. Parsing never fails: every problem is a [`SyntaxError`], the parser
//! skips to a synchronisation point (`|`, `;`, a closing bracket) and goes on, so one run
//! reports every error. Nesting is bounded ([`MAX_DEPTH`]): deep input yields a diagnostic,
//! never a stack overflow.

use super::ast::{OpKind, OpKind as K};
use super::lexer::{self, LexError};
use super::syntax::{Child, NodeData, NodeKind as N, SyntaxTree, Token, TokenKind as T};

/// Deepest nesting of expressions and subqueries accepted.
pub const MAX_DEPTH: usize = 200;

/// Kinds of syntax errors (each has a stable diagnostic code in the catalog).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something else was expected here.
    Expected,
    /// A lexical problem (unclosed string, stray character).
    Lexical,
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An unknown tabular operator after `|`.
    UnknownOperator,
}

impl ErrorKind {
    /// The diagnostic code of this kind of error.
    pub fn code(self) -> crate::diagnostics::Code {
        use crate::diagnostics::code;
        match self {
            ErrorKind::Expected => code::KQL_SYNTAX,
            ErrorKind::Lexical => code::KQL_LEXICAL,
            ErrorKind::TooDeep => code::KQL_TOO_DEEP,
            ErrorKind::UnknownOperator => code::KQL_UNKNOWN_OPERATOR,
        }
    }
}

/// A syntax error: byte range in the query and a message saying what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub kind: ErrorKind,
    pub start: u32,
    pub end: u32,
    pub message: String,
}

/// The result of parsing: always a tree, plus every error found.
#[derive(Clone, Debug)]
pub struct Parse {
    pub tree: SyntaxTree,
    pub errors: Vec<SyntaxError>,
}

/// Parse one query (a sequence of statements).
pub fn parse(text: &str) -> Parse {
    let (tokens, lex_errors) = lexer::lex(text);
    let mut p = Parser::new(text, tokens);
    for LexError {
        start,
        end,
        message,
    } in lex_errors
    {
        p.errors.push(SyntaxError {
            kind: ErrorKind::Lexical,
            start,
            end,
            message,
        });
    }
    p.query();
    p.finish_tree()
}

/// Binary string and set operators (word operators).
const WORD_OPS: &[&str] = &[
    "has",
    "!has",
    "has_cs",
    "!has_cs",
    "hasprefix",
    "!hasprefix",
    "hasprefix_cs",
    "!hasprefix_cs",
    "hassuffix",
    "!hassuffix",
    "hassuffix_cs",
    "!hassuffix_cs",
    "contains",
    "!contains",
    "contains_cs",
    "!contains_cs",
    "startswith",
    "!startswith",
    "startswith_cs",
    "!startswith_cs",
    "endswith",
    "!endswith",
    "endswith_cs",
    "!endswith_cs",
    "like",
    "notlike",
    "notcontains",
    "notcontainscs",
    "containscs",
    "likecs",
    "notlikecs",
];

/// Keywords that cannot start an expression, not even as a name or a call (Kusto.Language
/// asks for `['word']`), besides the word and list operators; checked against the oracle
/// word by word.
const OTHER_RESERVED: &[&str] = &[
    "and",
    "or",
    "between",
    "!between",
    "asc",
    "desc",
    "granny-asc",
    "granny-desc",
    "by",
    "where",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "union",
    "mv-expand",
    "mv-apply",
    "parse-where",
    "of",
    "to",
    "sample",
    "sample-distinct",
    "accumulate",
];

/// Whether `w` cannot start an expression.
fn not_an_expression(w: &str) -> bool {
    WORD_OPS.contains(&w) || LIST_OPS.contains(&w) || OTHER_RESERVED.contains(&w)
}

/// Tabular operators that Kusto.Language parses at the start of a statement (their keyword
/// cannot be a name) although they need input rows: the binder reports them (KQL209).
pub const NEEDS_INPUT_AT_START: &[&str] = &[
    "where",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "mv-expand",
    "mv-apply",
    "parse-where",
    "sample",
    "sample-distinct",
    "invoke",
    "as",
    "getschema",
    "render",
    "serialize",
    "make-series",
];

/// Of the keywords that cannot start an expression, those that can still be declared as names
/// (`extend in = 1`, `by = 2`): checked against the oracle.
const DECLARABLE_KEYWORDS: &[&str] = &[
    "in",
    "has",
    "contains",
    "by",
    "where",
    "of",
    "to",
    "sample",
    "sample-distinct",
    "accumulate",
    "containscs",
    "notcontainscs",
    "likecs",
    "notlikecs",
    "granny-asc",
    "granny-desc",
];

/// Keywords that cannot even be declared as names (`extend project = 1`).
fn not_a_name(w: &str) -> bool {
    not_an_expression(w) && !DECLARABLE_KEYWORDS.contains(&w)
}

/// Whether `w` is a word string operator (`has`, `contains`, `startswith`, `like`, ...).
pub fn is_string_word_op(w: &str) -> bool {
    WORD_OPS.contains(&w)
}

/// Operators whose right-hand side is a parenthesised list.
const LIST_OPS: &[&str] = &[
    "in", "!in", "in~", "!in~", "has_any", "has_all", "!has_any", "!has_all",
];

struct Frame {
    kind: N,
    children: Vec<Child>,
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    /// Index of the next token to attach (trivia included).
    pos: usize,
    nodes: Vec<NodeData>,
    stack: Vec<Frame>,
    errors: Vec<SyntaxError>,
    depth: usize,
    /// Set when nesting overflowed: everything left is skipped.
    bailed: bool,
    /// Inside a `search` predicate, where `Column:value` is allowed.
    in_search: bool,
    /// The next source is the first of a statement (where `where`, `project`, ... parse).
    statement_start: bool,
    /// End of the last non-trivia token consumed: where a missing token is reported, as
    /// Kusto.Language does.
    last_end: u32,
    eof: Token,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, tokens: Vec<Token>) -> Parser<'a> {
        let end = src.len() as u32;
        Parser {
            src,
            tokens,
            pos: 0,
            nodes: Vec::new(),
            stack: Vec::new(),
            errors: Vec::new(),
            depth: 0,
            bailed: false,
            in_search: false,
            statement_start: false,
            last_end: 0,
            eof: Token {
                kind: T::Eof,
                start: end,
                len: 0,
            },
        }
    }

    // ---- tree building ----

    fn start(&mut self, kind: N) {
        self.stack.push(Frame {
            kind,
            children: Vec::new(),
        });
    }

    fn finish(&mut self) -> u32 {
        let f = self.stack.pop().expect("balanced start/finish");
        let id = self.nodes.len() as u32;
        self.nodes.push(NodeData {
            kind: f.kind,
            children: f.children,
        });
        if let Some(parent) = self.stack.last_mut() {
            parent.children.push(Child::Node(id));
        }
        id
    }

    /// A position in the current node, to wrap what follows it later.
    fn checkpoint(&self) -> usize {
        self.stack.last().map(|f| f.children.len()).unwrap_or(0)
    }

    /// Start a node that takes the children of the current node from `cp` on.
    fn start_at(&mut self, cp: usize, kind: N) {
        let parent = self.stack.last_mut().expect("an open node");
        let moved = parent.children.split_off(cp.min(parent.children.len()));
        self.stack.push(Frame {
            kind,
            children: moved,
        });
    }

    fn attach_trivia(&mut self) {
        while self.pos < self.tokens.len() && self.tokens[self.pos].kind.is_trivia() {
            let i = self.pos as u32;
            self.stack
                .last_mut()
                .expect("an open node")
                .children
                .push(Child::Token(i));
            self.pos += 1;
        }
    }

    fn finish_tree(mut self) -> Parse {
        // Whatever is left (trailing trivia, or input after a bail-out) goes into the root.
        while self.pos < self.tokens.len() {
            let i = self.pos as u32;
            self.stack[0].children.push(Child::Token(i));
            self.pos += 1;
        }
        while self.stack.len() > 1 {
            self.finish();
        }
        let root = self.finish();
        self.errors.sort_by_key(|e| (e.start, e.end));
        Parse {
            tree: SyntaxTree {
                tokens: self.tokens,
                nodes: self.nodes,
                root,
            },
            errors: self.errors,
        }
    }

    // ---- token access ----

    /// The n-th upcoming non-trivia token (the end, once parsing bailed out).
    fn nth(&self, n: usize) -> Token {
        if self.bailed {
            return self.eof;
        }
        let mut seen = 0;
        let mut i = self.pos;
        while i < self.tokens.len() {
            let t = self.tokens[i];
            if !t.kind.is_trivia() {
                if seen == n {
                    return t;
                }
                seen += 1;
            }
            i += 1;
        }
        self.eof
    }

    fn current(&self) -> Token {
        self.nth(0)
    }

    fn kind(&self) -> T {
        self.current().kind
    }

    fn text(&self, t: Token) -> &'a str {
        &self.src[t.range()]
    }

    fn at(&self, kind: T) -> bool {
        self.kind() == kind
    }

    fn at_word(&self, w: &str) -> bool {
        let t = self.current();
        t.kind == T::Ident && self.text(t) == w
    }

    fn nth_word(&self, n: usize, w: &str) -> bool {
        let t = self.nth(n);
        t.kind == T::Ident && self.text(t) == w
    }

    fn at_any_word(&self, ws: &[&str]) -> bool {
        let t = self.current();
        t.kind == T::Ident && ws.contains(&self.text(t))
    }

    /// Whether the current token is whitespace-adjacent to the previous one (no trivia between).
    fn glued(&self) -> bool {
        self.pos < self.tokens.len() && !self.tokens[self.pos].kind.is_trivia()
    }

    fn bump(&mut self) {
        if self.bailed {
            return;
        }
        self.attach_trivia();
        if self.pos < self.tokens.len() {
            self.last_end = self.tokens[self.pos].end();
            let i = self.pos as u32;
            self.stack
                .last_mut()
                .expect("an open node")
                .children
                .push(Child::Token(i));
            self.pos += 1;
        }
    }

    fn eat(&mut self, kind: T) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.at_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn found(&self) -> String {
        let t = self.current();
        match t.kind {
            T::Eof => "the end of the query".into(),
            T::Ident | T::Int | T::Real | T::Timespan => format!("`{}`", self.text(t)),
            T::String => "a string".into(),
            k => k.describe().into(),
        }
    }

    fn error_here(&mut self, kind: ErrorKind, message: String) {
        let t = self.current();
        // One error per position: recovery may try several things at the same token.
        if self.errors.last().is_some_and(|e| e.start == t.start) {
            return;
        }
        self.errors.push(SyntaxError {
            kind,
            start: t.start,
            end: t.end(),
            message,
        });
    }

    /// Where Kusto.Language reports a missing element: right after the previous token, except
    /// that with exactly one space before the next token it reports that token (measured with
    /// the oracle: `A B` → at `B`, `A  B` and `A⏎B` → right after `A`); tokens that cannot
    /// start anything are reported where they are.
    /// Kusto.Language's "Expected: X" for a separator or closing token follows that rule;
    /// other missing elements ("Missing expression", "Missing name", ...) are always right
    /// after the previous token.
    fn missing_at(&self, what: &str) -> u32 {
        const SEPARATORS: &[&str] = &[
            "`,` or `)`",
            "`,` or `|`",
            "`|`, `;` or the end of the query",
            "`)`",
            "`]`",
            "`}`",
            "`,`",
            "`;`",
            "`on`",
            "`by`",
        ];
        let cur = self.current();
        let one_space = &self.src[self.last_end as usize..cur.start as usize] == " ";
        // A token that can be read as the start of an operand (measured: `let x on 1` →
        // "Expected: =" at `on`; `let x | 1` → "Missing expression" after `x`).
        let operand = match cur.kind {
            T::Ident => {
                let w = self.text(cur);
                !(WORD_OPS.contains(&w) || LIST_OPS.contains(&w) || w == "by")
            }
            T::String
            | T::Int
            | T::Real
            | T::Timespan
            | T::RawLiteral
            | T::BracketedName
            | T::LBracket
            | T::Plus
            | T::Minus => true,
            _ => false,
        };
        if self.last_end == 0
            || matches!(cur.kind, T::Error | T::DotDot | T::Hash)
            || (one_space && (SEPARATORS.contains(&what) || operand))
        {
            cur.start
        } else {
            self.last_end
        }
    }

    /// "expected X, found Y", reported where X is missing: right after the previous token.
    fn expected(&mut self, what: &str) {
        let msg = format!("expected {what}, found {}", self.found());
        let at = self.missing_at(what);
        if self.errors.last().is_some_and(|e| e.start == at) {
            return;
        }
        self.errors.push(SyntaxError {
            kind: ErrorKind::Expected,
            start: at,
            end: at,
            message: msg,
        });
    }

    /// A missing expression or value: Kusto.Language reports it right after the previous
    /// token ("Missing expression"), not at the token that follows.
    fn missing(&mut self, what: &str) {
        if self.last_end == 0 || matches!(self.kind(), T::Error | T::DotDot | T::Hash) {
            self.expected(what);
            return;
        }
        let msg = format!("expected {what}, found {}", self.found());
        let at = self.last_end;
        if self.errors.last().is_some_and(|e| e.start == at) {
            return;
        }
        self.errors.push(SyntaxError {
            kind: ErrorKind::Expected,
            start: at,
            end: at,
            message: msg,
        });
    }

    fn expect(&mut self, kind: T) -> bool {
        if self.eat(kind) {
            true
        } else {
            self.expected(kind.describe());
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> bool {
        if self.eat_word(w) {
            true
        } else {
            self.expected(&format!("`{w}`"));
            false
        }
    }

    fn at_name(&self) -> bool {
        matches!(self.kind(), T::Ident | T::BracketedName)
    }

    fn expect_name(&mut self) -> bool {
        if self.at(T::Ident) && not_a_name(self.text(self.current())) {
            let w = self.text(self.current());
            self.error_here(
                ErrorKind::Expected,
                format!(
                    "expected a name, found the keyword `{w}` (write ['{w}'] to use it as a name)"
                ),
            );
            // Take it as the name anyway, so parsing goes on.
            self.start(N::Name);
            self.bump();
            self.finish();
            return true;
        }
        if self.at_name() {
            self.start(N::Name);
            self.bump();
            self.finish();
            true
        } else {
            self.expected("a name");
            false
        }
    }

    /// Skip tokens into an Error node until a synchronisation point at nesting depth 0.
    fn recover(&mut self, stop_at_comma: bool) {
        if self.at_sync(stop_at_comma) {
            return;
        }
        self.start(N::Error);
        let mut depth = 0usize;
        loop {
            match self.kind() {
                T::Eof => break,
                T::LParen | T::LBracket | T::LBrace => depth += 1,
                T::RParen | T::RBracket | T::RBrace => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                T::Pipe | T::Semi if depth == 0 => break,
                T::Comma if depth == 0 && stop_at_comma => break,
                _ => {}
            }
            self.bump();
        }
        self.finish();
    }

    fn at_sync(&self, stop_at_comma: bool) -> bool {
        matches!(
            self.kind(),
            T::Eof | T::Pipe | T::Semi | T::RParen | T::RBracket | T::RBrace
        ) || (stop_at_comma && self.at(T::Comma))
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            if !self.bailed {
                self.error_here(
                    ErrorKind::TooDeep,
                    format!("the query nests deeper than {MAX_DEPTH} levels"),
                );
                self.bailed = true;
            }
            return false;
        }
        !self.bailed
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- statements ----

    fn query(&mut self) {
        self.start(N::Query);
        self.statements(false);
    }

    /// Statements separated by `;`; inside a block, stops at `}`.
    fn statements(&mut self, in_block: bool) {
        loop {
            while self.eat(T::Semi) {}
            if self.bailed || self.at(T::Eof) || (in_block && self.at(T::RBrace)) {
                break;
            }
            let before = self.pos;
            self.statement();
            if self.bailed {
                break;
            }
            if self.eat(T::Semi) {
                continue;
            }
            if self.at(T::Eof) || (in_block && self.at(T::RBrace)) {
                break;
            }
            // A token that could start another statement: Kusto.Language reports the missing
            // `;`; one that cannot start anything is reported where it is.
            let t = self.current();
            let starts = match t.kind {
                T::Ident => {
                    !not_an_expression(self.text(t)) || OpKind::is_pipe_keyword(self.text(t))
                }
                T::BracketedName
                | T::Int
                | T::Real
                | T::Timespan
                | T::String
                | T::RawLiteral
                | T::Placeholder
                | T::LParen
                | T::LBracket
                | T::LBrace
                | T::Minus
                | T::Plus => true,
                _ => false,
            };
            if starts {
                self.expected("`|`, `;` or the end of the query");
            } else {
                let msg = format!(
                    "expected `|`, `;` or the end of the query, found {}",
                    self.found()
                );
                self.error_here(ErrorKind::Expected, msg);
            }
            self.recover(false);
            // Unbalanced closers at top level: consume them so parsing goes on.
            if matches!(self.kind(), T::RParen | T::RBracket | T::RBrace) && !in_block {
                self.start(N::Error);
                self.bump();
                self.finish();
            }
            if self.pos == before {
                self.start(N::Error);
                self.bump();
                self.finish();
            }
        }
    }

    fn statement(&mut self) {
        if self.at_word("let") {
            self.let_statement();
        } else if self.at_word("set") && self.nth(1).kind == T::Ident && !self.nth_word(1, "by") {
            self.start(N::SetStatement);
            self.bump();
            self.bump();
            while self.eat(T::Dot) {
                self.expect_name();
            }
            if self.eat(T::Eq) {
                self.expr();
            }
            self.finish();
        } else if self.at_word("declare") && self.nth_word(1, "query_parameters") {
            self.start(N::DeclareStatement);
            self.bump();
            self.bump();
            self.param_list();
            self.finish();
        } else if self.at_word("alias") && self.nth_word(1, "database") {
            self.start(N::AliasStatement);
            self.bump();
            self.bump();
            self.expect_name();
            self.expect(T::Eq);
            self.expr();
            self.finish();
        } else {
            self.start(N::ExprStatement);
            self.statement_start = true;
            self.pipeline();
            self.statement_start = false;
            self.finish();
        }
    }

    fn let_statement(&mut self) {
        self.start(N::LetStatement);
        self.bump(); // let
        self.expect_name();
        if !self.expect(T::Eq) {
            self.recover(false);
            self.finish();
            return;
        }
        if self.at_word("view") && self.nth(1).kind == T::LParen {
            self.bump();
            self.function_decl();
        } else if self.at(T::LParen) && self.paren_then_brace() {
            self.function_decl();
        } else {
            self.pipeline();
        }
        self.finish();
    }

    /// Whether the `(` here closes and is followed by `{` (a function declaration).
    fn paren_then_brace(&self) -> bool {
        let mut depth = 0usize;
        let mut n = 0;
        loop {
            let t = self.nth(n);
            match t.kind {
                T::LParen => depth += 1,
                T::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return self.nth(n + 1).kind == T::LBrace;
                    }
                }
                T::Eof | T::Semi => return false,
                _ => {}
            }
            n += 1;
            if n > 4096 {
                return false;
            }
        }
    }

    fn function_decl(&mut self) {
        self.start(N::FunctionDecl);
        self.param_list();
        self.start(N::Block);
        if self.expect(T::LBrace) {
            if self.enter() {
                self.statements(true);
            }
            self.leave();
            self.expect(T::RBrace);
        }
        self.finish();
        self.finish();
    }

    /// `( name:type [= default], ... )`.
    fn param_list(&mut self) {
        self.start(N::ParamList);
        if !self.expect(T::LParen) {
            self.finish();
            return;
        }
        while !self.at(T::RParen) && !self.at(T::Eof) {
            self.start(N::Param);
            if self.eat(T::Star) {
                // `(*)` in tabular parameter schemas.
            } else if self.expect_name() {
                if self.expect(T::Colon) {
                    self.type_ref();
                }
                if self.eat(T::Eq) {
                    self.expr();
                }
            } else {
                self.recover(true);
            }
            self.finish();
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.expect(T::RParen);
        self.finish();
    }

    /// A type: a scalar type name, or a tabular schema `(*)` / `(a:string, ...)`.
    fn type_ref(&mut self) {
        self.start(N::TypeRef);
        if self.at(T::LParen) {
            self.param_list();
        } else if self.at(T::Ident) {
            self.bump();
        } else {
            self.expected("a type");
        }
        self.finish();
    }

    // ---- tabular expressions ----

    /// `source | op | op ...` (also plain scalar expressions, which are pipelines of length one).
    fn pipeline(&mut self) {
        if !self.enter() {
            self.leave();
            return;
        }
        let cp = self.checkpoint();
        self.source();
        if self.at(T::Pipe) {
            self.start_at(cp, N::Pipeline);
            while self.eat(T::Pipe) {
                if self.bailed {
                    break;
                }
                self.operator();
            }
            self.finish();
        }
        self.leave();
    }

    fn source(&mut self) {
        let at_statement_start = std::mem::take(&mut self.statement_start);
        let t = self.current();
        if t.kind == T::Ident {
            let w = self.text(t);
            let next = self.nth(1);
            let is_source = match w {
                "union" | "print" | "find" | "search" | "evaluate" => {
                    !matches!(
                        next.kind,
                        T::Eq
                            | T::EqEq
                            | T::Dot
                            | T::Comma
                            | T::RParen
                            | T::Semi
                            | T::Eof
                            | T::Pipe
                    ) || (w == "print" && !matches!(next.kind, T::Dot | T::Eq | T::EqEq))
                }
                "datatable" | "externaldata" | "external_data" => {
                    next.kind == T::LParen || next.kind == T::Ident
                }
                "range" => next.kind == T::Ident || next.kind == T::BracketedName,
                _ => false,
            };
            if is_source || (at_statement_start && NEEDS_INPUT_AT_START.contains(&w)) {
                // The second kind parses (as in Kusto.Language) and the binder rejects it.
                self.operator();
                return;
            }
        }
        if at_statement_start && self.at(T::Pipe) {
            let msg = if self.src[..self.last_end as usize].ends_with(';') {
                "a query cannot start with `|`: the `;` before it ends the statement (remove it to continue the query)"
            } else {
                "a query cannot start with `|`: it starts with a table, a function call, `let` or an expression"
            };
            self.error_here(ErrorKind::Expected, msg.to_string());
            return;
        }
        if matches!(self.kind(), T::Eof | T::Pipe | T::Semi) {
            self.missing("a query or an expression");
            return;
        }
        self.expr();
    }

    /// Operator parameters `name=value` before the operator's body (`kind=inner`,
    /// `hint.strategy=shuffle`, `withsource=T`).
    fn operator_params(&mut self, allowed: &[&str]) {
        loop {
            let t = self.current();
            if t.kind != T::Ident {
                return;
            }
            let w = self.text(t);
            let is_hint = w == "hint" && self.nth(1).kind == T::Dot;
            if !(is_hint || allowed.contains(&w)) {
                return;
            }
            // `name =` (not `==`), with dotted names for hints.
            let mut n = 1;
            if is_hint {
                n = 3;
            }
            if self.nth(n).kind != T::Eq {
                return;
            }
            self.start(N::OperatorParam);
            self.bump();
            if is_hint {
                self.bump();
                self.expect_name();
            }
            self.bump(); // =
                         // Values are single names or literals (`inner`, `true`, `10`, `-1`).
            self.start(N::Literal);
            self.eat(T::Minus);
            if matches!(
                self.kind(),
                T::Ident | T::BracketedName | T::Int | T::Real | T::String | T::Timespan
            ) {
                self.bump();
            } else {
                self.expected("a parameter value");
            }
            self.finish();
            self.finish();
        }
    }

    fn operator(&mut self) {
        self.start(N::Operator);
        let t = self.current();
        if t.kind != T::Ident
            || (not_an_expression(self.text(t)) && !OpKind::is_pipe_keyword(self.text(t)))
        {
            // Kusto.Language: "Query operator expected", right after the `|`.
            self.missing("a query operator (where, project, extend, summarize, ...)");
            self.recover(false);
            self.finish();
            return;
        }
        let w = self.text(t);
        match OpKind::from_keyword(w) {
            Some(K::Where) => self.op_where(),
            Some(K::ProjectKeep | K::ProjectAway) => {
                self.bump();
                self.operator_params(&[]);
                // Names and wildcards only; `project-away` may list none.
                if !(w == "project-away" && self.at_sync(false)) {
                    self.name_list(false);
                }
            }
            Some(K::Project | K::ProjectRename | K::Extend | K::Serialize | K::Print) => {
                self.bump();
                self.operator_params(&[]);
                // `project` and `project-rename` may list nothing (Kusto.Language parses it).
                let may_be_empty = matches!(w, "serialize" | "project" | "project-rename");
                if !(may_be_empty && self.at_sync(false)) {
                    self.column_list(true, false);
                }
            }
            Some(K::ProjectReorder) => {
                self.bump();
                if !self.at_sync(false) {
                    self.name_list(true);
                }
            }
            Some(K::Summarize) => self.op_summarize(),
            Some(K::Distinct) => {
                self.bump();
                self.operator_params(&[]);
                if !self.eat(T::Star) {
                    self.column_list(true, false);
                }
            }
            Some(K::Count | K::GetSchema) => {
                self.bump();
                if w == "count" && self.at_word("as") {
                    self.bump();
                    self.expect_name();
                }
            }
            Some(K::Take | K::Sample) => {
                self.bump();
                self.operator_params(&[]);
                self.expr();
            }
            Some(K::Top) => {
                self.bump();
                self.operator_params(&[]);
                self.expr();
                self.start(N::Clause);
                self.expect_word("by");
                self.sort_keys();
                self.finish();
            }
            Some(K::Sort) => {
                self.bump();
                self.operator_params(&[]);
                self.start(N::Clause);
                self.expect_word("by");
                self.sort_keys();
                self.finish();
            }
            Some(K::Join | K::Lookup) => self.op_join(w),
            Some(K::Union) => self.op_union(),
            Some(K::MvExpand) => {
                self.bump();
                self.operator_params(&["bagexpansion", "with_itemindex", "kind"]);
                self.expand_list();
                if self.at_word("limit") {
                    self.start(N::Clause);
                    self.bump();
                    self.expr();
                    self.finish();
                }
            }
            Some(K::MvApply) => self.op_mv_apply(),
            Some(K::Parse | K::ParseWhere) => {
                self.bump();
                self.operator_params(&["kind", "flags"]);
                self.expr();
                self.start(N::Clause);
                if self.expect_word("with") {
                    self.parse_pattern();
                }
                self.finish();
            }
            Some(K::ParseKv) => self.op_parse_kv(),
            Some(K::Evaluate) => {
                self.bump();
                self.operator_params(&[]);
                self.expr();
                if self.eat(T::Colon) {
                    self.schema_with(true);
                }
            }
            Some(K::Invoke) => {
                self.bump();
                self.expr();
            }
            Some(K::As) => {
                self.bump();
                self.operator_params(&[]);
                self.expect_name();
            }
            Some(K::SampleDistinct) => {
                self.bump();
                self.operator_params(&[]);
                self.expr();
                self.start(N::Clause);
                // Kusto takes a column name here, not an expression.
                if self.expect_word("of") {
                    self.expect_name();
                }
                self.finish();
            }
            Some(K::TopNested) => self.op_top_nested(),
            Some(K::TopHitters) => self.op_top_hitters(),
            Some(K::Search) => self.op_search(),
            Some(K::Find) => self.op_find(),
            Some(K::Render) => self.op_render(),
            Some(K::Facet) => self.op_facet(),
            Some(K::Consume) => {
                self.bump();
                self.operator_params(&["decodeblocks"]);
            }
            Some(K::Fork) => self.op_fork(),
            Some(K::Partition) => self.op_partition(),
            Some(K::Reduce) => self.op_reduce(),
            Some(K::MakeSeries) => self.op_make_series(),
            Some(K::Range) => {
                self.bump();
                self.expect_name();
                for kw in ["from", "to", "step"] {
                    self.start(N::Clause);
                    if self.expect_word(kw) {
                        self.expr();
                    }
                    self.finish();
                }
            }
            Some(K::Datatable) => {
                self.bump();
                self.schema();
                self.start(N::List);
                if self.at(T::BracketedName) {
                    self.bump();
                } else {
                    self.delimited(T::LBracket, T::RBracket, |p| p.expr());
                }
                self.finish();
            }
            Some(K::ExternalData) => self.op_external_data(),
            Some(K::Scan) => self.op_scan(),
            Some(K::MakeGraph | K::GraphMatch) => {
                // Rare operators: accepted as balanced token sequences.
                self.bump();
                self.balanced_until_pipe();
            }
            None if matches!(w, "let" | "set" | "declare") => {
                self.error_here(
                    ErrorKind::UnknownOperator,
                    format!("`{w}` is a statement, not a query operator: it cannot follow `|`; write it before the query and end it with `;`"),
                );
                self.recover(false);
            }
            None => {
                let msg = match crate::diagnostics::did_you_mean(w, OpKind::pipe_keywords()) {
                    Some(s) => format!("unknown query operator `{w}`; did you mean `{s}`?"),
                    None => format!("unknown query operator `{w}`"),
                };
                self.error_here(ErrorKind::UnknownOperator, msg);
                self.recover(false);
            }
        }
        self.finish();
    }

    /// Parse the `where` operator, from its keyword on.
    fn op_where(&mut self) {
        self.bump();
        self.operator_params(&[]);
        // The predicate is a named expression, as in Kusto.Language: `where x = a == 1`
        // parses (the binder then requires a bool).
        if self.at_name() && self.nth(1).kind == T::Eq {
            self.start(N::Assignment);
            self.expect_name();
            self.bump();
            self.expr();
            self.finish();
        } else {
            self.expr();
        }
    }

    /// Parse the `summarize` operator, from its keyword on.
    fn op_summarize(&mut self) {
        self.bump();
        self.operator_params(&[]);
        if !self.at_word("by") {
            self.column_list(true, false);
        }
        self.clause_column_list("by");
    }

    /// Parse the `join` operator (and `lookup`), from its keyword on.
    fn op_join(&mut self, w: &'a str) {
        self.bump();
        self.operator_params(&["kind", "withsource"]);
        // The right side is any expression (Kusto.Language: `join T on ...`,
        // `join (U | ...) on ...`, even `join x == 1`, which then fails to bind).
        self.expr();
        if self.at_word("on") {
            self.start(N::Clause);
            self.bump();
            self.expr_list_until_sync();
            self.finish();
        } else if w == "lookup" || !self.at_sync(false) {
            self.expected("`on`");
            self.recover(false);
        }
        if w == "join" && self.at_word("where") {
            self.start(N::Clause);
            self.bump();
            self.expr();
            self.finish();
        }
    }

    /// Parse the `union` operator, from its keyword on.
    fn op_union(&mut self) {
        self.bump();
        self.operator_params(&["kind", "withsource", "isfuzzy"]);
        self.start(N::List);
        loop {
            self.tabular_operand();
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.finish();
    }

    /// Parse the `mv-apply` operator, from its keyword on.
    fn op_mv_apply(&mut self) {
        self.bump();
        self.operator_params(&["with_itemindex", "bagexpansion", "kind"]);
        self.expand_list();
        if self.at_word("limit") {
            self.start(N::Clause);
            self.bump();
            self.expr();
            self.finish();
        }
        self.start(N::Clause);
        if self.expect_word("on") {
            self.subquery_operand();
        }
        self.finish();
    }

    /// Parse the `parse-kv` operator, from its keyword on.
    fn op_parse_kv(&mut self) {
        self.bump();
        self.expr();
        self.start(N::Clause);
        if self.expect_word("as") {
            self.schema();
        }
        self.finish();
        if self.at_word("with") {
            self.with_properties();
        }
    }

    /// Parse the `top-nested` operator, from its keyword on.
    fn op_top_nested(&mut self) {
        self.bump();
        self.start(N::List);
        loop {
            self.start(N::Clause);
            // Levels after the first repeat the keyword.
            self.eat_word("top-nested");
            if !self.at_word("of") {
                self.expr();
            }
            if self.expect_word("of") {
                self.column_item(true, false);
            }
            if self.at_word("with") {
                self.bump();
                self.expect_word("others");
                self.expect(T::Eq);
                self.expr();
            }
            if self.expect_word("by") {
                self.column_item(true, false);
                let _ = self.eat_word("asc") || self.eat_word("desc");
            }
            self.finish();
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.finish();
    }

    /// Parse the `top-hitters` operator, from its keyword on.
    fn op_top_hitters(&mut self) {
        self.bump();
        self.expr();
        self.start(N::Clause);
        // Kusto takes a column name here, not an expression.
        if self.expect_word("of") {
            self.expect_name();
        }
        self.finish();
        if self.at_word("by") {
            self.start(N::Clause);
            self.bump();
            self.expr();
            self.finish();
        }
    }

    /// Parse the `search` operator, from its keyword on.
    fn op_search(&mut self) {
        self.bump();
        self.operator_params(&["kind"]);
        if self.at_word("in") && self.nth(1).kind == T::LParen {
            self.start(N::Clause);
            self.bump();
            self.table_list();
            self.finish();
        }
        self.in_search = true;
        self.expr();
        self.in_search = false;
    }

    /// Parse the `find` operator, from its keyword on.
    fn op_find(&mut self) {
        self.bump();
        self.operator_params(&["withsource", "kind"]);
        if self.at_word("in") && self.nth(1).kind == T::LParen {
            self.start(N::Clause);
            self.bump();
            self.table_list();
            self.finish();
        }
        self.start(N::Clause);
        if self.expect_word("where") {
            self.expr();
        }
        self.finish();
        if self.at_word("project-smart") || self.at_word("project") {
            self.start(N::Clause);
            self.bump();
            if !self.at_sync(false) {
                self.column_list(false, false);
            }
            self.finish();
        }
    }

    /// Parse the `render` operator, from its keyword on.
    fn op_render(&mut self) {
        self.bump();
        self.expect_name();
        // Legacy `render chart kind=stacked title="x"` properties.
        while self.at_name() && self.nth(1).kind == T::Eq {
            self.start(N::OperatorParam);
            self.expect_name();
            self.bump();
            self.unary();
            self.finish();
        }
        if self.at_word("with") {
            self.with_properties();
        }
    }

    /// Parse the `facet` operator, from its keyword on.
    fn op_facet(&mut self) {
        self.bump();
        self.start(N::Clause);
        if self.expect_word("by") {
            self.column_list(false, false);
        }
        self.finish();
        if self.at_word("with") {
            self.start(N::Clause);
            self.bump();
            self.subquery_operand();
            self.finish();
        }
    }

    /// Parse the `fork` operator, from its keyword on.
    fn op_fork(&mut self) {
        self.bump();
        let mut any = false;
        while self.at(T::LParen) || (self.at_name() && self.nth(1).kind == T::Eq) {
            any = true;
            self.start(N::Clause);
            if self.at_name() {
                self.expect_name();
                self.bump();
            }
            self.subquery_operand();
            self.finish();
        }
        if !any {
            self.expected("`(` and a subquery");
        }
    }

    /// Parse the `partition` operator, from its keyword on.
    fn op_partition(&mut self) {
        self.bump();
        self.operator_params(&[]);
        self.start(N::Clause);
        if self.expect_word("by") {
            self.expect_name();
        }
        self.finish();
        if self.at(T::LBrace) {
            self.start(N::Block);
            self.bump();
            if self.enter() {
                self.pipeline();
            }
            self.leave();
            self.expect(T::RBrace);
            self.finish();
        } else {
            self.subquery_operand();
        }
    }

    /// An optional clause `word col, col = expr, ...` (`by ...` in make-series and
    /// top-hitters, `with ...` in reduce).
    fn clause_column_list(&mut self, word: &str) {
        if self.at_word(word) {
            self.start(N::Clause);
            self.bump();
            self.column_list(true, false);
            self.finish();
        }
    }

    /// Parse the `reduce` operator, from its keyword on.
    fn op_reduce(&mut self) {
        self.bump();
        self.start(N::Clause);
        if self.expect_word("by") {
            self.expr();
        }
        self.finish();
        self.clause_column_list("with");
    }

    /// Parse the `make-series` operator, from its keyword on.
    fn op_make_series(&mut self) {
        self.bump();
        self.operator_params(&["kind"]);
        self.start(N::List);
        loop {
            self.column_item(true, false);
            if self.at_word("default") {
                self.bump();
                self.expect(T::Eq);
                self.expr();
            }
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.finish();
        self.start(N::Clause);
        if self.expect_word("on") {
            self.expr();
        }
        self.finish();
        if self.at_word("from") || self.at_word("to") || self.at_word("step") {
            for kw in ["from", "to", "step"] {
                if self.at_word(kw) {
                    self.start(N::Clause);
                    self.bump();
                    self.expr();
                    self.finish();
                }
            }
        } else if self.at_word("in") {
            self.start(N::Clause);
            self.bump();
            self.expr();
            self.finish();
        }
        self.clause_column_list("by");
    }

    /// Parse the `externaldata` operator, from its keyword on.
    fn op_external_data(&mut self) {
        self.bump();
        self.operator_params(&["kind"]);
        self.schema();
        self.start(N::List);
        if self.at(T::BracketedName) {
            self.bump();
        } else {
            self.delimited(T::LBracket, T::RBracket, |p| p.expr());
        }
        self.finish();
        if self.at_word("with") {
            self.with_properties();
        }
    }

    /// Parse the `scan` operator, from its keyword on.
    fn op_scan(&mut self) {
        // `scan [with_match_id=Name] [declare (c:type[=default], ...)] with (steps)`.
        self.bump();
        if self.at_word("with_match_id") {
            self.start(N::OperatorParam);
            self.bump();
            self.expect(T::Eq);
            self.expect_name();
            self.finish();
        }
        if self.at_word("declare") {
            self.start(N::Clause);
            self.bump();
            self.param_list();
            self.finish();
        }
        if self.at_word("with") {
            self.start(N::Clause);
            self.bump();
            if self.expect(T::LParen) {
                while self.at_word("step") {
                    self.scan_step();
                }
                self.expect(T::RParen);
            }
            self.finish();
        } else {
            self.expected("`with (step ...)`");
            self.recover(false);
        }
    }

    /// `step Name [output=all|last|none]: Condition [=> Column = Expr, ...];` (the last `;` may
    /// be left out before the closing parenthesis).
    fn scan_step(&mut self) {
        self.start(N::ScanStep);
        self.bump(); // step
        self.expect_name();
        if self.at_word("output") {
            self.start(N::OperatorParam);
            self.bump();
            if self.expect(T::Eq) {
                if self.at_word("all") || self.at_word("last") || self.at_word("none") {
                    self.bump();
                } else {
                    self.expected("`all`, `last` or `none`");
                }
            }
            self.finish();
        }
        if self.expect(T::Colon) {
            self.expr();
            if self.eat(T::FatArrow) {
                self.name_assignment();
                while self.eat(T::Comma) {
                    self.name_assignment();
                }
            }
        }
        if !self.eat(T::Semi) && !self.at(T::RParen) {
            self.expected("`;` after a scan step");
            self.recover(true);
        }
        self.finish();
    }

    fn balanced_until_pipe(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.kind() {
                T::Eof => break,
                T::LParen | T::LBracket | T::LBrace => depth += 1,
                T::RParen | T::RBracket | T::RBrace => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                T::Pipe | T::Semi if depth == 0 => break,
                _ => {}
            }
            self.bump();
        }
    }

    /// `open item, item, ... close`; the items are parsed by `item`. Returns false when `open`
    /// was missing.
    fn delimited(&mut self, open: T, close: T, mut item: impl FnMut(&mut Self)) -> bool {
        if !self.expect(open) {
            return false;
        }
        while !self.at(close) && !self.at(T::Eof) {
            item(self);
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.expect(close);
        true
    }

    /// `with (name=value, ...)` property lists (render, externaldata, parse-kv).
    fn with_properties(&mut self) {
        self.start(N::Clause);
        self.bump(); // with
        self.delimited(T::LParen, T::RParen, |p| p.name_assignment());
        self.finish();
    }

    /// `name = expr` (a property of `with (...)`, an assignment of a `scan` step).
    fn name_assignment(&mut self) {
        self.start(N::Assignment);
        if self.expect_name() {
            if self.expect(T::Eq) {
                self.expr();
            }
        } else {
            self.recover(true);
        }
        self.finish();
    }

    /// `(col:type, ...)` schemas of datatable, externaldata, parse-kv.
    fn schema(&mut self) {
        self.schema_with(false);
    }

    /// A column list; with `star`, `*` may stand for the other columns (a plugin's output
    /// schema: `evaluate bag_unpack(d) : (*, Name:string)`).
    fn schema_with(&mut self, star: bool) {
        self.start(N::Schema);
        self.delimited(T::LParen, T::RParen, |p| {
            if star && p.at(T::Star) {
                p.start(N::Wildcard);
                p.bump();
                p.finish();
                return;
            }
            p.start(N::ColumnDecl);
            if p.expect_name() {
                if p.expect(T::Colon) {
                    p.type_ref();
                }
            } else {
                p.recover(true);
            }
            p.finish();
        });
        self.finish();
    }

    /// `(T1, T2*)` in search/find.
    fn table_list(&mut self) {
        self.start(N::List);
        self.delimited(T::LParen, T::RParen, |p| p.tabular_operand());
        self.finish();
    }

    /// The right side of join/lookup and the operands of union: a table name (possibly with a
    /// wildcard), a function call, or a parenthesised query.
    fn tabular_operand(&mut self) {
        if self.at_name() && self.nth(1).kind == T::Star && self.tokens_glued_next() {
            self.start(N::Wildcard);
            self.bump();
            self.bump();
            // `T*abc` patterns.
            while self.glued() && matches!(self.kind(), T::Ident | T::Star) {
                self.bump();
            }
            self.finish();
            return;
        }
        if self.at(T::Star) {
            self.start(N::Wildcard);
            self.bump();
            self.finish();
            return;
        }
        self.postfix_expr();
    }

    /// Whether the token after the current one follows it without trivia in between.
    fn tokens_glued_next(&self) -> bool {
        let mut i = self.pos;
        while i < self.tokens.len() && self.tokens[i].kind.is_trivia() {
            i += 1;
        }
        i + 1 < self.tokens.len() && !self.tokens[i + 1].kind.is_trivia()
    }

    /// `( op | op ... )`: a subquery whose input is the current row set (mv-apply, facet,
    /// partition, fork).
    fn subquery_operand(&mut self) {
        self.start(N::Paren);
        if self.expect(T::LParen) {
            if self.enter() {
                self.start(N::Pipeline);
                if !self.at(T::RParen) {
                    // The first operator has no leading `|`; some write one anyway.
                    self.eat(T::Pipe);
                    self.operator();
                    while self.eat(T::Pipe) {
                        self.operator();
                    }
                }
                self.finish();
            }
            self.leave();
            self.expect(T::RParen);
        }
        self.finish();
    }

    /// mv-expand / mv-apply items: `[name =] expr [to typeof(type)]`, comma-separated.
    fn expand_list(&mut self) {
        self.start(N::List);
        loop {
            self.column_item(true, false);
            if self.at_word("to") {
                self.start(N::Clause);
                self.bump();
                if self.expect_word("typeof") && self.expect(T::LParen) {
                    self.type_ref();
                    self.expect(T::RParen);
                }
                self.finish();
            }
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.finish();
    }

    /// `kind=regex flags=Ui` patterns of parse: strings, `*`, and `name [: type]`.
    fn parse_pattern(&mut self) {
        self.start(N::Pattern);
        let mut any = false;
        loop {
            match self.kind() {
                T::String => {
                    self.start(N::Literal);
                    while self.at(T::String) {
                        self.bump();
                    }
                    self.finish();
                }
                T::Star => self.bump(),
                T::Ident | T::BracketedName => {
                    self.expect_name();
                    if self.eat(T::Colon) {
                        self.type_ref();
                    }
                }
                _ => break,
            }
            any = true;
        }
        if !any {
            self.expected("a parse pattern (strings, `*` and column names)");
        }
        self.finish();
    }

    fn sort_keys(&mut self) {
        self.start(N::List);
        loop {
            self.start(N::SortKey);
            self.expr();
            let _ = self.eat_word("asc") || self.eat_word("desc");
            if self.eat_word("nulls") && !(self.eat_word("first") || self.eat_word("last")) {
                self.expected("`first` or `last`");
            }
            self.finish();
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.finish();
    }

    /// Comma-separated column names and wildcards (project-away, project-keep, and with
    /// `asc`/`desc` project-reorder): no expressions.
    fn name_list(&mut self, allow_order: bool) {
        self.start(N::List);
        loop {
            let cp = self.checkpoint();
            if !self.column_wildcard() {
                if self.at_name() {
                    self.expect_name();
                } else {
                    self.expected("a column name");
                    self.recover(true);
                }
            }
            if allow_order {
                self.sort_suffix(cp);
            }
            if !self.eat(T::Comma) {
                break;
            }
        }
        if !self.at_sync(false) {
            self.expected("`,` or `|`");
            self.recover(false);
        }
        self.finish();
    }

    /// Comma-separated columns and assignments (project, extend, summarize aggregates, by).
    fn column_list(&mut self, allow_assign: bool, allow_order: bool) {
        self.start(N::List);
        loop {
            if self.at_sync(false) || self.at_word("by") {
                self.missing("a column or an expression");
                break;
            }
            self.column_item(allow_assign, allow_order);
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.finish();
    }

    /// `Col*` and `*` wildcards (the rest of the pattern: names, digits and `*` glued
    /// together, `*1`, `Col*x*`); false when none is here.
    fn column_wildcard(&mut self) -> bool {
        if !(self.at(T::Star)
            || (self.at_name() && self.nth(1).kind == T::Star && self.tokens_glued_next()))
        {
            return false;
        }
        self.start(N::Wildcard);
        self.bump();
        while self.glued() && matches!(self.kind(), T::Ident | T::Star | T::Int) {
            self.bump();
        }
        self.finish();
        true
    }

    /// `asc`/`desc` (and the granny forms) after an item begun at `cp`: a sort key.
    fn sort_suffix(&mut self, cp: usize) {
        if self.eat_word("asc")
            || self.eat_word("desc")
            || self.eat_word("granny-asc")
            || self.eat_word("granny-desc")
            || self.eat_granny()
        {
            self.start_at(cp, N::SortKey);
            self.finish();
        }
    }

    /// `granny-asc`/`granny-desc` as the lexer gives them: `granny`, `-` and `asc`/`desc`,
    /// written without spaces.
    fn eat_granny(&mut self) -> bool {
        let (g, m, w) = (self.nth(0), self.nth(1), self.nth(2));
        let glued = g.end() == m.start && m.end() == w.start;
        if !(glued
            && self.at_word("granny")
            && m.kind == T::Minus
            && (self.nth_word(2, "asc") || self.nth_word(2, "desc")))
        {
            return false;
        }
        for _ in 0..3 {
            self.bump();
        }
        true
    }

    fn column_item(&mut self, allow_assign: bool, allow_order: bool) {
        let cp = self.checkpoint();
        if self.column_wildcard() {
            return;
        }
        if allow_assign && self.assignment_ahead() {
            self.start(N::Assignment);
            if self.at(T::LParen) {
                self.start(N::List);
                self.bump();
                while !self.at(T::RParen) && !self.at(T::Eof) {
                    self.expect_name();
                    if !self.eat(T::Comma) {
                        break;
                    }
                }
                self.expect(T::RParen);
                self.finish();
            } else {
                self.expect_name();
            }
            self.expect(T::Eq);
            self.expr();
            self.finish();
        } else {
            self.expr();
        }
        if allow_order {
            self.sort_suffix(cp);
        }
        if !self.at_sync(true)
            && !self.at_word("by")
            && !self.at_any_word(&[
                "on", "to", "with", "default", "limit", "asc", "desc", "of", "from", "step", "in",
            ])
        {
            // Something unexpected after an item: report and skip to the next item.
            self.expected("`,` or `|`");
            self.recover(true);
        }
    }

    /// `name =` or `(a, b) =` ahead (not `==`).
    fn assignment_ahead(&self) -> bool {
        if self.at_name() {
            return self.nth(1).kind == T::Eq;
        }
        if self.at(T::LParen) {
            let mut n = 1;
            loop {
                let t = self.nth(n);
                match t.kind {
                    T::Ident | T::BracketedName | T::Comma => n += 1,
                    T::RParen => return self.nth(n + 1).kind == T::Eq,
                    _ => return false,
                }
            }
        }
        false
    }

    /// Expressions separated by commas until a synchronisation point (join `on` lists).
    fn expr_list_until_sync(&mut self) {
        self.start(N::List);
        loop {
            self.expr();
            if !self.eat(T::Comma) {
                break;
            }
        }
        self.finish();
    }

    // ---- scalar expressions (Pratt) ----

    fn expr(&mut self) {
        if !self.enter() {
            self.leave();
            return;
        }
        self.binary(0);
        self.leave();
    }

    /// The binding power of the infix operator at the cursor, if any, and how many tokens it
    /// spans. Levels follow Kusto.Language (checked against it, syntax and binding): `or` 1,
    /// `and` 2, equality 3 (`==`, `!=`, `<>`, the `in` family, `between`), relational 4 (`<`,
    /// `<=`, `>`, `>=`), additive 5, multiplicative 6, string operators 7 (`=~`, `!~`, `has`,
    /// `contains`, ..., `matches regex`: `a < 1 has 'x'` is `a < (1 has 'x')`). Levels 3, 4 and
    /// 7 do not chain (`a == b == c` is an error); `=` is not an operator at all (it only names
    /// a value: `extend x = ...`, `where x = ...`, `f(p = ...)`).
    fn infix(&self) -> Option<(u8, usize)> {
        let t = self.current();
        let bp = match t.kind {
            T::EqEq | T::NotEq => 3,
            T::Lt | T::LtEq | T::Gt | T::GtEq => 4,
            T::Plus | T::Minus => 5,
            T::Star | T::Slash | T::Percent => 6,
            T::EqTilde | T::BangTilde => 7,
            // `Column:value` in search predicates (a string operator, as `has`).
            T::Colon if self.in_search => 7,
            T::Ident => {
                let w = self.text(t);
                match w {
                    "or" => 1,
                    "and" => 2,
                    "matches" if self.nth_word(1, "regex") => return Some((7, 2)),
                    "between" | "!between" => 3,
                    _ if LIST_OPS.contains(&w) => 3,
                    _ if WORD_OPS.contains(&w) => 7,
                    _ => return None,
                }
            }
            _ => return None,
        };
        Some((bp, 1))
    }

    fn binary(&mut self, min_bp: u8) {
        let cp = self.checkpoint();
        self.unary();
        // Operators at or above `ceiling` may not follow: set after a non-chaining operator
        // (levels 3, 4 and 7), whose right operand has already taken every tighter operator but
        // a list or range operand, which takes none.
        let mut ceiling = u8::MAX;
        while let Some((bp, ntok)) = self.infix() {
            if bp <= min_bp || bp >= ceiling {
                break;
            }
            // `make-series ... on T in range(a, b, c)`: the clause, not the operator.
            if self.at_word("in") && self.nth_word(1, "range") && self.nth(2).kind == T::LParen {
                break;
            }
            let t = self.current();
            let w = if t.kind == T::Ident { self.text(t) } else { "" };
            self.start_at(cp, N::Binary);
            for _ in 0..ntok {
                self.bump();
            }
            if LIST_OPS.contains(&w) {
                self.expr_list_operand();
            } else if w == "between" || w == "!between" {
                self.range_operand();
            } else {
                if !self.enter() {
                    self.leave();
                    self.finish();
                    return;
                }
                self.binary(bp);
                self.leave();
            }
            self.finish();
            if matches!(bp, 3 | 4 | 7) {
                ceiling = bp;
            }
        }
    }

    /// `(a, b, c)` or `(T | project x)` after `in`, `has_any`, ...: parenthesised, at least
    /// one element, no trailing comma (Kusto.Language's rules).
    fn expr_list_operand(&mut self) {
        self.start(N::ExprList);
        if self.expect(T::LParen) {
            loop {
                if self.at(T::RParen) || self.at(T::Eof) {
                    self.missing("an expression");
                    break;
                }
                self.pipeline();
                if !self.eat(T::Comma) {
                    break;
                }
            }
            self.expect(T::RParen);
        }
        self.finish();
    }

    fn range_operand(&mut self) {
        self.start(N::Range);
        if self.expect(T::LParen) {
            self.expr();
            if self.expect(T::DotDot) {
                self.expr();
            }
            self.expect(T::RParen);
        }
        self.finish();
    }

    fn unary(&mut self) {
        if matches!(self.kind(), T::Minus | T::Plus) {
            self.start(N::Unary);
            self.bump();
            if self.enter() {
                self.unary();
            }
            self.leave();
            self.finish();
            return;
        }
        self.postfix_expr();
    }

    fn postfix_expr(&mut self) {
        let cp = self.checkpoint();
        if !self.primary() {
            return;
        }
        loop {
            match self.kind() {
                T::Dot => {
                    self.start_at(cp, N::Member);
                    self.bump();
                    match self.kind() {
                        T::Ident | T::BracketedName => {
                            self.start(N::Name);
                            self.bump();
                            self.finish();
                        }
                        T::LBracket => {
                            // `EventDetail.[9]`
                            self.bump();
                            self.expr();
                            self.expect(T::RBracket);
                        }
                        _ => self.expected("a property name"),
                    }
                    self.finish();
                    if self.at(T::LParen) {
                        // `cluster("x").database("y")`
                        self.start_at(cp, N::Call);
                        self.call_args();
                        self.finish();
                    }
                }
                T::LBracket => {
                    self.start_at(cp, N::Index);
                    self.bump();
                    self.expr();
                    self.expect(T::RBracket);
                    self.finish();
                }
                _ => break,
            }
        }
    }

    /// Returns false when no expression could start here (an error was reported).
    fn primary(&mut self) -> bool {
        let t = self.current();
        match t.kind {
            T::Int | T::Real | T::Timespan | T::RawLiteral | T::Placeholder => {
                self.start(N::Literal);
                self.bump();
                self.finish();
            }
            T::String => {
                // Adjacent string literals concatenate.
                self.start(N::Literal);
                while self.at(T::String) {
                    self.bump();
                }
                self.finish();
            }
            T::BracketedName => {
                self.start(N::Name);
                self.bump();
                self.finish();
            }
            T::Ident if not_an_expression(self.text(t)) => {
                let w = self.text(t);
                let message = format!(
                    "expected an expression, found the keyword `{w}` (write ['{w}'] to use it as a name)"
                );
                // Kusto.Language reports a keyword used as a name (`where in == 1`) where it
                // is, and a missing expression (`where in (1)`) after the previous token.
                let used_as_name = matches!(
                    self.nth(1).kind,
                    T::EqEq
                        | T::NotEq
                        | T::Lt
                        | T::LtEq
                        | T::Gt
                        | T::GtEq
                        | T::EqTilde
                        | T::BangTilde
                        | T::Plus
                        | T::Star
                        | T::Slash
                );
                if used_as_name || self.last_end == 0 {
                    self.error_here(ErrorKind::Expected, message);
                } else if self.errors.last().is_none_or(|e| e.start != self.last_end) {
                    self.errors.push(SyntaxError {
                        kind: ErrorKind::Expected,
                        start: self.last_end,
                        end: self.last_end,
                        message,
                    });
                }
                return false;
            }
            T::Ident => {
                let w = self.text(t);
                if (w == "true" || w == "false" || w == "null") && self.nth(1).kind != T::LParen {
                    self.start(N::Literal);
                    self.bump();
                    self.finish();
                } else if w == "dynamic" && self.nth(1).kind == T::LParen {
                    self.dynamic_literal();
                } else if self.nth(1).kind == T::LParen {
                    self.start(N::Call);
                    self.start(N::Name);
                    self.bump();
                    self.finish();
                    self.call_args();
                    self.finish();
                } else {
                    self.start(N::Name);
                    self.bump();
                    self.finish();
                }
            }
            T::LParen => {
                self.start(N::Paren);
                self.bump();
                if self.enter() {
                    self.pipeline();
                }
                self.leave();
                self.expect(T::RParen);
                self.finish();
            }
            T::Star => {
                self.start(N::Wildcard);
                self.bump();
                self.finish();
            }
            _ => {
                self.missing("an expression");
                // Do not consume synchronisation tokens; skip anything else once.
                if !self.at_sync(true) && !self.at(T::Eof) {
                    self.start(N::Error);
                    self.bump();
                    self.finish();
                }
                return false;
            }
        }
        true
    }

    /// `(args)` of a call: expressions (tabular ones allowed), `name = expr`, `*`.
    fn call_args(&mut self) {
        self.start(N::List);
        if self.expect(T::LParen) {
            while !self.at(T::RParen) && !self.at(T::Eof) {
                if self.at_name() && self.nth(1).kind == T::Eq {
                    self.start(N::NamedArg);
                    self.expect_name();
                    self.bump();
                    self.expr();
                    self.finish();
                } else {
                    self.pipeline();
                }
                if !self.eat(T::Comma) {
                    break;
                }
                if self.at(T::RParen) {
                    self.missing("an expression");
                }
            }
            if !self.eat(T::RParen) {
                self.expected("`,` or `)`");
                self.recover(false);
                self.eat(T::RParen);
            }
        }
        self.finish();
    }

    fn dynamic_literal(&mut self) {
        self.start(N::DynamicLiteral);
        self.bump(); // dynamic
        self.bump(); // (
        if !self.at(T::RParen) {
            self.dynamic_value();
        }
        self.expect(T::RParen);
        self.finish();
    }

    fn dynamic_value(&mut self) {
        if !self.enter() {
            self.leave();
            return;
        }
        match self.kind() {
            T::BracketedName => {
                // `['x']` lexes as a bracketed name; in a dynamic literal it is a one-element
                // array.
                self.start(N::DynamicArray);
                self.bump();
                self.finish();
            }
            T::LBracket => {
                self.start(N::DynamicArray);
                self.bump();
                while !self.at(T::RBracket) && !self.at(T::Eof) {
                    self.dynamic_value();
                    if !self.eat(T::Comma) {
                        break;
                    }
                    if self.at(T::RBracket) {
                        self.missing("a value");
                    }
                }
                self.expect(T::RBracket);
                self.finish();
            }
            T::LBrace => {
                self.start(N::DynamicBag);
                self.bump();
                while !self.at(T::RBrace) && !self.at(T::Eof) {
                    self.start(N::DynamicPair);
                    if matches!(self.kind(), T::String | T::Ident) {
                        self.bump();
                    } else {
                        self.expected("a property name");
                    }
                    if self.expect(T::Colon) {
                        self.dynamic_value();
                    }
                    self.finish();
                    if !self.eat(T::Comma) {
                        break;
                    }
                    if self.at(T::RBrace) {
                        self.missing("a property");
                    }
                }
                self.expect(T::RBrace);
                self.finish();
            }
            T::Minus | T::Plus => {
                self.start(N::Unary);
                self.bump();
                self.start(N::Literal);
                if matches!(self.kind(), T::Int | T::Real | T::Timespan) {
                    self.bump();
                } else {
                    self.expected("a number");
                }
                self.finish();
                self.finish();
            }
            T::String => {
                self.start(N::Literal);
                while self.at(T::String) {
                    self.bump();
                }
                self.finish();
            }
            T::Int | T::Real | T::Timespan | T::RawLiteral | T::Placeholder => {
                self.start(N::Literal);
                self.bump();
                self.finish();
            }
            T::Ident => {
                let w = self.text(self.current());
                if matches!(w, "true" | "false" | "null") {
                    self.start(N::Literal);
                    self.bump();
                    self.finish();
                } else if self.nth(1).kind == T::LParen {
                    // typed literals inside dynamic: int(1), real(null)...
                    self.expr();
                } else {
                    self.expected("a constant (dynamic literals take only constants)");
                    self.start(N::Error);
                    self.bump();
                    self.finish();
                }
            }
            _ => self.expected("a constant"),
        }
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) {
        let p = parse(q);
        assert!(p.errors.is_empty(), "{q}\n{:#?}", p.errors);
        assert_eq!(p.tree.text(q), q, "lossless");
    }

    fn err(q: &str) -> Vec<SyntaxError> {
        let p = parse(q);
        assert!(!p.errors.is_empty(), "expected errors in {q}");
        assert_eq!(p.tree.text(q), q, "lossless");
        p.errors
    }

    #[test]
    fn ordinary_detection_queries() {
        ok("SecurityEvent | where EventID == 4625 | summarize count() by Account");
        ok("let threshold = 10;\nlet lookback = 1d;\nSigninLogs\n| where TimeGenerated > ago(lookback)\n| where ResultType !in (\"0\", \"50125\")\n| summarize Failures = countif(ResultType != \"0\"), Users = dcount(UserPrincipalName) by IPAddress, bin(TimeGenerated, 1h)\n| where Failures > threshold\n| extend IPCustomEntity = IPAddress\n| project-away Users\n| top 10 by Failures desc nulls last");
        ok("T | join kind=inner hint.strategy=shuffle (T2 | where x > 1) on $left.a == $right.b | lookup kind=leftouter W on Key");
        ok("union isfuzzy=true withsource=Table (A | where x), B, C* | mv-expand with_itemindex=i d = parse_json(x) to typeof(string) limit 10");
        ok("T | mv-apply e = Events to typeof(dynamic) on (where e.x > 1 | summarize make_list(e))");
        ok("T | parse kind=regex flags=Ui Msg with * \"user=\" User:string \" ip=\" Ip \" \" *");
        ok("T | parse-kv Msg as (a:string, b:long) with (pair_delimiter=',', kv_delimiter='=')");
        ok("T | evaluate bag_unpack(x) | render timechart with (title='x', ycolumns=a)");
        ok("let f = (a:string, b:long = 5) { T | where x == a | take b }; f('x')");
        ok("let T2 = view () { datatable(a:string, b:long) ['x', 1, 'y', 2] }; T2");
        ok("range x from 1 to 10 step 1 | extend y = x * 2");
        ok("print a = dynamic({\"k\": [1, 2.5, \"s\", null, true]}), b = datetime(2021-01-01), c = -1");
        ok("T | where a between (1 .. 10) and b !between (datetime(2020-01-01) .. now()) and c matches regex @\"\\d+\"");
        ok("T | extend x = EventDetail.[9], y = d['k'], z = d.a.b[0], w = ['col name'] | project-rename New = Old");
        ok("externaldata(ip:string)[@\"https://example.org/x.csv\"] with (format=\"csv\", ignoreFirstRecord=true) | take 1");
        ok("T | make-series c = count() default = 0 on TimeGenerated from ago(1d) to now() step 1h by Host");
        ok("T | top-nested 3 of Host by count(), top-nested 2 of User with others = 'other' by sum(x) desc");
        ok("T | summarize arg_max(TimeGenerated, *) by Id | as hint.materialized=true X | count");
        ok("workspace('w').SecurityEvent | union (app('a').requests) | where x has_any (\"a\", \"b\") and y has_all (l)");
        ok("T | where Msg has 'a' 'b' | sort by x asc, y desc | sample-distinct 5 of h | distinct *");
        ok("T | where TimeGenerated between (todatetime('{{StartTimeISO}}') .. todatetime('{{EndTimeISO}}'))");
        ok("let x = toscalar(T | summarize max(a)); T | where a == x | serialize | extend rn = row_number()");
        ok("T | fork (where a > 1 | count) (take 1) | partition by h (take 1)");
        ok("set querytrace; T | take 1");
        ok("```\nmulti\n``` | take 1");
    }

    #[test]
    fn errors_are_reported_with_positions_and_recovery() {
        let e = err("T | where");
        assert_eq!(
            e[0].message,
            "expected an expression, found the end of the query"
        );
        let e = err("T | wher x > 1 | take 1");
        assert_eq!(e[0].kind, ErrorKind::UnknownOperator);
        assert!(
            e[0].message.contains("did you mean `where`"),
            "{}",
            e[0].message
        );
        // Two broken operators: both reported in one run.
        let e = err("T | where a == | project b, | take 1");
        assert!(e.len() >= 2, "{e:?}");
        err("T | where a == 'x");
        err("T | summarize count( by x");
        err("| let x = 1");
    }

    #[test]
    fn deep_nesting_is_a_diagnostic() {
        let q = format!("print {}1{}", "(".repeat(20_000), ")".repeat(20_000));
        let e = err(&q);
        assert!(e.iter().any(|e| e.kind == ErrorKind::TooDeep));
    }
}
