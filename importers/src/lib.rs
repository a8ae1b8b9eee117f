//! Supplier spreadsheet readers: CSV, XLSX, XLS and ODS into typed rows (work in progress).
