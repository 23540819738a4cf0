import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationRecord } from '../../shared/domain/notification';
import { routeMatches } from '../../shared/platform/function';
import { authHeaders, type RequestableApp, registerAndLogin } from '../../test/support/http';
import { createTestPlatform } from '../../test/support/platform';
import { authFunction } from '../auth/index';
import { notificationsFunction } from './index';

type TestPlatform = Awaited<ReturnType<typeof createTestPlatform>>;
type Session = Awaited<ReturnType<typeof registerAndLogin>>;
type App = ReturnType<typeof notificationsFunction.createApp>;

const BASE = 'http://localhost/api/v1/notifications';

let platform: TestPlatform;
let app: App;
let alice: Session;
let bob: Session;

// Signing up hashes a password, which is slow on purpose: the accounts are made once and the inboxes
// emptied before every test instead.
beforeAll(async () => {
  platform = await createTestPlatform();
  app = notificationsFunction.createApp(platform);
  // Accounts come from the auth function, routed by path prefix as the gateway does.
  const auth = authFunction.createApp(platform);
  const gateway: RequestableApp = {
    request: (input, init) =>
      (routeMatches('/api/v1/auth', new URL(input, BASE).pathname) ? auth : app).request(input, init),
  };
  alice = await registerAndLogin(gateway);
  bob = await registerAndLogin(gateway);
});

beforeEach(async () => {
  for (const { userId } of [alice, bob]) {
    const { items } = await platform.store.notifications.list(userId, {}, { limit: 1000, offset: 0 });
    for (const item of items) await platform.store.notifications.delete(userId, item.notification_id);
  }
});

afterAll(async () => {
  await platform.close();
});

let clock = Date.parse('2025-03-01T12:00:00.000Z');

/** Stores a notification directly, each one a second newer than the last. */
async function seed(userId: string, patch: Partial<NotificationRecord> = {}): Promise<NotificationRecord> {
  clock += 1000;
  const executionId = randomUUID();
  const record: NotificationRecord = {
    notification_id: randomUUID(),
    user_id: userId,
    channel: 'in_app',
    status: 'delivered',
    subject: 'Execution completed',
    body: 'Execution finished with exit code 0.',
    action_url: `/editor?execution=${executionId}`,
    severity: 'medium',
    tags: ['execution', 'completed', 'entity:execution', `exec:${executionId}`],
    created_at: new Date(clock).toISOString(),
    read_at: null,
    source_event_id: randomUUID(),
    ...patch,
  };
  expect(await platform.store.notifications.create(record)).toBe(true);
  return record;
}

const get = (path: string, session?: Session) =>
  app.request(`${BASE}${path}`, { headers: session ? authHeaders(session) : {} });

const send = (method: 'PUT' | 'POST' | 'DELETE', path: string, headers: HeadersInit) =>
  app.request(`${BASE}${path}`, { method, headers });

/** The session cookie without the CSRF header a page of ours would add. */
const cookieOnly = (session: Session): HeadersInit => ({ Cookie: session.cookie });

interface ListBody {
  notifications: Record<string, unknown>[];
  total: number;
  unread_count: number;
}

async function list(query = '', session: Session = alice): Promise<ListBody> {
  const response = await get(query ? `?${query}` : '', session);
  expect(response.status).toBe(200);
  return (await response.json()) as ListBody;
}

async function expectValidationError(response: Response, loc: (string | number)[]): Promise<void> {
  expect(response.status).toBe(422);
  const body = (await response.json()) as { detail: { loc: (string | number)[] }[] };
  expect(body.detail.map((issue) => issue.loc)).toContainEqual(loc);
}

describe('GET /api/v1/notifications', () => {
  it("lists only the caller's notifications, newest first, in the reference shape, uncached", async () => {
    const older = await seed(alice.userId);
    const newer = await seed(alice.userId, { status: 'read', read_at: new Date(clock).toISOString() });
    await seed(bob.userId);

    const response = await get('', alice);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
    const body = (await response.json()) as ListBody;
    expect(body.total).toBe(2);
    expect(body.unread_count).toBe(1);
    expect(body.notifications.map((n) => n.notification_id)).toEqual([
      newer.notification_id,
      older.notification_id,
    ]);
    const { user_id: _user, source_event_id: _source, ...expected } = older;
    expect(body.notifications[1]).toEqual(expected);
  });

  it('pages with limit and offset while total counts every match', async () => {
    const seeded = [];
    for (let i = 0; i < 5; i++) seeded.push(await seed(alice.userId));
    const newestFirst = seeded.map((n) => n.notification_id).reverse();

    const page = await list('limit=2&offset=1');
    expect(page.total).toBe(5);
    expect(page.notifications.map((n) => n.notification_id)).toEqual(newestFirst.slice(1, 3));
    expect((await list('offset=5')).notifications).toEqual([]);
    expect((await list()).notifications).toHaveLength(5);
  });

  it('filters by status, included and excluded tags and a literal tag prefix', async () => {
    const failed = await seed(alice.userId, { tags: ['execution', 'failed', 'exec:aaa'], severity: 'high' });
    const completed = await seed(alice.userId, { tags: ['execution', 'completed', 'exec:bbb'] });
    const system = await seed(alice.userId, {
      tags: ['system', 'maintenance'],
      status: 'read',
      read_at: new Date(clock).toISOString(),
    });
    const ids = (body: ListBody) => body.notifications.map((n) => n.notification_id).sort();

    expect(ids(await list('status=read'))).toEqual([system.notification_id]);
    expect(ids(await list('include_tags=failed&include_tags=maintenance'))).toEqual(
      [failed.notification_id, system.notification_id].sort(),
    );
    expect(ids(await list('exclude_tags=failed'))).toEqual(
      [completed.notification_id, system.notification_id].sort(),
    );
    expect(ids(await list('tag_prefix=exec%3A'))).toEqual(
      [failed.notification_id, completed.notification_id].sort(),
    );
    // The prefix is text, not a pattern: "." matches no tag here.
    expect((await list('tag_prefix=.')).total).toBe(0);
    const filtered = await list('include_tags=execution&exclude_tags=completed&status=delivered');
    expect(ids(filtered)).toEqual([failed.notification_id]);
    expect(filtered.unread_count).toBe(2);
  });

  it.each([
    ['limit=0', ['query', 'limit']],
    ['limit=101', ['query', 'limit']],
    ['limit=ten', ['query', 'limit']],
    ['offset=-1', ['query', 'offset']],
    ['offset=1.5', ['query', 'offset']],
    ['status=unread', ['query', 'status']],
    ['include_tags=', ['query', 'include_tags', 0]],
  ])('answers 422 naming the parameter for %s', async (query, loc) => {
    await expectValidationError(await get(`?${query}`, alice), loc);
  });

  it('needs a signed-in user', async () => {
    const response = await get('');
    expect(response.status).toBe(401);
  });
});

