//! Shared test harness: a fresh database per test on each backend.
//!
//! SQLite always runs (a temporary file, WAL, like production). PostgreSQL
//! runs when `TEST_DATABASE_URL` points at a server whose user may create
//! databases; each test gets its own database, dropped at the end. Without it
//! the PostgreSQL lane is skipped with a message, unless
//! `RACKLEDGER_REQUIRE_PG=1` (set by CI), which turns the skip into a failure.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use rackledger::db::Db;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// The engines a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends available in this run (SQLite, plus PostgreSQL when configured).
pub fn backends() -> Vec<Backend> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => vec![Backend::Sqlite, Backend::Postgres],
        _ => {
            if std::env::var("RACKLEDGER_REQUIRE_PG").is_ok_and(|v| v == "1") {
                panic!(
                    "RACKLEDGER_REQUIRE_PG=1 but TEST_DATABASE_URL is not set: the PostgreSQL lane must run"
                );
            }
            eprintln!(
                "PostgreSQL lane SKIPPED: set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run it"
            );
            vec![Backend::Sqlite]
        }
    }
}

/// A fresh, migrated database that cleans up after itself via [`TestDb::drop_db`].
pub struct TestDb {
    pub db: Db,
    pub backend: Backend,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("test.sqlite").display());
                let db = Db::connect(&url).await.unwrap();
                db.migrate().await.unwrap();
                TestDb {
                    db,
                    backend,
                    dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => TestDb::postgres(true).await,
        }
    }

    /// A new, empty PostgreSQL database (no migrations), e.g. to restore a dump into.
    pub async fn empty_postgres() -> TestDb {
        TestDb::postgres(false).await
    }

    /// The PostgreSQL database's name.
    pub fn pg_name(&self) -> String {
        self.pg.as_ref().map(|(_, n)| n.clone()).unwrap_or_default()
    }

    async fn postgres(migrate: bool) -> TestDb {
        let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
        let name = format!(
            "rl_test_{}",
            rackledger::auth::random_token()
                .to_lowercase()
                .replace(['-', '_'], "")[..16]
                .to_owned()
        );
        let mut admin = PgConnectOptions::from_str(&admin_url)
            .unwrap()
            .connect()
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let opts = PgConnectOptions::from_str(&admin_url)
            .unwrap()
            .database(&name);
        let url = opts.to_url_lossy().to_string();
        let db = Db::connect(&url).await.unwrap();
        if migrate {
            db.migrate().await.unwrap();
        }
        TestDb {
            db,
            backend: Backend::Postgres,
            dir: None,
            pg: Some((admin_url, name)),
        }
    }

    /// Closes the pool and drops the PostgreSQL database.
    pub async fn drop_db(self) {
        self.db.close().await;
        if let Some((admin_url, name)) = self.pg {
            let mut admin = PgConnectOptions::from_str(&admin_url)
                .unwrap()
                .connect()
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "drop database if exists {name} with (force)"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
        }
        drop(self.dir);
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The application's tables (with the migration history), by name.
pub async fn table_names(db: &Db) -> Vec<String> {
    let sql = match db {
        Db::Sqlite(_) => {
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name"
        }
        Db::Postgres(_) => {
            "select tablename::text from pg_tables where schemaname = 'public' order by tablename"
        }
    };
    rackledger::on_db!(db, |p| sqlx::query_scalar::<_, String>(sql)
        .fetch_all(p)
        .await)
    .unwrap()
}

/// Every row of every table as one line of text, sorted per table: a
/// whole-content fingerprint (SQLite `quote()` per column, PostgreSQL `row::text`).
pub async fn table_rows(db: &Db) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    for t in table_names(db).await {
        let mut rows: Vec<String> = match db {
            Db::Sqlite(p) => {
                let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "select name from pragma_table_info('{t}')"
                )))
                .fetch_all(p)
                .await
                .unwrap();
                let expr = cols
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select {expr} from {t}")))
                    .fetch_all(p)
                    .await
                    .unwrap()
            }
            Db::Postgres(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select x::text from {t} x")))
                    .fetch_all(p)
                    .await
                    .unwrap()
            }
        };
        rows.sort();
        out.insert(t, rows);
    }
    out
}
