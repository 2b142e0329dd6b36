//! The table builder every sandbox loader fills: cells interned into dictionary-encoded
//! columns as they are read (a row at a time for JSON Lines and CSV, a column at a time for
//! Parquet), typed when the table is finished.

use std::collections::HashMap;
use std::sync::Arc;

use super::table::infer_type;
use super::table::{Column, Data, Table};
use super::value::{Type, Value};

/// Builds a typed table a row at a time into dictionary-encoded columns: each cell is looked
/// up in its column's dictionary as it arrives (a string is copied once per distinct value),
/// and [`TableBuilder::finish`] types the dictionaries, not the rows. The schema's columns come
/// first (in its order, typed by it), then other columns in order of first appearance, typed
/// by their values (strings that all look like datetimes become datetimes: JSON has none).
pub struct TableBuilder {
    names: Vec<(String, Option<Type>)>,
    index: HashMap<String, usize>,
    cols: Vec<ColBuilder>,
    /// The current row's key per column (`ABSENT` when the row has no such cell).
    pending: Vec<u32>,
    /// The columns the current row has set (so ending a row costs its cells, not the width
    /// of the table: a catalog table has hundreds of columns, a row a handful).
    touched: Vec<usize>,
    /// The columns of the previous row, in the order its cells came, and the position in it
    /// of the current cell: rows of one file usually repeat their keys in the same order, so
    /// a key is checked against that guess before it is looked up.
    order: Vec<usize>,
    pos: usize,
    rows: usize,
}

const ABSENT: u32 = u32::MAX;

/// One column being built: keys per row and the dictionary. Key 0 is null.
pub(super) struct ColBuilder {
    /// None until a row has a cell in this column (columns no row has cost nothing per row).
    keys: Option<Vec<u32>>,
    values: Vec<Value>,
    strs: HashMap<Arc<str>, u32, foldhash::fast::FixedState>,
    scalars: HashMap<(u8, u64), u32, foldhash::fast::FixedState>,
    /// The key `intern_str` gave last.
    last: u32,
}

impl ColBuilder {
    pub(super) fn new() -> ColBuilder {
        ColBuilder {
            keys: None,
            values: vec![Value::Null],
            strs: HashMap::default(),
            scalars: HashMap::default(),
            last: 0,
        }
    }

    pub(super) fn intern_str(&mut self, s: &str) -> u32 {
        // Rows often repeat the previous row's value (time-ordered logs: one timestamp per
        // burst of events); that string is still in cache, the hash table's may not be.
        if let Value::Str(last) = &self.values[self.last as usize] {
            if **last == *s {
                return self.last;
            }
        }
        if let Some(&k) = self.strs.get(s) {
            self.last = k;
            return k;
        }
        let a: Arc<str> = Arc::from(s);
        let k = self.push(Value::Str(a.clone()));
        self.strs.insert(a, k);
        self.last = k;
        k
    }

    pub(super) fn intern(&mut self, v: Value) -> u32 {
        let sk = match &v {
            Value::Null => return 0,
            Value::Str(s) => {
                if let Some(&k) = self.strs.get(&**s) {
                    return k;
                }
                let s = s.clone();
                let k = self.push(v);
                self.strs.insert(s, k);
                return k;
            }
            Value::Bool(b) => (1, *b as u64),
            Value::Long(i) => (2, *i as u64),
            Value::Real(r) => (3, r.to_bits()),
            Value::DateTime(t) => (4, *t as u64),
            Value::TimeSpan(t) => (5, *t as u64),
            Value::Dyn(_) => return self.push(v),
        };
        if let Some(&k) = self.scalars.get(&sk) {
            return k;
        }
        let k = self.push(v);
        self.scalars.insert(sk, k);
        k
    }

    fn push(&mut self, v: Value) -> u32 {
        self.values.push(v);
        (self.values.len() - 1) as u32
    }
}

impl TableBuilder {
    pub fn new(schema: Option<&[(String, Type)]>) -> TableBuilder {
        let mut b = TableBuilder {
            names: Vec::new(),
            index: HashMap::new(),
            cols: Vec::new(),
            pending: Vec::new(),
            touched: Vec::new(),
            order: Vec::new(),
            pos: 0,
            rows: 0,
        };
        for (n, t) in schema.unwrap_or_default() {
            let i = b.column(n);
            b.names[i].1 = Some(*t);
        }
        b
    }

