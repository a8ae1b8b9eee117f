//! The HTML side of the web layer: shared state, page context, layout, static
//! assets, error pages, and the pages of each area (`src/web/<area>/`, mirroring
//! `templates/<area>/`). JSON handlers are in `crate::api`. Domains never import
//! from here; pages call the domains' public functions.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod cost;
mod ctx;
pub mod datacenter;
pub mod errors;
pub mod form;
pub mod health;
pub mod history;
mod home;
pub mod imports;
pub mod input;
pub mod inventory;
pub mod labels;
pub mod list;
pub mod once;
pub mod pager;
pub mod procurement;
mod state;
pub mod stocktake;
pub mod workorders;

pub use ctx::{Ctx, LANG_COOKIE, local_time};
pub use form::{Checked, Form, as_typed, needs, unless_refused};
pub use pager::Pager;
pub use state::AppState;

use axum::Router;
use axum::response::Response;

use crate::error::AppError;

/// Every page route behind the login (the API and public routes are added in `crate::app`).
pub fn routes() -> Router<AppState> {
    home::routes()
        .merge(admin::routes())
        .merge(auth::protected_routes())
        .merge(procurement::routes())
        .merge(imports::routes())
        .merge(inventory::routes())
        .merge(datacenter::routes())
        .merge(workorders::routes())
        .merge(stocktake::routes())
        .merge(labels::routes())
        .merge(health::routes())
        .merge(history::routes())
        .merge(cost::routes())
}

/// Fallback for unknown paths: a 404 page (or JSON under `/api`).
pub async fn not_found() -> Response {
    axum::response::IntoResponse::into_response(AppError::NotFound)
}

/// Redirect after a successful form post, with a flash message key.
pub fn see_other(to: &str, flash: Option<&str>) -> Response {
    let target = match flash {
        Some(f) => {
            // The query goes before any `#fragment`, or the browser never sends it.
            let (path, fragment) = to.split_at(to.find('#').unwrap_or(to.len()));
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}flash={f}{fragment}")
        }
        None => to.to_owned(),
    };
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(&target))
}
