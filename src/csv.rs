//! A small RFC 4180 CSV reader (watchlist files, sandbox tables): quoted fields, doubled
//! quotes, CRLF. One reader, a block at a time ([`read_records`]); [`parse`] collects it.

/// A CSV syntax problem with its 1-based line.
#[derive(Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// Parse CSV text into records. A trailing newline does not make an empty record.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let mut records = Vec::new();
    read_records(text.as_bytes(), |fields| {
        records.push(fields.iter().map(|f| f.to_string()).collect())
    })?;
    Ok(records)
}

/// Read CSV records from `r` as they come, each handed to `f` as its fields: the records and
/// errors [`parse`] gives for the same text, without holding the text or the records (a
/// sandbox table of millions of rows is read a block at a time). A field is borrowed from the
/// block unless it has doubled quotes.
pub fn read_records<R: std::io::Read>(r: R, f: impl FnMut(&[&str])) -> Result<(), CsvError> {
    read_records_in(r, 1 << 20, true, f)
}

/// [`read_records`] over a part of a text that starts at a record boundary after its start
/// (no byte-order mark is looked for; lines count from the part's start).
pub fn read_part<R: std::io::Read>(r: R, f: impl FnMut(&[&str])) -> Result<(), CsvError> {
    read_records_in(r, 1 << 20, false, f)
}

/// The first record and the bytes it takes (with a leading byte-order mark): a table's
/// header and where its rows start. None for an empty text.
pub fn header<R: std::io::Read>(r: R) -> Result<Option<(Vec<String>, u64)>, CsvError> {
    let mut r = r;
    let mut buf: Vec<u8> = Vec::new();
    let mut block = vec![0u8; 1 << 16];
    let (mut fields, mut scratch) = (Vec::new(), String::new());
    loop {
        let n = read_some(&mut r, &mut block, 1)?;
        buf.extend_from_slice(&block[..n]);
        let eof = n == 0;
        if buf.len() < 3 && !eof {
            continue;
        }
        let bom = if buf.starts_with("\u{feff}".as_bytes()) {
            3
        } else {
            0
        };
        if let Some((len, _)) = record(&buf[bom..], eof, 1, &mut fields, &mut scratch)? {
            let names = texts(&buf[bom..bom + len], &fields, &scratch, 1)?;
            let names = names.into_iter().map(str::to_string).collect();
            return Ok(Some((names, (bom + len) as u64)));
        }
        if eof {
            return Ok(None);
        }
    }
}

/// Where records start: for each target offset (ascending, at or after `from`, which is a
/// record boundary of the text `r` reads from its start), the first record boundary at or
/// after it, or the text's length. Quotes are counted from `from` on, so a line end inside a
/// quoted field is never taken for one (exact for any text `parse` accepts).
pub fn record_starts<R: std::io::Read + std::io::Seek>(
    mut r: R,
    from: u64,
    targets: &[u64],
) -> Result<Vec<u64>, CsvError> {
    r.seek(std::io::SeekFrom::Start(from))
        .map_err(|e| CsvError {
            line: 0,
            message: e.to_string(),
        })?;
    let mut out = Vec::with_capacity(targets.len());
    let mut block = vec![0u8; 1 << 20];
    let (mut base, mut quoted) = (from, false);
    let mut next = targets.iter().peekable();
    'read: loop {
        let n = read_some(&mut r, &mut block, 0)?;
        if n == 0 {
            break;
        }
        let s = &block[..n];
        let mut i = 0;
        while let Some(k) = memchr::memchr2(b'"', b'\n', &s[i..]).map(|k| i + k) {
            if s[k] == b'"' {
                quoted = !quoted;
            } else if !quoted {
                // A record starts after this line end.
                let start = base + k as u64 + 1;
                while next.peek().is_some_and(|t| **t <= start) {
                    next.next();
                    out.push(start);
                }
                if next.peek().is_none() {
                    break 'read;
                }
            }
            i = k + 1;
        }
        base += n as u64;
    }
    out.resize(targets.len(), base);
    Ok(out)
}

/// Read into `buf`, retrying interrupted reads; errors name `line`.
fn read_some<R: std::io::Read>(r: &mut R, buf: &mut [u8], line: usize) -> Result<usize, CsvError> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(CsvError {
                    line,
                    message: e.to_string(),
                })
            }
        }
    }
}

