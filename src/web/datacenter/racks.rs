//! Pages of `/datacenter`: racks, elevations, placing assets.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;

use serde::Deserialize;

use crate::auth::{CurrentUser, Permission};
use crate::datacenter::placement::{self, PlaceInput, Placement};
use crate::datacenter::racks::{self, Rack, RackInput};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::AppState;
use crate::web::{Checked, Ctx, see_other, unless_refused};

/// Datacenter routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditDatacenter],
        Router::new()
            .route("/datacenter", get(list_racks).post(create_rack))
            .route("/datacenter/racks/{id}", get(show_rack))
            .route("/datacenter/racks/{id}/usable-u", post(set_usable_u))
            .route("/datacenter/place/{asset_id}", get(place_page).post(place))
            .route("/datacenter/cables", post(connect))
            .route("/datacenter/cables/{id}/disconnect", post(disconnect))
            .route("/datacenter/cables/{id}/move", post(move_end)),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "datacenter/racks.html")]
struct RacksPage {
    ctx: Ctx,
    rows: Vec<Rack>,
    form: RackInput,
    /// Usable U as typed.
    usable_u: String,
    errors: FieldErrors,
}

/// The new-rack form: the rack and the U of it that can hold equipment.
#[derive(Deserialize)]
struct NewRack {
    #[serde(flatten)]
    rack: RackInput,
    #[serde(default)]
    usable_u: String,
}

async fn racks_page(state: &AppState, ctx: Ctx) -> AppResult<RacksPage> {
    Ok(RacksPage {
        rows: racks::list(&state.db).await?,
        form: RackInput {
            height_u: Some("42".into()),
            numbering: Some("bottom_up".into()),
            ..RackInput::default()
        },
        usable_u: String::new(),
        errors: FieldErrors::default(),
        ctx: ctx.section("datacenter"),
    })
}

async fn list_racks(State(state): State<AppState>, ctx: Ctx) -> AppResult<RacksPage> {
    racks_page(&state, ctx).await
}

async fn create_rack(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<NewRack>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let usable = Some(input.usable_u.as_str());
    match unless_refused(
        &refused,
        racks::create_with_usable_u(&state.db, &user.actor(), &input.rack, usable),
    )
    .await
    {
        Ok(id) => Ok(see_other(&format!("/datacenter/racks/{id}"), Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = racks_page(&state, ctx).await?;
            page.form = input.rack;
            page.usable_u = input.usable_u;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

/// One device drawn on one face of an elevation.
pub struct DeviceBox {
    /// Top edge, pixels.
    pub y: i64,
    /// Height, pixels.
    pub h: i64,
    /// Asset id (link target).
    pub asset_id: i64,
    /// Label.
    pub tag: String,
    /// U range label (`U7-8`).
    pub units: String,
    /// Fill colour by kind.
    pub fill: &'static str,
    /// Drawn with a heavy outline.
    pub highlight: bool,
    /// Health from its BMC: ok, warning, critical or unreachable; None
    /// without a BMC.
    pub health: Option<&'static str>,
}

/// A device's health word from its latest BMC state.
pub fn health_word(h: &crate::health::store::HealthSummary) -> &'static str {
    if h.failing_since.is_some() {
        return "unreachable";
    }
    match h.worst.as_str() {
        "critical" => "critical",
        "warning" => "warning",
        _ => "ok",
    }
}

/// Stripe colour of a health word on the elevation.
pub fn health_fill(word: &str) -> &'static str {
    match word {
        "critical" => "#c62828",
        "warning" => "#f9a825",
        "unreachable" => "#6c757d",
        _ => "#2e7d32",
    }
}

/// Pixels per U in the elevation drawing.
pub const U_PX: i64 = 18;

fn fill(kind: &str) -> &'static str {
    match kind {
        "server" => "#9ec5fe",
        "storage" => "#a3cfbb",
        "switch" => "#fecba1",
        "pdu" => "#f1aeb5",
        _ => "#dee2e6",
    }
}

/// The boxes of one face: devices on that face, and full-depth devices.
pub fn face_boxes(
    rack: &Rack,
    placements: &[Placement],
    face: &str,
    highlight: Option<i64>,
    health: &HashMap<i64, crate::health::store::HealthSummary>,
) -> Vec<DeviceBox> {
    placements
        .iter()
        .filter(|p| p.face == face || p.depth == "full")
        .map(|p| {
            let y = if rack.numbering == "top_down" {
                (p.u_position - 1) * U_PX
            } else {
                (rack.height_u - p.top_u()) * U_PX
            };
            let units = if p.height_u == 1 {
                format!("U{}", p.u_position)
            } else {
                format!("U{}-{}", p.u_position, p.top_u())
            };
            DeviceBox {
                y,
                h: p.height_u * U_PX,
                asset_id: p.asset_id,
                tag: p.hostname.clone().unwrap_or_else(|| p.asset_tag.clone()),
                units,
                fill: fill(&p.kind),
                highlight: highlight == Some(p.asset_id),
                health: health.get(&p.asset_id).map(health_word),
            }
        })
        .collect()
}

#[derive(Deserialize, Default)]
struct RackQuery {
    highlight: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "datacenter/rack.html")]
