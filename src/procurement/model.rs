//! Supplier and part model types.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::db::DbDecimal;
use crate::money::{Currency, Money};

/// Kinds of part in the catalogue.
pub const CATEGORIES: [&str; 19] = [
    "cpu",
    "memory",
    "ssd",
    "nvme",
    "hdd",
    "nic",
    "psu",
    "chassis",
    "motherboard",
    "hba",
    "gpu",
    "fan",
    "transceiver",
    "cable",
    "switch",
    "rail_kit",
    "bmc",
    "riser",
    "other",
];

/// A part category name from [`CATEGORIES`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Category(pub String);

impl Category {
    /// Parses a category name (case-insensitive).
    pub fn parse(s: &str) -> Option<Category> {
        let s = s.trim().to_ascii_lowercase();
        CATEGORIES.contains(&s.as_str()).then_some(Category(s))
    }
}

/// A company we buy from.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Supplier {
    /// Row id.
    pub id: i64,
    /// Company name, unique.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// ISO 4217 code of the currency it invoices in.
    pub currency: String,
    /// Usual days from order to delivery.
    pub lead_time_days: i32,
    /// Payment terms as agreed (`NET 30`, `T/T in advance`).
    pub payment_terms: String,
    /// Contact people, e-mail, phone.
    pub contact: String,
    /// Free notes.
    pub notes: String,
    /// Created, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last changed, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A catalogue entry as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartModelRow {
    /// Row id.
    pub id: i64,
    /// Manufacturer name.
    pub manufacturer: String,
    /// Manufacturer part number.
    pub mpn: String,
    /// Category name.
    pub category: String,
    /// Free description (key specs).
    pub description: String,
    /// Tracked one unit per serial (true) or counted by quantity (false).
    pub serial_tracked: bool,
    /// Last unit price paid, in `last_price_currency`.
    pub last_price: Option<DbDecimal>,
    /// Currency of `last_price`.
    pub last_price_currency: Option<String>,
    /// Created, UTC.
    pub created_at: OffsetDateTime,
    /// Last changed, UTC.
    pub updated_at: OffsetDateTime,
}

/// A catalogue entry as shown; `last_price` is `None` for roles that may not see money.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PartModel {
    /// Row id.
    pub id: i64,
    /// Manufacturer name.
    pub manufacturer: String,
    /// Manufacturer part number.
    pub mpn: String,
    /// Category name.
    pub category: String,
    /// Free description.
    pub description: String,
    /// Tracked per serial number.
    pub serial_tracked: bool,
    /// Last unit price paid (exact decimal string and currency); absent when
    /// unknown or hidden from the caller's role.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_price: Option<Money>,
}

impl PartModelRow {
    /// The row as shown to a caller; `show_money` false drops the price.
    pub fn view(self, show_money: bool) -> PartModel {
        let last_price = match (
            self.last_price,
            self.last_price_currency
                .as_deref()
                .and_then(Currency::parse),
        ) {
            (Some(DbDecimal(p)), Some(c)) if show_money => Some(Money::new(p, c)),
            _ => None,
        };
        PartModel {
            id: self.id,
            manufacturer: self.manufacturer,
            mpn: self.mpn,
            category: self.category,
            description: self.description,
            serial_tracked: self.serial_tracked,
            last_price,
        }
    }
}

/// Input for a new or changed supplier.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SupplierInput {
    /// Company name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country (KR, US, TW, CN...).
    pub country: String,
    /// ISO 4217 invoice currency.
    pub currency: String,
    /// Usual lead time, days.
    #[serde(default)]
    pub lead_time_days: Option<String>,
    /// Payment terms.
    #[serde(default)]
    pub payment_terms: String,
    /// Contacts.
    #[serde(default)]
    pub contact: String,
    /// Notes.
    #[serde(default)]
    pub notes: String,
}

/// Input for a new catalogue entry.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PartModelInput {
    /// Manufacturer.
    pub manufacturer: String,
    /// Manufacturer part number.
    pub mpn: String,
    /// One of the categories.
    pub category: String,
    /// Key specs in words.
    #[serde(default)]
    pub description: String,
    /// `true`/`on` when each unit has a serial number.
    #[serde(default)]
    pub serial_tracked: Option<String>,
    /// Last unit price as a decimal string (`512.40`), optional.
    #[serde(default)]
    pub last_price: Option<String>,
    /// Currency of the price.
    #[serde(default)]
    pub last_price_currency: Option<String>,
}

/// Most decimal places a unit price may carry (the PostgreSQL column is NUMERIC(20, 6)).
pub const PRICE_DECIMALS: u32 = 6;

/// A non-negative price with at most [`PRICE_DECIMALS`] places; thousands
/// separators (`1,234.50`) are accepted.
pub fn parse_price(raw: &str) -> Option<Decimal> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_' && *c != ' ')
        .collect();
    let d = cleaned.parse::<Decimal>().ok()?.normalize();
    let fits = !d.is_sign_negative()
        && d.scale() <= PRICE_DECIMALS
        && d < Decimal::from(100_000_000_000_000i64);
    fits.then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_exact_non_negative_and_at_most_six_places() {
        assert_eq!(parse_price("1,234.50"), Some(Decimal::new(12345, 1)));
        assert_eq!(parse_price("0.035"), Some(Decimal::new(35, 3)));
        assert_eq!(parse_price("0.0000001"), None);
        assert_eq!(parse_price("-1"), None);
        assert_eq!(parse_price("abc"), None);
    }
}
