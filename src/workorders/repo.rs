//! Queries for work orders and their checklists, written once for both
//! engines; and the few reads and writes of other tables a work order makes
//! (its asset's status, the units it swaps, the users it can be given to).

use std::collections::HashMap;

use time::OffsetDateTime;

use super::model::{Check, Filter, NewRow, Pull, STATUSES, Spare, WorkOrder, notes_json};
use crate::audit::Actor;
use crate::db::{Conn, Db, DbError, Tx};
use crate::error::{AppError, AppResult};
use crate::i18n::Msg;
use crate::{exec, on};

/// Work orders per statement where they are read or written together.
pub(super) const PER_STATEMENT: usize = 100;

const SELECT: &str = "select w.id, w.kind, w.title, w.notes, w.title_msg, w.notes_msg, w.status, w.asset_id, a.asset_tag,
    w.assignee_id, u.display_name as assignee, w.due_date, w.rack_id, w.u_position, w.face, w.depth,
    w.slot_name, w.part_model_id, m.mpn, w.target_status, w.source, w.spare_unit_id, w.removed_unit_id,
    w.created_at, w.completed_at, w.outcome
    from work_orders w
    left join assets a on a.id = w.asset_id
    left join users u on u.id = w.assignee_id
    left join part_models m on m.id = w.part_model_id";

/// The columns the work order list sorts by (`key`, SQL).
pub const WO_SORTS: &[(&str, &str)] = &[
    ("id", "w.id"),
    ("title", "lower(w.title)"),
    ("kind", "w.kind"),
    ("asset", "lower(a.asset_tag)"),
    ("assignee", "lower(u.display_name)"),
    ("due", "w.due_date"),
    ("status", "w.status"),
];

/// Work orders matching a filter, due first (no due date last) unless
/// sorted otherwise, one page.
pub async fn list(
    db: &Db,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<WorkOrder>, i64), DbError> {
    let statuses: Vec<&str> = match f.status.as_str() {
        "all" => STATUSES.to_vec(),
        s if STATUSES.contains(&s) => vec![s],
        _ => vec!["open", "in_progress"],
    };
    let like = crate::db::like_contains(f.q.trim());
    let filter = " where w.status in ($1, $2, $3, $4)
        and ($5 = 0 or ($5 = 1 and w.assignee_id = $6) or ($5 = 2 and w.assignee_id is null))
        and ($7 = 0 or w.asset_id = $8)
        and (lower(w.title) like $9 escape '\\' or lower(coalesce(a.asset_tag, '')) like $9 escape '\\')
        and ($10 = 0 or exists (select 1 from racks k join rack_rows kr on kr.id = k.row_id
            join rooms ko on ko.id = kr.room_id where ko.site_id = $10
            and (k.id = w.rack_id or (w.rack_id is null
                and k.id in (select pl.rack_id from placements pl where pl.asset_id = w.asset_id)))))";
    let pick = |i: usize| statuses.get(i).copied().unwrap_or(statuses[0]);
    let order = f.sort.order_by(
        WO_SORTS,
        "case when w.due_date is null then 1 else 0 end, w.due_date",
        "w.id",
    );
    let sql = format!("{SELECT}{filter} order by {order} limit $11 offset $12");
    let count_sql = format!(
        "select count(*) from work_orders w left join assets a on a.id = w.asset_id{filter}"
    );
    let assignee = f.assignee_id.unwrap_or(0);
    let assignee_mode: i64 = match (f.assignee_id, f.unassigned) {
        (Some(_), _) => 1,
        (None, true) => 2,
        (None, false) => 0,
    };
    let asset = f.asset_id.unwrap_or(0);
    let site = f.site_id.unwrap_or(0);
    let rows = on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(pick(0))
            .bind(pick(1))
            .bind(pick(2))
            .bind(pick(3))
            .bind(assignee_mode)
            .bind(assignee)
            .bind(i64::from(f.asset_id.is_some()))
            .bind(asset)
            .bind(&like)
            .bind(site)
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await
    })?;
    let total: i64 = on!(db, |p| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone()))
            .bind(pick(0))
            .bind(pick(1))
            .bind(pick(2))
            .bind(pick(3))
            .bind(assignee_mode)
            .bind(assignee)
            .bind(i64::from(f.asset_id.is_some()))
            .bind(asset)
            .bind(&like)
            .bind(site)
            .fetch_one(p)
            .await
    })?;
    Ok((rows, total))
}

