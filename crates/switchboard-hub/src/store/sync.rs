//! What one viewer is told: the change log replayed through the visibility rules.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use switchboard_core::{self as core, Badge, CrmRef, Employee, Role, Settings};
use switchboard_wire::SyncProgress;

/// How many change-log rows one sync answer covers at most.
pub(super) const SYNC_BATCH: i64 = 500;

/// How many log entries [`LogCache`] keeps (the newest): a few dozen answers' worth…
pub const LOG_CACHE_ENTRIES: usize = 10_000;
/// …and about how many bytes of them at most (a message's text is up to a request's size).
pub const LOG_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// What the newest log entries read as, shared by every viewer's sync: a delivery of 100
/// messages is read from the database once, and each message's JSON is written once, however
/// many desktops sync it. Only what every viewer is sent alike is kept (a chat's JSON per
/// badge, since a badge's colour is the viewer's); who may see it is decided per viewer.
///
/// An entry is read after its change was committed, so it shows the change or something newer;
/// anything newer was logged after it and is synced after it: the desktop ends where the
/// database is, as when each viewer read for itself.
#[derive(Default)]
pub struct LogCache {
    entries: Mutex<Entries>,
    /// The log's newest entries themselves, as one run with no gap.
    tail: Mutex<Option<Tail>>,
}

/// The decoded entries, newest kept, and about how many bytes they hold.
#[derive(Default)]
struct Entries {
    by_seq: BTreeMap<i64, (Arc<Decoded>, usize)>,
    bytes: usize,
}

/// One log entry: its seq, its kind (`None`: written by a newer hub), what it names.
type LogEntry = (i64, Option<ChangeKind>, String);

/// Every log entry after `from` up to `to`, oldest first.
struct Tail {
    from: i64,
    to: i64,
    entries: std::collections::VecDeque<LogEntry>,
}

/// One log entry as read.
enum Decoded {
    Chat {
        row: Box<ChatRow>,
        crm: Vec<CrmRef>,
        /// `{"type":"chat",…}` per badge it was sent with.
        json: Mutex<Vec<(Badge, Arc<RawValue>)>>,
    },
    Message {
        /// Its chat: who may see it is decided by who answers the chat as the viewer's own
        /// answer reads it, not when this entry was cached.
        chat: String,
        /// `{"type":"message",…}`.
        json: Arc<RawValue>,
    },
    /// The chat or message is no more.
    Gone,
}

impl LogCache {
    /// The log after `cursor`, up to `max` (the newest entry the caller's read sees) and
    /// [`SYNC_BATCH`] entries. What the tail holds is not read again; what is read extends it.
    fn log(&self, conn: &Connection, cursor: i64, max: i64) -> rusqlite::Result<Vec<LogEntry>> {
        let limit = SYNC_BATCH as usize;
        let (mut known, mut read_from) = (Vec::new(), cursor);
        if let Ok(guard) = self.tail.lock() {
            if let Some(tail) = guard
                .as_ref()
                .filter(|t| t.from <= cursor && cursor <= t.to)
            {
                let start = tail.entries.partition_point(|e| e.0 <= cursor);
                known.extend(
                    tail.entries
                        .range(start..)
                        .take_while(|e| e.0 <= max)
                        .take(limit)
                        .cloned(),
                );
                read_from = tail.to;
            }
        }
        if known.len() >= limit || read_from >= max {
            return Ok(known);
        }
        let want = limit - known.len();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, kind, ref FROM changes WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows: Vec<LogEntry> = stmt
            .query_map(params![read_from, max, want as i64], |r| {
                let (seq, kind, reference): (i64, String, String) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                let parsed = ChangeKind::parse(&kind);
                if parsed.is_none() {
                    tracing::warn!(seq, kind, "unknown change kind; sending a snapshot");
                }
                Ok((seq, parsed, reference))
            })?
            .collect::<rusqlite::Result<_>>()?;
        // Everything up to `max` is committed and seen by this read: fewer rows than asked
        // means none is missing up to there.
        let covered = match rows.last() {
            Some(last) if rows.len() == want => last.0,
            _ => max,
        };
        if let Ok(mut guard) = self.tail.lock() {
            match guard.as_mut() {
                Some(tail) if tail.to == read_from => {
                    tail.entries.extend(rows.iter().cloned());
                    tail.to = covered;
                    while tail.entries.len() > LOG_CACHE_ENTRIES {
                        if let Some(first) = tail.entries.pop_front() {
                            tail.from = first.0;
                        }
                    }
                }
                Some(tail) if read_from < tail.from || read_from > tail.to => {
                    // A desktop from before the tail (its read is kept only if it is newer).
                    if read_from > tail.to {
                        *tail = Tail {
                            from: read_from,
                            to: covered,
                            entries: rows.iter().cloned().collect(),
                        };
                    }
                }
                Some(_) => {}
                None => {
                    *guard = Some(Tail {
                        from: read_from,
                        to: covered,
                        entries: rows.iter().cloned().collect(),
                    })
                }
            }
        }
        known.extend(rows);
        Ok(known)
    }

