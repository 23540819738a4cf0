/** What a settings request may carry, each field checked by valibot so a 422 names the one at fault. */
import * as v from 'valibot';
import { NOTIFICATION_CHANNELS } from '../../shared/domain/notification';
import {
  DATE_FORMATS,
  FONT_SIZE_RANGE,
  TAB_SIZES,
  THEMES,
  TIME_FORMATS,
} from '../../shared/domain/user-settings';
import { isJsonObject } from '../../shared/http/errors';
import { queryInt, TimeZoneSchema } from '../../shared/http/params';

export const MAX_CUSTOM_KEYS = 100;
/** Custom settings are small preferences, not storage: their JSON text stays under this. */
export const MAX_CUSTOM_JSON_CHARS = 32 * 1024;
const MAX_REASON_CHARS = 500;

const oneOf = (values: readonly (string | number)[]) => `must be one of ${values.join(', ')}`;

const Theme = v.picklist(THEMES, oneOf(THEMES));
const DateFormat = v.picklist(DATE_FORMATS, oneOf(DATE_FORMATS));
const TimeFormat = v.picklist(TIME_FORMATS, oneOf(TIME_FORMATS));
const Flag = v.optional(v.boolean('must be true or false'));

/** Notification preferences; a field left out keeps its current value. */
export const NotificationsSchema = v.object({
  execution_completed: Flag,
  execution_failed: Flag,
  system_updates: Flag,
  security_alerts: Flag,
  channels: v.optional(
    v.pipe(
      v.array(v.picklist(NOTIFICATION_CHANNELS, oneOf(NOTIFICATION_CHANNELS)), 'must be a list'),
      v.maxLength(NOTIFICATION_CHANNELS.length, `must list at most ${NOTIFICATION_CHANNELS.length} channels`),
      v.transform((channels) => [...new Set(channels)]),
    ),
  ),
});

/** Editor preferences; a field left out keeps its current value. */
export const EditorSchema = v.object({
  font_size: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be a whole number'),
      v.minValue(FONT_SIZE_RANGE.min, `must be at least ${FONT_SIZE_RANGE.min}`),
      v.maxValue(FONT_SIZE_RANGE.max, `must be at most ${FONT_SIZE_RANGE.max}`),
    ),
  ),
  tab_size: v.optional(v.picklist(TAB_SIZES, oneOf(TAB_SIZES))),
  use_tabs: Flag,
  word_wrap: Flag,
  show_line_numbers: Flag,
});

export const CustomKeySchema = v.pipe(
  v.string(),
  v.regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}$/,
    'must be 1–64 letters, digits or _ . : - and not start with . : -',
  ),
);

const jsonLength = (value: unknown) => JSON.stringify(value).length;

/** A whole custom-settings map, as PUT /user/settings/ replaces it. */
export const CustomSettingsSchema = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, 'must be a JSON object'),
  v.record(CustomKeySchema, v.unknown()),
  v.check((map) => Object.keys(map).length <= MAX_CUSTOM_KEYS, `must have at most ${MAX_CUSTOM_KEYS} keys`),
  v.check(
    (map) => jsonLength(map) <= MAX_CUSTOM_JSON_CHARS,
    `must be at most ${MAX_CUSTOM_JSON_CHARS} characters as JSON`,
  ),
);

/** The value of one custom setting: a JSON object, as the reference takes it. */
export const CustomValueSchema = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, 'must be a JSON object'),
  v.check(
    (value) => jsonLength(value) <= MAX_CUSTOM_JSON_CHARS,
    `must be at most ${MAX_CUSTOM_JSON_CHARS} characters as JSON`,
  ),
);

/** `UserSettingsUpdate`: every field optional; null, as in the reference, leaves a field as it is. */
export const UpdateRequestSchema = v.object({
  theme: v.nullish(Theme),
  timezone: v.nullish(TimeZoneSchema),
  date_format: v.nullish(DateFormat),
  time_format: v.nullish(TimeFormat),
  notifications: v.nullish(NotificationsSchema),
  editor: v.nullish(EditorSchema),
  custom_settings: v.nullish(CustomSettingsSchema),
});
export type UpdateRequest = v.InferOutput<typeof UpdateRequestSchema>;

export const ThemeRequestSchema = v.object({ theme: Theme });

/** True when the text's date and time exist on the calendar (JavaScript would roll 30 February over). */
function onCalendar(text: string): boolean {
  const [year, month, day, hour, minute, second = 0] = (text.match(/\d+/g) ?? []).map(Number) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return (
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! < 24 &&
    minute! < 60 &&
    second < 60
  );
}

/** ISO 8601 date and time; without an offset it is UTC. */
const Timestamp = v.pipe(
  v.string('must be a string'),
  v.regex(
    /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i,
    'must be an ISO 8601 date and time such as 2025-01-31T12:00:00Z',
  ),
  v.check(onCalendar, 'must be a real date and time'),
  v.transform((text) => {
    // Date.parse reads a time without an offset as local time, and more than milliseconds not at all.
    const trimmed = text.replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1');
    return new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) ? trimmed : `${trimmed}Z`);
  }),
  v.check((date) => !Number.isNaN(date.getTime()), 'must be a real date and time'),
  v.transform((date) => date.toISOString()),
);

export const RestoreRequestSchema = v.object({
  timestamp: Timestamp,
  reason: v.nullish(
    v.pipe(
      v.string('must be a string'),
      v.maxLength(MAX_REASON_CHARS, `must be at most ${MAX_REASON_CHARS} characters`),
    ),
  ),
});

export const HistoryQuerySchema = v.object({ limit: queryInt(1, 200, 50) });
