//! Compilation: definitions → REST payloads, Sentinel metadata, ARM templates.
//!
//! Stage entry: [`compile_one`] (one definition; `pipeline::compile` runs it over a
//! workspace). Pure and deterministic: the same definitions and options give the same bytes. Payloads are typed structs ([`payload`]); Handlebars renders only the parts
//! users customise (the ARM wrapper and the Markdown summary, [`templates`]).

pub mod payload;
pub mod templates;

use serde::Serialize;
use serde_json::Value;

use crate::config::{CompileConfig, Project, RolloutPolicy};
use crate::diagnostics::{code, Diagnostic};
use crate::model::duration::Duration;
use crate::model::{
    footer, ContentKind, Definition, EnvOverride, EventGroupingSettings, Item, Rollout, Rule,
    RuleKind, Severity, WatchlistItems,
};
use crate::rest::{Method, RType};
use payload::*;

/// Options of one compilation.
pub struct Options<'a> {
    pub config: &'a CompileConfig,
    pub project: &'a Project,
    /// Apply the per-environment overrides of this environment.
    pub environment: Option<&'a str>,
    /// `[policy.rollout]`: the canary watchlist and entity types.
    pub rollout: &'a RolloutPolicy,
}

impl<'a> Options<'a> {
    /// The one way to build compile options: the repository's configuration, its compile
    /// settings (`compile`: the repository's, or an environment's with its api-versions), and
    /// the environment whose overrides apply.
    pub fn for_env(
        config: &'a crate::config::Config,
        compile: &'a CompileConfig,
        environment: Option<&'a str>,
    ) -> Options<'a> {
        Options {
            config: compile,
            project: &config.project,
            environment,
            rollout: &config.policy.rollout,
        }
    }
}

/// A REST request vigil will send: path relative to the workspace resource id.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: Method,
    /// e.g. `providers/Microsoft.SecurityInsights/alertRules/<id>`.
    pub path: String,
    pub api_version: String,
    pub body: Value,
}

/// One compiled definition.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    pub kind: &'static str,
    /// Resource name (the id; the alias for watchlists).
    pub name: String,
    pub display_name: String,
    pub source: String,
    pub resource: Request,
    pub metadata: Request,
    /// The content identity ([`crate::rest::content_hash`] of the body's projection), also
    /// stored as metadata `customVersion` (deploy writes the same value, plan compares it).
    pub content_hash: String,
    /// Who drafted and approved the item, when the definition says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceSummary>,
    /// The rollout stage compiled into the payload (rules and hunts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutSummary>,
    #[serde(skip)]
    pub arm: ArmInfo,
    #[serde(skip)]
    pub content_kind: ContentKind,
}

/// What it takes to write an artifact as ARM resources (built on demand, not stored twice).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ArmInfo {
    pub resource_type: &'static str,
    pub name_expr: String,
    pub kind: Option<&'static str>,
    /// ARM expression of the item's resource id (for metadata parentId and dependsOn).
    pub id_expr: String,
    pub metadata_name: String,
}

impl Artifact {
    /// The item and its metadata as ARM resources, in the portal-export form, as JSON values
    /// (for tests and `vigil debug`; writing uses [`Artifact::arm_text`]).
    pub fn arm_resources(&self) -> [Value; 2] {
        self.with_arm(|item, meta| {
            [item, meta].map(|r| serde_json::to_value(r).expect("JSON values serialize"))
        })
    }

    /// The ARM resources as pretty JSON array elements (without the brackets), serialized
    /// from borrowed parts (no copy of the payload).
    pub fn arm_text(&self) -> String {
        self.with_arm(|item, meta| {
            let mut out = serde_json::to_vec_pretty(item).expect("JSON values serialize");
            out.extend_from_slice(b",\n");
            serde_json::to_writer_pretty(&mut out, meta).expect("JSON values serialize");
            String::from_utf8(out).expect("serde_json writes UTF-8")
        })
    }

