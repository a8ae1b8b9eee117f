//! Handlers and page structs of `/admin`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::audit::{self, AuditEntry, AuditFilter};
use crate::auth::repo::{self as users, TokenRow, UserRow};
use crate::auth::service::{self, NewUserInput, UserUpdate};
use crate::auth::{CurrentUser, Permission, Role, ThrottleRow, throttle};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::export::Cell;
use crate::web::AppState;
use crate::web::auth::site::site_choice;
use crate::web::history::{self, Entry};
use crate::web::list::{self, ListParams, ListState};
use crate::web::{Checked, Ctx, Pager, see_other, unless_refused};

/// `/admin/*` routes, refused to anyone without `ManageUsers`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{id}", get(edit_user).post(update_user))
        .route("/admin/tokens", get(list_tokens).post(issue_token))
        .route(
            "/admin/tokens/{id}/revoke",
            get(confirm_revoke).post(revoke_token),
        )
        .route("/admin/logins", get(list_logins))
        .route(
            "/admin/logins/{id}/clear",
            get(confirm_clear_login).post(clear_login),
        )
        .route("/admin/audit", get(audit_log))
        .route_layer(middleware::from_fn(require_admin))
}

async fn require_admin(user: CurrentUser, req: Request, next: Next) -> Response {
    match user.require(Permission::ManageUsers) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    #[serde(default, deserialize_with = "crate::web::pager::lenient")]
    page: Option<i64>,
    #[serde(default, deserialize_with = "crate::web::pager::lenient")]
    per_page: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    ctx: Ctx,
    users: Vec<UserRow>,
    q: String,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    roles: Vec<&'static str>,
    form_username: String,
    form_display_name: String,
    form_role: String,
    form_site: Option<i64>,
    sites: Vec<(i64, String)>,
    errors: FieldErrors,
}

impl UsersPage {
    async fn load(state: &AppState, ctx: Ctx, q: ListQuery) -> AppResult<UsersPage> {
        let pager = Pager {
            page: q.page.unwrap_or(1),
            per_page: q.per_page.unwrap_or(crate::web::pager::DEFAULT_PER_PAGE),
        };
        let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let (rows, total) =
            users::list_users(&state.db, search, pager.limit(), pager.offset()).await?;
        Ok(UsersPage {
            ctx: ctx.section("admin"),
            users: rows,
            q: search.unwrap_or_default().to_owned(),
            page: pager.page(),
            pages: pager.pages(total),
            total,
            base: format!(
                "/admin/users?{}&",
                serde_urlencoded::to_string([("q", search.unwrap_or(""))]).unwrap_or_default()
            ),
            roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
            form_username: String::new(),
            form_display_name: String::new(),
            form_role: "viewer".into(),
            form_site: None,
            sites: crate::datacenter::racks::sites(&state.db).await?,
            errors: FieldErrors::default(),
        })
    }
}

