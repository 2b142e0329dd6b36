//! The typed content model: one struct per content kind, in the Azure-Sentinel YAML spelling
//! (camelCase keys) plus vigil's additive extensions (`provenance`, `review`, `rollout`,
//! `environments`, snake_case inside, as the design fixes them).
//!
//! These types are the single source of the JSON Schemas in `schemas/` (schemars). Shapes and
//! enums live here; numeric and textual limits are checked in `validate::limits` with specific
//! codes, so the schema stays readable and each limit has one message.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Alert severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

/// Analytics rule kinds that vigil deploys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RuleKind {
    Scheduled,
    #[serde(rename = "NRT")]
    Nrt,
}

/// Trigger operator: the short Azure-Sentinel spelling or the API's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TriggerOperator {
    #[serde(rename = "gt")]
    Gt,
    #[serde(rename = "lt")]
    Lt,
    #[serde(rename = "eq")]
    Eq,
    #[serde(rename = "ne")]
    Ne,
    GreaterThan,
    LessThan,
    Equal,
    NotEqual,
}

impl Tactic {
    pub const ALL: [Tactic; 17] = [
        Tactic::Reconnaissance,
        Tactic::ResourceDevelopment,
        Tactic::InitialAccess,
        Tactic::Execution,
        Tactic::Persistence,
        Tactic::PrivilegeEscalation,
        Tactic::DefenseEvasion,
        Tactic::CredentialAccess,
        Tactic::Discovery,
        Tactic::LateralMovement,
        Tactic::Collection,
        Tactic::Exfiltration,
        Tactic::CommandAndControl,
        Tactic::Impact,
        Tactic::PreAttack,
        Tactic::ImpairProcessControl,
        Tactic::InhibitResponseFunction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tactic::Reconnaissance => "Reconnaissance",
            Tactic::ResourceDevelopment => "ResourceDevelopment",
            Tactic::InitialAccess => "InitialAccess",
            Tactic::Execution => "Execution",
            Tactic::Persistence => "Persistence",
            Tactic::PrivilegeEscalation => "PrivilegeEscalation",
            Tactic::DefenseEvasion => "DefenseEvasion",
            Tactic::CredentialAccess => "CredentialAccess",
            Tactic::Discovery => "Discovery",
            Tactic::LateralMovement => "LateralMovement",
            Tactic::Collection => "Collection",
            Tactic::Exfiltration => "Exfiltration",
            Tactic::CommandAndControl => "CommandAndControl",
            Tactic::Impact => "Impact",
            Tactic::PreAttack => "PreAttack",
            Tactic::ImpairProcessControl => "ImpairProcessControl",
            Tactic::InhibitResponseFunction => "InhibitResponseFunction",
        }
    }

    /// Parse a tactic written with any case or spacing (`Initial access` → InitialAccess).
    pub fn parse_loose(s: &str) -> Option<Tactic> {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Tactic::ALL
            .into_iter()
            .find(|t| t.name().to_ascii_lowercase() == norm)
    }
}

impl TriggerOperator {
    /// The REST API's spelling.
    pub fn api_name(self) -> &'static str {
        match self {
            TriggerOperator::Gt | TriggerOperator::GreaterThan => "GreaterThan",
            TriggerOperator::Lt | TriggerOperator::LessThan => "LessThan",
            TriggerOperator::Eq | TriggerOperator::Equal => "Equal",
            TriggerOperator::Ne | TriggerOperator::NotEqual => "NotEqual",
        }
    }
}

/// MITRE ATT&CK tactics as Sentinel names them.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Tactic {
    Reconnaissance,
    ResourceDevelopment,
    InitialAccess,
    Execution,
    Persistence,
    PrivilegeEscalation,
    DefenseEvasion,
    CredentialAccess,
    Discovery,
    LateralMovement,
    Collection,
    Exfiltration,
    CommandAndControl,
    Impact,
    PreAttack,
    ImpairProcessControl,
    InhibitResponseFunction,
}

/// A data connector and the tables (data types) it provides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataConnector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_types: Option<Vec<String>>,
}

/// Maps result columns to one Sentinel entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntityMapping {
    /// Account, Host, IP, URL, File, FileHash, Process, ... (18 types).
    pub entity_type: String,
    /// 1 to 3 identifiers, each taken from a result column.
    pub field_mappings: Vec<FieldMapping>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldMapping {
    pub identifier: String,
    pub column_name: String,
}