    fn get(&self, seq: i64) -> Option<Arc<Decoded>> {
        Some(self.entries.lock().ok()?.by_seq.get(&seq)?.0.clone())
    }

    fn put(&self, seq: i64, entry: Decoded) -> Arc<Decoded> {
        let weight = entry.weight();
        let entry = Arc::new(entry);
        if let Ok(mut entries) = self.entries.lock() {
            if let Some((_, old)) = entries.by_seq.insert(seq, (entry.clone(), weight)) {
                entries.bytes -= old;
            }
            entries.bytes += weight;
            while entries.by_seq.len() > LOG_CACHE_ENTRIES || entries.bytes > LOG_CACHE_BYTES {
                let Some((_, (_, w))) = entries.by_seq.pop_first() else {
                    break;
                };
                entries.bytes -= w;
            }
        }
        entry
    }

    /// What the cache holds of entries `seqs`, under one lock.
    fn hits(&self, seqs: impl Iterator<Item = i64>) -> HashMap<i64, Arc<Decoded>> {
        let Ok(entries) = self.entries.lock() else {
            return HashMap::new();
        };
        seqs.filter_map(|seq| Some((seq, entries.by_seq.get(&seq)?.0.clone())))
            .collect()
    }

    /// Log entry `seq` from `hits` or the cache, else read by `read` and kept.
    fn entry(
        &self,
        seq: i64,
        hits: &HashMap<i64, Arc<Decoded>>,
        read: impl FnOnce() -> rusqlite::Result<Decoded>,
    ) -> rusqlite::Result<Arc<Decoded>> {
        match hits.get(&seq).cloned().or_else(|| self.get(seq)) {
            Some(hit) => Ok(hit),
            None => Ok(self.put(seq, read()?)),
        }
    }

    /// Log entry `seq`, a change of chat `id`.
    fn chat(
        &self,
        conn: &Connection,
        seq: i64,
        id: &str,
        hits: &HashMap<i64, Arc<Decoded>>,
    ) -> rusqlite::Result<Arc<Decoded>> {
        self.entry(seq, hits, || {
            Ok(match chat_row_by_id(conn, id)? {
                Some(row) => Decoded::Chat {
                    crm: links(conn, id)?,
                    row: Box::new(row),
                    json: Mutex::default(),
                },
                None => Decoded::Gone,
            })
        })
    }

    /// Log entry `seq`, a change of message `id`.
    fn message(
        &self,
        conn: &Connection,
        seq: i64,
        id: &str,
        hits: &HashMap<i64, Arc<Decoded>>,
    ) -> rusqlite::Result<Arc<Decoded>> {
        self.entry(seq, hits, || {
            Ok(match message(conn, id)? {
                Some(message) => Decoded::Message {
                    chat: message.chat.clone(),
                    json: raw(&Change::Message { message })?,
                },
                None => Decoded::Gone,
            })
        })
    }
}

impl Decoded {
    /// About the bytes it holds: a message's JSON; a chat's fields, once per badge colour it
    /// may be written with (three at most).
    fn weight(&self) -> usize {
        match self {
            Decoded::Message { json, chat } => json.get().len() + chat.len() + 64,
            Decoded::Chat { row, crm, .. } => {
                let text = row.last_message.as_ref().map_or(0, |m| m.text.len());
                3 * (2 * (row.title.len() + text) + 64 * crm.len() + 512)
            }
            Decoded::Gone => 64,
        }
    }
}