/// [`read_records`] with the first block's size (tests use tiny blocks to cut records).
fn read_records_in<R: std::io::Read>(
    mut r: R,
    block: usize,
    bom: bool,
    mut f: impl FnMut(&[&str]),
) -> Result<(), CsvError> {
    let mut buf = vec![0u8; block.max(4)];
    let (mut filled, mut at, mut eof) = (0usize, 0usize, false);
    let mut line = 1usize;
    let mut first = bom;
    let mut fields: Vec<Field> = Vec::new();
    let mut scratch = String::new();
    loop {
        if first && (filled - at >= 3 || eof) {
            first = false;
            if buf[at..filled].starts_with("\u{feff}".as_bytes()) {
                at += 3;
            }
        }
        let got = if first {
            None
        } else {
            record(&buf[at..filled], eof, line, &mut fields, &mut scratch)?
        };
        match got {
            Some((len, lines)) => {
                f(&texts(&buf[at..at + len], &fields, &scratch, line)?);
                at += len;
                line += lines;
            }
            None if eof => return Ok(()),
            None => {
                buf.copy_within(at..filled, 0);
                filled -= at;
                at = 0;
                if filled == buf.len() {
                    buf.resize(buf.len() * 2, 0);
                }
                let n = read_some(&mut r, &mut buf[filled..], line)?;
                filled += n;
                eof = n == 0;
            }
        }
    }
}

/// The fields [`record`] found in the record `s`, as text.
fn texts<'s>(
    s: &'s [u8],
    fields: &[Field],
    scratch: &'s str,
    line: usize,
) -> Result<Vec<&'s str>, CsvError> {
    // The record is checked once: fields start and end at ASCII delimiters, so their slices
    // of a valid record are valid (a decoded field's bytes were checked as it was decoded).
    let rec = std::str::from_utf8(s).map_err(|_| CsvError {
        line,
        message: "a field is not valid UTF-8".into(),
    })?;
    Ok(fields
        .iter()
        .map(|fl| match *fl {
            Field::Raw(a, b) => &rec[a..b],
            Field::Decoded(a, b) => &scratch[a..b],
        })
        .collect())
}

/// Where a field's text is: bytes of the record, or decoded (doubled quotes) into scratch.
#[derive(Clone, Copy)]
enum Field {
    Raw(usize, usize),
    Decoded(usize, usize),
}

/// The record at the start of `s`: its length and the lines it spans, its fields in `fields`;
/// None when `s` is empty or (before `eof`) may end before the record does.
fn record(
    s: &[u8],
    eof: bool,
    line: usize,
    fields: &mut Vec<Field>,
    scratch: &mut String,
) -> Result<Option<(usize, usize)>, CsvError> {
    fields.clear();
    scratch.clear();
    if s.is_empty() {
        return Ok(None);
    }
    let newlines = |a: usize, b: usize| memchr::memchr_iter(b'\n', &s[a..b]).count();
    let err = |at: usize, message: &str| CsvError {
        line: line + newlines(0, at),
        message: message.into(),
    };
    let mut i = 0;
    loop {
        if s.get(i) == Some(&b'"') {
            // A quoted field: to its closing quote, doubled quotes decoded.
            let mut seg = i + 1;
            let mut j = i + 1;
            let mut decoded = false;
            let from = scratch.len();
            let close = loop {
                let Some(q) = memchr::memchr(b'"', &s[j..]).map(|q| j + q) else {
                    if !eof {
                        return Ok(None);
                    }
                    return Err(err(s.len(), "a quoted field is not closed"));
                };
                match s.get(q + 1) {
                    Some(b'"') => {
                        let part = std::str::from_utf8(&s[seg..=q])
                            .map_err(|_| err(q, "a field is not valid UTF-8"))?;
                        scratch.push_str(part);
                        decoded = true;
                        j = q + 2;
                        seg = j;
                    }
                    None if !eof => return Ok(None),
                    _ => break q,
                }
            };
            if decoded {
                let part = std::str::from_utf8(&s[seg..close])
                    .map_err(|_| err(close, "a field is not valid UTF-8"))?;
                scratch.push_str(part);
                fields.push(Field::Decoded(from, scratch.len()));
            } else {
                fields.push(Field::Raw(i + 1, close));
            }
            i = close + 1;
            match s.get(i) {
                Some(b',') => i += 1,
                Some(b'\n') => return Ok(Some((i + 1, newlines(0, i + 1)))),
                Some(b'\r') if s.get(i + 1) == Some(&b'\n') => {
                    return Ok(Some((i + 2, newlines(0, i + 2))))
                }
                Some(b'\r') if i + 1 == s.len() && !eof => return Ok(None),
                Some(b'"') => return Err(err(i, "a quote inside an unquoted field")),
                Some(_) => return Err(err(i, "text after a closing quote")),
                None if !eof => return Ok(None),
                None => return Ok(Some((i, newlines(0, i)))),
            }
            continue;
        }
        // An unquoted field: to the next comma or line end.
        match memchr::memchr3(b',', b'\n', b'"', &s[i..]).map(|k| i + k) {
            Some(k) if s[k] == b'"' => return Err(err(k, "a quote inside an unquoted field")),
            Some(k) if s[k] == b',' => {
                fields.push(Field::Raw(i, k));
                i = k + 1;
            }
            Some(k) => {
                let end = if k > i && s[k - 1] == b'\r' { k - 1 } else { k };
                fields.push(Field::Raw(i, end));
                return Ok(Some((k + 1, newlines(0, k + 1))));
            }
            None if !eof => return Ok(None),
            None => {
                fields.push(Field::Raw(i, s.len()));
                return Ok(Some((s.len(), newlines(0, s.len()))));
            }
        }
    }
}

