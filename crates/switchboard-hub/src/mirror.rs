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
use crate::crm::{CrmFailure, CrmPort, TimelineJob};
use crate::store::{self, Db};
use crate::Hub;
use rusqlite::{params, Connection};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::{CrmRef, EntityKind};

/// Pending rows looked at per round.
const WINDOW: i64 = 1000;

/// Up to `limit` rows to write now, oldest first. An entity's rows are taken in order and
/// only while each is due: a row waiting for its retry holds back the entity's later rows,
/// so every entity's timeline stays in order.
pub fn due(conn: &Connection, now: i64, limit: usize) -> rusqlite::Result<Vec<TimelineJob>> {
    let mut stmt = conn.prepare(
        "SELECT id, key, kind, entity_kind, entity_id, chat, message_id, at, text, attempts, unsure_since_ms, next_attempt_ms \
         FROM mirror_queue WHERE state = 'pending' ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([WINDOW], |r| {
        let kind: String = r.get(3)?;
        Ok((
            TimelineJob {
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
            },
            r.get::<_, i64>(11)?,
        ))
    })?;
    let mut blocked: HashSet<(EntityKind, String)> = HashSet::new();
    let mut out = Vec::new();
    for row in rows {
        let (job, next_attempt) = row?;
        let entity = (job.entity.kind, job.entity.id.clone());
        if blocked.contains(&entity) {
            continue;
        }
        if next_attempt > now {
            blocked.insert(entity);
            continue;
        }
        out.push(job);
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

pub fn next_due_ms(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    // Only the first pending row of each entity can be due: a later one waits for it, so its
    // own (past) time must not wake the worker — during an outage that was a spin at 100/s.
    conn.query_row(
        "SELECT min(q.next_attempt_ms) FROM mirror_queue q WHERE q.state = 'pending' AND q.id = \
         (SELECT min(p.id) FROM mirror_queue p WHERE p.state = 'pending' \
          AND p.entity_kind = q.entity_kind AND p.entity_id = q.entity_id)",
        [],
        |r| r.get(0),
    )
}

fn touched(conn: &Connection, job: &TimelineJob) -> Db {
    if let Some(m) = &job.message_id {
        store::record_change(conn, store::ChangeKind::Message, m)?;
    }
    Ok(())
}

/// Records that an attempt starts (the CRM may write from now on) and leases the entry for
/// `lease`: not due meanwhile (nor its entity's later entries). `false`: not pending any more.
pub fn begin_attempt(
    conn: &Connection,
    job: &TimelineJob,
    now: i64,
    lease: Duration,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE mirror_queue SET attempts = attempts + 1, unsure_since_ms = coalesce(unsure_since_ms, ?2), \
         next_attempt_ms = ?3 WHERE id = ?1 AND state = 'pending'",
        params![job.queue_id, now, now + lease.as_millis() as i64],
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
        store::record_change(conn, store::ChangeKind::Message, message_id)?;
    }
    Ok(n > 0)
}

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
    let started = hub
        .store_write(move |c| {
            let now = now_ms();
            let mut go = Vec::new();
            for job in due(c, now, limit)? {
                if begin_attempt(c, &job, now, lease)? {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_held_back_by_its_entity_does_not_wake_the_worker() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("open");
        // The entity's first entry waits for its retry in 5 s; the second was never tried.
        conn.execute_batch(
            "INSERT INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text, state, next_attempt_ms) VALUES
               ('k1', 'message', 'lead', '1', 'c', 'm1', 'x', 'a', 'pending', 5000),
               ('k2', 'message', 'lead', '1', 'c', 'm2', 'x', 'b', 'pending', 0);",
        )
        .expect("seed");
        assert!(due(&conn, 1000, 50).expect("due").is_empty());
        assert_eq!(next_due_ms(&conn).expect("next"), Some(5000));
    }

    /// A claimed entry is leased: neither it nor its entity's later entries are due until the
    /// lease ends (a second hub skips them); then it is due again, marked as maybe written.
    #[test]
    fn a_claimed_entry_is_leased_then_due_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("open");
        conn.execute_batch(
            "INSERT INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text, state, next_attempt_ms) VALUES
               ('k1', 'message', 'lead', '1', 'c', 'm1', 'x', 'a', 'pending', 0),
               ('k2', 'message', 'lead', '1', 'c', 'm2', 'x', 'b', 'pending', 0);",
        )
        .expect("seed");
        let lease = Duration::from_secs(30);
        let jobs = due(&conn, 1000, 1).expect("due");
        assert_eq!(jobs.len(), 1);
        assert!(begin_attempt(&conn, &jobs[0], 1000, lease).expect("claim"));
        assert!(due(&conn, 1000 + 29_999, 50).expect("due").is_empty());
        assert_eq!(next_due_ms(&conn).expect("next"), Some(31_000));
        let again = due(&conn, 31_000, 50).expect("due");
        let keys: Vec<&str> = again.iter().map(|j| j.key.as_str()).collect();
        assert_eq!(keys, ["k1", "k2"], "in the entity's order");
        assert_eq!(
            again[0].unsure_since_ms,
            Some(1000),
            "asked before written again"
        );
    }

    #[test]
    fn backoff_grows_to_a_minute() {
        let s = Duration::from_secs(1);
        assert_eq!(backoff(1, s), Duration::from_secs(1));
        assert_eq!(backoff(3, s), Duration::from_secs(4));
        assert_eq!(backoff(30, s), Duration::from_secs(60));
    }
}