    /// The one definition of the two ARM resources' shape: the item (saved searches carry
    /// their overwrite etag inside properties, as the portal and Microsoft's packages write
    /// it) and its metadata (pointing at the item).
    fn with_arm<R>(&self, f: impl FnOnce(&ArmResource<'_>, &ArmResource<'_>) -> R) -> R {
        let item = ArmResource {
            ty: self.arm.resource_type,
            api_version: &self.resource.api_version,
            name: ArmName::Expr(&self.arm.name_expr),
            kind: self.arm.kind,
            depends_on: None,
            properties: Amended {
                base: self.resource.body.get("properties"),
                key: "eTag",
                value: self.resource.body.get("etag"),
                null_base_becomes_object: false,
            },
        };
        let parent = Value::String(self.arm.id_expr.clone());
        let meta = ArmResource {
            ty: RType::Metadata.info().template_type,
            api_version: &self.metadata.api_version,
            name: ArmName::Metadata(&self.arm.metadata_name),
            kind: None,
            depends_on: Some([&self.arm.id_expr]),
            properties: Amended {
                base: self.metadata.body.get("properties"),
                key: "parentId",
                value: Some(&parent),
                null_base_becomes_object: true,
            },
        };
        f(&item, &meta)
    }
}

/// One ARM resource, borrowed from the artifact (see [`Artifact::with_arm`]).
#[derive(Serialize)]
struct ArmResource<'a> {
    #[serde(rename = "type")]
    ty: &'a str,
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    name: ArmName<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
    #[serde(rename = "dependsOn", skip_serializing_if = "Option::is_none")]
    depends_on: Option<[&'a str; 1]>,
    properties: Amended<'a>,
}

enum ArmName<'a> {
    Expr(&'a str),
    Metadata(&'a str),
}

impl Serialize for ArmName<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ArmName::Expr(e) => s.serialize_str(e),
            ArmName::Metadata(m) => s.collect_str(&format_args!(
                "[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{m}')]"
            )),
        }
    }
}

/// An object with one key set: replaced in place when present, appended otherwise (as
/// `value[key] = v` does on a `serde_json` map that keeps insertion order).
struct Amended<'a> {
    base: Option<&'a Value>,
    key: &'static str,
    value: Option<&'a Value>,
    /// Setting a key on null makes an object (`Value`'s `IndexMut`); the ARM item instead
    /// only sets its etag on an object.
    null_base_becomes_object: bool,
}

impl Serialize for Amended<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(value) = self.value else {
            return self.base.unwrap_or(&Value::Null).serialize(s);
        };
        let empty = serde_json::Map::new();
        let base = match self.base {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) if self.null_base_becomes_object => &empty,
            other => return other.unwrap_or(&Value::Null).serialize(s),
        };
        let mut m = s.serialize_map(None)?;
        for (k, v) in base {
            m.serialize_entry(k, if k == self.key { value } else { v })?;
        }
        if !base.contains_key(self.key) {
            m.serialize_entry(self.key, value)?;
        }
        m.end()
    }
}

/// Provenance as reports show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceSummary {
    pub origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub approved_by: Vec<String>,
}

/// The rollout stage as compiled, for plans and reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSummary {
    /// `shadow`, `canary` or `active`.
    pub stage: &'static str,
    /// What the stage changed in the payload, in words (empty for active).
    pub changes: Vec<String>,
    /// For canary rules: the watchlist and the column the query is scoped by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary: Option<crate::rollout::CanaryScope>,
}

/// The prefix of shadow items' names.
pub const SHADOW_PREFIX: &str = "[shadow] ";

fn strip_quotes(desc: &str) -> String {
    let t = desc.trim();
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        t[1..t.len() - 1].trim().to_string()
    } else {
        t.to_string()
    }
}

fn description(opts: &Options<'_>, def: &Definition, text: &str) -> String {
    let mut d = strip_quotes(text);
    if opts.config.provenance_footer {
        if let Some(f) = footer::footer(def.provenance(), def.review()) {
            d.push_str(&f);
        }
    }
    d
}

fn iso(s: &str) -> String {
    Duration::parse(s)
        .map(|d| d.to_iso())
        .unwrap_or_else(|| s.to_string())
}

fn split_techniques(list: Option<&Vec<String>>) -> (Vec<String>, Vec<String>) {
    let mut techniques: Vec<String> = Vec::new();
    let mut subs: Vec<String> = Vec::new();
    for t in list.into_iter().flatten() {
        let parent = t.split('.').next().unwrap_or(t).to_string();
        if t.contains('.') && !subs.contains(t) {
            subs.push(t.clone());
        }
        if !techniques.contains(&parent) {
            techniques.push(parent);
        }
    }
    (techniques, subs)
}

fn env_override<'d>(def: &'d Definition, env: Option<&str>) -> Option<&'d EnvOverride> {
    def.environments()?.get(env?)
}

