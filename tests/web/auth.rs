//! Login, roles, CSRF, API tokens, audit, language.

use serde_json::Value;

use crate::app::{TestApp, count, hidden_csrf, text_of};
use crate::support::backends;

#[tokio::test]
async fn login_and_logout_work() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let anon = app.server.get("/admin/users").await;
        assert_eq!(anon.status_code(), 303, "{backend:?}");
        assert_eq!(anon.header("location"), "/login?next=%2Fadmin%2Fusers");

        let csrf = app.login("admin", "rackledger-admin").await;
        let (status, page) = app.page("/admin/users").await;
        assert_eq!(status, 200);
        assert_eq!(count(&page, "#users tbody tr"), 5, "five demo users listed");

        let out = app.post_form("/logout", &csrf, &[]).await;
        assert_eq!(out.status_code(), 303);
        assert_eq!(
            app.server.get("/admin/users").await.status_code(),
            303,
            "session ended on {backend:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn wrong_password_is_refused_and_repeated_failures_are_rate_limited() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let pre = hidden_csrf(&app.server.get("/login").await.text());
        for _ in 0..5 {
            let r = app
                .server
                .post("/login")
                .form(&[
                    ("username", "buyer"),
                    ("password", "wrong-password"),
                    ("_csrf", &pre),
                ])
                .await;
            assert_eq!(r.status_code(), 401, "{backend:?}");
        }
        let r = app
            .server
            .post("/login")
            .form(&[
                ("username", "buyer"),
                ("password", "rackledger-buyer"),
                ("_csrf", &pre),
            ])
            .await;
        assert_eq!(
            r.status_code(),
            429,
            "the right password is refused once locked out on {backend:?}"
        );
        // Another user from the same place is not locked out.
        app.login("tech", "rackledger-tech").await;
        app.finish().await;
    }
}

#[tokio::test]
async fn a_role_is_refused_pages_and_api_calls_it_may_not_use() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let admin_csrf = app.login("admin", "rackledger-admin").await;
        let tech_id = app.user_id("tech").await;
        let token = app.issue_token(&admin_csrf, tech_id, "tech script").await;

        let csrf = app.login("tech", "rackledger-tech").await;
        assert_eq!(
            app.server.get("/admin/users").await.status_code(),
            403,
            "{backend:?}"
        );
        assert_eq!(app.server.get("/admin/audit").await.status_code(), 403);
        let r = app
            .post_form(
                "/procurement/suppliers",
                &csrf,
                &[("name", "X"), ("country", "KR"), ("currency", "KRW")],
            )
            .await;
        assert_eq!(r.status_code(), 403, "technicians may not edit suppliers");

        app.server.clear_cookies();
        let api = app
            .server
            .get("/api/v1/users")
            .authorization_bearer(&token)
            .await;
        assert_eq!(api.status_code(), 403);
        assert_eq!(api.json::<Value>()["error"], "forbidden");
        let body = serde_json::json!({"name": "X", "country": "KR", "currency": "KRW"});
        let api = app
            .server
            .post("/api/v1/suppliers")
            .authorization_bearer(&token)
            .json(&body)
            .await;
        assert_eq!(api.status_code(), 403);
        let me = app
            .server
            .get("/api/v1/me")
            .authorization_bearer(&token)
            .await;
        assert_eq!(me.status_code(), 200);
        assert_eq!(me.json::<Value>()["role"], "technician");
        app.finish().await;
    }
}

#[tokio::test]
async fn state_changing_forms_without_the_csrf_token_are_rejected() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let fields = [
            ("username", "newbie"),
            ("password", "long-enough-pw"),
            ("role", "viewer"),
        ];
        let missing = app.server.post("/admin/users").form(&fields).await;
        assert_eq!(missing.status_code(), 403, "{backend:?}");
        let wrong = app
            .post_form("/admin/users", "not-the-token", &fields)
            .await;
        assert_eq!(wrong.status_code(), 403);
        assert_eq!(
            app.user_count().await,
            5,
            "nothing written without a valid token"
        );
        let ok = app.post_form("/admin/users", &csrf, &fields).await;
        assert_eq!(ok.status_code(), 303);
        assert_eq!(app.user_count().await, 6);
        // The login form itself is protected by a double-submit cookie.
        app.server.clear_cookies();
        let r = app
            .server
            .post("/login")
            .form(&[("username", "admin"), ("password", "rackledger-admin")])
            .await;
        assert_eq!(r.status_code(), 403);
        app.finish().await;
    }
}

