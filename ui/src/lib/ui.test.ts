import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Workspace from './Workspace.svelte';
import SettingsView from './SettingsView.svelte';
import NewMessage from './NewMessage.svelte';
import EmployeesView from './EmployeesView.svelte';
import Conversation from './Conversation.svelte';
import CrmConnection from './CrmConnection.svelte';
import Welcome from './Welcome.svelte';
import App from '../App.svelte';
import { MockBackend } from './mockBackend';
import type { ChannelVm, ChatRowVm, ComposeVm, EmployeeRowVm, MessageVm, SessionVm } from './bindings';
import { kindLabel, pickLocale, refusalText, setLocale, t, tf, translator } from './i18n';

const session: SessionVm = {
  hub_url: 'http://127.0.0.1:1',
  demo: true,
  me: { id: 'e1', name: 'Anna', role: 'supervisor' },
  online: true,
  settings: null,
  can_edit_settings: true,
  sync_progress: null,
};

function row(id: string, color: 'red' | 'grey' | null, count: number, title: string): ChatRowVm {
  return {
    id, title, channel_name: 'WhatsApp', transport: 'whatsapp', last_text: 'hello', last_from_client: true,
    last_at: '2026-01-01T10:00:00.000Z', badge: { count, color }, crm: [], last_kind: 'text', last_media_name: null, draft: null, last_duration: null,
  };
}

afterEach(cleanup);

