//! Full-text search over the messages this desktop holds (offline too), through the FTS5
//! index of migrations 010–011; what a search means is `core::search`. Only messages of chats
//! this desktop holds are answered (one left behind by a chat that went is not shown).

use super::{LocalResult, LocalStore};
use crate::vm::{ChatRowVm, SearchHitVm, SearchVm, TextPartVm};
use rusqlite::params;
use switchboard_core::search::search_words;
use switchboard_db::SearchTerms;

/// How many of the newest matches a filtered search looks through at most.
pub const EXAMINED: u32 = 20_000;

/// What a search keeps to (everything by default).
#[derive(Debug, Clone, Default)]
pub struct Within {
    /// One channel's chats.
    pub channel: Option<String>,
    /// The chats the signed-in employee is responsible for.
    pub mine: bool,
    /// Messages at or after this time (RFC 3339 UTC).
    pub since: Option<String>,
}

impl LocalStore {
    /// Messages matching every word of `query`, newest first, at most `limit`.
    pub fn search(&self, query: &str, limit: u32) -> LocalResult<SearchVm> {
        self.search_in(query, limit, &Within::default())
    }

    /// As [`search`](Self::search), kept to `within`: matches are looked at newest stored
    /// first and those outside are passed over (a rare channel with a word in every message
    /// reads them all).
    pub fn search_in(&self, query: &str, limit: u32, within: &Within) -> LocalResult<SearchVm> {
        self.search_examining(query, limit, within, EXAMINED)
    }

    /// As [`search_in`](Self::search_in), looking through at most `examined` matches when
    /// kept to a filter.
    pub fn search_examining(
        &self,
        query: &str,
        limit: u32,
        within: &Within,
        examined: u32,
    ) -> LocalResult<SearchVm> {
        let words = search_words(query);
        let short = query.split_whitespace().count() > words.len();
        let me = if within.mine {
            // Nobody signed in is responsible for nothing.
            Some(self.me()?.map(|e| e.id).unwrap_or_default())
        } else {
            None
        };
        let chats = self.chats_by_number(query, within, me.as_deref())?;
        if words.is_empty() {
            return Ok(SearchVm {
                hits: Vec::new(),
                short: short && chats.is_empty(),
                partial: false,
                chats,
            });
        }
        let filtered = within.channel.is_some() || me.is_some() || within.since.is_some();
        self.read(|c, _| {
            // Each beginning typed, written out as the words it begins (the index reads those
            // from the newest end; a beginning it would first merge in full).
            let fts = SearchTerms::match_expression(c, &words)?.unwrap_or_default();
            // Kept to a filter, at most the newest EXAMINED matches are looked through (a word
            // in every message, one small channel, would otherwise read them all): the oldest
            // of them bounds the search, and whether there are more says it was partial.
            let (floor, more) = if filtered {
                switchboard_db::newest_matches_floor(c, &fts, examined, None)?
            } else {
                (None, false)
            };
            let mut stmt = c.prepare_cached(
                "SELECT m.id, m.chat, m.at, highlight(messages_fts, 0, char(57344), char(57345)), \
                 coalesce(ch.title, '') \
                 FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid \
                 JOIN chats ch ON ch.id = m.chat \
                 WHERE messages_fts MATCH ?1 AND (?3 IS NULL OR ch.channel_id = ?3) \
                 AND (?4 IS NULL OR ch.responsible_id = ?4) AND (?5 IS NULL OR m.at >= ?5) \
                 AND messages_fts.rowid >= coalesce(?6, -9223372036854775808) \
                 ORDER BY messages_fts.rowid DESC LIMIT ?2",
            )?;
            // The index hands matches out newest stored first without sorting them all (a
            // word in every message stays quick); the page is then put in time order.
            let rows = stmt.query_map(
                params![fts, limit, within.channel, me, within.since, floor],
                |r| {
                    Ok(SearchHitVm {
                        message_id: r.get(0)?,
                        chat: r.get(1)?,
                        at: r.get(2)?,
                        parts: parts(&r.get::<_, String>(3)?),
                        title: r.get(4)?,
                        remote: false,
                    })
                },
            )?;
            let mut hits: Vec<SearchHitVm> = rows.collect::<rusqlite::Result<_>>()?;
            hits.sort_by(|a, b| b.at.cmp(&a.at));
            Ok(SearchVm {
                partial: more && hits.len() < limit as usize,
                hits,
                short,
                chats: chats.clone(),
            })
        })
    }

    /// The chats with the client whose number `query` is, typed in any form ("8 916 …",
    /// "+7 (916) …") and read as the workspace reads CRM numbers (setting 2, core's rule).
    fn chats_by_number(
        &self,
        query: &str,
        within: &Within,
        me: Option<&str>,
    ) -> LocalResult<Vec<ChatRowVm>> {
        if query.chars().filter(char::is_ascii_digit).count() < 7 {
            return Ok(Vec::new());
        }
        let eight_as_plus7 = self.settings()?.is_some_and(|s| s.eight_as_plus7);
        let Ok(number) = switchboard_core::read_crm_phone(query, eight_as_plus7) else {
            return Ok(Vec::new());
        };
        let ids: Vec<String> = self.read(|c, _| {
            let mut stmt = c.prepare_cached(
                "SELECT id FROM chats WHERE json_extract(view, '$.chat_id') = ?1 \
                 AND (?2 IS NULL OR channel_id = ?2) AND (?3 IS NULL OR responsible_id = ?3) \
                 AND (?4 IS NULL OR last_activity_at >= ?4) LIMIT 20",
            )?;
            let rows = stmt.query_map(
                params![number.digits(), within.channel, me, within.since],
                |r| r.get(0),
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.chat_row(&id)?);
        }
        Ok(out)
    }
}

/// A highlighted message as this window's stretches of text (core reads them).
fn parts(marked: &str) -> Vec<TextPartVm> {
    switchboard_core::search::parts(marked)
        .into_iter()
        .map(|(text, hit)| TextPartVm { text, hit })
        .collect()
}
