/**
 * api-keys: users create, list and revoke their own API keys. The secret is in the create answer only;
 * lists show its first characters. Keys cannot manage keys: these endpoints take the session cookie.
 */
import * as v from 'valibot';
import { newApiKey, toApiKeyResponse } from '../../shared/domain/api-key';
import { currentUser } from '../../shared/http/auth';
import { conflict, notFound, readJson, validate } from '../../shared/http/errors';
import { UuidSchema } from '../../shared/http/params';
import { createFunctionApp } from '../../shared/platform/function';
import type { Platform } from '../../shared/platform/platform';
import { CreateApiKeySchema, MAX_KEYS_PER_USER } from './requests';

export const BASE = '/api/v1/user/api-keys';

const DAY_MS = 86_400_000;

export function createApiKeysApp(platform: Platform) {
  const app = createFunctionApp(platform, 'api-keys');
  const keys = platform.store.apiKeys;

  app.get(BASE, async (c) => {
    const user = currentUser(c);
    return c.json({ api_keys: (await keys.listForUser(user.user_id)).map(toApiKeyResponse) });
  });

  app.post(BASE, async (c) => {
    const user = currentUser(c);
    const request = validate(CreateApiKeySchema, await readJson(c), 'body');
    if ((await keys.listForUser(user.user_id)).length >= MAX_KEYS_PER_USER)
      throw conflict(
        `You already hold ${MAX_KEYS_PER_USER} API keys, the most one account may; revoke one first`,
      );
    const now = platform.now();
    const { secret, record } = newApiKey({
      user_id: user.user_id,
      name: request.name,
      scopes: [...new Set(request.scopes)],
      created_at: now.toISOString(),
      expires_at: request.expires_in_days
        ? new Date(now.getTime() + request.expires_in_days * DAY_MS).toISOString()
        : null,
    });
    await keys.create(record);
    return c.json({ ...toApiKeyResponse(record), key: secret }, 201);
  });

  app.delete(`${BASE}/:key_id`, async (c) => {
    const user = currentUser(c);
    const id = c.req.param('key_id');
    // Key ids are UUIDs; any other id cannot exist, so it is a 404 without asking the store.
    if (!v.is(UuidSchema, id) || !(await keys.delete(user.user_id, id.toLowerCase())))
      throw notFound('API key not found');
    return c.body(null, 204);
  });

  return app;
}
