//! Minimum stock per part model per site, and what is below it.

use serde::{Deserialize, Serialize};

use super::{locations, units};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbDecimal, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::{Currency, Money};
use crate::{exec, on};

/// Input for a minimum stock rule.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MinStockInput {
    /// Part model id.
    pub part_model_id: i64,
    /// Site or other location whose whole subtree counts.
    pub location_id: i64,
    /// Units to keep on hand (0 removes the need to reorder).
    pub min_quantity: String,
    /// Supplier to reorder from (optional; kept on the part model).
    #[serde(default)]
    pub preferred_supplier_id: Option<String>,
}

/// Sets (or replaces) the minimum stock of a part model at a location.
pub async fn set_min_stock(db: &Db, actor: &Actor, input: &MinStockInput) -> AppResult<()> {
    let min = input
        .min_quantity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|m| (0..=10_000_000).contains(m));
    let Some(min) = min else {
        let mut f = FieldErrors::default();
        f.add(
            "min_quantity",
            Msg::new("validation.whole_number").arg("value", input.min_quantity.trim()),
        );
        return Err(AppError::Validation(f));
    };
    let supplier = input
        .preferred_supplier_id
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let before: Option<i64> = on!(&mut tx, |c| {
        sqlx::query_scalar(
            "select min_quantity from min_stock where part_model_id = $1 and location_id = $2",
        )
        .bind(input.part_model_id)
        .bind(input.location_id)
        .fetch_optional(c)
        .await
    })?;
    let written = match before {
        Some(_) => exec!(&mut tx, |c| {
            sqlx::query("update min_stock set min_quantity = $1, updated_at = $2 where part_model_id = $3 and location_id = $4")
                .bind(min)
                .bind(now)
                .bind(input.part_model_id)
                .bind(input.location_id)
                .execute(c)
                .await
        }),
        None => exec!(&mut tx, |c| {
            sqlx::query(
                "insert into min_stock (part_model_id, location_id, min_quantity, created_at, updated_at)
                 values ($1, $2, $3, $4, $4)",
            )
            .bind(input.part_model_id)
            .bind(input.location_id)
            .bind(min)
            .bind(now)
            .execute(c)
            .await
        }),
    };
    written.map_err(|e| match DbError::from(e) {
        DbError::Other(_) => {
            let mut f = FieldErrors::default();
            f.add("part_model_id", Msg::new("validation.required"));
            AppError::Validation(f)
        }
        other => other.into(),
    })?;
    if let Some(s) = supplier {
        crate::procurement::repo::set_preferred_supplier(&mut tx, input.part_model_id, s, now)
            .await?;
    }
    let key = format!("{}@{}", input.part_model_id, input.location_id);
    let after = serde_json::json!({"min_quantity": min, "preferred_supplier_id": supplier});
    let before = before.map(|b| serde_json::json!({ "min_quantity": b }));
    let action = if before.is_some() {
        Action::Update
    } else {
        Action::Create
    };
    audit::record(
        &mut tx,
        actor,
        action,
        "min_stock",
        key,
        before.as_ref(),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A part model below its minimum at a site.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ReorderRow {
    /// Part model id.
    pub part_model_id: i64,
    /// MPN.
    pub mpn: String,
    /// Manufacturer.
    pub manufacturer: String,
    /// Location path the rule is for.
    pub location: String,
    /// Minimum to keep.
    pub min_quantity: i64,
    /// Usable units on hand (not faulty or reserved) in that location and everything inside it.
    pub on_hand: i64,
    /// Minimum minus on hand.
    pub shortfall: i64,
    /// Preferred supplier, else the supplier of the latest order line.
    pub supplier: Option<String>,
    /// Latest order price (or catalogue last price); omitted for roles without money.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_price: Option<Money>,
}

#[derive(sqlx::FromRow)]
struct Rule {
    part_model_id: i64,
    mpn: String,
    manufacturer: String,
    location_id: i64,
    min_quantity: i64,
    preferred: Option<String>,
    last_price: Option<DbDecimal>,
    last_price_currency: Option<String>,
}

#[derive(sqlx::FromRow)]
struct LastOrder {
    supplier: String,
    unit_price: DbDecimal,
    currency: String,
}

/// Every rule whose location (with all locations inside it) holds less than
/// its minimum, by shortfall; prices only when `show_money`.
pub async fn below_minimum(db: &Db, show_money: bool) -> AppResult<Vec<ReorderRow>> {
    let rules: Vec<Rule> = on!(db, |p| {
        sqlx::query_as(
            "select r.part_model_id, m.mpn, m.manufacturer, r.location_id, r.min_quantity, s.name as preferred,
                    m.last_price, m.last_price_currency
             from min_stock r join part_models m on m.id = r.part_model_id
             left join suppliers s on s.id = m.preferred_supplier_id",
        )
        .fetch_all(p)
        .await
    })?;
    let levels = units::stock_levels(db, None).await?;
    // Faulty and reserved units are on the shelf but cannot be used: not stock to reorder against.
    let unusable: Vec<(i64, i64)> = on!(db, |p| {
        sqlx::query_as(
            "select part_model_id, location_id from units where status in ('faulty', 'reserved') and location_id is not null",
        )
        .fetch_all(p)
        .await
    })?;
    let tree = locations::LocationTree::load(db).await?;
    let mut out = Vec::new();
    for r in rules {
        let on_hand: i64 = levels
            .iter()
            .filter(|l| {
                l.part_model_id == r.part_model_id && tree.is_within(l.location_id, r.location_id)
            })
            .map(|l| l.quantity)
            .sum();
        let blocked = unusable
            .iter()
            .filter(|(part, loc)| *part == r.part_model_id && tree.is_within(*loc, r.location_id))
            .count();
        let on_hand = on_hand - i64::try_from(blocked).unwrap_or(0);
        if on_hand >= r.min_quantity {
            continue;
        }
        let last: Option<LastOrder> = on!(db, |p| {
            sqlx::query_as(
                "select s.name as supplier, l.unit_price, o.currency from po_lines l
                 join purchase_orders o on o.id = l.po_id join suppliers s on s.id = o.supplier_id
                 where l.part_model_id = $1 and o.status not in ('draft', 'cancelled')
                 order by o.id desc limit 1",
            )
            .bind(r.part_model_id)
            .fetch_optional(p)
            .await
        })?;
        let catalogue_price = r
            .last_price
            .zip(r.last_price_currency.as_deref().and_then(Currency::parse));
        let price = match &last {
            Some(o) => Currency::parse(&o.currency).map(|c| Money::new(o.unit_price.0, c)),
            None => catalogue_price.map(|(p, c)| Money::new(p.0, c)),
        };
        out.push(ReorderRow {
            part_model_id: r.part_model_id,
            mpn: r.mpn,
            manufacturer: r.manufacturer,
            location: tree.path(r.location_id).unwrap_or_default(),
            min_quantity: r.min_quantity,
            on_hand,
            shortfall: r.min_quantity - on_hand,
            supplier: r.preferred.or(last.map(|o| o.supplier)),
            last_price: price.filter(|_| show_money),
        });
    }
    out.sort_by(|a, b| b.shortfall.cmp(&a.shortfall).then(a.mpn.cmp(&b.mpn)));
    Ok(out)
}
