//! What a location or a contact a client shares says, read as text: the conversation shows the
//! place and "55.751244, 37.618423", the contact's name, phones and e-mails — never an empty
//! bubble.
//!
//! The provider's contract names `geo` and `vcard` messages without their shape (§4.2). What is
//! read here is every form messengers are known to use: a location as a `geo:` URI (with
//! Android's `geo:0,0?q=lat,lon(label)`), a map link (Google's `?q=lat,lon` and `/maps/@lat,lon`,
//! Yandex's `?ll=lon,lat` and `pt=lon,lat`, OpenStreetMap's `mlat=…&mlon=…`) or plain "lat, lon"
//! text, with the rest of the text as the place's description; a contact as a vCard 2.1/3.0/4.0
//! file. Every value read is plain text without invisible or direction-changing characters.

use serde::{Deserialize, Serialize};

/// A shared location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Place {
    pub lat: f64,
    pub lon: f64,
    /// What the message says besides the coordinates (the place's name, address, directions).
    pub name: Option<String>,
}

impl Place {
    /// "55.751244, 37.618423": what the conversation and the CRM timeline show.
    pub fn coordinates(&self) -> String {
        format!("{}, {}", trim_float(self.lat), trim_float(self.lon))
    }

    /// A link to the place on OpenStreetMap (for people who open the CRM timeline).
    pub fn map_link(&self) -> String {
        let (lat, lon) = (trim_float(self.lat), trim_float(self.lon));
        format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}")
    }

    /// The line a CRM timeline gets: "Location: name (lat, lon) link".
    pub fn timeline_line(&self) -> String {
        match &self.name {
            Some(n) => format!("Location: {n} ({}) {}", self.coordinates(), self.map_link()),
            None => format!("Location: {} {}", self.coordinates(), self.map_link()),
        }
    }
}

/// At most six decimals (about 10 cm): more is noise.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// Longest description kept (characters).
const NAME_MAX: usize = 1000;

/// The location a `geo` message carries, read from its link, else from its text: `None` when
/// neither holds a latitude and longitude in range.
pub fn read_place(text: &str, link: Option<&str>) -> Option<Place> {
    let from_link = link.and_then(coordinates_in_link);
    let from_text = || text.lines().find_map(coordinates_in_text);
    let (lat, lon) = from_link.or_else(from_text)?;
    // The rest of the text: every line that is not the coordinates or a link.
    let rest: Vec<String> = text
        .lines()
        .map(|l| clean(l.trim()))
        .filter(|l| !l.is_empty() && coordinates_in_text(l).is_none() && !l.contains("://"))
        .collect();
    let name = (!rest.is_empty()).then(|| rest.join("\n").chars().take(NAME_MAX).collect());
    Some(Place { lat, lon, name })
}

/// Text as shown: without control, invisible or direction-changing characters.
fn clean(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_control() && !crate::domain::invisible(*c))
        .collect()
}