/// One work order.
pub async fn get(db: impl Into<Conn<'_>>, id: i64) -> Result<WorkOrder, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("{SELECT} where w.id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// The work orders with these ids (at most [`PER_STATEMENT`] of them), in
/// no promised order.
pub(super) async fn get_many(tx: &mut Tx, ids: &[i64]) -> Result<Vec<WorkOrder>, DbError> {
    let sql = format!("{SELECT} where w.id in ({})", tx.marks(1, ids.len()));
    Ok(on!(tx, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })?)
}

/// The id of the active (open or in progress) work order with each of
/// these dedup keys, by key.
pub(super) async fn active_by_dedup_key(
    tx: &mut Tx,
    keys: &[&str],
) -> Result<HashMap<String, i64>, DbError> {
    Ok(tx
        .fetch_chunked::<(String, i64), _>(keys, PER_STATEMENT, |tx, n| {
            format!(
                "select dedup_key, id from work_orders where status in ('open', 'in_progress') and dedup_key in ({})",
                tx.marks(1, n)
            )
        })
        .await?
        .into_iter()
        .collect())
}

/// A work order's checklist, in order.
pub async fn checks(db: &Db, id: i64) -> Result<Vec<Check>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select c.id, c.text, c.text_msg, c.done_at, u.display_name as done_by
             from work_order_checks c left join users u on u.id = c.done_by
             where c.work_order_id = $1 order by c.position, c.id",
        )
        .bind(id)
        .fetch_all(p)
        .await
    })?)
}

/// The id of each asset whose tag or host name is one of `names` in either
/// case, by that name as given; a tag wins over another asset's host name.
/// The database compares them, `lower()` on both sides, folding ASCII only
/// on either engine: SQLite's `lower()` does no more, and on PostgreSQL the
/// columns are `collate "C"` (migration 0023), so the names are lowered in
/// that collation too (in the default one, `Ö` would fold on one side only).
pub(super) async fn assets_by_tag(
    tx: &mut Tx,
    names: &[&str],
) -> Result<HashMap<String, i64>, DbError> {
    let c = tx.collate_c();
    let mut wanted: Vec<&str> = names.iter().copied().filter(|n| !n.is_empty()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found: Vec<(String, i64, i64)> = tx
        .fetch_chunked(&wanted, PER_STATEMENT, |tx, n| {
            format!(
                "with n (name) as (values {})
                 select n.name, a.id, cast(0 as bigint) from n
                   join assets a on lower(a.asset_tag) = lower(n.name{c})
                 union all
                 select n.name, a.id, cast(1 as bigint) from n
                   join assets a on lower(a.hostname) = lower(n.name{c})",
                tx.rows(n, 1)
            )
        })
        .await?;
    // Tags first: a host name only names an asset no tag names.
    found.sort_by_key(|(_, _, by_host)| *by_host);
    let mut by_name = HashMap::new();
    for (name, id, _) in found {
        by_name.entry(name).or_insert(id);
    }
    Ok(by_name)
}

/// The part model installed in an asset's slot, if any.
pub(super) async fn slot_part_model(
    tx: &mut Tx,
    asset_id: i64,
    slot: &str,
) -> Result<Option<i64>, DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "select part_model_id from units where asset_id = $1 and slot_name = $2 and status = 'installed'",
        )
        .bind(asset_id)
        .bind(slot)
        .fetch_optional(c)
        .await
    })?)
}

/// The unit installed in an asset's slot, with its serial.
pub(super) async fn installed_in_slot(
    db: &Db,
    asset_id: i64,
    slot: &str,
) -> Result<Option<Pull>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select id as unit_id, serial, slot_name from units where asset_id = $1 and slot_name = $2 and status = 'installed'",
        )
        .bind(asset_id)
        .bind(slot)
        .fetch_optional(p)
        .await
    })?)
}

