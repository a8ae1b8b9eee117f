//! The JSON API under `/api/v1`, and its OpenAPI document generated from the
//! handlers (`/api/v1/openapi.json`, browsable at `/api/v1/docs/`).

mod cost;
mod datacenter;
mod health;
mod inventory;
pub mod money;
mod orders;
mod workorders;

use axum::extract::{Path, Query, State};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::audit::{self, AuditEntry, AuditFilter};
use crate::auth::repo as users;
use crate::auth::service::{self as accounts, NewUserInput, UserUpdate};
use crate::auth::{CurrentUser, Permission};
use crate::error::AppResult;
use crate::procurement::model::{PartModel, PartModelInput, Supplier, SupplierInput};
use crate::procurement::{repo as procurement_repo, service as procurement};
use crate::web::AppState;
use crate::web::Pager;
use money::Shown;

#[derive(OpenApi)]
#[openapi(
    info(title = "rackledger API", description = "Hardware procurement and datacenter inventory. Authenticate with `Authorization: Bearer <token>` (tokens are issued by an admin) or a browser session."),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::web::auth::SESSION_COOKIE,
            ))),
        );
    }
}

fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(list_audit))
        .routes(routes!(list_suppliers, create_supplier))
        .routes(routes!(list_parts, create_part))
        .routes(routes!(update_part))
        .routes(routes!(orders::list_orders, orders::create_order))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::add_line))
        .routes(routes!(orders::add_cost))
        .routes(routes!(orders::set_status))
        .routes(routes!(orders::receive))
        .routes(routes!(orders::list_rates, orders::add_rate))
        .routes(routes!(orders::list_locations, orders::create_location))
        .routes(routes!(orders::list_units))
        .routes(routes!(orders::stock))
        .routes(routes!(
            inventory::list_templates,
            inventory::create_template
        ))
        .routes(routes!(inventory::start_assembly))
        .routes(routes!(inventory::get_assembly))
        .routes(routes!(inventory::complete_assembly))
        .routes(routes!(inventory::cancel_assembly))
        .routes(routes!(inventory::get_asset))
        .routes(routes!(inventory::swap))
        .routes(routes!(inventory::list_rma, inventory::open_rma))
        .routes(routes!(inventory::resolve_rma))
        .routes(routes!(inventory::warranty_report))
        .routes(routes!(inventory::reorder_list))
        .routes(routes!(inventory::transfer_units))
        .routes(routes!(inventory::mark_faulty))
        .routes(routes!(inventory::scrap_unit))
        .routes(routes!(inventory::search))
        .routes(routes!(datacenter::list_racks, datacenter::create_rack))
        .routes(routes!(datacenter::get_rack))
        .routes(routes!(datacenter::place))
        .routes(routes!(workorders::list, workorders::create))
        .routes(routes!(workorders::get))
        .routes(routes!(workorders::tick))
        .routes(routes!(workorders::complete))
        .routes(routes!(workorders::set_status))
        .routes(routes!(workorders::assign))
        .routes(routes!(workorders::no_fault))
        .routes(routes!(workorders::connect))
        .routes(routes!(workorders::disconnect))
        .routes(routes!(workorders::move_end))
        .routes(routes!(workorders::start_audit))
        .routes(routes!(workorders::get_audit))
        .routes(routes!(workorders::scan))
        .routes(routes!(workorders::finish_audit))
        .routes(routes!(datacenter::netbox_import))
        .routes(routes!(health::asset_health))
        .routes(routes!(health::put_bmc))
        .routes(routes!(health::poll))
        .routes(routes!(health::open_alerts))
        .routes(routes!(health::readings))
        // Cost (issue #7).
        .routes(routes!(cost::get_params, cost::add_params))
        .routes(routes!(cost::set_rack_cost))
        .routes(routes!(
            cost::list_instance_types,
            cost::create_instance_type
        ))
        .routes(routes!(cost::list_tiers, cost::create_tier))
        .routes(routes!(cost::list_competitors, cost::create_competitor))
        .routes(routes!(cost::report))
        .routes(routes!(cost::list_scenarios, cost::create_scenario))
        .split_for_parts();
    money::MarkMoney.modify(&mut doc);
    (router, doc)
}

