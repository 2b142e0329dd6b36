//! Sandbox data: one file per table in a folder (`SecurityEvent.jsonl`, `SigninLogs.csv`),
//! loaded on first use. Column types come from the table's schema in the catalog when vigil
//! knows the table, else from the values.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use super::builder::TableBuilder;
use super::builder::{RowSeed, RowsSeed};
use super::source::{DataSource, StoredFunction};
use super::table::Table;
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
    /// The geo-IP database: where it is (or why it cannot be used), loaded on first use.
    geoip_source: Option<Result<PathBuf, String>>,
    geoip: std::sync::OnceLock<Result<Arc<super::geoip::GeoIp>, String>>,
    /// The embedded catalog with this sandbox's declared schemas, stored functions and
    /// watchlists, built on first use (see [`Sandbox::catalog_of`]).
    catalog: std::sync::OnceLock<Box<Catalog>>,
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
        // A file that is there but cannot be read says why.
        if let Some(Err(e)) = self.loaded.lock().expect("sandbox cache").get(name) {
            return format!("table `{name}` cannot be loaded: {e}");
        }
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

    /// The geo-IP database file (read on first use, at most [`super::geoip::MAX_BYTES`]), or
    /// why the configured one cannot be used.
    pub fn with_geoip_file(mut self, file: Result<PathBuf, String>) -> Sandbox {
        self.geoip_source = Some(file);
        self.geoip = std::sync::OnceLock::new();
        self
    }

    /// A geo-IP database already read.
    pub fn set_geoip(&mut self, g: Arc<super::geoip::GeoIp>) {
        self.geoip_source = Some(Ok(PathBuf::new()));
        self.geoip = std::sync::OnceLock::from(Ok(g));
    }

    pub fn add_table(&mut self, name: &str, t: Table) {
        self.indexes.get_mut().expect("sandbox index").remove(name);
        self.tables.insert(name.to_string(), Arc::new(t));
    }

    pub fn add_function(&mut self, name: &str, f: StoredFunction) {
        self.functions.insert(name.to_string(), f);
        self.catalog.take();
    }

    pub fn add_watchlist(&mut self, alias: &str, t: Table) {
        self.watchlists.insert(alias.to_string(), Arc::new(t));
        self.catalog.take();
    }

    /// Declare a table's schema (used for typing file data of custom tables).
    pub fn add_schema(&mut self, name: &str, cols: Vec<(String, Type)>) {
        self.schemas.insert(name.to_string(), cols);
        self.catalog.take();
    }

    /// The catalog queries over this sandbox bind against: the embedded one, plus the declared
    /// table schemas (`[schemas.tables]`), the watchlists with their columns, and the stored
    /// functions, each body bound with its parameters, in name order (a function that calls
    /// one later in that order sees it as unknown, and its own result is open). With none of these it is the embedded catalog itself.
    fn catalog_of(&self) -> Catalog {
        let mut c = Catalog::embedded().clone();
        for (name, cols) in &self.schemas {
            c.tables
                .insert(name.clone(), crate::kql::catalog::Schema::new(cols.clone()));
        }
        if !self.watchlists.is_empty() {
            let w = c.watchlists.get_or_insert_with(Default::default);
            for (alias, t) in &self.watchlists {
                w.insert(
                    alias.to_ascii_lowercase(),
                    Some(t.columns.iter().map(|c| c.name.clone()).collect()),
                );
            }
        }
        for (name, f) in &self.functions {
            let params = f.params.trim();
            let params = params
                .strip_prefix('(')
                .and_then(|p| p.strip_suffix(')'))
                .unwrap_or(params);
            crate::kql::binder::add_saved_function(&mut c, name, params, &f.body);
        }
        c
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
    fn catalog(&self) -> &Catalog {
        if self.schemas.is_empty() && self.functions.is_empty() && self.watchlists.is_empty() {
            return Catalog::embedded();
        }
        self.catalog.get_or_init(|| Box::new(self.catalog_of()))
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

    fn geoip(&self) -> Option<Result<Arc<super::geoip::GeoIp>, String>> {
        let source = self.geoip_source.as_ref()?;
        Some(
            self.geoip
                .get_or_init(|| {
                    let path = source.clone()?;
                    let shown = path.display().to_string();
                    let f = std::fs::File::open(&path).map_err(|e| format!("{shown}: {e}"))?;
                    let mut bytes = Vec::new();
                    use std::io::Read;
                    f.take(super::geoip::MAX_BYTES + 1)
                        .read_to_end(&mut bytes)
                        .map_err(|e| format!("{shown}: {e}"))?;
                    if bytes.len() as u64 > super::geoip::MAX_BYTES {
                        return Err(format!(
                            "{shown}: larger than {} MB",
                            super::geoip::MAX_BYTES >> 20
                        ));
                    }
                    super::geoip::GeoIp::from_bytes(bytes)
                        .map(Arc::new)
                        .map_err(|e| format!("{shown}: {e}"))
                })
                .clone(),
        )
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

/// Load one table file: JSON Lines and CSV are read a line at a time straight into
/// dictionary-encoded columns (no row objects, no copy of the file in memory).
pub fn load_file(path: &Path, schema: Option<&[(String, Type)]>) -> Result<Arc<Table>, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut b = TableBuilder::new(schema);
    match ext.as_str() {
        "parquet" => b = super::parquet::load(path, schema)?,
        "csv" => b = load_csv(path, schema)?,
        _ => {
            if ext == "json" && starts_with_array(path)? {
                // One JSON array of objects: read whole.
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let mut de = serde_json::Deserializer::from_str(&text);
                serde::de::DeserializeSeed::deserialize(RowsSeed(&mut b), &mut de)
                    .and_then(|_| de.end())
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            } else {
                b = load_lines(path, schema)?;
            }
        }
    }
    Ok(Arc::new(b.finish()))
}

/// A CSV table: the first record names the columns, each other one is a row (a record shorter
/// than the header leaves its last cells null). Streamed a block at a time; over 8 MiB the
/// rows are cut into parts at record starts (`csv::record_starts`, which counts quotes, so a
/// line end inside a quoted field is never a cut) and parsed on every core, the builders
/// appended in file order. A part that fails sends the whole file through one pass, which
/// reports the error at its line.
fn load_csv(path: &Path, schema: Option<&[(String, Type)]>) -> Result<TableBuilder, String> {
    use rayon::prelude::*;
    use std::io::{Read, Seek};
    let open = || std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()));
    let at_line = |e: crate::csv::CsvError| format!("{}:{}: {}", path.display(), e.line, e.message);
    let one_pass = || -> Result<TableBuilder, String> {
        let mut b = TableBuilder::new(schema);
        let mut cols: Option<Vec<usize>> = None;
        crate::csv::read_records(open()?, |fields| match &cols {
            None => cols = Some(fields.iter().map(|h| b.column(h)).collect()),
            Some(cols) => {
                for (c, v) in cols.iter().zip(fields) {
                    b.set_str(*c, v);
                }
                b.end_row();
            }
        })
        .map_err(at_line)?;
        Ok(b)
    };
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let parts = rayon::current_num_threads().clamp(1, 16) as u64;
    if len < 8 << 20 || parts == 1 {
        return one_pass();
    }
    let Some((header, start)) = crate::csv::header(open()?).map_err(at_line)? else {
        return one_pass();
    };
    let targets: Vec<u64> = (1..parts)
        .map(|k| start + (len - start) * k / parts)
        .collect();
    let mut bounds = vec![start];
    // Clamped to the length measured first: a file that grows while it is read cannot make a
    // part run into the next one.
    bounds.extend(
        crate::csv::record_starts(open()?, start, &targets)
            .map_err(at_line)?
            .into_iter()
            .map(|b| b.min(len)),
    );
    bounds.push(len);
    let built: Vec<Option<TableBuilder>> = (0..parts as usize)
        .into_par_iter()
        .map(|k| {
            let mut file = open().ok()?;
            file.seek(std::io::SeekFrom::Start(bounds[k])).ok()?;
            let mut b = TableBuilder::new(schema);
            let cols: Vec<usize> = header.iter().map(|h| b.column(h)).collect();
            crate::csv::read_part(
                file.take(bounds[k + 1].saturating_sub(bounds[k])),
                |fields| {
                    for (c, v) in cols.iter().zip(fields) {
                        b.set_str(*c, v);
                    }
                    b.end_row();
                },
            )
            .ok()?;
            Some(b)
        })
        .collect();
    let mut out: Option<TableBuilder> = None;
    for b in built {
        let Some(b) = b else {
            return one_pass();
        };
        match &mut out {
            None => out = Some(b),
            Some(o) => o.append(b),
        }
    }
    Ok(out.unwrap_or_else(|| TableBuilder::new(schema)))
}

