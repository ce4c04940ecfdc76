//! The provider's webhook bodies (contracts/messenger-provider.md §4), read and validated
//! whole before anything is stored: a malformed body is refused naming the field.

use crate::error::ApiError;
use crate::store::Inbound;
use serde_json::Value;
use switchboard_core::{MessageKind, MessageStatus};

/// A validated webhook delivery.
#[derive(Debug, Default)]
pub struct Delivery {
    pub test: bool,
    pub messages: Vec<Inbound>,
    pub statuses: Vec<Status>,
    /// `channelsUpdates`: (channelId, state).
    pub channel_states: Vec<(String, String)>,
}

/// A status change of one of our outgoing messages.
#[derive(Debug, Clone)]
pub struct Status {
    pub provider_message_id: String,
    /// `None`: the provider's `edited`, or a status this hub does not know (no step in the walk).
    pub status: Option<MessageStatus>,
    /// For `error`: the provider's code and description.
    pub error: Option<String>,
}

fn string(obj: &Value, field: &str, path: &str) -> Result<String, ApiError> {
    match obj.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(ApiError::bad_field(
            &format!("{path}.{field}"),
            "must not be empty",
        )),
        Some(_) => Err(ApiError::bad_field(
            &format!("{path}.{field}"),
            "must be a string",
        )),
        None => Err(ApiError::bad_field(
            &format!("{path}.{field}"),
            "is required",
        )),
    }
}

fn opt_string(obj: &Value, field: &str, path: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_field(
            &format!("{path}.{field}"),
            "must be a string",
        )),
    }
}

/// The provider's `dateTime` as RFC 3339 UTC with milliseconds; it may lack the zone.
fn time(obj: &Value, field: &str, path: &str) -> Result<String, ApiError> {
    let raw = string(obj, field, path)?;
    let parsed = chrono::DateTime::parse_from_rfc3339(&raw)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()
        .filter(|t| (0..=9999).contains(&chrono::Datelike::year(t)))
        .ok_or_else(|| {
            ApiError::bad_field(&format!("{path}.{field}"), "must be an ISO 8601 time")
        })?;
    Ok(crate::store::format_time(parsed))
}

fn array<'a>(body: &'a Value, field: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(ApiError::bad_field(field, "must be an array")),
    }
}

