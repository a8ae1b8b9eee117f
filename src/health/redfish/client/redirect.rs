//! Redirects, followed by the client itself and only within the BMC's
//! origin: a GET's (301, 302, 303, 307, 308) and the session login's (307
//! and 308, which keep a POST a POST).

use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION};
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use url::Url;

use super::auth::Auth;
use super::transport::{map_hyper, read_capped};
use super::{FetchError, RedfishClient};

/// Redirects followed for one request at most (each within the BMC's origin).
const MAX_REDIRECTS: usize = 5;
pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}
impl RedfishClient {
    /// POSTs `body` to `url`, following the redirects that keep a POST a
    /// POST (307 and 308) within the BMC's origin, [`MAX_REDIRECTS`] at most.
    /// Any other answer is the caller's to read, a redirect it does not
    /// follow included (elsewhere, without a Location, one too many, or a
    /// 301-303, which would drop the body for a GET that opens no session):
    /// the poll then goes on with Basic authentication, as before any session.
    pub(super) async fn post_following(
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
    fn next_hop(
        &self,
        resp: &Response<Incoming>,
        url: &Url,
        hops: usize,
    ) -> Result<Url, FetchError> {
        let to = location(resp);
        match to.map(|to| url.join(to)) {
            Some(Ok(next)) if same_origin(&next, &self.origin) => {
                if hops < MAX_REDIRECTS {
                    Ok(next)
                } else {
                    // Still on the BMC: a loop, or a chain too long, not another host.
                    Err(FetchError::TooManyRedirects(next.path().to_owned()))
                }
            }
            _ => Err(FetchError::OffHost(to.unwrap_or("?").to_owned())),
        }
    }
    /// GETs `url`'s body, following redirects within the BMC's origin
    /// ([`MAX_REDIRECTS`] at most, then [`FetchError::TooManyRedirects`]; one
    /// elsewhere is [`FetchError::OffHost`]).
    pub(super) async fn fetch(&self, mut url: Url) -> Result<Vec<u8>, FetchError> {
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
                    Err(e) => return Err(e),
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
