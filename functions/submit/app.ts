/** submit: `POST /api/v1/execute` — validate, rate-limit, honour Idempotency-Key, queue, publish. */
import { ExecutionRequestSchema, submitExecution } from '../../shared/executions/submission';
import { currentUser } from '../../shared/http/auth';
import { readJson, validate } from '../../shared/http/errors';
import { rateLimit } from '../../shared/http/rate-limit';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { HeadersSchema } from './requests';

export function createSubmitApp(platform: Platform) {
  const app = createFunctionApp(platform, 'submit');
  app.post(
    '/api/v1/execute',
    rateLimit(platform, {
      name: 'execute',
      limit: platform.config.RATE_LIMIT_EXECUTIONS_PER_MINUTE,
      windowMs: 60_000,
    }),
    async (c) => {
      const user = currentUser(c);
      const request = validate(ExecutionRequestSchema, await readJson(c), 'body');
      const headers = validate(
        HeadersSchema,
        { 'Idempotency-Key': c.req.header('idempotency-key') },
        'header',
      );
      const accepted = await submitExecution(platform, user, request, {
        idempotencyKey: headers['Idempotency-Key'],
        traceparent: c.req.header('traceparent'),
      });
      return c.json(accepted);
    },
  );
  return app;
}
