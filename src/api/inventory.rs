//! `/api/v1` endpoints for build templates, assembly, assets, swaps, RMA,
//! warranty and reordering. Costs only for roles that see money ([`Shown`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::money::Shown;
use crate::auth::{CurrentUser, Permission};
use crate::error::AppResult;
use crate::inventory::assembly::{self, AssemblyInput};
use crate::inventory::assets::{self, SwapInput};
use crate::inventory::reorder::{self, ReorderRow};
use crate::inventory::rma::{self, OpenInput, ResolveInput};
use crate::inventory::templates::{self, Template, TemplateInput};
use crate::inventory::warranty::{self, WarrantyRow};
use crate::web::AppState;

/// Build templates.
#[utoipa::path(get, path = "/templates", tag = "inventory", responses((status = 200, body = Vec<Template>)))]
pub(super) async fn list_templates(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<Template>>> {
    Ok(Shown::to(&user, templates::list(&s.db).await?))
}

/// Create a build template (slot lines as on the page); assembly labour is
/// money, so a role without `ViewMoney` may not set it (403).
#[utoipa::path(post, path = "/templates", tag = "inventory", request_body = TemplateInput, responses((status = 201), (status = 403), (status = 422)))]
pub(super) async fn create_template(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<TemplateInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditInventory)?;
    user.require_money_input(&input)?;
    let id = templates::create(&s.db, &user.actor(), &input).await?;
    let slots = templates::slots(&s.db, id).await?;
    let template = templates::get(&s.db, id).await?;
    Ok(Shown::created(
        &user,
        json!({ "template": template, "slots": slots }),
    ))
}

async fn order_json(s: &AppState, id: i64) -> AppResult<Value> {
    let order = assembly::get(&s.db, id).await?;
    let picks = assembly::pick_list(&s.db, id).await?;
    Ok(json!({ "order": order, "pick_list": picks }))
}

/// Open an assembly order, reserving a unit for every required slot (409 if stock is short).
#[utoipa::path(post, path = "/assembly", tag = "inventory", request_body = AssemblyInput, responses((status = 201), (status = 409), (status = 422)))]
pub(super) async fn start_assembly(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<AssemblyInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditInventory)?;
    let id = assembly::start(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, order_json(&s, id).await?))
}

/// An assembly order with its pick list.
#[utoipa::path(get, path = "/assembly/{id}", tag = "inventory", params(("id" = i64, Path, description = "Assembly order id")), responses((status = 200), (status = 404)))]
pub(super) async fn get_assembly(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    Ok(Shown::to(&user, order_json(&s, id).await?))
}

/// Complete an assembly order: builds the asset from the reserved units.
#[utoipa::path(post, path = "/assembly/{id}/complete", tag = "inventory", params(("id" = i64, Path, description = "Assembly order id")), responses((status = 200), (status = 409)))]
pub(super) async fn complete_assembly(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditInventory)?;
    let asset = assembly::complete(&s.db, &user.actor(), id).await?;
    Ok(Shown::to(&user, asset_json(&s, asset).await?))
}

/// Cancel an assembly order and release its reservations.
#[utoipa::path(post, path = "/assembly/{id}/cancel", tag = "inventory", params(("id" = i64, Path, description = "Assembly order id")), responses((status = 204), (status = 409)))]
pub(super) async fn cancel_assembly(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    user.require(Permission::EditInventory)?;
    assembly::cancel(&s.db, &user.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn asset_json(s: &AppState, id: i64) -> AppResult<Value> {
    let a = assets::get(&s.db, id).await?;
    let mut v = json!(a);
    let installed = assets::installations(&s.db, id).await?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "cost_minor".into(),
            json!(a.units_cost_minor + a.assembly_labour_minor),
        );
        o.insert("cost_currency".into(), json!(s.config.base()));
        o.insert("installations".into(), json!(installed));
    }
    Ok(v)
}

/// One asset with what is and was installed.
#[utoipa::path(get, path = "/assets/{id}", tag = "inventory", params(("id" = i64, Path, description = "Asset id")), responses((status = 200), (status = 404)))]
pub(super) async fn get_asset(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    Ok(Shown::to(&user, asset_json(&s, id).await?))
}

/// Swap the unit in a slot for an in-stock unit, in one step.
#[utoipa::path(post, path = "/assets/{id}/swap", tag = "inventory", request_body = SwapInput, params(("id" = i64, Path, description = "Asset id")), responses((status = 200), (status = 409), (status = 422)))]
pub(super) async fn swap(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<SwapInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditInventory)?;
    assets::swap(&s.db, &user.actor(), id, &input).await?;
    Ok(Shown::to(&user, asset_json(&s, id).await?))
}

/// RMAs, open first.
#[utoipa::path(get, path = "/rma", tag = "inventory", responses((status = 200, body = Vec<rma::Rma>)))]
pub(super) async fn list_rma(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<Value>>> {
    let rows: Vec<Value> = rma::list(&s.db)
        .await?
        .into_iter()
        .map(|r| {
            let credit = r.credit();
            let mut v = json!(r);
            if let Some(o) = v.as_object_mut() {
                o.remove("credit_currency");
                if let Some(c) = credit {
                    o.insert("credit".into(), json!(c));
                }
            }
            v
        })
        .collect();
    Ok(Shown::to(&user, rows))
}

/// Send a faulty unit back to its supplier.
#[utoipa::path(post, path = "/rma", tag = "inventory", request_body = OpenInput, responses((status = 201), (status = 409), (status = 422)))]
pub(super) async fn open_rma(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<OpenInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditInventory)?;
    let id = rma::open(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

/// Record how an RMA ended: replaced, credited or rejected. A credit is
/// money, so a role without `ViewMoney` may not record one (403).
#[utoipa::path(post, path = "/rma/{id}", tag = "inventory", request_body = ResolveInput, params(("id" = i64, Path, description = "RMA id")), responses((status = 204), (status = 403), (status = 409), (status = 422)))]
pub(super) async fn resolve_rma(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ResolveInput>,
) -> AppResult<StatusCode> {
    user.require(Permission::EditInventory)?;
    user.require_money_input(&input)?;
    rma::resolve(&s.db, &user.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Units whose warranty ends in the next 90 days, and installed units out of warranty.
#[utoipa::path(get, path = "/warranty", tag = "inventory", responses((status = 200)))]
pub(super) async fn warranty_report(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Value>> {
    let today = crate::clock::now().date();
    let ending: Vec<WarrantyRow> =
        warranty::ending(&s.db, today, today + time::Duration::days(90)).await?;
    let expired: Vec<WarrantyRow> = warranty::expired_in_service(&s.db, today).await?;
    Ok(Shown::to(
        &user,
        json!({ "ending_within_90_days": ending, "expired_in_service": expired }),
    ))
}

/// Part models below their minimum stock, with whom to reorder from.
#[utoipa::path(get, path = "/reorder", tag = "inventory", responses((status = 200, body = Vec<ReorderRow>)))]
pub(super) async fn reorder_list(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<ReorderRow>>> {
    let rows = reorder::below_minimum(&s.db, user.can(Permission::ViewMoney)).await?;
    Ok(Shown::to(&user, rows))
}
