//! Scenario pages: create and name what-ifs, and see one beside the baseline.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_decimal::Decimal;

use super::overview::{Heading, load};
use crate::auth::{CurrentUser, Permission};
use crate::cost::catalog;
use crate::cost::scenario::{self, Overrides};
use crate::cost::service::{self, ReportQuery};
use crate::cost::views::{self, Delta, ReportView};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::templates::ASSET_KINDS;
use crate::web::AppState;
use crate::web::{Checked, Ctx, see_other};

/// Scenario routes.
pub fn routes() -> Router<AppState> {
    crate::web::needs(
        &[crate::auth::Permission::EditCost],
        Router::new()
            .route("/cost/scenarios", get(scenarios_page).post(add_scenario))
            .route("/cost/scenarios/{id}", get(scenario_page)),
    )
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

/// One pair of form fields that only mean something together: the key
/// (currency, category, kind) and its value.
struct Pair {
    key: &'static str,
    value: &'static str,
    needs_key: &'static str,
    needs_value: &'static str,
}

const FX: Pair = Pair {
    key: "fx_currency",
    value: "fx_rate",
    needs_key: "cost.needs_currency",
    needs_value: "cost.needs_rate",
};
const PCT: Pair = Pair {
    key: "pct_category",
    value: "pct",
    needs_key: "cost.needs_category",
    needs_value: "cost.needs_pct",
};
const DEP: Pair = Pair {
    key: "dep_kind",
    value: "dep_months",
    needs_key: "cost.kind_required",
    needs_value: "cost.needs_months",
};

/// Both halves of a pair, or neither; half a pair is a message at the empty
/// field (a rate without its currency would change nothing).
fn pair(f: &Fields, p: &Pair, e: &mut FieldErrors) -> Option<(String, String)> {
    match (filled(f, p.key), filled(f, p.value)) {
        (Some(k), Some(v)) => Some((k, v)),
        (None, Some(_)) => {
            e.add(p.key, Msg::new(p.needs_key));
            None
        }
        (Some(_), None) => {
            e.add(p.value, Msg::new(p.needs_value));
            None
        }
        (None, None) => None,
    }
}

fn filled(f: &Fields, k: &str) -> Option<String> {
    f.get(k)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Overrides from the scenario form. What cannot be read is a message at its
/// field; the rules themselves are [`Overrides::check`], as for the API.
fn overrides(f: &Fields, e: &mut FieldErrors) -> Overrides {
    let mut dec = |k: &str| filled(f, k).map(|v| catalog::decimal(k, &v, e));
    let mut ov = Overrides {
        electricity_per_kwh: dec("electricity_per_kwh"),
        utilisation: dec("utilisation"),
        cpu_overcommit: dec("cpu_overcommit"),
        ram_overcommit: dec("ram_overcommit"),
        ..Overrides::default()
    };
    if let Some((c, r)) = pair(f, &FX, e) {
        let rate = catalog::rate(FX.value, &r, e);
        ov.fx_rates.insert(c.to_ascii_uppercase(), rate);
    }
    if let Some((c, p)) = pair(f, &PCT, e) {
        match p
            .replace('\u{2212}', "-")
            .replace(',', "")
            .parse::<Decimal>()
        {
            Ok(d) if scenario::pct_ok(d) => {
                ov.part_price_pct.insert(c, d.normalize());
            }
            _ => e.add(PCT.value, Msg::new("cost.pct_range").arg("value", &p)),
        }
    }
    if let Some((k, m)) = pair(f, &DEP, e) {
        match m.parse::<u32>() {
            Ok(n) => {
                ov.depreciation_months.insert(k, n);
            }
            Err(_) => e.add(DEP.value, Msg::new("cost.months_range").arg("value", &m)),
        }
    }
    ov
}

/// The form field a rule of [`Overrides::check`] is about.
fn form_field(api_field: &str, ov: &Overrides) -> &'static str {
    match api_field {
        "fx_rates"
            if ov
                .fx_rates
                .keys()
                .any(|c| crate::money::Currency::parse(c).is_none()) =>
        {
            FX.key
        }
        "fx_rates" => FX.value,
        "part_price_pct" => PCT.value,
        "depreciation_months" => DEP.value,
        "utilisation" => "utilisation",
        "cpu_overcommit" => "cpu_overcommit",
        "ram_overcommit" => "ram_overcommit",
        "electricity_per_kwh" => "electricity_per_kwh",
        "name" => "name",
        _ => "overrides",
    }
}

async fn add_scenario(
    State(state): State<AppState>,
    ctx: Ctx,
    user: CurrentUser,
    Checked {
        input: form,
        refused,
    }: Checked<Fields>,
) -> AppResult<Response> {
    user.require(Permission::EditCost)?;
    // What the edge refused, then what the form itself gets wrong.
    let mut errors = refused;
    let ov = overrides(&form, &mut errors);
    let name = form.get("name").cloned().unwrap_or_default();
    let r = match errors.into_result() {
        Ok(()) => service::save_scenario(&state.db, &user.actor(), &name, &ov)
            .await
            .map_err(|err| match err {
                AppError::Validation(f) => AppError::Validation(FieldErrors(
                    f.0.into_iter()
                        .map(|mut x| {
                            x.field = form_field(&x.field, &ov).to_owned();
                            x
                        })
                        .collect(),
                )),
                other => other,
            }),
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
    /// What the scenario changes, against the version in force on the day.
    changes: Vec<views::Change>,
    assets: Vec<Delta>,
    instances: Vec<Delta>,
    tiers: Vec<Delta>,
    baseline: ReportView,
    /// The scenario form, filled with this scenario (to save a variant).
    categories: &'static [&'static str],
    kinds: [&'static str; 5],
    form: Fields,
    errors: FieldErrors,
}

impl ScenarioPage {
    fn v(&self, key: &str) -> String {
        self.form.get(key).cloned().unwrap_or_default()
    }
}

/// The scenario form's fields for `ov` (the first entry of each map: the
/// form holds one currency, category and kind).
fn form_of(ov: &Overrides) -> Fields {
    let mut f = Fields::new();
    let dec = |d: &Decimal| d.normalize().to_string();
    if let Some((c, r)) = ov.fx_rates.iter().next() {
        f.insert(FX.key.into(), c.clone());
        f.insert(FX.value.into(), dec(r));
    }
    if let Some((c, p)) = ov.part_price_pct.iter().next() {
        f.insert(PCT.key.into(), c.clone());
        f.insert(PCT.value.into(), dec(p));
    }
    if let Some((k, m)) = ov.depreciation_months.iter().next() {
        f.insert(DEP.key.into(), k.clone());
        f.insert(DEP.value.into(), m.to_string());
    }
    for (k, v) in [
        ("electricity_per_kwh", ov.electricity_per_kwh),
        ("utilisation", ov.utilisation),
        ("cpu_overcommit", ov.cpu_overcommit),
        ("ram_overcommit", ov.ram_overcommit),
    ] {
        if let Some(v) = v {
            f.insert(k.into(), dec(&v));
        }
    }
    f
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
    let (_, baseline, base_report) = load(&state, &q).await?;
    q.scenario = Some(id);
    let (h, with, _) = load(&state, &q).await?;
    let (assets, instances, tiers) = views::compare(&baseline, &with, state.config.base());
    let ov = h
        .scenario
        .as_ref()
        .map(|s| s.overrides.clone())
        .unwrap_or_default();
    Ok(ScenarioPage {
        ctx: ctx.section("cost"),
        changes: views::changes(&ov, &base_report.params),
        form: form_of(&ov),
        h,
        assets,
        instances,
        tiers,
        baseline,
        categories: &crate::procurement::model::CATEGORIES,
        kinds: ASSET_KINDS,
        errors: FieldErrors::default(),
    })
}
