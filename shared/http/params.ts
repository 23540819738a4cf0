/** Path and query parameters shared by several functions. */
import * as v from 'valibot';
import { canonicalTimeZone } from '../domain/quiet-hours';

export const UuidSchema = v.pipe(v.string(), v.uuid('must be a UUID'));

/**
 * Query integers arrive as strings; bounds are checked after conversion. The OpenAPI document shows
 * them as the integers they stand for (`jsonSchema` metadata, see shared/http/openapi/document.ts).
 */
export const queryInt = (min: number, max: number, fallback: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, 'must be a whole number'),
      v.metadata({ jsonSchema: { type: 'integer', minimum: min, maximum: max } }),
      v.transform(Number),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    ),
    String(fallback),
  );

const DATE_TIME_MESSAGE = 'must be an ISO 8601 date-time with a time zone, such as 2024-05-01T12:00:00Z';

/**
 * An ISO 8601 date-time with a zone, as its canonical UTC form (`…T12:00:00+02:00` → `…T10:00:00.000Z`),
 * so values compare and sort as text. Spellings the format allows but `Date` cannot read (`+05`) are refused.
 */
export const DateTimeSchema = v.pipe(
  v.string(),
  v.isoTimestamp(DATE_TIME_MESSAGE),
  v.check((text) => !Number.isNaN(Date.parse(text)), DATE_TIME_MESSAGE),
  v.transform((text) => new Date(text).toISOString()),
);

/** An IANA time zone the runtime knows, in its canonical spelling (`europe/berlin` → `Europe/Berlin`). */
export const TimeZoneSchema = v.pipe(
  v.string('must be a string'),
  v.maxLength(64, 'must be at most 64 characters'),
  v.check(
    (zone) => canonicalTimeZone(zone) !== null,
    'must be an IANA time zone such as UTC or Europe/Berlin',
  ),
  v.transform((zone) => canonicalTimeZone(zone)!),
);
