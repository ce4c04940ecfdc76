// Generated from Rust (src-tauri/src/commands/mod.rs, ui_events.rs) by `make bindings`. Do not edit by hand.
import { invoke } from '@tauri-apps/api/core';
import type { AppState, DesktopPrefsVm, StoreChange, SettingChange, DemoEmployee, ChatFilter, ChatRowVm, FileRefusalVm, UploadProgressVm, SearchHitVm, SearchVm, SearchFilterVm, ChatListVm, MessageVm, CrmPanelVm, HandOverVm, CrmJumpVm, QuickRepliesVm, FilledVm, Hole, PendingFirstVm, SendResultVm, CrmCardVm, ChannelVm, ComposeVm, TokenVm, EmployeesVm, CrmConnectionVm, EmployeeChange, EntityKind } from './bindings';

/** Every command, typed: the one list is Rust's. */
export const commands = {
  appState: (): Promise<AppState> => invoke('app_state'),
  openDemo: (): Promise<Array<DemoEmployee>> => invoke('open_demo'),
  signInDemo: (employeeId: string): Promise<void> => invoke('sign_in_demo', { employeeId }),
  connectHub: (url: string, token: string): Promise<void> => invoke('connect_hub', { url, token }),
  signOut: (): Promise<void> => invoke('sign_out'),
  /** One window of the chat list (waiting chats first, then newest activity) and the totals. */
  chatList: (filter: ChatFilter, offset: number, limit: number): Promise<ChatListVm> => invoke('chat_list', { filter, offset, limit }),
  /** One chat's row, wherever it is in the list (the open conversation's header). */
  chatRow: (id: string): Promise<ChatRowVm | null> => invoke('chat_row', { id }),
  chatMessages: (chat: string): Promise<Array<MessageVm>> => invoke('chat_messages', { chat }),
  /** Fetches a chat's history before the message `before` (scrolling up): how many came */
  /** (0 at its beginning). The messages arrive with `store-changed`. */
  olderMessages: (chat: string, before: string): Promise<number> => invoke('older_messages', { chat, before }),
  /** Opens a message's file (a document) with the system's app for its type, fetching it */
  /** through the hub first when this desktop has not kept it. */
  openMedia: (id: string): Promise<void> => invoke('open_media', { id }),
  markAnswered: (chat: string): Promise<void> => invoke('mark_answered', { chat }),
  /** Answered too early: a reply is owed again (the badge, notifications and escalation). */
  markUnanswered: (chat: string): Promise<void> => invoke('mark_unanswered', { chat }),
  sendReply: (chat: string, text: string): Promise<void> => invoke('send_reply', { chat, text }),
  /** Whether this employee may hand the chat to a colleague (supervisors; the responsible */
  /** seller when the workspace allows), as this desktop's copy reads it. */
  mayHandOver: (chat: string): Promise<boolean> => invoke('may_hand_over', { chat }),
  /** Whom the chat may be handed to (from the hub). */
  handOverCandidates: (chat: string): Promise<Array<HandOverVm>> => invoke('hand_over_candidates', { chat }),
  /** Hands the chat to `to`: the CRM's responsible changes with it (Bitrix24 in the portal */
  /** first), a line in the chat says so, `to` is notified. */
  handOver: (chat: string, to: string): Promise<void> => invoke('hand_over', { chat, to }),
  /** The next (`forward`) or previous chat waiting for my answer (red) after `current`, in */
  /** the list's order, round from the end (Alt+↓ / Alt+↑). */
  nextWaiting: (current: string | null, forward: boolean): Promise<string | null> => invoke('next_waiting', { current, forward }),
  /** Messages this desktop holds matching every word typed (3 letters or more each), newest */
  /** first, with what matched marked; offline too. */
  searchMessages: (query: string, filter: SearchFilterVm): Promise<SearchVm> => invoke('search_messages', { query, filter }),
  /** The channels this desktop holds, for the search's channel filter (offline too). */
  searchChannels: (): Promise<Array<ChannelVm>> => invoke('search_channels'),
  /** The hub's search over all history, as filtered (and older than message `before`: the */
  /** oldest hit this desktop showed when it showed a full page): what it found that this */
  /** desktop does not hold, newest first (`remote`); waits 3 s at most. */
  searchHistory: (query: string, filter: SearchFilterVm, before: string | null): Promise<Array<SearchHitVm>> => invoke('search_history', { query, filter, before }),
  /** Fetches a chat's history back to `message` (a hit of the hub's search), at most 20 */
  /** pages of 500: whether the desktop holds it now. */
  historyTo: (chat: string, message: string): Promise<boolean> => invoke('history_to', { chat, message }),
  /** Ctrl+K: the chats whose client's name (fuzzy, any case), number (typed in any form) or */
  /** messenger address matches `query`, best first, at most 20; offline too. */
  jump: (query: string): Promise<Array<ChatRowVm>> => invoke('jump', { query }),
  /** Ctrl+K by the title of a lead, contact or deal: the CRM's entities matching `query` */
  /** that this employee may see (from the hub, 1.5 s at most) and the chats they belong to. */
  jumpCrm: (query: string): Promise<Array<CrmJumpVm>> => invoke('jump_crm', { query }),
  /** Keeps what is being written in a chat (blank forgets it); shown in the list as a draft. */
  setDraft: (chat: string, text: string): Promise<void> => invoke('set_draft', { chat, text }),
  /** Tells Rust which chat the window shows (no notification for it while focused). */
  setOpenChat: (chat: string | null): Promise<void> => invoke('set_open_chat', { chat }),
  pendingFirst: (): Promise<Array<PendingFirstVm>> => invoke('pending_first'),
  /** The quick replies this desktop holds whose title or text holds every word of `query` */
  /** (all for an empty one), titles first; offline too. */
  quickReplies: (query: string): Promise<QuickRepliesVm> => invoke('quick_replies', { query }),
  /** Quick reply `id` written for `chat` with what is known of it (the CRM's deal is asked */
  /** for at most 1.5 s); what is not known is left as a hole to fill before Send. */
  fillQuickReply: (chat: string, id: string): Promise<FilledVm> => invoke('fill_quick_reply', { chat, id }),
  /** The variables left in what is being written (Send waits on each). */
  textHoles: (text: string): Promise<Array<Hole>> => invoke('text_holes', { text }),
  /** A new quick reply (`id` null) or a change to one: the employee's own (`personal`) or */
  /** the workspace's (supervisors). A word in braces that is no variable is refused. */
  saveQuickReply: (id: string | null, title: string, text: string, personal: boolean): Promise<void> => invoke('save_quick_reply', { id, title, text, personal }),
  deleteQuickReply: (id: string): Promise<void> => invoke('delete_quick_reply', { id }),
  /** Names the company `{company}` reads as (supervisors; blank: not named). */
  setCompanyName: (name: string): Promise<void> => invoke('set_company_name', { name }),
  retryMessage: (id: string, local: boolean): Promise<void> => invoke('retry_message', { id, local }),
  discardMessage: (id: string): Promise<void> => invoke('discard_message', { id }),
  updateSetting: (change: SettingChange): Promise<void> => invoke('update_setting', { change }),
  /** This computer's preferences (start with the session, start hidden, the key that sends) */
  /** and whether a panel shows the tray icon. */
  desktopPrefs: (): Promise<DesktopPrefsVm> => invoke('desktop_prefs'),
  setDesktopPrefs: (autostart: boolean, startHidden: boolean, sendWithCtrlEnter: boolean): Promise<DesktopPrefsVm> => invoke('set_desktop_prefs', { autostart, startHidden, sendWithCtrlEnter }),
  /** Do not disturb on or off (the tray's menu follows). */
  setDoNotDisturb: (on: boolean): Promise<DesktopPrefsVm> => invoke('set_do_not_disturb', { on }),
  /** Writing first: the number read under setting 2 and the preselected channel. */
  compose: (phone: string): Promise<ComposeVm> => invoke('compose', { phone }),
  crmSearch: (query: string): Promise<Array<CrmCardVm>> => invoke('crm_search', { query }),
  sendFirst: (channelId: string, phone: string, display: string, text: string): Promise<SendResultVm> => invoke('send_first', { channelId, phone, display, text }),
  employees: (): Promise<EmployeesVm> => invoke('employees'),
  updateEmployee: (id: string, change: EmployeeChange): Promise<void> => invoke('update_employee', { id, change }),
  /** Deactivates an employee (their desktops are signed out at once) or reactivates one. */
  setEmployeeActive: (id: string, active: boolean): Promise<void> => invoke('set_employee_active', { id, active }),
  /** An employee's sign-ins: the desktops holding one of their tokens. */
  employeeTokens: (id: string): Promise<Array<TokenVm>> => invoke('employee_tokens', { id }),
  /** Ends one sign-in: that desktop is signed out at once. */
  revokeToken: (id: string): Promise<void> => invoke('revoke_token', { id }),
  /** The CRM entities a chat belongs to (fresh from the hub). */
  chatCrm: (chat: string): Promise<Array<CrmPanelVm>> => invoke('chat_crm', { chat }),
  retryMirror: (id: string): Promise<void> => invoke('retry_mirror', { id }),
  crmConnection: (): Promise<CrmConnectionVm> => invoke('crm_connection'),
  checkCrm: (webhookUrl: string): Promise<CrmConnectionVm> => invoke('check_crm', { webhookUrl }),
  connectCrm: (webhookUrl: string): Promise<CrmConnectionVm> => invoke('connect_crm', { webhookUrl }),
  disconnectCrm: (): Promise<CrmConnectionVm> => invoke('disconnect_crm'),
  /** Stores the application token of the portal's outgoing webhook ('' stops taking events). */
  setCrmEvents: (applicationToken: string): Promise<CrmConnectionVm> => invoke('set_crm_events', { applicationToken }),
  /** Opens an entity's card in the CRM (the address comes from the hub, not the page). */
  openInCrm: (kind: EntityKind, id: string): Promise<void> => invoke('open_in_crm', { kind, id }),
  /** Whether a file of this size and type (as the page knows it) can go to the chat's */
  /** channel, before its bytes are read: the reason when not. */
  checkFile: (chat: string, mime: string, size: number): Promise<FileRefusalVm | null> => invoke('check_file', { chat, mime, size }),
  /** Keeps a file to send to a chat (its bytes are the body) in the outbox: checked */
  /** against the chat's channel by the type read from its bytes; sent when the hub can */
  /** be reached, with its progress told by `upload-progress`. */
  attachFile: (chat: string, name: string, bytes: Uint8Array): Promise<FileRefusalVm | null> =>
    invoke('attach_file', bytes, { headers: { chat: encodeURIComponent(chat), name: encodeURIComponent(name) } }),
};

export type Commands = typeof commands;

/** Every event Rust sends, by name, with its payload. */
export type UiEvents = {
  /** The local store changed: each view redraws what it shows of the change. */
  'store-changed': StoreChange,
  /** The session changed: signed in or out, the live link up or down. */
  'session-changed': null,
  /** This computer's preferences changed outside the window (Do not disturb from the tray). */
  'prefs-changed': null,
  /** A notification was clicked: open this chat. */
  'open-chat': string,
  /** A file is on its way to the hub (at most ten times a second per file). */
  'upload-progress': UploadProgressVm,
};
