//! View models: what the webview renders, computed in Rust. Their TypeScript declarations
//! are generated into `ui/src/lib/bindings.ts` (see the `bindings_are_fresh` test).

use serde::{Deserialize, Serialize};
use switchboard_core::{
    Badge, Counters, CrmKind, CrmRef, Direction, EntityKind, MediaState, MessageKind,
    MessageStatus, MirrorSkip, NoChannelReason, Role, Settings, Transport,
};
use switchboard_wire::{EmployeePatch, SettingsPatch};
#[cfg(test)]
use ts_rs::TS;

/// What the window shows first: the welcome screen, or a signed-in session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct AppState {
    /// `None`: not connected yet — offer the demo workspace or a hub URL.
    pub session: Option<SessionVm>,
    /// The hub stopped taking this desktop's sign-in (revoked, the employee deactivated): the
    /// welcome screen says so until the next sign-in.
    pub access_ended: bool,
    /// This build has the demo workspace (the `demo` feature); without it the welcome screen
    /// offers only connecting to a hub.
    pub demo_available: bool,
    /// The system speaks Russian (as Rust reads it for the tray and notifications): the window
    /// speaks the same language.
    pub russian: bool,
}

/// This computer's preferences, on the settings screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct DesktopPrefsVm {
    /// A panel hosts tray icons. Without one the settings say why there is no tray icon, and
    /// closing the window minimizes it.
    pub tray_icon: bool,
    /// "Start Switchboard when I log in" (off by default).
    pub autostart: bool,
    /// Started with the session, the window stays hidden in the tray (when there is one).
    pub start_hidden: bool,
    /// A message goes with Ctrl+Enter (Enter is a new line), for those who write long ones;
    /// off by default: Enter sends, Shift+Enter is a new line.
    pub send_with_ctrl_enter: bool,
    /// Do not disturb: no notifications until it is turned off (from the tray or Ctrl+K); not
    /// kept across restarts.
    pub do_not_disturb: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct SessionVm {
    pub hub_url: String,
    /// Signed in to the built-in demo workspace (hub in-process on loopback).
    pub demo: bool,
    /// The employee, once the first sync has told us who we are.
    pub me: Option<MeVm>,
    /// Live link to the hub up: events arrive and changes sync.
    pub online: bool,
    pub settings: Option<Settings>,
    /// Supervisors may change the workspace settings; sellers see them read-only.
    pub can_edit_settings: bool,
    /// While the hub's snapshot is being synced page by page (a first sync): how far it has
    /// come. The list shows what has arrived meanwhile.
    pub sync_progress: Option<SyncProgressVm>,
}

/// How far a snapshot's sync has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct SyncProgressVm {
    /// Chats synced so far.
    pub chats: u32,
    /// Chats in all.
    pub total: u32,
}

/// What changed in the local store: each view asks again only for what it shows of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct StoreChange {
    /// Anything may have changed (signed in or out, back online): every view asks again.
    pub all: bool,
    /// The chat list: rows, their order, badges or the counters.
    pub list: bool,
    /// Every chat's row may have changed (badges recoloured, chats dropped).
    pub every_chat: bool,
    /// Chats whose row changed or that went.
    pub chats: Vec<String>,
    /// Chats whose conversation changed (messages, this desktop's unsent ones).
    pub messages: Vec<String>,
    /// Who I am, the settings, the channels or the sync's progress.
    pub session: bool,
}

impl StoreChange {
    /// Every view asks again.
    pub fn everything() -> StoreChange {
        StoreChange {
            all: true,
            ..StoreChange::default()
        }
    }

    /// One chat's conversation and row (and so the list) changed.
    pub fn chat(id: &str) -> StoreChange {
        StoreChange {
            list: true,
            chats: vec![id.to_owned()],
            messages: vec![id.to_owned()],
            ..StoreChange::default()
        }
    }

    /// Whether anything changed at all.
    pub fn is_empty(&self) -> bool {
        *self == StoreChange::default()
    }
}

