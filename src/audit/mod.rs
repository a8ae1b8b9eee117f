//! The audit log: who changed what, when, with the values before and after.
//!
//! Services call [`record`] inside the same transaction as the change, so a
//! change and its audit row commit or roll back together.

pub mod names;

use serde::Serialize;
use time::OffsetDateTime;

use crate::db::{Db, DbError, Tx};
use crate::{exec, on};

/// Who made a change: a user, or a named system process (`cli`, `demo`, `poller`).
#[derive(Clone, Debug)]
pub struct Actor {
    /// `users.id`, when a user made it.
    pub user_id: Option<i64>,
    /// User name or process name, kept even if the user is deleted.
    pub name: String,
}

impl Actor {
    /// A change made by rackledger itself or its command line.
    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            name: name.to_owned(),
        }
    }
}

/// The kind of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A new row.
    Create,
    /// A changed row.
    Update,
    /// A removed row.
    Delete,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// Writes one audit row in `tx`. `before`/`after` are snapshots serialised as JSON.
pub async fn record<T: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    action: Action,
    entity: &str,
    entity_id: impl ToString,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<(), DbError> {
    record_many(
        tx,
        actor,
        action,
        entity,
        &[(entity_id.to_string(), before, after)],
    )
    .await
}

/// Writes the audit rows of many changes of the same kind in `tx` (entity
/// id, before, after), a hundred per statement.
pub async fn record_many<T: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    action: Action,
    entity: &str,
    rows: &[(String, Option<&T>, Option<&T>)],
) -> Result<(), DbError> {
    let to_json = |v: Option<&T>| -> Result<Option<String>, DbError> {
        v.map(serde_json::to_string)
            .transpose()
            .map_err(|e| DbError::Other(sqlx::Error::Encode(Box::new(e))))
    };
    let now = crate::clock::now();
    for chunk in rows.chunks(100) {
        let mut json = Vec::with_capacity(chunk.len());
        for (_, before, after) in chunk {
            json.push((to_json(*before)?, to_json(*after)?));
        }
        let sql = format!(
            "insert into audit_log (user_id, actor, action, entity, entity_id, before_json, after_json, created_at, updated_at)
             values {}",
            tx.rows(chunk.len(), 9)
        );
        exec!(tx, |conn| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for ((id, _, _), (before, after)) in chunk.iter().zip(&json) {
                q = q
                    .bind(actor.user_id)
                    .bind(&actor.name)
                    .bind(action.as_str())
                    .bind(entity)
                    .bind(id)
                    .bind(before)
                    .bind(after)
                    .bind(now)
                    .bind(now);
            }
            q.execute(conn).await
        })?;
    }
    Ok(())
}

/// One audit row as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Row id.
    pub id: i64,
    /// When, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// User id, if a user did it.
    pub user_id: Option<i64>,
    /// User or process name.
    pub actor: String,
    /// create, update or delete.
    pub action: String,
    /// Entity kind (`user`, `api_token`, `supplier`...).
    pub entity: String,
    /// Entity id.
    pub entity_id: String,
    /// JSON snapshot before the change.
    pub before_json: Option<String>,
    /// JSON snapshot after the change.
    pub after_json: Option<String>,
}

/// Which audit rows to list.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this entity kind.
    pub entity: Option<String>,
    /// Only this entity id (with `entity`).
    pub entity_id: Option<String>,
    /// Only changes by this user or process name.
    pub actor: Option<String>,
}

const LIST_WHERE: &str = "where (cast($1 as text) is null or entity = $1)
      and (cast($2 as text) is null or entity_id = $2)
      and (cast($3 as text) is null or actor = $3)";

/// A page of audit rows, newest first, and the total that match.
pub async fn list(
    db: &Db,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64), DbError> {
    list_sorted(db, filter, &crate::db::Sort::default(), limit, offset).await
}

