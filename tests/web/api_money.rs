//! Money never reaches a role without `ViewMoney` through the JSON API.
//!
//! The walk reads the OpenAPI document the app serves and GETs every operation
//! in it, as the technician and as the viewer, over the demo showcase (with an
//! audit, a BMC and a credited RMA added), and fails on any money-like field
//! with a non-null value anywhere in a response. The same walk as the admin
//! must find money, so the matcher and the fixture are known to work. A new
//! GET route with a path parameter fails until it gets a fixture id in
//! `ID_FOR`; a new money field fails until the API hides it.

use serde_json::Value;

use crate::app::{TestApp, test_bmc};
use crate::support::backends;
use rackledger::on;

/// A key is money-like when its name contains one of these (lowercase).
const MONEY_WORDS: &[&str] = &[
    "cost",
    "price",
    "amount",
    "valu", // value, valuation
    "labour",
    "labor",
    "minor", // integer minor units
    "total",
    "credit",
    "fx_rate",
    "landed",
    "margin",
    "spend",
    "revenue",
    "_currency", // `credit_currency`, `cost_currency`: the currency of an amount
    "goods",
    "vat",
    "depreciat",
];

/// Keys that contain a word above but are not money, each with the reason.
const NOT_MONEY: &[(&str, &str)] = &[("total", "a page's row count, beside `items`")];

/// Name endings that give a number a unit other than money (STYLE: units go
/// in names), so a number so named beside a `currency` is not an amount.
const UNIT_SUFFIXES: &[&str] = &["id", "_days", "_months", "_watts", "_u", "_g", "_kw"];

/// Statuses a non-money role may get from a GET: the operations that are
/// money or admin only answer 403, everything else must answer 200 so the walk
/// really reads data.
const REFUSED_WITHOUT_MONEY: &[&str] = &[
    "/fx-rates",
    "/cost/params",
    "/cost/instance-types",
    "/cost/tiers",
    "/cost/competitors",
    "/cost/report",
    "/cost/scenarios",
    "/users",
    "/audit",
];

/// For each GET path with parameters, the SQL that picks a real row for `{id}`
/// (one that carries money where it can).
const ID_FOR: &[(&str, &str)] = &[
    ("/orders/{id}", "select min(po_id) from receipts"),
    (
        "/assembly/{id}",
        "select min(id) from assembly_orders where status = 'open'",
    ),
    (
        "/assets/{id}",
        "select min(id) from assets where assembly_labour_minor > 0",
    ),
    ("/assets/{id}/health", "select min(asset_id) from bmcs"),
    (
        "/assets/{id}/health/readings",
        "select min(asset_id) from bmcs",
    ),
    (
        "/racks/{id}",
        "select min(id) from racks where monthly_cost_minor > 0",
    ),
    ("/work-orders/{id}", "select min(id) from work_orders"),
    ("/audits/{id}", "select min(id) from stocktakes"),
];

/// Whether the key `k` names money.
fn money_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    MONEY_WORDS.iter().any(|w| k.contains(w)) && !NOT_MONEY.iter().any(|(n, _)| *n == k)
}

