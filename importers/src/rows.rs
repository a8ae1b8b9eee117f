//! Typing one raw row into a [`Row`] of its kind, or a [`RowError`].

use rust_decimal::Decimal;
use time::Date;

use crate::error::{RowError, codes};
use crate::formats::cell::{Cell, RawRow};
use crate::headers::{HeaderMatch, Mapped};
use crate::limits::sample;
use crate::model::{Field, Kind, OrderLineRow, PackingListRow, PriceListRow, Row};
use crate::values::currency::parse_currency;
use crate::values::dates::{date_from_excel_serial, parse_date};
use crate::values::numbers::{decimal_from_f64, parse_amount, parse_quantity, whole_positive};

/// What a row needs to be typed: the mapping and the sheet's conventions.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub kind: Kind,
    pub columns: Vec<Mapped>,
    pub decimal_comma: Option<bool>,
    pub day_first: Option<bool>,
    /// From the unit price header ("Unit Price (USD)").
    pub header_currency: Option<String>,
    /// From the profile.
    pub default_currency: Option<String>,
}

impl Plan {
    pub(crate) fn new(kind: Kind, header: &HeaderMatch) -> Self {
        Plan {
            kind,
            columns: header.columns.clone(),
            decimal_comma: None,
            day_first: None,
            header_currency: header.price_currency.clone(),
            default_currency: None,
        }
    }
}

/// One row being typed; collects the row number for errors.
struct Line<'a> {
    raw: &'a RawRow,
    plan: &'a Plan,
}