fn raw(change: &Change) -> rusqlite::Result<Arc<RawValue>> {
    serde_json::value::to_raw_value(change)
        .map(Arc::from)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// A chat change as `viewer` is sent it (`None`: not theirs to see).
fn chat_piece(
    entry: &Decoded,
    viewer: &Employee,
    settings: &Settings,
) -> rusqlite::Result<Option<Piece>> {
    let Decoded::Chat { row, crm, json } = entry else {
        return Ok(None);
    };
    let Some(badge) = core::badge(viewer, &row.facts(), settings) else {
        return Ok(None);
    };
    let mut json = json.lock().map_err(|_| rusqlite::Error::InvalidQuery)?;
    if let Some((_, bytes)) = json.iter().find(|(b, _)| *b == badge) {
        return Ok(Some(Piece::Shared(bytes.clone())));
    }
    let bytes = raw(&Change::Chat {
        chat: view_of(row, crm.clone(), badge),
    })?;
    json.push((badge, bytes.clone()));
    Ok(Some(Piece::Shared(bytes)))
}

/// One change of an answer: made for this viewer, or JSON every viewer sent it shares.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "a snapshot page is a few thousand own changes: one allocation each would cost more than the room"
)]
pub enum Piece {
    Own(Change),
    Shared(Arc<RawValue>),
}

impl Serialize for Piece {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Piece::Own(change) => change.serialize(s),
            Piece::Shared(raw) => raw.serialize(s),
        }
    }
}

/// A sync answer as the hub writes it: the JSON of [`SyncResponse`] (the wire type, which
/// names it), with changes that many viewers are sent written once.
#[derive(Debug, Clone, Default)]
pub struct SyncAnswer {
    pub changes: Vec<Piece>,
    pub cursor: i64,
    pub has_more: bool,
    pub page: Option<String>,
    pub progress: Option<SyncProgress>,
}

impl Serialize for SyncAnswer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = 3 + usize::from(self.page.is_some()) + usize::from(self.progress.is_some());
        let mut st = s.serialize_struct("SyncResponse", fields)?;
        st.serialize_field("changes", &self.changes)?;
        st.serialize_field("cursor", &self.cursor)?;
        st.serialize_field("has_more", &self.has_more)?;
        if let Some(page) = &self.page {
            st.serialize_field("page", page)?;
        }
        if let Some(progress) = &self.progress {
            st.serialize_field("progress", progress)?;
        }
        st.end()
    }
}

impl From<SyncResponse> for SyncAnswer {
    fn from(r: SyncResponse) -> SyncAnswer {
        SyncAnswer {
            changes: r.changes.into_iter().map(Piece::Own).collect(),
            cursor: r.cursor,
            has_more: r.has_more,
            page: r.page,
            progress: r.progress,
        }
    }
}

impl SyncAnswer {
    /// Leaves out the quick replies, for a desktop that does not read them.
    pub fn drop_quick_replies(&mut self) {
        self.changes
            .retain(|p| !matches!(p, Piece::Own(Change::QuickReplies { .. })));
    }

    /// As the wire type (shared JSON read back): what a desktop reads.
    pub fn into_response(self) -> rusqlite::Result<SyncResponse> {
        let changes = self
            .changes
            .into_iter()
            .map(|p| match p {
                Piece::Own(c) => Ok(c),
                Piece::Shared(raw) => serde_json::from_str(raw.get())
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e))),
            })
            .collect::<rusqlite::Result<_>>()?;
        Ok(SyncResponse {
            changes,
            cursor: self.cursor,
            has_more: self.has_more,
            page: self.page,
            progress: self.progress,
        })
    }
}

/// How a snapshot is paged and how much history it carries: the recent messages of the newest chats, and of the
/// next newest chats waiting for an answer their unanswered ones. Every chat comes with its last
/// message (the list's preview); a desktop fetches the rest of a chat's history when it is
/// opened. Bounded whatever the workspace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotDepth {
    /// How many chats, newest activity first, come with their recent messages.
    pub chats: usize,
    /// How many recent messages each of them carries.
    pub messages: u32,
    /// How many more chats, newest first, that wait for an answer carry their unanswered
    /// messages (at most `messages` each).
    pub waiting: usize,
    /// How many chats the first page of a snapshot carries: a screenful and more, so that a
    /// desktop paints its list at once.
    pub first_page: usize,
    /// How many chats each later page carries.
    pub page: usize,
}

impl SnapshotDepth {
    pub const DEFAULT: SnapshotDepth = SnapshotDepth {
        chats: 200,
        messages: 50,
        waiting: 2_000,
        first_page: 100,
        page: 2_000,
    };
}

