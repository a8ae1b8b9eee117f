//! Cost rules with the database: parameter versions, loading the engine's
//! inputs, running it (with or without a scenario), and saved scenarios.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use tracing::instrument;

use super::catalog;
use super::model::{self, AssetCost, AssetIn, Breakdown, Params, Storage, Total};
use super::pricing::{self, Comparison, Competitor, InstanceCost, InstanceType, Tier, TierMargin};
use super::repo::{self, ParamsRow};
use super::scenario::{self, OrderRows, Overrides};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::{Currency, Money};
use crate::on;

/// Average measured power of each asset over the last `days` days, watts,
/// by asset id. Assets without readings are absent and use nameplate watts.
/// The average over the window is weighted by samples: an hourly row that
/// folds 60 polls counts 60 times, so compaction does not change the average.
pub async fn measured_watts(
    db: &Db,
    asset_ids: &[i64],
    days: i64,
) -> AppResult<HashMap<i64, Decimal>> {
    let since = crate::clock::now() - time::Duration::days(days.max(1));
    let rows: Vec<(i64, i64, i64)> = crate::on!(db, |p| sqlx::query_as(
        "select asset_id, cast(sum(cast(power_watts as bigint) * samples) as bigint), cast(sum(samples) as bigint)
         from health_readings where power_watts is not null and at >= $1 group by asset_id"
    )
    .bind(since)
    .fetch_all(p)
    .await)
    .map_err(crate::db::DbError::from)?;
    let wanted: std::collections::HashSet<i64> = asset_ids.iter().copied().collect();
    Ok(rows
        .into_iter()
        .filter(|(asset, _, samples)| wanted.contains(asset) && *samples > 0)
        .map(|(asset, watt_samples, samples)| {
            (asset, Decimal::from(watt_samples) / Decimal::from(samples))
        })
        .collect())
}

/// Everything the cost pages show, computed for one day.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Day computed for.
    pub day: Date,
    /// Parameter version used; none if no version is in force.
    pub version: Option<ParamsRow>,
    /// The parameters after any overrides.
    #[serde(skip)]
    pub params: Params,
    /// Per asset.
    pub assets: Vec<AssetCost>,
    /// Per server model (template).
    pub by_template: Vec<Total>,
    /// Per site.
    pub by_site: Vec<Total>,
    /// Per role (asset kind).
    pub by_kind: Vec<Total>,
    /// Everything.
    pub total: Breakdown,
    /// Ceph storage.
    pub storage: Storage,
    /// Won per GB of traffic.
    pub traffic_cost_per_gb: Decimal,
    /// Instance types.
    pub instance_types: Vec<InstanceType>,
    /// Tiers.
    pub tiers: Vec<Tier>,
    /// Competitors.
    pub competitors: Vec<Competitor>,
    /// Instance types on server models.
    pub instance_costs: Vec<InstanceCost>,
    /// Tier margins.
    pub tier_margins: Vec<TierMargin>,
    /// Monthly traffic assumed for the comparison, GB.
    pub traffic_gb: i64,
    /// Tiers against competitors.
    pub comparisons: Vec<Comparison>,
}

fn port_gbps(speed: &str) -> Decimal {
    let s = speed.trim().to_ascii_uppercase();
    let digits: String = s
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let n = digits.parse::<Decimal>().unwrap_or_default();
    if s[digits.len()..].starts_with('M') {
        n / Decimal::from(1000)
    } else {
        n
    }
}

fn whole_months(from: Date, to: Date) -> u32 {
    let m = (to.year() - from.year()) * 12 + i32::from(u8::from(to.month()))
        - i32::from(u8::from(from.month()))
        - i32::from(to.day() < from.day());
    u32::try_from(m).unwrap_or(0)
}

/// The stored rows of every order the units came from.
async fn orders_of(db: &Db, units: &[repo::InstalledUnit]) -> AppResult<HashMap<i64, OrderRows>> {
    let po_ids: HashSet<i64> = units.iter().filter_map(|u| u.unit.po_id).collect();
    let mut orders = HashMap::new();
    for po_id in po_ids {
        let (po, lines, costs) = crate::procurement::orders::order_rows(db, po_id).await?;
        orders.insert(po_id, OrderRows { po, lines, costs });
    }
    Ok(orders)
}

