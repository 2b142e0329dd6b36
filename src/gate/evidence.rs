//! Shadow evidence: what a shadow rule really did in a target workspace, the input that
//! promotion to canary or active is judged on (POL008).
//!
//! Today the evidence is an input file (`vigil gate --evidence FILE`). The trusted stage will
//! fill the same struct from the query API (the rule's alerts in `SecurityAlert` over the
//! window; the deploy issue's emulator models it), so the judgement here does not change when
//! the source does.
//!
//! ```json
//! { "version": 1,
//!   "items": [ { "id": "<definition id>", "environment": "prod",
//!                "query_sha256": "<vigil hash of the shadow query>",
//!                "from": "2026-10-01T00:00:00Z", "to": "2026-10-08T00:00:00Z",
//!                "shadow_alerts": 12, "source": "SecurityAlert via query API" } ] }
//! ```

use serde::{Deserialize, Serialize};

use crate::config::RolloutPolicy;

/// The evidence file.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvidenceFile {
    pub version: u32,
    pub items: Vec<Evidence>,
}

/// One definition's shadow record in one environment.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The definition's id (resource name).
    pub id: String,
    /// The environment the alerts were counted in; absent: valid for every environment.
    #[serde(default)]
    pub environment: Option<String>,
    /// `vigil hash` of the query that ran in shadow: evidence about another query proves nothing.
    pub query_sha256: String,
    /// RFC 3339 start and end of the window the alerts were counted over.
    pub from: String,
    pub to: String,
    /// Alerts the shadow rule raised in the window.
    pub shadow_alerts: u64,
    /// Where the count came from (free text, shown in reports and the audit log).
    #[serde(default)]
    pub source: Option<String>,
    /// The stage the figures come from: `shadow` (default; alerts only) or `canary` (with the
    /// classifications of its closed incidents, for canary → active).
    #[serde(default)]
    pub stage: Option<String>,
    /// Canary: incidents closed in the window, and how.
    #[serde(default)]
    pub closed: Option<u64>,
    #[serde(default)]
    pub true_positive: Option<u64>,
    #[serde(default)]
    pub benign_positive: Option<u64>,
    #[serde(default)]
    pub false_positive: Option<u64>,
}

impl Evidence {
    pub fn is_canary(&self) -> bool {
        self.stage.as_deref() == Some("canary")
    }
}

/// The judgement of one piece of evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judgement {
    pub ok: bool,
    /// Why, in a sentence.
    pub reason: String,
    pub days: f64,
    pub alerts_per_day: f64,
}

