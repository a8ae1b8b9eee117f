//! Work orders: pick lists that prefer the site's spares, checklists, and
//! completion that applies every change or none; cables removed and moved.

use rackledger::audit::Actor;
use rackledger::datacenter::cabling::{self, CableInput, MoveEndInput};
use rackledger::datacenter::placement::{self, PlaceInput};
use rackledger::datacenter::racks::{self, RackInput};
use rackledger::db::Db;
use rackledger::error::AppError;
use rackledger::i18n::Lang;
use rackledger::inventory::assembly::{self, AssemblyInput};
use rackledger::inventory::templates::{self, TemplateInput};
use rackledger::on;
use rackledger::workorders::{self, CompleteInput, Origin, WorkOrderInput};

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

pub(crate) fn actor() -> Actor {
    Actor::system("test")
}

const NODE: &str = "DIMM A1-A4: M321R4GA3BB6-CQK\nBOOT1-2: SEDC600M/960G";

pub(crate) async fn rack(db: &Db, site: &str, name: &str) -> i64 {
    racks::create(
        db,
        &actor(),
        &RackInput {
            site: site.into(),
            room: "Hall 1".into(),
            row: "Row A".into(),
            name: name.into(),
            height_u: Some("42".into()),
            power_budget_kw: Some("8".into()),
            numbering: None,
        },
    )
    .await
    .unwrap()
}

/// Builds `n` 1 U servers with four DIMMs, two boot drives and two ports.
pub(crate) async fn servers(db: &Db, tags: &[&str]) -> Vec<i64> {
    let t = templates::create(
        db,
        &actor(),
        &TemplateInput {
            name: "node".into(),
            asset_kind: "server".into(),
            height_u: "1".into(),
            nameplate_watts: "450".into(),
            assembly_labour: "0".into(),
            slots: NODE.into(),
            notes: String::new(),
            ports: "eth0-1: 25G".into(),
        },
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    for tag in tags {
        let order = assembly::start(
            db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: (*tag).into(),
                hostname: None,
            },
        )
        .await
        .unwrap();
        out.push(assembly::complete(db, &actor(), order).await.unwrap());
    }
    out
}

pub(crate) fn at(rack: i64, u: &str) -> PlaceInput {
    PlaceInput {
        rack_id: rack,
        u_position: u.into(),
        face: "front".into(),
        depth: "full".into(),
    }
}

async fn one<T>(db: &Db, sql: &'static str, arg: i64) -> T
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    on!(db, |p| sqlx::query_scalar::<_, T>(sql)
        .bind(arg)
        .fetch_one(p)
        .await)
    .unwrap()
}

/// (unit id, serial, status, asset id) of whatever sits in a slot, or of a serial.
async fn slot_serial(db: &Db, asset: i64, slot: &str) -> String {
    on!(db, |p| sqlx::query_scalar::<_, String>(
        "select serial from units where asset_id = $1 and slot_name = $2 and status = 'installed'"
    )
    .bind(asset)
    .bind(slot)
    .fetch_one(p)
    .await)
    .unwrap()
}

async fn unit_status(db: &Db, serial: &str) -> String {
    on!(db, |p| sqlx::query_scalar::<_, String>(
        "select status from units where serial = $1"
    )
    .bind(serial)
    .fetch_one(p)
    .await)
    .unwrap()
}

async fn tick_all(db: &Db, id: i64) {
    for c in workorders::checks(db, id).await.unwrap() {
        workorders::tick(db, &actor(), id, c.id, true)
            .await
            .unwrap();
    }
}

/// An install of `tag` at U `u` of `rack`, front, full depth.
fn install(tag: &str, rack: i64, u: &str) -> WorkOrderInput {
    WorkOrderInput {
        kind: "install".into(),
        asset_tag: tag.into(),
        rack_id: rack.to_string(),
        u_position: u.into(),
        face: "front".into(),
        depth: "full".into(),
        ..WorkOrderInput::default()
    }
}

pub(crate) fn replace(tag: &str, slot: &str) -> WorkOrderInput {
    WorkOrderInput {
        kind: "replace".into(),
        asset_tag: tag.into(),
        slot_name: slot.into(),
        ..WorkOrderInput::default()
    }
}

