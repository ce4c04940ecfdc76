//! A conversation's messages: the hub's, then what this desktop still holds for the chat.

use super::outbox::{outbox_row, OUTBOX_COLS};
use super::{LocalResult, LocalStore};
use crate::vm::{MediaVm, MessageVm};
use rusqlite::{params, Connection, OptionalExtension};
use switchboard_core::{Direction, MessageKind, MessageStatus};
use switchboard_db::SearchTerms;
use switchboard_wire::{MediaView, MessageView};

/// A chat's stored messages, oldest first (public for the bench's floor: the same SQL, bare).
/// The stored view is parsed only for locations (their place and link), not for every message.
pub const MESSAGES_SQL: &str =
    "SELECT id, direction, text, at, status, error, mirror, kind, media, \
     CASE WHEN kind = 'geo' THEN json_extract(view, '$.place') END, \
     CASE WHEN kind = 'geo' THEN json_extract(view, '$.content_uri') END FROM messages \
     WHERE chat = ?1 ORDER BY at, rowid";

impl LocalStore {
    /// Stores messages fetched from the hub; `true` when any of them was new or different
    /// (the window redraws only then).
    pub fn put_messages(&self, messages: &[MessageView]) -> LocalResult<bool> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut changed = false;
            let mut terms = SearchTerms::default();
            for m in messages {
                changed |= put_message(&tx, m, &mut terms)?;
            }
            terms.keep(&tx)?;
            tx.commit()?;
            Ok(changed)
        })
    }

    /// Whether this desktop holds message `id` (it holds only what its employee may see).
    pub fn has_message(&self, id: &str) -> LocalResult<bool> {
        self.read(|c, _| {
            Ok(
                c.prepare_cached("SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1)")?
                    .query_row([id], |r| r.get(0))?,
            )
        })
    }

    /// The oldest message of `chat` this desktop holds from the hub (not one of its own
    /// waiting to go), if any.
    pub fn oldest_message(&self, chat: &str) -> LocalResult<Option<String>> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT id FROM messages WHERE chat = ?1 ORDER BY at, id LIMIT 1",
                [chat],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Message `id`'s file as the hub keeps it, when this desktop holds the message.
    pub fn media_of(&self, id: &str) -> LocalResult<Option<MediaView>> {
        self.read(|c, _| {
            let json: Option<Option<String>> = c
                .prepare_cached("SELECT media FROM messages WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            Ok(json.flatten().and_then(|j| serde_json::from_str(&j).ok()))
        })
    }

    /// A chat's messages, oldest first.
    ///
    /// Reads [`MESSAGES_SQL`], then what the outbox holds for the chat.
    pub fn messages(&self, chat: &str) -> LocalResult<Vec<MessageVm>> {
        self.read(|c, _| {
            let mut stmt = c.prepare_cached(MESSAGES_SQL)?;
            let mut out = Vec::new();
            let mut rows = stmt.query([chat])?;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let mirror: switchboard_wire::MirrorView =
                    serde_json::from_str(r.get_ref(6)?.as_str().unwrap_or("{}"))
                        .unwrap_or_default();
                let kind = MessageKind::parse(r.get_ref(7)?.as_str().unwrap_or("text"));
                // As the hub read it; a location synced before hubs did is read here alike.
                let place = r
                    .get::<_, Option<String>>(9)?
                    .and_then(|j| serde_json::from_str::<switchboard_core::Place>(&j).ok())
                    .or_else(|| {
                        let text = r.get_ref(2).ok()?.as_str().ok()?;
                        let link = r.get::<_, Option<String>>(10).ok()?;
                        (kind == MessageKind::Geo)
                            .then(|| switchboard_core::read_place(text, link.as_deref()))
                            .flatten()
                    })
                    .map(|p| crate::vm::PlaceVm::of(&p));
                out.push(MessageVm {
                    id: id.clone(),
                    direction: if r.get_ref(1)?.as_str().unwrap_or("in") == "out" {
                        Direction::Out
                    } else {
                        Direction::In
                    },
                    text: r.get(2)?,
                    at: r.get(3)?,
                    status: MessageStatus::parse(r.get_ref(4)?.as_str().unwrap_or_default()),
                    mirror: crate::vm::MirrorVm::of(&mirror),
                    error: r.get(5)?,
                    error_code: None,
                    error_owner: None,
                    local: false,
                    kind,
                    media: r
                        .get::<_, Option<String>>(8)?
                        .and_then(|j| serde_json::from_str::<MediaView>(&j).ok())
                        .map(|m| MediaVm::of(&id, &m)),
                    place,
                });
            }
            // Then what this desktop still holds for the chat, in the order written.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {OUTBOX_COLS} FROM outbox WHERE chat = ?1 ORDER BY seq"
            ))?;
            for i in stmt.query_map([chat], outbox_row)? {
                let i = i?;
                let kind = i.file.as_ref().map_or(MessageKind::Text, |f| {
                    switchboard_core::sendable_kind(&f.mime).unwrap_or(MessageKind::Document)
                });
                // Shown from this desktop's copy while it waits (`media:` serves outbox files).
                let media = i.file.as_ref().map(|f| MediaVm {
                    state: switchboard_core::MediaState::Pending,
                    name: Some(f.name.clone()),
                    mime: Some(f.mime.clone()),
                    size: Some(f.size),
                    error: None,
                    url: Some(format!("media://localhost/{}", i.key)),
                    inline: switchboard_core::inline_media_type(&f.mime),
                    duration: None,
                    contact: None,
                });
                out.push(MessageVm {
                    status: if i.error.is_some() {
                        MessageStatus::Failed
                    } else {
                        MessageStatus::Pending
                    },
                    id: i.key,
                    direction: Direction::Out,
                    text: i.text,
                    at: i.created_at,
                    error: i.error,
                    error_code: i.error_code,
                    error_owner: i.error_owner,
                    local: true,
                    mirror: crate::vm::MirrorVm::none(),
                    kind,
                    media,
                    place: None,
                });
            }
            Ok(out)
        })
    }
}

/// Stores a message; `true` when it was new or different from the stored one. Its words are
/// noted in `terms` for the search's list of them, to be kept before the transaction ends.
pub(super) fn put_message(
    c: &Connection,
    m: &MessageView,
    terms: &mut SearchTerms,
) -> LocalResult<bool> {
    let n = c
        .prepare_cached(
            "INSERT INTO messages (id, chat, at, view, direction, text, status, error, mirror, kind, media) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (id) DO UPDATE SET chat = excluded.chat, at = excluded.at, \
             view = excluded.view, direction = excluded.direction, text = excluded.text, \
             status = excluded.status, error = excluded.error, mirror = excluded.mirror, \
             kind = excluded.kind, media = excluded.media \
             WHERE messages.view IS NOT excluded.view",
        )?
        .execute(params![
            m.id,
            m.chat,
            m.at,
            serde_json::to_string(m)?,
            match m.direction {
                Direction::In => "in",
                Direction::Out => "out",
            },
            m.text,
            m.status.as_str(),
            m.error,
            serde_json::to_string(&m.mirror)?,
            m.kind.as_str(),
            m.media.as_ref().map(serde_json::to_string).transpose()?,
        ])?;
    if n > 0 {
        terms.note(c, &m.text)?;
    }
    Ok(n > 0)
}
