//! `/procurement/imports`: upload, preview with progress, commit, and saved profiles.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rackledger_importers::{Field, Kind, Profile};
use serde::Deserialize;

use crate::audit::Actor;
use crate::auth::submissions::{self, Answer, Claim};
use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::{Lang, Msg};
use crate::importers::batches::{self, Batch, NewBatch, ProfileRow};
use crate::importers::{Mode, Summary, Target};
use crate::inventory::locations::{self, LocationView};
use crate::procurement::orders_repo::{self, PoRow};
use crate::web::AppState;
use crate::web::{Checked, Ctx, see_other};

mod batch;

/// Largest file accepted, bytes.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

/// Import routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditProcurement],
        Router::new()
            .route("/procurement/imports", get(index).post(upload))
            .route("/procurement/imports/{id}", get(batch::show))
            .route("/procurement/imports/{id}/commit", post(batch::commit))
            .route("/procurement/imports/{id}/discard", post(batch::discard))
            .route("/procurement/imports/profiles", post(save_profile))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "imports/index.html")]
struct ImportsPage {
    ctx: Ctx,
    kinds: Vec<&'static str>,
    fields: Vec<&'static str>,
    suppliers: Vec<crate::procurement::Supplier>,
    orders: Vec<PoRow>,
    locations: Vec<LocationView>,
    profiles: Vec<ProfileRow>,
    recent: Vec<Batch>,
    /// Whether `recent` holds only the previewed batches waiting for a commit.
    waiting: bool,
    errors: FieldErrors,
    /// What the upload form had chosen, kept when it is refused.
    chosen: Chosen,
    /// The profile form as typed when it was refused (empty otherwise).
    profile: std::collections::HashMap<String, String>,
}

/// The upload form's choices, shown again when an upload is refused.
#[derive(Default)]
struct Chosen {
    kind: String,
    supplier_id: Option<i64>,
    po_id: Option<i64>,
    location_id: Option<i64>,
    profile_id: Option<i64>,
    allow_over: bool,
}

async fn index_page(state: &AppState, ctx: Ctx) -> AppResult<ImportsPage> {
    let (suppliers, _) =
        crate::procurement::repo::list_suppliers(&state.db, None, "name", 500, 0).await?;
    let (orders, _) = orders_repo::list_pos(&state.db, None, None, 200, 0).await?;
    Ok(ImportsPage {
        ctx: ctx.section("procurement"),
        kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
        fields: Field::ALL.iter().map(|f| f.as_str()).collect(),
        suppliers,
        orders: orders
            .into_iter()
            .filter(|o| !matches!(o.status.as_str(), "closed" | "cancelled"))
            .collect(),
        locations: locations::list(&state.db).await?,
        profiles: batches::profiles(&state.db).await?,
        recent: batches::recent(&state.db, 20).await?,
        waiting: false,
        errors: FieldErrors::default(),
        chosen: Chosen::default(),
        profile: Default::default(),
    })
}

