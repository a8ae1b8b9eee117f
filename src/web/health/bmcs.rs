//! `/health/bmcs`: every BMC on record, filtered, sorted and downloadable.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::AppResult;
use crate::export::{Cell, Table};
use crate::health::fleet::{self, BmcRow};
use crate::web::list::{self, ListParams, ListState};
use crate::web::{AppState, Ctx};

#[derive(Deserialize, Default)]
pub(super) struct BmcQuery {
    q: Option<String>,
    #[serde(flatten)]
    list: ListParams,
}

#[derive(Template, WebTemplate)]
#[template(path = "health/bmcs.html")]
struct BmcsPage {
    ctx: Ctx,
    rows: Vec<BmcRow>,
    q: String,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
    list: ListState,
}

pub(super) async fn list_bmcs(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<BmcQuery>,
) -> AppResult<Response> {
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let list = ListState::new(
        "/health/bmcs",
        &[("q", search.unwrap_or(""))],
        fleet::BMC_SORTS,
        &q.list,
    );
    let (limit, offset) = list.window();
    let (rows, total) = fleet::bmcs(&state.db, search, &list.sort, limit, offset).await?;
    if let Some(ext) = &list.download {
        return list::download(&ctx, &bmcs_table(&ctx, &rows), ext, "bmcs");
    }
    Ok(BmcsPage {
        ctx: ctx.section("health"),
        rows,
        q: search.unwrap_or_default().to_owned(),
        page: list.pager.page(),
        pages: list.pager.pages(total),
        total,
        base: list.base(),
        list,
    }
    .into_response())
}

/// The BMCs as a download (no money, no secrets; times in the user's zone,
/// named in the header).
fn bmcs_table(ctx: &Ctx, rows: &[BmcRow]) -> Table {
    let headers = [
        "wo.asset",
        "list2.bmc_url",
        "health.username",
        "health.tls_policy",
        "list2.bmc_enabled",
        "health.failures",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .chain([list::zoned_header(ctx, "list2.last_success")])
    .collect();
    let rows = rows
        .iter()
        .map(|b| {
            let last = b
                .last_success_at
                .map(|t| list::zoned_time(ctx, &t))
                .unwrap_or_default();
            vec![
                Cell::Text(b.asset_tag.clone()),
                b.url.clone().into(),
                b.username.clone().into(),
                ctx.tk("health.tls", &b.tls_policy).into(),
                ctx.t(if b.enabled { "list2.yes" } else { "list2.no" })
                    .into(),
                Cell::Int(b.consecutive_failures),
                last.into(),
            ]
        })
        .collect();
    Table {
        name: ctx.t("health.bmcs").to_owned(),
        headers,
        rows,
    }
}
