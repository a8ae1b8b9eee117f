//! An order's landed cost from its stored rows (per line and per unit
//! position), and restating the units and receipt lines already received
//! when its extra costs change. The allocation itself is `landed.rs`.

use rust_decimal::Decimal;
use serde::Serialize;

use super::landed::{self, AllocError, Basis, CostIn, LineIn, LineOut};
use super::orders_repo::{self as repo, CostRow, LineRow, PoRow};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult};
use crate::i18n::Msg;
use crate::money::Currency;
use crate::{exec, on};

/// An order's figures: per-line allocation and totals.
#[derive(Clone, Debug, Serialize)]
pub struct Landed {
    /// Allocation per line, in line order.
    pub lines: Vec<LineOut>,
    /// Goods total in the order currency, exact.
    pub goods_order_ccy: Decimal,
    /// Goods total in base minor units.
    pub goods_base_minor: i64,
    /// Extra costs (excluding import VAT) in base minor units.
    pub costs_base_minor: i64,
    /// Import VAT in base minor units (recoverable; not cost).
    pub vat_base_minor: i64,
    /// Goods plus extra costs, base minor units.
    pub landed_base_minor: i64,
}

/// Computes the landed cost of an order's lines from its rows.
pub fn compute_landed(
    po: &PoRow,
    lines: &[LineRow],
    costs: &[CostRow],
    base: Currency,
) -> AppResult<Landed> {
    let minor = base.minor_units();
    let ins: Vec<LineIn> = lines
        .iter()
        .map(|l| LineIn {
            quantity: l.quantity,
            unit_price: l.unit_price.0,
            unit_weight_g: l.unit_weight_g,
        })
        .collect();
    let mut cost_ins = Vec::new();
    let mut vat = 0i64;
    for c in costs {
        let amount_minor =
            landed::to_minor(c.amount.0 * c.fx_rate.0, minor).map_err(alloc_error)?;
        if c.kind == "import_vat" {
            vat += amount_minor;
        } else {
            cost_ins.push(CostIn {
                amount_minor,
                basis: Basis::parse(&c.basis).unwrap_or(Basis::Value),
            });
        }
    }
    let out = if lines.is_empty() {
        Vec::new()
    } else {
        landed::allocate(&ins, po.fx_rate.0, &cost_ins, minor).map_err(alloc_error)?
    };
    let goods_order_ccy = lines
        .iter()
        .map(|l| l.unit_price.0 * Decimal::from(l.quantity))
        .sum();
    let goods_base_minor = out.iter().map(|l| l.goods_minor).sum();
    let costs_base_minor = cost_ins.iter().map(|c| c.amount_minor).sum();
    Ok(Landed {
        landed_base_minor: out
            .iter()
            .map(|l| l.landed_minor)
            .sum::<i64>()
            .max(goods_base_minor),
        lines: out,
        goods_order_ccy,
        goods_base_minor,
        costs_base_minor,
        vat_base_minor: vat,
    })
}

fn alloc_error(e: AllocError) -> AppError {
    match e {
        AllocError::NoWeights => AppError::Conflict(Msg::new("po.needs_weights")),
        other => AppError::Conflict(Msg::new("po.cannot_allocate").arg("detail", other)),
    }
}

/// The landed cost of the unit at `position` (1-based) of a line. Units
/// beyond the ordered quantity carry the line's average unit cost, rounded
/// half away from zero: the order's costs were spread over what was ordered.
pub fn position_cost(line: &LineOut, position: i64) -> i64 {
    match line.unit_costs.at(position - 1) {
        Some(c) => c,
        None => {
            let n = line.unit_costs.quantity.max(1);
            let avg = Decimal::from(line.landed_minor) / Decimal::from(n);
            i64::try_from(
                avg.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
            )
            .unwrap_or(0)
        }
    }
}

/// An order's header, lines and extra costs as stored, for recomputing its
/// landed cost under other rates or prices (cost scenarios).
pub async fn order_rows(db: &Db, po_id: i64) -> AppResult<(PoRow, Vec<LineRow>, Vec<CostRow>)> {
    Ok((
        repo::get_po(db, po_id).await?,
        repo::lines(db, po_id).await?,
        repo::costs(db, po_id).await?,
    ))
}

/// Brings the landed cost of every received unit and receipt line of an order
/// in line with its current costs. Records one audit row if anything changed.
pub async fn restate_unit_costs(
    tx: &mut Tx,
    actor: &Actor,
    base: Currency,
    po_id: i64,
) -> AppResult<()> {
    let po = repo::get_po(&mut *tx, po_id).await?;
    let lines = repo::lines(&mut *tx, po_id).await?;
    let costs = repo::costs(&mut *tx, po_id).await?;
    let landed = compute_landed(&po, &lines, &costs, base)?;
    let mut changed = 0u64;
    let now = crate::clock::now();
    for (line, out) in lines.iter().zip(&landed.lines) {
        let units: Vec<(i64, i64, i64)> = on!(tx, |c| {
            sqlx::query_as("select id, position, landed_cost_minor from units where po_line_id = $1 and position is not null")
                .bind(line.id)
                .fetch_all(c)
                .await
        })?;
        for (id, position, old) in units {
            let new = position_cost(out, position);
            if new != old {
                changed += crate::inventory::units::set_landed_cost(tx, id, new).await?;
            }
        }
        let receipt_lines: Vec<(i64, i64, i64)> = on!(tx, |c| {
            sqlx::query_as(
                "select id, first_position, quantity from receipt_lines where po_line_id = $1",
            )
            .bind(line.id)
            .fetch_all(c)
            .await
        })?;
        for (id, first, qty) in receipt_lines {
            let total: i64 = (first..first + qty).map(|p| position_cost(out, p)).sum();
            exec!(tx, |c| {
                sqlx::query("update receipt_lines set landed_cost_minor = $1, updated_at = $2 where id = $3")
                    .bind(total)
                    .bind(now)
                    .bind(id)
                    .execute(c)
                    .await
            })?;
        }
    }
    if changed > 0 {
        let note = serde_json::json!({"units_restated": changed, "landed_base_minor": landed.landed_base_minor});
        audit::record(
            tx,
            actor,
            Action::Update,
            "purchase_order",
            po_id,
            None,
            Some(&note),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_beyond_the_order_carry_the_average() {
        let line = LineOut {
            goods_minor: 10,
            cost_shares_minor: vec![],
            landed_minor: 10,
            unit_costs: crate::procurement::landed::UnitCosts::split(10, 3).expect("splits"),
        };
        assert_eq!(position_cost(&line, 1), 4);
        assert_eq!(position_cost(&line, 3), 3);
        assert_eq!(position_cost(&line, 4), 3);
    }
}
