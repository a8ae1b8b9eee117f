//! Safety checks on XLS and XLSX files before calamine reads them.
//!
//! calamine 0.38 sizes memory from what a damaged file claims. For XLS it reserves
//! room for the cell count of a sheet's DIMENSIONS record, and allocates the whole
//! rectangle between the first and last cell positions it finds: a mangled 6 KB file
//! can ask for hundreds of gigabytes, and the process aborts (found by fuzzing). For
//! XLSX it reserves the shared-string count the file declares. Allocation failure
//! cannot be caught, so these checks refuse such files first.

use std::io::{Read, Seek};

use crate::error::ImportError;
use crate::limits::{Limit, LimitExceeded, Limits};
use crate::model::Format;

/// Why a file is refused before calamine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// It goes over a cap.
    Limit(LimitExceeded),
    /// It is damaged in a way calamine would not survive.
    Damaged(String),
}

impl Refused {
    pub(crate) fn into_error(self, format: Format) -> ImportError {
        match self {
            Refused::Limit(l) => ImportError::TooLarge(l),
            Refused::Damaged(detail) => ImportError::Unreadable { format, detail },
        }
    }
}

/// Checks an XLSX file before calamine reads it (see `zip_scan`).
pub(crate) fn check_xlsx<R: Read + Seek>(inner: R, limits: &Limits) -> Result<(), Refused> {
    crate::formats::zip_scan::scan_zip(inner, crate::formats::zip_scan::Package::Xlsx, limits)
}

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const BOUNDSHEET: u16 = 0x0085;
const DIMENSIONS: u16 = 0x0200;
const MULRK: u16 = 0x00BD;
const SST: u16 = 0x00FC;
const CONTINUE: u16 = 0x003C;
const LABELSST: u16 = 0x00FD;
/// NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA: row and column come first.
const CELLS: [u16; 7] = [0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006];

/// Checks the container and every sheet; `Err` says why the file is refused.
///
/// calamine loads every sheet of an XLS file whole, so the caps apply to the
/// workbook: the cells all sheets span, and the text their cells expand to (a
/// LABELSST cell is a copy of its shared string, however often it is used).
pub(crate) fn check_xls<R: Read + Seek>(inner: R, limits: &Limits) -> Result<(), Refused> {
    let damaged = |e: std::io::Error| Refused::Damaged(format!("damaged XLS container: {e}"));
    let mut file = cfb::CompoundFile::open(inner).map_err(damaged)?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| file.is_stream(n));
    let Some(name) = name else {
        return Err(Refused::Damaged(
            "no Workbook stream: not an Excel 97-2003 workbook".to_string(),
        ));
    };
    if file.entry(name).map_err(damaged)?.len() > limits.xls_bytes {
        return Err(Refused::Limit(limits.exceeded(Limit::FileBytes)));
    }
    let mut stream = Vec::new();
    file.open_stream(name)
        .and_then(|s| s.take(limits.xls_bytes + 1).read_to_end(&mut stream))
        .map_err(damaged)?;
    if stream.len() as u64 > limits.xls_bytes {
        return Err(Refused::Limit(limits.exceeded(Limit::FileBytes)));
    }
    let mut sheets = Vec::new();
    let mut sst: Vec<&[u8]> = Vec::new();
    let mut in_sst = false;
    for (typ, data) in records(&stream) {
        match typ {
            BOUNDSHEET if data.len() >= 4 => {
                sheets.push(u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize);
            }
            SST => sst = vec![data],
            CONTINUE if in_sst => sst.push(data),
            EOF => break,
            _ => {}
        }
        in_sst = typ == SST || (in_sst && typ == CONTINUE);
    }
    let strings = sst_lengths(&sst, limits)?;
    let mut workbook = Totals::default();
    for pos in sheets {
        if let Some(sheet) = stream.get(pos..) {
            check_sheet(sheet, &strings, limits, &mut workbook)?;
        }
    }
    Ok(())
}