/// Per-alert overrides of name, description, tactics, severity and dynamic properties.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertDetailsOverride {
    /// At most 256 characters and 3 `{{Column}}` placeholders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_display_name_format: Option<String>,
    /// At most 5000 characters and 3 `{{Column}}` placeholders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_description_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_tactics_column_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_severity_column_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_dynamic_properties: Option<Vec<AlertDynamicProperty>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlertDynamicProperty {
    pub alert_property: AlertProperty,
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AlertProperty {
    AlertLink,
    ConfidenceLevel,
    ConfidenceScore,
    ExtendedLinks,
    ProductName,
    ProviderName,
    ProductComponentName,
    RemediationSteps,
    Techniques,
    SubTechniques,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventGroupingSettings {
    pub aggregation_kind: AggregationKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AggregationKind {
    SingleAlert,
    AlertPerResult,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncidentConfiguration {
    pub create_incident: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grouping_configuration: Option<GroupingConfiguration>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupingConfiguration {
    pub enabled: bool,
    pub reopen_closed_incident: bool,
    /// 5 minutes to 7 days.
    pub lookback_duration: String,
    pub matching_method: MatchingMethod,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by_entities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by_alert_details: Option<Vec<AlertDetail>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by_custom_details: Option<Vec<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MatchingMethod {
    AllEntities,
    AnyAlert,
    Selected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AlertDetail {
    DisplayName,
    Severity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentinelEntityMapping {
    pub column_name: String,
}

/// Who or what wrote the definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Human,
    Ai,
    Imported,
    /// Changed by `vigil tune` from incident outcomes; `provenance.derived_from` keeps the prior
    /// origin, and the stricter of the two governs (tuned AI content stays AI-governed).
    Tuned,
}

/// What a tuned definition was before `vigil tune` changed it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DerivedFrom {
    pub origin: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_sha256: Option<String>,
}

/// A generator's confidence: a word or a score between 0 and 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Confidence {
    Level(ConfidenceLevel),
    Score(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceLevel {
    Low,
    Medium,
    High,
}

/// Where a definition came from (vigil extension).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    pub origin: Origin,
    /// Model name, e.g. `gpt-5` (AI content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// SHA-256 of the prompt, 64 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_sha256: Option<String>,
    /// RFC 3339 timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    /// The tool or pipeline that produced the draft.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// URLs or report ids the draft was based on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// The GitHub login of the person who took over an AI-drafted definition and rewrote it as
    /// their own (`origin: human`). The takeover counts only with a review block whose reviewer
    /// is confirmed on GitHub; without it the definition stays AI-governed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewritten_by: Option<String>,
    /// `origin: tuned`: the provenance before tuning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<DerivedFrom>,
}

/// What a drafted hunt or rule sets out to find (vigil extension, written by `vigil draft`;
/// not deployed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub struct Hypothesis {
    /// The hypothesis, in a sentence.
    pub statement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// What the data shows when the hypothesis holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_evidence: Option<String>,
    /// Benign activity that looks the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub false_positives: Option<String>,
}

/// One name or a list of names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// The human review that approved the definition's query (vigil extension).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Review {
    /// GitHub login(s) of the approving reviewer(s).
    pub approved_by: OneOrMany,
    /// RFC 3339 timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    /// `vigil hash` of the query that was approved.
    pub query_sha256: String,
}

/// Phased rollout stage (vigil extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rollout {
    Shadow,
    Canary,
    Active,
}

/// Values that differ in one environment (vigil extension), applied by `vigil compile --env`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_operator: Option<TriggerOperator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_threshold: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_frequency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression_duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    /// Written by `vigil guard --apply`: the breaker that demoted or disabled the rule in this
    /// environment. Outside the review hash; removing it (re-enabling) needs a review.
    #[serde(rename = "guard_trip", skip_serializing_if = "Option::is_none")]
    pub guard_trip: Option<GuardTrip>,
}

/// A circuit breaker's trip, as `vigil guard --apply` records it in the rule's file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardTrip {
    /// `max_alerts_per_day`, `max_fp_rate` or `max_failed_runs`.
    pub breaker: String,
    pub action: crate::config::GuardAction,
    /// The figures the breaker saw, by name.
    pub observed: IndexMap<String, f64>,
    /// The window the figures cover (`7d`).
    pub window: String,
    /// When it tripped (RFC 3339).
    pub at: String,
    /// The deployment that applied it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
}

/// A rule's circuit breakers (vigil extension): each key overrides `[policy.guard]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Guard {
    /// Trip when the rule raises more alerts than this on one day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_alerts_per_day: Option<u32>,
    /// Trip when FP / (TP + BP + FP) over closed incidents exceeds this (0 to 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fp_rate: Option<f64>,
    /// Closed incidents needed before `max_fp_rate` is judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_closed: Option<u32>,
    /// Trip when more runs than this failed in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failed_runs: Option<u32>,
    /// `demote` (to shadow) or `disable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<crate::config::GuardAction>,
}

