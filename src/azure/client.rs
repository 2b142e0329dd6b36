//! The HTTP client for ARM and the Log Analytics query API: bounded concurrency, retries
//! (429 honouring `Retry-After`; 5xx, timeouts and connection resets with exponential backoff
//! and jitter), long-running operations (`Azure-AsyncOperation` / `Location` polling), paging
//! (`nextLink`), request ids in every error. Tokens go only into the `Authorization` header.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;

use super::auth::Credential;
pub use super::http::{http_client, install_tls};
pub use crate::rest::Method;

/// Retry and timeout settings.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Per attempt.
    pub timeout: Duration,
    /// Poll interval of long-running operations when the service gives no `Retry-After`.
    pub poll_interval: Duration,
    /// Give up on a long-running operation after this long.
    pub lro_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(250),
            lro_timeout: Duration::from_secs(600),
        }
    }
}

/// What went wrong with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The service answered with an error status.
    Status,
    /// No answer: connection refused or reset, timeout, broken body.
    Transport,
    /// No token.
    Auth,
    /// Retries used up.
    Exhausted,
}

/// An error from Azure (or the emulator), with what identifies the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AzureError {
    pub kind: ErrorKind,
    pub method: String,
    /// Path of the request, without host and query (never a token).
    pub path: String,
    pub status: Option<u16>,
    /// The ARM error code (`BadRequest`, `Conflict`, ...).
    pub code: Option<String>,
    pub message: String,
    /// `x-ms-request-id` of the last response, else the client request id sent.
    pub request_id: Option<String>,
}

