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

/// Sets the chassis serial an asset was registered with (as the NetBox import does).
async fn set_asset_serial(db: &rackledger::db::Db, asset: i64, serial: &str) {
    on!(db, |p| sqlx::query(
        "update assets set serial = $1 where id = $2"
    )
    .bind(serial)
    .bind(asset)
    .execute(p)
    .await
    .map(|_| ()))
    .unwrap();
}

#[tokio::test]
async fn every_stored_serial_is_found_in_any_case_by_the_search_box_and_the_api() {
    use rackledger::health::redfish::model::{Dimm, Snapshot};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("tech", "rackledger-tech").await;
        // A server imported from NetBox keeps its serial on the asset.
        let imported = crate::app::add_asset(&app.db, "NB-0001").await;
        set_asset_serial(&app.db, imported, "S4NEWD000123").await;
        let r = app.server.get("/search?q=s4newd000123").await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(
            r.header("location").to_str().unwrap(),
            format!("/inventory/assets/{imported}"),
            "an asset's own serial in lower case opens the asset"
        );
        let (_, doc) = app.page("/search?q=s4NEWd").await;
        assert!(
            text_of(&doc, "#asset-results").contains("NB-0001"),
            "{backend:?}: a serial prefix in mixed case lists the asset"
        );

        // A serial only a BMC reports (a DIMM rackledger never received).
        let polled = crate::app::add_asset(&app.db, "SRV-BMC-1").await;
        let bmc = crate::app::test_bmc(&app.db, polled).await;
        let snap = Snapshot {
            system_serial: Some("SYS7Q00X".into()),
            memory: vec![Dimm {
                slot: "DIMM B3".into(),
                serial: Some("M0DimmXYZ9".into()),
                ..Dimm::default()
            }],
            ..Snapshot::default()
        };
        let now = rackledger::clock::now();
        rackledger::health::store::record_success(&app.db, bmc, polled, &snap, now, now)
            .await
            .unwrap();
        let (_, doc) = app.page("/search?q=m0dimmxyz9").await;
        let reported = text_of(&doc, "#reported-results");
        assert!(
            reported.contains("SRV-BMC-1") && reported.contains("DIMM B3"),
            "{backend:?}: {reported:?}"
        );
        let api: Value = app.server.get("/api/v1/search?q=sys7q").await.json();
        assert_eq!(api["reported"][0]["asset_tag"], "SRV-BMC-1", "{api}");
        assert_eq!(api["reported"][0]["kind"], "system");
        let api: Value = app.server.get("/api/v1/search?q=S4NEWD000123").await.json();
        assert_eq!(api["assets"][0]["serial"], "S4NEWD000123", "{api}");
        let api: Value = app
            .server
            .get("/api/v1/search?q=s4emnx0w000005")
            .await
            .json();
        assert_eq!(api["units"][0]["serial"], "S4EMNX0W000005", "{api}");

        // Only ASCII letters fold, on both engines (collate "C" on PostgreSQL),
        // so a serial is found as typed and the search means the same everywhere.
        let other = crate::app::add_asset(&app.db, "NB-0002").await;
        set_asset_serial(&app.db, other, "SN-Ö1").await;
        let lowered: String = on!(&app.db, |p| sqlx::query_scalar(
            "select lower(serial) from assets where id = $1"
        )
        .bind(other)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(lowered, "sn-Ö1", "{backend:?}: lower() folds ASCII only");
        let r = app.server.get("/search?q=sn-%C3%961").await;
        assert_eq!(
            r.status_code(),
            303,
            "{backend:?}: as typed, any ASCII case"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_serial_look_ups_are_index_reads() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let mut tx = app.db.begin().await.unwrap();
        let postgres = matches!(backend, crate::support::Backend::Postgres);
        if postgres {
            // Tables this small are read whole unless told not to.
            on!(&mut tx, |c| sqlx::query("set local enable_seqscan = off")
                .execute(c)
                .await
                .map(|_| ()))
            .unwrap();
        }
        for (table, index) in [
            ("assets", "assets_lower_serial"),
            ("bmc_serials", "bmc_serials_lower_serial"),
            ("units", "units_lower_serial"),
        ] {
            let query = format!(
                "select id from {table} where lower(serial) >= 's4n' and lower(serial) < 's4o'"
            );
            let plan: String = if postgres {
                let rows: Vec<String> = on!(&mut tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(
                    format!("explain {query}")
                ))
                .fetch_all(c)
                .await)
                .unwrap();
                rows.join(" ")
            } else {
                let rows: Vec<(i64, i64, i64, String)> = on!(&mut tx, |c| sqlx::query_as(
                    sqlx::AssertSqlSafe(format!("explain query plan {query}"))
                )
                .fetch_all(c)
                .await)
                .unwrap();
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join(" ")
            };
            assert!(plan.contains(index), "{backend:?} {table}: {plan}");
        }
        tx.rollback().await.unwrap();
        app.finish().await;
    }
}

