//! Serial-tracked units: the only module that writes `units` (`write`), their
//! status and serial types (`model`), where each serial is already recorded,
//! the stock movement ledger, searches and stock on hand.

mod model;
mod write;

pub use model::{BadSerial, Serial, UnitStatus, UnknownStatus, key as serial_key};
pub use write::{
    Arrived, Received, claim_for_rma, insert_arrived, insert_received, install, mark_faulty,
    move_to, release_reservations, remove_from_asset, reserve, reserve_for_assembly, scrap,
    set_landed_cost, set_status, transfer,
};

use serde::Serialize;

use crate::audit::Actor;
use crate::db::{Conn, Db, DbError, Sort, Tx};
use crate::{exec, on};

/// Where a serial number is already on record, for the "already known" message.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct KnownSerial {
    /// Unit id.
    pub id: i64,
    /// Its status.
    pub status: UnitStatus,
    /// Purchase order number it came on, if any.
    pub po_number: Option<String>,
    /// Stock location name, if in stock.
    pub location: Option<String>,
}

/// The unit with this manufacturer and serial in any case, if any
/// ([`find_serials`] for one).
pub async fn find_serial(
    tx: &mut Tx,
    manufacturer: &str,
    serial: &str,
) -> Result<Option<KnownSerial>, DbError> {
    Ok(find_serials(tx, manufacturer, &[serial])
        .await?
        .remove(&serial_key(serial)))
}

/// The unit a typed or scanned serial names, when the serial alone must
/// say: serials are unique per manufacturer and match in any case, so two
/// units (of two makers, or `S1` of one and `s1` of another) can answer.
/// One in `prefer` comes first (the status the caller needs: faulty for an
/// RMA, in stock for a swap), then the one spelled exactly as typed, then
/// the oldest. `None` when no unit has the serial.
pub async fn find_by_serial(
    tx: &mut Tx,
    serial: &str,
    prefer: UnitStatus,
) -> Result<Option<i64>, DbError> {
    let serial = serial.trim();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "select id from units where lower(serial) = $1
             order by case when status = $3 then 0 else 1 end, case when serial = $2 then 0 else 1 end, id
             limit 1",
        )
        .bind(serial_key(serial))
        .bind(serial)
        .bind(prefer)
        .fetch_optional(c)
        .await
    })?)
}

/// A serial and where it is on record.
#[derive(sqlx::FromRow)]
struct SerialOnRecord {
    serial: String,
    #[sqlx(flatten)]
    known: KnownSerial,
}

/// Serials per query in [`find_serials`] (well under either engine's limit on binds).
const SERIALS_PER_QUERY: usize = 500;

/// [`find_serial`] for many serials of one manufacturer at once, a query per
/// 500: the ones on record in any case, by [`Serial::key`] (imports check
/// 100,000 rows this way, through the unique index on the manufacturer and
/// the lowered serial).
pub async fn find_serials(
    tx: &mut Tx,
    manufacturer: &str,
    serials: &[&str],
) -> Result<std::collections::HashMap<String, KnownSerial>, DbError> {
    let mut found = std::collections::HashMap::new();
    for chunk in serials.chunks(SERIALS_PER_QUERY) {
        // Never `$1` beside plain `?`: sqlx numbers plain markers on their own.
        let (maker, marks) = (tx.marks(1, 1), tx.marks(2, chunk.len()));
        let sql = format!(
            "select u.serial, u.id, u.status, o.number as po_number, sl.name as location
             from units u
             left join po_lines l on l.id = u.po_line_id
             left join purchase_orders o on o.id = l.po_id
             left join stock_locations sl on sl.id = u.location_id
             where u.manufacturer = {maker} and lower(u.serial) in ({marks})"
        );
        let rows: Vec<SerialOnRecord> = on!(tx, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(manufacturer);
            for s in chunk {
                q = q.bind(serial_key(s));
            }
            q.fetch_all(c).await
        })?;
        found.extend(rows.into_iter().map(|r| (serial_key(&r.serial), r.known)));
    }
    Ok(found)
}

/// Where a unit is, found by its serial alone (any manufacturer).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Located {
    /// Unit id.
    pub unit_id: i64,
    /// Serial as stored.
    pub serial: String,
    /// Status.
    pub status: String,
    /// Asset it is installed in.
    pub asset_id: Option<i64>,
    /// That asset's tag.
    pub asset_tag: Option<String>,
    /// Slot there.
    pub slot_name: Option<String>,
}

