//! A thin Redfish client over hyper's pooled HTTP/1 client and rustls: one
//! per BMC, holding its session token, over a connection pool shared by the
//! BMCs of one TLS policy, so polls reuse both. (It was on `reqwest`, whose
//! redirect layer, under every request, parsed each request's URL twice
//! more: with reqwest's own wrapping, a twelfth of the poller's CPU per
//! poll, poll benchmark.)
//!
//! What it guarantees, whatever the BMC does: a TLS policy per BMC (system
//! roots, one pinned CA and nothing else, or no verification), a timeout per
//! request, a cap on every response body (read in chunks, never trusted from
//! `Content-Length`), no automatic retries, redirects followed only on the same
//! scheme, host and port, and links (`@odata.id`) resolved against the BMC's own
//! origin: a link to another host is refused.
//!
//! `tls.rs` holds the TLS policies and verifiers, `transport.rs` the shared
//! pooled HTTP clients, capped body reads and transport errors, `auth.rs`
//! the request headers, Basic credentials and sessions, and `redirect.rs`
//! the redirects followed within the BMC's origin.

mod auth;
mod explain;
mod redirect;
mod tls;
mod transport;

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::read::field;
use redirect::same_origin;
use tls::install_crypto_provider;
use transport::{Http, shared_http};

pub use explain::{explain_stored, stored_detail};
pub use tls::{TlsPolicy, pinned_roots};

/// Limits applied to every request.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Whole request, connect to last body byte.
    pub request_timeout: Duration,
    /// TCP connect (the TLS handshake counts against the request's timeout).
    pub connect_timeout: Duration,
    /// Largest response body accepted, bytes.
    pub max_body_bytes: usize,
    /// Ask collections for their members inline (`$expand`) when the BMC
    /// offers it (see [`RedfishClient::offer_expand`]).
    pub expand: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 4 * 1024 * 1024,
            expand: true,
        }
    }
}

/// Login for a BMC. The password is wiped from memory on drop and never printed.
#[derive(Clone)]
pub struct Credentials {
    /// Redfish user name.
    pub username: String,
    /// Password in clear (only in memory).
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why one fetch failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// Could not connect, or the connection broke.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The TLS certificate was refused.
    #[error("TLS: {0}")]
    Tls(String),
    /// An HTTP error status.
    #[error("HTTP {0}")]
    Status(u16),
    /// Credentials refused.
    #[error("authentication refused (HTTP {0})")]
    Auth(u16),
    /// Body larger than the cap.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// A redirect (or a link) to another host.
    #[error("refused to follow a redirect or link to {0}")]
    OffHost(String),
    /// Redirects within the BMC past the most followed (a loop), with the
    /// path the last one led to.
    #[error("too many redirects within the BMC (last to {0})")]
    TooManyRedirects(String),
    /// The body is not JSON.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// The BMC URL or a link could not be used.
    #[error("bad URL: {0}")]
    BadUrl(String),
}

/// Checks a BMC URL: http or https with a host; only its origin is kept.
pub fn parse_bmc_url(text: &str) -> Result<Url, FetchError> {
    let mut url = Url::parse(text.trim()).map_err(|e| FetchError::BadUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(FetchError::BadUrl(
            "use http:// or https:// and a host".into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::BadUrl("put no credentials in the URL".into()));
    }
    url.set_path("/");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}
/// One BMC's client: connection pool, credentials and session token.
pub struct RedfishClient {
    http: Http,
    origin: Url,
    creds: Option<Credentials>,
    token: Mutex<Option<String>>,
    sessions: Mutex<Option<Url>>,
    /// The `$expand` query collections are asked with, while the BMC answers it.
    expand: Mutex<Option<&'static str>>,
    /// The BMC failed a request with `$expand` (see [`RedfishClient::refuse_expand`]).
    expand_refused: std::sync::atomic::AtomicBool,
    limits: Limits,
}

impl std::fmt::Debug for RedfishClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedfishClient")
            .field("origin", &self.origin.as_str())
            .finish_non_exhaustive()
    }
}
impl RedfishClient {
    /// A client for the BMC at `url` (its origin) with this TLS policy and limits.
    pub fn new(
        url: &str,
        tls: &TlsPolicy,
        creds: Option<Credentials>,
        limits: Limits,
    ) -> Result<RedfishClient, FetchError> {
        install_crypto_provider();
        let origin = parse_bmc_url(url)?;
        let http = shared_http(tls, &limits)?;
        Ok(RedfishClient {
            http,
            origin,
            creds: creds.filter(|c| !c.username.is_empty()),
            token: Mutex::new(None),
            sessions: Mutex::new(None),
            expand: Mutex::new(None),
            expand_refused: Default::default(),
            limits,
        })
    }

