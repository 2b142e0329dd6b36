//! `vigil.toml`: the one configuration file at a content repository's root.
//!
//! Every section is a typed struct, and every key has a default, so a repository without the
//! file works. [`parse`] reads the file and reports every problem it finds in one run as a
//! diagnostic at `vigil.toml:line:col` naming the key path: TOML syntax, a value of the wrong
//! type or out of range, an unknown key (with a did-you-mean from the known keys of that
//! table). A broken file never silently falls back to the defaults: callers treat any error as
//! fatal (`ops::Context` refuses to run a command over it).
//!
//! The JSON Schema of the file (`schemas/vigil.toml.schema.json`, drift-tested) is generated
//! from these types, and the did-you-mean of unknown keys reads the same schema, so the
//! editor, the documentation and the loader agree on the keys.
//!
//! This module must not read files or the process environment: it parses text it is given.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diagnostics::{code, Diagnostic};
use crate::source::{FileId, Span};

/// Folder names (any path component, case-insensitive) that decide each content kind.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct ContentFolders {
    /// Folders of analytics rules.
    pub rules: Vec<String>,
    /// Folders of hunting queries.
    pub hunts: Vec<String>,
    /// Folders of workspace functions (parsers).
    pub functions: Vec<String>,
    /// Folders of anomaly (ML analytics) settings.
    pub anomalies: Vec<String>,
    /// Folders of watchlists.
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
        let rel = crate::diagnostics::render::display_path(rel);
        self.exclude.iter().any(|e| {
            let e = e.trim_end_matches('/');
            rel == e || rel.starts_with(&format!("{e}/"))
        })
    }
}

/// Identity of the repository that manages the deployed content.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
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
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct ApiVersions {
    /// Scheduled rules without preview-only fields.
    pub scheduled: String,
    /// NRT rules and rules that use preview-only fields (subTechniques, sentinelEntitiesMappings).
    pub preview: String,
    /// Hunting queries and functions (`savedSearches`).
    pub saved_searches: String,
    /// Anomaly settings (`securityMLAnalyticsSettings`).
    pub anomalies: String,
    /// Watchlists.
    pub watchlists: String,
    /// Content metadata.
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

/// Per-environment api-version overrides: each key set replaces `[compile.api_versions]`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct ApiVersionOverrides {
    pub scheduled: Option<String>,
    pub preview: Option<String>,
    pub saved_searches: Option<String>,
    pub anomalies: Option<String>,
    pub watchlists: Option<String>,
    pub metadata: Option<String>,
}

impl ApiVersionOverrides {
    /// `base` with these overrides applied.
    pub fn apply(&self, base: &ApiVersions) -> ApiVersions {
        let pick = |o: &Option<String>, b: &String| o.clone().unwrap_or_else(|| b.clone());
        ApiVersions {
            scheduled: pick(&self.scheduled, &base.scheduled),
            preview: pick(&self.preview, &base.preview),
            saved_searches: pick(&self.saved_searches, &base.saved_searches),
            anomalies: pick(&self.anomalies, &base.anomalies),
            watchlists: pick(&self.watchlists, &base.watchlists),
            metadata: pick(&self.metadata, &base.metadata),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
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

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
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

/// How an environment authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// vigil's credential chain over azure_identity (environment variables decide which).
    Azure,
    /// No credential (the emulator).
    None,
}

/// One target workspace of an environment.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// The Log Analytics workspace name.
    pub name: String,
    /// Subscription id.
    pub subscription: String,
    /// Resource group.
    pub resource_group: String,
    /// Entra tenant (optional).
    #[serde(default)]
    pub tenant: Option<String>,
    /// The workspace GUID (customer id); read from ARM when absent.
    #[serde(default)]
    pub workspace_id: Option<String>,
}

impl Workspace {
    /// ARM path of the workspace (no leading slash).
    pub fn path(&self) -> String {
        format!(
            "subscriptions/{}/resourceGroups/{}/providers/Microsoft.OperationalInsights/workspaces/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    /// The resource id (`/subscriptions/...`).
    pub fn id(&self) -> String {
        format!("/{}", self.path())
    }

    /// `resource_group/name`, for messages and file names.
    pub fn label(&self) -> String {
        format!("{}/{}", self.resource_group, self.name)
    }
}

/// `[environments.NAME]`: where an environment deploys and how (see `deploy::env`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// ARM base URL (default `https://management.azure.com`); `emulator` is the local emulator.
    pub endpoint: Option<String>,
    /// Log Analytics query API base URL (default `https://api.loganalytics.io`).
    pub query_endpoint: Option<String>,
    /// `azure` (the credential chain; default) or `none`.
    pub auth: Option<Auth>,
    /// Requests in flight per workspace (default 8).
    pub concurrency: Option<usize>,
    /// An apply deleting more than this is refused (default 10).
    pub max_deletions: Option<usize>,
    /// Overrides of `[compile.api_versions]` for this environment.
    pub api_versions: ApiVersionOverrides,
    /// The workspaces the environment deploys to.
    pub workspaces: Vec<Workspace>,
    /// Hosts beyond Azure's own (ARM, the Log Analytics query API) that may receive this
    /// environment's tokens, as `host` or `*.suffix` (a private endpoint, Azure Stack).
    pub token_hosts: Vec<String>,
}

/// A diagnostic's severity as `[lints]` sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LintLevel {
    Off,
    Note,
    Warning,
    Error,
}

impl LintLevel {
    /// The severity, or `None` for `off`.
    pub fn severity(self) -> Option<crate::diagnostics::Severity> {
        use crate::diagnostics::Severity;
        match self {
            LintLevel::Off => None,
            LintLevel::Note => Some(Severity::Note),
            LintLevel::Warning => Some(Severity::Warning),
            LintLevel::Error => Some(Severity::Error),
        }
    }
}

/// A datetime written as a TOML datetime (`2026-01-01T00:00:00Z`) or a string.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct DateTimeText(pub String);

impl<'de> Deserialize<'de> for DateTimeText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Toml(toml::value::Datetime),
        }
        match Raw::deserialize(d) {
            Ok(Raw::Text(s)) => Ok(DateTimeText(s)),
            Ok(Raw::Toml(t)) => Ok(DateTimeText(t.to_string())),
            Err(_) => Err(serde::de::Error::custom(
                "expected a datetime such as 2026-01-01T00:00:00Z",
            )),
        }
    }
}

