//! Labels: the QR code on every label is decoded back to its payload.

use rackledger::audit::Actor;
use rackledger::db::Db;
use rackledger::money::Currency;
use rackledger::on;
use rackledger::procurement::orders::{self, LineInput, PoInput};
use rackledger::procurement::receiving::{self, ReceiptInput, ReceiveLine};
use scraper::{ElementRef, Html, Selector};

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

/// What `Config::default()` prints: no `public_url`, so `http://` + `bind`.
const BASE: &str = "http://127.0.0.1:8080";

/// Draws the module grid of a label's `path.qr` (runs `Mx,yhNv1h-Nz`) at
/// 4 px per module with a 4-module quiet zone, and decodes it with rqrr.
fn decode(qr: ElementRef<'_>) -> String {
    let n: usize = qr.attr("data-modules").unwrap().parse().unwrap();
    let (px, quiet) = (4, 4);
    let side = (n + 2 * quiet) * px;
    let mut img = vec![255u8; side * side];
    for run in qr.attr("d").unwrap().split('M').filter(|s| !s.is_empty()) {
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(',').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let len: usize = rest.split('v').next().unwrap().parse().unwrap();
        assert!(x + len <= n && y < n, "run inside the grid");
        for mx in x..x + len {
            for dy in 0..px {
                for dx in 0..px {
                    img[((y + quiet) * px + dy) * side + (mx + quiet) * px + dx] = 0;
                }
            }
        }
    }
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| img[y * side + x]);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code per label");
    grids[0].decode().unwrap().1
}

/// Where the list page's *Print labels* link goes.
fn print_link(doc: &Html) -> String {
    let sel = Selector::parse("#print-labels").unwrap();
    doc.select(&sel)
        .next()
        .unwrap()
        .attr("href")
        .unwrap()
        .to_owned()
}

fn qr_codes(doc: &Html) -> Vec<String> {
    let sel = Selector::parse("svg.label path.qr").unwrap();
    doc.select(&sel).map(decode).collect()
}

#[tokio::test]
async fn an_asset_label_decodes_to_the_asset_url_and_tag() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        rackledger::demo::seed_showcase(&app.db).await.unwrap();
        let (id, tag, hostname): (i64, String, Option<String>) = on!(&app.db, |p| {
            sqlx::query_as("select id, asset_tag, hostname from assets order by id limit 1")
                .fetch_one(p)
                .await
        })
        .unwrap();
        // A viewer may print labels: they carry no money.
        app.login("guest", "rackledger-guest").await;
        let (status, page) = app.page(&format!("/inventory/assets/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(
            count(&page, "#print-label"),
            1,
            "{backend:?}: link on the asset page"
        );

        let r = app.server.get(&format!("/labels/assets/{id}.svg")).await;
        assert_eq!(r.status_code(), 200, "{backend:?}: {}", r.text());
        assert!(
            r.header("content-type")
                .to_str()
                .unwrap()
                .starts_with("image/svg+xml")
        );
        let svg = Html::parse_document(&r.text());
        assert_eq!(
            qr_codes(&svg),
            vec![format!("{BASE}/inventory/assets/{id}#{tag}")],
            "{backend:?}"
        );
        let text = text_of(&svg, "svg.label");
        assert!(text.contains(&tag), "{text}");
        if let Some(h) = hostname {
            assert!(text.contains(&h), "readable hostname: {text}");
        }
        let chassis: Option<String> = on!(&app.db, |p| {
            sqlx::query_scalar(
                "select max(u.serial) from units u join part_models m on m.id = u.part_model_id
                 where u.asset_id = $1 and u.status = 'installed' and m.category = 'chassis'",
            )
            .bind(id)
            .fetch_one(p)
            .await
        })
        .unwrap();
        match chassis {
            Some(s) => assert!(text.contains(&format!("S/N {s}")), "{text}"),
            None => assert!(!text.contains("S/N"), "no serial, no S/N line: {text}"),
        }
        for size in ["62x100", "a4"] {
            let (status, doc) = app.page(&format!("/labels?asset={id}&format={size}")).await;
            assert_eq!(status, 200, "{size}");
            assert_eq!(
                qr_codes(&doc),
                vec![format!("{BASE}/inventory/assets/{id}#{tag}")],
                "{backend:?} {size}"
            );
        }
        // The asset list prints every listed asset; an assembly order prints what it built.
        let (_, list) = app.page("/inventory/assets").await;
        let href = print_link(&list);
        let all: Vec<(i64, String)> = on!(&app.db, |p| {
            sqlx::query_as("select id, asset_tag from assets order by asset_tag")
                .fetch_all(p)
                .await
        })
        .unwrap();
        let (_, doc) = app.page(&href).await;
        let want: Vec<String> = all
            .iter()
            .map(|(i, t)| format!("{BASE}/inventory/assets/{i}#{t}"))
            .collect();
        assert_eq!(qr_codes(&doc), want, "{backend:?}: {href}");
        let built: (i64, i64) = on!(&app.db, |p| {
            sqlx::query_as("select id, asset_id from assembly_orders where asset_id is not null order by id limit 1")
                .fetch_one(p)
                .await
        })
        .unwrap();
        let (_, order_page) = app.page(&format!("/inventory/assembly/{}", built.0)).await;
        assert_eq!(count(&order_page, "#print-label"), 1);
        let (_, doc) = app.page(&format!("/labels?assembly={}", built.0)).await;
        let tag = &all.iter().find(|(i, _)| *i == built.1).unwrap().1;
        assert_eq!(
            qr_codes(&doc),
            vec![format!("{BASE}/inventory/assets/{}#{tag}", built.1)]
        );
        assert_eq!(
            app.server
                .get("/labels/assets/999999.svg")
                .await
                .status_code(),
            404
        );
        app.finish().await;
    }
}

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    on!(db, |p| sqlx::query_scalar::<_, i64>(sql).fetch_one(p).await).unwrap()
}

