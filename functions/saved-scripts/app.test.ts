import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { routeMatches } from '../../shared/platform/function';
import type { RuntimeInfo, Sandbox } from '../../shared/sandbox/port';
import { authHeaders, type RequestableApp, registerAndLogin } from '../../test/support/http';
import { createTestPlatform } from '../../test/support/platform';
import { authFunction } from '../auth/index';
import { savedScriptsFunction } from './index';
import { MAX_SCRIPTS_PER_USER } from './requests';

type TestPlatform = Awaited<ReturnType<typeof createTestPlatform>>;
type Session = Awaited<ReturnType<typeof registerAndLogin>>;
type App = ReturnType<typeof savedScriptsFunction.createApp>;

const BASE = 'http://localhost/api/v1/scripts';

/** The runtimes the sandbox offers here, whatever is installed on the machine. */
const RUNTIMES: RuntimeInfo[] = [
  { language: 'python', version: '3.11', fileExt: 'py' },
  { language: 'python', version: '3.12', fileExt: 'py' },
  { language: 'node', version: '20', fileExt: 'js' },
];
const runtimesOnly: Sandbox = {
  backend: 'local',
  check: async () => ({ ready: true, features: [] }),
  runtimes: () => RUNTIMES,
  start: () => {
    throw new Error('saved scripts never run anything');
  },
  close: async () => {},
};

let platform: TestPlatform;
let app: App;
let alice: Session;
let bob: Session;
let clock = Date.parse('2025-03-01T12:00:00.000Z');

beforeAll(async () => {
  platform = await createTestPlatform({}, { sandbox: runtimesOnly, now: () => new Date(clock) });
  app = savedScriptsFunction.createApp(platform);
  const auth = authFunction.createApp(platform);
  const gateway: RequestableApp = {
    request: (input, init) =>
      (routeMatches('/api/v1/auth', new URL(input, BASE).pathname) ? auth : app).request(input, init),
  };
  alice = await registerAndLogin(gateway);
  bob = await registerAndLogin(gateway);
});

beforeEach(async () => {
  clock += 60_000;
  for (const { userId } of [alice, bob]) {
    const { items } = await platform.store.savedScripts.list(userId, { limit: 10_000, offset: 0 });
    for (const item of items) await platform.store.savedScripts.delete(userId, item.script_id);
  }
});

afterAll(async () => {
  await platform.close();
});

