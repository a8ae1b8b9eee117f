//! Lists: sorting by a column, downloads with the current filters, and big
//! orders (units paginated, counts per line, labels in batches).

use std::collections::BTreeSet;

use rackledger::audit::Actor;
use rackledger::db::Db;
use rackledger::money::Currency;
use rackledger::on;
use rackledger::procurement::orders::{self, LineInput, PoInput};
use rackledger::procurement::receiving::{self, ReceiptInput, ReceiveLine};
use scraper::{Html, Selector};

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap()
}

/// Cells of the rows of table `css` (one Vec per row).
fn cells(doc: &Html, css: &str) -> Vec<Vec<String>> {
    let rows = Selector::parse(&format!("{css} tbody tr")).unwrap();
    let td = Selector::parse("td").unwrap();
    doc.select(&rows)
        .map(|r| {
            r.select(&td)
                .map(|c| c.text().collect::<String>().trim().to_owned())
                .collect()
        })
        .collect()
}

/// The payloads of the labels on a print page.
fn label_payloads(doc: &Html) -> Vec<String> {
    let sel = Selector::parse("svg.label").unwrap();
    doc.select(&sel)
        .map(|s| s.attr("aria-label").unwrap().to_owned())
        .collect()
}

/// An order of `n` NICs, all received (serials `{prefix}-00001`...): (order, line).
async fn big_order(db: &Db, prefix: &str, n: usize) -> (i64, i64) {
    let actor = Actor::system("test");
    let supplier = scalar(db, "select id from suppliers where name like 'Mellanox%'").await;
    let po = orders::create_po(
        db,
        &actor,
        Currency::KRW,
        &PoInput {
            supplier_id: supplier,
            fx_rate: Some("1385".into()),
            ..PoInput::default()
        },
    )
    .await
    .unwrap();
    let nic = LineInput {
        part_model_id: scalar(
            db,
            "select id from part_models where mpn = 'MCX631432AN-ADAB'",
        )
        .await,
        quantity: n.to_string(),
        unit_price: "312".into(),
        unit_weight_g: None,
        warranty_months: None,
    };
    let line = orders::add_line(db, &actor, po, &nic).await.unwrap();
    orders::transition(db, &actor, po, "ordered").await.unwrap();
    let location = scalar(db, "select min(id) from stock_locations").await;
    let input = ReceiptInput {
        location_id: location,
        lines: vec![ReceiveLine {
            po_line_id: line,
            quantity: 0,
            serials: (1..=n).map(|i| format!("{prefix}-{i:05}")).collect(),
        }],
        ..ReceiptInput::default()
    };
    receiving::receive(db, &actor, Currency::KRW, po, &input)
        .await
        .unwrap();
    (po, line)
}

#[tokio::test]
async fn a_big_order_pages_its_units_counts_them_per_line_and_prints_labels_in_batches() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (po, _) = big_order(&app.db, "BIG", 2500).await;
        app.login("tech", "rackledger-tech").await;

        let (status, page) = app.page(&format!("/procurement/orders/{po}")).await;
        assert_eq!(status, 200);
        assert_eq!(count(&page, "#units tbody tr"), 100, "{backend:?}: page 1");
        let counts = cells(&page, "#line-counts");
        assert_eq!(counts.len(), 1, "one line");
        // #, MPN, ordered, received, then the statuses from in stock on.
        assert_eq!(&counts[0][2..5], ["2500", "2500", "2500"], "{counts:?}");
        assert!(counts[0][5..].iter().all(|c| c == "0"), "{counts:?}");
        let (_, last) = app.page(&format!("/procurement/orders/{po}?page=25")).await;
        assert_eq!(count(&last, "#units tbody tr"), 100, "page 25 of 25");

        // The labels of the whole order: two sheets, 1-2000 and 2001-2500.
        let (status, first) = app.page(&format!("/labels?order={po}")).await;
        assert_eq!(status, 200, "{backend:?}: no longer refused");
        let sel = Selector::parse("#label-batches a").unwrap();
        let links: Vec<String> = first
            .select(&sel)
            .map(|a| a.attr("href").unwrap().to_owned())
            .collect();
        assert_eq!(links.len(), 1, "the other batch is a link");
        let (_, second) = app.page(&links[0]).await;
        let (a, b) = (label_payloads(&first), label_payloads(&second));
        assert_eq!((a.len(), b.len()), (2000, 500), "{backend:?}");
        let all: BTreeSet<String> = a.into_iter().chain(b).collect();
        let ids: Vec<i64> = on!(&app.db, |p| {
            sqlx::query_scalar::<_, i64>(
                "select u.id from units u join po_lines l on l.id = u.po_line_id where l.po_id = $1",
            )
            .bind(po)
            .fetch_all(p)
            .await
        })
        .unwrap();
        let expected: BTreeSet<String> = ids
            .iter()
            .map(|u| {
                let serial = all
                    .iter()
                    .find(|p| p.contains(&format!("/inventory/units/{u}#")))
                    .unwrap_or_else(|| panic!("unit {u} has no label"));
                serial.clone()
            })
            .collect();
        assert_eq!(all.len(), 2500, "every unit once");
        assert_eq!(all, expected);
        app.finish().await;
    }
}

