//! Files crafted to make the spreadsheet parser allocate without bound are refused
//! with an error instead of aborting the process.

mod common;

use std::io::{Cursor, Read, Write};

use rackledger_importers::{ImportError, Kind, Limit, open_bytes};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

fn sample_bytes(name: &str) -> Vec<u8> {
    std::fs::read(common::sample(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Copies an XLSX, letting `edit` change each part's text.
fn rewrite_xlsx(bytes: Vec<u8>, edit: impl Fn(&str, String) -> String) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap_or_else(|e| panic!("{e}"));
        let name = entry.name().unwrap_or_else(|e| panic!("{e}")).to_string();
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{e}"));
        out.start_file(name.as_str(), options)
            .unwrap_or_else(|e| panic!("{e}"));
        out.write_all(edit(&name, text).as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    out.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

#[test]
fn an_xlsx_declaring_a_billion_shared_strings_is_refused() {
    let honest = rewrite_xlsx(sample_bytes("price_list.xlsx"), |_, text| text);
    assert!(
        open_bytes(honest, "p.xlsx", Kind::PriceList, None).is_ok(),
        "the rewrite itself keeps the file valid"
    );

    let bytes = rewrite_xlsx(sample_bytes("price_list.xlsx"), |name, text| {
        if name.ends_with("sharedStrings.xml") {
            let at = text
                .find("uniqueCount=\"")
                .unwrap_or_else(|| panic!("no uniqueCount in {text}"));
            let end = text[at + 13..].find('"').map_or(at + 13, |e| at + 13 + e);
            format!("{}uniqueCount=\"900000000000{}", &text[..at], &text[end..])
        } else {
            text
        }
    });
    let err = open_bytes(bytes, "p.xlsx", Kind::PriceList, None).err();
    match err {
        Some(ImportError::TooLarge(l)) => assert_eq!(l.limit, Limit::SharedStrings),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_xls_whose_dimensions_claim_four_billion_rows_is_refused() {
    let mut bytes = sample_bytes("packing_list.xls");
    assert!(open_bytes(bytes.clone(), "p.xls", Kind::PackingList, None).is_ok());
    let at = bytes
        .windows(4)
        .position(|w| w == [0x00, 0x02, 0x0E, 0x00])
        .unwrap_or_else(|| panic!("no DIMENSIONS record in the sample"));
    bytes[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = open_bytes(bytes, "p.xls", Kind::PackingList, None).err();
    match err {
        Some(ImportError::TooLarge(l)) => assert_eq!(l.limit, Limit::Cells),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_xls_with_cells_far_apart_is_refused() {
    let mut bytes = sample_bytes("packing_list.xls");
    // The first LABELSST cell record: type 0x00FD, length 10, then row and column.
    let at = bytes
        .windows(4)
        .position(|w| w == [0xFD, 0x00, 0x0A, 0x00])
        .unwrap_or_else(|| panic!("no LABELSST record in the sample"));
    bytes[at + 4..at + 8].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let err = open_bytes(bytes, "p.xls", Kind::PackingList, None).err();
    match err {
        Some(ImportError::TooLarge(l)) => {
            assert!(matches!(l.limit, Limit::Columns | Limit::Cells), "{l}")
        }
        other => panic!("{other:?}"),
    }
}
