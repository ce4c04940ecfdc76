//! The hub's outbox to the messenger provider, as stored: each chat's queue, claiming a row
//! for an attempt (with a lease), and what an attempt's outcome does to the row and its
//! message. The worker that sends is `crate::outbox`.

use super::{Cached, Db};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::time::Duration;
use switchboard_core::MessageStatus;

/// The body of `POST /v3/message`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing {
    pub channel_id: String,
    pub chat_type: String,
    pub chat_id: String,
    /// Empty for a file: the provider takes text or `contentUri`, never both.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// A file: the public link the provider downloads it from at once (made per attempt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crm_user_id: Option<String>,
    /// Our idempotency key: the provider refuses a repeat within 60 s.
    pub crm_message_id: String,
}

/// What became of one send attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// 2xx: the provider took it; its `messageId`.
    Accepted(String),
    /// `REPEATED_CRM_MESSAGE_ID`: an earlier attempt got through (no `messageId` is returned).
    AlreadyAccepted,
    /// Try again later. `maybe_accepted`: the request may have reached the provider
    /// (timeout, 5xx, broken connection), so a repeat is only safe within the 60 s window.
    Retry {
        reason: String,
        maybe_accepted: bool,
        rate_limited: bool,
    },
    /// A 4xx that will not change by repeating: the provider's code and description.
    Refused(String),
}

/// What a `failed` message's reason says when the provider may have taken it after all (its
/// echo then still settles it as sent).
pub const MAYBE_RECEIVED: &str = "the provider may have received it";

/// Attempts before a message is `failed`.
pub const MAX_ATTEMPTS: u32 = 8;
/// A repeat after an unsure attempt is safe this long (the provider remembers 60 s).
pub const SAFE_REPEAT: Duration = Duration::from_secs(50);

/// One send to make.
#[derive(Debug, Clone)]
pub struct Job {
    pub outbox_id: i64,
    pub message_id: String,
    pub chat: String,
    pub attempts: u32,
    pub unsure_since_ms: Option<i64>,
    /// A file the hub keeps under the message's id (sent by a public link).
    pub file: bool,
    pub outgoing: Outgoing,
}

/// The head of each chat's queue that is due now, oldest first.
pub fn due(conn: &Connection, now: i64, limit: usize) -> rusqlite::Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!("{DUE} ORDER BY o.id LIMIT ?2"))?;
    let rows = stmt.query_map(params![now, limit as i64], job_row)?;
    rows.collect()
}

/// Heads of chats' queues whose time has come, with what sending them needs.
const DUE: &str = "SELECT o.id, o.message_id, o.chat, o.attempts, o.unsure_since_ms, \
        m.text, m.author_id, m.idempotency_key, c.channel_id, c.chat_type, c.chat_id, m.media_state \
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
        file: r.get::<_, Option<String>>(11)?.is_some(),
        outgoing: Outgoing {
            content_uri: None,
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

/// How many messages wait in the outbox.
pub fn len(conn: &Connection) -> rusqlite::Result<i64> {
    conn.one("SELECT count(*) FROM outbox", [], |r| r.get(0))
}

/// When the next row (of any chat) is due, if any.
pub fn next_due_ms(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    // Only each chat's head can be due (a later row waits for it, whatever its own time).
    conn.one(
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
/// A file gets a fresh link under `public_base` (the hub's `--public-url`) for this attempt.
pub fn claim(
    conn: &Connection,
    outbox_id: i64,
    now: i64,
    lease: Duration,
    public_base: &str,
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
                &format!(
                    "not confirmed: {MAYBE_RECEIVED}, so it was not repeated automatically \
                     (a repeat could reach the client twice)"
                ),
            )?;
            return Ok(None);
        }
    }
    conn.exec(
        "UPDATE outbox SET attempts = attempts + 1, unsure_since_ms = coalesce(unsure_since_ms, ?2), \
         next_attempt_ms = ?3 WHERE id = ?1",
        params![job.outbox_id, now, now + lease.as_millis() as i64],
    )?;
    let mut job = job;
    if job.file {
        job.outgoing.content_uri = Some(super::media_queue::public_url(
            conn,
            public_base,
            &job.message_id,
            now,
            super::media_queue::SEND_LINK_LIFE,
        )?);
    }
    Ok(Some(job))
}

fn fail(conn: &Connection, job: &Job, reason: &str) -> Db {
    conn.exec("DELETE FROM outbox WHERE id = ?1", [job.outbox_id])?;
    conn.exec(
        "UPDATE messages SET status = 'failed', error = ?2 WHERE id = ?1",
        params![job.message_id, reason],
    )?;
    super::record_change(conn, super::ChangeKind::Message, &job.message_id)?;
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
            conn.exec("DELETE FROM outbox WHERE id = ?1", [job.outbox_id])?;
            // The echo may have named it already; the first name stays.
            conn.exec(
                "UPDATE OR IGNORE messages SET provider_message_id = ?2 WHERE id = ?1 AND provider_message_id IS NULL",
                params![job.message_id, provider_id],
            )?;
            super::raise_status(conn, &job.message_id, MessageStatus::Accepted)
        }
        SendOutcome::AlreadyAccepted => {
            conn.exec("DELETE FROM outbox WHERE id = ?1", [job.outbox_id])?;
            super::raise_status(conn, &job.message_id, MessageStatus::Accepted)
        }
        SendOutcome::Refused(reason) => fail(conn, job, reason),
        SendOutcome::Retry {
            reason,
            maybe_accepted,
            rate_limited,
        } => {
            // A 429 says for certain the provider did not take it: it costs no attempt.
            let attempts = if *rate_limited {
                conn.exec(
                    "UPDATE outbox SET attempts = attempts - 1 WHERE id = ?1",
                    [job.outbox_id],
                )?;
                job.attempts.max(1)
            } else {
                job.attempts + 1
            };
            if attempts >= MAX_ATTEMPTS {
                let reason = if job.unsure_since_ms.is_some() || *maybe_accepted {
                    format!("gave up after {attempts} attempts ({reason}); {MAYBE_RECEIVED}")
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
            conn.exec(
                "UPDATE outbox SET next_attempt_ms = ?2, last_error = ?3, unsure_since_ms = nullif(?4, -1) WHERE id = ?1",
                params![job.outbox_id, next, reason, unsure],
            )?;
            Ok(())
        }
    }
}

/// A failed message goes back on the outbox (a person chose to retry). `false`: not failed.
pub fn retry(conn: &Connection, message_id: &str, now: &str) -> rusqlite::Result<bool> {
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
    conn.exec(
        "UPDATE messages SET status = 'queued', error = NULL WHERE id = ?1",
        [message_id],
    )?;
    super::enqueue_send(conn, message_id, &chat, now)?;
    super::record_change(conn, super::ChangeKind::Message, message_id)?;
    Ok(true)
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
        let job = claim(&conn, stale.outbox_id, now, lease, "")
            .expect("claim")
            .expect("due");
        // While the attempt runs, the row is leased: it neither is due nor wakes the worker.
        assert_eq!(next_due_ms(&conn).expect("next"), Some(now + 15_000));
        finish(&conn, &job, &retry(true), now).expect("finish");
        // The stale snapshot is not sent again before its back-off ends.
        assert!(claim(&conn, stale.outbox_id, now + 1, lease, "")
            .expect("claim")
            .is_none());
        // Once due, the claimed job carries the mark, and an attempt that surely failed keeps it.
        let later = now + backoff(1, false).as_millis() as i64;
        let job = claim(&conn, stale.outbox_id, later, lease, "")
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
        assert!(claim(&conn, stale.outbox_id, too_late, lease, "")
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
