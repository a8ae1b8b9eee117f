//! `serve --demo` only: an admin makes a demo server's DIMM fail (or
//! recover) in its simulated BMC, to watch the alert, the work order, the
//! swap and the RMA follow. Outside the demo these routes answer 404.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult};
use crate::web::{AppState, see_other};

/// The demo's routes (404 outside the demo).
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::ManageUsers],
        Router::new()
            .route("/health/demo/dimm-failure", post(fail_dimm))
            .route("/health/demo/dimm-restore", post(restore_dimm)),
    )
}

/// What the fleet page shows an admin in the demo: the server, the slot,
/// and whether that DIMM fails now.
pub struct DemoPanel {
    /// Asset tag of the server whose DIMM fails.
    pub asset_tag: String,
    /// The DIMM's slot.
    pub slot: String,
    /// The simulated DIMM reports Critical now.
    pub failing: bool,
}

/// The demo panel, for admins in the demo only.
pub fn panel(state: &AppState, user_is_admin: bool) -> Option<DemoPanel> {
    let (asset_tag, slot, failing) = state.demo.as_ref()?.describe()?;
    user_is_admin.then_some(DemoPanel {
        asset_tag,
        slot,
        failing,
    })
}

async fn fail_dimm(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let demo = state.demo.as_ref().ok_or(AppError::NotFound)?;
    user.require(Permission::ManageUsers)?;
    demo.fail_dimm(&state.db, &user.actor()).await?;
    Ok(see_other("/health", None))
}

async fn restore_dimm(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    let demo = state.demo.as_ref().ok_or(AppError::NotFound)?;
    user.require(Permission::ManageUsers)?;
    demo.restore_dimm(&state.db, &user.actor()).await?;
    Ok(see_other("/health", None))
}
