//! Hash functions: `hash` and `hash_xxhash64` (XXH64, seed 0), `hash_md5`, `hash_sha1`,
//! `hash_sha256`. Each hashes the UTF-8 bytes of the value's text form, where a datetime is
//! written with all seven fraction digits (`2020-01-01T00:00:00.0000000Z`, as the hash pages'
//! examples show), not in `tostring`'s short form.

use sha2::Digest;

use super::error::R;
use super::value::Value;

type F = fn(&[Value]) -> R<Value>;

static NULL: Value = Value::Null;

fn arg(a: &[Value], i: usize) -> &Value {
    a.get(i).unwrap_or(&NULL)
}

/// The text a hash (and `reverse`) reads: `tostring`'s form, with a datetime's fraction in
/// full.
pub(crate) fn full_text(v: &Value) -> String {
    match v.unwrap_dynamic() {
        Value::DateTime(t) => crate::datetime::format_datetime_full(t),
        _ => v.to_kusto_string(),
    }
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge(acc: u64, v: u64) -> u64 {
    (acc ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], i: usize) -> u64 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes")) as u64
}

/// XXH64 of `b` with seed 0 (the xxHash specification).
pub(crate) fn xxh64(b: &[u8]) -> u64 {
    let n = b.len();
    let mut i = 0;
    let mut h = if n >= 32 {
        let mut v = [P1.wrapping_add(P2), P2, 0, 0u64.wrapping_sub(P1)];
        while i + 32 <= n {
            for (k, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, u64_at(b, i + 8 * k));
            }
            i += 32;
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = merge(h, lane);
        }
        h
    } else {
        P5
    };
    h = h.wrapping_add(n as u64);
    while i + 8 <= n {
        h = (h ^ round(0, u64_at(b, i)))
            .rotate_left(27)
            .wrapping_mul(P1)
            .wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= n {
        h = (h ^ u32_at(b, i).wrapping_mul(P1))
            .rotate_left(23)
            .wrapping_mul(P2)
            .wrapping_add(P3);
        i += 4;
    }
    while i < n {
        h = (h ^ (b[i] as u64).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

fn xxhash(a: &[Value]) -> Option<i64> {
    let v = arg(a, 0);
    if v.is_null() {
        return None;
    }
    Some(xxh64(full_text(v).as_bytes()) as i64)
}

/// `hash(x [, mod])`: XXH64 as a signed long, or its remainder modulo `mod` (the page's
/// example: 1846988464401551951 % 100 = 51). A modulo that is not positive gives null.
fn hash(a: &[Value]) -> R<Value> {
    let Some(h) = xxhash(a) else {
        return Ok(Value::Null);
    };
    if a.len() < 2 {
        return Ok(Value::Long(h));
    }
    Ok(match arg(a, 1).as_i64() {
        Some(m) if m > 0 => Value::Long(h.rem_euclid(m)),
        _ => Value::Null,
    })
}

fn digest<D: Digest>(a: &[Value]) -> R<Value> {
    let v = arg(a, 0);
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(Value::string(crate::hash::hex_of(&D::digest(
        full_text(v).as_bytes(),
    ))))
}

pub(crate) fn lookup(name: &str) -> Option<F> {
    Some(match name {
        "hash" => hash,
        "hash_xxhash64" => |a| Ok(xxhash(a).map(Value::Long).unwrap_or(Value::Null)),
        "hash_md5" => digest::<md5::Md5>,
        "hash_sha1" => digest::<sha1::Sha1>,
        "hash_sha256" => digest::<sha2::Sha256>,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh64_matches_the_specification_vectors() {
        // xxHash's published seed-0 values.
        assert_eq!(xxh64(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a"), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxh64(b"abc"), 0x44BC_2CF5_AD77_0999);
        // Over 32 bytes takes the four-lane path.
        assert_eq!(
            xxh64(b"Nobody inspects the spammish repetition"),
            0xFBCE_A83C_8A37_8BF1
        );
    }
}
