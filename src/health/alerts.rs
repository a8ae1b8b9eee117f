//! Alerts: a replaceable component (CPU, DIMM, drive, PSU, fan, accelerator)
//! going Warning or Critical, or failing, opens one alert per episode. The
//! episode is keyed by `kind:slot` (`open_key`, unique per asset while open),
//! so repeated polls of the same bad DIMM update one row; it resolves when the
//! component is healthy again or gone, and the next failure is a new episode.
//! Work orders are opened from alerts by the caller (see
//! [`without_work_order`] and [`set_work_order`]).

use std::collections::HashSet;

use serde::Serialize;
use time::OffsetDateTime;

use super::redfish::Snapshot;
use crate::db::{Db, DbError, Tx};
use crate::i18n::Msg;
use crate::workorders::entries::{self, NewEntry};
use crate::{exec, on};

/// Component kinds that raise alerts (temperatures only make events).
const ALERTING: [&str; 6] = ["cpu", "accelerator", "memory", "drive", "psu", "fan"];

/// Whether `slot` already names the component kind (in either language),
/// as "DIMM A5" does for `memory`: then "{component} {slot}" would say it
/// twice ("DIMM DIMM A5"), and the kind word is left out.
pub fn slot_names_kind(kind: &str, slot: &str) -> bool {
    let key = format!("health.kind.{kind}");
    let slot = slot.to_lowercase();
    [crate::i18n::Lang::En, crate::i18n::Lang::Ko]
        .into_iter()
        .any(|l| {
            let word = crate::i18n::t(l, &key).to_lowercase();
            !word.is_empty() && word != key && slot.contains(&word)
        })
}

/// The catalogue message `key` ("The BMC reports {component} {slot} …")
/// about the component `kind` in `slot`; when the slot already names the
/// kind, its `bmc2.<name>_slot` form, which says only "{slot}".
pub fn about_component(key: &str, kind: &str, slot: &str) -> Msg {
    let msg = if slot_names_kind(kind, slot) {
        let name = key.rsplit('.').next().unwrap_or(key);
        Msg::new(format!("bmc2.{name}_slot"))
    } else {
        Msg::new(key.to_owned()).arg_code("component", "health.kind", kind)
    };
    msg.arg("slot", slot)
}

/// The alert a snapshot calls for on one component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertSpec {
    /// `kind:slot`, the episode key.
    pub dedup_key: String,
    /// cpu, accelerator, memory, drive, psu or fan.
    pub kind: String,
    /// Slot, socket, bay or name.
    pub slot: String,
    /// Serial, when the BMC reports one.
    pub serial: Option<String>,
    /// Model or part number, when reported.
    pub model: Option<String>,
    /// `warning` or `critical`.
    pub severity: String,
}

/// Every alert a snapshot calls for: one per unhealthy replaceable component.
pub fn specs(snap: &Snapshot) -> Vec<AlertSpec> {
    let mut seen = HashSet::new();
    snap.components()
        .into_iter()
        .filter(|c| ALERTING.contains(&c.kind))
        .filter_map(|c| {
            let severity = c.severity()?;
            let key = format!("{}:{}", c.kind, c.slot);
            seen.insert(key.clone()).then(|| AlertSpec {
                dedup_key: key,
                kind: c.kind.to_owned(),
                slot: c.slot,
                serial: c.serial,
                model: c.model,
                severity: severity.to_owned(),
            })
        })
        .collect()
}

/// Open alerts per statement in [`sync_many`] (well under either engine's bind limit).
const ROWS_PER_STATEMENT: usize = 100;

