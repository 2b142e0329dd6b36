//! The one view of the syntax tree that the binder and the engine's lowering share: node
//! kinds, children and tokens, names (bracketed names unwrapped), call arguments, and the
//! column name Kusto gives an unnamed expression (`tostring(x)` → `x`, `strlen(x)` →
//! `strlen_x`, `pack_array(x, y)` → `Column1`, `series_stats(x)` → seven `series_stats_x_*`),
//! so binder and engine name result columns by the same rules.

use super::catalog::Type;
use super::syntax::{NodeKind as N, SyntaxTree, Token, TokenKind as T};

/// How an unnamed aggregation call's columns are named ([`View::aggregate_names`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AggregateNames {
    /// These columns, decided by the call alone.
    Named(Vec<String>),
    /// A generated `ColumnN` (`binary_all_and(x + 1)`, or a name vigil does not know).
    Generated,
    /// The arguments' own columns (`arg_max`, `take_any`, `any`), which depend on the input.
    Columns,
}

#[derive(Clone, Copy)]
pub struct View<'a> {
    pub text: &'a str,
    pub tree: &'a SyntaxTree,
}

/// How Kusto.Language names the column of an unnamed function call (its `ResultNameKind`,
/// read from Kusto.Language's function table and checked with the oracle on probe queries).
enum ResultName {
    /// No rule: a generated `ColumnN`.
    Generated,
    /// The first argument's name: `tostring(x)` → `x`.
    FirstArgument,
    /// The first argument's name when it is the only argument (`make_datetime`).
    OnlyArgument,
    /// A prefix, `_`, the first argument's name: `strlen(x)` → `strlen_x`.
    Prefixed(&'static str),
    /// The value of the first (string) argument: `column_ifexists('x', 0)` → `x`.
    ColumnIfExists,
    /// A fixed name.
    Fixed(&'static str),
}

/// The rule of `f` as `src/kql/data/builtins.tsv` declares it (its `result_name` column).
fn result_name_kind(f: &str) -> ResultName {
    match super::catalog::result_name_rule(f) {
        Some("arg1") => ResultName::FirstArgument,
        Some("only_arg") => ResultName::OnlyArgument,
        Some("column_ifexists") => ResultName::ColumnIfExists,
        Some(r) => match (r.strip_prefix("prefix:"), r.strip_prefix("fixed:")) {
            (Some(p), _) => ResultName::Prefixed(p),
            (_, Some(n)) => ResultName::Fixed(n),
            _ => ResultName::Generated,
        },
        None => ResultName::Generated,
    }
}

impl<'a> View<'a> {
    pub fn kind(&self, id: u32) -> N {
        self.tree.node(id).kind
    }

    pub fn children(&self, id: u32) -> Vec<u32> {
        self.tree.child_nodes(id)
    }

    pub fn tokens(&self, id: u32) -> Vec<Token> {
        self.tree.child_tokens(id)
    }

    pub fn tok_text(&self, t: Token) -> &'a str {
        &self.text[t.range()]
    }

    /// The name a `Name` node holds (bracketed names unwrapped) and its token.
    pub fn name_of(&self, id: u32) -> Option<(String, Token)> {
        if self.kind(id) != N::Name {
            return None;
        }
        let t = *self.tokens(id).first()?;
        let raw = self.tok_text(t);
        let name = if t.kind == T::BracketedName {
            let inner = raw.trim_start_matches('[').trim_end_matches(']').trim();
            super::literal::decode_string(inner).unwrap_or_else(|| inner.to_string())
        } else {
            raw.to_string()
        };
        Some((name, t))
    }

    /// The arguments of a call.
    pub fn args(&self, call: u32) -> Vec<u32> {
        self.children(call)
            .into_iter()
            .find(|c| self.kind(*c) == N::List)
            .map(|l| self.children(l))
            .unwrap_or_default()
    }

    /// The default column name Kusto gives an unnamed expression, if vigil knows it.
    pub fn default_name(&self, id: u32) -> Option<String> {
        match self.kind(id) {
            N::Name => self.name_of(id).map(|(n, _)| n),
            N::Member => {
                let mut parts = Vec::new();
                for k in self.children(id) {
                    match self.kind(k) {
                        N::Name => parts.push(self.name_of(k)?.0),
                        // `parse_json(x).a` → `x_a`; `(a.b).c` → `a_b_c`.
                        _ => parts.push(self.default_name(k)?),
                    }
                }
                Some(parts.join("_"))
            }
            // `d["key"]` → `d_key`.
            N::Index => {
                let k = self.children(id);
                let base = self.default_name(*k.first()?)?;
                let key = *k.get(1)?;
                let lit = self.tokens(key).into_iter().next()?;
                let part = match lit.kind {
                    T::String => super::literal::decode_string(self.tok_text(lit))?,
                    T::Int => self.tok_text(lit).to_string(),
                    _ => return None,
                };
                Some(format!("{base}_{part}"))
            }
            // Kusto.Language's result-name rule of the function: `tostring(x)`, `bin(x, 1h)` →
            // `x`; `strlen(x)` → `strlen_x`; most others → no name (`Column1`).
            N::Call => {
                let callee = *self.children(id).first()?;
                let (fname, _) = self.name_of(callee)?;
                let args = self.args(id);
                if let ResultName::Fixed(n) = result_name_kind(&fname.to_ascii_lowercase()) {
                    return Some(n.to_string());
                }
                // An aggregation inside an expression: `log(count())` → `count_`.
                if let (ResultName::Generated, Some(_)) = (
                    result_name_kind(&fname.to_ascii_lowercase()),
                    super::catalog::aggregate_name_rule(&fname.to_ascii_lowercase()),
                ) {
                    return match self.aggregate_names(id) {
                        AggregateNames::Named(n) if n.len() == 1 => n.into_iter().next(),
                        _ => None,
                    };
                }
                let first = *args.first()?;
                match result_name_kind(&fname.to_ascii_lowercase()) {
                    ResultName::FirstArgument => self.default_name(first),
                    ResultName::OnlyArgument if args.len() == 1 => self.default_name(first),
                    ResultName::Prefixed(p) => Some(format!("{p}_{}", self.default_name(first)?)),
                    ResultName::Fixed(n) => Some(n.to_string()),
                    ResultName::ColumnIfExists => {
                        let t = self.tokens(first).into_iter().next()?;
                        super::literal::decode_string(self.tok_text(t))
                    }
                    _ => None,
                }
            }
            N::Paren => self.default_name(*self.children(id).first()?),
            // `bin(IngestionTime = ingestion_time(), 30m)`: the argument's name.
            N::NamedArg => {
                let t = self
                    .tokens(*self.children(id).first()?)
                    .into_iter()
                    .next()?;
                Some(self.tok_text(t).to_string())
            }
            _ => None,
        }
    }

    /// The columns of an unnamed aggregation call, by the rule `builtins.tsv` declares for it
    /// (one rule for binder and engine): `count()` → `count_`, `dcount(x)` → `dcount_x`,
    /// `max(x + 1)` → `max_`, `make_set(x)` → `set_x`, `percentiles(x, 50, 99.5)` →
    /// `percentile_x_50`, `percentile_x_99_5`, `binary_all_and(x)` → `x`.
    pub fn aggregate_names(&self, call: u32) -> AggregateNames {
        let Some((fname, _)) = self.children(call).first().and_then(|c| self.name_of(*c)) else {
            return AggregateNames::Generated;
        };
        let fname = fname.to_ascii_lowercase();
        let args = self.args(call);
        let first = args.first().and_then(|a| self.default_name(*a));
        let Some(rule) = super::catalog::aggregate_name_rule(&fname) else {
            return AggregateNames::Generated;
        };
        if let Some(p) = rule.strip_prefix("prefix:") {
            return AggregateNames::Named(vec![format!("{p}_{}", first.unwrap_or_default())]);
        }
        match rule {
            "arg1" => first.map_or(AggregateNames::Generated, |f| {
                AggregateNames::Named(vec![f])
            }),
            "percentiles" => {
                let col = first.unwrap_or_default();
                // The weighted forms' second argument is the weight.
                let skip = if fname.ends_with('w') { 2 } else { 1 };
                AggregateNames::Named(
                    args.iter()
                        .skip(skip)
                        .map(|a| {
                            let p = self
                                .tree
                                .node_range(*a)
                                .map(|(s, e)| self.text[s as usize..e as usize].replace('.', "_"))
                                .unwrap_or_default();
                            format!("percentile_{col}_{p}")
                        })
                        .collect(),
                )
            }
            _ => AggregateNames::Columns,
        }
    }

    /// The columns of an unnamed call of a function that returns several values (the series
    /// analysis functions): `{function}_{first argument}_{part}`.
    pub fn tuple_names(&self, id: u32) -> Option<Vec<String>> {
        if self.kind(id) != N::Call {
            return None;
        }
        let (fname, _) = self.name_of(*self.children(id).first()?)?;
        let lower = fname.to_ascii_lowercase();
        if lower == "array_sort_asc" || lower == "array_sort_desc" {
            return self.sorted_array_names(id);
        }
        let parts = tuple_parts(&fname)?;
        let arg = self.default_name(*self.args(id).first()?)?;
        Some(
            parts
                .iter()
                .map(|p| format!("{}_{arg}_{p}", fname.to_ascii_lowercase()))
                .collect(),
        )
    }
}

impl View<'_> {
    /// `array_sort_asc(a, b, ...)` with two or more arrays returns them all, each sorted by
    /// the first's order: unnamed, the columns are `{argument}_sorted` (`array{i}_sorted`
    /// for an argument without a name), as Kusto.Language names them. A trailing `true` /
    /// `false` is the nulls-last flag, not an array.
    fn sorted_array_names(&self, id: u32) -> Option<Vec<String>> {
        let mut args = self.args(id);
        if let Some(last) = args.last() {
            let t = self.tokens(*last);
            if t.len() == 1 && matches!(self.tok_text(t[0]), "true" | "false") {
                args.pop();
            }
        }
        if args.len() < 2 {
            return None;
        }
        Some(
            args.iter()
                .enumerate()
                .map(|(i, a)| match self.kind(*a) {
                    N::Name => self
                        .name_of(*a)
                        .map_or(format!("array{i}_sorted"), |(n, _)| format!("{n}_sorted")),
                    _ => format!("array{i}_sorted"),
                })
                .collect(),
        )
    }
}