/// What all sheets of a workbook add up to.
#[derive(Default)]
struct Totals {
    cells: u64,
    text: u64,
}

/// The UTF-8 bytes each shared string takes once decoded (three per character
/// when the string is stored as UTF-16, one when compressed).
fn sst_lengths(segments: &[&[u8]], limits: &Limits) -> Result<Vec<u32>, Refused> {
    let mut s = Segments {
        segments,
        seg: 0,
        at: 0,
    };
    let mut lens = Vec::new();
    let (Some(_total), Some(unique)) = (s.u32(), s.u32()) else {
        return Ok(lens);
    };
    if u64::from(unique) > limits.shared_strings {
        return Err(Refused::Limit(limits.exceeded(Limit::SharedStrings)));
    }
    for _ in 0..unique {
        let (Some(cch), Some(mut flags)) = (s.u16(), s.u8()) else {
            break;
        };
        if u64::from(cch) > limits.cell_chars {
            return Err(Refused::Limit(limits.exceeded(Limit::CellChars)));
        }
        let runs = if flags & 0x08 != 0 {
            s.u16().unwrap_or(0)
        } else {
            0
        };
        let ext = if flags & 0x04 != 0 {
            s.u32().unwrap_or(0)
        } else {
            0
        };
        let mut left = usize::from(cch);
        let mut wide = false;
        loop {
            let width = if flags & 0x01 != 0 { 2 } else { 1 };
            wide |= width == 2;
            let here = s.left_in_segment() / width;
            let n = left.min(here);
            s.skip_in_segment(n * width);
            left -= n;
            if left == 0 || !s.next_segment() {
                break;
            }
            // Characters continued in a CONTINUE record start with a new flags byte.
            flags = s.u8().unwrap_or(0);
        }
        lens.push(u32::from(cch) * if wide { 3 } else { 1 });
        s.skip(usize::from(runs) * 4 + ext as usize);
    }
    Ok(lens)
}

/// Reads across an SST record and its CONTINUE records.
struct Segments<'a> {
    segments: &'a [&'a [u8]],
    seg: usize,
    at: usize,
}

impl Segments<'_> {
    fn u8(&mut self) -> Option<u8> {
        loop {
            let seg = self.segments.get(self.seg)?;
            if let Some(b) = seg.get(self.at) {
                self.at += 1;
                return Some(*b);
            }
            self.seg += 1;
            self.at = 0;
        }
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }

    fn left_in_segment(&self) -> usize {
        self.segments
            .get(self.seg)
            .map_or(0, |s| s.len().saturating_sub(self.at))
    }

    fn skip_in_segment(&mut self, n: usize) {
        self.at += n;
    }

    fn next_segment(&mut self) -> bool {
        if self.seg + 1 < self.segments.len() {
            self.seg += 1;
            self.at = 0;
            true
        } else {
            false
        }
    }

    fn skip(&mut self, mut n: usize) {
        while n > 0 {
            let here = self.left_in_segment().min(n);
            self.at += here;
            n -= here;
            if n > 0 && !self.next_segment() {
                return;
            }
        }
    }
}

/// BIFF records from the start of a slice: (type, data); stops where one is cut off.
fn records(mut stream: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let typ = u16::from_le_bytes([*stream.first()?, *stream.get(1)?]);
        let len = usize::from(u16::from_le_bytes([*stream.get(2)?, *stream.get(3)?]));
        let data = stream.get(4..4 + len)?;
        stream = &stream[4 + len..];
        Some((typ, data))
    })
}

fn u16_at(data: &[u8], i: usize) -> u32 {
    data.get(i..i + 2)
        .map_or(0, |b| u32::from(u16::from_le_bytes([b[0], b[1]])))
}

