//! Build templates are edited as new versions: builds keep the version they were made from.

use crate::app::{TestApp, count, text_of};
use crate::support::backends;

fn attr(doc: &scraper::Html, css: &str, name: &str) -> String {
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(name))
        .unwrap_or_default()
        .to_owned()
}

/// The template id a redirect to `/inventory/templates/{id}?flash=…` names.
fn template_id(r: &axum_test::TestResponse) -> i64 {
    let to = r.header("location").to_str().unwrap().to_owned();
    to.trim_start_matches("/inventory/templates/")
        .split(['?', '/'])
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{to}"))
}

#[tokio::test]
async fn editing_a_template_saves_a_new_version_and_builds_keep_the_old_one() {
    for backend in backends() {
        let mut app = TestApp::start(backend).await;
        let csrf = app.login("buyer", "rackledger-buyer").await;
        app.post_form("/lang", &csrf, &[("lang", "en"), ("next", "/")])
            .await;
        let r = app
            .post_form(
                "/inventory/templates",
                &csrf,
                &[
                    ("name", "edge node"),
                    ("asset_kind", "server"),
                    ("height_u", "1"),
                    ("nameplate_watts", "400"),
                    ("assembly_labour", "50000"),
                    ("slots", "CPU1: 100-000001463\nDIMM A1-A2: M321R4GA3BB6-CQK"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 303, "{}", r.text());
        let v1 = template_id(&r);
        // An asset built from the first version.
        let now = time::OffsetDateTime::now_utc();
        rackledger::exec!(&app.db, |p| sqlx::query(
            "insert into assets (asset_tag, template_id, kind, status, created_at, updated_at)
             values ('EDGE-0001', $1, 'server', 'building', $2, $2)"
        )
        .bind(v1)
        .bind(now)
        .execute(p)
        .await)
        .unwrap();

        // The edit form holds the template as it is.
        let (status, form) = app.page(&format!("/inventory/templates/{v1}/edit")).await;
        assert_eq!(status, 200);
        let slots = text_of(&form, "textarea[name=slots]");
        assert_eq!(slots, "CPU1: 100-000001463\nDIMM A1-2: M321R4GA3BB6-CQK");
        let once = attr(&form, "#edit-template input[name=_once]", "value");

        // Bad input is refused at its field, and kept.
        let r = app
            .post_form(
                &format!("/inventory/templates/{v1}/edit"),
                &csrf,
                &[
                    ("name", "edge node"),
                    ("asset_kind", "server"),
                    ("height_u", "one"),
                    ("nameplate_watts", "400"),
                    ("slots", "CPU1: 100-000001463"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 422);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            text_of(&doc, "#height_u-error").contains("\"one\""),
            "{}",
            text_of(&doc, "main")
        );
        assert_eq!(attr(&doc, "input[name=height_u]", "value"), "one");

        // The edit, sent twice (a double click): one new version.
        let fields = [
            ("name", "edge node"),
            ("asset_kind", "server"),
            ("height_u", "1"),
            ("nameplate_watts", "450"),
            (
                "slots",
                "CPU1: 100-000001463\nDIMM A1-A4: M321R4GA3BB6-CQK\nNIC1: MCX631432AN-ADAB",
            ),
            ("_once", once.as_str()),
        ];
        let r = app
            .post_form(&format!("/inventory/templates/{v1}/edit"), &csrf, &fields)
            .await;
        assert_eq!(r.status_code(), 303, "{backend:?}: {}", r.text());
        let v2 = template_id(&r);
        assert_ne!(v1, v2);
        let again = app
            .post_form(&format!("/inventory/templates/{v1}/edit"), &csrf, &fields)
            .await;
        assert_eq!(again.status_code(), 303);
        assert_eq!(
            template_id(&again),
            v2,
            "the second sending gets the first answer"
        );

        // The new version has the new slots and the labour it did not change.
        let (_, new) = app.page(&format!("/inventory/templates/{v2}")).await;
        assert_eq!(count(&new, "#slots tbody tr"), 6);
        assert_eq!(text_of(&new, "h1"), "edge node");
        assert_eq!(count(&new, "#versions tbody tr"), 2);
        assert_eq!(count(&new, "#edit-link"), 1);
        let labour: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select assembly_labour_minor from build_templates where id = $1"
        )
        .bind(v2)
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(labour, 50000);

        // The old version, and the asset built from it, are as they were.
        let (_, old) = app.page(&format!("/inventory/templates/{v1}")).await;
        assert_eq!(count(&old, "#slots tbody tr"), 3);
        assert!(!text_of(&old, "#superseded").is_empty());
        assert_eq!(count(&old, "#edit-link"), 0);
        let versions = text_of(&old, "#versions");
        assert!(
            versions.contains("v2") && versions.contains("v1"),
            "{versions}"
        );
        let built: i64 = rackledger::on!(&app.db, |p| sqlx::query_scalar(
            "select template_id from assets where asset_tag = 'EDGE-0001'"
        )
        .fetch_one(p)
        .await)
        .unwrap();
        assert_eq!(built, v1);

        // Only the current version is offered, and only it can be edited.
        let (_, list) = app.page("/inventory/templates").await;
        let names = text_of(&list, "#templates");
        assert_eq!(names.matches("edge node").count(), 1, "{names}");
        let r = app
            .post_form(
                &format!("/inventory/templates/{v1}/edit"),
                &csrf,
                &[
                    ("name", "edge node"),
                    ("asset_kind", "server"),
                    ("height_u", "2"),
                    ("nameplate_watts", "400"),
                    ("slots", "CPU1: 100-000001463"),
                ],
            )
            .await;
        assert_eq!(r.status_code(), 409);
        let doc = scraper::Html::parse_document(&r.text());
        assert!(
            text_of(&doc, "#problem").contains("newer version"),
            "{}",
            text_of(&doc, "main")
        );
        app.finish().await;
    }
}
