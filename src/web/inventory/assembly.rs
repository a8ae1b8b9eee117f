//! Pages for assembly orders and assets (build templates: `build_templates`).

use crate::web::Form;
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
use crate::export::{Cell, Table};
use crate::inventory::assembly::{self, AssemblyInput, AssemblyOrder, PickLine};
use crate::inventory::assets::{self, Asset, Installed, SwapInput};
use crate::inventory::locations::{self, LocationView};
use crate::inventory::templates::{self, Template as BuildTemplate};
use crate::money::Money;
use crate::web::AppState;
use crate::web::list::{self, ListState};
use crate::web::{Checked, Ctx, see_other, unless_refused};

/// Template, assembly and asset routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditInventory],
        Router::new()
            .route("/inventory/assembly", get(list_orders).post(start_order))
            .route("/inventory/assembly/{id}", get(show_order))
            .route("/inventory/assembly/{id}/complete", post(complete_order))
            .route("/inventory/assembly/{id}/cancel", post(cancel_order))
            .route("/inventory/assembly/{id}/choose", post(choose_unit))
            .route("/inventory/assets", get(list_assets))
            .route("/inventory/assets/{id}", get(show_asset))
            .route("/inventory/assets/{id}/swap", post(swap)),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/assembly.html")]
struct OrdersPage {
    ctx: Ctx,
    rows: Vec<AssemblyOrder>,
    templates: Vec<BuildTemplate>,
    form: AssemblyInput,
    errors: FieldErrors,
    problem: Option<String>,
}

async fn orders_page(state: &AppState, ctx: Ctx) -> AppResult<OrdersPage> {
    Ok(OrdersPage {
        rows: assembly::list(&state.db).await?,
        templates: templates::list(&state.db).await?,
        form: AssemblyInput::default(),
        errors: FieldErrors::default(),
        problem: None,
        ctx: ctx.section("inventory"),
    })
}

async fn list_orders(State(state): State<AppState>, ctx: Ctx) -> AppResult<OrdersPage> {
    orders_page(&state, ctx).await
}

