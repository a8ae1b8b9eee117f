//! Pages of `/workorders`: the list, a new work order, one work order with its
//! pick list and checklist, and completing it.

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
use crate::datacenter::placement::Placement;
use crate::datacenter::racks::{self, Rack};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::export::{Cell, Table};
use crate::inventory::locations::{self, LocationView};
use crate::web::AppState;
use crate::web::list::{self, ListParams, ListState};
use crate::web::{Checked, Ctx, see_other, unless_refused};
use crate::workorders::{
    Check, CompleteInput, Filter, Origin, Pull, Spare, WorkOrder, WorkOrderInput,
};

/// Work order routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditDatacenter],
        Router::new()
            .route("/workorders", get(list).post(create))
            .route("/workorders/new", get(new_form))
            .route("/workorders/{id}", get(show))
            .route("/workorders/{id}/checks/{check_id}", post(tick))
            .route("/workorders/{id}/status", post(status))
            .route("/workorders/{id}/assign", post(assign))
            .route("/workorders/{id}/cancel", post(cancel))
            .route("/workorders/{id}/complete", post(complete))
            .route("/workorders/{id}/no-fault", post(no_fault))
            .route("/workorders/reconcile/{asset_id}", post(reconcile)),
    )
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    q: Option<String>,
    mine: Option<String>,
    unassigned: Option<String>,
    site: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

#[derive(Template, WebTemplate)]
#[template(path = "workorders/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<WorkOrder>,
    today: time::Date,
    status: String,
    q: String,
    mine: bool,
    unassigned: bool,
    /// The site filter as given (`site=`), empty for every site.
    site: String,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    list: ListState,
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let mine = q.mine.as_deref() == Some("1");
    let unassigned = !mine && q.unassigned.as_deref() == Some("1");
    let choices: Vec<&str> = std::iter::once("all")
        .chain(crate::workorders::STATUSES)
        .collect();
    crate::web::pager::filter_choice("status", q.status.as_deref(), &choices)?;
    let status = q.status.unwrap_or_default();
    let words = q.q.unwrap_or_default();
    let site_id = q.site.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    let site = site_id.map(|s| s.to_string()).unwrap_or_default();
    let list = ListState::new(
        "/workorders",
        &[
            ("status", status.as_str()),
            ("q", words.trim()),
            ("mine", if mine { "1" } else { "" }),
            ("unassigned", if unassigned { "1" } else { "" }),
            ("site", site.as_str()),
        ],
        crate::workorders::WO_SORTS,
        &q.list,
    );
    let filter = Filter {
        status: status.clone(),
        assignee_id: mine.then_some(user.id),
        asset_id: None,
        site_id,
        q: words.clone(),
        unassigned,
        sort: list.sort.clone(),
    };
    let (limit, offset) = list.window();
    let (rows, total) = crate::workorders::list(&state.db, &filter, limit, offset).await?;
    let rows: Vec<WorkOrder> = rows.into_iter().map(|w| w.localized(ctx.lang)).collect();
    if let Some(ext) = &list.download {
        return list_download(&ctx, &rows, ext);
    }
    Ok(ListPage {
        today: ctx.today(),
        ctx: ctx.section("datacenter"),
        rows,
        status,
        q: words,
        mine,
        unassigned,
        site,
        page: list.pager.page(),
        pages: list.pager.pages(total),
        total,
        base: list.base(),
        list,
    }
    .into_response())
}

/// The work orders as a download (no money in them).
fn list_download(ctx: &Ctx, rows: &[WorkOrder], ext: &str) -> AppResult<Response> {
    let headers = [
        "wo.title",
        "wo.kind",
        "wo.asset",
        "wo.assignee",
        "wo.due",
        "users.status",
    ];
    let mut all = vec!["#".to_owned()];
    all.extend(headers.iter().map(|k| ctx.t(k).to_owned()));
    let rows = rows
        .iter()
        .map(|w| {
            vec![
                Cell::Int(w.id),
                w.title.clone().into(),
                ctx.tk("wo_kind", &w.kind).into(),
                w.asset_tag.clone().unwrap_or_default().into(),
                w.assignee.clone().unwrap_or_default().into(),
                w.due_date.map(|d| d.to_string()).unwrap_or_default().into(),
                ctx.tk("wo_status", &w.status).into(),
            ]
        })
        .collect();
    let table = Table {
        name: ctx.t("nav.workorders").to_owned(),
        headers: all,
        rows,
    };
    list::download(ctx, &table, ext, "workorders")
}