fn rule_body(
    opts: &Options<'_>,
    def: &Definition,
    r: &Rule,
) -> (AlertRule, String, RolloutSummary) {
    let o = env_override(def, opts.environment)
        .cloned()
        .unwrap_or_default();
    let (techniques, subs) = split_techniques(r.relevant_techniques.as_ref());
    let preview_fields = !subs.is_empty() || r.sentinel_entities_mappings.is_some();
    let nrt = r.kind == RuleKind::Nrt;
    let api = if nrt || preview_fields {
        opts.config.api_versions.preview.clone()
    } else {
        opts.config.api_versions.scheduled.clone()
    };
    let scheduled = !nrt;
    let grouping = r
        .incident_configuration
        .as_ref()
        .and_then(|ic| ic.grouping_configuration.as_ref());
    let props = AlertRuleProperties {
        display_name: r.name.clone(),
        description: description(opts, def, &r.description),
        severity: o.severity.unwrap_or(r.severity),
        enabled: o.enabled.or(r.enabled).unwrap_or(true),
        query: r.query.clone(),
        query_frequency: scheduled
            .then(|| {
                o.query_frequency
                    .as_ref()
                    .or(r.query_frequency.as_ref())
                    .map(|s| iso(s))
            })
            .flatten(),
        query_period: scheduled
            .then(|| {
                o.query_period
                    .as_ref()
                    .or(r.query_period.as_ref())
                    .map(|s| iso(s))
            })
            .flatten(),
        trigger_operator: scheduled
            .then(|| {
                o.trigger_operator
                    .or(r.trigger_operator)
                    .map(|t| t.api_name())
            })
            .flatten(),
        trigger_threshold: scheduled
            .then(|| o.trigger_threshold.or(r.trigger_threshold))
            .flatten(),
        suppression_duration: iso(o
            .suppression_duration
            .as_deref()
            .or(r.suppression_duration.as_deref())
            .unwrap_or("PT5H")),
        suppression_enabled: o
            .suppression_enabled
            .or(r.suppression_enabled)
            .unwrap_or(false),
        tactics: r.tactics.clone().unwrap_or_default(),
        techniques,
        sub_techniques: (!subs.is_empty()).then_some(subs),
        alert_rule_template_name: r.alert_rule_template_name.clone(),
        entity_mappings: r.entity_mappings.clone().unwrap_or_default(),
        custom_details: r.custom_details.clone().filter(|c| !c.is_empty()),
        alert_details_override: r.alert_details_override.clone(),
        event_grouping_settings: r.event_grouping_settings.clone().unwrap_or(
            EventGroupingSettings {
                aggregation_kind: crate::model::AggregationKind::SingleAlert,
            },
        ),
        incident_configuration: IncidentConfiguration {
            create_incident: r
                .incident_configuration
                .as_ref()
                .map(|ic| ic.create_incident)
                .unwrap_or(true),
            grouping_configuration: GroupingConfiguration {
                enabled: grouping.map(|g| g.enabled).unwrap_or(false),
                reopen_closed_incident: grouping.map(|g| g.reopen_closed_incident).unwrap_or(false),
                lookback_duration: iso(grouping
                    .map(|g| g.lookback_duration.as_str())
                    .unwrap_or("PT5H")),
                matching_method: grouping
                    .map(|g| g.matching_method)
                    .unwrap_or(crate::model::MatchingMethod::AllEntities),
                group_by_entities: grouping
                    .and_then(|g| g.group_by_entities.clone())
                    .unwrap_or_default(),
                group_by_alert_details: grouping
                    .and_then(|g| g.group_by_alert_details.clone())
                    .unwrap_or_default(),
                group_by_custom_details: grouping
                    .and_then(|g| g.group_by_custom_details.clone())
                    .unwrap_or_default(),
            },
        },
        sentinel_entities_mappings: r.sentinel_entities_mappings.clone(),
    };
    let mut props = props;
    let summary = apply_rule_rollout(opts, def, r, &mut props);
    (
        AlertRule {
            kind: if nrt { "NRT" } else { "Scheduled" },
            properties: props,
        },
        api,
        summary,
    )
}

