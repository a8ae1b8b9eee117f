//! RMA: a faulty unit goes back to the supplier it was bought from (found
//! through its purchase order) and comes back replaced, credited or rejected.
//!
//! Cost rule: a replacement unit carries the landed cost of the unit it
//! replaces (the money was spent once, on the original), so asset and stock
//! values do not change. A credit is money back from the supplier, recorded on
//! the RMA in its currency (shown to roles that see money); it does not restate
//! any other unit's cost. The returned unit is scrapped
//! from our books when it is replaced or credited, and comes back as faulty
//! when the supplier rejects the claim.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::units::UnitStatus;
use crate::audit::{self, Action, Actor};
use crate::db::{self, Conn, Db, DbDecimal, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::{Currency, Money};
use crate::{exec, on};

/// An RMA as listed.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Rma {
    /// Row id.
    pub id: i64,
    /// Faulty unit.
    pub unit_id: i64,
    /// Its serial.
    pub serial: String,
    /// Its MPN.
    pub mpn: String,
    /// Supplier it went back to.
    pub supplier_id: i64,
    /// Supplier name.
    pub supplier_name: String,
    /// Order it was bought on.
    pub po_number: Option<String>,
    /// Whether it was under warranty when sent.
    pub under_warranty: bool,
    /// shipped, replaced, credited or rejected.
    pub status: String,
    /// Why it was sent.
    pub reason: String,
    /// The replacement unit, when replaced.
    pub replacement_unit_id: Option<i64>,
    /// Credit amount, when credited.
    #[serde(skip)]
    pub credit_amount: Option<DbDecimal>,
    /// Credit currency.
    pub credit_currency: Option<String>,
    /// The unit's warranty end, when known (when not, "not under
    /// warranty" means unknown).
    pub warranty_end: Option<time::Date>,
}

impl Rma {
    /// The credit as money, if any.
    pub fn credit(&self) -> Option<Money> {
        Some(Money::new(
            self.credit_amount?.0,
            Currency::parse(self.credit_currency.as_deref()?)?,
        ))
    }
}

const RMA_SELECT: &str = "select r.id, r.unit_id, u.serial, m.mpn, r.supplier_id, s.name as supplier_name,
    o.number as po_number, r.under_warranty, r.status, r.reason, r.replacement_unit_id, r.credit_amount, r.credit_currency, u.warranty_end
    from rmas r join units u on u.id = r.unit_id join part_models m on m.id = u.part_model_id
    join suppliers s on s.id = r.supplier_id left join purchase_orders o on o.id = r.po_id";

/// RMAs, open ones first, newest first.
pub async fn list(db: &Db) -> Result<Vec<Rma>, DbError> {
    let sql = format!("{RMA_SELECT} order by r.status <> 'shipped', r.id desc limit 500");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_all(p)
    .await)?)
}

/// The RMAs of one unit.
pub async fn for_unit(db: &Db, unit_id: i64) -> Result<Vec<Rma>, DbError> {
    let sql =
        format!("{RMA_SELECT} where r.unit_id = $1 or r.replacement_unit_id = $1 order by r.id");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(unit_id)
    .fetch_all(p)
    .await)?)
}

async fn get(tx: &mut Tx, id: i64) -> AppResult<Rma> {
    let sql = format!("{RMA_SELECT} where r.id = $1");
    Ok(on!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(id)
    .fetch_one(c)
    .await)?)
}

/// Input for sending a faulty unit back.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct OpenInput {
    /// Serial of the faulty unit.
    pub serial: String,
    /// What is wrong with it.
    #[serde(default)]
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct Faulty {
    id: i64,
    status: UnitStatus,
    location_id: Option<i64>,
    part_model_id: i64,
    supplier_id: Option<i64>,
    po_id: Option<i64>,
    warranty_end: Option<time::Date>,
}