/// Where a paged snapshot goes on: passed to the desktop as an opaque token (`page`) and back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPage {
    /// Still among the chats waiting for an answer (they come first).
    waiting_phase: bool,
    /// Whether the chats carry their recent history (a first sync) or not (a re-snapshot of a
    /// desktop that has it).
    history: bool,
    /// Chats sent so far.
    sent: u64,
    /// Waiting chats beyond the newest `depth.chats` that were sent with their unanswered
    /// messages so far.
    waiting_sent: u64,
    /// The chats the viewer saw when the snapshot began (its progress's total; counted once,
    /// not again for every page).
    total: u64,
    /// The last chat sent in this phase (its activity and id), if any.
    after: Option<(String, String)>,
}

impl SnapshotPage {
    const FIRST: SnapshotPage = SnapshotPage {
        waiting_phase: true,
        history: true,
        sent: 0,
        waiting_sent: 0,
        total: 0,
        after: None,
    };

    /// The token as the desktop passes it back; `None` when it is not one this hub wrote.
    pub fn parse(token: &str) -> Option<SnapshotPage> {
        let mut parts = token.splitn(6, '|');
        let phase = parts.next()?;
        let (waiting_phase, history) = match phase {
            "wh" => (true, true),
            "wn" => (true, false),
            "rh" => (false, true),
            "rn" => (false, false),
            _ => return None,
        };
        let sent = parts.next()?.parse().ok()?;
        let waiting_sent = parts.next()?.parse().ok()?;
        let total = parts.next()?.parse().ok()?;
        let (at, id) = (parts.next()?, parts.next()?);
        let after = match (at.is_empty(), id.is_empty()) {
            (true, true) => None,
            (false, false) => Some((at.to_owned(), id.to_owned())),
            _ => return None,
        };
        Some(SnapshotPage {
            waiting_phase,
            history,
            sent,
            waiting_sent,
            total,
            after,
        })
    }

    fn token(&self) -> String {
        let (at, id) = self
            .after
            .as_ref()
            .map_or(("", ""), |(a, i)| (a.as_str(), i.as_str()));
        format!(
            "{}{}|{}|{}|{}|{at}|{id}",
            if self.waiting_phase { 'w' } else { 'r' },
            if self.history { 'h' } else { 'n' },
            self.sent,
            self.waiting_sent,
            self.total,
        )
    }
}

/// Everything `viewer` may see that changed after `cursor`, in order; with `page`, the next
/// page of a snapshot.
pub fn sync(
    conn: &Connection,
    viewer_id: &str,
    cursor: i64,
    page: Option<&SnapshotPage>,
) -> rusqlite::Result<SyncResponse> {
    sync_with(conn, viewer_id, cursor, page, SnapshotDepth::DEFAULT)
}

/// [`sync`] with a first sync's history as deep as `depth` says (benches compare depths).
pub fn sync_with(
    conn: &Connection,
    viewer_id: &str,
    cursor: i64,
    page: Option<&SnapshotPage>,
    depth: SnapshotDepth,
) -> rusqlite::Result<SyncResponse> {
    sync_shared(conn, &LogCache::default(), viewer_id, cursor, page, depth)?.into_response()
}