impl JsonSchema for DateTimeText {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateTimeText".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// `[sandbox]`: the local sample data and its pinned clock.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct SandboxSettings {
    /// Folder of table files, relative to the repository root.
    pub data: PathBuf,
    /// The pinned clock: `now()` and `ago()` in the sandbox, and the end of the dry-run window.
    pub now: DateTimeText,
    /// Days of data `vigil sandbox init` generates and dry-runs replay (1 to 90).
    pub days: i64,
    /// Seed of the sample-data generator.
    pub seed: u64,
    /// Alerts per day above which a dry-run flags a rule.
    pub alert_budget_per_day: f64,
    /// A MaxMind City database (`.mmdb`, e.g. GeoLite2-City) for `geo_info_from_ip_address()`,
    /// relative to the repository root and inside it; vigil bundles none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geoip: Option<PathBuf>,
}

/// The default pinned clock of the sandbox.
pub const DEFAULT_NOW: &str = "2026-01-01T00:00:00Z";

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            data: PathBuf::from("sandbox"),
            now: DateTimeText(DEFAULT_NOW.into()),
            days: 7,
            seed: 42,
            alert_budget_per_day: 10.0,
            geoip: None,
        }
    }
}

/// `[engine]`: the budget of every query the embedded engine runs (sandbox queries, tests,
/// dry-runs, the emulator's query API). Trusted configuration: a pull request cannot raise it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct EngineConfig {
    /// Most rows one operator may produce.
    pub max_rows: usize,
    /// Most estimated memory of one table, in MiB.
    pub max_memory_mb: u64,
    /// Wall-clock seconds one query may run.
    pub query_timeout_secs: u64,
    /// Wall-clock seconds a whole run (every rule of a dry-run, every test) may take.
    pub run_timeout_secs: u64,
    /// Most function bodies one query may evaluate.
    pub max_function_calls: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_rows: 10_000_000,
            max_memory_mb: 2048,
            query_timeout_secs: 30,
            run_timeout_secs: 1800,
            max_function_calls: 10_000,
        }
    }
}

/// `[schemas]`: tables and columns the embedded catalog lacks.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct SchemasConfig {
    /// `Table = { Column = "type" }`: custom tables, or columns missing from the embedded lists.
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct Config {
    pub project: Project,
    pub content: ContentFolders,
    pub compile: CompileConfig,
    pub validate: ValidateConfig,
    /// `[environments.NAME]`: deployment targets.
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// `[policy]`: AI provenance, review, allowlists and rollout promotion.
    pub policy: Policy,
    /// Severity per diagnostic code or name: `KQL302 = "warning"`, `contains_where_has_serves = "off"`.
    pub lints: BTreeMap<String, LintLevel>,
    pub sandbox: SandboxSettings,
    pub schemas: SchemasConfig,
    /// `[engine]`: query budgets (trusted).
    pub engine: EngineConfig,
    /// `[ai]`: the model endpoint `vigil draft` uses (trusted).
    pub ai: AiConfig,
    /// `[tune]`: how `vigil tune` proposes changes.
    pub tune: TuneConfig,
}

/// How `vigil tune rule` writes exclusions.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExclusionForm {
    /// A per-rule exclusion watchlist (`watchlists/<rule>_exclusions.yaml` + CSV) the query
    /// reads with `_GetWatchlist`.
    #[default]
    Watchlist,
    /// An inline `!in~ (...)` filter in the query.
    Inline,
}

/// `[tune]`: tuning proposals from incident outcomes (`vigil tune`).
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct TuneConfig {
    pub exclusions: ExclusionForm,
    /// FP/BP incidents an entity must appear in before it is proposed for exclusion.
    pub min_support: usize,
    /// Most event rows a backtest fetches through the query API (the whole window, paged by day).
    pub max_fetch_rows: usize,
}

impl Default for TuneConfig {
    fn default() -> Self {
        TuneConfig {
            exclusions: ExclusionForm::Watchlist,
            min_support: 3,
            max_fetch_rows: 2_000_000,
        }
    }
}

/// Which kind of endpoint `[ai]` names.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AiProvider {
    Openai,
    AzureOpenai,
    /// Ollama, vLLM, llama.cpp and other servers of the OpenAI chat completions API.
    #[default]
    OpenaiCompatible,
}