/// Sends a faulty unit back to the supplier of the order it came on.
#[instrument(skip_all)]
pub async fn open(db: impl Into<Conn<'_>>, actor: &Actor, input: &OpenInput) -> AppResult<i64> {
    let mut work = db::work(db).await?;
    let tx: &mut Tx = &mut work;
    let serial = input.serial.trim();
    let unit: Option<Faulty> = match super::units::find_by_serial(tx, serial, UnitStatus::Faulty)
        .await?
    {
        None => None,
        Some(id) => on!(tx, |c| {
            sqlx::query_as(
                "select u.id, u.status, u.location_id, u.part_model_id, o.supplier_id, o.id as po_id, u.warranty_end
                 from units u left join po_lines l on l.id = u.po_line_id left join purchase_orders o on o.id = l.po_id
                 where u.id = $1",
            )
            .bind(id)
            .fetch_optional(c)
            .await
        })?,
    };
    let field = |key: &'static str| {
        let mut f = FieldErrors::default();
        f.add("serial", Msg::new(key).arg("serial", serial));
        AppError::Validation(f)
    };
    let Some(unit) = unit else {
        return Err(field("rma.unknown_serial"));
    };
    if unit.status != UnitStatus::Faulty {
        return Err(AppError::Conflict(
            Msg::new("rma.not_faulty").arg("serial", serial).arg_code(
                "status",
                "unit_status",
                unit.status.as_str(),
            ),
        ));
    }
    let Some(supplier_id) = unit.supplier_id else {
        return Err(field("rma.no_supplier"));
    };
    let today = crate::clock::now().date();
    let under_warranty = unit.warranty_end.is_some_and(|end| end >= today);
    let now = crate::clock::now();
    // Claim the unit first, only if still faulty: two clients that both read
    // `faulty` must not both send it back (PostgreSQL reads committed data,
    // so the check above alone lets both through).
    if !super::units::claim_for_rma(tx, unit.id).await? {
        let now_status: UnitStatus = on!(tx, |c| {
            sqlx::query_scalar("select status from units where id = $1")
                .bind(unit.id)
                .fetch_one(c)
                .await
        })?;
        return Err(AppError::Conflict(
            Msg::new("rma.not_faulty").arg("serial", serial).arg_code(
                "status",
                "unit_status",
                now_status.as_str(),
            ),
        ));
    }
    let id: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "insert into rmas (unit_id, supplier_id, po_id, under_warranty, status, reason, created_by, created_at, updated_at)
             values ($1, $2, $3, $4, 'shipped', $5, $6, $7, $7) returning id",
        )
        .bind(unit.id)
        .bind(supplier_id)
        .bind(unit.po_id)
        .bind(under_warranty)
        .bind(input.reason.trim())
        .bind(actor.user_id)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    if let Some(from) = unit.location_id {
        movement(
            tx,
            actor,
            unit.part_model_id,
            unit.id,
            Some(from),
            None,
            "rma",
        )
        .await?;
    }
    let after = get(tx, id).await?;
    audit::record(tx, actor, Action::Create, "rma", id, None, Some(&after)).await?;
    work.commit().await?;
    Ok(id)
}

async fn movement(
    tx: &mut Tx,
    actor: &Actor,
    part: i64,
    unit: i64,
    from: Option<i64>,
    to: Option<i64>,
    reason: &str,
) -> AppResult<()> {
    let m = super::units::Movement {
        part_model_id: part,
        unit_id: Some(unit),
        from,
        to,
        quantity: 1,
        reason,
        receipt_line_id: None,
    };
    super::units::record_movement(tx, actor, &m).await?;
    Ok(())
}

/// How an RMA ended.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ResolveInput {
    /// replaced, credited or rejected.
    pub outcome: String,
    /// Serial of the replacement (replaced).
    #[serde(default)]
    pub replacement_serial: Option<String>,
    /// Credit amount (credited).
    #[serde(default)]
    pub credit_amount: Option<String>,
    /// Credit currency (credited).
    #[serde(default)]
    pub credit_currency: Option<String>,
    /// Stock location the replacement or the rejected unit goes to.
    pub location_id: i64,
}

impl crate::money::MoneyInput for ResolveInput {
    fn money_fields(&self) -> Vec<&'static str> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let mut out = Vec::new();
        if self
            .credit_amount
            .as_deref()
            .is_some_and(crate::money::sets_money)
        {
            out.push("credit_amount");
        }
        if given(&self.credit_currency) {
            out.push("credit_currency");
        }
        out
    }
}

