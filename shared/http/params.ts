/** Path and query parameters shared by several functions. */
import * as v from 'valibot';

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
