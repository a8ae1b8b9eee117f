//! Supplier file imports through the web: preview, commit, re-import, broken rows.

use axum_test::multipart::{MultipartForm, Part};
use rackledger::audit::Actor;
use rackledger::db::Db;
use rackledger::money::Currency;
use rackledger::on;
use rackledger::procurement::orders::{self, LineInput, PoInput};

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

pub(crate) fn sample(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("importers/samples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn id_of(db: &Db, sql: &'static str, arg: &str) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(sql)
        .bind(arg)
        .fetch_one(p)
        .await)
    .unwrap()
}

/// The supplier whose name matches `pattern` (SQL `like`).
async fn supplier_named(db: &Db, pattern: &str) -> i64 {
    id_of(db, "select id from suppliers where name like $1", pattern).await
}

/// Uploads a file and waits (yielding to the background task, with a deadline)
/// until its preview is done; returns the batch page.
/// Logs in as the buyer with English pages (messages are asserted in English).
async fn login_buyer(app: &mut TestApp) -> String {
    let csrf = app.login("buyer", "rackledger-buyer").await;
    let r = app
        .post_form("/lang", &csrf, &[("lang", "en"), ("next", "/")])
        .await;
    assert_eq!(r.status_code(), 303);
    csrf
}

async fn upload(
    app: &TestApp,
    csrf: &str,
    kind: &str,
    file: &str,
    fields: &[(&str, String)],
) -> (i64, scraper::Html) {
    upload_bytes(app, csrf, kind, file, sample(file), fields).await
}

async fn upload_bytes(
    app: &TestApp,
    csrf: &str,
    kind: &str,
    file: &str,
    bytes: Vec<u8>,
    fields: &[(&str, String)],
) -> (i64, scraper::Html) {
    let mut form = MultipartForm::new()
        .add_text("kind", kind)
        .add_part("file", Part::bytes(bytes).file_name(file));
    for (k, v) in fields {
        form = form.add_text(*k, v.clone());
    }
    let r = app
        .server
        .post(&format!("/procurement/imports?_csrf={csrf}"))
        .multipart(form)
        .await;
    assert_eq!(r.status_code(), 303, "{}", r.text());
    let id: i64 = r
        .header("location")
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (id, wait(app, id).await)
}

async fn wait(app: &TestApp, id: i64) -> scraper::Html {
    // Poll the batch's status every 25 ms until it is done, with a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(25));
    loop {
        tick.tick().await;
        let status: String = on!(&app.db, |p| {
            sqlx::query_scalar("select status from import_batches where id = $1")
                .bind(id)
                .fetch_one(p)
                .await
        })
        .unwrap();
        if !matches!(status.as_str(), "queued" | "previewing" | "committing") {
            return app.page(&format!("/procurement/imports/{id}")).await.1;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "import {id} still {status}"
        );
    }
}

async fn commit(app: &TestApp, csrf: &str, id: i64, skip: bool) -> scraper::Html {
    let mut fields = vec![];
    if skip {
        fields.push(("skip_errors", "1"));
    }
    let r = app
        .post_form(&format!("/procurement/imports/{id}/commit"), csrf, &fields)
        .await;
    assert_eq!(r.status_code(), 303, "{}", r.text());
    wait(app, id).await
}

fn counts(doc: &scraper::Html) -> [String; 4] {
    [
        "#count-create",
        "#count-update",
        "#count-unchanged",
        "#count-error",
    ]
    .map(|s| text_of(doc, s))
}

