//! Cost parameter versions: a version is in force from its effective day
//! until the next; versions are added, never changed.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;
use tracing::instrument;

use super::catalog::{self, decimal, whole};
use super::model::{ClassParams, Method, NetworkShare, Params, SiteParams};
use super::repo::{self, ClassRow, ParamsRow, SiteRow};
use crate::audit::{self, Action, Actor};
use crate::db::{Db, DbDecimal};
use crate::error::{AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::{Currency, Money};

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

/// The version header as typed, checked.
fn check_header(i: &ParamsInput, e: &mut FieldErrors) -> ParamsRow {
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
        whole("watts_window_days", &i.watts_window_days, 1, e)
    };
    ParamsRow {
        id: 0,
        effective_from: day.unwrap_or_else(crate::procurement::fx::today),
        depreciation_method: i.depreciation_method.clone(),
        vcpus_per_core: DbDecimal(at_least(
            "vcpus_per_core",
            &i.vcpus_per_core,
            Decimal::ONE,
            e,
        )),
        cpu_overcommit: DbDecimal(at_least(
            "cpu_overcommit",
            &i.cpu_overcommit,
            Decimal::new(1, 1),
            e,
        )),
        ram_overcommit: DbDecimal(at_least(
            "ram_overcommit",
            &i.ram_overcommit,
            Decimal::new(1, 1),
            e,
        )),
        host_reserved_vcpus: DbDecimal(decimal("host_reserved_vcpus", &i.host_reserved_vcpus, e)),
        host_reserved_ram_gib: DbDecimal(decimal(
            "host_reserved_ram_gib",
            &i.host_reserved_ram_gib,
            e,
        )),
        ceph_replication: DbDecimal(at_least(
            "ceph_replication",
            &i.ceph_replication,
            Decimal::ONE,
            e,
        )),
        ceph_target_fill: DbDecimal(fraction("ceph_target_fill", &i.ceph_target_fill, e)),
        utilisation: DbDecimal(fraction("utilisation", &i.utilisation, e)),
        watts_window_days: window,
        note: i.note.trim().to_owned(),
        created_at: crate::clock::now(),
    }
}

/// The site rows as typed, checked against the sites that exist.
fn check_sites(
    i: &ParamsInput,
    known: &HashSet<i64>,
    base: Currency,
    e: &mut FieldErrors,
) -> Vec<SiteRow> {
    i.sites
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
                    e,
                )),
                pue: DbDecimal(at_least("pue", &s.pue, Decimal::ONE, e)),
                rack_monthly_minor: money_minor("rack_monthly", &s.rack_monthly, base, e),
                network_monthly_minor: money_minor("network_monthly", &s.network_monthly, base, e),
                network_share: s.network_share.clone(),
                traffic_gb_month: whole(
                    "traffic_gb_month",
                    if s.traffic_gb_month.trim().is_empty() {
                        "0"
                    } else {
                        &s.traffic_gb_month
                    },
                    0,
                    e,
                ),
            }
        })
        .collect()
}

/// The class rows as typed, checked.
fn check_classes(i: &ParamsInput, base: Currency, e: &mut FieldErrors) -> Vec<ClassRow> {
    i.classes
        .iter()
        .map(|c| {
            let months = whole("depreciation_months", &c.depreciation_months, 1, e);
            if months > 600 {
                e.add(
                    "depreciation_months",
                    Msg::new("validation.whole_number").arg("value", months),
                );
            }
            ClassRow {
                asset_kind: catalog::name("asset_kind", &c.asset_kind, e),
                depreciation_months: months,
                support_monthly_minor: money_minor("support_monthly", &c.support_monthly, base, e),
            }
        })
        .collect()
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
    let row = check_header(i, &mut e);
    let known: HashSet<i64> = crate::datacenter::racks::sites(db)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let sites = check_sites(i, &known, base, &mut e);
    let classes = check_classes(i, base, &mut e);
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
