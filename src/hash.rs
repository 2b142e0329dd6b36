//! The review hash of a query: the one definition, used by `vigil hash`, validation and the gate.
//!
//! SHA-256 over the UTF-8 bytes of the query string as parsed from YAML, with CRLF (and lone CR)
//! normalised to LF and trailing newlines removed, written as 64 lower-case hex digits.
//! Equivalent Python: `hashlib.sha256(q.replace("\r\n","\n").replace("\r","\n").rstrip("\n").encode()).hexdigest()`.

use sha2::{Digest, Sha256};

/// The normalised text that is hashed.
pub fn normalize(query: &str) -> String {
    let mut s = query.replace("\r\n", "\n").replace('\r', "\n");
    while s.ends_with('\n') {
        s.pop();
    }
    s
}

/// `vigil hash`: SHA-256 of the normalised query, lower-case hex.
pub fn query_sha256(query: &str) -> String {
    hex(&Sha256::digest(normalize(query).as_bytes()))
}

/// SHA-256 of arbitrary bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of a digest.
pub fn hex_of(bytes: &[u8]) -> String {
    hex(bytes)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Whether a string is 64 lower- or upper-case hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_makes_line_endings_irrelevant() {
        let a = query_sha256("T\n| take 1\n\n");
        assert_eq!(a, query_sha256("T\r\n| take 1\r\n"));
        assert_eq!(a, query_sha256("T\n| take 1"));
        assert_ne!(a, query_sha256("T\n| take 1 "));
        // Known vector: sha256("abc").
        assert_eq!(
            query_sha256("abc\n"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