interface ScriptBody {
  script_id: string;
  name: string;
  script: string;
  lang: string;
  lang_version: string;
  description: string | null;
  created_at: string;
  updated_at: string;
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

async function create(session: Session, body: Record<string, unknown> = {}): Promise<ScriptBody> {
  const response = await call('POST', '', session, { name: 'hello', script: 'print(1)', ...body });
  expect(response.status).toBe(200);
  return (await response.json()) as ScriptBody;
}

async function expectValidationError(response: Response, loc: (string | number)[]): Promise<void> {
  expect(response.status).toBe(422);
  const body = (await response.json()) as { detail: { loc: (string | number)[] }[] };
  expect(body.detail.map((issue) => issue.loc)).toContainEqual(loc);
}

/** The session cookie without the CSRF header a page of ours would add. */
const cookieOnly = (session: Session): HeadersInit => ({
  Cookie: session.cookie,
  'Content-Type': 'application/json',
});

describe('POST /api/v1/scripts', () => {
  it('saves the script in the reference shape and stores it for the caller', async () => {
    const response = await call('POST', '', alice, {
      name: '  fizzbuzz  ',
      script: 'for i in range(3):\n    print(i)\n',
      lang: 'python',
      lang_version: '3.11',
      description: 'counts',
      unknown_field: 'ignored',
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as ScriptBody;
    const now = new Date(clock).toISOString();
    expect(body).toEqual({
      script_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'fizzbuzz',
      script: 'for i in range(3):\n    print(i)\n',
      lang: 'python',
      lang_version: '3.11',
      description: 'counts',
      created_at: now,
      updated_at: now,
    });
    expect(await platform.store.savedScripts.get(body.script_id)).toEqual({ ...body, user_id: alice.userId });
  });

  it('defaults to Python at its newest version and no description', async () => {
    const body = await create(alice, {});
    expect(body).toMatchObject({ lang: 'python', lang_version: '3.12', description: null });
    expect((await create(alice, { lang: 'node', lang_version: null })).lang_version).toBe('20');
  });

  it.each([
    ['a missing name', { script: 'x' }, ['body', 'name']],
    ['a blank name', { name: '   ', script: 'x' }, ['body', 'name']],
    ['a name over 100 characters', { name: 'n'.repeat(101), script: 'x' }, ['body', 'name']],
    ['a name with a newline', { name: 'a\nb', script: 'x' }, ['body', 'name']],
    ['a missing script', { name: 'n' }, ['body', 'script']],
    ['an empty script', { name: 'n', script: '' }, ['body', 'script']],
    ['a script over 50,000 characters', { name: 'n', script: 'x'.repeat(50_001) }, ['body', 'script']],
    ['a script that is not text', { name: 'n', script: 42 }, ['body', 'script']],
    ['an unknown language', { name: 'n', script: 'x', lang: 'cobol' }, ['body', 'lang']],
    [
      'a version the sandbox lacks',
      { name: 'n', script: 'x', lang_version: '2.7' },
      ['body', 'lang_version'],
    ],
    [
      'a description over 1,000 characters',
      { name: 'n', script: 'x', description: 'd'.repeat(1001) },
      ['body', 'description'],
    ],
    ['malformed JSON', '{"name": ', ['body']],
    ['a body that is not an object', '"print(1)"', ['body']],
  ])('answers 422 naming the field for %s', async (_name, body, loc) => {
    await expectValidationError(await call('POST', '', alice, body), loc);
    expect((await platform.store.savedScripts.list(alice.userId, { limit: 1, offset: 0 })).total).toBe(0);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    expect((await call('POST', '', undefined, { name: 'n', script: 'x' })).status).toBe(401);
    const noCsrf = await call('POST', '', undefined, { name: 'n', script: 'x' }, cookieOnly(alice));
    expect(noCsrf.status).toBe(403);
    expect((await platform.store.savedScripts.list(alice.userId, { limit: 1, offset: 0 })).total).toBe(0);
  });

  it(`refuses a script beyond ${MAX_SCRIPTS_PER_USER} per user with 409`, async () => {
    for (let i = 0; i < MAX_SCRIPTS_PER_USER; i++) {
      await platform.store.savedScripts.create({
        script_id: randomUUID(),
        user_id: bob.userId,
        name: `s${i}`,
        script: 'x',
        lang: 'python',
        lang_version: '3.12',
        description: null,
        created_at: new Date(clock).toISOString(),
        updated_at: new Date(clock).toISOString(),
      });
    }
    const response = await call('POST', '', bob, { name: 'one more', script: 'x' });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ type: 'ConflictError' });
    expect((await call('POST', '', alice, { name: 'mine', script: 'x' })).status).toBe(200);
  });
});

describe('GET /api/v1/scripts', () => {
  it("lists only the caller's scripts, most recently changed first, with paging", async () => {
    const made: ScriptBody[] = [];
    for (let i = 0; i < 5; i++) {
      clock += 1000;
      made.push(await create(alice, { name: `script ${i}` }));
    }
    await create(bob);
    const newestFirst = made.map((s) => s.script_id).reverse();

    const response = await call('GET', '', alice);
    expect(response.status).toBe(200);
    const all = (await response.json()) as {
      scripts: ScriptBody[];
      total: number;
      limit: number;
      offset: number;
    };
    expect(all.scripts.map((s) => s.script_id)).toEqual(newestFirst);
    expect(all).toMatchObject({ total: 5, limit: 100, offset: 0 });
    expect(all.scripts[4]).toEqual(made[0]);

    const page = (await (await call('GET', '?limit=2&offset=1', alice)).json()) as typeof all;
    expect(page.scripts.map((s) => s.script_id)).toEqual(newestFirst.slice(1, 3));
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 1 });
  });

  it.each([
    ['limit=0', ['query', 'limit']],
    ['limit=501', ['query', 'limit']],
    ['limit=many', ['query', 'limit']],
    ['offset=-1', ['query', 'offset']],
  ])('answers 422 naming the parameter for %s', async (query, loc) => {
    await expectValidationError(await call('GET', `?${query}`, alice), loc);
  });

  it('needs a signed-in user', async () => {
    expect((await call('GET', '')).status).toBe(401);
  });
});

describe('GET /api/v1/scripts/{script_id}', () => {
  it('returns the saved script', async () => {
    const saved = await create(alice, { description: 'd' });
    const response = await call('GET', `/${saved.script_id}`, alice);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(saved);
    expect((await call('GET', `/${saved.script_id.toUpperCase()}`, alice)).status).toBe(200);
  });

  it("answers 404 for another user's script, an unknown id and an id that cannot exist", async () => {
    const bobs = await create(bob);
    for (const id of [bobs.script_id, randomUUID(), 'not-an-id']) {
      const response = await call('GET', `/${id}`, alice);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ type: 'NotFoundError' });
    }
  });

  it('needs a signed-in user', async () => {
    const saved = await create(alice);
    expect((await call('GET', `/${saved.script_id}`)).status).toBe(401);
  });
});