impl ImportsPage {
    /// Field `k` of the profile form as typed when it was refused, else "".
    fn pv(&self, k: &str) -> &str {
        self.profile.get(k).map(String::as_str).unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct IndexQuery {
    /// `previewed`: list only the batches waiting for a commit.
    status: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<IndexQuery>,
) -> AppResult<ImportsPage> {
    user.require(Permission::EditProcurement)?;
    let mut page = index_page(&state, ctx).await?;
    if q.status.as_deref() == Some("previewed") {
        page.recent = batches::waiting(&state.db, 200).await?.0;
        page.waiting = true;
    }
    Ok(page)
}

fn opt_id(v: &str) -> Option<i64> {
    v.trim().parse().ok()
}

async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    mut form: Multipart,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    // The upload stays in the one buffer axum read it into (no copy): a
    // 32 MiB file would otherwise be held twice while it is stored.
    let (mut kind, mut file_name, mut content) = (None, String::new(), axum::body::Bytes::new());
    let mut target = Target::default();
    let mut profile_id = None;
    let (mut kind_text, mut once) = (String::new(), None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| upload_error(&e.body_text()))?
    {
        match field.name().unwrap_or("") {
            "file" => {
                file_name = field.file_name().unwrap_or("upload").to_owned();
                content = field
                    .bytes()
                    .await
                    .map_err(|e| upload_error(&e.body_text()))?;
            }
            name => {
                let name = name.to_owned();
                let value = field
                    .text()
                    .await
                    .map_err(|e| upload_error(&e.body_text()))?;
                match name.as_str() {
                    "kind" => {
                        kind = value.parse::<Kind>().ok();
                        kind_text = value;
                    }
                    "_once" => once = Some(value),
                    "supplier_id" => target.supplier_id = opt_id(&value),
                    "po_id" => target.po_id = opt_id(&value),
                    "location_id" => target.location_id = opt_id(&value),
                    "profile_id" => profile_id = opt_id(&value),
                    "allow_over" => target.allow_over = true,
                    _ => {}
                }
            }
        }
    }
    let mut errors = FieldErrors::default();
    if kind.is_none() {
        errors.add("kind", Msg::new("validation.required"));
    }
    if content.is_empty() {
        // A form sent without a file has an empty file name; a chosen file
        // that holds nothing is named.
        let blank = file_name.trim().is_empty();
        let msg = if blank {
            Msg::new("import.no_file")
        } else {
            Msg::new("import.empty_file").arg("name", &file_name)
        };
        errors.add("file", msg);
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        let mut page = index_page(&state, ctx).await?;
        page.errors = errors;
        page.chosen = Chosen {
            kind: kind_text,
            supplier_id: target.supplier_id,
            po_id: target.po_id,
            location_id: target.location_id,
            profile_id,
            allow_over: target.allow_over,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    // The form sent twice (a double click, a retry) stores the file once:
    // the second sending gets the first one's batch.
    let once = match once.as_deref().map(str::trim).filter(|t| once_token_ok(t)) {
        Some(t) => {
            let token = format!("form:/procurement/imports:{t}");
            match submissions::claim(&state.db, &token, user.id).await? {
                Claim::Mine => Some(token),
                Claim::Done(Answer {
                    location: Some(to), ..
                }) => return Ok(see_other(&to, None)),
                Claim::Done(_) | Claim::Running => {
                    return Err(AppError::Conflict(Msg::new("form.already_sent")));
                }
            }
        }
        None => None,
    };
    let new = NewBatch {
        kind: kind.as_str(),
        file_name: &file_name,
        content: &content,
        supplier_id: target.supplier_id,
        po_id: target.po_id,
        location_id: target.location_id,
        profile_id,
        allow_over: target.allow_over,
        created_by: Some(user.id),
    };
    let id = batches::insert(&state.db, &new).await;
    let to = format!(
        "/procurement/imports/{id}",
        id = id.as_ref().copied().unwrap_or(0)
    );
    if let Some(token) = &once {
        let _ = match &id {
            Ok(_) => {
                let answer = Answer {
                    location: Some(to.clone()),
                    status: Some(303),
                    body: None,
                };
                submissions::finish(&state.db, token, &answer).await
            }
            Err(_) => submissions::release(&state.db, token).await,
        };
    }
    spawn_run(state, id?, Mode::Preview, ctx.lang, user.actor());
    Ok(see_other(&to, None))
}

/// A `_once` token as forms carry it (see `web::once`).
fn once_token_ok(t: &str) -> bool {
    (16..=128).contains(&t.len()) && !t.contains(':')
}

fn upload_error(detail: &str) -> AppError {
    let mut f = FieldErrors::default();
    f.add("file", Msg::new("import.file_error").arg("detail", detail));
    AppError::Validation(f)
}

/// Runs a preview or commit of a stored batch in the background, keeping its
/// progress in the database so any rackledger process can show it.
pub fn spawn_run(state: AppState, id: i64, mode: Mode, lang: Lang, actor: Actor) {
    tokio::spawn(async move {
        let no_callback = |_: usize, _: Option<usize>| {};
        let base = state.config.base();
        if let Err(e) =
            crate::importers::run_batch(&state.db, base, id, mode, lang, &actor, &no_callback).await
        {
            match &e {
                AppError::Internal(_) => tracing::error!(batch = id, error = ?e, "import failed"),
                // The file's own problem, told to the user: not an alert.
                _ => tracing::info!(batch = id, error = ?e, "import refused"),
            }
            let msg = match &e {
                AppError::Internal(_) => Msg::new("error.internal").render(lang),
                other => other.message(lang),
            };
            let summary = Summary {
                refused: Some(msg),
                ..Summary::default()
            };
            let json = serde_json::to_string(&summary).unwrap_or_default();
            let _ = batches::finish(&state.db, id, "failed", &json, 0).await;
        }
    });
}

#[derive(Deserialize, serde::Serialize)]
struct ProfileForm {
    supplier_id: i64,
    name: String,
    kind: String,
    #[serde(default)]
    sheet: String,
    #[serde(default)]
    header_row: String,
    #[serde(default)]
    decimal_comma: Option<String>,
    #[serde(flatten)]
    columns: std::collections::HashMap<String, String>,
}

async fn save_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input: f, refused }: Checked<ProfileForm>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    // What the edge refused, then what the form itself gets wrong.
    let mut errors = refused;
    let kind = f.kind.parse::<Kind>().ok();
    if kind.is_none() {
        errors.add("kind", Msg::new("validation.required"));
    }
    if f.name.trim().is_empty() {
        errors.add("name", Msg::new("validation.required"));
    }
    let header_row = match f.header_row.trim() {
        "" => None,
        s => match s.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add("header_row", Msg::new("validation.quantity"));
                None
            }
        },
    };
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        let mut page = index_page(&state, ctx).await?;
        page.errors = errors;
        page.profile = crate::web::as_typed(&f);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let mut profile = Profile::new(f.name.trim(), kind);
    profile.sheet = Some(f.sheet.trim().to_owned()).filter(|s| !s.is_empty());
    profile.header_row = header_row;
    profile.decimal_comma = f.decimal_comma.as_ref().map(|_| true);
    for field in Field::ALL {
        if let Some(v) = f
            .columns
            .get(&format!("col_{}", field.as_str()))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            profile.columns.insert(field, v.to_owned());
        }
    }
    let toml = profile
        .to_toml()
        .and_then(|t| Profile::from_toml(&t).map(|_| t))
        .map_err(|e| {
            let mut f = FieldErrors::default();
            f.add("profile", Msg::new("import.file_error").arg("detail", e));
            AppError::Validation(f)
        })?;
    batches::save_profile(
        &state.db,
        &user.actor(),
        f.supplier_id,
        f.name.trim(),
        kind.as_str(),
        &toml,
    )
    .await?;
    Ok(see_other("/procurement/imports", Some("saved")))
}