fn in_range(lat: f64, lon: f64) -> Option<(f64, f64)> {
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// "55.75, 37.61" or "55.75,37.61" or "55.75 37.61" (a whole line, nothing else on it).
fn coordinates_in_text(line: &str) -> Option<(f64, f64)> {
    let line = line.trim();
    let mut parts = line
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|p| !p.is_empty());
    let lat = number(parts.next()?)?;
    let lon = number(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    in_range(lat, lon)
}

/// A decimal number (no exponent, no infinity: "1e3" and "inf" are not coordinates).
fn number(s: &str) -> Option<f64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty()
        || digits.len() > 20
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        || digits.matches('.').count() > 1
        || !digits.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

/// A `geo:lat,lon` URI or a map link's coordinates.
fn coordinates_in_link(link: &str) -> Option<(f64, f64)> {
    let link = link.trim();
    let (before, query) = link.split_once('?').unwrap_or((link, ""));
    let query = query.split('#').next().unwrap_or("");
    let pairs: Vec<(&str, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                k,
                v.replace("%2C", ",").replace("%2c", ",").replace('+', " "),
            )
        })
        .collect();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.as_str())
    };
    // "55.75,37.61(Office)": the pair before a label.
    let pair = |v: &str| coordinates_in_text(v.split('(').next().unwrap_or(v));
    let swapped = |v: &str| pair(v).and_then(|(a, b)| in_range(b, a));
    if let Some(rest) = before
        .strip_prefix("geo:")
        .or_else(|| before.strip_prefix("GEO:"))
    {
        let mut it = rest.split(';').next().unwrap_or("").split(',');
        let at = in_range(number(it.next()?)?, number(it.next()?)?)?;
        // Android's "geo:0,0?q=lat,lon(label)": the place is in the query.
        return match (at, get("q").and_then(pair)) {
            ((0.0, 0.0), Some(q)) => Some(q),
            _ => Some(at),
        };
    }
    let host = before
        .split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
        .to_ascii_lowercase();
    if let (Some(lat), Some(lon)) = (get("mlat"), get("mlon")) {
        return in_range(number(lat)?, number(lon)?);
    }
    // Yandex writes longitude first.
    if host.contains("yandex.") {
        return get("pt").or_else(|| get("ll")).and_then(swapped);
    }
    for key in ["q", "ll", "query", "daddr", "center"] {
        if let Some(found) = get(key).and_then(pair) {
            return Some(found);
        }
    }
    // Google's "/maps/@55.75,37.61,17z" path form, on Google's hosts only.
    if host.contains("google.") && before.contains("/maps") {
        let (_, after) = before.split_once('@')?;
        let mut it = after.split([',', '/']);
        return in_range(number(it.next()?)?, number(it.next()?)?);
    }
    None
}

/// A shared contact: who it is and how to reach them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactCard {
    pub name: Option<String>,
    pub organization: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

/// Most phones or e-mails kept from one card; longest value kept (characters).
const CARD_ITEMS: usize = 10;
const CARD_VALUE_MAX: usize = 200;

/// Largest vCard read (bytes): a contact with a photo inside can be big; its text is not.
pub const VCARD_MAX_BYTES: usize = 256 * 1024;

/// Whether a file's first bytes are a vCard.
pub fn is_vcard(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    head[start..]
        .get(..11)
        .is_some_and(|h| h.eq_ignore_ascii_case(b"BEGIN:VCARD"))
}

/// The first contact of a vCard file (2.1, 3.0 or 4.0): `None` when it is not one or names
/// nothing. Values are plain text (never markup); embedded photos are ignored.
pub fn read_vcard(text: &str) -> Option<ContactCard> {
    let bytes = text.as_bytes();
    let text = if bytes.len() > VCARD_MAX_BYTES {
        // Cut on a character boundary.
        let mut end = VCARD_MAX_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    } else {
        text
    };
    let mut card = ContactCard::default();
    let mut structured = None;
    let mut inside = false;
    for line in unfold(text) {
        let Some((head, raw)) = split_property(&line) else {
            continue;
        };
        let mut params = head.split(';');
        // "item1.TEL" (Apple's groups): the name after the dot.
        let name = params.next().unwrap_or("");
        let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" if raw.trim().eq_ignore_ascii_case("VCARD") => {
                inside = true;
                continue;
            }
            // Only the first contact of a file.
            "END" if inside => break,
            _ if !inside => continue,
            _ => {}
        }
        let quoted = params.any(|p| {
            p.trim().eq_ignore_ascii_case("ENCODING=QUOTED-PRINTABLE")
                || p.trim().eq_ignore_ascii_case("QUOTED-PRINTABLE")
        });
        let value = if quoted {
            quoted_printable(raw)
        } else {
            raw.to_owned()
        };
        // Structured values split on their unescaped semicolons, then each part unescaped.
        let parts: Vec<String> = split_unescaped(&value)
            .iter()
            .map(|p| unescape(p))
            .collect();
        let whole = unescape(&value);
        if whole.is_empty() {
            continue;
        }
        match name.as_str() {
            "FN" if card.name.is_none() => card.name = Some(clip(&whole)),
            "N" if structured.is_none() => {
                // Family;Given;Additional;Prefix;Suffix → "Prefix Given Additional Family Suffix".
                let order = [3, 1, 2, 0, 4];
                let name = order
                    .iter()
                    .filter_map(|i| parts.get(*i).filter(|s| !s.is_empty()))
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" ");
                if !name.is_empty() {
                    structured = Some(clip(&name));
                }
            }
            "ORG" if card.organization.is_none() => {
                if let Some(org) = parts.iter().find(|s| !s.is_empty()) {
                    card.organization = Some(clip(org));
                }
            }
            "TEL" => add(&mut card.phones, whole.trim_start_matches("tel:")),
            "EMAIL" => add(&mut card.emails, whole.trim_start_matches("mailto:")),
            _ => {}
        }
    }
    if card.name.is_none() {
        card.name = structured;
    }
    (card.name.is_some() || !card.phones.is_empty() || !card.emails.is_empty()).then_some(card)
}

