//! CSV: encoding and delimiter detection, then a row-by-row stream.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use encoding_rs::{EUC_KR, Encoding, UTF_8};

use crate::error::ImportError;
use crate::formats::cell::{Cell, RawRow, RowSource, SourceError};
use crate::formats::decode::{DecodingReader, Utf8Scan, count_lines, guess_encoding};
use crate::headers::{HeaderMatch, SCAN_ROWS, best_score, find_header};
use crate::limits::{Limit, LimitExceeded, Limits};
use crate::model::{Format, Kind};
use crate::profile::Profile;

/// Delimiters tried when the profile names none, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The most decoded text read to find the header row and delimiter.
const MAX_SAMPLE_BYTES: usize = 1 << 20;

/// Where CSV bytes come from.
pub(crate) enum CsvInput {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

/// An opened CSV: its rows, header, delimiter and line count.
pub(crate) struct CsvOpened {
    pub source: Box<dyn RowSource>,
    pub header: HeaderMatch,
    pub delimiter: u8,
    /// Lines in the file, when the encoding lets them be counted cheaply.
    pub lines: Option<usize>,
}

/// Opens CSV input: picks encoding and delimiter, finds the header, and streams the rest.
pub(crate) fn open_csv(
    input: CsvInput,
    kind: Kind,
    profile: Option<&Profile>,
    limits: &Limits,
) -> Result<CsvOpened, ImportError> {
    let forced = match profile.and_then(|p| p.encoding.as_deref()) {
        Some(label) => Some(
            Encoding::for_label(label.trim().as_bytes())
                .ok_or_else(|| ImportError::BadProfile(format!("unknown encoding {label:?}")))?,
        ),
        None => None,
    };
    let (raw, encoding, lines): (Box<dyn Read + Send>, &'static Encoding, Option<usize>) =
        match input {
            CsvInput::Bytes(bytes) => {
                let encoding = forced.unwrap_or_else(|| guess_encoding(&bytes, true));
                let lines = encoding.is_ascii_compatible().then(|| count_lines(&bytes));
                (Box::new(Cursor::new(bytes)), encoding, lines)
            }
            CsvInput::Path(path) => {
                let (guessed, scan) = scan_file(&path)?;
                let encoding = forced.unwrap_or(guessed);
                let file = File::open(&path).map_err(|source| ImportError::Io { path, source })?;
                (
                    Box::new(file),
                    encoding,
                    encoding.is_ascii_compatible().then(|| scan.lines()),
                )
            }
        };
    let mut decoded = DecodingReader::new(raw, encoding);
    let wanted_lines = SCAN_ROWS.max(profile.and_then(|p| p.header_row).unwrap_or(0)) + 1;
    let sample = read_sample(&mut decoded, wanted_lines)?;

    let (delimiter, rows) = choose_delimiter(&sample, kind, profile);
    let header = find_header(&rows, kind, profile)?;

    let stream: Box<dyn Read + Send> = Box::new(Cursor::new(sample).chain(decoded));
    Ok(CsvOpened {
        source: Box::new(CsvSource::new(stream, delimiter).capped(limits)),
        header,
        delimiter,
        lines,
    })
}

/// The profile's delimiter, or the one under which a row matches the most headers.
fn choose_delimiter(sample: &[u8], kind: Kind, profile: Option<&Profile>) -> (u8, Vec<RawRow>) {
    let candidates: Vec<u8> = match profile.and_then(|p| p.delimiter) {
        // validate() keeps the delimiter ASCII, so it fits a byte.
        Some(d) => vec![u8::try_from(u32::from(d)).unwrap_or(b',')],
        None => DELIMITERS.to_vec(),
    };
    let mut best: Option<((usize, usize), u8, Vec<RawRow>)> = None;
    for delimiter in candidates {
        let rows = sample_rows(sample, delimiter);
        let score = best_score(&rows, kind, profile);
        if best.as_ref().is_none_or(|(s, ..)| score > *s) {
            best = Some((score, delimiter, rows));
        }
    }
    best.map_or((b',', Vec::new()), |(_, delimiter, rows)| (delimiter, rows))
}

/// Reads the whole file once in chunks to check UTF-8 and count lines, without
/// holding it in memory.
fn scan_file(path: &Path) -> Result<(&'static Encoding, Utf8Scan), ImportError> {
    let io_error = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_error)?;
    let mut scan = Utf8Scan::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut head: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut chunk).map_err(io_error)?;
        if n == 0 {
            break;
        }
        if head.len() < 4 {
            head.extend_from_slice(&chunk[..n.min(4)]);
        }
        scan.feed(&chunk[..n]);
    }
    let encoding = match Encoding::for_bom(&head) {
        Some((encoding, _)) => encoding,
        None if scan.finish() => UTF_8,
        None => EUC_KR,
    };
    Ok((encoding, scan))
}

