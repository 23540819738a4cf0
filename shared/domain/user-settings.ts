/**
 * A user's preferences (`UserSettings` of the reference API) and their history. Every change is kept as
 * a revision holding what changed, old and new, and the whole settings it produced, so any earlier state
 * can be restored exactly. Nothing expires.
 */
import * as v from 'valibot';
import { NOTIFICATION_CHANNELS } from './notification';

export const THEMES = ['light', 'dark', 'auto'] as const;
export type Theme = (typeof THEMES)[number];
export const DATE_FORMATS = ['YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];
export const TIME_FORMATS = ['24h', '12h'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];
export const TAB_SIZES = [2, 4, 8] as const;
export const FONT_SIZE_RANGE = { min: 8, max: 32 } as const;

const count = v.pipe(v.number(), v.integer());

const NotificationPreferencesSchema = v.object({
  execution_completed: v.boolean(),
  execution_failed: v.boolean(),
  system_updates: v.boolean(),
  security_alerts: v.boolean(),
  channels: v.array(v.picklist(NOTIFICATION_CHANNELS)),
});
export type NotificationPreferences = v.InferOutput<typeof NotificationPreferencesSchema>;

const EditorPreferencesSchema = v.object({
  font_size: count,
  tab_size: count,
  use_tabs: v.boolean(),
  word_wrap: v.boolean(),
  show_line_numbers: v.boolean(),
});
export type EditorPreferences = v.InferOutput<typeof EditorPreferencesSchema>;

/** What a user chooses; the rest of the record says whose it is and when it changed. */
const PreferencesEntries = {
  theme: v.picklist(THEMES),
  timezone: v.string(),
  date_format: v.picklist(DATE_FORMATS),
  time_format: v.picklist(TIME_FORMATS),
  notifications: NotificationPreferencesSchema,
  editor: EditorPreferencesSchema,
  custom_settings: v.record(v.string(), v.unknown()),
};
export type Preferences = v.InferOutput<v.ObjectSchema<typeof PreferencesEntries, undefined>>;

/** `UserSettings` of the reference API: the record as stored and as the API returns it. */
export const UserSettingsSchema = v.object({
  user_id: v.string(),
  ...PreferencesEntries,
  /** How many changes made these settings: 0 for the defaults, one more with every change. */
  version: count,
  created_at: v.string(),
  updated_at: v.string(),
});
export type UserSettingsRecord = v.InferOutput<typeof UserSettingsSchema>;

export const DEFAULT_PREFERENCES: Preferences = {
  theme: 'auto',
  timezone: 'UTC',
  date_format: 'YYYY-MM-DD',
  time_format: '24h',
  notifications: {
    execution_completed: true,
    execution_failed: true,
    system_updates: true,
    security_alerts: true,
    channels: ['in_app'],
  },
  editor: { font_size: 14, tab_size: 4, use_tabs: false, word_wrap: true, show_line_numbers: true },
  custom_settings: {},
};

/** The settings of a user who never changed any. */
export const defaultSettings = (userId: string, createdAt: string): UserSettingsRecord => ({
  user_id: userId,
  ...structuredClone(DEFAULT_PREFERENCES),
  version: 0,
  created_at: createdAt,
  updated_at: createdAt,
});

export const preferencesOf = ({
  theme,
  timezone,
  date_format,
  time_format,
  notifications,
  editor,
  custom_settings,
}: Preferences): Preferences => ({
  theme,
  timezone,
  date_format,
  time_format,
  notifications,
  editor,
  custom_settings,
});

/** One changed field, named as a JSON pointer (`/theme`, `/editor/font_size`; `/` for the whole settings). */
export interface SettingsChange {
  field: string;
  old_value: unknown;
  new_value: unknown;
}

/** One change of a user's settings: what changed and the settings it produced (`settings.version` = `version`). */
export interface SettingsRevision {
  user_id: string;
  version: number;
  changed_at: string;
  reason: string | null;
  changes: SettingsChange[];
  settings: UserSettingsRecord;
}

/** `SettingsHistoryEntry` of the reference API. */
export interface SettingsHistoryEntry extends SettingsChange {
  timestamp: string;
  event_type: 'user_settings_updated';
  reason: string | null;
}
