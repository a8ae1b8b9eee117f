//! Work orders: install, move, replace a part, decommission, other.
//!
//! A work order carries the changes it will make (a placement, a part swap,
//! an asset status), a checklist, and a pick list computed from stock that
//! prefers spares at the site of the work. Completing it applies every change
//! in one transaction: all of them, or none.

pub mod alerts;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use tracing::instrument;

use crate::audit::{self, Action, Actor};
use crate::datacenter::{cabling, placement, racks};
use crate::db::{Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::{self, Lang, Msg};
use crate::inventory::{assets, rma};
use crate::{exec_tx, on_db, on_tx};

/// Kinds of work, in menu order.
pub const KINDS: [&str; 5] = ["install", "move", "replace", "decommission", "other"];

/// Statuses, in life order.
pub const STATUSES: [&str; 4] = ["open", "in_progress", "done", "cancelled"];

/// Asset statuses a work order may set.
pub const ASSET_STATUSES: [&str; 6] = [
    "building",
    "burn_in",
    "racked",
    "in_service",
    "maintenance",
    "decommissioned",
];

/// A work order with the names of what it refers to.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WorkOrder {
    /// Id.
    pub id: i64,
    /// install, move, replace, decommission or other.
    pub kind: String,
    /// Short description.
    pub title: String,
    /// Free text.
    pub notes: String,
    /// open, in_progress, done or cancelled.
    pub status: String,
    /// The asset worked on.
    pub asset_id: Option<i64>,
    /// Its tag.
    pub asset_tag: Option<String>,
    /// Who does it.
    pub assignee_id: Option<i64>,
    /// Their display name.
    pub assignee: Option<String>,
    /// When it is due.
    pub due_date: Option<Date>,
    /// Target rack (install, move).
    pub rack_id: Option<i64>,
    /// Target lowest U.
    pub u_position: Option<i64>,
    /// Target face.
    pub face: Option<String>,
    /// Target depth.
    pub depth: Option<String>,
    /// Slot whose part is replaced.
    pub slot_name: Option<String>,
    /// Part model needed (replace).
    pub part_model_id: Option<i64>,
    /// Its MPN.
    pub mpn: Option<String>,
    /// Asset status set on completion.
    pub target_status: Option<String>,
    /// manual, alert or audit.
    pub source: String,
    /// Spare installed on completion.
    pub spare_unit_id: Option<i64>,
    /// Unit removed on completion.
    pub removed_unit_id: Option<i64>,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Completed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
}

impl WorkOrder {
    /// Whether it can still be worked on.
    pub fn is_active(&self) -> bool {
        matches!(self.status.as_str(), "open" | "in_progress")
    }

    /// Whether it is past its due date and not finished.
    pub fn overdue(&self, today: Date) -> bool {
        self.is_active() && self.due_date.is_some_and(|d| d < today)
    }
}

const SELECT: &str = "select w.id, w.kind, w.title, w.notes, w.status, w.asset_id, a.asset_tag,
    w.assignee_id, u.display_name as assignee, w.due_date, w.rack_id, w.u_position, w.face, w.depth,
    w.slot_name, w.part_model_id, m.mpn, w.target_status, w.source, w.spare_unit_id, w.removed_unit_id,
    w.created_at, w.completed_at
    from work_orders w
    left join assets a on a.id = w.asset_id
    left join users u on u.id = w.assignee_id
    left join part_models m on m.id = w.part_model_id";

/// List filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// `active` (open and in progress; the default), a status, or `all`.
    pub status: String,
    /// Only this assignee.
    pub assignee_id: Option<i64>,
    /// Only this asset.
    pub asset_id: Option<i64>,
    /// Words in the title or the asset tag.
    pub q: String,
}