async fn start_order(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<AssemblyInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let actor = user.actor();
    match unless_refused(&refused, assembly::start(&state.db, &actor, &input)).await {
        Ok(id) => Ok(see_other(
            &format!("/inventory/assembly/{id}"),
            Some("saved"),
        )),
        Err(AppError::Validation(errors)) => {
            let mut page = orders_page(&state, ctx).await?;
            page.form = input;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AppError::Conflict(m)) => {
            let mut page = orders_page(&state, ctx).await?;
            page.problem = Some(page.ctx.msg(&m));
            page.form = input;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/assembly_order.html")]
struct OrderPage {
    ctx: Ctx,
    order: AssemblyOrder,
    picks: Vec<(PickLine, Money)>,
    total: Money,
    problem: Option<String>,
}

async fn show_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<OrderPage> {
    let base = state.config.base();
    let picks: Vec<(PickLine, Money)> = assembly::pick_list(&state.db, id)
        .await?
        .into_iter()
        .map(|p| {
            let m = Money::from_minor(p.landed_cost_minor, base);
            (p, m)
        })
        .collect();
    let total = Money::from_minor(picks.iter().map(|(p, _)| p.landed_cost_minor).sum(), base);
    Ok(OrderPage {
        order: assembly::get(&state.db, id).await?,
        picks,
        total,
        problem: None,
        ctx: ctx.section("inventory"),
    })
}

async fn complete_order(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let asset = assembly::complete(&state.db, &user.actor(), id).await?;
    Ok(see_other(
        &format!("/inventory/assets/{asset}"),
        Some("saved"),
    ))
}

async fn cancel_order(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    assembly::cancel(&state.db, &user.actor(), id).await?;
    Ok(see_other(
        &format!("/inventory/assembly/{id}"),
        Some("saved"),
    ))
}

#[derive(Deserialize, Default)]
struct AssetQuery {
    q: Option<String>,
    sort: Option<String>,
    download: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/assets.html")]
struct AssetsPage {
    ctx: Ctx,
    rows: Vec<(Asset, Money)>,
    q: String,
    list: ListState,
}

/// Assets one page lists (the list has no pages).
const ASSETS_SHOWN: i64 = 500;

async fn list_assets(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AssetQuery>,
) -> AppResult<Response> {
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let list = ListState::new(
        "/inventory/assets",
        &[("q", search.unwrap_or(""))],
        q.sort.as_deref(),
        assets::ASSET_SORTS,
        None,
        q.download.as_deref(),
    );
    let limit = if list.download.is_some() {
        list.window().0
    } else {
        ASSETS_SHOWN
    };
    let base = state.config.base();
    let rows: Vec<(Asset, Money)> = assets::list_sorted(&state.db, search, &list.sort, limit)
        .await?
        .into_iter()
        .map(|a| {
            let m = Money::from_minor(a.units_cost_minor + a.assembly_labour_minor, base);
            (a, m)
        })
        .collect();
    if let Some(ext) = &list.download {
        return list::download(&assets_table(&ctx, &rows), ext, "assets");
    }
    Ok(AssetsPage {
        rows,
        q: search.unwrap_or_default().to_owned(),
        list,
        ctx: ctx.section("inventory"),
    }
    .into_response())
}

/// The assets as a download; the cost only for those who see money.
fn assets_table(ctx: &Ctx, rows: &[(Asset, Money)]) -> Table {
    let money = ctx.can_money();
    let mut headers: Vec<String> = [
        "assembly.asset_tag",
        "assembly.hostname",
        "nav.templates",
        "users.status",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    if money {
        headers.push(ctx.t("assets.cost").to_owned());
        headers.push(ctx.t("suppliers.currency").to_owned());
    }
    let rows = rows
        .iter()
        .map(|(a, cost)| {
            let mut r = vec![
                Cell::Text(a.asset_tag.clone()),
                a.hostname.clone().unwrap_or_default().into(),
                a.template_name.clone().unwrap_or_default().into(),
                ctx.tk("asset_status", &a.status).into(),
            ];
            if money {
                r.push(Cell::Decimal(cost.amount));
                r.push(cost.currency.code().into());
            }
            r
        })
        .collect();
    Table {
        name: ctx.t("nav.assets").to_owned(),
        headers,
        rows,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/asset.html")]
struct AssetPage {
    ctx: Ctx,
    asset: Asset,
    cost: Money,
    labour: Money,
    installed: Vec<(Installed, Money)>,
    removed: Vec<Installed>,
    locations: Vec<LocationView>,
    errors: FieldErrors,
    problem: Option<String>,
    place: Option<(
        crate::datacenter::racks::Rack,
        crate::datacenter::placement::Placement,
    )>,
    ports: Vec<crate::datacenter::cabling::PortRow>,
    workorders: Vec<crate::workorders::WorkOrder>,
    health: crate::web::health::AssetHealth,
    /// Sensor charts over the last day.
    readings: crate::web::history::Charts,
    /// The swap form: its defaults, or what was sent when it was refused.
    swap: SwapForm,
    /// The cable form refused, as sent: a new cable, or moving one's end.
    cable: Option<CableForm>,
}

/// A cable form on the asset page, as sent.
pub(crate) enum CableForm {
    /// Connect a port of this asset.
    Connect(crate::datacenter::cabling::CableInput),
    /// Move the far end of this cable.
    Move(i64, crate::datacenter::cabling::MoveEndInput),
}

impl AssetPage {
    /// The new-cable form as sent when it was refused, else empty.
    fn connecting(&self) -> crate::datacenter::cabling::CableInput {
        match &self.cable {
            Some(CableForm::Connect(input)) => input.clone(),
            _ => Default::default(),
        }
    }

    /// The move form of cable `id` as sent when it was refused.
    fn moving(&self, id: &i64) -> Option<&crate::datacenter::cabling::MoveEndInput> {
        match &self.cable {
            Some(CableForm::Move(at, input)) if at == id => Some(input),
            _ => None,
        }
    }
}

/// The asset page again with its refused cable form as sent, the messages
/// at its fields (422) or the conflict above it (409).
pub(crate) async fn asset_page_with_cable(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    form: CableForm,
    refusal: AppError,
) -> AppResult<Response> {
    let mut page = asset_page(state, ctx, id).await?;
    page.cable = Some(form);
    let status = match refusal {
        AppError::Validation(errors) => {
            page.errors = errors;
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::Conflict(m) => {
            page.problem = Some(page.ctx.msg(&m));
            StatusCode::CONFLICT
        }
        e => return Err(e),
    };
    Ok((status, page).into_response())
}

/// The swap form as sent: the location is text, so an empty choice is
/// refused at its field rather than by the form reader.
#[derive(Clone, Debug, Default, Deserialize)]
struct SwapForm {
    #[serde(default)]
    slot_name: String,
    #[serde(default)]
    new_serial: String,
    #[serde(default)]
    old_to: String,
    #[serde(default)]
    location_id: String,
}

impl SwapForm {
    /// The swap asked for, or the form's own refusal (no location chosen).
    fn input(&self) -> AppResult<SwapInput> {
        let Ok(location_id) = self.location_id.trim().parse::<i64>() else {
            let mut f = FieldErrors::default();
            f.add("location_id", crate::i18n::Msg::new("swap.choose_location"));
            return Err(AppError::Validation(f));
        };
        Ok(SwapInput {
            slot_name: self.slot_name.clone(),
            new_serial: self.new_serial.clone(),
            old_to: self.old_to.clone(),
            location_id,
        })
    }
}

async fn asset_page(state: &AppState, ctx: Ctx, id: i64) -> AppResult<AssetPage> {
    let base = state.config.base();
    let asset = assets::get(&state.db, id).await?;
    let (current, removed): (Vec<Installed>, Vec<Installed>) = assets::installations(&state.db, id)
        .await?
        .into_iter()
        .partition(|i| i.removed_at.is_none());
    Ok(AssetPage {
        cost: Money::from_minor(asset.units_cost_minor + asset.assembly_labour_minor, base),
        labour: Money::from_minor(asset.assembly_labour_minor, base),
        installed: current
            .into_iter()
            .map(|i| {
                let m = Money::from_minor(i.landed_cost_minor, base);
                (i, m)
            })
            .collect(),
        removed,
        locations: locations::list(&state.db).await?,
        place: crate::datacenter::placement::locate_asset(&state.db, id).await?,
        ports: crate::datacenter::cabling::ports_of(&state.db, id).await?,
        workorders: crate::workorders::active_for_asset(&state.db, id)
            .await?
            .into_iter()
            .map(|w| w.localized(ctx.lang))
            .collect(),
        health: crate::web::health::asset_health(state, id, ctx.is_admin()).await?,
        readings: crate::web::history::asset_charts(
            state,
            &ctx,
            id,
            crate::web::history::chart::Range::Day,
        )
        .await?,
        // The removed part goes to the stock location at the asset's own
        // site; with none, the user chooses (never the first in the list).
        swap: SwapForm {
            old_to: "faulty".into(),
            location_id: crate::workorders::home_location(&state.db, id)
                .await?
                .map(|l| l.to_string())
                .unwrap_or_default(),
            ..SwapForm::default()
        },
        asset,
        errors: FieldErrors::default(),
        problem: None,
        cable: None,
        ctx: ctx.section("inventory"),
    })
}

/// The asset page with its BMC form refused (422), showing it as sent with
/// the messages at its fields.
pub(crate) async fn asset_page_with_health(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    health: crate::web::health::AssetHealth,
) -> AppResult<Response> {
    let mut page = asset_page(state, ctx, id).await?;
    page.health = health;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn show_asset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<AssetPage> {
    asset_page(&state, ctx, id).await
}

async fn swap(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked {
        input: form,
        refused,
    }: Checked<SwapForm>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let swapped = match form.input() {
        Ok(input) => {
            unless_refused(&refused, assets::swap(&state.db, &user.actor(), id, &input)).await
        }
        Err(e) => Err(e),
    };
    match swapped {
        Ok(_) => Ok(see_other(&format!("/inventory/assets/{id}"), Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = asset_page(&state, ctx, id).await?;
            page.errors = errors;
            page.swap = form;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AppError::Conflict(m)) => {
            let mut page = asset_page(&state, ctx, id).await?;
            page.problem = Some(page.ctx.msg(&m));
            page.swap = form;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct ChooseForm {
    slot_name: String,
    serial: String,
}

async fn choose_unit(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ChooseForm>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    match assembly::choose(&state.db, &user.actor(), id, &f.slot_name, &f.serial).await {
        Ok(()) => Ok(see_other(
            &format!("/inventory/assembly/{id}"),
            Some("saved"),
        )),
        Err(AppError::Validation(errors)) => {
            let msg = errors
                .0
                .first()
                .map(|e| ctx.msg(&e.message))
                .unwrap_or_default();
            let mut page = show_order(State(state), ctx, Path(id)).await?;
            page.problem = Some(msg);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AppError::Conflict(m)) => {
            let mut page = show_order(State(state), ctx, Path(id)).await?;
            page.problem = Some(page.ctx.msg(&m));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}
