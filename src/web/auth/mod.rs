//! Login, logout, language switch and the user's own account page; who is
//! calling and the CSRF check (`middleware`).

mod client;
mod middleware;
mod multipart_csrf;
mod next;
pub(crate) mod site;

pub use middleware::{
    CSRF_FIELD, CSRF_HEADER, MAX_FORM_BYTES, PRELOGIN_COOKIE, SESSION_COOKIE, authenticate,
    csrf_guard, require_login,
};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::auth::model::CurrentUser;
use crate::auth::{secret, service};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::web::AppState;
use crate::web::{Checked, Ctx, Form, LANG_COOKIE, see_other, unless_refused};
use client::RemoteAddr;
use next::safe_next;

/// Routes that work without a login.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/lang", post(set_lang))
}

/// Routes for the logged-in user's own account.
pub fn protected_routes() -> Router<AppState> {
    Router::new()
        .route("/logout", post(logout))
        .route("/account", get(account))
        .route("/account/preferences", post(save_preferences))
        .route("/account/password", post(change_password))
        .merge(site::routes())
}

fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
struct LoginPage {
    ctx: Ctx,
    next: String,
    username: String,
    error: Option<String>,
    /// Fields refused at the edge (a hidden character, an over-long text).
    errors: FieldErrors,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    mut ctx: Ctx,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    if ctx.user.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    // Double-submit token for the anonymous form; reuse one already set.
    let jar = if ctx.csrf.is_empty() {
        ctx.csrf = secret::random_token();
        jar.add(cookie(
            PRELOGIN_COOKIE,
            ctx.csrf.clone(),
            state.config.secure_cookies(),
        ))
    } else {
        jar
    };
    let page = LoginPage {
        ctx,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
        errors: FieldErrors::default(),
    };
    (jar, page).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    RemoteAddr(remote): RemoteAddr,
    Checked {
        input: form,
        refused,
    }: Checked<LoginForm>,
) -> Response {
    if !refused.is_empty() {
        // Shown again without asking whether the user exists.
        let page = LoginPage {
            next: safe_next(form.next.as_deref()),
            username: form.username,
            error: Some(ctx.t("forms3.login_refused").to_owned()),
            errors: refused,
            ctx,
        };
        return (StatusCode::UNPROCESSABLE_ENTITY, page).into_response();
    }
    match service::login(
        &state.db,
        &state.config,
        &form.username,
        &form.password,
        &remote,
    )
    .await
    {
        Ok(ok) => {
            let jar = jar
                .add(cookie(
                    SESSION_COOKIE,
                    ok.session_token,
                    state.config.secure_cookies(),
                ))
                .remove(Cookie::build(PRELOGIN_COOKIE).path("/"));
            (jar, Redirect::to(&safe_next(form.next.as_deref()))).into_response()
        }
        Err(e @ (AppError::Unauthorized | AppError::TooManyRequests(_))) => {
            let (status, error) = match &e {
                AppError::TooManyRequests(m) => (StatusCode::TOO_MANY_REQUESTS, ctx.msg(m)),
                _ => (StatusCode::UNAUTHORIZED, ctx.t("login.failed").to_owned()),
            };
            let retry_after = e.report().retry_after();
            let next = safe_next(form.next.as_deref());
            let mut resp = (
                status,
                LoginPage {
                    ctx,
                    next,
                    username: form.username,
                    error: Some(error),
                    errors: FieldErrors::default(),
                },
            )
                .into_response();
            if let Some(seconds) = retry_after {
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, seconds.into());
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn logout(State(state): State<AppState>, jar: CookieJar) -> AppResult<Response> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        service::logout(&state.db, c.value()).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
    next: Option<String>,
}

async fn set_lang(
    State(state): State<AppState>,
    ctx: Ctx,
    jar: CookieJar,
    Form(form): Form<LangForm>,
) -> AppResult<Response> {
    let lang = Lang::parse(&form.lang).ok_or(AppError::NotFound)?;
    if let Some(user) = &ctx.user {
        service::set_preferences(&state.db, user, Some(lang), &user.time_zone).await?;
    }
    let jar = jar.add(cookie(
        LANG_COOKIE,
        lang.code().to_owned(),
        state.config.secure_cookies(),
    ));
    Ok((jar, Redirect::to(&safe_next(form.next.as_deref()))).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/account.html")]
struct AccountPage {
    ctx: Ctx,
    lang_choice: String,
    time_zone: String,
    errors: FieldErrors,
}

impl AccountPage {
    fn new(ctx: Ctx, user: &CurrentUser, errors: FieldErrors) -> AccountPage {
        AccountPage {
            lang_choice: user.lang.map_or("", Lang::code).to_owned(),
            time_zone: user.time_zone.clone(),
            ctx: ctx.section("account"),
            errors,
        }
    }
}

async fn account(ctx: Ctx, user: CurrentUser) -> AccountPage {
    AccountPage::new(ctx, &user, FieldErrors::default())
}

#[derive(Deserialize)]
struct PreferencesForm {
    lang: String,
    time_zone: String,
}

async fn save_preferences(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked {
        input: form,
        refused,
    }: Checked<PreferencesForm>,
) -> AppResult<Response> {
    let set = service::set_preferences(&state.db, &user, Lang::parse(&form.lang), &form.time_zone);
    match unless_refused(&refused, set).await {
        Ok(()) => Ok(see_other("/account", Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = AccountPage::new(ctx, &user, errors);
            page.lang_choice = form.lang;
            page.time_zone = form.time_zone;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    RemoteAddr(remote): RemoteAddr,
    Checked {
        input: form,
        refused,
    }: Checked<PasswordForm>,
) -> AppResult<Response> {
    // Passwords are never shown again, only the messages at their fields.
    let result = if !refused.is_empty() {
        Err(AppError::Validation(refused))
    } else if form.new_password != form.confirm_password {
        let mut f = FieldErrors::default();
        f.add(
            "confirm_password",
            crate::i18n::Msg::new("validation.password_mismatch"),
        );
        Err(AppError::Validation(f))
    } else {
        service::change_own_password(
            &state.db,
            &state.config,
            &user,
            &form.current_password,
            &form.new_password,
            &remote,
        )
        .await
    };
    match result {
        Ok(()) => Ok(see_other("/account", Some("password_changed"))),
        Err(AppError::Validation(errors)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            AccountPage::new(ctx, &user, errors),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}
