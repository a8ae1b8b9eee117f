//! `/inventory/templates`: build templates, their versions and editing one
//! (an edit saves a new version; builds keep the version they were made from).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::inventory::templates::{
    self, ASSET_KINDS, Slot, Template as BuildTemplate, TemplateInput, Version,
};
use crate::money::Money;
use crate::web::AppState;
use crate::web::{Checked, Ctx, see_other, unless_refused};

/// Build template routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditInventory],
        Router::new()
            .route(
                "/inventory/templates",
                get(list_templates).post(create_template),
            )
            .route("/inventory/templates/{id}", get(show_template))
            .route(
                "/inventory/templates/{id}/edit",
                get(edit_template).post(save_template),
            ),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/templates.html")]
struct TemplatesPage {
    ctx: Ctx,
    rows: Vec<BuildTemplate>,
    kinds: &'static [&'static str],
    form: TemplateInput,
    errors: FieldErrors,
}

async fn templates_page(state: &AppState, ctx: Ctx) -> AppResult<TemplatesPage> {
    Ok(TemplatesPage {
        rows: templates::list(&state.db).await?,
        kinds: &ASSET_KINDS,
        form: TemplateInput {
            asset_kind: "server".into(),
            height_u: "1".into(),
            ..TemplateInput::default()
        },
        errors: FieldErrors::default(),
        ctx: ctx.section("inventory"),
    })
}

async fn list_templates(State(state): State<AppState>, ctx: Ctx) -> AppResult<TemplatesPage> {
    templates_page(&state, ctx).await
}

async fn create_template(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<TemplateInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    user.require_money_input(&input)?;
    match unless_refused(
        &refused,
        templates::create(&state.db, &user.actor(), &input),
    )
    .await
    {
        Ok(id) => Ok(see_other(
            &format!("/inventory/templates/{id}"),
            Some("saved"),
        )),
        Err(AppError::Validation(errors)) => {
            let mut page = templates_page(&state, ctx).await?;
            page.form = input;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/template.html")]
struct TemplatePage {
    ctx: Ctx,
    t: BuildTemplate,
    labour: Money,
    slots: Vec<Slot>,
    /// Every version of the template, newest first.
    versions: Vec<Version>,
    /// This is the current version (only it can be edited).
    current: bool,
}

async fn show_template(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<TemplatePage> {
    let t = templates::get(&state.db, id).await?;
    let versions = templates::versions(&state.db, id).await?;
    Ok(TemplatePage {
        labour: Money::from_minor(t.assembly_labour_minor, state.config.base()),
        slots: templates::slots(&state.db, id).await?,
        current: versions.iter().any(|v| v.id == id && !v.superseded),
        versions,
        t,
        ctx: ctx.section("inventory"),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/template_edit.html")]
struct EditPage {
    ctx: Ctx,
    id: i64,
    kinds: &'static [&'static str],
    form: TemplateInput,
    errors: FieldErrors,
    /// Why the edit cannot be saved (a newer version exists).
    problem: Option<String>,
}

async fn edit_template(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<EditPage> {
    user.require(Permission::EditInventory)?;
    Ok(EditPage {
        id,
        kinds: &ASSET_KINDS,
        form: templates::input_of(&state.db, id).await?,
        errors: FieldErrors::default(),
        problem: None,
        ctx: ctx.section("inventory"),
    })
}

async fn save_template(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<TemplateInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    user.require_money_input(&input)?;
    let (status, errors, problem) = match unless_refused(
        &refused,
        templates::revise(&state.db, &user.actor(), id, &input),
    )
    .await
    {
        Ok(new_id) => {
            return Ok(see_other(
                &format!("/inventory/templates/{new_id}"),
                Some("saved"),
            ));
        }
        Err(AppError::Validation(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        Err(AppError::Conflict(m)) => (
            StatusCode::CONFLICT,
            FieldErrors::default(),
            Some(ctx.msg(&m)),
        ),
        Err(e) => return Err(e),
    };
    let page = EditPage {
        id,
        kinds: &ASSET_KINDS,
        form: input,
        errors,
        problem,
        ctx: ctx.section("inventory"),
    };
    Ok((status, page).into_response())
}