describe('Workspace', () => {
  it('renders the badges Rust computed and the totals', async () => {
    const backend = new MockBackend();
    backend.lists.all = { chats: [row('a', 'red', 2, 'Irina'), row('b', 'grey', 1, 'Pavel'), row('c', null, 0, 'Done')], counters: { red: 1, grey: 1 } };
    render(Workspace, { backend, session });
    const rows = await screen.findAllByTestId('chat-row');
    expect(rows.map((r) => r.dataset.badgeColor)).toEqual(['red', 'grey', 'none']);
    expect(screen.getAllByTestId('badge').map((b) => b.textContent)).toEqual(['2', '1']);
  });

  it('asks Rust for the filtered list when a filter is chosen, and reloads on store changes', async () => {
    const backend = new MockBackend();
    backend.lists.mine = { chats: [row('a', 'red', 2, 'Irina')], counters: { red: 1, grey: 0 } };
    render(Workspace, { backend, session });
    await fireEvent.click(await screen.findByTestId('filter-mine'));
    await waitFor(() => expect(backend.calls).toContain('chatList:mine'));
    expect((await screen.findAllByTestId('chat-row')).length).toBe(1);
    const before = backend.calls.filter((c) => c === 'chatList:mine').length;
    backend.fireStoreChanged();
    await waitFor(() => expect(backend.calls.filter((c) => c === 'chatList:mine').length).toBe(before + 1));
  });

  it('holds only the rows on screen and asks for the window scrolled to', async () => {
    const backend = new MockBackend();
    const chats = Array.from({ length: 5000 }, (_, i) => row(`c${i}`, i % 7 === 0 ? 'red' : null, 1, `Client ${i}`));
    backend.lists.all = { chats, counters: { red: 715, grey: 0 } };
    render(Workspace, { backend, session });
    await screen.findAllByTestId('chat-row');
    const list = screen.getByTestId('chat-list');
    expect(list.dataset.total).toBe('5000');
    const rows = () => screen.getAllByTestId('chat-row');
    const top = () => rows()[0]!;
    expect(rows().length).toBeLessThan(60);
    expect(top().dataset.chatId).toBe('c0');
    list.scrollTop = 84 * 3000;
    await fireEvent.scroll(list);
    await waitFor(() => expect(top().dataset.chatId).toBe('c2990'));
    expect(rows().length).toBeLessThan(60);
    // Each row stands where the whole list would put it.
    expect(top().parentElement?.style.top).toBe(`${84 * 2990}px`);
    expect(top().parentElement?.getAttribute('aria-posinset')).toBe('2991');
  });

  it('shows the open chat even when it is outside the list\'s window', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.lists.all = { chats: Array.from({ length: 5000 }, (_, i) => row(`c${i}`, 'red', 1, `Client ${i}`)), counters: { red: 5000, grey: 0 } };
    render(Workspace, { backend, session });
    await fireEvent.click((await screen.findAllByTestId('chat-row'))[0]!);
    await screen.findByRole('heading', { name: 'Client 0' });
    const list = screen.getByTestId('chat-list');
    list.scrollTop = 84 * 3000;
    await fireEvent.scroll(list);
    await waitFor(() => expect(screen.queryByText('Client 1')).toBeNull());
    const asked = backend.calls.filter((c) => c === 'chatRow:c0').length;
    backend.fireStoreChanged();
    await waitFor(() => expect(backend.calls.filter((c) => c === 'chatRow:c0').length).toBe(asked + 1));
    expect(screen.getByRole('heading', { name: 'Client 0' })).toBeTruthy();
  });

  it('asks again only for what a store change names', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.lists.all = { chats: [row('a', 'red', 2, 'Irina'), row('b', 'grey', 1, 'Pavel')], counters: { red: 1, grey: 1 } };
    render(Workspace, { backend, session });
    await fireEvent.click((await screen.findAllByTestId('chat-row'))[0]!);
    await screen.findByRole('heading', { name: 'Irina' });
    await waitFor(() => expect(backend.calls).toContain('chatCrm:a'));
    const count = (call: string) => backend.calls.filter((c) => c === call).length;
    const before = { list: count('chatList:all'), row: count('chatRow:a'), messages: count('chatMessages:a'), crm: count('chatCrm:a') };
    // Another chat got a message: the list asks again; the open chat asks nothing.
    backend.fireStoreChanged({ list: true, chats: ['b'], messages: ['b'] });
    await waitFor(() => expect(count('chatList:all')).toBe(before.list + 1));
    expect(count('chatRow:a')).toBe(before.row);
    expect(count('chatMessages:a')).toBe(before.messages);
    expect(count('chatCrm:a')).toBe(before.crm);
    // The open chat got one: its row, messages and CRM panel are asked again.
    backend.fireStoreChanged({ list: true, chats: ['a'], messages: ['a'] });
    await waitFor(() => expect(count('chatMessages:a')).toBe(before.messages + 1));
    await waitFor(() => expect(count('chatRow:a')).toBe(before.row + 1));
    await waitFor(() => expect(count('chatCrm:a')).toBe(before.crm + 1));
    // A sync page (the progress moved): nothing of the open chat is asked again.
    backend.fireStoreChanged({ session: false, list: true, chats: ['z'] });
    await waitFor(() => expect(count('chatList:all')).toBe(before.list + 3));
    expect(count('chatCrm:a')).toBe(before.crm + 1);
    expect(count('chatMessages:a')).toBe(before.messages + 1);
  });

  it('shows how far a first sync has come', async () => {
    const backend = new MockBackend();
    render(Workspace, { backend, session: { ...session, sync_progress: { chats: 2100, total: 100000 } } });
    const progress = await screen.findByTestId('sync-progress');
    expect(progress.dataset.chats).toBe('2100');
    expect(progress.dataset.total).toBe('100000');
    expect(progress.querySelector('progress')?.value).toBe(2100);
  });

  it('paints the newest answer while scrolling fast, never an older window', async () => {
    const backend = new MockBackend();
    backend.lists.all = { chats: Array.from({ length: 5000 }, (_, i) => row(`c${i}`, null, 0, `Client ${i}`)), counters: { red: 0, grey: 0 } };
    // Every answer is slow; scrolling goes on faster than they come.
    const inner = backend.chatList.bind(backend);
    backend.chatList = async (f, offset, limit) => {
      await new Promise((r) => setTimeout(r, 30));
      return inner(f, offset, limit);
    };
    render(Workspace, { backend, session });
    await screen.findAllByTestId('chat-row');
    const list = screen.getByTestId('chat-list');
    const seen: string[] = [];
    for (let step = 1; step <= 10; step++) {
      list.scrollTop = 84 * 300 * step;
      await fireEvent.scroll(list);
      await new Promise((r) => setTimeout(r, 15));
      seen.push(screen.getAllByTestId('chat-row')[0]!.dataset.chatId!);
    }
    const firsts = seen.map((id) => Number(id.slice(1)));
    expect(firsts.some((n) => n > 0), 'windows are painted while scrolling').toBe(true);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    await waitFor(() => expect(screen.getAllByTestId('chat-row')[0]!.dataset.chatId).toBe('c2990'));
  });

  it('shows a chat\'s draft in its row instead of the last message', async () => {
    const backend = new MockBackend();
    backend.lists.all.chats = [{ ...row('a', 'red', 1, 'Irina'), draft: 'Счёт <b>готов</b>' }, row('b', null, 0, 'Oleg')];
    render(Workspace, { backend, session });
    const preview = await screen.findByTestId('draft-preview');
    expect(preview.textContent).toBe('Draft: Счёт <b>готов</b>');
    expect(preview.querySelector('b')).toBeNull();
  });

  it('walks the chats waiting for my answer with Alt+↓ / Alt+↑, lists the shortcuts, and Esc closes', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.lists.all.chats = [row('a', 'red', 1, 'Irina'), row('b', null, 0, 'Oleg'), row('c', 'red', 2, 'Pavel')];
    backend.waiting = ['a', 'c'];
    render(Workspace, { backend, session });
    await screen.findAllByTestId('chat-row');
    const title = () => document.querySelector('[data-testid=conversation] h2')?.textContent;
    await fireEvent.keyDown(window, { key: 'ArrowDown', altKey: true });
    await waitFor(() => expect(title()).toBe('Irina'));
    await fireEvent.keyDown(window, { key: 'ArrowDown', altKey: true });
    await waitFor(() => expect(title()).toBe('Pavel'));
    await fireEvent.keyDown(window, { key: 'ArrowUp', altKey: true });
    await waitFor(() => expect(title()).toBe('Irina'));
    expect(backend.calls.filter((c) => c.startsWith('nextWaiting'))).toEqual(['nextWaiting:null:true', 'nextWaiting:a:true', 'nextWaiting:c:false']);
    await fireEvent.keyDown(window, { key: '.', code: 'Slash', ctrlKey: true });
    const list = await screen.findByTestId('shortcuts');
    expect(list.textContent).toContain('Next chat waiting for my answer');
    await fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('shortcuts')).toBeNull());
    // Typing a question mark in the reply is text, not the shortcuts.
    await fireEvent.keyDown(await screen.findByTestId('reply'), { key: '?' });
    expect(screen.queryByTestId('shortcuts')).toBeNull();
  });

  it('jumps to a chat or runs an action from Ctrl+K, all by keyboard', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.lists.all.chats = [row('a', 'red', 1, 'Irina'), row('b', null, 0, 'Oleg')];
    backend.jumps['ol'] = [row('b', null, 0, 'Oleg <b>')];
    render(Workspace, { backend, session });
    await screen.findAllByTestId('chat-row');
    await fireEvent.keyDown(window, { key: 'л', code: 'KeyK', ctrlKey: true });
    const input = (await screen.findByTestId('jump-input')) as HTMLInputElement;
    await waitFor(() => expect(document.activeElement).toBe(input));
    // Before anything is typed: the actions; a name typed: the chats Rust found, as text.
    expect(screen.getAllByTestId('jump-action').map((a) => a.dataset.action)).toContain('settings');
    await fireEvent.input(input, { target: { value: 'ol' } });
    const found = await screen.findByTestId('jump-chat');
    expect(found.textContent).toContain('Oleg <b>');
    expect(found.querySelector('b')).toBeNull();
    expect(found.getAttribute('aria-selected')).toBe('true');
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(screen.queryByTestId('jump')).toBeNull());
    await waitFor(() => expect(document.querySelector('[data-testid=conversation] h2')?.textContent).toBe('Oleg'));
    // An action, picked with the arrows.
    await fireEvent.keyDown(window, { key: 'k', code: 'KeyK', ctrlKey: true });
    const again = (await screen.findByTestId('jump-input')) as HTMLInputElement;
    await fireEvent.input(again, { target: { value: 'e' } });
    const names = () => screen.getAllByTestId('jump-action').map((a) => a.dataset.action);
    // Oleg's chat is open and answered: it can be marked as unanswered from here too.
    await waitFor(() => expect(names()).toEqual(['new', 'search', 'unanswered', 'settings', 'employees', 'shortcuts']));
    for (const key of ['ArrowDown', 'ArrowDown', 'ArrowUp', 'ArrowDown', 'ArrowDown']) await fireEvent.keyDown(again, { key });
    await fireEvent.keyDown(again, { key: 'Enter' });
    expect(await screen.findByTestId('settings')).toBeTruthy();
    // Nothing matches: said; Esc closes and the window's Esc does not also run.
    await fireEvent.keyDown(window, { key: 'k', code: 'KeyK', ctrlKey: true });
    const third = (await screen.findByTestId('jump-input')) as HTMLInputElement;
    await fireEvent.input(third, { target: { value: 'zzz' } });
    expect(await screen.findByTestId('jump-nothing')).toBeTruthy();
    await fireEvent.keyDown(third, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('jump')).toBeNull());
    expect(screen.getByTestId('settings')).toBeTruthy();
    // Do not disturb, where no tray may offer it: on from Ctrl+K, said in the sidebar, off there.
    expect(screen.queryByTestId('dnd-on')).toBeNull();
    await fireEvent.keyDown(window, { key: 'k', code: 'KeyK', ctrlKey: true });
    const fourth = (await screen.findByTestId('jump-input')) as HTMLInputElement;
    await fireEvent.input(fourth, { target: { value: 'disturb' } });
    await waitFor(() => expect(screen.getAllByTestId('jump-action').map((a) => a.dataset.action)).toEqual(['dnd']));
    await fireEvent.keyDown(fourth, { key: 'Enter' });
    await fireEvent.click(await screen.findByTestId('dnd-on'));
    await waitFor(() => expect(screen.queryByTestId('dnd-on')).toBeNull());
    expect(backend.calls.filter((c) => c.startsWith('setDoNotDisturb'))).toEqual(['setDoNotDisturb:true', 'setDoNotDisturb:false']);
  });

  it('finds a chat in Ctrl+K by its deal\'s title, from the CRM, after the chats found here', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.lists.all.chats = [row('a', 'red', 1, 'Irina'), row('b', null, 0, 'Oleg')];
    backend.jumps['кухня'] = [row('a', 'red', 1, 'Irina')];
    backend.crmJumps['кухня'] = [
      { chat: row('a', 'red', 1, 'Irina'), kind: 'deal', entity: 'Кухня' },
      { chat: row('b', null, 0, 'Oleg'), kind: 'deal', entity: 'Кухня из дуба' },
    ];
    render(Workspace, { backend, session });
    await screen.findAllByTestId('chat-row');
    await fireEvent.keyDown(window, { key: 'k', code: 'KeyK', ctrlKey: true });
    const input = (await screen.findByTestId('jump-input')) as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'кухня' } });
    // Irina by her name here; Oleg by his deal's title (Irina's deal is not listed twice).
    await waitFor(() => expect(screen.getAllByTestId('jump-chat')).toHaveLength(2));
    const rows = screen.getAllByTestId('jump-chat');
    expect(rows.map((r) => r.dataset.viaCrm)).toEqual(['false', 'true']);
    expect(rows[1]?.textContent).toContain('deal «Кухня из дуба» · WhatsApp');
    await fireEvent.keyDown(input, { key: 'ArrowDown' });
    await fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(document.querySelector('[data-testid=conversation] h2')?.textContent).toBe('Oleg'));
  });

  it('marks an answered chat as unanswered from its header', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.lists.all.chats = [row('a', null, 0, 'Irina')];
    render(Workspace, { backend, session });
    await fireEvent.click((await screen.findAllByTestId('chat-row'))[0]!);
    expect(screen.queryByTestId('mark-answered')).toBeNull();
    await fireEvent.click(await screen.findByTestId('mark-unanswered'));
    await waitFor(() => expect(backend.calls).toContain('markUnanswered:a'));
  });

  it('sends with Enter, or with Ctrl+Enter once the settings say so (Enter is then a new line)', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.lists.all.chats = [row('a', 'red', 1, 'Irina')];
    render(Workspace, { backend, session });
    await fireEvent.click((await screen.findAllByTestId('chat-row'))[0]!);
    const reply = (await screen.findByTestId('reply')) as HTMLTextAreaElement;
    await fireEvent.input(reply, { target: { value: 'one' } });
    await fireEvent.keyDown(reply, { key: 'Enter' });
    await waitFor(() => expect(backend.calls).toContain('sendReply:a:one'));
    // The settings turn Ctrl+Enter on: the open composer takes it at once.
    await fireEvent.click(screen.getByTestId('open-settings'));
    await fireEvent.click(await screen.findByTestId('pref-ctrl-enter'));
    await waitFor(() => expect(backend.calls).toContain('setDesktopPrefs:false:false:true'));
    await fireEvent.keyDown(window, { key: 'Escape' });
    await fireEvent.click((await screen.findAllByTestId('chat-row'))[0]!);
    const again = (await screen.findByTestId('reply')) as HTMLTextAreaElement;
    await fireEvent.input(again, { target: { value: 'two' } });
    await fireEvent.keyDown(again, { key: 'Enter' });
    expect(backend.calls).not.toContain('sendReply:a:two');
    await fireEvent.keyDown(again, { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(backend.calls).toContain('sendReply:a:two'));
    await fireEvent.keyDown(window, { key: '/', code: 'Slash', ctrlKey: true });
    expect((await screen.findByTestId('shortcuts')).textContent).toContain('Ctrl+Enter');
  });

  it('searches messages, groups what it found by chat with the matches marked as text, and opens the message', async () => {
    Element.prototype.scrollTo = () => {};
    Element.prototype.scrollIntoView = () => {};
    const backend = new MockBackend();
    backend.lists.all.chats = [row('a', 'red', 1, 'Irina'), row('b', null, 0, 'Oleg')];
    const hit = (chat: string, title: string, id: string, parts: [string, boolean][], remote = false) => ({
      chat, title, message_id: id, at: remote ? '2024-03-01T10:00:00.000Z' : '2026-11-25T10:00:00.000Z', parts: parts.map(([text, hit]) => ({ text, hit })), remote,
    });
    backend.found = { short: false, partial: false, chats: [row('b', null, 0, 'Oleg')], hits: [
      hit('a', 'Irina', 'm2', [['Выставлен ', false], ['<b>счёт</b>', true]]),
      hit('b', 'Oleg', 'm9', [['Счета', true], [' за ноябрь', false]]),
      hit('a', 'Irina', 'm1', [['старый ', false], ['счет', true]]),
    ] };
    // The hub finds an older one this desktop does not hold: it comes after, as the oldest.
    backend.history['счет'] = [hit('b', 'Oleg', 'm0', [['давний ', false], ['счет', true]], true)];
    const base = { direction: 'in' as const, at: '2026-11-25T10:00:00.000Z', status: 'inbound' as const, error: null, error_code: null, error_owner: null, mirror: { state: 'none' as const, reason: null, error: null }, kind: 'text' as const, media: null, place: null, local: false };
    backend.messages = [{ ...base, id: 'm1', text: 'старый счет' }, { ...base, id: 'm2', text: 'Выставлен счёт' }];
    backend.searchChannelList = [wa];
    render(Workspace, { backend, session });
    await screen.findAllByTestId('chat-row');
    await fireEvent.keyDown(window, { key: 'а', code: 'KeyF', ctrlKey: true });
    const field = screen.getByTestId('search') as HTMLInputElement;
    expect(document.activeElement).toBe(field);
    // Each keystroke asks this desktop at once; the hub only once typing pauses.
    for (const typed of ['сч', 'сче', 'счет']) {
      await fireEvent.input(field, { target: { value: typed } });
      expect(backend.calls).toContain(`search:${typed}`);
    }
    await waitFor(() => expect(screen.getAllByTestId('search-hit').length).toBe(4));
    expect(screen.getByTestId('search-results').dataset.query).toBe('счет');
    expect(backend.calls.filter((c) => c.startsWith('searchHistory'))).toEqual(['searchHistory:счет']);
    const titles = [...document.querySelectorAll('.found-chat h3')].map((h) => h.textContent);
    expect(titles).toEqual(['Chats with this number', 'Irina', 'Oleg']);
    const marks = [...document.querySelectorAll('[data-testid=search-hit] mark')].map((m) => m.textContent);
    expect(marks).toEqual(['<b>счёт</b>', 'счет', 'Счета', 'счет']);
    const remote = screen.getAllByTestId('search-hit').filter((h) => h.dataset.remote === 'true');
    expect(remote.map((h) => h.dataset.messageId)).toEqual(['m0']);
    expect(document.querySelector('[data-testid=search-hit] b')).toBeNull();
    // A number typed finds its chats too, above the messages.
    expect(screen.getByTestId('search-chat').textContent).toContain('Oleg');
    // Filters: a channel, my chats, a period — each asks again with what it keeps to.
    const channel = screen.getByTestId('search-channel') as HTMLSelectElement;
    await waitFor(() => expect([...channel.options].map((o) => o.textContent)).toEqual(['All channels', 'WhatsApp · sales']));
    await fireEvent.change(channel, { target: { value: 'wa' } });
    await waitFor(() => expect(backend.calls).toContain('search:счет:{"channel":"wa","mine":false,"period":"any"}'));
    await fireEvent.click(screen.getByTestId('search-mine'));
    await fireEvent.change(screen.getByTestId('search-period'), { target: { value: 'week' } });
    await waitFor(() => expect(backend.calls).toContain('search:счет:{"channel":"wa","mine":true,"period":"week"}'));
    // Enter opens the newest; the conversation marks the message found.
    await fireEvent.keyDown(field, { key: 'Enter' });
    await waitFor(() => expect(document.querySelector('.message.focused')?.getAttribute('data-message-id')).toBe('m2'));
    // The hub's hit (asked again once the filters stopped changing): its history is fetched
    // first, then it opens.
    const remoteHit = () => screen.getAllByTestId('search-hit').filter((h) => h.dataset.remote === 'true')[0];
    await waitFor(() => expect(remoteHit()).toBeDefined());
    await fireEvent.click(remoteHit() as HTMLElement);
    await waitFor(() => expect(backend.calls).toContain('historyTo:b:m0'));
    // Esc in the field clears it: the list is back.
    await fireEvent.keyDown(field, { key: 'Escape' });
    await screen.findAllByTestId('chat-row');
    // An answer still on its way when the field is cleared is dropped, not shown.
    let answer = () => {};
    backend.searchHeld = new Promise((resolve) => (answer = resolve));
    await fireEvent.input(field, { target: { value: 'доставка' } });
    expect(backend.calls.some((c) => c.startsWith('search:доставка'))).toBe(true);
    await fireEvent.input(field, { target: { value: '' } });
    answer();
    await backend.searchHeld;
    await new Promise((r) => setTimeout(r));
    expect(screen.queryByTestId('search-results')).toBeNull();
    expect(screen.queryAllByTestId('search-hit')).toHaveLength(0);
  });

  it('renders client text as text, never as HTML', async () => {
    const backend = new MockBackend();
    backend.lists.all = { chats: [row('x', 'red', 1, '<img src=x onerror=alert(1)>')], counters: { red: 1, grey: 0 } };
    render(Workspace, { backend, session });
    const title = await screen.findByTestId('chat-title');
    expect(title.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(document.querySelector('img')).toBeNull();
  });
});