impl<'a> Line<'a> {
    fn column(&self, field: Field) -> Option<&'a Mapped> {
        self.plan.columns.iter().find(|m| m.field == field)
    }

    fn error(&self, mapped: Option<&Mapped>, code: &'static str, detail: String) -> RowError {
        RowError {
            row: self.raw.number,
            column: mapped.map(|m| m.header.clone()),
            code,
            detail,
        }
    }

    /// The cell of a field, or `None` when unmapped or blank; spreadsheet errors fail.
    fn cell(&self, field: Field) -> Result<Option<(&'a Mapped, &'a Cell)>, RowError> {
        let Some(mapped) = self.column(field) else {
            return Ok(None);
        };
        match self.raw.get(mapped.column) {
            c if c.is_blank() => Ok(None),
            Cell::Error(e) => Err(self.error(
                Some(mapped),
                codes::CELL_ERROR,
                format!(
                    "the {} cell holds the spreadsheet error {}",
                    field.label(),
                    sample(e)
                ),
            )),
            c => Ok(Some((mapped, c))),
        }
    }

    fn text(&self, field: Field) -> Result<Option<String>, RowError> {
        Ok(self.cell(field)?.and_then(|(_, c)| c.text()))
    }

    /// An identifier (MPN, serial): trimmed, and surrounding quotes removed.
    fn identifier(&self, field: Field) -> Result<Option<String>, RowError> {
        // Text cells (every CSV cell) are trimmed in place: one copy, not two.
        let stripped = match self.cell(field)? {
            None => return Ok(None),
            Some((_, Cell::Text(t))) => strip_quotes(t).to_owned(),
            Some((_, c)) => c
                .text()
                .map(|t| strip_quotes(&t).to_owned())
                .unwrap_or_default(),
        };
        Ok(Some(stripped).filter(|t| !t.is_empty()))
    }

    fn required_mpn(&self) -> Result<String, RowError> {
        self.identifier(Field::Mpn)?.ok_or_else(|| {
            self.error(
                self.column(Field::Mpn),
                codes::MISSING_VALUE,
                "the part number (MPN) is empty".to_string(),
            )
        })
    }

    /// The unit price and the currency its cell names.
    fn unit_price(&self) -> Result<(Decimal, Option<String>), RowError> {
        let missing = || {
            self.error(
                self.column(Field::UnitPrice),
                codes::MISSING_VALUE,
                "the unit price is empty".to_string(),
            )
        };
        let (mapped, cell) = self.cell(Field::UnitPrice)?.ok_or_else(missing)?;
        let bad = |detail: String| self.error(Some(mapped), codes::BAD_NUMBER, detail);
        let (value, currency) = match cell {
            Cell::Int(i) => (Decimal::from(*i), None),
            Cell::Float(f) => (
                decimal_from_f64(*f)
                    .ok_or_else(|| bad(format!("the unit price {f} is not a usable number")))?,
                None,
            ),
            Cell::Text(t) => {
                let amount = parse_amount(t, self.plan.decimal_comma)
                    .map_err(|e| bad(format!("the unit price {e}")))?;
                (amount.value, amount.currency)
            }
            other => {
                let shown = other.text().unwrap_or_default();
                return Err(bad(format!(
                    "the unit price {:?} is not a number",
                    sample(&shown)
                )));
            }
        };
        if value.is_sign_negative() && !value.is_zero() {
            return Err(self.error(
                Some(mapped),
                codes::NEGATIVE_PRICE,
                format!("the unit price {value} is below zero"),
            ));
        }
        Ok((value, currency))
    }

    /// The row's currency: the currency column, the price cell's symbol and the price
    /// header must agree; the profile's default fills in when none says.
    fn currency(&self, from_price: Option<String>) -> Result<Option<String>, RowError> {
        let mut from_column = None;
        if let Some((mapped, cell)) = self.cell(Field::Currency)? {
            let text = cell.text().unwrap_or_default();
            let code = parse_currency(&text).ok_or_else(|| {
                self.error(
                    Some(mapped),
                    codes::BAD_CURRENCY,
                    format!("{:?} is not an ISO 4217 currency code", sample(&text)),
                )
            })?;
            from_column = Some((mapped, code));
        }
        let stated = [
            from_column
                .as_ref()
                .map(|(m, c)| (Some(*m), c.clone(), "currency column")),
            from_price.map(|c| (self.column(Field::UnitPrice), c, "unit price cell")),
            self.plan
                .header_currency
                .clone()
                .map(|c| (self.column(Field::UnitPrice), c, "unit price header")),
        ];
        let mut found: Option<(Option<&Mapped>, String, &str)> = None;
        for (mapped, code, source) in stated.into_iter().flatten() {
            match &found {
                Some((_, first, first_source)) if *first != code => {
                    return Err(self.error(
                        mapped,
                        codes::BAD_CURRENCY,
                        format!("the {first_source} says {first} but the {source} says {code}"),
                    ));
                }
                Some(_) => {}
                None => found = Some((mapped, code, source)),
            }
        }
        Ok(found
            .map(|(_, c, _)| c)
            .or_else(|| self.plan.default_currency.clone()))
    }

    fn quantity(&self, default: Option<i64>) -> Result<i64, RowError> {
        let Some((mapped, cell)) = self.cell(Field::Quantity)? else {
            return default.ok_or_else(|| {
                self.error(
                    self.column(Field::Quantity),
                    codes::MISSING_VALUE,
                    "the quantity is empty".to_string(),
                )
            });
        };
        let shown = || cell.text().unwrap_or_default();
        let result = match cell {
            Cell::Int(i) => whole_positive(Decimal::from(*i), &shown()),
            Cell::Float(f) => match decimal_from_f64(*f) {
                Some(d) => whole_positive(d, &shown()),
                None => Err(crate::values::numbers::NumberError::NotANumber(shown())),
            },
            Cell::Text(t) => parse_quantity(t, self.plan.decimal_comma),
            _ => Err(crate::values::numbers::NumberError::NotANumber(shown())),
        };
        result.map_err(|e| {
            self.error(
                Some(mapped),
                codes::BAD_QUANTITY,
                format!("the quantity {e}; it must be a whole number above zero"),
            )
        })
    }

    fn date(&self) -> Result<Option<Date>, RowError> {
        let Some((mapped, cell)) = self.cell(Field::Date)? else {
            return Ok(None);
        };
        let bad = |detail: String| self.error(Some(mapped), codes::BAD_DATE, detail);
        match cell {
            Cell::Date(Some(d), _) => Ok(Some(*d)),
            Cell::Date(None, serial) | Cell::Float(serial) => date_from_excel_serial(*serial)
                .map(Some)
                .ok_or_else(|| bad(format!("{serial} is not a valid spreadsheet date"))),
            Cell::Int(i) => date_from_excel_serial(*i as f64)
                .map(Some)
                .ok_or_else(|| bad(format!("{i} is not a valid spreadsheet date"))),
            Cell::Text(t) => parse_date(t, self.plan.day_first)
                .map(Some)
                .map_err(|e| bad(e.to_string())),
            other => Err(bad(format!(
                "{:?} is not a date",
                sample(&other.text().unwrap_or_default())
            ))),
        }
    }
}

