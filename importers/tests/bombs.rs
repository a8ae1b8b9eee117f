//! Decompression bombs and oversized files of every format are refused with an
//! error naming the cap; files just under the caps are read.

mod common;

use common::bombs;
use rackledger_importers::{
    ImportError, Kind, Limit, LimitExceeded, Limits, Parsed, Reader, codes, open_bytes,
    open_bytes_with,
};

fn refused(result: Result<Reader, ImportError>) -> LimitExceeded {
    match result {
        Err(ImportError::TooLarge(l)) => l,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(reader) => {
            // A cap met while streaming ends the rows with a limit error.
            let rows: Vec<Parsed> = reader_rows(reader);
            panic!("not refused: {} rows", rows.len())
        }
    }
}

fn reader_rows(reader: Reader) -> Vec<Parsed> {
    reader.collect()
}

/// Reads every row; returns the cap the reader stopped at, if any.
fn stopped_at(mut reader: Reader) -> (usize, Option<LimitExceeded>) {
    let mut last_code = None;
    let mut rows = 0;
    for parsed in reader.by_ref() {
        rows += 1;
        last_code = parsed.result.err().map(|e| e.code);
    }
    let hit = reader.limit_exceeded();
    if hit.is_some() {
        assert_eq!(last_code, Some(codes::LIMIT_EXCEEDED));
    }
    (rows, hit)
}

#[test]
fn an_xlsx_cell_that_inflates_to_64_mib_is_refused_naming_the_cell_cap() {
    let bytes = bombs::huge_inline_cell(64);
    assert!(bytes.len() < 200_000, "the bomb is small: {}", bytes.len());
    let l = refused(open_bytes(bytes, "b.xlsx", Kind::PriceList, None));
    assert_eq!((l.limit, l.max), (Limit::CellChars, 32_767));
    assert!(l.to_string().contains("32767"), "{l}");
}

#[test]
fn a_shared_strings_bomb_is_refused_by_counting_the_strings_not_trusting_the_declaration() {
    let bytes = bombs::shared_strings_bomb(2_000_000);
    let l = refused(open_bytes(bytes, "b.xlsx", Kind::PriceList, None));
    assert_eq!((l.limit, l.max), (Limit::SharedStrings, 1_000_000));
}

#[test]
fn a_shared_strings_part_over_its_byte_cap_is_refused() {
    let limits = Limits {
        shared_strings_bytes: 1 << 20,
        ..Limits::default()
    };
    let bytes = bombs::shared_strings_bomb(200_000);
    let l = refused(open_bytes_with(
        bytes,
        "b.xlsx",
        Kind::PriceList,
        None,
        limits,
    ));
    assert_eq!(l.limit, Limit::SharedStringsBytes);
}

#[test]
fn a_sheet_with_more_rows_than_the_cap_is_refused_before_calamine_reads_it() {
    let limits = Limits {
        rows: 10_000,
        ..Limits::default()
    };
    let l = refused(open_bytes_with(
        bombs::many_rows(30_720),
        "b.xlsx",
        Kind::PriceList,
        None,
        limits,
    ));
    assert_eq!((l.limit, l.max), (Limit::Rows, 10_000));
    assert_eq!(l.row, Some(10_001), "names the first row past the cap");
    assert!(l.to_string().ends_with("at row 10001"), "{l}");
}

