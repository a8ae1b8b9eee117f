//! Build templates, assembly with reservations, cancellation, concurrency, swaps.

use rackledger::audit::Actor;
use rackledger::db::Db;
use rackledger::error::AppError;
use rackledger::inventory::assembly::{self, AssemblyInput};
use rackledger::inventory::assets::{self, SwapInput};
use rackledger::inventory::templates::{self, TemplateInput};
use rackledger::on;

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

fn actor() -> Actor {
    Actor::system("test")
}

pub(crate) async fn template(db: &Db, name: &str, slots: &str) -> i64 {
    let input = TemplateInput {
        name: name.into(),
        asset_kind: "server".into(),
        height_u: "1".into(),
        nameplate_watts: "450".into(),
        assembly_labour: "50000".into(),
        slots: slots.into(),
        notes: String::new(),
        ports: String::new(),
    };
    templates::create(db, &actor(), &input).await.unwrap()
}

async fn scalar(db: &Db, sql: &'static str, arg: i64) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(sql)
        .bind(arg)
        .fetch_one(p)
        .await)
    .unwrap()
}

/// The newest in-stock DIMM: (serial, landed cost).
pub(crate) async fn newest_spare_dimm(db: &Db) -> (String, i64) {
    on!(db, |p| {
        sqlx::query_as(
            "select u.serial, u.landed_cost_minor from units u join part_models m on m.id = u.part_model_id
             where m.mpn = 'M321R4GA3BB6-CQK' and u.status = 'in_stock' order by u.id desc limit 1",
        )
        .fetch_one(p)
        .await
    })
    .unwrap()
}

pub(crate) const EDGE_NODE: &str = "DIMM A1-A4: M321R4GA3BB6-CQK\nBOOT1-2: SEDC600M/960G\nNIC1: MCX631432AN-ADAB\nSWITCH?: MSN2410-CB2F";