/// The units with any of `serials` (any manufacturer, any case), a few
/// hundred serials to a statement: per [`serial_key`], the unit stored with
/// that exact spelling, else the oldest.
pub async fn locate(
    db: impl Into<Conn<'_>>,
    serials: &[&str],
) -> Result<std::collections::HashMap<String, Located>, DbError> {
    let mut db: Conn<'_> = db.into();
    let wanted: std::collections::HashSet<&str> = serials.iter().map(|s| s.trim()).collect();
    let keys: Vec<String> = {
        let mut k: Vec<String> = wanted.iter().map(|s| serial_key(s)).collect();
        k.sort();
        k.dedup();
        k
    };
    let mut out: std::collections::HashMap<String, Located> = std::collections::HashMap::new();
    for chunk in keys.chunks(SERIALS_PER_QUERY) {
        let sql = format!(
            "select u.id as unit_id, u.serial, u.status, u.asset_id, a.asset_tag, u.slot_name
             from units u left join assets a on a.id = u.asset_id
             where lower(u.serial) in ({}) order by u.id",
            db.marks(1, chunk.len())
        );
        let rows: Vec<Located> = on!(db, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for k in chunk {
                q = q.bind(k);
            }
            q.fetch_all(c).await
        })?;
        for row in rows {
            let key = serial_key(&row.serial);
            let exact = wanted.contains(row.serial.as_str());
            match out.get(&key) {
                Some(held) if wanted.contains(held.serial.as_str()) || !exact => {}
                _ => {
                    out.insert(key, row);
                }
            }
        }
    }
    Ok(out)
}

/// A unit a typed or scanned serial may name, with what moving it needs.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Candidate {
    /// Unit id.
    pub id: i64,
    /// Serial as stored.
    pub serial: String,
    /// Status.
    pub status: UnitStatus,
    /// Stock location, when on a shelf.
    pub location_id: Option<i64>,
    /// Part model.
    pub part_model_id: i64,
    /// Its MPN.
    pub mpn: String,
    /// The asset it is installed in, by tag.
    pub asset_tag: Option<String>,
}

