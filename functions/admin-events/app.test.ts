import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRole } from '../../shared/domain/user';
import {
  executionCompleted,
  executionFailed,
  executionOutput,
  executionRequested,
} from '../../shared/events/sample-events';
import type { DomainEvent } from '../../shared/events/schemas';
import { routeMatches } from '../../shared/platform/function';
import {
  authHeaders,
  type RequestableApp,
  registerAndLogin,
  type TestSession,
} from '../../test/support/http';
import { createTestPlatform } from '../../test/support/platform';
import { authFunction } from '../auth/index';
import { CSV_COLUMNS, csvField } from './export';
import { adminEventsFunction } from './index';

type TestPlatform = Awaited<ReturnType<typeof createTestPlatform>>;

const BASE = 'http://localhost/api/v1/admin/events';
const clock = Date.parse('2025-06-01T12:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(clock - minutes * 60_000).toISOString();

let platform: TestPlatform;
let gateway: RequestableApp;
let admin: TestSession;
let user: TestSession;

/** The sample event, as if `userId`'s and stored `minutes` ago, from `service`. */
function ofUser<T extends DomainEvent>(event: T, userId: string, minutes: number, service = 'run-pod'): T {
  return {
    ...event,
    timestamp: minutesAgo(minutes),
    metadata: { ...event.metadata, user_id: userId, service_name: service },
  };
}

const executionA = randomUUID();
const executionB = randomUUID();
let stored: DomainEvent[];

beforeAll(async () => {
  platform = await createTestPlatform({}, { now: () => new Date(clock) });
  const auth = authFunction.createApp(platform);
  const app = adminEventsFunction.createApp(platform);
  gateway = {
    request: (input, init) =>
      (routeMatches('/api/v1/auth', new URL(input, BASE).pathname) ? auth : app).request(input, init),
  };
  const signIn = (role: UserRole) =>
    registerAndLogin(gateway, { beforeLogin: (userId) => platform.store.users.update(userId, { role }) });
  admin = await signIn('admin');
  user = await signIn('user');
  stored = [
    ofUser(executionRequested(executionA), 'user-a', 90, 'submit'),
    ofUser(executionOutput(executionA), 'user-a', 50),
    ofUser(executionCompleted(executionA), 'user-a', 40),
    ofUser(executionRequested(executionB), 'user-b', 30, 'submit'),
    ofUser(executionFailed(executionB), 'user-b', 20),
  ];
  for (const event of stored) await platform.store.events.append(event);
});

afterAll(async () => {
  await platform.close();
});

const call = (method: string, path: string, session?: TestSession, body?: unknown) =>
  gateway.request(`${BASE}${path}`, {
    method,
    headers: {
      ...(session ? authHeaders(session) : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const ids = (events: { event_id: string }[]) => events.map((e) => e.event_id);
const idOf = (index: number) => stored[index]!.event_id;

describe('admin-events access', () => {
  it.each([
    ['POST', '/browse', { filters: {} }],
    ['GET', '/stats', undefined],
    ['GET', '/export/json', undefined],
    ['GET', `/${randomUUID()}`, undefined],
    ['DELETE', `/${randomUUID()}`, undefined],
  ])('%s %s is 401 signed out and 403 for a user', async (method, path, body) => {
    expect((await call(method, path, undefined, body)).status).toBe(401);
    const asUser = await call(method, path, user, body);
    expect(asUser.status).toBe(403);
    expect(await asUser.json()).toMatchObject({ detail: 'Admin access required' });
  });
});

describe('POST /admin/events/browse', () => {
  const browse = async (body: unknown) => {
    const response = await call('POST', '/browse', admin, body);
    expect(response.status).toBe(200);
    return (await response.json()) as { events: DomainEvent[]; total: number; skip: number; limit: number };
  };

  it('pages through the events newest first, with the total', async () => {
    const first = await browse({ filters: { aggregate_id: executionA }, limit: 2 });
    expect(first).toMatchObject({ total: 3, skip: 0, limit: 2 });
    expect(ids(first.events)).toEqual([idOf(2), idOf(1)]);
    const rest = await browse({ filters: { aggregate_id: executionA }, skip: 2, limit: 2 });
    expect(ids(rest.events)).toEqual([idOf(0)]);
  });

  it('filters by type, user, service and time, and searches text', async () => {
    const only = async (filters: Record<string, unknown>) => ids((await browse({ filters })).events);
    expect(await only({ user_id: 'user-b' })).toEqual([idOf(4), idOf(3)]);
    expect(await only({ event_types: ['execution_requested'], service_name: 'submit' })).toEqual([
      idOf(3),
      idOf(0),
    ]);
    expect(await only({ user_id: 'user-a', start_time: minutesAgo(60), end_time: minutesAgo(40) })).toEqual([
      idOf(2),
      idOf(1),
    ]);
    // The same window in another zone selects the same instants.
    const shifted = (minutes: number) =>
      new Date(clock - minutes * 60_000 + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    expect(await only({ user_id: 'user-a', start_time: shifted(60), end_time: shifted(40) })).toEqual([
      idOf(2),
      idOf(1),
    ]);
    expect(await only({ search_text: 'FAILED' })).toEqual([idOf(4)]);
    expect(await only({ search_text: executionB.slice(0, 13).toUpperCase() })).toEqual([idOf(4), idOf(3)]);
    expect(await only({ search_text: 'no such text' })).toEqual([]);
    // Nulls are what the reference's clients send for "any".
    expect(
      await only({ user_id: null, event_types: null, search_text: null, aggregate_id: executionB }),
    ).toEqual([idOf(4), idOf(3)]);
  });

  it.each([
    [{}, 'filters'],
    [{ filters: { event_types: ['nonsense'] } }, 'event_types'],
    [{ filters: {}, limit: 501 }, 'limit'],
    [{ filters: {}, skip: -1 }, 'skip'],
    [{ filters: { start_time: 'yesterday' } }, 'start_time'],
    [{ filters: { start_time: '2025-01-01T00:00:00+05' } }, 'start_time'],
    [{ filters: { search_text: 'x'.repeat(201) } }, 'search_text'],
  ])('answers 422 naming the field for %j', async (body, field) => {
    const response = await call('POST', '/browse', admin, body);
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain(field);
  });

  it('answers 422 for a window that ends before it starts, and for a body that is not JSON', async () => {
    const backwards = await call('POST', '/browse', admin, {
      filters: { start_time: minutesAgo(10), end_time: minutesAgo(20) },
    });
    expect(backwards.status).toBe(422);
    expect(await backwards.json()).toMatchObject({ detail: 'start_time must not be after end_time' });
    const garbage = await gateway.request(`${BASE}/browse`, {
      method: 'POST',
      headers: { ...authHeaders(admin), 'Content-Type': 'application/json' },
      body: '{"filters":',
    });
    expect(garbage.status).toBe(422);
  });
});

describe('GET /admin/events/stats', () => {
  it('counts the window by type, hour and user, with the error rate', async () => {
    const response = await call('GET', '/stats?hours=1', admin);
    expect(response.status).toBe(200);
    const stats = await response.json();
    // Signing up and in are events too: the totals are those browsing the same hour finds.
    const inHour = await call('POST', '/browse', admin, { filters: { start_time: minutesAgo(60) } });
    const { total } = await inHour.json();
    expect(stats.total_events).toBe(total);
    expect(stats.events_by_type).toEqual(
      expect.arrayContaining([
        { event_type: 'execution_failed', count: 1 },
        { event_type: 'execution_requested', count: 1 },
      ]),
    );
    expect(stats.top_users).toEqual(
      expect.arrayContaining([
        { user_id: 'user-a', event_count: 2 },
        { user_id: 'user-b', event_count: 2 },
      ]),
    );
    expect(stats.error_rate).toBe(Math.round((1 / total) * 10_000) / 100);
    expect(stats.events_by_hour.reduce((sum: number, h: { count: number }) => sum + h.count, 0)).toBe(total);
    // The default day also holds the request of 90 minutes ago.
    expect((await (await call('GET', '/stats', admin)).json()).total_events).toBe(total + 1);
  });

  it.each(['0', '169', 'x'])('answers 422 for hours=%s', async (hours) => {
    expect((await call('GET', `/stats?hours=${hours}`, admin)).status).toBe(422);
  });
});

describe('GET /admin/events/export/{format}', () => {
  it('streams JSON with the filters, the events in stored order and how many', async () => {
    const response = await call(
      'GET',
      `/export/json?user_id=user-a&event_types=execution_requested&event_types=execution_completed`,
      admin,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="events_export_\d{8}T\d{6}\.json"$/,
    );
    expect(response.headers.get('x-total-count')).toBe('2');
    expect(response.headers.get('x-export-truncated')).toBe('false');
    const body = await response.json();
    expect(body).toMatchObject({
      filters: { user_id: 'user-a', event_types: ['execution_requested', 'execution_completed'] },
      limit: 10_000,
      total_matching: 2,
      exported_count: 2,
    });
    expect(body.events).toEqual([stored[0], stored[2]]);
  });

  it('writes CSV with a header row and says when the limit cut it short', async () => {
    const response = await call('GET', `/export/csv?aggregate_id=${executionA}&limit=2`, admin);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('x-total-count')).toBe('3');
    expect(response.headers.get('x-export-truncated')).toBe('true');
    const lines = (await response.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(3);
    expect(
      lines[1]!.startsWith(
        `${idOf(0)},execution_requested,${stored[0]!.timestamp},${executionA},user-a,submit,"{`,
      ),
    ).toBe(true);
  });

  it('quotes CSV fields and defuses spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"\n')).toBe('"say ""hi""\n"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('-1')).toBe("'-1");
    expect(csvField(undefined)).toBe('');
  });

  it.each([
    ['/export/xml', 'export_format'],
    ['/export/csv?limit=50001', 'limit'],
    ['/export/csv?limit=0', 'limit'],
    ['/export/json?event_types=nonsense', 'event_types'],
    ['/export/json?start_time=2025-13-01T00:00:00Z', 'start_time'],
  ])('answers 422 for %s', async (path, field) => {
    const response = await call('GET', path, admin);
    expect(response.status).toBe(422);
    expect(JSON.stringify(await response.json())).toContain(field);
  });
});

describe('GET and DELETE /admin/events/{event_id}', () => {
  it('shows an event with the other events of its execution', async () => {
    const response = await call('GET', `/${idOf(1)}`, admin);
    expect(response.status).toBe(200);
    const detail = await response.json();
    expect(detail.event).toEqual(stored[1]);
    expect(ids(detail.related_events)).toEqual([idOf(0), idOf(2)]);
    expect(ids(detail.timeline)).toEqual([idOf(0), idOf(1), idOf(2)]);
    expect(detail.related_events[0]).toEqual({
      event_id: idOf(0),
      event_type: 'execution_requested',
      timestamp: stored[0]!.timestamp,
      aggregate_id: executionA,
    });
  });

  it('deletes an event into the archive, with who deleted it', async () => {
    const event = ofUser(executionOutput(randomUUID()), 'user-c', 5);
    await platform.store.events.append(event);

    const response = await call('DELETE', `/${event.event_id}`, admin);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      message: 'Event deleted and archived',
      event_id: event.event_id,
    });
    expect(await platform.store.events.get(event.event_id)).toBeNull();
    expect(await platform.store.events.getArchived(event.event_id)).toMatchObject({
      event,
      deleted_by: admin.username,
      deleted_at: new Date(clock).toISOString(),
    });
    expect((await call('GET', `/${event.event_id}`, admin)).status).toBe(404);
    expect((await call('DELETE', `/${event.event_id}`, admin)).status).toBe(404);
  });

  it.each(['no-such-event', 'x'.repeat(300), '%00', 'a%2Fb'])('answers 404 for id %s', async (id) => {
    expect((await call('GET', `/${id}`, admin)).status).toBe(404);
    expect((await call('DELETE', `/${id}`, admin)).status).toBe(404);
  });
});
