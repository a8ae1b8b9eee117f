//! Exact numbers from supplier text: thousands separators, decimal commas, currency
//! markers, and Excel's binary floats.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::values::currency::split_currency;

/// A number read from text, with the currency its text named, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    /// The exact value.
    pub value: Decimal,
    /// ISO 4217 code from a symbol or code in the text ("$", "₩", "USD").
    pub currency: Option<String>,
}

/// Why text is not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing but whitespace.
    #[error("the cell is empty")]
    Empty,
    /// Characters that cannot be part of a number.
    #[error("{:?} is not a number", crate::limits::sample(.0))]
    NotANumber(String),
    /// Thousands groups that do not have three digits, or mixed-up separators.
    #[error("{:?} has misplaced thousands or decimal separators", crate::limits::sample(.0))]
    BadSeparators(String),
    /// More digits than an exact decimal holds (28 significant digits).
    #[error("{:?} is too large", crate::limits::sample(.0))]
    TooLarge(String),
    /// A quantity with a fraction.
    #[error("{:?} is not a whole number", crate::limits::sample(.0))]
    NotWhole(String),
    /// A quantity of zero or less.
    #[error("{:?} is not above zero", crate::limits::sample(.0))]
    NotPositive(String),
}

/// Unit words a quantity may carry ("10 pcs", "10ea", "10개").
const QUANTITY_UNITS: &[&str] = &[
    "pieces", "piece", "units", "unit", "sets", "set", "pcs", "pc", "ea.", "ea", "개",
];

/// Parses a price or other amount.
///
/// `decimal_comma`: `Some(true)` when the sheet writes 1.234,50; `Some(false)` when it
/// writes 1,234.50; `None` to decide per cell, reading "1,234" as a thousand and "12,5"
/// as twelve and a half.
pub fn parse_amount(text: &str, decimal_comma: Option<bool>) -> Result<Amount, NumberError> {
    let owned = normalise_width(text);
    let t = owned.trim();
    if t.is_empty() {
        return Err(NumberError::Empty);
    }
    let bad = || NumberError::NotANumber(text.trim().to_string());
    let (rest, mut currency) = split_currency(t).map_err(|_| bad())?;
    let (mut rest, negative) = split_sign(rest);
    if currency.is_none() {
        let (inner, found) = split_currency(rest).map_err(|_| bad())?;
        rest = inner;
        currency = found;
    }
    let value = parse_unsigned(rest, decimal_comma, text)?;
    Ok(Amount {
        value: if negative { -value } else { value },
        currency,
    })
}

/// Parses a number and ignores any currency marker in it.
pub fn parse_decimal(text: &str, decimal_comma: Option<bool>) -> Result<Decimal, NumberError> {
    parse_amount(text, decimal_comma).map(|a| a.value)
}

/// Parses a quantity of units: a whole number above zero, with an optional unit word.
pub fn parse_quantity(text: &str, decimal_comma: Option<bool>) -> Result<i64, NumberError> {
    // Most cells are plain digits ("1"): read them without the general path's
    // copies (a packing list has 100,000 of them). 18 digits always fit an i64.
    let t = text.trim();
    if (1..=18).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
        return match t.parse::<i64>() {
            Ok(0) => Err(NumberError::NotPositive(t.to_string())),
            Ok(n) => Ok(n),
            Err(_) => parse_quantity_text(text, decimal_comma),
        };
    }
    parse_quantity_text(text, decimal_comma)
}

/// [`parse_quantity`] for any text: widths, unit words, separators, signs.
fn parse_quantity_text(text: &str, decimal_comma: Option<bool>) -> Result<i64, NumberError> {
    let owned = normalise_width(text);
    let mut t = owned.trim();
    for unit in QUANTITY_UNITS {
        let cut = t.len().saturating_sub(unit.len());
        if t.len() > unit.len() && t.is_char_boundary(cut) && t[cut..].eq_ignore_ascii_case(unit) {
            t = t[..cut].trim_end();
            break;
        }
    }
    let amount = parse_amount(t, decimal_comma)?;
    if amount.currency.is_some() {
        return Err(NumberError::NotANumber(text.trim().to_string()));
    }
    whole_positive(amount.value, text)
}

