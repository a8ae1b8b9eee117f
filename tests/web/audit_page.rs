//! The admin audit log and its download read like the history tabs: the
//! record named and linked, field-by-field changes in words, times in the
//! reader's zone.

use rackledger::audit::{self, Actor, AuditFilter};
use rackledger::on;
use rackledger::procurement::po_status;
use scraper::{Html, Selector};

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

fn cells(doc: &Html) -> Vec<Vec<String>> {
    let tr = Selector::parse("#audit tbody tr").unwrap();
    let td = Selector::parse("td").unwrap();
    doc.select(&tr)
        .map(|r| {
            r.select(&td)
                .map(|c| {
                    c.text()
                        .collect::<String>()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .collect()
}

async fn csv(app: &TestApp, path: &str) -> Vec<Vec<String>> {
    let r = app.server.get(path).await;
    assert_eq!(r.status_code(), 200, "{path}: {}", r.text());
    let text = r.text();
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_audit_log_names_the_record_and_lists_its_changes_in_the_readers_words() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let actor = Actor::system("test");
        let po = crate::history::draft_order(&app.db, "audit me").await;
        po_status::transition(&app.db, &actor, po, "cancelled")
            .await
            .unwrap();
        let number: String = on!(&app.db, |p| sqlx::query_scalar(
            "select number from purchase_orders where id = $1"
        )
        .bind(po)
        .fetch_one(p)
        .await)
        .unwrap();
        let filter = AuditFilter {
            entity: Some("purchase_order".into()),
            entity_id: Some(po.to_string()),
            actor: None,
        };
        let (rows, _) = audit::list(&app.db, &filter, 10, 0).await.unwrap();
        let seoul = rows[0].created_at.to_offset(time::macros::offset!(+9));
        let local = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            seoul.year(),
            u8::from(seoul.month()),
            seoul.day(),
            seoul.hour(),
            seoul.minute()
        );

        let csrf = app.login("admin", "rackledger-admin").await;
        crate::history::choose_zone(&app, &csrf, "Asia/Seoul").await;
        let path = format!("/admin/audit?entity=purchase_order&entity_id={po}");
        let (status, doc) = app.page(&path).await;
        assert_eq!(status, 200, "{backend:?}");
        let rows = cells(&doc);
        assert_eq!(rows.len(), 2, "{backend:?}: {rows:?}");
        let newest = &rows[0];
        assert_eq!(newest[0], local, "the reader's zone: {newest:?}");
        assert_eq!(newest[3], format!("Order {number}"), "{newest:?}");
        assert_eq!(
            count(
                &doc,
                &format!("#audit td a[href='/procurement/orders/{po}']")
            ),
            2,
            "the order is linked on {backend:?}"
        );
        assert!(newest[4].contains("Status Draft → Cancelled"), "{newest:?}");
        // Set where nothing was: the value alone, not "— → value".
        assert!(
            rows[1][4].contains("Notes audit me") && !rows[1][4].contains('—'),
            "{:?}",
            rows[1]
        );
        let table = text_of(&doc, "#audit");
        assert!(
            !table.contains('{') && !table.contains("purchase_order"),
            "{table}"
        );
        // The filter names the kinds in words.
        assert_eq!(
            count(&doc, "select[name=entity] option[value=purchase_order]"),
            1
        );
        assert!(text_of(&doc, "select[name=entity]").contains("Order"));

        // The download says the same.
        let got = csv(&app, &format!("{path}&download=csv")).await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[1][3], format!("Order {number}"), "{got:?}");
        assert!(got[1][5].contains("Status: Draft → Cancelled"), "{got:?}");
        assert!(got.iter().flatten().all(|c| !c.contains('{')), "{got:?}");

        // In Korean, the kind in Korean.
        let r = app
            .post_form("/lang", &csrf, &[("lang", "ko"), ("next", "/")])
            .await;
        assert_eq!(r.status_code(), 303);
        let (_, doc) = app.page(&path).await;
        assert_eq!(cells(&doc)[0][3], format!("발주 {number}"));
        app.finish().await;
    }
}
