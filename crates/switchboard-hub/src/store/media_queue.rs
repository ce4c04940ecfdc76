//! Client files to fetch from the provider, as stored: the queue (with a lease per attempt) and
//! what an attempt's outcome does to the message's file columns. The worker that fetches is
//! `crate::media`; the bytes live in the data directory's `media/`, named by message id.

use super::{record_change, Cached, ChangeKind, Db};
use rusqlite::{params, Connection, OptionalExtension};
use std::time::Duration;
use switchboard_core::MediaState;

/// Attempts before a file is `failed`.
pub const MAX_ATTEMPTS: u32 = 6;
/// How long one attempt may take (the lease: a hub killed mid-fetch tries again after it).
pub const ATTEMPT: Duration = Duration::from_secs(120);

/// A file to fetch.
#[derive(Debug, Clone)]
pub struct MediaJob {
    pub message_id: String,
    pub uri: String,
    pub attempts: u32,
}

/// What became of one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Stored under the message's id: its name, type and size.
    Stored {
        name: Option<String>,
        mime: String,
        size: u64,
        /// How long it plays (audio and video whose length could be read).
        duration_ms: Option<u64>,
        /// What a vCard says.
        contact: Option<switchboard_core::ContactCard>,
    },
    /// Larger than the hub keeps.
    TooBig { size: Option<u64> },
    /// Try again later (the reason is kept for the last attempt).
    Retry(String),
    /// Will not change by trying again (a 4xx other than 408/429).
    Refused(String),
}

