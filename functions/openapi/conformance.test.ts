/**
 * Real answers of the described operations, through the embedded server and a real sandbox, parsed
 * with the response schemas the OpenAPI document publishes: a field renamed or retyped in a handler
 * but not in its `operations.ts` fails here.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newExecution } from '../../shared/domain/execution';
import { executionRequested } from '../../shared/events/sample-events';
import { type Operation, operationKey } from '../../shared/http/openapi/operation';
import {
  authHeaders,
  cookiesFrom,
  type RequestableApp,
  registerAndLogin,
  type TestSession,
} from '../../test/support/http';
import { type RunningServer, startTestServer } from '../../test/support/server';
import { frameData, readSse } from '../../test/support/sse';
import { OPERATION_GROUPS } from '../operations';

const OPERATIONS = new Map<string, Operation>(
  OPERATION_GROUPS.flatMap((group) => group.operations).map((operation) => [
    operationKey(operation),
    operation,
  ]),
);
const checked = new Set<string>();

let server: RunningServer;
let client: RequestableApp;
let user: TestSession;
let admin: TestSession;

beforeAll(async () => {
  server = await startTestServer({ EXECUTION_TIMEOUT_SECONDS: '5', MEMORY_LIMIT: '64Mi' });
  client = { request: (path, init) => fetch(server.baseUrl + path, init) };
  user = await registerAndLogin(client);
  admin = await registerAndLogin(client, {
    beforeLogin: (userId) => server.platform.store.users.update(userId, { role: 'admin' }),
  });
});
afterAll(async () => {
  await server?.close();
});

/** The body `schema` promises, or a failure listing every field at fault. */
function conform(key: string, status: number, body: unknown) {
  const schema = OPERATIONS.get(key)?.responses[status]?.schema;
  expect(schema, `${key} describes no ${status} body`).toBeDefined();
  const result = v.safeParse(schema as v.GenericSchema, body);
  expect(result.success ? [] : v.flatten(result.issues), `${key} ${status}: ${JSON.stringify(body)}`).toEqual(
    [],
  );
}

interface Call {
  session?: TestSession;
  params?: Record<string, string>;
  query?: string;
  json?: unknown;
  form?: Record<string, string>;
}

/** Calls the operation `key` names and checks its success answer against the document. */
async function call(key: string, { session, params = {}, query = '', json, form }: Call = {}) {
  const operation = OPERATIONS.get(key);
  if (!operation) throw new Error(`${key} is not described`);
  const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(params[name] ?? ''),
  );
  const headers: Record<string, string> = session ? authHeaders(session) : {};
  let body: string | undefined;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const response = await client.request(`${path}${query}`, {
    method: operation.method.toUpperCase(),
    headers,
    body,
  });
  const success = Number(Object.keys(operation.responses).find((status) => status.startsWith('2')));
  const text = await response.text();
  expect(response.status, `${key}: ${text}`).toBe(success);
  const isJson = response.headers.get('content-type')?.startsWith('application/json') ?? false;
  const data: unknown = text && isJson ? JSON.parse(text) : undefined;
  const described = operation.responses[success];
  if (described?.schema) conform(key, success, data);
  else if (!described?.mediaType) expect(text, `${key} answers no body`).toBe('');
  checked.add(key);
  return { response, data: data as Record<string, unknown> };
}

