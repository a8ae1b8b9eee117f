//! `/datacenter/netbox`: the upload form (check, then import) and the CSV
//! downloads. Importing needs `EditDatacenter`; downloading, a login.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::{CurrentUser, Permission};
use crate::datacenter::netbox::{FILES, Files, Outcome};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::web::AppState;
use crate::web::Ctx;

/// Largest upload (all files together), bytes.
const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

/// NetBox routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditDatacenter],
        Router::new()
            .route("/datacenter/netbox", get(page).post(upload))
            .route("/datacenter/netbox/{file}", get(download))
            .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "datacenter/netbox.html")]
struct NetboxPage {
    ctx: Ctx,
    files: Vec<&'static str>,
    outcome: Option<Outcome>,
    /// After a clean check: the checked files, sent again by *Import*.
    confirm: Vec<(&'static str, String)>,
}

fn netbox_page(ctx: Ctx, outcome: Option<Outcome>) -> NetboxPage {
    NetboxPage {
        ctx: ctx.section("datacenter"),
        files: FILES.iter().map(|(name, _)| *name).collect(),
        outcome,
        confirm: Vec::new(),
    }
}

async fn page(ctx: Ctx) -> NetboxPage {
    netbox_page(ctx, None)
}

fn upload_error(detail: &str) -> AppError {
    let mut f = FieldErrors::default();
    f.add("file", Msg::new("import.file_error").arg("detail", detail));
    AppError::Validation(f)
}

async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    mut form: Multipart,
) -> AppResult<Response> {
    user.require(Permission::EditDatacenter)?;
    let (mut files, mut commit) = (Files::default(), false);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| upload_error(&e.body_text()))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| upload_error(&e.body_text()))?;
        if name == "mode" {
            commit = bytes.as_ref() == b"commit";
        } else if FILES.iter().any(|(f, _)| *f == name) && !bytes.is_empty() {
            files.0.insert(name, bytes.to_vec());
        }
    }
    if files.0.is_empty() {
        return Err(upload_error("no file"));
    }
    let outcome = crate::datacenter::netbox::run(&state.db, &user.actor(), &files, commit).await?;
    let clean = outcome.errors.is_empty();
    let mut page = netbox_page(ctx, Some(outcome));
    if clean && !commit {
        // The files were read as UTF-8, so nothing is lost in the text.
        page.confirm = FILES
            .iter()
            .filter_map(|(name, _)| {
                let bytes = files.0.get(*name)?;
                Some((*name, String::from_utf8_lossy(bytes).into_owned()))
            })
            .collect();
    }
    let status = if clean {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page).into_response())
}

async fn download(State(state): State<AppState>, Path(file): Path<String>) -> AppResult<Response> {
    let name = file.strip_suffix(".csv").ok_or(AppError::NotFound)?;
    let body = crate::datacenter::netbox::export_csv(&state.db, name)
        .await?
        .ok_or(AppError::NotFound)?;
    let disposition = format!("attachment; filename=\"netbox-{name}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
