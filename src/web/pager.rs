//! Pagination of list pages and API lists.

use serde::{Deserialize, Deserializer};

/// Rows per page unless asked otherwise.
pub const DEFAULT_PER_PAGE: i64 = 50;

/// The highest page number served; a larger one is read as this one (its
/// offset, 500 million rows, is past any list and cannot overflow).
pub const MAX_PAGE: i64 = 1_000_000;

/// `?page=N&per_page=M`, 1-based, clamped to sane bounds.
#[derive(Clone, Copy, Debug, Deserialize, utoipa::IntoParams)]
pub struct Pager {
    /// Page number, from 1.
    #[serde(default = "one", deserialize_with = "lenient_or_one")]
    pub page: i64,
    /// Rows per page, 1-500.
    #[serde(default = "default_per_page", deserialize_with = "lenient_or_default")]
    pub per_page: i64,
}

fn one() -> i64 {
    1
}

fn default_per_page() -> i64 {
    DEFAULT_PER_PAGE
}

/// A whole number as written in a URL, read the same way by every list:
/// an optional sign and digits; a number too long for `i64` is read as the
/// largest (or smallest) one, so it is clamped like any other out of range
/// and a page number never makes a 400. `None` when it is not a number.
pub fn parse_count(s: &str) -> Option<i64> {
    let s = s.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match digits.parse::<i64>() {
        Ok(n) if negative => -n,
        Ok(n) => n,
        Err(_) if negative => i64::MIN,
        Err(_) => i64::MAX,
    })
}

/// `deserialize_with` for an optional page or per-page: any whole number
/// (see [`parse_count`]), absent when blank; what is not a number is
/// refused (the application's 400 page), on every list alike.
pub fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => parse_count(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "a page number or rows per page must be a whole number, not {s:?}"
            ))
        }),
    }
}

/// A list's filter `field` (`?status=`, `?category=`) as one of its
/// `choices`: `None` when absent or blank. A value not among them is refused
/// with a message naming it (the application's 422 page, in words) rather
/// than the list shown unfiltered as if it were asked for, on every list
/// alike.
pub fn filter_choice<'a>(
    field: &str,
    value: Option<&str>,
    choices: &[&'a str],
) -> crate::error::AppResult<Option<&'a str>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Some(c) = choices.iter().find(|c| **c == v) {
        return Ok(Some(c));
    }
    let mut f = crate::error::FieldErrors::default();
    f.add(
        field,
        crate::i18n::Msg::new("forms4.unknown_filter")
            .arg("field", field)
            .arg("value", v),
    );
    Err(crate::error::AppError::Validation(f))
}

fn lenient_or_one<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(lenient(d)?.unwrap_or(1))
}

fn lenient_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(lenient(d)?.unwrap_or(DEFAULT_PER_PAGE))
}

impl Default for Pager {
    fn default() -> Self {
        Pager {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl Pager {
    /// SQL `limit`.
    pub fn limit(&self) -> i64 {
        self.per_page.clamp(1, 500)
    }

    /// SQL `offset`.
    pub fn offset(&self) -> i64 {
        (self.page() - 1) * self.limit()
    }

    /// The page number actually used.
    pub fn page(&self) -> i64 {
        self.page.clamp(1, MAX_PAGE)
    }

    /// Number of pages for `total` rows (at least 1).
    pub fn pages(&self, total: i64) -> i64 {
        ((total + self.limit() - 1) / self.limit()).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_page_counts() {
        let p = Pager {
            page: 3,
            per_page: 20,
        };
        assert_eq!((p.limit(), p.offset()), (20, 40));
        assert_eq!(p.pages(0), 1);
        assert_eq!(p.pages(41), 3);
        let wild = Pager {
            page: -5,
            per_page: 100_000,
        };
        assert_eq!((wild.limit(), wild.offset(), wild.page()), (500, 0, 1));
        let far = Pager {
            page: i64::MAX,
            per_page: i64::MAX,
        };
        assert_eq!(far.page(), MAX_PAGE);
        assert_eq!(far.offset(), (MAX_PAGE - 1) * 500);
    }

    #[test]
    fn page_numbers_are_read_leniently() {
        assert_eq!(parse_count("12"), Some(12));
        assert_eq!(parse_count(" +3 "), Some(3));
        assert_eq!(parse_count("-4"), Some(-4));
        assert_eq!(parse_count("123456789012345678901234"), Some(i64::MAX));
        assert_eq!(parse_count("-123456789012345678901234"), Some(i64::MIN));
        for junk in ["", "-", "1e3", "abc", "1.5", "0x10"] {
            assert_eq!(parse_count(junk), None, "{junk:?}");
        }
    }
}
