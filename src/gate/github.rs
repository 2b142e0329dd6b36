//! The GitHub REST client of the gate: the pull request, its reviews, and CODEOWNERS at the
//! base commit. The only code in vigil that talks to GitHub; it returns plain data
//! ([`PullRequest`]) for the pure review confirmation in `gate::review`.
//!
//! It runs with the workflow's token: `GITHUB_TOKEN`, `GITHUB_API_URL` (default
//! `https://api.github.com`), `GITHUB_REPOSITORY` (`owner/name`) and the pull request number
//! from the event payload (`GITHUB_EVENT_PATH`) or `--pr`. The token is sent only in the
//! Authorization header and never appears in errors.

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use serde::Deserialize;

use super::review::{PrReview, PullRequest};

/// Where and as whom to call the API.
#[derive(Clone)]
pub struct GithubContext {
    /// `https://api.github.com`, or the loopback server in tests.
    pub api_url: String,
    /// `owner/name`.
    pub repository: String,
    pub token: String,
    pub pr: u64,
}

impl std::fmt::Debug for GithubContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubContext")
            .field("api_url", &self.api_url)
            .field("repository", &self.repository)
            .field("token", &"<redacted>")
            .field("pr", &self.pr)
            .finish()
    }
}

impl GithubContext {
    /// From the Actions environment (`var` reads a variable; `read` reads the event file).
    /// `None` when no token or repository is set (not running in a workflow).
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        read: impl Fn(&str) -> Option<String>,
        pr: Option<u64>,
    ) -> anyhow::Result<Option<GithubContext>> {
        let (Some(token), Some(repository)) = (
            var("GITHUB_TOKEN").filter(|t| !t.is_empty()),
            var("GITHUB_REPOSITORY").filter(|r| !r.is_empty()),
        ) else {
            return Ok(None);
        };
        let api_url = var("GITHUB_API_URL")
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://api.github.com".into());
        // The workflow's token goes over https (GitHub, or GitHub Enterprise Server where the
        // workflow says so), or to loopback; never over plain http to another host.
        let parsed = reqwest::Url::parse(&api_url)
            .map_err(|e| anyhow!("GITHUB_API_URL `{api_url}` is not a URL: {e}"))?;
        let host = parsed.host_str().unwrap_or("");
        if parsed.scheme() != "https"
            && !(parsed.scheme() == "http" && crate::azure::hosts::is_loopback(host))
        {
            return Err(anyhow!(
                "GITHUB_API_URL `{api_url}`: the token is sent only over https (or to loopback)"
            ));
        }
        let pr = match pr {
            Some(n) => n,
            None => event_pr_number(&var, &read).ok_or_else(|| {
                anyhow!("no pull request number: pass --pr N, or run on a pull_request event (GITHUB_EVENT_PATH)")
            })?,
        };
        Ok(Some(GithubContext {
            api_url: api_url.trim_end_matches('/').to_string(),
            repository,
            token,
            pr,
        }))
    }
}

fn event_pr_number(
    var: &impl Fn(&str) -> Option<String>,
    read: &impl Fn(&str) -> Option<String>,
) -> Option<u64> {
    if let Some(text) = var("GITHUB_EVENT_PATH").and_then(|p| read(&p)) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if let Some(n) = v["pull_request"]["number"]
                .as_u64()
                .or_else(|| v["number"].as_u64())
            {
                return Some(n);
            }
        }
    }
    // refs/pull/<n>/merge
    let r = var("GITHUB_REF")?;
    r.strip_prefix("refs/pull/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

#[derive(Deserialize)]
struct User {
    login: String,
}

#[derive(Deserialize)]
struct Ref {
    sha: String,
}

#[derive(Deserialize)]
struct PullJson {
    number: u64,
    user: User,
    head: Ref,
    base: Ref,
}

#[derive(Deserialize)]
struct ReviewJson {
    user: Option<User>,
    state: String,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    submitted_at: Option<String>,
    #[serde(default)]
    author_association: Option<String>,
}

/// Fetch the pull request, all its reviews and CODEOWNERS at its base commit.
pub fn fetch(ctx: &GithubContext) -> anyhow::Result<PullRequest> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    rt.block_on(fetch_async(ctx))
}

