//! View models of the cost pages: the engine's exact figures as `Money`
//! (rounded half away from zero to the minor unit when shown) and percentages.

use std::collections::HashMap;

use rust_decimal::{Decimal, RoundingStrategy};

use super::model::{Breakdown, Total};
use super::service::Report;
use crate::money::{Currency, Money};

/// A ratio as a percentage with one decimal (`51.2%`), rounded half away from zero.
pub fn percent(r: Decimal) -> String {
    let p = (r * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero);
    format!("{p:.1}%")
}

/// A daily breakdown as money.
#[derive(Clone, Debug)]
pub struct BreakdownView {
    /// Group or asset name.
    pub name: String,
    /// Link to the asset, if one.
    pub asset_id: Option<i64>,
    /// Assets counted.
    pub assets: i64,
    /// Depreciation.
    pub depreciation: Money,
    /// Power.
    pub power: Money,
    /// Rack.
    pub rack: Money,
    /// Network.
    pub network: Money,
    /// Labour.
    pub labour: Money,
    /// Total.
    pub total: Money,
    /// Exact total, for comparing.
    pub exact_total: Decimal,
}

impl BreakdownView {
    /// From a breakdown.
    pub fn new(name: &str, assets: i64, b: &Breakdown, base: Currency) -> BreakdownView {
        let m = |d: Decimal| Money::new(d, base);
        BreakdownView {
            name: name.to_owned(),
            asset_id: None,
            assets,
            depreciation: m(b.depreciation),
            power: m(b.power),
            rack: m(b.rack),
            network: m(b.network),
            labour: m(b.labour),
            total: m(b.total()),
            exact_total: b.total(),
        }
    }

    fn of_total(t: &Total, base: Currency) -> BreakdownView {
        BreakdownView::new(&t.name, t.assets, &t.daily, base)
    }
}

/// One instance type on one server model.
#[derive(Clone, Debug)]
pub struct InstanceRow {
    /// Key: (template id, instance type id).
    pub key: (i64, i64),
    /// Server model.
    pub template: String,
    /// Instance type.
    pub instance_type: String,
    /// Servers.
    pub servers: i64,
    /// Instances that fit.
    pub instances: i64,
    /// Cost per instance per day.
    pub cost: Option<Money>,
    /// Exact.
    pub exact: Option<Decimal>,
}

/// One tier on one server model.
#[derive(Clone, Debug)]
pub struct TierRow {
    /// Key: (tier id, template id).
    pub key: (i64, i64),
    /// Tier.
    pub tier: String,
    /// Server model.
    pub template: String,
    /// Instance type.
    pub instance_type: String,
    /// Price per day.
    pub price: Money,
    /// Cost per day.
    pub cost: Option<Money>,
    /// Margin per day.
    pub margin: Option<Money>,
    /// Exact margin.
    pub exact_margin: Option<Decimal>,
    /// Whether the margin is negative.
    pub losing: bool,
    /// Break-even utilisation, as a percentage.
    pub break_even: String,
    /// Whether break-even is above the assumed utilisation.
    pub below_break_even: bool,
    /// Included traffic per day.
    pub included_traffic: Money,
}

/// Everything an overview shows.
#[derive(Clone, Debug)]
pub struct ReportView {
    /// Per asset.
    pub assets: Vec<BreakdownView>,
    /// Per server model.
    pub by_template: Vec<BreakdownView>,
    /// Per site.
    pub by_site: Vec<BreakdownView>,
    /// Per role.
    pub by_kind: Vec<BreakdownView>,
    /// All.
    pub total: BreakdownView,
    /// Instance costs.
    pub instances: Vec<InstanceRow>,
    /// Tier margins.
    pub tiers: Vec<TierRow>,
    /// Storage: nodes, usable GB, cost per usable GB per day.
    pub storage_nodes: i64,
    /// Usable GB, whole.
    pub storage_usable_gb: Decimal,
    /// Cost per usable GB per day, exact to 4 places.
    pub storage_per_gb_day: Decimal,
    /// Utilisation assumed.
    pub utilisation: String,
}

