//! The rules: visibility, badges, notifications, the responsible, the composer's
//! preselected channel, the unanswered count and what is written to the CRM timeline.
//!
//! Every function takes the facts it needs and returns a decision; see settings.md.

use crate::domain::{
    Channel, ChannelState, CrmRef, Direction, EmployeeId, EntityKind, LinkedEntity, Role,
};
use crate::{Employee, Settings};
use serde::{Deserialize, Serialize};

/// How a viewer stands to a chat, as the setting-3 table reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The viewer is the chat's responsible.
    Responsible,
    /// Nobody is responsible and the viewer receives new clients.
    UnassignedToMe,
    /// Someone else's chat, or an unassigned one while the viewer does not receive new clients.
    Other,
}

/// How `viewer` stands to a chat whose responsible is `responsible`.
pub fn relation(viewer: &Employee, responsible: Option<&str>) -> Relation {
    match responsible {
        Some(r) if r == viewer.id => Relation::Responsible,
        None if viewer.receives_new_clients => Relation::UnassignedToMe,
        _ => Relation::Other,
    }
}

/// Visibility: whether `viewer` sees a chat whose responsible is `responsible`.
pub fn can_see(viewer: &Employee, responsible: Option<&str>) -> bool {
    match viewer.role {
        Role::Supervisor => true,
        Role::Seller => relation(viewer, responsible) != Relation::Other,
        Role::None => false,
    }
}

/// Who sees CRM data — an entity's card, phones and timeline, writing first by it, search
/// hits: whoever could see a chat linked to it, its responsible, and, while nobody is
/// responsible, the sellers who receive new clients. Supervisors see all; role `none` nothing.
/// (The Bitrix24 portal's own permissions are not consulted: these are the hub's.)
pub fn can_see_entity<'a>(
    viewer: &Employee,
    responsible: Option<&str>,
    linked_chat_responsibles: impl IntoIterator<Item = Option<&'a str>>,
) -> bool {
    can_see(viewer, responsible)
        || linked_chat_responsibles
            .into_iter()
            .any(|r| can_see(viewer, r))
}

/// Whether `viewer` may hand a chat whose responsible is `responsible` to a colleague:
/// supervisors may; the responsible seller when the workspace allows it; nobody else.
pub fn may_transfer(viewer: &Employee, responsible: Option<&str>, settings: &Settings) -> bool {
    match viewer.role {
        Role::Supervisor => true,
        Role::Seller => settings.sellers_may_transfer && responsible == Some(viewer.id.as_str()),
        Role::None => false,
    }
}

/// Whether `to` may be handed a chat: someone who works with chats (role `none` has no
/// access to them).
pub fn may_receive_chats(to: &Employee) -> bool {
    to.role != Role::None
}

/// The colour of an unanswered badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BadgeColor {
    /// The viewer is expected to answer.
    Red,
    /// Someone else is expected to answer; the viewer oversees.
    Grey,
}

impl BadgeColor {
    /// As written on the wire and in stores (`red`, `grey`).
    pub fn as_str(self) -> &'static str {
        match self {
            BadgeColor::Red => "red",
            BadgeColor::Grey => "grey",
        }
    }

    pub fn parse(s: &str) -> Option<BadgeColor> {
        [BadgeColor::Red, BadgeColor::Grey]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// What a viewer sees of a chat's unanswered count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Badge {
    pub count: u32,
    /// `None` when the chat is answered (count 0).
    pub color: Option<BadgeColor>,
}

/// What the rules need to know of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatFacts<'a> {
    pub responsible: Option<&'a str>,
    /// Client messages since the last employee reply.
    pub unanswered: u32,
    /// The chat crossed the escalation threshold (see [`escalation_due`]) and is still unanswered.
    pub escalated: bool,
}

