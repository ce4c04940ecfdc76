//! How a person's search reads (full-text search over messages, #15): the words to find, and
//! the FTS5 query that finds them. Messages are indexed by words (SQLite's `unicode61`
//! tokenizer: case- and accent-blind), and each word typed matches the words that begin with
//! it — Russian word forms differ at their ends ("счет" finds "счета", "счётом"), product names
//! in any case ("iphone" finds "iPhone 15"), numbers from their first digits ("7741" finds
//! "77412"). Chosen over the trigram tokenizer, which also finds the middles of words, because
//! that one made storing a message about 6× slower and its index larger (`--bench search`). A
//! single letter is too broad to look for and is left out. "е" and "ё" are one letter to
//! people: either finds both. Whatever is typed is only ever a quoted string to FTS5, never its
//! syntax.

/// The shortest word looked for.
pub const MIN_WORD: usize = 2;

/// Spellings of one word to try: "е" and "ё" each either way (the first few of them).
fn spellings(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let yo: Vec<usize> = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, 'е' | 'ё' | 'Е' | 'Ё'))
        .map(|(i, _)| i)
        .take(3)
        .collect();
    let mut out = Vec::new();
    for mask in 0..(1u32 << yo.len()) {
        let mut v = chars.clone();
        for (bit, &i) in yo.iter().enumerate() {
            let upper = v[i].is_uppercase();
            v[i] = match (mask >> bit & 1 == 1, upper) {
                (true, false) => 'ё',
                (true, true) => 'Ё',
                (false, false) => 'е',
                (false, true) => 'Е',
            };
        }
        out.push(v.into_iter().collect());
    }
    out
}

/// The words of a search: split on white space, quotes dropped, at least [`MIN_WORD`]
/// characters each, at most 8 words of at most 64 characters.
pub fn search_words(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        // Quotes would end FTS5's string; a NUL ends SQLite's (it reads the query as C text).
        .map(|w| {
            w.chars()
                .filter(|c| *c != '"' && !c.is_control())
                .take(64)
                .collect::<String>()
        })
        // Only letters and digits are indexed: "...", ":)" or "👍" holds nothing to find.
        .filter(|w| w.chars().count() >= MIN_WORD && w.chars().any(char::is_alphanumeric))
        .take(8)
        .collect()
}

/// The FTS5 `MATCH` expression finding every word (each as a quoted string, in any of its
/// spellings); `None` when no word can be searched.
pub fn fts_query(words: &[String]) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    // A quoted string followed by `*`: the words beginning with it — from 3 letters on; a
    // 2-letter word is looked for as itself (as a beginning it would merge half the index).
    let quoted = |s: &str| {
        let star = if s.chars().count() >= 3 { "*" } else { "" };
        format!("\"{}\"{star}", s.replace('"', "\"\""))
    };
    Some(
        words
            .iter()
            .map(|w| {
                let alts: Vec<String> = spellings(w).iter().map(|s| quoted(s)).collect();
                if alts.len() == 1 {
                    alts[0].clone()
                } else {
                    format!("({})", alts.join(" OR "))
                }
            })
            .collect::<Vec<_>>()
            .join(" AND "),
    )
}

/// The marks a search asks FTS5's `highlight()` to put around what matched: private-use
/// characters (never typed), as SQL writes them: `char(57344)`, `char(57345)`.
pub const OPEN: char = '\u{E000}';
pub const CLOSE: char = '\u{E001}';
/// How much of a long message is shown around its first match.
const AROUND: usize = 60;

