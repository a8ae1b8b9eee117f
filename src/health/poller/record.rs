//! The recorder: finished polls stored in batches, one transaction each,
//! and work orders opened for the alerts they raise.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::backoff;
use crate::db::{Db, DbError};
use crate::health::alerts::AlertSpec;
use crate::health::bmc::Bmc;
use crate::health::{HealthConfig, store};

/// A finished poll waiting for the recorder, and where to send the alerts it raised.
pub(super) struct Pending {
    pub(super) bmc: Bmc,
    pub(super) result: Result<crate::health::redfish::Snapshot, String>,
    pub(super) reply: oneshot::Sender<Result<Vec<AlertSpec>, DbError>>,
}

/// Polls recorded in one transaction at most.
const MAX_BATCH: usize = 64;

/// How long a finished poll waits for others to share its transaction, at
/// most (only while other polls are still reading their BMCs).
const LINGER: Duration = Duration::from_millis(500);

/// Records finished polls in batches, one transaction each (group commit).
/// A batch closes when it holds [`MAX_BATCH`] polls, when no other poll is
/// still reading its BMC (so a lone poll, a probe or the last poll of a
/// round is recorded at once), or [`LINGER`] after its first poll. Polls
/// give up their slot before they are recorded, so the wait holds up no
/// BMC. At 32 polls in flight, finishing about one every 30 ms, batches
/// were two or three polls when they closed as soon as the last transaction
/// ended, and each batch's fifteen statements and two commits were a third
/// of the process's CPU per BMC poll (poll benchmark).
pub(super) async fn recorder(
    db: Db,
    cfg: HealthConfig,
    in_flight: Arc<AtomicUsize>,
    mut rx: mpsc::UnboundedReceiver<Pending>,
) {
    while let Some(first) = rx.recv().await {
        let batch = gather(&mut rx, first, &in_flight, MAX_BATCH, LINGER).await;
        let now = crate::clock::now();
        let records: Vec<store::PollRecord<'_>> = batch
            .iter()
            .map(|p| store::PollRecord {
                bmc_id: p.bmc.id,
                asset_id: p.bmc.asset_id,
                result: p.result.as_ref().map_err(String::as_str),
                now,
                next_poll_at: now
                    + match p.result {
                        Ok(_) => backoff(&cfg, 1),
                        Err(_) => backoff(&cfg, p.bmc.consecutive_failures + 1),
                    },
            })
            .collect();
        let results: Vec<Result<Vec<AlertSpec>, DbError>> = match store::record_batch(&db, &records)
            .await
        {
            Ok(raised) => raised.into_iter().map(Ok).collect(),
            Err(e) if records.len() > 1 => {
                // One bad poll must not lose the others: record them one by one.
                tracing::warn!(error = %e, polls = records.len(), "recording a batch of polls failed; recording them one by one");
                let mut out = Vec::with_capacity(records.len());
                for r in &records {
                    out.push(
                        store::record_batch(&db, std::slice::from_ref(r))
                            .await
                            .map(|mut raised| raised.pop().unwrap_or_default()),
                    );
                }
                out
            }
            Err(e) => vec![Err(e)],
        };
        drop(records);
        if results
            .iter()
            .any(|r| r.as_ref().is_ok_and(|a| !a.is_empty()))
        {
            open_work_orders(&db, &cfg).await;
        }
        for (p, r) in batch.into_iter().zip(results) {
            let _ = p.reply.send(r);
        }
    }
}

/// A batch: `first`, then whatever else arrives until the batch holds
/// `max`, `in_flight` is 0, or `linger` has passed.
async fn gather<T>(
    rx: &mut mpsc::UnboundedReceiver<T>,
    first: T,
    in_flight: &AtomicUsize,
    max: usize,
    linger: Duration,
) -> Vec<T> {
    let mut batch = vec![first];
    let until = tokio::time::Instant::now() + linger;
    while batch.len() < max {
        if let Ok(p) = rx.try_recv() {
            batch.push(p);
            continue;
        }
        // A poll leaves the count before it is sent, so when the count is 0
        // every finished poll is here or on its way to the next batch.
        if in_flight.load(Ordering::Acquire) == 0 {
            break;
        }
        match tokio::time::timeout_at(until, rx.recv()).await {
            Ok(Some(p)) => batch.push(p),
            Ok(None) | Err(_) => break,
        }
    }
    batch
}

/// Opens a work order for each open alert that has none (one per
/// episode); a failure is logged and retried after the next alert.
pub(super) async fn open_work_orders(db: &Db, cfg: &HealthConfig) {
    let lang = crate::i18n::Lang::default();
    match crate::workorders::alerts::open_for_alerts_due(db, lang, cfg).await {
        Ok(ids) if !ids.is_empty() => {
            tracing::info!(work_orders = ?ids, "work orders opened for health alerts");
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "opening work orders for alerts failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `finished` polls waiting to be recorded.
    fn queue(finished: usize) -> (mpsc::UnboundedSender<usize>, mpsc::UnboundedReceiver<usize>) {
        let (tx, rx) = mpsc::unbounded_channel();
        for i in 0..finished {
            tx.send(i).expect("queued");
        }
        (tx, rx)
    }

    /// A linger no test outlives: a batch that ends under it ended for another reason.
    const FOREVER: Duration = Duration::from_secs(3600);

    /// [`gather`] under a deadline, so a batch that waited for its linger fails the test.
    async fn gather_now(
        rx: &mut mpsc::UnboundedReceiver<usize>,
        reading: &AtomicUsize,
        max: usize,
        linger: Duration,
    ) -> Vec<usize> {
        let first = rx.recv().await.expect("a first poll");
        tokio::time::timeout(
            Duration::from_secs(60),
            gather(rx, first, reading, max, linger),
        )
        .await
        .expect("the batch closed")
    }

    #[tokio::test]
    async fn a_batch_closes_at_once_when_no_poll_is_still_reading() {
        let (_tx, mut rx) = queue(3);
        let reading = AtomicUsize::new(0);
        assert_eq!(
            gather_now(&mut rx, &reading, 64, FOREVER).await,
            vec![0, 1, 2]
        );
    }

    #[tokio::test]
    async fn a_batch_waits_for_the_polls_still_reading_but_no_longer_than_the_linger() {
        let (tx, mut rx) = queue(1);
        let reading = Arc::new(AtomicUsize::new(2));
        // Two polls end after the batch began, each leaving the count before it is sent.
        let (tx2, reading2) = (tx.clone(), reading.clone());
        tokio::spawn(async move {
            for id in [10, 11] {
                tokio::task::yield_now().await;
                reading2.fetch_sub(1, Ordering::AcqRel);
                tx2.send(id).expect("sent");
            }
        });
        assert_eq!(
            gather_now(&mut rx, &reading, 64, FOREVER).await,
            vec![0, 10, 11]
        );

        // A poll that hangs at its BMC holds the batch up for the linger only.
        reading.store(1, Ordering::Release);
        tx.send(12).expect("sent");
        let linger = Duration::from_millis(50);
        assert_eq!(gather_now(&mut rx, &reading, 64, linger).await, vec![12]);
    }

    #[tokio::test]
    async fn a_full_batch_closes_though_polls_are_still_reading() {
        let (_tx, mut rx) = queue(70);
        let reading = AtomicUsize::new(5);
        let batch = gather_now(&mut rx, &reading, MAX_BATCH, FOREVER).await;
        assert_eq!(batch, (0..MAX_BATCH).collect::<Vec<_>>());
        assert_eq!(rx.recv().await, Some(MAX_BATCH));
    }
}
