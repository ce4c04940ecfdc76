//! Domain nouns: employees, channels, CRM references, messages.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An employee's id, as the hub issues it.
pub type EmployeeId = String;
/// A channel's id (the provider's `channelId`).
pub type ChannelId = String;

/// What an employee may do with chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Продавец: sees the chats they are responsible for (and new clients, when they receive them).
    Seller,
    /// Руководитель: sees every chat of the workspace.
    Supervisor,
    /// No access to chats.
    None,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Seller => "seller",
            Role::Supervisor => "supervisor",
            Role::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "seller" => Some(Role::Seller),
            "supervisor" => Some(Role::Supervisor),
            "none" => Some(Role::None),
            _ => None,
        }
    }
}

/// An employee as the rules need them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Employee {
    pub id: EmployeeId,
    pub name: String,
    pub role: Role,
    /// Gets chats that have no responsible yet ("receives new clients").
    pub receives_new_clients: bool,
    /// Setting 4: the channel this employee writes first from.
    pub priority_channel_id: Option<ChannelId>,
}

/// The messenger behind a channel (the provider's `transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Whatsapp,
    /// WhatsApp Business API.
    Wapi,
    /// Telegram personal account.
    Tgapi,
    /// Telegram bot.
    Telegram,
    Viber,
    Instagram,
    Vk,
    Avito,
    Max,
}

impl Transport {
    pub const ALL: [Transport; 9] = [
        Transport::Whatsapp,
        Transport::Wapi,
        Transport::Tgapi,
        Transport::Telegram,
        Transport::Viber,
        Transport::Instagram,
        Transport::Vk,
        Transport::Avito,
        Transport::Max,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Whatsapp => "whatsapp",
            Transport::Wapi => "wapi",
            Transport::Tgapi => "tgapi",
            Transport::Telegram => "telegram",
            Transport::Viber => "viber",
            Transport::Instagram => "instagram",
            Transport::Vk => "vk",
            Transport::Avito => "avito",
            Transport::Max => "max",
        }
    }
    pub fn parse(s: &str) -> Option<Transport> {
        Transport::ALL.into_iter().find(|t| t.as_str() == s)
    }
    /// The `chatType` a message on this transport carries.
    pub fn chat_type(self) -> &'static str {
        match self {
            Transport::Whatsapp | Transport::Wapi => "whatsapp",
            Transport::Tgapi | Transport::Telegram => "telegram",
            Transport::Viber => "viber",
            Transport::Instagram => "instagram",
            Transport::Vk => "vk",
            Transport::Avito => "avito",
            Transport::Max => "max",
        }
    }
    /// Whether this transport addresses clients by phone number (`chatId` = E.164 digits).
    pub fn addresses_by_phone(self) -> bool {
        matches!(
            self,
            Transport::Whatsapp | Transport::Wapi | Transport::Viber
        )
    }
}

/// A channel's state as the provider reports it; only `active` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum ChannelState {
    Active,
    Init,
    Disabled,
    PhoneUnavailable,
    Qr,
    OpenElsewhere,
    NotEnoughMoney,
    Foreignphone,
    Unauthorized,
    WaitForPassword,
    OnModeration,
    Rejected,
    /// Removed from the workspace (ours, not the provider's).
    Deleted,
    /// Any state this build does not know: never usable.
    #[serde(other)]
    Unknown,
}

impl ChannelState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelState::Active => "active",
            ChannelState::Init => "init",
            ChannelState::Disabled => "disabled",
            ChannelState::PhoneUnavailable => "phoneUnavailable",
            ChannelState::Qr => "qr",
            ChannelState::OpenElsewhere => "openElsewhere",
            ChannelState::NotEnoughMoney => "notEnoughMoney",
            ChannelState::Foreignphone => "foreignphone",
            ChannelState::Unauthorized => "unauthorized",
            ChannelState::WaitForPassword => "waitForPassword",
            ChannelState::OnModeration => "onModeration",
            ChannelState::Rejected => "rejected",
            ChannelState::Deleted => "deleted",
            ChannelState::Unknown => "unknown",
        }
    }
    /// Reads a provider state; anything unknown is [`ChannelState::Unknown`] (never usable).
    pub fn parse(s: &str) -> ChannelState {
        KNOWN_STATES
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(ChannelState::Unknown)
    }
}

