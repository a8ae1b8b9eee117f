//! One pace off the happy path (issue #24, Low): a page number past any
//! list, the headers every answer carries (CSP, no-store, HSTS and the
//! cookie's `Secure` following the public URL's scheme), hidden characters
//! and overlong notes refused at the edge, where a CSRF token may come from,
//! and how much of an anonymous body is read.

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

async fn suppliers(app: &TestApp) -> i64 {
    rackledger::on!(&app.db, |p| sqlx::query_scalar::<_, i64>(
        "select count(*) from suppliers"
    )
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn hidden_characters_and_overlong_notes_are_refused_naming_the_field() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let before = suppliers(&app).await;
        let form = |name: &'static str, notes: String| {
            vec![
                ("name", name.to_owned()),
                ("country", "KR".to_owned()),
                ("currency", "KRW".to_owned()),
                ("notes", notes),
            ]
        };
        for (name, notes, field, says) in [
            ("Nul Co", "a\u{0}b".to_owned(), "notes", "U+0000"),
            ("Esc\u{1b}[31m Co", String::new(), "name", "U+001B"),
            ("Bidi Co", "\u{202e}gnp.exe".to_owned(), "notes", "U+202E"),
            ("Long Co", "가".repeat(4001), "notes", "4000"),
        ] {
            let fields = form(name, notes);
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app
                .post_form("/procurement/suppliers", &csrf, &fields)
                .await;
            assert_eq!(r.status_code(), 422, "{backend:?} {field}: {}", r.text());
            let page = scraper::Html::parse_document(&r.text());
            let shown = crate::app::text_of(&page, "main");
            assert!(shown.contains(says), "{backend:?}: {shown}");
        }
        // The same through the API, and in a search.
        let r = app
            .server
            .post("/api/v1/suppliers")
            .add_header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"name": "Json\u{0} Co", "country": "KR", "currency": "KRW"}))
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        assert!(r.text().contains("body.name"), "{}", r.text());
        for q in ["%00", "%E2%80%AE", "%1B"] {
            // A page's search drops the character and shows the list.
            let r = app.server.get(&format!("/inventory/units?q=S4{q}")).await;
            assert_eq!(r.status_code(), 200, "{backend:?} {q}");
            let r = app.server.get(&format!("/api/v1/units?serial=S4{q}")).await;
            assert_eq!(r.status_code(), 422, "{backend:?} {q}");
        }
        // Line breaks and tabs in notes, and Korean, are ordinary text.
        let fields = form("Fine Co", "1층\r\n\t랙 A".to_owned());
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form("/procurement/suppliers", &csrf, &fields)
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        assert_eq!(
            suppliers(&app).await,
            before + 1,
            "only the fine one was written"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_csrf_token_in_the_url_counts_only_for_file_uploads() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    let csrf = app.login("buyer", "rackledger-buyer").await;
    let r = app
        .server
        .post(&format!("/procurement/suppliers?_csrf={csrf}"))
        .form(&[("name", "Url Co"), ("country", "KR"), ("currency", "KRW")])
        .await;
    assert_eq!(
        r.status_code(),
        403,
        "a form's token in its URL: {}",
        r.text()
    );
    app.finish().await;
}

#[tokio::test]
async fn an_anonymous_body_is_refused_before_it_is_read_in_full() {
    let backend = backends()[0];
    let app = TestApp::start(backend).await;
    let big = "x".repeat(64 * 1024);
    let r = app
        .server
        .post("/login")
        .form(&[("username", "admin"), ("password", big.as_str())])
        .await;
    assert_eq!(r.status_code(), 413);
    app.finish().await;
}

