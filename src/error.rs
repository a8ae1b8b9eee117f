//! The one application error, and how it turns into a response.
//!
//! `IntoResponse` writes a JSON body and attaches an [`ErrorReport`] extension;
//! the `web::errors` middleware, which knows the request path and the user's
//! language, swaps the body for an HTML page outside `/api`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::DbError;
use crate::i18n::{Lang, Msg};

/// One field's validation failure.
#[derive(Clone, Debug, Serialize)]
pub struct FieldError {
    /// Form field or JSON property name.
    pub field: String,
    /// What is wrong, as a catalogue message.
    pub message: Msg,
}

/// Every validation failure of one submission.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records that `field` is wrong for the reason `key` (a catalogue key).
    pub fn add(&mut self, field: &str, message: Msg) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message,
        });
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&Msg> {
        self.0.iter().find(|e| e.field == field).map(|e| &e.message)
    }

    /// `Ok(())` when empty, otherwise a validation error carrying these.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self))
        }
    }
}

/// The application's error type; handlers return `Result<_, AppError>`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (or is not visible to this user).
    #[error("not found")]
    NotFound,
    /// The input is wrong; each field says why.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// The request clashes with the current state (duplicate, illegal transition).
    #[error("conflict")]
    Conflict(Msg),
    /// Logged in, but the role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The submission sets money (these fields) and the role may not see money.
    #[error("forbidden: money fields {0:?}")]
    ForbiddenMoney(Vec<&'static str>),
    /// A state-changing request without the right CSRF token.
    #[error("csrf check failed")]
    Csrf,
    /// Not logged in, or the credentials are no good.
    #[error("unauthorized")]
    Unauthorized,
    /// Too many attempts; try again later.
    #[error("too many requests")]
    TooManyRequests(Msg),
    /// A peer (BMC, FX source) failed.
    #[error("upstream: {0}")]
    Upstream(String),
    /// A bug or an outage; logged in full, shown as a generic message.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::NotFound,
            DbError::Unique(what) => {
                AppError::Conflict(Msg::new("error.duplicate").arg("what", what))
            }
            DbError::Other(e) => AppError::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<sqlx::Error> for AppError {
    /// As the [`DbError`] it maps to, so a service can `?` a query directly.
    fn from(e: sqlx::Error) -> Self {
        DbError::from(e).into()
    }
}

/// What the error middleware needs to render an error in the user's language.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    /// HTTP status sent.
    pub status: StatusCode,
    /// Short machine code (`not_found`, `validation`...).
    pub code: &'static str,
    /// The headline message.
    pub message: Msg,
    /// Per-field messages for validation errors.
    pub fields: FieldErrors,
}

impl ErrorReport {
    /// Seconds to wait before trying again (`Retry-After`), for a 429 whose
    /// message says how long.
    pub fn retry_after(&self) -> Option<u64> {
        (self.status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| self.message.args.iter().find(|(k, _)| k == "seconds"))
            .flatten()
            .and_then(|(_, v)| v.parse().ok())
    }

    /// The JSON body sent to API clients, rendered in `lang`.
    pub fn to_json(&self, lang: Lang, request_id: &str) -> serde_json::Value {
        let fields: Vec<_> = self
            .fields
            .0
            .iter()
            .map(|f| serde_json::json!({"field": f.field, "message": f.message.render(lang)}))
            .collect();
        serde_json::json!({
            "error": self.code,
            "message": self.message.render(lang),
            "fields": fields,
            "request_id": request_id,
        })
    }
}

impl AppError {
    /// The error as one line in `lang`, with the cause of internal errors
    /// (for the command line; pages show only a generic message).
    pub fn message(&self, lang: Lang) -> String {
        match self {
            AppError::Validation(f) => {
                f.0.iter()
                    .map(|e| format!("{}: {}", e.field, e.message.render(lang)))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            AppError::Internal(e) => format!("{e:#}"),
            AppError::Upstream(e) => e.clone(),
            other => other.report().message.render(lang),
        }
    }

    /// What the caller is told: status, code, message and field messages.
    pub fn report(&self) -> ErrorReport {
        let (status, code, message, fields) = match self {
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                Msg::new("error.not_found"),
                None,
            ),
            AppError::Validation(f) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Msg::new("error.validation"),
                Some(f.clone()),
            ),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone(), None),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                Msg::new("error.forbidden"),
                None,
            ),
            AppError::ForbiddenMoney(names) => {
                let mut fields = FieldErrors::default();
                for name in names {
                    fields.add(name, Msg::new("error.money_field"));
                }
                (
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    Msg::new("error.forbidden_money").arg("fields", names.join(", ")),
                    Some(fields),
                )
            }
            AppError::Csrf => (StatusCode::FORBIDDEN, "csrf", Msg::new("error.csrf"), None),
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                Msg::new("error.unauthorized"),
                None,
            ),
            AppError::TooManyRequests(m) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                m.clone(),
                None,
            ),
            AppError::Upstream(_) => (
                StatusCode::BAD_GATEWAY,
                "upstream",
                Msg::new("error.upstream"),
                None,
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                Msg::new("error.internal"),
                None,
            ),
        };
        ErrorReport {
            status,
            code,
            message,
            fields: fields.unwrap_or_default(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Upstream(e) => tracing::warn!(error = %e, "upstream error"),
            _ => {}
        }
        let report = self.report();
        let body = report.to_json(Lang::En, "");
        let mut resp = (report.status, Json(body)).into_response();
        resp.extensions_mut().insert(report);
        resp
    }
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;
