//! Report export to CSV and XLSX.
//!
//! CSV cells that a spreadsheet would run as a formula (leading `=`, `+`, `-`,
//! `@`, tab or carriage return) are prefixed with `'`, so a supplier name like
//! `=HYPERLINK(...)` stays text. XLSX cells are written as strings or numbers,
//! never formulas.

use anyhow::Context;
use rust_xlsxwriter::{Format, Workbook};

/// One cell of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text, shown as is.
    Text(String),
    /// A whole number (quantities, won).
    Int(i64),
    /// An exact decimal rendered as text (prices with many places, rates).
    Decimal(rust_decimal::Decimal),
}

impl Cell {
    /// The cell as shown on a page: whole numbers with thousands separators.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => {
                let digits = n.unsigned_abs().to_string();
                let mut out = String::new();
                for (i, c) in digits.chars().enumerate() {
                    if i > 0 && (digits.len() - i).is_multiple_of(3) {
                        out.push(',');
                    }
                    out.push(c);
                }
                if *n < 0 { format!("-{out}") } else { out }
            }
            Cell::Decimal(d) => d.to_string(),
        }
    }

    /// Whether the cell is a number (right-aligned on pages).
    pub fn is_number(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

/// A report ready to export: a title, column headers and rows.
#[derive(Clone, Debug)]
pub struct Table {
    /// Sheet name / file stem.
    pub name: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells, each as long as `headers`.
    pub rows: Vec<Vec<Cell>>,
}

/// Makes a text cell safe to open in a spreadsheet.
pub fn neutralise(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

/// The table as UTF-8 CSV with a BOM (so Korean Excel opens it correctly).
pub fn to_csv(t: &Table) -> anyhow::Result<Vec<u8>> {
    to_csv_titled(t, None)
}

/// As [`to_csv`], with a `title` line (what the figures are: scenario and
/// day) and an empty line above the headers.
pub fn to_csv_titled(t: &Table, title: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        if let Some(title) = title {
            w.write_record([neutralise(title)])?;
            w.write_record([""])?;
        }
        w.write_record(t.headers.iter().map(|h| neutralise(h)))?;
        for row in &t.rows {
            w.write_record(row.iter().map(csv_cell))?;
        }
        w.flush()?;
    }
    Ok(out)
}

fn csv_cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => neutralise(s),
        Cell::Int(n) => n.to_string(),
        Cell::Decimal(d) => d.to_string(),
    }
}

/// Rows as CSV lines (no BOM, no header), as [`to_csv`] writes them: one
/// piece of a streamed download.
pub fn csv_rows(rows: impl IntoIterator<Item = Vec<Cell>>) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        for row in rows {
            w.write_record(row.iter().map(csv_cell))?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The table as an XLSX workbook with one sheet.
pub fn to_xlsx(t: &Table) -> anyhow::Result<Vec<u8>> {
    to_xlsx_titled(t, None)
}

/// As [`to_xlsx`], with a `title` (what the figures are: scenario and day)
/// in bold in the first row, an empty row, then the table; the title is also
/// the workbook's document title.
pub fn to_xlsx_titled(t: &Table, title: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    if let Some(title) = title {
        wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_title(title));
    }
    let sheet = wb.add_worksheet();
    let name: String = t
        .name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    sheet.set_name(&name).context("sheet name")?;
    let top: u32 = if let Some(title) = title {
        sheet.write_string_with_format(0, 0, title, &bold)?;
        2
    } else {
        0
    };
    for (c, h) in t.headers.iter().enumerate() {
        sheet.write_string_with_format(top, col(c)?, h, &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).context("too many rows")? + top;
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(s) => sheet.write_string(r, col(c)?, s)?,
                // Whole won and quantities fit exactly in a double up to 2^53.
                Cell::Int(n) => sheet.write_number(r, col(c)?, *n as f64)?,
                Cell::Decimal(d) => sheet.write_string(r, col(c)?, d.to_string())?,
            };
        }
    }
    sheet.autofit();
    Ok(wb.save_to_buffer()?)
}

/// The table as a download: `ext` is `csv` or `xlsx` (else 404); the file is
/// named `rackledger-{stem}-{today}.{ext}`.
pub fn attachment(
    t: &Table,
    ext: &str,
    stem: &str,
) -> crate::error::AppResult<axum::response::Response> {
    let day = crate::procurement::fx::today();
    titled_attachment(t, ext, &format!("rackledger-{stem}-{day}"), None)
}

/// The table as a download named `{file_stem}.{ext}` (ASCII, chosen by the
/// caller), with a `title` above it (see [`to_xlsx_titled`]).
pub fn titled_attachment(
    t: &Table,
    ext: &str,
    file_stem: &str,
    title: Option<&str>,
) -> crate::error::AppResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (body, mime) = match ext {
        "csv" => (to_csv_titled(t, title)?, "text/csv; charset=utf-8"),
        "xlsx" => (
            to_xlsx_titled(t, title)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return Err(crate::error::AppError::NotFound),
    };
    let stem: String = file_stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{stem}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

fn col(c: usize) -> anyhow::Result<u16> {
    u16::try_from(c).context("too many columns")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cells: Vec<Cell>) -> Table {
        Table {
            name: "t".into(),
            headers: vec!["a".into(), "b".into()],
            rows: vec![cells],
        }
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_neutralised() {
        for bad in ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralise(bad).starts_with('\''), "{bad:?}");
        }
        assert_eq!(neutralise("Samsung"), "Samsung");
        let out = to_csv(&table(vec![
            Cell::from("=HYPERLINK(\"http://x\")"),
            Cell::Int(-5),
        ]))
        .expect("csv");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{text}");
        assert!(
            text.contains(",-5"),
            "numbers are not text, so a negative number stays a number"
        );
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let out = to_xlsx(&table(vec![Cell::from("=1+1"), Cell::Int(1_234_567)])).expect("xlsx");
        assert_eq!(&out[..2], b"PK");
    }
}
