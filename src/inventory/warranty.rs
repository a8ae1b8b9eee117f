//! Warranty: months per supplier and part model (an order line may override
//! them) give each unit a warranty end counted from its receipt date.

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::{exec, on};

/// `date` plus `months` calendar months, the day clamped to the month's end
/// (31 January + 1 month = 28 or 29 February).
pub fn add_months(date: Date, months: i64) -> Option<Date> {
    let total = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(time::util::days_in_month(month, year));
    Date::from_calendar_date(year, month, day).ok()
}

/// The warranty months that apply to units received on an order line: the
/// line's own, else the supplier's term for the part model.
pub async fn months_for_line(tx: &mut Tx, po_line_id: i64) -> Result<Option<i64>, DbError> {
    let months: Option<Option<i64>> = on!(tx, |c| {
        sqlx::query_scalar(
            "select coalesce(l.warranty_months,
                    (select w.months from warranty_terms w where w.supplier_id = o.supplier_id and w.part_model_id = l.part_model_id))
             from po_lines l join purchase_orders o on o.id = l.po_id where l.id = $1",
        )
        .bind(po_line_id)
        .fetch_optional(c)
        .await
    })?;
    Ok(months.flatten())
}

/// Input for a warranty term.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TermInput {
    /// Supplier id.
    pub supplier_id: i64,
    /// Part model id.
    pub part_model_id: i64,
    /// Months of warranty from receipt.
    pub months: String,
}

/// Sets the warranty months a supplier gives on a part model.
pub async fn set_term(db: &Db, actor: &Actor, input: &TermInput) -> AppResult<()> {
    let Some(months) = input
        .months
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|m| (0..=240).contains(m))
    else {
        let mut f = FieldErrors::default();
        f.add(
            "months",
            Msg::new("validation.whole_number").arg("value", input.months.trim()),
        );
        return Err(AppError::Validation(f));
    };
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let n = exec!(&mut tx, |c| {
        sqlx::query("update warranty_terms set months = $1, updated_at = $2 where supplier_id = $3 and part_model_id = $4")
            .bind(months)
            .bind(now)
            .bind(input.supplier_id)
            .bind(input.part_model_id)
            .execute(c)
            .await
    })?;
    if n == 0 {
        exec!(&mut tx, |c| {
            sqlx::query(
                "insert into warranty_terms (supplier_id, part_model_id, months, created_at, updated_at) values ($1, $2, $3, $4, $4)",
            )
            .bind(input.supplier_id)
            .bind(input.part_model_id)
            .bind(months)
            .bind(now)
            .execute(c)
            .await
        })?;
    }
    let after = serde_json::json!({"supplier_id": input.supplier_id, "part_model_id": input.part_model_id, "months": months});
    let key = format!("{}/{}", input.supplier_id, input.part_model_id);
    audit::record(
        &mut tx,
        actor,
        if n == 0 {
            Action::Create
        } else {
            Action::Update
        },
        "warranty_term",
        key,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A unit whose warranty matters now.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct WarrantyRow {
    /// Unit id.
    pub unit_id: i64,
    /// Serial.
    pub serial: String,
    /// MPN.
    pub mpn: String,
    /// Status.
    pub status: String,
    /// Warranty end.
    #[schema(value_type = String)]
    pub warranty_end: Date,
    /// Asset it is in, if installed.
    pub asset_tag: Option<String>,
}

const WARRANTY_SELECT: &str = "select u.id as unit_id, u.serial, m.mpn, u.status, u.warranty_end, a.asset_tag
    from units u join part_models m on m.id = u.part_model_id left join assets a on a.id = u.asset_id";

/// Units (not scrapped) whose warranty ends between `today` and `until`, soonest first.
pub async fn ending(db: &Db, today: Date, until: Date) -> Result<Vec<WarrantyRow>, DbError> {
    let sql = format!(
        "{WARRANTY_SELECT} where u.warranty_end >= $1 and u.warranty_end <= $2 and u.status <> 'scrapped'
         order by u.warranty_end, u.serial limit 1000"
    );
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(today)
    .bind(until)
    .fetch_all(p)
    .await)?)
}

/// Installed units whose warranty has already ended.
pub async fn expired_in_service(db: &Db, today: Date) -> Result<Vec<WarrantyRow>, DbError> {
    let sql = format!(
        "{WARRANTY_SELECT} where u.warranty_end < $1 and u.status = 'installed' order by u.warranty_end, u.serial limit 1000"
    );
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(today)
    .fetch_all(p)
    .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_added_with_the_day_clamped_to_the_month_end() {
        assert_eq!(
            add_months(date!(2026 - 01 - 31), 1),
            Some(date!(2026 - 02 - 28))
        );
        assert_eq!(
            add_months(date!(2028 - 01 - 31), 1),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2026 - 11 - 27), 36),
            Some(date!(2029 - 11 - 27))
        );
        assert_eq!(
            add_months(date!(2026 - 11 - 27), 2),
            Some(date!(2027 - 01 - 27))
        );
        assert_eq!(
            add_months(date!(2026 - 11 - 27), 0),
            Some(date!(2026 - 11 - 27))
        );
    }
}
