//! Ctrl+K: a chat by its client's name (fuzzy, any case, е/ё alike), its number typed in any
//! form, or its address on the messenger. One pass over two short columns of every chat the
//! desktop holds; the best few become rows.

use super::{LocalResult, LocalStore};
use crate::vm::ChatRowVm;
use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What is typed counts as a number when it is digits (at least 3) and the signs numbers are
/// written with: the digits as typed, and — where the workspace reads CRM numbers so
/// (setting 2) — "8 916 …" as +7 916 … too ("812 555" may be the start of a number or the
/// middle of +7 812 555…: both are looked for).
fn number_typed(query: &str, eight_as_plus7: bool) -> Option<(String, Option<String>)> {
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let only_number = query
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !only_number || digits.len() < 3 {
        return None;
    }
    let as_plus7 = match digits.strip_prefix('8') {
        Some(rest) if eight_as_plus7 && !query.trim_start().starts_with('+') => {
            Some(format!("7{rest}"))
        }
        _ => None,
    };
    Some((digits, as_plus7))
}

/// "ё" and "е" are one letter to whoever types a name.
fn plain_yo(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['ё', 'Ё']) {
        text.replace('ё', "е").replace('Ё', "Е").into()
    } else {
        text.into()
    }
}

impl LocalStore {
    /// The chats best matching `query`, at most `limit`: by score, then newest activity.
    pub fn jump(&self, query: &str, limit: usize) -> LocalResult<Vec<ChatRowVm>> {
        let query = query.trim();
        if query.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let eight_as_plus7 = self.settings()?.is_some_and(|s| s.eight_as_plus7);
        let number = number_typed(query, eight_as_plus7);
        let pattern = Pattern::new(
            &plain_yo(query),
            CaseMatching::Ignore,
            Normalization::Smart,
            AtomKind::Fuzzy,
        );
        let ids = self.read(|c, _| {
            let mut config = Config::DEFAULT;
            config.prefer_prefix = true;
            let mut matcher = Matcher::new(config);
            let mut buf = Vec::new();
            // The best `limit` so far; the heap's top is the worst of them.
            let mut best: BinaryHeap<Reverse<(u32, String, String)>> = BinaryHeap::new();
            let mut stmt = c.prepare_cached(
                // Answered from the covering index `chats_jump` (migration 015).
                "SELECT id, title, client, last_activity_at FROM chats",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let title = r.get_ref(1)?.as_str().unwrap_or_default();
                let client = r.get_ref(2)?.as_str().unwrap_or_default();
                let score = match &number {
                    // A number: where the client's digits hold what was typed (earlier is
                    // better; read as +7 it may match from the start).
                    Some((digits, as_plus7)) => [Some(digits), as_plus7.as_ref()]
                        .into_iter()
                        .flatten()
                        .filter_map(|d| client.find(d.as_str()))
                        .min()
                        .map(|at| 1_000 - at.min(999) as u32),
                    None => pattern
                        .score(Utf32Str::new(&plain_yo(title), &mut buf), &mut matcher)
                        .or_else(|| pattern.score(Utf32Str::new(client, &mut buf), &mut matcher)),
                };
                let Some(score) = score else { continue };
                let at = r.get_ref(3)?.as_str().unwrap_or_default();
                let worst = best.peek().map(|Reverse((s, a, _))| (*s, a.as_str()));
                if best.len() < limit || worst.is_some_and(|w| (score, at) > w) {
                    best.push(Reverse((score, at.to_owned(), r.get(0)?)));
                    if best.len() > limit {
                        best.pop();
                    }
                }
            }
            let mut found = best.into_vec();
            found.sort();
            Ok(found
                .into_iter()
                .map(|Reverse((_, _, id))| id)
                .collect::<Vec<String>>())
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.chat_row(&id)?);
        }
        Ok(out)
    }
}

impl LocalStore {
    /// The chats this desktop holds that CRM entity `kind:id` is linked to (an index step).
    pub fn chats_of_entity(
        &self,
        kind: switchboard_core::EntityKind,
        id: &str,
    ) -> LocalResult<Vec<String>> {
        self.read(|c, _| {
            let mut stmt = c.prepare_cached(
                "SELECT chat FROM chat_crm WHERE kind = ?1 AND id = ?2 ORDER BY chat LIMIT 20",
            )?;
            let rows = stmt.query_map(rusqlite::params![kind.as_str(), id], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_typed() {
        let both = |a: &str, b: &str| Some((a.to_owned(), Some(b.to_owned())));
        let one = |a: &str| Some((a.to_owned(), None));
        assert_eq!(number_typed("8 916 456", true), both("8916456", "7916456"));
        assert_eq!(number_typed("8 916 456", false), one("8916456"));
        assert_eq!(number_typed("+8 916", true), one("8916"));
        assert_eq!(number_typed("(916) 456-98", true), one("91645698"));
        assert_eq!(number_typed("91", true), None);
        assert_eq!(number_typed("Ivan 916", true), None);
    }
}
