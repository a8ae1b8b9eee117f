//! The serials a BMC last reported for its asset (`bmc_serials`): the
//! system's, the chassis's and every component's that has one. Kept in step
//! with the latest snapshot as polls are recorded, and written only when they
//! changed, so the search box can find a serial only a BMC knows through an
//! index on the lowered serial.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::redfish::model::Snapshot;
use crate::db::{Db, DbError, Tx};
use crate::{exec, on};

/// (kind, slot, serial) as reported, serial trimmed.
type Reported = (String, String, String);

/// Every serial in `snap`, trimmed, without empty ones.
fn reported(snap: &Snapshot) -> BTreeSet<Reported> {
    let mut out = BTreeSet::new();
    let mut add = |kind: &str, slot: &str, serial: Option<&str>| {
        if let Some(s) = serial.map(str::trim).filter(|s| !s.is_empty()) {
            out.insert((kind.to_owned(), slot.to_owned(), s.to_owned()));
        }
    };
    add("system", "", snap.system_serial.as_deref());
    add("chassis", "", snap.chassis_serial.as_deref());
    for c in snap.components() {
        add(c.kind, &c.slot, c.serial.as_deref());
    }
    out
}

/// Replaces the recorded serials of each asset whose latest snapshot reports
/// other serials than those on record (one read for the batch; writes only
/// for the assets that changed). A snapshot without any serial leaves the
/// asset's record as it was: a BMC that stopped saying does not unsay it.
pub async fn sync(tx: &mut Tx, polls: &[(i64, &Snapshot)]) -> Result<(), DbError> {
    let ids: Vec<i64> = polls.iter().map(|(a, _)| *a).collect();
    let mut held: HashMap<i64, BTreeSet<Reported>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "select asset_id, kind, slot, serial from bmc_serials where asset_id in ({})",
            tx.marks(1, chunk.len())
        );
        let rows: Vec<(i64, String, String, String)> = on!(tx, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(c).await
        })?;
        for (asset, kind, slot, serial) in rows {
            held.entry(asset).or_default().insert((kind, slot, serial));
        }
    }
    let now = crate::clock::now();
    for (asset, snap) in polls {
        let now_reported = reported(snap);
        if now_reported.is_empty() || held.get(asset) == Some(&now_reported) {
            continue;
        }
        exec!(tx, |c| sqlx::query(
            "delete from bmc_serials where asset_id = $1"
        )
        .bind(asset)
        .execute(c)
        .await)?;
        let rows: Vec<&Reported> = now_reported.iter().collect();
        for chunk in rows.chunks(100) {
            let sql = format!(
                "insert into bmc_serials (asset_id, kind, slot, serial, created_at, updated_at) values {}",
                tx.rows(chunk.len(), 6)
            );
            exec!(tx, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for (kind, slot, serial) in chunk {
                    q = q
                        .bind(asset)
                        .bind(kind)
                        .bind(slot)
                        .bind(serial)
                        .bind(now)
                        .bind(now);
                }
                q.execute(c).await
            })?;
        }
    }
    Ok(())
}

/// A serial a BMC reports, with the asset it reports it for.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReportedSerial {
    /// Asset whose BMC reports it.
    pub asset_id: i64,
    /// That asset's tag.
    pub asset_tag: String,
    /// system, chassis, cpu, memory, drive, psu.
    pub kind: String,
    /// Slot, socket or bay (empty for the system and chassis).
    pub slot: String,
    /// The serial as the BMC reports it.
    pub serial: String,
}

/// Reported serials starting with `prefix` in any case of its ASCII letters
/// (an index range over `lower(serial)`), by serial, at most `limit`.
pub async fn search(db: &Db, prefix: &str, limit: i64) -> Result<Vec<ReportedSerial>, DbError> {
    let lo = crate::inventory::units::serial_key(prefix);
    let hi = crate::inventory::units::prefix_upper(&lo);
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select b.asset_id, a.asset_tag, b.kind, b.slot, b.serial
             from bmc_serials b join assets a on a.id = b.asset_id
             where lower(b.serial) >= $1 and lower(b.serial) < $2
             order by lower(b.serial), b.id limit $3",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(limit)
        .fetch_all(p)
        .await
    })?)
}
