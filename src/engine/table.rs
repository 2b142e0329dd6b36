//! Tables: named, typed columns of values, shared by reference between operators.

use std::sync::Arc;

use super::value::{Type, Value};

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub ty: Type,
    pub data: Data,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: Type, data: Vec<Value>) -> Column {
        Column {
            name: name.into(),
            ty,
            data: Data::new(data),
        }
    }
}

/// Operators split work over the cores from this many rows (results are the same, in the
/// same order, with any number of threads).
pub const PARALLEL_ROWS: usize = 1 << 18;

/// A column's values, in one of two layouts (the Arrow layouts vigil uses, without Arrow's
/// containers: the operators read [`Value`]s):
/// - `Plain`: a value per row.
/// - `Dict`: a dictionary of values and a 4-byte key per row, for columns with few distinct
///   values (hosts, accounts, event ids, timestamps rounded to seconds). Loaded tables use it
///   when it is smaller; `take` and `where` keep it (only the keys are copied), and an operator
///   applied to one column and constants runs once per dictionary entry, not once per row.
///
/// Both are shared by reference. The dictionary need not be unique (a cast may merge entries).
#[derive(Clone, Debug)]
pub enum Data {
    Plain(Arc<Vec<Value>>),
    Dict(Arc<Vec<u32>>, Arc<Vec<Value>>),
}

impl Default for Data {
    fn default() -> Data {
        Data::Plain(Arc::new(Vec::new()))
    }
}

impl From<Vec<Value>> for Data {
    fn from(v: Vec<Value>) -> Data {
        Data::new(v)
    }
}

impl std::ops::Index<usize> for Data {
    type Output = Value;
    #[inline]
    fn index(&self, i: usize) -> &Value {
        self.get(i)
    }
}

/// The values of a [`Data`], in row order.
pub enum DataIter<'a> {
    Plain(std::slice::Iter<'a, Value>),
    Dict(std::slice::Iter<'a, u32>, &'a [Value]),
}

impl<'a> Iterator for DataIter<'a> {
    type Item = &'a Value;
    #[inline]
    fn next(&mut self) -> Option<&'a Value> {
        match self {
            DataIter::Plain(it) => it.next(),
            DataIter::Dict(keys, values) => keys.next().map(|&k| &values[k as usize]),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            DataIter::Plain(it) => it.size_hint(),
            DataIter::Dict(keys, _) => keys.size_hint(),
        }
    }
}

impl ExactSizeIterator for DataIter<'_> {}

impl<'a> IntoIterator for &'a Data {
    type Item = &'a Value;
    type IntoIter = DataIter<'a>;
    fn into_iter(self) -> DataIter<'a> {
        self.iter()
    }
}

impl Data {
    pub fn new(v: Vec<Value>) -> Data {
        Data::Plain(Arc::new(v))
    }

