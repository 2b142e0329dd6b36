//! IP address functions: IPv4 parsing, comparison, ranges and masks, addresses in text.

use super::args::*;
use super::*;

pub(super) fn lookup(name: &str) -> Option<F> {
    let f: F = match name {
        // IP
        "parse_ipv6" => |a| Ok(ipv6_text(parse_ipv6_prefix(&s(a, 0)), 128)),
        "parse_ipv6_mask" => |a| {
            let bits = long(a, 1).unwrap_or(-1);
            if !(0..=128).contains(&bits) {
                return Ok(Value::Null);
            }
            Ok(ipv6_text(parse_ipv6_prefix(&s(a, 0)), bits as u32))
        },
        "ipv6_compare" => |a| {
            Ok(match ipv6_pair(a) {
                Some((x, y)) => Value::Long(x.cmp(&y) as i64),
                None => Value::Null,
            })
        },
        "ipv6_is_match" => |a| {
            Ok(ipv6_pair(a)
                .map(|(x, y)| Value::Bool(x == y))
                .unwrap_or(Value::Null))
        },
        "ipv6_is_in_range" => |a| {
            Ok(
                match (parse_ipv6_prefix(&s(a, 0)), parse_ipv6_prefix(&s(a, 1))) {
                    (Some(ip), Some(range)) => Value::Bool(ipv6_in(ip, range)),
                    _ => Value::Null,
                },
            )
        },
        "ipv6_is_in_any_range" => |a| {
            let Some(ip) = parse_ipv6_prefix(&s(a, 0)) else {
                return Ok(Value::Null);
            };
            Ok(Value::Bool(
                range_args(a)
                    .iter()
                    .filter_map(|r| parse_ipv6_prefix(r))
                    .any(|r| ipv6_in(ip, r)),
            ))
        },
        "ipv4_is_in_range" => |a| {
            Ok(ipv4_in_range(&s(a, 0), &s(a, 1))
                .map(Value::Bool)
                .unwrap_or(Value::Null))
        },
        "ipv4_is_in_any_range" => |a| {
            let ip = s(a, 0);
            if parse_ipv4_prefix(&ip).is_none() {
                return Ok(Value::Null);
            }
            Ok(Value::Bool(
                range_args(a)
                    .iter()
                    .any(|r| ipv4_in_range(&ip, r) == Some(true)),
            ))
        },
        "ipv4_is_private" => |a| {
            Ok(ipv4_private(&s(a, 0))
                .map(Value::Bool)
                .unwrap_or(Value::Null))
        },
        "ipv4_is_match" => |a| {
            Ok(ipv4_pair(a)
                .map(|(x, y)| Value::Bool(x == y))
                .unwrap_or(Value::Null))
        },
        "ipv4_compare" => |a| {
            Ok(match ipv4_pair(a) {
                Some((x, y)) => Value::Long(x.cmp(&y) as i64),
                None => Value::Null,
            })
        },
        "parse_ipv4" => |a| {
            Ok(match parse_ipv4_prefix(&s(a, 0)) {
                Some((x, bits)) => Value::Long((x & mask(bits)) as i64),
                None => Value::Null,
            })
        },
        "parse_ipv4_mask" => |a| {
            Ok(match parse_ipv4_prefix(&s(a, 0)) {
                Some((x, _)) => {
                    Value::Long((x & mask(long(a, 1).unwrap_or(32).clamp(0, 32) as u32)) as i64)
                }
                None => Value::Null,
            })
        },
        "format_ipv4" => |a| {
            Ok(match ipv4_masked(a) {
                Some((x, _)) => Value::string(std::net::Ipv4Addr::from(x).to_string()),
                None => Value::empty_str(),
            })
        },
        "ipv4_range_to_cidr_list" => |a| {
            let (Some((lo, _)), Some((hi, _))) =
                (parse_ipv4_prefix(&s(a, 0)), parse_ipv4_prefix(&s(a, 1)))
            else {
                return Ok(Value::Null);
            };
            Ok(json(serde_json::Value::Array(
                cidr_blocks(lo, hi)
                    .into_iter()
                    .map(|(n, b)| format!("{}/{b}", std::net::Ipv4Addr::from(n)).into())
                    .collect(),
            )))
        },
        "has_ipv4" => |a| {
            let ip = s(a, 1);
            Ok(Value::Bool(
                valid_ipv4(&ip) && ipv4_in_text(&s(a, 0)).any(|x| x == ip),
            ))
        },
        "has_ipv4_prefix" => |a| {
            let p = s(a, 1);
            Ok(Value::Bool(
                valid_ipv4_prefix(&p) && ipv4_in_text(&s(a, 0)).any(|x| x.starts_with(&p)),
            ))
        },
        "has_any_ipv4" => |a| Ok(Value::Bool(has_any_ipv4(a, false))),
        "has_any_ipv4_prefix" => |a| Ok(Value::Bool(has_any_ipv4(a, true))),
        "new_guid" => |_| {
            Err(EngineError::unsupported(
                "new_guid() (results would not be reproducible)",
                None,
            ))
        },
        "ipv4_netmask_suffix" => |a| {
            Ok(parse_ipv4_prefix(&s(a, 0))
                .map(|(_, b)| Value::Long(b as i64))
                .unwrap_or(Value::Null))
        },
        "format_ipv4_mask" => |a| {
            Ok(match ipv4_masked(a) {
                Some((x, b)) => Value::string(format!("{}/{b}", std::net::Ipv4Addr::from(x))),
                None => Value::empty_str(),
            })
        },
        _ => return None,
    };
    Some(f)
}

