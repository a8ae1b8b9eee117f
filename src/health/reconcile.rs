//! Reconciliation: the serials a BMC reports against the units rackledger has
//! installed in that asset.
//!
//! - **missing**: installed here, but the BMC does not report that serial. Only
//!   judged for kinds the BMC reports serials for at all (many BMCs give no CPU
//!   serials; that is not a missing CPU).
//! - **unexpected**: reported by the BMC, installed nowhere in rackledger
//!   (unknown, or a unit in stock).
//! - **moved**: reported by the BMC, but rackledger has it installed in another asset.
//!
//! Accepting the BMC's truth is a swap (`inventory::assets::swap`): the
//! reported unit goes into the slot of the missing one.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::redfish::model::Component;
use crate::audit::Actor;
use crate::db::{Db, DbError};
use crate::error::AppResult;
use crate::inventory::assets::{self, SwapInput};
use crate::on;

/// The BMC kind a part category is reported as, if any.
pub fn kind_of_category(category: &str) -> Option<&'static str> {
    match category {
        "cpu" => Some("cpu"),
        "memory" => Some("memory"),
        "ssd" | "nvme" | "hdd" => Some("drive"),
        "psu" => Some("psu"),
        "gpu" => Some("accelerator"),
        _ => None,
    }
}

/// A unit installed in the asset, as rackledger has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InstalledUnit {
    /// Unit id.
    pub unit_id: i64,
    /// Serial.
    pub serial: String,
    /// Slot in rackledger.
    pub slot_name: String,
    /// Part number.
    pub mpn: String,
    /// Part category.
    pub category: String,
}

/// Where rackledger has a reported serial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct KnownUnit {
    /// Unit id.
    pub unit_id: i64,
    /// Serial.
    pub serial: String,
    /// Status (in_stock, installed, faulty...).
    pub status: String,
    /// Asset it is installed in.
    pub asset_id: Option<i64>,
    /// That asset's tag.
    pub asset_tag: Option<String>,
    /// Slot there.
    pub slot_name: Option<String>,
}

/// A serial the BMC reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reported {
    /// cpu, memory, drive, psu, accelerator.
    pub kind: String,
    /// Slot as the BMC names it.
    pub slot: String,
    /// Serial.
    pub serial: String,
    /// Model or part number as reported.
    pub model: Option<String>,
    /// Where rackledger has it (stock, another asset), if known.
    pub known: Option<KnownUnit>,
}

/// The difference for one asset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Diff {
    /// Installed here, not reported.
    pub missing: Vec<InstalledUnit>,
    /// Reported, installed nowhere.
    pub unexpected: Vec<Reported>,
    /// Reported, installed in another asset.
    pub moved: Vec<Reported>,
    /// Serials that agree.
    pub matched: usize,
}

impl Diff {
    /// Whether BMC and rackledger agree.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.moved.is_empty()
    }
}

/// Compares reported components with the installed units of `asset_id`.
pub fn diff(
    asset_id: i64,
    installed: &[InstalledUnit],
    reported: &[Component],
    known: &HashMap<String, KnownUnit>,
) -> Diff {
    let norm = |s: &str| s.trim().to_ascii_uppercase();
    let reported: Vec<(&Component, &str)> = reported
        .iter()
        .filter_map(|c| Some((c, c.serial.as_deref()?)))
        .filter(|(c, _)| c.kind != "fan" && c.kind != "temperature")
        .collect();
    let kinds_with_serials: HashSet<&str> = reported.iter().map(|(c, _)| c.kind).collect();
    let reported_serials: HashSet<String> = reported.iter().map(|(_, s)| norm(s)).collect();
    let installed_serials: HashSet<String> = installed.iter().map(|u| norm(&u.serial)).collect();
    let mut d = Diff::default();
    for u in installed {
        let judged = kind_of_category(&u.category).is_some_and(|k| kinds_with_serials.contains(k));
        if judged && !reported_serials.contains(&norm(&u.serial)) {
            d.missing.push(u.clone());
        }
    }
    for (c, serial) in reported {
        if installed_serials.contains(&norm(serial)) {
            d.matched += 1;
            continue;
        }
        let k = known.get(&norm(serial)).cloned();
        let r = Reported {
            kind: c.kind.to_owned(),
            slot: c.slot.clone(),
            serial: serial.to_owned(),
            model: c.model.clone(),
            known: k.clone(),
        };
        match k {
            Some(k) if k.status == "installed" && k.asset_id.is_some_and(|a| a != asset_id) => {
                d.moved.push(r)
            }
            _ => d.unexpected.push(r),
        }
    }
    d
}

/// The units installed in an asset with their categories.
pub async fn installed_units(db: &Db, asset_id: i64) -> Result<Vec<InstalledUnit>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select u.id as unit_id, u.serial, coalesce(u.slot_name, '') as slot_name, m.mpn, m.category
             from units u join part_models m on m.id = u.part_model_id
             where u.asset_id = $1 and u.status = 'installed' order by u.slot_name",
        )
        .bind(asset_id)
        .fetch_all(p)
        .await
    })?)
}

