//! Component health on every poll: a DIMM going Critical while the system's
//! rollup stays as it was is an alert and a work order after one normal
//! poll; the work order then logs the BMC's reports (healthy again, failing
//! again) and closes as *no fault found*.

use std::path::{Path, PathBuf};

use rackledger::health::poller::Poller;
use rackledger::i18n::{Lang, t};
use rackledger::on;

use crate::app::{TestApp, count, hidden_csrf, text_of};
use crate::fake::{Behavior, FakeBmc};
use crate::poller::{add_bmc, due_by_schedule, quick};
use crate::support::{TestDb, backends, copy_tree};
use crate::sushy::{Sushy, mockup_dir};

const SYSTEM: &str = "Systems/437XR1138R2";

/// A copy of `public-rackmount1` a test changes between polls.
fn rackmount_copy() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    copy_tree(&mockup_dir("public-rackmount1"), tree.path());
    tree
}

fn edit(tree: &Path, doc: &str, change: impl FnOnce(&mut serde_json::Value)) {
    let file: PathBuf = tree.join(doc).join("index.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    change(&mut v);
    std::fs::write(&file, v.to_string()).unwrap();
}

/// DIMM1's health as the BMC reports it (the system's status left alone).
fn dimm1(tree: &Path, health: &str) {
    edit(tree, &format!("{SYSTEM}/Memory/DIMM1"), |v| {
        v["Status"]["Health"] = health.into();
    });
}

#[tokio::test]
async fn a_dimm_going_critical_without_the_rollup_moving_is_a_work_order_after_one_poll() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let tree = rackmount_copy();
        let Some(sushy) = Sushy::start_dir(tree.path()).await else {
            return;
        };
        let (asset, id) = add_bmc(&t.db, "SRV-DIMM", &sushy.url).await;
        let cfg = quick();
        let p = Poller::new(t.db.clone(), cfg.clone(), None);
        let out = p.run_round().await.unwrap();
        assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
        assert!(
            out[0].raised.iter().all(|a| a.kind != "memory"),
            "{:?}",
            out[0].raised
        );
        let (first, _) = rackledger::health::store::latest(&t.db, asset)
            .await
            .unwrap()
            .unwrap();

        // The DIMM fails; the system's Status (health, rollup, conditions) stays
        // as it was. The manager is gone too: a full read would note it as
        // unreadable, a poll due by its schedule does not ask for it.
        dimm1(tree.path(), "Critical");
        std::fs::remove_file(tree.path().join("Managers/BMC/index.json")).unwrap();
        due_by_schedule(&t.db, id, cfg.poll_interval_secs as i64).await;
        let out = p.run_round().await.unwrap();
        assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
        let raised: Vec<_> = out[0]
            .raised
            .iter()
            .map(|a| (a.kind.as_str(), a.slot.as_str(), a.severity.as_str()))
            .collect();
        assert_eq!(
            raised,
            vec![("memory", "DIMM Slot 1", "critical")],
            "{backend:?}: one normal poll sees the DIMM"
        );
        let (second, _) = rackledger::health::store::latest(&t.db, asset)
            .await
            .unwrap()
            .unwrap();
        assert!(second.errors.is_empty(), "health only: {:?}", second.errors);
        assert_eq!(second.bmc_firmware, first.bmc_firmware, "kept");
        assert_eq!(second.health_rollup, first.health_rollup);
        assert_eq!(second.memory.len(), first.memory.len());
        // The mockup's drive and PSU warnings have work orders of their own.
        let wos = dimm_work_orders(&t.db, asset).await;
        assert_eq!(wos.len(), 1, "{backend:?}: {wos:?}");
        t.drop_db().await;
    }
}

/// The active work orders for DIMM1 (opened by an alert).
async fn dimm_work_orders(db: &rackledger::db::Db, asset: i64) -> Vec<i64> {
    rackledger::workorders::active_for_asset(db, asset)
        .await
        .unwrap()
        .into_iter()
        .filter(|w| w.source == "alert" && w.title.contains("DIMM Slot 1"))
        .map(|w| w.id)
        .collect()
}

/// A poll of the BMC due by its schedule.
async fn poll(app: &TestApp, p: &std::sync::Arc<Poller>, bmc: i64) {
    due_by_schedule(&app.db, bmc, quick().poll_interval_secs as i64).await;
    let out = p.run_round().await.unwrap();
    assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
}

async fn set_reader(app: &TestApp, lang: &str, tz: &str) {
    rackledger::exec!(&app.db, |c| {
        sqlx::query("update users set lang = $1, time_zone = $2 where username = 'tech'")
            .bind(lang)
            .bind(tz)
            .execute(c)
            .await
    })
    .unwrap();
}

/// `at` as a reader at `offset` hours from UTC sees it.
fn local(at: time::OffsetDateTime, offset: i8) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    at.to_offset(time::UtcOffset::from_hms(offset, 0, 0).unwrap())
        .format(&fmt)
        .unwrap()
}

