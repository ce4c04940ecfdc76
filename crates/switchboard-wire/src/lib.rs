//! Wire types of the hub's HTTP surface (hub-api.md): the hub serializes them, the desktop
//! deserializes the same ones. OpenAPI schemas only with the `openapi` feature (the hub's).

use serde::{Deserialize, Serialize};
use switchboard_core::{
    Badge, ChannelState, CrmKind, CrmRef, Direction, EntityKind, MediaState, MessageKind,
    MessageStatus, NoChannelReason, Role, Settings, Transport,
};

/// A chat as one viewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatView {
    pub id: String,
    pub channel_id: String,
    pub chat_type: String,
    /// The provider's `chatId`: E.164 digits for phone messengers, an id or username elsewhere.
    pub chat_id: String,
    pub title: String,
    pub responsible_id: Option<String>,
    pub crm: Vec<CrmRef>,
    pub last_message: Option<LastMessage>,
    /// Newest activity, RFC 3339 UTC: the list's order.
    pub last_activity_at: String,
    pub unanswered: Badge,
    /// The chat crossed the escalation threshold and is still unanswered. With `responsible_id`
    /// and `unanswered.count` these are the facts a desktop colours the badge from under its
    /// settings (`switchboard_core::badge`), so a settings change recolours without resending
    /// chats.
    #[serde(default)]
    pub escalated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastMessage {
    pub id: String,
    pub direction: Direction,
    pub text: String,
    pub at: String,
    /// What it carries (a file's preview is its kind and name).
    #[serde(default)]
    pub kind: MessageKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_name: Option<String>,
    /// How long its voice note or video plays, once the hub has read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_duration_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    pub id: String,
    pub chat: String,
    pub direction: Direction,
    pub text: String,
    pub content_uri: Option<String>,
    pub at: String,
    pub author_id: Option<String>,
    /// `inbound` for client messages. Ours: `queued` (in the hub's outbox), `accepted` (the
    /// provider took it), `sent`, `delivered`, `read`; `error` (the provider's delivery error)
    /// and `failed` (refused, or given up after bounded attempts; can be retried).
    pub status: MessageStatus,
    /// Why it is `error` or `failed`.
    pub error: Option<String>,
    /// Setting 1: where its copy in the CRM timeline stands.
    #[serde(default)]
    pub mirror: MirrorView,
    /// What it carries (the provider's `type`).
    #[serde(default)]
    pub kind: MessageKind,
    /// Its file, when it has one: fetched by the hub, served by
    /// `GET /api/v1/messages/{id}/media` to whoever may see the chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaView>,
    /// A shared location (`geo`), read from its link or text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<switchboard_core::Place>,
}

/// A message's file as the hub keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaView {
    pub state: MediaState,
    /// Its file name (the provider's link's `filename`, else its last path segment), cleaned
    /// (`core::clean_file_name`).
    pub name: Option<String>,
    /// Its type as read from its first bytes (or as served, when they say nothing).
    pub mime: Option<String>,
    /// Bytes.
    pub size: Option<u64>,
    /// Why it is `failed` (or `too_big`).
    pub error: Option<String>,
    /// How long it plays (a voice note, audio or video whose length the hub could read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// A shared contact's card (a vCard file, read by the hub).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<switchboard_core::ContactCard>,
}

/// A message's copy in the CRM timelines of its chat's lead, contact and deal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MirrorView {
    pub state: MirrorState,
    /// Why it failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind", content = "reason")]
