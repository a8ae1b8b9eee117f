//! Format detection from the first bytes of a file, falling back to its extension.

use crate::model::Format;

/// How many leading bytes [`detect_format`] needs to see.
pub const SNIFF_BYTES: usize = 8192;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

/// Detects a sheet's format from its first bytes (up to [`SNIFF_BYTES`]) and name.
///
/// A zip is ODS when its `mimetype` entry says so, and XLSX otherwise; an OLE2
/// container is XLS; text (no NUL bytes, or a UTF-16 byte order mark) is CSV.
/// Anything else is judged by the extension; `None` when that does not help either.
pub fn detect_format(head: &[u8], file_name: &str) -> Option<Format> {
    let by_extension = format_from_extension(file_name);
    if head.starts_with(ZIP_MAGIC) {
        if contains(head, ODS_MIMETYPE) {
            return Some(Format::Ods);
        }
        if contains(head, b"[Content_Types].xml") || contains(head, b"xl/") {
            return Some(Format::Xlsx);
        }
        return Some(match by_extension {
            Some(Format::Ods) => Format::Ods,
            _ => Format::Xlsx,
        });
    }
    if head.starts_with(OLE2_MAGIC) {
        return Some(Format::Xls);
    }
    let utf16_bom = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
    if !head.is_empty() && (utf16_bom || !head.contains(&0)) {
        return Some(Format::Csv);
    }
    by_extension
}

/// The format a file name's extension suggests.
pub fn format_from_extension(file_name: &str) -> Option<Format> {
    let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "tsv" | "txt" => Some(Format::Csv),
        "xlsx" | "xlsm" => Some(Format::Xlsx),
        "xls" => Some(Format::Xls),
        "ods" => Some(Format::Ods),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_before_the_extension() {
        let mut ods = b"PK\x03\x04".to_vec();
        ods.extend_from_slice(&[0; 26]);
        ods.extend_from_slice(b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet");
        assert_eq!(detect_format(&ods, "list.xlsx"), Some(Format::Ods));
        let xlsx = b"PK\x03\x04\x14\0\0\0[Content_Types].xml".to_vec();
        assert_eq!(detect_format(&xlsx, "list.ods"), Some(Format::Xlsx));
        assert_eq!(detect_format(OLE2_MAGIC, "list.xlsx"), Some(Format::Xls));
        assert_eq!(
            detect_format(b"MPN,Price\nA,1\n", "list.xlsx"),
            Some(Format::Csv)
        );
    }

    #[test]
    fn binary_that_is_not_a_workbook_falls_back_to_the_extension() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(detect_format(png, "photo.png"), None);
        assert_eq!(detect_format(png, "list.xls"), Some(Format::Xls));
        let bare_zip = b"PK\x03\x04\0\0\0\0other.bin";
        assert_eq!(detect_format(bare_zip, "x.ods"), Some(Format::Ods));
        assert_eq!(detect_format(bare_zip, "x.zip"), Some(Format::Xlsx));
    }

    #[test]
    fn utf16_text_is_csv() {
        assert_eq!(
            detect_format(&[0xFF, 0xFE, b'M', 0], "x"),
            Some(Format::Csv)
        );
    }
}