/// Every unit whose serial is one of `keys` ([`serial_key`]s) in any case,
/// a query per 500 keys through the index on the lowered serial, by id.
pub async fn candidates(
    db: impl Into<Conn<'_>>,
    keys: &[String],
) -> Result<Vec<Candidate>, DbError> {
    let mut db: Conn<'_> = db.into();
    let mut out = Vec::new();
    for chunk in keys.chunks(SERIALS_PER_QUERY) {
        let sql = format!(
            "select u.id, u.serial, u.status, u.location_id, u.part_model_id, m.mpn, a.asset_tag
             from units u join part_models m on m.id = u.part_model_id
             left join assets a on a.id = u.asset_id
             where lower(u.serial) in ({}) order by u.id",
            db.marks(1, chunk.len())
        );
        let rows: Vec<Candidate> = on!(db, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for k in chunk {
                q = q.bind(k);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// One stock movement to record: what moved, from where, to where, and why.
pub struct Movement<'a> {
    /// Part model.
    pub part_model_id: i64,
    /// The unit, for serial-tracked parts.
    pub unit_id: Option<i64>,
    /// Location it left (none when it came from a supplier).
    pub from: Option<i64>,
    /// Location it went to (none when installed, or gone to a supplier).
    pub to: Option<i64>,
    /// Units moved.
    pub quantity: i64,
    /// `receipt`, `install`, `removal`, `rma`, `rma_replacement`, `rma_rejected`,
    /// `transfer`, `scrap`.
    pub reason: &'a str,
    /// The receipt line, for receipts.
    pub receipt_line_id: Option<i64>,
}

/// Writes one row of the stock ledger: the only place stock movements are
/// recorded, so stock on hand and every unit's history come from one source.
pub async fn record_movement(tx: &mut Tx, actor: &Actor, m: &Movement<'_>) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query(
            "insert into stock_movements (part_model_id, unit_id, from_location_id, to_location_id, quantity, reason,
               receipt_line_id, user_id, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(m.part_model_id)
        .bind(m.unit_id)
        .bind(m.from)
        .bind(m.to)
        .bind(m.quantity)
        .bind(m.reason)
        .bind(m.receipt_line_id)
        .bind(actor.user_id)
        .bind(now)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// The movements into stock of every unit of one receipt line, in one
/// statement (the bulk form of [`record_movement`] for receipts: one row per
/// unit, from no location to the unit's, by position). The units of a
/// receipt line are inserted in position order, so their ids are in that
/// order too: ordering by id reads the index on `receipt_line_id` in order,
/// where ordering by position sorted 100,000 rows of a large import.
pub async fn record_receipt_movements(
    tx: &mut Tx,
    actor: &Actor,
    receipt_line_id: i64,
) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query(
            "insert into stock_movements (part_model_id, unit_id, from_location_id, to_location_id, quantity, reason,
               receipt_line_id, user_id, created_at, updated_at)
             select part_model_id, id, null, location_id, 1, 'receipt', receipt_line_id, $2, $3, $3
             from units where receipt_line_id = $1 order by id",
        )
        .bind(receipt_line_id)
        .bind(actor.user_id)
        .bind(now)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// A unit received on an order, for the order page and API.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReceivedUnit {
    /// Unit id.
    pub id: i64,
    /// Order line id.
    pub po_line_id: i64,
    /// MPN (joined).
    pub mpn: String,
    /// Serial number.
    pub serial: String,
    /// Status.
    pub status: UnitStatus,
    /// Landed cost in base minor units.
    pub landed_cost_minor: i64,
    /// Base currency of the cost.
    pub cost_currency: String,
}

/// A unit as listed and shown, with where it came from.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnitRow {
    /// Unit id.
    pub id: i64,
    /// Part model id.
    pub part_model_id: i64,
    /// Manufacturer.
    pub manufacturer: String,
    /// MPN (joined).
    pub mpn: String,
    /// Category (joined).
    pub category: String,
    /// Serial number.
    pub serial: String,
    /// Where it is in its life.
    pub status: UnitStatus,
    /// Stock location id, when in stock.
    pub location_id: Option<i64>,
    /// Purchase order id it came on.
    pub po_id: Option<i64>,
    /// Purchase order number it came on.
    pub po_number: Option<String>,
    /// Landed cost in base minor units (hidden from roles without money by callers).
    pub landed_cost_minor: i64,
    /// Currency of the landed cost.
    pub cost_currency: String,
    /// Warranty end, if a warranty was recorded.
    #[schema(value_type = Option<String>)]
    pub warranty_end: Option<time::Date>,
    /// Asset it is installed in.
    pub asset_id: Option<i64>,
    /// Slot it is installed in.
    pub slot_name: Option<String>,
    /// When it was received (or registered), UTC.
    #[schema(value_type = String)]
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: time::OffsetDateTime,
}

const UNIT_SELECT: &str =
    "select u.id, u.part_model_id, u.manufacturer, m.mpn, m.category, u.serial, u.status,
    u.location_id, l.po_id, o.number as po_number, u.landed_cost_minor, u.cost_currency, u.warranty_end,
    u.asset_id, u.slot_name, u.created_at as received_at
    from units u join part_models m on m.id = u.part_model_id
    left join po_lines l on l.id = u.po_line_id left join purchase_orders o on o.id = l.po_id";

/// The smallest string greater than every string starting with `prefix`, for
/// index-friendly prefix ranges (`serial >= prefix and serial < upper`).
pub fn prefix_upper(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    // Every character was the last one: no upper bound is tighter than this.
    "\u{10FFFF}".repeat(prefix.chars().count() + 1)
}

/// Units whose serial starts with `serial_prefix` in any case, with an
/// optional status filter, by serial: an exact serial is the smallest string
/// of its range, so it comes first, and the index on the lowered serial
/// delivers the page without a sort.
pub async fn search(
    db: &Db,
    serial_prefix: &str,
    status: Option<UnitStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UnitRow>, i64), DbError> {
    search_sorted(db, serial_prefix, status, &Sort::default(), limit, offset).await
}

/// The columns the units list sorts by (`key`, SQL).
pub const UNIT_SORTS: &[(&str, &str)] = &[
    ("serial", "lower(u.serial)"),
    ("mpn", "m.mpn"),
    ("category", "m.category"),
    ("status", "u.status"),
    ("po", "o.number"),
];

/// As [`search`], in the order of `sort` (a key of [`UNIT_SORTS`]; else by serial).
pub async fn search_sorted(
    db: &Db,
    serial_prefix: &str,
    status: Option<UnitStatus>,
    sort: &Sort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UnitRow>, i64), DbError> {
    let lo = serial_key(serial_prefix);
    let hi = prefix_upper(&lo);
    let filter = "where lower(u.serial) >= $1 and lower(u.serial) < $2
        and (cast($3 as text) is null or u.status = $3)";
    let order = sort.order_by(UNIT_SORTS, "lower(u.serial)", "u.id");
    let sql = format!("{UNIT_SELECT} {filter} order by {order} limit $4 offset $5");
    let rows = on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&lo)
            .bind(&hi)
            .bind(status)
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await
    })?;
    let count = format!("select count(*) from units u {filter}");
    let total = on!(db, |p| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
            .bind(&lo)
            .bind(&hi)
            .bind(status)
            .fetch_one(p)
            .await
    })?;
    Ok((rows, total))
}