/// Whether a chat whose oldest unanswered client message arrived at `waiting_since_ms`
/// is due to escalate at `now_ms`. The hub asks this periodically and records the answer.
pub fn escalation_due(
    unanswered: u32,
    waiting_since_ms: i64,
    now_ms: i64,
    settings: &Settings,
) -> bool {
    match settings.escalate_after_minutes {
        Some(minutes) if unanswered > 0 => {
            now_ms.saturating_sub(waiting_since_ms) >= i64::from(minutes) * 60_000
        }
        _ => false,
    }
}

fn escalated(chat: &ChatFacts, settings: &Settings) -> bool {
    chat.escalated && chat.unanswered > 0 && settings.escalate_after_minutes.is_some()
}

/// Whether new client messages in this chat are the viewer's to answer: red badge, notified.
fn is_theirs(viewer: &Employee, chat: &ChatFacts, settings: &Settings) -> bool {
    match (viewer.role, relation(viewer, chat.responsible)) {
        (Role::None, _) => false,
        (_, Relation::Responsible | Relation::UnassignedToMe) => true,
        (Role::Supervisor, Relation::Other) => {
            settings.notify_supervisors_all || escalated(chat, settings)
        }
        (Role::Seller, Relation::Other) => false,
    }
}

/// The badge `viewer` sees on a chat, or `None` when they cannot see the chat at all.
pub fn badge(viewer: &Employee, chat: &ChatFacts, settings: &Settings) -> Option<Badge> {
    if !can_see(viewer, chat.responsible) {
        return None;
    }
    let color = match chat.unanswered {
        0 => None,
        _ if is_theirs(viewer, chat, settings) => Some(BadgeColor::Red),
        _ => Some(BadgeColor::Grey),
    };
    Some(Badge {
        count: chat.unanswered,
        color,
    })
}

/// Whether `viewer` gets a native notification for a new client message in this chat
/// (`chat` as it is with that message counted).
pub fn is_notified(viewer: &Employee, chat: &ChatFacts, settings: &Settings) -> bool {
    can_see(viewer, chat.responsible) && is_theirs(viewer, chat, settings)
}

/// Everyone among `employees` to notify of a new client message in a chat.
pub fn notify_recipients<'a>(
    employees: impl IntoIterator<Item = &'a Employee>,
    chat: &ChatFacts,
    settings: &Settings,
) -> Vec<EmployeeId> {
    employees
        .into_iter()
        .filter(|e| is_notified(e, chat, settings))
        .map(|e| e.id.clone())
        .collect()
}

/// Whom to notify, once, when a chat crosses the escalation threshold: the supervisors for
/// whom it just turned red (those already notified of every message are not told twice).
pub fn escalation_recipients<'a>(
    employees: impl IntoIterator<Item = &'a Employee>,
    chat: &ChatFacts,
    settings: &Settings,
) -> Vec<EmployeeId> {
    if settings.notify_supervisors_all
        || settings.escalate_after_minutes.is_none()
        || chat.unanswered == 0
    {
        return Vec::new();
    }
    employees
        .into_iter()
        .filter(|e| e.role == Role::Supervisor && relation(e, chat.responsible) == Relation::Other)
        .map(|e| e.id.clone())
        .collect()
}

/// A viewer's totals: chats with a red and with a grey badge (the tray's figures).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counters {
    pub red: u32,
    pub grey: u32,
}

/// What the tray icon shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrayState {
    /// Nothing to answer: the plain icon.
    Calm,
    /// Only grey badges: someone else is expected to answer.
    Grey,
    /// At least one red badge: a client waits for me.
    Red,
}

impl Counters {
    /// Red when any red badge exists, grey when only grey ones do, calm at zero.
    pub fn tray_state(self) -> TrayState {
        match (self.red, self.grey) {
            (0, 0) => TrayState::Calm,
            (0, _) => TrayState::Grey,
            _ => TrayState::Red,
        }
    }