/// The cost (major units) and capacity of the units installed in one asset.
#[derive(Default)]
struct UnitTotals {
    capital: Decimal,
    cores: i64,
    ram_gib: i64,
    disk_gb: i64,
}

impl UnitTotals {
    /// Adds one installed unit at `cost`.
    fn add_unit(&mut self, u: &repo::InstalledUnit, cost: Decimal) {
        self.capital += cost;
        match u.unit.category.as_str() {
            "cpu" => self.cores += u.cores.unwrap_or(0),
            "memory" => self.ram_gib += u.memory_gib.unwrap_or(0),
            "ssd" | "nvme" | "hdd" => self.disk_gb += u.capacity_gb.unwrap_or(0),
            _ => {}
        }
    }
}

/// The placed assets as the engine sees them, with their capital cost (restated
/// under `ov` when it changes rates or prices) and capacity from installed units.
/// The engine's assets, each with the day it was created (its age is set
/// per report day by [`aged`]); the database is read once for any number of days.
async fn load_assets(db: &Db, base: Currency, ov: &Overrides) -> AppResult<Vec<(AssetIn, Date)>> {
    let placed = repo::placed_assets(db).await?;
    let mut totals: HashMap<i64, UnitTotals> = HashMap::new();
    if ov.touches_units() {
        // Each unit restated through its order (rates, prices), then added up.
        let ids: HashSet<i64> = placed.iter().map(|a| a.id).collect();
        let units: Vec<repo::InstalledUnit> = repo::installed_units(db)
            .await?
            .into_iter()
            .filter(|u| ids.contains(&u.unit.asset_id))
            .collect();
        let orders = orders_of(db, &units).await?;
        let categories: HashMap<i64, String> =
            repo::part_categories(db).await?.into_iter().collect();
        let cost_side: Vec<scenario::UnitIn> = units.iter().map(|u| u.unit.clone()).collect();
        let unit_costs = scenario::restate_units(&cost_side, &orders, &categories, ov, base)?;
        for u in &units {
            let cost = unit_costs.get(&u.unit.id).copied().unwrap_or_default();
            totals
                .entry(u.unit.asset_id)
                .or_default()
                .add_unit(u, major_dec(cost, base));
        }
    } else {
        // Recorded costs: the database adds them up per asset.
        for t in repo::installed_totals(db).await? {
            totals.insert(
                t.asset_id,
                UnitTotals {
                    capital: major(t.landed_cost_minor, base),
                    cores: t.cores,
                    ram_gib: t.memory_gib,
                    disk_gb: t.capacity_gb,
                },
            );
        }
    }
    let mut gbps: HashMap<i64, Decimal> = HashMap::new();
    for (asset, speed) in repo::port_speeds(db).await? {
        *gbps.entry(asset).or_default() += port_gbps(&speed);
    }
    Ok(placed
        .iter()
        .map(|a| {
            let mut x = AssetIn {
                id: a.id,
                asset_tag: a.asset_tag.clone(),
                template_id: a.template_id,
                template_name: a.template_name.clone(),
                kind: a.kind.clone(),
                site_id: a.site_id,
                site_name: a.site_name.clone(),
                rack_id: a.rack_id,
                rack_usable_u: a.rack_usable_u,
                rack_monthly: major(a.rack_monthly_minor, base),
                height_u: a.height_u,
                nameplate_watts: Decimal::from(a.nameplate_watts),
                capital: major(a.assembly_labour_minor, base),
                port_gbps: gbps.get(&a.id).copied().unwrap_or_default(),
                ..AssetIn::default()
            };
            if let Some(t) = totals.get(&a.id) {
                x.capital += t.capital;
                x.cores += t.cores;
                x.ram_gib += t.ram_gib;
                x.disk_gb += t.disk_gb;
            }
            (x, a.created_at.date())
        })
        .collect())
}