describe('i18n', () => {
  it('speaks Russian when the system does, English otherwise', () => {
    expect(pickLocale(['ru-RU', 'en-US'])).toBe('ru');
    expect(pickLocale(['en-GB'])).toBe('en');
    expect(pickLocale([])).toBe('en');
    expect(translator('ru')('filterMine')).toBe('Мне ответить');
    expect(translator('en')('filterMine')).toBe('Mine to answer');
  });
});

describe('SettingsView', () => {
  const settings = { save_to_crm_timeline: true, eight_as_plus7: true, notify_supervisors_all: false, escalate_after_minutes: null, sellers_may_transfer: false };

  it('lets a supervisor flip "notify supervisors about all messages"', async () => {
    const backend = new MockBackend();
    render(SettingsView, { backend, session: { ...session, settings }, onclose: () => {} });
    const box = (await screen.findByTestId('setting-notify-supervisors-all')) as HTMLInputElement;
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await waitFor(() => expect(backend.calls).toContain('updateSetting:{"field":"notify_supervisors_all","value":true}'));
  });

  it('starts with the session only when asked, and says why there is no tray icon where there is none', async () => {
    const backend = new MockBackend();
    render(SettingsView, { backend, session: { ...session, settings }, onclose: () => {} });
    const autostart = (await screen.findByTestId('pref-autostart')) as HTMLInputElement;
    expect(autostart.checked).toBe(false);
    const hidden = screen.getByTestId('pref-start-hidden') as HTMLInputElement;
    expect(hidden.disabled).toBe(true);
    await fireEvent.click(autostart);
    await waitFor(() => expect(backend.calls).toContain('setDesktopPrefs:true:false:false'));
    await waitFor(() => expect(hidden.disabled).toBe(false));
    await fireEvent.click(hidden);
    await waitFor(() => expect(backend.calls).toContain('setDesktopPrefs:true:true:false'));
    expect(screen.queryByTestId('no-tray')).toBeNull();
    cleanup();
    const trayless = new MockBackend();
    trayless.prefs = { tray_icon: false, autostart: false, start_hidden: false, send_with_ctrl_enter: false, do_not_disturb: false };
    render(SettingsView, { backend: trayless, session: { ...session, settings }, onclose: () => {} });
    expect((await screen.findByTestId('no-tray')).textContent).toContain('minimizes');
    expect(screen.queryByTestId('pref-start-hidden')).toBeNull();
  });

  it('lets a supervisor keep the workspace\'s quick replies and name the company; a seller keeps only their own', async () => {
    const backend = new MockBackend();
    backend.replies = {
      company: 'Romashka',
      can_manage: true,
      replies: [
        { id: 'w1', title: 'Greeting', text: 'Hello {client}', personal: false },
        { id: 'p1', title: 'Mine', text: 'Mine', personal: true },
      ],
    };
    const view = render(SettingsView, { backend, session: { ...session, settings }, onclose: () => {} });
    await waitFor(() => expect(screen.getAllByTestId('quick-reply')).toHaveLength(2));
    expect((screen.getByTestId('company-name') as HTMLInputElement).value).toBe('Romashka');
    await fireEvent.click(screen.getByTestId('add-reply'));
    expect((screen.getByTestId('reply-for-everyone') as HTMLInputElement).checked).toBe(true);
    await fireEvent.input(screen.getByTestId('reply-title'), { target: { value: 'Bye' } });
    await fireEvent.input(screen.getByTestId('reply-text'), { target: { value: 'Bye, {client}' } });
    await fireEvent.click(screen.getByTestId('save-reply'));
    await waitFor(() => expect(backend.calls).toContain('saveQuickReply:null:Bye:Bye, {client}:false'));
    // Delete asks first (a workspace reply goes for everyone); Cancel keeps it.
    await fireEvent.click(screen.getAllByTestId('delete-reply')[0] as HTMLElement);
    expect(screen.getByTestId('delete-reply-confirm').textContent).toContain('for everyone');
    expect(document.activeElement).toBe(screen.getByTestId('delete-reply-yes'));
    await fireEvent.click(screen.getByTestId('delete-reply-no'));
    expect(screen.queryByTestId('delete-reply-confirm')).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(screen.getAllByTestId('delete-reply')[0]));
    // Esc answers no as well.
    await fireEvent.click(screen.getAllByTestId('delete-reply')[0] as HTMLElement);
    await fireEvent.keyDown(screen.getByTestId('delete-reply-yes'), { key: 'Escape' });
    expect(screen.queryByTestId('delete-reply-confirm')).toBeNull();
    expect(backend.calls.some((c) => c.startsWith('deleteQuickReply'))).toBe(false);
    await fireEvent.click(screen.getAllByTestId('delete-reply')[0] as HTMLElement);
    await fireEvent.click(screen.getByTestId('delete-reply-yes'));
    await waitFor(() => expect(backend.calls).toContain('deleteQuickReply:w1'));
    view.unmount();
    backend.replies = { ...backend.replies, can_manage: false };
    render(SettingsView, { backend, session: { ...session, settings }, onclose: () => {} });
    await waitFor(() => expect(screen.getAllByTestId('quick-reply')).toHaveLength(2));
    expect(screen.queryByTestId('company-name')).toBeNull();
    // The workspace's are not a seller's to change: only their own has Delete.
    expect(screen.getAllByTestId('delete-reply')).toHaveLength(1);
    await fireEvent.click(screen.getByTestId('add-reply'));
    expect(screen.queryByTestId('reply-for-everyone')).toBeNull();
    await fireEvent.input(screen.getByTestId('reply-title'), { target: { value: 'T' } });
    await fireEvent.input(screen.getByTestId('reply-text'), { target: { value: 'x' } });
    await fireEvent.click(screen.getByTestId('save-reply'));
    await waitFor(() => expect(backend.calls).toContain('saveQuickReply:null:T:x:true'));
  });

  it('shows a seller the settings read-only', async () => {
    const backend = new MockBackend();
    const seller = { ...session, settings, can_edit_settings: false, me: { id: 's', name: 'S', role: 'seller' as const } };
    render(SettingsView, { backend, session: seller, onclose: () => {} });
    const boxes = ['save-to-timeline', 'eight-as-plus7', 'notify-supervisors-all', 'sellers-may-transfer', 'escalate'];
    for (const id of boxes) expect(((await screen.findByTestId(`setting-${id}`)) as HTMLInputElement).disabled).toBe(true);
  });
});

