import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFERENCES, type Preferences } from '../../shared/domain/user-settings';
import { applyPreferences, diffPreferences, historyEntries } from './changes';

const defaults = (): Preferences => structuredClone(DEFAULT_PREFERENCES);

describe('applyPreferences', () => {
  it('keeps absent and null fields, merges nested objects and replaces the custom map', () => {
    const current = { ...defaults(), custom_settings: { a: 1 } };
    const next = applyPreferences(current, {
      theme: null,
      editor: { font_size: 20, tab_size: undefined },
      custom_settings: { b: 2 },
    });
    expect(next).toEqual({
      ...current,
      editor: { ...current.editor, font_size: 20 },
      custom_settings: { b: 2 },
    });
    expect(current.editor.font_size).toBe(14);
  });
});

describe('diffPreferences', () => {
  it('names nothing when nothing differs, whatever the key order of custom values', () => {
    const before = { ...defaults(), custom_settings: { k: { x: 1, y: [1, 2] } } };
    const after = { ...defaults(), custom_settings: { k: { y: [1, 2], x: 1 } } };
    expect(diffPreferences(before, after)).toEqual([]);
  });

  it('names each changed field as a JSON pointer, escaping ~ and / in custom keys', () => {
    const after = {
      ...defaults(),
      time_format: '12h' as const,
      notifications: { ...defaults().notifications, security_alerts: false },
      custom_settings: { 'a~b': true, 'c/d': null },
    };
    expect(diffPreferences(defaults(), after)).toEqual([
      { field: '/time_format', old_value: '24h', new_value: '12h' },
      { field: '/notifications/security_alerts', old_value: true, new_value: false },
      { field: '/custom_settings/a~0b', old_value: null, new_value: true },
    ]);
  });
});

describe('historyEntries', () => {
  it('flattens revisions into entries, newest revision first, cut to the limit', () => {
    const revision = (version: number, fields: string[]) => ({
      user_id: 'u',
      version,
      changed_at: `2025-01-0${version}T00:00:00.000Z`,
      reason: version === 2 ? 'why' : null,
      changes: fields.map((field) => ({ field, old_value: 1, new_value: 2 })),
      settings: { ...defaults(), user_id: 'u', version, created_at: '', updated_at: '' },
    });
    const entries = historyEntries([revision(2, ['/a', '/b']), revision(1, ['/c'])], 2);
    expect(entries).toEqual([
      {
        timestamp: '2025-01-02T00:00:00.000Z',
        event_type: 'user_settings_updated',
        field: '/a',
        old_value: 1,
        new_value: 2,
        reason: 'why',
      },
      {
        timestamp: '2025-01-02T00:00:00.000Z',
        event_type: 'user_settings_updated',
        field: '/b',
        old_value: 1,
        new_value: 2,
        reason: 'why',
      },
    ]);
  });
});
