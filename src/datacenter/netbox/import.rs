//! Reading NetBox CSV files and writing them in one transaction: all of it,
//! or (any refused row, or a preview) none of it.

use std::collections::HashMap;

use serde::Serialize;
use tracing::instrument;

use super::FILES;
use crate::audit::Actor;
use crate::datacenter::racks;
use crate::db::{Db, Tx};
use crate::error::AppResult;
use crate::i18n::Msg;
use crate::inventory::templates::{self, DeviceType};

/// Uploaded files by name (`sites`, `locations`, `device_types`, `racks`,
/// `devices`); any may be missing.
#[derive(Clone, Debug, Default)]
pub struct Files(pub HashMap<String, Vec<u8>>);

/// A refused row: the file, its row as a spreadsheet numbers it (the header
/// is row 1), the column and why.
#[derive(Clone, Debug, Serialize)]
pub struct RowError {
    /// `devices.csv`.
    pub file: String,
    /// Row number; 1 is the header.
    pub row: usize,
    /// Column name (NetBox's).
    pub column: String,
    /// Why.
    pub message: Msg,
}

/// Rows taken from each file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Sites.
    pub sites: usize,
    /// Locations (rooms and rows).
    pub locations: usize,
    /// Device types created as build templates (existing ones are reused).
    pub device_types: usize,
    /// Racks created.
    pub racks: usize,
    /// Devices registered as assets.
    pub devices: usize,
    /// Of those, placed in a rack.
    pub placed: usize,
}

/// What an import did, or would do.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Outcome {
    /// Rows taken.
    pub counts: Counts,
    /// Refused rows; when any, nothing was written.
    pub errors: Vec<RowError>,
    /// Whether the import was written (never for a preview).
    pub committed: bool,
}

pub(super) struct Sheet {
    file: String,
    cols: HashMap<String, usize>,
    pub(super) rows: Vec<(usize, csv::StringRecord)>,
}

/// NetBox writes `Device role`, `Type` or `Height (U)` in table exports;
/// the bulk import's field names are what we look up.
fn column_name(header: &str) -> String {
    let h = header
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace(' ', "_");
    match h.as_str() {
        "device_role" => "role".into(),
        "type" => "device_type".into(),
        "height_(u)" => "u_height".into(),
        "descending_units" => "desc_units".into(),
        _ => h,
    }
}

/// Undoes the export's formula guard (`'=x` back to `=x`).
fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

impl Sheet {
    fn read(name: &str, bytes: &[u8], errors: &mut Vec<RowError>) -> Option<Sheet> {
        let file = format!("{name}.csv");
        let fail = |errors: &mut Vec<RowError>, message| {
            errors.push(RowError {
                file: file.clone(),
                row: 1,
                column: String::new(),
                message,
            });
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            fail(errors, Msg::new("netbox.not_utf8"));
            return None;
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                fail(errors, Msg::new("netbox.bad_csv").arg("detail", e));
                return None;
            }
        };
        let cols = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (column_name(h), i))
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            match rec {
                Ok(r) if r.iter().all(|c| c.trim().is_empty()) => {}
                Ok(r) => rows.push((i + 2, r)),
                Err(e) => {
                    fail(errors, Msg::new("netbox.bad_csv").arg("detail", e));
                    return None;
                }
            }
        }
        Some(Sheet { file, cols, rows })
    }

    pub(super) fn get<'a>(&self, rec: &'a csv::StringRecord, col: &str) -> &'a str {
        self.cols
            .get(col)
            .and_then(|i| rec.get(*i))
            .map_or("", |v| unguard(v.trim()))
    }

    pub(super) fn error(&self, row: usize, column: &str, message: Msg) -> RowError {
        RowError {
            file: self.file.clone(),
            row,
            column: column.into(),
            message,
        }
    }
}

/// `10`, `10.0` as 10; anything else (`10.5`, `x`) is refused.
pub(super) fn whole(s: &str) -> Option<i64> {
    let d: rust_decimal::Decimal = s.parse().ok()?;
    d.fract().is_zero().then(|| i64::try_from(d).ok()).flatten()
}

pub(super) fn boolean(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "" | "false" | "no" | "0" | "✘" => Some(false),
        "true" | "yes" | "1" | "✔" => Some(true),
        _ => None,
    }
}

/// Columns each file must have.
const REQUIRED: [(&str, &[&str]); 5] = [
    ("sites", &["name"]),
    ("locations", &["site", "name"]),
    ("device_types", &["model"]),
    ("racks", &["site", "name"]),
    ("devices", &[]),
];

