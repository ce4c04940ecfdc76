//! Setting 1's queue to the CRM timelines, as stored: each entity's rows in order, claiming
//! them for an attempt (with a lease), and what an attempt's outcome does to them. The worker
//! that writes is `crate::mirror`.

use super::{Cached, Db};
use rusqlite::{params, Connection};
use std::collections::HashSet;
use std::time::Duration;
use switchboard_core::{CrmRef, EntityKind};

/// One timeline entry to write: a message, or the one Open Lines chat activity.
#[derive(Debug, Clone)]
pub struct TimelineJob {
    pub queue_id: i64,
    /// `<kind>:<entity kind>:<entity id>:<message id or chat>`.
    pub key: String,
    /// `message` or `open_lines_activity`.
    pub kind: String,
    pub entity: CrmRef,
    pub chat: String,
    pub message_id: Option<String>,
    pub at: String,
    pub text: String,
    pub attempts: u32,
    pub unsure_since_ms: Option<i64>,
    /// The message has a file: a link to the hub's copy is added when the entry is first tried.
    pub file_link: bool,
}

/// Why a CRM call did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmFailure {
    /// Try again later (outage, 5xx, rate limit, timeout). `maybe_written`: the CRM may
    /// have done it anyway.
    #[error("{reason}")]
    Retry { reason: String, maybe_written: bool },
    /// The CRM refused for good (entity gone, access denied): the reason.
    #[error("{0}")]
    Refused(String),
}

/// Pending rows looked at per round.
const WINDOW: i64 = 1000;

/// Up to `limit` rows to write now, oldest first. An entity's rows are taken in order and
/// only while each is due: a row waiting for its retry holds back the entity's later rows,
/// so every entity's timeline stays in order.
pub fn due(conn: &Connection, now: i64, limit: usize) -> rusqlite::Result<Vec<TimelineJob>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key, kind, entity_kind, entity_id, chat, message_id, at, text, attempts, unsure_since_ms, next_attempt_ms, file_link \
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
                file_link: r.get(12)?,
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
    conn.one(
        "SELECT min(q.next_attempt_ms) FROM mirror_queue q WHERE q.state = 'pending' AND q.id = \
         (SELECT min(p.id) FROM mirror_queue p WHERE p.state = 'pending' \
          AND p.entity_kind = q.entity_kind AND p.entity_id = q.entity_id)",
        [],
        |r| r.get(0),
    )
}

fn touched(conn: &Connection, job: &TimelineJob) -> Db {
    if let Some(m) = &job.message_id {
        super::record_change(conn, super::ChangeKind::Message, m)?;
    }
    Ok(())
}

/// How long a timeline's link to a file works: people open a deal's history for months, and
/// a link that never ends would be a key that never changes.
pub const TIMELINE_LINK_LIFE: Duration = Duration::from_secs(180 * 24 * 3600);

/// Records that an attempt starts (the CRM may write from now on) and leases the entry for
/// `lease`: not due meanwhile (nor its entity's later entries). `false`: not pending any more.
/// An entry with a file gets its link under `public_base` now, once, kept in its text.
pub fn begin_attempt(
    conn: &Connection,
    job: &mut TimelineJob,
    now: i64,
    lease: Duration,
    public_base: &str,
) -> rusqlite::Result<bool> {
    let n = conn.exec(
        "UPDATE mirror_queue SET attempts = attempts + 1, unsure_since_ms = coalesce(unsure_since_ms, ?2), \
         next_attempt_ms = ?3 WHERE id = ?1 AND state = 'pending'",
        params![job.queue_id, now, now + lease.as_millis() as i64],
    )?;
    if n > 0 && job.file_link {
        if let Some(message) = &job.message_id {
            let link = super::media_queue::public_url(
                conn,
                public_base,
                message,
                now,
                TIMELINE_LINK_LIFE,
            )?;
            job.text = format!("{}\n{link}", job.text);
            conn.exec(
                "UPDATE mirror_queue SET text = ?2, file_link = 0 WHERE id = ?1",
                params![job.queue_id, job.text],
            )?;
        }
        job.file_link = false;
    }
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
            conn.exec(
                "UPDATE mirror_queue SET state = 'written', crm_entry_id = ?2, error = NULL WHERE id = ?1",
                params![job.queue_id, entry],
            )?;
        }
        Err(CrmFailure::Refused(reason)) => {
            conn.exec(
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
            conn.exec(
                "UPDATE mirror_queue SET next_attempt_ms = ?2, error = ?3, unsure_since_ms = ?4 WHERE id = ?1",
                params![job.queue_id, next, reason, unsure],
            )?;
        }
    }
    touched(conn, job)
}

/// Re-queues a message's failed rows (a person asked). `false`: none were failed.
pub fn retry(conn: &Connection, message_id: &str) -> rusqlite::Result<bool> {
    let n = conn.exec(
        "UPDATE mirror_queue SET state = 'pending', error = NULL, attempts = 0, next_attempt_ms = 0 \
         WHERE message_id = ?1 AND state = 'failed'",
        [message_id],
    )?;
    if n > 0 {
        super::record_change(conn, super::ChangeKind::Message, message_id)?;
    }
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One lead's two pending entries, the first due at `first_due` ms, the second at 0.
    fn two_entries(first_due: i64) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("open");
        conn.execute(
            "INSERT INTO mirror_queue (key, kind, entity_kind, entity_id, chat, message_id, at, text, state, next_attempt_ms) VALUES
               ('k1', 'message', 'lead', '1', 'c', 'm1', 'x', 'a', 'pending', ?1),
               ('k2', 'message', 'lead', '1', 'c', 'm2', 'x', 'b', 'pending', 0)",
            [first_due],
        )
        .expect("seed");
        (dir, conn)
    }

    #[test]
    fn a_row_held_back_by_its_entity_does_not_wake_the_worker() {
        // The entity's first entry waits for its retry in 5 s; the second was never tried.
        let (_dir, conn) = two_entries(5000);
        assert!(due(&conn, 1000, 50).expect("due").is_empty());
        assert_eq!(next_due_ms(&conn).expect("next"), Some(5000));
    }

    /// A claimed entry is leased: neither it nor its entity's later entries are due until the
    /// lease ends (a second hub skips them); then it is due again, marked as maybe written.
    #[test]
    fn a_claimed_entry_is_leased_then_due_again() {
        let (_dir, conn) = two_entries(0);
        let lease = Duration::from_secs(30);
        let mut jobs = due(&conn, 1000, 1).expect("due");
        assert_eq!(jobs.len(), 1);
        assert!(begin_attempt(&conn, &mut jobs[0], 1000, lease, "").expect("claim"));
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
