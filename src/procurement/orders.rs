//! Purchase orders: creation with a recorded exchange rate, lines and extra
//! costs. Status rules are `po_status.rs`; landed cost and its restatement
//! are `restate.rs`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use tracing::instrument;

use super::fx;
use super::landed::Basis;
use super::orders_repo::{self as repo, NewCost, NewPo};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;

// Callers reach the whole order API through `orders::`, the status rules and
// landed cost included, though those live in files of their own.
pub use super::po_status::{STATUSES, transition, transition_allowed};
pub use super::restate::{Landed, compute_landed, order_rows, position_cost, restate_unit_costs};

/// A line or extra cost as audited: the row and the order it belongs to, so
/// the order's history still finds it once it is deleted.
#[derive(Serialize)]
struct OfOrder<'a, T> {
    po_id: i64,
    #[serde(flatten)]
    row: &'a T,
}

fn of_order<T>(po_id: i64, row: Option<&T>) -> Option<OfOrder<'_, T>> {
    row.map(|row| OfOrder { po_id, row })
}

/// Kinds of extra cost; `import_vat` is recorded but is not part of landed cost.
pub const COST_KINDS: [&str; 6] = [
    "freight",
    "insurance",
    "customs_duty",
    "brokerage",
    "other",
    "import_vat",
];

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
            DbError::NotFound => field_error("supplier_id", Msg::new("forms4.unknown_supplier")),
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
    if let (Some(ordered), Some(expected)) = (order_date, expected_date)
        && expected < ordered
    {
        errors.add(
            "expected_date",
            Msg::new("validation.expected_before_order")
                .arg("expected", expected)
                .arg("ordered", ordered),
        );
    }
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
    let after = repo::get_po(&mut tx, id).await?;
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

/// The most units one order line may hold.
const MAX_LINE_QUANTITY: i64 = 1_000_000;

/// Adds a line to a draft order.
#[instrument(skip_all, fields(po_id))]
pub async fn add_line(db: &Db, actor: &Actor, po_id: i64, input: &LineInput) -> AppResult<i64> {
    let mut errors = FieldErrors::default();
    let quantity = input
        .quantity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|q| (1..=MAX_LINE_QUANTITY).contains(q));
    if quantity.is_none() {
        errors.add(
            "quantity",
            Msg::new("forms4.quantity_up_to").arg("max", "1,000,000"),
        );
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
    let po = repo::get_po(&mut tx, po_id).await?;
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
    let line = repo::lines(&mut tx, po_id)
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
        of_order(po_id, line.as_ref()).as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Removes a line from a draft order.
pub async fn remove_line(db: &Db, actor: &Actor, po_id: i64, line_id: i64) -> AppResult<()> {
    let mut tx = db.begin().await?;
    repo::lock_po(&mut tx, po_id).await?;
    let po = repo::get_po(&mut tx, po_id).await?;
    if po.status != "draft" {
        return Err(AppError::Conflict(Msg::new("po.lines_only_in_draft")));
    }
    let before = repo::lines(&mut tx, po_id)
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
        of_order(po_id, Some(&before)).as_ref(),
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
    let po = repo::get_po(&mut tx, po_id).await?;
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
    let after = repo::costs(&mut tx, po_id)
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
        of_order(po_id, after.as_ref()).as_ref(),
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
    let po = repo::get_po(&mut tx, po_id).await?;
    if matches!(po.status.as_str(), "closed" | "cancelled") {
        return Err(AppError::Conflict(Msg::new("po.closed")));
    }
    let before = repo::costs(&mut tx, po_id)
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
        of_order(po_id, Some(&before)).as_ref(),
        None,
    )
    .await?;
    restate_unit_costs(&mut tx, actor, base, po_id).await?;
    tx.commit().await?;
    Ok(())
}
