// A Backend for UI tests: records calls, serves fixed view models, fires events on demand.
import type { Backend } from './backend';
import type { AppState, ChatFilter, ChatListVm, MessageVm, SettingChange } from './bindings';

export class MockBackend implements Backend {
  calls: string[] = [];
  state: AppState = { session: null };
  lists: Record<ChatFilter, ChatListVm> = {
    all: { chats: [], counters: { red: 0, grey: 0 } },
    mine: { chats: [], counters: { red: 0, grey: 0 } },
    others: { chats: [], counters: { red: 0, grey: 0 } },
  };
  messages: MessageVm[] = [];
  private storeListeners: (() => void)[] = [];

  async appState() { this.calls.push('appState'); return this.state; }
  async openDemo() { this.calls.push('openDemo'); return []; }
  async signInDemo(id: string) { this.calls.push(`signInDemo:${id}`); }
  async connectHub(url: string, token: string) { this.calls.push(`connectHub:${url}:${token}`); }
  async signOut() { this.calls.push('signOut'); }
  async chatList(filter: ChatFilter) { this.calls.push(`chatList:${filter}`); return this.lists[filter]; }
  async chatMessages(chat: string) { this.calls.push(`chatMessages:${chat}`); return this.messages; }
  async markAnswered(chat: string) { this.calls.push(`markAnswered:${chat}`); }
  async sendReply(chat: string, text: string) { this.calls.push(`sendReply:${chat}:${text}`); }
  onStoreChanged(f: () => void) {
    this.storeListeners.push(f);
    return () => { this.storeListeners = this.storeListeners.filter((g) => g !== f); };
  }
  async setOpenChat(chat: string | null) { this.calls.push(`setOpenChat:${chat}`); }
  async updateSetting(change: SettingChange) { this.calls.push(`updateSetting:${JSON.stringify(change)}`); }
  onSessionChanged(_f: () => void) { return () => {}; }
  onOpenChat(_f: (chat: string) => void) { return () => {}; }
  fireStoreChanged() { for (const f of this.storeListeners) f(); }
}
