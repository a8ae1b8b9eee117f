//! Pages of purchase orders, exchange rates and receiving.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::inventory::locations::{self, LocationView};
use crate::inventory::units::ReceivedUnit;
use crate::money::{Currency, Money};
use crate::procurement::fx::{self, FxRate};
use crate::procurement::orders::{self, COST_KINDS, CostInput, LineInput, PoInput, STATUSES};
use crate::procurement::orders_repo::{self as repo, CostRow, LineRow, PoRow};
use crate::procurement::receiving::{self, ReceiptInput, ReceiveLine, split_serials};
use crate::web::AppState;
use crate::web::{Checked, Ctx, Form, Pager, as_typed, see_other, unless_refused};

/// Order, rate and receiving routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditProcurement],
        Router::new()
            .route(
                "/procurement/orders",
                get(super::order_list::list_orders).post(create_order),
            )
            .route("/procurement/orders/{id}", get(show_order))
            .route("/procurement/orders/{id}/lines", post(add_line))
            .route(
                "/procurement/orders/{id}/lines/{line}/delete",
                post(delete_line),
            )
            .route("/procurement/orders/{id}/costs", post(add_cost))
            .route(
                "/procurement/orders/{id}/costs/{cost}/delete",
                post(delete_cost),
            )
            .route("/procurement/orders/{id}/status", post(set_status))
            .route("/procurement/orders/{id}/receipts", post(receive))
            .route("/procurement/rates", get(list_rates).post(add_rate))
            .route("/procurement/rates/import", post(import_rates)),
    )
}

async fn create_order(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<PoInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match unless_refused(
        &refused,
        orders::create_po(&state.db, &user.actor(), state.config.base(), &input),
    )
    .await
    {
        Ok(id) => Ok(see_other(
            &format!("/procurement/orders/{id}"),
            Some("saved"),
        )),
        Err(AppError::Validation(errors)) => {
            let mut page = super::order_list::orders_page(&state, ctx, &Default::default()).await?;
            page.form = input;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// One line as the order page shows it.
struct LineView {
    row: LineRow,
    unit_price: Money,
    line_total: Money,
    landed: Money,
    landed_unit: Money,
    /// Its units in each status, in the order of `UnitStatus::ALL`.
    by_status: Vec<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/order.html")]
struct OrderPage {
    ctx: Ctx,
    po: PoRow,
    lines: Vec<LineView>,
    costs: Vec<(CostRow, Money, Money)>,
    goods: Money,
    goods_base: Money,
    costs_base: Money,
    landed: Money,
    vat: Money,
    allocation_problem: Option<String>,
    next_statuses: Vec<&'static str>,
    parts: Vec<crate::procurement::PartModel>,
    locations: Vec<LocationView>,
    units: Vec<(ReceivedUnit, Money)>,
    units_total: i64,
    page: i64,
    pages: i64,
    base: String,
    cost_kinds: &'static [&'static str],
    statuses: &'static [crate::inventory::units::UnitStatus],
    errors: FieldErrors,
    problem: Option<String>,
    /// The form that was refused ("line", "cost", "receive") and its
    /// fields as typed.
    refused_form: &'static str,
    sent: HashMap<String, String>,
}

impl OrderPage {
    /// Field `k` of form `form` as typed when that form was refused, else "".
    fn v(&self, form: &str, k: &str) -> &str {
        if self.refused_form == form {
            self.sent.get(k).map(String::as_str).unwrap_or_default()
        } else {
            ""
        }
    }
}

/// Received units shown per page of an order.
const UNITS_PER_PAGE: i64 = 100;

async fn order_page(state: &AppState, ctx: Ctx, id: i64, units_page: i64) -> AppResult<OrderPage> {
    let base = state.config.base();
    let po = repo::get_po(&state.db, id).await?;
    let lines = repo::lines(&state.db, id).await?;
    let costs = repo::costs(&state.db, id).await?;
    let ccy = Currency::parse(&po.currency).unwrap_or(base);
    let (landed, allocation_problem) = match orders::compute_landed(&po, &lines, &costs, base) {
        Ok(l) => (Some(l), None),
        Err(AppError::Conflict(m)) => (None, Some(ctx.msg(&m))),
        Err(e) => return Err(e),
    };
    let bm = |minor: i64| Money::from_minor(minor, base);
    let counts = receiving::unit_counts_by_line(&state.db, id).await?;
    let by_status = |line: i64| -> Vec<i64> {
        crate::inventory::units::UnitStatus::ALL
            .iter()
            .map(|s| {
                counts
                    .iter()
                    .filter(|(l, st, _)| *l == line && st == s.as_str())
                    .map(|c| c.2)
                    .sum()
            })
            .collect()
    };
    let line_views = lines
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let out = landed.as_ref().and_then(|l| l.lines.get(i));
            let landed_minor = out.map_or(0, |o| o.landed_minor);
            let avg = rust_decimal::Decimal::from(landed_minor)
                / rust_decimal::Decimal::from(row.quantity.max(1));
            LineView {
                by_status: by_status(row.id),
                unit_price: Money::new(row.unit_price.0, ccy),
                line_total: Money::new(
                    row.unit_price.0 * rust_decimal::Decimal::from(row.quantity),
                    ccy,
                ),
                landed: bm(landed_minor),
                landed_unit: Money::new(
                    avg / rust_decimal::Decimal::from(10i64.pow(base.minor_units())),
                    base,
                ),
                row,
            }
        })
        .collect();
    let cost_views = costs
        .into_iter()
        .map(|c| {
            let cur = Currency::parse(&c.currency).unwrap_or(base);
            let in_base = Money::new(c.amount.0 * c.fx_rate.0, base);
            (Money::new(c.amount.0, cur), in_base, c)
        })
        .map(|(a, b, c)| (c, a, b))
        .collect();
    let received = repo::lines(&state.db, id)
        .await?
        .iter()
        .any(|l| l.received > 0);
    let next_statuses = STATUSES
        .iter()
        .copied()
        .filter(|to| orders::transition_allowed(&po.status, to, received).is_ok())
        .collect();
    let (parts, _) =
        crate::procurement::repo::list_part_models(&state.db, None, None, 500, 0).await?;
    let pager = Pager {
        page: units_page,
        per_page: UNITS_PER_PAGE,
    };
    let (units, units_total) =
        receiving::received_units(&state.db, id, pager.limit(), pager.offset()).await?;
    let units = units
        .into_iter()
        .map(|u| {
            let m = Money::from_minor(
                u.landed_cost_minor,
                Currency::parse(&u.cost_currency).unwrap_or(base),
            );
            (u, m)
        })
        .collect();
    Ok(OrderPage {
        goods: Money::new(
            landed
                .as_ref()
                .map_or(rust_decimal::Decimal::ZERO, |l| l.goods_order_ccy),
            ccy,
        ),
        goods_base: bm(landed.as_ref().map_or(0, |l| l.goods_base_minor)),
        costs_base: bm(landed.as_ref().map_or(0, |l| l.costs_base_minor)),
        landed: bm(landed.as_ref().map_or(0, |l| l.landed_base_minor)),
        vat: bm(landed.as_ref().map_or(0, |l| l.vat_base_minor)),
        allocation_problem,
        next_statuses,
        parts: parts.into_iter().map(|p| p.view(false)).collect(),
        locations: locations::list(&state.db).await?,
        units,
        units_total,
        page: pager.page(),
        pages: pager.pages(units_total),
        base: format!("/procurement/orders/{id}?"),
        cost_kinds: &COST_KINDS,
        statuses: &crate::inventory::units::UnitStatus::ALL,
        errors: FieldErrors::default(),
        problem: None,
        refused_form: "",
        sent: HashMap::new(),
        lines: line_views,
        costs: cost_views,
        po,
        ctx: ctx.section("procurement"),
    })
}

async fn show_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<UnitsPage>,
) -> AppResult<OrderPage> {
    order_page(&state, ctx, id, q.page.unwrap_or(1)).await
}

