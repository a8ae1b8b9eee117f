//! A unit's status and its serial number, parsed once at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::Database;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;

use crate::i18n::Msg;

/// Where a serial-tracked unit is in its life (`units.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    /// On a shelf in a stock location.
    InStock,
    /// Held for an assembly order or a swap.
    Reserved,
    /// Inside an asset, in a slot.
    Installed,
    /// Out of an asset and known bad, at a stock location.
    Faulty,
    /// Sent back to the supplier.
    AtRma,
    /// Gone for good.
    Scrapped,
}

impl UnitStatus {
    /// Every status, in life order (the units list's filter).
    pub const ALL: [UnitStatus; 6] = [
        UnitStatus::InStock,
        UnitStatus::Reserved,
        UnitStatus::Installed,
        UnitStatus::Faulty,
        UnitStatus::AtRma,
        UnitStatus::Scrapped,
    ];

    /// The name stored in the database and sent in the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnitStatus::InStock => "in_stock",
            UnitStatus::Reserved => "reserved",
            UnitStatus::Installed => "installed",
            UnitStatus::Faulty => "faulty",
            UnitStatus::AtRma => "at_rma",
            UnitStatus::Scrapped => "scrapped",
        }
    }
}

impl fmt::Display for UnitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`UnitStatus::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown unit status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for UnitStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnitStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl PartialEq<&str> for UnitStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for UnitStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

// Stored as its name in a TEXT column on both engines.
impl<DB: Database> sqlx::Type<DB> for UnitStatus
where
    str: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <str as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <str as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> sqlx::Encode<'q, DB> for UnitStatus
where
    &'q str: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
    }
}

impl<'r, DB: Database> sqlx::Decode<'r, DB> for UnitStatus
where
    &'r str: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let name = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
        Ok(name.parse()?)
    }
}

/// A serial number as typed, scanned or read from a file: surrounding
/// whitespace trimmed, case kept. Serials are stored as received and matched
/// in any case of their ASCII letters ([`Serial::key`]), on both engines:
/// SQLite's `lower()` folds ASCII only, and so does PostgreSQL's on the
/// `collate "C"` serial column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Serial(String);

/// Why a typed, scanned or imported serial is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadSerial {
    /// Nothing but whitespace.
    Empty,
    /// Longer than [`Serial::MAX_CHARS`] (a label's QR code holds it, and
    /// every table shows it).
    TooLong,
    /// A control or invisible formatting character (a NUL, a tab inside it,
    /// a zero-width space): two serials would look the same and differ.
    Character(char),
}

impl BadSerial {
    /// The message for `raw`, naming at most its first 40 characters.
    pub fn msg(self, raw: &str) -> Msg {
        let shown: String = raw.trim().chars().take(40).collect();
        let shown = if raw.trim().chars().count() > 40 {
            format!("{shown}…")
        } else {
            shown
        };
        match self {
            BadSerial::Empty => Msg::new("validation.required"),
            BadSerial::TooLong => Msg::new("receipt.serial_too_long")
                .arg("serial", shown)
                .arg("max", Serial::MAX_CHARS),
            BadSerial::Character(c) => Msg::new("receipt.serial_character")
                .arg("serial", shown.escape_debug().to_string())
                .arg("code", format!("U+{:04X}", u32::from(c))),
        }
    }
}

/// Invisible formatting characters (Unicode category Cf) found in pasted
/// text: soft hyphen, zero-width spaces and joiners, direction marks and
/// embeddings, word joiner and invisible operators, byte order mark.
fn invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

impl Serial {
    /// Longest serial accepted, in characters.
    pub const MAX_CHARS: usize = 128;

    /// The serial in `raw`, trimmed, or why it is refused.
    pub fn parse(raw: &str) -> Result<Serial, BadSerial> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(BadSerial::Empty);
        }
        if let Some(c) = s.chars().find(|&c| c.is_control() || invisible(c)) {
            return Err(BadSerial::Character(c));
        }
        if s.chars().nth(Self::MAX_CHARS).is_some() {
            return Err(BadSerial::TooLong);
        }
        Ok(Serial(s.to_owned()))
    }

    /// The serial as received (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What serials are compared by: ASCII letters lowered, as the
    /// database's `lower(serial)` does.
    pub fn key(&self) -> String {
        key(&self.0)
    }
}

/// [`Serial::key`] of a serial already trimmed (a row read back, a string
/// checked elsewhere).
pub fn key(serial: &str) -> String {
    serial.to_ascii_lowercase()
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Serial {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_name_reads_back_as_itself() {
        for st in UnitStatus::ALL {
            assert_eq!(st.as_str().parse::<UnitStatus>().ok(), Some(st));
            assert_eq!(
                serde_json::to_string(&st).ok(),
                Some(format!("\"{}\"", st.as_str()))
            );
        }
        assert!("In_Stock".parse::<UnitStatus>().is_err());
    }

    #[test]
    fn a_serial_is_trimmed_kept_in_case_and_keyed_in_lower_case() {
        let s = Serial::parse("  S4newD000123\t");
        assert_eq!(s.as_ref().map(Serial::as_str), Ok("S4newD000123"));
        assert_eq!(s.as_ref().map(Serial::key).as_deref(), Ok("s4newd000123"));
        assert_eq!(
            Serial::parse("s4NEWd000123").map(|o| o.key()),
            s.map(|s| s.key())
        );
        // Only ASCII is folded, as the database's lower() on both engines.
        assert_eq!(key("SN-Ö1"), "sn-Ö1");
        assert_eq!(Serial::parse("   "), Err(BadSerial::Empty));
    }

    #[test]
    fn a_serial_that_would_not_print_or_would_look_like_another_is_refused() {
        let longest = "X".repeat(Serial::MAX_CHARS);
        assert!(Serial::parse(&longest).is_ok());
        assert_eq!(
            Serial::parse(&format!("{longest}Y")),
            Err(BadSerial::TooLong)
        );
        // Characters, not bytes: 128 Hangul syllables are 384 bytes.
        assert!(Serial::parse(&"가".repeat(Serial::MAX_CHARS)).is_ok());
        for (raw, c) in [
            ("a\u{0}b", '\u{0}'),
            ("tab\there", '\t'),
            ("\u{200B}ZW", '\u{200B}'),
            ("ZW\u{FEFF}", '\u{FEFF}'),
            ("RTL\u{202E}21", '\u{202E}'),
        ] {
            assert_eq!(Serial::parse(raw), Err(BadSerial::Character(c)), "{raw:?}");
        }
        // Spaces, punctuation and letters of any script are serials.
        for ok in ["SN 0001", "O'Brien-7", "ünïcødé-序列-1", "Ｆｕｌｌ１"] {
            assert!(Serial::parse(ok).is_ok(), "{ok}");
        }
        let msg = BadSerial::TooLong.msg(&"Z".repeat(1000));
        assert!(msg.render(crate::i18n::Lang::En).len() < 200);
    }
}
