//! Assembly orders: reserve concrete units for every slot of a template, give
//! the technician a pick list, then build the asset (or release the units).
//!
//! A reservation is one conditional update (`... where status = 'in_stock'`),
//! so of many requests for the same unit exactly one changes the row; the
//! others see zero rows changed and move on to the next candidate or report
//! that the slot cannot be filled. This holds on SQLite and PostgreSQL alike.

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::templates;
use super::units::UnitStatus;
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::{exec, on};

/// Input for a new assembly order.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssemblyInput {
    /// Build template id.
    pub template_id: i64,
    /// Asset tag of the machine to build (unique).
    pub asset_tag: String,
    /// Hostname (optional, unique).
    #[serde(default)]
    pub hostname: Option<String>,
}

/// An assembly order as listed.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AssemblyOrder {
    /// Row id.
    pub id: i64,
    /// Template id.
    pub template_id: i64,
    /// Template name (joined).
    pub template_name: String,
    /// Asset tag to build.
    pub asset_tag: String,
    /// Hostname.
    pub hostname: Option<String>,
    /// open, completed or cancelled.
    pub status: String,
    /// The asset built, once completed.
    pub asset_id: Option<i64>,
}

/// One line of a pick list: which unit to take from where, for which slot.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PickLine {
    /// Slot it goes in.
    pub slot_name: String,
    /// Unit id.
    pub unit_id: i64,
    /// Serial.
    pub serial: String,
    /// MPN.
    pub mpn: String,
    /// Where it is now.
    pub location: Option<String>,
    /// Landed cost, base minor units (callers hide it from roles without money).
    pub landed_cost_minor: i64,
}

fn tag_errors(input: &AssemblyInput) -> FieldErrors {
    let mut errors = FieldErrors::default();
    let tag = input.asset_tag.trim();
    if tag.is_empty() || tag.chars().count() > 64 {
        errors.add("asset_tag", Msg::new("validation.required"));
    }
    errors
}

/// Opens an assembly order and reserves, for every required slot, the oldest
/// in-stock unit of a part model the slot accepts. Optional slots are filled
/// when stock allows. Nothing is reserved unless every required slot is.
#[instrument(skip_all, fields(template = input.template_id))]
pub async fn start(db: &Db, actor: &Actor, input: &AssemblyInput) -> AppResult<i64> {
    tag_errors(input).into_result()?;
    let slots = templates::slots(db, input.template_id).await?;
    let now = crate::clock::now();
    let tag = input.asset_tag.trim();
    let hostname = input
        .hostname
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty());
    let mut tx = db.begin().await?;
    let taken: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "select count(*) from (select asset_tag from assets where asset_tag = $1
               union all select asset_tag from assembly_orders where asset_tag = $1 and status = 'open') t",
        )
        .bind(tag)
        .fetch_one(c)
        .await
    })?;
    if taken > 0 {
        let mut f = FieldErrors::default();
        f.add("asset_tag", Msg::new("validation.duplicate"));
        return Err(AppError::Validation(f));
    }
    let id: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into assembly_orders (template_id, asset_tag, hostname, status, created_by, created_at, updated_at)
             values ($1, $2, $3, 'open', $4, $5, $5) returning id",
        )
        .bind(input.template_id)
        .bind(tag)
        .bind(hostname)
        .bind(actor.user_id)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    let mut missing = Vec::new();
    for slot in &slots {
        let part_ids: Vec<i64> = slot.accepts.iter().map(|(id, _)| *id).collect();
        if !reserve_one(&mut tx, id, &slot.slot_name, &part_ids).await? && !slot.optional {
            let mpns: Vec<&str> = slot.accepts.iter().map(|(_, m)| m.as_str()).collect();
            missing.push(format!("{} ({})", slot.slot_name, mpns.join(" / ")));
        }
    }
    if !missing.is_empty() {
        return Err(AppError::Conflict(
            Msg::new("assembly.not_enough").arg("slots", missing.join(", ")),
        ));
    }
    let after = serde_json::json!({"template_id": input.template_id, "asset_tag": tag, "hostname": hostname});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "assembly_order",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Reserves the oldest free unit of any of `part_ids` for a slot; false if none is left.
