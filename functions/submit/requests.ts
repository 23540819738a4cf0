/** The headers `POST /execute` reads; the body is `ExecutionRequestSchema` of shared/executions/submission. */
import * as v from 'valibot';

export const HeadersSchema = v.object({
  'Idempotency-Key': v.optional(
    v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters')),
  ),
});