/// Imports whichever files are given, in the order sites, locations, device
/// types, racks, devices, in one transaction. With `commit` false, or when
/// any row is refused, everything is rolled back and the outcome says what
/// would have been written and what was refused.
#[instrument(skip_all, fields(commit))]
pub async fn run(db: &Db, actor: &Actor, files: &Files, commit: bool) -> AppResult<Outcome> {
    let mut out = Outcome::default();
    let mut sheets = HashMap::new();
    for ((name, _), (_, required)) in FILES.iter().zip(REQUIRED.iter()) {
        let Some(bytes) = files.0.get(*name) else {
            continue;
        };
        let Some(sheet) = Sheet::read(name, bytes, &mut out.errors) else {
            continue;
        };
        for col in *required {
            if !sheet.cols.contains_key(*col) {
                let m = Msg::new("netbox.missing_column").arg("column", col);
                out.errors.push(sheet.error(1, col, m));
            }
        }
        sheets.insert(*name, sheet);
    }
    if !out.errors.is_empty() {
        return Ok(out);
    }
    let mut tx = db.begin().await?;
    let parents = super::racks::location_parents(sheets.get("locations"));
    if let Some(s) = sheets.get("sites") {
        import_sites(&mut tx, s, &mut out).await?;
    }
    if let Some(s) = sheets.get("locations") {
        import_locations(&mut tx, s, &mut out).await?;
    }
    if let Some(s) = sheets.get("device_types") {
        import_device_types(&mut tx, actor, s, &mut out).await?;
    }
    if let Some(s) = sheets.get("racks") {
        super::racks::import(&mut tx, actor, s, &parents, &mut out).await?;
    }
    if let Some(s) = sheets.get("devices") {
        super::devices::import(&mut tx, actor, s, &mut out).await?;
    }
    if commit && out.errors.is_empty() {
        tx.commit().await?;
        out.committed = true;
    } else {
        tx.rollback().await?;
    }
    Ok(out)
}

pub(super) fn required<'a>(
    sheet: &Sheet,
    row: usize,
    rec: &'a csv::StringRecord,
    col: &str,
    out: &mut Outcome,
) -> Option<&'a str> {
    let v = sheet.get(rec, col);
    if v.is_empty() || v.chars().count() > 100 {
        out.errors
            .push(sheet.error(row, col, Msg::new("validation.required")));
        return None;
    }
    Some(v)
}

async fn import_sites(tx: &mut Tx, sheet: &Sheet, out: &mut Outcome) -> AppResult<()> {
    for (row, rec) in &sheet.rows {
        if let Some(name) = required(sheet, *row, rec, "name", out) {
            racks::ensure_place(tx, name, None, None).await?;
            out.counts.sites += 1;
        }
    }
    Ok(())
}

async fn import_locations(tx: &mut Tx, sheet: &Sheet, out: &mut Outcome) -> AppResult<()> {
    for (row, rec) in &sheet.rows {
        let site = required(sheet, *row, rec, "site", out);
        let name = required(sheet, *row, rec, "name", out);
        let (Some(site), Some(name)) = (site, name) else {
            continue;
        };
        match sheet.get(rec, "parent") {
            "" => racks::ensure_place(tx, site, Some(name), None).await?,
            parent => racks::ensure_place(tx, site, Some(parent), Some(name)).await?,
        };
        out.counts.locations += 1;
    }
    Ok(())
}

pub(super) fn height(
    sheet: &Sheet,
    row: usize,
    rec: &csv::StringRecord,
    default: i64,
    out: &mut Outcome,
) -> Option<i64> {
    match sheet.get(rec, "u_height") {
        "" => Some(default),
        v => match whole(v).filter(|h| (1..=60).contains(h)) {
            Some(h) => Some(h),
            None => {
                let m = Msg::new("validation.whole_number").arg("value", v);
                out.errors.push(sheet.error(row, "u_height", m));
                None
            }
        },
    }
}

async fn import_device_types(
    tx: &mut Tx,
    actor: &Actor,
    sheet: &Sheet,
    out: &mut Outcome,
) -> AppResult<()> {
    for (row, rec) in &sheet.rows {
        let model = required(sheet, *row, rec, "model", out);
        let height_u = height(sheet, *row, rec, 1, out);
        let (Some(model), Some(height_u)) = (model, height_u) else {
            continue;
        };
        if templates::find(tx, model).await?.is_some() {
            continue;
        }
        let t = DeviceType {
            id: 0,
            name: model.to_owned(),
            manufacturer: sheet.get(rec, "manufacturer").to_owned(),
            height_u,
        };
        templates::register(tx, actor, &t, "other").await?;
        out.counts.device_types += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_booleans_and_guarded_cells_read_as_netbox_writes_them() {
        assert_eq!(whole("10"), Some(10));
        assert_eq!(whole("10.0"), Some(10));
        assert_eq!(whole("10.5"), None);
        assert_eq!(boolean("True"), Some(true));
        assert_eq!(boolean(""), Some(false));
        assert_eq!(boolean("maybe"), None);
        assert_eq!(unguard("'-48V PDU"), "-48V PDU");
        assert_eq!(unguard("'quoted"), "'quoted");
        assert_eq!(column_name("Device Role"), "role");
        assert_eq!(column_name("\u{feff}name"), "name");
    }
}
