//! Shared web pieces: page context, layout, static assets, error pages, home.

pub mod assets;
mod ctx;
pub mod errors;
mod home;
pub mod pager;

pub use ctx::{Ctx, LANG_COOKIE};
pub use home::routes;
pub use pager::Pager;

use axum::response::Response;

use crate::error::AppError;

/// Fallback for unknown paths: a 404 page (or JSON under `/api`).
pub async fn not_found() -> Response {
    axum::response::IntoResponse::into_response(AppError::NotFound)
}

/// Redirect after a successful form post, with a flash message key.
pub fn see_other(to: &str, flash: Option<&str>) -> Response {
    let target = match flash {
        Some(f) => {
            let sep = if to.contains('?') { '&' } else { '?' };
            format!("{to}{sep}flash={f}")
        }
        None => to.to_owned(),
    };
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(&target))
}
