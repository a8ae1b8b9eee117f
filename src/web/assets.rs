//! Stylesheets and scripts compiled into the binary (no CDN, works offline).

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

use crate::web::AppState;

#[derive(Embed)]
#[folder = "src/web/assets/"]
#[exclude = "*.md"]
struct Assets;

/// `/static/{file}`: embedded assets, cached for a day.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/{*file}", get(asset))
        // Browsers ask for /favicon.ico on pages without a <link rel="icon">
        // (error pages of other origins, files opened directly).
        .route(
            "/favicon.ico",
            get(|| async { asset(Path("favicon.svg".to_owned())).await }),
        )
}

async fn asset(Path(file): Path<String>) -> Response {
    match Assets::get(&file) {
        Some(f) => (
            [
                (header::CONTENT_TYPE, f.metadata.mimetype().to_owned()),
                (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
            ],
            f.data,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
