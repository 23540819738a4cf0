import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook, verifyWebhook } from './webhook-signature';

const SECRET = 'whsec_test';
const BODY = '{"hello":"world"}';
const TIMESTAMP = 1_700_000_000;
const AT = TIMESTAMP * 1000;
// `printf '%s' '1700000000.{"hello":"world"}' | openssl dgst -sha256 -hmac whsec_test`
const OPENSSL = 'sha256=f592bbf3951cfc94e560eecfb5d9dd4da6b0fff2e626235f8ab4b54860925d0b';

describe('webhook signatures', () => {
  it('are HMAC-SHA256 over "timestamp.body" keyed with the secret, as openssl computes it', () => {
    expect(signWebhook(SECRET, TIMESTAMP, BODY)).toBe(OPENSSL);
  });

  it('verify for the exact body, secret and a recent timestamp', () => {
    const headers = { timestamp: String(TIMESTAMP), signature: OPENSSL };
    expect(verifyWebhook(SECRET, headers, BODY, { now: AT + 60_000 })).toBe(true);
    expect(verifyWebhook(SECRET, headers, `${BODY} `, { now: AT })).toBe(false);
    expect(verifyWebhook('whsec_other', headers, BODY, { now: AT })).toBe(false);
    // The timestamp is signed too: moving it breaks the signature.
    expect(verifyWebhook(SECRET, { ...headers, timestamp: String(TIMESTAMP + 1) }, BODY, { now: AT })).toBe(
      false,
    );
  });

  it('refuse replays older than the tolerance and malformed headers', () => {
    const headers = { timestamp: String(TIMESTAMP), signature: OPENSSL };
    expect(verifyWebhook(SECRET, headers, BODY, { now: AT + 301_000 })).toBe(false);
    expect(verifyWebhook(SECRET, headers, BODY, { now: AT + 301_000, toleranceSeconds: 600 })).toBe(true);
    expect(verifyWebhook(SECRET, { timestamp: null, signature: OPENSSL }, BODY, { now: AT })).toBe(false);
    expect(verifyWebhook(SECRET, { timestamp: '1e9', signature: OPENSSL }, BODY, { now: AT })).toBe(false);
    expect(
      verifyWebhook(SECRET, { timestamp: String(TIMESTAMP), signature: 'sha256=00' }, BODY, { now: AT }),
    ).toBe(false);
  });

  it('use secrets of 32 random bytes, different every time', () => {
    const secrets = new Set(Array.from({ length: 20 }, newWebhookSecret));
    expect(secrets.size).toBe(20);
    for (const secret of secrets)
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64url')).toHaveLength(32);
  });
});