/// One unit.
pub async fn get(db: &Db, id: i64) -> Result<UnitRow, DbError> {
    let sql = format!("{UNIT_SELECT} where u.id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// One stock movement of a unit or part, for histories.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MovementRow {
    /// Row id.
    pub id: i64,
    /// When, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub created_at: time::OffsetDateTime,
    /// From location name, if any.
    pub from_location: Option<String>,
    /// To location name, if any.
    pub to_location: Option<String>,
    /// Units moved.
    pub quantity: i64,
    /// Why (`receipt`, ...).
    pub reason: String,
    /// Who, if a user.
    pub username: Option<String>,
}

/// The movements of one unit, oldest first.
pub async fn movements(db: &Db, unit_id: i64) -> Result<Vec<MovementRow>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select mv.id, mv.created_at, f.name as from_location, t.name as to_location, mv.quantity, mv.reason,
                    us.username
             from stock_movements mv
             left join stock_locations f on f.id = mv.from_location_id
             left join stock_locations t on t.id = mv.to_location_id
             left join users us on us.id = mv.user_id
             where mv.unit_id = $1 order by mv.id",
        )
        .bind(unit_id)
        .fetch_all(p)
        .await
    })?)
}

/// Stock on hand of one part model at one location, derived from movements.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StockLevel {
    /// Part model id.
    pub part_model_id: i64,
    /// Manufacturer.
    pub manufacturer: String,
    /// MPN.
    pub mpn: String,
    /// Category.
    pub category: String,
    /// Location id.
    pub location_id: i64,
    /// Location name.
    pub location: String,
    /// Units on hand: everything moved in minus everything moved out.
    pub quantity: i64,
}

/// Stock on hand per part model and location, from the movement ledger
/// (so it can never disagree with the history); only non-zero levels.
pub async fn stock_levels(db: &Db, category: Option<&str>) -> Result<Vec<StockLevel>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select x.part_model_id, m.manufacturer, m.mpn, m.category, x.location_id, sl.name as location,
                    cast(sum(x.qty) as bigint) as quantity
             from (select part_model_id, to_location_id as location_id, quantity as qty from stock_movements
                     where to_location_id is not null
                   union all
                   select part_model_id, from_location_id, -quantity from stock_movements
                     where from_location_id is not null) x
             join part_models m on m.id = x.part_model_id
             join stock_locations sl on sl.id = x.location_id
             where cast($1 as text) is null or m.category = $1
             group by x.part_model_id, m.manufacturer, m.mpn, m.category, x.location_id, sl.name
             having sum(x.qty) <> 0
             order by m.category, m.mpn, sl.name",
        )
        .bind(category)
        .fetch_all(p)
        .await
    })?)
}

/// A page of a unit's history, newest first, and the total: the changes
/// audited under the unit, its RMAs (sent back or the replacement), and the
/// swaps and assembly choices of other records that name it.
pub async fn history(
    db: &Db,
    id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<crate::audit::AuditEntry>, i64), DbError> {
    let rmas: Vec<i64> = on!(db, |p| sqlx::query_scalar(
        "select id from rmas where unit_id = $1 or replacement_unit_id = $1 order by id"
    )
    .bind(id)
    .fetch_all(p)
    .await)?;
    let mut records = vec![("unit", id.to_string())];
    records.extend(rmas.into_iter().map(|r| ("rma", r.to_string())));
    // A swap is audited under the asset, an assembly choice under its order;
    // their JSON names the unit by id (key order depends on serde_json's features).
    let mut mentions = Vec::new();
    for (entity, key) in [
        ("asset", "removed_unit"),
        ("asset", "installed_unit"),
        ("assembly_order", "chosen_unit"),
    ] {
        for end in [',', '}'] {
            mentions.push((entity, format!("\"{key}\":{id}{end}")));
        }
    }
    crate::audit::for_records_and_mentions(db, &records, &mentions, limit, offset).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_cover_exactly_the_strings_with_the_prefix() {
        let hi = prefix_upper("S4EM");
        assert_eq!(hi, "S4EN");
        for inside in ["S4EM", "S4EMNX0W123456", "S4EMzzzz"] {
            assert!(inside >= "S4EM" && inside < hi.as_str(), "{inside}");
        }
        for outside in ["S4EL999", "S4EN", "S5"] {
            assert!(!(outside >= "S4EM" && outside < hi.as_str()), "{outside}");
        }
        assert_eq!(prefix_upper(""), "\u{10FFFF}");
    }
}
