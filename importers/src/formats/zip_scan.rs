//! Reads an XLSX or ODS zip once, before calamine, to refuse decompression bombs.
//!
//! Every entry is inflated through [`Capped`], which counts the bytes actually
//! produced (the sizes a zip declares can lie) against the caps for one part and
//! for the whole file, and refuses any run of bytes between `<` and `>` longer
//! than a cell may be, so the XML parser never buffers more than that. The parts
//! calamine will hold or expand are parsed as they stream by: the shared strings
//! (count, and each string's length), the worksheets (rows, columns, the text of
//! each cell and row, shared strings included) and the ODS `content.xml` (the
//! rectangle every table spans once repeated rows and columns are expanded, and
//! the text that expansion copies). Nothing read is kept but the length of each
//! shared string.

use std::io::{self, Read, Seek, SeekFrom};

use quick_xml::events::{BytesStart, Event};

use crate::formats::guards::Refused;
use crate::limits::{Limit, LimitExceeded, Limits};

/// Elements nested deeper than this are refused: a parser keeps every open
/// element's name, so a file of nothing but `<a>` would fill memory.
const MAX_DEPTH: usize = 64;

/// Which workbook the zip holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Package {
    Xlsx,
    Ods,
}

/// Checks every entry of the zip; a zip the `zip` crate cannot open passes here
/// and fails in calamine.
pub(crate) fn scan_zip<R: Read + Seek>(
    mut inner: R,
    package: Package,
    limits: &Limits,
) -> Result<(), Refused> {
    if let Some(entries) = declared_entries(&mut inner)
        && entries > limits.zip_entries
    {
        return Err(Refused::Limit(limits.exceeded(Limit::ZipEntries)));
    }
    inner
        .seek(SeekFrom::Start(0))
        .map_err(|e| Refused::Damaged(e.to_string()))?;
    let Ok(mut archive) = zip::ZipArchive::new(inner) else {
        return Ok(());
    };
    if archive.len() as u64 > limits.zip_entries {
        return Err(Refused::Limit(limits.exceeded(Limit::ZipEntries)));
    }
    let names: Vec<(usize, String)> = (0..archive.len())
        .filter_map(|i| {
            let name = archive.name_for_index(i)?.ok()?.to_ascii_lowercase();
            Some((i, name))
        })
        .collect();
    let role = |name: &str| match package {
        Package::Xlsx if name.ends_with("sharedstrings.xml") => Role::SharedStrings,
        Package::Xlsx if name.starts_with("xl/worksheets/") && name.ends_with(".xml") => {
            Role::Worksheet
        }
        Package::Ods if name == "content.xml" => Role::OdsContent,
        _ => Role::Other,
    };
    // Shared strings first: a worksheet's cells are measured with their lengths.
    let mut order: Vec<(usize, Role)> = names.iter().map(|(i, n)| (*i, role(n))).collect();
    order.sort_by_key(|(_, r)| *r != Role::SharedStrings);
    let mut total = 0u64;
    let mut shared = Vec::new();
    for (index, role) in order {
        let Ok(entry) = archive.by_index(index) else {
            continue;
        };
        let part_max = match role {
            Role::Worksheet | Role::OdsContent => limits.sheet_part_bytes,
            Role::SharedStrings => limits.shared_strings_bytes,
            Role::Other => limits.other_part_bytes,
        };
        let part_limit = match role {
            Role::SharedStrings => Limit::SharedStringsBytes,
            _ => Limit::ZipEntryBytes,
        };
        let declared = entry.size();
        // Only XML is parsed; pictures and other binary parts are only counted.
        let is_xml = names
            .iter()
            .find(|(i, _)| *i == index)
            .is_some_and(|(_, n)| n.ends_with(".xml") || n.ends_with(".rels"));
        let over_part = LimitExceeded {
            limit: part_limit,
            max: part_max,
            row: None,
            column: None,
        };
        if declared > part_max {
            return Err(Refused::Limit(over_part));
        }
        let mut capped = Capped {
            inner: entry,
            read: 0,
            part_max,
            over_part,
            total_before: total,
            total_max: limits.total_bytes,
            run: 0,
            run_max: if is_xml {
                limits.cell_raw_bytes()
            } else {
                u64::MAX
            },
            hit: None,
        };
        let result = match role {
            Role::SharedStrings => scan_shared_strings(&mut capped, limits).map(|s| shared = s),
            Role::Worksheet => scan_worksheet(&mut capped, limits, &shared),
            Role::OdsContent => scan_ods_content(&mut capped, limits),
            Role::Other => io::copy(&mut capped, &mut io::sink())
                .map(|_| ())
                .map_err(|e| Refused::Damaged(e.to_string())),
        };
        // A cap hit inside the reader surfaces as an I/O or XML error: name the cap.
        if let Some(hit) = capped.hit {
            return Err(Refused::Limit(hit));
        }
        result?;
        total = capped.total_before + capped.read;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    SharedStrings,
    Worksheet,
    OdsContent,
    Other,
}

/// The entry count in the zip's end-of-central-directory record, read before the
/// `zip` crate builds its table of every entry.
fn declared_entries<R: Read + Seek>(inner: &mut R) -> Option<u64> {
    let len = inner.seek(SeekFrom::End(0)).ok()?;
    let tail_len = len.min(22 + 65_535);
    inner.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = Vec::new();
    inner.take(tail_len).read_to_end(&mut tail).ok()?;
    let at = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let entries = u16::from_le_bytes([*tail.get(at + 10)?, *tail.get(at + 11)?]);
    // 0xFFFF means the count is in the ZIP64 record; the zip crate's table is
    // checked after it is built.
    (entries != u16::MAX).then_some(u64::from(entries))
}

/// Counts inflated bytes against the caps and refuses overlong runs between tags.
struct Capped<R> {
    inner: R,
    read: u64,
    part_max: u64,
    over_part: LimitExceeded,
    total_before: u64,
    total_max: u64,
    run: u64,
    run_max: u64,
    hit: Option<LimitExceeded>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.hit.is_some() {
            return Err(io::Error::other("over a cap"));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        let hit = if self.read > self.part_max {
            Some(self.over_part)
        } else if self.total_before + self.read > self.total_max {
            Some(LimitExceeded {
                limit: Limit::ZipTotalBytes,
                max: self.total_max,
                row: None,
                column: None,
            })
        } else {
            None
        };
        for &b in &buf[..n] {
            if b == b'<' || b == b'>' {
                self.run = 0;
            } else {
                self.run += 1;
            }
            if self.run > self.run_max {
                self.hit = Some(LimitExceeded {
                    limit: Limit::CellChars,
                    max: self.run_max / 6,
                    row: None,
                    column: None,
                });
                return Err(io::Error::other("over a cap"));
            }
        }
        if hit.is_some() {
            self.hit = hit;
            return Err(io::Error::other("over a cap"));
        }
        Ok(n)
    }
}

fn xml<R: Read>(capped: &mut Capped<R>) -> quick_xml::Reader<io::BufReader<&mut Capped<R>>> {
    let mut reader = quick_xml::Reader::from_reader(io::BufReader::new(capped));
    // Nesting is capped here instead of kept for end-name checks.
    reader.config_mut().check_end_names = false;
    reader
}

fn damaged(e: impl std::fmt::Display) -> Refused {
    Refused::Damaged(e.to_string())
}

fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == local)
        .map(|a| a.value.into_owned())
}

