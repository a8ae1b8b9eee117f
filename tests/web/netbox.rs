//! NetBox CSV: export, import into a fresh database, export again; refused rows.

use axum_test::TestResponse;
use axum_test::multipart::{MultipartForm, Part};
use rackledger::audit::Actor;
use rackledger::datacenter::racks::{self, RackInput};
use rackledger::inventory::assets::{self, RegisterAsset};
use rackledger::on;
use scraper::{Html, Selector};

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

const FILES: [&str; 5] = ["sites", "locations", "device_types", "racks", "devices"];

async fn export_all(app: &TestApp) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in FILES {
        let r = app.server.get(&format!("/datacenter/netbox/{f}.csv")).await;
        assert_eq!(r.status_code(), 200, "{f}: {}", r.text());
        out.push((f.to_owned(), r.text()));
    }
    out
}

async fn upload(app: &TestApp, csrf: &str, files: &[(String, String)], mode: &str) -> TestResponse {
    let mut form = MultipartForm::new().add_text("mode", mode.to_owned());
    for (name, body) in files {
        let part = Part::bytes(body.clone().into_bytes()).file_name(format!("{name}.csv"));
        form = form.add_part(name.clone(), part);
    }
    app.server
        .post(&format!("/datacenter/netbox?_csrf={csrf}"))
        .multipart(form)
        .await
}

async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    on!(&app.db, |p| sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(p)
        .await)
    .unwrap()
}

#[tokio::test]
async fn netbox_csv_round_trips_through_a_fresh_database() {
    for backend in backends() {
        let mut src = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&src.db).await.unwrap();
        let actor = Actor::system("test");
        let rack = RackInput {
            site: "Busan DC2".into(),
            room: "Cage 7".into(),
            row: "North".into(),
            name: "N01".into(),
            height_u: Some("48".into()),
            power_budget_kw: None,
            numbering: Some("top_down".into()),
        };
        racks::create(&src.db, &actor, &rack).await.unwrap();
        // An asset with no template, a tag a spreadsheet would take for a formula, and a serial.
        let mut tx = src.db.begin().await.unwrap();
        let pdu = RegisterAsset {
            asset_tag: "-48V-PDU-1",
            hostname: Some("pdu-n01"),
            template_id: None,
            kind: "pdu",
            status: "maintenance",
            serial: Some("PDU0001"),
        };
        assets::register(&mut tx, &actor, &pdu).await.unwrap();
        tx.commit().await.unwrap();

        src.login("guest", "rackledger-guest").await;
        let first = export_all(&src).await;
        let lines = |f: usize| first[f].1.lines().count();
        assert_eq!(lines(3), 1 + 13, "{backend:?}: a dozen demo racks and N01");
        assert!(
            first[3].1.contains("Busan DC2,North,N01,active,19,48,true"),
            "{}",
            first[3].1
        );
        assert!(
            first[4].1.contains("'-48V-PDU-1"),
            "formula guard: {}",
            first[4].1
        );
        let placed = scalar(&src, "select count(*) from placements").await;
        assert_eq!(placed, 3, "the demo's two servers and their switch");

        let mut dst = TestApp::start(backend).await;
        assert_eq!(scalar(&dst, "select count(*) from racks").await, 0);
        let csrf = dst.login("tech", "rackledger-tech").await;
        let r = upload(&dst, &csrf, &first, "commit").await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        let doc = Html::parse_document(&r.text());
        assert_eq!(
            count(&doc, "#committed"),
            1,
            "{}",
            text_of(&doc, "#outcome")
        );
        assert_eq!(
            scalar(&dst, "select count(*) from placements").await,
            placed
        );
        let again = export_all(&dst).await;
        for ((name, a), (_, b)) in first.iter().zip(&again) {
            assert_eq!(a, b, "{backend:?}: {name}.csv differs after the round trip");
        }
        src.finish().await;
        dst.finish().await;
    }
}

const DEVICES: &str =
    "name,role,manufacturer,device_type,status,site,location,rack,position,face,serial,asset_tag
web-1,Compute,Dell,R760,active,Seoul DC1,Row A,A01,10,front,SN1,RL-1
web-2,Compute,Dell,R760,active,Seoul DC1,Row A,A01,11,front,SN2,RL-2
web-3,Compute,Dell,R760,active,Seoul DC1,Row A,A99,20,front,SN3,RL-3
web-4,Compute,Dell,R760,active,Seoul DC1,Row A,A01,30,front,SN4,RL-4
";

fn netbox_files(devices: &str) -> Vec<(String, String)> {
    vec![
        ("sites".into(), "name,slug,status\nSeoul DC1,seoul-dc1,active\n".into()),
        (
            "locations".into(),
            "site,parent,name,slug,status\nSeoul DC1,,Hall 1,hall-1,active\nSeoul DC1,Hall 1,Row A,row-a,active\n".into(),
        ),
        ("device_types".into(), "manufacturer,model,slug,u_height\nDell,R760,r760,2.0\n".into()),
        (
            "racks".into(),
            "site,location,name,status,width,u_height,desc_units\nSeoul DC1,Row A,A01,active,19,42,False\n".into(),
        ),
        ("devices".into(), devices.into()),
    ]
}

