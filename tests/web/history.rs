//! History tabs (audit rows as field-by-field diffs) and readings charts.

use rackledger::audit::Actor;
use rackledger::datacenter::racks::{self, RackInput};
use rackledger::db::Db;
use rackledger::health::history;
use rackledger::inventory::stock::transfer::{self, TransferInput};
use rackledger::money::Currency;
use rackledger::on;
use rackledger::procurement::{orders, po_status};
use scraper::{Html, Selector};
use time::{Duration, OffsetDateTime};

use crate::app::{TestApp, add_asset, count, hidden_csrf, text_of};
use crate::support::backends;

fn actor() -> Actor {
    Actor::system("test")
}

async fn choose_english(app: &TestApp, csrf: &str) {
    let r = app
        .post_form("/lang", csrf, &[("lang", "en"), ("next", "/")])
        .await;
    assert_eq!(r.status_code(), 303);
}

/// Each change on the page as (field name, old, new).
/// Each change as (field, old, new); old is "" where the page shows only the
/// value set (nothing was there before), "—" where a value was removed.
fn changes(doc: &Html) -> Vec<(String, String, String)> {
    let dt = Selector::parse("#history dl.history-changes dt").unwrap();
    let dd = Selector::parse("#history dl.history-changes dd").unwrap();
    let old = Selector::parse(".old").unwrap();
    let new = Selector::parse(".new").unwrap();
    let text = |e: scraper::ElementRef| e.text().collect::<String>().trim().to_owned();
    doc.select(&dt)
        .zip(doc.select(&dd))
        .map(|(t, d)| {
            (
                text(t),
                d.select(&old).next().map(text).unwrap_or_default(),
                d.select(&new).next().map(text).unwrap_or_default(),
            )
        })
        .collect()
}

fn has(list: &[(String, String, String)], field: &str, old: &str, new: &str) -> bool {
    list.iter()
        .any(|(f, o, n)| f == field && o == old && n == new)
}

#[tokio::test]
async fn a_racks_history_names_the_changed_fields_and_hides_cost_from_roles_without_money() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let input = RackInput {
            site: "Seoul DC1".into(),
            room: "Hall 9".into(),
            row: "Row H".into(),
            name: "H01".into(),
            height_u: Some("42".into()),
            power_budget_kw: Some("6".into()),
            numbering: None,
        };
        let rack = racks::create(&app.db, &actor(), &input).await.unwrap();
        racks::set_monthly_cost(&app.db, &actor(), rack, 123_456)
            .await
            .unwrap();
        let csrf = app.login("tech", "rackledger-tech").await;
        choose_english(&app, &csrf).await;
        let r = app
            .post_form(
                &format!("/datacenter/racks/{rack}/usable-u"),
                &csrf,
                &[("usable_u", "40")],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());

        let (status, doc) = app.page(&format!("/datacenter/racks/{rack}/history")).await;
        assert_eq!(status, 200, "{backend:?}");
        let seen = changes(&doc);
        assert!(has(&seen, "Usable U", "42", "40"), "{backend:?}: {seen:?}");
        // A hidden price is no line at all, not "— → —".
        assert!(
            seen.iter().all(|(f, _, _)| f != "Monthly cost"),
            "{backend:?}: {seen:?}"
        );
        let page = doc.root_element().html();
        assert!(
            !page.contains("123456") && !page.contains("123,456"),
            "cost hidden"
        );
        assert!(!page.contains("usable_u"), "no raw field names");
        assert!(text_of(&doc, "#history").contains("tech"), "who");
        let (_, rack_page) = app.page(&format!("/datacenter/racks/{rack}")).await;
        assert_eq!(
            count(
                &rack_page,
                &format!("a[href='/datacenter/racks/{rack}/history']")
            ),
            1,
            "the rack page links its history"
        );

        let csrf = app.login("admin", "rackledger-admin").await;
        choose_english(&app, &csrf).await;
        let (_, doc) = app.page(&format!("/datacenter/racks/{rack}/history")).await;
        let seen = changes(&doc);
        assert!(
            has(&seen, "Monthly cost", "₩0", "₩123,456"),
            "{backend:?}: {seen:?}"
        );

        // A long history is paginated, newest first.
        for u in 10..40 {
            racks::set_usable_u(&app.db, &actor(), rack, Some(&u.to_string()))
                .await
                .unwrap();
        }
        let (_, doc) = app.page(&format!("/datacenter/racks/{rack}/history")).await;
        assert_eq!(count(&doc, "#history > li"), 25, "{backend:?}");
        assert!(has(&changes(&doc), "Usable U", "38", "39"), "newest first");
        let (_, doc) = app
            .page(&format!("/datacenter/racks/{rack}/history?page=2"))
            .await;
        assert_eq!(count(&doc, "#history > li"), 33 - 25, "{backend:?}");
        assert!(
            has(&changes(&doc), "Usable U", "", "42"),
            "the creation is last"
        );
        app.finish().await;
    }
}

