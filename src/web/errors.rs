//! Turns `ErrorReport`s into HTML pages (or localized JSON under `/api`),
//! and unauthenticated page requests into a redirect to the login form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::Ctx;
use crate::error::ErrorReport;

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    status: u16,
    message: String,
    fields: Vec<(String, String)>,
}

/// Middleware: renders errors for the audience of the request.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let (ctx, is_api, back_to) = audience(&parts);
    let resp = next.run(Request::from_parts(parts, body)).await;
    let report = match resp.extensions().get::<ErrorReport>().cloned() {
        Some(r) => r,
        None if is_framework_rejection(&resp) => rejection_report(resp).await,
        None => return resp,
    };
    render(&report, ctx, is_api, back_to)
}

/// Who a request's error is for: its context, whether it is an API call, and
/// the page to come back to after logging in.
fn audience(parts: &axum::http::request::Parts) -> (Ctx, bool, String) {
    let ctx = Ctx::from_parts(parts);
    let is_api = parts.uri.path().starts_with("/api/") || parts.uri.path() == "/metrics";
    let back_to = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    (ctx, is_api, back_to)
}

/// `error` rendered for the request `parts`, as `render_errors` renders
/// errors: for middleware that answers before it (an unknown API token).
pub fn render_for(parts: &axum::http::request::Parts, error: &crate::error::AppError) -> Response {
    if let crate::error::AppError::Internal(e) = error {
        tracing::error!(error = ?e, "internal error");
    }
    let (ctx, is_api, back_to) = audience(parts);
    render(&error.report(), ctx, is_api, back_to)
}

fn render(report: &ErrorReport, ctx: Ctx, is_api: bool, back_to: String) -> Response {
    let mut out = answer(report, ctx, is_api, back_to);
    if let Some(seconds) = report.retry_after() {
        out.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
    out
}

/// A 400 or 422 in plain text: axum refusing a path, query or form it could
/// not parse (`/orders/abc`, `?page=abc`), before any handler ran.
fn is_framework_rejection(resp: &Response) -> bool {
    matches!(
        resp.status(),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
    ) && resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"))
}

/// The same refusal as the rest of the application gives it: a path that
/// does not parse names nothing that exists (404); a query or form that does
/// not parse is a validation error saying so in words (the parser's own
/// text, in English and naming Rust types, is not shown).
async fn rejection_report(resp: Response) -> ErrorReport {
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let said = String::from_utf8_lossy(&body);
    let error = if said.starts_with("Invalid URL") {
        crate::error::AppError::NotFound
    } else {
        let key = if said.starts_with("Failed to deserialize query string") {
            "forms4.bad_query"
        } else {
            "forms4.bad_form"
        };
        let mut f = crate::error::FieldErrors::default();
        f.add("request", crate::i18n::Msg::new(key));
        crate::error::AppError::Validation(f)
    };
    let mut report = error.report();
    if report.status != StatusCode::NOT_FOUND {
        // 400 for what does not parse at all, 422 for what parses into the
        // wrong shape, as the parser said.
        report.status = status;
    }
    report
}

fn answer(report: &ErrorReport, ctx: Ctx, is_api: bool, back_to: String) -> Response {
    if is_api {
        let mut out = (
            report.status,
            Json(report.to_json(ctx.lang, &ctx.request_id)),
        )
            .into_response();
        if report.status == StatusCode::UNAUTHORIZED {
            out.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"rackledger\""),
            );
        }
        return out;
    }
    if report.status == StatusCode::UNAUTHORIZED
        && ctx.user.is_none()
        && !ctx.path.starts_with("/login")
    {
        let next = serde_urlencoded::to_string([("next", back_to)]).unwrap_or_default();
        return Redirect::to(&format!("/login?{next}")).into_response();
    }
    let page = ErrorPage {
        status: report.status.as_u16(),
        message: ctx.msg(&report.message),
        fields: report
            .fields
            .0
            .iter()
            .map(|f| (f.field.clone(), ctx.msg(&f.message)))
            .collect(),
        ctx,
    };
    (report.status, page).into_response()
}
