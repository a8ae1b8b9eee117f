//! The data layer: one `Db` handle over SQLite (embedded default) or PostgreSQL.
//!
//! Queries are written once with `$1` placeholders where the SQL is portable and
//! run through [`on!`] / [`exec!`] on the pool or inside a transaction alike
//! (a [`Conn`]), which expand the same query-building code once per engine, so
//! every bind and row type is checked against both drivers at compile time.
//! Where the dialects differ, a repo writes the two statements side by side in
//! one `match`.

mod conn;
mod decimal;
mod error;
mod page;
mod probe;
pub mod sort;

pub use conn::{Conn, Held, Raw, Work, work};
pub use decimal::DbDecimal;
pub use error::DbError;
pub use page::Paged;
pub use probe::CanWrite;
pub use sort::Sort;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// A `like` pattern matching text that contains `q`, lowered, with `\`, `%`
/// and `_` escaped so they match themselves: use it with `like $n escape '\'`
/// (SQLite has no default escape character).
pub fn like_contains(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

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

tokio::task_local! {
    static NO_WRITES: ();
}

/// Runs `work` (a service call) for its validation only: every transaction
/// it commits ([`Tx::commit`]) is rolled back instead, so a service answers
/// with its field errors (or would-be success) and writes nothing. For a
/// form some of whose fields were already refused, to show every message at
/// once. A statement run with `exec!` on the pool is refused; one that
/// writes on the pool with `on!` (an insert reading back its id) is not
/// caught, so a service doing that must not be run this way.
pub async fn checking_only<F: std::future::Future>(work: F) -> F::Output {
    NO_WRITES.scope((), work).await
}

/// Whether the running task is inside [`checking_only`].
pub(crate) fn is_checking_only() -> bool {
    NO_WRITES.try_with(|_| ()).is_ok()
}

/// How long a SQLite statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Turns on SQLite's query planner stability guarantee for a new connection.
///
/// Without it, SQLite (3.47 and later) plans a `limit $n` with the number
/// bound at the time and marks the statement to be planned again whenever
/// that parameter is bound anew, so every run of a cached statement with a
/// bound `LIMIT` (claims, searches, lists) was parsed and planned again: 7%
/// of SQLite's threads in the poll benchmark (`sqlite3Reprepare`). The same
/// holds for bound values that a `LIKE` prefix, a partial index or `ANALYZE`
/// statistics could use; no query here relies on those (prefix searches are
/// ranges, partial indexes are matched by literals, nothing runs `ANALYZE`).
async fn stable_plans(conn: &mut sqlx::SqliteConnection) -> Result<(), sqlx::Error> {
    use libsqlite3_sys as sq;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut now: std::ffi::c_int = -1;
    // SAFETY: `db` is this connection's open handle, locked for this call;
    // the option takes an int to set and a pointer to write the new value to.
    let rc = unsafe {
        sq::sqlite3_db_config(
            db,
            sq::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            &raw mut now,
        )
    };
    if rc != sq::SQLITE_OK || now != 1 {
        tracing::warn!(
            rc,
            now,
            "SQLite refused the query planner stability guarantee"
        );
    }
    Ok(())
}

impl Db {
    /// This pool as a place to run queries.
    pub fn conn(&self) -> Conn<'_> {
        Conn::Pool(self)
    }

    /// See [`collate_c`].
    pub fn collate_c(&self) -> &'static str {
        collate_c(matches!(self, Db::Postgres(_)))
    }

    /// Connects to `url`: `sqlite://path`, `sqlite::memory:` or `postgres://...`.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).context("parsing DATABASE_URL")?;
            let pool = PgPoolOptions::new()
                .before_acquire(|conn, _| {
                    Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(&*conn)) })
                })
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            #[cfg(feature = "tuned-alloc")]
            crate::alloc::sqlite_on_mimalloc();
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let opts = SqliteConnectOptions::from_str(url)
                .context("parsing DATABASE_URL")?
                .create_if_missing(true)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT);
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
                .after_connect(|conn, _| Box::pin(async move { stable_plans(conn).await }))
                // A connection left inside a transaction (a COMMIT or ROLLBACK
                // that failed, as on a full disk) is closed, never handed out:
                // its next BEGIN would fail for as long as the process runs.
                .before_acquire(|conn, _| {
                    Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(&*conn)) })
                })
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
        crate::exec!(self, |c| sqlx::query("select 1").execute(c).await)?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// ` collate "C"` on PostgreSQL, nothing on SQLite: how a parameter is
/// lowered to be compared with `lower()` of an asset tag, host name or
/// serial. Those columns are `collate "C"` on PostgreSQL (migration 0023),
/// where `lower()` then folds ASCII only, as SQLite's always does; a
/// parameter in the default collation would fold `Ö` too, so a tag with a
/// non-ASCII capital would not match even as typed. Write
/// `lower(a.asset_tag) = lower($1{c})`.
fn collate_c(postgres: bool) -> &'static str {
    if postgres { r#" collate "C""# } else { "" }
}

