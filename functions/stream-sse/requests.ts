/** What the streams read of a request besides their path. */
import * as v from 'valibot';

/** `Last-Event-ID`: where a reconnecting client left off; from the start when absent. */
export const CursorSchema = v.object({
  'Last-Event-ID': v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,15}$/, 'must be the id of a frame from this stream'),
      v.transform(Number),
    ),
    '0',
  ),
});
