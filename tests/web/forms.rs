//! Every form, refused, comes back with what was typed and the message at
//! its field, in the user's language: refusals of the service and of the
//! input-checking edge (hidden characters, over-long text) alike.

use rackledger::audit::Actor;
use rackledger::datacenter::placement::{self, PlaceInput};
use rackledger::datacenter::racks::{self, RackInput};
use scraper::Html;

use crate::app::{TestApp, add_asset, count, text_of};
use crate::formkit::{as_user, attr, choose_lang, refused, scalar};
use crate::support::backends;

#[tokio::test]
async fn a_refused_rack_placement_shows_the_form_again_with_the_typed_u_and_the_message_at_it() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let actor = Actor::system("test");
        let rack_input = RackInput {
            site: "Seoul DC1".into(),
            room: "Hall 9".into(),
            row: "Row Z".into(),
            name: "Z01".into(),
            height_u: Some("42".into()),
            power_budget_kw: Some("5".into()),
            numbering: None,
        };
        let rack = racks::create(&db, &actor, &rack_input).await.unwrap();
        let first = add_asset(&db, "FORM-A").await;
        let second = add_asset(&db, "FORM-B").await;
        let at = |u: &str| PlaceInput {
            rack_id: rack,
            u_position: u.into(),
            face: "front".into(),
            depth: "full".into(),
        };
        placement::place(&db, &actor, first, &at("10"))
            .await
            .unwrap();
        let csrf = as_user(&mut app, "tech", "en").await;
        let path = format!("/datacenter/place/{second}");
        let rack_id = rack.to_string();

        // The U is taken: the form comes back as sent, the occupant named at the U.
        let r = app
            .post_form(
                &path,
                &csrf,
                &[
                    ("rack_id", rack_id.as_str()),
                    ("u_position", "10"),
                    ("face", "rear"),
                    ("depth", "full"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 409, "{backend:?}");
        let doc = Html::parse_document(&r.text());
        assert_eq!(attr(&doc, "#u_position", "value"), "10", "{backend:?}");
        assert_eq!(attr(&doc, "#u_position", "aria-invalid"), "true");
        assert!(
            text_of(&doc, "#u_position-error").contains("FORM-A"),
            "{}",
            text_of(&doc, "#u_position-error")
        );
        assert_eq!(attr(&doc, "#face option[selected]", "value"), "rear");
        let chosen = format!("option[value='{rack}'][selected]");
        assert_eq!(count(&doc, &chosen), 1, "its rack stays chosen");

        // Not a number, in Korean, and no raw field name.
        choose_lang(&app, &csrf, "ko").await;
        let r = app
            .post_form(
                &path,
                &csrf,
                &[
                    ("rack_id", rack_id.as_str()),
                    ("u_position", "열"),
                    ("face", "front"),
                    ("depth", "half"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = Html::parse_document(&r.text());
        assert_eq!(attr(&doc, "#u_position", "value"), "열");
        assert_eq!(attr(&doc, "#depth option[selected]", "value"), "half");
        let said = text_of(&doc, "#u_position-error");
        assert!(said.contains("정수") || said.contains("열"), "{said}");
        assert!(!r.text().contains("u_position:"), "no raw field name");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_bad_bmc_url_comes_back_to_the_asset_page_with_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let asset = add_asset(&app.db, "FORM-BMC").await;
        let csrf = as_user(&mut app, "admin", "en").await;
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "ftp://bmc-7.example"),
                    ("username", "root"),
                    ("password", "secret-pass"),
                    ("tls_policy", "insecure"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: not a 409");
        let html = r.text();
        let doc = Html::parse_document(&html);
        assert_eq!(attr(&doc, "#bmc-url-input", "value"), "ftp://bmc-7.example");
        assert_eq!(
            attr(&doc, "#bmc-form input[name=username]", "value"),
            "root"
        );
        assert_eq!(
            attr(
                &doc,
                "#bmc-form select[name=tls_policy] option[selected]",
                "value"
            ),
            "insecure"
        );
        assert!(
            !text_of(&doc, "#url-error").is_empty(),
            "message at the URL"
        );
        assert!(
            !html.contains("secret-pass"),
            "the password never comes back"
        );
        let saved: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select count(*) from bmcs where asset_id = $1"
        )
        .bind(asset)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(saved, 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_form_refused_at_the_edge_comes_back_with_its_input_kept_and_the_field_named() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "tech", "en").await;

        // A hidden character in a pasted serial list.
        let r = app
            .post_form(
                "/inventory/transfers",
                &csrf,
                &[
                    ("to_location_id", ""),
                    ("serials", "S4EMNX0W000001\nS4EMNX0W\u{0}000002"),
                    ("step", "preview"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        let doc = Html::parse_document(&r.text());
        let kept = text_of(&doc, "#serials");
        assert!(
            kept.starts_with("S4EMNX0W000001") && kept.contains("S4EMNX0W\u{fffd}000002"),
            "{kept:?}"
        );
        assert!(
            text_of(&doc, "#serials-error").contains("U+0000"),
            "{}",
            text_of(&doc, "#serials-error")
        );

        // An over-long scrap reason, in Korean.
        let unit: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select id from units where serial = 'S4EMNX0W000011'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        choose_lang(&app, &csrf, "ko").await;
        let long = "가".repeat(2001);
        let r = app
            .post_form(
                &format!("/inventory/units/{unit}/scrap"),
                &csrf,
                &[("reason", long.as_str())],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = Html::parse_document(&r.text());
        assert_eq!(attr(&doc, "#scrap-form input[name=reason]", "value"), long);
        assert!(
            text_of(&doc, "#scrap-reason-error").contains("2000"),
            "{}",
            text_of(&doc, "#scrap-reason-error")
        );
        let status: String = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select status from units where id = $1"
        )
        .bind(unit)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_ne!(status, "scrapped", "nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_form_that_cannot_show_itself_again_is_still_refused_at_the_edge() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "admin", "en").await;
        // Choosing a unit for an assembly slot: hidden fields only, so only a
        // crafted request carries a hidden character.
        let r = app
            .post_form(
                "/inventory/assembly/1/choose",
                &csrf,
                &[("slot_name", "CPU\u{202e}0"), ("serial", "S4EMNX0W000001")],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        assert!(r.text().contains("U+202E"));
        assert!(
            r.text().contains("correct what is marked"),
            "says what to do next"
        );
        app.finish().await;
    }
}

/// Pages read forms only through `web::Form` (refused at the edge) or
/// `web::Checked` (shown again): axum's own `Form` would take a form the edge
/// refused as if nothing were wrong with it.
#[test]
fn pages_read_forms_only_through_the_web_extractors() {
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web"));
    let mut stack = vec![root];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("form.rs") {
                let src = std::fs::read_to_string(&path).unwrap();
                let compact: String = src.split_whitespace().collect();
                let imports_form = compact.split("useaxum::{").skip(1).any(|rest| {
                    rest.split('}')
                        .next()
                        .is_some_and(|l| l.split(',').any(|i| i == "Form"))
                });
                if compact.contains("axum::Form") || imports_form {
                    offenders.push(path.display().to_string());
                }
            }
        }
    }
    assert!(offenders.is_empty(), "axum::Form in pages: {offenders:?}");
}

#[tokio::test]
async fn an_empty_rate_paste_is_not_saved_and_a_refused_rate_keeps_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "ko").await;
        let r = app
            .post_form("/procurement/rates/import", &csrf, &[("csv", "  \n")])
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: not \"Saved.\"");
        let doc = Html::parse_document(&r.text());
        assert!(
            text_of(&doc, "#csv-error").contains("환율"),
            "{}",
            text_of(&doc, "#csv-error")
        );
        choose_lang(&app, &csrf, "en").await;
        let r = app
            .post_form(
                "/procurement/rates",
                &csrf,
                &[
                    ("currency", "USD"),
                    ("rate_date", "2026-11-27"),
                    ("rate", "-3"),
                    ("source", "KEB Hana"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = Html::parse_document(&r.text());
        assert_eq!(attr(&doc, "input[name=currency]", "value"), "USD");
        assert_eq!(attr(&doc, "input[name=rate]", "value"), "-3");
        assert_eq!(attr(&doc, "input[name=source]", "value"), "KEB Hana");
        assert!(!text_of(&doc, "#rate-error").is_empty());
        app.finish().await;
    }
}

async fn first_id(app: &TestApp, table: &'static str) -> i64 {
    let sql = match table {
        "suppliers" => "select id from suppliers order by id limit 1",
        _ => "select id from part_models order by id limit 1",
    };
    scalar(app, sql).await
}

#[tokio::test]
async fn a_supplier_refused_at_the_edge_comes_back_as_typed_with_the_message_at_its_field() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "en").await;
        let form = |name: &str| {
            vec![
                ("name".to_owned(), name.to_owned()),
                ("country".to_owned(), "KR".to_owned()),
                ("currency".to_owned(), "KRW".to_owned()),
                ("contact".to_owned(), "kim@example.com".to_owned()),
            ]
        };
        let post = |path: String, fields: Vec<(String, String)>| {
            let app = &app;
            let csrf = csrf.clone();
            async move {
                let f: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                app.post_form(&path, &csrf, &f).await
            }
        };

        // New, a name of 400 characters.
        let long = "N".repeat(400);
        let r = post("/procurement/suppliers".into(), form(&long)).await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=name]", "value"), long);
        assert_eq!(attr(&doc, "input[name=name]", "aria-invalid"), "true");
        assert_eq!(
            attr(&doc, "input[name=contact]", "value"),
            "kim@example.com"
        );
        assert!(text_of(&doc, "#name-error").contains("At most 300"));

        // New, a control character, in Korean.
        choose_lang(&app, &csrf, "ko").await;
        let r = post("/procurement/suppliers".into(), form("Evil\u{1}Corp")).await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=name]", "value"), "Evil\u{fffd}Corp");
        let said = text_of(&doc, "#name-error");
        assert!(
            said.contains("U+0001") && said.contains("제어 문자"),
            "{said}"
        );

        // Edit, a name of 100,000 characters: the stored name is kept.
        let id = first_id(&app, "suppliers").await;
        let huge = "가".repeat(100_000);
        let r = post(format!("/procurement/suppliers/{id}"), form(&huge)).await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=name]", "value"), huge);
        assert!(text_of(&doc, "#name-error").contains("최대 300자"));
        let n = scalar(
            &app,
            "select count(*) from suppliers where name like 'Evil%' or length(name) > 300",
        )
        .await;
        assert_eq!(n, 0, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_part_refused_at_the_edge_comes_back_as_typed_with_the_message_at_its_field() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "en").await;
        let r = app
            .post_form(
                "/procurement/parts",
                &csrf,
                &[
                    ("manufacturer", "Samsung"),
                    ("mpn", "MZ\u{1b}[31mQL"),
                    ("category", "ssd"),
                    ("description", "3.84 TB NVMe"),
                ],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=mpn]", "value"), "MZ\u{fffd}[31mQL");
        assert_eq!(
            attr(&doc, "input[name=description]", "value"),
            "3.84 TB NVMe"
        );
        assert!(text_of(&doc, "#mpn-error").contains("U+001B"));

        let id = first_id(&app, "part_models").await;
        let huge = "d".repeat(100_000);
        let r = app
            .post_form(
                &format!("/procurement/parts/{id}"),
                &csrf,
                &[
                    ("manufacturer", "Samsung"),
                    ("mpn", "EDITED-MPN"),
                    ("category", "ssd"),
                    ("description", huge.as_str()),
                ],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=description]", "value"), huge);
        assert_eq!(attr(&doc, "input[name=mpn]", "value"), "EDITED-MPN");
        assert!(text_of(&doc, "#description-error").contains("At most 2000"));
        let n = scalar(
            &app,
            "select count(*) from part_models where mpn like 'MZ%QL' or mpn = 'EDITED-MPN'",
        )
        .await;
        assert_eq!(n, 0, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_order_with_over_long_notes_comes_back_as_typed_with_the_message_at_its_field() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "ko").await;
        let supplier = first_id(&app, "suppliers").await.to_string();
        let before = scalar(&app, "select count(*) from purchase_orders").await;
        let huge = "메모".repeat(50_000);
        let r = app
            .post_form(
                "/procurement/orders",
                &csrf,
                &[
                    ("supplier_id", supplier.as_str()),
                    ("order_date", "2026-03-02"),
                    ("notes", huge.as_str()),
                ],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=notes]", "value"), huge);
        assert_eq!(attr(&doc, "input[name=order_date]", "value"), "2026-03-02");
        assert!(text_of(&doc, "#notes-error").contains("최대 4000자"));
        let after = scalar(&app, "select count(*) from purchase_orders").await;
        assert_eq!(after, before, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_spare_serial_with_a_nul_comes_back_to_the_work_order_as_typed() {
    use crate::workorders::{actor, at, rack, replace, servers};
    use rackledger::workorders::{self, Origin};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let seoul = rack(&db, "Seoul DC1", "F01").await;
        let srv = servers(&db, &["SRV-F001"]).await[0];
        placement::place(&db, &actor(), srv, &at(seoul, "10"))
            .await
            .unwrap();
        let wo = workorders::create(
            &db,
            &actor(),
            &replace("SRV-F001", "DIMM A2"),
            &Origin::default(),
            rackledger::i18n::Lang::En,
        )
        .await
        .unwrap();
        let csrf = as_user(&mut app, "tech", "en").await;
        let r = app
            .post_form(
                &format!("/workorders/{wo}/complete"),
                &csrf,
                &[("spare_serial", "S4EM\u{0}NX"), ("removed_to", "faulty")],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "#spare_serial", "value"), "S4EM\u{fffd}NX");
        assert_eq!(attr(&doc, "#spare_serial", "aria-invalid"), "true");
        assert_eq!(
            attr(&doc, "select[name=removed_to] option[selected]", "value"),
            "faulty"
        );
        assert!(text_of(&doc, "#spare_serial-error").contains("U+0000"));
        let open = scalar(
            &app,
            "select count(*) from work_orders where status <> 'done'",
        )
        .await;
        assert!(open >= 1, "{backend:?}: not completed");
        app.finish().await;
    }
}

