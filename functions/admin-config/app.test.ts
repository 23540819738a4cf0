/**
 * System settings through the embedded server: admins read, change and reset them, and each change
 * is in force where it matters — registration's password policy, session length, login lockout, the
 * limits a submitted run gets and reports, the queue's limit — and is audited.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCaller, login, registerAdmin, registerAndLogin, type TestSession } from '../../test/support/http';
import { type RunningServer, startTestServer } from '../../test/support/server';

let server: RunningServer;
let api: ReturnType<typeof apiCaller>;
let admin: TestSession;
let user: TestSession;
const client = { request: (path: string, init?: RequestInit) => fetch(server.baseUrl + path, init) };

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_ENABLED: 'false' });
  api = apiCaller(server.baseUrl);
  admin = await registerAdmin(client, server.platform.store.users);
  user = await registerAndLogin(client);
});
afterAll(async () => {
  await server?.close();
});

const register = (password: string) => {
  const name = `u_${randomBytes(5).toString('hex')}`;
  return api('POST', '/auth/register', undefined, { username: name, email: `${name}@example.com`, password });
};

describe('admin settings', () => {
  it('answers 401 signed out and 403 for a user', async () => {
    for (const [method, path] of [
      ['GET', '/admin/settings/'],
      ['PUT', '/admin/settings/'],
      ['POST', '/admin/settings/reset'],
    ] as const) {
      const body = method === 'PUT' ? { password_min_length: 10 } : undefined;
      expect((await api(method, path, undefined, body)).status).toBe(401);
      expect((await api(method, path, user, body)).status).toBe(403);
    }
  });

  it("shows the deployment's configuration until changed", async () => {
    const response = await api('GET', '/admin/settings/', admin);
    expect(response.status).toBe(200);
    const config = server.platform.config;
    expect(await response.json()).toMatchObject({
      max_timeout_seconds: config.EXECUTION_TIMEOUT_SECONDS,
      cpu_limit: config.CPU_LIMIT,
      max_concurrent_executions: config.MAX_CONCURRENT_EXECUTIONS,
      password_min_length: config.PASSWORD_MIN_LENGTH,
      session_timeout_minutes: config.SESSION_TIMEOUT_MINUTES,
      max_login_attempts: config.MAX_LOGIN_ATTEMPTS,
      lockout_duration_minutes: config.LOCKOUT_MINUTES,
    });
  });

  it.each([
    [{ password_min_length: 7 }, 'password_min_length'],
    [{ max_timeout_seconds: 0 }, 'max_timeout_seconds'],
    [{ memory_limit: 'lots' }, 'memory_limit'],
    [{ memory_limit: '1Ki' }, 'memory_limit'],
    [{ cpu_limit: '50m' }, 'cpu_limit'],
    [{ max_concurrent_executions: 101 }, 'max_concurrent_executions'],
    [{ session_timeout_minutes: 'long' }, 'session_timeout_minutes'],
    [{ log_level: 'DEBUG' }, 'log_level'],
    [{ sampling_rate: 0.5 }, 'sampling_rate'],
  ])('answers 422 naming the field for %j', async (body, field) => {
    const response = await api('PUT', '/admin/settings/', admin, body);
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain(field);
  });

  it('applies a change everywhere, audits it, and resets to the configuration', async () => {
    const change = {
      password_min_length: 14,
      session_timeout_minutes: 7,
      max_login_attempts: 3,
      lockout_duration_minutes: 9,
      max_timeout_seconds: 4,
      memory_limit: '96Mi',
      cpu_limit: '700m',
      max_concurrent_executions: 3,
    };
    const saved = await api('PUT', '/admin/settings/', admin, change);
    expect(saved.status).toBe(200);
    expect(await saved.json()).toMatchObject(change);

    // Password policy at registration.
    const short = await register('twelve-chars');
    expect(short.status).toBe(422);
    expect(JSON.stringify(await short.json())).toContain('14');
    expect((await register('fourteen-chars')).status).toBe(200);

    // Session length.
    const fresh = await registerAndLogin(client, { password: `pw-${randomBytes(12).toString('base64url')}` });
    const session = await server.platform.store.sessions.find(
      (await import('../../shared/auth/sessions')).hashSessionToken(
        fresh.cookie.split(';')[0]!.split('=')[1]!,
      ),
      new Date(),
    );
    const minutes = (Date.parse(session!.expires_at) - Date.parse(session!.created_at)) / 60_000;
    expect(minutes).toBeCloseTo(7, 0);

    // Lockout after three failures.
    for (let i = 0; i < 2; i++) expect((await login(client, fresh.username, 'nope')).status).toBe(401);
    expect((await login(client, fresh.username, 'nope')).status).toBe(423);

    // Limits a run gets and the page reports.
    const limits = await (await api('GET', '/k8s-limits')).json();
    expect(limits).toMatchObject({ execution_timeout: 4, memory_limit: '96Mi', cpu_limit: '700m' });
    const submitted = await api('POST', '/execute', user, { script: 'print(1)', lang: 'python' });
    const { execution_id: id } = await submitted.json();
    const [requested] = await server.platform.store.events.listByAggregate(id, {
      eventTypes: ['execution_requested'],
    });
    expect(requested?.event).toMatchObject({ timeout_seconds: 4, memory_limit: '96Mi', cpu_limit: '700m' });
    expect((await (await api('GET', '/admin/executions/queue', admin)).json()).max_concurrent).toBe(3);

    // Audited with the values before and after.
    const audit = await (await api('GET', '/admin/audit?target_type=settings', admin)).json();
    expect(audit.entries[0]).toMatchObject({ action: 'settings.update', actor_id: admin.userId });
    expect(audit.entries[0].changes).toContainEqual({ field: 'password_min_length', old: 8, new: 14 });

    const reset = await api('POST', '/admin/settings/reset', admin);
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({
      password_min_length: server.platform.config.PASSWORD_MIN_LENGTH,
    });
    expect((await register('twelve-chars')).status).toBe(200);
  });
});
