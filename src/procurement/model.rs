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
    /// Typed key specs.
    #[sqlx(flatten)]
    pub specs: Specs,
    /// Day the maker stops making or supporting it.
    pub end_of_life: Option<time::Date>,
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
    /// Typed key specs.
    #[serde(flatten)]
    pub specs: Specs,
    /// Day the maker stops making or supporting it.
    #[schema(value_type = Option<String>)]
    pub end_of_life: Option<time::Date>,
    /// Last changed, UTC.
    #[serde(skip)]
    pub updated_at: OffsetDateTime,
}

/// Key specs of a part model, typed; which apply depends on the category.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema,
)]
pub struct Specs {
    /// CPU cores.
    pub cores: Option<i64>,
    /// Memory size, GiB (DIMMs; also GPU memory).
    pub memory_gib: Option<i64>,
    /// Storage capacity, GB as printed on the drive (3.84 TB = 3840).
    pub capacity_gb: Option<i64>,
    /// Power, watts (CPU TDP, PSU rating, nameplate).
    pub power_watts: Option<i64>,
    /// Speed as the maker states it (`DDR5-4800`, `25GbE`, `3.25 GHz`).
    pub speed: Option<String>,
    /// Form factor (`U.2`, `M.2 2280`, `OCP 3.0`, `1U`).
    pub form_factor: Option<String>,
}

impl Specs {
    /// The specs in one short line (`32 cores · 280 W`).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.cores {
            parts.push(format!("{c} cores"));
        }
        if let Some(g) = self.memory_gib {
            parts.push(format!("{g} GiB"));
        }
        if let Some(gb) = self.capacity_gb {
            parts.push(if gb >= 1000 && gb % 10 == 0 {
                format!("{} TB", rust_decimal::Decimal::new(gb, 3).normalize())
            } else {
                format!("{gb} GB")
            });
        }
        if let Some(w) = self.power_watts {
            parts.push(format!("{w} W"));
        }
        parts.extend(self.speed.iter().cloned());
        parts.extend(self.form_factor.iter().cloned());
        parts.join(" · ")
    }
}

/// Which specs a category usually has, for form hints.
pub fn spec_fields(category: &str) -> &'static [&'static str] {
    match category {
        "cpu" => &["cores", "power_watts", "speed"],
        "memory" => &["memory_gib", "speed", "form_factor"],
        "ssd" | "nvme" | "hdd" => &["capacity_gb", "form_factor", "speed"],
        "gpu" => &["memory_gib", "power_watts"],
        "nic" | "transceiver" | "switch" | "cable" | "hba" => &["speed", "form_factor"],
        "psu" => &["power_watts", "form_factor"],
        "chassis" | "motherboard" => &["form_factor", "power_watts"],
        _ => &[],
    }
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
            specs: self.specs,
            end_of_life: self.end_of_life,
            updated_at: self.updated_at,
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
    /// CPU cores (whole number).
    #[serde(default)]
    pub cores: Option<String>,
    /// Memory GiB (whole number).
    #[serde(default)]
    pub memory_gib: Option<String>,
    /// Capacity GB (whole number).
    #[serde(default)]
    pub capacity_gb: Option<String>,
    /// Watts (whole number).
    #[serde(default)]
    pub power_watts: Option<String>,
    /// Speed text.
    #[serde(default)]
    pub speed: Option<String>,
    /// Form factor text.
    #[serde(default)]
    pub form_factor: Option<String>,
    /// End of life, YYYY-MM-DD.
    #[serde(default)]
    pub end_of_life: Option<String>,
}

impl PartModelInput {
    /// The form as it was for an existing part model.
    pub fn from_model(p: &PartModel) -> PartModelInput {
        let n = |v: Option<i64>| v.map(|v| v.to_string());
        PartModelInput {
            manufacturer: p.manufacturer.clone(),
            mpn: p.mpn.clone(),
            category: p.category.clone(),
            description: p.description.clone(),
            serial_tracked: p.serial_tracked.then(|| "true".to_owned()),
            last_price: p.last_price.map(|m| m.amount.to_string()),
            last_price_currency: p.last_price.map(|m| m.currency.code().to_owned()),
            cores: n(p.specs.cores),
            memory_gib: n(p.specs.memory_gib),
            capacity_gb: n(p.specs.capacity_gb),
            power_watts: n(p.specs.power_watts),
            speed: p.specs.speed.clone(),
            form_factor: p.specs.form_factor.clone(),
            end_of_life: p.end_of_life.map(|d| d.to_string()),
        }
    }
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
