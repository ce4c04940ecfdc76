//! Quick replies: the variables a template may hold, filling them from what is known of a chat,
//! and the holes left for the employee to fill before Send.
//!
//! A variable is a word in braces: `{client}`, `{manager}`, `{deal}`, `{company}`, or the same
//! in Russian (`{клиент}`, `{менеджер}`, `{сделка}`, `{компания}`), in any case. Filling is
//! one pass: a value is never read for variables itself. What cannot be filled stays as it was
//! written, and [`holes`] finds it, so Send waits until the employee fills or removes it.

use serde::{Deserialize, Serialize};

/// What a template's variable stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Variable {
    /// The client's name: the chat's title when it is a name, else their CRM contact's.
    Client,
    /// The employee who sends it.
    Manager,
    /// The title of the chat's deal in the CRM (an open one first).
    Deal,
    /// The workspace's company, as its supervisors named it.
    Company,
}

impl Variable {
    pub const ALL: [Variable; 4] = [
        Variable::Client,
        Variable::Manager,
        Variable::Deal,
        Variable::Company,
    ];

    /// How it is written in English, without braces.
    pub fn name(self) -> &'static str {
        match self {
            Variable::Client => "client",
            Variable::Manager => "manager",
            Variable::Deal => "deal",
            Variable::Company => "company",
        }
    }

    /// How it is written in Russian, without braces.
    pub fn name_ru(self) -> &'static str {
        match self {
            Variable::Client => "клиент",
            Variable::Manager => "менеджер",
            Variable::Deal => "сделка",
            Variable::Company => "компания",
        }
    }

    /// The variable a word in braces names, in either language and any case.
    pub fn of(word: &str) -> Option<Variable> {
        let word = word.to_lowercase();
        Variable::ALL
            .into_iter()
            .find(|v| word == v.name() || word == v.name_ru())
    }
}

/// The longest title of a quick reply, in characters.
pub const TITLE_MAX_CHARS: usize = 100;
/// The longest text of a quick reply, in characters (a messenger message's size).
pub const TEXT_MAX_CHARS: usize = 4000;
/// The longest word read as a variable: `{` and `}` around more letters than this are text.
const WORD_MAX_CHARS: usize = 24;

/// What a chat offers its variables; `None` (or only spaces) is not known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    pub client: Option<String>,
    pub manager: Option<String>,
    pub deal: Option<String>,
    pub company: Option<String>,
}

impl Values {
    /// The value of `v`, trimmed; `None` when not known.
    pub fn get(&self, v: Variable) -> Option<&str> {
        match v {
            Variable::Client => self.client.as_deref(),
            Variable::Manager => self.manager.as_deref(),
            Variable::Deal => self.deal.as_deref(),
            Variable::Company => self.company.as_deref(),
        }
        .map(str::trim)
        .filter(|s| !s.is_empty())
    }
}

/// One word in braces of a text: where it is (bytes, braces included) and the word.
fn words(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(open) = text[from..].find('{').map(|i| from + i) {
            let rest = &text[open + 1..];
            let len = rest
                .char_indices()
                .take_while(|(_, c)| c.is_alphabetic() || *c == '_')
                .take(WORD_MAX_CHARS + 1)
                .last()
                .map_or(0, |(i, c)| i + c.len_utf8());
            let word = &rest[..len];
            if !word.is_empty()
                && word.chars().count() <= WORD_MAX_CHARS
                && rest[len..].starts_with('}')
            {
                let end = open + 1 + len + 1;
                from = end;
                return Some((open..end, word));
            }
            from = open + 1;
        }
        None
    })
}

/// One variable left in a text: where, in UTF-16 code units (as the composer counts), and which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Hole {
    pub start: u32,
    pub end: u32,
    pub variable: Variable,
}

/// Every variable left in `text`, in order: what Send waits on.
pub fn holes(text: &str) -> Vec<Hole> {
    // UTF-16 units counted once through the text, from each word to the next.
    let (mut bytes, mut units) = (0usize, 0u32);
    let mut to = |b: usize| {
        units += text[bytes..b].encode_utf16().count() as u32;
        bytes = b;
        units
    };
    let mut out = Vec::new();
    for (at, word) in words(text) {
        let Some(variable) = Variable::of(word) else {
            continue;
        };
        let start = to(at.start);
        let end = to(at.end);
        out.push(Hole {
            start,
            end,
            variable,
        });
    }
    out
}