/// Opens, updates and resolves the alerts of each asset for its snapshot, in
/// a few statements for them all (the poller records polls in batches).
/// Returns the alerts opened now (new episodes), per snapshot: one per
/// component episode, never one per poll.
pub async fn sync_many(
    tx: &mut Tx,
    polls: &[(i64, &Snapshot, OffsetDateTime)],
) -> Result<Vec<Vec<AlertSpec>>, DbError> {
    let assets: Vec<i64> = polls.iter().map(|(a, _, _)| *a).collect();
    let open: Vec<OpenRow> = tx
        .fetch_chunked(&assets, ROWS_PER_STATEMENT, |tx, n| {
            format!(
                "select id, asset_id, open_key, severity, serial, work_order_id from health_alerts
                 where open_key is not null and asset_id in ({})",
                tx.marks(1, n)
            )
        })
        .await?;
    let mut raised = Vec::with_capacity(polls.len());
    // Alerts seen again unchanged, and alerts resolved, by the time they were seen.
    let mut touched: Vec<(OffsetDateTime, i64)> = Vec::new();
    let mut resolved: Vec<(OffsetDateTime, i64)> = Vec::new();
    let mut opened: Vec<(i64, OffsetDateTime, AlertSpec)> = Vec::new();
    // What the work orders of resolved alerts are told.
    let mut entries: Vec<NewEntry> = Vec::new();
    for (asset_id, snap, now) in polls {
        let wanted = specs(snap);
        let mine: Vec<&OpenRow> = open.iter().filter(|o| o.1 == *asset_id).collect();
        let mut new = Vec::new();
        for spec in &wanted {
            match mine.iter().find(|o| o.2 == spec.dedup_key) {
                Some((id, _, _, severity, serial, _)) => {
                    // Same episode: keep one row; a Warning that turns Critical is raised in place.
                    let worse = spec.severity == "critical" && severity != "critical";
                    let new_serial = spec.serial.is_some() && spec.serial != *serial;
                    if worse || new_serial {
                        exec!(tx, |c| {
                            sqlx::query(
                                "update health_alerts set last_seen_at = $1, updated_at = $1,
                                   severity = case when $2 then 'critical' else severity end,
                                   serial = coalesce($3, serial) where id = $4",
                            )
                            .bind(now)
                            .bind(worse)
                            .bind(&spec.serial)
                            .bind(id)
                            .execute(c)
                            .await
                        })?;
                    } else {
                        touched.push((*now, *id));
                    }
                }
                None => {
                    opened.push((*asset_id, *now, spec.clone()));
                    new.push(spec.clone());
                }
            }
        }
        let keep: HashSet<&str> = wanted.iter().map(|s| s.dedup_key.as_str()).collect();
        for (id, _, key, _, _, work_order) in mine {
            if !keep.contains(key.as_str()) {
                resolved.push((*now, *id));
                if let Some(wo) = work_order {
                    entries.push(recovery_entry(snap, key, *id, *wo, *now));
                }
            }
        }
        raised.push(new);
    }
    for chunk in opened.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "insert into health_alerts (asset_id, dedup_key, open_key, component_kind, component, slot, serial, model,
               severity, opened_at, last_seen_at, created_at, updated_at)
             values {}",
            tx.rows(chunk.len(), 13)
        );
        exec!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (asset_id, now, spec) in chunk {
                q = q
                    .bind(asset_id)
                    .bind(&spec.dedup_key)
                    .bind(&spec.dedup_key)
                    .bind(&spec.kind)
                    .bind(format!("{} {}", spec.kind, spec.slot))
                    .bind(&spec.slot)
                    .bind(&spec.serial)
                    .bind(&spec.model)
                    .bind(&spec.severity);
                for _ in 0..4 {
                    q = q.bind(now);
                }
            }
            q.execute(c).await
        })?;
    }
    stamp(tx, "last_seen_at", "", &touched).await?;
    stamp(tx, "resolved_at", ", open_key = null", &resolved).await?;
    entries::add_to_active(tx, &entries).await?;
    Ok(raised)
}

/// An open alert: id, asset, key, severity, serial, work order.
type OpenRow = (i64, i64, String, String, Option<String>, Option<i64>);

