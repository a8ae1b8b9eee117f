//! Text decoding for CSV: UTF-8 (with or without BOM), UTF-16 with BOM, or CP949.

use std::io::{self, Read};

use encoding_rs::{Decoder, EUC_KR, Encoding, UTF_8};

/// Picks the encoding of CSV bytes: a BOM decides; then valid UTF-8; else CP949
/// (WHATWG "euc-kr", which is Windows code page 949, Korean Excel's default).
///
/// `complete` is false when `bytes` is only the start of the file, so a multi-byte
/// character cut off at the end does not count against UTF-8.
pub(crate) fn guess_encoding(bytes: &[u8], complete: bool) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return encoding;
    }
    if is_utf8(bytes, complete) {
        UTF_8
    } else {
        EUC_KR
    }
}

fn is_utf8(bytes: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        // An incomplete sequence at the very end (error_len None) is fine for a prefix.
        Err(e) => !complete && e.error_len().is_none(),
    }
}

/// Validates UTF-8 across chunk boundaries and counts line feeds, for a file read in
/// pieces.
#[derive(Debug, Default)]
pub(crate) struct Utf8Scan {
    carry: Vec<u8>,
    pub valid: bool,
    pub newlines: usize,
    pub ends_with_newline: bool,
    pub any: bool,
}

impl Utf8Scan {
    pub(crate) fn new() -> Self {
        Utf8Scan {
            valid: true,
            ..Utf8Scan::default()
        }
    }

    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        self.any = true;
        self.newlines += chunk.iter().filter(|b| **b == b'\n').count();
        self.ends_with_newline = chunk.last() == Some(&b'\n');
        if !self.valid {
            return;
        }
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(chunk);
        match std::str::from_utf8(&joined) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => {
                self.carry = joined[e.valid_up_to()..].to_vec();
            }
            Err(_) => self.valid = false,
        }
    }

    /// Lines in the file: line feeds, plus one for a last line without one.
    pub(crate) fn lines(&self) -> usize {
        self.newlines + usize::from(self.any && !self.ends_with_newline)
    }

    pub(crate) fn finish(&self) -> bool {
        self.valid && self.carry.is_empty()
    }
}

/// Counts lines in ASCII-compatible bytes the same way [`Utf8Scan::lines`] does.
pub(crate) fn count_lines(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|b| **b == b'\n').count();
    newlines + usize::from(!bytes.is_empty() && bytes.last() != Some(&b'\n'))
}

/// A reader that turns bytes in any encoding into UTF-8, dropping a BOM; malformed
/// bytes become U+FFFD.
pub(crate) struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    eof: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    done: bool,
}

impl<R: Read> DecodingReader<R> {
    pub(crate) fn new(inner: R, encoding: &'static Encoding) -> Self {
        DecodingReader {
            inner,
            decoder: encoding.new_decoder(),
            input: vec![0; 16 * 1024],
            in_start: 0,
            in_end: 0,
            eof: false,
            output: vec![0; 32 * 1024],
            out_start: 0,
            out_end: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_start < self.out_end {
                let n = buf.len().min(self.out_end - self.out_start);
                buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
                self.out_start += n;
                return Ok(n);
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.in_start = 0;
                self.in_end = n;
                self.eof = n == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.input[self.in_start..self.in_end],
                &mut self.output,
                self.eof,
            );
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && result == encoding_rs::CoderResult::InputEmpty {
                self.done = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], encoding: &'static Encoding) -> String {
        let mut out = String::new();
        let mut reader = DecodingReader::new(bytes, encoding);
        reader
            .read_to_string(&mut out)
            .unwrap_or_else(|e| panic!("{e}"));
        out
    }

    #[test]
    fn cp949_bytes_are_guessed_and_decoded() {
        let (bytes, _, _) = EUC_KR.encode("품번,단가\n");
        assert_eq!(guess_encoding(&bytes, true), EUC_KR);
        assert_eq!(decode_all(&bytes, EUC_KR), "품번,단가\n");
    }

    #[test]
    fn a_utf8_bom_is_dropped() {
        let bytes = b"\xEF\xBB\xBFMPN,Price\n";
        assert_eq!(guess_encoding(bytes, true), UTF_8);
        assert_eq!(decode_all(bytes, UTF_8), "MPN,Price\n");
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "품번\tQty\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let encoding = guess_encoding(&bytes, true);
        assert_eq!(decode_all(&bytes, encoding), "품번\tQty\n");
    }

    #[test]
    fn a_utf8_character_cut_at_the_end_of_a_prefix_is_still_utf8() {
        let bytes = "가나".as_bytes();
        assert_eq!(guess_encoding(&bytes[..4], false), UTF_8);
        assert_eq!(guess_encoding(&bytes[..4], true), EUC_KR);
    }

    #[test]
    fn the_chunked_scan_agrees_with_a_whole_check() {
        let text = "품번,수량\nA,1\n".as_bytes();
        for split in 0..text.len() {
            let mut scan = Utf8Scan::new();
            scan.feed(&text[..split]);
            scan.feed(&text[split..]);
            assert!(scan.finish(), "split at {split}");
            assert_eq!(scan.lines(), 2);
        }
        let (cp949, _, _) = EUC_KR.encode("품번,수량\n");
        let mut scan = Utf8Scan::new();
        scan.feed(&cp949);
        assert!(!scan.finish());
    }
}
