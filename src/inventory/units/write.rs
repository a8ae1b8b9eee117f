//! Every statement that inserts or updates `units`: receiving, landed cost
//! restatement, assembly, swaps, RMA and audit fixes call these (a test reads
//! `src/` and fails if another module writes the table). Each runs inside the
//! caller's transaction, beside the ledger rows and audit records of the same
//! change.

use time::Date;

use super::UnitStatus;
use crate::db::{DbError, Tx};
use crate::{exec, on};

/// What the units of one receipt line share.
pub struct Received<'a> {
    /// Part model.
    pub part_model_id: i64,
    /// Manufacturer (copied from the part model: serials are unique per manufacturer).
    pub manufacturer: &'a str,
    /// Order line they were bought on.
    pub po_line_id: i64,
    /// Receipt line they came in on.
    pub receipt_line_id: i64,
    /// Position on the order line of the first unit (1-based, in receiving order).
    pub first_position: i64,
    /// Stock location they go to.
    pub location_id: i64,
    /// Base currency of their landed cost.
    pub currency: &'a str,
    /// Warranty end, if the supplier gives one.
    pub warranty_end: Option<Date>,
}

/// Inserts the units of one receipt line in stock, in id order, in one
/// statement: `units` holds each unit's serial (as received) and landed cost
/// in base minor units, at positions from `r.first_position` on. What the
/// units share is bound once; their serials and costs go as one JSON array,
/// read in order by the database (`json_each` on SQLite,
/// `jsonb_array_elements` on PostgreSQL). A multi-row `values` bound twelve
/// values per unit: building and binding them was most of the import
/// benchmark's commit outside the database. A serial already on record fails
/// with [`DbError::Unique`].
pub async fn insert_received(
    tx: &mut Tx,
    r: &Received<'_>,
    units: &[(&str, i64)],
) -> Result<(), DbError> {
    let now = crate::clock::now();
    let units =
        serde_json::to_string(units).map_err(|e| DbError::Other(sqlx::Error::Encode(e.into())))?;
    let from = match tx {
        Tx::Sqlite(_) => "json_each($10) u",
        Tx::Postgres(_) => {
            "(select value, n - 1 as key from jsonb_array_elements($10::jsonb) with ordinality as e (value, n)) u"
        }
    };
    let sql = format!(
        "insert into units (part_model_id, manufacturer, serial, po_line_id, receipt_line_id, position,
           location_id, landed_cost_minor, cost_currency, warranty_end, created_at, updated_at, status)
         select $1, $2, u.value ->> 0, $3, $4, $5 + u.key, $6, cast(u.value ->> 1 as bigint), $7, $8, $9, $9,
           $11
         from {from} order by u.key"
    );
    exec!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(r.part_model_id)
        .bind(r.manufacturer)
        .bind(r.po_line_id)
        .bind(r.receipt_line_id)
        .bind(r.first_position)
        .bind(r.location_id)
        .bind(r.currency)
        .bind(r.warranty_end)
        .bind(now)
        .bind(&units)
        .bind(UnitStatus::InStock)
        .execute(c)
        .await)?;
    Ok(())
}

/// A unit that arrives outside a receipt (an RMA replacement), in stock.
pub struct Arrived<'a> {
    /// Part model.
    pub part_model_id: i64,
    /// Manufacturer.
    pub manufacturer: &'a str,
    /// Serial as received.
    pub serial: &'a str,
    /// The order line it stands for (the one of the unit it replaces).
    pub po_line_id: Option<i64>,
    /// Stock location it goes to.
    pub location_id: i64,
    /// Landed cost in base minor units.
    pub landed_cost_minor: i64,
    /// Base currency of the cost.
    pub currency: &'a str,
}

/// Inserts one unit in stock; its id. A serial already on record fails with
/// [`DbError::Unique`].
pub async fn insert_arrived(tx: &mut Tx, u: &Arrived<'_>) -> Result<i64, DbError> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into units (part_model_id, manufacturer, serial, po_line_id, location_id, status,
               landed_cost_minor, cost_currency, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning id",
        )
        .bind(u.part_model_id)
        .bind(u.manufacturer)
        .bind(u.serial)
        .bind(u.po_line_id)
        .bind(u.location_id)
        .bind(UnitStatus::InStock)
        .bind(u.landed_cost_minor)
        .bind(u.currency)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// Sets one unit's landed cost (base minor units) after its order's costs
/// changed; rows changed (0 or 1).
pub async fn set_landed_cost(tx: &mut Tx, unit_id: i64, cost_minor: i64) -> Result<u64, DbError> {
    let now = crate::clock::now();
    Ok(exec!(tx, |c| {
        sqlx::query("update units set landed_cost_minor = $1, updated_at = $2 where id = $3")
            .bind(cost_minor)
            .bind(now)
            .bind(unit_id)
            .execute(c)
            .await
    })?)
}

/// Reserves a unit for a swap if it is still in stock; false if another
/// request took it first (one conditional update: the claim is the check).
pub async fn reserve(tx: &mut Tx, unit_id: i64) -> Result<bool, DbError> {
    take_from_stock(tx, unit_id, UnitStatus::Reserved).await
}

/// Moves a unit still in stock to `status` where it lies, in one
/// conditional update (the claim is the check); false if it was not in stock.
async fn take_from_stock(tx: &mut Tx, unit_id: i64, status: UnitStatus) -> Result<bool, DbError> {
    let now = crate::clock::now();
    let n = exec!(tx, |c| {
        sqlx::query("update units set status = $1, updated_at = $2 where id = $3 and status = $4")
            .bind(status)
            .bind(now)
            .bind(unit_id)
            .bind(UnitStatus::InStock)
            .execute(c)
            .await
    })?;
    Ok(n == 1)
}

