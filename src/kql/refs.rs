//! What a query reaches for: references outside the workspace (`workspace()`, `app()`,
//! `resource()`, `adx()`, `cluster()`, `database()`, `externaldata`) and the constructs it uses
//! (operators, `evaluate` plugins, function calls).
//!
//! The lint KQL307 and the policy checks (allowlists, constructs denied for AI content) both
//! read the query through these two functions, so "what counts as a reference" is defined once.
//! Works on the syntax tree only, in query byte offsets.

use super::syntax::{NodeKind, SyntaxTree};
use super::walk::LintContext;

/// Functions that read another workspace, application, resource or cluster.
pub const CROSS_RESOURCE_FUNCTIONS: &[&str] =
    &["workspace", "app", "resource", "adx", "cluster", "database"];

/// A reference outside the workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalRef {
    /// `workspace`, `app`, `resource`, `adx`, `cluster`, `database` or `externaldata`.
    pub kind: &'static str,
    /// The first string argument (the workspace name, the URL, ...), when it is a literal.
    pub target: Option<String>,
    pub start: u32,
    pub end: u32,
}

impl ExternalRef {
    /// `kind:target` as allowlists spell it (`workspace:contoso-shared`); `kind:?` when the
    /// target is not a literal.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.target.as_deref().unwrap_or("?"))
    }

    /// Whether an allowlist entry (`kind:target` or `kind:*`, case-insensitive) covers it.
    pub fn allowed_by(&self, entry: &str) -> bool {
        let Some((kind, target)) = entry.split_once(':') else {
            return false;
        };
        if !kind.trim().eq_ignore_ascii_case(self.kind) {
            return false;
        }
        let target = target.trim();
        target == "*"
            || self
                .target
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(target))
    }
}

/// What kind of construct a query uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstructKind {
    /// A tabular operator, by keyword (`externaldata`, `evaluate`, `join`).
    Operator,
    /// An `evaluate` plugin (`http_request`, `bag_unpack`).
    Plugin,
    /// A function call (`tostring`, `workspace`).
    Function,
}

/// One use of a construct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Construct {
    pub kind: ConstructKind,
    pub name: String,
    pub start: u32,
    pub end: u32,
}

impl Construct {
    /// How a deny list spells it: `externaldata`, `evaluate:http_request`, `tostring()`.
    pub fn spelling(&self) -> String {
        match self.kind {
            ConstructKind::Operator => self.name.clone(),
            ConstructKind::Plugin => format!("evaluate:{}", self.name),
            ConstructKind::Function => format!("{}()", self.name),
        }
    }

    /// Whether a deny-list entry names this construct (case-insensitive). `evaluate` denies
    /// the operator and so every plugin.
    pub fn matches(&self, entry: &str) -> bool {
        let e = entry.trim();
        e.eq_ignore_ascii_case(&self.spelling())
            || (self.kind == ConstructKind::Plugin && e.eq_ignore_ascii_case("evaluate"))
    }
}

fn ctx<'a>(text: &'a str, tree: &'a SyntaxTree) -> LintContext<'a> {
    LintContext {
        text,
        tree,
        usage: super::walk::QueryUse::Other,
    }
}

fn first_string(cx: &LintContext<'_>, id: u32) -> Option<String> {
    cx.nodes_under(id)
        .into_iter()
        .find_map(|n| cx.string_value(n).map(|(s, _, _)| s))
}

/// Every reference outside the workspace, in document order.
pub fn external_references(text: &str, tree: &SyntaxTree) -> Vec<ExternalRef> {
    let cx = ctx(text, tree);
    let mut out = Vec::new();
    for id in cx.nodes() {
        let (kind, target) = match cx.kind(id) {
            NodeKind::Call => match cx.call_name(id) {
                Some(n) => match CROSS_RESOURCE_FUNCTIONS
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(n))
                {
                    Some(f) => (
                        *f,
                        cx.call_args(id).first().and_then(|&a| first_string(&cx, a)),
                    ),
                    None => continue,
                },
                None => continue,
            },
            NodeKind::Operator => match cx.operator_keyword(id) {
                Some("externaldata" | "external_data") => {
                    // The URLs follow the schema: the first string not inside it.
                    let schema: Vec<u32> = cx
                        .children(id)
                        .into_iter()
                        .filter(|&c| cx.kind(c) == NodeKind::Schema)
                        .flat_map(|c| cx.nodes_under(c))
                        .collect();
                    let url = cx
                        .nodes_under(id)
                        .into_iter()
                        .filter(|n| !schema.contains(n))
                        .find_map(|n| cx.string_value(n).map(|(s, _, _)| s));
                    ("externaldata", url)
                }
                _ => continue,
            },
            _ => continue,
        };
        let (start, end) = cx.range(id);
        out.push(ExternalRef {
            kind,
            target,
            start,
            end,
        });
    }
    out
}

