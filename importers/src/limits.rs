//! Caps on what a supplier file may make the reader hold or do. None of them
//! trusts what the file declares: sizes are counted as the bytes are inflated
//! and read. A file over a cap is refused whole with [`ImportError::TooLarge`]
//! naming the cap and its value.
//!
//! [`ImportError::TooLarge`]: crate::ImportError::TooLarge

use std::fmt;

const MIB: u64 = 1024 * 1024;

/// Which cap a file went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Bytes one part (zip entry) of an XLSX or ODS file inflates to.
    ZipEntryBytes,
    /// Bytes all parts of an XLSX or ODS file inflate to together.
    ZipTotalBytes,
    /// Parts (zip entries) in an XLSX or ODS file.
    ZipEntries,
    /// Strings in an XLSX shared-strings table (declared or counted).
    SharedStrings,
    /// Bytes of an XLSX shared-strings part, inflated.
    SharedStringsBytes,
    /// Characters in one cell (Excel's own limit is 32,767).
    CellChars,
    /// Bytes of text in one row (CSV: one record).
    RowBytes,
    /// Rows in a sheet (CSV: records).
    Rows,
    /// Columns in a sheet.
    Columns,
    /// Cells an XLS or ODS workbook spans (calamine loads every sheet whole).
    Cells,
    /// Bytes of cell text an XLS or ODS workbook expands to once loaded.
    TextBytes,
    /// Bytes of an XLS workbook stream.
    FileBytes,
}

impl Limit {
    /// A stable snake_case name (used for i18n keys: `import.limit.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::ZipEntryBytes => "zip_entry_bytes",
            Limit::ZipTotalBytes => "zip_total_bytes",
            Limit::ZipEntries => "zip_entries",
            Limit::SharedStrings => "shared_strings",
            Limit::SharedStringsBytes => "shared_strings_bytes",
            Limit::CellChars => "cell_chars",
            Limit::RowBytes => "row_bytes",
            Limit::Rows => "rows",
            Limit::Columns => "columns",
            Limit::Cells => "cells",
            Limit::TextBytes => "text_bytes",
            Limit::FileBytes => "file_bytes",
        }
    }

    /// The cap in English, with its unit.
    fn describe(self) -> &'static str {
        match self {
            Limit::ZipEntryBytes => "a part of the workbook unpacks to more than the limit (MiB)",
            Limit::ZipTotalBytes => "the workbook unpacks to more than the limit (MiB)",
            Limit::ZipEntries => "the workbook has more parts than the limit",
            Limit::SharedStrings => "the shared-strings table has more strings than the limit",
            Limit::SharedStringsBytes => {
                "the shared-strings table unpacks to more than the limit (MiB)"
            }
            Limit::CellChars => "a cell holds more characters than the limit",
            Limit::RowBytes => "a row holds more text than the limit (KiB)",
            Limit::Rows => "the sheet has more rows than the limit",
            Limit::Columns => "a row has more columns than the limit",
            Limit::Cells => "the workbook spans more cells than the limit",
            Limit::TextBytes => "the workbook's cells hold more text than the limit (MiB)",
            Limit::FileBytes => "the XLS workbook is larger than the limit (MiB)",
        }
    }

    /// Whether the cap is shown in MiB (else KiB for [`Limit::RowBytes`], else a count).
    fn shown_in_mib(self) -> bool {
        matches!(
            self,
            Limit::ZipEntryBytes
                | Limit::ZipTotalBytes
                | Limit::SharedStringsBytes
                | Limit::TextBytes
                | Limit::FileBytes
        )
    }
}

/// A cap that a file went over, and the cap's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitExceeded {
    /// Which cap.
    pub limit: Limit,
    /// The cap's value in bytes or a count (see [`LimitExceeded::shown`]).
    pub max: u64,
    /// The row (1-based, as a spreadsheet numbers it) where the file went
    /// over, when the cap is met at a row.
    pub row: Option<u64>,
    /// The column (0-based; see [`column_name`]) of the cell that went over.
    pub column: Option<u64>,
}

/// A spreadsheet's name for a 0-based column: `A`, ..., `Z`, `AA`, ...
pub fn column_name(column: u64) -> String {
    let mut n = column + 1;
    let mut name = Vec::new();
    while n > 0 {
        let rem = u8::try_from((n - 1) % 26).unwrap_or(0);
        name.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    name.iter().rev().collect()
}

impl LimitExceeded {
    /// The same, met at `row` (kept if a row is known already).
    pub fn at_row(mut self, row: u64) -> LimitExceeded {
        self.row.get_or_insert(row);
        self
    }

    /// The same, met in `column` (0-based).
    pub fn in_column(mut self, column: u64) -> LimitExceeded {
        self.column = Some(column);
        self
    }

    /// The cap's value as it is shown to people: MiB or KiB for byte caps, else the count.
    pub fn shown(&self) -> u64 {
        if self.limit.shown_in_mib() {
            self.max / MIB
        } else if self.limit == Limit::RowBytes {
            self.max / 1024
        } else {
            self.max
        }
    }
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}: {})",
            self.limit.describe(),
            self.limit.as_str(),
            self.shown()
        )?;
        match (self.row, self.column) {
            (Some(r), Some(c)) => write!(f, " at row {r}, column {}", column_name(c)),
            (Some(r), None) => write!(f, " at row {r}"),
            (None, Some(c)) => write!(f, " in column {}", column_name(c)),
            (None, None) => Ok(()),
        }
    }
}