/// Work orders matching a filter, due first (no due date last), one page.
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
    let like = format!("%{}%", f.q.trim().to_lowercase());
    let filter = " where w.status in ($1, $2, $3, $4)
        and ($5 = 0 or w.assignee_id = $6)
        and ($7 = 0 or w.asset_id = $8)
        and (lower(w.title) like $9 or lower(coalesce(a.asset_tag, '')) like $9)";
    let pick = |i: usize| statuses.get(i).copied().unwrap_or(statuses[0]);
    let sql = format!(
        "{SELECT}{filter} order by case when w.due_date is null then 1 else 0 end, w.due_date, w.id limit $10 offset $11"
    );
    let count_sql = format!(
        "select count(*) from work_orders w left join assets a on a.id = w.asset_id{filter}"
    );
    let assignee = f.assignee_id.unwrap_or(0);
    let asset = f.asset_id.unwrap_or(0);
    let rows = on_db!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(pick(0))
            .bind(pick(1))
            .bind(pick(2))
            .bind(pick(3))
            .bind(i64::from(f.assignee_id.is_some()))
            .bind(assignee)
            .bind(i64::from(f.asset_id.is_some()))
            .bind(asset)
            .bind(&like)
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await
    })?;
    let total: i64 = on_db!(db, |p| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.clone()))
            .bind(pick(0))
            .bind(pick(1))
            .bind(pick(2))
            .bind(pick(3))
            .bind(i64::from(f.assignee_id.is_some()))
            .bind(assignee)
            .bind(i64::from(f.asset_id.is_some()))
            .bind(asset)
            .bind(&like)
            .fetch_one(p)
            .await
    })?;
    Ok((rows, total))
}

/// One work order.
pub async fn get(db: &Db, id: i64) -> Result<WorkOrder, DbError> {
    let sql = format!("{SELECT} where w.id = $1");
    Ok(on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

async fn get_tx(tx: &mut Tx, id: i64) -> AppResult<WorkOrder> {
    let sql = format!("{SELECT} where w.id = $1");
    Ok(
        on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_one(c)
            .await)
        .map_err(DbError::from)?,
    )
}

/// A checklist item.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Check {
    /// Id.
    pub id: i64,
    /// What to do.
    pub text: String,
    /// When it was ticked.
    #[serde(with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
    /// By whom.
    pub done_by: Option<String>,
}

/// A work order's checklist, in order.
pub async fn checks(db: &Db, id: i64) -> Result<Vec<Check>, DbError> {
    Ok(on_db!(db, |p| {
        sqlx::query_as(
            "select c.id, c.text, c.done_at, u.display_name as done_by
             from work_order_checks c left join users u on u.id = c.done_by
             where c.work_order_id = $1 order by c.position, c.id",
        )
        .bind(id)
        .fetch_all(p)
        .await
    })?)
}

/// A new work order, as typed in a form or sent to the API. Numbers are
/// strings so a form's empty field is "not given" rather than an error.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct WorkOrderInput {
    /// install, move, replace, decommission or other.
    pub kind: String,
    /// Short description; made from the kind and asset when empty.
    #[serde(default)]
    pub title: String,
    /// Free text.
    #[serde(default)]
    pub notes: String,
    /// Asset tag or hostname (all kinds but `other`).
    #[serde(default)]
    pub asset_tag: String,
    /// User id of the assignee.
    #[serde(default)]
    pub assignee_id: String,
    /// Due date, YYYY-MM-DD.
    #[serde(default)]
    pub due_date: String,
    /// Target rack id (install, move).
    #[serde(default)]
    pub rack_id: String,
    /// Target lowest U (install, move).
    #[serde(default)]
    pub u_position: String,
    /// front or rear (install, move).
    #[serde(default)]
    pub face: String,
    /// full or half (install, move).
    #[serde(default)]
    pub depth: String,
    /// Slot whose part is replaced (replace).
    #[serde(default)]
    pub slot_name: String,
    /// Asset status to set on completion (optional; install and
    /// decommission have defaults).
    #[serde(default)]
    pub target_status: String,
    /// Checklist, one item per line; each kind has a default.
    #[serde(default)]
    pub checklist: String,
}

/// Where a work order came from, with a key that keeps one open work order
/// per alert episode.
#[derive(Clone, Debug)]
pub struct Origin {
    /// manual, alert or audit.
    pub source: &'static str,
    /// For alerts: the same key never opens a second active work order.
    pub dedup_key: Option<String>,
}

impl Default for Origin {
    fn default() -> Self {
        Origin {
            source: "manual",
            dedup_key: None,
        }
    }
}

