//! The cost engine, pure: no database. Inputs are assets with their capital
//! cost and place, the parameters in force, and (optionally) measured watts;
//! outputs are a daily breakdown per asset and totals. Instance packing,
//! tiers and competitors are in [`super::pricing`].
//!
//! Everything is an exact `Decimal` in base-currency **major** units (won).
//! Nothing is rounded here; pages round half away from zero to the base
//! currency's minor unit when they display (see `docs/cost-model.md`).
//!
//! A month is 365/12 days. A monthly amount `m` costs `m × 12 / 365` a day,
//! computed in that order so the only inexact step is the final division.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Days in a year; a month is a twelfth of it.
pub const DAYS_PER_YEAR: i64 = 365;

/// A monthly amount per day: `monthly × 12 / 365`.
pub fn per_day(monthly: Decimal) -> Decimal {
    monthly * Decimal::from(12) / Decimal::from(DAYS_PER_YEAR)
}

/// A daily amount per month: `daily × 365 / 12`.
pub fn per_month(daily: Decimal) -> Decimal {
    daily * Decimal::from(DAYS_PER_YEAR) / Decimal::from(12)
}

/// How capital cost is spread over an asset class's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The same amount every day for `months`.
    #[default]
    StraightLine,
    /// Double declining balance by month, switching to straight line over the
    /// months left when that charges more; fully written off after `months`.
    DecliningBalance,
}

impl Method {
    /// Parses `straight_line` or `declining_balance`.
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "straight_line" => Some(Method::StraightLine),
            "declining_balance" => Some(Method::DecliningBalance),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::StraightLine => "straight_line",
            Method::DecliningBalance => "declining_balance",
        }
    }
}

/// How a site's network cost is shared among the assets placed there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NetworkShare {
    /// Equally per asset.
    #[default]
    PerAsset,
    /// By rack units occupied.
    PerU,
    /// By the sum of the asset's port speeds (Gbit/s).
    PerPortSpeed,
}

impl NetworkShare {
    /// Parses `per_asset`, `per_u` or `per_port_speed`.
    pub fn parse(s: &str) -> Option<NetworkShare> {
        match s {
            "per_asset" => Some(NetworkShare::PerAsset),
            "per_u" => Some(NetworkShare::PerU),
            "per_port_speed" => Some(NetworkShare::PerPortSpeed),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkShare::PerAsset => "per_asset",
            NetworkShare::PerU => "per_u",
            NetworkShare::PerPortSpeed => "per_port_speed",
        }
    }
}

/// Parameters of one site.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteParams {
    /// Electricity, won per kWh.
    pub electricity_per_kwh: Decimal,
    /// Power usage effectiveness (facility power / IT power, ≥ 1).
    pub pue: Decimal,
    /// Monthly cost of a rack at this site, won, for racks without their own.
    pub rack_monthly: Decimal,
    /// Network (uplinks, transit) per month, won.
    pub network_monthly: Decimal,
    /// How the network cost is shared.
    pub network_share: NetworkShare,
    /// Traffic the network carries per month, GB (prices a GB of traffic).
    pub traffic_gb_month: Decimal,
}

/// Parameters of one asset class (asset kind: server, storage, switch...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassParams {
    /// Months over which the capital cost is written off.
    pub depreciation_months: u32,
    /// Support labour per asset per month, won.
    pub support_monthly: Decimal,
}

impl Default for ClassParams {
    fn default() -> Self {
        ClassParams {
            depreciation_months: 60,
            support_monthly: Decimal::ZERO,
        }
    }
}

/// The parameters in force: one version, possibly with scenario overrides applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Depreciation method.
    pub method: Method,
    /// Hardware threads (vCPUs) per CPU core.
    pub vcpus_per_core: Decimal,
    /// vCPUs sold per vCPU left after the host's reservation.
    pub cpu_overcommit: Decimal,
    /// GiB sold per GiB left after the host's reservation.
    pub ram_overcommit: Decimal,
    /// vCPUs kept for the host.
    pub host_reserved_vcpus: Decimal,
    /// GiB of RAM kept for the host.
    pub host_reserved_ram_gib: Decimal,
    /// Ceph replication factor (3 copies = 3).
    pub ceph_replication: Decimal,
    /// Fill of the raw capacity Ceph may reach (0.75 = 75%).
    pub ceph_target_fill: Decimal,
    /// Share of instance slots sold (0.8 = 80%).
    pub utilisation: Decimal,
    /// Per site id.
    pub sites: HashMap<i64, SiteParams>,
    /// Per asset kind; kinds without an entry use [`ClassParams::default`].
    pub classes: HashMap<String, ClassParams>,
}

