//! Stored import batches (the uploaded file and its preview) and saved
//! column-mapping profiles.

use serde::Serialize;
use time::OffsetDateTime;

use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError};
use crate::{exec, on};

/// An upload and where it stands (the file itself is read separately).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Batch {
    /// Row id.
    pub id: i64,
    /// price_list, order_confirmation or packing_list.
    pub kind: String,
    /// Name of the uploaded file.
    pub file_name: String,
    /// SHA-256 of the file, base64url.
    pub content_sha256: String,
    /// Target supplier.
    pub supplier_id: Option<i64>,
    /// Target order.
    pub po_id: Option<i64>,
    /// Target stock location.
    pub location_id: Option<i64>,
    /// Saved profile used.
    pub profile_id: Option<i64>,
    /// Accept more than ordered (packing lists).
    pub allow_over: bool,
    /// queued, previewing, previewed, committing, committed, refused or failed.
    pub status: String,
    /// Rows in the file, when known.
    pub rows_total: Option<i64>,
    /// Rows processed so far.
    pub rows_done: i64,
    /// The last preview or commit summary (JSON).
    pub summary_json: Option<String>,
    /// Who uploaded it.
    pub created_by: Option<i64>,
    /// When, UTC.
    #[serde(skip)]
    pub created_at: OffsetDateTime,
    /// Last change, UTC.
    #[serde(skip)]
    pub updated_at: OffsetDateTime,
}

const COLUMNS: &str =
    "id, kind, file_name, content_sha256, supplier_id, po_id, location_id, profile_id, allow_over, status,
    rows_total, rows_done, summary_json, created_by, created_at, updated_at";

/// Fields of a new batch.
pub struct NewBatch<'a> {
    /// Kind name.
    pub kind: &'a str,
    /// File name.
    pub file_name: &'a str,
    /// File bytes.
    pub content: &'a [u8],
    /// Target supplier.
    pub supplier_id: Option<i64>,
    /// Target order.
    pub po_id: Option<i64>,
    /// Target location.
    pub location_id: Option<i64>,
    /// Profile.
    pub profile_id: Option<i64>,
    /// Accept more than ordered.
    pub allow_over: bool,
    /// Uploader.
    pub created_by: Option<i64>,
}

/// Stores an upload; returns its id.
pub async fn insert(db: &Db, b: &NewBatch<'_>) -> Result<i64, DbError> {
    let now = crate::clock::now();
    let sha = crate::auth::sha256_b64(b.content);
    Ok(on!(db, |p| {
        sqlx::query_scalar(
            "insert into import_batches (kind, file_name, content, content_sha256, supplier_id, po_id, location_id,
               profile_id, allow_over, status, rows_done, created_by, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10, $11, $11) returning id",
        )
        .bind(b.kind)
        .bind(b.file_name)
        .bind(b.content)
        .bind(&sha)
        .bind(b.supplier_id)
        .bind(b.po_id)
        .bind(b.location_id)
        .bind(b.profile_id)
        .bind(b.allow_over)
        .bind(b.created_by)
        .bind(now)
        .fetch_one(p)
        .await
    })?)
}

/// One batch.
pub async fn get(db: &Db, id: i64) -> Result<Batch, DbError> {
    let sql = format!("select {COLUMNS} from import_batches where id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// The uploaded file of a batch.
pub async fn content(db: &Db, id: i64) -> Result<Vec<u8>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_scalar("select content from import_batches where id = $1")
            .bind(id)
            .fetch_one(p)
            .await
    })?)
}

/// The latest batches, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<Batch>, DbError> {
    let sql = format!("select {COLUMNS} from import_batches order by id desc limit $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(limit)
    .fetch_all(p)
    .await)?)
}

/// Batches previewed and waiting for someone to commit or discard them,
/// oldest first, and how many there are.
pub async fn waiting(db: &Db, limit: i64) -> Result<(Vec<Batch>, i64), DbError> {
    let sql = format!(
        "select {COLUMNS} from import_batches where status = 'previewed' order by id limit $1"
    );
    let rows = on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(limit)
        .fetch_all(p)
        .await)?;
    let total = on!(db, |p| sqlx::query_scalar(
        "select count(*) from import_batches where status = 'previewed'"
    )
    .fetch_one(p)
    .await)?;
    Ok((rows, total))
}