/// Column `n` (from 0) of the rows of table `css`.
fn column(doc: &Html, css: &str, n: usize) -> Vec<String> {
    cells(doc, css)
        .into_iter()
        .map(|r| r.get(n).cloned().unwrap_or_default())
        .collect()
}

/// `aria-sort` of every header of table `css`.
fn aria_sorts(doc: &Html, css: &str) -> Vec<String> {
    let sel = Selector::parse(&format!("{css} thead th")).unwrap();
    doc.select(&sel)
        .map(|th| th.attr("aria-sort").unwrap_or("").to_owned())
        .collect()
}

/// A CSV download as rows (BOM stripped), checking it is a CSV attachment.
async fn csv_rows(app: &TestApp, path: &str) -> Vec<Vec<String>> {
    let r = app.server.get(path).await;
    assert_eq!(r.status_code(), 200, "{path}: {}", r.text());
    let ct = r.header("content-type");
    assert!(ct.to_str().unwrap().starts_with("text/csv"), "{path}");
    let disposition = r.header("content-disposition");
    assert!(
        disposition.to_str().unwrap().starts_with("attachment"),
        "{path}"
    );
    let bytes = r.as_bytes().to_vec();
    let text = String::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// An XLSX download's first sheet as rows of text.
async fn xlsx_rows(app: &TestApp, path: &str) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let r = app.server.get(path).await;
    assert_eq!(r.status_code(), 200, "{path}");
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(r.as_bytes().to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect()
}

/// Sorting by `key` both ways puts column `col` of table `css` in ascending
/// and then descending order (compared by `norm`), and marks the header.
async fn sorts_both_ways(
    app: &TestApp,
    path: &str,
    css: &str,
    key: &str,
    col: usize,
    norm: fn(&str) -> String,
) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (status, asc) = app.page(&format!("{path}{sep}sort={key}")).await;
    assert_eq!(status, 200);
    let up: Vec<String> = column(&asc, css, col).iter().map(|c| norm(c)).collect();
    assert!(up.len() >= 2, "{path} {key}: needs rows to sort: {up:?}");
    let mut sorted = up.clone();
    sorted.sort();
    assert_eq!(up, sorted, "{path} sort={key} ascending");
    assert_eq!(aria_sorts(&asc, css)[col], "ascending", "{path} {key}");
    let (_, desc) = app.page(&format!("{path}{sep}sort=-{key}")).await;
    let down: Vec<String> = column(&desc, css, col).iter().map(|c| norm(c)).collect();
    // A long list shows its other end first: sorted the other way.
    let mut reversed = down.clone();
    reversed.sort();
    reversed.reverse();
    assert_eq!(down, reversed, "{path} sort=-{key} descending");
    assert_ne!(up, down, "{path} {key}: the order changed");
    assert_eq!(aria_sorts(&desc, css)[col], "descending", "{path} {key}");
    // Hostile keys are ignored: the default order, and the table is still there.
    let (status, evil) = app
        .page(&format!(
            "{path}{sep}sort=id%3B%20drop%20table%20users%20--"
        ))
        .await;
    assert_eq!(status, 200, "{path}: a bad sort is ignored");
    let (_, plain) = app.page(path).await;
    assert_eq!(cells(&evil, css), cells(&plain, css), "{path}");
}

