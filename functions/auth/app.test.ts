import type { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { changeUserAccess, hashSessionToken } from '../../shared/auth/sessions';
import type { SessionRecord } from '../../shared/domain/user';
import type { AppEnv } from '../../shared/platform/function';
import { authHeaders, cookiesFrom, login, registerAndLogin, type TestSession } from '../../test/support/http';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createAuthApp } from './app';

let platform: TestPlatform;
let app: Hono<AppEnv>;

beforeEach(async () => {
  platform = await createTestPlatform({
    MAX_LOGIN_ATTEMPTS: '3',
    LOCKOUT_MINUTES: '15',
    PASSWORD_MIN_LENGTH: '8',
  });
  app = createAuthApp(platform);
});

afterEach(async () => {
  await platform.close();
});

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

const register = (body: Record<string, unknown>) => app.request('/api/v1/auth/register', json(body));

const me = (session: TestSession) => app.request('/api/v1/auth/me', { headers: { Cookie: session.cookie } });

const logout = (headers: Record<string, string>) =>
  app.request('/api/v1/auth/logout', { method: 'POST', headers });

/** The `loc` paths of a 422 body. */
async function invalidFields(response: Response): Promise<string[]> {
  expect(response.status).toBe(422);
  const body = (await response.json()) as { detail: { loc: string[] }[] };
  return body.detail.map((issue) => issue.loc.join('.'));
}

async function storedEventTypes(userId: string): Promise<string[]> {
  const stored = await platform.store.events.listByAggregate(userId);
  return stored.map((s) => s.event.event_type);
}

describe('POST /api/v1/auth/register', () => {
  it('creates an active user, ignoring any role or is_active in the body', async () => {
    const response = await register({
      username: 'ada.l-1_x',
      email: 'ada@example.com',
      password: 'long enough',
      role: 'admin',
      is_active: false,
    });
    expect(response.status).toBe(200);
    const user = await response.json();
    expect(user).toMatchObject({
      username: 'ada.l-1_x',
      email: 'ada@example.com',
      role: 'user',
      is_active: true,
      is_superuser: false,
      bypass_rate_limit: null,
      global_multiplier: null,
      has_custom_limits: null,
    });
    expect(user).not.toHaveProperty('password_hash');
    expect(response.headers.getSetCookie()).toEqual([]);
    const stored = await platform.store.users.findByUsername('ada.l-1_x');
    expect(stored?.user_id).toBe(user.user_id);
    expect(stored?.password_hash).toMatch(/^\$scrypt\$/);
    expect(await storedEventTypes(user.user_id)).toContain('user_registered');
  });

  it('names each invalid field', async () => {
    expect(
      await invalidFields(
        await register({ username: 'ab', email: 'a@example.com', password: 'long enough' }),
      ),
    ).toEqual(['body.username']);
    expect(
      await invalidFields(
        await register({ username: 'has space', email: 'a@example.com', password: 'long enough' }),
      ),
    ).toEqual(['body.username']);
    expect(
      await invalidFields(
        await register({ username: 'x'.repeat(51), email: 'a@example.com', password: 'long enough' }),
      ),
    ).toEqual(['body.username']);
    expect(
      await invalidFields(
        await register({ username: 'bob', email: 'not-an-email', password: 'long enough' }),
      ),
    ).toEqual(['body.email']);
    expect(
      await invalidFields(await register({ username: 'bob', email: 'b@example.com', password: 'short' })),
    ).toEqual(['body.password']);
    expect(
      await invalidFields(
        await register({ username: 'bob', email: 'b@example.com', password: 'p'.repeat(1025) }),
      ),
    ).toEqual(['body.password']);
    expect(await invalidFields(await register({ email: 'b@example.com' }))).toEqual([
      'body.username',
      'body.password',
    ]);
    expect(
      await invalidFields(await app.request('/api/v1/auth/register', { method: 'POST', body: '{oops' })),
    ).toEqual(['body']);
  });

  it('applies the configured minimum password length', async () => {
    platform.config = { ...platform.config, PASSWORD_MIN_LENGTH: 12 };
    expect(
      await invalidFields(
        await register({ username: 'bob', email: 'b@example.com', password: 'elevenchars' }),
      ),
    ).toEqual(['body.password']);
    expect(
      (await register({ username: 'bob', email: 'b@example.com', password: 'twelve chars' })).status,
    ).toBe(200);
  });

  it('answers 409 for a taken username or email', async () => {
    expect(
      (await register({ username: 'ada', email: 'ada@example.com', password: 'long enough' })).status,
    ).toBe(200);
    const sameName = await register({ username: 'ada', email: 'other@example.com', password: 'long enough' });
    expect(sameName.status).toBe(409);
    expect(await sameName.json()).toEqual({ detail: 'Username already registered', type: 'ConflictError' });
    const sameEmail = await register({ username: 'ada2', email: 'ada@example.com', password: 'long enough' });
    expect(sameEmail.status).toBe(409);
    expect(await sameEmail.json()).toEqual({ detail: 'Email already registered', type: 'ConflictError' });
  });
});