#[tokio::test]
async fn assembly_installs_exactly_the_reserved_units_and_rolls_up_their_cost() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let t = template(&db, "edge node", EDGE_NODE).await;
        assert_eq!(
            templates::slots(&db, t).await.unwrap().len(),
            8,
            "{backend:?}: 4 + 2 + 1 + 1 optional"
        );
        let order = assembly::start(
            &db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: "SRV-0001".into(),
                hostname: Some("edge01".into()),
            },
        )
        .await
        .unwrap();
        let picks = assembly::pick_list(&db, order).await.unwrap();
        assert_eq!(
            picks.len(),
            7,
            "the optional slot has no stock and stays empty"
        );
        assert!(
            picks.iter().all(|p| p.location.is_some()),
            "the pick list says where each unit is"
        );
        let dimm_ids: Vec<i64> = picks
            .iter()
            .filter(|p| p.mpn.starts_with("M321"))
            .map(|p| p.unit_id)
            .collect();
        let oldest: Vec<i64> = on!(&db, |p| {
            sqlx::query_scalar("select u.id from units u join part_models m on m.id = u.part_model_id where m.mpn = 'M321R4GA3BB6-CQK' order by u.id limit 4")
                .fetch_all(p)
                .await
        })
        .unwrap();
        assert_eq!(dimm_ids, oldest, "oldest stock first");
        let expected: i64 = picks.iter().map(|p| p.landed_cost_minor).sum::<i64>() + 50_000;

        let asset = assembly::complete(&db, &actor(), order).await.unwrap();
        let a = assets::get(&db, asset).await.unwrap();
        assert_eq!(a.units_cost_minor + a.assembly_labour_minor, expected);
        assert_eq!(
            scalar(
                &db,
                "select count(*) from units where asset_id = $1 and status = 'installed'",
                asset
            )
            .await,
            7
        );
        assert_eq!(
            scalar(
                &db,
                "select count(*) from units where assembly_order_id = $1",
                order
            )
            .await,
            0,
            "no reservation left behind"
        );
        let installed: Vec<i64> = on!(&db, |p| sqlx::query_scalar(
            "select id from units where asset_id = $1 order by id"
        )
        .bind(asset)
        .fetch_all(p)
        .await)
        .unwrap();
        let mut picked: Vec<i64> = picks.iter().map(|p| p.unit_id).collect();
        picked.sort_unstable();
        assert_eq!(installed, picked, "exactly the reserved units");
        let levels = rackledger::inventory::units::stock_levels(&db, Some("memory"))
            .await
            .unwrap();
        assert_eq!(
            levels.iter().map(|l| l.quantity).sum::<i64>(),
            28,
            "stock follows the install movements"
        );
        assert!(
            matches!(
                assembly::complete(&db, &actor(), order).await,
                Err(AppError::Conflict(_))
            ),
            "completed once only"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn cancelling_releases_reservations_and_a_short_template_reserves_nothing() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let t = template(&db, "edge node", EDGE_NODE).await;
        let order = assembly::start(
            &db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: "SRV-0002".into(),
                hostname: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            scalar(
                &db,
                "select count(*) from units where assembly_order_id = $1",
                order
            )
            .await,
            7,
            "{backend:?}"
        );
        assembly::cancel(&db, &actor(), order).await.unwrap();
        assert_eq!(
            scalar(
                &db,
                "select count(*) from units where status = 'reserved' and $1 = $1",
                0
            )
            .await,
            0
        );

        // 64 DIMM slots, 32 DIMMs: refused, naming what is short, and nothing stays reserved.
        let big = template(&db, "memory monster", "DIMM A1-A64: M321R4GA3BB6-CQK").await;
        let r = assembly::start(
            &db,
            &actor(),
            &AssemblyInput {
                template_id: big,
                asset_tag: "SRV-0003".into(),
                hostname: None,
            },
        )
        .await;
        match r {
            Err(AppError::Conflict(m)) => assert!(
                m.render(rackledger::i18n::Lang::En).contains("DIMM A33"),
                "{m:?}"
            ),
            other => panic!("expected a shortage, got {other:?}"),
        }
        assert_eq!(
            scalar(
                &db,
                "select count(*) from units where status = 'reserved' and $1 = $1",
                0
            )
            .await,
            0
        );
        assert_eq!(
            scalar(
                &db,
                "select count(*) from assembly_orders where asset_tag = 'SRV-0003' and $1 = $1",
                0
            )
            .await,
            0
        );
        app.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_reserving_one_unit_have_exactly_one_winner() {
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        let t = template(&db, "one nic", "NIC1: MCX631432AN-ADAB").await;
        let order = assembly::start(
            &db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: "SRV-0100".into(),
                hostname: None,
            },
        )
        .await
        .unwrap();
        let free = scalar(&db, "select min(id) from units where status = 'in_stock' and part_model_id = (select part_model_id from units where assembly_order_id = $1)", order).await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = db.begin().await.unwrap();
                let won = assembly::reserve_unit(&mut tx, order, &format!("SPARE{i}"), free)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                won
            }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.unwrap());
        }
        assert_eq!(wins, 1, "{backend:?}");
        // Whole assemblies racing for the last NICs: 4 NICs in stock, one reserved above,
        // one just won by a task: two remain, so two of six orders succeed.
        let mut tasks = Vec::new();
        for i in 0..6 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                assembly::start(
                    &db,
                    &actor(),
                    &AssemblyInput {
                        template_id: t,
                        asset_tag: format!("SRV-02{i:02}"),
                        hostname: None,
                    },
                )
                .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(AppError::Conflict(_)) => {}
                Err(e) => panic!("a loser gets a clear refusal, not {e:?}"),
            }
        }
        assert_eq!(ok, 2);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_swap_moves_cost_and_history_in_one_step() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let t = template(&db, "edge node", EDGE_NODE).await;
        let order = assembly::start(
            &db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: "SRV-0009".into(),
                hostname: None,
            },
        )
        .await
        .unwrap();
        let asset = assembly::complete(&db, &actor(), order).await.unwrap();
        let before = assets::get(&db, asset).await.unwrap().units_cost_minor;
        let old: (i64, i64) = on!(&db, |p| {
            sqlx::query_as("select id, landed_cost_minor from units where asset_id = $1 and slot_name = 'DIMM A1'").bind(asset).fetch_one(p).await
        })
        .unwrap();
        let spare = newest_spare_dimm(&db).await;
        let shelf = scalar(&db, "select min(id) from stock_locations where $1 = $1", 0).await;
        let input = SwapInput {
            slot_name: "DIMM A1".into(),
            new_serial: spare.0.clone(),
            old_to: "faulty".into(),
            location_id: shelf,
        };
        assets::swap(&db, &actor(), asset, &input).await.unwrap();
        let after = assets::get(&db, asset).await.unwrap().units_cost_minor;
        assert_eq!(
            after - before,
            spare.1 - old.1,
            "{backend:?}: the asset's cost follows the units"
        );
        let status: String = on!(&db, |p| sqlx::query_scalar(
            "select status from units where id = $1"
        )
        .bind(old.0)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(status, "faulty");
        let history = assets::installations(&db, asset).await.unwrap();
        assert_eq!(history.len(), 8, "7 installs + the new DIMM");
        assert!(
            history
                .iter()
                .any(|h| h.unit_id == old.0 && h.removal_reason.as_deref() == Some("faulty"))
        );
        // A NIC does not fit a DIMM slot.
        let nic: String = on!(&db, |p| {
            sqlx::query_scalar(
                "select u.serial from units u join part_models m on m.id = u.part_model_id
                 where m.mpn = 'MCX631432AN-ADAB' and u.status = 'in_stock' limit 1",
            )
            .fetch_one(p)
            .await
        })
        .unwrap();
        let wrong = SwapInput {
            new_serial: nic,
            slot_name: "DIMM A2".into(),
            ..input.clone()
        };
        assert!(matches!(
            assets::swap(&db, &actor(), asset, &wrong).await,
            Err(AppError::Conflict(_))
        ));
        // Swapping in a unit that is not in stock is refused and changes nothing.
        let again = SwapInput {
            new_serial: spare.0.clone(),
            ..input
        };
        assert!(assets::swap(&db, &actor(), asset, &again).await.is_err());
        assert_eq!(
            assets::get(&db, asset).await.unwrap().units_cost_minor,
            after
        );

        app.login("tech", "rackledger-tech").await;
        let (status, doc) = app.page(&format!("/inventory/assets/{asset}")).await;
        assert_eq!(status, 200);
        assert_eq!(count(&doc, "#installed tbody tr"), 7, "current units");
        assert!(
            text_of(&doc, "#removed").contains(&format!("{}", old.0))
                || count(&doc, "#removed tbody tr") == 1
        );
        assert_eq!(count(&doc, "#asset-cost"), 0, "technicians see no cost");
        let r = app.server.get("/search?q=srv-0009").await;
        assert_eq!(r.status_code(), 303, "an asset tag opens the asset");
        assert_eq!(
            r.header("location").to_str().unwrap(),
            format!("/inventory/assets/{asset}")
        );
        // Tags match by prefix in any case; `%` and `_` are only characters.
        let (_, doc) = app.page("/inventory/assets?q=srv-000").await;
        assert!(text_of(&doc, "main").contains("SRV-0009"), "{backend:?}");
        for q in ["%25", "SRV_0009", "RV-0009"] {
            let (status, doc) = app.page(&format!("/inventory/assets?q={q}")).await;
            assert_eq!(status, 200);
            assert!(
                !text_of(&doc, "main").contains("SRV-0009"),
                "{backend:?}: {q}"
            );
        }
        let (_, doc) = app.page(&format!("/inventory/units/{}", old.0)).await;
        assert_eq!(
            count(&doc, "#installs tbody tr"),
            1,
            "the removed DIMM's history names the asset"
        );
        assert!(text_of(&doc, "#installs").contains("SRV-0009"));
        app.finish().await;
    }
}