/// Saves the session user's language choice (`en` or `ko`).
async fn choose_lang(app: &TestApp, csrf: &str, lang: &str) {
    let r = app
        .post_form("/lang", csrf, &[("lang", lang), ("next", "/")])
        .await;
    assert_eq!(r.status_code(), 303);
}

/// The `_once` token of the first form on a page.
fn once_token(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(r#"input[name="_once"]"#).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_default()
        .to_owned()
}

/// A unit's id, status and location, by its exact serial.
async fn unit_by_serial(db: &rackledger::db::Db, serial: &str) -> (i64, String, Option<i64>) {
    on!(db, |p| sqlx::query_as(
        "select id, status, location_id from units where serial = $1"
    )
    .bind(serial)
    .fetch_one(p)
    .await)
    .unwrap()
}

async fn location_named(db: &rackledger::db::Db, name: &str) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(
        "select id from stock_locations where name = $1"
    )
    .bind(name)
    .fetch_one(p)
    .await)
    .unwrap()
}

async fn movement_reasons(db: &rackledger::db::Db, unit: i64) -> Vec<String> {
    on!(db, |p| sqlx::query_scalar(
        "select reason from stock_movements where unit_id = $1 order by id"
    )
    .bind(unit)
    .fetch_all(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn a_scanned_transfer_previews_every_serial_then_moves_all_or_nothing_through_the_ledger() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        choose_lang(&app, &csrf, "en").await;
        let cabinet = location_named(&app.db, "Spare cabinet A").await;
        let warehouse = location_named(&app.db, "Seoul DC1 warehouse").await;
        let to = warehouse.to_string();

        // No destination is chosen for the user.
        let (_, doc) = app.page("/inventory/transfers").await;
        assert_eq!(
            count(&doc, "#to_location_id option[selected]"),
            0,
            "{backend:?}"
        );
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", ""),
                    ("serials", "S4EMNX0W000001"),
                    ("step", "preview"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            !text_of(&doc, "#to_location_id-error").is_empty(),
            "the field is named"
        );
        assert_eq!(text_of(&doc, "#serials"), "S4EMNX0W000001", "input kept");

        // Preview: one in another case, one twice, one unknown.
        let listed = "S4EMNX0W000001\ns4emnx0w000002\nS4EMNX0W000001\nNOPE-1";
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", &to),
                    ("serials", listed),
                    ("step", "preview"),
                ],
            )
            .await;
        // A refused serial is a refusal: 422, said at the serials field.
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            text_of(&doc, "#serials-error").contains("1 serials cannot move"),
            "{}",
            text_of(&doc, "#serials-error")
        );
        assert_eq!(text_of(&doc, "#serials"), listed, "input kept");
        assert_eq!(count(&doc, "#transfer-preview tbody tr"), 4);
        assert_eq!(
            count(&doc, "#transfer-preview tr.moves"),
            2,
            "any case matches"
        );
        assert_eq!(count(&doc, "#transfer-preview tr.problem"), 1);
        assert!(text_of(&doc, "#transfer-preview tr.problem").contains("No unit has this serial"));
        assert!(text_of(&doc, "#transfer-preview").contains("Listed twice"));
        assert_eq!(
            count(&doc, "#move"),
            0,
            "no move while a serial has a problem"
        );

        // Moving anyway moves nothing, and says which serial and why.
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", &to),
                    ("serials", listed),
                    ("step", "move"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = scraper::Html::parse_document(&r.text());
        assert!(text_of(&doc, "#serials-error").contains("nothing was moved"));
        assert_eq!(text_of(&doc, "#serials"), listed, "input kept");
        assert_eq!(count(&doc, "#transfer-preview tr.problem"), 1);
        assert_eq!(
            unit_by_serial(&app.db, "S4EMNX0W000001").await.2,
            Some(cabinet)
        );

        // The same in Korean.
        choose_lang(&app, &csrf, "ko").await;
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", &to),
                    ("serials", "NOPE-1"),
                    ("step", "preview"),
                ],
            )
            .await;
        assert!(
            r.text().contains("이 시리얼의 부품이 없습니다"),
            "{backend:?}"
        );
        choose_lang(&app, &csrf, "en").await;

        // Without the unknown serial it moves; the form sent twice moves once.
        let listed = "S4EMNX0W000001\ns4emnx0w000002\nS4EMNX0W000001";
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", &to),
                    ("serials", listed),
                    ("step", "preview"),
                ],
            )
            .await;
        let doc = scraper::Html::parse_document(&r.text());
        assert_eq!(text_of(&doc, "#move"), "Move the units (2)");
        let once = once_token(&r.text());
        let fields = [
            ("to_location_id", to.as_str()),
            ("serials", listed),
            ("step", "move"),
            ("_once", once.as_str()),
        ];
        let first = app.post_form("/inventory/transfers", &csrf, &fields).await;
        let again = app.post_form("/inventory/transfers", &csrf, &fields).await;
        assert_eq!(first.status_code(), 303, "{backend:?}: {}", first.text());
        assert_eq!(again.status_code(), 303);
        let done = first.header("location").to_str().unwrap().to_owned();
        assert_eq!(again.header("location").to_str().unwrap(), done);
        for serial in ["S4EMNX0W000001", "S4EMNX0W000002"] {
            let (id, status, place) = unit_by_serial(&app.db, serial).await;
            assert_eq!((status.as_str(), place), ("in_stock", Some(warehouse)));
            assert_eq!(movement_reasons(&app.db, id).await, ["receipt", "transfer"]);
        }
        let (_, doc) = app.page(&done).await;
        assert!(text_of(&doc, "#moved").contains("Seoul DC1 warehouse"));
        let (_, doc) = app
            .page(&format!(
                "/inventory/units/{}",
                unit_by_serial(&app.db, "S4EMNX0W000001").await.0
            ))
            .await;
        assert!(text_of(&doc, "#movements").contains("Moved to another location"));

        // Stock on hand follows: the ledger and the units agree.
        let levels: Vec<Value> = app.server.get("/api/v1/stock").await.json();
        let at = |loc: i64| {
            levels
                .iter()
                .filter(|l| l["location_id"] == loc && l["mpn"] == "M321R4GA3BB6-CQK")
                .map(|l| l["quantity"].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(at(cabinet), 30, "{backend:?}");
        assert_eq!(at(warehouse), 2, "{backend:?}");
        assert_every_unit_is_where_its_movements_say(&app.db, backend).await;

        // A serial already at the destination stays, and is said to.
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", &to),
                    ("serials", "S4EMNX0W000001"),
                    ("step", "preview"),
                ],
            )
            .await;
        let doc = scraper::Html::parse_document(&r.text());
        assert!(text_of(&doc, "#transfer-preview tr.stays").contains("Already at the destination"));

        // Who may move stock: not a guest.
        let guest = app.login("guest", "rackledger-guest").await;
        let r = app
            .post_form(
                "/inventory/transfers",
                &guest,
                &[
                    ("to_location_id", &to),
                    ("serials", "S4EMNX0W000003"),
                    ("step", "move"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 403);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_transfer_refuses_installed_units_and_giant_pastes_and_says_when_it_crosses_sites() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&app.db).await.unwrap();
        let csrf = app.login("tech", "rackledger-tech").await;
        choose_lang(&app, &csrf, "en").await;
        let busan = location_named(&app.db, "Busan DC2 warehouse").await;
        let (installed, tag): (String, String) = on!(&app.db, |p| sqlx::query_as(
            "select u.serial, a.asset_tag from units u join assets a on a.id = u.asset_id
             where u.status = 'installed' order by u.id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let spare: String = on!(&app.db, |p| sqlx::query_scalar(
            "select serial from units where status = 'in_stock' and location_id <> $1 order by id limit 1"
        )
        .bind(busan)
        .fetch_one(p)
        .await)
        .unwrap();
        let to = busan.to_string();
        let listed = format!("{spare}\n{installed}");
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", &to),
                    ("serials", &listed),
                    ("step", "preview"),
                ],
            )
            .await;
        let doc = scraper::Html::parse_document(&r.text());
        let problem = text_of(&doc, "#transfer-preview tr.problem");
        assert!(
            problem.contains(&tag),
            "{backend:?}: names the asset: {problem}"
        );
        let moves = text_of(&doc, "#transfer-preview tr.moves");
        assert!(moves.contains("another site"), "{backend:?}: {moves}");

        // A giant paste is refused whole, with the count and the cap.
        let giant: String = (0..1001).map(|i| format!("X{i:05}\n")).collect();
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", &to),
                    ("serials", &giant),
                    ("step", "preview"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        let said = text_of(&doc, "#serials-error");
        assert!(said.contains("1001") && said.contains("1000"), "{said}");
        assert_eq!(
            text_of(&doc, "#serials").lines().count(),
            1001,
            "input kept"
        );

        // The API (with a bearer token): a dry run, per-serial errors, then the move.
        let admin = app.login("admin", "rackledger-admin").await;
        let token = app
            .issue_token(&admin, app.user_id("tech").await, "scanner")
            .await;
        let body = serde_json::json!({"to_location_id": busan, "serials": [spare.to_lowercase(), installed], "dry_run": true});
        let r = app.post_bearer(&token, "/api/v1/transfers", &body).await;
        assert_eq!(r.status_code(), 200, "{}", r.text());
        let plan: Value = r.json();
        assert_eq!(
            (plan["moving"].as_i64(), plan["problems"].as_i64()),
            (Some(1), Some(1))
        );
        let body = serde_json::json!({"to_location_id": busan, "serials": [spare, installed]});
        let r = app.post_bearer(&token, "/api/v1/transfers", &body).await;
        assert_eq!(r.status_code(), 422);
        assert!(r.text().contains("serials[1]"), "{}", r.text());
        let body = serde_json::json!({"to_location_id": busan, "serials": [spare]});
        let r = app.post_bearer(&token, "/api/v1/transfers", &body).await;
        assert_eq!(r.status_code(), 200, "{}", r.text());
        assert_eq!(unit_by_serial(&app.db, &spare).await.2, Some(busan));
        assert_every_unit_is_where_its_movements_say(&app.db, backend).await;
        app.finish().await;
    }
}

