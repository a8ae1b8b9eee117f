//! The pick list: spares of the part a work order needs, those at the site
//! of the work first; and each stock location's path and site.

use std::collections::HashMap;

use super::model::{Spare, WorkOrder};
use super::repo;
use crate::datacenter::{placement, racks};
use crate::db::{Db, DbError};
use crate::error::AppResult;
use crate::on_db;

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
    let places = location_sites(db).await?;
    for s in &mut spares {
        if let Some((path, site_id, site)) = s.location_id.and_then(|l| places.get(&l)) {
            s.location = path.clone();
            s.site = site.clone();
            s.same_site = work_site.is_some() && *site_id == work_site;
        }
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

/// id, parent, name, site id, site name.
type LocationRow = (i64, Option<i64>, String, Option<i64>, Option<String>);

/// Every stock location's path and the site it belongs to (its own, or the
/// nearest ancestor's).
pub async fn location_sites(
    db: &Db,
) -> Result<HashMap<i64, (String, Option<i64>, Option<String>)>, DbError> {
    let rows: Vec<LocationRow> = on_db!(db, |p| {
        sqlx::query_as(
            "select l.id, l.parent_id, l.name, l.site_id, s.name from stock_locations l left join sites s on s.id = l.site_id",
        )
        .fetch_all(p)
        .await
    })?;
    let by_id: HashMap<i64, &LocationRow> = rows.iter().map(|r| (r.0, r)).collect();
    let mut out = HashMap::new();
    for r in &rows {
        let mut names = Vec::new();
        let mut site: Option<(i64, Option<String>)> = None;
        let mut cur = Some(r);
        let mut guard = 0;
        while let Some(node) = cur {
            names.push(node.2.clone());
            if site.is_none()
                && let Some(s) = node.3
            {
                site = Some((s, node.4.clone()));
            }
            guard += 1;
            cur = node
                .1
                .and_then(|p| by_id.get(&p).copied())
                .filter(|_| guard < 32);
        }
        names.reverse();
        let (site_id, site_name) = site.map_or((None, None), |(i, n)| (Some(i), n));
        out.insert(r.0, (names.join(" / "), site_id, site_name));
    }
    Ok(out)
}
