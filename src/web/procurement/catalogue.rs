//! Pages of `/procurement`: suppliers and the part catalogue.

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
use crate::export::{Cell, Table};
use crate::procurement::model::{CATEGORIES, PartModel, PartModelInput, Supplier, SupplierInput};
use crate::procurement::{repo, service};
use crate::web::AppState;
use crate::web::list::{self, ListParams, ListState};
use crate::web::{Checked, Ctx, see_other, unless_refused};

/// Supplier and catalogue pages.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditProcurement],
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
            .route("/procurement/parts/{id}", get(show_part).post(update_part)),
    )
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    category: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

impl ListQuery {
    fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// The list parameters, where sorting by `updated` means newest first.
    fn params(&self) -> ListParams {
        let mut p = self.list.clone();
        if p.sort.as_deref() == Some("updated") {
            p.sort = Some("-updated".into());
        }
        p
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
    list: ListState,
    form: SupplierInput,
    errors: FieldErrors,
}

fn suppliers_list(q: &ListQuery) -> ListState {
    ListState::new(
        "/procurement/suppliers",
        &[("q", q.search().unwrap_or(""))],
        repo::SUPPLIER_SORTS,
        &q.params(),
    )
}

async fn suppliers_page(state: &AppState, ctx: Ctx, q: &ListQuery) -> AppResult<SuppliersPage> {
    let list = suppliers_list(q);
    let pager = list.pager;
    let sort = list.sort.param();
    let (rows, total) =
        repo::list_suppliers(&state.db, q.search(), &sort, pager.limit(), pager.offset()).await?;
    Ok(SuppliersPage {
        ctx: ctx.section("procurement"),
        rows,
        q: q.search().unwrap_or_default().to_owned(),
        sort,
        page: pager.page(),
        pages: pager.pages(total),
        total,
        base: list.base(),
        list,
        form: SupplierInput {
            currency: "USD".into(),
            ..SupplierInput::default()
        },
        errors: FieldErrors::default(),
    })
}

/// The suppliers as a download (no money in them).
fn suppliers_table(ctx: &Ctx, rows: &[Supplier]) -> Table {
    let headers = [
        "suppliers.name",
        "suppliers.country",
        "suppliers.currency",
        "suppliers.lead_time_days",
        "suppliers.payment_terms",
        "suppliers.contact",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let rows = rows
        .iter()
        .map(|s| {
            vec![
                Cell::from(s.name.as_str()),
                s.country.as_str().into(),
                s.currency.as_str().into(),
                Cell::Int(i64::from(s.lead_time_days)),
                s.payment_terms.as_str().into(),
                s.contact.as_str().into(),
            ]
        })
        .collect();
    Table {
        name: ctx.t("nav.suppliers").to_owned(),
        headers,
        rows,
    }
}

async fn list_suppliers(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let list = suppliers_list(&q);
    if let Some(ext) = &list.download {
        let (limit, offset) = list.window();
        let (rows, _) =
            repo::list_suppliers(&state.db, q.search(), &list.sort.param(), limit, offset).await?;
        return list::download(&ctx, &suppliers_table(&ctx, &rows), ext, "suppliers");
    }
    Ok(suppliers_page(&state, ctx, &q).await?.into_response())
}

async fn create_supplier(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<SupplierInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match unless_refused(
        &refused,
        service::create_supplier(&state.db, &user.actor(), &input),
    )
    .await
    {
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
    Checked { input, refused }: Checked<SupplierInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match unless_refused(
        &refused,
        service::update_supplier(&state.db, &user.actor(), id, &input),
    )
    .await
    {
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
    list: ListState,
    form: PartModelInput,
    errors: FieldErrors,
}

/// The part list's state; the last price sorts only for roles that see money.
fn parts_list(q: &ListQuery, money: bool) -> ListState {
    ListState::new(
        "/procurement/parts",
        &[
            ("q", q.search().unwrap_or("")),
            ("category", q.category.as_deref().unwrap_or("")),
        ],
        &crate::db::sort::without(
            repo::PART_SORTS,
            if money { &[] } else { repo::PART_MONEY_SORTS },
        ),
        &q.params(),
    )
}

async fn parts_page(state: &AppState, ctx: Ctx, q: &ListQuery) -> AppResult<PartsPage> {
    let list = parts_list(q, ctx.can_money());
    let pager = list.pager;
    let category =
        crate::web::pager::filter_choice("category", q.category.as_deref(), &CATEGORIES)?;
    let sort = list.sort.param();
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
    Ok(PartsPage {
        rows: rows.into_iter().map(|r| r.view(show_money)).collect(),
        q: q.search().unwrap_or_default().to_owned(),
        category: category.unwrap_or_default().to_owned(),
        sort,
        categories: &CATEGORIES,
        page: pager.page(),
        pages: pager.pages(total),
        total,
        base: list.base(),
        list,
        form: PartModelInput {
            last_price_currency: Some("USD".into()),
            ..PartModelInput::default()
        },
        errors: FieldErrors::default(),
        ctx: ctx.section("procurement"),
    })
}

/// The part models as a download; the last price only for those who see money.
fn parts_table(ctx: &Ctx, rows: Vec<PartModel>) -> Table {
    let money = ctx.can_money();
    let mut headers: Vec<String> = [
        "parts.category",
        "parts.manufacturer",
        "parts.mpn",
        "parts.description",
        "parts.specs",
        "parts.tracking",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    if money {
        headers.push(ctx.t("parts.last_price").to_owned());
        headers.push(ctx.t("suppliers.currency").to_owned());
    }
    let rows = rows
        .into_iter()
        .map(|p| {
            let tracking = if p.serial_tracked {
                "parts.by_serial"
            } else {
                "parts.by_quantity"
            };
            let mut r = vec![
                Cell::Text(ctx.tk("category", &p.category)),
                p.manufacturer.into(),
                p.mpn.into(),
                p.description.into(),
                p.specs.summary().into(),
                ctx.t(tracking).into(),
            ];
            if money {
                match p.last_price {
                    Some(m) => {
                        r.push(Cell::Decimal(m.amount));
                        r.push(m.currency.code().into());
                    }
                    None => r.extend([Cell::from(""), Cell::from("")]),
                }
            }
            r
        })
        .collect();
    Table {
        name: ctx.t("nav.catalogue").to_owned(),
        headers,
        rows,
    }
}

async fn list_parts(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let list = parts_list(&q, ctx.can_money());
    let category =
        crate::web::pager::filter_choice("category", q.category.as_deref(), &CATEGORIES)?;
    if let Some(ext) = &list.download {
        let (limit, offset) = list.window();
        let (rows, _) = repo::list_part_models_sorted(
            &state.db,
            q.search(),
            category,
            &list.sort.param(),
            limit,
            offset,
        )
        .await?;
        let money = ctx.can_money();
        let rows = rows.into_iter().map(|r| r.view(money)).collect();
        return list::download(&ctx, &parts_table(&ctx, rows), ext, "parts");
    }
    Ok(parts_page(&state, ctx, &q).await?.into_response())
}

async fn create_part(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked { input, refused }: Checked<PartModelInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match unless_refused(
        &refused,
        service::create_part_model(&state.db, &user.actor(), &input),
    )
    .await
    {
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
    Checked { input, refused }: Checked<PartModelInput>,
) -> AppResult<Response> {
    user.require(Permission::EditProcurement)?;
    match unless_refused(
        &refused,
        service::update_part_model(&state.db, &user.actor(), id, &input),
    )
    .await
    {
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
