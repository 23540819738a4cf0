import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config';
import { errorResponse } from './errors';
import { bodySizeLimit, noStoreByDefault, securityHeaders } from './security';

function appWith(env: Record<string, string> = {}) {
  const config = loadConfig(env);
  const app = new Hono();
  app.onError((error, c) => errorResponse(error, c));
  app.use('*', securityHeaders(config));
  app.use('/api/*', noStoreByDefault, bodySizeLimit(config.MAX_BODY_BYTES));
  app.post('/api/echo', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
  app.get('/api/cached', (c) => c.json({ ok: true }, 200, { 'Cache-Control': 'public, max-age=300' }));
  app.get('/api/fails', () => {
    throw new Error('boom');
  });
  app.get('/page', (c) => c.text('page'));
  return app;
}

describe('security headers', () => {
  it('sets the strict headers on every response, errors included', async () => {
    const app = appWith();
    for (const path of ['/page', '/api/fails', '/missing']) {
      const response = await app.request(path);
      expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
      expect(response.headers.get('X-Frame-Options')).toBe('DENY');
      expect(response.headers.get('Referrer-Policy')).toBe('strict-origin-when-cross-origin');
      expect(response.headers.get('Cross-Origin-Opener-Policy')).toBe('same-origin');
      expect(response.headers.get('Permissions-Policy')).toContain('camera=()');
      expect(response.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
    }
  });

  it('sends HSTS only over https and only when cookies are marked Secure', async () => {
    expect(
      (await appWith().request('http://localhost/page')).headers.get('Strict-Transport-Security'),
    ).toBeNull();
    expect((await appWith().request('https://localhost/page')).headers.get('Strict-Transport-Security')).toBe(
      'max-age=63072000; includeSubDomains',
    );
    const insecure = appWith({ COOKIE_SECURE: 'false' });
    expect(
      (await insecure.request('https://localhost/page')).headers.get('Strict-Transport-Security'),
    ).toBeNull();
  });
});

describe('API caching', () => {
  it('defaults API responses to no-store but keeps a route’s own policy', async () => {
    const app = appWith();
    expect((await app.request('/api/fails')).headers.get('Cache-Control')).toBe('no-store');
    expect((await app.request('/api/cached')).headers.get('Cache-Control')).toBe('public, max-age=300');
    expect((await app.request('/page')).headers.get('Cache-Control')).toBeNull();
  });
});

describe('body size limit', () => {
  const app = appWith({ MAX_BODY_BYTES: '1Ki' });

  it('lets a body at the limit through', async () => {
    const response = await app.request('/api/echo', { method: 'POST', body: 'x'.repeat(1024) });
    expect(await response.json()).toEqual({ bytes: 1024 });
  });

  it('rejects a declared Content-Length over the limit before reading', async () => {
    const response = await app.request('/api/echo', {
      method: 'POST',
      headers: { 'Content-Length': '5000' },
      body: 'x'.repeat(5000),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      detail: 'Request body exceeds 1024 bytes',
      type: 'PayloadTooLargeError',
    });
  });

  it('counts a streamed body without Content-Length', async () => {
    const chunks = [new Uint8Array(600), new Uint8Array(600)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const response = await app.request('/api/echo', { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
  });
});