    /// The index of a column, added (untyped) on first use.
    pub fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len();
        self.index.insert(name.to_string(), i);
        self.names.push((name.to_string(), None));
        self.cols.push(ColBuilder::new());
        self.pending.push(ABSENT);
        i
    }

    /// Type a column the input declares (a schema's type comes first).
    pub(super) fn declare(&mut self, col: usize, ty: Type) {
        self.names[col].1.get_or_insert(ty);
    }

    /// A whole column built elsewhere (a loader that reads a column at a time, on its own
    /// core): its dictionary and its keys, one per row [`Self::add_rows`] then counts.
    pub(super) fn set_column(&mut self, col: usize, mut built: ColBuilder, keys: Vec<u32>) {
        built.keys = Some(keys);
        self.cols[col] = built;
    }

    /// End `n` rows filled a column at a time: columns without keys for them are null.
    pub(super) fn add_rows(&mut self, n: usize) {
        self.rows += n;
        for c in &mut self.cols {
            if let Some(k) = &mut c.keys {
                k.resize(self.rows, 0);
            }
        }
    }

    /// Set a cell of the current row (a repeated name keeps the last value).
    pub fn set(&mut self, col: usize, v: Value) {
        let k = self.cols[col].intern(v);
        self.pend(col, k);
    }

    pub fn set_str(&mut self, col: usize, s: &str) {
        let k = self.cols[col].intern_str(s);
        self.pend(col, k);
    }

    /// The column of the current row's next cell (see `order`).
    fn next_column(&mut self, name: &str) -> usize {
        if let Some(&c) = self.order.get(self.pos) {
            if self.names[c].0 == name {
                self.pos += 1;
                return c;
            }
        }
        let c = self.column(name);
        self.order.truncate(self.pos);
        self.order.push(c);
        self.pos += 1;
        c
    }

    /// Append the rows of `other` (built from the next part of the same input): its columns
    /// join this builder's by name, and its dictionaries are merged into this one's, so the
    /// result is the one a single builder would have made from the whole input.
    pub fn append(&mut self, other: TableBuilder) {
        let base = self.rows;
        for ((name, _), oc) in other.names.into_iter().zip(other.cols) {
            let c = self.column(&name);
            let Some(okeys) = oc.keys else {
                continue;
            };
            let col = &mut self.cols[c];
            let remap: Vec<u32> = oc.values.into_iter().map(|v| col.intern(v)).collect();
            let keys = col.keys.get_or_insert_with(|| vec![0; base]);
            keys.resize(base, 0);
            keys.extend(okeys.iter().map(|&k| remap[k as usize]));
        }
        self.rows += other.rows;
        for c in &mut self.cols {
            if let Some(k) = &mut c.keys {
                k.resize(self.rows, 0);
            }
        }
    }

    /// Read the current row again from its first cell (the cells set so far stay pending and
    /// are overwritten as they come again).
    pub(super) fn restart_row(&mut self) {
        self.pos = 0;
    }

    /// Drop the current row's cells set so far (tests compare two readers on one row).
    #[cfg(test)]
    pub(super) fn discard_row(&mut self) {
        self.pending.fill(ABSENT);
        self.touched.clear();
        self.pos = 0;
    }

    /// A cell of the current row (a repeated name keeps the last value).
    #[inline]
    fn pend(&mut self, col: usize, key: u32) {
        if self.pending[col] == ABSENT {
            self.touched.push(col);
        }
        self.pending[col] = key;
    }

    /// End the current row: cells it lacks are null. Only the columns the row set are
    /// visited; a column's keys are padded with nulls when it is next set (or when the table
    /// is finished or appended to), not row by row.
    pub fn end_row(&mut self) {
        let rows = self.rows;
        for &c in &self.touched {
            let key = std::mem::replace(&mut self.pending[c], ABSENT);
            let keys = self.cols[c]
                .keys
                .get_or_insert_with(|| Vec::with_capacity(rows.max(1024)));
            keys.resize(rows, 0);
            keys.push(key);
        }
        self.touched.clear();
        self.rows += 1;
        self.pos = 0;
    }

    pub fn push_row(&mut self, row: Vec<(String, Value)>) {
        for (k, v) in row {
            let c = self.column(&k);
            self.set(c, v);
        }
        self.end_row();
    }

    pub fn finish(self) -> Table {
        let n = self.rows;
        // Columns no row has share one key vector of zeros (a wide catalog table loaded from
        // a narrow file stays small).
        let mut zeros: Option<Arc<Vec<u32>>> = None;
        let columns = self
            .names
            .into_iter()
            .zip(self.cols)
            .map(|((name, ty), c)| {
                let ColBuilder { keys, values, .. } = c;
                let Some(mut keys) = keys else {
                    let ty = ty.unwrap_or(Type::String);
                    let keys = zeros.get_or_insert_with(|| Arc::new(vec![0; n])).clone();
                    return Column {
                        name,
                        ty,
                        data: Data::Dict(keys, Arc::new(vec![Value::Null.cast(ty)])),
                    };
                };
                // Rows after the column's last cell are null.
                keys.resize(n, 0);
                let ty = ty.unwrap_or_else(|| {
                    let t = infer_type(&values);
                    if t == Type::String
                        && values.iter().all(|v| match v {
                            Value::Str(s) => s.is_empty() || looks_like_datetime(s),
                            Value::Null => true,
                            _ => false,
                        })
                        && values
                            .iter()
                            .any(|v| matches!(v, Value::Str(s) if !s.is_empty()))
                    {
                        Type::DateTime
                    } else if t == Type::Unknown {
                        Type::String
                    } else {
                        t
                    }
                });
                let values: Vec<Value> = values
                    .into_iter()
                    .map(|v| match (ty, v) {
                        (Type::String, v @ Value::Str(_)) => v,
                        (Type::Dynamic, v @ (Value::Str(_) | Value::Dyn(_) | Value::Null)) => {
                            v.cast(Type::Dynamic)
                        }
                        (Type::Dynamic, other) => Value::dynamic(other.to_json()),
                        (_, v) => v.cast(ty),
                    })
                    .collect();
                // A dictionary pays when values repeat; a column of mostly distinct values is
                // stored a value per row.
                let data = if values.len() * 4 > n * 3 && n > 16 {
                    Data::new(keys.iter().map(|&k| values[k as usize].clone()).collect())
                } else {
                    Data::dict(keys, values)
                };
                Column { name, ty, data }
            })
            .collect();
        Table { columns, rows: n }
    }
}