/// Reads decoded text until it holds `lines` line feeds, the end, or the size cap.
fn read_sample(reader: &mut impl Read, lines: usize) -> Result<Vec<u8>, ImportError> {
    let mut sample = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut seen = 0;
    while seen < lines && sample.len() < MAX_SAMPLE_BYTES {
        let n = reader
            .read(&mut chunk)
            .map_err(|e| ImportError::Unreadable {
                format: Format::Csv,
                detail: e.to_string(),
            })?;
        if n == 0 {
            break;
        }
        seen += chunk[..n].iter().filter(|b| **b == b'\n').count();
        sample.extend_from_slice(&chunk[..n]);
    }
    Ok(sample)
}

fn sample_rows(sample: &[u8], delimiter: u8) -> Vec<RawRow> {
    let mut source = CsvSource::new(Box::new(Cursor::new(sample.to_vec())), delimiter);
    let mut rows = Vec::new();
    while let Some(Ok(row)) = source.next_row() {
        rows.push(row);
    }
    rows
}

/// Streams CSV records as raw rows, numbered by the line each starts on.
///
/// The csv crate's own line numbers skip blank lines, so lines are counted here from
/// the byte offsets of line feeds in the text.
struct CsvSource {
    reader: csv::Reader<LineFeeds<Box<dyn Read + Send>>>,
    record: csv::StringRecord,
    /// Line feeds before the current record.
    passed: usize,
    /// The first line after the previous record.
    next_line: usize,
}

/// Remembers where line feeds are in the text that the csv reader has pulled but whose
/// records have not been numbered yet.
///
/// It also measures each record as the text goes by (a quote toggles whether a
/// line feed ends one), and stops before the csv crate buffers a record longer
/// than the cap: the crate holds a whole record, however long.
struct LineFeeds<R> {
    inner: R,
    offset: u64,
    pending: VecDeque<u64>,
    in_quotes: bool,
    record: u64,
    record_max: u64,
    over: Option<LimitExceeded>,
    hit: Option<LimitExceeded>,
}