/// Shadow: incident creation off, name (and alert name format) prefixed `[shadow]`, severity
/// Informational with no per-alert severity column. Canary: the query scoped to the canary
/// watchlist. Active: unchanged. See `crate::rollout`.
fn apply_rule_rollout(
    opts: &Options<'_>,
    def: &Definition,
    r: &Rule,
    props: &mut AlertRuleProperties,
) -> RolloutSummary {
    let stage = crate::rollout::effective(def, opts.environment);
    let mut changes = Vec::new();
    let mut canary = None;
    match stage {
        Rollout::Shadow => {
            props.display_name = format!("{SHADOW_PREFIX}{}", props.display_name);
            changes.push("display name prefixed `[shadow]`".to_string());
            if props.severity != Severity::Informational {
                changes.push(format!("severity {:?} -> Informational", props.severity));
                props.severity = Severity::Informational;
            }
            if props.incident_configuration.create_incident {
                changes.push("incident creation off".to_string());
                props.incident_configuration.create_incident = false;
            }
            if let Some(o) = &mut props.alert_details_override {
                if let Some(f) = &mut o.alert_display_name_format {
                    *f = format!("{SHADOW_PREFIX}{f}");
                    changes.push("alert name format prefixed `[shadow]`".to_string());
                }
                if o.alert_severity_column_name.take().is_some() {
                    changes.push("per-alert severity column dropped".to_string());
                }
            }
            changes.push(
                "alerts still land in SecurityAlert and can trigger alert-based automation"
                    .to_string(),
            );
        }
        Rollout::Canary => {
            if let Some(scope) = crate::rollout::canary_scope(r, opts.rollout) {
                props.query = crate::rollout::scoped_query(&props.query, &scope);
                changes.push(format!(
                    "query scoped to the entities of watchlist `{}` on column `{}` ({})",
                    scope.watchlist, scope.column, scope.entity_type
                ));
                canary = Some(scope);
            }
        }
        Rollout::Active => {}
    }
    RolloutSummary {
        stage: crate::rollout::name(stage),
        changes,
        canary,
    }
}

fn hunt_tags(description: &str, tactics: &[String], techniques: &[String]) -> Vec<Tag> {
    let mut tags = vec![Tag {
        name: "description".into(),
        value: description.to_string(),
    }];
    if !tactics.is_empty() {
        let names: Vec<String> = tactics
            .iter()
            .map(|t| {
                crate::model::Tactic::parse_loose(t)
                    .map(|t| t.name().to_string())
                    .unwrap_or_else(|| t.trim().to_string())
            })
            .collect();
        tags.push(Tag {
            name: "tactics".into(),
            value: names.join(","),
        });
    }
    if !techniques.is_empty() {
        tags.push(Tag {
            name: "techniques".into(),
            value: techniques.join(","),
        });
    }
    tags
}

fn function_parameters(f: &crate::model::Function) -> Option<String> {
    let ps = f.function_parameters.as_ref()?;
    if ps.is_empty() {
        return None;
    }
    Some(
        ps.iter()
            .map(|p| match &p.default {
                Some(d) => format!("{}:{}={}", p.name, p.ty, d),
                None => format!("{}:{}", p.name, p.ty),
            })
            .collect::<Vec<_>>()
            .join(", "),
    )
}

fn metadata_kind(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Rule => "AnalyticsRule",
        ContentKind::Hunt => "HuntingQuery",
        ContentKind::Function => "Parser",
        ContentKind::Anomaly => "AnomalyRule",
        ContentKind::Watchlist => "Watchlist",
    }
}

fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("payload types serialize")
}

