//! CODEOWNERS: who owns a path, by GitHub's rules (gitignore-style patterns, the last matching
//! line wins, a line with no owners removes ownership).
//!
//! The gate reads the file from the pull request's *base* commit: a pull request cannot make
//! its author an owner of what it changes.

use regex::Regex;

/// One rule: a pattern and its owners (`@login`, `@org/team` or an e-mail address).
#[derive(Clone, Debug)]
pub struct Rule {
    pub pattern: String,
    regex: Regex,
    pub owners: Vec<String>,
}

/// A parsed CODEOWNERS file.
#[derive(Clone, Debug, Default)]
pub struct CodeOwners {
    pub rules: Vec<Rule>,
}

impl CodeOwners {
    /// Parse the file; lines that are not valid patterns are skipped (GitHub ignores them too).
    pub fn parse(text: &str) -> CodeOwners {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // Owners end at an inline comment.
            let line = line.split(" #").next().unwrap_or(line);
            let mut parts = line.split_whitespace();
            let Some(pattern) = parts.next() else {
                continue;
            };
            let owners: Vec<String> = parts.map(String::from).collect();
            if let Some(regex) = pattern_regex(pattern) {
                rules.push(Rule {
                    pattern: pattern.to_string(),
                    regex,
                    owners,
                });
            }
        }
        CodeOwners { rules }
    }

    /// The owners of a repository-relative path (`/`-separated), as written (`@alice`).
    pub fn owners(&self, path: &str) -> &[String] {
        let path = path.trim_start_matches('/');
        self.rules
            .iter()
            .rev()
            .find(|r| r.regex.is_match(path))
            .map(|r| r.owners.as_slice())
            .unwrap_or(&[])
    }
}

/// A gitignore-style pattern as a regex over the whole path.
fn pattern_regex(pattern: &str) -> Option<Regex> {
    let dir_only = pattern.ends_with('/');
    let p = pattern.trim_end_matches('/');
    // A slash at the start or in the middle anchors the pattern at the root.
    let anchored = p.starts_with('/') || p.contains('/');
    let p = p.trim_start_matches('/');
    if p.is_empty() {
        return None;
    }
    let mut re = String::from("^");
    if !anchored {
        re.push_str("(?:.*/)?");
    }
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                // `**/` matches any folders (or none); a trailing `**` anything.
                if chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    // A pattern names a file, or a folder and everything under it.
    if dir_only {
        re.push_str("/.*$");
    } else {
        re.push_str("(?:/.*)?$");
    }
    Regex::new(&re).ok()
}

/// Whether an owner entry names a GitHub login (case-insensitive), `@` optional.
pub fn names_login(owner: &str, login: &str) -> bool {
    let o = owner.trim_start_matches('@');
    !o.contains('/') && o.eq_ignore_ascii_case(login)
}

/// Whether an owner entry is a team (`@org/team`).
pub fn is_team(owner: &str) -> bool {
    owner.starts_with('@') && owner.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_matching_rule_wins() {
        let c = CodeOwners::parse(
            "# owners\n* @default\n/detections/ @alice @bob\ndetections/legacy/** @carol\n*.csv @data # inline\nhunts/experimental.yaml\n",
        );
        assert_eq!(c.owners("README.md"), ["@default"]);
        assert_eq!(c.owners("detections/a.yaml"), ["@alice", "@bob"]);
        assert_eq!(c.owners("detections/legacy/x/y.yaml"), ["@carol"]);
        assert_eq!(c.owners("watchlists/a.csv"), ["@data"]);
        assert_eq!(c.owners("nested/detections/a.yaml"), ["@default"]);
        assert!(c.owners("hunts/experimental.yaml").is_empty());
        assert_eq!(c.owners("hunts/other.yaml"), ["@default"]);
    }

    #[test]
    fn unanchored_names_match_at_any_depth() {
        let c = CodeOwners::parse("docs @writer\nhunts/*.yaml @hunter\n");
        assert_eq!(c.owners("a/b/docs/x.md"), ["@writer"]);
        assert_eq!(c.owners("hunts/a.yaml"), ["@hunter"]);
        assert!(c.owners("hunts/deep/a.yaml").is_empty());
        assert!(names_login("@Alice", "alice"));
        assert!(!names_login("@org/alice", "alice"));
        assert!(is_team("@org/secops"));
    }
}
