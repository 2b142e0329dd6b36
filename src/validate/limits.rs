//! Sentinel's own limits, checked per definition on the typed model.
//!
//! Each check names the limit it enforces (reference: ../shared/reference/sentinel-api.md §1,
//! §4, §5, §8.3) and points at the YAML node that breaks it.

use std::sync::OnceLock;

use regex::Regex;

use super::entities::entity_type;
use crate::diagnostics::{code, did_you_mean, Code, Diagnostic, Severity};
use crate::hash;
use crate::model::duration::{Duration, DAY, HOUR, MINUTE};
use crate::model::{
    footer, Anomaly, Definition, EntityMapping, EnvOverride, Function, Hunt, Item, MatchingMethod,
    Provenance, Review, Rule, RuleKind, Watchlist, WatchlistItems,
};
use crate::source::Span;
use crate::yaml::Seg;

/// Largest watchlist upload from a local file (bytes).
pub const MAX_WATCHLIST_BYTES: usize = 3_800_000;

struct Ck<'a> {
    def: &'a Definition,
    diags: Vec<Diagnostic>,
    /// Severity cap for findings (hunts get warnings where rules get errors).
    cap: Option<Severity>,
    config_envs: &'a [String],
}

fn seg(s: &str) -> Seg<'_> {
    Seg::from(s)
}

impl<'a> Ck<'a> {
    fn span(&self, path: &[Seg<'_>]) -> Span {
        self.def.doc.span_at(path, false)
    }

    fn key_span(&self, path: &[Seg<'_>]) -> Span {
        self.def.doc.span_at(path, true)
    }

    fn push(&mut self, mut d: Diagnostic) {
        if let Some(cap) = self.cap {
            if d.severity > cap {
                d.severity = cap;
            }
        }
        self.diags.push(d);
    }

    fn err_key(&mut self, code: Code, path: &[Seg<'_>], msg: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(code, self.key_span(path), msg);
        self.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    fn err(&mut self, code: Code, path: &[Seg<'_>], msg: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::new(code, self.span(path), msg);
        self.push(d);
        self.diags.last_mut().expect("just pushed")
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("static regex"))
}

fn is_guid(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
    )
    .is_match(s)
}

fn is_column_name(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    s.len() <= 500 && re(&R, r"^[a-zA-Z_]+\w*$").is_match(s)
}

fn is_technique(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^T\d{4}(\.\d{3})?$").is_match(s)
}

fn is_version(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    s.len() <= 20 && re(&R, r"^\d+\.\d+\.\d+$").is_match(s)
}

fn is_rfc3339(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
    )
    .is_match(s)
}

fn placeholders(s: &str) -> usize {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"\{\{[^{}]*\}\}").find_iter(s).count()
}

/// .NET string length (UTF-16 code units), which is how Sentinel counts.
fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Check one definition against Sentinel's limits.
pub fn check(def: &Definition, config_envs: &[String]) -> Vec<Diagnostic> {
    let mut ck = Ck {
        def,
        diags: Vec::new(),
        cap: None,
        config_envs,
    };
    match &def.item {
        Item::Rule(r) => rule(&mut ck, r),
        Item::Hunt(h) => hunt(&mut ck, h),
        Item::Function(f) => function(&mut ck, f),
        Item::Anomaly(a) => anomaly(&mut ck, a),
        Item::Watchlist(w, items) => watchlist(&mut ck, w, items),
    }
    ck.diags
}

fn common(ck: &mut Ck<'_>, id: Option<&str>, name: &str, description: Option<&str>) {
    if let Some(id) = id {
        if !is_guid(id) {
            ck.err(
                code::ID_NOT_GUID,
                &[seg("id")],
                format!("id `{id}` is not a GUID"),
            )
            .hint = Some(
                "generate one with `uuidgen`; the id becomes the resource name in Sentinel".into(),
            );
        }
    }
    if name.trim().is_empty() {
        ck.err(code::MISSING_FIELD, &[seg("name")], "name is empty");
    } else if utf16_len(name) > 256 {
        ck.err(
            code::TEXT_TOO_LONG,
            &[seg("name")],
            format!(
                "name is {} characters long; Sentinel allows 256",
                utf16_len(name)
            ),
        );
    }
    if let Some(d) = description {
        if utf16_len(d) > 5000 {
            ck.err(
                code::TEXT_TOO_LONG,
                &[seg("description")],
                format!(
                    "description is {} characters long; Sentinel allows 5000",
                    utf16_len(d)
                ),
            );
        }
    }
}

fn version(ck: &mut Ck<'_>, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        if !is_version(v) {
            ck.err(
                code::VERSION_FORMAT,
                &[seg(key)],
                format!("version `{v}` is not X.Y.Z"),
            )
            .hint = Some("use three numbers, e.g. 1.0.0; bump it on every change".into());
        }
    }
}

fn techniques(ck: &mut Ck<'_>, list: Option<&Vec<String>>) {
    for (i, t) in list.into_iter().flatten().enumerate() {
        if !is_technique(t) {
            ck.err(
                code::TECHNIQUE_ID,
                &[seg("relevantTechniques"), Seg::Index(i)],
                format!("`{t}` is not a MITRE ATT&CK technique id"),
            )
            .hint = Some("write T1234 or T1234.001".into());
        }
    }
}

