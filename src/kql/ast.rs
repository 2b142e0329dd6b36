//! Typed views of the syntax tree's operators: which query operator an `Operator` node is
//! ([`OpKind`]), declared once with every keyword that spells it, and the accessors the binder
//! and the engine's lowering share ([`Operator`]).
//!
//! Adding a query operator starts here: a variant of [`OpKind`] and its keywords in
//! [`KEYWORDS`]. The parser (`parser.rs`), the binder (`binder.rs`) and the lowering
//! (`engine/lower.rs`) match on `OpKind` without a catch-all arm, so the compiler lists each
//! place that must decide what the new operator does; the engine's executor (`engine/exec.rs`)
//! then runs the `engine::ir::Op` the lowering produces.

use super::catalog::Type;
use super::syntax::{Child, NodeKind as N, SyntaxTree, Token, TokenKind as T};
use super::view::View;

/// A tabular query operator (after `|`, or a source at the start of a query).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    As,
    Consume,
    Count,
    Datatable,
    Distinct,
    Evaluate,
    Extend,
    ExternalData,
    Facet,
    Find,
    Fork,
    GetSchema,
    GraphMatch,
    Invoke,
    Join,
    Lookup,
    MakeGraph,
    MakeSeries,
    MvApply,
    MvExpand,
    Parse,
    ParseKv,
    ParseWhere,
    Partition,
    Print,
    Project,
    ProjectAway,
    ProjectKeep,
    ProjectRename,
    ProjectReorder,
    Range,
    Reduce,
    Render,
    Sample,
    SampleDistinct,
    Scan,
    Search,
    Serialize,
    Sort,
    Summarize,
    Take,
    Top,
    TopHitters,
    TopNested,
    Union,
    Where,
}

/// Where an operator may stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// After `|` (and some also first in a query: `union`, `print`, `search`, ...).
    Pipe,
    /// Only first in a query (`range`, `datatable`, `externaldata`).
    Source,
}

/// Every keyword of every operator, aliases included (`filter` is `where`, `order` is `sort`).
pub const KEYWORDS: &[(&str, OpKind, Place)] = &[
    ("as", OpKind::As, Place::Pipe),
    ("consume", OpKind::Consume, Place::Pipe),
    ("count", OpKind::Count, Place::Pipe),
    ("datatable", OpKind::Datatable, Place::Source),
    ("distinct", OpKind::Distinct, Place::Pipe),
    ("evaluate", OpKind::Evaluate, Place::Pipe),
    ("extend", OpKind::Extend, Place::Pipe),
    ("externaldata", OpKind::ExternalData, Place::Source),
    ("external_data", OpKind::ExternalData, Place::Source),
    ("facet", OpKind::Facet, Place::Pipe),
    ("filter", OpKind::Where, Place::Pipe),
    ("find", OpKind::Find, Place::Pipe),
    ("fork", OpKind::Fork, Place::Pipe),
    ("getschema", OpKind::GetSchema, Place::Pipe),
    ("graph-match", OpKind::GraphMatch, Place::Pipe),
    ("invoke", OpKind::Invoke, Place::Pipe),
    ("join", OpKind::Join, Place::Pipe),
    ("limit", OpKind::Take, Place::Pipe),
    ("lookup", OpKind::Lookup, Place::Pipe),
    ("make-graph", OpKind::MakeGraph, Place::Pipe),
    ("make-series", OpKind::MakeSeries, Place::Pipe),
    ("mv-apply", OpKind::MvApply, Place::Pipe),
    ("mv-expand", OpKind::MvExpand, Place::Pipe),
    ("mvexpand", OpKind::MvExpand, Place::Pipe),
    ("order", OpKind::Sort, Place::Pipe),
    ("parse", OpKind::Parse, Place::Pipe),
    ("parse-kv", OpKind::ParseKv, Place::Pipe),
    ("parse-where", OpKind::ParseWhere, Place::Pipe),
    ("partition", OpKind::Partition, Place::Pipe),
    ("print", OpKind::Print, Place::Source),
    ("project", OpKind::Project, Place::Pipe),
    ("project-away", OpKind::ProjectAway, Place::Pipe),
    ("project-keep", OpKind::ProjectKeep, Place::Pipe),
    ("project-rename", OpKind::ProjectRename, Place::Pipe),
    ("project-reorder", OpKind::ProjectReorder, Place::Pipe),
    ("range", OpKind::Range, Place::Source),
    ("reduce", OpKind::Reduce, Place::Pipe),
    ("render", OpKind::Render, Place::Pipe),
    ("sample", OpKind::Sample, Place::Pipe),
    ("sample-distinct", OpKind::SampleDistinct, Place::Pipe),
    ("scan", OpKind::Scan, Place::Pipe),
    ("search", OpKind::Search, Place::Pipe),
    ("serialize", OpKind::Serialize, Place::Pipe),
    ("sort", OpKind::Sort, Place::Pipe),
    ("summarize", OpKind::Summarize, Place::Pipe),
    ("take", OpKind::Take, Place::Pipe),
    ("top", OpKind::Top, Place::Pipe),
    ("top-hitters", OpKind::TopHitters, Place::Pipe),
    ("top-nested", OpKind::TopNested, Place::Pipe),
    ("union", OpKind::Union, Place::Pipe),
    ("where", OpKind::Where, Place::Pipe),
];

impl OpKind {
    /// The operator a keyword spells (case-sensitive, as Kusto's keywords are).
    pub fn from_keyword(word: &str) -> Option<OpKind> {
        KEYWORDS
            .iter()
            .find(|(k, ..)| *k == word)
            .map(|(_, kind, _)| *kind)
    }

    /// Whether the keyword is an operator that may follow `|`.
    pub fn is_pipe_keyword(word: &str) -> bool {
        KEYWORDS
            .iter()
            .any(|(k, _, place)| *k == word && *place == Place::Pipe)
    }

