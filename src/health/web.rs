//! Health pages: the fleet page, the BMC form and the health section of an asset.

use axum::Router;

use crate::app::AppState;

/// Health routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