describe('POST /api/v1/auth/login', () => {
  beforeEach(async () => {
    expect(
      (await register({ username: 'ada', email: 'ada@example.com', password: 'correct horse' })).status,
    ).toBe(200);
  });

  it('opens a session with httpOnly session and readable CSRF cookies', async () => {
    const response = await login(app, 'ada', 'correct horse');
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const body = await response.json();
    expect(body).toMatchObject({ message: 'Login successful', username: 'ada', role: 'user' });

    const [session, csrf] = response.headers.getSetCookie();
    const maxAge = platform.config.SESSION_TIMEOUT_MINUTES * 60;
    expect(session).toMatch(
      new RegExp(
        `^access_token=[A-Za-z0-9_-]{43}; Max-Age=${maxAge}; Path=/; HttpOnly; Secure; SameSite=Strict$`,
      ),
    );
    expect(csrf).toMatch(
      new RegExp(`^csrf_token=[^;]+; Max-Age=${maxAge}; Path=/; Secure; SameSite=Strict$`),
    );
    const cookies = cookiesFrom(response);
    expect(cookies.csrf_token).toBe(body.csrf_token);

    // Only the token's hash is stored.
    const user = await platform.store.users.findByUsername('ada');
    const stored = await platform.store.sessions.find(
      hashSessionToken(cookies.access_token!),
      platform.now(),
    );
    expect(stored?.user_id).toBe(user?.user_id);
    expect(stored?.token_hash).not.toBe(cookies.access_token);
    expect(Date.parse(stored!.expires_at) - Date.parse(stored!.created_at)).toBe(maxAge * 1000);
    expect(await storedEventTypes(user!.user_id)).toContain('user_logged_in');
  });

  it('gives the same 401 for a wrong password and an unknown user', async () => {
    const wrong = await login(app, 'ada', 'wrong password');
    const unknown = await login(app, 'nobody', 'wrong password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const expected = { detail: 'Invalid username or password', type: 'UnauthorizedError' };
    expect(await wrong.json()).toEqual(expected);
    expect(await unknown.json()).toEqual(expected);
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('answers 422 naming missing fields, including for a JSON body', async () => {
    const empty = await app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'username=ada',
    });
    expect(await invalidFields(empty)).toEqual(['body.password']);
    const asJson = await app.request(
      '/api/v1/auth/login',
      json({ username: 'ada', password: 'correct horse' }),
    );
    expect(await invalidFields(asJson)).toEqual(['body.username', 'body.password']);
    const malformed = await app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
      body: 'not multipart at all',
    });
    expect(await invalidFields(malformed)).toEqual(['body']);
  });

  it('takes the OAuth2 password form, whose grant_type can only be password', async () => {
    const form = (fields: Record<string, string>) =>
      app.request('/api/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: 'ada', password: 'correct horse', ...fields }).toString(),
      });
    const oauth = { grant_type: 'password', scope: '', client_id: 'cli', client_secret: 's' };
    expect((await form(oauth)).status).toBe(200);
    expect(await invalidFields(await form({ grant_type: 'client_credentials' }))).toEqual([
      'body.grant_type',
    ]);
  });
  it('locks the username after repeated failures, then answers 423 even for the right password', async () => {
    expect((await login(app, 'ada', 'wrong 1')).status).toBe(401);
    expect((await login(app, 'ada', 'wrong 2')).status).toBe(401);
    const locking = await login(app, 'ada', 'wrong 3');
    expect(locking.status).toBe(423);
    expect(await locking.json()).toEqual({
      detail: 'Account locked due to too many failed login attempts. Try again in 15 minutes.',
      type: 'AccountLockedError',
    });
    expect(Number(locking.headers.get('Retry-After'))).toBe(15 * 60);
    const right = await login(app, 'ada', 'correct horse');
    expect(right.status).toBe(423);
    expect(right.headers.getSetCookie()).toEqual([]);
  });

  it('counts failures against the username whatever its letter case', async () => {
    expect((await login(app, 'ada', 'wrong 1')).status).toBe(401);
    expect((await login(app, 'ADA', 'wrong 2')).status).toBe(401);
    expect((await login(app, 'Ada', 'wrong 3')).status).toBe(423);
    expect((await login(app, 'aDa', 'correct horse')).status).toBe(423);
  });

  it('locks unknown usernames the same way', async () => {
    for (let i = 0; i < 2; i++) expect((await login(app, 'ghost', 'pw')).status).toBe(401);
    expect((await login(app, 'ghost', 'pw')).status).toBe(423);
  });

  it('forgets earlier failures after a successful login', async () => {
    expect((await login(app, 'ada', 'wrong 1')).status).toBe(401);
    expect((await login(app, 'ada', 'wrong 2')).status).toBe(401);
    expect((await login(app, 'ada', 'correct horse')).status).toBe(200);
    expect((await login(app, 'ada', 'wrong 3')).status).toBe(401);
    expect((await login(app, 'ada', 'wrong 4')).status).toBe(401);
  });

  it('refuses a deactivated account with 403, only once the password is right', async () => {
    const user = await platform.store.users.findByUsername('ada');
    await platform.store.users.update(user!.user_id, { is_active: false });
    expect((await login(app, 'ada', 'wrong password')).status).toBe(401);
    const response = await login(app, 'ada', 'correct horse');
    expect(response.status).toBe(403);
    expect((await response.json()).type).toBe('ForbiddenError');
  });
});

