//! XLSX rows streamed from a helper thread.
//!
//! calamine's cell reader borrows the workbook, so it cannot live inside a `Reader`
//! that owns the workbook. Instead the workbook moves to a thread that reads cells,
//! groups them into rows and sends them through a bounded channel: a 100,000-row
//! sheet is never held as a whole range. The shared-strings table and the file
//! itself still are.

use std::io::{Read, Seek};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use calamine::Xlsx;

use crate::error::ImportError;
use crate::formats::cell::{Cell, RawRow, RowSource, SourceError};
use crate::model::Format;

/// Rows buffered between the XLSX thread and the reader: each row is at most
/// the row cap (256 KiB of text), so at most 16 MiB wait here.
const CHANNEL_ROWS: usize = 64;

/// Columns beyond this are not stored in a row (Excel's own limit is 16,384);
/// the reader refuses cells past the column cap, which is lower.
const MAX_COLUMNS: u32 = 16_384;

/// Moves the workbook to a helper thread that sends the sheet's rows one by one.
pub(crate) fn stream_xlsx<RS>(
    mut workbook: Xlsx<RS>,
    name: String,
) -> Result<Box<dyn RowSource>, ImportError>
where
    RS: Read + Seek + Send + 'static,
{
    let (tx, rx) = sync_channel(CHANNEL_ROWS);
    let handle = std::thread::Builder::new()
        .name("rackledger-xlsx".into())
        .spawn(move || send_xlsx_rows(&mut workbook, &name, &tx))
        .map_err(|e| ImportError::Unreadable {
            format: Format::Xlsx,
            detail: format!("could not start the reader thread: {e}"),
        })?;
    Ok(Box::new(ChannelSource {
        rx: Some(rx),
        handle: Some(handle),
    }))
}

fn send_xlsx_rows<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    name: &str,
    tx: &SyncSender<Result<RawRow, SourceError>>,
) {
    let mut cells = match workbook.worksheet_cells_reader(name) {
        Ok(cells) => cells,
        Err(e) => {
            let _ = tx.send(Err(SourceError::Broken(e.to_string())));
            return;
        }
    };
    let mut assembler = RowAssembler::default();
    loop {
        match cells.next_cell() {
            Ok(Some(cell)) => {
                let (row, col) = cell.get_position();
                if let Some(done) = assembler.push(row, col, Cell::from_data_ref(cell.get_value()))
                    && tx.send(Ok(done)).is_err()
                {
                    // The reader was dropped: stop reading.
                    return;
                }
            }
            Ok(None) => {
                if let Some(done) = assembler.finish() {
                    let _ = tx.send(Ok(done));
                }
                return;
            }
            Err(e) => {
                let _ = tx.send(Err(SourceError::Broken(e.to_string())));
                return;
            }
        }
    }
}

/// Receives rows from the XLSX thread; dropping it stops and joins the thread.
struct ChannelSource {
    rx: Option<Receiver<Result<RawRow, SourceError>>>,
    handle: Option<JoinHandle<()>>,
}

impl RowSource for ChannelSource {
    fn next_row(&mut self) -> Option<Result<RawRow, SourceError>> {
        match self.rx.as_ref()?.recv() {
            Ok(row) => Some(row),
            Err(_) => {
                self.rx = None;
                let handle = self.handle.take()?;
                match handle.join() {
                    Ok(()) => None,
                    Err(_) => Some(Err(SourceError::Broken(
                        "the XLSX reader stopped unexpectedly".to_string(),
                    ))),
                }
            }
        }
    }
}

impl Drop for ChannelSource {
    fn drop(&mut self) {
        // Closing the channel first makes the thread's next send fail, so it returns.
        self.rx = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Groups cells, which arrive in row order, into rows.
#[derive(Default)]
pub(crate) struct RowAssembler {
    current: Option<RawRow>,
}

impl RowAssembler {
    /// Adds a cell (0-based position); returns the previous row once a new one starts.
    pub(crate) fn push(&mut self, row: u32, col: u32, cell: Cell) -> Option<RawRow> {
        if cell == Cell::Empty || col >= MAX_COLUMNS {
            return None;
        }
        let number = row as usize + 1;
        let finished = match &self.current {
            Some(current) if current.number != number => self.current.take(),
            _ => None,
        };
        let current = self.current.get_or_insert_with(|| RawRow {
            number,
            span: 1,
            cells: Vec::new(),
        });
        let col = col as usize;
        if current.cells.len() <= col {
            current.cells.resize(col + 1, Cell::Empty);
        }
        current.cells[col] = cell;
        finished
    }

    pub(crate) fn finish(&mut self) -> Option<RawRow> {
        self.current.take()
    }
}
