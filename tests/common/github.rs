//! A GitHub REST API on loopback (real HTTP) for one repository (`o/r`) and one pull request
//! (#5): the pull request, its reviews, CODEOWNERS and team members, as the gate reads them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub const HEAD: &str = "1111111111111111111111111111111111111111";
pub const OLD: &str = "2222222222222222222222222222222222222222";
pub const BASE: &str = "3333333333333333333333333333333333333333";

/// A GitHub REST API for one repository (`o/r`) and one pull request (#5).
pub struct GithubServer {
    pub url: String,
    /// Request lines and Authorization headers seen.
    pub seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl GithubServer {
    pub fn start(author: &str, reviews: Value, codeowners: Option<&str>) -> GithubServer {
        GithubServer::with_teams(author, reviews, codeowners, json!({}))
    }

    /// `teams`: `{"org/team": ["login", ...]}`, served by the team members API; other teams
    /// answer 404 (as GitHub does when the token may not read them).
    pub fn with_teams(
        author: &str,
        reviews: Value,
        codeowners: Option<&str>,
        teams: Value,
    ) -> GithubServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let pull = json!({
            "number": 5,
            "user": { "login": author },
            "head": { "sha": HEAD, "ref": "feature" },
            "base": { "sha": BASE, "ref": "main" },
        });
        let codeowners = codeowners.map(String::from);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut auth = String::new();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    let lower = h.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("authorization:") {
                        auth = v.trim().to_string();
                    }
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = reader.read_exact(&mut body);
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                log.lock().unwrap().push((path.clone(), auth));
                let (status, text) = if path == "/repos/o/r/pulls/5" {
                    (200, pull.to_string())
                } else if path.starts_with("/repos/o/r/pulls/5/reviews") {
                    if path.contains("page=1") {
                        (200, reviews.to_string())
                    } else {
                        (200, "[]".to_string())
                    }
                } else if path == format!("/repos/o/r/contents/.github/CODEOWNERS?ref={BASE}") {
                    match &codeowners {
                        Some(c) => (200, c.clone()),
                        None => (404, r#"{"message":"Not Found"}"#.to_string()),
                    }
                } else if let Some(members) = path
                    .strip_prefix("/orgs/")
                    .and_then(|p| p.split_once("/members"))
                    .map(|(t, _)| t.replacen("/teams/", "/", 1))
                    .and_then(|t| teams.get(&t))
                {
                    let list: Vec<Value> = members
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| json!({ "login": l }))
                        .collect();
                    (200, Value::Array(list).to_string())
                } else {
                    (404, r#"{"message":"Not Found"}"#.to_string())
                };
                let reason = if status == 200 { "OK" } else { "Not Found" };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        GithubServer { url, seen }
    }
}

pub fn review(login: &str, state: &str, commit: &str) -> Value {
    json!({
        "user": { "login": login },
        "state": state,
        "commit_id": commit,
        "submitted_at": "2026-10-03T09:12:00Z",
        "author_association": "MEMBER",
    })
}