const KNOWN_STATES: [ChannelState; 13] = [
    ChannelState::Active,
    ChannelState::Init,
    ChannelState::Disabled,
    ChannelState::PhoneUnavailable,
    ChannelState::Qr,
    ChannelState::OpenElsewhere,
    ChannelState::NotEnoughMoney,
    ChannelState::Foreignphone,
    ChannelState::Unauthorized,
    ChannelState::WaitForPassword,
    ChannelState::OnModeration,
    ChannelState::Rejected,
    ChannelState::Deleted,
];

/// A connected messenger account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channel {
    pub id: ChannelId,
    pub transport: Transport,
    pub name: String,
    pub state: ChannelState,
    /// Connected through the CRM's Open Lines: its messages are never mirrored.
    pub open_lines: bool,
}

/// Lead, contact or deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Lead,
    Contact,
    Deal,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Lead => "lead",
            EntityKind::Contact => "contact",
            EntityKind::Deal => "deal",
        }
    }
    /// The plural used in paths (`/crm/leads/…`).
    pub fn plural(self) -> &'static str {
        match self {
            EntityKind::Lead => "leads",
            EntityKind::Contact => "contacts",
            EntityKind::Deal => "deals",
        }
    }
    pub fn parse(s: &str) -> Option<EntityKind> {
        match s {
            "lead" | "leads" => Some(EntityKind::Lead),
            "contact" | "contacts" => Some(EntityKind::Contact),
            "deal" | "deals" => Some(EntityKind::Deal),
            _ => None,
        }
    }
}

/// A reference to one CRM entity: `<kind>:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmRef {
    pub kind: EntityKind,
    pub id: String,
}

impl fmt::Display for CrmRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

impl CrmRef {
    /// Parses `lead:12`; `None` for anything else.
    pub fn parse(s: &str) -> Option<CrmRef> {
        let (kind, id) = s.split_once(':')?;
        if id.is_empty() {
            return None;
        }
        Some(CrmRef {
            kind: EntityKind::parse(kind)?,
            id: id.to_owned(),
        })
    }
}

/// A CRM entity as the rules need it: which one, who answers for it, and whether it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedEntity {
    pub entity: CrmRef,
    pub responsible_id: Option<EmployeeId>,
    pub closed: bool,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the client.
    In,
    /// From an employee (through Switchboard, or an echo written from the phone).
    Out,
}

/// Where a message stands. A client's message is `inbound`. Ours walk `pending` (still on the
/// desktop) → `queued` (in the hub's outbox) → `accepted` (the provider took it) → `sent` →
/// `delivered` → `read`, never backwards; or end `error` (the provider's delivery error) or
/// `failed` (refused, or given up after bounded attempts; can be retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Inbound,
    Pending,
    Queued,
    Accepted,
    Sent,
    Delivered,
    Read,
    Error,
    Failed,
    /// A status a newer hub knows and this program does not (read, never written).
    Unknown,
}

/// Reads one of `all` by its name, or `unknown` for a name this program does not know: a
/// newer hub's answer never fails a sync (or a screen) for a value added later.
pub(crate) fn read_tolerant<'de, D: serde::Deserializer<'de>, T: Copy>(
    d: D,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    unknown: T,
) -> Result<T, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Ok(all
        .iter()
        .copied()
        .find(|v| name(*v) == s)
        .unwrap_or(unknown))
}

impl<'de> Deserialize<'de> for MessageStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_tolerant(
            d,
            &MessageStatus::ALL,
            MessageStatus::as_str,
            MessageStatus::Unknown,
        )
    }
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 10] = [
        MessageStatus::Inbound,
        MessageStatus::Pending,
        MessageStatus::Queued,
        MessageStatus::Accepted,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Error,
        MessageStatus::Failed,
        MessageStatus::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Inbound => "inbound",
            MessageStatus::Pending => "pending",
            MessageStatus::Queued => "queued",
            MessageStatus::Accepted => "accepted",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Error => "error",
            MessageStatus::Failed => "failed",
            MessageStatus::Unknown => "unknown",
        }
    }

    /// A stored or sent status; one this program does not know is [`MessageStatus::Unknown`].
    pub fn parse(s: &str) -> MessageStatus {
        MessageStatus::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .unwrap_or(MessageStatus::Unknown)
    }

    /// How far along an outgoing message is: a status only ever moves to a higher rank.
    /// `error` and `failed` end the walk (a later `read` cannot undo them, nor they a `read`).
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Pending | MessageStatus::Queued => 0,
            MessageStatus::Accepted => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Delivered => 3,
            MessageStatus::Read => 4,
            MessageStatus::Inbound
            | MessageStatus::Error
            | MessageStatus::Failed
            | MessageStatus::Unknown => 5,
        }
    }
}