impl ReportView {
    /// Views of a report.
    pub fn new(r: &Report, base: Currency) -> ReportView {
        let m = |d: Decimal| Money::new(d, base);
        ReportView {
            assets: r
                .assets
                .iter()
                .map(|a| {
                    let mut v = BreakdownView::new(&a.asset.asset_tag, 1, &a.daily, base);
                    v.asset_id = Some(a.asset.id);
                    v
                })
                .collect(),
            by_template: r
                .by_template
                .iter()
                .map(|t| BreakdownView::of_total(t, base))
                .collect(),
            by_site: r
                .by_site
                .iter()
                .map(|t| BreakdownView::of_total(t, base))
                .collect(),
            by_kind: r
                .by_kind
                .iter()
                .map(|t| BreakdownView::of_total(t, base))
                .collect(),
            total: BreakdownView::new(
                "",
                i64::try_from(r.assets.len()).unwrap_or(0),
                &r.total,
                base,
            ),
            instances: r
                .instance_costs
                .iter()
                .map(|ic| InstanceRow {
                    key: (ic.template_id, ic.instance_type_id),
                    template: ic.template_name.clone(),
                    instance_type: ic.instance_type.clone(),
                    servers: ic.servers,
                    instances: ic.instances,
                    cost: ic.cost_per_day.map(m),
                    exact: ic.cost_per_day,
                })
                .collect(),
            tiers: r
                .tier_margins
                .iter()
                .map(|t| TierRow {
                    key: (t.tier_id, t.template_id),
                    tier: t.tier.clone(),
                    template: t.template_name.clone(),
                    instance_type: t.instance_type.clone(),
                    price: m(t.price_per_day),
                    cost: t.cost_per_day.map(m),
                    margin: t.margin_per_day.map(m),
                    exact_margin: t.margin_per_day,
                    losing: t.margin_per_day.is_none_or(|x| x.is_sign_negative()),
                    break_even: t.break_even.map(percent).unwrap_or_else(|| "—".into()),
                    below_break_even: t.break_even.is_none_or(|b| b > r.params.utilisation),
                    included_traffic: m(t.included_traffic_per_day),
                })
                .collect(),
            storage_nodes: r.storage.nodes,
            storage_usable_gb: r.storage.usable_gb.round(),
            storage_per_gb_day: r
                .storage
                .per_usable_gb_day
                .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero),
            utilisation: percent(r.params.utilisation),
        }
    }
}

/// A figure under the baseline and under a scenario.
#[derive(Clone, Debug)]
pub struct Delta {
    /// What.
    pub name: String,
    /// Second label (server model).
    pub detail: String,
    /// Baseline.
    pub baseline: Option<Money>,
    /// Scenario.
    pub scenario: Option<Money>,
    /// Scenario − baseline.
    pub difference: Option<Money>,
    /// Whether the scenario's figure is negative (a margin that stops paying).
    pub negative: bool,
}

fn delta(
    name: String,
    detail: String,
    a: Option<Decimal>,
    b: Option<Decimal>,
    base: Currency,
) -> Delta {
    Delta {
        name,
        detail,
        baseline: a.map(|x| Money::new(x, base)),
        scenario: b.map(|x| Money::new(x, base)),
        difference: a.zip(b).map(|(a, b)| Money::new(b - a, base)),
        negative: b.is_some_and(|x| x.is_sign_negative()),
    }
}

