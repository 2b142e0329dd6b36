//! Parquet sandbox files, read through Arrow: the `parquet` crate's Arrow reader decodes each
//! row group's pages a column at a time into Arrow arrays, and string columns are asked for as
//! dictionary arrays, so a dictionary-encoded page (the usual encoding of log columns) arrives
//! as keys into its page dictionary and goes into the table's own dictionary column by
//! re-mapping keys, with each distinct string copied once. Row groups are read on every core
//! and the parts appended in file order.
//!
//! A Parquet file is small for what it holds (run-length encoding can describe millions of
//! rows in a few bytes), so its declared rows, columns and decompressed size are checked
//! against the query budget before anything is decoded.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;

use super::builder::{ColBuilder, TableBuilder};
use super::value::{Type, Value, DAY, MICROSECOND, MILLISECOND, SECOND};

/// Rows decoded at a time.
const BATCH_ROWS: usize = 16 * 1024;

/// Load a Parquet file into a builder (the schema's columns first, as every loader does).
pub(super) fn load(path: &Path, schema: Option<&[(String, Type)]>) -> Result<TableBuilder, String> {
    use super::error::contain_panics;
    use rayon::prelude::*;
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(|e| err(&e))?;
    // The reader builds the schema tree recursively: a deeper one is refused first.
    let depth = schema_depth(&mut file).map_err(|e| err(&e))?;
    if depth > MAX_DEPTH {
        return Err(err(&format!(
            "not supported yet: a Parquet schema nested {depth} levels deep (at most {MAX_DEPTH})"
        )));
    }
    // The reader can panic on a damaged file: every decoding thread contains it.
    let meta = contain_panics(|| {
        ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| e.to_string())
    })
    .map_err(|e| err(&e))?;
    check_budget(&meta).map_err(|e| err(&e))?;
    // Strings as dictionaries: keys into the page dictionary, not a string per row.
    let fields: Vec<Field> = meta
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let dict = |v: DataType| DataType::Dictionary(Box::new(DataType::Int32), Box::new(v));
            let t = match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => dict(DataType::Utf8),
                DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                    dict(DataType::Binary)
                }
                other => other.clone(),
            };
            f.as_ref().clone().with_data_type(t)
        })
        .collect();
    let hinted = Arc::new(Schema::new_with_metadata(
        fields,
        meta.schema().metadata().clone(),
    ));
    let meta = contain_panics(|| {
        ArrowReaderMetadata::try_new(
            meta.metadata().clone(),
            ArrowReaderOptions::new().with_schema(hinted.clone()),
        )
        .map_err(|e| e.to_string())
    })
    .map_err(|e| err(&e))?;
    // Each column is read on its own (its pages, in file order), the columns on every core.
    let rows = meta.metadata().file_metadata().num_rows().max(0) as usize;
    let columns: Vec<Result<(ColBuilder, Vec<u32>), String>> = (0..hinted.fields().len())
        .into_par_iter()
        .map(|j| contain_panics(|| read_column(path, &meta, j)).map_err(|e| err(&e)))
        .collect();
    let mut b = TableBuilder::new(schema);
    for (f, col) in hinted.fields().iter().zip(columns) {
        let (cb, keys) = col?;
        if keys.len() != rows {
            return Err(err(&format!(
                "column {} has {} values, the file declares {rows} rows",
                f.name(),
                keys.len()
            )));
        }
        let c = b.column(f.name());
        b.declare(c, column_type(f.data_type()));
        b.set_column(c, cb, keys);
    }
    b.add_rows(rows);
    Ok(b)
}

/// One column of the file (the `j`th root field, with all its leaves), in row order.
fn read_column(
    path: &Path,
    meta: &ArrowReaderMetadata,
    j: usize,
) -> Result<(ColBuilder, Vec<u32>), String> {
    // Its own handle: clones of one share the file position, which the reader moves.
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mask = ProjectionMask::roots(meta.parquet_schema(), [j]);
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| e.to_string())?;
    let mut col = ColBuilder::new();
    let mut keys = Vec::new();
    let mut remap = Remap::default();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        let array = batch.column(0);
        column_keys(&mut col, array.as_ref(), &mut remap, &mut keys)?;
    }
    Ok((col, keys))
}

/// Deepest schema nesting read (a list is two or three levels, so about 20 nested lists).
const MAX_DEPTH: usize = 64;

