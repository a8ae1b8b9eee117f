//! Workbooks (XLSX, XLS, ODS) through calamine.
//!
//! XLSX is streamed (see `xlsx_stream`); XLS and ODS are loaded as a whole range,
//! which is how calamine reads them.

use std::fmt::Display;
use std::io::{Read, Seek, SeekFrom};

use calamine::{Data, Ods, Range, Reader as _, SheetType, SheetVisible, Xls, Xlsx};

use crate::error::ImportError;
use crate::formats::cell::{Cell, RawRow, RowSource, SourceError};
use crate::formats::xlsx_stream::{RowAssembler, stream_xlsx};
use crate::headers::{HeaderMatch, SCAN_ROWS, find_header};
use crate::limits::Limits;
use crate::model::{Format, Kind};
use crate::profile::Profile;

/// An opened workbook sheet: its rows, header and last row number.
pub(crate) struct SheetOpened {
    pub source: Box<dyn RowSource>,
    pub header: HeaderMatch,
    /// 1-based number of the sheet's last row, when the file says it.
    pub last_row: Option<usize>,
}

fn unreadable(format: Format) -> impl Fn(&dyn Display) -> ImportError {
    move |e| ImportError::Unreadable {
        format,
        detail: e.to_string(),
    }
}

/// The sheets to try, in order: the profile's sheet, or every visible worksheet.
fn candidate_sheets(
    sheets: &[calamine::Sheet],
    wanted: Option<&str>,
) -> Result<Vec<String>, ImportError> {
    if let Some(wanted) = wanted {
        let found = sheets.iter().find(|s| s.name == wanted).or_else(|| {
            sheets
                .iter()
                .find(|s| s.name.trim().eq_ignore_ascii_case(wanted.trim()))
        });
        return match found {
            Some(s) => Ok(vec![s.name.clone()]),
            None => Err(ImportError::SheetNotFound {
                sheet: wanted.to_string(),
                available: sheets.iter().map(|s| s.name.clone()).collect(),
            }),
        };
    }
    let visible: Vec<String> = sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect();
    if visible.is_empty() {
        return Err(ImportError::NoSheets);
    }
    Ok(visible)
}

/// Runs parser code that may panic on a damaged file (calamine has a few slice
/// indexing paths that do), turning a panic into an [`ImportError::Unreadable`].
fn guarded<T>(
    format: Format,
    f: impl FnOnce() -> Result<T, ImportError>,
) -> Result<T, ImportError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ImportError::Unreadable {
            format,
            detail: "the file is damaged: the spreadsheet parser gave up".to_string(),
        })
    })
}

fn scan_limit(profile: Option<&Profile>) -> usize {
    SCAN_ROWS.max(profile.and_then(|p| p.header_row).unwrap_or(0))
}

/// Opens an XLSX workbook and streams the first sheet with a usable header.
pub(crate) fn open_xlsx<RS>(
    rs: RS,
    kind: Kind,
    profile: Option<&Profile>,
    limits: &Limits,
) -> Result<SheetOpened, ImportError>
where
    RS: Read + Seek + Send + 'static,
{
    guarded(Format::Xlsx, || {
        open_xlsx_unguarded(rs, kind, profile, limits)
    })
}