/// Compile one definition.
pub fn compile_one(def: &Definition, opts: &Options<'_>) -> Artifact {
    let v = &opts.config.api_versions;
    let name = def.resource_name().to_string();
    let mut rollout = None;
    let (rtype, api, body, arm_kind) = match &def.item {
        Item::Rule(r) => {
            let (body, api, summary) = rule_body(opts, def, r);
            rollout = Some(summary);
            (RType::AlertRule, api, to_value(&body), Some(body.kind))
        }
        Item::Hunt(h) => {
            let desc = description(opts, def, &h.description);
            // Saved-search tags are free text: keep sub-techniques as written (T1078.004).
            let mut techniques: Vec<String> = Vec::new();
            for t in h.relevant_techniques.iter().flatten() {
                if !techniques.contains(t) {
                    techniques.push(t.clone());
                }
            }
            // Hunts raise no alerts: shadow only marks the name; canary and active deploy the
            // query as written.
            let stage = crate::rollout::effective(def, opts.environment);
            let display_name = if stage == Rollout::Shadow {
                format!("{SHADOW_PREFIX}{}", h.name)
            } else {
                h.name.clone()
            };
            rollout = Some(RolloutSummary {
                stage: crate::rollout::name(stage),
                changes: if stage == Rollout::Shadow {
                    vec!["display name prefixed `[shadow]`".to_string()]
                } else {
                    Vec::new()
                },
                canary: None,
            });
            let body = SavedSearch {
                etag: "*",
                properties: SavedSearchProperties {
                    category: "Hunting Queries".into(),
                    display_name,
                    query: h.query.clone(),
                    function_alias: None,
                    function_parameters: None,
                    version: 2,
                    tags: hunt_tags(&desc, h.tactics.as_deref().unwrap_or(&[]), &techniques),
                },
            };
            (
                RType::SavedSearch,
                v.saved_searches.clone(),
                to_value(&body),
                None,
            )
        }
        Item::Function(f) => {
            let mut tags = Vec::new();
            if let Some(d) = &f.description {
                tags.push(Tag {
                    name: "description".into(),
                    value: description(opts, def, d),
                });
            }
            let body = SavedSearch {
                etag: "*",
                properties: SavedSearchProperties {
                    category: f.category.clone().unwrap_or_else(|| "Functions".into()),
                    display_name: f.name.clone(),
                    query: f.query.clone(),
                    function_alias: Some(f.function_alias.clone()),
                    function_parameters: function_parameters(f),
                    version: 2,
                    tags,
                },
            };
            (
                RType::SavedSearch,
                v.saved_searches.clone(),
                to_value(&body),
                None,
            )
        }
        Item::Anomaly(a) => {
            let o = env_override(def, opts.environment)
                .cloned()
                .unwrap_or_default();
            let (techniques, _) = split_techniques(a.relevant_techniques.as_ref());
            let body = MlAnalyticsSettings {
                kind: "Anomaly",
                properties: MlAnalyticsSettingsProperties {
                    display_name: a.name.clone(),
                    description: a.description.as_ref().map(|d| description(opts, def, d)),
                    enabled: o.enabled.unwrap_or(a.enabled),
                    anomaly_version: a.anomaly_version.clone(),
                    frequency: iso(&a.frequency),
                    settings_status: a.settings_status,
                    is_default_settings: a.is_default_settings,
                    settings_definition_id: a.settings_definition_id.clone(),
                    anomaly_settings_version: a.anomaly_settings_version,
                    customizable_observations: a.customizable_observations.clone(),
                    required_data_connectors: a
                        .required_data_connectors
                        .iter()
                        .flatten()
                        .map(|c| RequiredDataConnector {
                            connector_id: c.connector_id.clone().unwrap_or_default(),
                            data_types: c.data_types.clone().unwrap_or_default(),
                        })
                        .collect(),
                    tactics: a.tactics.clone().unwrap_or_default(),
                    techniques,
                },
            };
            (
                RType::MlSetting,
                v.anomalies.clone(),
                to_value(&body),
                Some("Anomaly"),
            )
        }
        Item::Watchlist(w, items) => {
            let body = Watchlist {
                properties: WatchlistProperties {
                    display_name: w.name.clone(),
                    description: w.description.as_ref().map(|d| description(opts, def, d)),
                    provider: w.provider.clone().unwrap_or_else(|| "Custom".into()),
                    source: w
                        .source
                        .clone()
                        .unwrap_or_else(|| format!("{}.csv", w.alias)),
                    source_type: "Local",
                    items_search_key: w.items_search_key.clone(),
                    content_type: "text/csv",
                    number_of_lines_to_skip: 0,
                    raw_content: raw_csv(items),
                    watchlist_id: w.id.clone(),
                    watchlist_alias: w.alias.clone(),
                    labels: w.labels.clone().unwrap_or_default(),
                    default_duration: w.default_duration.as_deref().map(iso),
                },
            };
            (
                RType::Watchlist,
                v.watchlists.clone(),
                to_value(&body),
                None,
            )
        }
    };
    let kind = def.kind();
    let path = rtype.path(&name);
    let content_hash = crate::rest::body_content_hash(rtype, &body);
    let meta_name = format!("{}-{}", metadata_kind(kind).to_lowercase(), name);
    let author = match def.provenance() {
        Some(p) if p.origin == crate::model::Origin::Ai => format!(
            "{} (AI: {}{})",
            opts.project.author,
            p.model.as_deref().unwrap_or("unknown model"),
            p.model_version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default()
        ),
        _ => opts.project.author.clone(),
    };
    let meta_props = |parent: String| MetadataProperties {
        content_id: name.clone(),
        parent_id: parent,
        kind: metadata_kind(kind),
        version: def.version().map(String::from),
        source: MetadataSource {
            kind: "SourceRepository",
            name: opts.project.id.clone(),
            source_id: format!("vigil:{}", opts.project.id),
        },
        author: MetadataAuthor {
            name: author.clone(),
        },
        support: MetadataSupport { tier: "Community" },
        custom_version: content_hash.clone(),
    };
    let metadata = Request {
        method: Method::Put,
        path: RType::Metadata.path(&meta_name),
        api_version: v.metadata.clone(),
        body: to_value(&Metadata {
            properties: meta_props(path.clone()),
        }),
    };
    Artifact {
        kind: kind.as_str(),
        name: name.clone(),
        display_name: def.name().to_string(),
        source: crate::diagnostics::render::display_path(&def.path),
        resource: Request {
            method: Method::Put,
            path,
            api_version: api,
            body,
        },
        metadata,
        content_hash,
        provenance: def.provenance().map(|p| ProvenanceSummary {
            origin: match p.origin {
                crate::model::Origin::Ai => "ai",
                crate::model::Origin::Human => "human",
                crate::model::Origin::Imported => "imported",
                crate::model::Origin::Tuned => "tuned",
            },
            model: p.model.as_ref().map(|m| match &p.model_version {
                Some(v) => format!("{m} {v}"),
                None => m.clone(),
            }),
            approved_by: def
                .review()
                .map(|r| r.approved_by.to_vec())
                .unwrap_or_default(),
        }),
        rollout,
        arm: ArmInfo {
            resource_type: rtype.info().template_type,
            name_expr: rtype.template_name(&name),
            kind: arm_kind,
            id_expr: rtype.template_id(&name),
            metadata_name: meta_name,
        },
        content_kind: kind,
    }
}