/// `[ai]`: the chat-completions endpoint `vigil draft` asks (trusted configuration: in CI it
/// comes from the base branch). `http://` is accepted for loopback hosts only.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct AiConfig {
    pub provider: AiProvider,
    /// e.g. `http://127.0.0.1:11434/v1`, `https://api.openai.com/v1`,
    /// `https://NAME.openai.azure.com/openai/deployments/DEPLOYMENT`.
    pub base_url: String,
    /// The model (the deployment name for azure-openai).
    pub model: String,
    /// The environment variable holding the API key (never printed).
    pub api_key_env: Option<String>,
    /// azure-openai classic deployments.
    pub api_version: Option<String>,
    /// Repair rounds after the first draft.
    pub max_repairs: u32,
    pub temperature: f64,
    pub seed: Option<u64>,
    /// Seconds per request.
    pub timeout_secs: u64,
    /// How the answer's shape is requested: `json-schema` (the draft's JSON schema in
    /// `response_format`, enforced by OpenAI, Azure OpenAI, Ollama >= 0.5, vLLM and llama.cpp),
    /// `json-object` (JSON mode only) or `none`. The answer is checked against the schema
    /// locally whichever is chosen.
    pub response_format: AiResponseFormat,
    /// `[ai.redact]`: what is replaced before sample rows and report text leave the machine.
    pub redact: crate::redact::RedactConfig,
}

/// `[ai] response_format`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AiResponseFormat {
    #[default]
    JsonSchema,
    JsonObject,
    None,
}

impl Default for AiConfig {
    fn default() -> Self {
        AiConfig {
            provider: AiProvider::OpenaiCompatible,
            base_url: String::new(),
            model: String::new(),
            api_key_env: None,
            api_version: None,
            max_repairs: 3,
            temperature: 0.0,
            seed: None,
            timeout_secs: 120,
            response_format: AiResponseFormat::JsonSchema,
            redact: crate::redact::RedactConfig::default(),
        }
    }
}

/// Which definitions need a `review:` block.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Serialize, JsonSchema)]
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
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
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
    pub guard: GuardPolicy,
    /// The gate's trusted stage fails a changed rule whose projected data scanned (one measured
    /// run through the environment's query API with statistics, times its runs per day) exceeds
    /// this many GB a day; without statistics the check says "unknown", never pass. Unset: no
    /// check.
    pub max_scanned_gb_per_day: Option<f64>,
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
            guard: GuardPolicy::default(),
            max_scanned_gb_per_day: None,
        }
    }
}

/// What a tripped circuit breaker does to a rule in the environment.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuardAction {
    /// To shadow: incidents off, alerts kept.
    #[default]
    Demote,
    /// `enabled: false`.
    Disable,
}

/// `[policy.guard]`: circuit breakers for every rule (`vigil guard`); a rule's `guard:` block
/// overrides each key. A limit that is not set is not checked.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct GuardPolicy {
    /// Trip when a rule raises more alerts than this on one day of the window.
    pub max_alerts_per_day: Option<u32>,
    /// Trip when FP / (TP + BP + FP) over closed incidents exceeds this (0 to 1)...
    pub max_fp_rate: Option<f64>,
    /// ... and at least this many incidents were closed (no verdict on a handful).
    pub min_closed: u32,
    /// Trip when more runs than this failed in the window.
    pub max_failed_runs: Option<u32>,
    /// `demote` (to shadow) or `disable`.
    pub action: GuardAction,
    /// The window the breakers look at (`7d`, `24h`).
    pub window: String,
}

impl Default for GuardPolicy {
    fn default() -> Self {
        GuardPolicy {
            max_alerts_per_day: None,
            max_fp_rate: None,
            min_closed: 10,
            max_failed_runs: None,
            action: GuardAction::Demote,
            window: "7d".into(),
        }
    }
}

/// `[policy.review]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
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
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
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
    /// Canary → active: incidents of the canary stage of the current query that must have
    /// been closed (classified) first.
    pub canary_min_closed: u32,
    /// Canary → active: the highest false-positive rate FP / (TP + BP + FP) over them.
    pub canary_max_fp_rate: f64,
}

impl Default for RolloutPolicy {
    fn default() -> Self {
        RolloutPolicy {
            canary_watchlist: "vigil_canary".into(),
            canary_entities: vec!["Account".into(), "Host".into(), "IP".into()],
            min_shadow_days: 7,
            max_shadow_alerts_per_day: 10.0,
            canary_min_closed: 10,
            canary_max_fp_rate: 0.3,
        }
    }
}

/// The JSON Schema of `vigil.toml`, generated from [`Config`].
pub fn json_schema() -> serde_json::Value {
    let mut v = schemars::schema_for!(Config).to_value();
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "$id".into(),
            serde_json::json!("https://vigil.dev/schemas/vigil.toml.schema.json"),
        );
        o.insert("title".into(), serde_json::json!("vigil.toml"));
    }
    v
}

/// The committed file name of [`json_schema`] under `schemas/`.
pub const SCHEMA_FILE: &str = "vigil.toml.schema.json";

/// [`json_schema`] as committed (pretty, newline-terminated).
pub fn render_schema() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_text(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                if k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    s.push_str(k);
                } else {
                    s.push_str(&format!("\"{k}\""));
                }
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Where a key path is in the file: the key (for unknown keys) or the value (for bad values).
/// Falls back on the nearest ancestor that has a span.
fn locate(
    doc: &toml_edit::ImDocument<&str>,
    path: &[Seg],
    want_key: bool,
) -> Option<(usize, usize)> {
    locate_in(doc.as_item(), path, want_key, None)
}