/// The `_once` token of the first form on a page.
fn once_token(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(r#"input[name="_once"]"#).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .expect("the form carries a _once token")
        .to_owned()
}

#[tokio::test]
async fn a_form_sent_twice_or_racing_itself_is_recorded_once() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let before = suppliers(&app).await;
        let page = app.server.get("/procurement/suppliers").await.text();
        let once = once_token(&page);
        let fields = |name: &'static str, country: &'static str| {
            vec![
                ("name", name),
                ("country", country),
                ("currency", "KRW"),
                ("_once", once.as_str()),
            ]
        };
        // Refused first (nothing written): the corrected form may use the token.
        let bad = app
            .post_form("/procurement/suppliers", &csrf, &fields("Once Co", "Korea"))
            .await;
        assert_eq!(bad.status_code(), 422);
        let first = app
            .post_form("/procurement/suppliers", &csrf, &fields("Once Co", "KR"))
            .await;
        assert_eq!(first.status_code(), 303, "{}", first.text());
        let again = app
            .post_form("/procurement/suppliers", &csrf, &fields("Once Co", "KR"))
            .await;
        assert_eq!(
            again.status_code(),
            303,
            "the second sending gets the first answer"
        );
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(
            suppliers(&app).await,
            before + 1,
            "{backend:?}: recorded once"
        );

        // Eight sendings of one fresh form at the same moment: one supplier.
        let page = app.server.get("/procurement/suppliers").await.text();
        let once = once_token(&page);
        let form = [
            ("name", "Race Co"),
            ("country", "KR"),
            ("currency", "KRW"),
            ("_once", once.as_str()),
            ("_csrf", csrf.as_str()),
        ];
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let req = app.server.post("/procurement/suppliers").form(&form);
            tasks.spawn(async move {
                let r = req.await;
                let location = r
                    .maybe_header("location")
                    .map(|v| v.to_str().unwrap().to_owned());
                (r.status_code().as_u16(), location, r.text())
            });
        }
        let mut locations = std::collections::BTreeSet::new();
        while let Some(a) = tasks.join_next().await {
            let (status, location, text) = a.unwrap();
            assert_eq!(status, 303, "{backend:?}: {text}");
            locations.insert(location);
        }
        assert_eq!(
            locations.len(),
            1,
            "every sending got the same answer: {locations:?}"
        );
        assert_eq!(
            suppliers(&app).await,
            before + 2,
            "{backend:?}: one racing form, one row"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_chosen_file_that_is_empty_is_named_not_asked_for() {
    use axum_test::multipart::{MultipartForm, Part};
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    let csrf = app.login("buyer", "rackledger-buyer").await;
    for (name, says) in [("prices.csv", "prices.csv"), ("", "")] {
        let form = MultipartForm::new()
            .add_text("kind", "price_list")
            .add_part("file", Part::bytes(Vec::new()).file_name(name));
        let r = app
            .server
            .post(&format!("/procurement/imports?_csrf={csrf}"))
            .multipart(form)
            .await;
        assert_eq!(r.status_code(), 422, "{}", r.text());
        let page = scraper::Html::parse_document(&r.text());
        let said = crate::app::text_of(&page, ".error-summary");
        assert!(!said.is_empty() && said.contains(says), "{name:?}: {said}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_login_held_back_says_when_to_retry_in_a_header_too() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    let mut last = None;
    for _ in 0..8 {
        app.server.clear_cookies();
        let pre = crate::app::hidden_csrf(&app.server.get("/login").await.text());
        let r = app
            .server
            .post("/login")
            .form(&[
                ("username", "boss"),
                ("password", "wrong-one"),
                ("_csrf", pre.as_str()),
            ])
            .await;
        last = Some(r);
    }
    let r = last.unwrap();
    assert_eq!(r.status_code(), 429);
    let wait: u64 = r.header("retry-after").to_str().unwrap().parse().unwrap();
    assert!(wait >= 1, "{wait}");
    app.finish().await;
}

#[tokio::test]
async fn an_address_or_query_that_does_not_parse_gets_the_application_error_page() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    app.login("buyer", "rackledger-buyer").await;
    let r = app.server.get("/procurement/orders/abc").await;
    assert_eq!(r.status_code(), 404);
    assert!(r.text().contains("<html"), "a page, not framework text");
    let r = app.server.get("/procurement/orders/1?page=abc").await;
    assert_eq!(r.status_code(), 400);
    assert!(
        r.text().contains("<html") && r.text().contains("page"),
        "{}",
        r.text()
    );
    let r = app.server.get("/api/v1/orders/abc").await;
    assert_eq!(r.status_code(), 404);
    assert_eq!(r.json::<serde_json::Value>()["error"], "not_found");
    app.finish().await;
}

#[tokio::test]
async fn an_api_call_retried_with_its_idempotency_key_runs_once_and_answers_the_same() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let before = suppliers(&app).await;
        let body = serde_json::json!({"name": "Keyed Co", "country": "KR", "currency": "KRW"});
        let send = |key: &'static str| {
            app.server
                .post("/api/v1/suppliers")
                .add_header("x-csrf-token", csrf.as_str())
                .add_header("idempotency-key", key)
                .json(&body)
        };
        let first = send("delivery-2026-12-07-1").await;
        assert_eq!(first.status_code(), 201, "{backend:?}: {}", first.text());
        let again = send("delivery-2026-12-07-1").await;
        assert_eq!(again.status_code(), 201, "{backend:?}: {}", again.text());
        assert_eq!(
            again.text(),
            first.text(),
            "the retry gets the first answer"
        );
        assert_eq!(again.header("idempotent-replayed"), "true");
        assert_eq!(suppliers(&app).await, before + 1, "{backend:?}: ran once");
        // Another key is another call (refused here: the name is taken).
        let other = send("delivery-2026-12-07-2").await;
        assert_eq!(other.status_code(), 422);
        app.finish().await;
    }
}