/// One change on the "CRM integration → Additional" screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum SettingChange {
    SaveToCrmTimeline(bool),
    EightAsPlus7(bool),
    NotifySupervisorsAll(bool),
    /// Minutes, or `null` for off.
    EscalateAfterMinutes(Option<u32>),
    /// The responsible seller may hand their chat to a colleague.
    SellersMayTransfer(bool),
}

impl SettingChange {
    /// The hub's settings patch for this one change.
    pub fn to_patch(&self) -> SettingsPatch {
        let mut p = SettingsPatch::default();
        match *self {
            SettingChange::SaveToCrmTimeline(v) => p.save_to_crm_timeline = Some(v),
            SettingChange::EightAsPlus7(v) => p.eight_as_plus7 = Some(v),
            SettingChange::NotifySupervisorsAll(v) => p.notify_supervisors_all = Some(v),
            SettingChange::EscalateAfterMinutes(v) => p.escalate_after_minutes = Some(v),
            SettingChange::SellersMayTransfer(v) => p.sellers_may_transfer = Some(v),
        }
        p
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct MeVm {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// An employee offered on the demo sign-in screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct DemoEmployee {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub receives_new_clients: bool,
}

/// Which chats the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum ChatFilter {
    /// Red badges: clients waiting for me.
    Mine,
    /// Grey badges: clients waiting for someone else.
    Others,
    All,
}

/// One row of the chat list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct ChatRowVm {
    pub id: String,
    pub title: String,
    pub channel_name: String,
    pub transport: Option<Transport>,
    pub last_text: String,
    pub last_from_client: bool,
    pub last_at: String,
    pub badge: Badge,
    /// The CRM entities the chat belongs to: in one chat's row (`chat_row`, the conversation's
    /// header), not in the list's pages, which show none.
    pub crm: Vec<CrmRef>,
    /// What the last message carries: a file's preview is its kind (and a document's name).
    pub last_kind: MessageKind,
    pub last_media_name: Option<String>,
    /// What the employee was writing here and has not sent (kept on this desktop).
    pub draft: Option<String>,
    /// How long the last message's voice note or video plays ("0:14").
    pub last_duration: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct ChatListVm {
    /// The rows asked for: from `offset`, at most the `limit` asked.
    pub chats: Vec<ChatRowVm>,
    /// Where `chats` starts in the whole (filtered) list.
    pub offset: u32,
    /// How many chats the whole filtered list has (the list's scroll height).
    pub total: u32,
    /// The totals of every visible chat (not just the filtered ones).
    pub counters: Counters,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct MessageVm {
    pub id: String,
    pub direction: Direction,
    pub text: String,
    pub at: String,
    /// `inbound`; ours: `pending` (on this desktop, waiting for the hub), `queued`,
    /// `accepted`, `sent`, `delivered`, `read`, `error`, `failed`.
    pub status: MessageStatus,
    /// Why it is `error` or `failed`.
    pub error: Option<String>,
    /// For one the hub refused (`local`): the hub's stable code (`client_taken`,
    /// `no_chat_access`, …, or `access_ended`) — the window explains known ones, else shows `error`.
    pub error_code: Option<String>,
    /// For `client_taken`: the employee whose client it is, when the chat has a responsible.
    pub error_owner: Option<String>,
    /// Still in this desktop's outbox (Retry/Discard act locally); else the hub holds it.
    pub local: bool,
    /// Its copy in the CRM timeline (setting 1).
    pub mirror: MirrorVm,
    /// What it carries (the provider's `type`).
    pub kind: MessageKind,
    /// Its file, when it has one.
    pub media: Option<MediaVm>,
    /// A shared location, read as its description and coordinates.
    pub place: Option<PlaceVm>,
}

/// A shared location as the conversation shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct PlaceVm {
    /// What the client wrote besides the coordinates.
    pub name: Option<String>,
    /// "55.760186, 37.618711".
    pub coordinates: String,
}

impl PlaceVm {
    pub fn of(p: &switchboard_core::Place) -> PlaceVm {
        PlaceVm {
            name: p.name.clone(),
            coordinates: p.coordinates(),
        }
    }
}

/// A message's file for the page: where to load it from (this app's own `media:` scheme,
/// served from the local cache or fetched through the hub; never a remote URL) and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct MediaVm {
    pub state: MediaState,
    pub name: Option<String>,
    pub mime: Option<String>,
    /// Bytes (at most 50 MB: a number in the page).
    #[cfg_attr(test, ts(type = "number | null"))]
    pub size: Option<u64>,
    pub error: Option<String>,
    /// `media://localhost/<message id>` once the hub keeps it.
    pub url: Option<String>,
    /// Shown in place (an image, audio or video type); else offered as a file to open.
    pub inline: bool,
    /// How long it plays ("0:14"; read by the hub).
    pub duration: Option<String>,
    /// A shared contact's card.
    pub contact: Option<switchboard_core::ContactCard>,
}