fn locate_in(
    item: &toml_edit::Item,
    path: &[Seg],
    want_key: bool,
    best: Option<(usize, usize)>,
) -> Option<(usize, usize)> {
    let Some((seg, rest)) = path.split_first() else {
        return best;
    };
    let span = |r: Option<std::ops::Range<usize>>| r.map(|r| (r.start, r.end));
    match seg {
        Seg::Key(k) => {
            let Some((key, value)) = item.as_table_like().and_then(|t| t.get_key_value(k)) else {
                return best;
            };
            if rest.is_empty() && want_key {
                if let Some(r) = span(key.span()) {
                    return Some(r);
                }
            }
            let here = span(value.span()).or_else(|| span(key.span())).or(best);
            locate_in(value, rest, want_key, here)
        }
        Seg::Index(n) => match item {
            toml_edit::Item::ArrayOfTables(a) => match a.get(*n) {
                Some(t) => {
                    // An entry of an array of tables is a table: walk it as an item.
                    let here = span(t.span()).or(best);
                    let as_item = toml_edit::Item::Table(t.clone());
                    locate_in(&as_item, rest, want_key, here)
                }
                None => best,
            },
            toml_edit::Item::Value(toml_edit::Value::Array(a)) => match a.get(*n) {
                Some(v) => {
                    let here = span(v.span()).or(best);
                    locate_in(&toml_edit::Item::Value(v.clone()), rest, want_key, here)
                }
                None => best,
            },
            _ => best,
        },
    }
}

/// The known keys of the table at `path`, read from the JSON Schema.
fn known_keys(schema: &serde_json::Value, path: &[Seg]) -> Vec<String> {
    let defs = schema.get("$defs").cloned().unwrap_or_default();
    let resolve = |v: &serde_json::Value| -> serde_json::Value {
        let mut v = v.clone();
        for _ in 0..8 {
            let r = v
                .get("$ref")
                .and_then(|r| r.as_str())
                .and_then(|r| r.rsplit('/').next())
                .and_then(|n| defs.get(n))
                .cloned();
            match r {
                Some(next) => v = next,
                None => break,
            }
            // `Option<T>` comes as anyOf [T, null].
        }
        if let Some(first) = v
            .get("anyOf")
            .and_then(|a| a.as_array())
            .and_then(|a| a.iter().find(|b| b.get("$ref").is_some()))
        {
            let name = first["$ref"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("");
            if let Some(d) = defs.get(name) {
                return d.clone();
            }
        }
        v
    };
    let mut cur = resolve(schema);
    for seg in path {
        cur = match seg {
            Seg::Key(k) => match cur.get("properties").and_then(|p| p.get(k)) {
                Some(p) => resolve(p),
                None => match cur.get("additionalProperties") {
                    Some(a) if a.is_object() => resolve(a),
                    _ => return Vec::new(),
                },
            },
            Seg::Index(_) => match cur.get("items") {
                Some(i) => resolve(i),
                None => return Vec::new(),
            },
        };
    }
    cur.get("properties")
        .and_then(|p| p.as_object())
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// The closest of `known` to `name`, when it is close enough to be a likely typo.
fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    crate::diagnostics::did_you_mean(name, known).map(str::to_string)
}

fn ignored_path(p: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    use serde_ignored::Path;
    match p {
        Path::Root => {}
        Path::Seq { parent, index } => {
            ignored_path(parent, out);
            out.push(Seg::Index(*index));
        }
        Path::Map { parent, key } => {
            ignored_path(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent, out),
    }
}

/// Collects the problems of one parse.
struct Report<'a> {
    file: FileId,
    doc: &'a toml_edit::ImDocument<&'a str>,
    schema: serde_json::Value,
    diags: Vec<Diagnostic>,
}

impl Report<'_> {
    fn at(&self, path: &[Seg], key: bool) -> Span {
        match locate(self.doc, path, key) {
            Some((s, e)) => Span::new(self.file, s, e),
            None => Span::file_start(self.file),
        }
    }

    fn error(&mut self, path: &[Seg], key: bool, message: String, hint: Option<String>) {
        let mut d = Diagnostic::new(code::CONFIG_ERROR, self.at(path, key), message);
        d.hint = hint;
        self.diags.push(d);
    }

    fn unknown_key(&mut self, path: Vec<Seg>) {
        let Some(Seg::Key(name)) = path.last().cloned() else {
            return;
        };
        let parent = &path[..path.len() - 1];
        let known = known_keys(&self.schema, parent);
        let where_ = if parent.is_empty() {
            "vigil.toml".to_string()
        } else {
            format!("[{}]", path_text(parent))
        };
        let hint = match did_you_mean(&name, known.iter().map(String::as_str)) {
            Some(k) => Some(format!("did you mean `{k}`?")),
            None if !known.is_empty() => Some(format!("known keys: {}", known.join(", "))),
            None => None,
        };
        self.error(
            &path,
            true,
            format!("vigil.toml: unknown key `{}` in {where_}", path_text(&path)),
            hint,
        );
    }

    /// Deserialize a section that maps names to values entry by entry, so one bad entry does
    /// not hide the others (`[lints]`, `[environments.*]`).
    fn map_section<T: serde::de::DeserializeOwned + Default>(
        &mut self,
        key: &str,
        value: toml::Value,
    ) -> BTreeMap<String, T> {
        let toml::Value::Table(t) = value else {
            return self.section(key, value);
        };
        t.into_iter()
            .map(|(k, v)| {
                let parsed = self.entry(&[Seg::Key(key.to_string()), Seg::Key(k.clone())], v);
                (k, parsed)
            })
            .collect()
    }

    /// Deserialize one top-level section, recording unknown keys and the first bad value.
    fn section<T: serde::de::DeserializeOwned + Default>(
        &mut self,
        key: &str,
        value: toml::Value,
    ) -> T {
        self.entry(&[Seg::Key(key.to_string())], value)
    }

    /// Deserialize the value at `at`, recording unknown keys and the first bad value.
    fn entry<T: serde::de::DeserializeOwned + Default>(
        &mut self,
        at: &[Seg],
        value: toml::Value,
    ) -> T {
        let mut unknown: Vec<Vec<Seg>> = Vec::new();
        let mut track = serde_path_to_error::Track::new();
        let r = {
            let de = serde_path_to_error::Deserializer::new(value, &mut track);
            serde_ignored::deserialize(de, |p| {
                let mut segs = at.to_vec();
                ignored_path(&p, &mut segs);
                unknown.push(segs);
            })
        };
        for u in unknown {
            self.unknown_key(u);
        }
        match r {
            Ok(v) => v,
            Err(e) => {
                let mut path = at.to_vec();
                for seg in track.path().iter() {
                    match seg {
                        serde_path_to_error::Segment::Map { key } => {
                            path.push(Seg::Key(key.clone()))
                        }
                        serde_path_to_error::Segment::Seq { index } => {
                            path.push(Seg::Index(*index))
                        }
                        _ => {}
                    }
                }
                let msg = e.to_string();
                // The toml deserializer appends "in `key`" on a second line; the path says it.
                let mut msg = msg.lines().next().unwrap_or_default().to_string();
                for (rust, words) in [
                    ("expected i64", "expected an integer"),
                    ("expected u64", "expected a non-negative integer"),
                    ("expected usize", "expected a non-negative integer"),
                    ("expected u32", "expected a non-negative integer"),
                    ("expected f64", "expected a number"),
                    ("expected a boolean", "expected true or false"),
                ] {
                    msg = msg.replace(rust, words);
                }
                self.error(
                    &path,
                    false,
                    format!("vigil.toml: `{}`: {msg}", path_text(&path)),
                    Some(
                        "see README.md, section Configuration, for every key and its default"
                            .into(),
                    ),
                );
                T::default()
            }
        }
    }
}

