//! Every kind in every format, read from importers/samples/.

mod common;

use common::{ok_rows, open, open_upload};
use rackledger_importers::{Field, Format, Kind, OrderLineRow, PackingListRow, PriceListRow, Row};
use rust_decimal::Decimal;
use rust_decimal::dec;
use time::macros::date;

fn price_rows(rows: Vec<(usize, Row)>) -> Vec<PriceListRow> {
    rows.into_iter()
        .map(|(_, r)| match r {
            Row::PriceList(p) => p,
            other => panic!("expected a price list row, got {other:?}"),
        })
        .collect()
}

fn order_rows(rows: Vec<(usize, Row)>) -> Vec<OrderLineRow> {
    rows.into_iter()
        .map(|(_, r)| match r {
            Row::OrderLine(o) => o,
            other => panic!("expected an order line, got {other:?}"),
        })
        .collect()
}

fn packing_rows(rows: Vec<(usize, Row)>) -> Vec<PackingListRow> {
    rows.into_iter()
        .map(|(_, r)| match r {
            Row::PackingList(p) => p,
            other => panic!("expected a packing list row, got {other:?}"),
        })
        .collect()
}

const MPNS: [&str; 6] = [
    "M321R4GA3BB6-CQK",
    "MZQL23T8HCLS-00A07",
    "MCX631432AN-ADAB",
    "100-000001463",
    "SEDC600M/960G",
    "DAC-SFP28-1M",
];

fn usd_prices() -> Vec<Decimal> {
    vec![
        dec!(118.50),
        dec!(389.00),
        dec!(412.00),
        dec!(2730.00),
        dec!(128.40),
        dec!(12.50),
    ]
}

#[test]
fn english_price_lists_read_the_same_from_csv_xlsx_and_ods() {
    for (name, format) in [
        ("price_list.csv", Format::Csv),
        ("price_list.xlsx", Format::Xlsx),
        ("price_list.ods", Format::Ods),
    ] {
        let reader = open(name, Kind::PriceList, None);
        assert_eq!(reader.format(), format, "{name}");
        assert_eq!(reader.header_row(), 1, "{name}");
        let rows = price_rows(ok_rows(reader));
        assert_eq!(
            rows.iter().map(|r| r.mpn.as_str()).collect::<Vec<_>>(),
            MPNS,
            "{name}"
        );
        assert_eq!(
            rows.iter().map(|r| r.unit_price).collect::<Vec<_>>(),
            usd_prices(),
            "{name}"
        );
        assert!(
            rows.iter().all(|r| r.currency.as_deref() == Some("USD")),
            "{name}"
        );
        assert_eq!(rows[0].manufacturer.as_deref(), Some("Samsung"), "{name}");
        assert_eq!(
            rows[0].description.as_deref(),
            Some("32GiB DDR5-4800 ECC RDIMM 2Rx8"),
            "{name}"
        );
        assert_eq!(rows[5].category.as_deref(), Some("cable"), "{name}");
    }
}

#[test]
fn korean_headers_in_an_xls_price_list_are_recognised() {
    let reader = open("price_list.xls", Kind::PriceList, None);
    assert_eq!(reader.format(), Format::Xls);
    let mapping = reader.mapping().to_vec();
    assert!(
        mapping.contains(&(Field::Mpn, "품번".to_string())),
        "{mapping:?}"
    );
    assert!(
        mapping.contains(&(Field::UnitPrice, "단가".to_string())),
        "{mapping:?}"
    );
    assert!(
        mapping.contains(&(Field::Manufacturer, "제조사".to_string())),
        "{mapping:?}"
    );
    let rows = price_rows(ok_rows(reader));
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].unit_price, dec!(171800));
    assert_eq!(rows[3].mpn, "100-000001463");
    assert!(rows.iter().all(|r| r.currency.as_deref() == Some("KRW")));
}

#[test]
fn a_cp949_csv_with_korean_headers_and_won_signs_is_decoded() {
    let rows = price_rows(ok_rows(open_upload(
        "price_list_cp949.csv",
        Kind::PriceList,
        None,
    )));
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[0].unit_price,
        dec!(172000),
        "full-width won sign and thousands comma"
    );
    assert_eq!(rows[1].unit_price, dec!(564000), "a trailing 원");
    assert_eq!(rows[2].unit_price, dec!(597400));
    assert_eq!(
        rows[0].description.as_deref(),
        Some("32GiB DDR5-4800 ECC RDIMM 2Rx8")
    );
    assert!(rows.iter().all(|r| r.currency.as_deref() == Some("KRW")));
}

#[test]
fn a_bom_semicolon_csv_with_decimal_commas_reads_euro_prices() {
    let reader = open(
        "price_list_bom_semicolon_decimal_comma.csv",
        Kind::PriceList,
        None,
    );
    assert_eq!(reader.csv_delimiter(), Some(';'));
    assert_eq!(reader.decimal_comma(), Some(true));
    assert_eq!(
        reader.mapping().first(),
        Some(&(Field::Manufacturer, "Mfr".to_string())),
        "the BOM is not part of the first header"
    );
    let rows = price_rows(ok_rows(reader));
    assert_eq!(
        rows.iter().map(|r| r.unit_price).collect::<Vec<_>>(),
        vec![
            dec!(109.90),
            dec!(389.00),
            dec!(412.00),
            dec!(2730.00),
            dec!(128.40),
            dec!(12.50)
        ]
    );
    assert!(rows.iter().all(|r| r.currency.as_deref() == Some("EUR")));
    assert_eq!(
        rows[3].category.as_deref(),
        Some("cpu"),
        "Type is the category"
    );
}

