//! The public entry points: open a file or bytes, then iterate typed rows.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{ImportError, RowError, codes};
use crate::formats::cell::{RowSource, SourceError};
use crate::formats::csv_reader::{CsvInput, open_csv};
use crate::formats::detect::{SNIFF_BYTES, detect_format};
use crate::formats::sheet_reader::{SheetOpened, open_loaded, open_xlsx};
use crate::headers::HeaderMatch;
use crate::limits::{Limit, LimitExceeded, Limits};
use crate::model::{Field, Format, Kind, Parsed};
use crate::profile::Profile;
use crate::rows::{Plan, build_row};

/// At most this many summary rows are named by number (all are counted).
pub const SUMMARY_ROWS_NAMED: usize = 20;

/// Reads a supplier sheet row by row; iterate it for one [`Parsed`] per non-blank
/// data row.
pub struct Reader {
    format: Format,
    mapping: Vec<(Field, String)>,
    header_row: usize,
    total_rows: Option<usize>,
    rows_read: usize,
    blank_rows: usize,
    summary_rows: usize,
    summary_row_numbers: Vec<usize>,
    next_expected: usize,
    delimiter: Option<char>,
    plan: Plan,
    source: Box<dyn RowSource>,
    finished: bool,
    limits: Limits,
    exceeded: Option<LimitExceeded>,
}

// The app runs imports on a blocking thread, so a reader must be able to move there.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Reader>();
};

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("format", &self.format)
            .field("kind", &self.plan.kind)
            .field("mapping", &self.mapping)
            .field("header_row", &self.header_row)
            .field("total_rows", &self.total_rows)
            .field("rows_read", &self.rows_read)
            .field("blank_rows", &self.blank_rows)
            .finish_non_exhaustive()
    }
}

/// Opens a supplier sheet on disk. CSV and XLSX are streamed from the file; XLS and
/// ODS are loaded whole by calamine.
pub fn open_path(
    path: &Path,
    kind: Kind,
    profile: Option<&Profile>,
) -> Result<Reader, ImportError> {
    check_profile(kind, profile)?;
    let io_error = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_error)?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let format = sniff(&head, &file_name)?;
    let limits = Limits::default();
    if format == Format::Csv {
        drop(file);
        let csv = open_csv(CsvInput::Path(path.to_path_buf()), kind, profile, &limits)?;
        return Ok(Reader::from_csv(csv, kind, profile, limits));
    }
    file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let opened = match format {
        Format::Xlsx => open_xlsx(BufReader::new(file), kind, profile, &limits)?,
        _ => open_loaded(BufReader::new(file), format, kind, profile, &limits)?,
    };
    Ok(Reader::from_sheet(opened, format, kind, profile, limits))
}

/// Opens a supplier sheet held in memory (an upload); `file_name` helps only when the
/// content does not tell the format.
pub fn open_bytes(
    bytes: Vec<u8>,
    file_name: &str,
    kind: Kind,
    profile: Option<&Profile>,
) -> Result<Reader, ImportError> {
    open_bytes_with(bytes, file_name, kind, profile, Limits::default())
}

/// [`open_bytes`] with caps other than the default ones.
pub fn open_bytes_with(
    bytes: Vec<u8>,
    file_name: &str,
    kind: Kind,
    profile: Option<&Profile>,
    limits: Limits,
) -> Result<Reader, ImportError> {
    check_profile(kind, profile)?;
    let format = sniff(&bytes[..bytes.len().min(SNIFF_BYTES)], file_name)?;
    match format {
        Format::Csv => {
            let csv = open_csv(CsvInput::Bytes(bytes), kind, profile, &limits)?;
            Ok(Reader::from_csv(csv, kind, profile, limits))
        }
        Format::Xlsx => {
            let opened = open_xlsx(Cursor::new(bytes), kind, profile, &limits)?;
            Ok(Reader::from_sheet(opened, format, kind, profile, limits))
        }
        _ => {
            let opened = open_loaded(Cursor::new(bytes), format, kind, profile, &limits)?;
            Ok(Reader::from_sheet(opened, format, kind, profile, limits))
        }
    }
}

fn sniff(head: &[u8], file_name: &str) -> Result<Format, ImportError> {
    if head.is_empty() {
        return Err(ImportError::Empty {
            file_name: file_name.to_string(),
        });
    }
    detect_format(head, file_name).ok_or_else(|| ImportError::UnknownFormat {
        file_name: file_name.to_string(),
    })
}

fn check_profile(kind: Kind, profile: Option<&Profile>) -> Result<(), ImportError> {
    let Some(profile) = profile else {
        return Ok(());
    };
    if profile.kind != kind {
        return Err(ImportError::ProfileKindMismatch {
            name: profile.name.clone(),
            profile_kind: profile.kind,
            kind,
        });
    }
    profile.validate()
}

impl Reader {
    fn new(
        format: Format,
        kind: Kind,
        header: &HeaderMatch,
        source: Box<dyn RowSource>,
        profile: Option<&Profile>,
        limits: Limits,
    ) -> Self {
        let mut plan = Plan::new(kind, header);
        plan.decimal_comma = profile.and_then(|p| p.decimal_comma);
        plan.day_first = profile.and_then(|p| p.day_first);
        plan.default_currency = profile
            .and_then(|p| p.default_currency.as_deref())
            .map(|c| c.trim().to_ascii_uppercase());
        Reader {
            format,
            mapping: header
                .columns
                .iter()
                .map(|m| (m.field, m.header.clone()))
                .collect(),
            header_row: header.row,
            total_rows: None,
            rows_read: 0,
            blank_rows: 0,
            summary_rows: 0,
            summary_row_numbers: Vec::new(),
            next_expected: header.row + 1,
            delimiter: None,
            plan,
            source,
            finished: false,
            limits,
            exceeded: None,
        }
    }

