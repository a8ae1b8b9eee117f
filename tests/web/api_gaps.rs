//! API operations the pages had and the API lacked: a rack's usable U, and a
//! work order's status, assignee, no-fault close and entries.

use rackledger::i18n::Msg;
use serde_json::{Value, json};

use crate::app::{TestApp, add_asset};
use crate::support::backends;

#[tokio::test]
async fn a_rack_created_through_the_api_takes_usable_u_with_the_pages_validation() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech = app
            .issue_token(&csrf, app.user_id("tech").await, "dc")
            .await;
        let rack = |name: &str, usable: Value| {
            json!({"site": "Gasan", "room": "Hall 1", "row": "Row A", "name": name,
                   "height_u": "42", "usable_u": usable})
        };
        let r = app
            .post_bearer(&tech, "/api/v1/racks", &rack("R01", json!(38)))
            .await;
        assert_eq!(r.status_code(), 201, "{backend:?}: {}", r.text());
        assert_eq!(r.json::<Value>()["usable_u"], 38, "{backend:?}");
        let r = app
            .post_bearer(&tech, "/api/v1/racks", &rack("R02", Value::Null))
            .await;
        assert_eq!(r.json::<Value>()["usable_u"], 42, "absent: the full height");
        let r = app
            .post_bearer(&tech, "/api/v1/racks", &rack("R03", json!(43)))
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: over the height");
        assert!(r.text().contains("usable_u"), "{}", r.text());
        app.finish().await;
    }
}

#[tokio::test]
async fn a_work_order_is_assigned_moved_closed_as_no_fault_and_shows_its_entries_through_the_api() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech_id = app.user_id("tech").await;
        let tech = app.issue_token(&csrf, tech_id, "dc").await;
        let guest = app
            .issue_token(&csrf, app.user_id("guest").await, "ro")
            .await;
        let asset = add_asset(&app.db, "SRV-API").await;
        let r = app
            .post_bearer(
                &tech,
                "/api/v1/work-orders",
                &json!({"kind": "other", "title": "Check SRV-API", "asset_tag": "SRV-API"}),
            )
            .await;
        assert_eq!(r.status_code(), 201, "{backend:?}: {}", r.text());
        let wo = r.json::<Value>()["work_order"]["id"].as_i64().unwrap();
        let path = |op: &str| format!("/api/v1/work-orders/{wo}/{op}");

        // As on the page: a viewer may not, an editor may.
        let body = json!({"assignee_id": tech_id});
        let r = app.post_bearer(&guest, &path("assign"), &body).await;
        assert_eq!(r.status_code(), 403, "{backend:?}");
        let r = app.post_bearer(&tech, &path("assign"), &body).await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        assert_eq!(r.json::<Value>()["work_order"]["assignee_id"], tech_id);
        let r = app
            .post_bearer(&tech, &path("status"), &json!({"status": "in_progress"}))
            .await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        assert_eq!(r.json::<Value>()["work_order"]["status"], "in_progress");
        let r = app
            .post_bearer(&tech, &path("status"), &json!({"status": "sideways"}))
            .await;
        assert!(
            r.status_code().is_client_error(),
            "{backend:?}: {}",
            r.status_code()
        );

        // An alert names it and is still open: no "no fault found" yet.
        let now = rackledger::clock::now();
        rackledger::exec!(&app.db, |p| sqlx::query(
            "insert into health_alerts (asset_id, dedup_key, component_kind, component, slot, severity,
             opened_at, last_seen_at, work_order_id, open_key, created_at, updated_at)
             values ($1, 'k', 'memory', 'DIMM A1', 'DIMM A1', 'critical', $2, $2, $3, 'k', $2, $2)"
        )
        .bind(asset)
        .bind(now)
        .bind(wo)
        .execute(p)
        .await)
        .unwrap();
        let r = app.post_bearer(&tech, &path("no-fault"), &json!({})).await;
        assert_eq!(r.status_code(), 409, "{backend:?}: {}", r.text());
        let healthy = Msg::new("wo_entry.healthy_again")
            .arg("component", "DIMM")
            .arg("slot", "A1");
        rackledger::exec!(&app.db, |p| sqlx::query(
            "update health_alerts set resolved_at = $1, open_key = null where work_order_id = $2"
        )
        .bind(now)
        .bind(wo)
        .execute(p)
        .await)
        .unwrap();
        rackledger::exec!(&app.db, |p| sqlx::query(
            "insert into work_order_entries (work_order_id, kind, message, at, created_at)
             values ($1, 'healthy_again', $2, $3, $3)"
        )
        .bind(wo)
        .bind(healthy.to_json())
        .bind(now)
        .execute(p)
        .await)
        .unwrap();
        let r = app.post_bearer(&tech, &path("no-fault"), &json!({})).await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        let body: Value = r.json();
        assert_eq!(body["work_order"]["status"], "done", "{backend:?}");
        assert_eq!(body["work_order"]["outcome"], "no_fault_found");
        let entries = body["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 1, "{backend:?}");
        assert_eq!(entries[0]["kind"], "healthy_again");
        assert!(
            entries[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("DIMM A1")),
            "{entries:?}"
        );

        let doc: Value = app.server.get("/api/v1/openapi.json").await.json();
        for op in ["status", "assign", "no-fault"] {
            let p = format!("/work-orders/{{id}}/{op}");
            assert!(doc["paths"].get(&p).is_some(), "OpenAPI lists {p}");
        }
        app.finish().await;
    }
}

