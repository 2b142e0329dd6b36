//! Sandbox data: one file per table in a folder (`SecurityEvent.jsonl`, `SigninLogs.csv`),
//! loaded on first use. Column types come from the table's schema in the catalog when vigil
//! knows the table, else from the values.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::source::{DataSource, StoredFunction};
use super::table::infer_type;
use super::table::{Column, Table};
use super::value::{Type, Value};
use crate::kql::catalog::Catalog;

/// Extensions vigil reads, in order of preference.
pub const EXTENSIONS: &[&str] = &["jsonl", "json", "csv", "parquet"];

/// Tables from files, plus in-memory tables, functions and watchlists.
#[derive(Default)]
pub struct Sandbox {
    dir: Option<PathBuf>,
    /// When set, files are read only when they lie inside this folder after symbolic links.
    inside: Option<PathBuf>,
    files: BTreeMap<String, PathBuf>,
    loaded: Mutex<HashMap<String, Result<Arc<Table>, String>>>,
    /// Time indexes of the tables, built when a windowed query first reads one.
    indexes: Mutex<HashMap<String, Option<Arc<super::source::TimeIndex>>>>,
    tables: BTreeMap<String, Arc<Table>>,
    functions: BTreeMap<String, StoredFunction>,
    watchlists: BTreeMap<String, Arc<Table>>,
    schemas: BTreeMap<String, Vec<(String, Type)>>,
    /// What to tell the user when a known table has no data here (see [`Sandbox::missing_table`]).
    missing_hint: Option<String>,
}

impl Sandbox {
    /// A sandbox over a folder (missing folders give an empty sandbox).
    pub fn open(dir: &Path) -> Sandbox {
        let mut files = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for p in entries {
                let (Some(stem), Some(ext)) = (
                    p.file_stem().and_then(|s| s.to_str()),
                    p.extension().and_then(|s| s.to_str()),
                ) else {
                    continue;
                };
                let ext = ext.to_ascii_lowercase();
                if EXTENSIONS.contains(&ext.as_str()) {
                    files.entry(stem.to_string()).or_insert(p.clone());
                }
            }
        }
        Sandbox {
            dir: Some(dir.to_path_buf()),
            files,
            ..Sandbox::default()
        }
    }

    /// Read only files that lie inside `root` after symbolic links: the repository's sandbox
    /// is untrusted input, and a table file linked to `/proc/self/environ` must not become rows.
    pub fn contained_in(mut self, root: &Path) -> Sandbox {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        self.files.retain(|_, p| {
            p.canonicalize()
                .is_ok_and(|c| c.starts_with(&root) && c.is_file())
        });
        self.inside = Some(root);
        self
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Say how to give a known table data when a query reads one this sandbox lacks (a detection
    /// test: "add its rows under `data:`"); the default names the folder and `vigil sandbox init`.
    pub fn with_missing_hint(mut self, hint: impl Into<String>) -> Sandbox {
        self.missing_hint = Some(hint.into());
        self
    }

    /// The message for a name that is neither data, a variable nor a function: a table the
    /// catalog or `[schemas.tables]` knows has no data here (and how to get some); anything
    /// else is an unknown name.
    pub fn missing_table_message(&self, name: &str) -> String {
        let known = self.schemas.contains_key(name)
            || crate::kql::catalog::Catalog::embedded()
                .tables
                .contains_key(name);
        if !known {
            return format!(
                "`{name}` is not a table in the sandbox data, a variable or a function"
            );
        }
        match (&self.missing_hint, &self.dir) {
            (Some(h), _) => format!("no data for table `{name}`: {h}"),
            (None, Some(d)) => format!(
                "no data for table `{name}` in the sandbox ({}): run `vigil sandbox init` to generate sample rows for every table the content reads, or add {name}.jsonl there",
                d.display()
            ),
            (None, None) => format!("no data for table `{name}`"),
        }
    }

    /// Names of the tables available from files and memory.
    pub fn table_names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.files.keys().cloned().collect();
        n.extend(self.tables.keys().cloned());
        n.sort();
        n.dedup();
        n
    }

    pub fn add_table(&mut self, name: &str, t: Table) {
        self.indexes.get_mut().expect("sandbox index").remove(name);
        self.tables.insert(name.to_string(), Arc::new(t));
    }

    pub fn add_function(&mut self, name: &str, f: StoredFunction) {
        self.functions.insert(name.to_string(), f);
    }

    pub fn add_watchlist(&mut self, alias: &str, t: Table) {
        self.watchlists.insert(alias.to_string(), Arc::new(t));
    }

    /// Declare a table's schema (used for typing file data of custom tables).
    pub fn add_schema(&mut self, name: &str, cols: Vec<(String, Type)>) {
        self.schemas.insert(name.to_string(), cols);
    }

    /// The load error of a table file, if loading it failed.
    pub fn load(&self, name: &str) -> Result<Option<Arc<Table>>, String> {
        if let Some(t) = self.tables.get(name) {
            return Ok(Some(t.clone()));
        }
        {
            let cache = self.loaded.lock().expect("sandbox cache");
            if let Some(r) = cache.get(name) {
                return r.clone().map(Some);
            }
        }
        let Some(path) = self.files.get(name) else {
            return Ok(None);
        };
        let schema = self.schemas.get(name).cloned().or_else(|| {
            Catalog::embedded()
                .tables
                .get(name)
                .map(|s| s.columns.clone())
        });
        let r = load_file(path, schema.as_deref());
        self.loaded
            .lock()
            .expect("sandbox cache")
            .insert(name.to_string(), r.clone());
        r.map(Some)
    }
}

