// Generated from Rust (src-tauri/src/vm.rs) by `make bindings`. Do not edit by hand.

export type AppState = { 
/**
 * `None`: not connected yet — offer the demo workspace or a hub URL.
 */
session: SessionVm | null, 
/**
 * The hub stopped taking this desktop's sign-in (revoked, the employee deactivated): the
 * welcome screen says so until the next sign-in.
 */
access_ended: boolean, 
/**
 * This build has the demo workspace (the `demo` feature); without it the welcome screen
 * offers only connecting to a hub.
 */
demo_available: boolean, 
/**
 * The system speaks Russian (as Rust reads it for the tray and notifications): the window
 * speaks the same language.
 */
russian: boolean, };

export type SessionVm = { hub_url: string, 
/**
 * Signed in to the built-in demo workspace (hub in-process on loopback).
 */
demo: boolean, 
/**
 * The employee, once the first sync has told us who we are.
 */
me: MeVm | null, 
/**
 * Live link to the hub up: events arrive and changes sync.
 */
online: boolean, settings: Settings | null, 
/**
 * Supervisors may change the workspace settings; sellers see them read-only.
 */
can_edit_settings: boolean, 
/**
 * While the hub's snapshot is being synced page by page (a first sync): how far it has
 * come. The list shows what has arrived meanwhile.
 */
sync_progress: SyncProgressVm | null, };

export type DesktopPrefsVm = { 
/**
 * A panel hosts tray icons. Without one the settings say why there is no tray icon, and
 * closing the window minimizes it.
 */
tray_icon: boolean, 
/**
 * "Start Switchboard when I log in" (off by default).
 */
autostart: boolean, 
/**
 * Started with the session, the window stays hidden in the tray (when there is one).
 */
start_hidden: boolean, 
/**
 * A message goes with Ctrl+Enter (Enter is a new line), for those who write long ones;
 * off by default: Enter sends, Shift+Enter is a new line.
 */
send_with_ctrl_enter: boolean, 
/**
 * Do not disturb: no notifications until it is turned off (from the tray or Ctrl+K); not
 * kept across restarts.
 */
do_not_disturb: boolean, };

export type SyncProgressVm = { 
/**
 * Chats synced so far.
 */
chats: number, 
/**
 * Chats in all.
 */
total: number, };

export type StoreChange = { 
/**
 * Anything may have changed (signed in or out, back online): every view asks again.
 */
all: boolean, 
/**
 * The chat list: rows, their order, badges or the counters.
 */
list: boolean, 
/**
 * Every chat's row may have changed (badges recoloured, chats dropped).
 */
every_chat: boolean, 
/**
 * Chats whose row changed or that went.
 */
chats: Array<string>, 
/**
 * Chats whose conversation changed (messages, this desktop's unsent ones).
 */
messages: Array<string>, 
/**
 * Who I am, the settings, the channels or the sync's progress.
 */
session: boolean, };

export type SettingChange = { "field": "save_to_crm_timeline", "value": boolean } | { "field": "eight_as_plus7", "value": boolean } | { "field": "notify_supervisors_all", "value": boolean } | { "field": "escalate_after_minutes", "value": number | null } | { "field": "sellers_may_transfer", "value": boolean };

export type MeVm = { id: string, name: string, role: Role, };

export type DemoEmployee = { id: string, name: string, role: Role, receives_new_clients: boolean, };

export type ChatFilter = "mine" | "others" | "all";

export type ChatRowVm = { id: string, title: string, channel_name: string, transport: Transport | null, last_text: string, last_from_client: boolean, last_at: string, badge: Badge, 
/**
 * The CRM entities the chat belongs to: in one chat's row (`chat_row`, the conversation's
 * header), not in the list's pages, which show none.
 */
crm: Array<CrmRef>, 
/**
 * What the last message carries: a file's preview is its kind (and a document's name).
 */
last_kind: MessageKind, last_media_name: string | null, 
/**
 * What the employee was writing here and has not sent (kept on this desktop).
 */
draft: string | null, 
/**
 * How long the last message's voice note or video plays ("0:14").
 */
last_duration: string | null, };

export type FileRefusalVm = { code: string, 
/**
 * Bytes (at most a few MB: a number in the page).
 */
limit: number | null, mime: string | null, kind: string | null, transport: string | null, };

export type UploadProgressVm = { 
/**
 * The outbox item (its message's id in the conversation until the hub takes it).
 */
key: string, sent: number, total: number, };

export type TextPartVm = { text: string, hit: boolean, };

export type SearchHitVm = { chat: string, title: string, message_id: string, at: string, 
/**
 * The message around what matched.
 */
parts: Array<TextPartVm>, 
/**
 * Found by the hub in history this desktop does not hold (opening it fetches it).
 */
remote: boolean, };