impl Params {
    /// The class parameters of `kind`.
    pub fn class(&self, kind: &str) -> ClassParams {
        self.classes.get(kind).cloned().unwrap_or_default()
    }
}

/// An asset as the engine sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AssetIn {
    /// Asset id.
    pub id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// Build template (server model) id.
    pub template_id: Option<i64>,
    /// Its name.
    pub template_name: String,
    /// Asset kind, which is its class and role (server, storage, switch...).
    pub kind: String,
    /// Site id.
    pub site_id: i64,
    /// Site name.
    pub site_name: String,
    /// Rack id.
    pub rack_id: i64,
    /// U of the rack that can hold equipment (its usable U; the full height
    /// unless set): the rack's cost is shared over these.
    pub rack_usable_u: i64,
    /// The rack's own monthly cost, won; zero means the site's rack cost.
    pub rack_monthly: Decimal,
    /// Rack units the asset occupies.
    pub height_u: i64,
    /// Nameplate power, watts.
    pub nameplate_watts: Decimal,
    /// Capital cost: landed cost of installed units plus assembly labour, won.
    pub capital: Decimal,
    /// Whole months since the asset was built.
    pub age_months: u32,
    /// Sum of its port speeds, Gbit/s.
    pub port_gbps: Decimal,
    /// CPU cores installed.
    pub cores: i64,
    /// RAM installed, GiB.
    pub ram_gib: i64,
    /// Raw capacity of installed drives, GB.
    pub disk_gb: i64,
}

/// One asset's cost per day, by component, won.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Breakdown {
    /// Depreciation of the capital cost.
    pub depreciation: Decimal,
    /// Electricity, PUE included.
    pub power: Decimal,
    /// Share of the rack's cost.
    pub rack: Decimal,
    /// Share of the site's network cost.
    pub network: Decimal,
    /// Support labour.
    pub labour: Decimal,
}

impl Breakdown {
    /// Sum of the components.
    pub fn total(&self) -> Decimal {
        self.depreciation + self.power + self.rack + self.network + self.labour
    }

    fn add(&mut self, o: &Breakdown) {
        self.depreciation += o.depreciation;
        self.power += o.power;
        self.rack += o.rack;
        self.network += o.network;
        self.labour += o.labour;
    }
}

/// An asset's daily cost with what it was computed from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssetCost {
    /// The asset.
    pub asset: AssetIn,
    /// Watts used for power.
    pub watts: Decimal,
    /// Whether `watts` were measured (else nameplate).
    pub measured: bool,
    /// Cost per day.
    pub daily: Breakdown,
}

/// A total over a group of assets.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Total {
    /// Group name (template, site or kind).
    pub name: String,
    /// Assets counted.
    pub assets: i64,
    /// Sum of their daily breakdowns.
    pub daily: Breakdown,
}

/// Daily depreciation of `capital` in month `age` (from 0) of a `months` life.
pub fn depreciation(method: Method, capital: Decimal, months: u32, age: u32) -> Decimal {
    if months == 0 || age >= months || capital <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    let n = Decimal::from(months);
    let monthly = match method {
        Method::StraightLine => capital / n,
        Method::DecliningBalance => {
            let rate = Decimal::TWO / n;
            let mut book = capital;
            let mut charge = Decimal::ZERO;
            for m in 0..=age {
                let left = Decimal::from(months - m);
                charge = (book * rate).max(book / left).min(book);
                book -= charge;
            }
            charge
        }
    };
    per_day(monthly)
}

/// Daily electricity cost of `watts` at a site: `W × 24 / 1000 × PUE × price`.
pub fn power_per_day(watts: Decimal, site: &SiteParams) -> Decimal {
    watts * Decimal::from(24) / Decimal::from(1000) * site.pue * site.electricity_per_kwh
}

fn network_weight(a: &AssetIn, share: NetworkShare) -> Decimal {
    match share {
        NetworkShare::PerAsset => Decimal::ONE,
        NetworkShare::PerU => Decimal::from(a.height_u),
        NetworkShare::PerPortSpeed => a.port_gbps,
    }
}

