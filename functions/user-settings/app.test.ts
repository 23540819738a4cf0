import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeMatches } from '../../shared/platform/function';
import { authHeaders, type RequestableApp, registerAndLogin } from '../../test/support/http';
import { createTestPlatform } from '../../test/support/platform';
import { authFunction } from '../auth/index';
import { userSettingsFunction } from './index';

type TestPlatform = Awaited<ReturnType<typeof createTestPlatform>>;
type Session = Awaited<ReturnType<typeof registerAndLogin>>;
type App = ReturnType<typeof userSettingsFunction.createApp>;

const BASE = 'http://localhost/api/v1/user/settings';

let platform: TestPlatform;
let app: App;
let gateway: RequestableApp;
let clock = Date.parse('2025-03-01T12:00:00.000Z');
const now = () => new Date(clock).toISOString();
const tick = (ms = 60_000) => {
  clock += ms;
};

beforeAll(async () => {
  platform = await createTestPlatform({}, { now: () => new Date(clock) });
  app = userSettingsFunction.createApp(platform);
  const auth = authFunction.createApp(platform);
  gateway = {
    request: (input, init) =>
      (routeMatches('/api/v1/auth', new URL(input, BASE).pathname) ? auth : app).request(input, init),
  };
});

afterAll(async () => {
  await platform.close();
});

/** A fresh account per test: settings only ever grow a history, so tests do not share one. */
const signUp = () => registerAndLogin(gateway);

interface Settings {
  user_id: string;
  theme: string;
  timezone: string;
  date_format: string;
  time_format: string;
  notifications: Record<string, unknown>;
  editor: Record<string, unknown>;
  custom_settings: Record<string, unknown>;
  version: number;
  created_at: string;
  updated_at: string;
}

interface HistoryBody {
  history: {
    timestamp: string;
    event_type: string;
    field: string;
    old_value: unknown;
    new_value: unknown;
    reason: string | null;
  }[];
  limit: number;
}

