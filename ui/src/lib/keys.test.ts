import { describe, expect, it } from 'vitest';
import { composerKey, sendKeyLabel } from './keys';

const key = (k: Partial<Parameters<typeof composerKey>[0]>) => ({
  key: 'Enter', shiftKey: false, ctrlKey: false, metaKey: false, isComposing: false, ...k,
});

describe('composer keys', () => {
  it('Enter sends, Shift+Enter is a new line, by default', () => {
    expect(composerKey(key({}), false)).toBe('send');
    expect(composerKey(key({ shiftKey: true }), false)).toBeNull();
    expect(composerKey(key({ ctrlKey: true }), false)).toBe('send');
  });
  it('with "send with Ctrl+Enter", Enter is a new line', () => {
    expect(composerKey(key({}), true)).toBeNull();
    expect(composerKey(key({ ctrlKey: true }), true)).toBe('send');
    expect(composerKey(key({ metaKey: true }), true)).toBe('send');
    expect(composerKey(key({ ctrlKey: true, shiftKey: true }), true)).toBeNull();
  });
  it('an input method composing keeps its Enter, other keys are the textarea’s', () => {
    expect(composerKey(key({ isComposing: true }), false)).toBeNull();
    expect(composerKey(key({ isComposing: true, ctrlKey: true }), true)).toBeNull();
    expect(composerKey(key({ key: 'a' }), false)).toBeNull();
  });
  it('Enter sends nothing while the preference is not known yet', () => {
    expect(composerKey(key({}), null)).toBeNull();
    expect(composerKey(key({ ctrlKey: true }), null)).toBe('send');
  });
  it('the shortcut list names the key that sends', () => {
    expect(sendKeyLabel(false)).toBe('Enter');
    expect(sendKeyLabel(true)).toBe('Ctrl+Enter');
  });
});