    /// The keywords that may follow `|`, for suggestions.
    pub fn pipe_keywords() -> impl Iterator<Item = &'static str> {
        KEYWORDS
            .iter()
            .filter(|(.., place)| *place == Place::Pipe)
            .map(|(k, ..)| *k)
    }
}

/// An `Operator` node with its kind: the accessors binder and lowering share.
#[derive(Clone, Copy)]
pub struct Operator<'a> {
    pub view: View<'a>,
    pub id: u32,
    pub kind: Option<OpKind>,
}

impl<'a> Operator<'a> {
    /// The operator at node `id` (`kind` is None for a keyword vigil does not know, which the
    /// parser has reported).
    pub fn cast(tree: &'a SyntaxTree, text: &'a str, id: u32) -> Option<Operator<'a>> {
        let view = View { tree, text };
        if view.kind(id) != N::Operator {
            return None;
        }
        let kind = view
            .tokens(id)
            .first()
            .and_then(|t| OpKind::from_keyword(view.tok_text(*t)));
        Some(Operator { view, id, kind })
    }

    /// The operator's keyword as written.
    pub fn keyword(&self) -> &'a str {
        self.view
            .tokens(self.id)
            .first()
            .map(|t| self.view.tok_text(*t))
            .unwrap_or("")
    }

    /// The child nodes.
    pub fn children(&self) -> Vec<u32> {
        self.view.children(self.id)
    }

    /// The first list (`project a, b`, `summarize ...`).
    pub fn first_list(&self) -> Option<u32> {
        self.children()
            .into_iter()
            .find(|k| self.view.kind(*k) == N::List)
    }

    /// The main operand: the first child that is not a parameter, a clause or a list
    /// (`where`'s predicate, `join`'s right side, `top`'s count).
    pub fn operand(&self) -> Option<u32> {
        self.children().into_iter().find(|k| {
            !matches!(
                self.view.kind(*k),
                N::OperatorParam | N::Clause | N::List | N::Error
            )
        })
    }

    /// The clause that starts with `word` (`by`, `on`, `with`, `from`, ...).
    pub fn clause(&self, word: &str) -> Option<u32> {
        self.children().into_iter().find(|c| {
            self.view.kind(*c) == N::Clause
                && self
                    .view
                    .tokens(*c)
                    .first()
                    .is_some_and(|t| self.view.tok_text(*t).eq_ignore_ascii_case(word))
        })
    }

    /// The value of the operator parameter `key=value` (`kind=inner`, `withsource=T`), as
    /// written: a string literal decoded, a word or number as is.
    pub fn param(&self, key: &str) -> Option<String> {
        for c in self.children() {
            if self.view.kind(c) != N::OperatorParam {
                continue;
            }
            let toks: Vec<Token> = self.view.tokens(c);
            if !toks
                .first()
                .is_some_and(|t| self.view.tok_text(*t).eq_ignore_ascii_case(key))
            {
                continue;
            }
            let v = match self
                .view
                .children(c)
                .into_iter()
                .find(|n| self.view.kind(*n) == N::Literal)
            {
                Some(lit) => self.view.tokens(lit).into_iter().last()?,
                None => toks.into_iter().skip(1).last()?,
            };
            let raw = self.view.tok_text(v);
            return Some(super::literal::decode_string(raw).unwrap_or_else(|| raw.to_string()));
        }
        None
    }
    /// The items of the clause that starts with `word`: its list's elements, or its single
    /// expression (`by x` and `by x, y` alike).
    pub fn clause_items(&self, word: &str) -> Vec<u32> {
        let Some(c) = self.clause(word) else {
            return Vec::new();
        };
        let kids = self.view.children(c);
        match kids.first() {
            Some(&l) if self.view.kind(l) == N::List => self.view.children(l),
            _ => kids,
        }
    }
    /// The single expression of the clause that starts with `word` (`on T`, `step 1h`).
    pub fn clause_expr(&self, word: &str) -> Option<u32> {
        self.clause(word)
            .and_then(|c| self.view.children(c).first().copied())
    }
    /// The expansion list of `mv-expand` and `mv-apply`: `[Name =] value [to typeof(T)]`,
    /// each item with the type its `to typeof(T)` gives.
    pub fn expansion_items(&self) -> Vec<MvExpandItem> {
        let v = self.view;
        let mut out: Vec<MvExpandItem> = Vec::new();
        let Some(list) = self.first_list() else {
            return out;
        };
        for node in v.children(list) {
            match v.kind(node) {
                // `to typeof(long)` types the item before it.
                N::Clause => {
                    let ty = v
                        .children(node)
                        .into_iter()
                        .find(|c| v.kind(*c) == N::TypeRef)
                        .map(|t| {
                            let text: String = v.tokens(t).iter().map(|x| v.tok_text(*x)).collect();
                            Type::parse(&text)
                        });
                    if let Some(last) = out.last_mut() {
                        last.to = ty;
                    }
                }
                N::Assignment => {
                    let k = v.children(node);
                    if let Some(&value) = k.get(1) {
                        out.push(MvExpandItem {
                            node,
                            name: k.first().copied(),
                            value,
                            to: None,
                        });
                    }
                }
                _ => out.push(MvExpandItem {
                    node,
                    name: None,
                    value: node,
                    to: None,
                }),
            }
        }
        out
    }
}

/// `make-series [kind=nonempty] aggregations [default=v] on T (from a to b step s | in
/// range(a, b, s)) [by keys]`, as the binder and the lowering read it.
#[derive(Clone, Copy)]
pub struct MakeSeries<'a>(pub Operator<'a>);

