//! Kusto's string predicates: `has` as term matching, `contains`, prefixes and suffixes, each
//! case-insensitive unless `_cs`.

/// Characters that make up terms (`has` matches whole terms): ASCII letters and digits, and
/// every non-ASCII character.
fn is_term(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

fn lower_if_needed(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A needle prepared once for many haystacks.
pub struct Needle {
    text: String,
    cs: bool,
    ascii: bool,
    finder: memchr::memmem::Finder<'static>,
}

impl Needle {
    pub fn new(needle: &str, cs: bool) -> Needle {
        let text = if cs {
            needle.to_string()
        } else {
            needle.to_lowercase()
        };
        let finder = memchr::memmem::Finder::new(text.as_bytes()).into_owned();
        Needle {
            ascii: needle.is_ascii(),
            text,
            cs,
            finder,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every start position of the needle in the haystack: case-sensitive, or ASCII
    /// case-insensitive (callers handle non-ASCII text with lowercase copies).
    fn positions<'h>(&'h self, hay: &'h str) -> Box<dyn Iterator<Item = (usize, &'h [u8])> + 'h> {
        if self.cs {
            let h = hay.as_bytes();
            return Box::new(self.finder.find_iter(h).map(move |i| (i, h)));
        }
        if self.ascii && hay.is_ascii() {
            // ASCII case-insensitive scan without allocating.
            let n = self.text.as_bytes();
            let h = hay.as_bytes();
            if n.is_empty() {
                return Box::new(std::iter::once((0, h)));
            }
            let first = n[0];
            let upper = first.to_ascii_uppercase();
            let it = memchr::memchr2_iter(first, upper, h).filter_map(move |i| {
                (i + n.len() <= h.len() && h[i..i + n.len()].eq_ignore_ascii_case(n))
                    .then_some((i, h))
            });
            return Box::new(it);
        }
        // Callers use the lowercase fallbacks for non-ASCII text.
        Box::new(std::iter::empty())
    }

    pub fn contains(&self, hay: &str) -> bool {
        if self.text.is_empty() {
            return true;
        }
        if self.cs {
            return self.finder.find(hay.as_bytes()).is_some();
        }
        if self.ascii && hay.is_ascii() {
            return self.positions(hay).next().is_some();
        }
        lower_if_needed(hay).contains(self.text.as_str())
    }

    pub fn starts_with(&self, hay: &str) -> bool {
        let n = self.text.as_bytes();
        let h = hay.as_bytes();
        if self.cs {
            return h.starts_with(n);
        }
        if self.ascii && hay.is_ascii() {
            return h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n);
        }
        lower_if_needed(hay).starts_with(self.text.as_str())
    }

    pub fn ends_with(&self, hay: &str) -> bool {
        let n = self.text.as_bytes();
        let h = hay.as_bytes();
        if self.cs {
            return h.ends_with(n);
        }
        if self.ascii && hay.is_ascii() {
            return h.len() >= n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n);
        }
        lower_if_needed(hay).ends_with(self.text.as_str())
    }

    /// Term match: the needle occurs with term boundaries on the sides where it starts or ends
    /// with a term character (`prefix`/`suffix` relax the far side).
    pub fn has(&self, hay: &str, need_start: bool, need_end: bool) -> bool {
        let n = self.text.as_bytes();
        if n.is_empty() {
            return true;
        }
        let check_start = need_start && is_term(n[0]);
        let check_end = need_end && is_term(n[n.len() - 1]);
        if self.ascii && hay.is_ascii() && !self.cs {
            let h = hay.as_bytes();
            return self.positions(hay).any(|(i, _)| {
                (!check_start || i == 0 || !is_term(h[i - 1]))
                    && (!check_end || i + n.len() == h.len() || !is_term(h[i + n.len()]))
            });
        }
        let h_owned;
        let h: &[u8] = if self.cs {
            hay.as_bytes()
        } else {
            h_owned = lower_if_needed(hay).into_owned();
            h_owned.as_bytes()
        };
        self.finder.find_iter(h).any(|i| {
            (!check_start || i == 0 || !is_term(h[i - 1]))
                && (!check_end || i + n.len() == h.len() || !is_term(h[i + n.len()]))
        })
    }
}

/// `=~`.
pub fn eq_ci(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// `*` wildcards in column and table names (one definition, shared with the binder).
pub fn glob(pattern: &str, name: &str) -> bool {
    crate::kql::binder::glob_match(pattern, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_matches_terms() {
        let n = Needle::new("whoami", false);
        assert!(n.has("cmd.exe /c WHOAMI /all", true, true));
        assert!(n.has("whoami.exe /groups", true, true));
        assert!(!n.has("xwhoami", true, true));
        assert!(!n.has("whoamix", true, true));
        let n = Needle::new("cmd.exe", false);
        assert!(n.has("C:\\cmd.exe /c", true, true));
        assert!(!n.has("xcmd.exe", true, true));
        let n = Needle::new("who", false);
        assert!(n.has("whoami", true, false), "hasprefix");
        assert!(!n.has("whoami", true, true));
        let n = Needle::new("ä", false);
        assert!(n.has("x Ä y", true, true));
    }

    #[test]
    fn contains_and_affixes() {
        let n = Needle::new("ENC", false);
        assert!(n.contains("powershell -enc abc"));
        assert!(!Needle::new("ENC", true).contains("powershell -enc abc"));
        assert!(Needle::new(".EXE", false).ends_with("cmd.exe"));
        assert!(Needle::new("HOST", false).starts_with("host-001"));
        assert!(eq_ci("Straße", "STRASSE") == ("straße" == "strasse"));
    }
}
