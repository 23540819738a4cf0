import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashPassword } from '../../shared/auth/passwords';
import { type ExecutionRecord, type ExecutionStatus, newExecution } from '../../shared/domain/execution';
import { defaultSubscription } from '../../shared/domain/notification-subscription';
import type { UserRecord, UserRole } from '../../shared/domain/user';
import { defaultSettings } from '../../shared/domain/user-settings';
import type { DomainEvent, EventOf } from '../../shared/events/schemas';
import { routeMatches } from '../../shared/platform/function';
import type { Sandbox } from '../../shared/sandbox/port';
import { authHeaders, login, type RequestableApp, registerAndLogin } from '../../test/support/http';
import { createTestPlatform } from '../../test/support/platform';
import { authFunction } from '../auth/index';
import { adminUsersFunction } from './index';
import { RECENT_OUTPUT_CHARS } from './overview';

type TestPlatform = Awaited<ReturnType<typeof createTestPlatform>>;
type Session = Awaited<ReturnType<typeof registerAndLogin>>;
type Account = Awaited<ReturnType<typeof signIn>>;

const BASE = 'http://localhost/api/v1/admin/users';
/** Above the reference's fixed 8, to show the configured minimum applies to admins too. */
const MIN_PASSWORD = 10;
const PASSWORD = 'a-good-password';

const noSandbox: Sandbox = {
  backend: 'local',
  check: async () => ({ ready: true, features: [] }),
  runtimes: () => [],
  start: () => {
    throw new Error('managing users never runs anything');
  },
  close: async () => {},
};

let platform: TestPlatform;
let gateway: RequestableApp;
let admin: Account;
let clock = Date.parse('2025-06-01T12:00:00.000Z');
const now = () => new Date(clock).toISOString();

beforeAll(async () => {
  platform = await createTestPlatform(
    { PASSWORD_MIN_LENGTH: String(MIN_PASSWORD), MAX_LOGIN_ATTEMPTS: '3' },
    { sandbox: noSandbox, now: () => new Date(clock) },
  );
  const auth = authFunction.createApp(platform);
  const app = adminUsersFunction.createApp(platform);
  gateway = {
    request: (input, init) =>
      (routeMatches('/api/v1/auth', new URL(input, BASE).pathname) ? auth : app).request(input, init),
  };
  admin = await signIn('admin');
});

beforeEach(() => {
  clock += 60_000;
});

afterAll(async () => {
  await platform.close();
});

/** A fresh account with `role`, signed in, and its password. */
async function signIn(role: UserRole = 'user'): Promise<Session & { password: string }> {
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const session = await registerAndLogin(gateway, {
    password,
    beforeLogin: (userId) => platform.store.users.update(userId, { role }),
  });
  return { ...session, password };
}