#[tokio::test]
async fn an_api_token_works_until_it_is_revoked() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let buyer = app.user_id("buyer").await;
        let token = app.issue_token(&csrf, buyer, "erp sync").await;
        assert!(token.starts_with("rl_"), "token shown once: {token}");
        let stored: i64 = rackledger::on!(&app.db, |p| {
            sqlx::query_scalar("select count(*) from api_tokens where token_hash = $1")
                .bind(&token)
                .fetch_one(p)
                .await
        })
        .unwrap();
        assert_eq!(stored, 0, "the token itself is never stored");

        let ok = app
            .server
            .get("/api/v1/suppliers")
            .authorization_bearer(&token)
            .do_not_save_cookies()
            .await;
        assert_eq!(ok.status_code(), 200, "{backend:?}");
        assert_eq!(ok.json::<Value>()["total"], 6);

        let id: i64 = rackledger::on!(&app.db, |p| {
            sqlx::query_scalar("select id from api_tokens where name = 'erp sync'")
                .fetch_one(p)
                .await
        })
        .unwrap();
        let confirm = app.server.get(&format!("/admin/tokens/{id}/revoke")).await;
        assert_eq!(
            confirm.status_code(),
            200,
            "revoking asks for confirmation first"
        );
        let r = app
            .post_form(&format!("/admin/tokens/{id}/revoke"), &csrf, &[])
            .await;
        assert_eq!(r.status_code(), 303);

        let refused = app
            .server
            .get("/api/v1/suppliers")
            .authorization_bearer(&token)
            .do_not_save_cookies()
            .await;
        assert_eq!(refused.status_code(), 401);
        assert_eq!(refused.json::<Value>()["error"], "unauthorized");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case_and_a_malformed_header_is_refused() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let buyer = app.user_id("buyer").await;
        let token = app.issue_token(&csrf, buyer, "curl").await;
        // No session cookie goes with these calls: only the header can let them in.

        // RFC 9110: the scheme is case-insensitive.
        for scheme in ["bearer", "BEARER", "Bearer"] {
            let r = app
                .server
                .get("/api/v1/suppliers")
                .authorization(format!("{scheme} {token}"))
                .clear_cookies()
                .do_not_save_cookies()
                .await;
            assert_eq!(r.status_code(), 200, "{scheme} on {backend:?}");
        }
        for header in [
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Bearer{token}"),
            format!("Basic {token}"),
            format!("Token {token}"),
            "Basic YnV5ZXI6cmFja2xlZGdlci1idXllcg==".to_owned(),
        ] {
            let r = app
                .server
                .get("/api/v1/suppliers")
                .authorization(&header)
                .clear_cookies()
                .do_not_save_cookies()
                .await;
            assert_eq!(r.status_code(), 401, "{header:?} on {backend:?}");
        }
        // Another scheme is not ours to refuse (a proxy's own Basic login may
        // pass its header on): public pages still answer.
        let health = app
            .server
            .get("/healthz")
            .authorization("Basic YnV5ZXI6cmFja2xlZGdlci1idXllcg==")
            .clear_cookies()
            .await;
        assert_eq!(health.status_code(), 200);
        app.finish().await;
    }
}