/// Checks that a value is a whole number above zero that fits an `i64`.
pub(crate) fn whole_positive(value: Decimal, text: &str) -> Result<i64, NumberError> {
    let shown = || text.trim().to_string();
    if !value.fract().is_zero() {
        return Err(NumberError::NotWhole(shown()));
    }
    if value <= Decimal::ZERO {
        return Err(NumberError::NotPositive(shown()));
    }
    i64::try_from(value).map_err(|_| NumberError::TooLarge(shown()))
}

/// Converts an Excel float to the decimal it displays, via the shortest round-trip text,
/// so 118.5 stays 118.5 rather than 118.4999999….
pub fn decimal_from_f64(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    let text = format!("{value}");
    Decimal::from_str(&text)
        .ok()
        .or_else(|| Decimal::from_scientific(&format!("{value:e}")).ok())
}

/// Maps full-width digits and punctuation (０-９, ，, ．) to ASCII.
fn normalise_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{2212}' => '-',
            _ => c,
        })
        .collect()
}

fn split_sign(text: &str) -> (&str, bool) {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        return (inner.trim(), true);
    }
    if let Some(rest) = t.strip_prefix('-') {
        return (rest.trim_start(), true);
    }
    if let Some(rest) = t.strip_prefix('+') {
        return (rest.trim_start(), false);
    }
    if let Some(rest) = t.strip_suffix('-') {
        return (rest.trim_end(), true);
    }
    (t, false)
}

fn is_group_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{A0}' | '\u{202F}' | '\u{2009}' | '\'' | '\u{2019}'
    )
}

fn parse_unsigned(
    t: &str,
    decimal_comma: Option<bool>,
    original: &str,
) -> Result<Decimal, NumberError> {
    let shown = || original.trim().to_string();
    if t.is_empty() {
        return Err(NumberError::NotANumber(shown()));
    }
    if t.contains(['e', 'E']) {
        return parse_scientific(t, original);
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || is_group_space(c))
        || !t.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Err(NumberError::NotANumber(shown()));
    }
    let decimal_sep =
        decimal_separator(t, decimal_comma).ok_or_else(|| NumberError::BadSeparators(shown()))?;
    let (int_part, frac_part) = match decimal_sep {
        Some(sep) => t.rsplit_once(sep).unwrap_or((t, "")),
        None => (t, ""),
    };
    if !frac_part.chars().all(|c| c.is_ascii_digit())
        || (int_part.is_empty() && frac_part.is_empty())
    {
        return Err(NumberError::BadSeparators(shown()));
    }
    let digits = grouped_digits(int_part).ok_or_else(|| NumberError::BadSeparators(shown()))?;
    let plain = if frac_part.is_empty() {
        digits
    } else {
        format!(
            "{}.{frac_part}",
            if digits.is_empty() { "0" } else { &digits }
        )
    };
    Decimal::from_str(&plain).map_err(|_| NumberError::TooLarge(shown()))
}

/// Decides which character is the decimal separator: `Some(None)` for none,
/// `None` when the text is contradictory.
fn decimal_separator(t: &str, decimal_comma: Option<bool>) -> Option<Option<char>> {
    let dots = t.matches('.').count();
    let commas = t.matches(',').count();
    match (dots, commas) {
        (0, 0) => Some(None),
        (_, 0) if dots > 1 => Some(None),
        (0, _) if commas > 1 => Some(None),
        (1, 0) => Some(if decimal_comma == Some(true) {
            None
        } else {
            Some('.')
        }),
        (0, 1) => match decimal_comma {
            Some(true) => Some(Some(',')),
            Some(false) => Some(None),
            None => {
                let (head, tail) = t.split_once(',')?;
                let looks_grouped = tail.len() == 3 && !head.is_empty() && !head.starts_with('0');
                Some(if looks_grouped { None } else { Some(',') })
            }
        },
        _ => {
            // Both appear: the last one is the decimal separator and must appear once.
            let last = t.rfind(['.', ','])?;
            let sep = t[last..].chars().next()?;
            let count = if sep == '.' { dots } else { commas };
            (count == 1).then_some(Some(sep))
        }
    }
}

