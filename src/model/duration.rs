//! Durations as Sentinel content writes them (`5m`, `1h`, `1d`, ISO-8601 `PT5H`, .NET TimeSpan
//! `01:00:00`) and their canonical ISO-8601 form for payloads.

/// A duration in whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub u64);

pub const MINUTE: u64 = 60;
pub const HOUR: u64 = 3600;
pub const DAY: u64 = 86_400;

impl Duration {
    pub fn minutes(m: u64) -> Duration {
        Duration(m * MINUTE)
    }
    pub fn hours(h: u64) -> Duration {
        Duration(h * HOUR)
    }
    pub fn days(d: u64) -> Duration {
        Duration(d * DAY)
    }

    /// Parse any accepted spelling. Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Duration> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Some(d) = parse_short(s) {
            return Some(d);
        }
        if let Some(d) = parse_compound(s) {
            return Some(d);
        }
        if s.starts_with(['P', 'p']) {
            return parse_iso(s);
        }
        parse_timespan(s)
    }

    /// Canonical ISO-8601: `P1D`, `PT5H`, `P2DT1H30M`, `PT0S`.
    pub fn to_iso(self) -> String {
        let mut secs = self.0;
        if secs == 0 {
            return "PT0S".into();
        }
        let days = secs / DAY;
        secs %= DAY;
        let hours = secs / HOUR;
        secs %= HOUR;
        let minutes = secs / MINUTE;
        secs %= MINUTE;
        let mut out = String::from("P");
        if days > 0 {
            out.push_str(&format!("{days}D"));
        }
        if hours > 0 || minutes > 0 || secs > 0 {
            out.push('T');
            if hours > 0 {
                out.push_str(&format!("{hours}H"));
            }
            if minutes > 0 {
                out.push_str(&format!("{minutes}M"));
            }
            if secs > 0 {
                out.push_str(&format!("{secs}S"));
            }
        }
        out
    }

    /// Short human form: `5m`, `1h`, `14d`, `1h30m`.
    pub fn human(self) -> String {
        let mut secs = self.0;
        if secs == 0 {
            return "0s".into();
        }
        let mut out = String::new();
        for (unit, name) in [(DAY, 'd'), (HOUR, 'h'), (MINUTE, 'm'), (1, 's')] {
            if secs >= unit {
                out.push_str(&format!("{}{}", secs / unit, name));
                secs %= unit;
            }
        }
        out
    }
}

fn parse_short(s: &str) -> Option<Duration> {
    let unit = s.chars().last()?;
    let num = &s[..s.len() - unit.len_utf8()];
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let mult = match unit.to_ascii_lowercase() {
        's' => 1,
        'm' => MINUTE,
        'h' => HOUR,
        'd' => DAY,
        _ => return None,
    };
    n.checked_mul(mult).map(Duration)
}

/// `1h10m`, `2d12h`: units in decreasing order, each once.
fn parse_compound(s: &str) -> Option<Duration> {
    let units = [('d', DAY), ('h', HOUR), ('m', MINUTE), ('s', 1u64)];
    let mut total = 0u64;
    let mut num = String::new();
    let mut next_unit = 0usize;
    let mut parts = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let c = c.to_ascii_lowercase();
        let pos = units.iter().position(|(u, _)| *u == c)?;
        if pos < next_unit || num.is_empty() {
            return None;
        }
        next_unit = pos + 1;
        total = total.checked_add(num.parse::<u64>().ok()?.checked_mul(units[pos].1)?)?;
        num.clear();
        parts += 1;
    }
    (num.is_empty() && parts >= 2).then_some(Duration(total))
}

/// Whether a duration is written with several units (`1h10m`), which the Azure-Sentinel
/// validator does not read although Sentinel accepts the converted value.
pub fn is_compound(s: &str) -> bool {
    parse_short(s.trim()).is_none() && parse_compound(s.trim()).is_some()
}

fn parse_iso(s: &str) -> Option<Duration> {
    let upper = s.to_ascii_uppercase();
    let rest = upper.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return None;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut total: u64 = 0;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, u64)]| -> Option<()> {
        let mut num = String::new();
        let mut last_unit = 0usize;
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let pos = units.iter().position(|(u, _)| *u == c)?;
                if pos < last_unit || num.is_empty() {
                    return None;
                }
                last_unit = pos + 1;
                let n: u64 = num.parse().ok()?;
                total = total.checked_add(n.checked_mul(units[pos].1)?)?;
                any = true;
                num.clear();
            }
        }
        if num.is_empty() {
            Some(())
        } else {
            None
        }
    };
    take(date, &[('W', 7 * DAY), ('D', DAY)])?;
    if let Some(t) = time {
        take(t, &[('H', HOUR), ('M', MINUTE), ('S', 1)])?;
    }
    if any {
        Some(Duration(total))
    } else {
        None
    }
}

/// .NET TimeSpan: `[d.]hh:mm[:ss]`.
fn parse_timespan(s: &str) -> Option<Duration> {
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if r.contains(':') => (d.parse::<u64>().ok()?, r),
        _ => (0, s),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let mut nums = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        nums[i] = p.parse().ok()?;
    }
    if nums[1] >= 60 || nums[2] >= 60 {
        return None;
    }
    Some(Duration(
        days * DAY + nums[0] * HOUR + nums[1] * MINUTE + nums[2],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling_seen_in_content() {
        for (s, secs) in [
            ("5m", 300),
            ("1h", 3600),
            ("1d", 86400),
            ("5H", 5 * 3600),
            ("14d", 14 * 86400),
            ("PT5H", 5 * 3600),
            ("P7D", 7 * 86400),
            ("P2DT1H30M", 2 * 86400 + 5400),
            ("pt15m", 900),
            ("P1W", 7 * 86400),
            ("01:00:00", 3600),
            ("1.00:00:00", 86400),
            ("00:05", 300),
        ] {
            assert_eq!(Duration::parse(s), Some(Duration(secs)), "{s}");
        }
        for bad in [
            "", "1 hour", "5x", "P", "PT", "P1H", "PTD", "m", "1.5h", "-5m", "25:61",
        ] {
            assert_eq!(Duration::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso_output_is_canonical() {
        assert_eq!(Duration::parse("5m").unwrap().to_iso(), "PT5M");
        assert_eq!(Duration::parse("1h").unwrap().to_iso(), "PT1H");
        assert_eq!(Duration::parse("24h").unwrap().to_iso(), "P1D");
        assert_eq!(Duration::parse("14d").unwrap().to_iso(), "P14D");
        assert_eq!(Duration::parse("90m").unwrap().to_iso(), "PT1H30M");
        assert_eq!(Duration::parse("P2DT1H30M").unwrap().to_iso(), "P2DT1H30M");
        assert_eq!(Duration::parse("90m").unwrap().human(), "1h30m");
    }
}