/// An ordered KRW order for 9 NICs: (order, its line, a stock location).
async fn ordered_nics(db: &Db, actor: &Actor) -> (i64, i64, i64) {
    let supplier = scalar(db, "select id from suppliers where name like 'Mellanox%'").await;
    let po = orders::create_po(
        db,
        actor,
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
        quantity: "9".into(),
        unit_price: "312".into(),
        unit_weight_g: None,
        warranty_months: None,
    };
    let line = orders::add_line(db, actor, po, &nic).await.unwrap();
    orders::transition(db, actor, po, "ordered").await.unwrap();
    (
        po,
        line,
        scalar(db, "select min(id) from stock_locations").await,
    )
}

#[tokio::test]
async fn a_receipt_prints_one_label_per_unit_each_decoding_to_its_own_serial() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let db = app.db.clone();
        let actor = Actor::system("test");
        let (po, line, location) = ordered_nics(&db, &actor).await;
        let receive = |serials: Vec<String>| {
            let db = db.clone();
            let actor = actor.clone();
            async move {
                let input = ReceiptInput {
                    location_id: location,
                    lines: vec![ReceiveLine {
                        po_line_id: line,
                        quantity: 0,
                        serials,
                    }],
                    ..ReceiptInput::default()
                };
                receiving::receive(&db, &actor, Currency::KRW, po, &input)
                    .await
                    .unwrap()
            }
        };
        // Two deliveries: the batch of the second holds only its own units.
        receive(vec!["NIC-A1".into(), "NIC-A2".into()]).await;
        let serials: Vec<String> = (1..=5).map(|i| format!("NIC-B{i}")).collect();
        let receipt = receive(serials.clone()).await;
        let units: Vec<(i64, String)> = on!(&db, |p| {
            sqlx::query_as("select id, serial from units where po_line_id = $1 order by position")
                .bind(line)
                .fetch_all(p)
                .await
        })
        .unwrap();
        let expected: Vec<String> = units
            .iter()
            .filter(|(_, s)| serials.contains(s))
            .map(|(u, s)| format!("{BASE}/inventory/units/{u}#{s}"))
            .collect();
        assert_eq!(expected.len(), 5);

        app.login("tech", "rackledger-tech").await;
        let (_, order_page) = app.page(&format!("/procurement/orders/{po}")).await;
        assert_eq!(
            count(&order_page, "#print-labels"),
            1,
            "link on the order page"
        );
        let (status, doc) = app.page(&format!("/labels?receipt={receipt}")).await;
        assert_eq!(status, 200);
        assert_eq!(qr_codes(&doc), expected, "{backend:?}");
        assert_eq!(
            count(&doc, "#receipts tbody tr"),
            3,
            "two receipts and the whole order"
        );
        let text = text_of(&doc, "#labels");
        assert!(
            text.contains("NIC-B3") && text.contains("MCX631432AN-ADAB"),
            "{text}"
        );
        assert!(
            !text.contains("NIC-A1"),
            "the other delivery is not in this batch"
        );

        // The unit list prints what it lists: here a serial prefix search.
        let (_, list) = app.page("/inventory/units?q=NIC-B").await;
        let href = print_link(&list);
        let (_, listed) = app.page(&href).await;
        assert_eq!(qr_codes(&listed), expected, "{backend:?}: {href}");

        let (_, whole) = app.page(&format!("/labels?order={po}&format=62x29")).await;
        assert_eq!(qr_codes(&whole).len(), 7, "the whole order on the roll");
        assert_eq!(count(&whole, ".label-page"), 7, "one roll label per page");

        let (_, picked) = app
            .page(&format!("/labels?unit={}&unit={}", units[0].0, units[6].0))
            .await;
        assert_eq!(
            qr_codes(&picked),
            vec![
                format!("{BASE}/inventory/units/{}#NIC-A1", units[0].0),
                format!("{BASE}/inventory/units/{}#NIC-B5", units[6].0),
            ]
        );
        let svg = app
            .server
            .get(&format!("/labels/units/{}.svg", units[1].0))
            .await;
        assert_eq!(
            qr_codes(&Html::parse_document(&svg.text())),
            vec![format!("{BASE}/inventory/units/{}#NIC-A2", units[1].0)]
        );
        app.finish().await;
    }
}
