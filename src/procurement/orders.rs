//! Purchase orders: creation with a recorded exchange rate, lines, extra
//! costs, status transitions and landed cost.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use tracing::instrument;

use super::fx;
use super::landed::{self, AllocError, Basis, CostIn, LineIn, LineOut};
use super::orders_repo::{self as repo, CostRow, LineRow, NewCost, NewPo, PoRow};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;
use crate::{exec_tx, on_tx};

/// Order statuses, in life order.
pub const STATUSES: [&str; 6] = [
    "draft",
    "ordered",
    "partially_received",
    "received",
    "closed",
    "cancelled",
];

/// Kinds of extra cost; `import_vat` is recorded but is not part of landed cost.
pub const COST_KINDS: [&str; 6] = [
    "freight",
    "insurance",
    "customs_duty",
    "brokerage",
    "other",
    "import_vat",
];

/// Whether a user may move an order from `from` to `to`. Receiving moves
/// orders into `partially_received` and `received` by itself.
pub fn transition_allowed(from: &str, to: &str, anything_received: bool) -> Result<(), Msg> {
    let ok = match (from, to) {
        ("draft", "ordered") | ("draft", "cancelled") => true,
        ("ordered", "cancelled") => !anything_received,
        ("partially_received", "closed") | ("received", "closed") => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else if from == "ordered" && to == "cancelled" {
        Err(Msg::new("po.cannot_cancel_received"))
    } else {
        Err(Msg::new("po.illegal_transition")
            .arg("from", from)
            .arg("to", to))
    }
}

/// Input for a new order.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PoInput {
    /// Supplier id.
    pub supplier_id: i64,
    /// Order currency; the supplier's by default.
    #[serde(default)]
    pub currency: Option<String>,
    /// Rate to the base currency; looked up from recorded rates if empty.
    #[serde(default)]
    pub fx_rate: Option<String>,
    /// Day of the rate (YYYY-MM-DD); today if empty.
    #[serde(default)]
    pub fx_rate_date: Option<String>,
    /// Day ordered (YYYY-MM-DD).
    #[serde(default)]
    pub order_date: Option<String>,
    /// Day expected (YYYY-MM-DD).
    #[serde(default)]
    pub expected_date: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: String,
}

fn opt_date(field: &str, v: Option<&str>, errors: &mut FieldErrors) -> Option<Date> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    let d = fx::parse_date(v);
    if d.is_none() {
        errors.add(field, Msg::new("validation.date").arg("value", v));
    }
    d
}

/// A typed exchange rate, if one was given: positive, at most 10 places (the
/// rate columns' scale); a bad one is recorded against `fx_rate`.
fn typed_rate(v: Option<&str>, errors: &mut FieldErrors) -> Option<Decimal> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    match v.replace(',', "").parse::<Decimal>().map(|d| d.normalize()) {
        Ok(d) if d > Decimal::ZERO && d.scale() <= 10 => Some(d),
        _ => {
            errors.add("fx_rate", Msg::new("validation.rate").arg("value", v));
            None
        }
    }
}

/// The recorded rate in force on `date`, or a validation error asking for one.
async fn recorded_rate(
    db: &Db,
    currency: Currency,
    base: Currency,
    date: Date,
) -> AppResult<fx::FxRate> {
    fx::rate_on(db, currency, base, date).await?.ok_or_else(|| {
        field_error(
            "fx_rate",
            Msg::new("po.no_rate")
                .arg("currency", currency.code())
                .arg("date", date),
        )
    })
}

