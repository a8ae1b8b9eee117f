//! Safety checks on XLS and XLSX files before calamine reads them.
//!
//! calamine 0.38 sizes memory from what a damaged file claims. For XLS it reserves
//! room for the cell count of a sheet's DIMENSIONS record, and allocates the whole
//! rectangle between the first and last cell positions it finds: a mangled 6 KB file
//! can ask for hundreds of gigabytes, and the process aborts (found by fuzzing). For
//! XLSX it reserves the shared-string count the file declares. Allocation failure
//! cannot be caught, so these checks refuse such files first.

use std::io::{Read, Seek};

/// The most shared strings an XLSX file may declare (calamine reserves 24 bytes each).
pub(crate) const MAX_SHARED_STRINGS: u64 = 20_000_000;

/// The largest shared-strings part accepted, uncompressed: all of it is held in memory.
pub(crate) const MAX_SHARED_STRINGS_BYTES: u64 = 512 * 1024 * 1024;

/// How far into the shared-strings part its `<sst>` tag must start.
const SST_TAG_WINDOW: u64 = 64 * 1024;

/// Checks an XLSX file's shared-strings part; `Err` says why the file is refused.
/// A zip the `zip` crate cannot read passes here and fails in calamine.
pub(crate) fn check_xlsx<R: Read + Seek>(inner: R) -> Result<(), String> {
    let Ok(mut archive) = zip::ZipArchive::new(inner) else {
        return Ok(());
    };
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index(i) else {
            continue;
        };
        let is_shared_strings = entry
            .name()
            .is_ok_and(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        if !is_shared_strings {
            continue;
        }
        if entry.size() > MAX_SHARED_STRINGS_BYTES {
            return Err(format!(
                "its shared strings take {} MB unpacked, more than the {} MB limit",
                entry.size() / 1_000_000,
                MAX_SHARED_STRINGS_BYTES / 1_000_000
            ));
        }
        let mut head = Vec::new();
        // A read error here is calamine's to report.
        let _ = entry.take(SST_TAG_WINDOW).read_to_end(&mut head);
        check_shared_strings_head(&head)?;
    }
    Ok(())
}

/// Finds the `<sst>` start tag and checks its declared `uniqueCount`.
fn check_shared_strings_head(head: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(head);
    let tag_start = text.match_indices('<').map(|(i, _)| i).find(|&i| {
        let name: String = text[i + 1..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        name == "sst" || name.ends_with(":sst")
    });
    let Some(start) = tag_start else {
        return if head.len() as u64 >= SST_TAG_WINDOW {
            Err("its shared strings do not start with an <sst> tag".to_string())
        } else {
            Ok(())
        };
    };
    let tag = text[start..].split('>').next().unwrap_or("");
    let Some(at) = tag.find("uniqueCount") else {
        return Ok(());
    };
    let digits: String = tag[at + "uniqueCount".len()..]
        .trim_start_matches(|c: char| c.is_whitespace() || c == '=' || c == '"' || c == '\'')
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.parse::<u64>() {
        Ok(n) if n <= MAX_SHARED_STRINGS => Ok(()),
        Err(_) if digits.is_empty() => Ok(()),
        _ => Err(format!(
            "it declares {digits} shared strings, more than the {MAX_SHARED_STRINGS} limit"
        )),
    }
}

/// The most cells (rows × columns, blanks included) an XLS sheet may span:
/// 65,536 rows × 64 columns. calamine holds about 40 bytes per cell.
pub(crate) const MAX_CELLS: u64 = 65_536 * 64;

const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const BOUNDSHEET: u16 = 0x0085;
const DIMENSIONS: u16 = 0x0200;
const MULRK: u16 = 0x00BD;
/// NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA: row and column come first.
const CELLS: [u16; 7] = [0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006];

/// Checks the container and every sheet; `Err` says why the file is refused.
pub(crate) fn check_xls<R: Read + Seek>(inner: R) -> Result<(), String> {
    let mut file =
        cfb::CompoundFile::open(inner).map_err(|e| format!("damaged XLS container: {e}"))?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|n| file.is_stream(n));
    let Some(name) = name else {
        return Err("no Workbook stream: not an Excel 97-2003 workbook".to_string());
    };
    let mut stream = Vec::new();
    file.open_stream(name)
        .and_then(|mut s| s.read_to_end(&mut stream))
        .map_err(|e| format!("damaged XLS container: {e}"))?;
    let mut sheets = Vec::new();
    for (typ, data) in records(&stream) {
        match typ {
            BOUNDSHEET if data.len() >= 4 => {
                sheets.push(u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize);
            }
            EOF => break,
            _ => {}
        }
    }
    for pos in sheets {
        if let Some(sheet) = stream.get(pos..) {
            check_sheet(sheet)?;
        }
    }
    Ok(())
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

    fn cells(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, c0, c1)| {
            u64::from(r1 - r0 + 1).saturating_mul(u64::from(c1 - c0 + 1))
        })
    }
}