/// The nesting depth of the file's schema, read from its footer without building the tree:
/// the footer is Thrift's compact encoding of `FileMetaData`, whose field 2 is the schema as a
/// flat list of elements in depth-first order, each with its number of children (field 5).
/// A file without the `PAR1` footer gives depth 0 and is left to the reader to report (it
/// reads no schema); one whose footer's schema cannot be scanned is an error.
fn schema_depth(file: &mut std::fs::File) -> Result<usize, String> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len < 12 {
        return Ok(0);
    }
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::End(-8)).map_err(|e| e.to_string())?;
    file.read_exact(&mut tail).map_err(|e| e.to_string())?;
    let meta_len = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as u64;
    if &tail[4..] != b"PAR1" || meta_len + 8 > len {
        return Ok(0);
    }
    let mut footer = vec![0u8; meta_len as usize];
    file.seek(SeekFrom::End(-8 - meta_len as i64))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut footer).map_err(|e| e.to_string())?;
    let mut t = Thrift { b: &footer, at: 0 };
    // A footer this scan cannot read is not handed to the reader either: the scan is the
    // guard in front of its recursion.
    let children = t
        .schema_children()
        .ok_or("not a readable Parquet file: its footer's schema cannot be read")?;
    // Depth-first: a stack of the children each open group still has to come.
    let (mut open, mut deepest) = (Vec::<i64>::new(), 0);
    for n in children {
        if let Some(top) = open.last_mut() {
            *top -= 1;
        }
        if n > 0 {
            open.push(n);
            deepest = deepest.max(open.len());
        }
        while open.last() == Some(&0) {
            open.pop();
        }
    }
    Ok(deepest)
}

/// Just enough of Thrift's compact protocol to read the schema's child counts.
struct Thrift<'a> {
    b: &'a [u8],
    at: usize,
}

impl Thrift<'_> {
    fn byte(&mut self) -> Option<u8> {
        let x = *self.b.get(self.at)?;
        self.at += 1;
        Some(x)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let x = self.byte()?;
            v |= ((x & 0x7f) as u64) << shift;
            if x & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    /// The next field's id and type (None at the struct's end).
    fn field(&mut self, last: &mut i16) -> Option<Option<(i16, u8)>> {
        let h = self.byte()?;
        if h == 0 {
            return Some(None);
        }
        let delta = (h >> 4) as i16;
        *last = if delta == 0 {
            self.zigzag()? as i16
        } else {
            last.wrapping_add(delta)
        };
        Some(Some((*last, h & 0x0f)))
    }

    /// Skip a value of compact type `ty`; nesting deeper than Thrift's own skip limit is an
    /// unreadable footer.
    fn skip(&mut self, ty: u8, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        match ty {
            1 | 2 => {}
            3 => self.at += 1,
            4..=6 => {
                self.varint()?;
            }
            7 => self.at += 8,
            8 => {
                let n = self.varint()? as usize;
                self.at = self.at.checked_add(n)?;
            }
            9 | 10 => {
                let (n, et) = self.list_header()?;
                for _ in 0..n {
                    self.skip(if et == 1 || et == 2 { 3 } else { et }, depth + 1)?;
                }
            }
            11 => {
                let n = self.varint()?;
                if n > 0 {
                    let kv = self.byte()?;
                    for _ in 0..n {
                        self.skip(kv >> 4, depth + 1)?;
                        self.skip(kv & 0x0f, depth + 1)?;
                    }
                }
            }
            12 => {
                let mut last = 0;
                while let Some((_, t)) = self.field(&mut last)? {
                    self.skip(t, depth + 1)?;
                }
            }
            13 => self.at += 16,
            _ => return None,
        }
        (self.at <= self.b.len()).then_some(())
    }

    fn list_header(&mut self) -> Option<(u64, u8)> {
        let h = self.byte()?;
        let n = match h >> 4 {
            15 => self.varint()?,
            n => n as u64,
        };
        // Each element takes at least a byte: a larger count is a damaged footer.
        (n <= (self.b.len() - self.at) as u64).then_some((n, h & 0x0f))
    }

    /// `FileMetaData.schema` (field 2): each element's `num_children` (field 5), 0 if absent.
    fn schema_children(&mut self) -> Option<Vec<i64>> {
        let mut last = 0;
        while let Some((id, ty)) = self.field(&mut last)? {
            if id != 2 || ty != 9 {
                self.skip(ty, 0)?;
                continue;
            }
            let (n, et) = self.list_header()?;
            if et != 12 {
                return None;
            }
            let mut out = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let (mut last, mut children) = (0, 0);
                while let Some((id, ty)) = self.field(&mut last)? {
                    if id == 5 && ty == 5 {
                        children = self.zigzag()?;
                    } else {
                        self.skip(ty, 1)?;
                    }
                }
                out.push(children);
            }
            return Some(out);
        }
        None
    }
}

