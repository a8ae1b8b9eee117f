//! The poller against fake BMCs: faults are isolated, results are stored,
//! alerts open once per episode, failing BMCs back off, and two pollers
//! sharing a database never poll a BMC twice.

use std::collections::HashSet;
use std::sync::Arc;

use rackledger::audit::Actor;
use rackledger::db::Db;
use rackledger::health::HealthConfig;
use rackledger::health::bmc::{self, BmcInput};
use rackledger::health::poller::{self, Poller};
use rackledger::on;

use crate::fake::{Behavior, FakeBmc};
use crate::support::{TestDb, backends};

pub use crate::app::add_asset;

pub async fn add_bmc(db: &Db, tag: &str, url: &str) -> (i64, i64) {
    let asset = add_asset(db, tag).await;
    (asset, add_bmc_to(db, asset, url).await)
}

/// Sets (or changes) the BMC of `asset`, as the asset page's form does.
pub async fn add_bmc_to(db: &Db, asset: i64, url: &str) -> i64 {
    let input = BmcInput {
        url: url.into(),
        tls_policy: "verify".into(),
        ..BmcInput::default()
    };
    bmc::save(db, None, &Actor::system("test"), asset, &input)
        .await
        .unwrap()
}

pub fn quick() -> HealthConfig {
    HealthConfig {
        request_timeout_secs: 2,
        bmc_deadline_secs: 3,
        concurrency: 8,
        poll_interval_secs: 60,
        backoff_cap_secs: 600,
        ..HealthConfig::default()
    }
}

async fn scalar_i64(db: &Db, sql: &'static str, id: i64) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(sql)
        .bind(id)
        .fetch_one(p)
        .await)
    .unwrap()
}