/// Every money-like field with a non-null value in `v`, as `pointer = value`.
/// An object holding a `currency` beside a number is money too (a
/// currency-paired amount under a name the list does not know).
fn money_in(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            let priced = o.contains_key("currency");
            for (k, x) in o {
                let here = format!("{at}/{k}");
                let paired = priced
                    && !UNIT_SUFFIXES.iter().any(|u| k.ends_with(u))
                    && (x.is_number() || x.as_str().is_some_and(|s| s.parse::<f64>().is_ok()));
                if !x.is_null() && (money_key(k) || paired) {
                    let shown = x.to_string();
                    out.push(format!("{here} = {}", &shown[..shown.len().min(60)]));
                } else {
                    money_in(x, &here, out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                money_in(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The showcase plus what it lacks for the walk: an audit, a BMC and a credited RMA.
async fn seed(app: &TestApp) {
    let db = &app.db;
    rackledger::demo::seed_showcase(db).await.unwrap();
    let actor = rackledger::audit::Actor::system("test");
    let rack: i64 = on!(db, |p| sqlx::query_scalar(
        "select min(rack_id) from placements"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    rackledger::stocktake::start(
        db,
        &actor,
        &rackledger::stocktake::StartInput {
            rack_id: rack.to_string(),
            location_id: String::new(),
        },
    )
    .await
    .unwrap();
    let asset: i64 = on!(db, |p| sqlx::query_scalar("select min(id) from assets")
        .fetch_one(p)
        .await)
    .unwrap();
    test_bmc(db, asset).await;
    let (rma, location): (i64, i64) = on!(db, |p| sqlx::query_as(
        "select r.id, (select min(id) from stock_locations) from rmas r where r.status = 'shipped' order by r.id"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    rackledger::inventory::rma::resolve(
        db,
        &actor,
        rma,
        &rackledger::inventory::rma::ResolveInput {
            outcome: "credited".into(),
            credit_amount: Some("120000".into()),
            credit_currency: Some("KRW".into()),
            location_id: location,
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

/// GET paths of the served OpenAPI document, with `{id}` filled from `ID_FOR`.
async fn get_operations(app: &TestApp) -> Vec<(String, String)> {
    let doc: Value = app.server.get("/api/v1/openapi.json").await.json();
    let paths = doc["paths"].as_object().expect("paths in the document");
    let mut out = Vec::new();
    for (path, item) in paths {
        if item.get("get").is_none() {
            continue;
        }
        let url = if path.contains('{') {
            let sql = ID_FOR
                .iter()
                .find(|(p, _)| p == path)
                .unwrap_or_else(|| panic!("GET {path}: add the SQL that picks a row to ID_FOR"))
                .1;
            let id: Option<i64> =
                on!(&app.db, |p| sqlx::query_scalar(sql).fetch_one(p).await).unwrap();
            let id = id.unwrap_or_else(|| panic!("GET {path}: the fixture has no row for {sql}"));
            path.replace("{id}", &id.to_string())
        } else {
            path.clone()
        };
        assert!(
            !url.contains('{'),
            "GET {path}: a parameter ID_FOR cannot fill"
        );
        out.push((path.clone(), format!("/api/v1{url}")));
    }
    assert!(out.len() > 25, "the document lists the GET operations");
    out
}

/// Walks every GET operation as the logged-in user; returns the money found,
/// per operation.
async fn walk(app: &TestApp, who: &str, expect_money: bool) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for (path, url) in get_operations(app).await {
        let r = app.server.get(&url).await;
        let status = r.status_code().as_u16();
        let refused = !expect_money && REFUSED_WITHOUT_MONEY.contains(&path.as_str());
        let want = if refused { 403 } else { 200 };
        assert_eq!(
            status,
            want,
            "{:?} {who} GET {url}: {}",
            app.backend,
            r.text()
        );
        let body: Value = r.json();
        let mut money = Vec::new();
        money_in(&body, "", &mut money);
        if !money.is_empty() {
            found.push((url, money));
        }
    }
    found
}

#[tokio::test]
async fn no_get_operation_of_the_api_shows_money_to_a_technician_or_a_viewer() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        seed(&app).await;

        app.login("admin", "rackledger-admin").await;
        let seen: Vec<String> = walk(&app, "admin", true)
            .await
            .into_iter()
            .map(|(url, _)| url)
            .collect();
        for must in [
            "/racks",
            "/templates",
            "/units",
            "/parts",
            "/rma",
            "/reorder",
        ] {
            assert!(
                seen.contains(&format!("/api/v1{must}")),
                "{backend:?}: the admin walk finds money in {must} (fixture or matcher broken): {seen:?}"
            );
        }
        for prefix in ["/racks/", "/orders/", "/assets/", "/assembly/"] {
            assert!(
                seen.iter()
                    .any(|u| u.starts_with(&format!("/api/v1{prefix}"))),
                "{backend:?}: the admin walk finds money under {prefix}: {seen:?}"
            );
        }

        let mut leaks = Vec::new();
        for (user, password) in [("tech", "rackledger-tech"), ("guest", "rackledger-guest")] {
            app.login(user, password).await;
            for (url, money) in walk(&app, user, false).await {
                leaks.push(format!("{user} GET {url}: {}", money.join(", ")));
            }
        }
        assert!(
            leaks.is_empty(),
            "{backend:?}: money shown to roles without ViewMoney:\n{}",
            leaks.join("\n")
        );
        app.finish().await;
    }
}

#[test]
fn the_document_marks_money_fields_as_omitted_and_the_matcher_knows_them_all() {
    use rackledger::api::money::MONEY_FIELDS;
    let unknown: Vec<_> = MONEY_FIELDS.iter().filter(|f| !money_key(f)).collect();
    assert!(
        unknown.is_empty(),
        "MONEY_WORDS misses hidden fields: {unknown:?}"
    );
    let doc = serde_json::to_value(rackledger::api::openapi()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut marked = Vec::new();
    for (name, schema) in schemas {
        if name.ends_with("Input") || name.ends_with("In") {
            continue; // request bodies: there money is an input, refused from such roles
        }
        let parts = match schema["allOf"].as_array() {
            Some(all) => all.iter().collect(),
            None => vec![schema],
        };
        for part in parts {
            let Some(props) = part["properties"].as_object() else {
                continue;
            };
            let required: Vec<&str> = part["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (prop, p) in props {
                if !MONEY_FIELDS.contains(&prop.as_str()) {
                    continue;
                }
                assert!(
                    !required.contains(&prop.as_str()),
                    "{name}.{prop} is required"
                );
                let d = p["description"].as_str().unwrap_or_default();
                assert!(d.contains("ViewMoney"), "{name}.{prop} not marked: {d:?}");
                marked.push(format!("{name}.{prop}"));
            }
        }
    }
    for must in [
        "Rack.monthly_cost_minor",
        "Template.assembly_labour_minor",
        "PartModel.last_price",
    ] {
        assert!(
            marked.iter().any(|m| m == must),
            "{must} marked: {marked:?}"
        );
    }
}

#[test]
fn the_money_matcher_knows_money_from_counts() {
    let body = serde_json::json!({
        "items": [{"id": 1, "name": "A01", "monthly_cost_minor": 0, "height_u": 42,
                   "note": {"amount": "12.00", "currency": "USD"},
                   "fee": {"currency": "KRW", "won": 5000, "supplier_id": 3}}],
        "total": 1, "page": 1, "per_page": 50,
        "hidden": {"last_price": null}
    });
    let mut found = Vec::new();
    money_in(&body, "", &mut found);
    assert_eq!(
        found,
        [
            "/items/0/fee/won = 5000",
            "/items/0/monthly_cost_minor = 0",
            "/items/0/note/amount = \"12.00\"",
        ]
    );
}

/// Tokens for the technician and the buyer (who sees money and edits inventory).
async fn tech_and_buyer(app: &mut TestApp) -> (String, String) {
    let csrf = app.login("admin", "rackledger-admin").await;
    let tech = app
        .issue_token(&csrf, app.user_id("tech").await, "bench")
        .await;
    let buyer = app
        .issue_token(&csrf, app.user_id("buyer").await, "erp")
        .await;
    app.server.clear_cookies();
    (tech, buyer)
}

async fn count_of(app: &TestApp, sql: &'static str) -> i64 {
    on!(&app.db, |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await)
    .unwrap()
}

#[tokio::test]
async fn a_technician_cannot_set_assembly_labour_through_the_api_or_the_form() {
    use serde_json::json;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (tech, buyer) = tech_and_buyer(&mut app).await;
        let body = |name: &str, labour: &str| {
            json!({"name": name, "asset_kind": "server", "height_u": "1", "nameplate_watts": "300",
                   "assembly_labour": labour, "slots": "BOOT1: SEDC600M/960G"})
        };
        let r = app
            .post_bearer(&tech, "/api/v1/templates", &body("priced", "50000"))
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}: {}", r.text());
        let err: Value = r.json();
        assert_eq!(err["error"], "forbidden", "{err}");
        assert!(
            err["message"].as_str().unwrap().contains("assembly_labour"),
            "the message names the money field: {err}"
        );
        assert_eq!(err["fields"][0]["field"], "assembly_labour", "{err}");
        assert_eq!(
            count_of(&app, "select count(*) from build_templates").await,
            0
        );

        // No labour (empty or zero) is not money being set.
        for (name, labour) in [("plain", ""), ("zero", "0")] {
            let r = app
                .post_bearer(&tech, "/api/v1/templates", &body(name, labour))
                .await;
            assert_eq!(r.status_code(), 201, "{backend:?} {name}: {}", r.text());
        }
        let r = app
            .post_bearer(&buyer, "/api/v1/templates", &body("by buyer", "50000"))
            .await;
        assert_eq!(r.status_code(), 201, "{backend:?}: {}", r.text());
        let r: Value = r.json();
        assert_eq!(r["template"]["assembly_labour_minor"], 50000);

        // The page's form hides the field from technicians; posting it anyway is refused.
        let csrf = app.login("tech", "rackledger-tech").await;
        let r = app
            .post_form(
                "/inventory/templates",
                &csrf,
                &[
                    ("name", "form priced"),
                    ("asset_kind", "server"),
                    ("height_u", "1"),
                    ("nameplate_watts", "300"),
                    ("assembly_labour", "70000"),
                    ("slots", "BOOT1: SEDC600M/960G"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}: {}", r.text());
        assert_eq!(
            count_of(
                &app,
                "select count(*) from build_templates where assembly_labour_minor > 0"
            )
            .await,
            1,
            "only the buyer's template has labour"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_technician_cannot_record_an_rma_credit_through_the_api() {
    use serde_json::json;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&app.db).await.unwrap();
        let (tech, buyer) = tech_and_buyer(&mut app).await;
        let (rma, location): (i64, i64) = on!(&app.db, |p| sqlx::query_as(
            "select r.id, (select min(id) from stock_locations) from rmas r where r.status = 'shipped' order by r.id"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let body = json!({"outcome": "credited", "credit_amount": "120000", "credit_currency": "KRW", "location_id": location});
        let r = app
            .post_bearer(&tech, &format!("/api/v1/rma/{rma}"), &body)
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}: {}", r.text());
        let err: Value = r.json();
        assert!(
            err["message"].as_str().unwrap().contains("credit_amount"),
            "the message names the money field: {err}"
        );
        assert_eq!(
            count_of(&app, "select count(*) from rmas where status = 'shipped'").await,
            1,
            "still shipped"
        );
        let r = app
            .post_bearer(&buyer, &format!("/api/v1/rma/{rma}"), &body)
            .await;
        assert_eq!(r.status_code(), 204, "{backend:?}: {}", r.text());
        app.finish().await;
    }
}

#[tokio::test]
async fn what_a_technician_writes_comes_back_without_money() {
    use serde_json::json;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (tech, _) = tech_and_buyer(&mut app).await;
        let r = app
            .post_bearer(
                &tech,
                "/api/v1/racks",
                &json!({"site": "Seoul DC1", "room": "Hall 2", "row": "Row C", "name": "C07"}),
            )
            .await;
        assert_eq!(r.status_code(), 201, "{backend:?}: {}", r.text());
        let mut money = Vec::new();
        money_in(&r.json(), "", &mut money);
        assert!(money.is_empty(), "{backend:?}: {money:?}");
        app.finish().await;
    }
}
