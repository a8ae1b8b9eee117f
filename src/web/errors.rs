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
    let ctx = Ctx::from_parts(&parts);
    let is_api = parts.uri.path().starts_with("/api/") || parts.uri.path() == "/metrics";
    let back_to = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let resp = next.run(Request::from_parts(parts, body)).await;
    let Some(report) = resp.extensions().get::<ErrorReport>().cloned() else {
        return resp;
    };
    let mut out = answer(&report, ctx, is_api, back_to);
    if let Some(seconds) = report.retry_after() {
        out.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
    out
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
