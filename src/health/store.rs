//! Recording polls: the latest state per asset, a reading for the history,
//! state changes as events, alerts, and the BMC's schedule (next poll, backoff).
//! One transaction per batch of poll results (the poller's group commit).

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::alerts::{self, AlertSpec};
use super::redfish::Snapshot;
use crate::db::{Db, DbError, Tx};
use crate::{exec, on};

/// What a rack elevation or a list needs to know about an asset's health.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HealthSummary {
    /// Asset id.
    pub asset_id: i64,
    /// `ok`, `warning` or `critical`: the worst health the BMC reported last.
    pub worst: String,
    /// Power state (On, Off).
    pub power_state: Option<String>,
    /// Power drawn, watts.
    pub power_watts: Option<i64>,
    /// Hottest sensor, °C.
    pub max_temp_c: Option<f64>,
    /// Last successful poll, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub polled_at: OffsetDateTime,
    /// Not answering since, UTC (the BMC fails now).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub failing_since: Option<OffsetDateTime>,
}

/// The latest health of each of `asset_ids` that has been polled (for rack elevations).
pub async fn latest_for_assets(
    db: &Db,
    asset_ids: &[i64],
) -> Result<HashMap<i64, HealthSummary>, DbError> {
    if asset_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let list = asset_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    // The ids are integers formatted by us, so the list is safe to inline.
    let sql = format!(
        "select h.asset_id, h.worst, h.power_state, h.power_watts, h.max_temp_c, h.polled_at, b.failing_since
         from health_latest h left join bmcs b on b.asset_id = h.asset_id where h.asset_id in ({list})"
    );
    let rows: Vec<HealthSummary> = on!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .fetch_all(p)
        .await)?;
    Ok(rows.into_iter().map(|r| (r.asset_id, r)).collect())
}

/// The latest snapshot of an asset and when it was taken.
pub async fn latest(db: &Db, asset_id: i64) -> Result<Option<(Snapshot, OffsetDateTime)>, DbError> {
    let row: Option<(String, OffsetDateTime)> = on!(db, |p| {
        sqlx::query_as("select snapshot, polled_at from health_latest where asset_id = $1")
            .bind(asset_id)
            .fetch_optional(p)
            .await
    })?;
    Ok(row.and_then(|(s, at)| serde_json::from_str(&s).ok().map(|snap| (snap, at))))
}

/// A state change worth keeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `health`, `power`, `component`, `unreachable`, `recovered`.
    pub kind: &'static str,
    /// Component (kind:slot) or empty for the asset.
    pub component: String,
    /// Before.
    pub from: Option<String>,
    /// After.
    pub to: Option<String>,
}

/// The changes between two snapshots: asset health and power, and each
/// component's health (a component that appears or disappears counts too).
pub fn changes(prev: Option<&Snapshot>, next: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    let prev_worst = prev.map(|p| p.worst().to_owned());
    if prev_worst.as_deref() != Some(next.worst()) {
        out.push(Change {
            kind: "health",
            component: String::new(),
            from: prev_worst,
            to: Some(next.worst().to_owned()),
        });
    }
    if let Some(p) = prev {
        if p.power_state != next.power_state {
            out.push(Change {
                kind: "power",
                component: String::new(),
                from: p.power_state.clone(),
                to: next.power_state.clone(),
            });
        }
        let before: HashMap<String, Option<String>> = p
            .components()
            .into_iter()
            .map(|c| (format!("{}:{}", c.kind, c.slot), c.health))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for c in next.components() {
            let key = format!("{}:{}", c.kind, c.slot);
            let old = before.get(&key).cloned().flatten();
            if before.get(&key).is_none_or(|h| *h != c.health) {
                out.push(Change {
                    kind: "component",
                    component: key.clone(),
                    from: old,
                    to: c.health.clone().or(Some("present".into())),
                });
            }
            seen.insert(key);
        }
        for (key, h) in before {
            if !seen.contains(&key) {
                out.push(Change {
                    kind: "component",
                    component: key,
                    from: h.or(Some("present".into())),
                    to: Some("gone".into()),
                });
            }
        }
    }
    out
}

/// One finished poll to record.
#[derive(Clone, Copy, Debug)]
pub struct PollRecord<'a> {
    /// BMC row.
    pub bmc_id: i64,
    /// Its asset.
    pub asset_id: i64,
    /// What the BMC reported, or why the poll failed.
    pub result: Result<&'a Snapshot, &'a str>,
    /// When the poll ended.
    pub now: OffsetDateTime,
    /// When to poll it next.
    pub next_poll_at: OffsetDateTime,
}

