//! Header recognition: which column is which field, and which row is the header.

pub(crate) mod synonyms;

use std::collections::BTreeMap;

use crate::error::ImportError;
use crate::formats::cell::{RawRow, column_index, column_letter};
use crate::headers::synonyms::{normalize_header, recognise};
use crate::model::{Field, Kind};
use crate::profile::Profile;

/// How many rows from the top are searched for the header row.
pub const SCAN_ROWS: usize = 30;

/// One mapped column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub field: Field,
    /// 0-based column index.
    pub column: usize,
    /// The header text as it appears, or the column letter when there is no header.
    pub header: String,
}

/// The chosen header row and its mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderMatch {
    /// 1-based header row; 0 when the profile says the sheet has none.
    pub row: usize,
    pub columns: Vec<Mapped>,
    /// A currency named in the unit price header ("Unit Price (USD)").
    pub price_currency: Option<String>,
    /// How many fields the header names matched.
    pub score: usize,
}

struct Assignment {
    columns: BTreeMap<Field, Mapped>,
    score: usize,
    unresolved: Vec<(Field, String)>,
    price_currency: Option<String>,
}

/// The non-blank header texts of a row, with their 0-based columns.
fn header_texts(row: Option<&RawRow>) -> Vec<(usize, String)> {
    row.map(|r| {
        r.cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.text().map(|t| (i, t)))
            .collect()
    })
    .unwrap_or_default()
}

fn assign(row: Option<&RawRow>, kind: Kind, profile: Option<&Profile>) -> Assignment {
    let headers = header_texts(row);
    let mut out = Assignment {
        columns: BTreeMap::new(),
        score: 0,
        unresolved: Vec::new(),
        price_currency: None,
    };
    let empty = BTreeMap::new();
    let wanted = profile.map_or(&empty, |p| &p.columns);
    assign_profile_columns(&headers, wanted, &mut out);
    assign_recognised_columns(&headers, wanted, &mut out);
    out.columns.retain(|field, _| kind.fields().contains(field));
    out
}

/// The profile's columns: by header text first, then by column letter.
fn assign_profile_columns(
    headers: &[(usize, String)],
    wanted: &BTreeMap<Field, String>,
    out: &mut Assignment,
) {
    for (field, spec) in wanted {
        let key = normalize_header(spec);
        let taken = |col: usize| out.columns.values().any(|m| m.column == col);
        let by_name = headers
            .iter()
            .find(|(col, text)| normalize_header(text) == key && !taken(*col));
        let (column, header) = if let Some((col, text)) = by_name {
            out.score += 1;
            (*col, text.clone())
        } else if let Some(col) = column_index(spec.trim()) {
            let header = headers
                .iter()
                .find(|(c, _)| *c == col)
                .map_or_else(|| column_letter(col), |(_, t)| t.clone());
            (col, header)
        } else {
            out.unresolved.push((*field, spec.clone()));
            continue;
        };
        out.columns.insert(
            *field,
            Mapped {
                field: *field,
                column,
                header,
            },
        );
    }
}

/// Known header names for the fields the profile leaves out: best rank, then leftmost.
fn assign_recognised_columns(
    headers: &[(usize, String)],
    wanted: &BTreeMap<Field, String>,
    out: &mut Assignment,
) {
    let mut best: BTreeMap<Field, (usize, usize, String, Option<String>)> = BTreeMap::new();
    for (col, text) in headers {
        if out.columns.values().any(|m| m.column == *col) {
            continue;
        }
        let Some(r) = recognise(text) else { continue };
        if wanted.contains_key(&r.field) {
            continue;
        }
        if best.get(&r.field).is_none_or(|(rank, ..)| r.rank < *rank) {
            best.insert(r.field, (r.rank, *col, text.clone(), r.currency));
        }
    }
    out.score += best.len();
    for (field, (_, column, header, currency)) in best {
        if field == Field::UnitPrice {
            out.price_currency = currency;
        }
        out.columns.insert(
            field,
            Mapped {
                field,
                column,
                header,
            },
        );
    }
}

