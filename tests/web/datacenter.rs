//! Racks, placements with collision rules, elevations and locate.

use rackledger::audit::Actor;
use rackledger::datacenter::placement::{self, PlaceInput};
use rackledger::datacenter::racks::{self, RackInput};
use rackledger::db::Db;
use rackledger::error::AppError;
use rackledger::inventory::assembly::{self, AssemblyInput};
use rackledger::inventory::templates::{self, TemplateInput};
use rackledger::on;

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

fn actor() -> Actor {
    Actor::system("test")
}

async fn boxes(db: &Db, n: usize) -> Vec<i64> {
    let input = TemplateInput {
        name: "2U box".into(),
        asset_kind: "storage".into(),
        height_u: "2".into(),
        nameplate_watts: "400".into(),
        slots: "BOOT1: SEDC600M/960G".into(),
        ..TemplateInput::default()
    };
    let t = templates::create(db, &actor(), &input).await.unwrap();
    let mut out = Vec::new();
    for i in 0..n {
        let order = assembly::start(
            db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: format!("BOX-{i}"),
                hostname: None,
            },
        )
        .await
        .unwrap();
        out.push(assembly::complete(db, &actor(), order).await.unwrap());
    }
    out
}

/// A 42 U rack in Seoul DC1 / Hall 1 / Row A with a power budget in kW.
async fn seoul_rack(db: &Db, name: &str, budget_kw: &str) -> i64 {
    let input = RackInput {
        site: "Seoul DC1".into(),
        room: "Hall 1".into(),
        row: "Row A".into(),
        name: name.into(),
        height_u: Some("42".into()),
        power_budget_kw: Some(budget_kw.into()),
        numbering: None,
    };
    racks::create(db, &actor(), &input).await.unwrap()
}

fn at(rack: i64, u: &str, face: &str, depth: &str) -> PlaceInput {
    PlaceInput {
        rack_id: rack,
        u_position: u.into(),
        face: face.into(),
        depth: depth.into(),
    }
}

#[tokio::test]
async fn placements_refuse_overlaps_naming_the_occupant() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let rack = seoul_rack(&db, "A01", "6.5").await;
        let b = boxes(&db, 5).await;
        placement::place(&db, &actor(), b[0], &at(rack, "10", "front", "full"))
            .await
            .unwrap();
        // Same U, and an overlapping 2 U device one below.
        for u in ["11", "9"] {
            match placement::place(&db, &actor(), b[1], &at(rack, u, "front", "full")).await {
                Err(AppError::Conflict(m)) => assert!(
                    m.render(rackledger::i18n::Lang::En).contains("BOX-0"),
                    "{backend:?}: {m:?}"
                ),
                other => panic!("U{u} overlaps BOX-0 at U10-11: {other:?}"),
            }
        }
        placement::place(&db, &actor(), b[1], &at(rack, "12", "front", "full"))
            .await
            .unwrap();
        // A full-depth device blocks the rear; half-depth devices share a U back to back.
        assert!(matches!(
            placement::place(&db, &actor(), b[2], &at(rack, "10", "rear", "half")).await,
            Err(AppError::Conflict(_))
        ));
        placement::place(&db, &actor(), b[2], &at(rack, "20", "front", "half"))
            .await
            .unwrap();
        placement::place(&db, &actor(), b[3], &at(rack, "20", "rear", "half"))
            .await
            .unwrap();
        assert!(matches!(
            placement::place(&db, &actor(), b[4], &at(rack, "21", "rear", "full")).await,
            Err(AppError::Conflict(_))
        ));
        // Off the top of the rack.
        assert!(matches!(
            placement::place(&db, &actor(), b[4], &at(rack, "42", "front", "full")).await,
            Err(AppError::Conflict(_))
        ));
        placement::place(&db, &actor(), b[4], &at(rack, "41", "front", "full"))
            .await
            .unwrap();
        // Moving a device does not collide with itself.
        placement::place(&db, &actor(), b[0], &at(rack, "9", "front", "full"))
            .await
            .unwrap();
        let n: i64 = on!(&db, |p| sqlx::query_scalar(
            "select count(*) from placements where rack_id = $1"
        )
        .bind(rack)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(n, 5);
        app.finish().await;
    }
}

