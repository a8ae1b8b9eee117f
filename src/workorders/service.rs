//! Work order rules and transactions: opening (one or a batch, with dedup
//! keys for alerts), the checklist, status and assignee, and completion,
//! which applies every change in one transaction.

use std::collections::HashMap;

use tracing::instrument;

use super::model::{
    ASSET_STATUSES, CompleteInput, Filter, KINDS, NewRow, Origin, Resolved, WorkOrder,
    WorkOrderInput,
};
use super::picking::{self, Places};
use super::repo::{self, PER_STATEMENT};
use crate::audit::{self, Action, Actor};
use crate::datacenter::{cabling, placement, racks};
use crate::db::{self, Conn, Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::exec;
use crate::i18n::{Lang, Msg};
use crate::inventory::{assets, rma};

fn default_checklist(kind: &str, lang: Lang) -> Vec<(String, Option<Msg>)> {
    let n = match kind {
        "install" | "move" => 4,
        "replace" => 5,
        "decommission" => 4,
        _ => 0,
    };
    (1..=n)
        .map(|i| {
            let m = Msg::new(format!("wo_check.{kind}_{i}"));
            (m.render(lang), Some(m))
        })
        .collect()
}

/// The title a work order gets when none is typed: its kind, asset and slot.
fn made_title(kind: &str, tag: &str, slot: &str) -> Msg {
    let key = match (tag.is_empty(), slot.is_empty()) {
        (true, _) => "wo_title.kind",
        (false, true) => "wo_title.kind_tag",
        (false, false) => "wo_title.kind_tag_slot",
    };
    Msg::new(key)
        .arg_code("kind", "wo_kind", kind)
        .arg("tag", tag)
        .arg("slot", slot)
}

/// Checks one input; `assets` holds the ids of the asset tags and host
/// names the inputs name (see [`repo::assets_by_tag`]).
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
            Ok(id) => match racks::get(&mut *tx, id).await {
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
            part_model_id = repo::slot_part_model(tx, asset, slot).await?;
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
    db: impl Into<Conn<'_>>,
    actor: &Actor,
    input: &WorkOrderInput,
    origin: &Origin,
    lang: Lang,
) -> AppResult<i64> {
    let mut work = db::work(db).await?;
    let tx: &mut Tx = &mut work;
    let ids = create_many(tx, actor, &[(input, origin)], lang).await?;
    let id = ids.into_iter().next().ok_or(AppError::NotFound)?;
    work.commit().await?;
    Ok(id)
}

/// Opens many work orders in the caller's transaction (health alerts open
/// them in batches). Their assets and dedup keys are looked up, the new ones
/// inserted (those with a dedup key a hundred to a statement, read back by
/// it), their checklists written, and they are read back and audited, a
/// hundred at a time: polling a fleet whose BMCs each raised two alerts spent
/// two statements per work order on this before. Returns each one's id, or
/// the id of the active work order with the same dedup key (also one opened
/// earlier in the same call). On an error the caller rolls back.
pub async fn create_many(
    tx: &mut Tx,
    actor: &Actor,
    items: &[(&WorkOrderInput, &Origin)],
    lang: Lang,
) -> AppResult<Vec<i64>> {
    let keys: Vec<&str> = items
        .iter()
        .filter_map(|(_, o)| o.dedup_key.as_deref())
        .collect();
    let active = repo::active_by_dedup_key(tx, &keys).await?;
    let tags: Vec<&str> = items.iter().map(|(i, _)| i.asset_tag.trim()).collect();
    let assets = repo::assets_by_tag(tx, &tags).await?;
    // Each item: an active work order's id, or the new row it becomes
    // (two items with one dedup key share a row).
    let mut picks: Vec<Result<i64, usize>> = Vec::with_capacity(items.len());
    let mut rows: Vec<NewRow<'_>> = Vec::new();
    let mut planned: HashMap<&str, usize> = HashMap::new();
    for (input, origin) in items {
        let row = match check(tx, actor, input, origin, &active, &assets, lang).await? {
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
    let created = repo::insert_rows(tx, actor, &rows, now).await?;
    repo::insert_checklists(tx, &rows, &created, now).await?;
    for chunk in created.chunks(PER_STATEMENT) {
        let after = repo::get_many(tx, chunk).await?;
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

/// An input checked: the active work order with its dedup key, or a new row.
enum Checked<'a> {
    New(Box<NewRow<'a>>),
    Existing(i64),
}

/// Checks one input (an install or move is tried against the rack and
/// undone) and settles its title and checklist.
async fn check<'a>(
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
        exec!(tx, |c| sqlx::query("savepoint wo_trial").execute(c).await)?;
        let tried = placement::place_at(tx, actor, asset, rack, u, &input.face, &input.depth).await;
        for undo in [
            "rollback to savepoint wo_trial",
            "release savepoint wo_trial",
        ] {
            exec!(tx, |c| sqlx::query(undo).execute(c).await)?;
        }
        tried?;
    }
    if let Some(id) = origin.dedup_key.as_ref().and_then(|k| active.get(k)) {
        return Ok(Checked::Existing(*id));
    }
    // What the application writes is kept as a message for every reader;
    // what a user typed stays as typed.
    let (title, title_msg) = match (input.title.trim(), &input.title_msg) {
        ("", _) => {
            let m = made_title(kind, input.asset_tag.trim(), input.slot_name.trim());
            (m.render(lang), Some(m))
        }
        (t, m) => (t.to_owned(), m.clone()),
    };
    let typed: Vec<(String, Option<Msg>)> = input
        .checklist
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| (l.to_owned(), None))
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
        title_msg,
        checklist,
    })))
}
async fn active(tx: &mut Tx, id: i64) -> AppResult<WorkOrder> {
    let wo = repo::get(&mut *tx, id).await?;
    if !wo.is_active() {
        return Err(AppError::Conflict(
            Msg::new("workorder.not_active").arg_code("status", "wo_status", &wo.status),
        ));
    }
    Ok(wo)
}

