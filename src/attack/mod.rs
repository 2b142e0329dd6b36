//! MITRE ATT&CK Enterprise techniques: a committed, pinned extract of MITRE's published STIX
//! data (`techniques.tsv`, written by `tools/attack/generate.py`; its header names the ATT&CK
//! version, the source commit and the input's SHA-256). One list for the whole tool: drafting
//! grounds a model in the techniques its input names, and validation can tell a technique id
//! that does not exist from one that does.

use std::collections::BTreeMap;
use std::sync::OnceLock;

const TSV: &str = include_str!("techniques.tsv");

/// One technique or sub-technique.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Technique {
    /// `T1059` or `T1059.001`.
    pub id: &'static str,
    pub name: &'static str,
    /// Sentinel's tactic names (`CredentialAccess`), in ATT&CK matrix order.
    pub tactics: Vec<&'static str>,
    pub platforms: Vec<&'static str>,
}

/// The extract.
pub struct Attack {
    /// The ATT&CK version of the extract (`18.1`).
    pub version: &'static str,
    pub techniques: BTreeMap<&'static str, Technique>,
}

/// The embedded extract, parsed once.
pub fn attack() -> &'static Attack {
    static A: OnceLock<Attack> = OnceLock::new();
    A.get_or_init(|| parse(TSV).expect("the committed ATT&CK extract parses"))
}

fn split(s: &'static str) -> Vec<&'static str> {
    s.split(',').filter(|x| !x.is_empty()).collect()
}

/// Parse the TSV format (comment lines `# key: value`, then `id\tname\ttactics\tplatforms`).
pub fn parse(text: &'static str) -> Result<Attack, String> {
    let mut version = None;
    let mut techniques = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(c) = line.strip_prefix('#') {
            if let Some(v) = c.trim().strip_prefix("attack_version:") {
                version = Some(v.trim());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let f: Vec<&'static str> = line.split('\t').collect();
        if f.len() != 4 || !is_technique_id(f[0]) {
            return Err(format!(
                "line {}: not `id\\tname\\ttactics\\tplatforms`",
                n + 1
            ));
        }
        let t = Technique {
            id: f[0],
            name: f[1],
            tactics: split(f[2]),
            platforms: split(f[3]),
        };
        if techniques.insert(f[0], t).is_some() {
            return Err(format!("line {}: `{}` twice", n + 1, f[0]));
        }
    }
    Ok(Attack {
        version: version.ok_or("no `# attack_version:` line")?,
        techniques,
    })
}

/// `T` + four digits, optionally `.` + three digits.
pub fn is_technique_id(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..5]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..9]),
        _ => false,
    }
}

impl Attack {
    pub fn get(&self, id: &str) -> Option<&Technique> {
        self.techniques.get(id)
    }

    /// The techniques a text names by id (`T1110`, `T1059.001`), in order of first mention,
    /// each once; ids that are not in the extract are returned apart.
    pub fn mentioned<'a>(&'a self, text: &str) -> (Vec<&'a Technique>, Vec<String>) {
        let mut found = Vec::new();
        let mut unknown = Vec::new();
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            if boundary && b[i] == b'T' {
                let end = |len: usize| {
                    let j = i + len;
                    (j <= b.len() && (j == b.len() || !b[j].is_ascii_alphanumeric())).then_some(j)
                };
                let id = [9, 5]
                    .into_iter()
                    .filter_map(end)
                    .map(|j| &text[i..j])
                    .find(|s| is_technique_id(s));
                if let Some(id) = id {
                    match self.get(id) {
                        Some(t) if !found.iter().any(|f: &&Technique| f.id == t.id) => {
                            found.push(t)
                        }
                        Some(_) => {}
                        None if !unknown.iter().any(|u| u == id) => unknown.push(id.to_string()),
                        None => {}
                    }
                    i += id.len();
                    continue;
                }
            }
            i += 1;
        }
        (found, unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extract_is_pinned_and_complete() {
        let a = attack();
        assert_eq!(a.version, "18.1");
        let rows = TSV
            .lines()
            .find_map(|l| l.strip_prefix("# rows: "))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap();
        assert_eq!(a.techniques.len(), rows, "the header's row count");
        let ps = a.get("T1059.001").unwrap();
        assert_eq!(ps.name, "PowerShell");
        assert_eq!(ps.tactics, ["Execution"]);
        assert!(a.get("T1078").unwrap().tactics.contains(&"InitialAccess"));
        // Every tactic is one Sentinel knows.
        for t in a.techniques.values() {
            for tac in &t.tactics {
                assert!(
                    serde_json::from_value::<crate::model::types::Tactic>(serde_json::json!(tac))
                        .is_ok(),
                    "{}: tactic {tac}",
                    t.id
                );
            }
        }
    }

    #[test]
    fn mentions_are_found_by_id_with_boundaries() {
        let a = attack();
        let (found, unknown) = a.mentioned(
            "Password spraying (T1110.003) then T1078; not XT1059 nor T10591; T9999 is made up; T1110.003 again.",
        );
        let ids: Vec<&str> = found.iter().map(|t| t.id).collect();
        assert_eq!(ids, ["T1110.003", "T1078"]);
        assert_eq!(unknown, ["T9999"]);
        assert!(is_technique_id("T1059.001") && !is_technique_id("T1059.01"));
    }

    #[test]
    fn a_malformed_extract_is_refused() {
        assert!(parse("# attack_version: 1\nT1\tx\ty\tz\n").is_err());
        assert!(parse("T1001\ta\tImpact\tWindows\n").is_err(), "no version");
        assert!(parse("# attack_version: 1\nT1001\ta\tImpact\tx\nT1001\tb\tImpact\tx\n").is_err());
    }
}
