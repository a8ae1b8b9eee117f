//! Large files stream through, and no input makes the reader panic.

mod common;

use std::io::{BufWriter, Write};

use proptest::prelude::*;
use rackledger_importers::{Format, Kind, Row, open_bytes, open_path};
use rust_decimal::dec;
use rust_xlsxwriter::{ExcelDateTime, Workbook, XlsxError};
use time::macros::date;

const CSV_ROWS: usize = 100_000;

#[test]
fn a_hundred_thousand_row_csv_streams_with_every_row_parsed() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("big_packing_list.csv");
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut out = BufWriter::new(file);
    writeln!(out, "Carton,Part Number,Manufacturer,Serial Number,Qty")
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..CSV_ROWS {
        writeln!(
            out,
            "C-{:04},M321R4GA3BB6-CQK,Samsung,S4EMNX0W{i:06},1",
            i / 400
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    out.flush().unwrap_or_else(|e| panic!("{e}"));
    drop(out);

    let mut reader = open_path(&path, Kind::PackingList, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reader.format(), Format::Csv);
    assert_eq!(reader.total_rows(), Some(CSV_ROWS));
    let halfway = reader.by_ref().take(CSV_ROWS / 2).count();
    assert_eq!(halfway, CSV_ROWS / 2);
    assert_eq!(
        reader.rows_read(),
        CSV_ROWS / 2,
        "progress after half the rows"
    );
    let mut last = None;
    let mut ok = halfway;
    for parsed in reader.by_ref() {
        match parsed.result {
            Ok(Row::PackingList(p)) => {
                ok += 1;
                last = Some((parsed.row, p.serial));
            }
            other => panic!("row {}: {other:?}", parsed.row),
        }
    }
    assert_eq!(ok, CSV_ROWS);
    assert_eq!(
        last,
        Some((CSV_ROWS + 1, Some(format!("S4EMNX0W{:06}", CSV_ROWS - 1))))
    );
    assert_eq!(reader.rows_read(), CSV_ROWS);
}

fn big_order_xlsx(rows: u32) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "Purchase order PO-2026-0142")?;
    for (col, header) in [
        "Part No",
        "Description",
        "Qty",
        "Unit Price",
        "Currency",
        "Ship Date",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(2, u16::try_from(col).unwrap_or(0), *header)?;
    }
    let ship = ExcelDateTime::from_ymd(2026, 11, 27)?;
    for i in 0..rows {
        let r = i + 3;
        sheet.write_string(r, 0, format!("MZQL23T8HCLS-{i:05}"))?;
        sheet.write_string(r, 1, "PM9A3 3.84TB NVMe U.2 SSD")?;
        sheet.write_number(r, 2, f64::from(i % 50 + 1))?;
        sheet.write_number(r, 3, 118.5)?;
        sheet.write_string(r, 4, "USD")?;
        sheet.write_datetime_with_format(r, 5, &ship, &date_format)?;
    }
    workbook.save_to_buffer()
}

#[test]
fn a_large_xlsx_streams_with_excel_numbers_and_dates_intact() {
    let rows = 20_000u32;
    let bytes = big_order_xlsx(rows).unwrap_or_else(|e| panic!("{e}"));
    let mut reader = open_bytes(bytes, "po.xlsx", Kind::OrderConfirmation, None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reader.header_row(), 3);
    assert_eq!(reader.total_rows(), Some(rows as usize));
    let mut count = 0;
    for parsed in reader.by_ref() {
        match parsed.result {
            Ok(Row::OrderLine(line)) => {
                count += 1;
                assert_eq!(line.unit_price, dec!(118.5), "row {}", parsed.row);
                assert_eq!(line.date, Some(date!(2026 - 11 - 27)), "row {}", parsed.row);
                assert!((1..=50).contains(&line.quantity));
            }
            other => panic!("row {}: {other:?}", parsed.row),
        }
    }
    assert_eq!(count, rows as usize);
    assert_eq!(reader.rows_read(), rows as usize);
}

#[test]
fn an_xlsx_reader_dropped_half_way_joins_its_thread() {
    let bytes = big_order_xlsx(5_000).unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        let reader = open_bytes(bytes.clone(), "po.xlsx", Kind::OrderConfirmation, None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reader.take(10).count(), 10);
    }
}

fn sample_bytes(name: &str) -> Vec<u8> {
    std::fs::read(common::sample(name)).unwrap_or_else(|e| panic!("{e}"))
}

proptest! {
    // FUZZ_CASES=5000 runs a deeper search than the default 48 cases.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn arbitrary_bytes_never_make_the_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), name in "[a-z]{1,8}\\.(csv|xlsx|xls|ods|bin)") {
        if let Ok(reader) = open_bytes(bytes, &name, Kind::PackingList, None) {
            let _ = reader.count();
        }
    }

    #[test]
    fn damaged_workbooks_never_make_the_reader_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let name = ["packing_list.xlsx", "packing_list.xls", "packing_list.ods", "packing_list.csv"][which];
        let mut bytes = sample_bytes(name);
        for (index, value) in edits {
            let i = index.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(reader) = open_bytes(bytes, name, Kind::PackingList, None) {
            let _ = reader.count();
        }
    }
}
