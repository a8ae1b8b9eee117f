//! Receiving: what arrived against which order lines, with serial numbers,
//! into which stock location. Each serial-tracked unit is created with its
//! landed cost; counted parts increase stock through the movement ledger.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::orders::{self, position_cost};
use super::orders_repo as repo;
use crate::audit::{self, Action, Actor};
use crate::db::{self, Conn, Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::{locations, units};
use crate::money::Currency;
use crate::on;

/// What arrived for one order line.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReceiveLine {
    /// Order line id.
    pub po_line_id: i64,
    /// Units arrived (for serial-tracked parts, the number of serials if 0).
    #[serde(default)]
    pub quantity: i64,
    /// Serial numbers, one per unit, for serial-tracked parts.
    #[serde(default)]
    pub serials: Vec<String>,
}

/// One delivery against one order.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReceiptInput {
    /// Stock location the goods go to.
    pub location_id: i64,
    /// Lines that arrived; lines with nothing are ignored.
    pub lines: Vec<ReceiveLine>,
    /// Accept more than was ordered.
    #[serde(default)]
    pub confirm_over: bool,
    /// Notes (delivery note number, damage).
    #[serde(default)]
    pub notes: String,
}

/// Splits typed or scanned text into serials: one per line, also commas or
/// tabs; blank entries dropped, surrounding spaces trimmed.
pub fn split_serials(text: &str) -> Vec<String> {
    text.split(['\n', '\r', ',', '\t', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

struct Checked {
    line: repo::LineRow,
    quantity: i64,
    serials: Vec<String>,
}

/// A serial the unique index refused as the units were written: another
/// receipt committed it after the look-ups, or the caller skipped them
/// ([`Serials::CheckedInThisTransaction`] with no look-up). What was written
/// of the receipt must be rolled back; the message names the serials.
#[derive(Debug)]
pub struct SerialTaken(pub Msg);

impl From<SerialTaken> for AppError {
    fn from(t: SerialTaken) -> Self {
        AppError::Conflict(t.0)
    }
}

/// What is wrong with one serial of a delivery: the one check the receiving
/// form and the packing list import share ([`check_serial`]).
#[derive(Debug)]
pub enum SerialProblem {
    /// The line's part is counted, not tracked by serial.
    CountedPart,
    /// Not a serial (empty, too long, a control character).
    Bad(units::BadSerial),
    /// A unit of the same manufacturer has it already.
    OnRecord(units::KnownSerial),
}

impl SerialProblem {
    /// The message for `serial` on `line`, in the user's words.
    pub fn msg(self, line: &repo::LineRow, serial: &str) -> Msg {
        match self {
            SerialProblem::CountedPart => {
                Msg::new("receipt.serials_for_counted").arg("mpn", &line.mpn)
            }
            SerialProblem::Bad(bad) => bad.msg(serial),
            SerialProblem::OnRecord(known) => {
                let place = known
                    .po_number
                    .or(known.location)
                    .unwrap_or_else(|| format!("unit #{}", known.id));
                Msg::new("receipt.serial_known")
                    .arg("serial", serial)
                    .arg("manufacturer", &line.manufacturer)
                    .arg("unit", known.id)
                    .arg("place", place)
                    .arg_code("status", "unit_status", known.status.as_str())
            }
        }
    }
}

/// Checks one serial of a delivery against its order line and the unit
/// already on record with it (`on_record`, looked up by the caller in bulk).
pub fn check_serial(
    line: &repo::LineRow,
    serial: &str,
    on_record: Option<&units::KnownSerial>,
) -> Result<(), SerialProblem> {
    if !line.serial_tracked {
        return Err(SerialProblem::CountedPart);
    }
    units::Serial::parse(serial).map_err(SerialProblem::Bad)?;
    match on_record {
        Some(known) => Err(SerialProblem::OnRecord(known.clone())),
        None => Ok(()),
    }
}

/// Whether a receipt looks its serials up before writing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serials {
    /// Look each serial up and name the unit that has it already.
    LookUp,
    /// The caller looked them up in this same transaction (the packing list
    /// planner, which names the row): looking 100,000 serials up twice cost
    /// a fifth of an import. The unique index on (manufacturer, serial)
    /// still refuses a serial another transaction committed meanwhile.
    CheckedInThisTransaction,
}

/// [`receive_with`] as a page or an API call records a delivery: every
/// serial is looked up first, and one already on record is named.
pub async fn receive(
    db: impl Into<Conn<'_>>,
    actor: &Actor,
    base: Currency,
    po_id: i64,
    input: &ReceiptInput,
) -> AppResult<i64> {
    Ok(receive_with(db, actor, base, po_id, input, Serials::LookUp).await??)
}

/// Records a delivery. Everything is checked before anything is written; on
/// any problem nothing is written and each problem is named (field
/// `line_<id>`). Returns the receipt id.
#[instrument(skip_all, fields(po_id))]
pub async fn receive_with(
    db: impl Into<Conn<'_>>,
    actor: &Actor,
    base: Currency,
    po_id: i64,
    input: &ReceiptInput,
    serials: Serials,
) -> AppResult<Result<i64, SerialTaken>> {
    let mut work = db::work(db).await?;
    let tx: &mut Tx = &mut work;
    if !locations::exists(&mut *tx, input.location_id).await? {
        let mut f = FieldErrors::default();
        f.add("location_id", Msg::new("validation.required"));
        return Err(AppError::Validation(f));
    }
    repo::lock_po(tx, po_id).await?;
    let po = repo::get_po(&mut *tx, po_id).await?;
    if !matches!(
        po.status.as_str(),
        "ordered" | "partially_received" | "received"
    ) {
        return Err(AppError::Conflict(Msg::new("receipt.not_open").arg_code(
            "status",
            "po_status",
            &po.status,
        )));
    }
    let lines = repo::lines(&mut *tx, po_id).await?;
    let checked = check_lines(tx, &lines, input, serials).await?;
    if checked.is_empty() {
        return Err(AppError::Conflict(Msg::new("receipt.empty")));
    }
    let costs = repo::costs(&mut *tx, po_id).await?;
    let landed = orders::compute_landed(&po, &lines, &costs, base)?;
    let receipt_id = insert_receipt(tx, po_id, input, actor).await?;
    let mut unit_count = 0usize;
    for c in &checked {
        let idx = lines
            .iter()
            .position(|l| l.id == c.line.id)
            .ok_or(AppError::NotFound)?;
        let out = &landed.lines[idx];
        let first = c.line.received + 1;
        let total: i64 = (first..first + c.quantity)
            .map(|p| position_cost(out, p))
            .sum();
        let rl_id =
            insert_receipt_line(tx, receipt_id, c.line.id, c.quantity, first, total).await?;
        if c.line.serial_tracked {
            // Warranty runs from the day of receipt.
            let months = crate::inventory::warranty::months_for_line(tx, c.line.id).await?;
            let warranty_end = months.and_then(|m| {
                crate::inventory::warranty::add_months(crate::clock::now().date(), m)
            });
            let batch = NewUnits {
                line: &c.line,
                rl_id,
                location_id: input.location_id,
                base,
                warranty_end,
            };
            for (k, chunk) in c.serials.chunks(UNITS_PER_INSERT).enumerate() {
                let first_of_chunk = first + i64::try_from(k * UNITS_PER_INSERT).unwrap_or(0);
                if let Err(taken) = insert_units(tx, &batch, out, first_of_chunk, chunk).await? {
                    return Ok(Err(taken));
                }
            }
            units::record_receipt_movements(tx, actor, rl_id).await?;
            unit_count += c.serials.len();
        } else {
            let m = units::Movement {
                part_model_id: c.line.part_model_id,
                unit_id: None,
                from: None,
                to: Some(input.location_id),
                quantity: c.quantity,
                reason: "receipt",
                receipt_line_id: Some(rl_id),
            };
            units::record_movement(tx, actor, &m).await?;
        }
    }
    let after_lines = repo::lines(&mut *tx, po_id).await?;
    let complete = after_lines.iter().all(|l| l.received >= l.quantity);
    let status = if complete {
        "received"
    } else {
        "partially_received"
    };
    if status != po.status {
        repo::set_status(tx, po_id, status).await?;
    }
    let summary = serde_json::json!({
        "po": po.number,
        "location_id": input.location_id,
        "lines": checked.iter().map(|c| serde_json::json!({"po_line_id": c.line.id, "quantity": c.quantity})).collect::<Vec<_>>(),
        "units_created": unit_count,
        "order_status": status,
    });
    audit::record(
        tx,
        actor,
        Action::Create,
        "receipt",
        receipt_id,
        None,
        Some(&summary),
    )
    .await?;
    work.commit().await?;
    Ok(Ok(receipt_id))
}

async fn check_lines(
    tx: &mut Tx,
    lines: &[repo::LineRow],
    input: &ReceiptInput,
    lookup: Serials,
) -> AppResult<Vec<Checked>> {
    let mut errors = FieldErrors::default();
    let mut over = Vec::new();
    let mut out = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for r in &input.lines {
        let field = format!("line_{}", r.po_line_id);
        let Some(line) = lines.iter().find(|l| l.id == r.po_line_id) else {
            errors.add(&field, Msg::new("receipt.unknown_line"));
            continue;
        };
        let serials: Vec<String> = r
            .serials
            .iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let quantity = if line.serial_tracked && r.quantity == 0 {
            i64::try_from(serials.len()).unwrap_or(0)
        } else {
            r.quantity
        };
        if quantity == 0 && serials.is_empty() {
            continue;
        }
        if quantity < 0 {
            errors.add(&field, Msg::new("validation.quantity"));
            continue;
        }
        if line.serial_tracked && i64::try_from(serials.len()).unwrap_or(-1) != quantity {
            errors.add(
                &field,
                Msg::new("receipt.serial_count")
                    .arg("mpn", &line.mpn)
                    .arg("quantity", quantity)
                    .arg("serials", serials.len()),
            );
            continue;
        }
        if !line.serial_tracked && !serials.is_empty() {
            errors.add(&field, SerialProblem::CountedPart.msg(line, ""));
            continue;
        }
        // Checked before any look-up: PostgreSQL refuses a NUL in text outright.
        let bad: Vec<Msg> = serials
            .iter()
            .filter_map(|s| check_serial(line, s, None).err().map(|p| p.msg(line, s)))
            .collect();
        if !bad.is_empty() {
            for m in bad {
                errors.add(&field, m);
            }
            continue;
        }
        let on_record = match lookup {
            Serials::LookUp => {
                let as_str: Vec<&str> = serials.iter().map(String::as_str).collect();
                units::find_serials(tx, &line.manufacturer, &as_str).await?
            }
            Serials::CheckedInThisTransaction => HashMap::new(),
        };
        for s in &serials {
            let key = units::serial_key(s);
            if !seen.insert((line.manufacturer.clone(), key.clone())) {
                errors.add(&field, Msg::new("receipt.serial_twice").arg("serial", s));
            } else if let Err(problem) = check_serial(line, s, on_record.get(&key)) {
                errors.add(&field, problem.msg(line, s));
            }
        }
        if line.received + quantity > line.quantity {
            over.push(format!(
                "{} ({}/{} + {})",
                line.mpn, line.received, line.quantity, quantity
            ));
        }
        out.push(Checked {
            line: line.clone(),
            quantity,
            serials,
        });
    }
    errors.into_result()?;
    if !over.is_empty() && !input.confirm_over {
        return Err(AppError::Conflict(
            Msg::new("receipt.over").arg("lines", over.join(", ")),
        ));
    }
    Ok(out)
}

async fn insert_receipt(
    tx: &mut Tx,
    po_id: i64,
    input: &ReceiptInput,
    actor: &Actor,
) -> AppResult<i64> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into receipts (po_id, location_id, received_by, notes, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5) returning id",
        )
        .bind(po_id)
        .bind(input.location_id)
        .bind(actor.user_id)
        .bind(input.notes.trim())
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

async fn insert_receipt_line(
    tx: &mut Tx,
    receipt_id: i64,
    po_line_id: i64,
    qty: i64,
    first: i64,
    cost: i64,
) -> AppResult<i64> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into receipt_lines (receipt_id, po_line_id, quantity, first_position, landed_cost_minor, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $6) returning id",
        )
        .bind(receipt_id)
        .bind(po_line_id)
        .bind(qty)
        .bind(first)
        .bind(cost)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// Units per insert statement.
