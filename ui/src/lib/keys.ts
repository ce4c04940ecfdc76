// What a key in the composer does, by the preference of this computer (Rust keeps it:
// DesktopPrefsVm.send_with_ctrl_enter). Kept apart from the component so it is tested alone.

/** The parts of a key event the composer reads. */
export interface ComposerKey {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  /** An input method is still composing (Enter then picks its candidate). */
  isComposing: boolean;
}

/** `send` to send the message, `null` to let the textarea have the key (a new line, or
 * anything else). Enter sends and Shift+Enter is a new line; with "send with Ctrl+Enter"
 * Ctrl+Enter (⌘+Enter) sends and Enter is a new line. Ctrl+Enter sends either way. While the
 * preference is not known yet (`null`), Enter is a new line: a half-written message is never
 * sent by it. */
export function composerKey(e: ComposerKey, ctrlEnter: boolean | null): 'send' | null {
  if (e.key !== 'Enter' || e.isComposing || e.shiftKey) return null;
  if (e.ctrlKey || e.metaKey) return 'send';
  return ctrlEnter === false ? 'send' : null;
}

/** The key that sends, as the shortcut list shows it. */
export function sendKeyLabel(ctrlEnter: boolean): string {
  return ctrlEnter ? 'Ctrl+Enter' : 'Enter';
}