fn same(s: &str) -> String {
    s.to_owned()
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

#[tokio::test]
async fn suppliers_parts_orders_and_units_sort_by_a_column_both_ways() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        big_order(&app.db, "aa", 3).await;
        big_order(&app.db, "Zb", 2).await;
        app.login("admin", "rackledger-admin").await;
        sorts_both_ways(
            &app,
            "/procurement/suppliers",
            "#suppliers",
            "name",
            0,
            lower,
        )
        .await;
        sorts_both_ways(
            &app,
            "/procurement/suppliers",
            "#suppliers",
            "country",
            1,
            same,
        )
        .await;
        sorts_both_ways(&app, "/procurement/parts", "#parts", "mpn", 2, same).await;
        sorts_both_ways(&app, "/procurement/orders", "#orders", "number", 0, same).await;
        sorts_both_ways(&app, "/inventory/units", "#units", "serial", 0, lower).await;
        // A header link keeps the filter and flips the direction.
        let (_, page) = app.page("/inventory/units?q=aa&sort=serial").await;
        let sel = Selector::parse("#units thead th a").unwrap();
        let href = page.select(&sel).next().unwrap().attr("href").unwrap();
        assert_eq!(href, "/inventory/units?q=aa&sort=-serial");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_download_holds_exactly_the_filtered_rows_under_a_header_row() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (po, _) = big_order(&app.db, "BIG", 60).await;
        app.login("buyer", "rackledger-buyer").await;
        // 60 units match `BIG-000` (BIG-00001..BIG-00060); the page shows 50.
        let (_, page) = app.page("/inventory/units?q=BIG-0000&sort=-serial").await;
        let shown = column(&page, "#units", 0);
        assert_eq!(shown.len(), 9, "BIG-00001..BIG-00009");
        let href = {
            let sel = Selector::parse("a.download-csv").unwrap();
            page.select(&sel)
                .next()
                .unwrap()
                .attr("href")
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            href,
            "/inventory/units?q=BIG-0000&sort=-serial&download=csv"
        );
        let rows = csv_rows(&app, &href).await;
        let header = Selector::parse("#units thead th").unwrap();
        let heads: Vec<String> = page
            .select(&header)
            .map(|h| h.text().collect::<String>().trim().to_owned())
            .collect();
        // The first row is the header: serial, MPN, manufacturer, category, ...
        assert_eq!(
            [&rows[0][0], &rows[0][1], &rows[0][3]],
            [&heads[0], &heads[1], &heads[2]]
        );
        let serials: Vec<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
        assert_eq!(serials, shown, "{backend:?}: the filtered rows, in order");
        // All rows, not only the page.
        let all = csv_rows(&app, "/inventory/units?q=BIG&download=csv").await;
        assert_eq!(all.len(), 61, "header and 60 units");
        let xlsx = xlsx_rows(&app, "/inventory/units?q=BIG&download=xlsx").await;
        assert_eq!(xlsx.len(), 61);
        assert_eq!(xlsx[0], all[0], "same header");
        for (x, c) in xlsx.iter().zip(&all).skip(1) {
            assert_eq!(x[..6], c[..6], "{backend:?}");
        }
        // The buyer sees money: the landed cost and its currency are columns.
        assert_eq!(all[0].len(), 9, "{:?}", all[0]);

        // Suppliers, parts and orders download with their filters too.
        let s = csv_rows(&app, "/procurement/suppliers?q=mellanox&download=csv").await;
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[1][0].starts_with("Mellanox"), "{s:?}");
        let p = csv_rows(&app, "/procurement/parts?category=nic&download=csv").await;
        let (_, parts_page) = app.page("/procurement/parts?category=nic").await;
        assert_eq!(p.len() - 1, count(&parts_page, "#parts tbody tr"));
        let number: String = on!(&app.db, |p| {
            sqlx::query_scalar("select number from purchase_orders where id = $1")
                .bind(po)
                .fetch_one(p)
                .await
        })
        .unwrap();
        let o = csv_rows(
            &app,
            &format!("/procurement/orders?q={number}&download=csv"),
        )
        .await;
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!(o[1][0], number);
        let drafts = csv_rows(&app, "/procurement/orders?status=draft&download=csv").await;
        let (_, draft_page) = app.page("/procurement/orders?status=draft").await;
        assert_eq!(drafts.len() - 1, count(&draft_page, "#orders tbody tr"));
        assert!(drafts[1..].iter().all(|r| r[0] != number), "{drafts:?}");
        let bad = app.server.get("/inventory/units?download=pdf").await;
        assert_eq!(bad.status_code(), 404);

        // A technician does not see money: no cost column in the download.
        app.login("tech", "rackledger-tech").await;
        let t = csv_rows(&app, "/inventory/units?q=BIG&download=csv").await;
        assert_eq!(t.len(), 61);
        assert_eq!(t[0], all[0][..7], "the same columns without the cost");
        assert!(t[1..].iter().all(|r| r.len() == 7));
        let tp = csv_rows(&app, "/procurement/parts?category=nic&download=csv").await;
        assert_eq!(tp[0], p[0][..6], "no last price: {:?}", tp[0]);
        assert_eq!(p[0].len(), 8, "{:?}", p[0]);
        app.finish().await;
    }
}

