/**
 * CSRF tokens bound to the session: `<nonce>.<HMAC-SHA256(secret, nonce:sessionToken)>`, both base64url.
 * The browser sends the token twice (cookie and `X-CSRF-Token` header); a forged cross-site request can
 * neither read the cookie nor mint a signature for the victim's session.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const sign = (secret: string, nonce: string, sessionToken: string): string =>
  createHmac('sha256', secret).update(`${nonce}:${sessionToken}`).digest('base64url');

export function issueCsrfToken(secret: string, sessionToken: string): string {
  const nonce = randomBytes(16).toString('base64url');
  return `${nonce}.${sign(secret, nonce, sessionToken)}`;
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** True when the header matches the cookie and the token was issued for this session. */
export function verifyCsrf(
  secret: string,
  sessionToken: string,
  cookieToken: string | undefined,
  headerToken: string | undefined,
): boolean {
  if (!cookieToken || !headerToken || !constantTimeEqual(cookieToken, headerToken)) return false;
  const dot = headerToken.indexOf('.');
  if (dot <= 0) return false;
  const nonce = headerToken.slice(0, dot);
  return constantTimeEqual(headerToken.slice(dot + 1), sign(secret, nonce, sessionToken));
}
