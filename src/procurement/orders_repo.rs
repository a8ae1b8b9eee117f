//! Queries for purchase orders, their lines and extra costs.

use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::db::{Conn, Db, DbDecimal, DbError, Sort, Tx};
use crate::{exec, on};

/// A purchase order header as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct PoRow {
    /// Row id.
    pub id: i64,
    /// Human number, `PO-2026-0001`.
    pub number: String,
    /// Supplier id.
    pub supplier_id: i64,
    /// Supplier name (joined).
    pub supplier_name: String,
    /// Order currency.
    pub currency: String,
    /// Base units per order-currency unit.
    #[serde(serialize_with = "ser_dec")]
    pub fx_rate: DbDecimal,
    /// Date of that rate.
    pub fx_rate_date: Date,
    /// Where the rate came from.
    pub fx_source: String,
    /// Status name.
    pub status: String,
    /// Day ordered.
    pub order_date: Option<Date>,
    /// Day expected.
    pub expected_date: Option<Date>,
    /// Notes.
    pub notes: String,
    /// Created, UTC.
    #[serde(skip)]
    pub created_at: OffsetDateTime,
    /// Changed, UTC.
    #[serde(skip)]
    pub updated_at: OffsetDateTime,
}

fn ser_dec<S: serde::Serializer>(d: &DbDecimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.0.to_string())
}

const PO_SELECT: &str = "select o.id, o.number, o.supplier_id, s.name as supplier_name, o.currency, o.fx_rate,
    o.fx_rate_date, o.fx_source, o.status, o.order_date, o.expected_date, o.notes, o.created_at, o.updated_at
    from purchase_orders o join suppliers s on s.id = o.supplier_id";

/// One order line with its part model and how much has arrived.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct LineRow {
    /// Row id.
    pub id: i64,
    /// Position on the order, from 1.
    pub line_no: i64,
    /// Part model id.
    pub part_model_id: i64,
    /// Manufacturer (joined).
    pub manufacturer: String,
    /// MPN (joined).
    pub mpn: String,
    /// Description (joined).
    pub description: String,
    /// Serial-tracked (joined).
    pub serial_tracked: bool,
    /// Units ordered.
    pub quantity: i64,
    /// Unit price in the order currency.
    #[serde(serialize_with = "ser_dec")]
    pub unit_price: DbDecimal,
    /// Grams per unit, for weight-based costs.
    pub unit_weight_g: Option<i64>,
    /// Units received so far.
    pub received: i64,
}

/// One extra cost of an order.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct CostRow {
    /// Row id.
    pub id: i64,
    /// freight, insurance, customs_duty, brokerage, other or import_vat.
    pub kind: String,
    /// Free text (invoice number, forwarder).
    pub description: String,
    /// Amount in `currency`.
    #[serde(serialize_with = "ser_dec")]
    pub amount: DbDecimal,
    /// Currency of the amount.
    pub currency: String,
    /// Base units per unit of `currency`.
    #[serde(serialize_with = "ser_dec")]
    pub fx_rate: DbDecimal,
    /// value, quantity or weight.
    pub basis: String,
}

/// Fields of a new order.
pub struct NewPo<'a> {
    /// Number.
    pub number: &'a str,
    /// Supplier.
    pub supplier_id: i64,
    /// Currency code.
    pub currency: &'a str,
    /// Rate.
    pub fx_rate: Decimal,
    /// Rate date.
    pub fx_rate_date: Date,
    /// Rate source.
    pub fx_source: &'a str,
    /// Order date.
    pub order_date: Option<Date>,
    /// Expected date.
    pub expected_date: Option<Date>,
    /// Notes.
    pub notes: &'a str,
}

/// Inserts an order in draft; returns its id.
pub async fn insert_po(tx: &mut Tx, p: &NewPo<'_>) -> Result<i64, DbError> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into purchase_orders (number, supplier_id, currency, fx_rate, fx_rate_date, fx_source, status,
               order_date, expected_date, notes, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $9, $10, $10) returning id",
        )
        .bind(p.number)
        .bind(p.supplier_id)
        .bind(p.currency)
        .bind(DbDecimal(p.fx_rate))
        .bind(p.fx_rate_date)
        .bind(p.fx_source)
        .bind(p.order_date)
        .bind(p.expected_date)
        .bind(p.notes)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// How many orders have a number starting with `prefix` (for numbering).
pub async fn count_numbers(tx: &mut Tx, prefix: &str) -> Result<i64, DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("select count(*) from purchase_orders where number like $1")
            .bind(format!("{prefix}%"))
            .fetch_one(c)
            .await
    })?)
}