#[tokio::test]
async fn assets_work_orders_bmcs_and_the_audit_log_sort_and_download() {
    use rackledger::i18n::Lang;
    use rackledger::workorders::{self, Origin, WorkOrderInput};
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let tags = ["SRV-B", "srv-a", "SRV-C"];
        let mut ids = Vec::new();
        for t in tags {
            let id = crate::app::add_asset(&app.db, t).await;
            crate::app::test_bmc(&app.db, id).await;
            ids.push(id);
        }
        for (t, due) in [
            ("SRV-B", "2031-01-05"),
            ("srv-a", "2031-01-03"),
            ("SRV-C", ""),
        ] {
            let input = WorkOrderInput {
                kind: "other".into(),
                title: format!("Check {t}"),
                due_date: due.into(),
                ..WorkOrderInput::default()
            };
            workorders::create(
                &app.db,
                &Actor::system("test"),
                &input,
                &Origin::default(),
                Lang::En,
            )
            .await
            .unwrap();
        }
        app.login("admin", "rackledger-admin").await;
        sorts_both_ways(&app, "/inventory/assets", "#assets", "tag", 0, lower).await;
        sorts_both_ways(&app, "/workorders", "#workorders", "title", 1, lower).await;
        sorts_both_ways(&app, "/health/bmcs", "#bmcs", "asset", 0, lower).await;
        // The audit log's record column is in words (sorted by kind code),
        // so check its sort on the actor column, which is shown as stored.
        sorts_both_ways(&app, "/admin/audit", "#audit", "actor", 1, lower).await;

        let a = csv_rows(&app, "/inventory/assets?q=srv-&sort=-tag&download=csv").await;
        let got: Vec<&str> = a[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(got, ["SRV-C", "SRV-B", "srv-a"], "{backend:?}");
        let w = csv_rows(&app, "/workorders?q=check%20srv-b&download=csv").await;
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[1][1], "Check SRV-B");
        let bx = xlsx_rows(&app, "/health/bmcs?q=srv-c&download=xlsx").await;
        assert_eq!(bx.len(), 2, "{bx:?}");
        assert_eq!(bx[1][0], "SRV-C");
        let au = csv_rows(&app, "/admin/audit?entity=bmc&download=csv").await;
        assert_eq!(au.len(), 4, "three BMCs saved: {au:?}");
        assert!(au[1..].iter().all(|r| r[3].starts_with("BMC")), "{au:?}");
        // Times in the user's zone, named in the header.
        assert!(au[0][0].ends_with(" (Asia/Seoul)"), "{:?}", au[0]);
        assert!(bx[0][6].ends_with("(Asia/Seoul)"), "{:?}", bx[0]);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_page_past_the_end_says_so_and_links_to_the_last_page() {
    use crate::app::text_of;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        big_order(&app.db, "PE", 120).await;
        let csrf = app.login("admin", "rackledger-admin").await;
        let r = app
            .post_form("/lang", &csrf, &[("lang", "en"), ("next", "/")])
            .await;
        assert_eq!(r.status_code(), 303);
        let (status, doc) = app.page("/inventory/units?q=PE&page=9").await;
        assert_eq!(status, 200, "{backend:?}");
        let said = text_of(&doc, "#past-end");
        assert!(
            said.contains("Page 9 is past the end — go to the last page (3)"),
            "{backend:?}: {said:?}"
        );
        let sel = Selector::parse("#past-end a").unwrap();
        let href = doc.select(&sel).next().unwrap().attr("href").unwrap();
        assert_eq!(href, "/inventory/units?q=PE&page=3", "the filter is kept");
        assert!(
            !doc.html().contains("No units yet"),
            "not the empty-state text"
        );
        let (_, last) = app.page(href).await;
        assert_eq!(count(&last, "#units tbody tr"), 20, "120 = 50 + 50 + 20");
        // An empty list past its end still says it is empty.
        let (status, none) = app.page("/inventory/units?q=NOTHING&page=9").await;
        assert_eq!(status, 200);
        assert_eq!(count(&none, "#past-end"), 0);
        app.finish().await;
    }
}