describe('GET /api/v1/notifications/unread-count', () => {
  it('counts the delivered notifications of the caller only', async () => {
    await seed(alice.userId);
    await seed(alice.userId);
    await seed(alice.userId, { status: 'read', read_at: new Date(clock).toISOString() });
    await seed(bob.userId);
    const response = await get('/unread-count', alice);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
    expect(await response.json()).toEqual({ unread_count: 2 });
  });

  it('needs a signed-in user', async () => {
    expect((await get('/unread-count')).status).toBe(401);
  });
});

describe('PUT /api/v1/notifications/{id}/read', () => {
  it('marks the notification read, and again without complaint', async () => {
    const target = await seed(alice.userId);
    const untouched = await seed(alice.userId);
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await send('PUT', `/${target.notification_id}/read`, authHeaders(alice));
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
    }
    const stored = await platform.store.notifications.get(target.notification_id);
    expect(stored?.status).toBe('read');
    expect(stored?.read_at).not.toBeNull();
    expect((await platform.store.notifications.get(untouched.notification_id))?.status).toBe('delivered');
    expect((await list()).unread_count).toBe(1);
  });

  it("answers 404 for another user's notification and leaves it unread", async () => {
    const bobs = await seed(bob.userId);
    const response = await send('PUT', `/${bobs.notification_id}/read`, authHeaders(alice));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: 'NotFoundError' });
    expect((await platform.store.notifications.get(bobs.notification_id))?.status).toBe('delivered');
  });

  it('answers 404 for an id that does not exist', async () => {
    expect((await send('PUT', `/${randomUUID()}/read`, authHeaders(alice))).status).toBe(404);
  });

  it('answers 422 naming the path parameter for an id that is not a UUID', async () => {
    const response = await send('PUT', '/not-a-uuid/read', authHeaders(alice));
    await expectValidationError(response, ['path', 'notification_id']);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const target = await seed(alice.userId);
    expect((await send('PUT', `/${target.notification_id}/read`, {})).status).toBe(401);
    expect((await send('PUT', `/${target.notification_id}/read`, cookieOnly(alice))).status).toBe(403);
    expect((await platform.store.notifications.get(target.notification_id))?.status).toBe('delivered');
  });
});

describe('POST /api/v1/notifications/mark-all-read', () => {
  it("marks every notification of the caller read and nobody else's", async () => {
    await seed(alice.userId);
    await seed(alice.userId);
    const bobs = await seed(bob.userId);
    const response = await send('POST', '/mark-all-read', authHeaders(alice));
    expect(response.status).toBe(204);
    const after = await list();
    expect(after.unread_count).toBe(0);
    expect(after.notifications.every((n) => n.status === 'read' && n.read_at !== null)).toBe(true);
    expect((await platform.store.notifications.get(bobs.notification_id))?.status).toBe('delivered');
  });

  it('needs a signed-in user and a CSRF token', async () => {
    await seed(alice.userId);
    expect((await send('POST', '/mark-all-read', {})).status).toBe(401);
    expect((await send('POST', '/mark-all-read', cookieOnly(alice))).status).toBe(403);
    expect((await list()).unread_count).toBe(1);
  });
});

describe('DELETE /api/v1/notifications/{id}', () => {
  it('deletes the notification', async () => {
    const target = await seed(alice.userId);
    const kept = await seed(alice.userId);
    const response = await send('DELETE', `/${target.notification_id}`, authHeaders(alice));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: 'Notification deleted' });
    expect(await platform.store.notifications.get(target.notification_id)).toBeNull();
    expect((await list()).notifications.map((n) => n.notification_id)).toEqual([kept.notification_id]);
    expect((await send('DELETE', `/${target.notification_id}`, authHeaders(alice))).status).toBe(404);
  });

  it("answers 404 for another user's notification and keeps it", async () => {
    const bobs = await seed(bob.userId);
    expect((await send('DELETE', `/${bobs.notification_id}`, authHeaders(alice))).status).toBe(404);
    expect(await platform.store.notifications.get(bobs.notification_id)).not.toBeNull();
  });

  it('answers 422 naming the path parameter for an id that is not a UUID', async () => {
    await expectValidationError(await send('DELETE', '/1234', authHeaders(alice)), [
      'path',
      'notification_id',
    ]);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const target = await seed(alice.userId);
    expect((await send('DELETE', `/${target.notification_id}`, {})).status).toBe(401);
    expect((await send('DELETE', `/${target.notification_id}`, cookieOnly(alice))).status).toBe(403);
    expect(await platform.store.notifications.get(target.notification_id)).not.toBeNull();
  });
});