/// Removes whitespace and one pair of surrounding quotes (straight or curly).
pub(crate) fn strip_quotes(text: &str) -> &str {
    let t = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}');
    // Most identifiers are not quoted: say so without trying each pair.
    if !t.starts_with(['"', '\'', '“', '‘', '`']) {
        return t;
    }
    let pairs = [('"', '"'), ('\'', '\''), ('“', '”'), ('‘', '’'), ('`', '`')];
    for (open, close) in pairs {
        if let Some(inner) = t.strip_prefix(open).and_then(|s| s.strip_suffix(close)) {
            return inner.trim();
        }
    }
    t
}

/// Types one non-blank raw row.
pub(crate) fn build_row(raw: &RawRow, plan: &Plan) -> Result<Row, RowError> {
    let line = Line { raw, plan };
    let mpn = line.required_mpn()?;
    let manufacturer = line.text(Field::Manufacturer)?;
    match plan.kind {
        Kind::PriceList => {
            let (unit_price, price_currency) = line.unit_price()?;
            Ok(Row::PriceList(PriceListRow {
                manufacturer,
                mpn,
                description: line.text(Field::Description)?,
                category: line.text(Field::Category)?,
                unit_price,
                currency: line.currency(price_currency)?,
                date: line.date()?,
            }))
        }
        Kind::OrderConfirmation => {
            let quantity = line.quantity(None)?;
            let (unit_price, price_currency) = line.unit_price()?;
            Ok(Row::OrderLine(OrderLineRow {
                manufacturer,
                mpn,
                description: line.text(Field::Description)?,
                quantity,
                unit_price,
                currency: line.currency(price_currency)?,
                date: line.date()?,
            }))
        }
        Kind::PackingList => {
            let serial = line.identifier(Field::Serial)?;
            let quantity = line.quantity(Some(1))?;
            if serial.is_some() && quantity != 1 {
                return Err(line.error(
                    line.column(Field::Quantity),
                    codes::SERIAL_WITH_QUANTITY,
                    format!("serial {:?} is on a row with quantity {quantity}; a serial-tracked part needs one row per serial", sample(&serial.unwrap_or_default())),
                ));
            }
            Ok(Row::PackingList(PackingListRow {
                manufacturer,
                mpn,
                serial,
                quantity,
                carton: line.identifier(Field::Carton)?,
                date: line.date()?,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_spaces_around_identifiers_are_stripped_but_case_is_kept() {
        assert_eq!(strip_quotes("  \"S4EMNX0W123456\" "), "S4EMNX0W123456");
        assert_eq!(strip_quotes("'s4emnx0w123456'"), "s4emnx0w123456");
        assert_eq!(strip_quotes("“MT2245X01234”"), "MT2245X01234");
        assert_eq!(strip_quotes("\u{FEFF}ABC"), "ABC");
        assert_eq!(strip_quotes("O'Neil"), "O'Neil");
    }
}
