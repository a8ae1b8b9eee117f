//! Pages of `/datacenter/audits`: start an audit, scan, finish, act on findings.

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
use crate::datacenter::racks::{self, Rack};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::inventory::locations::{self, LocationView};
use crate::stocktake::{Finding, ScanResult, StartInput, Stocktake};
use crate::web::AppState;
use crate::web::{Checked, Ctx, Pager, see_other};

/// Audit routes.
pub fn routes() -> Router<AppState> {
    let audits = Router::new()
        .route("/datacenter/audits", get(list).post(start))
        .route("/datacenter/audits/{id}", get(show))
        .route("/datacenter/audits/{id}/scan", post(scan))
        .route("/datacenter/audits/{id}/finish", post(finish))
        .route(
            "/datacenter/audits/{id}/findings/{fid}/workorder",
            post(work_order),
        );
    let fixes = Router::new().route("/datacenter/audits/{id}/findings/{fid}/fix", post(fix));
    crate::web::needs(&[Permission::EditDatacenter], audits)
        .merge(crate::web::needs(&[Permission::EditInventory], fixes))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default, deserialize_with = "crate::web::pager::lenient")]
    page: Option<i64>,
    /// `open`: only audits not finished yet.
    status: Option<String>,
    /// Read as every list reads it (a whole number, else 400); this list
    /// keeps its fixed page size.
    #[serde(
        default,
        rename = "per_page",
        deserialize_with = "crate::web::pager::lenient"
    )]
    _per_page: Option<i64>,
    /// Only the audits at this site id (a technician's home links so).
    site: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "stocktake/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<Stocktake>,
    racks: Vec<Rack>,
    locations: Vec<LocationView>,
    problem: Option<String>,
    page: i64,
    pages: i64,
    base: String,
}

async fn list_page(state: &AppState, ctx: Ctx, page: i64, open: bool) -> AppResult<ListPage> {
    list_page_at(state, ctx, page, open, None).await
}

async fn list_page_at(
    state: &AppState,
    ctx: Ctx,
    page: i64,
    open: bool,
    site: Option<i64>,
) -> AppResult<ListPage> {
    let pager = Pager {
        page,
        ..Pager::default()
    };
    let (rows, total) =
        crate::stocktake::list_at_site(&state.db, open, site, pager.limit(), pager.offset())
            .await?;
    Ok(ListPage {
        rows,
        racks: racks::list(&state.db).await?,
        locations: locations::list(&state.db).await?,
        problem: None,
        page: pager.page(),
        pages: pager.pages(total),
        base: match (open, site) {
            (true, Some(s)) => format!("/datacenter/audits?status=open&site={s}&"),
            (true, None) => "/datacenter/audits?status=open&".into(),
            (false, Some(s)) => format!("/datacenter/audits?site={s}&"),
            (false, None) => "/datacenter/audits?".into(),
        },
        ctx: ctx.section("datacenter"),
    })
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<ListPage> {
    let open = q.status.as_deref() == Some("open");
    let site = q.site.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
    list_page_at(&state, ctx, q.page.unwrap_or(1), open, site).await
}

async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Form(input): Form<StartInput>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    match crate::stocktake::start(&state.db, &user.actor(), &input).await {
        Ok(id) => Ok(see_other(&format!("/datacenter/audits/{id}"), None)),
        Err(AppError::Validation(errors)) => {
            let mut page = list_page(&state, ctx, 1, false).await?;
            page.problem = errors.0.first().map(|e| page.ctx.msg(&e.message));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    /// What the last scan was (`expected`, `elsewhere`, `unknown`, `repeated`).
    last: Option<String>,
    code: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "stocktake/show.html")]
struct ShowPage {
    ctx: Ctx,
    take: Stocktake,
    scans: Vec<String>,
    findings: Vec<Finding>,
    last: Option<(String, String)>,
    problem: Option<String>,
    /// The scan as typed when it was refused, and why (at the field).
    code: String,
    errors: FieldErrors,
}

async fn show_page(state: &AppState, ctx: Ctx, id: i64) -> AppResult<ShowPage> {
    Ok(ShowPage {
        take: crate::stocktake::get(&state.db, id).await?,
        scans: crate::stocktake::scans(&state.db, id).await?,
        findings: crate::stocktake::findings(&state.db, id).await?,
        last: None,
        problem: None,
        code: String::new(),
        errors: FieldErrors::default(),
        ctx: ctx.section("datacenter"),
    })
}

async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> AppResult<ShowPage> {
    let mut page = show_page(&state, ctx, id).await?;
    let known = ["expected", "elsewhere", "unknown", "repeated"];
    page.last = q
        .last
        .filter(|l| known.contains(&l.as_str()))
        .map(|l| (l, q.code.unwrap_or_default()));
    Ok(page)
}

async fn outcome(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    result: AppResult<()>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(see_other(
            &format!("/datacenter/audits/{id}"),
            Some("saved"),
        )),
        Err(AppError::Conflict(m)) => {
            let mut page = show_page(state, ctx, id).await?;
            page.problem = Some(page.ctx.msg(&m));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(AppError::Validation(errors)) => {
            let mut page = show_page(state, ctx, id).await?;
            page.problem = errors.0.first().map(|e| page.ctx.msg(&e.message));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct ScanForm {
    #[serde(default)]
    code: String,
}

async fn scan(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input: f, refused }: Checked<ScanForm>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    if !refused.is_empty() {
        let mut page = show_page(&state, ctx, id).await?;
        page.code = f.code;
        page.errors = refused;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match crate::stocktake::scan(&state.db, id, &f.code).await {
        Ok(result) => {
            let last = match result {
                ScanResult::Expected => "expected",
                ScanResult::Elsewhere => "elsewhere",
                ScanResult::Unknown => "unknown",
                ScanResult::Repeated => "repeated",
            };
            let query = serde_urlencoded::to_string([("last", last), ("code", f.code.trim())])
                .unwrap_or_default();
            Ok(see_other(&format!("/datacenter/audits/{id}?{query}"), None))
        }
        Err(e) => outcome(&state, ctx, id, Err(e)).await,
    }
}

async fn finish(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let r = crate::stocktake::finish(&state.db, &user.actor(), id)
        .await
        .map(|_| ());
    outcome(&state, ctx, id, r).await
}

async fn fix(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path((id, fid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let r = crate::stocktake::fix(&state.db, &user.actor(), id, fid).await;
    outcome(&state, ctx, id, r).await
}

async fn work_order(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path((id, fid)): Path<(i64, i64)>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    match crate::stocktake::open_work_order(&state.db, &user.actor(), id, fid, ctx.lang).await {
        Ok(wo) => Ok(see_other(&format!("/workorders/{wo}"), Some("saved"))),
        Err(e) => outcome(&state, ctx, id, Err(e)).await,
    }
}
