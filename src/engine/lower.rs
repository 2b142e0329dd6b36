//! Lowering: the KQL syntax tree ([`crate::kql::syntax`]) to the engine's [`ir`](super::ir).
//!
//! Lowering never fails: constructs the engine cannot run become
//! [`Expr::Unsupported`]/[`Op::Unsupported`] nodes that report "not supported yet" if (and
//! only if) execution reaches them.

use crate::kql::binder::Bound;
use std::rc::Rc;

use super::ir::*;
use super::value::{parse_datetime, parse_timespan_text, Type, Value};
use crate::kql::ast::{OpKind, OpKind as K, StepOutput};
use crate::kql::literal::decode_string;
use crate::kql::syntax::{NodeKind as N, SyntaxTree, Token, TokenKind as T};

/// Lower a parsed query.
pub fn lower(text: &str, tree: &SyntaxTree) -> Query {
    lower_bound(text, tree, None)
}

/// Lower the binder's plan (`kql::binder::Bound`): each assignment's type is the one the
/// binder decided (`Bound::types`), and an unnamed expression's generated name (`Column1`) the
/// one it gave (`Bound::generated`).
pub fn lower_bound(text: &str, tree: &SyntaxTree, bound: Option<&Bound>) -> Query {
    let l = Lower {
        text,
        tree,
        bound,
        depth: std::cell::Cell::new(0),
    };
    Query {
        statements: l.statements(tree.root),
    }
}

struct Lower<'a> {
    text: &'a str,
    tree: &'a SyntaxTree,
    bound: Option<&'a Bound>,
    /// Nesting of the expression being lowered (see [`MAX_DEPTH`]).
    depth: std::cell::Cell<usize>,
}

/// Deepest expression the engine lowers: past it the query is refused with a clear error
/// rather than overflowing the stack. `and`/`or` chains are flattened into balanced trees
/// first, so `where x == 0 or x == 1 or ...` with thousands of terms stays shallow.
pub const MAX_DEPTH: usize = 200;