const wa: ChannelVm = { id: 'wa', name: 'WhatsApp · sales', transport: 'whatsapp', state: 'active', usable: true, why: null };
const tg: ChannelVm = { id: 'tg', name: 'Telegram · bot', transport: 'telegram', state: 'active', usable: true, why: null };
const vb: ChannelVm = { id: 'vb', name: 'Viber', transport: 'viber', state: 'unauthorized', usable: false, why: 'unauthorized' };
const composed: ComposeVm = {
  channel_id: 'tg', reason: null, address: '+79164569812', display: '+7 916 456-98-12', channels: [wa, tg, vb],
};

describe('NewMessage', () => {
  it('says calmly that the CRM cannot be searched offline and still offers the typed number', async () => {
    const backend = new MockBackend();
    backend.searchError = { code: 'hub_unreachable', message: 'error sending request' };
    render(NewMessage, { backend, version: 0, onopen: () => {} });
    const search = screen.getByTestId('crm-search') as HTMLInputElement;
    await fireEvent.input(search, { target: { value: '+7 903 123-45-67' } });
    expect(await screen.findByTestId('crm-search-offline')).toBeTruthy();
    expect(document.querySelector('.error')).toBeNull();
    expect(screen.getByTestId('write-to-number')).toBeTruthy();
  });

  function withCard(backend: MockBackend) {
    backend.cards = [{
      kind: 'contact', id: '1', title: 'Ирина Соколова', closed: false,
      phones: [{ raw: '8 (916) 456-98-12', e164: '+79164569812', display: '+7 916 456-98-12', error: null }],
    }];
  }

  it('preselects the channel Rust chose and shows the number as read; another channel may be picked', async () => {
    const backend = new MockBackend();
    withCard(backend);
    backend.composeAnswers['8 (916) 456-98-12'] = composed;
    backend.sendResult = { key: 'k', chat: 'chat-1' };
    const opened: string[] = [];
    render(NewMessage, { backend, version: 0, onopen: (c: string) => opened.push(c) });
    await fireEvent.click(await screen.findByTestId('crm-card'));
    expect((await screen.findByTestId('compose-address')).textContent).toBe('+7 916 456-98-12');
    const select = screen.getByTestId('compose-channel') as HTMLSelectElement;
    expect(select.value).toBe('tg');
    // An unusable channel is listed but cannot be chosen.
    expect(Array.from(select.options).find((o) => o.value === 'vb')?.disabled).toBe(true);
    await fireEvent.change(select, { target: { value: 'wa' } });
    await fireEvent.input(screen.getByTestId('compose-text'), { target: { value: 'Здравствуйте' } });
    await fireEvent.click(screen.getByTestId('compose-send'));
    await waitFor(() => expect(backend.calls).toContain('sendFirst:wa:+79164569812:+7 916 456-98-12:Здравствуйте'));
    expect(opened).toEqual(['chat-1']);
  });

  it('preselects nothing and says why when the priority channel cannot send', async () => {
    const backend = new MockBackend();
    withCard(backend);
    backend.composeAnswers['8 (916) 456-98-12'] = { ...composed, channel_id: null, reason: 'unauthorized' };
    render(NewMessage, { backend, version: 0, onopen: () => {} });
    await fireEvent.click(await screen.findByTestId('crm-card'));
    const reason = await screen.findByTestId('compose-reason');
    expect(reason.dataset.reason).toBe('unauthorized');
    expect((screen.getByTestId('compose-channel') as HTMLSelectElement).value).toBe('');
    await fireEvent.input(screen.getByTestId('compose-text'), { target: { value: 'hi' } });
    expect((screen.getByTestId('compose-send') as HTMLButtonElement).disabled).toBe(true);
  });

  it('names the raw value of a number that cannot be read and keeps Send disabled', async () => {
    const backend = new MockBackend();
    render(NewMessage, { backend, version: 0, onopen: () => {} });
    await fireEvent.input(screen.getByTestId('crm-search'), { target: { value: '8 916 45' } });
    await fireEvent.click(await screen.findByTestId('write-to-number'));
    expect((await screen.findByTestId('compose-error')).textContent).toContain('"8 916 45"');
    expect((screen.getByTestId('compose-send') as HTMLButtonElement).disabled).toBe(true);
  });

  it('says the message waits when the hub has not taken it yet', async () => {
    const backend = new MockBackend();
    backend.composeAnswers['+79164569812'] = composed;
    render(NewMessage, { backend, version: 0, onopen: () => {} });
    await fireEvent.input(screen.getByTestId('crm-search'), { target: { value: '+79164569812' } });
    await fireEvent.click(await screen.findByTestId('write-to-number'));
    await screen.findByTestId('compose-address');
    await fireEvent.input(screen.getByTestId('compose-text'), { target: { value: 'hi' } });
    backend.pending = [{ key: 'k1', display: '+7 916 456-98-12', channel_name: 'Telegram · bot', text: 'hi', error: null, error_code: null, error_owner: null }];
    await fireEvent.click(screen.getByTestId('compose-send'));
    await screen.findByTestId('compose-info');
    expect((await screen.findAllByTestId('pending-first')).length).toBe(1);
  });
});

