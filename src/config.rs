//! `vigil.toml`: the one configuration file at a content repository's root.
//!
//! Every key has a default, so a repository without the file works. Sections owned by later
//! stages (`[sandbox]`, `[schemas]`) are accepted and kept as raw tables until those stages
//! read them; `[policy]` is typed here ([`Policy`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diagnostics::{code, Diagnostic};
use crate::model::ContentKind;
use crate::source::{FileId, Span};

/// Folder names (any path component, case-insensitive) that decide each content kind.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ContentFolders {
    pub rules: Vec<String>,
    pub hunts: Vec<String>,
    pub functions: Vec<String>,
    pub anomalies: Vec<String>,
    pub watchlists: Vec<String>,
    /// Paths (relative to the root, `/`-separated prefixes) that are never content.
    pub exclude: Vec<String>,
}

impl Default for ContentFolders {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        ContentFolders {
            rules: v(&[
                "detections",
                "rules",
                "analytic rules",
                "analytics rules",
                "analytical rules",
                "detection queries",
            ]),
            hunts: v(&["hunts", "hunting queries", "hunting"]),
            functions: v(&["functions"]),
            anomalies: v(&["anomalies"]),
            watchlists: v(&["watchlists"]),
            exclude: Vec::new(),
        }
    }
}

impl ContentFolders {
    /// Whether a root-relative path is excluded.
    pub fn excluded(&self, rel: &std::path::Path) -> bool {
        let rel = rel.to_string_lossy().replace('\\', "/");
        self.exclude.iter().any(|e| {
            let e = e.trim_end_matches('/');
            rel == e || rel.starts_with(&format!("{e}/"))
        })
    }

    pub fn all(&self) -> [(ContentKind, &Vec<String>); 5] {
        [
            (ContentKind::Rule, &self.rules),
            (ContentKind::Hunt, &self.hunts),
            (ContentKind::Function, &self.functions),
            (ContentKind::Anomaly, &self.anomalies),
            (ContentKind::Watchlist, &self.watchlists),
        ]
    }
}

/// Identity of the repository that manages the deployed content.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Project {
    /// Owner id written into each item's metadata, so `plan` only deletes what this repo owns.
    pub id: String,
    /// Author name written into metadata for human content.
    pub author: String,
}

impl Default for Project {
    fn default() -> Self {
        Project {
            id: "vigil".into(),
            author: "vigil".into(),
        }
    }
}

/// api-versions used in payloads and templates, per resource type.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ApiVersions {
    /// Scheduled rules without preview-only fields.
    pub scheduled: String,
    /// NRT rules and rules that use preview-only fields (subTechniques, sentinelEntitiesMappings).
    pub preview: String,
    pub saved_searches: String,
    pub anomalies: String,
    pub watchlists: String,
    pub metadata: String,
}