async fn list_users(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<UsersPage> {
    UsersPage::load(&state, ctx, q).await
}

/// The new-user form: the API's fields and the home site as chosen.
#[derive(Deserialize)]
struct NewUserForm {
    #[serde(flatten)]
    user: NewUserInput,
    #[serde(default)]
    home_site: String,
}

async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked {
        input: form,
        refused,
    }: Checked<NewUserForm>,
) -> AppResult<Response> {
    let input = NewUserInput {
        home_site_id: site_choice(&form.home_site),
        ..form.user
    };
    let actor = user.actor();
    let created = service::create_user(&state.db, &actor, &input, &state.config.default_time_zone);
    match unless_refused(&refused, created).await {
        Ok(id) => Ok(see_other(
            &format!("/admin/users/{id}"),
            Some("user_created"),
        )),
        Err(AppError::Validation(errors)) => {
            let mut page = UsersPage::load(&state, ctx, ListQuery::default()).await?;
            page.form_username = input.username;
            page.form_display_name = input.display_name;
            page.form_role = input.role;
            page.form_site = input.home_site_id;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
struct UserPage {
    ctx: Ctx,
    u: UserRow,
    roles: Vec<&'static str>,
    sites: Vec<(i64, String)>,
    errors: FieldErrors,
    history: Vec<AuditEntry>,
}

async fn user_page(
    state: &AppState,
    ctx: Ctx,
    id: i64,
    errors: FieldErrors,
) -> AppResult<UserPage> {
    let u = users::get_user(&state.db, id).await?;
    let filter = AuditFilter {
        entity: Some("user".into()),
        entity_id: Some(id.to_string()),
        actor: None,
    };
    let (history, _) = audit::list(&state.db, &filter, 20, 0).await?;
    Ok(UserPage {
        ctx: ctx.section("admin"),
        u,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        sites: crate::datacenter::racks::sites(&state.db).await?,
        errors,
        history,
    })
}

async fn edit_user(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<UserPage> {
    user_page(&state, ctx, id, FieldErrors::default()).await
}

#[derive(Deserialize)]
struct UserForm {
    display_name: String,
    role: String,
    disabled: Option<String>,
    new_password: Option<String>,
    #[serde(default)]
    home_site: String,
}

async fn update_user(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Checked {
        input: form,
        refused,
    }: Checked<UserForm>,
) -> AppResult<Response> {
    let input = UserUpdate {
        display_name: form.display_name,
        role: form.role,
        disabled: form.disabled.is_some(),
        new_password: form.new_password,
        home_site_id: Some(site_choice(&form.home_site)),
    };
    let actor = user.actor();
    let updated = service::update_user(&state.db, &actor, id, &input);
    let (status, errors) = match unless_refused(&refused, updated).await {
        Ok(()) => return Ok(see_other(&format!("/admin/users/{id}"), Some("saved"))),
        Err(AppError::Validation(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        // The last admin kept: the message at the field that would demote
        // or disable them.
        Err(AppError::Conflict(m)) if m.key == "users.last_admin" => {
            let mut errors = FieldErrors::default();
            let field = if input.role == "admin" {
                "disabled"
            } else {
                "role"
            };
            errors.add(field, m);
            (StatusCode::CONFLICT, errors)
        }
        Err(e) => return Err(e),
    };
    let mut page = user_page(&state, ctx, id, errors).await?;
    // Shown as typed; the password is never sent back.
    page.u.display_name = input.display_name;
    page.u.role = input.role;
    page.u.disabled = input.disabled;
    page.u.home_site_id = input.home_site_id.flatten();
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    ctx: Ctx,
    tokens: Vec<TokenRow>,
    users: Vec<UserRow>,
    new_token: Option<String>,
    /// The issue form: empty, or as sent when it was refused.
    form: TokenForm,
    errors: FieldErrors,
}

async fn tokens_page(state: &AppState, ctx: Ctx) -> AppResult<TokensPage> {
    let tokens = users::list_tokens(&state.db).await?;
    let (all_users, _) = users::list_users(&state.db, None, 500, 0).await?;
    Ok(TokensPage {
        ctx: ctx.section("admin"),
        tokens,
        users: all_users.into_iter().filter(|u| !u.disabled).collect(),
        new_token: None,
        form: TokenForm::default(),
        errors: FieldErrors::default(),
    })
}

async fn list_tokens(State(state): State<AppState>, ctx: Ctx) -> AppResult<TokensPage> {
    tokens_page(&state, ctx).await
}

#[derive(Deserialize, Default)]
struct TokenForm {
    user_id: i64,
    name: String,
}

async fn issue_token(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked {
        input: form,
        refused,
    }: Checked<TokenForm>,
) -> AppResult<Response> {
    let actor = user.actor();
    let issue = service::issue_token(&state.db, &actor, form.user_id, &form.name);
    match unless_refused(&refused, issue).await {
        Ok((_, token)) => {
            let mut page = tokens_page(&state, ctx).await?;
            page.new_token = Some(token);
            // The token is shown once: keep it out of caches.
            Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Err(AppError::Validation(errors)) => {
            let mut page = tokens_page(&state, ctx).await?;
            page.form = form;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/revoke.html")]
struct RevokePage {
    ctx: Ctx,
    token: TokenRow,
}

async fn confirm_revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<RevokePage> {
    let token = users::list_tokens(&state.db)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)?;
    Ok(RevokePage {
        ctx: ctx.section("admin"),
        token,
    })
}

async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    service::revoke_token(&state.db, &user.actor(), id).await?;
    Ok(see_other("/admin/tokens", Some("token_revoked")))
}

/// A login back-off as the admin list shows it.
struct LoginRow {
    row: ThrottleRow,
    scope_key: &'static str,
    waiting: bool,
}

fn scope_key(scope: &str) -> &'static str {
    if scope == "address" {
        "logins.scope_address"
    } else {
        "logins.scope_user"
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/logins.html")]
struct LoginsPage {
    ctx: Ctx,
    rows: Vec<LoginRow>,
}

async fn list_logins(State(state): State<AppState>, ctx: Ctx) -> AppResult<LoginsPage> {
    let now = crate::clock::now();
    let rows = throttle::list(&state.db, &state.config)
        .await?
        .into_iter()
        .map(|row| LoginRow {
            scope_key: scope_key(&row.scope),
            waiting: row.next_attempt_at > now,
            row,
        })
        .collect();
    Ok(LoginsPage {
        ctx: ctx.section("admin"),
        rows,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/clear_login.html")]
struct ClearLoginPage {
    ctx: Ctx,
    scope_key: &'static str,
    row: ThrottleRow,
}

async fn confirm_clear_login(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<ClearLoginPage> {
    let row = throttle::get(&state.db, id).await?;
    Ok(ClearLoginPage {
        ctx: ctx.section("admin"),
        scope_key: scope_key(&row.scope),
        row,
    })
}

async fn clear_login(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    throttle::clear(&state.db, &user.actor(), id).await?;
    Ok(see_other("/admin/logins", Some("login_cleared")))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: Ctx,
    rows: Vec<Entry>,
    entities: Vec<(String, String)>,
    entity: String,
    entity_id: String,
    actor: String,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    list: ListState,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn audit_log(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    user.require(Permission::ViewAudit)?;
    let filter = AuditFilter {
        entity: non_empty(q.entity),
        entity_id: non_empty(q.entity_id),
        actor: non_empty(q.actor),
    };
    let list = ListState::new(
        "/admin/audit",
        &[
            ("entity", filter.entity.as_deref().unwrap_or_default()),
            ("entity_id", filter.entity_id.as_deref().unwrap_or_default()),
            ("actor", filter.actor.as_deref().unwrap_or_default()),
        ],
        audit::AUDIT_SORTS,
        &q.list,
    );
    if list.download.is_some() {
        let (st, c, sort, f) = (state.clone(), ctx.clone(), list.sort.clone(), filter);
        let headers = audit_headers(&ctx);
        return list::download_rows(&ctx, &list, "audit", headers, move |limit, offset| {
            let (st, c, sort, f) = (st.clone(), c.clone(), sort.clone(), f.clone());
            Box::pin(async move {
                let (rows, total) = audit::list_sorted(&st.db, &f, &sort, limit, offset).await?;
                Ok((audit_rows(&st, &c, &rows).await?, total))
            })
        })
        .await;
    }
    let (limit, offset) = list.window();
    let (rows, total) = audit::list_sorted(&state.db, &filter, &list.sort, limit, offset).await?;
    let entities = audit::entities(&state.db).await?;
    Ok(AuditPage {
        rows: history::entries(&state, &ctx, &rows).await?,
        entities: entities
            .into_iter()
            .map(|e| (history::kind_name(&ctx, &e), e))
            .collect(),
        ctx: ctx.section("admin"),
        entity: filter.entity.unwrap_or_default(),
        entity_id: filter.entity_id.unwrap_or_default(),
        actor: filter.actor.unwrap_or_default(),
        page: list.pager.page(),
        pages: list.pager.pages(total),
        total,
        base: list.base(),
        list,
    }
    .into_response())
}

/// The audit log download's headers: times in the user's zone (named in
/// the header), the record in words and its changes as on the page.
fn audit_headers(ctx: &Ctx) -> Vec<String> {
    let mut headers: Vec<String> = vec![list::zoned_header(ctx, "audit.when")];
    headers.extend(
        [
            "audit.actor",
            "audit.action",
            "audit.entity",
            "audit.entity_id",
            "audit.changes",
        ]
        .iter()
        .map(|k| ctx.t(k).to_owned()),
    );
    headers
}

/// The audit rows as download cells, matching [`audit_headers`]: the same
/// words as the page, money left out for those who may not see it.
async fn audit_rows(state: &AppState, ctx: &Ctx, rows: &[AuditEntry]) -> AppResult<Vec<Vec<Cell>>> {
    let entries = history::entries(state, ctx, rows).await?;
    Ok(rows
        .iter()
        .zip(entries)
        .map(|(r, e)| {
            vec![
                Cell::Text(list::zoned_time(ctx, &r.created_at)),
                e.actor.clone().into(),
                ctx.tk("audit.actions", &e.action).into(),
                e.what.text.clone().into(),
                r.entity_id.clone().into(),
                e.changes_text().into(),
            ]
        })
        .collect())
}