impl MediaVm {
    pub fn of(message: &str, m: &switchboard_wire::MediaView) -> MediaVm {
        let stored = m.state == MediaState::Stored;
        MediaVm {
            state: m.state,
            name: m.name.clone(),
            mime: m.mime.clone(),
            size: m.size,
            error: m.error.clone(),
            url: stored.then(|| format!("media://localhost/{message}")),
            inline: stored
                && m.mime
                    .as_deref()
                    .is_some_and(switchboard_core::inline_media_type),
            duration: m.duration_ms.map(switchboard_core::duration_label),
            contact: m.contact.clone(),
        }
    }
}

/// Where a message's copy in the CRM timelines stands (flat, for the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum MirrorStateVm {
    None,
    Pending,
    Written,
    Failed,
    Skipped,
}

/// Where a message's copy in the CRM timelines stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct MirrorVm {
    pub state: MirrorStateVm,
    /// For `skipped`: why.
    pub reason: Option<MirrorSkip>,
    /// For `failed`: the CRM's reason.
    pub error: Option<String>,
}

impl MirrorVm {
    pub fn none() -> MirrorVm {
        MirrorVm {
            state: MirrorStateVm::None,
            reason: None,
            error: None,
        }
    }

    pub fn of(m: &switchboard_wire::MirrorView) -> MirrorVm {
        use switchboard_wire::MirrorState;
        let (state, reason) = match m.state {
            MirrorState::None => (MirrorStateVm::None, None),
            MirrorState::Pending => (MirrorStateVm::Pending, None),
            MirrorState::Written => (MirrorStateVm::Written, None),
            MirrorState::Failed => (MirrorStateVm::Failed, None),
            MirrorState::Skipped(why) => (MirrorStateVm::Skipped, Some(why)),
        };
        MirrorVm {
            state,
            reason,
            error: m.error.clone(),
        }
    }
}

/// One quick reply, for the composer's `/` picker and the settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct QuickReplyVm {
    pub id: String,
    pub title: String,
    /// As written, variables in braces.
    pub text: String,
    /// The employee's own (`false`: the workspace's).
    pub personal: bool,
}

/// The quick replies this desktop holds (offline too), those matching what was typed first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct QuickRepliesVm {
    pub replies: Vec<QuickReplyVm>,
    /// What `{company}` reads as (`null`: not named yet).
    pub company: Option<String>,
    /// The employee may change the workspace's replies and the company's name (supervisors).
    pub can_manage: bool,
}

/// A quick reply written for a chat: what could be filled is, what could not is a hole to
/// fill before Send (its place in UTF-16 code units, as the composer counts).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct FilledVm {
    pub text: String,
    pub holes: Vec<switchboard_core::replies::Hole>,
}

/// A CRM entity a chat belongs to, for the panel beside the conversation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct CrmPanelVm {
    pub kind: EntityKind,
    pub id: String,
    pub title: String,
    pub closed: bool,
    /// The stage by the CRM's name for it, when it has one.
    pub stage: Option<String>,
    pub responsible: Option<String>,
    /// Where to open it in the CRM (none for the built-in CRM).
    pub url: Option<String>,
    pub phones: Vec<PhoneVm>,
}