/// Parse `vigil.toml`. Every problem becomes a located diagnostic (code VG403); the returned
/// configuration then holds the defaults for the parts that failed and must not be used.
pub fn parse(file: FileId, text: &str) -> (Config, Vec<Diagnostic>) {
    let doc = match toml_edit::ImDocument::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let span = e
                .span()
                .map(|r| Span::new(file, r.start, r.end))
                .unwrap_or(Span::file_start(file));
            let msg = e.message().trim_end().to_string();
            return (
                Config::default(),
                vec![
                    Diagnostic::new(code::CONFIG_ERROR, span, format!("vigil.toml: {msg}"))
                        .with_hint("vigil.toml must be valid TOML (https://toml.io)"),
                ],
            );
        }
    };
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let span = e
                .span()
                .map(|r| Span::new(file, r.start, r.end))
                .unwrap_or(Span::file_start(file));
            return (
                Config::default(),
                vec![Diagnostic::new(
                    code::CONFIG_ERROR,
                    span,
                    format!("vigil.toml: {}", e.message().trim_end()),
                )],
            );
        }
    };
    let mut r = Report {
        file,
        doc: &doc,
        schema: json_schema(),
        diags: Vec::new(),
    };
    let mut c = Config::default();
    for (key, value) in table {
        match key.as_str() {
            "project" => c.project = r.section(&key, value),
            "content" => c.content = r.section(&key, value),
            "compile" => c.compile = r.section(&key, value),
            "validate" => c.validate = r.section(&key, value),
            "environments" => c.environments = r.map_section(&key, value),
            "policy" => c.policy = r.section(&key, value),
            "lints" => {
                c.lints = r
                    .map_section::<Option<LintLevel>>(&key, value)
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect()
            }
            "sandbox" => c.sandbox = r.section(&key, value),
            "schemas" => c.schemas = r.section(&key, value),
            "engine" => c.engine = r.section(&key, value),
            "ai" => c.ai = r.section(&key, value),
            "tune" => c.tune = r.section(&key, value),
            _ => r.unknown_key(vec![Seg::Key(key.clone())]),
        }
    }
    check_values(&c, &mut r);
    let mut diags = r.diags;
    crate::diagnostics::sort(&mut diags);
    (c, diags)
}