#[tokio::test]
async fn one_hanging_lying_or_broken_bmc_never_holds_up_the_healthy_one() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let healthy = FakeBmc::start(Behavior::Mockup("XL675d_A100", None)).await;
        let faults = [
            (Behavior::Hang, "timed out"),
            (Behavior::Error500, "HTTP 500"),
            (Behavior::Malformed, "malformed JSON"),
            (Behavior::Huge, "larger than"),
            (Behavior::HugeDeclared, "larger than"),
            (Behavior::Redirect, "127.0.0.2"),
        ];
        let (good_asset, good) = add_bmc(&t.db, "GOOD", &healthy.url).await;
        let mut bad = Vec::new();
        let mut servers = Vec::new();
        for (i, (b, reason)) in faults.iter().enumerate() {
            let s = FakeBmc::start(b.clone()).await;
            let (_, id) = add_bmc(&t.db, &format!("BAD{i}"), &s.url).await;
            bad.push((id, *reason));
            servers.push(s);
        }
        let p = Poller::new(t.db.clone(), quick(), None);
        let out = p.run_round().await.unwrap();
        assert_eq!(out.len(), 7, "{backend:?}");
        let ok = out.iter().find(|o| o.bmc_id == good).unwrap();
        assert!(ok.error.is_none(), "{:?}", ok.error);
        for (id, reason) in &bad {
            let o = out.iter().find(|o| o.bmc_id == *id).unwrap();
            let e = o.error.as_deref().unwrap_or_default();
            assert!(
                e.contains(reason),
                "{backend:?} BMC {id}: {e:?} should say {reason:?}"
            );
            let b = bmc::get(&t.db, *id).await.unwrap();
            assert_eq!(b.consecutive_failures, 1);
            assert!(b.failing_since.is_some() && b.last_error.as_deref() == Some(e));
        }
        let hang = out.iter().find(|o| o.bmc_id == bad[0].0).unwrap();
        assert!(
            ok.finished < hang.finished,
            "the healthy BMC was stored before the hanging one gave up"
        );
        assert_eq!(
            healthy.root_hits.load(std::sync::atomic::Ordering::SeqCst),
            1
        );

        // Stored: latest state, a reading, alerts (the offline drive is critical;
        // the two empty PSU bays, Warning but Absent, have nothing to replace).
        let summary = rackledger::health::latest_for_assets(&t.db, &[good_asset])
            .await
            .unwrap();
        assert_eq!(summary[&good_asset].worst, "critical");
        assert_eq!(summary[&good_asset].power_watts, Some(894));
        let alerts = rackledger::health::alerts::open(&t.db, Some(good_asset))
            .await
            .unwrap();
        assert_eq!(ok.raised.len(), alerts.len());
        assert_eq!(
            alerts.iter().filter(|a| a.severity == "critical").count(),
            1,
            "{alerts:?}"
        );
        assert_eq!(alerts[0].component_kind, "drive", "critical first");
        assert_eq!(
            alerts.iter().filter(|a| a.component_kind == "psu").count(),
            0,
            "{alerts:?}"
        );

        // Nothing is due again right away; made due, the same problems raise no new alert.
        assert!(p.run_round().await.unwrap().is_empty());
        bmc::poll_soon(&t.db, good_asset).await.unwrap();
        let again = p.run_round().await.unwrap();
        assert_eq!(again.len(), 1);
        assert!(
            again[0].raised.is_empty(),
            "one alert per episode, not per poll"
        );
        let rows = scalar_i64(
            &t.db,
            "select count(*) from health_alerts where asset_id = $1",
            good_asset,
        )
        .await;
        assert_eq!(rows as usize, alerts.len());
        let readings = scalar_i64(
            &t.db,
            "select count(*) from health_readings where asset_id = $1",
            good_asset,
        )
        .await;
        assert_eq!(readings, 2);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_failing_bmc_waits_twice_as_long_after_each_failure() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let broken = FakeBmc::start(Behavior::Error500).await;
        let (asset, id) = add_bmc(&t.db, "BROKEN", &broken.url).await;
        let p = Poller::new(t.db.clone(), quick(), None);
        let mut waits = Vec::new();
        for _ in 0..3 {
            bmc::poll_soon(&t.db, asset).await.unwrap();
            let out = p.run_round().await.unwrap();
            assert_eq!(out.len(), 1, "{backend:?}");
            let b = bmc::get(&t.db, id).await.unwrap();
            waits.push((b.next_poll_at - b.last_polled_at.unwrap()).whole_seconds());
        }
        assert_eq!(waits, vec![60, 120, 240], "{backend:?}");
        let events = rackledger::health::store::events(&t.db, asset, 10)
            .await
            .unwrap();
        assert_eq!(
            events.iter().filter(|e| e.kind == "unreachable").count(),
            1,
            "one event per outage"
        );
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_session_token_is_used_when_the_bmc_offers_sessions() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let fake = FakeBmc::start(Behavior::Mockup("public-localstorage", Some("tok-123"))).await;
        let asset = add_asset(&t.db, "SESS").await;
        let client = rackledger::health::redfish::RedfishClient::new(
            &fake.url,
            &rackledger::health::redfish::TlsPolicy::Verify,
            Some(rackledger::health::redfish::Credentials {
                username: "root".into(),
                password: zeroize_string("pw"),
            }),
            quick().limits(),
        )
        .unwrap();
        let snap = rackledger::health::redfish::collect(Arc::new(client), Default::default())
            .await
            .unwrap();
        assert_eq!(
            snap.drives.len(),
            4,
            "every document fetched with the token (others get 401)"
        );
        let _ = asset;
        t.drop_db().await;
    }
}

fn zeroize_string(s: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(s.to_owned())
}