async fn fetch_async(ctx: &GithubContext) -> anyhow::Result<PullRequest> {
    let client = crate::azure::client::http_client(Duration::from_secs(30));
    let base = format!("{}/repos/{}", ctx.api_url, ctx.repository);
    let pull: PullJson = get_json(&client, ctx, &format!("{base}/pulls/{}", ctx.pr)).await?;
    let mut reviews = Vec::new();
    for page in 1..=50 {
        let batch: Vec<ReviewJson> = get_json(
            &client,
            ctx,
            &format!("{base}/pulls/{}/reviews?per_page=100&page={page}", ctx.pr),
        )
        .await?;
        let n = batch.len();
        reviews.extend(batch.into_iter().filter_map(|r| {
            Some(PrReview {
                login: r.user?.login,
                state: r.state,
                commit_id: r.commit_id.unwrap_or_default(),
                submitted_at: r.submitted_at,
                author_association: r.author_association.unwrap_or_default(),
            })
        }));
        if n < 100 {
            break;
        }
    }
    let mut codeowners = None;
    for path in [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] {
        if let Some(text) = get_raw(
            &client,
            ctx,
            &format!("{base}/contents/{path}?ref={}", pull.base.sha),
        )
        .await?
        {
            codeowners = Some(text);
            break;
        }
    }
    // Teams named in CODEOWNERS: their members, when the token may read them.
    let mut team_members = std::collections::BTreeMap::new();
    if let Some(text) = &codeowners {
        let teams: std::collections::BTreeSet<String> = super::codeowners::CodeOwners::parse(text)
            .rules
            .iter()
            .flat_map(|r| r.owners.iter())
            .filter(|o| super::codeowners::is_team(o))
            .map(|o| o.trim_start_matches('@').to_ascii_lowercase())
            .collect();
        for team in teams {
            let Some((org, slug)) = team.split_once('/') else {
                continue;
            };
            let mut members = Vec::new();
            let mut readable = true;
            for page in 1..=10 {
                let url = format!(
                    "{}/orgs/{org}/teams/{slug}/members?per_page=100&page={page}",
                    ctx.api_url
                );
                match get_json::<Vec<User>>(&client, ctx, &url).await {
                    Ok(batch) => {
                        let n = batch.len();
                        members.extend(batch.into_iter().map(|u| u.login));
                        if n < 100 {
                            break;
                        }
                    }
                    Err(_) => {
                        readable = false;
                        break;
                    }
                }
            }
            if readable {
                team_members.insert(team, members);
            }
        }
    }
    Ok(PullRequest {
        number: pull.number,
        author: pull.user.login,
        head_sha: pull.head.sha,
        base_sha: pull.base.sha,
        reviews,
        codeowners,
        team_members,
    })
}

fn request(client: &reqwest::Client, ctx: &GithubContext, url: &str) -> reqwest::RequestBuilder {
    client
        .get(url)
        .bearer_auth(&ctx.token)
        .header("X-GitHub-Api-Version", "2022-11-28")
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    ctx: &GithubContext,
    url: &str,
) -> anyhow::Result<T> {
    let resp = request(client, ctx, url)
        .header("Accept", "application/vnd.github+json")
        .send()
        .await
        .map_err(|e| anyhow!("GET {url}: {}", e.without_url()))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("GET {url}: GitHub answered {status}: {}", excerpt(&body));
    }
    resp.json::<T>()
        .await
        .map_err(|e| anyhow!("GET {url}: unexpected answer: {}", e.without_url()))
}

/// A file's raw text, or `None` when it does not exist (404).
async fn get_raw(
    client: &reqwest::Client,
    ctx: &GithubContext,
    url: &str,
) -> anyhow::Result<Option<String>> {
    let resp = request(client, ctx, url)
        .header("Accept", "application/vnd.github.raw+json")
        .send()
        .await
        .map_err(|e| anyhow!("GET {url}: {}", e.without_url()))?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("GET {url}: GitHub answered {status}: {}", excerpt(&body));
    }
    Ok(Some(resp.text().await.map_err(|e| {
        anyhow!("GET {url}: reading the answer: {}", e.without_url())
    })?))
}

fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_from_the_actions_environment() {
        let vars = |k: &str| match k {
            "GITHUB_TOKEN" => Some("t0ken".to_string()),
            "GITHUB_REPOSITORY" => Some("o/r".to_string()),
            "GITHUB_EVENT_PATH" => Some("/e.json".to_string()),
            _ => None,
        };
        let read = |_: &str| Some(r#"{"pull_request":{"number":42}}"#.to_string());
        let c = GithubContext::from_env(vars, read, None).unwrap().unwrap();
        assert_eq!((c.pr, c.api_url.as_str()), (42, "https://api.github.com"));
        assert!(!format!("{c:?}").contains("t0ken"));
        let none = GithubContext::from_env(|_| None, |_| None, None).unwrap();
        assert!(none.is_none());
        let by_ref = |k: &str| match k {
            "GITHUB_TOKEN" | "GITHUB_REPOSITORY" => Some("x".to_string()),
            "GITHUB_REF" => Some("refs/pull/9/merge".to_string()),
            _ => None,
        };
        let c = GithubContext::from_env(by_ref, |_| None, None)
            .unwrap()
            .unwrap();
        assert_eq!(c.pr, 9);
    }
}