/// Reserves a unit for `slot` of an assembly order if it is still in
/// stock; false if another request took it first.
pub async fn reserve_for_assembly(
    tx: &mut Tx,
    order_id: i64,
    slot: &str,
    unit_id: i64,
) -> Result<bool, DbError> {
    let now = crate::clock::now();
    let n = exec!(tx, |c| {
        sqlx::query(
            "update units set status = $1, assembly_order_id = $2, slot_name = $3, updated_at = $4
             where id = $5 and status = $6",
        )
        .bind(UnitStatus::Reserved)
        .bind(order_id)
        .bind(slot)
        .bind(now)
        .bind(unit_id)
        .bind(UnitStatus::InStock)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Puts an assembly order's reservations back in stock: every slot's, or
/// one slot's; how many.
pub async fn release_reservations(
    tx: &mut Tx,
    order_id: i64,
    slot: Option<&str>,
) -> Result<u64, DbError> {
    let now = crate::clock::now();
    Ok(exec!(tx, |c| {
        sqlx::query(
            "update units set status = $1, assembly_order_id = null, slot_name = null, updated_at = $2
             where assembly_order_id = $3 and (cast($4 as text) is null or slot_name = $4) and status = $5",
        )
        .bind(UnitStatus::InStock)
        .bind(now)
        .bind(order_id)
        .bind(slot)
        .bind(UnitStatus::Reserved)
        .execute(c)
        .await
    })?)
}

/// Records a unit as installed in `slot` of an asset (out of any location
/// and assembly order).
pub async fn install(tx: &mut Tx, unit_id: i64, asset_id: i64, slot: &str) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query(
            "update units set status = $1, asset_id = $2, slot_name = $3, location_id = null,
               assembly_order_id = null, updated_at = $4 where id = $5",
        )
        .bind(UnitStatus::Installed)
        .bind(asset_id)
        .bind(slot)
        .bind(now)
        .bind(unit_id)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Takes a unit out of its asset into a stock location, as `status`
/// (faulty, or back in stock).
pub async fn remove_from_asset(
    tx: &mut Tx,
    unit_id: i64,
    status: UnitStatus,
    location_id: i64,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query(
            "update units set status = $1, asset_id = null, slot_name = null, location_id = $2, updated_at = $3
             where id = $4",
        )
        .bind(status)
        .bind(location_id)
        .bind(now)
        .bind(unit_id)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Moves a faulty unit out to the supplier (`at_rma`, no location) if it is
/// still faulty; false if another request sent it first.
pub async fn claim_for_rma(tx: &mut Tx, unit_id: i64) -> Result<bool, DbError> {
    let now = crate::clock::now();
    let n = exec!(tx, |c| {
        sqlx::query(
            "update units set status = $1, location_id = null, updated_at = $2 where id = $3 and status = $4",
        )
        .bind(UnitStatus::AtRma)
        .bind(now)
        .bind(unit_id)
        .bind(UnitStatus::Faulty)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Sets a unit's status and location (an RMA's outcome).
pub async fn set_status(
    tx: &mut Tx,
    unit_id: i64,
    status: UnitStatus,
    location_id: Option<i64>,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update units set status = $1, location_id = $2, updated_at = $3 where id = $4")
            .bind(status)
            .bind(location_id)
            .bind(now)
            .bind(unit_id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Records a unit at another stock location (an audit found it there).
pub async fn move_to(tx: &mut Tx, unit_id: i64, location_id: i64) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update units set location_id = $1, updated_at = $2 where id = $3")
            .bind(location_id)
            .bind(now)
            .bind(unit_id)
            .execute(c)
            .await
    })?;
    Ok(())
}

/// Moves a unit in stock or faulty from `from` to `to` if it is still
/// there with that status; false if another request changed it first (the
/// claim is the check, as for reservations).
pub async fn transfer(
    tx: &mut Tx,
    unit_id: i64,
    status: UnitStatus,
    from: i64,
    to: i64,
) -> Result<bool, DbError> {
    let now = crate::clock::now();
    let n = exec!(tx, |c| {
        sqlx::query(
            "update units set location_id = $1, updated_at = $2
             where id = $3 and location_id = $4 and status = $5",
        )
        .bind(to)
        .bind(now)
        .bind(unit_id)
        .bind(from)
        .bind(status)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Marks a unit in stock as faulty where it lies (dead on arrival, found
/// bad on the shelf); false if it was no longer in stock.
pub async fn mark_faulty(tx: &mut Tx, unit_id: i64) -> Result<bool, DbError> {
    take_from_stock(tx, unit_id, UnitStatus::Faulty).await
}

/// Scraps a unit in stock or faulty at `from` (gone for good, no location);
/// false if it was no longer there with that status.
pub async fn scrap(
    tx: &mut Tx,
    unit_id: i64,
    status: UnitStatus,
    from: i64,
) -> Result<bool, DbError> {
    let now = crate::clock::now();
    let n = exec!(tx, |c| {
        sqlx::query(
            "update units set status = $1, location_id = null, updated_at = $2
             where id = $3 and status = $4 and location_id = $5",
        )
        .bind(UnitStatus::Scrapped)
        .bind(now)
        .bind(unit_id)
        .bind(status)
        .bind(from)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}
