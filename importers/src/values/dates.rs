//! Calendar dates from supplier text and from Excel serial numbers.

use time::{Date, Duration, Month};

/// Why text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Nothing but whitespace.
    #[error("the cell is empty")]
    Empty,
    /// Not in any date layout this reader knows.
    #[error("{:?} is not a date (expected for example 2026-11-27, 27.11.2026 or 27 Nov 2026)", crate::limits::sample(.0))]
    Unrecognised(String),
    /// Day and month are both 12 or less and nothing says which comes first.
    #[error("{:?} is ambiguous: day and month could be swapped; set day_first in the profile", crate::limits::sample(.0))]
    Ambiguous(String),
    /// The layout is right but the day does not exist (2026-02-30).
    #[error("{:?} is not a valid calendar date", crate::limits::sample(.0))]
    Invalid(String),
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parses a date written as text.
///
/// Accepts 2026-11-27, 2026/11/27, 2026.11.27, 2026년 11월 27일, 20261127, 27.11.2026
/// (dots are always day first), 27 Nov 2026, Nov 27, 2026, and 11/27/2026 or
/// 27/11/2026 when the numbers decide, or `day_first` does. A time after the date
/// ("2026-11-27T10:00:00", "2026-11-27 10:00") is ignored.
pub fn parse_date(text: &str, day_first: Option<bool>) -> Result<Date, DateError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DateError::Empty);
    }
    let shown = || t.to_string();
    let date_part = strip_time(t);
    let tokens: Vec<&str> = date_part
        .split(['-', '/', '.', ' ', ',', '년', '월', '일'])
        .filter(|s| !s.is_empty())
        .collect();
    let (year, month, day) = match tokens.as_slice() {
        [compact] if compact.len() == 8 && compact.bytes().all(|b| b.is_ascii_digit()) => (
            number(&compact[..4]),
            number(&compact[4..6]),
            number(&compact[6..]),
        ),
        [a, b, c] if is_digits(a) && is_digits(b) && is_digits(c) => {
            numeric_order(a, b, c, date_part.contains('.'), day_first).ok_or_else(|| {
                if a.len() != 4 && c.len() == 4 {
                    DateError::Ambiguous(shown())
                } else {
                    DateError::Unrecognised(shown())
                }
            })?
        }
        [a, b, c] => named_month(a, b, c).ok_or_else(|| DateError::Unrecognised(shown()))?,
        _ => return Err(DateError::Unrecognised(shown())),
    };
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| DateError::Invalid(shown()))?;
    let day = u8::try_from(day).map_err(|_| DateError::Invalid(shown()))?;
    let year = i32::try_from(year).map_err(|_| DateError::Invalid(shown()))?;
    Date::from_calendar_date(year, month, day).map_err(|_| DateError::Invalid(shown()))
}

/// Converts an Excel serial day number (1900 date system) to a date.
///
/// Serial 1 is 1900-01-01; Excel's phantom 1900-02-29 (serial 60) and anything
/// outside 1..=2958465 (9999-12-31) give `None`. A time fraction is ignored.
pub fn date_from_excel_serial(serial: f64) -> Option<Date> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    // The range check above makes the cast exact for the whole-day part.
    let days = serial.floor() as i64;
    if days == 60 {
        return None;
    }
    // Excel counts 1900-02-29, which did not exist, so later serials are off by one.
    let (epoch, offset) = if days < 60 {
        (
            Date::from_calendar_date(1899, Month::December, 31).ok()?,
            days,
        )
    } else {
        (
            Date::from_calendar_date(1899, Month::December, 30).ok()?,
            days,
        )
    };
    epoch.checked_add(Duration::days(offset))
}

fn strip_time(t: &str) -> &str {
    let Some(colon) = t.find(':') else {
        return t;
    };
    let head = &t[..colon];
    match head.rfind([' ', 'T']) {
        Some(cut) => head[..cut].trim_end(),
        None => t,
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit())
}

fn number(s: &str) -> u32 {
    s.bytes().filter(u8::is_ascii_digit).fold(0u32, |n, b| {
        n.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    })
}

/// Orders three numeric tokens as (year, month, day), or `None` when it cannot tell.
fn numeric_order(
    a: &str,
    b: &str,
    c: &str,
    dotted: bool,
    day_first: Option<bool>,
) -> Option<(u32, u32, u32)> {
    let (x, y, z) = (number(a), number(b), number(c));
    if a.len() == 4 {
        return Some((x, y, z));
    }
    if c.len() != 4 {
        return None;
    }
    if dotted || x > 12 {
        return Some((z, y, x));
    }
    if y > 12 || x == y {
        return Some((z, x, y));
    }
    match day_first {
        Some(true) => Some((z, y, x)),
        Some(false) => Some((z, x, y)),
        None => None,
    }
}

