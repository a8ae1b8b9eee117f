//! `/api/v1` endpoints for work orders, cables and audits.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Page;
use super::money::Shown;
use crate::auth::{CurrentUser, Permission};
use crate::datacenter::cabling::{self, CableInput, MoveEndInput};
use crate::error::AppResult;
use crate::i18n::Lang;
use crate::stocktake::{self, ScanResult, StartInput};
use crate::web::AppState;
use crate::web::{Ctx, Pager};
use crate::workorders::{self, CompleteInput, Filter, Origin, WorkOrder, WorkOrderInput};

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct WorkOrderQuery {
    /// `active` (open and in progress, the default), a status, or `all`.
    status: Option<String>,
    /// Words in the title or the asset tag.
    q: Option<String>,
    /// Only work orders assigned to this user id.
    assignee_id: Option<i64>,
    /// Only work orders for this asset id.
    asset_id: Option<i64>,
    /// Page number, from 1.
    page: Option<i64>,
    /// Rows per page (1-500).
    per_page: Option<i64>,
}

/// Work orders, due first.
#[utoipa::path(get, path = "/work-orders", tag = "datacenter", params(WorkOrderQuery), responses((status = 200, body = Page<WorkOrder>)))]
pub(super) async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<WorkOrderQuery>,
) -> AppResult<Shown<Page<WorkOrder>>> {
    let p = Pager {
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(crate::web::pager::DEFAULT_PER_PAGE),
    };
    let f = Filter {
        status: q.status.unwrap_or_default(),
        assignee_id: q.assignee_id,
        asset_id: q.asset_id,
        q: q.q.unwrap_or_default(),
        ..Filter::default()
    };
    let (rows, total) = workorders::list(&s.db, &f, p.limit(), p.offset()).await?;
    let rows: Vec<WorkOrder> = rows.into_iter().map(|w| w.localized(ctx.lang)).collect();
    Ok(Shown::to(&user, Page::new(rows, total, &p)))
}

/// A work order with its checklist and pick list, its stored messages in `lang`.
async fn detail(s: &AppState, id: i64, lang: Lang) -> AppResult<Value> {
    let wo = workorders::get(&s.db, id).await?.localized(lang);
    let checks: Vec<_> = workorders::checks(&s.db, id)
        .await?
        .into_iter()
        .map(|c| c.localized(lang))
        .collect();
    let picks = workorders::pick_list(&s.db, &wo, 5).await?;
    let entries: Vec<Value> = workorders::entries::list(&s.db, id)
        .await?
        .into_iter()
        .map(|e| json!({ "id": e.id, "kind": e.kind, "message": e.message.render(lang), "at": e.at }))
        .collect();
    Ok(json!({ "work_order": wo, "checklist": checks, "pick_list": picks, "entries": entries }))
}

/// A change to a work order by someone who may edit the datacenter (as on
/// the page): `done` runs only once that is checked; then the work order.
async fn edited<T>(
    s: &AppState,
    user: &CurrentUser,
    id: i64,
    lang: Lang,
    done: impl std::future::Future<Output = AppResult<T>>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditDatacenter)?;
    done.await?;
    Ok(Shown::to(user, detail(s, id, lang).await?))
}

/// Open a work order; an install or move onto a taken U is refused (409).
#[utoipa::path(post, path = "/work-orders", tag = "datacenter", request_body = WorkOrderInput, responses((status = 201, description = "Created; body as GET /work-orders/{id}"), (status = 409), (status = 422)))]
pub(super) async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Json(input): Json<WorkOrderInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditDatacenter)?;
    let id = workorders::create(&s.db, &user.actor(), &input, &Origin::default(), ctx.lang).await?;
    Ok(Shown::created(&user, detail(&s, id, ctx.lang).await?))
}

/// A work order with its checklist and pick list.
#[utoipa::path(get, path = "/work-orders/{id}", tag = "datacenter", params(("id" = i64, Path, description = "Work order id")), responses((status = 200), (status = 404)))]
pub(super) async fn get(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    Ok(Shown::to(&user, detail(&s, id, ctx.lang).await?))
}

/// Tick or untick a checklist item.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct TickInput {
    /// Done or not.
    done: bool,
}

/// Tick (or untick) a checklist item.
#[utoipa::path(post, path = "/work-orders/{id}/checks/{check_id}", tag = "datacenter", request_body = TickInput, params(("id" = i64, Path, description = "Work order id"), ("check_id" = i64, Path, description = "Checklist item id")), responses((status = 200), (status = 409)))]
pub(super) async fn tick(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path((id, check_id)): Path<(i64, i64)>,
    Json(input): Json<TickInput>,
) -> AppResult<Shown<Value>> {
    edited(
        &s,
        &user,
        id,
        ctx.lang,
        workorders::tick(&s.db, &user.actor(), id, check_id, input.done),
    )
    .await
}

/// A new status.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct StatusInput {
    /// open, in_progress, done or cancelled (as the page's status buttons).
    status: String,
}

/// Set a work order's status, as the page does.
#[utoipa::path(post, path = "/work-orders/{id}/status", tag = "datacenter", request_body = StatusInput, params(("id" = i64, Path, description = "Work order id")), responses((status = 200), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn set_status(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<StatusInput>,
) -> AppResult<Shown<Value>> {
    edited(
        &s,
        &user,
        id,
        ctx.lang,
        workorders::set_status(&s.db, &user.actor(), id, &input.status),
    )
    .await
}