describe('PUT /api/v1/scripts/{script_id}', () => {
  it('changes the given fields, keeps the rest and moves updated_at', async () => {
    const saved = await create(alice, { description: 'keep' });
    clock += 5000;
    const response = await call('PUT', `/${saved.script_id}`, alice, {
      name: 'renamed',
      script: 'print(2)',
      description: null,
      lang: null,
      updated_at: '1999-01-01T00:00:00Z',
    });
    expect(response.status).toBe(200);
    const expected = {
      ...saved,
      name: 'renamed',
      script: 'print(2)',
      updated_at: new Date(clock).toISOString(),
    };
    expect(await response.json()).toEqual(expected);
    expect(await platform.store.savedScripts.get(saved.script_id)).toEqual({
      ...expected,
      user_id: alice.userId,
    });
  });

  it('checks a changed runtime, taking the newest version of a new language', async () => {
    const saved = await create(alice, { lang_version: '3.11' });
    const toNode = await call('PUT', `/${saved.script_id}`, alice, { lang: 'node' });
    expect(await toNode.json()).toMatchObject({ lang: 'node', lang_version: '20' });
    const back = await call('PUT', `/${saved.script_id}`, alice, { lang: 'python', lang_version: '3.11' });
    expect(await back.json()).toMatchObject({ lang: 'python', lang_version: '3.11' });
    await expectValidationError(await call('PUT', `/${saved.script_id}`, alice, { lang_version: '9' }), [
      'body',
      'lang_version',
    ]);
  });

  it('answers an empty change with the script as it is', async () => {
    const saved = await create(alice);
    const response = await call('PUT', `/${saved.script_id}`, alice, {});
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(saved);
  });

  it.each([
    ['a blank name', { name: '' }, ['body', 'name']],
    ['an empty script', { script: '' }, ['body', 'script']],
    ['an unknown language', { lang: 'cobol' }, ['body', 'lang']],
    ['a name that is not text', { name: 7 }, ['body', 'name']],
  ])('answers 422 naming the field for %s and changes nothing', async (_name, body, loc) => {
    const saved = await create(alice);
    await expectValidationError(await call('PUT', `/${saved.script_id}`, alice, body), loc);
    expect((await platform.store.savedScripts.get(saved.script_id))?.name).toBe(saved.name);
  });

  it("answers 404 for another user's script and leaves it alone", async () => {
    const bobs = await create(bob);
    const response = await call('PUT', `/${bobs.script_id}`, alice, { name: 'mine now' });
    expect(response.status).toBe(404);
    expect((await platform.store.savedScripts.get(bobs.script_id))?.name).toBe('hello');
    expect((await call('PUT', `/${randomUUID()}`, alice, { name: 'x' })).status).toBe(404);
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const saved = await create(alice);
    expect((await call('PUT', `/${saved.script_id}`, undefined, { name: 'x' })).status).toBe(401);
    expect(
      (await call('PUT', `/${saved.script_id}`, undefined, { name: 'x' }, cookieOnly(alice))).status,
    ).toBe(403);
    expect((await platform.store.savedScripts.get(saved.script_id))?.name).toBe('hello');
  });
});

describe('DELETE /api/v1/scripts/{script_id}', () => {
  it('deletes the script with 204, then answers 404', async () => {
    const saved = await create(alice);
    const kept = await create(alice, { name: 'kept' });
    const response = await call('DELETE', `/${saved.script_id}`, alice);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(await platform.store.savedScripts.get(saved.script_id)).toBeNull();
    expect(await platform.store.savedScripts.get(kept.script_id)).not.toBeNull();
    expect((await call('DELETE', `/${saved.script_id}`, alice)).status).toBe(404);
  });

  it("answers 404 for another user's script and keeps it", async () => {
    const bobs = await create(bob);
    expect((await call('DELETE', `/${bobs.script_id}`, alice)).status).toBe(404);
    expect(await platform.store.savedScripts.get(bobs.script_id)).not.toBeNull();
  });

  it('needs a signed-in user and a CSRF token', async () => {
    const saved = await create(alice);
    expect((await call('DELETE', `/${saved.script_id}`)).status).toBe(401);
    expect(
      (await call('DELETE', `/${saved.script_id}`, undefined, undefined, cookieOnly(alice))).status,
    ).toBe(403);
    expect(await platform.store.savedScripts.get(saved.script_id)).not.toBeNull();
  });
});
