//! Broken rows, broken files, missing columns and mapping profiles.

mod common;

use common::{ok_rows, open, open_upload, profile, sample};
use rackledger_importers::{
    Field, ImportError, Kind, Parsed, Profile, Row, RowError, codes, open_bytes, open_path,
};
use rust_decimal::dec;

fn errors_and_rows(parsed: Vec<Parsed>) -> (Vec<RowError>, Vec<(usize, Row)>) {
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for p in parsed {
        match p.result {
            Ok(row) => rows.push((p.row, row)),
            Err(e) => {
                assert_eq!(e.row, p.row, "the error's row matches the Parsed row");
                errors.push(e);
            }
        }
    }
    (errors, rows)
}

fn brief(e: &RowError) -> (usize, Option<&str>, &str) {
    (e.row, e.column.as_deref(), e.code)
}

#[test]
fn a_broken_packing_list_reports_each_bad_row_with_its_line_column_and_code() {
    let mut reader = open("packing_list_broken.csv", Kind::PackingList, None);
    let parsed: Vec<Parsed> = reader.by_ref().collect();
    assert_eq!(
        reader.blank_rows(),
        2,
        "a row of empty cells and an empty line"
    );
    let (errors, rows) = errors_and_rows(parsed);
    assert_eq!(
        errors.iter().map(brief).collect::<Vec<_>>(),
        vec![
            (7, Some("Qty"), codes::BAD_QUANTITY),
            (8, Some("Qty"), codes::BAD_QUANTITY),
            (9, Some("Part Number"), codes::MISSING_VALUE),
            (10, Some("Qty"), codes::SERIAL_WITH_QUANTITY),
        ]
    );
    assert!(errors[0].detail.contains("\"two\""), "{}", errors[0].detail);
    assert!(errors[1].detail.contains("\"0\""), "{}", errors[1].detail);
    assert!(
        errors[3].detail.contains("S64HNE0T600123"),
        "{}",
        errors[3].detail
    );

    let serials: Vec<(usize, Option<String>)> = rows
        .into_iter()
        .map(|(n, r)| match r {
            Row::PackingList(p) => (n, p.serial),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        serials,
        vec![
            (2, Some("S4EMNX0W123456".to_string())),
            (3, None),
            (6, Some("S4EMNX0W123456".to_string())),
            (11, Some("s64hne0t600124".to_string())),
        ],
        "missing and duplicate serials are returned for the app to judge; quotes are stripped, case kept"
    );
}

#[test]
fn a_broken_price_list_reports_bad_numbers_currencies_and_error_cells() {
    let mut reader = open("price_list_broken.xlsx", Kind::PriceList, None);
    let parsed: Vec<Parsed> = reader.by_ref().collect();
    assert_eq!(reader.blank_rows(), 1);
    assert_eq!(reader.total_rows(), Some(10));
    assert_eq!(reader.rows_read(), 10);
    let (errors, rows) = errors_and_rows(parsed);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, 2);
    assert_eq!(
        errors.iter().map(brief).collect::<Vec<_>>(),
        vec![
            (3, Some("Unit Price"), codes::BAD_NUMBER),
            (4, Some("Unit Price"), codes::NEGATIVE_PRICE),
            (5, Some("Part Number"), codes::MISSING_VALUE),
            (6, Some("Unit Price"), codes::BAD_NUMBER),
            (7, Some("Currency"), codes::BAD_CURRENCY),
            (8, Some("Unit Price"), codes::BAD_CURRENCY),
            (10, Some("Unit Price"), codes::MISSING_VALUE),
            (11, Some("Unit Price"), codes::CELL_ERROR),
        ]
    );
    let details: Vec<&str> = errors.iter().map(|e| e.detail.as_str()).collect();
    assert!(details[0].contains("TBD"), "{}", details[0]);
    assert!(details[3].contains("1,23,4.00"), "{}", details[3]);
    assert!(details[4].contains("XYZ"), "{}", details[4]);
    assert!(
        details[5].contains("USD") && details[5].contains("KRW"),
        "{}",
        details[5]
    );
    assert!(details[7].contains("#N/A"), "{}", details[7]);
}