pub enum MirrorState {
    /// Nothing to say (e.g. stored before mirroring was tracked).
    #[default]
    None,
    /// Queued for the CRM.
    Pending,
    /// In every linked entity's timeline.
    Written,
    /// The CRM refused it, or it could not be written for long; retried on request.
    Failed,
    /// Not mirrored, and why.
    Skipped(switchboard_core::MirrorSkip),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmployeeView {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub receives_new_clients: bool,
    pub priority_channel_id: Option<String>,
    /// Their user id in the connected CRM (Bitrix24's `ASSIGNED_BY_ID`), when known.
    #[serde(default)]
    pub crm_user_id: Option<String>,
    /// A deactivated employee's tokens stop working at once (their open streams end).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelView {
    pub id: String,
    pub transport: Transport,
    pub name: String,
    pub state: ChannelState,
    pub open_lines: bool,
}

/// One quick reply: the workspace's (kept by supervisors) or the caller's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuickReplyView {
    pub id: String,
    pub title: String,
    /// May hold `{client}`, `{manager}`, `{deal}`, `{company}` (or their Russian names).
    pub text: String,
    /// The caller's own (`false`: the workspace's).
    pub personal: bool,
    pub updated_at: String,
}

/// `GET /api/v1/quick-replies`: every quick reply the caller may use, and what `{company}`
/// reads as.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuickRepliesView {
    /// The workspace's company as its supervisors named it (`null`: not named).
    pub company: Option<String>,
    /// The workspace's first, then the caller's own; each by title.
    pub replies: Vec<QuickReplyView>,
}

/// `POST /api/v1/quick-replies`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewQuickReply {
    pub title: String,
    pub text: String,
    /// The caller's own (any employee); `false`: the workspace's (supervisors and the
    /// administrator).
    #[serde(default)]
    pub personal: bool,
}

/// `PATCH /api/v1/quick-replies/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuickReplyPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `PUT /api/v1/quick-replies/company`: what `{company}` reads as (`null`: not named).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompanyName {
    pub company: Option<String>,
}

/// One item of `GET /api/v1/sync`, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// The caller's own profile.
    Me {
        employee: EmployeeView,
    },
    Settings {
        settings: Settings,
    },
    /// Every channel of the workspace (replaces the previous list).
    Channels {
        channels: Vec<ChannelView>,
    },
    /// Every chat the caller may see now: drop any other.
    VisibleChats {
        ids: Vec<String>,
    },
    /// A chat the caller sees, new or changed.
    Chat {
        chat: ChatView,
    },
    /// A chat the caller no longer sees.
    ChatRemoved {
        id: String,
    },
    Message {
        message: MessageView,
    },
    /// Every quick reply the caller may use (replaces the previous list). Sent only to a
    /// desktop that asks for it (`with=quick_replies`).
    QuickReplies {
        quick_replies: QuickRepliesView,
    },
    /// A kind a newer hub sends that this program does not know: skipped. (Hubs send a new
    /// kind only to desktops that name it in `with`; this keeps the next one readable.)
    #[serde(other)]
    Unknown,
}

impl Change {
    /// Its `type` on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Change::Me { .. } => "me",
            Change::Settings { .. } => "settings",
            Change::Channels { .. } => "channels",
            Change::VisibleChats { .. } => "visible_chats",
            Change::Chat { .. } => "chat",
            Change::ChatRemoved { .. } => "chat_removed",
            Change::Message { .. } => "message",
            Change::QuickReplies { .. } => "quick_replies",
            Change::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncResponse {
    pub changes: Vec<Change>,
    /// Pass back as `cursor` for what changed after this answer.
    pub cursor: i64,
    /// More changes wait: sync again at once.
    pub has_more: bool,
    /// A snapshot comes in pages, waiting chats first, then by newest activity: while this is
    /// set, more pages wait; ask for the next with `page=<this>` (and the same cursor). A page
    /// carries chats and their messages only; its answer's cursor is the one asked with. Changes
    /// after `cursor` may be synced between pages (they are newer than any page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// How far a snapshot has come (with its first page and each next one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<SyncProgress>,
}

/// How far a paged snapshot has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncProgress {
    /// Chats sent so far, this page's included.
    pub chats: u64,
    /// Chats the snapshot holds in all (as counted when the page was read).
    pub total: u64,
}

/// The `notify` event: this employee must get an OS notification now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifyEvent {
    pub chat: String,
    pub title: String,
    pub text: String,
    /// What the message carries: a file without a caption has no `text`.
    #[serde(default)]
    pub kind: MessageKind,
    /// The chat's most specific linked CRM entity (deal, else contact, else lead), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<NotifyCrm>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotifyCrm {
    pub kind: EntityKind,
    pub id: String,
    pub title: String,
}

