//! Recording polls: the latest state per asset, a reading for the history,
//! state changes as events, alerts, and the BMC's schedule (next poll, backoff).
//! One transaction per poll result.

use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;

use super::alerts::{self, AlertSpec};
use super::redfish::Snapshot;
use crate::db::{Db, DbError, Tx};
use crate::{exec_tx, on_db, on_tx};

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
    let rows: Vec<HealthSummary> =
        on_db!(db, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(p)
            .await)?;
    Ok(rows.into_iter().map(|r| (r.asset_id, r)).collect())
}

/// The latest snapshot of an asset and when it was taken.
pub async fn latest(db: &Db, asset_id: i64) -> Result<Option<(Snapshot, OffsetDateTime)>, DbError> {
    let row: Option<(String, OffsetDateTime)> = on_db!(db, |p| {
        sqlx::query_as("select snapshot, polled_at from health_latest where asset_id = $1")
            .bind(asset_id)
            .fetch_optional(p)
            .await
    })?;
    Ok(row.and_then(|(s, at)| serde_json::from_str(&s).ok().map(|snap| (snap, at))))
}

async fn previous(tx: &mut Tx, asset_id: i64) -> Result<Option<Snapshot>, DbError> {
    let row: Option<String> = on_tx!(tx, |c| {
        sqlx::query_scalar("select snapshot from health_latest where asset_id = $1")
            .bind(asset_id)
            .fetch_optional(c)
            .await
    })?;
    Ok(row.and_then(|s| serde_json::from_str(&s).ok()))
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

async fn insert_event(
    tx: &mut Tx,
    asset_id: i64,
    at: OffsetDateTime,
    c: &Change,
) -> Result<(), DbError> {
    exec_tx!(tx, |conn| {
        sqlx::query(
            "insert into health_events (asset_id, at, kind, component, from_value, to_value, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $2, $2)",
        )
        .bind(asset_id)
        .bind(at)
        .bind(c.kind)
        .bind(&c.component)
        .bind(&c.from)
        .bind(&c.to)
        .execute(conn)
        .await
    })?;
    Ok(())
}

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
    let json = serde_json::to_string(snap)
        .map_err(|e| DbError::Other(sqlx::Error::Encode(Box::new(e))))?;
    let watts = snap.power_watts.map(|w| w.round() as i64);
    let mut tx = db.begin().await?;
    let prev = previous(&mut tx, asset_id).await?;
    let was_failing: Option<Option<OffsetDateTime>> = on_tx!(&mut tx, |c| {
        sqlx::query_scalar("select failing_since from bmcs where id = $1")
            .bind(bmc_id)
            .fetch_optional(c)
            .await
    })?;
    if let Some(Some(since)) = was_failing {
        let c = Change {
            kind: "recovered",
            component: String::new(),
            from: Some(since.to_string()),
            to: None,
        };
        insert_event(&mut tx, asset_id, now, &c).await?;
    }
    for c in changes(prev.as_ref(), snap) {
        insert_event(&mut tx, asset_id, now, &c).await?;
    }
    exec_tx!(&mut tx, |c| {
        sqlx::query(
            "insert into health_latest (asset_id, polled_at, power_state, health, health_rollup, worst, power_watts, max_temp_c, snapshot, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $2, $2)
             on conflict (asset_id) do update set polled_at = excluded.polled_at, power_state = excluded.power_state,
               health = excluded.health, health_rollup = excluded.health_rollup, worst = excluded.worst,
               power_watts = excluded.power_watts, max_temp_c = excluded.max_temp_c, snapshot = excluded.snapshot,
               updated_at = excluded.updated_at",
        )
        .bind(asset_id)
        .bind(now)
        .bind(&snap.power_state)
        .bind(&snap.health)
        .bind(&snap.health_rollup)
        .bind(snap.worst())
        .bind(watts)
        .bind(snap.max_temp_c())
        .bind(&json)
        .execute(c)
        .await
    })?;
    super::history::insert_raw(
        &mut tx,
        asset_id,
        now,
        watts,
        snap.inlet_temp_c(),
        snap.max_temp_c(),
    )
    .await?;
    let raised = alerts::sync(&mut tx, asset_id, snap, now).await?;
    exec_tx!(&mut tx, |c| {
        sqlx::query(
            "update bmcs set consecutive_failures = 0, last_polled_at = $1, last_success_at = $1, last_error = null,
               failing_since = null, next_poll_at = $2, leased_by = null, leased_until = null where id = $3",
        )
        .bind(now)
        .bind(next_poll_at)
        .bind(bmc_id)
        .execute(c)
        .await
    })?;
    tx.commit().await?;
    Ok(raised)
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
    let reason: String = reason.chars().take(500).collect();
    let mut tx = db.begin().await?;
    let failures: i64 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar("select consecutive_failures from bmcs where id = $1")
            .bind(bmc_id)
            .fetch_one(c)
            .await
    })?;
    if failures == 0 {
        let c = Change {
            kind: "unreachable",
            component: String::new(),
            from: None,
            to: Some(reason.clone()),
        };
        insert_event(&mut tx, asset_id, now, &c).await?;
    }
    exec_tx!(&mut tx, |c| {
        sqlx::query(
            "update bmcs set consecutive_failures = consecutive_failures + 1, last_polled_at = $1, last_error = $2,
               failing_since = coalesce(failing_since, $1), next_poll_at = $3, leased_by = null, leased_until = null
             where id = $4",
        )
        .bind(now)
        .bind(&reason)
        .bind(next_poll_at)
        .bind(bmc_id)
        .execute(c)
        .await
    })?;
    tx.commit().await?;
    Ok(())
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

/// The latest events of an asset, newest first.
pub async fn events(db: &Db, asset_id: i64, limit: i64) -> Result<Vec<Event>, DbError> {
    Ok(on_db!(db, |p| {
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
}