function employee(id: string, name: string, active = true): EmployeeRowVm {
  return { id, name, role: 'seller', receives_new_clients: true, priority_channel_id: 'tg', crm_user_id: null, active };
}

describe('EmployeesView', () => {
  it('changes a priority channel through Rust', async () => {
    const backend = new MockBackend();
    backend.staff = {
      employees: [employee('e1', 'Anna')],
      channels: [wa, tg, vb],
    };
    render(EmployeesView, { backend, version: 0, onclose: () => {} });
    const select = (await screen.findByTestId('employee-priority')) as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe('tg'));
    await fireEvent.change(select, { target: { value: 'wa' } });
    await waitFor(() => expect(backend.calls).toContain('updateEmployee:e1:{"field":"priority_channel_id","value":"wa"}'));
    await fireEvent.change(select, { target: { value: '' } });
    await waitFor(() => expect(backend.calls).toContain('updateEmployee:e1:{"field":"priority_channel_id","value":null}'));
  });

  it('deactivates only after a confirm that names the employee, greys them out, and reactivates at once', async () => {
    const backend = new MockBackend();
    backend.staff = { employees: [employee('e1', '<i>Anna</i>'), employee('e2', 'Boris')], channels: [wa, tg] };
    render(EmployeesView, { backend, version: 0, onclose: () => {} });
    const [anna] = (await screen.findAllByTestId('employee-active')) as HTMLInputElement[];
    await waitFor(() => expect(anna?.checked).toBe(true));
    await fireEvent.click(anna as HTMLInputElement);
    // Nothing happens before the yes; the switch stays on meanwhile.
    const confirm = await screen.findByTestId('deactivate-confirm');
    expect(confirm.textContent).toContain(tf('deactivateConfirm', { name: '<i>Anna</i>' }));
    expect(confirm.querySelector('i')).toBeNull();
    expect(anna?.checked).toBe(true);
    expect(backend.calls.some((c) => c.startsWith('setEmployeeActive'))).toBe(false);
    await fireEvent.click(screen.getByTestId('deactivate-no'));
    expect(screen.queryByTestId('deactivate-confirm')).toBeNull();
    expect(backend.calls.some((c) => c.startsWith('setEmployeeActive'))).toBe(false);

    await fireEvent.click(anna as HTMLInputElement);
    await fireEvent.click(await screen.findByTestId('deactivate-yes'));
    await waitFor(() => expect(backend.calls).toContain('setEmployeeActive:e1:false'));
    const row = await waitFor(() => {
      const r = screen.getAllByTestId('employee-row').find((x) => x.dataset.active === 'false');
      if (!r) throw new Error('not deactivated yet');
      return r;
    });
    expect(row.dataset.name).toBe('<i>Anna</i>');
    expect(row.classList.contains('inactive')).toBe(true);
    expect(row.querySelector('[data-testid="employee-deactivated"]')?.textContent).toBe(t('deactivated'));
    expect(screen.getAllByTestId('employee-deactivated')).toHaveLength(1);

    // Reactivating needs no confirm.
    await fireEvent.click(row.querySelector('[data-testid="employee-active"]') as HTMLInputElement);
    await waitFor(() => expect(backend.calls).toContain('setEmployeeActive:e1:true'));
    await waitFor(() => expect(screen.queryAllByTestId('employee-deactivated')).toHaveLength(0));
  });

  it('does not let a supervisor switch themselves off, and explains the hub\'s refusal', async () => {
    const backend = new MockBackend();
    backend.staff = { employees: [employee('me', 'Me'), employee('e2', 'Boris')], channels: [] };
    render(EmployeesView, { backend, version: 0, me: 'me', onclose: () => {} });
    const [mine, boris] = (await screen.findAllByTestId('employee-active')) as HTMLInputElement[];
    expect(mine?.disabled).toBe(true);
    expect(boris?.disabled).toBe(false);
    backend.activeError = { code: 'cannot_deactivate_self', message: 'you cannot deactivate yourself' };
    await fireEvent.click(boris as HTMLInputElement);
    await fireEvent.click(await screen.findByTestId('deactivate-yes'));
    expect((await screen.findByText(t('cannot_deactivate_self'))).className).toBe('error');
  });

  it('lists an employee\'s sign-ins and revokes one', async () => {
    const backend = new MockBackend();
    backend.staff = { employees: [employee('e1', 'Anna')], channels: [] };
    backend.tokens = {
      e1: [
        { id: 't1', created_at: '2026-11-25T10:00:00Z' },
        { id: 't2', created_at: '2026-11-26T09:30:00Z' },
      ],
    };
    render(EmployeesView, { backend, version: 0, onclose: () => {} });
    await fireEvent.click(await screen.findByTestId('employee-sign-ins'));
    await waitFor(() => expect(screen.getAllByTestId('sign-in')).toHaveLength(2));
    expect(backend.calls).toContain('employeeTokens:e1');
    await fireEvent.click(screen.getAllByTestId('revoke-token')[0] as HTMLButtonElement);
    await waitFor(() => expect(backend.calls).toContain('revokeToken:t1'));
    await waitFor(() => expect(screen.getAllByTestId('sign-in')).toHaveLength(1));
    await fireEvent.click(screen.getByTestId('revoke-token'));
    await waitFor(() => expect(backend.calls).toContain('revokeToken:t2'));
    expect(await screen.findByText(t('noSignIns'))).toBeTruthy();
  });
});

