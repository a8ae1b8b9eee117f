//! Alerts over episodes, the work-order hooks, readings retention and key rotation.

use rackledger::health::redfish::Snapshot;
use rackledger::health::redfish::model::Dimm;
use rackledger::health::{alerts, history, store};
use rackledger::on;
use time::Duration;

use crate::poller::{add_asset, add_bmc};
use crate::support::{TestDb, backends};

fn snap(health: &str) -> Snapshot {
    Snapshot {
        health: Some("OK".into()),
        memory: vec![
            Dimm {
                slot: "A1".into(),
                serial: Some("S-A1".into()),
                part_number: Some("M393A4K40".into()),
                health: Some(health.into()),
                ..Dimm::default()
            },
            Dimm {
                slot: "A2".into(),
                serial: Some("S-A2".into()),
                health: Some("OK".into()),
                ..Dimm::default()
            },
        ],
        ..Snapshot::default()
    }
}

#[tokio::test]
async fn an_alert_opens_once_per_episode_escalates_in_place_and_a_new_failure_is_a_new_episode() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let (asset, bmc) = add_bmc(&t.db, "SRV", "http://127.0.0.1:9").await;
        let mut at = rackledger::clock::now();
        let mut record = async |s: &Snapshot| {
            at += Duration::minutes(2);
            store::record_success(&t.db, bmc, asset, s, at, at + Duration::minutes(2))
                .await
                .unwrap()
        };
        assert_eq!(record(&snap("Warning")).await.len(), 1, "{backend:?}");
        assert!(record(&snap("Warning")).await.is_empty(), "same episode");
        assert!(
            record(&snap("Critical")).await.is_empty(),
            "escalated in place"
        );
        let open = alerts::open(&t.db, Some(asset)).await.unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(
            (
                open[0].severity.as_str(),
                open[0].slot.as_deref(),
                open[0].serial.as_deref()
            ),
            ("critical", Some("A1"), Some("S-A1"))
        );
        assert_eq!(open[0].model.as_deref(), Some("M393A4K40"));

        // The hook for work orders: one alert without one; linking it twice fails the second time.
        let todo = alerts::without_work_order(&t.db).await.unwrap();
        assert_eq!(todo.len(), 1);
        let mut tx = t.db.begin().await.unwrap();
        assert!(
            alerts::set_work_order(&mut tx, todo[0].id, 77)
                .await
                .unwrap()
        );
        assert!(
            !alerts::set_work_order(&mut tx, todo[0].id, 78)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        assert!(alerts::without_work_order(&t.db).await.unwrap().is_empty());

        assert!(record(&snap("OK")).await.is_empty());
        assert!(
            alerts::open(&t.db, Some(asset)).await.unwrap().is_empty(),
            "resolved"
        );
        assert_eq!(record(&snap("Critical")).await.len(), 1, "a new episode");
        let total: i64 = on!(&t.db, |p| sqlx::query_scalar(
            "select count(*) from health_alerts"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(total, 2);
        let events = store::events(&t.db, asset, 50).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.component == "memory:A1" && e.to_value.as_deref() == Some("Critical"))
        );
        t.drop_db().await;
    }
}

#[tokio::test]
async fn old_readings_become_hourly_averages_and_very_old_ones_go() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let asset = add_asset(&t.db, "SRV").await;
        let now = rackledger::clock::now()
            .replace_minute(30)
            .unwrap()
            .replace_second(0)
            .unwrap();
        let old_hour = (now - Duration::days(10)).replace_minute(0).unwrap();
        let mut tx = t.db.begin().await.unwrap();
        // Three samples in one hour ten days ago, one in the next hour, one recent, one ancient.
        for (m, w, c) in [(5, 300, 20.0), (25, 400, 22.0), (45, 500, 24.0)] {
            history::insert_raw(
                &mut tx,
                asset,
                old_hour + Duration::minutes(m),
                Some(w),
                Some(c),
                Some(c + 30.0),
            )
            .await
            .unwrap();
        }
        history::insert_raw(
            &mut tx,
            asset,
            old_hour + Duration::minutes(65),
            Some(100),
            None,
            Some(40.0),
        )
        .await
        .unwrap();
        history::insert_raw(
            &mut tx,
            asset,
            now - Duration::hours(1),
            Some(900),
            Some(25.0),
            Some(60.0),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let c = history::compact(&t.db, now, 7, 30).await.unwrap();
        assert_eq!(
            (c.raw_folded, c.hours_written, c.hours_deleted),
            (4, 2, 0),
            "{backend:?}"
        );
        let rows = history::readings(&t.db, asset, now - Duration::days(400))
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (
                rows[0].resolution.as_str(),
                rows[0].samples,
                rows[0].power_watts,
                rows[0].inlet_temp_c,
                rows[0].max_temp_c
            ),
            ("hour", 3, Some(400), Some(22.0), Some(52.0))
        );
        assert_eq!(rows[0].at, old_hour);
        assert_eq!(
            (rows[1].samples, rows[1].power_watts, rows[1].inlet_temp_c),
            (1, Some(100), None)
        );
        assert_eq!(rows[2].resolution, "raw", "recent samples stay raw");
        // Compacting again changes nothing; past the hourly retention the hours go.
        assert_eq!(
            history::compact(&t.db, now, 7, 30)
                .await
                .unwrap()
                .raw_folded,
            0
        );
        let c = history::compact(&t.db, now + Duration::days(25), 7, 30)
            .await
            .unwrap();
        assert_eq!(c.hours_deleted, 2);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn rekey_reseals_every_password_for_the_new_key() {
    use rackledger::health::bmc::{self, BmcInput};
    use rackledger::health::secret::MasterKey;
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let old = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let new = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let actor = rackledger::audit::Actor::system("test");
        for (i, pw) in ["alpha", "beta"].iter().enumerate() {
            let asset = add_asset(&t.db, &format!("K{i}")).await;
            let input = BmcInput {
                url: "https://10.0.0.9".into(),
                username: "root".into(),
                password: (*pw).into(),
                tls_policy: "verify".into(),
                ..BmcInput::default()
            };
            bmc::save(&t.db, Some(&old), &actor, asset, &input)
                .await
                .unwrap();
        }
        assert_eq!(
            bmc::rekey(&t.db, &old, &new).await.unwrap(),
            2,
            "{backend:?}"
        );
        assert_eq!(
            bmc::rekey(&t.db, &old, &new).await.unwrap(),
            0,
            "already done"
        );
        for (i, pw) in ["alpha", "beta"].iter().enumerate() {
            let asset: i64 = on!(&t.db, |p| sqlx::query_scalar(
                "select id from assets where asset_tag = $1"
            )
            .bind(format!("K{i}"))
            .fetch_one(p)
            .await)
            .unwrap();
            let b = bmc::for_asset(&t.db, asset).await.unwrap().unwrap();
            assert_eq!(
                bmc::credentials(&t.db, Some(&new), &b)
                    .await
                    .unwrap()
                    .unwrap()
                    .password
                    .as_str(),
                *pw
            );
            assert!(bmc::credentials(&t.db, Some(&old), &b).await.is_err());
        }
        t.drop_db().await;
    }
}
