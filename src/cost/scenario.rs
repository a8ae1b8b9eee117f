//! What-if overrides, applied in memory to the parameters and to the landed
//! cost of installed units. Pure: recorded data is never touched.
//!
//! Exchange-rate and part-price overrides restate each affected unit exactly
//! as procurement would: its order is recomputed through
//! [`orders::compute_landed`] with the overridden rate (on the order and on
//! its extra costs in that currency) and prices, and the unit takes
//! [`orders::position_cost`] of its line. Units that did not come from an
//! order keep their recorded cost, scaled by the percentage of their category.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::Params;
use crate::db::DbDecimal;
use crate::error::{AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::money::Currency;
use crate::procurement::orders::{self, Landed};
use crate::procurement::orders_repo::{CostRow, LineRow, PoRow};

/// What a scenario changes. Everything is optional; empty maps change nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Overrides {
    /// Won per unit of a currency (`{"USD": "1540"}`), for orders and their costs.
    #[serde(default)]
    pub fx_rates: BTreeMap<String, Decimal>,
    /// Part price change by category, percent (`{"memory": "40"}` = 40% dearer).
    #[serde(default)]
    pub part_price_pct: BTreeMap<String, Decimal>,
    /// Electricity price per kWh at every site, won.
    #[serde(default)]
    pub electricity_per_kwh: Option<Decimal>,
    /// Depreciation months by asset kind (`{"server": 60}`).
    #[serde(default)]
    pub depreciation_months: BTreeMap<String, u32>,
    /// Utilisation (0.6 = 60%).
    #[serde(default)]
    pub utilisation: Option<Decimal>,
    /// CPU overcommit ratio.
    #[serde(default)]
    pub cpu_overcommit: Option<Decimal>,
    /// RAM overcommit ratio.
    #[serde(default)]
    pub ram_overcommit: Option<Decimal>,
}

impl Overrides {
    /// Whether unit costs must be restated.
    pub fn touches_units(&self) -> bool {
        !self.fx_rates.is_empty() || !self.part_price_pct.is_empty()
    }

    /// The parameters with these overrides applied.
    pub fn apply(&self, p: &Params) -> Params {
        let mut out = p.clone();
        if let Some(price) = self.electricity_per_kwh {
            for s in out.sites.values_mut() {
                s.electricity_per_kwh = price;
            }
        }
        for (kind, months) in &self.depreciation_months {
            let mut c = out.class(kind);
            c.depreciation_months = *months;
            out.classes.insert(kind.clone(), c);
        }
        if let Some(u) = self.utilisation {
            out.utilisation = u;
        }
        if let Some(r) = self.cpu_overcommit {
            out.cpu_overcommit = r;
        }
        if let Some(r) = self.ram_overcommit {
            out.ram_overcommit = r;
        }
        out
    }

    /// Whether applying these changes anything (a 0% price change does not).
    pub fn changes_something(&self) -> bool {
        !self.fx_rates.is_empty()
            || self.part_price_pct.values().any(|p| !p.is_zero())
            || !self.depreciation_months.is_empty()
            || self.electricity_per_kwh.is_some()
            || self.utilisation.is_some()
            || self.cpu_overcommit.is_some()
            || self.ram_overcommit.is_some()
    }

    /// Every rule a saved scenario keeps, as field errors named after the
    /// JSON fields (`fx_rates`, `part_price_pct`, ...; `overrides` when it
    /// changes nothing). The API and the form both go through this.
    pub fn check(&self) -> FieldErrors {
        let mut e = FieldErrors::default();
        for (code, rate) in &self.fx_rates {
            match Currency::parse(code) {
                None => e.add(
                    "fx_rates",
                    Msg::new("validation.currency").arg("value", code),
                ),
                Some(_) if *rate <= Decimal::ZERO => {
                    e.add("fx_rates", Msg::new("validation.rate").arg("value", rate));
                }
                Some(_) => {}
            }
        }
        for (category, pct) in &self.part_price_pct {
            if !crate::procurement::model::CATEGORIES.contains(&category.as_str()) {
                e.add("part_price_pct", Msg::new("validation.category"));
            } else if !pct_ok(*pct) {
                e.add(
                    "part_price_pct",
                    Msg::new("cost.pct_range").arg("value", pct),
                );
            }
        }
        for (kind, months) in &self.depreciation_months {
            if !crate::inventory::templates::ASSET_KINDS.contains(&kind.as_str()) {
                e.add("depreciation_months", Msg::new("cost.kind_required"));
            } else if !(1..=MAX_MONTHS).contains(months) {
                e.add(
                    "depreciation_months",
                    Msg::new("cost.months_range").arg("value", months),
                );
            }
        }
        if self
            .utilisation
            .is_some_and(|u| u <= Decimal::ZERO || u > Decimal::ONE)
        {
            e.add("utilisation", Msg::new("cost.fraction"));
        }
        for (field, v) in [
            ("cpu_overcommit", self.cpu_overcommit),
            ("ram_overcommit", self.ram_overcommit),
        ] {
            if v.is_some_and(|r| r <= Decimal::ZERO) {
                e.add(
                    field,
                    Msg::new("validation.rate").arg("value", v.unwrap_or_default()),
                );
            }
        }
        if self
            .electricity_per_kwh
            .is_some_and(|p| p.is_sign_negative())
        {
            e.add("electricity_per_kwh", Msg::new("validation.price"));
        }
        if e.is_empty() && !self.changes_something() {
            e.add("overrides", Msg::new("cost.scenario_changes_nothing"));
        }
        e
    }

