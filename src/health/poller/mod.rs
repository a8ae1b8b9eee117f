//! The poller: claims due BMCs with a lease, polls each in its own task under
//! a concurrency limit and a deadline, and records the result. Several poller
//! processes can share one PostgreSQL database: a BMC is claimed by one of
//! them only (`for update skip locked`; on SQLite one conditional update under
//! the writer lock). A lease expires on its own if a poller dies mid-poll.
//!
//! `schedule.rs` claims BMCs and sets the wait after a failure, `poll.rs`
//! polls one BMC, `record.rs` records finished polls in batches, and
//! `thread.rs` runs a poller on a thread of its own.

mod poll;
mod record;
mod schedule;
mod thread;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;

use super::HealthConfig;
use super::alerts::AlertSpec;
use super::bmc::Bmc;
use super::redfish::LastInventory;
use super::secret::MasterKey;
use crate::db::{Db, DbError};
use poll::CachedClient;
use record::{Pending, open_work_orders};
use schedule::claim_bmcs;

pub use schedule::{backoff, claim};
pub use thread::{PollerThread, spawn_thread};

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
    /// The recorder's queue (its task starts with the first poll).
    record: OnceLock<mpsc::UnboundedSender<Pending>>,
    /// Polls reading their BMC now (the recorder waits for them to join a batch).
    in_flight: Arc<AtomicUsize>,
    /// BMCs claimed ahead, waiting for a free slot (a claim is a write
    /// transaction; one per finished poll cost more than the poll's records).
    ready: Mutex<std::collections::VecDeque<Bmc>>,
    /// Each BMC's last full read by this poller (see [`Depth::Since`](super::redfish::Depth::Since)).
    inventory: Mutex<HashMap<i64, LastInventory>>,
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
            record: OnceLock::new(),
            in_flight: Arc::default(),
            ready: Mutex::new(std::collections::VecDeque::new()),
            inventory: Mutex::new(HashMap::new()),
        })
    }

    /// This poller's lease name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Long enough to wait for a slot (at most one deadline, when every slot
    /// holds a BMC that hangs) and then poll within the deadline.
    fn lease_until(&self, now: OffsetDateTime) -> OffsetDateTime {
        now + time::Duration::seconds(2 * self.cfg.bmc_deadline_secs as i64 + 30)
    }
    /// Polls every BMC due when it starts, `concurrency` at a time, and
    /// waits for all: for `poll --once`, probes and tests. BMCs are claimed
    /// as slots free up, at most twice the concurrency ahead (a claimed BMC
    /// waits for a slot no longer than its lease allows), until none is due
    /// any more. A BMC is polled once per round: one polled now is due again
    /// only after the round's start, and one that failed is backed off.
    pub async fn run_round(self: &Arc<Self>) -> Result<Vec<PollOutcome>, DbError> {
        let due_at = crate::clock::now();
        let ahead = self.cfg.concurrency.max(1) * 2;
        let mut seen = HashSet::new();
        let mut set = JoinSet::new();
        let mut out = Vec::new();
        let mut exhausted = false;
        loop {
            while !exhausted && set.len() < ahead {
                let want = ahead - set.len();
                let lease = self.lease_until(crate::clock::now());
                let bmcs = match claim_bmcs(&self.db, &self.id, due_at, lease, want as i64).await {
                    Ok(b) => b,
                    Err(e) if seen.is_empty() => return Err(e),
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming BMCs failed; finishing the round with those claimed");
                        Vec::new()
                    }
                };
                exhausted = bmcs.len() < want;
                let fresh: Vec<Bmc> = bmcs.into_iter().filter(|b| seen.insert(b.id)).collect();
                if fresh.is_empty() {
                    exhausted = true;
                }
                for b in fresh {
                    let (me, permits) = (self.clone(), self.permits.clone());
                    set.spawn(async move {
                        let slot = permits
                            .acquire_owned()
                            .await
                            .map_err(|_| DbError::Other(sqlx::Error::PoolClosed))?;
                        me.poll_one(b, slot).await
                    });
                }
            }
            match set.join_next().await {
                None => break,
                Some(Ok(Ok(o))) => out.push(o),
                Some(Ok(Err(e))) => tracing::error!(error = %e, "recording a poll failed"),
                Some(Err(e)) => tracing::error!(error = %e, "poll task failed"),
            }
        }
        Ok(out)
    }

    /// Starts polling due BMCs in every free slot, without waiting for them,
    /// so one slow BMC never holds up the next tick. BMCs are claimed half
    /// the concurrency at a time (or as many as there are free slots), so a
    /// claim is not a transaction per poll (a quarter at a time, claims were
    /// one write transaction per eight polls; at half, the first poll's CPU
    /// was 1.78 and 1.59 ms against 1.81 and 1.75 ms in alternate runs of
    /// the poll benchmark, within its noise but the same way twice). Another
    /// poller sharing the fleet finds at most that many BMCs held ahead.
    async fn tick(self: &Arc<Self>) -> Result<(), DbError> {
        let free = self.permits.available_permits();
        if free == 0 {
            return Ok(());
        }
        let queued = self.ready.lock().map(|q| q.len()).unwrap_or(0);
        if queued < free {
            let batch = (self.cfg.concurrency.max(1) / 2).max(1);
            let want = (free - queued).max(batch);
            let now = crate::clock::now();
            let bmcs =
                claim_bmcs(&self.db, &self.id, now, self.lease_until(now), want as i64).await?;
            if let Ok(mut q) = self.ready.lock() {
                q.extend(bmcs);
            }
        }
        loop {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                break;
            };
            let Some(b) = self.ready.lock().ok().and_then(|mut q| q.pop_front()) else {
                break;
            };
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.poll_one(b, permit).await {
                    tracing::error!(error = %e, "recording a poll failed");
                }
            });
        }
        metrics::gauge!("rackledger_bmc_polls_in_flight")
            .set((self.cfg.concurrency.max(1) - self.permits.available_permits()) as f64);
        Ok(())
    }

    /// Runs until `shutdown`: claims due BMCs every two seconds and as soon
    /// as a poll ends (so a free slot never idles while BMCs are due), and
    /// runs the readings retention job every hour.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tracing::info!(poller = %self.id, concurrency = self.cfg.concurrency, "BMC poller started");
        // Alerts raised while no poller ran (or whose work order failed) first.
        open_work_orders(&self.db, &self.cfg).await;
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
