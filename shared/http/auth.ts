/**
 * Who is calling: an API key (`Authorization: Bearer`) or the session cookie becomes `c.var.user`, and
 * every state-changing request that carries the cookie must prove it came from our own pages
 * (double-submit CSRF token bound to the session).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { CookieOptions } from 'hono/utils/cookie';
import { bearerCredential, principalForApiKey } from '../auth/api-keys';
import { verifyCsrf } from '../auth/csrf';
import { type IssuedSession, principalForSession } from '../auth/sessions';
import type { Config } from '../config/config';
import type { Principal } from '../domain/user';
import type { AppEnv } from '../platform/function';
import type { Platform } from '../platform/platform';
import { forbidden, HttpError, unauthorized } from './errors';

export const SESSION_COOKIE = 'access_token';
export const CSRF_COOKIE = 'csrf_token';
export const CSRF_HEADER = 'X-CSRF-Token';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Signing in needs no proof of an earlier session; SameSite=Strict keeps other sites from posting here. */
const CSRF_EXEMPT_PATHS = new Set(['/api/v1/auth/login', '/api/v1/auth/register']);

const cookieOptions = (config: Config, httpOnly: boolean, maxAge?: number): CookieOptions => ({
  httpOnly,
  secure: config.COOKIE_SECURE,
  sameSite: 'Strict',
  path: '/',
  ...(maxAge === undefined ? {} : { maxAge }),
});

export function setSessionCookies(c: Context, config: Config, session: IssuedSession): void {
  setCookie(c, SESSION_COOKIE, session.token, cookieOptions(config, true, session.maxAgeSeconds));
  setCookie(c, CSRF_COOKIE, session.csrfToken, cookieOptions(config, false, session.maxAgeSeconds));
}

export function clearSessionCookies(c: Context, config: Config): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(config, true));
  deleteCookie(c, CSRF_COOKIE, cookieOptions(config, false));
}

export const sessionToken = (c: Context): string | undefined => getCookie(c, SESSION_COOKIE) || undefined;

export function authenticate(platform: Platform): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // An integration's API key: a header no other site can make a browser send, so it needs no CSRF token.
    const apiKey = bearerCredential(c.req.header('Authorization'));
    if (apiKey !== undefined) {
      c.set('user', await principalForApiKey(platform, apiKey, { method: c.req.method, path: c.req.path }));
      await next();
      return;
    }
    const token = sessionToken(c);
    if (
      token &&
      UNSAFE_METHODS.has(c.req.method) &&
      !CSRF_EXEMPT_PATHS.has(c.req.path) &&
      !verifyCsrf(platform.secretKey, token, getCookie(c, CSRF_COOKIE), c.req.header(CSRF_HEADER))
    ) {
      throw new HttpError(403, 'CSRF validation failed', 'ForbiddenError');
    }
    c.set('user', token ? await principalForSession(platform, token) : null);
    await next();
  };
}

/** The signed-in user, or 401. */
export function currentUser(c: Context<AppEnv>): Principal {
  const user = c.get('user');
  if (!user) throw unauthorized();
  return user;
}

/** The signed-in admin: 401 when signed out, 403 for anyone else. */
export function requireAdmin(c: Context<AppEnv>): Principal {
  const user = currentUser(c);
  if (user.role !== 'admin') throw forbidden('Admin access required');
  return user;
}

/** Owner-or-admin rule for executions, results and their streams. */
export const canAccess = (user: Principal, ownerId: string): boolean =>
  user.user_id === ownerId || user.role === 'admin';