/// The columns the audit log sorts by (`key`, SQL).
pub const AUDIT_SORTS: &[(&str, &str)] = &[
    ("when", "created_at"),
    ("actor", "lower(actor)"),
    ("action", "action"),
    ("entity", "entity"),
];

/// As [`list`], in the order of `sort` (a key of [`AUDIT_SORTS`]; else newest first).
pub async fn list_sorted(
    db: &Db,
    filter: &AuditFilter,
    sort: &crate::db::Sort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64), DbError> {
    let order = sort.order_by(AUDIT_SORTS, "id desc", "id");
    let rows_sql = format!(
        "select id, created_at, user_id, actor, action, entity, entity_id, before_json, after_json
         from audit_log {LIST_WHERE} order by {order} limit $4 offset $5"
    );
    let count_sql = format!("select count(*) from audit_log {LIST_WHERE}");
    let rows = on!(db, |pool| {
        sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(rows_sql.clone()))
            .bind(&filter.entity)
            .bind(&filter.entity_id)
            .bind(&filter.actor)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
    })?;
    let total: i64 = on!(db, |pool| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone()))
            .bind(&filter.entity)
            .bind(&filter.entity_id)
            .bind(&filter.actor)
            .fetch_one(pool)
            .await
    })?;
    Ok((rows, total))
}

/// The distinct entity kinds present, for the filter menu.
pub async fn entities(db: &Db) -> Result<Vec<String>, DbError> {
    Ok(on!(db, |pool| {
        sqlx::query_scalar("select distinct entity from audit_log order by entity")
            .fetch_all(pool)
            .await
    })?)
}

/// The audit rows naming any of `records` (entity kind, entity id), newest
/// first, a page of them and the total: the history of one record, which may
/// be audited under several kinds (an asset and its placement).
pub async fn for_records(
    db: &Db,
    records: &[(&str, String)],
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64), DbError> {
    for_records_and_mentions(db, records, &[], limit, offset).await
}

/// Like [`for_records`], plus the rows of another kind whose snapshots name
/// the record: `mentions` are (entity kind, text the `before` or `after`
/// JSON contains), e.g. an asset's swap naming the unit it removed, or an
/// order line deleted from an order (only its `before` names the order).
pub async fn for_records_and_mentions(
    db: &Db,
    records: &[(&str, String)],
    mentions: &[(&str, String)],
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64), DbError> {
    if records.is_empty() && mentions.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let r = records.len();
    let cond = (0..r)
        .map(|i| format!("(entity = ${} and entity_id = ${})", 2 * i + 1, 2 * i + 2))
        .chain((0..mentions.len()).map(|i| {
            format!(
                "(entity = ${0} and (after_json like ${1} escape '\\' or before_json like ${1} escape '\\'))",
                2 * (r + i) + 1,
                2 * (r + i) + 2
            )
        }))
        .collect::<Vec<_>>()
        .join(" or ");
    let n = 2 * (records.len() + mentions.len());
    let patterns: Vec<(&str, String)> = mentions
        .iter()
        .map(|(entity, text)| {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            (*entity, format!("%{escaped}%"))
        })
        .collect();
    let binds: Vec<&(&str, String)> = records.iter().chain(patterns.iter()).collect();
    let rows_sql = format!(
        "select id, created_at, user_id, actor, action, entity, entity_id, before_json, after_json
         from audit_log where {cond} order by id desc limit ${} offset ${}",
        n + 1,
        n + 2
    );
    let count_sql = format!("select count(*) from audit_log where {cond}");
    let rows = on!(db, |pool| {
        let mut q = sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(rows_sql.clone()));
        for (entity, id) in &binds {
            q = q.bind(*entity).bind(id);
        }
        q.bind(limit).bind(offset).fetch_all(pool).await
    })?;
    let total: i64 = on!(db, |pool| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone()));
        for (entity, id) in &binds {
            q = q.bind(*entity).bind(id);
        }
        q.fetch_one(pool).await
    })?;
    Ok((rows, total))
}
