//! The kinds of supplier sheet, the fields a column can map to, and the typed rows.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::RowError;

/// Which supplier document a sheet is: it decides the required columns and the row type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A supplier price list: creates or updates part models and their last price.
    PriceList,
    /// A supplier's order confirmation: the lines of a purchase order.
    OrderConfirmation,
    /// A packing list: the serials (or counts) that arrived in a shipment.
    PackingList,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 3] = [Kind::PriceList, Kind::OrderConfirmation, Kind::PackingList];

    /// The snake_case name used in profiles and URLs (`price_list`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PriceList => "price_list",
            Kind::OrderConfirmation => "order_confirmation",
            Kind::PackingList => "packing_list",
        }
    }

    /// The fields a sheet of this kind must have a column for.
    pub fn required_fields(self) -> &'static [Field] {
        match self {
            Kind::PriceList => &[Field::Mpn, Field::UnitPrice],
            Kind::OrderConfirmation => &[Field::Mpn, Field::Quantity, Field::UnitPrice],
            Kind::PackingList => &[Field::Mpn],
        }
    }

    /// The fields a row of this kind reads; other mapped columns are ignored.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::PriceList => &[
                Field::Manufacturer,
                Field::Mpn,
                Field::Description,
                Field::Category,
                Field::UnitPrice,
                Field::Currency,
                Field::Date,
            ],
            Kind::OrderConfirmation => &[
                Field::Manufacturer,
                Field::Mpn,
                Field::Description,
                Field::Quantity,
                Field::UnitPrice,
                Field::Currency,
                Field::Date,
            ],
            Kind::PackingList => &[
                Field::Manufacturer,
                Field::Mpn,
                Field::Serial,
                Field::Quantity,
                Field::Carton,
                Field::Date,
            ],
        }
    }

    /// An English label for messages ("price list").
    pub fn label(self) -> &'static str {
        match self {
            Kind::PriceList => "price list",
            Kind::OrderConfirmation => "order confirmation",
            Kind::PackingList => "packing list",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`Kind`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown import kind {0:?}: expected price_list, order_confirmation or packing_list")]
pub struct ParseKindError(pub String);

impl FromStr for Kind {
    type Err = ParseKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .trim()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "pricelist" => Ok(Kind::PriceList),
            "orderconfirmation" => Ok(Kind::OrderConfirmation),
            "packinglist" => Ok(Kind::PackingList),
            _ => Err(ParseKindError(s.to_string())),
        }
    }
}

/// The file format of a supplier sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Comma, semicolon or tab separated text (UTF-8, UTF-16 or CP949).
    Csv,
    /// Office Open XML workbook (Excel 2007 and later).
    Xlsx,
    /// Excel 97-2003 binary workbook (BIFF8 in an OLE2 container).
    Xls,
    /// OpenDocument spreadsheet (LibreOffice, Hancom).
    Ods,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Csv => "CSV",
            Format::Xlsx => "XLSX",
            Format::Xls => "XLS",
            Format::Ods => "ODS",
        })
    }
}

/// A column's meaning, as recognised from its header or named in a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Manufacturer or brand ("Samsung").
    Manufacturer,
    /// Manufacturer part number ("M321R4GA3BB6-CQK").
    Mpn,
    /// Free-text description.
    Description,
    /// Part category ("memory", "nvme").
    Category,
    /// Quantity in units (pieces).
    Quantity,
    /// Price of one unit, in the row's currency.
    UnitPrice,
    /// ISO 4217 currency code of the price.
    Currency,
    /// Serial number of one unit.
    Serial,
    /// Carton or box identifier.
    Carton,
    /// A date on the row (ship date, delivery date, price date).
    Date,
}

impl Field {
    /// Every field, in a stable order.
    pub const ALL: [Field; 10] = [
        Field::Manufacturer,
        Field::Mpn,
        Field::Description,
        Field::Category,
        Field::Quantity,
        Field::UnitPrice,
        Field::Currency,
        Field::Serial,
        Field::Carton,
        Field::Date,
    ];

