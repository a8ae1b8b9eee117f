//! One cell as read from any format, owned, before it is typed by a field.

use calamine::{Data, DataRef, ExcelDateTime};
use time::{Date, Month};

use crate::limits::{Limit, LimitExceeded, Limits};

/// A cell value as the file stored it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// An Excel date cell: its calendar date when it has a valid one, and its serial.
    Date(Option<Date>, f64),
    /// A spreadsheet error such as `#N/A`.
    Error(String),
}

impl Cell {
    /// True when the cell holds nothing but whitespace.
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as display text, trimmed; `None` when blank.
    pub(crate) fn text(&self) -> Option<String> {
        let text = match self {
            Cell::Empty => return None,
            Cell::Text(s) => s.trim().to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format!("{f}"),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Date(Some(d), _) => d.to_string(),
            Cell::Date(None, serial) => format!("{serial}"),
            Cell::Error(e) => e.clone(),
        };
        (!text.is_empty()).then_some(text)
    }

    pub(crate) fn from_data(data: &Data) -> Cell {
        match data {
            Data::Empty => Cell::Empty,
            Data::String(s) => Cell::Text(s.clone()),
            Data::Int(i) => Cell::Int(*i),
            Data::Float(f) => Cell::Float(*f),
            Data::Bool(b) => Cell::Bool(*b),
            Data::DateTime(dt) => excel_date(dt),
            Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
            Data::Error(e) => Cell::Error(e.to_string()),
        }
    }

    pub(crate) fn from_data_ref(data: &DataRef<'_>) -> Cell {
        match data {
            DataRef::Empty => Cell::Empty,
            DataRef::String(s) => Cell::Text(s.clone()),
            DataRef::SharedString(s) => Cell::Text((*s).to_string()),
            DataRef::Int(i) => Cell::Int(*i),
            DataRef::Float(f) => Cell::Float(*f),
            DataRef::Bool(b) => Cell::Bool(*b),
            DataRef::DateTime(dt) => excel_date(dt),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
            DataRef::Error(e) => Cell::Error(e.to_string()),
        }
    }
}

fn excel_date(dt: &ExcelDateTime) -> Cell {
    if dt.is_duration() {
        return Cell::Float(dt.as_f64());
    }
    let (year, month, day, ..) = dt.to_ymd_hms_milli();
    let date = Month::try_from(month)
        .ok()
        .and_then(|m| Date::from_calendar_date(i32::from(year), m, day).ok());
    Cell::Date(date, dt.as_f64())
}

/// One row of cells, indexed by 0-based column, with its 1-based row number.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRow {
    /// 1-based row number (CSV: the line the record starts on).
    pub number: usize,
    /// How many rows or lines the record spans (CSV cells can hold line breaks).
    pub span: usize,
    pub cells: Vec<Cell>,
}

impl RawRow {
    pub(crate) fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }

    pub(crate) fn get(&self, column: usize) -> &Cell {
        self.cells.get(column).unwrap_or(&Cell::Empty)
    }

    /// Checks the row against the caps on columns, cell length and row text.
    pub(crate) fn check(&self, limits: &Limits) -> Result<(), LimitExceeded> {
        let mut row_bytes = 0u64;
        for (column, cell) in self.cells.iter().enumerate() {
            if *cell == Cell::Empty {
                continue;
            }
            if column as u64 >= limits.columns && !cell.is_blank() {
                return Err(limits.exceeded(Limit::Columns).in_column(column as u64));
            }
            let len = match cell {
                Cell::Text(s) | Cell::Error(s) => s.len() as u64,
                _ => 8,
            };
            // Characters are counted only when the bytes could be too many.
            if len > limits.cell_chars
                && let Cell::Text(s) | Cell::Error(s) = cell
                && s.chars().count() as u64 > limits.cell_chars
            {
                return Err(limits.exceeded(Limit::CellChars).in_column(column as u64));
            }
            row_bytes += len;
            if row_bytes > limits.row_bytes {
                return Err(limits.exceeded(Limit::RowBytes));
            }
        }
        Ok(())
    }
}

/// Why a stream of rows stopped early.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SourceError {
    /// The file broke mid-way.
    Broken(String),
    /// The file goes over a cap here.
    Limit(LimitExceeded),
}

impl From<String> for SourceError {
    fn from(detail: String) -> Self {
        SourceError::Broken(detail)
    }
}

/// A stream of raw rows from the top of a sheet; `Err` means reading stops there.
pub(crate) trait RowSource: Send {
    fn next_row(&mut self) -> Option<Result<RawRow, SourceError>>;
}

/// Turns a column letter ("C", "aa") into a 0-based index.
pub(crate) fn column_index(letters: &str) -> Option<usize> {
    if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return None;
    }
    let mut index = 0usize;
    for b in letters.bytes() {
        index = index * 26 + usize::from(b.to_ascii_uppercase() - b'A') + 1;
    }
    Some(index - 1)
}

/// Turns a 0-based column index into its letter ("A", "AA").
pub(crate) fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        // index % 26 < 26, so the cast cannot truncate.
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8_lossy(&letters).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_and_indexes_round_trip() {
        for (letters, index) in [
            ("A", 0),
            ("C", 2),
            ("Z", 25),
            ("AA", 26),
            ("AZ", 51),
            ("XFD", 16383),
        ] {
            assert_eq!(column_index(letters), Some(index));
            assert_eq!(column_letter(index), letters);
        }
        assert_eq!(column_index("c"), Some(2));
        assert_eq!(column_index("C1"), None);
        assert_eq!(column_index(""), None);
    }

    #[test]
    fn float_cells_print_as_the_shortest_round_trip_text() {
        assert_eq!(Cell::Float(118.5).text().as_deref(), Some("118.5"));
        assert_eq!(Cell::Float(12.0).text().as_deref(), Some("12"));
        assert_eq!(
            Cell::Float(100000001463.0).text().as_deref(),
            Some("100000001463")
        );
    }
}