/// Values that deserialize but are out of range or name something that does not exist.
fn check_values(c: &Config, r: &mut Report<'_>) {
    let key =
        |parts: &[&str]| -> Vec<Seg> { parts.iter().map(|p| Seg::Key(p.to_string())).collect() };
    let s = &c.sandbox;
    if !(1..=90).contains(&s.days) {
        r.error(
            &key(&["sandbox", "days"]),
            false,
            format!(
                "vigil.toml: `sandbox.days` is {}; it must be from 1 to 90",
                s.days
            ),
            None,
        );
    }
    if !(s.alert_budget_per_day >= 0.0 && s.alert_budget_per_day.is_finite()) {
        r.error(
            &key(&["sandbox", "alert_budget_per_day"]),
            false,
            "vigil.toml: `sandbox.alert_budget_per_day` must be a non-negative number".into(),
            None,
        );
    }
    if let Err((i, e)) = crate::redact::Redactor::new(&c.ai.redact) {
        let (section, n) = if i < c.ai.redact.hosts.len() {
            ("hosts", i)
        } else {
            ("rules", i - c.ai.redact.hosts.len())
        };
        let mut path = key(&["ai", "redact", section]);
        path.push(Seg::Index(n));
        r.error(
            &path,
            false,
            format!(
                "vigil.toml: `ai.redact.{section}[{n}]` is not a valid regular expression: {e}"
            ),
            None,
        );
    }
    let ro = &c.policy.rollout;
    if !(0.0..=1.0).contains(&ro.canary_max_fp_rate) {
        r.error(
            &key(&["policy", "rollout", "canary_max_fp_rate"]),
            false,
            format!(
                "vigil.toml: `policy.rollout.canary_max_fp_rate` is {}; it must be from 0 to 1",
                ro.canary_max_fp_rate
            ),
            None,
        );
    }
    let g = &c.policy.guard;
    if let Some(x) = g.max_fp_rate.filter(|x| !(0.0..=1.0).contains(x)) {
        r.error(
            &key(&["policy", "guard", "max_fp_rate"]),
            false,
            format!("vigil.toml: `policy.guard.max_fp_rate` is {x}; it must be from 0 to 1"),
            None,
        );
    }
    if g.min_closed == 0 {
        r.error(
            &key(&["policy", "guard", "min_closed"]),
            false,
            "vigil.toml: `policy.guard.min_closed` must be at least 1".into(),
            None,
        );
    }
    if g.max_alerts_per_day == Some(0) {
        r.error(
            &key(&["policy", "guard", "max_alerts_per_day"]),
            false,
            "vigil.toml: `policy.guard.max_alerts_per_day` must be at least 1".into(),
            None,
        );
    }
    let window_ok = g.window.len() > 1
        && g.window[..g.window.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_digit())
        && g.window.ends_with(['s', 'm', 'h', 'd'])
        && g.window[..g.window.len() - 1]
            .parse::<u64>()
            .is_ok_and(|n| n > 0);
    if !window_ok {
        r.error(
            &key(&["policy", "guard", "window"]),
            false,
            format!(
                "vigil.toml: `policy.guard.window`: `{}` is not a duration of whole seconds, minutes, hours or days",
                g.window
            ),
            Some("write it as 7d, 24h or 90m".into()),
        );
    }
    if crate::datetime::parse_datetime(&s.now.0).is_none() {
        r.error(
            &key(&["sandbox", "now"]),
            false,
            format!("vigil.toml: `sandbox.now`: `{}` is not a datetime", s.now.0),
            Some("write it as 2026-01-01T00:00:00Z".into()),
        );
    }
    for (name, code) in &c.lints {
        let known = crate::diagnostics::CATALOG
            .iter()
            .any(|i| i.code == name || i.name == name);
        if !known {
            let names = crate::diagnostics::CATALOG
                .iter()
                .flat_map(|i| [i.code, i.name]);
            let hint = match did_you_mean(name, names) {
                Some(k) => format!("did you mean `{k}`?"),
                None => "use a code or name from docs/diagnostics.md".into(),
            };
            r.error(
                &key(&["lints", name]),
                true,
                format!("vigil.toml: `[lints] {name}`: no diagnostic has this code or name"),
                Some(hint),
            );
        }
        let _ = code;
    }
    for (table, cols) in &c.schemas.tables {
        for (col, ty) in cols {
            if crate::kql::catalog::Type::parse(ty) == crate::kql::catalog::Type::Unknown {
                let types = [
                    "string", "int", "long", "real", "decimal", "bool", "datetime", "timespan",
                    "guid", "dynamic",
                ];
                let hint = match did_you_mean(ty, types) {
                    Some(t) => format!("did you mean `{t}`?"),
                    None => format!("types: {}", types.join(", ")),
                };
                r.error(
                    &key(&["schemas", "tables", table, col]),
                    false,
                    format!("vigil.toml: `schemas.tables.{table}.{col}`: `{ty}` is not a KQL type"),
                    Some(hint),
                );
            }
        }
    }
    let e = &c.engine;
    for (k, zero) in [
        ("max_rows", e.max_rows == 0),
        ("max_memory_mb", e.max_memory_mb == 0),
        ("query_timeout_secs", e.query_timeout_secs == 0),
        ("run_timeout_secs", e.run_timeout_secs == 0),
        ("max_function_calls", e.max_function_calls == 0),
    ] {
        if zero {
            r.error(
                &key(&["engine", k]),
                false,
                format!("vigil.toml: `engine.{k}` must be at least 1"),
                None,
            );
        }
    }
    for (name, e) in &c.environments {
        if e.concurrency == Some(0) {
            r.error(
                &key(&["environments", name, "concurrency"]),
                false,
                format!("vigil.toml: `environments.{name}.concurrency` must be at least 1"),
                None,
            );
        }
        if let Some(ep) = &e.endpoint {
            if ep != "emulator" && !(ep.starts_with("https://") || ep.starts_with("http://")) {
                r.error(
                    &key(&["environments", name, "endpoint"]),
                    false,
                    format!("vigil.toml: `environments.{name}.endpoint`: `{ep}` is not a URL (or `emulator`)"),
                    None,
                );
            }
        }
    }
}

// ---- the trust boundary ----

/// Diagnostic codes whose severity only the trusted configuration may set: policy (POL) and the
/// trust lints (invisible characters, paths outside the repository).
pub fn protected_code(code: &str) -> bool {
    code.starts_with("POL") || matches!(code, "KQL309" | "VG007" | "VG008" | "VG118")
}

/// The code a `[lints]` key names (a code or a name).
fn lint_code(key: &str) -> Option<&'static str> {
    crate::diagnostics::CATALOG
        .iter()
        .find(|c| c.code == key || c.name == key)
        .map(|c| c.code)
}

/// One key of the repository's `vigil.toml` that differs from the trusted configuration and
/// was therefore not applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustChange {
    /// Dotted key path (`policy.review.required_for`, `lints.POL006`).
    pub key: String,
    /// Where the key is in the repository's file, when it is there.
    pub span: Option<(usize, usize)>,
}