/// One order.
pub async fn get_po(db: impl Into<Conn<'_>>, id: i64) -> Result<PoRow, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("{PO_SELECT} where o.id = $1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(p)
    .await)?)
}

/// Locks an order row for the rest of the transaction (PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already holds the writer lock).
pub async fn lock_po(tx: &mut Tx, id: i64) -> Result<(), DbError> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("select id from purchase_orders where id = $1 for update")
            .bind(id)
            .fetch_one(&mut **t)
            .await?;
    }
    Ok(())
}

/// Filters of the order list beyond a status (the homes link to them):
/// orders still awaiting delivery whose expected date has passed (`late`),
/// falls in the next seven days (`due_week`), or any (`awaiting`).
pub const DUE_FILTERS: [&str; 3] = ["late", "due_week", "awaiting"];

/// Orders, newest first, filtered by status (or one of [`DUE_FILTERS`]) and a
/// search over number and supplier.
pub async fn list_pos(
    db: &Db,
    q: Option<&str>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PoRow>, i64), DbError> {
    list_pos_sorted(db, q, status, &Sort::default(), limit, offset).await
}

/// The columns the order list sorts by (`key`, SQL).
pub const PO_SORTS: &[(&str, &str)] = &[
    ("number", "o.number"),
    ("supplier", "lower(s.name)"),
    ("status", "o.status"),
    ("currency", "o.currency"),
    ("order_date", "o.order_date"),
    ("expected_date", "o.expected_date"),
];

/// As [`list_pos`], in the order of `sort` (a key of [`PO_SORTS`]; else newest first).
pub async fn list_pos_sorted(
    db: &Db,
    q: Option<&str>,
    status: Option<&str>,
    sort: &Sort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PoRow>, i64), DbError> {
    let pattern = q.map(crate::db::like_contains);
    let today = crate::clock::now().date();
    let week_end = today + time::Duration::days(7);
    let filter =
        "where (cast($1 as text) is null or lower(o.number) like $1 escape '\\' or lower(s.name) like $1 escape '\\')
                    and (cast($2 as text) is null or o.status = $2
                         or (o.status in ('ordered', 'partially_received')
                             and ($2 = 'awaiting'
                                  or ($2 = 'late' and o.expected_date < $3)
                                  or ($2 = 'due_week' and o.expected_date >= $3 and o.expected_date < $4))))";
    let order = sort.order_by(PO_SORTS, "o.id desc", "o.id");
    let sql = format!("{PO_SELECT} {filter} order by {order} limit $5 offset $6");
    let rows = on!(db, |p| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&pattern)
            .bind(status)
            .bind(today)
            .bind(week_end)
            .bind(limit)
            .bind(offset)
            .fetch_all(p)
            .await
    })?;
    let count = format!(
        "select count(*) from purchase_orders o join suppliers s on s.id = o.supplier_id {filter}"
    );
    let total = on!(db, |p| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone()))
            .bind(&pattern)
            .bind(status)
            .bind(today)
            .bind(week_end)
            .fetch_one(p)
            .await
    })?;
    Ok((rows, total))
}

/// Sets an order's status.
pub async fn set_status(tx: &mut Tx, id: i64, status: &str) -> Result<(), DbError> {
    let now = crate::clock::now();
    exec!(tx, |c| {
        sqlx::query("update purchase_orders set status = $1, updated_at = $2 where id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(())
}

const LINE_SELECT: &str = "select l.id, l.line_no, l.part_model_id, m.manufacturer, m.mpn, m.description, m.serial_tracked,
    l.quantity, l.unit_price, l.unit_weight_g,
    cast(coalesce((select sum(r.quantity) from receipt_lines r where r.po_line_id = l.id), 0) as bigint) as received
    from po_lines l join part_models m on m.id = l.part_model_id";

/// The lines of an order, in order.
pub async fn lines(db: impl Into<Conn<'_>>, po_id: i64) -> Result<Vec<LineRow>, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("{LINE_SELECT} where l.po_id = $1 order by l.line_no");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(po_id)
    .fetch_all(p)
    .await)?)
}

/// A validated order line.
pub struct NewLine {
    /// Part model.
    pub part_model_id: i64,
    /// Units ordered.
    pub quantity: i64,
    /// Unit price, order currency.
    pub unit_price: Decimal,
    /// Grams per unit.
    pub unit_weight_g: Option<i64>,
    /// Warranty months for these units, overriding the supplier's term.
    pub warranty_months: Option<i64>,
}

/// Appends a line; returns its id.
pub async fn insert_line(tx: &mut Tx, po_id: i64, l: &NewLine) -> Result<i64, DbError> {
    let now = crate::clock::now();
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "insert into po_lines (po_id, line_no, part_model_id, quantity, unit_price, unit_weight_g, warranty_months,
               created_at, updated_at)
             values ($1, (select coalesce(max(line_no), 0) + 1 from po_lines where po_id = $1), $2, $3, $4, $5, $6, $7, $7)
             returning id",
        )
        .bind(po_id)
        .bind(l.part_model_id)
        .bind(l.quantity)
        .bind(DbDecimal(l.unit_price))
        .bind(l.unit_weight_g)
        .bind(l.warranty_months)
        .bind(now)
        .fetch_one(c)
        .await
    })?)
}