/// A message written first that waits in this desktop's outbox (its chat does not exist yet).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct PendingFirstVm {
    pub key: String,
    pub display: String,
    pub channel_name: String,
    pub text: String,
    /// Why the hub refused it (`None` while it waits), as the hub said it …
    pub error: Option<String>,
    /// … its stable code (`client_taken`, `no_chat_access`, …, or `access_ended`) …
    pub error_code: Option<String>,
    /// … and, for `client_taken`, whose client it is.
    pub error_owner: Option<String>,
}

/// Why a file cannot go to a chat's channel, for the page to say in the user's language:
/// `file_empty`, `file_too_big` (with the channel's limit), `file_wrong_type` (with the type
/// read), `file_not_on_channel` (the kind of file and the messenger).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(test, derive(TS))]
pub struct FileRefusalVm {
    pub code: String,
    /// Bytes (at most a few MB: a number in the page).
    #[cfg_attr(test, ts(type = "number | null"))]
    pub limit: Option<u64>,
    pub mime: Option<String>,
    pub kind: Option<String>,
    pub transport: Option<String>,
}

impl From<&switchboard_core::FileRefusal> for FileRefusalVm {
    fn from(r: &switchboard_core::FileRefusal) -> Self {
        use switchboard_core::FileRefusal as R;
        let mut vm = FileRefusalVm {
            code: r.code().to_owned(),
            limit: None,
            mime: None,
            kind: None,
            transport: None,
        };
        match r {
            R::Empty => {}
            R::TooBig {
                limit, transport, ..
            } => {
                vm.limit = Some(*limit);
                vm.transport = Some((*transport).to_owned());
            }
            R::WrongType { mime } => vm.mime = Some(mime.clone()),
            R::NotOnTransport { kind, transport } => {
                vm.kind = Some((*kind).to_owned());
                vm.transport = Some((*transport).to_owned());
            }
        }
        vm
    }
}

/// A stretch of a found message: the words that matched are `hit` (the page marks them, as
/// text).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(test, derive(TS))]
pub struct TextPartVm {
    pub text: String,
    pub hit: bool,
}

/// One message a search found, with its chat.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(test, derive(TS))]
pub struct SearchHitVm {
    pub chat: String,
    pub title: String,
    pub message_id: String,
    pub at: String,
    /// The message around what matched.
    pub parts: Vec<TextPartVm>,
    /// Found by the hub in history this desktop does not hold (opening it fetches it).
    pub remote: bool,
}

/// What a search keeps to: one channel, my chats, a recent period (everything by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct SearchFilterVm {
    /// Only this channel's chats.
    pub channel: Option<String>,
    /// Only the chats I am responsible for.
    pub mine: bool,
    pub period: SearchPeriod,
}

/// How far back a search looks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "snake_case")]
pub enum SearchPeriod {
    #[default]
    Any,
    /// The last 24 hours.
    Day,
    Week,
    Month,
    Year,
}

impl SearchPeriod {
    /// The earliest time (RFC 3339 UTC, as the store writes times) a message may have.
    pub fn since(self, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
        let days = match self {
            SearchPeriod::Any => return None,
            SearchPeriod::Day => 1,
            SearchPeriod::Week => 7,
            SearchPeriod::Month => 30,
            SearchPeriod::Year => 365,
        };
        Some(
            (now - chrono::Duration::days(days))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
    }
}

/// What a search found on this desktop, newest first; `short` when a word was too short to
/// look for (a single letter).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct SearchVm {
    pub hits: Vec<SearchHitVm>,
    pub short: bool,
    /// Kept to a filter, the search looked through the newest matches only (a word in very many
    /// messages): an older one may be missing; a longer query narrows it.
    pub partial: bool,
    /// A phone number typed in any form (read under setting 2): the chats with that client.
    pub chats: Vec<ChatRowVm>,
}

/// A file of the outbox on its way to the hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct UploadProgressVm {
    /// The outbox item (its message's id in the conversation until the hub takes it).
    pub key: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub sent: u64,
    #[cfg_attr(test, ts(type = "number"))]
    pub total: u64,
}

/// What became of a send: the chat it went to, once the hub took it; `None` while it waits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct SendResultVm {
    pub key: String,
    pub chat: Option<String>,
}

