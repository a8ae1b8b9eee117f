//! A form sent twice is run once (`auth::submissions`): a double click, or a
//! retry after an answer that never arrived, gets the first answer's
//! redirect instead of recording the same delivery, order or move again.
//! Every form rendered with `m::csrf` carries a fresh `_once` token.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::model::{AuthVia, CurrentUser};
use crate::auth::submissions::{self, Claim};
use crate::error::AppError;
use crate::i18n::Msg;
use crate::web::AppState;

/// Form field carrying the token.
pub const ONCE_FIELD: &str = "_once";

/// Biggest form body read to find the token (the CSRF check read it already).
const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// How long a second sending waits for the first to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(15);

/// Middleware: claims a form's `_once` token before its handler runs.
pub async fn once_per_form(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let user_id = match req.extensions().get::<CurrentUser>() {
        Some(u) if matches!(u.via, AuthVia::Session { .. }) => u.id,
        _ => return next.run(req).await,
    };
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if req.method() != Method::POST || !is_form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == ONCE_FIELD))
        .map(|(_, v)| v)
        .filter(|v| (16..=128).contains(&v.len()));
    let req = Request::from_parts(parts, Body::from(bytes));
    let Some(token) = token else {
        return next.run(req).await;
    };
    let db = &state.db;
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    loop {
        match submissions::claim(db, &token, user_id).await {
            Ok(Claim::Mine) => break,
            Ok(Claim::Done(Some(location))) => return Redirect::to(&location).into_response(),
            Ok(Claim::Done(None)) => return already_sent(),
            Ok(Claim::Running) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(Claim::Running) => return already_sent(),
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let resp = next.run(req).await;
    let status = resp.status();
    let recorded = if status.is_client_error() {
        // Refused (a validation error, a conflict): nothing was written, so
        // the corrected form may be sent with the same token.
        submissions::release(db, &token).await
    } else {
        let location = status
            .is_redirection()
            .then(|| resp.headers().get(header::LOCATION))
            .flatten()
            .and_then(|v| v.to_str().ok());
        submissions::finish(db, &token, location).await
    };
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "recording a form's answer failed");
    }
    resp
}

fn already_sent() -> Response {
    AppError::Conflict(Msg::new("form.already_sent")).into_response()
}
