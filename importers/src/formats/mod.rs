//! Reading bytes into raw rows: format detection, CSV decoding and streaming,
//! workbooks through calamine, and the safety checks that run before calamine.

pub(crate) mod cell;
pub(crate) mod csv_reader;
pub(crate) mod decode;
pub(crate) mod detect;
pub(crate) mod guards;
pub(crate) mod sheet_reader;
pub(crate) mod xlsx_stream;
pub(crate) mod zip_scan;
