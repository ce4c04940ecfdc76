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