/// Whether a file's first non-blank byte is `[`.
fn starts_with_array(path: &Path) -> Result<bool, String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut buf = [0u8; 4096];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Ok(false);
        }
        if let Some(b) = buf[..n].iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok(*b == b'[');
        }
    }
}

/// JSON Lines on every core: the file is cut into byte ranges at line starts, each range is
/// parsed into its own builder, and the builders are appended in file order (the table is the
/// one a single pass makes, whatever the number of threads).
fn load_lines(path: &Path, schema: Option<&[(String, Type)]>) -> Result<TableBuilder, String> {
    use rayon::prelude::*;
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let parts = if len < 8 << 20 {
        1
    } else {
        rayon::current_num_threads().clamp(1, 16) as u64
    };
    let bounds: Vec<u64> = (0..=parts).map(|k| len * k / parts).collect();
    let results: Vec<Result<(TableBuilder, usize), (usize, String)>> = (0..parts as usize)
        .into_par_iter()
        .map(|k| parse_range(path, bounds[k], bounds[k + 1], schema))
        .collect();
    let mut lines_before = 0;
    let mut out: Option<TableBuilder> = None;
    for r in results {
        match r {
            Ok((b, lines)) => {
                lines_before += lines;
                match &mut out {
                    None => out = Some(b),
                    Some(o) => o.append(b),
                }
            }
            Err((0, e)) => return Err(format!("{}: {e}", path.display())),
            Err((line, e)) => {
                return Err(format!("{}:{}: {e}", path.display(), lines_before + line))
            }
        }
    }
    Ok(out.unwrap_or_else(|| TableBuilder::new(schema)))
}