    /// A dictionary column; every key must index `values`.
    pub fn dict(keys: Vec<u32>, values: Vec<Value>) -> Data {
        debug_assert!(keys.iter().all(|&k| (k as usize) < values.len()));
        Data::Dict(Arc::new(keys), Arc::new(values))
    }

    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Data::Plain(v) => v.len(),
            Data::Dict(k, _) => k.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries of the dictionary (0 for a plain column).
    pub fn dict_len(&self) -> usize {
        match self {
            Data::Plain(_) => 0,
            Data::Dict(_, d) => d.len(),
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> &Value {
        match self {
            Data::Plain(v) => &v[i],
            Data::Dict(k, d) => &d[k[i] as usize],
        }
    }

    pub fn first(&self) -> Option<&Value> {
        (!self.is_empty()).then(|| self.get(0))
    }

    pub fn iter(&self) -> DataIter<'_> {
        match self {
            Data::Plain(v) => DataIter::Plain(v.iter()),
            Data::Dict(k, d) => DataIter::Dict(k.iter(), d),
        }
    }

    /// The values as a plain vector (a copy of the references, not of strings).
    pub fn to_vec(&self) -> Vec<Value> {
        self.iter().cloned().collect()
    }

    /// The values as a plain vector, without copying when this is the only reference.
    pub fn into_vec(self) -> Vec<Value> {
        match self {
            Data::Plain(v) => Arc::try_unwrap(v).unwrap_or_else(|a| (*a).clone()),
            d @ Data::Dict(..) => d.to_vec(),
        }
    }

    /// The rows at `idx`, in that order (a dictionary column keeps its dictionary).
    pub fn take(&self, idx: &[usize]) -> Data {
        use rayon::prelude::*;
        if idx.len() >= PARALLEL_ROWS {
            let chunk = PARALLEL_ROWS / 2;
            return match self {
                Data::Plain(v) => Data::new(
                    idx.par_iter()
                        .with_min_len(chunk)
                        .map(|&i| v[i].clone())
                        .collect(),
                ),
                Data::Dict(k, d) => Data::Dict(
                    Arc::new(idx.par_iter().with_min_len(chunk).map(|&i| k[i]).collect()),
                    d.clone(),
                ),
            };
        }
        match self {
            Data::Plain(v) => Data::new(idx.iter().map(|&i| v[i].clone()).collect()),
            Data::Dict(k, d) => {
                Data::Dict(Arc::new(idx.iter().map(|&i| k[i]).collect()), d.clone())
            }
        }
    }

    /// The rows at `idx`, `null` where there is no row (the unmatched side of an outer join).
    pub fn take_opt(&self, idx: &[Option<usize>], null: &Value) -> Data {
        match self {
            Data::Plain(v) => Data::new(
                idx.iter()
                    .map(|i| i.map(|i| v[i].clone()).unwrap_or_else(|| null.clone()))
                    .collect(),
            ),
            Data::Dict(..) if self.dict_len() > idx.len() => Data::new(
                idx.iter()
                    .map(|i| i.map(|i| self[i].clone()).unwrap_or_else(|| null.clone()))
                    .collect(),
            ),
            Data::Dict(k, d) => {
                let n = d.len() as u32;
                let keys = idx.iter().map(|i| i.map(|i| k[i]).unwrap_or(n)).collect();
                let mut values = Vec::with_capacity(d.len() + 1);
                values.extend(d.iter().cloned());
                values.push(null.clone());
                Data::dict(keys, values)
            }
        }
    }

    /// `f` of every value: once per dictionary entry for a dictionary column. `f` must be a
    /// function of its argument alone.
    pub fn map(&self, f: impl Fn(&Value) -> Value) -> Data {
        match self {
            Data::Plain(v) => Data::new(v.iter().map(f).collect()),
            Data::Dict(k, d) if d.len() > k.len() => {
                Data::new(k.iter().map(|&k| f(&d[k as usize])).collect())
            }
            Data::Dict(k, d) => Data::Dict(k.clone(), Arc::new(d.iter().map(f).collect())),
        }
    }

    /// `p` of every value as a row mask: once per dictionary entry for a dictionary column.
    pub fn mask(&self, p: impl Fn(&Value) -> bool + Sync) -> Vec<bool> {
        use rayon::prelude::*;
        match self {
            Data::Plain(v) if v.len() >= PARALLEL_ROWS => v
                .par_iter()
                .with_min_len(PARALLEL_ROWS / 2)
                .map(&p)
                .collect(),
            Data::Plain(v) => v.iter().map(p).collect(),
            // A dictionary larger than the rows (a window's slice of a loaded table shares the
            // table's dictionary): per row, so a run costs its own rows, not the table's.
            Data::Dict(k, d) if d.len() > k.len() => k.iter().map(|&k| p(&d[k as usize])).collect(),
            Data::Dict(k, d) => {
                let m: Vec<bool> = d.iter().map(p).collect();
                if k.len() >= PARALLEL_ROWS {
                    k.par_iter()
                        .with_min_len(PARALLEL_ROWS / 2)
                        .map(|&k| m[k as usize])
                        .collect()
                } else {
                    k.iter().map(|&k| m[k as usize]).collect()
                }
            }
        }
    }

    /// This column followed by `other` (two dictionaries are joined, keys shifted).
    pub fn concat(&self, other: &Data) -> Data {
        match (self, other) {
            (Data::Dict(ka, da), Data::Dict(kb, db))
                if da.len() + db.len() <= u32::MAX as usize =>
            {
                let off = da.len() as u32;
                let mut keys = Vec::with_capacity(ka.len() + kb.len());
                keys.extend_from_slice(ka);
                keys.extend(kb.iter().map(|k| k + off));
                let mut values = Vec::with_capacity(da.len() + db.len());
                values.extend(da.iter().cloned());
                values.extend(db.iter().cloned());
                Data::dict(keys, values)
            }
            _ => {
                let mut v = Vec::with_capacity(self.len() + other.len());
                v.extend(self.iter().cloned());
                v.extend(other.iter().cloned());
                Data::new(v)
            }
        }
    }

    /// The heap bytes the layout holds: the value slots (24 bytes each), the keys, and the
    /// strings and JSON a dictionary or row owns (a shared string counted once per slot).
    pub fn heap_bytes(&self) -> u64 {
        let slots = |v: &[Value]| {
            v.len() as u64 * std::mem::size_of::<Value>() as u64
                + v.iter()
                    .map(|x| match x {
                        Value::Str(s) => s.len() as u64,
                        _ => 0,
                    })
                    .sum::<u64>()
        };
        match self {
            Data::Plain(v) => slots(v),
            Data::Dict(k, d) => k.len() as u64 * 4 + slots(d),
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
        let size = |v: &Value| match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Long(_) | Value::Real(_) | Value::DateTime(_) | Value::TimeSpan(_) => 8,
            Value::Str(s) => s.len() as u64,
            Value::Dyn(d) if d.is_null() => 0,
            Value::Dyn(d) => d.to_string().len() as u64,
        };
        self.columns
            .iter()
            .map(|c| match &c.data {
                Data::Plain(v) => v.iter().map(size).sum::<u64>(),
                Data::Dict(k, d) if d.len() > k.len() => {
                    k.iter().map(|&k| size(&d[k as usize])).sum::<u64>()
                }
                Data::Dict(k, d) => {
                    let sizes: Vec<u64> = d.iter().map(size).collect();
                    k.iter().map(|&k| sizes[k as usize]).sum()
                }
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
                data: c.data.take(idx),
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
                let side = |t: &Table| match t.column(&name) {
                    Some(c) if c.ty == ty => c.data.clone(),
                    Some(c) => c.data.map(|v| v.cast(ty)),
                    None => Data::dict(vec![0; t.rows], vec![Value::Null.cast(ty)]),
                };
                Column {
                    name: name.clone(),
                    ty,
                    data: side(self).concat(&side(other)),
                }
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
    Col(Data),
}

impl Cv {
    #[inline]
    pub fn get(&self, i: usize) -> &Value {
        match self {
            Cv::Const(v) => v,
            Cv::Col(c) => c.get(i),
        }
    }

    pub fn into_vec(self, n: usize) -> Vec<Value> {
        match self {
            Cv::Const(v) => vec![v; n],
            Cv::Col(c) => c.into_vec(),
        }
    }

    pub fn into_data(self, n: usize) -> Data {
        match self {
            Cv::Const(v) => Data::new(vec![v; n]),
            Cv::Col(c) => c,
        }
    }

    pub(crate) fn is_const(&self) -> bool {
        matches!(self, Cv::Const(_))
    }
}

/// The type a column gets from its values when no schema says otherwise.
pub fn infer_type<'a>(data: impl IntoIterator<Item = &'a Value>) -> Type {
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