/// Every list page (the sortable, downloadable ones and the other paged ones).
const LISTS: &[&str] = &[
    "/inventory/units",
    "/inventory/assets",
    "/procurement/orders",
    "/procurement/parts",
    "/procurement/suppliers",
    "/workorders",
    "/health/bmcs",
    "/admin/audit",
    "/admin/users",
    "/datacenter/audits",
];

#[tokio::test]
async fn every_list_reads_any_page_number_the_same_way() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        big_order(&app.db, "PP", 3).await;
        for tag in ["PP-A", "PP-B"] {
            crate::app::add_asset(&app.db, tag).await;
        }
        app.login("admin", "rackledger-admin").await;
        let huge = "123456789012345678901234567890";
        let queries = [
            format!("page={huge}"),
            format!("page=-{huge}"),
            format!("per_page={huge}"),
            format!("per_page=-{huge}&page=2"),
            "page=&per_page=".to_owned(),
            "page=0&per_page=0".to_owned(),
        ];
        for path in LISTS {
            for q in &queries {
                let url = format!("{path}?{q}");
                let r = app.server.get(&url).await;
                assert_eq!(r.status_code(), 200, "{backend:?} {url}");
            }
            // What is not a number is refused alike: the application's page.
            for q in ["page=abc", "per_page=1.5"] {
                let url = format!("{path}?{q}");
                let r = app.server.get(&url).await;
                assert_eq!(r.status_code(), 400, "{backend:?} {url}");
                assert!(r.text().contains("<html"), "{url}");
            }
        }
        // Clamped, not refused: a huge page is past the end, a huge
        // per-page is the most rows a page shows, a tiny one is one row.
        for path in [
            "/inventory/units",
            "/inventory/assets",
            "/procurement/orders",
            "/procurement/parts",
            "/procurement/suppliers",
            "/admin/audit",
        ] {
            let (_, doc) = app.page(&format!("{path}?page={huge}")).await;
            assert_eq!(count(&doc, "#past-end"), 1, "{backend:?} {path}");
        }
        let (_, one) = app.page("/inventory/units?per_page=-5").await;
        assert_eq!(count(&one, "#units tbody tr"), 1);
        let (_, assets) = app.page("/inventory/assets?per_page=1").await;
        assert_eq!(count(&assets, "#assets tbody tr"), 1, "assets page too");
        let (_, two) = app.page("/inventory/units?per_page=2").await;
        assert_eq!(count(&two, "#units tbody tr"), 2);
        let sel = Selector::parse("nav.pager a[rel=next]").unwrap();
        let next = two.select(&sel).next().unwrap().attr("href").unwrap();
        assert_eq!(next, "/inventory/units?per_page=2&page=2", "kept in links");
        app.finish().await;
    }
}

