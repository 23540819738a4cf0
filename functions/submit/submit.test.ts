import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, registerAndLogin, type TestSession } from '../../test/support/http';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createAuthApp } from '../auth/app';
import { createSubmitApp } from './app';

let platform: TestPlatform;
let app: ReturnType<typeof createSubmitApp>;
let session: TestSession;

beforeAll(async () => {
  platform = await createTestPlatform({ MAX_BODY_BYTES: '64Ki' });
  app = createSubmitApp(platform);
  session = await registerAndLogin(createAuthApp(platform));
});
afterAll(async () => {
  await platform?.close();
});

const post = (body: unknown, headers: Record<string, string> = authHeaders(session)) =>
  app.request('/api/v1/execute', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const python = () => platform.sandbox.runtimes().find((r) => r.language === 'python')!;

describe('POST /api/v1/execute', () => {
  it('queues the execution, persists it and stores execution_requested', async () => {
    const response = await post({ script: 'print(1)', lang: 'python', lang_version: python().version });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { execution_id: string; status: string };
    expect(body.status).toBe('queued');
    const record = await platform.store.executions.get(body.execution_id);
    expect(record).toMatchObject({
      user_id: session.userId,
      script: 'print(1)',
      status: 'queued',
      lang: 'python',
    });
    const events = await platform.store.events.listByAggregate(body.execution_id);
    expect(events.map((e) => e.event.event_type)).toEqual(['execution_requested']);
    expect(events[0]!.event).toMatchObject({
      script: 'print(1)',
      language: 'python',
      metadata: { user_id: session.userId },
    });
  });

  it('uses the newest installed version when none is given', async () => {
    const body = (await (await post({ script: 'print(1)' })).json()) as { execution_id: string };
    expect((await platform.store.executions.get(body.execution_id))!.lang_version).toBe(python().version);
  });

  it('answers 401 without a session and 403 without the CSRF token', async () => {
    expect((await post({ script: 'print(1)' }, {})).status).toBe(401);
    const noCsrf = await post({ script: 'print(1)' }, { Cookie: session.cookie });
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.json()).toMatchObject({ detail: 'CSRF validation failed' });
  });

  it.each([
    ['malformed JSON', '{"script": ', 'Malformed JSON'],
    ['a missing script', {}, 'script'],
    ['an empty script', { script: '' }, 'script must not be empty'],
    ['a script over 50,000 characters', { script: 'x'.repeat(50_001) }, 'at most 50,000 characters'],
    ['an unknown language', { script: 'x', lang: 'cobol' }, "Unsupported language 'cobol'"],
    [
      'an unknown version',
      { script: 'x', lang: 'python', lang_version: '2.7' },
      "Unsupported python version '2.7'",
    ],
    ['a script that is not a string', { script: 42 }, 'script must be a string'],
  ])('rejects %s with 422 and says what is wrong', async (_name, body, message) => {
    const response = await post(body);
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain(message);
  });

  it('rejects a body over the size limit with 413', async () => {
    const response = await post({ script: 'x'.repeat(70_000) });
    expect(response.status).toBe(413);
  });

  it('replays the first response for a repeated Idempotency-Key and refuses the key for another body', async () => {
    const key = `key-${Date.now()}`;
    const headers = authHeaders(session, { 'Idempotency-Key': key });
    const first = (await (await post({ script: 'print("once")' }, headers)).json()) as {
      execution_id: string;
    };
    const second = await post({ script: 'print("once")' }, headers);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { execution_id: string }).execution_id).toBe(first.execution_id);
    const list = await platform.store.executions.list({ userId: session.userId }, { limit: 200, skip: 0 });
    expect(list.items.filter((e) => e.script === 'print("once")')).toHaveLength(1);

    const reused = await post({ script: 'print("other")' }, headers);
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({
      detail: 'Idempotency-Key was already used with a different request body',
    });
  });

  it('rejects a malformed Idempotency-Key', async () => {
    const response = await post(
      { script: 'x' },
      authHeaders(session, { 'Idempotency-Key': 'k'.repeat(300) }),
    );
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain('Idempotency-Key');
  });
});