impl<'a> MakeSeries<'a> {
    pub fn cast(op: Operator<'a>) -> Option<MakeSeries<'a>> {
        (op.kind == Some(OpKind::MakeSeries)).then_some(MakeSeries(op))
    }

    /// The aggregation list, with each aggregation's `default = v` after it.
    pub fn aggregates(&self) -> Option<u32> {
        self.0.first_list()
    }

    /// The axis column (`on TimeGenerated`).
    pub fn on(&self) -> Option<u32> {
        self.0.clause_expr("on")
    }

    /// `from`, `to` and `step`, each if written.
    pub fn from_to_step(&self) -> [Option<u32>; 3] {
        ["from", "to", "step"].map(|w| self.0.clause_expr(w))
    }

    /// The alternate axis `in range(start, stop, step)`, if written.
    pub fn in_range(&self) -> Option<u32> {
        self.0.clause_expr("in")
    }

    /// The `by` keys, in order.
    pub fn by(&self) -> Vec<u32> {
        self.0.clause_items("by")
    }

    /// Whether `kind=nonempty` is set.
    pub fn nonempty(&self) -> bool {
        self.0
            .param("kind")
            .is_some_and(|k| k.eq_ignore_ascii_case("nonempty"))
    }
}

/// One expanded column of `mv-expand` or `mv-apply`: `[Name =] value [to typeof(T)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MvExpandItem {
    /// The item node (an assignment or the value itself).
    pub node: u32,
    /// The `Name` node of `Name = value`.
    pub name: Option<u32>,
    /// The expanded expression.
    pub value: u32,
    /// The type of `to typeof(T)`, when written.
    pub to: Option<Type>,
}

/// `mv-expand [bagexpansion=...] [with_itemindex=I] items [limit n]`, as the binder and the
/// lowering read it.
#[derive(Clone, Copy)]
pub struct MvExpand<'a>(pub Operator<'a>);

impl<'a> MvExpand<'a> {
    pub fn cast(op: Operator<'a>) -> Option<MvExpand<'a>> {
        (op.kind == Some(OpKind::MvExpand)).then_some(MvExpand(op))
    }

    /// The expanded columns, each with the type its `to typeof(T)` gives.
    pub fn items(&self) -> Vec<MvExpandItem> {
        self.0.expansion_items()
    }

    /// `with_itemindex=I`: the index column's name.
    pub fn item_index(&self) -> Option<String> {
        self.0.param("with_itemindex")
    }

    /// `limit n`.
    pub fn limit(&self) -> Option<u32> {
        self.0.clause_expr("limit")
    }

    /// Whether bags expand into `[key, value]` arrays (`bagexpansion=array`, or the older
    /// `kind=array`).
    pub fn bags_as_arrays(&self) -> bool {
        self.0.param("bagexpansion").as_deref() == Some("array")
            || self.0.param("kind").as_deref() == Some("array")
    }
}

/// A part of a `parse` pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternPart {
    /// `*`: any text.
    Star,
    /// A string literal to match (its `Literal` node).
    Text(u32),
    /// A column to extract (its `Name` node) and its type (`: long`; string when unwritten).
    Column(u32, Type),
}

/// `parse` and `parse-where`: `[kind=simple|regex|relaxed] [flags=f] source with pattern`, as
/// the binder and the lowering read them.
#[derive(Clone, Copy)]
pub struct Parse<'a>(pub Operator<'a>);

impl<'a> Parse<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Parse<'a>> {
        matches!(op.kind, Some(OpKind::Parse | OpKind::ParseWhere)).then_some(Parse(op))
    }

    /// Whether rows that do not match are kept (`parse`; `parse-where` drops them).
    pub fn keeps_unmatched(&self) -> bool {
        self.0.kind == Some(OpKind::Parse)
    }

    /// The parsed expression.
    pub fn source(&self) -> Option<u32> {
        self.0.operand()
    }

    /// `kind=` in lower case (empty for the default, `simple`).
    pub fn kind(&self) -> String {
        self.0
            .param("kind")
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// `flags=` (regex flags), empty when unwritten.
    pub fn flags(&self) -> String {
        self.0.param("flags").unwrap_or_default()
    }

    /// The pattern after `with`, in order.
    pub fn parts(&self) -> Option<Vec<PatternPart>> {
        let v = self.0.view;
        let pattern = v
            .children(self.0.clause("with")?)
            .into_iter()
            .find(|k| v.kind(*k) == N::Pattern)?;
        let mut parts = Vec::new();
        for child in &v.tree.node(pattern).children {
            match *child {
                Child::Token(t) if v.tree.tokens[t as usize].kind == T::Star => {
                    parts.push(PatternPart::Star)
                }
                Child::Token(_) => {}
                Child::Node(n) => match v.kind(n) {
                    N::Literal => parts.push(PatternPart::Text(n)),
                    N::Name => parts.push(PatternPart::Column(n, Type::String)),
                    // `: long` types the column before it.
                    N::TypeRef => {
                        let text: String = v.tokens(n).iter().map(|x| v.tok_text(*x)).collect();
                        if let Some(PatternPart::Column(_, ty)) = parts.last_mut() {
                            *ty = Type::parse(&text);
                        }
                    }
                    _ => {}
                },
            }
        }
        Some(parts)
    }
}

/// `summarize [params] aggregations [by keys]`, as the binder and the lowering read it.
#[derive(Clone, Copy)]
pub struct Summarize<'a>(pub Operator<'a>);

impl<'a> Summarize<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Summarize<'a>> {
        (op.kind == Some(OpKind::Summarize)).then_some(Summarize(op))
    }

    /// The aggregation list (`count(), n = dcount(x)`), if there is one.
    pub fn aggregates(&self) -> Option<u32> {
        self.0.first_list()
    }

    /// The `by` keys, in order.
    pub fn by(&self) -> Vec<u32> {
        self.0.clause_items("by")
    }
}

/// `join` and `lookup`, as the binder and the lowering read them.
#[derive(Clone, Copy)]
pub struct Join<'a>(pub Operator<'a>);