fn assert_order_confirmation(name: &str, format: Format) {
    let reader = open(name, Kind::OrderConfirmation, None);
    assert_eq!(reader.format(), format, "{name}");
    assert_eq!(reader.header_row(), 5, "{name}: the title block is skipped");
    let mapping = reader.mapping().to_vec();
    for expected in [
        (Field::Mpn, "Part No."),
        (Field::Description, "Description"),
        (Field::Quantity, "Q'ty"),
        (Field::UnitPrice, "Unit Price (USD)"),
        (Field::Date, "Ship Date"),
    ] {
        assert!(
            mapping.contains(&(expected.0, expected.1.to_string())),
            "{name}: {mapping:?}"
        );
    }
    let rows = ok_rows(reader);
    assert_eq!(
        rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        vec![6, 7, 8, 9, 10],
        "{name}"
    );
    let lines = order_rows(rows);
    assert_eq!(
        lines.iter().map(|l| l.quantity).collect::<Vec<_>>(),
        vec![400, 96, 24, 48, 48],
        "{name}"
    );
    assert_eq!(lines[0].unit_price, dec!(118.5), "{name}");
    assert_eq!(lines[3].unit_price, dec!(2730), "{name}");
    assert_eq!(lines[3].mpn, "100-000001463", "{name}");
    assert!(
        lines.iter().all(|l| l.currency.as_deref() == Some("USD")),
        "{name}: currency from the header"
    );
    assert_eq!(lines[0].date, Some(date!(2026 - 11 - 27)), "{name}");
    assert_eq!(lines[2].date, Some(date!(2026 - 12 - 04)), "{name}");
    assert_eq!(lines[2].manufacturer.as_deref(), Some("Mellanox"), "{name}");
}

#[test]
fn an_xlsx_order_confirmation_is_found_below_its_title_block_and_after_a_cover_sheet() {
    assert_order_confirmation("order_confirmation.xlsx", Format::Xlsx);
}

#[test]
fn an_xls_order_confirmation_reads_excel_numbers_and_date_cells() {
    assert_order_confirmation("order_confirmation.xls", Format::Xls);
}

#[test]
fn an_ods_order_confirmation_reads_numbers_and_dates() {
    assert_order_confirmation("order_confirmation.ods", Format::Ods);
}

#[test]
fn a_csv_order_confirmation_reads_like_the_workbooks() {
    assert_order_confirmation("order_confirmation.csv", Format::Csv);
}

fn assert_packing_list(name: &str, format: Format) {
    let reader = open_upload(name, Kind::PackingList, None);
    assert_eq!(reader.format(), format, "{name}");
    assert_eq!(reader.total_rows(), Some(9), "{name}");
    let rows = ok_rows(reader);
    assert_eq!(rows.first().map(|(n, _)| *n), Some(2), "{name}");
    let lines = packing_rows(rows);
    assert_eq!(lines.len(), 9, "{name}");
    assert_eq!(lines[0].serial.as_deref(), Some("S4EMNX0W123456"), "{name}");
    assert_eq!(lines[0].carton.as_deref(), Some("C-001"), "{name}");
    assert_eq!(lines[0].quantity, 1, "{name}");
    assert_eq!(lines[7].serial.as_deref(), Some("9M12345N30123"), "{name}");
    assert_eq!(lines[8].mpn, "DAC-SFP28-1M", "{name}");
    assert_eq!(lines[8].serial, None, "{name}: cables are counted");
    assert_eq!(lines[8].quantity, 10, "{name}");
}

#[test]
fn a_tab_separated_packing_list_is_read() {
    assert_packing_list("packing_list.csv", Format::Csv);
    assert_eq!(
        open("packing_list.csv", Kind::PackingList, None).csv_delimiter(),
        Some('\t')
    );
}

#[test]
fn an_xlsx_packing_list_is_read() {
    assert_packing_list("packing_list.xlsx", Format::Xlsx);
}

#[test]
fn an_xls_packing_list_is_read() {
    assert_packing_list("packing_list.xls", Format::Xls);
}

#[test]
fn an_ods_packing_list_is_read() {
    assert_packing_list("packing_list.ods", Format::Ods);
}

#[test]
fn progress_counts_every_data_row_once_reading_ends() {
    for name in [
        "packing_list.csv",
        "packing_list.xlsx",
        "packing_list.xls",
        "packing_list.ods",
    ] {
        let mut reader = open(name, Kind::PackingList, None);
        assert_eq!(reader.rows_read(), 0, "{name}");
        assert!(reader.next().is_some());
        assert_eq!(reader.rows_read(), 1, "{name}");
        let rest = reader.by_ref().count();
        assert_eq!(rest, 8, "{name}");
        assert_eq!(reader.rows_read(), 9, "{name}");
        assert_eq!(reader.blank_rows(), 0, "{name}");
    }
}