/// Write records as CSV, quoting only where needed. Lines end with `\n`.
pub fn write(records: &[Vec<String>]) -> String {
    let mut out = String::new();
    for r in records {
        for (i, f) in r.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if f.contains([',', '"', '\n', '\r']) || f.starts_with(' ') || f.ends_with(' ') {
                out.push('"');
                out.push_str(&f.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(f);
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reader as first written, a character at a time: the reference the block reader is
    /// held to.
    fn reference(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut line = 1usize;
        let mut in_quotes = false;
        let mut quoted_field = false;
        let mut record_started = false;
        while let Some(c) = chars.next() {
            record_started = true;
            if in_quotes {
                match c {
                    '"' => {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            field.push('"');
                        } else {
                            in_quotes = false;
                        }
                    }
                    '\n' => {
                        line += 1;
                        field.push('\n');
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if field.is_empty() && !quoted_field => {
                    in_quotes = true;
                    quoted_field = true;
                }
                '"' => {
                    return Err(CsvError {
                        line,
                        message: "a quote inside an unquoted field".into(),
                    })
                }
                ',' => {
                    record.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    quoted_field = false;
                    record_started = false;
                    line += 1;
                }
                _ => {
                    if quoted_field {
                        return Err(CsvError {
                            line,
                            message: "text after a closing quote".into(),
                        });
                    }
                    field.push(c)
                }
            }
        }
        if in_quotes {
            return Err(CsvError {
                line,
                message: "a quoted field is not closed".into(),
            });
        }
        if record_started {
            record.push(field);
            records.push(record);
        }
        Ok(records)
    }

    #[test]
    fn round_trip_with_quotes_and_newlines() {
        let t = "a,b,c\r\n1,\"x, y\",\"he said \"\"hi\"\"\"\n2,\"multi\nline\",\n";
        let r = parse(t).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], vec!["1", "x, y", "he said \"hi\""]);
        assert_eq!(r[2], vec!["2", "multi\nline", ""]);
        assert_eq!(parse(&write(&r)).unwrap(), r);
    }

    /// The block reader against the character-at-a-time reference on generated texts (quotes,
    /// doubled quotes, CRLF, lone CR, blank lines, a BOM, unclosed quotes, text after a closing
    /// quote), read through blocks from 4 bytes up so records and quotes are cut everywhere:
    /// the same records, or the same error at the same line.
    #[test]
    fn block_records_are_the_ones_the_reference_gives() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        const PARTS: &[&str] = &[
            "a",
            "bc",
            "é€",
            ",",
            ",",
            "\n",
            "\r\n",
            "\r",
            "\"",
            "\"x\"",
            "\"\"",
            "\"q\"\"d\"",
            "\"multi\nline\"",
            "\"a,b\"",
            " ",
            "\"x\"y",
            "\"\"\"\"",
        ];
        let (mut agreed_ok, mut agreed_err) = (0, 0);
        for case in 0..3000 {
            let mut text = String::new();
            if case % 50 == 0 {
                text.push('\u{feff}');
            }
            for _ in 0..next(14) {
                text.push_str(PARTS[next(PARTS.len())]);
            }
            let want = reference(&text);
            for block in [4, 5, 7, 16, 1 << 20] {
                let mut got = Vec::new();
                let r = read_records_in(text.as_bytes(), block, true, |fs: &[&str]| {
                    got.push(fs.iter().map(|f| f.to_string()).collect::<Vec<_>>())
                });
                match (&want, r) {
                    (Ok(w), Ok(())) => assert_eq!(&got, w, "{text:?} in blocks of {block}"),
                    (Err(w), Err(e)) => assert_eq!(&e, w, "{text:?} in blocks of {block}"),
                    (w, r) => panic!("{text:?} in blocks of {block}: parse {w:?}, streaming {r:?}"),
                }
            }
            match want {
                Ok(_) => agreed_ok += 1,
                Err(_) => agreed_err += 1,
            }
        }
        assert!(
            agreed_ok > 300 && agreed_err > 300,
            "{agreed_ok} {agreed_err}"
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("a\n\"open").unwrap_err().line, 2);
        assert!(parse("a\"b\n").is_err());
    }
}