#[test]
fn a_missing_required_column_is_an_import_error_naming_it_and_the_headers_seen() {
    let err = open_path(&sample("price_list.csv"), Kind::OrderConfirmation, None)
        .err()
        .unwrap_or_else(|| panic!("a price list has no quantity column"));
    match &err {
        ImportError::MissingColumn {
            field,
            header_row,
            seen,
            ..
        } => {
            assert_eq!(*field, Field::Quantity);
            assert_eq!(*header_row, 1);
            assert!(seen.contains(&"Unit Price".to_string()), "{seen:?}");
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("required column quantity is missing"),
        "{message}"
    );
    assert!(message.contains("\"Part Number\""), "{message}");
}

#[test]
fn an_unknown_layout_needs_a_profile() {
    let err = open_path(
        &sample("packing_list_custom_layout.xlsx"),
        Kind::PackingList,
        None,
    )
    .err()
    .unwrap_or_else(|| panic!("the layout should not be recognised"));
    let message = err.to_string();
    assert!(
        matches!(
            err,
            ImportError::MissingColumn {
                field: Field::Mpn,
                header_row: 4,
                ..
            }
        ),
        "{message}"
    );
    assert!(
        message.contains("part number (MPN)") && message.contains("\"Article Code\""),
        "{message}"
    );

    let hanil = profile("hanil_packing_list.toml");
    let reader = open(
        "packing_list_custom_layout.xlsx",
        Kind::PackingList,
        Some(&hanil),
    );
    assert_eq!(reader.header_row(), 4);
    let mapping = reader.mapping().to_vec();
    assert!(
        mapping.contains(&(Field::Carton, "Pkg".to_string())),
        "a letter maps to the header under it: {mapping:?}"
    );
    assert!(
        mapping.contains(&(Field::Manufacturer, "Maker".to_string())),
        "{mapping:?}"
    );
    let rows = ok_rows(reader);
    assert_eq!(rows.len(), 9);
    match &rows[8].1 {
        Row::PackingList(p) => {
            assert_eq!(
                (p.mpn.as_str(), p.quantity, p.carton.as_deref()),
                ("DAC-SFP28-1M", 10, Some("C-004"))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_headerless_csv_is_read_by_column_letters_from_a_profile() {
    let eu = profile("eu_price_list_no_header.toml");
    let reader = open("price_list_no_header.csv", Kind::PriceList, Some(&eu));
    assert_eq!(reader.header_row(), 0);
    let rows = ok_rows(reader);
    assert_eq!(rows.first().map(|(n, _)| *n), Some(1));
    let prices: Vec<_> = rows
        .iter()
        .map(|(_, r)| match r {
            Row::PriceList(p) => (p.unit_price, p.currency.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(prices.len(), 6);
    assert_eq!(prices[0], (dec!(118.50), Some("EUR".to_string())));
    assert_eq!(prices[3], (dec!(2730.00), Some("EUR".to_string())));
}

#[test]
fn a_profile_overrides_header_recognition() {
    let mut swap = Profile::new("swapped", Kind::PriceList);
    swap.columns.insert(Field::Description, "Category".into());
    swap.columns.insert(Field::Category, "Description".into());
    let rows = ok_rows(open_upload("price_list.csv", Kind::PriceList, Some(&swap)));
    match &rows[0].1 {
        Row::PriceList(p) => {
            assert_eq!(p.description.as_deref(), Some("memory"));
            assert_eq!(
                p.category.as_deref(),
                Some("32GiB DDR5-4800 ECC RDIMM 2Rx8")
            );
            assert_eq!(
                p.mpn, "M321R4GA3BB6-CQK",
                "unlisted fields are still recognised"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_profile_naming_a_header_that_is_not_there_is_an_error() {
    let mut wrong = Profile::new("wrong", Kind::PriceList);
    wrong.columns.insert(Field::Mpn, "Article".into());
    wrong.header_row = Some(1);
    let err = open_path(&sample("price_list.csv"), Kind::PriceList, Some(&wrong)).err();
    assert!(
        matches!(&err, Some(ImportError::ProfileColumnNotFound { field: Field::Mpn, column, .. }) if column == "Article"),
        "{err:?}"
    );
}

#[test]
fn a_profile_for_another_kind_or_sheet_is_refused() {
    let packing = profile("hanil_packing_list.toml");
    let err = open_path(&sample("price_list.csv"), Kind::PriceList, Some(&packing)).err();
    assert!(
        matches!(err, Some(ImportError::ProfileKindMismatch { .. })),
        "{err:?}"
    );

    let mut sheet = Profile::new("sheet", Kind::PackingList);
    sheet.sheet = Some("Sheet9".into());
    let err = open_path(
        &sample("packing_list.xlsx"),
        Kind::PackingList,
        Some(&sheet),
    )
    .err();
    match err {
        Some(ImportError::SheetNotFound { available, .. }) => {
            assert_eq!(available, vec!["Packing List"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn files_that_are_empty_unknown_or_damaged_are_import_errors() {
    let empty = open_bytes(Vec::new(), "x.csv", Kind::PriceList, None).err();
    assert!(
        matches!(empty, Some(ImportError::Empty { .. })),
        "{empty:?}"
    );

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let unknown = open_bytes(png, "photo.png", Kind::PriceList, None).err();
    assert!(
        matches!(unknown, Some(ImportError::UnknownFormat { .. })),
        "{unknown:?}"
    );

    let mut xlsx = std::fs::read(sample("price_list.xlsx")).unwrap_or_else(|e| panic!("{e}"));
    xlsx.truncate(xlsx.len() / 2);
    let damaged = open_bytes(xlsx, "price_list.xlsx", Kind::PriceList, None).err();
    assert!(
        matches!(damaged, Some(ImportError::Unreadable { .. })),
        "{damaged:?}"
    );

    let prose = b"Dear customer,\nplease find our prices attached.\n".to_vec();
    let no_header = open_bytes(prose, "notes.csv", Kind::PriceList, None).err();
    assert!(
        matches!(no_header, Some(ImportError::NoHeaderRow { .. })),
        "{no_header:?}"
    );

    let missing = open_path(&sample("no_such_file.csv"), Kind::PriceList, None).err();
    assert!(
        matches!(missing, Some(ImportError::Io { .. })),
        "{missing:?}"
    );
}