impl super::jsonl::Sink for TableBuilder {
    fn column(&mut self, key: &str) -> usize {
        self.next_column(key)
    }
    fn string(&mut self, col: usize, s: &str) {
        let k = self.cols[col].intern_str(s);
        self.pend(col, k);
    }
    fn value(&mut self, col: usize, v: Value) {
        let k = self.cols[col].intern(v);
        self.pend(col, k);
    }
}

/// A JSON object as a row of the builder: keys are matched without copying them and string
/// values are looked up in their column's dictionary without copying them.
pub(super) struct RowSeed<'b>(pub(super) &'b mut TableBuilder);

impl<'de> serde::de::DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RowSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("each row must be a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let col = self.0.next_column(&key.0);
            let cell = map.next_value_seed(CellSeed(&mut self.0.cols[col]))?;
            self.0.pend(col, cell);
        }
        self.0.end_row();
        Ok(())
    }
}

/// A JSON array of row objects.
pub(super) struct RowsSeed<'b>(pub(super) &'b mut TableBuilder);

impl<'de> serde::de::DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RowsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of row objects")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RowSeed(self.0))?.is_some() {}
        Ok(())
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// One cell, interned into its column as it is read; yields its key.
struct CellSeed<'c>(&'c mut ColBuilder);

impl<'de> serde::de::DeserializeSeed<'de> for CellSeed<'_> {
    type Value = u32;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<u32, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for CellSeed<'_> {
    type Value = u32;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, s: &str) -> Result<u32, E> {
        Ok(self.0.intern_str(s))
    }
    fn visit_unit<E>(self) -> Result<u32, E> {
        Ok(0)
    }
    fn visit_none<E>(self) -> Result<u32, E> {
        Ok(0)
    }
    fn visit_bool<E>(self, b: bool) -> Result<u32, E> {
        Ok(self.0.intern(Value::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<u32, E> {
        Ok(self.0.intern(Value::Long(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<u32, E> {
        Ok(self.0.intern(match i64::try_from(u) {
            Ok(i) => Value::Long(i),
            Err(_) => Value::Real(u as f64),
        }))
    }
    fn visit_f64<E>(self, x: f64) -> Result<u32, E> {
        Ok(self.0.intern(Value::Real(x)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<u32, A::Error> {
        use serde::Deserialize;
        let v = serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(self.0.intern(Value::dynamic(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<u32, A::Error> {
        use serde::Deserialize;
        let v = serde_json::Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok(self.0.intern(Value::dynamic(v)))
    }
}

fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().all(|c| c.is_ascii_digit())
        && super::value::parse_datetime(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wide schema and rows that set a few of its columns: the cells a row does not set are
    /// null, before, between and after the rows that set them (keys are padded when a column
    /// is next set and when the table is finished, not row by row).
    #[test]
    fn cells_rows_leave_out_are_null_wherever_they_fall() {
        let schema: Vec<(String, Type)> = (0..300).map(|i| (format!("c{i}"), Type::Long)).collect();
        let mut b = TableBuilder::new(Some(&schema));
        for r in 0..10i64 {
            if r % 2 == 0 {
                let c = b.column("c7");
                b.set(c, Value::Long(r));
            }
            if r == 1 {
                let c = b.column("late");
                b.set_str(c, "only here");
                // A repeated cell keeps the last value.
                let c7 = b.column("c7");
                b.set(c7, Value::Long(-1));
                b.set(c7, Value::Long(-2));
            }
            b.end_row();
        }
        let t = b.finish();
        assert_eq!(t.rows, 10);
        let c7: Vec<Option<i64>> = (0..10)
            .map(|i| t.column("c7").unwrap().data[i].as_i64())
            .collect();
        assert_eq!(
            c7,
            vec![
                Some(0),
                Some(-2),
                Some(2),
                None,
                Some(4),
                None,
                Some(6),
                None,
                Some(8),
                None
            ]
        );
        let late = t.column("late").unwrap();
        let texts: Vec<String> = (0..10).map(|i| late.data[i].text().into_owned()).collect();
        assert_eq!(texts[1], "only here");
        assert!(texts
            .iter()
            .enumerate()
            .all(|(i, s)| i == 1 || s.is_empty()));
        assert!((0..10).all(|i| t.column("c200").unwrap().data[i].as_i64().is_none()));
    }
}
