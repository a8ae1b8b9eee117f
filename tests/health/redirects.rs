//! The client's own redirect handling: followed within the BMC's origin (an
//! iLO answers `/redfish/v1` with a redirect to `/redfish/v1/`), five hops at
//! most, never to another host, and never without a Location.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rackledger::health::redfish::{FetchError, Limits, RedfishClient, TlsPolicy};

/// Requests for `/nowhere`, a redirect without a Location.
static NOWHERE_HITS: AtomicUsize = AtomicUsize::new(0);

async fn answer(uri: Uri) -> Response {
    let path = uri.path();
    let to = |status: StatusCode, location: String| {
        (status, [(header::LOCATION, location)], "").into_response()
    };
    if path == "/redfish/v1" {
        return to(StatusCode::MOVED_PERMANENTLY, "/redfish/v1/".into());
    }
    if path == "/redfish/v1/" {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"RedfishVersion": "1.6.0"}"#,
        )
            .into_response();
    }
    if let Some(n) = path.strip_prefix("/hop/") {
        // /hop/N sends to /hop/N-1, and /hop/0 to the service root.
        let n: u32 = n.parse().unwrap();
        let next = match n {
            0 => "/redfish/v1".to_owned(),
            _ => format!("/hop/{}", n - 1),
        };
        return to(StatusCode::TEMPORARY_REDIRECT, next);
    }
    if path == "/nowhere" {
        NOWHERE_HITS.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::FOUND, "").into_response();
    }
    if path == "/away" {
        return to(StatusCode::FOUND, "http://127.0.0.2:9/redfish/v1/".into());
    }
    StatusCode::NOT_FOUND.into_response()
}

#[tokio::test]
async fn redirects_are_followed_within_the_bmc_five_hops_at_most_and_never_to_another_host() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(answer)).await;
    });
    let client = RedfishClient::new(&url, &TlsPolicy::Verify, None, Limits::default()).unwrap();

    // One hop, and five (two from /hop/3 to the root, then /redfish/v1/).
    let root = client.get("/redfish/v1").await.unwrap();
    assert_eq!(root["RedfishVersion"], "1.6.0");
    let five = client.get("/hop/3").await.unwrap();
    assert_eq!(five["RedfishVersion"], "1.6.0");
    // Six: refused at the sixth, naming where it would have gone.
    assert_eq!(
        client.get("/hop/4").await.unwrap_err(),
        FetchError::OffHost("/redfish/v1/".into())
    );
    // Another host, though on loopback too.
    match client.get("/away").await {
        Err(FetchError::OffHost(to)) => assert!(to.contains("127.0.0.2"), "{to}"),
        other => panic!("followed a redirect to another host: {other:?}"),
    }
    // A redirect that names no place is not asked again.
    assert_eq!(
        client.get("/nowhere").await.unwrap_err(),
        FetchError::OffHost("?".into())
    );
    assert_eq!(NOWHERE_HITS.load(Ordering::SeqCst), 1);
    assert_eq!(
        client.get("/nothing").await.unwrap_err(),
        FetchError::Status(404)
    );
    server.abort();
}
