/** Path and query parameters shared by several functions. */
import * as v from 'valibot';
import { canonicalTimeZone } from '../domain/quiet-hours';

export const UuidSchema = v.pipe(v.string(), v.uuid('must be a UUID'));

/** Query integers arrive as strings; bounds are checked after conversion. */
export const queryInt = (min: number, max: number, fallback: number) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d+$/, 'must be a whole number'),
      v.transform(Number),
      v.minValue(min, `must be at least ${min}`),
      v.maxValue(max, `must be at most ${max}`),
    ),
    String(fallback),
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
