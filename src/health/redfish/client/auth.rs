//! Who a request says it is: the session token or Basic credentials, and
//! the session opened at the BMC's `Links.Sessions`.

use base64::Engine;
use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use http::{HeaderValue, Method, Request, StatusCode};
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::{FetchError, RedfishClient};

/// Which credentials a request carries.
#[derive(Clone, Copy, Debug)]
pub(super) enum Auth {
    /// None (the session login, whose body holds them).
    None,
    /// The session token, else Basic credentials, if the BMC has any.
    Session,
}

impl RedfishClient {
    pub(super) fn token(&self) -> Option<String> {
        self.token.lock().map(|t| t.clone()).unwrap_or(None)
    }

    pub(super) fn set_token(&self, value: Option<String>) {
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

    pub(super) async fn open_session(&self, url: Url) -> Result<(), FetchError> {
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

    /// A request to `url` with this client's headers: the user agent, and the
    /// session token or Basic credentials as `auth` says.
    pub(super) fn request(
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
}
