//! Where `next` sends a user after login or a language switch: a path on
//! this host rebuilt from its checked parts, never the input echoed.

use crate::app::{TestApp, hidden_csrf};
use crate::support::backends;

/// Asserts `location` is a path on this host: one `/`, then neither `/` nor
/// `\`, and no control characters or spaces.
fn assert_local(location: &str, given: &str) {
    let b = location.as_bytes();
    assert!(
        b.first() == Some(&b'/') && !matches!(b.get(1), Some(b'/' | b'\\')),
        "{given:?} redirected to {location:?}"
    );
    assert!(
        !location
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\'),
        "{given:?} redirected to {location:?}"
    );
    let uri: axum::http::Uri = location.parse().expect("a valid URI");
    assert!(
        uri.authority().is_none() && uri.scheme().is_none(),
        "{location:?}"
    );
}

fn hostile_nexts() -> Vec<String> {
    let mut v: Vec<String> = [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\nSet-Cookie: x=1",
        "/%0d%0aSet-Cookie:%20x=1",
        "https://evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5C%5Cevil.example",
        "/.//evil.example",
        "/%2e%2e//evil.example",
        "/ /evil.example",
        "/\u{7f}/x",
        "/\u{1}",
        "/admin/\u{202e}txt",
        "/부품/검색?q=서버",
        "/@evil.example",
        "/a?next=//evil.example#//evil",
        "",
        " ",
        "evil.example",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.push(format!("/{}", "a".repeat(100_000)));
    v.push(format!("/{}", "a".repeat(6_000)));
    v.push(format!("/{}", "%2F".repeat(2_000)));
    v
}

#[tokio::test]
async fn next_after_login_never_leaves_the_host_or_fails() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    for next in hostile_nexts() {
        app.server.clear_cookies();
        let pre = hidden_csrf(&app.server.get("/login").await.text());
        let r = app
            .server
            .post("/login")
            .form(&[
                ("username", "tech"),
                ("password", "rackledger-tech"),
                ("_csrf", pre.as_str()),
                ("next", next.as_str()),
            ])
            .await;
        if refused_at_the_edge(&r, &next) {
            continue;
        }
        assert_eq!(r.status_code(), 303, "{next:?}: {}", r.text());
        assert_local(r.header("location").to_str().unwrap(), &next);

        // Logged in, the form redirects at once (a URL fits in 8 KiB).
        if next.len() > 8_000 {
            continue;
        }
        let r = app
            .server
            .get("/login")
            .add_query_param("next", &next)
            .await;
        if refused_at_the_edge(&r, &next) {
            continue;
        }
        assert_eq!(r.status_code(), 303, "{next:?}: {}", r.text());
        assert_local(r.header("location").to_str().unwrap(), &next);
    }
    app.finish().await;
}

/// An anonymous form past 16 KiB is not read (413): an answer too, never a
/// redirect anywhere. (A `next` holding a control character is dropped by
/// the login, like any other odd one.)
fn refused_at_the_edge(r: &axum_test::TestResponse, next: &str) -> bool {
    r.status_code().as_u16() == 413 && next.len() > 16 * 1024
}

#[tokio::test]
async fn a_plain_local_next_survives_with_its_query() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    app.login("tech", "rackledger-tech").await;
    for (next, want) in [
        (
            "/inventory/units?q=SN1&page=2",
            "/inventory/units?q=SN1&page=2",
        ),
        ("/admin/users", "/admin/users"),
        ("/search?q=a%20b", "/search?q=a+b"),
        ("/datacenter#rack-3", "/datacenter"),
    ] {
        let r = app.server.get("/login").add_query_param("next", next).await;
        assert_eq!(r.status_code(), 303);
        assert_eq!(r.header("location").to_str().unwrap(), want, "{next:?}");
    }
    app.finish().await;
}