impl<'a> Lower<'a> {
    /// The syntax tree as the binder sees it (names, arguments, default column names).
    fn view(&self) -> crate::kql::view::View<'a> {
        crate::kql::view::View {
            text: self.text,
            tree: self.tree,
        }
    }

    fn kind(&self, id: u32) -> N {
        self.view().kind(id)
    }

    fn kids(&self, id: u32) -> Vec<u32> {
        self.view().children(id)
    }

    fn toks(&self, id: u32) -> Vec<Token> {
        self.view().tokens(id)
    }

    fn tok_text(&self, t: Token) -> &'a str {
        self.view().tok_text(t)
    }

    /// The binder's type of an expression node, where it has one.
    fn bound_type(&self, id: u32) -> Option<Type> {
        self.bound?
            .types
            .get(&id)
            .copied()
            .filter(|t| *t != Type::Unknown)
    }

    /// The name the binder generated for an unnamed expression (`Column1`), if it gave one.
    fn generated_name(&self, id: u32) -> Option<String> {
        self.bound?.generated.get(&id).cloned()
    }

    fn span(&self, id: u32) -> Span {
        let (start, end) = self.tree.node_range(id).unwrap_or((0, 0));
        Span { start, end }
    }

    fn name_of(&self, id: u32) -> Option<String> {
        self.view().name_of(id).map(|(n, _)| n)
    }

    fn unsupported(&self, what: String, id: u32) -> Expr {
        Expr::Unsupported(what, self.span(id))
    }

    // ---- statements ----

    fn statements(&self, id: u32) -> Vec<Stmt> {
        let mut out = Vec::new();
        for s in self.kids(id) {
            match self.kind(s) {
                N::LetStatement => {
                    let k = self.kids(s);
                    let (Some(name), Some(&value)) =
                        (k.first().and_then(|n| self.name_of(*n)), k.get(1))
                    else {
                        continue;
                    };
                    if self.kind(value) == N::FunctionDecl {
                        let mut f = self.function(value);
                        // The statement's own tokens: `let`, `=`, then `view` for a view.
                        f.is_view = self
                            .toks(s)
                            .iter()
                            .any(|t| self.tok_text(*t).eq_ignore_ascii_case("view"));
                        out.push(Stmt::Func(name, Rc::new(f)));
                    } else {
                        out.push(Stmt::Let(name, self.expr(value)));
                    }
                }
                N::ExprStatement => {
                    if let Some(e) = self.kids(s).first() {
                        out.push(Stmt::Expr(self.expr(*e)));
                    }
                }
                // `declare query_parameters(p:type = default, ...)`: the client supplies the
                // values; the sandbox has no client, so a parameter is its default, and one
                // without a default fails where it is used.
                N::DeclareStatement => {
                    for list in self.kids(s) {
                        if self.kind(list) != N::ParamList {
                            continue;
                        }
                        for (id, p) in self.params(list) {
                            let value = p.default.unwrap_or_else(|| {
                                self.unsupported(
                                    format!("query parameter {} without a default value", p.name),
                                    id,
                                )
                            });
                            out.push(Stmt::Let(p.name, value));
                        }
                    }
                }
                N::SetStatement | N::AliasStatement => {}
                N::Block => out.extend(self.statements(s)),
                _ => {}
            }
        }
        out
    }

    /// A parameter list's parameters (with each one's node): `name[:type][=default]`; a
    /// tabular type (`(*)`, `(a:string)`) is `None`.
    fn params(&self, list: u32) -> Vec<(u32, Param)> {
        crate::kql::ast::param_decls(self.view(), list)
            .into_iter()
            .map(|p| {
                (
                    p.node,
                    Param {
                        name: p.name,
                        ty: p.ty,
                        default: p.default.map(|d| self.expr(d)),
                    },
                )
            })
            .collect()
    }

    fn function(&self, decl: u32) -> FuncDef {
        let mut params = Vec::new();
        let mut body = Vec::new();
        for k in self.kids(decl) {
            match self.kind(k) {
                N::ParamList => params = self.params(k).into_iter().map(|(_, p)| p).collect(),
                N::Block => body = self.statements(k),
                _ => {}
            }
        }
        FuncDef {
            params,
            body,
            is_view: false,
        }
    }

    // ---- expressions ----

    fn expr(&self, id: u32) -> Expr {
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Expr::Unsupported(
                format!("expressions nested deeper than {MAX_DEPTH} levels"),
                self.span(id),
            );
        }
        self.depth.set(d);
        let e = self.expr_inner(id);
        self.depth.set(d - 1);
        e
    }

    /// The operands of a chain of one associative operator (`a or b or c`), found without
    /// recursion along the left spine, in order.
    fn chain(&self, id: u32, op: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = id;
        loop {
            let k = self.kids(cur);
            let same = self.kind(cur) == N::Binary && k.len() == 2 && self.binary_op(cur) == op;
            if !same {
                out.push(cur);
                break;
            }
            out.push(k[1]);
            cur = k[0];
        }
        out.reverse();
        out
    }

    fn binary_op(&self, id: u32) -> String {
        let ops: Vec<&str> = self.toks(id).iter().map(|t| self.tok_text(*t)).collect();
        ops.join(" ").to_ascii_lowercase()
    }

    /// A balanced tree of `op` over `operands` (depth log2 of their count).
    fn balanced(&self, operands: &[u32], op: BinOp, span: Span) -> Expr {
        match operands {
            [one] => self.expr(*one),
            _ => {
                let mid = operands.len() / 2;
                Expr::Bin(
                    op,
                    Box::new(self.balanced(&operands[..mid], op, span)),
                    Box::new(self.balanced(&operands[mid..], op, span)),
                    span,
                )
            }
        }
    }

    fn expr_inner(&self, id: u32) -> Expr {
        match self.kind(id) {
            N::Pipeline => self.pipeline(id),
            N::Operator if self.is_search(id) => self.search_source(id),
            N::Operator => Expr::Source(Box::new(self.operator(id))),
            N::Name => {
                let name = self.name_of(id).unwrap_or_default();
                match name.as_str() {
                    "true" | "True" | "TRUE" => Expr::Lit(Value::Bool(true)),
                    "false" | "False" | "FALSE" => Expr::Lit(Value::Bool(false)),
                    _ => Expr::Name(name, self.span(id)),
                }
            }
            N::Literal => self.literal(id),
            N::DynamicLiteral => match self.kids(id).first() {
                Some(v) => Expr::Lit(Value::dynamic(self.dynamic(*v))),
                None => {
                    // `dynamic(null)` or `dynamic(5)`.
                    let inner: Vec<Token> = self
                        .toks(id)
                        .into_iter()
                        .filter(|t| !matches!(t.kind, T::Ident | T::LParen | T::RParen))
                        .collect();
                    match inner.first() {
                        Some(t) => Expr::Lit(Value::dynamic(self.dynamic_token(*t))),
                        None => Expr::Lit(Value::dynamic(serde_json::Value::Null)),
                    }
                }
            },
            N::Paren => match self.kids(id).first() {
                Some(c) => self.expr(*c),
                None => self.unsupported("empty parentheses".into(), id),
            },
            N::Unary => {
                let op = self.toks(id).first().map(|t| t.kind);
                let inner = match self.kids(id).first() {
                    Some(c) => self.expr(*c),
                    None => return self.unsupported("unary operator".into(), id),
                };
                match op {
                    Some(T::Minus) => match inner {
                        Expr::Lit(Value::Long(i)) => Expr::Lit(Value::Long(-i)),
                        Expr::Lit(Value::Real(r)) => Expr::Lit(Value::Real(-r)),
                        Expr::Lit(Value::TimeSpan(t)) => Expr::Lit(Value::TimeSpan(-t)),
                        other => Expr::Neg(Box::new(other)),
                    },
                    _ => inner,
                }
            }
            N::Binary => self.binary(id),
            N::Call => self.call(id),
            N::Member => {
                let k = self.kids(id);
                let Some(&obj) = k.first() else {
                    return self.unsupported("member access".into(), id);
                };
                let Some(&prop) = k.get(1) else {
                    return self.unsupported("member access".into(), id);
                };
                if let Some(side) = self.name_of(obj) {
                    if side == "$left" || side == "$right" {
                        return Expr::Side(side == "$left", self.name_of(prop).unwrap_or_default());
                    }
                }
                // `x.[e]`: indexed by the value of `e` (a name there is a variable).
                let bracket = self.toks(id).iter().any(|t| self.tok_text(*t) == "[");
                match self.name_of(prop).filter(|_| !bracket) {
                    Some(p) => Expr::Member(Box::new(self.expr(obj)), p),
                    // `x.[9]`
                    None => Expr::Index(Box::new(self.expr(obj)), Box::new(self.expr(prop))),
                }
            }
            N::Index => {
                let k = self.kids(id);
                match (k.first(), k.get(1)) {
                    (Some(a), Some(b)) => {
                        Expr::Index(Box::new(self.expr(*a)), Box::new(self.expr(*b)))
                    }
                    _ => self.unsupported("index".into(), id),
                }
            }
            N::Wildcard => {
                let pat: String = self.toks(id).iter().map(|t| self.tok_text(*t)).collect();
                if pat == "*" {
                    Expr::Star
                } else {
                    Expr::Wildcard(pat)
                }
            }
            N::NamedArg => match self.kids(id).get(1) {
                Some(v) => {
                    let name = self
                        .kids(id)
                        .first()
                        .and_then(|n| self.toks(*n).first().map(|t| self.tok_text(*t).to_string()))
                        .unwrap_or_default();
                    Expr::Named(name, Box::new(self.expr(*v)))
                }
                None => self.unsupported("named argument".into(), id),
            },
            other => self.unsupported(format!("{other:?} expression"), id),
        }
    }

    fn literal(&self, id: u32) -> Expr {
        let toks = self.toks(id);
        let Some(&t) = toks.first() else {
            return self.unsupported("literal".into(), id);
        };
        let raw = self.tok_text(t);
        let v = match t.kind {
            T::String => {
                let mut s = String::new();
                for x in &toks {
                    s.push_str(&decode_string(self.tok_text(*x)).unwrap_or_default());
                }
                Some(Value::string(s))
            }
            T::Int => {
                let r = raw.replace('_', "");
                if let Some(h) = r.strip_prefix("0x").or_else(|| r.strip_prefix("0X")) {
                    i64::from_str_radix(h, 16).ok().map(Value::Long)
                } else {
                    r.parse::<i64>()
                        .ok()
                        .map(Value::Long)
                        .or_else(|| r.parse::<f64>().ok().map(Value::Real))
                }
            }
            T::Real => raw.parse::<f64>().ok().map(Value::Real),
            T::Timespan => parse_timespan_text(raw).map(Value::TimeSpan),
            T::RawLiteral => {
                let open = raw.find('(').unwrap_or(raw.len());
                let word = raw[..open].trim().to_ascii_lowercase();
                let body = raw[open..]
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .trim();
                // `datetime("01/16/2022")`: a quoted body.
                let decoded = decode_string(body);
                let body = decoded.as_deref().unwrap_or(body);
                if body.eq_ignore_ascii_case("null") {
                    Some(Value::Null)
                } else {
                    match word.as_str() {
                        // `datetime(2017 - 08 - 01)` (the sliding_window_counts page): spaces
                        // around the date's separators are allowed.
                        "datetime" | "date" => parse_datetime(body)
                            .or_else(|| parse_datetime(&squeeze_separators(body)))
                            .map(Value::DateTime),
                        "timespan" | "time" => parse_timespan_text(body).map(Value::TimeSpan),
                        "guid" => Some(Value::str(body)),
                        _ => None,
                    }
                }
            }
            T::Ident => match raw {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                "null" => Some(Value::Null),
                _ => None,
            },
            T::Placeholder => return self.unsupported(format!("placeholder {raw}"), id),
            _ => None,
        };
        match v {
            Some(v) => Expr::Lit(v),
            None => self.unsupported(format!("literal {raw}"), id),
        }
    }

    fn dynamic(&self, id: u32) -> serde_json::Value {
        match self.kind(id) {
            N::DynamicArray => {
                // `['abc']` lexes as one bracketed-name token: a one-string array.
                let kids = self.kids(id);
                if kids.is_empty() {
                    if let Some(t) = self
                        .toks(id)
                        .into_iter()
                        .find(|t| t.kind == T::BracketedName)
                    {
                        let raw = self.tok_text(t);
                        let inner = raw[1..raw.len() - 1].trim();
                        return serde_json::Value::Array(vec![serde_json::Value::String(
                            decode_string(inner).unwrap_or_default(),
                        )]);
                    }
                }
                serde_json::Value::Array(kids.iter().map(|k| self.dynamic(*k)).collect())
            }
            N::DynamicBag => {
                let mut m = serde_json::Map::new();
                for p in self.kids(id) {
                    let Some(key) = self.toks(p).first().copied() else {
                        continue;
                    };
                    let k = decode_string(self.tok_text(key))
                        .unwrap_or_else(|| self.tok_text(key).to_string());
                    let v = self
                        .kids(p)
                        .first()
                        .map(|v| self.dynamic(*v))
                        .unwrap_or(serde_json::Value::Null);
                    m.insert(k, v);
                }
                serde_json::Value::Object(m)
            }
            N::Literal => match self.literal(id) {
                Expr::Lit(v) => v.to_json(),
                _ => serde_json::Value::Null,
            },
            N::Unary => match self.expr(id) {
                Expr::Lit(v) => v.to_json(),
                _ => serde_json::Value::Null,
            },
            _ => serde_json::Value::Null,
        }
    }

    fn dynamic_token(&self, t: Token) -> serde_json::Value {
        let raw = self.tok_text(t);
        match t.kind {
            T::String => serde_json::Value::String(decode_string(raw).unwrap_or_default()),
            T::Int => raw
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or(serde_json::Value::Null),
            T::Real => raw
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            T::Ident if raw == "true" || raw == "false" => serde_json::Value::Bool(raw == "true"),
            _ => serde_json::Value::Null,
        }
    }

    fn binary(&self, id: u32) -> Expr {
        let k = self.kids(id);
        let op = self.binary_op(id);
        if (op == "and" || op == "or") && k.len() == 2 {
            let operands = self.chain(id, &op);
            if operands.len() > 2 {
                let bin = if op == "and" { BinOp::And } else { BinOp::Or };
                return self.balanced(&operands, bin, self.span(id));
            }
        }
        let (Some(&a), Some(&b)) = (k.first(), k.get(1)) else {
            return self.unsupported(format!("operator {op}"), id);
        };
        let span = self.span(id);
        let lhs = Box::new(self.expr(a));
        let list_op = match op.as_str() {
            "in" => Some(ListOp::In),
            "!in" => Some(ListOp::NotIn),
            "in~" => Some(ListOp::InCi),
            "!in~" => Some(ListOp::NotInCi),
            "has_any" => Some(ListOp::HasAny),
            "has_all" => Some(ListOp::HasAll),
            _ => None,
        };
        if let Some(lop) = list_op {
            let items = match self.kind(b) {
                N::ExprList => self.kids(b).iter().map(|x| self.expr(*x)).collect(),
                _ => vec![self.expr(b)],
            };
            return Expr::List(lop, lhs, items, span);
        }
        if op == "between" || op == "!between" {
            let r = self.kids(b);
            if self.kind(b) != N::Range || r.len() != 2 {
                return self.unsupported("between without a range".into(), id);
            }
            return Expr::Between(
                op == "!between",
                lhs,
                Box::new(self.expr(r[0])),
                Box::new(self.expr(r[1])),
            );
        }
        let rhs = Box::new(self.expr(b));
        let bin = match op.as_str() {
            "and" => BinOp::And,
            "or" => BinOp::Or,
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "==" => BinOp::Eq,
            "!=" | "<>" => BinOp::Ne,
            "=~" => BinOp::EqCi,
            "!~" => BinOp::NeCi,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "matches regex" => BinOp::Matches,
            // The legacy spellings Kusto.Language still accepts.
            "notcontains" => BinOp::Str(StrOp::Contains, true, false),
            "notcontainscs" => BinOp::Str(StrOp::Contains, true, true),
            "containscs" => BinOp::Str(StrOp::Contains, false, true),
            other => {
                let (neg, rest) = match other.strip_prefix('!') {
                    Some(r) => (true, r),
                    None => (false, other),
                };
                let (cs, base) = match rest.strip_suffix("_cs") {
                    Some(b) => (true, b),
                    None => (false, rest),
                };
                let s = match base {
                    "has" => StrOp::Has,
                    "hasprefix" => StrOp::HasPrefix,
                    "hassuffix" => StrOp::HasSuffix,
                    "contains" => StrOp::Contains,
                    "startswith" => StrOp::StartsWith,
                    "endswith" => StrOp::EndsWith,
                    _ => return self.unsupported(format!("operator `{other}`"), id),
                };
                BinOp::Str(s, neg, cs)
            }
        };
        Expr::Bin(bin, lhs, rhs, span)
    }

    fn args(&self, call: u32) -> Vec<u32> {
        self.view().args(call)
    }

    fn call(&self, id: u32) -> Expr {
        let k = self.kids(id);
        let Some(&callee) = k.first() else {
            return self.unsupported("call".into(), id);
        };
        let Some(name) = self.name_of(callee) else {
            return self.unsupported("cross-resource reference".into(), id);
        };
        // `typeof(string)` (the type argument of extract/extractjson): the type's name.
        if name == "typeof" {
            let t: String = self
                .args(id)
                .iter()
                .flat_map(|a| {
                    self.toks(*a)
                        .into_iter()
                        .chain(self.kids(*a).into_iter().flat_map(|k| self.toks(k)))
                })
                .map(|t| self.tok_text(t).to_string())
                .collect();
            return Expr::Lit(Value::string(t));
        }
        // The aggregations whose columns are their arguments' take an expression's default
        // name (`arg_max(T, tostring(Id))` → `Id`, as Kusto.Language names it); not the
        // predicate of the `*if` forms.
        let by_argument = matches!(
            name.as_str(),
            "arg_max" | "arg_min" | "take_any" | "take_anyif" | "any" | "anyif"
        );
        let args: Vec<Expr> = self
            .args(id)
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let e = self.expr(*a);
                let named = by_argument
                    && !(k == 1 && name.ends_with("if"))
                    && !matches!(self.kind(*a), N::Name | N::NamedArg);
                match self.default_name(*a).filter(|_| named) {
                    Some(n) => Expr::Named(n, Box::new(e)),
                    None => e,
                }
            })
            .collect();
        Expr::Call(name, args, self.span(id))
    }

    fn pipeline(&self, id: u32) -> Expr {
        let k = self.kids(id);
        let mut iter = k.clone().into_iter().peekable();
        let source = match iter.peek() {
            Some(&first) if self.kind(first) == N::Operator => {
                iter.next();
                // `Source(op)`, or for `search` its union-and-filter form.
                self.expr(first)
            }
            Some(&first) => {
                iter.next();
                self.expr(first)
            }
            None => return self.unsupported("empty pipeline".into(), id),
        };
        let source_name = k
            .first()
            .filter(|f| self.kind(**f) == N::Name)
            .and_then(|f| self.name_of(*f));
        let ops = iter
            .filter(|o| self.kind(*o) == N::Operator)
            .map(|o| match self.operator(o) {
                Op::Search { predicate, .. } => Op::Search {
                    predicate,
                    table: source_name.clone().unwrap_or_default(),
                },
                op => op,
            })
            .collect();
        Expr::Pipe(Box::new(source), ops)
    }

    // ---- operators ----

    /// The operator at `op`, for the accessors the binder shares (`crate::kql::ast`).
    fn op_view(&self, op: u32) -> crate::kql::ast::Operator<'a> {
        crate::kql::ast::Operator::cast(self.tree, self.text, op).unwrap_or(
            crate::kql::ast::Operator {
                view: self.view(),
                id: op,
                kind: None,
            },
        )
    }

    fn param(&self, op: u32, key: &str) -> Option<String> {
        self.op_view(op).param(key)
    }

    /// `scan`: the match id's name, the declared columns and the steps, each step's
    /// references to the state (`s1.Ts`) lowered to the names `s1.Ts` the executor binds.
    fn scan(&self, op: u32) -> Op {
        let view = crate::kql::ast::Scan(self.op_view(op));
        let mut declare: Vec<_> = view
            .declare()
            .into_iter()
            .map(|p| {
                (
                    p.name,
                    p.ty.unwrap_or(Type::Unknown),
                    p.default.map(|d| self.expr(d)),
                )
            })
            .collect();
        let mut steps: Vec<ScanStep> = view
            .steps()
            .into_iter()
            .map(|st| ScanStep {
                name: st.name,
                output: match st.output {
                    StepOutput::All => ScanOutput::All,
                    StepOutput::Last => ScanOutput::Last,
                    StepOutput::None => ScanOutput::None,
                },
                cond: st
                    .cond
                    .map(|c| self.expr(c))
                    .unwrap_or(Expr::Lit(Value::Bool(false))),
                assigns: st
                    .assigns
                    .into_iter()
                    .map(|(n, v)| (n, self.expr(v)))
                    .collect(),
            })
            .collect();
        let match_id = view.match_id();
        let names: Vec<String> = steps.iter().map(|s| s.name.clone()).collect();
        for s in &mut steps {
            state_names(&mut s.cond, &names);
            for (_, e) in &mut s.assigns {
                state_names(e, &names);
            }
        }
        for (_, _, d) in &mut declare {
            if let Some(e) = d {
                state_names(e, &names);
            }
        }
        Op::Scan {
            match_id,
            declare,
            steps,
        }
    }

    fn clause(&self, op: u32, word: &str) -> Option<u32> {
        self.op_view(op).clause(word)
    }

    /// The list of a clause, or the clause's single expression as a list of one.
    fn clause_items(&self, clause: u32) -> Vec<u32> {
        let k = self.kids(clause);
        match k.first() {
            Some(&l) if self.kind(l) == N::List => self.kids(l),
            _ => k,
        }
    }

    /// The columns of an unnamed call of a function that returns several values.
    fn tuple_names(&self, id: u32) -> Option<Vec<String>> {
        self.view().tuple_names(id)
    }

    /// The default column name Kusto gives an unnamed expression (the binder's rule).
    pub fn default_name(&self, id: u32) -> Option<String> {
        self.view().default_name(id)
    }

    /// The columns of an unnamed aggregation, by the rule the binder names them with
    /// (`kql::view::View::aggregate_names`); none when they are generated (`Column1`) or are
    /// the arguments' own columns (`arg_max`, `take_any`), which the engine names when it runs.
    /// An expression over aggregations takes its default name (`log(count())` → `count_`).
    fn aggregate_name(&self, call: u32) -> Vec<String> {
        match self.view().aggregate_names(call) {
            crate::kql::view::AggregateNames::Named(names) => names,
            // `log(count())` → `count_`, as outside summarize.
            crate::kql::view::AggregateNames::Generated => {
                self.default_name(call).into_iter().collect()
            }
            crate::kql::view::AggregateNames::Columns => Vec::new(),
        }
    }

    fn assigns(&self, list: Option<u32>, aggregate: bool) -> Vec<Assign> {
        let Some(list) = list else {
            return Vec::new();
        };
        let items = if self.kind(list) == N::List {
            self.kids(list)
        } else {
            vec![list]
        };
        items
            .into_iter()
            .filter(|i| !matches!(self.kind(*i), N::OperatorParam))
            .map(|item| self.assign(item, aggregate))
            .collect()
    }

    /// `print`'s columns: an unnamed expression is `print_0`, `print_1`, ... whatever its
    /// default name elsewhere (a function returning several values keeps its parts' names).
    fn print_assigns(&self, list: Option<u32>) -> Vec<Assign> {
        let mut unnamed = 0;
        let mut out = self.assigns(list, false);
        let items = match list {
            Some(l) if self.kind(l) == N::List => self.kids(l),
            Some(l) => vec![l],
            None => Vec::new(),
        };
        let items = items
            .into_iter()
            .filter(|i| !matches!(self.kind(*i), N::OperatorParam));
        for (a, item) in out.iter_mut().zip(items) {
            if self.kind(item) == N::Assignment || self.tuple_names(item).is_some() {
                continue;
            }
            a.names = vec![format!("print_{unnamed}")];
            unnamed += 1;
        }
        out
    }

    fn assign(&self, item: u32, aggregate: bool) -> Assign {
        if self.kind(item) == N::Assignment {
            let k = self.kids(item);
            let names = match k.first().map(|n| self.kind(*n)) {
                Some(N::Name) => self.name_of(k[0]).into_iter().collect(),
                Some(N::List) => self
                    .kids(k[0])
                    .into_iter()
                    .filter_map(|n| self.name_of(n))
                    .collect(),
                _ => Vec::new(),
            };
            // A function returning several values names the parts the assignment does not
            // (`f = series_decompose_forecast(y, 4)`: `f`, then `series_decompose_forecast_y_seasonal`...).
            let mut names = names;
            let series = k
                .last()
                .filter(|v| self.kind(**v) == N::Call)
                .and_then(|v| self.kids(*v).first().and_then(|c| self.name_of(*c)))
                .is_some_and(|f| crate::kql::view::tuple_parts(&f).is_some());
            if let Some(all) = k
                .last()
                .filter(|_| series)
                .and_then(|v| self.tuple_names(*v))
            {
                if !names.is_empty() && names.len() < all.len() {
                    names.extend(all[names.len()..].iter().cloned());
                }
            }
            let expr = k
                .last()
                .map(|v| self.expr(*v))
                .unwrap_or(Expr::Lit(Value::Null));
            let ty = k.last().and_then(|v| self.bound_type(*v));
            return Assign { names, expr, ty };
        }
        let mut names = if aggregate && self.kind(item) == N::Call {
            self.aggregate_name(item)
        } else if let Some(names) = self.tuple_names(item) {
            names
        } else {
            // The binder's name when it gave one (`by b, tostring(b)` → `b1`), else the
            // default.
            self.generated_name(item)
                .or_else(|| self.default_name(item))
                .into_iter()
                .collect()
        };
        if names.is_empty() {
            names.extend(self.generated_name(item));
        }
        Assign {
            names,
            expr: self.expr(item),
            ty: self.bound_type(item),
        }
    }

    fn patterns(&self, list: Option<u32>) -> Vec<String> {
        list.map(|l| crate::kql::ast::column_patterns(self.view(), l))
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.pattern)
            .collect()
    }

    fn reorder_patterns(&self, list: Option<u32>) -> Vec<(String, Option<NameOrder>)> {
        list.map(|l| crate::kql::ast::column_patterns(self.view(), l))
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let order = c.order.map(|o| NameOrder {
                    desc: o.desc,
                    granny: o.granny,
                });
                (c.pattern, order)
            })
            .collect()
    }

    fn sort_keys(&self, clause: Option<u32>) -> Vec<SortKey> {
        let Some(c) = clause else {
            return Vec::new();
        };
        self.clause_items(c)
            .into_iter()
            .map(|k| {
                if self.kind(k) == N::SortKey {
                    let words: Vec<String> = self
                        .toks(k)
                        .iter()
                        .map(|t| self.tok_text(*t).to_ascii_lowercase())
                        .collect();
                    let desc = !words.iter().any(|w| w == "asc");
                    let nulls_first = if words.iter().any(|w| w == "first") {
                        true
                    } else if words.iter().any(|w| w == "last") {
                        false
                    } else {
                        !desc
                    };
                    SortKey {
                        expr: self
                            .kids(k)
                            .first()
                            .map(|e| self.expr(*e))
                            .unwrap_or(Expr::Lit(Value::Null)),
                        desc,
                        nulls_first,
                    }
                } else {
                    SortKey {
                        expr: self.expr(k),
                        desc: true,
                        nulls_first: false,
                    }
                }
            })
            .collect()
    }

    fn join_on(&self, items: &[u32]) -> Vec<(Expr, Expr)> {
        let mut out = Vec::new();
        for &item in items {
            match self.kind(item) {
                N::Name => {
                    let n = self.name_of(item).unwrap_or_default();
                    out.push((Expr::Side(true, n.clone()), Expr::Side(false, n)));
                }
                // `$left.a == $right.b and $left.c == $right.d` is the list of both equalities.
                N::Binary => {
                    fn equalities(e: Expr, out: &mut Vec<(Expr, Expr)>) {
                        match e {
                            Expr::Bin(BinOp::And, a, b, _) => {
                                equalities(*a, out);
                                equalities(*b, out);
                            }
                            Expr::Bin(BinOp::Eq, a, b, _) => out.push(match (&*a, &*b) {
                                (Expr::Side(false, _), Expr::Side(true, _)) => (*b, *a),
                                _ => (*a, *b),
                            }),
                            other => out.push((other, Expr::Lit(Value::Null))),
                        }
                    }
                    equalities(self.binary(item), &mut out);
                }
                _ => out.push((
                    Expr::Unsupported("join condition".into(), self.span(item)),
                    Expr::Lit(Value::Null),
                )),
            }
        }
        out
    }

    /// The first child expression of an operator that is not a param, list or clause.
    fn operand(&self, op: u32) -> Option<u32> {
        self.op_view(op).operand()
    }

    fn operator(&self, op: u32) -> Op {
        let Some(kw) = self
            .toks(op)
            .first()
            .map(|t| self.tok_text(*t).to_ascii_lowercase())
        else {
            return Op::Unsupported("empty operator".into(), self.span(op));
        };
        let kids = self.kids(op);
        let first_list = kids.iter().copied().find(|k| self.kind(*k) == N::List);
        let span = self.span(op);
        let kind = OpKind::from_keyword(&kw);
        let p = OpParts {
            op,
            kw,
            kids,
            first_list,
            span,
        };
        let (kids, kw) = (&p.kids, p.kw.as_str());
        // One arm per operator: the short ones here, the others in their own `lower_*` method.
        match kind {
            Some(K::Where) => match self.operand(op) {
                // `where x = <predicate>`: the name is dropped, the predicate filters.
                Some(e) if self.kind(e) == N::Assignment => match self.kids(e).last() {
                    Some(v) => Op::Where(self.expr(*v)),
                    None => Op::Unsupported("where without a predicate".into(), span),
                },
                Some(e) => Op::Where(self.expr(e)),
                None => Op::Unsupported("where without a predicate".into(), span),
            },
            Some(K::Take) => match self.operand(op) {
                Some(e) => Op::Take(self.expr(e)),
                None => Op::Unsupported("take without a count".into(), span),
            },
            Some(K::Project) => Op::Project(self.assigns(first_list, false)),
            Some(K::Extend) => Op::Extend(self.assigns(first_list, false)),
            Some(K::Serialize) => Op::Serialize(self.assigns(first_list, false)),
            Some(K::ProjectAway) => Op::ProjectAway(self.patterns(first_list)),
            Some(K::ProjectKeep) => Op::ProjectKeep(self.patterns(first_list)),
            Some(K::ProjectReorder) => Op::ProjectReorder(self.reorder_patterns(first_list)),
            Some(K::ProjectRename) => Op::ProjectRename(
                first_list
                    .map(|l| crate::kql::ast::renames(self.view(), l))
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(new, old)| Some((new, self.name_of(old)?)))
                    .collect(),
            ),
            Some(K::Summarize) => self.lower_summarize(&p),
            // `distinct *`: a bare `*` token, no list.
            Some(K::Distinct) if first_list.is_none() => Op::Distinct(vec![Assign {
                names: Vec::new(),
                expr: Expr::Star,
                ty: None,
            }]),
            Some(K::Distinct) => Op::Distinct(self.assigns(first_list, false)),
            Some(K::Count) => Op::Count,
            Some(K::Sort) => Op::Sort(self.sort_keys(self.clause(op, "by"))),
            Some(K::Top) => match self.operand(op) {
                Some(n) => Op::Top(self.expr(n), self.sort_keys(self.clause(op, "by"))),
                None => Op::Unsupported("top without a count".into(), span),
            },
            Some(K::Join | K::Lookup) => self.lower_join(&p),
            Some(K::Union) => self.lower_union(&p),
            Some(K::MvExpand) => self.lower_mv_expand(&p),
            Some(K::MvApply) => self.lower_mv_apply(&p),
            Some(K::ParseKv) => self.parse_kv(op),
            Some(K::TopNested) => self.top_nested(op),
            Some(K::Find) => self.find(op),
            Some(K::Partition) => self.partition(op),
            Some(K::Parse | K::ParseWhere) => self.lower_parse(&p),
            Some(K::MakeSeries) => self.make_series(op),
            Some(K::Evaluate) => {
                let view = crate::kql::ast::Evaluate(self.op_view(op));
                match view.call().map(|c| self.call(c)) {
                    Some(Expr::Call(name, args, span)) => Op::Evaluate(
                        name,
                        args,
                        span,
                        view.output_schema_node().map(|s| self.schema_columns(s)),
                    ),
                    _ => Op::Unsupported("evaluate".into(), span),
                }
            }
            Some(K::As) => match kids.iter().find_map(|k| self.name_of(*k)) {
                Some(n) => Op::As(n),
                None => Op::NoOp,
            },
            Some(K::Invoke) => match self.operand(op) {
                Some(c) if self.kind(c) == N::Call => match self.call(c) {
                    Expr::Call(name, args, span) => Op::Invoke(name, args, span),
                    _ => Op::Unsupported("invoke".into(), span),
                },
                _ => Op::Unsupported("invoke".into(), span),
            },
            Some(K::GetSchema) => Op::GetSchema,
            Some(K::Render) => Op::NoOp,
            Some(K::Print) => Op::Print(self.print_assigns(first_list)),
            Some(K::Range) => self.lower_range(&p),
            Some(K::Datatable) => {
                let columns = kids
                    .iter()
                    .find(|k| self.kind(**k) == N::Schema)
                    .map(|s| self.schema_columns(*s))
                    .unwrap_or_default();
                let values = first_list
                    .map(|l| self.kids(l).iter().map(|v| self.expr(*v)).collect())
                    .unwrap_or_default();
                Op::Datatable { columns, values }
            }
            Some(K::ExternalData) => self.lower_external_data(&p),
            Some(K::Sample) => match self.operand(op) {
                Some(e) => Op::Take(self.expr(e)),
                None => Op::Unsupported("sample".into(), span),
            },
            Some(K::Scan) => self.scan(op),
            // `T | search ...`: a filter with `$table` (the source form is lowered in
            // `search_source`); `pipeline` names the table.
            Some(K::SampleDistinct | K::TopHitters) => self.of_column(op),
            Some(K::Search) => Op::Search {
                predicate: self.search_predicate(op),
                table: String::new(),
            },
            Some(K::Consume | K::Facet | K::Fork | K::GraphMatch | K::MakeGraph | K::Reduce)
            | None => Op::Unsupported(format!("operator `{kw}`"), span),
        }
    }

    /// Lower `summarize` to its plan operator.
    fn lower_summarize(&self, p: &OpParts) -> Op {
        let view = crate::kql::ast::Summarize(self.op_view(p.op));
        Op::Summarize {
            aggs: self.assigns(view.aggregates(), true),
            by: view
                .by()
                .into_iter()
                .map(|i| self.assign(i, false))
                .collect(),
        }
    }

    /// Lower `join` (and `lookup`) to its plan operator.
    fn lower_join(&self, p: &OpParts) -> Op {
        let view = crate::kql::ast::Join(self.op_view(p.op));
        let span = p.span;
        let right = match view.right() {
            Some(r) => self.expr(r),
            None => return Op::Unsupported(format!("{} without a right side", p.kw), span),
        };
        let on = self.join_on(&view.on());
        let kind = view.kind();
        if view.is_lookup() {
            return Op::Lookup {
                left_outer: kind != "inner",
                right,
                on,
                span,
            };
        }
        let kind = match kind.as_str() {
            "innerunique" => JoinKind::InnerUnique,
            "inner" => JoinKind::Inner,
            "leftouter" => JoinKind::LeftOuter,
            "rightouter" => JoinKind::RightOuter,
            "fullouter" => JoinKind::FullOuter,
            "leftanti" | "anti" | "leftantisemi" => JoinKind::LeftAnti,
            "rightanti" | "rightantisemi" => JoinKind::RightAnti,
            "leftsemi" => JoinKind::LeftSemi,
            "rightsemi" => JoinKind::RightSemi,
            other => {
                return Op::Unsupported(format!("join kind={other}"), span);
            }
        };
        Op::Join {
            kind,
            right,
            on,
            span,
        }
    }

    /// Lower `union` to its plan operator.
    fn lower_union(&self, p: &OpParts) -> Op {
        let view = crate::kql::ast::Union(self.op_view(p.op));
        let tables = view
            .legs()
            .into_iter()
            .map(|leg| match leg {
                crate::kql::ast::UnionLeg::Table(n) | crate::kql::ast::UnionLeg::Pattern(n) => {
                    self.expr(n)
                }
            })
            .collect();
        Op::Union {
            tables,
            source_column: view.source_column(),
            outer: !view.inner(),
            fuzzy: view.fuzzy(),
        }
    }

    /// Lower `mv-expand` to its plan operator.
    fn lower_mv_expand(&self, p: &OpParts) -> Op {
        let view = crate::kql::ast::MvExpand(self.op_view(p.op));
        let items = view.items().iter().map(|it| self.mv_item(it)).collect();
        Op::MvExpand {
            items,
            index: view.item_index(),
            limit: view.limit().map(|e| self.expr(e)),
            bag_as_array: view.bags_as_arrays(),
        }
    }

    /// Lower `mv-apply` to its plan operator.
    fn lower_mv_apply(&self, p: &OpParts) -> Op {
        let view = crate::kql::ast::MvApply(self.op_view(p.op));
        let expansion = view.expansion();
        let items = expansion
            .items()
            .iter()
            .map(|it| self.mv_item(it))
            .collect();
        let Some(sub) = view.subquery() else {
            return Op::Unsupported("mv-apply without an `on (...)` subquery".into(), p.span);
        };
        Op::MvApply {
            items,
            index: expansion.item_index(),
            limit: expansion.limit().map(|e| self.expr(e)),
            ops: sub.into_iter().map(|o| self.operator(o)).collect(),
        }
    }

    /// Lower `parse` (and `parse-where`) to its plan operator.
    fn lower_parse(&self, p: &OpParts) -> Op {
        let view = crate::kql::ast::Parse(self.op_view(p.op));
        let span = p.span;
        let Some(e) = view.source() else {
            return Op::Unsupported("parse without a source".into(), span);
        };
        let Some(parts) = view.parts() else {
            return Op::Unsupported("parse without a pattern".into(), span);
        };
        let pattern = parts
            .into_iter()
            .filter_map(|part| match part {
                crate::kql::ast::PatternPart::Star => Some(PatPart::Star),
                crate::kql::ast::PatternPart::Text(n) => match self.literal(n) {
                    Expr::Lit(v) => Some(PatPart::Text(v.to_kusto_string())),
                    _ => None,
                },
                crate::kql::ast::PatternPart::Column(n, ty) => {
                    Some(PatPart::Column(self.name_of(n).unwrap_or_default(), ty))
                }
            })
            .collect();
        let kind = view.kind();
        Op::Parse {
            expr: self.expr(e),
            regex: kind == "regex",
            relaxed: kind == "relaxed",
            flags: view.flags(),
            pattern,
            keep_unmatched: view.keeps_unmatched(),
        }
    }

    /// Lower `range` to its plan operator.
    fn lower_range(&self, p: &OpParts) -> Op {
        let view = crate::kql::ast::Range(self.op_view(p.op));
        let span = p.span;
        let name = view.name().unwrap_or_default();
        let [from, to, step] = view.from_to_step().map(|e| e.map(|e| self.expr(e)));
        match (from, to, step) {
            (Some(from), Some(to), Some(step)) => Op::Range {
                name,
                from,
                to,
                step,
            },
            _ => Op::Unsupported("range without from/to/step".into(), span),
        }
    }

    /// Lower `externaldata` to its plan operator.
    fn lower_external_data(&self, p: &OpParts) -> Op {
        let op = p.op;
        let kids = &p.kids;
        let first_list = p.first_list;
        let columns = kids
            .iter()
            .find(|k| self.kind(**k) == N::Schema)
            .map(|s| self.schema_columns(*s))
            .unwrap_or_default();
        // The URL list is `[ 'url', ... ]`, lexed as one bracketed name or as a list.
        let mut urls = Vec::new();
        if let Some(l) = first_list {
            for t in self.toks(l) {
                let raw = self.tok_text(t);
                let inner = raw.trim_start_matches('[').trim_end_matches(']').trim();
                for part in inner.split(',') {
                    if let Some(u) = decode_string(part.trim()) {
                        urls.push(u);
                    }
                }
            }
            for k in self.kids(l) {
                if let Expr::Lit(v) = self.expr(k) {
                    urls.push(v.to_kusto_string());
                }
            }
        }
        let mut format = "csv".to_string();
        let mut skip_first = false;
        if let Some(c) = self.clause(op, "with") {
            for a in self.kids(c) {
                if self.kind(a) != N::Assignment {
                    continue;
                }
                let k = self.kids(a);
                let (Some(n), Some(v)) = (k.first().and_then(|n| self.name_of(*n)), k.get(1))
                else {
                    continue;
                };
                let v = match self.expr(*v) {
                    Expr::Lit(v) => v.to_kusto_string(),
                    Expr::Name(n, _) => n,
                    _ => continue,
                };
                match n.to_ascii_lowercase().as_str() {
                    "format" => format = v.to_ascii_lowercase(),
                    "ignorefirstrecord" => skip_first = v == "true",
                    _ => {}
                }
            }
        }
        Op::ExternalData {
            columns,
            urls,
            format,
            skip_first,
        }
    }

    fn is_search(&self, op: u32) -> bool {
        self.toks(op)
            .first()
            .is_some_and(|t| self.tok_text(*t).eq_ignore_ascii_case("search"))
    }

    /// `search [kind=case_sensitive] [in (T1, T2)] predicate` as the source of a query: the
    /// union of the tables (every table without `in`) with a `$table` column, filtered.
    fn search_source(&self, op: u32) -> Expr {
        let tables = match self.clause(op, "in") {
            Some(c) => match self.kids(c).into_iter().find(|k| self.kind(*k) == N::List) {
                Some(l) => self.kids(l).into_iter().map(|t| self.expr(t)).collect(),
                None => Vec::new(),
            },
            None => vec![Expr::Wildcard("*".into())],
        };
        let pred = self.search_predicate(op);
        Expr::Pipe(
            Box::new(Expr::Source(Box::new(Op::Union {
                tables,
                source_column: Some("$table".into()),
                outer: true,
                fuzzy: true,
            }))),
            vec![Op::Where(pred)],
        )
    }

    /// The predicate of `search`: a bare string is a term searched in every column
    /// (`"x"` has, `"x*"` hasprefix, `"*x"` hassuffix, `"*x*"` contains), `Col:"x"` is `Col
    /// has "x"`, and/or/not combine them, anything else is an ordinary predicate.
    fn search_predicate(&self, op: u32) -> Expr {
        let cs = self.param(op, "kind").as_deref() == Some("case_sensitive");
        let Some(p) = self
            .kids(op)
            .into_iter()
            .rev()
            .find(|k| !matches!(self.kind(*k), N::OperatorParam | N::Clause | N::Error))
        else {
            return Expr::Unsupported("search without a predicate".into(), self.span(op));
        };
        self.search_expr(p, cs)
    }

    fn search_expr(&self, id: u32, cs: bool) -> Expr {
        match self.kind(id) {
            // `search *`: every row.
            N::Wildcard if self.toks(id).iter().all(|t| t.kind == T::Star) => {
                Expr::Lit(Value::Bool(true))
            }
            N::Literal if self.toks(id).iter().all(|t| t.kind == T::String) => {
                let term = self
                    .toks(id)
                    .iter()
                    .filter_map(|t| crate::kql::literal::decode_string(self.tok_text(*t)))
                    .collect::<String>();
                Expr::Call(
                    "__search_term".into(),
                    vec![Expr::Lit(Value::string(term)), Expr::Lit(Value::Bool(cs))],
                    self.span(id),
                )
            }
            N::Paren => match self.kids(id).first() {
                Some(c) => self.search_expr(*c, cs),
                None => self.expr(id),
            },
            N::Binary => {
                let kids = self.kids(id);
                let op = self
                    .toks(id)
                    .first()
                    .map(|t| (t.kind, self.tok_text(*t).to_ascii_lowercase()));
                match (op, kids.as_slice()) {
                    (Some((T::Colon, _)), [l, r]) => Expr::Bin(
                        BinOp::Str(StrOp::Has, false, cs),
                        Box::new(self.expr(*l)),
                        Box::new(self.expr(*r)),
                        self.span(id),
                    ),
                    (Some((_, w)), [l, r]) if w == "and" || w == "or" => Expr::Bin(
                        if w == "and" { BinOp::And } else { BinOp::Or },
                        Box::new(self.search_expr(*l, cs)),
                        Box::new(self.search_expr(*r, cs)),
                        self.span(id),
                    ),
                    _ => self.expr(id),
                }
            }
            N::Call
                if self
                    .kids(id)
                    .first()
                    .and_then(|c| self.name_of(*c))
                    .is_some_and(|n| n == "not") =>
            {
                match self.args(id).first() {
                    Some(a) => Expr::Not(Box::new(self.search_expr(*a, cs))),
                    None => self.expr(id),
                }
            }
            _ => self.expr(id),
        }
    }

    /// One expanded column of `mv-expand` or `mv-apply` (`kql::ast::MvExpandItem`).
    fn mv_item(&self, it: &crate::kql::ast::MvExpandItem) -> MvItem {
        MvItem {
            name: match it.name {
                Some(n) => self.name_of(n),
                None => self.default_name(it.value),
            }
            .unwrap_or_else(|| "Column1".into()),
            expr: self.expr(it.value),
            to: it.to,
        }
    }

    /// A declared schema's columns; `*` (a plugin's other columns, at this place) as a column
    /// named `*`.
    fn schema_columns(&self, schema: u32) -> Vec<(String, Type)> {
        crate::kql::ast::schema_decl(self.view(), schema)
            .into_iter()
            .map(|c| match c {
                crate::kql::ast::SchemaColumn::Column(n, t) => (n, t),
                crate::kql::ast::SchemaColumn::Rest => ("*".to_string(), Type::Dynamic),
            })
            .collect()
    }

    /// `find [withsource=C] [in (T, ...)] where Predicate [project c, ... | project-smart]`.
    fn find(&self, op: u32) -> Op {
        let span = self.span(op);
        let view = crate::kql::ast::Find(self.op_view(op));
        let tables = match view.tables() {
            Some(ts) => ts.into_iter().map(|t| self.expr(t)).collect(),
            None => vec![Expr::Star],
        };
        let Some(pred) = view.predicate() else {
            return Op::Unsupported("find without `where`".into(), span);
        };
        let project = match view.project() {
            Some(items) => {
                if items.iter().any(|i| self.kind(*i) != N::Name) {
                    return Op::Unsupported(
                        "find ... project with types or pack_all()".into(),
                        span,
                    );
                }
                Some(items.into_iter().filter_map(|i| self.name_of(i)).collect())
            }
            None => None,
        };
        Op::Find {
            tables,
            source_column: view.source_column(),
            predicate: self.search_expr(pred, false),
            project,
        }
    }

    /// `partition [hints] by Column (operators)`.
    fn partition(&self, op: u32) -> Op {
        let view = crate::kql::ast::Partition(self.op_view(op));
        let by = view.by().and_then(|n| self.name_of(n));
        // The `{ ... }` form with a source of its own is not supported yet.
        let ops = view
            .subquery()
            .map(|ops| ops.into_iter().map(|o| self.operator(o)).collect());
        match (by, ops) {
            (Some(by), Some(ops)) => Op::Partition { by, ops },
            _ => Op::Unsupported(
                "partition other than `by Column (operators)`".into(),
                self.span(op),
            ),
        }
    }

    /// `sample-distinct N of Column`: the first N distinct values (Kusto picks any N; vigil's
    /// choice is deterministic). `top-hitters N of Column [by Expr]`: the N values with the
    /// largest count (or sum of Expr), exactly rather than approximately, largest first.
    fn of_column(&self, op: u32) -> Op {
        let span = self.span(op);
        let o = crate::kql::ast::OfColumn(self.op_view(op));
        let (Some(n), Some(of)) = (o.count(), o.of()) else {
            return Op::Unsupported(format!("`{}` without N or `of`", o.0.keyword()), span);
        };
        let Some(col) = (self.kind(of) == N::Name)
            .then(|| self.name_of(of))
            .flatten()
        else {
            return Op::Unsupported(format!("`{}` of an expression", o.0.keyword()), span);
        };
        let key = Assign {
            names: vec![col.clone()],
            expr: self.expr(of),
            ty: self.bound_type(of),
        };
        let n = self.expr(n);
        if o.0.kind == Some(K::SampleDistinct) {
            return Op::Chain(vec![Op::Distinct(vec![key]), Op::Take(n)]);
        }
        let (name, agg) = match o.by() {
            None => (
                format!("approximate_count_{col}"),
                Expr::Call("count".into(), Vec::new(), span),
            ),
            Some(by) => match self.default_name(by) {
                Some(b) => (
                    format!("approximate_sum_{b}"),
                    Expr::Call("sum".into(), vec![self.expr(by)], span),
                ),
                None => {
                    return Op::Unsupported("`top-hitters` by an unnamed expression".into(), span)
                }
            },
        };
        Op::Chain(vec![
            Op::Summarize {
                aggs: vec![Assign {
                    names: vec![name.clone()],
                    expr: agg,
                    ty: None,
                }],
                by: vec![key],
            },
            Op::Top(
                n,
                vec![SortKey {
                    expr: Expr::Name(name, span),
                    desc: true,
                    nulls_first: false,
                }],
            ),
        ])
    }

    /// `top-nested [N] of [Name =] Expr by [Name =] Aggregation [asc|desc], ...`: one level per
    /// clause, named as the binder named them (the key's name made unique, the aggregation
    /// `aggregated_{key}` unless named).
    fn top_nested(&self, op: u32) -> Op {
        let span = self.span(op);
        let Some(levels) = crate::kql::ast::TopNested(self.op_view(op)).levels() else {
            return Op::Unsupported("top-nested level".into(), span);
        };
        let mut out = Vec::new();
        for l in levels {
            if l.others.is_some() {
                return Op::Unsupported("top-nested with others".into(), span);
            }
            let mut key = self.assign(l.key, false);
            let Some(key_name) = self
                .generated_name(l.key)
                .or_else(|| key.names.first().cloned())
            else {
                return Op::Unsupported("top-nested key without a name".into(), span);
            };
            key.names = vec![key_name.clone()];
            let mut agg = self.assign(l.aggregation, true);
            agg.names = vec![self.generated_name(l.aggregation).unwrap_or_else(|| {
                match self.kind(l.aggregation) {
                    N::Assignment => agg.names.first().cloned().unwrap_or_default(),
                    _ => format!("aggregated_{key_name}"),
                }
            })];
            out.push(TopLevel {
                n: l.count.map(|n| self.expr(n)),
                key,
                agg,
                desc: !l.asc,
            });
        }
        Op::TopNested(out)
    }

    /// `parse-kv Expr as (Key:type, ...) [with (pair_delimiter=..., kv_delimiter=...,
    /// quote=..., escape=..., greedy=true | regex=...)]`.
    fn parse_kv(&self, op: u32) -> Op {
        let span = self.span(op);
        let Some(source) = self.operand(op) else {
            return Op::Unsupported("parse-kv without an expression".into(), span);
        };
        let columns = self
            .clause(op, "as")
            .and_then(|c| {
                self.kids(c)
                    .into_iter()
                    .find(|k| self.kind(*k) == N::Schema)
            })
            .map(|s| self.schema_columns(s))
            .unwrap_or_default();
        let mut o = super::parse_kv::KvOptions::default();
        if let Some(with) = self.clause(op, "with") {
            for a in self.kids(with) {
                let k = self.kids(a);
                let (Some(name), Some(v)) = (k.first().and_then(|n| self.name_of(*n)), k.get(1))
                else {
                    continue;
                };
                let value = match self.expr(*v) {
                    Expr::Lit(v) => v.to_kusto_string(),
                    _ => {
                        return Op::Unsupported(
                            format!("parse-kv option `{name}` that is not a constant"),
                            span,
                        )
                    }
                };
                match name.to_ascii_lowercase().as_str() {
                    "pair_delimiter" => o.pair_delimiter = Some(value),
                    "kv_delimiter" => o.kv_delimiter = Some(value),
                    "greedy" => o.greedy = value.eq_ignore_ascii_case("true"),
                    "quote" => {
                        let q: Vec<char> = value.chars().collect();
                        match q.as_slice() {
                            [c] => o.quotes.push((*c, *c)),
                            [a, b] => o.quotes.push((*a, *b)),
                            _ => {
                                return Op::Unsupported(
                                    format!("parse-kv quote `{value}` (one or two characters)"),
                                    span,
                                )
                            }
                        }
                    }
                    "escape" => o.escapes.extend(value.chars().take(1)),
                    "regex" => match super::functions::regex(&value) {
                        Ok(re) if re.captures_len() == 3 => o.regex = Some(re),
                        Ok(_) => {
                            return Op::Unsupported(
                                "parse-kv regex without exactly two capturing groups".into(),
                                span,
                            )
                        }
                        Err(e) => return Op::Unsupported(e.to_string(), span),
                    },
                    other => return Op::Unsupported(format!("parse-kv option `{other}`"), span),
                }
            }
        }
        Op::ParseKv {
            expr: self.expr(source),
            columns,
            options: Box::new(o),
        }
    }

    fn make_series(&self, op: u32) -> Op {
        let span = self.span(op);
        let view = crate::kql::ast::MakeSeries(self.op_view(op));
        let mut aggs = Vec::new();
        if let Some(list) = view.aggregates() {
            let children = self.tree.node(list).children.clone();
            for c in children {
                let crate::kql::syntax::Child::Node(n) = c else {
                    continue;
                };
                match self.kind(n) {
                    N::Assignment | N::Call => {
                        let a = self.assign(n, true);
                        let name = a.names.first().cloned().unwrap_or_else(|| "Column1".into());
                        aggs.push((name, a.expr, None));
                    }
                    N::Literal | N::Unary => {
                        // `default = 0` follows the aggregate it belongs to.
                        if let Some(last) = aggs.last_mut() {
                            last.2 = Some(self.expr(n));
                        }
                    }
                    _ => {}
                }
            }
        }
        let Some(on) = view.on() else {
            return Op::Unsupported("make-series without `on`".into(), span);
        };
        // The alternate syntax `on T in range(start, stop, step)`: bins of `bin()` (aligned to
        // the step, not to start) and an inclusive stop, so the axis runs from bin(start) to
        // bin(stop) + step.
        let alternate = view.in_range().and_then(|r| {
            let callee = self.name_of(*self.kids(r).first()?)?;
            let a = self.args(r);
            (self.kind(r) == N::Call && callee.eq_ignore_ascii_case("range") && a.len() == 3)
                .then(|| (self.expr(a[0]), self.expr(a[1]), self.expr(a[2])))
        });
        if view.in_range().is_some() && alternate.is_none() {
            return Op::Unsupported(
                "make-series ... in (not range(start, stop, step))".into(),
                span,
            );
        }
        let (from, to, step) = match alternate {
            Some((start, stop, step)) => {
                let bin = |e: Expr| Expr::Call("bin".into(), vec![e, step.clone()], span);
                (
                    Some(bin(start)),
                    Some(Expr::Bin(
                        crate::engine::ir::BinOp::Add,
                        Box::new(bin(stop)),
                        Box::new(step.clone()),
                        span,
                    )),
                    step,
                )
            }
            None => {
                let [from, to, step] = view.from_to_step();
                let Some(step) = step else {
                    return Op::Unsupported("make-series without `step`".into(), span);
                };
                (
                    from.map(|e| self.expr(e)),
                    to.map(|e| self.expr(e)),
                    self.expr(step),
                )
            }
        };
        let by = view
            .by()
            .into_iter()
            .map(|i| self.assign(i, false))
            .collect();
        Op::MakeSeries(Box::new(MakeSeries {
            aggs,
            on_name: self.default_name(on).unwrap_or_else(|| "Column1".into()),
            on: self.expr(on),
            from,
            to,
            step,
            by,
            nonempty: view.nonempty(),
        }))
    }
}

