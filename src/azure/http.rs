//! The process's one HTTP stack: reqwest on rustls with the ring provider. A leaf under
//! `auth` (azure_identity's requests) and `client` (vigil's).

use std::sync::Once;
use std::time::Duration;

static TLS: Once = Once::new();

/// Install rustls' ring provider as the process default (reqwest is built without one, so
/// every client, azure_identity's included, must be created after this).
pub fn install_tls() {
    TLS.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A reqwest client on rustls with the ring provider.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    install_tls();
    reqwest::Client::builder()
        .timeout(timeout)
        // No redirects: a redirect would carry the request (and its token) to a host nobody
        // checked.
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds with static settings")
}