/// The configuration a run uses when a trusted configuration is given (the base branch's
/// `vigil.toml` or the workflow's): everything that decides trust comes from `trusted`
/// (`[project]`, `[content]`, `[validate]`, `[environments]`, `[policy]` and its subsections,
/// `[engine]`, `[sandbox] alert_budget_per_day` and the severities of protected codes in
/// `[lints]`); what
/// describes the repository's own content comes from `repo` (`[compile]`, `[schemas]`,
/// `[sandbox]` data and clock, other `[lints]`). Returns the effective configuration and the
/// repository's keys that differ from the trusted ones (reported, not applied).
pub fn with_trusted(
    repo: &Config,
    repo_text: Option<&str>,
    trusted: &Config,
) -> (Config, Vec<TrustChange>) {
    let mut eff = repo.clone();
    let mut keys: Vec<String> = Vec::new();
    eff.project = trusted.project.clone();
    eff.content = trusted.content.clone();
    eff.environments = trusted.environments.clone();
    eff.policy = trusted.policy.clone();
    eff.ai = trusted.ai.clone();
    // Limits: the pull request may tighten them, never loosen them (the stricter applies).
    let stricter = |key: &str, a: f64, b: f64, keys: &mut Vec<String>| -> f64 {
        if a > b {
            keys.push(key.to_string());
        }
        a.min(b)
    };
    eff.sandbox.alert_budget_per_day = stricter(
        "sandbox.alert_budget_per_day",
        repo.sandbox.alert_budget_per_day,
        trusted.sandbox.alert_budget_per_day,
        &mut keys,
    );
    eff.validate.max_file_size = stricter(
        "validate.max_file_size",
        repo.validate.max_file_size as f64,
        trusted.validate.max_file_size as f64,
        &mut keys,
    ) as u64;
    let (re, te) = (&repo.engine, &trusted.engine);
    eff.engine = EngineConfig {
        max_rows: stricter(
            "engine.max_rows",
            re.max_rows as f64,
            te.max_rows as f64,
            &mut keys,
        ) as usize,
        max_memory_mb: stricter(
            "engine.max_memory_mb",
            re.max_memory_mb as f64,
            te.max_memory_mb as f64,
            &mut keys,
        ) as u64,
        query_timeout_secs: stricter(
            "engine.query_timeout_secs",
            re.query_timeout_secs as f64,
            te.query_timeout_secs as f64,
            &mut keys,
        ) as u64,
        run_timeout_secs: stricter(
            "engine.run_timeout_secs",
            re.run_timeout_secs as f64,
            te.run_timeout_secs as f64,
            &mut keys,
        ) as u64,
        max_function_calls: stricter(
            "engine.max_function_calls",
            re.max_function_calls as f64,
            te.max_function_calls as f64,
            &mut keys,
        ) as u64,
    };
    // Severities of protected codes: the stricter of the two (unset is the code's default).
    let level = |m: &BTreeMap<String, LintLevel>, code: &str| -> Option<LintLevel> {
        m.iter()
            .find(|(k, _)| lint_code(k) == Some(code))
            .map(|(_, v)| *v)
    };
    let rank = |l: Option<LintLevel>, code: &str| -> u8 {
        let sev = match l {
            Some(l) => l.severity(),
            None => crate::diagnostics::CATALOG
                .iter()
                .find(|c| c.code == code)
                .map(|c| Some(c.default_severity))
                .unwrap_or(None),
        };
        match sev {
            None => 0,
            Some(crate::diagnostics::Severity::Note) => 1,
            Some(crate::diagnostics::Severity::Warning) => 2,
            Some(crate::diagnostics::Severity::Error) => 3,
        }
    };
    eff.lints = repo
        .lints
        .iter()
        .filter(|(k, _)| !lint_code(k).is_some_and(protected_code))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let mut codes: Vec<&'static str> = repo
        .lints
        .keys()
        .chain(trusted.lints.keys())
        .filter_map(|k| lint_code(k))
        .filter(|c| protected_code(c))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    for c in codes {
        let (r, t) = (level(&repo.lints, c), level(&trusted.lints, c));
        let (pick, looser) = if rank(r, c) >= rank(t, c) {
            (r, false)
        } else {
            (t, true)
        };
        if looser {
            keys.push(format!("lints.{c}"));
        }
        if let Some(l) = pick {
            eff.lints.insert(c.to_string(), l);
        }
    }
    // What the repository's file says differently in the sections taken whole.
    let json = |v: &dyn erased::Ser| v.value();
    for (section, a, b) in [
        ("project", json(&repo.project), json(&trusted.project)),
        ("content", json(&repo.content), json(&trusted.content)),
        (
            "environments",
            json(&repo.environments),
            json(&trusted.environments),
        ),
        ("policy", json(&repo.policy), json(&trusted.policy)),
        ("ai", json(&repo.ai), json(&trusted.ai)),
    ] {
        diff_keys(section, &a, &b, &mut keys);
    }
    let doc = repo_text.and_then(|t| toml_edit::ImDocument::parse(t).ok());
    let changes = keys
        .into_iter()
        .map(|key| {
            let mut path: Vec<Seg> = key.split('.').map(|s| Seg::Key(s.to_string())).collect();
            if key.starts_with("lints.") {
                // The key as the file spells it (a code or a name).
                let code = key.trim_start_matches("lints.");
                if let Some((k, _)) = repo.lints.iter().find(|(k, _)| lint_code(k) == Some(code)) {
                    path = vec![Seg::Key("lints".into()), Seg::Key(k.clone())];
                }
            }
            let span = doc.as_ref().and_then(|d| locate(d, &path, true));
            TrustChange { key, span }
        })
        .collect();
    (eff, changes)
}

