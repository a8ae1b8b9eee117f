//! Mapping profiles: a supplier's saved layout, stored as TOML.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ImportError;
use crate::formats::cell::column_index;
use crate::model::{Field, Kind};
use crate::values::currency::iso_code;

/// A supplier's sheet layout, saved by the app; it overrides header recognition.
///
/// See the crate README for the TOML format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A name for people ("Acme Korea packing list").
    pub name: String,
    /// The kind of sheet this profile reads.
    pub kind: Kind,
    /// The worksheet to read; default: the first visible sheet with a usable header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// 1-based header row; 0 when the sheet has no header row (map columns by letter);
    /// default: the best match in the first 30 rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_row: Option<usize>,
    /// `true` when numbers are written 1.234,50; default: per cell, and `true` for
    /// semicolon-separated CSV.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_comma: Option<bool>,
    /// `true` when slashed dates are day first (27/11/2026); default: only
    /// unambiguous slashed dates are read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_first: Option<bool>,
    /// CSV text encoding label ("utf-8", "cp949", "euc-kr", "utf-16le"); default: UTF-8
    /// when the bytes are valid UTF-8, else CP949.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// CSV delimiter (`","`, `";"`, `"\t"`, `"|"`); default: sniffed from the header line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
    /// ISO 4217 code for rows whose sheet says no currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_currency: Option<String>,
    /// Field → header text as it appears in the sheet, or a column letter ("C").
    /// Fields not listed are still recognised from their headers.
    #[serde(default)]
    pub columns: BTreeMap<Field, String>,
}

impl Profile {
    /// An empty profile of a kind: everything recognised, nothing overridden.
    pub fn new(name: impl Into<String>, kind: Kind) -> Self {
        Profile {
            name: name.into(),
            kind,
            sheet: None,
            header_row: None,
            decimal_comma: None,
            day_first: None,
            encoding: None,
            delimiter: None,
            default_currency: None,
            columns: BTreeMap::new(),
        }
    }

    /// Parses and validates a profile from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ImportError> {
        let profile: Profile =
            toml::from_str(text).map_err(|e| ImportError::BadProfile(e.to_string()))?;
        profile.validate()?;
        Ok(profile)
    }

    /// Writes the profile as TOML text.
    pub fn to_toml(&self) -> Result<String, ImportError> {
        toml::to_string(self).map_err(|e| ImportError::BadProfile(e.to_string()))
    }

    /// Checks the values a TOML parser cannot: encoding label, currency code, columns.
    pub fn validate(&self) -> Result<(), ImportError> {
        if let Some(label) = &self.encoding
            && encoding_rs::Encoding::for_label(label.trim().as_bytes()).is_none()
        {
            return Err(ImportError::BadProfile(format!(
                "profile {:?}: unknown encoding {label:?} (try \"utf-8\" or \"cp949\")",
                self.name
            )));
        }
        if let Some(code) = &self.default_currency
            && iso_code(code.trim()).is_none()
        {
            return Err(ImportError::BadProfile(format!(
                "profile {:?}: default_currency {code:?} is not an ISO 4217 code",
                self.name
            )));
        }
        if let Some(d) = self.delimiter
            && (d == '"' || d == '\n' || d == '\r' || !d.is_ascii())
        {
            return Err(ImportError::BadProfile(format!(
                "profile {:?}: delimiter {d:?} must be one ASCII character other than a quote or line break",
                self.name
            )));
        }
        for (field, column) in &self.columns {
            if column.trim().is_empty() {
                return Err(ImportError::BadProfile(format!(
                    "profile {:?}: column for {field} is empty",
                    self.name
                )));
            }
        }
        if self.header_row == Some(0)
            && let Some((field, column)) = self
                .columns
                .iter()
                .find(|(_, c)| column_index(c.trim()).is_none())
        {
            return Err(ImportError::BadProfile(format!(
                "profile {:?}: header_row is 0 (no header), so {field} must be a column letter, not {column:?}",
                self.name
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
name = "Example packing list"
kind = "packing_list"
sheet = "Packing"
header_row = 4
delimiter = ";"
default_currency = "USD"

[columns]
mpn = "Model Code"
serial = "C"
"#;

    #[test]
    fn a_profile_reads_from_toml_and_writes_back_the_same() {
        let profile = Profile::from_toml(EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(profile.kind, Kind::PackingList);
        assert_eq!(profile.header_row, Some(4));
        assert_eq!(profile.delimiter, Some(';'));
        assert_eq!(
            profile.columns.get(&Field::Serial).map(String::as_str),
            Some("C")
        );
        let text = profile.to_toml().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(Profile::from_toml(&text).ok(), Some(profile));
    }

    #[test]
    fn a_tab_delimiter_is_written_as_an_escaped_string() {
        let profile =
            Profile::from_toml("name = \"t\"\nkind = \"price_list\"\ndelimiter = \"\\t\"\n")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(profile.delimiter, Some('\t'));
    }

    #[test]
    fn unknown_keys_encodings_and_currencies_are_rejected() {
        let typo = "name = \"x\"\nkind = \"price_list\"\ndecimal_coma = true\n";
        assert!(matches!(
            Profile::from_toml(typo),
            Err(ImportError::BadProfile(_))
        ));
        let encoding = "name = \"x\"\nkind = \"price_list\"\nencoding = \"klingon\"\n";
        assert!(matches!(
            Profile::from_toml(encoding),
            Err(ImportError::BadProfile(_))
        ));
        let currency = "name = \"x\"\nkind = \"price_list\"\ndefault_currency = \"DOLLARS\"\n";
        assert!(matches!(
            Profile::from_toml(currency),
            Err(ImportError::BadProfile(_))
        ));
        let field = "name = \"x\"\nkind = \"price_list\"\n[columns]\nprize = \"B\"\n";
        assert!(matches!(
            Profile::from_toml(field),
            Err(ImportError::BadProfile(_))
        ));
    }

    #[test]
    fn a_sheet_without_header_needs_column_letters() {
        let text =
            "name = \"x\"\nkind = \"price_list\"\nheader_row = 0\n[columns]\nmpn = \"Part\"\n";
        assert!(matches!(
            Profile::from_toml(text),
            Err(ImportError::BadProfile(_))
        ));
    }
}
