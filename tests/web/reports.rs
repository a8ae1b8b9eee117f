//! Reports and their CSV/XLSX exports.

use rackledger::on;

use crate::app::TestApp;
use crate::support::backends;

#[tokio::test]
async fn reports_export_as_csv_and_xlsx_with_formulas_neutralised_and_money_kept_from_technicians()
{
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        let r = app
            .post_form(
                "/procurement/suppliers",
                &csrf,
                &[
                    ("name", "=HYPERLINK(\"http://evil\",\"x\")"),
                    ("country", "US"),
                    ("currency", "USD"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303);
        let evil: i64 = on!(&app.db, |p| sqlx::query_scalar(
            "select id from suppliers where name like '=%'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let po = rackledger::procurement::orders::create_po(
            &app.db,
            &rackledger::audit::Actor::system("test"),
            rackledger::money::Currency::KRW,
            &rackledger::procurement::orders::PoInput {
                supplier_id: evil,
                fx_rate: Some("1400".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let part: i64 = on!(&app.db, |p| sqlx::query_scalar(
            "select min(id) from part_models"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        let line = rackledger::procurement::orders::LineInput {
            part_model_id: part,
            quantity: "3".into(),
            unit_price: "10".into(),
            unit_weight_g: None,
            warranty_months: None,
        };
        rackledger::procurement::orders::add_line(
            &app.db,
            &rackledger::audit::Actor::system("test"),
            po,
            &line,
        )
        .await
        .unwrap();
        rackledger::procurement::orders::transition(
            &app.db,
            &rackledger::audit::Actor::system("test"),
            po,
            "ordered",
        )
        .await
        .unwrap();

        let csv = app.server.get("/procurement/reports/open-orders.csv").await;
        assert_eq!(csv.status_code(), 200, "{backend:?}");
        assert!(
            csv.header("content-type")
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = csv.text();
        assert!(text.contains("'=HYPERLINK"), "formula neutralised: {text}");
        assert!(
            text.contains(",42000"),
            "3 × 10 USD × 1,400 = ₩42,000 still to come: {text}"
        );

        let xlsx = app
            .server
            .get("/procurement/reports/stock-valuation.xlsx")
            .await;
        assert_eq!(xlsx.status_code(), 200);
        assert_eq!(&xlsx.as_bytes()[..2], b"PK");
        let page = app.server.get("/procurement/reports").await;
        assert_eq!(page.status_code(), 200);
        // Demo stock: PO-1 (32 DIMMs + 8 SSDs, all in stock) and four NICs of PO-2.
        let expected: i64 = on!(&app.db, |p| {
            sqlx::query_scalar("select cast(sum(landed_cost_minor) as bigint) from units where status = 'in_stock'").fetch_one(p).await
        })
        .unwrap();
        let valuation = app
            .server
            .get("/procurement/reports/stock-valuation.csv")
            .await
            .text();
        let total_line = valuation.lines().last().unwrap();
        assert!(
            total_line.ends_with(&format!(",{expected}")),
            "{total_line} vs {expected}"
        );

        // Spend adds up each placed order's landed cost, order by order.
        let (pos, _) = rackledger::procurement::orders_repo::list_pos(&app.db, None, None, 1000, 0)
            .await
            .unwrap();
        let mut expected = 0i64;
        for po in pos
            .iter()
            .filter(|p| !matches!(p.status.as_str(), "draft" | "cancelled"))
        {
            let lines = rackledger::procurement::orders_repo::lines(&app.db, po.id)
                .await
                .unwrap();
            let costs = rackledger::procurement::orders_repo::costs(&app.db, po.id)
                .await
                .unwrap();
            let landed = rackledger::procurement::orders::compute_landed(
                po,
                &lines,
                &costs,
                rackledger::money::Currency::KRW,
            )
            .unwrap();
            expected += landed.landed_base_minor;
        }
        let spend = app
            .server
            .get("/procurement/reports/spend.csv")
            .await
            .text();
        let total: i64 = spend
            .lines()
            .skip(1)
            .map(|l| l.rsplit(',').next().unwrap().parse::<i64>().unwrap())
            .sum();
        assert_eq!(total, expected, "{backend:?}: {spend}");
        app.login("tech", "rackledger-tech").await;
        assert_eq!(
            app.server.get("/procurement/reports").await.status_code(),
            403
        );
        assert_eq!(
            app.server
                .get("/procurement/reports/spend.csv")
                .await
                .status_code(),
            403
        );
        app.finish().await;
    }
}