    /// The BMC's origin (`https://host:port/`).
    pub fn origin(&self) -> &Url {
        &self.origin
    }

    /// Resolves a link as given (`/redfish/v1/...`, or an absolute URL on this
    /// BMC); drops the fragment; refuses other hosts.
    pub fn resolve(&self, link: &str) -> Result<Url, FetchError> {
        let mut url = self
            .origin
            .join(link.trim())
            .map_err(|e| FetchError::BadUrl(format!("{link}: {e}")))?;
        url.set_fragment(None);
        if !same_origin(&url, &self.origin) {
            return Err(FetchError::OffHost(
                url.host_str().unwrap_or_default().to_owned(),
            ));
        }
        Ok(url)
    }

    /// The `$expand` query to ask collections with, if any (see [`Self::offer_expand`]).
    pub fn expand(&self) -> Option<&'static str> {
        self.expand.lock().map(|e| *e).unwrap_or(None)
    }

    /// Asks collections for their members inline from now on when the
    /// service root says the BMC can (`ProtocolFeaturesSupported.ExpandQuery`
    /// with `NoLinks`: `$expand=.`, one level, not `Links`), the limits
    /// allow it and the BMC has not failed such a request, else not.
    pub fn offer_expand(&self, root: &Value) {
        if !self.limits.expand
            || self
                .expand_refused
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            return self.set_expand(None);
        }
        let q = field(root, "ProtocolFeaturesSupported").and_then(|p| field(p, "ExpandQuery"));
        let yes = |name| q.and_then(|q| field(q, name)) == Some(&Value::Bool(true));
        let query = yes("NoLinks").then(|| {
            if yes("Levels") {
                "$expand=.($levels=1)"
            } else {
                "$expand=."
            }
        });
        self.set_expand(query);
    }

    /// Stops asking collections with `$expand`, for as long as this client
    /// lives (the poller keeps one per BMC until its settings change), as
    /// the BMC failed such a request though its service root offers it
    /// (`sushy-static` answers 404): each poll would otherwise spend a
    /// request finding that out again.
    pub fn refuse_expand(&self) {
        self.expand_refused
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.set_expand(None);
    }

    /// Stops (`None`) or starts asking collections with `$expand`.
    pub fn set_expand(&self, query: Option<&'static str>) {
        if let Ok(mut e) = self.expand.lock() {
            *e = query;
        }
    }
    /// GETs a Redfish document by its link and parses it as JSON, within the limits.
    pub async fn get(&self, link: &str) -> Result<Value, FetchError> {
        self.get_parsed(link, Parse::Whole).await
    }

    /// [`RedfishClient::get`], keeping only the properties the collector
    /// reads ([`super::kept::KEPT`]).
    pub async fn get_kept(&self, link: &str) -> Result<Value, FetchError> {
        self.get_parsed(link, Parse::Kept).await
    }

    async fn get_parsed(&self, link: &str, parse: Parse) -> Result<Value, FetchError> {
        let url = self.resolve(link)?;
        let had_token = self.token().is_some();
        match self.get_once(url.clone(), parse).await {
            Err(FetchError::Auth(_)) if had_token => {
                // The session expired: open a new one (or go on with Basic) and retry once.
                self.set_token(None);
                let sessions = self.sessions.lock().ok().and_then(|s| s.clone());
                if let Some(s) = sessions {
                    self.open_session(s).await?;
                }
                self.get_once(url, parse).await
            }
            other => other,
        }
    }

    async fn get_once(&self, url: Url, parse: Parse) -> Result<Value, FetchError> {
        let body = tokio::time::timeout(self.limits.request_timeout, self.fetch(url))
            .await
            .map_err(|_| FetchError::Timeout)??;
        match parse {
            Parse::Whole => serde_json::from_slice(&body),
            Parse::Kept => super::kept::parse_kept(&body),
        }
        .map_err(|e| FetchError::Malformed(e.to_string()))
    }
}