/// A number shown with a currency or unit, as a key that sorts as the number.
fn num_key(s: &str) -> String {
    let digits: String = s
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    format!("{int:0>15}.{frac:0<6}")
}

async fn exec(db: &Db, sql: &str, a: i64, b: i64) {
    let sql = sql.to_owned();
    on!(db, |p| sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(a)
        .bind(b)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
}

#[tokio::test]
async fn assets_by_cost_and_parts_by_specs_and_last_price_sort_for_money_roles_only() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        // Costs in another order than the tags.
        for (tag, labour) in [("CST-A", 900_000), ("CST-B", 50_000), ("CST-C", 300_000)] {
            let id = crate::app::add_asset(&app.db, tag).await;
            exec(
                &app.db,
                "update assets set assembly_labour_minor = $1 where id = $2",
                labour,
                id,
            )
            .await;
        }
        // Every part: distinct power (its headline figure here) and prices
        // whose text order is not their number order.
        let ids: Vec<i64> = on!(&app.db, |p| sqlx::query_scalar(
            "select id from part_models order by id"
        )
        .fetch_all(p)
        .await)
        .unwrap();
        assert!(ids.len() >= 5, "{ids:?}");
        // SQLite keeps a price as text, PostgreSQL as a number.
        let price = if backend == crate::support::Backend::Postgres {
            "$1"
        } else {
            "cast($1 as text)"
        };
        let sql = format!(
            "update part_models set cores = null, memory_gib = null, capacity_gb = null,
             power_watts = $1, last_price = {price}, last_price_currency = 'USD' where id = $2"
        );
        for (i, id) in (0_i64..).zip(&ids) {
            let watts = [70, 9, 300, 25, 120][usize::try_from(i).unwrap() % 5] + i;
            exec(&app.db, &sql, watts, *id).await;
        }
        app.login("admin", "rackledger-admin").await;
        let cat = "/procurement/parts?per_page=100".to_owned();
        sorts_both_ways(
            &app,
            "/inventory/assets?q=CST",
            "#assets",
            "cost",
            4,
            num_key,
        )
        .await;
        sorts_both_ways(&app, &cat, "#parts", "specs", 4, num_key).await;
        sorts_both_ways(&app, &cat, "#parts", "last_price", 6, num_key).await;
        let (_, doc) = app.page("/inventory/assets?q=CST&sort=cost").await;
        assert_eq!(column(&doc, "#assets", 0), ["CST-B", "CST-C", "CST-A"]);

        // The audit log's changes are a diff: not sortable, no sort link.
        let (_, audit) = app.page("/admin/audit").await;
        let sel = Selector::parse("#audit thead th").unwrap();
        let changes = audit.select(&sel).nth(4).unwrap();
        assert!(changes.attr("aria-sort").is_none());
        assert_eq!(changes.select(&Selector::parse("a").unwrap()).count(), 0);

        // Without money the cost and price do not sort (nor show).
        app.login("tech", "rackledger-tech").await;
        let (_, plain) = app.page("/inventory/assets?q=CST").await;
        let (_, by_cost) = app.page("/inventory/assets?q=CST&sort=cost").await;
        assert_eq!(column(&by_cost, "#assets", 0), ["CST-A", "CST-B", "CST-C"]);
        assert_eq!(cells(&by_cost, "#assets"), cells(&plain, "#assets"));
        let (_, plain) = app.page(&cat).await;
        let (_, by_price) = app.page(&format!("{cat}&sort=-last_price")).await;
        assert_eq!(cells(&by_price, "#parts"), cells(&plain, "#parts"));
        sorts_both_ways(&app, &cat, "#parts", "specs", 4, num_key).await;
        app.finish().await;
    }
}

