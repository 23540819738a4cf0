/**
 * Signing in with an API key: `Authorization: Bearer i8c_…` opens the execution endpoints its scopes
 * allow, on its owner's behalf and with a user's rights only, whatever the owner's role (a leaked key
 * must not administer anything). A revoked or expired key, or one whose owner was deactivated or
 * deleted, stops working on the next request: every request reads the key and its owner afresh.
 */
import { type ApiKeyScope, hashApiKey, looksLikeApiKey } from '../domain/api-key';
import type { Principal } from '../domain/user';
import { forbidden, unauthorized } from '../http/errors';
import type { Platform } from '../platform/platform';

/** What a key may call, and the scope each needs; everything else answers 403 to a key. */
const KEY_ROUTES: readonly { method: string; path: RegExp; scope: ApiKeyScope }[] = [
  { method: 'POST', path: /^\/api\/v1\/execute$/, scope: 'executions:write' },
  { method: 'POST', path: /^\/api\/v1\/executions\/[^/]+\/(cancel|retry)$/, scope: 'executions:write' },
  { method: 'GET', path: /^\/api\/v1\/executions\/[^/]+\/(result|events)$/, scope: 'executions:read' },
  { method: 'GET', path: /^\/api\/v1\/events\/executions\/[^/]+$/, scope: 'executions:read' },
  { method: 'GET', path: /^\/api\/v1\/user\/executions$/, scope: 'executions:read' },
  { method: 'GET', path: /^\/api\/v1\/(example-scripts|k8s-limits)$/, scope: 'executions:read' },
];

/** Writing the last use at most this often keeps a busy key from writing on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export const scopeForRoute = (method: string, path: string): ApiKeyScope | null =>
  KEY_ROUTES.find((route) => route.method === method && route.path.test(path))?.scope ?? null;

/** The credential of an `Authorization: Bearer …` header; undefined when there is no such header. */
export function bearerCredential(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1] : undefined;
}

export async function principalForApiKey(
  platform: Platform,
  secret: string,
  request: { method: string; path: string },
): Promise<Principal> {
  if (!looksLikeApiKey(secret)) throw unauthorized('The bearer credential must be an API key (i8c_…)');
  const key = await platform.store.apiKeys.findByHash(hashApiKey(secret));
  if (!key) throw unauthorized('Invalid or revoked API key');
  const now = platform.now();
  if (key.expires_at && Date.parse(key.expires_at) <= now.getTime()) throw unauthorized('API key expired');
  const owner = await platform.store.users.findById(key.user_id);
  if (!owner?.is_active) throw unauthorized('The owner of this API key cannot sign in');

  const scope = scopeForRoute(request.method, request.path);
  if (!scope) throw forbidden('API keys may call only the execution endpoints; sign in for the rest');
  if (!key.scopes.includes(scope)) throw forbidden(`This API key lacks the ${scope} scope`);

  if (!key.last_used_at || now.getTime() - Date.parse(key.last_used_at) >= TOUCH_INTERVAL_MS) {
    platform.store.apiKeys.touch(key.key_id, now.toISOString()).catch((error: unknown) => {
      platform.log.warn('API key last use not recorded', { key_id: key.key_id, error });
    });
  }
  return { user_id: owner.user_id, username: owner.username, role: 'user' };
}