/// Rows per multi-row statement (well under either engine's bind limit).
const ROWS_PER_STATEMENT: usize = 50;

/// Stores a successful poll: latest state, a reading, events, alerts, and the
/// next poll time. Returns the alerts newly raised.
pub async fn record_success(
    db: &Db,
    bmc_id: i64,
    asset_id: i64,
    snap: &Snapshot,
    now: OffsetDateTime,
    next_poll_at: OffsetDateTime,
) -> Result<Vec<AlertSpec>, DbError> {
    let mut raised = record_batch(
        db,
        &[PollRecord {
            bmc_id,
            asset_id,
            result: Ok(snap),
            now,
            next_poll_at,
        }],
    )
    .await?;
    Ok(raised.pop().unwrap_or_default())
}

/// Stores a failed poll: the reason, the failure count and the backed-off
/// next poll; the first failure of a run is an `unreachable` event.
pub async fn record_failure(
    db: &Db,
    bmc_id: i64,
    asset_id: i64,
    reason: &str,
    now: OffsetDateTime,
    next_poll_at: OffsetDateTime,
) -> Result<(), DbError> {
    record_batch(
        db,
        &[PollRecord {
            bmc_id,
            asset_id,
            result: Err(reason),
            now,
            next_poll_at,
        }],
    )
    .await?;
    Ok(())
}

