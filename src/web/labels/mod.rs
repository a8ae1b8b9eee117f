//! `/labels`: one label as SVG, or a print page of many (A4 sheet or 62 mm roll).
//! Anyone who may read inventory may print labels; they carry no money.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::i18n::Msg;
use crate::labels::layout::{self, Format, LabelView};
use crate::labels::source::{self, ReceiptRow, Selection};
use crate::web::AppState;
use crate::web::Ctx;

/// Label routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/labels", get(print_page))
        .route("/labels/assets/{file}", get(asset_svg))
        .route("/labels/units/{file}", get(unit_svg))
}

#[derive(Deserialize, Default)]
struct SvgQuery {
    size: Option<String>,
}

#[derive(Template)]
#[template(path = "labels/label.svg")]
struct LabelSvg {
    l: LabelView,
}

fn svg_id(file: &str) -> AppResult<i64> {
    file.strip_suffix(".svg")
        .unwrap_or(file)
        .parse()
        .map_err(|_| AppError::NotFound)
}

fn svg_format(q: &SvgQuery) -> AppResult<Format> {
    match q.size.as_deref() {
        None => Ok(Format::Roll62x29),
        Some(s) => Format::parse(s).ok_or(AppError::NotFound),
    }
}

fn svg_response(label: &source::Label, format: Format) -> AppResult<Response> {
    let body = LabelSvg {
        l: layout::layout(label, format)?,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

async fn asset_svg(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<SvgQuery>,
) -> AppResult<Response> {
    let base = state.config.public_base();
    let label = source::asset_label(&state.db, &base, svg_id(&file)?).await?;
    svg_response(&label, svg_format(&q)?)
}

async fn unit_svg(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<SvgQuery>,
) -> AppResult<Response> {
    let base = state.config.public_base();
    let sel = Selection {
        units: vec![svg_id(&file)?],
        ..Selection::default()
    };
    let label = source::batch(&state.db, &base, &sel)
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    svg_response(&label, svg_format(&q)?)
}

#[derive(Template, WebTemplate)]
#[template(path = "labels/print.html")]
struct PrintPage {
    ctx: Ctx,
    format: &'static str,
    page_size: &'static str,
    /// The selection as a query string, without the format.
    query: String,
    count: usize,
    pages: Vec<Vec<LabelView>>,
    order: Option<i64>,
    receipts: Vec<ReceiptRow>,
    /// The sheets a big receipt or order prints as: (batch number from 1,
    /// first label, last label); empty when one sheet holds them all.
    batches: Vec<(usize, i64, i64)>,
    /// The batch shown, from 1.
    batch: usize,
    /// The selection as a query string, without the format and the batch.
    batch_query: String,
    /// How many labels: the count, or `2000 of 2500` for one batch of several.
    count_label: String,
    /// When the batch asked for is past the last: what to say and the link
    /// to the last batch.
    past_end: Option<(Msg, String)>,
}

/// The batches of `total` labels, [`source::MAX_LABELS`] each, when more than one.
fn batches(total: i64) -> Vec<(usize, i64, i64)> {
    let size = i64::try_from(source::MAX_LABELS).unwrap_or(i64::MAX);
    if total <= size {
        return Vec::new();
    }
    (0..(total + size - 1) / size)
        .map(|b| {
            (
                usize::try_from(b).unwrap_or(0) + 1,
                b * size + 1,
                ((b + 1) * size).min(total),
            )
        })
        .collect()
}

/// Reads `asset=1&asset=2` or `assets=1,2` (and `unit(s)`, `receipt`,
/// `order`, `assembly`, `format`); an id that is not a number is `NotFound`.
fn parse_query(pairs: &[(String, String)]) -> AppResult<(Selection, Format, String)> {
    let mut sel = Selection::default();
    let mut format = Format::A4;
    let mut query = Vec::new();
    let ids = |v: &str| -> AppResult<Vec<i64>> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|_| AppError::NotFound))
            .collect()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "asset" | "assets" => sel.assets.extend(ids(v)?),
            "unit" | "units" => sel.units.extend(ids(v)?),
            "receipt" => sel.receipt = ids(v)?.pop(),
            "order" => sel.order = ids(v)?.pop(),
            "assembly" => sel.assembly = ids(v)?.pop(),
            "format" => {
                format = Format::parse(v).ok_or(AppError::NotFound)?;
                continue;
            }
            "batch" => {
                let n: usize = v.trim().parse().map_err(|_| AppError::NotFound)?;
                sel.batch = n.saturating_sub(1);
            }
            _ => continue,
        }
        query.push((k.clone(), v.clone()));
    }
    let query = serde_urlencoded::to_string(&query).map_err(|e| AppError::Internal(e.into()))?;
    Ok((sel, format, query))
}

async fn print_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(pairs): Query<Vec<(String, String)>>,
) -> AppResult<PrintPage> {
    let (sel, format, query) = parse_query(&pairs)?;
    let base = state.config.public_base();
    let total = source::batch_total(&state.db, &sel).await?;
    let batches = batches(total);
    let batch_query = serde_urlencoded::to_string(
        pairs
            .iter()
            .filter(|(k, _)| k != "batch" && k != "format")
            .collect::<Vec<_>>(),
    )
    .map_err(|e| AppError::Internal(e.into()))?;
    let last = batches.len().max(1);
    let past_end = (total > 0 && sel.batch >= last).then(|| {
        (
            Msg::new("ops2.batch_past_end")
                .arg("batch", sel.batch + 1)
                .arg("last", last),
            format!(
                "/labels?{batch_query}&batch={last}&format={}",
                format.code()
            ),
        )
    });
    let labels = source::batch(&state.db, &base, &sel).await?;
    let views = labels
        .iter()
        .map(|l| layout::layout(l, format))
        .collect::<AppResult<Vec<_>>>()?;
    let count_label = if batches.is_empty() {
        views.len().to_string()
    } else {
        ctx.msg(
            &Msg::new("ops2.count_of")
                .arg("count", views.len())
                .arg("total", total),
        )
    };
    let per_page = if format == Format::A4 { 24 } else { 1 };
    let order = match (sel.order, sel.receipt) {
        (Some(o), _) => Some(o),
        (None, Some(r)) => Some(source::order_of_receipt(&state.db, r).await?),
        _ => None,
    };
    let receipts = match order {
        Some(o) => source::receipts_of_order(&state.db, o).await?,
        None => Vec::new(),
    };
    Ok(PrintPage {
        format: format.code(),
        page_size: match format {
            Format::A4 => "A4",
            Format::Roll62x29 => "62mm 29mm",
            Format::Roll62x100 => "62mm 100mm",
        },
        query,
        count: views.len(),
        pages: views.chunks(per_page).map(<[LabelView]>::to_vec).collect(),
        order,
        receipts,
        batches,
        batch: sel.batch + 1,
        batch_query,
        count_label,
        past_end,
        ctx: ctx.section("inventory"),
    })
}
