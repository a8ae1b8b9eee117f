//! The pick list: spares of the part a work order needs, those at the site
//! of the work first.

use std::collections::HashSet;

use super::model::{Pull, Spare, WorkOrder};
use super::repo;
use crate::datacenter::{placement, racks};
use crate::db::{Db, Tx};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Msg;
use crate::inventory::locations::{self, LocationTree};
use crate::inventory::units;

/// What to bring: for a replacement, spares of the needed part model in stock,
/// those at the site of the work first, then the oldest; at most `limit`.
pub async fn pick_list(db: &Db, wo: &WorkOrder, limit: usize) -> AppResult<Vec<Spare>> {
    let Some(part) = wo.part_model_id else {
        return Ok(Vec::new());
    };
    spares_for(db, part, wo.rack_id, wo.asset_id, limit).await
}

/// The part an active work order takes out of its asset's slot, as it is
/// installed now (its serial, to check before pulling it); `None` when the
/// work order removes nothing or the slot is empty.
pub async fn part_to_pull(db: &Db, wo: &WorkOrder) -> AppResult<Option<Pull>> {
    match (wo.asset_id, wo.slot_name.as_deref()) {
        (Some(asset), Some(slot)) if wo.is_active() => {
            Ok(repo::installed_in_slot(db, asset, slot).await?)
        }
        _ => Ok(None),
    }
}

/// Spares of a part model in stock for work at a rack (or at the rack an
/// asset is in): those at the same site first, then the oldest.
pub async fn spares_for(
    db: &Db,
    part_model_id: i64,
    rack_id: Option<i64>,
    asset_id: Option<i64>,
    limit: usize,
) -> AppResult<Vec<Spare>> {
    let mut spares = repo::spares_in_stock(db, part_model_id).await?;
    let work_site = site_of_work(db, rack_id, asset_id).await?;
    let tree = LocationTree::load(db).await?;
    let bins: HashSet<i64> = locations::list(db)
        .await?
        .into_iter()
        .filter(|l| l.kind == "bin")
        .map(|l| l.id)
        .collect();
    for s in &mut spares {
        let Some(l) = s.location_id else { continue };
        let Some(path) = tree.path(l) else { continue };
        let site = tree.site_of(l);
        match path.rsplit_once(" / ") {
            Some((place, bin)) if bins.contains(&l) => {
                s.place = place.to_owned();
                s.bin = Some(bin.to_owned());
            }
            None if bins.contains(&l) => s.bin = Some(path.clone()),
            _ => s.place = path.clone(),
        }
        s.location = path;
        s.site = site.and_then(|(_, name)| name).map(str::to_owned);
        s.same_site = work_site.is_some() && site.map(|(id, _)| id) == work_site;
    }
    // Stable: same site first, then the order above (oldest unit first).
    spares.sort_by_key(|s| !s.same_site);
    spares.truncate(limit);
    Ok(spares)
}

/// The stock location nearest to an asset, where a part taken out of it
/// goes by default (see [`Places::home`]); `None` when the asset is not in a
/// rack or its site has no stock location: then the user chooses.
pub async fn home_location(db: &Db, asset_id: i64) -> AppResult<Option<i64>> {
    Ok(Places::load(db, Some(asset_id)).await?.home())
}

/// The stock locations and the site of the work, read before a completion's
/// transaction, to say where a removed part goes.
pub(super) struct Places {
    tree: LocationTree,
    site: Option<i64>,
}

impl Places {
    /// Reads the locations and the site of the asset's rack.
    pub(super) async fn load(db: &Db, asset_id: Option<i64>) -> AppResult<Places> {
        Ok(Places {
            site: site_of_work(db, None, asset_id).await?,
            tree: LocationTree::load(db).await?,
        })
    }

    /// A location at the site of the work (set on it or on a parent), the
    /// outermost first, then by path.
    pub(super) fn home(&self) -> Option<i64> {
        let site = self.site?;
        let tree = &self.tree;
        tree.ids()
            .filter(|&l| tree.site_of(l).map(|(s, _)| s) == Some(site))
            .filter_map(|l| tree.path(l).map(|p| (p.matches(" / ").count(), p, l)))
            .min()
            .map(|(_, _, l)| l)
    }

    /// Where a removed part goes: the location chosen; else the one at the
    /// site of the work; else the spare's, unless that is known to be at
    /// another site (the part would be recorded in another city): then the
    /// user is asked to choose, at the field.
    pub(super) fn removed_to(&self, chosen: &str, spare_at: Option<i64>) -> AppResult<i64> {
        let refuse = |m: Msg| {
            let mut f = FieldErrors::default();
            f.add("location_id", m);
            AppError::Validation(f)
        };
        match chosen.trim() {
            "" => {}
            s => {
                return match s.parse::<i64>() {
                    Ok(l) if self.tree.path(l).is_some() => Ok(l),
                    _ => Err(refuse(Msg::new("swap.choose_location"))),
                };
            }
        }
        if let Some(home) = self.home() {
            return Ok(home);
        }
        let elsewhere = |l: i64| {
            self.site
                .is_some_and(|w| self.tree.site_of(l).is_some_and(|(s, _)| s != w))
        };
        match spare_at {
            Some(l) if !elsewhere(l) => Ok(l),
            _ => Err(refuse(Msg::new("swap.choose_location"))),
        }
    }
}

/// The datacenter site the work happens at: the target rack's, else where the
/// asset is placed.
async fn site_of_work(
    db: &Db,
    rack_id: Option<i64>,
    asset_id: Option<i64>,
) -> AppResult<Option<i64>> {
    let rack_id = match (rack_id, asset_id) {
        (Some(r), _) => Some(r),
        (None, Some(a)) => placement::of_asset(db, a).await?.map(|p| p.rack_id),
        _ => None,
    };
    match rack_id {
        Some(r) => Ok(Some(racks::get(db, r).await?.site_id)),
        None => Ok(None),
    }
}

/// Why a typed spare serial cannot be used, said at its field: installed
/// (in which asset), at RMA, or any other status; or no unit has it.
pub(super) async fn not_a_spare(tx: &mut Tx, serial: &str) -> AppResult<Msg> {
    let found = units::locate(&mut *tx, &[serial]).await?;
    let Some(unit) = found.into_values().next() else {
        return Ok(Msg::new("swap.not_in_stock").arg("serial", serial));
    };
    Ok(match (unit.status.as_str(), unit.asset_tag) {
        ("installed", Some(asset)) => Msg::new("ops2.spare_installed")
            .arg("serial", unit.serial)
            .arg("asset", asset)
            .arg("slot", unit.slot_name.unwrap_or_default()),
        ("at_rma", _) => Msg::new("ops2.spare_at_rma").arg("serial", unit.serial),
        (status, _) => Msg::new("ops2.spare_not_in_stock")
            .arg("serial", unit.serial)
            .arg_code("status", "unit_status", status),
    })
}