    fn from_csv(
        csv: crate::formats::csv_reader::CsvOpened,
        kind: Kind,
        profile: Option<&Profile>,
        limits: Limits,
    ) -> Self {
        let mut reader = Reader::new(Format::Csv, kind, &csv.header, csv.source, profile, limits);
        reader.total_rows = csv.lines.map(|l| l.saturating_sub(csv.header.row));
        reader.delimiter = Some(char::from(csv.delimiter));
        if reader.plan.decimal_comma.is_none() && csv.delimiter == b';' {
            // Semicolon CSV is what Excel writes where the comma is the decimal mark.
            reader.plan.decimal_comma = Some(true);
        }
        reader
    }

    fn from_sheet(
        opened: SheetOpened,
        format: Format,
        kind: Kind,
        profile: Option<&Profile>,
        limits: Limits,
    ) -> Self {
        let mut reader = Reader::new(format, kind, &opened.header, opened.source, profile, limits);
        reader.total_rows = opened.last_row.map(|l| l.saturating_sub(opened.header.row));
        reader
    }

    /// The detected file format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The kind of sheet being read.
    pub fn kind(&self) -> Kind {
        self.plan.kind
    }

    /// Which header text (or column letter) was mapped to which field, in field order.
    pub fn mapping(&self) -> &[(Field, String)] {
        &self.mapping
    }

    /// The 1-based header row (CSV: line); 0 when the profile says there is none.
    pub fn header_row(&self) -> usize {
        self.header_row
    }

    /// Data rows below the header, blank ones included, when the file says how many
    /// (XLSX dimension, XLS/ODS range, CSV line count: a cell with a line break makes
    /// the CSV figure an over-estimate). `None` when unknown.
    pub fn total_rows(&self) -> Option<usize> {
        self.total_rows
    }

    /// Data rows below the header consumed so far, blank ones included; compare with
    /// [`Reader::total_rows`] for a progress bar.
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }

    /// Blank data rows skipped so far.
    pub fn blank_rows(&self) -> usize {
        self.blank_rows
    }

    /// Summary rows (`Total`, `합계`, `小计` …) skipped so far: not data, not errors.
    pub fn summary_rows(&self) -> usize {
        self.summary_rows
    }

    /// The row numbers of the first [`SUMMARY_ROWS_NAMED`] summary rows skipped.
    pub fn summary_row_numbers(&self) -> &[usize] {
        &self.summary_row_numbers
    }

    /// The CSV delimiter in use; `None` for workbooks.
    pub fn csv_delimiter(&self) -> Option<char> {
        self.delimiter
    }

    /// The cap the file went over, once reading stopped there (the last row read
    /// was then an error with code [`codes::LIMIT_EXCEEDED`]). A file over a cap
    /// must not be imported in part.
    pub fn limit_exceeded(&self) -> Option<LimitExceeded> {
        self.exceeded
    }

    fn stop_at_limit(&mut self, row: usize, limit: LimitExceeded) -> Parsed {
        let limit = limit.at_row(row as u64);
        self.finished = true;
        self.exceeded = Some(limit);
        Parsed {
            row,
            result: Err(RowError {
                row,
                column: None,
                code: codes::LIMIT_EXCEEDED,
                detail: format!("the file is refused here: {limit}"),
            }),
        }
    }

    /// The number convention in use: `Some(true)` for decimal commas, `None` when
    /// decided cell by cell.
    pub fn decimal_comma(&self) -> Option<bool> {
        self.plan.decimal_comma
    }
}

impl Iterator for Reader {
    type Item = Parsed;

    fn next(&mut self) -> Option<Parsed> {
        while !self.finished {
            let raw = match self.source.next_row() {
                None => {
                    self.finished = true;
                    return None;
                }
                Some(Err(SourceError::Limit(limit))) => {
                    let row = self.next_expected;
                    return Some(self.stop_at_limit(row, limit));
                }
                Some(Err(SourceError::Broken(detail))) => {
                    self.finished = true;
                    let row = self.next_expected;
                    return Some(Parsed {
                        row,
                        result: Err(RowError {
                            row,
                            column: None,
                            code: codes::UNREADABLE_ROW,
                            detail: format!("the file could not be read past this point: {detail}"),
                        }),
                    });
                }
                Some(Ok(raw)) => raw,
            };
            if raw.number as u64 > self.limits.rows {
                let limit = self.limits.exceeded(Limit::Rows);
                return Some(self.stop_at_limit(raw.number, limit));
            }
            if let Err(limit) = raw.check(&self.limits) {
                return Some(self.stop_at_limit(raw.number, limit));
            }
            if raw.number <= self.header_row {
                continue;
            }
            self.blank_rows += raw.number.saturating_sub(self.next_expected);
            self.next_expected = raw.number + raw.span.max(1);
            self.rows_read = self.next_expected - 1 - self.header_row;
            if raw.is_blank() {
                self.blank_rows += 1;
                continue;
            }
            if crate::summary::is_summary_row(&raw, &self.plan) {
                self.summary_rows += 1;
                if self.summary_row_numbers.len() < SUMMARY_ROWS_NAMED {
                    self.summary_row_numbers.push(raw.number);
                }
                continue;
            }
            return Some(Parsed {
                row: raw.number,
                result: build_row(&raw, &self.plan),
            });
        }
        None
    }
}