/// The `change` event: there is more to sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeEvent {
    pub cursor: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewEmployee {
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub receives_new_clients: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_channel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crm_user_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmployeePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receives_new_clients: Option<bool>,
    /// `null` clears it.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub priority_channel_id: Option<Option<String>>,
    /// `null` clears it.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub crm_user_id: Option<Option<String>>,
    /// `false` deactivates: every token of theirs is revoked and their live streams end.
    /// `true` reactivates (they sign in again with a new token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// `PUT /api/v1/crm/connection` and `POST /api/v1/crm/connection/check`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmConnect {
    /// Bitrix24's incoming webhook: `https://<portal>/rest/<user>/<code>/`.
    pub webhook_url: String,
}

/// The workspace's CRM. The webhook URL never leaves the hub whole: only masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmConnectionView {
    pub kind: CrmKind,
    pub portal: Option<String>,
    /// The webhook's user, as Check connection found them.
    pub user: Option<String>,
    /// `https://<portal>/rest/<user>/••••••/`.
    pub webhook_masked: Option<String>,
    /// Bitrix24 only: the handler address to give the portal's outgoing webhook (its CRM
    /// events refresh links at once; without it they follow within the poll interval).
    #[serde(default)]
    pub events_url: Option<String>,
    /// Whether the outgoing webhook's application token is stored (events are accepted).
    #[serde(default)]
    pub events: bool,
}

/// The application token Bitrix24 shows for the outgoing webhook (empty: stop accepting events).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmEvents {
    pub application_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedEmployee {
    pub id: String,
    /// The employee's bearer token: shown once, stored hashed.
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedToken {
    pub token: String,
}

/// One of an employee's tokens (a signed-in desktop), without the secret itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenView {
    /// Names the token in `DELETE /api/v1/tokens/{id}`.
    pub id: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewChannel {
    pub transport: Transport,
    pub name: String,
    #[serde(default)]
    pub open_lines: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ChannelState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_lines: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub save_to_crm_timeline: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eight_as_plus7: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_supervisors_all: Option<bool>,
    /// Minutes (1–1440), or `null` to switch escalation off.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub escalate_after_minutes: Option<Option<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sellers_may_transfer: Option<bool>,
}

/// A stretch of a found message: matched (`hit`) or around a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchPart {
    pub text: String,
    pub hit: bool,
}

/// One message `GET /api/v1/search` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHitView {
    pub message_id: String,
    pub chat: String,
    pub at: String,
    /// The message around what matched.
    pub parts: Vec<SearchPart>,
}

/// `GET /api/v1/search`: messages of chats the caller may see, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    pub hits: Vec<SearchHitView>,
    /// Only the newest matches were looked through (a word in very many messages, most of
    /// them in chats the caller may not see or outside the filter): an older one may be
    /// missing; a longer query narrows it.
    pub partial: bool,
}

/// `POST /api/v1/chats/{id}/transfer`: hand the chat to employee `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferChat {
    pub to: String,
}