/// Closes an RMA as replaced, credited or rejected (see the module's cost rule).
#[instrument(skip_all, fields(rma = id))]
pub async fn resolve(db: &Db, actor: &Actor, id: i64, input: &ResolveInput) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let before = get(&mut tx, id).await?;
    if before.status != "shipped" {
        return Err(AppError::Conflict(Msg::new("rma.closed").arg_code(
            "status",
            "rma_status",
            &before.status,
        )));
    }
    let now = crate::clock::now();
    let (part, manufacturer, landed, currency, po_line): (i64, String, i64, String, Option<i64>) =
        on!(&mut tx, |c| {
            sqlx::query_as("select part_model_id, manufacturer, landed_cost_minor, cost_currency, po_line_id from units where id = $1")
            .bind(before.unit_id)
            .fetch_one(c)
            .await
        })?;
    let mut errors = FieldErrors::default();
    match input.outcome.as_str() {
        "replaced" => {
            let serial = input
                .replacement_serial
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty());
            let Some(serial) = serial else {
                errors.add("replacement_serial", Msg::new("validation.required"));
                return Err(AppError::Validation(errors));
            };
            if let Err(bad) = super::units::Serial::parse(serial) {
                errors.add("replacement_serial", bad.msg(serial));
                return Err(AppError::Validation(errors));
            }
            let arrived = super::units::Arrived {
                part_model_id: part,
                manufacturer: &manufacturer,
                serial,
                po_line_id: po_line,
                location_id: input.location_id,
                landed_cost_minor: landed,
                currency: &currency,
            };
            let new_id = super::units::insert_arrived(&mut tx, &arrived)
                .await
                .map_err(|e| match e {
                    DbError::Unique(_) => {
                        let mut f = FieldErrors::default();
                        f.add(
                            "replacement_serial",
                            Msg::new("receipt.serial_twice").arg("serial", serial),
                        );
                        AppError::Validation(f)
                    }
                    other => other.into(),
                })?;
            movement(
                &mut tx,
                actor,
                part,
                new_id,
                None,
                Some(input.location_id),
                "rma_replacement",
            )
            .await?;
            set_unit_status(&mut tx, before.unit_id, UnitStatus::Scrapped, None).await?;
            exec!(&mut tx, |c| {
                sqlx::query("update rmas set status = 'replaced', replacement_unit_id = $1, updated_at = $2 where id = $3")
                    .bind(new_id)
                    .bind(now)
                    .bind(id)
                    .execute(c)
                    .await
            })?;
        }
        "credited" => {
            let amount = input
                .credit_amount
                .as_deref()
                .and_then(crate::procurement::model::parse_price);
            let currency = input.credit_currency.as_deref().and_then(Currency::parse);
            if amount.is_none() {
                errors.add("credit_amount", Msg::new("validation.price"));
            }
            if currency.is_none() {
                errors.add(
                    "credit_currency",
                    Msg::new("validation.currency")
                        .arg("value", input.credit_currency.as_deref().unwrap_or("")),
                );
            }
            errors.into_result()?;
            let (amount, currency): (Decimal, Currency) =
                amount.zip(currency).ok_or(AppError::NotFound)?;
            set_unit_status(&mut tx, before.unit_id, UnitStatus::Scrapped, None).await?;
            exec!(&mut tx, |c| {
                sqlx::query("update rmas set status = 'credited', credit_amount = $1, credit_currency = $2, updated_at = $3 where id = $4")
                    .bind(DbDecimal(amount))
                    .bind(currency.code())
                    .bind(now)
                    .bind(id)
                    .execute(c)
                    .await
            })?;
        }
        "rejected" => {
            set_unit_status(
                &mut tx,
                before.unit_id,
                UnitStatus::Faulty,
                Some(input.location_id),
            )
            .await?;
            movement(
                &mut tx,
                actor,
                part,
                before.unit_id,
                None,
                Some(input.location_id),
                "rma_rejected",
            )
            .await?;
            exec!(&mut tx, |c| {
                sqlx::query("update rmas set status = 'rejected', updated_at = $1 where id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(c)
                    .await
            })?;
        }
        _ => {
            errors.add("outcome", Msg::new("validation.required"));
            return Err(AppError::Validation(errors));
        }
    }
    let after = get(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "rma",
        id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn set_unit_status(
    tx: &mut Tx,
    unit: i64,
    status: UnitStatus,
    location: Option<i64>,
) -> AppResult<()> {
    Ok(super::units::set_status(tx, unit, status, location).await?)
}