/// Pairs rows of the baseline with the scenario's rows of the same key.
/// `row` gives a row's key, name, detail and exact figure.
fn pair<T, K: std::hash::Hash + Eq>(
    baseline: &[T],
    scenario: &[T],
    row: impl Fn(&T) -> (K, String, String, Option<Decimal>),
    base: Currency,
) -> Vec<Delta> {
    let with: HashMap<K, Option<Decimal>> = scenario
        .iter()
        .map(|r| {
            let (k, _, _, v) = row(r);
            (k, v)
        })
        .collect();
    baseline
        .iter()
        .map(|r| {
            let (k, name, detail, v) = row(r);
            delta(name, detail, v, with.get(&k).copied().flatten(), base)
        })
        .collect()
}

/// The scenario beside the baseline: asset totals, instance costs, tier margins.
pub fn compare(
    baseline: &ReportView,
    scenario: &ReportView,
    base: Currency,
) -> (Vec<Delta>, Vec<Delta>, Vec<Delta>) {
    let assets = pair(
        &baseline.assets,
        &scenario.assets,
        |a| {
            (
                a.asset_id,
                a.name.clone(),
                String::new(),
                Some(a.exact_total),
            )
        },
        base,
    );
    let instances = pair(
        &baseline.instances,
        &scenario.instances,
        |i| (i.key, i.instance_type.clone(), i.template.clone(), i.exact),
        base,
    );
    let tiers = pair(
        &baseline.tiers,
        &scenario.tiers,
        |t| (t.key, t.tier.clone(), t.template.clone(), t.exact_margin),
        base,
    );
    (assets, instances, tiers)
}

/// One line of what a scenario changes: the parameter, its value without the
/// scenario on the page's day, and with it.
#[derive(Clone, Debug)]
pub struct Change {
    /// The parameter, as a catalogue message.
    pub parameter: crate::i18n::Msg,
    /// Value in force without the scenario; `None` when it differs per
    /// order (exchange rates and part prices are as recorded on each order).
    pub from: Option<String>,
    /// Value under the scenario.
    pub to: String,
}

/// What `ov` changes against the parameters `baseline` in force, in the order
/// of the scenario form.
pub fn changes(ov: &super::scenario::Overrides, baseline: &super::model::Params) -> Vec<Change> {
    use crate::i18n::Msg;
    let dec = |d: Decimal| d.normalize().to_string();
    let mut out = Vec::new();
    for (code, rate) in &ov.fx_rates {
        out.push(Change {
            parameter: Msg::new("cost.fx_of").arg("currency", code),
            from: None,
            to: dec(*rate),
        });
    }
    for (category, pct) in &ov.part_price_pct {
        let sign = if pct.is_sign_positive() { "+" } else { "" };
        out.push(Change {
            parameter: Msg::new("cost.price_of").arg_code("category", "category", category),
            from: None,
            to: format!("{sign}{}%", dec(*pct)),
        });
    }
    for (kind, months) in &ov.depreciation_months {
        out.push(Change {
            parameter: Msg::new("cost.depreciation_of").arg_code("kind", "asset_kind", kind),
            from: Some(baseline.class(kind).depreciation_months.to_string()),
            to: months.to_string(),
        });
    }
    if let Some(price) = ov.electricity_per_kwh {
        let mut prices: Vec<Decimal> = baseline
            .sites
            .values()
            .map(|s| s.electricity_per_kwh.normalize())
            .collect();
        prices.sort();
        prices.dedup();
        let from: Vec<String> = prices.into_iter().map(dec).collect();
        out.push(Change {
            parameter: Msg::new("cost.electricity_per_kwh"),
            from: Some(from.join(", ")),
            to: dec(price),
        });
    }
    for (key, to, from) in [
        ("cost.utilisation", ov.utilisation, baseline.utilisation),
        (
            "cost.cpu_overcommit",
            ov.cpu_overcommit,
            baseline.cpu_overcommit,
        ),
        (
            "cost.ram_overcommit",
            ov.ram_overcommit,
            baseline.ram_overcommit,
        ),
    ] {
        if let Some(to) = to {
            out.push(Change {
                parameter: Msg::new(key),
                from: Some(dec(from)),
                to: dec(to),
            });
        }
    }
    out
}
