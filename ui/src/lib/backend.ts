// The one door from the UI to Rust. Components receive a Backend; only this file and the
// generated commands.ts touch @tauri-apps/api, so tests hand components a mock instead.
import { listen } from '@tauri-apps/api/event';
import type { CmdError, StoreChange, UploadProgressVm } from './bindings';
import { commands, type Commands, type UiEvents } from './commands';

/** Every command (generated from Rust's one list), and the events the UI listens for. */
export interface Backend extends Commands {
  /** Calls `f` with a chat id when a notification click asks to open it. */
  onOpenChat(f: (chat: string) => void): () => void;
  /** Calls `f` with what changed whenever the local store changed; returns a function that
   * stops it. */
  onStoreChanged(f: (change: StoreChange) => void): () => void;
  /** Calls `f` whenever the session (sign-in, online state) changed. */
  onSessionChanged(f: () => void): () => void;
  /** Calls `f` when this computer's preferences changed outside the window (the tray). */
  onPrefsChanged(f: () => void): () => void;
  /** Calls `f` as files of the outbox go to the hub. */
  onUploadProgress(f: (p: UploadProgressVm) => void): () => void;
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

function subscribe<K extends keyof UiEvents>(event: K, f: (payload: UiEvents[K]) => void): () => void {
  const stop = listen<UiEvents[K]>(event, (e) => f(e.payload));
  return () => {
    void stop.then((un) => un());
  };
}

export const tauriBackend: Backend = {
  ...commands,
  onStoreChanged: (f) => subscribe('store-changed', f),
  onSessionChanged: (f) => subscribe('session-changed', () => f()),
  onPrefsChanged: (f) => subscribe('prefs-changed', () => f()),
  onOpenChat: (f) => subscribe('open-chat', f),
  onUploadProgress: (f) => subscribe('upload-progress', f),
};
