//! Permission comes before validation: a role without the permission that
//! posts an empty or garbled form is told 403, never 422, 400 or 500, and
//! nothing is written.

use crate::app::TestApp;
use crate::security::PAGES;
use crate::support::backends;

/// State-changing page routes a viewer may use.
const VIEWER_MAY: [&str; 5] = [
    "/logout",
    "/lang",
    "/account/preferences",
    "/account/password",
    "/account/site",
];

/// The demo users that may post to `route` (docs/permissions.md), the most
/// specific prefix first.
fn allowed(route: &str) -> &'static [&'static str] {
    const RULES: &[(&str, &[&str])] = &[
        ("/health/demo/", &["admin"]),
        ("/health/assets/{id}/accept", &["admin", "buyer", "tech"]),
        (
            "/datacenter/audits/{id}/findings/{fid}/fix",
            &["admin", "buyer", "tech"],
        ),
        ("/inventory/warranty", &["admin", "buyer"]),
        ("/admin/", &["admin"]),
        ("/procurement/", &["admin", "buyer"]),
        ("/inventory/", &["admin", "buyer", "tech"]),
        ("/health/", &["admin", "tech"]),
        ("/datacenter", &["admin", "tech"]),
        ("/workorders", &["admin", "tech"]),
        ("/cost/", &["admin", "boss"]),
    ];
    if VIEWER_MAY.contains(&route) {
        return &["admin", "buyer", "tech", "boss", "guest"];
    }
    RULES
        .iter()
        .find(|(prefix, _)| route.starts_with(prefix))
        .map(|(_, who)| *who)
        .unwrap_or_else(|| panic!("no permission rule for {route}"))
}

async fn audit_rows(app: &TestApp) -> i64 {
    rackledger::on!(&app.db, |p| sqlx::query_scalar(
        "select count(*) from audit_log"
    )
    .fetch_one(p)
    .await)
    .expect("count the audit log")
}

/// Posts an empty and a garbled form, as `user`, to every state-changing
/// page route `user` may not use; expects 403 for each and nothing written.
async fn refused_for_permission_first(user: &str, password: &str) {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login(user, password).await;
        let before = audit_rows(&app).await;
        let mut wrong = Vec::new();
        for (method, route) in PAGES {
            if *method != "POST" || allowed(route).contains(&user) {
                continue;
            }
            let path = route
                .split('/')
                .map(|s| if s.starts_with('{') { "1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let empty = app.post_form(&path, &csrf, &[]).await;
            let garbled = app
                .server
                .post(&path)
                .add_header("x-csrf-token", csrf.as_str())
                .content_type("application/x-www-form-urlencoded")
                .bytes(
                    b"id=%zz&&=\xff\xfe&qty=many&u_position[]=x&\x07"
                        .as_slice()
                        .into(),
                )
                .await;
            for (kind, r) in [("empty", empty), ("garbled", garbled)] {
                if r.status_code() != 403 {
                    wrong.push(format!("{kind} {path}: {}", r.status_code()));
                }
            }
        }
        assert!(wrong.is_empty(), "{backend:?} {user}: not 403: {wrong:#?}");
        assert_eq!(
            audit_rows(&app).await,
            before,
            "{backend:?}: nothing written"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_viewer_posting_an_empty_or_garbled_form_is_refused_for_permission_first() {
    refused_for_permission_first("guest", "rackledger-guest").await;
}

#[tokio::test]
async fn a_technician_posting_an_empty_or_garbled_form_is_refused_for_permission_first() {
    refused_for_permission_first("tech", "rackledger-tech").await;
}

#[tokio::test]
async fn a_buyer_posting_an_empty_or_garbled_form_is_refused_for_permission_first() {
    refused_for_permission_first("buyer", "rackledger-buyer").await;
}

#[tokio::test]
async fn a_manager_posting_an_empty_or_garbled_form_is_refused_for_permission_first() {
    refused_for_permission_first("boss", "rackledger-boss").await;
}

/// A rack's usable U is a datacenter fact: page and API alike need
/// `EditDatacenter`; its monthly cost stays with `EditCost`.
#[tokio::test]
async fn a_racks_usable_u_needs_the_datacenter_permission_on_the_page_and_in_the_api() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let input = rackledger::datacenter::racks::RackInput {
            site: "Seoul DC1".into(),
            room: "Hall 1".into(),
            row: "Row A".into(),
            name: "U42".into(),
            height_u: Some("42".into()),
            power_budget_kw: None,
            numbering: None,
        };
        let actor = rackledger::audit::Actor::system("test");
        let rack = rackledger::datacenter::racks::create(&app.db, &actor, &input)
            .await
            .expect("a rack");
        let admin = app.login("admin", "rackledger-admin").await;
        let tech = app
            .issue_token(&admin, app.user_id("tech").await, "dc")
            .await;
        let boss = app
            .issue_token(&admin, app.user_id("boss").await, "cost")
            .await;
        let api = format!("/api/v1/cost/racks/{rack}");
        let page = format!("/datacenter/racks/{rack}/usable-u");
        let db = app.db.clone();
        let usable = || async {
            rackledger::on!(&db, |p| sqlx::query_scalar::<_, Option<i64>>(
                "select usable_u from racks where id = $1"
            )
            .bind(rack)
            .fetch_one(p)
            .await)
            .expect("read usable U")
        };

        let r = app
            .post_bearer(&tech, &api, &serde_json::json!({"usable_u": "40"}))
            .await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        assert_eq!(usable().await, Some(40));
        let r = app
            .post_bearer(&boss, &api, &serde_json::json!({"usable_u": "30"}))
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}: {}", r.text());
        let r = app
            .post_bearer(
                &boss,
                &api,
                &serde_json::json!({"monthly_cost": "1000", "usable_u": "30"}),
            )
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}: both or nothing");
        assert_eq!(usable().await, Some(40), "{backend:?}: nothing written");
        let r = app
            .post_bearer(&boss, &api, &serde_json::json!({"monthly_cost": "1000"}))
            .await;
        assert_eq!(
            r.status_code(),
            200,
            "{backend:?}: the cost stays with EditCost"
        );
        let r = app
            .post_bearer(&tech, &api, &serde_json::json!({"monthly_cost": "5"}))
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}");

        let csrf = app.login("boss", "rackledger-boss").await;
        let r = app.post_form(&page, &csrf, &[("usable_u", "30")]).await;
        assert_eq!(r.status_code(), 403, "{backend:?}");
        let csrf = app.login("tech", "rackledger-tech").await;
        let r = app.post_form(&page, &csrf, &[("usable_u", "38")]).await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(usable().await, Some(38));
        app.finish().await;
    }
}
