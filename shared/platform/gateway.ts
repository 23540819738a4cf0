/**
 * The stack's front door: serves the web app and forwards each /api/v1 request to the function whose
 * routes own the path — the same table the embedded server and the Knative routing use. Responses
 * stream through untouched, so SSE passes as it is.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import type { Config } from '../config/config';
import { serveWebApp } from './embedded-server';
import { type FunctionDefinition, functionForPath, routeNotFound } from './function';

/** Hop-by-hop headers that must not be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
];

export function createGateway(
  config: Config,
  functions: readonly FunctionDefinition[],
  urlFor: (definition: FunctionDefinition) => string,
  options: { webRoot?: string } = {},
): Hono {
  const app = new Hono();
  app.all('/api/*', async (c) => {
    const target = functionForPath(functions, c.req.path);
    if (!target) return c.json(routeNotFound(c.req.method, c.req.path), 404);
    const incoming = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    // As any proxy does: the functions trust this gateway (TRUSTED_PROXIES) to name the client.
    const peer = getConnInfo(c).remote.address;
    if (peer) {
      const forwarded = headers.get('X-Forwarded-For');
      headers.set('X-Forwarded-For', forwarded ? `${forwarded}, ${peer}` : peer);
    }
    try {
      const upstream = await fetch(`${urlFor(target)}${incoming.pathname}${incoming.search}`, {
        method: c.req.method,
        headers,
        body: c.req.raw.body,
        signal: c.req.raw.signal,
        redirect: 'manual',
        // @ts-expect-error Node's fetch needs this to stream a request body.
        duplex: 'half',
      });
      const responseHeaders = new Headers(upstream.headers);
      for (const name of HOP_BY_HOP) responseHeaders.delete(name);
      const body = upstream.body && endsWhenClientLeaves(upstream.body, c.req.raw.signal);
      return new Response(body, { status: upstream.status, headers: responseHeaders });
    } catch (error) {
      if (c.req.raw.signal.aborted) return new Response(null, { status: 499 });
      return c.json(
        {
          detail: `${target.name} is unavailable: ${(error as Error).message}`,
          type: 'ServiceUnavailableError',
        },
        503,
      );
    }
  });
  app.get('/health/liveness', (c) => c.json({ status: 'ok' }));
  if (options.webRoot) serveWebApp(app, config, options.webRoot);
  return app;
}

/**
 * The upstream body, ended quietly once the client has gone: a client closing a stream (an SSE reader
 * leaving) aborts the upstream fetch, which is the normal end of that response, not an error to log.
 */
function endsWhenClientLeaves(
  body: ReadableStream<Uint8Array>,
  clientGone: AbortSignal,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        if (clientGone.aborted) controller.close();
        else controller.error(error);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