#[tokio::test]
async fn a_price_list_imports_from_every_format_and_a_second_import_changes_nothing() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let supplier = id_of(
            &app.db,
            "select id from suppliers where name like $1",
            "Kingston%",
        )
        .await
        .to_string();
        for file in [
            "price_list.csv",
            "price_list.xlsx",
            "price_list.xls",
            "price_list.ods",
            "price_list_cp949.csv",
            "price_list_bom_semicolon_decimal_comma.csv",
        ] {
            let (id, doc) = upload(
                &app,
                &csrf,
                "price_list",
                file,
                &[("supplier_id", supplier.clone())],
            )
            .await;
            let [create, update, unchanged, errors] = counts(&doc);
            assert_eq!(
                errors,
                "0",
                "{backend:?} {file}: {}",
                text_of(&doc, "#rows")
            );
            let total: usize = [&create, &update, &unchanged]
                .iter()
                .map(|n| n.parse::<usize>().unwrap())
                .sum();
            assert!(total >= 5, "{file}: {create}/{update}/{unchanged}");
            let done = commit(&app, &csrf, id, false).await;
            let state: (String, Option<String>) = on!(&app.db, |p| sqlx::query_as(
                "select status, summary_json from import_batches where id = $1"
            )
            .bind(id)
            .fetch_one(p)
            .await)
            .unwrap();
            assert!(
                !text_of(&done, "#committed").is_empty() || !text_of(&done, "#nothing").is_empty(),
                "{file} committed: {state:?}"
            );
            // The same file again: every row matches.
            let (_, again) = upload(
                &app,
                &csrf,
                "price_list",
                file,
                &[("supplier_id", supplier.clone())],
            )
            .await;
            let [c, u, _, e] = counts(&again);
            assert_eq!(
                (c.as_str(), u.as_str(), e.as_str()),
                ("0", "0", "0"),
                "{backend:?} {file} re-import"
            );
            assert!(!text_of(&again, "#nothing").is_empty());
        }
        let price: String = on!(&app.db, |p| {
            sqlx::query_scalar::<_, String>(
                "select last_price_currency from part_models where mpn = 'M321R4GA3BB6-CQK'",
            )
            .fetch_one(p)
            .await
        })
        .unwrap();
        assert!(!price.is_empty());
        app.finish().await;
    }
}

pub(crate) async fn ordered_po(db: &Db, lines: &[(&str, &str)]) -> i64 {
    let actor = Actor::system("test");
    let supplier = supplier_named(db, "Samsung%").await;
    let po = orders::create_po(
        db,
        &actor,
        Currency::KRW,
        &PoInput {
            supplier_id: supplier,
            ..PoInput::default()
        },
    )
    .await
    .unwrap();
    for (mpn, qty) in lines {
        let part = id_of(db, "select id from part_models where mpn = $1", mpn).await;
        let input = LineInput {
            part_model_id: part,
            quantity: (*qty).into(),
            unit_price: "100000".into(),
            unit_weight_g: None,
            warranty_months: None,
        };
        orders::add_line(db, &actor, po, &input).await.unwrap();
    }
    orders::transition(db, &actor, po, "ordered").await.unwrap();
    po
}