/// Stores many polls in one transaction and a few multi-row statements
/// (the poller's group commit: a statement per poll per table cost more CPU
/// than the Redfish requests themselves). Returns the alerts each raised. A
/// poll whose BMC was deleted meanwhile is dropped.
pub async fn record_batch(
    db: &Db,
    polls: &[PollRecord<'_>],
) -> Result<Vec<Vec<AlertSpec>>, DbError> {
    let mut tx = db.begin().await?;
    let raised = record(&mut tx, polls).await?;
    tx.commit().await?;
    Ok(raised)
}

/// What a BMC was before a poll: its failure run and the last snapshot.
type Before = (i64, Option<OffsetDateTime>, Option<String>);

async fn record(tx: &mut Tx, polls: &[PollRecord<'_>]) -> Result<Vec<Vec<AlertSpec>>, DbError> {
    let ids: Vec<i64> = polls.iter().map(|p| p.bmc_id).collect();
    let before: HashMap<i64, Before> = tx
        .fetch_chunked::<(i64, i64, Option<OffsetDateTime>, Option<String>), _>(
            &ids,
            ROWS_PER_STATEMENT,
            |tx, n| {
                format!(
                    "select b.id, b.consecutive_failures, b.failing_since, h.snapshot
                     from bmcs b left join health_latest h on h.asset_id = b.asset_id where b.id in ({})",
                    tx.marks(1, n)
                )
            },
        )
        .await?
        .into_iter()
        .map(|(id, f, since, s)| (id, (f, since, s)))
        .collect();
    let mut events: Vec<(i64, OffsetDateTime, Change)> = Vec::new();
    let mut succeeded: Vec<(&PollRecord<'_>, Cow<'_, Snapshot>)> = Vec::new();
    for p in polls {
        let Some((failures, failing_since, prev)) = before.get(&p.bmc_id) else {
            continue;
        };
        match p.result {
            Ok(snap) => {
                if let Some(since) = failing_since {
                    events.push((
                        p.asset_id,
                        p.now,
                        Change {
                            kind: "recovered",
                            component: String::new(),
                            // RFC 3339, so a page can show it in its reader's zone.
                            from: since.format(&Rfc3339).ok(),
                            to: None,
                        },
                    ));
                }
                let prev: Option<Snapshot> =
                    prev.as_deref().and_then(|s| serde_json::from_str(s).ok());
                // A health-only poll keeps the inventory of the last full read.
                let snap = match &prev {
                    Some(full) if snap.inventory_skipped => {
                        Cow::Owned(snap.with_inventory_of(full))
                    }
                    _ => Cow::Borrowed(snap),
                };
                for c in changes(prev.as_ref(), &snap) {
                    events.push((p.asset_id, p.now, c));
                }
                succeeded.push((p, snap));
            }
            Err(reason) if *failures == 0 => events.push((
                p.asset_id,
                p.now,
                Change {
                    kind: "unreachable",
                    component: String::new(),
                    from: None,
                    to: Some(reason.chars().take(500).collect()),
                },
            )),
            Err(_) => {}
        }
    }
    insert_events(tx, &events).await?;
    let succeeded: Vec<(&PollRecord<'_>, &Snapshot)> =
        succeeded.iter().map(|(p, s)| (*p, s.as_ref())).collect();
    upsert_latest(tx, &succeeded).await?;
    let readings: Vec<_> = succeeded
        .iter()
        .map(|(p, snap)| {
            let rpms: Vec<f64> = snap
                .fans
                .iter()
                .filter(|f| {
                    f.units
                        .as_deref()
                        .is_none_or(|u| u.eq_ignore_ascii_case("rpm"))
                })
                .filter_map(|f| f.reading)
                .collect();
            super::history::RawReading {
                asset_id: p.asset_id,
                at: p.now,
                watts: snap.power_watts.map(|w| w.round() as i64),
                inlet_c: snap.inlet_temp_c(),
                max_c: snap.max_temp_c(),
                fans: super::history::Fans::of(&rpms),
            }
        })
        .collect();
    super::history::insert_raw_many(tx, &readings).await?;
    let alerting: Vec<_> = succeeded
        .iter()
        .map(|(p, snap)| (p.asset_id, *snap, p.now))
        .collect();
    let mut raised_by_asset: HashMap<i64, Vec<AlertSpec>> = alerting
        .iter()
        .map(|(a, _, _)| *a)
        .zip(alerts::sync_many(tx, &alerting).await?)
        .collect();
    // Successes polled at the same time and due again at the same time (the
    // poller's batches) are one statement.
    let mut groups: Vec<((OffsetDateTime, OffsetDateTime), Vec<i64>)> = Vec::new();
    for (p, _) in &succeeded {
        let key = (p.now, p.next_poll_at);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ids)) => ids.push(p.bmc_id),
            None => groups.push((key, vec![p.bmc_id])),
        }
    }
    for ((now, next), ids) in groups {
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let (m_now, m_now2, m_next) = (tx.marks(1, 1), tx.marks(2, 1), tx.marks(3, 1));
            let sql = format!(
                "update bmcs set consecutive_failures = 0, last_polled_at = {m_now}, last_success_at = {m_now2},
                   last_error = null, failing_since = null, next_poll_at = {m_next}, leased_by = null,
                   leased_until = null where id in ({})",
                tx.marks(4, chunk.len())
            );
            exec!(tx, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(now)
                    .bind(now)
                    .bind(next);
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(c).await
            })?;
        }
    }
    for p in polls {
        let Err(reason) = p.result else { continue };
        let reason: String = reason.chars().take(500).collect();
        exec!(tx, |c| {
            sqlx::query(
                "update bmcs set consecutive_failures = consecutive_failures + 1, last_polled_at = $1, last_error = $2,
                   failing_since = coalesce(failing_since, $1), next_poll_at = $3, leased_by = null, leased_until = null
                 where id = $4",
            )
            .bind(p.now)
            .bind(&reason)
            .bind(p.next_poll_at)
            .bind(p.bmc_id)
            .execute(c)
            .await
        })?;
    }
    Ok(polls
        .iter()
        .map(|p| match p.result {
            Ok(_) => raised_by_asset.remove(&p.asset_id).unwrap_or_default(),
            Err(_) => Vec::new(),
        })
        .collect())
}

async fn insert_events(
    tx: &mut Tx,
    events: &[(i64, OffsetDateTime, Change)],
) -> Result<(), DbError> {
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "insert into health_events (asset_id, at, kind, component, from_value, to_value, created_at, updated_at)
             values {}",
            tx.rows(chunk.len(), 8)
        );
        exec!(tx, |conn| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (asset_id, at, c) in chunk {
                q = q
                    .bind(asset_id)
                    .bind(at)
                    .bind(c.kind)
                    .bind(&c.component)
                    .bind(&c.from)
                    .bind(&c.to)
                    .bind(at)
                    .bind(at);
            }
            q.execute(conn).await
        })?;
    }
    Ok(())
}