fn u32_at(data: &[u8], i: usize) -> u32 {
    data.get(i..i + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The rectangle spanned by the cells seen so far.
#[derive(Default)]
struct Bounds(Option<(u32, u32, u32, u32)>);

impl Bounds {
    fn add(&mut self, row: u32, col: u32) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn max_col(&self) -> u32 {
        self.0.map_or(0, |(.., c1)| c1)
    }

    fn cells(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, c0, c1)| {
            u64::from(r1 - r0 + 1).saturating_mul(u64::from(c1 - c0 + 1))
        })
    }
}

fn check_sheet(
    sheet: &[u8],
    strings: &[u32],
    limits: &Limits,
    workbook: &mut Totals,
) -> Result<(), Refused> {
    let too_many_cells = || Refused::Limit(limits.exceeded(Limit::Cells));
    let mut depth = 0usize;
    let mut seen_bof = false;
    let mut bounds = Bounds::default();
    for (typ, data) in records(sheet) {
        if depth > 0 {
            match typ {
                BOF => depth += 1,
                EOF => depth -= 1,
                _ => {}
            }
            continue;
        }
        match typ {
            BOF if seen_bof => depth += 1,
            BOF => seen_bof = true,
            DIMENSIONS if matches!(data.len(), 10 | 14 | 16) => check_dimensions(data, limits)?,
            MULRK if data.len() >= 6 => {
                let (row, first, last) = (
                    u16_at(data, 0),
                    u16_at(data, 2),
                    u16_at(data, data.len() - 2),
                );
                if last < first {
                    return Err(Refused::Damaged(
                        "a MULRK record's last column is before its first; the file is damaged"
                            .to_string(),
                    ));
                }
                bounds.add(row, first);
                bounds.add(row, last);
            }
            t if CELLS.contains(&t) && data.len() >= 4 => {
                bounds.add(u16_at(data, 0), u16_at(data, 2));
                let text = match t {
                    LABELSST => strings
                        .get(u32_at(data, 6) as usize)
                        .map_or(0, |&n| u64::from(n)),
                    _ => data.len() as u64,
                };
                workbook.text += text;
                if workbook.text > limits.text_bytes {
                    return Err(Refused::Limit(limits.exceeded(Limit::TextBytes)));
                }
            }
            EOF => break,
            _ => {}
        }
    }
    if u64::from(bounds.max_col()) >= limits.columns {
        return Err(Refused::Limit(limits.exceeded(Limit::Columns)));
    }
    workbook.cells = workbook.cells.saturating_add(bounds.cells());
    if workbook.cells > limits.cells {
        return Err(too_many_cells());
    }
    Ok(())
}

