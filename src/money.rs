//! Money: an exact amount with its currency. Never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency, with its number of minor units (KRW 0, USD 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Korean won, the default base currency.
    pub const KRW: Currency = Currency(iso_currency::Currency::KRW);
    /// US dollar.
    pub const USD: Currency = Currency(iso_currency::Currency::USD);

    /// Parses an ISO 4217 code such as `usd` or `KRW`.
    pub fn parse(code: &str) -> Option<Currency> {
        iso_currency::Currency::from_code(&code.trim().to_ascii_uppercase()).map(Currency)
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point in this currency's minor unit.
    pub fn minor_units(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }

    /// The symbol shown before amounts; `None` where a code reads better.
    fn symbol(self) -> Option<&'static str> {
        Some(match self.code() {
            "KRW" => "₩",
            "USD" => "$",
            "EUR" => "€",
            "JPY" => "¥",
            "GBP" => "£",
            "CNY" => "CN¥",
            "TWD" => "NT$",
            "HKD" => "HK$",
            "SGD" => "S$",
            _ => return None,
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s).ok_or_else(|| format!("unknown currency code {s:?}"))
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown currency {s:?}")))
    }
}

/// An exact amount of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// The amount, in major units (`12.34` dollars), exact.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in major units.
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// An amount stored as integer minor units (cents, won).
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money {
            amount: Decimal::new(minor, currency.minor_units()),
            currency,
        }
    }

    /// The amount in minor units, rounded half away from zero; `None` on overflow.
    pub fn to_minor(self) -> Option<i64> {
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10i64.pow(self.currency.minor_units())))?;
        i64::try_from(scaled.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)).ok()
    }
}

/// `₩1,234,567`, `$1,234.56`, `-€0.50`, `CHF 12.00`: rounded half away from
/// zero to the currency's minor unit, for display only.
///
/// ```
/// use rackledger::money::{Currency, Money};
/// assert_eq!(Money::from_minor(1_234_567, Currency::KRW).to_string(), "₩1,234,567");
/// assert_eq!(Money::from_minor(123_456, Currency::USD).to_string(), "$1,234.56");
/// ```
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dp = self.currency.minor_units();
        let rounded = self
            .amount
            .round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
        let text = format!("{:.*}", dp as usize, rounded.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        f.write_str(sign)?;
        match self.currency.symbol() {
            Some(sym) => f.write_str(sym)?,
            None => write!(f, "{} ", self.currency.code())?,
        }
        f.write_str(&group_thousands(int))?;
        if !frac.is_empty() {
            write!(f, ".{frac}")?;
        }
        Ok(())
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An input that can carry money. A role without `ViewMoney` may not set
/// money, so handlers refuse such an input from it before writing anything
/// (`CurrentUser::require_money_input`).
pub trait MoneyInput {
    /// The names of the money fields this input sets: given and not zero.
    fn money_fields(&self) -> Vec<&'static str>;
}

/// Whether a submitted amount sets money: not blank and not zero. Text that is
/// not a number counts as set, so it is refused rather than reported as invalid.
pub fn sets_money(raw: &str) -> bool {
    let raw = raw.trim();
    !raw.is_empty() && raw.replace(',', "").parse::<Decimal>() != Ok(Decimal::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn won_has_no_minor_unit_and_groups_thousands() {
        assert_eq!(
            Money::from_minor(1_234_567, Currency::KRW).to_string(),
            "₩1,234,567"
        );
        assert_eq!(Money::new(dec!(999.5), Currency::KRW).to_string(), "₩1,000");
    }

    #[test]
    fn dollars_show_cents() {
        assert_eq!(
            Money::from_minor(123_456, Currency::USD).to_string(),
            "$1,234.56"
        );
        assert_eq!(
            Money::new(dec!(-0.035), Currency::USD).to_string(),
            "-$0.04"
        );
        assert_eq!(Money::new(dec!(0), Currency::USD).to_string(), "$0.00");
    }

    #[test]
    fn currencies_without_a_symbol_use_their_code() {
        let chf = Currency::parse("chf").expect("CHF is ISO 4217");
        assert_eq!(Money::from_minor(120_000, chf).to_string(), "CHF 1,200.00");
        let jpy = Currency::parse("JPY").expect("JPY");
        assert_eq!(jpy.minor_units(), 0);
    }

    #[test]
    fn minor_units_round_trip() {
        let m = Money::new(dec!(12.345), Currency::USD);
        assert_eq!(m.to_minor(), Some(1235));
        assert_eq!(Money::from_minor(1235, Currency::USD).amount, dec!(12.35));
        assert!(Currency::parse("XYZ").is_none());
    }
}