/// The OpenAPI document of the whole API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    doc
}

/// `/api/v1` routes (nest them under `/api/v1`).
pub fn routes() -> Router<AppState> {
    api().0
}

/// The offline Swagger UI at `/api/v1/docs/` and the document at `/api/v1/openapi.json`.
pub fn docs() -> Router<AppState> {
    SwaggerUi::new("/api/v1/docs")
        .url("/api/v1/openapi.json", openapi())
        .into()
}

/// A page of results and the total count.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows matching in all pages.
    pub total: i64,
    /// This page number (from 1).
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, total: i64, p: &Pager) -> Page<T> {
        Page {
            items,
            total,
            page: p.page(),
            per_page: p.limit(),
        }
    }
}

/// The caller as the server sees them.
#[derive(Serialize, ToSchema)]
struct Me {
    id: i64,
    username: String,
    display_name: String,
    role: crate::auth::Role,
    can_see_money: bool,
}

/// Who am I?
#[utoipa::path(get, path = "/me", tag = "account", responses((status = 200, body = Me), (status = 401)))]
async fn me(user: CurrentUser) -> Shown<Me> {
    let me = Me {
        can_see_money: user.can(Permission::ViewMoney),
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
    };
    Shown::to(&user, me)
}

/// A user as the API shows it.
#[derive(Serialize, ToSchema)]
struct UserOut {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    disabled: bool,
}

impl From<users::UserRow> for UserOut {
    fn from(u: users::UserRow) -> Self {
        UserOut {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            disabled: u.disabled,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
struct SearchQuery {
    /// Substring to search for.
    q: Option<String>,
    /// Page number, from 1.
    page: Option<i64>,
    /// Rows per page (1-500).
    per_page: Option<i64>,
    /// Only this category (part models).
    category: Option<String>,
}

impl SearchQuery {
    fn pager(&self) -> Pager {
        Pager {
            page: self.page.unwrap_or(1),
            per_page: self.per_page.unwrap_or(crate::web::pager::DEFAULT_PER_PAGE),
        }
    }
    fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

/// List users (admin).
#[utoipa::path(get, path = "/users", tag = "admin", params(SearchQuery),
    responses((status = 200, body = Page<UserOut>), (status = 403)))]
async fn list_users(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> AppResult<Shown<Page<UserOut>>> {
    user.require(Permission::ManageUsers)?;
    let p = q.pager();
    let (rows, total) = users::list_users(&s.db, q.search(), p.limit(), p.offset()).await?;
    let rows = rows.into_iter().map(UserOut::from).collect();
    Ok(Shown::to(&user, Page::new(rows, total, &p)))
}

/// Create a user (admin).
#[utoipa::path(post, path = "/users", tag = "admin", request_body = NewUserInput,
    responses((status = 201, body = UserOut), (status = 403), (status = 422)))]
async fn create_user(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<NewUserInput>,
) -> AppResult<Shown<UserOut>> {
    user.require(Permission::ManageUsers)?;
    let id =
        accounts::create_user(&s.db, &user.actor(), &input, &s.config.default_time_zone).await?;
    let created: UserOut = users::get_user(&s.db, id).await?.into();
    Ok(Shown::created(&user, created))
}

/// Change a user's name, role, disabled flag or password (admin).
#[utoipa::path(patch, path = "/users/{id}", tag = "admin", request_body = UserUpdate,
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserOut), (status = 403), (status = 404), (status = 422)))]
async fn update_user(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<UserUpdate>,
) -> AppResult<Shown<UserOut>> {
    user.require(Permission::ManageUsers)?;
    accounts::update_user(&s.db, &user.actor(), id, &input).await?;
    let updated: UserOut = users::get_user(&s.db, id).await?.into();
    Ok(Shown::to(&user, updated))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct AuditQuery {
    /// Entity kind (`user`, `supplier`...).
    entity: Option<String>,
    /// Entity id.
    entity_id: Option<String>,
    /// User or process name.
    actor: Option<String>,
    /// Page number, from 1.
    page: Option<i64>,
    /// Rows per page (1-500).
    per_page: Option<i64>,
}

/// Browse the audit log, newest first (admin).
#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403)))]
async fn list_audit(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Shown<Page<AuditEntry>>> {
    user.require(Permission::ViewAudit)?;
    let p = Pager {
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(crate::web::pager::DEFAULT_PER_PAGE),
    };
    let filter = AuditFilter {
        entity: q.entity,
        entity_id: q.entity_id,
        actor: q.actor,
    };
    let (rows, total) = audit::list(&s.db, &filter, p.limit(), p.offset()).await?;
    Ok(Shown::to(&user, Page::new(rows, total, &p)))
}

/// List suppliers.
#[utoipa::path(get, path = "/suppliers", tag = "procurement", params(SearchQuery),
    responses((status = 200, body = Page<Supplier>)))]
