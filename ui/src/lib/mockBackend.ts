// A Backend for UI tests: records calls, serves fixed view models, fires events on demand.
import type { Backend } from './backend';
import type {
  DesktopPrefsVm,
  AppState, ChatFilter, ChatRowVm, ComposeVm, CrmCardVm, CrmConnectionVm, CrmPanelVm, EmployeeChange, EmployeesVm, FileRefusalVm, MessageVm,
  ChannelVm, CrmJumpVm, FilledVm, HandOverVm, Hole, SearchHitVm, PendingFirstVm, QuickRepliesVm, SearchFilterVm, SearchVm, SendResultVm, SettingChange, StoreChange, TokenVm,
  UploadProgressVm,
} from './bindings';

type MockList = { chats: ChatRowVm[]; counters: { red: number; grey: number } };

export class MockBackend implements Backend {
  calls: string[] = [];
  state: AppState = { session: null, access_ended: false, demo_available: true, russian: false };
  /** The whole list per filter; `chatList` answers one window of it, as Rust does. */
  lists: Record<ChatFilter, MockList> = {
    all: { chats: [], counters: { red: 0, grey: 0 } },
    mine: { chats: [], counters: { red: 0, grey: 0 } },
    others: { chats: [], counters: { red: 0, grey: 0 } },
  };
  messages: MessageVm[] = [];
  /** Compose answers by raw number; a missing one is refused like the hub's invalid_phone. */
  composeAnswers: Record<string, ComposeVm> = {};
  cards: CrmCardVm[] = [];
  pending: PendingFirstVm[] = [];
  sendResult: SendResultVm = { key: 'k1', chat: null };
  staff: EmployeesVm = { employees: [], channels: [] };
  crm: CrmPanelVm[] = [];
  /** Sign-ins by employee id; revoking one drops it. */
  tokens: Record<string, TokenVm[]> = {};
  connection: CrmConnectionVm = { kind: 'built_in', portal: null, user: null, webhook_masked: null, events_url: null, events: false };
  private storeListeners: ((c: StoreChange) => void)[] = [];

