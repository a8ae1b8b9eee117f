//! What the form tests share: log in in a language, post a form, read a
//! refused page back, count rows.

use scraper::{Html, Selector};

use crate::app::TestApp;

/// Chooses the interface language of the session.
pub async fn choose_lang(app: &TestApp, csrf: &str, lang: &str) {
    let r = app
        .post_form("/lang", csrf, &[("lang", lang), ("next", "/")])
        .await;
    assert_eq!(r.status_code(), 303);
}

/// Logs in as a demo user (its password from the demo seed) in `lang`;
/// returns the CSRF token.
pub async fn as_user(app: &mut TestApp, user: &str, lang: &str) -> String {
    let password = rackledger::demo::DEMO_USERS
        .iter()
        .find(|(name, _, _)| *name == user)
        .map(|(_, _, password)| *password)
        .expect("a demo user");
    let csrf = app.login(user, password).await;
    choose_lang(app, &csrf, lang).await;
    csrf
}

/// Attribute `name` of the first element matching `css`, or "".
pub fn attr(doc: &Html, css: &str, name: &str) -> String {
    let sel = Selector::parse(css).expect("a selector");
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr(name))
        .unwrap_or_default()
        .to_owned()
}

/// The page refused with a 422, as a document.
pub fn refused(r: &axum_test::TestResponse, backend: impl std::fmt::Debug) -> Html {
    assert_eq!(r.status_code(), 422, "{backend:?}: {}", r.text());
    Html::parse_document(&r.text())
}

/// A single number from the database (a count, an id).
pub async fn scalar(app: &TestApp, sql: &'static str) -> i64 {
    rackledger::on!(&app.db, |p| sqlx::query_scalar(sql).fetch_one(p).await).expect(sql)
}
