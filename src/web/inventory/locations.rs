//! Pages of `/inventory`: stock locations.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::inventory::locations::{self, KINDS, LocationInput, LocationTree, LocationView};
use crate::web::AppState;
use crate::web::{Checked, Ctx, see_other, unless_refused};

/// Inventory routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditInventory],
        Router::new().route("/inventory/locations", get(list).post(create)),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "inventory/locations.html")]
struct LocationsPage {
    ctx: Ctx,
    rows: Vec<LocationView>,
    /// Each row's site (its own or inherited), aligned with `rows`.
    row_sites: Vec<String>,
    sites: Vec<(i64, String)>,
    kinds: &'static [&'static str],
    form: LocationInput,
    errors: FieldErrors,
}

async fn page(state: &AppState, ctx: Ctx) -> AppResult<LocationsPage> {
    let rows = locations::list(&state.db).await?;
    let tree = LocationTree::load(&state.db).await?;
    let row_sites = rows
        .iter()
        .map(|l| {
            tree.site_of(l.id)
                .and_then(|(_, site)| site)
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    Ok(LocationsPage {
        ctx: ctx.section("inventory"),
        row_sites,
        sites: crate::datacenter::racks::sites(&state.db).await?,
        rows,
        kinds: &KINDS,
        form: LocationInput {
            kind: "warehouse".into(),
            ..LocationInput::default()
        },
        errors: FieldErrors::default(),
    })
}

async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<LocationsPage> {
    page(&state, ctx).await
}

async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<LocationInput>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    match unless_refused(
        &refused,
        locations::create(&state.db, &user.actor(), &input),
    )
    .await
    {
        Ok(_) => Ok(see_other("/inventory/locations", Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut p = page(&state, ctx).await?;
            p.form = input;
            p.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e),
    }
}