const UNITS_PER_INSERT: usize = 2_000;

/// What the units of one receipt line share.
struct NewUnits<'a> {
    line: &'a repo::LineRow,
    rl_id: i64,
    location_id: i64,
    base: Currency,
    warranty_end: Option<time::Date>,
}

/// Inserts the units of `serials`, at positions from `first` on, through
/// [`units::insert_received`]; a serial on record is [`SerialTaken`],
/// naming the serials of the batch.
async fn insert_units(
    tx: &mut Tx,
    u: &NewUnits<'_>,
    out: &super::landed::LineOut,
    first: i64,
    serials: &[String],
) -> AppResult<Result<(), SerialTaken>> {
    let units: Vec<(&str, i64)> = (first..)
        .zip(serials)
        .map(|(position, serial)| (serial.as_str(), position_cost(out, position)))
        .collect();
    let received = units::Received {
        part_model_id: u.line.part_model_id,
        manufacturer: &u.line.manufacturer,
        po_line_id: u.line.id,
        receipt_line_id: u.rl_id,
        first_position: first,
        location_id: u.location_id,
        currency: u.base.code(),
        warranty_end: u.warranty_end,
    };
    match units::insert_received(tx, &received, &units).await {
        Ok(()) => Ok(Ok(())),
        // Another receipt committed one of these serials between our check and this insert.
        Err(DbError::Unique(_)) => {
            let span = match (serials.first(), serials.last()) {
                (Some(a), Some(b)) if a != b => format!("{a} … {b}"),
                (Some(a), _) => a.clone(),
                _ => String::new(),
            };
            Ok(Err(SerialTaken(
                Msg::new("receipt.serial_twice").arg("serial", span),
            )))
        }
        Err(other) => Err(other.into()),
    }
}

