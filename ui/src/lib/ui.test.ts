import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Workspace from './Workspace.svelte';
import SettingsView from './SettingsView.svelte';
import { MockBackend } from './mockBackend';
import type { ChatRowVm, SessionVm } from './bindings';
import { pickLocale, translator } from './i18n';

const session: SessionVm = {
  hub_url: 'http://127.0.0.1:1',
  demo: true,
  me: { id: 'e1', name: 'Anna', role: 'supervisor' },
  online: true,
  settings: null,
  can_edit_settings: true,
};

function row(id: string, color: 'red' | 'grey' | null, count: number, title: string): ChatRowVm {
  return {
    id, title, channel_name: 'WhatsApp', transport: 'whatsapp', last_text: 'hello', last_from_client: true,
    last_at: '2026-01-01T10:00:00.000Z', badge: { count, color }, crm: [],
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
  const settings = { save_to_crm_timeline: true, eight_as_plus7: true, notify_supervisors_all: false, escalate_after_minutes: null };

  it('lets a supervisor flip "notify supervisors about all messages"', async () => {
    const backend = new MockBackend();
    render(SettingsView, { backend, session: { ...session, settings }, onclose: () => {} });
    const box = (await screen.findByTestId('setting-notify-supervisors-all')) as HTMLInputElement;
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await waitFor(() => expect(backend.calls).toContain('updateSetting:{"field":"notify_supervisors_all","value":true}'));
  });

  it('shows a seller the settings read-only', async () => {
    const backend = new MockBackend();
    const seller = { ...session, settings, can_edit_settings: false, me: { id: 's', name: 'S', role: 'seller' as const } };
    render(SettingsView, { backend, session: seller, onclose: () => {} });
    const boxes = ['save-to-timeline', 'eight-as-plus7', 'notify-supervisors-all', 'escalate'];
    for (const id of boxes) expect(((await screen.findByTestId(`setting-${id}`)) as HTMLInputElement).disabled).toBe(true);
  });
});
