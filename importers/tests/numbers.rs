//! Property tests of number parsing: it never panics, and plain decimals round-trip.

use proptest::prelude::*;
use rackledger_importers::{decimal_from_f64, parse_amount, parse_decimal, parse_quantity};
use rust_decimal::Decimal;

proptest! {
    #[test]
    fn number_parsing_never_panics_on_arbitrary_text(text in "\\PC{0,40}", comma in proptest::option::of(any::<bool>())) {
        let _ = parse_amount(&text, comma);
        let _ = parse_quantity(&text, comma);
    }

    #[test]
    fn number_parsing_never_panics_on_number_like_text(text in "[-+($₩€ ]{0,2}[0-9.,' ]{0,30}[)원€ a-zA-Z]{0,4}") {
        let _ = parse_amount(&text, None);
        let _ = parse_amount(&text, Some(true));
        let _ = parse_quantity(&text, Some(false));
    }

    #[test]
    fn plain_decimals_round_trip(mantissa in any::<i64>(), scale in 0u32..=10) {
        let d = Decimal::new(mantissa, scale);
        prop_assert_eq!(parse_decimal(&d.to_string(), None), Ok(d));
        prop_assert_eq!(parse_decimal(&d.to_string(), Some(false)), Ok(d));
    }

    #[test]
    fn grouped_decimals_round_trip_in_both_conventions(units in 0u64..1_000_000_000_000, cents in 0u32..100) {
        let d = Decimal::from(units) + Decimal::new(i64::from(cents), 2);
        let grouped = group_thousands(units);
        let english = format!("{grouped}.{cents:02}");
        let european = swap_last_dot(&format!("{}.{cents:02}", grouped.replace(',', ".")));
        prop_assert_eq!(parse_decimal(&english, None), Ok(d));
        prop_assert_eq!(parse_decimal(&european, Some(true)), Ok(d));
    }

    #[test]
    fn f64_conversion_keeps_the_displayed_digits(mantissa in -1_000_000_000i64..1_000_000_000, scale in 0u32..=6) {
        let d = Decimal::new(mantissa, scale);
        let f: f64 = d.to_string().parse().unwrap_or(0.0);
        prop_assert_eq!(decimal_from_f64(f).map(|x| x.normalize()), Some(d.normalize()));
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn swap_last_dot(text: &str) -> String {
    match text.rfind('.') {
        Some(i) => format!("{},{}", &text[..i], &text[i + 1..]),
        None => text.to_string(),
    }
}
