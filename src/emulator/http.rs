//! A small HTTP/1.1 server on `std::net`: one thread per connection, keep-alive,
//! `Content-Length` and chunked request bodies. Small on purpose: the emulator needs control
//! of the socket that a framework hides (a connection reset is a TCP RST at a chosen moment,
//! a slow body is a response written in pieces), and it serves one client on loopback.
//!
//! Faults ([`Faults`]) are decided per request from a seeded generator.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query as sent (`/subscriptions/...?api-version=...`).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query-string parameter, percent-decoded.
    pub fn query(&self, key: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k) == key).then(|| percent_decode(v))
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decode `%XX` escapes and `+`.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(value).expect("JSON values serialize"),
        }
    }

    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, k: &str, v: impl Into<String>) -> Response {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

/// What serves requests.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, req: &Request) -> Response;
}

/// Injected faults. Probabilities are per request, decided from `seed` and a request counter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Added before every response.
    pub latency: Duration,
    /// Probability of `429 Too Many Requests` with `Retry-After: retry_after_secs`.
    pub p429: f64,
    pub retry_after_secs: u64,
    /// Probability of `500 Internal Server Error`.
    pub p500: f64,
    /// Probability of a connection reset (TCP RST); half of them before the request is
    /// handled, half after (the change is made but the response is lost).
    pub preset: f64,
    /// Probability of a slow body: the response is written in 8 pieces over `slow`.
    pub pslow: f64,
    pub slow: Duration,
    pub seed: u64,
}

impl Faults {
    /// Whether any fault can happen.
    pub fn any(&self) -> bool {
        self.p429 > 0.0 || self.p500 > 0.0 || self.preset > 0.0 || self.pslow > 0.0
    }
}

enum Fault {
    None,
    TooMany,
    Internal,
    ResetBefore,
    ResetAfter,
    Slow,
}

struct Shared {
    handler: Arc<dyn Handler>,
    faults: Faults,
    counter: AtomicU64,
    stop: AtomicBool,
}

impl Shared {
    fn decide(&self) -> Fault {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let r = crate::clock::mix(self.faults.seed ^ crate::clock::mix(n));
        let x = (r >> 11) as f64 / (1u64 << 53) as f64;
        let f = &self.faults;
        let mut edge = f.p429;
        if x < edge {
            return Fault::TooMany;
        }
        edge += f.p500;
        if x < edge {
            return Fault::Internal;
        }
        edge += f.preset;
        if x < edge {
            return if r & 1 == 0 {
                Fault::ResetBefore
            } else {
                Fault::ResetAfter
            };
        }
        edge += f.pslow;
        if x < edge {
            return Fault::Slow;
        }
        Fault::None
    }
}

/// A running server; dropping it (or [`Server::stop`]) stops accepting and joins the accept
/// thread.
pub struct Server {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Block until the server stops (it never does on its own).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serve `handler` on `listener` in background threads.
pub fn serve(listener: TcpListener, handler: Arc<dyn Handler>, faults: Faults) -> Server {
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    let shared = Arc::new(Shared {
        handler,
        faults,
        counter: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let s = shared.clone();
    let thread = std::thread::spawn(move || {
        for conn in listener.incoming() {
            if s.stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = conn else { continue };
            let s = s.clone();
            std::thread::spawn(move || {
                let _ = connection(&s, stream);
            });
        }
    });
    Server {
        addr,
        shared,
        thread: Some(thread),
    }
}

fn reset(stream: TcpStream) {
    let sock = socket2::Socket::from(stream);
    let _ = sock.set_linger(Some(Duration::ZERO));
    drop(sock);
}

fn connection(s: &Shared, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let Some(req) = read_request(&mut reader)? else {
            return Ok(());
        };
        if s.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if !s.faults.latency.is_zero() {
            std::thread::sleep(s.faults.latency);
        }
        let fault = s.decide();
        let resp = match fault {
            Fault::ResetBefore => {
                reset(stream);
                return Ok(());
            }
            Fault::TooMany => Response::json(
                429,
                &serde_json::json!({"error": {"code": "TooManyRequests",
                    "message": "Too many requests (injected by vigil emulate)."}}),
            )
            .with_header("Retry-After", s.faults.retry_after_secs.to_string()),
            Fault::Internal => Response::json(
                500,
                &serde_json::json!({"error": {"code": "InternalServerError",
                    "message": "Internal error (injected by vigil emulate)."}}),
            ),
            _ => s.handler.handle(&req),
        };
        if matches!(fault, Fault::ResetAfter) {
            reset(stream);
            return Ok(());
        }
        write_response(
            &mut stream,
            &resp,
            req.method == "HEAD",
            matches!(fault, Fault::Slow).then_some(s.faults.slow),
        )?;
        if close {
            return Ok(());
        }
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 {
            return Ok(None);
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut req = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                r.read_line(&mut end)?;
                break;
            }
            let mut chunk = vec![0; n];
            r.read_exact(&mut chunk)?;
            req.body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf)?;
        }
    } else if let Some(n) = req.header("content-length").and_then(|v| v.parse().ok()) {
        let mut body = vec![0; n];
        r.read_exact(&mut body)?;
        req.body = body;
    }
    Ok(Some(req))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "Status",
    }
}

fn write_response(
    w: &mut TcpStream,
    resp: &Response,
    head: bool,
    slow: Option<Duration>,
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", resp.body.len()));
    w.write_all(out.as_bytes())?;
    if head {
        return w.flush();
    }
    match slow {
        Some(total) if resp.body.len() > 1 => {
            let pieces = 8usize;
            let step = resp.body.len().div_ceil(pieces);
            for chunk in resp.body.chunks(step) {
                w.write_all(chunk)?;
                w.flush()?;
                std::thread::sleep(total / pieces as u32);
            }
            Ok(())
        }
        _ => {
            w.write_all(&resp.body)?;
            w.flush()
        }
    }
}
