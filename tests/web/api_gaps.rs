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
