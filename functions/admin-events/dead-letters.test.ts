/**
 * Dead letters through the embedded server with the real sandbox: an admin lists and inspects one,
 * sends its event again — and the execution it stranded runs to the end — or discards one; audited.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newExecution } from '../../shared/domain/execution';
import { executionRequested } from '../../shared/events/sample-events';
import type { DeadLetter } from '../../shared/store/ports';
import { apiCaller, registerAdmin, registerAndLogin, type TestSession } from '../../test/support/http';
import { type RunningServer, startTestServer } from '../../test/support/server';

let server: RunningServer;
let api: ReturnType<typeof apiCaller>;
let admin: TestSession;
let user: TestSession;

beforeAll(async () => {
  server = await startTestServer({ EXECUTION_TIMEOUT_SECONDS: '5', MEMORY_LIMIT: '64Mi' });
  api = apiCaller(server.baseUrl);
  const client = { request: (path: string, init?: RequestInit) => fetch(server.baseUrl + path, init) };
  admin = await registerAdmin(client, server.platform.store.users);
  user = await registerAndLogin(client);
});
afterAll(async () => {
  await server?.close();
});

/** A queued execution whose request run-pod never took: its dead letter, as the bus writes one. */
async function strandedExecution(): Promise<{ executionId: string; letter: DeadLetter }> {
  const executionId = randomUUID();
  const python = server.platform.sandbox.runtimes().find((runtime) => runtime.language === 'python')!;
  await server.platform.store.executions.create(
    newExecution({
      execution_id: executionId,
      user_id: user.userId,
      script: 'print("sent again")',
      stdin: '',
      lang: 'python',
      lang_version: python.version,
      priority: 'normal',
      created_at: new Date().toISOString(),
    }),
  );
  const event = {
    ...executionRequested(executionId),
    script: 'print("sent again")',
    language_version: python.version,
  };
  await server.platform.store.events.append(event);
  const letter: DeadLetter = {
    dead_letter_id: randomUUID(),
    subscriber: 'run-pod',
    event,
    raw: null,
    event_type: event.event_type,
    event_id: event.event_id,
    error: '11 attempts, last: HTTP 503 store unavailable',
    attempts: 11,
    created_at: new Date().toISOString(),
  };
  await server.platform.store.deadLetters.add(letter);
  return { executionId, letter };
}

describe('admin dead letters', () => {
  it('answers 401 signed out and 403 for a user', async () => {
    for (const [method, path] of [
      ['GET', '/admin/dead-letters'],
      ['GET', `/admin/dead-letters/${randomUUID()}`],
      ['POST', `/admin/dead-letters/${randomUUID()}/retry`],
      ['DELETE', `/admin/dead-letters/${randomUUID()}`],
    ] as const) {
      expect((await api(method, path)).status).toBe(401);
      expect((await api(method, path, user)).status).toBe(403);
    }
  });

  it('lists and inspects a dead letter, and sending it again finishes the execution it stranded', async () => {
    const { executionId, letter } = await strandedExecution();
    const list = await (await api('GET', '/admin/dead-letters?limit=10', admin)).json();
    expect(list.dead_letters).toContainEqual(letter);
    expect(await (await api('GET', `/admin/dead-letters/${letter.dead_letter_id}`, admin)).json()).toEqual(
      letter,
    );

    const retried = await api('POST', `/admin/dead-letters/${letter.dead_letter_id}/retry`, admin);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({
      dead_letter_id: letter.dead_letter_id,
      event_id: letter.event_id,
    });
    await expect
      .poll(async () => (await server.platform.store.executions.get(executionId))?.status, {
        timeout: 20_000,
      })
      .toBe('completed');
    expect((await server.platform.store.executions.get(executionId))?.stdout).toBe('sent again\n');
    expect((await api('GET', `/admin/dead-letters/${letter.dead_letter_id}`, admin)).status).toBe(404);
    const audit = await (await api('GET', `/admin/audit?target_id=${letter.dead_letter_id}`, admin)).json();
    expect(audit.entries[0]).toMatchObject({ action: 'dead_letter.retry', actor_id: admin.userId });
  });

  it('discards a dead letter, and refuses to send one again that holds no event', async () => {
    const unreadable: DeadLetter = {
      dead_letter_id: randomUUID(),
      subscriber: 'notify',
      event: null,
      raw: '{"not": "an event"',
      event_type: 'unknown',
      event_id: 'unknown',
      error: 'HTTP 400 malformed CloudEvent',
      attempts: 1,
      created_at: new Date().toISOString(),
    };
    await server.platform.store.deadLetters.add(unreadable);
    const retry = await api('POST', `/admin/dead-letters/${unreadable.dead_letter_id}/retry`, admin);
    expect(retry.status).toBe(409);
    expect((await api('DELETE', `/admin/dead-letters/${unreadable.dead_letter_id}`, admin)).status).toBe(204);
    expect((await api('DELETE', `/admin/dead-letters/${unreadable.dead_letter_id}`, admin)).status).toBe(404);
    expect(await server.platform.store.deadLetters.get(unreadable.dead_letter_id)).toBeNull();
  });

  it.each(['limit=0', 'limit=201', 'offset=-1'])('answers 422 for %s', async (query) => {
    expect((await api('GET', `/admin/dead-letters?${query}`, admin)).status).toBe(422);
  });
});