async fn paste_rates(app: &TestApp, csrf: &str, csv: &str) -> axum_test::TestResponse {
    app.post_form("/procurement/rates/import", csrf, &[("csv", csv)])
        .await
}

async fn rates_from(app: &TestApp, source: &str) -> Vec<String> {
    let pattern = format!("{source}%");
    rackledger::on!(&app.db, |p| sqlx::query_scalar::<_, String>(
        "select currency from fx_rates where source like $1 order by currency"
    )
    .bind(&pattern)
    .fetch_all(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn a_rate_paste_without_a_header_keeps_its_first_line_and_one_with_a_header_skips_it() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let r = paste_rates(
            &app,
            &csrf,
            "USD,2020-01-02,1000,QA1-first\nEUR,2020-01-02,1100,QA1-second",
        )
        .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(
            rates_from(&app, "QA1-").await,
            ["EUR", "USD"],
            "{backend:?}"
        );
        let r = paste_rates(&app, &csrf, "JPY,2020-01-01,9.5,QA2").await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(rates_from(&app, "QA2").await, ["JPY"], "{backend:?}");
        let r = paste_rates(
            &app,
            &csrf,
            "currency,date,rate,source\nGBP,2020-01-03,1700,QA3",
        )
        .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(rates_from(&app, "QA3").await, ["GBP"], "{backend:?}");
        // A mistyped first line is reported, not skipped as if it were a header.
        let r = paste_rates(
            &app,
            &csrf,
            "USD,2020-01-04,abc,QA4\nEUR,2020-01-04,1100,QA4",
        )
        .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        assert!(rates_from(&app, "QA4").await.is_empty(), "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn work_orders_locations_racks_and_users_refused_at_the_edge_keep_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "admin", "en").await;

        // A work order: a hidden character in the title, over-long notes.
        let notes = "n".repeat(5000);
        let r = app
            .post_form(
                "/workorders",
                &csrf,
                &[
                    ("kind", "replace"),
                    ("asset_tag", "SRV-X01"),
                    ("slot_name", "DIMM A2"),
                    ("title", "Swap\u{1}DIMM"),
                    ("notes", notes.as_str()),
                ],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=title]", "value"), "Swap\u{fffd}DIMM");
        assert_eq!(attr(&doc, "input[name=asset_tag]", "value"), "SRV-X01");
        assert_eq!(text_of(&doc, "textarea[name=notes]"), notes);
        assert!(text_of(&doc, "#title-error").contains("U+0001"));
        assert!(text_of(&doc, "#notes-error").contains("At most 4000"));

        // A stock location, in Korean.
        choose_lang(&app, &csrf, "ko").await;
        let r = app
            .post_form(
                "/inventory/locations",
                &csrf,
                &[("name", "Cage\u{7}B"), ("kind", "shelf")],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=name]", "value"), "Cage\u{fffd}B");
        assert!(text_of(&doc, "#name-error").contains("U+0007"));

        // A rack with a 400-character name.
        let long = "R".repeat(400);
        let r = app
            .post_form(
                "/datacenter",
                &csrf,
                &[
                    ("site", "Seoul DC1"),
                    ("room", "Hall 7"),
                    ("row", "Row Q"),
                    ("name", long.as_str()),
                    ("height_u", "42"),
                ],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=name]", "value"), long);
        assert_eq!(attr(&doc, "input[name=room]", "value"), "Hall 7");
        assert!(text_of(&doc, "#name-error").contains("최대 300자"));

        // A user, new and edited, with a control character in the name shown.
        let r = app
            .post_form(
                "/admin/users",
                &csrf,
                &[
                    ("username", "newbie"),
                    ("display_name", "Kim\u{1b}Min"),
                    ("password", "a-long-password-1"),
                    ("role", "viewer"),
                ],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(attr(&doc, "input[name=username]", "value"), "newbie");
        assert_eq!(
            attr(&doc, "input[name=display_name]", "value"),
            "Kim\u{fffd}Min"
        );
        assert!(text_of(&doc, "#display_name-error").contains("U+001B"));
        let tech = scalar(&app, "select id from users where username = 'tech'").await;
        let r = app
            .post_form(
                &format!("/admin/users/{tech}"),
                &csrf,
                &[("display_name", "Tech\u{0}Lee"), ("role", "technician")],
            )
            .await;
        let doc = refused(&r, backend);
        assert_eq!(
            attr(&doc, "input[name=display_name]", "value"),
            "Tech\u{fffd}Lee"
        );
        assert!(text_of(&doc, "#display_name-error").contains("U+0000"));

        let written = scalar(
            &app,
            "select (select count(*) from work_orders where title like 'Swap%')
                  + (select count(*) from stock_locations where name like 'Cage%')
                  + (select count(*) from racks where name like 'RRRR%')
                  + (select count(*) from users where username = 'newbie' or display_name like 'Tech%Lee')",
        )
        .await;
        assert_eq!(written, 0, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn saved_bmc_settings_redirect_with_the_flash_before_the_fragment() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = TestApp::start_with(backend, crate::app::with_master_key(&dir)).await;
        let asset = add_asset(&app.db, "FORM-BMC-OK").await;
        let csrf = as_user(&mut app, "admin", "en").await;
        let r = app
            .post_form(
                &format!("/health/assets/{asset}/bmc"),
                &csrf,
                &[
                    ("url", "https://127.0.0.1:9/redfish/v1"),
                    ("username", "root"),
                    ("password", "secret-pass"),
                    ("tls_policy", "insecure"),
                    ("ca_cert_pem", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let location = r.header("location").to_str().unwrap().to_owned();
        assert_eq!(
            location,
            format!("/inventory/assets/{asset}?flash=saved#health"),
            "{backend:?}"
        );
        let page = app.server.get(location.split('#').next().unwrap()).await;
        assert!(page.text().contains("Saved."), "{backend:?}: flash shown");
        app.finish().await;
    }
}
