//! Map positions inside a scalar's *value* back to bytes of the YAML source.
//!
//! Block scalars strip indentation and folded scalars join lines, so one constant shift is
//! wrong. [`value_offsets`] re-reads the scalar's source the way YAML does, recording where each
//! value byte came from, and then checks that it rebuilt exactly the parsed value: when it did
//! not (an exotic form), it returns `None` and callers point at the scalar as a whole rather
//! than at a wrong place.

use super::{Node, Style};

/// For each byte of the scalar's value, the byte offset in `source` it was read from; plus one
/// final entry for the end of the value. `None` if the mapping cannot be established.
pub fn value_offsets(source: &str, node: &Node) -> Option<Vec<u32>> {
    let scalar = node.as_scalar()?;
    let start = node.span.start as usize;
    let end = (node.span.end as usize).min(source.len());
    if start > end {
        return None;
    }
    let (rebuilt, map) = match scalar.style {
        Style::Literal | Style::Folded => block(source, start, scalar.style == Style::Folded)?,
        Style::Plain => flow(source, start, end, Quote::None)?,
        Style::SingleQuoted => flow(source, start, end, Quote::Single)?,
        Style::DoubleQuoted => flow(source, start, end, Quote::Double)?,
    };
    let value = scalar.text.as_bytes();
    if rebuilt.len() < value.len() || &rebuilt[..value.len()] != value {
        return None;
    }
    let mut out: Vec<u32> = map[..value.len()].to_vec();
    let end_of_value = map
        .get(value.len())
        .copied()
        .unwrap_or_else(|| out.last().map(|o| o + 1).unwrap_or(start as u32));
    out.push(end_of_value);
    Some(out)
}

fn indent_of(line: &str) -> usize {
    line.bytes().take_while(|b| *b == b' ').count()
}