/// A draft order in won from the first supplier, with `notes`.
pub(crate) async fn draft_order(db: &Db, notes: &str) -> i64 {
    let supplier: i64 = on!(db, |p| sqlx::query_scalar(
        "select id from suppliers order by id limit 1"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    let input = orders::PoInput {
        supplier_id: supplier,
        currency: Some("KRW".into()),
        notes: notes.into(),
        ..orders::PoInput::default()
    };
    orders::create_po(db, &actor(), Currency::KRW, &input)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_orders_history_shows_its_status_change_in_words() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let po = draft_order(&app.db, "first").await;
        po_status::transition(&app.db, &actor(), po, "cancelled")
            .await
            .unwrap();
        let csrf = app.login("admin", "rackledger-admin").await;
        choose_english(&app, &csrf).await;
        let (status, doc) = app.page(&format!("/procurement/orders/{po}/history")).await;
        assert_eq!(status, 200, "{backend:?}");
        let seen = changes(&doc);
        assert!(
            has(&seen, "Status", "Draft", "Cancelled"),
            "{backend:?}: {seen:?}"
        );
        assert!(has(&seen, "Notes", "", "first"), "the creation: {seen:?}");
        let (_, order) = app.page(&format!("/procurement/orders/{po}")).await;
        assert_eq!(
            count(
                &order,
                &format!("a[href='/procurement/orders/{po}/history']")
            ),
            1
        );
        app.finish().await;
    }
}

async fn location_named(db: &Db, name: &str) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(
        "select id from stock_locations where name = $1"
    )
    .bind(name)
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn a_units_history_shows_its_move_by_location_name() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let warehouse = location_named(&app.db, "Seoul DC1 warehouse").await;
        let unit: i64 = on!(&app.db, |p| sqlx::query_scalar(
            "select id from units where serial = 'S4EMNX0W000001'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let input = TransferInput {
            to_location_id: warehouse.to_string(),
            serials: "S4EMNX0W000001".into(),
        };
        transfer::commit(&app.db, &actor(), &input).await.unwrap();
        let csrf = app.login("tech", "rackledger-tech").await;
        choose_english(&app, &csrf).await;
        let (status, doc) = app.page(&format!("/inventory/units/{unit}/history")).await;
        assert_eq!(status, 200, "{backend:?}");
        let seen = changes(&doc);
        assert!(
            seen.iter().any(|(f, o, n)| f == "Location"
                && o.contains("Spare cabinet A")
                && n.contains("Seoul DC1 warehouse")),
            "{backend:?}: {seen:?}"
        );
        let (_, page) = app.page(&format!("/inventory/units/{unit}")).await;
        assert_eq!(
            count(&page, &format!("a[href='/inventory/units/{unit}/history']")),
            1
        );
        // A unit that does not exist has no history page.
        let (status, _) = app.page("/inventory/units/999999/history").await;
        assert_eq!(status, 404);
        app.finish().await;
    }
}

