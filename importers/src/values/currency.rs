//! Currency codes, symbols and words as suppliers write them.

use iso_currency::Currency;

/// Symbols and words, longest first where one is a prefix of another.
const SYMBOLS: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("NT$", "TWD"),
    ("HK$", "HKD"),
    ("S$", "SGD"),
    ("A$", "AUD"),
    ("C$", "CAD"),
    ("CN¥", "CNY"),
    ("RMB", "CNY"),
    ("$", "USD"),
    ("₩", "KRW"),
    ("￦", "KRW"),
    ("원", "KRW"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("￥", "JPY"),
    ("円", "JPY"),
    ("엔", "JPY"),
    ("元", "CNY"),
    ("위안", "CNY"),
    ("달러", "USD"),
    ("유로", "EUR"),
];

/// Words a currency column may hold instead of a code.
const WORDS: &[(&str, &str)] = &[
    ("dollar", "USD"),
    ("dollars", "USD"),
    ("won", "KRW"),
    ("yen", "JPY"),
    ("euro", "EUR"),
    ("euros", "EUR"),
    ("yuan", "CNY"),
];

/// Reads a currency cell ("USD", "usd", "$", "₩", "원", "dollars") as an ISO 4217 code.
pub fn parse_currency(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some((_, code)) = SYMBOLS.iter().find(|(s, _)| *s == t) {
        return Some((*code).to_string());
    }
    let lower = t.to_lowercase();
    if let Some((_, code)) = WORDS.iter().find(|(w, _)| *w == lower) {
        return Some((*code).to_string());
    }
    iso_code(t)
}

/// Accepts exactly three ASCII letters that form an ISO 4217 code, in any case.
pub(crate) fn iso_code(text: &str) -> Option<String> {
    if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let upper = text.to_ascii_uppercase();
    Currency::from_code(&upper).map(|_| upper)
}

/// Splits a currency marker off the start or end of a number's text.
///
/// Returns the rest, trimmed, and the ISO code; `Err` when the start and end name
/// different currencies.
pub(crate) fn split_currency(text: &str) -> Result<(&str, Option<String>), String> {
    let (rest, prefix) = split_prefix(text.trim());
    let (rest, suffix) = split_suffix(rest);
    match (prefix, suffix) {
        (Some(a), Some(b)) if a != b => Err(format!("names two currencies, {a} and {b}")),
        (a, b) => Ok((rest, a.or(b))),
    }
}

fn split_prefix(text: &str) -> (&str, Option<String>) {
    for (symbol, code) in SYMBOLS {
        if let Some(rest) = text.strip_prefix(symbol) {
            return (rest.trim_start(), Some((*code).to_string()));
        }
    }
    if let Some(head) = text.get(..3)
        && let Some(code) = iso_code(head)
        && !text[3..].starts_with(|c: char| c.is_alphabetic())
    {
        return (text[3..].trim_start(), Some(code));
    }
    (text, None)
}

fn split_suffix(text: &str) -> (&str, Option<String>) {
    for (symbol, code) in SYMBOLS {
        if let Some(rest) = text.strip_suffix(symbol) {
            return (rest.trim_end(), Some((*code).to_string()));
        }
    }
    if text.len() > 3
        && text.is_char_boundary(text.len() - 3)
        && let Some(code) = iso_code(&text[text.len() - 3..])
        && !text[..text.len() - 3].ends_with(|c: char| c.is_alphabetic())
    {
        return (text[..text.len() - 3].trim_end(), Some(code));
    }
    (text, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_cells_accept_codes_symbols_and_words() {
        for (text, code) in [
            ("USD", "USD"),
            (" usd ", "USD"),
            ("$", "USD"),
            ("₩", "KRW"),
            ("원", "KRW"),
            ("KRW", "KRW"),
            ("€", "EUR"),
            ("Euro", "EUR"),
            ("¥", "JPY"),
            ("RMB", "CNY"),
        ] {
            assert_eq!(parse_currency(text).as_deref(), Some(code), "{text}");
        }
    }

    #[test]
    fn made_up_codes_are_not_currencies() {
        assert_eq!(parse_currency("XYZ"), None);
        assert_eq!(parse_currency("US"), None);
        assert_eq!(parse_currency("bitcoin"), None);
    }

    #[test]
    fn currency_markers_split_off_either_end() {
        assert_eq!(
            split_currency("USD 12.00"),
            Ok(("12.00", Some("USD".into())))
        );
        assert_eq!(split_currency("12,00 €"), Ok(("12,00", Some("EUR".into()))));
        assert_eq!(split_currency("12000원"), Ok(("12000", Some("KRW".into()))));
        assert_eq!(split_currency("12.5"), Ok(("12.5", None)));
        assert!(split_currency("$12 EUR").is_err());
    }
}