  async appState() { this.calls.push('appState'); return this.state; }
  async openDemo() { this.calls.push('openDemo'); return []; }
  async signInDemo(id: string) { this.calls.push(`signInDemo:${id}`); }
  async connectHub(url: string, token: string) { this.calls.push(`connectHub:${url}:${token}`); }
  async signOut() { this.calls.push('signOut'); }
  async chatList(filter: ChatFilter, offset: number, limit: number) {
    this.calls.push(`chatList:${filter}`);
    const { chats, counters } = this.lists[filter];
    return { chats: chats.slice(offset, offset + limit), offset, total: chats.length, counters };
  }
  async chatRow(id: string) {
    this.calls.push(`chatRow:${id}`);
    return this.lists.all.chats.find((c) => c.id === id) ?? null;
  }
  async chatMessages(chat: string) { this.calls.push(`chatMessages:${chat}`); return this.messages; }
  /** Older messages the next `olderMessages` call adds at the top (then none). */
  older: MessageVm[] = [];
  async olderMessages(chat: string, before: string) {
    this.calls.push(`olderMessages:${chat}:${before}`);
    const came = this.older;
    this.messages = [...came, ...this.messages];
    this.older = [];
    return came.length;
  }
  async markAnswered(chat: string) { this.calls.push(`markAnswered:${chat}`); }
  async markUnanswered(chat: string) { this.calls.push(`markUnanswered:${chat}`); }
  async sendReply(chat: string, text: string) { this.calls.push(`sendReply:${chat}:${text}`); }
  async setDraft(chat: string, text: string) { this.calls.push(`setDraft:${chat}:${text}`); }
  /** What searchMessages answers. */
  found: SearchVm = { hits: [], short: false, partial: false, chats: [] };
  async searchMessages(query: string, filter: SearchFilterVm) {
    const kept = filter.channel || filter.mine || filter.period !== 'any' ? `:${JSON.stringify(filter)}` : '';
    this.calls.push(`search:${query}${kept}`);
    if (this.searchHeld) await this.searchHeld;
    return this.found;
  }
  /** While set, searchMessages answers only once it settles (an answer on its way). */
  searchHeld: Promise<void> | null = null;
  searchChannelList: ChannelVm[] = [];
  async searchChannels() { return this.searchChannelList; }
  /** The red chats in the list's order: what Alt+↓ / Alt+↑ walk. */
  waiting: string[] = [];
  async nextWaiting(current: string | null, forward: boolean) {
    this.calls.push(`nextWaiting:${current}:${forward}`);
    if (!this.waiting.length) return null;
    const i = current === null ? -1 : this.waiting.indexOf(current);
    const n = this.waiting.length;
    if (i < 0) return forward ? this.waiting[0] ?? null : this.waiting[n - 1] ?? null;
    return this.waiting[(i + (forward ? 1 : n - 1)) % n] ?? null;
  }
  onStoreChanged(f: (c: StoreChange) => void) {
    this.storeListeners.push(f);
    return () => { this.storeListeners = this.storeListeners.filter((g) => g !== f); };
  }
  async setOpenChat(chat: string | null) { this.calls.push(`setOpenChat:${chat}`); }
  async updateSetting(change: SettingChange) { this.calls.push(`updateSetting:${JSON.stringify(change)}`); }
  prefs: DesktopPrefsVm = { tray_icon: true, autostart: false, start_hidden: false, send_with_ctrl_enter: false, do_not_disturb: false };
  async setDoNotDisturb(on: boolean) {
    this.calls.push(`setDoNotDisturb:${on}`);
    this.prefs = { ...this.prefs, do_not_disturb: on };
    return this.prefs;
  }
  async desktopPrefs() { return this.prefs; }
  /** What `jump` answers, by query (none for the rest). */
  jumps: Record<string, ChatRowVm[]> = {};
  async jump(query: string) {
    this.calls.push(`jump:${query}`);
    return this.jumps[query] ?? [];
  }
  /** The quick replies held (the mock filters by title, as Rust does first). */
  replies: QuickRepliesVm = { replies: [], company: null, can_manage: false };
  async quickReplies(query: string) {
    this.calls.push(`quickReplies:${query}`);
    const q = query.toLowerCase();
    return { ...this.replies, replies: this.replies.replies.filter((r) => r.title.toLowerCase().includes(q)) };
  }
  /** What `fillQuickReply` answers, by reply id. */
  filled: Record<string, FilledVm> = {};
  async fillQuickReply(chat: string, id: string) {
    this.calls.push(`fillQuickReply:${chat}:${id}`);
    const f = this.filled[id];
    if (!f) throw { code: 'not_found', message: 'this quick reply is gone' };
    return f;
  }
  /** Stands in for Rust's `core::replies::holes` (English names only). */
  async textHoles(text: string) {
    const out: Hole[] = [];
    for (const m of text.matchAll(/\{(client|manager|deal|company)\}/g)) {
      out.push({ start: m.index, end: m.index + m[0].length, variable: m[1] as Hole['variable'] });
    }
    return out;
  }
  async saveQuickReply(id: string | null, title: string, text: string, personal: boolean) {
    this.calls.push(`saveQuickReply:${id}:${title}:${text}:${personal}`);
  }
  /** Whether the open chat may be handed over, by chat id (no by default). */
  handOverAllowed: Record<string, boolean> = {};
  async mayHandOver(chat: string) {
    if (this.handOverHeld) await this.handOverHeld;
    return this.handOverAllowed[chat] ?? false;
  }
  /** While set, mayHandOver answers only once it settles. */
  handOverHeld: Promise<void> | null = null;
  handOverPeople: HandOverVm[] = [];
  async handOverCandidates(chat: string) { this.calls.push(`handOverCandidates:${chat}`); return this.handOverPeople; }
  async handOver(chat: string, to: string) { this.calls.push(`handOver:${chat}:${to}`); }
  /** What the hub's search adds, by query. */
  history: Record<string, SearchHitVm[]> = {};
  async searchHistory(query: string, _filter: SearchFilterVm, _before: string | null) {
    this.calls.push(`searchHistory:${query}`);
    return this.history[query] ?? [];
  }
  async historyTo(chat: string, message: string) { this.calls.push(`historyTo:${chat}:${message}`); return true; }
  async deleteQuickReply(id: string) { this.calls.push(`deleteQuickReply:${id}`); }
  async setCompanyName(name: string) { this.calls.push(`setCompanyName:${name}`); }
  /** What `jumpCrm` answers, by query (none for the rest). */
  crmJumps: Record<string, CrmJumpVm[]> = {};
  async jumpCrm(query: string) {
    this.calls.push(`jumpCrm:${query}`);
    return this.crmJumps[query] ?? [];
  }
  async setDesktopPrefs(autostart: boolean, startHidden: boolean, sendWithCtrlEnter: boolean) {
    this.calls.push(`setDesktopPrefs:${autostart}:${startHidden}:${sendWithCtrlEnter}`);
    this.prefs = { ...this.prefs, autostart, start_hidden: startHidden, send_with_ctrl_enter: sendWithCtrlEnter };
    return this.prefs;
  }
  async compose(phone: string) {
    this.calls.push(`compose:${phone}`);
    const answer = this.composeAnswers[phone];
    if (!answer) throw { code: 'invalid_phone', message: `"${phone}" is not a phone number (invalid_number)` };
    return answer;
  }
  /** When set, crmSearch fails with it (e.g. the hub out of reach). */
  searchError: { code: string; message: string } | null = null;
  async crmSearch(query: string) {
    this.calls.push(`crmSearch:${query}`);
    if (this.searchError) throw this.searchError;
    return this.cards;
  }
  async sendFirst(channelId: string, phone: string, display: string, text: string) {
    this.calls.push(`sendFirst:${channelId}:${phone}:${display}:${text}`);
    return this.sendResult;
  }
  async pendingFirst() { return this.pending; }
  async retryMessage(id: string, local: boolean) { this.calls.push(`retry:${id}:${local}`); }
  async discardMessage(id: string) { this.calls.push(`discard:${id}`); }
  async employees() { this.calls.push('employees'); return this.staff; }
  async updateEmployee(id: string, change: EmployeeChange) { this.calls.push(`updateEmployee:${id}:${JSON.stringify(change)}`); }
  /** When set, setEmployeeActive fails with it (e.g. the hub's cannot_deactivate_self). */
  activeError: { code: string; message: string } | null = null;
  async setEmployeeActive(id: string, active: boolean) {
    this.calls.push(`setEmployeeActive:${id}:${active}`);
    if (this.activeError) throw this.activeError;
    this.staff = { ...this.staff, employees: this.staff.employees.map((e) => (e.id === id ? { ...e, active } : e)) };
    if (!active) this.tokens[id] = [];
  }
  async employeeTokens(id: string) { this.calls.push(`employeeTokens:${id}`); return this.tokens[id] ?? []; }
  async revokeToken(id: string) {
    this.calls.push(`revokeToken:${id}`);
    for (const [e, list] of Object.entries(this.tokens)) this.tokens[e] = list.filter((t) => t.id !== id);
  }
  async chatCrm(chat: string) { this.calls.push(`chatCrm:${chat}`); return this.crm; }
  async retryMirror(id: string) { this.calls.push(`retryMirror:${id}`); }
  async openMedia(id: string) { this.calls.push(`openMedia:${id}`); }
  async crmConnection() { return this.connection; }
  async checkCrm(url: string) {
    this.calls.push(`checkCrm:${url}`);
    return { kind: 'bitrix24' as const, portal: 'example.bitrix24.ru', user: 'Webhook User', webhook_masked: 'https://example.bitrix24.ru/rest/1/••••••/',
      events_url: 'https://hub.example/webhooks/bitrix24/s3cr3t', events: false };
  }
  async connectCrm(url: string) {
    this.calls.push(`connectCrm:${url}`);
    this.connection = await this.checkCrm(url);
    return this.connection;
  }
  async disconnectCrm() {
    this.calls.push('disconnectCrm');
    this.connection = { kind: 'built_in', portal: null, user: null, webhook_masked: null, events_url: null, events: false };
    return this.connection;
  }
  async setCrmEvents(token: string) {
    this.calls.push(`setCrmEvents:${token}`);
    this.connection = { ...this.connection, events: token !== '' };
    return this.connection;
  }
  async openInCrm(kind: string, id: string) { this.calls.push(`openInCrm:${kind}:${id}`); }
  /** Refusals by file name (what core would say of it); others are taken. */
  fileRefusals: Record<string, FileRefusalVm> = {};
  async checkFile(chat: string, mime: string, size: number) {
    this.calls.push(`checkFile:${chat}:${mime}:${size}`);
    return size > 10 * 1024 * 1024
      ? { code: 'file_too_big', limit: 10 * 1024 * 1024, mime: null, kind: null, transport: 'whatsapp' }
      : null;
  }
  /** The files attached so far: name and bytes. */
  attached: { chat: string; name: string; bytes: Uint8Array }[] = [];
  async attachFile(chat: string, name: string, bytes: Uint8Array) {
    this.calls.push(`attachFile:${chat}:${name}:${bytes.length}`);
    const refused = this.fileRefusals[name];
    if (!refused) this.attached.push({ chat, name, bytes });
    return refused ?? null;
  }
  private progressListeners: ((p: UploadProgressVm) => void)[] = [];
  onUploadProgress(f: (p: UploadProgressVm) => void) {
    this.progressListeners.push(f);
    return () => { this.progressListeners = this.progressListeners.filter((g) => g !== f); };
  }
  fireUploadProgress(p: UploadProgressVm) {
    for (const f of this.progressListeners) f(p);
  }
  onSessionChanged(_f: () => void) { return () => {}; }
  onPrefsChanged(_f: () => void) { return () => {}; }
  onOpenChat(_f: (chat: string) => void) { return () => {}; }
  /** Tells the views the store changed: everything by default, or as `change` says. */
  fireStoreChanged(change: Partial<StoreChange> = { all: true }) {
    const c: StoreChange = { all: false, list: false, every_chat: false, chats: [], messages: [], session: false, ...change };
    for (const f of this.storeListeners) f(c);
  }
}