/// A highlighted message (see [`OPEN`]) as stretches of `(text, matched)`, cut to about
/// [`AROUND`] characters either side of the matches.
pub fn parts(marked: &str) -> Vec<(String, bool)> {
    let chars: Vec<char> = marked.chars().collect();
    let first = chars.iter().position(|c| *c == OPEN).unwrap_or(0);
    let last_close = chars
        .iter()
        .rposition(|c| *c == CLOSE)
        .unwrap_or(chars.len());
    let start = first.saturating_sub(AROUND);
    let end = (last_close.max(first) + AROUND).min(chars.len());
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut hit = false;
    let mut text = String::new();
    if start > 0 {
        text.push('…');
    }
    // A cut through a match keeps it a match.
    if chars[..start]
        .iter()
        .rev()
        .find(|c| **c == OPEN || **c == CLOSE)
        == Some(&OPEN)
    {
        hit = true;
    }
    for &c in &chars[start..end] {
        if c == OPEN || c == CLOSE {
            if !text.is_empty() {
                out.push((std::mem::take(&mut text), hit));
            }
            hit = c == OPEN;
        } else {
            text.push(c);
        }
    }
    if end < chars.len() {
        text.push('…');
    }
    if !text.is_empty() {
        out.push((text, hit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reads_as_stretches_with_its_matches_marked() {
        let p = parts("Выставлен \u{E000}счёт\u{E001} на оплату");
        let shown: Vec<(&str, bool)> = p.iter().map(|(t, h)| (t.as_str(), *h)).collect();
        assert_eq!(
            shown,
            [("Выставлен ", false), ("счёт", true), (" на оплату", false)]
        );
        let long = format!(
            "{} \u{E000}iPhone\u{E001} {}",
            "а".repeat(200),
            "б".repeat(200)
        );
        let p = parts(&long);
        assert!(p[0].0.starts_with('…') && p.last().is_some_and(|l| l.0.ends_with('…')));
        assert_eq!(
            p.iter()
                .filter(|p| p.1)
                .map(|p| p.0.as_str())
                .collect::<Vec<_>>(),
            ["iPhone"]
        );
        assert!(p.iter().map(|p| p.0.chars().count()).sum::<usize>() < 140);
    }

    #[test]
    fn words_shorter_than_a_trigram_and_quotes_are_left_out() {
        assert_eq!(
            search_words("  счёт на  iPhone  "),
            ["счёт", "на", "iPhone"]
        );
        assert_eq!(search_words("a \"b\" c"), Vec::<String>::new());
        assert_eq!(search_words("\"счёт\""), ["счёт"]);
        assert_eq!(search_words(&"x".repeat(100))[0].len(), 64);
        assert_eq!(
            search_words("один два три четыре пять шесть семь восемь девять").len(),
            8
        );
        assert_eq!(fts_query(&[]), None);
        assert_eq!(search_words("заказ ... :) 👍👍"), ["заказ"]);
        assert_eq!(search_words("ab\0cd \u{1b}[31m"), ["abcd", "[31m"]);
        assert_eq!(fts_query(&search_words("на")).as_deref(), Some("\"на\""));
    }

    #[test]
    fn yo_and_ye_are_one_letter() {
        assert_eq!(spellings("счет"), ["счет", "счёт"]);
        assert_eq!(spellings("Ёлка"), ["Елка", "Ёлка"]);
        assert_eq!(spellings("iphone"), ["iphone"]);
        // At most three places vary: eight spellings.
        assert_eq!(spellings("еееее").len(), 8);
        assert_eq!(
            fts_query(&search_words("счет iphone")).as_deref(),
            Some("(\"счет\"* OR \"счёт\"*) AND \"iphone\"*")
        );
    }

    #[test]
    fn what_is_typed_never_becomes_fts5_syntax() {
        for hostile in [
            "foo* OR bar",
            "NEAR(a b)",
            "text: x",
            "^abc",
            "a\"b\"c OR 1=1; DROP TABLE messages; --",
            "col:abc AND NOT xyz",
        ] {
            let q = fts_query(&search_words(hostile)).unwrap_or_default();
            // Every word is inside quotes: outside them only ( ) OR AND and spaces.
            let mut outside = String::new();
            let mut inside = false;
            let mut chars = q.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if inside && chars.peek() == Some(&'"') {
                        chars.next();
                        continue;
                    }
                    inside = !inside;
                } else if !inside {
                    outside.push(c);
                }
            }
            assert!(!inside, "{hostile}: {q}");
            let bare = outside.replace("AND", "").replace("OR", "");
            // (and each string's `*`: the words beginning with it).
            assert!(
                bare.chars().all(|c| matches!(c, ' ' | '(' | ')' | '*')),
                "{hostile}: {q}"
            );
        }
    }
}
