//! Cost rules with the database: parameter versions, loading the engine's
//! inputs, running it (with or without a scenario), and saved scenarios.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use tracing::instrument;

use super::catalog::{self, decimal, whole};
use super::model::{
    self, AssetCost, AssetIn, Breakdown, ClassParams, Method, NetworkShare, Params, SiteParams,
    Storage, Total,
};
use super::pricing::{self, Comparison, Competitor, InstanceCost, InstanceType, Tier, TierMargin};
use super::repo::{self, ClassRow, ParamsRow, SiteRow};
use super::scenario::{self, OrderRows, Overrides};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbDecimal, DbError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::{Currency, Money};
use crate::{on_db, on_tx};

/// Average measured power of each asset over the last `days` days, watts,
/// by asset id. Assets without readings are absent and use nameplate watts.
///
/// Placeholder until the Health module lands: it returns an empty map. At
/// merge the lead wires it to the Redfish power readings table (average of
/// each asset's readings newer than now − `days`).
pub async fn measured_watts(
    _db: &Db,
    _asset_ids: &[i64],
    _days: i64,
) -> AppResult<HashMap<i64, Decimal>> {
    Ok(HashMap::new())
}

/// A parameter version with its site and class rows.
#[derive(Clone, Debug, Serialize)]
pub struct Version {
    /// Header.
    pub row: ParamsRow,
    /// Per site.
    pub sites: Vec<SiteRow>,
    /// Per asset kind.
    pub classes: Vec<ClassRow>,
}

fn major(minor: i64, base: Currency) -> Decimal {
    Money::from_minor(minor, base).amount
}

impl Version {
    /// The engine's parameters, money in major units.
    pub fn params(&self, base: Currency) -> Params {
        let r = &self.row;
        Params {
            method: Method::parse(&r.depreciation_method).unwrap_or_default(),
            vcpus_per_core: r.vcpus_per_core.0,
            cpu_overcommit: r.cpu_overcommit.0,
            ram_overcommit: r.ram_overcommit.0,
            host_reserved_vcpus: r.host_reserved_vcpus.0,
            host_reserved_ram_gib: r.host_reserved_ram_gib.0,
            ceph_replication: r.ceph_replication.0,
            ceph_target_fill: r.ceph_target_fill.0,
            utilisation: r.utilisation.0,
            sites: self
                .sites
                .iter()
                .map(|s| {
                    (
                        s.site_id,
                        SiteParams {
                            electricity_per_kwh: s.electricity_per_kwh.0,
                            pue: s.pue.0,
                            rack_monthly: major(s.rack_monthly_minor, base),
                            network_monthly: major(s.network_monthly_minor, base),
                            network_share: NetworkShare::parse(&s.network_share)
                                .unwrap_or_default(),
                            traffic_gb_month: Decimal::from(s.traffic_gb_month),
                        },
                    )
                })
                .collect(),
            classes: self
                .classes
                .iter()
                .map(|c| {
                    (
                        c.asset_kind.clone(),
                        ClassParams {
                            depreciation_months: u32::try_from(c.depreciation_months).unwrap_or(60),
                            support_monthly: major(c.support_monthly_minor, base),
                        },
                    )
                })
                .collect(),
        }
    }
}

/// The version in force on `day`, if any.
pub async fn version_on(db: &Db, day: Date) -> AppResult<Option<Version>> {
    let Some(row) = repo::params_on(db, day).await? else {
        return Ok(None);
    };
    Ok(Some(Version {
        sites: repo::sites_of(db, row.id).await?,
        classes: repo::classes_of(db, row.id).await?,
        row,
    }))
}

/// A site's parameters, as typed (money in won).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SiteInput {
    /// Site id.
    pub site_id: i64,
    /// Won per kWh.
    pub electricity_per_kwh: String,
    /// PUE (≥ 1).
    pub pue: String,
    /// Rack cost per month for racks without their own, won.
    #[serde(default)]
    pub rack_monthly: String,
    /// Network per month, won.
    #[serde(default)]
    pub network_monthly: String,
    /// `per_asset`, `per_u` or `per_port_speed`.
    pub network_share: String,
    /// Traffic per month, GB.
    #[serde(default)]
    pub traffic_gb_month: String,
}