impl DataSource for Sandbox {
    fn table(&self, name: &str) -> Option<Arc<Table>> {
        self.load(name).ok().flatten()
    }
    fn missing_table(&self, name: &str) -> String {
        self.missing_table_message(name)
    }

    fn time_index(&self, name: &str) -> Option<Arc<super::source::TimeIndex>> {
        if let Some(ix) = self.indexes.lock().expect("sandbox index").get(name) {
            return ix.clone();
        }
        let ix = self
            .load(name)
            .ok()
            .flatten()
            .and_then(|t| super::source::TimeIndex::build(&t))
            .map(Arc::new);
        self.indexes
            .lock()
            .expect("sandbox index")
            .insert(name.to_string(), ix.clone());
        ix
    }

    fn function(&self, name: &str) -> Option<StoredFunction> {
        self.functions.get(name).cloned()
    }

    fn watchlist(&self, alias: &str) -> Option<Arc<Table>> {
        self.watchlists.get(alias).cloned()
    }

    fn table_names(&self) -> Vec<String> {
        Sandbox::table_names(self)
    }

    /// `externaldata` reads `externaldata/<last path segment of the URL>` in the sandbox
    /// folder (query strings and SAS tokens are ignored).
    fn external(&self, url: &str) -> Option<Result<String, String>> {
        let dir = self.dir.as_ref()?.join("externaldata");
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let name = path.rsplit('/').next().filter(|n| !n.is_empty())?;
        let p = dir.join(name);
        if let Some(root) = &self.inside {
            if !p.canonicalize().is_ok_and(|c| c.starts_with(root)) {
                return None;
            }
        }
        p.is_file()
            .then(|| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display())))
    }
}

/// Load one table file.
pub fn load_file(path: &Path, schema: Option<&[(String, Type)]>) -> Result<Arc<Table>, String> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return Ok(Arc::new(rows_to_table(parquet_rows(path)?, schema)));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let rows: Vec<Vec<(String, Value)>> = match ext.as_str() {
        "csv" => {
            let recs =
                crate::csv::parse(&text).map_err(|e| format!("{}: {e:?}", path.display()))?;
            let mut it = recs.into_iter();
            let header = it.next().unwrap_or_default();
            it.map(|r| {
                header
                    .iter()
                    .cloned()
                    .zip(r.into_iter().map(Value::string))
                    .collect()
            })
            .collect()
        }
        _ => {
            let mut rows = Vec::new();
            let values: Vec<serde_json::Value> =
                if ext == "json" && text.trim_start().starts_with('[') {
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
                } else {
                    let mut v = Vec::new();
                    for (i, line) in text.lines().enumerate() {
                        if line.trim().is_empty() {
                            continue;
                        }
                        v.push(
                            serde_json::from_str(line)
                                .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?,
                        );
                    }
                    v
                };
            for v in values {
                let serde_json::Value::Object(o) = v else {
                    return Err(format!(
                        "{}: each row must be a JSON object",
                        path.display()
                    ));
                };
                rows.push(json_row(o));
            }
            rows
        }
    };
    Ok(Arc::new(rows_to_table(rows, schema)))
}

/// One JSON object as a row of named values (strings stay strings until a schema types them).
pub fn json_row(o: serde_json::Map<String, serde_json::Value>) -> Vec<(String, Value)> {
    o.into_iter()
        .map(|(k, v)| {
            let val = match v {
                serde_json::Value::String(s) => Value::string(s),
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::Long(i),
                    None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
                },
                other => Value::dynamic(other),
            };
            (k, val)
        })
        .collect()
}

