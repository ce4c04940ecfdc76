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

use crate::crm::{CrmFailure, CrmPort, TimelineJob};
use crate::store::{self, now_ms, Db};
use crate::Hub;
use rusqlite::{params, Connection};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_core::{CrmRef, EntityKind};

/// Entities written at once.
pub const CONCURRENCY: usize = 8;

/// The head of each entity's pending rows that is due now, oldest first.
pub fn due(conn: &Connection, now: i64, limit: usize) -> rusqlite::Result<Vec<TimelineJob>> {
    let mut stmt = conn.prepare(
        "SELECT q.id, q.key, q.kind, q.entity_kind, q.entity_id, q.chat, q.message_id, q.at, q.text, q.attempts, q.unsure_since_ms \
         FROM mirror_queue q \
         WHERE q.state = 'pending' AND q.next_attempt_ms <= ?1 AND q.id = \
           (SELECT min(id) FROM mirror_queue WHERE state = 'pending' AND entity_kind = q.entity_kind AND entity_id = q.entity_id) \
         ORDER BY q.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64], |r| {
        let kind: String = r.get(3)?;
        Ok(TimelineJob {
            queue_id: r.get(0)?,
            key: r.get(1)?,
            kind: r.get(2)?,
            entity: CrmRef {
                kind: EntityKind::parse(&kind).unwrap_or(EntityKind::Lead),
                id: r.get(4)?,
            },
            chat: r.get(5)?,
            message_id: r.get(6)?,
            at: r.get(7)?,
            text: r.get(8)?,
            attempts: r.get(9)?,
            unsure_since_ms: r.get(10)?,
        })
    })?;
    rows.collect()
}

pub fn next_due_ms(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT min(next_attempt_ms) FROM mirror_queue WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )
}

fn touched(conn: &Connection, job: &TimelineJob) -> Db {
    if let Some(m) = &job.message_id {
        store::record_change(conn, "message", m)?;
    }
    Ok(())
}

/// Records that an attempt starts (the CRM may write from now on). `false`: not pending any more.
pub fn begin_attempt(conn: &Connection, job: &TimelineJob, now: i64) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE mirror_queue SET attempts = attempts + 1, unsure_since_ms = coalesce(unsure_since_ms, ?2) \
         WHERE id = ?1 AND state = 'pending'",
        params![job.queue_id, now],
    )?;
    Ok(n > 0)
}

/// The first retry's pause; later ones double, up to 60 times it (a minute by default).
pub const BASE_BACKOFF: Duration = Duration::from_secs(1);

/// Pause before the next attempt after `attempts`: `base` doubling, at most 60 × `base`.
pub fn backoff(attempts: u32, base: Duration) -> Duration {
    (base * (1u32 << attempts.saturating_sub(1).min(6))).min(base * 60)
}

/// Stores what became of an attempt.
pub fn finish(
    conn: &Connection,
    job: &TimelineJob,
    outcome: &Result<String, CrmFailure>,
    now: i64,
    base: Duration,
) -> Db {
    match outcome {
        Ok(entry) => {
            conn.execute(
                "UPDATE mirror_queue SET state = 'written', crm_entry_id = ?2, error = NULL WHERE id = ?1",
                params![job.queue_id, entry],
            )?;
        }
        Err(CrmFailure::Refused(reason)) => {
            conn.execute(
                "UPDATE mirror_queue SET state = 'failed', error = ?2 WHERE id = ?1",
                params![job.queue_id, reason],
            )?;
            tracing::warn!(entry = %job.key, %reason, "CRM refused a timeline entry");
        }
        Err(CrmFailure::Retry {
            reason,
            maybe_written,
        }) => {
            // A definite "not written" leaves the unsure mark as it was before this attempt.
            let unsure = match (maybe_written, job.unsure_since_ms) {
                (_, Some(t)) => Some(t),
                (true, None) => Some(now),
                (false, None) => None,
            };
            let next = now + backoff(job.attempts + 1, base).as_millis() as i64;
            conn.execute(
                "UPDATE mirror_queue SET next_attempt_ms = ?2, error = ?3, unsure_since_ms = ?4 WHERE id = ?1",
                params![job.queue_id, next, reason, unsure],
            )?;
        }
    }
    touched(conn, job)
}

/// Re-queues a message's failed rows (a person asked). `false`: none were failed.
pub fn retry(conn: &Connection, message_id: &str) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE mirror_queue SET state = 'pending', error = NULL, attempts = 0, next_attempt_ms = 0 \
         WHERE message_id = ?1 AND state = 'failed'",
        [message_id],
    )?;
    if n > 0 {
        store::record_change(conn, "message", message_id)?;
    }
    Ok(n > 0)
}

/// Runs the queue until the hub closes, against `crm`.
pub fn spawn<C: CrmPort>(hub: Hub, crm: Arc<C>) {
    spawn_with(hub, crm, BASE_BACKOFF)
}

/// [`spawn`] with another first back-off (tests and benches shrink time with it).
pub fn spawn_with<C: CrmPort>(hub: Hub, crm: Arc<C>, base: Duration) {
    tokio::spawn(async move {
        let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
        let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let wake = hub.mirror_wake();
        let mut closed = std::pin::pin!(hub.closed());
        loop {
            let jobs = hub
                .read(|c| Ok(due(c, now_ms(), CONCURRENCY * 4)?))
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "mirror queue read failed");
                    Vec::new()
                });
            for job in jobs {
                let entity = format!("{}:{}", job.entity.kind.as_str(), job.entity.id);
                if !busy
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(entity.clone())
                {
                    continue;
                }
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (hub, crm, busy, wake) = (hub.clone(), crm.clone(), busy.clone(), wake.clone());
                tokio::spawn(async move {
                    attempt(&hub, crm.as_ref(), &job, base).await;
                    busy.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&entity);
                    drop(permit);
                    wake.notify_one();
                });
            }
            let pause = match hub.read(|c| Ok(next_due_ms(c)?)).await {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).clamp(10, 1000) as u64),
                _ => Duration::from_secs(1),
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = &mut closed => return,
            }
        }
    });
}

async fn attempt<C: CrmPort>(hub: &Hub, crm: &C, job: &TimelineJob, base: Duration) {
    let started = {
        let job = job.clone();
        hub.write(move |c| Ok(begin_attempt(c, &job, now_ms())?))
            .await
    };
    if !matches!(started, Ok(true)) {
        return;
    }
    // After an attempt that may have written, look before writing again.
    let outcome = match job.unsure_since_ms {
        Some(_) => match crm.find_timeline(job).await {
            Ok(Some(entry)) => Ok(entry),
            Ok(None) => crm.write_timeline(job).await,
            Err(e) => Err(e),
        },
        None => crm.write_timeline(job).await,
    };
    let job = job.clone();
    if let Err(e) = hub
        .write(move |c| Ok(finish(c, &job, &outcome, now_ms(), base)?))
        .await
    {
        tracing::warn!(error = %e, "mirror queue could not store an outcome");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_minute() {
        let s = Duration::from_secs(1);
        assert_eq!(backoff(1, s), Duration::from_secs(1));
        assert_eq!(backoff(3, s), Duration::from_secs(4));
        assert_eq!(backoff(30, s), Duration::from_secs(60));
    }
}
