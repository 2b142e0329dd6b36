//! `vigil draft`: a hunt drafted by a model with vigil's compiler and engine in the loop.
//!
//! Each round sends the hypothesis, the grounding (tables with sandbox data and their columns,
//! the repository's functions and watchlists, the existing hunts' names) and, after the first
//! round, what was wrong with the last draft; the answer is one JSON object. The draft is
//! written as a candidate hunt and judged by the whole validation pipeline (parse, bind, lints,
//! AI policy: POL004/POL005) and a sandbox run over the window (no rows, or over 10,000, goes
//! back too). At most `[ai] max_repairs` repairs; then it stops with the last diagnostics and
//! writes no file. Every round is an audit line. Keys never appear in output or the audit.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Context, OpError};
use crate::config::{AiConfig, AiProvider};
use crate::model::Item;

#[derive(Clone, Debug, Default)]
pub struct DraftOptions {
    pub hypothesis: Option<String>,
    /// Threat reports or notes to draft from (their SHA-256 go into provenance.sources).
    pub from: Vec<PathBuf>,
    /// Where to write the hunt (default `hunts/<slug>.yaml`).
    pub out: Option<PathBuf>,
    /// Draft a rule instead of a hunt (not supported yet).
    pub rule: bool,
    /// Ground the draft in an environment's workspace (not supported yet).
    pub env: Option<String>,
}

pub struct DraftOutcome {
    /// The file written (None when no draft passed).
    pub written: Option<PathBuf>,
    pub rounds: usize,
    /// One audit line per round.
    pub audit: Vec<Value>,
    /// The last round's problems (empty when a draft passed).
    pub problems: Vec<String>,
    /// Why the loop stopped early (the endpoint failed or refused, the model is not allowed):
    /// nothing was written, and the audit still has every round.
    pub error: Option<String>,
}

/// Most rows a draft may return over the sandbox window before it goes back as too broad.
const MAX_ROWS: usize = 10_000;

fn sha256(s: &[u8]) -> String {
    crate::hash::sha256_hex(s)
}

/// The request URL and headers for the provider.
fn endpoint(ai: &AiConfig, key: Option<&str>) -> Result<(String, Vec<(String, String)>), OpError> {
    let base = ai.base_url.trim_end_matches('/');
    let url = reqwest::Url::parse(base)
        .map_err(|e| OpError::usage(format!("[ai] base_url `{base}`: {e}")))?;
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]") | Some("::1")
    );
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(OpError::usage(format!(
            "[ai] base_url `{base}`: https is required (http only for loopback model servers)"
        )));
    }
    let mut full = format!("{base}/chat/completions");
    if let Some(v) = &ai.api_version {
        full.push_str(&format!("?api-version={v}"));
    }
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    match (ai.provider, key) {
        (AiProvider::AzureOpenai, Some(k)) => headers.push(("api-key".into(), k.into())),
        (AiProvider::AzureOpenai, None) => {
            return Err(OpError::usage(
                "not supported yet: azure-openai without an API key (Entra ID tokens for cognitiveservices); set [ai] api_key_env",
            ))
        }
        (_, Some(k)) => headers.push(("authorization".into(), format!("Bearer {k}"))),
        (_, None) => {}
    }
    Ok((full, headers))
}

/// What the model is told about the workspace.
fn grounding(cx: &Context) -> Result<(String, crate::engine::Sandbox), OpError> {
    let ws = cx.workspace();
    let checked = crate::pipeline::check(&ws, &cx.siblings(), None);
    let sb = crate::sandbox::for_repository(
        &cx.root,
        &cx.sandbox_dir()?,
        &checked.definitions,
        &cx.config.schemas,
    );
    let catalog = crate::kql::catalog::Catalog::embedded();
    let mut g = String::from("Tables with data (name: columns):\n");
    for t in sb.table_names() {
        let cols: Vec<String> = catalog
            .tables
            .get(&t)
            .map(|s| {
                s.columns
                    .iter()
                    .map(|(c, ty)| format!("{c}:{}", ty.name()))
                    .collect()
            })
            .unwrap_or_default();
        g.push_str(&format!("- {t}: {}\n", cols.join(", ")));
    }
    g.push_str("Functions of the repository:\n");
    let mut hunts = Vec::new();
    for d in &checked.definitions {
        match &d.item {
            Item::Function(f) => g.push_str(&format!("- {}\n", f.function_alias)),
            Item::Watchlist(w, items) => g.push_str(&format!(
                "- watchlist _GetWatchlist('{}') columns: {}\n",
                w.alias,
                items.header.join(", ")
            )),
            Item::Hunt(h) => hunts.push(h.name.clone()),
            _ => {}
        }
    }
    g.push_str(&format!(
        "Existing hunts (do not duplicate): {}\n",
        hunts.join("; ")
    ));
    Ok((g, sb))
}

const SYSTEM: &str = "You draft Microsoft Sentinel hunting queries in KQL. Use only the tables, columns, functions and watchlists listed. Answer with one JSON object: {\"name\", \"description\", \"query\", \"tactics\": [..], \"techniques\": [..], \"rationale\", \"false_positives\", \"confidence\": \"low|medium|high\"}.";

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
    s.chars().take(60).collect()
}

fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The hunt file for a draft.
fn hunt_yaml(d: &Value, id: &str, provenance: &str) -> String {
    let list = |k: &str| -> String {
        let items: Vec<String> = d[k]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str()).map(yaml_str).collect())
            .unwrap_or_default();
        format!("[{}]", items.join(", "))
    };
    let query = d["query"].as_str().unwrap_or("");
    let indented: String = query
        .trim_end()
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    format!(
        "id: {id}\nname: {}\ndescription: {}\ntactics: {}\nrelevantTechniques: {}\nquery: |\n{indented}{provenance}rollout: shadow\n",
        yaml_str(d["name"].as_str().unwrap_or("Drafted hunt")),
        yaml_str(d["description"].as_str().unwrap_or("")),
        list("tactics"),
        list("techniques"),
    )
}

pub fn draft(cx: &Context, o: &DraftOptions) -> Result<DraftOutcome, OpError> {
    if o.rule {
        return Err(OpError::usage(
            "not supported yet: drafting rules (entity mappings, severity, a test skeleton); draft a hunt",
        ));
    }
    if let Some(e) = &o.env {
        return Err(OpError::usage(format!(
            "not supported yet: --env {e} (grounding in a workspace's tables through the query API); the sandbox grounds the draft"
        )));
    }
    let ai = cx.config.ai.clone();
    if ai.base_url.is_empty() || ai.model.is_empty() {
        return Err(OpError::usage(
            "vigil.toml has no [ai] base_url and model: name the model endpoint to draft with",
        ));
    }
    let key = match &ai.api_key_env {
        Some(v) => Some(cx.var(v).ok_or_else(|| {
            OpError::usage(format!("[ai] api_key_env names `{v}`, which is not set"))
        })?),
        None => None,
    };
    let (url, headers) = endpoint(&ai, key.as_deref())?;
    let mut input = o.hypothesis.clone().unwrap_or_default();
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
        input.push_str(&crate::redact::text(&text));
    }
    if input.trim().is_empty() {
        return Err(OpError::usage("give --hypothesis TEXT or --from FILE"));
    }
    if let Some(h) = &o.hypothesis {
        sources.insert(0, format!("hypothesis sha256:{}", sha256(h.as_bytes())));
    }
    let (ground, sb) = grounding(cx)?;
    let cfg = cx.sandbox();
    let (start, end) = cfg.window();
    let client = crate::azure::http::http_client(Duration::from_secs(ai.timeout_secs.max(1)));
    let rt = super::deploy::runtime()?;
    let mut messages = vec![
        json!({"role": "system", "content": SYSTEM}),
        json!({"role": "user", "content": format!("{ground}\nHypothesis:\n{input}")}),
    ];
    let mut out = DraftOutcome {
        written: None,
        rounds: 0,
        audit: Vec::new(),
        problems: Vec::new(),
        error: None,
    };
    // The repository's first hunts folder: where the candidate is found as a hunt while it is
    // judged, and where the draft goes by default.
    let hunts_dir = cx.root.join(
        cx.config
            .content
            .hunts
            .first()
            .map(String::as_str)
            .unwrap_or("hunts"),
    );
    let scratch = hunts_dir.clone();
    for round in 0..=ai.max_repairs {
        out.rounds = round as usize + 1;
        let mut body = json!({
            "model": ai.model, "messages": messages, "temperature": ai.temperature,
            "response_format": {"type": "json_object"},
        });
        if let Some(s) = ai.seed {
            body["seed"] = json!(s);
        }
        let body_text = body.to_string();
        let request_sha = sha256(body_text.as_bytes());
        // 429 and 5xx are retried (Retry-After honoured, at most 4 attempts).
        let mut attempt = 0;
        let (status, text) = loop {
            attempt += 1;
            let mut req = client.post(&url).body(body_text.clone());
            for (k, v) in &headers {
                req = req.header(k, v);
            }
            let r = rt.block_on(async {
                let r = req.send().await?;
                let st = r.status().as_u16();
                let ra = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                Ok::<_, reqwest::Error>((st, ra, r.text().await?))
            });
            match r {
                Ok((st, ra, _)) if (st == 429 || st >= 500) && attempt < 4 => {
                    std::thread::sleep(Duration::from_secs(ra.unwrap_or(1).min(30)));
                }
                Ok((st, _, t)) => break (st, t),
                Err(e) if attempt < 4 && (e.is_timeout() || e.is_connect()) => {
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(e) => {
                    out.error = Some(format!(
                        "the model endpoint did not answer: {}",
                        e.without_url()
                    ));
                    return Ok(out);
                }
            }
        };
        let mut line = json!({
            "round": round + 1, "request_sha256": request_sha, "response_sha256": sha256(text.as_bytes()),
            "status": status,
        });
        if status != 200 {
            line["outcome"] = json!("error");
            out.audit.push(line);
            out.error = Some(format!(
                "the model endpoint answered HTTP {status}: {}",
                crate::redact::text(&text.chars().take(200).collect::<String>())
            ));
            return Ok(out);
        }
        let resp: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
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
        let content = choice["message"]["content"].as_str().unwrap_or("");
        let problems: Vec<String> = match serde_json::from_str::<Value>(content) {
            Err(e) if content.trim().is_empty() => vec![format!("the answer was empty ({e})")],
            Err(e) => vec![format!("the answer is not one JSON object: {e}")],
            Ok(d) if d["query"].as_str().is_none_or(|q| q.trim().is_empty()) => {
                vec!["the answer has no `query`".to_string()]
            }
            Ok(d) => {
                let judged = std::time::Instant::now();
                // Judge the candidate as vigil judges a hunt in the repository.
                let id = crate::clock::guid_of(&format!("draft/{request_sha}"));
                let prov = format!(
                    "provenance:\n  origin: ai\n  model: {}\n  model_version: {}\n  prompt_sha256: {request_sha}\n  generated_at: {}\n  generator: {}\n  confidence: {}\n{}",
                    yaml_str(resp["model"].as_str().unwrap_or(&ai.model)),
                    // The endpoint's own build identity when it reports one, else the model id
                    // it answered with.
                    yaml_str(
                        resp["system_fingerprint"]
                            .as_str()
                            .or(resp["model"].as_str())
                            .unwrap_or(&ai.model)
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
                            sources.iter().map(|s| format!("    - {}\n", yaml_str(s))).collect::<String>()
                        )
                    }
                );
                let text = hunt_yaml(&d, &id, &prov);
                // The candidate sits where hunts are found while it is judged.
                std::fs::create_dir_all(&scratch)?;
                let cand =
                    scratch.join(format!("vigil-draft-candidate-{}.yaml", std::process::id()));
                std::fs::write(&cand, &text)?;
                let ws = cx.workspace_with(std::slice::from_ref(&cand));
                let rel = crate::workspace::relative(
                    &cx.root,
                    &cand.canonicalize().unwrap_or(cand.clone()),
                );
                let sel: std::collections::BTreeSet<_> = ws
                    .files
                    .iter()
                    .copied()
                    .filter(|&f| ws.db.path(f) == rel.as_path())
                    .collect();
                let kql =
                    crate::validate::kql::KqlAnalyzer::for_workspace_with(&ws, &cx.siblings());
                let checked = crate::pipeline::check_selected(
                    &ws,
                    &cx.siblings(),
                    Some(&kql),
                    false,
                    Some(&sel),
                );
                let _ = std::fs::remove_file(&cand);
                if let Some(x) = checked
                    .diagnostics
                    .iter()
                    .find(|x| x.code.as_str() == "POL003")
                {
                    // The model itself is not allowed: no repair can fix that.
                    line["outcome"] = json!("model_not_allowed");
                    out.audit.push(line);
                    out.error = Some(format!("{}; nothing was written", x.message));
                    return Ok(out);
                }
                if sel.is_empty() {
                    return Err(OpError::internal(format!(
                        "the draft candidate {} was not found as content",
                        cand.display()
                    )));
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
                // What vigil adds per round (the model and the sandbox run excluded).
                line["vigil_ms"] =
                    json!((judged.elapsed().as_secs_f64() * 10_000.0).round() / 10.0);
                if p.is_empty() {
                    let q = d["query"].as_str().unwrap_or("");
                    let opts = crate::engine::RunOptions {
                        now: end,
                        window: Some((start, end)),
                    };
                    match crate::engine::run(q, &sb, opts) {
                        Err(e) => p.push(format!("the sandbox run failed: {}", e.message)),
                        Ok(r) if r.table.rows == 0 => p.push(format!(
                            "the query returned no rows over the sandbox window ({} rows scanned): check the filters against the data",
                            r.rows_scanned
                        )),
                        Ok(r) if r.table.rows > MAX_ROWS => p.push(format!(
                            "the query returned {} rows over the sandbox window (more than {MAX_ROWS}): narrow it",
                            r.table.rows
                        )),
                        Ok(r) => {
                            line["dry_run"] = json!({"rows": r.table.rows, "rows_scanned": r.rows_scanned});
                        }
                    }
                }
                if p.is_empty() {
                    let path = match &o.out {
                        Some(p) => cx.path(p),
                        None => hunts_dir.join(format!(
                            "{}.yaml",
                            slug(d["name"].as_str().unwrap_or("drafted_hunt"))
                        )),
                    };
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)?;
                    }
                    std::fs::write(&path, &text)?;
                    line["outcome"] = json!("accepted");
                    out.audit.push(line);
                    out.written = Some(path);
                    out.problems.clear();
                    return Ok(out);
                }
                p
            }
        };
        line["outcome"] = json!("rejected");
        line["diagnostics"] = json!(problems);
        out.audit.push(line);
        out.problems = problems.clone();
        messages.push(json!({"role": "assistant", "content": content}));
        messages.push(json!({"role": "user", "content": format!(
            "vigil rejected this draft:\n{}\nAnswer with the corrected JSON object.",
            problems.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n")
        )}));
    }
    Ok(out)
}
