//! The binder: resolves names in a parsed query against a [`Catalog`], flows column schemas
//! through every tabular operator, infers basic scalar types, and exposes the query's result
//! schema.
//!
//! It is deliberately conservative: where vigil cannot know a schema exactly (plugins,
//! `mv-apply`, unusual default column names), the schema becomes *open* and unknown names in it
//! are not reported, so a finding is always a real one. Work on syntax trees with errors is
//! best-effort.

use std::collections::HashMap;

use super::ast::{OpKind, OpKind as K};
use super::catalog::{BuiltinKind, Catalog, Schema, Type};
use super::syntax::{NodeKind as N, SyntaxTree, Token, TokenKind as T};
use super::view::{AggregateNames, View};

/// Kinds of binding errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindErrorKind {
    /// A name that is not a column, variable, table or function.
    UnknownName,
    /// A name used as a table that is not one.
    UnknownTable,
    /// A call of a function that does not exist.
    UnknownFunction,
    /// A function called with the wrong number of arguments.
    ArgumentCount,
    /// A join key missing on one side.
    JoinColumn,
    /// A name declared twice with `let` in one scope.
    DuplicateLet,
    /// An operand or grouping key of a type the operation does not accept.
    TypeMismatch,
    /// A tabular operator that needs input rows at the start of a query.
    OperatorPosition,
    /// `_GetWatchlist` of a watchlist the repository does not define (a note).
    UnknownWatchlist,
}

impl BindErrorKind {
    /// The diagnostic code of this kind of error.
    pub fn code(self) -> crate::diagnostics::Code {
        use crate::diagnostics::code;
        match self {
            BindErrorKind::UnknownName => code::KQL_UNKNOWN_NAME,
            BindErrorKind::UnknownTable => code::KQL_UNKNOWN_TABLE,
            BindErrorKind::UnknownFunction => code::KQL_UNKNOWN_FUNCTION,
            BindErrorKind::ArgumentCount => code::KQL_ARGUMENT_COUNT,
            BindErrorKind::JoinColumn => code::KQL_JOIN_COLUMN,
            BindErrorKind::DuplicateLet => code::KQL_DUPLICATE_LET,
            BindErrorKind::TypeMismatch => code::KQL_TYPE_MISMATCH,
            BindErrorKind::OperatorPosition => code::KQL_OPERATOR_POSITION,
            BindErrorKind::UnknownWatchlist => code::KQL_UNKNOWN_WATCHLIST,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindError {
    pub kind: BindErrorKind,
    pub start: u32,
    pub end: u32,
    pub message: String,
    /// What to do about it (a did-you-mean).
    pub hint: Option<String>,
}

/// The result of binding.
#[derive(Clone, Debug, Default)]
pub struct Bound {
    pub errors: Vec<BindError>,
    /// The schema of the query's final tabular statement, if it has one.
    pub result: Option<Schema>,
    /// The static type of each scalar expression node (by syntax node id). A node bound more
    /// than once with different types (a function body called with different arguments) is
    /// `Unknown`, as is one the binder cannot type.
    pub types: HashMap<u32, Type>,
    /// The generated name (`Column1`, `Column2`, ...) of each unnamed expression that gets one,
    /// and the names an operator gives its items (`top-nested`'s keys made unique and its
    /// `aggregated_<key>`), by syntax node id: the lowering takes them, so the engine's
    /// columns are the binder's.
    pub generated: HashMap<u32, String>,
}

#[derive(Clone, Debug)]
enum Value {
    Scalar(Type),
    Table(Schema),
    Func { decl: u32, params: Vec<String> },
}

struct Binder<'a> {
    text: &'a str,
    tree: &'a SyntaxTree,
    catalog: &'a Catalog,
    scopes: Vec<HashMap<String, Value>>,
    errors: Vec<BindError>,
    depth: usize,
    /// Inside `union isfuzzy=true`: unknown tables are skipped, not errors.
    fuzzy: bool,
    /// The let-bound functions whose bodies are being bound (a call of one of them again is
    /// recursion: its result is left open).
    active_calls: Vec<u32>,
    /// Function bodies bound so far: each call binds its function's body again, so call trees
    /// could grow exponentially; past the budget results are left open.
    calls_bound: usize,
    /// The `by` column names of the summarize being bound (the deprecated argmax/argmin leave
    /// them out of `*`).
    summarize_by: Vec<String>,
    /// See [`Bound::types`].
    types: HashMap<u32, Type>,
    /// See [`Bound::generated`].
    generated_at: HashMap<u32, String>,
    /// Every name generated so far in the query, in binding order: Kusto.Language never
    /// generates one twice (`extend strcat(a, b) | project x | project strcat(c, d)` →
    /// `Column2`), checked with the oracle.
    generated: Vec<String>,
    /// The let-bound names (per scope, as `scopes`) whose value is a known string: a string
    /// literal, or a function's parameter in the pass that binds a call with its arguments'
    /// values (see the let-function call in [`Binder::call`]); `table(name)` reads them.
    consts: Vec<HashMap<String, String>>,
    /// The functions declared at the top level, and those called: a declared function no
    /// call binds is bound once at the end with its declared parameter types, so the errors
    /// in its body are reported as Kusto.Language reports a declaration's.
    declared: Vec<u32>,
    called: std::collections::HashSet<u32>,
}

/// How many function-body bindings one query may take (fuzzing found call trees that took
/// minutes without it).
const CALL_BUDGET: usize = 2_000;

/// A function saved in a workspace (alias, `functionParameters` without parentheses,
/// body): the body is bound against this catalog, its parameters as typed nulls, to learn
/// its result columns (open when they cannot be told).
pub fn add_saved_function(catalog: &mut Catalog, alias: &str, params: &str, body: &str) {
    let lets: String = params
        .split(',')
        .filter_map(|x| {
            let (n, rest) = x.split_once(':')?;
            let ty = rest.split('=').next()?.trim();
            Some(format!("let {} = {ty}(null);\n", n.trim()))
        })
        .collect();
    let text = format!("{lets}{body}");
    let parsed = super::parse(&text);
    let result = bind(&text, &parsed.tree, catalog)
        .result
        .unwrap_or_else(Schema::open);
    let cols = if result.open {
        String::new()
    } else {
        result
            .columns
            .iter()
            .map(|(n, t)| format!("{n}:{}", t.name()))
            .collect::<Vec<_>>()
            .join(",")
    };
    catalog.add_function(alias, &format!("({params})"), &cols);
}

/// Bind a parsed query.
pub fn bind(text: &str, tree: &SyntaxTree, catalog: &Catalog) -> Bound {
    let mut b = Binder {
        active_calls: Vec::new(),
        calls_bound: 0,
        summarize_by: Vec::new(),
        types: HashMap::new(),
        generated_at: HashMap::new(),
        generated: Vec::new(),
        text,
        tree,
        catalog,
        scopes: vec![HashMap::new()],
        consts: vec![HashMap::new()],
        declared: Vec::new(),
        called: std::collections::HashSet::new(),
        errors: Vec::new(),
        depth: 0,
        fuzzy: false,
    };
    let result = b.statements(tree.root);
    b.bind_uncalled();
    b.errors.sort_by_key(|e| (e.start, e.end));
    b.errors.dedup();
    Bound {
        errors: b.errors,
        result,
        types: b.types,
        generated: b.generated_at,
    }
}

/// Whether a name matches a `Col*`-style pattern.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(k) => rest = &rest[k + p.len()..],
                None => return false,
            }
        }
    }
    true
}

impl<'a> Binder<'a> {
    // ---- tree access (the shared view of the syntax tree) ----