/// Reads a webhook body. Unknown top-level keys are ignored.
pub fn parse(body: &[u8]) -> Result<Delivery, ApiError> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_field("body", &format!("not JSON ({e})")))?;
    if !body.is_object() {
        return Err(ApiError::bad_field("body", "must be a JSON object"));
    }
    let mut d = Delivery {
        test: body.get("test").and_then(Value::as_bool).unwrap_or(false),
        ..Delivery::default()
    };
    for (i, m) in array(&body, "messages")?.into_iter().flatten().enumerate() {
        let path = format!("messages[{i}]");
        if !m.is_object() {
            return Err(ApiError::bad_field(&path, "must be an object"));
        }
        let is_echo = match m.get("isEcho") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ApiError::bad_field(
                    &format!("{path}.isEcho"),
                    "must be a boolean",
                ))
            }
        };
        let provider_message_id = string(m, "messageId", &path)?;
        let channel_id = string(m, "channelId", &path)?;
        let chat_type = string(m, "chatType", &path)?;
        let chat_id = string(m, "chatId", &path)?;
        let at = time(m, "dateTime", &path)?;
        let text = opt_string(m, "text", &path)?.unwrap_or_default();
        let content_uri = opt_string(m, "contentUri", &path)?;
        if text.is_empty()
            && content_uri.is_none()
            && m.get("type").and_then(Value::as_str).unwrap_or("text") == "text"
        {
            return Err(ApiError::bad_field(
                &format!("{path}.text"),
                "a text message needs text",
            ));
        }
        let contact = m.get("contact").filter(|c| c.is_object());
        let contact_path = format!("{path}.contact");
        d.messages.push(Inbound {
            provider_message_id,
            channel_id,
            chat_type,
            chat_id,
            at,
            text,
            content_uri,
            kind: MessageKind::from_provider(
                m.get("type").and_then(Value::as_str).unwrap_or("text"),
            ),
            is_echo,
            author_id: opt_string(m, "authorId", &path)?,
            contact_name: contact
                .map(|c| opt_string(c, "name", &contact_path))
                .transpose()?
                .flatten(),
            contact_phone: contact
                .map(|c| opt_string(c, "phone", &contact_path))
                .transpose()?
                .flatten(),
        });
    }
    for (i, s) in array(&body, "statuses")?.into_iter().flatten().enumerate() {
        let path = format!("statuses[{i}]");
        // A status this hub does not know (the provider added one) moves nothing, like
        // `edited`; the delivery's messages are stored all the same.
        let status = match string(s, "status", &path)?.as_str() {
            "sent" => Some(MessageStatus::Sent),
            "delivered" => Some(MessageStatus::Delivered),
            "read" => Some(MessageStatus::Read),
            "error" => Some(MessageStatus::Error),
            "edited" => None,
            other => {
                tracing::warn!(status = other, path = %path, "unknown provider status ignored");
                None
            }
        };
        let error = s.get("error").filter(|e| e.is_object()).map(|e| {
            let code = e
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN_ERROR");
            match e.get("description").and_then(Value::as_str) {
                Some(d) if !d.is_empty() => format!("{code}: {d}"),
                _ => code.to_owned(),
            }
        });
        d.statuses.push(Status {
            provider_message_id: string(s, "messageId", &path)?,
            status,
            error,
        });
    }
    for (i, c) in array(&body, "channelsUpdates")?
        .into_iter()
        .flatten()
        .enumerate()
    {
        let path = format!("channelsUpdates[{i}]");
        d.channel_states
            .push((string(c, "channelId", &path)?, string(c, "state", &path)?));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(extra: &str) -> String {
        format!(
            r#"{{"messages":[{{"messageId":"m1","channelId":"c1","chatType":"whatsapp","chatId":"79164569812","dateTime":"2025-05-06T14:16:00.002Z","type":"text","status":"inbound","text":"hi"{extra}}}]}}"#
        )
    }

    #[test]
    fn a_documented_message_reads() {
        let d = parse(msg(r#","contact":{"name":"Ivan"}"#).as_bytes()).expect("valid");
        assert_eq!(d.messages[0].chat_id, "79164569812");
        assert_eq!(d.messages[0].contact_name.as_deref(), Some("Ivan"));
        assert_eq!(d.messages[0].at, "2025-05-06T14:16:00.002Z");
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let bad = r#"{"messages":[{"messageId":"m1","channelId":"c1","chatType":"whatsapp","dateTime":"2025-05-06T14:16:00Z","text":"x"}]}"#;
        assert_eq!(
            parse(bad.as_bytes()).unwrap_err().message,
            "messages[0].chatId: is required"
        );
        let bad = msg(r#","isEcho":"yes""#);
        assert_eq!(
            parse(bad.as_bytes()).unwrap_err().message,
            "messages[0].isEcho: must be a boolean"
        );
        assert_eq!(
            parse(b"[1]").unwrap_err().message,
            "body: must be a JSON object"
        );
        assert!(parse(b"{")
            .unwrap_err()
            .message
            .starts_with("body: not JSON"));
        assert_eq!(
            parse(br#"{"messages":{}}"#).unwrap_err().message,
            "messages: must be an array"
        );
    }

    #[test]
    fn test_probe_and_unknown_keys() {
        let d = parse(br#"{"test":true,"somethingNew":[1]}"#).expect("valid");
        assert!(d.test && d.messages.is_empty());
    }

    #[test]
    fn statuses_carry_their_error_and_channel_updates_read() {
        let d = parse(
            br#"{"statuses":[{"messageId":"p1","timestamp":"2025-02-05T06:01:07.499Z","status":"error","error":{"error":"BAD_CONTACT","description":"no account"}}],
                 "channelsUpdates":[{"channelId":"c1","state":"qr","timestamp":1603977171000}]}"#,
        )
        .expect("valid");
        assert_eq!(
            d.statuses[0].error.as_deref(),
            Some("BAD_CONTACT: no account")
        );
        assert_eq!(d.channel_states, vec![("c1".to_owned(), "qr".to_owned())]);
        assert_eq!(
            parse(br#"{"channelsUpdates":[{"state":"qr"}]}"#)
                .unwrap_err()
                .message,
            "channelsUpdates[0].channelId: is required"
        );
    }

    /// A status the provider added later neither refuses the delivery nor moves a message.
    #[test]
    fn an_unknown_status_is_ignored_and_the_messages_are_kept() {
        let d = parse(
            br#"{"messages":[{"messageId":"m1","channelId":"c1","chatType":"whatsapp","chatId":"79164569812","dateTime":"2025-05-06T14:16:00.002Z","type":"text","status":"inbound","text":"hi"}],
                "statuses":[{"messageId":"p1","timestamp":"2025-02-05T06:01:07.499Z","status":"bounced"}]}"#,
        )
        .expect("read");
        assert_eq!(d.messages.len(), 1);
        assert_eq!(d.statuses.len(), 1);
        assert_eq!(d.statuses[0].status, None);
    }
}