#[tokio::test]
async fn a_csv_download_streams_every_row_in_order_with_times_and_its_name_in_the_users_zone() {
    use rackledger::web::list::CHUNK;
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        // More rows than one chunk, so the file is written in several.
        let n = usize::try_from(CHUNK).unwrap() + 345;
        big_order(&app.db, "STR", n).await;
        app.login("buyer", "rackledger-buyer").await;
        let path = "/inventory/units?q=STR-&sort=-serial&download=csv";
        let r = app.server.get(path).await;
        assert_eq!(r.status_code(), 200);
        assert!(
            r.maybe_header("content-length").is_none(),
            "{backend:?}: a stream has no length known up front"
        );
        let rows = csv_rows(&app, path).await;
        assert_eq!(rows.len(), n + 1, "{backend:?}: header and every unit");
        let serials: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        let mut expected: Vec<String> = (1..=n).map(|i| format!("STR-{i:05}")).collect();
        expected.reverse();
        assert_eq!(
            serials, expected,
            "{backend:?}: complete, in order, once each"
        );

        // Times in the user's zone (Asia/Seoul here), the zone in the header.
        assert!(
            ["Received (Asia/Seoul)", "입고 시각 (Asia/Seoul)"].contains(&rows[0][6].as_str()),
            "{:?}",
            rows[0]
        );
        let utc: time::OffsetDateTime = on!(&app.db, |p| sqlx::query_scalar(
            "select created_at from units where serial = 'STR-00001'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let seoul = utc.to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap());
        let shown = &rows.last().unwrap()[6];
        let fmt =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        assert_eq!(shown, &seoul.format(&fmt).unwrap(), "{backend:?}");
        // The file is named by the day in that zone.
        let today = rackledger::clock::now()
            .to_offset(time::UtcOffset::from_hms(9, 0, 0).unwrap())
            .date();
        let disposition = r.header("content-disposition");
        assert_eq!(
            disposition.to_str().unwrap(),
            format!("attachment; filename=\"units-{today}.csv\"")
        );
        // The XLSX (built whole) holds the same rows.
        let x = xlsx_rows(&app, "/inventory/units?q=STR-&sort=-serial&download=xlsx").await;
        assert_eq!(x.len(), n + 1);
        assert_eq!(x[1][0], rows[1][0]);
        assert_eq!(x[n][6], rows[n][6]);
        app.finish().await;
    }
}

#[tokio::test]
async fn label_batches_say_how_many_of_the_whole_and_past_the_end_link_to_the_last() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let (po, _) = big_order(&app.db, "BAT", 2001).await;
        app.login("tech", "rackledger-tech").await;
        app.server.add_header("accept-language", "en");
        let (status, _) = app.page("/labels?order=999999").await;
        assert_eq!(status, 404, "{backend:?}: no such order");
        let (status, first) = app.page(&format!("/labels?order={po}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            text_of(&first, "#label-count"),
            "(2000 of 2001)",
            "{backend:?}"
        );
        let (_, second) = app.page(&format!("/labels?order={po}&batch=2")).await;
        assert_eq!(text_of(&second, "#label-count"), "(1 of 2001)");
        let (status, past) = app.page(&format!("/labels?order={po}&batch=3")).await;
        assert_eq!(status, 200, "{backend:?}");
        let said = text_of(&past, "#past-end");
        assert!(said.contains("Batch 3") && said.contains('2'), "{said}");
        let link = Selector::parse("#past-end a").unwrap();
        let href = past
            .select(&link)
            .next()
            .and_then(|a| a.attr("href"))
            .expect("a link to the last batch")
            .to_owned();
        let (_, last) = app.page(&href).await;
        assert_eq!(label_payloads(&last).len(), 1, "{backend:?}: {href}");
        app.finish().await;
    }
}
