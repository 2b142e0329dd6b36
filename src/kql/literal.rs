//! Decoding KQL literal tokens into their values.

/// The value of a string token (`'..'`, `".."`, `@'..'`, `h'..'`, ```` ```..``` ````), or
/// `None` if the token is not a complete string literal.
pub fn decode_string(token: &str) -> Option<String> {
    let t = token.strip_prefix(['h', 'H']).unwrap_or(token);
    if let Some(inner) = t.strip_prefix("```").and_then(|s| s.strip_suffix("```")) {
        return Some(inner.to_string());
    }
    if let Some(inner) = t.strip_prefix("~~~").and_then(|s| s.strip_suffix("~~~")) {
        return Some(inner.to_string());
    }
    let (verbatim, t) = match t.strip_prefix('@') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let q = t.chars().next()?;
    if !(q == '\'' || q == '"') || t.len() < 2 || !t.ends_with(q) {
        return None;
    }
    let inner = &t[1..t.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if verbatim {
            if c == q && chars.peek() == Some(&q) {
                chars.next();
            }
            out.push(c);
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'u' => {
                let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode_string;

    #[test]
    fn decodes_every_form() {
        assert_eq!(decode_string(r"'a\'b'").as_deref(), Some("a'b"));
        assert_eq!(decode_string(r#""a\\d""#).as_deref(), Some("a\\d"));
        assert_eq!(decode_string(r"@'a\d''x'").as_deref(), Some("a\\d'x"));
        assert_eq!(decode_string("h'secret'").as_deref(), Some("secret"));
        assert_eq!(decode_string("```x\ny```").as_deref(), Some("x\ny"));
        assert_eq!(decode_string("'unclosed"), None);
    }
}