/// What a message carries: the provider's `type` (contract §4.2). A file comes with
/// `image`, `audio`, `video` and `document` (and may with the others); `missing_call` is a
/// line in the conversation, not something the client wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    #[default]
    Text,
    Image,
    Audio,
    Video,
    Document,
    Vcard,
    Geo,
    MissingCall,
    /// A line in the conversation, not a message: the chat was handed from one employee to
    /// another (its text names both: `from → to`). Never sent, never mirrored.
    Transfer,
    /// The messenger sent something the provider cannot pass on.
    Unsupported,
    /// A type this program does not know (the provider's `unknown`, `wapi_template`, or one
    /// added later).
    Unknown,
}

impl MessageKind {
    pub const ALL: [MessageKind; 11] = [
        MessageKind::Text,
        MessageKind::Image,
        MessageKind::Audio,
        MessageKind::Video,
        MessageKind::Document,
        MessageKind::Vcard,
        MessageKind::Geo,
        MessageKind::MissingCall,
        MessageKind::Transfer,
        MessageKind::Unsupported,
        MessageKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::Audio => "audio",
            MessageKind::Video => "video",
            MessageKind::Document => "document",
            MessageKind::Vcard => "vcard",
            MessageKind::Geo => "geo",
            MessageKind::MissingCall => "missing_call",
            MessageKind::Transfer => "transfer",
            MessageKind::Unsupported => "unsupported",
            MessageKind::Unknown => "unknown",
        }
    }

    /// A provider's `type`: as [`MessageKind::parse`], except that a kind only this program
    /// writes (`transfer`) is no kind a client can send — `Unknown`, not a line that looks
    /// like ours.
    pub fn from_provider(s: &str) -> MessageKind {
        match MessageKind::parse(s) {
            MessageKind::Transfer => MessageKind::Unknown,
            k => k,
        }
    }

    /// As stored and synced (absent: text); one this program does not know is `Unknown`.
    pub fn parse(s: &str) -> MessageKind {
        MessageKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(MessageKind::Unknown)
    }
}

impl<'de> Deserialize<'de> for MessageKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_tolerant(
            d,
            &MessageKind::ALL,
            MessageKind::as_str,
            MessageKind::Unknown,
        )
    }
}

/// Where a message's file is, as the hub keeps it: the hub fetches a client's file from the
/// provider at once (its links may not last), and serves it to whoever may see the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaState {
    /// Being fetched from the provider.
    Pending,
    /// Kept by the hub: it can be shown.
    Stored,
    /// Larger than the hub keeps ([`MEDIA_MAX_BYTES`]).
    TooBig,
    /// Could not be fetched (the reason is given).
    Failed,
    /// A state a newer hub knows.
    Unknown,
}

/// The largest file the hub keeps: the provider's own limit (`TOO_BIG_CONTENT`, 50 MB).
pub const MEDIA_MAX_BYTES: u64 = 50 * 1024 * 1024;

impl MediaState {
    pub const ALL: [MediaState; 5] = [
        MediaState::Pending,
        MediaState::Stored,
        MediaState::TooBig,
        MediaState::Failed,
        MediaState::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaState::Pending => "pending",
            MediaState::Stored => "stored",
            MediaState::TooBig => "too_big",
            MediaState::Failed => "failed",
            MediaState::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> MediaState {
        MediaState::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(MediaState::Unknown)
    }
}

impl<'de> Deserialize<'de> for MediaState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_tolerant(d, &MediaState::ALL, MediaState::as_str, MediaState::Unknown)
    }
}

/// How a file may be shown in the conversation: only types a browser engine renders as media
/// (never HTML, SVG or anything scriptable: those are offered as a file to save).
pub fn inline_media_type(mime: &str) -> bool {
    matches!(
        mime,
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "audio/ogg"
            | "audio/opus"
            | "audio/mpeg"
            | "audio/mp4"
            | "audio/aac"
            | "audio/wav"
            | "audio/x-wav"
            | "video/mp4"
            | "video/webm"
            | "video/ogg"
    )
}