#[test]
fn a_sheet_just_under_the_row_cap_is_read_whole() {
    // 10 × 1,024 data rows and the header row.
    let limits = Limits {
        rows: 10_241,
        ..Limits::default()
    };
    let reader = open_bytes_with(
        bombs::many_rows(10_240),
        "ok.xlsx",
        Kind::PriceList,
        None,
        limits,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (rows, hit) = stopped_at(reader);
    assert_eq!((rows, hit), (10_240, None));
}

#[test]
fn parts_over_the_total_or_per_part_inflated_caps_are_refused() {
    let limits = Limits {
        total_bytes: 2 << 20,
        ..Limits::default()
    };
    let l = refused(open_bytes_with(
        bombs::many_rows(40_960),
        "b.xlsx",
        Kind::PriceList,
        None,
        limits,
    ));
    assert_eq!(l.limit, Limit::ZipTotalBytes);

    let limits = Limits {
        sheet_part_bytes: 1 << 20,
        ..Limits::default()
    };
    let l = refused(open_bytes_with(
        bombs::many_rows(40_960),
        "b.xlsx",
        Kind::PriceList,
        None,
        limits,
    ));
    assert_eq!((l.limit, l.shown()), (Limit::ZipEntryBytes, 1));

    // A picture is only counted, never parsed: 64 MiB of zeros goes over the
    // cap for parts other than sheets (16 MiB).
    let picture = bombs::bomb_entry("xl/media/image1.png", b"", &vec![0u8; 1 << 20], 64, b"");
    let mut entries = vec![picture];
    let sheet = format!("{}{}", bombs::sheet_head(), bombs::SHEET_TAIL);
    entries.push(bombs::entry("xl/worksheets/sheet1.xml", &sheet));
    let l = refused(open_bytes(
        bombs::zip(&entries),
        "b.xlsx",
        Kind::PriceList,
        None,
    ));
    assert_eq!((l.limit, l.shown()), (Limit::ZipEntryBytes, 16));
}

#[test]
fn a_cell_beyond_the_column_cap_is_refused_and_one_at_the_last_column_is_read() {
    let sheet = |col: &str| {
        format!(
            r#"{}<row r="2"><c r="A2" t="inlineStr"><is><t>M1</t></is></c><c r="C2"><v>2</v></c><c r="{col}2" t="inlineStr"><is><t>note</t></is></c></row>{}"#,
            bombs::sheet_head(),
            bombs::SHEET_TAIL
        )
    };
    let file = |col: &str| bombs::xlsx(bombs::entry("xl/worksheets/sheet1.xml", &sheet(col)), None);
    let l = refused(open_bytes(file("IW"), "b.xlsx", Kind::PriceList, None));
    assert_eq!((l.limit, l.max), (Limit::Columns, 256));
    let reader =
        open_bytes(file("IV"), "ok.xlsx", Kind::PriceList, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stopped_at(reader), (1, None));
}

#[test]
fn a_cell_of_exactly_the_cap_is_read_and_one_more_character_is_refused() {
    let sheet = |chars: usize| {
        format!(
            r#"{}<row r="2"><c r="A2" t="inlineStr"><is><t>M1</t></is></c><c r="B2" t="inlineStr"><is><t>{}</t></is></c><c r="C2"><v>2</v></c></row>{}"#,
            bombs::sheet_head(),
            "가".repeat(chars),
            bombs::SHEET_TAIL
        )
    };
    let file = |n| bombs::xlsx(bombs::entry("xl/worksheets/sheet1.xml", &sheet(n)), None);
    let reader = open_bytes(file(32_767), "ok.xlsx", Kind::PriceList, None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stopped_at(reader), (1, None));
    // Korean takes three bytes a character: the scan lets it by, the reader counts.
    let reader =
        open_bytes(file(32_768), "b.xlsx", Kind::PriceList, None).unwrap_or_else(|e| panic!("{e}"));
    let (_, hit) = stopped_at(reader);
    assert_eq!(hit.map(|l| l.limit), Some(Limit::CellChars));
    // The cell is named: row 2, column B.
    assert_eq!(hit.map(|l| (l.row, l.column)), Some((Some(2), Some(1))));
}

#[test]
fn an_ods_whose_repeats_expand_past_the_caps_is_refused() {
    let l = refused(open_bytes(
        bombs::ods_repeat_bomb(1_000_000, 100),
        "b.ods",
        Kind::PriceList,
        None,
    ));
    assert_eq!(l.limit, Limit::TextBytes);
    let l = refused(open_bytes(
        bombs::ods_repeat_bomb(5_000, 250),
        "b.ods",
        Kind::PriceList,
        None,
    ));
    assert_eq!((l.limit, l.max), (Limit::Cells, 1_000_000));
    let l = refused(open_bytes(
        bombs::ods_repeat_bomb(10, 300),
        "b.ods",
        Kind::PriceList,
        None,
    ));
    assert_eq!(l.limit, Limit::Columns);
}

#[test]
fn the_sample_workbooks_pass_every_cap() {
    for name in [
        "price_list.xlsx",
        "price_list.ods",
        "price_list.xls",
        "price_list.csv",
    ] {
        let reader = common::open_upload(name, Kind::PriceList, None);
        let (rows, hit) = stopped_at(reader);
        assert!(rows > 0 && hit.is_none(), "{name}");
    }
}

#[test]
fn a_csv_line_far_over_the_row_cap_is_refused_before_it_is_buffered() {
    let reader = open_bytes(bombs::csv_long_line(8), "b.csv", Kind::PriceList, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, hit) = stopped_at(reader);
    assert_eq!(
        hit.map(|l| (l.limit, l.shown())),
        Some((Limit::RowBytes, 256))
    );
}

#[test]
fn csv_cells_and_rows_have_caps_and_a_cell_at_the_cap_is_read() {
    let csv = |chars: usize| {
        format!(
            "MPN,Manufacturer,Unit Price\n{},Acme,1\n",
            "x".repeat(chars)
        )
    };
    let reader = open_bytes(csv(32_767).into_bytes(), "ok.csv", Kind::PriceList, None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stopped_at(reader), (1, None));
    let reader = open_bytes(csv(32_768).into_bytes(), "b.csv", Kind::PriceList, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let hit = stopped_at(reader).1;
    assert_eq!(hit.map(|l| l.limit), Some(Limit::CellChars));
    assert_eq!(hit.map(|l| (l.row, l.column)), Some((Some(2), Some(0))));
    assert!(
        hit.is_some_and(|l| l.to_string().ends_with("at row 2, column A")),
        "{hit:?}"
    );

    let mut many = String::from("MPN,Manufacturer,Unit Price\n");
    for i in 0..150 {
        many.push_str(&format!("M{i},Acme,1\n"));
    }
    let limits = Limits {
        rows: 100,
        ..Limits::default()
    };
    let reader = open_bytes_with(many.into_bytes(), "b.csv", Kind::PriceList, None, limits)
        .unwrap_or_else(|e| panic!("{e}"));
    let (rows, hit) = stopped_at(reader);
    assert_eq!(hit.map(|l| l.limit), Some(Limit::Rows));
    assert_eq!(
        hit.and_then(|l| l.row),
        Some(101),
        "the first row past the cap"
    );
    assert_eq!(rows, 100, "99 data rows, then the error");
}

#[test]
fn an_error_quotes_at_most_two_hundred_characters_of_a_cell() {
    let csv = format!(
        "MPN,Manufacturer,Unit Price\nM1,Acme,{}\n",
        "z".repeat(30_000)
    );
    let mut reader = open_bytes(csv.into_bytes(), "e.csv", Kind::PriceList, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let error = reader
        .next()
        .and_then(|p| p.result.err())
        .unwrap_or_else(|| panic!("the price is not a number"));
    assert_eq!(error.code, codes::BAD_NUMBER);
    assert!(error.detail.len() < 300, "{} bytes", error.detail.len());
    assert!(
        error.detail.contains(&format!("{}…", "z".repeat(200))),
        "{}",
        error.detail
    );
}
