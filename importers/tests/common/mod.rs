//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rackledger_importers::{Kind, Parsed, Profile, Reader, Row, open_bytes, open_path};

/// The path of a file in importers/samples/.
pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// Loads a profile from importers/profiles/.
pub fn profile(name: &str) -> Profile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("profiles")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Profile::from_toml(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Opens a sample from disk.
pub fn open(name: &str, kind: Kind, profile: Option<&Profile>) -> Reader {
    open_path(&sample(name), kind, profile).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Opens a sample from memory, as an upload would.
pub fn open_upload(name: &str, kind: Kind, profile: Option<&Profile>) -> Reader {
    let bytes = std::fs::read(sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    open_bytes(bytes, name, kind, profile).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every row of a reader, which must all be typed rows.
pub fn ok_rows(reader: Reader) -> Vec<(usize, Row)> {
    reader
        .map(|Parsed { row, result }| match result {
            Ok(r) => (row, r),
            Err(e) => panic!("unexpected row error: {e} ({})", e.code),
        })
        .collect()
}
pub mod bombs;
