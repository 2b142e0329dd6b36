//! Where a token may go. A token minted for an audience (ARM, the Log Analytics query API,
//! Microsoft Graph, Azure OpenAI) is sent only to that audience's hosts, over `https://`; plain
//! `http://` only to loopback (the emulator, local model servers); further hosts only when the
//! trusted configuration names them (`[environments.NAME] token_hosts`). A pull request that
//! points an environment at its own server gets no token: the request fails before it is sent.

use std::net::IpAddr;

/// The hosts that serve an audience (the host of a token's scope), in the public and
/// sovereign clouds.
fn audience_hosts(audience: &str) -> &'static [&'static str] {
    match audience {
        "management.azure.com" | "management.core.windows.net" => &["management.azure.com"],
        "management.usgovcloudapi.net" => &["management.usgovcloudapi.net"],
        "management.chinacloudapi.cn" => &["management.chinacloudapi.cn"],
        "api.loganalytics.io" => &["api.loganalytics.io", "api.loganalytics.azure.com"],
        "api.loganalytics.us" => &["api.loganalytics.us"],
        "api.loganalytics.azure.cn" => &["api.loganalytics.azure.cn"],
        "graph.microsoft.com" => &["graph.microsoft.com"],
        // Azure OpenAI: tokens for Cognitive Services go to the resource's own host.
        "cognitiveservices.azure.com" => &["*.openai.azure.com", "*.cognitiveservices.azure.com"],
        _ => &[],
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match p.strip_prefix("*.") {
        Some(suffix) => h.ends_with(&format!(".{suffix}")),
        None => p == h,
    }
}

/// Whether `host` is a loopback address or name.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a token for `scope` may be sent to `url`; `extra` are hosts the trusted
/// configuration adds (`host` or `*.suffix`). The error says why not.
pub fn token_may_go(scope: &str, url: &str, extra: &[String]) -> Result<(), String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let host = u.host_str().unwrap_or("");
    let loopback = is_loopback(host);
    match u.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(format!(
            "refusing to send a token over plain http to {host}: http is allowed only for loopback"
        ))
        }
        other => return Err(format!("refusing to send a token over `{other}`")),
    }
    if loopback {
        return Ok(());
    }
    let audience = reqwest::Url::parse(scope)
        .ok()
        .and_then(|s| s.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let allowed = audience_hosts(&audience)
        .iter()
        .any(|p| host_matches(p, host))
        || extra.iter().any(|p| host_matches(p, host));
    if allowed {
        Ok(())
    } else {
        Err(format!(
            "refusing to send a token minted for {audience} to {host}: tokens go only to the hosts of their audience (add others under [environments.NAME] token_hosts in the trusted vigil.toml)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_go_only_where_they_belong() {
        let arm = "https://management.azure.com/.default";
        let la = "https://api.loganalytics.io/.default";
        let ok = |s, u| token_may_go(s, u, &[]).is_ok();
        assert!(ok(arm, "https://management.azure.com/subscriptions/x"));
        assert!(ok(la, "https://api.loganalytics.io/v1/workspaces/w/query"));
        assert!(ok(
            la,
            "https://api.loganalytics.azure.com/v1/workspaces/w/query"
        ));
        assert!(ok(arm, "http://127.0.0.1:8790/subscriptions/x"));
        assert!(ok(arm, "http://[::1]:8790/x"));
        assert!(ok(
            "https://cognitiveservices.azure.com/.default",
            "https://contoso.openai.azure.com/openai/v1"
        ));
        // The attacks: another host, plain http, the other audience, a look-alike.
        assert!(!ok(arm, "http://evil.example.com/subscriptions/x"));
        assert!(!ok(arm, "https://evil.example.com/subscriptions/x"));
        assert!(!ok(arm, "http://management.azure.com/subscriptions/x"));
        assert!(!ok(arm, "https://api.loganalytics.io/v1/x"));
        assert!(!ok(la, "https://management.azure.com/x"));
        assert!(!ok(arm, "https://management.azure.com.evil.example/x"));
        assert!(!ok(
            "https://cognitiveservices.azure.com/.default",
            "https://openai.azure.com.evil/x"
        ));
        assert!(!ok(arm, "ftp://management.azure.com/x"));
        // The trusted configuration may add hosts.
        assert!(token_may_go(
            arm,
            "https://arm.contoso.local/x",
            &["arm.contoso.local".into()]
        )
        .is_ok());
        assert!(token_may_go(
            arm,
            "https://a.contoso.local/x",
            &["*.contoso.local".into()]
        )
        .is_ok());
    }
}