/// Where rackledger has each of these serials (upper-cased keys).
pub async fn known_units(
    db: &Db,
    serials: &[String],
) -> Result<HashMap<String, KnownUnit>, DbError> {
    let wanted: Vec<&str> = serials.iter().map(|s| s.trim()).collect();
    let found = crate::inventory::units::locate(db, &wanted).await?;
    let mut out = HashMap::new();
    for s in &wanted {
        if let Some(u) = found.get(&crate::inventory::units::serial_key(s)) {
            out.insert(
                s.to_ascii_uppercase(),
                KnownUnit {
                    unit_id: u.unit_id,
                    serial: u.serial.clone(),
                    status: u.status.clone(),
                    asset_id: u.asset_id,
                    asset_tag: u.asset_tag.clone(),
                    slot_name: u.slot_name.clone(),
                },
            );
        }
    }
    Ok(out)
}

/// The reconciliation of one asset against its latest snapshot (`None` when never polled).
pub async fn for_asset(db: &Db, asset_id: i64) -> Result<Option<Diff>, DbError> {
    let Some((snap, _)) = super::store::latest(db, asset_id).await? else {
        return Ok(None);
    };
    let components = snap.components();
    let serials: Vec<String> = components.iter().filter_map(|c| c.serial.clone()).collect();
    let installed = installed_units(db, asset_id).await?;
    let known = known_units(db, &serials).await?;
    Ok(Some(diff(asset_id, &installed, &components, &known)))
}

/// One asset's differences, for the fleet list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AssetDiff {
    /// Asset.
    pub asset_id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// The differences.
    pub diff: Diff,
}

/// Every polled asset whose BMC disagrees with rackledger.
pub async fn fleet(db: &Db) -> Result<Vec<AssetDiff>, DbError> {
    let assets: Vec<(i64, String)> = on!(db, |p| {
        sqlx::query_as(
            "select a.id, a.asset_tag from health_latest h join assets a on a.id = h.asset_id order by a.asset_tag",
        )
        .fetch_all(p)
        .await
    })?;
    let mut out = Vec::new();
    for (asset_id, asset_tag) in assets {
        if let Some(diff) = for_asset(db, asset_id).await?
            && !diff.is_clean()
        {
            out.push(AssetDiff {
                asset_id,
                asset_tag,
                diff,
            });
        }
    }
    Ok(out)
}

/// Accepts the BMC's truth for one slot: the reported serial (a unit in stock)
/// replaces the missing unit in `slot_name`, recorded as a swap; the unit
/// taken out goes to `old_to` (`faulty` or `in_stock`) at `location_id`.
pub async fn accept(
    db: &Db,
    actor: &Actor,
    asset_id: i64,
    slot_name: &str,
    reported_serial: &str,
    old_to: &str,
    location_id: i64,
) -> AppResult<()> {
    let input = SwapInput {
        slot_name: slot_name.to_owned(),
        new_serial: reported_serial.to_owned(),
        old_to: old_to.to_owned(),
        location_id,
    };
    assets::swap(db, actor, asset_id, &input).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(serial: &str, category: &str) -> InstalledUnit {
        InstalledUnit {
            unit_id: 1,
            serial: serial.into(),
            slot_name: format!("slot-{serial}"),
            mpn: "M".into(),
            category: category.into(),
        }
    }

    fn comp(kind: &'static str, serial: Option<&str>) -> Component {
        Component {
            kind,
            slot: "s".into(),
            serial: serial.map(str::to_owned),
            model: None,
            health: None,
            state: None,
        }
    }

    #[test]
    fn missing_unexpected_and_moved_are_told_apart() {
        let installed = vec![
            unit("D1", "memory"),
            unit("D2", "memory"),
            unit("C1", "cpu"),
        ];
        let reported = vec![
            comp("memory", Some("d1 ")),
            comp("memory", Some("D9")),
            comp("memory", Some("X7")),
            comp("cpu", None),
        ];
        let mut known = HashMap::new();
        known.insert(
            "X7".to_owned(),
            KnownUnit {
                unit_id: 9,
                serial: "X7".into(),
                status: "installed".into(),
                asset_id: Some(2),
                asset_tag: Some("SRV-2".into()),
                slot_name: Some("A1".into()),
            },
        );
        let d = diff(1, &installed, &reported, &known);
        assert_eq!(d.matched, 1, "serials compare trimmed and case-blind");
        assert_eq!(
            d.missing
                .iter()
                .map(|u| u.serial.as_str())
                .collect::<Vec<_>>(),
            vec!["D2"],
            "no CPU serials reported: CPUs not judged"
        );
        assert_eq!(d.unexpected.len(), 1);
        assert_eq!(d.unexpected[0].serial, "D9");
        assert_eq!(d.moved.len(), 1);
        assert_eq!(
            d.moved[0]
                .known
                .as_ref()
                .and_then(|k| k.asset_tag.as_deref()),
            Some("SRV-2")
        );
    }
}
