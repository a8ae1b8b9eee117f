//! Data-layer contract tests: migrations give the same schema on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod disk_full;

use std::collections::BTreeSet;

use rackledger::db::Db;
use support::{Backend, TestDb, backends};

async fn columns(db: &Db) -> BTreeSet<(String, String, bool)> {
    let rows: Vec<(String, String, bool)> = match db {
        Db::Sqlite(p) => sqlx::query_as(
            "select m.name, c.name, c.\"notnull\" = 1 or c.pk = 1 from sqlite_master m join pragma_table_info(m.name) c
             where m.type = 'table' and m.name not like 'sqlite_%' and m.name not like '_sqlx%'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Db::Postgres(p) => sqlx::query_as(
            "select table_name::text, column_name::text, is_nullable = 'NO' from information_schema.columns
             where table_schema = 'public' and table_name not like '_sqlx%'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    rows.into_iter().collect()
}

async fn indexes(db: &Db) -> BTreeSet<String> {
    let rows: Vec<String> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(
            "select name from sqlite_master where type = 'index' and sql is not null",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(
            // Indexes made by `create index`, unique ones too; not those behind
            // primary keys and unique constraints (SQLite keeps no SQL for those).
            "select indexname::text from pg_indexes i where schemaname = 'public'
             and not exists (select 1 from pg_constraint c where c.conname = i.indexname)",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    rows.into_iter().collect()
}

#[tokio::test]
async fn both_engines_get_the_same_tables_columns_nullability_and_indexes() {
    let lanes = backends();
    if !lanes.contains(&Backend::Postgres) {
        return;
    }
    let sqlite = TestDb::new(Backend::Sqlite).await;
    let pg = TestDb::new(Backend::Postgres).await;
    let (a, b) = (columns(&sqlite.db).await, columns(&pg.db).await);
    assert!(a.len() > 30, "schema loaded");
    let only_sqlite: Vec<_> = a.difference(&b).collect();
    let only_pg: Vec<_> = b.difference(&a).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "drift: sqlite-only {only_sqlite:?}, postgres-only {only_pg:?}"
    );
    assert_eq!(indexes(&sqlite.db).await, indexes(&pg.db).await);
    sqlite.drop_db().await;
    pg.drop_db().await;
}

#[tokio::test]
async fn migrations_have_the_same_versions_and_names() {
    let s: Vec<_> = rackledger::db::SQLITE_MIGRATOR
        .iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    let p: Vec<_> = rackledger::db::POSTGRES_MIGRATOR
        .iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect();
    assert!(!s.is_empty());
    assert_eq!(s, p);
}

#[tokio::test]
async fn a_timestamp_round_trips_and_compares_in_order_on_every_engine() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let early = rackledger::clock::now();
        let late = early + time::Duration::seconds(1);
        let rows: Vec<time::OffsetDateTime> = rackledger::on!(&t.db, |p| {
            sqlx::query_scalar(
                "select x from (select $1 as x union all select $2 as x) v where x > $3",
            )
            .bind(late)
            .bind(early)
            .bind(early)
            .fetch_all(p)
            .await
        })
        .unwrap();
        assert_eq!(rows, vec![late], "{backend:?}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_long_list_is_read_in_chunks_each_statement_sized_to_its_chunk() {
    for backend in backends() {
        let t = TestDb::new(backend).await;
        let mut tx = t.db.begin().await.unwrap();
        // Seven items, three to a statement: chunks of 3, 3 and 1, each
        // statement with its own count of markers.
        let items: Vec<i64> = (1..=7).map(|i| i * 10).collect();
        let mut statements = Vec::new();
        let rows: Vec<(i64, i64)> = tx
            .fetch_chunked(&items, 3, |tx, n| {
                statements.push(n);
                // One row per item: the item, and the chunk's size.
                let values = tx.rows(n, 1);
                format!("select v.column1, cast({n} as bigint) from (values {values}) v")
            })
            .await
            .unwrap();
        assert_eq!(statements, [3, 3, 1], "{backend:?}");
        let expected: Vec<(i64, i64)> = items
            .iter()
            .enumerate()
            .map(|(i, &x)| (x, if i < 6 { 3 } else { 1 }))
            .collect();
        let mut got = rows;
        got.sort_unstable();
        assert_eq!(got, expected, "{backend:?}");
        // No items: no statement, no rows.
        let none: Vec<(i64, i64)> = tx
            .fetch_chunked(&Vec::<i64>::new(), 3, |_, _| unreachable!("no statement"))
            .await
            .unwrap();
        assert!(none.is_empty(), "{backend:?}");
        tx.rollback().await.unwrap();
        t.drop_db().await;
    }
}
