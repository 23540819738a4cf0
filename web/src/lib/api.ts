/** Same-origin JSON client for /api/v1: cookies for the session, X-CSRF-Token on every unsafe request. */

const BASE = '/api/v1';

interface ValidationIssue {
  loc?: (string | number)[];
  msg?: string;
}

/** An HTTP error turned into a sentence a person can read. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfFromLogin: string | null = null;

/** Remembers the token login returned, for browsers that hide the cookie (e.g. Secure cookie on plain http). */
export function rememberCsrfToken(token: string | null): void {
  csrfFromLogin = token;
}

export function readCookie(name: string, cookieHeader: string): string | null {
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function csrfToken(): string | null {
  return readCookie('csrf_token', document.cookie) ?? csrfFromLogin;
}

const FIELD_NAMES: Record<string, string> = {
  lang_version: 'version',
  lang: 'language',
};

function describeIssue(issue: ValidationIssue): string {
  const path = (issue.loc ?? []).filter((part) => part !== 'body' && part !== 'query' && part !== 'path');
  const field = path.map((part) => FIELD_NAMES[String(part)] ?? String(part)).join('.');
  const msg = issue.msg ?? 'is invalid';
  return field ? `${field}: ${msg}` : msg;
}

/** Builds the user-facing message from a `{detail}` error body (string or 422 issue list). */
export function errorMessage(status: number, body: unknown): string {
  const detail =
    typeof body === 'object' && body !== null ? (body as { detail?: unknown }).detail : undefined;
  if (typeof detail === 'string' && detail.trim()) return detail;
  if (Array.isArray(detail) && detail.length > 0) {
    return detail.map((issue: ValidationIssue) => describeIssue(issue)).join('; ');
  }
  switch (status) {
    case 401:
      return 'You are not signed in.';
    case 403:
      return 'You are not allowed to do that.';
    case 404:
      return 'Not found.';
    case 413:
      return 'The request is too large.';
    case 423:
      return 'This account is temporarily locked.';
    case 429:
      return 'Too many requests. Please wait a moment.';
    default:
      return status >= 500
        ? `The server had a problem (HTTP ${status}).`
        : `Request failed (HTTP ${status}).`;
  }
}

function retryAfterSeconds(response: Response, body: unknown): number | null {
  const fromBody =
    typeof body === 'object' && body !== null ? (body as { retry_after?: unknown }).retry_after : null;
  if (typeof fromBody === 'number' && Number.isFinite(fromBody)) return fromBody;
  const header = Number(response.headers.get('Retry-After'));
  return Number.isFinite(header) && header > 0 ? header : null;
}

type UnauthorizedListener = () => void;
let onUnauthorized: UnauthorizedListener | null = null;

/** Called when a request that needs a session gets 401, so the app can drop its signed-in state. */
export function setUnauthorizedHandler(listener: UnauthorizedListener | null): void {
  onUnauthorized = listener;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  json?: unknown;
  form?: Record<string, string>;
  query?: Record<string, string | number | undefined | null>;
  signal?: AbortSignal;
  /** When false, a 401 is reported to the caller only (login, the initial /auth/me probe). */
  sessionRequired?: boolean;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  if (method !== 'GET') {
    const token = csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let url = `${BASE}${path}`;
  if (options.query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query)) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }

  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.');
  }

  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && options.sessionRequired !== false) onUnauthorized?.();
    throw new ApiError(
      response.status,
      errorMessage(response.status, parsed),
      retryAfterSeconds(response, parsed),
    );
  }
  return parsed as T;
}

/** Text for any thrown value, for showing in the UI. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429 && err.retryAfter)
      return `${err.message} Try again in ${Math.ceil(err.retryAfter)} s.`;
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
