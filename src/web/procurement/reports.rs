//! `/procurement/reports`: the three reports on one page, and their CSV/XLSX downloads.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult};
use crate::export::{self, Table};
use crate::procurement::reports::{self, NAMES};
use crate::web::AppState;
use crate::web::Ctx;

/// Report routes (money: procurement, manager, admin).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/procurement/reports", get(index))
        .route("/procurement/reports/{file}", get(download))
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/reports.html")]
struct ReportsPage {
    ctx: Ctx,
    reports: Vec<(&'static str, Table)>,
}

async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
) -> AppResult<ReportsPage> {
    user.require(Permission::ViewMoney)?;
    let mut out = Vec::new();
    for name in NAMES {
        if let Some(t) = reports::by_name(&state.db, name, ctx.lang, state.config.base()).await? {
            out.push((name, t));
        }
    }
    Ok(ReportsPage {
        ctx: ctx.section("procurement"),
        reports: out,
    })
}

async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(file): Path<String>,
) -> AppResult<Response> {
    user.require(Permission::ViewMoney)?;
    let (name, ext) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    let table = reports::by_name(&state.db, name, ctx.lang, state.config.base())
        .await?
        .ok_or(AppError::NotFound)?;
    export::attachment(&table, ext, name)
}