describe('GET /api/v1/auth/me', () => {
  it('returns the signed-in user without caching', async () => {
    const session = await registerAndLogin(app, { username: 'grace' });
    const response = await me(session);
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ user_id: session.userId, username: 'grace', role: 'user' });
  });

  it('answers 401 without a session, with an unknown token, and for an expired session', async () => {
    const anonymous = await app.request('/api/v1/auth/me');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ detail: 'Not authenticated', type: 'UnauthorizedError' });
    expect(
      (await app.request('/api/v1/auth/me', { headers: { Cookie: 'access_token=forged' } })).status,
    ).toBe(401);

    const session = await registerAndLogin(app);
    const later = new Date(Date.now() + (platform.config.SESSION_TIMEOUT_MINUTES * 60 + 1) * 1000);
    platform.now = () => later;
    expect((await me(session)).status).toBe(401);
  });

  it('does not accept a stored session that lacks the role sessions carry (made by an older version)', async () => {
    const session = await registerAndLogin(app);
    const token = 'an-older-session-token';
    const now = platform.now();
    await platform.store.sessions.create({
      token_hash: hashSessionToken(token),
      user_id: session.userId,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 60_000).toISOString(),
    } as SessionRecord);
    const response = await app.request('/api/v1/auth/me', { headers: { Cookie: `access_token=${token}` } });
    expect(response.status).toBe(401);
  });

  it("stops accepting a deactivated user's session at once", async () => {
    const session = await registerAndLogin(app);
    expect((await me(session)).status).toBe(200);
    await changeUserAccess(platform, session.userId, { is_active: false });
    expect((await me(session)).status).toBe(401);
  });

  it('ends the sessions of a user whose role changes; the next sign-in carries the new role', async () => {
    const password = 'correct horse battery staple';
    const session = await registerAndLogin(app, { password });
    await changeUserAccess(platform, session.userId, { role: 'admin' });
    expect((await me(session)).status).toBe(401);
    const again = await login(app, session.username, password);
    expect(await again.json()).toMatchObject({ username: session.username, role: 'admin' });
  });
});

describe('POST /api/v1/auth/logout', () => {
  it('revokes the session on the server and clears both cookies', async () => {
    const session = await registerAndLogin(app);
    const response = await logout(authHeaders(session));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ message: 'Logout successful' });
    const cleared = response.headers.getSetCookie();
    expect(cleared).toHaveLength(2);
    for (const cookie of cleared)
      expect(cookie).toMatch(/^(access_token|csrf_token)=; Max-Age=0; Path=\/; .*SameSite=Strict/);
    // The old cookie is worthless now, even though the browser could still send it.
    expect((await me(session)).status).toBe(401);
    expect(await storedEventTypes(session.userId)).toContain('user_logged_out');
  });

  it('works without a session cookie and needs no CSRF token then', async () => {
    const response = await logout({});
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toHaveLength(2);
  });

  it('rejects a missing or wrong CSRF token with 403 and keeps the session', async () => {
    const session = await registerAndLogin(app);
    const other = await registerAndLogin(app);
    const expected = { detail: 'CSRF validation failed', type: 'ForbiddenError' };

    const missing = await logout({ Cookie: session.cookie });
    expect(missing.status).toBe(403);
    expect(await missing.json()).toEqual(expected);

    const wrong = await logout(authHeaders(session, { 'X-CSRF-Token': `${session.csrf}x` }));
    expect(wrong.status).toBe(403);

    // Header matches the cookie, but both were issued for someone else's session.
    const crossed = await logout({
      Cookie: `${session.cookie.split(';')[0]}; csrf_token=${other.csrf}`,
      'X-CSRF-Token': other.csrf,
    });
    expect(crossed.status).toBe(403);
    expect((await me(session)).status).toBe(200);
  });
});

describe('shared HTTP protections on the auth app', () => {
  it('sets the security headers and no HSTS on plain http', async () => {
    const response = await app.request('/api/v1/auth/me');
    expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(response.headers.get('X-Frame-Options')).toBe('DENY');
    expect(response.headers.get('Referrer-Policy')).toBe('strict-origin-when-cross-origin');
    expect(response.headers.get('Content-Security-Policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    );
    expect(response.headers.get('Strict-Transport-Security')).toBeNull();
    const secure = await app.request('https://example.com/api/v1/auth/me');
    expect(secure.headers.get('Strict-Transport-Security')).toMatch(/^max-age=\d+; includeSubDomains$/);
  });

  it('answers 413 for a body over the limit', async () => {
    platform.config = { ...platform.config, MAX_BODY_BYTES: 64 };
    const limited = createAuthApp(platform);
    const response = await limited.request(
      '/api/v1/auth/register',
      json({ username: 'ada', email: 'ada@example.com', password: 'p'.repeat(100) }),
    );
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: 'Request body exceeds 64 bytes',
      type: 'PayloadTooLargeError',
    });
  });
});