/// `a.b.c.d` or `a.b.c.d/n`: the address and the prefix length.
pub(crate) fn parse_ipv4_prefix(s: &str) -> Option<(u32, u32)> {
    let (addr, bits) = match s.trim().split_once('/') {
        Some((a, b)) => (a, b.trim().parse::<u32>().ok()?),
        None => (s.trim(), 32),
    };
    if bits > 32 {
        return None;
    }
    let ip: std::net::Ipv4Addr = addr.trim().parse().ok()?;
    Some((u32::from(ip), bits))
}

/// An IPv6 address with its prefix length, `addr[/prefix]`, as Kusto's IPv6 functions read
/// it: an IPv4 address (and an IPv4 address written in an IPv6 one, `::192.168.1.1`) is the
/// IPv4-mapped address `::ffff:a.b.c.d`, and its prefix counts IPv4 bits (`/24` is 120 bits).
/// `None` for anything else.
pub(crate) fn parse_ipv6_prefix(s: &str) -> Option<(u128, u32)> {
    let s = s.trim();
    if let Some((v4, bits)) = parse_ipv4_prefix(s) {
        return Some(((0xffffu128 << 32) | v4 as u128, 96 + bits));
    }
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a.trim(), Some(b.trim().parse::<u32>().ok()?)),
        None => (s, None),
    };
    let mut x = u128::from(addr.parse::<std::net::Ipv6Addr>().ok()?);
    let dotted = addr.contains('.');
    if dotted && x >> 48 == 0 {
        x |= 0xffffu128 << 32;
    }
    let bits = match bits {
        Some(b) if dotted && b <= 32 => 96 + b,
        Some(b) if !dotted && b <= 128 => b,
        Some(_) => return None,
        None => 128,
    };
    Some((x, bits))
}

fn mask128(bits: u32) -> u128 {
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits.min(128))
    }
}

/// The canonical text of an address under the narrower of its own prefix and `bits`: eight
/// groups of four hex digits.
fn ipv6_text(ip: Option<(u128, u32)>, bits: u32) -> Value {
    let Some((x, own)) = ip else {
        return Value::Null;
    };
    let x = x & mask128(own.min(bits));
    let groups: Vec<String> = (0..8)
        .rev()
        .map(|i| format!("{:04x}", (x >> (16 * i)) & 0xffff))
        .collect();
    Value::string(groups.join(":"))
}

/// The two addresses of `ipv6_compare`/`ipv6_is_match(a, b [, prefix])`, masked with the
/// narrowest of their prefixes and the argument.
fn ipv6_pair(a: &[Value]) -> Option<(u128, u128)> {
    let (x, xb) = parse_ipv6_prefix(&s(a, 0))?;
    let (y, yb) = parse_ipv6_prefix(&s(a, 1))?;
    let bits = match arg(a, 2) {
        v if v.is_null() => 128,
        _ => long(a, 2).filter(|b| (0..=128).contains(b))? as u32,
    };
    let m = mask128(bits.min(xb).min(yb));
    Some((x & m, y & m))
}

/// The two addresses of `ipv4_compare`/`ipv4_is_match(a, b [, prefix])`, masked with the
/// narrowest of their prefixes and the argument (clamped to 0..=32).
fn ipv4_pair(a: &[Value]) -> Option<(u32, u32)> {
    let bits = long(a, 2).unwrap_or(32).clamp(0, 32) as u32;
    let (x, xb) = parse_ipv4_prefix(&s(a, 0))?;
    let (y, yb) = parse_ipv4_prefix(&s(a, 1))?;
    let m = mask(bits.min(xb).min(yb));
    Some((x & m, y & m))
}

