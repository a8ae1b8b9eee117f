//! Hostile workbooks built in memory: decompression bombs whose parts inflate far
//! beyond the file's own size. Shared with the app's tests (`tests/bombs.rs`).
#![allow(dead_code)]

use flate2::{Compress, Compression, FlushCompress};

/// Raw deflate of `prefix`, `repeat` copies of `chunk`, then `suffix`, without ever
/// holding the inflated text: each piece is compressed alone and ends in a full
/// flush (byte-aligned, no back-references), so the pieces can be concatenated
/// and the chunk's compressed bytes repeated.
pub fn deflate_repeated(prefix: &[u8], chunk: &[u8], repeat: usize, suffix: &[u8]) -> Vec<u8> {
    let piece = |data: &[u8], flush| {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() + 4096);
        c.compress_vec(data, &mut out, flush)
            .unwrap_or_else(|e| panic!("{e}"));
        out
    };
    let middle = piece(chunk, FlushCompress::Full);
    let mut out = piece(prefix, FlushCompress::Full);
    for _ in 0..repeat {
        out.extend_from_slice(&middle);
    }
    out.extend(piece(suffix, FlushCompress::Finish));
    out
}

/// One zip entry: its name, deflated bytes, the inflated size it declares
/// and its CRC-32 (0 for a bomb, which no reader reaches the end of).
pub struct Entry {
    pub name: String,
    pub deflated: Vec<u8>,
    pub declared: u32,
    pub crc: u32,
}

/// A deflated entry from whole text (declares its true size and CRC).
pub fn entry(name: &str, text: &str) -> Entry {
    Entry {
        name: name.to_string(),
        deflated: deflate_repeated(text.as_bytes(), b"", 0, b""),
        declared: u32::try_from(text.len()).unwrap_or(u32::MAX),
        crc: crc32fast::hash(text.as_bytes()),
    }
}

/// A bomb entry: `prefix`, `repeat` × `chunk`, `suffix`, declaring its true
/// size (the zip crate reads no further than the declared size).
pub fn bomb_entry(name: &str, prefix: &[u8], chunk: &[u8], repeat: usize, suffix: &[u8]) -> Entry {
    let size = prefix.len() as u64 + chunk.len() as u64 * repeat as u64 + suffix.len() as u64;
    // A file small enough to be read to its end needs its true CRC.
    let crc = if size <= 256 << 20 {
        let mut h = crc32fast::Hasher::new();
        h.update(prefix);
        for _ in 0..repeat {
            h.update(chunk);
        }
        h.update(suffix);
        h.finalize()
    } else {
        0
    };
    Entry {
        name: name.to_string(),
        deflated: deflate_repeated(prefix, chunk, repeat, suffix),
        declared: u32::try_from(size).unwrap_or(u32::MAX),
        crc,
    }
}

/// Writes a zip by hand.
pub fn zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let name = e.name.as_bytes();
        let csize = u32::try_from(e.deflated.len()).unwrap_or(u32::MAX);
        let nlen = u16::try_from(name.len()).unwrap_or(u16::MAX);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&8u16.to_le_bytes()); // deflate
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            v.extend_from_slice(&e.crc.to_le_bytes());
            v.extend_from_slice(&csize.to_le_bytes());
            v.extend_from_slice(&e.declared.to_le_bytes());
            v.extend_from_slice(&nlen.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name);
        out.extend_from_slice(&e.deflated);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
    let cd_size = u32::try_from(central.len()).unwrap_or(u32::MAX);
    out.extend(central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// An XLSX around one worksheet part and, if given, a shared-strings part.
pub fn xlsx(sheet: Entry, shared_strings: Option<Entry>) -> Vec<u8> {
    let types = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{}</Types>"#,
        if shared_strings.is_some() {
            r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#
        } else {
            ""
        }
    );
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let workbook_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
    );
    let mut entries = vec![
        entry("[Content_Types].xml", &types),
        entry("_rels/.rels", &rels),
        entry("xl/workbook.xml", &workbook),
        entry("xl/_rels/workbook.xml.rels", &workbook_rels),
    ];
    if let Some(s) = shared_strings {
        entries.push(s);
    }
    entries.push(sheet);
    zip(&entries)
}