#[tokio::test]
async fn a_replacement_picks_the_sites_spare_and_completes_with_an_rma() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let seoul = rack(&db, "Seoul DC1", "A01").await;
        rack(&db, "Busan DC2", "B01").await;
        let srv = servers(&db, &["SRV-0001"]).await[0];
        placement::place(&db, &actor(), srv, &at(seoul, "10"))
            .await
            .unwrap();
        // A cage at the Seoul site holds the newest spare DIMM; the others stay
        // in the demo warehouse, which belongs to no site.
        let seoul_site: i64 = one(&db, "select site_id from rooms where id = (select room_id from rack_rows where id = (select row_id from racks where id = $1))", seoul).await;
        let cage: i64 = on!(&db, |p| sqlx::query_scalar::<_, i64>(
            "insert into stock_locations (name, kind, site_id, created_at, updated_at) values ('Seoul cage', 'cabinet', $1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z') returning id"
        )
        .bind(seoul_site)
        .fetch_one(p)
        .await)
        .unwrap();
        let newest: String = on!(&db, |p| sqlx::query_scalar::<_, String>(
            "select u.serial from units u join part_models m on m.id = u.part_model_id
             where m.mpn = 'M321R4GA3BB6-CQK' and u.status = 'in_stock' order by u.id desc limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        rackledger::exec!(&db, |p| sqlx::query(
            "update units set location_id = $1 where serial = $2"
        )
        .bind(cage)
        .bind(&newest)
        .execute(p)
        .await)
        .unwrap();

        let csrf = app.login("tech", "rackledger-tech").await;
        let r = app
            .post_form(
                "/workorders",
                &csrf,
                &[
                    ("kind", "replace"),
                    ("asset_tag", "srv-0001"),
                    ("slot_name", "DIMM A2"),
                    ("due_date", "2026-12-01"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let location = r.header("location").to_str().unwrap().to_owned();
        let id: i64 = location
            .trim_start_matches("/workorders/")
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (status, page) = app.page(&format!("/workorders/{id}")).await;
        assert_eq!(status, 200);
        assert!(
            text_of(&page, "#wo-location").contains("Seoul DC1 / Hall 1 / Row A / A01 / U10"),
            "{backend:?}: the work order says where the server is"
        );
        let first_pick = text_of(&page, "#pick-list tbody tr:first-child");
        assert!(
            first_pick.contains(&newest) && first_pick.contains("Seoul DC1"),
            "{backend:?}: the spare at the server's site comes first: {first_pick}"
        );
        assert_eq!(
            count(&page, "#checklist li"),
            5,
            "{backend:?}: the default checklist of a replacement"
        );

        // Completing with unticked items is refused and changes nothing.
        let old = slot_serial(&db, srv, "DIMM A2").await;
        let done = [("spare_serial", newest.as_str()), ("removed_to", "rma")];
        let r = app
            .post_form(&format!("/workorders/{id}/complete"), &csrf, &done)
            .await;
        assert_eq!(r.status_code(), 409, "{backend:?}");
        assert_eq!(slot_serial(&db, srv, "DIMM A2").await, old);

        for c in workorders::checks(&db, id).await.unwrap() {
            let path = format!("/workorders/{id}/checks/{}", c.id);
            let r = app.post_form(&path, &csrf, &[("done", "1")]).await;
            assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        }
        let r = app
            .post_form(&format!("/workorders/{id}/complete"), &csrf, &done)
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(slot_serial(&db, srv, "DIMM A2").await, newest);
        assert_eq!(unit_status(&db, &old).await, "at_rma", "{backend:?}");
        let rmas: i64 = one(
            &db,
            "select count(*) from rmas r join units u on u.id = r.unit_id where u.asset_id is null and r.status = 'shipped' and $1 = $1",
            0,
        )
        .await;
        assert_eq!(
            rmas, 1,
            "{backend:?}: the removed DIMM went back to its supplier"
        );
        let wo = workorders::get(&db, id).await.unwrap();
        assert_eq!(wo.status, "done");
        assert!(wo.spare_unit_id.is_some() && wo.removed_unit_id.is_some());
        let audited: i64 = one(
            &db,
            "select count(*) from audit_log where entity = 'work_order' and entity_id = cast($1 as text)",
            id,
        )
        .await;
        assert!(audited >= 7, "{backend:?}: created, 5 ticks, completed");
        // Done is final.
        let r = app
            .post_form(&format!("/workorders/{id}/cancel"), &csrf, &[])
            .await;
        assert_eq!(r.status_code(), 409, "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn completing_a_work_order_applies_all_of_it_or_none() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let a01 = rack(&db, "Seoul DC1", "A01").await;
        let s = servers(&db, &["SRV-1", "SRV-2", "SRV-3"]).await;
        placement::place(&db, &actor(), s[0], &at(a01, "10"))
            .await
            .unwrap();

        // 1. A swap followed by an RMA that cannot be opened (the removed part
        //    has no purchase order, so no supplier): the swap is undone too.
        let wo = workorders::create(
            &db,
            &actor(),
            &replace("SRV-1", "DIMM A1"),
            &Origin::default(),
            Lang::En,
        )
        .await
        .unwrap();
        tick_all(&db, wo).await;
        let old = slot_serial(&db, s[0], "DIMM A1").await;
        rackledger::exec!(&db, |p| sqlx::query(
            "update units set po_line_id = null where serial = $1"
        )
        .bind(&old)
        .execute(p)
        .await)
        .unwrap();
        let spare: String = on!(&db, |p| sqlx::query_scalar::<_, String>(
            "select u.serial from units u join part_models m on m.id = u.part_model_id
             where m.mpn = 'M321R4GA3BB6-CQK' and u.status = 'in_stock' order by u.id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let input = CompleteInput {
            spare_serial: spare.clone(),
            removed_to: "rma".into(),
            location_id: String::new(),
        };
        let refused = workorders::complete(&db, &actor(), wo, &input).await;
        assert!(
            matches!(refused, Err(AppError::Validation(_))),
            "{backend:?}: {refused:?}"
        );
        assert_eq!(slot_serial(&db, s[0], "DIMM A1").await, old, "{backend:?}");
        assert_eq!(unit_status(&db, &spare).await, "in_stock", "{backend:?}");
        assert_eq!(unit_status(&db, &old).await, "installed", "{backend:?}");
        assert_eq!(workorders::get(&db, wo).await.unwrap().status, "open");
        // Keeping the removed part as faulty instead works.
        let input = CompleteInput {
            removed_to: "faulty".into(),
            ..input
        };
        workorders::complete(&db, &actor(), wo, &input)
            .await
            .unwrap();
        assert_eq!(slot_serial(&db, s[0], "DIMM A1").await, spare);
        assert_eq!(unit_status(&db, &old).await, "faulty");

        // 2. An install whose U was taken after the work order was opened:
        //    refused with the occupant named, and the status is not set either.
        let install = install("SRV-2", a01, "20");
        let wo = workorders::create(&db, &actor(), &install, &Origin::default(), Lang::En)
            .await
            .unwrap();
        tick_all(&db, wo).await;
        placement::place(&db, &actor(), s[2], &at(a01, "20"))
            .await
            .unwrap();
        match workorders::complete(&db, &actor(), wo, &CompleteInput::default()).await {
            Err(AppError::Conflict(m)) => {
                assert!(m.render(Lang::En).contains("SRV-3"), "{backend:?}: {m:?}")
            }
            other => panic!("{backend:?}: U20 is taken by SRV-3: {other:?}"),
        }
        let status: String = one(&db, "select status from assets where id = $1", s[1]).await;
        assert_eq!(
            status, "building",
            "{backend:?}: nothing of the install applied"
        );
        assert!(placement::of_asset(&db, s[1]).await.unwrap().is_none());
        // Opening another install onto a taken U is refused at once.
        assert!(matches!(
            workorders::create(&db, &actor(), &install, &Origin::default(), Lang::En).await,
            Err(AppError::Conflict(_))
        ));

        // 3. Decommission: cables off, out of the rack, status set, in one step.
        let ports = cabling::ports_of(&db, s[0]).await.unwrap();
        cabling::connect(
            &db,
            &actor(),
            &CableInput {
                port_id: ports[0].id,
                peer_asset_tag: "SRV-3".into(),
                peer_port: "eth0".into(),
                label: "C-1".into(),
            },
        )
        .await
        .unwrap();
        let decom = WorkOrderInput {
            kind: "decommission".into(),
            asset_tag: "SRV-1".into(),
            checklist: "Wipe drives".into(),
            ..WorkOrderInput::default()
        };
        let wo = workorders::create(&db, &actor(), &decom, &Origin::default(), Lang::En)
            .await
            .unwrap();
        assert_eq!(workorders::checks(&db, wo).await.unwrap().len(), 1);
        tick_all(&db, wo).await;
        workorders::complete(&db, &actor(), wo, &CompleteInput::default())
            .await
            .unwrap();
        let status: String = one(&db, "select status from assets where id = $1", s[0]).await;
        assert_eq!(status, "decommissioned");
        assert!(placement::of_asset(&db, s[0]).await.unwrap().is_none());
        let cables: i64 = one(&db, "select count(*) from cables where $1 = $1", 0).await;
        assert_eq!(cables, 0, "{backend:?}: its cable is gone");
        assert!(
            cabling::ports_of(&db, s[2])
                .await
                .unwrap()
                .iter()
                .all(|p| p.cable_id.is_none()),
            "{backend:?}: the peer's port is free again"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_alert_opens_one_work_order_per_episode() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        servers(&db, &["SRV-7"]).await;
        let origin = Origin {
            source: "alert",
            dedup_key: Some("SRV-7/DIMM A3/critical".into()),
        };
        let first = workorders::create(
            &db,
            &actor(),
            &replace("SRV-7", "DIMM A3"),
            &origin,
            Lang::Ko,
        )
        .await
        .unwrap();
        let again = workorders::create(
            &db,
            &actor(),
            &replace("SRV-7", "DIMM A3"),
            &origin,
            Lang::Ko,
        )
        .await
        .unwrap();
        assert_eq!(
            first, again,
            "{backend:?}: the same alert finds its work order"
        );
        workorders::set_status(&db, &actor(), first, "cancelled")
            .await
            .unwrap();
        let next = workorders::create(
            &db,
            &actor(),
            &replace("SRV-7", "DIMM A3"),
            &origin,
            Lang::Ko,
        )
        .await
        .unwrap();
        assert_ne!(next, first, "{backend:?}: a new episode opens a new one");
        let wo = workorders::get(&db, next).await.unwrap();
        assert_eq!(wo.source, "alert");
        assert!(wo.title.contains("SRV-7") && wo.title.contains("DIMM A3"));
        app.finish().await;
    }
}

#[tokio::test]
async fn cables_are_removed_and_moved_port_by_port() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let s = servers(&db, &["SRV-A", "SRV-B"]).await;
        let a = cabling::ports_of(&db, s[0]).await.unwrap();
        let cable = cabling::connect(
            &db,
            &actor(),
            &CableInput {
                port_id: a[0].id,
                peer_asset_tag: "SRV-B".into(),
                peer_port: "eth0".into(),
                label: String::new(),
            },
        )
        .await
        .unwrap();
        // Moving the SRV-B end to a taken port is refused; to a free one works.
        let taken = MoveEndInput {
            from_port_id: cabling::ports_of(&db, s[1]).await.unwrap()[0].id,
            to_asset_tag: "SRV-A".into(),
            to_port: "eth0".into(),
        };
        assert!(matches!(
            cabling::move_end(&db, &actor(), cable, &taken).await,
            Err(AppError::Conflict(_))
        ));
        let free = MoveEndInput {
            to_port: "eth1".into(),
            to_asset_tag: "SRV-B".into(),
            ..taken
        };
        cabling::move_end(&db, &actor(), cable, &free)
            .await
            .unwrap();
        let b = cabling::ports_of(&db, s[1]).await.unwrap();
        assert!(b[0].cable_id.is_none(), "{backend:?}");
        assert_eq!(b[1].peer_port.as_deref(), Some("eth0"), "{backend:?}");

        // Removing it through the page frees both ports; a viewer may not.
        let csrf = app.login("guest", "rackledger-guest").await;
        let path = format!("/datacenter/cables/{cable}/disconnect");
        assert_eq!(app.post_form(&path, &csrf, &[]).await.status_code(), 403);
        let csrf = app.login("tech", "rackledger-tech").await;
        assert_eq!(app.post_form(&path, &csrf, &[]).await.status_code(), 303);
        for asset in &s {
            assert!(
                cabling::ports_of(&db, *asset)
                    .await
                    .unwrap()
                    .iter()
                    .all(|p| p.cable_id.is_none()),
                "{backend:?}"
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_api_runs_a_work_order_and_an_audit() {
    use serde_json::{Value, json};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let a01 = rack(&db, "Seoul DC1", "A01").await;
        let s = servers(&db, &["SRV-1"]).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech = app
            .issue_token(&csrf, app.user_id("tech").await, "phone")
            .await;
        let guest = app
            .issue_token(&csrf, app.user_id("guest").await, "wall")
            .await;
        app.server.clear_cookies();
        let body = json!({"kind": "install", "asset_tag": "SRV-1", "rack_id": a01.to_string(),
            "u_position": "7", "face": "front", "depth": "full", "checklist": "Rails\nPower"});
        let r = app
            .server
            .post("/api/v1/work-orders")
            .authorization_bearer(&guest)
            .json(&body)
            .await;
        assert_eq!(r.status_code(), 403, "{backend:?}: a viewer opens nothing");
        let r = app
            .server
            .post("/api/v1/work-orders")
            .authorization_bearer(&tech)
            .json(&body)
            .await;
        assert_eq!(r.status_code(), 201, "{backend:?}: {}", r.text());
        let created: Value = r.json();
        let id = created["work_order"]["id"].as_i64().unwrap();
        for c in created["checklist"].as_array().unwrap() {
            let cid = c["id"].as_i64().unwrap();
            let r = app
                .server
                .post(&format!("/api/v1/work-orders/{id}/checks/{cid}"))
                .authorization_bearer(&tech)
                .json(&json!({"done": true}))
                .await;
            assert_eq!(r.status_code(), 200, "{}", r.text());
        }
        let r = app
            .server
            .post(&format!("/api/v1/work-orders/{id}/complete"))
            .authorization_bearer(&tech)
            .json(&json!({}))
            .await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        let done: Value = r.json();
        assert_eq!(done["work_order"]["status"], "done");
        let p = placement::of_asset(&db, s[0]).await.unwrap().unwrap();
        assert_eq!((p.rack_id, p.u_position), (a01, 7));
        let status: String = one(&db, "select status from assets where id = $1", s[0]).await;
        assert_eq!(
            status, "in_service",
            "{backend:?}: an install puts it in service"
        );

        // An audit of the rack through the API finds the server.
        let r = app
            .server
            .post("/api/v1/audits")
            .authorization_bearer(&tech)
            .json(&json!({"rack_id": a01.to_string()}))
            .await;
        assert_eq!(r.status_code(), 201, "{}", r.text());
        let audit = r.json::<Value>()["audit"]["id"].as_i64().unwrap();
        let r = app
            .server
            .post(&format!("/api/v1/audits/{audit}/scans"))
            .authorization_bearer(&tech)
            .json(&json!({"code": "SRV-1"}))
            .await;
        assert_eq!(r.json::<Value>(), json!("expected"));
        let r = app
            .server
            .post(&format!("/api/v1/audits/{audit}/finish"))
            .authorization_bearer(&tech)
            .await;
        let findings: Value = r.json();
        assert_eq!(findings["findings"][0]["finding"], "ok", "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_failing_dimm_reported_by_the_bmc_opens_one_work_order_naming_rack_slot_serial_and_spare()
{
    use rackledger::health::redfish::model::{Dimm, Snapshot};
    use rackledger::health::store;
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let a01 = rack(&db, "Seoul DC1", "A01").await;
        let srv = servers(&db, &["SRV-1"]).await[0];
        placement::place(&db, &actor(), srv, &at(a01, "12"))
            .await
            .unwrap();
        let bmc_id = crate::app::test_bmc(&db, srv).await;
        let failing = slot_serial(&db, srv, "DIMM A3").await;
        let snapshot = |health: &str| Snapshot {
            health: Some("Critical".into()),
            memory: vec![Dimm {
                id: "/redfish/v1/Systems/1/Memory/3".into(),
                slot: "PROC 1 DIMM 3".into(),
                serial: Some(failing.clone()),
                part_number: Some("M321R4GA3BB6-CQK".into()),
                health: Some(health.into()),
                state: Some("Enabled".into()),
                ..Dimm::default()
            }],
            ..Snapshot::default()
        };
        // Three polls see the same failing DIMM: one alert, one work order.
        for _ in 0..3 {
            let now = rackledger::clock::now();
            store::record_success(&db, bmc_id, srv, &snapshot("Critical"), now, now)
                .await
                .unwrap();
            workorders::alerts::open_for_alerts(&db, Lang::En)
                .await
                .unwrap();
        }
        let (rows, total) = workorders::list(&db, &workorders::Filter::default(), 10, 0)
            .await
            .unwrap();
        assert_eq!(total, 1, "{backend:?}: one work order per episode");
        let wo = &rows[0];
        assert_eq!(wo.source, "alert");
        assert_eq!(wo.kind, "replace", "{backend:?}: our records know the slot");
        assert_eq!(wo.slot_name.as_deref(), Some("DIMM A3"));
        assert_eq!(
            wo.title, "PROC 1 DIMM 3 failed on SRV-1 at A01 U12 (critical)",
            "{backend:?}: the part named once"
        );
        let spare = workorders::pick_list(&db, wo, 1).await.unwrap().remove(0);
        assert!(
            wo.notes.contains(&failing) && wo.notes.contains(&spare.serial),
            "{backend:?}: names the failing serial and the nearest spare: {}",
            wo.notes
        );
        // The DIMM recovers, then fails again while its work order is open:
        // a new episode joins that work order (an entry), never a second one.
        let now = rackledger::clock::now();
        store::record_success(&db, bmc_id, srv, &snapshot("OK"), now, now)
            .await
            .unwrap();
        store::record_success(&db, bmc_id, srv, &snapshot("Critical"), now, now)
            .await
            .unwrap();
        workorders::alerts::open_for_alerts(&db, Lang::En)
            .await
            .unwrap();
        let (_, total) = workorders::list(&db, &workorders::Filter::default(), 10, 0)
            .await
            .unwrap();
        assert_eq!(total, 1, "{backend:?}");
        let kinds: Vec<String> = workorders::entries::list(&db, wo.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, vec!["healthy_again", "failed_again"], "{backend:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn alerts_on_several_machines_at_once_each_get_their_own_work_order() {
    use rackledger::health::redfish::model::{Dimm, Snapshot};
    use rackledger::health::store;
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let tags = ["SRV-M1", "SRV-M2", "SRV-M3"];
        let ids = servers(&db, &tags).await;
        let ids_of_servers = ids.clone();
        let mut bmcs = Vec::new();
        let mut snapshots = Vec::new();
        for &srv in &ids {
            bmcs.push(crate::app::test_bmc(&db, srv).await);
            snapshots.push(Snapshot {
                health: Some("Critical".into()),
                memory: vec![Dimm {
                    id: "/redfish/v1/Systems/1/Memory/2".into(),
                    slot: "PROC 1 DIMM 2".into(),
                    serial: Some(slot_serial(&db, srv, "DIMM A2").await),
                    health: Some("Critical".into()),
                    ..Dimm::default()
                }],
                ..Snapshot::default()
            });
        }
        // One batch of polls, as the poller records them, then one call.
        let now = rackledger::clock::now();
        let records: Vec<store::PollRecord<'_>> = (0..ids.len())
            .map(|i| store::PollRecord {
                bmc_id: bmcs[i],
                asset_id: ids[i],
                result: Ok(&snapshots[i]),
                now,
                next_poll_at: now,
            })
            .collect();
        store::record_batch(&db, &records).await.unwrap();
        let opened = workorders::alerts::open_for_alerts(&db, Lang::En)
            .await
            .unwrap();
        assert_eq!(opened.len(), 3, "{backend:?}: {opened:?}");
        // Each alert is linked to a work order of its own machine and slot.
        let links: Vec<(i64, i64, Option<String>, Option<String>)> = on!(&db, |p| sqlx::query_as(
            "select h.asset_id, w.asset_id, w.slot_name, a.asset_tag from health_alerts h
             join work_orders w on w.id = h.work_order_id join assets a on a.id = w.asset_id order by h.asset_id"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        assert_eq!(
            links.len(),
            3,
            "{backend:?}: every alert has its work order"
        );
        for (i, (alert_asset, wo_asset, slot, tag)) in links.iter().enumerate() {
            assert_eq!(alert_asset, wo_asset, "{backend:?}");
            assert_eq!(*alert_asset, ids[i], "{backend:?}");
            assert_eq!(slot.as_deref(), Some("DIMM A2"), "{backend:?}");
            assert_eq!(tag.as_deref(), Some(tags[i]), "{backend:?}");
        }
        let checks: i64 = on!(&db, |p| sqlx::query_scalar(
            "select count(*) from work_order_checks where work_order_id in (select work_order_id from health_alerts)"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(
            checks, 15,
            "{backend:?}: each gets the five-step replace checklist"
        );
        let audited: Vec<(String, String)> = on!(&db, |p| sqlx::query_as(
            "select entity_id, after_json from audit_log where entity = 'work_order' and action = 'create' order by id"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        let mut opened_ids: Vec<String> = opened.iter().map(i64::to_string).collect();
        opened_ids.sort();
        let mut audited_ids: Vec<String> = audited.iter().map(|(id, _)| id.clone()).collect();
        audited_ids.sort();
        assert_eq!(
            audited_ids, opened_ids,
            "{backend:?}: each creation is audited once"
        );
        for (id, after) in &audited {
            let after: serde_json::Value = serde_json::from_str(after).unwrap();
            assert_eq!(
                after["id"].to_string(),
                *id,
                "{backend:?}: the row as created"
            );
            assert_eq!(after["source"], "alert", "{backend:?}");
        }
        // Two inputs with one dedup key in one call: one work order.
        let input = workorders::WorkOrderInput {
            kind: "other".into(),
            title: "Check the PDU".into(),
            asset_tag: tags[0].into(),
            ..Default::default()
        };
        let origin = workorders::Origin {
            source: "alert",
            dedup_key: Some("test/pdu".into()),
        };
        let mut tx = db.begin().await.unwrap();
        let ids = workorders::create_many(
            &mut tx,
            &actor(),
            &[(&input, &origin), (&input, &origin)],
            Lang::En,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(ids[0], ids[1], "{backend:?}: {ids:?}");
        let (_, total) = workorders::list(&db, &workorders::Filter::default(), 10, 0)
            .await
            .unwrap();
        assert_eq!(total, 4, "{backend:?}");
        // A mixed batch: keyed inputs (inserted together, read back by key)
        // around one without a key, assets named by host name or tag in
        // another case (the engine's `lower()` decides: SQLite folds ASCII
        // only, so `Ö` is left as it is on both sides); each id returned is
        // its own input's.
        on!(&db, |p| sqlx::query(
            "update assets set hostname = 'NÖDE-M2.DC1' where id = $1"
        )
        .bind(ids_of_servers[1])
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .unwrap();
        let inputs: Vec<workorders::WorkOrderInput> = ["nÖde-m2.dc1", "srv-m3", "Srv-M1"]
            .iter()
            .map(|name| workorders::WorkOrderInput {
                kind: "other".into(),
                title: format!("Look at {name}"),
                asset_tag: (*name).into(),
                ..Default::default()
            })
            .collect();
        let keyed = |k: &str| workorders::Origin {
            source: "alert",
            dedup_key: Some(k.into()),
        };
        let origins = [
            keyed("test/a"),
            workorders::Origin::default(),
            keyed("test/b"),
        ];
        let items: Vec<_> = inputs.iter().zip(origins.iter()).collect();
        let mut tx = db.begin().await.unwrap();
        let made = workorders::create_many(&mut tx, &actor(), &items, Lang::En)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let expect = [
            (ids_of_servers[1], "Look at nÖde-m2.dc1"),
            (ids_of_servers[2], "Look at srv-m3"),
            (ids_of_servers[0], "Look at Srv-M1"),
        ];
        for (id, (asset, title)) in made.iter().zip(expect) {
            let wo = workorders::get(&db, *id).await.unwrap();
            assert_eq!(
                (wo.asset_id, wo.title.as_str()),
                (Some(asset), title),
                "{backend:?}: {made:?}"
            );
        }
        // An unknown asset refuses the whole batch, naming the field.
        let unknown = workorders::WorkOrderInput {
            asset_tag: "NO-SUCH-TAG".into(),
            ..inputs[0].clone()
        };
        let mut tx = db.begin().await.unwrap();
        let err = workorders::create_many(
            &mut tx,
            &actor(),
            &[(&inputs[1], &origins[1]), (&unknown, &keyed("test/c"))],
            Lang::En,
        )
        .await
        .unwrap_err();
        tx.rollback().await.unwrap();
        assert!(
            matches!(&err, rackledger::error::AppError::Validation(e) if format!("{e:?}").contains("asset_tag")),
            "{backend:?}: {err:?}"
        );
        let (_, total) = workorders::list(&db, &workorders::Filter::default(), 10, 0)
            .await
            .unwrap();
        assert_eq!(total, 7, "{backend:?}");
        // Nothing is left to open.
        let again = workorders::alerts::open_for_alerts(&db, Lang::En)
            .await
            .unwrap();
        assert!(again.is_empty(), "{backend:?}: {again:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_batch_of_installs_is_tried_one_by_one_and_leaves_the_racks_as_they_were() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let b01 = rack(&db, "Seoul DC1", "B01").await;
        let s = servers(&db, &["SRV-B1", "SRV-B2", "SRV-B3"]).await;
        placement::place(&db, &actor(), s[2], &at(b01, "30"))
            .await
            .unwrap();
        let (first, second) = (install("SRV-B1", b01, "10"), install("SRV-B2", b01, "11"));
        let none = Origin::default();
        let total = || async {
            let filter = workorders::Filter::default();
            workorders::list(&db, &filter, 10, 0).await.unwrap().1
        };

        // Two installs into free Us: both opened; each placement was tried
        // and undone, to be made when its work order is completed.
        let mut tx = db.begin().await.unwrap();
        let ids = workorders::create_many(
            &mut tx,
            &actor(),
            &[(&first, &none), (&second, &none)],
            Lang::En,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(ids.len(), 2, "{backend:?}");
        assert_ne!(ids[0], ids[1], "{backend:?}");
        for (id, (asset, u)) in ids.iter().zip([(s[0], 10), (s[1], 11)]) {
            let wo = workorders::get(&db, *id).await.unwrap();
            assert_eq!(
                (wo.asset_id, wo.rack_id, wo.u_position),
                (Some(asset), Some(b01), Some(u)),
                "{backend:?}"
            );
            assert!(
                placement::of_asset(&db, asset).await.unwrap().is_none(),
                "{backend:?}: the trial placement of asset {asset} was undone"
            );
        }
        assert_eq!(total().await, 2, "{backend:?}");

        // A batch whose second install's U is taken is refused whole, the
        // occupant named; the first's trial is gone with it.
        let taken = install("SRV-B2", b01, "30");
        let mut tx = db.begin().await.unwrap();
        let err = workorders::create_many(
            &mut tx,
            &actor(),
            &[(&first, &none), (&taken, &none)],
            Lang::En,
        )
        .await
        .unwrap_err();
        tx.rollback().await.unwrap();
        match err {
            AppError::Conflict(m) => {
                assert!(m.render(Lang::En).contains("SRV-B3"), "{backend:?}: {m:?}")
            }
            other => panic!("{backend:?}: U30 is taken by SRV-B3: {other:?}"),
        }
        assert_eq!(
            total().await,
            2,
            "{backend:?}: nothing of the batch written"
        );
        assert!(placement::of_asset(&db, s[0]).await.unwrap().is_none());
        let occupant = placement::of_asset(&db, s[2]).await.unwrap().unwrap();
        assert_eq!(
            (occupant.rack_id, occupant.u_position),
            (b01, 30),
            "{backend:?}"
        );
        app.finish().await;
    }
}

/// Whether a text holds Hangul syllables.
fn has_hangul(s: &str) -> bool {
    s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

#[tokio::test]
async fn an_alert_work_order_opened_in_korean_reads_in_each_readers_language() {
    use rackledger::health::redfish::model::{Dimm, Snapshot};
    use rackledger::health::store;
    use serde_json::Value;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let a01 = rack(&db, "Seoul DC1", "A01").await;
        let srv = servers(&db, &["SRV-1"]).await[0];
        placement::place(&db, &actor(), srv, &at(a01, "12"))
            .await
            .unwrap();
        let bmc_id = crate::app::test_bmc(&db, srv).await;
        let failing = slot_serial(&db, srv, "DIMM A3").await;
        let snapshot = Snapshot {
            health: Some("Critical".into()),
            memory: vec![Dimm {
                id: "/redfish/v1/Systems/1/Memory/3".into(),
                slot: "PROC 1 DIMM 3".into(),
                serial: Some(failing.clone()),
                part_number: Some("M321R4GA3BB6-CQK".into()),
                health: Some("Critical".into()),
                state: Some("Enabled".into()),
                ..Dimm::default()
            }],
            ..Snapshot::default()
        };
        let now = rackledger::clock::now();
        store::record_success(&db, bmc_id, srv, &snapshot, now, now)
            .await
            .unwrap();
        // The poller's creator speaks Korean.
        let ids = workorders::alerts::open_for_alerts(&db, Lang::Ko)
            .await
            .unwrap();
        let id = ids[0];
        let csrf = app.login("admin", "rackledger-admin").await;
        let token = app
            .issue_token(&csrf, app.user_id("tech").await, "phone")
            .await;
        let path = format!("/workorders/{id}");
        let en = app
            .server
            .get(&path)
            .add_header("accept-language", "en")
            .await
            .text();
        let en = scraper::Html::parse_document(&en);
        let (title, notes, checks) = (
            text_of(&en, "h1"),
            text_of(&en, "#wo-notes"),
            text_of(&en, "#checklist ul"),
        );
        for text in [&title, &notes, &checks] {
            assert!(!has_hangul(text), "{backend:?}: English reader: {text}");
        }
        assert!(
            title.contains("critical") && title.contains("DIMM") && title.contains("A01 U12"),
            "{backend:?}: {title}"
        );
        assert!(notes.contains(&failing), "{backend:?}: {notes}");
        assert!(checks.contains("Take the spare"), "{backend:?}: {checks}");
        let ko = app
            .server
            .get(&path)
            .add_header("accept-language", "ko")
            .await
            .text();
        let ko = scraper::Html::parse_document(&ko);
        for css in ["h1", "#wo-notes", "#checklist ul"] {
            let text = text_of(&ko, css);
            assert!(
                has_hangul(&text),
                "{backend:?}: Korean reader: {css}: {text}"
            );
        }
        // The list and the API speak the reader's language too.
        let list = app
            .server
            .get("/workorders")
            .add_header("accept-language", "en")
            .await
            .text();
        assert!(!has_hangul(&text_of(
            &scraper::Html::parse_document(&list),
            "table"
        )));
        app.server.clear_cookies();
        let api: Value = app
            .server
            .get(&format!("/api/v1/work-orders/{id}"))
            .authorization_bearer(&token)
            .add_header("accept-language", "en")
            .await
            .json();
        let api_title = api["work_order"]["title"].as_str().unwrap_or_default();
        assert!(
            api_title.contains("critical") && !has_hangul(api_title),
            "{backend:?}: {api}"
        );
        assert!(
            !has_hangul(api["work_order"]["notes"].as_str().unwrap_or("한")),
            "{backend:?}: {api}"
        );
        assert!(
            !has_hangul(api["checklist"][0]["text"].as_str().unwrap_or("한")),
            "{backend:?}: {api}"
        );
        let api: Value = app
            .server
            .get("/api/v1/work-orders")
            .authorization_bearer(&token)
            .add_header("accept-language", "ko")
            .await
            .json();
        let listed = api["items"][0]["title"].as_str().unwrap_or_default();
        assert!(has_hangul(listed), "{backend:?}: {api}");
        app.finish().await;
    }
}

#[tokio::test]
async fn an_audit_finding_work_order_opened_in_korean_reads_in_english() {
    use rackledger::stocktake::{self, StartInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let a01 = rack(&db, "Seoul DC1", "A01").await;
        servers(&db, &["SRV-1"]).await;
        let input = StartInput {
            rack_id: a01.to_string(),
            ..StartInput::default()
        };
        let take = stocktake::start(&db, &actor(), &input).await.unwrap();
        // An installed DIMM's serial scanned in the rack: unexpected here.
        let serial: String = on!(&db, |p| sqlx::query_scalar::<_, String>(
            "select serial from units where status = 'installed' order by id limit 1"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        stocktake::scan(&db, take, &serial).await.unwrap();
        stocktake::finish(&db, &actor(), take).await.unwrap();
        let finding = stocktake::findings(&db, take)
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.needs_work())
            .expect("a finding to follow up");
        let id = stocktake::open_work_order(&db, &actor(), take, finding.id, Lang::Ko)
            .await
            .unwrap();
        app.login("tech", "rackledger-tech").await;
        let page = app
            .server
            .get(&format!("/workorders/{id}"))
            .add_header("accept-language", "en")
            .await
            .text();
        let page = scraper::Html::parse_document(&page);
        let (title, notes) = (text_of(&page, "h1"), text_of(&page, "#wo-notes"));
        assert!(
            !has_hangul(&title) && title.contains(&serial),
            "{backend:?}: {title}"
        );
        assert!(
            !has_hangul(&notes) && notes.contains(&format!("#{take}")),
            "{backend:?}: {notes}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_reconciliation_difference_becomes_one_work_order_listing_it() {
    use rackledger::health::redfish::model::{Dimm, Snapshot};
    use rackledger::health::store;
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let srv = servers(&db, &["SRV-R"]).await[0];
        let bmc_id = crate::app::test_bmc(&db, srv).await;
        // The BMC sees DIMMs A1-A3 as recorded, and a stranger where A4 should be.
        let mut memory = Vec::new();
        for (i, slot) in ["DIMM A1", "DIMM A2", "DIMM A3"].iter().enumerate() {
            memory.push(Dimm {
                id: format!("/redfish/v1/Systems/1/Memory/{i}"),
                slot: (*slot).into(),
                serial: Some(slot_serial(&db, srv, slot).await),
                health: Some("OK".into()),
                ..Dimm::default()
            });
        }
        memory.push(Dimm {
            id: "/redfish/v1/Systems/1/Memory/3".into(),
            slot: "DIMM A4".into(),
            serial: Some("STRANGER-0001".into()),
            health: Some("OK".into()),
            ..Dimm::default()
        });
        let a4 = slot_serial(&db, srv, "DIMM A4").await;
        let now = rackledger::clock::now();
        let snap = Snapshot {
            memory,
            ..Snapshot::default()
        };
        store::record_success(&db, bmc_id, srv, &snap, now, now)
            .await
            .unwrap();
        let wo = workorders::alerts::open_for_reconciliation(&db, &actor(), srv, Lang::En)
            .await
            .unwrap()
            .expect("they disagree");
        let again = workorders::alerts::open_for_reconciliation(&db, &actor(), srv, Lang::En)
            .await
            .unwrap();
        assert_eq!(again, Some(wo), "{backend:?}: one while it is open");
        let wo = workorders::get(&db, wo).await.unwrap();
        assert!(
            wo.notes.contains(&a4) && wo.notes.contains("STRANGER-0001"),
            "{backend:?}: {}",
            wo.notes
        );
        assert_eq!(wo.asset_tag.as_deref(), Some("SRV-R"));
        app.finish().await;
    }
}

/// A stock location (at `site` when given), returning its id.
async fn location(db: &Db, name: &str, kind: &str, parent: Option<i64>, site: Option<i64>) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(
        "insert into stock_locations (name, kind, parent_id, site_id, created_at, updated_at)
         values ($1, $2, $3, $4, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z') returning id"
    )
    .bind(name)
    .bind(kind)
    .bind(parent)
    .bind(site)
    .fetch_one(p)
    .await)
    .unwrap()
}

async fn site_of_rack(db: &Db, rack: i64) -> i64 {
    one(db, "select site_id from rooms where id = (select room_id from rack_rows where id = (select row_id from racks where id = $1))", rack).await
}

/// The value of the attribute `attr` of the first element matching `css`.
fn attr_of(doc: &scraper::Html, css: &str, attr: &str) -> Option<String> {
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(attr).map(str::to_owned))
}

/// A spare DIMM in stock (the oldest), moved to `location`.
async fn spare_at(db: &Db, location: i64, skip: i64) -> String {
    let serial: String = on!(db, |p| {
        sqlx::query_scalar::<_, String>(
        "select u.serial from units u join part_models m on m.id = u.part_model_id
         where m.mpn = 'M321R4GA3BB6-CQK' and u.status = 'in_stock' order by u.id limit 1 offset $1"
    )
    .bind(skip)
    .fetch_one(p)
    .await
    })
    .unwrap();
    rackledger::exec!(db, |p| sqlx::query(
        "update units set location_id = $1 where serial = $2"
    )
    .bind(location)
    .bind(&serial)
    .execute(p)
    .await)
    .unwrap();
    serial
}

async fn unit_location(db: &Db, serial: &str) -> Option<i64> {
    on!(db, |p| sqlx::query_scalar::<_, Option<i64>>(
        "select location_id from units where serial = $1"
    )
    .bind(serial)
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn keeping_the_swaps_default_puts_the_removed_part_at_the_assets_own_site() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let seoul = rack(&db, "Seoul DC1", "A01").await;
        let busan = rack(&db, "Busan DC2", "B01").await;
        let s = servers(&db, &["SRV-1", "SRV-2"]).await;
        placement::place(&db, &actor(), s[0], &at(seoul, "10"))
            .await
            .unwrap();
        // Busan's warehouse comes first alphabetically; Seoul's has a shelf.
        let busan_wh = location(
            &db,
            "Busan DC2 store",
            "warehouse",
            None,
            Some(site_of_rack(&db, busan).await),
        )
        .await;
        let seoul_wh = location(
            &db,
            "Seoul DC1 store",
            "warehouse",
            None,
            Some(site_of_rack(&db, seoul).await),
        )
        .await;
        location(&db, "Shelf 1", "shelf", Some(seoul_wh), None).await;
        let spare = spare_at(&db, busan_wh, 0).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        let path = format!("/inventory/assets/{}", s[0]);
        let (_, page) = app.page(&path).await;
        assert_eq!(
            attr_of(&page, "#swap-location option[selected]", "value"),
            Some(seoul_wh.to_string()),
            "{backend:?}: the swap's location is the server's own site"
        );
        // The user keeps every default and scans the spare (in lower case).
        let old = slot_serial(&db, s[0], "DIMM A1").await;
        let default = seoul_wh.to_string();
        let fields = [
            ("slot_name", "DIMM A1"),
            ("new_serial", &spare.to_lowercase()),
            ("old_to", "faulty"),
            ("location_id", &default),
        ];
        let r = app.post_form(&format!("{path}/swap"), &csrf, &fields).await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(
            unit_location(&db, &old).await,
            Some(seoul_wh),
            "{backend:?}"
        );
        assert_eq!(unit_status(&db, &old).await, "faulty", "{backend:?}");
        // The same form sent again: the spare is no longer in stock, said at its field.
        let r = app.post_form(&format!("{path}/swap"), &csrf, &fields).await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        let doc = scraper::Html::parse_document(&r.text());
        assert!(text_of(&doc, "#new_serial-error").contains(&spare.to_lowercase()));

        // A server in no rack has no sensible default: the user must choose.
        let path = format!("/inventory/assets/{}", s[1]);
        let (_, page) = app.page(&path).await;
        assert_eq!(
            attr_of(&page, "#swap-location option[selected]", "value"),
            Some(String::new()),
            "{backend:?}: no location is chosen for the user"
        );
        let spare2 = spare_at(&db, busan_wh, 1).await;
        for (lang, said) in [(Lang::Ko, "ko"), (Lang::En, "en")] {
            let all = [
                ("slot_name", "DIMM A2"),
                ("new_serial", spare2.as_str()),
                ("old_to", "faulty"),
                ("location_id", ""),
                ("_csrf", csrf.as_str()),
            ];
            let r = app
                .server
                .post(&format!("{path}/swap"))
                .add_header("accept-language", said)
                .form(&all)
                .await;
            assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
            let doc = scraper::Html::parse_document(&r.text());
            assert_eq!(
                text_of(&doc, "#location_id-error"),
                rackledger::i18n::t(lang, "swap.choose_location"),
                "{backend:?}: said at the location field"
            );
            assert_eq!(
                attr_of(&doc, "#swap-new-serial", "value").as_deref(),
                Some(spare2.as_str()),
                "{backend:?}: the scan is kept"
            );
            assert_eq!(
                attr_of(&doc, "select[name=slot_name] option[selected]", "value").as_deref(),
                Some("DIMM A2"),
                "{backend:?}: the slot is kept"
            );
        }
        assert_eq!(unit_status(&db, &spare2).await, "in_stock", "{backend:?}");
        app.finish().await;
    }
}

/// Where no asset says which site a part belongs to (a minimum stock rule, a
/// replacement back from RMA), a location choice starts empty when there is
/// more than one location, so keeping the default never files stock at the
/// first location alphabetically.
#[tokio::test]
async fn a_location_choice_without_an_asset_to_go_by_starts_empty() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let busan = rack(&db, "Busan DC2", "B01").await;
        let seoul = rack(&db, "Seoul DC1", "A01").await;
        location(
            &db,
            "Busan DC2 store",
            "warehouse",
            None,
            Some(site_of_rack(&db, busan).await),
        )
        .await;
        location(
            &db,
            "Seoul DC1 store",
            "warehouse",
            None,
            Some(site_of_rack(&db, seoul).await),
        )
        .await;
        app.login("admin", "rackledger-admin").await;
        let (status, page) = app.page("/inventory/reorder").await;
        assert_eq!(status, 200, "{backend:?}");
        assert_eq!(
            attr_of(&page, "select[name=location_id] option[selected]", "value").as_deref(),
            Some(""),
            "{backend:?}: the reorder rule's location starts unchosen"
        );
        assert!(
            attr_of(&page, "select[name=location_id]", "required").is_some(),
            "{backend:?}: the browser asks for a choice"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_scan_into_the_spare_field_is_not_appended_and_a_wrong_one_is_named_at_its_field() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let seoul = rack(&db, "Seoul DC1", "A01").await;
        let busan = rack(&db, "Busan DC2", "B01").await;
        let srv = servers(&db, &["SRV-1"]).await[0];
        placement::place(&db, &actor(), srv, &at(seoul, "10"))
            .await
            .unwrap();
        location(
            &db,
            "Busan DC2 store",
            "warehouse",
            None,
            Some(site_of_rack(&db, busan).await),
        )
        .await;
        let seoul_wh = location(
            &db,
            "Seoul DC1 store",
            "warehouse",
            None,
            Some(site_of_rack(&db, seoul).await),
        )
        .await;
        let shelf = location(&db, "Shelf 2", "shelf", Some(seoul_wh), None).await;
        let bin = location(&db, "Bin 7", "bin", Some(shelf), None).await;
        let spare = spare_at(&db, bin, 0).await;
        let wo = workorders::create(
            &db,
            &actor(),
            &replace("SRV-1", "DIMM A3"),
            &Origin::default(),
            Lang::En,
        )
        .await
        .unwrap();
        tick_all(&db, wo).await;
        let pulled = slot_serial(&db, srv, "DIMM A3").await;
        let csrf = app.login("tech", "rackledger-tech").await;
        let path = format!("/workorders/{wo}");
        let (_, page) = app.page(&path).await;
        assert_eq!(
            attr_of(&page, "input[name=spare_serial]", "value").as_deref(),
            Some(""),
            "{backend:?}: the scan field starts empty"
        );
        assert!(
            text_of(&page, "#spare-suggestion").contains(&spare),
            "{backend:?}: the suggestion is beside it"
        );
        assert_eq!(
            attr_of(&page, "#use-suggestion", "data-value"),
            Some(spare.clone())
        );
        let pull = text_of(&page, "#wo-pull");
        assert!(
            pull.contains("DIMM A3") && pull.contains(&pulled),
            "{backend:?}: the part to pull: {pull}"
        );
        let row = "#pick-list tbody tr:first-child";
        assert!(text_of(&page, &format!("{row} .spare-site")).contains("Seoul DC1"));
        assert_eq!(
            text_of(&page, &format!("{row} .spare-place")),
            "Seoul DC1 store / Shelf 2"
        );
        assert_eq!(text_of(&page, &format!("{row} .spare-bin")), "Bin 7");
        assert_eq!(
            attr_of(&page, "select[name=location_id] option[selected]", "value"),
            Some(seoul_wh.to_string()),
            "{backend:?}: the removed part goes to the server's site"
        );
        // A scan appended to a suggestion is refused at the spare's field, kept.
        let doubled = format!("{spare}{spare}");
        let r = app
            .server
            .post(&format!("{path}/complete"))
            .add_header("accept-language", "en")
            .form(&[
                ("spare_serial", doubled.as_str()),
                ("removed_to", "faulty"),
                ("location_id", ""),
                ("_csrf", csrf.as_str()),
            ])
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            text_of(&doc, "#spare_serial-error").contains(&doubled),
            "{backend:?}"
        );
        assert_eq!(
            count(&doc, "#location_id-error"),
            0,
            "{backend:?}: not the location's fault"
        );
        assert!(
            text_of(&doc, "#problem").starts_with("Spare"),
            "{backend:?}: {}",
            text_of(&doc, "#problem")
        );
        assert_eq!(
            attr_of(&doc, "input[name=spare_serial]", "value"),
            Some(doubled.clone())
        );
        // The right serial in any case completes it; the removed part stays in Seoul.
        let r = app
            .post_form(
                &format!("{path}/complete"),
                &csrf,
                &[
                    ("spare_serial", &spare.to_lowercase()),
                    ("removed_to", "faulty"),
                    ("location_id", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        assert_eq!(slot_serial(&db, srv, "DIMM A3").await, spare);
        assert_eq!(
            unit_location(&db, &pulled).await,
            Some(seoul_wh),
            "{backend:?}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn an_audit_finding_recorded_as_a_status_reads_in_each_readers_language() {
    use rackledger::stocktake::{self, StartInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let shelf = location(&db, "Audit shelf", "shelf", None, None).await;
        // A unit the records put in no location, only in a status.
        let serial = spare_at(&db, shelf, 0).await;
        rackledger::exec!(&db, |p| sqlx::query(
            "update units set status = 'faulty', location_id = null where serial = $1"
        )
        .bind(&serial)
        .execute(p)
        .await)
        .unwrap();
        let input = StartInput {
            location_id: shelf.to_string(),
            ..StartInput::default()
        };
        let take = stocktake::start(&db, &actor(), &input).await.unwrap();
        stocktake::scan(&db, take, &serial).await.unwrap();
        stocktake::finish(&db, &actor(), take).await.unwrap();
        app.login("tech", "rackledger-tech").await;
        let path = format!("/datacenter/audits/{take}");
        for (lang, said) in [(Lang::En, "en"), (Lang::Ko, "ko")] {
            let r = app
                .server
                .get(&path)
                .add_header("accept-language", said)
                .await;
            let doc = scraper::Html::parse_document(&r.text());
            let row = text_of(&doc, "#findings tbody tr");
            assert!(
                row.contains(rackledger::i18n::t(lang, "unit_status.faulty")),
                "{backend:?}: {said}: {row}"
            );
            assert!(
                !row.contains("faulty"),
                "{backend:?}: not the raw code: {row}"
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_no_fault_close_is_offered_only_once_the_alert_of_the_work_order_is_cleared() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let s = servers(&db, &["SRV-NFF"]).await;
        let wo = workorders::create(
            &db,
            &actor(),
            &replace("SRV-NFF", "DIMM A1"),
            &Origin::default(),
            Lang::En,
        )
        .await
        .unwrap();
        let csrf = app.login("tech", "rackledger-tech").await;
        let page = format!("/workorders/{wo}");
        let nff = format!("/workorders/{wo}/no-fault");

        // No alert names it: nothing the BMC could report healthy again.
        let (_, doc) = app.page(&page).await;
        assert_eq!(count(&doc, "#complete"), 1, "{backend:?}");
        assert_eq!(count(&doc, "#no-fault"), 0, "{backend:?}: no alert");
        let r = app.post_form(&nff, &csrf, &[]).await;
        assert_eq!(r.status_code(), 409, "{backend:?}");

        // A critical alert still open names it.
        let now = rackledger::clock::now();
        rackledger::exec!(&db, |p| sqlx::query(
            "insert into health_alerts (asset_id, dedup_key, component_kind, component, slot, severity,
             opened_at, last_seen_at, work_order_id, open_key, created_at, updated_at)
             values ($1, 'k', 'memory', 'DIMM A1', 'DIMM A1', 'critical', $2, $2, $3, 'k', $2, $2)"
        )
        .bind(s[0])
        .bind(now)
        .bind(wo)
        .execute(p)
        .await)
        .unwrap();
        let (_, doc) = app.page(&page).await;
        assert_eq!(count(&doc, "#no-fault"), 0, "{backend:?}: alert open");

        // The BMC cleared it: the close is offered, and it works.
        rackledger::exec!(&db, |p| sqlx::query(
            "update health_alerts set resolved_at = $1, open_key = null where work_order_id = $2"
        )
        .bind(now)
        .bind(wo)
        .execute(p)
        .await)
        .unwrap();
        let (_, doc) = app.page(&page).await;
        assert_eq!(count(&doc, "#no-fault"), 1, "{backend:?}: alert cleared");
        let r = app.post_form(&nff, &csrf, &[]).await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        app.finish().await;
    }
}

#[tokio::test]
async fn a_spare_that_is_installed_or_at_rma_is_named_at_its_field_and_the_technician_takes_the_order()
 {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let seoul = rack(&db, "Seoul DC1", "A01").await;
        let srv = servers(&db, &["SRV-1", "SRV-2"]).await;
        placement::place(&db, &actor(), srv[0], &at(seoul, "10"))
            .await
            .expect("placed");
        let wh = location(
            &db,
            "Seoul DC1 store",
            "warehouse",
            None,
            Some(site_of_rack(&db, seoul).await),
        )
        .await;
        let spare = spare_at(&db, wh, 0).await;
        let returned = spare_at(&db, wh, 1).await;
        rackledger::exec!(&db, |p| sqlx::query(
            "update units set status = 'at_rma', location_id = null where serial = $1"
        )
        .bind(&returned)
        .execute(p)
        .await)
        .expect("at rma");
        let elsewhere = slot_serial(&db, srv[1], "DIMM A1").await;
        let wo = workorders::create(
            &db,
            &actor(),
            &replace("SRV-1", "DIMM A3"),
            &Origin::default(),
            Lang::En,
        )
        .await
        .expect("created");
        tick_all(&db, wo).await;
        let csrf = app.login("tech", "rackledger-tech").await;
        app.server.add_header("accept-language", "en");
        let tech = app.user_id("tech").await;
        let path = format!("/workorders/{wo}");
        // Starting an unassigned order gives it to the technician.
        let r = app
            .post_form(
                &format!("{path}/status"),
                &csrf,
                &[("status", "in_progress")],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let assignee: Option<i64> =
            one(&db, "select assignee_id from work_orders where id = $1", wo).await;
        assert_eq!(assignee, Some(tech), "{backend:?}: the starter takes it");
        for (serial, says) in [
            (elsewhere.as_str(), "installed in SRV-2"),
            (returned.as_str(), "at RMA"),
        ] {
            let r = app
                .post_form(
                    &format!("{path}/complete"),
                    &csrf,
                    &[
                        ("spare_serial", serial),
                        ("removed_to", "faulty"),
                        ("location_id", ""),
                    ],
                )
                .await;
            assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
            let doc = scraper::Html::parse_document(&r.text());
            let at_field = text_of(&doc, "#spare_serial-error");
            assert!(
                at_field.contains(serial) && at_field.contains(says),
                "{backend:?}: {at_field}"
            );
        }
        // An unassigned order completed by a technician becomes theirs (audited).
        rackledger::exec!(&db, |p| sqlx::query(
            "update work_orders set assignee_id = null where id = $1"
        )
        .bind(wo)
        .execute(p)
        .await)
        .expect("unassigned");
        let r = app
            .post_form(
                &format!("{path}/complete"),
                &csrf,
                &[
                    ("spare_serial", spare.as_str()),
                    ("removed_to", "faulty"),
                    ("location_id", ""),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let assignee: Option<i64> =
            one(&db, "select assignee_id from work_orders where id = $1", wo).await;
        assert_eq!(assignee, Some(tech), "{backend:?}: the finisher takes it");
        let afters: Vec<String> = on!(&db, |p| sqlx::query_scalar::<_, String>(
            "select cast(after_json as text) from audit_log
             where entity = 'work_order' and entity_id = $1 and after_json is not null order by id"
        )
        .bind(wo.to_string())
        .fetch_all(p)
        .await)
        .expect("audit");
        let took = afters
            .iter()
            .filter_map(|a| serde_json::from_str::<serde_json::Value>(a).ok())
            .filter(|a| a["assignee_id"] == tech)
            .count();
        assert!(took >= 2, "{backend:?}: both audited: {afters:?}");
        app.finish().await;
    }
}
