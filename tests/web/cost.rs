//! Cost: the worked example of docs/cost-model.md built through the API, and
//! scenarios that change results but never recorded data.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};

use crate::app::TestApp;
use crate::support::backends;

/// Tokens of the three roles the example needs.
struct Tokens {
    buyer: String,
    tech: String,
    boss: String,
    guest: String,
}

async fn tokens(app: &mut TestApp) -> Tokens {
    let csrf = app.login("admin", "rackledger-admin").await;
    let t = Tokens {
        buyer: app
            .issue_token(&csrf, app.user_id("buyer").await, "erp")
            .await,
        tech: app
            .issue_token(&csrf, app.user_id("tech").await, "dc")
            .await,
        boss: app
            .issue_token(&csrf, app.user_id("boss").await, "cost")
            .await,
        guest: app
            .issue_token(&csrf, app.user_id("guest").await, "ro")
            .await,
    };
    app.server.clear_cookies();
    t
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post_bearer(token, path, &body).await;
    assert!(
        r.status_code().is_success(),
        "{:?} POST {path}: {} {}",
        app.backend,
        r.status_code(),
        r.text()
    );
    r.json()
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app.server.get(path).authorization_bearer(token).await;
    assert_eq!(r.status_code(), 200, "GET {path}: {}", r.text());
    r.json()
}

