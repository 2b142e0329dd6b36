//! Typed REST payloads: the bodies vigil PUTs, field for field as the Sentinel and Log Analytics
//! REST specs name them. Serialized once, with fields in a fixed order.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::model::{
    AlertDetailsOverride, EntityMapping, EventGroupingSettings, SentinelEntityMapping, Severity,
    Tactic,
};

/// `Microsoft.SecurityInsights/alertRules` body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertRule {
    pub kind: &'static str,
    pub properties: AlertRuleProperties,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRuleProperties {
    pub display_name: String,
    pub description: String,
    pub severity: Severity,
    pub enabled: bool,
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_frequency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_operator: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_threshold: Option<i64>,
    pub suppression_duration: String,
    pub suppression_enabled: bool,
    pub tactics: Vec<Tactic>,
    pub techniques: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_techniques: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_rule_template_name: Option<String>,
    pub entity_mappings: Vec<EntityMapping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_details: Option<IndexMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_details_override: Option<AlertDetailsOverride>,
    pub event_grouping_settings: EventGroupingSettings,
    pub incident_configuration: IncidentConfiguration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentinel_entities_mappings: Option<Vec<SentinelEntityMapping>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentConfiguration {
    pub create_incident: bool,
    pub grouping_configuration: GroupingConfiguration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupingConfiguration {
    pub enabled: bool,
    pub reopen_closed_incident: bool,
    pub lookback_duration: String,
    pub matching_method: crate::model::MatchingMethod,
    pub group_by_entities: Vec<String>,
    pub group_by_alert_details: Vec<crate::model::AlertDetail>,
    pub group_by_custom_details: Vec<String>,
}

/// `Microsoft.OperationalInsights/workspaces/savedSearches` body (hunts and functions).
/// `etag: "*"` overwrites an existing saved search; without it a re-deploy fails with 409.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SavedSearch {
    pub etag: &'static str,
    pub properties: SavedSearchProperties,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedSearchProperties {
    pub category: String,
    pub display_name: String,
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_parameters: Option<String>,
    pub version: i64,
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tag {
    pub name: String,
    pub value: String,
}

/// `Microsoft.SecurityInsights/securityMLAnalyticsSettings` body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MlAnalyticsSettings {
    pub kind: &'static str,
    pub properties: MlAnalyticsSettingsProperties,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MlAnalyticsSettingsProperties {
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub enabled: bool,
    pub anomaly_version: String,
    pub frequency: String,
    pub settings_status: crate::model::SettingsStatus,
    pub is_default_settings: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings_definition_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly_settings_version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customizable_observations: Option<Value>,
    pub required_data_connectors: Vec<RequiredDataConnector>,
    pub tactics: Vec<Tactic>,
    pub techniques: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredDataConnector {
    pub connector_id: String,
    pub data_types: Vec<String>,
}

/// `Microsoft.SecurityInsights/watchlists` body (bulk items as CSV in rawContent).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Watchlist {
    pub properties: WatchlistProperties,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchlistProperties {
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub provider: String,
    pub source: String,
    pub source_type: &'static str,
    pub items_search_key: String,
    pub content_type: &'static str,
    pub number_of_lines_to_skip: i64,
    pub raw_content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watchlist_id: Option<String>,
    pub watchlist_alias: String,
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_duration: Option<String>,
}

/// `Microsoft.SecurityInsights/metadata` body: links a deployed item to its source and owner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metadata {
    pub properties: MetadataProperties,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataProperties {
    pub content_id: String,
    /// Resource id of the item, relative to the workspace (`{workspace}` is filled in at deploy).
    pub parent_id: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub source: MetadataSource,
    pub author: MetadataAuthor,
    pub support: MetadataSupport,
    /// vigil's content hash of the compiled item, for drift detection.
    pub custom_version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataSource {
    pub kind: &'static str,
    pub name: String,
    pub source_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetadataAuthor {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetadataSupport {
    pub tier: &'static str,
}
