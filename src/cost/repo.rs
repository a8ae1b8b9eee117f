//! SQL of the cost module: parameter versions and the inputs of the engine.
//! One function per query; no decisions.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::scenario::UnitIn;
use crate::db::{Db, DbDecimal, DbError, Tx};
use crate::{exec, on};

/// One parameter version as stored.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ParamsRow {
    /// Row id.
    pub id: i64,
    /// First day it is in force.
    pub effective_from: Date,
    /// `straight_line` or `declining_balance`.
    pub depreciation_method: String,
    /// vCPUs per core.
    #[serde(serialize_with = "ser_dec")]
    pub vcpus_per_core: DbDecimal,
    /// CPU overcommit.
    #[serde(serialize_with = "ser_dec")]
    pub cpu_overcommit: DbDecimal,
    /// RAM overcommit.
    #[serde(serialize_with = "ser_dec")]
    pub ram_overcommit: DbDecimal,
    /// vCPUs kept for the host.
    #[serde(serialize_with = "ser_dec")]
    pub host_reserved_vcpus: DbDecimal,
    /// GiB kept for the host.
    #[serde(serialize_with = "ser_dec")]
    pub host_reserved_ram_gib: DbDecimal,
    /// Ceph replication factor.
    #[serde(serialize_with = "ser_dec")]
    pub ceph_replication: DbDecimal,
    /// Ceph target fill (0-1).
    #[serde(serialize_with = "ser_dec")]
    pub ceph_target_fill: DbDecimal,
    /// Utilisation (0-1).
    #[serde(serialize_with = "ser_dec")]
    pub utilisation: DbDecimal,
    /// Days of measured power to average.
    pub watts_window_days: i64,
    /// Why this version.
    pub note: String,
    /// Added, UTC.
    #[serde(skip)]
    pub created_at: OffsetDateTime,
}

/// A site's parameters in one version.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct SiteRow {
    /// Site id.
    pub site_id: i64,
    /// Site name (joined).
    pub site_name: String,
    /// Won per kWh.
    #[serde(serialize_with = "ser_dec")]
    pub electricity_per_kwh: DbDecimal,
    /// PUE.
    #[serde(serialize_with = "ser_dec")]
    pub pue: DbDecimal,
    /// Rack cost per month for racks without their own, won (minor units).
    pub rack_monthly_minor: i64,
    /// Network per month, won (minor units).
    pub network_monthly_minor: i64,
    /// `per_asset`, `per_u` or `per_port_speed`.
    pub network_share: String,
    /// Traffic per month, GB.
    pub traffic_gb_month: i64,
}

/// An asset class's parameters in one version.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct ClassRow {
    /// Asset kind.
    pub asset_kind: String,
    /// Depreciation months.
    pub depreciation_months: i64,
    /// Support labour per month, won (minor units).
    pub support_monthly_minor: i64,
}

fn ser_dec<S: serde::Serializer>(d: &DbDecimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.0.to_string())
}

const PARAMS_SELECT: &str = "select id, effective_from, depreciation_method, vcpus_per_core, cpu_overcommit,
    ram_overcommit, host_reserved_vcpus, host_reserved_ram_gib, ceph_replication, ceph_target_fill, utilisation,
    watts_window_days, note, created_at from cost_params";

/// The version in force on `day`: the latest that starts on or before it.
pub async fn params_on(db: &Db, day: Date) -> Result<Option<ParamsRow>, DbError> {
    let sql =
        format!("{PARAMS_SELECT} where effective_from <= $1 order by effective_from desc limit 1");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(day)
    .fetch_optional(p)
    .await)?)
}

/// Every version, newest first.
pub async fn versions(db: &Db) -> Result<Vec<ParamsRow>, DbError> {
    let sql = format!("{PARAMS_SELECT} order by effective_from desc");
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_all(p)
    .await)?)
}

