//! Byte and text encodings the string functions share: base64, URL percent-decoding, and
//! gzip/zlib decompression (`gzip_decompress_from_base64_string`, ...).

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (*x as u32) << (16 - 8 * i));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.trim().bytes() {
        if c == b'=' {
            break;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The most a decompression may produce (1 MiB, as for `parse_xml`): past it, as for any input
/// that does not decompress, the result is the empty string the pages give, so a compression
/// bomb in a log field costs at most this.
pub const MAX_INFLATED: usize = 1 << 20;

/// Which wrapper a compressed payload has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrapper {
    /// RFC 1952 (`H4sI...` in base64).
    Gzip,
    /// RFC 1950 (`eJ...` in base64).
    Zlib,
}

/// `gzip_decompress_from_base64_string` / `zlib_decompress_from_base64_string`: base64, then
/// decompression, then UTF-8; any failure (bad base64, a bad stream, output over
/// [`MAX_INFLATED`], bytes that are not UTF-8) is the empty string, as their pages say.
pub fn decompress_base64(s: &str, wrapper: Wrapper) -> String {
    let inflate = |b: &[u8]| -> Option<Vec<u8>> {
        match wrapper {
            Wrapper::Zlib => {
                miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(b, MAX_INFLATED).ok()
            }
            Wrapper::Gzip => {
                let body = gzip_body(b)?;
                miniz_oxide::inflate::decompress_to_vec_with_limit(body, MAX_INFLATED).ok()
            }
        }
    };
    base64_decode(s)
        .and_then(|b| inflate(&b))
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// The deflate stream of a gzip member (RFC 1952): after the 10-byte header and the optional
/// extra field, file name, comment and header CRC its flags announce.
fn gzip_body(b: &[u8]) -> Option<&[u8]> {
    let (&[0x1f, 0x8b, 8, flags], rest) = (b.first_chunk::<4>()?, b.get(10..)?) else {
        return None;
    };
    let mut rest = rest;
    if flags & 4 != 0 {
        let len = u16::from_le_bytes([*rest.first()?, *rest.get(1)?]) as usize;
        rest = rest.get(2 + len..)?;
    }
    for flag in [8, 16] {
        if flags & flag != 0 {
            let end = rest.iter().position(|c| *c == 0)?;
            rest = &rest[end + 1..];
        }
    }
    if flags & 2 != 0 {
        rest = rest.get(2..)?;
    }
    Some(rest)
}

/// A GUID's 16 bytes in .NET's layout (`Guid.ToByteArray`: the first three groups
/// little-endian), as `base64_encode_fromguid` encodes them.
pub fn guid_bytes(guid: &str) -> Option<[u8; 16]> {
    let hex: String = guid.trim().trim_matches(['{', '}']).replace('-', "");
    if hex.len() != 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut b = [0u8; 16];
    for (i, x) in b.iter_mut().enumerate() {
        *x = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Some(b)
}

/// The inverse of [`guid_bytes`]: the GUID's text, lower-case.
pub fn guid_text(b: &[u8]) -> Option<String> {
    let b: [u8; 16] = b.try_into().ok()?;
    let h = |r: &[u8]| r.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let rev = |r: &[u8]| h(&r.iter().rev().copied().collect::<Vec<u8>>());
    Some(format!(
        "{}-{}-{}-{}-{}",
        rev(&b[0..4]),
        rev(&b[4..6]),
        rev(&b[6..8]),
        h(&b[8..10]),
        h(&b[10..16])
    ))
}

pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_use_the_dotnet_byte_order() {
        let g = "ae3133f2-6e22-49ae-b06a-16e6a9b212eb";
        let b = guid_bytes(g).unwrap();
        assert_eq!(base64_encode(&b), "8jMxriJurkmwahbmqbIS6w==");
        assert_eq!(guid_text(&b).unwrap(), g);
        assert_eq!(guid_bytes("not a guid"), None);
        assert_eq!(guid_text(&[1, 2, 3]), None);
    }

    #[test]
    fn the_documented_payloads_decompress_and_hostile_ones_are_empty() {
        // The two pages' examples.
        assert_eq!(
            decompress_base64("eJwLSS0uUSguKcrMS1cwNDIGACxqBQ4=", Wrapper::Zlib),
            "Test string 123"
        );
        assert_eq!(
            decompress_base64(
                "H4sIAAAAAAAA/wEUAOv/MTIzNDU2Nzg5MHF3ZXJ0eXVpb3A6m7f2FAAAAA==",
                Wrapper::Gzip
            ),
            "1234567890qwertyuiop"
        );
        assert_eq!(decompress_base64("x0x0x0", Wrapper::Gzip), "");
        assert_eq!(decompress_base64("x0x0x0", Wrapper::Zlib), "");
        // The wrong wrapper, a truncated stream, an empty string.
        assert_eq!(
            decompress_base64("eJwLSS0uUSguKcrMS1cwNDIGACxqBQ4=", Wrapper::Gzip),
            ""
        );
        assert_eq!(decompress_base64("eJwLSS0uUSguKc", Wrapper::Zlib), "");
        assert_eq!(decompress_base64("", Wrapper::Gzip), "");
        // A gzip header with every optional field (extra, name, comment, header CRC).
        let deflated = miniz_oxide::deflate::compress_to_vec(b"named payload", 6);
        let mut member = vec![0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 255];
        member.extend([3, 0, b'a', b'b', b'c']);
        member.extend(b"file.txt\0");
        member.extend(b"a comment\0");
        member.extend([0, 0]);
        member.extend(&deflated);
        member.extend([0; 8]);
        assert_eq!(
            decompress_base64(&base64_encode(&member), Wrapper::Gzip),
            "named payload"
        );
        // A bomb: 64 MiB of zeros deflates to about 64 KiB; it stops at MAX_INFLATED and is
        // empty, without allocating the 64 MiB.
        let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![b'0'; 64 << 20], 10);
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let start = std::time::Instant::now();
        assert_eq!(decompress_base64(&base64_encode(&bomb), Wrapper::Zlib), "");
        assert!(start.elapsed().as_secs() < 5);
        // Bytes that are not UTF-8 give the empty string too.
        let latin1 = miniz_oxide::deflate::compress_to_vec_zlib(&[0xe9, 0xff], 6);
        assert_eq!(
            decompress_base64(&base64_encode(&latin1), Wrapper::Zlib),
            ""
        );
    }
}