/// An asset class's parameters, as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ClassInput {
    /// Asset kind (`server`, `storage`, `switch`...).
    pub asset_kind: String,
    /// Depreciation months (1-600).
    pub depreciation_months: String,
    /// Support labour per asset per month, won.
    #[serde(default)]
    pub support_monthly: String,
}

/// A new parameter version, as typed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ParamsInput {
    /// First day in force (YYYY-MM-DD).
    pub effective_from: String,
    /// `straight_line` or `declining_balance`.
    pub depreciation_method: String,
    /// vCPUs per core (2 with SMT).
    pub vcpus_per_core: String,
    /// CPU overcommit ratio.
    pub cpu_overcommit: String,
    /// RAM overcommit ratio.
    pub ram_overcommit: String,
    /// vCPUs kept for the host.
    pub host_reserved_vcpus: String,
    /// RAM kept for the host, GiB.
    pub host_reserved_ram_gib: String,
    /// Ceph replication factor.
    pub ceph_replication: String,
    /// Ceph target fill, 0-1.
    pub ceph_target_fill: String,
    /// Utilisation, 0-1.
    pub utilisation: String,
    /// Days of measured power to average (default 7).
    #[serde(default)]
    pub watts_window_days: String,
    /// Why this version.
    #[serde(default)]
    pub note: String,
    /// Per site.
    #[serde(default)]
    pub sites: Vec<SiteInput>,
    /// Per asset kind.
    #[serde(default)]
    pub classes: Vec<ClassInput>,
}

fn money_minor(field: &str, v: &str, base: Currency, e: &mut FieldErrors) -> i64 {
    let v = if v.trim().is_empty() { "0" } else { v };
    Money::new(decimal(field, v, e), base)
        .to_minor()
        .unwrap_or(0)
}

fn fraction(field: &str, v: &str, e: &mut FieldErrors) -> Decimal {
    let d = decimal(field, v, e);
    if d <= Decimal::ZERO || d > Decimal::ONE {
        e.add(field, Msg::new("cost.fraction"));
    }
    d
}

fn at_least(field: &str, v: &str, min: Decimal, e: &mut FieldErrors) -> Decimal {
    let d = decimal(field, v, e);
    if d < min {
        e.add(field, Msg::new("cost.at_least").arg("min", min));
    }
    d
}

