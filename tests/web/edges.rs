//! One pace off the happy path (issue #24, Low): a page number past any
//! list, and the headers every answer carries (CSP, no-store, HSTS and the
//! cookie's `Secure` following the public URL's scheme).

use rackledger::config::Config;

use crate::app::TestApp;
use crate::security::protected_routes;
use crate::support::backends;

#[tokio::test]
async fn a_page_number_past_any_list_is_served_not_overflowed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("admin", "rackledger-admin").await;
        let mut wrong = Vec::new();
        let mut lists = 0;
        for (method, path) in protected_routes() {
            if method != "GET" || path.contains("/1") || path.ends_with("/docs/") {
                continue;
            }
            let far = format!("{path}?page=9223372036854775807&per_page=9223372036854775807");
            let r = app.server.get(&far).await;
            if r.status_code().is_server_error() {
                wrong.push(format!("{far} -> {}", r.status_code()));
                continue;
            }
            // An API page past the end is empty: never page 1 again.
            if path.starts_with("/api/")
                && let Ok(body) = serde_json::from_str::<serde_json::Value>(&r.text())
                && let Some(items) = body.get("items").and_then(|i| i.as_array())
            {
                lists += 1;
                if !items.is_empty() {
                    wrong.push(format!("{far} answered {} rows", items.len()));
                }
            }
        }
        assert!(
            lists >= 5,
            "{backend:?}: paged API lists were reached ({lists})"
        );
        assert!(wrong.is_empty(), "{backend:?}: {wrong:#?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn pages_and_api_answers_are_not_cached_and_allow_no_foreign_script() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    app.login("admin", "rackledger-admin").await;
    for path in ["/", "/procurement/orders", "/api/v1/suppliers", "/login"] {
        let r = app.server.get(path).await;
        let cache = r.header("cache-control");
        assert_eq!(cache.to_str().unwrap(), "no-store", "{path}");
        let csp = r.header("content-security-policy");
        let csp = csp.to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{path}: {csp}");
        assert!(
            r.maybe_header("strict-transport-security").is_none(),
            "{path}: HSTS over http"
        );
    }
    // No template runs inline script: the CSP would block it in browsers.
    let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut inline = Vec::new();
    visit(&templates, &mut |file, text| {
        for needle in [
            "onclick=",
            "onload=",
            "onchange=",
            "onsubmit=",
            "javascript:",
        ] {
            if text.contains(needle) {
                inline.push(format!("{}: {needle}", file.display()));
            }
        }
        let mut rest = text;
        while let Some(i) = rest.find("<script") {
            let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
            if !rest[i..tag_end].contains("src=") {
                inline.push(format!("{}: inline <script>", file.display()));
            }
            rest = &rest[tag_end..];
        }
    });
    assert!(inline.is_empty(), "{inline:#?}");
    // Static files are cached as before.
    let css = app.server.get("/static/app.css").await;
    assert!(
        css.header("cache-control")
            .to_str()
            .unwrap()
            .starts_with("public")
    );
    app.finish().await;
}

fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &str)) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, f);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            f(&path, &text);
        }
    }
}

#[tokio::test]
async fn an_https_public_url_turns_on_hsts_and_secure_cookies() {
    let backend = backends()[0];
    let config = Config {
        public_url: Some("https://rackledger.example.com".to_owned()),
        ..Config::default()
    };
    let app = TestApp::start_with(backend, config).await;
    let r = app.server.get("/login").await;
    assert!(
        r.header("strict-transport-security")
            .to_str()
            .unwrap()
            .starts_with("max-age="),
    );
    let cookies: Vec<String> = r
        .iter_headers_by_name("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        !cookies.is_empty(),
        "the login form sets its pre-login cookie"
    );
    for c in &cookies {
        assert!(c.contains("Secure"), "{c}");
    }
    app.finish().await;
}