fn provenance_review(
    ck: &mut Ck<'_>,
    p: Option<&Provenance>,
    r: Option<&Review>,
    query: Option<&str>,
    description: Option<&str>,
) {
    if let Some(p) = p {
        if let Some(h) = &p.prompt_sha256 {
            if !hash::is_sha256_hex(h) {
                ck.err(
                    code::PROVENANCE_FORMAT,
                    &[seg("provenance"), seg("prompt_sha256")],
                    "prompt_sha256 is not 64 hex digits",
                );
            }
        }
        if let Some(g) = &p.generated_at {
            if !is_rfc3339(g) {
                ck.err(
                    code::PROVENANCE_FORMAT,
                    &[seg("provenance"), seg("generated_at")],
                    format!("generated_at `{g}` is not an RFC 3339 timestamp"),
                )
                .hint = Some("e.g. 2026-10-02T14:30:00Z".into());
            }
        }
        for (i, s) in p.sources.iter().flatten().enumerate() {
            if s.trim().is_empty() {
                ck.err(
                    code::PROVENANCE_FORMAT,
                    &[seg("provenance"), seg("sources"), Seg::Index(i)],
                    "empty source",
                );
            }
        }
        if let Some(crate::model::Confidence::Score(s)) = &p.confidence {
            if !(0.0..=1.0).contains(s) {
                ck.err(
                    code::PROVENANCE_FORMAT,
                    &[seg("provenance"), seg("confidence")],
                    "confidence score must be between 0 and 1",
                );
            }
        }
    }
    if let Some(r) = r {
        if r.approved_by.to_vec().iter().any(|a| a.trim().is_empty())
            || r.approved_by.to_vec().is_empty()
        {
            ck.err(
                code::PROVENANCE_FORMAT,
                &[seg("review"), seg("approved_by")],
                "approved_by names no reviewer",
            );
        }
        if let Some(at) = &r.approved_at {
            if !is_rfc3339(at) {
                ck.err(
                    code::PROVENANCE_FORMAT,
                    &[seg("review"), seg("approved_at")],
                    format!("approved_at `{at}` is not an RFC 3339 timestamp"),
                );
            }
        }
        if !hash::is_sha256_hex(&r.query_sha256) {
            ck.err(
                code::PROVENANCE_FORMAT,
                &[seg("review"), seg("query_sha256")],
                "query_sha256 is not 64 hex digits",
            )
            .hint = Some("run `vigil hash FILE` on the reviewed version".into());
        } else if let Some(q) = query {
            let now = hash::query_sha256(q);
            if !now.eq_ignore_ascii_case(&r.query_sha256) {
                let span = ck.span(&[seg("review"), seg("query_sha256")]);
                let qspan = ck.key_span(&[seg("query")]);
                let d = Diagnostic::new(
                    code::STALE_APPROVAL,
                    span,
                    "approval is stale: the query changed after review",
                )
                .with_related(qspan, "the query now hashes differently")
                .with_hint(format!(
                    "have the change reviewed again, then set query_sha256: {now}"
                ));
                ck.push(d);
            }
        }
    }
    if let (Some(desc), Some(f)) = (description, footer::footer(p, r)) {
        let total = utf16_len(desc) + utf16_len(&f);
        if total > 5000 && utf16_len(desc) <= 5000 {
            ck.err(
                code::DESCRIPTION_WITH_FOOTER_TOO_LONG,
                &[seg("description")],
                format!(
                    "with the provenance footer the description is {total} characters; Sentinel allows 5000"
                ),
            )
            .hint = Some("shorten the description, or set [compile] provenance_footer = false".into());
        }
    }
}

fn duration_at(ck: &mut Ck<'_>, path: &[Seg<'_>], value: &str) -> Option<Duration> {
    match Duration::parse(value) {
        Some(d) => {
            if crate::model::duration::is_compound(value) {
                let span = ck.span(path);
                let short = if d.0 % 60 == 0 {
                    format!("{}m", d.0 / 60)
                } else {
                    format!("{}s", d.0)
                };
                ck.push(
                    Diagnostic::new(
                        code::NONCANONICAL_SPELLING,
                        span,
                        format!("`{value}` is read as {}", d.to_iso()),
                    )
                    .with_hint(format!(
                        "write {} or {short}: the Azure-Sentinel validator reads one unit only",
                        d.to_iso()
                    )),
                );
            }
            Some(d)
        }
        None => {
            ck.err(
                code::DURATION_SYNTAX,
                path,
                format!("`{value}` is not a duration"),
            )
            .hint = Some("write 5m, 1h, 1d or ISO-8601 such as PT1H or P1D".into());
            None
        }
    }
}