/// What the work order of an alert resolved by `snap` is told: the part is
/// healthy again, or the BMC no longer reports it.
fn recovery_entry(
    snap: &Snapshot,
    key: &str,
    alert_id: i64,
    work_order_id: i64,
    at: OffsetDateTime,
) -> NewEntry {
    let (kind, slot) = key.split_once(':').unwrap_or((key, ""));
    let reported = snap
        .components()
        .iter()
        .any(|c| c.kind == kind && c.slot == slot);
    let what = if reported { "healthy_again" } else { "gone" };
    NewEntry {
        work_order_id,
        kind: what,
        message: about_component(&format!("wo_entry.{what}"), kind, slot),
        alert_id: Some(alert_id),
        at,
    }
}

/// Alerts that name this work order: all of them, and those still open.
pub async fn linked_to_work_order(tx: &mut Tx, work_order_id: i64) -> Result<(i64, i64), DbError> {
    Ok(on!(tx, |c| {
        sqlx::query_as::<_, (i64, i64)>(
            "select count(*), count(case when resolved_at is null then 1 end) from health_alerts where work_order_id = $1",
        )
        .bind(work_order_id)
        .fetch_one(c)
        .await
    })?)
}

/// Sets `column` and `updated_at` of the alerts to the time each was seen
/// (and the assignments in `also`): a statement per distinct time and chunk.
async fn stamp(
    tx: &mut Tx,
    column: &str,
    also: &str,
    rows: &[(OffsetDateTime, i64)],
) -> Result<(), DbError> {
    let mut times: Vec<OffsetDateTime> = rows.iter().map(|(at, _)| *at).collect();
    times.sort();
    times.dedup();
    for at in times {
        let ids: Vec<i64> = rows.iter().filter(|r| r.0 == at).map(|r| r.1).collect();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "update health_alerts set {column} = {}, updated_at = {}{also} where id in ({})",
                tx.marks(1, 1),
                tx.marks(2, 1),
                tx.marks(3, chunk.len())
            );
            exec!(tx, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(at)
                    .bind(at);
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(c).await
            })?;
        }
    }
    Ok(())
}

/// An alert with what a work order needs: where the asset is, and which
/// unit rackledger has in it with the reported serial (hence its part model,
/// for finding the nearest spare).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Alert {
    /// Row id.
    pub id: i64,
    /// Asset.
    pub asset_id: i64,
    /// Asset tag.
    pub asset_tag: String,
    /// Rack id, when placed.
    pub rack_id: Option<i64>,
    /// Rack name, when placed.
    pub rack_name: Option<String>,
    /// Lowest U, when placed.
    pub u_position: Option<i64>,
    /// cpu, accelerator, memory, drive, psu or fan.
    pub component_kind: String,
    /// Slot as the BMC names it.
    pub slot: Option<String>,
    /// Serial as the BMC reports it.
    pub serial: Option<String>,
    /// Model or part number as the BMC reports it.
    pub model: Option<String>,
    /// The rackledger unit with that serial, if known.
    pub unit_id: Option<i64>,
    /// Its part model (for the nearest spare of the same model).
    pub part_model_id: Option<i64>,
    /// `warning` or `critical`.
    pub severity: String,
    /// Opened, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub opened_at: OffsetDateTime,
    /// Resolved, UTC.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub resolved_at: Option<OffsetDateTime>,
    /// Work order opened for it.
    pub work_order_id: Option<i64>,
}

const ALERT_SELECT: &str = "select h.id, h.asset_id, a.asset_tag, p.rack_id, r.name as rack_name, p.u_position,
    h.component_kind, h.slot, h.serial, h.model, u.id as unit_id, u.part_model_id, h.severity, h.opened_at,
    h.resolved_at, h.work_order_id
    from health_alerts h join assets a on a.id = h.asset_id
    left join placements p on p.asset_id = h.asset_id left join racks r on r.id = p.rack_id
    left join units u on u.id = (select min(x.id) from units x where lower(x.serial) = lower(h.serial))";

/// Open alerts, critical first, newest first (the fleet page; optionally one asset).
pub async fn open(db: &Db, asset_id: Option<i64>) -> Result<Vec<Alert>, DbError> {
    let sql = format!(
        "{ALERT_SELECT} where h.resolved_at is null and (cast($1 as bigint) is null or h.asset_id = $1)
         order by h.severity = 'critical' desc, h.opened_at desc, h.id desc limit 500"
    );
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(asset_id)
    .fetch_all(p)
    .await)?)
}

