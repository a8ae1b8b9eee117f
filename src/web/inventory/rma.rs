//! Warranty terms and RMAs: the warranty page (terms per part model and
//! supplier, warranties ending and ended) and the RMA page (open, resolve).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::Permission;
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::{Checked, Ctx, needs, unless_refused};

/// Warranty and RMA routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(needs(
            &[Permission::EditProcurement],
            Router::new().route("/inventory/warranty", get(warranty).post(set_warranty_term)),
        ))
        .merge(needs(
            &[Permission::EditInventory],
            Router::new()
                .route("/inventory/rma", get(rmas).post(open_rma))
                .route("/inventory/rma/{id}", axum::routing::post(resolve_rma)),
        ))
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/warranty.html")]
struct WarrantyPage {
    ctx: Ctx,
    ending: Vec<crate::inventory::warranty::WarrantyRow>,
    expired: Vec<crate::inventory::warranty::WarrantyRow>,
    parts: Vec<crate::procurement::PartModel>,
    suppliers: Vec<crate::procurement::Supplier>,
    /// The term form: empty, or as sent when it was refused.
    form: crate::inventory::warranty::TermInput,
    errors: crate::error::FieldErrors,
}

async fn warranty_page(state: &AppState, ctx: Ctx) -> AppResult<WarrantyPage> {
    let today = ctx.today();
    let until = today + time::Duration::days(90);
    let (parts, _) =
        crate::procurement::repo::list_part_models(&state.db, None, None, 500, 0).await?;
    let (suppliers, _) =
        crate::procurement::repo::list_suppliers(&state.db, None, "name", 500, 0).await?;
    Ok(WarrantyPage {
        ending: crate::inventory::warranty::ending(&state.db, today, until).await?,
        expired: crate::inventory::warranty::expired_in_service(&state.db, today).await?,
        parts: parts.into_iter().map(|p| p.view(false)).collect(),
        suppliers,
        form: Default::default(),
        errors: crate::error::FieldErrors::default(),
        ctx: ctx.section("inventory"),
    })
}

async fn warranty(State(state): State<AppState>, ctx: Ctx) -> AppResult<WarrantyPage> {
    warranty_page(&state, ctx).await
}

async fn set_warranty_term(
    State(state): State<AppState>,
    ctx: Ctx,
    user: crate::auth::CurrentUser,
    Checked { input, refused }: Checked<crate::inventory::warranty::TermInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    let actor = user.actor();
    let set = crate::inventory::warranty::set_term(&state.db, &actor, &input);
    match unless_refused(&refused, set).await {
        Ok(()) => Ok(crate::web::see_other("/inventory/warranty", Some("saved"))),
        Err(crate::error::AppError::Validation(errors)) => {
            let mut page = warranty_page(&state, ctx).await?;
            page.form = input;
            page.errors = errors;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/rma.html")]
struct RmaPage {
    ctx: Ctx,
    rows: Vec<crate::inventory::rma::Rma>,
    locations: Vec<crate::inventory::locations::LocationView>,
    /// The open form: empty, or as sent when it was refused.
    open: crate::inventory::rma::OpenInput,
    /// The RMA whose resolve form was refused, and the form as sent.
    resolving: Option<(i64, crate::inventory::rma::ResolveInput)>,
    errors: crate::error::FieldErrors,
    problem: Option<String>,
}

impl RmaPage {
    /// The resolve form of RMA `id` as sent, or empty.
    fn sent_for(&self, id: &i64) -> crate::inventory::rma::ResolveInput {
        match &self.resolving {
            Some((at, input)) if at == id => input.clone(),
            _ => Default::default(),
        }
    }

    /// Whether the resolve form of RMA `id` was the one refused.
    fn is_refused(&self, id: &i64) -> bool {
        self.resolving.as_ref().is_some_and(|(at, _)| at == id)
    }
}

async fn rma_page(state: &AppState, ctx: Ctx) -> AppResult<RmaPage> {
    Ok(RmaPage {
        rows: crate::inventory::rma::list(&state.db).await?,
        locations: crate::inventory::locations::list(&state.db).await?,
        open: Default::default(),
        resolving: None,
        errors: crate::error::FieldErrors::default(),
        problem: None,
        ctx: ctx.section("inventory"),
    })
}

async fn rmas(State(state): State<AppState>, ctx: Ctx) -> AppResult<RmaPage> {
    rma_page(&state, ctx).await
}

/// The RMA page again after a form was refused, with it as sent.
enum RmaForm {
    Open(crate::inventory::rma::OpenInput),
    Resolve(i64, crate::inventory::rma::ResolveInput),
}

async fn rma_outcome(
    state: &AppState,
    ctx: Ctx,
    form: RmaForm,
    result: AppResult<()>,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(crate::web::see_other("/inventory/rma", Some("saved"))),
        Err(crate::error::AppError::Validation(errors)) => {
            let mut page = rma_page(state, ctx).await?;
            match form {
                RmaForm::Open(input) => page.open = input,
                RmaForm::Resolve(id, input) => page.resolving = Some((id, input)),
            }
            page.errors = errors;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(crate::error::AppError::Conflict(m)) => {
            let mut page = rma_page(state, ctx).await?;
            page.problem = Some(page.ctx.msg(&m));
            Ok((axum::http::StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn open_rma(
    State(state): State<AppState>,
    ctx: Ctx,
    user: crate::auth::CurrentUser,
    Checked { input, refused }: Checked<crate::inventory::rma::OpenInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    let r = unless_refused(
        &refused,
        crate::inventory::rma::open(&state.db, &user.actor(), &input),
    )
    .await
    .map(|_| ());
    rma_outcome(&state, ctx, RmaForm::Open(input), r).await
}

async fn resolve_rma(
    State(state): State<AppState>,
    ctx: Ctx,
    user: crate::auth::CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<crate::inventory::rma::ResolveInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    user.require_money_input(&input)?;
    let r = unless_refused(
        &refused,
        crate::inventory::rma::resolve(&state.db, &user.actor(), id, &input),
    )
    .await;
    rma_outcome(&state, ctx, RmaForm::Resolve(id, input), r).await
}
