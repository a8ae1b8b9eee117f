//! Landed cost: the price of each unit in the base currency plus its share of
//! every extra cost (freight, insurance, customs duty, brokerage, other).
//!
//! Everything is exact. The rule, applied at the base currency's minor unit
//! (the won):
//! 1. Each line's goods value in the base currency is `quantity × unit price ×
//!    the order's rate`, an exact decimal. The order's goods total is their sum
//!    rounded half away from zero; that integer is shared among the lines by
//!    value.
//! 2. Each extra cost, converted at its own rate and rounded half away from
//!    zero, is shared among the lines by value, by quantity or by weight.
//! 3. A line's landed total is its goods share plus its cost shares, and is
//!    shared equally among its units (positions 1..=quantity).
//!
//! Every sharing uses the largest remainder method: each part gets the floor of
//! its exact share, and the minor units left over go one each to the parts with
//! the largest fractions (earlier parts first on ties). So the shares of any
//! amount add up to that amount exactly and none is negative.

use rust_decimal::{Decimal, RoundingStrategy};

/// How an extra cost is shared among the lines of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// In proportion to each line's goods value.
    Value,
    /// In proportion to each line's quantity.
    Quantity,
    /// In proportion to each line's total weight.
    Weight,
}

impl Basis {
    /// Parses `value`, `quantity` or `weight`.
    pub fn parse(s: &str) -> Option<Basis> {
        match s {
            "value" => Some(Basis::Value),
            "quantity" => Some(Basis::Quantity),
            "weight" => Some(Basis::Weight),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Value => "value",
            Basis::Quantity => "quantity",
            Basis::Weight => "weight",
        }
    }
}

/// One order line as allocation sees it.
#[derive(Clone, Debug)]
pub struct LineIn {
    /// Units ordered (> 0).
    pub quantity: i64,
    /// Unit price in the order currency.
    pub unit_price: Decimal,
    /// Weight of one unit in grams, if known (needed for weight-based costs).
    pub unit_weight_g: Option<i64>,
}

/// One extra cost, already in base-currency minor units.
#[derive(Clone, Copy, Debug)]
pub struct CostIn {
    /// Amount in base minor units (≥ 0).
    pub amount_minor: i64,
    /// How it is shared.
    pub basis: Basis,
}

/// The allocation of one line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineOut {
    /// Goods value share, base minor units.
    pub goods_minor: i64,
    /// Share of each extra cost, in the order the costs were given.
    pub cost_shares_minor: Vec<i64>,
    /// Goods plus every cost share.
    pub landed_minor: i64,
    /// Landed cost of each unit position, summing to `landed_minor`.
    pub unit_costs: UnitCosts,
}

/// The landed cost of each unit of a line: the line's total shared equally
/// by the largest remainder method, which gives the first `plus_one` units
/// one minor unit more than the rest. Kept as these three numbers, not one
/// number per unit: a line of a million units costs no more to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnitCosts {
    /// Units on the line.
    pub quantity: i64,
    /// What every unit costs at least, minor units.
    pub each_minor: i64,
    /// How many units, from the first, cost `each_minor + 1`.
    pub plus_one: i64,
}

impl UnitCosts {
    /// Shares `total` (≥ 0) equally over `quantity` (> 0) units.
    pub fn split(total: i64, quantity: i64) -> Result<UnitCosts, AllocError> {
        if total < 0 || quantity <= 0 {
            return Err(AllocError::Negative);
        }
        Ok(UnitCosts {
            quantity,
            each_minor: total / quantity,
            plus_one: total % quantity,
        })
    }

    /// The cost of the unit at `index` (0-based), if the line has it.
    pub fn at(&self, index: i64) -> Option<i64> {
        (0..self.quantity)
            .contains(&index)
            .then(|| self.each_minor + i64::from(index < self.plus_one))
    }

