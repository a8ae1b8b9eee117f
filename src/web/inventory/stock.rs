//! Moving stock by hand: the transfer page (choose the destination, scan or
//! paste serials, preview, move all or none), and marking a unit faulty or
//! scrapping it from its page.

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
use crate::inventory::stock::condition::{self, ConditionInput};
use crate::inventory::stock::transfer::{self, MAX_SERIALS, Plan, TransferInput};
use crate::web::{AppState, Checked, Ctx, unless_refused};

/// Transfer, faulty and scrap routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditInventory],
        Router::new()
            .route(
                "/inventory/transfers",
                get(transfer_form).post(transfer_post),
            )
            .route("/inventory/units/{id}/faulty", post(faulty))
            .route("/inventory/units/{id}/scrap", post(scrap)),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/transfer.html")]
struct TransferPage {
    ctx: Ctx,
    locations: Vec<LocationView>,
    input: TransferInput,
    plan: Option<Plan>,
    errors: FieldErrors,
    problem: Option<String>,
    moved: Option<(i64, String)>,
    max: usize,
}

#[derive(Deserialize, Default)]
struct Done {
    moved: Option<i64>,
    to: Option<i64>,
}

async fn page(state: &AppState, ctx: Ctx, input: TransferInput) -> AppResult<TransferPage> {
    Ok(TransferPage {
        ctx: ctx.section("inventory"),
        locations: locations::list(&state.db).await?,
        input,
        plan: None,
        errors: FieldErrors::default(),
        problem: None,
        moved: None,
        max: MAX_SERIALS,
    })
}

async fn transfer_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(done): Query<Done>,
) -> AppResult<TransferPage> {
    let mut p = page(&state, ctx, TransferInput::default()).await?;
    if let (Some(n), Some(to)) = (done.moved, done.to) {
        let path = p.locations.iter().find(|l| l.id == to);
        p.moved = path.map(|l| (n, l.path.clone()));
    }
    Ok(p)
}

#[derive(Deserialize)]
struct TransferForm {
    #[serde(flatten)]
    input: TransferInput,
    #[serde(default)]
    step: String,
}

/// Preview (`step=preview`) or move (`step=move`); a refusal shows the form
/// again with what was typed, the plan and the messages at their fields.
async fn transfer_post(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input: f, refused }: Checked<TransferForm>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let result = if f.step == "move" {
        unless_refused(
            &refused,
            transfer::commit(&state.db, &user.actor(), &f.input),
        )
        .await
    } else {
        unless_refused(&refused, transfer::preview(&state.db, &f.input)).await
    };
    let mut p = page(&state, ctx, f.input.clone()).await?;
    let status = match result {
        Ok(plan) if f.step == "move" => {
            let to = format!(
                "/inventory/transfers?moved={}&to={}",
                plan.moving(),
                plan.to_id
            );
            return Ok(crate::web::see_other(&to, Some("saved")));
        }
        Ok(plan) => {
            p.plan = Some(plan);
            StatusCode::OK
        }
        Err(AppError::Validation(errors)) => {
            p.errors = errors;
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(AppError::Conflict(m)) => {
            p.problem = Some(p.ctx.msg(&m));
            StatusCode::CONFLICT
        }
        Err(e) => return Err(e),
    };
    if p.plan.is_none() && p.errors.get("to_location_id").is_none() && refused.is_empty() {
        // Refused as a whole: show each serial's problem beside it.
        p.plan = transfer::preview(&state.db, &f.input).await.ok();
    }
    Ok((status, p).into_response())
}

async fn faulty(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<ConditionInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let r = unless_refused(
        &refused,
        condition::mark_faulty(&state.db, &user.actor(), id, &input),
    )
    .await;
    super::units::after_condition(&state, ctx, id, "faulty", input, r).await
}

async fn scrap(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<ConditionInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let r = unless_refused(
        &refused,
        condition::scrap(&state.db, &user.actor(), id, &input),
    )
    .await;
    super::units::after_condition(&state, ctx, id, "scrap", input, r).await
}