impl<'a> Join<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Join<'a>> {
        matches!(op.kind, Some(OpKind::Join | OpKind::Lookup)).then_some(Join(op))
    }

    /// Whether this is `lookup` (whose default kind is `leftouter`).
    pub fn is_lookup(&self) -> bool {
        self.0.kind == Some(OpKind::Lookup)
    }

    /// The right side.
    pub fn right(&self) -> Option<u32> {
        self.0.operand()
    }

    /// `kind=` in lower case, or the default: `innerunique` for `join`, `leftouter` for
    /// `lookup`.
    pub fn kind(&self) -> String {
        match self.0.param("kind") {
            Some(k) => k.to_ascii_lowercase(),
            None if self.is_lookup() => "leftouter".into(),
            None => "innerunique".into(),
        }
    }

    /// The `on` conditions: column names, `$left.a == $right.b` comparisons (`and`-joined or
    /// listed).
    pub fn on(&self) -> Vec<u32> {
        self.0.clause_items("on")
    }
}

/// `range Name from a to b step s`, as the binder and the lowering read it.
#[derive(Clone, Copy)]
pub struct Range<'a>(pub Operator<'a>);

impl<'a> Range<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Range<'a>> {
        (op.kind == Some(OpKind::Range)).then_some(Range(op))
    }

    /// The column's name.
    pub fn name(&self) -> Option<String> {
        let v = self.0.view;
        self.0
            .children()
            .into_iter()
            .find_map(|k| v.name_of(k))
            .map(|(n, _)| n)
    }

    /// The `from`, `to` and `step` expressions.
    pub fn from_to_step(&self) -> [Option<u32>; 3] {
        ["from", "to", "step"].map(|w| self.0.clause_expr(w))
    }
}

/// `project-reorder`'s order for a pattern (`asc`/`desc`, `granny-asc`/`granny-desc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternOrder {
    pub desc: bool,
    pub granny: bool,
}

/// One column pattern of `project-away`, `project-keep` and `project-reorder`: a name or a
/// wildcard pattern (`Event*`), with `project-reorder`'s order when one is given.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnPattern {
    /// The `Name` or `Wildcard` node.
    pub node: u32,
    pub pattern: String,
    pub order: Option<PatternOrder>,
}

/// The column patterns of a `project-away`/`project-keep`/`project-reorder` list, in order.
pub fn column_patterns(v: View<'_>, list: u32) -> Vec<ColumnPattern> {
    let pattern = |item: u32| match v.kind(item) {
        N::Name => v.name_of(item).map(|(n, _)| n),
        N::Wildcard => Some(v.tokens(item).iter().map(|t| v.tok_text(*t)).collect()),
        _ => None,
    };
    v.children(list)
        .into_iter()
        .filter_map(|item| {
            if v.kind(item) != N::SortKey {
                return pattern(item).map(|p| ColumnPattern {
                    node: item,
                    pattern: p,
                    order: None,
                });
            }
            let node = *v.children(item).first()?;
            let words: String = v
                .tokens(item)
                .iter()
                .map(|t| v.tok_text(*t).to_ascii_lowercase())
                .collect();
            Some(ColumnPattern {
                node,
                pattern: pattern(node)?,
                order: Some(PatternOrder {
                    desc: words.ends_with("desc"),
                    granny: words.contains("granny"),
                }),
            })
        })
        .collect()
}

/// The `New = Old` pairs of a `project-rename` list: the new name and the old name's node.
pub fn renames(v: View<'_>, list: u32) -> Vec<(String, u32)> {
    v.children(list)
        .into_iter()
        .filter(|item| v.kind(*item) == N::Assignment)
        .filter_map(|item| {
            let k = v.children(item);
            let (new, _) = k.first().and_then(|n| v.name_of(*n))?;
            Some((new, *k.get(1)?))
        })
        .collect()
}

/// One entry of a declared schema (`datatable(a:string, ...)`, `externaldata (...)`,
/// `parse-kv ... as (...)`, `evaluate plugin(...) : (...)`).
#[derive(Clone, Debug, PartialEq)]
pub enum SchemaColumn {
    /// `Name: type` (the whole type text parsed; `Unknown` when it is missing, which Kusto
    /// rejects as a syntax error).
    Column(String, Type),
    /// `*`: the input's other columns, at this place.
    Rest,
}

/// The entries of a `Schema` node, in order.
pub fn schema_decl(v: View<'_>, schema: u32) -> Vec<SchemaColumn> {
    v.children(schema)
        .into_iter()
        .filter_map(|c| match v.kind(c) {
            N::Wildcard => Some(SchemaColumn::Rest),
            N::ColumnDecl => {
                let k = v.children(c);
                let (name, _) = v.name_of(*k.first()?)?;
                let ty = k
                    .get(1)
                    .map(|t| {
                        let text: String = v.tokens(*t).iter().map(|x| v.tok_text(*x)).collect();
                        Type::parse(&text)
                    })
                    .unwrap_or(Type::Unknown);
                Some(SchemaColumn::Column(name, ty))
            }
            _ => None,
        })
        .collect()
}

/// `evaluate [hints] plugin(args) [: (output schema)]`, as the binder and the lowering read
/// it.
#[derive(Clone, Copy)]
pub struct Evaluate<'a>(pub Operator<'a>);

