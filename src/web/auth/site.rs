//! The user's own home site (`/account/site`): a technician's home shows the
//! alerts, unassigned work orders and audits at it.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::model::CurrentUser;
use crate::auth::service;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::{AppState, Checked, Ctx, see_other, unless_refused};

/// `GET` and `POST /account/site`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/account/site", get(site_page).post(save_site))
}

/// A site choice as a form sends it: empty is none; anything that is not a
/// number is kept as an id no site has, so the service refuses it.
pub(crate) fn site_choice(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    (!raw.is_empty()).then(|| raw.parse().unwrap_or(-1))
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/site.html")]
struct SitePage {
    ctx: Ctx,
    sites: Vec<(i64, String)>,
    chosen: Option<i64>,
    errors: FieldErrors,
}

impl SitePage {
    async fn load(
        state: &AppState,
        ctx: Ctx,
        chosen: Option<i64>,
        errors: FieldErrors,
    ) -> AppResult<SitePage> {
        Ok(SitePage {
            ctx: ctx.section("account"),
            sites: crate::datacenter::racks::sites(&state.db).await?,
            chosen,
            errors,
        })
    }
}

async fn site_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
) -> AppResult<SitePage> {
    let me = crate::auth::repo::get_user(&state.db, user.id).await?;
    SitePage::load(&state, ctx, me.home_site_id, FieldErrors::default()).await
}

#[derive(Deserialize)]
struct SiteForm {
    #[serde(default)]
    home_site: String,
}

async fn save_site(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<SiteForm>,
) -> AppResult<Response> {
    let site = site_choice(&input.home_site);
    match unless_refused(&refused, service::set_home_site(&state.db, &user, site)).await {
        Ok(()) => Ok(see_other("/", Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let page = SitePage::load(&state, ctx, site, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