/// [`sync_with`] as the hub answers it: what the newest log entries read as comes from `cache`,
/// shared with every other viewer's sync.
pub fn sync_shared(
    conn: &Connection,
    cache: &LogCache,
    viewer_id: &str,
    cursor: i64,
    page: Option<&SnapshotPage>,
    depth: SnapshotDepth,
) -> rusqlite::Result<SyncAnswer> {
    let Some(viewer) = employee(conn, viewer_id)? else {
        return Ok(SyncAnswer {
            cursor,
            ..SyncAnswer::default()
        });
    };
    if let Some(page) = page {
        // A page is read as things are now; whatever changed since the snapshot's cursor is
        // in the log after it, and synced with it.
        let mut changes = Vec::new();
        let settings = settings(conn)?;
        let next = snapshot_page(
            conn,
            &viewer,
            &settings,
            page.clone(),
            depth.page,
            depth,
            &mut changes,
        )?;
        return page_answer(conn, &viewer, cursor, next, changes).map(SyncAnswer::from);
    }
    let max = last_seq(conn)?;
    // A kind this hub does not know (a newer hub wrote it) cannot be replayed: a snapshot
    // covers it, as it covers every list change.
    let batch = cache.log(conn, cursor, max)?;
    // What a sync can tell without a snapshot: chats and messages, the channel list, the
    // settings (desktops colour badges from facts), and nothing for another employee's edit.
    // A snapshot when the viewer's own scope may have changed (their own edit), or for what it
    // cannot read (an unknown kind).
    let full = cursor <= 0
        || cursor > max
        || batch.iter().any(|(_, kind, reference)| match kind {
            Some(ChangeKind::Employees) => reference.is_empty() || *reference == viewer.id,
            Some(
                ChangeKind::Chat
                | ChangeKind::Lost
                | ChangeKind::Message
                | ChangeKind::Channels
                | ChangeKind::Settings
                | ChangeKind::QuickReplies,
            ) => false,
            None => true,
        });
    let settings = settings(conn)?;
    if full {
        // A snapshot of now, in pages: it covers every change up to `max`.
        let mut changes = vec![
            Change::Me {
                employee: employee_view(&viewer),
            },
            Change::Settings { settings },
            Change::Channels {
                channels: channels(conn)?.iter().map(channel_view).collect(),
            },
            Change::QuickReplies {
                quick_replies: quick_replies(conn, Some(&viewer.id))?,
            },
        ];
        let mut history = cursor <= 0 || cursor > max;
        // A desktop that has the history gets the messages changed since its cursor, as many
        // as a first sync's history at most; past that, a first sync's history instead.
        let bound = depth.chats.saturating_mul(depth.messages as usize);
        let ids: Vec<String> = if history {
            Vec::new()
        } else {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT ref FROM changes WHERE seq > ?1 AND kind = 'message' ORDER BY seq \
                 LIMIT ?2",
            )?;
            let ids: Vec<String> = stmt
                .query_map(params![cursor, bound as i64 + 1], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            history = ids.len() > bound;
            ids
        };
        if !history {
            let mut visible_cache: HashMap<String, bool> = HashMap::new();
            for id in ids {
                if let Some(m) = message(conn, &id)? {
                    if sees_chat(conn, &viewer, &m.chat, &mut visible_cache)? {
                        changes.push(Change::Message { message: m });
                    }
                }
            }
        }
        let first = SnapshotPage {
            history,
            total: visible_count(conn, &viewer)?,
            ..SnapshotPage::FIRST
        };
        let next = snapshot_page(
            conn,
            &viewer,
            &settings,
            first,
            depth.first_page,
            depth,
            &mut changes,
        )?;
        return page_answer(conn, &viewer, max, next, changes).map(SyncAnswer::from);
    }
    // Incremental: the latest state of each changed chat and message, in log order.
    // Whether each entry is the last of what it names in this answer (only that one is sent).
    let last: Vec<bool> = {
        let mut seen = std::collections::HashSet::with_capacity(batch.len());
        let mut last: Vec<bool> = batch
            .iter()
            .rev()
            .map(|(_, kind, reference)| seen.insert((*kind, reference.as_str())))
            .collect();
        last.reverse();
        last
    };
    // What the cache holds of them, taken in one go.
    let hits = cache.hits(
        batch
            .iter()
            .zip(&last)
            .filter(|(e, l)| **l && matches!(e.1, Some(ChangeKind::Chat | ChangeKind::Message)))
            .map(|(e, _)| e.0),
    );
    // Each changed chat as last logged in this answer: who answers it then decides who sees
    // its messages (any move after it would have been logged after it).
    let mut chats: HashMap<&str, Arc<Decoded>> = HashMap::new();
    for ((seq, kind, reference), is_last) in batch.iter().zip(&last) {
        if *kind == Some(ChangeKind::Chat) && *is_last {
            chats.insert(
                reference.as_str(),
                cache.chat(conn, *seq, reference, &hits)?,
            );
        }
    }
    // The others' (a message whose chat did not change here), read once per answer.
    let mut answered_by: HashMap<String, Option<Option<String>>> = HashMap::new();
    let (mut channels_sent, mut settings_sent, mut replies_sent) = (false, false, false);
    let mut changes = Vec::new();
    for ((seq, kind, reference), is_last) in batch.iter().zip(&last) {
        if !is_last {
            continue;
        }
        match kind {
            Some(ChangeKind::Channels) if !channels_sent => {
                channels_sent = true;
                changes.push(Piece::Own(Change::Channels {
                    channels: channels(conn)?.iter().map(channel_view).collect(),
                }));
            }
            Some(ChangeKind::Settings) if !settings_sent => {
                settings_sent = true;
                changes.push(Piece::Own(Change::Settings { settings }));
            }
            // The workspace's quick replies, or the viewer's own: their whole list.
            Some(ChangeKind::QuickReplies)
                if !replies_sent && (reference.is_empty() || *reference == viewer.id) =>
            {
                replies_sent = true;
                changes.push(Piece::Own(Change::QuickReplies {
                    quick_replies: quick_replies(conn, Some(&viewer.id))?,
                }));
            }
            // Sent once per answer, at the first of them; another employee's own replies are
            // not the viewer's to hear of.
            Some(ChangeKind::Channels | ChangeKind::Settings | ChangeKind::QuickReplies) => {}
            // Another employee's edit: who answers which chat moved with it, logged as chats.
            Some(ChangeKind::Employees) => {}
            // A chat the viewer cannot see is not named to them: only one they may have had
            // (below, `Lost`) is said to be gone.
            Some(ChangeKind::Chat) => {
                let entry = match chats.get(reference.as_str()) {
                    Some(e) => e.clone(),
                    None => cache.chat(conn, *seq, reference, &hits)?,
                };
                if let Some(piece) = chat_piece(&entry, &viewer, &settings)? {
                    changes.push(piece);
                }
            }
            Some(ChangeKind::Lost) => {
                let (id, previous) = reference.split_once('\t').unwrap_or((reference, ""));
                let previous = (!previous.is_empty()).then_some(previous);
                let sees_now = chat_row_by_id(conn, id)?
                    .is_some_and(|row| core::can_see(&viewer, row.responsible_id.as_deref()));
                if core::can_see(&viewer, previous) && !sees_now {
                    changes.push(Piece::Own(Change::ChatRemoved { id: id.to_owned() }));
                }
            }
            Some(ChangeKind::Message) => {
                let entry = cache.message(conn, *seq, reference, &hits)?;
                let Decoded::Message { chat, json } = &*entry else {
                    continue;
                };
                // `None`: the chat is gone, nobody's to see.
                let responsible: Option<Option<String>> =
                    match chats.get(chat.as_str()).map(|e| &**e) {
                        Some(Decoded::Chat { row, .. }) => Some(row.responsible_id.clone()),
                        Some(_) => None,
                        None => match answered_by.get(chat) {
                            Some(r) => r.clone(),
                            None => {
                                let r = conn
                                    .one(
                                        "SELECT responsible_id FROM chats WHERE id = ?1",
                                        [chat],
                                        |r| r.get::<_, Option<String>>(0),
                                    )
                                    .optional()?;
                                answered_by.insert(chat.clone(), r.clone());
                                r
                            }
                        },
                    };
                if responsible.is_some_and(|r| core::can_see(&viewer, r.as_deref())) {
                    changes.push(Piece::Shared(json.clone()));
                }
            }
            // A snapshot was sent instead (`full` above).
            None => {}
        }
    }
    let new_cursor = batch.last().map_or(cursor, |b| b.0);
    Ok(SyncAnswer {
        changes,
        cursor: new_cursor,
        has_more: batch.len() as i64 == SYNC_BATCH,
        ..SyncAnswer::default()
    })
}