/// The site rows of a version.
pub async fn sites_of(db: &Db, params_id: i64) -> Result<Vec<SiteRow>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
        "select c.site_id, s.name as site_name, c.electricity_per_kwh, c.pue, c.rack_monthly_minor,
                c.network_monthly_minor, c.network_share, c.traffic_gb_month
         from cost_param_sites c join sites s on s.id = c.site_id where c.params_id = $1 order by s.name"
    )
    .bind(params_id)
    .fetch_all(p)
    .await
    })?)
}

/// The class rows of a version.
pub async fn classes_of(db: &Db, params_id: i64) -> Result<Vec<ClassRow>, DbError> {
    Ok(on!(db, |p| sqlx::query_as(
        "select asset_kind, depreciation_months, support_monthly_minor from cost_param_classes
         where params_id = $1 order by asset_kind"
    )
    .bind(params_id)
    .fetch_all(p)
    .await)?)
}

/// Inserts a version header; returns its id.
pub async fn insert_params(
    tx: &mut Tx,
    r: &ParamsRow,
    created_by: Option<i64>,
) -> Result<i64, DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
        "insert into cost_params (effective_from, depreciation_method, vcpus_per_core, cpu_overcommit, ram_overcommit,
            host_reserved_vcpus, host_reserved_ram_gib, ceph_replication, ceph_target_fill, utilisation,
            watts_window_days, note, created_by, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) returning id"
    )
    .bind(r.effective_from)
    .bind(&r.depreciation_method)
    .bind(r.vcpus_per_core)
    .bind(r.cpu_overcommit)
    .bind(r.ram_overcommit)
    .bind(r.host_reserved_vcpus)
    .bind(r.host_reserved_ram_gib)
    .bind(r.ceph_replication)
    .bind(r.ceph_target_fill)
    .bind(r.utilisation)
    .bind(r.watts_window_days)
    .bind(&r.note)
    .bind(created_by)
    .bind(r.created_at)
    .fetch_one(c)
    .await
    })?)
}

/// Inserts a site row of a version.
pub async fn insert_site(
    tx: &mut Tx,
    params_id: i64,
    s: &SiteRow,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query(
        "insert into cost_param_sites (params_id, site_id, electricity_per_kwh, pue, rack_monthly_minor,
            network_monthly_minor, network_share, traffic_gb_month, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
    )
    .bind(params_id)
    .bind(s.site_id)
    .bind(s.electricity_per_kwh)
    .bind(s.pue)
    .bind(s.rack_monthly_minor)
    .bind(s.network_monthly_minor)
    .bind(&s.network_share)
    .bind(s.traffic_gb_month)
    .bind(now)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// Inserts a class row of a version.
pub async fn insert_class(
    tx: &mut Tx,
    params_id: i64,
    k: &ClassRow,
    now: OffsetDateTime,
) -> Result<(), DbError> {
    exec!(tx, |c| {
        sqlx::query(
        "insert into cost_param_classes (params_id, asset_kind, depreciation_months, support_monthly_minor, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)"
    )
    .bind(params_id)
    .bind(&k.asset_kind)
    .bind(k.depreciation_months)
    .bind(k.support_monthly_minor)
    .bind(now)
    .execute(c)
    .await
    })?;
    Ok(())
}

/// A placed asset with its rack, site and template, as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PlacedAsset {
    /// Asset id.
    pub id: i64,
    /// Tag.
    pub asset_tag: String,
    /// Template id.
    pub template_id: Option<i64>,
    /// Template name, '' without one.
    pub template_name: String,
    /// Kind.
    pub kind: String,
    /// Site.
    pub site_id: i64,
    /// Site name.
    pub site_name: String,
    /// Rack.
    pub rack_id: i64,
    /// U of the rack that can hold equipment (its usable U; the full height
    /// unless set): the rack's cost is shared over these.
    pub rack_usable_u: i64,
    /// Rack's monthly cost, won (minor units).
    pub rack_monthly_minor: i64,
    /// Asset height, U.
    pub height_u: i64,
    /// Template nameplate watts (0 without a template).
    pub nameplate_watts: i64,
    /// Assembly labour, won (minor units).
    pub assembly_labour_minor: i64,
    /// Built, UTC.
    pub created_at: OffsetDateTime,
}

