//! Pages of `/procurement`: suppliers and the part catalogue.

use crate::web::Form;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::{CurrentUser, Permission};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::procurement::model::{CATEGORIES, PartModel, PartModelInput, Supplier, SupplierInput};
use crate::procurement::{repo, service};
use crate::web::AppState;
use crate::web::{Ctx, Pager, see_other};

/// Supplier and catalogue pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/procurement/suppliers",
            get(list_suppliers).post(create_supplier),
        )
        .route(
            "/procurement/suppliers/{id}",
            get(show_supplier).post(update_supplier),
        )
        .route("/procurement/parts", get(list_parts).post(create_part))
        .route("/procurement/parts/{id}", get(show_part).post(update_part))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    category: Option<String>,
    page: Option<i64>,
}

impl ListQuery {
    fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    fn pager(&self) -> Pager {
        Pager {
            page: self.page.unwrap_or(1),
            ..Pager::default()
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/suppliers.html")]
struct SuppliersPage {
    ctx: Ctx,
    rows: Vec<Supplier>,
    q: String,
    sort: String,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    form: SupplierInput,
    errors: FieldErrors,
}

async fn suppliers_page(state: &AppState, ctx: Ctx, q: &ListQuery) -> AppResult<SuppliersPage> {
    let pager = q.pager();
    let sort = q.sort.clone().unwrap_or_else(|| "name".into());
    let (rows, total) =
        repo::list_suppliers(&state.db, q.search(), &sort, pager.limit(), pager.offset()).await?;
    let base =
        serde_urlencoded::to_string([("q", q.search().unwrap_or("")), ("sort", sort.as_str())])
            .map_err(|e| AppError::Internal(e.into()))?;
    Ok(SuppliersPage {
        ctx: ctx.section("procurement"),
        rows,
        q: q.search().unwrap_or_default().to_owned(),
        sort,
        page: pager.page(),
        pages: pager.pages(total),
        total,
        base: format!("/procurement/suppliers?{base}&"),
        form: SupplierInput {
            currency: "USD".into(),
            ..SupplierInput::default()
        },
        errors: FieldErrors::default(),
    })
}

async fn list_suppliers(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<SuppliersPage> {
    suppliers_page(&state, ctx, &q).await
}

async fn create_supplier(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Form(input): Form<SupplierInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match service::create_supplier(&state.db, &user.actor(), &input).await {
        Ok(id) => Ok(see_other(
            &format!("/procurement/suppliers/{id}"),
            Some("saved"),
        )),
        Err(AppError::Validation(errors)) => {
            let mut page = suppliers_page(&state, ctx, &ListQuery::default()).await?;
            page.form = input;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/supplier.html")]
struct SupplierPage {
    ctx: Ctx,
    supplier: Supplier,
    form: SupplierInput,
    errors: FieldErrors,
}

fn supplier_form(s: &Supplier) -> SupplierInput {
    SupplierInput {
        name: s.name.clone(),
        country: s.country.clone(),
        currency: s.currency.clone(),
        lead_time_days: Some(s.lead_time_days.to_string()),
        payment_terms: s.payment_terms.clone(),
        contact: s.contact.clone(),
        notes: s.notes.clone(),
    }
}

async fn show_supplier(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<SupplierPage> {
    let supplier = repo::get_supplier(&state.db, id).await?;
    Ok(SupplierPage {
        ctx: ctx.section("procurement"),
        form: supplier_form(&supplier),
        supplier,
        errors: FieldErrors::default(),
    })
}

async fn update_supplier(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<SupplierInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match service::update_supplier(&state.db, &user.actor(), id, &input).await {
        Ok(()) => Ok(see_other(
            &format!("/procurement/suppliers/{id}"),
            Some("saved"),
        )),
        Err(AppError::Validation(errors)) => {
            let supplier = repo::get_supplier(&state.db, id).await?;
            let page = SupplierPage {
                ctx: ctx.section("procurement"),
                supplier,
                form: input,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/parts.html")]
struct PartsPage {
    ctx: Ctx,
    rows: Vec<PartModel>,
    q: String,
    category: String,
    sort: String,
    categories: &'static [&'static str],
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    form: PartModelInput,
    errors: FieldErrors,
}

async fn parts_page(state: &AppState, ctx: Ctx, q: &ListQuery) -> AppResult<PartsPage> {
    let pager = q.pager();
    let category = q.category.as_deref().filter(|c| !c.is_empty());
    let sort = q.sort.clone().unwrap_or_else(|| "category".into());
    let (rows, total) = repo::list_part_models_sorted(
        &state.db,
        q.search(),
        category,
        &sort,
        pager.limit(),
        pager.offset(),
    )
    .await?;
    let show_money = ctx.can_money();
    let base = serde_urlencoded::to_string([
        ("q", q.search().unwrap_or("")),
        ("category", category.unwrap_or("")),
        ("sort", sort.as_str()),
    ])
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(PartsPage {
        rows: rows.into_iter().map(|r| r.view(show_money)).collect(),
        q: q.search().unwrap_or_default().to_owned(),
        category: category.unwrap_or_default().to_owned(),
        sort,
        categories: &CATEGORIES,
        page: pager.page(),
        pages: pager.pages(total),
        total,
        base: format!("/procurement/parts?{base}&"),
        form: PartModelInput {
            last_price_currency: Some("USD".into()),
            ..PartModelInput::default()
        },
        errors: FieldErrors::default(),
        ctx: ctx.section("procurement"),
    })
}

async fn list_parts(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<PartsPage> {
    parts_page(&state, ctx, &q).await
}

async fn create_part(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Form(input): Form<PartModelInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match service::create_part_model(&state.db, &user.actor(), &input).await {
        Ok(_) => Ok(see_other("/procurement/parts", Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = parts_page(&state, ctx, &ListQuery::default()).await?;
            page.form = input;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/part.html")]
struct PartPage {
    ctx: Ctx,
    part: PartModel,
    categories: &'static [&'static str],
    hints: &'static [&'static str],
    form: PartModelInput,
    errors: FieldErrors,
}

async fn show_part(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> AppResult<PartPage> {
    let part = repo::get_part_model(&state.db, id)
        .await?
        .view(ctx.can_money());
    Ok(PartPage {
        form: PartModelInput::from_model(&part),
        hints: crate::procurement::model::spec_fields(&part.category),
        part,
        categories: &CATEGORIES,
        errors: FieldErrors::default(),
        ctx: ctx.section("procurement"),
    })
}

async fn update_part(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(input): Form<PartModelInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match service::update_part_model(&state.db, &user.actor(), id, &input).await {
        Ok(()) => Ok(see_other(
            &format!("/procurement/parts/{id}"),
            Some("saved"),
        )),
        Err(AppError::Validation(errors)) => {
            let part = repo::get_part_model(&state.db, id).await?.view(true);
            let hints = crate::procurement::model::spec_fields(&part.category);
            let page = PartPage {
                ctx: ctx.section("procurement"),
                part,
                categories: &CATEGORIES,
                hints,
                form: input,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}