fn open_xlsx_unguarded<RS>(
    rs: RS,
    kind: Kind,
    profile: Option<&Profile>,
    limits: &Limits,
) -> Result<SheetOpened, ImportError>
where
    RS: Read + Seek + Send + 'static,
{
    let error = unreadable(Format::Xlsx);
    let mut rs = rs;
    crate::formats::guards::check_xlsx(&mut rs, limits).map_err(|r| r.into_error(Format::Xlsx))?;
    rs.seek(SeekFrom::Start(0)).map_err(|e| error(&e))?;
    let mut workbook = Xlsx::new(rs).map_err(|e| error(&e))?;
    let names = candidate_sheets(
        workbook.sheets_metadata(),
        profile.and_then(|p| p.sheet.as_deref()),
    )?;
    let mut first_error = None;
    for name in names {
        let (sample, last_row) = sample_xlsx(&mut workbook, &name, scan_limit(profile))?;
        match find_header(&sample, kind, profile) {
            Ok(header) => {
                let source = stream_xlsx(workbook, name)?;
                return Ok(SheetOpened {
                    source,
                    header,
                    last_row,
                });
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(ImportError::NoSheets))
}

/// Reads the first `limit` rows of an XLSX sheet, and its declared last row.
fn sample_xlsx<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    name: &str,
    limit: usize,
) -> Result<(Vec<RawRow>, Option<usize>), ImportError> {
    let error = unreadable(Format::Xlsx);
    let mut cells = workbook
        .worksheet_cells_reader(name)
        .map_err(|e| error(&e))?;
    let dims = cells.dimensions();
    let last_row = (dims.end.0 > 0).then(|| dims.end.0 as usize + 1);
    let mut rows = Vec::new();
    let mut assembler = RowAssembler::default();
    while let Some(cell) = cells.next_cell().map_err(|e| error(&e))? {
        let (row, col) = cell.get_position();
        if let Some(done) = assembler.push(row, col, Cell::from_data_ref(cell.get_value())) {
            if done.number > limit {
                return Ok((rows, last_row));
            }
            rows.push(done);
        }
    }
    rows.extend(assembler.finish().filter(|r| r.number <= limit));
    Ok((rows, last_row))
}

/// Opens an XLS or ODS workbook; calamine loads the chosen sheet as one range.
pub(crate) fn open_loaded<RS>(
    rs: RS,
    format: Format,
    kind: Kind,
    profile: Option<&Profile>,
    limits: &Limits,
) -> Result<SheetOpened, ImportError>
where
    RS: Read + Seek,
{
    guarded(format, || {
        open_loaded_unguarded(rs, format, kind, profile, limits)
    })
}

fn open_loaded_unguarded<RS>(
    rs: RS,
    format: Format,
    kind: Kind,
    profile: Option<&Profile>,
    limits: &Limits,
) -> Result<SheetOpened, ImportError>
where
    RS: Read + Seek,
{
    let error = unreadable(format);
    let refused = |r: crate::formats::guards::Refused| r.into_error(format);
    match format {
        Format::Ods => {
            let mut rs = rs;
            crate::formats::zip_scan::scan_zip(
                &mut rs,
                crate::formats::zip_scan::Package::Ods,
                limits,
            )
            .map_err(refused)?;
            rs.seek(SeekFrom::Start(0)).map_err(|e| error(&e))?;
            let workbook: Ods<RS> = Ods::new(rs).map_err(|e| error(&e))?;
            open_range(workbook, format, kind, profile)
        }
        _ => {
            let mut rs = rs;
            crate::formats::guards::check_xls(&mut rs, limits).map_err(refused)?;
            rs.seek(SeekFrom::Start(0)).map_err(|e| error(&e))?;
            let workbook: Xls<RS> = Xls::new(rs).map_err(|e| error(&e))?;
            open_range(workbook, format, kind, profile)
        }
    }
}

fn open_range<RS, W>(
    mut workbook: W,
    format: Format,
    kind: Kind,
    profile: Option<&Profile>,
) -> Result<SheetOpened, ImportError>
where
    RS: Read + Seek,
    W: calamine::Reader<RS>,
    W::Error: Display,
{
    let error = unreadable(format);
    let names = candidate_sheets(
        workbook.sheets_metadata(),
        profile.and_then(|p| p.sheet.as_deref()),
    )?;
    let mut first_error = None;
    for name in names {
        let range = workbook.worksheet_range(&name).map_err(|e| error(&e))?;
        let mut source = RangeSource::new(range);
        let limit = scan_limit(profile);
        let sample: Vec<RawRow> = std::iter::from_fn(|| source.next_raw())
            .take_while(|r| r.number <= limit)
            .collect();
        match find_header(&sample, kind, profile) {
            Ok(header) => {
                source.next = 0;
                let last_row = source.range.end().map(|(row, _)| row as usize + 1);
                return Ok(SheetOpened {
                    source: Box::new(source),
                    header,
                    last_row,
                });
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(ImportError::NoSheets))
}

/// Walks a loaded range row by row.
struct RangeSource {
    range: Range<Data>,
    next: usize,
    first_row: usize,
    first_col: usize,
}

impl RangeSource {
    fn new(range: Range<Data>) -> Self {
        let (first_row, first_col) = range
            .start()
            .map_or((0, 0), |(r, c)| (r as usize, c as usize));
        RangeSource {
            range,
            next: 0,
            first_row,
            first_col,
        }
    }

    fn next_raw(&mut self) -> Option<RawRow> {
        let row = self.range.rows().nth(self.next)?;
        let mut cells = vec![Cell::Empty; self.first_col];
        cells.extend(row.iter().map(Cell::from_data));
        let number = self.first_row + self.next + 1;
        self.next += 1;
        Some(RawRow {
            number,
            span: 1,
            cells,
        })
    }
}

impl RowSource for RangeSource {
    fn next_row(&mut self) -> Option<Result<RawRow, SourceError>> {
        self.next_raw().map(Ok)
    }
}