/// Who a work order is assigned to.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct AssignInput {
    /// User id; null or absent leaves it unassigned.
    #[serde(default)]
    assignee_id: Option<i64>,
}

/// Assign a work order (or clear its assignee).
#[utoipa::path(post, path = "/work-orders/{id}/assign", tag = "datacenter", request_body = AssignInput, params(("id" = i64, Path, description = "Work order id")), responses((status = 200), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn assign(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<AssignInput>,
) -> AppResult<Shown<Value>> {
    edited(
        &s,
        &user,
        id,
        ctx.lang,
        workorders::assign(&s.db, &user.actor(), id, input.assignee_id),
    )
    .await
}

/// Close a work order opened by an alert the BMC has since cleared, as "no
/// fault found" (409 while an alert it names is still open).
#[utoipa::path(post, path = "/work-orders/{id}/no-fault", tag = "datacenter", params(("id" = i64, Path, description = "Work order id")), responses((status = 200), (status = 404), (status = 409)))]
pub(super) async fn no_fault(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    edited(
        &s,
        &user,
        id,
        ctx.lang,
        workorders::complete_no_fault(&s.db, &user.actor(), id),
    )
    .await
}

/// Complete a work order: every change at once, or 409/422 and nothing.
#[utoipa::path(post, path = "/work-orders/{id}/complete", tag = "datacenter", request_body = CompleteInput, params(("id" = i64, Path, description = "Work order id")), responses((status = 200), (status = 409), (status = 422)))]
pub(super) async fn complete(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<CompleteInput>,
) -> AppResult<Shown<Value>> {
    edited(
        &s,
        &user,
        id,
        ctx.lang,
        workorders::complete(&s.db, &user.actor(), id, &input),
    )
    .await
}

/// Lay a cable between two ports; 409 names a taken port.
#[utoipa::path(post, path = "/cables", tag = "datacenter", request_body = CableInput, responses((status = 201), (status = 409), (status = 422)))]
pub(super) async fn connect(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<CableInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditDatacenter)?;
    let id = cabling::connect(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

/// Remove a cable; both ports become free.
#[utoipa::path(delete, path = "/cables/{id}", tag = "datacenter", params(("id" = i64, Path, description = "Cable id")), responses((status = 204), (status = 404)))]
pub(super) async fn disconnect(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    user.require(Permission::EditDatacenter)?;
    cabling::disconnect(&s.db, &user.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Move one end of a cable to a free port.
#[utoipa::path(post, path = "/cables/{id}/move", tag = "datacenter", request_body = MoveEndInput, params(("id" = i64, Path, description = "Cable id")), responses((status = 204), (status = 409), (status = 422)))]
pub(super) async fn move_end(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<MoveEndInput>,
) -> AppResult<StatusCode> {
    user.require(Permission::EditDatacenter)?;
    cabling::move_end(&s.db, &user.actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start an audit of a rack or a stock location.
#[utoipa::path(post, path = "/audits", tag = "datacenter", request_body = StartInput, responses((status = 201), (status = 422)))]
pub(super) async fn start_audit(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<StartInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditDatacenter)?;
    let id = stocktake::start(&s.db, &user.actor(), &input).await?;
    let body = json!({ "audit": stocktake::get(&s.db, id).await? });
    Ok(Shown::created(&user, body))
}

/// An audit, its scans and (once finished) its findings.
#[utoipa::path(get, path = "/audits/{id}", tag = "datacenter", params(("id" = i64, Path, description = "Audit id")), responses((status = 200), (status = 404)))]
pub(super) async fn get_audit(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    let body = json!({
        "audit": stocktake::get(&s.db, id).await?,
        "scans": stocktake::scans(&s.db, id).await?,
        "findings": findings(&s, id, ctx.lang).await?,
    });
    Ok(Shown::to(&user, body))
}

/// One scanned code.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct ScanInput {
    /// Asset tag, hostname or serial.
    code: String,
}

/// Record a scan; says whether the code was expected here.
#[utoipa::path(post, path = "/audits/{id}/scans", tag = "datacenter", request_body = ScanInput, params(("id" = i64, Path, description = "Audit id")), responses((status = 200, body = ScanResult), (status = 409)))]
pub(super) async fn scan(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ScanInput>,
) -> AppResult<Shown<ScanResult>> {
    user.require(Permission::EditDatacenter)?;
    Ok(Shown::to(
        &user,
        stocktake::scan(&s.db, id, &input.code).await?,
    ))
}

/// Finish an audit and get its findings.
#[utoipa::path(post, path = "/audits/{id}/finish", tag = "datacenter", params(("id" = i64, Path, description = "Audit id")), responses((status = 200), (status = 409)))]
pub(super) async fn finish_audit(
    State(s): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditDatacenter)?;
    stocktake::finish(&s.db, &user.actor(), id).await?;
    let body = json!({ "findings": findings(&s, id, ctx.lang).await? });
    Ok(Shown::to(&user, body))
}

/// An audit's findings, their recorded places in `lang`.
async fn findings(s: &AppState, id: i64, lang: Lang) -> AppResult<Vec<stocktake::Finding>> {
    Ok(stocktake::findings(&s.db, id)
        .await?
        .into_iter()
        .map(|f| f.localized(lang))
        .collect())
}