/// The points of the chart `id` as (x, y), and its viewBox size.
fn points(doc: &Html, id: &str) -> (Vec<(f64, f64)>, (f64, f64)) {
    let svg = Selector::parse(&format!("svg#{id}")).unwrap();
    let line = Selector::parse("polyline").unwrap();
    let Some(svg) = doc.select(&svg).next() else {
        return (Vec::new(), (0.0, 0.0));
    };
    let vb: Vec<f64> = svg
        .value()
        .attr("viewBox")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(svg.value().attr("width"), Some("100%"), "fits any screen");
    let pts = svg
        .select(&line)
        .flat_map(|l| {
            l.value()
                .attr("points")
                .unwrap()
                .split(' ')
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    (pts, (vb[2], vb[3]))
}

#[tokio::test]
async fn readings_draw_as_polylines_inside_the_viewbox_for_each_range_leaving_out_older_ones() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let asset = add_asset(&app.db, "CHART-1").await;
        let now = OffsetDateTime::now_utc();
        let reading =
            |ago: Duration, w: i64, inlet: f64, max: f64, fans: &[f64]| history::RawReading {
                asset_id: asset,
                at: now - ago,
                watts: Some(w),
                inlet_c: Some(inlet),
                max_c: Some(max),
                fans: history::Fans::of(fans),
            };
        let rows = vec![
            reading(Duration::days(20), 900, 30.0, 80.0, &[9000.0, 9400.0]),
            reading(Duration::days(3), 500, 24.0, 60.0, &[7000.0, 7200.0]),
            reading(Duration::hours(5), 410, 22.5, 55.0, &[6000.0, 6600.0]),
            reading(Duration::hours(1), 420, 23.0, 57.5, &[6100.0, 6500.0]),
            reading(Duration::days(60), 9999, 99.0, 99.0, &[99999.0]),
        ];
        let mut tx = app.db.begin().await.unwrap();
        history::insert_raw_many(&mut tx, &rows).await.unwrap();
        tx.commit().await.unwrap();
        let empty = add_asset(&app.db, "CHART-0").await;

        let csrf = app.login("tech", "rackledger-tech").await;
        choose_english(&app, &csrf).await;
        for (path, readings) in [
            (format!("/inventory/assets/{asset}"), 2),
            (format!("/inventory/assets/{asset}/readings?range=day"), 2),
            (format!("/inventory/assets/{asset}/readings?range=week"), 3),
            (format!("/inventory/assets/{asset}/readings?range=month"), 4),
        ] {
            let (status, doc) = app.page(&path).await;
            assert_eq!(status, 200, "{backend:?} {path}");
            let (power, (w, h)) = points(&doc, "chart-power");
            assert_eq!(power.len(), readings, "{backend:?} {path}");
            let (temps, _) = points(&doc, "chart-temp");
            assert_eq!(temps.len(), 2 * readings, "inlet and hottest: {path}");
            let (fans, _) = points(&doc, "chart-fans");
            assert_eq!(fans.len(), 2 * readings, "mean and slowest fan: {path}");
            for (x, y) in power.iter().chain(&temps).chain(&fans) {
                assert!(
                    (0.0..=w).contains(x) && (0.0..=h).contains(y),
                    "{path}: {x},{y}"
                );
            }
            // Time runs left to right.
            assert!(power.windows(2).all(|p| p[0].0 < p[1].0), "{path}");
            assert!(!doc.root_element().html().contains("9999"), "{path}");
        }
        // A range nobody offers reads as a day.
        let (status, doc) = app
            .page(&format!(
                "/inventory/assets/{asset}/readings?range=%3Cscript%3E"
            ))
            .await;
        assert_eq!(status, 200);
        assert_eq!(points(&doc, "chart-power").0.len(), 2);
        let (_, doc) = app.page(&format!("/inventory/assets/{empty}")).await;
        assert_eq!(count(&doc, "#readings svg"), 0);
        let minutes = rackledger::config::Config::default()
            .health
            .poll_interval_secs
            .div_ceil(60);
        assert!(
            text_of(&doc, "#readings-empty").contains(&format!("every {minutes} minutes")),
            "{}",
            text_of(&doc, "#readings-empty")
        );
        app.finish().await;
    }
}

/// The number of entries on a unit's history page.
async fn unit_entries(app: &TestApp, unit: i64) -> usize {
    let (status, doc) = app.page(&format!("/inventory/units/{unit}/history")).await;
    assert_eq!(status, 200);
    count(&doc, "#history li.history-entry")
}

/// An assembled "edge node" server tagged `tag` and a spare DIMM for it.
struct Server {
    template: i64,
    asset: i64,
    spare: i64,
    spare_serial: String,
    shelf: i64,
}

