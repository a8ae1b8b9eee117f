//! History of a record: the audit rows naming a unit, asset, order or rack as
//! a field-by-field diff in the reader's words, and an asset's readings over
//! a day, week or month as SVG charts.

pub mod chart;
pub mod diff;
pub mod fields;
mod view;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::Deserialize;

use crate::audit;
use crate::datacenter::racks;
use crate::error::AppResult;
use crate::inventory::{assets, units};
use crate::procurement::orders_repo as po_repo;
use crate::web::{AppState, Ctx, Pager};

pub use view::{Charts, Entry, asset_charts, entries, kind_name};

/// History tabs and the readings page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory/units/{id}/history", get(unit_history))
        .route("/inventory/assets/{id}/history", get(asset_history))
        .route("/inventory/assets/{id}/readings", get(readings))
        .route("/procurement/orders/{id}/history", get(order_history))
        .route("/datacenter/racks/{id}/history", get(rack_history))
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

impl PageQuery {
    fn pager(&self) -> Pager {
        Pager {
            page: self.page.unwrap_or(1),
            per_page: 25,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "history/record.html")]
struct HistoryPage {
    ctx: Ctx,
    title: String,
    back: String,
    entries: Vec<Entry>,
    page: i64,
    pages: i64,
    total: i64,
    base: String,
}

/// The history page of the record at `back`, from the audit rows naming
/// any of `records`.
async fn history_page(
    state: &AppState,
    ctx: Ctx,
    section: &'static str,
    title: String,
    back: String,
    records: &[(&str, String)],
    q: &PageQuery,
) -> AppResult<HistoryPage> {
    let pager = q.pager();
    let (rows, total) =
        audit::for_records(&state.db, records, pager.limit(), pager.offset()).await?;
    page_of(state, ctx, section, title, back, &rows, total, q).await
}

/// The history page of the record at `back` showing `rows`, one page of `total`.
#[allow(clippy::too_many_arguments)]
async fn page_of(
    state: &AppState,
    ctx: Ctx,
    section: &'static str,
    title: String,
    back: String,
    rows: &[audit::AuditEntry],
    total: i64,
    q: &PageQuery,
) -> AppResult<HistoryPage> {
    let pager = q.pager();
    let entries = view::entries(state, &ctx, rows).await?;
    Ok(HistoryPage {
        ctx: ctx.section(section),
        title,
        base: format!("{back}/history?"),
        back,
        entries,
        page: pager.page(),
        pages: pager.pages(total),
        total,
    })
}

async fn unit_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<HistoryPage> {
    let unit = units::get(&state.db, id).await?;
    let back = format!("/inventory/units/{id}");
    let pager = q.pager();
    let (rows, total) = units::history(&state.db, id, pager.limit(), pager.offset()).await?;
    page_of(
        &state,
        ctx,
        "inventory",
        unit.serial,
        back,
        &rows,
        total,
        &q,
    )
    .await
}

async fn asset_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<HistoryPage> {
    let asset = assets::get(&state.db, id).await?;
    let back = format!("/inventory/assets/{id}");
    // A placement is audited under the asset's id.
    let records = [("asset", id.to_string()), ("placement", id.to_string())];
    history_page(
        &state,
        ctx,
        "inventory",
        asset.asset_tag,
        back,
        &records,
        &q,
    )
    .await
}

async fn order_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<HistoryPage> {
    let po = po_repo::get_po(&state.db, id).await?;
    // Lines and extra costs are audited under their own ids: those still on
    // the order by id, and any, deleted ones too, by the order their
    // snapshots name (key order depends on serde_json's features).
    let mut records = vec![("purchase_order", id.to_string())];
    for l in po_repo::lines(&state.db, id).await? {
        records.push(("po_line", l.id.to_string()));
    }
    for c in po_repo::costs(&state.db, id).await? {
        records.push(("po_cost", c.id.to_string()));
    }
    let mut mentions = Vec::new();
    for entity in ["po_line", "po_cost"] {
        for end in [',', '}'] {
            mentions.push((entity, format!("\"po_id\":{id}{end}")));
        }
    }
    let back = format!("/procurement/orders/{id}");
    let pager = q.pager();
    let (rows, total) = audit::for_records_and_mentions(
        &state.db,
        &records,
        &mentions,
        pager.limit(),
        pager.offset(),
    )
    .await?;
    page_of(
        &state,
        ctx,
        "procurement",
        po.number,
        back,
        &rows,
        total,
        &q,
    )
    .await
}

async fn rack_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> AppResult<HistoryPage> {
    let rack = racks::get(&state.db, id).await?;
    let back = format!("/datacenter/racks/{id}");
    let records = [("rack", id.to_string())];
    history_page(&state, ctx, "datacenter", rack.path(), back, &records, &q).await
}

#[derive(Deserialize)]
struct RangeQuery {
    range: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "history/readings.html")]
struct ReadingsPage {
    ctx: Ctx,
    tag: String,
    readings: Charts,
}

async fn readings(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<RangeQuery>,
) -> AppResult<ReadingsPage> {
    let asset = assets::get(&state.db, id).await?;
    let range = chart::Range::parse(q.range.as_deref());
    let readings = asset_charts(&state, &ctx, id, range).await?;
    Ok(ReadingsPage {
        ctx: ctx.section("inventory"),
        tag: asset.asset_tag,
        readings,
    })
}
