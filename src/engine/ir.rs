//! The engine's representation of a query: statements, tabular operators and expressions,
//! lowered from the syntax tree by [`super::lower`]. Names stay names (they resolve against
//! the row or the let scope when the query runs); every node that can fail carries the byte
//! span of its source text.

use std::rc::Rc;

use super::value::{Type, Value};

/// A byte range in the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

#[derive(Clone, Debug)]
pub struct Query {
    pub statements: Vec<Stmt>,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Let(String, Expr),
    Func(String, Rc<FuncDef>),
    /// An expression statement; the last one is the query's result.
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub struct FuncDef {
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    /// `let V = view () { ... }`: a view, which `union V*` and `search` read as a table.
    pub is_view: bool,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    /// `None` for a tabular parameter `(T:(*))`.
    pub ty: Option<Type>,
    pub default: Option<Expr>,
}

/// `name = expr` (or an unnamed expression with the name Kusto gives it).
#[derive(Clone, Debug)]
pub struct Assign {
    /// One name, or several for `(a, b) = f(...)`; empty when Kusto would invent `Column1`.
    pub names: Vec<String>,
    pub expr: Expr,
    /// The expression's static type as the binder decided it (`kql::binder::Bound::types`);
    /// `None` where the binder could not type it (a table outside the catalog, an open schema).
    pub ty: Option<Type>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    EqCi,
    NeCi,
    Lt,
    Le,
    Gt,
    Ge,
    /// String operators: `(kind, negated, case_sensitive)` in [`StrOp`].
    Str(StrOp, bool, bool),
    Matches,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrOp {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOp {
    In,
    NotIn,
    InCi,
    NotInCi,
    HasAny,
    HasAll,
}

#[derive(Clone, Debug)]
pub enum Expr {
    Lit(Value),
    Name(String, Span),
    Bin(BinOp, Box<Expr>, Box<Expr>, Span),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    List(ListOp, Box<Expr>, Vec<Expr>, Span),
    Between(bool, Box<Expr>, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>, Span),
    /// `a.b`.
    Member(Box<Expr>, String),
    /// `a[i]`, `a['k']`.
    Index(Box<Expr>, Box<Expr>),
    /// `*` as an argument (`arg_max(T, *)`, `count(*)`).
    Star,
    /// `Col*` as an argument or list item.
    Wildcard(String),
    /// `$left.X` / `$right.X` in join conditions.
    Side(bool, String),
    /// A tabular expression: a source and operators.
    Pipe(Box<Expr>, Vec<Op>),
    /// A source operator (`union`, `print`, `range`, `datatable`, ...).
    Source(Box<Op>),
    /// `name = value` as a call argument (`bag_unpack(d, columnsConflict='keep_source')`);
    /// evaluates to the value.
    Named(String, Box<Expr>),
    /// A construct the engine cannot run yet.
    Unsupported(String, Span),
}

#[derive(Clone, Debug)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    pub nulls_first: bool,
}

/// One level of `top-nested`: how many values (all when None), the key, the aggregation that
/// ranks them, and its order.
#[derive(Clone, Debug)]
pub struct TopLevel {
    pub n: Option<Expr>,
    pub key: Assign,
    pub agg: Assign,
    pub desc: bool,
}

/// How `project-reorder` sorts the columns a pattern matches: by name, or "granny" (digit runs
/// compared as numbers: `a2` before `a10`), ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameOrder {
    pub desc: bool,
    pub granny: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftAnti,
    RightAnti,
    LeftSemi,
    RightSemi,
}

#[derive(Clone, Debug)]
pub struct MvItem {
    pub name: String,
    pub expr: Expr,
    pub to: Option<Type>,
}

#[derive(Clone, Debug)]
pub enum PatPart {
    Text(String),
    Column(String, Type),
    Star,
}

#[derive(Clone, Debug)]
pub struct MakeSeries {
    pub aggs: Vec<(String, Expr, Option<Expr>)>,
    pub on: Expr,
    pub on_name: String,
    pub from: Option<Expr>,
    pub to: Option<Expr>,
    pub step: Expr,
    pub by: Vec<Assign>,
    /// `kind=nonempty`: an empty input without `by` still gives one row of defaults.
    pub nonempty: bool,
}

/// What a `scan` step adds to the output on a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanOutput {
    All,
    Last,
    None,
}

