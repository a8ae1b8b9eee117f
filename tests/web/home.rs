//! Role homes: each role lands on its own counts, every count links to the
//! list that shows exactly those rows, and an empty count says what to do.

use rackledger::audit::Actor;
use rackledger::datacenter::racks::{self, RackInput};
use rackledger::db::Db;
use rackledger::on;
use scraper::{Html, Selector};
use time::{Date, Duration};

use crate::app::{TestApp, add_asset, count, test_bmc, text_of};
use crate::support::backends;

fn today() -> Date {
    rackledger::clock::now().date()
}

/// The figure of card `id` as a number, and where it links.
fn card(doc: &Html, id: &str) -> (i64, String) {
    let sel = Selector::parse(&format!("#{id} a.count")).unwrap();
    let a = doc
        .select(&sel)
        .next()
        .unwrap_or_else(|| panic!("no card #{id}"));
    let n = a.text().collect::<String>().trim().parse().unwrap();
    (n, a.value().attr("href").unwrap().to_owned())
}

async fn order(db: &Db, number: &str, status: &str, expected: Option<Date>) {
    let now = rackledger::clock::now();
    rackledger::exec!(db, |p| sqlx::query(
        "insert into purchase_orders (number, supplier_id, currency, fx_rate, fx_rate_date, status, expected_date, created_at, updated_at)
         values ($1, (select min(id) from suppliers), 'KRW', '1', $2, $3, $4, $5, $5)"
    )
    .bind(number)
    .bind(today())
    .bind(status)
    .bind(expected)
    .bind(now)
    .execute(p)
    .await)
    .unwrap();
}