/// Inserts `rows` and returns their ids in order: those with a dedup key
/// (unique among active work orders) many to a statement, matched back by
/// it, as neither engine promises the order of `returning`; others one by
/// one.
pub(super) async fn insert_rows(
    tx: &mut Tx,
    actor: &Actor,
    rows: &[NewRow<'_>],
    now: OffsetDateTime,
) -> AppResult<Vec<i64>> {
    let (keyed, single): (Vec<usize>, Vec<usize>) =
        (0..rows.len()).partition(|&i| rows[i].origin.dedup_key.is_some());
    let groups = keyed.chunks(PER_STATEMENT).chain(single.chunks(1));
    let mut ids = vec![0; rows.len()];
    for group in groups {
        let sql = format!(
            "insert into work_orders (kind, title, notes, status, asset_id, assignee_id, due_date, rack_id, u_position,
                face, depth, slot_name, part_model_id, target_status, source, dedup_key, created_by, created_at, updated_at,
                title_msg, notes_msg)
             values {} returning id, dedup_key",
            tx.rows(group.len(), 21)
        );
        let back: Vec<(i64, Option<String>)> = on!(tx, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for &i in group {
                let NewRow {
                    input,
                    origin,
                    resolved: r,
                    title,
                    title_msg,
                    ..
                } = &rows[i];
                let kind = input.kind.as_str();
                let placement_fields = r.rack.is_some();
                q = q
                    .bind(kind)
                    .bind(title)
                    .bind(input.notes.trim())
                    .bind("open")
                    .bind(r.asset_id)
                    .bind(r.assignee_id)
                    .bind(r.due_date)
                    .bind(r.rack.as_ref().map(|x| x.id))
                    .bind(r.u)
                    .bind(placement_fields.then_some(input.face.as_str()))
                    .bind(placement_fields.then_some(input.depth.as_str()))
                    .bind((kind == "replace").then(|| input.slot_name.trim()))
                    .bind(r.part_model_id)
                    .bind(r.target_status.as_deref())
                    .bind(origin.source)
                    .bind(origin.dedup_key.as_deref())
                    .bind(actor.user_id)
                    .bind(now)
                    .bind(now)
                    .bind(title_msg.as_ref().map(Msg::to_json))
                    .bind(notes_json(&input.notes_msg));
            }
            q.fetch_all(c).await
        })?;
        if let ([i], [(id, _)]) = (group, back.as_slice()) {
            ids[*i] = *id;
            continue;
        }
        let by_key: HashMap<Option<String>, i64> =
            back.into_iter().map(|(id, k)| (k, id)).collect();
        for &i in group {
            ids[i] = *by_key.get(&rows[i].origin.dedup_key).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "a new work order was not read back by its key"
                ))
            })?;
        }
    }
    Ok(ids)
}

/// The checklists of new work orders (`ids` in the order of `rows`), a few
/// hundred items to a statement.
pub(super) async fn insert_checklists(
    tx: &mut Tx,
    rows: &[NewRow<'_>],
    ids: &[i64],
    now: OffsetDateTime,
) -> Result<(), DbError> {
    let items: Vec<(i64, i64, &str, Option<String>)> = rows
        .iter()
        .zip(ids)
        .flat_map(|(row, id)| {
            row.checklist
                .iter()
                .enumerate()
                .map(|(position, (text, msg))| {
                    (
                        *id,
                        position as i64,
                        text.as_str(),
                        msg.as_ref().map(Msg::to_json),
                    )
                })
        })
        .collect();
    for chunk in items.chunks(5 * PER_STATEMENT) {
        let sql = format!(
            "insert into work_order_checks (work_order_id, position, text, created_at, updated_at, text_msg) values {}",
            tx.rows(chunk.len(), 6)
        );
        exec!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (id, position, text, msg) in chunk {
                q = q
                    .bind(id)
                    .bind(position)
                    .bind(text)
                    .bind(now)
                    .bind(now)
                    .bind(msg);
            }
            q.execute(c).await
        })?;
    }
    Ok(())
}

/// Ticks a checklist item of a work order (`done_at` set), or unticks it
/// (`done_at` none); returns the rows changed (0 when the item is not that
/// work order's).
pub(super) async fn set_check(
    tx: &mut Tx,
    id: i64,
    check_id: i64,
    done_at: Option<OffsetDateTime>,
    done_by: Option<i64>,
    now: OffsetDateTime,
) -> Result<u64, DbError> {
    Ok(exec!(tx, |c| {
        sqlx::query(
            "update work_order_checks set done_at = $1, done_by = $2, updated_at = $3 where id = $4 and work_order_id = $5",
        )
        .bind(done_at)
        .bind(done_by)
        .bind(now)
        .bind(check_id)
        .bind(id)
        .execute(c)
        .await
    })?)
}

