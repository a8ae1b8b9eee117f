//! Forms sent once: each rendered form carries a random `_once` token, and a
//! POST claims it (one statement, before the handler runs). A second POST of
//! the same token is not run again: it gets the first one's redirect.

use crate::db::{Db, DbError};

/// What claiming a form's token found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// First time: run the form.
    Mine,
    /// Sent before and answered.
    Done(Answer),
    /// Sent before and still running.
    Running,
}

/// What the first sending was answered, as kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// Where it redirected, if it did.
    pub location: Option<String>,
    /// Its HTTP status (API calls).
    pub status: Option<i64>,
    /// Its JSON body (API calls, when small enough to keep).
    pub body: Option<String>,
}

/// A kept row: owner, state, location, status, body.
type KeptRow = (i64, String, Option<String>, Option<i64>, Option<String>);

/// Claims `token` for `user_id`, atomically on both engines.
pub async fn claim(db: &Db, token: &str, user_id: i64) -> Result<Claim, DbError> {
    let now = crate::clock::now();
    let inserted = crate::exec!(db, |c| sqlx::query(
        "insert into form_submissions (token, user_id, state, location, created_at, updated_at)
         values ($1, $2, 'running', null, $3, $3) on conflict (token) do nothing"
    )
    .bind(token)
    .bind(user_id)
    .bind(now)
    .execute(c)
    .await)?;
    if inserted == 1 {
        return Ok(Claim::Mine);
    }
    let row: Option<KeptRow> = crate::on!(db, |c| sqlx::query_as(
        "select user_id, state, location, status, body from form_submissions where token = $1"
    )
    .bind(token)
    .fetch_optional(c)
    .await)?;
    Ok(match row {
        // Released between the two statements: the form may run again.
        None => Box::pin(claim(db, token, user_id)).await?,
        // Another user's token is never theirs to replay.
        Some((owner, ..)) if owner != user_id => Claim::Done(Answer::default()),
        Some((_, state, location, status, body)) if state == "done" => Claim::Done(Answer {
            location,
            status,
            body,
        }),
        Some(_) => Claim::Running,
    })
}

/// Records the answer of a form or call that ran.
pub async fn finish(db: &Db, token: &str, answer: &Answer) -> Result<(), DbError> {
    crate::exec!(db, |c| {
        sqlx::query(
        "update form_submissions set state = 'done', location = $1, status = $2, body = $3, updated_at = $4
         where token = $5"
    )
    .bind(answer.location.as_deref())
    .bind(answer.status)
    .bind(answer.body.as_deref())
    .bind(crate::clock::now())
    .bind(token)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// Gives a token back after its form was refused (nothing was written), so
/// the corrected form can be sent with it.
pub async fn release(db: &Db, token: &str) -> Result<(), DbError> {
    crate::exec!(db, |c| sqlx::query(
        "delete from form_submissions where token = $1"
    )
    .bind(token)
    .execute(c)
    .await)?;
    Ok(())
}

/// Forgets tokens older than `before` (a form is not sent again after a day).
pub async fn sweep(db: &Db, before: time::OffsetDateTime) -> Result<u64, DbError> {
    Ok(crate::exec!(db, |c| sqlx::query(
        "delete from form_submissions where created_at < $1"
    )
    .bind(before)
    .execute(c)
    .await)?)
}
