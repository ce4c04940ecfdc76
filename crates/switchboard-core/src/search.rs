//! How a person's search reads (full-text search over messages, #15): the words to find, and
//! the FTS5 query that finds them. Messages are indexed by words (SQLite's `unicode61`
//! tokenizer: case- and accent-blind), and each word typed matches the words that begin with
//! it — Russian word forms differ at their ends ("счет" finds "счета", "счётом"), product names
//! in any case ("iphone" finds "iPhone 15"), numbers from their first digits ("7741" finds
//! "77412"). Chosen over the trigram tokenizer, which also finds the middles of words, because
//! that one made storing a message about 6× slower and its index larger (`--bench search`). A
//! single letter is too broad to look for and is left out. "е" and "ё" are one letter to
//! people: either finds both. Whatever is typed is only ever a quoted string to FTS5, never its
//! syntax. A beginning is handed to FTS5 as the whole words of the index it begins, when they
//! are known and few ([`fts_query_with`]): FTS5 reads those from the newest message back and
//! stops at the page's end, where a beginning makes it merge every such word's list first (a
//! word in each of 2 000 000 messages: 66 ms against 0.5 ms, `--bench search`).

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
    fts_query_with(words, |_| None)
}

/// The most words of the index a typed beginning is looked for as, one by one (beyond that,
/// FTS5 is given the beginning itself).
pub const MAX_EXPANSION: usize = 512;

/// As [`fts_query`], with each beginning (from 3 letters on) written out as the indexed words
/// it begins, when `expand` knows them: `expand(term)` gives the index's words that begin with
/// `term` (as [`index_term`] spells it), `None` when it cannot say or there are more than
/// [`MAX_EXPANSION`]. FTS5 answers a beginning by merging the lists of all the words it
/// begins before the first row comes back (a word in every message: all 2 000 000 of them),
/// while a list of whole words is read from the newest end and stops at the page's last row.
pub fn fts_query_with(
    words: &[String],
    mut expand: impl FnMut(&str) -> Option<Vec<String>>,
) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    Some(
        words
            .iter()
            .map(|w| {
                // A quoted string followed by `*`: the words beginning with it — from 3 letters
                // on; a 2-letter word is looked for as itself (as a beginning it would merge
                // half the index).
                let mut alts: Vec<String> = Vec::new();
                // At most MAX_EXPANSION words for all of a word's spellings together.
                let mut budget = MAX_EXPANSION;
                for s in spellings(w) {
                    if s.chars().count() < 3 {
                        alts.push(quote(&s));
                        continue;
                    }
                    let whole = index_term(&s)
                        .and_then(|t| expand(&t))
                        .filter(|t| !t.is_empty() && t.len() <= budget);
                    budget -= whole.as_ref().map_or(0, Vec::len);
                    match whole {
                        Some(terms) => alts.extend(terms.iter().map(|t| quote(t))),
                        None => alts.push(format!("{}*", quote(&s))),
                    }
                }
                if alts.len() == 1 {
                    alts.swap_remove(0)
                } else {
                    format!("({})", alts.join(" OR "))
                }
            })
            .collect::<Vec<_>>()
            .join(" AND "),
    )
}

/// How the index spells `word` — when that is certain: one word of ASCII letters and digits
/// and Cyrillic (U+0400–U+045F), lower-cased, which SQLite's `unicode61 remove_diacritics 2`
/// does to these letters just so (a desktop test holds it to that for each of them). Any
/// other letter (an accent the index drops, a script whose case it folds its own way) and any
/// word that is more than one indexed word: `None`, and the search asks FTS5 itself.
pub fn index_term(word: &str) -> Option<String> {
    let word = word.trim_matches(|c: char| c.is_ascii_punctuation());
    (!word.is_empty() && word.chars().all(spelled_alike)).then(|| word.to_lowercase())
}

/// Marks the index takes as the space between words, besides ASCII's (a desktop test holds it
/// to that for each of them).
const SPACES: [char; 17] = [
    '\u{A0}', '«', '»', '\u{2010}', '\u{2011}', '–', '—', '\u{2015}', '…', '“', '”', '„', '‘', '’',
    '№', '°', '•',
];

