//! Phased rollout: what `rollout: shadow | canary | active` means for a definition in an
//! environment, and how canary scoping is written into a query.
//!
//! Shared by validation (policy checks; the scoped query must still bind), compilation (the
//! payloads) and the gate (promotion evidence). Pure: no IO.
//!
//! - **shadow**: the rule runs and raises alerts, but with incident creation off, severity
//!   Informational and its name prefixed `[shadow]`. Shadow alerts still land in
//!   `SecurityAlert`, so alert-triggered automation (playbooks on alert creation, exports) sees
//!   them.
//! - **canary**: the query as written, limited to the entities of the canary watchlist
//!   (`[policy.rollout] canary_watchlist`), on the column of the rule's first entity mapping of
//!   a canary entity type (`canary_entities`, in that order of preference).
//! - **active**: as written. A definition without `rollout` is active.

use serde::Serialize;

use crate::config::RolloutPolicy;
use crate::model::{Definition, Item, Rollout, Rule};

/// The name of the let-bound canary entity list in scoped queries.
pub const CANARY_LET: &str = "_vigil_canary";

/// The rollout stage of a definition in an environment (`None`: the definition as written):
/// the environment's `rollout` override, else `rollout`, else active.
pub fn effective(def: &Definition, env: Option<&str>) -> Rollout {
    let over = env.and_then(|e| def.environments()?.get(e)?.rollout);
    over.or(def.rollout()).unwrap_or(Rollout::Active)
}

/// The stages a definition declares: `(None, base)` then `(Some(env), stage)` for every
/// environment that overrides it, in file order.
pub fn declared(def: &Definition) -> Vec<(Option<String>, Rollout)> {
    let mut out = vec![(None, def.rollout().unwrap_or(Rollout::Active))];
    for (env, o) in def.environments().into_iter().flatten() {
        if let Some(r) = o.rollout {
            out.push((Some(env.clone()), r));
        }
    }
    out
}

/// The lower-case name of a stage.
pub fn name(r: Rollout) -> &'static str {
    match r {
        Rollout::Shadow => "shadow",
        Rollout::Canary => "canary",
        Rollout::Active => "active",
    }
}

/// Order of trust: shadow < canary < active.
pub fn rank(r: Rollout) -> u8 {
    match r {
        Rollout::Shadow => 0,
        Rollout::Canary => 1,
        Rollout::Active => 2,
    }
}

/// How a canary rule is scoped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryScope {
    /// Alias of the canary watchlist.
    pub watchlist: String,
    /// The entity type whose mapping gave the column.
    pub entity_type: String,
    /// The result column compared with the watchlist's SearchKey.
    pub column: String,
}

/// The canary scope of a rule: the first entity mapping of the first `canary_entities` type
/// (case-insensitive), its first field mapping's column. `None` when no mapping qualifies.
pub fn canary_scope(rule: &Rule, policy: &RolloutPolicy) -> Option<CanaryScope> {
    let mappings = rule.entity_mappings.as_deref().unwrap_or(&[]);
    policy.canary_entities.iter().find_map(|want| {
        let m = mappings
            .iter()
            .find(|m| m.entity_type.eq_ignore_ascii_case(want))?;
        let f = m.field_mappings.first()?;
        Some(CanaryScope {
            watchlist: policy.canary_watchlist.clone(),
            entity_type: m.entity_type.clone(),
            column: f.column_name.clone(),
        })
    })
}

/// The query limited to the canary entities:
///
/// ```text
/// let _vigil_canary = _GetWatchlist('<alias>') | project SearchKey;
/// <query>
/// | where <column> in~ (_vigil_canary)
/// ```
///
/// The filter goes right after the query's last statement (before a trailing `;` or comment).
pub fn scoped_query(query: &str, scope: &CanaryScope) -> String {
    let parse = crate::kql::parse(query);
    let tree = &parse.tree;
    let end = tree
        .child_nodes(tree.root)
        .into_iter()
        .rfind(|&n| tree.node(n).kind == crate::kql::syntax::NodeKind::ExprStatement)
        .and_then(|n| tree.node_range(n))
        .map(|(_, e)| e as usize)
        .unwrap_or_else(|| query.trim_end().len());
    let alias = scope.watchlist.replace('\\', "\\\\").replace('\'', "\\'");
    format!(
        "let {CANARY_LET} = _GetWatchlist('{alias}') | project SearchKey;\n{}\n| where {} in~ ({CANARY_LET}){}",
        &query[..end],
        scope.column,
        &query[end..]
    )
}

/// The rule of a definition, if it is one.
pub fn rule(def: &Definition) -> Option<&Rule> {
    match &def.item {
        Item::Rule(r) => Some(r),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> CanaryScope {
        CanaryScope {
            watchlist: "vigil_canary".into(),
            entity_type: "Account".into(),
            column: "UserPrincipalName".into(),
        }
    }

    #[test]
    fn scoping_appends_after_the_last_statement() {
        let q = "let x = 1;\nSigninLogs\n| where ResultType == \"0\"\n";
        assert_eq!(
            scoped_query(q, &scope()),
            "let _vigil_canary = _GetWatchlist('vigil_canary') | project SearchKey;\nlet x = 1;\nSigninLogs\n| where ResultType == \"0\"\n| where UserPrincipalName in~ (_vigil_canary)\n"
        );
        // A trailing semicolon and comment stay after the filter.
        let q = "SigninLogs | take 1; // done";
        assert_eq!(
            scoped_query(q, &scope()),
            "let _vigil_canary = _GetWatchlist('vigil_canary') | project SearchKey;\nSigninLogs | take 1\n| where UserPrincipalName in~ (_vigil_canary); // done"
        );
    }

    #[test]
    fn scoped_queries_parse() {
        for q in [
            "SigninLogs | project UserPrincipalName",
            "let a = 1h;\nSigninLogs\n| where TimeGenerated > ago(a)\n// trailing comment\n",
        ] {
            let s = scoped_query(q, &scope());
            let p = crate::kql::parse(&s);
            assert!(p.errors.is_empty(), "{s}: {:?}", p.errors);
        }
    }
}