/// Whether `viewer` sees chat `id` (remembered per answer).
fn sees_chat(
    conn: &Connection,
    viewer: &Employee,
    id: &str,
    cache: &mut HashMap<String, bool>,
) -> rusqlite::Result<bool> {
    if let Some(v) = cache.get(id) {
        return Ok(*v);
    }
    let v = chat_row_by_id(conn, id)?
        .is_some_and(|row| core::can_see(viewer, row.responsible_id.as_deref()));
    cache.insert(id.to_owned(), v);
    Ok(v)
}

/// The answer that carries one page of a snapshot: the next page's token while there is one;
/// with the last, every chat the viewer sees now (the desktop drops the others).
fn page_answer(
    conn: &Connection,
    viewer: &Employee,
    cursor: i64,
    next: Option<SnapshotPage>,
    mut changes: Vec<Change>,
) -> rusqlite::Result<SyncResponse> {
    match next {
        Some(next) => Ok(SyncResponse {
            changes,
            cursor,
            has_more: true,
            progress: Some(SyncProgress {
                chats: next.sent.min(next.total),
                total: next.total,
            }),
            page: Some(next.token()),
        }),
        None => {
            let ids = visible_ids(conn, viewer)?;
            let total = ids.len() as u64;
            changes.push(Change::VisibleChats { ids });
            Ok(SyncResponse {
                changes,
                cursor,
                has_more: last_seq(conn)? > cursor,
                page: None,
                progress: Some(SyncProgress {
                    chats: total,
                    total,
                }),
            })
        }
    }
}