/// The assets of [`load_assets`] as of `day` (their age in whole months).
fn aged(assets: &[(AssetIn, Date)], day: Date) -> Vec<AssetIn> {
    assets
        .iter()
        .map(|(a, created)| AssetIn {
            age_months: whole_months(*created, day),
            ..a.clone()
        })
        .collect()
}

/// The cost per day on `day` of `assets` (aged to that day) under the
/// parameter version of that day, with the measured watts given.
async fn total_on(
    db: &Db,
    base: Currency,
    day: Date,
    assets: &[AssetIn],
    measured: &HashMap<i64, Decimal>,
) -> AppResult<Decimal> {
    let version = super::params::version_on(db, day).await?;
    let params = version.as_ref().map(|v| v.params(base)).unwrap_or_default();
    let costs = model::asset_costs(assets, &params, measured);
    Ok(model::totals_by(&costs, |_| String::new())
        .into_iter()
        .next()
        .map(|t| t.daily.total())
        .unwrap_or_default())
}

/// The baseline report for `day` and the cost per day on `earlier` (a
/// trend), reading the assets, their units and their measured watts once:
/// what the assets are made of is today's record either way, only their age
/// and the parameter version differ. A manager's home computed two whole
/// reports for this.
pub async fn report_and_earlier_total(
    db: &Db,
    base: Currency,
    day: Date,
    earlier: Date,
) -> AppResult<(Report, Decimal)> {
    let ov = Overrides::default();
    let assets = load_assets(db, base, &ov).await?;
    let (report, measured) = report_of(db, base, day, &ov, 1000, aged(&assets, day)).await?;
    let before = total_on(db, base, earlier, &aged(&assets, earlier), &measured).await?;
    Ok((report, before))
}

/// Loads the engine's inputs and computes the report for `day`, with the
/// scenario `ov` applied in memory (an empty one for the baseline).
#[instrument(skip_all)]
pub async fn report(
    db: &Db,
    base: Currency,
    day: Date,
    ov: &Overrides,
    traffic_gb: i64,
) -> AppResult<Report> {
    let assets = aged(&load_assets(db, base, ov).await?, day);
    Ok(report_of(db, base, day, ov, traffic_gb, assets).await?.0)
}

/// [`report`] of assets already loaded; also the measured watts it used.
async fn report_of(
    db: &Db,
    base: Currency,
    day: Date,
    ov: &Overrides,
    traffic_gb: i64,
    assets: Vec<AssetIn>,
) -> AppResult<(Report, HashMap<i64, Decimal>)> {
    let version = super::params::version_on(db, day).await?;
    let params = ov.apply(&version.as_ref().map(|v| v.params(base)).unwrap_or_default());
    let window = version.as_ref().map_or(7, |v| v.row.watts_window_days);
    let asset_ids: Vec<i64> = assets.iter().map(|a| a.id).collect();
    let measured = measured_watts(db, &asset_ids, window).await?;
    let costs = model::asset_costs(&assets, &params, &measured);
    let storage = model::storage(&costs, &params);
    let traffic_cost_per_gb = model::traffic_cost_per_gb(&params);
    let instance_types = catalog::instance_types(db).await?;
    let tiers = catalog::tiers(db).await?;
    let mut competitors = catalog::competitors(db).await?;
    // A scenario's exchange rate converts competitors' prices too.
    for c in &mut competitors {
        if let Some(r) = ov.fx_rates.get(&c.currency) {
            c.fx_rate = *r;
        }
    }
    let instance_costs =
        pricing::instance_costs(&costs, &instance_types, &params, storage.per_usable_gb_day);
    let tier_margins = pricing::tier_margins(&instance_costs, &tiers, traffic_cost_per_gb);
    let comparisons = pricing::compare(&tiers, &competitors, traffic_gb);
    let total = model::totals_by(&costs, |_| String::new())
        .into_iter()
        .next()
        .map(|t| t.daily)
        .unwrap_or_default();
    let report = Report {
        day,
        version: version.map(|v| v.row),
        by_template: model::totals_by(&costs, |a| a.template_name.clone()),
        by_site: model::totals_by(&costs, |a| a.site_name.clone()),
        by_kind: model::totals_by(&costs, |a| a.kind.clone()),
        params,
        assets: costs,
        total,
        storage,
        traffic_cost_per_gb,
        instance_types,
        tiers,
        competitors,
        instance_costs,
        tier_margins,
        traffic_gb,
        comparisons,
    };
    Ok((report, measured))
}

