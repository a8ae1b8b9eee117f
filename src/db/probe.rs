//! The write probe behind `/healthz`: can the database still write?

use super::{BUSY_TIMEOUT, Db, DbError};

/// Free space below which the write probe reports a SQLite disk as full.
const MIN_FREE_BYTES: u64 = 1024 * 1024;

/// Bytes free to this process on the filesystem holding `file` (None for an
/// in-memory database or where the platform cannot tell).
fn free_bytes(file: &std::path::Path) -> Option<u64> {
    #[cfg(unix)]
    {
        if !file.exists() {
            return None;
        }
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        let st = rustix::fs::statvfs(dir).ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        None
    }
}

/// What the write probe of `/healthz` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CanWrite {
    /// A write committed.
    Yes,
    /// Another connection is writing (SQLite's write lock is taken), which
    /// it could only take by writing.
    Busy,
}

impl Db {
    /// Writes and commits one row (`write_probes`), to learn whether the
    /// database can still write (a full disk, a read-only file or server).
    /// Runs on a task of its own, so a caller that goes away mid-probe
    /// never leaves a connection inside the probe's transaction.
    pub async fn can_write(&self) -> Result<CanWrite, DbError> {
        let db = self.clone();
        tokio::spawn(async move { db.probe_write().await })
            .await
            .map_err(|e| DbError::Other(sqlx::Error::Protocol(format!("write probe: {e}"))))?
    }

    async fn probe_write(&self) -> Result<CanWrite, DbError> {
        const UPSERT: &str =
            "insert into write_probes (id, created_at, updated_at) values (1, $1, $1)
             on conflict (id) do update set updated_at = excluded.updated_at";
        let now = crate::clock::now();
        match self {
            Db::Sqlite(pool) => {
                // A full disk can still take a one-row write into room the
                // WAL already has, while real writes fail: look at the disk.
                if let Some(free) = free_bytes(pool.connect_options().get_filename())
                    && free < MIN_FREE_BYTES
                {
                    return Err(DbError::Other(sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::StorageFull,
                        format!("disk full: {free} bytes free beside the database"),
                    ))));
                }
                let mut conn = pool.acquire().await?;
                // Not waiting for the write lock: a writer holding it (an
                // import) is proof enough, and the probe must answer at once.
                sqlx::query("pragma busy_timeout = 0")
                    .execute(&mut *conn)
                    .await?;
                let tried = async {
                    let mut tx =
                        match sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await {
                            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("5") => {
                                return Ok(CanWrite::Busy);
                            }
                            other => other?,
                        };
                    sqlx::query(UPSERT).bind(now).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok::<_, sqlx::Error>(CanWrite::Yes)
                }
                .await;
                let restore = format!("pragma busy_timeout = {}", BUSY_TIMEOUT.as_millis());
                let restored = sqlx::query(sqlx::AssertSqlSafe(restore))
                    .execute(&mut *conn)
                    .await;
                if tried.is_err()
                    || restored.is_err()
                    || sqlx::Connection::is_in_transaction(&*conn)
                {
                    // Never back to the pool in doubt.
                    let _ = conn.close().await;
                }
                Ok(tried?)
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("set local lock_timeout = '2s'")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("set local statement_timeout = '5s'")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(UPSERT).bind(now).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(CanWrite::Yes)
            }
        }
    }
}