const call = (method: string, path: string, session?: Session, body?: unknown, headers?: HeadersInit) =>
  app.request(`${BASE}${path}`, {
    method,
    headers: headers ?? {
      ...(session ? authHeaders(session) : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

async function ok<T = Settings>(response: Response | Promise<Response>): Promise<T> {
  const answered = await response;
  const body = await answered.json();
  expect(answered.status, JSON.stringify(body)).toBe(200);
  return body as T;
}

async function expectValidationError(response: Response, loc: (string | number)[]): Promise<void> {
  expect(response.status).toBe(422);
  const body = (await response.json()) as { detail: { loc: (string | number)[] }[] };
  expect(body.detail.map((issue) => issue.loc)).toContainEqual(loc);
}

const history = async (session: Session, query = '') =>
  ok<HistoryBody>(call('GET', `/history${query}`, session));

const cookieOnly = (session: Session): HeadersInit => ({
  Cookie: session.cookie,
  'Content-Type': 'application/json',
});

describe('GET /api/v1/user/settings/', () => {
  it('gives the defaults, dated from the account, to a user who never changed any', async () => {
    const session = await signUp();
    const account = await platform.store.users.findById(session.userId);
    const body = await ok(call('GET', '/', session));
    expect(body).toEqual({
      user_id: session.userId,
      theme: 'auto',
      timezone: 'UTC',
      date_format: 'YYYY-MM-DD',
      time_format: '24h',
      notifications: {
        execution_completed: true,
        execution_failed: true,
        system_updates: true,
        security_alerts: true,
        channels: ['in_app'],
      },
      editor: { font_size: 14, tab_size: 4, use_tabs: false, word_wrap: true, show_line_numbers: true },
      custom_settings: {},
      version: 0,
      created_at: account!.created_at,
      updated_at: account!.created_at,
    });
    // The path without the trailing slash answers the same.
    tick();
    expect(await ok(call('GET', '', session))).toEqual(body);
  });

  it('needs a signed-in user', async () => {
    expect((await call('GET', '/')).status).toBe(401);
    expect((await call('GET', '')).status).toBe(401);
  });
});

describe('PUT /api/v1/user/settings/', () => {
  it('changes the given fields, merges nested ones, ignores nulls and unknown fields, and records each change', async () => {
    const session = await signUp();
    tick();
    const body = await ok(
      call('PUT', '/', session, {
        theme: 'dark',
        timezone: 'europe/berlin',
        date_format: null,
        editor: { font_size: 18, word_wrap: false },
        notifications: { channels: ['in_app', 'webhook', 'in_app'] },
        custom_settings: { 'layout.sidebar': { open: true } },
        version: 99,
        user_id: 'someone-else',
      }),
    );
    expect(body).toMatchObject({
      user_id: session.userId,
      theme: 'dark',
      timezone: 'Europe/Berlin',
      date_format: 'YYYY-MM-DD',
      editor: { font_size: 18, tab_size: 4, use_tabs: false, word_wrap: false, show_line_numbers: true },
      notifications: { execution_completed: true, channels: ['in_app', 'webhook'] },
      custom_settings: { 'layout.sidebar': { open: true } },
      version: 1,
      updated_at: now(),
    });
    expect(await ok(call('GET', '/', session))).toEqual(body);

    const { history: entries } = await history(session);
    expect(entries).toEqual(
      [
        ['/theme', 'auto', 'dark'],
        ['/timezone', 'UTC', 'Europe/Berlin'],
        ['/notifications/channels', ['in_app'], ['in_app', 'webhook']],
        ['/editor/font_size', 14, 18],
        ['/editor/word_wrap', true, false],
        ['/custom_settings/layout.sidebar', null, { open: true }],
      ].map(([field, old_value, new_value]) => ({
        timestamp: now(),
        event_type: 'user_settings_updated',
        field,
        old_value,
        new_value,
        reason: null,
      })),
    );
  });

  it('records nothing for a change that changes nothing', async () => {
    const session = await signUp();
    await ok(call('PUT', '/', session, { theme: 'light' }));
    const again = await ok(call('PUT', '/', session, { theme: 'light', editor: { font_size: 14 } }));
    expect(again.version).toBe(1);
    expect((await history(session)).history).toHaveLength(1);
  });

  it('replaces the custom settings as a whole, recording removed keys', async () => {
    const session = await signUp();
    await ok(call('PUT', '/', session, { custom_settings: { a: 1, b: 2 } }));
    const body = await ok(call('PUT', '/', session, { custom_settings: { b: 3 } }));
    expect(body.custom_settings).toEqual({ b: 3 });
    const [first, second] = (await history(session)).history;
    expect([first, second].map((e) => [e!.field, e!.old_value, e!.new_value])).toEqual([
      ['/custom_settings/a', 1, null],
      ['/custom_settings/b', 2, 3],
    ]);
  });

  it.each([
    ['an unknown theme', { theme: 'neon' }, ['body', 'theme']],
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, ['body', 'timezone']],
    ['an unknown date format', { date_format: 'YY' }, ['body', 'date_format']],
    ['an unknown time format', { time_format: '25h' }, ['body', 'time_format']],
    ['a font too small', { editor: { font_size: 7 } }, ['body', 'editor', 'font_size']],
    ['a fractional font size', { editor: { font_size: 12.5 } }, ['body', 'editor', 'font_size']],
    ['a tab size of 3', { editor: { tab_size: 3 } }, ['body', 'editor', 'tab_size']],
    ['word wrap as text', { editor: { word_wrap: 'yes' } }, ['body', 'editor', 'word_wrap']],
    [
      'an unknown channel',
      { notifications: { channels: ['email'] } },
      ['body', 'notifications', 'channels', 0],
    ],
    [
      'a notification flag as a number',
      { notifications: { system_updates: 1 } },
      ['body', 'notifications', 'system_updates'],
    ],
    ['custom settings as a list', { custom_settings: [1] }, ['body', 'custom_settings']],
    ['a custom key with a slash', { custom_settings: { 'a/b': 1 } }, ['body', 'custom_settings', 'a/b']],
    [
      'custom settings too large',
      { custom_settings: { big: 'x'.repeat(40_000) } },
      ['body', 'custom_settings'],
    ],
    ['a body that is a list', [], ['body']],
    ['malformed JSON', '{"theme":', ['body']],
  ])('answers 422 naming the field for %s and changes nothing', async (_name, body, loc) => {
    const session = await signUp();
    await expectValidationError(await call('PUT', '/', session, body), loc);
    expect((await ok(call('GET', '/', session))).version).toBe(0);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const session = await signUp();
    expect((await call('PUT', '/', undefined, { theme: 'dark' })).status).toBe(401);
    expect((await call('PUT', '/', undefined, { theme: 'dark' }, cookieOnly(session))).status).toBe(403);
    expect((await ok(call('GET', '/', session))).theme).toBe('auto');
  });

  it("changes only the caller's settings", async () => {
    const [alice, bob] = [await signUp(), await signUp()];
    await ok(call('PUT', '/', alice, { theme: 'dark' }));
    expect((await ok(call('GET', '/', bob))).theme).toBe('auto');
    expect((await history(bob)).history).toEqual([]);
  });

  it('keeps every one of many simultaneous changes, each its own version', async () => {
    const session = await signUp();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ok(call('PUT', `/custom/key${i}`, session, { n: i }))),
    );
    expect(answers.map((a) => a.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const final = await ok(call('GET', '/', session));
    expect(Object.keys(final.custom_settings).sort()).toEqual([
      'key0',
      'key1',
      'key2',
      'key3',
      'key4',
      'key5',
    ]);
    expect((await history(session)).history).toHaveLength(6);
  });
});

describe('PUT /api/v1/user/settings/theme', () => {
  it('sets the theme', async () => {
    const session = await signUp();
    expect((await ok(call('PUT', '/theme', session, { theme: 'light' }))).theme).toBe('light');
    expect((await history(session)).history.map((e) => [e.field, e.new_value])).toEqual([
      ['/theme', 'light'],
    ]);
  });

  it.each([
    ['a missing theme', {}, ['body', 'theme']],
    ['an unknown theme', { theme: 'sepia' }, ['body', 'theme']],
    ['a theme that is not text', { theme: 1 }, ['body', 'theme']],
  ])('answers 422 naming the field for %s', async (_name, body, loc) => {
    await expectValidationError(await call('PUT', '/theme', await signUp(), body), loc);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const session = await signUp();
    expect((await call('PUT', '/theme', undefined, { theme: 'dark' })).status).toBe(401);
    expect((await call('PUT', '/theme', undefined, { theme: 'dark' }, cookieOnly(session))).status).toBe(403);
  });
});

describe('PUT /api/v1/user/settings/notifications', () => {
  it('changes the given preferences and keeps the rest', async () => {
    const session = await signUp();
    const body = await ok(
      call('PUT', '/notifications', session, { execution_completed: false, channels: ['slack'] }),
    );
    expect(body.notifications).toEqual({
      execution_completed: false,
      execution_failed: true,
      system_updates: true,
      security_alerts: true,
      channels: ['slack'],
    });
  });

  it.each([
    ['a flag that is not true or false', { execution_failed: 'no' }, ['body', 'execution_failed']],
    ['channels that are not a list', { channels: 'in_app' }, ['body', 'channels']],
    ['an unknown channel', { channels: ['in_app', 'pager'] }, ['body', 'channels', 1]],
  ])('answers 422 naming the field for %s', async (_name, body, loc) => {
    await expectValidationError(await call('PUT', '/notifications', await signUp(), body), loc);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const session = await signUp();
    expect((await call('PUT', '/notifications', undefined, { system_updates: false })).status).toBe(401);
    const noCsrf = await call(
      'PUT',
      '/notifications',
      undefined,
      { system_updates: false },
      cookieOnly(session),
    );
    expect(noCsrf.status).toBe(403);
  });
});

describe('PUT /api/v1/user/settings/editor', () => {
  it('changes the given editor preferences and keeps the rest', async () => {
    const session = await signUp();
    const body = await ok(
      call('PUT', '/editor', session, { tab_size: 2, show_line_numbers: false, use_tabs: true }),
    );
    expect(body.editor).toEqual({
      font_size: 14,
      tab_size: 2,
      use_tabs: true,
      word_wrap: true,
      show_line_numbers: false,
    });
  });

  it.each([
    ['a font too large', { font_size: 33 }, ['body', 'font_size']],
    ['a font size as text', { font_size: '16' }, ['body', 'font_size']],
    ['a tab size of 0', { tab_size: 0 }, ['body', 'tab_size']],
    ['line numbers as null', { show_line_numbers: null }, ['body', 'show_line_numbers']],
  ])('answers 422 naming the field for %s', async (_name, body, loc) => {
    await expectValidationError(await call('PUT', '/editor', await signUp(), body), loc);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const session = await signUp();
    expect((await call('PUT', '/editor', undefined, { font_size: 16 })).status).toBe(401);
    expect((await call('PUT', '/editor', undefined, { font_size: 16 }, cookieOnly(session))).status).toBe(
      403,
    );
  });
});

describe('PUT /api/v1/user/settings/custom/{key}', () => {
  it('sets one custom setting and replaces it later, recording old and new values', async () => {
    const session = await signUp();
    await ok(call('PUT', '/custom/ui.panels', session, { left: 240 }));
    const body = await ok(call('PUT', '/custom/ui.panels', session, { left: 300, right: 0 }));
    expect(body.custom_settings).toEqual({ 'ui.panels': { left: 300, right: 0 } });
    expect((await history(session)).history[0]).toMatchObject({
      field: '/custom_settings/ui.panels',
      old_value: { left: 240 },
      new_value: { left: 300, right: 0 },
    });
  });

  it.each([
    ['a key with spaces', '/custom/two%20words', { a: 1 }, ['path', 'key']],
    ['a key starting with a dot', '/custom/.hidden', { a: 1 }, ['path', 'key']],
    ['a key over 64 characters', `/custom/${'k'.repeat(65)}`, { a: 1 }, ['path', 'key']],
    ['a value that is not an object', '/custom/x', 42, ['body']],
    ['a value that is a list', '/custom/x', [1, 2], ['body']],
    ['a value too large', '/custom/x', { blob: 'x'.repeat(40_000) }, ['body']],
  ])('answers 422 naming the field for %s', async (_name, path, body, loc) => {
    await expectValidationError(await call('PUT', path, await signUp(), body), loc);
  });

  it('keeps the whole custom map within its bound', async () => {
    const session = await signUp();
    const chunk = 'x'.repeat(20_000);
    await ok(call('PUT', '/custom/one', session, { chunk }));
    await expectValidationError(await call('PUT', '/custom/two', session, { chunk }), ['body']);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const session = await signUp();
    expect((await call('PUT', '/custom/x', undefined, { a: 1 })).status).toBe(401);
    expect((await call('PUT', '/custom/x', undefined, { a: 1 }, cookieOnly(session))).status).toBe(403);
  });
});

describe('GET /api/v1/user/settings/history', () => {
  it('lists the newest changes first, as many as asked', async () => {
    const session = await signUp();
    for (const size of [10, 11, 12, 13]) {
      tick();
      await ok(call('PUT', '/editor', session, { font_size: size }));
    }
    const body = await history(session, '?limit=3');
    expect(body.limit).toBe(3);
    expect(body.history.map((e) => [e.old_value, e.new_value])).toEqual([
      [12, 13],
      [11, 12],
      [10, 11],
    ]);
    expect(new Set(body.history.map((e) => e.timestamp)).size).toBe(3);
    expect((await history(session)).limit).toBe(50);
    expect((await history(session)).history).toHaveLength(4);
  });

  it.each([['limit=0'], ['limit=201'], ['limit=few']])(
    'answers 422 naming the parameter for %s',
    async (query) => {
      await expectValidationError(await call('GET', `/history?${query}`, await signUp()), ['query', 'limit']);
    },
  );

  it('needs a signed-in user', async () => {
    expect((await call('GET', '/history')).status).toBe(401);
  });
});

describe('POST /api/v1/user/settings/restore', () => {
  it('rebuilds the settings as of a moment and records the restore as one entry', async () => {
    const session = await signUp();
    tick();
    await ok(call('PUT', '/', session, { theme: 'dark', editor: { font_size: 20 } }));
    tick();
    const between = now();
    tick();
    await ok(call('PUT', '/', session, { theme: 'light', custom_settings: { a: { b: 1 } } }));
    const before = await ok(call('GET', '/', session));
    tick();

    const restored = await ok(
      call('POST', '/restore', session, { timestamp: between, reason: 'liked it dark' }),
    );
    expect(restored).toMatchObject({
      theme: 'dark',
      editor: { font_size: 20 },
      custom_settings: {},
      version: 3,
      created_at: before.created_at,
      updated_at: now(),
    });
    expect(await ok(call('GET', '/', session))).toEqual(restored);

    const [entry] = (await history(session)).history;
    const preferences = ({ user_id: _u, version: _v, created_at: _c, updated_at: _up, ...rest }: Settings) =>
      rest;
    expect(entry).toEqual({
      timestamp: now(),
      event_type: 'user_settings_updated',
      field: '/',
      old_value: preferences(before),
      new_value: preferences(restored),
      reason: `Restored to ${between}: liked it dark`,
    });
  });

  it('restores the defaults for a moment before the first change, and a restore can itself be restored past', async () => {
    const session = await signUp();
    const start = now();
    tick();
    await ok(call('PUT', '/theme', session, { theme: 'dark' }));
    tick();
    const defaults = await ok(call('POST', '/restore', session, { timestamp: '2000-01-01T00:00:00' }));
    expect(defaults).toMatchObject({ theme: 'auto', version: 2 });
    tick();
    const afterRestore = now();
    tick();
    await ok(call('PUT', '/theme', session, { theme: 'light' }));
    tick();
    expect((await ok(call('POST', '/restore', session, { timestamp: afterRestore }))).theme).toBe('auto');
    expect((await ok(call('POST', '/restore', session, { timestamp: start }))).version).toBe(5);
    expect((await history(session)).history[0]?.reason).toBe(`Restored to ${start}`);
  });

  it('reads a timestamp with an offset, without one, and with microseconds as the same kind of instant', async () => {
    const session = await signUp();
    tick();
    await ok(call('PUT', '/theme', session, { theme: 'dark' }));
    const changed = new Date(clock);
    tick();
    await ok(call('PUT', '/theme', session, { theme: 'light' }));
    const isoLocal = new Date(changed.getTime() + 3_600_000).toISOString().replace('Z', '+01:00');
    expect((await ok(call('POST', '/restore', session, { timestamp: isoLocal }))).theme).toBe('dark');
    const micro = `${changed.toISOString().slice(0, -1)}999Z`;
    expect((await ok(call('POST', '/restore', session, { timestamp: micro }))).theme).toBe('dark');
  });

  it.each([
    ['a missing timestamp', {}, ['body', 'timestamp']],
    ['a date without a time', { timestamp: '2025-01-01' }, ['body', 'timestamp']],
    ['an impossible date', { timestamp: '2025-02-30T10:00:00Z' }, ['body', 'timestamp']],
    ['an impossible time', { timestamp: '2025-02-03T24:00:00Z' }, ['body', 'timestamp']],
    ['a timestamp as a number', { timestamp: 1735689600 }, ['body', 'timestamp']],
    [
      'a reason over 500 characters',
      { timestamp: '2025-01-01T00:00:00Z', reason: 'r'.repeat(501) },
      ['body', 'reason'],
    ],
  ])('answers 422 naming the field for %s', async (_name, body, loc) => {
    const session = await signUp();
    await expectValidationError(await call('POST', '/restore', session, body), loc);
    expect((await history(session)).history).toEqual([]);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const session = await signUp();
    const body = { timestamp: '2025-01-01T00:00:00Z' };
    expect((await call('POST', '/restore', undefined, body)).status).toBe(401);
    expect((await call('POST', '/restore', undefined, body, cookieOnly(session))).status).toBe(403);
  });
});