/// Serialize a section for comparison.
mod erased {
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}

/// Leaf key paths where two JSON values differ (at most 50).
fn diff_keys(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    if out.len() >= 50 || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let null = Value::Null;
                diff_keys(
                    &format!("{prefix}.{k}"),
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

impl EngineConfig {
    /// The engine's budget of one query.
    pub fn budget(&self) -> crate::engine::Budget {
        crate::engine::Budget {
            max_rows: self.max_rows,
            max_bytes: self.max_memory_mb.saturating_mul(1024 * 1024),
            query_time: std::time::Duration::from_secs(self.query_timeout_secs),
            max_calls: self.max_function_calls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(String, String)> {
        let (_, d) = parse(FileId(0), text);
        d.into_iter()
            .map(|d| {
                let loc = format!("{}..{}", d.span.start, d.span.end);
                (
                    loc,
                    format!(
                        "{}{}",
                        d.message,
                        d.hint.map(|h| format!(" / {h}")).unwrap_or_default()
                    ),
                )
            })
            .collect()
    }

    #[test]
    fn a_redaction_pattern_that_does_not_compile_is_located() {
        let text = "[ai.redact]\nhosts = [\"ok\\\\.corp\"]\nrules = [{ pattern = \"(unclosed\", with = \"x\" }]\n";
        let e = errors(text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].1.contains("ai.redact.rules[0]"), "{e:?}");
        let start: usize = e[0].0.split("..").next().unwrap().parse().unwrap();
        assert_eq!(&text[start..start + 1], "{", "{e:?}");
    }

    #[test]
    fn a_good_file_has_no_diagnostics_and_keeps_its_values() {
        let (c, d) = parse(
            FileId(0),
            "[sandbox]\nnow = 2026-02-01T00:00:00Z\ndays = 3\nalert_budget_per_day = 2\n[lints]\nKQL302 = \"off\"\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.sandbox.days, 3);
        assert_eq!(c.sandbox.now.0, "2026-02-01T00:00:00Z");
        assert_eq!(c.sandbox.alert_budget_per_day, 2.0);
        assert_eq!(c.lints["KQL302"], LintLevel::Off);
    }

    #[test]
    fn every_problem_is_located_and_named_by_key_path() {
        let text =
            "[sandbox]\ndays = \"x\"\n[policy.review]\nreviewrs = [\"a\"]\n[projct]\nid = \"x\"\n";
        let e = errors(text);
        assert_eq!(e.len(), 3, "{e:?}");
        let all = format!("{e:?}");
        assert!(all.contains("`sandbox.days`"), "{all}");
        assert!(
            all.contains("unknown key `policy.review.reviewrs`"),
            "{all}"
        );
        assert!(all.contains("did you mean `reviewers`?"), "{all}");
        assert!(all.contains("did you mean `project`?"), "{all}");
        // The unknown key is underlined at the key.
        let at = text.find("reviewrs").unwrap();
        assert!(
            e.iter().any(|(loc, _)| loc == &format!("{at}..{}", at + 8)),
            "{e:?}"
        );
    }

    #[test]
    fn syntax_errors_and_ranges_are_reported() {
        assert!(errors("[sandbox\n")[0].1.contains("vigil.toml"));
        let e = errors("[sandbox]\ndays = 400\n");
        assert!(e[0].1.contains("from 1 to 90"), "{e:?}");
        let e = errors("[environments.prod]\nendpiont = \"https://x\"\n");
        assert!(e[0].1.contains("did you mean `endpoint`?"), "{e:?}");
        let e = errors("[[environments.prod.workspaces]]\nname = \"a\"\nsubscription = \"s\"\nresource_group = \"r\"\nbogus = 1\n");
        assert_eq!(e.len(), 1, "{e:?}");
        let e = errors("[lints]\nKQL30 = \"off\"\nKQL301 = \"loud\"\n");
        assert_eq!(e.len(), 2, "{e:?}");
        let e = errors("[schemas.tables]\nT = { A = \"strng\" }\n");
        assert!(e[0].1.contains("did you mean `string`?"), "{e:?}");
    }
}

#[cfg(test)]
mod trust_tests {
    use super::*;

    /// A pull request cannot point `vigil draft` (and its key) at another endpoint: `[ai]` comes
    /// from the trusted configuration, and the change is reported.
    #[test]
    fn a_pull_request_cannot_redirect_the_model_endpoint() {
        let pr = "[project]\nid = \"x\"\n[ai]\nbase_url = \"https://attacker.example/v1\"\nmodel = \"m\"\napi_key_env = \"GITHUB_TOKEN\"\n";
        let base = "[project]\nid = \"x\"\n[ai]\nbase_url = \"http://127.0.0.1:11434/v1\"\nmodel = \"m\"\n";
        let (repo, d1) = parse(crate::source::FileId(0), pr);
        let (trusted, d2) = parse(crate::source::FileId(0), base);
        assert!(d1.is_empty() && d2.is_empty());
        let (eff, changes) = with_trusted(&repo, Some(pr), &trusted);
        assert_eq!(eff.ai.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(eff.ai.api_key_env, None);
        let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
        assert!(
            keys.contains(&"ai.base_url") && keys.contains(&"ai.api_key_env"),
            "{keys:?}"
        );
    }
}
