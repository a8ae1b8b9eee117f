//! Crash safety (issue #9): `rackledger serve` on a SQLite file is killed
//! with SIGKILL while a 50,000-row price list is committing. After a restart
//! nothing half-written is visible, the database is intact, the batch is not
//! shown as committed, and the same file imports completely when run again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use rackledger::audit::Actor;
use rackledger::db::Db;
use support::{Server, http};

const ROWS: usize = 50_000;

fn price_list() -> Vec<u8> {
    let mut csv =
        String::from("Manufacturer,Part Number,Description,Category,Unit Price,Currency\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "Acme,CRASH-{i:06},Crash test part {i},memory,{}.{:02},USD\n",
            1 + i % 900,
            i % 100
        ));
    }
    csv.into_bytes()
}

async fn scalar(db: &Db, sql: &'static str, id: i64) -> i64 {
    rackledger::on!(db, |p| sqlx::query_scalar::<_, i64>(sql)
        .bind(id)
        .fetch_one(p)
        .await)
    .unwrap()
}

async fn crash_parts(db: &Db) -> i64 {
    scalar(
        db,
        "select count(*) from part_models where mpn like 'CRASH-%' and $1 = $1",
        0,
    )
    .await
}

async fn status(db: &Db, batch: i64) -> String {
    rackledger::on!(db, |p| sqlx::query_scalar::<_, String>(
        "select status from import_batches where id = $1"
    )
    .bind(batch)
    .fetch_one(p)
    .await)
    .unwrap()
}

/// Polls (with a deadline) until `done` holds for the batch's status.
async fn wait_for(db: &Db, batch: i64, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tick.tick().await;
        let s = status(db, batch).await;
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "batch {batch} never reached {what}: {s}"
        );
    }
}

/// Uploads the price list through the page, as a bearer-token client; the batch id.
fn upload(port: u16, token: &str, supplier: i64, file: &[u8]) -> i64 {
    support::upload_price_list(port, token, supplier, "big.csv", file)
}

fn commit(port: u16, token: &str, batch: i64) {
    let auth = format!("Bearer {token}");
    let (status, head, _) = http(
        port,
        "POST",
        &format!("/procurement/imports/{batch}/commit"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        b"",
    )
    .unwrap();
    assert_eq!(status, 303, "{head}");
}

fn wal_bytes(db_file: &std::path::Path) -> u64 {
    std::fs::metadata(db_file.with_extension("sqlite-wal")).map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_import_leaves_nothing_half_written_and_the_import_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crash.sqlite");
    let url = format!("sqlite://{}", file.display());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    assert!(rackledger::demo::seed(&db, "Asia/Seoul").await.unwrap());
    let buyer = scalar(
        &db,
        "select id from users where username = 'buyer' and $1 = $1",
        0,
    )
    .await;
    let (_, token) =
        rackledger::auth::service::issue_token(&db, &Actor::system("test"), buyer, "crash")
            .await
            .unwrap();
    let supplier = scalar(
        &db,
        "select min(id) from suppliers where currency = 'USD' and $1 = $1",
        0,
    )
    .await;
    let parts_before = scalar(&db, "select count(*) from part_models where $1 = $1", 0).await;
    let csv = price_list();

    let server = Server::start(&url).await;
    let first = upload(server.port, &token, supplier, &csv);
    let s = wait_for(&db, first, "a preview", |s| {
        !matches!(s, "queued" | "previewing")
    })
    .await;
    assert_eq!(s, "previewed");
    commit(server.port, &token, first);
    // Kill while the commit transaction is writing: the batch says
    // `committing` and the write-ahead log is growing with its rows.
    wait_for(&db, first, "committing", |s| s == "committing").await;
    let wal_at_start = wal_bytes(&file);
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    loop {
        tick.tick().await;
        if wal_bytes(&file) > wal_at_start + 2_000_000 {
            break;
        }
        assert!(
            status(&db, first).await == "committing" && Instant::now() < deadline,
            "the commit ended before it could be interrupted; make the file bigger"
        );
    }
    server.kill();

    // Nothing half-written: none of the rows, or (had it just committed) all.
    let parts = crash_parts(&db).await;
    assert!(
        parts == 0,
        "killed mid-commit, {parts} of {ROWS} rows are visible"
    );
    assert_eq!(
        scalar(&db, "select count(*) from part_models where $1 = $1", 0).await,
        parts_before
    );
    let Db::Sqlite(pool) = &db else {
        unreachable!()
    };
    let check: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");

    // After a restart the interrupted batch is not committed, and the same
    // file imports completely.
    let server = Server::start(&url).await;
    assert_eq!(
        status(&db, first).await,
        "failed",
        "the interrupted batch is no longer shown as running"
    );
    let auth = format!("Bearer {token}");
    let (code, head, page) = http(
        server.port,
        "GET",
        &format!("/procurement/imports/{first}"),
        &[("Authorization", &auth)],
        b"",
    )
    .unwrap();
    assert_eq!(code, 200);
    assert!(
        !head.to_ascii_lowercase().contains("\nrefresh:"),
        "no endless refresh: {head}"
    );
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains("cut off") || page.contains("중단"),
        "the page says why: {page}"
    );
    let second = upload(server.port, &token, supplier, &csv);
    let s = wait_for(&db, second, "a preview", |s| {
        !matches!(s, "queued" | "previewing")
    })
    .await;
    assert_eq!(s, "previewed");
    commit(server.port, &token, second);
    let s = wait_for(&db, second, "the end", |s| {
        !matches!(s, "queued" | "committing")
    })
    .await;
    assert_eq!(s, "committed");
    assert_eq!(crash_parts(&db).await, i64::try_from(ROWS).unwrap());
    assert_eq!(
        scalar(&db, "select count(*) from (select mpn from part_models group by manufacturer, mpn having count(*) > 1) t where $1 = $1", 0).await,
        0
    );
    server.kill();
    db.close().await;
}