async fn work_order(
    db: &Db,
    title: &str,
    status: &str,
    assignee: Option<i64>,
    due: Option<Date>,
    place: Option<(i64, i64)>,
) -> i64 {
    let now = rackledger::clock::now();
    on!(db, |p| sqlx::query_scalar(
        "insert into work_orders (kind, title, status, assignee_id, due_date, rack_id, u_position, created_at, updated_at)
         values ('other', $1, $2, $3, $4, $5, $6, $7, $7) returning id"
    )
    .bind(title)
    .bind(status)
    .bind(assignee)
    .bind(due)
    .bind(place.map(|p| p.0))
    .bind(place.map(|p| p.1))
    .bind(now)
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn procurement_home_counts_late_and_due_orders_and_each_link_lists_exactly_them() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("buyer", "rackledger-buyer").await;
        let (_, home) = app.page("/").await;
        // Nothing late yet: the card says what to do instead of a bare 0.
        assert_eq!(card(&home, "orders-late").0, 0);
        assert_eq!(count(&home, "#orders-late .empty-hint"), 1);
        assert_eq!(
            count(&home, "#my-work"),
            0,
            "a buyer sees no technician cards"
        );
        // The demo may await orders of its own: counts are taken against them.
        let before = |id: &str| card(&home, id).0;
        let base = [
            before("orders-late"),
            before("orders-due-week"),
            before("orders-awaiting"),
        ];

        let t = today();
        order(&app.db, "PO-LATE", "ordered", Some(t - Duration::days(3))).await;
        order(
            &app.db,
            "PO-LATE-PART",
            "partially_received",
            Some(t - Duration::days(1)),
        )
        .await;
        order(&app.db, "PO-WEEK", "ordered", Some(t + Duration::days(2))).await;
        order(&app.db, "PO-FAR", "ordered", Some(t + Duration::days(30))).await;
        order(&app.db, "PO-DONE", "received", Some(t - Duration::days(3))).await;
        order(&app.db, "PO-DRAFT", "draft", Some(t - Duration::days(3))).await;

        let (_, home) = app.page("/").await;
        let all = [
            "PO-LATE",
            "PO-LATE-PART",
            "PO-WEEK",
            "PO-FAR",
            "PO-DONE",
            "PO-DRAFT",
        ];
        let expect = [
            ("orders-late", vec!["PO-LATE", "PO-LATE-PART"]),
            ("orders-due-week", vec!["PO-WEEK"]),
            (
                "orders-awaiting",
                vec!["PO-LATE", "PO-LATE-PART", "PO-WEEK", "PO-FAR"],
            ),
        ];
        for ((id, numbers), base) in expect.into_iter().zip(base) {
            let (n, href) = card(&home, id);
            assert_eq!(n, base + numbers.len() as i64, "{id} on {backend:?}");
            let (status, list) = app.page(&href).await;
            assert_eq!(status, 200, "{href}");
            let sel = Selector::parse("table tbody tr td:first-child").unwrap();
            let shown: Vec<String> = list
                .select(&sel)
                .map(|e| e.text().collect::<String>().trim().to_owned())
                .collect();
            assert_eq!(shown.len() as i64, n, "{href} lists as many as counted");
            for number in all {
                assert_eq!(
                    shown.iter().any(|s| s == number),
                    numbers.contains(&number),
                    "{number} on {href} ({backend:?})"
                );
            }
        }
        assert_eq!(count(&home, "#orders-late .empty-hint"), 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn procurement_home_counts_imports_waiting_for_a_commit_and_links_to_them() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("buyer", "rackledger-buyer").await;
        let now = rackledger::clock::now();
        for (name, status) in [("waiting.csv", "previewed"), ("done.csv", "committed")] {
            rackledger::exec!(&app.db, |p| sqlx::query(
                "insert into import_batches (kind, file_name, content, content_sha256, status, created_at, updated_at)
                 values ('price_list', $1, $2, $1, $3, $4, $4)"
            )
            .bind(name)
            .bind(b"mpn,price\n".to_vec())
            .bind(status)
            .bind(now)
            .execute(p)
            .await)
            .unwrap();
        }
        let (_, home) = app.page("/").await;
        let (n, href) = card(&home, "imports-waiting");
        assert_eq!(n, 1);
        let (_, list) = app.page(&href).await;
        let body = list.root_element().text().collect::<String>();
        assert!(body.contains("waiting.csv"), "{href}");
        assert!(
            !body.contains("done.csv"),
            "{href} lists only waiting imports"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn technician_home_lists_my_open_work_orders_with_site_and_rack_and_links_the_filtered_lists()
{
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("tech", "rackledger-tech").await;
        let (_, home) = app.page("/").await;
        assert_eq!(card(&home, "my-work").0, 0);
        assert_eq!(count(&home, "#my-work .empty-hint"), 1);
        assert_eq!(
            count(&home, "form#home-scan[action='/search'] input[name=q]"),
            1
        );
        assert_eq!(
            count(&home, "#orders-late"),
            0,
            "a technician sees no buying cards"
        );
        assert_eq!(count(&home, "a#nav-workorders[href='/workorders']"), 1);

        let rack = racks::create(
            &app.db,
            &Actor::system("test"),
            &RackInput {
                site: "Gasan".into(),
                room: "Hall 1".into(),
                row: "Row A".into(),
                name: "R07".into(),
                height_u: Some("42".into()),
                power_budget_kw: Some("8".into()),
                numbering: None,
            },
        )
        .await
        .unwrap();
        let tech = app.user_id("tech").await;
        let boss = app.user_id("boss").await;
        let yesterday = today() - Duration::days(1);
        work_order(
            &app.db,
            "Swap DIMM A2",
            "open",
            Some(tech),
            Some(yesterday),
            Some((rack, 12)),
        )
        .await;
        work_order(&app.db, "Done already", "done", Some(tech), None, None).await;
        work_order(
            &app.db,
            "Someone else's",
            "in_progress",
            Some(boss),
            None,
            None,
        )
        .await;
        work_order(&app.db, "Nobody's yet", "open", None, None, None).await;
        rackledger::exec!(&app.db, |p| sqlx::query(
            "insert into stocktakes (rack_id, status, created_at, updated_at) values ($1, 'open', $2, $2)"
        )
        .bind(rack)
        .bind(rackledger::clock::now())
        .execute(p)
        .await)
        .unwrap();

        let (_, home) = app.page("/").await;
        let (mine, href) = card(&home, "my-work");
        assert_eq!(mine, 1);
        assert_eq!(count(&home, "#my-work-orders tbody tr"), 1);
        assert_eq!(count(&home, "#my-work-orders tbody tr.overdue"), 1);
        let row = text_of(&home, "#my-work-orders tbody tr");
        for part in ["Swap DIMM A2", "Gasan", "R07 U12", &yesterday.to_string()] {
            assert!(row.contains(part), "{part} missing from {row}");
        }
        let titles = |doc: &Html| {
            let sel = Selector::parse("table tbody tr").unwrap();
            doc.select(&sel)
                .map(|e| e.text().collect::<String>())
                .collect::<Vec<_>>()
        };
        let (_, list) = app.page(&href).await;
        let rows = titles(&list);
        assert_eq!(rows.len(), 1, "{href}");
        assert!(rows[0].contains("Swap DIMM A2"));

        let (n, href) = card(&home, "unassigned-work");
        assert_eq!(n, 1);
        let (_, list) = app.page(&href).await;
        let rows = titles(&list);
        assert_eq!(rows.len(), 1, "{href}: {rows:?}");
        assert!(rows[0].contains("Nobody's yet"));

        let (n, href) = card(&home, "open-audits");
        assert_eq!(n, 1);
        let (_, list) = app.page(&href).await;
        assert_eq!(count(&list, "#audits tbody tr"), 1, "{href}");
        app.finish().await;
    }
}

#[tokio::test]
async fn admin_home_counts_users_and_silent_bmcs_and_links_to_them() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("admin", "rackledger-admin").await;
        let asset = add_asset(&app.db, "SRV-SILENT").await;
        test_bmc(&app.db, asset).await;
        rackledger::exec!(&app.db, |p| sqlx::query(
            "update bmcs set failing_since = $1, consecutive_failures = 3 where asset_id = $2"
        )
        .bind(rackledger::clock::now())
        .bind(asset)
        .execute(p)
        .await)
        .unwrap();
        let (_, home) = app.page("/").await;
        let (users, href) = card(&home, "users");
        let (_, list) = app.page(&href).await;
        assert_eq!(users, 5, "the five demo users");
        let body = list.root_element().text().collect::<String>();
        for name in ["admin", "buyer", "tech", "boss", "guest"] {
            assert!(body.contains(name), "{name} on {href}");
        }
        let (silent, href) = card(&home, "bmcs-silent");
        assert_eq!(silent, 1);
        assert_eq!(href, "/health#silent");
        let (_, fleet) = app.page("/health").await;
        assert_eq!(count(&fleet, "table#silent tbody tr"), 1);
        assert!(text_of(&fleet, "table#silent").contains("SRV-SILENT"));
        assert_eq!(card(&home, "failed-logins").0, 0);
        assert_eq!(count(&home, "#failed-logins .empty-hint"), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn manager_home_shows_cost_per_day_losing_tiers_and_fleet_health() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        app.login("boss", "rackledger-boss").await;
        let (status, home) = app.page("/").await;
        assert_eq!(status, 200);
        assert_eq!(count(&home, "#cost-summary"), 1);
        assert_eq!(
            card(&home, "tiers-losing").1,
            "/cost?margin=negative#tier-margins"
        );
        assert_eq!(card(&home, "fleet-unhealthy").1, "/health#unhealthy");
        assert_eq!(count(&home, "#orders-late, #my-work, #users"), 0);
        assert_eq!(count(&home, "#home-scan"), 0);
        app.finish().await;
    }
}

/// A rack at `site` with one placed server `tag` carrying an open critical
/// alert, and one unassigned work order on that rack. Returns the site id.
async fn site_with_alert(db: &Db, site: &str, tag: &str) -> i64 {
    let rack = racks::create(
        db,
        &Actor::system("test"),
        &RackInput {
            site: site.into(),
            room: "Hall 1".into(),
            row: "Row A".into(),
            name: format!("{tag}-R"),
            height_u: Some("42".into()),
            power_budget_kw: Some("8".into()),
            numbering: None,
        },
    )
    .await
    .unwrap();
    let asset = add_asset(db, tag).await;
    // The fleet page lists alerts once there is a BMC.
    test_bmc(db, asset).await;
    let now = rackledger::clock::now();
    rackledger::exec!(db, |p| sqlx::query(
        "insert into placements (asset_id, rack_id, u_position, height_u, face, depth, created_at, updated_at)
         values ($1, $2, 10, 1, 'front', 'full', $3, $3)"
    )
    .bind(asset)
    .bind(rack)
    .bind(now)
    .execute(p)
    .await)
    .unwrap();
    rackledger::exec!(db, |p| sqlx::query(
        "insert into health_alerts (asset_id, dedup_key, component_kind, component, slot, severity,
         opened_at, last_seen_at, open_key, created_at, updated_at)
         values ($1, 'k', 'memory', 'DIMM A1', 'DIMM A1', 'critical', $2, $2, 'k', $2, $2)"
    )
    .bind(asset)
    .bind(now)
    .execute(p)
    .await)
    .unwrap();
    rackledger::exec!(db, |p| sqlx::query(
        "insert into stocktakes (rack_id, status, created_at, updated_at) values ($1, 'open', $2, $2)"
    )
    .bind(rack)
    .bind(now)
    .execute(p)
    .await)
    .unwrap();
    work_order(
        db,
        &format!("Unassigned at {site}"),
        "open",
        None,
        None,
        Some((rack, 10)),
    )
    .await;
    on!(db, |p| sqlx::query_scalar(
        "select id from sites where name = $1"
    )
    .bind(site)
    .fetch_one(p)
    .await)
    .unwrap()
}

#[tokio::test]
async fn technician_home_site_limits_alerts_and_unassigned_work_to_that_site_and_links_carry_it() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let gasan = site_with_alert(&app.db, "Gasan", "SRV-GASAN").await;
        let pangyo = site_with_alert(&app.db, "Pangyo", "SRV-PANGYO").await;
        let csrf = app.login("tech", "rackledger-tech").await;

        // No home site: fleet-wide, with a hint to choose one.
        let (_, home) = app.page("/").await;
        let (alerts, href) = card(&home, "open-alerts");
        assert_eq!(
            (alerts, href.as_str()),
            (2, "/health#alerts"),
            "{backend:?}"
        );
        assert_eq!(card(&home, "unassigned-work").0, 2);
        assert_eq!(card(&home, "open-audits").0, 2);
        assert_eq!(count(&home, "a#home-choose-site[href='/account/site']"), 1);

        // A site that does not exist is refused at the field, the form kept.
        let r = app
            .post_form("/account/site", &csrf, &[("home_site", "999999")])
            .await;
        assert_eq!(r.status_code(), 422, "{backend:?}");
        assert!(r.text().contains("aria-invalid"));
        let r = app
            .post_form("/account/site", &csrf, &[("home_site", &gasan.to_string())])
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}");

        let (_, home) = app.page("/").await;
        assert!(text_of(&home, "#home-site").contains("Gasan"));
        assert_eq!(count(&home, "a#home-all-sites"), 1);
        assert_eq!(count(&home, "#home-choose-site"), 0);
        let (alerts, href) = card(&home, "open-alerts");
        assert_eq!(alerts, 1, "{backend:?}: only the alert at Gasan");
        assert_eq!(href, format!("/health?site={gasan}#alerts"));
        // A browser does not send the fragment.
        let (status, list) = app.page(href.split('#').next().unwrap_or_default()).await;
        assert_eq!(
            count(&list, "table#alerts tbody tr"),
            1,
            "{href} {status} {}",
            text_of(&list, "main")
        );
        let shown = text_of(&list, "table#alerts");
        assert!(shown.contains("SRV-GASAN") && !shown.contains("SRV-PANGYO"));

        let (n, href) = card(&home, "unassigned-work");
        assert_eq!(n, 1, "{backend:?}");
        assert_eq!(href, format!("/workorders?unassigned=1&site={gasan}"));
        let (_, list) = app.page(&href).await;
        assert_eq!(count(&list, "table#workorders tbody tr"), 1, "{href}");
        assert!(text_of(&list, "table#workorders").contains("Unassigned at Gasan"));

        let (n, href) = card(&home, "open-audits");
        assert_eq!(n, 1, "{backend:?}: the audit at Gasan");
        assert_eq!(href, format!("/datacenter/audits?status=open&site={gasan}"));
        let (_, list) = app.page(&href).await;
        assert_eq!(count(&list, "#audits tbody tr"), 1, "{href}");
        assert!(text_of(&list, "#audits").contains("Gasan"));

        // The admin can set it on the user form too.
        let csrf = app.login("admin", "rackledger-admin").await;
        let tech = app.user_id("tech").await;
        let r = app
            .post_form(
                &format!("/admin/users/{tech}"),
                &csrf,
                &[
                    ("display_name", "tech"),
                    ("role", "technician"),
                    ("home_site", &pangyo.to_string()),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}");
        let (_, form) = app.page(&format!("/admin/users/{tech}")).await;
        assert_eq!(
            count(
                &form,
                &format!("select[name=home_site] option[value='{pangyo}'][selected]")
            ),
            1
        );
        app.login("tech", "rackledger-tech").await;
        let (_, home) = app.page("/").await;
        assert_eq!(
            card(&home, "open-alerts").1,
            format!("/health?site={pangyo}#alerts")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn manager_home_links_the_losing_tiers_to_a_table_of_exactly_those_tiers() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&app.db).await.unwrap();
        app.login("boss", "rackledger-boss").await;
        let (_, home) = app.page("/").await;
        let (losing, href) = card(&home, "tiers-losing");
        assert_eq!(losing, 1, "{backend:?}: Promo L loses money");
        let (status, doc) = app.page(href.split('#').next().unwrap_or_default()).await;
        assert_eq!(status, 200, "{href}");
        assert_eq!(
            count(&doc, "#tier-margins tbody tr") as i64,
            losing,
            "{href}"
        );
        assert_eq!(count(&doc, "#tier-margins tbody tr.losing") as i64, losing);
        assert_eq!(count(&doc, "a#all-tiers[href='/cost#tier-margins']"), 1);
        let (_, all) = app.page("/cost").await;
        assert_eq!(
            count(&all, "#tier-margins tbody tr"),
            5,
            "every tier without the filter"
        );
        app.finish().await;
    }
}

