//! Setting 1's durable queue to the CRM timelines.
//!
//! Rows are added in the same transaction that stores the message (see `store::mirror`), one
//! per message and linked entity with its idempotency key, so a stored message always has
//! its mirror rows and a redelivered webhook adds none. A worker writes each entity's oldest
//! pending row first (order per entity), several entities at once. Before an attempt the row
//! notes that the CRM may be writing it; the attempt after such an unsure one asks the CRM
//! first ([`CrmPort::find_timeline`]) — exactly once across kill -9, timeouts and 5xx.
//! Temporary failures (outage, rate limit) are retried with back-off for as long as they
//! last: nothing is lost; a refusal marks the row `failed` with the reason (Retry re-queues).

use crate::clock::now_ms;
use crate::crm::CrmPort;
pub use crate::store::mirror_queue::*;

use crate::Hub;
use std::sync::Arc;
use std::time::Duration;

/// Runs the queue until the hub closes, against `crm`.
pub fn spawn<C: CrmPort>(hub: Hub, crm: Arc<C>) -> tokio::task::JoinHandle<()> {
    spawn_with(hub, crm, BASE_BACKOFF)
}

/// [`spawn`] with another first back-off (tests and benches shrink time with it).
///
/// One series of requests at a time (the CRM's rate limit is per portal): each round takes
/// up to [`CrmPort::max_batch`] due rows and writes them in one batch, in order.
pub fn spawn_with<C: CrmPort>(
    hub: Hub,
    crm: Arc<C>,
    base: Duration,
) -> tokio::task::JoinHandle<()> {
    let bell = hub.mirror_wake();
    crate::worker::spawn(hub, Some(bell), Mirror { crm, base })
}

/// The mirror's worker: writes due timeline entries, in order per entity.
struct Mirror<C> {
    crm: Arc<C>,
    base: Duration,
}

impl<C: CrmPort> crate::worker::Worker for Mirror<C> {
    async fn round(&mut self, hub: &Hub, _: crate::worker::Woke) -> Duration {
        let limit = self.crm.max_batch().max(1);
        // A look on a reader first: the writer is only taken when there is work.
        let waiting = hub
            .store_read(move |c| Ok(!due(c, now_ms(), 1)?.is_empty()))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "mirror queue read failed");
                false
            });
        if waiting {
            attempt(hub, self.crm.as_ref(), limit, self.base).await;
            return Duration::ZERO;
        }
        let next = hub.store_read(|c| Ok(next_due_ms(c)?)).await.ok().flatten();
        crate::worker::until_due(next, now_ms())
    }
}

async fn attempt<C: CrmPort>(hub: &Hub, crm: &C, limit: usize, base: Duration) {
    // Claimed as the rows are now, in the transaction that marks the attempt (never from an
    // older snapshot).
    let lease = crm.attempt_limit();
    let public = hub.public_url().to_owned();
    let started = hub
        .store_write(move |c| {
            let now = now_ms();
            let mut go = Vec::new();
            for mut job in due(c, now, limit)? {
                if begin_attempt(c, &mut job, now, lease, &public)? {
                    go.push(job);
                }
            }
            Ok(go)
        })
        .await;
    let jobs = match started {
        Ok(jobs) if !jobs.is_empty() => jobs,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "mirror queue could not start an attempt");
            return;
        }
    };
    // After an attempt that may have written, look before writing again. Rows found are
    // done; if the CRM cannot say, nothing is written this round.
    let mut outcomes: Vec<Option<Result<String, CrmFailure>>> = vec![None; jobs.len()];
    let unsure: Vec<usize> = (0..jobs.len())
        .filter(|i| jobs[*i].unsure_since_ms.is_some())
        .collect();
    if !unsure.is_empty() {
        let asked: Vec<TimelineJob> = unsure.iter().map(|i| jobs[*i].clone()).collect();
        match crm.find_many(&asked).await {
            Ok(found) => {
                for (i, f) in unsure.iter().zip(found) {
                    if let Some(entry) = f {
                        outcomes[*i] = Some(Ok(entry));
                    }
                }
            }
            Err(e) => outcomes[unsure[0]] = Some(Err(e)),
        }
    }
    let mut to_write: Vec<usize> = (0..jobs.len()).filter(|i| outcomes[*i].is_none()).collect();
    let first_gap = outcomes
        .iter()
        .position(|o| matches!(o, Some(Err(_))))
        .unwrap_or(jobs.len());
    to_write.retain(|i| *i < first_gap);
    let batch: Vec<TimelineJob> = to_write.iter().map(|i| jobs[*i].clone()).collect();
    let written = crm.write_batch(&batch).await;
    for (i, r) in to_write.into_iter().zip(written) {
        outcomes[i] = Some(r);
    }
    let outcomes: Vec<Result<String, CrmFailure>> = outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or(Err(CrmFailure::Retry {
                reason: "waiting for an earlier entry".into(),
                maybe_written: false,
            }))
        })
        .collect();
    if let Err(e) = hub
        .store_write(move |c| {
            let now = now_ms();
            for (job, outcome) in jobs.iter().zip(&outcomes) {
                finish(c, job, outcome, now, base)?;
            }
            Ok(())
        })
        .await
    {
        tracing::warn!(error = %e, "mirror queue could not store outcomes");
    }
}