/// Mirrors calamine's reading of DIMENSIONS, and refuses what it could not survive.
fn check_dimensions(r: &[u8], limits: &Limits) -> Result<(), Refused> {
    let (first_row, row_end, mut first_col, col_end) = if r.len() == 10 {
        (u16_at(r, 0), u16_at(r, 2), u16_at(r, 4), u16_at(r, 6))
    } else {
        (u32_at(r, 0), u32_at(r, 4), u16_at(r, 8), u16_at(r, 10))
    };
    if first_col > 0xFF || col_end < first_col {
        first_col = 0;
    }
    if row_end == 0 || col_end == 0 {
        return Ok(());
    }
    let rows = (row_end - 1)
        .checked_sub(first_row)
        .map(|d| u64::from(d) + 1);
    let cols = (col_end - 1)
        .checked_sub(first_col)
        .map(|d| u64::from(d) + 1);
    match (rows, cols) {
        (Some(rows), Some(cols)) if rows.saturating_mul(cols) <= limits.cells => Ok(()),
        (Some(_), Some(_)) => Err(Refused::Limit(limits.exceeded(Limit::Cells))),
        _ => Err(Refused::Damaged(format!(
            "a sheet's DIMENSIONS record is impossible (rows {first_row}..{row_end}, \
             columns {first_col}..{col_end}); the file is damaged"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn biff8(first_row: u32, row_end: u32, first_col: u16, col_end: u16) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&first_row.to_le_bytes());
        r.extend_from_slice(&row_end.to_le_bytes());
        r.extend_from_slice(&first_col.to_le_bytes());
        r.extend_from_slice(&col_end.to_le_bytes());
        r.extend_from_slice(&[0, 0]);
        r
    }

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend_from_slice(&u16::try_from(data.len()).unwrap_or(0).to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    fn number_cell(row: u16, col: u16) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend_from_slice(&col.to_le_bytes());
        data.extend_from_slice(&[0; 10]);
        record(0x0203, &data)
    }

    fn limits() -> Limits {
        Limits {
            cells: 65_536 * 64,
            ..Limits::default()
        }
    }

    fn check_dimensions_ok(r: &[u8]) -> Result<(), Refused> {
        check_dimensions(r, &limits())
    }

    fn sheet_ok(sheet: &[u8]) -> Result<(), Refused> {
        check_sheet(sheet, &[], &limits(), &mut Totals::default())
    }

    #[test]
    fn shared_string_lengths_are_read_across_continue_records() {
        // Two strings: "ab" compressed, then "가나" as UTF-16 split over a CONTINUE.
        let first = [
            &4u32.to_le_bytes()[..],
            &2u32.to_le_bytes(),
            &2u16.to_le_bytes(),
            &[0],
            b"ab",
            &2u16.to_le_bytes(),
            &[1],
            &[0x00, 0xAC],
        ]
        .concat();
        let second = [&[1u8][..], &[0x98, 0xB0]].concat();
        let lens = sst_lengths(&[&first, &second], &Limits::default());
        assert_eq!(lens, Ok(vec![2, 6]));
        let long = [
            &1u32.to_le_bytes()[..],
            &1u32.to_le_bytes(),
            &40_000u16.to_le_bytes(),
            &[0],
        ]
        .concat();
        assert!(matches!(
            sst_lengths(&[&long], &Limits::default()),
            Err(Refused::Limit(LimitExceeded {
                limit: Limit::CellChars,
                ..
            }))
        ));
    }

    #[test]
    fn real_sheet_sizes_pass() {
        assert!(check_dimensions_ok(&biff8(0, 10, 0, 5)).is_ok());
        assert!(check_dimensions_ok(&biff8(0, 65_536, 0, 64)).is_ok());
        assert!(check_dimensions_ok(&biff8(0, 0, 0, 0)).is_ok());
        let sheet = [
            record(BOF, &[0; 16]),
            number_cell(0, 0),
            number_cell(60_000, 20),
            record(EOF, &[]),
        ]
        .concat();
        assert!(sheet_ok(&sheet).is_ok());
    }

    #[test]
    fn impossible_sheet_sizes_are_refused() {
        assert!(check_dimensions_ok(&biff8(0, u32::MAX, 0, 256)).is_err());
        assert!(
            check_dimensions_ok(&biff8(20, 10, 0, 5)).is_err(),
            "first row after the last"
        );
        assert!(
            check_dimensions_ok(&biff8(0, 10, 7, 7)).is_err(),
            "an empty column span underflows"
        );
        let sheet = [
            record(BOF, &[0; 16]),
            number_cell(0, 0),
            number_cell(65_535, 65_535),
        ]
        .concat();
        assert!(
            sheet_ok(&sheet).is_err(),
            "two far-apart cells make a huge rectangle"
        );
    }

    #[test]
    fn cells_after_the_sheet_end_or_in_embedded_charts_do_not_count() {
        let chart = [
            record(BOF, &[0; 16]),
            number_cell(65_535, 65_535),
            record(EOF, &[]),
        ]
        .concat();
        let sheet = [
            record(BOF, &[0; 16]),
            number_cell(0, 0),
            chart,
            record(EOF, &[]),
            number_cell(65_535, 65_535),
        ]
        .concat();
        assert!(sheet_ok(&sheet).is_ok());
    }
}
