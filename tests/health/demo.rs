//! `serve --demo`: a simulated BMC per demo server, registered and polled,
//! and the admin's "simulate a DIMM failure" raising an alert and a work
//! order on the next poll; refused to others, absent outside the demo.

use std::time::{Duration, Instant};

use rackledger::health::poller::Poller;
use rackledger::on;

use crate::app::{TestApp, count, hidden_csrf};
use crate::poller::quick;
use crate::support::backends;

/// The open alert on `asset` (kind, slot, serial) and its work order, once the poller raised them.
async fn open_alert(app: &TestApp, asset: i64) -> Option<(String, String, Option<String>, i64)> {
    let alerts = rackledger::health::alerts::open(&app.db, Some(asset))
        .await
        .unwrap();
    alerts.into_iter().find_map(|a| {
        Some((
            a.component_kind,
            a.slot.unwrap_or_default(),
            a.serial,
            a.work_order_id?,
        ))
    })
}

/// The status of a GET without credentials, over plain HTTP/1.1.
async fn status_without_login(url: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    answer[9..12].parse().unwrap()
}

#[tokio::test]
async fn a_simulated_dimm_failure_in_the_demo_is_an_alert_and_a_work_order_within_seconds() {
    for backend in backends() {
        let (mut app, demo, config) = TestApp::start_demo(backend).await;
        let servers = demo.servers();
        assert_eq!(servers.len(), 2, "the two built demo servers");
        // Each server's BMC is registered, asks for a login, and answers.
        for s in servers {
            let b = rackledger::health::bmc::for_asset(&app.db, s.asset_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(b.url, s.bmc.url);
            assert!(b.url.starts_with("http://127.0.0.1:"), "{}", b.url);
            assert!(b.has_password);
            assert_eq!(
                status_without_login(&b.url, "/redfish/v1/Systems").await,
                401
            );
            assert_eq!(status_without_login(&b.url, "/redfish/v1").await, 200);
        }
        let key = config.health.master_key().unwrap();
        let poller = Poller::new(app.db.clone(), quick(), key);
        let out = poller.run_round().await.unwrap();
        assert_eq!(out.len(), 2, "{out:?}");
        for o in &out {
            assert!(o.error.is_none(), "{o:?}");
            assert!(o.raised.is_empty(), "a healthy demo raises nothing: {o:?}");
        }
        let target = servers.last().unwrap().asset_id;
        assert!(open_alert(&app, target).await.is_none());

        // The poller runs as in `serve`; the admin presses the button.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(poller.clone().run(async {
            let _ = stopped.await;
        }));
        app.login("admin", "rackledger-admin").await;
        let page = app.server.get("/health").await.text();
        let doc = scraper::Html::parse_document(&page);
        assert_eq!(count(&doc, "#demo-fail"), 1);
        let r = app
            .post_form("/health/demo/dimm-failure", &hidden_csrf(&page), &[])
            .await;
        assert_eq!(r.status_code(), 303);
        let deadline = Instant::now() + Duration::from_secs(20);
        let found = loop {
            if let Some(found) = open_alert(&app, target).await {
                break found;
            }
            assert!(Instant::now() < deadline, "no alert and work order in time");
            // The interval between looks of a poll with a deadline, not a wait.
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let _ = stop.send(());
        running.await.unwrap();
        let (kind, slot, serial, work_order) = found;
        assert_eq!((kind.as_str(), slot.as_str()), ("memory", "DIMM A5"));
        let installed: String = on!(&app.db, |c| sqlx::query_scalar(
            "select serial from units where asset_id = $1 and slot_name = 'DIMM A5' and status = 'installed'"
        )
        .bind(target)
        .fetch_one(c)
        .await)
        .unwrap();
        assert_eq!(serial.as_deref(), Some(installed.as_str()));
        let wo = rackledger::workorders::active_for_asset(&app.db, target)
            .await
            .unwrap();
        assert!(wo.iter().any(|w| w.id == work_order && w.source == "alert"));
        let audited: i64 = on!(&app.db, |c| sqlx::query_scalar(
            "select count(*) from audit_log where entity = 'demo_bmc'"
        )
        .fetch_one(c)
        .await)
        .unwrap();
        assert_eq!(audited, 1);
        let doc = scraper::Html::parse_document(&app.server.get("/health").await.text());
        assert_eq!(
            count(&doc, "#demo-restore"),
            1,
            "restore offered once failing"
        );

        // Only an admin may break or mend a BMC, even in the demo.
        app.login("tech", "rackledger-tech").await;
        let page = app.server.get("/health").await.text();
        let doc = scraper::Html::parse_document(&page);
        assert_eq!(count(&doc, "#demo-bmcs"), 0);
        let r = app
            .post_form("/health/demo/dimm-restore", &hidden_csrf(&page), &[])
            .await;
        assert_eq!(r.status_code(), 403);

        // The admin restores it: the next poll resolves the alert, so the
        // failure can be shown again.
        app.login("admin", "rackledger-admin").await;
        let page = app.server.get("/health").await.text();
        let r = app
            .post_form("/health/demo/dimm-restore", &hidden_csrf(&page), &[])
            .await;
        assert_eq!(r.status_code(), 303);
        let out = poller.run_round().await.unwrap();
        assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");
        assert!(open_alert(&app, target).await.is_none(), "resolved");
        // Its work order, still open, is told, so nobody swaps a healthy DIMM.
        let entries = rackledger::workorders::entries::list(&app.db, work_order)
            .await
            .unwrap();
        assert!(
            entries.iter().any(|e| e.kind == "healthy_again"),
            "{backend:?} {entries:?}"
        );
        crate::web::admin_in_english(&mut app).await;
        let doc = scraper::Html::parse_document(
            &app.server
                .get(&format!("/workorders/{work_order}"))
                .await
                .text(),
        );
        let cleared = crate::app::text_of(&doc, "#alert-cleared");
        assert!(
            cleared.contains("Alert cleared at") && cleared.contains("reports the part healthy"),
            "{cleared}"
        );
        assert!(!cleared.contains("DIMM DIMM"), "{cleared}");
        let doc = scraper::Html::parse_document(&app.server.get("/health").await.text());
        assert_eq!(count(&doc, "#demo-fail"), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn outside_the_demo_there_is_no_dimm_failure_button_or_route() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("admin", "rackledger-admin").await;
        let page = app.server.get("/health").await.text();
        let doc = scraper::Html::parse_document(&page);
        assert_eq!(count(&doc, "#demo-bmcs"), 0);
        for path in ["/health/demo/dimm-failure", "/health/demo/dimm-restore"] {
            let r = app.post_form(path, &hidden_csrf(&page), &[]).await;
            assert_eq!(r.status_code(), 404, "{path}");
        }
        app.finish().await;
    }
}