const call = (method: string, path: string, session?: Session, body?: unknown, headers?: HeadersInit) =>
  gateway.request(`${BASE}${path}`, {
    method,
    headers: headers ?? {
      ...(session ? authHeaders(session) : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

async function json<T = Record<string, unknown>>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function expectValidationError(response: Response, loc: (string | number)[]): Promise<void> {
  const body = await json<{ detail: { loc: (string | number)[]; msg: string }[] }>(response, 422);
  expect(body.detail.map((issue) => issue.loc)).toContainEqual(loc);
  expect(body.detail.every((issue) => issue.msg.length > 0)).toBe(true);
}

/** A user stored directly, with a password that works, so tests control every field. */
async function aStoredUser(overrides: Partial<UserRecord> = {}): Promise<UserRecord> {
  const name = `u_${randomBytes(5).toString('hex')}`;
  const user: UserRecord = {
    user_id: randomUUID(),
    username: name,
    email: `${name}@example.com`,
    role: 'user',
    is_active: true,
    is_superuser: false,
    password_hash: await hashPassword(PASSWORD),
    created_at: now(),
    updated_at: now(),
    ...overrides,
  };
  await platform.store.users.create(user);
  return user;
}

const fresh = () => `n_${randomBytes(5).toString('hex')}`;

/** What signing in as `username` answers, as a status. */
const loginStatus = async (username: string, password = PASSWORD) =>
  (await login(gateway, username, password)).status;

/** True while the session still signs its user in (checked through /auth/me). */
const sessionWorks = async (session: Session) =>
  (await gateway.request('/api/v1/auth/me', { headers: { Cookie: session.cookie } })).status === 200;

/** Every operation, called as `session` on an existing user. */
const OPERATIONS: [string, string, (id: string) => string, unknown?][] = [
  ['list', 'GET', () => '/'],
  ['create', 'POST', () => '/', { username: 'newbie', email: 'newbie@example.com', password: PASSWORD }],
  ['get', 'GET', (id) => `/${id}`],
  ['update', 'PUT', (id) => `/${id}`, { role: 'admin' }],
  ['delete', 'DELETE', (id) => `/${id}`],
  ['overview', 'GET', (id) => `/${id}/overview`],
  ['reset-password', 'POST', (id) => `/${id}/reset-password`, { new_password: 'another-password' }],
  ['unlock', 'POST', (id) => `/${id}/unlock`],
];

describe('who may manage users', () => {
  it.each(OPERATIONS)(
    '%s: 401 signed out, 403 for a user and a moderator, changing nothing',
    async (_, method, path, body) => {
      const target = await aStoredUser();
      const signedOut = await call(method, path(target.user_id), undefined, body);
      expect(signedOut.status).toBe(401);
      for (const role of ['user', 'moderator'] as const) {
        const response = await call(method, path(target.user_id), await signIn(role), body);
        expect(await json(response, 403)).toEqual({
          detail: 'Admin access required',
          type: 'ForbiddenError',
        });
      }
      expect(await platform.store.users.findById(target.user_id)).toEqual(target);
      expect(await platform.store.users.findByUsername('newbie')).toBeNull();
    },
  );

  it.each(OPERATIONS.filter(([, method]) => method !== 'GET'))(
    '%s: an admin without the CSRF token gets 403',
    async (_, method, path, body) => {
      const target = await aStoredUser();
      const cookieOnly = { Cookie: admin.cookie, 'Content-Type': 'application/json' };
      const response = await call(method, path(target.user_id), undefined, body ?? {}, cookieOnly);
      expect(await json(response, 403)).toMatchObject({ detail: 'CSRF validation failed' });
      expect(await platform.store.users.findById(target.user_id)).toEqual(target);
    },
  );

  it('loses admin rights at once when demoted: the old session is gone', async () => {
    const other = await signIn('admin');
    expect((await call('GET', '/', other)).status).toBe(200);
    await json(await call('PUT', `/${other.userId}`, admin, { role: 'user' }));
    expect((await call('GET', '/', other)).status).toBe(401);
    expect(await sessionWorks(other)).toBe(false);
  });
});

describe('GET /api/v1/admin/users/', () => {
  interface ListBody {
    users: { user_id: string; username: string }[];
    total: number;
    offset: number;
    limit: number;
  }
  const tag = `lst${randomBytes(3).toString('hex')}`;
  let made: UserRecord[];

  beforeAll(async () => {
    made = [
      await aStoredUser({ username: `${tag}_c`, email: `c@${tag}.example`, role: 'moderator' }),
      await aStoredUser({ username: `${tag}_A`, email: `a@${tag}.example` }),
      await aStoredUser({ username: `${tag}_b`, email: `bee@elsewhere.example`, is_active: false }),
    ];
  });

  it('answers the reference shape with every field of UserResponse and never a password', async () => {
    const body = await json<ListBody & { users: Record<string, unknown>[] }>(
      await call('GET', `/?search=${tag}_a`, admin),
    );
    expect(body).toEqual({
      users: [
        {
          user_id: made[1]!.user_id,
          username: `${tag}_A`,
          email: `a@${tag}.example`,
          role: 'user',
          is_active: true,
          is_superuser: false,
          created_at: made[1]!.created_at,
          updated_at: made[1]!.updated_at,
          bypass_rate_limit: null,
          global_multiplier: null,
          has_custom_limits: null,
        },
      ],
      total: 1,
      offset: 0,
      limit: 100,
    });
  });

  it('searches username and email in any letter case, sorted by username', async () => {
    const byName = await json<ListBody>(await call('GET', `/?search=${tag.toUpperCase()}`, admin));
    expect(byName.users.map((u) => u.username)).toEqual([`${tag}_A`, `${tag}_b`, `${tag}_c`]);
    expect(byName.total).toBe(3);
    const byEmail = await json<ListBody>(await call('GET', '/?search=bee@elsewhere', admin));
    expect(byEmail.users.map((u) => u.user_id)).toEqual([made[2]!.user_id]);
    expect((await json<ListBody>(await call('GET', '/?search=%25', admin))).total).toBe(0);
  });

  it('filters by role and pages with limit and offset', async () => {
    const moderators = await json<ListBody>(await call('GET', `/?role=moderator&search=${tag}`, admin));
    expect(moderators.users.map((u) => u.user_id)).toEqual([made[0]!.user_id]);
    const page = await json<ListBody>(await call('GET', `/?search=${tag}&limit=1&offset=1`, admin));
    expect(page).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.users.map((u) => u.username)).toEqual([`${tag}_b`]);
  });

  it('answers the path without the trailing slash the same', async () => {
    const withSlash = await json(await call('GET', `/?search=${tag}`, admin));
    expect(await json(await call('GET', `?search=${tag}`, admin))).toEqual(withSlash);
  });

  it.each([
    ['limit=0', ['query', 'limit']],
    ['limit=1001', ['query', 'limit']],
    ['limit=ten', ['query', 'limit']],
    ['offset=-1', ['query', 'offset']],
    ['role=root', ['query', 'role']],
    [`search=${'x'.repeat(101)}`, ['query', 'search']],
  ])('answers 422 naming the parameter for %s', async (query, loc) => {
    await expectValidationError(await call('GET', `/?${query}`, admin), loc);
  });
});

describe('POST /api/v1/admin/users/', () => {
  it('creates the user as asked; they can sign in with the password', async () => {
    const username = fresh();
    const response = await call('POST', '/', admin, {
      username,
      email: `  ${username}@Example.com `,
      password: PASSWORD,
      role: 'moderator',
      is_active: true,
      is_superuser: true,
    });
    const body = await json(response);
    expect(body).toEqual({
      user_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username,
      email: `${username}@Example.com`,
      role: 'moderator',
      is_active: true,
      is_superuser: false,
      created_at: now(),
      updated_at: now(),
      bypass_rate_limit: null,
      global_multiplier: null,
      has_custom_limits: null,
    });
    // Stored as a record of exactly its fields: the password only as its hash.
    const stored = await platform.store.users.findById(body.user_id as string);
    expect(Object.keys(stored!).sort()).toEqual(
      [
        'created_at',
        'email',
        'is_active',
        'is_superuser',
        'password_hash',
        'role',
        'updated_at',
        'user_id',
        'username',
      ].sort(),
    );
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
    expect(await loginStatus(username)).toBe(200);
  });

  it('makes an active user unless told otherwise, and an inactive one cannot sign in', async () => {
    const plain = await json(
      await call('POST', '/', admin, { username: fresh(), email: `${fresh()}@x.org`, password: PASSWORD }),
    );
    expect(plain).toMatchObject({ role: 'user', is_active: true });
    const username = fresh();
    await json(
      await call('POST', '/', admin, {
        username,
        email: `${username}@x.org`,
        password: PASSWORD,
        is_active: false,
      }),
    );
    expect(await loginStatus(username)).toBe(403);
  });

  it('answers 409 for a username or email taken in any letter case', async () => {
    const taken = await aStoredUser();
    const sameName = await call('POST', '/', admin, {
      username: taken.username.toUpperCase(),
      email: `${fresh()}@example.com`,
      password: PASSWORD,
    });
    expect(await json(sameName, 409)).toEqual({
      detail: 'Username already registered',
      type: 'ConflictError',
    });
    const sameEmail = await call('POST', '/', admin, {
      username: fresh(),
      email: taken.email.toUpperCase(),
      password: PASSWORD,
    });
    expect(await json(sameEmail, 409)).toEqual({ detail: 'Email already registered', type: 'ConflictError' });
  });

  it.each([
    ['a missing username', { email: 'x@example.com', password: PASSWORD }, ['body', 'username']],
    [
      'a username with a space',
      { username: 'a b c', email: 'x@example.com', password: PASSWORD },
      ['body', 'username'],
    ],
    [
      'a two-letter username',
      { username: 'ab', email: 'x@example.com', password: PASSWORD },
      ['body', 'username'],
    ],
    [
      'an invalid email',
      { username: 'valid_name', email: 'not-an-email', password: PASSWORD },
      ['body', 'email'],
    ],
    [
      'a password under the configured minimum',
      { username: 'valid_name', email: 'x@example.com', password: '123456789' },
      ['body', 'password'],
    ],
    [
      'an unknown role',
      { username: 'valid_name', email: 'x@example.com', password: PASSWORD, role: 'root' },
      ['body', 'role'],
    ],
    [
      'is_active that is not a boolean',
      { username: 'valid_name', email: 'x@example.com', password: PASSWORD, is_active: 'yes' },
      ['body', 'is_active'],
    ],
    ['malformed JSON', '{"username": ', ['body']],
    ['an array', '[]', ['body']],
    ['no body at all', '', ['body']],
  ])('answers 422 for %s and creates nobody', async (_, body, loc) => {
    await expectValidationError(await call('POST', '/', admin, body), loc);
    expect(await platform.store.users.findByUsername('valid_name')).toBeNull();
  });
});

describe('GET /api/v1/admin/users/{user_id}', () => {
  it('returns the user', async () => {
    const user = await aStoredUser({ role: 'moderator' });
    expect(await json(await call('GET', `/${user.user_id}`, admin))).toMatchObject({
      user_id: user.user_id,
      username: user.username,
      role: 'moderator',
    });
  });

  it.each([randomUUID(), 'not-a-user-id', 'x'.repeat(300)])('answers 404 for %s', async (id) => {
    expect(await json(await call('GET', `/${id}`, admin), 404)).toEqual({
      detail: 'User not found',
      type: 'NotFoundError',
    });
  });
});

describe('PUT /api/v1/admin/users/{user_id}', () => {
  it('changes name and email, keeps the rest, moves updated_at and keeps the session', async () => {
    const user = await signIn();
    const before = (await platform.store.users.findById(user.userId))!;
    const username = fresh();
    const body = await json(
      await call('PUT', `/${user.userId}`, admin, {
        email: `${username}@new.example`,
        role: null,
        password: null,
      }),
    );
    expect(body).toMatchObject({ email: `${username}@new.example`, role: 'user', updated_at: now() });
    expect(await sessionWorks(user)).toBe(true);
    const renamed = await json(await call('PUT', `/${user.userId}`, admin, { username }));
    expect(renamed).toMatchObject({ username, created_at: before.created_at });
    // A new name ends the sessions carrying the old one.
    expect(await sessionWorks(user)).toBe(false);
  });

  it('changes the role through the access rules: sessions end and the next sign-in carries the role', async () => {
    const user = await signIn();
    const username = (await platform.store.users.findById(user.userId))!.username;
    expect(await json(await call('PUT', `/${user.userId}`, admin, { role: 'admin' }))).toMatchObject({
      role: 'admin',
    });
    expect(await sessionWorks(user)).toBe(false);
    const signedIn = await json<{ role: string }>(await login(gateway, username, user.password));
    expect(signedIn.role).toBe('admin');
  });

  it('deactivates: sessions end and signing in is refused; reactivating lets them back', async () => {
    const user = await signIn();
    const username = (await platform.store.users.findById(user.userId))!.username;
    expect(await json(await call('PUT', `/${user.userId}`, admin, { is_active: false }))).toMatchObject({
      is_active: false,
    });
    expect(await sessionWorks(user)).toBe(false);
    expect(await loginStatus(username, user.password)).toBe(403);
    await json(await call('PUT', `/${user.userId}`, admin, { is_active: true }));
    expect(await loginStatus(username, user.password)).toBe(200);
  });

  it('sets a new password: the old one stops working and sessions end', async () => {
    const user = await signIn();
    const username = (await platform.store.users.findById(user.userId))!.username;
    await json(await call('PUT', `/${user.userId}`, admin, { password: 'brand-new-password' }));
    expect(await sessionWorks(user)).toBe(false);
    expect(await loginStatus(username, user.password)).toBe(401);
    expect(await loginStatus(username, 'brand-new-password')).toBe(200);
  });

  it('answers an empty or unchanged update with the user as it is, session kept', async () => {
    const user = await signIn();
    const stored = (await platform.store.users.findById(user.userId))!;
    for (const body of [{}, { role: 'user', is_active: true, username: stored.username }]) {
      const response = await json(await call('PUT', `/${user.userId}`, admin, body));
      expect(response).toMatchObject({ updated_at: stored.updated_at });
    }
    expect(await sessionWorks(user)).toBe(true);
  });

  it('answers 409 for a taken name and then changes nothing else', async () => {
    const user = await aStoredUser();
    const other = await aStoredUser();
    const response = await call('PUT', `/${user.user_id}`, admin, {
      username: other.username,
      role: 'admin',
    });
    expect(await json(response, 409)).toMatchObject({ detail: 'Username already registered' });
    expect(await platform.store.users.findById(user.user_id)).toEqual(user);
  });

  it('refuses to let an admin remove their own access', async () => {
    const self = await signIn('admin');
    for (const body of [{ role: 'user' }, { is_active: false }, { role: 'moderator', is_active: true }]) {
      const response = await call('PUT', `/${self.userId}`, self, body);
      expect(await json(response, 400)).toMatchObject({ type: 'InvalidStateError' });
    }
    expect(await platform.store.users.findById(self.userId)).toMatchObject({
      role: 'admin',
      is_active: true,
    });
    expect(await sessionWorks(self)).toBe(true);
    // Other changes to their own account are fine.
    expect((await call('PUT', `/${self.userId}`, self, { email: `${fresh()}@example.com` })).status).toBe(
      200,
    );
  });

  it('refuses to demote the last active admin', async () => {
    const caller = await signIn('admin');
    const lastOne = await aStoredUser({ role: 'admin' });
    // Every other admin lost access outside the API (the caller's session is older than that).
    const admins = await platform.store.users.list(
      { role: 'admin', isActive: true },
      { limit: 1000, offset: 0 },
    );
    const others = admins.items.filter((u) => u.user_id !== lastOne.user_id);
    for (const other of others) await platform.store.users.update(other.user_id, { is_active: false });
    try {
      const response = await call('PUT', `/${lastOne.user_id}`, caller, { role: 'user' });
      expect(await json(response, 400)).toEqual({
        detail: 'At least one active administrator must remain',
        type: 'InvalidStateError',
      });
      expect((await call('DELETE', `/${lastOne.user_id}`, caller)).status).toBe(400);
      expect(await platform.store.users.findById(lastOne.user_id)).toMatchObject({ role: 'admin' });
    } finally {
      for (const other of others) await platform.store.users.update(other.user_id, { is_active: true });
    }
  });

  it.each([
    ['an unknown role', { role: 'root' }, ['body', 'role']],
    ['a short password', { password: 'short' }, ['body', 'password']],
    ['an invalid email', { email: 'nope' }, ['body', 'email']],
    ['a bad username', { username: 'no spaces allowed' }, ['body', 'username']],
    ['is_active as text', { is_active: 'false' }, ['body', 'is_active']],
    ['a body that is not an object', '"admin"', ['body']],
  ])('answers 422 for %s and changes nothing', async (_, body, loc) => {
    const user = await aStoredUser();
    await expectValidationError(await call('PUT', `/${user.user_id}`, admin, body), loc);
    expect(await platform.store.users.findById(user.user_id)).toEqual(user);
  });

  it('answers 404 for an unknown user, before looking at the body', async () => {
    expect((await call('PUT', `/${randomUUID()}`, admin, { role: 'user' })).status).toBe(404);
    expect((await call('PUT', `/${randomUUID()}`, admin, '{bad json')).status).toBe(404);
  });
});

/** A user with something of every kind stored, and another user whose things must survive. */
async function userWithData(owner: UserRecord, status: ExecutionStatus = 'completed') {
  const executions: ExecutionRecord[] = [];
  for (const state of [status, 'running'] as const) {
    const execution: ExecutionRecord = {
      ...newExecution({
        execution_id: randomUUID(),
        user_id: owner.user_id,
        script: 'print(1)',
        stdin: '',
        lang: 'python',
        lang_version: '3.12',
        priority: 'normal',
        created_at: now(),
      }),
      status: state,
    };
    await platform.store.executions.create(execution);
    await platform.store.events.append(
      platform.events.create<EventOf<'execution_started'>>(
        { event_type: 'execution_started', execution_id: execution.execution_id, pod_name: 'p' },
        { userId: owner.user_id },
      ),
    );
    executions.push(execution);
  }
  await platform.store.savedScripts.create({
    script_id: randomUUID(),
    user_id: owner.user_id,
    name: 'kept',
    script: 'print(2)',
    lang: 'python',
    lang_version: '3.12',
    description: null,
    created_at: now(),
    updated_at: now(),
  });
  await platform.store.notifications.create({
    notification_id: randomUUID(),
    user_id: owner.user_id,
    channel: 'in_app',
    status: 'delivered',
    subject: 's',
    body: 'b',
    action_url: '/',
    severity: 'low',
    tags: [],
    created_at: now(),
    read_at: null,
    source_event_id: randomUUID(),
  });
  await platform.store.notificationSubscriptions.put({
    ...defaultSubscription(owner.user_id, 'webhook', 'UTC', now()),
    enabled: true,
    webhook_url: 'https://hooks.example.com/owner',
    webhook_secret: 'secret',
  });
  await platform.store.userSettings.save({
    user_id: owner.user_id,
    version: 1,
    changed_at: now(),
    reason: null,
    changes: [],
    settings: { ...defaultSettings(owner.user_id, now()), theme: 'dark', version: 1 },
  });
  return executions;
}

describe('DELETE /api/v1/admin/users/{user_id}', () => {
  it('deletes the user and everything they own, cancelling running work, and nobody else’s', async () => {
    const doomed = await signIn();
    const doomedRecord = (await platform.store.users.findById(doomed.userId))!;
    const executions = await userWithData(doomedRecord);
    const bystander = await aStoredUser();
    const kept = await userWithData(bystander);
    const publish = vi.spyOn(platform.events, 'publish');
    try {
      const body = await json(await call('DELETE', `/${doomed.userId}`, admin));
      expect(body).toEqual({
        user_deleted: true,
        executions: 2,
        saved_scripts: 1,
        notifications: 1,
        // The settings and the webhook subscription.
        user_settings: 2,
        // Two started events, sign-in and registration audit, the cancellation of the running one.
        events: 5,
        sagas: 0,
      });
      const cancelled = publish.mock.calls.map(([event]) => event as DomainEvent);
      expect(cancelled).toEqual([
        expect.objectContaining({
          event_type: 'execution_cancelled',
          execution_id: executions[1]!.execution_id,
          cancelled_by: admin.userId,
          force_terminated: true,
        }),
      ]);
    } finally {
      publish.mockRestore();
    }
    expect(await platform.store.users.findById(doomed.userId)).toBeNull();
    expect(await sessionWorks(doomed)).toBe(false);
    for (const execution of executions)
      expect(await platform.store.executions.get(execution.execution_id)).toBeNull();
    expect((await platform.store.savedScripts.list(doomed.userId, { limit: 10, offset: 0 })).total).toBe(0);
    expect((await platform.store.notifications.list(doomed.userId, {}, { limit: 10, offset: 0 })).total).toBe(
      0,
    );
    expect(await platform.store.userSettings.get(doomed.userId)).toBeNull();
    expect(await platform.store.notificationSubscriptions.list(doomed.userId)).toEqual([]);
    expect(await platform.store.events.listByUser(doomed.userId)).toEqual([]);
    expect((await call('GET', `/${doomed.userId}`, admin)).status).toBe(404);
    expect(await loginStatus(doomedRecord.username, doomed.password)).toBe(401);

    for (const execution of kept)
      expect(await platform.store.executions.get(execution.execution_id)).not.toBeNull();
    expect((await platform.store.savedScripts.list(bystander.user_id, { limit: 10, offset: 0 })).total).toBe(
      1,
    );
    expect(await platform.store.userSettings.get(bystander.user_id)).not.toBeNull();
    expect(await platform.store.notificationSubscriptions.list(bystander.user_id)).toHaveLength(1);
    expect(await platform.store.events.listByUser(bystander.user_id)).toHaveLength(2);
  });

  it('with cascade=false deletes only the account and ends its sessions', async () => {
    const doomed = await signIn();
    const executions = await userWithData((await platform.store.users.findById(doomed.userId))!);
    const body = await json(await call('DELETE', `/${doomed.userId}?cascade=false`, admin));
    expect(body).toEqual({
      user_deleted: true,
      executions: 0,
      saved_scripts: 0,
      notifications: 0,
      user_settings: 0,
      events: 0,
      sagas: 0,
    });
    expect(await platform.store.users.findById(doomed.userId)).toBeNull();
    expect(await sessionWorks(doomed)).toBe(false);
    expect(await platform.store.executions.get(executions[0]!.execution_id)).not.toBeNull();
    expect(await platform.store.userSettings.get(doomed.userId)).not.toBeNull();
  });

  it('clears a lock on the name, so a new account of that name is not born locked', async () => {
    const user = await aStoredUser();
    for (let i = 0; i < 3; i++) await loginStatus(user.username, 'wrong password');
    expect(await loginStatus(user.username)).toBe(423);
    await json(await call('DELETE', `/${user.user_id}`, admin));
    await aStoredUser({ username: user.username, email: user.email });
    expect(await loginStatus(user.username)).toBe(200);
  });

  it('refuses to delete the calling admin', async () => {
    const self = await signIn('admin');
    expect(await json(await call('DELETE', `/${self.userId}`, self), 400)).toEqual({
      detail: 'Cannot delete your own account',
      type: 'InvalidStateError',
    });
    expect(await platform.store.users.findById(self.userId)).not.toBeNull();
    expect(await sessionWorks(self)).toBe(true);
  });

  it('deletes another admin while one remains', async () => {
    const other = await signIn('admin');
    expect(await json(await call('DELETE', `/${other.userId}`, admin))).toMatchObject({ user_deleted: true });
  });

  it('answers 422 for a cascade that is not a boolean, and 404 for an unknown user', async () => {
    const user = await aStoredUser();
    await expectValidationError(await call('DELETE', `/${user.user_id}?cascade=maybe`, admin), [
      'query',
      'cascade',
    ]);
    expect(await platform.store.users.findById(user.user_id)).not.toBeNull();
    expect(await json(await call('DELETE', `/${randomUUID()}`, admin), 404)).toMatchObject({
      type: 'NotFoundError',
    });
  });
});

describe('GET /api/v1/admin/users/{user_id}/overview', () => {
  it('reports the last day of events, outcomes of all executions and the newest execution events', async () => {
    const user = await aStoredUser();
    const emit = async (fields: Record<string, unknown>, minutesAgo: number, service = 'run-pod') => {
      const at = clock;
      clock -= minutesAgo * 60_000;
      const event = platform.events.create(fields as never, { userId: user.user_id }) as DomainEvent;
      clock = at;
      event.metadata.service_name = service;
      await platform.store.events.append(event);
      return event;
    };
    const statuses: ExecutionStatus[] = [
      'completed',
      'completed',
      'failed',
      'error',
      'timeout',
      'cancelled',
      'running',
    ];
    for (const [i, status] of statuses.entries()) {
      await platform.store.executions.create({
        ...newExecution({
          execution_id: randomUUID(),
          user_id: user.user_id,
          script: 'x',
          stdin: '',
          lang: 'python',
          lang_version: '3.12',
          priority: 'normal',
          created_at: new Date(clock - 3_600_000).toISOString(),
        }),
        status,
        // The completed ones took 4 and 6 seconds.
        finished_at:
          status === 'completed' ? new Date(clock - 3_600_000 + (4 + 2 * i) * 1000).toISOString() : null,
      });
    }
    const id = randomUUID();
    await emit({ event_type: 'execution_started', execution_id: id, pod_name: 'p' }, 25 * 60); // outside the day
    await emit({ event_type: 'execution_started', execution_id: id, pod_name: 'p' }, 90);
    await emit({ event_type: 'execution_output', execution_id: id, stream: 'stdout', data: 'x' }, 89);
    const failed = await emit(
      {
        event_type: 'execution_failed',
        execution_id: id,
        exit_code: 1,
        error_type: 'script_error',
        error_message: 'boom',
        stdout: 'o'.repeat(RECENT_OUTPUT_CHARS + 10),
        stderr: 'short',
        stdout_truncated: false,
        stderr_truncated: false,
        stdout_bytes: RECENT_OUTPUT_CHARS + 10,
        stderr_bytes: 5,
        resource_usage: null,
      },
      30,
      'monitor',
    );

    const body = await json<Record<string, unknown>>(await call('GET', `/${user.user_id}/overview`, admin));
    expect(body.user).toMatchObject({ user_id: user.user_id, username: user.username });
    const start = new Date(clock - 24 * 3_600_000).toISOString();
    // The reference's hour labels, `2025-06-01 10:00`, of the three events inside the day.
    const expectedHours = new Map<string, number>();
    for (const minutesAgo of [90, 89, 30]) {
      const iso = new Date(Math.floor((clock - minutesAgo * 60_000) / 3_600_000) * 3_600_000).toISOString();
      const label = `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
      expectedHours.set(label, (expectedHours.get(label) ?? 0) + 1);
    }
    expect(body.stats).toEqual({
      total_events: 3,
      events_by_type: [
        { event_type: 'execution_failed', count: 1 },
        { event_type: 'execution_output', count: 1 },
        { event_type: 'execution_started', count: 1 },
      ],
      events_by_service: [
        { service_name: 'run-pod', count: 2 },
        { service_name: 'monitor', count: 1 },
      ],
      events_by_hour: [...expectedHours].map(([label, count]) => ({ hour: label, count })),
      top_users: [{ user_id: user.user_id, event_count: 3 }],
      error_rate: 33.33,
      avg_processing_time: 5,
      start_time: start,
      end_time: now(),
    });
    expect(body.derived_counts).toEqual({
      succeeded: 2,
      failed: 2,
      timeout: 1,
      cancelled: 1,
      terminal_total: 6,
    });
    expect(body.rate_limit_summary).toEqual({
      bypass_rate_limit: null,
      global_multiplier: null,
      has_custom_limits: null,
    });
    const recent = body.recent_events as DomainEvent[];
    // Newest first, no live output chunks, and output cut to its beginning.
    expect(recent.map((event) => event.event_type)).toEqual([
      'execution_failed',
      'execution_started',
      'execution_started',
    ]);
    expect(recent[0]).toEqual({
      ...failed,
      stdout: 'o'.repeat(RECENT_OUTPUT_CHARS),
      stdout_truncated: true,
    });
  });

  it('keeps to the ten newest execution events', async () => {
    const user = await aStoredUser();
    for (let i = 0; i < 12; i++) {
      clock += 1000;
      await platform.store.events.append(
        platform.events.create<EventOf<'execution_started'>>(
          { event_type: 'execution_started', execution_id: randomUUID(), pod_name: `pod-${i}` },
          { userId: user.user_id },
        ),
      );
    }
    const body = await json<{ recent_events: { pod_name: string }[] }>(
      await call('GET', `/${user.user_id}/overview`, admin),
    );
    expect(body.recent_events.map((event) => event.pod_name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `pod-${11 - i}`),
    );
  });

  it('answers an account without any activity with zeros', async () => {
    const user = await aStoredUser();
    const body = await json<Record<string, unknown>>(await call('GET', `/${user.user_id}/overview`, admin));
    expect(body.stats).toMatchObject({
      total_events: 0,
      events_by_type: [],
      events_by_hour: [],
      top_users: [],
      error_rate: 0,
      avg_processing_time: 0,
    });
    expect(body.derived_counts).toEqual({
      succeeded: 0,
      failed: 0,
      timeout: 0,
      cancelled: 0,
      terminal_total: 0,
    });
    expect(body.recent_events).toEqual([]);
  });

  it('answers 404 for an unknown user', async () => {
    expect((await call('GET', `/${randomUUID()}/overview`, admin)).status).toBe(404);
  });
});

describe('POST /api/v1/admin/users/{user_id}/reset-password', () => {
  it('sets the new password and ends the sessions made with the old one', async () => {
    const user = await signIn();
    const username = (await platform.store.users.findById(user.userId))!.username;
    const response = await call('POST', `/${user.userId}/reset-password`, admin, {
      new_password: 'reset-by-admin',
    });
    expect(await json(response)).toEqual({
      message: `Password of ${username} reset; their sessions have ended`,
    });
    expect(await sessionWorks(user)).toBe(false);
    expect(await loginStatus(username, user.password)).toBe(401);
    expect(await loginStatus(username, 'reset-by-admin')).toBe(200);
  });

  it.each([
    ['a password under the configured minimum', { new_password: '123456789' }, ['body', 'new_password']],
    ['a missing password', {}, ['body', 'new_password']],
    ['a password that is not text', { new_password: 1234567890 }, ['body', 'new_password']],
    ['no body', '', ['body']],
  ])('answers 422 for %s and keeps the old password', async (_, body, loc) => {
    const user = await aStoredUser();
    await expectValidationError(await call('POST', `/${user.user_id}/reset-password`, admin, body), loc);
    expect(await loginStatus(user.username)).toBe(200);
  });

  it('answers 404 for an unknown user (the reference answered 500)', async () => {
    const response = await call('POST', `/${randomUUID()}/reset-password`, admin, {
      new_password: 'whatever-it-is',
    });
    expect(await json(response, 404)).toMatchObject({ type: 'NotFoundError' });
  });
});

describe('POST /api/v1/admin/users/{user_id}/unlock', () => {
  it('lets a locked-out user sign in again at once, whatever case the name was typed in', async () => {
    const user = await aStoredUser();
    for (const typed of [user.username, user.username.toUpperCase(), user.username])
      await loginStatus(typed, 'wrong');
    expect(await loginStatus(user.username)).toBe(423);
    const response = await call('POST', `/${user.user_id}/unlock`, admin);
    expect(await json(response)).toEqual({
      user_id: user.user_id,
      message: `${user.username} may sign in again`,
    });
    expect(await loginStatus(user.username.toUpperCase())).toBe(200);
  });

  it('also forgets failures that have not yet locked the account', async () => {
    const user = await aStoredUser();
    await loginStatus(user.username, 'wrong');
    await loginStatus(user.username, 'wrong');
    await json(await call('POST', `/${user.user_id}/unlock`, admin));
    await loginStatus(user.username, 'wrong');
    await loginStatus(user.username, 'wrong');
    expect(await loginStatus(user.username)).toBe(200);
  });

  it('answers 404 for an unknown user', async () => {
    expect(await json(await call('POST', `/${randomUUID()}/unlock`, admin), 404)).toEqual({
      detail: 'User not found',
      type: 'NotFoundError',
    });
  });
});