#[tokio::test]
async fn an_rma_round_trip_replaces_credits_or_returns_a_faulty_unit() {
    use rackledger::inventory::rma::{self, OpenInput, ResolveInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let t = template(&db, "edge node", EDGE_NODE).await;
        let order = assembly::start(
            &db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: "SRV-0500".into(),
                hostname: None,
            },
        )
        .await
        .unwrap();
        let asset = assembly::complete(&db, &actor(), order).await.unwrap();
        let shelf = scalar(&db, "select min(id) from stock_locations where $1 = $1", 0).await;
        // A DIMM fails: swap it out as faulty.
        let spare: String = newest_spare_dimm(&db).await.0;
        let (failed, failed_cost): (i64, i64) = on!(&db, |p| {
            sqlx::query_as("select id, landed_cost_minor from units where asset_id = $1 and slot_name = 'DIMM A2'").bind(asset).fetch_one(p).await
        })
        .unwrap();
        let swap = SwapInput {
            slot_name: "DIMM A2".into(),
            new_serial: spare,
            old_to: "faulty".into(),
            location_id: shelf,
        };
        assets::swap(&db, &actor(), asset, &swap).await.unwrap();
        let failed_serial: String = on!(&db, |p| sqlx::query_scalar(
            "select serial from units where id = $1"
        )
        .bind(failed)
        .fetch_one(p)
        .await)
        .unwrap();

        // Only faulty units go back; this one is, and it goes to the supplier of its order.
        let r = rma::open(
            &db,
            &actor(),
            &OpenInput {
                serial: failed_serial.clone(),
                reason: "uncorrectable ECC".into(),
            },
        )
        .await
        .unwrap();
        let listed = rma::list(&db).await.unwrap();
        assert_eq!(
            listed[0].supplier_name, "Kingston Technology Far East",
            "{backend:?}: found through the order"
        );
        assert!(!listed[0].under_warranty, "no warranty term was recorded");
        let status: String = on!(&db, |p| sqlx::query_scalar(
            "select status from units where id = $1"
        )
        .bind(failed)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(status, "at_rma");
        assert!(matches!(
            rma::open(
                &db,
                &actor(),
                &OpenInput {
                    serial: failed_serial.clone(),
                    reason: String::new()
                }
            )
            .await,
            Err(AppError::Conflict(_))
        ));

        // Replaced: the new unit is in stock with the original's landed cost; the original is scrapped.
        let resolve = ResolveInput {
            outcome: "replaced".into(),
            replacement_serial: Some("S4EMNX0W-RMA1".into()),
            location_id: shelf,
            ..ResolveInput::default()
        };
        rma::resolve(&db, &actor(), r, &resolve).await.unwrap();
        let (status, cost): (String, i64) = on!(&db, |p| {
            sqlx::query_as(
                "select status, landed_cost_minor from units where serial = 'S4EMNX0W-RMA1'",
            )
            .fetch_one(p)
            .await
        })
        .unwrap();
        assert_eq!(
            (status.as_str(), cost),
            ("in_stock", failed_cost),
            "the replacement carries the cost"
        );
        let old: String = on!(&db, |p| sqlx::query_scalar(
            "select status from units where id = $1"
        )
        .bind(failed)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(old, "scrapped");
        assert!(
            matches!(
                rma::resolve(&db, &actor(), r, &resolve).await,
                Err(AppError::Conflict(_))
            ),
            "closed once"
        );

        // Credited, then rejected: two more DIMMs fail.
        for (slot, outcome) in [("DIMM A3", "credited"), ("DIMM A4", "rejected")] {
            let spare: String = newest_spare_dimm(&db).await.0;
            let out: (i64, String) = on!(&db, |p| {
                sqlx::query_as(
                    "select id, serial from units where asset_id = $1 and slot_name = $2",
                )
                .bind(asset)
                .bind(slot)
                .fetch_one(p)
                .await
            })
            .unwrap();
            let swap = SwapInput {
                slot_name: slot.into(),
                new_serial: spare,
                old_to: "faulty".into(),
                location_id: shelf,
            };
            assets::swap(&db, &actor(), asset, &swap).await.unwrap();
            let id = rma::open(
                &db,
                &actor(),
                &OpenInput {
                    serial: out.1,
                    reason: String::new(),
                },
            )
            .await
            .unwrap();
            let input = ResolveInput {
                outcome: outcome.into(),
                credit_amount: Some("118.50".into()),
                credit_currency: Some("USD".into()),
                location_id: shelf,
                ..ResolveInput::default()
            };
            rma::resolve(&db, &actor(), id, &input).await.unwrap();
            let status: String = on!(&db, |p| sqlx::query_scalar(
                "select status from units where id = $1"
            )
            .bind(out.0)
            .fetch_one(p)
            .await)
            .unwrap();
            let expected = if outcome == "credited" {
                "scrapped"
            } else {
                "faulty"
            };
            assert_eq!(status, expected, "{backend:?} {outcome}");
        }
        let credit = rma::list(&db)
            .await
            .unwrap()
            .into_iter()
            .find_map(|r| r.credit())
            .expect("a credit");
        assert_eq!(credit.to_string(), "$118.50");

        // The unit page tells the story: installed, removed, RMA.
        app.login("tech", "rackledger-tech").await;
        let (_, doc) = app.page(&format!("/inventory/units/{failed}")).await;
        assert_eq!(count(&doc, "#installs tbody tr"), 1);
        assert!(text_of(&doc, "#unit-rmas").contains("Kingston"));
        let (_, doc) = app.page("/inventory/rma").await;
        assert_eq!(count(&doc, "#rmas tbody tr"), 3);
        assert!(
            !text_of(&doc, "#rmas").contains('$'),
            "technicians see no credit amounts"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_api_builds_an_asset_and_shows_its_cost_only_to_money_roles() {
    use serde_json::{Value, json};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech = app
            .issue_token(&csrf, app.user_id("tech").await, "bench")
            .await;
        let boss = app
            .issue_token(&csrf, app.user_id("boss").await, "reports")
            .await;
        app.server.clear_cookies();
        let body = json!({"name": "api node", "asset_kind": "server", "height_u": "1", "nameplate_watts": "300", "slots": "NIC1: MCX631432AN-ADAB\nBOOT1: SEDC600M/960G"});
        let r = app
            .server
            .post("/api/v1/templates")
            .authorization_bearer(&tech)
            .json(&body)
            .await;
        assert_eq!(r.status_code(), 201, "{backend:?}: {}", r.text());
        let created: Value = r.json();
        assert!(
            created["template"].get("assembly_labour_minor").is_none(),
            "labour is money"
        );
        let t = created["template"]["id"].as_i64().unwrap();
        let r = app
            .server
            .post("/api/v1/assembly")
            .authorization_bearer(&tech)
            .json(&json!({"template_id": t, "asset_tag": "API-1"}))
            .await;
        assert_eq!(r.status_code(), 201, "{}", r.text());
        let started: Value = r.json();
        assert_eq!(started["pick_list"].as_array().unwrap().len(), 2);
        assert!(
            started["pick_list"][0].get("landed_cost_minor").is_none(),
            "no money for technicians"
        );
        let id = started["order"]["id"].as_i64().unwrap();
        let r = app
            .server
            .post(&format!("/api/v1/assembly/{id}/complete"))
            .authorization_bearer(&tech)
            .await;
        assert_eq!(r.status_code(), 200);
        let asset: Value = r.json();
        assert!(asset.get("cost_minor").is_none());
        let asset_id = asset["id"].as_i64().unwrap();
        let seen: Value = app
            .server
            .get(&format!("/api/v1/assets/{asset_id}"))
            .authorization_bearer(&boss)
            .await
            .json();
        assert!(
            seen["cost_minor"].as_i64().unwrap() > 0,
            "managers see the cost"
        );
        assert_eq!(seen["installations"].as_array().unwrap().len(), 2);
        let guest_refused = app
            .server
            .post("/api/v1/assembly")
            .authorization_bearer(&boss)
            .json(&json!({"template_id": t, "asset_tag": "API-2"}))
            .await;
        assert_eq!(guest_refused.status_code(), 403, "managers do not assemble");
        let doc: Value = app
            .server
            .get("/api/v1/openapi.json")
            .authorization_bearer(&tech)
            .await
            .json();
        for path in [
            "/templates",
            "/assembly",
            "/assets/{id}/swap",
            "/rma",
            "/warranty",
            "/reorder",
            "/units",
            "/stock",
        ] {
            assert!(doc["paths"].get(path).is_some(), "OpenAPI lists {path}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn a_unit_chosen_by_hand_replaces_the_automatic_pick() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let t = template(&db, "edge node", EDGE_NODE).await;
        let order = assembly::start(
            &db,
            &actor(),
            &AssemblyInput {
                template_id: t,
                asset_tag: "SRV-0700".into(),
                hostname: None,
            },
        )
        .await
        .unwrap();
        let csrf = app.login("tech", "rackledger-tech").await;
        let wanted: (i64, String) = on!(&db, |p| {
            sqlx::query_as(
                "select u.id, u.serial from units u join part_models m on m.id = u.part_model_id
                 where m.mpn = 'M321R4GA3BB6-CQK' and u.status = 'in_stock' order by u.id desc limit 1",
            )
            .fetch_one(p)
            .await
        })
        .unwrap();
        let before: i64 = on!(&db, |p| {
            sqlx::query_scalar(
                "select id from units where assembly_order_id = $1 and slot_name = 'DIMM A1'",
            )
            .bind(order)
            .fetch_one(p)
            .await
        })
        .unwrap();
        let path = format!("/inventory/assembly/{order}/choose");
        let wrong = app
            .post_form(
                &path,
                &csrf,
                &[("slot_name", "NIC1"), ("serial", wanted.1.as_str())],
            )
            .await;
        assert_eq!(
            wrong.status_code(),
            409,
            "{backend:?}: a DIMM does not fit a NIC slot"
        );
        let ok = app
            .post_form(
                &path,
                &csrf,
                &[("slot_name", "DIMM A1"), ("serial", wanted.1.as_str())],
            )
            .await;
        assert_eq!(ok.status_code(), 303, "{}", ok.text());
        let now: i64 = on!(&db, |p| {
            sqlx::query_scalar(
                "select id from units where assembly_order_id = $1 and slot_name = 'DIMM A1'",
            )
            .bind(order)
            .fetch_one(p)
            .await
        })
        .unwrap();
        assert_eq!(now, wanted.0);
        let released: String = on!(&db, |p| sqlx::query_scalar(
            "select status from units where id = $1"
        )
        .bind(before)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(
            released, "in_stock",
            "the automatic pick goes back to stock"
        );
        let (_, doc) = app.page(&format!("/inventory/assembly/{order}")).await;
        assert_eq!(count(&doc, "#picks tbody tr"), 7);
        app.finish().await;
    }
}