/// The daily cost of every asset. `measured` maps asset id to average
/// measured watts; assets without a measurement use their nameplate watts.
pub fn asset_costs(
    assets: &[AssetIn],
    params: &Params,
    measured: &HashMap<i64, Decimal>,
) -> Vec<AssetCost> {
    let empty = SiteParams::default();
    // Sum of network weights per site; a site whose weights are all zero
    // (per port speed, no ports) falls back to sharing per asset.
    let mut weights: HashMap<i64, (Decimal, i64)> = HashMap::new();
    for a in assets {
        let share = params.sites.get(&a.site_id).unwrap_or(&empty).network_share;
        let e = weights.entry(a.site_id).or_default();
        e.0 += network_weight(a, share);
        e.1 += 1;
    }
    assets
        .iter()
        .map(|a| {
            let site = params.sites.get(&a.site_id).unwrap_or(&empty);
            let class = params.class(&a.kind);
            let (watts, is_measured) = match measured.get(&a.id) {
                Some(w) => (*w, true),
                None => (a.nameplate_watts, false),
            };
            let rack_monthly = if a.rack_monthly > Decimal::ZERO {
                a.rack_monthly
            } else {
                site.rack_monthly
            };
            let rack = if a.rack_usable_u > 0 {
                per_day(rack_monthly * Decimal::from(a.height_u) / Decimal::from(a.rack_usable_u))
            } else {
                Decimal::ZERO
            };
            let (sum, count) = weights.get(&a.site_id).copied().unwrap_or_default();
            let network = if sum > Decimal::ZERO {
                per_day(site.network_monthly * network_weight(a, site.network_share) / sum)
            } else if count > 0 {
                per_day(site.network_monthly / Decimal::from(count))
            } else {
                Decimal::ZERO
            };
            AssetCost {
                asset: a.clone(),
                watts,
                measured: is_measured,
                daily: Breakdown {
                    depreciation: depreciation(
                        params.method,
                        a.capital,
                        class.depreciation_months,
                        a.age_months,
                    ),
                    power: power_per_day(watts, site),
                    rack,
                    network,
                    labour: per_day(class.support_monthly),
                },
            }
        })
        .collect()
}

/// Totals grouped by `key`, by group name.
pub fn totals_by(costs: &[AssetCost], key: impl Fn(&AssetIn) -> String) -> Vec<Total> {
    let mut groups: BTreeMap<String, Total> = BTreeMap::new();
    for c in costs {
        let name = key(&c.asset);
        let t = groups.entry(name.clone()).or_insert_with(|| Total {
            name,
            ..Total::default()
        });
        t.assets += 1;
        t.daily.add(&c.daily);
    }
    groups.into_values().collect()
}

/// Ceph storage: cost per usable GB per day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Storage {
    /// Storage nodes counted.
    pub nodes: i64,
    /// Their daily cost, won.
    pub daily_cost: Decimal,
    /// Raw drive capacity, GB.
    pub raw_gb: Decimal,
    /// Sellable capacity: raw ÷ replication × target fill, GB.
    pub usable_gb: Decimal,
    /// Daily cost ÷ usable GB, won; zero without storage nodes.
    pub per_usable_gb_day: Decimal,
}

/// The cost of Ceph storage from the assets of kind `storage`.
pub fn storage(costs: &[AssetCost], params: &Params) -> Storage {
    let nodes: Vec<&AssetCost> = costs.iter().filter(|c| c.asset.kind == "storage").collect();
    let daily_cost: Decimal = nodes.iter().map(|c| c.daily.total()).sum();
    let raw_gb: Decimal = nodes.iter().map(|c| Decimal::from(c.asset.disk_gb)).sum();
    let usable_gb = if params.ceph_replication > Decimal::ZERO {
        raw_gb / params.ceph_replication * params.ceph_target_fill
    } else {
        Decimal::ZERO
    };
    Storage {
        nodes: i64::try_from(nodes.len()).unwrap_or(i64::MAX),
        daily_cost,
        raw_gb,
        per_usable_gb_day: if usable_gb > Decimal::ZERO {
            daily_cost / usable_gb
        } else {
            Decimal::ZERO
        },
        usable_gb,
    }
}

