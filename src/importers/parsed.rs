//! The rows of the last workbook a preview read, kept for the commit that
//! usually follows it.
//!
//! Reading a workbook is most of what a preview costs: calamine unpacks and
//! parses the whole sheet (a third of a second for 100,000 XLSX rows, more
//! than the look-ups). Reading a file gives the same rows whatever the
//! database holds, so a commit of the very same bytes, read the same way,
//! plans the kept rows instead of reading the file again. One file is kept
//! per process, the last previewed, and is dropped when a commit of it
//! writes. CSV is not kept: it is read as fast as it is copied.

use std::sync::{Arc, Mutex};

use rackledger_importers::{Field, Format, Kind, Parsed, Profile, Reader};

/// A file as read, and what identifies it exactly.
pub(super) struct ParsedFile {
    bytes: Vec<u8>,
    file_name: String,
    kind: Kind,
    profile: Option<Profile>,
    pub format: Format,
    pub header_row: usize,
    pub mapping: Vec<(Field, String)>,
    pub total_rows: Option<usize>,
    pub blank_rows: usize,
    pub rows: Vec<Parsed>,
}

static LAST: Mutex<Option<Arc<ParsedFile>>> = Mutex::new(None);

fn slot() -> std::sync::MutexGuard<'static, Option<Arc<ParsedFile>>> {
    // The slot holds no invariant a panic could break.
    LAST.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl ParsedFile {
    fn is(&self, bytes: &[u8], file_name: &str, kind: Kind, profile: Option<&Profile>) -> bool {
        self.kind == kind
            && self.file_name == file_name
            && self.profile.as_ref() == profile
            && self.bytes == bytes
    }
}

/// Whether rows read in `format` are worth keeping.
pub(super) fn worth_keeping(format: Format) -> bool {
    format != Format::Csv
}

/// Keeps what `reader` (now read to its end) gave for `bytes`, in place of
/// whatever file was kept.
pub(super) fn keep(
    bytes: Vec<u8>,
    file_name: &str,
    kind: Kind,
    profile: Option<&Profile>,
    reader: &Reader,
    rows: Vec<Parsed>,
) {
    *slot() = Some(Arc::new(ParsedFile {
        bytes,
        file_name: file_name.to_owned(),
        kind,
        profile: profile.cloned(),
        format: reader.format(),
        header_row: reader.header_row(),
        mapping: reader.mapping().to_vec(),
        total_rows: reader.total_rows(),
        blank_rows: reader.blank_rows(),
        rows,
    }));
}

/// The kept rows of exactly this file, read this way, if they are kept.
pub(super) fn find(
    bytes: &[u8],
    file_name: &str,
    kind: Kind,
    profile: Option<&Profile>,
) -> Option<Arc<ParsedFile>> {
    slot()
        .as_ref()
        .filter(|f| f.is(bytes, file_name, kind, profile))
        .cloned()
}

/// Drops `file`'s rows if they are still the ones kept.
pub(super) fn forget(file: &Arc<ParsedFile>) {
    let mut slot = slot();
    if slot.as_ref().is_some_and(|f| Arc::ptr_eq(f, file)) {
        *slot = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XLSX: &[u8] = include_bytes!("../../importers/samples/packing_list.xlsx");

    fn read(bytes: &[u8]) -> (Reader, Vec<Parsed>) {
        let mut reader =
            rackledger_importers::open_bytes(bytes.to_vec(), "p.xlsx", Kind::PackingList, None)
                .expect("the sample opens");
        let rows: Vec<Parsed> = reader.by_ref().collect();
        (reader, rows)
    }

    #[test]
    fn only_the_same_bytes_read_the_same_way_find_the_kept_rows_until_a_commit_forgets_them() {
        let (reader, rows) = read(XLSX);
        assert!(rows.len() > 5 && worth_keeping(reader.format()));
        let keep_sample = || {
            keep(
                XLSX.to_vec(),
                "p.xlsx",
                Kind::PackingList,
                None,
                &reader,
                rows.clone(),
            );
        };
        keep_sample();

        let found = find(XLSX, "p.xlsx", Kind::PackingList, None).expect("kept");
        assert_eq!(found.rows, rows);
        assert_eq!(
            (found.header_row, found.mapping.as_slice(), found.total_rows),
            (reader.header_row(), reader.mapping(), reader.total_rows())
        );
        let mut changed = XLSX.to_vec();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        let profile = Profile::new("supplier's own", Kind::PackingList);
        for (bytes, name, kind, profile) in [
            (changed.as_slice(), "p.xlsx", Kind::PackingList, None),
            (XLSX, "q.xlsx", Kind::PackingList, None),
            (XLSX, "p.xlsx", Kind::OrderConfirmation, None),
            (XLSX, "p.xlsx", Kind::PackingList, Some(&profile)),
        ] {
            assert!(
                find(bytes, name, kind, profile).is_none(),
                "{name} {kind:?}"
            );
        }

        // Another preview replaced them: forgetting the old ones keeps the new.
        keep_sample();
        forget(&found);
        let newer = find(XLSX, "p.xlsx", Kind::PackingList, None).expect("still kept");
        forget(&newer);
        assert!(find(XLSX, "p.xlsx", Kind::PackingList, None).is_none());
        assert!(!worth_keeping(Format::Csv));
    }
}