async fn upsert_latest(tx: &mut Tx, polls: &[(&PollRecord<'_>, &Snapshot)]) -> Result<(), DbError> {
    for chunk in polls.chunks(ROWS_PER_STATEMENT) {
        let mut rows = Vec::with_capacity(chunk.len());
        for (p, snap) in chunk {
            let json = serde_json::to_string(snap)
                .map_err(|e| DbError::Other(sqlx::Error::Encode(Box::new(e))))?;
            rows.push((p, snap, json));
        }
        let sql = format!(
            "insert into health_latest (asset_id, polled_at, power_state, health, health_rollup, worst, power_watts, max_temp_c, snapshot, created_at, updated_at)
             values {}
             on conflict (asset_id) do update set polled_at = excluded.polled_at, power_state = excluded.power_state,
               health = excluded.health, health_rollup = excluded.health_rollup, worst = excluded.worst,
               power_watts = excluded.power_watts, max_temp_c = excluded.max_temp_c, snapshot = excluded.snapshot,
               updated_at = excluded.updated_at",
            tx.rows(chunk.len(), 11)
        );
        exec!(tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for (p, snap, json) in &rows {
                q = q
                    .bind(p.asset_id)
                    .bind(p.now)
                    .bind(&snap.power_state)
                    .bind(&snap.health)
                    .bind(&snap.health_rollup)
                    .bind(snap.worst())
                    .bind(snap.power_watts.map(|w| w.round() as i64))
                    .bind(snap.max_temp_c())
                    .bind(json)
                    .bind(p.now)
                    .bind(p.now);
            }
            q.execute(c).await
        })?;
    }
    let serials: Vec<(i64, &Snapshot)> = polls.iter().map(|(p, s)| (p.asset_id, *s)).collect();
    super::serials::sync(tx, &serials).await
}

/// One recorded event.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Event {
    /// Asset.
    pub asset_id: i64,
    /// When, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String)]
    pub at: OffsetDateTime,
    /// health, power, component, unreachable, recovered.
    pub kind: String,
    /// kind:slot, or empty for the asset.
    pub component: String,
    /// Before.
    pub from_value: Option<String>,
    /// After.
    pub to_value: Option<String>,
}

impl Event {
    /// For a `recovered` event, since when the BMC had not answered (UTC):
    /// stored as RFC 3339, or as `time`'s display form by older versions.
    pub fn failing_since(&self) -> Option<OffsetDateTime> {
        if self.kind != "recovered" {
            return None;
        }
        let text = self.from_value.as_deref()?.trim();
        OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
            let legacy = time::macros::format_description!(
                "[year]-[month]-[day] [hour padding:none]:[minute]:[second].[subsecond] [offset_hour sign:mandatory]:[offset_minute]:[offset_second]"
            );
            OffsetDateTime::parse(text, legacy).ok()
        })
    }
}

/// The latest events of an asset, newest first.
pub async fn events(db: &Db, asset_id: i64, limit: i64) -> Result<Vec<Event>, DbError> {
    Ok(on!(db, |p| {
        sqlx::query_as(
            "select asset_id, at, kind, component, from_value, to_value from health_events
             where asset_id = $1 order by at desc, id desc limit $2",
        )
        .bind(asset_id)
        .bind(limit)
        .fetch_all(p)
        .await
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::redfish::model::Dimm;

    fn with_dimm(health: &str) -> Snapshot {
        Snapshot {
            health: Some("OK".into()),
            power_state: Some("On".into()),
            memory: vec![Dimm {
                slot: "A1".into(),
                serial: Some("S1".into()),
                health: Some(health.into()),
                ..Dimm::default()
            }],
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_component_changing_health_is_one_change_and_the_same_state_is_none() {
        let ok = with_dimm("OK");
        let bad = with_dimm("Critical");
        assert!(changes(Some(&ok), &ok).is_empty());
        let c = changes(Some(&ok), &bad);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(
            c.iter()
                .any(|c| c.kind == "health" && c.to.as_deref() == Some("critical"))
        );
        assert!(
            c.iter()
                .any(|c| c.component == "memory:A1" && c.to.as_deref() == Some("Critical"))
        );
        let gone = Snapshot {
            memory: vec![],
            ..ok.clone()
        };
        assert!(
            changes(Some(&ok), &gone)
                .iter()
                .any(|c| c.to.as_deref() == Some("gone"))
        );
    }

    #[test]
    fn a_recovered_event_reads_its_since_in_either_stored_form() {
        let at = time::macros::datetime!(2026-12-07 03:00:00 UTC);
        let event = |from: String| Event {
            asset_id: 1,
            at,
            kind: "recovered".into(),
            component: String::new(),
            from_value: Some(from),
            to_value: None,
        };
        let rfc = event(at.format(&Rfc3339).expect("formats"));
        assert_eq!(rfc.failing_since(), Some(at));
        // What versions before RFC 3339 wrote (`OffsetDateTime`'s Display).
        let legacy = event(at.to_string());
        assert_eq!(legacy.failing_since(), Some(at));
        let other = Event {
            kind: "health".into(),
            ..event(at.to_string())
        };
        assert_eq!(other.failing_since(), None);
    }
}
