//! Redaction of log data before it is shown or leaves the machine (dry-run samples today; the
//! drafting loop's prompts next): IPv4 and IPv6 addresses, e-mail addresses and UPNs, and GUIDs
//! are replaced by typed placeholders (`<ip>`, `<email>`, `<guid>`), in strings and inside JSON.

use std::sync::OnceLock;

use regex::Regex;

fn patterns() -> &'static [(Regex, &'static str)] {
    static P: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    P.get_or_init(|| {
        [
            (
                r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                "<guid>",
            ),
            (
                r"(?i)\b[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}\b",
                "<email>",
            ),
            (
                r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b",
                "<ip>",
            ),
            (r"(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", "<ip>"),
            (
                r"(?i)\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?",
                "<ip>",
            ),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid redaction pattern"), r))
        .collect()
    })
}

/// A string with addresses, e-mail addresses and GUIDs replaced.
pub fn text(s: &str) -> String {
    let mut out = s.to_string();
    for (re, with) in patterns() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    out
}

/// A JSON value with every string (keys kept) redacted.
pub fn json(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(text(s)),
        Value::Array(a) => Value::Array(a.iter().map(json).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_mail_and_guids_are_replaced() {
        assert_eq!(
            text("alice@contoso.com from 203.0.113.7 (2001:db8::1) id 9a8b7c6d-1234-4e5f-8a9b-0c1d2e3f4a5b"),
            "<email> from <ip> (<ip>) id <guid>"
        );
        assert_eq!(
            text("powershell.exe -enc ZQBjAGgAbwA="),
            "powershell.exe -enc ZQBjAGgAbwA="
        );
        assert_eq!(text("10:30:00"), "10:30:00", "times are not addresses");
        assert_eq!(
            text("std::fs and fe80:0:0:0:200:f8ff:fe21:67cf"),
            "std::fs and <ip>"
        );
        let v = serde_json::json!({"UserPrincipalName": "bob@contoso.com", "n": 3, "ips": ["198.51.100.1"]});
        assert_eq!(
            json(&v),
            serde_json::json!({"UserPrincipalName": "<email>", "n": 3, "ips": ["<ip>"]})
        );
    }
}