/// The index's words in `text`, each as the index spells it — when that is certain: the text
/// is made of the letters of [`index_term`], ASCII's other characters and the common marks of
/// [`SPACES`], and no word is longer than 256 letters. `None` otherwise (the words are then
/// asked of the index's own tokenizer).
pub fn index_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut letters = 0;
    for c in text.chars() {
        if spelled_alike(c) {
            word.extend(c.to_lowercase());
            letters += 1;
            if letters > 256 {
                return None;
            }
        } else if c.is_ascii() || SPACES.contains(&c) {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            letters = 0;
        } else {
            return None;
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    Some(words)
}

/// Every mark [`index_words`] takes as the space between words (for the test that holds it to
/// the index).
pub fn index_spaces() -> impl Iterator<Item = char> {
    (0..128u8)
        .map(char::from)
        .filter(|c| !c.is_ascii_alphanumeric())
        .chain(SPACES)
}

/// A letter the index spells as lower-cased by Rust: ASCII's letters and digits, and Cyrillic
/// U+0400–U+045F (each held to the index by a desktop test, through [`index_term_letters`]).
fn spelled_alike(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('\u{400}'..='\u{45F}').contains(&c)
}

/// Every letter [`index_term`] spells by itself (for the test that holds it to the index).
pub fn index_term_letters() -> impl Iterator<Item = char> {
    ('\0'..='\u{45F}').filter(|c| spelled_alike(*c))
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
    fn a_beginning_is_written_out_as_the_words_it_begins_when_they_are_known() {
        let mut asked = Vec::new();
        let q = fts_query_with(&search_words("Заказ, iPhone на"), |t| {
            asked.push(t.to_string());
            match t {
                "заказ" => Some(vec!["заказ".into(), "заказу".into()]),
                _ => None,
            }
        });
        assert_eq!(
            q.as_deref(),
            Some("(\"заказ\" OR \"заказу\") AND \"iPhone\"* AND \"на\"")
        );
        // Only beginnings are asked for, each as the index spells it; a 2-letter word is not.
        assert_eq!(asked, ["заказ", "iphone"]);
        // None known, or too many: FTS5 is given the beginning.
        let many = vec!["x".to_string(); MAX_EXPANSION + 1];
        for answer in [Some(Vec::new()), Some(many), None] {
            assert_eq!(
                fts_query_with(&search_words("заказ"), |_| answer.clone()).as_deref(),
                Some("\"заказ\"*")
            );
        }
        // All spellings of a word together are written out as MAX_EXPANSION words at most.
        let half = |t: &str| {
            Some(
                (0..MAX_EXPANSION / 2 + 1)
                    .map(|i| format!("{t}{i}"))
                    .collect(),
            )
        };
        let q = fts_query_with(&search_words("счет"), half).unwrap_or_default();
        assert!(q.ends_with(" OR \"счёт\"*)"), "{q}");
        assert_eq!(q.matches(" OR ").count(), MAX_EXPANSION / 2 + 1);
        // Each spelling is asked for on its own.
        let mut asked = Vec::new();
        let q = fts_query_with(&search_words("счет"), |t| {
            asked.push(t.to_string());
            Some(vec![format!("{t}а")])
        });
        assert_eq!(asked, ["счет", "счёт"]);
        assert_eq!(q.as_deref(), Some("(\"счета\" OR \"счёта\")"));
        // A word from the index with a quote in it stays one quoted string.
        assert_eq!(
            fts_query_with(&search_words("abc"), |_| Some(vec!["ab\"c".into()])).as_deref(),
            Some("\"ab\"\"c\"")
        );
    }

    #[test]
    fn the_index_spelling_is_given_only_when_certain() {
        assert_eq!(index_term("iPhone").as_deref(), Some("iphone"));
        assert_eq!(index_term("Ёлка").as_deref(), Some("ёлка"));
        assert_eq!(index_term("«(ЗАКАЗ)».").as_deref(), None);
        assert_eq!(index_term("(ЗАКАЗ).").as_deref(), Some("заказ"));
        assert_eq!(index_term("77412").as_deref(), Some("77412"));
        // An accent the index drops, a letter it folds its own way, two words in one.
        for unsure in [
            "café",
            "İstanbul",
            "Straße",
            "жираф-2026",
            "ab_cd",
            "...",
            "",
        ] {
            assert_eq!(index_term(unsure), None, "{unsure}");
        }
        assert!(index_term_letters().all(|c| index_term(&c.to_string()).is_some()));
    }

    #[test]
    fn a_texts_words_are_spelled_as_the_index_spells_them_when_certain() {
        assert_eq!(
            index_words("Здравствуйте, ЗАКАЗ №77412 — «iPhone»…\n").as_deref(),
            Some(&["здравствуйте", "заказ", "77412", "iphone"].map(String::from)[..])
        );
        assert_eq!(index_words("").as_deref(), Some(&[][..]));
        assert_eq!(index_words(" ,.- ").as_deref(), Some(&[][..]));
        for unsure in ["café", "👍 спасибо", "İstanbul", "x²", "ǅemal"] {
            assert_eq!(index_words(unsure), None, "{unsure}");
        }
        // A word longer than any typed is left to the index.
        assert_eq!(index_words(&"а".repeat(257)), None);
        assert_eq!(index_words(&"а".repeat(256)).map(|w| w.len()), Some(1));
        // What index_term spells, index_words spells alike.
        for w in ["iPhone", "Ёлка", "(ЗАКАЗ)."] {
            assert_eq!(index_words(w), index_term(w).map(|t| vec![t]));
        }
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