/// Marks a batch as running (`previewing` or `committing`) from a state it may
/// start from; resets its progress.
pub async fn set_state(
    db: &Db,
    id: i64,
    status: &str,
    done: i64,
    total: Option<i64>,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(db, |p| {
        sqlx::query(
            "update import_batches set status = $1, rows_done = $2, rows_total = coalesce($3, rows_total), updated_at = $4
             where id = $5 and status in ('queued', 'previewing', 'previewed', 'committing', 'refused')",
        )
        .bind(status)
        .bind(done)
        .bind(total)
        .bind(now)
        .bind(id)
        .execute(p)
        .await
    })?;
    Ok(())
}

/// Records progress of a running batch. It never changes the status, and a
/// batch that has finished is left alone: a progress write that lands late
/// (after the run ended) cannot undo the outcome.
pub async fn set_progress(db: &Db, id: i64, done: i64, total: Option<i64>) -> Result<(), DbError> {
    // `updated_at` is the heartbeat [`fail_stale`] looks for.
    exec!(db, |p| {
        sqlx::query(
            "update import_batches set rows_done = $1, rows_total = coalesce($2, rows_total), updated_at = $4
             where id = $3 and status in ('previewing', 'committing')",
        )
        .bind(done)
        .bind(total)
        .bind(id)
        .bind(crate::clock::now())
        .execute(p)
        .await
    })?;
    Ok(())
}

/// Accepts (or not) more than ordered for a batch about to be committed.
pub async fn set_allow_over(db: &Db, id: i64, allow: bool) -> Result<(), DbError> {
    exec!(db, |p| {
        sqlx::query("update import_batches set allow_over = $1 where id = $2")
            .bind(allow)
            .bind(id)
            .execute(p)
            .await
    })?;
    Ok(())
}

/// Records the outcome of a run.
pub async fn finish(
    db: &Db,
    id: i64,
    status: &str,
    summary_json: &str,
    rows: i64,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(db, |p| {
        sqlx::query("update import_batches set status = $1, summary_json = $2, rows_done = $3, rows_total = $3, updated_at = $4 where id = $5")
            .bind(status)
            .bind(summary_json)
            .bind(rows)
            .bind(now)
            .bind(id)
            .execute(p)
            .await
    })?;
    Ok(())
}

/// Marks every batch still shown as running (`queued`, `previewing`,
/// `committing`) as `failed` with `summary_json`; returns how many. For a
/// process that starts after another died: their transactions never
/// committed, so nothing of them was written.
pub async fn fail_interrupted(db: &Db, summary_json: &str) -> Result<u64, DbError> {
    let now = crate::clock::now();
    Ok(exec!(db, |p| {
        sqlx::query(
            "update import_batches set status = 'failed', summary_json = $1, updated_at = $2
             where status in ('queued', 'previewing', 'committing')",
        )
        .bind(summary_json)
        .bind(now)
        .execute(p)
        .await
    })?)
}

/// Marks as `failed` (with `summary_json`) the batches shown as running
/// whose last sign of life is older than `before`; returns how many. A running
/// import writes its progress, and so `updated_at`, every half second, so a
/// batch silent for minutes belongs to a server that died. For PostgreSQL,
/// where other servers may be running imports of their own.
pub async fn fail_stale(
    db: &Db,
    summary_json: &str,
    before: OffsetDateTime,
) -> Result<u64, DbError> {
    let now = crate::clock::now();
    Ok(exec!(db, |p| {
        sqlx::query(
            "update import_batches set status = 'failed', summary_json = $1, updated_at = $2
             where status in ('queued', 'previewing', 'committing') and updated_at < $3",
        )
        .bind(summary_json)
        .bind(now)
        .bind(before)
        .execute(p)
        .await
    })?)
}

/// When the same file was last committed to the same order (or supplier), if ever.
pub async fn committed_before(db: &Db, b: &Batch) -> Result<Option<OffsetDateTime>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_scalar(
            "select max(updated_at) from import_batches
             where content_sha256 = $1 and kind = $2 and status = 'committed' and id <> $3
               and coalesce(po_id, 0) = coalesce($4, 0) and coalesce(supplier_id, 0) = coalesce($5, 0)",
        )
        .bind(&b.content_sha256)
        .bind(&b.kind)
        .bind(b.id)
        .bind(b.po_id)
        .bind(b.supplier_id)
        .fetch_one(p)
        .await
    })?)
}