#[tokio::test]
async fn an_idempotency_key_or_form_token_reused_elsewhere_is_another_request() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    let csrf = app.login("buyer", "rackledger-buyer").await;
    let before = suppliers(&app).await;
    for name in ["Key A Co", "Key B Co"] {
        let r = app
            .server
            .post("/api/v1/suppliers")
            .add_header("x-csrf-token", csrf.as_str())
            .add_header("idempotency-key", "same-key")
            .json(&serde_json::json!({"name": name, "country": "KR", "currency": "KRW"}))
            .await;
        assert_eq!(r.status_code(), 201, "{}", r.text());
        assert!(r.maybe_header("idempotent-replayed").is_none(), "{name}");
        assert!(r.text().contains(name));
    }
    assert_eq!(suppliers(&app).await, before + 2);
    for bad in ["", "   ", "has space", &"k".repeat(201)] {
        let r = app
            .server
            .post("/api/v1/suppliers")
            .add_header("x-csrf-token", csrf.as_str())
            .add_header("idempotency-key", bad)
            .json(&serde_json::json!({"name": "Bad Key Co", "country": "KR", "currency": "KRW"}))
            .await;
        assert_eq!(r.status_code(), 422, "{bad:?}");
    }
    // A form's token on another form's action is another sending.
    let page = app.server.get("/procurement/suppliers").await.text();
    let once = once_token(&page);
    let r = app
        .post_form(
            "/procurement/suppliers",
            &csrf,
            &[
                ("name", "Form A Co"),
                ("country", "KR"),
                ("currency", "KRW"),
                ("_once", once.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status_code(), 303);
    let r = app
        .post_form(
            "/inventory/locations",
            &csrf,
            &[
                ("name", "Token Reuse Rack Room"),
                ("kind", "warehouse"),
                ("_once", once.as_str()),
            ],
        )
        .await;
    assert_ne!(
        r.header("location").to_str().unwrap_or(""),
        "/procurement/suppliers?flash=saved",
        "not the supplier form's answer"
    );
    app.finish().await;
}

#[tokio::test]
async fn an_unknown_api_token_is_refused_in_the_callers_language_with_a_request_id() {
    let backend = backends()[0];
    let app = TestApp::start(backend).await;
    for (lang, says) in [("ko", "로그인"), ("en", "log in")] {
        let r = app
            .server
            .get("/api/v1/suppliers")
            .authorization_bearer("not-a-token-anyone-issued")
            .add_header("accept-language", lang)
            .await;
        assert_eq!(r.status_code(), 401);
        assert!(r.maybe_header("www-authenticate").is_some());
        let v: serde_json::Value = r.json();
        assert!(v["message"].as_str().unwrap().contains(says), "{lang}: {v}");
        assert!(!v["request_id"].as_str().unwrap().is_empty(), "{v}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_page_post_from_another_origin_is_refused_even_with_the_token() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    let csrf = app.login("buyer", "rackledger-buyer").await;
    let post = |name: &'static str, origin: Option<&'static str>| {
        let mut r = app
            .server
            .post("/procurement/suppliers")
            .add_header("host", "rackledger.test:8080");
        if let Some(o) = origin {
            r = r.add_header("origin", o);
        }
        r.form(&[
            ("name", name),
            ("country", "KR"),
            ("currency", "KRW"),
            ("_csrf", csrf.as_str()),
        ])
    };
    for evil in [
        "http://evil.example",
        "http://rackledger.test",
        "http://rackledger.test:8080.evil.example",
        "null",
    ] {
        let r = post("Evil Co", Some(evil)).await;
        assert_eq!(r.status_code(), 403, "{evil}: {}", r.text());
    }
    let names: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
        "select count(*) from suppliers where name = 'Evil Co'"
    )
    .fetch_one(p)
    .await)
    .expect("count");
    assert_eq!(names, 0, "nothing written");
    // The server's own origin, and no Origin at all (older clients), pass.
    let r = post("Own Co", Some("http://rackledger.test:8080")).await;
    assert_eq!(r.status_code(), 303, "{}", r.text());
    let r = post("Old Co", None).await;
    assert_eq!(r.status_code(), 303, "{}", r.text());
    // The login form too.
    app.server.clear_cookies();
    let pre = crate::app::hidden_csrf(&app.server.get("/login").await.text());
    let r = app
        .server
        .post("/login")
        .add_header("origin", "http://evil.example")
        .form(&[
            ("username", "buyer"),
            ("password", "rackledger-buyer"),
            ("_csrf", pre.as_str()),
        ])
        .await;
    assert_eq!(r.status_code(), 403, "{}", r.text());
    app.finish().await;
}
