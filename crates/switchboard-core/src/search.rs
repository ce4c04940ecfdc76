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
        .map(|w| w.chars().filter(|c| *c != '"').take(64).collect::<String>())
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

#[cfg(test)]
mod tests {
    use super::*;

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
