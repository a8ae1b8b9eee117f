//! Page forms. `web::input` checks every page form before any handler runs;
//! instead of refusing a page form with an error page (which loses what the
//! user typed), it hands the refusal on as an [`EdgeRefusal`]. The two
//! extractors here are the only way page handlers read a form:
//! - [`Form`] refuses the request when the edge refused a field (as before);
//!   a handler that cannot show its form again uses it.
//! - [`Checked`] gives the handler the input as typed (each refused
//!   character shown as U+FFFD) and the refused fields, so it can show its
//!   form again with the messages at their fields. [`unless_refused`] runs
//!   the handler's work only when nothing was refused.

use std::future::Future;

use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::AppState;

/// `routes` with every state-changing request (not GET or HEAD) refused with
/// a 403 unless the user holds one of `any_of`, before the handler's
/// extractors read the body. Handlers still check for themselves.
pub fn needs(any_of: &'static [Permission], routes: Router<AppState>) -> Router<AppState> {
    routes.route_layer(middleware::from_fn_with_state(any_of, refuse_without))
}

async fn refuse_without(
    State(any_of): State<&'static [Permission]>,
    user: CurrentUser,
    req: Request,
    next: Next,
) -> Response {
    if req.method().is_safe() || any_of.iter().any(|p| user.can(*p)) {
        next.run(req).await
    } else {
        AppError::Forbidden.into_response()
    }
}

/// The fields of a page form refused at the edge (a hidden character, an
/// over-long free text), set by `web::input` as a request extension.
#[derive(Clone, Debug)]
pub struct EdgeRefusal(pub FieldErrors);

/// A URL-encoded page form; refused with a 422 when the edge refused a field.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(EdgeRefusal(fields)) = req.extensions().get::<EdgeRefusal>() {
            return Err(AppError::Validation(fields.clone()).into_response());
        }
        let axum::Form(v) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Form(v))
    }
}

/// A URL-encoded page form with what the edge refused in it, for a handler
/// that shows its form again.
#[derive(Debug)]
pub struct Checked<T> {
    /// The form as typed, refused characters replaced by U+FFFD.
    pub input: T,
    /// The fields refused at the edge, empty when none was.
    pub refused: FieldErrors,
}

impl<T, S> FromRequest<S> for Checked<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let refused = req
            .extensions()
            .get::<EdgeRefusal>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let axum::Form(input) = axum::Form::<T>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Checked { input, refused })
    }
}

/// A form's fields by name, as typed, for a page that shows one of several
/// forms again (numbers as digits, an absent field as "").
pub fn as_typed(input: &impl serde::Serialize) -> std::collections::HashMap<String, String> {
    let serde_json::Value::Object(fields) = serde_json::to_value(input).unwrap_or_default() else {
        return Default::default();
    };
    fields
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, v)
        })
        .collect()
}

/// `work`'s result, or the edge's refusal together with every other field
/// message `work` gives: then `work` runs for its validation only
/// ([`crate::db::checking_only`]: it may begin no transaction, so nothing is
/// written), and its field errors for fields the edge did not refuse are
/// added after the edge's, so the form shows all its messages at once.
pub async fn unless_refused<R>(
    refused: &FieldErrors,
    work: impl Future<Output = AppResult<R>>,
) -> AppResult<R> {
    if refused.is_empty() {
        return work.await;
    }
    let mut all = refused.clone();
    if let Err(AppError::Validation(found)) = crate::db::checking_only(work).await {
        for e in found.0 {
            if all.get(&e.field).is_none() {
                all.0.push(e);
            }
        }
    }
    Err(AppError::Validation(all))
}