    fn view(&self) -> View<'a> {
        View {
            text: self.text,
            tree: self.tree,
        }
    }

    fn kind(&self, id: u32) -> N {
        self.view().kind(id)
    }

    fn children(&self, id: u32) -> Vec<u32> {
        self.view().children(id)
    }

    fn tokens(&self, id: u32) -> Vec<Token> {
        self.view().tokens(id)
    }

    fn tok_text(&self, t: Token) -> &'a str {
        self.view().tok_text(t)
    }

    /// The name a `Name` node holds (bracketed names unwrapped).
    fn name_of(&self, id: u32) -> Option<(String, Token)> {
        self.view().name_of(id)
    }

    fn error(&mut self, kind: BindErrorKind, t: Token, message: String) {
        self.errors.push(BindError {
            kind,
            start: t.start,
            end: t.end(),
            message,
            hint: None,
        });
    }

    /// A did-you-mean for a misspelt name among `candidates`.
    fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
        crate::diagnostics::did_you_mean(name, candidates).map(|m| format!("did you mean `{m}`?"))
    }

    /// The text of a string-literal argument (`'alias'`), when the node is one.
    fn string_literal(&self, id: u32) -> Option<String> {
        let toks = self.tokens(id);
        match toks.as_slice() {
            [t] if t.kind == T::String => super::literal::decode_string(self.tok_text(*t)),
            _ => {
                let kids = self.children(id);
                match kids.as_slice() {
                    [k] => self.string_literal(*k),
                    _ => None,
                }
            }
        }
    }

    /// The names in scope: let-bound variables.
    fn scope_names(&self) -> Vec<String> {
        self.scopes.iter().flat_map(|s| s.keys().cloned()).collect()
    }

    fn lookup_var(&self, name: &str) -> Option<&Value> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// The value of a string expression known before the query runs: a literal, or a name
    /// bound to one (the innermost binding of the name decides).
    fn const_string(&self, id: u32) -> Option<String> {
        if let Some(s) = self.string_literal(id) {
            return Some(s);
        }
        let (name, _) = self.name_of(id)?;
        let level = self.scopes.iter().rposition(|s| s.contains_key(&name))?;
        self.consts.get(level)?.get(&name).cloned()
    }

    // ---- statements ----

    fn statements(&mut self, id: u32) -> Option<Schema> {
        let mut result = None;
        for s in self.children(id) {
            match self.kind(s) {
                N::LetStatement => self.let_statement(s),
                N::DeclareStatement => self.declare_statement(s),
                N::ExprStatement => {
                    if let Some(e) = self.children(s).first() {
                        result = match self.expr(*e, None) {
                            Value::Table(schema) => Some(schema),
                            _ => None,
                        };
                    }
                }
                N::Block => result = self.statements(s),
                _ => {}
            }
        }
        result
    }

    /// `declare query_parameters(a:string = "x", ...)`: each parameter is a name of its type.
    fn declare_statement(&mut self, id: u32) {
        let Some(list) = self
            .children(id)
            .into_iter()
            .find(|c| self.kind(*c) == N::ParamList)
        else {
            return;
        };
        for (name, ty) in self.param_types(list) {
            self.scopes
                .last_mut()
                .expect("a scope")
                .insert(name, Value::Scalar(ty));
        }
    }

    /// The names and scalar types of a parameter list (`declare query_parameters(...)`,
    /// `scan declare (...)`); a parameter without a type is `Unknown`.
    fn param_types(&self, list: u32) -> Vec<(String, Type)> {
        super::ast::param_decls(self.view(), list)
            .into_iter()
            .map(|p| (p.name, p.ty.unwrap_or(Type::Unknown)))
            .collect()
    }

    fn let_statement(&mut self, id: u32) {
        let kids = self.children(id);
        let Some((name, _)) = kids.first().and_then(|n| self.name_of(*n)) else {
            return;
        };
        let Some(&value_node) = kids.get(1) else {
            return;
        };
        if self.scopes.last().is_some_and(|s| s.contains_key(&name)) {
            if let Some((_, tok)) = kids.first().and_then(|n| self.name_of(*n)) {
                self.error(
                    BindErrorKind::DuplicateLet,
                    tok,
                    format!("`{name}` is already declared with let"),
                );
            }
        }
        let value = if self.kind(value_node) == N::FunctionDecl {
            let params = self
                .children(value_node)
                .first()
                .map(|pl| {
                    super::ast::param_decls(self.view(), *pl)
                        .into_iter()
                        .map(|p| p.name)
                        .collect()
                })
                .unwrap_or_default();
            if self.scopes.len() == 1 {
                self.declared.push(value_node);
            }
            Value::Func {
                decl: value_node,
                params,
            }
        } else {
            self.expr(value_node, None)
        };
        let literal = self.string_literal(value_node);
        let consts = self.consts.last_mut().expect("a scope");
        match literal {
            Some(v) => consts.insert(name.clone(), v),
            None => consts.remove(&name),
        };
        self.scopes.last_mut().expect("a scope").insert(name, value);
    }

    // ---- expressions ----

    fn expr(&mut self, id: u32, row: Option<&Schema>) -> Value {
        self.depth += 1;
        if self.depth > 150 {
            self.depth -= 1;
            return Value::Scalar(Type::Unknown);
        }
        let v = self.expr_inner(id, row);
        self.depth -= 1;
        if let Value::Scalar(t) = &v {
            let slot = self.types.entry(id).or_insert(*t);
            if slot != t {
                *slot = Type::Unknown;
            }
        }
        v
    }

    fn expr_inner(&mut self, id: u32, row: Option<&Schema>) -> Value {
        match self.kind(id) {
            N::Pipeline => self.pipeline(id, row),
            N::Operator => {
                if let Some(t) = self.tokens(id).into_iter().next() {
                    let kw = self.tok_text(t).to_ascii_lowercase();
                    if crate::kql::parser::NEEDS_INPUT_AT_START.contains(&kw.as_str()) {
                        self.error(
                            BindErrorKind::OperatorPosition,
                            t,
                            format!("`{kw}` needs input rows: it cannot be the first operator of a query"),
                        );
                    }
                }
                let s = self.operator(id, None);
                Value::Table(s)
            }
            N::Name => self.name(id, row),
            N::Literal => Value::Scalar(self.literal_type(id)),
            N::DynamicLiteral => Value::Scalar(Type::Dynamic),
            N::Paren => match self.children(id).first() {
                Some(c) => self.expr(*c, row),
                None => Value::Scalar(Type::Unknown),
            },
            N::Binary => self.binary(id, row),
            N::Unary => {
                let c = self.children(id);
                match c.first() {
                    Some(c) => self.expr(*c, row),
                    None => Value::Scalar(Type::Unknown),
                }
            }
            N::Call => self.call(id, row, BuiltinKind::Scalar),
            N::Member => {
                let kids = self.children(id);
                // `$left.Col` / `$right.Col` are checked by join; other members are dynamic.
                if let Some((n, _)) = kids.first().and_then(|k| self.name_of(*k)) {
                    if n == "$left" || n == "$right" {
                        return Value::Scalar(Type::Unknown);
                    }
                }
                let obj = match kids.first() {
                    Some(k) => self.expr(*k, row),
                    None => Value::Scalar(Type::Unknown),
                };
                for k in kids.iter().skip(1) {
                    if self.kind(*k) != N::Name {
                        self.expr(*k, row);
                    }
                }
                // A property of a value of a known scalar type other than dynamic (`s.city`
                // where `s` is a string): Kusto resolves no such name.
                if let Value::Scalar(t) = obj {
                    if !matches!(t, Type::Dynamic | Type::Unknown) {
                        if let Some((n, tok)) = kids.get(1).and_then(|k| self.name_of(*k)) {
                            self.error(
                                BindErrorKind::UnknownName,
                                tok,
                                format!(
                                    "`{n}` is not a known column, table, variable or function (a {} value has no properties; only dynamic values do)",
                                    t.name()
                                ),
                            );
                            return Value::Scalar(Type::Unknown);
                        }
                    }
                }
                match obj {
                    Value::Table(_) => Value::Table(Schema::open()),
                    _ => Value::Scalar(Type::Dynamic),
                }
            }
            N::Index => {
                let kids = self.children(id);
                for k in &kids {
                    self.expr(*k, row);
                }
                Value::Scalar(Type::Dynamic)
            }
            N::ExprList | N::Range | N::List => {
                for k in self.children(id) {
                    self.expr(k, row);
                }
                Value::Scalar(Type::Unknown)
            }
            N::NamedArg => {
                let kids = self.children(id);
                match kids.get(1) {
                    Some(v) => self.expr(*v, row),
                    None => Value::Scalar(Type::Unknown),
                }
            }
            _ => Value::Scalar(Type::Unknown),
        }
    }

    fn literal_type(&self, id: u32) -> Type {
        let Some(t) = self.tokens(id).into_iter().next() else {
            return Type::Unknown;
        };
        match t.kind {
            T::String => Type::String,
            T::Int => Type::Long,
            T::Real => Type::Real,
            T::Timespan => Type::TimeSpan,
            T::RawLiteral => {
                let s = self.tok_text(t);
                if s.starts_with("datetime") || s.starts_with("date") {
                    Type::DateTime
                } else if s.starts_with("guid") {
                    Type::Guid
                } else {
                    Type::TimeSpan
                }
            }
            T::Ident => match self.tok_text(t) {
                "true" | "false" => Type::Bool,
                _ => Type::Unknown,
            },
            _ => Type::Unknown,
        }
    }

    fn name(&mut self, id: u32, row: Option<&Schema>) -> Value {
        let Some((name, tok)) = self.name_of(id) else {
            return Value::Scalar(Type::Unknown);
        };
        if let Some(r) = row {
            if let Some(t) = r.get(&name) {
                return Value::Scalar(t);
            }
        }
        if let Some(v) = self.lookup_var(&name) {
            return match v {
                Value::Func { .. } => Value::Table(Schema::open()),
                other => other.clone(),
            };
        }
        if matches!(name.as_str(), "True" | "False" | "TRUE" | "FALSE") {
            return Value::Scalar(Type::Bool);
        }
        // A stored function shadows a table of its name (ASIM's `imProcess`, `VMwareESXi`), as
        // in Kusto.
        if let Some(f) = self.catalog.functions.get(&name) {
            if f.min_args == 0 {
                return Value::Table(f.result.clone());
            }
        }
        if let Some(t) = self.catalog.tables.get(&name) {
            return Value::Table(t.clone());
        }
        if row.is_some_and(|r| r.open) {
            return Value::Scalar(Type::Unknown);
        }
        if self.fuzzy && row.is_none() {
            return Value::Table(Schema::default());
        }
        let vars = self.scope_names();
        if row.is_none() {
            let hint = Self::suggest(
                &name,
                self.catalog
                    .tables
                    .keys()
                    .chain(self.catalog.functions.keys())
                    .chain(vars.iter())
                    .map(String::as_str),
            );
            self.error(
                BindErrorKind::UnknownTable,
                tok,
                format!("`{name}` is not a known table, tabular variable or function"),
            );
            self.errors.last_mut().expect("just pushed").hint = hint;
        } else {
            let hint = Self::suggest(
                &name,
                row.into_iter()
                    .flat_map(|r| r.columns.iter().map(|(c, _)| c.as_str()))
                    .chain(vars.iter().map(String::as_str)),
            );
            self.error(
                BindErrorKind::UnknownName,
                tok,
                format!("`{name}` is not a known column, table, variable or function"),
            );
            self.errors.last_mut().expect("just pushed").hint = hint;
        }
        Value::Scalar(Type::Unknown)
    }

    fn binary(&mut self, id: u32, row: Option<&Schema>) -> Value {
        let kids = self.children(id);
        let op = self.tokens(id).into_iter().next();
        let op_text = op.map(|t| self.tok_text(t)).unwrap_or("");
        let l = kids.first().map(|k| self.expr(*k, row));
        let r = kids.get(1).map(|k| self.expr(*k, row));
        let ty = |v: &Option<Value>| match v {
            Some(Value::Scalar(t)) => *t,
            _ => Type::Unknown,
        };
        let (lt, rt) = (ty(&l), ty(&r));
        // Ordering a string against a number fails in Kusto; so do string operators without a
        // string (or dynamic) on the left: `EventID has "46"`, and `a < 1 has 'x'` (which is
        // `a < (1 has 'x')`).
        let ordering_mismatch = matches!(op_text, "<" | "<=" | ">" | ">=")
            && ((lt == Type::String && rt.is_numeric())
                || (lt.is_numeric() && rt == Type::String)
                || matches!(
                    (lt, rt),
                    (Type::DateTime, Type::TimeSpan) | (Type::TimeSpan, Type::DateTime)
                ));
        let string_op = matches!(op_text, "=~" | "!~" | "matches")
            || crate::kql::parser::is_string_word_op(op_text);
        let string_mismatch = string_op
            && (lt.is_numeric() || matches!(lt, Type::Bool | Type::DateTime | Type::TimeSpan));
        // Arithmetic Kusto does not define (`TimeGenerated + 1`, `Name * 2`, `n + "a"`): both
        // operands of a plain type and no result type for them (decimal, guid and dynamic are
        // left alone).
        let plain = |t: Type| {
            matches!(
                t,
                Type::Int
                    | Type::Long
                    | Type::Real
                    | Type::String
                    | Type::Bool
                    | Type::DateTime
                    | Type::TimeSpan
            )
        };
        let arithmetic_mismatch = matches!(op_text, "+" | "-" | "*" | "/" | "%")
            && plain(lt)
            && plain(rt)
            && crate::kql::catalog::arithmetic_type(op_text, lt, rt) == Type::Unknown;
        if ordering_mismatch || string_mismatch || arithmetic_mismatch {
            if let Some(t) = op {
                self.error(
                    BindErrorKind::TypeMismatch,
                    t,
                    format!(
                        "`{op_text}` is not defined for {} and {}",
                        lt.name(),
                        rt.name()
                    ),
                );
            }
        }
        let result = match op_text {
            "+" | "-" | "*" | "/" | "%" => crate::kql::catalog::arithmetic_type(op_text, lt, rt),
            _ => Type::Bool,
        };
        Value::Scalar(result)
    }

    fn args(&self, call: u32) -> Vec<u32> {
        self.view().args(call)
    }

    fn call(&mut self, id: u32, row: Option<&Schema>, ctx: BuiltinKind) -> Value {
        let kids = self.children(id);
        let Some(&callee) = kids.first() else {
            return Value::Scalar(Type::Unknown);
        };
        let args = self.args(id);
        if self.kind(callee) == N::Member {
            // `cluster('x').database('y')`, `workspace('w').T`: cross-resource, not checked.
            for a in &args {
                self.expr(*a, row);
            }
            return Value::Table(Schema::open());
        }
        let Some((name, tok)) = self.name_of(callee) else {
            return Value::Scalar(Type::Unknown);
        };
        // Typed literals: int(1), long(null), real(nan), bool(true), decimal(1.5).
        if let Some(t) = crate::kql::catalog::typed_literal(&name, args.len()) {
            return Value::Scalar(t);
        }
        match name.as_str() {
            "typeof" => return Value::Scalar(Type::Unknown),
            "materialize" | "view" => {
                return match args.first() {
                    Some(a) => self.expr(*a, None),
                    None => Value::Table(Schema::open()),
                };
            }
            "toscalar" => {
                if let Some(a) = args.first() {
                    self.expr(*a, row);
                }
                return Value::Scalar(Type::Unknown);
            }
            "column_ifexists" => {
                return match args.get(1) {
                    Some(a) => self.expr(*a, row),
                    None => Value::Scalar(Type::Unknown),
                };
            }
            "workspace" | "app" | "resource" | "cluster" | "database" | "adx" => {
                return Value::Table(Schema::open());
            }
            _ => {}
        }
        // A let-bound function.
        if let Some(Value::Func { decl, params }) = self.lookup_var(&name).cloned() {
            self.called.insert(decl);
            let mut scope = HashMap::new();
            let mut consts = HashMap::new();
            for (i, p) in params.iter().enumerate() {
                let v = match args.get(i) {
                    Some(a) => {
                        if let Some(c) = self.const_string(*a) {
                            consts.insert(p.clone(), c);
                        }
                        self.expr(*a, row)
                    }
                    None => Value::Scalar(Type::Unknown),
                };
                scope.insert(p.clone(), v);
            }
            // The body is bound with its parameters' types, and its errors are reported, as
            // Kusto.Language reports a declaration's; when an argument is a known string, it
            // is bound again with the values (`table(name)` then reads the table) for the
            // result only, as Kusto.Language expands a call (errors found only there are not
            // reported: a fuzzy union drops a leg that fails, and Kusto.Language says nothing).
            let r = match self.call_body(decl, scope.clone(), HashMap::new()) {
                Some(s) if !consts.is_empty() => {
                    let kept = self.errors.len();
                    let expanded = self.call_body(decl, scope, consts);
                    self.errors.truncate(kept);
                    expanded.or(Some(s))
                }
                r => r,
            };
            return match r {
                Some(s) => Value::Table(s),
                None => Value::Scalar(Type::Unknown),
            };
        }
        // `table(name)` of a known string: that table (`let t = "X"; table(t)`, or a
        // function's parameter in the call's expansion).
        if name == "table" {
            for a in &args {
                self.expr(*a, row);
            }
            let Some(t) = args.first().and_then(|a| self.const_string(*a)) else {
                return Value::Table(Schema::open());
            };
            if let Some(schema) = self.catalog.tables.get(&t) {
                return Value::Table(schema.clone());
            }
            if self.fuzzy {
                return Value::Table(Schema::default());
            }
            if let Some(a) = args.first() {
                if let Some(tok) = self.tokens(*a).first() {
                    self.error(
                        BindErrorKind::UnknownTable,
                        *tok,
                        format!("`{t}` is not a known table"),
                    );
                }
            }
            return Value::Table(Schema::open());
        }
        if let Some(v) = self.lookup_var(&name) {
            // Calling a let-bound table or scalar: treat as a reference.
            let v = v.clone();
            for a in &args {
                self.expr(*a, row);
            }
            return v;
        }
        // A repository's watchlist: its own columns, or open when the repository does not
        // define it.
        if name == "_GetWatchlist" {
            if let Some(known) = &self.catalog.watchlists {
                let alias = args.first().and_then(|a| self.string_literal(*a));
                for a in &args {
                    self.expr(*a, row);
                }
                let Some(alias) = alias else {
                    return Value::Table(Schema::open());
                };
                return match known.get(&alias.to_ascii_lowercase()) {
                    Some(None) => Value::Table(Schema::open()),
                    Some(Some(cols)) => {
                        let mut columns: Vec<(String, Type)> =
                            crate::kql::catalog::WATCHLIST_COLUMNS
                                .iter()
                                .map(|(c, t)| (c.to_string(), *t))
                                .collect();
                        for c in cols {
                            if !columns.iter().any(|(n, _)| n == c) {
                                columns.push((c.clone(), Type::String));
                            }
                        }
                        Value::Table(Schema::new(columns))
                    }
                    None => {
                        self.errors.push(BindError {
                            kind: BindErrorKind::UnknownWatchlist,
                            start: tok.start,
                            end: tok.end(),
                            message: format!(
                                "the watchlist `{alias}` is not defined in this repository; its columns are not checked"
                            ),
                            hint: Some("define it under watchlists/ to have its columns checked".into()),
                        });
                        Value::Table(Schema::open())
                    }
                };
            }
        }
        // Stored functions (ASIM parsers, _GetWatchlist, ...).
        if let Some(f) = self.catalog.functions.get(&name).cloned() {
            for a in &args {
                self.expr(*a, row);
            }
            if args.len() > f.max_args {
                self.error(
                    BindErrorKind::ArgumentCount,
                    tok,
                    format!(
                        "`{name}` takes at most {} arguments, not {}",
                        f.max_args,
                        args.len()
                    ),
                );
            }
            return Value::Table(f.result.clone());
        }
        // Built-ins: the kind the context asks for first, then any.
        let b = self
            .catalog
            .builtin(&name, ctx)
            .or_else(|| self.catalog.builtins.get(&name).and_then(|v| v.first()))
            .cloned();
        let Some(b) = b else {
            for a in &args {
                self.expr(*a, row);
            }
            let vars = self.scope_names();
            let hint = Self::suggest(
                &name,
                self.catalog
                    .builtins
                    .keys()
                    .chain(self.catalog.functions.keys())
                    .chain(vars.iter())
                    .map(String::as_str),
            );
            self.error(
                BindErrorKind::UnknownFunction,
                tok,
                format!("`{name}` is not a known function"),
            );
            self.errors.last_mut().expect("just pushed").hint = hint;
            return Value::Scalar(Type::Unknown);
        };
        let arg_types: Vec<Type> = args
            .iter()
            .map(|a| match self.expr(*a, row) {
                Value::Scalar(t) => t,
                _ => Type::Unknown,
            })
            .collect();
        // A few argument types Kusto insists on, checked where the type is known.
        let expect = |i: usize| -> Option<Type> {
            match (name.as_str(), i) {
                ("ago", 0) => Some(Type::TimeSpan),
                ("count" | "countif", 0) => Some(Type::Bool),
                _ => None,
            }
        };
        for (i, t) in arg_types.iter().enumerate() {
            if let Some(want) = expect(i) {
                if *t != Type::Unknown && *t != want && *t != Type::Dynamic {
                    let (s, e) = self
                        .tree
                        .node_range(args[i])
                        .unwrap_or((tok.start, tok.end()));
                    self.errors.push(BindError {
                        kind: BindErrorKind::TypeMismatch,
                        start: s,
                        end: e,
                        message: format!(
                            "`{name}` expects a {} here, not a {}",
                            want.name(),
                            t.name()
                        ),
                        hint: None,
                    });
                }
            }
        }
        if args.len() < b.min_args || args.len() > b.max_args {
            let expect = if b.min_args == b.max_args {
                format!("{}", b.min_args)
            } else if b.max_args == usize::MAX {
                format!("at least {}", b.min_args)
            } else {
                format!("{} to {}", b.min_args, b.max_args)
            };
            self.error(
                BindErrorKind::ArgumentCount,
                tok,
                format!("`{name}` takes {expect} argument(s), not {}", args.len()),
            );
        }
        if b.kind == BuiltinKind::Tabular || b.kind == BuiltinKind::Plugin {
            return Value::Table(Schema::open());
        }
        if let Some(t) = crate::kql::catalog::conditional_type(&name, &arg_types) {
            return Value::Scalar(t);
        }
        // `extract(re, n, s, typeof(T))`, `extractjson(path, s, typeof(T))`: T.
        let type_arg = match name.as_str() {
            "extract" => args.get(3),
            "extractjson" | "extract_json" => args.get(2),
            _ => None,
        };
        if let Some(t) = type_arg.and_then(|a| self.typeof_type(*a)) {
            return Value::Scalar(t);
        }
        Value::Scalar(b.result_type(&arg_types))
    }

    /// The type a `typeof(T)` argument names.
    /// Bind each top-level function no call bound, with its declared parameter types (a
    /// tabular parameter as an open table: its declared columns are a minimum, not a limit,
    /// so nothing is reported against them), in the top-level scope.
    fn bind_uncalled(&mut self) {
        for decl in std::mem::take(&mut self.declared) {
            if self.called.contains(&decl) {
                continue;
            }
            let scope: HashMap<String, Value> = self
                .children(decl)
                .first()
                .filter(|pl| self.kind(**pl) == N::ParamList)
                .map(|pl| {
                    super::ast::param_decls(self.view(), *pl)
                        .into_iter()
                        .map(|p| {
                            let v = match p.ty {
                                Some(t) => Value::Scalar(t),
                                None => Value::Table(Schema::open()),
                            };
                            (p.name, v)
                        })
                        .collect()
                })
                .unwrap_or_default();
            self.call_body(decl, scope, HashMap::new());
        }
    }

    /// The result of a let-bound function's body with its parameters bound to `scope` (and,
    /// where known, to the string values in `consts`); open past the recursion and budget
    /// limits.
    fn call_body(
        &mut self,
        decl: u32,
        scope: HashMap<String, Value>,
        consts: HashMap<String, String>,
    ) -> Option<Schema> {
        if self.depth > 40 || self.active_calls.contains(&decl) || self.calls_bound >= CALL_BUDGET {
            return Some(Schema::open());
        }
        self.calls_bound += 1;
        self.active_calls.push(decl);
        self.scopes.push(scope);
        self.consts.push(consts);
        let body = self
            .children(decl)
            .into_iter()
            .find(|c| self.kind(*c) == N::Block);
        let r = body.and_then(|b| self.statements(b));
        self.consts.pop();
        self.scopes.pop();
        self.active_calls.pop();
        r
    }

    fn typeof_type(&self, id: u32) -> Option<Type> {
        let (s, e) = self.tree.node_range(id)?;
        let text = self.text.get(s as usize..e as usize)?.trim();
        let inner = text
            .strip_prefix("typeof")?
            .trim_start()
            .strip_prefix('(')?
            .strip_suffix(')')?
            .trim();
        Some(Type::parse(inner)).filter(|t| *t != Type::Unknown)
    }

    // ---- tabular ----

    fn pipeline(&mut self, id: u32, row: Option<&Schema>) -> Value {
        let kids = self.children(id);
        let mut iter = kids.into_iter().peekable();
        let mut current: Schema = match iter.peek() {
            // A subquery (`mv-apply ... on (op | op)`): the input is the outer row set.
            Some(first) if self.kind(*first) == N::Operator && row.is_some() => {
                row.cloned().unwrap_or_else(Schema::open)
            }
            Some(first) => {
                let first = *first;
                iter.next();
                match self.expr(first, row) {
                    Value::Table(s) => s,
                    Value::Scalar(_) => Schema::open(),
                    Value::Func { .. } => Schema::open(),
                }
            }
            None => return Value::Table(Schema::open()),
        };
        for op in iter {
            if self.kind(op) == N::Operator {
                current = self.operator(op, Some(current));
            }
        }
        Value::Table(current)
    }

    /// The typed view of the operator at `op`.
    fn op_view(&self, op: u32) -> super::ast::Operator<'a> {
        super::ast::Operator::cast(self.tree, self.text, op).unwrap_or(super::ast::Operator {
            view: self.view(),
            id: op,
            kind: None,
        })
    }

    /// The default column name Kusto gives an unnamed expression, if vigil knows it.
    fn default_name(&self, id: u32) -> Option<String> {
        self.view().default_name(id)
    }

    /// The columns of an unnamed call of a function that returns several values.
    fn tuple_columns(&self, id: u32) -> Option<Vec<String>> {
        self.view().tuple_names(id)
    }

    /// Whether Kusto gives the expression a generated name (`Column1`, `Column2`, ...): calls
    /// of functions without a result-name rule, operators, literals.
    fn is_anonymous(&self, id: u32) -> bool {
        match self.kind(id) {
            N::Call | N::Binary | N::Unary | N::Literal | N::DynamicLiteral => {
                self.default_name(id).is_none()
            }
            N::Paren => self
                .children(id)
                .first()
                .is_some_and(|c| self.is_anonymous(*c)),
            _ => false,
        }
    }

    /// The name Kusto gives an unnamed expression in `out`: its default name, or a generated
    /// `ColumnN`: the first one not generated before in the query and, in `extend`
    /// (`skip_taken`), not already a column (input `Column2`: `Column1`, then `Column3`); a
    /// `project` or `summarize` makes a taken one unique instead ([`set_unique`]), all as
    /// Kusto.Language does.
    fn name_in(&mut self, id: u32, out: &Schema, skip_taken: bool) -> Option<String> {
        if let Some(n) = self.default_name(id) {
            return Some(n);
        }
        if !self.is_anonymous(id) {
            return None;
        }
        if let Some(n) = self.generated_at.get(&id) {
            return Some(n.clone());
        }
        let n = (1..)
            .map(|i| format!("Column{i}"))
            .find(|c| !(self.generated.contains(c) || skip_taken && out.get(c).is_some()))?;
        self.generated.push(n.clone());
        self.generated_at.insert(id, n.clone());
        Some(n)
    }

    /// The columns of an unnamed aggregation of type `ty`, named by its rule in `builtins.tsv`
    /// ([`View::aggregate_names`], the rule the engine's lowering follows too), or by its
    /// arguments' columns (`arg_max`, `take_any`, `any`); false when vigil cannot tell.
    fn aggregate_default(&mut self, call: u32, input: &Schema, out: &mut Schema, ty: Type) -> bool {
        let Some(name) = self
            .children(call)
            .first()
            .and_then(|c| self.name_of(*c))
            .map(|(n, _)| n)
        else {
            return false;
        };
        let args = self.args(call);
        let first = args.first().and_then(|a| self.default_name(*a));
        match self.view().aggregate_names(call) {
            AggregateNames::Named(names) => {
                // The declared type, else (for the aggregations typed by their input) the
                // first argument's column type.
                let ty = match ty {
                    Type::Unknown => first
                        .as_ref()
                        .and_then(|f| input.get(f))
                        .unwrap_or(Type::Unknown),
                    t => t,
                };
                for n in names {
                    set_unique(out, &n, ty);
                }
                return true;
            }
            AggregateNames::Generated => {
                return match self.name_in(call, out, false) {
                    Some(n) => {
                        let n = set_unique(out, &n, ty);
                        if self.generated_at.contains_key(&call) {
                            self.generated_at.insert(call, n);
                        }
                        true
                    }
                    None => false,
                };
            }
            AggregateNames::Columns => {}
        }
        match name.as_str() {
            "take_any" | "take_anyif" => {
                // take_any(a, b) keeps the columns' names; the *if form takes one column.
                let n = if name.ends_with("if") { 1 } else { args.len() };
                self.pass_through(&name, &args[..n.min(args.len())], input, out)
            }
            // The deprecated `any(a, b)` / `anyif(a, p)` prefix each column (`any_a`), and an
            // unnamed argument gives `any_` (checked with the oracle).
            "any" | "anyif" if !args.iter().any(|a| self.kind(*a) == N::Wildcard) => {
                let n = if name.ends_with("if") { 1 } else { args.len() };
                let several = n > 1 && args.len() > 1;
                for (k, a) in args[..n.min(args.len())].iter().enumerate() {
                    let col = self.default_name(*a);
                    // A column keeps its type; `any(tostring(x))` has the expression's.
                    let ty = match self.kind(*a) {
                        N::Name => col.as_ref().and_then(|c| input.get(c)),
                        _ => self.types.get(a).copied(),
                    }
                    .unwrap_or(Type::Unknown);
                    // An unnamed argument: `any(x + 1)` → `any_`, `any(x + 1, y)` → `any_arg0`.
                    let col = match col {
                        Some(c) => c,
                        None if several => format!("arg{k}"),
                        None => String::new(),
                    };
                    set_unique(out, &format!("{name}_{col}"), ty);
                }
                true
            }
            "arg_max" | "arg_min" => self.pass_through(&name, &args, input, out),
            // The deprecated argmax/argmin name their columns `max_X`, then `max_X_col` for
            // each other column (`max_` and `max__col` when X has no name), as
            // Kusto.Language does.
            "argmax" | "argmin" => {
                let stem = &name[3..];
                let x = first.clone().unwrap_or_default();
                let xt = input.get(&x).unwrap_or(Type::Unknown);
                out.set(&format!("{stem}_{x}"), xt);
                for a in args.iter().skip(1) {
                    if self.kind(*a) == N::Wildcard {
                        for (c, t) in &input.columns {
                            if *c != x && !self.summarize_by.contains(c) {
                                out.set(&format!("{stem}_{x}_{c}"), *t);
                            }
                        }
                        out.open |= input.open;
                    } else {
                        match self.default_name(*a) {
                            Some(n) => {
                                let t = input.get(&n).unwrap_or(Type::Unknown);
                                out.set(&format!("{stem}_{x}_{n}"), t);
                            }
                            None => return false,
                        }
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// Aggregates whose arguments come out as columns of the same name (`arg_max(T, a, *)`,
    /// `take_any(a, b)`); false if an argument has no name vigil can tell.
    fn pass_through(&mut self, f: &str, args: &[u32], input: &Schema, out: &mut Schema) -> bool {
        let mut ok = true;
        for (k, a) in args.iter().enumerate() {
            if self.kind(*a) == N::Wildcard {
                // `*` leaves out the `by` columns.
                for (c, t) in &input.columns {
                    if !self.summarize_by.contains(c) {
                        out.set(c, *t);
                    }
                }
                out.open |= input.open;
                continue;
            }
            if let Some(n) = self.default_name(*a) {
                // A column keeps its type; an expression named after one (`tostring(Id)`) has
                // the expression's.
                let ty = match self.kind(*a) {
                    N::Name => input.get(&n),
                    _ => self.types.get(a).copied(),
                };
                out.set(&n, ty.unwrap_or(Type::Unknown));
                continue;
            }
            // An argument without a name, as Kusto.Language names it: `arg_max(x + 1)` →
            // `max_`, `take_any(x + 1)` → `any_arg0`, `take_anyif(x + 1, p)` → `Column1`.
            let ty = self.types.get(a).copied().unwrap_or(Type::Unknown);
            let stem = if f == "arg_max" { "max" } else { "min" };
            let name = match (f, k) {
                ("arg_max" | "arg_min", 0) => Some(format!("{stem}_")),
                // `arg_min(T, x + 1)` → `min_T_arg1`.
                ("arg_max" | "arg_min", _) => args.first().map(|x| {
                    format!(
                        "{stem}_{}_arg{k}",
                        self.default_name(*x).unwrap_or_default()
                    )
                }),
                ("take_any", _) => Some(format!("any_arg{k}")),
                ("take_anyif", _) => self.name_in(*a, out, false),
                _ => None,
            };
            match name {
                Some(n) => out.set(&n, ty),
                None => ok = false,
            }
        }
        ok
    }

    /// The aggregate list of a summarize or make-series, bound with the `by` names known (the
    /// deprecated argmax/argmin leave them out of `*`).
    fn bind_aggregates(
        &mut self,
        list: Option<u32>,
        by: &[u32],
        input: &Schema,
        aggs: &mut Schema,
    ) {
        let mut by_names: Vec<String> = Vec::new();
        for &item in by {
            let name = match self.kind(item) {
                N::Name => self.name_of(item).map(|(n, _)| n),
                N::Assignment => self
                    .children(item)
                    .first()
                    .and_then(|k| self.name_of(*k))
                    .map(|(n, _)| n),
                // `by strcat(a, b)`: the name generated when the `by` list was bound.
                _ => self
                    .default_name(item)
                    .or_else(|| self.generated_at.get(&item).cloned()),
            };
            by_names.extend(name);
        }
        let saved = std::mem::replace(&mut self.summarize_by, by_names);
        if let Some(l) = list {
            self.assign_list(l, input, aggs, true, Fill::Keep);
        }
        self.summarize_by = saved;
    }

    /// Columns of a project/extend/summarize-style list.
    fn assign_list(
        &mut self,
        list: u32,
        input: &Schema,
        out: &mut Schema,
        aggregate: bool,
        fill: Fill,
    ) {
        let items = self.children(list);
        self.assign_items(&items, input, out, aggregate, fill);
    }

    /// [`Binder::assign_list`] over the items themselves (a clause's keys).
    fn assign_items(
        &mut self,
        items: &[u32],
        input: &Schema,
        out: &mut Schema,
        aggregate: bool,
        fill: Fill,
    ) {
        let keep_existing = !matches!(fill, Fill::Keep | Fill::Group);
        for &item in items {
            match self.kind(item) {
                N::Assignment => {
                    let kids = self.children(item);
                    let value = kids.last().copied();
                    // `Latest = arg_max(TimeGenerated, *)`: the name goes to the first column,
                    // the other arguments expand as usual.
                    if aggregate {
                        if let (Some(v), Some(first)) = (value, kids.first()) {
                            let fname = self
                                .children(v)
                                .first()
                                .and_then(|c| self.name_of(*c))
                                .map(|(n, _)| n)
                                .unwrap_or_default();
                            if self.kind(v) == N::Call
                                && matches!(
                                    fname.as_str(),
                                    "arg_max" | "arg_min" | "argmax" | "argmin"
                                )
                                && self.args(v).len() > 1
                            {
                                self.call(v, Some(input), BuiltinKind::Aggregate);
                                let mut tmp = Schema::default();
                                self.aggregate_default(v, input, &mut tmp, Type::Unknown);
                                if self.kind(*first) == N::List {
                                    // `(t, who) = arg_max(T, Account)`: names in order; the
                                    // columns past the names keep theirs.
                                    let names: Vec<String> = self
                                        .children(*first)
                                        .into_iter()
                                        .filter_map(|n| self.name_of(n).map(|(n, _)| n))
                                        .collect();
                                    for (i, (c, t)) in tmp.columns.iter().enumerate() {
                                        out.set(names.get(i).unwrap_or(c), *t);
                                    }
                                    out.open |= tmp.open;
                                    continue;
                                }
                                if let (Some((n, _)), Some(firstcol)) =
                                    (self.name_of(*first), tmp.columns.first().cloned())
                                {
                                    out.set(&n, firstcol.1);
                                    for (c, t) in tmp.columns.into_iter().skip(1) {
                                        if c == firstcol.0 {
                                            continue;
                                        }
                                        // `ReportId = arg_max(Timestamp, ReportId)`: the
                                        // extra column's name is taken, so Kusto suffixes it
                                        // (`ReportId1`).
                                        let c = if out.get(&c).is_some() {
                                            (1..)
                                                .map(|i| format!("{c}{i}"))
                                                .find(|u| out.get(u).is_none())
                                                .expect("a free name")
                                        } else {
                                            c
                                        };
                                        out.set(&c, t);
                                    }
                                    out.open |= tmp.open;
                                }
                                continue;
                            }
                        }
                    }
                    let v = value.map(|v| self.value_in(v, input, aggregate));
                    let ty = match v {
                        Some(Value::Scalar(t)) => t,
                        _ => Type::Unknown,
                    };
                    match kids.first().map(|k| self.kind(*k)) {
                        Some(N::Name) => {
                            if let Some((n, _)) = self.name_of(kids[0]) {
                                out.set(&n, ty);
                            }
                        }
                        Some(N::List) => {
                            for n in self.children(kids[0]) {
                                if let Some((n, _)) = self.name_of(n) {
                                    out.set(&n, Type::Unknown);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                N::Wildcard => {
                    let pat: String = self
                        .tokens(item)
                        .iter()
                        .map(|t| self.tok_text(*t))
                        .collect();
                    for (c, t) in &input.columns {
                        if glob_match(&pat, c) {
                            out.set(c, *t);
                        }
                    }
                    out.open |= input.open;
                }
                N::SortKey => {
                    if let Some(e) = self.children(item).first() {
                        self.value_in(*e, input, aggregate);
                    }
                }
                _ => {
                    let v = self.value_in(item, input, aggregate);
                    let ty = match v {
                        Value::Scalar(t) => t,
                        _ => Type::Unknown,
                    };
                    let is_call = self.kind(item) == N::Call;
                    if aggregate && is_call {
                        // Aggregations have their own default names (`count_`, `dcount_x`).
                        if !self.aggregate_default(item, input, out, ty) {
                            out.open = true;
                        }
                    } else if let Some(cols) = self.tuple_columns(item) {
                        // `extend series_decompose_anomalies(Count)` →
                        // `series_decompose_anomalies_Count_ad_flag`, ...
                        for c in cols {
                            out.set(&c, Type::Dynamic);
                        }
                    } else if aggregate
                        && matches!(self.kind(item), N::Literal | N::Unary | N::DynamicLiteral)
                    {
                        // `make-series x = count() default = 0`: the default value, no column.
                    } else if let Some(n) = self.name_in(item, out, fill == Fill::Extend) {
                        if self.generated_at.contains_key(&item) && fill != Fill::Extend {
                            // `project Column1 = x, strcat(a, b)` → `Column1`, `Column11`
                            // (the name the engine then gives it).
                            let n = set_unique(out, &n, ty);
                            self.generated_at.insert(item, n);
                        } else if keep_existing || !out.columns.iter().any(|(c, _)| *c == n) {
                            out.set(&n, ty);
                        } else if fill == Fill::Group {
                            // The lowering takes the number.
                            let n = set_unique(out, &n, ty);
                            self.generated_at.insert(item, n);
                        }
                    } else {
                        out.open = true;
                    }
                }
            }
        }
    }

    /// Bind an expression in an operator: aggregates resolve as aggregates.
    fn value_in(&mut self, id: u32, input: &Schema, aggregate: bool) -> Value {
        if aggregate && self.kind(id) == N::Call {
            return self.call(id, Some(input), BuiltinKind::Aggregate);
        }
        self.expr(id, Some(input))
    }

    fn check_names(&mut self, list: u32, input: &Schema) {
        for item in self.children(list) {
            if self.kind(item) == N::Name {
                self.expr(item, Some(input));
            }
        }
    }

    fn operator(&mut self, op: u32, input: Option<Schema>) -> Schema {
        let Some(kw_tok) = self.tokens(op).into_iter().next() else {
            return Schema::open();
        };
        let kw = self.tok_text(kw_tok).to_string();
        // A source operator (`union`, `print`, ... first in a query) starts from no columns.
        let has_input = input.is_some();
        let input = input.unwrap_or_else(Schema::open);
        let kids = self.children(op);
        let first_list = kids.iter().copied().find(|k| self.kind(*k) == N::List);
        let clauses: Vec<u32> = kids
            .iter()
            .copied()
            .filter(|k| self.kind(*k) == N::Clause)
            .collect();
        let kind = OpKind::from_keyword(&kw);
        let p = OpParts {
            op,
            kw,
            has_input,
            kids,
            first_list,
            clauses,
        };
        let (kids, clauses) = (&p.kids, &p.clauses);
        // One arm per operator: the short ones here, the others in their own `bind_*` method.
        match kind {
            Some(K::Where | K::Take | K::Sample) => self.bind_where(&p, input),
            Some(K::Sort | K::Top) => {
                for k in kids {
                    if self.kind(*k) != N::OperatorParam {
                        self.bind_all(*k, &input);
                    }
                }
                input
            }
            Some(K::Project) => {
                let mut out = Schema::default();
                if let Some(l) = first_list {
                    self.assign_list(l, &input, &mut out, false, Fill::Replace);
                }
                out
            }
            // `scan`: the input, the declared columns, then the match id. The steps' conditions
            // and assignments read the steps' state (`s1.Ts`), which this binder does not
            // model, so they are not bound (no finding rather than a false one).
            Some(K::Scan) => self.bind_scan(&p, input),
            Some(K::Extend | K::Serialize) => {
                let mut out = input.clone();
                if let Some(l) = first_list {
                    self.assign_list(l, &input, &mut out, false, Fill::Extend);
                }
                out
            }
            Some(K::ProjectAway | K::ProjectKeep) => self.bind_project_away(&p, input),
            Some(K::ProjectRename) => self.bind_project_rename(&p, input),
            Some(K::ProjectReorder) => self.bind_project_reorder(&p, input),
            Some(K::Summarize) => self.bind_summarize(&p, input),
            Some(K::Distinct) => {
                let mut out = Schema::default();
                match first_list {
                    Some(l) => self.assign_list(l, &input, &mut out, false, Fill::Keep),
                    None => out = input.clone(),
                }
                out
            }
            Some(K::Count) => Schema::new(vec![("Count".into(), Type::Long)]),
            Some(K::GetSchema) => Schema::new(vec![
                ("ColumnName".into(), Type::String),
                ("ColumnOrdinal".into(), Type::Int),
                ("DataType".into(), Type::String),
                ("ColumnType".into(), Type::String),
            ]),
            Some(K::As) => {
                if let Some((n, _)) = kids.iter().find_map(|k| self.name_of(*k)) {
                    self.scopes
                        .last_mut()
                        .expect("a scope")
                        .insert(n, Value::Table(input.clone()));
                }
                input
            }
            Some(K::Render | K::Consume) => input,
            Some(K::Join | K::Lookup) => self.join(op, input),
            Some(K::Union) => self.bind_union(&p, input),
            Some(K::MvExpand) => self.bind_mv_expand(&p, input),
            Some(K::Parse | K::ParseWhere) => self.bind_parse(&p, input),
            Some(K::ParseKv) => {
                let mut out = input.clone();
                for c in clauses {
                    for s in self.children(*c) {
                        if self.kind(s) == N::Schema {
                            for (n, t) in self.schema_columns(s) {
                                out.set(&n, t);
                            }
                        }
                    }
                }
                out
            }
            Some(K::MakeSeries) => self.bind_make_series(&p, input),
            Some(K::Print) => self.bind_print(&p),
            Some(K::Range) => self.bind_range(&p),
            Some(K::Datatable | K::ExternalData) => {
                let schema = kids.iter().find(|k| self.kind(**k) == N::Schema);
                match schema {
                    Some(s) => Schema::new(self.schema_columns(*s)),
                    None => Schema::open(),
                }
            }
            Some(K::Evaluate) => self.bind_evaluate(&p, input),
            Some(K::MvApply) => self.bind_mv_apply(&p, input),
            Some(K::Invoke) => {
                for k in kids {
                    self.expr(*k, Some(&input));
                }
                Schema::open()
            }
            Some(K::TopNested) => self.bind_top_nested(&p, input),
            Some(K::Partition) => self.bind_partition(&p, input),
            Some(K::SampleDistinct | K::TopHitters) => self.bind_of_column(&p, input),
            Some(K::Reduce) => {
                if let Some(by) = self.op_view(op).clause_expr("by") {
                    self.expr(by, Some(&input));
                }
                Schema::new(vec![
                    ("Pattern".into(), Type::String),
                    ("Count".into(), Type::Long),
                    ("Representative".into(), Type::String),
                ])
            }
            // `T | search ...`: `$table`, then T's columns (its predicate's `Column:value` forms
            // are not bound); a `search` that starts a query reads every table.
            Some(K::Search) if p.has_input => {
                let mut out = Schema::new(vec![("$table".into(), Type::String)]);
                out.open = input.open;
                for (n, t) in input.columns.iter().filter(|(n, _)| n != "$table") {
                    out.set(n, *t);
                }
                out
            }
            // Operators whose output vigil does not model yet: keep going with an open schema.
            Some(K::Find) => self.bind_find(&p),
            Some(K::Facet | K::Fork | K::GraphMatch | K::MakeGraph | K::Search) | None => {
                Schema::open()
            }
        }
    }

    /// Bind `where` (and `take`, `sample`): the schema it outputs.
    fn bind_where(&mut self, p: &OpParts, input: Schema) -> Schema {
        let kw = p.kw.as_str();
        let kids = &p.kids;
        for k in kids {
            match self.kind(*k) {
                N::OperatorParam => {}
                // `where x = <predicate>` names the predicate (Kusto.Language's
                // named expression); the value must still be a bool, so
                // `where a = 'x'` (a slip for `==`) is an error, as in Kusto.
                N::Assignment => {
                    let value = self.children(*k).last().copied();
                    let ty = value.map(|v| self.expr(v, Some(&input)));
                    if let Some(Value::Scalar(t)) = ty {
                        if !matches!(t, Type::Bool | Type::Unknown) {
                            let name = self.children(*k).first().copied();
                            let first = name
                                .and_then(|n| self.tokens(n).into_iter().next())
                                .or_else(|| self.tokens(*k).into_iter().next());
                            if let Some(first) = first {
                                self.error(
                                    BindErrorKind::TypeMismatch,
                                    first,
                                    format!("the predicate of `{kw}` must be a bool, not {}; `=` names a value, `==` compares", t.name()),
                                );
                            }
                        }
                    }
                }
                _ => {
                    self.expr(*k, Some(&input));
                }
            }
        }
        input
    }

    /// Bind `scan`: the schema it outputs.
    fn bind_scan(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::Scan(self.op_view(p.op));
        let mut out = input.clone();
        for d in view.declare() {
            out.set(&d.name, d.ty.unwrap_or(Type::Unknown));
        }
        // Kusto.Language's schema always ends with the match id, `match_id` unless
        // `with_match_id` names it (the documentation's outputs show it only when
        // named; the engine follows them, see ARCHITECTURE.md).
        let id = view.match_id().unwrap_or_else(|| "match_id".to_string());
        out.set(&id, Type::Long);
        out
    }

    /// Bind `project-away` (and `project-keep`): the schema it outputs.
    fn bind_project_away(&mut self, p: &OpParts, input: Schema) -> Schema {
        let kw = p.kw.as_str();
        let first_list = p.first_list;
        let mut out = Schema {
            columns: Vec::new(),
            open: input.open,
        };
        let mut patterns = Vec::new();
        if let Some(l) = first_list {
            self.check_names(l, &input);
            patterns.extend(
                super::ast::column_patterns(self.view(), l)
                    .into_iter()
                    .map(|c| c.pattern),
            );
        }
        for (c, t) in &input.columns {
            let hit = patterns.iter().any(|p| glob_match(p, c));
            if hit == (kw == "project-keep") {
                out.columns.push((c.clone(), *t));
            }
        }
        out
    }

    /// Bind `project-rename`: the schema it outputs.
    fn bind_project_rename(&mut self, p: &OpParts, input: Schema) -> Schema {
        let first_list = p.first_list;
        let mut out = input.clone();
        if let Some(l) = first_list {
            for (new, old) in super::ast::renames(self.view(), l) {
                let ty = match self.expr(old, Some(&input)) {
                    Value::Scalar(t) => t,
                    _ => Type::Unknown,
                };
                if let Some((old_name, _)) = self.name_of(old) {
                    if let Some(c) = out.columns.iter_mut().find(|(c, _)| *c == old_name) {
                        *c = (new.clone(), ty);
                        continue;
                    }
                }
                out.set(&new, ty);
            }
        }
        out
    }

    /// Bind `project-reorder`: the schema it outputs.
    fn bind_project_reorder(&mut self, p: &OpParts, input: Schema) -> Schema {
        let first_list = p.first_list;
        // The named columns first, in the order given (patterns in table order), then
        // the rest as they were.
        let mut out = Schema {
            columns: Vec::new(),
            open: input.open,
        };
        if let Some(l) = first_list {
            self.check_names(l, &input);
            for super::ast::ColumnPattern { pattern, .. } in
                super::ast::column_patterns(self.view(), l)
            {
                for (c, t) in &input.columns {
                    if glob_match(&pattern, c) && out.get(c).is_none() {
                        out.columns.push((c.clone(), *t));
                    }
                }
            }
        }
        for (c, t) in &input.columns {
            if out.get(c).is_none() {
                out.columns.push((c.clone(), *t));
            }
        }
        out
    }

    /// Bind `summarize`: the schema it outputs.
    fn bind_summarize(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::Summarize(self.op_view(p.op));
        let by = view.by();
        let mut out = Schema::default();
        let mut aggs = Schema::default();
        // The `by` list first: its generated names come before the aggregations'
        // (`summarize count() * 2 by strcat(a, b)` → `Column1`, `Column2`).
        self.assign_items(&by, &input, &mut out, false, Fill::Group);
        // Kusto does not group by dynamic values.
        for &item in &by {
            if self.kind(item) != N::Name {
                continue;
            }
            if let Some((n, tok)) = self.name_of(item) {
                if input.get(&n) == Some(Type::Dynamic) {
                    self.error(
                        BindErrorKind::TypeMismatch,
                        tok,
                        format!("`{n}` is dynamic: summarize cannot group by a dynamic value"),
                    );
                }
            }
        }
        self.bind_aggregates(view.aggregates(), &by, &input, &mut aggs);
        // An aggregation's column named like a `by` column gets a number (`arg_max(t, d) by
        // d` → `d`, `t`, `d1`), as in Kusto.Language and the engine.
        for (c, t) in aggs.columns {
            set_unique(&mut out, &c, t);
        }
        out.open |= aggs.open;
        out
    }

    /// Bind `union`: the schema it outputs.
    fn bind_union(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::Union(self.op_view(p.op));
        let saved = self.fuzzy;
        self.fuzzy = view.fuzzy();
        // Every input's columns in order of first appearance (the piped input first).
        let mut legs: Vec<Schema> = Vec::new();
        let mut open = false;
        if p.has_input {
            open |= input.open;
            legs.push(input.clone());
        }
        for leg in view.legs() {
            match leg {
                super::ast::UnionLeg::Pattern(_) => open = true,
                super::ast::UnionLeg::Table(t) => match self.expr(t, None) {
                    Value::Table(s) => {
                        open |= s.open;
                        legs.push(s);
                    }
                    _ => open = true,
                },
            }
        }
        self.fuzzy = saved;
        // The source column first, then Kusto's union columns (`X_string`/`X_long`
        // for a name of different types).
        let mut out = Schema::default();
        if let Some(src) = view.source_column() {
            out.set(&src, Type::String);
        }
        let legs: Vec<Vec<(String, Type)>> = legs.into_iter().map(|s| s.columns).collect();
        for c in crate::kql::catalog::union_columns(&legs, view.inner()) {
            out.set(&c.name, c.ty);
        }
        out.open = open;
        out
    }

    /// Bind `mv-expand`: the schema it outputs.
    fn bind_mv_expand(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::MvExpand(self.op_view(p.op));
        let mut out = input.clone();
        if let Some(idx) = view.item_index() {
            out.set(&idx, Type::Long);
        }
        self.bind_expansion(view, &input, &mut out);
        out
    }

    /// Bind the items and `limit` of `mv-expand`/`mv-apply` over `input`, setting each item's
    /// column in `out` (dynamic, or the type its `to typeof(T)` gives; `out` is open when an
    /// item has no name). Returns the columns expanded in place: an unnamed column item
    /// (`mv-apply d`), not a named one (`x = d`, even `d = m`).
    fn bind_expansion(
        &mut self,
        view: super::ast::MvExpand<'_>,
        input: &Schema,
        out: &mut Schema,
    ) -> Vec<String> {
        let mut in_place = Vec::new();
        for item in view.items() {
            self.expr(item.value, Some(input));
            let name = match item.name {
                Some(n) => self.name_of(n).map(|(n, _)| n),
                None => self.default_name(item.value),
            };
            match name {
                Some(n) => {
                    let ty = item.to.filter(|t| *t != Type::Unknown);
                    out.set(&n, ty.unwrap_or(Type::Dynamic));
                    if item.name.is_none() && self.kind(item.value) == N::Name {
                        in_place.push(n);
                    }
                }
                None => out.open = true,
            }
        }
        if let Some(l) = view.limit() {
            self.expr(l, Some(input));
        }
        in_place
    }

    /// Bind `mv-apply`: the subquery runs over the row with each item's column (dynamic, or
    /// its `to typeof(T)`) and the item index; the result is the row's columns except those
    /// expanded in place, each retyped by the subquery when it has it, then the subquery's
    /// other columns (Kusto.Language's schema).
    fn bind_mv_apply(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::MvApply(self.op_view(p.op));
        let mut row = input.clone();
        let expanded = self.bind_expansion(view.expansion(), &input, &mut row);
        if let Some(idx) = view.expansion().item_index() {
            row.set(&idx, Type::Long);
        }
        let Some(ops) = view.subquery() else {
            return Schema::open();
        };
        let mut sub = row;
        for op in ops {
            sub = self.operator(op, Some(sub));
        }
        let mut out = Schema {
            columns: input
                .columns
                .iter()
                .filter(|(n, _)| !expanded.contains(n))
                .cloned()
                .collect(),
            open: input.open || sub.open,
        };
        for (n, t) in &sub.columns {
            out.set(n, *t);
        }
        out
    }

    /// Bind `find ... project c, ...`: the source column, then each projected column with its
    /// type in the first table of `in (...)` that has it. The predicate is bound against no
    /// known columns (each table has its own), and `project-smart` (or no `project`, or no
    /// `in`) leaves the output open.
    fn bind_find(&mut self, p: &OpParts) -> Schema {
        let view = super::ast::Find(self.op_view(p.op));
        let listed = view.tables();
        let tables: Vec<Schema> = listed
            .iter()
            .flatten()
            .map(|t| match self.expr(*t, None) {
                Value::Table(s) => s,
                _ => Schema::open(),
            })
            .collect();
        if let Some(pred) = view.predicate() {
            self.expr(pred, Some(&Schema::open()));
        }
        let (Some(items), Some(_)) = (view.project(), listed) else {
            return Schema::open();
        };
        let mut out = Schema::new(vec![(view.source_column(), Type::String)]);
        for item in items {
            let Some((name, _)) = self.name_of(item) else {
                return Schema::open();
            };
            let ty = tables
                .iter()
                .find_map(|t| t.get(&name))
                .unwrap_or(Type::Unknown);
            out.set(&name, ty);
        }
        out
    }

    /// Bind `top-nested`: per level, the key and its aggregation (`aggregated_<key>` unless
    /// named), each name made unique over the output. A key with no name of its own leaves
    /// the output open (Kusto.Language names it ``).
    fn bind_top_nested(&mut self, p: &OpParts, input: Schema) -> Schema {
        let Some(levels) = super::ast::TopNested(self.op_view(p.op)).levels() else {
            return Schema::open();
        };
        let mut out = Schema::default();
        for l in levels {
            if let Some(n) = l.count {
                self.expr(n, None);
            }
            let (key_name, key) = self.named(l.key);
            let key_name = key_name.or_else(|| self.default_name(key));
            let kt = scalar(self.value_in(key, &input, false));
            if let Some(o) = l.others {
                self.expr(o, Some(&input));
            }
            let (agg_name, agg) = self.named(l.aggregation);
            let at = scalar(self.value_in(agg, &input, true));
            match key_name {
                Some(k) => {
                    let k = set_unique(&mut out, &k, kt);
                    let a = agg_name.unwrap_or_else(|| format!("aggregated_{k}"));
                    let a = set_unique(&mut out, &a, at);
                    // The lowering takes both names.
                    self.generated_at.insert(l.key, k);
                    self.generated_at.insert(l.aggregation, a);
                }
                None => out.open = true,
            }
        }
        out
    }

    /// `Name = Expr` as its name and expression; any other expression without a name.
    fn named(&self, item: u32) -> (Option<String>, u32) {
        if self.kind(item) == N::Assignment {
            let kids = self.children(item);
            if let (Some(n), Some(&v)) = (kids.first(), kids.last()) {
                return (self.name_of(*n).map(|(n, _)| n), v);
            }
        }
        (None, item)
    }

    /// Bind `partition by Column (operators)`: the operators over the input's columns.
    fn bind_partition(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::Partition(self.op_view(p.op));
        if let Some(by) = view.by() {
            self.expr(by, Some(&input));
        }
        let Some(ops) = view.subquery() else {
            return Schema::open();
        };
        let mut sub = input;
        for op in ops {
            sub = self.operator(op, Some(sub));
        }
        sub
    }

    /// Bind `sample-distinct N of Column` (that column) and `top-hitters N of Column [by
    /// Expr]` (the column and `approximate_count_<Column>`, or `approximate_sum_<Expr>`).
    fn bind_of_column(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::OfColumn(self.op_view(p.op));
        if let Some(n) = view.count() {
            self.expr(n, None);
        }
        let Some(of) = view.of() else {
            return Schema::open();
        };
        let ty = scalar(self.expr(of, Some(&input)));
        let Some(name) = self.default_name(of) else {
            return Schema::open();
        };
        let mut out = Schema::new(vec![(name.clone(), ty)]);
        if OpKind::from_keyword(&p.kw) == Some(K::TopHitters) {
            match view.by() {
                None => {
                    set_unique(&mut out, &format!("approximate_count_{name}"), Type::Long);
                }
                Some(by) => {
                    let t = scalar(self.expr(by, Some(&input)));
                    match self.default_name(by) {
                        Some(b) => {
                            set_unique(&mut out, &format!("approximate_sum_{b}"), t);
                        }
                        None => out.open = true,
                    }
                }
            }
        }
        out
    }

    /// Bind `parse` (and `parse-where`): the schema it outputs.
    fn bind_parse(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::Parse(self.op_view(p.op));
        let mut out = input.clone();
        if let Some(e) = view.source() {
            self.expr(e, Some(&input));
        }
        for part in view.parts().unwrap_or_default() {
            if let super::ast::PatternPart::Column(n, ty) = part {
                if let Some((n, _)) = self.name_of(n) {
                    out.set(&n, ty);
                }
            }
        }
        out
    }

    /// Bind `make-series`: the schema it outputs.
    fn bind_make_series(&mut self, p: &OpParts, input: Schema) -> Schema {
        let view = super::ast::MakeSeries(self.op_view(p.op));
        let by = view.by();
        let mut out = Schema::default();
        let mut aggs = Schema::default();
        self.bind_aggregates(view.aggregates(), &by, &input, &mut aggs);
        self.assign_items(&by, &input, &mut out, false, Fill::Keep);
        if let Some(e) = view.on() {
            self.expr(e, Some(&input));
            if let Some(n) = self.default_name(e) {
                aggs.set(&n, Type::Dynamic);
            }
        }
        for e in view
            .from_to_step()
            .into_iter()
            .chain([view.in_range()])
            .flatten()
        {
            self.expr(e, Some(&input));
        }
        for (c, _) in aggs.columns {
            out.set(&c, Type::Dynamic);
        }
        out.open |= aggs.open;
        out
    }

    /// Bind `print`: the schema it outputs.
    fn bind_print(&mut self, p: &OpParts) -> Schema {
        let first_list = p.first_list;
        let mut out = Schema::default();
        if let Some(l) = first_list {
            let mut i = 0;
            for item in self.children(l) {
                if self.kind(item) == N::Assignment {
                    let k = self.children(item);
                    let v = k.last().map(|v| self.expr(*v, None));
                    if let Some((n, _)) = k.first().and_then(|n| self.name_of(*n)) {
                        out.set(
                            &n,
                            if let Some(Value::Scalar(t)) = v {
                                t
                            } else {
                                Type::Unknown
                            },
                        );
                    }
                } else if let Some(cols) = self.tuple_columns(item) {
                    self.expr(item, None);
                    for c in cols {
                        out.set(&c, Type::Dynamic);
                    }
                } else {
                    let v = self.expr(item, None);
                    out.set(
                        &format!("print_{i}"),
                        if let Value::Scalar(t) = v {
                            t
                        } else {
                            Type::Unknown
                        },
                    );
                    i += 1;
                }
            }
        }
        out
    }

    /// Bind `range`: the schema it outputs.
    fn bind_range(&mut self, p: &OpParts) -> Schema {
        let view = super::ast::Range(self.op_view(p.op));
        let name = view.name().unwrap_or_default();
        let types: Vec<Type> = view
            .from_to_step()
            .into_iter()
            .map(|e| match e.map(|e| self.expr(e, None)) {
                Some(Value::Scalar(t)) => t,
                _ => Type::Unknown,
            })
            .collect();
        let ty = crate::kql::catalog::range_type(types[0], types[1], types[2]);
        Schema::new(vec![(name, ty)])
    }

    /// Bind `evaluate`: the schema it outputs.
    fn bind_evaluate(&mut self, p: &OpParts, input: Schema) -> Schema {
        let kids = &p.kids;
        // Plugin arguments name columns of the input or of other tables (ipv4_lookup);
        // they are bound against an open row set so only unknown functions report.
        let open = Schema {
            columns: input.columns.clone(),
            open: true,
        };
        let mut out = Schema::open();
        for k in kids {
            if self.kind(*k) != N::Call {
                continue;
            }
            let plugin = self
                .children(*k)
                .first()
                .and_then(|c| self.name_of(*c))
                .map(|(n, _)| n.to_ascii_lowercase());
            let args = self.args(*k);
            // `ipv4_lookup(Lookup, SourceKey, LookupKey [, ExtraKey...] [, unmatched])`:
            // the source key is a column of the input, the lookup key one of the lookup
            // table, and the output is the input's columns then the lookup's.
            if matches!(plugin.as_deref(), Some("ipv4_lookup" | "ipv6_lookup")) && args.len() >= 3 {
                let lookup = match self.expr(args[0], None) {
                    Value::Table(s) => s,
                    _ => Schema::open(),
                };
                self.expr(args[1], Some(&input));
                self.expr(args[2], Some(&lookup));
                for a in &args[3..] {
                    self.expr(*a, Some(&open));
                }
                let clash = lookup
                    .columns
                    .iter()
                    .any(|(n, _)| input.columns.iter().any(|(m, _)| m == n));
                if !input.open && !lookup.open && !clash {
                    let mut columns = input.columns.clone();
                    columns.extend(lookup.columns.iter().cloned());
                    out = Schema {
                        columns,
                        open: false,
                    };
                }
                continue;
            }
            self.call(*k, Some(&open), BuiltinKind::Plugin);
        }
        // A declared output schema (`: (a:string, b:long)`) is the result, as in
        // Kusto.Language; with `*` (the input's other columns) it stays open. A plugin with a
        // fixed output (`narrow`) has it.
        let view = super::ast::Evaluate(self.op_view(p.op));
        match view.output_schema() {
            Some(cols) if !cols.contains(&super::ast::SchemaColumn::Rest) => {
                out = Schema::new(
                    cols.into_iter()
                        .filter_map(|c| match c {
                            super::ast::SchemaColumn::Column(n, t) => Some((n, t)),
                            super::ast::SchemaColumn::Rest => None,
                        })
                        .collect(),
                );
            }
            Some(_) => {}
            None => {
                if let Some(fixed) = view
                    .plugin()
                    .and_then(|n| crate::kql::catalog::plugin_output(&n))
                {
                    out = Schema::new(fixed.iter().map(|(n, t)| (n.to_string(), *t)).collect());
                }
            }
        }
        out
    }

    fn bind_all(&mut self, id: u32, input: &Schema) {
        match self.kind(id) {
            N::List | N::Clause | N::SortKey => {
                for k in self.children(id) {
                    self.bind_all(k, input);
                }
            }
            _ => {
                self.expr(id, Some(input));
            }
        }
    }

    /// A declared schema's named columns (`*` left out).
    fn schema_columns(&self, schema: u32) -> Vec<(String, Type)> {
        super::ast::schema_decl(self.view(), schema)
            .into_iter()
            .filter_map(|c| match c {
                super::ast::SchemaColumn::Column(n, t) => Some((n, t)),
                super::ast::SchemaColumn::Rest => None,
            })
            .collect()
    }

    fn join(&mut self, op: u32, left: Schema) -> Schema {
        let view = super::ast::Join(self.op_view(op));
        let right = match view.right().map(|r| self.expr(r, None)) {
            Some(Value::Table(s)) => s,
            _ => Schema::open(),
        };
        let kind = view.kind();
        let mut keys: Vec<String> = Vec::new();
        for e in view.on() {
            self.join_condition(e, &left, &right, &mut keys);
        }
        let mut out = Schema {
            columns: Vec::new(),
            open: left.open || right.open,
        };
        let take_left = !matches!(kind.as_str(), "rightsemi" | "rightanti" | "rightantisemi");
        let take_right = !matches!(
            kind.as_str(),
            "leftsemi" | "leftanti" | "leftantisemi" | "anti" | "semi"
        );
        if take_left {
            out.columns.extend(left.columns.iter().cloned());
        }
        if take_right {
            for (c, t) in &right.columns {
                if view.is_lookup() && keys.contains(c) {
                    continue;
                }
                if take_left && out.get(c).is_some() {
                    let mut n = 1;
                    let mut name = format!("{c}{n}");
                    while out.get(&name).is_some() {
                        n += 1;
                        name = format!("{c}{n}");
                    }
                    out.columns.push((name, *t));
                } else {
                    out.columns.push((c.clone(), *t));
                }
            }
        }
        out
    }

    /// `Key`, `$left.A == $right.B`, conjunctions of those.
    fn join_condition(&mut self, e: u32, left: &Schema, right: &Schema, keys: &mut Vec<String>) {
        match self.kind(e) {
            N::Name => {
                let Some((n, tok)) = self.name_of(e) else {
                    return;
                };
                let missing_left = left.get(&n).is_none() && !left.open;
                let missing_right = right.get(&n).is_none() && !right.open;
                if missing_left || missing_right {
                    self.error(
                        BindErrorKind::JoinColumn,
                        tok,
                        format!("the join column `{n}` must exist on both sides"),
                    );
                }
                keys.push(n);
            }
            N::Binary => {
                for k in self.children(e) {
                    self.join_condition(k, left, right, keys);
                }
            }
            N::Member => {
                let k = self.children(e);
                let side = k.first().and_then(|s| self.name_of(*s)).map(|(n, _)| n);
                let col = k.get(1).and_then(|c| self.name_of(*c));
                if let (Some(side), Some((col, tok))) = (side, col) {
                    let schema = if side == "$left" { left } else { right };
                    if (side == "$left" || side == "$right")
                        && schema.get(&col).is_none()
                        && !schema.open
                    {
                        self.error(
                            BindErrorKind::UnknownName,
                            tok,
                            format!("`{col}` is not a column of the join's {} side", &side[1..]),
                        );
                    }
                    keys.push(col);
                }
            }
            _ => {
                self.expr(e, Some(left));
            }
        }
    }
}

/// The parts of the operator being bound, which each `Binder::bind_*` method reads.
struct OpParts {
    op: u32,
    kw: String,
    /// False for a source operator (`union`, `print`, ... first in a query).
    has_input: bool,
    kids: Vec<u32>,
    first_list: Option<u32>,
    clauses: Vec<u32>,
}

/// How an assignment list fills its output ([`Binder::assign_list`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// `summarize`'s aggregations, `distinct`: a name already there stays.
    Keep,
    /// `summarize`'s `by` list: as `Keep`, but an expression named after a column that is
    /// already there gets a number (`by b, tostring(b)` → `b`, `b1`, as Kusto.Language does).
    Group,
    /// `project`: a later column of a taken name replaces it.
    Replace,
    /// `extend`: as `Replace`, and a generated name skips the names the table has.
    Extend,
}

/// The scalar type of a bound value (unknown for anything else).
fn scalar(v: Value) -> Type {
    match v {
        Value::Scalar(t) => t,
        _ => Type::Unknown,
    }
}

/// Add an aggregation's column; a name already taken gets a number (`count(), count()` →
/// `count_`, `count_1`), as Kusto.Language (and the engine's summarize) do.
fn set_unique(out: &mut Schema, name: &str, ty: Type) -> String {
    let name = if out.get(name).is_some() {
        (1..)
            .map(|i| format!("{name}{i}"))
            .find(|u| out.get(u).is_none())
            .expect("a free name")
    } else {
        name.to_string()
    };
    out.set(&name, ty);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind_str(q: &str) -> Bound {
        let p = super::super::parse(q);
        assert!(p.errors.is_empty(), "{q}: {:?}", p.errors);
        bind(q, &p.tree, Catalog::embedded())
    }

    fn columns(q: &str) -> Vec<String> {
        let b = bind_str(q);
        assert!(b.errors.is_empty(), "{q}: {:?}", b.errors);
        b.result
            .unwrap()
            .columns
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn columns_flow_through_operators() {
        assert_eq!(
            columns("SigninLogs | summarize Failures = countif(ResultType != '0'), dcount(IPAddress) by UserPrincipalName, bin(TimeGenerated, 1h)"),
            vec!["UserPrincipalName", "TimeGenerated", "Failures", "dcount_IPAddress"]
        );
        assert_eq!(
            columns("SigninLogs | project UserPrincipalName, IPAddress | extend Host = 'x' | project-rename User = UserPrincipalName"),
            vec!["User", "IPAddress", "Host"]
        );
        assert_eq!(columns("SigninLogs | count"), vec!["Count"]);
        assert_eq!(
            columns("let t = datatable(a:string, b:long) ['x', 1]; t | join kind=leftsemi (t | project a) on a"),
            vec!["a", "b"]
        );
    }

    #[test]
    fn unknown_names_are_reported_with_positions() {
        let b = bind_str("SigninLogs | where UserPrincipalNme == 'x'");
        assert_eq!(b.errors.len(), 1);
        assert_eq!(b.errors[0].kind, BindErrorKind::UnknownName);
        assert_eq!(b.errors[0].start, 19);
        let b = bind_str("SigninLog | take 1");
        assert_eq!(b.errors[0].kind, BindErrorKind::UnknownTable);
        let b = bind_str("SigninLogs | extend x = tolowr(UserPrincipalName)");
        assert_eq!(b.errors[0].kind, BindErrorKind::UnknownFunction);
        let b = bind_str("union isfuzzy=true SigninLogs, NoSuchTable_CL | take 1");
        assert!(b.errors.is_empty());
    }

    #[test]
    fn lets_functions_and_watchlists() {
        assert!(bind_str("let f = (n:string) { SigninLogs | where UserPrincipalName == n }; f('x') | project IPAddress").errors.is_empty());
        assert!(bind_str("_GetWatchlist('HighValue') | project SearchKey")
            .errors
            .is_empty());
        assert!(
            bind_str("let x = 5; SigninLogs | where toint(ResultType) > x")
                .errors
                .is_empty()
        );
    }
}
