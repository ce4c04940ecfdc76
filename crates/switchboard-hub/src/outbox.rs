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

use crate::clock::{self, now_ms};
use crate::provider::{Outgoing, ProviderClient, SendOutcome};
use crate::store::{self, Db};
use crate::Hub;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::MessageStatus;

/// Attempts before a message is `failed`.
pub const MAX_ATTEMPTS: u32 = 8;
/// A repeat after an unsure attempt is safe this long (the provider remembers 60 s).
pub const SAFE_REPEAT: Duration = Duration::from_secs(50);
/// Sends in flight at once (different chats).
pub const CONCURRENCY: usize = 32;
/// Our own pace's window: the provider allows 500 requests per 5 s per key; we start at most
/// `ProviderConfig::pace_per_5s` sends per window so a burst queues here instead of drawing 429s.
pub const PACE_WINDOW: Duration = Duration::from_secs(5);

/// One send to make.
#[derive(Debug, Clone)]
pub struct Job {
    pub outbox_id: i64,
    pub message_id: String,
    pub chat: String,
    pub attempts: u32,
    pub unsure_since_ms: Option<i64>,
    pub outgoing: Outgoing,
}

/// The head of each chat's queue that is due now, oldest first.
pub fn due(conn: &Connection, now: i64, limit: usize) -> rusqlite::Result<Vec<Job>> {
    let mut stmt = conn.prepare(&format!("{DUE} ORDER BY o.id LIMIT ?2"))?;
    let rows = stmt.query_map(params![now, limit as i64], job_row)?;
    rows.collect()
}

/// Heads of chats' queues whose time has come, with what sending them needs.
const DUE: &str = "SELECT o.id, o.message_id, o.chat, o.attempts, o.unsure_since_ms, \
        m.text, m.author_id, m.idempotency_key, c.channel_id, c.chat_type, c.chat_id \
     FROM outbox o JOIN messages m ON m.id = o.message_id JOIN chats c ON c.id = o.chat \
     WHERE o.id = (SELECT min(id) FROM outbox WHERE chat = o.chat) AND o.next_attempt_ms <= ?1";

fn job_row(r: &rusqlite::Row) -> rusqlite::Result<Job> {
    let message_id: String = r.get(1)?;
    let key: Option<String> = r.get(7)?;
    Ok(Job {
        outbox_id: r.get(0)?,
        chat: r.get(2)?,
        attempts: r.get(3)?,
        unsure_since_ms: r.get(4)?,
        outgoing: Outgoing {
            text: r.get(5)?,
            crm_user_id: r.get(6)?,
            crm_message_id: key.unwrap_or_else(|| message_id.clone()),
            channel_id: r.get(8)?,
            chat_type: r.get(9)?,
            chat_id: r.get(10)?,
        },
        message_id,
    })
}

/// When the next row (of any chat) is due, if any.
pub fn next_due_ms(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    // Only each chat's head can be due (a later row waits for it, whatever its own time).
    conn.query_row(
        "SELECT min(o.next_attempt_ms) FROM outbox o WHERE o.id = (SELECT min(id) FROM outbox WHERE chat = o.chat)",
        [],
        |r| r.get(0),
    )
}

/// Claims a row for an attempt, reading it again in the claiming transaction: `None` when it
/// is gone, not due any more (another attempt moved it on since `due` was read), or a repeat
/// is no longer safe (then the message is `failed` with the reason). The job returned is the
/// row as it is now, so the attempt and its outcome never act on a stale snapshot (which
/// could repeat early or erase the "may have been delivered" mark). The row notes that an
/// attempt may be in flight before the attempt is made, and is leased for `lease`: it is not
/// due (and wakes nobody) while the attempt runs; a hub stopped mid-attempt tries again after it.
pub fn claim(
    conn: &Connection,
    outbox_id: i64,
    now: i64,
    lease: Duration,
) -> rusqlite::Result<Option<Job>> {
    let job = conn
        .query_row(
            &format!("{DUE} AND o.id = ?2"),
            params![now, outbox_id],
            job_row,
        )
        .optional()?;
    let Some(job) = job else {
        return Ok(None);
    };
    if let Some(since) = job.unsure_since_ms {
        if now - since > SAFE_REPEAT.as_millis() as i64 {
            fail(
                conn,
                &job,
                "not confirmed: the provider may have received it, so it was not repeated \
                 automatically (a repeat could reach the client twice)",
            )?;
            return Ok(None);
        }
    }
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, unsure_since_ms = coalesce(unsure_since_ms, ?2), \
         next_attempt_ms = ?3 WHERE id = ?1",
        params![job.outbox_id, now, now + lease.as_millis() as i64],
    )?;
    Ok(Some(job))
}

