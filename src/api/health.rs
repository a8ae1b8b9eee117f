//! `/api/v1` endpoints for BMCs and health.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::money::Shown;
use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult};
use crate::health::alerts::{self, Alert};
use crate::health::bmc::{self, BmcInput};
use crate::health::{history, reconcile, store};
use crate::web::AppState;

/// An asset's health: its BMC (never the password), latest snapshot, open
/// alerts, reconciliation and recent events.
#[utoipa::path(get, path = "/assets/{id}/health", tag = "health", params(("id" = i64, Path, description = "Asset id")), responses((status = 200), (status = 404)))]
pub(super) async fn asset_health(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    crate::inventory::assets::get(&s.db, id).await?;
    let latest = store::latest(&s.db, id).await?;
    let body = json!({
        "bmc": bmc::for_asset(&s.db, id).await?.map(|b| b.for_viewer(user.can(Permission::ManageUsers))),
        "polled_at": latest.as_ref().map(|(_, at)| at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
        "snapshot": latest.map(|(snap, _)| snap),
        "alerts": alerts::open(&s.db, Some(id)).await?,
        "reconciliation": reconcile::for_asset(&s.db, id).await?,
        "events": store::events(&s.db, id, 50).await?,
    });
    Ok(Shown::to(&user, body))
}

/// Create or change the BMC of an asset. An empty `password` keeps the stored one;
/// a new one needs the server's master key.
#[utoipa::path(put, path = "/assets/{id}/bmc", tag = "health", request_body = BmcInput, params(("id" = i64, Path, description = "Asset id")), responses((status = 200, body = bmc::Bmc), (status = 422)))]
pub(super) async fn put_bmc(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<BmcInput>,
) -> AppResult<Shown<bmc::Bmc>> {
    user.require(Permission::EditHealth)?;
    crate::inventory::assets::get(&s.db, id).await?;
    let key = s.config.health.master_key().map_err(AppError::Internal)?;
    let bmc_id = bmc::save(&s.db, key.as_ref(), &user.actor(), id, &input).await?;
    let admin = user.can(Permission::ManageUsers);
    Ok(Shown::to(
        &user,
        bmc::get(&s.db, bmc_id).await?.for_viewer(admin),
    ))
}

/// Make an asset's BMC due for polling now.
#[utoipa::path(post, path = "/assets/{id}/bmc/poll", tag = "health", params(("id" = i64, Path, description = "Asset id")), responses((status = 202), (status = 404)))]
pub(super) async fn poll(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<axum::http::StatusCode> {
    user.require(Permission::EditHealth)?;
    if bmc::poll_soon(&s.db, id).await? {
        Ok(axum::http::StatusCode::ACCEPTED)
    } else {
        Err(AppError::NotFound)
    }
}

/// Open health alerts, critical first.
#[utoipa::path(get, path = "/health/alerts", tag = "health", responses((status = 200, body = Vec<Alert>)))]
pub(super) async fn open_alerts(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<Alert>>> {
    Ok(Shown::to(&user, alerts::open(&s.db, None).await?))
}

/// How far back readings go.
#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct Since {
    /// Days back (default 1, at most 400).
    days: Option<i64>,
}

/// Readings of an asset (watts, inlet and hottest temperature), oldest first.
#[utoipa::path(get, path = "/assets/{id}/health/readings", tag = "health", params(("id" = i64, Path, description = "Asset id"), Since), responses((status = 200, body = Vec<history::Reading>)))]
pub(super) async fn readings(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<Since>,
) -> AppResult<Shown<Vec<history::Reading>>> {
    let days = q.days.unwrap_or(1).clamp(1, 400);
    let from = crate::clock::now() - time::Duration::days(days);
    Ok(Shown::to(&user, history::readings(&s.db, id, from).await?))
}