export type SearchVm = { hits: Array<SearchHitVm>, short: boolean, 
/**
 * Kept to a filter, the search looked through the newest matches only (a word in very many
 * messages): an older one may be missing; a longer query narrows it.
 */
partial: boolean, 
/**
 * A phone number typed in any form (read under setting 2): the chats with that client.
 */
chats: Array<ChatRowVm>, };

export type SearchFilterVm = { 
/**
 * Only this channel's chats.
 */
channel: string | null, 
/**
 * Only the chats I am responsible for.
 */
mine: boolean, period: SearchPeriod, };

export type SearchPeriod = "any" | "day" | "week" | "month" | "year";

export type ChatListVm = { 
/**
 * The rows asked for: from `offset`, at most the `limit` asked.
 */
chats: Array<ChatRowVm>, 
/**
 * Where `chats` starts in the whole (filtered) list.
 */
offset: number, 
/**
 * How many chats the whole filtered list has (the list's scroll height).
 */
total: number, 
/**
 * The totals of every visible chat (not just the filtered ones).
 */
counters: Counters, };

export type MessageVm = { id: string, direction: Direction, text: string, at: string, 
/**
 * `inbound`; ours: `pending` (on this desktop, waiting for the hub), `queued`,
 * `accepted`, `sent`, `delivered`, `read`, `error`, `failed`.
 */
status: MessageStatus, 
/**
 * Why it is `error` or `failed`.
 */
error: string | null, 
/**
 * For one the hub refused (`local`): the hub's stable code (`client_taken`,
 * `no_chat_access`, …, or `access_ended`) — the window explains known ones, else shows `error`.
 */
error_code: string | null, 
/**
 * For `client_taken`: the employee whose client it is, when the chat has a responsible.
 */
error_owner: string | null, 
/**
 * Still in this desktop's outbox (Retry/Discard act locally); else the hub holds it.
 */
local: boolean, 
/**
 * Its copy in the CRM timeline (setting 1).
 */
mirror: MirrorVm, 
/**
 * What it carries (the provider's `type`).
 */
kind: MessageKind, 
/**
 * Its file, when it has one.
 */
media: MediaVm | null, 
/**
 * A shared location, read as its description and coordinates.
 */
place: PlaceVm | null, };

export type MirrorVm = { state: MirrorStateVm, 
/**
 * For `skipped`: why.
 */
reason: MirrorSkip | null, 
/**
 * For `failed`: the CRM's reason.
 */
error: string | null, };

export type CrmPanelVm = { kind: EntityKind, id: string, title: string, closed: boolean, 
/**
 * The stage by the CRM's name for it, when it has one.
 */
stage: string | null, responsible: string | null, 
/**
 * Where to open it in the CRM (none for the built-in CRM).
 */
url: string | null, phones: Array<PhoneVm>, };

export type QuickReplyVm = { id: string, title: string, 
/**
 * As written, variables in braces.
 */
text: string, 
/**
 * The employee's own (`false`: the workspace's).
 */
personal: boolean, };

export type HandOverVm = { id: string, name: string, role: Role, };

export type CrmJumpVm = { chat: ChatRowVm, kind: EntityKind, 
/**
 * The entity's title, as the CRM has it.
 */
entity: string, };

export type QuickRepliesVm = { replies: Array<QuickReplyVm>, 
/**
 * What `{company}` reads as (`null`: not named yet).
 */
company: string | null, 
/**
 * The employee may change the workspace's replies and the company's name (supervisors).
 */
can_manage: boolean, };

export type FilledVm = { text: string, holes: Array<Hole>, };

export type Hole = { start: number, end: number, variable: Variable, };

export type Variable = "client" | "manager" | "deal" | "company";

export type PendingFirstVm = { key: string, display: string, channel_name: string, text: string, 
/**
 * Why the hub refused it (`None` while it waits), as the hub said it …
 */
error: string | null, 
/**
 * … its stable code (`client_taken`, `no_chat_access`, …, or `access_ended`) …
 */
error_code: string | null, 
/**
 * … and, for `client_taken`, whose client it is.
 */
error_owner: string | null, };

export type SendResultVm = { key: string, chat: string | null, };

export type PhoneVm = { raw: string, e164: string | null, display: string | null, error: string | null, };

export type CrmCardVm = { kind: EntityKind, id: string, title: string, closed: boolean, phones: Array<PhoneVm>, };

export type ChannelVm = { id: string, name: string, transport: Transport, 
/**
 * The provider's state (`active`, `qr`, `unauthorized`, …, `deleted`).
 */
state: string, usable: boolean, 
/**
 * Why it cannot send.
 */
why: NoChannelReason | null, };