/// The manager's trend reads the cost inputs once; its figures are those of
/// two whole reports (today's and a week ago). With 1,000 more placed
/// assets the two ways are timed (printed; no timing is asserted).
#[tokio::test]
async fn the_cost_trend_reads_the_inputs_once_and_agrees_with_two_whole_reports() {
    use rackledger::cost::scenario::Overrides;
    use rackledger::cost::service;
    for backend in backends() {
        let app = TestApp::start(backend).await;
        let db = app.db.clone();
        rackledger::demo::seed_showcase(&db).await.unwrap();
        let now = rackledger::clock::now();
        for i in 0..1000 {
            let asset = add_asset(&db, &format!("SRV-BULK-{i:04}")).await;
            rackledger::exec!(&db, |p| sqlx::query(
                "update assets set template_id = (select min(id) from build_templates), created_at = $2 where id = $1"
            )
            .bind(asset)
            .bind(now - Duration::days(i64::from(i % 400)))
            .execute(p)
            .await)
            .unwrap();
            rackledger::exec!(&db, |p| sqlx::query(
                "insert into placements (asset_id, rack_id, u_position, height_u, face, depth, created_at, updated_at)
                 values ($1, (select min(id) from racks), 1, 1, 'front', 'full', $2, $2)"
            )
            .bind(asset)
            .bind(now)
            .execute(p)
            .await)
            .unwrap();
        }
        let base = rackledger::money::Currency::KRW;
        let day = rackledger::procurement::fx::today();
        let before = day - Duration::days(7);
        let ov = Overrides::default();
        let t = std::time::Instant::now();
        let today = service::report(&db, base, day, &ov, 1000).await.unwrap();
        let then = service::report(&db, base, before, &ov, 1000).await.unwrap();
        let two = t.elapsed();
        let t = std::time::Instant::now();
        let (report, earlier) = service::report_and_earlier_total(&db, base, day, before)
            .await
            .unwrap();
        let one = t.elapsed();
        assert!(report.assets.len() > 1000, "{backend:?}");
        assert_eq!(report.total.total(), today.total.total(), "{backend:?}");
        assert_eq!(earlier, then.total.total(), "{backend:?}");
        eprintln!(
            "{backend:?}, {} assets: two reports {two:?}, one read {one:?}",
            report.assets.len()
        );
        app.finish().await;
    }
}
