//! Execution: runs the [`ir`](super::ir) over tables from a [`DataSource`].
//!
//! Operators work a column at a time: an expression evaluates to a whole column (or a constant
//! broadcast over the rows), a predicate to a column of booleans, and rows move between
//! operators as index selections over shared columns.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use super::aggregate;
use super::functions;
use super::ir::*;
use super::strings::{eq_ci, glob, Needle};
use super::table::{Column, Data, Table};
use super::value::{compare, equals, sort_cmp, Key, Type, Value};

pub use super::error::{EngineError, R};
pub use super::source::{DataSource, StoredFunction};
pub use super::table::{infer_type, Cv};

/// Settings of one run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// `now()`, in ticks.
    pub now: i64,
    /// Only rows whose `TimeGenerated` lies in `[start, end)` are visible (a scheduled run's
    /// query period).
    pub window: Option<(i64, i64)>,
}

#[derive(Clone)]
enum Binding {
    Scalar(Value),
    Table(Arc<Table>),
    Func(Rc<FuncDef>),
    Failed(EngineError),
}

/// Runs one query.
pub struct Exec<'a> {
    data: &'a dyn DataSource,
    pub opts: RunOptions,
    scopes: Vec<HashMap<String, Binding>>,
    windowed: HashMap<String, Arc<Table>>,
    depth: usize,
    /// Rows read from source tables (after the time window).
    pub rows_scanned: u64,
    /// Inside `extend`: how many leading columns are the input's, which is all `pack_all()`
    /// packs (columns the same `extend` adds are not in it).
    pack_columns: Option<usize>,
    /// The limits of this run, when it must stop, and the function bodies evaluated so far.
    budget: super::budget::Budget,
    deadline: std::time::Instant,
    calls: u64,
}

/// The number of rows of `range from to step` (counting up when `up`), when it can be told
/// from the values.
fn range_count(from: &Value, to: &Value, step: &Value, up: bool) -> Option<u128> {
    let ticks = |v: &Value| -> Option<i128> {
        match v {
            Value::Long(x) => Some(*x as i128),
            Value::DateTime(x) | Value::TimeSpan(x) => Some(*x as i128),
            _ => None,
        }
    };
    let (f, t, s) = (ticks(from)?, ticks(to)?, ticks(step)?);
    if s == 0 || (up && f > t) || (!up && f < t) {
        return Some(0);
    }
    Some(((t - f) / s).unsigned_abs() + 1)
}

/// Names of the aggregation functions (a call to one in `summarize` aggregates).
pub fn is_aggregate(name: &str) -> bool {
    aggregate::is_aggregate(name)
}

fn unique_name(t: &Table, base: &str) -> String {
    if t.index_of(base).is_none() {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| t.index_of(n).is_none())
        .expect("a free name")
}

impl<'a> Exec<'a> {
    /// The source tables this run read (after the time window).
    pub fn scanned_tables(&self) -> Vec<(String, Arc<Table>)> {
        self.windowed
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect()
    }

    pub fn new(data: &'a dyn DataSource, opts: RunOptions) -> Exec<'a> {
        Exec {
            data,
            opts,
            scopes: vec![HashMap::new()],
            windowed: HashMap::new(),
            depth: 0,
            rows_scanned: 0,
            pack_columns: None,
            budget: super::budget::current(),
            deadline: std::time::Instant::now() + super::budget::current().query_time,
            calls: 0,
        }
    }

    /// Run under `b` instead of the process's budget.
    pub fn with_budget(mut self, b: super::budget::Budget) -> Exec<'a> {
        self.budget = b;
        self.deadline = std::time::Instant::now() + b.query_time;
        self
    }

    /// The rows, estimated size and time budget for a table about to be (or just) made.
    fn check_table(&self, rows: usize, cols: usize, what: &str) -> R<()> {
        if rows > self.budget.max_rows {
            return Err(super::budget::exceeded(format!(
                "{what} makes {rows} rows, over {}",
                self.budget.max_rows
            )));
        }
        let bytes = rows as u64 * cols.max(1) as u64 * super::budget::VALUE_BYTES;
        if bytes > self.budget.max_bytes {
            return Err(super::budget::exceeded(format!(
                "{what} makes about {} MB of values, over {} MB",
                bytes / (1024 * 1024),
                self.budget.max_bytes / (1024 * 1024)
            )));
        }
        self.check_time()
    }

    fn check_time(&self) -> R<()> {
        if std::time::Instant::now() > self.deadline {
            return Err(super::budget::exceeded(format!(
                "it ran longer than {} s",
                self.budget.query_time.as_secs_f64()
            )));
        }
        Ok(())
    }

    /// Count one evaluation of a function body.
    fn count_call(&mut self, name: &str) -> R<()> {
        self.calls += 1;
        if self.calls > self.budget.max_calls {
            return Err(super::budget::exceeded(format!(
                "more than {} function calls (the last to `{name}`)",
                self.budget.max_calls
            )));
        }
        self.check_time()
    }

    /// Run a query's statements; the result is the last tabular statement.
    pub fn run(&mut self, q: &Query) -> R<Table> {
        let t = self.statements(&q.statements)?;
        t.map(|t| (*t).clone())
            .ok_or_else(|| EngineError::new("the query has no tabular result", None))
    }

    fn statements(&mut self, stmts: &[Stmt]) -> R<Option<Arc<Table>>> {
        let mut result = None;
        for s in stmts {
            match s {
                Stmt::Let(name, e) => {
                    let b = match self.any(e) {
                        Ok(Ok(t)) => Binding::Table(t),
                        Ok(Err(v)) => Binding::Scalar(v),
                        Err(err) => Binding::Failed(err),
                    };
                    self.bind(name, b);
                }
                Stmt::Func(name, f) => self.bind(name, Binding::Func(f.clone())),
                Stmt::Expr(e) => {
                    result = Some(self.tabular(e)?);
                }
            }
        }
        Ok(result)
    }

    fn bind(&mut self, name: &str, b: Binding) {
        self.scopes
            .last_mut()
            .expect("a scope")
            .insert(name.to_string(), b);
    }