/// Every operator, `evaluate` plugin and function call of the query, in document order.
pub fn constructs(text: &str, tree: &SyntaxTree) -> Vec<Construct> {
    let cx = ctx(text, tree);
    let mut out = Vec::new();
    for id in cx.nodes() {
        let (start, end) = cx.range(id);
        match cx.kind(id) {
            NodeKind::Operator => {
                let Some(kw) = cx.operator_keyword(id) else {
                    continue;
                };
                out.push(Construct {
                    kind: ConstructKind::Operator,
                    name: kw.to_string(),
                    start,
                    end,
                });
                if kw == "evaluate" {
                    // The plugin is the first call under the operator.
                    if let Some(name) = cx
                        .nodes_under(id)
                        .into_iter()
                        .find(|&n| cx.kind(n) == NodeKind::Call)
                        .and_then(|n| cx.call_name(n))
                    {
                        out.push(Construct {
                            kind: ConstructKind::Plugin,
                            name: name.to_string(),
                            start,
                            end,
                        });
                    }
                }
            }
            NodeKind::Call => {
                if let Some(name) = cx.call_name(id) {
                    out.push(Construct {
                        kind: ConstructKind::Function,
                        name: name.to_string(),
                        start,
                        end,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(q: &str) -> Vec<String> {
        let p = crate::kql::parse(q);
        assert!(p.errors.is_empty(), "{q}: {:?}", p.errors);
        external_references(q, &p.tree)
            .iter()
            .map(|r| r.key())
            .collect()
    }

    fn uses(q: &str) -> Vec<String> {
        let p = crate::kql::parse(q);
        assert!(p.errors.is_empty(), "{q}: {:?}", p.errors);
        constructs(q, &p.tree)
            .iter()
            .map(|c| c.spelling())
            .collect()
    }

    #[test]
    fn finds_references_with_their_targets() {
        assert_eq!(
            refs("union workspace('shared').SigninLogs, app(\"x\").requests | take 1"),
            ["workspace:shared", "app:x"]
        );
        assert_eq!(
            refs("externaldata(ip:string)[@'https://example.org/x.csv'] with (format='csv') | take 1"),
            ["externaldata:https://example.org/x.csv"]
        );
        let name = "let w = 'a'; workspace(w).T | take 1";
        assert_eq!(refs(name), ["workspace:?"]);
        assert!(refs("_GetWatchlist('BadIPs') | take 1").is_empty());
    }

    #[test]
    fn allowlist_entries_match_kind_and_target() {
        let r = ExternalRef {
            kind: "workspace",
            target: Some("Shared".into()),
            start: 0,
            end: 0,
        };
        assert!(r.allowed_by("workspace:shared"));
        assert!(r.allowed_by("workspace:*"));
        assert!(!r.allowed_by("workspace:other"));
        assert!(!r.allowed_by("app:*"));
        assert!(!r.allowed_by("workspace"));
    }

    #[test]
    fn lists_operators_plugins_and_calls() {
        let u = uses("T | evaluate bag_unpack(d) | extend x = tostring(y)");
        assert!(u.contains(&"evaluate".to_string()), "{u:?}");
        assert!(u.contains(&"evaluate:bag_unpack".to_string()), "{u:?}");
        assert!(u.contains(&"tostring()".to_string()), "{u:?}");
        assert!(u.contains(&"extend".to_string()), "{u:?}");
        let c = Construct {
            kind: ConstructKind::Plugin,
            name: "http_request".into(),
            start: 0,
            end: 0,
        };
        assert!(c.matches("evaluate:HTTP_request"));
        assert!(c.matches("evaluate"));
        assert!(!c.matches("evaluate:python"));
    }
}
