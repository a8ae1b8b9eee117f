//! Suppliers and the catalogue; money hidden from technicians and viewers.

use serde_json::Value;

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

#[tokio::test]
async fn a_technician_sees_no_money_on_pages_or_in_the_api() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        for (user, password) in [("tech", "rackledger-tech"), ("guest", "rackledger-guest")] {
            app.login(user, password).await;
            let r = app.server.get("/procurement/parts").await;
            assert_eq!(r.status_code(), 200, "{backend:?}");
            let html = r.text();
            let doc = scraper::Html::parse_document(&html);
            assert_eq!(
                count(&doc, "#parts tbody tr"),
                12,
                "{user} sees the catalogue"
            );
            let table = text_of(&doc, "#parts");
            for symbol in ["$", "₩", "€", "CN¥", "118.50", "2,730"] {
                assert!(
                    !table.contains(symbol),
                    "{user} must not see {symbol:?} on {backend:?}"
                );
            }
            let api: Value = app.server.get("/api/v1/parts?per_page=100").await.json();
            assert_eq!(api["total"], 12);
            assert!(
                api["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|p| p.get("last_price").is_none()),
                "{user}: API omits prices"
            );
        }
        app.login("buyer", "rackledger-buyer").await;
        let doc = scraper::Html::parse_document(
            &app.server
                .get("/procurement/parts?q=M321R4GA3BB6")
                .await
                .text(),
        );
        assert!(
            text_of(&doc, "#parts").contains("$118.50"),
            "procurement sees the price"
        );
        let api: Value = app.server.get("/api/v1/parts?q=M321R4GA3BB6").await.json();
        assert_eq!(
            api["items"][0]["last_price"]["amount"], "118.5",
            "exact, without trailing zeros"
        );
        assert_eq!(api["items"][0]["last_price"]["currency"], "USD");
        app.finish().await;
    }
}