fn default_checklist(kind: &str, lang: Lang) -> Vec<String> {
    let n = match kind {
        "install" | "move" => 4,
        "replace" => 5,
        "decommission" => 4,
        _ => 0,
    };
    (1..=n)
        .map(|i| i18n::t(lang, &format!("wo_check.{kind}_{i}")).to_owned())
        .collect()
}

struct Resolved {
    asset_id: Option<i64>,
    assignee_id: Option<i64>,
    due_date: Option<Date>,
    rack: Option<racks::Rack>,
    u: Option<i64>,
    part_model_id: Option<i64>,
    target_status: Option<String>,
}

/// Checks one input; `assets` holds the ids of the asset tags and host
/// names the inputs name (see [`assets_by_tag`]).
async fn resolve_input(
    tx: &mut Tx,
    input: &WorkOrderInput,
    assets: &HashMap<String, i64>,
) -> AppResult<Resolved> {
    let mut errors = FieldErrors::default();
    let kind = input.kind.as_str();
    if !KINDS.contains(&kind) {
        errors.add("kind", Msg::new("validation.required"));
        return Err(AppError::Validation(errors));
    }
    let tag = input.asset_tag.trim();
    let asset_id: Option<i64> = if tag.is_empty() {
        if kind != "other" {
            errors.add("asset_tag", Msg::new("validation.required"));
        }
        None
    } else {
        let found = assets.get(tag).copied();
        if found.is_none() {
            errors.add(
                "asset_tag",
                Msg::new("workorder.unknown_asset").arg("tag", tag),
            );
        }
        found
    };
    let assignee_id = match input.assignee_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("assignee_id", Msg::new("validation.required"));
                None
            }
        },
    };
    let due_date = match input.due_date.trim() {
        "" => None,
        s => {
            let d = crate::procurement::fx::parse_date(s);
            if d.is_none() {
                errors.add("due_date", Msg::new("validation.date").arg("value", s));
            }
            d
        }
    };
    let mut rack = None;
    let mut u = None;
    if matches!(kind, "install" | "move") {
        match input.rack_id.trim().parse::<i64>() {
            Ok(id) => match racks::get_tx(tx, id).await {
                Ok(r) => rack = Some(r),
                Err(DbError::NotFound) => errors.add("rack_id", Msg::new("validation.required")),
                Err(e) => return Err(e.into()),
            },
            Err(_) => errors.add("rack_id", Msg::new("validation.required")),
        }
        u = placement::check_position(&input.u_position, &input.face, &input.depth, &mut errors);
    }
    let mut part_model_id = None;
    if kind == "replace" {
        let slot = input.slot_name.trim();
        if slot.is_empty() {
            errors.add("slot_name", Msg::new("validation.required"));
        } else if let Some(asset) = asset_id {
            part_model_id = on_tx!(tx, |c| {
                sqlx::query_scalar(
                    "select part_model_id from units where asset_id = $1 and slot_name = $2 and status = 'installed'",
                )
                .bind(asset)
                .bind(slot)
                .fetch_optional(c)
                .await
            })
        .map_err(DbError::from)?;
            if part_model_id.is_none() {
                errors.add("slot_name", Msg::new("swap.empty_slot").arg("slot", slot));
            }
        }
    }
    let target_status = match (input.target_status.trim(), kind) {
        ("", "install") => Some("in_service".to_owned()),
        ("", "decommission") => Some("decommissioned".to_owned()),
        ("", _) => None,
        (s, _) if ASSET_STATUSES.contains(&s) => Some(s.to_owned()),
        _ => {
            errors.add("target_status", Msg::new("validation.required"));
            None
        }
    };
    errors.into_result()?;
    Ok(Resolved {
        asset_id,
        assignee_id,
        due_date,
        rack,
        u,
        part_model_id,
        target_status,
    })
}