/// The lines that start in `[start, end)`: a builder and the number of lines, or the line
/// (counted from the range's first) that failed and why (line 0 for a read error).
fn parse_range(
    path: &Path,
    start: u64,
    end: u64,
    schema: Option<&[(String, Type)]>,
) -> Result<(TableBuilder, usize), (usize, String)> {
    use std::io::{Read, Seek};
    let mut b = TableBuilder::new(schema);
    let mut file = std::fs::File::open(path).map_err(|e| (0, e.to_string()))?;
    // The range is read in blocks and its lines are parsed where they lie in the block (no
    // copy per line); a line longer than the block grows it.
    let mut buf = vec![0u8; 1 << 20];
    let (mut filled, mut at, mut eof) = (0, 0, false);
    // The file offset of `buf[0]`.
    let mut base = start.saturating_sub(1);
    file.seek(std::io::SeekFrom::Start(base))
        .map_err(|e| (0, e.to_string()))?;
    // The line that holds byte `start - 1` belongs to the range before.
    let mut skip = start > 0;
    let mut lines = 0;
    let mut lexer = super::jsonl::Lexer::default();
    loop {
        let line = match memchr::memchr(b'\n', &buf[at..filled]) {
            Some(k) => &buf[at..at + k + 1],
            None if eof => &buf[at..filled],
            None => {
                buf.copy_within(at..filled, 0);
                base += at as u64;
                filled -= at;
                at = 0;
                if filled == buf.len() {
                    buf.resize(buf.len() * 2, 0);
                }
                let n = file
                    .read(&mut buf[filled..])
                    .map_err(|e| (0, e.to_string()))?;
                filled += n;
                eof = n == 0;
                continue;
            }
        };
        if line.is_empty() || base + at as u64 >= end && !skip {
            break;
        }
        at += line.len();
        if std::mem::take(&mut skip) {
            continue;
        }
        lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if lexer.row(line, &mut b) {
            b.end_row();
            continue;
        }
        // Not a valid JSON object: the full parser reads it again from its first cell and
        // says what is wrong.
        b.restart_row();
        let mut de = serde_json::Deserializer::from_slice(line);
        serde::de::DeserializeSeed::deserialize(RowSeed(&mut b), &mut de)
            .and_then(|_| de.end())
            .map_err(|e| (lines, e.to_string()))?;
    }
    Ok((b, lines))
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
    let mut b = TableBuilder::new(schema);
    for r in rows {
        b.push_row(r);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::table::{Column, Data};

    /// `f` on a pool of `threads` threads.
    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    fn load_text(
        name: &str,
        text: &str,
        schema: Option<&[(String, Type)]>,
    ) -> Result<Arc<Table>, String> {
        let dir = std::env::temp_dir().join(format!(
            "vigil-data-{}-{}",
            std::process::id(),
            name.replace('.', "-")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let r = load_file(&p, schema);
        let _ = std::fs::remove_dir_all(&dir);
        r
    }

    #[test]
    fn repeated_values_are_a_dictionary_and_distinct_values_are_plain() {
        let mut text = String::new();
        for i in 0..100 {
            text.push_str(&format!(
                "{{\"Computer\": \"host-{}\", \"Id\": {i}, \"When\": \"2026-01-01T00:00:{:02}Z\"}}\n",
                i % 3,
                i % 60
            ));
        }
        let t = load_text("T.jsonl", &text, None).unwrap();
        assert_eq!(t.rows, 100);
        let c = t.column("Computer").unwrap();
        assert_eq!(c.ty, Type::String);
        match &c.data {
            // Null (key 0) and three hosts.
            Data::Dict(k, d) => assert_eq!((k.len(), d.len()), (100, 4)),
            other => panic!("expected a dictionary, got {other:?}"),
        }
        assert_eq!(c.data[4].text(), "host-1");
        let id = t.column("Id").unwrap();
        assert_eq!(id.ty, Type::Long);
        assert!(
            matches!(id.data, Data::Plain(_)),
            "100 distinct ids are plain"
        );
        assert_eq!(id.data[57].as_i64(), Some(57));
        let when = t.column("When").unwrap();
        assert_eq!(
            when.ty,
            Type::DateTime,
            "datetime strings are typed as datetimes"
        );
        assert_eq!(when.data[61].key(), when.data[1].key());
    }

    #[test]
    fn missing_cells_are_null_and_absent_schema_columns_share_their_keys() {
        let schema = vec![
            ("A".to_string(), Type::String),
            ("B".to_string(), Type::Long),
            ("C".to_string(), Type::DateTime),
        ];
        let t = load_text(
            "T.jsonl",
            "{\"A\": \"x\"}\n\n{\"A\": \"y\", \"Extra\": true}\n",
            Some(&schema),
        )
        .unwrap();
        assert_eq!(t.rows, 2);
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "Extra"]);
        assert!(t.column("B").unwrap().data[0].is_null());
        assert!(t.column("Extra").unwrap().data[0].is_null());
        assert_eq!(t.column("Extra").unwrap().data[1].as_bool(), Some(true));
        match (&t.column("B").unwrap().data, &t.column("C").unwrap().data) {
            (Data::Dict(kb, _), Data::Dict(kc, _)) => assert!(Arc::ptr_eq(kb, kc)),
            other => panic!("absent columns should share keys: {other:?}"),
        }
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number_and_rows_must_be_objects() {
        let e = load_text("T.jsonl", "{\"A\": 1}\n{\"A\": \n", None).unwrap_err();
        assert!(e.contains("T.jsonl:2:"), "{e}");
        let e = load_text("T.jsonl", "{\"A\": 1}\n[1, 2]\n", None).unwrap_err();
        assert!(
            e.contains("T.jsonl:2:") && e.contains("each row must be a JSON object"),
            "{e}"
        );
        let e = load_text("T.json", "[{\"A\": 1}, 3]", None).unwrap_err();
        assert!(e.contains("each row must be a JSON object"), "{e}");
    }

    /// Lines are read as bytes and serde_json checks their UTF-8: a line with invalid UTF-8
    /// (inside a string or out of one) is an error at its line, not a panic or a mangled value.
    #[test]
    fn invalid_utf8_is_reported_at_its_line() {
        let dir = std::env::temp_dir().join(format!("vigil-data-{}-utf8", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, bad) in [&b"{\"A\": \"x\xff\"}\n"[..], &b"{\"A\": 1}\xfe\n"[..]]
            .iter()
            .enumerate()
        {
            let p = dir.join(format!("T{i}.jsonl"));
            let mut bytes = b"{\"A\": \"ok\"}\n".to_vec();
            bytes.extend_from_slice(bad);
            std::fs::write(&p, bytes).unwrap();
            let e = load_file(&p, None).unwrap_err();
            assert!(e.contains(&format!("T{i}.jsonl:2:")), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A column the schema types `datetime` is typed by its dictionary's cast: two spellings
    /// of one instant are one value, and a cell that does not parse is null. (Parsing each
    /// cell as it loads instead cut the 1M-row bench's peak from 79 to 67 MB but cost 8% of
    /// the 10M-row load, so the dictionary is cast once, after the load.)
    #[test]
    fn declared_datetime_columns_parse_as_they_load() {
        let schema = [("T".to_string(), Type::DateTime)];
        let t = load_text(
            "D.jsonl",
            "{\"T\": \"2026-01-01T00:00:00Z\"}\n{\"T\": \"2026-01-01 00:00:00\"}\n{\"T\": \"not a date\"}\n{\"T\": null}\n",
            Some(&schema),
        )
        .unwrap();
        let c = t.column("T").unwrap();
        assert_eq!(c.ty, Type::DateTime);
        let want = super::super::value::parse_datetime("2026-01-01T00:00:00Z").unwrap();
        assert!(matches!(c.data.get(0), Value::DateTime(x) if *x == want));
        assert!(matches!(c.data.get(1), Value::DateTime(x) if *x == want));
        assert!(c.data.get(2).is_null() && c.data.get(3).is_null());
    }

    #[test]
    fn json_arrays_csv_escaped_keys_and_nested_values_load() {
        let t = load_text(
            "T.json",
            "[{\"A\\u0042\": \"x\", \"D\": {\"k\": [1, 2]}}, {\"AB\": \"y\", \"D\": null}]",
            None,
        )
        .unwrap();
        assert_eq!(t.rows, 2);
        assert_eq!(t.column("AB").unwrap().data[1].text(), "y");
        let d = t.column("D").unwrap();
        assert_eq!(d.ty, Type::Dynamic);
        assert_eq!(d.data[0].to_json(), serde_json::json!({"k": [1, 2]}));
        let t = load_text("T.csv", "A,B\n1,\"x,y\"\n2,z\n", None).unwrap();
        assert_eq!(t.rows, 2);
        assert_eq!(t.column("B").unwrap().data[0].text(), "x,y");
    }

    #[test]
    fn dictionary_columns_keep_their_dictionary_through_take_concat_and_map() {
        let d = Data::dict(
            vec![1, 2, 1, 0],
            vec![Value::Null, Value::str("a"), Value::str("b")],
        );
        let taken = d.take(&[2, 1]);
        assert!(matches!(taken, Data::Dict(..)));
        assert_eq!(
            taken.to_vec().iter().map(|v| v.text()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let both = d.concat(&taken);
        assert_eq!(both.len(), 6);
        assert_eq!(both[5].text(), "b");
        let upper = d.map(|v| Value::string(v.text().to_uppercase()));
        assert!(matches!(upper, Data::Dict(..)));
        assert_eq!(upper[1].text(), "B");
        assert_eq!(d.mask(|v| v.text() == "a"), [true, false, true, false]);
        let opt = d.take_opt(&[Some(1), None], &Value::str("-"));
        assert_eq!(opt[1].text(), "-");
        assert_eq!(opt[0].text(), "b");
    }

    #[test]
    fn a_file_read_in_parallel_parts_is_the_table_one_pass_makes() {
        // Over 8 MiB, so it is cut into parts; a column appears only late, keys change order.
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 9 << 20 {
            if i % 7 == 0 {
                text.push_str(&format!("{{\"B\": {i}, \"A\": \"h{}\"}}\n", i % 13));
            } else if i > 120_000 {
                text.push_str(&format!(
                    "{{\"A\": \"h{}\", \"Late\": \"x{}\"}}\n",
                    i % 13,
                    i % 5
                ));
            } else {
                text.push_str(&format!(
                    "{{\"A\": \"h{}\", \"B\": {}}}\n\n",
                    i % 13,
                    i % 100
                ));
            }
            i += 1;
        }
        let load =
            |threads: usize, text: &str| on_threads(threads, || load_text("P.jsonl", text, None));
        let one = load(1, &text).unwrap();
        let three = load(3, &text).unwrap();
        assert_eq!(one.schema(), three.schema());
        assert_eq!(one.rows, three.rows);
        for (a, b) in one.columns.iter().zip(&three.columns) {
            let (Data::Dict(ka, da), Data::Dict(kb, db)) = (&a.data, &b.data) else {
                assert_eq!(
                    a.data.to_vec().iter().map(|v| v.key()).collect::<Vec<_>>(),
                    b.data.to_vec().iter().map(|v| v.key()).collect::<Vec<_>>()
                );
                continue;
            };
            assert_eq!(ka, kb, "{}", a.name);
            let k = |d: &Vec<Value>| d.iter().map(|v| v.key()).collect::<Vec<_>>();
            assert_eq!(k(da), k(db), "{}", a.name);
        }
        // A bad line late in the file is reported at its line.
        let lines = text.lines().count();
        let bad = format!("{text}{{\"A\": oops}}\n");
        let e = load(3, &bad).unwrap_err();
        assert!(e.contains(&format!("P.jsonl:{}:", lines + 1)), "{e}");
    }

    /// CSV tables are streamed: quoted fields across lines, doubled quotes, a BOM, CRLF and a
    /// short record load as the CSV reader reads them, and a broken record is reported at its
    /// file and line.
    #[test]
    fn csv_tables_stream_and_report_errors_at_their_line() {
        let mut text = String::from("\u{feff}Host,Count,Note\r\n");
        for i in 0..200_000 {
            text.push_str(&format!("h{},{},\"a \"\"q\"\"\nb\"\r\n", i % 5, i % 3));
        }
        text.push_str("last,7\n");
        let t = load_text("C.csv", &text, None).unwrap();
        assert_eq!(t.rows, 200_001);
        assert_eq!(t.column("Host").unwrap().data[6].text(), "h1");
        assert_eq!(
            t.column("Count").unwrap().ty,
            Type::String,
            "undeclared CSV cells are text"
        );
        assert_eq!(t.column("Note").unwrap().data[3].text(), "a \"q\"\nb");
        assert_eq!(t.column("Note").unwrap().data[200_000].text(), "");
        let e = load_text("C.csv", "a,b\n1,2\n3,x\"y\n", None).unwrap_err();
        assert!(
            e.ends_with("C.csv:3: a quote inside an unquoted field"),
            "{e}"
        );
    }

    /// A CSV file over 8 MiB is read in parts on every core: the table is the one a single
    /// pass makes, though quoted fields hold line ends (and quote pairs) everywhere, so a cut at
    /// a line end would land inside one; an error in any part is reported at its file line.
    #[test]
    fn a_csv_file_read_in_parallel_parts_is_the_table_one_pass_makes() {
        let mut text = String::from("A,B,C\n");
        let mut i = 0;
        while text.len() < 9 << 20 {
            match i % 4 {
                0 => text.push_str(&format!("h{},\"x\n,y\n\"\"\n\",{}\n", i % 7, i)),
                1 => text.push_str(&format!("h{},\"\"\"\",{}\r\n", i % 7, i % 11)),
                2 => text.push_str(&format!("\"\n\n\n\n\",{}\n", i % 3)),
                _ => text.push_str(&format!("h{},plain,{}\n", i % 5, i)),
            }
            i += 1;
        }
        let load =
            |threads: usize, text: &str| on_threads(threads, || load_text("P.csv", text, None));
        let one = load(1, &text).unwrap();
        let three = load(3, &text).unwrap();
        assert_eq!(one.schema(), three.schema());
        assert_eq!((one.rows, three.rows), (i, i));
        for (a, b) in one.columns.iter().zip(&three.columns) {
            let cells = |c: &Column| c.data.to_vec().iter().map(|v| v.key()).collect::<Vec<_>>();
            assert_eq!(cells(a), cells(b), "{}", a.name);
        }
        assert_eq!(three.column("B").unwrap().data[4].text(), "x\n,y\n\"\n");
        // A broken record late in the file is reported at its line.
        let lines = text.matches('\n').count();
        let bad = format!("{text}ok,1,2\nbad\"quote,1,2\n");
        let e = load(3, &bad).unwrap_err();
        assert!(
            e.ends_with(&format!(
                "P.csv:{}: a quote inside an unquoted field",
                lines + 2
            )),
            "{e}"
        );
    }

    /// Lines are parsed where they lie in the read block: a line longer than the block, a
    /// CRLF line end and a last line without one are read whole, in parts or not.
    #[test]
    fn long_lines_crlf_and_a_last_line_without_newline_load() {
        let long = "x".repeat(3 << 20);
        let mut text = format!("{{\"A\": \"{long}\"}}\r\n");
        for i in 0..300_000 {
            text.push_str(&format!("{{\"A\": \"v{}\"}}\r\n", i % 7));
        }
        text.push_str(&format!("{{\"A\": \"{long}y\"}}\n{{\"A\": \"end\"}}"));
        for threads in [1, 3] {
            let t = on_threads(threads, || load_text("L.jsonl", &text, None)).unwrap();
            assert_eq!(t.rows, 300_003, "{threads} threads");
            let a = &t.column("A").unwrap().data;
            assert_eq!(a[0].text().len(), 3 << 20);
            assert_eq!(a[1].text(), "v0");
            assert_eq!(a[300_001].text(), format!("{long}y"));
            assert_eq!(a[300_002].text(), "end");
        }
    }

    /// The JSON Lines fast path (`jsonl::Lexer`) against serde_json alone, on generated lines
    /// that mix every JSON form, escapes, numbers at the edges of `i64`, nested values,
    /// repeated keys and invalid lines: each line is accepted or rejected alike, and the
    /// tables hold the same cells with the same types.
    #[test]
    fn the_json_lines_fast_path_reads_every_line_as_serde_json_does() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        const KEYS: &[&str] = &["A", "B", "Computer", "w\\x", "\\u0041", "é"];
        const VALUES: &[&str] = &[
            "\"host-1\"",
            "\"\"",
            "\"C:\\\\Windows\\\\x.exe\"",
            "\"q\\\"uote\\/s\\b\\f\\n\\r\\t\"",
            "\"\\u00e9\\u20AC\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"\\uZZZZ\"",
            "\"\\x\"",
            "\"tab\there\"",
            "\"é😀\"",
            "0",
            "-0",
            "7",
            "-12",
            "01",
            "123456789012345678",
            "-123456789012345678",
            "1234567890123456789",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "1.5",
            "-2.5e3",
            "1E400",
            "1.",
            "-",
            "+1",
            "2e",
            "true",
            "false",
            "null",
            "tru",
            "nul",
            "{}",
            "[]",
            "{\"a\": [1, {\"b\": \"c\"}], \"z\": null}",
            "[1, 2.5, \"x\"]",
            "{\"a\": }",
            "\"2026-01-01T00:00:00Z\"",
        ];
        const SPACES: &[&str] = &["", " ", "\t", "  ", "\r"];
        let mut lines = Vec::new();
        for _ in 0..10_000 {
            let mut l = String::new();
            l.push_str(SPACES[next(SPACES.len())]);
            match next(40) {
                0 => l.push_str("[1]"),
                1 => l.push_str("\"row\""),
                2 => l.push_str("{}"),
                _ => {
                    l.push('{');
                    for c in 0..1 + next(5) {
                        if c > 0 {
                            l.push(',');
                        }
                        l.push_str(SPACES[next(SPACES.len())]);
                        l.push_str(&format!("\"{}\"", KEYS[next(KEYS.len())]));
                        l.push_str(SPACES[next(SPACES.len())]);
                        l.push(':');
                        l.push_str(SPACES[next(SPACES.len())]);
                        l.push_str(VALUES[next(VALUES.len())]);
                    }
                    l.push('}');
                }
            }
            match next(30) {
                0 => l.push_str(" x"),
                1 => l.push_str("{}"),
                2 => l.push(','),
                3 => l.push('\u{1}'),
                _ => {}
            }
            l.push_str(SPACES[next(SPACES.len())]);
            l.push('\n');
            lines.push(l);
        }
        let mut fast = TableBuilder::new(None);
        let mut slow = TableBuilder::new(None);
        let mut lexer = super::super::jsonl::Lexer::default();
        let serde_row = |b: &mut TableBuilder, line: &[u8]| {
            let mut de = serde_json::Deserializer::from_slice(line);
            serde::de::DeserializeSeed::deserialize(RowSeed(b), &mut de).and_then(|_| de.end())
        };
        let discard = |b: &mut TableBuilder| {
            b.discard_row();
        };
        let (mut lexed, mut good) = (0, 0);
        for l in &lines {
            let line = l.as_bytes();
            let by_lexer = lexer.row(line, &mut fast);
            let fast_ok = by_lexer || {
                fast.restart_row();
                serde_row(&mut fast, line).is_ok()
            };
            if by_lexer {
                fast.end_row();
            }
            let slow_ok = serde_row(&mut slow, line).is_ok();
            assert_eq!(fast_ok, slow_ok, "{l:?}");
            lexed += by_lexer as usize;
            good += slow_ok as usize;
            if !slow_ok {
                discard(&mut fast);
                discard(&mut slow);
            }
        }
        // The fast path carries nearly every valid line (all but lone surrogate escapes,
        // which serde_json rejects too, and so on): it is not silently bypassed.
        assert!(good > 2000 && lexed * 10 > good * 9, "{lexed} of {good}");
        let (a, b) = (fast.finish(), slow.finish());
        assert_eq!(a.schema(), b.schema());
        assert_eq!(a.rows, b.rows);
        for (ca, cb) in a.columns.iter().zip(&b.columns) {
            let cells = |c: &Column| {
                c.data
                    .to_vec()
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
            };
            assert_eq!(cells(ca), cells(cb), "{}", ca.name);
        }
    }

    /// A table whose dictionary repeats a value (as a merged or cast dictionary may), in
    /// dictionary and in plain layout: every query gives the same rows both ways.
    #[test]
    fn dictionary_fast_paths_agree_with_the_plain_layout() {
        let n = (super::super::table::PARALLEL_ROWS + 1000) as u32;
        let keys: Vec<u32> = (0..n).map(|i| (i * 7 + i / 3) % 5).collect();
        let dict = vec![
            Value::Null,
            Value::str("a"),
            Value::str("B"),
            Value::str("a"),
            Value::str("c"),
        ];
        let hosts: Vec<u32> = (0..n).map(|i| (i % 3) + 1).collect();
        let hdict = vec![
            Value::Null,
            Value::str("h1"),
            Value::str("h2"),
            Value::str("h1"),
        ];
        let ids: Vec<Value> = (0..n).map(|i| Value::Long(i as i64 % 11)).collect();
        let table = |dicts: bool| {
            let col = |name: &str, k: &[u32], d: &[Value]| Column {
                name: name.into(),
                ty: Type::String,
                data: if dicts {
                    Data::dict(k.to_vec(), d.to_vec())
                } else {
                    Data::new(k.iter().map(|&k| d[k as usize].clone()).collect())
                },
            };
            Table::new(vec![
                col("A", &keys, &dict),
                col("H", &hosts, &hdict),
                Column::new("N", Type::Long, ids.clone()),
            ])
        };
        let queries = [
            "T | summarize c = count() by A | order by A asc",
            "T | summarize c = count(), s = sum(N) by A, H | order by A asc, H asc",
            "T | where A == 'a' | summarize count() by H, U = toupper(A)",
            "T | where A != 'B' and N > 3 | extend L = strlen(A) | summarize sum(L) by N | order by N asc",
            "T | summarize dcount(A), make_set(H) | extend x = 1",
            "T | take 5 | extend U = strcat(A, '-', H)",
        ];
        let run = |dicts: bool, threads: usize, q: &str| {
            let mut sb = Sandbox::default();
            sb.add_table("T", table(dicts));
            let opts = super::super::RunOptions {
                now: 0,
                window: None,
            };
            on_threads(threads, || super::super::run(q, &sb, opts))
                .map(|o| (o.table.schema(), o.table.json_rows()))
                .map_err(|e| e.message)
        };
        for q in queries {
            let plain = run(false, 1, q).unwrap();
            assert!(!plain.1.is_empty(), "{q}");
            assert_eq!(run(true, 1, q).unwrap(), plain, "{q}");
            assert_eq!(run(true, 2, q).unwrap(), plain, "{q}");
        }
        // One group for the two "a" entries.
        let (_, rows) = run(true, 2, queries[0]).unwrap();
        assert_eq!(rows.len(), 4, "{rows:?}");
    }

    /// A window's slice of a loaded table shares the table's dictionary: operators on it cost
    /// its rows, not the dictionary (a 30-day dry-run must not pay the table per run).
    #[test]
    fn a_small_slice_of_a_large_dictionary_is_evaluated_per_row() {
        let dict: Vec<Value> = (0..10_000).map(Value::Long).collect();
        let d = Data::dict((0..10_000).collect(), dict).take(&[5, 7]);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let count = || calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let m = d.mask(|v| {
            count();
            v.as_i64() == Some(7)
        });
        assert_eq!(
            (m, calls.load(std::sync::atomic::Ordering::Relaxed)),
            (vec![false, true], 2)
        );
        calls.store(0, std::sync::atomic::Ordering::Relaxed);
        let mapped = d.map(|v| {
            count();
            v.clone()
        });
        assert_eq!(
            (
                mapped.len(),
                calls.load(std::sync::atomic::Ordering::Relaxed)
            ),
            (2, 2)
        );
        assert_eq!(d.take_opt(&[Some(1), None], &Value::Null).dict_len(), 0);
    }
}
