/**
 * Sagas and the admin queue through the embedded server with the real sandbox: a run's saga from its
 * events, who may see and cancel it, and the queue's counts and priorities as an admin sees them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newExecution } from '../../shared/domain/execution';
import { apiCaller, registerAdmin, registerAndLogin, type TestSession } from '../../test/support/http';
import { type RunningServer, startTestServer } from '../../test/support/server';
import { readSse } from '../../test/support/sse';

let server: RunningServer;
let api: ReturnType<typeof apiCaller>;
let owner: TestSession;
let stranger: TestSession;
let admin: TestSession;

beforeAll(async () => {
  server = await startTestServer({ EXECUTION_TIMEOUT_SECONDS: '10', MEMORY_LIMIT: '64Mi' });
  api = apiCaller(server.baseUrl);
  const client = { request: (path: string, init?: RequestInit) => fetch(server.baseUrl + path, init) };
  owner = await registerAndLogin(client);
  stranger = await registerAndLogin(client);
  admin = await registerAdmin(client, server.platform.store.users);
});
afterAll(async () => {
  await server?.close();
});

async function submit(script: string): Promise<string> {
  const response = await api('POST', '/execute', owner, { script, lang: 'python' });
  expect(response.status).toBe(200);
  return (await response.json()).execution_id;
}

const finished = (id: string) =>
  readSse(`${server.baseUrl}/api/v1/events/executions/${id}`, {
    headers: { Cookie: owner.cookie },
    until: (frame) => /"event_type":"result_(stored|failed)"/.test(frame.data),
    timeoutMs: 20_000,
  });

/** A queued execution in the store that no run-pod has been told about. */
async function queuedInStore(priority: 'normal' | 'low' = 'normal'): Promise<string> {
  const id = randomUUID();
  await server.platform.store.executions.create(
    newExecution({
      execution_id: id,
      user_id: owner.userId,
      script: 'print(1)',
      stdin: '',
      lang: 'python',
      lang_version: '3.12',
      priority,
      created_at: new Date().toISOString(),
    }),
  );
  return id;
}

describe('sagas', () => {
  it("shows a finished run's saga with every step, to its owner and admins only", async () => {
    const id = await submit('print("saga")');
    await finished(id);

    const response = await api('GET', `/sagas/${id}`, owner);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      saga_id: id,
      saga_name: 'execution_saga',
      execution_id: id,
      state: 'completed',
      current_step: null,
      completed_steps: [
        'validate_execution',
        'allocate_resources',
        'create_pod',
        'run_script',
        'store_result',
      ],
      compensated_steps: [],
      error_message: null,
      retry_count: 0,
    });
    expect((await api('GET', `/sagas/${id}`, admin)).status).toBe(200);
    expect((await api('GET', `/sagas/${id}`, stranger)).status).toBe(403);
    expect((await api('GET', `/sagas/${id}`)).status).toBe(401);
    expect((await api('GET', `/sagas/${randomUUID()}`, owner)).status).toBe(404);

    const byExecution = await (await api('GET', `/sagas/execution/${id}`, owner)).json();
    expect(byExecution).toMatchObject({ total: 1, has_more: false });
    expect(byExecution.sagas[0].saga_id).toBe(id);
    expect((await api('GET', `/sagas/execution/${id}`, stranger)).status).toBe(403);

    const completed = await (await api('GET', '/sagas/?state=completed', owner)).json();
    expect(completed.sagas.map((s: { saga_id: string }) => s.saga_id)).toContain(id);
    const running = await (await api('GET', '/sagas/?state=running', owner)).json();
    expect(running.sagas.map((s: { saga_id: string }) => s.saga_id)).not.toContain(id);
    expect((await (await api('GET', '/sagas/', stranger)).json()).total).toBe(0);
  });

  it('cancels a running saga, which stops its run, and refuses to cancel an ended one', async () => {
    const id = await submit('import time\ntime.sleep(30)');
    const cancel = await api('POST', `/sagas/${id}/cancel`, owner);
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toMatchObject({ success: true, saga_id: id });
    await finished(id);
    const saga = await (await api('GET', `/sagas/${id}`, owner)).json();
    expect(saga.state).toBe('cancelled');
    expect((await (await api('GET', `/executions/${id}/result`, owner)).json()).status).toBe('cancelled');

    const again = await api('POST', `/sagas/${id}/cancel`, owner);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ detail: 'Cannot cancel a saga that is cancelled' });
    expect((await api('POST', `/sagas/${id}/cancel`, stranger)).status).toBe(403);
  });

  it.each(['state=done', 'limit=0', 'limit=1001', 'skip=-1'])('answers 422 for %s', async (query) => {
    expect((await api('GET', `/sagas/?${query}`, owner)).status).toBe(422);
  });
});

describe('admin executions and the queue', () => {
  it('answers 401 signed out and 403 for a user', async () => {
    for (const [method, path] of [
      ['GET', '/admin/executions/'],
      ['GET', '/admin/executions/queue'],
      ['PUT', `/admin/executions/${randomUUID()}/priority`],
    ] as const) {
      const body = method === 'PUT' ? { priority: 'high' } : undefined;
      expect((await api(method, path, undefined, body)).status).toBe(401);
      expect((await api(method, path, owner, body)).status).toBe(403);
    }
  });

  it("lists every user's executions with filters", async () => {
    const low = await queuedInStore('low');
    const page = await (
      await api('GET', `/admin/executions/?user_id=${owner.userId}&priority=low`, admin)
    ).json();
    expect(page.executions.map((e: { execution_id: string }) => e.execution_id)).toEqual([low]);
    expect(page.executions[0]).toMatchObject({ status: 'queued', priority: 'low', user_id: owner.userId });
    expect((await api('GET', '/admin/executions/?status=done', admin)).status).toBe(422);
    expect((await api('GET', '/admin/executions/?limit=201', admin)).status).toBe(422);
  });

  it("counts the queue by priority and changes a waiting execution's priority, not a finished one's", async () => {
    const before = await (await api('GET', '/admin/executions/queue', admin)).json();
    const id = await queuedInStore('normal');
    const counted = await (await api('GET', '/admin/executions/queue', admin)).json();
    expect(counted.queue_depth).toBe(before.queue_depth + 1);
    expect(counted.by_priority.normal).toBe(before.by_priority.normal + 1);
    expect(counted.max_concurrent).toBe(server.platform.config.MAX_CONCURRENT_EXECUTIONS);

    const changed = await api('PUT', `/admin/executions/${id}/priority`, admin, { priority: 'critical' });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ execution_id: id, priority: 'critical' });
    const after = await (await api('GET', '/admin/executions/queue', admin)).json();
    expect(after.by_priority.critical).toBe(counted.by_priority.critical + 1);
    expect(after.by_priority.normal).toBe(counted.by_priority.normal - 1);

    await server.platform.store.executions.transition(id, ['queued'], { status: 'completed' });
    const late = await api('PUT', `/admin/executions/${id}/priority`, admin, { priority: 'low' });
    expect(late.status).toBe(409);
    expect(
      (await api('PUT', `/admin/executions/${randomUUID()}/priority`, admin, { priority: 'low' })).status,
    ).toBe(404);
    expect((await api('PUT', `/admin/executions/${id}/priority`, admin, { priority: 'urgent' })).status).toBe(
      422,
    );
    expect((await api('PUT', '/admin/executions/%00/priority', admin, { priority: 'low' })).status).toBe(404);
  });
});