#[tokio::test]
async fn disabling_a_user_stops_their_sessions_and_tokens_at_once() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let boss = app.user_id("boss").await;
        let token = app.issue_token(&csrf, boss, "reports").await;
        assert_eq!(
            app.server
                .get("/api/v1/me")
                .authorization_bearer(&token)
                .do_not_save_cookies()
                .await
                .status_code(),
            200
        );
        let path = format!("/admin/users/{boss}");
        let r = app
            .post_form(
                &path,
                &csrf,
                &[
                    ("display_name", "boss"),
                    ("role", "manager"),
                    ("disabled", "1"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let refused = app
            .server
            .get("/api/v1/me")
            .authorization_bearer(&token)
            .do_not_save_cookies()
            .await;
        assert_eq!(refused.status_code(), 401, "{backend:?}");
        let sessions: i64 = rackledger::on!(&app.db, |p| {
            sqlx::query_scalar("select count(*) from sessions where user_id = $1")
                .bind(boss)
                .fetch_one(p)
                .await
        })
        .unwrap();
        assert_eq!(sessions, 0);
        app.server.clear_cookies();
        let pre2 = hidden_csrf(&app.server.get("/login").await.text());
        let r = app
            .server
            .post("/login")
            .form(&[
                ("username", "boss"),
                ("password", "rackledger-boss"),
                ("_csrf", &pre2),
            ])
            .await;
        assert_eq!(r.status_code(), 401, "a disabled user cannot log in");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_update_is_audited_with_before_and_after_values() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let guest = app.user_id("guest").await;
        let path = format!("/admin/users/{guest}");
        let r = app
            .post_form(
                &path,
                &csrf,
                &[("display_name", "Auditor Kim"), ("role", "manager")],
            )
            .await;
        assert_eq!(r.status_code(), 303);

        let audit = app
            .server
            .get(&format!("/api/v1/audit?entity=user&entity_id={guest}"))
            .await;
        assert_eq!(audit.status_code(), 200, "{backend:?}");
        let body: Value = audit.json();
        let latest = &body["items"][0];
        assert_eq!(latest["action"], "update");
        assert_eq!(latest["actor"], "admin");
        let before: Value = serde_json::from_str(latest["before_json"].as_str().unwrap()).unwrap();
        let after: Value = serde_json::from_str(latest["after_json"].as_str().unwrap()).unwrap();
        assert_eq!(
            (before["role"].as_str(), before["display_name"].as_str()),
            (Some("viewer"), Some("guest"))
        );
        assert_eq!(
            (after["role"].as_str(), after["display_name"].as_str()),
            (Some("manager"), Some("Auditor Kim"))
        );
        assert!(
            after.get("password_hash").is_none(),
            "no secrets in the audit log"
        );

        let (status, page) = app
            .page(&format!("/admin/audit?entity=user&entity_id={guest}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            count(&page, "#audit tbody tr"),
            2,
            "created by demo, then updated"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let admin = app.user_id("admin").await;
        let r = app
            .post_form(
                &format!("/admin/users/{admin}"),
                &csrf,
                &[("display_name", "admin"), ("role", "viewer")],
            )
            .await;
        assert_eq!(r.status_code(), 409, "{backend:?}");
        let (_, page) = app.page("/admin/users?q=admin").await;
        assert!(
            text_of(&page, "#users tbody").contains("Administrator")
                || text_of(&page, "#users tbody").contains("관리자")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn pages_speak_the_browsers_language_until_the_user_chooses() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let en = app
            .server
            .get("/login")
            .add_header("accept-language", "en-US,en;q=0.9")
            .await;
        assert!(en.text().contains("Log in to rackledger"));
        let ko = app
            .server
            .get("/login")
            .add_header("accept-language", "ko-KR,ko;q=0.9")
            .await;
        assert!(ko.text().contains("rackledger 로그인"));

        let csrf = app.login("tech", "rackledger-tech").await;
        let r = app
            .post_form(
                "/account/preferences",
                &csrf,
                &[("lang", "en"), ("time_zone", "Asia/Seoul")],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}");
        let home = app
            .server
            .get("/")
            .add_header("accept-language", "ko")
            .await;
        assert!(
            home.text().contains("Overview"),
            "saved choice beats Accept-Language"
        );
        let bad = app
            .post_form(
                "/account/preferences",
                &csrf,
                &[("lang", "en"), ("time_zone", "Mars/Olympus")],
            )
            .await;
        assert_eq!(bad.status_code(), 422);
        assert!(
            bad.text().contains("Mars/Olympus"),
            "the error names the bad value"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn changing_my_password_needs_the_current_one() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let fields = [
            ("current_password", "nope"),
            ("new_password", "a-brand-new-pw"),
            ("confirm_password", "a-brand-new-pw"),
        ];
        assert_eq!(
            app.post_form("/account/password", &csrf, &fields)
                .await
                .status_code(),
            422
        );
        let fields = [
            ("current_password", "rackledger-buyer"),
            ("new_password", "a-brand-new-pw"),
            ("confirm_password", "a-brand-new-pw"),
        ];
        assert_eq!(
            app.post_form("/account/password", &csrf, &fields)
                .await
                .status_code(),
            303,
            "{backend:?}"
        );
        assert_eq!(
            app.server.get("/account").await.status_code(),
            200,
            "this session survives"
        );
        app.login("buyer", "a-brand-new-pw").await;
        app.finish().await;
    }
}

#[tokio::test]
async fn health_probe_is_public_while_metrics_and_api_docs_need_a_login() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let health = app.server.get("/healthz").await;
        assert_eq!(health.status_code(), 200, "{backend:?}");
        let metrics = app.server.get("/metrics").await;
        assert_eq!(metrics.status_code(), 401);
        assert_eq!(
            app.server.get("/api/v1/openapi.json").await.status_code(),
            401
        );

        app.login("guest", "rackledger-guest").await;
        let metrics = app.server.get("/metrics").await;
        assert_eq!(metrics.status_code(), 200);
        assert!(metrics.text().contains("rackledger_http_requests_total"));
        let doc: Value = app.server.get("/api/v1/openapi.json").await.json();
        for path in [
            "/me",
            "/users",
            "/users/{id}",
            "/audit",
            "/suppliers",
            "/parts",
        ] {
            assert!(doc["paths"].get(path).is_some(), "OpenAPI lists {path}");
        }
        let ui = app.server.get("/api/v1/docs/").await;
        assert_eq!(ui.status_code(), 200);
        assert!(
            ui.text().contains("swagger"),
            "Swagger UI served from the binary"
        );
        app.finish().await;
    }
}

impl TestApp {
    async fn user_count(&self) -> i64 {
        rackledger::on!(&self.db, |p| sqlx::query_scalar(
            "select count(*) from users"
        )
        .fetch_one(p)
        .await)
        .unwrap()
    }
}
