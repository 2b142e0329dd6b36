//! `vigil draft`: a hunt or a rule drafted by a model with vigil's compiler and engine in the
//! loop.
//!
//! Each round sends the hypothesis (and `--from` reports, redacted), the grounding (`ground`)
//! and, after the first round, what was wrong with the last draft; the answer is one JSON object
//! of the shape `shape::schema` gives (requested as a JSON schema where the endpoint enforces
//! one, checked locally either way). The draft is written as a candidate in the repository's
//! first folder of its kind and judged by the whole validation pipeline (parse, bind, lints, AI
//! policy: POL004/POL005), then run: a hunt once over the sandbox window (no rows, or over
//! 10,000, goes back with the figures), a rule through `vigil dry-run` (over the alert budget
//! goes back) and its drafted detection tests (a failing case goes back). At most
//! `[ai] max_repairs` repairs; then it stops with the last problems and writes no file. Every
//! round is an audit line. Keys never appear in output or the audit.

mod endpoint;
mod files;
mod ground;
pub mod shape;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::{Context, OpError};
use crate::model::Item;
use ground::Target;

/// What to draft.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DraftKind {
    #[default]
    Hunt,
    Rule,
}

#[derive(Clone, Debug, Default)]
pub struct DraftOptions {
    pub hypothesis: Option<String>,
    /// Threat reports or notes to draft from (their SHA-256 go into provenance.sources).
    pub from: Vec<PathBuf>,
    /// Where to write the draft (default `<first folder of the kind>/<slug>.yaml`).
    pub out: Option<PathBuf>,
    pub kind: DraftKind,
    /// Ground the draft in an environment's first workspace (its pulled catalog and the tables
    /// that have data there) and dry-run candidates through its query API.
    pub env: Option<String>,
}

pub struct DraftOutcome {
    /// The files written (the definition first; a rule's tests file second). Empty when no
    /// draft passed.
    pub written: Vec<PathBuf>,
    pub rounds: usize,
    /// One audit line per round.
    pub audit: Vec<Value>,
    /// The last round's problems (empty when a draft passed).
    pub problems: Vec<String>,
    /// Why the loop stopped early (the endpoint failed or refused, the model is not allowed):
    /// nothing was written, and the audit still has every round.
    pub error: Option<String>,
}

/// Most rows a hunt may return over the window before it goes back as too broad.
const MAX_ROWS: usize = 10_000;
/// Sample rows (redacted) that go back with a too-broad hunt.
const FEEDBACK_SAMPLES: usize = 3;

fn sha256(s: &[u8]) -> String {
    crate::hash::sha256_hex(s)
}

fn system_prompt(kind: DraftKind) -> String {
    let what = match kind {
        DraftKind::Hunt => "hunting queries",
        DraftKind::Rule => "Scheduled analytics rules",
    };
    let mut s = format!(
        "You draft Microsoft Sentinel {what} in KQL. Use only the tables, columns, functions and watchlists listed. \
         Answer with one JSON object with the fields name, description, hypothesis (one sentence), rationale, query, \
         tactics (Sentinel tactic names such as CredentialAccess), techniques (ATT&CK ids such as T1110.003), \
         expected_evidence, false_positives, confidence (low|medium|high)"
    );
    if kind == DraftKind::Rule {
        s.push_str(
            ", severity (Informational|Low|Medium|High), query_frequency and query_period (such as 1h), \
             entity_mappings (Sentinel entityMappings: entityType and fieldMappings of identifier and columnName, \
             each column one the query returns) and tests: detection tests, each {name, table, rows, alerts} where rows \
             is JSON Lines of row objects of the table (TimeGenerated relative to the run, such as \"-10m\") and alerts \
             the number of alerts one run over them raises; give at least one case that fires and one that stays silent",
        );
    }
    s.push('.');
    s
}

fn slug(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let s = s
        .split('_')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let s: String = s.chars().take(60).collect();
    if s.is_empty() {
        "drafted".into()
    } else {
        s
    }
}