/// Won per GB of traffic: all sites' network cost over all their traffic.
pub fn traffic_cost_per_gb(params: &Params) -> Decimal {
    let (cost, gb) = params
        .sites
        .values()
        .filter(|s| s.traffic_gb_month > Decimal::ZERO)
        .fold((Decimal::ZERO, Decimal::ZERO), |(c, g), s| {
            (c + s.network_monthly, g + s.traffic_gb_month)
        });
    if gb > Decimal::ZERO {
        cost / gb
    } else {
        Decimal::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::dec;

    fn site() -> SiteParams {
        SiteParams {
            electricity_per_kwh: dec!(150),
            pue: dec!(1.5),
            rack_monthly: dec!(0),
            network_monthly: dec!(182500),
            network_share: NetworkShare::PerAsset,
            traffic_gb_month: dec!(50000),
        }
    }

    #[test]
    fn power_is_watts_times_hours_times_pue_times_price() {
        assert_eq!(power_per_day(dec!(400), &site()), dec!(2160));
    }

    #[test]
    fn straight_line_is_capital_over_the_months_then_nothing() {
        let d = depreciation(Method::StraightLine, dec!(1825), 60, 0);
        assert_eq!(d, dec!(1));
        assert_eq!(
            depreciation(Method::StraightLine, dec!(1825), 60, 60),
            dec!(0)
        );
    }

    #[test]
    fn declining_balance_front_loads_and_writes_everything_off() {
        let months = 60;
        let capital = dec!(6000000);
        let first = depreciation(Method::DecliningBalance, capital, months, 0);
        let sl = depreciation(Method::StraightLine, capital, months, 0);
        assert!(first > sl, "declining balance charges more at first");
        let total: Decimal = (0..months)
            .map(|m| per_month(depreciation(Method::DecliningBalance, capital, months, m)))
            .sum();
        assert!((total - capital).abs() < dec!(0.000001), "{total}");
    }

    #[test]
    fn network_is_shared_by_u_and_falls_back_to_per_asset_without_ports() {
        let mut p = Params::default();
        let mut s = site();
        s.network_share = NetworkShare::PerU;
        s.network_monthly = dec!(365);
        p.sites.insert(1, s.clone());
        let a = |id, u| AssetIn {
            id,
            site_id: 1,
            height_u: u,
            ..AssetIn::default()
        };
        let c = asset_costs(&[a(1, 1), a(2, 3)], &p, &HashMap::new());
        assert_eq!(c[0].daily.network, dec!(3));
        assert_eq!(c[1].daily.network, dec!(9));
        s.network_share = NetworkShare::PerPortSpeed;
        p.sites.insert(1, s);
        let c = asset_costs(&[a(1, 1), a(2, 3)], &p, &HashMap::new());
        assert_eq!(c[0].daily.network, dec!(6));
    }

    #[test]
    fn measured_watts_replace_the_nameplate() {
        let mut p = Params::default();
        p.sites.insert(1, site());
        let a = AssetIn {
            id: 7,
            site_id: 1,
            nameplate_watts: dec!(400),
            ..AssetIn::default()
        };
        let measured = HashMap::from([(7, dec!(200))]);
        let c = asset_costs(std::slice::from_ref(&a), &p, &measured);
        assert!(c[0].measured);
        assert_eq!(c[0].daily.power, dec!(1080));
    }

    #[test]
    fn storage_counts_replication_and_fill() {
        let mut p = Params {
            ceph_replication: dec!(3),
            ceph_target_fill: dec!(0.75),
            ..Params::default()
        };
        p.classes.insert(
            "storage".into(),
            ClassParams {
                depreciation_months: 60,
                support_monthly: dec!(365),
            },
        );
        let node = AssetIn {
            id: 1,
            kind: "storage".into(),
            disk_gb: 40000,
            ..AssetIn::default()
        };
        let costs = asset_costs(&[node], &p, &HashMap::new());
        let s = storage(&costs, &p);
        assert_eq!(s.usable_gb, dec!(10000));
        assert_eq!(s.daily_cost, dec!(12));
        assert_eq!(s.per_usable_gb_day, dec!(0.0012));
    }

    proptest! {
        #[test]
        fn a_month_of_days_is_the_monthly_amount(m in 0i64..10_000_000_000) {
            let monthly = Decimal::from(m);
            let back = per_month(per_day(monthly));
            prop_assert!((back - monthly).abs() < dec!(0.000001));
        }

        #[test]
        fn network_shares_add_up_to_the_site_cost(us in proptest::collection::vec(1i64..10, 1..20)) {
            let mut p = Params::default();
            let mut s = site();
            s.network_share = NetworkShare::PerU;
            p.sites.insert(1, s.clone());
            let assets: Vec<AssetIn> = us.iter().enumerate().map(|(i, u)| AssetIn {
                id: i64::try_from(i).unwrap_or(0), site_id: 1, height_u: *u, ..AssetIn::default()
            }).collect();
            let total: Decimal = asset_costs(&assets, &p, &HashMap::new()).iter().map(|c| c.daily.network).sum();
            prop_assert!((total - per_day(s.network_monthly)).abs() < dec!(0.000001));
        }
    }
}