/// One phone of a CRM card: as typed, and as read under setting 2, or why it cannot be.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct PhoneVm {
    pub raw: String,
    pub e164: Option<String>,
    pub display: Option<String>,
    pub error: Option<String>,
}

impl From<switchboard_wire::PhoneReading> for PhoneVm {
    fn from(n: switchboard_wire::PhoneReading) -> Self {
        PhoneVm {
            raw: n.raw,
            e164: n.e164,
            display: n.display,
            error: n.error,
        }
    }
}

/// A CRM lead, contact or deal to write to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct CrmCardVm {
    pub kind: EntityKind,
    pub id: String,
    pub title: String,
    pub closed: bool,
    pub phones: Vec<PhoneVm>,
}

/// A channel as the composer and the Employees screen list it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct ChannelVm {
    pub id: String,
    pub name: String,
    pub transport: Transport,
    /// The provider's state (`active`, `qr`, `unauthorized`, …, `deleted`).
    pub state: String,
    pub usable: bool,
    /// Why it cannot send.
    pub why: Option<NoChannelReason>,
}

/// Writing first: the preselected channel (setting 4) and the number read under setting 2.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct ComposeVm {
    /// The employee's priority channel when usable; else `None` and `reason`.
    pub channel_id: Option<String>,
    /// Why none is preselected.
    pub reason: Option<NoChannelReason>,
    /// E.164.
    pub address: String,
    /// `+7 916 456-98-12`.
    pub display: String,
    pub channels: Vec<ChannelVm>,
}

/// One row of the Employees screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct EmployeeRowVm {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub receives_new_clients: bool,
    pub priority_channel_id: Option<String>,
    /// Their user id in the connected CRM (Bitrix24), to map responsibles.
    pub crm_user_id: Option<String>,
    /// `false`: deactivated — none of their desktops is signed in, none can sign in.
    pub active: bool,
}

/// Ctrl+K: a chat found by the title of a CRM entity it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct CrmJumpVm {
    pub chat: ChatRowVm,
    pub kind: EntityKind,
    /// The entity's title, as the CRM has it.
    pub entity: String,
}

/// Someone a chat may be handed to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct HandOverVm {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// One of an employee's sign-ins (a desktop holding one of their tokens), on the Employees screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct TokenVm {
    /// Names it for `revoke_token`; not the token itself (the hub never shows that again).
    pub id: String,
    /// When it was issued (RFC 3339).
    pub created_at: String,
}

/// The workspace's CRM on the "CRM integration" screen (the webhook only masked).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct CrmConnectionVm {
    pub kind: CrmKind,
    pub portal: Option<String>,
    pub user: Option<String>,
    pub webhook_masked: Option<String>,
    /// Bitrix24: the handler address for the portal's outgoing webhook (CRM events).
    pub events_url: Option<String>,
    /// Whether the outgoing webhook's application token is stored.
    pub events: bool,
}

