//! The forms that used to answer an edge refusal (a hidden character, an
//! over-long text) with a bare error page: each comes back with a 422, the
//! form as typed and the message at its field, and nothing is written.

use rackledger::audit::Actor;
use rackledger::datacenter::racks::{self, RackInput};
use scraper::Html;

use crate::app::{TestApp, count, text_of};
use crate::formkit::{as_user, attr, refused, scalar};
use crate::support::backends;

/// Posts `fields` (owned pairs) as the session.
async fn post(app: &TestApp, csrf: &str, path: &str, fields: &[(&str, String)]) -> Html {
    let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = app.post_form(path, csrf, &f).await;
    refused(&r, app.backend)
}

/// `sql` (a count) finds no row: the refused form wrote nothing.
async fn none_written(app: &TestApp, sql: &'static str) {
    let n = scalar(app, sql).await;
    assert_eq!(n, 0, "{:?}: nothing written ({sql})", app.backend);
}

/// The message at `field` names the refused character.
fn marked(doc: &Html, field: &str, what: &str) {
    let said = text_of(doc, &format!("#{field}-error"));
    assert!(said.contains(what), "#{field}-error: {said:?}");
}

#[tokio::test]
async fn a_token_name_with_a_hidden_character_comes_back_as_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "admin", "en").await;
        let buyer = app.user_id("buyer").await.to_string();
        let doc = post(
            &app,
            &csrf,
            "/admin/tokens",
            &[
                ("user_id", buyer.clone()),
                ("name", "Evil\u{202e}Key".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#name", "value"), "Evil\u{fffd}Key");
        assert_eq!(attr(&doc, "#name", "aria-invalid"), "true");
        assert_eq!(
            attr(&doc, "select[name=user_id] option[selected]", "value"),
            buyer
        );
        marked(&doc, "name", "U+202E");
        let n = scalar(
            &app,
            "select count(*) from api_tokens where name like 'Evil%'",
        )
        .await;
        assert_eq!(n, 0, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn minimum_stock_and_warranty_terms_refused_at_the_edge_keep_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "ko").await;
        let part = scalar(&app, "select max(id) from part_models")
            .await
            .to_string();
        let location = scalar(&app, "select max(id) from stock_locations")
            .await
            .to_string();
        let supplier = scalar(&app, "select max(id) from suppliers")
            .await
            .to_string();

        let doc = post(
            &app,
            &csrf,
            "/inventory/reorder",
            &[
                ("part_model_id", part.clone()),
                ("location_id", location.clone()),
                ("min_quantity", "1\u{7}0".into()),
                ("preferred_supplier_id", supplier.clone()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#min_quantity", "value"), "1\u{fffd}0");
        assert_eq!(attr(&doc, "#part_model_id option[selected]", "value"), part);
        assert_eq!(
            attr(&doc, "#location_id option[selected]", "value"),
            location
        );
        assert_eq!(
            attr(&doc, "#preferred_supplier_id option[selected]", "value"),
            supplier
        );
        marked(&doc, "min_quantity", "U+0007");
        marked(&doc, "min_quantity", "제어 문자");

        let doc = post(
            &app,
            &csrf,
            "/inventory/warranty",
            &[
                ("supplier_id", supplier.clone()),
                ("part_model_id", part.clone()),
                ("months", "3\u{0}6".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#months", "value"), "3\u{fffd}6");
        assert_eq!(
            attr(&doc, "#supplier_id option[selected]", "value"),
            supplier
        );
        assert_eq!(attr(&doc, "#part_model_id option[selected]", "value"), part);
        marked(&doc, "months", "U+0000");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_rma_and_a_build_template_refused_at_the_edge_keep_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "tech", "en").await;
        let long = "x".repeat(2001);
        let doc = post(
            &app,
            &csrf,
            "/inventory/rma",
            &[
                ("serial", "S4EMNX0W000011".into()),
                ("reason", long.clone()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#serial", "value"), "S4EMNX0W000011");
        assert_eq!(attr(&doc, "#reason", "value"), long);
        assert_eq!(attr(&doc, "#reason", "aria-invalid"), "true");
        marked(&doc, "reason", "2000");
        assert_eq!(
            scalar(&app, "select count(*) from rmas").await,
            0,
            "{backend:?}"
        );

        let doc = post(
            &app,
            &csrf,
            "/inventory/templates",
            &[
                ("name", "Node\u{1b}[31m".into()),
                ("asset_kind", "storage".into()),
                ("height_u", "2".into()),
                ("nameplate_watts", "800".into()),
                ("assembly_labour", "".into()),
                ("slots", "".into()),
                ("notes", "typed notes".into()),
                ("ports", "".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "input[name=name]", "value"), "Node\u{fffd}[31m");
        assert_eq!(attr(&doc, "input[name=height_u]", "value"), "2");
        assert_eq!(
            attr(&doc, "select[name=asset_kind] option[selected]", "value"),
            "storage"
        );
        marked(&doc, "name", "U+001B");
        let n = scalar(
            &app,
            "select count(*) from build_templates where name like 'Node%'",
        )
        .await;
        assert_eq!(n, 0, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_racks_usable_u_refused_at_the_edge_keeps_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let input = RackInput {
            site: "Seoul DC1".into(),
            room: "Hall 2".into(),
            row: "Row B".into(),
            name: "B01".into(),
            height_u: Some("42".into()),
            power_budget_kw: None,
            numbering: None,
        };
        let rack = racks::create(&app.db, &Actor::system("test"), &input)
            .await
            .expect("a rack");
        let csrf = as_user(&mut app, "tech", "en").await;
        let path = format!("/datacenter/racks/{rack}/usable-u");
        let doc = post(&app, &csrf, &path, &[("usable_u", "4\u{7f}0".into())]).await;
        let kept = attr(&doc, "#usable-u-form input[name=usable_u]", "value");
        assert_eq!(kept, "4\u{fffd}0");
        marked(&doc, "usable_u", "U+007F");
        app.finish().await;
    }
}

#[tokio::test]
async fn cost_forms_refused_at_the_edge_keep_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "boss", "en").await;
        let evil = || "Evil\u{7}Name".to_owned();
        let kept = "Evil\u{fffd}Name";

        let doc = post(
            &app,
            &csrf,
            "/cost/instance-types",
            &[
                ("name", evil()),
                ("vcpus", "8".into()),
                ("ram_gib", "32".into()),
                ("disk_gb", "200".into()),
                ("included_traffic_gb", "".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#type-name", "value"), kept);
        assert_eq!(attr(&doc, "#type-form input[name=ram_gib]", "value"), "32");
        marked(&doc, "name", "U+0007");
        assert_eq!(
            count(&doc, "#tier-form .field-error"),
            0,
            "only at its form"
        );

        let doc = post(
            &app,
            &csrf,
            "/cost/competitors",
            &[
                ("name", evil()),
                ("currency", "USD".into()),
                ("fx_rate", "1350".into()),
                ("egress_per_gb", "0.09".into()),
                ("free_egress_gb", "100".into()),
            ],
        )
        .await;
        assert_eq!(
            attr(&doc, "#competitor-form input[name=name]", "value"),
            kept
        );
        assert_eq!(attr(&doc, "input[name=fx_rate]", "value"), "1350");
        marked(&doc, "name", "U+0007");

        let doc = post(
            &app,
            &csrf,
            "/cost/scenarios",
            &[
                ("name", evil()),
                ("fx_currency", "USD".into()),
                ("fx_rate", "1500".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "input[name=name]", "value"), kept);
        assert_eq!(attr(&doc, "input[name=fx_rate]", "value"), "1500");
        marked(&doc, "name", "U+0007");
        let n = scalar(
            &app,
            "select (select count(*) from instance_types where name like 'Evil%') + (select count(*) from cost_scenarios where name like 'Evil%')",
        )
        .await;
        assert_eq!(n, 0, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn order_line_cost_and_receipt_forms_refused_at_the_edge_keep_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "en").await;
        let po = scalar(&app, "select max(id) from purchase_orders").await;
        let part = scalar(&app, "select max(id) from part_models")
            .await
            .to_string();
        let location = scalar(&app, "select max(id) from stock_locations")
            .await
            .to_string();
        let lines_before = scalar(&app, "select count(*) from po_lines").await;
        let receiving = scalar(
            &app,
            "select max(id) from purchase_orders where status in ('ordered', 'partially_received')",
        )
        .await;

        let doc = post(
            &app,
            &csrf,
            &format!("/procurement/orders/{po}/lines"),
            &[
                ("part_model_id", part.clone()),
                ("quantity", "5".into()),
                ("unit_price", "1\u{7}00".into()),
                ("unit_weight_g", "900".into()),
                ("warranty_months", "".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#line-unit_price", "value"), "1\u{fffd}00");
        assert_eq!(attr(&doc, "#line-unit_price", "aria-invalid"), "true");
        assert_eq!(attr(&doc, "#line-quantity", "value"), "5");
        assert_eq!(attr(&doc, "#line-unit_weight_g", "value"), "900");
        assert_eq!(attr(&doc, "#line-part option[selected]", "value"), part);
        marked(&doc, "unit_price", "U+0007");

        let doc = post(
            &app,
            &csrf,
            &format!("/procurement/orders/{po}/costs"),
            &[
                ("kind", "customs_duty".into()),
                ("description", "Freight\u{1}Air".into()),
                ("amount", "120".into()),
                ("currency", "".into()),
                ("fx_rate", "".into()),
                ("basis", "weight".into()),
            ],
        )
        .await;
        assert_eq!(
            attr(&doc, "#cost-description", "value"),
            "Freight\u{fffd}Air"
        );
        assert_eq!(attr(&doc, "#cost-amount", "value"), "120");
        assert_eq!(
            attr(&doc, "#cost-basis option[selected]", "value"),
            "weight"
        );
        assert_eq!(
            attr(&doc, "#cost-kind option[selected]", "value"),
            "customs_duty"
        );
        marked(&doc, "description", "U+0001");
        assert_eq!(
            count(&doc, "#line-quantity[value='5']"),
            0,
            "only the refused form is kept"
        );

        let doc = post(
            &app,
            &csrf,
            &format!("/procurement/orders/{receiving}/receipts"),
            &[
                ("location_id", location.clone()),
                ("notes", "dock\u{0}3".into()),
                ("confirm_over", "1".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#receive-notes", "value"), "dock\u{fffd}3");
        assert_eq!(
            attr(&doc, "#receive-location option[selected]", "value"),
            location
        );
        assert_eq!(count(&doc, "input[name=confirm_over][checked]"), 1);
        marked(&doc, "notes", "U+0000");
        let lines = scalar(&app, "select count(*) from po_lines").await;
        assert_eq!(lines, lines_before, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_refused_user_name_shows_the_login_form_again_whether_or_not_the_user_exists() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let mut said = Vec::new();
        for name in ["ad\u{7}min", "nobody\u{7}here"] {
            app.server.clear_cookies();
            let form_page = app.server.get("/login").await;
            let pre = crate::app::hidden_csrf(&form_page.text());
            let r = app
                .server
                .post("/login")
                .form(&[
                    ("username", name),
                    ("password", "rackledger-admin"),
                    ("_csrf", pre.as_str()),
                    ("next", "/inventory"),
                ])
                .await;
            let doc = refused(&r, backend);
            assert_eq!(
                count(&doc, "form[action='/login']"),
                1,
                "{backend:?}: the form"
            );
            assert_eq!(
                attr(&doc, "#username", "value"),
                name.replace('\u{7}', "\u{fffd}")
            );
            assert_eq!(attr(&doc, "input[name=next]", "value"), "/inventory");
            marked(&doc, "username", "U+0007");
            said.push(text_of(&doc, ".error-summary"));
        }
        assert_eq!(
            said[0], said[1],
            "{backend:?}: never says whether the user exists"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn account_preferences_and_password_refused_at_the_edge_come_back_marked() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "guest", "en").await;
        let doc = post(
            &app,
            &csrf,
            "/account/preferences",
            &[
                ("lang", "ko".into()),
                ("time_zone", "Asia/Seo\u{7}ul".into()),
            ],
        )
        .await;
        assert_eq!(
            attr(&doc, "input[name=time_zone]", "value"),
            "Asia/Seo\u{fffd}ul"
        );
        assert_eq!(attr(&doc, "input[name=time_zone]", "aria-invalid"), "true");
        marked(&doc, "time_zone", "U+0007");

        let doc = post(
            &app,
            &csrf,
            "/account/password",
            &[
                ("current_password", "rackledger-guest".into()),
                ("new_password", "new\u{0}password-long".into()),
                ("confirm_password", "new\u{0}password-long".into()),
            ],
        )
        .await;
        assert_eq!(count(&doc, "form[action='/account/password']"), 1);
        assert_eq!(
            attr(&doc, "input[name=new_password]", "value"),
            "",
            "never shown again"
        );
        marked(&doc, "new_password", "U+0000");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_scan_and_an_assembly_order_refused_at_the_edge_keep_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "tech", "en").await;
        let location = scalar(&app, "select max(id) from stock_locations")
            .await
            .to_string();

        let r = app
            .post_form(
                "/datacenter/audits",
                &csrf,
                &[("rack_id", ""), ("location_id", location.as_str())],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let audit = scalar(&app, "select max(id) from stocktakes").await;
        let doc = post(
            &app,
            &csrf,
            &format!("/datacenter/audits/{audit}/scan"),
            &[("code", "S4EMNX0W\u{7}000001".into())],
        )
        .await;
        assert_eq!(attr(&doc, "#code", "value"), "S4EMNX0W\u{fffd}000001");
        marked(&doc, "code", "U+0007");

        let fields = [
            ("name", "Gen3 node"),
            ("asset_kind", "server"),
            ("height_u", "1"),
            ("nameplate_watts", "500"),
            ("assembly_labour", ""),
            ("slots", "CPU1: 100-000001463"),
            ("notes", ""),
            ("ports", ""),
        ];
        let r = app.post_form("/inventory/templates", &csrf, &fields).await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let template = scalar(&app, "select max(id) from build_templates").await;
        let doc = post(
            &app,
            &csrf,
            "/inventory/assembly",
            &[
                ("template_id", template.to_string()),
                ("asset_tag", "TAG\u{7}1".into()),
                ("hostname", "node-17".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "input[name=asset_tag]", "value"), "TAG\u{fffd}1");
        assert_eq!(attr(&doc, "input[name=hostname]", "value"), "node-17");
        marked(&doc, "asset_tag", "U+0007");

        app.finish().await;
    }
}

#[tokio::test]
async fn cable_forms_refused_come_back_to_the_asset_page_as_typed() {
    use rackledger::datacenter::cabling::{self, CableInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let s = crate::workorders::servers(&db, &["CAB-A", "CAB-B"]).await;
        let a = cabling::ports_of(&db, s[0]).await.expect("ports");
        let csrf = as_user(&mut app, "tech", "en").await;
        let port = a[1].id.to_string();
        let doc = post(
            &app,
            &csrf,
            "/datacenter/cables",
            &[
                ("port_id", port.clone()),
                ("peer_asset_tag", "CAB-B".into()),
                ("peer_port", "eth\u{7}0".into()),
                ("label", "uplink 7".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#peer_port", "value"), "eth\u{fffd}0");
        assert_eq!(attr(&doc, "#peer_asset_tag", "value"), "CAB-B");
        assert_eq!(attr(&doc, "#label", "value"), "uplink 7");
        assert_eq!(
            attr(&doc, "#cable-form select option[selected]", "value"),
            port
        );
        marked(&doc, "peer_port", "U+0007");

        let cable = cabling::connect(
            &db,
            &Actor::system("test"),
            &CableInput {
                port_id: a[0].id,
                peer_asset_tag: "CAB-B".into(),
                peer_port: "eth0".into(),
                label: String::new(),
            },
        )
        .await
        .expect("a cable");
        let doc = post(
            &app,
            &csrf,
            &format!("/datacenter/cables/{cable}/move"),
            &[
                ("from_port_id", a[0].id.to_string()),
                ("to_asset_tag", "CAB\u{1b}A".into()),
                ("to_port", "eth1".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#to_asset_tag", "value"), "CAB\u{fffd}A");
        assert_eq!(attr(&doc, "#to_port", "value"), "eth1");
        marked(&doc, "to_asset_tag", "U+001B");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_import_profile_refused_at_the_edge_keeps_what_was_typed() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "en").await;
        let supplier = scalar(&app, "select max(id) from suppliers")
            .await
            .to_string();
        let doc = post(
            &app,
            &csrf,
            "/procurement/imports/profiles",
            &[
                ("supplier_id", supplier.clone()),
                ("name", "Acme\u{7}CSV".into()),
                ("kind", "packing_list".into()),
                ("sheet", "Sheet1".into()),
                ("header_row", "2".into()),
                ("col_mpn", "Part No".into()),
            ],
        )
        .await;
        assert_eq!(attr(&doc, "#profile-name", "value"), "Acme\u{fffd}CSV");
        assert_eq!(attr(&doc, "#profile-sheet", "value"), "Sheet1");
        assert_eq!(attr(&doc, "#profile-header_row", "value"), "2");
        assert_eq!(attr(&doc, "input[name=col_mpn]", "value"), "Part No");
        assert_eq!(
            attr(
                &doc,
                "#profile-form select[name=kind] option[selected]",
                "value"
            ),
            "packing_list"
        );
        assert_eq!(
            attr(
                &doc,
                "#profile-form select[name=supplier_id] option[selected]",
                "value"
            ),
            supplier
        );
        marked(&doc, "name", "U+0007");
        app.finish().await;
    }
}

#[tokio::test]
async fn demoting_or_disabling_the_last_admin_shows_the_user_form_marked() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "admin", "en").await;
        let admin = app.user_id("admin").await;
        let path = format!("/admin/users/{admin}");
        let r = app
            .post_form(
                &path,
                &csrf,
                &[("display_name", "Boss"), ("role", "viewer")],
            )
            .await;
        assert_eq!(r.status_code(), 409, "{backend:?}");
        let doc = Html::parse_document(&r.text());
        marked(&doc, "role", "last active administrator");
        assert_eq!(
            attr(&doc, "select[name=role] option[selected]", "value"),
            "viewer"
        );
        assert_eq!(attr(&doc, "input[name=display_name]", "value"), "Boss");

        let r = app
            .post_form(
                &path,
                &csrf,
                &[
                    ("display_name", "admin"),
                    ("role", "admin"),
                    ("disabled", "1"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 409, "{backend:?}");
        let doc = Html::parse_document(&r.text());
        marked(&doc, "disabled", "last active administrator");
        assert_eq!(attr(&doc, "input[name=disabled][checked]", "value"), "1");
        let n = scalar(
            &app,
            "select count(*) from users where role = 'admin' and disabled = false",
        )
        .await;
        assert_eq!(n, 1, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_hidden_character_in_a_list_search_still_shows_the_list() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        as_user(&mut app, "admin", "en").await;
        for path in [
            "/inventory/units?q=%00",
            "/procurement/suppliers?q=a%1Bb",
            "/admin/users?q=%E2%80%AE",
        ] {
            let r = app.server.get(path).await;
            assert_eq!(r.status_code(), 200, "{backend:?} {path}: {}", r.text());
            assert!(!r.text().contains('\u{0}'), "{path}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn an_unreadable_page_number_is_refused_in_words_not_the_parsers() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        as_user(&mut app, "admin", "en").await;
        let order = scalar(&app, "select min(id) from purchase_orders").await;
        for path in [
            format!("/procurement/orders/{order}?page=abc"),
            "/inventory/units?page=abc".to_owned(),
        ] {
            let r = app.server.get(&path).await;
            assert_eq!(r.status_code(), 400, "{backend:?} {path}");
            let text = r.text();
            assert!(!text.contains("deserialize"), "{path}: {text}");
            assert!(text.contains("page number"), "{path}: {text}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_field_refused_at_the_edge_does_not_hide_the_forms_other_messages() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "admin", "en").await;
        let doc = post(
            &app,
            &csrf,
            "/procurement/suppliers",
            &[
                ("name", "Bad\u{1b}Co".into()),
                ("country", "KR".into()),
                ("currency", "KRW".into()),
                ("lead_time_days", "abc".into()),
            ],
        )
        .await;
        marked(&doc, "name", "U+001B");
        marked(&doc, "lead_time_days", "whole number of days");
        assert_eq!(attr(&doc, "input[name=lead_time_days]", "value"), "abc");

        let doc = post(
            &app,
            &csrf,
            "/workorders",
            &[
                ("kind", "replace".into()),
                ("title", "x".repeat(5000)),
                ("asset_tag", "NO-SUCH-ASSET".into()),
                ("due_date", "31/12/2026".into()),
            ],
        )
        .await;
        marked(&doc, "title", "300");
        marked(&doc, "asset_tag", "NO-SUCH-ASSET");
        marked(&doc, "due_date", "31/12/2026");
        none_written(
            &app,
            "select count(*) from suppliers where name like 'Bad%'",
        )
        .await;
        none_written(
            &app,
            "select count(*) from work_orders where length(title) > 300",
        )
        .await;
        app.finish().await;
    }
}

#[tokio::test]
async fn a_refused_form_whose_other_fields_are_fine_writes_nothing() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "admin", "en").await;
        let before = scalar(&app, "select count(*) from work_orders").await;
        let doc = post(
            &app,
            &csrf,
            "/workorders",
            &[
                ("kind", "other".into()),
                ("title", "Tidy\u{0} the cage".into()),
            ],
        )
        .await;
        marked(&doc, "title", "U+0000");
        let after = scalar(&app, "select count(*) from work_orders").await;
        assert_eq!(after, before, "{backend:?}: nothing written");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_empty_supplier_lead_time_is_asked_for_not_stored_as_zero() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "admin", "en").await;
        let doc = post(
            &app,
            &csrf,
            "/procurement/suppliers",
            &[
                ("name", "Blank Lead Co".into()),
                ("country", "KR".into()),
                ("currency", "KRW".into()),
                ("lead_time_days", "".into()),
            ],
        )
        .await;
        marked(&doc, "lead_time_days", "0 if");
        none_written(
            &app,
            "select count(*) from suppliers where name = 'Blank Lead Co'",
        )
        .await;
        app.finish().await;
    }
}

#[tokio::test]
async fn an_unknown_supplier_and_a_huge_quantity_say_what_is_wrong() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = as_user(&mut app, "buyer", "en").await;
        let doc = post(
            &app,
            &csrf,
            "/procurement/orders",
            &[("supplier_id", "999999".into())],
        )
        .await;
        marked(&doc, "supplier_id", "Unknown supplier");

        let draft = scalar(
            &app,
            "select min(id) from purchase_orders where status = 'draft'",
        )
        .await;
        let part = scalar(&app, "select min(id) from part_models").await;
        let doc = post(
            &app,
            &csrf,
            &format!("/procurement/orders/{draft}/lines"),
            &[
                ("part_model_id", part.to_string()),
                ("quantity", "99999999999999".into()),
                ("unit_price", "10".into()),
            ],
        )
        .await;
        marked(&doc, "quantity", "1,000,000");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_unknown_list_filter_is_named_not_ignored() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        as_user(&mut app, "admin", "en").await;
        for path in [
            "/inventory/units?status=bogus",
            "/procurement/orders?status=bogus",
            "/procurement/parts?category=bogus",
            "/inventory/stock?category=bogus",
            "/workorders?status=bogus",
        ] {
            let r = app.server.get(path).await;
            assert_eq!(r.status_code(), 422, "{backend:?} {path}");
            assert!(r.text().contains("bogus"), "{path}: {}", r.text());
        }
        for path in [
            "/inventory/units?status=",
            "/inventory/units?status=faulty",
            "/procurement/orders?status=draft",
            "/workorders?status=all",
        ] {
            let r = app.server.get(path).await;
            assert_eq!(r.status_code(), 200, "{backend:?} {path}");
        }
        app.finish().await;
    }
}