/// The first free `dir/stem.yaml`, `dir/stem_2.yaml`, ...
fn free_path(dir: &Path, stem: &str) -> PathBuf {
    let mut p = dir.join(format!("{stem}.yaml"));
    let mut n = 2;
    while p.exists() || crate::dryrun::tests_path(&p).exists() {
        p = dir.join(format!("{stem}_{n}.yaml"));
        n += 1;
    }
    p
}

/// Provenance as vigil writes it (never the model).
fn provenance(
    resp: &Value,
    ai_model: &str,
    request_sha: &str,
    d: &Value,
    sources: &[String],
) -> String {
    use files::yaml_str;
    format!(
        "provenance:\n  origin: ai\n  model: {}\n  model_version: {}\n  prompt_sha256: {request_sha}\n  generated_at: {}\n  generator: {}\n  confidence: {}\n{}",
        yaml_str(resp["model"].as_str().unwrap_or(ai_model)),
        // The endpoint's own build identity when it reports one, else the model id it answered
        // with.
        yaml_str(
            resp["system_fingerprint"]
                .as_str()
                .or(resp["model"].as_str())
                .unwrap_or(ai_model)
        ),
        yaml_str(&crate::clock::now_rfc3339()),
        yaml_str(&format!("vigil draft {}", env!("CARGO_PKG_VERSION"))),
        match d["confidence"].as_str() {
            Some("low") => "low",
            Some("high") => "high",
            _ => "medium",
        },
        if sources.is_empty() {
            String::new()
        } else {
            format!(
                "  sources:\n{}",
                sources
                    .iter()
                    .map(|s| format!("    - {}\n", yaml_str(s)))
                    .collect::<String>()
            )
        }
    )
}

/// One run of a hunt's query over the window: rows returned, rows scanned (locally) and a few
/// redacted sample rows.
struct HuntRun {
    rows: usize,
    rows_scanned: Option<u64>,
    samples: Vec<Value>,
}

fn run_hunt(
    cx: &Context,
    target: &Target,
    query: &str,
    (start, end): (i64, i64),
    redactor: &crate::redact::Redactor,
) -> Result<HuntRun, String> {
    let obj = |names: &[String], row: &[Value]| redactor.row(names.iter().map(String::as_str), row);
    match target {
        Target::Sandbox(sb) => {
            let opts = crate::engine::RunOptions {
                now: end,
                window: Some((start, end)),
            };
            let r = crate::engine::run(query, sb, opts).map_err(|e| e.message)?;
            let names: Vec<String> = r.table.columns.iter().map(|c| c.name.clone()).collect();
            let samples = r
                .table
                .json_rows()
                .iter()
                .take(FEEDBACK_SAMPLES)
                .map(|row| obj(&names, row.as_array().map(Vec::as_slice).unwrap_or(&[])))
                .collect();
            Ok(HuntRun {
                rows: r.table.rows,
                rows_scanned: Some(r.rows_scanned),
                samples,
            })
        }
        Target::Workspace {
            env, workspace_id, ..
        } => {
            use crate::engine::value::format_datetime;
            let client = cx.query_client(env).map_err(|e| e.message)?;
            let rt = super::deploy::runtime().map_err(|e| e.message)?;
            // One more row than the limit tells "too many" without fetching everything.
            let capped = format!(
                "{}\n| take {}",
                query.trim_end().trim_end_matches(';'),
                MAX_ROWS + 1
            );
            let span = format!("{}/{}", format_datetime(start), format_datetime(end));
            let r = rt
                .block_on(crate::azure::query::query(
                    &client,
                    workspace_id,
                    &capped,
                    Some(&span),
                    false,
                ))
                .map_err(|e| e.to_string())?;
            if let Some(p) = r.partial_error {
                return Err(format!("partial result: {p}"));
            }
            let t = r
                .tables
                .into_iter()
                .next()
                .unwrap_or(crate::azure::query::Table {
                    name: String::new(),
                    columns: Vec::new(),
                    rows: Vec::new(),
                });
            let names: Vec<String> = t.columns.iter().map(|c| c.0.clone()).collect();
            Ok(HuntRun {
                rows: t.rows.len(),
                rows_scanned: None,
                samples: t
                    .rows
                    .iter()
                    .take(FEEDBACK_SAMPLES)
                    .map(|row| obj(&names, row))
                    .collect(),
            })
        }
    }
}

