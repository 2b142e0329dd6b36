//! Tables: named, typed columns of values, shared by reference between operators.

use std::sync::Arc;

use super::value::{Type, Value};

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub ty: Type,
    pub data: Arc<Vec<Value>>,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: Type, data: Vec<Value>) -> Column {
        Column {
            name: name.into(),
            ty,
            data: Arc::new(data),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: usize,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        let rows = columns.first().map(|c| c.data.len()).unwrap_or(0);
        debug_assert!(columns.iter().all(|c| c.data.len() == rows));
        Table { columns, rows }
    }

    /// A table with columns and no rows.
    pub fn empty(schema: &[(String, Type)]) -> Table {
        Table {
            columns: schema
                .iter()
                .map(|(n, t)| Column::new(n.clone(), *t, Vec::new()))
                .collect(),
            rows: 0,
        }
    }

    /// The bytes the values hold (see [`super::Output::scanned_bytes`]); nulls hold none.
    pub fn data_bytes(&self) -> u64 {
        self.columns
            .iter()
            .flat_map(|c| c.data.iter())
            .map(|v| match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Long(_) | Value::Real(_) | Value::DateTime(_) | Value::TimeSpan(_) => 8,
                Value::Str(s) => s.len() as u64,
                Value::Dyn(d) if d.is_null() => 0,
                Value::Dyn(d) => d.to_string().len() as u64,
            })
            .sum()
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The rows at `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                ty: c.ty,
                data: Arc::new(idx.iter().map(|&i| c.data[i].clone()).collect()),
            })
            .collect();
        Table {
            columns,
            rows: idx.len(),
        }
    }

    /// The rows of `self` followed by the rows of `other`: `self`'s columns first, then the
    /// columns only `other` has; a column one side lacks is null there (typed as the side that
    /// has it, `self` first).
    pub fn concat(&self, other: &Table) -> Table {
        let mut names: Vec<(String, Type)> = self.schema();
        for c in &other.columns {
            if self.index_of(&c.name).is_none() {
                names.push((c.name.clone(), c.ty));
            }
        }
        let columns = names
            .into_iter()
            .map(|(name, ty)| {
                let mut data = Vec::with_capacity(self.rows + other.rows);
                for t in [self, other] {
                    match t.column(&name) {
                        Some(c) if c.ty == ty => data.extend(c.data.iter().cloned()),
                        Some(c) => data.extend(c.data.iter().map(|v| v.cast(ty))),
                        None => data.extend((0..t.rows).map(|_| Value::Null.cast(ty))),
                    }
                }
                Column::new(name, ty, data)
            })
            .collect();
        Table {
            columns,
            rows: self.rows + other.rows,
        }
    }

    /// Add or replace a column (replaced columns keep their position).
    pub fn set(&mut self, col: Column) {
        match self.index_of(&col.name) {
            Some(i) => self.columns[i] = col,
            None => self.columns.push(col),
        }
    }

    pub fn schema(&self) -> Vec<(String, Type)> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), c.ty))
            .collect()
    }

    pub fn row(&self, i: usize) -> Vec<Value> {
        self.columns.iter().map(|c| c.data[i].clone()).collect()
    }

    /// Rows as JSON arrays (for `--format json` and the query API).
    pub fn json_rows(&self) -> Vec<serde_json::Value> {
        (0..self.rows)
            .map(|i| {
                serde_json::Value::Array(
                    self.columns
                        .iter()
                        .map(|c| cell_json(&c.data[i], c.ty))
                        .collect(),
                )
            })
            .collect()
    }

    /// An aligned text table, at most `limit` rows.
    pub fn to_text(&self, limit: usize) -> String {
        let shown = self.rows.min(limit);
        let cells: Vec<Vec<String>> = (0..shown)
            .map(|i| {
                self.columns
                    .iter()
                    .map(|c| {
                        let s = cell_text(&c.data[i]);
                        let s = s.replace(['\n', '\r', '\t'], " ");
                        if s.chars().count() > 60 {
                            let cut: String = s.chars().take(59).collect();
                            format!("{cut}…")
                        } else {
                            s
                        }
                    })
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|c| c.name.chars().count())
            .collect();
        for r in &cells {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |vals: Vec<&str>, out: &mut String| {
            let parts: Vec<String> = vals
                .iter()
                .zip(&widths)
                .map(|(v, w)| format!("{v:<w$}", w = *w))
                .collect();
            out.push_str(parts.join("  ").trim_end());
            out.push('\n');
        };
        line(
            self.columns.iter().map(|c| c.name.as_str()).collect(),
            &mut out,
        );
        line(widths.iter().map(|_| "").collect(), &mut out);
        out.truncate(out.trim_end().len());
        out.push('\n');
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str(&rule.join("  "));
        out.push('\n');
        for r in &cells {
            line(r.iter().map(|s| s.as_str()).collect(), &mut out);
        }
        if self.rows > shown {
            out.push_str(&format!("({} more rows)\n", self.rows - shown));
        }
        out
    }

    /// CSV with a header line (RFC 4180 quoting).
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let esc = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        out.push_str(
            &self
                .columns
                .iter()
                .map(|c| esc(&c.name))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
        for i in 0..self.rows {
            out.push_str(
                &self
                    .columns
                    .iter()
                    .map(|c| esc(&cell_text(&c.data[i])))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        out
    }
}

/// A cell as text (nulls empty).
pub fn cell_text(v: &Value) -> String {
    v.to_kusto_string()
}

/// A cell as JSON, as the query API returns it: numbers as numbers, datetimes and timespans
/// as strings, dynamic values as JSON.
pub fn cell_json(v: &Value, ty: Type) -> serde_json::Value {
    match (v, ty) {
        (Value::Null, Type::String) => serde_json::Value::String(String::new()),
        _ => v.to_json(),
    }
}

/// A column value or a constant for every row.
#[derive(Clone, Debug)]
pub enum Cv {
    Const(Value),
    Col(Arc<Vec<Value>>),
}

impl Cv {
    #[inline]
    pub fn get(&self, i: usize) -> &Value {
        match self {
            Cv::Const(v) => v,
            Cv::Col(c) => &c[i],
        }
    }

    pub fn into_vec(self, n: usize) -> Vec<Value> {
        match self {
            Cv::Const(v) => vec![v; n],
            Cv::Col(c) => Arc::try_unwrap(c).unwrap_or_else(|a| (*a).clone()),
        }
    }

    pub fn into_arc(self, n: usize) -> Arc<Vec<Value>> {
        match self {
            Cv::Const(v) => Arc::new(vec![v; n]),
            Cv::Col(c) => c,
        }
    }

    pub(crate) fn is_const(&self) -> bool {
        matches!(self, Cv::Const(_))
    }
}

/// The type a column gets from its values when no schema says otherwise.
pub fn infer_type(data: &[Value]) -> Type {
    for v in data {
        match v {
            Value::Null => continue,
            Value::Long(_) => return Type::Long,
            other => return other.type_of(),
        }
    }
    Type::Unknown
}

#[cfg(test)]
mod bytes_tests {
    use super::*;

    #[test]
    fn data_bytes_count_values_not_nulls() {
        let t = Table::new(vec![
            Column::new(
                "s",
                Type::String,
                vec![Value::str("abc"), Value::str(""), Value::Null],
            ),
            Column::new(
                "n",
                Type::Long,
                vec![Value::Long(1), Value::Null, Value::Long(3)],
            ),
            Column::new(
                "d",
                Type::Dynamic,
                vec![
                    Value::Dyn(std::sync::Arc::new(serde_json::json!({"a": 1}))),
                    Value::Dyn(std::sync::Arc::new(serde_json::Value::Null)),
                    Value::Bool(true),
                ],
            ),
        ]);
        // "abc" 3 + two longs 16 + `{"a":1}` 7 + a bool 1.
        assert_eq!(t.data_bytes(), 27);
    }
}
