//! One poll of one BMC: its client (kept across polls), how deep to read
//! it, the read under the deadline, its metrics, and the hand-over to the
//! recorder.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot};
use tracing::instrument;

use super::record::{Pending, recorder};
use super::{PollOutcome, Poller, backoff};
use crate::db::DbError;
use crate::health::bmc::{self, Bmc};
use crate::health::redfish::{Depth, FetchError, LastInventory, RedfishClient, Schema, collect_at};

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
        FetchError::TooManyRedirects(_) => "redirect_loop",
        FetchError::Malformed(_) => "malformed",
        FetchError::BadUrl(_) => "bad_url",
    }
}

/// A client kept for a BMC, with the fingerprint of the settings it was built from.
pub(super) type CachedClient = (Vec<u8>, Arc<RedfishClient>);

/// One poll counted in [`Poller::in_flight`] until dropped.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
impl Poller {
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
        // Another address or account may be another machine.
        self.set_inventory(b.id, None);
        Ok(client)
    }

    fn set_inventory(&self, bmc_id: i64, mark: Option<LastInventory>) {
        if let Ok(mut map) = self.inventory.lock() {
            match mark {
                Some(m) => map.insert(bmc_id, m),
                None => map.remove(&bmc_id),
            };
        }
    }

    /// How deep to read a BMC: everything when it was asked for before its
    /// schedule ("poll now", a saved BMC), else health unless the inventory is due.
    fn depth_for(&self, b: &Bmc) -> (Option<LastInventory>, Duration) {
        let interval = time::Duration::seconds(backoff(&self.cfg, 1).as_secs() as i64);
        let early = b
            .last_polled_at
            .is_some_and(|last| b.next_poll_at + time::Duration::SECOND < last + interval);
        let last = if early {
            None
        } else {
            self.inventory
                .lock()
                .ok()
                .and_then(|m| m.get(&b.id).cloned())
        };
        (
            last,
            Duration::from_secs(self.cfg.inventory_interval_secs.max(1)),
        )
    }

    /// Polls one claimed BMC in `slot` and records the result; the slot is
    /// given back as soon as the BMC has answered, before the recording.
    #[instrument(skip_all, fields(bmc = b.id))]
    pub(super) async fn poll_one(
        self: Arc<Self>,
        b: Bmc,
        slot: OwnedSemaphorePermit,
    ) -> Result<PollOutcome, DbError> {
        let started = Instant::now();
        let reading = InFlight::enter(&self.in_flight);
        let deadline = Duration::from_secs(self.cfg.bmc_deadline_secs.max(1));
        let result: Result<crate::health::redfish::Snapshot, (String, &'static str)> =
            match self.client(&b).await {
                Err(e) => Err((e.to_string(), "credentials")),
                Ok(client) => {
                    let (last, max_age) = self.depth_for(&b);
                    let depth = Depth::Since(last.as_ref(), max_age);
                    match tokio::time::timeout(deadline, collect_at(client, Schema::Auto, depth))
                        .await
                    {
                        Err(_) => Err((
                            format!(
                                "no complete answer within the {}s deadline",
                                deadline.as_secs()
                            ),
                            "deadline",
                        )),
                        Ok(Err(e)) => Err((e.to_string(), failure_kind(&e))),
                        Ok(Ok((snap, mark))) => {
                            if mark.is_some() {
                                self.set_inventory(b.id, mark);
                            }
                            Ok(snap)
                        }
                    }
                }
            };
        if result.is_err() {
            // Parts may be swapped while a machine is down: read everything when it is back.
            self.set_inventory(b.id, None);
        }
        let elapsed = started.elapsed().as_secs_f64();
        metrics::histogram!("rackledger_bmc_poll_duration_seconds").record(elapsed);
        let error = match &result {
            Ok(_) => {
                metrics::counter!("rackledger_bmc_polls_total", "outcome" => "ok").increment(1);
                None
            }
            Err((reason, kind)) => {
                tracing::warn!(bmc = b.id, reason = %reason, "BMC poll failed");
                metrics::counter!("rackledger_bmc_polls_total", "outcome" => "failed").increment(1);
                metrics::counter!("rackledger_bmc_poll_failures_total", "reason" => *kind)
                    .increment(1);
                Some(reason.clone())
            }
        };
        let (bmc_id, asset_id) = (b.id, b.asset_id);
        let (reply, replied) = oneshot::channel();
        let pending = Pending {
            bmc: b,
            result: result.map_err(|(reason, _)| reason),
            reply,
        };
        let queue = self.record.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(recorder(
                self.db.clone(),
                self.cfg.clone(),
                self.in_flight.clone(),
                rx,
            ));
            tx
        });
        // Out of the count before it is sent (see `recorder`), and the slot free for the next BMC.
        drop(reading);
        drop(slot);
        self.slot_freed.notify_one();
        queue
            .send(pending)
            .map_err(|_| DbError::Other(sqlx::Error::WorkerCrashed))?;
        let raised = replied
            .await
            .map_err(|_| DbError::Other(sqlx::Error::WorkerCrashed))??;
        Ok(PollOutcome {
            bmc_id,
            asset_id,
            error,
            raised,
            started,
            finished: Instant::now(),
        })
    }
}