impl Default for ApiVersions {
    fn default() -> Self {
        ApiVersions {
            scheduled: "2025-09-01".into(),
            preview: "2025-07-01-preview".into(),
            saved_searches: "2025-07-01".into(),
            anomalies: "2025-09-01".into(),
            watchlists: "2025-09-01".into(),
            metadata: "2025-09-01".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CompileConfig {
    pub api_versions: ApiVersions,
    /// Append the provenance footer to descriptions.
    pub provenance_footer: bool,
    /// Resources per combined ARM template (ARM allows 800).
    pub max_resources_per_template: usize,
    /// Bytes per combined ARM template (ARM allows 4 MB).
    pub max_template_bytes: usize,
}

impl Default for CompileConfig {
    fn default() -> Self {
        CompileConfig {
            api_versions: ApiVersions::default(),
            provenance_footer: true,
            max_resources_per_template: 800,
            max_template_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ValidateConfig {
    /// Files larger than this are rejected unread (VG002).
    pub max_file_size: u64,
}

impl Default for ValidateConfig {
    fn default() -> Self {
        ValidateConfig {
            max_file_size: 1024 * 1024,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub project: Project,
    pub content: ContentFolders,
    pub compile: CompileConfig,
    pub validate: ValidateConfig,
    /// `[environments.NAME]`; read fully by the deploy stage.
    pub environments: BTreeMap<String, toml::Value>,
    /// `[policy]`: AI provenance, review, allowlists and rollout promotion.
    pub policy: Policy,
    /// Severity per diagnostic code or name: `KQL302 = "warning"`, `contains_where_has_serves = "off"`.
    pub lints: BTreeMap<String, String>,
    pub sandbox: Option<toml::Value>,
    pub schemas: Option<toml::Value>,
}

/// Which definitions need a `review:` block.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewScope {
    /// AI-drafted content (`provenance.origin: ai`) only.
    Ai,
    /// Every definition.
    All,
    /// No definition (reviews present are still checked).
    None,
}

/// `[policy]`: what AI-drafted content must carry and may do, who may approve, and how content
/// is promoted from shadow to canary to active. Every key has a default.
#[derive(Clone, Debug, Deserialize, PartialEq, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Models AI content may name in `provenance.model`. Empty: any model. An entry ending in
    /// `*` matches by prefix (`gpt-5*`). Compared case-insensitively.
    pub models: Vec<String>,
    /// Cross-resource references queries may make, as `kind:target` (`workspace:contoso-shared`,
    /// `app:...`, `resource:/subscriptions/...`, `adx:...`, `cluster:...`, `database:...`,
    /// `externaldata:https://...`) or `kind:*`. Allowed references raise no KQL307 warning; in AI
    /// content a reference outside the list is an error (POL004).
    pub cross_resource: Vec<String>,
    /// KQL constructs AI content may not use (POL005): an operator keyword (`externaldata`,
    /// `evaluate`), a plugin (`evaluate:http_request`), or a function (`name()`).
    pub ai_denied: Vec<String>,
    pub review: ReviewPolicy,
    pub rollout: RolloutPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            models: Vec::new(),
            cross_resource: Vec::new(),
            ai_denied: [
                "externaldata",
                "evaluate:http_request",
                "evaluate:http_request_post",
                "evaluate:sql_request",
                "evaluate:cosmosdb_sql_request",
                "evaluate:mysql_request",
                "evaluate:postgresql_request",
                "evaluate:azure_digital_twins_query_request",
                "evaluate:python",
                "evaluate:r",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            review: ReviewPolicy::default(),
            rollout: RolloutPolicy::default(),
        }
    }
}

/// `[policy.review]`.
#[derive(Clone, Debug, Deserialize, PartialEq, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewPolicy {
    /// Which definitions need `review:` (POL006): `ai` (default), `all` or `none`.
    pub required_for: ReviewScope,
    /// GitHub logins allowed to approve any definition, in addition to the CODEOWNERS of its
    /// path. With neither CODEOWNERS nor this list, any reviewer with write access (owner,
    /// member or collaborator) is allowed.
    pub reviewers: Vec<String>,
    /// Whether CODEOWNERS (read from the pull request's base commit) names allowed reviewers.
    pub codeowners: bool,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            required_for: ReviewScope::Ai,
            reviewers: Vec::new(),
            codeowners: true,
        }
    }
}

/// `[policy.rollout]`: phased rollout (shadow → canary → active).
#[derive(Clone, Debug, Deserialize, PartialEq, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RolloutPolicy {
    /// Alias of the watchlist whose `SearchKey` lists the canary entities.
    pub canary_watchlist: String,
    /// Entity types a canary rule is scoped by, in order of preference: the first entity
    /// mapping of the first listed type gives the column.
    pub canary_entities: Vec<String>,
    /// Days of shadow alerts the promotion evidence must cover.
    pub min_shadow_days: u32,
    /// Budget: most shadow alerts per day (averaged over the window) a rule may raise to be
    /// promoted.
    pub max_shadow_alerts_per_day: f64,
}

impl Default for RolloutPolicy {
    fn default() -> Self {
        RolloutPolicy {
            canary_watchlist: "vigil_canary".into(),
            canary_entities: vec!["Account".into(), "Host".into(), "IP".into()],
            min_shadow_days: 7,
            max_shadow_alerts_per_day: 10.0,
        }
    }
}

/// Parse `vigil.toml`. Errors become diagnostics; the defaults are used for a broken file.
pub fn parse(file: FileId, text: &str) -> (Config, Vec<Diagnostic>) {
    match toml::from_str::<Config>(text) {
        Ok(c) => (c, Vec::new()),
        Err(e) => {
            let span = e
                .span()
                .map(|r| Span::new(file, r.start, r.end))
                .unwrap_or(Span::file_start(file));
            let msg = e.message().to_string();
            (
                Config::default(),
                vec![
                    Diagnostic::new(code::CONFIG_ERROR, span, format!("vigil.toml: {msg}"))
                        .with_hint(
                            "see README.md, section Configuration, for every key and its default",
                        ),
                ],
            )
        }
    }
}