/// The start of a price-list sheet: its header row (MPN, Manufacturer, Unit Price).
pub fn sheet_head() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>MPN</t></is></c><c r="B1" t="inlineStr"><is><t>Manufacturer</t></is></c><c r="C1" t="inlineStr"><is><t>Unit Price</t></is></c></row>"#
    )
}

/// The end of a sheet.
pub const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// An XLSX whose second row holds one inline cell of `chars` repeated `A`s
/// (in steps of 1 MiB).
pub fn huge_inline_cell(mib: usize) -> Vec<u8> {
    let prefix = format!(
        r#"{}<row r="2"><c r="A2" t="inlineStr"><is><t>"#,
        sheet_head()
    );
    let suffix = format!("</t></is></c></row>{SHEET_TAIL}");
    let chunk = vec![b'A'; 1 << 20];
    let sheet = bomb_entry(
        "xl/worksheets/sheet1.xml",
        prefix.as_bytes(),
        &chunk,
        mib,
        suffix.as_bytes(),
    );
    xlsx(sheet, None)
}

/// An XLSX whose shared-strings part holds `count` one-letter strings (no
/// declared count), and whose sheet uses the first.
pub fn shared_strings_bomb(count: usize) -> Vec<u8> {
    let prefix = format!(r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">"#);
    let per_chunk = 4096;
    let chunk = "<si><t>x</t></si>".repeat(per_chunk);
    let strings = bomb_entry(
        "xl/sharedStrings.xml",
        prefix.as_bytes(),
        chunk.as_bytes(),
        count / per_chunk,
        b"</sst>",
    );
    let sheet = format!(
        r#"{}<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="inlineStr"><is><t>Acme</t></is></c><c r="C2"><v>1</v></c></row>{SHEET_TAIL}"#,
        sheet_head()
    );
    xlsx(entry("xl/worksheets/sheet1.xml", &sheet), Some(strings))
}

/// An XLSX with `rows` data rows of one price-list line each (rows carry no
/// `r` numbers, as some writers do).
pub fn many_rows(rows: usize) -> Vec<u8> {
    let per_chunk = 1024;
    let chunk = r#"<row><c t="inlineStr"><is><t>M1</t></is></c><c t="inlineStr"><is><t>Acme</t></is></c><c><v>1.5</v></c></row>"#
        .repeat(per_chunk);
    let sheet = bomb_entry(
        "xl/worksheets/sheet1.xml",
        sheet_head().as_bytes(),
        chunk.as_bytes(),
        rows / per_chunk,
        SHEET_TAIL.as_bytes(),
    );
    xlsx(sheet, None)
}

/// An ODS whose one string cell is repeated over `rows` rows × `cols` columns.
pub fn ods_repeat_bomb(rows: u64, cols: u64) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row><table:table-cell office:value-type="string"><text:p>MPN</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Unit Price</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="{rows}"><table:table-cell office:value-type="string" table:number-columns-repeated="{cols}"><text:p>M321R4GA3BB6-CQK</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    let mimetype = entry("mimetype", "application/vnd.oasis.opendocument.spreadsheet");
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip(&[
        mimetype,
        entry("META-INF/manifest.xml", manifest),
        entry("content.xml", &content),
    ])
}

/// A CSV whose second line is one cell of `mib` MiB.
pub fn csv_long_line(mib: usize) -> Vec<u8> {
    let mut out = b"MPN,Manufacturer,Unit Price\n".to_vec();
    out.extend(std::iter::repeat_n(b'A', mib << 20));
    out.extend_from_slice(b",Acme,1\n");
    out
}