async fn assembled_server(db: &Db, tag: &str) -> Server {
    use rackledger::inventory::assembly::{self, AssemblyInput};
    let template = crate::assembly::template(db, "edge node", crate::assembly::EDGE_NODE).await;
    let order = assembly::start(
        db,
        &actor(),
        &AssemblyInput {
            template_id: template,
            asset_tag: tag.into(),
            hostname: None,
        },
    )
    .await
    .unwrap();
    let asset = assembly::complete(db, &actor(), order).await.unwrap();
    let (spare_serial, _) = crate::assembly::newest_spare_dimm(db).await;
    let spare: i64 = on!(db, |p| sqlx::query_scalar(
        "select id from units where serial = $1"
    )
    .bind(&spare_serial)
    .fetch_one(p)
    .await)
    .unwrap();
    let shelf: i64 = on!(db, |p| sqlx::query_scalar(
        "select min(id) from stock_locations"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    Server {
        template,
        asset,
        spare,
        spare_serial,
        shelf,
    }
}

#[tokio::test]
async fn a_units_history_shows_the_swap_that_removed_it_and_its_rma() {
    use rackledger::inventory::assets::{self, SwapInput};
    use rackledger::inventory::rma::{self, OpenInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        // An assembled server: one DIMM fails, its neighbour stays, a spare goes in.
        let Server {
            asset,
            spare,
            spare_serial,
            shelf,
            ..
        } = assembled_server(&app.db, "SRV-0600").await;
        let slot = "DIMM A2".to_owned();
        let unit_in = |slot: &'static str| {
            let db = app.db.clone();
            async move {
                let r: (i64, String) = on!(&db, |p| sqlx::query_as(
                    "select id, serial from units where asset_id = $1 and slot_name = $2"
                )
                .bind(asset)
                .bind(slot)
                .fetch_one(p)
                .await)
                .unwrap();
                r
            }
        };
        let (old, old_serial) = unit_in("DIMM A2").await;
        let (neighbour, _) = unit_in("DIMM A1").await;
        let csrf = app.login("tech", "rackledger-tech").await;
        choose_english(&app, &csrf).await;
        let before = (
            unit_entries(&app, old).await,
            unit_entries(&app, spare).await,
            unit_entries(&app, neighbour).await,
        );

        let swap = SwapInput {
            slot_name: slot,
            new_serial: spare_serial,
            old_to: "faulty".into(),
            location_id: shelf,
        };
        assets::swap(&app.db, &actor(), asset, &swap).await.unwrap();
        rma::open(
            &app.db,
            &actor(),
            &OpenInput {
                serial: old_serial,
                reason: "uncorrectable ECC".into(),
            },
        )
        .await
        .unwrap();

        // The removed DIMM: its swap and its RMA; the spare: its swap;
        // the neighbour: nothing new.
        assert_eq!(unit_entries(&app, old).await, before.0 + 2, "{backend:?}");
        assert_eq!(unit_entries(&app, spare).await, before.1 + 1, "{backend:?}");
        assert_eq!(unit_entries(&app, neighbour).await, before.2, "{backend:?}");
        let (_, doc) = app.page(&format!("/inventory/units/{old}/history")).await;
        let text = text_of(&doc, "#history");
        assert!(text.contains("uncorrectable ECC"), "{backend:?}: {text}");
        // Each entry names each field once (the RMA's supplier is one row).
        let dt = Selector::parse("dl.history-changes dt").unwrap();
        let li = Selector::parse("#history > li").unwrap();
        for entry in doc.select(&li) {
            let mut seen: Vec<String> = entry
                .select(&dt)
                .map(|e| e.text().collect::<String>().trim().to_owned())
                .collect();
            let all = seen.len();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), all, "{backend:?}: {seen:?}");
        }
        // The DIMM has no recorded warranty end: its warranty is unknown, not "no".
        let seen = changes(&doc);
        assert!(
            has(&seen, "Under warranty", "", "Unknown"),
            "{backend:?}: {seen:?}"
        );
        let (_, rmas) = app.page("/inventory/rma").await;
        let text = text_of(&rmas, "table");
        assert!(text.contains("Unknown"), "{backend:?}: {text}");
        app.finish().await;
    }
}