/// See [`Tx::marks`].
fn marks(postgres: bool, first: usize, n: usize) -> String {
    let marks: Vec<String> = if postgres {
        (first..first + n).map(|i| format!("${i}")).collect()
    } else {
        vec!["?".to_owned(); n]
    };
    marks.join(", ")
}

impl Tx {
    /// This transaction as a place to run queries.
    pub fn conn(&mut self) -> Conn<'_> {
        Conn::Tx(self)
    }

    /// See [`collate_c`].
    pub fn collate_c(&self) -> &'static str {
        collate_c(matches!(self, Tx::Postgres(_)))
    }

    /// Reads rows for a list too long for one statement: `sql(tx, n)` is
    /// the statement for `n` items (its markers from [`Tx::marks`] or
    /// [`Tx::rows`], numbered from 1), run once per chunk of at most `per`
    /// items with the chunk bound in order; the rows of every chunk, in turn.
    pub async fn fetch_chunked<T, B>(
        &mut self,
        items: &[B],
        per: usize,
        mut sql: impl FnMut(&Tx, usize) -> String,
    ) -> Result<Vec<T>, DbError>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
        B: Sync
            + for<'q> sqlx::Encode<'q, Sqlite>
            + sqlx::Type<Sqlite>
            + for<'q> sqlx::Encode<'q, Postgres>
            + sqlx::Type<Postgres>,
    {
        let mut out = Vec::new();
        for chunk in items.chunks(per.max(1)) {
            let text = sql(self, chunk.len());
            let rows: Vec<T> = crate::on!(self, |c| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text.clone()));
                for item in chunk {
                    q = q.bind(item);
                }
                q.fetch_all(c).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// `n` bind markers for a statement with many parameters, numbered from
    /// `first`: `$first, $first+1, ...` on PostgreSQL, plain `?` on SQLite.
    /// SQLite looks a numbered marker's name up in a list for each bind, so
    /// thousands of `$N` in one statement cost time quadratic in their number
    /// (seen in the import benchmark); plain `?` binds in order. A statement
    /// must not mix `$N` with these: sqlx counts plain markers from the
    /// first argument whatever `$N` took.
    pub fn marks(&self, first: usize, n: usize) -> String {
        marks(matches!(self, Tx::Postgres(_)), first, n)
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
        if is_checking_only() {
            return self.rollback().await;
        }
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use libsqlite3_sys as sq;

    /// Runs `select ... limit ?` twice with another limit on `db` (a raw
    /// handle) and returns how often SQLite planned the statement again.
    ///
    /// # Safety
    /// `db` must be an open connection that nothing else uses meanwhile.
    unsafe fn replans_of_a_bound_limit(db: *mut sq::sqlite3) -> i32 {
        let sql = c"select value from json_each('[1,2,3]') limit ?";
        let mut stmt = std::ptr::null_mut();
        // SAFETY: per the function's contract; the statement is finalized below.
        unsafe {
            let rc = sq::sqlite3_prepare_v3(
                db,
                sql.as_ptr(),
                -1,
                sq::SQLITE_PREPARE_PERSISTENT,
                &raw mut stmt,
                std::ptr::null_mut(),
            );
            assert_eq!(rc, sq::SQLITE_OK);
            for limit in [1, 2, 3] {
                assert_eq!(sq::sqlite3_bind_int(stmt, 1, limit), sq::SQLITE_OK);
                let mut rows = 0;
                while sq::sqlite3_step(stmt) == sq::SQLITE_ROW {
                    rows += 1;
                }
                assert_eq!(rows, limit);
                sq::sqlite3_reset(stmt);
            }
            let n = sq::sqlite3_stmt_status(stmt, sq::SQLITE_STMTSTATUS_REPREPARE, 0);
            sq::sqlite3_finalize(stmt);
            n
        }
    }

    #[tokio::test]
    async fn a_statement_with_a_bound_limit_is_planned_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = super::Db::connect(&url).await.expect("open");
        let super::Db::Sqlite(pool) = &db else {
            unreachable!("a SQLite URL")
        };
        let mut conn = pool.acquire().await.expect("connection");
        let mut handle = conn.lock_handle().await.expect("handle");
        let raw = handle.as_raw_handle().as_ptr();
        let mut qpsg = -1;
        // SAFETY: the locked handle is this test's alone until dropped.
        let (rc, replans) = unsafe {
            let rc = sq::sqlite3_db_config(raw, sq::SQLITE_DBCONFIG_ENABLE_QPSG, -1, &raw mut qpsg);
            (rc, replans_of_a_bound_limit(raw))
        };
        assert_eq!((rc, qpsg), (sq::SQLITE_OK, 1), "the guarantee is on");
        assert_eq!(replans, 0, "a new LIMIT did not re-plan the statement");
        // Without it, SQLite plans the statement again for each new LIMIT.
        // SAFETY: as above.
        let replans_without = unsafe {
            sq::sqlite3_db_config(
                raw,
                sq::SQLITE_DBCONFIG_ENABLE_QPSG,
                0,
                std::ptr::null_mut::<i32>(),
            );
            replans_of_a_bound_limit(raw)
        };
        assert!(replans_without > 0, "{replans_without}");
    }
}
