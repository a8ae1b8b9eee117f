//! `/api/v1` endpoints for orders, receipts, exchange rates and stock locations.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::Page;
use super::money::Shown;
use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult};
use crate::inventory::locations::{self, LocationInput, LocationView};
use crate::money::{Currency, Money};
use crate::procurement::fx::{self, FxRate};
use crate::procurement::orders::{self, CostInput, LineInput, PoInput, STATUSES};
use crate::procurement::orders_repo as repo;
use crate::procurement::receiving::{self, ReceiptInput};
use crate::web::AppState;
use crate::web::Pager;

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct OrderQuery {
    /// Order number or supplier name contains.
    q: Option<String>,
    /// Only this status.
    status: Option<String>,
    /// Page number, from 1.
    page: Option<i64>,
    /// Rows per page (1-500).
    per_page: Option<i64>,
}

/// An order header as the API lists it; `fx_rate` and `fx_rate_date` only for
/// roles that see money ([`Shown`] removes them).
#[derive(Serialize, ToSchema)]
pub(super) struct OrderOut {
    id: i64,
    number: String,
    supplier_id: i64,
    supplier_name: String,
    currency: String,
    status: String,
    #[schema(value_type = Option<String>)]
    order_date: Option<time::Date>,
    #[schema(value_type = Option<String>)]
    expected_date: Option<time::Date>,
    fx_rate: String,
    #[schema(value_type = String)]
    fx_rate_date: time::Date,
}

fn order_out(o: repo::PoRow) -> OrderOut {
    OrderOut {
        fx_rate: o.fx_rate.0.to_string(),
        fx_rate_date: o.fx_rate_date,
        id: o.id,
        number: o.number,
        supplier_id: o.supplier_id,
        supplier_name: o.supplier_name,
        currency: o.currency,
        status: o.status,
        order_date: o.order_date,
        expected_date: o.expected_date,
    }
}

/// List purchase orders, newest first.
#[utoipa::path(get, path = "/orders", tag = "procurement", params(OrderQuery), responses((status = 200, body = Page<OrderOut>)))]
pub(super) async fn list_orders(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<OrderQuery>,
) -> AppResult<Shown<Page<OrderOut>>> {
    let p = Pager {
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(crate::web::pager::DEFAULT_PER_PAGE),
    };
    let status = q.status.as_deref().filter(|st| STATUSES.contains(st));
    let search = q.q.as_deref().map(str::trim).filter(|x| !x.is_empty());
    let (rows, total) = repo::list_pos(&s.db, search, status, p.limit(), p.offset()).await?;
    let rows = rows.into_iter().map(order_out).collect();
    Ok(Shown::to(&user, Page::new(rows, total, &p)))
}

/// Create a draft order; the rate is looked up by date unless given.
#[utoipa::path(post, path = "/orders", tag = "procurement", request_body = PoInput, responses((status = 201, description = "Created; body is the order detail"), (status = 422)))]
pub(super) async fn create_order(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<PoInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditProcurement)?;
    let id = orders::create_po(&s.db, &user.actor(), s.config.base(), &input).await?;
    Ok(Shown::created(
        &user,
        detail(&s, id, Pager::default()).await?,
    ))
}