impl<'a> Evaluate<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Evaluate<'a>> {
        (op.kind == Some(OpKind::Evaluate)).then_some(Evaluate(op))
    }

    /// The plugin call.
    pub fn call(&self) -> Option<u32> {
        self.0.operand().filter(|c| self.0.view.kind(*c) == N::Call)
    }

    /// The plugin's name in lower case.
    pub fn plugin(&self) -> Option<String> {
        let v = self.0.view;
        let call = self.call()?;
        let (name, _) = v.children(call).first().and_then(|n| v.name_of(*n))?;
        Some(name.to_ascii_lowercase())
    }

    /// The declared output schema's node (`: (a:string, *)`), if any.
    pub fn output_schema_node(&self) -> Option<u32> {
        let v = self.0.view;
        self.0
            .children()
            .into_iter()
            .find(|k| v.kind(*k) == N::Schema)
    }

    /// The declared output schema, if any.
    pub fn output_schema(&self) -> Option<Vec<SchemaColumn>> {
        self.output_schema_node()
            .map(|s| schema_decl(self.0.view, s))
    }
}

/// `mv-apply [with_itemindex=I] items [limit n] on (subquery)`, as the binder and the
/// lowering read it.
#[derive(Clone, Copy)]
pub struct MvApply<'a>(pub Operator<'a>);

impl<'a> MvApply<'a> {
    pub fn cast(op: Operator<'a>) -> Option<MvApply<'a>> {
        (op.kind == Some(OpKind::MvApply)).then_some(MvApply(op))
    }

    /// The expansion it shares with `mv-expand`: items, `with_itemindex`, `limit`.
    pub fn expansion(&self) -> MvExpand<'a> {
        MvExpand(self.0)
    }

    /// The subquery's operators, in order (`on (where x > 0 | extend y = x)`); None when the
    /// `on` clause is missing or is not a pipeline of operators.
    pub fn subquery(&self) -> Option<Vec<u32>> {
        subquery_operators(self.0.view, self.0.clause_expr("on")?)
    }
}

/// The operators of a parenthesized subquery that reads its input row set (`(where x > 0 |
/// extend y = x)`); None when it is not a pipeline of operators.
fn subquery_operators(v: View<'_>, mut sub: u32) -> Option<Vec<u32>> {
    while v.kind(sub) == N::Paren {
        sub = *v.children(sub).first()?;
    }
    match v.kind(sub) {
        N::Pipeline => {
            let ops: Vec<u32> = v.children(sub);
            ops.iter().all(|o| v.kind(*o) == N::Operator).then_some(ops)
        }
        N::Operator => Some(vec![sub]),
        _ => None,
    }
}

/// One level of `top-nested`: `[N] of Key [with others = X] by Aggregation [asc | desc]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TopNestedLevel {
    pub count: Option<u32>,
    /// The key (`Name = Expr` or an expression).
    pub key: u32,
    /// `with others = X`.
    pub others: Option<u32>,
    /// The aggregation (`Name = Aggregation` or an aggregation).
    pub aggregation: u32,
    pub asc: bool,
}

/// `top-nested` levels, as the binder and the lowering read them.
#[derive(Clone, Copy)]
pub struct TopNested<'a>(pub Operator<'a>);

impl<'a> TopNested<'a> {
    pub fn cast(op: Operator<'a>) -> Option<TopNested<'a>> {
        (op.kind == Some(OpKind::TopNested)).then_some(TopNested(op))
    }

    /// The levels in order; None when one lacks its key or its aggregation.
    pub fn levels(&self) -> Option<Vec<TopNestedLevel>> {
        let v = self.0.view;
        let list = self.0.first_list()?;
        v.children(list)
            .into_iter()
            .map(|clause| {
                // Each node takes its role from the word before it.
                let (mut count, mut key, mut others, mut aggregation) = (None, None, None, None);
                let mut asc = false;
                let mut word = String::new();
                for child in &v.tree.node(clause).children {
                    match *child {
                        Child::Token(t) => {
                            let tok = v.tree.tokens[t as usize];
                            if tok.kind == T::Ident {
                                word = v.tok_text(tok).to_ascii_lowercase();
                                asc |= word == "asc";
                                asc &= word != "desc";
                            }
                        }
                        Child::Node(n) => match word.as_str() {
                            "of" => key = Some(n),
                            "others" => others = Some(n),
                            "by" => aggregation = Some(n),
                            _ => count = Some(n),
                        },
                    }
                }
                Some(TopNestedLevel {
                    count,
                    key: key?,
                    others,
                    aggregation: aggregation?,
                    asc,
                })
            })
            .collect()
    }
}

/// `partition [hints] by Column (operators)`, as the binder and the lowering read it.
#[derive(Clone, Copy)]
pub struct Partition<'a>(pub Operator<'a>);

impl<'a> Partition<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Partition<'a>> {
        (op.kind == Some(OpKind::Partition)).then_some(Partition(op))
    }

    /// The partition column's `Name` node.
    pub fn by(&self) -> Option<u32> {
        let v = self.0.view;
        v.children(self.0.clause("by")?)
            .into_iter()
            .find(|n| v.kind(*n) == N::Name)
    }

    /// The operators run over each partition; None for the `{ ... }` form (a subquery with
    /// its own source) and anything else that is not `( operators )`.
    pub fn subquery(&self) -> Option<Vec<u32>> {
        subquery_operators(self.0.view, self.0.operand()?)
    }
}

/// `find [withsource=C] [in (T, ...)] where Predicate [project c, ... | project-smart]`, as the
/// binder and the lowering read it.
#[derive(Clone, Copy)]
pub struct Find<'a>(pub Operator<'a>);

impl<'a> Find<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Find<'a>> {
        (op.kind == Some(OpKind::Find)).then_some(Find(op))
    }

    /// The column naming each row's table (`withsource=C`, else `source_`).
    pub fn source_column(&self) -> String {
        self.0
            .param("withsource")
            .unwrap_or_else(|| "source_".into())
    }

    /// The tables of `in (...)`; None when there is no `in` (every table).
    pub fn tables(&self) -> Option<Vec<u32>> {
        self.0.clause("in")?;
        Some(self.0.clause_items("in"))
    }

    /// The predicate after `where`.
    pub fn predicate(&self) -> Option<u32> {
        self.0.clause_expr("where")
    }

    /// The items of `project c, ...`; None without it (`project-smart` or nothing).
    pub fn project(&self) -> Option<Vec<u32>> {
        self.0.clause("project")?;
        Some(self.0.clause_items("project"))
    }
}