/// An exact decimal string from the API, rounded half away from zero to 4 places.
fn dp4(v: &Value) -> String {
    let d: Decimal = v
        .as_str()
        .unwrap_or_else(|| panic!("decimal string, got {v}"))
        .parse()
        .unwrap();
    d.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

/// Builds the docs/cost-model.md example; returns the asset id.
async fn build_example(app: &TestApp, t: &Tokens) -> i64 {
    let supplier = post(
        app,
        &t.buyer,
        "/api/v1/suppliers",
        json!({"name": "Example Components Inc.", "country": "US", "currency": "USD"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut parts = Vec::new();
    for (mpn, category, spec, value) in [
        ("EX-CPU-32C", "cpu", "cores", "32"),
        ("EX-DIMM-64G", "memory", "memory_gib", "64"),
        ("EX-NVME-3840", "nvme", "capacity_gb", "3840"),
        ("EX-CHASSIS-1U", "chassis", "form_factor", "1U"),
    ] {
        let mut body = json!({"manufacturer": "Example", "mpn": mpn, "category": category, "description": mpn, "serial_tracked": "true"});
        body[spec] = json!(value);
        parts.push(
            post(app, &t.buyer, "/api/v1/parts", body).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let order = post(
        app,
        &t.buyer,
        "/api/v1/orders",
        json!({"supplier_id": supplier, "fx_rate": "1400", "fx_rate_date": "2026-11-02"}),
    )
    .await["order"]["id"]
        .as_i64()
        .unwrap();
    let o = format!("/api/v1/orders/{order}");
    for (part, qty, price) in [
        (parts[0], "2", "1000.00"),
        (parts[1], "4", "200.00"),
        (parts[2], "1", "300.00"),
        (parts[3], "1", "800.00"),
    ] {
        post(
            app,
            &t.buyer,
            &format!("{o}/lines"),
            json!({"part_model_id": part, "quantity": qty, "unit_price": price}),
        )
        .await;
    }
    for (kind, amount) in [("freight", "78.00"), ("customs_duty", "195.00")] {
        post(
            app,
            &t.buyer,
            &format!("{o}/costs"),
            json!({"kind": kind, "amount": amount, "basis": "value"}),
        )
        .await;
    }
    post(
        app,
        &t.buyer,
        &format!("{o}/status"),
        json!({"status": "ordered"}),
    )
    .await;
    let detail = get(app, &t.buyer, &o).await;
    let lines: Vec<i64> = detail["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    let location = get(app, &t.buyer, "/api/v1/locations").await[0]["id"]
        .as_i64()
        .unwrap();
    let received = post(
        app,
        &t.buyer,
        &format!("{o}/receipts"),
        json!({"location_id": location, "lines": [
            {"po_line_id": lines[0], "serials": ["EXC-1", "EXC-2"]},
            {"po_line_id": lines[1], "serials": ["EXD-1", "EXD-2", "EXD-3", "EXD-4"]},
            {"po_line_id": lines[2], "serials": ["EXN-1"]},
            {"po_line_id": lines[3], "serials": ["EXS-1"]},
        ]}),
    )
    .await;
    let unit_costs: Vec<&str> = received["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["landed_cost"]["amount"].as_str().unwrap())
        .collect();
    assert_eq!(
        unit_costs,
        vec![
            "1498000", "1498000", "299600", "299600", "299600", "299600", "449400", "1198400"
        ],
        "landed cost per unit (doc step 1)"
    );
    // Labour is money: the buyer (who sees it) sets the template up.
    let template = post(
        app,
        &t.buyer,
        "/api/v1/templates",
        json!({"name": "example node", "asset_kind": "server", "height_u": "1", "nameplate_watts": "400",
               "assembly_labour": "50000",
               "slots": "CPU1-2: EX-CPU-32C\nDIMM1-4: EX-DIMM-64G\nNVME1: EX-NVME-3840\nCHASSIS: EX-CHASSIS-1U"}),
    )
    .await["template"]["id"]
        .as_i64()
        .unwrap();
    let assembly = post(
        app,
        &t.tech,
        "/api/v1/assembly",
        json!({"template_id": template, "asset_tag": "EX-0001"}),
    )
    .await["order"]["id"]
        .as_i64()
        .unwrap();
    let asset = post(
        app,
        &t.tech,
        &format!("/api/v1/assembly/{assembly}/complete"),
        json!({}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let seen = get(app, &t.boss, &format!("/api/v1/assets/{asset}")).await;
    assert_eq!(seen["cost_minor"], 5_892_200, "asset cost (doc step 1)");
    let rack = post(
        app,
        &t.tech,
        "/api/v1/racks",
        json!({"site": "Example DC", "room": "Hall 1", "row": "Row A", "name": "A01", "height_u": "42"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let priced = post(
        app,
        &t.boss,
        &format!("/api/v1/cost/racks/{rack}"),
        json!({"monthly_cost": "1260000"}),
    )
    .await;
    assert_eq!(priced["monthly_cost_minor"], 1_260_000);
    let site = priced["site_id"].as_i64().unwrap();
    post(
        app,
        &t.tech,
        &format!("/api/v1/assets/{asset}/placement"),
        json!({"rack_id": rack, "u_position": "10", "face": "front", "depth": "full"}),
    )
    .await;
    post(
        app,
        &t.boss,
        "/api/v1/cost/params",
        json!({
            "effective_from": "2020-01-01", "depreciation_method": "straight_line",
            "vcpus_per_core": "2", "cpu_overcommit": "2", "ram_overcommit": "1",
            "host_reserved_vcpus": "8", "host_reserved_ram_gib": "16",
            "ceph_replication": "3", "ceph_target_fill": "0.75", "utilisation": "0.8",
            "sites": [{"site_id": site, "electricity_per_kwh": "150", "pue": "1.5", "rack_monthly": "0",
                       "network_monthly": "182500", "network_share": "per_asset", "traffic_gb_month": "50000"}],
            "classes": [{"asset_kind": "server", "depreciation_months": "60", "support_monthly": "91250"}],
        }),
    )
    .await;
    let itype = post(
        app,
        &t.boss,
        "/api/v1/cost/instance-types",
        json!({"name": "m.large", "vcpus": "4", "ram_gib": "16", "disk_gb": "100", "included_traffic_gb": "500"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    post(
        app,
        &t.boss,
        "/api/v1/cost/tiers",
        json!({"name": "Standard L", "instance_type_id": itype, "price_per_day": "2000", "extra_gb_price": "50"}),
    )
    .await;
    post(
        app,
        &t.boss,
        "/api/v1/cost/competitors",
        json!({"name": "OtherCloud", "currency": "USD", "fx_rate": "1400", "egress_per_gb": "0.09",
               "free_egress_gb": "100",
               "prices": [{"instance_type_id": itype, "their_name": "x.large", "price": "0.10", "per": "hour"}]}),
    )
    .await;
    asset
}

#[tokio::test]
async fn the_worked_example_of_the_cost_model_document_comes_out_to_the_won() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let t = tokens(&mut app).await;
        let asset = build_example(&app, &t).await;
        let r = get(&app, &t.boss, "/api/v1/cost/report?traffic_gb=1000").await;
        let mine: Vec<&Value> = r["assets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["asset"]["id"] == asset)
            .collect();
        assert_eq!(mine.len(), 1, "{backend:?}: the example asset is costed");
        let a = mine[0];
        assert_eq!(a["asset"]["capital"], "5892200");
        assert_eq!(a["asset"]["cores"], 64);
        assert_eq!(a["asset"]["ram_gib"], 256);
        assert_eq!(a["watts"], "400");
        assert_eq!(a["measured"], false);
        let d = &a["daily"];
        assert_eq!(dp4(&d["depreciation"]), "3228.6027");
        assert_eq!(dp4(&d["power"]), "2160");
        assert_eq!(dp4(&d["rack"]), "986.3014");
        assert_eq!(dp4(&d["network"]), "6000");
        assert_eq!(dp4(&d["labour"]), "3000");
        let model: Vec<&Value> = r["by_template"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["name"] == "example node")
            .collect();
        let m = &model[0]["daily"];
        let total: Decimal = ["depreciation", "power", "rack", "network", "labour"]
            .iter()
            .map(|k| m[*k].as_str().unwrap().parse::<Decimal>().unwrap())
            .sum();
        assert_eq!(
            total
                .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
                .to_string(),
            "15374.9041"
        );
        let ic: Vec<&Value> = r["instance_costs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["template_name"] == "example node")
            .collect();
        assert_eq!(ic.len(), 1);
        assert_eq!(ic[0]["instances"], 15, "RAM-bound: (256 − 16) ÷ 16");
        assert_eq!(
            dp4(&ic[0]["storage_per_day"]),
            "0",
            "no Ceph nodes in the example"
        );
        assert_eq!(dp4(&ic[0]["cost_per_day"]), "1281.242");
        let tm: Vec<&Value> = r["tier_margins"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["template_name"] == "example node")
            .collect();
        assert_eq!(dp4(&tm[0]["margin_per_day"]), "718.758");
        assert_eq!(dp4(&tm[0]["break_even"]), "0.5125");
        assert_eq!(dp4(&tm[0]["included_traffic_per_day"]), "60");
        assert_eq!(dp4(&r["traffic_cost_per_gb"]), "3.65");
        let c = &r["comparisons"][0];
        assert_eq!(c["competitor"], "OtherCloud");
        assert_eq!(dp4(&c["there_instance"]), "102200");
        assert_eq!(dp4(&c["there_egress"]), "113400");
        assert_eq!(dp4(&c["there_total"]), "215600");
        assert_eq!(dp4(&c["here_instance"]), "60833.3333");
        assert_eq!(dp4(&c["here_extra"]), "25000");
        assert_eq!(dp4(&c["here_total"]), "85833.3333");
        assert_eq!(dp4(&c["allowance_saves"]), "50400");
        assert_eq!(dp4(&c["customer_saves"]), "129766.6667");

        let refused = app
            .server
            .get("/api/v1/cost/report")
            .authorization_bearer(&t.tech)
            .await;
        assert_eq!(refused.status_code(), 403, "technicians do not see money");
        let refused = app
            .server
            .post("/api/v1/cost/tiers")
            .authorization_bearer(&t.guest)
            .json(&json!({"name": "x", "instance_type_id": 1, "price_per_day": "1"}))
            .await;
        assert_eq!(refused.status_code(), 403, "viewers do not price");
        let doc = get(&app, &t.boss, "/api/v1/openapi.json").await;
        for path in [
            "/cost/params",
            "/cost/racks/{id}",
            "/cost/instance-types",
            "/cost/tiers",
            "/cost/competitors",
            "/cost/report",
            "/cost/scenarios",
        ] {
            assert!(doc["paths"].get(path).is_some(), "OpenAPI lists {path}");
        }
        app.finish().await;
    }
}

type Snapshot = (
    Vec<(i64, i64, String, time::OffsetDateTime)>,
    Vec<(i64, rackledger::db::DbDecimal, String, time::OffsetDateTime)>,
    Vec<(i64, rackledger::db::DbDecimal, i64)>,
    Vec<(i64, rackledger::db::DbDecimal, rackledger::db::DbDecimal)>,
    Vec<(i64, String, i64, time::OffsetDateTime)>,
);

/// Units, orders, lines, extra costs and assets as stored.
async fn snapshot(db: &rackledger::db::Db) -> Snapshot {
    use rackledger::on;
    let units = on!(db, |p| sqlx::query_as(
        "select id, landed_cost_minor, status, updated_at from units order by id"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    let orders = on!(db, |p| sqlx::query_as(
        "select id, fx_rate, status, updated_at from purchase_orders order by id"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    let lines = on!(db, |p| sqlx::query_as(
        "select id, unit_price, quantity from po_lines order by id"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    let costs = on!(db, |p| sqlx::query_as(
        "select id, amount, fx_rate from po_costs order by id"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    let assets = on!(db, |p| sqlx::query_as(
        "select id, status, assembly_labour_minor, updated_at from assets order by id"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    (units, orders, lines, costs, assets)
}

fn of_asset(report: &Value, asset: i64) -> &Value {
    report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["asset"]["id"] == asset)
        .unwrap()
}

#[tokio::test]
async fn a_scenario_changes_results_and_leaves_recorded_data_untouched() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let t = tokens(&mut app).await;
        let asset = build_example(&app, &t).await;
        let before = snapshot(&app.db).await;
        let id = post(
            &app,
            &t.boss,
            "/api/v1/cost/scenarios",
            json!({"name": "weak won, dear DIMMs", "overrides": {
                "fx_rates": {"USD": "1540"}, "ram_overcommit": "1.5", "utilisation": "0.6"}}),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let what_if = get(&app, &t.boss, &format!("/api/v1/cost/report?scenario={id}")).await;
        let a = of_asset(&what_if, asset);
        assert_eq!(
            a["asset"]["capital"], "6476420",
            "{backend:?}: the order recomputed at 1,540"
        );
        assert_eq!(dp4(&a["daily"]["depreciation"]), "3548.7233");
        let ic = what_if["instance_costs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["template_name"] == "example node")
            .unwrap();
        assert_eq!(ic["instances"], 22, "240 GiB × 1.5 ÷ 16");
        assert_eq!(ic["utilisation"], "0.6");
        assert_eq!(
            dp4(&what_if["comparisons"][0]["there_instance"]),
            "112420",
            "$73 at the scenario's 1,540"
        );
        assert_eq!(snapshot(&app.db).await, before, "recorded data untouched");
        let baseline = get(&app, &t.boss, "/api/v1/cost/report").await;
        assert_eq!(
            dp4(&of_asset(&baseline, asset)["daily"]["depreciation"]),
            "3228.6027",
            "the baseline is what it was"
        );
        let seen = get(&app, &t.boss, &format!("/api/v1/assets/{asset}")).await;
        assert_eq!(seen["cost_minor"], 5_892_200);
        let dup = app
            .server
            .post("/api/v1/cost/scenarios")
            .authorization_bearer(&t.boss)
            .json(&json!({"name": "weak won, dear DIMMs", "overrides": {}}))
            .await;
        assert_eq!(dup.status_code(), 422, "names are unique");
        let audited: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select count(*) from audit_log where entity = 'cost_scenario'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(audited, 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_part_price_rise_restates_through_the_order_and_keeps_its_total() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let t = tokens(&mut app).await;
        let asset = build_example(&app, &t).await;
        let id = post(
            &app,
            &t.boss,
            "/api/v1/cost/scenarios",
            json!({"name": "DIMMs +40%", "overrides": {"part_price_pct": {"memory": "40"}}}),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let r = get(&app, &t.boss, &format!("/api/v1/cost/report?scenario={id}")).await;
        // Goods 3,900 + 320 = 4,220 USD × 1,400 = 5,908,000; freight and duty are
        // fixed amounts, only re-shared: landed 5,908,000 + 109,200 + 273,000.
        assert_eq!(
            of_asset(&r, asset)["asset"]["capital"],
            "6340200",
            "{backend:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_cost_pages_show_the_example_mark_losing_tiers_and_are_for_money_roles() {
    use crate::app::{count, text_of};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let t = tokens(&mut app).await;
        build_example(&app, &t).await;
        let csrf = app.login("boss", "rackledger-boss").await;
        let (status, doc) = app.page("/cost").await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(text_of(&doc, "#total-per-day"), "₩15,375");
        assert_eq!(text_of(&doc, "#tier-margins tbody td.margin"), "₩719");
        assert_eq!(count(&doc, "#tier-margins tr.losing"), 0);
        // A tier priced below cost is shown in red.
        let itype = get(&app, &t.boss, "/api/v1/cost/instance-types").await[0]["id"]
            .as_i64()
            .unwrap();
        let r = app
            .post_form(
                "/cost/tiers",
                &csrf,
                &[
                    ("name", "Cheap L"),
                    ("instance_type_id", &itype.to_string()),
                    ("price_per_day", "1000"),
                    ("extra_gb_price", "50"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let (_, doc) = app.page("/cost").await;
        assert_eq!(count(&doc, "#tier-margins tr.losing"), 1, "1,000 < 1,281");
        let (status, doc) = app.page("/cost/assets").await;
        assert_eq!(status, 200);
        assert!(text_of(&doc, "#asset-costs tbody").contains("₩3,229"));
        let (status, doc) = app.page("/cost/reports").await;
        assert_eq!(status, 200);
        assert_eq!(count(&doc, "svg#chart-template rect"), 5, "five components");
        assert_eq!(count(&doc, "#report-scorecard-parts tbody tr"), {
            let parts: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
                "select count(distinct part_model_id) from units"
            )
            .fetch_one(p)
            .await)
            .unwrap();
            usize::try_from(parts).unwrap()
        });
        let xlsx = app.server.get("/cost/reports/tiers.xlsx").await;
        assert_eq!(xlsx.status_code(), 200);
        assert_eq!(&xlsx.as_bytes()[..2], b"PK");
        // A new parameter version through the form: electricity doubles from 2026-01-01.
        let (_, doc) = app.page("/cost/params").await;
        let site_field = doc
            .select(&scraper::Selector::parse("input[name$=_electricity_per_kwh]").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("name")
            .unwrap()
            .to_owned();
        let prefix = site_field
            .trim_end_matches("electricity_per_kwh")
            .to_owned();
        let f = |k: &str| format!("{prefix}{k}");
        let fields = vec![
            ("effective_from".to_owned(), "2026-01-01".to_owned()),
            ("depreciation_method".into(), "straight_line".into()),
            ("vcpus_per_core".into(), "2".into()),
            ("cpu_overcommit".into(), "2".into()),
            ("ram_overcommit".into(), "1".into()),
            ("host_reserved_vcpus".into(), "8".into()),
            ("host_reserved_ram_gib".into(), "16".into()),
            ("ceph_replication".into(), "3".into()),
            ("ceph_target_fill".into(), "0.75".into()),
            ("utilisation".into(), "0.8".into()),
            (f("electricity_per_kwh"), "300".into()),
            (f("pue"), "1.5".into()),
            (f("network_monthly"), "182500".into()),
            (f("network_share"), "per_asset".into()),
            (f("traffic_gb_month"), "50000".into()),
            ("class_server_depreciation_months".into(), "60".into()),
            ("class_server_support_monthly".into(), "91250".into()),
        ];
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let r = app.post_form("/cost/params", &csrf, &borrowed).await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let (_, doc) = app.page("/cost/assets").await;
        assert!(
            text_of(&doc, "#asset-costs tbody").contains("₩4,320"),
            "power doubles in the new version"
        );
        let (_, doc) = app.page("/cost/assets?date=2025-12-31").await;
        assert!(
            text_of(&doc, "#asset-costs tbody").contains("₩2,160"),
            "the old version still applies to its days"
        );
        let again = app.post_form("/cost/params", &csrf, &borrowed).await;
        assert_eq!(again.status_code(), 422, "one version per day");
        // A scenario through the form, beside the baseline.
        let r = app
            .post_form(
                "/cost/scenarios",
                &csrf,
                &[
                    ("name", "won at 1540"),
                    ("fx_currency", "usd"),
                    ("fx_rate", "1540"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let to = r.header("location").to_str().unwrap().to_owned();
        let (status, doc) = app.page(&to).await;
        assert_eq!(status, 200);
        assert_eq!(count(&doc, "#delta-assets tbody tr"), 1);
        assert!(
            text_of(&doc, "#delta-assets tbody").contains("₩320"),
            "3,548.72 − 3,228.60"
        );
        // Technicians and viewers do not see the cost pages.
        app.login("tech", "rackledger-tech").await;
        assert_eq!(app.page("/cost").await.0, 403);
        assert_eq!(app.page("/cost/reports/assets.xlsx").await.0, 403);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_demo_showcase_fills_the_cost_page() {
    use crate::app::{count, text_of};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&app.db).await.unwrap();
        app.login("boss", "rackledger-boss").await;
        let (status, doc) = app.page("/cost").await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(
            count(&doc, "#tier-margins tbody tr"),
            5,
            "{}",
            text_of(&doc, "main")
        );
        assert_eq!(
            count(&doc, "#tier-margins tr.losing"),
            1,
            "Promo L loses money: {}",
            text_of(&doc, "#tier-margins")
        );
        let (_, doc) = app.page("/cost/competitors").await;
        assert_eq!(count(&doc, "#comparison tbody tr"), 5);
        let (status, _) = app.page("/cost/scenarios/1").await;
        assert_eq!(status, 200);
        // The DIMM swapped out and sent back shows in the scorecard.
        let dimms: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select count(*) from units u join part_models m on m.id = u.part_model_id
             where m.mpn = 'M321R4GA3BB6-CQK'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let csv = app
            .server
            .get("/cost/reports/scorecard-parts.csv")
            .await
            .text();
        let row = csv
            .lines()
            .find(|l| l.starts_with("M321R4GA3BB6-CQK,"))
            .unwrap_or_else(|| panic!("{csv}"));
        let pct = (Decimal::from(100) / Decimal::from(dimms))
            .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(
            row,
            format!("M321R4GA3BB6-CQK,Samsung,{dimms},1,{pct},1,{pct}")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn measured_watts_from_the_bmc_replace_the_nameplate_in_the_power_cost() {
    use rackledger::cost::service::{self, measured_watts};
    use rackledger::health::redfish::model::Snapshot;
    use rackledger::health::store;
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        rackledger::demo::seed_showcase(&db).await.unwrap();
        let server: i64 = rackledger::on!(&db, |p| sqlx::query_scalar(
            "select p.asset_id from placements p join assets a on a.id = p.asset_id where a.kind = 'server' order by a.id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let bmc_id = crate::app::test_bmc(&db, server).await;
        // Two polls: 300 W and 340 W.
        for watts in [300.0, 340.0] {
            let now = rackledger::clock::now();
            let snap = Snapshot {
                power_watts: Some(watts),
                ..Snapshot::default()
            };
            store::record_success(&db, bmc_id, server, &snap, now, now)
                .await
                .unwrap();
        }
        let measured = measured_watts(&db, &[server], 7).await.unwrap();
        assert_eq!(
            measured.get(&server),
            Some(&Decimal::from(320)),
            "{backend:?}"
        );
        let base = rackledger::money::Currency::parse("KRW").unwrap();
        let today = rackledger::clock::now().date();
        let report = service::report(&db, base, today, &Default::default(), 0)
            .await
            .unwrap();
        let mine = report
            .assets
            .iter()
            .find(|a| a.asset.id == server)
            .expect("the racked server is costed");
        assert!(mine.measured, "{backend:?}");
        assert_eq!(mine.watts, Decimal::from(320));
        let other = report.assets.iter().find(|a| a.asset.id != server).unwrap();
        assert!(
            !other.measured,
            "{backend:?}: the others keep their nameplate"
        );
        app.finish().await;
    }
}

/// Pages in English unless a request asks otherwise with [`korean`] (with no
/// Accept-Language the product speaks Korean).
fn english(app: &mut TestApp) {
    app.server.add_header("accept-language", "en");
}

/// The language cookie that makes one request Korean (it beats Accept-Language).
fn korean() -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::new(rackledger::web::LANG_COOKIE, "ko")
}

/// The first sheet of an XLSX download as rows of cells shown as text.
fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect()
}

/// The row of an XLSX table whose first cell is `first`.
fn xlsx_row<'a>(rows: &'a [Vec<String>], first: &str) -> &'a [String] {
    rows.iter()
        .find(|r| r.first().is_some_and(|c| c == first))
        .unwrap_or_else(|| panic!("no row {first}: {rows:?}"))
}

#[tokio::test]
async fn a_what_if_export_carries_its_scenario_and_day_and_the_scenario_figures() {
    use crate::app::text_of;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let t = tokens(&mut app).await;
        english(&mut app);
        build_example(&app, &t).await;
        // DIMM prices fall 20%: line 2 at $160, goods 3,740 USD × 1,400 =
        // 5,236,000 + freight 109,200 + duty 273,000 = 5,618,200 landed;
        // capital 5,668,200 ÷ 1,825 = 3,105.8630 a day, total 15,252.1644.
        let id = post(
            &app,
            &t.boss,
            "/api/v1/cost/scenarios",
            json!({"name": "DIMM prices fall 20%", "overrides": {"part_price_pct": {"memory": "-20"}}}),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        app.login("boss", "rackledger-boss").await;
        let day = &rackledger::clock::now().date().to_string();
        let (status, doc) = app
            .page(&format!("/cost/assets?date={day}&scenario={id}"))
            .await;
        assert_eq!(status, 200, "{backend:?}");
        assert!(
            text_of(&doc, "#asset-costs tbody").contains("₩15,252"),
            "{}",
            text_of(&doc, "#asset-costs tbody")
        );
        let link = doc
            .select(&scraper::Selector::parse("#exports a[href$='.xlsx']").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("href")
            .unwrap()
            .to_owned();
        assert!(
            link.contains(day) && link.contains(&id.to_string()),
            "the link names the day and the scenario: {link}"
        );
        let r = app.server.get(&link).await;
        assert_eq!(r.status_code(), 200, "{link}");
        let disposition = r.header("content-disposition").to_str().unwrap().to_owned();
        assert!(
            disposition.contains(&format!("scenario-{id}-dimm-prices-fall-20-{day}.xlsx")),
            "{disposition}"
        );
        let rows = xlsx_rows(r.as_bytes());
        assert_eq!(
            rows[0][0],
            format!("Scenario: DIMM prices fall 20%, day {day}")
        );
        let ex = xlsx_row(&rows, "EX-0001");
        assert_eq!(
            ex.last().unwrap(),
            "15252",
            "the scenario's total, as on the page"
        );
        assert_eq!(ex[1], "3106", "depreciation 3,105.8630");
        // The baseline export of the same day says so and differs.
        let (_, doc) = app.page(&format!("/cost/assets?date={day}")).await;
        let base_link = doc
            .select(&scraper::Selector::parse("#exports a[href$='.csv']").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("href")
            .unwrap()
            .to_owned();
        let csv = app.server.get(&base_link).await.text();
        assert!(
            csv.starts_with(&format!("\u{feff}\"Baseline, day {day}\"")),
            "{csv}"
        );
        let row = csv.lines().find(|l| l.starts_with("EX-0001,")).unwrap();
        assert!(row.ends_with(",15375"), "{row}");
        // Every table of the reports page links to the scenario's figures too.
        let (_, doc) = app
            .page(&format!("/cost/reports?date={day}&scenario={id}"))
            .await;
        let hrefs: Vec<String> = doc
            .select(&scraper::Selector::parse("main a[download]").unwrap())
            .map(|a| a.value().attr("href").unwrap().to_owned())
            .collect();
        assert!(hrefs.len() >= 3 + 2 * 4, "{hrefs:?}");
        for h in &hrefs {
            assert!(h.starts_with(&format!("/cost/reports/{day}/{id}/")), "{h}");
        }
        let tiers_link = hrefs.iter().find(|h| h.ends_with("/tiers.xlsx")).unwrap();
        let tiers = app.server.get(tiers_link).await;
        let rows = xlsx_rows(tiers.as_bytes());
        let standard = xlsx_row(&rows, "Standard L");
        // 15,252.1644 ÷ 12 = 1,271.0137 per instance; margin 728.9863.
        assert_eq!(standard[4], "1271", "{standard:?}");
        // In Korean the title is Korean.
        let ko = app.server.get(&link).add_cookie(korean()).await;
        assert_eq!(
            xlsx_rows(ko.as_bytes())[0][0],
            format!("시나리오: DIMM prices fall 20%, 기준일 {day}")
        );
        // The scenario page shows what changes as a table, not JSON.
        let (_, doc) = app.page(&format!("/cost/scenarios/{id}?date={day}")).await;
        let cells: Vec<String> = doc
            .select(&scraper::Selector::parse("#changes tbody td").unwrap())
            .map(|td| td.text().collect::<String>().trim().to_owned())
            .collect();
        assert_eq!(
            cells,
            vec!["Prices of Memory", "as recorded on each order", "-20%"],
            "parameter, from, to"
        );
        assert!(
            doc.select(&scraper::Selector::parse("pre.json").unwrap())
                .next()
                .is_none()
        );
        let pct = doc
            .select(&scraper::Selector::parse("#scenario-form input[name=pct]").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("value")
            .unwrap()
            .to_owned();
        assert_eq!(pct, "-20", "the form shows the scenario");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_scenario_form_refuses_what_changes_nothing_at_the_field_and_keeps_the_input() {
    use crate::app::text_of;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let t = tokens(&mut app).await;
        english(&mut app);
        build_example(&app, &t).await;
        let csrf = app.login("boss", "rackledger-boss").await;
        let field_error =
            |doc: &scraper::Html, field: &str| text_of(doc, &format!("#{field}-error"));
        // A rate without its currency would have saved a scenario that changes nothing.
        let r = app
            .post_form(
                "/cost/scenarios",
                &csrf,
                &[("name", "rate only"), ("fx_rate", "1540")],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = scraper::Html::parse_document(&r.text());
        assert!(field_error(&doc, "fx_currency").contains("Choose the currency"));
        assert_eq!(
            doc.select(&scraper::Selector::parse("input[name=fx_rate]").unwrap())
                .next()
                .unwrap()
                .value()
                .attr("value"),
            Some("1540"),
            "input kept"
        );
        // A percentage without its category.
        let r = app
            .post_form(
                "/cost/scenarios",
                &csrf,
                &[("name", "pct only"), ("pct", "40")],
            )
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(field_error(&doc, "pct_category").contains("Choose the category"));
        // Nothing at all.
        let r = app
            .post_form("/cost/scenarios", &csrf, &[("name", "nothing")])
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(field_error(&doc, "overrides").contains("changes nothing"));
        // Months 0: the message says what is allowed, at the field.
        let r = app
            .post_form(
                "/cost/scenarios",
                &csrf,
                &[
                    ("name", "zero months"),
                    ("dep_kind", "server"),
                    ("dep_months", "0"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert_eq!(
            field_error(&doc, "dep_months"),
            "\"0\" is not a whole number of months from 1 to 600."
        );
        // A fall of 100% or more is refused; in Korean for a Korean reader.
        let mut all = vec![
            ("name", "free DIMMs"),
            ("pct_category", "memory"),
            ("pct", "-100"),
        ];
        all.push(("_csrf", &csrf));
        let r = app
            .server
            .post("/cost/scenarios")
            .add_cookie(korean())
            .form(&all)
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            field_error(&doc, "pct").contains("-100% 초과"),
            "{}",
            field_error(&doc, "pct")
        );
        let none: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select count(*) from cost_scenarios"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(none, 0, "nothing refused was saved");
        // A fall of 20% is a scenario; posted twice, the second is refused by name.
        let fall = [
            ("name", "DIMM prices fall 20%"),
            ("pct_category", "memory"),
            ("pct", "-20"),
        ];
        let r = app.post_form("/cost/scenarios", &csrf, &fall).await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let again = app.post_form("/cost/scenarios", &csrf, &fall).await;
        assert_eq!(again.status_code(), 422);
        let doc = scraper::Html::parse_document(&again.text());
        assert!(!field_error(&doc, "name").is_empty(), "{}", again.text());
        // The API keeps the same rules.
        for (overrides, field) in [
            (json!({}), "overrides"),
            (
                json!({"part_price_pct": {"memory": "-100"}}),
                "part_price_pct",
            ),
            (json!({"part_price_pct": {"dimms": "10"}}), "part_price_pct"),
            (
                json!({"depreciation_months": {"server": 0}}),
                "depreciation_months",
            ),
            (json!({"fx_rates": {"XYZ": "10"}}), "fx_rates"),
        ] {
            let r = app
                .post_bearer(
                    &t.boss,
                    "/api/v1/cost/scenarios",
                    &json!({"name": "api", "overrides": overrides}),
                )
                .await;
            assert_eq!(r.status_code(), 422, "{overrides}");
            let body: Value = r.json();
            assert_eq!(body["fields"][0]["field"], field, "{body}");
        }
        let ok = app
            .post_bearer(
                &t.boss,
                "/api/v1/cost/scenarios",
                &json!({"name": "api fall", "overrides": {"part_price_pct": {"memory": "-20"}}}),
            )
            .await;
        assert_eq!(ok.status_code(), 201, "{}", ok.text());
        app.finish().await;
    }
}

#[tokio::test]
async fn rack_space_is_charged_over_the_usable_u_not_the_full_height() {
    use crate::app::text_of;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let t = tokens(&mut app).await;
        english(&mut app);
        let asset = build_example(&app, &t).await;
        let rack: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select id from racks where name = 'A01'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let report = get(&app, &t.boss, "/api/v1/cost/report").await;
        assert_eq!(
            dp4(&of_asset(&report, asset)["daily"]["rack"]),
            "986.3014",
            "{backend:?}: 42 of 42 U usable by default"
        );
        // Patch panels and a cable manager take 4 U: 38 usable (a datacenter
        // fact, set by the technician).
        let r = post(
            &app,
            &t.tech,
            &format!("/api/v1/cost/racks/{rack}"),
            json!({"usable_u": "38"}),
        )
        .await;
        assert_eq!(r["usable_u"], 38);
        let r = get(&app, &t.boss, &format!("/api/v1/racks/{rack}")).await;
        assert_eq!(
            r["rack"]["monthly_cost_minor"], 1_260_000,
            "the cost is kept"
        );
        let report = get(&app, &t.boss, "/api/v1/cost/report").await;
        // 1,260,000 × 1 ÷ 38 × 12 ÷ 365 = 15,120,000 ÷ 13,870.
        let exact = Decimal::from(15_120_000) / Decimal::from(13_870);
        let got: Decimal = of_asset(&report, asset)["daily"]["rack"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            got.round_dp(20),
            exact.round_dp(20),
            "1/38 of the rack per U"
        );
        assert_eq!(dp4(&of_asset(&report, asset)["daily"]["rack"]), "1090.1226");
        // Out of range is refused, through the API and the rack form.
        let r = app
            .post_bearer(
                &t.tech,
                &format!("/api/v1/cost/racks/{rack}"),
                &json!({"usable_u": "43"}),
            )
            .await;
        assert_eq!(r.status_code(), 422, "{}", r.text());
        let csrf = app.login("admin", "rackledger-admin").await;
        let r = app
            .post_form(
                &format!("/datacenter/racks/{rack}/usable-u"),
                &csrf,
                &[("usable_u", "0")],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{}", r.text());
        let doc = scraper::Html::parse_document(&r.text());
        assert_eq!(
            text_of(&doc, "#usable_u-error"),
            "\"0\" is not a whole number from 1 to 42 (the rack's height)."
        );
        assert_eq!(
            doc.select(&scraper::Selector::parse("#usable-u-form input[name=usable_u]").unwrap())
                .next()
                .unwrap()
                .value()
                .attr("value"),
            Some("0")
        );
        let ko = app
            .server
            .post(&format!("/datacenter/racks/{rack}/usable-u"))
            .add_cookie(korean())
            .form(&[("usable_u", "99"), ("_csrf", csrf.as_str())])
            .await;
        assert_eq!(ko.status_code(), 422);
        let doc = scraper::Html::parse_document(&ko.text());
        assert_eq!(
            text_of(&doc, "#usable_u-error"),
            "\"99\"은(는) 1부터 42(랙 높이)까지의 정수가 아닙니다."
        );
        let r = app
            .post_form(
                &format!("/datacenter/racks/{rack}/usable-u"),
                &csrf,
                &[("usable_u", "40")],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let (_, doc) = app.page(&format!("/datacenter/racks/{rack}")).await;
        assert_eq!(text_of(&doc, "#usable-u"), "40");
        // A new rack: usable U on the create form, checked against its height.
        let r = app
            .post_form(
                "/datacenter",
                &csrf,
                &[
                    ("site", "Example DC"),
                    ("room", "Hall 1"),
                    ("row", "Row A"),
                    ("name", "A02"),
                    ("height_u", "42"),
                    ("usable_u", "45"),
                    ("numbering", "bottom_up"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(text_of(&doc, "#usable_u-error").contains("1 to 42"));
        let r = app
            .post_form(
                "/datacenter",
                &csrf,
                &[
                    ("site", "Example DC"),
                    ("room", "Hall 1"),
                    ("row", "Row A"),
                    ("name", "A03"),
                    ("height_u", "42"),
                    ("usable_u", "36"),
                    ("numbering", "bottom_up"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let racks = get(&app, &t.tech, "/api/v1/racks").await;
        let a03 = racks
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "A03")
            .unwrap();
        assert_eq!(a03["usable_u"], 36);
        app.finish().await;
    }
}