#[tokio::test]
async fn suppliers_can_be_searched_sorted_paged_and_validated() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let (_, doc) = app.page("/procurement/suppliers?q=tw").await;
        assert_eq!(
            count(&doc, "#suppliers tbody tr"),
            3,
            "Kingston and Delta (country TW), Mellanox (name) on {backend:?}"
        );
        let (_, doc) = app.page("/procurement/suppliers?sort=lead_time").await;
        assert!(
            text_of(&doc, "#suppliers tbody tr").starts_with("Samsung"),
            "shortest lead time first"
        );

        let bad = app
            .post_form(
                "/procurement/suppliers",
                &csrf,
                &[
                    ("name", "Wiwynn"),
                    ("country", "Taiwan"),
                    ("currency", "NTD"),
                ],
            )
            .await;
        assert_eq!(bad.status_code(), 422);
        let doc = scraper::Html::parse_document(&bad.text());
        assert!(
            text_of(&doc, "#country-error").contains("ISO")
                || text_of(&doc, "#country-error").contains("KR")
        );
        assert!(
            text_of(&doc, "#currency-error").contains("NTD"),
            "the error names the bad value"
        );

        let ok = app
            .post_form(
                "/procurement/suppliers",
                &csrf,
                &[
                    ("name", "Wiwynn"),
                    ("country", "tw"),
                    ("currency", "twd"),
                    ("lead_time_days", "30"),
                ],
            )
            .await;
        assert_eq!(ok.status_code(), 303);
        let dup = app
            .post_form(
                "/procurement/suppliers",
                &csrf,
                &[("name", "Wiwynn"), ("country", "TW"), ("currency", "TWD")],
            )
            .await;
        assert_eq!(
            dup.status_code(),
            422,
            "duplicate names are refused with a field message"
        );

        let api: Value = app
            .server
            .get("/api/v1/suppliers?per_page=2&page=2")
            .await
            .json();
        assert_eq!(api["total"], 7);
        assert_eq!(api["items"].as_array().unwrap().len(), 2);
        let wiwynn: Value = app.server.get("/api/v1/suppliers?q=wiwynn").await.json();
        assert_eq!(wiwynn["items"][0]["currency"], "TWD");
        assert_eq!(wiwynn["items"][0]["country"], "TW");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_part_price_is_stored_exactly() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let r = app
            .post_form(
                "/procurement/parts",
                &csrf,
                &[
                    ("manufacturer", "Generic"),
                    ("mpn", "M3-SCREW"),
                    ("category", "other"),
                    ("last_price", "0.0350"),
                    ("last_price_currency", "USD"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let api: Value = app.server.get("/api/v1/parts?q=M3-SCREW").await.json();
        assert_eq!(
            api["items"][0]["last_price"]["amount"], "0.035",
            "no float rounding on {backend:?}"
        );
        let bad = app
            .post_form(
                "/procurement/parts",
                &csrf,
                &[
                    ("manufacturer", "Generic"),
                    ("mpn", "X"),
                    ("category", "toaster"),
                    ("last_price", "-1"),
                ],
            )
            .await;
        assert_eq!(bad.status_code(), 422);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_part_models_specs_are_typed_validated_and_audited() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let id: i64 = rackledger::on!(&app.db, |p| {
            sqlx::query_scalar("select id from part_models where mpn = 'MZQL23T8HCLS-00A07'")
                .fetch_one(p)
                .await
        })
        .unwrap();
        let (status, doc) = app.page(&format!("/procurement/parts/{id}")).await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(
            doc.root_element()
                .text()
                .collect::<String>()
                .contains("3.84 TB"),
            "capacity shown in TB"
        );
        let path = format!("/procurement/parts/{id}");
        let base = [
            ("manufacturer", "Samsung"),
            ("mpn", "MZQL23T8HCLS-00A07"),
            ("category", "nvme"),
            ("serial_tracked", "true"),
            ("last_price", "389.00"),
            ("last_price_currency", "USD"),
        ];
        let mut bad = base.to_vec();
        bad.push(("capacity_gb", "3.84TB"));
        let r = app.post_form(&path, &csrf, &bad).await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            text_of(&doc, "#capacity_gb-error").contains("3.84TB"),
            "the error names the value"
        );
        let mut good = base.to_vec();
        good.extend([
            ("capacity_gb", "7680"),
            ("form_factor", "U.2"),
            ("speed", "PCIe 4.0 x4"),
            ("end_of_life", "2029-12-31"),
        ]);
        let mut bad_eol = base.to_vec();
        bad_eol.push(("end_of_life", "31/12/2029"));
        assert_eq!(
            app.post_form(&path, &csrf, &bad_eol).await.status_code(),
            422,
            "dates are YYYY-MM-DD"
        );
        assert_eq!(app.post_form(&path, &csrf, &good).await.status_code(), 303);
        let api: Value = app.server.get("/api/v1/parts?q=MZQL23T8HCLS").await.json();
        assert_eq!(api["items"][0]["capacity_gb"], 7680);
        assert_eq!(api["items"][0]["form_factor"], "U.2");
        assert_eq!(api["items"][0]["end_of_life"], "2029-12-31");
        app.login("admin", "rackledger-admin").await;
        let audit: Value = app
            .server
            .get(&format!("/api/v1/audit?entity=part_model&entity_id={id}"))
            .await
            .json();
        let after: Value =
            serde_json::from_str(audit["items"][0]["after_json"].as_str().unwrap()).unwrap();
        assert_eq!(after["capacity_gb"], 7680);
        app.login("tech", "rackledger-tech").await;
        let page = app
            .server
            .get(&format!("/procurement/parts/{id}"))
            .await
            .text();
        assert!(
            !page.contains("389") && !page.contains('$'),
            "technicians see specs, not prices"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_expected_date_before_the_order_date_is_refused_at_its_field_with_the_input_kept() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let supplier: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select id from suppliers where currency = 'KRW' order by id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let supplier = supplier.to_string();
        let fields = |expected: &'static str| {
            vec![
                ("supplier_id", supplier.clone()),
                ("order_date", "2026-11-20".to_owned()),
                ("expected_date", expected.to_owned()),
                ("notes", "rush order".to_owned()),
            ]
        };
        for (lang, words) in [
            (
                "en",
                "Expected date: 2026-11-01 is before the order date 2026-11-20",
            ),
            ("ko", "입고 예정일: 2026-11-01"),
        ] {
            app.post_form("/lang", &csrf, &[("lang", lang), ("next", "/")])
                .await;
            let f = fields("2026-11-01");
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app.post_form("/procurement/orders", &csrf, &f).await;
            assert_eq!(r.status_code(), 422, "{backend:?} {lang}");
            let doc = scraper::Html::parse_document(&r.text());
            let msg = text_of(&doc, "#expected_date-error");
            assert!(msg.contains(words), "{lang}: {msg}");
            let kept = scraper::Selector::parse("input[name=expected_date]").unwrap();
            let kept = doc
                .select(&kept)
                .next()
                .unwrap()
                .value()
                .attr("value")
                .unwrap()
                .to_owned();
            assert_eq!(kept, "2026-11-01", "the input is kept");
        }
        let orders: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select count(*) from purchase_orders where notes = 'rush order'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(orders, 0, "nothing was saved");

        // The same day, or later, is fine.
        let f = fields("2026-11-20");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.post_form("/procurement/orders", &csrf, &f).await;
        assert_eq!(r.status_code(), 303, "{}", r.text());

        // The API refuses it the same way, naming the field.
        let body = serde_json::json!({"supplier_id": supplier.parse::<i64>().unwrap(),
            "order_date": "2026-11-20", "expected_date": "2026-11-19"});
        let r = app
            .server
            .post("/api/v1/orders")
            .add_header("x-csrf-token", &csrf)
            .json(&body)
            .await;
        assert_eq!(r.status_code(), 422, "{}", r.text());
        let err: Value = r.json();
        assert_eq!(err["fields"][0]["field"], "expected_date", "{err}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_country_code_that_iso_never_assigned_is_refused_in_the_form_and_the_api() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        for (lang, code, words) in [
            ("en", "KO", "Country: \"KO\" is not an ISO 3166-1"),
            ("ko", "ZZ", "국가: \"ZZ\""),
        ] {
            app.post_form("/lang", &csrf, &[("lang", lang), ("next", "/")])
                .await;
            let r = app
                .post_form(
                    "/procurement/suppliers",
                    &csrf,
                    &[("name", "Typo Co"), ("country", code), ("currency", "KRW")],
                )
                .await;
            assert_eq!(r.status_code(), 422, "{backend:?} {code}");
            let doc = scraper::Html::parse_document(&r.text());
            let msg = text_of(&doc, "#country-error");
            assert!(msg.contains(words), "{lang}: {msg}");
            let kept = scraper::Selector::parse("input[name=name]").unwrap();
            let kept = doc
                .select(&kept)
                .next()
                .unwrap()
                .value()
                .attr("value")
                .unwrap()
                .to_owned();
            assert_eq!(kept, "Typo Co");
        }
        let r = app
            .server
            .post("/api/v1/suppliers")
            .add_header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"name": "Api Typo", "country": "UK", "currency": "GBP"}))
            .await;
        assert_eq!(r.status_code(), 422, "{}", r.text());
        let err: Value = r.json();
        assert_eq!(err["fields"][0]["field"], "country", "{err}");
        let r = app
            .server
            .post("/api/v1/suppliers")
            .add_header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"name": "Api Right", "country": "gb", "currency": "GBP"}))
            .await;
        assert_eq!(r.status_code(), 201, "{}", r.text());
        app.finish().await;
    }
}