#[tokio::test]
async fn a_dead_on_arrival_unit_is_marked_faulty_and_goes_back_or_is_scrapped_for_good() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        choose_lang(&app, &csrf, "en").await;
        let (doa, _, shelf) = unit_by_serial(&app.db, "S4EMNX0W000010").await;
        let (_, doc) = app.page(&format!("/inventory/units/{doa}")).await;
        assert_eq!(count(&doc, "#faulty-form"), 1, "{backend:?}");
        let faulty = format!("/inventory/units/{doa}/faulty");
        let r = app
            .post_form(&faulty, &csrf, &[("reason", "no POST")])
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(
            unit_by_serial(&app.db, "S4EMNX0W000010").await,
            (doa, "faulty".into(), shelf),
            "faulty where it lies"
        );
        assert_eq!(
            movement_reasons(&app.db, doa).await,
            ["receipt"],
            "no stock moved"
        );
        let r = app.post_form(&faulty, &csrf, &[("reason", "again")]).await;
        assert_eq!(r.status_code(), 409, "only a unit in stock");
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            text_of(&doc, "#problem").contains("Faulty"),
            "{}",
            text_of(&doc, "#problem")
        );

        // Now it can go back to its supplier, from its page.
        let (_, doc) = app.page(&format!("/inventory/units/{doa}")).await;
        assert_eq!(count(&doc, "#rma-form"), 1);
        let r = app
            .post_form(
                "/inventory/rma",
                &csrf,
                &[("serial", "s4emnx0w000010"), ("reason", "DOA")],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        assert_eq!(unit_by_serial(&app.db, "S4EMNX0W000010").await.1, "at_rma");
        assert_eq!(movement_reasons(&app.db, doa).await, ["receipt", "rma"]);

        // Scrap needs a reason, in the user's language, and is final.
        let (junk, _, _) = unit_by_serial(&app.db, "S4EMNX0W000011").await;
        let scrap = format!("/inventory/units/{junk}/scrap");
        choose_lang(&app, &csrf, "ko").await;
        let r = app.post_form(&scrap, &csrf, &[("reason", " ")]).await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert_eq!(text_of(&doc, "#scrap-reason-error"), "필수 항목입니다.");
        choose_lang(&app, &csrf, "en").await;
        let r = app
            .post_form(&scrap, &csrf, &[("reason", "dropped on the floor")])
            .await;
        assert_eq!(r.status_code(), 303);
        let (_, status, place) = unit_by_serial(&app.db, "S4EMNX0W000011").await;
        assert_eq!((status.as_str(), place), ("scrapped", None));
        assert_eq!(movement_reasons(&app.db, junk).await, ["receipt", "scrap"]);
        let audited: String = on!(&app.db, |p| sqlx::query_scalar(
            "select after_json from audit_log where entity = 'unit' and entity_id = $1 order by id desc limit 1"
        )
        .bind(junk.to_string())
        .fetch_one(p)
        .await)
        .unwrap();
        assert!(audited.contains("dropped on the floor") && audited.contains("scrapped"));
        let r = app.post_form(&scrap, &csrf, &[("reason", "again")]).await;
        assert_eq!(r.status_code(), 409, "scrapped is terminal");

        // The API (with a bearer token), and who may.
        let admin = app.login("admin", "rackledger-admin").await;
        let token = app
            .issue_token(&admin, app.user_id("tech").await, "scanner")
            .await;
        let (api_unit, _, _) = unit_by_serial(&app.db, "S4EMNX0W000012").await;
        let r = app
            .post_bearer(
                &token,
                &format!("/api/v1/units/{api_unit}/faulty"),
                &serde_json::json!({"reason": "DOA"}),
            )
            .await;
        assert_eq!(r.status_code(), 204, "{}", r.text());
        let r = app
            .post_bearer(
                &token,
                &format!("/api/v1/units/{api_unit}/scrap"),
                &serde_json::json!({"reason": "burnt"}),
            )
            .await;
        assert_eq!(r.status_code(), 204, "{}", r.text());
        assert_every_unit_is_where_its_movements_say(&app.db, backend).await;
        let guest = app.login("guest", "rackledger-guest").await;
        let (other, _, _) = unit_by_serial(&app.db, "S4EMNX0W000013").await;
        let r = app
            .post_form(
                &format!("/inventory/units/{other}/scrap"),
                &guest,
                &[("reason", "x")],
            )
            .await;
        assert_eq!(r.status_code(), 403);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_failing_part_a_bmc_reports_names_its_unit_whatever_the_case_of_its_serial() {
    use rackledger::health::redfish::model::{Dimm, Snapshot};
    for backend in backends() {
        let app = TestApp::start(backend).await;
        // A serial with a letter outside ASCII: only ASCII letters fold, on
        // both engines, so the BMC's spelling must find the unit.
        let (unit, _, _) = unit_by_serial(&app.db, "S4EMNX0W000020").await;
        on!(&app.db, |p| sqlx::query(
            "update units set serial = 'S4EMNX0W-Ö20' where id = $1"
        )
        .bind(unit)
        .execute(p)
        .await
        .map(|_| ()))
        .unwrap();
        let asset = crate::app::add_asset(&app.db, "SRV-ALERT").await;
        let bmc = crate::app::test_bmc(&app.db, asset).await;
        let snap = Snapshot {
            memory: vec![Dimm {
                slot: "DIMM A1".into(),
                serial: Some("s4emnx0w-Ö20".into()),
                health: Some("Critical".into()),
                state: Some("Enabled".into()),
                ..Dimm::default()
            }],
            ..Snapshot::default()
        };
        let now = rackledger::clock::now();
        rackledger::health::store::record_success(&app.db, bmc, asset, &snap, now, now)
            .await
            .unwrap();
        let open = rackledger::health::alerts::open(&app.db, Some(asset))
            .await
            .unwrap();
        assert_eq!(open.len(), 1, "{backend:?}");
        assert_eq!(open[0].unit_id, Some(unit), "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_exact_order_number_opens_the_order_and_like_wildcards_match_only_themselves() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("buyer", "rackledger-buyer").await;
        let (id, number): (i64, String) = on!(&app.db, |p| sqlx::query_as(
            "select id, number from purchase_orders order by id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let r = app
            .server
            .get(&format!("/search?q={}", number.to_lowercase()))
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {number}");
        assert_eq!(
            r.header("location").to_str().unwrap(),
            format!("/procurement/orders/{id}")
        );

        // `%` and `_` are characters to find, not wildcards.
        for q in ["%25", "_", "PO_20"] {
            let (status, doc) = app.page(&format!("/search?q={q}")).await;
            assert_eq!(status, 200, "{backend:?}: {q}");
            assert_eq!(count(&doc, "#order-results li"), 0, "{backend:?}: {q}");
            assert_eq!(count(&doc, "#part-results li"), 0, "{backend:?}: {q}");
            let (_, doc) = app.page(&format!("/procurement/orders?q={q}")).await;
            assert_eq!(count(&doc, "#orders tbody tr"), 0, "{backend:?}: {q}");
        }
        let (_, doc) = app.page("/procurement/orders?q=PO-20").await;
        assert!(count(&doc, "#orders tbody tr") > 0, "{backend:?}");
        app.finish().await;
    }
}
