//! A small RFC 4180 CSV reader for watchlist files: quoted fields, doubled quotes, CRLF.

/// A CSV syntax problem with its 1-based line.
#[derive(Debug, PartialEq, Eq)]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// Parse CSV text into records. A trailing newline does not make an empty record.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
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

    #[test]
    fn round_trip_with_quotes_and_newlines() {
        let t = "a,b,c\r\n1,\"x, y\",\"he said \"\"hi\"\"\"\n2,\"multi\nline\",\n";
        let r = parse(t).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[1], vec!["1", "x, y", "he said \"hi\""]);
        assert_eq!(r[2], vec!["2", "multi\nline", ""]);
        assert_eq!(parse(&write(&r)).unwrap(), r);
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("a\n\"open").unwrap_err().line, 2);
        assert!(parse("a\"b\n").is_err());
    }
}
