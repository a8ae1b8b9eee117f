//! Cost pages: the overview, per-asset costs and reports (`overview`), the
//! parameter and catalogue forms (`forms`), saved scenarios (`scenarios`).

mod forms;
mod overview;
mod scenarios;

use axum::Router;

use super::AppState;

/// Every /cost page route.
pub fn routes() -> Router<AppState> {
    overview::routes()
        .merge(forms::routes())
        .merge(scenarios::routes())
}