/// Which files a desktop opens in the system's app for their type, and under what extension:
/// documents, pictures, sound and video; never pages, scripts or programs (a file is opened by
/// its type as read from its bytes, whatever its name says).
pub fn openable_type(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "application/pdf" => "pdf",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        "application/vnd.oasis.opendocument.text" => "odt",
        "application/vnd.oasis.opendocument.spreadsheet" => "ods",
        "application/vnd.oasis.opendocument.presentation" => "odp",
        "application/rtf" | "text/rtf" => "rtf",
        "text/plain" => "txt",
        "text/csv" => "csv",
        "text/vcard" => "vcf",
        "application/zip" => "zip",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/heif" => "heif",
        "image/heic" => "heic",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" | "audio/aac" => "m4a",
        "audio/wav" | "audio/x-wav" => "wav",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "video/ogg" => "ogv",
        _ => return None,
    })
}

/// A file name safe to show and to save under: no path, no control characters and no
/// invisible ones that reorder or hide what is shown (`invoice\u{202e}fdp.exe` reads
/// "invoiceexe.pdf"), no leading dots, at most 120 characters.
pub fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !invisible(*c))
        .take(120)
        .collect();
    let clean = clean.trim().trim_start_matches('.').trim().to_owned();
    (!clean.is_empty()).then_some(clean)
}

/// Characters that change how text is shown without being seen: bidirectional overrides and
/// isolates, zero-width ones, the soft hyphen, the BOM.
pub(crate) fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}')
}

/// The largest file any channel takes from us: the provider's `MESSAGES_CONTENT_SIZE_EXCEEDED`
/// (more than 10 MB). The contract names codes of their own for WABA and Telegram without their
/// figures, so every transport is held to the documented one.
pub const SEND_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// Why a file cannot go to a client on a channel, decided before a byte is uploaded (the
/// desktop) and again on the bytes themselves (the hub).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; {transport} takes at most {limit} bytes")]
    TooBig {
        size: u64,
        limit: u64,
        transport: &'static str,
    },
    /// Not a picture, sound, video or document the messengers pass on (or its type cannot be
    /// read from its bytes): the provider's `MESSAGE_WRONG_CONTENT_TYPE`.
    #[error("files of type {mime} cannot be sent")]
    WrongType { mime: String },
    /// The type exists, but not on this messenger (Instagram takes no documents).
    #[error("{transport} takes no {kind} files")]
    NotOnTransport {
        kind: &'static str,
        transport: &'static str,
    },
}

impl FileRefusal {
    /// A stable code for the desktop to say it in the user's language.
    pub fn code(&self) -> &'static str {
        match self {
            FileRefusal::Empty => "file_empty",
            FileRefusal::TooBig { .. } => "file_too_big",
            FileRefusal::WrongType { .. } => "file_wrong_type",
            FileRefusal::NotOnTransport { .. } => "file_not_on_channel",
        }
    }
}

/// What a file of type `mime` goes as, if it can go at all: pictures, sound and video that
/// every messenger shows in place, and documents people exchange (never pages, scripts or
/// programs, whatever the name says: the type is read from the bytes).
pub fn sendable_kind(mime: &str) -> Option<MessageKind> {
    Some(match mime {
        "image/jpeg" | "image/png" | "image/gif" | "image/webp" => MessageKind::Image,
        "audio/ogg" | "audio/opus" | "audio/mpeg" | "audio/mp4" | "audio/aac" | "audio/amr"
        | "audio/wav" | "audio/x-wav" => MessageKind::Audio,
        "video/mp4" | "video/3gpp" | "video/quicktime" | "video/webm" => MessageKind::Video,
        // Other pictures, sound and video (HEIC, M4A…) are not passed on by every messenger.
        m if openable_type(m).is_some()
            && !["image/", "audio/", "video/"]
                .iter()
                .any(|p| m.starts_with(p)) =>
        {
            MessageKind::Document
        }
        _ => return None,
    })
}

/// A file's type, read from its first bytes (`head`, a few KB); plain text and CSV, which
/// have no signature, as `declared` when the bytes are text. Anything else unreadable is `""`
/// (and cannot be sent: [`sendable_file`]). What a name or a sender says is never believed.
pub fn file_type(head: &[u8], declared: &str) -> String {
    if let Some(t) = infer::get(head) {
        return t.mime_type().to_owned();
    }
    let declared = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // A multi-byte character cut at the head's end is still text.
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    let control = head
        .iter()
        .any(|b| b.is_ascii_control() && !matches!(b, b'\n' | b'\r' | b'\t'));
    match declared.as_str() {
        "text/plain" | "text/csv" if text && !control && !head.is_empty() => declared,
        _ => String::new(),
    }
}

