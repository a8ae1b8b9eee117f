//! Pages of `/cost`: overview, asset breakdown, reports (charts, tables) and
//! their downloads. Forms are in `forms_web.rs`. Everything needs `ViewMoney`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;

use crate::auth::{CurrentUser, Permission};
use crate::cost::charts::{self, COMPONENTS, Chart};
use crate::cost::repo::ParamsRow;
use crate::cost::reports::{self, NAMES};
use crate::cost::service::{self, ReportQuery, Scenario};
use crate::cost::views::ReportView;
use crate::error::{AppError, AppResult};
use crate::export::{self, Table};
use crate::i18n::Msg;
use crate::web::AppState;
use crate::web::Ctx;

/// Cost routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cost", get(overview))
        .route("/cost/assets", get(assets))
        .route("/cost/reports", get(reports_page))
        .route("/cost/reports/{file}", get(download))
        .route(
            "/cost/reports/{day}/{scenario}/{file}",
            get(download_what_if),
        )
}

/// What every cost page shows above its content.
pub struct Heading {
    /// Day computed for.
    pub day: String,
    /// Version in force.
    pub version: Option<ParamsRow>,
    /// Scenario applied.
    pub scenario: Option<Scenario>,
    /// Saved scenarios, for the picker.
    pub scenarios: Vec<Scenario>,
}

impl Heading {
    /// Where this page's exports are: their path names the day and the
    /// scenario (`/cost/reports/2026-12-07/3`, or `.../baseline`), so a
    /// download is always of the figures on the page.
    pub fn export_base(&self) -> String {
        match &self.scenario {
            Some(s) => format!("/cost/reports/{}/{}", self.day, s.id),
            None => format!("/cost/reports/{}/baseline", self.day),
        }
    }
}

/// Computes the report a query asks for, with its heading and views.
pub(super) async fn load(
    state: &AppState,
    q: &ReportQuery,
) -> AppResult<(Heading, ReportView, service::Report)> {
    let base = state.config.base();
    let (report, scenario) = service::report_for(&state.db, base, q).await?;
    let heading = Heading {
        day: report.day.to_string(),
        version: report.version.clone(),
        scenario,
        scenarios: service::scenarios(&state.db).await?,
    };
    Ok((heading, ReportView::new(&report, base), report))
}

#[derive(Template, WebTemplate)]
#[template(path = "cost/overview.html")]
struct OverviewPage {
    ctx: Ctx,
    h: Heading,
    v: ReportView,
    /// Only the tiers losing money are listed (`margin=negative`).
    losing_only: bool,
}

/// `margin=negative` lists only the tiers losing money (the manager's home
/// links there with their count).
#[derive(serde::Deserialize, Default)]
struct TierFilter {
    margin: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
    Query(f): Query<TierFilter>,
) -> AppResult<OverviewPage> {
    user.require(Permission::ViewMoney)?;
    let (h, mut v, _) = load(&state, &q).await?;
    let losing_only = f.margin.as_deref() == Some("negative");
    if losing_only {
        v.tiers.retain(|t| t.losing);
    }
    Ok(OverviewPage {
        ctx: ctx.section("cost"),
        h,
        v,
        losing_only,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "cost/assets.html")]
struct AssetsPage {
    ctx: Ctx,
    h: Heading,
    v: ReportView,
    /// (asset id, watts, measured) per asset, in the order of `v.assets`.
    power: Vec<(String, bool)>,
}

async fn assets(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> AppResult<AssetsPage> {
    user.require(Permission::ViewMoney)?;
    let (h, v, r) = load(&state, &q).await?;
    Ok(AssetsPage {
        ctx: ctx.section("cost"),
        h,
        v,
        power: r
            .assets
            .iter()
            .map(|a| (a.watts.normalize().to_string(), a.measured))
            .collect(),
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "cost/reports.html")]
struct ReportsPage {
    ctx: Ctx,
    h: Heading,
    charts: Vec<Chart>,
    legend: [(&'static str, &'static str); 5],
    reports: Vec<(&'static str, Table)>,
}

async fn reports_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> AppResult<ReportsPage> {
    user.require(Permission::ViewMoney)?;
    let (h, v, _) = load(&state, &q).await?;
    let charts = vec![
        charts::stacked("chart-template", "cost.by_template", &v.by_template),
        charts::stacked("chart-site", "cost.by_site", &v.by_site),
        charts::stacked("chart-kind", "cost.by_kind", &v.by_kind),
    ];
    let mut out = Vec::new();
    for name in NAMES.iter().skip(3) {
        if let Some(t) =
            reports::by_name(&state.db, name, &v, ctx.lang, state.config.base()).await?
        {
            out.push((*name, t));
        }
    }
    Ok(ReportsPage {
        ctx: ctx.section("cost"),
        h,
        charts,
        legend: COMPONENTS,
        reports: out,
    })
}

async fn download(
    state: State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(file): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    export(state, ctx, user, file, q).await
}

/// A report of one day under one scenario (`baseline` for none).
async fn download_what_if(
    state: State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path((day, scenario, file)): Path<(String, String, String)>,
) -> AppResult<Response> {
    let scenario = match scenario.as_str() {
        "baseline" => None,
        id => Some(id.parse::<i64>().map_err(|_| AppError::NotFound)?),
    };
    let q = ReportQuery {
        date: Some(day),
        traffic_gb: None,
        scenario,
    };
    export(state, ctx, user, file, q).await
}

/// The report `file` (`tiers.xlsx`) as computed for `q`: the scenario and the
/// day are in its file name and in its first row.
async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    file: String,
    q: ReportQuery,
) -> AppResult<Response> {
    user.require(Permission::ViewMoney)?;
    let (name, ext) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    let (h, v, _) = load(&state, &q).await?;
    let table = reports::by_name(&state.db, name, &v, ctx.lang, state.config.base())
        .await?
        .ok_or(AppError::NotFound)?;
    let (title, stem) = match &h.scenario {
        Some(s) => (
            Msg::new("cost.export_scenario")
                .arg("name", &s.name)
                .arg("day", &h.day),
            format!(
                "rackledger-cost-{name}-scenario-{}-{}{}",
                s.id,
                slug(&s.name).map_or_else(String::new, |w| format!("{w}-")),
                h.day
            ),
        ),
        None => (
            Msg::new("cost.export_baseline").arg("day", &h.day),
            format!("rackledger-cost-{name}-baseline-{}", h.day),
        ),
    };
    export::titled_attachment(&table, ext, &stem, Some(&title.render(ctx.lang)))
}

/// The ASCII letters and digits of a name, lower case, words joined by `-`
/// (`DIMM prices fall 20%` → `dimm-prices-fall-20`); none for a Korean name.
fn slug(name: &str) -> Option<String> {
    let s: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .take(40)
        .collect();
    let s = s.trim_end_matches('-');
    (!s.is_empty()).then(|| s.to_owned())
}
