//! `TestApp`: the real router on a fresh database, driven over axum-test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum_test::{TestResponse, TestServer};
use rackledger::app::router;
use rackledger::config::Config;
use rackledger::db::Db;
use rackledger::web::AppState;
use scraper::{Html, Selector};

use crate::support::{Backend, TestDb};

pub struct TestApp {
    pub server: TestServer,
    pub db: Db,
    pub backend: Backend,
    test_db: TestDb,
}

impl TestApp {
    /// A server with the demo users (admin, buyer, tech, boss, guest) and catalogue.
    pub async fn start(backend: Backend) -> TestApp {
        TestApp::start_with(backend, Config::default()).await
    }

    /// Like [`TestApp::start`] with these settings.
    pub async fn start_with(backend: Backend, config: Config) -> TestApp {
        let test_db = TestDb::new(backend).await;
        let db = test_db.db.clone();
        assert!(rackledger::demo::seed(&db, "Asia/Seoul").await.unwrap());
        let state = AppState {
            db: db.clone(),
            config: Arc::new(config),
            demo: None,
        };
        let server = TestServer::builder().save_cookies().build(router(state));
        TestApp {
            server,
            db,
            backend,
            test_db,
        }
    }

    /// As `serve --demo` starts: the demo data with its showcase, a master
    /// key for this run, and a simulated BMC registered for each demo server.
    pub async fn start_demo(
        backend: Backend,
    ) -> (TestApp, rackledger::demo::bmcs::DemoBmcs, Config) {
        use rackledger::health::secret::MasterKey;
        let test_db = TestDb::new(backend).await;
        let db = test_db.db.clone();
        assert!(rackledger::demo::seed(&db, "Asia/Seoul").await.unwrap());
        rackledger::demo::seed_showcase(&db).await.unwrap();
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let demo = rackledger::demo::bmcs::DemoBmcs::start(&db, &key)
            .await
            .unwrap();
        let mut config = Config::default();
        config.health.session_key = Some(key);
        let state = AppState {
            db: db.clone(),
            config: Arc::new(config.clone()),
            demo: Some(demo.clone()),
        };
        let server = TestServer::builder().save_cookies().build(router(state));
        let app = TestApp {
            server,
            db,
            backend,
            test_db,
        };
        (app, demo, config)
    }

    /// Like [`TestApp::start_with`] over a real socket on 127.0.0.1, so
    /// handlers see the peer address (as `rackledger serve` gives it).
    pub async fn start_served(backend: Backend, config: Config) -> TestApp {
        let test_db = TestDb::new(backend).await;
        let db = test_db.db.clone();
        assert!(rackledger::demo::seed(&db, "Asia/Seoul").await.unwrap());
        let state = AppState {
            db: db.clone(),
            config: Arc::new(config),
            demo: None,
        };
        let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = TestServer::builder()
            .save_cookies()
            .http_transport()
            .build(app);
        TestApp {
            server,
            db,
            backend,
            test_db,
        }
    }

    pub async fn finish(self) {
        self.test_db.drop_db().await;
    }

    /// Logs in through the form; returns the session's CSRF token.
    pub async fn login(&mut self, username: &str, password: &str) -> String {
        self.server.clear_cookies();
        let form_page = self.server.get("/login").await;
        let pre = hidden_csrf(&form_page.text());
        let resp = self
            .server
            .post("/login")
            .form(&[
                ("username", username),
                ("password", password),
                ("_csrf", pre.as_str()),
                ("next", "/"),
            ])
            .await;
        assert_eq!(
            resp.status_code(),
            303,
            "login as {username} failed: {}",
            resp.text()
        );
        let home = self.server.get("/").await;
        assert_eq!(home.status_code(), 200);
        hidden_csrf(&home.text())
    }

    /// GET a page as the current session and parse it.
    pub async fn page(&self, path: &str) -> (u16, Html) {
        let r = self.server.get(path).await;
        (r.status_code().as_u16(), Html::parse_document(&r.text()))
    }

    /// POST a form with the given CSRF token added.
    pub async fn post_form(&self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", csrf));
        self.server.post(path).form(&all).await
    }

    /// POST JSON with a bearer token.
    pub async fn post_bearer(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> TestResponse {
        self.server
            .post(path)
            .authorization_bearer(token)
            .json(body)
            .await
    }

    /// Issues an API token for `user_id` through the admin page (caller must be admin).
    pub async fn issue_token(&self, csrf: &str, user_id: i64, name: &str) -> String {
        let uid = user_id.to_string();
        let r = self
            .post_form("/admin/tokens", csrf, &[("user_id", &uid), ("name", name)])
            .await;
        assert_eq!(r.status_code(), 200, "{}", r.text());
        let html = Html::parse_document(&r.text());
        text_of(&html, "#new-token")
    }

    pub async fn user_id(&self, username: &str) -> i64 {
        rackledger::on!(&self.db, |p| {
            sqlx::query_scalar::<_, i64>("select id from users where username = $1")
                .bind(username)
                .fetch_one(p)
                .await
        })
        .unwrap()
    }
}

/// The `_csrf` hidden field of the first form on a page.
pub fn hidden_csrf(html: &str) -> String {
    let doc = Html::parse_document(html);
    let sel = Selector::parse(r#"input[name="_csrf"]"#).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .unwrap_or_default()
        .to_owned()
}

/// Settings with a fresh BMC master key written into `dir`.
pub fn with_master_key(dir: &tempfile::TempDir) -> Config {
    let file = dir.path().join("master.key");
    std::fs::write(
        &file,
        rackledger::health::secret::MasterKey::generate_base64(),
    )
    .unwrap();
    Config {
        health: rackledger::health::HealthConfig {
            master_key_file: Some(file),
            ..rackledger::health::HealthConfig::default()
        },
        ..Config::default()
    }
}

/// Inserts an in-service server asset tagged `tag`; returns its id.
pub async fn add_asset(db: &Db, tag: &str) -> i64 {
    let now = rackledger::clock::now();
    rackledger::on!(db, |p| {
        sqlx::query_scalar(
            "insert into assets (asset_tag, kind, status, created_at, updated_at) values ($1, 'server', 'in_service', $2, $2) returning id",
        )
        .bind(tag)
        .bind(now)
        .fetch_one(p)
        .await
    })
    .unwrap()
}

pub fn text_of(doc: &Html, css: &str) -> String {
    let sel = Selector::parse(css).unwrap();
    doc.select(&sel)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .unwrap_or_default()
}

pub fn count(doc: &Html, css: &str) -> usize {
    let sel = Selector::parse(css).unwrap();
    doc.select(&sel).count()
}

/// Gives `asset` a BMC record (at an address nothing answers on) so tests can
/// record polls for it with `health::store::record_success`; returns its id.
pub async fn test_bmc(db: &rackledger::db::Db, asset: i64) -> i64 {
    use rackledger::health::bmc::{self, BmcInput};
    let input = BmcInput {
        url: "http://127.0.0.1:9/".into(),
        tls_policy: "verify".into(),
        ..BmcInput::default()
    };
    bmc::save(
        db,
        None,
        &rackledger::audit::Actor::system("test"),
        asset,
        &input,
    )
    .await
    .unwrap()
}