/// `GET /api/v1/chats/{id}/transfer`: someone the chat may be handed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferCandidate {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// One hand-over of a chat, as done and as audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferView {
    pub at: String,
    /// Who handed it over.
    pub by: String,
    pub chat: String,
    /// Its responsible before (`null`: nobody).
    pub from: Option<String>,
    pub to: String,
    /// The CRM entities whose responsible is now `to` (none: the chat had none; it is `to`'s
    /// as if they had written first).
    pub entities: Vec<CrmRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub at: String,
    pub by: String,
    pub field: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewCrmEntity {
    pub title: String,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible_id: Option<String>,
    /// Deals only: the deal's contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// Deals only.
    #[serde(default)]
    pub closed: bool,
    /// Where the lead or deal stands (free text in the built-in CRM).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stage: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmEntityPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub responsible_id: Option<Option<String>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub contact_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "double_option"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub stage: Option<Option<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmEntityView {
    pub kind: EntityKind,
    pub id: String,
    pub title: String,
    pub phones: Vec<String>,
    pub responsible_id: Option<String>,
    pub contact_id: Option<String>,
    /// A deal's contacts besides the primary one (Bitrix24 deals may have several).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_contact_ids: Vec<String>,
    pub closed: bool,
    /// The stage by name (a lead's status, a deal's stage), when the CRM has one.
    #[serde(default)]
    pub stage: Option<String>,
    /// Each phone as read under setting 2 now (the stored value is never rewritten).
    #[serde(default)]
    pub numbers: Vec<PhoneReading>,
    /// The responsible's name, when the CRM knows them.
    #[serde(default)]
    pub responsible_name: Option<String>,
    /// Where to open it in the CRM (none for the built-in CRM).
    #[serde(default)]
    pub url: Option<String>,
}

/// One CRM phone value: as typed, and as read under setting 2 — or why it cannot be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhoneReading {
    pub raw: String,
    /// E.164, when readable.
    pub e164: Option<String>,
    /// For people: `+7 916 456-98-12`.
    pub display: Option<String>,
    /// Why not, naming the raw value.
    pub error: Option<String>,
}

impl PhoneReading {
    pub fn of(raw: &str, eight_as_plus7: bool) -> PhoneReading {
        match switchboard_core::read_crm_phone(raw, eight_as_plus7) {
            Ok(n) => PhoneReading {
                raw: raw.to_owned(),
                e164: Some(n.to_string()),
                display: Some(n.international()),
                error: None,
            },
            Err(e) => PhoneReading {
                raw: raw.to_owned(),
                e164: None,
                display: None,
                error: Some(e.to_string()),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub at: String,
    /// `message` or `open_lines_activity`.
    pub kind: String,
    pub chat: String,
    pub message_id: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComposeChannel {
    pub id: String,
    pub usable: bool,
    /// Why it cannot send (`disabled`, `unauthorized`, `not_active`, …), when it cannot.
    pub why: Option<NoChannelReason>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComposeView {
    /// The preselected channel, or `null` with `reason`.
    pub channel_id: Option<String>,
    pub reason: Option<NoChannelReason>,
    /// The number read under setting 2, E.164.
    pub address: String,
    /// The same for people: `+7 916 456-98-12`.
    pub display: String,
    pub channels: Vec<ComposeChannel>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessage {
    /// Reply in an existing chat (its channel is used) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    /// … or write first: a channel and a phone or CRM reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<String>,
    pub text: String,
    /// The same key twice sends once.
    pub idempotency_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendAccepted {
    pub message_id: String,
    pub chat: String,
    pub status: MessageStatus,
}

/// Every error answer: `{"error": {"code", "message", "owner"?}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A small stable snake_case code clients may branch on.
    pub code: String,
    pub message: String,
    /// `client_taken`: who answers that client (ask a supervisor to hand it over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Percent-encodes a query value or a path segment (everything but RFC 3986's unreserved
/// characters), as the hub's clients build URLs.
pub fn encode_component(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(s, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn components_are_encoded_for_queries_and_paths() {
        assert_eq!(
            super::encode_component("8 (916)+7/x"),
            "8%20%28916%29%2B7%2Fx"
        );
        assert_eq!(super::encode_component("a-b_c.d~"), "a-b_c.d~");
        assert_eq!(super::encode_component("Ира"), "%D0%98%D1%80%D0%B0");
    }

    #[test]
    fn a_change_names_its_wire_type() {
        use super::Change;
        for c in [
            Change::Settings {
                settings: Default::default(),
            },
            Change::Channels { channels: vec![] },
            Change::VisibleChats { ids: vec![] },
            Change::ChatRemoved { id: "c".into() },
        ] {
            let wire = serde_json::to_value(&c).expect("json");
            assert_eq!(wire["type"], c.type_name());
        }
    }
}