fn in_range(
    ck: &mut Ck<'_>,
    code: Code,
    path: &[Seg<'_>],
    what: &str,
    d: Duration,
    min: u64,
    max: u64,
) {
    if d.0 < min || d.0 > max {
        ck.err(
            code,
            path,
            format!(
                "{what} is {}; Sentinel allows {} to {}",
                d.human(),
                Duration(min).human(),
                Duration(max).human()
            ),
        );
    }
}

/// Scheduling checks shared by a rule and its per-environment overrides.
fn schedule(
    ck: &mut Ck<'_>,
    freq: Option<(&str, Vec<Seg<'static>>)>,
    period: Option<(&str, Vec<Seg<'static>>)>,
    threshold: Option<(i64, Vec<Seg<'static>>)>,
) {
    let f = freq.and_then(|(v, p)| {
        let d = duration_at(ck, &p, v)?;
        in_range(
            ck,
            code::FREQUENCY_RANGE,
            &p,
            "queryFrequency",
            d,
            5 * MINUTE,
            14 * DAY,
        );
        Some((d, p))
    });
    let pe = period.and_then(|(v, p)| {
        let d = duration_at(ck, &p, v)?;
        in_range(
            ck,
            code::PERIOD_RANGE,
            &p,
            "queryPeriod",
            d,
            5 * MINUTE,
            14 * DAY,
        );
        Some((d, p))
    });
    if let (Some((f, fp)), Some((p, pp))) = (&f, &pe) {
        if p < f {
            let d = Diagnostic::new(
                code::PERIOD_BELOW_FREQUENCY,
                ck.span(pp),
                format!(
                    "queryPeriod ({}) is shorter than queryFrequency ({}): events between runs would never be queried",
                    p.human(),
                    f.human()
                ),
            )
            .with_related(ck.span(fp), "queryFrequency");
            ck.push(d);
        }
        if p.0 >= 2 * DAY && f.0 < HOUR {
            let d = Diagnostic::new(
                code::LONG_PERIOD_FAST_FREQUENCY,
                ck.span(fp),
                format!(
                    "a queryPeriod of {} needs a queryFrequency of at least 1h, not {}",
                    p.human(),
                    f.human()
                ),
            )
            .with_related(ck.span(pp), "queryPeriod");
            ck.push(d);
        }
    }
    if let Some((t, p)) = threshold {
        if !(0..=10_000).contains(&t) {
            ck.err(
                code::TRIGGER_THRESHOLD_RANGE,
                &p,
                format!("triggerThreshold is {t}; allowed 0 to 10000"),
            );
        }
    }
}

fn rule(ck: &mut Ck<'_>, r: &Rule) {
    common(ck, Some(&r.id), &r.name, Some(&r.description));
    if let Some(g) = &r.guard {
        let gp = |k: &'static str| vec![Seg::from("guard"), Seg::from(k)];
        if let Some(x) = g.max_fp_rate.filter(|x| !(0.0..=1.0).contains(x)) {
            ck.err(
                code::INVALID_VALUE,
                &gp("max_fp_rate"),
                format!("guard.max_fp_rate is {x}; it must be from 0 to 1"),
            );
        }
        for (k, v) in [
            ("min_closed", g.min_closed),
            ("max_alerts_per_day", g.max_alerts_per_day),
        ] {
            if v == Some(0) {
                ck.err(
                    code::INVALID_VALUE,
                    &gp(k),
                    format!("guard.{k} is 0; it must be at least 1"),
                );
            }
        }
    }
    version(ck, "version", r.version.as_deref());
    techniques(ck, r.relevant_techniques.as_ref());
    let qlen = utf16_len(&r.query);
    if r.query.trim().is_empty() || qlen > 10_000 {
        ck.err_key(
            code::QUERY_LENGTH,
            &[seg("query")],
            if r.query.trim().is_empty() {
                "the query is empty".to_string()
            } else {
                format!("the query is {qlen} characters long; Sentinel allows 10,000")
            },
        )
        .hint = Some("move reusable parts into a workspace function (functions/)".into());
    }
    let p = |k: &'static str| vec![Seg::from(k)];
    match r.kind {
        RuleKind::Scheduled => {
            let root_span = ck.key_span(&[seg("kind")]);
            for (key, present) in [
                ("queryFrequency", r.query_frequency.is_some()),
                ("queryPeriod", r.query_period.is_some()),
                ("triggerOperator", r.trigger_operator.is_some()),
                ("triggerThreshold", r.trigger_threshold.is_some()),
            ] {
                if !present {
                    ck.push(
                        Diagnostic::new(
                            code::MISSING_FIELD,
                            root_span,
                            format!("a Scheduled rule needs `{key}`"),
                        )
                        .with_hint(match key {
                            "queryFrequency" | "queryPeriod" => format!("add `{key}: 1h`"),
                            "triggerOperator" => "add `triggerOperator: gt`".into(),
                            _ => "add `triggerThreshold: 0`".into(),
                        }),
                    );
                }
            }
            schedule(
                ck,
                r.query_frequency
                    .as_deref()
                    .map(|v| (v, p("queryFrequency"))),
                r.query_period.as_deref().map(|v| (v, p("queryPeriod"))),
                r.trigger_threshold.map(|t| (t, p("triggerThreshold"))),
            );
        }
        RuleKind::Nrt => {
            for (key, present) in [
                ("queryFrequency", r.query_frequency.is_some()),
                ("queryPeriod", r.query_period.is_some()),
                ("triggerOperator", r.trigger_operator.is_some()),
                ("triggerThreshold", r.trigger_threshold.is_some()),
            ] {
                if present {
                    let span = ck.key_span(&[seg(key)]);
                    ck.push(Diagnostic::new(
                        code::NRT_IGNORED_KEY,
                        span,
                        format!("`{key}` is ignored: NRT rules run every minute and trigger on any result"),
                    ));
                }
            }
        }
    }
    if let Some(s) = &r.suppression_duration {
        let path = p("suppressionDuration");
        if let Some(d) = duration_at(ck, &path, s) {
            in_range(
                ck,
                code::SUPPRESSION_RANGE,
                &path,
                "suppressionDuration",
                d,
                5 * MINUTE,
                DAY,
            );
        }
    }
    entity_mappings(ck, r.entity_mappings.as_deref(), &r.query);
    if let Some(sem) = &r.sentinel_entities_mappings {
        for (i, m) in sem.iter().enumerate() {
            column(
                ck,
                &m.column_name,
                &[
                    seg("sentinelEntitiesMappings"),
                    Seg::Index(i),
                    seg("columnName"),
                ],
            );
        }
    }
    custom_details(ck, r);
    alert_details_override(ck, r);
    incident_configuration(ck, r);
    provenance_review(
        ck,
        r.provenance.as_ref(),
        r.review.as_ref(),
        Some(&r.query),
        Some(&r.description),
    );
    environments(ck, r.environments.as_ref(), Some(r));
}

fn column(ck: &mut Ck<'_>, name: &str, path: &[Seg<'_>]) {
    if !is_column_name(name) {
        ck.err(
            code::INVALID_COLUMN_NAME,
            path,
            format!("`{name}` is not a valid column name"),
        )
        .hint = Some(
            "name a result column: letters, digits and underscores, not starting with a digit"
                .into(),
        );
    }
}

fn entity_mappings(ck: &mut Ck<'_>, maps: Option<&[EntityMapping]>, query: &str) {
    let maps = maps.unwrap_or(&[]);
    if maps.len() > 10 {
        ck.err_key(
            code::ENTITY_MAPPING_COUNT,
            &[seg("entityMappings")],
            format!("{} entity mappings; Sentinel allows 10", maps.len()),
        );
    } else if maps.len() > 5 {
        let span = ck.key_span(&[seg("entityMappings")]);
        ck.push(Diagnostic::new(
            code::DEPRECATED_ENTITY_LIMIT,
            span,
            format!(
                "{} entity mappings: Sentinel accepts up to 10, the Azure-Sentinel repository validator only 5",
                maps.len()
            ),
        ));
    }
    for (i, m) in maps.iter().enumerate() {
        let base = [seg("entityMappings"), Seg::Index(i)];
        let Some(et) = entity_type(&m.entity_type) else {
            let names = super::entities::ENTITY_TYPES.iter().map(|e| e.name);
            let hint = match did_you_mean(&m.entity_type, names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "see the entity types in Sentinel's documentation (Account, Host, IP, URL, File, FileHash, Process, ...)".into(),
            };
            ck.err(
                code::UNKNOWN_ENTITY_TYPE,
                &[base[0].clone(), base[1].clone(), seg("entityType")],
                format!("unknown entity type `{}`", m.entity_type),
            )
            .hint = Some(hint);
            continue;
        };
        let n = m.field_mappings.len();
        if n == 0 || n > 3 {
            ck.err_key(
                code::FIELD_MAPPING_COUNT,
                &[base[0].clone(), base[1].clone(), seg("fieldMappings")],
                format!(
                    "{n} identifiers in this {} mapping; Sentinel allows 1 to 3",
                    et.name
                ),
            );
        }
        let mut used: Vec<&str> = Vec::new();
        // An unknown identifier is the one cause: no second finding that the required ones
        // are missing (the misspelt one is usually the required one).
        let mut unknown = false;
        for (j, f) in m.field_mappings.iter().enumerate() {
            let fp = [
                base[0].clone(),
                base[1].clone(),
                seg("fieldMappings"),
                Seg::Index(j),
            ];
            if !et.identifiers.contains(&f.identifier.as_str()) {
                unknown = true;
                let hint = match did_you_mean(&f.identifier, et.identifiers.iter().copied()) {
                    Some(s) => format!(
                        "did you mean `{s}`? {} takes: {}",
                        et.name,
                        et.identifiers.join(", ")
                    ),
                    None => format!("{} takes: {}", et.name, et.identifiers.join(", ")),
                };
                ck.err(
                    code::INVALID_IDENTIFIER,
                    &[
                        fp[0].clone(),
                        fp[1].clone(),
                        fp[2].clone(),
                        fp[3].clone(),
                        seg("identifier"),
                    ],
                    format!("`{}` is not an identifier of {}", f.identifier, et.name),
                )
                .hint = Some(hint);
            } else if used.contains(&f.identifier.as_str()) {
                ck.err(
                    code::REPEATED_IDENTIFIER,
                    &[
                        fp[0].clone(),
                        fp[1].clone(),
                        fp[2].clone(),
                        fp[3].clone(),
                        seg("identifier"),
                    ],
                    format!(
                        "identifier `{}` appears twice in this mapping",
                        f.identifier
                    ),
                );
            } else {
                used.push(&f.identifier);
            }
            column(
                ck,
                &f.column_name,
                &[
                    fp[0].clone(),
                    fp[1].clone(),
                    fp[2].clone(),
                    fp[3].clone(),
                    seg("columnName"),
                ],
            );
        }
        let has_required = et
            .required
            .iter()
            .any(|alt| alt.iter().all(|id| used.contains(id)));
        if !has_required && n > 0 && !unknown {
            let alts: Vec<String> = et.required.iter().map(|a| a.join(" + ")).collect();
            ck.err_key(
                code::MISSING_REQUIRED_IDENTIFIER,
                &[base[0].clone(), base[1].clone(), seg("fieldMappings")],
                format!(
                    "this {} mapping has no identifier that identifies it on its own",
                    et.name
                ),
            )
            .hint = Some(format!("map one of: {}", alts.join(", ")));
        }
    }
    for legacy in [
        "AccountCustomEntity",
        "HostCustomEntity",
        "IPCustomEntity",
        "URLCustomEntity",
        "ProcessCustomEntity",
        "FileHashCustomEntity",
    ] {
        if contains_word(query, legacy)
            && !maps
                .iter()
                .any(|m| m.field_mappings.iter().any(|f| f.column_name == legacy))
        {
            ck.err(
                code::LEGACY_CUSTOM_ENTITY,
                &[seg("query")],
                format!("the query produces `{legacy}`, but no entity mapping uses it"),
            )
            .hint = Some(format!(
                "add an entity mapping with columnName: {legacy}, or drop the column"
            ));
        }
    }
}

fn contains_word(text: &str, word: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let s = from + i;
        let e = s + word.len();
        let before = s == 0 || !(bytes[s - 1].is_ascii_alphanumeric() || bytes[s - 1] == b'_');
        let after = e >= bytes.len() || !(bytes[e].is_ascii_alphanumeric() || bytes[e] == b'_');
        if before && after {
            return true;
        }
        from = e;
    }
    false
}

fn custom_details(ck: &mut Ck<'_>, r: &Rule) {
    let Some(cd) = &r.custom_details else { return };
    if cd.len() > 20 {
        ck.err_key(
            code::CUSTOM_DETAILS_COUNT,
            &[seg("customDetails")],
            format!("{} custom details; Sentinel allows 20", cd.len()),
        );
    }
    static KEY: OnceLock<Regex> = OnceLock::new();
    let key_re = re(&KEY, r"^[a-zA-Z]+\w*$");
    for (k, v) in cd {
        if k.len() > 20 || !key_re.is_match(k) {
            let span = ck.key_span(&[seg("customDetails"), Seg::Key(k.as_str().into())]);
            ck.push(
                Diagnostic::new(
                    code::CUSTOM_DETAILS_KEY,
                    span,
                    format!("custom detail key `{k}` is invalid"),
                )
                .with_hint("at most 20 characters: a letter, then letters, digits or underscores"),
            );
        }
        if !is_column_name(v) {
            ck.err(
                code::CUSTOM_DETAILS_VALUE,
                &[seg("customDetails"), Seg::Key(k.as_str().into())],
                format!("custom detail value `{v}` is not a column name"),
            );
        }
    }
}

fn alert_details_override(ck: &mut Ck<'_>, r: &Rule) {
    let Some(o) = &r.alert_details_override else {
        return;
    };
    for (key, val, max) in [
        (
            "alertDisplayNameFormat",
            &o.alert_display_name_format,
            256usize,
        ),
        (
            "alertDescriptionFormat",
            &o.alert_description_format,
            5000usize,
        ),
    ] {
        let Some(v) = val else { continue };
        let path = [seg("alertDetailsOverride"), seg(key)];
        let len = utf16_len(v);
        if v.trim().is_empty() || len > max {
            ck.err(
                code::OVERRIDE_FORMAT,
                &path,
                if v.trim().is_empty() {
                    format!("{key} is empty")
                } else {
                    format!("{key} is {len} characters long; Sentinel allows {max}")
                },
            );
        }
        let n = placeholders(v);
        if n > 3 {
            ck.err(
                code::OVERRIDE_PLACEHOLDERS,
                &path,
                format!(
                    "{key} uses {n} {{{{column}}}} placeholders; Sentinel substitutes at most 3"
                ),
            );
        }
    }
    for (key, val) in [
        ("alertTacticsColumnName", &o.alert_tactics_column_name),
        ("alertSeverityColumnName", &o.alert_severity_column_name),
    ] {
        if let Some(v) = val {
            column(ck, v, &[seg("alertDetailsOverride"), seg(key)]);
        }
    }
    for (i, p) in o.alert_dynamic_properties.iter().flatten().enumerate() {
        column(
            ck,
            &p.value,
            &[
                seg("alertDetailsOverride"),
                seg("alertDynamicProperties"),
                Seg::Index(i),
                seg("value"),
            ],
        );
    }
}

fn incident_configuration(ck: &mut Ck<'_>, r: &Rule) {
    let Some(ic) = &r.incident_configuration else {
        return;
    };
    let Some(g) = &ic.grouping_configuration else {
        return;
    };
    let base = [seg("incidentConfiguration"), seg("groupingConfiguration")];
    let lb = [base[0].clone(), base[1].clone(), seg("lookbackDuration")];
    if let Some(d) = duration_at(ck, &lb, &g.lookback_duration) {
        in_range(
            ck,
            code::LOOKBACK_RANGE,
            &lb,
            "lookbackDuration",
            d,
            5 * MINUTE,
            7 * DAY,
        );
    }
    let ents = g.group_by_entities.as_deref().unwrap_or(&[]);
    let details = g.group_by_alert_details.as_deref().unwrap_or(&[]);
    let customs = g.group_by_custom_details.as_deref().unwrap_or(&[]);
    if g.matching_method == MatchingMethod::Selected
        && ents.is_empty()
        && details.is_empty()
        && customs.is_empty()
    {
        ck.err(
            code::GROUPING_NOTHING_SELECTED,
            &[base[0].clone(), base[1].clone(), seg("matchingMethod")],
            "matchingMethod Selected needs groupByEntities, groupByAlertDetails or groupByCustomDetails",
        );
    }
    let mapped: Vec<&str> = r
        .entity_mappings
        .iter()
        .flatten()
        .map(|m| m.entity_type.as_str())
        .collect();
    for (i, e) in ents.iter().enumerate() {
        if !mapped.contains(&e.as_str()) {
            ck.err(
                code::GROUPING_REFERENCE,
                &[
                    base[0].clone(),
                    base[1].clone(),
                    seg("groupByEntities"),
                    Seg::Index(i),
                ],
                format!("groupByEntities names `{e}`, but the rule maps no {e} entity"),
            );
        }
    }
    for (i, c) in customs.iter().enumerate() {
        if !r
            .custom_details
            .as_ref()
            .is_some_and(|cd| cd.contains_key(c))
        {
            ck.err(
                code::GROUPING_REFERENCE,
                &[
                    base[0].clone(),
                    base[1].clone(),
                    seg("groupByCustomDetails"),
                    Seg::Index(i),
                ],
                format!("groupByCustomDetails names `{c}`, which customDetails does not define"),
            );
        }
    }
}

fn environments(
    ck: &mut Ck<'_>,
    envs: Option<&indexmap::IndexMap<String, EnvOverride>>,
    rule: Option<&Rule>,
) {
    let Some(envs) = envs else { return };
    for (name, o) in envs {
        let base = vec![Seg::from("environments"), Seg::Key(name.clone().into())];
        if !ck.config_envs.is_empty() && !ck.config_envs.iter().any(|e| e == name) {
            let span = ck.key_span(&base);
            let mut d = Diagnostic::new(
                code::ENVIRONMENT_OVERRIDE,
                span,
                format!("environment `{name}` is not defined in vigil.toml; this override never applies"),
            );
            if let Some(m) = did_you_mean(name, ck.config_envs.iter().map(|s| s.as_str())) {
                d = d.with_hint(format!("did you mean `{m}`?"));
            }
            ck.push(d);
        }
        let owned = |k: &'static str| {
            let mut p: Vec<Seg<'static>> = base
                .iter()
                .map(|s| match s {
                    Seg::Key(k) => Seg::Key(k.clone().into_owned().into()),
                    Seg::Index(i) => Seg::Index(*i),
                })
                .collect();
            p.push(Seg::from(k));
            p
        };
        match rule {
            Some(r) => {
                let sched_keys = o.query_frequency.is_some()
                    || o.query_period.is_some()
                    || o.trigger_threshold.is_some()
                    || o.trigger_operator.is_some();
                if r.kind == RuleKind::Nrt && sched_keys {
                    let span = ck.key_span(&base);
                    ck.push(Diagnostic::new(
                        code::ENVIRONMENT_OVERRIDE,
                        span,
                        format!("environment `{name}` overrides scheduling keys of an NRT rule, which has none"),
                    ));
                }
                if r.kind == RuleKind::Scheduled {
                    // Effective values: the override where given, else the rule's.
                    let freq = o
                        .query_frequency
                        .as_deref()
                        .map(|v| (v, owned("queryFrequency")))
                        .or_else(|| {
                            r.query_frequency
                                .as_deref()
                                .map(|v| (v, vec![Seg::from("queryFrequency")]))
                        });
                    let period = o
                        .query_period
                        .as_deref()
                        .map(|v| (v, owned("queryPeriod")))
                        .or_else(|| {
                            r.query_period
                                .as_deref()
                                .map(|v| (v, vec![Seg::from("queryPeriod")]))
                        });
                    if o.query_frequency.is_some()
                        || o.query_period.is_some()
                        || o.trigger_threshold.is_some()
                    {
                        // Report only findings that involve the override.
                        let before = ck.diags.len();
                        schedule(
                            ck,
                            freq,
                            period,
                            o.trigger_threshold.map(|t| (t, owned("triggerThreshold"))),
                        );
                        let env_span = ck.key_span(&base);
                        for d in &mut ck.diags[before..] {
                            if !d.message.contains(&format!("environment `{name}`")) {
                                d.message = format!("environment `{name}`: {}", d.message);
                            }
                            if d.related.is_empty() {
                                d.related.push(crate::diagnostics::Related {
                                    span: env_span,
                                    message: format!("in environment `{name}`"),
                                });
                            }
                        }
                        let keep: Vec<Diagnostic> = ck.diags.drain(before..).collect();
                        // Drop findings that only repeat a problem of the base rule.
                        for d in keep {
                            if !ck
                                .diags
                                .iter()
                                .any(|x| x.code == d.code && x.span == d.span)
                            {
                                ck.diags.push(d);
                            }
                        }
                    }
                }
                if let Some(s) = &o.suppression_duration {
                    let path = owned("suppressionDuration");
                    if let Some(d) = duration_at(ck, &path, s) {
                        in_range(
                            ck,
                            code::SUPPRESSION_RANGE,
                            &path,
                            "suppressionDuration",
                            d,
                            5 * MINUTE,
                            DAY,
                        );
                    }
                }
            }
            None => {
                let rule_only = o.query_frequency.is_some()
                    || o.query_period.is_some()
                    || o.trigger_threshold.is_some()
                    || o.trigger_operator.is_some()
                    || o.suppression_duration.is_some()
                    || o.suppression_enabled.is_some()
                    || o.severity.is_some();
                if rule_only {
                    let span = ck.key_span(&base);
                    ck.push(Diagnostic::new(
                        code::ENVIRONMENT_OVERRIDE,
                        span,
                        format!(
                            "environment `{name}` overrides rule settings that a {} does not have",
                            ck.def.kind().as_str()
                        ),
                    ));
                }
            }
        }
    }
}

const RULE_ONLY_KEYS: &[&str] = &[
    "queryFrequency",
    "queryPeriod",
    "triggerOperator",
    "triggerThreshold",
    "customDetails",
    "alertDetailsOverride",
    "eventGroupingSettings",
    "incidentConfiguration",
    "suppressionEnabled",
    "suppressionDuration",
];

fn hunt(ck: &mut Ck<'_>, h: &Hunt) {
    // A hunt deploys as a saved search: its resource name, display name, query and tags. Fields
    // that are not deployed (severity, connectors, entity mappings) and free-text tags (version,
    // techniques) are checked with warnings only, as the Azure-Sentinel tooling does not check
    // hunting queries' structure at all.
    common(ck, None, &h.name, Some(&h.description));
    if !is_guid(&h.id) {
        let span = ck.span(&[seg("id")]);
        ck.push(
            Diagnostic::new(code::ID_NOT_GUID, span, format!("id `{}` is not a GUID", h.id))
                .with_severity(Severity::Warning)
                .with_hint("saved searches accept any name, but GUIDs keep export and re-import round-tripping"),
        );
    }
    ck.cap = Some(Severity::Warning);
    version(ck, "version", h.version.as_deref());
    techniques(ck, h.relevant_techniques.as_ref());
    if let Some(sev) = &h.severity {
        let names = ["Informational", "Low", "Medium", "High"];
        if !names.iter().any(|n| n.eq_ignore_ascii_case(sev.trim())) {
            let mut d = Diagnostic::new(
                code::INVALID_VALUE,
                ck.span(&[seg("severity")]),
                format!("`{sev}` is not a severity"),
            );
            if let Some(m) = did_you_mean(sev, names) {
                d = d.with_hint(format!("did you mean `{m}`?"));
            }
            ck.push(d);
        }
    }
    for (i, c) in h.required_data_connectors.iter().flatten().enumerate() {
        if serde_json::from_value::<crate::model::DataConnector>(c.clone()).is_err()
            || !c.is_object()
        {
            let d = Diagnostic::new(
                code::WRONG_TYPE,
                ck.span(&[seg("requiredDataConnectors"), Seg::Index(i)]),
                "a data connector is a mapping with connectorId and dataTypes",
            );
            ck.push(d);
        }
    }
    let mut typed_maps = Vec::new();
    for (i, m) in h.entity_mappings.iter().flatten().enumerate() {
        match serde_json::from_value::<EntityMapping>(m.clone()) {
            Ok(t) => typed_maps.push(t),
            Err(e) => {
                let d = Diagnostic::new(
                    code::WRONG_TYPE,
                    ck.span(&[seg("entityMappings"), Seg::Index(i)]),
                    format!("this entity mapping is malformed: {e}"),
                )
                .with_hint(
                    "entityType: a string; fieldMappings: a list of {identifier, columnName}",
                );
                ck.push(d);
            }
        }
    }
    ck.cap = None;
    if h.query.trim().is_empty() {
        ck.err(code::QUERY_LENGTH, &[seg("query")], "the query is empty");
    }
    for (i, t) in h.tactics.iter().flatten().enumerate() {
        let path = [seg("tactics"), Seg::Index(i)];
        match crate::model::Tactic::parse_loose(t) {
            Some(c) if c.name() == t => {}
            Some(c) => {
                let span = ck.span(&path);
                ck.push(
                    Diagnostic::new(
                        code::NONCANONICAL_SPELLING,
                        span,
                        format!("`{t}` is read as `{}`", c.name()),
                    )
                    .with_hint(format!("write `{}`", c.name())),
                );
            }
            None => {
                let names = crate::model::Tactic::ALL.map(|t| t.name());
                let hint = match did_you_mean(t, names.iter().copied()) {
                    Some(m) => format!("did you mean `{m}`? It is kept as a free-text tag"),
                    None => "it is kept as a free-text tag; ATT&CK tactics make hunts searchable by tactic".into(),
                };
                let span = ck.span(&path);
                ck.push(
                    Diagnostic::new(
                        code::UNKNOWN_TACTIC,
                        span,
                        format!("`{t}` is not a MITRE ATT&CK tactic"),
                    )
                    .with_severity(Severity::Warning)
                    .with_hint(hint),
                );
            }
        }
    }
    let mut ignored: Vec<&str> = Vec::new();
    if let Some(k) = &h.kind {
        let k = k.as_str().unwrap_or("").to_ascii_lowercase();
        if k != "hunting" && k != "huntingquery" && !k.is_empty() {
            ignored.push("kind");
        }
    }
    for key in RULE_ONLY_KEYS {
        if ck.def.doc.get(key).is_some() {
            ignored.push(key);
        }
    }
    if !ignored.is_empty() {
        let span = ck.key_span(&[seg(ignored[0])]);
        ck.push(
            Diagnostic::new(
                code::IGNORED_RULE_KEY,
                span,
                format!(
                    "this hunting query carries rule-only keys ({}); they are ignored and no alert rule is created",
                    ignored.join(", ")
                ),
            )
            .with_hint("to raise alerts, move the file to a rules folder (detections/) as a Scheduled rule"),
        );
    }
    // Entity mappings in hunts only matter when the query is promoted; findings are warnings.
    ck.cap = Some(Severity::Warning);
    if h.entity_mappings
        .as_ref()
        .is_some_and(|m| m.len() == typed_maps.len())
    {
        entity_mappings(ck, Some(&typed_maps), "");
    }
    ck.cap = None;
    provenance_review(
        ck,
        h.provenance.as_ref(),
        h.review.as_ref(),
        Some(&h.query),
        Some(&h.description),
    );
    environments(ck, h.environments.as_ref(), None);
}

/// KQL scalar types accepted in function parameters.
const KQL_TYPES: &[&str] = &[
    "string", "int", "long", "real", "double", "decimal", "bool", "boolean", "datetime", "date",
    "timespan", "time", "dynamic", "guid", "uniqueid", "int64", "int32",
];

fn function(ck: &mut Ck<'_>, f: &Function) {
    common(ck, Some(&f.id), &f.name, f.description.as_deref());
    version(ck, "version", f.version.as_deref());
    static IDENT: OnceLock<Regex> = OnceLock::new();
    let ident = re(&IDENT, r"^[A-Za-z_][A-Za-z0-9_]*$");
    if !ident.is_match(&f.function_alias) {
        ck.err(
            code::FUNCTION_SIGNATURE,
            &[seg("functionAlias")],
            format!(
                "functionAlias `{}` is not a KQL identifier",
                f.function_alias
            ),
        )
        .hint = Some("letters, digits and underscores, not starting with a digit".into());
    }
    if f.query.trim().is_empty() {
        ck.err(
            code::QUERY_LENGTH,
            &[seg("query")],
            "the function body is empty",
        );
    }
    let mut seen_default = false;
    let mut names: Vec<&str> = Vec::new();
    for (i, p) in f.function_parameters.iter().flatten().enumerate() {
        let base = [seg("functionParameters"), Seg::Index(i)];
        if !ident.is_match(&p.name) {
            ck.err(
                code::FUNCTION_SIGNATURE,
                &[base[0].clone(), base[1].clone(), seg("name")],
                format!("parameter name `{}` is not a KQL identifier", p.name),
            );
        } else if names.contains(&p.name.as_str()) {
            ck.err(
                code::FUNCTION_SIGNATURE,
                &[base[0].clone(), base[1].clone(), seg("name")],
                format!("parameter `{}` is declared twice", p.name),
            );
        }
        names.push(&p.name);
        let ty = p.ty.trim().to_ascii_lowercase();
        let tabular = ty.starts_with('(') || ty.starts_with("table");
        if !tabular && !KQL_TYPES.contains(&ty.as_str()) {
            let hint = match did_you_mean(&ty, KQL_TYPES.iter().copied()) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!("scalar types: {}", KQL_TYPES.join(", ")),
            };
            ck.err(
                code::FUNCTION_SIGNATURE,
                &[base[0].clone(), base[1].clone(), seg("type")],
                format!("`{}` is not a KQL type", p.ty),
            )
            .hint = Some(hint);
        }
        if p.default.is_some() {
            seen_default = true;
        } else if seen_default {
            ck.err(
                code::FUNCTION_SIGNATURE,
                &[base[0].clone(), base[1].clone(), seg("name")],
                format!(
                    "parameter `{}` has no default but follows one that has",
                    p.name
                ),
            )
            .hint = Some("KQL requires parameters with defaults to come last".into());
        }
    }
    provenance_review(
        ck,
        f.provenance.as_ref(),
        f.review.as_ref(),
        Some(&f.query),
        f.description.as_deref(),
    );
}