    /// The snake_case name used in profiles (`unit_price`).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Manufacturer => "manufacturer",
            Field::Mpn => "mpn",
            Field::Description => "description",
            Field::Category => "category",
            Field::Quantity => "quantity",
            Field::UnitPrice => "unit_price",
            Field::Currency => "currency",
            Field::Serial => "serial",
            Field::Carton => "carton",
            Field::Date => "date",
        }
    }

    /// An English label for messages ("part number (MPN)").
    pub fn label(self) -> &'static str {
        match self {
            Field::Manufacturer => "manufacturer",
            Field::Mpn => "part number (MPN)",
            Field::Description => "description",
            Field::Category => "category",
            Field::Quantity => "quantity",
            Field::UnitPrice => "unit price",
            Field::Currency => "currency",
            Field::Serial => "serial number",
            Field::Carton => "carton",
            Field::Date => "date",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a supplier price list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceListRow {
    /// Manufacturer or brand, as written.
    pub manufacturer: Option<String>,
    /// Manufacturer part number, trimmed but otherwise as written.
    pub mpn: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Category as written by the supplier (not yet mapped to ours).
    pub category: Option<String>,
    /// Price of one unit, exact, in `currency`.
    pub unit_price: Decimal,
    /// ISO 4217 code of `unit_price`, when the sheet, cell, header or profile says it.
    pub currency: Option<String>,
    /// The row's date column (for example a price date), when the sheet has one.
    pub date: Option<Date>,
}

/// One line of a supplier order confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineRow {
    /// Manufacturer or brand, as written.
    pub manufacturer: Option<String>,
    /// Manufacturer part number, trimmed but otherwise as written.
    pub mpn: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Quantity ordered, in units; always positive.
    pub quantity: i64,
    /// Price of one unit, exact, in `currency`.
    pub unit_price: Decimal,
    /// ISO 4217 code of `unit_price`, when the sheet, cell, header or profile says it.
    pub currency: Option<String>,
    /// The row's date column (for example a delivery date), when the sheet has one.
    pub date: Option<Date>,
}

/// One line of a supplier packing list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackingListRow {
    /// Manufacturer or brand, as written.
    pub manufacturer: Option<String>,
    /// Manufacturer part number, trimmed but otherwise as written.
    pub mpn: String,
    /// Serial number, case kept as printed; `None` for counted parts.
    pub serial: Option<String>,
    /// Units on this line; 1 when the sheet has no quantity column or cell.
    pub quantity: i64,
    /// Carton or box identifier.
    pub carton: Option<String>,
    /// The row's date column (for example a ship date), when the sheet has one.
    pub date: Option<Date>,
}

/// A typed row of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A price list line.
    PriceList(PriceListRow),
    /// An order confirmation line.
    OrderLine(OrderLineRow),
    /// A packing list line.
    PackingList(PackingListRow),
}

/// The outcome of reading one non-blank data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// 1-based row number as the user sees it (spreadsheet row, or CSV line).
    pub row: usize,
    /// The typed row, or why it does not fit.
    pub result: Result<Row, RowError>,
}

impl Parsed {
    /// Bytes of text the row holds (its strings), to bound how many rows are buffered.
    pub fn text_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        match &self.result {
            Ok(Row::PriceList(r)) => {
                r.mpn.len()
                    + opt(&r.manufacturer)
                    + opt(&r.description)
                    + opt(&r.category)
                    + opt(&r.currency)
            }
            Ok(Row::OrderLine(r)) => {
                r.mpn.len() + opt(&r.manufacturer) + opt(&r.description) + opt(&r.currency)
            }
            Ok(Row::PackingList(r)) => {
                r.mpn.len() + opt(&r.manufacturer) + opt(&r.serial) + opt(&r.carton)
            }
            Err(e) => e.detail.len() + e.column.as_ref().map_or(0, String::len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_their_snake_case_names_and_loose_spellings() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!("Packing List".parse::<Kind>(), Ok(Kind::PackingList));
        assert_eq!(
            "order-confirmation".parse::<Kind>(),
            Ok(Kind::OrderConfirmation)
        );
        assert!("invoice".parse::<Kind>().is_err());
    }

    #[test]
    fn kinds_and_fields_serialise_as_snake_case() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Both {
            kind: Kind,
            field: Field,
        }
        let text = toml::to_string(&Both {
            kind: Kind::PriceList,
            field: Field::UnitPrice,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text, "kind = \"price_list\"\nfield = \"unit_price\"\n");
        for field in Field::ALL {
            let back: Both =
                toml::from_str(&format!("kind = \"packing_list\"\nfield = \"{field}\""))
                    .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back.field, field);
        }
    }

    #[test]
    fn required_fields_are_among_the_fields_a_kind_reads() {
        for kind in Kind::ALL {
            assert!(
                kind.required_fields()
                    .iter()
                    .all(|f| kind.fields().contains(f)),
                "{kind}"
            );
        }
    }
}