async fn reserve_one(tx: &mut Tx, order_id: i64, slot: &str, part_ids: &[i64]) -> AppResult<bool> {
    for &pid in part_ids {
        // Candidates oldest first; each is taken only if still in stock when we update it.
        let candidates: Vec<i64> = on!(tx, |c| {
            sqlx::query_scalar("select id from units where part_model_id = $1 and status = 'in_stock' order by id limit 16")
                .bind(pid)
                .fetch_all(c)
                .await
        })?;
        for unit in candidates {
            if reserve_unit(tx, order_id, slot, unit).await? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Reserves one given unit for a slot if it is still in stock; false if
/// someone else got it first.
pub async fn reserve_unit(tx: &mut Tx, order_id: i64, slot: &str, unit_id: i64) -> AppResult<bool> {
    Ok(super::units::reserve_for_assembly(tx, order_id, slot, unit_id).await?)
}

/// The units reserved for an order, by slot, with where to pick them.
pub async fn pick_list(db: &Db, order_id: i64) -> Result<Vec<PickLine>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select u.slot_name, u.id as unit_id, u.serial, m.mpn, sl.name as location, u.landed_cost_minor
             from units u join part_models m on m.id = u.part_model_id
             left join stock_locations sl on sl.id = u.location_id
             where u.assembly_order_id = $1 and u.status = 'reserved'
             order by u.id",
        )
        .bind(order_id)
        .fetch_all(p)
        .await
    })?)
}

async fn open_order(tx: &mut Tx, id: i64) -> AppResult<AssemblyOrder> {
    let order: AssemblyOrder = on!(tx, |c| {
        sqlx::query_as(
            "select a.id, a.template_id, t.name as template_name, a.asset_tag, a.hostname, a.status, a.asset_id
             from assembly_orders a join build_templates t on t.id = a.template_id where a.id = $1",
        )
        .bind(id)
        .fetch_one(c)
        .await
    })?;
    if order.status != "open" {
        return Err(AppError::Conflict(Msg::new("assembly.not_open").arg_code(
            "status",
            "assembly_status",
            &order.status,
        )));
    }
    Ok(order)
}

/// Builds the asset: every reserved unit is installed in its slot and leaves
/// stock (a movement each); the asset costs its units' landed cost plus the
/// template's assembly labour. Returns the asset id.
#[instrument(skip_all, fields(order = id))]
pub async fn complete(db: &Db, actor: &Actor, id: i64) -> AppResult<i64> {
    // Read the template before taking the writer lock: a pool query inside the
    // transaction needs a second connection, and when every other connection
    // waits for that lock (SQLite), each waits on the other until busy_timeout.
    let template = templates::get(db, get(db, id).await?.template_id).await?;
    let mut tx = db.begin().await?;
    let order = open_order(&mut tx, id).await?;
    let now = crate::clock::now();
    let asset_id: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "insert into assets (asset_tag, hostname, template_id, kind, status, assembly_labour_minor, created_at, updated_at)
             values ($1, $2, $3, $4, 'building', $5, $6, $6) returning id",
        )
        .bind(&order.asset_tag)
        .bind(&order.hostname)
        .bind(order.template_id)
        .bind(&template.asset_kind)
        .bind(template.assembly_labour_minor)
        .bind(now)
        .fetch_one(c)
        .await
    })
    .map_err(|e| match DbError::from(e) {
        DbError::Unique(_) => AppError::Conflict(Msg::new("assembly.tag_taken").arg("tag", &order.asset_tag)),
        other => other.into(),
    })?;
    let reserved: Vec<(i64, i64, Option<i64>, String)> = on!(&mut tx, |c| {
        sqlx::query_as("select id, part_model_id, location_id, slot_name from units where assembly_order_id = $1 and status = 'reserved'")
            .bind(id)
            .fetch_all(c)
            .await
    })?;
    for (unit, part, location, slot) in &reserved {
        install(&mut tx, actor, asset_id, *unit, *part, *location, slot).await?;
    }
    crate::datacenter::cabling::create_ports(&mut tx, asset_id, &template.ports).await?;
    exec!(&mut tx, |c| {
        sqlx::query("update assembly_orders set status = 'completed', asset_id = $1, updated_at = $2 where id = $3")
            .bind(asset_id)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    let after = serde_json::json!({"asset_tag": order.asset_tag, "template": template.name, "units": reserved.len()});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "asset",
        asset_id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(asset_id)
}

/// Installs a unit in an asset's slot: status, place, movement and history.
pub(super) async fn install(
    tx: &mut Tx,
    actor: &Actor,
    asset_id: i64,
    unit: i64,
    part: i64,
    from_location: Option<i64>,
    slot: &str,
) -> AppResult<()> {
    let now = crate::clock::now();
    super::units::install(tx, unit, asset_id, slot).await?;
    if let Some(from) = from_location {
        let m = super::units::Movement {
            part_model_id: part,
            unit_id: Some(unit),
            from: Some(from),
            to: None,
            quantity: 1,
            reason: "install",
            receipt_line_id: None,
        };
        super::units::record_movement(tx, actor, &m).await?;
    }
    exec!(tx, |c| {
        sqlx::query(
            "insert into installations (asset_id, unit_id, slot_name, installed_at, created_at, updated_at)
             values ($1, $2, $3, $4, $4, $4)",
        )
        .bind(asset_id)
        .bind(unit)
        .bind(slot)
        .bind(now)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Cancels an open order and releases its reservations back to stock.
pub async fn cancel(db: &Db, actor: &Actor, id: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    open_order(&mut tx, id).await?;
    let now = crate::clock::now();
    let released = super::units::release_reservations(&mut tx, id, None).await?;
    exec!(&mut tx, |c| {
        sqlx::query(
            "update assembly_orders set status = 'cancelled', updated_at = $1 where id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(c)
        .await
    })?;
    let after = serde_json::json!({"status": "cancelled", "units_released": released});
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "assembly_order",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Assembly orders, newest first.
pub async fn list(db: &Db) -> Result<Vec<AssemblyOrder>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select a.id, a.template_id, t.name as template_name, a.asset_tag, a.hostname, a.status, a.asset_id
             from assembly_orders a join build_templates t on t.id = a.template_id order by a.id desc limit 200",
        )
        .fetch_all(p)
        .await
    })?)
}

/// One assembly order.
pub async fn get(db: &Db, id: i64) -> Result<AssemblyOrder, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select a.id, a.template_id, t.name as template_name, a.asset_tag, a.hostname, a.status, a.asset_id
             from assembly_orders a join build_templates t on t.id = a.template_id where a.id = $1",
        )
        .bind(id)
        .fetch_one(p)
        .await
    })?)
}

