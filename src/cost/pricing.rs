//! Instance types packed onto server models, pricing tiers and competitors;
//! pure arithmetic on the output of [`super::model`]. Won, exact, unrounded.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::{AssetCost, Params, per_day, per_month};

/// Hours in a month: 24 × 365 / 12 = 730.
pub const HOURS_PER_MONTH: i64 = 730;

/// An instance type as sold.
#[derive(
    Clone, Debug, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema,
)]
pub struct InstanceType {
    /// Row id.
    pub id: i64,
    /// Name (`m.large`).
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: i64,
    /// RAM, GiB.
    pub ram_gib: i64,
    /// Block storage on Ceph, GB.
    pub disk_gb: i64,
    /// Traffic included per month, GB (the default for its tiers).
    pub included_traffic_gb: i64,
}

/// A pricing tier: a price per day for one instance type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tier {
    /// Row id.
    pub id: i64,
    /// Name (`Standard L`).
    pub name: String,
    /// Instance type sold.
    pub instance_type_id: i64,
    /// Price per instance per day, won.
    pub price_per_day: Decimal,
    /// Traffic included per month, GB.
    pub included_traffic_gb: i64,
    /// Price of each GB beyond that, won.
    pub extra_gb_price: Decimal,
}

/// How a competitor states an instance price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    /// Per hour (a month is 730 hours).
    #[default]
    Hour,
    /// Per month.
    Month,
}

impl Per {
    /// The stored name, `hour` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Per::Hour => "hour",
            Per::Month => "month",
        }
    }
}

/// A competitor's price for the equivalent of one of our instance types.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompetitorPrice {
    /// Our instance type.
    pub instance_type_id: i64,
    /// Their name for it.
    pub their_name: String,
    /// Price in the competitor's currency.
    pub price: Decimal,
    /// Per hour or per month.
    pub per: Per,
}

/// Another cloud's price list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Competitor {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// ISO code of its prices.
    pub currency: String,
    /// Won per unit of `currency`.
    pub fx_rate: Decimal,
    /// Egress price per GB, in `currency`.
    pub egress_per_gb: Decimal,
    /// Free egress per month, GB.
    pub free_egress_gb: i64,
    /// Its instance prices.
    pub prices: Vec<CompetitorPrice>,
}

/// Instances of `t` that fit on a host with `cores` and `ram_gib`: the
/// smaller of `⌊(cores × vcpus_per_core − reserved) × cpu_overcommit ÷ vCPU⌋`
/// and `⌊(RAM − reserved) × ram_overcommit ÷ RAM⌋`, never negative.
pub fn instances_per_server(cores: i64, ram_gib: i64, t: &InstanceType, p: &Params) -> i64 {
    if t.vcpus <= 0 || t.ram_gib <= 0 {
        return 0;
    }
    let vcpu = (Decimal::from(cores) * p.vcpus_per_core - p.host_reserved_vcpus) * p.cpu_overcommit;
    let ram = (Decimal::from(ram_gib) - p.host_reserved_ram_gib) * p.ram_overcommit;
    let by_cpu = (vcpu / Decimal::from(t.vcpus)).floor();
    let by_ram = (ram / Decimal::from(t.ram_gib)).floor();
    i64::try_from(by_cpu.min(by_ram).max(Decimal::ZERO)).unwrap_or(0)
}

/// One instance type on one server model.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InstanceCost {
    /// Server model (template) id.
    pub template_id: i64,
    /// Its name.
    pub template_name: String,
    /// Instance type id.
    pub instance_type_id: i64,
    /// Its name.
    pub instance_type: String,
    /// Servers of this model counted.
    pub servers: i64,
    /// Instances that fit on all of them together.
    pub instances: i64,
    /// The servers' daily cost, won.
    pub servers_daily: Decimal,
    /// Disk on Ceph per instance per day, won.
    pub storage_per_day: Decimal,
    /// Utilisation assumed.
    pub utilisation: Decimal,
    /// Cost per instance per day at that utilisation, won; none if nothing fits.
    pub cost_per_day: Option<Decimal>,
}