/// `step.column` (a `scan` state reference) as the name `step.column`.
fn state_names(e: &mut Expr, steps: &[String]) {
    if let Expr::Member(base, col) = e {
        if let Expr::Name(step, span) = &**base {
            if steps.iter().any(|s| s == step) {
                *e = Expr::Name(format!("{step}.{col}"), *span);
                return;
            }
        }
    }
    match e {
        Expr::Bin(_, a, b, _) | Expr::Index(a, b) => {
            state_names(a, steps);
            state_names(b, steps);
        }
        Expr::Not(a) | Expr::Neg(a) | Expr::Member(a, _) | Expr::Named(_, a) => {
            state_names(a, steps)
        }
        Expr::List(_, a, xs, _) => {
            state_names(a, steps);
            for x in xs {
                state_names(x, steps);
            }
        }
        Expr::Between(_, a, b, c) => {
            state_names(a, steps);
            state_names(b, steps);
            state_names(c, steps);
        }
        Expr::Call(_, xs, _) => {
            for x in xs {
                state_names(x, steps);
            }
        }
        _ => {}
    }
}

/// A date literal's text without the spaces around `-`, `/` and `:` (`2017 - 08 - 01` →
/// `2017-08-01`); the space between a date and its time stays.
fn squeeze_separators(text: &str) -> String {
    let mut out = String::new();
    let mut after_separator = false;
    for c in text.chars() {
        if matches!(c, '-' | '/' | ':') {
            out.truncate(out.trim_end().len());
            out.push(c);
            after_separator = true;
        } else if !(after_separator && c.is_whitespace()) {
            out.push(c);
            after_separator = false;
        }
    }
    out
}

/// The parts of the operator being lowered, which each `Lower::lower_*` method reads.
struct OpParts {
    op: u32,
    kw: String,
    kids: Vec<u32>,
    first_list: Option<u32>,
    span: Span,
}
