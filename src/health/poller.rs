//! The poller: claims due BMCs with a lease, polls each in its own task under
//! a concurrency limit and a deadline, and records the result. Several poller
//! processes can share one PostgreSQL database: a BMC is claimed by one of
//! them only (`for update skip locked`; on SQLite one conditional update under
//! the writer lock). A lease expires on its own if a poller dies mid-poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::instrument;

use super::alerts::AlertSpec;
use super::bmc::{self, Bmc};
use super::redfish::{FetchError, RedfishClient, Schema, collect};
use super::secret::MasterKey;
use super::{HealthConfig, store};
use crate::db::{Db, DbError};
use crate::on_tx;

/// How one poll of one BMC ended.
#[derive(Clone, Debug)]
pub struct PollOutcome {
    /// BMC row.
    pub bmc_id: i64,
    /// Its asset.
    pub asset_id: i64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// Alerts opened by this poll.
    pub raised: Vec<AlertSpec>,
    /// When the poll started and ended (monotonic).
    pub started: Instant,
    /// When the result was stored.
    pub finished: Instant,
}

/// Claims up to `limit` due BMCs for `poller_id` until `lease_until`; returns their ids.
pub async fn claim(
    db: &Db,
    poller_id: &str,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<i64>, DbError> {
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
         returning id"
    );
    let ids: Vec<i64> = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(poller_id)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await
    })?;
    tx.commit().await?;
    Ok(ids)
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

/// Short label of a failure, for metrics.
fn failure_kind(e: &FetchError) -> &'static str {
    match e {
        FetchError::Timeout => "timeout",
        FetchError::Connect(_) => "connect",
        FetchError::Tls(_) => "tls",
        FetchError::Status(_) => "http_status",
        FetchError::Auth(_) => "auth",
        FetchError::TooLarge(_) => "too_large",
        FetchError::OffHost(_) => "off_host",
        FetchError::Malformed(_) => "malformed",
        FetchError::BadUrl(_) => "bad_url",
    }
}

/// A client kept for a BMC, with the fingerprint of the settings it was built from.
type CachedClient = (Vec<u8>, Arc<RedfishClient>);

/// A poller: its identity, settings, key and the clients it keeps per BMC.
pub struct Poller {
    db: Db,
    cfg: HealthConfig,
    key: Option<MasterKey>,
    id: String,
    clients: Mutex<HashMap<i64, CachedClient>>,
    permits: Arc<Semaphore>,
    /// Rung when a poll ends, so its slot is refilled at once rather than
    /// at the next tick.
    slot_freed: Notify,
}

impl Poller {
    /// A poller over `db`; `key` opens stored BMC passwords.
    pub fn new(db: Db, cfg: HealthConfig, key: Option<MasterKey>) -> Arc<Poller> {
        let token = crate::auth::random_token();
        let id = format!("{}-{}", std::process::id(), &token[..8]);
        Arc::new(Poller {
            permits: Arc::new(Semaphore::new(cfg.concurrency.max(1))),
            db,
            cfg,
            key,
            id,
            clients: Mutex::new(HashMap::new()),
            slot_freed: Notify::new(),
        })
    }

