/** What the notifications endpoints accept, each field checked by valibot so a 422 names the one at fault. */
import * as v from 'valibot';
import {
  NOTIFICATION_CHANNELS,
  NOTIFICATION_SEVERITIES,
  NOTIFICATION_STATUSES,
} from '../../shared/domain/notification';
import { EXTERNAL_CHANNELS } from '../../shared/domain/notification-delivery';
import { TIME_OF_DAY } from '../../shared/domain/notification-subscription';
import { queryInt, TimeZoneSchema, UuidSchema } from '../../shared/http/params';

const oneOf = (values: readonly string[]) => `must be one of ${values.join(', ')}`;

export const Tag = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(200));
export const MAX_TAGS = 50;
const Tags = v.pipe(
  v.array(Tag, 'must be a list of tags'),
  v.maxLength(MAX_TAGS, `at most ${MAX_TAGS} tags`),
);
/** A tag list of a query string: absent is empty. */
export const TagQuery = v.optional(Tags, []);

/** Long enough for any real webhook URL; a URL this long is not one. */
export const MAX_URL_CHARS = 2048;
const Url = v.pipe(v.string('must be a string'), v.trim(), v.maxLength(MAX_URL_CHARS));

const TimeOfDay = v.pipe(
  v.string('must be a string'),
  v.regex(TIME_OF_DAY, 'must be a time of day as HH:MM, 00:00 to 23:59'),
);

export const ChannelParam = v.object({
  channel: v.picklist(NOTIFICATION_CHANNELS, oneOf(NOTIFICATION_CHANNELS)),
});

/**
 * `SubscriptionUpdate`: `enabled` is required; a field left out keeps its current value (for a channel
 * never saved, its default), so `{"enabled": false}` turns a channel off without forgetting its URL.
 * `rotate_secret` (not in the reference) replaces the webhook's signing secret.
 */
export const SubscriptionUpdateSchema = v.object({
  enabled: v.boolean('must be true or false'),
  severities: v.optional(
    v.pipe(
      v.array(v.picklist(NOTIFICATION_SEVERITIES, oneOf(NOTIFICATION_SEVERITIES)), 'must be a list'),
      v.maxLength(NOTIFICATION_SEVERITIES.length * 2),
      v.transform((severities) => [...new Set(severities)]),
    ),
  ),
  include_tags: v.optional(Tags),
  exclude_tags: v.optional(Tags),
  webhook_url: v.optional(v.nullable(Url)),
  slack_webhook: v.optional(v.nullable(Url)),
  quiet_hours_enabled: v.optional(v.boolean('must be true or false')),
  quiet_hours_start: v.optional(v.nullable(TimeOfDay)),
  quiet_hours_end: v.optional(v.nullable(TimeOfDay)),
  timezone: v.optional(TimeZoneSchema),
  batch_interval_minutes: v.optional(
    v.pipe(
      v.number('must be a number'),
      v.integer('must be a whole number'),
      v.minValue(1, 'must be at least 1'),
      v.maxValue(1440, 'must be at most 1440'),
    ),
  ),
  rotate_secret: v.optional(v.boolean('must be true or false')),
});
export type SubscriptionUpdate = v.InferOutput<typeof SubscriptionUpdateSchema>;

export const DeliveryLogQuery = v.object({
  channel: v.optional(v.picklist(EXTERNAL_CHANNELS, oneOf(EXTERNAL_CHANNELS))),
  limit: queryInt(1, 100, 20),
  offset: queryInt(0, Number.MAX_SAFE_INTEGER, 0),
});

export const ListQuery = v.object({
  status: v.optional(v.picklist(NOTIFICATION_STATUSES, `must be one of ${NOTIFICATION_STATUSES.join(', ')}`)),
  include_tags: TagQuery,
  exclude_tags: TagQuery,
  tag_prefix: v.optional(v.pipe(v.string(), v.maxLength(200))),
  limit: queryInt(1, 100, 50),
  offset: queryInt(0, Number.MAX_SAFE_INTEGER, 0),
});

export const NotificationIdParam = v.object({
  notification_id: UuidSchema,
});