/// `sample-distinct N of Column` and `top-hitters N of Column [by Expr]`, as the binder and
/// the lowering read them.
#[derive(Clone, Copy)]
pub struct OfColumn<'a>(pub Operator<'a>);

impl<'a> OfColumn<'a> {
    pub fn cast(op: Operator<'a>) -> Option<OfColumn<'a>> {
        matches!(op.kind, Some(OpKind::SampleDistinct | OpKind::TopHitters)).then_some(OfColumn(op))
    }

    /// N.
    pub fn count(&self) -> Option<u32> {
        self.0.operand()
    }

    /// The column after `of` (its node: Kusto takes only a column name there).
    pub fn of(&self) -> Option<u32> {
        self.0.clause_expr("of")
    }

    /// `by Expr` (top-hitters: what is summed instead of counted).
    pub fn by(&self) -> Option<u32> {
        self.0.clause_expr("by")
    }
}

/// `union [kind=inner|outer] [withsource=C] [isfuzzy=true] legs`, as the binder and the
/// lowering read it.
#[derive(Clone, Copy)]
pub struct Union<'a>(pub Operator<'a>);

/// One input of a `union`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnionLeg {
    /// A table expression: a name, a call or a parenthesized query.
    Table(u32),
    /// A name pattern (`Security*`, `*`): every table whose name matches.
    Pattern(u32),
}

impl<'a> Union<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Union<'a>> {
        (op.kind == Some(OpKind::Union)).then_some(Union(op))
    }

    /// The inputs after the parameters, in order (the piped input, if any, comes first and is
    /// not among them).
    pub fn legs(&self) -> Vec<UnionLeg> {
        let v = self.0.view;
        self.0
            .first_list()
            .map(|l| v.children(l))
            .unwrap_or_default()
            .into_iter()
            .map(|n| match v.kind(n) {
                N::Wildcard => UnionLeg::Pattern(n),
                _ => UnionLeg::Table(n),
            })
            .collect()
    }

    /// `withsource=C` (also spelled `withsource = C`): the column naming each row's input.
    pub fn source_column(&self) -> Option<String> {
        self.0.param("withsource")
    }

    /// `kind=inner`: only the columns every input has. Kusto accepts only the lower-case
    /// `inner` and `outer` (the default).
    pub fn inner(&self) -> bool {
        self.0.param("kind").is_some_and(|k| k == "inner")
    }

    /// `isfuzzy=true` (a bool literal, any case): inputs that do not resolve are left out.
    pub fn fuzzy(&self) -> bool {
        self.0
            .param("isfuzzy")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// One declared parameter (`name: type [= default]`) of a function, a `let` function or
/// `scan`'s `declare`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub node: u32,
    pub name: String,
    /// The scalar type written (`Unknown` when none is); None for a tabular parameter
    /// (`T:(*)`, `T:(a:string)`).
    pub ty: Option<Type>,
    /// The default value's expression.
    pub default: Option<u32>,
}

/// The parameters of a `ParamList` node, in order.
pub fn param_decls(v: View<'_>, list: u32) -> Vec<ParamDecl> {
    let mut out = Vec::new();
    for node in v.children(list) {
        let kids = v.children(node);
        let Some((name, _)) = kids.first().and_then(|n| v.name_of(*n)) else {
            continue;
        };
        let mut ty = Some(Type::Unknown);
        let mut default = None;
        for &x in kids.iter().skip(1) {
            match v.kind(x) {
                N::TypeRef => {
                    let text: String = v.tokens(x).iter().map(|t| v.tok_text(*t)).collect();
                    ty = if text.starts_with('(') || !v.children(x).is_empty() {
                        None
                    } else {
                        Some(Type::parse(&text))
                    };
                }
                _ => default = Some(x),
            }
        }
        out.push(ParamDecl {
            node,
            name,
            ty,
            default,
        });
    }
    out
}

/// `scan [with_match_id=Id] [declare (params)] with (steps)`, as the binder and the lowering
/// read it.
#[derive(Clone, Copy)]
pub struct Scan<'a>(pub Operator<'a>);

/// What a `scan` step outputs when a row matches it (`output=all|last|none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutput {
    All,
    Last,
    None,
}

/// One `step s [output=...]: condition => assignments;` of a `scan`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanStepDecl {
    pub node: u32,
    pub name: String,
    pub output: StepOutput,
    /// The condition (a step without one never matches).
    pub cond: Option<u32>,
    /// `Name = value` assignments to the state.
    pub assigns: Vec<(String, u32)>,
}

