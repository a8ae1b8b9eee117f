//! Reads supplier spreadsheets (price lists, order confirmations, packing lists) in
//! CSV, XLSX, XLS and ODS into typed rows. No database: the app previews and commits.
//!
//! ```no_run
//! use rackledger_importers::{Kind, Row, open_path};
//!
//! let reader = open_path("packing_list.xlsx".as_ref(), Kind::PackingList, None)?;
//! for parsed in reader {
//!     match parsed.result {
//!         Ok(Row::PackingList(line)) => { let _ = (line.mpn, line.serial); }
//!         Ok(_) => {}
//!         Err(problem) => eprintln!("{problem}"),
//!     }
//! }
//! # Ok::<(), rackledger_importers::ImportError>(())
//! ```
//!
//! The reader never panics on bad input: whole-file problems are an [`ImportError`];
//! each data row is either a [`Row`] or a [`RowError`] naming its row, column and a
//! stable code.

#![warn(missing_docs)]

mod error;
mod formats;
mod headers;
mod limits;
mod model;
mod profile;
mod reader;
mod rows;
mod summary;
mod values;

pub use error::{ImportError, RowError, codes};
pub use formats::detect::{SNIFF_BYTES, detect_format, format_from_extension};
pub use headers::SCAN_ROWS;
pub use headers::synonyms::{normalize_header, recognise_header};
pub use limits::{Limit, LimitExceeded, Limits, SAMPLE_CHARS, column_name, sample};
pub use model::{
    Field, Format, Kind, OrderLineRow, PackingListRow, ParseKindError, Parsed, PriceListRow, Row,
};
pub use profile::Profile;
pub use reader::{Reader, SUMMARY_ROWS_NAMED, open_bytes, open_bytes_with, open_path};
pub use values::currency::parse_currency;
pub use values::dates::{DateError, date_from_excel_serial, parse_date};
pub use values::numbers::{
    Amount, NumberError, decimal_from_f64, parse_amount, parse_decimal, parse_quantity,
};