/// Adds a parameter version (never changes one); returns its id.
#[instrument(skip_all)]
pub async fn add_version(
    db: &Db,
    actor: &Actor,
    base: Currency,
    i: &ParamsInput,
) -> AppResult<i64> {
    let mut e = FieldErrors::default();
    let day = crate::procurement::fx::parse_date(&i.effective_from);
    if day.is_none() {
        e.add(
            "effective_from",
            Msg::new("validation.date").arg("value", &i.effective_from),
        );
    }
    if Method::parse(&i.depreciation_method).is_none() {
        e.add("depreciation_method", Msg::new("validation.required"));
    }
    let window = if i.watts_window_days.trim().is_empty() {
        7
    } else {
        whole("watts_window_days", &i.watts_window_days, 1, &mut e)
    };
    let row = ParamsRow {
        id: 0,
        effective_from: day.unwrap_or_else(crate::procurement::fx::today),
        depreciation_method: i.depreciation_method.clone(),
        vcpus_per_core: DbDecimal(at_least(
            "vcpus_per_core",
            &i.vcpus_per_core,
            Decimal::ONE,
            &mut e,
        )),
        cpu_overcommit: DbDecimal(at_least(
            "cpu_overcommit",
            &i.cpu_overcommit,
            Decimal::new(1, 1),
            &mut e,
        )),
        ram_overcommit: DbDecimal(at_least(
            "ram_overcommit",
            &i.ram_overcommit,
            Decimal::new(1, 1),
            &mut e,
        )),
        host_reserved_vcpus: DbDecimal(decimal(
            "host_reserved_vcpus",
            &i.host_reserved_vcpus,
            &mut e,
        )),
        host_reserved_ram_gib: DbDecimal(decimal(
            "host_reserved_ram_gib",
            &i.host_reserved_ram_gib,
            &mut e,
        )),
        ceph_replication: DbDecimal(at_least(
            "ceph_replication",
            &i.ceph_replication,
            Decimal::ONE,
            &mut e,
        )),
        ceph_target_fill: DbDecimal(fraction("ceph_target_fill", &i.ceph_target_fill, &mut e)),
        utilisation: DbDecimal(fraction("utilisation", &i.utilisation, &mut e)),
        watts_window_days: window,
        note: i.note.trim().to_owned(),
        created_at: crate::clock::now(),
    };
    let known: HashSet<i64> = crate::datacenter::racks::sites(db)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let sites: Vec<SiteRow> = i
        .sites
        .iter()
        .map(|s| {
            if !known.contains(&s.site_id) {
                e.add("site_id", Msg::new("validation.required"));
            }
            if NetworkShare::parse(&s.network_share).is_none() {
                e.add("network_share", Msg::new("validation.required"));
            }
            SiteRow {
                site_id: s.site_id,
                site_name: String::new(),
                electricity_per_kwh: DbDecimal(decimal(
                    "electricity_per_kwh",
                    &s.electricity_per_kwh,
                    &mut e,
                )),
                pue: DbDecimal(at_least("pue", &s.pue, Decimal::ONE, &mut e)),
                rack_monthly_minor: money_minor("rack_monthly", &s.rack_monthly, base, &mut e),
                network_monthly_minor: money_minor(
                    "network_monthly",
                    &s.network_monthly,
                    base,
                    &mut e,
                ),
                network_share: s.network_share.clone(),
                traffic_gb_month: whole(
                    "traffic_gb_month",
                    if s.traffic_gb_month.trim().is_empty() {
                        "0"
                    } else {
                        &s.traffic_gb_month
                    },
                    0,
                    &mut e,
                ),
            }
        })
        .collect();
    let classes: Vec<ClassRow> = i
        .classes
        .iter()
        .map(|c| {
            let months = whole("depreciation_months", &c.depreciation_months, 1, &mut e);
            if months > 600 {
                e.add(
                    "depreciation_months",
                    Msg::new("validation.whole_number").arg("value", months),
                );
            }
            ClassRow {
                asset_kind: catalog::name("asset_kind", &c.asset_kind, &mut e),
                depreciation_months: months,
                support_monthly_minor: money_minor(
                    "support_monthly",
                    &c.support_monthly,
                    base,
                    &mut e,
                ),
            }
        })
        .collect();
    e.into_result()?;
    let mut tx = db.begin().await?;
    let id = repo::insert_params(&mut tx, &row, actor.user_id)
        .await
        .map_err(catalog::unique_as("effective_from", "cost.version_exists"))?;
    for s in &sites {
        repo::insert_site(&mut tx, id, s, row.created_at)
            .await
            .map_err(catalog::unique_as("site_id", "validation.duplicate"))?;
    }
    for c in &classes {
        repo::insert_class(&mut tx, id, c, row.created_at).await?;
    }
    let after = serde_json::json!({"params": row, "sites": sites, "classes": classes});
    audit::record(
        &mut tx,
        actor,
        Action::Create,
        "cost_params",
        id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
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
    let version = version_on(db, day).await?;
    let params = ov.apply(&version.as_ref().map(|v| v.params(base)).unwrap_or_default());
    let placed = repo::placed_assets(db).await?;
    let ids: HashSet<i64> = placed.iter().map(|a| a.id).collect();
    let units: Vec<repo::InstalledUnit> = repo::installed_units(db)
        .await?
        .into_iter()
        .filter(|u| ids.contains(&u.unit.asset_id))
        .collect();
    let mut orders = HashMap::new();
    if ov.touches_units() {
        let po_ids: HashSet<i64> = units.iter().filter_map(|u| u.unit.po_id).collect();
        for po_id in po_ids {
            let (po, lines, costs) = crate::procurement::orders::order_rows(db, po_id).await?;
            orders.insert(po_id, OrderRows { po, lines, costs });
        }
    }
    let categories: HashMap<i64, String> = repo::part_categories(db).await?.into_iter().collect();
    let cost_side: Vec<scenario::UnitIn> = units.iter().map(|u| u.unit.clone()).collect();
    let unit_costs = scenario::restate_units(&cost_side, &orders, &categories, ov, base)?;
    let mut gbps: HashMap<i64, Decimal> = HashMap::new();
    for (asset, speed) in repo::port_speeds(db).await? {
        *gbps.entry(asset).or_default() += port_gbps(&speed);
    }
    let assets: Vec<AssetIn> = placed
        .iter()
        .map(|a| {
            let mine = units.iter().filter(|u| u.unit.asset_id == a.id);
            let mut x = AssetIn {
                id: a.id,
                asset_tag: a.asset_tag.clone(),
                template_id: a.template_id,
                template_name: a.template_name.clone(),
                kind: a.kind.clone(),
                site_id: a.site_id,
                site_name: a.site_name.clone(),
                rack_id: a.rack_id,
                rack_height_u: a.rack_height_u,
                rack_monthly: major(a.rack_monthly_minor, base),
                height_u: a.height_u,
                nameplate_watts: Decimal::from(a.nameplate_watts),
                capital: major(a.assembly_labour_minor, base),
                age_months: whole_months(a.created_at.date(), day),
                port_gbps: gbps.get(&a.id).copied().unwrap_or_default(),
                ..AssetIn::default()
            };
            for u in mine {
                x.capital += unit_costs
                    .get(&u.unit.id)
                    .map_or(Decimal::ZERO, |m| major_dec(*m, base));
                match u.unit.category.as_str() {
                    "cpu" => x.cores += u.cores.unwrap_or(0),
                    "memory" => x.ram_gib += u.memory_gib.unwrap_or(0),
                    "ssd" | "nvme" | "hdd" => x.disk_gb += u.capacity_gb.unwrap_or(0),
                    _ => {}
                }
            }
            x
        })
        .collect();
    let window = version.as_ref().map_or(7, |v| v.row.watts_window_days);
    let asset_ids: Vec<i64> = assets.iter().map(|a| a.id).collect();
    let measured = measured_watts(db, &asset_ids, window).await?;
    let costs = model::asset_costs(&assets, &params, &measured);
    let storage = model::storage(&costs, &params);
    let traffic_cost_per_gb = model::traffic_cost_per_gb(&params);
    let instance_types = catalog::instance_types(db).await?;
    let tiers = catalog::tiers(db).await?;
    let competitors = catalog::competitors(db).await?;
    let instance_costs =
        pricing::instance_costs(&costs, &instance_types, &params, storage.per_usable_gb_day);
    let tier_margins = pricing::tier_margins(&instance_costs, &tiers, traffic_cost_per_gb);
    let comparisons = pricing::compare(&tiers, &competitors, traffic_gb);
    let total = model::totals_by(&costs, |_| String::new())
        .into_iter()
        .next()
        .map(|t| t.daily)
        .unwrap_or_default();
    Ok(Report {
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
    })
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
    for (code, rate) in &ov.fx_rates {
        if Currency::parse(code).is_none() || *rate <= Decimal::ZERO {
            e.add("fx_rates", Msg::new("validation.rate").arg("value", code));
        }
    }
    if ov
        .utilisation
        .is_some_and(|u| u <= Decimal::ZERO || u > Decimal::ONE)
    {
        e.add("utilisation", Msg::new("cost.fraction"));
    }
    if ov.depreciation_months.values().any(|m| *m == 0 || *m > 600) {
        e.add(
            "depreciation_months",
            Msg::new("validation.whole_number").arg("value", 0),
        );
    }
    e.into_result()?;
    let json = serde_json::to_string(ov).map_err(|err| AppError::Internal(err.into()))?;
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    let id: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(
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
    let rows: Vec<(i64, String, String)> = on_db!(db, |p| sqlx::query_as(
        "select id, name, overrides from cost_scenarios order by name"
    )
    .fetch_all(p)
    .await)
    .map_err(DbError::from)?;
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