/// The caps a reader applies; [`Limits::default`] is what the app uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Inflated bytes of one worksheet part (XLSX sheet, ODS `content.xml`).
    pub sheet_part_bytes: u64,
    /// Inflated bytes of any other part (styles, workbook, ...).
    pub other_part_bytes: u64,
    /// Inflated bytes of all parts together.
    pub total_bytes: u64,
    /// Zip entries in a workbook.
    pub zip_entries: u64,
    /// Strings in the XLSX shared-strings table.
    pub shared_strings: u64,
    /// Inflated bytes of the XLSX shared-strings part.
    pub shared_strings_bytes: u64,
    /// Characters in one cell.
    pub cell_chars: u64,
    /// Bytes of text in one row or CSV record.
    pub row_bytes: u64,
    /// Rows in a sheet, counted by row number (CSV: by line).
    pub rows: u64,
    /// Columns: the highest column a non-empty cell may sit in.
    pub columns: u64,
    /// Cells an XLS or ODS workbook spans, over all its sheets.
    pub cells: u64,
    /// Bytes of cell text an XLS or ODS workbook expands to.
    pub text_bytes: u64,
    /// Bytes of an XLS workbook stream.
    pub xls_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sheet_part_bytes: 256 * MIB,
            other_part_bytes: 16 * MIB,
            total_bytes: 320 * MIB,
            zip_entries: 10_000,
            shared_strings: 1_000_000,
            shared_strings_bytes: 64 * MIB,
            cell_chars: 32_767,
            row_bytes: 256 * 1024,
            rows: 1_000_000,
            columns: 256,
            cells: 1_000_000,
            text_bytes: 32 * MIB,
            xls_bytes: 16 * MIB,
        }
    }
}

impl Limits {
    /// The error for going over `limit`.
    pub(crate) fn exceeded(&self, limit: Limit) -> LimitExceeded {
        let max = match limit {
            Limit::ZipEntryBytes => self.sheet_part_bytes,
            Limit::ZipTotalBytes => self.total_bytes,
            Limit::ZipEntries => self.zip_entries,
            Limit::SharedStrings => self.shared_strings,
            Limit::SharedStringsBytes => self.shared_strings_bytes,
            Limit::CellChars => self.cell_chars,
            Limit::RowBytes => self.row_bytes,
            Limit::Rows => self.rows,
            Limit::Columns => self.columns,
            Limit::Cells => self.cells,
            Limit::TextBytes => self.text_bytes,
            Limit::FileBytes => self.xls_bytes,
        };
        LimitExceeded {
            limit,
            max,
            row: None,
            column: None,
        }
    }

    /// Bytes a cell's raw XML text may take before it is refused without being
    /// decoded: four UTF-8 bytes per character, and room for entities.
    pub(crate) fn cell_raw_bytes(&self) -> u64 {
        self.cell_chars.saturating_mul(6)
    }
}

/// At most this many characters of a cell are quoted in an error message.
pub const SAMPLE_CHARS: usize = 200;

/// A cell value as quoted in a message: at most [`SAMPLE_CHARS`] characters, then `…`.
pub fn sample(value: &str) -> String {
    match value.char_indices().nth(SAMPLE_CHARS) {
        None => value.to_string(),
        Some((at, _)) => format!("{}…", &value[..at]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_at_two_hundred_characters_with_an_ellipsis() {
        assert_eq!(sample("short"), "short");
        let long = "가".repeat(50_000);
        let cut = sample(&long);
        assert_eq!(cut.chars().count(), SAMPLE_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(sample(&"x".repeat(200)), "x".repeat(200));
    }

    #[test]
    fn a_cap_names_itself_and_its_value() {
        let l = Limits::default();
        let e = l.exceeded(Limit::SharedStringsBytes);
        assert_eq!(e.shown(), 64);
        assert!(e.to_string().contains("shared_strings_bytes: 64"), "{e}");
        assert_eq!(l.exceeded(Limit::RowBytes).shown(), 256);
        assert_eq!(l.exceeded(Limit::CellChars).shown(), 32_767);
    }
}