#[tokio::test]
async fn a_refused_row_is_named_by_row_and_column_and_nothing_is_written() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        let r = upload(&app, &csrf, &netbox_files(DEVICES), "commit").await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        let doc = Html::parse_document(&r.text());
        assert_eq!(count(&doc, "#refused"), 1);
        let rows: Vec<Vec<String>> = doc
            .select(&Selector::parse("#errors tbody tr").unwrap())
            .map(|tr| {
                tr.select(&Selector::parse("td").unwrap())
                    .map(|td| td.text().collect())
                    .collect()
            })
            .collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0][..3], ["devices.csv", "3", "position"]);
        assert!(
            rows[0][3].contains("RL-1") && rows[0][3].contains("U10-11"),
            "{rows:?}"
        );
        assert_eq!(rows[1][..3], ["devices.csv", "4", "rack"]);
        assert!(rows[1][3].contains("A99"), "{rows:?}");
        for table in [
            "sites",
            "rooms",
            "racks",
            "assets",
            "build_templates",
            "placements",
        ] {
            let n: i64 = on!(&app.db, |p| sqlx::query_scalar(sqlx::AssertSqlSafe(
                format!("select count(*) from {table}")
            ))
            .fetch_one(p)
            .await)
            .unwrap();
            assert_eq!(n, 0, "{backend:?}: nothing written to {table}");
        }

        // Without the bad rows, a check writes nothing and an import writes it all.
        let good: String = DEVICES
            .lines()
            .enumerate()
            .filter(|(i, _)| ![2, 3].contains(i))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let r = upload(&app, &csrf, &netbox_files(&good), "preview").await;
        assert_eq!(r.status_code(), 200, "{}", r.text());
        let doc = Html::parse_document(&r.text());
        assert_eq!(count(&doc, "#checked"), 1);
        assert_eq!(
            scalar(&app, "select count(*) from assets").await,
            0,
            "a check writes nothing"
        );
        // *Import* on the check's page sends the checked files again.
        let textarea = Selector::parse("#confirm textarea").unwrap();
        let checked: Vec<(String, String)> = doc
            .select(&textarea)
            .map(|t| (t.attr("name").unwrap().to_owned(), t.text().collect()))
            .collect();
        assert_eq!(checked, netbox_files(&good), "the files as checked");
        let r = upload(&app, &csrf, &checked, "commit").await;
        assert_eq!(r.status_code(), 200, "{}", r.text());
        assert_eq!(scalar(&app, "select count(*) from placements").await, 2);
        // A racks file alone finds Row A where it already is, in Hall 1.
        let more = vec![(
            "racks".to_owned(),
            "site,location,name,u_height\nSeoul DC1,Row A,A02,42\n".to_owned(),
        )];
        let r = upload(&app, &csrf, &more, "commit").await;
        assert_eq!(r.status_code(), 200, "{}", r.text());
        assert_eq!(
            scalar(&app, "select count(*) from rooms").await,
            1,
            "no room named Row A"
        );
        assert_eq!(scalar(&app, "select count(*) from racks").await, 2);
        let (_, racks_page) = app.page("/datacenter").await;
        assert!(
            text_of(&racks_page, "#racks").contains("Hall 1"),
            "Row A is a row of Hall 1"
        );
        assert_eq!(
            scalar(&app, "select height_u from placements p join assets a on a.id = p.asset_id where a.asset_tag = 'RL-4'").await,
            2,
            "the device type's height"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_viewer_may_export_but_not_import() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("guest", "rackledger-guest").await;
        let r = app.server.get("/datacenter/netbox/devices.csv").await;
        assert_eq!(r.status_code(), 200);
        assert!(r.text().starts_with("name,role,manufacturer,device_type,status,site,location,rack,position,face,serial,asset_tag"));
        let (_, page) = app.page("/datacenter/netbox").await;
        assert_eq!(count(&page, "#upload"), 0, "no form without EditDatacenter");
        let r = upload(&app, &csrf, &netbox_files(DEVICES), "commit").await;
        assert_eq!(r.status_code(), 403);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_api_checks_and_imports_netbox_csv_with_a_token() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech = app
            .issue_token(&csrf, app.user_id("tech").await, "netbox")
            .await;
        let guest = app
            .issue_token(&csrf, app.user_id("guest").await, "look")
            .await;
        app.server.clear_cookies();
        let body = |devices: &str, commit: bool| {
            let mut b: serde_json::Map<String, serde_json::Value> = netbox_files(devices)
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect();
            b.insert("commit".into(), commit.into());
            serde_json::Value::Object(b)
        };
        let post = |token: String, body: serde_json::Value| {
            let req = app
                .server
                .post("/api/v1/netbox/import")
                .authorization_bearer(token)
                .json(&body);
            async move { req.await }
        };
        let r = post(guest, body(DEVICES, true)).await;
        assert_eq!(r.status_code(), 403, "{backend:?}");
        let r = post(tech.clone(), body(DEVICES, true)).await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        let got: serde_json::Value = r.json();
        assert_eq!(got["committed"], false);
        assert_eq!(got["errors"][0]["file"], "devices.csv");
        assert_eq!(got["errors"][0]["row"], 3);
        assert_eq!(got["errors"][0]["column"], "position");
        assert_eq!(scalar(&app, "select count(*) from racks").await, 0);
        let good: String = DEVICES
            .lines()
            .filter(|l| !l.contains("RL-2") && !l.contains("RL-3"))
            .map(|l| format!("{l}\n"))
            .collect();
        let r = post(tech, body(&good, true)).await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        let got: serde_json::Value = r.json();
        assert_eq!(got["committed"], true);
        assert_eq!(got["counts"]["placed"], 2);
        assert_eq!(scalar(&app, "select count(*) from placements").await, 2);
        app.finish().await;
    }
}
