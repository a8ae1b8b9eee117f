//! Work orders opened by health alerts: a title that names the part once,
//! in the reader's language, and a due date from the alert's severity.

use rackledger::db::Db;
use rackledger::health::HealthConfig;
use rackledger::i18n::Lang;
use rackledger::workorders;
use time::Duration;

use crate::app::{TestApp, add_asset};
use crate::support::backends;

async fn alert(db: &Db, asset: i64, kind: &str, slot: &str, severity: &str) {
    let now = rackledger::clock::now();
    let key = format!("{kind}:{slot}");
    rackledger::exec!(db, |p| sqlx::query(
        "insert into health_alerts (asset_id, dedup_key, component_kind, component, slot, severity,
         opened_at, last_seen_at, open_key, created_at, updated_at)
         values ($1, $2, $3, $4, $4, $5, $6, $6, $2, $6, $6)"
    )
    .bind(asset)
    .bind(&key)
    .bind(kind)
    .bind(slot)
    .bind(severity)
    .bind(now)
    .execute(p)
    .await)
    .unwrap();
}

#[tokio::test]
async fn an_alert_work_order_names_the_part_once_and_is_due_by_its_severity() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let srv = add_asset(&db, "SRV-01").await;
        alert(&db, srv, "memory", "DIMM A5", "critical").await;
        alert(&db, srv, "drive", "Bay 2", "warning").await;
        let now = rackledger::clock::now();
        workorders::alerts::open_for_alerts(&db, Lang::En)
            .await
            .unwrap();
        let all = workorders::Filter {
            status: "all".into(),
            ..workorders::Filter::default()
        };
        let (rows, _) = workorders::list(&db, &all, 10, 0).await.unwrap();
        let find = |slot: &str| {
            rows.iter()
                .find(|w| w.title.contains(slot))
                .unwrap_or_else(|| panic!("{backend:?}: no work order for {slot}: {rows:?}"))
                .clone()
        };
        let dimm = find("DIMM A5");
        assert_eq!(
            dimm.title, "DIMM A5 failed on SRV-01 (critical)",
            "{backend:?}"
        );
        assert_eq!(dimm.due_date, Some((now + Duration::hours(4)).date()));
        let drive = find("Bay 2");
        assert_eq!(
            drive.title, "Drive Bay 2 failed on SRV-01 (warning)",
            "{backend:?}"
        );
        assert_eq!(drive.due_date, Some((now + Duration::days(3)).date()));
        // Stored as a message: a Korean reader reads it in Korean.
        let ko = dimm.localized(Lang::Ko).title;
        assert_eq!(ko, "SRV-01의 DIMM A5 장애 (심각)", "{backend:?}");

        // The hours come from the configuration.
        alert(&db, srv, "fan", "Fan 3", "critical").await;
        let cfg = HealthConfig {
            alert_due_critical_hours: 24 * 10,
            ..HealthConfig::default()
        };
        workorders::alerts::open_for_alerts_due(&db, Lang::En, &cfg)
            .await
            .unwrap();
        let (rows, _) = workorders::list(&db, &all, 10, 0).await.unwrap();
        let fan = rows
            .iter()
            .find(|w| w.title.contains("Fan 3"))
            .expect("fan work order");
        assert_eq!(fan.title, "Fan 3 failed on SRV-01 (critical)");
        assert_eq!(
            fan.due_date,
            Some((rackledger::clock::now() + Duration::days(10)).date())
        );
        app.finish().await;
    }
}