#[tokio::test]
async fn two_pollers_sharing_a_fleet_never_poll_a_bmc_twice() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let mut fakes = Vec::new();
        for i in 0..10 {
            let f = FakeBmc::start(Behavior::Mockup("public-localstorage", None)).await;
            add_bmc(&t.db, &format!("N{i}"), &f.url).await;
            fakes.push(f);
        }
        let cfg = HealthConfig {
            concurrency: 2,
            ..quick()
        };
        // A second connection pool stands for a second process.
        let other = rackledger::db::Db::connect(&match &t.db {
            Db::Postgres(_) => pg_url(&t.db).await,
            Db::Sqlite(p) => format!("sqlite://{}", sqlite_path(p).await),
        })
        .await
        .unwrap();
        let (a, b) = (
            Poller::new(t.db.clone(), cfg.clone(), None),
            Poller::new(other.clone(), cfg, None),
        );
        let (ra, rb) = tokio::join!(a.run_round(), b.run_round());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let ids: Vec<i64> = ra.iter().chain(rb.iter()).map(|o| o.bmc_id).collect();
        let unique: HashSet<i64> = ids.iter().copied().collect();
        assert_eq!(
            ids.len(),
            unique.len(),
            "{backend:?}: a BMC was polled twice"
        );
        assert_eq!(
            unique.len(),
            10,
            "{backend:?}: all polled (a {} + b {})",
            ra.len(),
            rb.len()
        );
        for f in &fakes {
            assert_eq!(f.root_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        }
        // Claims alone: two claimers at once get disjoint sets.
        rackledger::exec!(&t.db, |p| sqlx::query("update bmcs set next_poll_at = $1")
            .bind(rackledger::clock::now())
            .execute(p)
            .await)
        .unwrap();
        let now = rackledger::clock::now();
        let later = now + time::Duration::minutes(5);
        let (x, y) = tokio::join!(
            poller::claim(&t.db, "x", now, later, 6),
            poller::claim(&other, "y", now, later, 6)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.len() + y.len(), 10, "{backend:?}");
        assert!(x.iter().all(|i| !y.contains(i)));
        other.close().await;
        t.drop_db().await;
    }
}