describe('Conversation', () => {
  it('fetches the history before the oldest message when scrolled to the top, until its beginning', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    const base = { direction: 'in' as const, at: '2026-11-25T10:00:00.000Z', status: 'inbound' as const, error: null, error_code: null, error_owner: null, mirror: { state: 'none' as const, reason: null, error: null }, kind: 'text' as const, media: null, place: null };
    backend.messages = [{ ...base, id: 'm5', text: 'five', local: false }, { ...base, id: 'k1', text: 'mine', local: true }];
    backend.older = [{ ...base, id: 'm4', text: 'four', local: false }];
    render(Conversation, { backend, chat: row('x', 'red', 1, 'Irina'), version: 0 });
    await screen.findByText('five');
    const list = document.querySelector('.messages') as HTMLElement;
    await fireEvent.scroll(list);
    await waitFor(() => expect(backend.calls).toContain('olderMessages:x:m5'));
    // The next scroll finds nothing older: the conversation says it begins here, and asks no more.
    await waitFor(() => expect(screen.queryByTestId('history-loading')).toBeNull());
    await fireEvent.scroll(list);
    await screen.findByTestId('history-start');
    await fireEvent.scroll(list);
    expect(backend.calls.filter((c) => c.startsWith('olderMessages:')).length).toBe(2);
  });

  it('shows a photo, a voice note, a document card, a missed call, and a file not kept yet', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    const base = { direction: 'in' as const, at: '2026-11-25T10:00:00.000Z', status: 'inbound' as const, error: null, error_code: null, error_owner: null, mirror: { state: 'none' as const, reason: null, error: null }, local: false, place: null };
    const file = (id: string, mime: string, name: string, size: number) => ({ state: 'stored' as const, name, mime, size, error: null, url: `media://localhost/${id}`, inline: mime !== 'application/pdf', duration: null, contact: null });
    backend.messages = [
      { ...base, id: 'p', text: 'the invoice', kind: 'image', media: file('p', 'image/png', 'photo.png', 25376) },
      { ...base, id: 'v', text: '', kind: 'audio', media: { ...file('v', 'audio/x-wav', 'voice.wav', 96044), duration: '0:03' } },
      { ...base, id: 'k', text: '', kind: 'vcard', media: { ...file('k', 'text/vcard', 'contact.vcf', 295), inline: false,
        contact: { name: '<i>Мария</i> Соколова', organization: 'ООО «Вектор»', phones: ['+7 916 555-01-23'], emails: ['m@vector.example'] } } },
      { ...base, id: 'g', text: 'Склад на Петровке', kind: 'geo', media: null, place: { coordinates: '55.760186, 37.618711', name: 'Склад на Петровке' } },
      { ...base, id: 'd', text: '', kind: 'document', media: file('d', 'application/pdf', '<b>invoice-42</b>.pdf', 1462) },
      { ...base, id: 'c', text: '', kind: 'missing_call', media: null },
      { ...base, id: 'w', text: '', kind: 'video', media: { state: 'pending', name: null, mime: null, size: null, error: null, url: null, inline: false, duration: null, contact: null } },
    ];
    render(Conversation, { backend, chat: row('x', 'red', 1, 'Irina'), version: 0 });
    const img = await screen.findByTestId('media-image');
    expect(img.getAttribute('src')).toBe('media://localhost/p');
    // A click shows it full size over the conversation; Esc closes it.
    await fireEvent.click(screen.getByTestId('media-zoom'));
    const big = await screen.findByTestId('media-zoomed');
    expect(big.querySelector('img')?.getAttribute('src')).toBe('media://localhost/p');
    await fireEvent.keyDown(big, { key: 'Escape' });
    expect(screen.queryByTestId('media-zoomed')).toBeNull();
    expect(screen.getByText('the invoice')).toBeTruthy();
    expect(screen.getByTestId('media-audio').getAttribute('data-src')).toBe('media://localhost/v');
    expect(screen.getByTestId('media-duration').textContent).toBe('0:03');
    // A contact reads as who it is and how to reach them, as text.
    const contact = screen.getByTestId('contact-card');
    expect(contact.textContent).toContain('<i>Мария</i> Соколова');
    expect(contact.querySelector('i')).toBeNull();
    expect(screen.getByTestId('contact-phone').textContent).toBe('+7 916 555-01-23');
    // A location reads as its place and coordinates (its text is the place's name: said once).
    expect(screen.getByTestId('place').textContent).toContain('Склад на Петровке');
    expect(screen.getByTestId('place-coordinates').textContent).toBe('55.760186, 37.618711');
    expect(screen.getAllByText('Склад на Петровке').length).toBe(1);
    const cards = screen.getAllByTestId('media-file');
    // The name is text, never markup.
    expect(cards[0]?.textContent).toContain('<b>invoice-42</b>.pdf');
    expect(cards[0]?.textContent).toContain('1.4 KB');
    expect(cards[0]?.querySelector('b')).toBeNull();
    expect(screen.getByTestId('missed-call').textContent).toBe('Missed call');
    expect(cards[1]?.textContent).toContain('Receiving the file');
    // A document opens in the system's app for it.
    await fireEvent.click(cards[0]?.querySelector('[data-testid=media-open]') as HTMLElement);
    await waitFor(() => expect(backend.calls).toContain('openMedia:d'));
    // A contact opens in the system's contacts app too.
    await fireEvent.click(contact.querySelector('[data-testid=media-open]') as HTMLElement);
    await waitFor(() => expect(backend.calls).toContain('openMedia:k'));
  });

  it('sends picked, dropped and pasted files before the caption; says why one cannot go; shows an upload\'s progress', async () => {
    Element.prototype.scrollTo = () => {};
    URL.createObjectURL = () => 'blob:preview';
    URL.revokeObjectURL = () => {};
    const backend = new MockBackend();
    backend.fileRefusals['tool.exe'] = { code: 'file_wrong_type', limit: null, mime: 'application/x-msdownload', kind: null, transport: null };
    const base = { direction: 'out' as const, at: '2026-11-25T10:00:00.000Z', error: null, error_code: null, error_owner: null, mirror: { state: 'none' as const, reason: null, error: null }, place: null };
    backend.messages = [{ ...base, id: 'key-1', text: '', status: 'pending', local: true, kind: 'document',
      media: { state: 'pending', name: 'contract.pdf', mime: 'application/pdf', size: 4096, error: null, url: 'media://localhost/key-1', inline: false, duration: null, contact: null } }];
    render(Conversation, { backend, chat: row('x', 'red', 1, 'Irina'), version: 0 });
    await screen.findByText('Sending the file…');
    backend.fireUploadProgress({ key: 'key-1', sent: 1024, total: 4096 });
    const bar = (await screen.findByTestId('upload-progress')) as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([1024, 4096]);
    // Picked with the button's file input, dropped, pasted.
    const photo = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], 'photo.png', { type: 'image/png' });
    const exe = new File([new Uint8Array([0x4d, 0x5a])], 'tool.exe', { type: 'application/x-msdownload' });
    const big = new File([new Uint8Array(8)], 'film.mp4', { type: 'video/mp4' });
    Object.defineProperty(big, 'size', { value: 11 * 1024 * 1024 });
    const input = screen.getByTestId('attach-input') as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [photo], configurable: true });
    await fireEvent.change(input);
    await fireEvent.drop(screen.getByTestId('conversation'), { dataTransfer: { files: [exe, big], types: ['Files'] } });
    const shot = new File([new Uint8Array([1, 2, 3])], 'image.png', { type: 'image/png' });
    await fireEvent.paste(screen.getByTestId('reply'), { clipboardData: { files: [shot], types: ['Files'] } });
    // The same file again is still one file; a picture copied with text pastes as the text.
    await fireEvent.change(input);
    await fireEvent.paste(screen.getByTestId('reply'), { clipboardData: { files: [shot], types: ['text/plain', 'Files'] } });
    await waitFor(() => expect(screen.getAllByTestId('attached-file').length).toBe(4));
    // Too big is said before a byte is read, with the channel's limit.
    const refusal = await screen.findByTestId('file-refusal');
    expect(refusal.getAttribute('data-code')).toBe('file_too_big');
    expect(refusal.textContent).toBe('Too large for WhatsApp: at most 10 MB');
    await fireEvent.input(screen.getByTestId('reply'), { target: { value: 'the signed copy' } });
    await fireEvent.click(screen.getByTestId('send'));
    await waitFor(() => expect(backend.calls.filter((c) => c.startsWith('attachFile:')).length).toBe(3));
    const order = backend.calls.filter((c) => c.startsWith('attachFile:') || c.startsWith('sendReply:'));
    expect(order).toEqual(['attachFile:x:photo.png:4', 'attachFile:x:tool.exe:2', 'attachFile:x:image.png:3']);
    expect([...(backend.attached[0]?.bytes ?? [])]).toEqual([0x89, 0x50, 0x4e, 0x47]);
    // What could not go stays, with why; what went left the tray; the caption waits with them.
    const left = screen.getAllByTestId('attached-file').map((li) => li.querySelector('.file-name')?.textContent);
    expect(left).toEqual(['tool.exe', 'film.mp4']);
    expect(screen.getAllByTestId('file-refusal').map((r) => r.getAttribute('data-code'))).toEqual(['file_wrong_type', 'file_too_big']);
    expect((screen.getByTestId('reply') as HTMLTextAreaElement).value).toBe('the signed copy');
    // Without them, the caption goes.
    for (const remove of screen.getAllByLabelText(/^Remove: /)) await fireEvent.click(remove);
    await fireEvent.click(screen.getByTestId('send'));
    await waitFor(() => expect(backend.calls).toContain('sendReply:x:the signed copy'));
  });

  it('keeps what is being written as the chat\'s draft: after a pause, on switching chats, and restores each chat\'s own', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    const irina = { ...row('dx', 'red', 1, 'Irina'), draft: 'Добрый день, счёт' };
    const view = render(Conversation, { backend, chat: irina, version: 0 });
    const reply = (await screen.findByTestId('reply')) as HTMLTextAreaElement;
    expect(reply.value).toBe('Добрый день, счёт');
    await fireEvent.input(reply, { target: { value: 'Добрый день, счёт готов' } });
    expect(backend.calls.filter((c) => c.startsWith('setDraft'))).toEqual([]);
    await waitFor(() => expect(backend.calls).toContain('setDraft:dx:Добрый день, счёт готов'), { timeout: 2000 });
    // Typing on and switching at once: the text is kept for the chat it was typed in.
    await fireEvent.input(reply, { target: { value: 'Добрый день, счёт готов!' } });
    await view.rerender({ backend, chat: { ...row('dy', null, 0, 'Oleg'), draft: null }, version: 0 });
    expect(backend.calls).toContain('setDraft:dx:Добрый день, счёт готов!');
    expect(((await screen.findByTestId('reply')) as HTMLTextAreaElement).value).toBe('');
    // Sent: the field empties (Rust drops the draft with the send), and so does the kept draft.
    await fireEvent.input(screen.getByTestId('reply'), { target: { value: 'hello' } });
    await fireEvent.click(screen.getByTestId('send'));
    await waitFor(() => expect(backend.calls).toContain('sendReply:dy:hello'));
    expect(((await screen.findByTestId('reply')) as HTMLTextAreaElement).value).toBe('');
    await waitFor(() => expect(backend.calls).toContain('setDraft:dy:'));
    // Back to the first chat: what was typed there is there, though its row is older.
    await view.rerender({ backend, chat: { ...irina }, version: 0 });
    expect(((await screen.findByTestId('reply')) as HTMLTextAreaElement).value).toBe('Добрый день, счёт готов!');
  });

  it('opens quick replies with / at a line\'s start, inserts one written for the chat, marks what is left and holds Send', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.replies = {
      company: null,
      can_manage: false,
      replies: [
        { id: 'r1', title: 'Greeting', text: 'Hello {client}!', personal: false },
        { id: 'r2', title: 'Invoice', text: 'Invoice for {deal}, {client}', personal: true },
      ],
    };
    backend.filled = { r2: { text: 'Invoice for {deal}, Irina', holes: [{ start: 12, end: 18, variable: 'deal' }] } };
    render(Conversation, { backend, chat: row('x', 'red', 1, 'Irina'), version: 0 });
    const reply = (await screen.findByTestId('reply')) as HTMLTextAreaElement;
    // A slash in the middle of a line is text.
    await fireEvent.input(reply, { target: { value: 'and/or' } });
    expect(screen.queryByTestId('reply-picker')).toBeNull();
    await fireEvent.input(reply, { target: { value: 'Hi\n/' } });
    await waitFor(() => expect(screen.getAllByTestId('reply-option')).toHaveLength(2));
    await fireEvent.input(reply, { target: { value: 'Hi\n/inv' } });
    await waitFor(() => expect(screen.getAllByTestId('reply-option')).toHaveLength(1));
    await fireEvent.keyDown(reply, { key: 'Enter' });
    await waitFor(() => expect(reply.value).toBe('Hi\nInvoice for {deal}, Irina'));
    expect(backend.calls).toContain('fillQuickReply:x:r2');
    expect(backend.calls.filter((c) => c.startsWith('sendReply'))).toEqual([]);
    // The deal could not be filled: marked, named below, Send held; the hole is selected.
    await waitFor(() => expect(document.querySelector('.hole-marks mark')?.textContent).toBe('{deal}'));
    expect(reply.selectionStart).toBe(15);
    expect(reply.selectionEnd).toBe(21);
    expect(screen.getByTestId('hole').getAttribute('data-variable')).toBe('deal');
    expect((screen.getByTestId('send') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.keyDown(reply, { key: 'Enter' });
    expect(backend.calls.filter((c) => c.startsWith('sendReply'))).toEqual([]);
    // Filled in: Send goes.
    await fireEvent.input(reply, { target: { value: 'Hi\nInvoice for order 7, Irina' } });
    await waitFor(() => expect(screen.queryByTestId('fill-in')).toBeNull());
    expect((screen.getByTestId('send') as HTMLButtonElement).disabled).toBe(false);
    // Esc closes the picker and keeps what was typed; it stays closed for that slash.
    await fireEvent.input(reply, { target: { value: '/gre' } });
    await screen.findByTestId('reply-option');
    await fireEvent.keyDown(reply, { key: 'Escape' });
    expect(screen.queryByTestId('reply-picker')).toBeNull();
    await fireEvent.input(reply, { target: { value: '/gree' } });
    expect(screen.queryByTestId('reply-picker')).toBeNull();
    expect(reply.value).toBe('/gree');
  });

  it('hands the chat to a colleague when Rust allows it, and shows the hand-over line as a line, not a message', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    backend.messages = [{
      id: 't1', direction: 'out', text: 'Sofia: Anna → Boris', at: '2026-11-25T10:00:00.000Z', status: 'delivered', local: false,
      error: null, error_code: null, error_owner: null, mirror: { state: 'none', reason: null, error: null }, kind: 'transfer', media: null, place: null,
    }];
    const view = render(Conversation, { backend, chat: row('x', 'red', 1, 'Irina'), version: 0 });
    const line = await screen.findByTestId('transfer-line');
    expect(line.textContent).toBe('Chat handed over · Sofia: Anna → Boris');
    expect(screen.queryByTestId('message-status')).toBeNull();
    // Not allowed here: no button.
    expect(screen.queryByTestId('hand-over')).toBeNull();
    view.unmount();
    backend.handOverAllowed = { y: true };
    backend.handOverPeople = [{ id: 'b', name: 'Boris', role: 'seller' }];
    const conv = render(Conversation, { backend, chat: row('y', 'red', 1, 'Oleg'), version: 0 });
    await screen.findByTestId('hand-over');
    // Asked again for the same chat (its CRM changed, a message came): the button stays meanwhile.
    let answer = () => {};
    backend.handOverHeld = new Promise((resolve) => (answer = resolve));
    await conv.rerender({ backend, chat: row('y', 'red', 1, 'Oleg'), version: 0, crmVersion: 1 });
    expect(screen.queryByTestId('hand-over')).not.toBeNull();
    answer();
    backend.handOverHeld = null;
    await fireEvent.click(await screen.findByTestId('hand-over'));
    const to = await screen.findByTestId('hand-over-to');
    expect(to.textContent).toBe('Boris · seller');
    // The list takes the focus, not its first person (two Enters must not hand it over).
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('hand-over-list')));
    await fireEvent.click(to);
    await waitFor(() => expect(backend.calls).toContain('handOver:y:b'));
    expect((await screen.findByTestId('hand-over-done')).textContent).toBe('Handed over to Boris');
  });

  it('offers "Hand over…" in Ctrl+K when the open chat may be handed over, and opens the list from there', async () => {
    Element.prototype.scrollTo = () => {};
    Element.prototype.scrollIntoView = () => {};
    const backend = new MockBackend();
    backend.lists.all.chats = [row('a', 'red', 1, 'Irina'), row('b', null, 0, 'Oleg')];
    backend.handOverAllowed = { a: true };
    backend.handOverPeople = [{ id: 'b', name: 'Boris', role: 'seller' }];
    render(Workspace, { backend, session });
    const names = async () => {
      await fireEvent.keyDown(window, { key: 'k', code: 'KeyK', ctrlKey: true });
      const input = (await screen.findByTestId('jump-input')) as HTMLInputElement;
      await fireEvent.input(input, { target: { value: 'hand' } });
      return input;
    };
    // Oleg's chat may not be handed over from here: not offered.
    await fireEvent.click((await screen.findAllByTestId('chat-row'))[1] as HTMLElement);
    await waitFor(() => expect(document.querySelector('[data-testid=conversation] h2')?.textContent).toBe('Oleg'));
    let input = await names();
    expect(await screen.findByTestId('jump-nothing')).toBeTruthy();
    await fireEvent.keyDown(input, { key: 'Escape' });
    await fireEvent.click(screen.getAllByTestId('chat-row')[0] as HTMLElement);
    await screen.findByTestId('hand-over');
    input = await names();
    await waitFor(() => expect(screen.getAllByTestId('jump-action').map((a) => a.dataset.action)).toEqual(['handOver']));
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect((await screen.findByTestId('hand-over-to')).textContent).toBe('Boris · seller');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('hand-over-list')));
  });

  it('shows each message\'s CRM mirror state and the linked entities; a failed one can be retried', async () => {
    // jsdom has no layout: scrolling is a no-op here.
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    const base = { direction: 'out' as const, at: '2026-11-25T10:00:00.000Z', status: 'read' as const, error: null, error_code: null, error_owner: null, local: false, kind: 'text' as const, media: null, place: null };
    backend.messages = [
      { ...base, id: 'a', text: 'one', mirror: { state: 'written', reason: null, error: null } },
      { ...base, id: 'b', text: 'two', mirror: { state: 'failed', reason: null, error: 'OWNER_NOT_FOUND' } },
      { ...base, id: 'c', text: 'three', mirror: { state: 'skipped', reason: 'open_lines', error: null } },
    ];
    backend.crm = [
      { kind: 'deal', id: '7', title: '<b>Поставка</b>', closed: false, stage: 'Подготовка документов', responsible: 'Анна',
        url: 'https://example.bitrix24.ru/crm/deal/details/7/', phones: [] },
      { kind: 'contact', id: '3', title: 'Ирина', closed: false, stage: null, responsible: null, url: null, phones: [] },
    ];
    render(Conversation, { backend, chat: row('x', 'red', 1, 'Irina'), version: 0 });
    await waitFor(() => expect(screen.getAllByTestId('mirror-state').length).toBe(3));
    const states = screen.getAllByTestId('mirror-state');
    expect(states.map((s) => s.dataset.state)).toEqual(['written', 'failed', 'skipped']);
    expect(states[1]?.textContent).toContain('OWNER_NOT_FOUND');
    expect(states[2]?.dataset.reason).toBe('open_lines');
    const [entity, contact] = await screen.findAllByTestId('crm-entity');
    expect(entity?.dataset.kind).toBe('deal');
    expect(entity?.textContent).toContain('<b>Поставка</b>');
    expect(document.querySelector('b')).toBeNull();
    // The stage by the CRM's name (contacts have none).
    expect(screen.getAllByTestId('crm-stage').map((s) => s.textContent)).toEqual(['Подготовка документов']);
    // Only an entity with a CRM page gets the link, and Rust opens it (the page holds no URL opener).
    expect(screen.getAllByTestId('open-in-crm')).toHaveLength(1);
    expect(contact?.querySelector('[data-testid="open-in-crm"]')).toBeNull();
    await fireEvent.click(screen.getByTestId('open-in-crm'));
    await waitFor(() => expect(backend.calls).toContain('openInCrm:deal:7'));
    await fireEvent.click(screen.getByText(/Retry|Повторить/));
    await waitFor(() => expect(backend.calls).toContain('retryMirror:b'));
  });
});