/// Finds the header row in the first rows of a sheet and maps its columns.
pub(crate) fn find_header(
    sample: &[RawRow],
    kind: Kind,
    profile: Option<&Profile>,
) -> Result<HeaderMatch, ImportError> {
    let (row_number, assignment) = choose_row(sample, kind, profile)?;
    let seen = || -> Vec<String> {
        sample
            .iter()
            .find(|r| r.number == row_number)
            .map(|r| r.cells.iter().filter_map(|c| c.text()).collect())
            .unwrap_or_default()
    };
    if let Some((field, column)) = assignment.unresolved.first() {
        return Err(ImportError::ProfileColumnNotFound {
            field: *field,
            column: column.clone(),
            header_row: row_number,
            seen: seen(),
        });
    }
    if let Some(field) = kind
        .required_fields()
        .iter()
        .find(|f| !assignment.columns.contains_key(f))
    {
        return Err(ImportError::MissingColumn {
            field: *field,
            kind,
            header_row: row_number,
            seen: seen(),
        });
    }
    Ok(HeaderMatch {
        row: row_number,
        columns: assignment.columns.into_values().collect(),
        price_currency: assignment.price_currency,
        score: assignment.score,
    })
}

/// The profile's header row, or the scanned row matching the most known headers.
fn choose_row(
    sample: &[RawRow],
    kind: Kind,
    profile: Option<&Profile>,
) -> Result<(usize, Assignment), ImportError> {
    match profile.and_then(|p| p.header_row) {
        Some(0) => return Ok((0, assign(None, kind, profile))),
        Some(n) => {
            return Ok((
                n,
                assign(sample.iter().find(|r| r.number == n), kind, profile),
            ));
        }
        None => {}
    }
    let mut best: Option<(usize, Assignment)> = None;
    for row in sample.iter().filter(|r| r.number <= SCAN_ROWS) {
        let a = assign(Some(row), kind, profile);
        if best.as_ref().is_none_or(|(_, b)| a.score > b.score) {
            best = Some((row.number, a));
        }
    }
    match best {
        Some((n, a)) if a.score > 0 => Ok((n, a)),
        _ if assign(None, kind, profile).columns.is_empty() => Err(ImportError::NoHeaderRow {
            scanned: sample.len().min(SCAN_ROWS),
        }),
        // Only column letters: the first row is taken as the header.
        _ => Ok((
            sample.first().map_or(1, |r| r.number),
            assign(sample.first(), kind, profile),
        )),
    }
}

/// How well a sample's best row matches known headers; used to pick a CSV delimiter.
pub(crate) fn best_score(
    sample: &[RawRow],
    kind: Kind,
    profile: Option<&Profile>,
) -> (usize, usize) {
    sample
        .iter()
        .filter(|r| r.number <= SCAN_ROWS.max(profile.and_then(|p| p.header_row).unwrap_or(0)))
        .map(|r| (assign(Some(r), kind, profile).score, r.cells.len()))
        .max()
        .unwrap_or((0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::cell::Cell;

    fn row(number: usize, texts: &[&str]) -> RawRow {
        RawRow {
            number,
            span: 1,
            cells: texts
                .iter()
                .map(|t| {
                    if t.is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text((*t).to_string())
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn the_header_row_is_the_one_matching_most_fields_below_a_title_block() {
        let sample = [
            row(1, &["PACKING LIST"]),
            row(2, &["Date:", "2026-11-27"]),
            row(3, &[]),
            row(4, &["", "Carton", "P/N", "S/N", "Q'ty"]),
            row(5, &["", "C-001", "M321R4GA3BB6-CQK", "S4EMNX0W123456", "1"]),
        ];
        let found = find_header(&sample, Kind::PackingList, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found.row, 4);
        let columns: Vec<(Field, usize)> =
            found.columns.iter().map(|m| (m.field, m.column)).collect();
        assert_eq!(
            columns,
            vec![
                (Field::Mpn, 2),
                (Field::Quantity, 4),
                (Field::Serial, 3),
                (Field::Carton, 1)
            ]
        );
    }

    #[test]
    fn a_more_specific_header_wins_over_a_vaguer_one() {
        let sample = [row(1, &["Item", "Part Number", "Description", "Price"])];
        let found = find_header(&sample, Kind::PriceList, None).unwrap_or_else(|e| panic!("{e}"));
        let description = found.columns.iter().find(|m| m.field == Field::Description);
        assert_eq!(description.map(|m| m.header.as_str()), Some("Description"));
    }

    #[test]
    fn rows_below_the_scan_limit_are_not_headers() {
        let mut sample: Vec<RawRow> = (1..=SCAN_ROWS).map(|n| row(n, &["note"])).collect();
        sample.push(row(SCAN_ROWS + 1, &["MPN", "Price"]));
        let err = find_header(&sample, Kind::PriceList, None).err();
        assert!(
            matches!(err, Some(ImportError::NoHeaderRow { scanned: SCAN_ROWS })),
            "{err:?}"
        );
    }
}
