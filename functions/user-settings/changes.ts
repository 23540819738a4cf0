/** Pure settings logic: applying a request, naming what changed, and the history as the API shows it. */
import { isDeepStrictEqual } from 'node:util';
import {
  type EditorPreferences,
  type NotificationPreferences,
  type Preferences,
  preferencesOf,
  type SettingsChange,
  type SettingsHistoryEntry,
  type SettingsRevision,
} from '../../shared/domain/user-settings';

/** A partial change: absent (or, from the wire, null) fields stay as they are; nested objects merge. */
export interface PreferencesPatch {
  theme?: Preferences['theme'] | null;
  timezone?: string | null;
  date_format?: Preferences['date_format'] | null;
  time_format?: Preferences['time_format'] | null;
  notifications?: Partial<NotificationPreferences> | null;
  editor?: Partial<EditorPreferences> | null;
  custom_settings?: Record<string, unknown> | null;
}

const defined = <T extends object>(patch: T): Partial<T> =>
  Object.fromEntries(
    Object.entries(patch).filter(([, value]) => value !== undefined && value !== null),
  ) as Partial<T>;

export function applyPreferences(current: Preferences, patch: PreferencesPatch): Preferences {
  return {
    theme: patch.theme ?? current.theme,
    timezone: patch.timezone ?? current.timezone,
    date_format: patch.date_format ?? current.date_format,
    time_format: patch.time_format ?? current.time_format,
    notifications: { ...current.notifications, ...defined(patch.notifications ?? {}) },
    editor: { ...current.editor, ...defined(patch.editor ?? {}) },
    custom_settings: patch.custom_settings ?? current.custom_settings,
  };
}

/** A JSON pointer segment: `~` and `/` escaped as RFC 6901 says. */
const pointerSegment = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

function diffObject(
  prefix: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  changes: SettingsChange[],
): void {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  for (const key of keys) {
    const old_value = key in before ? before[key] : null;
    const new_value = key in after ? after[key] : null;
    if (!isDeepStrictEqual(old_value, new_value))
      changes.push({ field: `${prefix}/${pointerSegment(key)}`, old_value, new_value });
  }
}

/** Every field that differs, in the order the settings page shows them; custom keys alphabetically. */
export function diffPreferences(before: Preferences, after: Preferences): SettingsChange[] {
  const changes: SettingsChange[] = [];
  const { notifications, editor, custom_settings, ...scalars } = preferencesOf(before);
  const {
    notifications: nextNotifications,
    editor: nextEditor,
    custom_settings: nextCustom,
    ...nextScalars
  } = preferencesOf(after);
  diffObject('', scalars, nextScalars, changes);
  diffObject('/notifications', { ...notifications }, { ...nextNotifications }, changes);
  diffObject('/editor', { ...editor }, { ...nextEditor }, changes);
  const sortedKeys = (map: Record<string, unknown>) =>
    Object.fromEntries(
      Object.keys(map)
        .sort()
        .map((key) => [key, map[key]]),
    );
  diffObject('/custom_settings', sortedKeys(custom_settings), sortedKeys(nextCustom), changes);
  return changes;
}

/** The history as `SettingsHistoryEntry` rows, newest change first, at most `limit` of them. */
export function historyEntries(
  revisions: readonly SettingsRevision[],
  limit: number,
): SettingsHistoryEntry[] {
  const entries = revisions.flatMap((revision) =>
    revision.changes.map((change) => ({
      timestamp: revision.changed_at,
      event_type: 'user_settings_updated' as const,
      field: change.field,
      old_value: change.old_value,
      new_value: change.new_value,
      reason: revision.reason,
    })),
  );
  return entries.slice(0, limit);
}
