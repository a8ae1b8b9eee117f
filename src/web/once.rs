//! A form sent twice is run once (`auth::submissions`): a double click, or a
//! retry after an answer that never arrived, gets the first answer's
//! redirect instead of recording the same delivery, order or move again.
//! Every form rendered with `m::csrf` carries a fresh `_once` token. An API
//! call (or any write) sent with an `Idempotency-Key` header is kept the same
//! way with its status and JSON answer, which a retry with the key gets back
//! (with `Idempotent-Replayed: true`) instead of running again.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::model::{AuthVia, CurrentUser};
use crate::auth::submissions::{self, Answer, Claim};
use crate::error::AppError;
use crate::i18n::Msg;
use crate::web::AppState;

/// Form field carrying the token.
pub const ONCE_FIELD: &str = "_once";

use crate::web::auth::MAX_FORM_BYTES;

/// How long a second sending waits for the first to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(15);

/// Header naming an API call's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Longest idempotency key taken.
const MAX_KEY_CHARS: usize = 200;

/// Biggest answer kept for a retry with the same key; a bigger one is
/// answered with 409 on a retry (the call still ran once).
const MAX_KEPT_BODY: u64 = 64 * 1024;

/// Middleware: claims a form's `_once` token, or a call's idempotency key,
/// before its handler runs.
pub async fn once_per_form(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(user) = req.extensions().get::<CurrentUser>() else {
        return next.run(req).await;
    };
    let (user_id, session) = (user.id, matches!(user.via, AuthVia::Session { .. }));
    if let Some(key) = req.headers().get(IDEMPOTENCY_KEY) {
        let key = match key.to_str().map(str::trim) {
            Ok(k)
                if !k.is_empty()
                    && k.len() <= MAX_KEY_CHARS
                    && k.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                k.to_owned()
            }
            _ => {
                let mut f = crate::error::FieldErrors::default();
                f.add(
                    "Idempotency-Key",
                    Msg::new("validation.idempotency_key").arg("max", MAX_KEY_CHARS),
                );
                return AppError::Validation(f).into_response();
            }
        };
        if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
            return next.run(req).await;
        }
        // The key names one request: the same key on another path or with
        // another body is another call, run on its own, never the first
        // call's answer.
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        };
        let mut what = format!("{} {}\n", parts.method, parts.uri).into_bytes();
        what.extend_from_slice(&bytes);
        let token = format!("key:{user_id}:{}:{key}", crate::auth::sha256_b64(&what));
        let req = Request::from_parts(parts, Body::from(bytes));
        return run_once(&state, &token, user_id, req, next).await;
    }
    if !session {
        return next.run(req).await;
    }
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
        .filter(|v| (16..=128).contains(&v.len()) && !v.contains(':'));
    let req = Request::from_parts(parts, Body::from(bytes));
    let Some(token) = token else {
        return next.run(req).await;
    };
    // A token belongs to the form it came with: on another action it is
    // another sending.
    let token = format!("form:{}:{token}", req.uri().path());
    run_once(&state, &token, user_id, req, next).await
}

/// Runs `req` unless `token` was claimed before: then the first answer.
async fn run_once(
    state: &AppState,
    token: &str,
    user_id: i64,
    req: Request,
    next: Next,
) -> Response {
    let db = &state.db;
    let deadline = Instant::now() + WAIT_FOR_FIRST;
    loop {
        match submissions::claim(db, token, user_id).await {
            Ok(Claim::Mine) => break,
            Ok(Claim::Done(answer)) => return replay(answer),
            Ok(Claim::Running) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(Claim::Running) => return already_sent(),
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let resp = next.run(req).await;
    let status = resp.status();
    if status.is_client_error() {
        // Refused (a validation error, a conflict): nothing was written, so
        // the corrected form or call may be sent with the same token.
        if let Err(e) = submissions::release(db, token).await {
            tracing::warn!(error = %e, "giving a form's token back failed");
        }
        return resp;
    }
    let location = status
        .is_redirection()
        .then(|| resp.headers().get(header::LOCATION))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let (parts, body) = resp.into_parts();
    let small = axum::body::HttpBody::size_hint(&body)
        .exact()
        .is_some_and(|n| n <= MAX_KEPT_BODY);
    let (kept, body) = if is_json && small {
        match axum::body::to_bytes(body, MAX_KEPT_BODY as usize).await {
            Ok(bytes) => (
                Some(String::from_utf8_lossy(&bytes).into_owned()),
                Body::from(bytes),
            ),
            Err(_) => (None, Body::empty()),
        }
    } else {
        (None, body)
    };
    let answer = Answer {
        location,
        status: Some(i64::from(status.as_u16())),
        body: kept,
    };
    if let Err(e) = submissions::finish(db, token, &answer).await {
        tracing::warn!(error = %e, "recording a form's answer failed");
    }
    Response::from_parts(parts, body)
}

/// The first sending's answer, again.
fn replay(answer: Answer) -> Response {
    if let Some(location) = answer.location {
        return Redirect::to(&location).into_response();
    }
    let status = answer
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok());
    match (status, answer.body) {
        (Some(status), Some(body)) => (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::HeaderName::from_static("idempotent-replayed"),
                    "true",
                ),
            ],
            body,
        )
            .into_response(),
        _ => already_sent(),
    }
}

fn already_sent() -> Response {
    AppError::Conflict(Msg::new("form.already_sent")).into_response()
}