/// The first earlier upload of the same file (same SHA-256, kind, order and
/// supplier) that was not thrown away, a committed one first: its id, status
/// and when it was uploaded.
pub async fn earlier_upload(
    db: &Db,
    b: &Batch,
) -> Result<Option<(i64, String, OffsetDateTime)>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select id, status, created_at from import_batches
             where content_sha256 = $1 and kind = $2 and id <> $3 and status <> 'failed'
               and coalesce(po_id, 0) = coalesce($4, 0) and coalesce(supplier_id, 0) = coalesce($5, 0)
             order by case when status = 'committed' then 0 else 1 end, id limit 1",
        )
        .bind(&b.content_sha256)
        .bind(&b.kind)
        .bind(b.id)
        .bind(b.po_id)
        .bind(b.supplier_id)
        .fetch_optional(p)
        .await
    })?)
}

/// Marks a previewed (or refused) batch as committing; false when it is in
/// any other state, such as a commit already running. Claimed before the
/// work starts, so two commits of one batch cannot both run.
pub async fn claim_commit(db: &Db, id: i64) -> Result<bool, DbError> {
    let done = exec!(db, |p| {
        sqlx::query(
            "update import_batches set status = 'committing', rows_done = 0, updated_at = $1
             where id = $2 and status in ('previewed', 'refused')",
        )
        .bind(crate::clock::now())
        .bind(id)
        .execute(p)
        .await
    })?;
    Ok(done == 1)
}

/// Throws away a previewed (or refused) batch and its stored file; false
/// when it is in any other state (committed, running).
pub async fn discard(db: &Db, id: i64) -> Result<bool, DbError> {
    let done = exec!(db, |p| {
        sqlx::query(
            "delete from import_batches where id = $1 and status in ('previewed', 'refused')",
        )
        .bind(id)
        .execute(p)
        .await
    })?;
    Ok(done == 1)
}

/// A saved column mapping.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ProfileRow {
    /// Row id.
    pub id: i64,
    /// Supplier it belongs to.
    pub supplier_id: i64,
    /// Supplier name (joined).
    pub supplier_name: String,
    /// Profile name.
    pub name: String,
    /// Kind name.
    pub kind: String,
    /// The profile in its documented TOML form (`importers/README.md`).
    pub profile_toml: String,
}

const PROFILE_SELECT: &str =
    "select p.id, p.supplier_id, s.name as supplier_name, p.name, p.kind, p.profile_toml
    from import_profiles p join suppliers s on s.id = p.supplier_id";

/// Every saved profile, by supplier and name.
pub async fn profiles(db: &Db) -> Result<Vec<ProfileRow>, DbError> {
    let sql = format!("{PROFILE_SELECT} order by s.name, p.name");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_all(p)
    .await)?)
}

/// One profile.
pub async fn profile(db: &Db, id: i64) -> Result<ProfileRow, DbError> {
    let sql = format!("{PROFILE_SELECT} where p.id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// Saves (creates or replaces) a supplier's named profile; returns its id.
pub async fn save_profile(
    db: &Db,
    actor: &Actor,
    supplier_id: i64,
    name: &str,
    kind: &str,
    toml: &str,
) -> crate::error::AppResult<i64> {
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let existing: Option<(i64, String)> = on!(&mut tx, |c| {
        sqlx::query_as(
            "select id, profile_toml from import_profiles where supplier_id = $1 and name = $2",
        )
        .bind(supplier_id)
        .bind(name)
        .fetch_optional(c)
        .await
    })?;
    let id = match &existing {
        Some((id, _)) => {
            crate::exec!(&mut tx, |c| {
                sqlx::query("update import_profiles set kind = $1, profile_toml = $2, updated_at = $3 where id = $4")
                    .bind(kind)
                    .bind(toml)
                    .bind(now)
                    .bind(id)
                    .execute(c)
                    .await
            })?;
            *id
        }
        None => on!(&mut tx, |c| {
            sqlx::query_scalar(
                "insert into import_profiles (supplier_id, name, kind, profile_toml, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $5) returning id",
            )
            .bind(supplier_id)
            .bind(name)
            .bind(kind)
            .bind(toml)
            .bind(now)
            .fetch_one(c)
            .await
        })?,
    };
    let before = existing.map(|(_, t)| serde_json::json!({ "profile_toml": t }));
    let after = serde_json::json!({"supplier_id": supplier_id, "name": name, "kind": kind, "profile_toml": toml});
    let action = if before.is_some() {
        Action::Update
    } else {
        Action::Create
    };
    audit::record(
        &mut tx,
        actor,
        action,
        "import_profile",
        id,
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
