//! The pick list: spares of the part a work order needs, those at the site
//! of the work first.

use super::model::{Spare, WorkOrder};
use super::repo;
use crate::datacenter::{placement, racks};
use crate::db::Db;
use crate::error::AppResult;
use crate::inventory::locations::LocationTree;

/// What to bring: for a replacement, spares of the needed part model in stock,
/// those at the site of the work first, then the oldest; at most `limit`.
pub async fn pick_list(db: &Db, wo: &WorkOrder, limit: usize) -> AppResult<Vec<Spare>> {
    let Some(part) = wo.part_model_id else {
        return Ok(Vec::new());
    };
    spares_for(db, part, wo.rack_id, wo.asset_id, limit).await
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
    for s in &mut spares {
        let Some(l) = s.location_id else { continue };
        let Some(path) = tree.path(l) else { continue };
        let site = tree.site_of(l);
        s.location = path;
        s.site = site.and_then(|(_, name)| name).map(str::to_owned);
        s.same_site = work_site.is_some() && site.map(|(id, _)| id) == work_site;
    }
    // Stable: same site first, then the order above (oldest unit first).
    spares.sort_by_key(|s| !s.same_site);
    spares.truncate(limit);
    Ok(spares)
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