async fn list_suppliers(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> AppResult<Shown<Page<Supplier>>> {
    let p = q.pager();
    let (rows, total) =
        procurement_repo::list_suppliers(&s.db, q.search(), "name", p.limit(), p.offset()).await?;
    Ok(Shown::to(&user, Page::new(rows, total, &p)))
}

/// Create a supplier (procurement, admin).
#[utoipa::path(post, path = "/suppliers", tag = "procurement", request_body = SupplierInput,
    responses((status = 201, body = Supplier), (status = 403), (status = 422)))]
async fn create_supplier(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<SupplierInput>,
) -> AppResult<Shown<Supplier>> {
    user.require(Permission::EditProcurement)?;
    let id = procurement::create_supplier(&s.db, &user.actor(), &input).await?;
    let created = procurement_repo::get_supplier(&s.db, id).await?;
    Ok(Shown::created(&user, created))
}

/// List the part catalogue; `last_price` is omitted for roles that may not see money.
#[utoipa::path(get, path = "/parts", tag = "procurement", params(SearchQuery),
    responses((status = 200, body = Page<PartModel>)))]
async fn list_parts(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> AppResult<Shown<Page<PartModel>>> {
    let p = q.pager();
    let category = q.category.as_deref().filter(|c| !c.is_empty());
    let (rows, total) =
        procurement_repo::list_part_models(&s.db, q.search(), category, p.limit(), p.offset())
            .await?;
    let money = user.can(Permission::ViewMoney);
    let rows = rows.into_iter().map(|r| r.view(money)).collect();
    Ok(Shown::to(&user, Page::new(rows, total, &p)))
}

/// Add a part model to the catalogue (procurement, admin).
#[utoipa::path(post, path = "/parts", tag = "procurement", request_body = PartModelInput,
    responses((status = 201, description = "Created; body has the new id"), (status = 403), (status = 422)))]
async fn create_part(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<PartModelInput>,
) -> AppResult<Shown<serde_json::Value>> {
    user.require(Permission::EditProcurement)?;
    let id = procurement::create_part_model(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, serde_json::json!({ "id": id })))
}

/// Change a part model: names, category, specs, last price (procurement, admin).
#[utoipa::path(patch, path = "/parts/{id}", tag = "procurement", request_body = PartModelInput,
    params(("id" = i64, Path, description = "Part model id")),
    responses((status = 200, body = PartModel), (status = 403), (status = 404), (status = 422)))]
async fn update_part(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<PartModelInput>,
) -> AppResult<Shown<PartModel>> {
    user.require(Permission::EditProcurement)?;
    procurement::update_part_model(&s.db, &user.actor(), id, &input).await?;
    let part = procurement_repo::get_part_model(&s.db, id)
        .await?
        .view(true);
    Ok(Shown::to(&user, part))
}