/// The file's declared size against the budget: rows, a 4-byte key per row and column, and
/// the bytes its pages decompress to.
fn check_budget(meta: &ArrowReaderMetadata) -> Result<(), String> {
    let b = super::budget::current();
    let md = meta.metadata();
    let rows = md.file_metadata().num_rows().max(0) as u64;
    let columns = meta.schema().fields().len().max(1) as u64;
    let decompressed: u64 = md
        .row_groups()
        .iter()
        .flat_map(|g| g.columns())
        .map(|c| c.uncompressed_size().max(0) as u64)
        .fold(0u64, u64::saturating_add);
    let over = |what: String| Err(super::budget::exceeded(what).message);
    if rows > b.max_rows as u64 {
        return over(format!("{rows} rows, more than {}", b.max_rows));
    }
    let keys = rows.saturating_mul(columns).saturating_mul(4);
    if keys.max(decompressed) > b.max_bytes {
        return over(format!(
            "{} bytes decoded, more than {}",
            keys.max(decompressed),
            b.max_bytes
        ));
    }
    Ok(())
}

/// Keys of one Arrow dictionary (a page dictionary, shared by the batches of its column chunk)
/// in the column's own dictionary, filled as rows use them. The dictionary array is kept, so
/// the pointer compared is never a freed and reused one.
#[derive(Default)]
struct Remap {
    values: Option<ArrayRef>,
    keys: Vec<u32>,
}

const UNSET: u32 = u32::MAX;

/// Append the keys of one batch's column: dictionary arrays re-map their keys (each entry
/// looked up once), primitive arrays go through typed loops that reuse the previous row's key
/// for a repeated value, and the rest a cell at a time.
fn column_keys(
    col: &mut ColBuilder,
    a: &dyn Array,
    remap: &mut Remap,
    out: &mut Vec<u32>,
) -> Result<(), String> {
    let nulls = a.logical_nulls().filter(|n| n.null_count() > 0);
    let is_null = |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(i));
    out.reserve(a.len());
    if let Some(d) = a.as_any_dictionary_opt() {
        let values = d.values();
        if !remap
            .values
            .as_ref()
            .is_some_and(|v| Arc::ptr_eq(v, values))
        {
            remap.values = Some(values.clone());
            remap.keys = vec![UNSET; values.len()];
        }
        let mut key = |i: usize, k: usize| -> Result<u32, String> {
            if is_null(i) {
                return Ok(0);
            }
            let slot = remap
                .keys
                .get_mut(k)
                .ok_or_else(|| format!("dictionary key {k} out of range"))?;
            if *slot == UNSET {
                *slot = intern_cell(col, values.as_ref(), k)?;
            }
            Ok(*slot)
        };
        if let Some(k32) = d.keys().as_primitive_opt::<Int32Type>() {
            // A null row's key may be anything: `key` does not look it up.
            for (i, &k) in k32.values().iter().enumerate() {
                out.push(key(i, k.max(0) as usize)?);
            }
        } else {
            for (i, k) in d.normalized_keys().into_iter().enumerate() {
                out.push(key(i, k)?);
            }
        }
        return Ok(());
    }
    // Scalars whose engine value follows from one i64 (a repeated value reuses its key).
    let mut scalars = |values: &mut dyn Iterator<Item = i64>, f: &dyn Fn(i64) -> Value| {
        let mut last: Option<(i64, u32)> = None;
        for (i, v) in values.enumerate() {
            out.push(match last {
                _ if is_null(i) => 0,
                Some((lv, lk)) if lv == v => lk,
                _ => {
                    let k = col.intern(f(v));
                    last = Some((v, k));
                    k
                }
            });
        }
    };
    match a.data_type() {
        DataType::Int64 => scalars(
            &mut a.as_primitive::<Int64Type>().values().iter().copied(),
            &Value::Long,
        ),
        DataType::Int32 => scalars(
            &mut a
                .as_primitive::<Int32Type>()
                .values()
                .iter()
                .map(|&v| v as i64),
            &Value::Long,
        ),
        DataType::Timestamp(unit, _) => {
            let unit = *unit;
            let to = move |v: i64| {
                unit_ticks(&unit, v)
                    .map(Value::DateTime)
                    .unwrap_or(Value::Null)
            };
            scalars(&mut timestamps(a, unit).iter().copied(), &to)
        }
        _ => {
            for i in 0..a.len() {
                out.push(if is_null(i) {
                    0
                } else {
                    intern_cell(col, a, i)?
                });
            }
        }
    }
    Ok(())
}

