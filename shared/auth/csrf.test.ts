import { describe, expect, it } from 'vitest';
import { constantTimeEqual, issueCsrfToken, verifyCsrf } from './csrf';

const SECRET = 'a-secret-key-of-at-least-32-characters!';

describe('CSRF tokens', () => {
  it('accepts a token issued for the session when header and cookie agree', () => {
    const token = issueCsrfToken(SECRET, 'session-a');
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyCsrf(SECRET, 'session-a', token, token)).toBe(true);
  });

  it('issues a different token each time', () => {
    expect(issueCsrfToken(SECRET, 's')).not.toBe(issueCsrfToken(SECRET, 's'));
  });

  it('rejects a missing header or cookie, or a header that differs from the cookie', () => {
    const token = issueCsrfToken(SECRET, 's');
    const other = issueCsrfToken(SECRET, 's');
    expect(verifyCsrf(SECRET, 's', token, undefined)).toBe(false);
    expect(verifyCsrf(SECRET, 's', undefined, token)).toBe(false);
    expect(verifyCsrf(SECRET, 's', token, other)).toBe(false);
  });

  it('rejects a token bound to another session or signed with another key', () => {
    const token = issueCsrfToken(SECRET, 'session-a');
    expect(verifyCsrf(SECRET, 'session-b', token, token)).toBe(false);
    const foreign = issueCsrfToken('another-secret-key-of-32-characters!!', 'session-a');
    expect(verifyCsrf(SECRET, 'session-a', foreign, foreign)).toBe(false);
  });

  it('rejects tokens without a nonce or signature', () => {
    for (const token of ['', '.', 'nonce', '.signature', 'nonce.']) {
      expect(verifyCsrf(SECRET, 's', token, token)).toBe(false);
    }
  });

  it('compares strings exactly', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});