/// Open alerts of assets placed at `site_id` (every open alert with `None`),
/// in the order of [`open`]: a technician's home and the fleet page's `site=`.
pub async fn open_at_site(db: &Db, site_id: Option<i64>) -> Result<Vec<Alert>, DbError> {
    let sql = format!(
        "{ALERT_SELECT} where h.resolved_at is null and (cast($1 as bigint) is null or exists (
            select 1 from rack_rows sw join rooms so on so.id = sw.room_id where sw.id = r.row_id and so.site_id = $1))
         order by h.severity = 'critical' desc, h.opened_at desc, h.id desc limit 500"
    );
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .bind(site_id)
    .fetch_all(p)
    .await)?)
}

/// Open alerts that have no work order yet, oldest first: the hook for
/// opening one work order per episode.
pub async fn without_work_order(db: &Db) -> Result<Vec<Alert>, DbError> {
    let sql = format!(
        "{ALERT_SELECT} where h.resolved_at is null and h.work_order_id is null order by h.opened_at, h.id"
    );
    Ok(on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.clone()
    ))
    .fetch_all(p)
    .await)?)
}

/// Links each alert to the work order opened for it (alert id, work order
/// id), in the caller's transaction, a hundred per statement; an alert that
/// already has one keeps it. Returns how many were linked.
pub async fn set_work_orders(tx: &mut Tx, links: &[(i64, i64)]) -> Result<u64, DbError> {
    let now = crate::clock::now();
    let mut linked = 0;
    for chunk in links.chunks(ROWS_PER_STATEMENT) {
        let n = chunk.len();
        let cases = (0..n)
            .map(|k| {
                format!(
                    "when {} then cast({} as bigint)",
                    tx.marks(1 + 2 * k, 1),
                    tx.marks(2 + 2 * k, 1)
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let sql = format!(
            "update health_alerts set work_order_id = case id {cases} end, updated_at = {}
             where work_order_id is null and id in ({})",
            tx.marks(1 + 2 * n, 1),
            tx.marks(2 + 2 * n, n)
        );
        linked += exec!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (alert, wo) in chunk {
                q = q.bind(alert).bind(wo);
            }
            q = q.bind(now);
            for (alert, _) in chunk {
                q = q.bind(alert);
            }
            q.execute(c).await
        })?;
    }
    Ok(linked)
}

/// Links an alert to the work order opened for it, in the caller's transaction.
/// Returns false when the alert already has one (so two callers cannot both open one).
pub async fn set_work_order(
    tx: &mut Tx,
    alert_id: i64,
    work_order_id: i64,
) -> Result<bool, DbError> {
    Ok(set_work_orders(tx, &[(alert_id, work_order_id)]).await? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::redfish::model::{Dimm, Temperature};

    #[test]
    fn only_unhealthy_replaceable_components_call_for_alerts() {
        let snap = Snapshot {
            memory: vec![
                Dimm {
                    slot: "A1".into(),
                    health: Some("OK".into()),
                    ..Dimm::default()
                },
                Dimm {
                    slot: "A2".into(),
                    serial: Some("S2".into()),
                    health: Some("Critical".into()),
                    ..Dimm::default()
                },
                Dimm {
                    slot: "A3".into(),
                    health: Some("Warning".into()),
                    ..Dimm::default()
                },
            ],
            temperatures: vec![Temperature {
                name: "CPU1".into(),
                health: Some("Critical".into()),
                ..Temperature::default()
            }],
            ..Snapshot::default()
        };
        let s = specs(&snap);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(
            (
                s[0].dedup_key.as_str(),
                s[0].severity.as_str(),
                s[0].serial.as_deref()
            ),
            ("memory:A2", "critical", Some("S2"))
        );
        assert_eq!(s[1].severity, "warning");
    }
}
