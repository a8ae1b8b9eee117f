//! The client's own redirect handling: followed within the BMC's origin (an
//! iLO answers `/redfish/v1` with a redirect to `/redfish/v1/`), five hops at
//! most, never to another host, and never without a Location. A session
//! login is re-sent where a 307 or 308 points, as those keep a POST a POST.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rackledger::health::redfish::{Credentials, FetchError, Limits, RedfishClient, TlsPolicy};

/// Requests for `/nowhere`, a redirect without a Location.
static NOWHERE_HITS: AtomicUsize = AtomicUsize::new(0);

const TOKEN: &str = "token-after-a-redirect";

async fn answer(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path();
    let to = |status: StatusCode, location: String| {
        (status, [(header::LOCATION, location)], "").into_response()
    };
    if method == Method::POST {
        return match path {
            // Where the service root says sessions are: moved, the POST kept.
            "/redfish/v1/SessionService/Sessions" => to(
                StatusCode::TEMPORARY_REDIRECT,
                "/redfish/v1/SessionService/Sessions/".into(),
            ),
            // The token only for the credentials, re-sent after the redirect.
            "/redfish/v1/SessionService/Sessions/" => {
                let login: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if login["UserName"] == "admin" && login["Password"] == "secret" {
                    (StatusCode::CREATED, [("x-auth-token", TOKEN)], "{}").into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }
            "/sessions-elsewhere" => to(
                StatusCode::PERMANENT_REDIRECT,
                "http://127.0.0.2:9/redfish/v1/SessionService/Sessions".into(),
            ),
            _ => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if path == "/whoami" {
        // How the request authenticated itself.
        let auth = if headers.get("x-auth-token").is_some_and(|t| t == TOKEN) {
            "session"
        } else if headers.contains_key(header::AUTHORIZATION) {
            "basic"
        } else {
            "none"
        };
        return axum::Json(serde_json::json!({ "Auth": auth })).into_response();
    }
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

/// The BMC above on a loopback port: its URL, and the task serving it.
async fn serve() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(answer)).await;
    });
    (url, server)
}

#[tokio::test]
async fn redirects_are_followed_within_the_bmc_five_hops_at_most_and_never_to_another_host() {
    let (url, server) = serve().await;
    let client = RedfishClient::new(&url, &TlsPolicy::Verify, None, Limits::default()).unwrap();

    // One hop, and five (two from /hop/3 to the root, then /redfish/v1/).
    let root = client.get("/redfish/v1").await.unwrap();
    assert_eq!(root["RedfishVersion"], "1.6.0");
    let five = client.get("/hop/3").await.unwrap();
    assert_eq!(five["RedfishVersion"], "1.6.0");
    // Six: refused at the sixth, naming where it would have gone; still on
    // the BMC, so not called a redirect to another host.
    let six = client.get("/hop/4").await.unwrap_err();
    assert_eq!(six, FetchError::TooManyRedirects("/redfish/v1/".into()));
    let said = six.explain().render(rackledger::i18n::Lang::En);
    assert!(!said.contains("another host"), "{said}");
    assert!(said.contains("redirect"), "{said}");
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

#[tokio::test]
async fn a_session_login_follows_a_307_within_the_bmc_and_falls_back_to_basic_elsewhere() {
    let (url, server) = serve().await;
    let client = |sessions: &str| {
        let creds = Credentials {
            username: "admin".into(),
            password: zeroize::Zeroizing::new("secret".into()),
        };
        let root = serde_json::json!({ "Links": { "Sessions": { "@odata.id": sessions } } });
        let client =
            RedfishClient::new(&url, &TlsPolicy::Verify, Some(creds), Limits::default()).unwrap();
        (client, root)
    };

    // The login is POSTed again, body and all, where the 307 points.
    let (moved, root) = client("/redfish/v1/SessionService/Sessions");
    moved.login(&root).await.unwrap();
    assert_eq!(moved.get("/whoami").await.unwrap()["Auth"], "session");

    // Sessions on another host: no credentials go there, and the poll goes
    // on with Basic authentication.
    let (elsewhere, root) = client("/sessions-elsewhere");
    elsewhere.login(&root).await.unwrap();
    assert_eq!(elsewhere.get("/whoami").await.unwrap()["Auth"], "basic");
    server.abort();
}