/// Every string in `v` that starts like a date and time (`2026-12-08 00:26`
/// or `2026-12-08T00:26`), with where it is.
fn times(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => {
            let b = s.as_bytes();
            let looks = b.len() >= 16
                && b[..4].iter().all(u8::is_ascii_digit)
                && b[4] == b'-'
                && b[7] == b'-'
                && (b[10] == b' ' || b[10] == b'T')
                && b[11..13].iter().all(u8::is_ascii_digit)
                && b[13] == b':';
            if looks {
                out.push((at.to_owned(), s.clone()));
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| times(x, &format!("{at}[{i}]"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| times(x, &format!("{at}.{k}"), out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_time_the_api_sends_is_rfc_3339() {
    use time::format_description::well_known::Rfc3339;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        // The demo data (seeded) with its showcase: orders, work orders, alerts.
        rackledger::demo::seed_showcase(&app.db)
            .await
            .expect("showcase");
        let csrf = app.login("admin", "rackledger-admin").await;
        let token = app
            .issue_token(&csrf, app.user_id("admin").await, "all")
            .await;
        app.server.clear_cookies();
        let first = |table: &'static str| {
            let db = app.db.clone();
            async move {
                let sql = format!("select min(id) from {table}");
                rackledger::on!(&db, |p| sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(
                    sql.clone()
                ))
                .fetch_one(p)
                .await)
                .expect(table)
            }
        };
        let (order, wo, rack, asset) = (
            first("purchase_orders").await,
            first("work_orders").await,
            first("racks").await,
            first("assets").await,
        );
        let paths = [
            "/api/v1/units".to_owned(),
            "/api/v1/orders".to_owned(),
            format!("/api/v1/orders/{order}"),
            "/api/v1/work-orders".to_owned(),
            format!("/api/v1/work-orders/{wo}"),
            format!("/api/v1/racks/{rack}"),
            format!("/api/v1/assets/{asset}"),
            format!("/api/v1/assets/{asset}/health"),
            "/api/v1/audit".to_owned(),
            "/api/v1/rma".to_owned(),
            "/api/v1/health/alerts".to_owned(),
            "/api/v1/fx-rates".to_owned(),
            "/api/v1/users".to_owned(),
            "/api/v1/cost/params".to_owned(),
            "/api/v1/cost/scenarios".to_owned(),
        ];
        let mut seen = 0;
        for path in &paths {
            let r = app.server.get(path).authorization_bearer(&token).await;
            assert_eq!(r.status_code(), 200, "{backend:?} {path}: {}", r.text());
            let mut found = Vec::new();
            times(&r.json::<Value>(), path, &mut found);
            for (at, t) in &found {
                assert!(
                    time::OffsetDateTime::parse(t, &Rfc3339).is_ok(),
                    "{backend:?}: {at} = {t:?} is not RFC 3339"
                );
            }
            seen += found.len();
        }
        assert!(seen > 50, "{backend:?}: only {seen} times checked");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_bmc_url_with_a_path_is_refused_at_the_field_on_the_page_and_in_the_api() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let asset = add_asset(&app.db, "BMC-PATH").await;
        let csrf = app.login("admin", "rackledger-admin").await;
        app.server.add_header("accept-language", "en");
        let token = app
            .issue_token(&csrf, app.user_id("admin").await, "bmc")
            .await;
        for url in ["https://10.0.0.5/login", "https://10.0.0.5:8443/?x=1"] {
            let r = app
                .post_form(
                    &format!("/health/assets/{asset}/bmc"),
                    &csrf,
                    &[
                        ("url", url),
                        ("username", "root"),
                        ("password", ""),
                        ("tls_policy", "insecure"),
                        ("ca_cert_pem", ""),
                    ],
                )
                .await;
            assert_eq!(r.status_code(), 422, "{backend:?} {url}: {}", r.text());
            let doc = scraper::Html::parse_document(&r.text());
            let said = crate::app::text_of(&doc, "#url-error");
            assert!(said.contains("scheme://host[:port]"), "{url}: {said}");
        }
        let body =
            json!({"url": "https://10.0.0.5/login", "username": "root", "tls_policy": "insecure"});
        let put = |body: Value| {
            app.server
                .put(&format!("/api/v1/assets/{asset}/bmc"))
                .authorization_bearer(&token)
                .json(&body)
        };
        let r = put(body).await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        assert!(r.text().contains("url"), "{}", r.text());
        let saved: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select count(*) from bmcs where asset_id = $1"
        )
        .bind(asset)
        .fetch_one(p)
        .await)
        .expect("count");
        assert_eq!(saved, 0, "{backend:?}: nothing saved");
        // The origin alone (a trailing slash, or the Redfish root) is fine.
        let r = put(
            json!({"url": "https://10.0.0.5:8443/", "username": "root", "tls_policy": "insecure"}),
        )
        .await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        app.finish().await;
    }
}