fn raw_csv(items: &WatchlistItems) -> String {
    let mut records = vec![items.header.clone()];
    records.extend(items.rows.iter().cloned());
    crate::csv::write(&records)
}

/// Deployment order: what others depend on first.
pub fn order(kind: ContentKind) -> u8 {
    crate::rest::deploy_order(kind)
}

/// One item to place in a combined template: its kind (for dependency order), its name (for a
/// stable order within a kind) and the size in bytes of its ARM resources as written.
#[derive(Clone, Debug)]
pub struct Piece<'a> {
    pub kind: ContentKind,
    pub name: &'a str,
    pub size: usize,
}

/// How items are split into combined templates within ARM's limits (resources and bytes):
/// items are pushed one at a time in deployment order (see [`order`]; an item, a resource and
/// its metadata, always stays in one template) and the splitter says when one starts a new
/// template, so `emit` fills templates while items are compiled, without keeping every item's
/// text.
#[derive(Debug)]
pub struct Splitter {
    max_resources: usize,
    max_bytes: usize,
    items: usize,
    bytes: usize,
    /// Items too large for any template (each still placed in a template of its own).
    pub diagnostics: Vec<Diagnostic>,
}

impl Splitter {
    /// Bytes of template text around the resources.
    const OVERHEAD: usize = 1024;
    /// An item is its resource and its metadata.
    const RESOURCES_PER_ITEM: usize = 2;

    pub fn new(max_resources: usize, max_bytes: usize) -> Self {
        Splitter {
            max_resources,
            max_bytes,
            items: 0,
            bytes: Self::OVERHEAD,
            diagnostics: Vec::new(),
        }
    }

    /// Place the next item; true when it starts a new template (always for the first item).
    pub fn push(&mut self, p: &Piece<'_>) -> bool {
        let size = p.size + 2;
        if size + Self::OVERHEAD > self.max_bytes {
            self.diagnostics.push(Diagnostic::new(
                code::COMBINED_TEMPLATE_LIMIT,
                crate::source::Span::default(),
                format!(
                    "{} `{}` alone is {size} bytes of ARM, over the {}-byte template limit",
                    p.kind.as_str(),
                    p.name,
                    self.max_bytes
                ),
            ));
        }
        let starts = self.items == 0
            || (self.items + 1) * Self::RESOURCES_PER_ITEM > self.max_resources
            || self.bytes + size > self.max_bytes;
        if starts {
            self.items = 0;
            self.bytes = Self::OVERHEAD;
        }
        self.items += 1;
        self.bytes += size;
        starts
    }
}
