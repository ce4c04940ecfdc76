// The one door from the UI to Rust. Components receive a Backend; only this file
// touches @tauri-apps/api, so tests hand components a mock instead.
import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  AppState, ChatFilter, ChatListVm, CmdError, ComposeVm, CrmCardVm, CrmConnectionVm, CrmPanelVm, DemoEmployee, EmployeeChange, EmployeesVm,
  MessageVm, PendingFirstVm, SendResultVm, SettingChange, TokenVm,
} from './bindings';

export interface Backend {
  appState(): Promise<AppState>;
  openDemo(): Promise<DemoEmployee[]>;
  signInDemo(employeeId: string): Promise<void>;
  connectHub(url: string, token: string): Promise<void>;
  signOut(): Promise<void>;
  chatList(filter: ChatFilter): Promise<ChatListVm>;
  chatMessages(chat: string): Promise<MessageVm[]>;
  markAnswered(chat: string): Promise<void>;
  sendReply(chat: string, text: string): Promise<void>;
  /** Tells Rust which chat the window shows (no notification for it while focused). */
  setOpenChat(chat: string | null): Promise<void>;
  updateSetting(change: SettingChange): Promise<void>;
  /** Writing first: the number read under setting 2 and the preselected channel. */
  compose(phone: string): Promise<ComposeVm>;
  crmSearch(query: string): Promise<CrmCardVm[]>;
  sendFirst(channelId: string, phone: string, display: string, text: string): Promise<SendResultVm>;
  pendingFirst(): Promise<PendingFirstVm[]>;
  retryMessage(id: string, local: boolean): Promise<void>;
  discardMessage(id: string): Promise<void>;
  employees(): Promise<EmployeesVm>;
  updateEmployee(id: string, change: EmployeeChange): Promise<void>;
  /** Deactivates an employee (their desktops are signed out at once) or reactivates one. */
  setEmployeeActive(id: string, active: boolean): Promise<void>;
  /** An employee's sign-ins: the desktops holding one of their tokens. */
  employeeTokens(id: string): Promise<TokenVm[]>;
  /** Ends one sign-in: that desktop is signed out at once. */
  revokeToken(id: string): Promise<void>;
  /** The CRM entities a chat belongs to (fresh from the hub). */
  chatCrm(chat: string): Promise<CrmPanelVm[]>;
  retryMirror(id: string): Promise<void>;
  crmConnection(): Promise<CrmConnectionVm>;
  checkCrm(webhookUrl: string): Promise<CrmConnectionVm>;
  connectCrm(webhookUrl: string): Promise<CrmConnectionVm>;
  disconnectCrm(): Promise<CrmConnectionVm>;
  /** Stores the application token of the portal's outgoing webhook ('' stops taking events). */
  setCrmEvents(applicationToken: string): Promise<CrmConnectionVm>;
  /** Opens an entity's card in the CRM (the address comes from the hub, not the page). */
  openInCrm(kind: CrmPanelVm['kind'], id: string): Promise<void>;
  /** Calls `f` with a chat id when a notification click asks to open it. */
  onOpenChat(f: (chat: string) => void): () => void;
  /** Calls `f` whenever the local store changed; returns a function that stops it. */
  onStoreChanged(f: () => void): () => void;
  /** Calls `f` whenever the session (sign-in, online state) changed. */
  onSessionChanged(f: () => void): () => void;
}

/** Whether a command failed only because the hub is out of reach (the app works on offline). */
export function isOffline(e: unknown): boolean {
  return !!e && typeof e === 'object' && 'code' in e && (e as CmdError).code === 'hub_unreachable';
}

/** A command's error as Rust sends it, or any other failure, as one readable message. */
export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as CmdError).message);
  return String(e);
}

function subscribe<T>(event: string, f: (payload: T) => void): () => void {
  const stop = listen<T>(event, (e) => f(e.payload));
  return () => {
    void stop.then((un) => un());
  };
}

export const tauriBackend: Backend = {
  appState: () => invoke('app_state'),
  openDemo: () => invoke('open_demo'),
  signInDemo: (employeeId) => invoke('sign_in_demo', { employeeId }),
  connectHub: (url, token) => invoke('connect_hub', { url, token }),
  signOut: () => invoke('sign_out'),
  chatList: (filter) => invoke('chat_list', { filter }),
  chatMessages: (chat) => invoke('chat_messages', { chat }),
  markAnswered: (chat) => invoke('mark_answered', { chat }),
  sendReply: (chat, text) => invoke('send_reply', { chat, text }),
  setOpenChat: (chat) => invoke('set_open_chat', { chat }),
  updateSetting: (change) => invoke('update_setting', { change }),
  compose: (phone) => invoke('compose', { phone }),
  crmSearch: (query) => invoke('crm_search', { query }),
  sendFirst: (channelId, phone, display, text) => invoke('send_first', { channelId, phone, display, text }),
  pendingFirst: () => invoke('pending_first'),
  retryMessage: (id, local) => invoke('retry_message', { id, local }),
  discardMessage: (id) => invoke('discard_message', { id }),
  employees: () => invoke('employees'),
  updateEmployee: (id, change) => invoke('update_employee', { id, change }),
  setEmployeeActive: (id, active) => invoke('set_employee_active', { id, active }),
  employeeTokens: (id) => invoke('employee_tokens', { id }),
  revokeToken: (id) => invoke('revoke_token', { id }),
  chatCrm: (chat) => invoke('chat_crm', { chat }),
  retryMirror: (id) => invoke('retry_mirror', { id }),
  crmConnection: () => invoke('crm_connection'),
  checkCrm: (webhookUrl) => invoke('check_crm', { webhookUrl }),
  connectCrm: (webhookUrl) => invoke('connect_crm', { webhookUrl }),
  disconnectCrm: () => invoke('disconnect_crm'),
  setCrmEvents: (applicationToken) => invoke('set_crm_events', { applicationToken }),
  openInCrm: (kind, id) => invoke('open_in_crm', { kind, id }),
  onStoreChanged: (f) => subscribe('store-changed', () => f()),
  onSessionChanged: (f) => subscribe('session-changed', () => f()),
  onOpenChat: (f) => subscribe<string>('open-chat', f),
};