fn too_large(what: &str) -> String {
    format!(
        "{what} spans more than {MAX_CELLS} cells (65,536 rows × 64 columns); the file is damaged or too large for XLS import, save it as XLSX"
    )
}

fn check_sheet(sheet: &[u8]) -> Result<(), String> {
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
            DIMENSIONS if matches!(data.len(), 10 | 14 | 16) => check_dimensions(data)?,
            MULRK if data.len() >= 6 => {
                let (row, first, last) = (
                    u16_at(data, 0),
                    u16_at(data, 2),
                    u16_at(data, data.len() - 2),
                );
                if last < first {
                    return Err(
                        "a MULRK record's last column is before its first; the file is damaged"
                            .to_string(),
                    );
                }
                bounds.add(row, first);
                bounds.add(row, last);
            }
            t if CELLS.contains(&t) && data.len() >= 4 => {
                bounds.add(u16_at(data, 0), u16_at(data, 2))
            }
            EOF => break,
            _ => {}
        }
    }
    if bounds.cells() > MAX_CELLS {
        return Err(too_large("a sheet"));
    }
    Ok(())
}

/// Mirrors calamine's reading of DIMENSIONS, and refuses what it could not survive.
fn check_dimensions(r: &[u8]) -> Result<(), String> {
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
        (Some(rows), Some(cols)) if rows.saturating_mul(cols) <= MAX_CELLS => Ok(()),
        (Some(_), Some(_)) => Err(too_large("a sheet's DIMENSIONS record")),
        _ => Err(format!(
            "a sheet's DIMENSIONS record is impossible (rows {first_row}..{row_end}, \
             columns {first_col}..{col_end}); the file is damaged"
        )),
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

    #[test]
    fn shared_string_counts_are_checked_before_calamine_reserves_them() {
        assert!(
            check_shared_strings_head(
                b"<?xml version=\"1.0\"?><sst xmlns=\"x\" count=\"9\" uniqueCount=\"7\">"
            )
            .is_ok()
        );
        assert!(check_shared_strings_head(b"<x:sst uniqueCount='99999999999'>").is_err());
        assert!(
            check_shared_strings_head(b"<sst uniqueCount=\"999999999999999999999999\">").is_err()
        );
        assert!(
            check_shared_strings_head(
                b"<sst count=\"3\"><si><t>uniqueCount=\"999999999\"</t></si>"
            )
            .is_ok()
        );
        assert!(check_shared_strings_head(&vec![b' '; 70_000]).is_err());
    }

    #[test]
    fn real_sheet_sizes_pass() {
        assert!(check_dimensions(&biff8(0, 10, 0, 5)).is_ok());
        assert!(check_dimensions(&biff8(0, 65_536, 0, 64)).is_ok());
        assert!(check_dimensions(&biff8(0, 0, 0, 0)).is_ok());
        let sheet = [
            record(BOF, &[0; 16]),
            number_cell(0, 0),
            number_cell(60_000, 20),
            record(EOF, &[]),
        ]
        .concat();
        assert!(check_sheet(&sheet).is_ok());
    }

    #[test]
    fn impossible_sheet_sizes_are_refused() {
        assert!(check_dimensions(&biff8(0, u32::MAX, 0, 256)).is_err());
        assert!(
            check_dimensions(&biff8(20, 10, 0, 5)).is_err(),
            "first row after the last"
        );
        assert!(
            check_dimensions(&biff8(0, 10, 7, 7)).is_err(),
            "an empty column span underflows"
        );
        let sheet = [
            record(BOF, &[0; 16]),
            number_cell(0, 0),
            number_cell(65_535, 65_535),
        ]
        .concat();
        assert!(
            check_sheet(&sheet).is_err(),
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
        assert!(check_sheet(&sheet).is_ok());
    }
}
