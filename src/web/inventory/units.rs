//! Pages of units, stock levels and the search box.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::audit::{self, AuditEntry, AuditFilter};
use crate::auth::Permission;
use crate::error::AppResult;
use crate::export::Cell;
use crate::inventory::reorder::{self, MinStockInput, ReorderRow};
use crate::inventory::units::{self, MovementRow, StockLevel, UnitRow, UnitStatus};
use crate::money::{Currency, Money};
use crate::web::AppState;
use crate::web::list::{self, ListParams, ListState};
use crate::web::{Checked, Ctx, needs, unless_refused};

/// Unit, stock and search routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory/units", get(list_units))
        .route("/inventory/units/{id}", get(show_unit))
        .route("/inventory/stock", get(stock))
        .route("/search", get(search))
        .merge(needs(
            &[Permission::EditInventory, Permission::EditProcurement],
            Router::new().route("/inventory/reorder", get(reorder).post(set_min_stock)),
        ))
}

#[derive(Deserialize, Default)]
struct UnitQuery {
    q: Option<String>,
    status: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/units.html")]
struct UnitsPage {
    ctx: Ctx,
    rows: Vec<UnitRow>,
    q: String,
    status: String,
    statuses: &'static [UnitStatus],
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    list: ListState,
}

async fn list_units(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<UnitQuery>,
) -> AppResult<Response> {
    let prefix = q.q.as_deref().map(str::trim).unwrap_or_default();
    let names: Vec<&str> = UnitStatus::ALL.iter().map(|s| s.as_str()).collect();
    let status = crate::web::pager::filter_choice("status", q.status.as_deref(), &names)?
        .and_then(|s| s.parse::<UnitStatus>().ok());
    let status_name = status.map_or("", UnitStatus::as_str);
    let list = ListState::new(
        "/inventory/units",
        &[("q", prefix), ("status", status_name)],
        units::UNIT_SORTS,
        &q.list,
    );
    if list.download.is_some() {
        return units_download(&state, &ctx, &list, prefix, status).await;
    }
    let (limit, offset) = list.window();
    let (rows, total) =
        units::search_sorted(&state.db, prefix, status, &list.sort, limit, offset).await?;
    Ok(UnitsPage {
        ctx: ctx.section("inventory"),
        rows,
        q: prefix.to_owned(),
        status: status_name.to_owned(),
        statuses: &UnitStatus::ALL,
        page: list.pager.page(),
        pages: list.pager.pages(total),
        total,
        base: list.base(),
        list,
    }
    .into_response())
}

/// The units' download headers; the landed cost only for those who see money.
fn units_headers(ctx: &Ctx) -> Vec<String> {
    let mut headers: Vec<String> = [
        "receipt.serial",
        "parts.mpn",
        "parts.manufacturer",
        "parts.category",
        "users.status",
        "po.number",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    headers.push(list::zoned_header(ctx, "list3.received"));
    if ctx.can_money() {
        headers.push(ctx.t("po.landed_unit").to_owned());
        headers.push(ctx.t("suppliers.currency").to_owned());
    }
    headers
}

/// The units as download rows, matching [`units_headers`].
fn units_rows(ctx: &Ctx, rows: &[UnitRow]) -> Vec<Vec<Cell>> {
    let money = ctx.can_money();
    rows.iter()
        .map(|u| {
            let mut r: Vec<Cell> = vec![
                u.serial.clone().into(),
                u.mpn.clone().into(),
                u.manufacturer.clone().into(),
                ctx.tk("category", &u.category).into(),
                ctx.tk("unit_status", u.status.as_str()).into(),
                u.po_number.clone().unwrap_or_default().into(),
                list::zoned_time(ctx, &u.received_at).into(),
            ];
            if money {
                let cur = Currency::parse(&u.cost_currency).unwrap_or(Currency::KRW);
                r.push(Cell::Decimal(
                    Money::from_minor(u.landed_cost_minor, cur).amount,
                ));
                r.push(cur.code().into());
            }
            r
        })
        .collect()
}

/// The units as a download: a CSV streams in chunks (a list of a million
/// units does not sit in memory), an XLSX is built whole.
async fn units_download(
    state: &AppState,
    ctx: &Ctx,
    list: &ListState,
    prefix: &str,
    status: Option<UnitStatus>,
) -> AppResult<Response> {
    let (db, c, sort, prefix) = (
        state.db.clone(),
        ctx.clone(),
        list.sort.clone(),
        prefix.to_owned(),
    );
    list::download_rows(
        ctx,
        list,
        "units",
        units_headers(ctx),
        move |limit, offset| {
            let (db, c, sort, prefix) = (db.clone(), c.clone(), sort.clone(), prefix.clone());
            Box::pin(async move {
                let (rows, total) =
                    units::search_sorted(&db, &prefix, status, &sort, limit, offset).await?;
                Ok((units_rows(&c, &rows), total))
            })
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/unit.html")]
struct UnitPage {
    ctx: Ctx,
    unit: UnitRow,
    cost: Money,
    movements: Vec<MovementRow>,
    installs: Vec<crate::inventory::assets::UnitInstall>,
    rmas: Vec<crate::inventory::rma::Rma>,
    history: Vec<AuditEntry>,
    /// For an installed unit: its asset's tag and where that asset sits.
    located: Option<(
        String,
        Option<(
            crate::datacenter::racks::Rack,
            crate::datacenter::placement::Placement,
        )>,
    )>,
    /// A refused faulty or scrap form: which, its messages and its reason.
    refused: Option<(&'static str, crate::error::FieldErrors, String)>,
    /// A refusal that is no field's (the unit's status changed).
    problem: Option<String>,
}

impl UnitPage {
    /// The message at the reason field of `form` when it was refused.
    fn reason_error(&self, form: &str) -> Option<String> {
        let (f, errors, _) = self.refused.as_ref()?;
        (*f == form).then(|| errors.get("reason").map(|m| self.ctx.msg(m)))?
    }

    /// The reason typed into `form` when it was refused, else empty.
    fn reason_kept(&self, form: &str) -> &str {
        match &self.refused {
            Some((f, _, r)) if *f == form => r,
            _ => "",
        }
    }

    /// Whether the unit is on a shelf, in stock or faulty (it can be scrapped).
    fn on_shelf(&self) -> bool {
        matches!(self.unit.status, UnitStatus::InStock | UnitStatus::Faulty)
            && self.unit.location_id.is_some()
    }
}

async fn show_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<UnitPage> {
    unit_page(&state, ctx, id).await
}

/// After marking a unit faulty or scrapping it: its page again, with the
/// form's messages and reason kept when refused.
pub(super) async fn after_condition(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    form: &'static str,
    input: crate::inventory::stock::condition::ConditionInput,
    result: AppResult<()>,
) -> AppResult<Response> {
    use axum::http::StatusCode;
    let (status, errors, problem) = match result {
        Ok(()) => {
            return Ok(crate::web::see_other(
                &format!("/inventory/units/{id}"),
                Some("saved"),
            ));
        }
        Err(crate::error::AppError::Validation(e)) => (StatusCode::UNPROCESSABLE_ENTITY, e, None),
        Err(crate::error::AppError::Conflict(m)) => {
            (StatusCode::CONFLICT, Default::default(), Some(m))
        }
        Err(e) => return Err(e),
    };
    let mut page = unit_page(state, ctx, id).await?;
    page.problem = problem.map(|m| page.ctx.msg(&m));
    page.refused = Some((form, errors, input.reason));
    Ok((status, page).into_response())
}

async fn unit_page(state: &AppState, ctx: Ctx, id: i64) -> AppResult<UnitPage> {
    let unit = units::get(&state.db, id).await?;
    let cost = Money::from_minor(
        unit.landed_cost_minor,
        Currency::parse(&unit.cost_currency).unwrap_or(state.config.base()),
    );
    let filter = AuditFilter {
        entity: Some("unit".into()),
        entity_id: Some(id.to_string()),
        actor: None,
    };
    let (history, _) = audit::list(&state.db, &filter, 50, 0).await?;
    Ok(UnitPage {
        movements: units::movements(&state.db, id).await?,
        installs: crate::inventory::assets::unit_installs(&state.db, id).await?,
        rmas: crate::inventory::rma::for_unit(&state.db, id).await?,
        located: match unit.asset_id {
            Some(a) => Some((
                crate::inventory::assets::get(&state.db, a).await?.asset_tag,
                crate::datacenter::placement::locate_asset(&state.db, a).await?,
            )),
            None => None,
        },
        ctx: ctx.section("inventory"),
        unit,
        cost,
        history,
        refused: None,
        problem: None,
    })
}

#[derive(Deserialize, Default)]
struct StockQuery {
    category: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/stock.html")]
struct StockPage {
    ctx: Ctx,
    rows: Vec<StockLevel>,
    category: String,
    categories: &'static [&'static str],
}

async fn stock(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<StockQuery>,
) -> AppResult<StockPage> {
    let category = crate::web::pager::filter_choice(
        "category",
        q.category.as_deref(),
        &crate::procurement::model::CATEGORIES,
    )?;
    Ok(StockPage {
        rows: units::stock_levels(&state.db, category).await?,
        category: category.unwrap_or_default().to_owned(),
        categories: &crate::procurement::model::CATEGORIES,
        ctx: ctx.section("inventory"),
    })
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/search.html")]
struct SearchPage {
    ctx: Ctx,
    q: String,
    units: Vec<UnitRow>,
    units_total: i64,
    parts: Vec<crate::procurement::PartModel>,
    orders: Vec<crate::procurement::orders_repo::PoRow>,
    assets: Vec<crate::inventory::assets::Asset>,
    reported: Vec<crate::health::serials::ReportedSerial>,
}

/// The search box: a serial (of a unit, an asset, or reported by a BMC), an
/// asset tag or hostname, an MPN or an order number, in any case. One exact
/// serial goes straight to its unit, else one exact asset to its page, else
/// an exact order number to its order.
async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> AppResult<Response> {
    let q = q.q.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if q.is_empty() {
        return Ok(Redirect::to("/").into_response());
    }
    let (units, units_total) = units::search(&state.db, &q, None, 20, 0).await?;
    if let [only] = units.as_slice()
        && only.serial.eq_ignore_ascii_case(&q)
    {
        return Ok(Redirect::to(&format!("/inventory/units/{}", only.id)).into_response());
    }
    let assets = crate::inventory::assets::list(&state.db, Some(&q), 20).await?;
    let exact_asset = |a: &crate::inventory::assets::Asset| {
        [
            Some(a.asset_tag.as_str()),
            a.hostname.as_deref(),
            a.serial.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|code| code.eq_ignore_ascii_case(&q))
    };
    if let [only] = assets.as_slice()
        && units.is_empty()
        && exact_asset(only)
    {
        return Ok(Redirect::to(&format!("/inventory/assets/{}", only.id)).into_response());
    }
    let (parts, _) =
        crate::procurement::repo::list_part_models(&state.db, Some(&q), None, 20, 0).await?;
    let (orders, _) =
        crate::procurement::orders_repo::list_pos(&state.db, Some(&q), None, 20, 0).await?;
    // An exact order number (unique) opens its order, as a serial or tag does.
    if units.is_empty()
        && assets.is_empty()
        && let Some(po) = orders.iter().find(|o| o.number.eq_ignore_ascii_case(&q))
    {
        return Ok(Redirect::to(&format!("/procurement/orders/{}", po.id)).into_response());
    }
    let reported = crate::health::serials::search(&state.db, &q, 20).await?;
    let money = ctx.can_money();
    let page = SearchPage {
        ctx,
        q,
        units,
        units_total,
        parts: parts.into_iter().map(|p| p.view(money)).collect(),
        orders,
        assets,
        reported,
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/reorder.html")]
struct ReorderPage {
    ctx: Ctx,
    rows: Vec<ReorderRow>,
    parts: Vec<crate::procurement::PartModel>,
    locations: Vec<crate::inventory::locations::LocationView>,
    suppliers: Vec<crate::procurement::Supplier>,
    /// The minimum stock form: empty, or as sent when it was refused.
    form: MinStockInput,
    errors: crate::error::FieldErrors,
}

async fn reorder_page(state: &AppState, ctx: Ctx) -> AppResult<ReorderPage> {
    let (parts, _) =
        crate::procurement::repo::list_part_models(&state.db, None, None, 500, 0).await?;
    let (suppliers, _) =
        crate::procurement::repo::list_suppliers(&state.db, None, "name", 500, 0).await?;
    Ok(ReorderPage {
        rows: reorder::below_minimum(&state.db, ctx.can_money()).await?,
        parts: parts.into_iter().map(|p| p.view(false)).collect(),
        locations: crate::inventory::locations::list(&state.db).await?,
        suppliers,
        form: MinStockInput::default(),
        errors: crate::error::FieldErrors::default(),
        ctx: ctx.section("inventory"),
    })
}

async fn reorder(State(state): State<AppState>, ctx: Ctx) -> AppResult<ReorderPage> {
    reorder_page(&state, ctx).await
}

async fn set_min_stock(
    State(state): State<AppState>,
    ctx: Ctx,
    user: crate::auth::CurrentUser,
    Checked { input, refused }: Checked<MinStockInput>,
) -> AppResult<Response> {
    if !user.can(Permission::EditInventory) && !user.can(Permission::EditProcurement) {
        return Err(crate::error::AppError::Forbidden);
    }
    let actor = user.actor();
    let set = reorder::set_min_stock(&state.db, &actor, &input);
    match unless_refused(&refused, set).await {
        Ok(()) => Ok(crate::web::see_other("/inventory/reorder", Some("saved"))),
        Err(crate::error::AppError::Validation(errors)) => {
            let mut page = reorder_page(&state, ctx).await?;
            page.form = input;
            page.errors = errors;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