/// One page of the units received on an order, by line and position, and
/// how many there are in all.
pub async fn received_units(
    db: &Db,
    po_id: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<units::ReceivedUnit>, i64), DbError> {
    let rows = crate::on!(db, |p| {
        sqlx::query_as(
            "select u.id, u.po_line_id, m.mpn, u.serial, u.status, u.landed_cost_minor, u.cost_currency
             from units u join po_lines l on l.id = u.po_line_id join part_models m on m.id = u.part_model_id
             where l.po_id = $1 order by l.line_no, u.position limit $2 offset $3",
        )
        .bind(po_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(p)
        .await
    })?;
    let total = crate::on!(db, |p| {
        sqlx::query_scalar(
            "select count(*) from units u join po_lines l on l.id = u.po_line_id where l.po_id = $1",
        )
        .bind(po_id)
        .fetch_one(p)
        .await
    })?;
    Ok((rows, total))
}

/// How many units of each order line are in each status: `(line id,
/// status, count)`, for the counts per line on a big order's page.
pub async fn unit_counts_by_line(db: &Db, po_id: i64) -> Result<Vec<(i64, String, i64)>, DbError> {
    Ok(crate::on!(db, |p| {
        sqlx::query_as(
            "select u.po_line_id, u.status, count(*) from units u join po_lines l on l.id = u.po_line_id
             where l.po_id = $1 group by u.po_line_id, u.status",
        )
        .bind(po_id)
        .fetch_all(p)
        .await
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_serials_split_on_lines_commas_and_tabs() {
        assert_eq!(
            split_serials(" S1\r\nS2,S3\t S4 \n\n"),
            vec!["S1", "S2", "S3", "S4"]
        );
        assert!(split_serials("  \n ").is_empty());
    }
}