/// An order with everything about it, money included ([`Shown`] hides it).
async fn detail(s: &AppState, id: i64, units_page: Pager) -> AppResult<Value> {
    let b = s.config.base();
    let po = repo::get_po(&s.db, id).await?;
    let lines = repo::lines(&s.db, id).await?;
    let costs = repo::costs(&s.db, id).await?;
    let landed = orders::compute_landed(&po, &lines, &costs, b).ok();
    let ccy = Currency::parse(&po.currency).unwrap_or(b);
    let lines_json: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut v = json!({
                "id": l.id, "line_no": l.line_no, "part_model_id": l.part_model_id, "manufacturer": l.manufacturer,
                "mpn": l.mpn, "serial_tracked": l.serial_tracked, "quantity": l.quantity, "received": l.received,
                "unit_weight_g": l.unit_weight_g,
            });
            v["unit_price"] = json!(Money::new(l.unit_price.0, ccy));
            if let Some(out) = landed.as_ref().and_then(|x| x.lines.get(i)) {
                v["landed"] = json!(Money::from_minor(out.landed_minor, b));
                v["unit_landed_cost_runs"] = json!(out
                    .unit_costs
                    .runs()
                    .into_iter()
                    .map(|(units, cost)| json!({"units": units, "cost": Money::from_minor(cost, b)}))
                    .collect::<Vec<_>>());
            }
            v
        })
        .collect();
    let (units, units_total) =
        receiving::received_units(&s.db, id, units_page.limit(), units_page.offset()).await?;
    let units_json: Vec<Value> = units
        .into_iter()
        .map(|u| {
            json!({"id": u.id, "po_line_id": u.po_line_id, "mpn": u.mpn, "serial": u.serial, "status": u.status,
                "landed_cost": Money::from_minor(u.landed_cost_minor, b)})
        })
        .collect();
    let mut out = json!({ "order": order_out(po), "lines": lines_json, "units": units_json,
        "units_count": units_total, "units_page": units_page.page(), "units_per_page": units_page.limit(),
        "costs": costs });
    if let Some(l) = landed {
        out["totals"] = json!({
            "goods": Money::new(l.goods_order_ccy, ccy),
            "goods_base": Money::from_minor(l.goods_base_minor, b),
            "extra_costs_base": Money::from_minor(l.costs_base_minor, b),
            "landed_base": Money::from_minor(l.landed_base_minor, b),
            "import_vat_base": Money::from_minor(l.vat_base_minor, b),
        });
    }
    Ok(out)
}

/// One order with lines, one page of its received units (`page`, `per_page`;
/// `units_count` counts them all) and, for roles that see money, prices,
/// costs and landed totals.
#[utoipa::path(get, path = "/orders/{id}", tag = "procurement", params(("id" = i64, Path, description = "Order id"), Pager), responses((status = 200, description = "Order detail"), (status = 404)))]
pub(super) async fn get_order(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(units_page): Query<Pager>,
) -> AppResult<Shown<Value>> {
    Ok(Shown::to(&user, detail(&s, id, units_page).await?))
}

/// Add a line to a draft order.
#[utoipa::path(post, path = "/orders/{id}/lines", tag = "procurement", request_body = LineInput, params(("id" = i64, Path, description = "Order id")), responses((status = 201), (status = 409), (status = 422)))]
pub(super) async fn add_line(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<LineInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditProcurement)?;
    orders::add_line(&s.db, &user.actor(), id, &input).await?;
    Ok(Shown::created(
        &user,
        detail(&s, id, Pager::default()).await?,
    ))
}

/// Add an extra cost (freight, insurance, customs duty, brokerage, other, import VAT).
#[utoipa::path(post, path = "/orders/{id}/costs", tag = "procurement", request_body = CostInput, params(("id" = i64, Path, description = "Order id")), responses((status = 201), (status = 409), (status = 422)))]
pub(super) async fn add_cost(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<CostInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditProcurement)?;
    orders::add_cost(&s.db, &user.actor(), s.config.base(), id, &input).await?;
    Ok(Shown::created(
        &user,
        detail(&s, id, Pager::default()).await?,
    ))
}

/// A requested status.
#[derive(Deserialize, ToSchema)]
pub(super) struct StatusIn {
    /// ordered, closed or cancelled.
    status: String,
}

/// Change an order's status; illegal transitions are refused with a reason (409).
#[utoipa::path(post, path = "/orders/{id}/status", tag = "procurement", request_body = StatusIn, params(("id" = i64, Path, description = "Order id")), responses((status = 200), (status = 409)))]
pub(super) async fn set_status(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<StatusIn>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditProcurement)?;
    orders::transition(&s.db, &user.actor(), id, &input.status).await?;
    Ok(Shown::to(&user, detail(&s, id, Pager::default()).await?))
}

/// Record a delivery with serial numbers; nothing is written if any line is refused.
#[utoipa::path(post, path = "/orders/{id}/receipts", tag = "procurement", request_body = ReceiptInput, params(("id" = i64, Path, description = "Order id")), responses((status = 201), (status = 409, description = "More than ordered without confirm_over"), (status = 422, description = "Unknown or duplicate serials, counts that do not match")))]
pub(super) async fn receive(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ReceiptInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditProcurement)?;
    let receipt_id = receiving::receive(&s.db, &user.actor(), s.config.base(), id, &input).await?;
    let mut out = detail(&s, id, Pager::default()).await?;
    out["receipt_id"] = json!(receipt_id);
    Ok(Shown::created(&user, out))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct RateQuery {
    /// Only this currency.
    currency: Option<String>,
}