/// `step Name [output=...]: Condition => Column = Expr, ...;` with the state references
/// (`s1.Ts`) lowered to the names `s1.Ts`.
#[derive(Clone, Debug)]
pub struct ScanStep {
    pub name: String,
    pub output: ScanOutput,
    pub cond: Expr,
    pub assigns: Vec<(String, Expr)>,
}

#[derive(Clone, Debug)]
pub enum Op {
    Where(Expr),
    /// `scan [with_match_id=M] [declare (c:type[=default], ...)] with (steps)`.
    Scan {
        match_id: Option<String>,
        declare: Vec<(String, Type, Option<Expr>)>,
        steps: Vec<ScanStep>,
    },
    Project(Vec<Assign>),
    Extend(Vec<Assign>),
    ProjectAway(Vec<String>),
    ProjectKeep(Vec<String>),
    ProjectRename(Vec<(String, String)>),
    /// `project-reorder a*, b [asc|desc|granny-asc|granny-desc], ...`: each pattern's columns
    /// in their order, or sorted by name.
    ProjectReorder(Vec<(String, Option<NameOrder>)>),
    Summarize {
        aggs: Vec<Assign>,
        by: Vec<Assign>,
    },
    Join {
        kind: JoinKind,
        right: Expr,
        /// (left column expression, right column expression).
        on: Vec<(Expr, Expr)>,
        span: Span,
    },
    Lookup {
        left_outer: bool,
        right: Expr,
        on: Vec<(Expr, Expr)>,
        span: Span,
    },
    Union {
        tables: Vec<Expr>,
        source_column: Option<String>,
        outer: bool,
        fuzzy: bool,
    },
    Take(Expr),
    Sort(Vec<SortKey>),
    Top(Expr, Vec<SortKey>),
    Distinct(Vec<Assign>),
    Count,
    MvExpand {
        items: Vec<MvItem>,
        index: Option<String>,
        limit: Option<Expr>,
        bag_as_array: bool,
    },
    /// `mv-apply items on (subquery)`: the subquery runs over each row's expanded items.
    MvApply {
        items: Vec<MvItem>,
        index: Option<String>,
        /// `limit n`: at most n items of each row.
        limit: Option<Expr>,
        ops: Vec<Op>,
    },
    Parse {
        expr: Expr,
        regex: bool,
        relaxed: bool,
        flags: String,
        pattern: Vec<PatPart>,
        keep_unmatched: bool,
    },
    /// `find [withsource=C] [in (T, ...)] where Predicate [project c, ... | project-smart]`.
    Find {
        tables: Vec<Expr>,
        source_column: String,
        predicate: Expr,
        project: Option<Vec<String>>,
    },
    /// `T | search Predicate`: the rows that match, after a `$table` column naming the source
    /// (the pipeline's table as written; empty when the source is not a name).
    Search {
        predicate: Expr,
        table: String,
    },
    /// Operators run one after the other: what one Kusto operator means in vigil's simpler
    /// ones (`sample-distinct` is `distinct` then `take`).
    Chain(Vec<Op>),
    /// `top-nested [N] of Key by Aggregation [asc|desc], top-nested ...`.
    TopNested(Vec<TopLevel>),
    /// `partition by Column (subquery)`: the subquery run over each value's rows, the
    /// results unioned in order of first appearance.
    Partition {
        by: String,
        ops: Vec<Op>,
    },
    /// `parse-kv Expr as (Key:type, ...) with (...)`.
    ParseKv {
        expr: Expr,
        columns: Vec<(String, Type)>,
        options: Box<super::parse_kv::KvOptions>,
    },
    MakeSeries(Box<MakeSeries>),
    /// `evaluate plugin(args)`.
    /// `evaluate plugin(args) [: (OutputSchema)]`.
    Evaluate(String, Vec<Expr>, Span, Option<Vec<(String, Type)>>),
    Serialize(Vec<Assign>),
    As(String),
    Invoke(String, Vec<Expr>, Span),
    GetSchema,
    /// Operators with no effect on rows (`render`).
    NoOp,
    Print(Vec<Assign>),
    Range {
        name: String,
        from: Expr,
        to: Expr,
        step: Expr,
    },
    Datatable {
        columns: Vec<(String, Type)>,
        values: Vec<Expr>,
    },
    /// `externaldata (schema) [urls] with (format=...)`.
    ExternalData {
        columns: Vec<(String, Type)>,
        urls: Vec<String>,
        format: String,
        skip_first: bool,
    },
    Unsupported(String, Span),
}