export type ComposeVm = { 
/**
 * The employee's priority channel when usable; else `None` and `reason`.
 */
channel_id: string | null, 
/**
 * Why none is preselected.
 */
reason: NoChannelReason | null, 
/**
 * E.164.
 */
address: string, 
/**
 * `+7 916 456-98-12`.
 */
display: string, channels: Array<ChannelVm>, };

export type EmployeeRowVm = { id: string, name: string, role: Role, receives_new_clients: boolean, priority_channel_id: string | null, 
/**
 * Their user id in the connected CRM (Bitrix24), to map responsibles.
 */
crm_user_id: string | null, 
/**
 * `false`: deactivated — none of their desktops is signed in, none can sign in.
 */
active: boolean, };

export type TokenVm = { 
/**
 * Names it for `revoke_token`; not the token itself (the hub never shows that again).
 */
id: string, 
/**
 * When it was issued (RFC 3339).
 */
created_at: string, };

export type EmployeesVm = { employees: Array<EmployeeRowVm>, channels: Array<ChannelVm>, };

export type CrmConnectionVm = { kind: CrmKind, portal: string | null, user: string | null, webhook_masked: string | null, 
/**
 * Bitrix24: the handler address for the portal's outgoing webhook (CRM events).
 */
events_url: string | null, 
/**
 * Whether the outgoing webhook's application token is stored.
 */
events: boolean, };

export type EmployeeChange = { "field": "role", "value": Role } | { "field": "receives_new_clients", "value": boolean } | { "field": "priority_channel_id", "value": string | null } | { "field": "crm_user_id", "value": string | null };

export type Settings = { 
/**
 * Setting 1: mirror every message to the timeline of the chat's lead, contact and deal.
 */
save_to_crm_timeline: boolean, 
/**
 * Setting 2: CRM numbers of 11 digits typed with a leading 8 are read as +7.
 */
eight_as_plus7: boolean, 
/**
 * Setting 3: supervisors see every unanswered chat red and are notified of every message.
 */
notify_supervisors_all: boolean, 
/**
 * Beyond the seed: a chat unanswered this many minutes turns red for supervisors (and
 * notifies them once) even with setting 3 off. `None`: off.
 */
escalate_after_minutes: number | null, 
/**
 * Beyond the seed: the responsible seller may hand their chat to a colleague (supervisors
 * always may).
 */
sellers_may_transfer: boolean, };

export type Role = "seller" | "supervisor" | "none";

export type Transport = "whatsapp" | "wapi" | "tgapi" | "telegram" | "viber" | "instagram" | "vk" | "avito" | "max";

export type Badge = { count: number, 
/**
 * `None` when the chat is answered (count 0).
 */
color: BadgeColor | null, };

export type BadgeColor = "red" | "grey";

export type Counters = { red: number, grey: number, };

export type CrmRef = { kind: EntityKind, id: string, };

export type EntityKind = "lead" | "contact" | "deal";

export type Direction = "in" | "out";

export type MessageStatus = "inbound" | "pending" | "queued" | "accepted" | "sent" | "delivered" | "read" | "error" | "failed" | "unknown";

export type MessageKind = "text" | "image" | "audio" | "video" | "document" | "vcard" | "geo" | "missing_call" | "transfer" | "unsupported" | "unknown";

export type MediaState = "pending" | "stored" | "too_big" | "failed" | "unknown";

export type MediaVm = { state: MediaState, name: string | null, mime: string | null, 
/**
 * Bytes (at most 50 MB: a number in the page).
 */
size: number | null, error: string | null, 
/**
 * `media://localhost/<message id>` once the hub keeps it.
 */
url: string | null, 
/**
 * Shown in place (an image, audio or video type); else offered as a file to open.
 */
inline: boolean, 
/**
 * How long it plays ("0:14"; read by the hub).
 */
duration: string | null, 
/**
 * A shared contact's card.
 */
contact: ContactCard | null, };

export type ContactCard = { name: string | null, organization: string | null, phones: Array<string>, emails: Array<string>, };

export type PlaceVm = { 
/**
 * What the client wrote besides the coordinates.
 */
name: string | null, 
/**
 * "55.760186, 37.618711".
 */
coordinates: string, };

export type CrmKind = "built_in" | "bitrix24" | "unknown";

export type MirrorStateVm = "none" | "pending" | "written" | "failed" | "skipped";

export type MirrorSkip = "open_lines" | "setting_off" | "not_linked" | "crm_changed" | "unknown";

export type NoChannelReason = "not_set" | "deleted" | "disabled" | "unauthorized" | "not_active" | "unknown";

export type CmdError = { code: string, message: string, };
