//! Kusto datetimes and timespans as 100-nanosecond ticks since 1970-01-01: the civil-date
//! algorithm, parsing and formatting. A leaf module: the engine, the configuration and the
//! deploy side all read and write times through it.

use std::fmt::Write as _;

/// Ticks (100 ns) per unit.
pub const TICK: i64 = 1;
pub const MICROSECOND: i64 = 10;
pub const MILLISECOND: i64 = 10_000;
pub const SECOND: i64 = 10_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

// ---- calendar ----

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parts of a datetime: (year, month, day, hour, minute, second, ticks within the second).
pub fn datetime_parts(t: i64) -> (i64, u32, u32, u32, u32, u32, i64) {
    let days = t.div_euclid(DAY);
    let rem = t.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let h = (rem / HOUR) as u32;
    let mi = ((rem % HOUR) / MINUTE) as u32;
    let s = ((rem % MINUTE) / SECOND) as u32;
    (y, m, d, h, mi, s, rem % SECOND)
}

pub fn make_datetime(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, frac: i64) -> i64 {
    days_from_civil(y, mo, d) * DAY
        + h as i64 * HOUR
        + mi as i64 * MINUTE
        + s as i64 * SECOND
        + frac
}

/// ISO 8601 as Kusto prints it: `2026-11-20T19:00:00Z`, fractions to 7 digits when present.
pub fn format_datetime(t: i64) -> String {
    let (y, m, d, h, mi, s, frac) = datetime_parts(t);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if frac != 0 {
        let f = format!("{frac:07}");
        let _ = write!(out, ".{}", f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// ISO 8601 with all seven fraction digits, `2020-01-01T00:00:00.0000000Z` (.NET's round-trip
/// form), which the hash functions and `reverse` read.
pub fn format_datetime_full(t: i64) -> String {
    let (y, m, d, h, mi, s, frac) = datetime_parts(t);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:07}Z")
}

/// `[-][d.]hh:mm:ss[.fffffff]`, as Kusto prints timespans.
pub fn format_timespan(t: i64) -> String {
    let neg = t < 0;
    let a = t.unsigned_abs() as i64;
    let days = a / DAY;
    let h = (a % DAY) / HOUR;
    let m = (a % HOUR) / MINUTE;
    let s = (a % MINUTE) / SECOND;
    let frac = a % SECOND;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        let _ = write!(out, "{days}.");
    }
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if frac != 0 {
        let _ = write!(out, ".{frac:07}");
    }
    out
}

/// Parse the datetime forms Kusto accepts: ISO 8601 with `T` or a space, optional seconds,
/// fractions and `Z`/offset, date only; RFC 822/1123 (`Sat, 8 Nov 2014 15:05:02 GMT`).
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_iso(s) {
        return Some(t);
    }
    if let Some(t) = parse_us(s) {
        return Some(t);
    }
    parse_rfc(s)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 8 || !b[0].is_ascii_digit() {
        return None;
    }
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let mut dp = date.split(['-', '/']);
    let y: i64 = num(dp.next()?)? as i64;
    let mo = num(dp.next()?)?;
    let d = num(dp.next()?)?;
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut h, mut mi, mut sec, mut frac, mut offset) = (0u32, 0u32, 0u32, 0i64, 0i64);
    if !rest.is_empty() {
        let (time, tz) = split_tz(rest)?;
        offset = tz;
        let mut tp = time.split(':');
        h = num(tp.next()?)?;
        mi = tp.next().map(num).unwrap_or(Some(0))?;
        if let Some(sp) = tp.next() {
            let (whole, f) = match sp.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (sp, None),
            };
            sec = num(whole)?;
            if let Some(f) = f {
                if f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                let mut digits: String = f.chars().take(7).collect();
                while digits.len() < 7 {
                    digits.push('0');
                }
                frac = digits.parse().ok()?;
            }
        }
        if tp.next().is_some() || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
    }
    Some(make_datetime(y, mo, d, h, mi, sec, frac) - offset)
}