    /// The names of the views (`let V = view () {...}`) in scope, sorted: `union V*` and
    /// `search` read them as tables.
    fn view_names(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .scopes
            .iter()
            .flat_map(|s| s.iter())
            .filter(|(_, b)| matches!(b, Binding::Func(f) if f.is_view))
            .map(|(n, _)| n.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// Evaluate an expression that may be tabular (`Ok`) or scalar (`Err` holds the value).
    fn any(&mut self, e: &Expr) -> R<Result<Arc<Table>, Value>> {
        match e {
            Expr::Pipe(..) | Expr::Source(_) => self.tabular(e).map(Ok),
            Expr::Name(n, span) => match self.lookup(n).cloned() {
                Some(Binding::Scalar(v)) => Ok(Err(v)),
                Some(Binding::Table(t)) => Ok(Ok(t)),
                Some(Binding::Failed(err)) => Err(err),
                Some(Binding::Func(f)) if !self.returns_table(&f) => self.scalar(e).map(Err),
                Some(Binding::Func(_)) => self.tabular(e).map(Ok),
                None => self
                    .tabular(e)
                    .map(Ok)
                    .map_err(|_| EngineError::new(format!("unknown name `{n}`"), Some(*span))),
            },
            Expr::Call(name, _, _) if self.is_tabular_call(name) => self.tabular(e).map(Ok),
            _ => self.scalar(e).map(Err),
        }
    }

    fn is_tabular_call(&self, name: &str) -> bool {
        matches!(
            name,
            "materialize" | "_GetWatchlist" | "table" | "view" | "union"
        ) || matches!(self.lookup(name), Some(Binding::Func(f)) if self.returns_table(f))
            || (self.lookup(name).is_none() && self.data.function(name).is_some())
    }

    /// Whether a let-defined function returns a table (its last statement is a query, a
    /// table, or has a tabular parameter); otherwise it is a scalar function.
    fn returns_table(&self, f: &FuncDef) -> bool {
        if f.params.iter().any(|p| p.ty.is_none()) {
            return true;
        }
        match f.body.iter().rev().find_map(|s| match s {
            Stmt::Expr(e) => Some(e),
            _ => None,
        }) {
            Some(Expr::Pipe(..) | Expr::Source(_)) => true,
            Some(Expr::Name(n, _)) => {
                matches!(self.lookup(n), Some(Binding::Table(_)))
                    || self.data.table(n).is_some()
                    || f.body.iter().any(
                        |s| matches!(s, Stmt::Let(l, Expr::Pipe(..) | Expr::Source(_)) if l == n),
                    )
            }
            Some(Expr::Call(c, _, _)) => {
                matches!(
                    c.as_str(),
                    "materialize" | "_GetWatchlist" | "table" | "view"
                )
            }
            _ => false,
        }
    }

    /// A call of a scalar function defined with `let f = (a:long, ...) { ... }`: the body
    /// is evaluated over the rows with each parameter bound to its argument's values.
    fn scalar_function_call(
        &mut self,
        name: &str,
        func: &FuncDef,
        args: &[Expr],
        t: &Table,
        span: Span,
    ) -> R<Cv> {
        self.count_call(name)?;
        let n = t.rows;
        let mut cols: Vec<Column> = t.columns.clone();
        for (i, p) in func.params.iter().enumerate() {
            let cv = match (args.get(i), &p.default) {
                (Some(a), _) => self.eval(a, t)?,
                (None, Some(d)) => self.eval(d, t)?,
                (None, None) => {
                    return Err(EngineError::new(
                        format!("`{name}` is missing the argument `{}`", p.name),
                        Some(span),
                    ))
                }
            };
            let ty = p.ty.unwrap_or(Type::Unknown);
            let data: Vec<Value> = (0..n)
                .map(|k| {
                    let v = cv.get(k).clone();
                    if ty == Type::Unknown {
                        v
                    } else {
                        v.cast(ty)
                    }
                })
                .collect();
            let ty = if ty == Type::Unknown {
                data.iter()
                    .find(|v| !v.is_null())
                    .map(|v| v.type_of())
                    .unwrap_or(Type::Unknown)
            } else {
                ty
            };
            cols.retain(|c| c.name != p.name);
            cols.push(Column::new(p.name.clone(), ty, data));
        }
        let mut t2 = Table {
            columns: cols,
            rows: n,
        };
        self.scopes.push(HashMap::new());
        let mut result = Ok(Cv::Const(Value::Null));
        for st in &func.body {
            match st {
                Stmt::Let(l, e) => match self.eval(e, &t2) {
                    Ok(Cv::Const(v)) => self.bind(l, Binding::Scalar(v)),
                    Ok(cv) => {
                        let data: Vec<Value> = (0..n).map(|k| cv.get(k).clone()).collect();
                        let ty = data
                            .iter()
                            .find(|v| !v.is_null())
                            .map(|v| v.type_of())
                            .unwrap_or(Type::Unknown);
                        t2.columns.retain(|c| &c.name != l);
                        t2.columns.push(Column::new(l.clone(), ty, data));
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                },
                Stmt::Func(f, d) => self.bind(f, Binding::Func(d.clone())),
                Stmt::Expr(e) => result = self.eval(e, &t2),
            }
        }
        self.scopes.pop();
        result
    }

    /// A scalar expression evaluated once (no row).
    pub fn scalar(&mut self, e: &Expr) -> R<Value> {
        let one = Table {
            columns: Vec::new(),
            rows: 1,
        };
        Ok(self.eval(e, &one)?.get(0).clone())
    }

    // ---- tabular expressions ----

    pub fn tabular(&mut self, e: &Expr) -> R<Arc<Table>> {
        self.depth += 1;
        if self.depth > 100 {
            self.depth -= 1;
            return Err(EngineError::new("the query nests too deeply", None));
        }
        // A subquery's `pack_all()` packs its own rows' columns, not an enclosing extend's.
        let pack = self.pack_columns.take();
        let r = self.tabular_inner(e);
        self.pack_columns = pack;
        self.depth -= 1;
        r
    }

    fn tabular_inner(&mut self, e: &Expr) -> R<Arc<Table>> {
        match e {
            Expr::Pipe(source, ops) => {
                let mut t = self.tabular(source)?;
                for (i, op) in ops.iter().enumerate() {
                    // `where` followed by an operator that reads known columns only copies
                    // those columns (projection pushdown).
                    if let (Op::Where(pred), Some(next)) = (op, ops.get(i + 1)) {
                        if let Some(cols) = columns_read(next) {
                            t = Arc::new(self.where_keep(&t, pred, Some(&cols))?);
                            continue;
                        }
                    }
                    // A `where` right after `join kind=innerunique` that reads only left
                    // columns filters the left side before its keys are deduplicated, as
                    // Kusto does (the join-innerunique page's example); the `where` still runs
                    // after the join.
                    if let (
                        Op::Join {
                            kind: JoinKind::InnerUnique,
                            ..
                        },
                        Some(Op::Where(pred)),
                    ) = (op, ops.get(i + 1))
                    {
                        let mut read = std::collections::BTreeSet::new();
                        if names_read(pred, &mut read)
                            && !read.is_empty()
                            && read.iter().all(|c| t.column(c).is_some())
                        {
                            t = Arc::new(self.where_keep(&t, pred, None)?);
                        }
                    }
                    t = Arc::new(self.op(t, op)?);
                    self.check_table(t.rows, t.columns.len(), "an operator")?;
                }
                Ok(t)
            }
            Expr::Source(op) => Ok(Arc::new(self.op(Arc::new(Table::default()), op)?)),
            Expr::Name(n, span) => self.named_table(n, *span),
            Expr::Call(name, args, span) => self.tabular_call(name, args, *span, None),
            Expr::Unsupported(what, span) => Err(EngineError::unsupported(what, Some(*span))),
            _ => Err(EngineError::new(
                "a scalar expression where a table is expected",
                None,
            )),
        }
    }

    fn named_table(&mut self, n: &str, span: Span) -> R<Arc<Table>> {
        match self.lookup(n).cloned() {
            Some(Binding::Table(t)) => return Ok(t),
            Some(Binding::Failed(err)) => return Err(err),
            Some(Binding::Scalar(_)) => {
                return Err(EngineError::new(
                    format!("`{n}` is a scalar, not a table"),
                    Some(span),
                ))
            }
            Some(Binding::Func(_)) => return self.tabular_call(n, &[], span, None),
            None => {}
        }
        if let Some(t) = self.windowed.get(n) {
            return Ok(t.clone());
        }
        if let Some(t) = self.data.table(n) {
            // The index is built (once per table) only for windowed runs.
            let ix = self.opts.window.and_then(|_| self.data.time_index(n));
            let t = match (self.opts.window, ix) {
                (Some((start, end)), Some(ix)) if ix.rows == t.rows => {
                    let idx = ix.window(start, end);
                    if idx.len() == t.rows {
                        t
                    } else {
                        Arc::new(t.take(&idx))
                    }
                }
                _ => self.apply_window(t),
            };
            self.rows_scanned += t.rows as u64;
            self.windowed.insert(n.to_string(), t.clone());
            return Ok(t);
        }
        if self.data.function(n).is_some() {
            return self.tabular_call(n, &[], span, None);
        }
        Err(EngineError::new(self.data.missing_table(n), Some(span)))
    }

    fn apply_window(&self, t: Arc<Table>) -> Arc<Table> {
        let Some((start, end)) = self.opts.window else {
            return t;
        };
        let Some(col) = t.column("TimeGenerated") else {
            return t;
        };
        let idx: Vec<usize> = col
            .data
            .iter()
            .enumerate()
            .filter(|(_, v)| matches!(v, Value::DateTime(x) if *x >= start && *x < end))
            .map(|(i, _)| i)
            .collect();
        if idx.len() == t.rows {
            t
        } else {
            Arc::new(t.take(&idx))
        }
    }

    /// A call of a function that returns a table: a let function, a stored function, or a
    /// tabular built-in. `input` is the piped table for `invoke`.
    fn tabular_call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        input: Option<Arc<Table>>,
    ) -> R<Arc<Table>> {
        match name {
            "materialize" | "view" => {
                let a = args.first().ok_or_else(|| {
                    EngineError::new(format!("{name}() needs a table"), Some(span))
                })?;
                return self.tabular(a);
            }
            "table" => {
                let n = match args.first() {
                    Some(a) => self.scalar(a)?.to_kusto_string(),
                    None => return Err(EngineError::new("table() needs a name", Some(span))),
                };
                return self.named_table(&n, span);
            }
            "_GetWatchlist" => {
                let alias = match args.first() {
                    Some(a) => self.scalar(a)?.to_kusto_string(),
                    None => {
                        return Err(EngineError::new(
                            "_GetWatchlist() needs an alias",
                            Some(span),
                        ))
                    }
                };
                return self.data.watchlist(&alias).ok_or_else(|| {
                    EngineError::new(
                        format!("no watchlist `{alias}` in the repository"),
                        Some(span),
                    )
                });
            }
            _ => {}
        }
        let func = match self.lookup(name).cloned() {
            Some(Binding::Func(f)) => f,
            _ => match self.data.function(name) {
                Some(sf) => Rc::new(stored_function(name, &sf, self.data.catalog())?),
                None => {
                    return Err(EngineError::new(
                        format!("`{name}` is not a function that returns a table"),
                        Some(span),
                    ))
                }
            },
        };
        self.count_call(name)?;
        let mut scope = HashMap::new();
        let mut args_iter = args.iter();
        let mut input = input;
        for p in &func.params {
            if p.ty.is_none() {
                // A tabular parameter: the piped input, or the next argument.
                let t = match input.take() {
                    Some(t) => t,
                    None => match args_iter.next() {
                        Some(a) => self.tabular(a)?,
                        None => {
                            return Err(EngineError::new(
                                format!("`{name}` needs a table for `{}`", p.name),
                                Some(span),
                            ))
                        }
                    },
                };
                scope.insert(p.name.clone(), Binding::Table(t));
                continue;
            }
            let v = match args_iter.next() {
                Some(a) => match self.any(a)? {
                    Ok(t) => Binding::Table(t),
                    Err(v) => Binding::Scalar(v),
                },
                None => match &p.default {
                    Some(d) => Binding::Scalar(self.scalar(d)?),
                    None => {
                        return Err(EngineError::new(
                            format!("`{name}` is missing the argument `{}`", p.name),
                            Some(span),
                        ))
                    }
                },
            };
            let v = match (v, p.ty) {
                (Binding::Scalar(v), Some(ty)) if ty != Type::Unknown => {
                    Binding::Scalar(v.cast(ty))
                }
                (v, _) => v,
            };
            scope.insert(p.name.clone(), v);
        }
        self.scopes.push(scope);
        let r = self.statements(&func.body);
        self.scopes.pop();
        r?.ok_or_else(|| EngineError::new(format!("`{name}` returns no table"), Some(span)))
    }

    // ---- operators ----

    fn op(&mut self, t: Arc<Table>, op: &Op) -> R<Table> {
        match op {
            Op::Where(pred) => self.where_(&t, pred),
            Op::Chain(ops) => {
                let mut cur = t;
                for op in ops {
                    cur = Arc::new(self.op(cur, op)?);
                }
                Ok(Arc::unwrap_or_clone(cur))
            }
            Op::Search { predicate, table } => {
                let found = self.where_(&t, predicate)?;
                let rest = without_column(&found, "$table");
                let mut columns = vec![Column {
                    name: "$table".into(),
                    ty: Type::String,
                    data: Data::dict(vec![0; rest.rows], vec![Value::string(table.clone())]),
                }];
                columns.extend(rest.columns);
                Ok(Table {
                    columns,
                    rows: rest.rows,
                })
            }
            Op::Scan {
                match_id,
                declare,
                steps,
            } => self.scan(&t, match_id.as_deref(), declare, steps),
            Op::Project(items) => self.project(&t, items),
            Op::Extend(items) | Op::Serialize(items) => self.extend(&t, items),
            Op::ProjectAway(pats) => Ok(Table {
                columns: t
                    .columns
                    .iter()
                    .filter(|c| !pats.iter().any(|p| glob(p, &c.name)))
                    .cloned()
                    .collect(),
                rows: t.rows,
            }),
            Op::ProjectKeep(pats) => Ok(Table {
                columns: t
                    .columns
                    .iter()
                    .filter(|c| pats.iter().any(|p| glob(p, &c.name)))
                    .cloned()
                    .collect(),
                rows: t.rows,
            }),
            Op::ProjectReorder(pats) => {
                let mut first = Vec::new();
                let mut used = vec![false; t.columns.len()];
                for (p, order) in pats {
                    let mut matched = Vec::new();
                    for (i, c) in t.columns.iter().enumerate() {
                        if !used[i] && glob(p, &c.name) {
                            used[i] = true;
                            matched.push(c.clone());
                        }
                    }
                    if let Some(o) = order {
                        matched.sort_by(|a, b| {
                            let ord = if o.granny {
                                granny_cmp(&a.name, &b.name)
                            } else {
                                a.name.cmp(&b.name)
                            };
                            if o.desc {
                                ord.reverse()
                            } else {
                                ord
                            }
                        });
                    }
                    first.extend(matched);
                }
                for (i, c) in t.columns.iter().enumerate() {
                    if !used[i] {
                        first.push(c.clone());
                    }
                }
                Ok(Table {
                    columns: first,
                    rows: t.rows,
                })
            }
            Op::ProjectRename(pairs) => {
                let mut out = (*t).clone();
                for (new, old) in pairs {
                    let i = out.index_of(old).ok_or_else(|| {
                        EngineError::new(format!("no column `{old}` to rename"), None)
                    })?;
                    out.columns[i].name = new.clone();
                }
                Ok(out)
            }
            Op::Summarize { aggs, by } => self.summarize(&t, aggs, by),
            Op::Join {
                kind,
                right,
                on,
                span,
            } => {
                let r = self.tabular(right)?;
                self.join(&t, &r, *kind, on, *span, false)
            }
            Op::Lookup {
                left_outer,
                right,
                on,
                span,
            } => {
                let r = self.tabular(right)?;
                let kind = if *left_outer {
                    JoinKind::LeftOuter
                } else {
                    JoinKind::Inner
                };
                self.join(&t, &r, kind, on, *span, true)
            }
            Op::Union {
                tables,
                source_column,
                outer,
                fuzzy,
            } => self.union_op(&t, tables, source_column, outer, fuzzy),
            Op::Take(n) => {
                let n = self.scalar(n)?.as_i64().unwrap_or(0).max(0) as usize;
                if n >= t.rows {
                    return Ok((*t).clone());
                }
                Ok(t.take(&(0..n).collect::<Vec<_>>()))
            }
            Op::Sort(keys) => {
                let idx = self.sorted(&t, keys)?;
                Ok(t.take(&idx))
            }
            Op::Top(n, keys) => {
                let n = self.scalar(n)?.as_i64().unwrap_or(0).max(0) as usize;
                let mut idx = self.sorted(&t, keys)?;
                idx.truncate(n);
                Ok(t.take(&idx))
            }
            Op::Distinct(items) => {
                if items.len() == 1 && matches!(items[0].expr, Expr::Star) {
                    let by: Vec<Assign> = t
                        .columns
                        .iter()
                        .map(|c| Assign {
                            names: vec![c.name.clone()],
                            expr: Expr::Name(c.name.clone(), Span::default()),
                            ty: None,
                        })
                        .collect();
                    return self.summarize(&t, &[], &by);
                }
                self.summarize(&t, &[], items)
            }
            Op::Count => Ok(Table::new(vec![Column::new(
                "Count",
                Type::Long,
                vec![Value::Long(t.rows as i64)],
            )])),
            Op::MvExpand {
                items,
                index,
                limit,
                bag_as_array,
            } => self.mv_expand(&t, items, index.as_deref(), limit.as_ref(), *bag_as_array),
            Op::MvApply {
                items,
                index,
                limit,
                ops,
            } => self.mv_apply(&t, items, index.as_deref(), limit.as_ref(), ops),
            Op::Parse {
                expr,
                regex,
                relaxed,
                flags,
                pattern,
                keep_unmatched,
            } => self.parse(&t, expr, *regex, *relaxed, flags, pattern, *keep_unmatched),
            Op::ParseKv {
                expr,
                columns,
                options,
            } => self.parse_kv(&t, expr, columns, options),
            Op::Partition { by, ops } => self.partition(&t, by, ops),
            Op::TopNested(levels) => self.top_nested(&t, levels),
            Op::Find {
                tables,
                source_column,
                predicate,
                project,
            } => self.find(tables, source_column, predicate, project.as_deref()),
            Op::MakeSeries(ms) => self.make_series(&t, ms),
            Op::Evaluate(name, args, span, schema) => {
                self.evaluate(&t, name, args, *span, schema.as_deref())
            }
            Op::As(name) => {
                self.bind(name, Binding::Table(t.clone()));
                Ok((*t).clone())
            }
            Op::Invoke(name, args, span) => {
                Ok((*self.tabular_call(name, args, *span, Some(t.clone()))?).clone())
            }
            Op::GetSchema => self.get_schema_op(&t),
            Op::NoOp => Ok((*t).clone()),
            Op::Print(items) => self.print_op(items),
            Op::Range {
                name,
                from,
                to,
                step,
            } => self.range_op(name, from, to, step),
            Op::Datatable { columns, values } => self.datatable_op(columns, values),
            Op::ExternalData {
                columns,
                urls,
                format,
                skip_first,
            } => self.external_data_op(columns, urls, format, skip_first),
            Op::Unsupported(what, span) => Err(EngineError::unsupported(what, Some(*span))),
        }
    }

    /// Run the `union` operator: the input (as a pipe operator) and each table, columns by
    /// name (`union_columns`).
    fn union_op(
        &mut self,
        t: &Arc<Table>,
        tables: &[Expr],
        source_column: &Option<String>,
        outer: &bool,
        fuzzy: &bool,
    ) -> R<Table> {
        let mut parts: Vec<(String, Arc<Table>)> = Vec::new();
        // As a pipe operator the input is the first table; as a source it is empty.
        if !t.columns.is_empty() || t.rows > 0 {
            parts.push(("union_arg0".into(), t.clone()));
        }
        // `union *` / `union T*`: every matching table of the data source.
        let mut expanded: Vec<Expr> = Vec::new();
        for e in tables {
            let pat = match e {
                Expr::Star => Some("*".to_string()),
                Expr::Wildcard(p) => Some(p.clone()),
                _ => None,
            };
            match pat {
                Some(p) => expanded.extend(
                    self.data
                        .table_names()
                        .into_iter()
                        .chain(self.view_names())
                        .filter(|n| glob(&p, n))
                        .map(|n| Expr::Name(n, Span::default())),
                ),
                None => expanded.push(e.clone()),
            }
        }
        for (i, e) in expanded.iter().enumerate() {
            let label = match e {
                Expr::Name(n, _) => n.clone(),
                _ => format!("union_arg{}", i + parts.len()),
            };
            match self.tabular(e) {
                Ok(t) => parts.push((label, t)),
                Err(_) if *fuzzy => {}
                Err(err) => return Err(err),
            }
        }
        Ok(union(&parts, source_column.as_deref(), *outer))
    }

    /// Run `getschema`: the input's columns as rows.
    fn get_schema_op(&mut self, t: &Arc<Table>) -> R<Table> {
        let n = t.columns.len();
        Ok(Table::new(vec![
            Column::new(
                "ColumnName",
                Type::String,
                t.columns.iter().map(|c| Value::str(&c.name)).collect(),
            ),
            Column::new(
                "ColumnOrdinal",
                Type::Int,
                (0..n).map(|i| Value::Long(i as i64)).collect(),
            ),
            Column::new(
                "DataType",
                Type::String,
                t.columns
                    .iter()
                    .map(|c| Value::str(clr_type(c.ty)))
                    .collect(),
            ),
            Column::new(
                "ColumnType",
                Type::String,
                t.columns.iter().map(|c| Value::str(c.ty.name())).collect(),
            ),
        ]))
    }

    /// Run the `print` source: one row.
    fn print_op(&mut self, items: &[Assign]) -> R<Table> {
        let one = Table {
            columns: Vec::new(),
            rows: 1,
        };
        let mut out = Table {
            columns: Vec::new(),
            rows: 1,
        };
        for (i, a) in items.iter().enumerate() {
            if a.names.len() > 1 {
                for c in self.assign_columns(&one, a)? {
                    out.set(c);
                }
                continue;
            }
            let v = self.eval(&a.expr, &one)?.get(0).clone();
            let name = a
                .names
                .first()
                .cloned()
                .unwrap_or_else(|| format!("print_{i}"));
            let ty = match self.assign_type(a, &one) {
                Type::Unknown => v.type_of(),
                st => st,
            };
            out.set(Column::new(name, ty, vec![v]));
        }
        Ok(out)
    }

    /// Run the `range` source.
    fn range_op(&mut self, name: &str, from: &Expr, to: &Expr, step: &Expr) -> R<Table> {
        let (from, to, step) = (self.scalar(from)?, self.scalar(to)?, self.scalar(step)?);
        // Kusto: a positive step counts up to `to`, a negative one down to it; the
        // wrong direction gives no rows; a zero step is an error.
        let zero = match &step {
            Value::TimeSpan(_) => Value::TimeSpan(0),
            Value::Real(_) => Value::Real(0.0),
            _ => Value::Long(0),
        };
        let up = match compare(&step, &zero) {
            Some(std::cmp::Ordering::Greater) => true,
            Some(std::cmp::Ordering::Less) => false,
            Some(std::cmp::Ordering::Equal) => {
                return Err(EngineError::new("range: the step must not be zero", None))
            }
            None => {
                return Err(EngineError::new(
                    "range: the step must be a number or a timespan",
                    None,
                ))
            }
        };
        // The row count first, so a range over the budget is refused before it is built.
        let count = range_count(&from, &to, &step, up);
        if let Some(c) = count {
            self.check_table(c.min(usize::MAX as u128) as usize, 1, "range")?;
        }
        // The column's type is the binder's rule (`catalog::range_type`): `range x from 1 to
        // 3 step 0.5` is real from its first value.
        let ty = crate::kql::catalog::range_type(from.type_of(), to.type_of(), step.type_of());
        let mut data = Vec::new();
        let mut cur = from.cast(ty);
        loop {
            match compare(&cur, &to) {
                Some(std::cmp::Ordering::Greater) if up => break,
                Some(std::cmp::Ordering::Less) if !up => break,
                None => break,
                _ => {}
            }
            if data.len() >= self.budget.max_rows {
                return Err(super::budget::exceeded(format!(
                    "range makes more than {} rows",
                    self.budget.max_rows
                )));
            }
            data.push(cur.clone());
            cur = functions::add(&cur, &step);
            if cur.is_null() {
                break;
            }
        }
        Ok(Table::new(vec![Column::new(name.to_string(), ty, data)]))
    }

    /// Run the `datatable` source.
    fn datatable_op(&mut self, columns: &[(String, Type)], values: &[Expr]) -> R<Table> {
        if columns.is_empty() {
            return Err(EngineError::new("datatable without columns", None));
        }
        let mut data: Vec<Vec<Value>> = vec![Vec::new(); columns.len()];
        for (i, v) in values.iter().enumerate() {
            let v = self.scalar(v)?;
            let c = i % columns.len();
            data[c].push(v.cast(columns[c].1));
        }
        let rows = data[0].len();
        for d in data.iter_mut() {
            d.resize(rows, Value::Null);
        }
        Ok(Table::new(
            columns
                .iter()
                .zip(data)
                .map(|((n, t), d)| Column::new(n.clone(), *t, d))
                .collect(),
        ))
    }

    /// Run the `externaldata` source, read through the data source (sandbox files, never the
    /// network).
    fn external_data_op(
        &mut self,
        columns: &[(String, Type)],
        urls: &[String],
        format: &str,
        skip_first: &bool,
    ) -> R<Table> {
        let mut rows: Vec<Vec<(String, Value)>> = Vec::new();
        for url in urls {
            let text = match self.data.external(url) {
                Some(Ok(t)) => t,
                Some(Err(e)) => return Err(EngineError::new(e, None)),
                None => {
                    return Err(EngineError::unsupported(
                        format!("externaldata from {url} without a local copy (put the file in the sandbox's externaldata/ folder)"),
                        None,
                    ))
                }
            };
            match format {
                "csv" | "txt" | "tsv" | "psv" => {
                    let text = match format {
                        "tsv" => text.replace('\t', ","),
                        "psv" => text.replace('|', ","),
                        _ => text,
                    };
                    let recs = if format == "txt" {
                        text.lines().map(|l| vec![l.to_string()]).collect()
                    } else {
                        crate::csv::parse(&text).map_err(|e| {
                            EngineError::new(format!("{url}: line {}: {}", e.line, e.message), None)
                        })?
                    };
                    for (i, r) in recs.into_iter().enumerate() {
                        if i == 0 && *skip_first {
                            continue;
                        }
                        rows.push(
                            columns
                                .iter()
                                .zip(
                                    r.into_iter()
                                        .map(Value::string)
                                        .chain(std::iter::repeat(Value::Null)),
                                )
                                .map(|((n, _), v)| (n.clone(), v))
                                .collect(),
                        );
                    }
                }
                "json" | "multijson" => {
                    // `json` is one record per line; `multijson` a stream of records,
                    // each possibly over many lines, where an array is its elements.
                    let mut records: Vec<serde_json::Value> = Vec::new();
                    let bad = |e: serde_json::Error| EngineError::new(format!("{url}: {e}"), None);
                    if format == "json" {
                        for line in text.lines().filter(|l| !l.trim().is_empty()) {
                            records.push(serde_json::from_str(line).map_err(bad)?);
                        }
                    } else {
                        let stream = serde_json::Deserializer::from_str(&text)
                            .into_iter::<serde_json::Value>();
                        for v in stream {
                            match v.map_err(bad)? {
                                serde_json::Value::Array(xs) => records.extend(xs),
                                v => records.push(v),
                            }
                        }
                    }
                    for v in records {
                        rows.push(
                            columns
                                .iter()
                                .map(|(n, _)| {
                                    (
                                        n.clone(),
                                        v.get(n)
                                            .map(|x| Value::dynamic(x.clone()).unwrap_dynamic())
                                            .unwrap_or(Value::Null),
                                    )
                                })
                                .collect(),
                        );
                    }
                }
                other => {
                    return Err(EngineError::unsupported(
                        format!("externaldata format {other}"),
                        None,
                    ))
                }
            }
        }
        self.rows_scanned += rows.len() as u64;
        Ok(super::data::rows_to_table(rows, Some(columns)))
    }

    /// `scan`, by its page's matching logic: each record is checked against the steps from
    /// the last to the first. Step k matches when the state of step k-1 is active and the
    /// record meets k's condition (that state moves to k; check 1), or else when k's own state
    /// is active, or k is the first step, and the record meets the condition (check 2; a
    /// first step with no active state starts a sequence with the next match id). A match
    /// computes the step's assignments, stores the extended record as k's row of the state and
    /// outputs it per `output=` (`last` keeps the last of a step's repeated matches).
    /// Conditions and assignments see the record, its declared columns and `step.column` for
    /// every step of the state they are checked against (declared defaults or nulls where a
    /// step has no row).
    fn scan(
        &mut self,
        t: &Table,
        match_id: Option<&str>,
        declare: &[(String, Type, Option<Expr>)],
        steps: &[ScanStep],
    ) -> R<Table> {
        #[derive(Clone)]
        struct State {
            rows: Vec<Option<Vec<Value>>>,
            id: i64,
        }
        let n = steps.len();
        let mut schema: Vec<(String, Type)> =
            t.columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
        let width_in = schema.len();
        let mut defaults: Vec<Value> = vec![Value::Null; width_in];
        for (name, ty, default) in declare {
            let v = match default {
                Some(e) => self.scalar(e)?.cast(*ty),
                None => Value::Null,
            };
            schema.push((name.clone(), *ty));
            defaults.push(v);
        }
        // Only the names the steps read go into each record's one-row table (a wide table
        // times the steps would otherwise be copied for every record), unless a step reads
        // columns it does not name (`pack_all()`, `*`).
        let exprs: Vec<&Expr> = steps
            .iter()
            .flat_map(|s| std::iter::once(&s.cond).chain(s.assigns.iter().map(|(_, e)| e)))
            .collect();
        let mut used = std::collections::BTreeSet::new();
        let named = exprs.iter().all(|e| names_read(e, &mut used));
        for e in &exprs {
            every_name(e, &mut used);
        }
        // State references are always named (`s1.x`), so only the record's own columns can be
        // read without being named; `pack_all()` sees the record, never the state.
        let wanted = |name: &str| used.contains(name);
        let own: Vec<usize> = (0..schema.len())
            .filter(|&c| !named || wanted(&schema[c].0))
            .collect();
        // (step, column, `step.column`) for the state references read.
        let refs: Vec<(usize, usize, String)> = steps
            .iter()
            .enumerate()
            .flat_map(|(j, step)| {
                schema
                    .iter()
                    .enumerate()
                    .map(move |(c, (name, _))| (j, c, format!("{}.{name}", step.name)))
            })
            .filter(|(_, _, full)| wanted(full))
            .collect();
        // The record's columns as a one-row table; the state references as scalars in a
        // scope, so that `pack_all()` sees the record, never the state.
        let env = |rec: &[Value], st: Option<&State>| -> (Table, HashMap<String, Binding>) {
            let cols = own
                .iter()
                .map(|&c| Column::new(schema[c].0.clone(), schema[c].1, vec![rec[c].clone()]))
                .collect();
            let scope = refs
                .iter()
                .map(|(j, c, full)| {
                    let row = st.and_then(|s| s.rows[*j].as_ref());
                    let v = row.map_or_else(|| defaults[*c].clone(), |r| r[*c].clone());
                    (full.clone(), Binding::Scalar(v))
                })
                .collect();
            (
                Table {
                    columns: cols,
                    rows: 1,
                },
                scope,
            )
        };
        let mut state: Vec<Option<State>> = vec![None; n];
        let mut last_out: Vec<Option<usize>> = vec![None; n];
        let mut out: Vec<(Vec<Value>, i64)> = Vec::new();
        let mut next_id = 0i64;
        for i in 0..t.rows {
            if i % 1024 == 0 {
                self.check_time()?;
            }
            let mut rec: Vec<Value> = t.columns.iter().map(|c| c.data.get(i).clone()).collect();
            rec.extend(defaults[width_in..].iter().cloned());
            for k in (0..n).rev() {
                let step = &steps[k];
                // Check 1: the previous step's state moves to this step.
                let mut matched = false;
                if k > 0 {
                    if let Some(prev) = state[k - 1].as_ref() {
                        let (e, scope) = env(&rec, Some(prev));
                        if let Some(ext) = self.scan_try(step, e, scope, &schema, width_in, &rec)? {
                            let mut st = state[k - 1].take().expect("an active state");
                            st.rows[k] = Some(ext.clone());
                            last_out[k] = None;
                            if step.output != ScanOutput::None {
                                out.push((ext, st.id));
                                if step.output == ScanOutput::Last {
                                    last_out[k] = Some(out.len() - 1);
                                }
                            }
                            state[k] = Some(st);
                            matched = true;
                        }
                    }
                }
                // Check 2: this step's own active state, or a new sequence at the first step.
                if !matched && (state[k].is_some() || k == 0) {
                    let (e, scope) = env(&rec, state[k].as_ref());
                    if let Some(ext) = self.scan_try(step, e, scope, &schema, width_in, &rec)? {
                        let fresh = state[k].is_none();
                        let st = state[k].get_or_insert_with(|| {
                            next_id += 1;
                            State {
                                rows: vec![None; n],
                                id: next_id - 1,
                            }
                        });
                        st.rows[k] = Some(ext.clone());
                        let id = st.id;
                        match step.output {
                            ScanOutput::All => out.push((ext, id)),
                            ScanOutput::Last => match last_out[k].filter(|_| !fresh) {
                                Some(at) => out[at] = (ext, id),
                                None => {
                                    out.push((ext, id));
                                    last_out[k] = Some(out.len() - 1);
                                }
                            },
                            ScanOutput::None => {}
                        }
                    }
                }
            }
        }
        self.check_table(out.len(), schema.len() + 1, "scan")?;
        let mut columns: Vec<Column> = schema
            .iter()
            .enumerate()
            .map(|(c, (name, ty))| {
                Column::new(
                    name.clone(),
                    *ty,
                    out.iter().map(|(r, _)| r[c].clone()).collect(),
                )
            })
            .collect();
        if let Some(m) = match_id {
            columns.push(Column::new(
                m.to_string(),
                Type::Long,
                out.iter().map(|(_, id)| Value::Long(*id)).collect(),
            ));
        }
        Ok(Table {
            columns,
            rows: out.len(),
        })
    }

    /// A `scan` step against a record (`e`, with the state references in `scope`): `None`
    /// when its condition does not hold, else the record extended by its assignments.
    fn scan_try(
        &mut self,
        step: &ScanStep,
        e: Table,
        scope: HashMap<String, Binding>,
        schema: &[(String, Type)],
        width_in: usize,
        rec: &[Value],
    ) -> R<Option<Vec<Value>>> {
        self.scopes.push(scope);
        let r = match self.eval(&step.cond, &e) {
            Ok(c) if c.get(0).truthy() => {
                self.scan_assign(step, schema, width_in, rec, e).map(Some)
            }
            Ok(_) => Ok(None),
            Err(x) => Err(x),
        };
        self.scopes.pop();
        r
    }

    /// A `scan` step's assignments, in order (each sees the ones before it), over the record
    /// and the state in `e`; the extended record (input and declared columns).
    fn scan_assign(
        &mut self,
        step: &ScanStep,
        schema: &[(String, Type)],
        width_in: usize,
        rec: &[Value],
        mut e: Table,
    ) -> R<Vec<Value>> {
        let mut ext = rec.to_vec();
        for (name, expr) in &step.assigns {
            let v = self.eval(expr, &e)?.get(0).clone();
            let Some(c) = schema[width_in..]
                .iter()
                .position(|(n, _)| n == name)
                .map(|p| p + width_in)
            else {
                return Err(EngineError::new(
                    format!("scan: `{name}` is not a declared column"),
                    None,
                ));
            };
            let v = v.cast(schema[c].1);
            ext[c] = v.clone();
            if let Some(ix) = e.index_of(name) {
                e.columns[ix] = Column::new(name.clone(), schema[c].1, vec![v]);
            }
        }
        Ok(ext)
    }

    fn where_(&mut self, t: &Table, pred: &Expr) -> R<Table> {
        self.where_keep(t, pred, None)
    }

    /// `where`, copying only the `keep` columns when given.
    fn where_keep(
        &mut self,
        t: &Table,
        pred: &Expr,
        keep: Option<&std::collections::BTreeSet<String>>,
    ) -> R<Table> {
        let idx: Vec<usize> = match self.mask(pred, t)? {
            None => Vec::new(),
            Some(m) => m
                .iter()
                .enumerate()
                .filter(|(_, b)| **b)
                .map(|(i, _)| i)
                .collect(),
        };
        let src = match keep {
            Some(k) => Table {
                columns: t
                    .columns
                    .iter()
                    .filter(|c| k.contains(&c.name))
                    .cloned()
                    .collect(),
                rows: t.rows,
            },
            None => t.clone(),
        };
        if idx.len() == t.rows {
            Ok(src)
        } else {
            Ok(src.take(&idx))
        }
    }

    /// A predicate as booleans per row (`None`: no row passes). Comparisons of a column with
    /// a constant and `and`/`or` of them run as tight loops; anything else goes through
    /// [`Exec::eval`].
    fn mask(&mut self, pred: &Expr, t: &Table) -> R<Option<Vec<bool>>> {
        let n = t.rows;
        match pred {
            Expr::Bin(op @ (BinOp::And | BinOp::Or), a, b, _) => {
                let ma = self.mask(a, t)?;
                let mb = self.mask(b, t)?;
                let and = *op == BinOp::And;
                Ok(match (ma, mb) {
                    (None, None) => None,
                    (None, Some(m)) | (Some(m), None) => {
                        if and {
                            None
                        } else {
                            Some(m)
                        }
                    }
                    (Some(mut x), Some(y)) => {
                        for (p, q) in x.iter_mut().zip(y) {
                            *p = if and { *p && q } else { *p || q };
                        }
                        Some(x)
                    }
                })
            }
            Expr::Bin(op @ (BinOp::Eq | BinOp::Ne), a, b, _) => {
                if let (Expr::Name(col, _), Expr::Lit(k)) = (&**a, &**b) {
                    if let Some(c) = t.column(col) {
                        let eq = *op == BinOp::Eq;
                        let data = &c.data;
                        let m: Vec<bool> = match k {
                            Value::Long(k) => data.mask(|v| match v {
                                Value::Long(x) => (x == k) == eq,
                                // A null is not equal to a value (and is "not equal").
                                Value::Null => !eq,
                                other => equals(other, &Value::Long(*k))
                                    .map(|r| r == eq)
                                    .unwrap_or(false),
                            }),
                            Value::Str(k) => data.mask(|v| match v {
                                Value::Str(x) => (Arc::ptr_eq(x, k) || **x == **k) == eq,
                                other => equals(other, &Value::Str(k.clone()))
                                    .map(|r| r == eq)
                                    .unwrap_or(false),
                            }),
                            _ => return self.mask_eval(pred, t),
                        };
                        return Ok(Some(m));
                    }
                }
                self.mask_eval(pred, t)
            }
            _ => {
                let _ = n;
                self.mask_eval(pred, t)
            }
        }
    }

    fn mask_eval(&mut self, pred: &Expr, t: &Table) -> R<Option<Vec<bool>>> {
        Ok(match self.eval(pred, t)? {
            Cv::Const(v) => v.truthy().then(|| vec![true; t.rows]),
            Cv::Col(c) => Some(c.mask(|v| matches!(v, Value::Bool(true)))),
        })
    }

    fn project(&mut self, t: &Table, items: &[Assign]) -> R<Table> {
        let mut out = Table {
            columns: Vec::new(),
            rows: t.rows,
        };
        let mut unnamed = 0;
        for a in items {
            match &a.expr {
                Expr::Star => {
                    for c in &t.columns {
                        out.set(c.clone());
                    }
                    continue;
                }
                Expr::Wildcard(p) => {
                    for c in t.columns.iter().filter(|c| glob(p, &c.name)) {
                        out.set(c.clone());
                    }
                    continue;
                }
                _ => {}
            }
            for mut col in self.assign_columns(t, a)? {
                // `project Column1 = x, strcat(a, b)` → `Column1`, `Column11`: the generated
                // name counts unnamed items and is made unique, as Kusto.Language does.
                if col.name.is_empty() {
                    unnamed += 1;
                    col.name = unique_name(&out, &format!("Column{unnamed}"));
                }
                out.set(col);
            }
        }
        Ok(out)
    }

    fn extend(&mut self, t: &Table, items: &[Assign]) -> R<Table> {
        let mut out = t.clone();
        let mut unnamed = 0;
        let outer = self.pack_columns.replace(t.columns.len());
        for a in items {
            // Later items see earlier ones (but `pack_all()` only the input's columns).
            let cols = self.assign_columns(&out, a);
            let cols = match cols {
                Ok(c) => c,
                Err(e) => {
                    self.pack_columns = outer;
                    return Err(e);
                }
            };
            for mut col in cols {
                // `extend` skips the generated names its table already has (input `Column2`:
                // `Column1`, then `Column3`), as Kusto.Language does.
                if col.name.is_empty() {
                    col.name = loop {
                        unnamed += 1;
                        let n = format!("Column{unnamed}");
                        if out.index_of(&n).is_none() {
                            break n;
                        }
                    };
                }
                out.set(col);
            }
        }
        self.pack_columns = outer;
        Ok(out)
    }

    /// The type Kusto gives an expression before it runs (its result types are static, so an
    /// empty result still has typed columns): from the input's column types, literals,
    /// operators and the built-ins' declared return types (the binder's table and rules);
    /// Unknown where these cannot tell, and then the values decide.
    fn static_type(&self, e: &Expr, t: &Table) -> Type {
        use crate::kql::catalog::{
            arithmetic_type, conditional_type, typed_literal, BuiltinKind, Catalog,
        };
        match e {
            Expr::Lit(v) => v.type_of(),
            Expr::Name(n, _) => match t.column(n) {
                Some(c) => c.ty,
                None => match self.lookup(n) {
                    Some(Binding::Scalar(v)) => v.type_of(),
                    _ => Type::Unknown,
                },
            },
            Expr::Bin(op, l, r, _) => {
                let sym = match op {
                    BinOp::Add => "+",
                    BinOp::Sub => "-",
                    BinOp::Mul => "*",
                    BinOp::Div => "/",
                    BinOp::Mod => "%",
                    _ => return Type::Bool,
                };
                arithmetic_type(sym, self.static_type(l, t), self.static_type(r, t))
            }
            Expr::Not(_) | Expr::List(..) | Expr::Between(..) => Type::Bool,
            Expr::Neg(x) | Expr::Named(_, x) => self.static_type(x, t),
            Expr::Member(..) | Expr::Index(..) => Type::Dynamic,
            Expr::Call(name, args, _) => {
                let types: Vec<Type> = args.iter().map(|a| self.static_type(a, t)).collect();
                if let Some(t) = conditional_type(name, &types) {
                    return t;
                }
                if let Some(t) = typed_literal(name, args.len()) {
                    return t;
                }
                match name.as_str() {
                    "column_ifexists" => types.get(1).copied().unwrap_or(Type::Unknown),
                    "toscalar" => Type::Unknown,
                    // The type argument (`typeof(int)`, lowered to its name) decides.
                    "extractjson" | "extract_json" | "extract" => {
                        let at = if name == "extract" { 3 } else { 2 };
                        match args.get(at) {
                            Some(Expr::Lit(Value::Str(t))) => Type::parse(t),
                            _ => Type::String,
                        }
                    }
                    _ => {
                        let c = Catalog::embedded();
                        match c
                            .builtin(name, BuiltinKind::Scalar)
                            .or_else(|| c.builtin(name, BuiltinKind::Aggregate))
                            .or_else(|| c.builtin(name, BuiltinKind::Window))
                        {
                            Some(b) => b.result_type(&types),
                            None => Type::Unknown,
                        }
                    }
                }
            }
            _ => Type::Unknown,
        }
    }

    /// An assignment's static type: the binder's where it decided one (the bound plan), else
    /// [`Self::static_type`] from the same catalog rules, for expressions over tables the
    /// binder does not know.
    fn assign_type(&self, a: &Assign, t: &Table) -> Type {
        match a.ty {
            Some(ty) => ty,
            None => self.static_type(&a.expr, t),
        }
    }

    /// The columns of one item of `project` or `extend`; an unnamed expression's column has an
    /// empty name, which the caller generates (`ColumnN`) by its operator's rule.
    fn assign_columns(&mut self, t: &Table, a: &Assign) -> R<Vec<Column>> {
        let cv = self.eval(&a.expr, t)?;
        let ty = Some(self.assign_type(a, t)).filter(|t| *t != Type::Unknown);
        let data = cv.into_data(t.rows);
        let name = a.names.first().cloned().unwrap_or_default();
        if a.names.len() > 1 {
            // `(a, b) = f(...)`: the function returns an array; its parts' types are declared.
            let parts = match &a.expr {
                Expr::Call(f, _, _) => crate::kql::view::tuple_parts(f).map(|p| (f, p)),
                _ => None,
            };
            return Ok(a
                .names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    let d: Vec<Value> = data.iter().map(|v| member(v, k)).collect();
                    match parts.and_then(|(f, p)| p.get(k).map(|p| (f, p))) {
                        Some((f, p)) => {
                            let ty = crate::kql::view::tuple_part_type(f, p);
                            let d = d.into_iter().map(|v| v.cast(ty)).collect();
                            Column::new(n.clone(), ty, d)
                        }
                        None => {
                            let ty = infer_type(&d);
                            Column::new(n.clone(), ty, d)
                        }
                    }
                })
                .collect());
        }
        let ty = ty.unwrap_or_else(|| infer_type(&data));
        Ok(vec![Column { name, ty, data }])
    }