/// The type of each part of [`tuple_parts`] (Kusto.Language's: the decompositions and
/// periods are series, the statistics scalars).
pub fn tuple_part_type(function: &str, part: &str) -> Type {
    match (function.to_ascii_lowercase().as_str(), part) {
        ("series_stats", "min_idx" | "max_idx") | ("series_fit_2lines", "split_idx") => Type::Long,
        ("series_stats" | "series_fit_line" | "series_fit_2lines", "line_fit") => Type::Dynamic,
        ("series_stats" | "series_fit_line" | "series_fit_2lines", _) => Type::Real,
        _ => Type::Dynamic,
    }
}

/// The values a series analysis function returns, in order; an unnamed call's columns are
/// `{function}_{first argument}_{part}` (the binder names them, the engine fills them).
pub fn tuple_parts(function: &str) -> Option<&'static [&'static str]> {
    Some(match function.to_ascii_lowercase().as_str() {
        "series_decompose" | "series_decompose_forecast" => {
            &["baseline", "seasonal", "trend", "residual"]
        }
        "series_decompose_anomalies" => &["ad_flag", "ad_score", "baseline"],
        "series_periods_detect" | "series_periods_validate" => &["periods", "scores"],
        "series_fit_line" => &[
            "rsquare",
            "slope",
            "variance",
            "rvariance",
            "interception",
            "line_fit",
        ],
        "series_stats" => &[
            "min", "min_idx", "max", "max_idx", "avg", "stdev", "variance",
        ],
        "series_fit_2lines" => &[
            "rsquare",
            "split_idx",
            "variance",
            "rvariance",
            "line_fit",
            "right_rsquare",
            "right_slope",
            "right_interception",
            "right_variance",
            "right_rvariance",
            "left_rsquare",
            "left_slope",
            "left_interception",
            "left_variance",
            "left_rvariance",
        ],
        _ => return None,
    })
}