/// `text` with each variable `values` knows written in; the others stay for [`holes`].
pub fn fill(text: &str, values: &Values) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, word) in words(text) {
        if let Some(value) = Variable::of(word).and_then(|v| values.get(v)) {
            out.push_str(&text[last..at.start]);
            out.push_str(value);
            last = at.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// The client's name as a chat's title gives it: a title with letters that is not a
/// messenger handle (`@name`); a number alone is not a name to greet.
pub fn client_name(title: &str) -> Option<&str> {
    let title = title.trim();
    (title.chars().any(char::is_alphabetic) && !title.starts_with('@')).then_some(title)
}

/// Why a quick reply cannot be saved as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateRefusal {
    #[error("title: must not be empty")]
    EmptyTitle,
    #[error("title: at most {TITLE_MAX_CHARS} characters")]
    TitleTooLong,
    #[error("title: must be one line of text")]
    TitleNotOneLine,
    #[error("text: must not be empty")]
    EmptyText,
    #[error("text: at most {TEXT_MAX_CHARS} characters")]
    TextTooLong,
    #[error("text: only letters, lines and tabs: no control or direction-changing characters")]
    HiddenCharacters,
    /// A word in braces that is no variable: a typo would reach the client as written.
    #[error(
        "text: {{{0}}} is not a variable: use {{client}}, {{manager}}, {{deal}} or {{company}}"
    )]
    UnknownVariable(String),
}

impl TemplateRefusal {
    /// The field it is about.
    pub fn field(&self) -> &'static str {
        match self {
            TemplateRefusal::EmptyTitle
            | TemplateRefusal::TitleTooLong
            | TemplateRefusal::TitleNotOneLine => "title",
            _ => "text",
        }
    }
}