async fn pg_url(db: &Db) -> String {
    let name: String = on!(db, |p| sqlx::query_scalar(
        "select current_database()::text"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    let base = std::env::var("TEST_DATABASE_URL").unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    format!("{head}/{name}")
}

async fn sqlite_path(p: &sqlx::SqlitePool) -> String {
    let rows: Vec<(i64, String, String)> = sqlx::query_as("pragma database_list")
        .fetch_all(p)
        .await
        .unwrap();
    rows.into_iter().find(|r| r.1 == "main").unwrap().2
}

#[tokio::test]
async fn one_broken_dimm_document_and_one_foreign_link_lose_only_those_members() {
    let fake = FakeBmc::start(Behavior::Lying("XL675d_A100", "Memory/proc2dimm12")).await;
    let client = rackledger::health::redfish::RedfishClient::new(
        &fake.url,
        &rackledger::health::redfish::TlsPolicy::Verify,
        None,
        quick().limits(),
    )
    .unwrap();
    let client = Arc::new(client);
    let snap = rackledger::health::redfish::collect(client.clone(), Default::default())
        .await
        .unwrap();
    // 16 populated slots: proc1dimm1 is linked off the BMC and proc2dimm12 is broken.
    assert_eq!(snap.errors.len(), 2, "{:?}", snap.errors);
    assert!(snap.errors.iter().any(|e| e.contains("127.0.0.2")));
    assert!(
        snap.errors
            .iter()
            .any(|e| e.contains("proc2dimm12") && e.contains("malformed"))
    );
    assert_eq!(snap.memory.len(), 14);
    assert_eq!(snap.cpu_count(), 2, "the rest of the walk goes on");
    assert_eq!(snap.psus.len(), 6);

    // A full read that lost members is no baseline: the next poll reads everything again.
    use rackledger::health::redfish::{Depth, collect_at};
    let hour = std::time::Duration::from_secs(3600);
    let (_, mark) = collect_at(client.clone(), Default::default(), Depth::Since(None, hour))
        .await
        .unwrap();
    assert!(mark.is_none());
    let server = FakeBmc::start(Behavior::Mockup("XL675d_A100", None)).await;
    let clean = Arc::new(
        rackledger::health::redfish::RedfishClient::new(
            &server.url,
            &rackledger::health::redfish::TlsPolicy::Verify,
            None,
            quick().limits(),
        )
        .unwrap(),
    );
    let (full, mark) = collect_at(clean.clone(), Default::default(), Depth::Since(None, hour))
        .await
        .unwrap();
    let mark = mark.expect("a clean full read is a baseline");
    let (health, again) = collect_at(clean, Default::default(), Depth::Since(Some(&mark), hour))
        .await
        .unwrap();
    assert!(again.is_none() && health.inventory_skipped);
    assert!(!full.memory.is_empty());
    assert_eq!(
        health.memory, full.memory,
        "every poll reads each DIMM's health"
    );
    assert_eq!(health.processors, full.processors);
    assert_eq!(health.drives, full.drives);
    assert_eq!(health.psus, full.psus);
}

#[tokio::test]
async fn the_poller_keeps_one_session_per_bmc_across_polls() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let fake = FakeBmc::start(Behavior::Mockup("public-localstorage", Some("tok-9"))).await;
        let asset = add_asset(&t.db, "SESS").await;
        let input = BmcInput {
            url: fake.url.clone(),
            username: "root".into(),
            tls_policy: "verify".into(),
            ..BmcInput::default()
        };
        bmc::save(
            &t.db,
            None,
            &rackledger::audit::Actor::system("test"),
            asset,
            &input,
        )
        .await
        .unwrap();
        let p = Poller::new(t.db.clone(), quick(), None);
        for _ in 0..3 {
            bmc::poll_soon(&t.db, asset).await.unwrap();
            let out = p.run_round().await.unwrap();
            assert!(out[0].error.is_none(), "{backend:?}: {:?}", out[0].error);
        }
        use std::sync::atomic::Ordering::SeqCst;
        assert_eq!(fake.root_hits.load(SeqCst), 3);
        assert_eq!(fake.logins.load(SeqCst), 1, "one session for three polls");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_bmc_that_answers_every_request_slowly_is_stopped_by_the_deadline() {
    let t = TestDb::new(crate::support::Backend::Sqlite).await;
    // Each answer comes within the 2 s request timeout, but 21 of them cannot fit in 3 s.
    let slow = FakeBmc::start(Behavior::Slow("public-localstorage", 400)).await;
    let (_, id) = add_bmc(&t.db, "SLOW", &slow.url).await;
    let out = Poller::new(t.db.clone(), quick(), None)
        .run_round()
        .await
        .unwrap();
    let e = out[0].error.as_deref().unwrap_or_default();
    assert!(e.contains("3s deadline"), "{e}");
    assert_eq!(bmc::get(&t.db, id).await.unwrap().consecutive_failures, 1);
    t.drop_db().await;
}

#[tokio::test]
async fn the_poller_thread_polls_what_is_due_records_it_and_stops_when_told() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let healthy = FakeBmc::start(Behavior::Mockup("XL675d_A100", None)).await;
        let broken = FakeBmc::start(Behavior::Error500).await;
        let mut first = 0;
        for i in 0..3 {
            let (_, id) = add_bmc(&t.db, &format!("THR{i}"), &healthy.url).await;
            first = if i == 0 { id } else { first };
        }
        let (_, bad) = add_bmc(&t.db, "THRBAD", &broken.url).await;
        let handle = poller::spawn_thread(&t.db, &t.url, quick(), None).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let done_sql = "select count(*) from bmcs where id >= $1 and last_polled_at is not null";
        // Done: all four polled, alerts raised, and each alert given its work order.
        let waiting_sql =
            "select count(*) from health_alerts where work_order_id is null and id >= $1";
        let alerts_sql = "select count(*) from health_alerts where id >= $1";
        while scalar_i64(&t.db, done_sql, first).await < 4
            || scalar_i64(&t.db, alerts_sql, 0).await == 0
            || scalar_i64(&t.db, waiting_sql, 0).await > 0
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{backend:?}: the poller thread did not poll all four BMCs and open work orders"
            );
            // The interval between looks at the database, not a wait for an outcome.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        tokio::task::spawn_blocking(move || handle.stop())
            .await
            .unwrap();
        let ok = scalar_i64(
            &t.db,
            "select count(*) from bmcs where id >= $1 and last_success_at is not null and leased_by is null",
            first,
        )
        .await;
        assert_eq!(ok, 3, "{backend:?}");
        let b = bmc::get(&t.db, bad).await.unwrap();
        assert_eq!(b.consecutive_failures, 1, "{backend:?}");
        assert!(
            b.last_error
                .as_deref()
                .unwrap_or_default()
                .contains("HTTP 500")
        );
        // Each healthy server's alerts opened once (the same per server), each with its work order.
        let open = rackledger::health::alerts::open(&t.db, None).await.unwrap();
        assert_eq!(open.len() % 3, 0, "{backend:?}: {open:?}");
        assert!(
            open.iter().all(|a| a.work_order_id.is_some()),
            "{backend:?}"
        );
        let orders = scalar_i64(
            &t.db,
            "select count(distinct work_order_id) from health_alerts where id >= $1",
            0,
        )
        .await;
        assert_eq!(orders as usize, open.len(), "{backend:?}");
        t.drop_db().await;
    }
}

