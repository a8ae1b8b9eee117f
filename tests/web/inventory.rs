//! Units, stock levels and the search box.

use rackledger::on;
use serde_json::Value;

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

#[tokio::test]
async fn units_are_found_by_serial_prefix_and_an_exact_serial_opens_its_history() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("tech", "rackledger-tech").await;
        // Demo DIMMs are S4EMNX0W000001 … S4EMNX0W000032.
        let (status, doc) = app.page("/inventory/units?q=S4EMNX0W00001").await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(count(&doc, "#units tbody tr"), 10, "000010 to 000019");
        let (_, doc) = app.page("/inventory/units?q=S4EMNX0W").await;
        assert_eq!(count(&doc, "#units tbody tr"), 32);
        let (_, doc) = app
            .page("/inventory/units?q=S4EMNX0W000005&status=faulty")
            .await;
        assert_eq!(count(&doc, "#units tbody tr"), 0, "status filter applies");

        let r = app.server.get("/search?q=S4EMNX0W000005").await;
        assert_eq!(
            r.status_code(),
            303,
            "one exact serial goes straight to the unit"
        );
        let unit_page = r.header("location").to_str().unwrap().to_owned();
        let (_, doc) = app.page(&unit_page).await;
        assert_eq!(text_of(&doc, "#serial"), "S4EMNX0W000005");
        assert!(
            text_of(&doc, "#po").starts_with("PO-"),
            "the unit names its order"
        );
        assert_eq!(
            count(&doc, "#movements tbody tr"),
            1,
            "one receipt movement"
        );
        assert_eq!(count(&doc, "#cost"), 0, "technicians see no landed cost");

        let (_, doc) = app.page("/search?q=MCX631432AN").await;
        assert_eq!(
            count(&doc, "#part-results li"),
            1,
            "MPN search finds the part model"
        );

        let api: Value = app.server.get("/api/v1/units?q=S4EMNX0W00003").await.json();
        assert_eq!(api["total"], 3, "000030 to 000032");
        assert!(api["items"][0].get("landed_cost").is_none());
        app.login("buyer", "rackledger-buyer").await;
        let api: Value = app
            .server
            .get("/api/v1/units?q=S4EMNX0W000001")
            .await
            .json();
        assert_eq!(
            api["items"][0]["serial"], "S4EMNX0W000001",
            "exact match first"
        );
        assert!(api["items"][0]["landed_cost"]["amount"].is_string());
        app.finish().await;
    }
}

#[tokio::test]
async fn stock_on_hand_is_the_sum_of_movements_and_matches_the_units() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("guest", "rackledger-guest").await;
        let levels: Vec<Value> = app.server.get("/api/v1/stock").await.json();
        assert!(!levels.is_empty(), "{backend:?}");
        for level in &levels {
            let (part, location) = (
                level["part_model_id"].as_i64().unwrap(),
                level["location_id"].as_i64().unwrap(),
            );
            let in_stock: i64 = on!(&app.db, |p| {
                sqlx::query_scalar(
                    "select count(*) from units u join part_models m on m.id = u.part_model_id
                     where u.part_model_id = $1 and u.location_id = $2 and u.status = 'in_stock' and m.serial_tracked = $3",
                )
                .bind(part)
                .bind(location)
                .bind(true)
                .fetch_one(p)
                .await
            })
            .unwrap();
            if in_stock > 0 {
                assert_eq!(level["quantity"].as_i64().unwrap(), in_stock, "{level}");
            }
        }
        let dimms = levels
            .iter()
            .find(|l| l["mpn"] == "M321R4GA3BB6-CQK")
            .expect("demo DIMMs in stock");
        assert_eq!(dimms["quantity"], 32);
        let (_, doc) = app.page("/inventory/stock?category=memory").await;
        assert_eq!(count(&doc, "#stock tbody tr"), 1);
        assert!(text_of(&doc, "#stock tbody").contains("32"));
        app.finish().await;
    }
}

