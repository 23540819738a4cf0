/**
 * Signing in from tests through Hono's in-process client (`app.request`), no network involved.
 */
import { randomBytes } from 'node:crypto';

/** Anything with Hono's `request` method: one function's app or the whole embedded server. */
export interface RequestableApp {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

export interface TestSession {
  /** `Cookie` header value carrying both session cookies. */
  cookie: string;
  csrf: string;
  userId: string;
  username: string;
}

/** `name=value` pairs from a response's Set-Cookie headers. */
export function cookiesFrom(response: Response): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const header of response.headers.getSetCookie()) {
    const [pair = ''] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq > 0) cookies[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return cookies;
}

async function expectOk(response: Response, what: string): Promise<unknown> {
  const body = await response.json();
  if (!response.ok) throw new Error(`${what} failed with ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Posts the login form and returns the session it opened. */
export async function login(app: RequestableApp, username: string, password: string): Promise<Response> {
  return app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

/**
 * Registers a fresh user (a unique name unless given) and signs in as them. `beforeLogin` may change
 * the new user in the store first (a role, say), so the session carries the change.
 */
export async function registerAndLogin(
  app: RequestableApp,
  options: { username?: string; password?: string; beforeLogin?: (userId: string) => Promise<unknown> } = {},
): Promise<TestSession> {
  const username = options.username ?? `user_${randomBytes(6).toString('hex')}`;
  const password = options.password ?? `pw-${randomBytes(12).toString('base64url')}`;
  const registered = (await expectOk(
    await app.request('/api/v1/auth/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, email: `${username}@example.com`, password }),
    }),
    'register',
  )) as { user_id: string };
  await options.beforeLogin?.(registered.user_id);
  const response = await login(app, username, password);
  const body = (await expectOk(response, 'login')) as { csrf_token: string };
  const cookies = cookiesFrom(response);
  return {
    cookie: `access_token=${cookies.access_token}; csrf_token=${cookies.csrf_token}`,
    csrf: body.csrf_token,
    userId: registered.user_id,
    username,
  };
}

/** Headers that authenticate a request as `session`, with the CSRF token state-changing requests need. */
export function authHeaders(
  session: Pick<TestSession, 'cookie' | 'csrf'>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { Cookie: session.cookie, 'X-CSRF-Token': session.csrf, ...extra };
}

/**
 * A caller of the running server's `/api/v1`: `method`, the path below it, the session to act as (with
 * its CSRF token) and a JSON body.
 */
export function apiCaller(baseUrl: string) {
  return (method: string, path: string, session?: TestSession, body?: unknown) =>
    fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(session ? authHeaders(session) : {}),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

/** Registers and signs in a fresh administrator (the store grants the role, as an operator would). */
export const registerAdmin = (
  app: RequestableApp,
  users: { update(userId: string, patch: { role: 'admin' }): Promise<unknown> },
) => registerAndLogin(app, { beforeLogin: (userId) => users.update(userId, { role: 'admin' }) });