/// Puts a unit chosen by hand (by serial) in a slot of an open order instead
/// of the one reserved automatically, which goes back to stock. The unit must
/// be in stock and of a part model the slot accepts.
#[instrument(skip_all, fields(order = order_id))]
pub async fn choose(
    db: &Db,
    actor: &Actor,
    order_id: i64,
    slot: &str,
    serial: &str,
) -> AppResult<()> {
    let serial = serial.trim();
    let mut tx = db.begin().await?;
    let order = open_order(&mut tx, order_id).await?;
    let found = super::units::find_by_serial(&mut tx, serial, UnitStatus::InStock).await?;
    let unit: Option<(i64, i64)> = match found {
        None => None,
        Some(id) => on!(&mut tx, |c| {
            sqlx::query_as("select id, part_model_id from units where id = $1 and status = $2")
                .bind(id)
                .bind(UnitStatus::InStock)
                .fetch_optional(c)
                .await
        })?,
    };
    let Some((unit_id, part)) = unit else {
        let mut f = FieldErrors::default();
        f.add(
            "serial",
            Msg::new("swap.not_in_stock").arg("serial", serial),
        );
        return Err(AppError::Validation(f));
    };
    let accepted: i64 = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "select count(*) from template_slots s join slot_part_models sp on sp.slot_id = s.id
             where s.template_id = $1 and s.slot_name = $2 and sp.part_model_id = $3",
        )
        .bind(order.template_id)
        .bind(slot)
        .bind(part)
        .fetch_one(c)
        .await
    })?;
    if accepted == 0 {
        return Err(AppError::Conflict(
            Msg::new("assembly.not_accepted")
                .arg("serial", serial)
                .arg("slot", slot),
        ));
    }
    super::units::release_reservations(&mut tx, order_id, Some(slot)).await?;
    if !reserve_unit(&mut tx, order_id, slot, unit_id).await? {
        return Err(AppError::Conflict(
            Msg::new("swap.not_in_stock").arg("serial", serial),
        ));
    }
    let after = serde_json::json!({"slot": slot, "chosen_unit": unit_id});
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "assembly_order",
        order_id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