/// Seconds since the Unix epoch of an RFC 3339 timestamp (`2026-10-01T00:00:00Z`,
/// `...+02:00`, fractional seconds ignored).
pub fn unix_seconds(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(4..6)?.parse::<i64>().ok()?;
            let o = oh * 3600 + om * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// An RFC 3339 UTC timestamp (`2026-10-02T14:30:00Z`) of seconds since the Unix epoch.
pub fn format_rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Judge canary outcomes for promoting a canary rule to active: classified incidents of the
/// canary stage of the current query, enough of them, under the false-positive limit.
pub fn judge_canary(e: &Evidence, query_sha256: &str, policy: &RolloutPolicy) -> Judgement {
    let fail = |reason: String| Judgement {
        ok: false,
        reason,
        days: 0.0,
        alerts_per_day: 0.0,
    };
    if !e.is_canary() {
        return fail("canary → active needs the outcomes of the canary stage (classified incidents), not shadow alert counts".into());
    }
    if !e.query_sha256.eq_ignore_ascii_case(query_sha256) {
        return fail(format!(
            "the canary outcomes are about query {}, not the current query {}",
            short(&e.query_sha256),
            short(query_sha256)
        ));
    }
    let closed = e.closed.unwrap_or(0);
    let (tp, bp, fp) = (
        e.true_positive.unwrap_or(0),
        e.benign_positive.unwrap_or(0),
        e.false_positive.unwrap_or(0),
    );
    let min = policy.canary_min_closed as u64;
    if closed < min {
        return fail(format!(
            "{closed} canary incident(s) closed; the policy asks for at least {min}"
        ));
    }
    let judged = tp + bp + fp;
    let rate = if judged == 0 {
        0.0
    } else {
        fp as f64 / judged as f64
    };
    let ok = rate <= policy.canary_max_fp_rate;
    Judgement {
        ok,
        reason: format!(
            "{closed} canary incidents closed (TP {tp} / BP {bp} / FP {fp}): false-positive rate {:.0}% {} the limit of {:.0}%",
            rate * 100.0,
            if ok { "within" } else { "exceeds" },
            policy.canary_max_fp_rate * 100.0
        ),
        days: 0.0,
        alerts_per_day: 0.0,
    }
}

/// Judge evidence for promoting a query whose current hash is `query_sha256`.
pub fn judge(e: &Evidence, query_sha256: &str, policy: &RolloutPolicy) -> Judgement {
    let fail = |reason: String| Judgement {
        ok: false,
        reason,
        days: 0.0,
        alerts_per_day: 0.0,
    };
    if !e.query_sha256.eq_ignore_ascii_case(query_sha256) {
        return fail(format!(
            "the evidence is about query {}, not the current query {}",
            short(&e.query_sha256),
            short(query_sha256)
        ));
    }
    let (Some(from), Some(to)) = (unix_seconds(&e.from), unix_seconds(&e.to)) else {
        return fail(format!(
            "the evidence window `{}` .. `{}` is not two RFC 3339 timestamps",
            e.from, e.to
        ));
    };
    // An empty window (a rule put in shadow this second) is judged as 0 days below.
    if to < from {
        return fail("the evidence window ends before it starts".into());
    }
    let days = (to - from) as f64 / 86_400.0;
    let per_day = match (days > 0.0, e.shadow_alerts) {
        (true, n) => n as f64 / days,
        (false, 0) => 0.0,
        (false, _) => f64::INFINITY,
    };
    let min = policy.min_shadow_days as f64;
    if days < min {
        return Judgement {
            ok: false,
            reason: format!("{days:.1} days in shadow; the policy asks for at least {min} days"),
            days,
            alerts_per_day: per_day,
        };
    }
    if per_day > policy.max_shadow_alerts_per_day {
        return Judgement {
            ok: false,
            reason: format!(
                "{} shadow alerts in {days:.1} days ({per_day:.1}/day) exceed the budget of {}/day",
                e.shadow_alerts, policy.max_shadow_alerts_per_day
            ),
            days,
            alerts_per_day: per_day,
        };
    }
    Judgement {
        ok: true,
        reason: format!(
            "{} shadow alerts in {days:.1} days ({per_day:.1}/day), within the budget of {}/day",
            e.shadow_alerts, policy.max_shadow_alerts_per_day
        ),
        days,
        alerts_per_day: per_day,
    }
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_to_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(unix_seconds("2026-10-02T14:30:00Z"), Some(1_790_951_400));
        assert_eq!(
            unix_seconds("2026-10-02T16:30:00.123+02:00"),
            unix_seconds("2026-10-02T14:30:00Z")
        );
        assert_eq!(unix_seconds("yesterday"), None);
        for t in [0, 951_868_800, 1_790_951_400, 4_102_444_799] {
            assert_eq!(unix_seconds(&format_rfc3339(t)), Some(t));
        }
        assert_eq!(unix_seconds("2026-13-02T14:30:00Z"), None);
    }

    #[test]
    fn judgement_follows_window_budget_and_query() {
        let p = RolloutPolicy::default();
        let e = |from: &str, to: &str, n: u64, q: &str| Evidence {
            id: "x".into(),
            environment: None,
            query_sha256: q.into(),
            from: from.into(),
            to: to.into(),
            shadow_alerts: n,
            source: None,
            stage: None,
            closed: None,
            true_positive: None,
            benign_positive: None,
            false_positive: None,
        };
        let q = "a".repeat(64);
        let ok = judge(
            &e("2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z", 70, &q),
            &q,
            &p,
        );
        assert!(ok.ok, "{}", ok.reason);
        assert_eq!(ok.alerts_per_day, 10.0);
        let over = judge(
            &e("2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z", 71, &q),
            &q,
            &p,
        );
        assert!(!over.ok && over.reason.contains("exceed the budget"));
        let short = judge(
            &e("2026-10-01T00:00:00Z", "2026-10-04T00:00:00Z", 0, &q),
            &q,
            &p,
        );
        assert!(!short.ok && short.reason.contains("at least 7 days"));
        let other = judge(
            &e(
                "2026-10-01T00:00:00Z",
                "2026-10-08T00:00:00Z",
                0,
                &"b".repeat(64),
            ),
            &q,
            &p,
        );
        assert!(!other.ok && other.reason.contains("not the current query"));
        // Canary → active: classified canary incidents under the limit.
        let mut c = e("2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z", 30, &q);
        assert!(
            !judge_canary(&c, &q, &p).ok,
            "shadow counts are not canary outcomes"
        );
        c.stage = Some("canary".into());
        c.closed = Some(10);
        c.true_positive = Some(7);
        c.false_positive = Some(3);
        assert!(
            judge_canary(&c, &q, &p).ok,
            "{}",
            judge_canary(&c, &q, &p).reason
        );
        c.false_positive = Some(4);
        c.true_positive = Some(6);
        assert!(!judge_canary(&c, &q, &p).ok, "40% > 30%");
        c.closed = Some(9);
        assert!(judge_canary(&c, &q, &p).reason.contains("at least 10"));
    }
}