impl From<switchboard_wire::CrmConnectionView> for CrmConnectionVm {
    fn from(v: switchboard_wire::CrmConnectionView) -> Self {
        CrmConnectionVm {
            kind: v.kind,
            portal: v.portal,
            user: v.user,
            webhook_masked: v.webhook_masked,
            events_url: v.events_url,
            events: v.events,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
pub struct EmployeesVm {
    pub employees: Vec<EmployeeRowVm>,
    pub channels: Vec<ChannelVm>,
}

/// One change on the Employees screen.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(tag = "field", content = "value", rename_all = "snake_case")]
pub enum EmployeeChange {
    Role(Role),
    ReceivesNewClients(bool),
    /// `null` clears it.
    PriorityChannelId(Option<String>),
    /// `null` clears it.
    CrmUserId(Option<String>),
}

impl EmployeeChange {
    /// The hub's employee patch for this one change.
    pub fn to_patch(&self) -> EmployeePatch {
        let mut p = EmployeePatch::default();
        match self {
            EmployeeChange::Role(r) => p.role = Some(*r),
            EmployeeChange::ReceivesNewClients(v) => p.receives_new_clients = Some(*v),
            EmployeeChange::PriorityChannelId(v) => p.priority_channel_id = Some(v.clone()),
            EmployeeChange::CrmUserId(v) => p.crm_user_id = Some(v.clone()),
        }
        p
    }
}

/// The TypeScript of every type above (and the core types they use), as committed.
#[cfg(test)]
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from Rust (src-tauri/src/vm.rs) by `make bindings`. Do not edit by hand.\n",
    );
    for d in declarations() {
        out.push_str("\nexport ");
        out.push_str(&d);
        out.push('\n');
    }
    out
}

/// The names of the types [`typescript`] declares.
#[cfg(test)]
pub fn type_names() -> Vec<String> {
    declarations()
        .iter()
        .filter_map(|d| d.strip_prefix("type ")?.split([' ', '<']).next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
fn declarations() -> Vec<String> {
    vec![
        AppState::decl(),
        SessionVm::decl(),
        DesktopPrefsVm::decl(),
        SyncProgressVm::decl(),
        StoreChange::decl(),
        SettingChange::decl(),
        MeVm::decl(),
        DemoEmployee::decl(),
        ChatFilter::decl(),
        ChatRowVm::decl(),
        FileRefusalVm::decl(),
        UploadProgressVm::decl(),
        TextPartVm::decl(),
        SearchHitVm::decl(),
        SearchVm::decl(),
        SearchFilterVm::decl(),
        SearchPeriod::decl(),
        ChatListVm::decl(),
        MessageVm::decl(),
        MirrorVm::decl(),
        CrmPanelVm::decl(),
        QuickReplyVm::decl(),
        HandOverVm::decl(),
        CrmJumpVm::decl(),
        QuickRepliesVm::decl(),
        FilledVm::decl(),
        switchboard_core::replies::Hole::decl(),
        switchboard_core::replies::Variable::decl(),
        PendingFirstVm::decl(),
        SendResultVm::decl(),
        PhoneVm::decl(),
        CrmCardVm::decl(),
        ChannelVm::decl(),
        ComposeVm::decl(),
        EmployeeRowVm::decl(),
        TokenVm::decl(),
        EmployeesVm::decl(),
        CrmConnectionVm::decl(),
        EmployeeChange::decl(),
        Settings::decl(),
        Role::decl(),
        Transport::decl(),
        Badge::decl(),
        switchboard_core::BadgeColor::decl(),
        Counters::decl(),
        CrmRef::decl(),
        EntityKind::decl(),
        Direction::decl(),
        MessageStatus::decl(),
        MessageKind::decl(),
        MediaState::decl(),
        MediaVm::decl(),
        switchboard_core::ContactCard::decl(),
        PlaceVm::decl(),
        CrmKind::decl(),
        MirrorStateVm::decl(),
        MirrorSkip::decl(),
        NoChannelReason::decl(),
        crate::CmdError::decl(),
    ]
}

#[cfg(test)]
mod tests {
    /// A search's period is counted back from now, as the store writes times.
    #[test]
    fn a_period_counts_back_from_now() {
        use super::SearchPeriod;
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        assert_eq!(SearchPeriod::Any.since(now), None);
        assert_eq!(
            SearchPeriod::Day.since(now).as_deref(),
            Some("2026-12-06T10:00:00.000Z")
        );
        assert_eq!(
            SearchPeriod::Year.since(now).as_deref(),
            Some("2025-12-07T10:00:00.000Z")
        );
    }

    /// The committed bindings (types, and the commands and events that use them) match the
    /// Rust. `UPDATE_BINDINGS=1` rewrites them.
    #[test]
    fn bindings_are_fresh() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib");
        let files = [
            ("bindings.ts", super::typescript()),
            (
                "commands.ts",
                crate::commands::typescript(&super::type_names()),
            ),
        ];
        for (name, generated) in files {
            let path = dir.join(name);
            if std::env::var_os("UPDATE_BINDINGS").is_some() {
                std::fs::write(&path, &generated).expect("write bindings");
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == generated,
                "ui/src/lib/{name} is stale: run `make bindings` and commit the result"
            );
        }
    }
}
