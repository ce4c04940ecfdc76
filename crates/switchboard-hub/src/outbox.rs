//! The hub's durable outbox to the messenger provider.
//!
//! A message to a provider channel is stored `queued` with an outbox row in the same
//! transaction as the request that made it, so nothing is lost if the hub dies after
//! answering 202. A worker sends each chat's oldest row first (order per chat), many chats
//! at once, with the message's idempotency key as `crmMessageId`.
//!
//! Exactly once: the provider refuses a `crmMessageId` it saw in the last 60 s
//! (`REPEATED_CRM_MESSAGE_ID`), which proves an earlier attempt got through. So a repeat is
//! safe when no earlier attempt may have reached the provider, or while the first attempt
//! that may have is younger than [`SAFE_REPEAT`]. Past that the message is `failed` with the
//! reason instead of risking a duplicate, and a person decides (Retry). Before each attempt
//! the row records that an attempt may be in flight, so a hub killed mid-request knows it on
//! restart. The provider's echo of the message (same text, same chat) also settles it.

use crate::clock::now_ms;
use crate::provider::ProviderClient;
pub use crate::store::outbox_queue::*;

use crate::Hub;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Sends in flight at once (different chats).
pub const CONCURRENCY: usize = 32;
/// Our own pace's window: the provider allows 500 requests per 5 s per key; we start at most
/// `ProviderConfig::pace_per_5s` sends per window so a burst queues here instead of drawing 429s.
pub const PACE_WINDOW: Duration = Duration::from_secs(5);

/// Runs the outbox until the hub closes: wakes on new rows, on finished sends and when a
/// retry falls due.
pub fn spawn(hub: Hub, client: ProviderClient) -> tokio::task::JoinHandle<()> {
    let bell = hub.outbox_wake();
    crate::worker::spawn(
        hub,
        Some(bell.clone()),
        Sender {
            pace: client.pace(),
            client,
            bell,
            busy: Arc::default(),
            permits: Arc::new(tokio::sync::Semaphore::new(CONCURRENCY)),
            started: Default::default(),
            in_flight: tokio::task::JoinSet::new(),
        },
    )
}

/// The outbox's worker: each chat's oldest due message, up to [`CONCURRENCY`] chats at once,
/// paced under the provider's limit.
struct Sender {
    client: ProviderClient,
    bell: Arc<tokio::sync::Notify>,
    /// Chats with a send in flight (a chat's messages go one after another).
    busy: Arc<Mutex<HashSet<String>>>,
    permits: Arc<tokio::sync::Semaphore>,
    /// When the sends of the last [`PACE_WINDOW`] started.
    started: std::collections::VecDeque<tokio::time::Instant>,
    pace: usize,
    /// The sends in flight: owned, so stopping the hub awaits them.
    in_flight: tokio::task::JoinSet<()>,
}

impl crate::worker::Worker for Sender {
    async fn round(&mut self, hub: &Hub, _: crate::worker::Woke) -> Duration {
        // Finished sends are collected here (their outcome is already stored).
        while self.in_flight.try_join_next().is_some() {}
        let jobs = hub
            .store_read(|c| Ok(due(c, now_ms(), CONCURRENCY * 2)?))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "outbox read failed");
                Vec::new()
            });
        for job in jobs {
            {
                let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
                if !busy.insert(job.chat.clone()) {
                    continue;
                }
            }
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                break;
            };
            // Keep under the provider's rate limit.
            let now = tokio::time::Instant::now();
            while self
                .started
                .front()
                .is_some_and(|t| now.duration_since(*t) >= PACE_WINDOW)
            {
                self.started.pop_front();
            }
            if self.started.len() >= self.pace {
                if let Some(oldest) = self.started.front() {
                    tokio::time::sleep_until(*oldest + PACE_WINDOW).await;
                }
                self.started.pop_front();
            }
            self.started.push_back(tokio::time::Instant::now());
            let (hub, client, busy, bell) = (
                hub.clone(),
                self.client.clone(),
                self.busy.clone(),
                self.bell.clone(),
            );
            self.in_flight.spawn(async move {
                attempt(&hub, &client, &job).await;
                busy.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&job.chat);
                drop(permit);
                bell.notify_one();
            });
        }
        let next = hub.store_read(|c| Ok(next_due_ms(c)?)).await.ok().flatten();
        crate::worker::until_due(next, now_ms())
    }

    /// Sends in flight finish (their outcomes are stored) before the hub lets go of its files.
    async fn stopped(&mut self) {
        while self.in_flight.join_next().await.is_some() {}
    }
}

async fn attempt(hub: &Hub, client: &ProviderClient, job: &Job) {
    let id = job.outbox_id;
    // Past the provider's timeout the attempt is over; the lease stays well inside the window
    // in which a repeat is safe, so a hub stopped mid-attempt still repeats in time.
    let lease = (client.timeout() + Duration::from_secs(5)).min(SAFE_REPEAT / 2);
    // Stopping: no new send starts (one already claimed finishes within the stop's wait).
    if hub.is_closing() {
        return;
    }
    let public = hub.public_url().to_owned();
    let claimed = hub
        .store_write(move |c| Ok(claim(c, id, now_ms(), lease, &public)?))
        .await;
    let job = match claimed {
        Ok(Some(job)) => job,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "outbox could not start an attempt");
            return;
        }
    };
    let outcome = client.send(&job.outgoing).await;
    if let SendOutcome::Retry { reason, .. } = &outcome {
        tracing::info!(message = %job.message_id, attempt = job.attempts + 1, %reason, "send will be retried");
    }
    if let Err(e) = hub
        .store_write(move |c| Ok(finish(c, &job, &outcome, now_ms())?))
        .await
    {
        tracing::warn!(error = %e, "outbox could not store an outcome");
    }
}