/// How much of a document to keep.
#[derive(Clone, Copy, Debug)]
enum Parse {
    Whole,
    Kept,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client for a BMC nobody listens at.
    fn client(limits: Limits) -> RedfishClient {
        RedfishClient::new("http://127.0.0.1:9", &TlsPolicy::Verify, None, limits).expect("client")
    }

    #[test]
    fn bmc_urls_keep_only_their_origin_and_links_stay_on_it() {
        let u = parse_bmc_url(" https://10.0.0.5:8443/redfish/v1?x=1 ").expect("ok");
        assert_eq!(u.as_str(), "https://10.0.0.5:8443/");
        assert!(parse_bmc_url("ftp://x").is_err());
        assert!(parse_bmc_url("https://root:pw@x").is_err());
        let c = client(Limits::default());
        assert_eq!(
            c.resolve("/redfish/v1/Chassis/1U/Thermal#/Temperatures/0")
                .expect("ok")
                .as_str(),
            "http://127.0.0.1:9/redfish/v1/Chassis/1U/Thermal"
        );
        assert!(matches!(
            c.resolve("http://evil.example/redfish/v1"),
            Err(FetchError::OffHost(_))
        ));
    }

    #[test]
    fn collections_are_asked_with_expand_only_as_the_service_root_offers() {
        let c = client(Limits::default());
        let offers = |features: Value| {
            c.offer_expand(&serde_json::json!({ "ProtocolFeaturesSupported": features }));
            c.expand()
        };
        // public-rackmount1 and the HPE iLO capture (`MaxLevels` 1, no `ExpandAll`).
        let levels = serde_json::json!({ "ExpandQuery": { "Levels": true, "NoLinks": true, "MaxLevels": 1 } });
        assert_eq!(offers(levels.clone()), Some("$expand=.($levels=1)"));
        let no_links = serde_json::json!({ "ExpandQuery": { "NoLinks": true } });
        assert_eq!(offers(no_links), Some("$expand=."));
        // Only `*` or `~` (which would inline `Links` too), a string for a
        // boolean, no features at all: collections are asked plainly.
        let all_only = serde_json::json!({ "ExpandQuery": { "ExpandAll": true, "Links": true, "NoLinks": false } });
        assert_eq!(offers(all_only), None);
        assert_eq!(
            offers(serde_json::json!({ "ExpandQuery": { "NoLinks": "true" } })),
            None
        );
        c.set_expand(Some("$expand=."));
        c.offer_expand(&serde_json::json!({ "Systems": {} }));
        assert_eq!(c.expand(), None);
        // Once the BMC has failed a request with it, never again on this client.
        c.refuse_expand();
        assert_eq!(offers(levels), None);
        // `[health] expand = false`: never, whatever the BMC offers.
        let off = client(Limits {
            expand: false,
            ..Limits::default()
        });
        off.offer_expand(&serde_json::json!({ "ProtocolFeaturesSupported":
            { "ExpandQuery": { "Levels": true, "NoLinks": true } } }));
        assert_eq!(off.expand(), None);
    }

    #[test]
    fn credentials_never_show_the_password() {
        let c = Credentials {
            username: "root".into(),
            password: Zeroizing::new("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