/// Whether a file of `size` bytes can go on `transport` at all, whatever its type (what a
/// desktop can tell before it reads the file).
pub fn sendable_size(transport: Transport, size: u64) -> Result<(), FileRefusal> {
    if size == 0 {
        return Err(FileRefusal::Empty);
    }
    if size > SEND_MAX_BYTES {
        return Err(FileRefusal::TooBig {
            size,
            limit: SEND_MAX_BYTES,
            transport: transport.as_str(),
        });
    }
    Ok(())
}

/// Whether a file of `size` bytes and type `mime` can be sent on `transport`, and as what.
pub fn sendable_file(
    transport: Transport,
    mime: &str,
    size: u64,
) -> Result<MessageKind, FileRefusal> {
    if size == 0 {
        return Err(FileRefusal::Empty);
    }
    let kind = sendable_kind(mime).ok_or_else(|| FileRefusal::WrongType {
        mime: if mime.is_empty() {
            "unknown".into()
        } else {
            mime.chars().take(80).collect()
        },
    })?;
    if transport == Transport::Instagram && kind == MessageKind::Document {
        return Err(FileRefusal::NotOnTransport {
            kind: kind.as_str(),
            transport: transport.as_str(),
        });
    }
    sendable_size(transport, size)?;
    Ok(kind)
}

