//! Summary rows (`Total`, `합계`, `小计` …) at the foot of a sheet are not data
//! and not errors: they are counted and named apart.

use rackledger_importers::{Kind, Parsed, Row, open_bytes};

fn read(csv: &str, kind: Kind) -> (Vec<Parsed>, usize, Vec<usize>) {
    let mut reader = open_bytes(csv.as_bytes().to_vec(), "list.csv", kind, None).unwrap();
    let rows: Vec<Parsed> = reader.by_ref().collect();
    let named = reader.summary_row_numbers().to_vec();
    (rows, reader.summary_rows(), named)
}

#[test]
fn a_packing_list_with_a_total_row_reads_clean_and_names_the_total_row() {
    let csv = "Carton No,Part Number,Manufacturer,Serial Number,Qty\n\
               C-001,M321R4GA3BB6-CQK,Samsung,S4SUM0001,1\n\
               C-001,M321R4GA3BB6-CQK,Samsung,S4SUM0002,1\n\
               Total,,,,2\n";
    let (rows, summaries, named) = read(csv, Kind::PackingList);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|p| p.result.is_ok()), "{rows:?}");
    assert_eq!((summaries, named), (1, vec![4]));
}

#[test]
fn korean_chinese_and_japanese_total_rows_on_a_price_list_are_not_errors() {
    let csv = "Manufacturer,Part Number,Description,Category,Unit Price,Currency\n\
               Samsung,M321R4GA3BB6-CQK,32GiB RDIMM,memory,118.50,USD\n\
               소계,,,,118.50,USD\n\
               ,小计,,,118.50,USD\n\
               ,,総計,,118.50,USD\n\
               합계:,,,,118.50,USD\n\
               Grand Total (USD),,,,118.50,\n";
    let (rows, summaries, named) = read(csv, Kind::PriceList);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].result.is_ok());
    assert_eq!((summaries, named), (5, vec![3, 4, 5, 6, 7]));
}

#[test]
fn a_data_row_whose_description_says_total_stays_data() {
    let csv = "Manufacturer,Part Number,Description,Category,Unit Price,Currency\n\
               ,M321R4GA3BB6-CQK,Total memory 64GB kit,memory,118.50,USD\n\
               ,MZQL23T8HCLS-00A07,Total,nvme,389.00,USD\n\
               Total,,missing part number,,1.00,USD\n";
    let (rows, summaries, _) = read(csv, Kind::PriceList);
    assert_eq!(
        summaries, 1,
        "only the row without a part number is a total"
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mpns: Vec<String> = rows
        .into_iter()
        .map(|p| match p.result {
            Ok(Row::PriceList(r)) => r.mpn,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(mpns, ["M321R4GA3BB6-CQK", "MZQL23T8HCLS-00A07"]);
}

#[test]
fn a_total_row_with_a_serial_is_a_data_row() {
    let csv = "Carton No,Part Number,Manufacturer,Serial Number,Qty\n\
               Total,,Samsung,S4SUM0003,1\n";
    let (rows, summaries, _) = read(csv, Kind::PackingList);
    assert_eq!(summaries, 0);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].result.is_err(), "its missing part number is named");
}