#[tokio::test]
async fn an_asset_and_a_part_inside_it_are_located_down_to_the_u_and_face() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let rack = seoul_rack(&db, "A02", "1").await;
        let b = boxes(&db, 1).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        // The asset page links to the placement page, which offers every rack by site.
        let (_, doc) = app.page(&format!("/inventory/assets/{}", b[0])).await;
        let place = format!("/datacenter/place/{}", b[0]);
        let link = doc
            .select(&scraper::Selector::parse("#place-link").unwrap())
            .next()
            .and_then(|a| a.value().attr("href"))
            .map(str::to_owned);
        assert_eq!(link.as_deref(), Some(place.as_str()), "{backend:?}");
        let offered = |doc: &scraper::Html| {
            let sel = scraper::Selector::parse("optgroup[label='Seoul DC1'] option").unwrap();
            doc.select(&sel)
                .find(|o| o.value().attr("value") == Some(&rack.to_string()))
                .map(|o| o.value().attr("selected").is_some())
        };
        let (status, doc) = app.page(&place).await;
        assert_eq!(status, 200);
        assert_eq!(
            offered(&doc),
            Some(false),
            "{backend:?}: A02 offered under its site"
        );
        let r = app
            .post_form(
                &format!("/datacenter/place/{}", b[0]),
                &csrf,
                &[
                    ("rack_id", &rack.to_string()),
                    ("u_position", "7"),
                    ("face", "front"),
                    ("depth", "full"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let (_, doc) = app.page(&format!("/inventory/assets/{}", b[0])).await;
        assert!(
            text_of(&doc, "#location").contains("Seoul DC1 / Hall 1 / Row A / A02 / U7-8"),
            "{}",
            text_of(&doc, "#location")
        );
        let (_, doc) = app.page(&place).await;
        assert_eq!(
            offered(&doc),
            Some(true),
            "{backend:?}: its rack comes chosen"
        );
        let unit: i64 = on!(&db, |p| sqlx::query_scalar(
            "select id from units where asset_id = $1"
        )
        .bind(b[0])
        .fetch_one(p)
        .await)
        .unwrap();
        let (_, doc) = app.page(&format!("/inventory/units/{unit}")).await;
        let located = text_of(&doc, "#locate");
        assert!(
            located.contains("BOX-0")
                && located.contains("BOOT1")
                && located.contains("A02 / U7-8"),
            "{located}"
        );
        let (status, doc) = app
            .page(&format!("/datacenter/racks/{rack}?highlight={}", b[0]))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            count(&doc, "#elevation-front rect.highlight"),
            1,
            "the device is highlighted"
        );
        assert_eq!(
            count(&doc, "#elevation-rear rect.highlight"),
            1,
            "full depth shows on the rear too"
        );
        assert!(text_of(&doc, "#power").contains("400 W"));
        let refused = app
            .post_form(
                &format!("/datacenter/place/{}", b[0]),
                &csrf,
                &[
                    ("rack_id", &rack.to_string()),
                    ("u_position", "x"),
                    ("face", "front"),
                    ("depth", "full"),
                ],
            )
            .await;
        assert_eq!(refused.status_code(), 422);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_api_creates_racks_and_places_assets() {
    use serde_json::{Value, json};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let b = boxes(&app.db, 2).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech = app
            .issue_token(&csrf, app.user_id("tech").await, "dc")
            .await;
        let guest = app
            .issue_token(&csrf, app.user_id("guest").await, "ro")
            .await;
        app.server.clear_cookies();
        let body = json!({"site": "Busan DC2", "room": "Hall 1", "row": "Row A", "name": "A01", "power_budget_kw": "6.5"});
        let r = app
            .server
            .post("/api/v1/racks")
            .authorization_bearer(&tech)
            .json(&body)
            .await;
        assert_eq!(r.status_code(), 201, "{backend:?}: {}", r.text());
        let rack: Value = r.json();
        assert_eq!(rack["power_budget_watts"], 6500);
        let id = rack["id"].as_i64().unwrap();
        let place =
            |u: &str| json!({"rack_id": id, "u_position": u, "face": "front", "depth": "full"});
        let r = app
            .server
            .post(&format!("/api/v1/assets/{}/placement", b[0]))
            .authorization_bearer(&tech)
            .json(&place("20"))
            .await;
        assert_eq!(r.status_code(), 200);
        assert_eq!(
            r.json::<Value>()["path"],
            "Busan DC2 / Hall 1 / Row A / A01"
        );
        let clash = app
            .server
            .post(&format!("/api/v1/assets/{}/placement", b[1]))
            .authorization_bearer(&tech)
            .json(&place("21"))
            .await;
        assert_eq!(clash.status_code(), 409);
        assert!(
            clash.json::<Value>()["message"]
                .as_str()
                .unwrap()
                .contains("BOX-0")
        );
        let refused = app
            .server
            .post(&format!("/api/v1/assets/{}/placement", b[1]))
            .authorization_bearer(&guest)
            .json(&place("30"))
            .await;
        assert_eq!(refused.status_code(), 403, "viewers do not place");
        let seen: Value = app
            .server
            .get(&format!("/api/v1/racks/{id}"))
            .authorization_bearer(&guest)
            .await
            .json();
        assert_eq!(seen["placements"].as_array().unwrap().len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_port_holds_at_most_one_cable() {
    use rackledger::datacenter::cabling::{self, CableInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let with_ports = |name: &str, ports: &str| TemplateInput {
            name: name.into(),
            asset_kind: "switch".into(),
            height_u: "1".into(),
            nameplate_watts: "150".into(),
            slots: "NIC1: MCX631432AN-ADAB".into(),
            ports: ports.into(),
            ..TemplateInput::default()
        };
        let sw = templates::create(&db, &actor(), &with_ports("leaf", "swp1-4: 25G"))
            .await
            .unwrap();
        let srv = templates::create(&db, &actor(), &with_ports("node", "eth0-1: 25G"))
            .await
            .unwrap();
        let mut assets = Vec::new();
        for (t, tag) in [(sw, "LEAF-Ö1"), (srv, "NODE-1"), (srv, "NODE-2")] {
            let order = assembly::start(
                &db,
                &actor(),
                &AssemblyInput {
                    template_id: t,
                    asset_tag: tag.into(),
                    hostname: None,
                },
            )
            .await
            .unwrap();
            assets.push(assembly::complete(&db, &actor(), order).await.unwrap());
        }
        let ports = |a: i64| {
            let db = db.clone();
            async move { cabling::ports_of(&db, a).await.unwrap() }
        };
        assert_eq!(
            ports(assets[0]).await.len(),
            4,
            "{backend:?}: ports come from the template"
        );
        let eth0 = ports(assets[1]).await[0].id;
        cabling::connect(
            &db,
            &actor(),
            &CableInput {
                port_id: eth0,
                peer_asset_tag: "LEAF-Ö1".into(),
                peer_port: "swp1".into(),
                label: "C-001".into(),
            },
        )
        .await
        .unwrap();
        // The switch port is taken: a second cable to it is refused, naming
        // the port (its tag given in lower case: ASCII folds and `Ö` stays,
        // on both engines; on PostgreSQL `LEAF-Ö1` was not found even as typed).
        let other = ports(assets[2]).await[0].id;
        match cabling::connect(
            &db,
            &actor(),
            &CableInput {
                port_id: other,
                peer_asset_tag: "leaf-Ö1".into(),
                peer_port: "swp1".into(),
                label: String::new(),
            },
        )
        .await
        {
            Err(AppError::Conflict(m)) => assert!(
                m.render(rackledger::i18n::Lang::En).contains("swp1"),
                "{m:?}"
            ),
            other => panic!("expected the port to be taken: {other:?}"),
        }
        // So is the server port.
        assert!(matches!(
            cabling::connect(
                &db,
                &actor(),
                &CableInput {
                    port_id: eth0,
                    peer_asset_tag: "LEAF-Ö1".into(),
                    peer_port: "swp2".into(),
                    label: String::new()
                }
            )
            .await,
            Err(AppError::Conflict(_))
        ));
        assert!(
            matches!(
                cabling::connect(
                    &db,
                    &actor(),
                    &CableInput {
                        port_id: other,
                        peer_asset_tag: "LEAF-Ö1".into(),
                        peer_port: "swp9".into(),
                        label: String::new()
                    }
                )
                .await,
                Err(AppError::Validation(_))
            ),
            "no such port"
        );
        let map = ports(assets[0]).await;
        assert_eq!(
            map[0].peer_asset_tag.as_deref(),
            Some("NODE-1"),
            "the switch's port map shows the server"
        );
        assert_eq!(map[0].peer_port.as_deref(), Some("eth0"));
        let cables: i64 = on!(&db, |p| sqlx::query_scalar("select count(*) from cables")
            .fetch_one(p)
            .await)
        .unwrap();
        assert_eq!(cables, 1, "refused cables leave nothing behind");
        app.login("tech", "rackledger-tech").await;
        let (_, doc) = app.page(&format!("/inventory/assets/{}", assets[1])).await;
        assert!(text_of(&doc, "#ports").contains("LEAF-Ö1"));
        app.finish().await;
    }
}

#[tokio::test]
async fn the_elevation_shows_each_devices_health_and_the_measured_watts() {
    use rackledger::health::redfish::model::Snapshot;
    use rackledger::health::store;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let rack = seoul_rack(&db, "A01", "2").await;
        let b = boxes(&db, 3).await;
        for (i, asset) in b.iter().enumerate() {
            let u = (1 + 2 * i).to_string();
            placement::place(&db, &actor(), *asset, &at(rack, &u, "front", "full"))
                .await
                .unwrap();
        }
        // BOX-0 answers Critical at 410 W, BOX-1 answers OK at 190 W, BOX-2 has no BMC.
        for (asset, health, watts) in [(b[0], "Critical", 410.0), (b[1], "OK", 190.0)] {
            let bmc_id = crate::app::test_bmc(&db, asset).await;
            let snap = Snapshot {
                health: Some(health.into()),
                health_rollup: Some(health.into()),
                power_watts: Some(watts),
                ..Snapshot::default()
            };
            let now = rackledger::clock::now();
            store::record_success(&db, bmc_id, asset, &snap, now, now)
                .await
                .unwrap();
        }
        app.login("guest", "rackledger-guest").await;
        let (status, doc) = app.page(&format!("/datacenter/racks/{rack}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            count(&doc, "#elevation-front rect.health-critical"),
            1,
            "{backend:?}"
        );
        assert_eq!(count(&doc, "#elevation-front rect.health-ok"), 1);
        assert_eq!(
            count(&doc, "#elevation-front rect.health"),
            2,
            "no stripe without a BMC"
        );
        assert_eq!(text_of(&doc, "#measured"), "600 W", "{backend:?}");
        assert_eq!(
            text_of(&doc, "#power"),
            "1200 W",
            "three nameplates of 400 W"
        );
        // An empty rack still draws; a rack that does not exist is a 404.
        let empty = seoul_rack(&db, "A09", "1").await;
        let (status, doc) = app.page(&format!("/datacenter/racks/{empty}")).await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(
            text_of(&doc, "#rack-path"),
            "Seoul DC1 / Hall 1 / Row A / A09"
        );
        assert_eq!(count(&doc, "#elevation-front rect.health"), 0);
        let (status, _) = app
            .page(&format!("/datacenter/racks/{}", empty + 1000))
            .await;
        assert_eq!(status, 404, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_fleet_page_says_how_to_add_a_bmc_when_there_is_none() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("tech", "rackledger-tech").await;
        let (status, doc) = app.page("/health").await;
        assert_eq!(status, 200);
        assert_eq!(count(&doc, "#no-bmcs"), 1, "{backend:?}");
        assert_eq!(count(&doc, "#alerts, #silent"), 0, "no empty tables");
        let asset = crate::app::test_bmc(&app.db, {
            let t = boxes(&app.db, 1).await;
            t[0]
        })
        .await;
        assert!(asset > 0);
        let (_, doc) = app.page("/health").await;
        assert_eq!(count(&doc, "#no-bmcs"), 0, "{backend:?}: one BMC now");
        app.finish().await;
    }
}

#[tokio::test]
async fn usable_u_below_the_highest_installed_u_is_refused_naming_the_asset() {
    use serde_json::json;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let rack = seoul_rack(&db, "A05", "5").await;
        let b = boxes(&db, 1).await;
        // A 2 U box at U3 occupies U3 and U4.
        placement::place(&db, &actor(), b[0], &at(rack, "3", "front", "full"))
            .await
            .expect("placed");
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech = app
            .issue_token(&csrf, app.user_id("tech").await, "dc")
            .await;
        app.server.add_header("accept-language", "en");
        let r = app
            .post_form(
                &format!("/datacenter/racks/{rack}/usable-u"),
                &csrf,
                &[("usable_u", "1")],
            )
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        let doc = scraper::Html::parse_document(&r.text());
        let msg = text_of(&doc, "#usable_u-error");
        assert!(msg.contains("BOX-0") && msg.contains("U4"), "{msg}");
        app.server.clear_cookies();
        let r = app
            .server
            .post(&format!("/api/v1/cost/racks/{rack}"))
            .authorization_bearer(&tech)
            .json(&json!({"usable_u": "3"}))
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        assert!(r.text().contains("BOX-0"), "{}", r.text());
        let usable: i64 = on!(&db, |p| sqlx::query_scalar(
            "select coalesce(usable_u, height_u) from racks where id = $1"
        )
        .bind(rack)
        .fetch_one(p)
        .await)
        .expect("rack");
        assert_eq!(usable, 42, "{backend:?}: nothing changed");
        // Down to the highest occupied U is fine.
        let r = app
            .server
            .post(&format!("/api/v1/cost/racks/{rack}"))
            .authorization_bearer(&tech)
            .json(&json!({"usable_u": "4"}))
            .await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        app.finish().await;
    }
}