fn fail(conn: &Connection, job: &Job, reason: &str) -> Db {
    conn.execute("DELETE FROM outbox WHERE id = ?1", [job.outbox_id])?;
    conn.execute(
        "UPDATE messages SET status = 'failed', error = ?2 WHERE id = ?1",
        params![job.message_id, reason],
    )?;
    store::record_change(conn, store::ChangeKind::Message, &job.message_id)?;
    tracing::warn!(message = %job.message_id, %reason, "send failed");
    Ok(())
}

/// Pause before attempt `n + 1` (n ≥ 1 attempts made): 0.5 s doubling, at most 8 s.
pub fn backoff(attempts: u32, rate_limited: bool) -> Duration {
    let exp = attempts.saturating_sub(1).min(5);
    let d = Duration::from_millis(500 * (1u64 << exp)).min(Duration::from_secs(8));
    if rate_limited {
        // The provider's window is 5 s; a second apart spreads the retries over it.
        d.max(Duration::from_secs(1))
    } else {
        d
    }
}

/// Stores what became of an attempt.
pub fn finish(conn: &Connection, job: &Job, outcome: &SendOutcome, now: i64) -> Db {
    match outcome {
        SendOutcome::Accepted(provider_id) => {
            conn.execute("DELETE FROM outbox WHERE id = ?1", [job.outbox_id])?;
            // The echo may have named it already; the first name stays.
            conn.execute(
                "UPDATE OR IGNORE messages SET provider_message_id = ?2 WHERE id = ?1 AND provider_message_id IS NULL",
                params![job.message_id, provider_id],
            )?;
            store::raise_status(conn, &job.message_id, MessageStatus::Accepted)
        }
        SendOutcome::AlreadyAccepted => {
            conn.execute("DELETE FROM outbox WHERE id = ?1", [job.outbox_id])?;
            store::raise_status(conn, &job.message_id, MessageStatus::Accepted)
        }
        SendOutcome::Refused(reason) => fail(conn, job, reason),
        SendOutcome::Retry {
            reason,
            maybe_accepted,
            rate_limited,
        } => {
            // A 429 says for certain the provider did not take it: it costs no attempt.
            let attempts = if *rate_limited {
                conn.execute(
                    "UPDATE outbox SET attempts = attempts - 1 WHERE id = ?1",
                    [job.outbox_id],
                )?;
                job.attempts.max(1)
            } else {
                job.attempts + 1
            };
            if attempts >= MAX_ATTEMPTS {
                let reason = if job.unsure_since_ms.is_some() || *maybe_accepted {
                    format!("gave up after {attempts} attempts ({reason}); the provider may have received it")
                } else {
                    format!("gave up after {attempts} attempts ({reason})")
                };
                return fail(conn, job, &reason);
            }
            // A definite "not taken" leaves the unsure mark as it was before this attempt.
            let unsure = if *maybe_accepted {
                job.unsure_since_ms.unwrap_or(now)
            } else {
                job.unsure_since_ms.unwrap_or(-1)
            };
            let next = now + backoff(attempts, *rate_limited).as_millis() as i64;
            conn.execute(
                "UPDATE outbox SET next_attempt_ms = ?2, last_error = ?3, unsure_since_ms = nullif(?4, -1) WHERE id = ?1",
                params![job.outbox_id, next, reason, unsure],
            )?;
            Ok(())
        }
    }
}