describe('answers match the OpenAPI document', () => {
  it('for accounts', async () => {
    const username = `doc_${randomBytes(5).toString('hex')}`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    await call('POST /api/v1/auth/register', {
      json: { username, email: `${username}@example.com`, password },
    });
    const { response } = await call('POST /api/v1/auth/login', {
      form: { username, password, grant_type: 'password' },
    });
    const cookies = cookiesFrom(response);
    const session: TestSession = {
      cookie: `access_token=${cookies.access_token}; csrf_token=${cookies.csrf_token}`,
      csrf: cookies.csrf_token ?? '',
      userId: '',
      username,
    };
    await call('GET /api/v1/auth/me', { session });
    await call('POST /api/v1/auth/logout', { session });
  });

  it('for the public operations', async () => {
    await call('GET /api/v1/health/live');
    await call('GET /api/v1/example-scripts');
    await call('GET /api/v1/k8s-limits');
    await call('GET /api/v1/openapi.json');
  });

  it('for a run: submission, its stream, result, events, list, retry, cancel and deletion', async () => {
    const { data: accepted } = await call('POST /api/v1/execute', {
      session: user,
      json: { script: 'print("documented")', lang: 'python' },
    });
    const executionId = accepted.execution_id as string;
    const { frames, status } = await readSse(`${server.baseUrl}/api/v1/events/executions/${executionId}`, {
      headers: { Cookie: user.cookie },
      until: (frame) => ['result_stored', 'result_failed'].includes(frameData(frame).event_type as string),
      timeoutMs: 30_000,
    });
    expect(status).toBe(200);
    expect(frames.length).toBeGreaterThan(1);
    for (const frame of frames)
      conform('GET /api/v1/events/executions/{execution_id}', 200, frameData(frame));
    checked.add('GET /api/v1/events/executions/{execution_id}');

    const params = { execution_id: executionId };
    await call('GET /api/v1/executions/{execution_id}/result', { session: user, params });
    const { data: events } = await call('GET /api/v1/executions/{execution_id}/events', {
      session: user,
      params,
    });
    expect(events).not.toHaveLength(0);
    await call('GET /api/v1/user/executions', { session: user });
    const { data: retried } = await call('POST /api/v1/executions/{execution_id}/retry', {
      session: user,
      params,
    });
    const again = { execution_id: retried.execution_id as string };
    await call('POST /api/v1/executions/{execution_id}/cancel', { session: user, params: again, json: {} });
    await call('DELETE /api/v1/executions/{execution_id}', { session: admin, params: again });
  });

  it('for saved scripts', async () => {
    const { data: saved } = await call('POST /api/v1/scripts', {
      session: user,
      json: { name: 'doc', script: 'print(1)', lang: 'python' },
    });
    const params = { script_id: saved.script_id as string };
    await call('GET /api/v1/scripts', { session: user });
    await call('GET /api/v1/scripts/{script_id}', { session: user, params });
    await call('PUT /api/v1/scripts/{script_id}', { session: user, params, json: { name: 'doc 2' } });
    await call('DELETE /api/v1/scripts/{script_id}', { session: user, params });
  });

  it('for settings', async () => {
    await call('GET /api/v1/user/settings/', { session: user });
    await call('PUT /api/v1/user/settings/', { session: user, json: { timezone: 'Europe/Berlin' } });
    await call('PUT /api/v1/user/settings/theme', { session: user, json: { theme: 'dark' } });
    await call('PUT /api/v1/user/settings/notifications', { session: user, json: { system_updates: false } });
    await call('PUT /api/v1/user/settings/editor', { session: user, json: { font_size: 16 } });
    await call('PUT /api/v1/user/settings/custom/{key}', {
      session: user,
      params: { key: 'layout' },
      json: { panes: 2 },
    });
    const { data } = await call('GET /api/v1/user/settings/history', { session: user });
    expect((data.history as unknown[]).length).toBeGreaterThan(0);
    await call('POST /api/v1/user/settings/restore', {
      session: user,
      json: { timestamp: '2000-01-01T00:00:00Z', reason: 'back to the defaults' },
    });
  });

  it('for notifications', async () => {
    const notification = {
      notification_id: crypto.randomUUID(),
      user_id: user.userId,
      channel: 'in_app' as const,
      status: 'delivered' as const,
      subject: 'Documented',
      body: 'A notification for the document',
      action_url: '/executions',
      severity: 'low' as const,
      tags: ['doc'],
      created_at: new Date().toISOString(),
      read_at: null,
      source_event_id: crypto.randomUUID(),
    };
    await server.platform.store.notifications.create(notification);
    const { data } = await call('GET /api/v1/notifications', { session: user });
    expect((data.notifications as unknown[]).length).toBeGreaterThan(0);
    const params = { notification_id: notification.notification_id };
    await call('GET /api/v1/notifications/unread-count', { session: user });
    await call('PUT /api/v1/notifications/{notification_id}/read', { session: user, params });
    await call('POST /api/v1/notifications/mark-all-read', { session: user });
    await call('DELETE /api/v1/notifications/{notification_id}', { session: user, params });
    await call('GET /api/v1/notifications/subscriptions', { session: user });
    await call('PUT /api/v1/notifications/subscriptions/{channel}', {
      session: user,
      params: { channel: 'in_app' },
      json: { enabled: true, severities: ['high'] },
    });
    await call('GET /api/v1/notifications/deliveries', { session: user });
  });

  it('for user administration', async () => {
    const name = `doc_${randomBytes(5).toString('hex')}`;
    const password = `pw-${randomBytes(9).toString('base64url')}`;
    const { data: created } = await call('POST /api/v1/admin/users/', {
      session: admin,
      json: { username: name, email: `${name}@example.com`, password },
    });
    const params = { user_id: created.user_id as string };
    await call('GET /api/v1/admin/users/', { session: admin });
    await call('GET /api/v1/admin/users/{user_id}', { session: admin, params });
    await call('PUT /api/v1/admin/users/{user_id}', { session: admin, params, json: { is_active: true } });
    await call('GET /api/v1/admin/users/{user_id}/overview', {
      session: admin,
      params: { user_id: user.userId },
    });
    await call('POST /api/v1/admin/users/{user_id}/reset-password', {
      session: admin,
      params,
      json: { new_password: `${password}-new` },
    });
    await call('POST /api/v1/admin/users/{user_id}/unlock', { session: admin, params });
    await call('DELETE /api/v1/admin/users/{user_id}', { session: admin, params });
  });

  it('for event administration', async () => {
    const { data: page } = await call('POST /api/v1/admin/events/browse', {
      session: admin,
      json: { filters: { user_id: user.userId }, limit: 5 },
    });
    const [first] = page.events as { event_id: string }[];
    expect(first, 'the user has events from the runs above').toBeDefined();
    await call('GET /api/v1/admin/events/stats', { session: admin, query: '?hours=2' });
    await call('GET /api/v1/admin/events/export/{export_format}', {
      session: admin,
      params: { export_format: 'csv' },
      query: `?user_id=${user.userId}&limit=3`,
    });
    const params = { event_id: first!.event_id };
    await call('GET /api/v1/admin/events/{event_id}', { session: admin, params });
    await call('DELETE /api/v1/admin/events/{event_id}', { session: admin, params });
  });

  it('for API keys', async () => {
    const { data: created } = await call('POST /api/v1/user/api-keys', {
      session: user,
      json: { name: 'docs', scopes: ['executions:read'] },
    });
    await call('GET /api/v1/user/api-keys', { session: user });
    await call('DELETE /api/v1/user/api-keys/{key_id}', {
      session: user,
      params: { key_id: created.key_id as string },
    });
  });

  it('for the audit log', async () => {
    await call('GET /api/v1/admin/audit', { session: admin, query: '?limit=5' });
  });

  it('for sagas and the admin queue', async () => {
    const { data: page } = await call('GET /api/v1/admin/executions/', { session: admin, query: '?limit=5' });
    const [execution] = page.executions as { execution_id: string }[];
    expect(execution, 'the runs above left executions').toBeDefined();
    const params = { saga_id: execution!.execution_id, execution_id: execution!.execution_id };
    await call('GET /api/v1/admin/executions/queue', { session: admin });
    await call('GET /api/v1/sagas/', { session: admin });
    await call('GET /api/v1/sagas/{saga_id}', { session: admin, params });
    await call('GET /api/v1/sagas/execution/{execution_id}', { session: admin, params });
    // A queued execution with its request stored, which no sandbox has picked up.
    const waiting = newExecution({
      execution_id: randomUUID(),
      user_id: user.userId,
      script: 'print(1)',
      stdin: '',
      lang: 'python',
      lang_version: '3.12',
      priority: 'low',
      created_at: new Date().toISOString(),
    });
    await server.platform.store.executions.create(waiting);
    await server.platform.store.events.append(executionRequested(waiting.execution_id));
    await call('PUT /api/v1/admin/executions/{execution_id}/priority', {
      session: admin,
      params: { execution_id: waiting.execution_id },
      json: { priority: 'high' },
    });
    await call('POST /api/v1/sagas/{saga_id}/cancel', {
      session: admin,
      params: { saga_id: waiting.execution_id },
    });
  });

  it('for system settings', async () => {
    await call('GET /api/v1/admin/settings/', { session: admin });
    await call('PUT /api/v1/admin/settings/', { session: admin, json: { max_concurrent_executions: 4 } });
    await call('POST /api/v1/admin/settings/reset', { session: admin });
  });

  it('for dead letters', async () => {
    const letter = {
      dead_letter_id: randomUUID(),
      subscriber: 'notify',
      event: null,
      raw: 'not an event',
      event_type: 'unknown',
      event_id: 'unknown',
      error: 'HTTP 400 malformed CloudEvent',
      attempts: 1,
      created_at: new Date().toISOString(),
    };
    await server.platform.store.deadLetters.add(letter);
    const params = { dead_letter_id: letter.dead_letter_id };
    await call('GET /api/v1/admin/dead-letters', { session: admin });
    await call('GET /api/v1/admin/dead-letters/{dead_letter_id}', { session: admin, params });
    await call('DELETE /api/v1/admin/dead-letters/{dead_letter_id}', { session: admin, params });
    const retriable = { ...letter, dead_letter_id: randomUUID(), event: executionRequested(randomUUID()) };
    await server.platform.store.deadLetters.add(retriable);
    await call('POST /api/v1/admin/dead-letters/{dead_letter_id}/retry', {
      session: admin,
      params: { dead_letter_id: retriable.dead_letter_id },
    });
  });

  it('for every described operation but the endless notification stream', () => {
    const unchecked = [...OPERATIONS.keys()].filter((key) => !checked.has(key));
    expect(unchecked).toEqual(['GET /api/v1/events/notifications/stream']);
  });
});
