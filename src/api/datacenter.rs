//! `/api/v1` endpoints for racks and placements.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::{CurrentUser, Permission};
use crate::datacenter::placement::{self, PlaceInput};
use crate::datacenter::racks::{self, Rack, RackInput};
use crate::error::AppResult;

/// Every rack with its site, room and row.
#[utoipa::path(get, path = "/racks", tag = "datacenter", responses((status = 200, body = Vec<Rack>)))]
pub(super) async fn list_racks(State(s): State<AppState>) -> AppResult<Json<Vec<Rack>>> {
    Ok(Json(racks::list(&s.db).await?))
}

/// Create a rack (and its site, room and row when new).
#[utoipa::path(post, path = "/racks", tag = "datacenter", request_body = RackInput, responses((status = 201), (status = 422)))]
pub(super) async fn create_rack(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<RackInput>,
) -> AppResult<(StatusCode, Json<Rack>)> {
    user.require(Permission::EditDatacenter)?;
    let id = racks::create(&s.db, &user.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(racks::get(&s.db, id).await?)))
}

/// A rack with what is placed in it.
#[utoipa::path(get, path = "/racks/{id}", tag = "datacenter", params(("id" = i64, Path, description = "Rack id")), responses((status = 200), (status = 404)))]
pub(super) async fn get_rack(
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let rack = racks::get(&s.db, id).await?;
    let placements = placement::in_rack(&s.db, id).await?;
    Ok(Json(
        json!({ "rack": rack, "path": rack.path(), "placements": placements }),
    ))
}

/// Place (or move) an asset in a rack; 409 names the occupant of a taken U.
#[utoipa::path(post, path = "/assets/{id}/placement", tag = "datacenter", request_body = PlaceInput, params(("id" = i64, Path, description = "Asset id")), responses((status = 200), (status = 409), (status = 422)))]
pub(super) async fn place(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<PlaceInput>,
) -> AppResult<Json<Value>> {
    user.require(Permission::EditDatacenter)?;
    placement::place(&s.db, &user.actor(), id, &input).await?;
    let (rack, p) = placement::locate_asset(&s.db, id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    Ok(Json(json!({ "path": rack.path(), "placement": p })))
}
