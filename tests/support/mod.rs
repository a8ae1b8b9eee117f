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
    /// The database's URL.
    pub url: String,
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
                    url,
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
            url,
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
    rackledger::on!(db, |p| sqlx::query_scalar::<_, String>(sql)
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

/// One plain HTTP/1.1 request to 127.0.0.1 (`Connection: close`):
/// (status, raw response head, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, head, raw[split..].to_vec()))
}

/// Uploads `file` as a price list of `supplier` through the imports page, as
/// a bearer-token client (multipart, by hand); the new batch's id.
#[allow(dead_code)]
pub fn upload_price_list(port: u16, token: &str, supplier: i64, name: &str, file: &[u8]) -> i64 {
    let boundary = "rackledgeruploadtest";
    let mut body = Vec::new();
    for (field, value) in [
        ("kind", "price_list".to_owned()),
        ("supplier_id", supplier.to_string()),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let auth = format!("Bearer {token}");
    let ct = format!("multipart/form-data; boundary={boundary}");
    let (status, head, body) = http(
        port,
        "POST",
        "/procurement/imports",
        &[("Authorization", &auth), ("Content-Type", &ct)],
        &body,
    )
    .unwrap();
    assert_eq!(status, 303, "{head}{}", String::from_utf8_lossy(&body));
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("location: /procurement/imports/")
                .map(str::to_owned)
        })
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `rackledger serve` on 127.0.0.1, killed (SIGKILL) when dropped.
pub struct Server {
    pub port: u16,
    child: std::process::Child,
}

impl Server {
    /// Starts the built binary on `database_url` and waits (with a deadline) until `/healthz` answers.
    pub async fn start(database_url: &str) -> Server {
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_rackledger"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let server = Server { port, child };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(50));
        loop {
            tick.tick().await;
            match http(port, "GET", "/healthz", &[], b"") {
                Ok((200, _, _)) => return server,
                _ if std::time::Instant::now() < deadline => {}
                other => panic!("the server never answered /healthz: {other:?}"),
            }
        }
    }

    /// The server's process id.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no flushing, like a power cut of the process.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies a directory tree (a mockup a test may change) to `to`.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