pub fn draft(cx: &Context, o: &DraftOptions) -> Result<DraftOutcome, OpError> {
    let ai = cx.config.ai.clone();
    if ai.base_url.is_empty() || ai.model.is_empty() {
        return Err(OpError::usage(
            "vigil.toml has no [ai] base_url and model: name the model endpoint to draft with",
        ));
    }
    if let Some(p) = &o.out {
        let p = cx.path(p);
        if p.exists() {
            return Err(OpError::usage(format!(
                "--out {}: the file exists; vigil draft does not overwrite content",
                p.display()
            )));
        }
    }
    let rt = super::deploy::runtime()?;
    let ep = endpoint::Endpoint::new(cx, &ai, &rt)?;
    let redactor = cx.redactor();
    let mut input = redactor.text(o.hypothesis.as_deref().unwrap_or_default());
    let mut sources = Vec::new();
    for p in &o.from {
        let p = cx.path(p);
        let text = std::fs::read_to_string(&p)
            .map_err(|e| OpError::usage(format!("--from {}: {e}", p.display())))?;
        sources.push(format!(
            "{} sha256:{}",
            p.file_name().unwrap_or_default().to_string_lossy(),
            sha256(text.as_bytes())
        ));
        input.push_str("\n\nThreat report:\n");
        input.push_str(&redactor.text(&text));
    }
    if input.trim().is_empty() {
        return Err(OpError::usage("give --hypothesis TEXT or --from FILE"));
    }
    if let Some(h) = &o.hypothesis {
        sources.insert(0, format!("hypothesis sha256:{}", sha256(h.as_bytes())));
    }
    let g = ground::grounding(cx, o.env.as_deref(), &input)?;
    let cfg = cx.sandbox();
    let window = match &g.target {
        // The emulator answers from the sandbox, whose clock is `[sandbox] now`.
        Target::Sandbox(_) => cfg.window(),
        Target::Workspace { env, .. } if env.emulator => cfg.window(),
        // A workspace is judged over the same number of days up to its real now.
        Target::Workspace { .. } => {
            let now = crate::engine::value::parse_datetime(&crate::clock::now_rfc3339())
                .unwrap_or(cfg.now);
            (now - cfg.days * 24 * crate::engine::value::HOUR, now)
        }
    };
    let kind_word = match o.kind {
        DraftKind::Hunt => "Hypothesis",
        DraftKind::Rule => "Detection to write",
    };
    let mut messages = vec![
        json!({"role": "system", "content": system_prompt(o.kind)}),
        json!({"role": "user", "content": format!("{}\n{kind_word}:\n{input}", g.text)}),
    ];
    let mut out = DraftOutcome {
        written: Vec::new(),
        rounds: 0,
        audit: Vec::new(),
        problems: Vec::new(),
        error: None,
    };
    // The repository's first folder of the kind: where the candidate is found as content
    // while it is judged, and where the draft goes by default.
    let folders = match o.kind {
        DraftKind::Hunt => (&cx.config.content.hunts, "hunts"),
        DraftKind::Rule => (&cx.config.content.rules, "detections"),
    };
    let dir = cx
        .root
        .join(folders.0.first().map(String::as_str).unwrap_or(folders.1));
    let schema = shape::schema(o.kind);
    let mut told_tables = false;
    for round in 0..=ai.max_repairs {
        out.rounds = round as usize + 1;
        let mut body =
            json!({"model": ai.model, "messages": messages, "temperature": ai.temperature});
        if let Some(f) = shape::response_format(o.kind, ai.response_format) {
            body["response_format"] = f;
        }
        if let Some(s) = ai.seed {
            body["seed"] = json!(s);
        }
        let body_text = body.to_string();
        let request_sha = sha256(body_text.as_bytes());
        let (status, text) = match ep.call(&rt, &body_text) {
            Ok(x) => x,
            Err(e) => {
                out.audit.push(json!({"round": round + 1, "request_sha256": request_sha, "outcome": "no_answer"}));
                out.error = Some(e);
                return Ok(out);
            }
        };
        let mut line = json!({
            "round": round + 1, "request_sha256": request_sha, "response_sha256": sha256(text.as_bytes()),
            "status": status,
        });
        if round == 0 {
            line["grounding"] = json!({"target": where_(&g.target), "tables": g.tables});
        }
        let resp: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status != 200 {
            // Azure OpenAI blocks a prompt with HTTP 400 and error code content_filter.
            let filtered = resp["error"]["code"] == "content_filter";
            line["outcome"] = json!(if filtered { "content_filter" } else { "error" });
            out.audit.push(line);
            out.error = Some(if filtered {
                "the model endpoint's content filter blocked the prompt; nothing was written".into()
            } else {
                format!(
                    "the model endpoint answered HTTP {status}: {}",
                    redactor.text(&text.chars().take(200).collect::<String>())
                )
            });
            return Ok(out);
        }
        line["model"] = resp["model"].clone();
        line["usage"] = resp["usage"].clone();
        let choice = &resp["choices"][0];
        if choice["finish_reason"] == "content_filter" {
            line["outcome"] = json!("content_filter");
            out.audit.push(line);
            out.error = Some(
                "the model endpoint stopped the answer with its content filter; nothing was written"
                    .into(),
            );
            return Ok(out);
        }
        if let Some(r) = choice["message"]["refusal"]
            .as_str()
            .filter(|r| !r.is_empty())
        {
            line["outcome"] = json!("refused");
            out.audit.push(line);
            out.error = Some(format!(
                "the model refused: {}; nothing was written",
                redactor.text(&r.chars().take(200).collect::<String>())
            ));
            return Ok(out);
        }
        let content = choice["message"]["content"].as_str().unwrap_or("");
        let judged = std::time::Instant::now();
        let mut spent_running = std::time::Duration::ZERO;
        let mut draft_tables = Vec::new();
        let problems: Vec<String> = match serde_json::from_str::<Value>(content) {
            Err(e) if content.trim().is_empty() => vec![format!("the answer was empty ({e})")],
            Err(_) if choice["finish_reason"] == "length" => vec![
                "the answer was cut off at the token limit: answer with a shorter JSON object"
                    .into(),
            ],
            Err(e) => vec![format!("the answer is not one JSON object: {e}")],
            Ok(d) => {
                let mut p = Vec::new();
                shape::check(&schema, &d, "", &mut p);
                if d["query"].as_str().is_some_and(|q| q.trim().is_empty()) {
                    p.push("query: empty".into());
                }
                let rule_tests = match (o.kind, p.is_empty()) {
                    (DraftKind::Rule, true) => match files::tests(&d) {
                        Ok(t) => Some(t),
                        Err(e) => {
                            p.extend(e);
                            None
                        }
                    },
                    _ => None,
                };
                if !p.is_empty() {
                    p
                } else {
                    let query = d["query"].as_str().unwrap_or("");
                    draft_tables = crate::dryrun::generate::referenced_tables(query);
                    let id = crate::clock::guid_of(&format!("draft/{request_sha}"));
                    let prov = provenance(&resp, &ai.model, &request_sha, &d, &sources);
                    let text = match o.kind {
                        DraftKind::Hunt => files::hunt(&d, &id, &prov),
                        DraftKind::Rule => files::rule(&d, &id, &prov),
                    };
                    match judge(
                        cx,
                        &dir,
                        &text,
                        o,
                        &g,
                        window,
                        &redactor,
                        rule_tests.as_ref(),
                        &mut line,
                        &mut spent_running,
                    )? {
                        Judged::Stop(msg) => {
                            line["outcome"] = json!("model_not_allowed");
                            out.audit.push(line);
                            out.error = Some(msg);
                            return Ok(out);
                        }
                        Judged::Problems(p) if !p.is_empty() => p,
                        Judged::Problems(_) => {
                            // Accepted: write the definition (and a rule's tests) in one go.
                            let path = match &o.out {
                                Some(p) => cx.path(p),
                                None => {
                                    free_path(&dir, &slug(d["name"].as_str().unwrap_or("drafted")))
                                }
                            };
                            let mut writes = vec![(path.clone(), text)];
                            if let Some(t) = &rule_tests {
                                let tp = crate::dryrun::tests_path(&path);
                                let name = path.file_name().unwrap_or_default().to_string_lossy();
                                writes.push((tp, files::tests_yaml(&name, t)));
                            }
                            for (p, t) in &writes {
                                crate::emit::write_file(p, t)
                                    .map_err(|e| OpError::internal(e.to_string()))?;
                            }
                            line["vigil_ms"] =
                                json!(ms(judged.elapsed().saturating_sub(spent_running)));
                            line["outcome"] = json!("accepted");
                            out.audit.push(line);
                            out.written = writes.into_iter().map(|(p, _)| p).collect();
                            out.problems.clear();
                            return Ok(out);
                        }
                    }
                }
            }
        };
        let mut feedback = format!(
            "vigil rejected this draft:\n{}\n",
            problems
                .iter()
                .map(|p| format!("- {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        if !told_tables && !draft_tables.is_empty() {
            let near = ground::nearest(&g.existing, &[], &draft_tables, 5);
            if !near.is_empty() {
                told_tables = true;
                feedback
                    .push_str("Existing content reading the same tables (do not duplicate it):\n");
                for e in near {
                    feedback.push_str(&format!("- {}\n", ground::describe(e)));
                }
            }
        }
        feedback.push_str("Answer with the corrected JSON object.");
        // What vigil adds per round: parse, bind, lints, policy and the next prompt (the model
        // and the runs excluded).
        line["vigil_ms"] = json!(ms(judged.elapsed().saturating_sub(spent_running)));
        line["outcome"] = json!("rejected");
        line["diagnostics"] = json!(problems);
        out.audit.push(line);
        out.problems = problems;
        messages.push(json!({"role": "assistant", "content": content}));
        messages.push(json!({"role": "user", "content": feedback}));
    }
    Ok(out)
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

enum Judged {
    /// The model itself is not allowed (POL003): no repair can fix that.
    Stop(String),
    Problems(Vec<String>),
}

/// Judge one candidate as vigil judges content of the repository, then run it.
#[allow(clippy::too_many_arguments)]
fn judge(
    cx: &Context,
    dir: &Path,
    text: &str,
    o: &DraftOptions,
    g: &ground::Grounding,
    window: (i64, i64),
    redactor: &crate::redact::Redactor,
    tests: Option<&Value>,
    line: &mut Value,
    spent_running: &mut std::time::Duration,
) -> Result<Judged, OpError> {
    std::fs::create_dir_all(dir)?;
    let cand = dir.join(format!("vigil-draft-candidate-{}.yaml", std::process::id()));
    std::fs::write(&cand, text)?;
    // The candidate is removed whatever happens below.
    struct Remove<'a>(&'a Path);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(self.0);
        }
    }
    let _remove = Remove(&cand);
    let ws = cx.workspace_with(std::slice::from_ref(&cand));
    let rel = crate::workspace::relative(&cx.root, &cand.canonicalize().unwrap_or(cand.clone()));
    let sel: std::collections::BTreeSet<_> = ws
        .files
        .iter()
        .copied()
        .filter(|&f| ws.db.path(f) == rel.as_path())
        .collect();
    if sel.is_empty() {
        return Err(OpError::internal(format!(
            "the draft candidate {} was not found as content",
            cand.display()
        )));
    }
    let kql = crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &cx.siblings());
    let checked =
        crate::pipeline::check_selected(&ws, &cx.siblings(), Some(&kql), true, Some(&sel));
    if let Some(x) = checked
        .diagnostics
        .iter()
        .find(|x| x.code.as_str() == "POL003")
    {
        return Ok(Judged::Stop(format!("{}; nothing was written", x.message)));
    }
    let mut p: Vec<String> = checked
        .diagnostics
        .iter()
        // Provenance and review are vigil's and the reviewer's, not the model's.
        .filter(|x| x.is_error() && !matches!(x.code.as_str(), "POL002" | "POL006"))
        .map(|x| {
            let excerpt = ws
                .db
                .get(x.span.file)
                .text
                .get(x.span.start as usize..x.span.end as usize)
                .unwrap_or("")
                .chars()
                .take(80)
                .collect::<String>();
            format!("{} {} (at `{excerpt}`)", x.code.as_str(), x.message)
        })
        .collect();
    if !p.is_empty() {
        return Ok(Judged::Problems(p));
    }
    let Some(def) = checked.definitions.iter().find(|d| sel.contains(&d.file)) else {
        return Ok(Judged::Problems(vec![
            "the draft does not load as a definition".into(),
        ]));
    };
    let started = std::time::Instant::now();
    match (&def.item, o.kind) {
        (Item::Hunt(h), DraftKind::Hunt) => match run_hunt(cx, &g.target, &h.query, window, redactor) {
            Err(e) => p.push(format!("the dry-run failed: {e}")),
            Ok(r) if r.rows == 0 => p.push(format!(
                "the query returned no rows over the {} ({}): check the filters against the data",
                where_(&g.target),
                r.rows_scanned
                    .map(|n| format!("{n} rows scanned"))
                    .unwrap_or_else(|| "no rows".into())
            )),
            Ok(r) if r.rows > MAX_ROWS => p.push(format!(
                "the query returned more than {MAX_ROWS} rows over the {}: narrow it. Sample rows (redacted): {}",
                where_(&g.target),
                Value::Array(r.samples)
            )),
            Ok(r) => {
                line["dry_run"] = json!({"rows": r.rows, "rows_scanned": r.rows_scanned, "target": where_(&g.target)});
            }
        },
        (Item::Rule(_), DraftKind::Rule) => {
            let dr = super::dry_run::dry_run(
                cx,
                &super::dry_run::DryRunOptions {
                    paths: vec![cand.clone()],
                    sandbox: match &g.target {
                        Target::Sandbox(_) => "local".into(),
                        Target::Workspace { env, .. } => format!("env:{}", env.name),
                    },
                    samples: 0,
                },
            )?;
            for r in &dr.rules {
                if let Some(e) = &r.error {
                    p.push(format!("the dry-run failed: {e}"));
                } else if r.over_budget == Some(true) {
                    p.push(format!(
                        "the rule raised {} alerts over {} scheduled runs ({:.1} a day, over the budget of {} a day): narrow it",
                        r.alerts.unwrap_or(0),
                        r.runs.unwrap_or(0),
                        r.alerts_per_day.unwrap_or(0.0),
                        dr.budget
                    ));
                } else {
                    line["dry_run"] = json!({"runs": r.runs, "alerts": r.alerts, "alerts_per_day": r.alerts_per_day, "target": where_(&g.target)});
                }
            }
            if let Some(t) = tests {
                match serde_json::from_value::<crate::dryrun::TestFile>(t.clone()) {
                    Err(e) => p.push(format!("tests: {e}")),
                    Ok(tf) => {
                        let results = crate::dryrun::run_rule_tests(
                            &cx.root,
                            def,
                            &tf,
                            &crate::dryrun::tests_path(&cand),
                            &checked.definitions,
                            cx.sandbox().now,
                            &cx.config.schemas,
                        );
                        let passed = results.iter().filter(|r| r.passed).count();
                        line["tests"] = json!({"passed": passed, "cases": results.len()});
                        for r in results.iter().filter(|r| !r.passed) {
                            p.push(format!(
                                "test `{}` failed ({} alerts, {} rows): {}",
                                r.name,
                                r.alerts,
                                r.rows,
                                r.failures.join("; ")
                            ));
                        }
                    }
                }
            }
        }
        _ => p.push("the draft loaded as another kind of content".into()),
    }
    *spent_running += started.elapsed();
    Ok(Judged::Problems(p))
}

fn where_(t: &Target) -> String {
    match t {
        Target::Sandbox(_) => "sandbox window".into(),
        Target::Workspace { label, .. } => format!("window in {label}"),
    }
}