async fn scalar(app: &TestApp, sql: &'static str, id: i64) -> i64 {
    on!(&app.db, |c| sqlx::query_scalar::<_, i64>(sql)
        .bind(id)
        .fetch_one(c)
        .await)
    .unwrap()
}

#[tokio::test]
async fn a_part_healthy_again_is_logged_on_its_work_order_which_closes_as_no_fault_found() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("tech", "rackledger-tech").await;
        set_reader(&app, "ko", "Asia/Seoul").await;
        let tree = rackmount_copy();
        dimm1(tree.path(), "Critical");
        let server = FakeBmc::start(Behavior::Dir(tree.path().to_owned())).await;
        let (asset, bmc) = add_bmc(&app.db, "SRV-NFF", &server.url).await;
        let p = Poller::new(app.db.clone(), quick(), None);
        assert_eq!(p.run_round().await.unwrap().len(), 1);
        let wos = dimm_work_orders(&app.db, asset).await;
        assert_eq!(wos.len(), 1, "{backend:?}: {wos:?}");
        let wo = wos[0];
        let page = format!("/workorders/{wo}");
        let nff = format!("/workorders/{wo}/no-fault");

        // Refused while the BMC still reports the DIMM failing.
        let csrf = hidden_csrf(&app.server.get(&page).await.text());
        let r = app.post_form(&nff, &csrf, &[]).await;
        assert_eq!(r.status_code(), 409, "{backend:?}");
        assert!(
            r.text().contains(t(Lang::Ko, "wo_nff.still_failing")),
            "{}",
            r.text()
        );

        // Healthy again: an entry with its time, in the reader's language and zone.
        dimm1(tree.path(), "OK");
        poll(&app, &p, bmc).await;
        let entries = rackledger::workorders::entries::list(&app.db, wo)
            .await
            .unwrap();
        assert_eq!(entries.len(), 1, "{backend:?}: {entries:?}");
        assert_eq!(entries[0].kind, "healthy_again");
        let (_, doc) = app.page(&page).await;
        let shown = text_of(&doc, "#wo-entries li");
        assert!(shown.contains(&local(entries[0].at, 9)), "{shown}");
        assert!(shown.contains("DIMM Slot 1"), "{shown}");
        assert!(shown.contains("다시 정상으로"), "{shown}");
        set_reader(&app, "en", "America/New_York").await;
        let (_, doc) = app.page(&page).await;
        let shown = text_of(&doc, "#wo-entries li");
        assert!(shown.contains(&local(entries[0].at, -5)), "{shown}");
        assert!(shown.contains("healthy again"), "{shown}");

        // Failing again while the work order is open: an entry, not a second work order.
        dimm1(tree.path(), "Critical");
        poll(&app, &p, bmc).await;
        assert_eq!(
            dimm_work_orders(&app.db, asset).await,
            vec![wo],
            "{backend:?}"
        );
        let alerts = rackledger::health::alerts::open(&app.db, Some(asset))
            .await
            .unwrap();
        let dimm = alerts
            .iter()
            .find(|a| a.component_kind == "memory")
            .unwrap();
        assert_eq!(dimm.work_order_id, Some(wo));
        let entries = rackledger::workorders::entries::list(&app.db, wo)
            .await
            .unwrap();
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, vec!["healthy_again", "failed_again"], "{backend:?}");
        let (_, doc) = app.page(&page).await;
        assert_eq!(count(&doc, "#wo-entries li"), 2);

        // Healthy again, then closed as no fault found: no swap, no RMA, audited.
        dimm1(tree.path(), "OK");
        poll(&app, &p, bmc).await;
        let csrf = hidden_csrf(&app.server.get(&page).await.text());
        let r = app.post_form(&nff, &csrf, &[]).await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let done = rackledger::workorders::get(&app.db, wo).await.unwrap();
        assert_eq!(done.status, "done");
        assert_eq!(done.outcome.as_deref(), Some("no_fault_found"));
        assert!(done.spare_unit_id.is_none() && done.removed_unit_id.is_none());
        assert_eq!(
            scalar(&app, "select count(*) from rmas where id > $1", 0).await,
            0
        );
        let audited = scalar(
            &app,
            "select count(*) from audit_log where entity = 'work_order' and entity_id = cast($1 as text) and after_json like '%no_fault_found%'",
            wo,
        )
        .await;
        assert_eq!(audited, 1, "{backend:?}");
        let (_, doc) = app.page(&page).await;
        assert_eq!(text_of(&doc, "#wo-outcome"), "No fault found");
        assert_eq!(
            count(&doc, "#no-fault"),
            0,
            "a done work order offers no close"
        );

        // Sent again (a second tab): refused in the reader's language, nothing changes.
        let r = app.post_form(&nff, &csrf, &[]).await;
        assert_eq!(r.status_code(), 409, "{}", r.text());
        app.finish().await;
    }
}