/// Build a typed table from rows of named values: the schema's columns first (in its order,
/// typed by it), then any other columns in order of first appearance, typed by their values.
pub fn rows_to_table(rows: Vec<Vec<(String, Value)>>, schema: Option<&[(String, Type)]>) -> Table {
    let mut names: Vec<(String, Option<Type>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    if let Some(s) = schema {
        for (n, t) in s {
            index.insert(n.clone(), names.len());
            names.push((n.clone(), Some(*t)));
        }
    }
    for r in &rows {
        for (k, _) in r {
            if !index.contains_key(k) {
                index.insert(k.clone(), names.len());
                names.push((k.clone(), None));
            }
        }
    }
    let n = rows.len();
    // Columns of the schema that no row has cost nothing per row: they share one column of
    // typed nulls per type (a wide catalog table loaded from a narrow file stays small).
    let mut seen = vec![false; names.len()];
    for r in &rows {
        for (k, _) in r {
            seen[index[k]] = true;
        }
    }
    let mut cols: Vec<Vec<Value>> = seen
        .iter()
        .map(|s| {
            if *s {
                Vec::with_capacity(n)
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut interner: HashMap<Arc<str>, ()> = HashMap::new();
    for r in rows {
        let mut present = vec![false; names.len()];
        for (k, v) in r {
            let i = index[&k];
            present[i] = true;
            cols[i].push(v);
        }
        for (i, p) in present.iter().enumerate() {
            if !p && seen[i] {
                cols[i].push(Value::Null);
            }
        }
    }
    let mut shared: HashMap<Type, Arc<Vec<Value>>> = HashMap::new();
    let columns = names
        .into_iter()
        .zip(cols)
        .zip(seen)
        .map(|(((name, ty), data), seen)| {
            if let (false, Some(ty)) = (seen, ty) {
                let data = shared
                    .entry(ty)
                    .or_insert_with(|| Arc::new(vec![Value::Null.cast(ty); n]))
                    .clone();
                return Column { name, ty, data };
            }
            let ty = ty.unwrap_or_else(|| {
                // Strings that all parse as datetimes become datetimes (JSON has no datetime).
                let t = infer_type(&data);
                if t == Type::String
                    && data.iter().all(|v| match v {
                        Value::Str(s) => s.is_empty() || looks_like_datetime(s),
                        Value::Null => true,
                        _ => false,
                    })
                    && data
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
            let data: Vec<Value> = data
                .into_iter()
                .map(|v| {
                    let v = if ty == Type::Dynamic {
                        match v {
                            Value::Str(_) | Value::Dyn(_) | Value::Null => v.cast(Type::Dynamic),
                            other => Value::dynamic(other.to_json()),
                        }
                    } else {
                        v.cast(ty)
                    };
                    // Share repeated strings (sample data repeats hosts and accounts).
                    match v {
                        Value::Str(s) if s.len() <= 64 => {
                            if let Some((k, _)) = interner.get_key_value(&s) {
                                Value::Str(k.clone())
                            } else {
                                interner.insert(s.clone(), ());
                                Value::Str(s)
                            }
                        }
                        other => other,
                    }
                })
                .collect();
            Column::new(name, ty, data)
        })
        .collect();
    Table { columns, rows: n }
}

fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b[..4].iter().all(|c| c.is_ascii_digit())
        && super::value::parse_datetime(s).is_some()
}

/// Rows of a Parquet file (any compression the `snap` build reads: uncompressed or Snappy).
fn parquet_rows(path: &Path) -> Result<Vec<Vec<(String, Value)>>, String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| err(&e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| err(&e))?;
    let iter = reader.get_row_iter(None).map_err(|e| err(&e))?;
    let mut rows = Vec::new();
    for row in iter {
        let row = row.map_err(|e| err(&e))?;
        let mut out = Vec::new();
        for (name, f) in row.get_column_iter() {
            let v = match f {
                Field::Null => Value::Null,
                Field::Bool(b) => Value::Bool(*b),
                Field::Byte(x) => Value::Long(*x as i64),
                Field::Short(x) => Value::Long(*x as i64),
                Field::Int(x) => Value::Long(*x as i64),
                Field::Long(x) => Value::Long(*x),
                Field::UByte(x) => Value::Long(*x as i64),
                Field::UShort(x) => Value::Long(*x as i64),
                Field::UInt(x) => Value::Long(*x as i64),
                Field::ULong(x) => Value::Long(*x as i64),
                Field::Float(x) => Value::Real(*x as f64),
                Field::Double(x) => Value::Real(*x),
                Field::Str(s) => Value::string(s.clone()),
                Field::Date(d) => Value::DateTime(*d as i64 * super::value::DAY),
                Field::TimestampMillis(t) => Value::DateTime(t * super::value::MILLISECOND),
                Field::TimestampMicros(t) => Value::DateTime(t * super::value::MICROSECOND),
                // Decimals, bytes, times, nested groups, lists and maps: their text form, as
                // JSON when it is JSON (nested values), else a string.
                other => {
                    let text = other.to_string();
                    match serde_json::from_str::<serde_json::Value>(&text) {
                        Ok(j @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) => {
                            Value::dynamic(j)
                        }
                        _ => Value::string(text.trim_matches('"').to_string()),
                    }
                }
            };
            out.push((name.clone(), v));
        }
        rows.push(out);
    }
    Ok(rows)
}