fn anomaly(ck: &mut Ck<'_>, a: &Anomaly) {
    common(ck, Some(&a.id), &a.name, a.description.as_deref());
    version(ck, "anomalyVersion", Some(&a.anomaly_version));
    techniques(ck, a.relevant_techniques.as_ref());
    if let Some(id) = &a.settings_definition_id {
        if !is_guid(id) {
            ck.err(
                code::ID_NOT_GUID,
                &[seg("settingsDefinitionId")],
                format!("settingsDefinitionId `{id}` is not a GUID"),
            );
        }
    }
    let path = [seg("frequency")];
    if let Some(d) = duration_at(ck, &path, &a.frequency) {
        if d.0 == 0 {
            ck.err(code::ANOMALY_SETTINGS, &path, "frequency must be positive");
        }
    }
    if a.is_default_settings && a.customizable_observations.is_some() {
        let span = ck.key_span(&[seg("isDefaultSettings")]);
        ck.push(
            Diagnostic::new(
                code::ANOMALY_SETTINGS,
                span,
                "tuned observations on the default settings: Sentinel keeps the built-in defaults, tune a copy",
            )
            .with_hint("set isDefaultSettings: false and settingsStatus: Flighting to test the tuned copy"),
        );
    }
    provenance_review(
        ck,
        a.provenance.as_ref(),
        a.review.as_ref(),
        None,
        a.description.as_deref(),
    );
    environments(ck, a.environments.as_ref(), None);
}