    /// Sums the badges a viewer sees.
    pub fn of<'a>(badges: impl IntoIterator<Item = &'a Badge>) -> Counters {
        badges.into_iter().fold(Counters::default(), |mut c, b| {
            match b.color {
                Some(BadgeColor::Red) => c.red += 1,
                Some(BadgeColor::Grey) => c.grey += 1,
                None => {}
            }
            c
        })
    }
}

/// The responsible of a chat: the responsible of its most specific open entity —
/// a deal, else a contact, else a lead. Among entities of one kind the first given wins,
/// so callers list the newest first.
pub fn responsible(linked: &[LinkedEntity]) -> Option<EmployeeId> {
    [EntityKind::Deal, EntityKind::Contact, EntityKind::Lead]
        .into_iter()
        .find_map(|kind| {
            linked
                .iter()
                .filter(|l| l.entity.kind == kind && !l.closed)
                .find_map(|l| l.responsible_id.clone())
        })
}

/// What happens to a chat's unanswered count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatEvent {
    /// A new client message.
    ClientMessage,
    /// An employee's reply through Switchboard, or an echo written from the phone.
    EmployeeReply,
    /// "Mark answered": no reply needed.
    MarkedAnswered,
    /// "Mark as unanswered": answered too early, a reply is owed again — the badge, the
    /// notification rule and the escalation timer count from now (at least one waiting).
    MarkedUnanswered,
    /// Someone read the chat: changes nothing.
    Read,
}

/// The unanswered count after `event`.
pub fn unanswered_after(count: u32, event: ChatEvent) -> u32 {
    match event {
        ChatEvent::ClientMessage => count.saturating_add(1),
        ChatEvent::EmployeeReply | ChatEvent::MarkedAnswered => 0,
        ChatEvent::MarkedUnanswered => count.max(1),
        ChatEvent::Read => count,
    }
}

/// Why the composer preselects no channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoChannelReason {
    /// The employee has no priority channel.
    NotSet,
    /// The priority channel no longer exists.
    Deleted,
    /// The priority channel is switched off.
    Disabled,
    /// The messenger account lost its authorisation.
    Unauthorized,
    /// Any other state that does not send (QR pending, phone offline, unpaid, …).
    NotActive,
    /// A reason a newer hub gives (read, never decided here).
    Unknown,
}

impl NoChannelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NoChannelReason::NotSet => "not_set",
            NoChannelReason::Deleted => "deleted",
            NoChannelReason::Disabled => "disabled",
            NoChannelReason::Unauthorized => "unauthorized",
            NoChannelReason::NotActive => "not_active",
            NoChannelReason::Unknown => "unknown",
        }
    }
}

impl<'de> Deserialize<'de> for NoChannelReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use NoChannelReason::*;
        crate::domain::read_tolerant(
            d,
            &[NotSet, Deleted, Disabled, Unauthorized, NotActive],
            NoChannelReason::as_str,
            Unknown,
        )
    }
}

/// Whether a channel can send now, and why not.
pub fn channel_usable(channel: &Channel) -> Result<(), NoChannelReason> {
    match channel.state {
        ChannelState::Active => Ok(()),
        ChannelState::Deleted => Err(NoChannelReason::Deleted),
        ChannelState::Disabled => Err(NoChannelReason::Disabled),
        ChannelState::Unauthorized => Err(NoChannelReason::Unauthorized),
        _ => Err(NoChannelReason::NotActive),
    }
}

/// Setting 4: the channel the composer preselects when `employee` writes first.
/// Never falls back to another channel: no usable priority channel → none, with the reason.
pub fn preselect_channel(
    employee: &Employee,
    channels: &[Channel],
) -> Result<String, NoChannelReason> {
    let id = employee
        .priority_channel_id
        .as_deref()
        .ok_or(NoChannelReason::NotSet)?;
    let channel = channels
        .iter()
        .find(|c| c.id == id)
        .ok_or(NoChannelReason::Deleted)?;
    channel_usable(channel)?;
    Ok(channel.id.clone())
}

