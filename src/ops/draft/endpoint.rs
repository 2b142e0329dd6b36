//! The chat-completions endpoint of `[ai]`: its URL, its auth header (OpenAI's bearer key,
//! Azure OpenAI's `api-key`, or an Entra ID token for Cognitive Services from azure_identity),
//! and one call with retries (429 and 5xx with `retry-after-ms` / `retry-after`, else backoff;
//! `insufficient_quota` is not retried). Secrets live in headers only, never in what is
//! returned, logged or audited.

use std::time::Duration;

use super::super::{Context, OpError};
use crate::azure::auth::Secret;
use crate::config::{AiConfig, AiProvider};

/// The Entra ID scope of Azure OpenAI.
pub const COGNITIVE_SERVICES_SCOPE: &str = "https://cognitiveservices.azure.com/.default";

pub struct Endpoint {
    pub url: String,
    headers: Vec<(String, Secret)>,
    client: reqwest::Client,
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let h = url.host_str().unwrap_or("");
    h == "localhost"
        || h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

impl Endpoint {
    pub fn new(
        cx: &Context,
        ai: &AiConfig,
        rt: &tokio::runtime::Runtime,
    ) -> Result<Endpoint, OpError> {
        let base = ai.base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(base)
            .map_err(|e| OpError::usage(format!("[ai] base_url `{base}`: {e}")))?;
        if url.scheme() != "https" && !(url.scheme() == "http" && is_loopback(&url)) {
            return Err(OpError::usage(format!(
                "[ai] base_url `{base}`: https is required (http only for loopback model servers)"
            )));
        }
        let classic = base.contains("/openai/deployments/");
        if ai.provider == AiProvider::AzureOpenai && classic && ai.api_version.is_none() {
            return Err(OpError::usage(
                "[ai] api_version is required for an Azure OpenAI deployment URL (…/openai/deployments/NAME); the v1 endpoint (…/openai/v1) needs none",
            ));
        }
        let mut full = format!("{base}/chat/completions");
        if let Some(v) = &ai.api_version {
            full.push_str(&format!("?api-version={v}"));
        }
        let key = match &ai.api_key_env {
            Some(v) => Some(cx.var(v).filter(|k| !k.is_empty()).ok_or_else(|| {
                OpError::usage(format!("[ai] api_key_env names `{v}`, which is not set"))
            })?),
            None => None,
        };
        let mut headers = Vec::new();
        match (ai.provider, key) {
            (AiProvider::AzureOpenai, Some(k)) => headers.push(("api-key".into(), Secret::new(k))),
            (AiProvider::AzureOpenai, None) => {
                // Entra ID: the same credential chain as deployments.
                let cred = crate::azure::auth::from_env(&|k| cx.var(k)).map_err(|m| {
                    OpError::usage(format!(
                        "[ai] azure-openai without api_key_env needs an Entra ID credential: {m}"
                    ))
                })?;
                let token = rt
                    .block_on(cred.token(COGNITIVE_SERVICES_SCOPE))
                    .map_err(|m| OpError::usage(format!("[ai] azure-openai: {m}")))?
                    .ok_or_else(|| {
                        OpError::usage(
                            "[ai] azure-openai without api_key_env needs an Entra ID credential (azure_identity: workload identity, GitHub OIDC, a client secret, managed identity or the Azure CLI); none is configured",
                        )
                    })?;
                headers.push((
                    "authorization".into(),
                    Secret::new(format!("Bearer {}", token.expose())),
                ));
            }
            (_, Some(k)) => {
                headers.push(("authorization".into(), Secret::new(format!("Bearer {k}"))))
            }
            (_, None) => {}
        }
        Ok(Endpoint {
            url: full,
            headers,
            client: crate::azure::http::http_client(Duration::from_secs(ai.timeout_secs.max(1))),
        })
    }

    /// POST the body; `(status, text)` of the final answer after retries, or why nothing
    /// answered.
    pub fn call(&self, rt: &tokio::runtime::Runtime, body: &str) -> Result<(u16, String), String> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut req = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .body(body.to_string());
            for (k, v) in &self.headers {
                req = req.header(k, v.expose());
            }
            let r = rt.block_on(async {
                let r = req.send().await?;
                let st = r.status().as_u16();
                let h = |n: &str| {
                    r.headers()
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                };
                let wait = h("retry-after-ms")
                    .map(|ms| ms / 1000.0)
                    .or_else(|| h("retry-after"));
                Ok::<_, reqwest::Error>((st, wait, r.text().await?))
            });
            match r {
                Ok((st, wait, text))
                    if (st == 429 || st >= 500)
                        && attempt < 4
                        && !text.contains("insufficient_quota") =>
                {
                    let backoff = wait.unwrap_or(f64::from(1u32 << (attempt - 1)));
                    std::thread::sleep(Duration::from_secs_f64(backoff.clamp(0.0, 30.0)));
                }
                Ok((st, _, t)) => return Ok((st, t)),
                Err(e) if attempt < 4 && (e.is_timeout() || e.is_connect()) => {
                    std::thread::sleep(Duration::from_secs(1u64 << (attempt - 1)));
                }
                Err(e) if e.is_timeout() => {
                    return Err(format!(
                        "the model endpoint did not answer within [ai] timeout_secs: {}",
                        e.without_url()
                    ))
                }
                Err(e) => {
                    return Err(format!(
                        "the model endpoint did not answer: {}",
                        e.without_url()
                    ))
                }
            }
        }
    }
}