fn major(minor: i64, base: Currency) -> Decimal {
    Money::from_minor(minor, base).amount
}

/// A unit cost from [`scenario::restate_units`] (minor units, possibly
/// fractional after a percentage) in major units.
fn major_dec(minor: Decimal, base: Currency) -> Decimal {
    minor / Decimal::from(10i64.pow(base.minor_units()))
}

/// Which day, monthly traffic and saved scenario to compute (query string).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// Day (YYYY-MM-DD); today if empty.
    pub date: Option<String>,
    /// Monthly traffic for the competitor comparison, GB (default 1000).
    pub traffic_gb: Option<i64>,
    /// Saved scenario to apply.
    pub scenario: Option<i64>,
}

impl ReportQuery {
    /// The day asked for, or today.
    pub fn day(&self) -> AppResult<Date> {
        match self
            .date
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(crate::procurement::fx::today()),
            Some(d) => crate::procurement::fx::parse_date(d).ok_or_else(|| {
                catalog::field_error("date", Msg::new("validation.date").arg("value", d))
            }),
        }
    }
}

/// The report a query asks for, with the scenario applied if one is named.
pub async fn report_for(
    db: &Db,
    base: Currency,
    q: &ReportQuery,
) -> AppResult<(Report, Option<Scenario>)> {
    let scenario = match q.scenario {
        Some(id) => Some(scenario(db, id).await?),
        None => None,
    };
    let ov = scenario
        .as_ref()
        .map(|s| s.overrides.clone())
        .unwrap_or_default();
    let r = report(db, base, q.day()?, &ov, q.traffic_gb.unwrap_or(1000)).await?;
    Ok((r, scenario))
}

/// A saved scenario.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Scenario {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What it changes.
    pub overrides: Overrides,
}

/// Saves a named scenario; returns its id. Nothing else is written.
pub async fn save_scenario(db: &Db, actor: &Actor, name: &str, ov: &Overrides) -> AppResult<i64> {
    let mut e = FieldErrors::default();
    let name = catalog::name("name", name, &mut e);
    e.0.extend(ov.check().0);
    e.into_result()?;
    let json = serde_json::to_string(ov).map_err(|err| AppError::Internal(err.into()))?;
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on!(&mut tx, |c| sqlx::query_scalar(
        "insert into cost_scenarios (name, overrides, created_by, created_at, updated_at) values ($1, $2, $3, $4, $4) returning id"
    )
    .bind(&name)
    .bind(&json)
    .bind(actor.user_id)
    .bind(now)
    .fetch_one(c)
    .await)
    .map_err(DbError::from)
    .map_err(catalog::unique_as("name", "validation.duplicate"))?;
    let after = serde_json::json!({"name": name, "overrides": ov});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "cost_scenario",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Every saved scenario, by name.
pub async fn scenarios(db: &Db) -> AppResult<Vec<Scenario>> {
    let rows: Vec<(i64, String, String)> = on!(db, |p| sqlx::query_as(
        "select id, name, overrides from cost_scenarios order by name"
    )
    .fetch_all(p)
    .await)?;
    rows.into_iter()
        .map(|(id, name, json)| {
            let overrides =
                serde_json::from_str(&json).map_err(|err| AppError::Internal(err.into()))?;
            Ok(Scenario {
                id,
                name,
                overrides,
            })
        })
        .collect()
}

/// One saved scenario.
pub async fn scenario(db: &Db, id: i64) -> AppResult<Scenario> {
    scenarios(db)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound)
}