describe('CrmConnection', () => {
  it('checks a Bitrix24 webhook, saves it, and shows it back only masked', async () => {
    const backend = new MockBackend();
    render(CrmConnection, { backend, locked: false });
    expect((await screen.findByTestId('crm-current')).dataset.kind).toBe('built_in');
    const save = screen.getByTestId('crm-save') as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    const url = 'https://example.bitrix24.ru/rest/1/q1w2e3r4t5y6u7i8/';
    const input = screen.getByTestId('crm-webhook') as HTMLInputElement;
    expect(input.type).toBe('password');
    await fireEvent.input(input, { target: { value: url } });
    await fireEvent.click(screen.getByTestId('crm-check'));
    expect((await screen.findByTestId('crm-checked')).textContent).toContain('Webhook User');
    await fireEvent.click(save);
    await waitFor(() => expect(screen.getByTestId('crm-current').dataset.kind).toBe('bitrix24'));
    expect(backend.calls).toContain(`connectCrm:${url}`);
    expect(document.body.textContent).not.toContain('q1w2e3r4t5y6u7i8');
    // Events: the handler address to give the portal, and its application token stored.
    const events = await screen.findByTestId('crm-events');
    expect(events.dataset.on).toBe('false');
    expect(screen.getByTestId('crm-events-url').textContent).toBe('https://hub.example/webhooks/bitrix24/s3cr3t');
    const tokenInput = screen.getByTestId('crm-events-token') as HTMLInputElement;
    expect(tokenInput.type).toBe('password');
    await fireEvent.input(tokenInput, { target: { value: ' tok-1 ' } });
    await fireEvent.click(screen.getByTestId('crm-events-save'));
    await waitFor(() => expect(screen.getByTestId('crm-events').dataset.on).toBe('true'));
    expect(backend.calls).toContain('setCrmEvents:tok-1');
  });
});