struct RackPage {
    ctx: Ctx,
    rack: Rack,
    placements: Vec<Placement>,
    faces: Vec<(&'static str, Vec<DeviceBox>)>,
    u_labels: Vec<(i64, i64)>,
    svg_height: i64,
    nameplate_watts: i64,
    budget_percent: i64,
    /// Sum of the latest measured watts, and how many devices report one.
    measured_watts: i64,
    measured_devices: usize,
    /// Health word and latest watts per asset, for the table.
    health: HashMap<i64, (&'static str, Option<i64>)>,
    /// The usable U field as typed (kept on refusal).
    usable_u: String,
    errors: FieldErrors,
}

async fn show_rack(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<RackQuery>,
) -> AppResult<RackPage> {
    rack_page(&state, ctx, id, q.highlight).await
}

#[derive(Deserialize)]
struct UsableForm {
    #[serde(default)]
    usable_u: String,
}

/// Sets the rack's usable U; a value outside 1..=height re-renders the page
/// with the message at the field and the value kept.
async fn set_usable_u(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked {
        input: form,
        refused,
    }: Checked<UsableForm>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let actor = user.actor();
    let set = racks::set_usable_u(&state.db, &actor, id, Some(&form.usable_u));
    match unless_refused(&refused, set).await {
        Ok(_) => Ok(see_other(&format!("/datacenter/racks/{id}"), Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = rack_page(&state, ctx, id, None).await?;
            page.usable_u = form.usable_u;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn rack_page(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    highlight: Option<i64>,
) -> AppResult<RackPage> {
    let (rack, placements, states) = placement::elevation(&state.db, id).await?;
    let nameplate_watts: i64 = placements.iter().map(|p| p.nameplate_watts).sum();
    let measured: Vec<i64> = states.values().filter_map(|h| h.power_watts).collect();
    let budget_percent = if rack.power_budget_watts > 0 {
        nameplate_watts * 100 / rack.power_budget_watts
    } else {
        0
    };
    let u_labels = (1..=rack.height_u)
        .map(|u| {
            let y = if rack.numbering == "top_down" {
                (u - 1) * U_PX
            } else {
                (rack.height_u - u) * U_PX
            };
            (u, y + U_PX - 5)
        })
        .collect();
    Ok(RackPage {
        faces: vec![
            (
                "front",
                face_boxes(&rack, &placements, "front", highlight, &states),
            ),
            (
                "rear",
                face_boxes(&rack, &placements, "rear", highlight, &states),
            ),
        ],
        measured_watts: measured.iter().sum(),
        measured_devices: measured.len(),
        health: states
            .iter()
            .map(|(id, h)| (*id, (health_word(h), h.power_watts)))
            .collect(),
        svg_height: rack.height_u * U_PX,
        u_labels,
        nameplate_watts,
        budget_percent,
        placements,
        usable_u: rack.usable_u.to_string(),
        errors: FieldErrors::default(),
        rack,
        ctx: ctx.section("datacenter"),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "datacenter/place.html")]
struct PlacePage {
    ctx: Ctx,
    asset: crate::inventory::assets::Asset,
    place: Option<(Rack, Placement)>,
    /// Racks by site, in the order of [`racks::list`].
    racks: Vec<(String, Vec<Rack>)>,
    /// The form: empty, or as sent when it was refused.
    form: PlaceInput,
    errors: FieldErrors,
}

/// The place page of `asset_id`, its form holding `form`.
async fn place_view(
    state: &AppState,
    ctx: Ctx,
    asset_id: i64,
    form: Option<PlaceInput>,
) -> AppResult<PlacePage> {
    let mut racks: Vec<(String, Vec<Rack>)> = Vec::new();
    for r in racks::list(&state.db).await? {
        match racks.last_mut() {
            Some((site, group)) if *site == r.site_name => group.push(r),
            _ => racks.push((r.site_name.clone(), vec![r])),
        }
    }
    let place = placement::locate_asset(&state.db, asset_id).await?;
    // The rack it is in, or the one it was being placed in.
    let form = form.unwrap_or_else(|| PlaceInput {
        rack_id: place.as_ref().map_or(0, |(r, _)| r.id),
        face: "front".into(),
        depth: "full".into(),
        ..PlaceInput::default()
    });
    Ok(PlacePage {
        asset: crate::inventory::assets::get(&state.db, asset_id).await?,
        place,
        racks,
        form,
        errors: FieldErrors::default(),
        ctx: ctx.section("datacenter"),
    })
}

/// Where to place an asset: every rack, grouped by site. Its own page, so
/// the asset page does not load every rack on every view.
async fn place_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(asset_id): Path<i64>,
) -> AppResult<PlacePage> {
    user.require(Permission::EditDatacenter)?;
    place_view(&state, ctx, asset_id, None).await
}

/// Places the asset; a refusal (a bad U, an occupied or too-high position)
/// shows the form again as sent, with the message at the U field.
async fn place(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(asset_id): Path<i64>,
    Checked { input, refused }: Checked<PlaceInput>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let result = unless_refused(
        &refused,
        placement::place(&state.db, &user.actor(), asset_id, &input),
    )
    .await;
    let (status, errors) = match result {
        Ok(()) => {
            return Ok(see_other(
                &format!("/inventory/assets/{asset_id}"),
                Some("saved"),
            ));
        }
        Err(AppError::Validation(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(AppError::Conflict(m)) => {
            let mut errors = FieldErrors::default();
            errors.add("u_position", m);
            (StatusCode::CONFLICT, errors)
        }
        Err(e) => return Err(e),
    };
    let mut page = place_view(&state, ctx, asset_id, Some(input)).await?;
    page.errors = errors;
    Ok((status, page).into_response())
}

async fn connect(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<crate::datacenter::cabling::CableInput>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let asset = crate::datacenter::cabling::asset_of_port(&state.db, input.port_id).await?;
    let actor = user.actor();
    let connect = crate::datacenter::cabling::connect(&state.db, &actor, &input);
    let form = crate::web::inventory::assembly::CableForm::Connect(input.clone());
    cabled(
        &state,
        ctx,
        asset,
        form,
        unless_refused(&refused, connect).await,
    )
    .await
}

/// Back to the asset page after a cable change, or its form again as sent.
async fn cabled<T>(
    state: &AppState,
    ctx: Ctx,
    asset: i64,
    form: crate::web::inventory::assembly::CableForm,
    result: AppResult<T>,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(see_other(
            &format!("/inventory/assets/{asset}"),
            Some("saved"),
        )),
        Err(e) => {
            crate::web::inventory::assembly::asset_page_with_cable(state, ctx, asset, form, e).await
        }
    }
}

/// The asset whose port holds one end of a cable (where to go back to).
async fn cable_asset(state: &AppState, cable_id: i64) -> AppResult<i64> {
    crate::datacenter::cabling::asset_of_cable(&state.db, cable_id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn disconnect(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let asset = cable_asset(&state, id).await?;
    crate::datacenter::cabling::disconnect(&state.db, &user.actor(), id).await?;
    Ok(see_other(
        &format!("/inventory/assets/{asset}"),
        Some("saved"),
    ))
}

async fn move_end(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked { input, refused }: Checked<crate::datacenter::cabling::MoveEndInput>,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let asset = crate::datacenter::cabling::asset_of_port(&state.db, input.from_port_id).await?;
    let actor = user.actor();
    let moved = crate::datacenter::cabling::move_end(&state.db, &actor, id, &input);
    let form = crate::web::inventory::assembly::CableForm::Move(id, input.clone());
    cabled(
        &state,
        ctx,
        asset,
        form,
        unless_refused(&refused, moved).await,
    )
    .await
}
