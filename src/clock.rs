//! Wall-clock time and random identifiers for the deploy side (the emulator's read-only fields,
//! deployment record ids, client request ids). Nothing in validate or compile reads the clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds and nanoseconds since the Unix epoch.
fn now_parts() -> (u64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs(), d.subsec_nanos())
}

/// Civil date from days since 1970-01-01 (one definition, the engine's).
fn civil(days: i64) -> (i64, u32, u32) {
    crate::engine::value::civil_from_days(days)
}

/// RFC 3339 UTC timestamp with 7 fractional digits, as ARM writes them.
pub fn rfc3339(secs: u64, nanos: u32) -> String {
    let (y, mo, d) = civil((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:07}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        nanos / 100
    )
}

/// Now, as RFC 3339.
pub fn now_rfc3339() -> String {
    let (s, n) = now_parts();
    rfc3339(s, n)
}

/// Now, compact and sortable: `20261002T143000Z`.
pub fn now_compact() -> String {
    let (secs, _) = now_parts();
    let (y, mo, d) = civil((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// splitmix64: a small, good mixing function for seeded decisions.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random GUID (version 4 layout) from the clock, the process id and a counter. Not for
/// cryptography: identifiers only.
pub fn new_guid() -> String {
    let (s, n) = now_parts();
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = mix(s ^ ((n as u64) << 32) ^ c.rotate_left(17) ^ (std::process::id() as u64) << 48);
    let b = mix(a ^ c);
    guid_from(a, b)
}

/// A GUID derived from text (stable: the same text gives the same GUID).
pub fn guid_of(text: &str) -> String {
    let h = crate::hash::sha256_hex(text.as_bytes());
    let a = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
    let b = u64::from_str_radix(&h[16..32], 16).unwrap_or(0);
    guid_from(a, b)
}

fn guid_from(a: u64, b: u64) -> String {
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_and_guids() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(
            rfc3339(1_790_000_000, 5_000),
            "2026-09-21T14:13:20.0000050Z"
        );
        let g = new_guid();
        assert_eq!(g.len(), 36);
        assert_ne!(g, new_guid());
        assert_eq!(guid_of("x"), guid_of("x"));
        assert_eq!(&guid_of("x")[14..15], "4");
    }
}