fn watchlist(ck: &mut Ck<'_>, w: &Watchlist, items: &WatchlistItems) {
    common(ck, w.id.as_deref(), &w.name, w.description.as_deref());
    static ALIAS: OnceLock<Regex> = OnceLock::new();
    if !re(&ALIAS, r"^[A-Za-z0-9_\-]{1,64}$").is_match(&w.alias) {
        ck.err(
            code::WATCHLIST_CONTENT,
            &[seg("alias")],
            format!(
                "alias `{}` must be 1 to 64 letters, digits, `_` or `-`",
                w.alias
            ),
        );
    }
    if let Some(d) = &w.default_duration {
        duration_at(ck, &[seg("defaultDuration")], d);
    }
    let size: usize = crate::csv::write(
        &std::iter::once(items.header.clone())
            .chain(items.rows.iter().cloned())
            .collect::<Vec<_>>(),
    )
    .len();
    if size > MAX_WATCHLIST_BYTES {
        ck.err(
            code::WATCHLIST_CONTENT,
            &[seg("alias")],
            format!("the items are {size} bytes; a local watchlist upload allows about 3.8 MB"),
        );
    }
    provenance_review(
        ck,
        w.provenance.as_ref(),
        w.review.as_ref(),
        None,
        w.description.as_deref(),
    );
}