impl std::fmt::Display for AzureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: ", self.method, self.path)?;
        if let Some(s) = self.status {
            write!(f, "{s} ")?;
        }
        if let Some(c) = &self.code {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(r) = &self.request_id {
            write!(f, " (request id {r})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AzureError {}

/// A successful response.
#[derive(Clone, Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Value,
    pub request_id: Option<String>,
    pub async_operation: Option<String>,
    pub location: Option<String>,
    pub retry_after: Option<Duration>,
}

/// Counters of what the client met, for reports and the fault-injection measurements.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub transport_errors: AtomicU64,
    pub retries: AtomicU64,
}

impl Stats {
    pub fn snapshot(&self) -> [u64; 5] {
        [
            self.requests.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
            self.server_errors.load(Ordering::Relaxed),
            self.transport_errors.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
        ]
    }
}

/// A client for one endpoint (ARM, or the query API) with one credential scope.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `https://management.azure.com`, or the emulator's `http://127.0.0.1:PORT`.
    pub base: String,
    scope: String,
    credential: Credential,
    /// Hosts beyond the scope's own that may receive its token (trusted configuration).
    token_hosts: Vec<String>,
    limit: Arc<Semaphore>,
    pub retry: RetryPolicy,
    pub stats: Arc<Stats>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

impl Client {
    /// `concurrency`: requests in flight at once through this client.
    pub fn new(
        base: &str,
        scope: &str,
        credential: Credential,
        concurrency: usize,
        retry: RetryPolicy,
    ) -> Client {
        Client {
            http: http_client(retry.timeout),
            base: base.trim_end_matches('/').to_string(),
            scope: scope.to_string(),
            credential,
            token_hosts: Vec::new(),
            limit: Arc::new(Semaphore::new(concurrency.max(1))),
            retry,
            stats: Arc::new(Stats::default()),
        }
    }

    /// Let the token also go to these hosts (`host` or `*.suffix`; from the trusted
    /// configuration only).
    pub fn with_token_hosts(mut self, hosts: Vec<String>) -> Client {
        self.token_hosts = hosts;
        self
    }

    fn url(&self, path: &str, api_version: Option<&str>) -> String {
        let mut u = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        };
        if let Some(v) = api_version {
            u.push(if u.contains('?') { '&' } else { '?' });
            u.push_str("api-version=");
            u.push_str(v);
        }
        u
    }

    fn delay(&self, attempt: u32, salt: u64) -> Duration {
        let base = self.retry.base_delay.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << attempt.min(16));
        let cap = self.retry.max_delay.as_millis() as u64;
        let d = exp.min(cap);
        // Full jitter in [d/2, d].
        let j = crate::clock::mix(salt ^ attempt as u64) % (d / 2 + 1);
        Duration::from_millis(d / 2 + j)
    }

    /// Send a request with retries. `path` is relative to the base, or an absolute URL
    /// (`nextLink`, operation URLs). Error statuses other than the retried ones come back as
    /// `Err` with kind `Status`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        api_version: Option<&str>,
        body: Option<&Value>,
        extra_headers: &[(&str, &str)],
    ) -> Result<ApiResponse, AzureError> {
        let url = self.url(path, api_version);
        let shown_path = url
            .split('?')
            .next()
            .unwrap_or("")
            .trim_start_matches(&self.base)
            .to_string();
        let client_id = crate::clock::new_guid();
        let salt = crate::clock::mix(client_id.len() as u64 ^ url.len() as u64)
            ^ self.stats.requests.load(Ordering::Relaxed);
        let err = |kind, status, code, message: String, rid: Option<String>| AzureError {
            kind,
            method: method.to_string(),
            path: shown_path.clone(),
            status,
            code,
            message,
            request_id: rid.or_else(|| Some(client_id.clone())),
        };
        let m = match method {
            Method::Get => reqwest::Method::GET,
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        // Every request, including nextLink and operation URLs the service returns: a token
        // goes only to the hosts of its audience, and is not even acquired otherwise.
        if !matches!(self.credential, Credential::None) {
            super::hosts::token_may_go(&self.scope, &url, &self.token_hosts)
                .map_err(|m| err(ErrorKind::Auth, None, None, m, None))?;
        }
        let mut last: Option<AzureError> = None;
        for attempt in 0..self.retry.max_attempts {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            let token = self
                .credential
                .token(&self.scope)
                .await
                .map_err(|e| err(ErrorKind::Auth, None, None, e, None))?;
            let permit = self
                .limit
                .acquire()
                .await
                .expect("semaphore is never closed");
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut rb = self
                .http
                .request(m.clone(), &url)
                .header("x-ms-client-request-id", &client_id);
            if let Some(t) = &token {
                rb = rb.bearer_auth(t.expose());
            }
            for (k, v) in extra_headers {
                rb = rb.header(*k, *v);
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            let outcome = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let rid = header(&resp, "x-ms-request-id");
                    let retry_after = header(&resp, "retry-after")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let async_op = header(&resp, "azure-asyncoperation");
                    let location = header(&resp, "location");
                    match resp.bytes().await {
                        Ok(bytes) => Ok((status, rid, retry_after, async_op, location, bytes)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            drop(permit);
            match outcome {
                Err(e) => {
                    self.stats.transport_errors.fetch_add(1, Ordering::Relaxed);
                    let what = if e.is_timeout() {
                        "timed out"
                    } else if e.is_connect() {
                        "could not connect"
                    } else {
                        "connection failed"
                    };
                    let mut src = String::new();
                    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(&e);
                    while let Some(s) = cur {
                        src = s.to_string();
                        cur = s.source();
                    }
                    last = Some(err(
                        ErrorKind::Transport,
                        None,
                        None,
                        format!("{what} ({src})"),
                        None,
                    ));
                    tokio::time::sleep(self.delay(attempt, salt)).await;
                }
                Ok((status, rid, retry_after, async_op, location, bytes)) => {
                    let body: Value = if bytes.is_empty() {
                        Value::Null
                    } else {
                        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                            Value::String(String::from_utf8_lossy(&bytes).into_owned())
                        })
                    };
                    if (200..300).contains(&status) {
                        return Ok(ApiResponse {
                            status,
                            body,
                            request_id: rid,
                            async_operation: async_op,
                            location,
                            retry_after,
                        });
                    }
                    let code = body["error"]["code"].as_str().map(String::from);
                    let message = body["error"]["message"]
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| match &body {
                            Value::String(s) => s.chars().take(500).collect(),
                            _ => String::new(),
                        });
                    let e = err(ErrorKind::Status, Some(status), code, message, rid);
                    if status == 429 {
                        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                        let wait = retry_after
                            .map(|d| d.min(Duration::from_secs(120)))
                            .unwrap_or_else(|| self.delay(attempt, salt));
                        last = Some(e);
                        tokio::time::sleep(wait).await;
                    } else if matches!(status, 500 | 502 | 503 | 504) {
                        self.stats.server_errors.fetch_add(1, Ordering::Relaxed);
                        last = Some(e);
                        let wait = retry_after.unwrap_or_else(|| self.delay(attempt, salt));
                        tokio::time::sleep(wait).await;
                    } else {
                        return Err(e);
                    }
                }
            }
        }
        let mut e = last.unwrap_or_else(|| {
            err(
                ErrorKind::Exhausted,
                None,
                None,
                "no attempt was made".into(),
                None,
            )
        });
        e.message = format!(
            "{} (gave up after {} attempts)",
            e.message, self.retry.max_attempts
        );
        e.kind = ErrorKind::Exhausted;
        Err(e)
    }

    pub async fn get(&self, path: &str, api_version: &str) -> Result<ApiResponse, AzureError> {
        self.send(Method::Get, path, Some(api_version), None, &[])
            .await
    }

    /// GET, with 404 as `None`.
    pub async fn get_opt(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<Option<Value>, AzureError> {
        match self.get(path, api_version).await {
            Ok(r) => Ok(Some(r.body)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every item of a collection, following `nextLink`.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, AzureError> {
        let mut out = Vec::new();
        let mut next = Some(self.url(path, Some(api_version)));
        let mut pages = 0;
        while let Some(url) = next.take() {
            let r = self.send(Method::Get, &url, None, None, &[]).await?;
            if let Some(v) = r.body["value"].as_array() {
                out.extend(v.iter().cloned());
            }
            next = r.body["nextLink"].as_str().map(String::from);
            pages += 1;
            if pages > 10_000 {
                break;
            }
        }
        Ok(out)
    }

    /// PUT, then wait for a long-running operation when the service starts one.
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<ApiResponse, AzureError> {
        let r = self
            .send(Method::Put, path, Some(api_version), Some(body), &[])
            .await?;
        self.wait(r, Method::Put, path).await
    }

    /// DELETE (404 counts as done), then wait for a long-running operation.
    /// A 409 (another operation on the resource in progress, e.g. a watchlist upload) is
    /// retried a few times.
    pub async fn delete(&self, path: &str, api_version: &str) -> Result<ApiResponse, AzureError> {
        let mut conflicts = 0;
        loop {
            let r = self
                .send(Method::Delete, path, Some(api_version), None, &[])
                .await;
            match r {
                Err(e) if e.status == Some(409) && conflicts < 20 => {
                    conflicts += 1;
                    tokio::time::sleep(self.retry.poll_interval).await;
                }
                r => return self.finish_delete(r, path).await,
            }
        }
    }

    async fn finish_delete(
        &self,
        r: Result<ApiResponse, AzureError>,
        path: &str,
    ) -> Result<ApiResponse, AzureError> {
        match r {
            Ok(r) => self.wait(r, Method::Delete, path).await,
            Err(e) if e.status == Some(404) => Ok(ApiResponse {
                status: 404,
                body: Value::Null,
                request_id: e.request_id,
                async_operation: None,
                location: None,
                retry_after: None,
            }),
            Err(e) => Err(e),
        }
    }

    /// Poll `Azure-AsyncOperation` (until a terminal `status`) or `Location` (until not 202).
    async fn wait(
        &self,
        first: ApiResponse,
        method: Method,
        path: &str,
    ) -> Result<ApiResponse, AzureError> {
        let start = std::time::Instant::now();
        let pause = |ra: Option<Duration>| ra.unwrap_or(self.retry.poll_interval);
        if let Some(op) = first.async_operation.clone() {
            let mut ra = first.retry_after;
            loop {
                tokio::time::sleep(pause(ra)).await;
                let r = self.send(Method::Get, &op, None, None, &[]).await?;
                match r.body["status"].as_str().unwrap_or("") {
                    "Succeeded" => return Ok(first),
                    "Failed" | "Canceled" | "Cancelled" => {
                        return Err(AzureError {
                            kind: ErrorKind::Status,
                            method: method.as_str().into(),
                            path: path.into(),
                            status: Some(first.status),
                            code: r.body["error"]["code"].as_str().map(String::from),
                            message: format!(
                                "the operation ended {}: {}",
                                r.body["status"],
                                r.body["error"]["message"].as_str().unwrap_or("")
                            ),
                            request_id: r.request_id,
                        })
                    }
                    _ => {}
                }
                ra = r.retry_after;
                if start.elapsed() > self.retry.lro_timeout {
                    break;
                }
            }
        } else if let (202, Some(loc)) = (first.status, first.location.clone()) {
            let mut ra = first.retry_after;
            loop {
                tokio::time::sleep(pause(ra)).await;
                let r = self.send(Method::Get, &loc, None, None, &[]).await?;
                if r.status != 202 {
                    return Ok(first);
                }
                ra = r.retry_after;
                if start.elapsed() > self.retry.lro_timeout {
                    break;
                }
            }
        } else {
            return Ok(first);
        }
        Err(AzureError {
            kind: ErrorKind::Exhausted,
            method: method.as_str().into(),
            path: path.into(),
            status: Some(first.status),
            code: None,
            message: format!(
                "the long-running operation did not finish within {} s",
                self.retry.lro_timeout.as_secs()
            ),
            request_id: first.request_id,
        })
    }
}
