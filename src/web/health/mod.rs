//! Health pages: the fleet page (`/health`), and the health section of an
//! asset page with its BMC form, poll-now button and reconciliation.

mod bmcs;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult};
use crate::health::alerts::{self, Alert};
use crate::health::bmc::{self, Bmc, BmcInput};
use crate::health::fleet;
use crate::health::reconcile::{self, AssetDiff, Diff};
use crate::health::redfish::Snapshot;
use crate::health::store::{self, Event};
use crate::web::AppState;
use crate::web::{Ctx, see_other};

/// Health routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(fleet))
        .route("/health/bmcs", get(bmcs::list_bmcs))
        .route("/health/assets/{id}/bmc", post(save_bmc))
        .route("/health/assets/{id}/bmc/delete", post(delete_bmc))
        .route("/health/assets/{id}/poll", post(poll_now))
        .route("/health/assets/{id}/accept", post(accept))
}

/// Formats an optional number for a table cell.
pub fn num(v: &Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |n| format!("{n}"))
}

/// Formats an optional whole number for a table cell.
pub fn int(v: &Option<i64>) -> String {
    v.map_or_else(|| "–".to_owned(), |n| n.to_string())
}

/// Formats a byte count as decimal gigabytes (as drive makers count).
pub fn gb(v: &Option<i64>) -> String {
    v.map_or_else(|| "–".to_owned(), |b| format!("{:.1} GB", b as f64 / 1e9))
}

/// The health section of an asset page.
pub struct AssetHealth {
    /// Its BMC, if configured.
    pub bmc: Option<Bmc>,
    /// The latest snapshot and when it was taken.
    pub latest: Option<(Snapshot, OffsetDateTime)>,
    /// Serials: BMC against rackledger.
    pub diff: Option<Diff>,
    /// Open alerts.
    pub alerts: Vec<Alert>,
    /// Latest events.
    pub events: Vec<Event>,
    /// Whether no master key is configured (passwords cannot be saved).
    pub no_key: bool,
}

/// Loads the health section of asset `id` (for `inventory`'s asset page), as
/// an admin (`admin`) or another role may see it.
pub async fn asset_health(state: &AppState, id: i64, admin: bool) -> AppResult<AssetHealth> {
    Ok(AssetHealth {
        bmc: bmc::for_asset(&state.db, id)
            .await?
            .map(|b| b.for_viewer(admin)),
        latest: store::latest(&state.db, id).await?,
        diff: reconcile::for_asset(&state.db, id).await?,
        alerts: alerts::open(&state.db, Some(id)).await?,
        events: store::events(&state.db, id, 20).await?,
        no_key: !matches!(state.config.health.master_key(), Ok(Some(_))),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "health/fleet.html")]
struct FleetPage {
    ctx: Ctx,
    bmcs: i64,
    insecure: i64,
    silent: Vec<fleet::Silent>,
    unhealthy: Vec<fleet::Unhealthy>,
    alerts: Vec<Alert>,
    diffs: Vec<AssetDiff>,
}

async fn fleet(State(state): State<AppState>, ctx: Ctx) -> AppResult<FleetPage> {
    let db = &state.db;
    let (bmcs, insecure) = fleet::bmc_counts(db).await?;
    Ok(FleetPage {
        bmcs,
        insecure,
        silent: fleet::silent(db).await?,
        unhealthy: fleet::unhealthy(db).await?,
        alerts: alerts::open(db, None).await?,
        diffs: reconcile::fleet(db).await?,
        ctx: ctx.section("health"),
    })
}

fn back(id: i64) -> String {
    format!("/inventory/assets/{id}#health")
}

async fn save_bmc(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<BmcInput>,
) -> AppResult<Response> {
    user.require(Permission::EditHealth)?;
    crate::inventory::assets::get(&state.db, id).await?;
    let key = state
        .config
        .health
        .master_key()
        .map_err(AppError::Internal)?;
    match bmc::save(&state.db, key.as_ref(), &user.actor(), id, &input).await {
        Ok(_) => Ok(see_other(&back(id), Some("saved"))),
        // The form lives on the asset page; its errors come back as one message there.
        Err(AppError::Validation(errors)) => {
            let msg = errors
                .0
                .iter()
                .map(|e| ctx.msg(&e.message))
                .collect::<Vec<_>>()
                .join(" ");
            Err(AppError::Conflict(
                crate::i18n::Msg::new("health.form_error").arg("detail", msg),
            ))
        }
        Err(e) => Err(e),
    }
}

async fn delete_bmc(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditHealth)?;
    bmc::delete(&state.db, &user.actor(), id).await?;
    Ok(see_other(&back(id), Some("saved")))
}

async fn poll_now(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditHealth)?;
    if !bmc::poll_soon(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(see_other(&back(id), None))
}

/// Accepting the BMC's truth for one slot.
#[derive(Deserialize)]
struct AcceptForm {
    slot_name: String,
    serial: String,
    old_to: String,
    location_id: i64,
}

async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AcceptForm>,
) -> AppResult<Response> {
    user.require(Permission::EditInventory)?;
    reconcile::accept(
        &state.db,
        &user.actor(),
        id,
        &f.slot_name,
        &f.serial,
        &f.old_to,
        f.location_id,
    )
    .await?;
    Ok(see_other(&back(id), Some("saved")))
}
