//! Transport: the pooled HTTP clients BMCs share, response bodies read
//! under a cap, and transport errors as [`FetchError`]s.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::tls::tls_config;
use super::{FetchError, Limits, TlsPolicy};

/// The pooled HTTP/1 client, plain or TLS.
pub(super) type Http = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;
/// The HTTP clients BMCs share, by TLS policy (a pinned CA by its PEM) and
/// connect timeout. Building one loads the platform's certificate verifier, which
/// costs milliseconds of CPU and hundreds of KiB, so 2,000 BMCs must not each
/// build their own (the poll benchmark found 12 ms and 410 MiB). Each BMC is
/// its own host, so a shared pool still keeps its connections apart.
type HttpKey = (String, Duration);

pub(super) fn shared_http(tls: &TlsPolicy, limits: &Limits) -> Result<Http, FetchError> {
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
        .pool_max_idle_per_host(crate::health::redfish::collect::PARALLEL_PER_BMC)
        .pool_timer(TokioTimer::new())
        // No automatic retries: a request the BMC may have seen is not sent again.
        .retry_canceled_requests(false)
        .build(https);
    if let Ok(mut guard) = CLIENTS.lock() {
        guard.insert(key, http.clone());
    }
    Ok(http)
}
/// The body, refused once it passes `cap` bytes (or says it will).
pub(super) async fn read_capped(
    resp: Response<Incoming>,
    cap: usize,
) -> Result<Vec<u8>, FetchError> {
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

pub(super) fn map_hyper(e: hyper_util::client::legacy::Error) -> FetchError {
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
