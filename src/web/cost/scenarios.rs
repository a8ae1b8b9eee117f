//! Scenario pages: create and name what-ifs, and see one beside the baseline.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use rust_decimal::Decimal;

use super::overview::{Heading, load};
use crate::auth::{CurrentUser, Permission};
use crate::cost::catalog;
use crate::cost::scenario::Overrides;
use crate::cost::service::{self, ReportQuery};
use crate::cost::views::{self, Delta, ReportView};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::inventory::templates::ASSET_KINDS;
use crate::web::AppState;
use crate::web::{Ctx, see_other};

/// Scenario routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cost/scenarios", get(scenarios_page).post(add_scenario))
        .route("/cost/scenarios/{id}", get(scenario_page))
}

type Fields = HashMap<String, String>;

#[derive(Template, WebTemplate)]
#[template(path = "cost/scenarios.html")]
struct ScenariosPage {
    ctx: Ctx,
    scenarios: Vec<service::Scenario>,
    categories: &'static [&'static str],
    kinds: [&'static str; 5],
    form: Fields,
    errors: FieldErrors,
}

impl ScenariosPage {
    fn v(&self, key: &str) -> String {
        self.form.get(key).cloned().unwrap_or_default()
    }
}

async fn scenarios_view(state: &AppState, ctx: Ctx) -> AppResult<ScenariosPage> {
    Ok(ScenariosPage {
        scenarios: service::scenarios(&state.db).await?,
        categories: &crate::procurement::model::CATEGORIES,
        kinds: ASSET_KINDS,
        form: Fields::new(),
        errors: FieldErrors::default(),
        ctx: ctx.section("cost"),
    })
}

async fn scenarios_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
) -> AppResult<ScenariosPage> {
    user.require(Permission::ViewMoney)?;
    scenarios_view(&state, ctx).await
}

/// Overrides from the scenario form; unparsable numbers are field errors.
fn overrides(f: &Fields, e: &mut FieldErrors) -> Overrides {
    let g = |k: &str| {
        f.get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let mut dec = |k: &str| g(k).map(|v| catalog::decimal(k, &v, e));
    let mut ov = Overrides {
        electricity_per_kwh: dec("electricity_per_kwh"),
        utilisation: dec("utilisation"),
        cpu_overcommit: dec("cpu_overcommit"),
        ram_overcommit: dec("ram_overcommit"),
        ..Overrides::default()
    };
    if let (Some(c), Some(r)) = (g("fx_currency"), g("fx_rate")) {
        ov.fx_rates
            .insert(c.to_ascii_uppercase(), catalog::rate("fx_rate", &r, e));
    }
    if let (Some(c), Some(p)) = (g("pct_category"), g("pct")) {
        match p.parse::<Decimal>() {
            Ok(d) if d > Decimal::from(-100) => {
                ov.part_price_pct.insert(c, d);
            }
            _ => e.add("pct", crate::i18n::Msg::new("validation.price")),
        }
    }
    if let (Some(k), Some(m)) = (g("dep_kind"), g("dep_months")) {
        let n = catalog::whole("dep_months", &m, 1, e);
        ov.depreciation_months
            .insert(k, u32::try_from(n).unwrap_or(0));
    }
    ov
}

async fn add_scenario(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Form(form): Form<Fields>,
) -> AppResult<Response> {
    user.require(Permission::EditCost)?;
    let mut errors = FieldErrors::default();
    let ov = overrides(&form, &mut errors);
    let r = match errors.into_result() {
        Ok(()) => {
            let name = form.get("name").cloned().unwrap_or_default();
            service::save_scenario(&state.db, &user.actor(), &name, &ov).await
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(id) => Ok(see_other(&format!("/cost/scenarios/{id}"), Some("saved"))),
        Err(AppError::Validation(errors)) => {
            let mut page = scenarios_view(&state, ctx).await?;
            page.form = form;
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cost/scenario.html")]
struct ScenarioPage {
    ctx: Ctx,
    h: Heading,
    overrides_json: String,
    assets: Vec<Delta>,
    instances: Vec<Delta>,
    tiers: Vec<Delta>,
    baseline: ReportView,
}

async fn scenario_page(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(mut q): Query<ReportQuery>,
) -> AppResult<ScenarioPage> {
    user.require(Permission::ViewMoney)?;
    q.scenario = None;
    let (_, baseline, _) = load(&state, &q).await?;
    q.scenario = Some(id);
    let (h, with, _) = load(&state, &q).await?;
    let (assets, instances, tiers) = views::compare(&baseline, &with, state.config.base());
    let overrides_json = h
        .scenario
        .as_ref()
        .and_then(|s| serde_json::to_string_pretty(&s.overrides).ok())
        .unwrap_or_default();
    Ok(ScenarioPage {
        ctx: ctx.section("cost"),
        h,
        overrides_json,
        assets,
        instances,
        tiers,
        baseline,
    })
}