/// Creates a draft order with the rate it will use; returns its id.
#[instrument(skip_all)]
pub async fn create_po(db: &Db, actor: &Actor, base: Currency, input: &PoInput) -> AppResult<i64> {
    let supplier = super::repo::get_supplier(db, input.supplier_id)
        .await
        .map_err(|e| match e {
            DbError::NotFound => field_error("supplier_id", Msg::new("validation.required")),
            other => other.into(),
        })?;
    let mut errors = FieldErrors::default();
    let currency_text = input
        .currency
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(&supplier.currency);
    let currency = Currency::parse(currency_text);
    if currency.is_none() {
        errors.add(
            "currency",
            Msg::new("validation.currency").arg("value", currency_text),
        );
    }
    let rate_date = opt_date("fx_rate_date", input.fx_rate_date.as_deref(), &mut errors)
        .unwrap_or_else(fx::today);
    let order_date = opt_date("order_date", input.order_date.as_deref(), &mut errors);
    let expected_date = opt_date("expected_date", input.expected_date.as_deref(), &mut errors);
    let entered_rate = typed_rate(input.fx_rate.as_deref(), &mut errors);
    errors.into_result()?;
    let Some(currency) = currency else {
        return Err(AppError::NotFound);
    };
    let (rate, source) = match entered_rate {
        Some(r) => (r, "entered".to_owned()),
        None => {
            let r = recorded_rate(db, currency, base, rate_date).await?;
            (r.rate, r.source)
        }
    };
    let mut tx = db.begin().await?;
    let year = order_date.unwrap_or_else(fx::today).year();
    let prefix = format!("PO-{year}-");
    let seq = repo::count_numbers(&mut tx, &prefix).await? + 1;
    let number = format!("{prefix}{seq:04}");
    let new = NewPo {
        number: &number,
        supplier_id: supplier.id,
        currency: currency.code(),
        fx_rate: rate.normalize(),
        fx_rate_date: rate_date,
        fx_source: source.trim(),
        order_date,
        expected_date,
        notes: input.notes.trim(),
    };
    let id = repo::insert_po(&mut tx, &new).await?;
    let after = repo::get_po_tx(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "purchase_order",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn field_error(field: &str, msg: Msg) -> AppError {
    let mut f = FieldErrors::default();
    f.add(field, msg);
    AppError::Validation(f)
}

/// Input for a new order line.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct LineInput {
    /// Part model id.
    pub part_model_id: i64,
    /// Units ordered, > 0.
    pub quantity: String,
    /// Unit price in the order currency.
    pub unit_price: String,
    /// Grams per unit (optional; needed for weight-based costs).
    #[serde(default)]
    pub unit_weight_g: Option<String>,
    /// Warranty months for these units, overriding the supplier's term (optional).
    #[serde(default)]
    pub warranty_months: Option<String>,
}

/// Adds a line to a draft order.
#[instrument(skip_all, fields(po_id))]
pub async fn add_line(db: &Db, actor: &Actor, po_id: i64, input: &LineInput) -> AppResult<i64> {
    let mut errors = FieldErrors::default();
    let quantity = input
        .quantity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|q| (1..=1_000_000).contains(q));
    if quantity.is_none() {
        errors.add("quantity", Msg::new("validation.quantity"));
    }
    let price = super::model::parse_price(&input.unit_price);
    if price.is_none() {
        errors.add("unit_price", Msg::new("validation.price"));
    }
    let weight_text = input
        .unit_weight_g
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let weight = weight_text.map(|w| {
        w.parse::<i64>()
            .ok()
            .filter(|w| (0..=10_000_000).contains(w))
    });
    if matches!(weight, Some(None)) {
        errors.add("unit_weight_g", Msg::new("validation.weight"));
    }
    let warranty_text = input
        .warranty_months
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let warranty_months =
        match warranty_text.map(|w| w.parse::<i64>().ok().filter(|m| (0..=240).contains(m))) {
            None => None,
            Some(Some(m)) => Some(m),
            Some(None) => {
                errors.add(
                    "warranty_months",
                    Msg::new("validation.whole_number").arg("value", warranty_text.unwrap_or("")),
                );
                None
            }
        };
    errors.into_result()?;
    let (Some(quantity), Some(price)) = (quantity, price) else {
        return Err(AppError::NotFound);
    };
    let mut tx = db.begin().await?;
    repo::lock_po(&mut tx, po_id).await?;
    let po = repo::get_po_tx(&mut tx, po_id).await?;
    if po.status != "draft" {
        return Err(AppError::Conflict(Msg::new("po.lines_only_in_draft")));
    }
    let new = repo::NewLine {
        part_model_id: input.part_model_id,
        quantity,
        unit_price: price,
        unit_weight_g: weight.flatten(),
        warranty_months,
    };
    let id = repo::insert_line(&mut tx, po_id, &new)
        .await
        .map_err(|e| match e {
            DbError::Other(_) => field_error("part_model_id", Msg::new("validation.required")),
            other => other.into(),
        })?;
    let line = repo::lines_tx(&mut tx, po_id)
        .await?
        .into_iter()
        .find(|l| l.id == id);
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "po_line",
        id,
        None,
        line.as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Removes a line from a draft order.
pub async fn remove_line(db: &Db, actor: &Actor, po_id: i64, line_id: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    repo::lock_po(&mut tx, po_id).await?;
    let po = repo::get_po_tx(&mut tx, po_id).await?;
    if po.status != "draft" {
        return Err(AppError::Conflict(Msg::new("po.lines_only_in_draft")));
    }
    let before = repo::lines_tx(&mut tx, po_id)
        .await?
        .into_iter()
        .find(|l| l.id == line_id)
        .ok_or(AppError::NotFound)?;
    repo::delete_line(&mut tx, po_id, line_id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Delete,
        "po_line",
        line_id,
        Some(&before),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Input for an extra cost.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CostInput {
    /// freight, insurance, customs_duty, brokerage, other or import_vat.
    pub kind: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Amount in `currency`.
    pub amount: String,
    /// Currency of the amount; the order's if empty.
    #[serde(default)]
    pub currency: Option<String>,
    /// Rate to the base currency; the order's (same currency), 1 (base) or the
    /// recorded rate on the order's rate date if empty.
    #[serde(default)]
    pub fx_rate: Option<String>,
    /// value, quantity or weight.
    pub basis: String,
}

/// Adds an extra cost to an order (until it is closed or cancelled) and
/// recomputes the landed cost of units already received.
#[instrument(skip_all, fields(po_id))]
pub async fn add_cost(
    db: &Db,
    actor: &Actor,
    base: Currency,
    po_id: i64,
    input: &CostInput,
) -> AppResult<i64> {
    let po = repo::get_po(db, po_id).await?;
    let mut errors = FieldErrors::default();
    if !COST_KINDS.contains(&input.kind.as_str()) {
        errors.add("kind", Msg::new("validation.required"));
    }
    let basis = Basis::parse(&input.basis);
    if basis.is_none() {
        errors.add("basis", Msg::new("validation.required"));
    }
    let amount = super::model::parse_price(&input.amount);
    if amount.is_none() {
        errors.add("amount", Msg::new("validation.price"));
    }
    let cur_text = input
        .currency
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or(&po.currency);
    let currency = Currency::parse(cur_text);
    if currency.is_none() {
        errors.add(
            "currency",
            Msg::new("validation.currency").arg("value", cur_text),
        );
    }
    let typed = typed_rate(input.fx_rate.as_deref(), &mut errors);
    errors.into_result()?;
    let (Some(currency), Some(amount), Some(basis)) = (currency, amount, basis) else {
        return Err(AppError::NotFound);
    };
    let rate = match typed {
        Some(r) => r,
        None if currency.code() == po.currency => po.fx_rate.0,
        None => {
            recorded_rate(db, currency, base, po.fx_rate_date)
                .await?
                .rate
        }
    };
    let mut tx = db.begin().await?;
    repo::lock_po(&mut tx, po_id).await?;
    let po = repo::get_po_tx(&mut tx, po_id).await?;
    if matches!(po.status.as_str(), "closed" | "cancelled") {
        return Err(AppError::Conflict(Msg::new("po.closed")));
    }
    let new = NewCost {
        kind: &input.kind,
        description: input.description.trim(),
        amount,
        currency: currency.code(),
        fx_rate: rate,
        basis: basis.as_str(),
    };
    let id = repo::insert_cost(&mut tx, po_id, &new).await?;
    let after = repo::costs_tx(&mut tx, po_id)
        .await?
        .into_iter()
        .find(|c| c.id == id);
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "po_cost",
        id,
        None,
        after.as_ref(),
    )
    .await?;
    restate_unit_costs(&mut tx, actor, base, po_id).await?;
    tx.commit().await?;
    Ok(id)
}

/// Removes an extra cost and recomputes received units' landed cost.
pub async fn remove_cost(
    db: &Db,
    actor: &Actor,
    base: Currency,
    po_id: i64,
    cost_id: i64,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    repo::lock_po(&mut tx, po_id).await?;
    let po = repo::get_po_tx(&mut tx, po_id).await?;
    if matches!(po.status.as_str(), "closed" | "cancelled") {
        return Err(AppError::Conflict(Msg::new("po.closed")));
    }
    let before = repo::costs_tx(&mut tx, po_id)
        .await?
        .into_iter()
        .find(|c| c.id == cost_id)
        .ok_or(AppError::NotFound)?;
    repo::delete_cost(&mut tx, po_id, cost_id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Delete,
        "po_cost",
        cost_id,
        Some(&before),
        None,
    )
    .await?;
    restate_unit_costs(&mut tx, actor, base, po_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves an order to `to` if the transition is legal, else says why not.
#[instrument(skip_all, fields(po_id, to))]
pub async fn transition(db: &Db, actor: &Actor, po_id: i64, to: &str) -> AppResult<()> {
    let mut tx = db.begin().await?;
    repo::lock_po(&mut tx, po_id).await?;
    let before = repo::get_po_tx(&mut tx, po_id).await?;
    let lines = repo::lines_tx(&mut tx, po_id).await?;
    let received = lines.iter().any(|l| l.received > 0);
    transition_allowed(&before.status, to, received).map_err(AppError::Conflict)?;
    if to == "ordered" && lines.is_empty() {
        return Err(AppError::Conflict(Msg::new("po.no_lines")));
    }
    repo::set_status(&mut tx, po_id, to).await?;
    let after = repo::get_po_tx(&mut tx, po_id).await?;
    audit::record(
        &mut tx,
        actor,
        Action::Update,
        "purchase_order",
        po_id,
        Some(&before),
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

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
    let idx = usize::try_from(position - 1).unwrap_or(usize::MAX);
    match line.unit_costs_minor.get(idx) {
        Some(c) => *c,
        None => {
            let n = i64::try_from(line.unit_costs_minor.len())
                .unwrap_or(1)
                .max(1);
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
    let po = repo::get_po_tx(tx, po_id).await?;
    let lines = repo::lines_tx(tx, po_id).await?;
    let costs = repo::costs_tx(tx, po_id).await?;
    let landed = compute_landed(&po, &lines, &costs, base)?;
    let mut changed = 0u64;
    let now = crate::clock::now();
    for (line, out) in lines.iter().zip(&landed.lines) {
        let units: Vec<(i64, i64, i64)> = on_tx!(tx, |c| {
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
        let receipt_lines: Vec<(i64, i64, i64)> = on_tx!(tx, |c| {
            sqlx::query_as(
                "select id, first_position, quantity from receipt_lines where po_line_id = $1",
            )
            .bind(line.id)
            .fetch_all(c)
            .await
        })?;
        for (id, first, qty) in receipt_lines {
            let total: i64 = (first..first + qty).map(|p| position_cost(out, p)).sum();
            exec_tx!(tx, |c| {
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
    fn only_legal_transitions_pass_and_the_reason_is_given() {
        assert!(transition_allowed("draft", "ordered", false).is_ok());
        assert!(transition_allowed("received", "closed", true).is_ok());
        assert!(transition_allowed("ordered", "cancelled", false).is_ok());
        assert_eq!(
            transition_allowed("ordered", "cancelled", true),
            Err(Msg::new("po.cannot_cancel_received"))
        );
        let e = transition_allowed("closed", "draft", true).expect_err("refused");
        assert_eq!(e.key, "po.illegal_transition");
        assert!(
            transition_allowed("draft", "received", false).is_err(),
            "receiving, not a click, marks orders received"
        );
    }

    #[test]
    fn units_beyond_the_order_carry_the_average() {
        let line = LineOut {
            goods_minor: 10,
            cost_shares_minor: vec![],
            landed_minor: 10,
            unit_costs_minor: vec![4, 3, 3],
        };
        assert_eq!(position_cost(&line, 1), 4);
        assert_eq!(position_cost(&line, 3), 3);
        assert_eq!(position_cost(&line, 4), 3);
    }
}
