//! Login back-off: claimed before the password check, per user and address.

use std::sync::Arc;

use rackledger::auth::service;
use rackledger::config::Config;
use rackledger::error::AppError;

use crate::app::{TestApp, count, hidden_csrf};
use crate::support::backends;

const STORM: usize = 200;

/// Fires `n` wrong logins for `buyer` from `remote` at once; returns how many
/// had their password checked (401) and how many were refused unchecked (429).
async fn storm(app: &TestApp, cfg: &Arc<Config>, remote: &str, n: usize) -> (usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (db, cfg, remote) = (app.db.clone(), cfg.clone(), remote.to_owned());
        tasks.spawn(async move {
            service::login(&db, &cfg, "buyer", "wrong-password", &remote)
                .await
                .err()
        });
    }
    let (mut checked, mut refused) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Some(AppError::Unauthorized) => checked += 1,
            Some(AppError::TooManyRequests(_)) => refused += 1,
            other => panic!("unexpected outcome: {:?}", other.map(|e| e.to_string())),
        }
    }
    (checked, refused)
}

#[tokio::test]
async fn concurrent_wrong_passwords_get_no_more_checks_than_the_limit() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let cfg = Arc::new(Config::default());
        let (checked, refused) = storm(&app, &cfg, "203.0.113.5", STORM).await;
        assert_eq!(checked + refused, STORM);
        assert!(
            checked as i64 <= cfg.login_max_failures,
            "{checked} passwords checked in a burst of {STORM}, limit {} on {backend:?}",
            cfg.login_max_failures
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_storm_from_one_address_does_not_lock_the_owner_out_from_another() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let cfg = Arc::new(Config::default());
        storm(&app, &cfg, "203.0.113.5", 50).await;
        // From the storm's address the right password waits for the back-off too.
        let same = service::login(&app.db, &cfg, "buyer", "rackledger-buyer", "203.0.113.5").await;
        assert!(
            matches!(same, Err(AppError::TooManyRequests(_))),
            "the storm's address is slowed on {backend:?}"
        );
        // The owner elsewhere logs straight in.
        let other =
            service::login(&app.db, &cfg, "buyer", "rackledger-buyer", "198.51.100.9").await;
        assert!(other.is_ok(), "owner locked out on {backend:?}");
        app.finish().await;
    }
}

/// Posts the login form for `username` as a client the proxy calls `client`.
async fn post_login(app: &TestApp, client: &str, username: &str, password: &str) -> u16 {
    let form = app
        .server
        .get("/login")
        .add_header("x-forwarded-for", client)
        .await;
    let pre = hidden_csrf(&form.text());
    let r = app
        .server
        .post("/login")
        .add_header("x-forwarded-for", client)
        .form(&[
            ("username", username),
            ("password", password),
            ("_csrf", pre.as_str()),
        ])
        .await;
    r.status_code().as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_back_off_keys_on_the_forwarded_client() {
    for backend in backends() {
        let config = Config {
            trusted_proxies: vec!["127.0.0.1".into(), "::1".into()],
            ..Config::default()
        };
        let app = TestApp::start_served(backend, config).await;
        for _ in 0..8 {
            let s = post_login(&app, "203.0.113.5", "buyer", "wrong-password").await;
            assert!(s == 401 || s == 429, "{s} on {backend:?}");
        }
        let s = post_login(&app, "203.0.113.5", "buyer", "rackledger-buyer").await;
        assert_eq!(s, 429, "the guessing client waits on {backend:?}");
        let s = post_login(&app, "198.51.100.9", "buyer", "rackledger-buyer").await;
        assert_eq!(
            s, 303,
            "another client behind the same proxy gets in on {backend:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn without_a_trusted_proxy_a_forwarded_header_is_ignored() {
    for backend in backends() {
        let app = TestApp::start_served(backend, Config::default()).await;
        // A guesser varying the header is still one address: the socket's.
        for i in 0..8 {
            let s = post_login(&app, &format!("203.0.113.{i}"), "buyer", "wrong-password").await;
            assert!(s == 401 || s == 429, "{s} on {backend:?}");
        }
        let s = post_login(&app, "198.51.100.9", "buyer", "rackledger-buyer").await;
        assert_eq!(s, 429, "the header did not buy new tries on {backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_admin_sees_back_offs_and_clears_one_with_an_audit_entry() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let cfg = Arc::new(Config::default());
        storm(&app, &cfg, "203.0.113.5", 20).await;

        // Only admins see or clear them, whatever the form says.
        let tech_csrf = app.login("tech", "rackledger-tech").await;
        assert_eq!(app.server.get("/admin/logins").await.status_code(), 403);
        let r = app
            .post_form("/admin/logins/1/clear", &tech_csrf, &[])
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}");

        let csrf = app.login("admin", "rackledger-admin").await;
        let (status, page) = app.page("/admin/logins").await;
        assert_eq!(status, 200);
        assert!(count(&page, "#logins tbody tr") >= 1, "{backend:?}");
        let row = page
            .select(&scraper::Selector::parse("#logins tbody tr").unwrap())
            .find(|tr| tr.text().any(|t| t == "buyer"))
            .expect("the buyer's back-off is listed");
        assert!(row.text().any(|t| t == "203.0.113.5"));
        let href = row
            .select(&scraper::Selector::parse("a").unwrap())
            .next()
            .and_then(|a| a.value().attr("href"))
            .unwrap()
            .to_owned();

        // A confirmation first; the GET changes nothing.
        let (status, confirm) = app.page(&href).await;
        assert_eq!(status, 200);
        assert_eq!(
            count(&confirm, "form[action$=\"/clear\"] button[type=submit]"),
            1
        );
        let waiting =
            service::login(&app.db, &cfg, "buyer", "rackledger-buyer", "203.0.113.5").await;
        assert!(matches!(waiting, Err(AppError::TooManyRequests(_))));

        let r = app.post_form(&href, &csrf, &[]).await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let (_, audit) = app.page("/admin/audit?entity=login_throttle").await;
        assert_eq!(
            count(&audit, "#audit tbody tr"),
            1,
            "audited on {backend:?}"
        );
        let again = app.post_form(&href, &csrf, &[]).await;
        assert_eq!(again.status_code(), 404, "cleared once");

        let ok = service::login(&app.db, &cfg, "buyer", "rackledger-buyer", "203.0.113.5").await;
        assert!(
            ok.is_ok(),
            "cleared: the owner gets in at once on {backend:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn guessing_the_current_password_on_the_account_page_is_held_back_too() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..40 {
            let (server_csrf, guess) = (csrf.clone(), format!("guess-number-{i}"));
            let req = app.server.post("/account/password").form(&[
                ("current_password", guess.as_str()),
                ("new_password", "a-brand-new-pw"),
                ("confirm_password", "a-brand-new-pw"),
                ("_csrf", server_csrf.as_str()),
            ]);
            tasks.spawn(async move { req.await.status_code().as_u16() });
        }
        let mut checked = 0;
        while let Some(s) = tasks.join_next().await {
            match s.unwrap() {
                422 => checked += 1,
                429 => {}
                other => panic!("status {other} on {backend:?}"),
            }
        }
        let limit = Config::default().login_max_failures;
        assert!(
            checked <= limit,
            "{checked} current passwords checked, limit {limit}, on {backend:?}"
        );
        app.finish().await;
    }
}
