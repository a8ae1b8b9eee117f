//! Who is calling (session cookie or bearer token), whether they must log in,
//! and the CSRF check on state-changing requests.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::headers::HeaderMapExt;
use axum_extra::headers::authorization::{Authorization, Bearer};

use crate::auth::model::{AuthVia, CurrentUser};
use crate::auth::secret::constant_time_eq;
use crate::auth::service;
use crate::error::AppError;
use crate::web::AppState;

/// Cookie holding the session token.
pub const SESSION_COOKIE: &str = "rl_session";
/// Cookie holding the pre-login CSRF token (double-submit, for the login form).
pub const PRELOGIN_COOKIE: &str = "rl_csrf";
/// Form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// Header carrying the CSRF token (for scripts).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Biggest form (or JSON) body a middleware reads whole: the CSRF check,
/// the hidden-character check and the sent-once check.
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;
/// Biggest form body read from a caller without a session (the login and
/// language forms are a few hundred bytes).
const MAX_ANONYMOUS_FORM_BYTES: usize = 16 * 1024;

/// Resolves the caller from `Authorization: Bearer` or the session cookie and
/// stores `CurrentUser` in the request extensions.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // The scheme is matched without regard to case (`bearer xyz` too, as RFC
    // 9110 says). Another scheme, or `Bearer` without a token, is no bearer
    // token: the caller is then whoever the session cookie says, or anonymous
    // (which `require_login` refuses), so a proxy's own `Basic` header does
    // not lock out the pages behind it.
    let bearer = req
        .headers()
        .typed_get::<Authorization<Bearer>>()
        .map(|a| a.token().trim().to_owned());
    let jar = CookieJar::from_headers(req.headers());
    let result = match (bearer, jar.get(SESSION_COOKIE)) {
        (Some(token), _) => match service::authenticate_token(&state.db, &token).await {
            Ok(None) => Err(AppError::Unauthorized),
            other => other,
        },
        (None, Some(cookie)) => {
            service::authenticate_session(&state.db, &state.config, cookie.value()).await
        }
        (None, None) => Ok(None),
    };
    match result {
        Ok(Some(user)) => {
            tracing::Span::current().record("user", user.username.as_str());
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        Ok(None) => next.run(req).await,
        Err(e) => {
            // Answered here, before `render_errors`: rendered the same way
            // (the caller's language, the request id, `WWW-Authenticate`).
            let (parts, _) = req.into_parts();
            crate::web::errors::render_for(&parts, &e)
        }
    }
}

/// Refuses requests without a logged-in user (pages redirect to the login
/// form), and any write by a role that may change nothing but its own account
/// before its body is read, so a viewer gets 403 whatever it sends. Each
/// handler still checks its own permission.
pub async fn require_login(req: Request, next: Next) -> Response {
    let Some(user) = req.extensions().get::<CurrentUser>() else {
        return AppError::Unauthorized.into_response();
    };
    let read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let own = req.uri().path() == "/logout" || req.uri().path().starts_with("/account/");
    if !read && !own && !user.role.writes_anything() {
        return AppError::Forbidden.into_response();
    }
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthorized)
    }
}

/// Every POST/PUT/PATCH/DELETE made with a session cookie must echo the
/// session's CSRF token (form field `_csrf`, header `x-csrf-token`; for
/// multipart uploads the first field `_csrf`, or the query `_csrf` of older
/// forms). Anonymous form posts (the login form) use a
/// double-submit cookie. Bearer-token calls carry no cookies, so need neither.
/// Before the token, a post whose `Origin` is another site is refused (403).
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let bearer = matches!(
        req.extensions().get::<CurrentUser>().map(|u| &u.via),
        Some(AuthVia::Token { .. })
    );
    if !bearer && !same_origin(&req, &state.config.public_base()) {
        tracing::warn!("cross-origin post refused");
        return AppError::Csrf.into_response();
    }
    let expected = match req.extensions().get::<CurrentUser>().map(|u| &u.via) {
        Some(AuthVia::Token { .. }) => return next.run(req).await,
        Some(AuthVia::Session { csrf_token, .. }) => Some(csrf_token.clone()),
        // The API has no anonymous writes: tell the client to authenticate
        // (401 with `WWW-Authenticate: Bearer`) rather than blame a CSRF token.
        None if req.uri().path().starts_with("/api/") => {
            return AppError::Unauthorized.into_response();
        }
        None => CookieJar::from_headers(req.headers())
            .get(PRELOGIN_COOKIE)
            .map(|c| c.value().to_owned()),
    };
    let limit = if expected.is_some() && req.extensions().get::<CurrentUser>().is_some() {
        MAX_FORM_BYTES
    } else {
        // Refused before reading when the caller says it is sending more.
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_ANONYMOUS_FORM_BYTES as u64) {
            return axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        MAX_ANONYMOUS_FORM_BYTES
    };
    let (presented, req) = match presented_token(req, limit).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match (expected, presented) {
        (Some(e), Some(p)) if constant_time_eq(&e, &p) => next.run(req).await,
        _ => {
            tracing::warn!("CSRF check failed");
            AppError::Csrf.into_response()
        }
    }
}

/// Whether a browser post comes from the server's own pages: no `Origin`
/// (older clients), or one whose host and port are the request's `Host` or
/// those of the public URL (behind a proxy that rewrites `Host`).
fn same_origin(req: &Request, public_base: &str) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let authority = |url: &str| {
        url.split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or("").to_ascii_lowercase())
    };
    let Some(from) = origin.to_str().ok().and_then(authority) else {
        return false;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase)
        .or_else(|| {
            req.uri()
                .authority()
                .map(|a| a.as_str().to_ascii_lowercase())
        });
    !from.is_empty()
        && (host.as_deref() == Some(from.as_str()) || authority(public_base) == Some(from))
}

async fn presented_token(
    req: Request,
    limit: usize,
) -> Result<(Option<String>, Request), Response> {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Ok((Some(v.to_owned()), req));
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let content_type = |prefix: &str| kind.starts_with(prefix);
    // Only a file upload may carry the token in its URL (its body is read
    // by the handler, as it streams); a token in any other URL ends up in
    // logs and history, so it is not looked at.
    if content_type("multipart/form-data")
        && let Some(q) = req.uri().query()
    {
        let from_query = serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v)
            });
        if from_query.is_some() {
            return Ok((from_query, req));
        }
    }
    if content_type("multipart/form-data") {
        return Ok(super::multipart_csrf::token(req).await);
    }
    if !content_type("application/x-www-form-urlencoded") {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v)
        });
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}
