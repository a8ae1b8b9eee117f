//! `/api/v1` endpoints for racks and placements.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::money::Shown;
use crate::auth::{CurrentUser, Permission};
use crate::datacenter::placement::{self, PlaceInput};
use crate::datacenter::racks::{self, Rack, RackInput};
use crate::error::AppResult;
use crate::web::AppState;

/// Every rack with its site, room and row; its monthly cost only for roles that see money.
#[utoipa::path(get, path = "/racks", tag = "datacenter", responses((status = 200, body = Vec<Rack>)))]
pub(super) async fn list_racks(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<Rack>>> {
    Ok(Shown::to(&user, racks::list(&s.db).await?))
}

/// A new rack: the page form's fields, with the U that can hold equipment.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(super) struct NewRack {
    /// Site, room, row, name, height, power budget and numbering.
    #[serde(flatten)]
    rack: RackInput,
    /// U that can hold equipment (patch panels, PDUs and cable managers take
    /// the rest), 1..=height; the full height when absent.
    #[serde(default)]
    usable_u: Option<i64>,
}

/// Create a rack (and its site, room and row when new).
#[utoipa::path(post, path = "/racks", tag = "datacenter", request_body = NewRack, responses((status = 201), (status = 422)))]
pub(super) async fn create_rack(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<NewRack>,
) -> AppResult<Shown<Rack>> {
    user.require(Permission::EditDatacenter)?;
    let usable = input.usable_u.map(|u| u.to_string());
    let id =
        racks::create_with_usable_u(&s.db, &user.actor(), &input.rack, usable.as_deref()).await?;
    Ok(Shown::created(&user, racks::get(&s.db, id).await?))
}

/// A rack with what is placed in it.
#[utoipa::path(get, path = "/racks/{id}", tag = "datacenter", params(("id" = i64, Path, description = "Rack id")), responses((status = 200), (status = 404)))]
pub(super) async fn get_rack(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Shown<Value>> {
    let rack = racks::get(&s.db, id).await?;
    let placements = placement::in_rack(&s.db, id).await?;
    let body = json!({ "rack": rack, "path": rack.path(), "placements": placements });
    Ok(Shown::to(&user, body))
}

/// Place (or move) an asset in a rack; 409 names the occupant of a taken U.
#[utoipa::path(post, path = "/assets/{id}/placement", tag = "datacenter", request_body = PlaceInput, params(("id" = i64, Path, description = "Asset id")), responses((status = 200), (status = 409), (status = 422)))]
pub(super) async fn place(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<PlaceInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditDatacenter)?;
    placement::place(&s.db, &user.actor(), id, &input).await?;
    let (rack, p) = placement::locate_asset(&s.db, id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    Ok(Shown::to(
        &user,
        json!({ "path": rack.path(), "placement": p }),
    ))
}

/// NetBox CSV files to import, as text (any of them), and whether to write.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct NetboxImport {
    /// `sites.csv`.
    pub sites: Option<String>,
    /// `locations.csv`.
    pub locations: Option<String>,
    /// `device_types.csv`.
    pub device_types: Option<String>,
    /// `racks.csv`.
    pub racks: Option<String>,
    /// `devices.csv`.
    pub devices: Option<String>,
    /// Write it (all or nothing); false (the default) only checks.
    #[serde(default)]
    pub commit: bool,
}

/// Import NetBox CSV: counts, refused rows (file, row, column, message in the
/// caller's language) and whether it was written; 422 when a row is refused.
#[utoipa::path(post, path = "/netbox/import", tag = "datacenter", request_body = NetboxImport, responses((status = 200), (status = 422)))]
pub(super) async fn netbox_import(
    State(s): State<AppState>,
    user: CurrentUser,
    ctx: crate::web::Ctx,
    Json(input): Json<NetboxImport>,
) -> AppResult<Shown<Value>> {
    use crate::datacenter::netbox;
    user.require(Permission::EditDatacenter)?;
    let mut files = netbox::Files::default();
    for (name, text) in [
        ("sites", input.sites),
        ("locations", input.locations),
        ("device_types", input.device_types),
        ("racks", input.racks),
        ("devices", input.devices),
    ] {
        if let Some(t) = text {
            files.0.insert(name.to_owned(), t.into_bytes());
        }
    }
    let out = netbox::run(&s.db, &user.actor(), &files, input.commit).await?;
    let errors: Vec<Value> = out
        .errors
        .iter()
        .map(|e| json!({"file": e.file, "row": e.row, "column": e.column, "message": e.message.render(ctx.lang)}))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = json!({"committed": out.committed, "counts": out.counts, "errors": errors});
    Ok(Shown::with_status(&user, status, body))
}