fn attr_u64(e: &BytesStart<'_>, local: &str) -> Option<u64> {
    attr(e, local)?.trim().parse().ok()
}

/// Walks XML events with the nesting depth capped; `f` sees each event and
/// whether it was an empty element.
fn walk<R: Read>(
    capped: &mut Capped<R>,
    mut f: impl FnMut(&Event<'_>) -> Result<(), Refused>,
) -> Result<(), Refused> {
    let mut reader = xml(capped);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        let event = reader.read_event_into(&mut buf).map_err(damaged)?;
        match &event {
            Event::Eof => return Ok(()),
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(damaged("XML nested too deeply"));
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        f(&event)?;
    }
}

fn text_len(event: &Event<'_>) -> u64 {
    match event {
        Event::Text(t) => t.len() as u64,
        Event::CData(t) => t.len() as u64,
        Event::GeneralRef(_) => 1,
        _ => 0,
    }
}

/// Counts the shared strings and measures each; returns their lengths in bytes.
fn scan_shared_strings<R: Read>(
    capped: &mut Capped<R>,
    limits: &Limits,
) -> Result<Vec<u32>, Refused> {
    let mut lens: Vec<u32> = Vec::new();
    let mut current: Option<u64> = None;
    let cell_max = limits.cell_raw_bytes();
    walk(capped, |event| {
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "sst" => {
                // calamine reserves room for the count the file declares.
                if attr_u64(e, "uniqueCount").is_some_and(|n| n > limits.shared_strings) {
                    return Err(Refused::Limit(limits.exceeded(Limit::SharedStrings)));
                }
            }
            Event::Start(e) if e.local_name().into_inner() == "si" => current = Some(0),
            Event::Empty(e) if e.local_name().into_inner() == "si" => lens.push(0),
            Event::End(e) if e.local_name().into_inner() == "si" => {
                lens.push(u32::try_from(current.take().unwrap_or(0)).unwrap_or(u32::MAX));
                if lens.len() as u64 > limits.shared_strings {
                    return Err(Refused::Limit(limits.exceeded(Limit::SharedStrings)));
                }
            }
            other => {
                if let Some(len) = current.as_mut() {
                    *len += text_len(other);
                    if *len > cell_max {
                        return Err(Refused::Limit(limits.exceeded(Limit::CellChars)));
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(lens)
}

/// The 0-based column of a cell reference such as `XFD12`.
fn column_of(reference: &[u8]) -> Option<u64> {
    let letters: Vec<u8> = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .copied()
        .collect();
    if letters.is_empty() || letters.len() > 4 {
        return None;
    }
    let mut index = 0u64;
    for b in letters {
        index = index * 26 + u64::from(b.to_ascii_uppercase() - b'A') + 1;
    }
    Some(index - 1)
}

/// Counts rows, and measures each cell and row, shared strings included.
fn scan_worksheet<R: Read>(
    capped: &mut Capped<R>,
    limits: &Limits,
    shared: &[u32],
) -> Result<(), Refused> {
    let cell_max = limits.cell_raw_bytes();
    let over = |limit| Err(Refused::Limit(limits.exceeded(limit)));
    let (mut rows, mut row_bytes) = (0u64, 0u64);
    let mut next_col = 0u64;
    // The row's number as the sheet gives it (`r`), else its count.
    let mut row_no = 0u64;
    // In a cell: its text so far, and whether its value is a shared-string index.
    let mut cell: Option<(u64, bool)> = None;
    let mut in_value = false;
    walk(capped, |event| {
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "row" => {
                rows += 1;
                row_no = attr(e, "r")
                    .and_then(|r| r.trim().parse().ok())
                    .unwrap_or(rows);
                if rows > limits.rows {
                    return Err(Refused::Limit(limits.exceeded(Limit::Rows).at_row(row_no)));
                }
                row_bytes = 0;
                next_col = 0;
            }
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "c" => {
                let col = attr(e, "r")
                    .and_then(|r| column_of(r.as_bytes()))
                    .unwrap_or(next_col);
                next_col = col + 1;
                let shared_string = attr(e, "t").is_some_and(|t| t == "s");
                if matches!(event, Event::Start(_)) {
                    if col >= limits.columns {
                        return over(Limit::Columns);
                    }
                    cell = Some((0, shared_string));
                }
            }
            Event::End(e) if e.local_name().into_inner() == "c" => cell = None,
            Event::Start(e) if e.local_name().into_inner() == "v" => in_value = true,
            Event::End(e) if e.local_name().into_inner() == "v" => in_value = false,
            other => {
                let Some((len, shared_string)) = cell.as_mut() else {
                    return Ok(());
                };
                let mut add = text_len(other);
                if *shared_string
                    && in_value
                    && let Event::Text(t) = other
                {
                    add = t
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| shared.get(i))
                        .map_or(add, |&n| u64::from(n));
                }
                *len += add;
                row_bytes += add;
                if *len > cell_max {
                    let at = limits.exceeded(Limit::CellChars).at_row(row_no);
                    return Err(Refused::Limit(at.in_column(next_col.saturating_sub(1))));
                }
                if row_bytes > limits.row_bytes {
                    return Err(Refused::Limit(
                        limits.exceeded(Limit::RowBytes).at_row(row_no),
                    ));
                }
            }
        }
        Ok(())
    })
}

/// One ODS table being measured as calamine will expand it.
#[derive(Default)]
struct Table {
    /// Rows so far, repeats expanded.
    rows: u64,
    first_row: Option<u64>,
    last_row: u64,
    min_col: Option<u64>,
    max_col: u64,
}

/// One ODS row being read.
#[derive(Default)]
struct OdsRow {
    repeats: u64,
    col: u64,
    text: u64,
    min_col: Option<u64>,
    max_col: u64,
}

/// One ODS cell being read.
struct OdsCell {
    repeats: u64,
    text: u64,
    has_value: bool,
}

/// Measures every table of an ODS `content.xml` as calamine will load it.
fn scan_ods_content<R: Read>(capped: &mut Capped<R>, limits: &Limits) -> Result<(), Refused> {
    let cell_max = limits.cell_raw_bytes();
    let over = |limit| Err(Refused::Limit(limits.exceeded(limit)));
    let (mut cells, mut text) = (0u64, 0u64);
    let mut table: Option<Table> = None;
    let mut row: Option<OdsRow> = None;
    let mut cell: Option<OdsCell> = None;
    walk(capped, |event| {
        let (e, empty) = match event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        let name = e.map(|e| e.local_name().into_inner().to_owned());
        match (name.as_deref(), event) {
            (Some("table"), _) => table = Some(Table::default()),
            (Some("table-row"), _) => {
                let repeats = e.and_then(|e| attr_u64(e, "number-rows-repeated"));
                let r = OdsRow {
                    repeats: repeats.unwrap_or(1).max(1),
                    ..OdsRow::default()
                };
                if empty {
                    finish_row(table.as_mut(), r);
                } else {
                    row = Some(r);
                }
            }
            (Some("table-cell" | "covered-table-cell"), _) => {
                let e = e.ok_or_else(|| damaged("cell"))?;
                let c = OdsCell {
                    repeats: attr_u64(e, "number-columns-repeated").unwrap_or(1).max(1),
                    // calamine keeps a formula as text for every cell too.
                    text: attr(e, "formula").map_or(0, |f| f.len() as u64),
                    has_value: attr(e, "value-type").is_some(),
                };
                if empty {
                    finish_cell(row.as_mut(), c, limits)?;
                } else {
                    cell = Some(c);
                }
            }
            // <text:s text:c="N"/> stands for N spaces, which calamine writes out.
            (Some("s"), _) if cell.is_some() => {
                let n = e.and_then(|e| attr_u64(e, "c")).unwrap_or(1);
                if let Some(c) = cell.as_mut() {
                    c.text = c.text.saturating_add(n);
                }
            }
            _ => {}
        }
        match event {
            Event::End(e) => match e.local_name().into_inner() {
                "table-cell" | "covered-table-cell" => {
                    if let Some(c) = cell.take() {
                        finish_cell(row.as_mut(), c, limits)?;
                    }
                }
                "table-row" => {
                    if let Some(r) = row.take() {
                        if r.text > limits.row_bytes {
                            return over(Limit::RowBytes);
                        }
                        if r.max_col >= limits.columns && r.min_col.is_some() {
                            return over(Limit::Columns);
                        }
                        text = text.saturating_add(r.text.saturating_mul(r.repeats));
                        finish_row(table.as_mut(), r);
                        if text > limits.text_bytes {
                            return over(Limit::TextBytes);
                        }
                    }
                }
                "table" => {
                    if let Some(t) = table.take() {
                        if t.first_row.is_some() && t.last_row >= limits.rows {
                            return over(Limit::Rows);
                        }
                        if let (Some(first), Some(min_col)) = (t.first_row, t.min_col) {
                            let span = (t.last_row - first + 1)
                                .saturating_mul(t.max_col.saturating_sub(min_col) + 1);
                            cells = cells.saturating_add(span);
                        }
                        if cells > limits.cells {
                            return over(Limit::Cells);
                        }
                    }
                }
                _ => {}
            },
            other => {
                if let Some(c) = cell.as_mut() {
                    c.text += text_len(other);
                    if c.text > cell_max {
                        return over(Limit::CellChars);
                    }
                }
            }
        }
        Ok(())
    })
}

fn finish_cell(row: Option<&mut OdsRow>, c: OdsCell, limits: &Limits) -> Result<(), Refused> {
    let Some(r) = row else { return Ok(()) };
    if c.text > limits.cell_raw_bytes() {
        return Err(Refused::Limit(limits.exceeded(Limit::CellChars)));
    }
    if c.has_value || c.text > 0 {
        r.min_col.get_or_insert(r.col);
        r.max_col = r.col.saturating_add(c.repeats - 1);
        r.text = r.text.saturating_add(c.text.saturating_mul(c.repeats));
        if r.text > limits.row_bytes {
            return Err(Refused::Limit(limits.exceeded(Limit::RowBytes)));
        }
    }
    r.col = r.col.saturating_add(c.repeats);
    Ok(())
}

fn finish_row(table: Option<&mut Table>, r: OdsRow) {
    let Some(t) = table else { return };
    if let Some(min_col) = r.min_col {
        t.first_row.get_or_insert(t.rows);
        t.last_row = t.rows + r.repeats - 1;
        t.min_col = Some(t.min_col.map_or(min_col, |m| m.min(min_col)));
        t.max_col = t.max_col.max(r.max_col);
    }
    t.rows = t.rows.saturating_add(r.repeats);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_give_their_column() {
        assert_eq!(column_of(b"A1"), Some(0));
        assert_eq!(column_of(b"IV7"), Some(255));
        assert_eq!(column_of(b"XFD1048576"), Some(16_383));
        assert_eq!(column_of(b"12"), None);
    }
}