/// Characters that change what a line shows without being seen: line and paragraph
/// separators and the direction overrides (a title or text that reads otherwise than it is).
fn hidden(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A quick reply's text as kept: line ends as `\n` (what the composer's field holds, so the
/// holes it is told of fall where its text has them).
pub fn normalize_text(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Whether a quick reply may be saved: a title and a text within bounds, and no word in braces
/// that is not a variable.
pub fn check_template(title: &str, text: &str) -> Result<(), TemplateRefusal> {
    if title.trim().is_empty() {
        return Err(TemplateRefusal::EmptyTitle);
    }
    if title.chars().count() > TITLE_MAX_CHARS {
        return Err(TemplateRefusal::TitleTooLong);
    }
    if title.chars().any(|c| c.is_control() || hidden(c)) {
        return Err(TemplateRefusal::TitleNotOneLine);
    }
    if text.trim().is_empty() {
        return Err(TemplateRefusal::EmptyText);
    }
    if text.chars().count() > TEXT_MAX_CHARS {
        return Err(TemplateRefusal::TextTooLong);
    }
    if text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || hidden(c))
    {
        return Err(TemplateRefusal::HiddenCharacters);
    }
    if let Some((_, word)) = words(text).find(|(_, w)| Variable::of(w).is_none()) {
        return Err(TemplateRefusal::UnknownVariable(word.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_known() -> Values {
        Values {
            client: Some("Ирина".into()),
            manager: Some("Anna".into()),
            deal: Some("Кухня на заказ".into()),
            company: Some("ООО Ромашка".into()),
        }
    }

    #[test]
    fn every_variable_fills_in_either_language_and_any_case() {
        let v = all_known();
        assert_eq!(
            fill("Hi {client}, I am {manager} of {company} about {deal}.", &v),
            "Hi Ирина, I am Anna of ООО Ромашка about Кухня на заказ."
        );
        assert_eq!(
            fill("{Клиент}, {МЕНЕДЖЕР} · {сделка} · {Компания}", &v),
            "Ирина, Anna · Кухня на заказ · ООО Ромашка"
        );
    }

    #[test]
    fn what_is_not_known_stays_and_is_a_hole_where_the_composer_counts() {
        let v = Values {
            client: Some("Ирина".into()),
            deal: Some("   ".into()),
            ..Values::default()
        };
        let text = fill("👋 {client}! Ваш заказ {deal} — {manager}", &v);
        assert_eq!(text, "👋 Ирина! Ваш заказ {deal} — {manager}");
        let h = holes(&text);
        assert_eq!(h.len(), 2);
        // UTF-16: the emoji is two units, as JavaScript's string indices count it.
        let units: Vec<u16> = text.encode_utf16().collect();
        for hole in &h {
            let word = String::from_utf16(&units[hole.start as usize..hole.end as usize]).unwrap();
            assert_eq!(word, format!("{{{}}}", hole.variable.name()));
        }
        assert_eq!(h[0].variable, Variable::Deal);
        assert_eq!(h[1].variable, Variable::Manager);
    }

    #[test]
    fn filling_is_one_pass_a_value_is_not_read_for_variables() {
        let v = Values {
            client: Some("{deal}".into()),
            deal: Some("X".into()),
            ..Values::default()
        };
        assert_eq!(fill("{client}", &v), "{deal}");
    }

    #[test]
    fn braces_that_are_no_variable_are_text() {
        let v = all_known();
        for text in [
            "{}",
            "{ client }",
            "{client",
            "client}",
            "{client1}",
            "{a-b}",
            "json {\"a\":1}",
        ] {
            assert_eq!(fill(text, &v), text);
            assert!(holes(text).is_empty(), "{text}");
        }
        // `{{client}` holds `{client}` after its first brace.
        assert_eq!(fill("{{client}", &v), "{Ирина");
        assert!(holes("{ client }").is_empty());
        assert!(holes("{clientx}").is_empty());
    }

    #[test]
    fn a_template_with_a_typo_in_braces_is_refused_naming_it() {
        assert_eq!(
            check_template("Hi", "Hello {clinet}"),
            Err(TemplateRefusal::UnknownVariable("clinet".into()))
        );
        assert!(check_template("Hi", "Hello {client}, {Сделка}").is_ok());
        assert_eq!(check_template(" ", "x"), Err(TemplateRefusal::EmptyTitle));
        assert_eq!(
            check_template("a\nb", "x"),
            Err(TemplateRefusal::TitleNotOneLine)
        );
        assert_eq!(check_template("t", "\n "), Err(TemplateRefusal::EmptyText));
        assert_eq!(
            check_template(&"т".repeat(TITLE_MAX_CHARS + 1), "x"),
            Err(TemplateRefusal::TitleTooLong)
        );
        assert!(check_template(&"т".repeat(TITLE_MAX_CHARS), "x").is_ok());
        assert_eq!(
            check_template("t", &"ы".repeat(TEXT_MAX_CHARS + 1)),
            Err(TemplateRefusal::TextTooLong)
        );
        let e = TemplateRefusal::UnknownVariable("clinet".into());
        assert!(e.to_string().contains("{clinet}"), "{e}");
        assert_eq!(e.field(), "text");
        assert_eq!(
            check_template("t", "a\u{0}b"),
            Err(TemplateRefusal::HiddenCharacters)
        );
        assert_eq!(
            check_template("t", "pay \u{202E}001"),
            Err(TemplateRefusal::HiddenCharacters)
        );
        assert_eq!(
            check_template("a\u{2028}b", "x"),
            Err(TemplateRefusal::TitleNotOneLine)
        );
        assert!(check_template("t", "line\n\tindented").is_ok());
        assert_eq!(normalize_text("a\r\nb\rc"), "a\nb\nc");
    }

    #[test]
    fn a_client_is_greeted_by_a_name_not_a_number_or_a_handle() {
        assert_eq!(client_name(" Ирина Петрова "), Some("Ирина Петрова"));
        assert_eq!(client_name("+7 916 111-11-11"), None);
        assert_eq!(client_name("79161111111"), None);
        assert_eq!(client_name("@irina"), None);
        assert_eq!(client_name(""), None);
    }

    proptest! {
        /// Whatever the text, filling never panics, keeps every byte that is not a known
        /// variable, and leaves no hole for a variable it knows.
        #[test]
        fn fill_and_holes_agree(text in "\\PC{0,80}", word in "[a-zа-я_{}]{0,12}") {
            let text = format!("{text}{{{word}}}{text}");
            let filled = fill(&text, &all_known());
            prop_assert!(holes(&filled).is_empty(), "{filled}");
            let none = fill(&text, &Values::default());
            prop_assert_eq!(none, text.clone());
            let units = text.encode_utf16().count() as u32;
            for h in holes(&text) {
                prop_assert!(h.start < h.end && h.end <= units);
            }
        }
    }
}
