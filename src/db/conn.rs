//! [`Conn`] (the pool or a transaction), [`Work`] (a transaction of one's
//! own or the caller's) and the `on!` / `exec!` macros that run one query
//! on either engine.

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

use super::{Db, DbError, Tx, marks};

/// Where a query runs: on the pool (a connection is taken for it and given
/// back after) or inside a transaction the caller holds. A repo function
/// takes `impl Into<Conn<'_>>`, so the one query serves both: pass `db` or
/// `&mut tx` (`&mut *tx` when `tx` is itself a `&mut Tx`).
pub enum Conn<'a> {
    /// The pool: each query takes a connection of its own.
    Pool(&'a Db),
    /// An open transaction.
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for Conn<'a> {
    fn from(db: &'a Db) -> Self {
        Conn::Pool(db)
    }
}

impl<'a> From<&'a mut Tx> for Conn<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

impl<'a, 'b> From<&'a mut Conn<'b>> for Conn<'a> {
    fn from(c: &'a mut Conn<'b>) -> Self {
        c.conn()
    }
}

/// A unit of work: a new transaction of its own, committed by
/// [`Work::commit`], or a step inside a transaction the caller holds (which
/// the caller commits; `commit` then does nothing). A service that writes
/// takes `impl Into<Conn<'_>>` and opens its work with [`Conn::work`], so the
/// same function serves a page (on the pool) and an import or a larger change
/// (inside the caller's transaction).
pub enum Work<'a> {
    /// A transaction begun for this work.
    Own(Tx),
    /// The caller's transaction.
    Join(&'a mut Tx),
}

impl Work<'_> {
    /// Commits a transaction begun for this work; inside the caller's, does nothing.
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Work::Own(tx) => tx.commit().await,
            Work::Join(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for Work<'_> {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        match self {
            Work::Own(tx) => tx,
            Work::Join(tx) => tx,
        }
    }
}

impl std::ops::DerefMut for Work<'_> {
    fn deref_mut(&mut self) -> &mut Tx {
        match self {
            Work::Own(tx) => tx,
            Work::Join(tx) => tx,
        }
    }
}

/// Opens a unit of work on `c`: see [`Work`].
pub async fn work<'a>(c: impl Into<Conn<'a>>) -> Result<Work<'a>, DbError> {
    c.into().work().await
}

/// A connection held for one statement: taken from the pool, or borrowed from a transaction.
#[doc(hidden)]
pub enum Held<'a> {
    SqlitePool(PoolConnection<Sqlite>),
    PostgresPool(PoolConnection<Postgres>),
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// A held connection on one engine, for [`on!`] to expand its body against.
#[doc(hidden)]
pub enum Raw<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl<'a> Conn<'a> {
    /// A shorter borrow of the same place, so one `Conn` serves several queries.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Conn::Pool(db) => Conn::Pool(db),
            Conn::Tx(tx) => Conn::Tx(tx),
        }
    }

    /// See [`collate_c`].
    pub fn collate_c(&self) -> &'static str {
        match self {
            Conn::Pool(db) => db.collate_c(),
            Conn::Tx(tx) => tx.collate_c(),
        }
    }

    /// See [`Tx::marks`].
    pub fn marks(&self, first: usize, n: usize) -> String {
        marks(self.is_postgres(), first, n)
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        match self {
            Conn::Pool(db) => matches!(db, Db::Postgres(_)),
            Conn::Tx(tx) => matches!(tx, Tx::Postgres(_)),
        }
    }

    /// Opens a unit of work: a write transaction on the pool, or the caller's.
    pub async fn work(self) -> Result<Work<'a>, DbError> {
        Ok(match self {
            Conn::Pool(db) => Work::Own(db.begin().await?),
            Conn::Tx(tx) => Work::Join(tx),
        })
    }

    /// As [`Conn::hold`], for a statement that writes: on the pool it is
    /// refused while [`super::checking_only`] runs (a transaction's writes
    /// are rolled back then instead).
    #[doc(hidden)]
    pub async fn hold_to_write(self) -> Result<Held<'a>, sqlx::Error> {
        if matches!(self, Conn::Pool(_)) && super::is_checking_only() {
            return Err(sqlx::Error::Protocol(
                "checking only: nothing is written".into(),
            ));
        }
        self.hold().await
    }

    #[doc(hidden)]
    pub async fn hold(self) -> Result<Held<'a>, sqlx::Error> {
        Ok(match self {
            Conn::Pool(Db::Sqlite(p)) => Held::SqlitePool(p.acquire().await?),
            Conn::Pool(Db::Postgres(p)) => Held::PostgresPool(p.acquire().await?),
            Conn::Tx(Tx::Sqlite(t)) => Held::Sqlite(t),
            Conn::Tx(Tx::Postgres(t)) => Held::Postgres(t),
        })
    }
}

impl Held<'_> {
    #[doc(hidden)]
    pub fn raw(&mut self) -> Raw<'_> {
        match self {
            Held::SqlitePool(c) => Raw::Sqlite(c),
            Held::PostgresPool(c) => Raw::Postgres(c),
            Held::Sqlite(c) => Raw::Sqlite(c),
            Held::Postgres(c) => Raw::Postgres(c),
        }
    }
}

/// Runs the same expression on whichever engine `src` is (a `&Db`, a
/// `&mut Tx` or a [`Conn`]), with `c` bound to a `&mut` connection of that
/// engine; the body is compiled once per engine, so every bind and row type
/// is checked against both drivers. Yields the body's `Result`; a pool that
/// cannot give a connection yields its error.
///
/// `on!(db, |c| sqlx::query_scalar("select 1").fetch_one(c).await)`
#[macro_export]
macro_rules! on {
    ($src:expr, |$c:ident| $body:expr) => {
        match $crate::db::Conn::hold(($src).conn()).await {
            Err(e) => Err(::core::convert::From::from(e)),
            Ok(mut held) => match held.raw() {
                $crate::db::Raw::Sqlite($c) => $body,
                $crate::db::Raw::Postgres($c) => $body,
            },
        }
    };
}

/// Like [`on!`] for statements run with `execute`: yields `Result<u64>` rows affected.
#[macro_export]
macro_rules! exec {
    ($src:expr, |$c:ident| $body:expr) => {
        match $crate::db::Conn::hold_to_write(($src).conn()).await {
            Err(e) => Err(::core::convert::From::from(e)),
            Ok(mut held) => match held.raw() {
                $crate::db::Raw::Sqlite($c) => ($body).map(|r| r.rows_affected()),
                $crate::db::Raw::Postgres($c) => ($body).map(|r| r.rows_affected()),
            },
        }
    };
}
