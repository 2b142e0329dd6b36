//! Credentials: vigil's own chain over `azure_identity`'s credential types (the Rust SDK has no
//! `DefaultAzureCredential`), chosen by environment variables, first match wins:
//!
//! | selected by | credential |
//! |---|---|
//! | `VIGIL_AZURE_TOKEN` | that bearer token as is (a token minted elsewhere; the emulator with `--token`) |
//! | `ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (+ `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`) | GitHub Actions OIDC: the job's ID token (audience `api://AzureADTokenExchange`) as a client assertion |
//! | `AZURE_FEDERATED_TOKEN_FILE` (+ `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`) | workload identity (a federated token in a file, e.g. AKS) |
//! | `AZURE_CLIENT_SECRET` (+ `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`) | service principal with a client secret |
//! | `IDENTITY_ENDPOINT` or `MSI_ENDPOINT` | managed identity (App Service, Functions, Arc); `AZURE_CLIENT_ID` picks a user-assigned one |
//! | nothing of the above | Azure CLI (`az login`, or `azure/login` in a workflow) |
//!
//! `VIGIL_AZURE_CREDENTIAL=static|github-oidc|workload-identity|client-secret|managed-identity|azure-cli|none`
//! forces one (`managed-identity` is how a VM with IMDS and no variables selects it). An
//! environment with `auth = "none"` (the `local` emulator) sends no token unless
//! `VIGIL_AZURE_TOKEN` is set.
//!
//! **Architecture Invariant:** tokens and secrets never appear in `Debug`, `Display`, errors or
//! logs: [`Secret`] prints as `***`, and errors carry request ids, never headers.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;

/// A secret string that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where tokens come from.
#[derive(Clone)]
pub enum Credential {
    /// No `Authorization` header (the emulator).
    None,
    /// A fixed bearer token.
    Static(Secret),
    /// An `azure_identity` credential; `name` says which, for `--verbose`.
    Azure {
        name: &'static str,
        credential: Arc<dyn TokenCredential>,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Credential {
    /// Which credential, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Credential::None => "no credential",
            Credential::Static(_) => "static token (VIGIL_AZURE_TOKEN)",
            Credential::Azure { name, .. } => name,
        }
    }

    /// A bearer token for `scope`, or `None` when no header is sent.
    pub async fn token(&self, scope: &str) -> Result<Option<Secret>, String> {
        match self {
            Credential::None => Ok(None),
            Credential::Static(s) => Ok(Some(s.clone())),
            Credential::Azure { name, credential } => credential
                .get_token(&[scope], None)
                .await
                .map(|t| Some(Secret::new(t.token.secret())))
                .map_err(|e| format!("{name}: could not get a token for {scope}: {e}")),
        }
    }
}

/// GitHub Actions' OIDC token as a client assertion.
#[derive(Debug)]
struct GithubOidc {
    url: String,
    request_token: Secret,
}

#[async_trait::async_trait]
impl azure_identity::ClientAssertion for GithubOidc {
    async fn secret(
        &self,
        _: Option<azure_core::http::ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}audience=api://AzureADTokenExchange", self.url);
        let client = super::http::http_client(std::time::Duration::from_secs(30));
        let err = |m: String| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, m)
        };
        let resp = client
            .get(&url)
            .bearer_auth(self.request_token.expose())
            .send()
            .await
            .map_err(|e| {
                err(format!(
                    "GitHub OIDC token request failed: {}",
                    e.without_url()
                ))
            })?;
        let status = resp.status();
        let body: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| err(format!("GitHub OIDC token response: {}", e.without_url())))?;
        match body.get("value").and_then(|v| v.as_str()) {
            Some(v) if status.is_success() => Ok(v.to_string()),
            _ => Err(err(format!(
                "GitHub OIDC token request answered {status}; does the workflow have `permissions: id-token: write`?"
            ))),
        }
    }
}

