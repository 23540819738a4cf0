/**
 * A user's preferences (`UserSettings` of the reference API) and their history. Every change is kept as
 * a revision holding what changed, old and new, and the whole settings it produced, so any earlier state
 * can be restored exactly. Nothing expires.
 */
import type { NotificationChannel } from './notification';

export const THEMES = ['light', 'dark', 'auto'] as const;
export type Theme = (typeof THEMES)[number];
export const DATE_FORMATS = ['YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];
export const TIME_FORMATS = ['24h', '12h'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];
export const TAB_SIZES = [2, 4, 8] as const;
export const FONT_SIZE_RANGE = { min: 8, max: 32 } as const;

export interface NotificationPreferences {
  execution_completed: boolean;
  execution_failed: boolean;
  system_updates: boolean;
  security_alerts: boolean;
  channels: NotificationChannel[];
}

export interface EditorPreferences {
  font_size: number;
  tab_size: number;
  use_tabs: boolean;
  word_wrap: boolean;
  show_line_numbers: boolean;
}

/** What a user chooses; the rest of the record says whose it is and when it changed. */
export interface Preferences {
  theme: Theme;
  timezone: string;
  date_format: DateFormat;
  time_format: TimeFormat;
  notifications: NotificationPreferences;
  editor: EditorPreferences;
  custom_settings: Record<string, unknown>;
}

export interface UserSettingsRecord extends Preferences {
  user_id: string;
  /** How many changes made these settings: 0 for the defaults, one more with every change. */
  version: number;
  created_at: string;
  updated_at: string;
}

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