describe('refusals', () => {
  const taken = { error: "this client is Anna's — ask a supervisor", error_code: 'client_taken', error_owner: 'Anna' };

  it('explains the hub\'s codes in both languages, naming whose client it is, else shows the hub\'s words', () => {
    expect(refusalText(taken, translator('en'))).toBe("This client is Anna's — ask a supervisor to hand the chat over");
    expect(refusalText(taken, translator('ru'))).toBe('Этот клиент закреплён за сотрудником Anna — попросите руководителя передать чат');
    expect(refusalText({ ...taken, error_owner: null }, translator('en'))).toBe(translator('en')('refused_client_taken'));
    const none = { error: 'your role has no chats', error_code: 'no_chat_access', error_owner: null };
    expect(refusalText(none, translator('en'))).toBe('Your role has no access to chats');
    expect(refusalText(none, translator('ru'))).toBe('У вашей роли нет доступа к чатам');
    const other = { error: 'channel_id: no such channel', error_code: 'invalid_field', error_owner: null };
    expect(refusalText(other, translator('ru'))).toBe('channel_id: no such channel');
    // A name that looks like a placeholder or markup stays as it is.
    expect(refusalText({ ...taken, error_owner: '{owner} $& <b>' }, translator('en'))).toBe("This client is {owner} $& <b>'s — ask a supervisor to hand the chat over");
  });

  it('shows a refused reply\'s owner in the conversation as text', async () => {
    Element.prototype.scrollTo = () => {};
    const backend = new MockBackend();
    const refused: MessageVm = {
      id: 'k1', direction: 'out', text: 'hello', at: '2026-11-25T10:00:00.000Z', status: 'failed', local: true,
      error: 'this client is taken', error_code: 'client_taken', error_owner: '<img src=x onerror=alert(1)>Anna',
      mirror: { state: 'none', reason: null, error: null }, kind: 'text', media: null, place: null,
    };
    backend.messages = [refused];
    render(Conversation, { backend, chat: row('x', null, 0, 'Irina'), version: 0 });
    const error = await screen.findByTestId('message-error');
    expect(error.dataset.code).toBe('client_taken');
    expect(error.textContent).toBe(tf('refused_client_taken_owner', { owner: '<img src=x onerror=alert(1)>Anna' }));
    expect(error.textContent).toContain('<img src=x onerror=alert(1)>Anna');
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getByTestId('retry')).toBeTruthy();
  });

  it('says why a first message was refused instead of "waiting for the hub"', async () => {
    const backend = new MockBackend();
    backend.composeAnswers['+79164569812'] = composed;
    render(NewMessage, { backend, version: 0, onopen: () => {} });
    await fireEvent.input(screen.getByTestId('crm-search'), { target: { value: '+79164569812' } });
    await fireEvent.click(await screen.findByTestId('write-to-number'));
    await screen.findByTestId('compose-address');
    await fireEvent.input(screen.getByTestId('compose-text'), { target: { value: 'hi' } });
    backend.sendResult = { key: 'k1', chat: null };
    backend.pending = [{ key: 'k1', display: '+7 916 456-98-12', channel_name: 'Telegram · bot', text: 'hi', ...taken, error_owner: '<b>Anna</b>' }];
    await fireEvent.click(screen.getByTestId('compose-send'));
    const why = await screen.findByTestId('pending-error');
    expect(why.dataset.code).toBe('client_taken');
    expect(why.textContent).toBe(tf('refused_client_taken_owner', { owner: '<b>Anna</b>' }));
    expect(document.querySelector('.pending b')).toBeNull();
    expect(screen.queryByTestId('compose-info')).toBeNull();
  });
});

describe('access ended', () => {
  it('the welcome screen says calmly that the access ended', async () => {
    const backend = new MockBackend();
    render(Welcome, { backend, accessEnded: true });
    const notice = await screen.findByTestId('access-ended');
    expect(notice.textContent).toBe(t('accessEnded'));
    expect(notice.classList.contains('error')).toBe(false);
    cleanup();
    render(Welcome, { backend });
    expect(screen.queryByTestId('access-ended')).toBeNull();
  });

  it('the app shows it when Rust says the hub ended the session', async () => {
    const backend = new MockBackend();
    backend.state = { session: null, access_ended: true, demo_available: true, russian: false };
    render(App, { backend });
    expect(await screen.findByTestId('access-ended')).toBeTruthy();
    expect(screen.getByTestId('open-demo')).toBeTruthy();
  });

  it('a build without the demo workspace offers only connecting to a hub', async () => {
    const backend = new MockBackend();
    backend.state = { session: null, access_ended: false, demo_available: false, russian: false };
    render(App, { backend });
    expect(await screen.findByTestId('connect')).toBeTruthy();
    expect(screen.queryByTestId('open-demo')).toBeNull();
  });

  it('speaks the language Rust read from the system, whatever the webview says', async () => {
    const backend = new MockBackend();
    backend.state = { session: null, access_ended: false, demo_available: true, russian: true };
    try {
      render(App, { backend });
      expect((await screen.findByTestId('open-demo')).textContent).toBe(translator('ru')('openDemo'));
      expect(document.documentElement.lang).toBe('ru');
    } finally {
      cleanup();
      setLocale('en');
    }
    expect(t('openDemo')).toBe(translator('en')('openDemo'));
  });

  it('speaks both languages', () => {
    expect(translator('en')('accessEnded')).toBe('Your access to this workspace was revoked or has ended — sign in again');
    expect(translator('ru')('accessEnded')).toBe('Доступ к рабочему пространству отозван или закончился — войдите снова');
  });
});

describe('kindLabel', () => {
  it('names a file in the list preview: a document by name, a voice note or video with its length', () => {
    expect(kindLabel('text')).toBe('');
    expect(kindLabel('document', 'invoice.pdf')).toBe('Document: invoice.pdf');
    expect(kindLabel('audio', 'voice.ogg', '0:14')).toBe('Voice message (0:14)');
    expect(kindLabel('video', null, '1:02:03')).toBe('Video (1:02:03)');
    expect(kindLabel('audio', null, null)).toBe('Voice message');
    expect(kindLabel('image', 'photo.png', '0:14')).toBe('Photo');
  });
});