#[derive(Deserialize, Default)]
struct NewQuery {
    kind: Option<String>,
    asset: Option<String>,
    slot: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "workorders/new.html")]
struct NewPage {
    ctx: Ctx,
    form: WorkOrderInput,
    errors: FieldErrors,
    problem: Option<String>,
    racks: Vec<Rack>,
    users: Vec<(i64, String)>,
}

async fn new_page(state: &AppState, ctx: Ctx, form: WorkOrderInput) -> AppResult<NewPage> {
    Ok(NewPage {
        racks: racks::list(&state.db).await?,
        users: crate::workorders::assignable_users(&state.db).await?,
        form,
        errors: FieldErrors::default(),
        problem: None,
        ctx: ctx.section("datacenter"),
    })
}

async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<NewQuery>,
) -> AppResult<NewPage> {
    user.require(Permission::EditDatacenter)?;
    let form = WorkOrderInput {
        kind: q.kind.unwrap_or_else(|| "replace".into()),
        asset_tag: q.asset.unwrap_or_default(),
        slot_name: q.slot.unwrap_or_default(),
        face: "front".into(),
        depth: "full".into(),
        ..WorkOrderInput::default()
    };
    new_page(&state, ctx, form).await
}

async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<WorkOrderInput>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let origin = Origin {
        source: "manual",
        dedup_key: None,
    };
    match unless_refused(
        &refused,
        crate::workorders::create(&state.db, &user.actor(), &input, &origin, ctx.lang),
    )
    .await
    {
        Ok(id) => Ok(see_other(&format!("/workorders/{id}"), Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = new_page(&state, ctx, input).await?;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AppError::Conflict(m)) => {
            let mut page = new_page(&state, ctx, input).await?;
            page.problem = Some(page.ctx.msg(&m));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "workorders/show.html")]
struct ShowPage {
    ctx: Ctx,
    wo: WorkOrder,
    today: time::Date,
    checks: Vec<Check>,
    open_checks: usize,
    spares: Vec<Spare>,
    /// The part to take out, as installed now.
    pull: Option<Pull>,
    /// Where the asset is now.
    now_at: Option<(Rack, Placement)>,
    /// Where it goes (install, move).
    target: Option<Rack>,
    locations: Vec<LocationView>,
    users: Vec<(i64, String)>,
    form: CompleteInput,
    errors: FieldErrors,
    problem: Option<String>,
    /// What happened since it was opened (the BMC's reports).
    entries: Vec<crate::workorders::entries::Entry>,
    /// It names a health alert the BMC has cleared: it may close as no fault found.
    no_fault: bool,
    /// "Alert cleared at …: the BMC reports the part healthy", while the work
    /// order is active and the BMC's last word on its alert is that.
    cleared: Option<String>,
}

async fn show_page(state: &AppState, ctx: Ctx, id: i64) -> AppResult<ShowPage> {
    let wo = crate::workorders::get(&state.db, id)
        .await?
        .localized(ctx.lang);
    let checks: Vec<Check> = crate::workorders::checks(&state.db, id)
        .await?
        .into_iter()
        .map(|c| c.localized(ctx.lang))
        .collect();
    let spares = crate::workorders::pick_list(&state.db, &wo, 5).await?;
    let now_at = match wo.asset_id {
        Some(a) => crate::datacenter::placement::locate_asset(&state.db, a).await?,
        None => None,
    };
    let target = match wo.rack_id {
        Some(r) => Some(racks::get(&state.db, r).await?),
        None => None,
    };
    // The spare field starts empty (a scan would be appended to a suggestion):
    // the pick list's first spare is offered beside it. The removed part goes
    // to the stock location at the asset's site when there is one.
    let home = match (wo.asset_id, &wo.slot_name) {
        (Some(a), Some(_)) => crate::workorders::home_location(&state.db, a).await?,
        _ => None,
    };
    let form = CompleteInput {
        spare_serial: String::new(),
        removed_to: "rma".into(),
        location_id: home.map(|l| l.to_string()).unwrap_or_default(),
    };
    let entries = crate::workorders::entries::list(&state.db, id).await?;
    let cleared = entries
        .iter()
        .rev()
        .find(|e| matches!(e.kind.as_str(), "healthy_again" | "failed_again" | "gone"))
        .filter(|e| e.kind == "healthy_again" && wo.is_active())
        .map(|e| {
            ctx.msg(&crate::i18n::Msg::new("bmc2.cleared_note").arg("at", ctx.datetime(&e.at)))
        });
    Ok(ShowPage {
        pull: crate::workorders::part_to_pull(&state.db, &wo).await?,
        entries,
        cleared,
        no_fault: crate::workorders::no_fault_applies(&state.db, id).await?,
        open_checks: checks.iter().filter(|c| c.done_at.is_none()).count(),
        checks,
        spares,
        now_at,
        target,
        locations: locations::list(&state.db).await?,
        users: crate::workorders::assignable_users(&state.db).await?,
        form,
        errors: FieldErrors::default(),
        problem: None,
        today: ctx.today(),
        wo,
        ctx: ctx.section("datacenter"),
    })
}

async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> AppResult<ShowPage> {
    show_page(&state, ctx, id).await
}

/// Shows the work order again with a refusal explained, or goes back to it.
async fn outcome(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    result: AppResult<()>,
    form: Option<CompleteInput>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(see_other(&format!("/workorders/{id}"), Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = show_page(state, ctx, id).await?;
            page.errors = errors;
            if let Some(f) = form {
                page.form = f;
            }
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(AppError::Conflict(m)) => {
            let mut page = show_page(state, ctx, id).await?;
            page.problem = Some(page.ctx.msg(&m));
            if let Some(f) = form {
                page.form = f;
            }
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct TickForm {
    #[serde(default)]
    done: String,
}

async fn tick(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path((id, check_id)): Path<(i64, i64)>,
    Form(f): Form<TickForm>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let r = crate::workorders::tick(&state.db, &user.actor(), id, check_id, f.done == "1").await;
    match r {
        // Back to the checklist item, so a phone does not jump to the top.
        Ok(()) => Ok(see_other(&format!("/workorders/{id}#checklist"), None)),
        Err(e) => outcome(&state, ctx, id, Err(e), None).await,
    }
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let r = crate::workorders::set_status(&state.db, &user.actor(), id, &f.status).await;
    outcome(&state, ctx, id, r, None).await
}

async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let r = crate::workorders::set_status(&state.db, &user.actor(), id, "cancelled").await;
    outcome(&state, ctx, id, r, None).await
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    assignee_id: String,
}

async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AssignForm>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let who = f.assignee_id.trim().parse::<i64>().ok();
    let r = crate::workorders::assign(&state.db, &user.actor(), id, who).await;
    outcome(&state, ctx, id, r, None).await
}

async fn complete(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<CompleteInput>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let r = unless_refused(
        &refused,
        crate::workorders::complete(&state.db, &user.actor(), id, &input),
    )
    .await;
    outcome(&state, ctx, id, r, Some(input)).await
}

async fn no_fault(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let r = crate::workorders::complete_no_fault(&state.db, &user.actor(), id).await;
    outcome(&state, ctx, id, r, None).await
}

async fn reconcile(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(asset_id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    match crate::workorders::alerts::open_for_reconciliation(
        &state.db,
        &user.actor(),
        asset_id,
        ctx.lang,
    )
    .await?
    {
        Some(id) => Ok(see_other(&format!("/workorders/{id}"), Some("saved"))),
        None => Ok(see_other(&format!("/inventory/assets/{asset_id}"), None)),
    }
}
