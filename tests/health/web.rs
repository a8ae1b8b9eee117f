//! Health pages over the real router: the BMC form (password never shown,
//! refused without a key, insecure flagged), the health section after a poll,
//! the fleet page, permissions, and accepting the BMC's truth as a swap.

use rackledger::health::HealthConfig;
use rackledger::health::poller::Poller;
use rackledger::{exec, on};

use crate::app::{TestApp, count, hidden_csrf, with_master_key};
use crate::fake::{Behavior, FakeBmc};
use crate::poller::add_asset;
use crate::support::backends;

/// Logs in as the admin, reading English.
pub async fn admin_in_english(app: &mut TestApp) {
    exec!(&app.db, |c| sqlx::query(
        "update users set lang = 'en' where username = 'admin'"
    )
    .execute(c)
    .await)
    .unwrap();
    app.login("admin", "rackledger-admin").await;
}

async fn csrf_of(app: &TestApp, path: &str) -> String {
    hidden_csrf(&app.server.get(path).await.text())
}

#[tokio::test]
async fn a_bmc_password_is_refused_without_a_key_and_never_shown_back() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("tech", "rackledger-tech").await;
        let asset = add_asset(&app.db, "SRV-1").await;
        let page = format!("/inventory/assets/{asset}");
        let (_, doc) = app.page(&page).await;
        assert_eq!(count(&doc, "#no-bmc"), 1);
        assert_eq!(
            count(&doc, "#no-key"),
            1,
            "the form says why a password cannot be stored"
        );
        let csrf = csrf_of(&app, &page).await;
        let form = |pw: &'static str, tls: &'static str| {
            vec![
                ("url", "https://10.0.0.5/redfish/v1"),
                ("username", "root"),
                ("password", pw),
                ("tls_policy", tls),
                ("ca_cert_pem", ""),
            ]
        };
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &form("hunter2", "verify"),
            )
            .await;
        // Refused at the password, on the asset page with the form as sent.
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = scraper::Html::parse_document(&r.text());
        assert!(crate::app::text_of(&doc, "#password-error").contains("RACKLEDGER_MASTER_KEY"));
        assert!(
            !r.text().contains("hunter2"),
            "the password is not sent back"
        );
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &form("", "insecure"),
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let (_, doc) = app.page(&page).await;
        assert_eq!(crate::app::text_of(&doc, "#bmc-url"), "https://10.0.0.5");
        assert_eq!(count(&doc, "#insecure-warning"), 1);
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "ftp://x"),
                    ("tls_policy", "pinned"),
                    ("ca_cert_pem", "nope"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert_eq!(count(&doc, "#url-error"), 1);
        assert_eq!(count(&doc, "#ca_cert_pem-error"), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_stored_password_is_encrypted_and_appears_in_no_page_row_or_audit() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = TestApp::start_with(backend, with_master_key(&dir)).await;
        app.login("tech", "rackledger-tech").await;
        let asset = add_asset(&app.db, "SRV-2").await;
        let page = format!("/inventory/assets/{asset}");
        let csrf = csrf_of(&app, &page).await;
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "https://10.0.0.6"),
                    ("username", "root"),
                    ("password", "hunter2-secret"),
                    ("tls_policy", "verify"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let html = app.server.get(&page).await.text();
        assert!(!html.contains("hunter2-secret"), "{backend:?}");
        let api = app
            .server
            .get(&format!("/api/v1/assets/{asset}/health"))
            .await
            .text();
        assert!(
            !api.contains("hunter2-secret") && api.contains("\"has_password\":true"),
            "{api}"
        );
        let stored: String = on!(&app.db, |p| sqlx::query_scalar(
            "select password_ciphertext from bmcs"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert!(!stored.contains("hunter2"));
        let audit: Vec<String> = on!(&app.db, |p| sqlx::query_scalar(
            "select coalesce(after_json, '') from audit_log where entity = 'bmc'"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        assert!(!audit.is_empty() && audit.iter().all(|a| !a.contains("hunter2")));
        let key = with_key_file(&dir);
        let b = rackledger::health::bmc::for_asset(&app.db, asset)
            .await
            .unwrap()
            .unwrap();
        let creds = rackledger::health::bmc::credentials(&app.db, Some(&key), &b)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(creds.password.as_str(), "hunter2-secret");
        // Saving again without a password keeps the stored one.
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "https://10.0.0.7"),
                    ("username", "root"),
                    ("password", ""),
                    ("tls_policy", "verify"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303);
        let b = rackledger::health::bmc::for_asset(&app.db, asset)
            .await
            .unwrap()
            .unwrap();
        assert!(b.has_password);
        assert_eq!(
            rackledger::health::bmc::credentials(&app.db, Some(&key), &b)
                .await
                .unwrap()
                .unwrap()
                .password
                .as_str(),
            "hunter2-secret"
        );
        // The second save's audit row holds what was there before it.
        let before: Vec<Option<String>> = on!(&app.db, |p| sqlx::query_scalar(
            "select before_json from audit_log where entity = 'bmc' order by id"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        assert_eq!(before.len(), 2, "{before:?}");
        assert!(before[0].is_none(), "{before:?}");
        let old = before[1].as_deref().unwrap_or_default();
        assert!(
            old.contains("https://10.0.0.6") && !old.contains("hunter2"),
            "{before:?}"
        );
        app.finish().await;
    }
}

fn with_key_file(dir: &tempfile::TempDir) -> rackledger::health::secret::MasterKey {
    rackledger::health::secret::MasterKey::from_file(&dir.path().join("master.key")).unwrap()
}

#[tokio::test]
async fn after_a_poll_the_asset_and_fleet_pages_show_health_and_the_bmc_truth_can_be_accepted() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let fake = FakeBmc::start(Behavior::Mockup("XL675d_A100", None)).await;
        app.login("tech", "rackledger-tech").await;
        let asset = add_asset(&app.db, "SRV-3").await;
        let page = format!("/inventory/assets/{asset}");
        let csrf = csrf_of(&app, &page).await;
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", fake.url.as_str()),
                    ("tls_policy", "verify"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303);
        // rackledger thinks demo DIMM S4EMNX0W000001 is in slot DIMM1; a stock DIMM carries a serial the BMC reports.
        let now = rackledger::clock::now();
        exec!(&app.db, |p| sqlx::query("update units set status = 'installed', asset_id = $1, slot_name = 'DIMM1', location_id = null where serial = 'S4EMNX0W000001'").bind(asset).execute(p).await).unwrap();
        exec!(&app.db, |p| sqlx::query("insert into installations (asset_id, unit_id, slot_name, installed_at, created_at, updated_at) select $1, id, 'DIMM1', $2, $2, $2 from units where serial = 'S4EMNX0W000001'").bind(asset).bind(now).execute(p).await).unwrap();
        exec!(&app.db, |p| sqlx::query(
            "update units set serial = '1EEADCE3' where serial = 'S4EMNX0W000002'"
        )
        .execute(p)
        .await)
        .unwrap();

        let poller = Poller::new(app.db.clone(), HealthConfig::default(), None);
        let out = poller.run_round().await.unwrap();
        assert_eq!(out.len(), 1);
        assert!(out[0].error.is_none(), "{:?}", out[0].error);
        let (_, doc) = app.page(&page).await;
        assert_eq!(count(&doc, "#health-worst.sev-critical"), 1, "{backend:?}");
        assert_eq!(count(&doc, "#health-components tr.dimm"), 16);
        assert_eq!(count(&doc, "#health-components tr.drive"), 2);
        // Processors are labelled by their type: this server's two are CPUs
        // (a GPU would read "Accelerator").
        assert_eq!(count(&doc, "#health-components td.processor-kind"), 2);
        assert_eq!(
            crate::app::text_of(&doc, "#health-components td.processor-kind"),
            "CPU"
        );
        assert_eq!(count(&doc, "#reconcile tr.missing"), 1);
        assert_eq!(
            count(&doc, "form.accept"),
            1,
            "only the stock unit can be accepted"
        );
        assert!(count(&doc, "#asset-alerts li") >= 1);

        let r = app
            .post_form(&format!("/health/assets/{asset}/poll"), &csrf, &[])
            .await;
        assert_eq!(r.status_code(), 303);
        let metrics = app.server.get("/metrics").await.text();
        assert!(
            metrics.contains("rackledger_bmc_polls_total{outcome=\"ok\"}"),
            "{metrics}"
        );
        assert!(metrics.contains("rackledger_bmc_poll_duration_seconds"));

        app.login("guest", "rackledger-guest").await;
        let (status, doc) = app.page("/health").await;
        assert_eq!(status, 200);
        assert!(count(&doc, "#alerts tbody tr") >= 1);
        assert_eq!(count(&doc, "#fleet-diffs tbody tr"), 1);
        let guest_csrf = csrf_of(&app, "/health").await;
        let r = app
            .post_form(&format!("/health/assets/{asset}/poll"), &guest_csrf, &[])
            .await;
        assert_eq!(r.status_code(), 403, "a viewer cannot poll");

        app.login("tech", "rackledger-tech").await;
        let csrf = csrf_of(&app, &page).await;
        let location: i64 = on!(&app.db, |p| sqlx::query_scalar(
            "select min(id) from stock_locations"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let loc = location.to_string();
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/accept"),
                &csrf,
                &[
                    ("slot_name", "DIMM1"),
                    ("serial", "1EEADCE3"),
                    ("old_to", "faulty"),
                    ("location_id", &loc),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let diff = rackledger::health::reconcile::for_asset(&app.db, asset)
            .await
            .unwrap()
            .unwrap();
        assert!(diff.missing.is_empty(), "{diff:?}");
        assert_eq!(diff.matched, 1);
        let old: String = on!(&app.db, |p| sqlx::query_scalar(
            "select status from units where serial = 'S4EMNX0W000001'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(old, "faulty", "recorded as a swap");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_api_sets_a_bmc_and_never_returns_its_password() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = TestApp::start_with(backend, with_master_key(&dir)).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        let asset = add_asset(&app.db, "SRV-API").await;
        let body = serde_json::json!({"url": "https://10.1.2.3:8443/", "username": "admin", "password": "pa55-word", "tls_policy": "insecure"});
        let r = app
            .server
            .put(&format!("/api/v1/assets/{asset}/bmc"))
            .add_header("x-csrf-token", csrf.as_str())
            .json(&body)
            .await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        assert!(!r.text().contains("pa55-word"));
        let v: serde_json::Value = r.json();
        assert_eq!(
            (
                v["url"].as_str(),
                v["has_password"].as_bool(),
                v["tls_policy"].as_str()
            ),
            (Some("https://10.1.2.3:8443"), Some(true), Some("insecure"))
        );
        let r = app
            .server
            .post(&format!("/api/v1/assets/{asset}/bmc/poll"))
            .add_header("x-csrf-token", csrf.as_str())
            .await;
        assert_eq!(r.status_code(), 202);
        let v: serde_json::Value = app
            .server
            .get(&format!("/api/v1/assets/{asset}/health"))
            .await
            .json();
        assert_eq!(v["bmc"]["username"], "admin");
        assert!(v["snapshot"].is_null(), "not polled yet");
        let doc = app.server.get("/api/v1/openapi.json").await.text();
        assert!(doc.contains("/assets/{id}/bmc") && doc.contains("/health/alerts"));
        let guest = app.login("guest", "rackledger-guest").await;
        let r = app
            .server
            .put(&format!("/api/v1/assets/{asset}/bmc"))
            .add_header("x-csrf-token", guest.as_str())
            .json(&body)
            .await;
        assert_eq!(r.status_code(), 403);
        assert_eq!(
            r.json::<serde_json::Value>()["error"],
            "forbidden",
            "refused by role, not CSRF"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn why_a_bmc_fails_is_told_to_admins_only() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let asset = add_asset(&app.db, "SRV-PORTS").await;
        app.login("admin", "rackledger-admin").await;
        let page = format!("/inventory/assets/{asset}");
        let csrf = csrf_of(&app, &page).await;
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "https://10.9.8.7:22/"),
                    ("username", "root"),
                    ("password", ""),
                    ("tls_policy", "insecure"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        // What a failed poll records about the address (a port scan's answer).
        let detail = "connection refused (os error 111) at 10.9.8.7:22";
        exec!(&app.db, |c| sqlx::query(
            "update bmcs set consecutive_failures = 3, last_error = $1, last_polled_at = updated_at, failing_since = updated_at"
        )
        .bind(detail)
        .execute(c)
        .await)
        .unwrap();
        for (user, password, sees) in [
            ("admin", "rackledger-admin", true),
            ("tech", "rackledger-tech", false),
            ("guest", "rackledger-guest", false),
        ] {
            app.login(user, password).await;
            for path in [
                page.clone(),
                "/health".to_owned(),
                format!("/api/v1/assets/{asset}/health"),
            ] {
                let text = app.server.get(&path).await.text();
                assert_eq!(
                    text.contains("connection refused"),
                    sees,
                    "{backend:?} {user} {path}"
                );
            }
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_bmc_answering_again_shows_since_when_in_the_readers_zone() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let fake = FakeBmc::start(Behavior::Mockup("public-rackmount1", None)).await;
        let (asset, id) = crate::poller::add_bmc(&app.db, "SRV-TZ", &fake.url).await;
        // Not answering since 03:00 UTC; this poll finds it answering again.
        let since = time::macros::datetime!(2026-12-07 03:00:00 UTC);
        exec!(&app.db, |c| sqlx::query(
            "update bmcs set consecutive_failures = 2, failing_since = $1 where id = $2"
        )
        .bind(since)
        .bind(id)
        .execute(c)
        .await)
        .unwrap();
        let out = Poller::new(app.db.clone(), HealthConfig::default(), None)
            .run_round()
            .await
            .unwrap();
        assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
        exec!(&app.db, |c| sqlx::query(
            "update users set lang = 'en', time_zone = 'Asia/Seoul' where username = 'tech'"
        )
        .execute(c)
        .await)
        .unwrap();
        app.login("tech", "rackledger-tech").await;
        let (_, doc) = app.page(&format!("/inventory/assets/{asset}")).await;
        let events = crate::app::text_of(&doc, "#health-events");
        assert!(events.contains("Answering again"), "{events}");
        // 03:00 UTC is noon in Seoul (+09:00); no raw UTC anywhere.
        assert!(events.contains("2026-12-07 12:00"), "{events}");
        assert!(!events.contains("+00"), "{events}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_refused_port_is_explained_once_and_the_bmc_answering_again_is_an_event() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (asset, _) =
            crate::poller::add_bmc(&app.db, "SRV-AGAIN", &format!("http://127.0.0.1:{closed}"))
                .await;
        let poller = Poller::new(app.db.clone(), crate::poller::quick(), None);
        let out = poller.run_round().await.unwrap();
        assert!(out.len() == 1 && out[0].error.is_some(), "{out:?}");
        admin_in_english(&mut app).await;
        let page = format!("/inventory/assets/{asset}");
        let text = app.server.get(&page).await.text();
        let doc = scraper::Html::parse_document(&text);
        let problem = crate::app::text_of(&doc, "#bmc-problem");
        assert!(problem.contains("Nothing answers at"), "{problem}");
        assert!(!problem.contains("os error"), "{problem}");
        let events = crate::app::text_of(&doc, "#health-events");
        assert!(events.contains("Nothing answers at"), "{events}");
        assert!(!events.contains("connection failed"), "{events}");
        // The technical text once at most, in the details under the message.
        assert!(text.matches("os error 111").count() <= 1, "{text}");

        // The URL is put right; the next poll finds the BMC answering.
        let fake = FakeBmc::start(Behavior::Mockup("public-rackmount1", None)).await;
        crate::poller::add_bmc_to(&app.db, asset, &fake.url).await;
        let out = poller.run_round().await.unwrap();
        assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
        let (_, doc) = app.page(&page).await;
        // Newest first: answering again comes before the failure it ends.
        let events = crate::app::text_of(&doc, "#health-events");
        let again = events.find("Answering again");
        let failed = events.find("Not answering");
        assert!(
            again.is_some() && failed.is_some() && again < failed,
            "{events}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_bmc_list_names_the_tls_policy_and_an_alert_names_its_dimm_once() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let fake = FakeBmc::start(Behavior::Mockup("public-rackmount1", None)).await;
        let (asset, _) = crate::poller::add_bmc(&app.db, "SRV-DIMM", &fake.url).await;
        let out = Poller::new(app.db.clone(), crate::poller::quick(), None)
            .run_round()
            .await
            .unwrap();
        assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
        admin_in_english(&mut app).await;
        let (_, doc) = app.page("/health/bmcs").await;
        let tls = crate::app::text_of(&doc, "#bmcs tbody td.tls-policy");
        assert_eq!(tls, "Checked against the system's CAs", "{backend:?}");

        // A failing DIMM: its alert row, work order notes and audit say "DIMM" once.
        let now = rackledger::clock::now();
        exec!(&app.db, |p| sqlx::query(
            "insert into health_alerts (asset_id, dedup_key, component_kind, component, slot, severity,
             opened_at, last_seen_at, open_key, created_at, updated_at)
             values ($1, 'memory:DIMM A5', 'memory', 'memory DIMM A5', 'DIMM A5', 'critical', $2, $2, 'memory:DIMM A5', $2, $2)"
        )
        .bind(asset)
        .bind(now)
        .execute(p)
        .await)
        .unwrap();
        rackledger::workorders::alerts::open_for_alerts(&app.db, rackledger::i18n::Lang::En)
            .await
            .unwrap();
        let (_, doc) = app.page(&format!("/inventory/assets/{asset}")).await;
        let row = crate::app::text_of(&doc, "#asset-alerts");
        assert!(
            row.contains("DIMM A5") && !row.contains("DIMM DIMM"),
            "{row}"
        );
        let (_, doc) = app.page("/health").await;
        let fleet = crate::app::text_of(&doc, "body");
        assert!(
            fleet.contains("DIMM A5") && !fleet.contains("DIMM DIMM"),
            "{fleet}"
        );
        let wo = rackledger::workorders::active_for_asset(&app.db, asset)
            .await
            .unwrap();
        let dimm = wo
            .iter()
            .find(|w| w.title.contains("DIMM A5"))
            .unwrap_or_else(|| panic!("{wo:?}"));
        for lang in [rackledger::i18n::Lang::En, rackledger::i18n::Lang::Ko] {
            let notes = dimm.clone().localized(lang).notes;
            assert!(
                notes.contains("DIMM A5") && !notes.contains("DIMM DIMM"),
                "{notes}"
            );
        }
        let audit: Vec<String> = on!(&app.db, |c| sqlx::query_scalar(
            "select coalesce(after_json, '') from audit_log where entity = 'work_order'"
        )
        .fetch_all(c)
        .await)
        .unwrap();
        assert!(!audit.is_empty());
        assert!(audit.iter().all(|a| !a.contains("DIMM DIMM")), "{audit:?}");
        app.finish().await;
    }
}