/// A phone or e-mail kept once (as shown: cut to its bound), at most [`CARD_ITEMS`].
fn add(list: &mut Vec<String>, value: &str) {
    let v = clip(value.trim());
    if !v.is_empty() && list.len() < CARD_ITEMS && !list.contains(&v) {
        list.push(v);
    }
}

/// A structured value's parts: split on `;` not escaped by a backslash.
fn split_unescaped(v: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut escaped) = (0, false);
    for (i, c) in v.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            ';' if !escaped => {
                parts.push(&v[start..i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    parts.push(&v[start..]);
    parts
}

/// A vCard's lines with folded ones joined (a line starting with a space or tab continues the
/// one before; a quoted-printable line ending in `=` continues on the next).
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let (mut quoted, mut soft_break) = (false, false);
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match lines.last_mut() {
            Some(last) if soft_break => {
                last.pop();
                last.push_str(raw);
            }
            Some(last) if raw.starts_with([' ', '\t']) => last.push_str(&raw[1..]),
            _ => {
                // Whether this line is quoted-printable: read once from its parameters.
                let head = raw.split(':').next().unwrap_or("");
                quoted = head.to_ascii_uppercase().contains("QUOTED-PRINTABLE");
                lines.push(raw.to_owned());
            }
        }
        soft_break = quoted && raw.ends_with('=');
    }
    lines
}