/// `?page=N` of an order's received units.
#[derive(Deserialize)]
struct UnitsPage {
    page: Option<i64>,
}

/// Runs a change on an order, then redirects back or re-renders with the problem.
/// The order page after a change: its page with the flash, or the page again
/// with the refused form (`form`: which, and its fields as typed) and why.
async fn after_change(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    form: (&'static str, HashMap<String, String>),
    result: AppResult<()>,
    flash: &str,
) -> AppResult<Response> {
    let status = match result {
        Ok(()) => return Ok(see_other(&format!("/procurement/orders/{id}"), Some(flash))),
        Err(AppError::Validation(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        Err(AppError::Conflict(_)) => StatusCode::CONFLICT,
        Err(e) => return Err(e),
    };
    let mut page = order_page(state, ctx, id, 1).await?;
    match result {
        Err(AppError::Validation(errors)) => page.errors = errors,
        Err(AppError::Conflict(m)) => page.problem = Some(page.ctx.msg(&m)),
        _ => {}
    }
    (page.refused_form, page.sent) = form;
    Ok((status, page).into_response())
}

async fn add_line(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<LineInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let actor = user.actor();
    let r = unless_refused(&refused, orders::add_line(&state.db, &actor, id, &input))
        .await
        .map(|_| ());
    after_change(&state, ctx, id, ("line", as_typed(&input)), r, "saved").await
}

async fn delete_line(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path((id, line)): Path<(i64, i64)>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let r = orders::remove_line(&state.db, &user.actor(), id, line).await;
    after_change(&state, ctx, id, ("", HashMap::new()), r, "saved").await
}

async fn add_cost(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<CostInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let actor = user.actor();
    let add = orders::add_cost(&state.db, &actor, state.config.base(), id, &input);
    let r = unless_refused(&refused, add).await.map(|_| ());
    after_change(&state, ctx, id, ("cost", as_typed(&input)), r, "saved").await
}

async fn delete_cost(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path((id, cost)): Path<(i64, i64)>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let r = orders::remove_cost(&state.db, &user.actor(), state.config.base(), id, cost).await;
    after_change(&state, ctx, id, ("", HashMap::new()), r, "saved").await
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let r = orders::transition(&state.db, &user.actor(), id, &f.status).await;
    after_change(&state, ctx, id, ("", HashMap::new()), r, "saved").await
}

/// Reads the receive form: `location_id`, `confirm_over`, `notes`, and per
/// line `qty_<id>` and `serials_<id>` (one serial per line).
fn receipt_from_form(form: &HashMap<String, String>) -> ReceiptInput {
    let mut lines: HashMap<i64, ReceiveLine> = HashMap::new();
    for (k, v) in form {
        if let Some(id) = k.strip_prefix("qty_").and_then(|s| s.parse::<i64>().ok()) {
            let e = lines.entry(id).or_insert_with(|| ReceiveLine {
                po_line_id: id,
                ..ReceiveLine::default()
            });
            e.quantity = v
                .trim()
                .parse()
                .unwrap_or(if v.trim().is_empty() { 0 } else { -1 });
        } else if let Some(id) = k
            .strip_prefix("serials_")
            .and_then(|s| s.parse::<i64>().ok())
        {
            let e = lines.entry(id).or_insert_with(|| ReceiveLine {
                po_line_id: id,
                ..ReceiveLine::default()
            });
            e.serials = split_serials(v);
        }
    }
    let mut lines: Vec<ReceiveLine> = lines.into_values().collect();
    lines.sort_by_key(|l| l.po_line_id);
    ReceiptInput {
        location_id: form
            .get("location_id")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        lines,
        confirm_over: form.contains_key("confirm_over"),
        notes: form.get("notes").cloned().unwrap_or_default(),
    }
}

async fn receive(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked {
        input: form,
        refused,
    }: Checked<HashMap<String, String>>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let input = receipt_from_form(&form);
    let actor = user.actor();
    let receive = receiving::receive(&state.db, &actor, state.config.base(), id, &input);
    let r = unless_refused(&refused, receive).await.map(|_| ());
    after_change(&state, ctx, id, ("receive", form), r, "received").await
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/rates.html")]
struct RatesPage {
    ctx: Ctx,
    rates: Vec<FxRate>,
    base_currency: String,
    errors: FieldErrors,
    import_errors: Vec<(usize, String)>,
    /// The rate form: empty, or as sent when it was refused.
    form: RateForm,
    /// The pasted rates, as sent when they were refused.
    csv: String,
}

async fn rates_page(state: &AppState, ctx: Ctx) -> AppResult<RatesPage> {
    Ok(RatesPage {
        rates: fx::list(&state.db, None, 200).await?,
        base_currency: state.config.base().code().into(),
        ctx: ctx.section("procurement"),
        form: RateForm::default(),
        csv: String::new(),
        errors: FieldErrors::default(),
        import_errors: Vec::new(),
    })
}

async fn list_rates(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
) -> AppResult<RatesPage> {
    // Rates are money: they turn order prices into won.
    user.require(Permission::ViewMoney)?;
    rates_page(&state, ctx).await
}

#[derive(Clone, Default, Deserialize)]
struct RateForm {
    currency: String,
    rate_date: String,
    rate: String,
    #[serde(default)]
    source: String,
}

async fn add_rate(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input: f, refused }: Checked<RateForm>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let parsed = if refused.is_empty() {
        fx::parse_rate(
            &f.currency,
            &f.rate_date,
            &f.rate,
            &f.source,
            state.config.base(),
        )
    } else {
        Err(refused)
    };
    match parsed {
        Ok(r) => {
            fx::set_rate(&state.db, &user.actor(), state.config.base(), &r).await?;
            Ok(see_other("/procurement/rates", Some("saved")))
        }
        Err(errors) => {
            let mut page = rates_page(&state, ctx).await?;
            page.errors = errors;
            page.form = f;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
struct ImportForm {
    csv: String,
}

async fn import_rates(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input: f, refused }: Checked<ImportForm>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let mut page_errors = refused;
    let mut import_errors = Vec::new();
    if page_errors.is_empty() {
        let out = fx::import_csv(&state.db, &user.actor(), state.config.base(), &f.csv).await?;
        if out.errors.is_empty() && out.written > 0 {
            return Ok(see_other("/procurement/rates", Some("saved")));
        }
        if out.errors.is_empty() {
            // Nothing pasted (or a header alone): nothing was saved, so say so.
            page_errors.add("csv", crate::i18n::Msg::new("form2.no_rates"));
        }
        import_errors = out.errors;
    }
    let mut page = rates_page(&state, ctx).await?;
    page.import_errors = import_errors
        .iter()
        .map(|(line, m)| (*line, page.ctx.msg(m)))
        .collect();
    page.errors = page_errors;
    page.csv = f.csv;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
