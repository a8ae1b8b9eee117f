//! NetBox racks and locations: which room and row a rack's `location` is.

use std::collections::HashMap;

use super::import::{Outcome, Sheet, boolean, height, required};
use crate::audit::Actor;
use crate::datacenter::racks::{self, RackInput};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::i18n::Msg;

/// For each (site, location name) in the locations file, its parents
/// (`None` for a top-level location).
pub(super) type Parents = HashMap<(String, String), Vec<Option<String>>>;

pub(super) fn location_parents(sheet: Option<&Sheet>) -> Parents {
    let mut map = Parents::new();
    for (_, rec) in sheet.map_or(&[][..], |s| &s.rows[..]) {
        let Some(s) = sheet else { break };
        let parent = Some(s.get(rec, "parent").to_owned()).filter(|p| !p.is_empty());
        map.entry((s.get(rec, "site").to_owned(), s.get(rec, "name").to_owned()))
            .or_default()
            .push(parent);
    }
    map
}

/// Room and row of a rack's `location`: a location under a parent in the
/// file is a row in that room; else a row of that name already in the site
/// (`in_db`: the rooms that have one); else a room with one row of the same
/// name. No location at all is `Default` / `Default`.
fn room_and_row(
    parents: &Parents,
    in_db: &[String],
    site: &str,
    location: &str,
) -> Result<(String, String), Msg> {
    if location.is_empty() {
        return Ok(("Default".into(), "Default".into()));
    }
    let in_file: Vec<&String> = parents
        .get(&(site.to_owned(), location.to_owned()))
        .map(|ps| ps.iter().flatten().collect())
        .unwrap_or_default();
    let rooms = if in_file.is_empty() {
        in_db.iter().collect()
    } else {
        in_file
    };
    match rooms.as_slice() {
        [] => Ok((location.to_owned(), location.to_owned())),
        [room] => Ok(((*room).clone(), location.to_owned())),
        _ => Err(Msg::new("netbox.ambiguous_location").arg("location", location)),
    }
}

pub(super) async fn import(
    tx: &mut Tx,
    actor: &Actor,
    sheet: &Sheet,
    parents: &Parents,
    out: &mut Outcome,
) -> AppResult<()> {
    for (row, rec) in &sheet.rows {
        let row = *row;
        let site = required(sheet, row, rec, "site", out);
        let name = required(sheet, row, rec, "name", out);
        let height_u = height(sheet, row, rec, 42, out);
        let desc = sheet.get(rec, "desc_units");
        let top_down = boolean(desc);
        if top_down.is_none() {
            let m = Msg::new("netbox.bad_boolean").arg("value", desc);
            out.errors.push(sheet.error(row, "desc_units", m));
        }
        let (Some(site), Some(name), Some(height_u), Some(top_down)) =
            (site, name, height_u, top_down)
        else {
            continue;
        };
        let location = sheet.get(rec, "location");
        let in_db = racks::rooms_with_row(tx, site, location).await?;
        let (room, rack_row) = match room_and_row(parents, &in_db, site, location) {
            Ok(p) => p,
            Err(m) => {
                out.errors.push(sheet.error(row, "location", m));
                continue;
            }
        };
        if !racks::find(tx, site, Some(&rack_row), name)
            .await?
            .is_empty()
        {
            let m = Msg::new("netbox.rack_exists").arg("rack", name);
            out.errors.push(sheet.error(row, "name", m));
            continue;
        }
        let input = RackInput {
            site: site.into(),
            room,
            row: rack_row,
            name: name.into(),
            height_u: Some(height_u.to_string()),
            power_budget_kw: None,
            numbering: Some(if top_down { "top_down" } else { "bottom_up" }.into()),
        };
        match racks::create(&mut *tx, actor, &input).await {
            Ok(_) => out.counts.racks += 1,
            Err(AppError::Validation(f)) => {
                for e in f.0 {
                    out.errors.push(sheet.error(row, &e.field, e.message));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rack_location_under_a_parent_is_a_row_of_that_room() {
        let mut p = Parents::new();
        p.entry(("S".into(), "Row A".into()))
            .or_default()
            .push(Some("Hall 1".into()));
        p.entry(("S".into(), "Hall 1".into()))
            .or_default()
            .push(None);
        assert_eq!(
            room_and_row(&p, &[], "S", "Row A"),
            Ok(("Hall 1".into(), "Row A".into()))
        );
        assert_eq!(
            room_and_row(&p, &[], "S", "Hall 1"),
            Ok(("Hall 1".into(), "Hall 1".into()))
        );
        assert_eq!(
            room_and_row(&p, &[], "S", ""),
            Ok(("Default".into(), "Default".into()))
        );
        p.entry(("S".into(), "Row A".into()))
            .or_default()
            .push(Some("Hall 2".into()));
        assert!(room_and_row(&p, &[], "S", "Row A").is_err());
        let hall = ["Hall 9".to_owned()];
        assert_eq!(
            room_and_row(&p, &hall, "S", "Row Z"),
            Ok(("Hall 9".into(), "Row Z".into())),
            "a row already in the database"
        );
    }
}
