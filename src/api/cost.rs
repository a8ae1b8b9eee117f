//! `/api/v1/cost/...`: parameters, instance types, tiers, competitors, the
//! cost report and scenarios. Reading needs `ViewMoney`, changing `EditCost`.
//! Amounts are exact decimal strings in base-currency major units (won).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::money::Shown;
use crate::auth::{CurrentUser, Permission};
use crate::cost::catalog::{self, CompetitorInput, InstanceTypeInput, TierInput};
use crate::cost::params::{self, ParamsInput};
use crate::cost::scenario::Overrides;
use crate::cost::service::{self, Report, ReportQuery};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::web::AppState;

/// The parameter version in force on a day.
#[utoipa::path(get, path = "/cost/params", tag = "cost", params(ReportQuery), responses((status = 200), (status = 403), (status = 404)))]
pub(super) async fn get_params(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> AppResult<Shown<params::Version>> {
    user.require(Permission::ViewMoney)?;
    let version = params::version_on(&s.db, q.day()?)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Shown::to(&user, version))
}

/// Add a parameter version; versions are never changed.
#[utoipa::path(post, path = "/cost/params", tag = "cost", request_body = ParamsInput, responses((status = 201), (status = 403), (status = 422)))]
pub(super) async fn add_params(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<ParamsInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditCost)?;
    let id = params::add_version(&s.db, &user.actor(), s.config.base(), &input).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

/// What a rack costs and how many of its U share that cost.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct RackCostIn {
    /// Monthly cost in the base currency; unchanged when absent.
    #[serde(default)]
    monthly_cost: Option<String>,
    /// U that can hold equipment, 1..=height; `""` means the full height;
    /// unchanged when absent.
    #[serde(default)]
    usable_u: Option<String>,
}

/// Set what a rack costs per month (`EditCost`) and/or its usable U, the U
/// its cost is shared over (`EditDatacenter`, as on the rack page).
#[utoipa::path(post, path = "/cost/racks/{id}", tag = "cost", request_body = RackCostIn, params(("id" = i64, Path, description = "Rack id")), responses((status = 200), (status = 403), (status = 404), (status = 422)))]
pub(super) async fn set_rack_cost(
    State(s): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<RackCostIn>,
) -> AppResult<Shown<crate::datacenter::racks::Rack>> {
    // The cost is a cost matter; the usable U a datacenter fact, as on the
    // rack page. Both checked before either is written.
    if input.monthly_cost.is_some() || input.usable_u.is_none() {
        user.require(Permission::EditCost)?;
    }
    if input.usable_u.is_some() {
        user.require(Permission::EditDatacenter)?;
    }
    let mut e = FieldErrors::default();
    if input.monthly_cost.is_none() && input.usable_u.is_none() {
        e.add("monthly_cost", crate::i18n::Msg::new("validation.required"));
    }
    // Both checked before either is written, so a refusal changes nothing.
    let minor = input.monthly_cost.as_deref().map(|m| {
        let amount = catalog::decimal("monthly_cost", m, &mut e);
        let minor = crate::money::Money::new(amount, s.config.base())
            .to_minor()
            .unwrap_or(-1);
        if minor < 0 {
            e.add("monthly_cost", crate::i18n::Msg::new("validation.price"));
        }
        minor
    });
    e.into_result()?;
    if let Some(u) = input.usable_u.as_deref() {
        crate::datacenter::racks::set_usable_u(&s.db, &user.actor(), id, Some(u)).await?;
    }
    if let Some(minor) = minor {
        crate::datacenter::racks::set_monthly_cost(&s.db, &user.actor(), id, minor).await?;
    }
    Ok(Shown::to(
        &user,
        crate::datacenter::racks::get(&s.db, id).await?,
    ))
}

/// Instance types.
#[utoipa::path(get, path = "/cost/instance-types", tag = "cost", responses((status = 200, body = Vec<crate::cost::pricing::InstanceType>)))]
pub(super) async fn list_instance_types(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<crate::cost::pricing::InstanceType>>> {
    user.require(Permission::ViewMoney)?;
    Ok(Shown::to(&user, catalog::instance_types(&s.db).await?))
}

/// Add an instance type.
#[utoipa::path(post, path = "/cost/instance-types", tag = "cost", request_body = InstanceTypeInput, responses((status = 201), (status = 403), (status = 422)))]
pub(super) async fn create_instance_type(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<InstanceTypeInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditCost)?;
    let id = catalog::create_instance_type(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

/// Pricing tiers.
#[utoipa::path(get, path = "/cost/tiers", tag = "cost", responses((status = 200, body = Vec<crate::cost::pricing::Tier>)))]
pub(super) async fn list_tiers(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<crate::cost::pricing::Tier>>> {
    user.require(Permission::ViewMoney)?;
    Ok(Shown::to(&user, catalog::tiers(&s.db).await?))
}

/// Add a pricing tier.
#[utoipa::path(post, path = "/cost/tiers", tag = "cost", request_body = TierInput, responses((status = 201), (status = 403), (status = 422)))]
pub(super) async fn create_tier(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<TierInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditCost)?;
    let id = catalog::create_tier(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

/// Competitors' price lists.
#[utoipa::path(get, path = "/cost/competitors", tag = "cost", responses((status = 200, body = Vec<crate::cost::pricing::Competitor>)))]
pub(super) async fn list_competitors(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<crate::cost::pricing::Competitor>>> {
    user.require(Permission::ViewMoney)?;
    Ok(Shown::to(&user, catalog::competitors(&s.db).await?))
}

/// Add a competitor's price list.
#[utoipa::path(post, path = "/cost/competitors", tag = "cost", request_body = CompetitorInput, responses((status = 201), (status = 403), (status = 422)))]
pub(super) async fn create_competitor(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<CompetitorInput>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditCost)?;
    let id = catalog::create_competitor(&s.db, &user.actor(), &input).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}

/// The whole cost report: per asset, totals, storage, instance costs, tier
/// margins and competitor comparison; with `scenario`, under that scenario.
#[utoipa::path(get, path = "/cost/report", tag = "cost", params(ReportQuery), responses((status = 200), (status = 403)))]
pub(super) async fn report(
    State(s): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> AppResult<Shown<Report>> {
    user.require(Permission::ViewMoney)?;
    let report = service::report_for(&s.db, s.config.base(), &q).await?.0;
    Ok(Shown::to(&user, report))
}

/// Saved scenarios.
#[utoipa::path(get, path = "/cost/scenarios", tag = "cost", responses((status = 200, body = Vec<service::Scenario>)))]
pub(super) async fn list_scenarios(
    State(s): State<AppState>,
    user: CurrentUser,
) -> AppResult<Shown<Vec<service::Scenario>>> {
    user.require(Permission::ViewMoney)?;
    Ok(Shown::to(&user, service::scenarios(&s.db).await?))
}

/// A scenario to save.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct ScenarioIn {
    /// Name.
    name: String,
    /// What it changes.
    overrides: Overrides,
}

/// Save a named scenario (recorded data is never changed by it).
#[utoipa::path(post, path = "/cost/scenarios", tag = "cost", request_body = ScenarioIn, responses((status = 201), (status = 403), (status = 422)))]
pub(super) async fn create_scenario(
    State(s): State<AppState>,
    user: CurrentUser,
    Json(input): Json<ScenarioIn>,
) -> AppResult<Shown<Value>> {
    user.require(Permission::EditCost)?;
    let id = service::save_scenario(&s.db, &user.actor(), &input.name, &input.overrides).await?;
    Ok(Shown::created(&user, json!({ "id": id })))
}