#[tokio::test]
async fn parts_below_their_site_minimum_are_listed_with_the_supplier_to_reorder_from() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        let (_, doc) = app.page("/inventory/reorder").await;
        assert!(
            !text_of(&doc, "#nothing-below").is_empty(),
            "{backend:?}: no rules, nothing to reorder"
        );
        let part = on!(&app.db, |p| sqlx::query_scalar::<_, i64>(
            "select id from part_models where mpn = 'M321R4GA3BB6-CQK'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let warehouse = on!(&app.db, |p| sqlx::query_scalar::<_, i64>(
            "select id from stock_locations where parent_id is null"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let (part, warehouse) = (part.to_string(), warehouse.to_string());
        let bad = app
            .post_form(
                "/inventory/reorder",
                &csrf,
                &[
                    ("part_model_id", &part),
                    ("location_id", &warehouse),
                    ("min_quantity", "lots"),
                ],
            )
            .await;
        assert_eq!(bad.status_code(), 422);
        // 32 DIMMs sit in a cabinet inside the warehouse; keep 40 at the warehouse.
        let ok = app
            .post_form(
                "/inventory/reorder",
                &csrf,
                &[
                    ("part_model_id", &part),
                    ("location_id", &warehouse),
                    ("min_quantity", "40"),
                ],
            )
            .await;
        assert_eq!(ok.status_code(), 303);
        let (_, doc) = app.page("/inventory/reorder").await;
        assert_eq!(count(&doc, "#reorder tbody tr"), 1);
        let row = text_of(&doc, "#reorder tbody tr");
        assert!(
            row.contains("32") && row.contains('8') && row.contains("Kingston"),
            "{row}"
        );
        assert!(!row.contains('$'), "technicians see no price");
        app.login("buyer", "rackledger-buyer").await;
        let (_, doc) = app.page("/inventory/reorder").await;
        assert!(
            text_of(&doc, "#reorder tbody tr").contains("$118.50"),
            "the latest order's price"
        );
        // Reserved units are on the shelf but not usable stock.
        let t = rackledger::inventory::templates::create(
            &app.db,
            &rackledger::audit::Actor::system("test"),
            &rackledger::inventory::templates::TemplateInput {
                name: "four dimms".into(),
                asset_kind: "server".into(),
                height_u: "1".into(),
                nameplate_watts: "100".into(),
                slots: "DIMM A1-A4: M321R4GA3BB6-CQK".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let input = rackledger::inventory::assembly::AssemblyInput {
            template_id: t,
            asset_tag: "RSV-1".into(),
            hostname: None,
        };
        rackledger::inventory::assembly::start(
            &app.db,
            &rackledger::audit::Actor::system("test"),
            &input,
        )
        .await
        .unwrap();
        let (_, doc) = app.page("/inventory/reorder").await;
        assert!(
            text_of(&doc, "#reorder tbody tr").contains("28"),
            "32 on the shelf, 4 reserved"
        );
        // A minimum met is not listed.
        let csrf = app.login("buyer", "rackledger-buyer").await;
        app.post_form(
            "/inventory/reorder",
            &csrf,
            &[
                ("part_model_id", &part),
                ("location_id", &warehouse),
                ("min_quantity", "28"),
            ],
        )
        .await;
        let (_, doc) = app.page("/inventory/reorder").await;
        assert_eq!(count(&doc, "#reorder tbody tr"), 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn warranty_runs_from_receipt_for_the_lines_or_the_suppliers_months() {
    use rackledger::audit::Actor;
    use rackledger::money::Currency;
    use rackledger::procurement::orders::{self, LineInput, PoInput};
    use rackledger::procurement::receiving::{self, ReceiptInput, ReceiveLine};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let actor = Actor::system("test");
        let id = |sql: &'static str| {
            let db = db.clone();
            async move {
                on!(&db, |p| sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(p)
                    .await)
                .unwrap()
            }
        };
        let supplier = id("select id from suppliers where name like 'Mellanox%'").await;
        let nic = id("select id from part_models where mpn = 'MCX631432AN-ADAB'").await;
        let term = rackledger::inventory::warranty::TermInput {
            supplier_id: supplier,
            part_model_id: nic,
            months: "2".into(),
        };
        rackledger::inventory::warranty::set_term(&db, &actor, &term)
            .await
            .unwrap();
        let po = orders::create_po(
            &db,
            &actor,
            Currency::KRW,
            &PoInput {
                supplier_id: supplier,
                fx_rate: Some("1385".into()),
                ..PoInput::default()
            },
        )
        .await
        .unwrap();
        let short = LineInput {
            part_model_id: nic,
            quantity: "1".into(),
            unit_price: "312".into(),
            unit_weight_g: None,
            warranty_months: None,
        };
        let long = LineInput {
            warranty_months: Some("36".into()),
            ..short.clone()
        };
        let l1 = orders::add_line(&db, &actor, po, &short).await.unwrap();
        let l2 = orders::add_line(&db, &actor, po, &long).await.unwrap();
        orders::transition(&db, &actor, po, "ordered")
            .await
            .unwrap();
        let location = id("select min(id) from stock_locations").await;
        let lines = vec![
            ReceiveLine {
                po_line_id: l1,
                quantity: 0,
                serials: vec!["W-SHORT".into()],
            },
            ReceiveLine {
                po_line_id: l2,
                quantity: 0,
                serials: vec!["W-LONG".into()],
            },
        ];
        receiving::receive(
            &db,
            &actor,
            Currency::KRW,
            po,
            &ReceiptInput {
                location_id: location,
                lines,
                ..ReceiptInput::default()
            },
        )
        .await
        .unwrap();
        let today = rackledger::clock::now().date();
        let end = |serial: &'static str| {
            let db = db.clone();
            async move {
                on!(&db, |p| sqlx::query_scalar::<_, Option<time::Date>>(
                    "select warranty_end from units where serial = $1"
                )
                .bind(serial)
                .fetch_one(p)
                .await)
                .unwrap()
            }
        };
        assert_eq!(
            end("W-SHORT").await,
            rackledger::inventory::warranty::add_months(today, 2),
            "{backend:?}: the supplier's term"
        );
        assert_eq!(
            end("W-LONG").await,
            rackledger::inventory::warranty::add_months(today, 36),
            "the line's override"
        );
        assert_eq!(
            end("S4EMNX0W000001").await,
            None,
            "no term, no warranty recorded"
        );

        app.login("tech", "rackledger-tech").await;
        let (_, doc) = app.page("/inventory/warranty").await;
        let ending = text_of(&doc, "#ending");
        assert!(
            ending.contains("W-SHORT") && !ending.contains("W-LONG"),
            "{ending}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_full_demo_loads_on_every_engine() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&app.db).await.unwrap();
        let count_of = |sql: &'static str| {
            let db = app.db.clone();
            async move {
                on!(&db, |p| sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(p)
                    .await)
                .unwrap()
            }
        };
        assert!(
            count_of("select count(*) from units").await > 200,
            "{backend:?}: a few hundred units"
        );
        assert_eq!(
            count_of("select count(*) from assets").await,
            3,
            "two servers and a switch"
        );
        assert_eq!(
            count_of("select count(*) from assembly_orders where status = 'open'").await,
            1
        );
        assert_eq!(
            count_of("select count(*) from rmas where status = 'shipped'").await,
            1
        );
        assert_eq!(
            count_of("select count(*) from racks").await,
            12,
            "a dozen racks"
        );
        assert_eq!(count_of("select count(*) from sites").await, 2);
        assert_eq!(
            count_of("select count(*) from placements").await,
            3,
            "the built servers and their switch are racked"
        );
        assert_eq!(
            count_of("select count(*) from cables").await,
            2,
            "each server is cabled to the switch"
        );
        assert_eq!(
            count_of("select count(*) from work_orders where status = 'open'").await,
            1
        );
        assert_eq!(
            count_of("select count(*) from stock_locations where site_id is not null").await,
            2,
            "a warehouse per site"
        );
        app.login("boss", "rackledger-boss").await;
        let (_, doc) = app.page("/inventory/reorder").await;
        assert_eq!(
            count(&doc, "#reorder tbody tr"),
            1,
            "DIMMs are below the demo minimum"
        );
        let (status, _) = app.page("/inventory/assets").await;
        assert_eq!(status, 200);
        app.finish().await;
    }
}

#[tokio::test]
async fn every_units_place_agrees_with_its_movements() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&app.db).await.unwrap();
        let units = assert_every_unit_is_where_its_movements_say(&app.db, backend).await;
        assert!(units > 200, "{backend:?}");
        app.finish().await;
    }
}

