//! The data layer: one `Db` handle over SQLite (embedded default) or PostgreSQL.
//!
//! Queries are written once with `$1` placeholders where the SQL is portable and
//! run on either pool through [`on_db!`] / [`on_tx!`], which expand the same
//! query-building code once per backend, so every bind and row type is checked
//! against both drivers at compile time. Where the dialects differ, a repo writes
//! the two statements side by side in one `match`.

mod decimal;
mod error;

pub use decimal::DbDecimal;
pub use error::DbError;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Embedded SQLite migrations (`migrations/sqlite`).
pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// PostgreSQL migrations (`migrations/postgres`), same versions and names as SQLite's.
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A connection pool on one of the two supported engines.
#[derive(Clone, Debug)]
pub enum Db {
    /// Embedded SQLite file (or in-memory database in tests).
    Sqlite(SqlitePool),
    /// PostgreSQL server.
    Postgres(PgPool),
}

/// An open transaction on either engine; commit it or drop it to roll back.
pub enum Tx {
    /// SQLite transaction, opened with `BEGIN IMMEDIATE` so writers queue up front.
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL transaction.
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same expression against whichever pool `db` holds.
///
/// `exec_db!(db, |pool| sqlx::query("...").execute(pool).await)`
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs the same expression against whichever connection the transaction holds.
///
/// `exec_tx!(tx, |conn| sqlx::query("...").execute(conn).await)`
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Like [`on_db!`] for statements run with `execute`: yields `Result<u64>` rows affected.
#[macro_export]
macro_rules! exec_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => ($body).map(|r| r.rows_affected()),
            $crate::db::Db::Postgres($pool) => ($body).map(|r| r.rows_affected()),
        }
    };
}

/// Like [`on_tx!`] for statements run with `execute`: yields `Result<u64>` rows affected.
#[macro_export]
macro_rules! exec_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                ($body).map(|r| r.rows_affected())
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                ($body).map(|r| r.rows_affected())
            }
        }
    };
}

impl Db {
    /// Connects to `url`: `sqlite://path`, `sqlite::memory:` or `postgres://...`.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).context("parsing DATABASE_URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            crate::alloc::sqlite_on_mimalloc();
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let opts = SqliteConnectOptions::from_str(url)
                .context("parsing DATABASE_URL")?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let opts = if memory {
                opts
            } else {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
            };
            // An in-memory database lives as long as its one connection.
            // A SQLite connection is a file handle in this process, so it is
            // not pinged before each use (a round trip to its worker thread
            // per query, measured by the pages benchmark).
            let pool = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(if memory { 1 } else { 8 })
                .min_connections(if memory { 1 } else { 0 })
                .idle_timeout(if memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if memory {
                    None
                } else {
                    Some(Duration::from_secs(3600))
                })
                .connect_with(opts)
                .await
                .context("opening SQLite database")?;
            Ok(Db::Sqlite(pool))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:// (got {url:?})")
        }
    }

    /// Applies every pending migration of this engine.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await,
        }
        .context("running migrations")
    }

    /// Begins a write transaction.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Begins a transaction that only reads: on SQLite a deferred `BEGIN`,
    /// which does not hold the writer lock, so long previews do not block writers.
    pub async fn begin_read(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Short engine name for logs and the health probe.
    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        exec_db!(self, |pool| sqlx::query("select 1").execute(pool).await)?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

impl Tx {
    /// `n` bind markers for a statement with many parameters, numbered from
    /// `first`: `$first, $first+1, ...` on PostgreSQL, plain `?` on SQLite.
    /// SQLite looks a numbered marker's name up in a list for each bind, so
    /// thousands of `$N` in one statement cost time quadratic in their number
    /// (seen in the import benchmark); plain `?` binds in order. A statement
    /// must not mix `$N` with these: sqlx counts plain markers from the
    /// first argument whatever `$N` took.
    pub fn marks(&self, first: usize, n: usize) -> String {
        let marks: Vec<String> = match self {
            Tx::Sqlite(_) => vec!["?".to_owned(); n],
            Tx::Postgres(_) => (first..first + n).map(|i| format!("${i}")).collect(),
        };
        marks.join(", ")
    }

    /// The `values` of a multi-row insert: `rows` groups of `columns` markers
    /// each, `(?, ?), (?, ?)` on SQLite, `($1, $2), ($3, $4)` on PostgreSQL.
    pub fn rows(&self, rows: usize, columns: usize) -> String {
        (0..rows)
            .map(|k| format!("({})", self.marks(1 + columns * k, columns)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Rolls the transaction back now (dropping it also rolls back, later).
    pub async fn rollback(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}