/// Rebuild a block scalar whose content starts at `start` (the first content byte).
fn block(source: &str, start: usize, folded: bool) -> Option<(Vec<u8>, Vec<u32>)> {
    let line_start = source[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    if source[line_start..start].bytes().any(|b| b != b' ') {
        return None;
    }
    let blank = |l: &str| l.bytes().all(|b| b == b' ' || b == b'\r');
    // The indentation is the first content line's (the span may start on an empty line).
    let mut indent = start - line_start;
    let mut p = line_start;
    while p < source.len() {
        let e = source[p..]
            .find('\n')
            .map(|i| p + i)
            .unwrap_or(source.len());
        if !blank(&source[p..e]) {
            indent = source[p..e].bytes().take_while(|b| *b == b' ').count();
            break;
        }
        p = e + 1;
    }
    // Empty lines between the indicator (`|`, `>`) and the content are part of the value.
    let mut line_start = line_start;
    while line_start > 0 {
        let prev = source[..line_start - 1]
            .rfind('\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        if !blank(&source[prev..line_start - 1]) {
            break;
        }
        line_start = prev;
    }
    let mut out: Vec<u8> = Vec::new();
    let mut map: Vec<u32> = Vec::new();
    let mut pos = line_start;
    // Folding state: whether the previous line was a "normal" (non-empty, not more indented)
    // content line whose break may fold into a space.
    let mut prev_normal = false;
    let mut pending_breaks: Vec<u32> = Vec::new();
    let mut first = true;
    while pos <= source.len() {
        let line_end = source[pos..]
            .find('\n')
            .map(|i| pos + i)
            .unwrap_or(source.len());
        let mut line = &source[pos..line_end];
        if let Some(stripped) = line.strip_suffix('\r') {
            line = stripped;
        }
        let blank = line.trim_matches(' ').is_empty();
        if !blank && indent_of(line) < indent {
            break;
        }
        if blank {
            // An empty line: a line break in the value.
            pending_breaks.push(line_end as u32);
        } else {
            let content = &line[indent..];
            let more_indented = content.starts_with(' ') || content.starts_with('\t');
            if !first {
                if folded && prev_normal && !more_indented && pending_breaks.is_empty() {
                    // A single break between two normal lines folds to a space.
                    out.push(b' ');
                    map.push((pos - 1) as u32);
                } else if folded && prev_normal && !more_indented {
                    // The break before empty lines is dropped; each empty line is one `\n`.
                    for b in &pending_breaks {
                        out.push(b'\n');
                        map.push(*b);
                    }
                } else {
                    out.push(b'\n');
                    map.push((pos - 1) as u32);
                    for b in &pending_breaks {
                        out.push(b'\n');
                        map.push(*b);
                    }
                }
            } else {
                for b in &pending_breaks {
                    out.push(b'\n');
                    map.push(*b);
                }
            }
            pending_breaks.clear();
            let base = pos + indent;
            for (i, b) in content.bytes().enumerate() {
                out.push(b);
                map.push((base + i) as u32);
            }
            prev_normal = !more_indented;
            first = false;
        }
        if line_end >= source.len() {
            break;
        }
        pos = line_end + 1;
    }
    // The final line break (clip/keep chomping); the parsed value decides how many count.
    let last_end = map.last().map(|m| m + 1).unwrap_or(start as u32);
    out.push(b'\n');
    map.push(last_end);
    for b in pending_breaks {
        out.push(b'\n');
        map.push(b);
    }
    Some((out, map))
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single,
    Double,
}

/// Rebuild a flow scalar (plain or quoted), folding line breaks as YAML does.
fn flow(source: &str, start: usize, end: usize, quote: Quote) -> Option<(Vec<u8>, Vec<u32>)> {
    let bytes = source.as_bytes();
    let (mut i, stop) = match quote {
        Quote::None => (start, end),
        _ => (start + 1, end.saturating_sub(1)),
    };
    if quote != Quote::None
        && (bytes.get(start) != Some(&if quote == Quote::Single { b'\'' } else { b'"' }))
    {
        return None;
    }
    let mut out: Vec<u8> = Vec::new();
    let mut map: Vec<u32> = Vec::new();
    while i < stop {
        let b = bytes[i];
        match b {
            b'\r' | b'\n' => {
                // Fold: trailing spaces before the break were not part of the value.
                while out.last().is_some_and(|c| *c == b' ' || *c == b'\t') {
                    out.pop();
                    map.pop();
                }
                let brk = i;
                let mut empty_lines = 0;
                // Skip this break, then whitespace and further empty lines.
                loop {
                    if i < stop && bytes[i] == b'\r' {
                        i += 1;
                    }
                    if i < stop && bytes[i] == b'\n' {
                        i += 1;
                    }
                    while i < stop && (bytes[i] == b' ' || bytes[i] == b'\t') {
                        i += 1;
                    }
                    if i < stop && (bytes[i] == b'\n' || bytes[i] == b'\r') {
                        empty_lines += 1;
                        continue;
                    }
                    break;
                }
                if empty_lines == 0 {
                    out.push(b' ');
                    map.push(brk as u32);
                } else {
                    for _ in 0..empty_lines {
                        out.push(b'\n');
                        map.push(brk as u32);
                    }
                }
            }
            b'\'' if quote == Quote::Single && bytes.get(i + 1) == Some(&b'\'') => {
                out.push(b'\'');
                map.push(i as u32);
                i += 2;
            }
            b'\\' if quote == Quote::Double => {
                let esc = *bytes.get(i + 1)?;
                let (decoded, used): (Vec<u8>, usize) = match esc {
                    b'n' => (vec![b'\n'], 2),
                    b't' | b'\t' => (vec![b'\t'], 2),
                    b'r' => (vec![b'\r'], 2),
                    b'0' => (vec![0], 2),
                    b'a' => (vec![7], 2),
                    b'b' => (vec![8], 2),
                    b'e' => (vec![0x1b], 2),
                    b'f' => (vec![0x0c], 2),
                    b'v' => (vec![0x0b], 2),
                    b'"' | b'\\' | b'/' | b' ' => (vec![esc], 2),
                    b'x' | b'u' | b'U' => {
                        let n = match esc {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let hex = source.get(i + 2..i + 2 + n)?;
                        let cp = u32::from_str_radix(hex, 16).ok()?;
                        let c = char::from_u32(cp)?;
                        let mut buf = [0u8; 4];
                        (c.encode_utf8(&mut buf).as_bytes().to_vec(), 2 + n)
                    }
                    b'\n' | b'\r' => {
                        // An escaped line break: joins lines without a space.
                        let mut j = i + 1;
                        if bytes.get(j) == Some(&b'\r') {
                            j += 1;
                        }
                        if bytes.get(j) == Some(&b'\n') {
                            j += 1;
                        }
                        while j < stop && (bytes[j] == b' ' || bytes[j] == b'\t') {
                            j += 1;
                        }
                        i = j;
                        continue;
                    }
                    _ => return None,
                };
                for d in decoded {
                    out.push(d);
                    map.push(i as u32);
                }
                i += used;
            }
            _ => {
                out.push(b);
                map.push(i as u32);
                i += 1;
            }
        }
    }
    map.push(stop as u32);
    out.push(0);
    out.pop();
    Some((out, map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    /// Every value byte maps to a source byte holding the same character (for plain content).
    fn check(src: &str, key: &str) -> Vec<u32> {
        let root = crate::yaml::parse(FileId(0), src).root.unwrap();
        let node = root.get(key).unwrap();
        let map = value_offsets(src, node).unwrap_or_else(|| panic!("no map for {key} in {src:?}"));
        let value = &node.as_scalar().unwrap().text;
        assert_eq!(map.len(), value.len() + 1);
        for (i, b) in value.bytes().enumerate() {
            if b.is_ascii_alphanumeric() {
                assert_eq!(
                    src.as_bytes()[map[i] as usize],
                    b,
                    "{key} byte {i} of {value:?}"
                );
            }
        }
        map
    }

    #[test]
    fn literal_block_maps_line_by_line() {
        let src = "id: x\nquery: |\n  SigninLogs\n  | where A == 1\n\n    | take 5\n";
        let map = check(src, "query");
        let value = "SigninLogs\n| where A == 1\n\n  | take 5\n";
        let at = value.find("where").unwrap();
        assert_eq!(&src[map[at] as usize..map[at] as usize + 5], "where");
    }

    #[test]
    fn literal_block_with_crlf_and_strip() {
        check("query: |-\r\n  T\r\n  | take 1\r\nname: n\r\n", "query");
    }

    #[test]
    fn folded_block_joins_lines() {
        let src = "query: >\n  SigninLogs\n  | where A == 1\n\n  | take 5\nname: x\n";
        let map = check(src, "query");
        let root = crate::yaml::parse(FileId(0), src).root.unwrap();
        let value = root.get("query").unwrap().as_scalar().unwrap().text.clone();
        let at = value.find("take").unwrap();
        assert_eq!(&src[map[at] as usize..map[at] as usize + 4], "take");
    }

    #[test]
    fn quoted_and_plain_scalars() {
        check("query: \"T | where a == \\\"x\\\" | take 1\"\n", "query");
        check("query: 'T | where a == ''x'''\n", "query");
        check("query: T | where a == 1\n  | take 1\n", "query");
        check("query: \"T\n  | take 1\"\n", "query");
    }

    #[test]
    fn literal_block_with_leading_empty_lines() {
        let src = "query: |\n\n  \n  SigninLogs\n  | where A matches regex '['\nname: n\n";
        let map = check(src, "query");
        let at = "\n\nSigninLogs\n| where A matches regex '['"
            .find("'['")
            .unwrap();
        assert_eq!(&src[map[at] as usize..map[at] as usize + 3], "'['");
    }

    #[test]
    fn folded_block_with_leading_empty_line() {
        let src = "query: >-\n\n  SigninLogs\n  | take 5\nname: x\n";
        let map = check(src, "query");
        let root = crate::yaml::parse(FileId(0), src).root.unwrap();
        let value = root.get("query").unwrap().as_scalar().unwrap().text.clone();
        let at = value.find("take").unwrap();
        assert_eq!(&src[map[at] as usize..map[at] as usize + 4], "take");
    }
}
