// Generated from Rust (src-tauri/src/vm.rs) by `make bindings`. Do not edit by hand.

export type AppState = { 
/**
 * `None`: not connected yet — offer the demo workspace or a hub URL.
 */
session: SessionVm | null, };

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
can_edit_settings: boolean, };

export type SettingChange = { "field": "save_to_crm_timeline", "value": boolean } | { "field": "eight_as_plus7", "value": boolean } | { "field": "notify_supervisors_all", "value": boolean } | { "field": "escalate_after_minutes", "value": number | null };

export type MeVm = { id: string, name: string, role: Role, };

export type DemoEmployee = { id: string, name: string, role: Role, receives_new_clients: boolean, };

export type ChatFilter = "mine" | "others" | "all";

export type ChatRowVm = { id: string, title: string, channel_name: string, transport: Transport | null, last_text: string, last_from_client: boolean, last_at: string, badge: Badge, crm: Array<CrmRef>, };

export type ChatListVm = { chats: Array<ChatRowVm>, 
/**
 * The totals of every visible chat (not just the filtered ones).
 */
counters: Counters, };

export type MessageVm = { id: string, direction: Direction, text: string, at: string, status: string, };

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
escalate_after_minutes: number | null, };

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

export type CmdError = { code: string, message: string, };