/// Assets placed in a rack and not decommissioned: the ones that cost money to run.
pub async fn placed_assets(db: &Db) -> Result<Vec<PlacedAsset>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
        "select a.id, a.asset_tag, a.template_id, coalesce(t.name, '') as template_name, a.kind,
                s.id as site_id, s.name as site_name, k.id as rack_id, coalesce(k.usable_u, k.height_u) as rack_usable_u,
                k.monthly_cost_minor as rack_monthly_minor, pl.height_u,
                coalesce(t.nameplate_watts, 0) as nameplate_watts, a.assembly_labour_minor, a.created_at
         from assets a join placements pl on pl.asset_id = a.id join racks k on k.id = pl.rack_id
         join rack_rows w on w.id = k.row_id join rooms r on r.id = w.room_id join sites s on s.id = r.site_id
         left join build_templates t on t.id = a.template_id
         where a.status <> 'decommissioned' order by a.asset_tag"
    )
    .fetch_all(p)
    .await
    })?)
}

/// An installed unit with its part's specs, for capacity.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InstalledUnit {
    /// Cost side.
    #[sqlx(flatten)]
    pub unit: UnitIn,
    /// CPU cores.
    pub cores: Option<i64>,
    /// Memory, GiB.
    pub memory_gib: Option<i64>,
    /// Drive capacity, GB.
    pub capacity_gb: Option<i64>,
}

/// Every unit installed in an asset.
pub async fn installed_units(db: &Db) -> Result<Vec<InstalledUnit>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
        "select u.id, u.asset_id, u.landed_cost_minor, u.po_line_id, u.position, l.po_id, m.category,
                m.cores, m.memory_gib, m.capacity_gb
         from units u join part_models m on m.id = u.part_model_id left join po_lines l on l.id = u.po_line_id
         where u.status = 'installed' and u.asset_id is not null order by u.id"
    )
    .fetch_all(p)
    .await
    })?)
}

/// What the units installed in one asset add up to, as recorded.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InstalledTotals {
    /// Asset.
    pub asset_id: i64,
    /// Sum of the units' landed costs, base minor units.
    pub landed_cost_minor: i64,
    /// CPU cores.
    pub cores: i64,
    /// Memory, GiB.
    pub memory_gib: i64,
    /// Drive capacity, GB.
    pub capacity_gb: i64,
}

/// [`installed_units`] added up per asset by the database: one row per asset
/// instead of one per unit, for reports whose scenario keeps recorded costs
/// (the cost benchmark spent 1.6 s of 2 s reading 500,000 unit rows).
pub async fn installed_totals(db: &Db) -> Result<Vec<InstalledTotals>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select u.asset_id, cast(sum(u.landed_cost_minor) as bigint) as landed_cost_minor,
                cast(coalesce(sum(case when m.category = 'cpu' then m.cores end), 0) as bigint) as cores,
                cast(coalesce(sum(case when m.category = 'memory' then m.memory_gib end), 0) as bigint) as memory_gib,
                cast(coalesce(sum(case when m.category in ('ssd', 'nvme', 'hdd') then m.capacity_gb end), 0) as bigint)
                  as capacity_gb
             from units u join part_models m on m.id = u.part_model_id
             where u.status = 'installed' and u.asset_id is not null group by u.asset_id",
        )
        .fetch_all(p)
        .await
    })?)
}

/// Every port's asset and speed text (`25G`).
pub async fn port_speeds(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    Ok(on!(db, |p| sqlx::query_as(
        "select asset_id, speed from ports"
    )
    .fetch_all(p)
    .await)?)
}

/// Part model id → category, for every part model.
pub async fn part_categories(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    Ok(on!(db, |p| sqlx::query_as(
        "select id, category from part_models"
    )
    .fetch_all(p)
    .await)?)
}
