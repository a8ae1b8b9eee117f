//! Audits of racks and stock locations by scanning: what is missing,
//! unexpected or unknown; fixing the records; opening work orders.

use rackledger::audit::Actor;
use rackledger::datacenter::placement::{self, PlaceInput};
use rackledger::datacenter::racks::{self, RackInput};
use rackledger::db::Db;
use rackledger::inventory::assembly::{self, AssemblyInput};
use rackledger::inventory::templates::{self, TemplateInput};
use rackledger::on;
use rackledger::stocktake::{self, ScanResult, StartInput};

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

fn actor() -> Actor {
    Actor::system("test")
}

async fn rack(db: &Db, name: &str) -> i64 {
    racks::create(
        db,
        &actor(),
        &RackInput {
            site: "Seoul DC1".into(),
            room: "Hall 1".into(),
            row: "Row A".into(),
            name: name.into(),
            height_u: Some("42".into()),
            power_budget_kw: None,
            numbering: None,
        },
    )
    .await
    .unwrap()
}

async fn placed_servers(db: &Db, placements: &[(&str, i64, i64)]) -> Vec<i64> {
    let t = templates::create(
        db,
        &actor(),
        &TemplateInput {
            name: "1U".into(),
            asset_kind: "server".into(),
            height_u: "1".into(),
            nameplate_watts: "300".into(),
            slots: "BOOT1: SEDC600M/960G".into(),
            ..TemplateInput::default()
        },
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    for (tag, rack, u) in placements {
        let order = assembly::start(
            db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: (*tag).into(),
                hostname: Some(format!("{}.dc1", tag.to_lowercase())),
            },
        )
        .await
        .unwrap();
        let asset = assembly::complete(db, &actor(), order).await.unwrap();
        let at = PlaceInput {
            rack_id: *rack,
            u_position: u.to_string(),
            face: "front".into(),
            depth: "full".into(),
        };
        placement::place(db, &actor(), asset, &at).await.unwrap();
        out.push(asset);
    }
    out
}

