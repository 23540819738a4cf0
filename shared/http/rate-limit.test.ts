import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthApp } from '../../functions/auth/app';
import { authHeaders, registerAndLogin } from '../../test/support/http';
import { createTestPlatform, type TestPlatform } from '../../test/support/platform';
import { createFunctionApp } from '../platform/function';
import { countRequest, rateLimit } from './rate-limit';

let platform: TestPlatform;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
let nowMs = T0;

beforeEach(async () => {
  platform = await createTestPlatform({ RATE_LIMIT_ENABLED: 'true' });
  nowMs = T0;
  platform.now = () => new Date(nowMs);
});
afterEach(async () => {
  await platform.close();
});

const RULE = { name: 'test', limit: 3, windowMs: 60_000 };

function limitedApp() {
  const app = createFunctionApp(platform, 'test');
  app.post('/api/v1/thing', rateLimit(platform, RULE), (c) => c.json({ ok: true }));
  return app;
}

describe('countRequest', () => {
  it('counts per subject within a window and starts again in the next one', async () => {
    expect(await countRequest(platform, RULE, 'a', T0)).toEqual({ count: 1, resetAt: T0 + 60_000 });
    expect((await countRequest(platform, RULE, 'a', T0 + 59_999)).count).toBe(2);
    expect((await countRequest(platform, RULE, 'b', T0 + 1)).count).toBe(1);
    expect((await countRequest(platform, { ...RULE, name: 'other' }, 'a', T0 + 1)).count).toBe(1);
    expect(await countRequest(platform, RULE, 'a', T0 + 60_000)).toEqual({ count: 1, resetAt: T0 + 120_000 });
  });
});

describe('rateLimit middleware', () => {
  it('allows the limit, then answers 429 with the reset time until the window turns', async () => {
    const app = limitedApp();
    const post = () => app.request('/api/v1/thing', { method: 'POST' });
    nowMs = T0 + 15_000;
    for (let remaining = 2; remaining >= 0; remaining--) {
      const ok = await post();
      expect(ok.status).toBe(200);
      expect(ok.headers.get('X-RateLimit-Limit')).toBe('3');
      expect(ok.headers.get('X-RateLimit-Remaining')).toBe(String(remaining));
      expect(ok.headers.get('X-RateLimit-Reset')).toBe(String((T0 + 60_000) / 1000));
    }
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('45');
    expect(limited.headers.get('X-RateLimit-Remaining')).toBe('0');
    expect(await limited.json()).toEqual({
      detail: 'Rate limit exceeded',
      type: 'ThrottledError',
      retry_after: 45,
      reset_at: new Date(T0 + 60_000).toISOString(),
    });
    nowMs = T0 + 60_000;
    expect((await post()).status).toBe(200);
  });

  it('counts signed-in users separately from each other', async () => {
    const auth = createAuthApp(platform);
    const app = limitedApp();
    const alice = await registerAndLogin(auth);
    const bob = await registerAndLogin(auth);
    const post = (headers: Record<string, string>) =>
      app.request('/api/v1/thing', { method: 'POST', headers });
    for (let i = 0; i < 3; i++) expect((await post(authHeaders(alice))).status).toBe(200);
    expect((await post(authHeaders(alice))).status).toBe(429);
    expect((await post(authHeaders(bob))).status).toBe(200);
  });

  it('does nothing when rate limiting is disabled', async () => {
    platform.config = { ...platform.config, RATE_LIMIT_ENABLED: false };
    const app = limitedApp();
    for (let i = 0; i < 5; i++) {
      const response = await app.request('/api/v1/thing', { method: 'POST' });
      expect(response.status).toBe(200);
      expect(response.headers.get('X-RateLimit-Limit')).toBeNull();
    }
  });

  it('keys anonymous callers on the socket address, not on X-Forwarded-For', async () => {
    const server = serve({ fetch: limitedApp().fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const post = (forwardedFor: string) =>
        fetch(`http://127.0.0.1:${port}/api/v1/thing`, {
          method: 'POST',
          headers: { 'X-Forwarded-For': forwardedFor },
        });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await post(`10.0.0.${i}`)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(await platform.kv.get(`ratelimit:test:ip:127.0.0.1:${Math.floor(T0 / 60_000)}`)).toBe('4');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
