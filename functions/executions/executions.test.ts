import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitExecution } from '../../shared/executions/submission';
import { authHeaders, registerAndLogin, type TestSession } from '../../test/support/http';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createAuthApp } from '../auth/app';
import { createExecutionsApp } from './app';

let platform: TestPlatform;
let app: ReturnType<typeof createExecutionsApp>;
let owner: TestSession;
let stranger: TestSession;
let admin: TestSession;

beforeAll(async () => {
  platform = await createTestPlatform();
  app = createExecutionsApp(platform);
  const auth = createAuthApp(platform);
  owner = await registerAndLogin(auth);
  stranger = await registerAndLogin(auth);
  admin = await registerAndLogin(auth, {
    beforeLogin: (userId) => platform.store.users.update(userId, { role: 'admin' }),
  });
});
afterAll(async () => {
  await platform?.close();
});

async function queued(script = 'print(1)', session = owner): Promise<string> {
  const user = (await platform.store.users.findById(session.userId))!;
  const { execution_id } = await submitExecution(platform, user, {
    script,
    lang: 'python',
    lang_version: undefined,
    stdin: '',
  });
  return execution_id;
}

async function finished(status: 'completed' | 'failed' = 'completed'): Promise<string> {
  const id = await queued();
  await platform.store.executions.transition(id, ['queued'], {
    status,
    exit_code: 0,
    stdout: 'out',
    updated_at: new Date().toISOString(),
  });
  return id;
}

const get = (path: string, session?: TestSession) =>
  app.request(path, { headers: session ? authHeaders(session) : {} });
