import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthApp } from '../../functions/auth/app';
import { authHeaders, registerAndLogin, type TestSession } from '../../test/support/http';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import type { Principal } from '../domain/user';
import { createFunctionApp } from '../platform/function';
import { canAccess, currentUser, requireAdmin } from './auth';

let platform: TestPlatform;
let session: TestSession;

function protectedApp() {
  const app = createFunctionApp(platform, 'test');
  for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
    app[method]('/api/v1/thing', (c) => c.json({ user: currentUser(c).username }));
  }
  app.get('/api/v1/admin/thing', (c) => c.json({ admin: requireAdmin(c).username }));
  return app;
}

beforeEach(async () => {
  platform = await createTestPlatform();
  session = await registerAndLogin(createAuthApp(platform));
});
afterEach(async () => {
  await platform.close();
});

describe('authenticate', () => {
  it('resolves the session cookie to the user on any function', async () => {
    const response = await protectedApp().request('/api/v1/thing', { headers: { Cookie: session.cookie } });
    expect(await response.json()).toEqual({ user: session.username });
  });

  it('requires a CSRF token on every state-changing method that carries the session cookie', async () => {
    const app = protectedApp();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const without = await app.request('/api/v1/thing', { method, headers: { Cookie: session.cookie } });
      expect(without.status).toBe(403);
      expect(await without.json()).toEqual({ detail: 'CSRF validation failed', type: 'ForbiddenError' });
      const withToken = await app.request('/api/v1/thing', { method, headers: authHeaders(session) });
      expect(withToken.status).toBe(200);
    }
  });

  it('checks CSRF before anything else, even for a session that no longer exists', async () => {
    await platform.store.sessions.deleteForUser(session.userId);
    const app = protectedApp();
    expect(
      (await app.request('/api/v1/thing', { method: 'POST', headers: { Cookie: session.cookie } })).status,
    ).toBe(403);
    expect(
      (await app.request('/api/v1/thing', { method: 'POST', headers: authHeaders(session) })).status,
    ).toBe(401);
  });

  it('asks no CSRF token of requests without the session cookie', async () => {
    const response = await protectedApp().request('/api/v1/thing', { method: 'POST' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Not authenticated', type: 'UnauthorizedError' });
  });
});

describe('requireAdmin and canAccess', () => {
  it('answers 401 signed out, 403 for a user and passes an admin', async () => {
    const app = protectedApp();
    expect((await app.request('/api/v1/admin/thing')).status).toBe(401);
    const asUser = await app.request('/api/v1/admin/thing', { headers: { Cookie: session.cookie } });
    expect(asUser.status).toBe(403);
    expect((await asUser.json()).type).toBe('ForbiddenError');
    const admin = await registerAndLogin(createAuthApp(platform), {
      beforeLogin: (userId) => platform.store.users.update(userId, { role: 'admin' }),
    });
    const asAdmin = await app.request('/api/v1/admin/thing', { headers: { Cookie: admin.cookie } });
    expect(await asAdmin.json()).toEqual({ admin: admin.username });
  });

  it('lets owners and admins at a resource, nobody else', () => {
    const user = (user_id: string, role: Principal['role']): Principal => ({
      user_id,
      username: user_id,
      role,
    });
    expect(canAccess(user('u1', 'user'), 'u1')).toBe(true);
    expect(canAccess(user('u2', 'user'), 'u1')).toBe(false);
    expect(canAccess(user('u2', 'moderator'), 'u1')).toBe(false);
    expect(canAccess(user('u3', 'admin'), 'u1')).toBe(true);
  });
});
