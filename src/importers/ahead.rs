//! Reading a file on a thread of its own, a chunk ahead of the planning.
//!
//! Typing a workbook's rows is CPU work (calamine unpacks and parses the
//! sheet: 0.2 s for 100,000 XLSX rows), and so is planning them. On the
//! async task they would take turns and hold up the runtime's thread; here
//! the reader fills the next chunks on the blocking pool while the rows
//! before them are planned and looked up.

use rackledger_importers::{Parsed, Reader};
use tokio::sync::mpsc;

use crate::error::{AppError, AppResult};

/// Chunks read and not yet planned: enough to keep the reader busy while a
/// chunk is planned, few enough that a large file is not held twice.
const CHUNKS_AHEAD: usize = 2;

/// A chunk ends early once its rows hold this much text, so the chunks in
/// flight stay small however long the rows are (the reader caps a row at
/// 256 KiB).
const CHUNK_BYTES: usize = 4 << 20;

/// A reader moved to the blocking pool, handing over its rows `chunk` at a time.
pub(super) struct ReadAhead {
    chunks: mpsc::Receiver<Vec<Parsed>>,
    reader: tokio::task::JoinHandle<Reader>,
}

impl ReadAhead {
    /// Starts reading `reader` to its end, `chunk` rows at a time.
    pub(super) fn start(mut reader: Reader, chunk: usize) -> ReadAhead {
        let (tx, chunks) = mpsc::channel(CHUNKS_AHEAD);
        let reader = tokio::task::spawn_blocking(move || {
            loop {
                let mut rows: Vec<Parsed> = Vec::new();
                let mut bytes = 0;
                while rows.len() < chunk && bytes < CHUNK_BYTES {
                    let Some(parsed) = reader.next() else { break };
                    bytes += parsed.text_bytes();
                    rows.push(parsed);
                }
                // Empty: the file is read. A send that fails: the planning
                // stopped (an error, or the import was dropped), so stop too.
                if rows.is_empty() || tx.blocking_send(rows).is_err() {
                    break;
                }
            }
            reader
        });
        ReadAhead { chunks, reader }
    }

    /// The next chunk of rows; empty once the file is read (or its reader failed,
    /// which [`ReadAhead::finish`] reports).
    pub(super) async fn next_chunk(&mut self) -> Vec<Parsed> {
        self.chunks.recv().await.unwrap_or_default()
    }

    /// The reader, read to its end (for its counts), once every chunk was taken.
    pub(super) async fn finish(self) -> AppResult<Reader> {
        drop(self.chunks);
        self.reader
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the file failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rackledger_importers::Kind;

    const XLSX: &[u8] = include_bytes!("../../importers/samples/packing_list.xlsx");

    fn open() -> Reader {
        rackledger_importers::open_bytes(XLSX.to_vec(), "p.xlsx", Kind::PackingList, None)
            .expect("the sample opens")
    }

    #[tokio::test]
    async fn the_rows_come_in_order_in_chunks_and_the_reader_comes_back_read() {
        let mut whole = open();
        let expected: Vec<Parsed> = whole.by_ref().collect();
        assert!(expected.len() > 3, "the sample has rows to chunk");

        let mut ahead = ReadAhead::start(open(), 2);
        let mut rows = Vec::new();
        loop {
            let chunk = ahead.next_chunk().await;
            if chunk.is_empty() {
                break;
            }
            assert!(chunk.len() <= 2);
            rows.extend(chunk);
        }
        assert_eq!(rows, expected);
        let reader = ahead.finish().await.expect("the reader comes back");
        assert_eq!(reader.blank_rows(), whole.blank_rows());
    }

    #[tokio::test]
    async fn a_reader_whose_rows_are_no_longer_wanted_stops() {
        // One row a chunk and two chunks ahead: with five rows or more, the
        // reader is still waiting to hand one over when the planning stops
        // after the first, and must give up rather than wait for ever.
        let rows = open().count();
        assert!(rows >= 5, "the sample has {rows} rows");
        let mut ahead = ReadAhead::start(open(), 1);
        assert_eq!(ahead.next_chunk().await.len(), 1);
        let finished = tokio::time::timeout(std::time::Duration::from_secs(60), ahead.finish())
            .await
            .expect("the reader stops when its rows are no longer wanted");
        let mut reader = finished.expect("the reader comes back");
        assert!(
            reader.next().is_some(),
            "it stopped before the end of the file"
        );
    }
}
