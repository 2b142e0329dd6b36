//! Redaction of log data before it is shown or leaves the machine (dry-run samples, `vigil mcp`
//! results, everything `vigil draft` sends): IPv4 and IPv6 addresses, e-mail addresses and UPNs,
//! GUIDs and host names by pattern are replaced by typed placeholders (`<ip>`, `<email>`,
//! `<guid>`, `<host>`), in strings and inside JSON. The rules come from `[ai.redact]` (trusted
//! configuration); [`Redactor::default`] is the built-in set.

use std::sync::OnceLock;

use regex::Regex;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Host names under internal DNS suffixes (the default `[ai.redact] hosts` entry).
pub const INTERNAL_HOSTS: &str = r"(?i)\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:local|corp|internal|lan|intranet|localdomain|ad)\b";

/// `[ai.redact]`: the redaction rules applied to sample rows (dry-run, `vigil mcp`) and to
/// everything `vigil draft` sends (threat reports, hypotheses, sandbox figures). Trusted like
/// the rest of `[ai]`: a pull request cannot switch a rule off. Built-in rules are on by
/// default; `hosts` and `rules` add patterns (regular expressions, Rust `regex` syntax).
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct RedactConfig {
    /// IPv4 and IPv6 addresses → `<ip>`.
    pub ips: bool,
    /// E-mail addresses and UPNs → `<email>`.
    pub emails: bool,
    /// GUIDs → `<guid>`.
    pub guids: bool,
    /// Host-name patterns → `<host>`. Default: names under internal DNS suffixes
    /// (`.local`, `.corp`, `.internal`, `.lan`, `.intranet`, `.localdomain`, `.ad`).
    pub hosts: Vec<String>,
    /// Further rules, each `{ pattern = "...", with = "<secret>" }`, applied after the built-ins.
    pub rules: Vec<RedactRule>,
}

/// One `[[ai.redact.rules]]` entry.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RedactRule {
    pub pattern: String,
    pub with: String,
}

impl Default for RedactConfig {
    fn default() -> Self {
        RedactConfig {
            ips: true,
            emails: true,
            guids: true,
            hosts: vec![INTERNAL_HOSTS.to_string()],
            rules: Vec::new(),
        }
    }
}

const GUID: &str = r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b";
const EMAIL: &str = r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b";
const IPV4: &str = r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b";
const IPV6_FULL: &str = r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b";
const IPV6_SHORT: &str =
    r"(?i)\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?";

/// A compiled set of redaction rules, applied in order.
#[derive(Clone, Debug)]
pub struct Redactor {
    rules: Vec<(Regex, String)>,
}

impl Default for Redactor {
    fn default() -> Self {
        static D: OnceLock<Redactor> = OnceLock::new();
        D.get_or_init(|| {
            Redactor::new(&RedactConfig::default()).expect("the built-in redaction rules compile")
        })
        .clone()
    }
}

impl Redactor {
    /// The rules of `[ai.redact]`. A pattern that does not compile is `Err((index, message))`,
    /// the index counting `hosts` first, then `rules`.
    pub fn new(c: &RedactConfig) -> Result<Redactor, (usize, String)> {
        let mut rules = Vec::new();
        let fixed = |p: &str, w: &str| (Regex::new(p).expect("built-in pattern"), w.to_string());
        // GUIDs before addresses: a GUID's groups would otherwise read as IPv6 fragments.
        if c.guids {
            rules.push(fixed(GUID, "<guid>"));
        }
        // E-mail before host names: `bob@host.corp` is one e-mail address.
        if c.emails {
            rules.push(fixed(EMAIL, "<email>"));
        }
        if c.ips {
            rules.push(fixed(IPV4, "<ip>"));
            rules.push(fixed(IPV6_FULL, "<ip>"));
            rules.push(fixed(IPV6_SHORT, "<ip>"));
        }
        let custom = c
            .hosts
            .iter()
            .map(|p| (p, "<host>"))
            .chain(c.rules.iter().map(|r| (&r.pattern, r.with.as_str())));
        for (i, (p, with)) in custom.enumerate() {
            // Bounded compiled size: a pattern from configuration cannot exhaust memory.
            let re = regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| (i, e.to_string()))?;
            rules.push((re, with.to_string()));
        }
        Ok(Redactor { rules })
    }

    /// A string with every rule applied.
    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (re, with) in &self.rules {
            if re.is_match(&out) {
                out = re.replace_all(&out, regex::NoExpand(with)).into_owned();
            }
        }
        out
    }

    /// A result row as an object of column → redacted value.
    pub fn row<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
        cells: &[serde_json::Value],
    ) -> serde_json::Value {
        serde_json::Value::Object(
            names
                .into_iter()
                .zip(cells)
                .map(|(n, v)| (n.to_string(), self.json(v)))
                .collect(),
        )
    }

    /// A JSON value with every string (keys kept) redacted.
    pub fn json(&self, v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.json(x)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), self.json(v))).collect())
            }
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_mail_guids_and_internal_hosts_are_replaced() {
        let r = Redactor::default();
        assert_eq!(
            r.text("alice@contoso.com from 203.0.113.7 (2001:db8::1) id 9a8b7c6d-1234-4e5f-8a9b-0c1d2e3f4a5b"),
            "<email> from <ip> (<ip>) id <guid>"
        );
        assert_eq!(
            r.text("powershell.exe -enc ZQBjAGgAbwA="),
            "powershell.exe -enc ZQBjAGgAbwA="
        );
        assert_eq!(r.text("10:30:00"), "10:30:00", "times are not addresses");
        assert_eq!(
            r.text("std::fs and fe80:0:0:0:200:f8ff:fe21:67cf"),
            "std::fs and <ip>"
        );
        assert_eq!(
            r.text("logon on dc01.contoso.corp and web-7.lab.internal, not www.contoso.com"),
            "logon on <host> and <host>, not www.contoso.com"
        );
        assert_eq!(r.text("svc@dc01.contoso.corp"), "<email>");
        let v = serde_json::json!({"UserPrincipalName": "bob@contoso.com", "n": 3, "ips": ["198.51.100.1"]});
        assert_eq!(
            r.json(&v),
            serde_json::json!({"UserPrincipalName": "<email>", "n": 3, "ips": ["<ip>"]})
        );
    }

    #[test]
    fn configured_rules_add_and_switch_off() {
        let c = RedactConfig {
            ips: false,
            emails: true,
            guids: true,
            hosts: vec![r"(?i)\bWS-[0-9]{4}\b".into()],
            rules: vec![RedactRule {
                pattern: r"(?i)password=\S+".into(),
                // `$1` is text, not a capture reference.
                with: "password=$1<secret>".into(),
            }],
        };
        let r = Redactor::new(&c).unwrap();
        assert_eq!(
            r.text("ws-0042 at 10.0.0.1 sent password=hunter2"),
            "<host> at 10.0.0.1 sent password=$1<secret>"
        );
        let bad = RedactConfig {
            rules: vec![RedactRule {
                pattern: "(".into(),
                with: "x".into(),
            }],
            ..RedactConfig::default()
        };
        assert_eq!(Redactor::new(&bad).unwrap_err().0, 1, "hosts come first");
    }
}