/// Recorded exchange rates, newest first.
#[utoipa::path(get, path = "/fx-rates", tag = "procurement", params(RateQuery), responses((status = 200, body = Vec<FxRate>)))]
pub(super) async fn list_rates(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<RateQuery>,
) -> AppResult<Shown<Vec<FxRate>>> {
    user.require(Permission::ViewMoney)?;
    Ok(Shown::to(
        &user,
        fx::list(&s.db, q.currency.as_deref(), 500).await?,
    ))
}

/// A rate to record.
#[derive(Deserialize, ToSchema)]
pub(super) struct RateIn {
    /// ISO 4217 code.
    currency: String,
    /// YYYY-MM-DD.
    rate_date: String,
    /// Base units per unit, as a decimal string.
    rate: String,
    /// Where it came from.
    #[serde(default)]
    source: String,
}

/// Record (or correct) the rate of a currency on a day.
#[utoipa::path(post, path = "/fx-rates", tag = "procurement", request_body = RateIn, responses((status = 201), (status = 422)))]
pub(super) async fn add_rate(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(r): Json<RateIn>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditProcurement)?;
    let parsed = fx::parse_rate(
        &r.currency,
        &r.rate_date,
        &r.rate,
        &r.source,
        s.config.base(),
    )
    .map_err(AppError::Validation)?;
    let id = fx::set_rate(&s.db, &user.actor(), s.config.base(), &parsed).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

/// Stock locations with their paths.
#[utoipa::path(get, path = "/locations", tag = "inventory", responses((status = 200, body = Vec<LocationView>)))]
pub(super) async fn list_locations(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<LocationView>>> {
    Ok(Shown::to(&user, locations::list(&s.db).await?))
}

/// Create a stock location.
#[utoipa::path(post, path = "/locations", tag = "inventory", request_body = LocationInput, responses((status = 201), (status = 422)))]
pub(super) async fn create_location(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<LocationInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditInventory)?;
    let id = locations::create(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct UnitQuery {
    /// Serial number or its first characters.
    q: Option<String>,
    /// Only this status.
    status: Option<crate::inventory::units::UnitStatus>,
    /// Page number, from 1.
    page: Option<i64>,
    /// Rows per page (1-500).
    per_page: Option<i64>,
}

/// Serial-tracked units by serial prefix (exact match first); landed cost only for roles that see money.
#[utoipa::path(get, path = "/units", tag = "inventory", params(UnitQuery), responses((status = 200, description = "A page of units")))]
pub(super) async fn list_units(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<UnitQuery>,
) -> AppResult<Shown<Value>> {
    let p = Pager {
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(crate::web::pager::DEFAULT_PER_PAGE),
    };
    let prefix = q.q.as_deref().map(str::trim).unwrap_or_default();
    let (rows, total) =
        crate::inventory::units::search(&s.db, prefix, q.status, p.limit(), p.offset()).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|u| {
            let mut v = json!(u);
            if let Some(o) = v.as_object_mut() {
                o.remove("landed_cost_minor");
                o.remove("cost_currency");
                let cost = Money::from_minor(
                    u.landed_cost_minor,
                    Currency::parse(&u.cost_currency).unwrap_or(s.config.base()),
                );
                o.insert("landed_cost".into(), json!(cost));
            }
            v
        })
        .collect();
    let body = json!({ "items": items, "total": total, "page": p.page(), "per_page": p.limit() });
    Ok(Shown::to(&user, body))
}

/// Stock on hand per part model and location, from the movement ledger.
#[utoipa::path(get, path = "/stock", tag = "inventory", responses((status = 200, body = Vec<crate::inventory::units::StockLevel>)))]
pub(super) async fn stock(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<crate::inventory::units::StockLevel>>> {
    let levels = crate::inventory::units::stock_levels(&s.db, None).await?;
    Ok(Shown::to(&user, levels))
}