/// Choose a credential from environment variables (see the module docs). `get` reads a
/// variable (the process environment in the CLI; a map in tests).
pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Credential, String> {
    super::http::install_tls();
    let var = |k: &str| get(k).filter(|v| !v.is_empty());
    let forced = var("VIGIL_AZURE_CREDENTIAL");
    let pick = |name: &str| forced.as_deref().is_none_or(|f| f == name);
    let ids = || -> Result<(String, String), String> {
        match (var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID")) {
            (Some(t), Some(c)) => Ok((t, c)),
            _ => Err("AZURE_TENANT_ID and AZURE_CLIENT_ID must be set for this credential".into()),
        }
    };
    let wrap = |e: azure_core::Error| e.to_string();
    if let Some(f) = &forced {
        const KNOWN: &[&str] = &[
            "static",
            "github-oidc",
            "workload-identity",
            "client-secret",
            "managed-identity",
            "azure-cli",
            "none",
        ];
        if !KNOWN.contains(&f.as_str()) {
            return Err(format!(
                "VIGIL_AZURE_CREDENTIAL={f} is not one of {}",
                KNOWN.join(", ")
            ));
        }
        if f == "none" {
            return Ok(Credential::None);
        }
    }
    if pick("static") {
        if let Some(t) = var("VIGIL_AZURE_TOKEN") {
            return Ok(Credential::Static(Secret::new(t)));
        }
    }
    if pick("github-oidc") {
        if let (Some(url), Some(tok)) = (
            var("ACTIONS_ID_TOKEN_REQUEST_URL"),
            var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) {
            let (tenant, client) = ids()?;
            let c = azure_identity::ClientAssertionCredential::new(
                tenant,
                client,
                GithubOidc {
                    url,
                    request_token: Secret::new(tok),
                },
                None,
            )
            .map_err(wrap)?;
            return Ok(Credential::Azure {
                name: "GitHub Actions OIDC (client assertion)",
                credential: c,
            });
        }
    }
    if pick("workload-identity") && var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        let (tenant, client) = ids()?;
        let c = azure_identity::WorkloadIdentityCredential::new(Some(
            azure_identity::WorkloadIdentityCredentialOptions {
                tenant_id: Some(tenant),
                client_id: Some(client),
                token_file_path: var("AZURE_FEDERATED_TOKEN_FILE").map(Into::into),
                ..Default::default()
            },
        ))
        .map_err(wrap)?;
        return Ok(Credential::Azure {
            name: "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
            credential: c,
        });
    }
    if pick("client-secret") {
        if let Some(secret) = var("AZURE_CLIENT_SECRET") {
            let (tenant, client) = ids()?;
            let c = azure_identity::ClientSecretCredential::new(
                &tenant,
                client,
                azure_core::credentials::Secret::new(secret),
                None,
            )
            .map_err(wrap)?;
            return Ok(Credential::Azure {
                name: "client secret (AZURE_CLIENT_SECRET)",
                credential: c,
            });
        }
    }
    let msi_env = var("IDENTITY_ENDPOINT").is_some() || var("MSI_ENDPOINT").is_some();
    if forced.as_deref() == Some("managed-identity") || (forced.is_none() && msi_env) {
        let opts = azure_identity::ManagedIdentityCredentialOptions {
            user_assigned_id: var("AZURE_CLIENT_ID").map(azure_identity::UserAssignedId::ClientId),
            ..Default::default()
        };
        let c = azure_identity::ManagedIdentityCredential::new(Some(opts)).map_err(wrap)?;
        return Ok(Credential::Azure {
            name: "managed identity",
            credential: c,
        });
    }
    if pick("azure-cli") {
        let opts = azure_identity::AzureCliCredentialOptions {
            tenant_id: var("AZURE_TENANT_ID"),
            ..Default::default()
        };
        let c = azure_identity::AzureCliCredential::new(Some(opts)).map_err(wrap)?;
        return Ok(Credential::Azure {
            name: "Azure CLI",
            credential: c,
        });
    }
    Err(format!(
        "VIGIL_AZURE_CREDENTIAL={} was chosen but its variables are not set",
        forced.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn variables_select_the_credential() {
        let t = "00000000-0000-0000-0000-000000000001";
        let c = "00000000-0000-0000-0000-000000000002";
        let pick = |pairs: &[(&str, &str)]| from_env(&env(pairs)).map(|c| c.name());
        assert_eq!(
            pick(&[("VIGIL_AZURE_TOKEN", "abc")]).unwrap(),
            "static token (VIGIL_AZURE_TOKEN)"
        );
        assert_eq!(
            pick(&[
                (
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    "https://example.invalid/x?a=1"
                ),
                ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh"),
                ("AZURE_TENANT_ID", t),
                ("AZURE_CLIENT_ID", c),
            ])
            .unwrap(),
            "GitHub Actions OIDC (client assertion)"
        );
        assert!(pick(&[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", "u"),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh")
        ])
        .unwrap_err()
        .contains("AZURE_TENANT_ID"));
        assert_eq!(
            pick(&[
                ("AZURE_CLIENT_SECRET", "s3cret"),
                ("AZURE_TENANT_ID", t),
                ("AZURE_CLIENT_ID", c),
            ])
            .unwrap(),
            "client secret (AZURE_CLIENT_SECRET)"
        );
        let dir = std::env::temp_dir().join(format!("vigil-wi-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "eyJ.federated.token").unwrap();
        let token = token.to_string_lossy().to_string();
        assert_eq!(
            pick(&[
                ("AZURE_FEDERATED_TOKEN_FILE", token.as_str()),
                ("AZURE_TENANT_ID", t),
                ("AZURE_CLIENT_ID", c),
            ])
            .unwrap(),
            "workload identity (AZURE_FEDERATED_TOKEN_FILE)"
        );
        assert_eq!(
            pick(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:1")]).unwrap(),
            "managed identity"
        );
        assert_eq!(pick(&[]).unwrap(), "Azure CLI");
        assert_eq!(
            pick(&[("VIGIL_AZURE_CREDENTIAL", "managed-identity")]).unwrap(),
            "managed identity"
        );
        assert_eq!(
            pick(&[
                ("VIGIL_AZURE_CREDENTIAL", "none"),
                ("VIGIL_AZURE_TOKEN", "x")
            ])
            .unwrap(),
            "no credential"
        );
        assert!(pick(&[("VIGIL_AZURE_CREDENTIAL", "bogus")]).is_err());
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        let c = Credential::Static(s);
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = from_env(&env(&[
            ("AZURE_CLIENT_SECRET", "hunter2"),
            ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
            ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000002"),
        ]))
        .unwrap();
        if let Credential::Azure { credential, .. } = &c {
            assert!(!format!("{credential:?}").contains("hunter2"));
        }
    }
}