/// Per unit and location, moved in minus moved out: a unit in stock, reserved
/// or faulty on a shelf nets 1 at its recorded location and 0 elsewhere; a unit
/// installed, at RMA or scrapped nets 0 everywhere. Returns the rows checked.
pub(crate) async fn assert_every_unit_is_where_its_movements_say(
    db: &rackledger::db::Db,
    backend: crate::support::Backend,
) -> usize {
    let rows: Vec<(i64, String, Option<i64>, i64, i64)> = on!(db, |p| {
        sqlx::query_as(
            "select u.id, u.status, u.location_id, l.id,
                    cast(coalesce((select sum(case when m.to_location_id = l.id then m.quantity else 0 end)
                                        - sum(case when m.from_location_id = l.id then m.quantity else 0 end)
                                   from stock_movements m where m.unit_id = u.id), 0) as bigint)
             from units u cross join stock_locations l",
        )
        .fetch_all(p)
        .await
    })
    .unwrap();
    let checked = rows.len();
    for (unit, status, location, place, net) in rows {
        let expected = i64::from(
            matches!(status.as_str(), "in_stock" | "reserved" | "faulty")
                && location == Some(place),
        );
        assert_eq!(
            net, expected,
            "{backend:?}: unit {unit} ({status}) at location {place}"
        );
    }
    checked
}
