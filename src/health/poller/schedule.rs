//! Who polls which BMC, and when: leases claimed on due BMCs, and the wait
//! before the next poll.

use std::time::Duration;

use time::OffsetDateTime;

use crate::db::{Db, DbError};
use crate::health::HealthConfig;
use crate::health::bmc::{self, Bmc};
use crate::on;

/// Claims up to `limit` due BMCs for `poller_id` until `lease_until`; returns their ids.
pub async fn claim(
    db: &Db,
    poller_id: &str,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(claim_bmcs(db, poller_id, now, lease_until, limit)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect())
}

/// [`claim`], returning the BMCs claimed (so a poll need not read its row again).
pub(super) async fn claim_bmcs(
    db: &Db,
    poller_id: &str,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Bmc>, DbError> {
    let mut tx = db.begin().await?;
    // PostgreSQL skips rows another poller holds; SQLite's BEGIN IMMEDIATE
    // already holds the writer lock, so its select and update are one step.
    let lock = match &tx {
        crate::db::Tx::Postgres(_) => "for update skip locked",
        crate::db::Tx::Sqlite(_) => "",
    };
    let sql = format!(
        "update bmcs set leased_by = $1, leased_until = $2
         where id in (select id from bmcs where enabled and next_poll_at <= $3
                        and (leased_until is null or leased_until < $3)
                      order by next_poll_at, id limit $4 {lock})
         returning {}",
        bmc::BMC_COLUMNS
    );
    let mut bmcs: Vec<Bmc> = on!(&mut tx, |c| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(poller_id)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await
    })?;
    tx.commit().await?;
    bmcs.sort_by_key(|b| (b.next_poll_at, b.id));
    Ok(bmcs)
}

/// The wait before the next poll after `failures` failures in a row:
/// the interval, doubled per further failure, up to the cap.
pub fn backoff(cfg: &HealthConfig, failures: i64) -> Duration {
    let base = cfg.poll_interval_secs.max(1);
    let shift = failures.clamp(1, 20) as u32 - 1;
    Duration::from_secs(
        base.saturating_mul(1u64 << shift)
            .min(cfg.backoff_cap_secs.max(base)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_per_failure_up_to_the_cap() {
        let cfg = HealthConfig {
            poll_interval_secs: 60,
            backoff_cap_secs: 600,
            ..HealthConfig::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| backoff(&cfg, n).as_secs()).collect();
        assert_eq!(waits, vec![60, 120, 240, 480, 600, 600]);
        assert_eq!(backoff(&cfg, 1000).as_secs(), 600);
    }
}