/// Ticks (or unticks) a checklist item of an active work order.
pub async fn tick(db: &Db, actor: &Actor, id: i64, check_id: i64, done: bool) -> AppResult<()> {
    let mut tx = db.begin().await?;
    active(&mut tx, id).await?;
    let now = crate::clock::now();
    let done_by = done.then_some(actor.user_id).flatten();
    let changed = repo::set_check(&mut tx, id, check_id, done.then_some(now), done_by, now).await?;
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
            Msg::new("workorder.not_active").arg_code("status", "wo_status", status),
        ));
    }
    change(db, actor, id, Some(status), None).await
}

/// Gives an active work order to someone (or to nobody).
pub async fn assign(db: &Db, actor: &Actor, id: i64, assignee_id: Option<i64>) -> AppResult<()> {
    change(db, actor, id, None, Some(assignee_id)).await
}

/// The assignee change when `actor` starts or completes a work order: the
/// person doing it, when nobody is assigned.
fn taker(wo: &WorkOrder, actor: &Actor) -> Option<Option<i64>> {
    match (wo.assignee_id, actor.user_id) {
        (None, Some(user)) => Some(Some(user)),
        _ => None,
    }
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
    let before = active(&mut tx, id).await?;
    let now = crate::clock::now();
    // Whoever starts an unassigned work order takes it.
    let assignee = match (status, assignee) {
        (Some("in_progress"), None) => taker(&before, actor),
        (_, a) => a,
    };
    repo::update_status_assignee(&mut tx, id, status, assignee, now).await?;
    let after = repo::get(&mut tx, id).await?;
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

/// Completes a work order: the swap, the placement (or removal from the
/// rack), and the asset status, all in one transaction with the work order's
/// own status. Any refusal leaves everything as it was.
#[instrument(skip_all, fields(work_order = id))]
pub async fn complete(db: &Db, actor: &Actor, id: i64, input: &CompleteInput) -> AppResult<()> {
    // Where the removed part may go is read before the transaction.
    let asset_id = repo::get(db, id).await?.asset_id;
    let places = Places::load(db, asset_id).await?;
    let mut tx = db.begin().await?;
    let wo = active(&mut tx, id).await?;
    let open_checks = repo::open_checks(&mut tx, id).await?;
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
        // A serial not in stock (a scan appended to another, a typo) is
        // named at the field it was typed in.
        let Some((spare_id, spare_at)) = repo::unit_by_serial(&mut tx, serial).await? else {
            let mut f = FieldErrors::default();
            f.add("spare_serial", picking::not_a_spare(&mut tx, serial).await?);
            return Err(AppError::Validation(f));
        };
        let location_id = places.removed_to(&input.location_id, spare_at)?;
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
        let removed = assets::swap(&mut tx, actor, asset, &swap).await?;
        if removed_to == "rma" {
            let removed_serial = repo::unit_serial(&mut tx, removed).await?;
            let open = rma::OpenInput {
                serial: removed_serial,
                reason: wo.title.clone(),
            };
            rma::open(&mut tx, actor, &open).await?;
        }
        spare_unit_id = Some(spare_id);
        removed_unit_id = Some(removed);
    }
    if let Some(asset) = wo.asset_id {
        match (wo.kind.as_str(), wo.rack_id, wo.u_position) {
            ("install" | "move", Some(rack_id), Some(u)) => {
                let rack = racks::get(&mut tx, rack_id).await?;
                let face = wo.face.as_deref().unwrap_or("front");
                let depth = wo.depth.as_deref().unwrap_or("full");
                placement::place_at(&mut tx, actor, asset, &rack, u, face, depth).await?;
            }
            ("decommission", _, _) => {
                cabling::disconnect_asset(&mut tx, actor, asset).await?;
                placement::unplace(&mut tx, actor, asset).await?;
            }
            _ => {}
        }
        if let Some(status) = wo.target_status.as_deref() {
            let now = crate::clock::now();
            assets::set_status(&mut tx, asset, status, now).await?;
        }
    }
    let now = crate::clock::now();
    if let Some(who) = taker(&wo, actor) {
        repo::update_status_assignee(&mut tx, id, None, Some(who), now).await?;
    }
    let done = repo::mark_done(
        &mut tx,
        id,
        actor.user_id,
        spare_unit_id,
        removed_unit_id,
        now,
    )
    .await?;
    if done != 1 {
        return Err(AppError::Conflict(
            Msg::new("workorder.not_active").arg_code("status", "wo_status", &wo.status),
        ));
    }
    let after = repo::get(&mut tx, id).await?;
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

/// Closes an active work order as *no fault found*: the BMC reports the
/// part healthy again, so nothing is swapped, placed or sent back (no RMA).
/// Refused while the BMC still reports a part of it failing (an open health
/// alert linked to it), or when no alert names it. Audited like any completion.
#[instrument(skip_all, fields(work_order = id))]
pub async fn complete_no_fault(db: &Db, actor: &Actor, id: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let before = active(&mut tx, id).await?;
    let (linked, open) = crate::health::alerts::linked_to_work_order(&mut tx, id).await?;
    if open > 0 {
        return Err(AppError::Conflict(Msg::new("wo_nff.still_failing")));
    }
    if linked == 0 {
        return Err(AppError::Conflict(Msg::new("wo_nff.no_alert")));
    }
    let now = crate::clock::now();
    if let Some(who) = taker(&before, actor) {
        repo::update_status_assignee(&mut tx, id, None, Some(who), now).await?;
    }
    let done = repo::mark_outcome(&mut tx, id, actor.user_id, "no_fault_found", now).await?;
    if done != 1 {
        return Err(AppError::Conflict(
            Msg::new("workorder.not_active").arg_code("status", "wo_status", &before.status),
        ));
    }
    let after = repo::get(&mut tx, id).await?;
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

/// Whether [`complete_no_fault`] applies: the work order names a health
/// alert and the BMC has cleared every alert it names (the page offers the
/// close only then).
pub async fn no_fault_applies(db: &Db, id: i64) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let (linked, open) = crate::health::alerts::linked_to_work_order(&mut tx, id).await?;
    Ok(linked > 0 && open == 0)
}

/// Active work orders for an asset (shown on its page).
pub async fn active_for_asset(db: &Db, asset_id: i64) -> Result<Vec<WorkOrder>, DbError> {
    let f = Filter {
        asset_id: Some(asset_id),
        ..Filter::default()
    };
    Ok(repo::list(db, &f, 50, 0).await?.0)
}