const post = (path: string, session: TestSession, body?: unknown, csrf = true) =>
  app.request(path, {
    method: 'POST',
    headers: {
      ...(csrf ? authHeaders(session) : { Cookie: session.cookie }),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('GET /executions/{id}/result', () => {
  it('returns the result to its owner and to an admin', async () => {
    const id = await finished();
    for (const session of [owner, admin]) {
      const response = await get(`/api/v1/executions/${id}/result`, session);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        execution_id: id,
        status: 'completed',
        stdout: 'out',
        lang: 'python',
        priority: 'normal',
      });
    }
  });

  it('answers 401, 403, 404 and 422 as the reference does', async () => {
    const id = await queued();
    expect((await get(`/api/v1/executions/${id}/result`)).status).toBe(401);
    expect((await get(`/api/v1/executions/${id}/result`, stranger)).status).toBe(403);
    expect((await get(`/api/v1/executions/${crypto.randomUUID()}/result`, owner)).status).toBe(404);
    const malformed = await get('/api/v1/executions/not-an-id/result', owner);
    expect(malformed.status).toBe(422);
    expect(JSON.stringify(await malformed.json())).toContain('must be a UUID');
  });
});

describe('POST /executions/{id}/cancel', () => {
  it('requests cancellation of an active execution and publishes execution_cancelled', async () => {
    const id = await queued();
    const response = await post(`/api/v1/executions/${id}/cancel`, owner, { reason: 'changed my mind' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; event_id: string };
    expect(body.status).toBe('cancellation_requested');
    const stored = await platform.store.events.get(body.event_id);
    expect(stored?.event).toMatchObject({
      event_type: 'execution_cancelled',
      cancelled_by: owner.userId,
      reason: 'changed my mind',
    });
  });

  it('accepts an empty body, refuses finished executions and reports an earlier cancel', async () => {
    expect((await post(`/api/v1/executions/${await queued()}/cancel`, owner)).status).toBe(200);
    const done = await post(`/api/v1/executions/${await finished()}/cancel`, owner);
    expect(done.status).toBe(400);
    expect(await done.json()).toMatchObject({ detail: 'Cannot cancel an execution in status completed' });
    const id = await queued();
    await platform.store.executions.transition(id, ['queued'], {
      status: 'cancelled',
      updated_at: new Date().toISOString(),
    });
    expect(await (await post(`/api/v1/executions/${id}/cancel`, owner)).json()).toMatchObject({
      status: 'already_cancelled',
    });
  });

  it('guards ownership, CSRF and the body', async () => {
    const id = await queued();
    expect((await post(`/api/v1/executions/${id}/cancel`, stranger)).status).toBe(403);
    expect((await post(`/api/v1/executions/${id}/cancel`, owner, undefined, false)).status).toBe(403);
    expect((await post(`/api/v1/executions/${id}/cancel`, owner, '{bad')).status).toBe(422);
    expect((await post(`/api/v1/executions/${id}/cancel`, owner, { reason: 5 })).status).toBe(422);
  });
});

describe('POST /executions/{id}/retry', () => {
  it('queues a new execution with the same script for a finished one', async () => {
    const id = await finished('failed');
    const response = await post(`/api/v1/executions/${id}/retry`, owner);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { execution_id: string; status: string };
    expect(body.execution_id).not.toBe(id);
    expect(body.status).toBe('queued');
    expect((await platform.store.executions.get(body.execution_id))!.script).toBe('print(1)');
  });

  it('refuses an active execution and another user', async () => {
    const id = await queued();
    expect((await post(`/api/v1/executions/${id}/retry`, owner)).status).toBe(400);
    expect((await post(`/api/v1/executions/${await finished()}/retry`, stranger)).status).toBe(403);
  });
});

describe('GET /executions/{id}/events', () => {
  it('lists the stored events oldest first, filtered by type', async () => {
    const id = await queued();
    await post(`/api/v1/executions/${id}/cancel`, owner);
    const all = (await (await get(`/api/v1/executions/${id}/events`, owner)).json()) as {
      event_type: string;
    }[];
    expect(all.map((e) => e.event_type)).toEqual(['execution_requested', 'execution_cancelled']);
    const filtered = await get(`/api/v1/executions/${id}/events?event_types=execution_cancelled`, owner);
    expect(((await filtered.json()) as { event_type: string }[]).map((e) => e.event_type)).toEqual([
      'execution_cancelled',
    ]);
  });

  it('validates its query and ownership', async () => {
    const id = await queued();
    expect((await get(`/api/v1/executions/${id}/events?limit=0`, owner)).status).toBe(422);
    expect((await get(`/api/v1/executions/${id}/events?event_types=nonsense`, owner)).status).toBe(422);
    expect((await get(`/api/v1/executions/${id}/events`, stranger)).status).toBe(403);
  });
});

describe('GET /user/executions', () => {
  it('pages through the caller’s own executions, newest first, with filters', async () => {
    const session = await registerAndLogin(createAuthApp(platform));
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await queued(`print(${i})`, session));
    await platform.store.executions.transition(ids[0]!, ['queued'], {
      status: 'completed',
      updated_at: new Date().toISOString(),
    });
    const first = (await (await get('/api/v1/user/executions?limit=2', session)).json()) as {
      executions: { execution_id: string; created_at: string }[];
      total: number;
      has_more: boolean;
    };
    expect(first.total).toBe(5);
    expect(first.has_more).toBe(true);
    const rest = (await (await get('/api/v1/user/executions?limit=10&skip=2', session)).json()) as {
      executions: { execution_id: string; created_at: string }[];
      has_more: boolean;
    };
    expect(rest.has_more).toBe(false);
    // Every execution once across the pages, newest first (ids break ties within a millisecond).
    const pages = [...first.executions, ...rest.executions];
    expect(pages.map((e) => e.execution_id).sort()).toEqual([...ids].sort());
    const times = pages.map((e) => e.created_at);
    expect(times).toEqual([...times].sort().reverse());
    const completed = (await (await get('/api/v1/user/executions?status=completed', session)).json()) as {
      total: number;
    };
    expect(completed.total).toBe(1);

    // A window written with zone offsets selects by instant: 10:00+02:00 is 08:00Z.
    const created = pages.map((e) => Date.parse(e.created_at));
    const offset = (ms: number) => new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const window = `start_time=${encodeURIComponent(offset(Math.min(...created)))}&end_time=${encodeURIComponent(offset(Math.max(...created)))}`;
    const inWindow = (await (await get(`/api/v1/user/executions?${window}`, session)).json()) as {
      total: number;
    };
    expect(inWindow.total).toBe(5);
  });

  it('answers 401 and 422 for bad queries', async () => {
    expect((await get('/api/v1/user/executions')).status).toBe(401);
    for (const query of [
      'limit=500',
      'skip=-1',
      'status=done',
      'start_time=yesterday',
      // Allowed by the ISO 8601 pattern but not a time `Date` can read.
      'start_time=2024-01-01T00:00:00%2B05',
      'end_time=2024-02-30T00:00:00Z%00',
      // The same instants in other zones: the window is compared as times, not as text.
      'start_time=2024-01-01T12:00:00Z&end_time=2024-01-01T13:00:00%2B05:00',
    ]) {
      expect((await get(`/api/v1/user/executions?${query}`, owner)).status, query).toBe(422);
    }
  });
});

describe('DELETE /executions/{id}', () => {
  it('lets only an admin delete, cancelling the run first', async () => {
    const id = await queued();
    const asOwner = await app.request(`/api/v1/executions/${id}`, {
      method: 'DELETE',
      headers: authHeaders(owner),
    });
    expect(asOwner.status).toBe(403);
    const asAdmin = await app.request(`/api/v1/executions/${id}`, {
      method: 'DELETE',
      headers: authHeaders(admin),
    });
    expect(asAdmin.status).toBe(200);
    expect(await asAdmin.json()).toEqual({ message: 'Execution deleted successfully', execution_id: id });
    expect(await platform.store.executions.get(id)).toBeNull();
    const events = await platform.store.events.listByAggregate(id, { eventTypes: ['execution_cancelled'] });
    expect(events).toHaveLength(1);
    const again = await app.request(`/api/v1/executions/${id}`, {
      method: 'DELETE',
      headers: authHeaders(admin),
    });
    expect(again.status).toBe(404);
  });
});

describe('catalogue', () => {
  it('serves examples and limits for the runtimes this host has, cacheably and without a session', async () => {
    const examples = await get('/api/v1/example-scripts');
    expect(examples.headers.get('cache-control')).toBe('public, max-age=600');
    expect(((await examples.json()) as { scripts: Record<string, string> }).scripts.python).toContain(
      'print',
    );
    const limits = (await (await get('/api/v1/k8s-limits')).json()) as {
      supported_runtimes: Record<string, { versions: string[]; file_ext: string }>;
      execution_timeout: number;
    };
    expect(limits.supported_runtimes.python!.file_ext).toBe('py');
    expect(limits.supported_runtimes.python!.versions.length).toBeGreaterThan(0);
    expect(limits.execution_timeout).toBe(platform.config.EXECUTION_TIMEOUT_SECONDS);
    const live = (await (await get('/api/v1/health/live')).json()) as { status: string };
    expect(live.status).toBe('ok');
  });
});