    /// This poller's lease name.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn lease_until(&self, now: OffsetDateTime) -> OffsetDateTime {
        now + time::Duration::seconds(self.cfg.bmc_deadline_secs as i64 + 30)
    }

    /// The client for a BMC, reused across polls (connections and session)
    /// until its URL, user, password, TLS policy or CA change.
    async fn client(&self, b: &Bmc) -> anyhow::Result<Arc<RedfishClient>> {
        use sha2::Digest;
        let creds = bmc::credentials(&self.db, self.key.as_ref(), b).await?;
        let mut h = sha2::Sha256::new();
        for part in [
            b.url.as_str(),
            b.username.as_str(),
            b.tls_policy.as_str(),
            b.ca_cert_pem.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        if let Some(c) = &creds {
            h.update(c.password.as_bytes());
        }
        let fingerprint: Vec<u8> = h.finalize().to_vec();
        if let Ok(map) = self.clients.lock()
            && let Some((f, c)) = map.get(&b.id)
            && *f == fingerprint
        {
            return Ok(c.clone());
        }
        let client = Arc::new(RedfishClient::new(
            &b.url,
            &b.tls(),
            creds,
            self.cfg.limits(),
        )?);
        if let Ok(mut map) = self.clients.lock() {
            map.insert(b.id, (fingerprint, client.clone()));
        }
        Ok(client)
    }

    /// Polls one claimed BMC and records the result.
    #[instrument(skip_all, fields(bmc = bmc_id))]
    async fn poll_one(self: Arc<Self>, bmc_id: i64) -> Result<PollOutcome, DbError> {
        let started = Instant::now();
        let b = bmc::get(&self.db, bmc_id).await?;
        let deadline = Duration::from_secs(self.cfg.bmc_deadline_secs.max(1));
        let result: Result<super::redfish::Snapshot, (String, &'static str)> =
            match self.client(&b).await {
                Err(e) => Err((e.to_string(), "credentials")),
                Ok(client) => {
                    match tokio::time::timeout(deadline, collect(client, Schema::Auto)).await {
                        Err(_) => Err((
                            format!(
                                "no complete answer within the {}s deadline",
                                deadline.as_secs()
                            ),
                            "deadline",
                        )),
                        Ok(Err(e)) => Err((e.to_string(), failure_kind(&e))),
                        Ok(Ok(snap)) => Ok(snap),
                    }
                }
            };
        let now = crate::clock::now();
        let elapsed = started.elapsed().as_secs_f64();
        metrics::histogram!("rackledger_bmc_poll_duration_seconds").record(elapsed);
        let (error, raised) = match result {
            Ok(snap) => {
                let next = now + backoff(&self.cfg, 1);
                let raised =
                    store::record_success(&self.db, b.id, b.asset_id, &snap, now, next).await?;
                metrics::counter!("rackledger_bmc_polls_total", "outcome" => "ok").increment(1);
                if !raised.is_empty() {
                    self.open_work_orders().await;
                }
                (None, raised)
            }
            Err((reason, kind)) => {
                tracing::warn!(bmc = b.id, reason = %reason, "BMC poll failed");
                let next = now + backoff(&self.cfg, b.consecutive_failures + 1);
                store::record_failure(&self.db, b.id, b.asset_id, &reason, now, next).await?;
                metrics::counter!("rackledger_bmc_polls_total", "outcome" => "failed").increment(1);
                metrics::counter!("rackledger_bmc_poll_failures_total", "reason" => kind)
                    .increment(1);
                (Some(reason), Vec::new())
            }
        };
        Ok(PollOutcome {
            bmc_id: b.id,
            asset_id: b.asset_id,
            error,
            raised,
            started,
            finished: Instant::now(),
        })
    }

    /// Opens a work order for each open alert that has none (one per
    /// episode); a failure is logged and retried after the next alert.
    async fn open_work_orders(&self) {
        let lang = crate::i18n::Lang::default();
        match crate::workorders::alerts::open_for_alerts(&self.db, lang).await {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(work_orders = ?ids, "work orders opened for health alerts");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "opening work orders for alerts failed"),
        }
    }

    /// Claims every due BMC (up to the concurrency limit times four), polls
    /// them concurrently, and waits for all: for `poll --once`, probes and tests.
    pub async fn run_round(self: &Arc<Self>) -> Result<Vec<PollOutcome>, DbError> {
        let now = crate::clock::now();
        let limit = (self.cfg.concurrency.max(1) * 4) as i64;
        let ids = claim(&self.db, &self.id, now, self.lease_until(now), limit).await?;
        let mut set = JoinSet::new();
        for id in ids {
            let (me, permits) = (self.clone(), self.permits.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                me.poll_one(id).await
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            match r {
                Ok(Ok(o)) => out.push(o),
                Ok(Err(e)) => tracing::error!(error = %e, "recording a poll failed"),
                Err(e) => tracing::error!(error = %e, "poll task failed"),
            }
        }
        Ok(out)
    }

    /// Claims as many due BMCs as there are free slots and starts polling
    /// them without waiting, so one slow BMC never holds up the next tick.
    async fn tick(self: &Arc<Self>) -> Result<(), DbError> {
        let free = self.permits.available_permits();
        if free == 0 {
            return Ok(());
        }
        let now = crate::clock::now();
        let ids = claim(&self.db, &self.id, now, self.lease_until(now), free as i64).await?;
        metrics::gauge!("rackledger_bmc_polls_in_flight")
            .set((self.cfg.concurrency.max(1) - free + ids.len()) as f64);
        for id in ids {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                break;
            };
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.clone().poll_one(id).await {
                    tracing::error!(error = %e, "recording a poll failed");
                }
                drop(permit);
                me.slot_freed.notify_one();
            });
        }
        Ok(())
    }

    /// Runs until `shutdown`: claims due BMCs every two seconds and as soon
    /// as a poll ends (so a free slot never idles while BMCs are due), and
    /// runs the readings retention job every hour.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tracing::info!(poller = %self.id, concurrency = self.cfg.concurrency, "BMC poller started");
        // Alerts raised while no poller ran (or whose work order failed) first.
        self.open_work_orders().await;
        let mut tick = tokio::time::interval(Duration::from_secs(2));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut compaction = tokio::time::interval(Duration::from_secs(3600));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = tick.tick() => {
                    if let Err(e) = self.tick().await {
                        tracing::warn!(error = %e, "claiming BMCs failed");
                    }
                }
                () = self.slot_freed.notified() => {
                    if let Err(e) = self.tick().await {
                        tracing::warn!(error = %e, "claiming BMCs failed");
                    }
                }
                _ = compaction.tick() => {
                    let now = crate::clock::now();
                    match super::history::compact(&self.db, now, self.cfg.raw_retention_days, self.cfg.hourly_retention_days).await {
                        Ok(c) => tracing::info!(folded = c.raw_folded, hours = c.hours_written, "health readings compacted"),
                        Err(e) => tracing::warn!(error = %e, "compacting health readings failed"),
                    }
                }
            }
        }
        tracing::info!(poller = %self.id, "BMC poller stopped");
    }
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