/// A failed message goes back on the outbox (a person chose to retry). `false`: not failed.
pub fn retry(conn: &Connection, message_id: &str) -> rusqlite::Result<bool> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT chat, status FROM messages WHERE id = ?1 AND direction = 'out'",
            [message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((chat, status)) = row else {
        return Ok(false);
    };
    if status != "failed" {
        return Ok(false);
    }
    conn.execute(
        "UPDATE messages SET status = 'queued', error = NULL WHERE id = ?1",
        [message_id],
    )?;
    store::enqueue_send(conn, message_id, &chat, &clock::now())?;
    store::record_change(conn, store::ChangeKind::Message, message_id)?;
    Ok(true)
}

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
    let claimed = hub
        .store_write(move |c| Ok(claim(c, id, now_ms(), lease)?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_snapshot_neither_repeats_early_nor_erases_the_unsure_mark() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("open");
        conn.execute_batch(
            "INSERT INTO chats (id, channel_id, chat_type, chat_id, title, last_activity_at) VALUES ('c', 'ch', 'whatsapp', '79990000001', 'C', 'x');
             INSERT INTO messages (id, chat, idempotency_key, direction, text, at, status) VALUES ('m', 'c', 'k', 'out', 'hi', 'x', 'queued');",
        )
        .expect("seed");
        let now = 1_000_000;
        conn.execute(
            "INSERT INTO outbox (message_id, chat, next_attempt_ms) VALUES ('m', 'c', ?1)",
            [now],
        )
        .expect("enqueue");
        let retry = |maybe_accepted| SendOutcome::Retry {
            reason: "timeout".into(),
            maybe_accepted,
            rate_limited: false,
        };
        // The worker read the queue; meanwhile an attempt that may have reached the provider ended.
        let stale = due(&conn, now, 10).expect("due").remove(0);
        let lease = Duration::from_secs(15);
        let job = claim(&conn, stale.outbox_id, now, lease)
            .expect("claim")
            .expect("due");
        // While the attempt runs, the row is leased: it neither is due nor wakes the worker.
        assert_eq!(next_due_ms(&conn).expect("next"), Some(now + 15_000));
        finish(&conn, &job, &retry(true), now).expect("finish");
        // The stale snapshot is not sent again before its back-off ends.
        assert!(claim(&conn, stale.outbox_id, now + 1, lease)
            .expect("claim")
            .is_none());
        // Once due, the claimed job carries the mark, and an attempt that surely failed keeps it.
        let later = now + backoff(1, false).as_millis() as i64;
        let job = claim(&conn, stale.outbox_id, later, lease)
            .expect("claim")
            .expect("due again");
        assert_eq!(job.unsure_since_ms, Some(now));
        finish(&conn, &job, &retry(false), later).expect("finish");
        let unsure: Option<i64> = conn
            .query_row("SELECT unsure_since_ms FROM outbox", [], |r| r.get(0))
            .expect("row");
        assert_eq!(
            unsure,
            Some(now),
            "the may-have-been-delivered mark survives"
        );
        // Past the provider's memory of the key, no automatic repeat: failed with the reason.
        let too_late = now + SAFE_REPEAT.as_millis() as i64 + 1;
        assert!(claim(&conn, stale.outbox_id, too_late, lease)
            .expect("claim")
            .is_none());
        let status: String = conn
            .query_row("SELECT status FROM messages WHERE id = 'm'", [], |r| {
                r.get(0)
            })
            .expect("row");
        assert_eq!(status, "failed");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1, false), Duration::from_millis(500));
        assert_eq!(backoff(2, false), Duration::from_secs(1));
        assert_eq!(backoff(20, false), Duration::from_secs(8));
        assert_eq!(backoff(1, true), Duration::from_secs(1));
        // Every automatic repeat fits inside the provider's 60 s memory of our key.
        let total: Duration = (1..MAX_ATTEMPTS).map(|n| backoff(n, false)).sum();
        assert!(total < SAFE_REPEAT, "{total:?}");
    }
}
