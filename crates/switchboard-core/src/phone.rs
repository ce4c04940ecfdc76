//! Setting 2: reading a phone number typed into the CRM (or the composer).
//!
//! The reading follows settings.md step by step; `phonenumber` (libphonenumber's
//! metadata) only decides validity at the end. Known trap: `phonenumber::parse`
//! reads `+78005553535` as code 7, national `5553535` — it strips the national
//! `80` as if it were Russia's domestic prefix — and then calls it invalid. So we
//! never let it parse: we split the country code off ourselves and check the
//! national part against the metadata (see [`validate`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A phone number in E.164 form: `+` and up to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct E164(String);

impl E164 {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The messenger chat id: the digits without `+` (`79164569812`).
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
    /// For people: the international format (`+7 916 456-98-12`), or E.164 when the
    /// metadata has no format for it.
    pub fn international(&self) -> String {
        use phonenumber::Mode;
        match phonenumber::parse(None, &self.0) {
            // The crate's parser may drop a national 8 (see `validate`): only a number that
            // round-trips unchanged is formatted.
            Ok(n) if n.format().mode(Mode::E164).to_string() == self.0 => {
                n.format().mode(Mode::International).to_string()
            }
            _ => self.0.clone(),
        }
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a value could not be read as a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PhoneErrorKind {
    /// Nothing but whitespace (or a lone `+`).
    Empty,
    /// Letters, extensions, two numbers, `tel:` … anything but digits and formatting.
    InvalidChars,
    /// Digits that make no valid number (no country code, wrong length, unknown range).
    InvalidNumber,
}

impl PhoneErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneErrorKind::Empty => "empty",
            PhoneErrorKind::InvalidChars => "invalid_chars",
            PhoneErrorKind::InvalidNumber => "invalid_number",
        }
    }
}

/// A value that is not a phone number; it names the raw value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{raw:?} is not a phone number ({})", kind.as_str())]
pub struct PhoneError {
    pub kind: PhoneErrorKind,
    pub raw: String,
}

fn is_formatting(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{00A0}' | '\u{2009}' | '\u{202F}' | '(' | ')' | '-' | '.' | '/' | '\u{2010}'
            ..='\u{2014}'
    )
}

/// Reads one CRM phone value under setting 2 (`eight_as_plus7`), exactly as settings.md says.
pub fn read_crm_phone(raw: &str, eight_as_plus7: bool) -> Result<E164, PhoneError> {
    let err = |kind| PhoneError {
        kind,
        raw: raw.to_owned(),
    };
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace());
    if trimmed.is_empty() {
        return Err(err(PhoneErrorKind::Empty));
    }
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !is_formatting(c) {
            return Err(err(PhoneErrorKind::InvalidChars));
        }
    }
    if digits.is_empty() {
        return Err(err(PhoneErrorKind::Empty));
    }
    if eight_as_plus7 && !plus && digits.len() == 11 && digits.starts_with('8') {
        digits.replace_range(0..1, "7");
    }
    validate(&digits).ok_or_else(|| err(PhoneErrorKind::InvalidNumber))
}

/// Checks international digits (no `+`) against libphonenumber's metadata.
///
/// The number is valid when, for some region of its country calling code, the
/// national part matches the region's general pattern and one of its number types
/// (fixed line, mobile, toll free, …) — libphonenumber's `isValidNumber`. We split
/// the code off ourselves and ask the metadata directly, because the crate's
/// parser strips a national 8 after `+7` as if it were a trunk prefix.
fn validate(digits: &str) -> Option<E164> {
    use phonenumber::{metadata::DATABASE, Type};
    const TYPES: [Type; 10] = [
        Type::FixedLine,
        Type::Mobile,
        Type::TollFree,
        Type::PremiumRate,
        Type::SharedCost,
        Type::PersonalNumber,
        Type::Voip,
        Type::Pager,
        Type::Uan,
        Type::Voicemail,
    ];
    if digits.len() > 15 || digits.starts_with('0') {
        return None;
    }
    // Country calling codes are prefix-free, so at most one length matches.
    let (regions, national) = (1..=3).find_map(|len| {
        let code: u16 = digits.get(..len)?.parse().ok()?;
        Some((DATABASE.by_code(&code)?, digits.get(len..)?))
    })?;
    let valid = regions.into_iter().any(|meta| {
        let d = meta.descriptors();
        d.general().is_match(national)
            && TYPES
                .into_iter()
                .any(|t| d.get(t).is_some_and(|desc| desc.is_match(national)))
    });
    valid.then(|| E164(format!("+{digits}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str, on: bool) -> String {
        match read_crm_phone(raw, on) {
            Ok(n) => n.to_string(),
            Err(e) => format!("error:{}", e.kind.as_str()),
        }
    }

    #[test]
    fn russian_toll_free_with_national_8_is_not_treated_as_trunk_prefix() {
        assert_eq!(read("+78005553535", false), "+78005553535");
        assert_eq!(read("+78312123456", false), "+78312123456");
    }

    #[test]
    fn error_names_the_raw_value() {
        let e = read_crm_phone("  89 доб", true).unwrap_err();
        assert_eq!(e.raw, "  89 доб");
        assert!(e.to_string().contains("89 доб"), "{e}");
    }

    #[test]
    fn international_format_for_people() {
        let n = read_crm_phone("8 (916) 456-98-12", true).unwrap();
        assert_eq!(n.international(), "+7 916 456-98-12");
        // The crate would read +7 800… as 800… after a trunk 8: shown as E.164 rather than wrong.
        let n = read_crm_phone("+78005553535", false).unwrap();
        assert_eq!(n.international(), "+78005553535");
    }

    #[test]
    fn chat_id_is_digits_without_plus() {
        let n = read_crm_phone("8 (916) 456-98-12", true).unwrap();
        assert_eq!(n.digits(), "79164569812");
    }
}
