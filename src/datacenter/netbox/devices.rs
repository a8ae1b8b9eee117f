//! NetBox devices as assets: registered as they stand (not assembled here),
//! with their device type as a build template, placed with the usual rules.

use super::import::{Outcome, Sheet, whole};
use super::{kind_from_role, status_from_netbox};
use crate::audit::Actor;
use crate::datacenter::placement::{self, PlaceInput};
use crate::datacenter::racks;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::i18n::Msg;
use crate::inventory::assets::{self, RegisterAsset};
use crate::inventory::templates::{self, DeviceType};

/// Where a device goes: its rack and lowest U, and the face.
struct Mount {
    rack: racks::Rack,
    u: i64,
    face: String,
}

/// The rack, U and face of a row, or the refusals (pushed to `out`).
/// `Ok(None)`: the device is not placed.
async fn mount(
    tx: &mut Tx,
    sheet: &Sheet,
    row: usize,
    rec: &csv::StringRecord,
    out: &mut Outcome,
) -> AppResult<Option<Mount>> {
    let (site, rack, position) = (
        sheet.get(rec, "site"),
        sheet.get(rec, "rack"),
        sheet.get(rec, "position"),
    );
    if rack.is_empty() || position.is_empty() {
        if !position.is_empty() {
            let m = Msg::new("netbox.position_without_rack");
            out.errors.push(sheet.error(row, "position", m));
        }
        return Ok(None);
    }
    let location = Some(sheet.get(rec, "location")).filter(|l| !l.is_empty());
    let mut found = racks::find(tx, site, location, rack).await?;
    let rack = match found.len() {
        1 => found.remove(0),
        0 => {
            let m = Msg::new("netbox.unknown_rack")
                .arg("rack", rack)
                .arg("site", site);
            out.errors.push(sheet.error(row, "rack", m));
            return Ok(None);
        }
        _ => {
            let m = Msg::new("netbox.ambiguous_rack").arg("rack", rack);
            out.errors.push(sheet.error(row, "location", m));
            return Ok(None);
        }
    };
    let Some(u) = whole(position).filter(|u| *u >= 1) else {
        let m = Msg::new("validation.whole_number").arg("value", position);
        out.errors.push(sheet.error(row, "position", m));
        return Ok(None);
    };
    let face = match sheet.get(rec, "face").to_lowercase().as_str() {
        "" | "front" => "front".to_owned(),
        "rear" => "rear".to_owned(),
        other => {
            let m = Msg::new("netbox.bad_face").arg("value", other);
            out.errors.push(sheet.error(row, "face", m));
            return Ok(None);
        }
    };
    Ok(Some(Mount { rack, u, face }))
}

/// The template for a device type, created (with no slots, 1 U) if new.
async fn template(
    tx: &mut Tx,
    actor: &Actor,
    sheet: &Sheet,
    rec: &csv::StringRecord,
    kind: &str,
    out: &mut Outcome,
) -> AppResult<Option<i64>> {
    let model = sheet.get(rec, "device_type");
    if model.is_empty() {
        return Ok(None);
    }
    if let Some(t) = templates::find(tx, model).await? {
        return Ok(Some(t.id));
    }
    let t = DeviceType {
        id: 0,
        name: model.to_owned(),
        manufacturer: sheet.get(rec, "manufacturer").to_owned(),
        height_u: 1,
    };
    out.counts.device_types += 1;
    Ok(Some(templates::register(tx, actor, &t, kind).await?))
}

/// Registers and places every device row; refusals go to `out.errors`.
pub(super) async fn import(
    tx: &mut Tx,
    actor: &Actor,
    sheet: &Sheet,
    out: &mut Outcome,
) -> AppResult<()> {
    for (row, rec) in &sheet.rows {
        let row = *row;
        let name = sheet.get(rec, "name");
        let tag = match sheet.get(rec, "asset_tag") {
            "" => name,
            t => t,
        };
        let before = out.errors.len();
        if tag.is_empty() || tag.chars().count() > 100 {
            let m = Msg::new("validation.required");
            out.errors.push(sheet.error(row, "asset_tag", m));
        }
        let hostname = Some(name).filter(|n| !n.is_empty());
        let (tag_taken, host_taken) = assets::taken(tx, tag, hostname).await?;
        if tag_taken {
            let m = Msg::new("netbox.tag_taken").arg("tag", tag);
            out.errors.push(sheet.error(row, "asset_tag", m));
        }
        if host_taken {
            let m = Msg::new("netbox.hostname_taken").arg("name", name);
            out.errors.push(sheet.error(row, "name", m));
        }
        let status = match sheet.get(rec, "status") {
            "" => Some("in_service"),
            s => status_from_netbox(s),
        };
        if status.is_none() {
            let m = Msg::new("netbox.unknown_status").arg("value", sheet.get(rec, "status"));
            out.errors.push(sheet.error(row, "status", m));
        }
        let mount = mount(tx, sheet, row, rec, out).await?;
        let Some(status) = status.filter(|_| out.errors.len() == before) else {
            continue;
        };
        let kind = kind_from_role(sheet.get(rec, "role"));
        let template_id = template(tx, actor, sheet, rec, kind, out).await?;
        let serial = Some(sheet.get(rec, "serial")).filter(|s| !s.is_empty());
        let asset = RegisterAsset {
            asset_tag: tag,
            hostname,
            template_id,
            kind,
            status,
            serial,
        };
        let id = assets::register(tx, actor, &asset).await?;
        out.counts.devices += 1;
        let Some(m) = mount else { continue };
        let input = PlaceInput {
            rack_id: m.rack.id,
            u_position: m.u.to_string(),
            face: m.face,
            depth: "full".into(),
        };
        match placement::place_input(tx, actor, id, &m.rack, &input).await {
            Ok(()) => out.counts.placed += 1,
            Err(AppError::Conflict(m)) => out.errors.push(sheet.error(row, "position", m)),
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