    fn sorted(&mut self, t: &Table, keys: &[SortKey]) -> R<Vec<usize>> {
        let cols: Vec<Cv> = keys
            .iter()
            .map(|k| self.eval(&k.expr, t))
            .collect::<R<_>>()?;
        let mut idx: Vec<usize> = (0..t.rows).collect();
        idx.sort_by(|&a, &b| {
            for (k, c) in keys.iter().zip(&cols) {
                let (x, y) = (c.get(a), c.get(b));
                let (xn, yn) = (x.is_null(), y.is_null());
                let o = match (xn, yn) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => {
                        if k.nulls_first {
                            std::cmp::Ordering::Less
                        } else {
                            std::cmp::Ordering::Greater
                        }
                    }
                    (false, true) => {
                        if k.nulls_first {
                            std::cmp::Ordering::Greater
                        } else {
                            std::cmp::Ordering::Less
                        }
                    }
                    _ => {
                        let o = sort_cmp(x, y);
                        if k.desc {
                            o.reverse()
                        } else {
                            o
                        }
                    }
                };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        Ok(idx)
    }

    /// Group ids per row (in order of first appearance) and the first row of each group.
    /// Rows are hashed on their key values without allocating; candidates with the same hash
    /// are compared with the group's first row.
    fn groups(&mut self, t: &Table, by: &[Cv]) -> (Vec<u32>, Vec<usize>) {
        let mut ids = Vec::with_capacity(t.rows);
        let mut firsts: Vec<usize> = Vec::new();
        if by.is_empty() {
            if t.rows > 0 {
                firsts.push(0);
            }
            ids.resize(t.rows, 0);
            return (ids, firsts);
        }
        if let Some(g) = dict_groups(t.rows, by) {
            return g;
        }
        let state = foldhash::fast::FixedState::with_seed(7);
        let mut heads: HashMap<u64, u32, std::hash::BuildHasherDefault<IdHasher>> =
            HashMap::default();
        let mut next: Vec<u32> = Vec::new();
        let one = |v: &Value| {
            let mut h = std::hash::BuildHasher::build_hasher(&state);
            hash_value(v, &mut h);
            std::hash::Hasher::finish(&h)
        };
        // A dictionary column's values are hashed once per entry.
        let dict_hashes: Vec<Option<Vec<u64>>> = by
            .iter()
            .map(|c| match c {
                Cv::Col(Data::Dict(_, d)) if d.len() <= t.rows => Some(d.iter().map(one).collect()),
                _ => None,
            })
            .collect();
        for i in 0..t.rows {
            let mut h = 0u64;
            for (c, dh) in by.iter().zip(&dict_hashes) {
                let x = match (c, dh) {
                    (Cv::Col(Data::Dict(k, _)), Some(dh)) => dh[k[i] as usize],
                    _ => one(c.get(i)),
                };
                h = (h.rotate_left(23) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            }
            let mut g = heads.get(&h).copied().unwrap_or(u32::MAX);
            while g != u32::MAX {
                let f = firsts[g as usize];
                if by.iter().all(|c| match c {
                    Cv::Col(Data::Dict(k, _)) if k[i] == k[f] => true,
                    _ => same_key(c.get(i), c.get(f)),
                }) {
                    break;
                }
                g = next[g as usize];
            }
            if g == u32::MAX {
                g = firsts.len() as u32;
                firsts.push(i);
                next.push(heads.get(&h).copied().unwrap_or(u32::MAX));
                heads.insert(h, g);
            }
            ids.push(g);
        }
        (ids, firsts)
    }

    fn summarize(&mut self, t: &Table, aggs: &[Assign], by: &[Assign]) -> R<Table> {
        let mut by_cols = Vec::new();
        let mut by_names = Vec::new();
        let mut unnamed = 0;
        for a in by {
            let cv = self.eval(&a.expr, t)?;
            let ty = Some(self.assign_type(a, t)).filter(|t| *t != Type::Unknown);
            let name = match a.names.first() {
                Some(n) => n.clone(),
                None => {
                    unnamed += 1;
                    format!("Column{unnamed}")
                }
            };
            by_names.push((name, ty));
            by_cols.push(cv);
        }
        let (ids, firsts) = self.groups(t, &by_cols);
        let ngroups = firsts.len();
        // `summarize count()` over no rows still yields one row.
        let (ids, ngroups, empty_total) = if by.is_empty() && ngroups == 0 && !aggs.is_empty() {
            (ids, 1, true)
        } else {
            (ids, ngroups, false)
        };
        let mut out = Table {
            columns: Vec::new(),
            rows: ngroups,
        };
        for ((name, ty), cv) in by_names.iter().zip(&by_cols) {
            let data: Vec<Value> = firsts.iter().map(|&i| cv.get(i).clone()).collect();
            let ty = ty.unwrap_or_else(|| infer_type(&data));
            out.set(Column::new(name.clone(), ty, data));
        }
        let by_set: Vec<String> = by_names.iter().map(|(n, _)| n.clone()).collect();
        for a in aggs {
            let cols = self.aggregate(t, a, &ids, ngroups, &by_set, empty_total)?;
            for c in cols {
                // An aggregation without a name rule, or an expression over aggregations
                // (`count() * 2`), gets a generated name, counted on from the `by` ones.
                let c = if c.name.is_empty() {
                    unnamed += 1;
                    Column {
                        name: format!("Column{unnamed}"),
                        ..c
                    }
                } else {
                    c
                };
                let name = if out.index_of(&c.name).is_some() && !by_set.contains(&c.name) {
                    unique_name(&out, &c.name)
                } else {
                    c.name.clone()
                };
                if by_set.contains(&c.name) {
                    continue;
                }
                out.set(Column { name, ..c });
            }
        }
        Ok(out)
    }

    /// One aggregate item of summarize: a call to an aggregation, or an expression over
    /// aggregations (`toint(avg(x))`, `count() * 2`).
    fn aggregate(
        &mut self,
        t: &Table,
        a: &Assign,
        ids: &[u32],
        ngroups: usize,
        by: &[String],
        empty_total: bool,
    ) -> R<Vec<Column>> {
        if let Expr::Call(name, args, span) = &a.expr {
            if aggregate::is_aggregate(name) {
                let mut argv = Vec::new();
                for x in args {
                    argv.push(match x {
                        Expr::Star => aggregate::Arg::Star,
                        Expr::Wildcard(p) => aggregate::Arg::Wildcard(p.clone()),
                        other => {
                            // A column keeps its name; `arg_max(Last = T, Who = Account)`
                            // names the result columns.
                            let (name, ty) = match other {
                                Expr::Name(n, _) => (Some(n.clone()), t.column(n).map(|c| c.ty)),
                                Expr::Named(n, _) => (Some(n.clone()), None),
                                _ => (None, None),
                            };
                            aggregate::Arg::Col(self.eval(other, t)?, name, ty)
                        }
                    });
                }
                let _ = empty_total;
                let mut cols = aggregate::run(name, &argv, a, t, ids, ngroups, by, *span)?;
                // One result column: its type is the aggregate's declared one where known.
                if let [c] = cols.as_mut_slice() {
                    let st = self.assign_type(a, t);
                    if st != Type::Unknown {
                        c.ty = st;
                    }
                }
                return Ok(cols);
            }
        }
        // An expression over aggregates: compute each aggregate, then the expression per group.
        let mut inner = Vec::new();
        let rewritten = extract_aggregates(&a.expr, &mut inner);
        if inner.is_empty() {
            return Err(EngineError::new(
                "summarize needs an aggregation function here",
                None,
            ));
        }
        let mut g = Table {
            columns: Vec::new(),
            rows: ngroups,
        };
        for (i, call) in inner.iter().enumerate() {
            let tmp = Assign {
                names: vec![format!("__agg{i}")],
                expr: call.clone(),
                ty: None,
            };
            let cols = self.aggregate(t, &tmp, ids, ngroups, by, empty_total)?;
            if let Some(c) = cols.into_iter().next() {
                g.set(Column {
                    name: format!("__agg{i}"),
                    ..c
                });
            }
        }
        let cv = self.eval(&rewritten, &g)?;
        let data = cv.into_vec(ngroups);
        let ty = match self.static_type(&rewritten, &g) {
            Type::Unknown => infer_type(&data),
            st => st,
        };
        Ok(vec![Column::new(
            a.names.first().cloned().unwrap_or_default(),
            ty,
            data,
        )])
    }

    fn join(
        &mut self,
        l: &Table,
        r: &Table,
        kind: JoinKind,
        on: &[(Expr, Expr)],
        span: Span,
        lookup: bool,
    ) -> R<Table> {
        if on.is_empty() {
            return Err(EngineError::new("join needs `on` keys", Some(span)));
        }
        let mut lk = Vec::new();
        let mut rk = Vec::new();
        let mut drop_right = Vec::new();
        for (a, b) in on {
            let (la, rb) = match (a, b) {
                (Expr::Side(true, x), Expr::Side(false, y)) => (x, y),
                (Expr::Side(false, y), Expr::Side(true, x)) => (x, y),
                (Expr::Unsupported(w, s), _) => return Err(EngineError::unsupported(w, Some(*s))),
                _ => {
                    return Err(EngineError::unsupported(
                        "join condition other than `$left.a == $right.b` or a column name",
                        Some(span),
                    ))
                }
            };
            let lc = l.column(la).ok_or_else(|| {
                EngineError::new(format!("the left side has no column `{la}`"), Some(span))
            })?;
            let rc = r.column(rb).ok_or_else(|| {
                EngineError::new(format!("the right side has no column `{rb}`"), Some(span))
            })?;
            if la == rb {
                drop_right.push(rb.clone());
            }
            lk.push(lc.data.clone());
            rk.push(rc.data.clone());
        }
        let key_of = |cols: &[Data], i: usize| -> Option<Vec<Key>> {
            let mut k = Vec::with_capacity(cols.len());
            for c in cols {
                let v = &c[i];
                if v.is_null() {
                    return None;
                }
                k.push(v.key());
            }
            Some(k)
        };
        // Hash the right side.
        let mut right_rows: HashMap<Vec<Key>, Vec<usize>, foldhash::fast::FixedState> =
            HashMap::default();
        for i in 0..r.rows {
            if let Some(k) = key_of(&rk, i) {
                right_rows.entry(k).or_default().push(i);
            }
        }
        let mut li: Vec<Option<usize>> = Vec::new();
        let mut ri: Vec<Option<usize>> = Vec::new();
        let mut right_matched = vec![false; r.rows];
        let mut seen_left: HashMap<Vec<Key>, (), foldhash::fast::FixedState> = HashMap::default();
        for i in 0..l.rows {
            if i % 65_536 == 65_535 {
                self.check_time()?;
            }
            let k = key_of(&lk, i);
            if kind == JoinKind::InnerUnique {
                // Kusto keeps one left row per key.
                if let Some(k) = &k {
                    if seen_left.insert(k.clone(), ()).is_some() {
                        continue;
                    }
                }
            }
            let matches = k.as_ref().and_then(|k| right_rows.get(k));
            match kind {
                JoinKind::InnerUnique
                | JoinKind::Inner
                | JoinKind::LeftOuter
                | JoinKind::FullOuter
                | JoinKind::RightOuter => match matches {
                    Some(rows) => {
                        if li.len() + rows.len() > self.budget.max_rows {
                            return Err(super::budget::exceeded(format!(
                                "the join makes more than {} rows",
                                self.budget.max_rows
                            )));
                        }
                        for &j in rows {
                            right_matched[j] = true;
                            li.push(Some(i));
                            ri.push(Some(j));
                        }
                    }
                    None => {
                        if matches!(kind, JoinKind::LeftOuter | JoinKind::FullOuter) {
                            li.push(Some(i));
                            ri.push(None);
                        }
                    }
                },
                JoinKind::LeftAnti => {
                    if matches.is_none() {
                        li.push(Some(i));
                    }
                }
                JoinKind::LeftSemi => {
                    if matches.is_some() {
                        li.push(Some(i));
                    }
                }
                JoinKind::RightAnti | JoinKind::RightSemi => {
                    if let Some(rows) = matches {
                        for &j in rows {
                            right_matched[j] = true;
                        }
                    }
                }
            }
        }
        match kind {
            JoinKind::LeftAnti | JoinKind::LeftSemi => {
                let idx: Vec<usize> = li.into_iter().flatten().collect();
                return Ok(l.take(&idx));
            }
            JoinKind::RightAnti | JoinKind::RightSemi => {
                let want = kind == JoinKind::RightSemi;
                let idx: Vec<usize> = (0..r.rows).filter(|j| right_matched[*j] == want).collect();
                return Ok(r.take(&idx));
            }
            JoinKind::RightOuter | JoinKind::FullOuter => {
                for (j, m) in right_matched.iter().enumerate() {
                    if !m {
                        li.push(None);
                        ri.push(Some(j));
                    }
                }
            }
            _ => {}
        }
        let pick = |c: &Column, idx: &[Option<usize>]| -> Column {
            let null = if c.ty == Type::String {
                Value::empty_str()
            } else {
                Value::Null
            };
            Column {
                name: c.name.clone(),
                ty: c.ty,
                data: c.data.take_opt(idx, &null),
            }
        };
        let mut out = Table {
            columns: Vec::new(),
            rows: li.len(),
        };
        for c in &l.columns {
            out.columns.push(pick(c, &li));
        }
        if lookup {
            // lookup keeps the key columns once, filled from either side.
            for c in &r.columns {
                if drop_right.contains(&c.name) {
                    continue;
                }
                let mut col = pick(c, &ri);
                col.name = unique_name(&out, &c.name);
                out.columns.push(col);
            }
        } else {
            for c in &r.columns {
                let mut col = pick(c, &ri);
                col.name = unique_name(&out, &c.name);
                out.columns.push(col);
            }
            // In right/full outer joins, unmatched right rows have null left keys: Kusto keeps
            // them as they are.
        }
        Ok(out)
    }

    fn mv_expand(
        &mut self,
        t: &Table,
        items: &[MvItem],
        index: Option<&str>,
        limit: Option<&Expr>,
        bag_as_array: bool,
    ) -> R<Table> {
        let limit = match limit {
            Some(l) => self.scalar(l)?.as_i64().map(|x| x.max(0) as usize),
            None => None,
        };
        let cols: Vec<Cv> = items
            .iter()
            .map(|it| self.eval(&it.expr, t))
            .collect::<R<_>>()?;
        let mut rows = Vec::new();
        let mut expanded: Vec<Vec<Value>> = vec![Vec::new(); items.len()];
        let mut indexes = Vec::new();
        for i in 0..t.rows {
            let lists: Vec<Vec<serde_json::Value>> = cols
                .iter()
                .map(|c| match c.get(i) {
                    Value::Dyn(d) => match &**d {
                        serde_json::Value::Array(a) => a.clone(),
                        serde_json::Value::Object(o) => o
                            .iter()
                            .map(|(k, v)| {
                                if bag_as_array {
                                    serde_json::json!([k, v])
                                } else {
                                    let mut m = serde_json::Map::new();
                                    m.insert(k.clone(), v.clone());
                                    serde_json::Value::Object(m)
                                }
                            })
                            .collect(),
                        other => vec![other.clone()],
                    },
                    Value::Null => vec![],
                    other => vec![other.to_json()],
                })
                .collect();
            let mut n = lists.iter().map(|l| l.len()).max().unwrap_or(0);
            if let Some(l) = limit {
                n = n.min(l);
            }
            for k in 0..n {
                rows.push(i);
                indexes.push(Value::Long(k as i64));
                for (j, l) in lists.iter().enumerate() {
                    let v = match l.get(k) {
                        Some(v) => Value::dynamic(v.clone()),
                        None => Value::dynamic(serde_json::Value::Null),
                    };
                    let v = match items[j].to {
                        Some(ty) => v.cast(ty),
                        None => v,
                    };
                    expanded[j].push(v);
                }
            }
        }
        let mut out = t.take(&rows);
        for (it, data) in items.iter().zip(expanded) {
            let ty = it.to.unwrap_or(Type::Dynamic);
            out.set(Column::new(it.name.clone(), ty, data));
        }
        if let Some(ix) = index {
            out.set(Column::new(ix, Type::Long, indexes));
        }
        Ok(out)
    }

    /// `mv-apply`: the subquery over each row's expanded items. The result has Kusto's
    /// columns (Kusto.Language's schema): the row's columns except the expanded ones, each
    /// taking the subquery's version when it has one, then the subquery's other columns
    /// ([`applied`]).
    fn mv_apply(
        &mut self,
        t: &Table,
        items: &[MvItem],
        index: Option<&str>,
        limit: Option<&Expr>,
        ops: &[Op],
    ) -> R<Table> {
        // The columns expanded in place (`mv-apply d`); a named item (`x = d`, even `d = m`)
        // leaves the row's column of that name where it is.
        let expanded: Vec<&str> = items
            .iter()
            .filter(|i| matches!(&i.expr, Expr::Name(n, _) if *n == i.name))
            .map(|i| i.name.as_str())
            .collect();
        // Row-local subqueries give the same answer over all rows at once.
        let row_local = ops.iter().all(|o| {
            matches!(
                o,
                Op::Where(_)
                    | Op::Extend(_)
                    | Op::Project(_)
                    | Op::ProjectAway(_)
                    | Op::ProjectKeep(_)
                    | Op::ProjectRename(_)
                    | Op::Parse { .. }
                    | Op::ParseKv { .. }
                    | Op::MvExpand { .. }
            )
        });
        let projects = ops.iter().any(|o| {
            matches!(
                o,
                Op::Project(_) | Op::ProjectAway(_) | Op::ProjectKeep(_) | Op::ProjectRename(_)
            )
        });
        if row_local && !projects {
            // Every column of the row is still there, in its row (these operators drop none),
            // so the outer table only gives the order.
            let mut cur = Arc::new(self.mv_expand(t, items, index, limit, false)?);
            for op in ops {
                cur = Arc::new(self.op(cur, op)?);
            }
            return Ok(applied(&t.take(&[]), &expanded, &cur));
        }
        if row_local {
            // A subquery that projects still has the row's own columns beside its result (as
            // the per-row path below): each expanded row carries its source row's number in a
            // column no pattern or name in the query can reach, kept through the projections.
            const ROW: &str = "\u{0}row";
            let mut numbered = t.clone();
            numbered.set(Column::new(
                ROW.to_string(),
                Type::Long,
                (0..t.rows as i64).map(Value::Long).collect(),
            ));
            let mut cur = Arc::new(self.mv_expand(&numbered, items, index, limit, false)?);
            for op in ops {
                // Projections keep rows in place: run them without the numbers, then put the
                // numbers back (so `project-away *` cannot drop them either).
                let is_projection = matches!(
                    op,
                    Op::Project(_) | Op::ProjectAway(_) | Op::ProjectKeep(_) | Op::ProjectRename(_)
                );
                let numbers = cur.column(ROW).cloned();
                match numbers {
                    Some(numbers) if is_projection => {
                        let bare = without_column(&cur, ROW);
                        let mut next = self.op(Arc::new(bare), op)?;
                        next.set(numbers);
                        cur = Arc::new(next);
                    }
                    _ => cur = Arc::new(self.op(cur, op)?),
                }
            }
            let Some(rows) = cur.column(ROW) else {
                return Err(EngineError::new(
                    "mv-apply: the subquery dropped the row numbers",
                    None,
                ));
            };
            let src: Vec<usize> = (0..cur.rows)
                .map(|i| rows.data.get(i).as_i64().unwrap_or(0) as usize)
                .collect();
            let bare = without_column(&cur, ROW);
            return Ok(applied(&t.take(&src), &expanded, &bare));
        }
        let mut parts: Vec<(String, Arc<Table>)> = Vec::new();
        for i in 0..t.rows {
            let one = t.take(&[i]);
            let mut cur = Arc::new(self.mv_expand(&one, items, index, limit, false)?);
            for op in ops {
                cur = Arc::new(self.op(cur, op)?);
            }
            // The row's own columns stay beside the subquery's result.
            let outer = t.take(&vec![i; cur.rows]);
            parts.push((String::new(), Arc::new(applied(&outer, &expanded, &cur))));
        }
        if parts.is_empty() {
            // No rows: still the columns a row would give (the subquery run over nothing).
            let empty = t.take(&[]);
            let mut cur = Arc::new(self.mv_expand(&empty, items, index, limit, false)?);
            for op in ops {
                cur = Arc::new(self.op(cur, op)?);
            }
            // (A subquery can make rows of nothing, `summarize count()`; no row, no result.)
            return Ok(applied(&empty, &expanded, &cur.take(&[])));
        }
        Ok(union(&parts, None, true))
    }

    /// `find`: the tables (all of them without `in`) that have a column the predicate reads,
    /// unioned with a source column and filtered. With `project`, the named columns (null where
    /// a table lacks one); otherwise (`project-smart`) the predicate's columns and the columns
    /// every table has, then `pack_`: the row's other non-empty values as a bag.
    fn find(
        &mut self,
        tables: &[Expr],
        source_column: &str,
        predicate: &Expr,
        project: Option<&[String]>,
    ) -> R<Table> {
        let mut names: Vec<String> = Vec::new();
        for e in tables {
            match e {
                Expr::Star | Expr::Wildcard(_) => {
                    let pat = match e {
                        Expr::Wildcard(p) => p.clone(),
                        _ => "*".into(),
                    };
                    let mut all = self.data.table_names();
                    all.extend(self.view_names());
                    names.extend(all.into_iter().filter(|n| glob(&pat, n)));
                }
                Expr::Name(n, _) => names.push(n.clone()),
                _ => {
                    return Err(EngineError::unsupported(
                        "find in (...) over an expression that is not a table name",
                        None,
                    ))
                }
            }
        }
        let mut read = std::collections::BTreeSet::new();
        let known = names_read(predicate, &mut read);
        let mut parts: Vec<(String, Arc<Table>)> = Vec::new();
        for n in names {
            let t = self.tabular(&Expr::Name(n.clone(), Span::default()))?;
            // A table without any column the predicate reads is left out.
            if !known || read.is_empty() || read.iter().any(|c| t.column(c).is_some()) {
                parts.push((n, t));
            }
        }
        let common: Vec<String> = match parts.first() {
            Some((_, first)) => first
                .columns
                .iter()
                .map(|c| c.name.clone())
                .filter(|c| parts.iter().all(|(_, t)| t.column(c).is_some()))
                .collect(),
            None => Vec::new(),
        };
        let joined = Arc::new(union(&parts, Some(source_column), true));
        let hit = self.where_keep(&joined, predicate, None)?;
        let mut out = Table {
            columns: Vec::new(),
            rows: hit.rows,
        };
        let source = hit
            .column(source_column)
            .cloned()
            .unwrap_or_else(|| Column::new(source_column, Type::String, vec![]));
        out.columns.push(source);
        let null_column = |name: &str| Column::new(name, Type::String, vec![Value::Null; hit.rows]);
        match project {
            Some(cols) => {
                for c in cols {
                    out.columns
                        .push(hit.column(c).cloned().unwrap_or_else(|| null_column(c)));
                }
            }
            None => {
                // In name order (ordinal), as Kusto.Language lists them.
                let mut smart: Vec<&String> = read
                    .iter()
                    .chain(common.iter())
                    .filter(|c| *c != source_column && hit.column(c).is_some())
                    .collect();
                smart.sort();
                smart.dedup();
                let mut shown: Vec<String> = vec![source_column.to_string()];
                for c in smart {
                    out.columns.push(hit.column(c).cloned().expect("present"));
                    shown.push(c.clone());
                }
                let rest: Vec<&Column> = hit
                    .columns
                    .iter()
                    .filter(|c| !shown.contains(&c.name))
                    .collect();
                let pack = (0..hit.rows)
                    .map(|i| {
                        let m: serde_json::Map<String, serde_json::Value> = rest
                            .iter()
                            .filter(|c| !c.data.get(i).is_empty())
                            .map(|c| (c.name.clone(), c.data.get(i).to_json()))
                            .collect();
                        Value::dynamic(serde_json::Value::Object(m))
                    })
                    .collect();
                out.columns.push(Column::new("pack_", Type::Dynamic, pack));
            }
        }
        Ok(out)
    }

    /// `top-nested`: at each level, the rows of the level above grouped by the key, ranked by
    /// the aggregation (ties in order of first appearance), the first N kept; one output row
    /// per path through the levels, two columns per level.
    fn top_nested(&mut self, t: &Table, levels: &[TopLevel]) -> R<Table> {
        let mut ns = Vec::with_capacity(levels.len());
        for l in levels {
            ns.push(match &l.n {
                Some(n) => Some(self.scalar(n)?.as_i64().unwrap_or(0).max(0) as usize),
                None => None,
            });
        }
        let mut paths: Vec<Vec<Value>> = Vec::new();
        let all: Vec<usize> = (0..t.rows).collect();
        self.top_nested_level(t, levels, &ns, 0, &all, &mut Vec::new(), &mut paths)?;
        let mut columns = Vec::new();
        for (k, l) in levels.iter().enumerate() {
            for (j, name) in [&l.key.names[0], &l.agg.names[0]].into_iter().enumerate() {
                let data: Vec<Value> = paths.iter().map(|p| p[2 * k + j].clone()).collect();
                let a = if j == 0 { &l.key } else { &l.agg };
                let ty = Some(self.assign_type(a, t))
                    .filter(|t| *t != Type::Unknown)
                    .unwrap_or_else(|| infer_type(&data));
                columns.push(Column::new(name.clone(), ty, data));
            }
        }
        Ok(Table {
            columns,
            rows: paths.len(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn top_nested_level(
        &mut self,
        t: &Table,
        levels: &[TopLevel],
        ns: &[Option<usize>],
        depth: usize,
        rows: &[usize],
        prefix: &mut Vec<Value>,
        out: &mut Vec<Vec<Value>>,
    ) -> R<()> {
        let Some(l) = levels.get(depth) else {
            out.push(prefix.clone());
            self.check_table(out.len(), prefix.len(), "top-nested")?;
            return Ok(());
        };
        let sub = t.take(rows);
        let key = self.eval(&l.key.expr, &sub)?;
        let (ids, firsts) = self.groups(&sub, std::slice::from_ref(&key));
        let aggs = self.aggregate(&sub, &l.agg, &ids, firsts.len(), &[], false)?;
        let Some(agg) = aggs.into_iter().next() else {
            return Ok(());
        };
        let mut order: Vec<usize> = (0..firsts.len()).collect();
        order.sort_by(|&a, &b| {
            let o = sort_cmp(&agg.data[a], &agg.data[b]);
            if l.desc {
                o.reverse()
            } else {
                o
            }
        });
        if let Some(n) = ns[depth] {
            order.truncate(n);
        }
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); firsts.len()];
        for (i, g) in ids.iter().enumerate() {
            members[*g as usize].push(rows[i]);
        }
        for g in order {
            prefix.push(key.get(firsts[g]).clone());
            prefix.push(agg.data[g].clone());
            self.top_nested_level(t, levels, ns, depth + 1, &members[g], prefix, out)?;
            prefix.truncate(prefix.len() - 2);
        }
        Ok(())
    }

    /// `partition by Column (operators)`: the operators over each distinct value's rows (in
    /// order of first appearance), the results unioned; no rows still give the operators'
    /// columns.
    fn partition(&mut self, t: &Arc<Table>, by: &str, ops: &[Op]) -> R<Table> {
        let col = t
            .column(by)
            .ok_or_else(|| EngineError::new(format!("partition: no column `{by}`"), None))?;
        let mut order: Vec<Key> = Vec::new();
        let mut rows: HashMap<Key, Vec<usize>> = HashMap::new();
        for i in 0..t.rows {
            let k = col.data.get(i).key();
            rows.entry(k.clone())
                .or_insert_with(|| {
                    order.push(k);
                    Vec::new()
                })
                .push(i);
        }
        let run = |this: &mut Self, part: Table| -> R<Arc<Table>> {
            let mut cur = Arc::new(part);
            for op in ops {
                cur = Arc::new(this.op(cur, op)?);
            }
            Ok(cur)
        };
        if order.is_empty() {
            return Ok((*run(self, t.take(&[]))?).clone());
        }
        let mut parts = Vec::with_capacity(order.len());
        for k in &order {
            let part = run(self, t.take(&rows[k]))?;
            self.check_table(part.rows, part.columns.len(), "partition")?;
            parts.push((String::new(), part));
        }
        Ok(union(&parts, None, true))
    }

    /// `parse-kv`: one typed column per listed key (null, or empty for strings, where a row
    /// lacks the key).
    fn parse_kv(
        &mut self,
        t: &Table,
        expr: &Expr,
        columns: &[(String, Type)],
        options: &super::parse_kv::KvOptions,
    ) -> R<Table> {
        let cv = self.eval(expr, t)?;
        let parsed: Vec<_> = (0..t.rows)
            .map(|i| super::parse_kv::pairs(&cv.get(i).text(), options))
            .collect();
        let mut out = t.clone();
        for (name, ty) in columns {
            let data = parsed
                .iter()
                .map(|m| match m.get(name) {
                    Some(v) => Value::str(v).cast(*ty),
                    None => Value::Null.cast(*ty),
                })
                .collect();
            out.set(Column::new(name.clone(), *ty, data));
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn parse(
        &mut self,
        t: &Table,
        expr: &Expr,
        regex: bool,
        relaxed: bool,
        flags: &str,
        pattern: &[PatPart],
        keep_unmatched: bool,
    ) -> R<Table> {
        let src = self.eval(expr, t)?;
        let columns: Vec<(String, Type)> = pattern
            .iter()
            .filter_map(|p| match p {
                PatPart::Column(n, ty) => Some((n.clone(), *ty)),
                _ => None,
            })
            .collect();
        // Build one regex for both kinds: simple patterns are literal text between lazy
        // captures; the last capture takes the rest of the text.
        // Simple and relaxed patterns match across lines; a regex pattern takes its flags
        // (`s`, `m`, `i`, and `U`, which makes the greedy default lazy).
        let mut re = String::new();
        if regex {
            for (flag, inline) in [('s', "(?s)"), ('m', "(?m)"), ('i', "(?i)"), ('U', "(?U)")] {
                if flags.contains(flag) {
                    re.push_str(inline);
                }
            }
        } else {
            re.push_str("(?s)");
            if flags.contains('i') {
                re.push_str("(?i)");
            }
            re.push('^');
        }
        let n = pattern.len();
        let mut columns_seen = 0;
        for (k, p) in pattern.iter().enumerate() {
            match p {
                PatPart::Text(s) => {
                    if regex {
                        // Each piece is RE2 syntax; one that is not whole on its own (a group
                        // split across pieces) goes in as written.
                        match crate::re2::translate(s) {
                            Ok(t) => re.push_str(&t),
                            Err(_) => re.push_str(s),
                        }
                    } else {
                        re.push_str(&regex::escape(s));
                    }
                }
                PatPart::Star => re.push_str(".*?"),
                PatPart::Column(_, ty) => {
                    let last = k + 1 == n;
                    // Relaxed mode prefers a number but takes a typed column's text whatever it
                    // is (a value that does not convert is null, the other columns still parse);
                    // regex mode's string columns are greedy, as the page's output shows.
                    let body = match ty {
                        Type::Long | Type::Int if relaxed => r"[+-]?\d+|.*?",
                        Type::Long | Type::Int => r"[+-]?\d+",
                        Type::Real | Type::Decimal if relaxed => {
                            r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|.*?"
                        }
                        Type::Real | Type::Decimal => r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?",
                        _ if regex => ".*",
                        _ if last => ".*",
                        _ => ".*?",
                    };
                    // Named, so capture groups written in the pattern's text do not shift them.
                    re.push_str(&format!("(?P<vigil_col{columns_seen}>{body})"));
                    columns_seen += 1;
                }
            }
        }
        if !regex
            && !matches!(
                pattern.last(),
                Some(PatPart::Column(..)) | Some(PatPart::Star)
            )
        {
            re.push('$');
        }
        let compiled = regex::Regex::new(&re)
            .map_err(|e| EngineError::new(format!("bad parse pattern: {e}"), None))?;
        let mut data: Vec<Vec<Value>> = vec![Vec::with_capacity(t.rows); columns.len()];
        let mut keep = Vec::with_capacity(t.rows);
        for i in 0..t.rows {
            let s = src.get(i).text().into_owned();
            // A typed column whose text does not convert: in relaxed mode that column is
            // null; otherwise the row does not match at all (parse-where drops it).
            let parsed = compiled.captures(&s).and_then(|c| {
                let vals: Vec<Value> = columns
                    .iter()
                    .enumerate()
                    .map(|(k, (_, ty))| {
                        c.name(&format!("vigil_col{k}"))
                            .map(|m| Value::str(m.as_str()).cast(*ty))
                            .unwrap_or(Value::Null)
                    })
                    .collect();
                let failed = columns.iter().enumerate().any(|(k, (_, ty))| {
                    *ty != Type::String
                        && vals[k].is_null()
                        && c.name(&format!("vigil_col{k}"))
                            .is_some_and(|m| !m.as_str().is_empty())
                });
                (relaxed || !failed).then_some(vals)
            });
            match parsed {
                Some(vals) => {
                    keep.push(i);
                    for (k, v) in vals.into_iter().enumerate() {
                        data[k].push(v);
                    }
                }
                None => {
                    if keep_unmatched {
                        keep.push(i);
                        for (k, (_, ty)) in columns.iter().enumerate() {
                            let _ = relaxed;
                            data[k].push(if *ty == Type::String {
                                Value::empty_str()
                            } else {
                                Value::Null
                            });
                        }
                    }
                }
            }
        }
        let mut out = if keep.len() == t.rows {
            t.clone()
        } else {
            t.take(&keep)
        };
        for ((name, ty), d) in columns.into_iter().zip(data) {
            out.set(Column::new(name, ty, d));
        }
        Ok(out)
    }

    fn make_series(&mut self, t: &Table, ms: &MakeSeries) -> R<Table> {
        let on = self.eval(&ms.on, t)?;
        let step = self.scalar(&ms.step)?;
        let from = match &ms.from {
            Some(f) => self.scalar(f)?,
            None => (0..t.rows)
                .map(|i| on.get(i).clone())
                .filter(|v| !v.is_null())
                .min_by(sort_cmp)
                .unwrap_or(Value::Null),
        };
        let to = match &ms.to {
            Some(f) => self.scalar(f)?,
            None => (0..t.rows)
                .map(|i| on.get(i).clone())
                .filter(|v| !v.is_null())
                .max_by(sort_cmp)
                .map(|v| functions::add(&v, &step))
                .unwrap_or(Value::Null),
        };
        let Some(s) = step.as_i64() else {
            return Ok(Table::default());
        };
        // An input without rows (so no range from the data) still has the result's columns.
        let f = from.as_i64().unwrap_or(0);
        let to_i = to.as_i64().unwrap_or(f);
        if s <= 0 {
            return Err(EngineError::new("make-series needs a positive step", None));
        }
        // Bins start at `from` (Kusto aligns make-series bins to the range start).
        let f_bin = f;
        let nbins = ((to_i - f_bin).max(0) as usize)
            .div_ceil(s as usize)
            .min(1_000_000);
        let by_cols: Vec<Cv> = ms
            .by
            .iter()
            .map(|a| self.eval(&a.expr, t))
            .collect::<R<_>>()?;
        let (ids, mut firsts) = self.groups(t, &by_cols);
        if firsts.is_empty() && ms.by.is_empty() && ms.nonempty {
            // `kind=nonempty`: one series of defaults (no row is read: every bin is empty).
            firsts.push(0);
        }
        let ngroups = firsts.len();
        // Row → (group, bin) → a combined group id for the aggregates.
        let mut combined = Vec::with_capacity(t.rows);
        let mut keep = Vec::with_capacity(t.rows);
        for (i, g) in ids.iter().enumerate() {
            let Some(x) = on.get(i).as_i64() else {
                continue;
            };
            if x < f || x >= to_i {
                continue;
            }
            let b = ((x - f_bin) / s) as usize;
            if b >= nbins {
                continue;
            }
            keep.push(i);
            combined.push(*g * nbins as u32 + b as u32);
        }
        let sub = t.take(&keep);
        let mut out = Table {
            columns: Vec::new(),
            rows: ngroups,
        };
        for (a, cv) in ms.by.iter().zip(&by_cols) {
            let data: Vec<Value> = firsts.iter().map(|&i| cv.get(i).clone()).collect();
            let ty = Some(self.assign_type(a, t))
                .filter(|t| *t != Type::Unknown)
                .unwrap_or_else(|| infer_type(&data));
            out.set(Column::new(
                a.names.first().cloned().unwrap_or_else(|| "Column1".into()),
                ty,
                data,
            ));
        }
        let by_names: Vec<String> = out.columns.iter().map(|c| c.name.clone()).collect();
        for (name, expr, default) in &ms.aggs {
            let default = match default {
                Some(d) => self.scalar(d)?,
                None => Value::Long(0),
            };
            let a = Assign {
                names: vec![name.clone()],
                expr: expr.clone(),
                ty: None,
            };
            let c = if matches!(expr, Expr::Lit(_) | Expr::Neg(_)) {
                // `other = -1 default = -2`: a constant in the bins that have rows.
                let v = self.scalar(expr)?;
                Column::new(name.clone(), v.type_of(), vec![v; ngroups * nbins])
            } else {
                let cols =
                    self.aggregate(&sub, &a, &combined, ngroups * nbins, &by_names, false)?;
                let Some(c) = cols.into_iter().next() else {
                    continue;
                };
                c
            };
            // Groups with rows in a bin get the value; others the default.
            let mut present = vec![false; ngroups * nbins];
            for g in &combined {
                present[*g as usize] = true;
            }
            let data: Vec<Value> = (0..ngroups)
                .map(|g| {
                    let arr: Vec<serde_json::Value> = (0..nbins)
                        .map(|b| {
                            let k = g * nbins + b;
                            if present[k] {
                                c.data[k].to_json()
                            } else {
                                default.to_json()
                            }
                        })
                        .collect();
                    Value::dynamic(serde_json::Value::Array(arr))
                })
                .collect();
            out.set(Column::new(name.clone(), Type::Dynamic, data));
        }
        let axis: Vec<serde_json::Value> = (0..nbins)
            .map(|b| {
                let v = match &from {
                    Value::DateTime(_) => Value::DateTime(f_bin + b as i64 * s),
                    Value::TimeSpan(_) => Value::TimeSpan(f_bin + b as i64 * s),
                    Value::Real(_) => Value::Real((f_bin + b as i64 * s) as f64),
                    _ => Value::Long(f_bin + b as i64 * s),
                };
                v.to_json()
            })
            .collect();
        let axis = Value::dynamic(serde_json::Value::Array(axis));
        out.set(Column::new(
            ms.on_name.clone(),
            Type::Dynamic,
            vec![axis; ngroups],
        ));
        Ok(out)
    }

    fn evaluate(
        &mut self,
        t: &Table,
        name: &str,
        args: &[Expr],
        span: Span,
        schema: Option<&[(String, Type)]>,
    ) -> R<Table> {
        match name {
            "pivot" => self.pivot(t, args, span, schema),
            "bag_unpack" => self.bag_unpack(t, args, span, schema),
            "narrow" if args.is_empty() => self.narrow(t),
            "ipv4_lookup" | "ipv6_lookup" => self.ip_lookup(name, t, args, span),
            // `activity_counts_metrics(Id, Time, Start, End, Step [, Dims...])` and
            // `sliding_window_counts(Id, Time, Start, End, Lookback, Bin [, Dims...])`.
            "activity_counts_metrics" | "sliding_window_counts" => {
                let sliding = name == "sliding_window_counts";
                let usage = || {
                    EngineError::new(
                        if sliding {
                            "sliding_window_counts needs IdColumn, TimelineColumn, Start, End, LookbackWindow, Bin [, Dimensions...]"
                        } else {
                            "activity_counts_metrics needs IdColumn, TimelineColumn, Start, End, Step [, Dimensions...]"
                        },
                        Some(span),
                    )
                };
                let fixed = if sliding { 6 } else { 5 };
                let (Some(Expr::Name(id, _)), Some(Expr::Name(time, _))) =
                    (args.first(), args.get(1))
                else {
                    return Err(usage());
                };
                if args.len() < fixed {
                    return Err(usage());
                }
                let mut scalars = Vec::new();
                for a in &args[2..fixed] {
                    scalars.push(self.scalar(a)?);
                }
                let step = scalars.last().expect("a step").clone();
                if matches!(step, Value::Str(_)) {
                    return Err(EngineError::unsupported(
                        format!("{name} with a calendar step (week, month, year)"),
                        Some(span),
                    ));
                }
                let Some(n) = scalars
                    .iter()
                    .map(|v| v.as_i64())
                    .collect::<Option<Vec<i64>>>()
                else {
                    return Err(usage());
                };
                let mut dims = Vec::new();
                for d in &args[fixed..] {
                    match d {
                        Expr::Name(n, _) => dims.push(n.clone()),
                        _ => return Err(usage()),
                    }
                }
                let r = if sliding {
                    let check = |rows: usize| self.check_table(rows, dims.len() + 3, name);
                    super::activity::sliding_window_counts(
                        t,
                        id,
                        time,
                        (n[0], n[1], n[3], n[2]),
                        &dims,
                        &check,
                    )
                } else {
                    super::activity::counts_metrics(t, id, time, (n[0], n[1], n[2]), &dims)
                };
                r.map_err(|mut e| {
                    e.span.get_or_insert(span);
                    e
                })
            }
            "basket" | "diffpatterns" | "autocluster" if schema.is_none() => {
                let a = self.plugin_args(args)?;
                super::patterns::run(name, t, &a, span, &|| self.check_time())
                    .expect("a pattern plugin")
            }
            other if schema.is_some() => Err(EngineError::unsupported(
                format!("evaluate {other}() with an output schema"),
                Some(span),
            )),
            other => Err(EngineError::unsupported(
                format!("evaluate {other}()"),
                Some(span),
            )),
        }
    }

    /// A pattern plugin's arguments: each one's value (None for `~`, the default) and, for a
    /// bare column name, the name (a column argument may also be given as a string).
    fn plugin_args(&mut self, args: &[Expr]) -> R<super::patterns::Args> {
        let (mut values, mut names) = (Vec::new(), Vec::new());
        for a in args {
            if let Expr::Name(n, _) = a {
                if self.lookup(n).is_none() {
                    values.push(None);
                    names.push(Some(n.clone()));
                    continue;
                }
            }
            let v = self.scalar(a)?;
            let s = v.to_kusto_string();
            let given = s != "~";
            names.push((given && matches!(v, Value::Str(_))).then(|| s.clone()));
            values.push(given.then_some(v));
        }
        Ok(super::patterns::Args { values, names })
    }

    /// `evaluate bag_unpack(Column [, Prefix] [, columnsConflict=...] [, ignoredProperties=...])
    /// [: (OutputSchema)]`: one column per key of the bags (in key order), the bag column
    /// removed. A key that names an existing column fails (`columnsConflict='error'`, the
    /// default), replaces it (`'replace_source'`) or is dropped (`'keep_source'`);
    /// `ignoredProperties` keys are not unpacked. With an output schema, the columns are the
    /// schema's, typed by it, and `*` in it stands for the other columns at its place.
    /// `narrow()`: one row per cell, with the row's number (from 0), the column's name and the
    /// value as `tostring` gives it (the plugin page's three columns).
    fn narrow(&self, t: &Table) -> R<Table> {
        let n = t.rows.saturating_mul(t.columns.len());
        self.check_table(n, 3, "narrow()")?;
        let (mut row, mut col, mut val) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let names: Vec<Value> = t.columns.iter().map(|c| Value::str(&c.name)).collect();
        for i in 0..t.rows {
            for (c, name) in t.columns.iter().zip(&names) {
                row.push(Value::Long(i as i64));
                col.push(name.clone());
                val.push(Value::string(c.data.get(i).to_kusto_string()));
            }
        }
        let schema = crate::kql::catalog::plugin_output("narrow").unwrap_or_default();
        let columns = schema
            .iter()
            .zip([row, col, val])
            .map(|((name, ty), data)| Column::new(*name, *ty, data))
            .collect();
        Ok(Table::new(columns))
    }

    fn bag_unpack(
        &mut self,
        t: &Table,
        args: &[Expr],
        span: Span,
        schema: Option<&[(String, Type)]>,
    ) -> R<Table> {
        let mut positional = Vec::new();
        let (mut conflict, mut ignored) = (String::from("error"), Vec::<String>::new());
        for a in args {
            match a {
                Expr::Named(n, v) if n.eq_ignore_ascii_case("columnsConflict") => {
                    conflict = self.scalar(v)?.to_kusto_string();
                }
                Expr::Named(n, v) if n.eq_ignore_ascii_case("ignoredProperties") => {
                    if let Value::Dyn(d) = self.scalar(v)?.cast(Type::Dynamic) {
                        ignored = d
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|k| k.as_str().map(str::to_string))
                            .collect();
                    }
                }
                Expr::Named(n, _) => {
                    return Err(EngineError::new(
                        format!("bag_unpack has no argument `{n}`"),
                        Some(span),
                    ))
                }
                other => positional.push(other),
            }
        }
        let Some(col) = positional.first() else {
            return Err(EngineError::new("bag_unpack needs a column", Some(span)));
        };
        let prefix = match positional.get(1) {
            Some(p) => self.scalar(p)?.to_kusto_string(),
            None => String::new(),
        };
        let col_name = match col {
            Expr::Name(n, _) => Some(n.clone()),
            _ => None,
        };
        let cv = self.eval(col, t)?;
        let mut keys: BTreeMap<String, ()> = BTreeMap::new();
        for i in 0..t.rows {
            if let Value::Dyn(d) = cv.get(i) {
                if let serde_json::Value::Object(o) = &**d {
                    for k in o.keys() {
                        if !ignored.contains(k) {
                            keys.insert(k.clone(), ());
                        }
                    }
                }
            }
        }
        let mut out = t.clone();
        if let Some(n) = &col_name {
            out.columns.retain(|c| &c.name != n);
        }
        for k in keys.keys() {
            let name = format!("{prefix}{k}");
            if out.column(&name).is_some() {
                match conflict.as_str() {
                    "keep_source" => continue,
                    // Set in place below (the column keeps its position).
                    "replace_source" => {}
                    _ => {
                        return Err(EngineError::new(
                            format!(
                                "bag_unpack: the key `{k}` names an existing column \
                                 (columnsConflict='error')"
                            ),
                            Some(span),
                        ))
                    }
                }
            }
            let data: Vec<Value> = (0..t.rows).map(|i| member(cv.get(i), k)).collect();
            let ty = infer_type(&data);
            out.set(Column::new(name, ty, data));
        }
        let Some(schema) = schema else {
            return Ok(out);
        };
        let named: Vec<&str> = schema.iter().map(|(n, _)| n.as_str()).collect();
        let mut columns = Vec::new();
        for (n, ty) in schema {
            if n == "*" {
                // The input's columns (but the bag) that the schema does not name.
                columns.extend(
                    out.columns
                        .iter()
                        .filter(|c| t.column(&c.name).is_some())
                        .filter(|c| !named.contains(&c.name.as_str()))
                        .cloned(),
                );
                continue;
            }
            let data = match out.column(n) {
                Some(c) => c.data.iter().map(|v| v.cast(*ty)).collect(),
                None => vec![Value::Null; out.rows],
            };
            columns.push(Column::new(n.clone(), *ty, data));
        }
        Ok(Table {
            columns,
            rows: out.rows,
        })
    }

    /// `evaluate ipv4_lookup(Lookup, SourceIp, LookupRange [, ExtraKey...] [, return_unmatched])`:
    /// each source row joined with every lookup row whose range (an address or a CIDR prefix)
    /// holds its address and whose extra keys are equal; the source columns, then the lookup
    /// columns other than the extra keys (as `lookup` shapes its result). Without
    /// return_unmatched only matched rows are kept; with it, unmatched rows get nulls.
    /// `evaluate pivot(PivotColumn [, Aggregation] [, Column, ...]) [: (OutputSchema)]`: one
    /// row per distinct value of the other columns (the given ones, else every column but the
    /// pivoted one and those the aggregation reads), one column per distinct value of the
    /// pivoted column, in order of first appearance, each cell the aggregation (default
    /// `count()`) over its rows. A cell with no rows is 0 for `count`, `sum` and `dcount` (as the
    /// documentation's outputs show) and null for the others. With an output schema, the
    /// columns are the schema's, typed by it; pivoted values it does not name are dropped.
    fn pivot(
        &mut self,
        t: &Table,
        args: &[Expr],
        span: Span,
        schema: Option<&[(String, Type)]>,
    ) -> R<Table> {
        let Some(Expr::Name(pivot, _)) = args.first() else {
            return Err(EngineError::new(
                "pivot() needs the column to rotate as its first argument",
                Some(span),
            ));
        };
        if t.index_of(pivot).is_none() {
            return Err(EngineError::new(
                format!("pivot(): the input has no column `{pivot}`"),
                Some(span),
            ));
        }
        let (agg, rest) = match args.get(1) {
            Some(e @ Expr::Call(n, _, _)) if is_aggregate(n) => (e.clone(), &args[2..]),
            _ => (Expr::Call("count".into(), Vec::new(), span), &args[1..]),
        };
        let agg_name = match &agg {
            Expr::Call(n, _, _) => n.clone(),
            _ => unreachable!("an aggregation call"),
        };
        let mut groups: Vec<String> = Vec::new();
        if rest.is_empty() {
            let mut read = std::collections::BTreeSet::new();
            names_read(&agg, &mut read);
            groups.extend(
                t.columns
                    .iter()
                    .map(|c| c.name.clone())
                    .filter(|n| n != pivot && !read.contains(n)),
            );
        } else {
            for e in rest {
                match e {
                    Expr::Name(n, s) if t.index_of(n).is_some() => groups.push(n.clone()),
                    Expr::Name(n, s) => {
                        return Err(EngineError::new(
                            format!("pivot(): the input has no column `{n}`"),
                            Some(*s),
                        ))
                    }
                    _ => {
                        return Err(EngineError::unsupported(
                            "pivot() arguments after the aggregation other than column names",
                            Some(span),
                        ))
                    }
                }
            }
        }
        const VALUE: &str = "__vigil_pivot_value";
        let mut by: Vec<Assign> = groups
            .iter()
            .map(|n| Assign {
                names: vec![n.clone()],
                expr: Expr::Name(n.clone(), span),
                ty: None,
            })
            .collect();
        by.push(Assign {
            names: vec![pivot.clone()],
            expr: Expr::Name(pivot.clone(), span),
            ty: None,
        });
        let s = self.summarize(
            t,
            &[Assign {
                names: vec![VALUE.into()],
                expr: agg,
                ty: None,
            }],
            &by,
        )?;
        let vcol = s.column(VALUE).expect("the aggregate column");
        let pcol = s.column(pivot).expect("the pivot column");
        let gcols: Vec<&Column> = groups
            .iter()
            .map(|g| s.column(g).expect("a group column"))
            .collect();
        // Rows: distinct group keys; columns: distinct pivot values (first appearance).
        let mut row_of: HashMap<Vec<Key>, usize> = HashMap::new();
        let mut firsts: Vec<usize> = Vec::new();
        let mut col_of: HashMap<String, usize> = HashMap::new();
        let mut pivots: Vec<String> = Vec::new();
        let mut cells: Vec<(usize, usize, Value)> = Vec::with_capacity(s.rows);
        for i in 0..s.rows {
            let key: Vec<Key> = gcols.iter().map(|c| c.data[i].key()).collect();
            let r = *row_of.entry(key).or_insert_with(|| {
                firsts.push(i);
                firsts.len() - 1
            });
            let name = pcol.data[i].to_kusto_string();
            let c = *col_of.entry(name.clone()).or_insert_with(|| {
                pivots.push(name);
                pivots.len() - 1
            });
            cells.push((r, c, vcol.data[i].clone()));
        }
        let empty = match agg_name.as_str() {
            "count" | "countif" | "dcount" | "dcountif" => Value::Long(0),
            "sum" | "sumif" => Value::Long(0).cast(vcol.ty),
            _ => Value::Null,
        };
        let mut grid: Vec<Vec<Value>> = vec![vec![empty.clone(); firsts.len()]; pivots.len()];
        for (r, c, v) in cells {
            grid[c][r] = v;
        }
        let mut out = Table {
            columns: Vec::new(),
            rows: firsts.len(),
        };
        for c in &gcols {
            out.set(Column {
                name: c.name.clone(),
                ty: c.ty,
                data: c.data.take(&firsts),
            });
        }
        let vty = if vcol.ty == Type::Unknown {
            empty.type_of()
        } else {
            vcol.ty
        };
        for (name, data) in pivots.iter().zip(grid) {
            let name = if name.is_empty() {
                unique_name(&out, "Column1")
            } else {
                unique_name(&out, name)
            };
            out.set(Column::new(name, vty, data));
        }
        let Some(schema) = schema else {
            return Ok(out);
        };
        let columns = schema
            .iter()
            .map(|(n, ty)| {
                let data = match out.column(n) {
                    Some(c) => c.data.map(|v| v.cast(*ty)),
                    None => Data::new(vec![empty.cast(*ty); out.rows]),
                };
                Column {
                    name: n.clone(),
                    ty: *ty,
                    data,
                }
            })
            .collect();
        Ok(Table {
            columns,
            rows: out.rows,
        })
    }

    fn ip_lookup(&mut self, name: &str, t: &Table, args: &[Expr], span: Span) -> R<Table> {
        use super::functions::{parse_ipv4_prefix, parse_ipv6_prefix};
        // Addresses as 128-bit numbers with a prefix length out of `width` bits.
        type Parse = fn(&str) -> Option<(u128, u32)>;
        let (parse, width): (Parse, u32) = if name == "ipv6_lookup" {
            (parse_ipv6_prefix, 128)
        } else {
            (|s| parse_ipv4_prefix(s).map(|(x, b)| (x as u128, b)), 32)
        };
        let usage = || {
            EngineError::new(
                format!(
                    "{name} needs a lookup table, the source IP column and the lookup range column"
                ),
                Some(span),
            )
        };
        let (Some(lookup), Some(Expr::Name(src_key, _)), Some(Expr::Name(range_key, _))) =
            (args.first(), args.get(1), args.get(2))
        else {
            return Err(usage());
        };
        let mut rest = &args[3..];
        let mut unmatched = false;
        if let Some((last, init)) = rest.split_last() {
            if !matches!(last, Expr::Name(..)) {
                unmatched = self.scalar(last)?.as_bool().unwrap_or(false);
                rest = init;
            }
        }
        let mut extra = Vec::new();
        for e in rest {
            match e {
                Expr::Name(n, _) => extra.push(n.clone()),
                _ => return Err(usage()),
            }
        }
        let lt = self.tabular(lookup)?;
        let (Some(src), Some(ranges)) = (t.column(src_key), lt.column(range_key)) else {
            return Err(EngineError::new(
                format!("{name}: no column `{src_key}` in the input or `{range_key}` in the lookup table"),
                Some(span),
            ));
        };
        let mut keys = Vec::new();
        for k in &extra {
            match (t.column(k), lt.column(k)) {
                (Some(a), Some(b)) => keys.push((a, b)),
                _ => {
                    return Err(EngineError::new(
                        format!("{name}: the extra key `{k}` must be a column of both tables"),
                        Some(span),
                    ))
                }
            }
        }
        let parsed: Vec<Option<(u128, u32)>> = ranges
            .data
            .iter()
            .map(|v| parse(&v.to_kusto_string()))
            .collect();
        let in_range = |ip: (u128, u32), r: (u128, u32)| {
            // The source value may itself carry a prefix: the wider of the two masks applies.
            let bits = ip.1.min(r.1);
            let m = if bits == 0 {
                0
            } else {
                (u128::MAX >> (128 - width)) << (width - bits)
            };
            ip.0 & m == r.0 & m
        };
        let (mut left, mut right): (Vec<usize>, Vec<Option<usize>>) = (Vec::new(), Vec::new());
        for i in 0..t.rows {
            let ip = parse(&src.data[i].to_kusto_string());
            let mut any = false;
            if let Some(ip) = ip {
                for (j, r) in parsed.iter().enumerate() {
                    let Some(r) = r else { continue };
                    if in_range(ip, *r)
                        && keys
                            .iter()
                            .all(|(a, b)| equals(&a.data[i], &b.data[j]) == Some(true))
                    {
                        left.push(i);
                        right.push(Some(j));
                        any = true;
                    }
                }
            }
            if !any && unmatched {
                left.push(i);
                right.push(None);
            }
        }
        let mut out = t.take(&left);
        for c in &lt.columns {
            if extra.contains(&c.name) {
                continue;
            }
            let data: Vec<Value> = right
                .iter()
                .map(|j| j.map(|j| c.data[j].clone()).unwrap_or(Value::Null))
                .collect();
            let name = unique_name(&out, &c.name);
            out.set(Column::new(name, c.ty, data));
        }
        Ok(out)
    }

    // ---- scalar expressions ----

    pub fn eval(&mut self, e: &Expr, t: &Table) -> R<Cv> {
        self.depth += 1;
        if self.depth > 200 {
            self.depth -= 1;
            return Err(EngineError::new("the expression nests too deeply", None));
        }
        let r = self.eval_inner(e, t);
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, e: &Expr, t: &Table) -> R<Cv> {
        let n = t.rows;
        match e {
            Expr::Lit(v) => Ok(Cv::Const(v.clone())),
            Expr::Name(name, span) => {
                if let Some(c) = t.column(name) {
                    return Ok(Cv::Col(c.data.clone()));
                }
                match self.lookup(name).cloned() {
                    Some(Binding::Scalar(v)) => Ok(Cv::Const(v)),
                    Some(Binding::Failed(err)) => Err(err),
                    Some(Binding::Table(tab)) => {
                        // A one-cell table used as a scalar.
                        match tab.columns.first() {
                            Some(c) if tab.rows >= 1 => Ok(Cv::Const(c.data[0].clone())),
                            _ => Ok(Cv::Const(Value::Null)),
                        }
                    }
                    // `has_any (Keywords)` with `let Keywords = () { pack_array(...) };`: a
                    // function of no parameters named without parentheses is called.
                    Some(Binding::Func(f)) if !self.returns_table(&f) => {
                        self.scalar_function_call(name, &f, &[], t, *span)
                    }
                    Some(Binding::Func(_)) => {
                        let tab = self.tabular_call(name, &[], *span, None)?;
                        Ok(Cv::Const(
                            tab.columns
                                .first()
                                .and_then(|c| c.data.first().cloned())
                                .unwrap_or(Value::Null),
                        ))
                    }
                    None => Err(EngineError::new(
                        format!("`{name}` is not a column or variable here"),
                        Some(*span),
                    )),
                }
            }
            Expr::Not(x) => {
                let v = self.eval(x, t)?;
                Ok(map1(v, n, |v| match v.as_bool() {
                    Some(b) => Value::Bool(!b),
                    None => Value::Null,
                }))
            }
            Expr::Neg(x) => {
                let v = self.eval(x, t)?;
                Ok(map1(v, n, functions::negate))
            }
            Expr::Bin(op, a, b, span) => {
                let (x, y) = (self.eval(a, t)?, self.eval(b, t)?);
                binary(*op, x, y, n, *span)
            }
            Expr::Between(neg, x, lo, hi) => {
                let (x, lo, hi) = (self.eval(x, t)?, self.eval(lo, t)?, self.eval(hi, t)?);
                let neg = *neg;
                let f = |i: usize| {
                    let v = x.get(i);
                    let (l, h) = (lo.get(i), hi.get(i));
                    if v.is_null() || l.is_null() || h.is_null() {
                        return Value::Null;
                    }
                    let inside = compare(v, l).is_some_and(|o| o.is_ge())
                        && compare(v, h).is_some_and(|o| o.is_le());
                    Value::Bool(inside != neg)
                };
                if x.is_const() && lo.is_const() && hi.is_const() {
                    return Ok(Cv::Const(f(0)));
                }
                Ok(Cv::Col(Data::new((0..n).map(f).collect())))
            }
            Expr::List(op, x, items, span) => self.list_op(*op, x, items, t, *span),
            Expr::Call(name, args, span) => self.call(name, args, t, *span),
            Expr::Member(x, prop) => {
                let v = self.eval(x, t)?;
                let prop = prop.clone();
                Ok(map1(v, n, move |v| functions::member(v, &prop)))
            }
            Expr::Index(x, i) => {
                let (v, i) = (self.eval(x, t)?, self.eval(i, t)?);
                if v.is_const() && i.is_const() {
                    return Ok(Cv::Const(functions::index(v.get(0), i.get(0))));
                }
                Ok(Cv::Col(Data::new(
                    (0..n)
                        .map(|k| functions::index(v.get(k), i.get(k)))
                        .collect(),
                )))
            }
            Expr::Pipe(..) | Expr::Source(_) => {
                // A subquery as a scalar: its first cell.
                let tab = self.tabular(e)?;
                Ok(Cv::Const(
                    tab.columns
                        .first()
                        .and_then(|c| c.data.first().cloned())
                        .unwrap_or(Value::Null),
                ))
            }
            Expr::Star | Expr::Wildcard(_) => Err(EngineError::new(
                "`*` is only valid as an argument of some aggregations",
                None,
            )),
            Expr::Side(_, c) => Err(EngineError::new(
                format!("`$left`/`$right` outside a join condition (`{c}`)"),
                None,
            )),
            Expr::Named(_, v) => self.eval(v, t),
            Expr::Unsupported(what, span) => Err(EngineError::unsupported(what, Some(*span))),
        }
    }

    /// The values of an `in`/`has_any` list: literals, dynamic arrays, and the first column of
    /// tabular expressions.
    fn list_values(&mut self, items: &[Expr]) -> R<Option<Vec<Value>>> {
        let mut out = Vec::new();
        for it in items {
            let v = match it {
                Expr::Lit(v) => Err(v.clone()),
                Expr::Name(n, _) if self.lookup(n).is_none() && self.data.table(n).is_none() => {
                    return Ok(None)
                }
                Expr::Name(..) | Expr::Pipe(..) | Expr::Source(_) | Expr::Call(..) => {
                    match self.any(it) {
                        Ok(x) => x,
                        Err(_) => return Ok(None),
                    }
                }
                _ => return Ok(None),
            };
            match v {
                Ok(tab) => {
                    if let Some(c) = tab.columns.first() {
                        out.extend(c.data.iter().cloned());
                    }
                }
                Err(Value::Dyn(d)) => match &*d {
                    serde_json::Value::Array(a) => {
                        out.extend(a.iter().map(|x| Value::dynamic(x.clone()).unwrap_dynamic()))
                    }
                    other => out.push(Value::dynamic(other.clone()).unwrap_dynamic()),
                },
                Err(v) => out.push(v),
            }
        }
        Ok(Some(out))
    }

    fn list_op(&mut self, op: ListOp, x: &Expr, items: &[Expr], t: &Table, span: Span) -> R<Cv> {
        let n = t.rows;
        let lhs = self.eval(x, t)?;
        let values = match self.list_values(items)? {
            Some(v) => v,
            None => {
                // Row-dependent list items: evaluate each per row.
                let cols: Vec<Cv> = items.iter().map(|i| self.eval(i, t)).collect::<R<_>>()?;
                let data = (0..n)
                    .map(|i| {
                        let vals: Vec<Value> = cols
                            .iter()
                            .flat_map(|c| match c.get(i) {
                                Value::Dyn(d) if d.is_array() => d
                                    .as_array()
                                    .map(|a| {
                                        a.iter()
                                            .map(|x| Value::dynamic(x.clone()).unwrap_dynamic())
                                            .collect()
                                    })
                                    .unwrap_or_default(),
                                v => vec![v.clone()],
                            })
                            .collect();
                        list_test(op, lhs.get(i), &vals)
                    })
                    .collect();
                return Ok(Cv::Col(Data::new(data)));
            }
        };
        let _ = span;
        match op {
            ListOp::In | ListOp::NotIn => {
                let neg = op == ListOp::NotIn;
                let set: std::collections::HashSet<Key, foldhash::fast::FixedState> = values
                    .iter()
                    .filter(|v| !v.is_null())
                    .map(|v| v.key())
                    .collect();
                Ok(map1(lhs, n, |v| {
                    if v.is_null() {
                        return Value::Bool(neg);
                    }
                    Value::Bool(set.contains(&v.unwrap_dynamic().key()) != neg)
                }))
            }
            ListOp::InCi | ListOp::NotInCi => {
                let neg = op == ListOp::NotInCi;
                let set: std::collections::HashSet<String, foldhash::fast::FixedState> = values
                    .iter()
                    .map(|v| v.to_kusto_string().to_lowercase())
                    .collect();
                Ok(map1(lhs, n, |v| {
                    let s = v.text();
                    let hit = if s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
                        set.contains(&s.to_lowercase())
                    } else {
                        set.contains(s.as_ref())
                    };
                    Value::Bool(hit != neg)
                }))
            }
            ListOp::HasAny | ListOp::HasAll => {
                let needles: Vec<Needle> = values
                    .iter()
                    .map(|v| Needle::new(&v.to_kusto_string(), false))
                    .collect();
                let all = op == ListOp::HasAll;
                Ok(map1(lhs, n, |v| {
                    let s = v.text();
                    let hit = if all {
                        needles.iter().all(|nd| nd.has(&s, true, true))
                    } else {
                        needles.iter().any(|nd| nd.has(&s, true, true))
                    };
                    Value::Bool(hit)
                }))
            }
        }
    }

    fn call(&mut self, name: &str, args: &[Expr], t: &Table, span: Span) -> R<Cv> {
        let n = t.rows;
        if let Some(Binding::Func(f)) = self.lookup(name).cloned() {
            if !self.returns_table(&f) {
                return self.scalar_function_call(name, &f, args, t, span);
            }
        }
        match name {
            "geo_info_from_ip_address" => {
                let db = match self.data.geoip() {
                    Some(Ok(db)) => db,
                    Some(Err(e)) => {
                        return Err(EngineError::new(
                            format!("geo_info_from_ip_address(): the geo-IP database: {e}"),
                            Some(span),
                        ))
                    }
                    None => return Err(EngineError::new(
                        "geo_info_from_ip_address() needs geo-IP data: set `[sandbox] geoip` to a MaxMind City database (.mmdb) in the repository (vigil bundles none)",
                        Some(span),
                    )),
                };
                let a = args.first().ok_or_else(|| {
                    EngineError::new("geo_info_from_ip_address() needs an address", Some(span))
                })?;
                let v = self.eval(a, t)?;
                let err = std::cell::RefCell::new(None);
                let out = map1(v, n, |x| {
                    db.lookup(&x.to_kusto_string()).unwrap_or_else(|e| {
                        err.borrow_mut().get_or_insert(e);
                        Value::Null
                    })
                });
                return match err.into_inner() {
                    Some(e) => Err(EngineError::new(
                        format!("geo_info_from_ip_address(): {e}"),
                        Some(span),
                    )),
                    None => Ok(out),
                };
            }
            "toscalar" => {
                let a = args
                    .first()
                    .ok_or_else(|| EngineError::new("toscalar() needs a query", Some(span)))?;
                return match self.any(a)? {
                    Ok(tab) => Ok(Cv::Const(
                        tab.columns
                            .first()
                            .and_then(|c| c.data.first().cloned())
                            .unwrap_or(Value::Null),
                    )),
                    Err(v) => Ok(Cv::Const(v)),
                };
            }
            "now" => {
                let off = match args.first() {
                    Some(a) => self.scalar(a)?.as_i64().unwrap_or(0),
                    None => 0,
                };
                return Ok(Cv::Const(Value::DateTime(self.opts.now + off)));
            }
            "ago" => {
                let a = args
                    .first()
                    .ok_or_else(|| EngineError::new("ago() needs a timespan", Some(span)))?;
                let v = self.eval(a, t)?;
                let now = self.opts.now;
                return Ok(map1(v, n, |v| match v {
                    Value::TimeSpan(d) => Value::DateTime(now - d),
                    Value::Long(d) => Value::DateTime(now - d * super::value::DAY),
                    _ => Value::Null,
                }));
            }
            "column_ifexists" | "columnifexists" => {
                let col = match args.first() {
                    Some(a) => self.scalar(a)?.to_kusto_string(),
                    None => {
                        return Err(EngineError::new(
                            "column_ifexists() needs a name",
                            Some(span),
                        ))
                    }
                };
                if let Some(c) = t.column(&col) {
                    return Ok(Cv::Col(c.data.clone()));
                }
                return match args.get(1) {
                    Some(d) => self.eval(d, t),
                    None => Ok(Cv::Const(Value::Null)),
                };
            }
            // `search "term"`: the term in any column of the row (lowered from `search`).
            "__search_term" => {
                let term = match args.first().map(|a| self.scalar(a)) {
                    Some(Ok(v)) => v.to_kusto_string(),
                    _ => String::new(),
                };
                let cs = match args.get(1).map(|a| self.scalar(a)) {
                    Some(Ok(v)) => v.as_bool().unwrap_or(false),
                    _ => false,
                };
                let (lead, trail) = (term.starts_with('*'), term.ends_with('*') && term.len() > 1);
                let core = term.trim_matches('*');
                let needle = super::strings::Needle::new(core, cs);
                let matches = |s: &str| match (lead, trail) {
                    (true, true) => needle.contains(s),
                    (false, true) => needle.has(s, true, false),
                    (true, false) => needle.has(s, false, true),
                    (false, false) => needle.has(s, true, true),
                };
                let data = (0..n)
                    .map(|i| {
                        Value::Bool(t.columns.iter().any(|c| {
                            let v = &c.data[i];
                            !v.is_null()
                                && match v {
                                    Value::Str(s) => matches(s),
                                    other => matches(&other.to_kusto_string()),
                                }
                        }))
                    })
                    .collect();
                return Ok(Cv::Col(Data::new(data)));
            }
            // `bag_pack_columns(A, B)`: {"A": A, "B": B}, keyed by the columns' names.
            "bag_pack_columns" => {
                let mut cols = Vec::new();
                for a in args {
                    let Expr::Name(n, _) = a else {
                        return Err(EngineError::new(
                            "bag_pack_columns() takes column names",
                            Some(span),
                        ));
                    };
                    cols.push((n.clone(), self.eval(a, t)?));
                }
                let data = (0..n)
                    .map(|i| {
                        let m: serde_json::Map<String, serde_json::Value> = cols
                            .iter()
                            .map(|(name, cv)| (name.clone(), cv.get(i).to_json()))
                            .collect();
                        Value::dynamic(serde_json::Value::Object(m))
                    })
                    .collect();
                return Ok(Cv::Col(Data::new(data)));
            }
            "pack_all" | "bag_pack_all" => {
                // `pack_all(true)` leaves out null and empty values; `pack_all()` keeps them.
                let skip_empty = match args.first() {
                    Some(e) => self.eval(e, t)?.get(0).as_bool() == Some(true),
                    None => false,
                };
                let data = (0..n)
                    .map(|i| {
                        let mut m = serde_json::Map::new();
                        let shown = self.pack_columns.unwrap_or(t.columns.len());
                        for c in t.columns.iter().take(shown) {
                            let v = &c.data[i];
                            if !(skip_empty && v.is_empty()) {
                                m.insert(c.name.clone(), v.to_json());
                            }
                        }
                        Value::dynamic(serde_json::Value::Object(m))
                    })
                    .collect();
                return Ok(Cv::Col(Data::new(data)));
            }
            // Sample data is ingested as it is generated: ingestion time is TimeGenerated.
            "ingestion_time" => {
                return match t.column("TimeGenerated") {
                    Some(c) => Ok(Cv::Col(c.data.clone())),
                    None => Ok(Cv::Const(Value::Null)),
                };
            }
            "row_number" => {
                let start = match args.first() {
                    Some(a) => self.scalar(a)?.as_i64().unwrap_or(1),
                    None => 1,
                };
                return Ok(Cv::Col(Data::new(
                    (0..n).map(|i| Value::Long(start + i as i64)).collect(),
                )));
            }
            // Over serialized rows: the rank rises when the term changes (`_dense`), or is the
            // row number where the run of equal terms began (`_min`); `restart` starts over.
            "row_rank_dense" | "row_rank_min" => {
                let a = args.first().ok_or_else(|| {
                    EngineError::new(format!("{name}() needs a term"), Some(span))
                })?;
                let v = self.eval(a, t)?;
                let restart = match args.get(1) {
                    Some(r) => Some(self.eval(r, t)?),
                    None => None,
                };
                let dense = name == "row_rank_dense";
                let mut out = Vec::with_capacity(n);
                let (mut rank, mut row, mut prev): (i64, i64, Option<Value>) = (0, 0, None);
                for i in 0..n {
                    let cur = v.get(i);
                    if restart
                        .as_ref()
                        .is_some_and(|r| r.get(i).as_bool() == Some(true))
                    {
                        (rank, row, prev) = (0, 0, None);
                    }
                    row += 1;
                    let same = prev
                        .as_ref()
                        .is_some_and(|p| sort_cmp(p, cur) == std::cmp::Ordering::Equal);
                    if !same {
                        rank = if dense { rank + 1 } else { row };
                    }
                    prev = Some(cur.clone());
                    out.push(Value::Long(rank));
                }
                return Ok(Cv::Col(Data::new(out)));
            }
            // `row_window_session(Expr, MaxFromFirst, MaxBetween [, Restart])`: each row's
            // session start, a new session when the value reaches the start + MaxFromFirst or
            // the previous value + MaxBetween, after a null, or when Restart is true.
            "row_window_session" => {
                if args.len() < 3 {
                    return Err(EngineError::new(
                        "row_window_session() needs an expression and two timespans",
                        Some(span),
                    ));
                }
                let v = self.eval(&args[0], t)?;
                let from_first = self.scalar(&args[1])?.as_i64();
                let between = self.scalar(&args[2])?.as_i64();
                let restart = match args.get(3) {
                    Some(r) => Some(self.eval(r, t)?),
                    None => None,
                };
                let mut out = Vec::with_capacity(n);
                let (mut start, mut last): (Option<i64>, Option<i64>) = (None, None);
                for i in 0..n {
                    let cur = v.get(i);
                    let x = match cur {
                        Value::DateTime(x) | Value::TimeSpan(x) | Value::Long(x) => Some(*x),
                        _ => cur.as_i64(),
                    };
                    let new = match (x, start, last) {
                        (Some(x), Some(s), Some(l)) => {
                            restart
                                .as_ref()
                                .is_some_and(|r| r.get(i).as_bool() == Some(true))
                                || from_first.is_some_and(|d| x >= s.saturating_add(d))
                                || between.is_some_and(|d| x >= l.saturating_add(d))
                        }
                        _ => true,
                    };
                    if new {
                        start = x;
                    }
                    last = x;
                    out.push(match start {
                        Some(s) => match cur {
                            Value::TimeSpan(_) => Value::TimeSpan(s),
                            Value::Long(_) => Value::Long(s),
                            _ => Value::DateTime(s),
                        },
                        None => Value::Null,
                    });
                }
                return Ok(Cv::Col(Data::new(out)));
            }
            "prev" | "next" => {
                let a = args.first().ok_or_else(|| {
                    EngineError::new(format!("{name}() needs a column"), Some(span))
                })?;
                let v = self.eval(a, t)?;
                let off = match args.get(1) {
                    Some(o) => self.scalar(o)?.as_i64().unwrap_or(1),
                    None => 1,
                };
                let default = match args.get(2) {
                    Some(d) => self.scalar(d)?,
                    None => Value::Null,
                };
                let data = (0..n as i64)
                    .map(|i| {
                        let j = if name == "prev" { i - off } else { i + off };
                        if j >= 0 && (j as usize) < n {
                            v.get(j as usize).clone()
                        } else {
                            default.clone()
                        }
                    })
                    .collect();
                return Ok(Cv::Col(Data::new(data)));
            }
            _ => {}
        }
        if aggregate::is_aggregate(name) && !functions::is_scalar(name) {
            return Err(EngineError::new(
                format!("`{name}()` is an aggregation: use it in summarize"),
                Some(span),
            ));
        }
        let argv: Vec<Cv> = args.iter().map(|a| self.eval(a, t)).collect::<R<_>>()?;
        functions::call(name, argv, n, span)
    }
}

fn list_test(op: ListOp, v: &Value, vals: &[Value]) -> Value {
    match op {
        ListOp::In => Value::Bool(vals.iter().any(|x| equals(v, x) == Some(true))),
        ListOp::NotIn => Value::Bool(!vals.iter().any(|x| equals(v, x) == Some(true))),
        ListOp::InCi => Value::Bool(vals.iter().any(|x| eq_ci(&v.text(), &x.text()))),
        ListOp::NotInCi => Value::Bool(!vals.iter().any(|x| eq_ci(&v.text(), &x.text()))),
        ListOp::HasAny => Value::Bool(
            vals.iter()
                .any(|x| Needle::new(&x.text(), false).has(&v.text(), true, true)),
        ),
        ListOp::HasAll => Value::Bool(
            vals.iter()
                .all(|x| Needle::new(&x.text(), false).has(&v.text(), true, true)),
        ),
    }
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ *b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Hash a value consistently with [`same_key`] (and [`Value::key`]): values with equal keys
/// hash alike whatever their representation (a dynamic string and a string, `1` and `1.0`).
fn hash_value(v: &Value, h: &mut impl std::hash::Hasher) {
    match v {
        Value::Str(s) => hash_str(s, h),
        Value::Long(x) => hash_tagged(1, *x, h),
        Value::DateTime(x) => hash_tagged(3, *x, h),
        other => hash_key(&other.key(), h),
    }
}

fn hash_str(s: &str, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    5u8.hash(h);
    s.as_bytes().hash(h);
}

fn hash_tagged(tag: u8, x: i64, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    tag.hash(h);
    x.hash(h);
}

fn hash_key(k: &Key, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    match k {
        Key::Str(s) => hash_str(s, h),
        Key::Long(x) => hash_tagged(1, *x, h),
        Key::DateTime(x) => hash_tagged(3, *x, h),
        other => {
            9u8.hash(h);
            other.hash(h);
        }
    }
}

/// Whether two values fall in the same group (the equality of [`Value::key`]).
/// [`Exec::groups`] when every key column is a dictionary (or a constant) with no more
/// entries than rows, and there are at most four: rows are grouped on their dictionary keys,
/// each entry first mapped to the first entry with an equal key (a dictionary may repeat a
/// value), so there is no hashing of values per row. Same ids, same order.
fn dict_groups(rows: usize, by: &[Cv]) -> Option<(Vec<u32>, Vec<usize>)> {
    let mut cols: Vec<(&[u32], Vec<u32>)> = Vec::new();
    for c in by {
        match c {
            Cv::Const(_) => {}
            Cv::Col(Data::Dict(k, d)) if d.len() <= rows.max(1) && k.len() == rows => {
                let mut first: HashMap<Key, u32, foldhash::fast::FixedState> = HashMap::default();
                let canon = d
                    .iter()
                    .enumerate()
                    .map(|(e, v)| *first.entry(v.key()).or_insert(e as u32))
                    .collect();
                cols.push((k, canon));
            }
            _ => return None,
        }
    }
    if cols.len() > 4 {
        return None;
    }
    let mut ids = Vec::with_capacity(rows);
    let mut firsts: Vec<usize> = Vec::new();
    match &cols[..] {
        [] => {
            if rows > 0 {
                firsts.push(0);
            }
            ids.resize(rows, 0);
        }
        [(k, canon)] => {
            let mut gid = vec![u32::MAX; canon.len()];
            for (i, &key) in k.iter().enumerate() {
                let e = canon[key as usize] as usize;
                if gid[e] == u32::MAX {
                    gid[e] = firsts.len() as u32;
                    firsts.push(i);
                }
                ids.push(gid[e]);
            }
        }
        _ => {
            let mut gid: HashMap<u128, u32, foldhash::fast::FixedState> = HashMap::default();
            for i in 0..rows {
                let mut packed = 0u128;
                for (k, canon) in &cols {
                    packed = (packed << 32) | canon[k[i] as usize] as u128;
                }
                let next = firsts.len() as u32;
                let g = *gid.entry(packed).or_insert(next);
                if g == next {
                    firsts.push(i);
                }
                ids.push(g);
            }
        }
    }
    Some((ids, firsts))
}

fn same_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Arc::ptr_eq(x, y) || x == y,
        (Value::Long(x), Value::Long(y)) | (Value::DateTime(x), Value::DateTime(y)) => x == y,
        _ => a.key() == b.key(),
    }
}

/// A key or index of a dynamic value, as a value (null when absent or not dynamic).
fn member(v: &Value, key: impl serde_json::value::Index) -> Value {
    match v {
        Value::Dyn(d) => d
            .get(key)
            .map(|x| Value::dynamic(x.clone()).unwrap_dynamic())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// "Granny" order of names: runs of digits compare as numbers (`a2` < `a10`), the rest as
/// text.
fn granny_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn parts(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let b = s.as_bytes();
        for i in 1..=b.len() {
            if i == b.len() || b[i].is_ascii_digit() != b[start].is_ascii_digit() {
                out.push((b[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// Names an expression reads; `None` when it may read any column (`*`, `pack_all()`, ...).
/// Every name an expression mentions (not stopping where [`names_read`] gives up).
fn every_name(e: &Expr, out: &mut std::collections::BTreeSet<String>) {
    match e {
        Expr::Name(n, _) => {
            out.insert(n.clone());
        }
        Expr::Bin(_, a, b, _) | Expr::Index(a, b) => {
            every_name(a, out);
            every_name(b, out);
        }
        Expr::Not(a) | Expr::Neg(a) | Expr::Member(a, _) | Expr::Named(_, a) => every_name(a, out),
        Expr::Between(_, a, b, c) => {
            every_name(a, out);
            every_name(b, out);
            every_name(c, out);
        }
        Expr::List(_, a, items, _) => {
            every_name(a, out);
            items.iter().for_each(|i| every_name(i, out));
        }
        Expr::Call(_, args, _) => args.iter().for_each(|a| every_name(a, out)),
        _ => {}
    }
}

fn names_read(e: &Expr, out: &mut std::collections::BTreeSet<String>) -> bool {
    match e {
        Expr::Lit(_) | Expr::Side(..) | Expr::Unsupported(..) => true,
        Expr::Name(n, _) => {
            out.insert(n.clone());
            true
        }
        Expr::Star | Expr::Wildcard(_) | Expr::Pipe(..) | Expr::Source(_) => false,
        Expr::Bin(_, a, b, _) => names_read(a, out) && names_read(b, out),
        Expr::Not(a) | Expr::Neg(a) | Expr::Member(a, _) | Expr::Named(_, a) => names_read(a, out),
        Expr::Index(a, b) => names_read(a, out) && names_read(b, out),
        Expr::Between(_, a, b, c) => names_read(a, out) && names_read(b, out) && names_read(c, out),
        Expr::List(_, a, items, _) => {
            names_read(a, out) && items.iter().all(|i| names_read(i, out))
        }
        Expr::Call(name, args, _) => {
            !matches!(
                name.as_str(),
                "pack_all"
                    | "bag_pack_all"
                    | "column_ifexists"
                    | "columnifexists"
                    | "toscalar"
                    | "__search_term"
            ) && args.iter().all(|a| names_read(a, out))
        }
    }
}

/// The columns an operator reads from its input, when it reads a known set and passes
/// nothing else through.
fn columns_read(op: &Op) -> Option<std::collections::BTreeSet<String>> {
    let mut out = std::collections::BTreeSet::new();
    let ok = match op {
        Op::Project(items) | Op::Distinct(items) => {
            !items.is_empty() && items.iter().all(|a| names_read(&a.expr, &mut out))
        }
        Op::Summarize { aggs, by } => aggs
            .iter()
            .chain(by.iter())
            .all(|a| names_read(&a.expr, &mut out)),
        Op::Count => true,
        _ => false,
    };
    ok.then_some(out)
}

/// Replace aggregate calls inside an expression with `__aggN` names, collecting the calls.
fn extract_aggregates(e: &Expr, out: &mut Vec<Expr>) -> Expr {
    match e {
        Expr::Call(name, args, span) => {
            if aggregate::is_aggregate(name) {
                out.push(e.clone());
                return Expr::Name(format!("__agg{}", out.len() - 1), *span);
            }
            Expr::Call(
                name.clone(),
                args.iter().map(|a| extract_aggregates(a, out)).collect(),
                *span,
            )
        }
        Expr::Bin(op, a, b, s) => Expr::Bin(
            *op,
            Box::new(extract_aggregates(a, out)),
            Box::new(extract_aggregates(b, out)),
            *s,
        ),
        Expr::Not(a) => Expr::Not(Box::new(extract_aggregates(a, out))),
        Expr::Neg(a) => Expr::Neg(Box::new(extract_aggregates(a, out))),
        Expr::Member(a, p) => Expr::Member(Box::new(extract_aggregates(a, out)), p.clone()),
        Expr::Index(a, b) => Expr::Index(
            Box::new(extract_aggregates(a, out)),
            Box::new(extract_aggregates(b, out)),
        ),
        other => other.clone(),
    }
}

fn clr_type(t: Type) -> &'static str {
    match t {
        Type::String => "System.String",
        Type::Long => "System.Int64",
        Type::Int => "System.Int32",
        Type::Real => "System.Double",
        Type::Decimal => "System.Data.SqlTypes.SqlDecimal",
        Type::Bool => "System.SByte",
        Type::DateTime => "System.DateTime",
        Type::TimeSpan => "System.TimeSpan",
        Type::Guid => "System.Guid",
        Type::Dynamic => "System.Object",
        Type::Unknown => "System.Object",
    }
}

pub(crate) fn map1(v: Cv, n: usize, f: impl Fn(&Value) -> Value) -> Cv {
    match v {
        Cv::Const(c) => Cv::Const(f(&c)),
        Cv::Col(c) if c.len() == n => Cv::Col(c.map(f)),
        Cv::Col(c) => Cv::Col(Data::new(c.iter().take(n).map(f).collect())),
    }
}

fn union(parts: &[(String, Arc<Table>)], source: Option<&str>, outer: bool) -> Table {
    let legs: Vec<Vec<(String, Type)>> = parts.iter().map(|(_, t)| t.schema()).collect();
    let schema = crate::kql::catalog::union_columns(&legs, !outer);
    let mut cols: Vec<Vec<Value>> = vec![Vec::new(); schema.len()];
    let mut src = Vec::new();
    for (label, t) in parts {
        for (k, u) in schema.iter().enumerate() {
            match t.column(&u.source) {
                // A split column takes the rows of its type (an untyped column's go to the
                // first of the name's columns).
                Some(c) if !u.split || c.ty == u.ty || (c.ty == Type::Unknown && u.first) => {
                    cols[k].extend(c.data.iter().cloned())
                }
                _ => {
                    let null = if u.ty == Type::String {
                        Value::empty_str()
                    } else {
                        Value::Null
                    };
                    cols[k].extend(std::iter::repeat_n(null, t.rows));
                }
            }
        }
        src.extend(std::iter::repeat_n(Value::str(label), t.rows));
    }
    let mut columns: Vec<Column> = schema
        .into_iter()
        .zip(cols)
        .map(|(u, d)| Column::new(u.name, u.ty, d))
        .collect();
    if let Some(s) = source {
        columns.insert(0, Column::new(s, Type::String, src));
    }
    let rows = parts.iter().map(|(_, t)| t.rows).sum();
    Table { columns, rows }
}

type BinFn = Box<dyn Fn(&Value, &Value) -> Value>;

/// Binary operators over columns, with fast paths for a column against a constant.
fn binary(op: BinOp, x: Cv, y: Cv, n: usize, span: Span) -> R<Cv> {
    let _ = span;
    let both_const = x.is_const() && y.is_const();
    let f: BinFn = match op {
        BinOp::And => Box::new(|a, b| match (a.as_bool(), b.as_bool()) {
            (Some(false), _) | (_, Some(false)) => Value::Bool(false),
            (Some(true), Some(true)) => Value::Bool(true),
            _ => Value::Null,
        }),
        BinOp::Or => Box::new(|a, b| match (a.as_bool(), b.as_bool()) {
            (Some(true), _) | (_, Some(true)) => Value::Bool(true),
            (Some(false), Some(false)) => Value::Bool(false),
            _ => Value::Null,
        }),
        BinOp::Add => Box::new(functions::add),
        BinOp::Sub => Box::new(functions::sub),
        BinOp::Mul => Box::new(functions::mul),
        BinOp::Div => Box::new(functions::div),
        BinOp::Mod => Box::new(functions::modulo),
        BinOp::Eq => {
            if let Cv::Const(Value::Long(k)) = &y {
                let k = *k;
                if let Cv::Col(c) = &x {
                    return Ok(Cv::Col(Data::new(
                        c.iter()
                            .map(|v| match v {
                                Value::Long(a) => Value::Bool(*a == k),
                                Value::Null => Value::Bool(false),
                                other => match equals(other, &Value::Long(k)) {
                                    Some(b) => Value::Bool(b),
                                    None => Value::Null,
                                },
                            })
                            .collect(),
                    )));
                }
            }
            Box::new(|a, b| match equals(a, b) {
                Some(r) => Value::Bool(r),
                None => Value::Null,
            })
        }
        BinOp::Ne => Box::new(|a, b| match equals(a, b) {
            Some(r) => Value::Bool(!r),
            None => Value::Null,
        }),
        BinOp::EqCi => Box::new(|a, b| Value::Bool(eq_ci(&a.text(), &b.text()))),
        BinOp::NeCi => Box::new(|a, b| Value::Bool(!eq_ci(&a.text(), &b.text()))),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Box::new(move |a, b| {
            if a.is_null() || b.is_null() {
                return Value::Null;
            }
            match compare(a, b) {
                Some(o) => Value::Bool(match op {
                    BinOp::Lt => o.is_lt(),
                    BinOp::Le => o.is_le(),
                    BinOp::Gt => o.is_gt(),
                    _ => o.is_ge(),
                }),
                None => Value::Null,
            }
        }),
        BinOp::Str(sop, neg, cs) => {
            // The needle is usually a constant: prepare it once.
            if let Cv::Const(nv) = &y {
                let needle = Needle::new(&nv.text(), cs);
                let test = move |a: &Value| -> Value {
                    let s = a.text();
                    let hit = match sop {
                        StrOp::Has => needle.has(&s, true, true),
                        StrOp::HasPrefix => needle.has(&s, true, false),
                        StrOp::HasSuffix => needle.has(&s, false, true),
                        StrOp::Contains => needle.contains(&s),
                        StrOp::StartsWith => needle.starts_with(&s),
                        StrOp::EndsWith => needle.ends_with(&s),
                    };
                    Value::Bool(hit != neg)
                };
                return Ok(map1(x, n, test));
            }
            Box::new(move |a, b| {
                let needle = Needle::new(&b.text(), cs);
                let s = a.text();
                let hit = match sop {
                    StrOp::Has => needle.has(&s, true, true),
                    StrOp::HasPrefix => needle.has(&s, true, false),
                    StrOp::HasSuffix => needle.has(&s, false, true),
                    StrOp::Contains => needle.contains(&s),
                    StrOp::StartsWith => needle.starts_with(&s),
                    StrOp::EndsWith => needle.ends_with(&s),
                };
                Value::Bool(hit != neg)
            })
        }
        BinOp::Matches => {
            if let Cv::Const(p) = &y {
                let re = functions::regex(&p.text())?;
                return Ok(map1(x, n, |a| Value::Bool(re.is_match(&a.text()))));
            }
            Box::new(|a, b| match functions::regex(&b.text()) {
                Ok(re) => Value::Bool(re.is_match(&a.text())),
                Err(_) => Value::Null,
            })
        }
    };
    if both_const {
        return Ok(Cv::Const(f(x.get(0), y.get(0))));
    }
    // Fast paths: column against constant.
    match (&x, &y) {
        (Cv::Col(c), Cv::Const(k)) => Ok(Cv::Col(c.map(|v| f(v, k)))),
        (Cv::Const(k), Cv::Col(c)) => Ok(Cv::Col(c.map(|v| f(k, v)))),
        _ => Ok(Cv::Col(Data::new(
            (0..n).map(|i| f(x.get(i), y.get(i))).collect(),
        ))),
    }
}

/// `t` without its column `name`.
fn without_column(t: &Table, name: &str) -> Table {
    Table {
        columns: t
            .columns
            .iter()
            .filter(|c| c.name != name)
            .cloned()
            .collect(),
        rows: t.rows,
    }
}

/// `mv-apply`'s result from the outer rows (aligned with the subquery's rows) and the
/// subquery's result: the outer columns except those expanded in place, each the subquery's column
/// when it has one of that name, then the subquery's other columns.
fn applied(outer: &Table, expanded: &[&str], sub: &Table) -> Table {
    let kept: Vec<&Column> = outer
        .columns
        .iter()
        .filter(|c| !expanded.contains(&c.name.as_str()))
        .collect();
    let mut columns: Vec<Column> = kept
        .iter()
        .filter_map(|c| match sub.column(&c.name) {
            Some(s) => Some(s.clone()),
            None if outer.rows == sub.rows => Some((*c).clone()),
            None => None,
        })
        .collect();
    columns.extend(
        sub.columns
            .iter()
            .filter(|c| !kept.iter().any(|k| k.name == c.name))
            .cloned(),
    );
    Table {
        columns,
        rows: sub.rows,
    }
}

/// Parse, bind and lower a stored function into a callable definition. The body is bound as
/// the binder binds a call with typed null arguments (`f(string(null), long(null))`), so its
/// plan carries the binder's names and types like any query's; a function with a tabular
/// parameter is bound through a call with no arguments (its parameters' types unknown).
fn stored_function(
    name: &str,
    sf: &StoredFunction,
    catalog: &crate::kql::catalog::Catalog,
) -> R<FuncDef> {
    let params = sf.params.trim();
    let decl = if params.is_empty() {
        format!("let {name} = () {{ {} }};", sf.body)
    } else {
        format!("let {name} = {params} {{ {} }};", sf.body)
    };
    let args: Vec<String> = param_types(params)
        .map(|types| {
            types
                .iter()
                .map(|t| format!("{t}(null)"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    // The declaration and a call, parsed and bound together (one parse on the usual path);
    // the call adds nothing to the plan taken. The declaration alone is parsed only to report
    // its own error.
    let text = format!("{decl}\n{name}({})", args.join(", "));
    let with_call = crate::kql::parse(&text);
    let q = if with_call.errors.is_empty() {
        super::plan(&text, &with_call.tree, catalog)
    } else {
        let parsed = crate::kql::parse(&decl);
        if let Some(e) = parsed.errors.first() {
            return Err(EngineError::new(
                format!("the function `{name}` does not parse: {}", e.message),
                None,
            ));
        }
        super::lower::lower(&decl, &parsed.tree)
    };
    for s in q.statements {
        if let Stmt::Func(n, f) = s {
            if n == name {
                return Ok((*f).clone());
            }
        }
    }
    Err(EngineError::new(
        format!("the function `{name}` has no body"),
        None,
    ))
}

/// The scalar types of a parameter list as written (`(a:string, b:long=5)`), or None when a
/// parameter is tabular (`T:(*)`) or a type is missing.
fn param_types(params: &str) -> Option<Vec<String>> {
    let inner = params.strip_prefix('(')?.strip_suffix(')')?;
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    let mut parts = Vec::new();
    for (i, ch) in inner.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    for p in parts.iter().filter(|p| !p.trim().is_empty()) {
        let (_, rest) = p.split_once(':')?;
        let ty = rest.split('=').next()?.trim();
        if ty.is_empty() || !ty.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        out.push(ty.to_string());
    }
    Some(out)
}