/// Deletes a line of an order.
pub async fn delete_line(tx: &mut Tx, po_id: i64, line_id: i64) -> Result<(), DbError> {
    let n = exec!(tx, |c| {
        sqlx::query("delete from po_lines where id = $1 and po_id = $2")
            .bind(line_id)
            .bind(po_id)
            .execute(c)
            .await
    })?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

const COST_SELECT: &str =
    "select id, kind, description, amount, currency, fx_rate, basis from po_costs";

/// An order line or cost with the order it belongs to (for reports over many orders).
#[derive(sqlx::FromRow)]
pub struct OfOrder<T> {
    /// Order id.
    pub po_id: i64,
    /// The row.
    #[sqlx(flatten)]
    pub row: T,
}

/// The lines of every placed order (not draft or cancelled), in one query.
pub async fn lines_of_placed_orders(db: &Db) -> Result<Vec<OfOrder<LineRow>>, DbError> {
    let sql = format!(
        "{} where o.status not in ('draft', 'cancelled') order by l.po_id, l.line_no",
        LINE_SELECT.replacen(
            " from po_lines l",
            ", l.po_id from po_lines l join purchase_orders o on o.id = l.po_id",
            1
        )
    );
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_all(p)
    .await)?)
}

/// The extra costs of every placed order, in one query.
pub async fn costs_of_placed_orders(db: &Db) -> Result<Vec<OfOrder<CostRow>>, DbError> {
    let sql =
        "select c.po_id, c.id, c.kind, c.description, c.amount, c.currency, c.fx_rate, c.basis
               from po_costs c join purchase_orders o on o.id = c.po_id
               where o.status not in ('draft', 'cancelled') order by c.po_id, c.id";
    Ok(on!(db, |p| sqlx::query_as(sql).fetch_all(p).await)?)
}

/// The extra costs of an order.
pub async fn costs(db: impl Into<Conn<'_>>, po_id: i64) -> Result<Vec<CostRow>, DbError> {
    let mut db: Conn<'_> = db.into();
    let sql = format!("{COST_SELECT} where po_id = $1 order by id");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(po_id)
    .fetch_all(p)
    .await)?)
}

/// A validated extra cost.
pub struct NewCost<'a> {
    /// Kind.
    pub kind: &'a str,
    /// Description.
    pub description: &'a str,
    /// Amount.
    pub amount: Decimal,
    /// Currency.
    pub currency: &'a str,
    /// Rate to base.
    pub fx_rate: Decimal,
    /// Basis.
    pub basis: &'a str,
}

/// Adds an extra cost; returns its id.
pub async fn insert_cost(tx: &mut Tx, po_id: i64, c: &NewCost<'_>) -> Result<i64, DbError> {
    let now = crate::clock::now();
    Ok(on!(tx, |conn| {
        sqlx::query_scalar(
            "insert into po_costs (po_id, kind, description, amount, currency, fx_rate, basis, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning id",
        )
        .bind(po_id)
        .bind(c.kind)
        .bind(c.description)
        .bind(DbDecimal(c.amount))
        .bind(c.currency)
        .bind(DbDecimal(c.fx_rate))
        .bind(c.basis)
        .bind(now)
        .fetch_one(conn)
        .await
    })?)
}

/// Deletes an extra cost.
pub async fn delete_cost(tx: &mut Tx, po_id: i64, cost_id: i64) -> Result<(), DbError> {
    let n = exec!(tx, |c| {
        sqlx::query("delete from po_costs where id = $1 and po_id = $2")
            .bind(cost_id)
            .bind(po_id)
            .execute(c)
            .await
    })?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// Changes an order line's quantity and unit price (an order-lines import).
pub async fn set_line_quantity_price(
    tx: &mut Tx,
    line_id: i64,
    quantity: i64,
    unit_price: rust_decimal::Decimal,
    now: time::OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query(
            "update po_lines set quantity = $1, unit_price = $2, updated_at = $3 where id = $4",
        )
        .bind(quantity)
        .bind(DbDecimal(unit_price))
        .bind(now)
        .bind(line_id)
        .execute(c)
        .await
    })?;
    Ok(())
}
