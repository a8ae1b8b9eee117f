//! Backup and restore round trip (issue #9), as `docs/operations.md` tells
//! an operator to do it: SQLite with `rackledger backup` (VACUUM INTO), then
//! the copy is served; PostgreSQL with `pg_dump --format=custom` and
//! `pg_restore` into an empty database. Every table must come back with the
//! same rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::process::Command;

use rackledger::db::Db;
use rackledger::on;
use support::{Backend, Server, TestDb, http, table_rows};

async fn seed(db: &Db) {
    assert!(rackledger::demo::seed(db, "Asia/Seoul").await.unwrap());
    rackledger::demo::seed_showcase(db).await.unwrap();
}

fn assert_same(before: &BTreeMap<String, Vec<String>>, after: &BTreeMap<String, Vec<String>>) {
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    let rows: usize = before.values().map(Vec::len).sum();
    assert!(
        rows > 500,
        "a realistic database was backed up ({rows} rows)"
    );
    for (table, rows) in before {
        assert_eq!(
            rows.len(),
            after[table].len(),
            "{table}: row count after restore"
        );
        assert!(rows == &after[table], "{table}: rows differ after restore");
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test]
async fn a_sqlite_backup_restores_every_row_and_serves() {
    let t = TestDb::new(Backend::Sqlite).await;
    seed(&t.db).await;
    let before = table_rows(&t.db).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.sqlite");
    let Db::Sqlite(pool) = &t.db else {
        unreachable!()
    };
    let source: String =
        sqlx::query_scalar("select file from pragma_database_list where name = 'main'")
            .fetch_one(pool)
            .await
            .unwrap();
    // The backup runs while the server holds the database open (WAL mode).
    run(Command::new(env!("CARGO_BIN_EXE_rackledger"))
        .args(["backup", copy.to_str().unwrap()])
        .env("DATABASE_URL", format!("sqlite://{source}"))
        .env("RUST_LOG", "warn"));

    // Restore = put the file in place and point DATABASE_URL at it.
    let url = format!("sqlite://{}", copy.display());
    let restored = Db::connect(&url).await.unwrap();
    let Db::Sqlite(rp) = &restored else {
        unreachable!()
    };
    let check: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(rp)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    assert_same(&before, &table_rows(&restored).await);
    restored.close().await;

    // And the restored file serves: the server starts on it and answers.
    let server = Server::start(&url).await;
    let (status, _, body) = http(server.port, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!((status, body.as_slice()), (200, b"ok\n".as_slice()));
    let (status, _, _) = http(server.port, "GET", "/login", &[], b"").unwrap();
    assert_eq!(status, 200);
    server.kill();
    t.drop_db().await;
}

#[tokio::test]
async fn a_postgres_dump_restores_every_row_into_an_empty_database() {
    if !support::backends().contains(&Backend::Postgres) {
        return;
    }
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(have("pg_dump") && have("pg_restore")) {
        assert!(
            !std::env::var("RACKLEDGER_REQUIRE_PG").is_ok_and(|v| v == "1"),
            "RACKLEDGER_REQUIRE_PG=1 but pg_dump/pg_restore are not installed"
        );
        eprintln!("PostgreSQL backup round trip SKIPPED: pg_dump/pg_restore not installed");
        return;
    }
    let source = TestDb::new(Backend::Postgres).await;
    seed(&source.db).await;
    let before = table_rows(&source.db).await;
    let admin = std::env::var("TEST_DATABASE_URL").unwrap();
    let with_db = |name: &str| {
        let mut u = url::Url::parse(&admin).unwrap();
        u.set_path(&format!("/{name}"));
        u.to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("rackledger.dump");
    run(Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(with_db(&source.pg_name())));

    // Restore into a new, empty database, as after losing the server.
    let target = TestDb::empty_postgres().await;
    let target_name = target.pg_name();
    run(Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(with_db(&target_name))
        .arg(&dump));
    assert_same(&before, &table_rows(&target.db).await);
    // The application opens it: no migration left to run, the data reads.
    target.db.migrate().await.unwrap();
    let users = on!(&target.db, |p| sqlx::query_scalar::<_, i64>(
        "select count(*) from users"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(users, 5);
    target.drop_db().await;
    source.drop_db().await;
}
