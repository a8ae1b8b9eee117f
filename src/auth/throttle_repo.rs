//! Queries for `login_throttles`: claiming a login attempt, recording its
//! outcome, listing and clearing back-offs.

use serde::Serialize;
use time::OffsetDateTime;

use crate::db::{Conn, Db, DbError, Tx};
use crate::{exec, on};

/// The key of one back-off row.
#[derive(Clone, Copy, Debug)]
pub struct Key<'a> {
    /// `user` (a user name from an address) or `address` (every name from it).
    pub scope: &'a str,
    /// Login name as typed, normalised; empty for the `address` scope.
    pub username: &'a str,
    /// Client address.
    pub remote_addr: &'a str,
}

/// What a claim writes, decided by the caller.
pub struct ClaimTimes {
    /// Now, UTC.
    pub now: OffsetDateTime,
    /// Rows whose next attempt was allowed before this are forgotten (count from 1).
    pub forget_before: OffsetDateTime,
    /// Attempts (this one included) allowed without waiting.
    pub free: i64,
    /// The next attempt's earliest time when this one uses up the free ones:
    /// it stands until the outcome is recorded.
    pub hold_until: OffsetDateTime,
}

/// Claims one attempt on `key` in one statement: creates the row or counts
/// the attempt on it, only when its next attempt is allowed by `now`. Returns
/// the attempts counted with this one, or `None` when the key must wait.
pub async fn claim(tx: &mut Tx, key: Key<'_>, t: &ClaimTimes) -> Result<Option<i64>, DbError> {
    let first_next = if t.free <= 1 { t.hold_until } else { t.now };
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into login_throttles
               (scope, username, remote_addr, failures, next_attempt_at, created_at, updated_at)
             values ($1, $2, $3, 1, $4, $5, $5)
             on conflict (scope, username, remote_addr) do update set
               failures = case when login_throttles.next_attempt_at < $6 then 1
                               else login_throttles.failures + 1 end,
               next_attempt_at = case
                 when (case when login_throttles.next_attempt_at < $6 then 1
                            else login_throttles.failures + 1 end) >= $7 then $8
                 else $5 end,
               updated_at = $5
             where login_throttles.next_attempt_at <= $5
             returning failures",
        )
        .bind(key.scope)
        .bind(key.username)
        .bind(key.remote_addr)
        .bind(first_next)
        .bind(t.now)
        .bind(t.forget_before)
        .bind(t.free)
        .bind(t.hold_until)
        .fetch_optional(c)
        .await
    })?)
}

/// When the next attempt on any of `keys` is allowed (the latest of them), if
/// any row exists.
pub async fn next_allowed(db: &Db, keys: &[Key<'_>]) -> Result<Option<OffsetDateTime>, DbError> {
    let mut latest = None;
    for key in keys {
        let t: Option<OffsetDateTime> = on!(db, |p| {
            sqlx::query_scalar(
                "select next_attempt_at from login_throttles
                 where scope = $1 and username = $2 and remote_addr = $3",
            )
            .bind(key.scope)
            .bind(key.username)
            .bind(key.remote_addr)
            .fetch_optional(p)
            .await
        })?;
        latest = latest.max(t);
    }
    Ok(latest)
}

/// After a failed attempt that was the `failures`th on `key`: the next is
/// allowed at `next`, unless a later attempt was counted meanwhile.
pub async fn record_failure(
    db: &Db,
    key: Key<'_>,
    failures: i64,
    next: OffsetDateTime,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(db, |p| {
        sqlx::query(
            "update login_throttles set next_attempt_at = $1, updated_at = $2
             where scope = $3 and username = $4 and remote_addr = $5 and failures = $6",
        )
        .bind(next)
        .bind(now)
        .bind(key.scope)
        .bind(key.username)
        .bind(key.remote_addr)
        .bind(failures)
        .execute(p)
        .await
    })?;
    Ok(())
}

/// After a successful attempt that was the `failures`th on `key`: one
/// attempt fewer is counted, and when none was counted since, the next may
/// come at once.
pub async fn record_success(db: &Db, key: Key<'_>, failures: i64) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(db, |p| {
        sqlx::query(
            "update login_throttles set
               next_attempt_at = case when failures = $1 then $2 else next_attempt_at end,
               failures = case when failures > 0 then failures - 1 else 0 end,
               updated_at = $2
             where scope = $3 and username = $4 and remote_addr = $5",
        )
        .bind(failures)
        .bind(now)
        .bind(key.scope)
        .bind(key.username)
        .bind(key.remote_addr)
        .execute(p)
        .await
    })?;
    Ok(())
}

/// Removes the row of `key` (a user's successful login from that address).
pub async fn delete_key(db: &Db, key: Key<'_>) -> Result<(), DbError> {
    exec!(db, |p| {
        sqlx::query(
            "delete from login_throttles where scope = $1 and username = $2 and remote_addr = $3",
        )
        .bind(key.scope)
        .bind(key.username)
        .bind(key.remote_addr)
        .execute(p)
        .await
    })?;
    Ok(())
}

/// A back-off as listed for admins. Also the audit snapshot.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ThrottleRow {
    /// Row id.
    pub id: i64,
    /// `user` or `address`.
    pub scope: String,
    /// Login name tried (empty for the address scope).
    pub username: String,
    /// Client address.
    pub remote_addr: String,
    /// Attempts counted since the last success or since it was forgotten.
    pub failures: i64,
    /// Earliest next attempt, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    /// Last attempt or outcome, UTC.
    #[serde(skip)]
    pub updated_at: OffsetDateTime,
}

const THROTTLE_COLUMNS: &str =
    "id, scope, username, remote_addr, failures, next_attempt_at, updated_at";

/// Rows not yet forgotten (next attempt allowed at or after `since`) with at
/// least one attempt counted, latest first; at most `limit`.
pub async fn list(db: &Db, since: OffsetDateTime, limit: i64) -> Result<Vec<ThrottleRow>, DbError> {
    let sql = format!(
        "select {THROTTLE_COLUMNS} from login_throttles
         where next_attempt_at >= $1 and failures > 0
         order by next_attempt_at desc, id desc limit $2"
    );
    Ok(on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(since)
            .bind(limit)
            .fetch_all(p)
            .await
    })?)
}

/// One row by id.
pub async fn get(db: impl Into<Conn<'_>>, id: i64) -> Result<ThrottleRow, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("select {THROTTLE_COLUMNS} from login_throttles where id = $1");
    Ok(on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_one(p)
            .await
    })?)
}

/// Deletes one row by id; returns rows removed.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<u64, DbError> {
    Ok(exec!(tx, |c| sqlx::query(
        "delete from login_throttles where id = $1"
    )
    .bind(id)
    .execute(c)
    .await)?)
}

/// Removes rows whose next attempt was allowed before `before` (forgotten).
pub async fn purge(db: &Db, before: OffsetDateTime) -> Result<u64, DbError> {
    Ok(exec!(db, |p| sqlx::query(
        "delete from login_throttles where next_attempt_at < $1"
    )
    .bind(before)
    .execute(p)
    .await)?)
}