/// The ranges of `ipv4_is_in_any_range`/`ipv6_is_in_any_range(ip, range...)`: every argument
/// after the first, an array standing for its elements.
fn range_args(a: &[Value]) -> Vec<String> {
    let mut ranges = Vec::new();
    for v in &a[1.min(a.len())..] {
        match as_array(v) {
            Some(arr) => ranges.extend(
                arr.iter()
                    .map(|x| Value::dynamic(x.clone()).to_kusto_string()),
            ),
            None => ranges.push(v.to_kusto_string()),
        }
    }
    ranges
}

/// Whether an address (with its own prefix) lies in a range.
fn ipv6_in(ip: (u128, u32), range: (u128, u32)) -> bool {
    let m = mask128(ip.1.min(range.1));
    ip.0 & m == range.0 & m
}

pub(super) fn mask(bits: u32) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    }
}

/// The address of `format_ipv4` / `format_ipv4_mask` (a number or `a.b.c.d[/n]`) under the
/// smaller of its own prefix and the mask argument (default 32): the masked address and the
/// prefix length. A mask outside 0..=32 gives none (the functions then return "").
pub(super) fn ipv4_masked(a: &[Value]) -> Option<(u32, u32)> {
    let bits = match arg(a, 1) {
        Value::Null if a.len() < 2 => 32,
        _ => u32::try_from(long(a, 1)?).ok().filter(|b| *b <= 32)?,
    };
    let (x, b) = match long(a, 0) {
        Some(x) if (0..=u32::MAX as i64).contains(&x) => (x as u32, 32),
        _ => parse_ipv4_prefix(&s(a, 0))?,
    };
    let b = b.min(bits);
    Some((x & mask(b), b))
}

/// The fewest CIDR blocks covering `lo..=hi` in order (empty when `lo > hi`).
pub(super) fn cidr_blocks(lo: u32, hi: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let (mut cur, hi) = (lo as u64, hi as u64);
    while cur <= hi {
        // The largest block aligned at `cur` that stays inside the range.
        let mut size = if cur == 0 {
            1u64 << 32
        } else {
            1u64 << cur.trailing_zeros().min(32)
        };
        while cur + size - 1 > hi {
            size >>= 1;
        }
        out.push((cur as u32, 32 - size.trailing_zeros()));
        cur += size;
    }
    out
}

/// The IPv4 addresses in text, delimited by non-alphanumeric characters: runs of letters,
/// digits and dots that are four octets of 0-255 (`1.2.3.4.5`, `x1.2.3.4` and `54127.0.0.1`
/// are not addresses).
pub(super) fn ipv4_in_text(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .filter(|run| valid_ipv4(run))
}

pub(super) fn valid_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u32>().is_ok_and(|n| n <= 255))
}

/// A complete address, or one to three octets ending with a dot (`192.`, `10.0.`).
pub(super) fn valid_ipv4_prefix(p: &str) -> bool {
    if valid_ipv4(p) {
        return true;
    }
    let Some(body) = p.strip_suffix('.') else {
        return false;
    };
    let parts: Vec<&str> = body.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|x| !x.is_empty() && x.len() <= 3 && x.parse::<u32>().is_ok_and(|n| n <= 255))
}

/// `has_any_ipv4(text, ip, ...)` / `has_any_ipv4_prefix(text, prefix, ...)`: each lookup a
/// string or a dynamic array of them.
pub(super) fn has_any_ipv4(a: &[Value], prefix: bool) -> bool {
    let text = s(a, 0);
    let mut lookups: Vec<String> = Vec::new();
    for v in a.iter().skip(1) {
        match as_array(v) {
            Some(items) if matches!(v.unwrap_dynamic(), Value::Dyn(_)) => lookups.extend(
                items
                    .iter()
                    .map(|x| Value::dynamic(x.clone()).to_kusto_string()),
            ),
            _ => lookups.push(v.to_kusto_string()),
        }
    }
    lookups.retain(|l| {
        if prefix {
            valid_ipv4_prefix(l)
        } else {
            valid_ipv4(l)
        }
    });
    let found = ipv4_in_text(&text).any(|ip| {
        lookups.iter().any(|l| {
            if prefix {
                ip.starts_with(l.as_str())
            } else {
                ip == l
            }
        })
    });
    found
}

pub(super) fn ipv4_in_range(ip: &str, range: &str) -> Option<bool> {
    let (a, abits) = parse_ipv4_prefix(ip)?;
    let (r, bits) = parse_ipv4_prefix(range)?;
    let m = mask(bits.min(abits));
    Some(a & m == r & m)
}

pub(super) fn ipv4_private(ip: &str) -> Option<bool> {
    let (a, _) = parse_ipv4_prefix(ip)?;
    Some(
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
            .iter()
            .any(|r| {
                let (n, b) = parse_ipv4_prefix(r).expect("valid range");
                a & mask(b) == n & mask(b)
            }),
    )
}