fn month_number(token: &str) -> Option<u32> {
    let lower = token.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    let index = MONTHS.iter().position(|m| *m == prefix)?;
    let full_ok = lower.len() == 3 || month_full_name(index).starts_with(&lower);
    // The index is below 12, so it always fits.
    full_ok.then_some(index as u32 + 1)
}

fn month_full_name(index: usize) -> &'static str {
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL.get(index).copied().unwrap_or("")
}

fn named_month(a: &str, b: &str, c: &str) -> Option<(u32, u32, u32)> {
    if let Some(m) = month_number(b) {
        // 27 Nov 2026, or 2026-Nov-27
        return if a.len() == 4 && is_digits(a) && is_digits(c) {
            Some((number(a), m, number(c)))
        } else if c.len() == 4 && is_digits(a) && is_digits(c) {
            Some((number(c), m, number(a)))
        } else {
            None
        };
    }
    let m = month_number(a)?;
    // Nov 27, 2026
    (is_digits(b) && c.len() == 4 && is_digits(c)).then(|| (number(c), m, number(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn parsed(text: &str, day_first: Option<bool>) -> Date {
        parse_date(text, day_first).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn iso_and_year_first_dates_are_read() {
        for text in [
            "2026-11-27",
            "2026/11/27",
            "2026.11.27",
            "2026. 11. 27.",
            "2026년 11월 27일",
            "20261127",
            "2026-11-27T10:30:00Z",
            "2026-11-27 10:30",
        ] {
            assert_eq!(parsed(text, None), date!(2026 - 11 - 27), "{text}");
        }
    }

    #[test]
    fn dotted_day_first_and_month_name_dates_are_read() {
        for text in [
            "27.11.2026",
            "27 Nov 2026",
            "27-Nov-2026",
            "Nov 27, 2026",
            "November 27 2026",
        ] {
            assert_eq!(parsed(text, None), date!(2026 - 11 - 27), "{text}");
        }
    }

    #[test]
    fn slashed_dates_are_read_only_when_unambiguous_or_the_profile_decides() {
        assert_eq!(parsed("11/27/2026", None), date!(2026 - 11 - 27));
        assert_eq!(parsed("27/11/2026", None), date!(2026 - 11 - 27));
        assert_eq!(parsed("05/05/2026", None), date!(2026 - 05 - 05));
        assert!(matches!(
            parse_date("03/04/2026", None),
            Err(DateError::Ambiguous(_))
        ));
        assert_eq!(parsed("03/04/2026", Some(true)), date!(2026 - 04 - 03));
        assert_eq!(parsed("03/04/2026", Some(false)), date!(2026 - 03 - 04));
    }

    #[test]
    fn impossible_and_unknown_dates_are_errors() {
        assert!(matches!(
            parse_date("2026-02-30", None),
            Err(DateError::Invalid(_))
        ));
        assert!(matches!(
            parse_date("2026-13-01", None),
            Err(DateError::Invalid(_))
        ));
        assert!(matches!(
            parse_date("next tuesday", None),
            Err(DateError::Unrecognised(_))
        ));
        assert!(matches!(
            parse_date("27 Foo 2026", None),
            Err(DateError::Unrecognised(_))
        ));
        assert_eq!(parse_date(" ", None), Err(DateError::Empty));
    }

    #[test]
    fn excel_serials_count_from_1900_with_the_leap_year_bug() {
        assert_eq!(date_from_excel_serial(1.0), Some(date!(1900 - 01 - 01)));
        assert_eq!(date_from_excel_serial(59.0), Some(date!(1900 - 02 - 28)));
        assert_eq!(date_from_excel_serial(60.0), None);
        assert_eq!(date_from_excel_serial(61.0), Some(date!(1900 - 03 - 01)));
        assert_eq!(date_from_excel_serial(46353.0), Some(date!(2026 - 11 - 27)));
        assert_eq!(
            date_from_excel_serial(46353.75),
            Some(date!(2026 - 11 - 27))
        );
        assert_eq!(date_from_excel_serial(0.0), None);
        assert_eq!(date_from_excel_serial(f64::NAN), None);
    }

    proptest! {
        #[test]
        fn date_parsing_never_panics(text in "\\PC{0,30}", day_first in proptest::option::of(any::<bool>())) {
            let _ = parse_date(&text, day_first);
        }

        #[test]
        fn iso_dates_round_trip(days in 0i64..80_000) {
            let d = date!(1900 - 01 - 01) + Duration::days(days);
            prop_assert_eq!(parse_date(&d.to_string(), None), Ok(d));
        }
    }
}