/// `MM/DD/YYYY[ HH:MM[:SS]]` or `MM-DD-YYYY...`, which Kusto also accepts.
fn parse_us(s: &str) -> Option<i64> {
    let (date, time) = match s.split_once(' ') {
        Some((d, t)) => (d, t.trim()),
        None => (s, ""),
    };
    let sep = if date.contains('/') { '/' } else { '-' };
    let mut p = date.split(sep);
    let mo = num(p.next()?)?;
    let d = num(p.next()?)?;
    let y = num(p.next()?)? as i64;
    if p.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || y < 1000 {
        return None;
    }
    let iso = format!(
        "{y:04}-{mo:02}-{d:02}{}",
        if time.is_empty() {
            String::new()
        } else {
            format!("T{time}")
        }
    );
    parse_iso(&iso)
}

fn split_tz(t: &str) -> Option<(&str, i64)> {
    let t = t.trim();
    if let Some(x) = t.strip_suffix(['Z', 'z']) {
        return Some((x.trim(), 0));
    }
    if let Some(i) = t.rfind(['+', '-']) {
        if i > 0 {
            let (time, off) = (&t[..i], &t[i..]);
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let body = &off[1..];
            let (hh, mm) = match body.split_once(':') {
                Some((h, m)) => (num(h)?, num(m)?),
                None if body.len() == 4 => (num(&body[..2])?, num(&body[2..])?),
                None => (num(body)?, 0),
            };
            return Some((time.trim(), sign * (hh as i64 * HOUR + mm as i64 * MINUTE)));
        }
    }
    Some((t, 0))
}

fn parse_rfc(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let s = s.split_once(',').map(|(_, r)| r).unwrap_or(s).trim();
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() < 3 {
        return None;
    }
    let d = num(parts[0])?;
    let mo = MONTHS
        .iter()
        .position(|m| parts[1].to_ascii_lowercase().starts_with(m))? as u32
        + 1;
    let y = num(parts[2])? as i64;
    let (mut h, mut mi, mut sec) = (0, 0, 0);
    if let Some(time) = parts.get(3) {
        let mut tp = time.split(':');
        h = num(tp.next()?)?;
        mi = num(tp.next()?)?;
        sec = tp.next().map(num).unwrap_or(Some(0))?;
    }
    Some(make_datetime(y, mo, d, h, mi, sec, 0))
}

/// A timespan literal token or `timespan(...)` body: `5m`, `1.5h`, `100ms`, `2d`,
/// `10microseconds`, `3ticks`, `1.02:03:04.5`, `00:05:00`.
pub fn parse_timespan_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.contains(':') {
        return parse_clock_span(s);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    // `timespan(15 seconds)`: the unit may follow a space.
    let mult = match unit.trim_start().to_ascii_lowercase().as_str() {
        "d" | "day" | "days" | "" => DAY,
        "h" | "hr" | "hrs" | "hour" | "hours" => HOUR,
        "m" | "min" | "minute" | "minutes" => MINUTE,
        "s" | "sec" | "second" | "seconds" => SECOND,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => MILLISECOND,
        "microsecond" | "microseconds" => MICROSECOND,
        "tick" | "ticks" => TICK,
        _ => return None,
    };
    Some((n * mult as f64).round() as i64)
}

fn parse_clock_span(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let (days, hours) = match parts[0].split_once('.') {
        Some((d, h)) => (num(d)? as i64, num(h)? as i64),
        None => (0, num(parts[0])? as i64),
    };
    let minutes = num(parts[1])? as i64;
    let (secs, frac) = match parts.get(2) {
        Some(p) => match p.split_once('.') {
            Some((w, f)) => {
                let mut digits: String = f.chars().take(7).collect();
                while digits.len() < 7 {
                    digits.push('0');
                }
                (num(w)? as i64, digits.parse::<i64>().ok()?)
            }
            None => (num(p)? as i64, 0),
        },
        None => (0, 0),
    };
    let t = days * DAY + hours * HOUR + minutes * MINUTE + secs * SECOND + frac;
    Some(if neg { -t } else { t })
}