impl InstanceCost {
    /// Cost per sold instance per day at utilisation `u`:
    /// `servers_daily ÷ (instances × u) + storage_per_day`.
    pub fn cost_at(&self, u: Decimal) -> Option<Decimal> {
        let sold = Decimal::from(self.instances) * u;
        (sold > Decimal::ZERO).then(|| self.servers_daily / sold + self.storage_per_day)
    }
}

/// Cost per instance per day of every instance type on every server model
/// (servers are assets of kind `server`, grouped by template).
pub fn instance_costs(
    costs: &[AssetCost],
    types: &[InstanceType],
    params: &Params,
    storage_per_gb_day: Decimal,
) -> Vec<InstanceCost> {
    let mut models: BTreeMap<(String, i64), Vec<&AssetCost>> = BTreeMap::new();
    for c in costs.iter().filter(|c| c.asset.kind == "server") {
        if let Some(t) = c.asset.template_id {
            models
                .entry((c.asset.template_name.clone(), t))
                .or_default()
                .push(c);
        }
    }
    let mut out = Vec::new();
    for ((name, template_id), servers) in &models {
        let servers_daily: Decimal = servers.iter().map(|c| c.daily.total()).sum();
        for t in types {
            let instances = servers
                .iter()
                .map(|c| instances_per_server(c.asset.cores, c.asset.ram_gib, t, params))
                .sum();
            let mut ic = InstanceCost {
                template_id: *template_id,
                template_name: name.clone(),
                instance_type_id: t.id,
                instance_type: t.name.clone(),
                servers: i64::try_from(servers.len()).unwrap_or(i64::MAX),
                instances,
                servers_daily,
                storage_per_day: Decimal::from(t.disk_gb) * storage_per_gb_day,
                utilisation: params.utilisation,
                cost_per_day: None,
            };
            ic.cost_per_day = ic.cost_at(params.utilisation);
            out.push(ic);
        }
    }
    out
}

/// A tier on one server model.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TierMargin {
    /// Tier id.
    pub tier_id: i64,
    /// Tier name.
    pub tier: String,
    /// Server model id.
    pub template_id: i64,
    /// Server model name.
    pub template_name: String,
    /// Instance type name.
    pub instance_type: String,
    /// Price per day, won.
    pub price_per_day: Decimal,
    /// Cost per instance per day at the assumed utilisation, won.
    pub cost_per_day: Option<Decimal>,
    /// Price − cost, won per day; negative loses money.
    pub margin_per_day: Option<Decimal>,
    /// Utilisation at which the margin is zero (0.5 = 50%); none if the
    /// price never covers the cost. Above 1 means it cannot break even.
    pub break_even: Option<Decimal>,
    /// What the included traffic costs us per day at the network's cost per
    /// GB, won. Already inside the network share; shown, not subtracted.
    pub included_traffic_per_day: Decimal,
}

/// Margin and break-even utilisation of every tier on every server model.
pub fn tier_margins(
    instance_costs: &[InstanceCost],
    tiers: &[Tier],
    traffic_per_gb: Decimal,
) -> Vec<TierMargin> {
    let mut out = Vec::new();
    for tier in tiers {
        for ic in instance_costs
            .iter()
            .filter(|ic| ic.instance_type_id == tier.instance_type_id)
        {
            let cost = ic.cost_per_day;
            let net = tier.price_per_day - ic.storage_per_day;
            let break_even = (ic.instances > 0 && net > Decimal::ZERO)
                .then(|| ic.servers_daily / (Decimal::from(ic.instances) * net));
            out.push(TierMargin {
                tier_id: tier.id,
                tier: tier.name.clone(),
                template_id: ic.template_id,
                template_name: ic.template_name.clone(),
                instance_type: ic.instance_type.clone(),
                price_per_day: tier.price_per_day,
                cost_per_day: cost,
                margin_per_day: cost.map(|c| tier.price_per_day - c),
                break_even,
                included_traffic_per_day: per_day(
                    Decimal::from(tier.included_traffic_gb) * traffic_per_gb,
                ),
            });
        }
    }
    out
}