impl<R: Read> Read for LineFeeds<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.hit.is_some() {
            return Err(std::io::Error::other("over a cap"));
        }
        let n = self.inner.read(buf)?;
        for (i, b) in buf[..n].iter().enumerate() {
            match *b {
                b'\n' => {
                    self.pending.push_back(self.offset + i as u64);
                    if !self.in_quotes {
                        self.record = 0;
                    }
                }
                b'"' => self.in_quotes = !self.in_quotes,
                _ => {}
            }
            self.record += 1;
            if self.record > self.record_max && self.over.is_some() {
                self.hit = self.over;
                return Err(std::io::Error::other("over a cap"));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl CsvSource {
    fn new(input: Box<dyn Read + Send>, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(LineFeeds {
                inner: input,
                offset: 0,
                pending: VecDeque::new(),
                in_quotes: false,
                record: 0,
                record_max: u64::MAX,
                over: None,
                hit: None,
            });
        CsvSource {
            reader,
            record: csv::StringRecord::new(),
            passed: 0,
            next_line: 1,
        }
    }

    /// Refuses records whose text (quotes and delimiters included) is over
    /// twice the row cap; the reader checks the row's own text exactly.
    fn capped(mut self, limits: &Limits) -> Self {
        let feeds = self.reader.get_mut();
        feeds.record_max = limits.row_bytes.saturating_mul(2);
        feeds.over = Some(limits.exceeded(Limit::RowBytes));
        self
    }

    /// Counts the line feeds before byte offset `end`; also says whether the byte just
    /// before `end` is one.
    fn line_feeds_before(&mut self, end: u64) -> (usize, bool) {
        let pending = &mut self.reader.get_mut().pending;
        let mut ends_with_line_feed = false;
        while let Some(at) = pending.front().copied().filter(|at| *at < end) {
            pending.pop_front();
            self.passed += 1;
            ends_with_line_feed = at + 1 == end;
        }
        (self.passed, ends_with_line_feed)
    }
}

impl RowSource for CsvSource {
    fn next_row(&mut self) -> Option<Result<RawRow, SourceError>> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                // The csv crate's positions mark where the previous record ended, before
                // any blank lines, so the start line is worked out back from this
                // record's end: its line feeds, minus those inside it and its own
                // terminator (which with CRLF endings is only counted later).
                let end = self.reader.position().byte();
                let breaks: usize = self.record.iter().map(|f| f.matches('\n').count()).sum();
                let (feeds, terminated) = self.line_feeds_before(end);
                // A record that runs to the end of the file in an unclosed quote has
                // no terminator: its last line feed was counted twice above. It still
                // starts after the previous record ended.
                let number = (feeds.saturating_sub(breaks + usize::from(terminated)) + 1)
                    .max(self.next_line);
                self.next_line = number + 1 + breaks;
                let cells = self.record.iter().map(csv_cell).collect();
                Some(Ok(RawRow {
                    number,
                    span: 1 + breaks,
                    cells,
                }))
            }
            Err(e) => Some(Err(match self.reader.get_ref().hit {
                Some(limit) => SourceError::Limit(limit),
                None => SourceError::Broken(e.to_string()),
            })),
        }
    }
}

/// A CSV field as a cell; Excel's `="00123"` guard against number conversion is undone.
fn csv_cell(field: &str) -> Cell {
    let t = field.trim();
    if t.is_empty() {
        return Cell::Empty;
    }
    match t.strip_prefix("=\"").and_then(|s| s.strip_suffix('"')) {
        Some(inner) => Cell::Text(inner.to_string()),
        None => Cell::Text(t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(text: &str, kind: Kind) -> CsvOpened {
        open_csv(
            CsvInput::Bytes(text.as_bytes().to_vec()),
            kind,
            None,
            &Limits::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_delimiter_is_sniffed_from_the_header_line() {
        let text = "Supplier: Acme, Inc.\nPart No;Description;Unit Price\nA;x, y;1,50\n";
        let csv = opened(text, Kind::PriceList);
        assert_eq!(csv.delimiter, b';');
        assert_eq!(csv.header.row, 2);
        let tabbed = opened("MPN\tSerial\tQty\nA\tS1\t1\n", Kind::PackingList);
        assert_eq!(tabbed.delimiter, b'\t');
    }

    #[test]
    fn records_are_numbered_by_their_starting_line() {
        for text in [
            "MPN,Description,Price\nA,\"two\nlines\",1\nB,x,2\n",
            "MPN,Description,Price\r\nA,\"two\r\nlines\",1\r\nB,x,2",
        ] {
            let mut csv = opened(text, Kind::PriceList);
            let numbers: Vec<(usize, usize)> = std::iter::from_fn(|| csv.source.next_row())
                .filter_map(Result::ok)
                .map(|r| (r.number, r.span))
                .collect();
            assert_eq!(numbers, vec![(1, 1), (2, 2), (4, 1)], "{text:?}");
        }
    }

    #[test]
    fn blank_lines_and_crlf_endings_keep_line_numbers_right() {
        for text in [
            "MPN,Price\r\nA,1\r\n\r\n\r\nB,2\r\n",
            "MPN,Price\nA,1\n\n\nB,2",
        ] {
            let mut csv = opened(text, Kind::PriceList);
            let numbers: Vec<usize> = std::iter::from_fn(|| csv.source.next_row())
                .filter_map(Result::ok)
                .map(|r| r.number)
                .collect();
            assert_eq!(numbers, vec![1, 2, 5], "{text:?}");
        }
    }

    #[test]
    fn excel_text_guards_are_undone() {
        assert_eq!(csv_cell("=\"00123\""), Cell::Text("00123".into()));
        assert_eq!(csv_cell("  "), Cell::Empty);
    }
}