/// A Scheduled or NRT analytics rule (a detection), in the Azure-Sentinel format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "vigil analytics rule")]
pub struct Rule {
    /// GUID; also the rule's resource name in Sentinel.
    pub id: String,
    /// Display name, at most 256 characters, unique in the workspace.
    pub name: String,
    /// At most 5000 characters.
    pub description: String,
    #[serde(rename = "description-detailed")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_detailed: Option<String>,
    pub severity: Severity,
    pub kind: RuleKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_data_connectors: Option<Vec<DataConnector>>,
    /// `5m`, `1h`, `1d` or ISO-8601; 5 minutes to 14 days. Scheduled only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_frequency: Option<String>,
    /// `5m`, `1h`, `1d` or ISO-8601; 5 minutes to 14 days, at least queryFrequency. Scheduled only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_operator: Option<TriggerOperator>,
    /// 0 to 10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_threshold: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tactics: Option<Vec<Tactic>>,
    /// `T1234` or `T1234.001`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevant_techniques: Option<Vec<String>>,
    /// KQL, 1 to 10,000 characters.
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_mappings: Option<Vec<EntityMapping>>,
    /// Up to 20 `Key: ResultColumn` pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_details: Option<IndexMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_details_override: Option<AlertDetailsOverride>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_grouping_settings: Option<EventGroupingSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_configuration: Option<IncidentConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentinel_entities_mappings: Option<Vec<SentinelEntityMapping>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression_enabled: Option<bool>,
    /// Up to 24 hours; defaults to `PT5H`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression_duration: Option<String>,
    /// Defaults to true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `X.Y.Z`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_rule_template_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environments: Option<IndexMap<String, EnvOverride>>,
    /// Circuit breakers (`vigil guard`), over `[policy.guard]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<Guard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypothesis: Option<Hypothesis>,
}

/// A hunting query, in the Azure-Sentinel format. Deployed as a saved search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "vigil hunting query")]
pub struct Hunt {
    /// GUID; also the saved search's resource name.
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(rename = "description-detailed")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_detailed: Option<String>,
    /// Not deployed with a saved search; checked with warnings only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Not deployed with a saved search; checked with warnings only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_data_connectors: Option<Vec<Value>>,
    /// MITRE ATT&CK tactics; free text is tolerated (warned) since saved searches store a tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tactics: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevant_techniques: Option<Vec<String>>,
    pub query: String,
    /// Used when a hunt is promoted to a rule; not deployed with a saved search, so checked
    /// with warnings only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_mappings: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypothesis: Option<Hypothesis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environments: Option<IndexMap<String, EnvOverride>>,
    /// Ignored in hunting queries (`Hunting` is accepted silently).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_frequency: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_period: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_operator: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_threshold: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_details: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_details_override: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_grouping_settings: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_configuration: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression_enabled: Option<Value>,
    /// Rule-only key, ignored in hunting queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression_duration: Option<Value>,
}

/// A parameter of a workspace function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FunctionParameter {
    pub name: String,
    /// A KQL scalar type (`string`, `datetime`, `dynamic`, ...) or `table:(Col:type, ...)`.
    #[serde(rename = "type")]
    pub ty: String,
    /// A KQL literal used when the caller omits the argument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A KQL function saved in the workspace (a parser), deployed as a saved search with an alias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "vigil workspace function")]
pub struct Function {
    /// GUID; also the saved search's resource name.
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The name queries call the function by.
    pub function_alias: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_parameters: Option<Vec<FunctionParameter>>,
    pub query: String,
    /// Saved-search category; defaults to `Functions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SettingsStatus {
    Production,
    Flighting,
}

/// Settings of a built-in anomaly (ML analytics) rule, kind `Anomaly`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "vigil anomaly settings")]
pub struct Anomaly {
    /// GUID; also the settings resource name.
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    /// Version of the anomaly definition, `X.Y.Z`.
    pub anomaly_version: String,
    /// How often the anomaly runs: `1h`, `PT1H`, ...
    pub frequency: String,
    pub settings_status: SettingsStatus,
    pub is_default_settings: bool,
    /// GUID of the built-in anomaly definition being tuned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_definition_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly_settings_version: Option<i64>,
    /// Thresholds, prioritized and excluded values, as the anomaly definition names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customizable_observations: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_data_connectors: Option<Vec<DataConnector>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tactics: Option<Vec<Tactic>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevant_techniques: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environments: Option<IndexMap<String, EnvOverride>>,
}

/// A watchlist: items inline or from a CSV file beside the YAML.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "vigil watchlist")]
pub struct Watchlist {
    /// The alias queries use in `_GetWatchlist('alias')`; also the resource name.
    pub alias: String,
    /// Optional GUID (watchlistId).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Defaults to `Custom`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The column used as SearchKey.
    pub items_search_key: String,
    /// CSV file (relative to this YAML) holding the items, with a header row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Items inline, one mapping per row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<IndexMap<String, Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// ISO-8601 or `1d` style: how long items live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
}