/// "NAME;PARAMS:value" split at the first colon outside a quoted parameter.
fn split_property(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

/// vCard 2.1's quoted-printable (`=D0=98`), read as UTF-8 (phones export Cyrillic names so).
fn quoted_printable(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'=', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// vCard's escapes (`\,` `\;` `\n` `\\`) read as the characters they stand for.
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            }
        } else if !c.is_control() && !crate::domain::invisible(c) {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

fn clip(v: &str) -> String {
    v.chars().take(CARD_VALUE_MAX).collect()
}

/// "0:14", "12:03", "1:02:03": how long a voice note or a video plays.
pub fn duration_label(ms: u64) -> String {
    let s = ms.saturating_add(500) / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Option<(f64, f64)> {
        Some((lat, lon))
    }

    #[test]
    fn a_location_is_read_from_every_form_messengers_use() {
        type Case<'a> = (&'a str, Option<&'a str>, Option<(f64, f64)>);
        let cases: [Case; 17] = [
            (
                "",
                Some("geo:55.751244,37.618423"),
                at(55.751244, 37.618423),
            ),
            ("", Some("geo:55.75,37.61;u=35"), at(55.75, 37.61)),
            (
                "",
                Some("https://maps.google.com/maps?q=55.751244,37.618423"),
                at(55.751244, 37.618423),
            ),
            (
                "",
                Some("https://maps.google.com/?q=55.75%2C37.61&z=17"),
                at(55.75, 37.61),
            ),
            (
                "",
                Some("https://yandex.ru/maps/?ll=37.61,55.75&z=17"),
                at(55.75, 37.61),
            ),
            (
                "",
                Some("https://yandex.ru/maps/?pt=37.62,55.76&ll=30.3,59.9"),
                at(55.76, 37.62),
            ),
            ("", Some("geo:0,0?q=55.75,37.61(Office)"), at(55.75, 37.61)),
            ("", Some("https://example.com/x@1,2"), None),
            (
                "",
                Some("https://www.google.com/maps/@55.7558,37.6173,17z"),
                at(55.7558, 37.6173),
            ),
            (
                "",
                Some("https://www.openstreetmap.org/?mlat=-33.86&mlon=151.21"),
                at(-33.86, 151.21),
            ),
            ("55.751244, 37.618423", None, at(55.751244, 37.618423)),
            (
                "Красная площадь\n55.7539,37.6208",
                None,
                at(55.7539, 37.6208),
            ),
            ("-33.8568 151.2153", None, at(-33.8568, 151.2153)),
            // Out of range, not numbers, or more than a pair: not a place.
            ("91.0, 37.6", None, None),
            ("55.75, 181", None, None),
            ("1e2, 3", Some("https://example.com/map"), None),
            ("call me at 55, 37 and 12", None, None),
        ];
        for (text, link, want) in cases {
            let got = read_place(text, link).map(|p| (p.lat, p.lon));
            assert_eq!(got, want, "{text:?} {link:?}");
        }
    }

    #[test]
    fn a_location_keeps_its_name_and_reads_as_coordinates_and_a_map_link() {
        let p = read_place(
            "Офис на Тверской\n55.7600, 37.6100\nвход со двора, \u{202e}код 42",
            None,
        )
        .expect("a place");
        // Everything the client wrote besides the coordinates, without direction overrides.
        assert_eq!(
            p.name.as_deref(),
            Some("Офис на Тверской\nвход со двора, код 42")
        );
        assert_eq!(p.coordinates(), "55.76, 37.61");
        assert_eq!(
            p.map_link(),
            "https://www.openstreetmap.org/?mlat=55.76&mlon=37.61#map=17/55.76/37.61"
        );
        assert!(p.timeline_line().starts_with(
            "Location: Офис на Тверской\nвход со двора, код 42 (55.76, 37.61) https://"
        ));
        let bare = read_place("", Some("geo:0,-0.5")).expect("a place");
        assert_eq!(bare.name, None);
        assert_eq!(bare.coordinates(), "0, -0.5");
    }

    #[test]
    fn a_contact_is_read_from_a_vcard_in_every_version() {
        let v3 = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Петров;Иван;;;\r\nFN:Иван Петров\r\n\
                  ORG:ООО \\\"Ромашка\\\";Sales\r\nTEL;type=CELL;type=VOICE;waid=79011112233:+7 901 111-22-33\r\n\
                  TEL;TYPE=WORK:+7 495 123-45-67\r\nEMAIL;TYPE=INTERNET:ivan@example.com\r\nEND:VCARD\r\n";
        let card = read_vcard(v3).expect("a card");
        assert_eq!(card.name.as_deref(), Some("Иван Петров"));
        assert_eq!(card.organization.as_deref(), Some("ООО \"Ромашка\""));
        assert_eq!(card.phones, ["+7 901 111-22-33", "+7 495 123-45-67"]);
        assert_eq!(card.emails, ["ivan@example.com"]);

        // 2.1 without FN: the structured name, in reading order; a folded line unfolded.
        let v21 = "BEGIN:VCARD\nVERSION:2.1\nN:Smith;John;Q;Dr.;\nTEL;CELL:+1 202 555 01\n 23\nEND:VCARD\n";
        let card = read_vcard(v21).expect("a card");
        assert_eq!(card.name.as_deref(), Some("Dr. John Q Smith"));
        assert_eq!(card.phones, ["+1 202 555 0123"]);

        // What Android exports: 2.1, a quoted-printable Cyrillic name broken with soft breaks;
        // Apple's grouped properties.
        let android = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;=D0=98=D0=B2=\r\n=D0=B0=D0=BD;;;\r\n\
                       FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD\r\nitem1.TEL;type=pref:+7 (999) 555-00-11\r\nEND:VCARD\r\n";
        let card = read_vcard(android).expect("a card");
        assert_eq!(card.name.as_deref(), Some("Иван"));
        assert_eq!(card.phones, ["+7 (999) 555-00-11"]);

        // 4.0 with tel: and mailto: URIs.
        let v4 = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anna\r\nTEL;VALUE=uri:tel:+79995550011\r\nEMAIL:mailto:a@b.c\r\nEND:VCARD\r\n";
        let card = read_vcard(v4).expect("a card");
        assert_eq!(card.phones, ["+79995550011"]);
        assert_eq!(card.emails, ["a@b.c"]);
    }

    #[test]
    fn what_is_not_a_contact_reads_as_none_and_markup_stays_text() {
        assert_eq!(read_vcard(""), None);
        assert_eq!(read_vcard("hello"), None);
        assert_eq!(read_vcard("BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n"), None);
        let card = read_vcard("BEGIN:VCARD\nFN:<img src=x onerror=alert(1)>\nEND:VCARD\n")
            .expect("a card");
        // Kept as the text it is: the page renders it as text, never as HTML.
        assert_eq!(card.name.as_deref(), Some("<img src=x onerror=alert(1)>"));
        // Two phones alike in their first 200 characters are one phone as shown.
        let long = "7".repeat(250);
        let card = read_vcard(&format!(
            "BEGIN:VCARD\nFN:X\nTEL:{long}1\nTEL:{long}2\nEND:VCARD\n"
        ))
        .expect("a card");
        assert_eq!(card.phones.len(), 1);
        // An escaped semicolon stays in its part.
        let card = read_vcard("BEGIN:VCARD\nN:Smith\\;Jones;Ann;;;\nORG:A\\;B;Sales\nEND:VCARD\n")
            .expect("a card");
        assert_eq!(card.name.as_deref(), Some("Ann Smith;Jones"));
        assert_eq!(card.organization.as_deref(), Some("A;B"));
        assert_eq!(duration_label(u64::MAX), "5124095576030:25:51");
        let many: String = (0..50).map(|i| format!("TEL:+7900000{i:04}\n")).collect();
        let card = read_vcard(&format!("BEGIN:VCARD\nFN:X\n{many}END:VCARD\n")).expect("a card");
        assert_eq!(card.phones.len(), CARD_ITEMS);
        assert!(is_vcard(b"\xEF\xBB\xBF\r\nbegin:vcard\r\n"));
        assert!(!is_vcard(b"%PDF-1.4"));
    }

    #[test]
    fn durations_read_as_a_clock() {
        assert_eq!(duration_label(0), "0:00");
        assert_eq!(duration_label(14_400), "0:14");
        assert_eq!(duration_label(59_600), "1:00");
        assert_eq!(duration_label(723_000), "12:03");
        assert_eq!(duration_label(3_723_000), "1:02:03");
    }

    proptest::proptest! {
        #[test]
        fn any_text_or_link_reads_without_panicking(text in "\\PC{0,200}", link in "\\PC{0,120}") {
            if let Some(p) = read_place(&text, Some(&link)) {
                proptest::prop_assert!((-90.0..=90.0).contains(&p.lat) && (-180.0..=180.0).contains(&p.lon));
            }
            let card = read_vcard(&format!("BEGIN:VCARD\n{text}\nEND:VCARD"));
            if let Some(c) = card {
                proptest::prop_assert!(c.phones.len() <= CARD_ITEMS && c.emails.len() <= CARD_ITEMS);
            }
        }
    }
}
