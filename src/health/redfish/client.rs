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

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, USER_AGENT};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::read::field;

/// How the client checks the BMC's TLS certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsPolicy {
    /// Verify against the system's roots (platform verifier).
    Verify,
    /// Verify against this one CA certificate (PEM) only; no built-in roots.
    Pinned(String),
    /// No verification at all: only for an isolated management network.
    Insecure,
}

impl TlsPolicy {
    /// The stored name: `verify`, `pinned` or `insecure`.
    pub fn name(&self) -> &'static str {
        match self {
            TlsPolicy::Verify => "verify",
            TlsPolicy::Pinned(_) => "pinned",
            TlsPolicy::Insecure => "insecure",
        }
    }
}

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

/// The roots of a pinned CA (PEM): at least one certificate, each parsed as
/// a trust anchor.
pub fn pinned_roots(pem: &str) -> Result<rustls::RootCertStore, FetchError> {
    use rustls::pki_types::pem::PemObject;
    let ders: Vec<CertificateDer> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| FetchError::Tls(format!("pinned CA: {e}")))?;
    if ders.is_empty() {
        return Err(FetchError::Tls(
            "pinned CA: no certificate in the PEM".into(),
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for der in ders {
        roots
            .add(der)
            .map_err(|e| FetchError::Tls(format!("pinned CA: {e}")))?;
    }
    Ok(roots)
}

/// The pooled HTTP/1 client, plain or TLS.
type Http = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Redirects followed for one request at most (each within the BMC's origin).
const MAX_REDIRECTS: usize = 5;

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

fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only if another provider is already installed, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The HTTP clients BMCs share, by TLS policy (a pinned CA by its PEM) and
/// connect timeout. Building one loads the platform's certificate verifier, which
/// costs milliseconds of CPU and hundreds of KiB, so 2,000 BMCs must not each
/// build their own (the poll benchmark found 12 ms and 410 MiB). Each BMC is
/// its own host, so a shared pool still keeps its connections apart.
type HttpKey = (String, Duration);

fn shared_http(tls: &TlsPolicy, limits: &Limits) -> Result<Http, FetchError> {
    static CLIENTS: LazyLock<Mutex<HashMap<HttpKey, Http>>> = LazyLock::new(Default::default);
    let tls_key = match tls {
        TlsPolicy::Verify => "verify".to_owned(),
        TlsPolicy::Insecure => "insecure".to_owned(),
        TlsPolicy::Pinned(pem) => format!("pinned:{pem}"),
    };
    let key = (tls_key, limits.connect_timeout);
    if let Ok(guard) = CLIENTS.lock()
        && let Some(c) = guard.get(&key)
    {
        return Ok(c.clone());
    }
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(limits.connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config(tls)?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    let http = Client::builder(TokioExecutor::new())
        // A poll's requests reuse its connections (as many as it has in
        // flight); between polls, minutes apart, none are kept open, so
        // 2,000 BMCs do not hold thousands of idle sockets.
        .pool_idle_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(super::collect::PARALLEL_PER_BMC)
        .pool_timer(TokioTimer::new())
        // No automatic retries: a request the BMC may have seen is not sent again.
        .retry_canceled_requests(false)
        .build(https);
    if let Ok(mut guard) = CLIENTS.lock() {
        guard.insert(key, http.clone());
    }
    Ok(http)
}

/// TLS 1.2 and 1.3, verified as `tls` says.
fn tls_config(tls: &TlsPolicy) -> Result<rustls::ClientConfig, FetchError> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Tls(e.to_string()))?;
    // hyper-rustls sets ALPN (HTTP/1.1 only).
    Ok(match tls {
        TlsPolicy::Verify => {
            let verifier = rustls_platform_verifier::Verifier::new(provider)
                .map_err(|e| FetchError::Tls(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth()
        }
        TlsPolicy::Pinned(pem) => builder
            .with_root_certificates(pinned_roots(pem)?)
            .with_no_client_auth(),
        TlsPolicy::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth(),
    })
}

/// [`TlsPolicy::Insecure`]: any certificate, any signature.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verify_tls12_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
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

    fn token(&self) -> Option<String> {
        self.token.lock().map(|t| t.clone()).unwrap_or(None)
    }

    fn set_token(&self, value: Option<String>) {
        if let Ok(mut t) = self.token.lock() {
            *t = value;
        }
    }

    fn basic(&self) -> Option<HeaderValue> {
        let c = self.creds.as_ref()?;
        let raw = Zeroizing::new(format!("{}:{}", c.username, c.password.as_str()));
        let enc = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        let mut v = HeaderValue::from_str(&format!("Basic {enc}")).ok()?;
        v.set_sensitive(true);
        Some(v)
    }

    /// Opens an X-Auth-Token session at the service root's `Links.Sessions`,
    /// unless one is open already (sessions are kept across polls); when the
    /// BMC offers none, requests go on with Basic authentication.
    pub async fn login(&self, service_root: &Value) -> Result<(), FetchError> {
        if self.creds.is_none() || self.token().is_some() {
            return Ok(());
        }
        let Some(link) = service_root
            .pointer("/Links/Sessions/@odata.id")
            .and_then(Value::as_str)
        else {
            return Ok(());
        };
        let url = self.resolve(link)?;
        if let Ok(mut s) = self.sessions.lock() {
            *s = Some(url.clone());
        }
        self.open_session(url).await
    }

    async fn open_session(&self, url: Url) -> Result<(), FetchError> {
        let Some(c) = &self.creds else {
            return Ok(());
        };
        let body = Zeroizing::new(
            serde_json::json!({"UserName": c.username, "Password": c.password.as_str()})
                .to_string(),
        );
        let resp = tokio::time::timeout(
            self.limits.request_timeout,
            self.post_following(url, body.as_bytes()),
        )
        .await
        .map_err(|_| FetchError::Timeout)??;
        let token = resp
            .headers()
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match (resp.status(), token) {
            (s, Some(t)) if s.is_success() => self.set_token(Some(t)),
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => {
                return Err(FetchError::Auth(resp.status().as_u16()));
            }
            // No session service worth the name: Basic on every request.
            _ => self.set_token(None),
        }
        Ok(())
    }

    /// POSTs `body` to `url`, following the redirects that keep a POST a
    /// POST (307 and 308) within the BMC's origin, [`MAX_REDIRECTS`] at most.
    /// Any other answer is the caller's to read, a redirect it does not
    /// follow included (elsewhere, without a Location, one too many, or a
    /// 301-303, which would drop the body for a GET that opens no session):
    /// the poll then goes on with Basic authentication, as before any session.
    async fn post_following(
        &self,
        mut url: Url,
        body: &[u8],
    ) -> Result<Response<Incoming>, FetchError> {
        let mut hops = 0;
        loop {
            let req = self
                .request(Method::POST, &url, Auth::None)?
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::copy_from_slice(body)))
                .map_err(|e| FetchError::BadUrl(e.to_string()))?;
            let resp = self.http.request(req).await.map_err(map_hyper)?;
            let status = resp.status();
            if !matches!(status.as_u16(), 307 | 308) {
                return Ok(resp);
            }
            match self.next_hop(&resp, &url, hops) {
                Ok(next) => {
                    hops += 1;
                    url = next;
                }
                Err(_) => return Ok(resp),
            }
        }
    }

    /// Where a redirect from `url` leads, if the client goes there: a
    /// `Location` within the BMC's origin, with hops left ([`MAX_REDIRECTS`]
    /// after `hops`). Otherwise where it pointed (`?` without a Location:
    /// joining "" would ask the same URL again).
    fn next_hop(&self, resp: &Response<Incoming>, url: &Url, hops: usize) -> Result<Url, String> {
        let to = location(resp);
        match to.map(|to| url.join(to)) {
            Some(Ok(next)) if hops < MAX_REDIRECTS && same_origin(&next, &self.origin) => Ok(next),
            _ => Err(to.unwrap_or("?").to_owned()),
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

    /// A request to `url` with this client's headers: the user agent, and the
    /// session token or Basic credentials as `auth` says.
    fn request(
        &self,
        method: Method,
        url: &Url,
        auth: Auth,
    ) -> Result<http::request::Builder, FetchError> {
        let uri: http::Uri = url
            .as_str()
            .parse()
            .map_err(|e| FetchError::BadUrl(format!("{url}: {e}")))?;
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(
                USER_AGENT,
                concat!("rackledger/", env!("CARGO_PKG_VERSION")),
            )
            .header(ACCEPT, "application/json");
        if let Auth::Session = auth {
            if let Some(t) = self.token() {
                let mut v = HeaderValue::from_str(&t).map_err(|_| {
                    FetchError::Malformed("session token is not a header value".into())
                })?;
                v.set_sensitive(true);
                req = req.header("x-auth-token", v);
            } else if let Some(b) = self.basic() {
                req = req.header(AUTHORIZATION, b);
            }
        }
        Ok(req)
    }

    /// GETs `url`'s body, following redirects within the BMC's origin
    /// ([`MAX_REDIRECTS`] at most; one elsewhere is [`FetchError::OffHost`]).
    async fn fetch(&self, mut url: Url) -> Result<Vec<u8>, FetchError> {
        let mut hops = 0;
        loop {
            let req = self
                .request(Method::GET, &url, Auth::Session)?
                .body(Full::default())
                .map_err(|e| FetchError::BadUrl(e.to_string()))?;
            let resp = self.http.request(req).await.map_err(map_hyper)?;
            let status = resp.status();
            if status.is_redirection() {
                if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                    return Err(FetchError::OffHost(
                        location(&resp).unwrap_or("?").to_owned(),
                    ));
                }
                match self.next_hop(&resp, &url, hops) {
                    Ok(next) => {
                        hops += 1;
                        url = next;
                        continue;
                    }
                    Err(to) => return Err(FetchError::OffHost(to)),
                }
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(FetchError::Auth(status.as_u16()));
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return read_capped(resp, self.limits.max_body_bytes).await;
        }
    }
}

/// A redirect's `Location` header, if it has a readable one.
fn location(resp: &Response<Incoming>) -> Option<&str> {
    resp.headers().get(LOCATION).and_then(|v| v.to_str().ok())
}

/// Which credentials a request carries.
#[derive(Clone, Copy, Debug)]
enum Auth {
    /// None (the session login, whose body holds them).
    None,
    /// The session token, else Basic credentials, if the BMC has any.
    Session,
}

/// How much of a document to keep.
#[derive(Clone, Copy, Debug)]
enum Parse {
    Whole,
    Kept,
}

/// The body, refused once it passes `cap` bytes (or says it will).
async fn read_capped(resp: Response<Incoming>, cap: usize) -> Result<Vec<u8>, FetchError> {
    let declared = resp
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(FetchError::TooLarge(cap));
    }
    // Sized from the declared length, which the cap just bounded; never trusted further.
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut stream = resp.into_body();
    while let Some(frame) = stream.frame().await {
        let frame = frame.map_err(|e| FetchError::Connect(error_chain(&e)))?;
        if let Some(chunk) = frame.data_ref() {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(chunk);
        }
    }
    Ok(body)
}

/// An error and its sources, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        text = format!("{text}: {s}");
        src = s.source();
    }
    text
}

/// Whether an I/O error in `e`'s chain timed out (the connect timeout).
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut src = Some(e);
    while let Some(s) = src {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        src = s.source();
    }
    false
}

fn map_hyper(e: hyper_util::client::legacy::Error) -> FetchError {
    // The source chain names certificate problems and connect timeouts.
    let text = error_chain(&e);
    if text.contains("certificate") || text.contains("Certificate") {
        FetchError::Tls(text)
    } else if timed_out(&e) {
        FetchError::Timeout
    } else {
        FetchError::Connect(text)
    }
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