#[cfg(test)]
mod message_kind_tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_written_and_unknown_ones_are_kept_apart() {
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), k);
            let json = serde_json::to_string(&k).expect("json");
            assert_eq!(serde_json::from_str::<MessageKind>(&json).expect("read"), k);
        }
        assert_eq!(MessageKind::parse("wapi_template"), MessageKind::Unknown);
        assert_eq!(MessageKind::from_provider("transfer"), MessageKind::Unknown);
        assert_eq!(MessageKind::from_provider("image"), MessageKind::Image);
        assert_eq!(
            serde_json::from_str::<MediaState>("\"shredded\"").expect("read"),
            MediaState::Unknown
        );
        for s in MediaState::ALL {
            assert_eq!(MediaState::parse(s.as_str()), s);
        }
    }

    #[test]
    fn file_names_read_as_shown_and_only_documents_and_media_open() {
        assert_eq!(
            clean_file_name("invoice\u{202e}fdp.exe").as_deref(),
            Some("invoicefdp.exe")
        );
        assert_eq!(clean_file_name("../../.bashrc").as_deref(), Some("bashrc"));
        assert_eq!(clean_file_name("a\\b\u{0}c.pdf").as_deref(), Some("bc.pdf"));
        assert_eq!(clean_file_name(" \u{200b} "), None);
        assert_eq!(openable_type("application/pdf"), Some("pdf"));
        for never in [
            "text/html",
            "image/svg+xml",
            "application/x-executable",
            "application/x-sh",
            "application/octet-stream",
            "",
        ] {
            assert_eq!(openable_type(never), None, "{never}");
        }
    }

    #[test]
    fn a_files_type_is_read_from_its_bytes() {
        assert_eq!(file_type(b"%PDF-1.4\n", "text/plain"), "application/pdf");
        assert_eq!(file_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", ""), "image/png");
        // Text has no signature: believed only when the bytes are text.
        assert_eq!(
            file_type("цена, 100\n".as_bytes(), "text/csv; charset=utf-8"),
            "text/csv"
        );
        assert_eq!(file_type(b"a\0b", "text/plain"), "");
        assert_eq!(file_type(b"\xff\xfe\xfd", "text/plain"), "");
        assert_eq!(file_type(b"hello", "text/html"), "");
        assert_eq!(file_type(b"", "text/plain"), "");
        // A character cut at the end of the head is still text.
        let cut = &"счёт".as_bytes()[..3];
        assert_eq!(file_type(cut, "text/plain"), "text/plain");
        // An HTML page is not what its sender says.
        assert_eq!(
            file_type(b"<!DOCTYPE html><html>", "application/pdf"),
            "text/html"
        );
    }

    #[test]
    fn files_are_judged_by_type_size_and_channel() {
        let pdf = "application/pdf";
        assert_eq!(
            sendable_file(Transport::Whatsapp, "image/jpeg", 1),
            Ok(MessageKind::Image)
        );
        assert_eq!(
            sendable_file(Transport::Telegram, "audio/ogg", 10),
            Ok(MessageKind::Audio)
        );
        assert_eq!(
            sendable_file(Transport::Wapi, pdf, SEND_MAX_BYTES),
            Ok(MessageKind::Document)
        );
        assert_eq!(
            sendable_file(Transport::Wapi, pdf, SEND_MAX_BYTES + 1),
            Err(FileRefusal::TooBig {
                size: SEND_MAX_BYTES + 1,
                limit: SEND_MAX_BYTES,
                transport: "wapi"
            })
        );
        assert_eq!(
            sendable_file(Transport::Whatsapp, pdf, 0),
            Err(FileRefusal::Empty)
        );
        assert_eq!(
            sendable_file(Transport::Instagram, pdf, 10).map_err(|e| e.code()),
            Err("file_not_on_channel")
        );
        assert_eq!(
            sendable_file(Transport::Instagram, "image/png", 10),
            Ok(MessageKind::Image)
        );
        // Pages, scripts, programs and pictures that can carry script never go.
        for refused in [
            "text/html",
            "image/svg+xml",
            "application/x-executable",
            "application/x-msdownload",
            "application/javascript",
            "",
        ] {
            let r = sendable_file(Transport::Whatsapp, refused, 10);
            assert_eq!(r.map_err(|e| e.code()), Err("file_wrong_type"), "{refused}");
        }
        // The refusal names what it refused; an endless type is cut.
        let long = "x".repeat(500);
        match sendable_file(Transport::Viber, &long, 1) {
            Err(FileRefusal::WrongType { mime }) => assert_eq!(mime.len(), 80),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_media_types_render_inline() {
        assert!(inline_media_type("image/png") && inline_media_type("audio/ogg"));
        for scriptable in [
            "image/svg+xml",
            "text/html",
            "application/xhtml+xml",
            "application/pdf",
            "",
        ] {
            assert!(!inline_media_type(scriptable), "{scriptable}");
        }
    }
}

#[cfg(test)]
mod message_status_tests {
    use super::MessageStatus;

    #[test]
    fn statuses_read_back_as_written_and_unknown_ones_are_kept_apart() {
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(s.as_str()), s);
            let json = serde_json::to_string(&s).expect("json");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(MessageStatus::parse("bounced"), MessageStatus::Unknown);
        assert_eq!(
            serde_json::from_str::<MessageStatus>("\"bounced\"").ok(),
            Some(MessageStatus::Unknown)
        );
        assert!(MessageStatus::Sent.rank() > MessageStatus::Accepted.rank());
        // The other enums the hub sends read a value added later as `unknown` too.
        let read = |json: &str| {
            (
                serde_json::from_str::<crate::CrmKind>(json).ok(),
                serde_json::from_str::<crate::NoChannelReason>(json).ok(),
                serde_json::from_str::<crate::MirrorSkip>(json).ok(),
            )
        };
        assert_eq!(
            read("\"amocrm\""),
            (
                Some(crate::CrmKind::Unknown),
                Some(crate::NoChannelReason::Unknown),
                Some(crate::MirrorSkip::Unknown)
            )
        );
        assert_eq!(read("\"bitrix24\"").0, Some(crate::CrmKind::Bitrix24));
        assert_eq!(
            read("\"not_active\"").1,
            Some(crate::NoChannelReason::NotActive)
        );
        assert_eq!(read("\"open_lines\"").2, Some(crate::MirrorSkip::OpenLines));
        assert!(MessageStatus::Read.rank() < MessageStatus::Failed.rank());
    }
}

/// Which CRM the workspace uses: the hub's own, or a Bitrix24 portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CrmKind {
    BuiltIn,
    Bitrix24,
    /// One a newer hub connects to (read, never stored).
    Unknown,
}

impl CrmKind {
    /// As stored (`crm_numbers.source`, `crm_connection.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            CrmKind::BuiltIn => "built_in",
            CrmKind::Bitrix24 => "bitrix24",
            CrmKind::Unknown => "unknown",
        }
    }
}

impl<'de> Deserialize<'de> for CrmKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_tolerant(
            d,
            &[CrmKind::BuiltIn, CrmKind::Bitrix24],
            CrmKind::as_str,
            CrmKind::Unknown,
        )
    }
}
