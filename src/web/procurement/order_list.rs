//! The list of purchase orders: filters, sort and download.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::{AppResult, FieldErrors};
use crate::export::{Cell, Table};
use crate::procurement::fx;
use crate::procurement::orders::{PoInput, STATUSES};
use crate::procurement::orders_repo::{self as repo, PoRow};
use crate::web::AppState;
use crate::web::Ctx;
use crate::web::list::{self, ListParams, ListState};

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

impl ListQuery {
    fn search(&self) -> Option<&str> {
        self.q.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    fn status(&self) -> Option<&'static str> {
        let s = self.status.as_deref()?;
        STATUSES
            .iter()
            .chain(repo::DUE_FILTERS.iter())
            .copied()
            .find(|x| *x == s)
    }
    fn list(&self) -> ListState {
        ListState::new(
            "/procurement/orders",
            &[
                ("q", self.search().unwrap_or("")),
                ("status", self.status().unwrap_or("")),
            ],
            repo::PO_SORTS,
            &self.list,
        )
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "procurement/orders.html")]
pub(super) struct OrdersPage {
    ctx: Ctx,
    rows: Vec<PoRow>,
    q: String,
    status: String,
    statuses: &'static [&'static str],
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    list: ListState,
    suppliers: Vec<crate::procurement::Supplier>,
    pub(super) form: PoInput,
    pub(super) errors: FieldErrors,
}

pub(super) async fn orders_page(
    state: &AppState,
    ctx: Ctx,
    q: &ListQuery,
) -> AppResult<OrdersPage> {
    let list = q.list();
    let pager = list.pager;
    let search = q.search();
    let status = q.status();
    let (rows, total) = repo::list_pos_sorted(
        &state.db,
        search,
        status,
        &list.sort,
        pager.limit(),
        pager.offset(),
    )
    .await?;
    let (suppliers, _) =
        crate::procurement::repo::list_suppliers(&state.db, None, "name", 500, 0).await?;
    Ok(OrdersPage {
        ctx: ctx.section("procurement"),
        rows,
        q: search.unwrap_or_default().into(),
        status: status.unwrap_or_default().into(),
        statuses: &STATUSES,
        page: pager.page(),
        pages: pager.pages(total),
        total,
        base: list.base(),
        list,
        suppliers,
        form: PoInput {
            fx_rate_date: Some(fx::today().to_string()),
            ..PoInput::default()
        },
        errors: FieldErrors::default(),
    })
}

pub(super) async fn list_orders(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let choices: Vec<&str> = STATUSES
        .iter()
        .chain(repo::DUE_FILTERS.iter())
        .copied()
        .collect();
    crate::web::pager::filter_choice("status", q.status.as_deref(), &choices)?;
    let list = q.list();
    if let Some(ext) = &list.download {
        let (limit, offset) = list.window();
        let (rows, _) =
            repo::list_pos_sorted(&state.db, q.search(), q.status(), &list.sort, limit, offset)
                .await?;
        return list::download(&ctx, &orders_table(&ctx, rows), ext, "orders");
    }
    Ok(orders_page(&state, ctx, &q).await?.into_response())
}

/// The orders as a download; the exchange rate only for those who see money.
fn orders_table(ctx: &Ctx, rows: Vec<PoRow>) -> Table {
    let money = ctx.can_money();
    let mut headers: Vec<String> = [
        "po.number",
        "po.supplier",
        "po.status",
        "suppliers.currency",
        "po.order_date",
        "po.expected_date",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    if money {
        headers.push(ctx.t("po.fx_rate").to_owned());
    }
    let date = |d: Option<time::Date>| Cell::Text(d.map(|d| d.to_string()).unwrap_or_default());
    let rows = rows
        .into_iter()
        .map(|o| {
            let mut r = vec![
                Cell::Text(o.number),
                o.supplier_name.into(),
                ctx.tk("po_status", &o.status).into(),
                o.currency.into(),
                date(o.order_date),
                date(o.expected_date),
            ];
            if money {
                r.push(Cell::Decimal(o.fx_rate.0));
            }
            r
        })
        .collect();
    Table {
        name: ctx.t("nav.orders").to_owned(),
        headers,
        rows,
    }
}