/// The serial installed in `slot` of `asset`.
async fn installed_in(app: &TestApp, asset: i64, slot: &str) -> String {
    on!(&app.db, |c| sqlx::query_scalar(
        "select serial from units where asset_id = $1 and slot_name = $2 and status = 'installed'"
    )
    .bind(asset)
    .bind(slot)
    .fetch_one(c)
    .await)
    .unwrap()
}

#[tokio::test]
async fn after_the_failed_dimm_is_swapped_the_demo_bmc_reports_the_new_one_and_the_alert_clears() {
    for backend in backends() {
        let (mut app, demo, config) = TestApp::start_demo(backend).await;
        let target = demo.servers().last().unwrap().asset_id;
        let poller = Poller::new(app.db.clone(), quick(), config.health.master_key().unwrap());
        poller.run_round().await.unwrap();

        // The admin makes the DIMM fail; the next poll raises the alert and its work order.
        app.login("admin", "rackledger-admin").await;
        let page = app.server.get("/health").await.text();
        let r = app
            .post_form("/health/demo/dimm-failure", &hidden_csrf(&page), &[])
            .await;
        assert_eq!(r.status_code(), 303);
        poller.run_round().await.unwrap();
        let (_, slot, serial, work_order) = open_alert(&app, target)
            .await
            .expect("an alert with a work order");
        let failed = installed_in(&app, target, &slot).await;
        assert_eq!(serial.as_deref(), Some(failed.as_str()));

        // The technician completes the work order: a spare from stock in
        // that slot, the failed DIMM to RMA.
        let spare: String = on!(&app.db, |c| sqlx::query_scalar(
            "select s.serial from units s join units f on f.part_model_id = s.part_model_id
             where f.serial = $1 and s.status = 'in_stock' order by s.id limit 1"
        )
        .bind(&failed)
        .fetch_one(c)
        .await)
        .unwrap();
        let csrf = app.login("tech", "rackledger-tech").await;
        for c in rackledger::workorders::checks(&app.db, work_order)
            .await
            .unwrap()
        {
            let path = format!("/workorders/{work_order}/checks/{}", c.id);
            let r = app.post_form(&path, &csrf, &[("done", "1")]).await;
            assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        }
        let done = [("spare_serial", spare.as_str()), ("removed_to", "rma")];
        let r = app
            .post_form(&format!("/workorders/{work_order}/complete"), &csrf, &done)
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(installed_in(&app, target, &slot).await, spare);

        // The BMC now reports the new DIMM, healthy: the next poll clears
        // the alert, and the BMC agrees with rackledger.
        rackledger::health::bmc::poll_soon(&app.db, target)
            .await
            .unwrap();
        let out = poller.run_round().await.unwrap();
        assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");
        assert!(
            open_alert(&app, target).await.is_none(),
            "{backend:?}: the alert clears once the failed DIMM is out"
        );
        let diff = rackledger::health::reconcile::for_asset(&app.db, target)
            .await
            .unwrap()
            .expect("polled");
        assert!(
            diff.missing.is_empty() && diff.unexpected.is_empty(),
            "{backend:?}: {diff:?}"
        );
        let reported = demo.servers().last().unwrap().bmc.server();
        let dimm = reported.dimms.iter().find(|d| d.slot == slot).unwrap();
        assert_eq!((dimm.serial.as_str(), dimm.health), (spare.as_str(), "OK"));
        app.finish().await;
    }
}