/// How many checklist items of a work order are not ticked.
pub(super) async fn open_checks(tx: &mut Tx, id: i64) -> Result<i64, DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "select count(*) from work_order_checks where work_order_id = $1 and done_at is null",
        )
        .bind(id)
        .fetch_one(c)
        .await
    })?)
}

/// Sets a work order's status (when given) and its assignee (when given,
/// possibly to nobody).
pub(super) async fn update_status_assignee(
    tx: &mut Tx,
    id: i64,
    status: Option<&str>,
    assignee: Option<Option<i64>>,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query(
            "update work_orders set status = coalesce($1, status),
                assignee_id = case when $2 then $3 else assignee_id end, updated_at = $4 where id = $5",
        )
        .bind(status)
        .bind(assignee.is_some())
        .bind(assignee.flatten())
        .bind(now)
        .bind(id)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Marks an active work order done, with the units it swapped; returns the
/// rows changed (0 when it is no longer active).
pub(super) async fn mark_done(
    tx: &mut Tx,
    id: i64,
    completed_by: Option<i64>,
    spare_unit_id: Option<i64>,
    removed_unit_id: Option<i64>,
    now: OffsetDateTime,
) -> Result<u64, DbError> {
    Ok(exec!(tx, |c| {
        sqlx::query(
            "update work_orders set status = 'done', completed_by = $1, completed_at = $2, spare_unit_id = $3,
                removed_unit_id = $4, updated_at = $2 where id = $5 and status in ('open', 'in_progress')",
        )
        .bind(completed_by)
        .bind(now)
        .bind(spare_unit_id)
        .bind(removed_unit_id)
        .bind(id)
        .execute(c)
        .await
    })?)
}

/// Marks an active work order done with `outcome` (no swap, no placement).
pub(super) async fn mark_outcome(
    tx: &mut Tx,
    id: i64,
    completed_by: Option<i64>,
    outcome: &str,
    now: OffsetDateTime,
) -> Result<u64, DbError> {
    Ok(exec!(tx, |c| {
        sqlx::query(
            "update work_orders set status = 'done', outcome = $1, completed_by = $2, completed_at = $3,
                updated_at = $3 where id = $4 and status in ('open', 'in_progress')",
        )
        .bind(outcome)
        .bind(completed_by)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
    })?)
}

/// The id and stock location of the spare with this serial (in any case,
/// one in stock first: `units::find_by_serial`); `None` unless in stock.
pub(super) async fn unit_by_serial(
    tx: &mut Tx,
    serial: &str,
) -> Result<Option<(i64, Option<i64>)>, DbError> {
    use crate::inventory::units::{self, UnitStatus};
    let Some(id) = units::find_by_serial(tx, serial, UnitStatus::InStock).await? else {
        return Ok(None);
    };
    Ok(on!(tx, |c| {
        sqlx::query_as("select id, location_id from units where id = $1 and status = $2")
            .bind(id)
            .bind(UnitStatus::InStock)
            .fetch_optional(c)
            .await
    })?)
}

/// A unit's serial.
pub(super) async fn unit_serial(tx: &mut Tx, unit_id: i64) -> Result<String, DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("select serial from units where id = $1")
            .bind(unit_id)
            .fetch_one(c)
            .await
    })?)
}

/// Units of a part model in stock, oldest first, with their MPN and
/// location id (the location's path and site are filled in later).
pub(super) async fn spares_in_stock(db: &Db, part_model_id: i64) -> Result<Vec<Spare>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select u.id as unit_id, u.serial, m.mpn, u.location_id from units u join part_models m on m.id = u.part_model_id
             where u.part_model_id = $1 and u.status = 'in_stock' order by u.id",
        )
        .bind(part_model_id)
        .fetch_all(p)
        .await
    })?)
}

/// People a work order can be given to: enabled administrators and technicians.
pub async fn assignable_users(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select id, display_name from users where disabled = false and role in ('admin', 'technician') order by display_name",
        )
        .fetch_all(p)
        .await
    })?)
}