/// One write to a CRM entity's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "entity", rename_all = "snake_case")]
pub enum TimelineWrite {
    /// The message itself (setting 1).
    Message(CrmRef),
    /// The single "Open Lines chat" activity of an Open Lines chat.
    OpenLinesActivity(CrmRef),
}

/// What a new message writes to the CRM timeline.
///
/// `first_client_message` is true for the first client message the chat ever had.
pub fn timeline_writes(
    channel: &Channel,
    linked: &[CrmRef],
    direction: Direction,
    first_client_message: bool,
    settings: &Settings,
) -> Vec<TimelineWrite> {
    if channel.open_lines {
        if direction == Direction::In && first_client_message {
            return linked
                .iter()
                .cloned()
                .map(TimelineWrite::OpenLinesActivity)
                .collect();
        }
        return Vec::new();
    }
    if !settings.save_to_crm_timeline {
        return Vec::new();
    }
    linked.iter().cloned().map(TimelineWrite::Message).collect()
}

/// Why a message is not mirrored to the CRM timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MirrorSkip {
    /// Open Lines channels are never mirrored (their chat has its own activity).
    OpenLines,
    /// Setting 1 is off.
    SettingOff,
    /// The chat belongs to no lead, contact or deal.
    NotLinked,
    /// The workspace switched CRMs before it was written (its entities belong to the old one).
    CrmChanged,
    /// A reason a newer hub gives (read, never decided here).
    Unknown,
}

impl<'de> Deserialize<'de> for MirrorSkip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use MirrorSkip::*;
        crate::domain::read_tolerant(
            d,
            &[OpenLines, SettingOff, NotLinked, CrmChanged],
            MirrorSkip::as_str,
            Unknown,
        )
    }
}

impl MirrorSkip {
    pub fn as_str(self) -> &'static str {
        match self {
            MirrorSkip::OpenLines => "open_lines",
            MirrorSkip::SettingOff => "setting_off",
            MirrorSkip::NotLinked => "not_linked",
            MirrorSkip::CrmChanged => "crm_changed",
            MirrorSkip::Unknown => "unknown",
        }
    }
    pub fn parse(s: &str) -> Option<MirrorSkip> {
        [
            MirrorSkip::OpenLines,
            MirrorSkip::SettingOff,
            MirrorSkip::NotLinked,
            MirrorSkip::CrmChanged,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// Why the message itself is not written to any timeline, or `None` when it is
/// (to every linked entity). Open Lines first wins, then setting 1, then the links.
pub fn mirror_skip(
    channel: &Channel,
    linked: &[CrmRef],
    settings: &Settings,
) -> Option<MirrorSkip> {
    if channel.open_lines {
        Some(MirrorSkip::OpenLines)
    } else if !settings.save_to_crm_timeline {
        Some(MirrorSkip::SettingOff)
    } else if linked.is_empty() {
        Some(MirrorSkip::NotLinked)
    } else {
        None
    }
}

/// Notifications of one chat that arrive within this window of the group's first are one.
pub const NOTIFICATION_GROUP_MS: i64 = 10_000;

/// What to do with a new notification of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouped {
    /// Show a new notification.
    New,
    /// Replace the chat's current notification: "`count` new messages".
    Replace { count: u32 },
}

/// Folds several messages of one chat within [`NOTIFICATION_GROUP_MS`] into one notification.
#[derive(Debug, Default)]
pub struct NotificationGroups {
    open: std::collections::HashMap<String, (i64, u32)>,
}

impl NotificationGroups {
    /// A notification for `chat` arrives at `now_ms`.
    pub fn arrive(&mut self, chat: &str, now_ms: i64) -> Grouped {
        self.open
            .retain(|_, (start, _)| now_ms - *start < NOTIFICATION_GROUP_MS);
        match self.open.get_mut(chat) {
            Some((_, count)) => {
                *count += 1;
                Grouped::Replace { count: *count }
            }
            None => {
                self.open.insert(chat.to_owned(), (now_ms, 1));
                Grouped::New
            }
        }
    }
}