/// The first stock location, and the import form's fields receiving order `po` there.
async fn packing_target(db: &Db, po: i64) -> (i64, [(&'static str, String); 2]) {
    let location = on!(db, |p| sqlx::query_scalar::<_, i64>(
        "select min(id) from stock_locations"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    let target = [
        ("po_id", po.to_string()),
        ("location_id", location.to_string()),
    ];
    (location, target)
}

#[tokio::test]
async fn a_packing_list_receives_serials_once_and_broken_rows_are_named_before_anything_is_written()
{
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let lines = [
            ("M321R4GA3BB6-CQK", "4"),
            ("MZQL23T8HCLS-00A07", "2"),
            ("MCX631432AN-ADAB", "1"),
            ("100-000001463", "1"),
            ("DAC-SFP28-1M", "10"),
        ];
        let po = ordered_po(&db, &lines).await;
        let (_, target) = packing_target(&db, po).await;

        // Broken rows are listed with row, column and reason; a commit without skipping writes nothing.
        let (broken, doc) = upload(
            &app,
            &csrf,
            "packing_list",
            "packing_list_broken.csv",
            &target,
        )
        .await;
        let errors: usize = text_of(&doc, "#count-error").parse().unwrap();
        assert!(errors >= 4, "{backend:?}: {}", text_of(&doc, "#rows"));
        let rows = text_of(&doc, "#rows");
        assert!(
            rows.contains("Also on row 2"),
            "duplicate serial names the first row: {rows}"
        );
        let refused = commit(&app, &csrf, broken, false).await;
        assert!(!text_of(&refused, "#refused").is_empty());
        let units = |db: Db| async move {
            on!(&db, |p| sqlx::query_scalar::<_, i64>("select count(*) from units u join po_lines l on l.id = u.po_line_id where l.po_id = $1").bind(po).fetch_one(p).await).unwrap()
        };
        assert_eq!(units(db.clone()).await, 0, "nothing half-written");

        // The clean list, as xlsx: 8 serials and 10 cables.
        let (id, doc) = upload(&app, &csrf, "packing_list", "packing_list.xlsx", &target).await;
        assert_eq!(
            counts(&doc),
            ["9".to_owned(), "0".into(), "0".into(), "0".into()],
            "{}",
            text_of(&doc, "#rows")
        );
        commit(&app, &csrf, id, false).await;
        assert_eq!(units(db.clone()).await, 8);
        let status = rackledger::procurement::orders_repo::get_po(&db, po)
            .await
            .unwrap()
            .status;
        assert_eq!(status, "received");

        // Importing it again receives nothing twice.
        let (_, again) = upload(&app, &csrf, "packing_list", "packing_list.xlsx", &target).await;
        assert_eq!(text_of(&again, "#count-create"), "0");
        assert_eq!(
            text_of(&again, "#count-unchanged"),
            "9",
            "{}",
            text_of(&again, "#rows")
        );
        assert!(
            !text_of(&again, "#already").is_empty(),
            "says the file was imported before"
        );
        app.finish().await;
    }
}

/// A packing list of `serials` for the demo DIMM, as CSV.
fn dimm_list(serials: impl Iterator<Item = String>) -> Vec<u8> {
    let mut csv = String::from("Carton,Part Number,Manufacturer,Serial Number,Qty\n");
    for s in serials {
        csv.push_str(&format!("C-1,M321R4GA3BB6-CQK,Samsung,{s},1\n"));
    }
    csv.into_bytes()
}

#[tokio::test]
async fn a_long_packing_list_is_checked_and_received_across_its_batches() {
    // 2,345 rows cross every batch the import works in: rows planned 1,000 at
    // a time, serials looked up 500 at a time, units inserted 2,000 at a time.
    const N: usize = 2_345;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let po = ordered_po(&db, &[("M321R4GA3BB6-CQK", "5000")]).await;
        let (location, target) = packing_target(&db, po).await;
        let serial = |i: usize| format!("LONG{i:06}");
        let before: i64 = on!(&db, |p| sqlx::query_scalar("select count(*) from units")
            .fetch_one(p)
            .await)
        .unwrap();
        let (id, doc) = upload_bytes(
            &app,
            &csrf,
            "packing_list",
            "long.csv",
            dimm_list((0..N).map(serial)),
            &target,
        )
        .await;
        assert_eq!(text_of(&doc, "#count-create"), N.to_string());
        commit(&app, &csrf, id, false).await;

        // Every unit once, at positions 1..=N in file order (and in id
        // order), each with its receipt movement, and their costs add up to
        // the receipt line's.
        let units: Vec<(String, i64, i64)> = on!(&db, |p| sqlx::query_as(
            "select u.serial, u.position, u.landed_cost_minor from units u
             join po_lines l on l.id = u.po_line_id where l.po_id = $1 order by u.id"
        )
        .bind(po)
        .fetch_all(p)
        .await)
        .unwrap();
        assert_eq!(units.len(), N, "{backend:?}");
        for (i, (s, position, _)) in units.iter().enumerate() {
            assert_eq!((s.as_str(), *position), (serial(i).as_str(), i as i64 + 1));
        }
        let (movements, line_cost): (i64, i64) = on!(&db, |p| sqlx::query_as(
            "select (select count(*) from stock_movements m join units u on u.id = m.unit_id
                     join po_lines l on l.id = u.po_line_id
                     where l.po_id = $1 and m.reason = 'receipt' and m.to_location_id = $2),
                    (select cast(sum(r.landed_cost_minor) as bigint) from receipt_lines r
                     join po_lines l on l.id = r.po_line_id where l.po_id = $1)"
        )
        .bind(po)
        .bind(location)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(movements, N as i64, "{backend:?}: one movement per unit");
        let unit_costs: i64 = units.iter().map(|u| u.2).sum();
        assert_eq!(unit_costs, line_cost, "{backend:?}");

        // A list for another order, of new serials but one received on the
        // first, deep in the file: the row is named, and a commit writes nothing.
        let po2 = ordered_po(&db, &[("M321R4GA3BB6-CQK", "5000")]).await;
        let (_, target) = packing_target(&db, po2).await;
        let again_serials = || {
            (N..N + 1_800).map(|i| {
                if i == N + 1_700 {
                    serial(42)
                } else {
                    serial(i)
                }
            })
        };
        let upload_more = || {
            upload_bytes(
                &app,
                &csrf,
                "packing_list",
                "more.csv",
                dimm_list(again_serials()),
                &target,
            )
        };
        let (id, doc) = upload_more().await;
        assert_eq!(text_of(&doc, "#count-error"), "1", "{backend:?}");
        let rows = text_of(&doc, "#rows");
        // Row 1 is the header: the 1,701st serial is on row 1,702.
        assert!(
            rows.contains("1702") && rows.contains(&serial(42)),
            "{backend:?}: {rows}"
        );
        // The commit trusts the unique index first; the index refuses the
        // known serial, and the rows are planned again with look-ups.
        let refused = commit(&app, &csrf, id, false).await;
        assert_eq!(
            counts(&refused),
            ["1799", "0", "0", "1"].map(String::from),
            "{backend:?}: the commit names the row too"
        );
        assert!(text_of(&refused, "#rows").contains("1702"), "{backend:?}");
        let units = || async {
            on!(&db, |p| sqlx::query_scalar::<_, i64>(
                "select count(*) from units"
            )
            .fetch_one(p)
            .await)
            .unwrap()
        };
        assert_eq!(
            units().await,
            before + N as i64,
            "{backend:?}: nothing half-written"
        );
        // With bad rows skipped, the other 1,799 are received.
        let skipped = commit(&app, &csrf, id, true).await;
        assert_eq!(
            counts(&skipped),
            ["1799", "0", "0", "1"].map(String::from),
            "{backend:?}"
        );
        assert_eq!(units().await, before + N as i64 + 1_799, "{backend:?}");
        // The same file committed again receives nothing twice: its serials
        // are this order's own.
        let (id, _) = upload_more().await;
        let twice = commit(&app, &csrf, id, true).await;
        assert_eq!(
            counts(&twice),
            ["0", "0", "1799", "1"].map(String::from),
            "{backend:?}"
        );
        assert_eq!(units().await, before + N as i64 + 1_799, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_order_confirmation_fills_a_draft_order() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let supplier = supplier_named(&db, "Kingston%").await;
        let po = orders::create_po(
            &db,
            &Actor::system("test"),
            Currency::KRW,
            &PoInput {
                supplier_id: supplier,
                currency: Some("USD".into()),
                fx_rate: Some("1385.2".into()),
                ..PoInput::default()
            },
        )
        .await
        .unwrap();
        let (id, doc) = upload(
            &app,
            &csrf,
            "order_confirmation",
            "order_confirmation.xlsx",
            &[("po_id", po.to_string())],
        )
        .await;
        assert_eq!(
            text_of(&doc, "#count-create"),
            "5",
            "{backend:?}: {}",
            text_of(&doc, "#rows")
        );
        commit(&app, &csrf, id, false).await;
        let lines = rackledger::procurement::orders_repo::lines(&db, po)
            .await
            .unwrap();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0].quantity, 400);
        assert_eq!(lines[0].unit_price.0.to_string(), "118.5");
        let (_, again) = upload(
            &app,
            &csrf,
            "order_confirmation",
            "order_confirmation.ods",
            &[("po_id", po.to_string())],
        )
        .await;
        assert_eq!(
            text_of(&again, "#count-unchanged"),
            "5",
            "the same lines from another format change nothing"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_import_whose_server_stopped_writing_progress_is_shown_as_cut_off() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let supplier = supplier_named(&db, "Samsung%").await;
        let fields = [("supplier_id", supplier.to_string())];
        let (dead, _) = upload(&app, &csrf, "price_list", "price_list.csv", &fields).await;
        let (alive, _) = upload(&app, &csrf, "price_list", "price_list.csv", &fields).await;
        // As another server would leave them: one silent for ten minutes, one
        // that wrote its progress a moment ago.
        let now = rackledger::clock::now();
        for (id, at) in [
            (dead, now - time::Duration::minutes(10)),
            (alive, now - time::Duration::seconds(1)),
        ] {
            on!(&db, |p| sqlx::query(
                "update import_batches set status = 'committing', updated_at = $1 where id = $2"
            )
            .bind(at)
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))
            .unwrap();
        }
        let n = rackledger::importers::fail_stale(&db, rackledger::i18n::Lang::En)
            .await
            .unwrap();
        assert_eq!(n, 1, "{backend:?}");
        let status = |id: i64| {
            let db = db.clone();
            async move {
                on!(&db, |p| sqlx::query_scalar::<_, String>(
                    "select status from import_batches where id = $1"
                )
                .bind(id)
                .fetch_one(p)
                .await)
                .unwrap()
            }
        };
        assert_eq!(status(dead).await, "failed", "{backend:?}");
        assert_eq!(status(alive).await, "committing", "{backend:?}");
        let (_, doc) = app.page(&format!("/procurement/imports/{dead}")).await;
        assert!(
            text_of(&doc, "main").contains("cut off"),
            "{backend:?}: {}",
            text_of(&doc, "main")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_packing_list_row_whose_serial_is_too_long_or_a_lookalike_is_named_and_the_rest_is_checked()
 {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let po = ordered_po(&db, &[("M321R4GA3BB6-CQK", "10")]).await;
        let (_, target) = packing_target(&db, po).await;
        let serials = [
            "GOOD-A".to_owned(),
            "\u{200B}GOOD-A".to_owned(),
            "Z".repeat(200),
            "good-a".to_owned(),
        ];
        let (_, doc) = upload_bytes(
            &app,
            &csrf,
            "packing_list",
            "odd.csv",
            dimm_list(serials.into_iter()),
            &target,
        )
        .await;
        let rows = text_of(&doc, "#rows");
        assert_eq!(text_of(&doc, "#count-create"), "1", "{backend:?}: {rows}");
        assert_eq!(text_of(&doc, "#count-error"), "3", "{backend:?}: {rows}");
        // The file reader drops the zero-width space, so that row is GOOD-A again.
        assert!(rows.contains("128"), "{backend:?}: {rows}");
        assert!(
            rows.contains("Also on row 2"),
            "{backend:?}: good-a is GOOD-A: {rows}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_packing_list_sent_again_with_two_more_serials_commits_as_its_preview_said() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let po = ordered_po(&db, &[("M321R4GA3BB6-CQK", "4")]).await;
        let (_, target) = packing_target(&db, po).await;
        let first = (1..=2).map(|i| format!("S4REIMP{i:04}"));
        let (id, _) = upload_bytes(
            &app,
            &csrf,
            "packing_list",
            "first.csv",
            dimm_list(first),
            &target,
        )
        .await;
        commit(&app, &csrf, id, false).await;

        // The full list: the two received serials and two new ones.
        let all = (1..=4).map(|i| format!("S4REIMP{i:04}"));
        let (id, doc) = upload_bytes(
            &app,
            &csrf,
            "packing_list",
            "all.csv",
            dimm_list(all),
            &target,
        )
        .await;
        assert_eq!(
            counts(&doc),
            ["2".to_owned(), "0".into(), "2".into(), "0".into()],
            "{backend:?}: {}",
            text_of(&doc, "#rows")
        );
        let done = commit(&app, &csrf, id, false).await;
        assert!(
            text_of(&done, "#refused").is_empty(),
            "{backend:?}: {}",
            text_of(&done, "#refused")
        );
        assert!(!text_of(&done, "#committed").is_empty());
        assert_eq!(
            counts(&done),
            ["2".to_owned(), "0".into(), "2".into(), "0".into()],
            "the commit decided as the preview did"
        );
        let units = on!(&db, |p| {
            sqlx::query_scalar::<_, i64>(
            "select count(*) from units u join po_lines l on l.id = u.po_line_id where l.po_id = $1"
        )
        .bind(po)
        .fetch_one(p)
        .await
        })
        .unwrap();
        assert_eq!(units, 4, "{backend:?}");
        app.finish().await;
    }
}

/// The `name` attribute of the first element matching `css`.
fn attr(doc: &scraper::Html, css: &str, name: &str) -> String {
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(name))
        .unwrap_or_default()
        .to_owned()
}

/// The fields of the form `css` as the browser would send them (hidden and
/// checked inputs).
fn form_fields(doc: &scraper::Html, css: &str) -> Vec<(String, String)> {
    let sel = scraper::Selector::parse(&format!("{css} input")).unwrap();
    doc.select(&sel)
        .filter(|e| {
            let t = e.value().attr("type").unwrap_or("text");
            t != "checkbox" || e.value().attr("checked").is_some()
        })
        .filter_map(|e| {
            let v = e.value();
            Some((
                v.attr("name")?.to_owned(),
                v.attr("value").unwrap_or("").to_owned(),
            ))
        })
        .collect()
}

/// Posts the form `css` of `doc` as its button would.
async fn send_form(app: &TestApp, doc: &scraper::Html, css: &str) -> axum_test::TestResponse {
    let action = attr(doc, css, "action");
    app.server.post(&action).form(&form_fields(doc, css)).await
}

#[tokio::test]
async fn a_price_list_ending_in_total_rows_imports_without_skipping_and_names_the_total_rows() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let supplier = supplier_named(&app.db, "Kingston%").await;
        let csv = "Manufacturer,Part Number,Description,Category,Unit Price,Currency\n\
                   Samsung,M321R4GA3BB6-CQK,Total memory 32GiB RDIMM,memory,121.00,USD\n\
                   소계,,,,118.50,USD\n\
                   Grand Total,,,,118.50,USD\n";
        let target = [("supplier_id", supplier.to_string())];
        let (_, doc) = upload_bytes(
            &app,
            &csrf,
            "price_list",
            "totals.csv",
            csv.as_bytes().to_vec(),
            &target,
        )
        .await;
        assert_eq!(
            text_of(&doc, "#count-error"),
            "0",
            "{}",
            text_of(&doc, "#rows")
        );
        let note = text_of(&doc, "#summary-rows");
        assert!(
            note.contains("2 total rows ignored") && note.contains("3, 4"),
            "{backend:?}: {note}"
        );
        // The one button imports everything; no box to tick.
        assert_eq!(text_of(&doc, "#commit-button"), "Import all rows (1)");
        assert_eq!(count(&doc, "#commit input[name=skip_errors]"), 0);
        let r = send_form(&app, &doc, "#commit").await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let id: i64 = attr(&doc, "#discard", "action")
            .split('/')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap();
        let done = wait(&app, id).await;
        assert!(
            !text_of(&done, "#committed").is_empty(),
            "{}",
            text_of(&done, "#refused")
        );

        // In Korean, the same note in Korean.
        app.post_form("/lang", &csrf, &[("lang", "ko"), ("next", "/")])
            .await;
        let (_, ko) = app.page(&format!("/procurement/imports/{id}")).await;
        assert!(
            text_of(&ko, "#summary-rows").contains("합계 행 2개"),
            "{}",
            text_of(&ko, "#summary-rows")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_file_with_bad_rows_imports_its_good_rows_with_one_click_and_links_the_order_receipt_and_units()
 {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let po = ordered_po(&db, &[("M321R4GA3BB6-CQK", "4")]).await;
        let (_, target) = packing_target(&db, po).await;
        let mut list = dimm_list((1..=3).map(|i| format!("S4ONECLK{i:04}")));
        list.extend_from_slice(b"C-1,NOT-A-PART-9,Nobody,X0001,1\n");
        let (id, doc) = upload_bytes(&app, &csrf, "packing_list", "mixed.csv", list, &target).await;
        assert_eq!(
            text_of(&doc, "#commit-button"),
            "Import the good rows (3), skip the bad ones (1)"
        );
        assert!(!text_of(&doc, "#discard-button").is_empty());
        // Before the one click, the page says which order the file is for.
        let number = on!(&db, |p| sqlx::query_scalar::<_, String>(
            "select number from purchase_orders where id = $1"
        )
        .bind(po)
        .fetch_one(p)
        .await)
        .unwrap();
        assert!(
            text_of(&doc, "#import-order").contains(&number),
            "{backend:?}: {}",
            text_of(&doc, "#import-order")
        );
        let r = send_form(&app, &doc, "#commit").await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let done = wait(&app, id).await;
        assert!(
            !text_of(&done, "#committed").is_empty(),
            "{backend:?}: the click wrote the good rows: {}",
            text_of(&done, "#refused")
        );
        assert_eq!(
            attr(&done, "#link-order", "href"),
            format!("/procurement/orders/{po}")
        );
        let receipt: i64 = on!(&db, |p| sqlx::query_scalar::<_, i64>(
            "select max(id) from receipts where po_id = $1"
        )
        .bind(po)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(
            attr(&done, "#link-receipt", "href"),
            format!("/labels?receipt={receipt}")
        );
        assert_eq!(
            attr(&done, "#link-units", "href"),
            format!("/procurement/orders/{po}#received-units")
        );
        let (status, labels) = app.page(&format!("/labels?receipt={receipt}")).await;
        assert_eq!(status, 200);
        assert!(labels.html().contains("S4ONECLK0003"));

        // The commit form sent again (a double click) runs once: same answer, nothing new.
        let again = send_form(&app, &doc, "#commit").await;
        assert_eq!(again.status_code(), 303, "{}", again.text());
        let imports: i64 = on!(&db, |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_log where entity = 'import'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(imports, 1, "{backend:?}");

        // A preview that is not wanted is discarded: its file is gone.
        let list = dimm_list(std::iter::once("S4ONECLK0004".to_owned()));
        let (other, doc) =
            upload_bytes(&app, &csrf, "packing_list", "one.csv", list, &target).await;
        let r = send_form(&app, &doc, "#discard").await;
        assert_eq!(r.status_code(), 303);
        assert!(
            r.header("location")
                .to_str()
                .unwrap()
                .contains("flash=import_discarded")
        );
        let (status, _) = app.page(&format!("/procurement/imports/{other}")).await;
        assert_eq!(status, 404);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_same_file_uploaded_twice_links_the_first_import_and_a_doubled_upload_stores_it_once() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let po = ordered_po(&db, &[("M321R4GA3BB6-CQK", "4")]).await;
        let (_, target) = packing_target(&db, po).await;
        let list = || dimm_list((1..=2).map(|i| format!("S4TWICE{i:04}")));
        let (first, doc) =
            upload_bytes(&app, &csrf, "packing_list", "a.csv", list(), &target).await;
        send_form(&app, &doc, "#commit").await;
        wait(&app, first).await;
        let (_, again) = upload_bytes(&app, &csrf, "packing_list", "a.csv", list(), &target).await;
        assert!(text_of(&again, "#already").contains("already committed"));
        assert_eq!(
            attr(&again, "#earlier-import", "href"),
            format!("/procurement/imports/{first}")
        );

        // One upload form sent twice with its `_once` token: one batch.
        let (_, page) = app.page("/procurement/imports").await;
        let once = attr(&page, "#upload input[name=_once]", "value");
        assert!(once.len() >= 16);
        let send = || {
            let mut form = MultipartForm::new()
                .add_text("_once", once.clone())
                .add_text("kind", "packing_list")
                .add_part("file", Part::bytes(list()).file_name("b.csv"));
            for (k, v) in &target {
                form = form.add_text(*k, v.clone());
            }
            app.server
                .post(&format!("/procurement/imports?_csrf={csrf}"))
                .multipart(form)
        };
        let (r1, r2) = (send().await, send().await);
        assert_eq!(
            (r1.status_code().as_u16(), r2.status_code().as_u16()),
            (303, 303)
        );
        assert_eq!(r1.header("location"), r2.header("location"));
        let batches: i64 = on!(&db, |p| sqlx::query_scalar::<_, i64>(
            "select count(*) from import_batches where file_name = 'b.csv'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(batches, 1, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_empty_file_is_refused_at_the_file_field_and_keeps_kind_order_and_location() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let po = ordered_po(&db, &[("M321R4GA3BB6-CQK", "4")]).await;
        let (location, target) = packing_target(&db, po).await;
        let mut form = MultipartForm::new()
            .add_text("kind", "packing_list")
            .add_part("file", Part::bytes(Vec::new()).file_name("empty.xlsx"));
        for (k, v) in &target {
            form = form.add_text(*k, v.clone());
        }
        let r = app
            .server
            .post(&format!("/procurement/imports?_csrf={csrf}"))
            .multipart(form)
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(text_of(&doc, "#file-error").contains("empty.xlsx is empty"));
        assert_eq!(
            attr(&doc, "select[name=kind] option[selected]", "value"),
            "packing_list"
        );
        assert_eq!(
            attr(&doc, "select[name=po_id] option[selected]", "value"),
            po.to_string()
        );
        assert_eq!(
            attr(&doc, "select[name=location_id] option[selected]", "value"),
            location.to_string()
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_preview_of_more_rows_than_it_shows_says_how_many_are_shown() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let db = app.db.clone();
        let po = ordered_po(&db, &[("M321R4GA3BB6-CQK", "600")]).await;
        let (_, target) = packing_target(&db, po).await;
        let list = dimm_list((1..=600).map(|i| format!("S4MANY{i:05}")));
        let (_, doc) = upload_bytes(&app, &csrf, "packing_list", "many.csv", list, &target).await;
        assert_eq!(text_of(&doc, "#count-create"), "600");
        assert_eq!(count(&doc, "#rows tbody tr"), 500);
        assert!(
            text_of(&doc, "#sample-note").contains("First 500 of 600 rows shown"),
            "{}",
            text_of(&doc, "#sample-note")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_file_over_a_cap_is_refused_naming_the_row_and_column_where_it_went_over() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = login_buyer(&mut app).await;
        let supplier = id_of(
            &app.db,
            "select id from suppliers where name like $1",
            "Kingston%",
        )
        .await
        .to_string();
        let csv = format!(
            "MPN,Manufacturer,Unit Price\nM1,Acme,1\nM2,{},1\n",
            "x".repeat(32_768)
        );
        let (_, doc) = upload_bytes(
            &app,
            &csrf,
            "price_list",
            "long_cell.csv",
            csv.into_bytes(),
            &[("supplier_id", supplier)],
        )
        .await;
        let text = doc.root_element().text().collect::<String>();
        assert!(
            text.contains("row 3, column B") || text.contains("3행 B열"),
            "{backend:?}: {text}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_upload_form_sends_its_csrf_token_in_the_body_not_the_url() {
    let backend = backends()[0];
    let mut app = TestApp::start(backend).await;
    let csrf = app.login("buyer", "rackledger-buyer").await;
    let (_, page) = app.page("/procurement/imports").await;
    let form = scraper::Selector::parse("form#upload").expect("css");
    let form = page.select(&form).next().expect("the upload form");
    let action = form.value().attr("action").expect("action");
    assert!(!action.contains("_csrf"), "no token in the URL: {action}");
    let first = scraper::Selector::parse("input").expect("css");
    let first = form.select(&first).next().expect("an input");
    assert_eq!(
        (first.value().attr("name"), first.value().attr("value")),
        (Some("_csrf"), Some(csrf.as_str())),
        "the token is the form's first field, so it is read before the file"
    );
    let upload = |token: String| {
        let form = MultipartForm::new()
            .add_text("_csrf", token)
            .add_text("kind", "price_list")
            .add_part("file", Part::bytes(Vec::new()).file_name("prices.csv"));
        app.server.post(action).multipart(form)
    };
    let r = upload("not-the-token".into()).await;
    assert_eq!(r.status_code(), 403, "{}", r.text());
    // The right token reaches the handler (which names the empty file).
    let r = upload(csrf.clone()).await;
    assert_eq!(r.status_code(), 422, "{}", r.text());
    app.finish().await;
}
