/**
 * The audit log through the embedded server: administrators' changes of accounts, executions and
 * events are recorded with who, what and the fields before and after, never a secret; only admins read it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../shared/domain/audit';
import { newExecution } from '../../shared/domain/execution';
import { executionOutput } from '../../shared/events/sample-events';
import { apiCaller, registerAdmin, registerAndLogin, type TestSession } from '../../test/support/http';
import { type RunningServer, startTestServer } from '../../test/support/server';

let server: RunningServer;
let api: ReturnType<typeof apiCaller>;
let admin: TestSession;
let user: TestSession;

beforeAll(async () => {
  server = await startTestServer();
  api = apiCaller(server.baseUrl);
  const client = { request: (path: string, init?: RequestInit) => fetch(server.baseUrl + path, init) };
  admin = await registerAdmin(client, server.platform.store.users);
  user = await registerAndLogin(client);
});
afterAll(async () => {
  await server?.close();
});

async function auditOf(query: string): Promise<{ entries: AuditEntry[]; total: number }> {
  const response = await api('GET', `/admin/audit?${query}`, admin);
  expect(response.status).toBe(200);
  return response.json();
}

describe('GET /admin/audit', () => {
  it('answers 401 signed out and 403 for a user', async () => {
    expect((await api('GET', '/admin/audit')).status).toBe(401);
    expect((await api('GET', '/admin/audit', user)).status).toBe(403);
  });

  it.each([
    'target_type=planet',
    'limit=0',
    'limit=201',
    'offset=-1',
    'start_time=yesterday',
    `actor_id=${'x'.repeat(201)}`,
    'start_time=2025-01-02T00:00:00Z&end_time=2025-01-01T00:00:00Z',
  ])('answers 422 for %s', async (query) => {
    expect((await api('GET', `/admin/audit?${query}`, admin)).status).toBe(422);
  });

  it("records an account's life: created, changed, password reset, unlocked, deleted — never the password", async () => {
    const name = `audited_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const created = await (
      await api('POST', '/admin/users/', admin, { username: name, email: `${name}@example.com`, password })
    ).json();
    const id = created.user_id as string;
    expect(
      (await api('PUT', `/admin/users/${id}`, admin, { role: 'moderator', email: `new_${name}@example.com` }))
        .status,
    ).toBe(200);
    expect(
      (await api('POST', `/admin/users/${id}/reset-password`, admin, { new_password: `${password}-2` }))
        .status,
    ).toBe(200);
    expect((await api('POST', `/admin/users/${id}/unlock`, admin)).status).toBe(200);
    expect((await api('DELETE', `/admin/users/${id}`, admin)).status).toBe(200);

    const { entries, total } = await auditOf(`target_type=user&target_id=${id}`);
    expect(total).toBe(5);
    expect(entries.map((entry) => entry.action)).toEqual([
      'user.delete',
      'user.unlock',
      'user.reset_password',
      'user.update',
      'user.create',
    ]);
    for (const entry of entries)
      expect(entry).toMatchObject({ actor_id: admin.userId, actor_username: admin.username });
    const update = entries.find((entry) => entry.action === 'user.update')!;
    expect(update.changes).toEqual([
      { field: 'email', old: `${name}@example.com`, new: `new_${name}@example.com` },
      { field: 'role', old: 'user', new: 'moderator' },
    ]);
    expect(entries.find((entry) => entry.action === 'user.reset_password')!.changes).toEqual([
      { field: 'password_hash', old: '[redacted]', new: '[redacted]' },
    ]);
    const written = JSON.stringify(entries);
    expect(written).not.toContain(password);
    expect(written).not.toMatch(/scrypt|\$argon|pbkdf/i);
  });

  it('records deleted executions and events, and filters by actor, action and time', async () => {
    const execution = newExecution({
      execution_id: randomUUID(),
      user_id: user.userId,
      script: 'print(1)',
      stdin: '',
      lang: 'python',
      lang_version: '3.12',
      priority: 'normal',
      created_at: new Date().toISOString(),
    });
    await server.platform.store.executions.create({ ...execution, status: 'completed' });
    const event = executionOutput(randomUUID());
    await server.platform.store.events.append(event);
    const before = new Date().toISOString();

    expect((await api('DELETE', `/executions/${execution.execution_id}`, admin)).status).toBe(200);
    expect((await api('DELETE', `/admin/events/${event.event_id}`, admin)).status).toBe(200);

    const executions = await auditOf(`action=execution.delete&target_id=${execution.execution_id}`);
    expect(executions.entries[0]?.changes).toEqual([
      { field: 'user_id', old: null, new: user.userId },
      { field: 'status', old: null, new: 'completed' },
    ]);
    const events = await auditOf(`target_type=event&target_id=${event.event_id}`);
    expect(events.entries[0]).toMatchObject({ action: 'event.delete', actor_id: admin.userId });
    const recent = await auditOf(`actor_id=${admin.userId}&start_time=${encodeURIComponent(before)}&limit=1`);
    expect(recent.total).toBe(2);
    expect(recent.entries.map((entry) => entry.action)).toEqual(['event.delete']);
    expect((await auditOf(`actor_id=${user.userId}`)).total).toBe(0);
  });
});