    /// Runs of equal costs, first to last: `(units, cost)`, empty runs left out.
    pub fn runs(&self) -> Vec<(i64, i64)> {
        [
            (self.plus_one, self.each_minor + 1),
            (self.quantity - self.plus_one, self.each_minor),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect()
    }
}

/// Why an allocation cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    /// A weight-based cost on an order whose lines have no weights.
    #[error("a cost is shared by weight but no line has a weight")]
    NoWeights,
    /// A negative amount, quantity or price.
    #[error("negative amounts cannot be allocated")]
    Negative,
    /// The figures do not fit in 64-bit minor units.
    #[error("amount too large")]
    Overflow,
}

/// Converts an exact amount to minor units of a currency with `minor_digits`
/// decimals, rounding half away from zero.
pub fn to_minor(amount: Decimal, minor_digits: u32) -> Result<i64, AllocError> {
    let scaled = amount
        .checked_mul(Decimal::from(10i64.pow(minor_digits)))
        .ok_or(AllocError::Overflow)?;
    i64::try_from(scaled.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
        .map_err(|_| AllocError::Overflow)
}

/// Shares `total` (≥ 0) in proportion to `weights` (≥ 0, not all zero) by the
/// largest remainder method.
pub fn largest_remainder(total: i64, weights: &[Decimal]) -> Result<Vec<i64>, AllocError> {
    if total < 0 || weights.iter().any(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(AllocError::Negative);
    }
    let sum: Decimal = weights
        .iter()
        .try_fold(Decimal::ZERO, |a, w| a.checked_add(*w))
        .ok_or(AllocError::Overflow)?;
    if weights.is_empty() {
        return Ok(Vec::new());
    }
    if sum.is_zero() {
        return Err(AllocError::NoWeights);
    }
    let total_d = Decimal::from(total);
    let mut shares = Vec::with_capacity(weights.len());
    let mut fractions = Vec::with_capacity(weights.len());
    for w in weights {
        // total × w / sum, exact to 28 digits; floor keeps shares ≤ exact.
        let exact = total_d
            .checked_mul(*w)
            .ok_or(AllocError::Overflow)?
            .checked_div(sum)
            .ok_or(AllocError::Overflow)?;
        let floor = exact.floor();
        shares.push(i64::try_from(floor).map_err(|_| AllocError::Overflow)?);
        fractions.push(exact - floor);
    }
    let given: i64 = shares.iter().sum();
    let mut left = total - given;
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| fractions[b].cmp(&fractions[a]).then(a.cmp(&b)));
    for i in order.into_iter().cycle() {
        if left <= 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    Ok(shares)
}

/// Allocates goods and extra costs to lines and units. `rate` is base units
/// per unit of the order currency; `minor_digits` is the base currency's.
pub fn allocate(
    lines: &[LineIn],
    rate: Decimal,
    costs: &[CostIn],
    minor_digits: u32,
) -> Result<Vec<LineOut>, AllocError> {
    if lines
        .iter()
        .any(|l| l.quantity <= 0 || l.unit_price.is_sign_negative())
        || rate.is_sign_negative()
    {
        return Err(AllocError::Negative);
    }
    let values: Vec<Decimal> = lines
        .iter()
        .map(|l| {
            l.unit_price
                .checked_mul(Decimal::from(l.quantity))
                .and_then(|v| v.checked_mul(rate))
        })
        .collect::<Option<_>>()
        .ok_or(AllocError::Overflow)?;
    let goods_total = to_minor(values.iter().copied().sum(), minor_digits)?;
    let goods = if values.iter().all(Decimal::is_zero) {
        vec![0; lines.len()]
    } else {
        largest_remainder(goods_total, &values)?
    };
    let mut per_cost = Vec::with_capacity(costs.len());
    for c in costs {
        let weights: Vec<Decimal> = match c.basis {
            Basis::Value if values.iter().all(Decimal::is_zero) => {
                lines.iter().map(|l| Decimal::from(l.quantity)).collect()
            }
            Basis::Value => values.clone(),
            Basis::Quantity => lines.iter().map(|l| Decimal::from(l.quantity)).collect(),
            Basis::Weight => lines
                .iter()
                .map(|l| Decimal::from(l.quantity * l.unit_weight_g.unwrap_or(0)))
                .collect(),
        };
        per_cost.push(largest_remainder(c.amount_minor, &weights)?);
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let cost_shares_minor: Vec<i64> = per_cost.iter().map(|shares| shares[i]).collect();
            let landed_minor = goods[i] + cost_shares_minor.iter().sum::<i64>();
            let unit_costs = UnitCosts::split(landed_minor, line.quantity)?;
            Ok(LineOut {
                goods_minor: goods[i],
                cost_shares_minor,
                landed_minor,
                unit_costs,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::dec;

    fn line(quantity: i64, price: Decimal, weight: Option<i64>) -> LineIn {
        LineIn {
            quantity,
            unit_price: price,
            unit_weight_g: weight,
        }
    }

    #[test]
    fn an_order_with_three_costs_on_three_bases_matches_the_hand_computed_won() {
        // 400 DIMMs at $118.50, 96 NVMe at $389.00, 10 cables at $7.20; rate 1,385.20 KRW/USD.
        // Goods, exact: 65,658,480 + 51,728,908.8 + 99,734.4 = 117,487,123.2 → ₩117,487,123.
        // Shared by value: 65,658,479.89 / 51,728,908.71 / 99,734.40 → floors sum to
        // 117,487,121; the two won left go to .89 (line 1) and .71 (line 2).
        let lines = [
            line(400, dec!(118.50), Some(30)),
            line(96, dec!(389.00), Some(120)),
            line(10, dec!(7.20), Some(50)),
        ];
        let costs = [
            CostIn {
                amount_minor: 1_000_000,
                basis: Basis::Value,
            }, // freight
            CostIn {
                amount_minor: 50_001,
                basis: Basis::Quantity,
            }, // brokerage
            CostIn {
                amount_minor: 240_000,
                basis: Basis::Weight,
            }, // insurance
        ];
        let out = allocate(&lines, dec!(1385.20), &costs, 0).expect("allocates");
        assert_eq!(
            out.iter().map(|l| l.goods_minor).collect::<Vec<_>>(),
            vec![65_658_480, 51_728_909, 99_734]
        );
        // Freight by value: 558,856.82 / 440,294.28 / 848.90 → floors 999,998; two won to
        // .90 (line 3) and .82 (line 1).
        assert_eq!(
            out.iter()
                .map(|l| l.cost_shares_minor[0])
                .collect::<Vec<_>>(),
            vec![558_857, 440_294, 849]
        );
        // Brokerage by quantity (400/96/10 of 506): 39,526.48 / 9,486.36 / 988.16 → one won to line 1.
        assert_eq!(
            out.iter()
                .map(|l| l.cost_shares_minor[1])
                .collect::<Vec<_>>(),
            vec![39_527, 9_486, 988]
        );
        // Insurance by weight (12,000 g / 11,520 g / 500 g): 119,900.08 / 115,104.08 / 4,995.84
        // → one won to line 3.
        assert_eq!(
            out.iter()
                .map(|l| l.cost_shares_minor[2])
                .collect::<Vec<_>>(),
            vec![119_900, 115_104, 4_996]
        );
        // Each DIMM: (65,658,480 + 558,857 + 39,527 + 119,900) / 400 = 66,376,764 / 400 = 165,941.91
        // → 364 units at ₩165,942 and 36 at ₩165,941.
        let dimm = &out[0];
        assert_eq!(dimm.landed_minor, 66_376_764);
        assert_eq!(dimm.unit_costs.runs(), vec![(364, 165_942), (36, 165_941)]);
        let grand: i64 = out.iter().map(|l| l.landed_minor).sum();
        assert_eq!(grand, 117_487_123 + 1_000_000 + 50_001 + 240_000);
    }

    #[test]
    fn cents_are_kept_for_a_base_currency_with_minor_units() {
        let out = allocate(
            &[line(3, dec!(1.00), None)],
            dec!(1),
            &[CostIn {
                amount_minor: 100,
                basis: Basis::Quantity,
            }],
            2,
        )
        .expect("allocates");
        assert_eq!(out[0].goods_minor, 300);
        let u = out[0].unit_costs;
        assert_eq!(
            [u.at(0), u.at(1), u.at(2), u.at(3)],
            [Some(134), Some(133), Some(133), None]
        );
    }

    #[test]
    fn weight_costs_need_weights() {
        let r = allocate(
            &[line(1, dec!(5), None)],
            dec!(1),
            &[CostIn {
                amount_minor: 10,
                basis: Basis::Weight,
            }],
            0,
        );
        assert_eq!(r, Err(AllocError::NoWeights));
    }

    #[test]
    fn free_goods_still_carry_costs_by_value() {
        let out = allocate(
            &[line(2, dec!(0), None), line(2, dec!(0), None)],
            dec!(1385),
            &[CostIn {
                amount_minor: 5,
                basis: Basis::Value,
            }],
            0,
        )
        .expect("falls back to quantity");
        assert_eq!(out[0].landed_minor + out[1].landed_minor, 5);
    }

    proptest! {
        #[test]
        fn shares_add_up_exactly_and_are_never_negative(
            total in 0i64..10_000_000_000,
            weights in prop::collection::vec(0u32..1_000_000, 1..40),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let w: Vec<Decimal> = weights.iter().map(|w| Decimal::from(*w)).collect();
            let shares = largest_remainder(total, &w).expect("shares");
            prop_assert_eq!(shares.iter().sum::<i64>(), total);
            prop_assert!(shares.iter().all(|s| *s >= 0));
            // No share is more than one minor unit away from its exact value.
            let sum: Decimal = w.iter().copied().sum();
            for (s, wi) in shares.iter().zip(&w) {
                let exact = Decimal::from(total) * wi / sum;
                prop_assert!((Decimal::from(*s) - exact).abs() < Decimal::ONE);
            }
        }

        #[test]
        fn every_unit_of_an_order_adds_up_to_goods_plus_costs(
            lines in prop::collection::vec((1i64..500, 0u32..1_000_000, 1i64..5_000), 1..8),
            costs in prop::collection::vec((0i64..50_000_000, 0usize..3), 0..5),
            rate_cents in 1u32..200_000,
        ) {
            let lines: Vec<LineIn> = lines.iter().map(|(q, p, w)| line(*q, Decimal::new(i64::from(*p), 2), Some(*w))).collect();
            let costs: Vec<CostIn> = costs.iter().map(|(a, b)| CostIn {
                amount_minor: *a,
                basis: [Basis::Value, Basis::Quantity, Basis::Weight][*b],
            }).collect();
            let rate = Decimal::new(i64::from(rate_cents), 2);
            let out = allocate(&lines, rate, &costs, 0).expect("allocates");
            let goods: Decimal = lines.iter().map(|l| l.unit_price * Decimal::from(l.quantity) * rate).sum();
            let expected = to_minor(goods, 0).expect("fits") + costs.iter().map(|c| c.amount_minor).sum::<i64>();
            let each = |o: &LineOut| (0..o.unit_costs.quantity).map(|k| o.unit_costs.at(k).expect("in range")).collect::<Vec<_>>();
            let units: i64 = out.iter().flat_map(each).sum();
            prop_assert_eq!(units, expected);
            prop_assert!(out.iter().flat_map(each).all(|c| c >= 0));
            for (l, o) in lines.iter().zip(&out) {
                prop_assert_eq!(o.unit_costs.quantity, l.quantity);
                prop_assert_eq!(o.unit_costs.runs().iter().map(|r| r.0 * r.1).sum::<i64>(), o.landed_minor);
            }
        }

        #[test]
        fn unit_costs_are_the_largest_remainder_of_equal_shares(total in 0i64..10_000_000, quantity in 1i64..300) {
            let equal = vec![Decimal::ONE; quantity as usize];
            let shares = largest_remainder(total, &equal).expect("shares");
            let u = UnitCosts::split(total, quantity).expect("splits");
            let compact: Vec<i64> = (0..quantity).map(|k| u.at(k).expect("in range")).collect();
            prop_assert_eq!(compact, shares);
        }
    }
}