/// The file name a provider link names: its `filename` parameter, else its last path segment.
pub fn link_name(uri: Option<&str>) -> Option<String> {
    let url = reqwest::Url::parse(uri?).ok()?;
    let named = url
        .query_pairs()
        .find(|(k, _)| k == "filename")
        .map(|(_, v)| v.into_owned());
    let name = named.or_else(|| {
        url.path_segments()
            .and_then(|mut s| s.next_back().map(str::to_owned))
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(&s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
    })?;
    clean_name(&name)
}

/// A file name safe to show and to offer for saving (core's rule).
pub fn clean_name(name: &str) -> Option<String> {
    switchboard_core::clean_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_links_file_name_is_shown_as_it_reads() {
        let name = |u: &str| link_name(Some(u));
        assert_eq!(
            name("https://store.example/x/?filename=invoice%E2%80%AEfdp.exe").as_deref(),
            Some("invoicefdp.exe")
        );
        assert_eq!(
            name("https://store.example/x/?filename=..%2F..%2Fetc%2Fpasswd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            name("https://store.example/files/%D1%81%D1%87%D1%91%D1%82.pdf").as_deref(),
            Some("счёт.pdf")
        );
        assert_eq!(name("https://store.example/").as_deref(), None);
        assert_eq!(name("not a link"), None);
    }
}

/// Queues message `id`'s file (in the transaction that stores the message).
pub fn enqueue(conn: &Connection, id: &str, name: Option<String>) -> Db {
    conn.exec(
        "UPDATE messages SET media_state = 'pending', media_name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    conn.exec(
        "INSERT OR IGNORE INTO media_queue (message_id) VALUES (?1)",
        [id],
    )?;
    Ok(())
}

/// The files due now, claimed for one attempt each: the lease moves past the attempt's
/// longest run, so a second round (or a second hub) skips them meanwhile.
pub fn claim(conn: &Connection, now: i64, limit: usize) -> rusqlite::Result<Vec<MediaJob>> {
    let jobs: Vec<MediaJob> = {
        let mut stmt = conn.prepare_cached(
            "SELECT q.message_id, m.content_uri, q.attempts FROM media_queue q \
             JOIN messages m ON m.id = q.message_id \
             WHERE q.next_attempt_ms <= ?1 ORDER BY q.next_attempt_ms LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, limit as i64], |r| {
            Ok(MediaJob {
                message_id: r.get(0)?,
                uri: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                attempts: r.get(2)?,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for job in &jobs {
        conn.exec(
            "UPDATE media_queue SET attempts = attempts + 1, next_attempt_ms = ?2 WHERE message_id = ?1",
            params![job.message_id, now + ATTEMPT.as_millis() as i64],
        )?;
    }
    Ok(jobs)
}

/// When the next queued file is due (ms), if any.
pub fn next_due(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.one("SELECT min(next_attempt_ms) FROM media_queue", [], |r| {
        r.get(0)
    })
}

/// Records an attempt's outcome: the file's columns, the queue row gone or moved to the
/// next attempt (doubling from 10 s), and a change so desktops learn it.
pub fn finish(conn: &Connection, job: &MediaJob, outcome: &Fetched, now: i64) -> Db {
    let last = job.attempts + 1 >= MAX_ATTEMPTS;
    match outcome {
        Fetched::Stored {
            name,
            mime,
            size,
            duration_ms,
            contact,
        } => {
            let contact = contact
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
            conn.exec(
                "UPDATE messages SET media_state = ?2, media_name = coalesce(?3, media_name), \
                 media_mime = ?4, media_size = ?5, media_error = NULL, media_duration_ms = ?6, \
                 media_contact = ?7 WHERE id = ?1",
                params![
                    job.message_id,
                    MediaState::Stored.as_str(),
                    name,
                    mime,
                    *size as i64,
                    duration_ms.map(|d| d.min(i64::MAX as u64) as i64),
                    contact,
                ],
            )?;
            // A chat whose last message this is shows its length in the list.
            if duration_ms.is_some() {
                let chat: Option<String> = conn
                    .one(
                        "SELECT c.id FROM messages m JOIN chats c ON c.id = m.chat \
                         AND c.last_message_id = m.id WHERE m.id = ?1",
                        [&job.message_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(chat) = chat {
                    record_change(conn, ChangeKind::Chat, &chat)?;
                }
            }
        }
        Fetched::TooBig { size } => {
            conn.exec(
                "UPDATE messages SET media_state = ?2, media_size = ?3, media_error = ?4 WHERE id = ?1",
                params![
                    job.message_id,
                    MediaState::TooBig.as_str(),
                    size.map(|s| s as i64),
                    format!(
                        "larger than {} MB",
                        switchboard_core::MEDIA_MAX_BYTES / 1024 / 1024
                    )
                ],
            )?;
        }
        Fetched::Refused(reason) => {
            conn.exec(
                "UPDATE messages SET media_state = ?2, media_error = ?3 WHERE id = ?1",
                params![job.message_id, MediaState::Failed.as_str(), reason],
            )?;
        }
        Fetched::Retry(reason) if last => {
            conn.exec(
                "UPDATE messages SET media_state = ?2, media_error = ?3 WHERE id = ?1",
                params![job.message_id, MediaState::Failed.as_str(), reason],
            )?;
        }
        Fetched::Retry(_) => {
            let pause = 10_000i64.saturating_mul(1 << job.attempts.min(10));
            conn.exec(
                "UPDATE media_queue SET next_attempt_ms = ?2 WHERE message_id = ?1",
                params![job.message_id, now + pause],
            )?;
            return Ok(());
        }
    }
    conn.exec(
        "DELETE FROM media_queue WHERE message_id = ?1",
        [&job.message_id],
    )?;
    record_change(conn, ChangeKind::Message, &job.message_id)?;
    Ok(())
}

/// A kept file: its message's chat, its name and type.
#[derive(Debug, Clone)]
pub struct Kept {
    pub chat: String,
    pub name: Option<String>,
    pub mime: Option<String>,
}

/// Message `id`'s file, when it is `stored`.
pub fn stored(conn: &Connection, id: &str) -> rusqlite::Result<Option<Kept>> {
    conn.one(
        "SELECT chat, media_name, media_mime FROM messages WHERE id = ?1 AND media_state = 'stored'",
        [id],
        |r| {
            Ok(Kept {
                chat: r.get(0)?,
                name: r.get(1)?,
                mime: r.get(2)?,
            })
        },
    )
    .optional()
}

/// How long the link the provider downloads a file we send from stays valid: it fetches at
/// once, so a few minutes cover a slow download; each attempt makes a fresh one.
pub const SEND_LINK_LIFE: Duration = Duration::from_secs(15 * 60);

/// A new link to message `id`'s kept file that needs no sign-in, valid for `life`: the token
/// to put in `/public/files/{token}` (only its digest is stored). Expired links are swept here.
pub fn public_link(
    conn: &Connection,
    id: &str,
    now_ms: i64,
    life: Duration,
) -> rusqlite::Result<String> {
    conn.exec("DELETE FROM public_files WHERE expires_ms < ?1", [now_ms])?;
    let token = super::new_token();
    conn.exec(
        "INSERT INTO public_files (token_hash, message_id, expires_ms) VALUES (?1, ?2, ?3)",
        params![
            super::token_hash(&token),
            id,
            now_ms + life.as_millis() as i64
        ],
    )?;
    Ok(token)
}

/// A new public link to message `id`'s file under `base` (the hub's `--public-url`):
/// `{base}/public/files/{token}/{file name}` — the name at the end for whoever names the file
/// from its address (the provider, a browser); only the token counts.
pub fn public_url(
    conn: &Connection,
    base: &str,
    id: &str,
    now_ms: i64,
    life: Duration,
) -> rusqlite::Result<String> {
    let name: Option<String> = conn
        .one("SELECT media_name FROM messages WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let token = public_link(conn, id, now_ms, life)?;
    let name = percent_encoding::utf8_percent_encode(
        name.as_deref().unwrap_or("file"),
        percent_encoding::NON_ALPHANUMERIC,
    );
    Ok(format!(
        "{}/public/files/{token}/{name}",
        base.trim_end_matches('/')
    ))
}

/// The kept file a public link names while it is valid: its message id and what it is.
pub fn public_file(
    conn: &Connection,
    token: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<(String, Kept)>> {
    let id: Option<String> = conn
        .one(
            "SELECT message_id FROM public_files WHERE token_hash = ?1 AND expires_ms >= ?2",
            params![super::token_hash(token), now_ms],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    Ok(stored(conn, &id)?.map(|kept| (id, kept)))
}