/// Makes a BMC due as its schedule would: last polled one interval ago.
pub async fn due_by_schedule(db: &Db, bmc_id: i64, interval_secs: i64) {
    let now = rackledger::clock::now();
    let last = now - time::Duration::seconds(interval_secs + 1);
    let next = now - time::Duration::seconds(1);
    let n = rackledger::exec!(db, |p| sqlx::query(
        "update bmcs set last_polled_at = $1, next_poll_at = $2 where id = $3"
    )
    .bind(last)
    .bind(next)
    .bind(bmc_id)
    .execute(p)
    .await)
    .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn polls_between_inventory_reads_ask_for_health_only_and_keep_the_inventory() {
    use std::sync::atomic::Ordering::SeqCst;
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let tree = tempfile::tempdir().unwrap();
        crate::support::copy_tree(&crate::sushy::mockup_dir("public-rackmount1"), tree.path());
        let server = FakeBmc::start(Behavior::Dir(tree.path().to_owned())).await;
        let (asset, id) = add_bmc(&t.db, "INV", &server.url).await;
        let cfg = quick();
        let interval = cfg.poll_interval_secs as i64;
        let p = Poller::new(t.db.clone(), cfg, None);
        let latest = || async {
            rackledger::health::store::latest(&t.db, asset)
                .await
                .unwrap()
                .unwrap()
        };

        // The first poll reads everything.
        let out = p.run_round().await.unwrap();
        assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
        let full = server.hits.load(SeqCst);
        let (first, first_at) = latest().await;
        assert!(
            !first.processors.is_empty()
                && !first.memory.is_empty()
                && first.bmc_firmware.is_some(),
            "{backend:?}: {first:?}"
        );

        // Due by its schedule, with the same status: health only, inventory kept.
        due_by_schedule(&t.db, id, interval).await;
        let out = p.run_round().await.unwrap();
        assert!(out.len() == 1 && out[0].error.is_none(), "{out:?}");
        let health_only = server.hits.load(SeqCst) - full;
        assert!(
            health_only > 0 && health_only < full,
            "{backend:?}: {health_only} requests against {full} for a full read"
        );
        let (second, second_at) = latest().await;
        assert!(second_at >= first_at);
        assert_eq!(second.processors, first.processors, "{backend:?}");
        assert_eq!(second.memory, first.memory);
        assert_eq!(second.drives, first.drives);
        assert_eq!(second.bmc_firmware, first.bmc_firmware);
        assert_eq!(second.temperatures, first.temperatures);
        assert_eq!(second.worst(), first.worst());
        // Nothing changed, so nothing was recorded as a change.
        let events = rackledger::health::store::events(&t.db, asset, 100)
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "{backend:?}: {events:?}");

        // The system's status moves: everything again.
        let system = tree.path().join("Systems/437XR1138R2/index.json");
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&system).unwrap()).unwrap();
        doc["Status"]["HealthRollup"] = "Critical".into();
        std::fs::write(&system, doc.to_string()).unwrap();
        due_by_schedule(&t.db, id, interval).await;
        let before = server.hits.load(SeqCst);
        assert_eq!(p.run_round().await.unwrap().len(), 1);
        assert_eq!(server.hits.load(SeqCst) - before, full, "{backend:?}");
        assert_eq!(latest().await.0.worst(), "critical");

        // "Poll now" reads everything too.
        bmc::poll_soon(&t.db, asset).await.unwrap();
        let before = server.hits.load(SeqCst);
        assert_eq!(p.run_round().await.unwrap().len(), 1);
        assert_eq!(server.hits.load(SeqCst) - before, full, "{backend:?}");
        t.drop_db().await;
    }
}