#[tokio::test]
async fn a_rack_audit_lists_missing_unexpected_and_unknown_and_opens_work_orders() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let a01 = rack(&db, "A01").await;
        let a02 = rack(&db, "A02").await;
        placed_servers(
            &db,
            &[
                ("SRV-1", a01, 1),
                ("SRV-2", a01, 2),
                ("SRV-3", a01, 3),
                ("SRV-9", a02, 5),
            ],
        )
        .await;
        let csrf = app.login("tech", "rackledger-tech").await;
        app.post_form("/lang", &csrf, &[("lang", "en"), ("next", "/")])
            .await;
        let a01s = a01.to_string();
        let r = app
            .post_form("/datacenter/audits", &csrf, &[("rack_id", &a01s)])
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let page = r.header("location").to_str().unwrap().to_owned();
        let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
        // A scanner types the code and Enter: tag, hostname, case ignored.
        let mut last = Vec::new();
        for code in ["SRV-1", "srv-2.dc1", "SRV-9", "NOPE-42", "srv-1"] {
            let r = app
                .post_form(&format!("{page}/scan"), &csrf, &[("code", code)])
                .await;
            assert_eq!(r.status_code(), 303, "{backend:?}");
            let to = r.header("location").to_str().unwrap().to_owned();
            let (_, doc) = app.page(&to).await;
            last.push(text_of(&doc, "#last-scan"));
        }
        assert!(last[0].contains("expected here"), "{backend:?}: {last:?}");
        assert!(last[2].contains("somewhere else"), "{backend:?}: {last:?}");
        assert!(
            last[3].contains("not in the records"),
            "{backend:?}: {last:?}"
        );
        assert!(last[4].contains("already scanned"), "{backend:?}: {last:?}");

        let r = app.post_form(&format!("{page}/finish"), &csrf, &[]).await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let (_, doc) = app.page(&page).await;
        assert_eq!(count(&doc, "tr.finding-ok"), 2, "{backend:?}");
        assert_eq!(count(&doc, "tr.finding-missing"), 1, "{backend:?}");
        assert!(text_of(&doc, "tr.finding-missing").contains("SRV-3"));
        assert!(
            text_of(&doc, "tr.finding-unexpected").contains("A02 / U5"),
            "{backend:?}: says where the records put SRV-9"
        );
        assert!(text_of(&doc, "tr.finding-unknown").contains("NOPE-42"));
        // Scanning after the end is refused.
        let r = app
            .post_form(&format!("{page}/scan"), &csrf, &[("code", "SRV-3")])
            .await;
        assert_eq!(r.status_code(), 409, "{backend:?}");

        // The missing server becomes a work order, once.
        let findings = stocktake::findings(&db, id).await.unwrap();
        let missing = findings.iter().find(|f| f.finding == "missing").unwrap();
        let path = format!("{page}/findings/{}/workorder", missing.id);
        let r = app.post_form(&path, &csrf, &[]).await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let wo: i64 = on!(&db, |p| sqlx::query_scalar::<_, i64>(
            "select work_order_id from stocktake_findings where id = $1"
        )
        .bind(missing.id)
        .fetch_one(p)
        .await)
        .unwrap();
        let wo = rackledger::workorders::get(&db, wo).await.unwrap();
        assert_eq!(wo.source, "audit");
        assert_eq!(wo.asset_tag.as_deref(), Some("SRV-3"));
        assert!(wo.title.contains("A01"), "{backend:?}: {}", wo.title);
        assert_eq!(app.post_form(&path, &csrf, &[]).await.status_code(), 409);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_shelf_audit_moves_a_found_unit_in_the_ledger() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        // Two demo units on the demo cabinet; the audit is of a new shelf.
        let shelf = rackledger::inventory::locations::create(
            &db,
            &actor(),
            &rackledger::inventory::locations::LocationInput {
                name: "Shelf 9".into(),
                kind: "shelf".into(),
                parent_id: None,
                site_id: None,
            },
        )
        .await
        .unwrap();
        let serials: Vec<(i64, String)> = on!(&db, |p| sqlx::query_as(
            "select id, serial from units where status = 'in_stock' order by id limit 2"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        let input = StartInput {
            location_id: shelf.to_string(),
            ..StartInput::default()
        };
        let take = stocktake::start(&db, &actor(), &input).await.unwrap();
        assert_eq!(
            stocktake::scan(&db, take, &serials[0].1).await.unwrap(),
            ScanResult::Elsewhere
        );
        let counts = stocktake::finish(&db, &actor(), take).await.unwrap();
        assert_eq!(counts, [0, 0, 1, 0], "{backend:?}");
        let f = stocktake::findings(&db, take).await.unwrap().remove(0);
        let moves_before: i64 = on!(&db, |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from stock_movements where unit_id = $1"
        )
        .bind(serials[0].0)
        .fetch_one(p)
        .await)
        .unwrap();
        stocktake::fix(&db, &actor(), take, f.id).await.unwrap();
        let (loc, moves): (Option<i64>, i64) = on!(&db, |p| sqlx::query_as(
            "select location_id, (select count(*) from stock_movements m where m.unit_id = u.id) from units u where id = $1"
        )
        .bind(serials[0].0)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(loc, Some(shelf), "{backend:?}");
        assert_eq!(moves, moves_before + 1, "{backend:?}: one ledger movement");
        // A second audit of the shelf now expects it, and misses nothing else.
        let take = stocktake::start(&db, &actor(), &input).await.unwrap();
        stocktake::scan(&db, take, &serials[0].1).await.unwrap();
        assert_eq!(
            stocktake::finish(&db, &actor(), take).await.unwrap(),
            [1, 0, 0, 0]
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_servers_own_serial_scanned_in_any_case_counts_in_a_rack_audit() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let a01 = rack(&db, "A01").await;
        let a02 = rack(&db, "A02").await;
        let assets = placed_servers(&db, &[("SRV-1", a01, 1), ("SRV-2", a02, 1)]).await;
        // Imported servers keep their chassis serial on the asset.
        for (asset, serial) in assets.iter().zip(["CHS77AB", "CHS88CD"]) {
            on!(&db, |p| sqlx::query(
                "update assets set serial = $1 where id = $2"
            )
            .bind(serial)
            .bind(asset)
            .execute(p)
            .await
            .map(|_| ()))
            .unwrap();
        }
        let take = stocktake::start(
            &db,
            &actor(),
            &StartInput {
                rack_id: a01.to_string(),
                location_id: String::new(),
            },
        )
        .await
        .unwrap();
        assert_eq!(
            stocktake::scan(&db, take, "chs77ab").await.unwrap(),
            ScanResult::Expected,
            "{backend:?}: the serial on the chassis label, in lower case"
        );
        assert_eq!(
            stocktake::scan(&db, take, "Chs88cd").await.unwrap(),
            ScanResult::Elsewhere,
            "{backend:?}: another rack's server, by its serial"
        );
        let [ok, missing, unexpected, unknown] =
            stocktake::finish(&db, &actor(), take).await.unwrap();
        assert_eq!(
            (ok, missing, unexpected, unknown),
            (1, 0, 1, 0),
            "{backend:?}"
        );
        app.finish().await;
    }
}