/// The field labels on a history page.
fn labels(doc: &Html) -> Vec<String> {
    let dt = Selector::parse("#history dl.history-changes dt").unwrap();
    doc.select(&dt)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

/// Asserts every label is words for a reader: no snake_case key, no key as it
/// was stored (`slot`, `units`), and none of the raw id keys anywhere.
fn assert_labels_in_words(doc: &Html, what: &str) {
    for l in labels(doc) {
        assert!(
            !l.contains('_') && l.chars().next().is_some_and(char::is_uppercase),
            "{what}: raw label {l:?} in {:?}",
            labels(doc)
        );
    }
    let html = doc.root_element().html();
    for raw in [
        "installed_unit",
        "removed_unit",
        "template_id",
        "room_id",
        "row_id",
        "site_id",
        "removed_to",
    ] {
        assert!(!html.contains(raw), "{what}: {raw} shown");
    }
}

#[tokio::test]
async fn history_names_what_ids_point_to_and_labels_every_field_in_words() {
    use rackledger::audit::{self, Action};
    use rackledger::datacenter::placement::{self, PlaceInput};
    use rackledger::inventory::assets::{self, RegisterAsset, SwapInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        // An assembled server whose DIMM is swapped for a spare.
        let Server {
            template: t,
            asset,
            spare,
            spare_serial,
            shelf,
        } = assembled_server(&app.db, "SRV-0700").await;
        let swap = SwapInput {
            slot_name: "DIMM A2".into(),
            new_serial: spare_serial.clone(),
            old_to: "faulty".into(),
            location_id: shelf,
        };
        assets::swap(&app.db, &actor(), asset, &swap).await.unwrap();
        // It goes into a new rack.
        let rack = racks::create(
            &app.db,
            &actor(),
            &RackInput {
                site: "Busan DC7".into(),
                room: "Hall Q".into(),
                row: "Row Z".into(),
                name: "Z01".into(),
                height_u: Some("42".into()),
                power_budget_kw: Some("6".into()),
                numbering: None,
            },
        )
        .await
        .unwrap();
        let place = PlaceInput {
            rack_id: rack,
            u_position: "10".into(),
            face: "rear".into(),
            depth: "full".into(),
        };
        placement::place(&app.db, &actor(), asset, &place)
            .await
            .unwrap();
        // A registered asset names its template by id; a rack row names its
        // room, row and site by id.
        let r = racks::get(&app.db, rack).await.unwrap();
        let room: i64 = on!(&app.db, |p| sqlx::query_scalar(
            "select room_id from rack_rows where id = $1"
        )
        .bind(r.row_id)
        .fetch_one(p)
        .await)
        .unwrap();
        let mut tx = app.db.begin().await.unwrap();
        let registered = assets::register(
            &mut tx,
            &actor(),
            &RegisterAsset {
                asset_tag: "SRV-0701",
                hostname: None,
                template_id: Some(t),
                kind: "server",
                status: "in_service",
                serial: None,
            },
        )
        .await
        .unwrap();
        let moved = serde_json::json!({"room_id": room, "row_id": r.row_id, "site_id": r.site_id});
        audit::record(
            &mut tx,
            &actor(),
            Action::Update,
            "rack",
            rack,
            None,
            Some(&moved),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let csrf = app.login("tech", "rackledger-tech").await;
        choose_english(&app, &csrf).await;
        let (status, doc) = app
            .page(&format!("/inventory/assets/{asset}/history"))
            .await;
        assert_eq!(status, 200, "{backend:?}");
        assert_labels_in_words(&doc, "asset");
        let seen = changes(&doc);
        assert!(
            seen.iter().any(|(f, _, n)| f == "Installed unit"
                && n.contains(&spare_serial)
                && n.contains("M321R4GA3BB6-CQK")),
            "{backend:?}: {seen:?}"
        );
        assert_eq!(
            count(
                &doc,
                &format!("#history a[href='/inventory/units/{spare}']")
            ),
            1,
            "the installed unit is linked"
        );
        assert!(has(&seen, "Slot", "", "DIMM A2"), "{seen:?}");
        assert!(has(&seen, "Removed unit goes to", "", "Faulty"), "{seen:?}");
        assert!(has(&seen, "Template", "", "edge node"), "{seen:?}");
        assert!(has(&seen, "Face", "", "Rear"), "{seen:?}");
        assert!(
            seen.iter()
                .any(|(f, _, n)| f == "Rack" && n.contains("Busan DC7") && n.contains("Z01")),
            "{seen:?}"
        );
        // The same in Korean.
        {
            use rackledger::i18n::{Lang, t};
            let r = app
                .post_form("/lang", &csrf, &[("lang", "ko"), ("next", "/")])
                .await;
            assert_eq!(r.status_code(), 303);
            let (_, doc) = app
                .page(&format!("/inventory/assets/{asset}/history"))
                .await;
            let seen = changes(&doc);
            let (installed, face, rear) = (
                t(Lang::Ko, "history2.field.installed_unit"),
                t(Lang::Ko, "history_field.face"),
                t(Lang::Ko, "dc.face.rear"),
            );
            assert!(
                seen.iter()
                    .any(|(f, _, n)| f == installed && n.contains(&spare_serial)),
                "{backend:?}: {seen:?}"
            );
            assert!(has(&seen, face, "", rear), "{seen:?}");
            choose_english(&app, &csrf).await;
        }

        let (_, doc) = app
            .page(&format!("/inventory/assets/{registered}/history"))
            .await;
        assert_labels_in_words(&doc, "registered asset");
        assert!(
            has(&changes(&doc), "Template", "", "edge node"),
            "{backend:?}: {:?}",
            changes(&doc)
        );

        let (_, doc) = app.page(&format!("/datacenter/racks/{rack}/history")).await;
        assert_labels_in_words(&doc, "rack");
        let seen = changes(&doc);
        for (field, name) in [("Site", "Busan DC7"), ("Room", "Hall Q"), ("Row", "Row Z")] {
            assert!(
                seen.iter()
                    .filter(|(f, _, n)| f == field && n.contains(name))
                    .count()
                    == 2,
                "{backend:?}: {field} by name, at creation and by id: {seen:?}"
            );
        }

        let (_, doc) = app.page(&format!("/inventory/units/{spare}/history")).await;
        assert_labels_in_words(&doc, "unit");
        assert!(
            changes(&doc)
                .iter()
                .any(|(f, _, n)| f == "Installed unit" && n.contains(&spare_serial)),
            "{backend:?}: {:?}",
            changes(&doc)
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_orders_history_keeps_its_deleted_line_and_cost_with_what_they_were() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (part, mpn): (i64, String) = on!(&app.db, |p| sqlx::query_as(
            "select id, mpn from part_models order by id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let po = draft_order(&app.db, "").await;
        let line = orders::add_line(
            &app.db,
            &actor(),
            po,
            &orders::LineInput {
                part_model_id: part,
                quantity: "7".into(),
                unit_price: "1000".into(),
                ..orders::LineInput::default()
            },
        )
        .await
        .unwrap();
        let cost = orders::add_cost(
            &app.db,
            &actor(),
            Currency::KRW,
            po,
            &orders::CostInput {
                kind: "customs_duty".into(),
                description: "duty on the DIMMs".into(),
                amount: "5000".into(),
                basis: "value".into(),
                ..orders::CostInput::default()
            },
        )
        .await
        .unwrap();
        orders::remove_line(&app.db, &actor(), po, line)
            .await
            .unwrap();
        orders::remove_cost(&app.db, &actor(), Currency::KRW, po, cost)
            .await
            .unwrap();
        let csrf = app.login("admin", "rackledger-admin").await;
        choose_english(&app, &csrf).await;
        let (status, doc) = app.page(&format!("/procurement/orders/{po}/history")).await;
        assert_eq!(status, 200, "{backend:?}");
        assert_labels_in_words(&doc, "order");
        let entries = Selector::parse("#history li.history-entry").unwrap();
        let deleted: Vec<String> = doc
            .select(&entries)
            .map(|e| e.text().collect::<String>())
            .filter(|t| t.contains("deleted"))
            .collect();
        assert_eq!(deleted.len(), 2, "{backend:?}: {deleted:?}");
        assert!(
            deleted
                .iter()
                .any(|t| t.contains("Order line") && t.contains(&mpn) && t.contains('7')),
            "{backend:?}: {deleted:?}"
        );
        assert!(
            deleted.iter().any(|t| t.contains("Extra cost")
                && t.contains("duty on the DIMMs")
                && t.contains("Customs duty")
                && t.contains("Value")),
            "{backend:?}: {deleted:?}"
        );
        let seen = changes(&doc);
        assert!(has(&seen, "Quantity", "7", "—"), "{seen:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn failed_logins_show_the_next_attempt_to_the_second_in_the_readers_zone() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let pre = hidden_csrf(&app.server.get("/login").await.text());
        let r = app
            .server
            .post("/login")
            .form(&[
                ("username", "buyer"),
                ("password", "wrong-password"),
                ("_csrf", &pre),
            ])
            .await;
        assert_eq!(r.status_code(), 401, "{backend:?}");
        let next: OffsetDateTime = on!(&app.db, |p| sqlx::query_scalar(
            "select next_attempt_at from login_throttles where scope = 'user'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let csrf = app.login("admin", "rackledger-admin").await;
        // India has no summer time: +05:30 all year.
        let r = app
            .post_form(
                "/account/preferences",
                &csrf,
                &[("lang", "en"), ("time_zone", "Asia/Kolkata")],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let (status, doc) = app.page("/admin/logins").await;
        assert_eq!(status, 200);
        let local = next
            .to_offset(time::UtcOffset::from_hms(5, 30, 0).unwrap())
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap();
        assert!(
            text_of(&doc, "#logins").contains(&local),
            "{backend:?}: {local} in {}",
            text_of(&doc, "#logins")
        );
        app.finish().await;
    }
}

/// A zone whose date differs from UTC's right now (far east once UTC is
/// past 10:00, else far west; neither has summer time), its date, the
/// earlier of that date and UTC's, and whether that day is over in the zone.
fn another_day() -> (&'static str, time::Date, time::Date, bool) {
    let now = OffsetDateTime::now_utc();
    let (zone, offset) = if now.hour() >= 10 {
        (
            "Pacific/Kiritimati",
            time::UtcOffset::from_hms(14, 0, 0).unwrap(),
        )
    } else {
        (
            "Pacific/Pago_Pago",
            time::UtcOffset::from_hms(-11, 0, 0).unwrap(),
        )
    };
    let local_today = now.to_offset(offset).date();
    assert_ne!(local_today, now.date());
    let day = local_today.min(now.date());
    (zone, local_today, day, day < local_today)
}

pub(crate) async fn choose_zone(app: &TestApp, csrf: &str, zone: &str) {
    let r = app
        .post_form(
            "/account/preferences",
            csrf,
            &[("lang", "en"), ("time_zone", zone)],
        )
        .await;
    assert_eq!(r.status_code(), 303, "{}", r.text());
}

#[tokio::test]
async fn a_work_order_is_overdue_by_the_readers_calendar_not_utcs() {
    use rackledger::i18n::Lang;
    use rackledger::workorders::{self, Origin, WorkOrderInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (zone, local_today, due, overdue_here) = another_day();
        let input = WorkOrderInput {
            kind: "other".into(),
            title: "check the door seals".into(),
            due_date: due.to_string(),
            ..WorkOrderInput::default()
        };
        let wo = workorders::create(&app.db, &actor(), &input, &Origin::default(), Lang::En)
            .await
            .unwrap();
        let csrf = app.login("tech", "rackledger-tech").await;
        choose_zone(&app, &csrf, zone).await;
        let (_, doc) = app.page(&format!("/workorders/{wo}")).await;
        let strong = Selector::parse("strong").unwrap();
        assert_eq!(
            doc.select(&strong)
                .any(|e| e.text().collect::<String>().trim() == "overdue"),
            overdue_here,
            "{backend:?}: due {due} seen on {local_today} in {zone}"
        );
        let (_, doc) = app.page("/workorders").await;
        assert_eq!(
            count(&doc, "tr.overdue"),
            usize::from(overdue_here),
            "{backend:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_warranty_has_ended_by_the_readers_calendar_not_utcs() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (zone, local_today, end, ended_here) = another_day();
        let serial: String = on!(&app.db, |p| sqlx::query_scalar(
            "select serial from units order by id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        rackledger::exec!(&app.db, |p| sqlx::query(
            "update units set status = 'installed', warranty_end = $1 where serial = $2"
        )
        .bind(end)
        .bind(&serial)
        .execute(p)
        .await)
        .unwrap();
        let csrf = app.login("admin", "rackledger-admin").await;
        choose_zone(&app, &csrf, zone).await;
        let (status, doc) = app.page("/inventory/warranty").await;
        assert_eq!(status, 200);
        let why = format!("{backend:?}: ends {end}, seen on {local_today} in {zone}");
        assert_eq!(
            text_of(&doc, "#expired").contains(&serial),
            ended_here,
            "{why}"
        );
        assert_eq!(
            text_of(&doc, "#ending").contains(&serial),
            !ended_here,
            "{why}"
        );
        app.finish().await;
    }
}