/// Strips thousands separators after checking the groups have three digits.
fn grouped_digits(int_part: &str) -> Option<String> {
    let groups: Vec<&str> = int_part.split(|c: char| !c.is_ascii_digit()).collect();
    if groups.len() == 1 {
        return Some(int_part.to_string());
    }
    let separators: Vec<char> = int_part.chars().filter(|c| !c.is_ascii_digit()).collect();
    let first = separators.first()?;
    let same_kind = separators
        .iter()
        .all(|c| c == first || (is_group_space(*c) && is_group_space(*first)));
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    (same_kind && first_ok && rest_ok).then(|| groups.concat())
}

fn parse_scientific(t: &str, original: &str) -> Result<Decimal, NumberError> {
    let shown = || original.trim().to_string();
    let valid = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !valid {
        return Err(NumberError::NotANumber(shown()));
    }
    Decimal::from_scientific(t)
        .map(|d| d.normalize())
        .map_err(|_| NumberError::NotANumber(shown()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn plain_digit_quantities_read_as_the_general_path_reads_them() {
        let mut cells: Vec<String> = [
            "0",
            "00",
            "007",
            "1",
            " 42 ",
            "\t5\n",
            "999999999999999999",
            "000000000000000001",
        ]
        .map(str::to_string)
        .to_vec();
        // Every length up to the fast path's limit and one past it.
        let mut digits = String::new();
        for n in 1..=19u32 {
            digits.push(char::from_digit(n % 10, 10).unwrap_or('1'));
            cells.push(digits.clone());
        }
        for cell in &cells {
            for comma in [None, Some(true), Some(false)] {
                assert_eq!(
                    parse_quantity(cell, comma),
                    parse_quantity_text(cell, comma),
                    "{cell:?} with decimal_comma {comma:?}"
                );
            }
        }
        assert_eq!(parse_quantity("007", None), Ok(7));
        assert!(
            matches!(parse_quantity(" 0 ", None), Err(NumberError::NotPositive(t)) if t == "0")
        );
    }

    fn value(text: &str, decimal_comma: Option<bool>) -> Decimal {
        match parse_amount(text, decimal_comma) {
            Ok(a) => a.value,
            Err(e) => panic!("{text:?} did not parse: {e}"),
        }
    }

    #[test]
    fn thousands_separators_and_decimal_points_are_read_exactly() {
        assert_eq!(value("1,234.50", None), dec!(1234.50));
        assert_eq!(value("1,234,567.891", None), dec!(1234567.891));
        assert_eq!(value("118.5", None), dec!(118.5));
        assert_eq!(value("0.035", None), dec!(0.035));
        assert_eq!(value("1 234,50", None), dec!(1234.50));
        assert_eq!(value("1'234.50", None), dec!(1234.50));
    }

    #[test]
    fn decimal_commas_are_read_when_unambiguous_or_the_profile_says_so() {
        assert_eq!(value("1.234,50", None), dec!(1234.50));
        assert_eq!(value("12,5", None), dec!(12.5));
        assert_eq!(value("0,500", None), dec!(0.500));
        assert_eq!(value("1,234", None), dec!(1234));
        assert_eq!(value("1,234", Some(true)), dec!(1.234));
        assert_eq!(value("1.234", Some(true)), dec!(1234));
        assert_eq!(value("1.234.567", None), dec!(1234567));
    }

    #[test]
    fn separators_that_contradict_the_profile_are_rejected() {
        assert!(matches!(
            parse_amount("12,5", Some(false)),
            Err(NumberError::BadSeparators(_))
        ));
        assert!(matches!(
            parse_amount("12.5", Some(true)),
            Err(NumberError::BadSeparators(_))
        ));
        assert!(matches!(
            parse_amount("1,23,4.5", None),
            Err(NumberError::BadSeparators(_))
        ));
        assert!(matches!(
            parse_amount("1.2.3,4.5", None),
            Err(NumberError::BadSeparators(_))
        ));
    }

    #[test]
    fn currency_symbols_and_codes_are_split_off_and_reported() {
        let cases = [
            ("$1,234.50", dec!(1234.50), "USD"),
            ("₩12,000", dec!(12000), "KRW"),
            ("12,000원", dec!(12000), "KRW"),
            ("€ 99,90", dec!(99.90), "EUR"),
            ("12,00 €", dec!(12.00), "EUR"),
            ("¥15000", dec!(15000), "JPY"),
            ("USD 12.00", dec!(12.00), "USD"),
            ("12.00 usd", dec!(12.00), "USD"),
            ("-$5.00", dec!(-5.00), "USD"),
            ("US$ 1,070.00", dec!(1070.00), "USD"),
        ];
        for (text, expected, code) in cases {
            let amount = parse_amount(text, None).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(amount.value, expected, "{text}");
            assert_eq!(amount.currency.as_deref(), Some(code), "{text}");
        }
    }

    #[test]
    fn signs_parentheses_full_width_and_scientific_forms_are_read() {
        assert_eq!(value("(12.50)", None), dec!(-12.50));
        assert_eq!(value("12.50-", None), dec!(-12.50));
        assert_eq!(value("１２３．５", None), dec!(123.5));
        assert_eq!(value("1.5E3", None), dec!(1500));
        assert_eq!(value(".5", None), dec!(0.5));
    }

    #[test]
    fn words_and_garbage_are_not_numbers() {
        for text in ["abc", "12abc", "1,2x", "--1", "$", "TBD", "N/A", "1.2.3e4"] {
            assert!(parse_amount(text, None).is_err(), "{text}");
        }
        assert_eq!(parse_amount("   ", None), Err(NumberError::Empty));
    }

    #[test]
    fn quantities_are_whole_positive_numbers_with_optional_units() {
        assert_eq!(parse_quantity("10", None), Ok(10));
        assert_eq!(parse_quantity("1,000", None), Ok(1000));
        assert_eq!(parse_quantity("16 pcs", None), Ok(16));
        assert_eq!(parse_quantity("4EA", None), Ok(4));
        assert_eq!(parse_quantity("8개", None), Ok(8));
        assert_eq!(parse_quantity("2.0", None), Ok(2));
        assert!(matches!(
            parse_quantity("2.5", None),
            Err(NumberError::NotWhole(_))
        ));
        assert!(matches!(
            parse_quantity("0", None),
            Err(NumberError::NotPositive(_))
        ));
        assert!(matches!(
            parse_quantity("-3", None),
            Err(NumberError::NotPositive(_))
        ));
        assert!(matches!(
            parse_quantity("ten", None),
            Err(NumberError::NotANumber(_))
        ));
        assert!(parse_quantity("$3", None).is_err());
    }

    #[test]
    fn excel_floats_become_the_decimal_they_display() {
        assert_eq!(decimal_from_f64(118.5), Some(dec!(118.5)));
        assert_eq!(decimal_from_f64(0.1 + 0.2), Some(dec!(0.30000000000000004)));
        assert_eq!(decimal_from_f64(1070.0), Some(dec!(1070)));
        assert_eq!(decimal_from_f64(f64::NAN), None);
        assert_eq!(decimal_from_f64(f64::INFINITY), None);
        assert_eq!(decimal_from_f64(1e300), None);
        assert!(decimal_from_f64(1e-300).is_some());
    }
}