/// The SQL narrowing to the chats `viewer` may see (`core::can_see` decides; this only saves
/// reading the others), over `:viewer` and `:receives`.
fn visibility(viewer: &Employee) -> &'static str {
    match viewer.role {
        Role::Supervisor => "1",
        Role::Seller => "(c.responsible_id = :viewer OR (c.responsible_id IS NULL AND :receives))",
        Role::None => "0",
    }
}

/// Of `all`, the named parameters `stmt` has.
fn named<'a>(
    stmt: &rusqlite::Statement,
    all: &[(&'a str, &'a dyn rusqlite::ToSql)],
) -> rusqlite::Result<Vec<(&'a str, &'a dyn rusqlite::ToSql)>> {
    let mut out = Vec::new();
    for (name, value) in all {
        if stmt.parameter_index(name)?.is_some() {
            out.push((*name, *value));
        }
    }
    Ok(out)
}

/// How many chats `viewer` sees.
fn visible_count(conn: &Connection, viewer: &Employee) -> rusqlite::Result<u64> {
    let mut n = 0;
    each_visible(conn, viewer, |_| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// Every chat `viewer` sees.
fn visible_ids(conn: &Connection, viewer: &Employee) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    each_visible(conn, viewer, |r| {
        out.push(r.get(0)?);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `each` with the row (id, responsible) of every chat `viewer` sees: the SQL narrowing,
/// then `core::can_see`.
fn each_visible(
    conn: &Connection,
    viewer: &Employee,
    mut each: impl FnMut(&rusqlite::Row) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.id, c.responsible_id FROM chats c WHERE {}",
        visibility(viewer)
    ))?;
    let args = named(
        &stmt,
        &[
            (":viewer", &viewer.id),
            (":receives", &viewer.receives_new_clients),
        ],
    )?;
    let mut rows = stmt.query(args.as_slice())?;
    while let Some(r) = rows.next()? {
        // A responsible that is not text is nobody's to see.
        let Ok(responsible) = r.get_ref(1)?.as_str_or_null() else {
            continue;
        };
        if core::can_see(viewer, responsible) {
            each(r)?;
        }
    }
    Ok(())
}

/// The page query of one phase: waiting chats (through `chats_waiting`) or the others
/// (through `chats_by_activity`), newest activity first, after `(:at, :id)` when `keyed`.
fn page_query(waiting: bool, keyed: bool, viewer: &Employee) -> String {
    let phase = if waiting {
        "(c.unanswered > 0 OR c.escalated)"
    } else {
        "NOT (c.unanswered > 0 OR c.escalated)"
    };
    let after = if keyed {
        " AND c.last_activity_at <= :at AND NOT (c.last_activity_at = :at AND c.id <= :id)"
    } else {
        ""
    };
    format!(
        "{CHAT_SELECT} WHERE {phase}{after} AND {} ORDER BY c.last_activity_at DESC, c.id LIMIT :limit",
        visibility(viewer)
    )
}

/// Appends up to `limit` chats of a snapshot from `page` on (each after its messages, as deep
/// as `depth` says); the page after them, or `None` when the snapshot is complete.
fn snapshot_page(
    conn: &Connection,
    viewer: &Employee,
    settings: &Settings,
    mut page: SnapshotPage,
    limit: usize,
    depth: SnapshotDepth,
    out: &mut Vec<Change>,
) -> rusqlite::Result<Option<SnapshotPage>> {
    let mut taken = 0;
    // However the token was written, one answer carries no more history than a first sync's.
    let (mut recent_here, mut waiting_here) = (0, 0);
    while taken < limit {
        let want = limit - taken;
        let mut stmt = conn.prepare_cached(&page_query(
            page.waiting_phase,
            page.after.is_some(),
            viewer,
        ))?;
        let (at, id) = page
            .after
            .as_ref()
            .map_or((None, None), |(a, i)| (Some(a.as_str()), Some(i.as_str())));
        let want_sql = want as i64;
        let args = named(
            &stmt,
            &[
                (":at", &at),
                (":id", &id),
                (":limit", &want_sql),
                (":viewer", &viewer.id),
                (":receives", &viewer.receives_new_clients),
            ],
        )?;
        let rows: Vec<ChatRow> = stmt
            .query_map(args.as_slice(), chat_row)?
            .collect::<rusqlite::Result<_>>()?;
        let read = rows.len();
        for row in rows {
            page.after = Some((row.last_activity_at.clone(), row.id.clone()));
            let Some(badge) = core::badge(viewer, &row.facts(), settings) else {
                continue;
            };
            let position = page.sent;
            page.sent = page.sent.saturating_add(1);
            taken += 1;
            let history = if !page.history {
                0
            } else if position < depth.chats as u64 && recent_here < depth.chats {
                recent_here += 1;
                depth.messages
            } else if row.unanswered > 0
                && page.waiting_sent < depth.waiting as u64
                && waiting_here < depth.waiting
            {
                page.waiting_sent = page.waiting_sent.saturating_add(1);
                waiting_here += 1;
                row.unanswered.min(depth.messages)
            } else {
                0
            };
            if history > 0 {
                for m in messages(conn, &row.id, None, history)? {
                    out.push(Change::Message { message: m });
                }
            }
            out.push(Change::Chat {
                chat: view_of(&row, links(conn, &row.id)?, badge),
            });
        }
        if read < want {
            // This phase is done: the waiting chats give way to the others; after them,
            // the snapshot is complete.
            if !page.waiting_phase {
                return Ok(None);
            }
            page.waiting_phase = false;
            page.after = None;
        }
    }
    Ok(Some(page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::Employee;

    fn viewer(role: Role) -> Employee {
        Employee {
            id: "e1".into(),
            name: "E".into(),
            role,
            receives_new_clients: true,
            priority_channel_id: None,
        }
    }

    /// Each page walks an index in its order: no page sorts the chats.
    #[test]
    fn snapshot_pages_walk_their_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_hub(&dir.path().join("hub.db")).expect("open");
        for role in [Role::Supervisor, Role::Seller] {
            for (waiting, index) in [(true, "chats_waiting"), (false, "chats_by_activity")] {
                for keyed in [false, true] {
                    let sql = page_query(waiting, keyed, &viewer(role));
                    let mut stmt = conn
                        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                        .expect("plan");
                    let args = named(
                        &stmt,
                        &[
                            (":at", &"2026-01-01T00:00:00Z"),
                            (":id", &"c"),
                            (":limit", &10),
                            (":viewer", &"e1"),
                            (":receives", &true),
                        ],
                    )
                    .expect("args");
                    let plan: Vec<String> = stmt
                        .query_map(args.as_slice(), |r| r.get::<_, String>(3))
                        .expect("rows")
                        .collect::<Result<_, _>>()
                        .expect("plan rows");
                    assert!(
                        plan.iter()
                            .any(|step| step.contains(&format!("USING INDEX {index}"))),
                        "{role:?} waiting={waiting} keyed={keyed}: {plan:?}"
                    );
                    assert!(
                        !plan.iter().any(|step| step.contains("TEMP B-TREE")),
                        "{role:?} waiting={waiting} keyed={keyed}: {plan:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_page_token_reads_back_as_written() {
        for page in [
            SnapshotPage::FIRST,
            SnapshotPage {
                waiting_phase: false,
                history: false,
                sent: 2_100,
                waiting_sent: 17,
                total: 100_000,
                after: Some(("2026-12-06T10:00:00.123Z".into(), "chat|with|bars".into())),
            },
        ] {
            assert_eq!(SnapshotPage::parse(&page.token()), Some(page));
        }
    }

    #[test]
    fn a_token_this_hub_did_not_write_is_refused() {
        for bad in [
            "",
            "x",
            "xh|0|0||",
            "wh|-1|0||",
            "wh|0|0|2026-01-01T00:00:00Z|",
            "wh|0|0||c1",
            "wh|a|0||",
            "wh|0|0|",
            "wh|0|0|x||",
            "wh|0|0|0|2026-01-01T00:00:00Z|",
            "wh|0|0|0||c1",
            "wh|0|0|-5||",
        ] {
            assert_eq!(SnapshotPage::parse(bad), None, "{bad:?}");
        }
    }
}
