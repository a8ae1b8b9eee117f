//! `/api/v1` endpoints for build templates, assembly, assets, swaps, RMA,
//! warranty, reordering, stock transfers, faulty and scrap, and the search
//! over every serial. Costs only for roles that see money ([`Shown`]).

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
use crate::inventory::stock::condition::{self, ConditionInput};
use crate::inventory::stock::transfer;
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

/// A stock transfer as the API takes it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(super) struct TransferBody {
    /// Destination stock location id.
    to_location_id: i64,
    /// Serials of the units to move (any case), at most 1,000.
    serials: Vec<String>,
    /// Only say what would move (the preview); nothing changes.
    #[serde(default)]
    dry_run: bool,
}

/// The plan of a transfer, each serial with what happens to it, messages in
/// the caller's language.
fn plan_json(ctx: &crate::web::Ctx, plan: &transfer::Plan) -> Value {
    let lines: Vec<Value> = plan
        .lines
        .iter()
        .map(|l| {
            json!({
                "serial": l.serial,
                "unit_id": l.unit.as_ref().map(|u| u.id),
                "mpn": l.unit.as_ref().map(|u| u.mpn.clone()),
                "from": l.from,
                "moves": l.moves,
                "problem": l.problem.as_ref().map(|m| ctx.msg(m)),
                "note": l.note.as_ref().map(|m| ctx.msg(m)),
            })
        })
        .collect();
    json!({
        "to_location_id": plan.to_id,
        "to": plan.to,
        "moving": plan.moving(),
        "problems": plan.problems(),
        "lines": lines,
    })
}

/// Move units between stock locations by serial, all or none (`dry_run`
/// only previews). 422 names each serial that cannot move (`serials[i]`).
#[utoipa::path(post, path = "/transfers", tag = "inventory", request_body = TransferBody, responses((status = 200, description = "The plan carried out (or previewed)"), (status = 409, description = "A unit changed meanwhile; nothing moved"), (status = 422, description = "No destination, too many serials, or serials that cannot move")))]
pub(super) async fn transfer_units(
    State(s): State<AppState>,
    ctx: crate::web::Ctx,
    user: CurrentUser,
    Json(body): Json<TransferBody>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditInventory)?;
    let input = transfer::TransferInput {
        to_location_id: body.to_location_id.to_string(),
        serials: body.serials.join("\n"),
    };
    let plan = if body.dry_run {
        transfer::preview(&s.db, &input).await?
    } else {
        transfer::commit(&s.db, &user.actor(), &input).await?
    };
    Ok(Shown::to(&user, plan_json(&ctx, &plan)))
}

/// Mark a unit in stock faulty where it lies (dead on arrival); 409 for any other status.
#[utoipa::path(post, path = "/units/{id}/faulty", tag = "inventory", request_body = ConditionInput, params(("id" = i64, Path, description = "Unit id")), responses((status = 204), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn mark_faulty(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ConditionInput>,
) -> AppResult<StatusCode> {
    user.require(Permission::EditInventory)?;
    condition::mark_faulty(&s.db, &user.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Scrap a unit in stock or faulty for good (a reason is required); 409 for any other status.
#[utoipa::path(post, path = "/units/{id}/scrap", tag = "inventory", request_body = ConditionInput, params(("id" = i64, Path, description = "Unit id")), responses((status = 204), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn scrap_unit(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ConditionInput>,
) -> AppResult<StatusCode> {
    user.require(Permission::EditInventory)?;
    condition::scrap(&s.db, &user.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything a serial, tag or hostname may name, in any case: units by
/// serial prefix, assets by tag, hostname or registered serial, and the
/// serials BMCs report; at most 20 of each.
#[utoipa::path(get, path = "/search", tag = "inventory", params(("q" = String, Query, description = "Serial, asset tag or hostname, or their start")), responses((status = 200)))]
pub(super) async fn search(
    State(s): State<AppState>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<SearchQuery>,
) -> AppResult<Shown<Value>> {
    let q = q.q.trim();
    if q.is_empty() {
        return Ok(Shown::to(
            &user,
            json!({ "units": [], "assets": [], "reported": [] }),
        ));
    }
    let (units, units_total) = crate::inventory::units::search(&s.db, q, None, 20, 0).await?;
    let assets = assets::list(&s.db, Some(q), 20).await?;
    let reported = crate::health::serials::search(&s.db, q, 20).await?;
    let units: Vec<Value> = units
        .into_iter()
        .map(|u| json!({"id": u.id, "serial": u.serial, "mpn": u.mpn, "status": u.status, "location_id": u.location_id, "asset_id": u.asset_id}))
        .collect();
    let assets: Vec<Value> = assets
        .into_iter()
        .map(|a| json!({"id": a.id, "asset_tag": a.asset_tag, "hostname": a.hostname, "serial": a.serial, "status": a.status}))
        .collect();
    Ok(Shown::to(
        &user,
        json!({ "units": units, "units_total": units_total, "assets": assets, "reported": reported }),
    ))
}

/// The search's text.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub(super) struct SearchQuery {
    /// Serial, asset tag or hostname, or their start.
    #[serde(default)]
    q: String,
}
