//! Whole-file errors ([`ImportError`]) and per-row errors ([`RowError`]).

use std::fmt;
use std::path::PathBuf;

use crate::model::{Field, Format, Kind};

/// A problem with the whole file: nothing can be read from it.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read from disk.
    #[error("could not read {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty.
    #[error("{file_name} is empty")]
    Empty {
        /// The file's name as given.
        file_name: String,
    },
    /// Neither the content nor the extension says CSV, XLSX, XLS or ODS.
    #[error("could not tell the format of {file_name}: expected a CSV, XLSX, XLS or ODS file")]
    UnknownFormat {
        /// The file's name as given.
        file_name: String,
    },
    /// The file looks like the format but its content is damaged or unsupported.
    #[error("the {format} file could not be read: {detail}")]
    Unreadable {
        /// The detected format.
        format: Format,
        /// What the parser said.
        detail: String,
    },
    /// The workbook has no worksheet to read.
    #[error("the workbook has no worksheet")]
    NoSheets,
    /// The profile names a sheet the workbook does not have.
    #[error(
        "sheet {sheet:?} not found; the workbook has: {}",
        list_headers(available)
    )]
    SheetNotFound {
        /// The sheet the profile asked for.
        sheet: String,
        /// The sheets the workbook has.
        available: Vec<String>,
    },
    /// No row in the scanned part of the sheet looks like a header.
    #[error(
        "no header row found in the first {scanned} rows: no cell matched a known column name \
         (for example Part Number, Qty, Unit Price, Serial, 품번, 수량, 단가); \
         use a mapping profile for this layout"
    )]
    NoHeaderRow {
        /// How many rows were scanned.
        scanned: usize,
    },
    /// A column the kind needs is not in the header row.
    #[error(
        "required column {} is missing for a {}; headers seen in row {header_row}: {}",
        field.label(), kind.label(), list_headers(seen)
    )]
    MissingColumn {
        /// The missing field.
        field: Field,
        /// The kind being imported.
        kind: Kind,
        /// The header row that was used (1-based).
        header_row: usize,
        /// The non-empty header texts of that row.
        seen: Vec<String>,
    },
    /// A profile names a header text that is not in the header row.
    #[error(
        "the profile maps {} to column {column:?}, which is not in header row {header_row}; \
         headers seen: {}",
        field.label(), list_headers(seen)
    )]
    ProfileColumnNotFound {
        /// The field the profile maps.
        field: Field,
        /// The header text or column letter the profile gives.
        column: String,
        /// The header row that was used (1-based).
        header_row: usize,
        /// The non-empty header texts of that row.
        seen: Vec<String>,
    },
    /// The profile is for another kind of sheet.
    #[error("profile {name:?} is for a {} but a {} is being imported", profile_kind.label(), kind.label())]
    ProfileKindMismatch {
        /// The profile's name.
        name: String,
        /// The kind the profile is for.
        profile_kind: Kind,
        /// The kind being imported.
        kind: Kind,
    },
    /// The profile could not be parsed or holds an invalid value.
    #[error("invalid mapping profile: {0}")]
    BadProfile(String),
    /// The file goes over one of the reader's caps (see [`crate::Limits`]).
    #[error("the file is refused: {0}")]
    TooLarge(crate::limits::LimitExceeded),
}

/// Names quoted from the file: each cut to [`crate::SAMPLE_CHARS`], at most 40 of them.
fn list_headers(seen: &[String]) -> String {
    const SHOWN: usize = 40;
    if seen.is_empty() {
        return "(none)".to_string();
    }
    let mut list = seen
        .iter()
        .take(SHOWN)
        .map(|h| format!("{:?}", crate::limits::sample(h)))
        .collect::<Vec<_>>()
        .join(", ");
    if seen.len() > SHOWN {
        list.push_str(&format!(" … and {} more", seen.len() - SHOWN));
    }
    list
}

/// Why one data row does not fit; the other rows are still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based row number as the user sees it (spreadsheet row, or CSV line).
    pub row: usize,
    /// The header text of the offending column, when one column is to blame.
    pub column: Option<String>,
    /// A stable machine code; see the `codes` module.
    pub code: &'static str,
    /// An English explanation naming the offending value.
    pub detail: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "row {}, column {column:?}: {}", self.row, self.detail),
            None => write!(f, "row {}: {}", self.row, self.detail),
        }
    }
}

impl std::error::Error for RowError {}

/// The stable machine codes a [`RowError`] can carry.
pub mod codes {
    /// A required cell (MPN, unit price, quantity) is empty.
    pub const MISSING_VALUE: &str = "missing_value";
    /// A price cell is not a number.
    pub const BAD_NUMBER: &str = "bad_number";
    /// A price is below zero.
    pub const NEGATIVE_PRICE: &str = "negative_price";
    /// A quantity is not a whole number above zero.
    pub const BAD_QUANTITY: &str = "bad_quantity";
    /// A currency is not an ISO 4217 code, or two sources on the row disagree.
    pub const BAD_CURRENCY: &str = "bad_currency";
    /// A date cell is not a date, or is ambiguous (day and month both 12 or less).
    pub const BAD_DATE: &str = "bad_date";
    /// A packing list row has a serial and a quantity other than 1.
    pub const SERIAL_WITH_QUANTITY: &str = "serial_with_quantity";
    /// The cell holds a spreadsheet error such as `#N/A`.
    pub const CELL_ERROR: &str = "cell_error";
    /// The file became unreadable at this row; reading stops here.
    pub const UNREADABLE_ROW: &str = "unreadable_row";
    /// The file goes over a cap at this row; reading stops here, and
    /// [`crate::Reader::limit_exceeded`] says which cap.
    pub const LIMIT_EXCEEDED: &str = "limit_exceeded";
}
