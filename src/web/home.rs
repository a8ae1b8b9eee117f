//! The home page: where to start, by role.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::Ctx;
use crate::error::AppResult;
use crate::web::AppState;

/// Routes of the shared pages.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    counts: crate::procurement::Counts,
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> AppResult<HomePage> {
    let counts = crate::procurement::counts(&state.db).await?;
    Ok(HomePage {
        ctx: ctx.section("home"),
        counts,
    })
}