impl<'a> Scan<'a> {
    pub fn cast(op: Operator<'a>) -> Option<Scan<'a>> {
        (op.kind == Some(OpKind::Scan)).then_some(Scan(op))
    }

    /// `with_match_id=Id`: the name of the match id column, when given.
    pub fn match_id(&self) -> Option<String> {
        let v = self.0.view;
        self.0
            .children()
            .into_iter()
            .filter(|k| v.kind(*k) == N::OperatorParam)
            .find_map(|k| v.children(k).first().and_then(|n| v.name_of(*n)))
            .map(|(n, _)| n)
    }

    /// The `declare (...)` state columns.
    pub fn declare(&self) -> Vec<ParamDecl> {
        self.clause_nodes(N::ParamList)
            .into_iter()
            .flat_map(|l| param_decls(self.0.view, l))
            .collect()
    }

    /// The steps, in order.
    pub fn steps(&self) -> Vec<ScanStepDecl> {
        let v = self.0.view;
        let mut out = Vec::new();
        for node in self.clause_nodes(N::ScanStep) {
            let kids = v.children(node);
            let Some((name, _)) = kids.first().and_then(|n| v.name_of(*n)) else {
                continue;
            };
            let mut step = ScanStepDecl {
                node,
                name,
                output: StepOutput::All,
                cond: None,
                assigns: Vec::new(),
            };
            for &x in kids.iter().skip(1) {
                match v.kind(x) {
                    N::OperatorParam => {
                        let word = v
                            .tokens(x)
                            .last()
                            .map(|t| v.tok_text(*t).to_ascii_lowercase());
                        step.output = match word.as_deref() {
                            Some("last") => StepOutput::Last,
                            Some("none") => StepOutput::None,
                            _ => StepOutput::All,
                        };
                    }
                    N::Assignment => {
                        let a = v.children(x);
                        if let (Some((n, _)), Some(&value)) =
                            (a.first().and_then(|n| v.name_of(*n)), a.get(1))
                        {
                            step.assigns.push((n, value));
                        }
                    }
                    _ if step.cond.is_none() => step.cond = Some(x),
                    _ => {}
                }
            }
            out.push(step);
        }
        out
    }

    /// The nodes of kind `kind` directly under the operator's clauses.
    fn clause_nodes(&self, kind: N) -> Vec<u32> {
        let v = self.0.view;
        self.0
            .children()
            .into_iter()
            .filter(|c| v.kind(*c) == N::Clause)
            .flat_map(|c| v.children(c))
            .filter(|n| v.kind(*n) == kind)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_unique_and_every_kind_is_spelled() {
        let mut seen = std::collections::HashSet::new();
        for (k, ..) in KEYWORDS {
            assert!(seen.insert(*k), "{k} twice");
        }
        let kinds: std::collections::HashSet<OpKind> =
            KEYWORDS.iter().map(|(_, kind, _)| *kind).collect();
        assert_eq!(
            kinds.len(),
            46,
            "a kind without a keyword (or a new kind: update)"
        );
        assert_eq!(OpKind::from_keyword("filter"), Some(OpKind::Where));
        assert!(!OpKind::is_pipe_keyword("range"));
        assert!(OpKind::is_pipe_keyword("mvexpand"));
    }

    /// The operators of a parsed query, in node order.
    fn operators<'a>(p: &'a crate::kql::parser::Parse, q: &'a str) -> Vec<Operator<'a>> {
        (0..p.tree.nodes.len() as u32)
            .filter_map(|id| Operator::cast(&p.tree, q, id))
            .collect()
    }

    #[test]
    fn summarize_and_join_views() {
        let q = "T | summarize count(), dcount(b) by a, bin(t, 1h) | join kind=LeftOuter (U) on a, $left.b == $right.c | lookup (V) on a";
        let p = crate::kql::parse(q);
        let ops = operators(&p, q);
        let s = ops.iter().find_map(|o| Summarize::cast(*o)).unwrap();
        assert_eq!(s.by().len(), 2);
        assert_eq!(s.0.view.children(s.aggregates().unwrap()).len(), 2);
        let joins: Vec<Join> = ops.iter().filter_map(|o| Join::cast(*o)).collect();
        assert_eq!(joins.len(), 2);
        assert_eq!(
            (joins[0].kind().as_str(), joins[0].on().len()),
            ("leftouter", 2)
        );
        assert!(joins[0].right().is_some() && !joins[0].is_lookup());
        assert_eq!(
            (joins[1].kind().as_str(), joins[1].is_lookup()),
            ("leftouter", true)
        );
    }

    #[test]
    fn make_series_view() {
        let q = "T | make-series kind=nonempty n = count() default = 0 on t from a to b step 1h by k, j";
        let p = crate::kql::parse(q);
        let m = operators(&p, q)
            .into_iter()
            .find_map(MakeSeries::cast)
            .unwrap();
        assert!(m.on().is_some() && m.from_to_step().iter().all(Option::is_some));
        assert_eq!((m.by().len(), m.nonempty(), m.in_range()), (2, true, None));
    }

    #[test]
    fn mv_expand_view() {
        let q =
            "T | mv-expand bagexpansion=array with_itemindex=i x = d to typeof(long), e limit 5";
        let p = crate::kql::parse(q);
        let mv = operators(&p, q)
            .into_iter()
            .find_map(MvExpand::cast)
            .unwrap();
        let items = mv.items();
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].to, items[1].to), (Some(Type::Long), None));
        assert!(items[0].name.is_some() && items[1].name.is_none());
        assert_eq!(mv.item_index().as_deref(), Some("i"));
        assert!(mv.limit().is_some() && mv.bags_as_arrays());
    }

    #[test]
    fn parse_view() {
        let q = r#"T | parse-where kind=regex flags=i s with "a=" x:long ", b=" * "c" y"#;
        let p = crate::kql::parse(q);
        let pw = operators(&p, q).into_iter().find_map(Parse::cast).unwrap();
        let shape: Vec<String> = pw
            .parts()
            .unwrap()
            .iter()
            .map(|p| match p {
                PatternPart::Star => "*".into(),
                PatternPart::Text(_) => "text".into(),
                PatternPart::Column(_, t) => t.name().to_string(),
            })
            .collect();
        assert_eq!(shape, ["text", "long", "text", "*", "text", "string"]);
        assert_eq!((pw.kind().as_str(), pw.flags().as_str()), ("regex", "i"));
        assert!(!pw.keeps_unmatched() && pw.source().is_some());
    }

    #[test]
    fn union_view() {
        let q =
            "T | union withsource=Src isfuzzy=TRUE kind=inner Security*, (U | project-keep *), V";
        let p = crate::kql::parse(q);
        let u = operators(&p, q).into_iter().find_map(Union::cast).unwrap();
        let legs: Vec<&str> = u
            .legs()
            .iter()
            .map(|l| match l {
                UnionLeg::Table(_) => "table",
                UnionLeg::Pattern(_) => "pattern",
            })
            .collect();
        assert_eq!(legs, ["pattern", "table", "table"]);
        assert_eq!(u.source_column().as_deref(), Some("Src"));
        assert!(u.inner() && u.fuzzy());
        let q = "union kind=outer A, B";
        let p = crate::kql::parse(q);
        let u = operators(&p, q).into_iter().find_map(Union::cast).unwrap();
        assert!(!u.inner() && !u.fuzzy() && u.source_column().is_none());
    }

    #[test]
    fn scan_view() {
        let q = "T | scan with_match_id=Id declare (s:long = 0, d:dynamic) with (step a output=last: x > 1 => s = x; step b: x < 0;)";
        let p = crate::kql::parse(q);
        let sc = operators(&p, q).into_iter().find_map(Scan::cast).unwrap();
        assert_eq!(sc.match_id().as_deref(), Some("Id"));
        let d = sc.declare();
        assert_eq!(
            d.iter()
                .map(|p| (p.name.as_str(), p.ty))
                .collect::<Vec<_>>(),
            [("s", Some(Type::Long)), ("d", Some(Type::Dynamic))]
        );
        assert!(d[0].default.is_some() && d[1].default.is_none());
        let steps = sc.steps();
        assert_eq!(steps.len(), 2);
        assert_eq!(
            (steps[0].name.as_str(), steps[0].output),
            ("a", StepOutput::Last)
        );
        assert_eq!(steps[0].assigns.len(), 1);
        assert!(steps[0].cond.is_some() && steps[1].assigns.is_empty());
        assert_eq!(steps[1].output, StepOutput::All);
    }

    #[test]
    fn tabular_parameters_have_no_scalar_type() {
        let q = "let f = (T:(a:string), n:int, m = 5) { T }; f(U, 1)";
        let p = crate::kql::parse(q);
        let v = View {
            tree: &p.tree,
            text: q,
        };
        let decl = (0..p.tree.nodes.len() as u32)
            .find(|&i| v.kind(i) == N::FunctionDecl)
            .unwrap();
        let list = v.children(decl)[0];
        let ps = param_decls(v, list);
        assert_eq!(
            ps.iter().map(|p| p.ty).collect::<Vec<_>>(),
            [None, Some(Type::Int), Some(Type::Unknown)]
        );
        assert!(ps[2].default.is_some());
    }

    #[test]
    fn mv_apply_view() {
        let q = "T | mv-apply with_itemindex=i x = d to typeof(long), e limit 3 on (where x > 0 | take 1)";
        let p = crate::kql::parse(q);
        let m = operators(&p, q)
            .into_iter()
            .find_map(MvApply::cast)
            .unwrap();
        let e = m.expansion();
        assert_eq!(e.items().len(), 2);
        assert_eq!(e.items()[0].to, Some(Type::Long));
        assert_eq!(e.item_index().as_deref(), Some("i"));
        assert!(e.limit().is_some());
        assert_eq!(m.subquery().map(|s| s.len()), Some(2));
        let q = "T | mv-apply d on (take 1)";
        let p = crate::kql::parse(q);
        let m = operators(&p, q)
            .into_iter()
            .find_map(MvApply::cast)
            .unwrap();
        assert_eq!(m.subquery().map(|s| s.len()), Some(1));
        assert!(m.expansion().limit().is_none() && m.expansion().item_index().is_none());
    }

    #[test]
    fn evaluate_view_and_schemas() {
        let q = "T | evaluate hint.distribution = per_node bag_unpack(d, 'p_') : (a:string, *, b:dynamic)";
        let p = crate::kql::parse(q);
        let e = operators(&p, q)
            .into_iter()
            .find_map(Evaluate::cast)
            .unwrap();
        assert_eq!(e.plugin().as_deref(), Some("bag_unpack"));
        assert!(e.call().is_some());
        assert_eq!(
            e.output_schema().unwrap(),
            [
                SchemaColumn::Column("a".into(), Type::String),
                SchemaColumn::Rest,
                SchemaColumn::Column("b".into(), Type::Dynamic)
            ]
        );
        let q = "T | evaluate Narrow()";
        let p = crate::kql::parse(q);
        let e = operators(&p, q)
            .into_iter()
            .find_map(Evaluate::cast)
            .unwrap();
        assert_eq!(
            (e.plugin().as_deref(), e.output_schema()),
            (Some("narrow"), None)
        );
    }

    #[test]
    fn project_patterns_and_renames() {
        let q = "T | project-reorder B, Event* desc, C granny-asc | project-rename X = A, Y = B";
        let p = crate::kql::parse(q);
        let v = View {
            tree: &p.tree,
            text: q,
        };
        let lists: Vec<u32> = operators(&p, q)
            .iter()
            .filter_map(|o| o.first_list())
            .collect();
        let pats = column_patterns(v, lists[0]);
        let shape: Vec<(&str, Option<(bool, bool)>)> = pats
            .iter()
            .map(|c| (c.pattern.as_str(), c.order.map(|o| (o.desc, o.granny))))
            .collect();
        assert_eq!(
            shape,
            [
                ("B", None),
                ("Event*", Some((true, false))),
                ("C", Some((false, true)))
            ]
        );
        let r: Vec<String> = renames(v, lists[1]).into_iter().map(|(n, _)| n).collect();
        assert_eq!(r, ["X", "Y"]);
    }

    #[test]
    fn range_view() {
        let q = "range x from 1 to 10 step 2";
        let p = crate::kql::parse(q);
        let r = operators(&p, q).into_iter().find_map(Range::cast).unwrap();
        assert_eq!(r.name().as_deref(), Some("x"));
        assert!(r.from_to_step().iter().all(Option::is_some));
    }
}