    fn factor(&self, category: &str) -> Decimal {
        self.part_price_pct
            .get(category)
            .map_or(Decimal::ONE, |pct| {
                Decimal::ONE + *pct / Decimal::ONE_HUNDRED
            })
    }
}

/// Longest depreciation a scenario may set, months (50 years).
pub const MAX_MONTHS: u32 = 600;

/// Highest price rise a scenario may set, percent (ten times dearer).
pub const MAX_PCT: i64 = 1000;

/// A price change in percent a scenario may model: a fall of less than 100%
/// (`-20` = 20% cheaper; a part never becomes free) up to [`MAX_PCT`].
pub fn pct_ok(pct: Decimal) -> bool {
    pct > -Decimal::ONE_HUNDRED && pct <= Decimal::from(MAX_PCT) && pct.normalize().scale() <= 6
}

/// An installed unit as a scenario sees it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UnitIn {
    /// Unit id.
    pub id: i64,
    /// Asset it is installed in.
    pub asset_id: i64,
    /// Recorded landed cost, won (minor units).
    pub landed_cost_minor: i64,
    /// Order line, if it came from an order.
    pub po_line_id: Option<i64>,
    /// Its position on that line, from 1.
    pub position: Option<i64>,
    /// The order.
    pub po_id: Option<i64>,
    /// Part category.
    pub category: String,
}

/// One order's rows, as stored.
#[derive(Clone, Debug)]
pub struct OrderRows {
    /// Header.
    pub po: PoRow,
    /// Lines.
    pub lines: Vec<LineRow>,
    /// Extra costs.
    pub costs: Vec<CostRow>,
}

fn restated_order(
    o: &OrderRows,
    ov: &Overrides,
    categories: &HashMap<i64, String>,
    base: Currency,
) -> AppResult<Landed> {
    let mut po = o.po.clone();
    if let Some(r) = ov.fx_rates.get(&po.currency) {
        po.fx_rate = DbDecimal(*r);
    }
    let lines: Vec<LineRow> = o
        .lines
        .iter()
        .map(|l| {
            let mut l = l.clone();
            let cat = categories.get(&l.part_model_id).map_or("", String::as_str);
            l.unit_price = DbDecimal(l.unit_price.0 * ov.factor(cat));
            l
        })
        .collect();
    let costs: Vec<CostRow> = o
        .costs
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if let Some(r) = ov.fx_rates.get(&c.currency) {
                c.fx_rate = DbDecimal(*r);
            }
            c
        })
        .collect();
    orders::compute_landed(&po, &lines, &costs, base)
}

/// Each unit's landed cost under the overrides, won (minor units), by unit id.
/// `orders` holds the rows of every order a unit came from; `categories`
/// maps part model id to category. Each order is recomputed once.
pub fn restate_units(
    units: &[UnitIn],
    orders: &HashMap<i64, OrderRows>,
    categories: &HashMap<i64, String>,
    ov: &Overrides,
    base: Currency,
) -> AppResult<HashMap<i64, Decimal>> {
    let mut cache: HashMap<i64, Landed> = HashMap::new();
    let mut out = HashMap::new();
    for u in units {
        let recorded = Decimal::from(u.landed_cost_minor);
        let cost = match (
            u.po_id.and_then(|id| orders.get(&id)),
            u.po_line_id,
            u.position,
        ) {
            (Some(o), Some(line_id), Some(position)) if ov.touches_units() => {
                let landed = match cache.get(&o.po.id) {
                    Some(l) => l,
                    None => {
                        let l = restated_order(o, ov, categories, base)?;
                        cache.entry(o.po.id).or_insert(l)
                    }
                };
                let idx = o.lines.iter().position(|l| l.id == line_id);
                match idx.and_then(|i| landed.lines.get(i)) {
                    Some(out) => Decimal::from(orders::position_cost(out, position)),
                    None => recorded * ov.factor(&u.category),
                }
            }
            _ => recorded * ov.factor(&u.category),
        };
        out.insert(u.id, cost);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(ov: &Overrides) -> Vec<String> {
        ov.check().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_fall_is_a_scenario_and_a_fall_to_nothing_is_not() {
        let mut ov = Overrides::default();
        assert_eq!(fields(&ov), vec!["overrides"], "changes nothing");
        ov.part_price_pct
            .insert("memory".into(), Decimal::from(-20));
        assert!(fields(&ov).is_empty());
        assert_eq!(ov.factor("memory"), Decimal::new(8, 1), "20% cheaper");
        ov.part_price_pct
            .insert("memory".into(), Decimal::from(-100));
        assert_eq!(fields(&ov), vec!["part_price_pct"]);
        ov.part_price_pct.insert("memory".into(), Decimal::ZERO);
        assert_eq!(fields(&ov), vec!["overrides"], "0% changes nothing");
    }

    #[test]
    fn months_kinds_currencies_and_categories_are_checked() {
        let mut ov = Overrides::default();
        ov.depreciation_months.insert("server".into(), 0);
        ov.depreciation_months.insert("robot".into(), 60);
        ov.fx_rates.insert("XYZ".into(), Decimal::ONE);
        ov.part_price_pct.insert("dimms".into(), Decimal::TEN);
        assert_eq!(
            fields(&ov),
            vec![
                "fx_rates",
                "part_price_pct",
                "depreciation_months",
                "depreciation_months"
            ]
        );
    }
}
