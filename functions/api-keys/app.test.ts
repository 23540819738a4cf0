/**
 * API keys through the embedded server over real HTTP, with the real sandbox: create, list and revoke
 * with the session; then a key submits, reads and streams an execution on its own, within its scopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../shared/domain/api-key';
import { authHeaders, registerAndLogin, type TestSession } from '../../test/support/http';
import { type RunningServer, startTestServer } from '../../test/support/server';
import { readSse } from '../../test/support/sse';
import { MAX_KEYS_PER_USER } from './requests';

let server: RunningServer;
let owner: TestSession;
let other: TestSession;

beforeAll(async () => {
  server = await startTestServer({ EXECUTION_TIMEOUT_SECONDS: '5', MEMORY_LIMIT: '64Mi' });
  const client = { request: (path: string, init?: RequestInit) => fetch(server.baseUrl + path, init) };
  owner = await registerAndLogin(client);
  other = await registerAndLogin(client);
});
afterAll(async () => {
  await server?.close();
});

const api = (path: string, init: RequestInit = {}) => fetch(`${server.baseUrl}/api/v1${path}`, init);

interface CreatedKey {
  key_id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expires_at: string | null;
  last_used_at: string | null;
  key: string;
}

async function createKey(session: TestSession, body: Record<string, unknown>): Promise<CreatedKey> {
  const response = await api('/user/api-keys', {
    method: 'POST',
    headers: authHeaders(session, { 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });
  const created = await response.json();
  expect(response.status, JSON.stringify(created)).toBe(201);
  return created as CreatedKey;
}

const bearer = (key: string, extra: Record<string, string> = {}) => ({
  Authorization: `Bearer ${key}`,
  ...extra,
});

describe('managing keys', () => {
  it('creates a key whose secret is shown once, then lists it without the secret', async () => {
    const created = await createKey(owner, {
      name: '  CI pipeline ',
      scopes: ['executions:read'],
      expires_in_days: 30,
    });
    expect(created.key).toMatch(/^i8c_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'CI pipeline', scopes: ['executions:read'], last_used_at: null });
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(Date.parse(created.expires_at!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    // Only the hash is stored.
    const stored = await server.platform.store.apiKeys.findByHash(hashApiKey(created.key));
    expect(stored?.key_id).toBe(created.key_id);
    expect(JSON.stringify(stored)).not.toContain(created.key);

    const list = await (await api('/user/api-keys', { headers: authHeaders(owner) })).json();
    const listed = list.api_keys.find((key: { key_id: string }) => key.key_id === created.key_id);
    const { key: _secret, ...withoutSecret } = created;
    expect(listed).toEqual(withoutSecret);
    expect(JSON.stringify(list)).not.toContain(created.key);
    // Nobody else sees it.
    const theirs = await (await api('/user/api-keys', { headers: authHeaders(other) })).json();
    expect(theirs.api_keys).toEqual([]);
  });

  it.each([
    [{ scopes: ['executions:read'] }, 'name'],
    [{ name: ' ', scopes: ['executions:read'] }, 'name'],
    [{ name: 'x'.repeat(101), scopes: ['executions:read'] }, 'name'],
    [{ name: 'k', scopes: [] }, 'scopes'],
    [{ name: 'k', scopes: ['admin'] }, 'scopes'],
    [{ name: 'k', scopes: ['executions:read'], expires_in_days: 0 }, 'expires_in_days'],
    [{ name: 'k', scopes: ['executions:read'], expires_in_days: 1.5 }, 'expires_in_days'],
  ])('answers 422 naming the field for %j', async (body, field) => {
    const response = await api('/user/api-keys', {
      method: 'POST',
      headers: authHeaders(owner, { 'Content-Type': 'application/json' }),
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain(field);
  });

  it('answers 401 signed out and 403 without the CSRF token', async () => {
    expect((await api('/user/api-keys')).status).toBe(401);
    const noCsrf = await api('/user/api-keys', {
      method: 'POST',
      headers: { Cookie: owner.cookie, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'k', scopes: ['executions:read'] }),
    });
    expect(noCsrf.status).toBe(403);
  });

  it('revokes only your own key, which stops working at once', async () => {
    const created = await createKey(owner, { name: 'short-lived', scopes: ['executions:read'] });
    expect((await api('/user/executions', { headers: bearer(created.key) })).status).toBe(200);

    const byOther = await api(`/user/api-keys/${created.key_id}`, {
      method: 'DELETE',
      headers: authHeaders(other),
    });
    expect(byOther.status).toBe(404);
    const revoked = await api(`/user/api-keys/${created.key_id}`, {
      method: 'DELETE',
      headers: authHeaders(owner),
    });
    expect(revoked.status).toBe(204);

    const after = await api('/user/executions', { headers: bearer(created.key) });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ detail: 'Invalid or revoked API key' });
    for (const id of [created.key_id, 'not-a-uuid', '%00'])
      expect(
        (await api(`/user/api-keys/${id}`, { method: 'DELETE', headers: authHeaders(owner) })).status,
      ).toBe(404);
  });

  it(`holds at most ${MAX_KEYS_PER_USER} keys per user`, async () => {
    const session = await registerAndLogin({ request: (p, i) => fetch(server.baseUrl + p, i) });
    for (let i = 0; i < MAX_KEYS_PER_USER; i++)
      await createKey(session, { name: `k${i}`, scopes: ['executions:read'] });
    const one = await api('/user/api-keys', {
      method: 'POST',
      headers: authHeaders(session, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ name: 'one more', scopes: ['executions:read'] }),
    });
    expect(one.status).toBe(409);
  });
});

describe('calling with a key', () => {
  it('submits, streams and reads an execution with a read-write key, no cookie or CSRF token', async () => {
    const { key } = await createKey(owner, {
      name: 'integration',
      scopes: ['executions:read', 'executions:write'],
    });
    const submitted = await api('/execute', {
      method: 'POST',
      headers: bearer(key, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ script: 'print(6 * 7)', lang: 'python' }),
    });
    expect(submitted.status).toBe(200);
    const { execution_id: id } = await submitted.json();

    const { status, frames } = await readSse(`${server.baseUrl}/api/v1/events/executions/${id}`, {
      headers: bearer(key),
      until: (frame) => /"event_type":"result_(stored|failed)"/.test(frame.data),
      timeoutMs: 20_000,
    });
    expect(status).toBe(200);
    expect(frames.at(-1)?.data).toContain('result_stored');

    const result = await (await api(`/executions/${id}/result`, { headers: bearer(key) })).json();
    expect(result).toMatchObject({ execution_id: id, status: 'completed', stdout: '42\n' });
    const mine = await (await api('/user/executions', { headers: bearer(key) })).json();
    expect(mine.executions.map((e: { execution_id: string }) => e.execution_id)).toContain(id);
    // The owner's session sees it as theirs.
    expect((await api(`/executions/${id}/result`, { headers: authHeaders(owner) })).status).toBe(200);
    // Its last use is noted.
    const listed = await (await api('/user/api-keys', { headers: authHeaders(owner) })).json();
    expect(
      listed.api_keys.find((k: { name: string }) => k.name === 'integration').last_used_at,
    ).not.toBeNull();
  });

  it('refuses to submit with a read-only key, and refuses everything but executions to any key', async () => {
    const { key } = await createKey(owner, { name: 'reader', scopes: ['executions:read'] });
    const submit = await api('/execute', {
      method: 'POST',
      headers: bearer(key, { 'Content-Type': 'application/json' }),
      body: JSON.stringify({ script: 'print(1)', lang: 'python' }),
    });
    expect(submit.status).toBe(403);
    expect(await submit.json()).toMatchObject({ detail: 'This API key lacks the executions:write scope' });
    for (const path of ['/user/settings/', '/user/api-keys', '/auth/me', '/scripts', '/notifications']) {
      const response = await api(path, { headers: bearer(key) });
      expect(response.status, path).toBe(403);
    }
  });

  it('answers 401 for a malformed, unknown or expired key, and for a key of a deactivated user', async () => {
    expect((await api('/user/executions', { headers: bearer('not-a-key') })).status).toBe(401);
    expect((await api('/user/executions', { headers: bearer(`i8c_${'x'.repeat(43)}`) })).status).toBe(401);

    const expired = newApiKey({
      user_id: owner.userId,
      name: 'old',
      scopes: ['executions:read'],
      created_at: new Date(Date.now() - 2 * 86_400_000).toISOString(),
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    await server.platform.store.apiKeys.create(expired.record);
    const late = await api('/user/executions', { headers: bearer(expired.secret) });
    expect(late.status).toBe(401);
    expect(await late.json()).toMatchObject({ detail: 'API key expired' });

    const { key } = await createKey(other, { name: 'soon idle', scopes: ['executions:read'] });
    expect((await api('/user/executions', { headers: bearer(key) })).status).toBe(200);
    await server.platform.store.users.update(other.userId, { is_active: false });
    expect((await api('/user/executions', { headers: bearer(key) })).status).toBe(401);
  });
});