/// What a customer pays per month for one tier here and at a competitor.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Comparison {
    /// Tier id.
    pub tier_id: i64,
    /// Tier name.
    pub tier: String,
    /// Competitor name.
    pub competitor: String,
    /// Their name for the instance.
    pub their_name: String,
    /// Traffic per month assumed, GB.
    pub traffic_gb: i64,
    /// Their instance price per month, won.
    pub there_instance: Decimal,
    /// Their egress beyond the free allowance per month, won.
    pub there_egress: Decimal,
    /// Their total per month, won.
    pub there_total: Decimal,
    /// Our tier price per month (price per day × 365/12), won.
    pub here_instance: Decimal,
    /// Our extra traffic beyond the included allowance per month, won.
    pub here_extra: Decimal,
    /// Our total per month, won.
    pub here_total: Decimal,
    /// Their egress price of the traffic our allowance includes and
    /// theirs does not, won per month.
    pub allowance_saves: Decimal,
    /// There − here per month, won; positive means we are cheaper.
    pub customer_saves: Decimal,
}

/// Compares every tier against every competitor that prices its instance type.
pub fn compare(tiers: &[Tier], competitors: &[Competitor], traffic_gb: i64) -> Vec<Comparison> {
    let traffic = traffic_gb.max(0);
    let mut out = Vec::new();
    for tier in tiers {
        for c in competitors {
            let Some(price) = c
                .prices
                .iter()
                .find(|p| p.instance_type_id == tier.instance_type_id)
            else {
                continue;
            };
            let monthly = match price.per {
                Per::Hour => price.price * Decimal::from(HOURS_PER_MONTH),
                Per::Month => price.price,
            };
            let there_instance = monthly * c.fx_rate;
            let paid_gb = Decimal::from((traffic - c.free_egress_gb).max(0));
            let there_egress = paid_gb * c.egress_per_gb * c.fx_rate;
            let here_instance = per_month(tier.price_per_day);
            let extra_gb = Decimal::from((traffic - tier.included_traffic_gb).max(0));
            let here_extra = extra_gb * tier.extra_gb_price;
            let saved_gb =
                Decimal::from((traffic.min(tier.included_traffic_gb) - c.free_egress_gb).max(0));
            let there_total = there_instance + there_egress;
            let here_total = here_instance + here_extra;
            out.push(Comparison {
                tier_id: tier.id,
                tier: tier.name.clone(),
                competitor: c.name.clone(),
                their_name: price.their_name.clone(),
                traffic_gb: traffic,
                there_instance,
                there_egress,
                there_total,
                here_instance,
                here_extra,
                here_total,
                allowance_saves: saved_gb * c.egress_per_gb * c.fx_rate,
                customer_saves: there_total - here_total,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::dec;

    fn params() -> Params {
        Params {
            vcpus_per_core: dec!(2),
            cpu_overcommit: dec!(2),
            ram_overcommit: dec!(1),
            host_reserved_vcpus: dec!(8),
            host_reserved_ram_gib: dec!(16),
            utilisation: dec!(0.8),
            ..Params::default()
        }
    }

    fn large() -> InstanceType {
        InstanceType {
            id: 1,
            name: "m.large".into(),
            vcpus: 4,
            ram_gib: 16,
            disk_gb: 100,
            included_traffic_gb: 500,
        }
    }

    #[test]
    fn packing_takes_the_scarcer_of_cpu_and_ram_after_the_host_reservation() {
        // 64 cores × 2 − 8 = 120 vCPU × 2 = 240 → 60 by CPU; 256 − 16 = 240 GiB → 15 by RAM.
        assert_eq!(instances_per_server(64, 256, &large(), &params()), 15);
        let mut p = params();
        p.ram_overcommit = dec!(1.5);
        // 240 × 1.5 = 360 GiB → 22 by RAM.
        assert_eq!(instances_per_server(64, 256, &large(), &p), 22);
        p.ram_overcommit = dec!(8);
        // RAM no longer binds: 240 vCPU → 60.
        assert_eq!(instances_per_server(64, 256, &large(), &p), 60);
        assert_eq!(
            instances_per_server(2, 8, &large(), &params()),
            0,
            "never negative"
        );
    }

    #[test]
    fn a_competitor_hour_is_a_730th_of_a_month_and_the_allowance_is_priced_at_their_egress() {
        let tier = Tier {
            id: 1,
            name: "Standard L".into(),
            instance_type_id: 1,
            price_per_day: dec!(2000),
            included_traffic_gb: 500,
            extra_gb_price: dec!(50),
        };
        let other = Competitor {
            id: 1,
            name: "OtherCloud".into(),
            currency: "USD".into(),
            fx_rate: dec!(1400),
            egress_per_gb: dec!(0.09),
            free_egress_gb: 100,
            prices: vec![CompetitorPrice {
                instance_type_id: 1,
                their_name: "x.large".into(),
                price: dec!(0.10),
                per: Per::Hour,
            }],
        };
        let c = &compare(&[tier], &[other], 1000)[0];
        assert_eq!(c.there_instance, dec!(102200));
        assert_eq!(c.there_egress, dec!(113400));
        assert_eq!(c.here_extra, dec!(25000));
        assert_eq!(c.allowance_saves, dec!(50400));
    }

    proptest! {
        #[test]
        fn packing_never_exceeds_the_overcommitted_capacity(
            cores in 1i64..256, ram in 1i64..4096, vcpus in 1i64..64, gib in 1i64..512,
            cpu_oc in 1i64..16, ram_oc in 1i64..4,
        ) {
            let mut p = params();
            p.cpu_overcommit = Decimal::from(cpu_oc);
            p.ram_overcommit = Decimal::from(ram_oc);
            let t = InstanceType { vcpus, ram_gib: gib, ..large() };
            let n = instances_per_server(cores, ram, &t, &p);
            prop_assert!(n >= 0);
            let vcpu_cap = (Decimal::from(cores) * p.vcpus_per_core - p.host_reserved_vcpus) * p.cpu_overcommit;
            let ram_cap = (Decimal::from(ram) - p.host_reserved_ram_gib) * p.ram_overcommit;
            prop_assert!(Decimal::from(n * vcpus) <= vcpu_cap.max(Decimal::ZERO));
            prop_assert!(Decimal::from(n * gib) <= ram_cap.max(Decimal::ZERO));
            // One more would not fit.
            prop_assert!(Decimal::from((n + 1) * vcpus) > vcpu_cap || Decimal::from((n + 1) * gib) > ram_cap);
        }

        #[test]
        fn at_break_even_utilisation_the_margin_is_zero(
            daily in 1i64..10_000_000, instances in 1i64..500, price in 10i64..100_000, disk in 0i64..1000,
        ) {
            let ic = InstanceCost {
                template_id: 1, template_name: "t".into(), instance_type_id: 1, instance_type: "i".into(),
                servers: 1, instances, servers_daily: Decimal::from(daily),
                storage_per_day: Decimal::new(disk, 2), utilisation: dec!(0.8), cost_per_day: None,
            };
            let tier = Tier { instance_type_id: 1, price_per_day: Decimal::from(price), ..Tier::default() };
            let m = &tier_margins(std::slice::from_ref(&ic), std::slice::from_ref(&tier), Decimal::ZERO)[0];
            let u = m.break_even.expect("price above the disk cost");
            let cost = ic.cost_at(u).expect("positive utilisation");
            prop_assert!((tier.price_per_day - cost).abs() < dec!(0.0000001), "margin {} at {}", tier.price_per_day - cost, u);
        }
    }
}