/// Opens a work order. An install or move is tried against the rack at once
/// (and rolled back), so a taken U is refused now rather than at the rack.
/// Returns the id, or the id of the active work order with the same
/// `origin.dedup_key`.
#[instrument(skip_all)]
pub async fn create(
    db: &Db,
    actor: &Actor,
    input: &WorkOrderInput,
    origin: &Origin,
    lang: Lang,
) -> AppResult<i64> {
    let mut tx = db.begin().await?;
    let id = create_tx(&mut tx, actor, input, origin, lang).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create`] in the caller's transaction; on an error the caller rolls back.
pub async fn create_tx(
    tx: &mut Tx,
    actor: &Actor,
    input: &WorkOrderInput,
    origin: &Origin,
    lang: Lang,
) -> AppResult<i64> {
    let ids = create_many_tx(tx, actor, &[(input, origin)], lang).await?;
    ids.into_iter().next().ok_or(AppError::NotFound)
}

/// Work orders per statement where they are read or written together.
const PER_STATEMENT: usize = 100;

/// Opens many work orders in the caller's transaction (health alerts open
/// them in batches). Their assets and dedup keys are looked up, the new ones
/// inserted (those with a dedup key a hundred to a statement, read back by
/// it), their checklists written, and they are read back and audited, a
/// hundred at a time: polling a fleet whose BMCs each raised two alerts spent
/// two statements per work order on this before. Returns each one's id, or
/// the id of the active work order with the same dedup key (also one opened
/// earlier in the same call). On an error the caller rolls back.
pub async fn create_many_tx(
    tx: &mut Tx,
    actor: &Actor,
    items: &[(&WorkOrderInput, &Origin)],
    lang: Lang,
) -> AppResult<Vec<i64>> {
    let keys: Vec<&str> = items
        .iter()
        .filter_map(|(_, o)| o.dedup_key.as_deref())
        .collect();
    let active: HashMap<String, i64> = tx
        .fetch_chunked::<(String, i64), _>(&keys, PER_STATEMENT, |tx, n| {
            format!(
                "select dedup_key, id from work_orders where status in ('open', 'in_progress') and dedup_key in ({})",
                tx.marks(1, n)
            )
        })
        .await?
        .into_iter()
        .collect();
    let tags: Vec<&str> = items.iter().map(|(i, _)| i.asset_tag.trim()).collect();
    let assets = assets_by_tag(tx, &tags).await?;
    // Each item: an active work order's id, or the new row it becomes
    // (two items with one dedup key share a row).
    let mut picks: Vec<Result<i64, usize>> = Vec::with_capacity(items.len());
    let mut rows: Vec<NewRow<'_>> = Vec::new();
    let mut planned: HashMap<&str, usize> = HashMap::new();
    for (input, origin) in items {
        let row = match check_tx(tx, actor, input, origin, &active, &assets, lang).await? {
            Checked::Existing(id) => {
                picks.push(Ok(id));
                continue;
            }
            Checked::New(row) => *row,
        };
        let key = origin.dedup_key.as_deref();
        if let Some(&i) = key.and_then(|k| planned.get(k)) {
            picks.push(Err(i));
            continue;
        }
        if let Some(k) = key {
            planned.insert(k, rows.len());
        }
        picks.push(Err(rows.len()));
        rows.push(row);
    }
    let now = crate::clock::now();
    let created = insert_rows(tx, actor, &rows, now).await?;
    insert_checklists(tx, &rows, &created, now).await?;
    for chunk in created.chunks(PER_STATEMENT) {
        let sql = format!("{SELECT} where w.id in ({})", tx.marks(1, chunk.len()));
        let after: Vec<WorkOrder> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(c).await
        })
        .map_err(DbError::from)?;
        let rows: Vec<(String, Option<&WorkOrder>, Option<&WorkOrder>)> = after
            .iter()
            .map(|w| (w.id.to_string(), None, Some(w)))
            .collect();
        audit::record_many(tx, actor, Action::Create, "work_order", &rows).await?;
    }
    Ok(picks
        .into_iter()
        .map(|p| p.unwrap_or_else(|i| created[i]))
        .collect())
}

/// The id of each asset whose tag or host name is one of `names` in either
/// case, by that name as given; a tag wins over another asset's host name.
/// The database compares them, `lower()` on both sides, folding ASCII only
/// on either engine: SQLite's `lower()` does no more, and on PostgreSQL the
/// columns are `collate "C"` (migration 0023), so the names are lowered in
/// that collation too (in the default one, `Ö` would fold on one side only).
async fn assets_by_tag(tx: &mut Tx, names: &[&str]) -> AppResult<HashMap<String, i64>> {
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

/// A checked work order, ready to insert.
struct NewRow<'a> {
    input: &'a WorkOrderInput,
    origin: &'a Origin,
    resolved: Resolved,
    title: String,
    checklist: Vec<String>,
}

/// An input checked: the active work order with its dedup key, or a new row.
enum Checked<'a> {
    New(Box<NewRow<'a>>),
    Existing(i64),
}

/// Checks one input (an install or move is tried against the rack and
/// undone) and settles its title and checklist.
async fn check_tx<'a>(
    tx: &mut Tx,
    actor: &Actor,
    input: &'a WorkOrderInput,
    origin: &'a Origin,
    active: &HashMap<String, i64>,
    assets: &HashMap<String, i64>,
    lang: Lang,
) -> AppResult<Checked<'a>> {
    let r = resolve_input(tx, input, assets).await?;
    let kind = input.kind.as_str();
    if let (Some(asset), Some(rack), Some(u)) = (r.asset_id, &r.rack, r.u) {
        // Dry run of the placement, undone at once; it is applied for real on completion.
        exec_tx!(tx, |c| sqlx::query("savepoint wo_trial").execute(c).await)
            .map_err(DbError::from)?;
        let tried = placement::place_tx(tx, actor, asset, rack, u, &input.face, &input.depth).await;
        for undo in [
            "rollback to savepoint wo_trial",
            "release savepoint wo_trial",
        ] {
            exec_tx!(tx, |c| sqlx::query(undo).execute(c).await).map_err(DbError::from)?;
        }
        tried?;
    }
    if let Some(id) = origin.dedup_key.as_ref().and_then(|k| active.get(k)) {
        return Ok(Checked::Existing(*id));
    }
    let title = match input.title.trim() {
        "" => {
            let key = format!("wo_kind.{kind}");
            let what = i18n::t(lang, &key);
            let slot = input.slot_name.trim();
            [what, input.asset_tag.trim(), slot]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        }
        t => t.to_owned(),
    };
    let typed: Vec<String> = input
        .checklist
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let checklist = if typed.is_empty() {
        default_checklist(kind, lang)
    } else {
        typed
    };
    Ok(Checked::New(Box::new(NewRow {
        input,
        origin,
        resolved: r,
        title,
        checklist,
    })))
}

/// Inserts `rows` and returns their ids in order: those with a dedup key
/// (unique among active work orders) many to a statement, matched back by
/// it, as neither engine promises the order of `returning`; others one by
/// one.
async fn insert_rows(
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
                face, depth, slot_name, part_model_id, target_status, source, dedup_key, created_by, created_at, updated_at)
             values {} returning id, dedup_key",
            tx.rows(group.len(), 19)
        );
        let back: Vec<(i64, Option<String>)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for &i in group {
                let NewRow {
                    input,
                    origin,
                    resolved: r,
                    title,
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
                    .bind(now);
            }
            q.fetch_all(c).await
        })
        .map_err(DbError::from)?;
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
async fn insert_checklists(
    tx: &mut Tx,
    rows: &[NewRow<'_>],
    ids: &[i64],
    now: OffsetDateTime,
) -> AppResult<()> {
    let items: Vec<(i64, i64, &str)> = rows
        .iter()
        .zip(ids)
        .flat_map(|(row, id)| {
            row.checklist
                .iter()
                .enumerate()
                .map(|(position, text)| (*id, position as i64, text.as_str()))
        })
        .collect();
    for chunk in items.chunks(5 * PER_STATEMENT) {
        let sql = format!(
            "insert into work_order_checks (work_order_id, position, text, created_at, updated_at) values {}",
            tx.rows(chunk.len(), 5)
        );
        exec_tx!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (id, position, text) in chunk {
                q = q.bind(id).bind(position).bind(text).bind(now).bind(now);
            }
            q.execute(c).await
        })
        .map_err(DbError::from)?;
    }
    Ok(())
}

async fn active_tx(tx: &mut Tx, id: i64) -> AppResult<WorkOrder> {
    let wo = get_tx(tx, id).await?;
    if !wo.is_active() {
        return Err(AppError::Conflict(
            Msg::new("workorder.not_active").arg("status", &wo.status),
        ));
    }
    Ok(wo)
}

/// Ticks (or unticks) a checklist item of an active work order.
pub async fn tick(db: &Db, actor: &Actor, id: i64, check_id: i64, done: bool) -> AppResult<()> {
    let mut tx = db.begin().await?;
    active_tx(&mut tx, id).await?;
    let now = crate::clock::now();
    let changed = exec_tx!(&mut tx, |c| {
        sqlx::query(
            "update work_order_checks set done_at = $1, done_by = $2, updated_at = $3 where id = $4 and work_order_id = $5",
        )
        .bind(done.then_some(now))
        .bind(done.then_some(actor.user_id).flatten())
        .bind(now)
        .bind(check_id)
        .bind(id)
        .execute(c)
        .await
    })
    .map_err(DbError::from)?;
    if changed != 1 {
        return Err(AppError::NotFound);
    }
    let note = serde_json::json!({"check": check_id, "done": done});
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "work_order",
        id,
        None,
        Some(&note),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes an active work order's status to `open`, `in_progress` (started)
/// or `cancelled`.
pub async fn set_status(db: &Db, actor: &Actor, id: i64, status: &str) -> AppResult<()> {
    if !matches!(status, "open" | "in_progress" | "cancelled") {
        return Err(AppError::Conflict(
            Msg::new("workorder.not_active").arg("status", status),
        ));
    }
    change(db, actor, id, Some(status), None).await
}

/// Gives an active work order to someone (or to nobody).
pub async fn assign(db: &Db, actor: &Actor, id: i64, assignee_id: Option<i64>) -> AppResult<()> {
    change(db, actor, id, None, Some(assignee_id)).await
}

/// Sets the status and/or the assignee of an active work order, audited.
async fn change(
    db: &Db,
    actor: &Actor,
    id: i64,
    status: Option<&str>,
    assignee: Option<Option<i64>>,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let before = active_tx(&mut tx, id).await?;
    let now = crate::clock::now();
    exec_tx!(&mut tx, |c| {
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
    })
    .map_err(DbError::from)?;
    let after = get_tx(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "work_order",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the technician says when completing.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CompleteInput {
    /// Serial of the spare installed (replace), as scanned.
    #[serde(default)]
    pub spare_serial: String,
    /// What happens to the removed part: `faulty`, `in_stock` or `rma`
    /// (faulty and sent back to its supplier at once).
    #[serde(default)]
    pub removed_to: String,
    /// Stock location for the removed part; the spare's location when empty.
    #[serde(default)]
    pub location_id: String,
}

/// Completes a work order: the swap, the placement (or removal from the
/// rack), and the asset status, all in one transaction with the work order's
/// own status. Any refusal leaves everything as it was.
#[instrument(skip_all, fields(work_order = id))]
pub async fn complete(db: &Db, actor: &Actor, id: i64, input: &CompleteInput) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let wo = active_tx(&mut tx, id).await?;
    let open_checks: i64 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
            "select count(*) from work_order_checks where work_order_id = $1 and done_at is null",
        )
        .bind(id)
        .fetch_one(c)
        .await
    })
    .map_err(DbError::from)?;
    if open_checks > 0 {
        return Err(AppError::Conflict(
            Msg::new("workorder.checks_open").arg("count", open_checks),
        ));
    }
    let mut spare_unit_id = None;
    let mut removed_unit_id = None;
    if let (Some(asset), Some(slot)) = (wo.asset_id, wo.slot_name.as_deref()) {
        let serial = input.spare_serial.trim();
        let removed_to = match input.removed_to.as_str() {
            "" => "faulty",
            s => s,
        };
        let mut errors = FieldErrors::default();
        if serial.is_empty() {
            errors.add("spare_serial", Msg::new("validation.required"));
        }
        if !matches!(removed_to, "faulty" | "in_stock" | "rma") {
            errors.add("removed_to", Msg::new("validation.required"));
        }
        errors.into_result()?;
        let spare: Option<(i64, Option<i64>)> = on_tx!(&mut tx, |c| {
            sqlx::query_as("select id, location_id from units where serial = $1")
                .bind(serial)
                .fetch_optional(c)
                .await
        })
        .map_err(DbError::from)?;
        let location = match input.location_id.trim().parse::<i64>() {
            Ok(l) => Some(l),
            Err(_) => spare.and_then(|(_, l)| l),
        };
        let Some(location_id) = location else {
            let mut f = FieldErrors::default();
            f.add("location_id", Msg::new("validation.required"));
            return Err(AppError::Validation(f));
        };
        let swap = assets::SwapInput {
            slot_name: slot.to_owned(),
            new_serial: serial.to_owned(),
            old_to: if removed_to == "in_stock" {
                "in_stock".into()
            } else {
                "faulty".into()
            },
            location_id,
        };
        let removed = assets::swap_tx(&mut tx, actor, asset, &swap).await?;
        if removed_to == "rma" {
            let removed_serial: String = on_tx!(&mut tx, |c| {
                sqlx::query_scalar("select serial from units where id = $1")
                    .bind(removed)
                    .fetch_one(c)
                    .await
            })
            .map_err(DbError::from)?;
            let open = rma::OpenInput {
                serial: removed_serial,
                reason: wo.title.clone(),
            };
            rma::open_tx(&mut tx, actor, &open).await?;
        }
        spare_unit_id = spare.map(|(u, _)| u);
        removed_unit_id = Some(removed);
    }
    if let Some(asset) = wo.asset_id {
        match (wo.kind.as_str(), wo.rack_id, wo.u_position) {
            ("install" | "move", Some(rack_id), Some(u)) => {
                let rack = racks::get_tx(&mut tx, rack_id).await?;
                let face = wo.face.as_deref().unwrap_or("front");
                let depth = wo.depth.as_deref().unwrap_or("full");
                placement::place_tx(&mut tx, actor, asset, &rack, u, face, depth).await?;
            }
            ("decommission", _, _) => {
                cabling::disconnect_asset_tx(&mut tx, actor, asset).await?;
                placement::unplace_tx(&mut tx, actor, asset).await?;
            }
            _ => {}
        }
        if let Some(status) = wo.target_status.as_deref() {
            let now = crate::clock::now();
            exec_tx!(&mut tx, |c| {
                sqlx::query("update assets set status = $1, updated_at = $2 where id = $3")
                    .bind(status)
                    .bind(now)
                    .bind(asset)
                    .execute(c)
                    .await
            })
            .map_err(DbError::from)?;
        }
    }
    let now = crate::clock::now();
    let done = exec_tx!(&mut tx, |c| {
        sqlx::query(
            "update work_orders set status = 'done', completed_by = $1, completed_at = $2, spare_unit_id = $3,
                removed_unit_id = $4, updated_at = $2 where id = $5 and status in ('open', 'in_progress')",
        )
        .bind(actor.user_id)
        .bind(now)
        .bind(spare_unit_id)
        .bind(removed_unit_id)
        .bind(id)
        .execute(c)
        .await
    })
    .map_err(DbError::from)?;
    if done != 1 {
        return Err(AppError::Conflict(
            Msg::new("workorder.not_active").arg("status", &wo.status),
        ));
    }
    let after = get_tx(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "work_order",
        id,
        Some(&wo),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One spare that could serve a work order.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Spare {
    /// Unit id.
    pub unit_id: i64,
    /// Serial.
    pub serial: String,
    /// MPN.
    pub mpn: String,
    /// Stock location id.
    pub location_id: Option<i64>,
    /// Location path (`Seoul / Cage 3 / Shelf 2`).
    #[sqlx(skip)]
    pub location: String,
    /// Site of that location, if known.
    #[sqlx(skip)]
    pub site: Option<String>,
    /// Whether it is at the site of the work.
    #[sqlx(skip)]
    pub same_site: bool,
}

/// What to bring: for a replacement, spares of the needed part model in stock,
/// those at the site of the work first, then the oldest; at most `limit`.
pub async fn pick_list(db: &Db, wo: &WorkOrder, limit: usize) -> AppResult<Vec<Spare>> {
    let Some(part) = wo.part_model_id else {
        return Ok(Vec::new());
    };
    spares_for(db, part, wo.rack_id, wo.asset_id, limit).await
}

/// Spares of a part model in stock for work at a rack (or at the rack an
/// asset is in): those at the same site first, then the oldest.
pub async fn spares_for(
    db: &Db,
    part_model_id: i64,
    rack_id: Option<i64>,
    asset_id: Option<i64>,
    limit: usize,
) -> AppResult<Vec<Spare>> {
    let mut spares: Vec<Spare> = on_db!(db, |p| {
        sqlx::query_as(
            "select u.id as unit_id, u.serial, m.mpn, u.location_id from units u join part_models m on m.id = u.part_model_id
             where u.part_model_id = $1 and u.status = 'in_stock' order by u.id",
        )
        .bind(part_model_id)
        .fetch_all(p)
        .await
    })
    .map_err(DbError::from)?;
    let work_site = site_of_work(db, rack_id, asset_id).await?;
    let places = location_sites(db).await?;
    for s in &mut spares {
        if let Some((path, site_id, site)) = s.location_id.and_then(|l| places.get(&l)) {
            s.location = path.clone();
            s.site = site.clone();
            s.same_site = work_site.is_some() && *site_id == work_site;
        }
    }
    // Stable: same site first, then the order above (oldest unit first).
    spares.sort_by_key(|s| !s.same_site);
    spares.truncate(limit);
    Ok(spares)
}

/// The datacenter site the work happens at: the target rack's, else where the
/// asset is placed.
async fn site_of_work(
    db: &Db,
    rack_id: Option<i64>,
    asset_id: Option<i64>,
) -> AppResult<Option<i64>> {
    let rack_id = match (rack_id, asset_id) {
        (Some(r), _) => Some(r),
        (None, Some(a)) => placement::of_asset(db, a).await?.map(|p| p.rack_id),
        _ => None,
    };
    match rack_id {
        Some(r) => Ok(Some(racks::get(db, r).await?.site_id)),
        None => Ok(None),
    }
}

/// id, parent, name, site id, site name.
type LocationRow = (i64, Option<i64>, String, Option<i64>, Option<String>);

/// Every stock location's path and the site it belongs to (its own, or the
/// nearest ancestor's).
pub async fn location_sites(
    db: &Db,
) -> Result<HashMap<i64, (String, Option<i64>, Option<String>)>, DbError> {
    let rows: Vec<LocationRow> = on_db!(db, |p| {
        sqlx::query_as(
            "select l.id, l.parent_id, l.name, l.site_id, s.name from stock_locations l left join sites s on s.id = l.site_id",
        )
        .fetch_all(p)
        .await
    })?;
    let by_id: HashMap<i64, &LocationRow> = rows.iter().map(|r| (r.0, r)).collect();
    let mut out = HashMap::new();
    for r in &rows {
        let mut names = Vec::new();
        let mut site: Option<(i64, Option<String>)> = None;
        let mut cur = Some(r);
        let mut guard = 0;
        while let Some(node) = cur {
            names.push(node.2.clone());
            if site.is_none()
                && let Some(s) = node.3
            {
                site = Some((s, node.4.clone()));
            }
            guard += 1;
            cur = node
                .1
                .and_then(|p| by_id.get(&p).copied())
                .filter(|_| guard < 32);
        }
        names.reverse();
        let (site_id, site_name) = site.map_or((None, None), |(i, n)| (Some(i), n));
        out.insert(r.0, (names.join(" / "), site_id, site_name));
    }
    Ok(out)
}

/// Active work orders for an asset (shown on its page).
pub async fn active_for_asset(db: &Db, asset_id: i64) -> Result<Vec<WorkOrder>, DbError> {
    let f = Filter {
        asset_id: Some(asset_id),
        ..Filter::default()
    };
    Ok(list(db, &f, 50, 0).await?.0)
}

/// People a work order can be given to: enabled administrators and technicians.
pub async fn assignable_users(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    Ok(on_db!(db, |p| {
        sqlx::query_as(
            "select id, display_name from users where disabled = false and role in ('admin', 'technician') order by display_name",
        )
        .fetch_all(p)
        .await
    })?)
}