fn intern_cell(col: &mut ColBuilder, a: &dyn Array, i: usize) -> Result<u32, String> {
    if a.is_null(i) {
        return Ok(0);
    }
    Ok(match a.data_type() {
        DataType::Utf8 => col.intern_str(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => col.intern_str(a.as_string::<i64>().value(i)),
        DataType::Utf8View => col.intern_str(a.as_string_view().value(i)),
        _ => col.intern(value_at(a, i)?),
    })
}

/// The engine type of a Parquet (Arrow) column.
fn column_type(t: &DataType) -> Type {
    match t {
        DataType::Null => Type::String,
        DataType::Boolean => Type::Bool,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => Type::Long,
        // Kusto's decimal has no engine type yet: a real, as the values are.
        DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Type::Real,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => Type::DateTime,
        DataType::Time32(_) | DataType::Time64(_) | DataType::Duration(_) => Type::TimeSpan,
        DataType::Dictionary(_, v) => column_type(v),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => Type::Dynamic,
        _ => Type::String,
    }
}

/// Ticks of `v` units, null when out of range.
fn ticks(v: i64, per: i64) -> Option<i64> {
    v.checked_mul(per)
}

fn unit_ticks(unit: &TimeUnit, v: i64) -> Option<i64> {
    match unit {
        TimeUnit::Second => ticks(v, SECOND),
        TimeUnit::Millisecond => ticks(v, MILLISECOND),
        TimeUnit::Microsecond => ticks(v, MICROSECOND),
        TimeUnit::Nanosecond => Some(v.div_euclid(100)),
    }
}

/// One cell as an engine value.
fn value_at(a: &dyn Array, i: usize) -> Result<Value, String> {
    if a.is_null(i) {
        return Ok(Value::Null);
    }
    let long = |v: i64| Value::Long(v);
    let opt = |t: Option<i64>, f: fn(i64) -> Value| t.map(f).unwrap_or(Value::Null);
    Ok(match a.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(a.as_boolean().value(i)),
        DataType::Int8 => long(a.as_primitive::<Int8Type>().value(i) as i64),
        DataType::Int16 => long(a.as_primitive::<Int16Type>().value(i) as i64),
        DataType::Int32 => long(a.as_primitive::<Int32Type>().value(i) as i64),
        DataType::Int64 => long(a.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => long(a.as_primitive::<UInt8Type>().value(i) as i64),
        DataType::UInt16 => long(a.as_primitive::<UInt16Type>().value(i) as i64),
        DataType::UInt32 => long(a.as_primitive::<UInt32Type>().value(i) as i64),
        DataType::UInt64 => Value::Real(a.as_primitive::<UInt64Type>().value(i) as f64),
        DataType::Float16 => Value::Real(a.as_primitive::<Float16Type>().value(i).to_f64()),
        DataType::Float32 => Value::Real(a.as_primitive::<Float32Type>().value(i) as f64),
        DataType::Float64 => Value::Real(a.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal32(_, s) => decimal(
            a.as_primitive::<arrow_array::types::Decimal32Type>()
                .value(i) as f64,
            *s,
        ),
        DataType::Decimal64(_, s) => decimal(
            a.as_primitive::<arrow_array::types::Decimal64Type>()
                .value(i) as f64,
            *s,
        ),
        DataType::Decimal128(_, s) => decimal(
            a.as_primitive::<arrow_array::types::Decimal128Type>()
                .value(i) as f64,
            *s,
        ),
        DataType::Utf8 => Value::string(a.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Value::string(a.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Value::string(a.as_string_view().value(i).to_string()),
        DataType::Binary => bytes(a.as_binary::<i32>().value(i))?,
        DataType::LargeBinary => bytes(a.as_binary::<i64>().value(i))?,
        DataType::BinaryView => bytes(a.as_binary_view().value(i))?,
        DataType::FixedSizeBinary(16) => guid(a.as_fixed_size_binary().value(i)),
        DataType::FixedSizeBinary(_) => bytes(a.as_fixed_size_binary().value(i))?,
        DataType::Timestamp(unit, _) => {
            opt(unit_ticks(unit, timestamps(a, *unit)[i]), Value::DateTime)
        }
        DataType::Date32 => opt(
            ticks(a.as_primitive::<Date32Type>().value(i) as i64, DAY),
            Value::DateTime,
        ),
        DataType::Date64 => opt(
            ticks(a.as_primitive::<Date64Type>().value(i), MILLISECOND),
            Value::DateTime,
        ),
        DataType::Time32(unit) => {
            let v = match unit {
                TimeUnit::Second => a.as_primitive::<Time32SecondType>().value(i),
                _ => a.as_primitive::<Time32MillisecondType>().value(i),
            };
            opt(unit_ticks(unit, v as i64), Value::TimeSpan)
        }
        DataType::Time64(unit) => {
            let v = match unit {
                TimeUnit::Microsecond => a.as_primitive::<Time64MicrosecondType>().value(i),
                _ => a.as_primitive::<Time64NanosecondType>().value(i),
            };
            opt(unit_ticks(unit, v), Value::TimeSpan)
        }
        DataType::Duration(unit) => {
            let v = match unit {
                TimeUnit::Second => a.as_primitive::<DurationSecondType>().value(i),
                TimeUnit::Millisecond => a.as_primitive::<DurationMillisecondType>().value(i),
                TimeUnit::Microsecond => a.as_primitive::<DurationMicrosecondType>().value(i),
                TimeUnit::Nanosecond => a.as_primitive::<DurationNanosecondType>().value(i),
            };
            opt(unit_ticks(unit, v), Value::TimeSpan)
        }
        // A dictionary inside a nested value: its one key, not every key normalized per cell.
        DataType::Dictionary(..) => {
            let d = a.as_any_dictionary();
            match value_at(d.keys(), i)? {
                Value::Long(k) if k >= 0 && (k as usize) < d.values().len() => {
                    value_at(d.values().as_ref(), k as usize)?
                }
                Value::Null => Value::Null,
                other => return Err(format!("dictionary key {other:?} out of range")),
            }
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => Value::dynamic(json_at(a, i)?),
        other => {
            return Err(format!(
                "not supported yet: Parquet columns of type {other}"
            ))
        }
    })
}

/// The values of a timestamp array of any unit (each unit is its own Arrow type).
fn timestamps(a: &dyn Array, unit: TimeUnit) -> &[i64] {
    match unit {
        TimeUnit::Second => a.as_primitive::<TimestampSecondType>().values(),
        TimeUnit::Millisecond => a.as_primitive::<TimestampMillisecondType>().values(),
        TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().values(),
        TimeUnit::Nanosecond => a.as_primitive::<TimestampNanosecondType>().values(),
    }
}

fn decimal(unscaled: f64, scale: i8) -> Value {
    Value::Real(unscaled / 10f64.powi(scale as i32))
}

/// Bytes that are UTF-8 text are a string (older writers store strings without the UTF-8
/// annotation); other bytes have no Kusto type.
fn bytes(b: &[u8]) -> Result<Value, String> {
    std::str::from_utf8(b)
        .map(|s| Value::string(s.to_string()))
        .map_err(|_| "not supported yet: binary (non-UTF-8) Parquet values".to_string())
}

/// A 16-byte value (Parquet's UUID, in RFC 4122 byte order) as a guid string.
fn guid(b: &[u8]) -> Value {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Value::string(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// A nested cell (list, struct, map) as JSON, its leaves converted as cells are.
fn json_at(a: &dyn Array, i: usize) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    if a.is_null(i) {
        return Ok(J::Null);
    }
    let list = |items: ArrayRef| -> Result<J, String> {
        (0..items.len())
            .map(|j| json_at(items.as_ref(), j))
            .collect::<Result<Vec<_>, _>>()
            .map(J::Array)
    };
    Ok(match a.data_type() {
        DataType::List(_) => list(a.as_list::<i32>().value(i))?,
        DataType::LargeList(_) => list(a.as_list::<i64>().value(i))?,
        DataType::FixedSizeList(..) => list(a.as_fixed_size_list().value(i))?,
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut m = serde_json::Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                m.insert(f.name().clone(), json_at(c.as_ref(), i)?);
            }
            J::Object(m)
        }
        DataType::Map(..) => {
            let entries = a.as_map().value(i);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut m = serde_json::Map::new();
            for j in 0..entries.len() {
                let k = match value_at(keys.as_ref(), j)? {
                    Value::Str(s) => s.to_string(),
                    other => other.to_json().to_string(),
                };
                m.insert(k, json_at(values.as_ref(), j)?);
            }
            J::Object(m)
        }
        _ => value_at(a, i)?.to_json(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{
        BinaryArray, BooleanArray, Date32Array, DurationMicrosecondArray, FixedSizeBinaryArray,
        Float64Array, Int32Array, NullArray, RecordBatch, StringArray, StructArray,
        TimestampMillisecondArray, TimestampNanosecondArray, UInt64Array,
    };
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use parquet::schema::types::ColumnPath;

    use crate::engine::table::Table;

    const ROWS: usize = 5_000;
    const BASE_SECONDS: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn write(path: &Path, batch: &RecordBatch, props: WriterProperties) {
        let f = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
        w.write(batch).unwrap();
        w.close().unwrap();
    }

    /// Every column kind a log export has, nulls included, defined row by row so the expected
    /// cells follow from the definition.
    fn sample() -> RecordBatch {
        let n = ROWS;
        let host = StringArray::from_iter(
            (0..n).map(|i| (!i.is_multiple_of(11)).then(|| format!("host-{}", i % 7))),
        );
        let cmd = StringArray::from_iter_values((0..n).map(|i| format!("cmd {i} \u{e9}\"x")));
        let event = Int32Array::from_iter_values((0..n).map(|i| 4624 + (i % 3) as i32));
        let big = UInt64Array::from_iter_values((0..n).map(|i| i as u64 * 1_000_000_007));
        let score = Float64Array::from_iter(
            (0..n).map(|i| (!i.is_multiple_of(13)).then_some(i as f64 * 0.5)),
        );
        let flag = BooleanArray::from_iter((0..n).map(|i| Some(i.is_multiple_of(2))));
        let when = TimestampNanosecondArray::from_iter_values(
            (0..n).map(|i| (BASE_SECONDS + i as i64) * 1_000_000_000 + 1_234 * i as i64),
        )
        .with_timezone("UTC");
        let when_ms = TimestampMillisecondArray::from_iter_values(
            (0..n).map(|i| BASE_SECONDS * 1000 + i as i64 * 7),
        );
        let day = Date32Array::from_iter_values((0..n).map(|i| 20_454 + (i % 30) as i32));
        let took = DurationMicrosecondArray::from_iter_values((0..n).map(|i| i as i64 * 1_500));
        let mut tags = ListBuilder::new(StringBuilder::new());
        for i in 0..n {
            tags.values().append_value("a");
            tags.values().append_value(format!("b{}", i % 3));
            tags.append(!i.is_multiple_of(17));
        }
        let props = StructArray::from(vec![
            (
                Arc::new(Field::new("k", DataType::Int32, false)),
                Arc::new(Int32Array::from_iter_values((0..n).map(|i| i as i32))) as ArrayRef,
            ),
            (
                Arc::new(Field::new("s", DataType::Utf8, false)),
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("v{}", i % 4)),
                )) as ArrayRef,
            ),
        ]);
        let raw =
            BinaryArray::from_iter_values((0..n).map(|i| format!("raw-{}", i % 5).into_bytes()));
        let id = FixedSizeBinaryArray::try_from_iter((0..n).map(|i| {
            let mut b = [0u8; 16];
            b[0] = 0xab;
            b[15] = (i % 251) as u8;
            b
        }))
        .unwrap();
        RecordBatch::try_from_iter(vec![
            ("Computer", Arc::new(host) as ArrayRef),
            ("Cmd", Arc::new(cmd) as ArrayRef),
            ("EventID", Arc::new(event) as ArrayRef),
            ("Big", Arc::new(big) as ArrayRef),
            ("Score", Arc::new(score) as ArrayRef),
            ("Flag", Arc::new(flag) as ArrayRef),
            ("When", Arc::new(when) as ArrayRef),
            ("WhenMs", Arc::new(when_ms) as ArrayRef),
            ("Day", Arc::new(day) as ArrayRef),
            ("Took", Arc::new(took) as ArrayRef),
            ("Tags", Arc::new(tags.finish()) as ArrayRef),
            ("Props", Arc::new(props) as ArrayRef),
            ("Raw", Arc::new(raw) as ArrayRef),
            ("Id", Arc::new(id) as ArrayRef),
        ])
        .unwrap()
    }

    fn expected(i: usize) -> Vec<(&'static str, Type, Value)> {
        let s = |x: String| Value::string(x);
        vec![
            // Kusto strings are never null and a null dynamic is a dynamic null, in every loader.
            (
                "Computer",
                Type::String,
                s(if i.is_multiple_of(11) {
                    String::new()
                } else {
                    format!("host-{}", i % 7)
                }),
            ),
            ("Cmd", Type::String, s(format!("cmd {i} \u{e9}\"x"))),
            ("EventID", Type::Long, Value::Long(4624 + (i % 3) as i64)),
            ("Big", Type::Real, Value::Real(i as f64 * 1_000_000_007.0)),
            (
                "Score",
                Type::Real,
                if i.is_multiple_of(13) {
                    Value::Null
                } else {
                    Value::Real(i as f64 * 0.5)
                },
            ),
            ("Flag", Type::Bool, Value::Bool(i.is_multiple_of(2))),
            (
                "When",
                Type::DateTime,
                Value::DateTime((BASE_SECONDS + i as i64) * SECOND + (1_234 * i as i64) / 100),
            ),
            (
                "WhenMs",
                Type::DateTime,
                Value::DateTime(BASE_SECONDS * SECOND + i as i64 * 7 * MILLISECOND),
            ),
            (
                "Day",
                Type::DateTime,
                Value::DateTime((20_454 + (i % 30) as i64) * DAY),
            ),
            (
                "Took",
                Type::TimeSpan,
                Value::TimeSpan(i as i64 * 1_500 * MICROSECOND),
            ),
            (
                "Tags",
                Type::Dynamic,
                if i.is_multiple_of(17) {
                    Value::dynamic(serde_json::Value::Null)
                } else {
                    Value::dynamic(serde_json::json!(["a", format!("b{}", i % 3)]))
                },
            ),
            (
                "Props",
                Type::Dynamic,
                Value::dynamic(serde_json::json!({"k": i, "s": format!("v{}", i % 4)})),
            ),
            ("Raw", Type::String, s(format!("raw-{}", i % 5))),
            (
                "Id",
                Type::String,
                s(format!("ab000000-0000-0000-0000-0000000000{:02x}", i % 251)),
            ),
        ]
    }

    fn load_on(
        threads: usize,
        path: &Path,
        schema: Option<&[(String, Type)]>,
    ) -> Result<Table, String> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| load(path, schema).map(TableBuilder::finish))
    }

    /// Cells compared by their debug form (values hold no NaN here).
    fn cells(t: &Table) -> Vec<Vec<(String, Type, String)>> {
        (0..t.rows)
            .map(|i| {
                t.columns
                    .iter()
                    .map(|c| (c.name.clone(), c.ty, format!("{:?}", c.data[i])))
                    .collect()
            })
            .collect()
    }

    /// Row groups of 700 rows (eight parts, read on three threads and on one), `Cmd` written
    /// without a dictionary (plain pages, which the reader turns into a dictionary array) and the
    /// rest with one: every cell is the one the definition gives, typed by the file.
    #[test]
    fn every_parquet_column_kind_loads_as_its_definition_says() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.parquet");
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(700))
            .set_data_page_row_count_limit(300)
            .set_column_dictionary_enabled(ColumnPath::from("Cmd"), false)
            .build();
        write(&path, &sample(), props);
        let one = load_on(1, &path, None).unwrap();
        let three = load_on(3, &path, None).unwrap();
        assert_eq!(one.rows, ROWS);
        let got = cells(&one);
        assert_eq!(got, cells(&three), "one thread and three give one table");
        for (i, row) in got.iter().enumerate() {
            let want: Vec<(String, Type, String)> = expected(i)
                .into_iter()
                .map(|(n, t, v)| (n.to_string(), t, format!("{v:?}")))
                .collect();
            assert_eq!(row, &want, "row {i}");
        }
        // Repeated strings are one dictionary entry each, not a string per row.
        match &one.column("Computer").unwrap().data {
            crate::engine::table::Data::Dict(keys, values) => {
                assert_eq!((keys.len(), values.len()), (ROWS, 8))
            }
            other => panic!("expected a dictionary, got {other:?}"),
        }
    }

    /// A schema the sandbox declares types the columns, as for the other formats: the file's
    /// `EventID` (int32) is a string when the schema says so, and the schema's columns the
    /// file lacks are null.
    #[test]
    fn a_declared_schema_comes_first_and_types_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.parquet");
        write(&path, &sample(), WriterProperties::builder().build());
        let schema = vec![
            ("Absent".to_string(), Type::Long),
            ("EventID".to_string(), Type::String),
        ];
        let t = load_on(2, &path, Some(&schema)).unwrap();
        assert_eq!(t.columns[0].name, "Absent");
        assert!(matches!(t.columns[0].data[3], Value::Null));
        let e = t.column("EventID").unwrap();
        assert_eq!((e.ty, e.data[4].text()), (Type::String, "4625".into()));
    }

    /// A few bytes of Parquet can declare millions of rows (all null, run-length encoded): the
    /// declared size is refused before it is decoded.
    #[test]
    fn a_small_file_declaring_too_many_rows_is_refused_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.parquet");
        let rows = crate::engine::budget::current().max_rows + 1;
        let batch = RecordBatch::try_from_iter_with_nullable(vec![(
            "Nothing",
            Arc::new(NullArray::new(rows)) as ArrayRef,
            true,
        )])
        .unwrap();
        write(&path, &batch, WriterProperties::builder().build());
        assert!(std::fs::metadata(&path).unwrap().len() < 100_000);
        let start = std::time::Instant::now();
        let e = load_on(2, &path, None).unwrap_err();
        assert!(
            e.contains("exceeds the sandbox budget") && e.contains("rows"),
            "{e}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    /// Damaged files (each byte of a small valid file changed in turn, and every truncation)
    /// are errors or tables, never a panic.
    #[test]
    fn damaged_parquet_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.parquet");
        let small = sample().slice(0, 40);
        write(&good, &small, WriterProperties::builder().build());
        let bytes = std::fs::read(&good).unwrap();
        let path = dir.path().join("T.parquet");
        let mut errors = 0;
        for i in 0..bytes.len() {
            for damaged in [
                {
                    let mut b = bytes.clone();
                    b[i] ^= 0x5a;
                    b
                },
                bytes[..i].to_vec(),
            ] {
                std::fs::write(&path, &damaged).unwrap();
                errors += load_on(1, &path, None).is_err() as usize;
            }
        }
        assert!(
            errors > bytes.len(),
            "{errors} errors over {} files",
            2 * bytes.len()
        );
    }

    /// The footer scan's depth is the schema's: the longest column path the parquet crate
    /// itself reads from the same file (flat columns, a list, a struct, and lists nested
    /// twenty deep, which load).
    #[test]
    fn the_footer_scan_finds_the_schema_depth_the_reader_finds() {
        use arrow_array::new_null_array;
        let dir = tempfile::tempdir().unwrap();
        let mut deep = DataType::Int32;
        for _ in 0..20 {
            deep = DataType::List(Arc::new(Field::new("item", deep, true)));
        }
        let nested = RecordBatch::try_from_iter_with_nullable(vec![(
            "Deep",
            new_null_array(&deep, 3),
            true,
        )])
        .unwrap();
        for (name, batch) in [("sample", sample()), ("deep", nested)] {
            let path = dir.path().join(format!("{name}.parquet"));
            write(&path, &batch, WriterProperties::builder().build());
            let reader = parquet::file::reader::SerializedFileReader::new(
                std::fs::File::open(&path).unwrap(),
            )
            .unwrap();
            use parquet::file::reader::FileReader;
            let want = reader
                .metadata()
                .file_metadata()
                .schema_descr()
                .columns()
                .iter()
                .map(|c| c.path().parts().len())
                .max()
                .unwrap();
            let got = schema_depth(&mut std::fs::File::open(&path).unwrap()).unwrap();
            assert_eq!(got, want, "{name}");
            let t = load_on(2, &path, None).unwrap();
            assert_eq!(t.rows, batch.num_rows(), "{name}");
        }
    }

    /// A footer that declares a schema 100,000 groups deep (a few hundred kilobytes) would
    /// overflow the stack of the reader, which builds the tree recursively: it is refused
    /// from the footer scan, before the reader sees it.
    #[test]
    fn a_schema_too_deep_for_the_reader_is_refused_before_it_reads() {
        let n = 100_000u64;
        let mut footer = vec![0x15, 0x02, 0x19, 0xfc];
        let mut v = n;
        while v >= 0x80 {
            footer.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        footer.push(v as u8);
        for i in 0..n {
            if i + 1 < n {
                // name "x", num_children 1
                footer.extend([0x48, 0x01, b'x', 0x15, 0x02, 0x00]);
            } else {
                // type INT32, name "x"
                footer.extend([0x15, 0x02, 0x38, 0x01, b'x', 0x00]);
            }
        }
        // num_rows 0, row_groups [], end of FileMetaData.
        footer.extend([0x16, 0x00, 0x19, 0x0c, 0x00]);
        let mut file = b"PAR1".to_vec();
        file.extend(&footer);
        file.extend((footer.len() as u32).to_le_bytes());
        file.extend(b"PAR1");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.parquet");
        std::fs::write(&path, &file).unwrap();
        let e = load_on(1, &path, None).unwrap_err();
        assert!(
            e.contains("not supported yet: a Parquet schema nested 99999 levels deep"),
            "{e}"
        );
    }

    /// A footer that ends in `PAR1` but whose schema the scan cannot read is refused by the
    /// scan (it guards the reader's recursion), not passed on as depth 0.
    #[test]
    fn a_footer_the_scan_cannot_read_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.parquet");
        // FileMetaData with field 2 (the schema) a list of i32s, not of structs.
        let footer = [0x15u8, 0x02, 0x19, 0x15, 0x02, 0x00];
        let mut file = b"PAR1".to_vec();
        file.extend(footer);
        file.extend((footer.len() as u32).to_le_bytes());
        file.extend(b"PAR1");
        std::fs::write(&path, &file).unwrap();
        let e = schema_depth(&mut std::fs::File::open(&path).unwrap()).unwrap_err();
        assert!(e.contains("footer's schema cannot be read"), "{e}");
    }

    /// Dictionary-encoded strings inside lists (the Arrow schema the writer embeds keeps the
    /// dictionary type) load as the lists' values.
    #[test]
    fn dictionary_values_inside_lists_load() {
        use arrow_array::builder::{ListBuilder, StringDictionaryBuilder};
        let mut b = ListBuilder::new(StringDictionaryBuilder::<Int32Type>::new());
        for i in 0..3_000 {
            b.values().append_value(format!("v{}", i % 3));
            b.values().append_value("w");
            b.append(true);
        }
        let batch =
            RecordBatch::try_from_iter(vec![("L", Arc::new(b.finish()) as ArrayRef)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("T.parquet");
        write(&path, &batch, WriterProperties::builder().build());
        let t = load_on(2, &path, None).unwrap();
        let l = t.column("L").unwrap();
        assert_eq!(l.ty, Type::Dynamic);
        for i in [0, 1, 2_999] {
            assert_eq!(
                l.data[i].to_json(),
                serde_json::json!([format!("v{}", i % 3), "w"]),
                "row {i}"
            );
        }
    }
}
