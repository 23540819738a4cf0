/**
 * All functions in one process: each function keeps its own Hono app, exactly as deployed; API
 * requests reach the app whose routes own the path (what the gateway does on Knative), and events
 * reach each app's `POST /` through the in-process bus (what KafkaSource does).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { securityHeaders } from '../http/security';
import type { EmbeddedPlatform } from './embedded';
import { type FunctionDefinition, routeMatches } from './function';

export function createEmbeddedServer(
  platform: EmbeddedPlatform,
  functions: readonly FunctionDefinition[],
  options: { webRoot?: string } = {},
): Hono {
  const deployed = functions.map((definition) => ({ definition, app: definition.createApp(platform) }));
  for (const { definition, app } of deployed) {
    if (definition.triggers.length === 0) continue;
    platform.bus.subscribe({
      name: definition.name,
      eventTypes: definition.triggers,
      deliver: async (request) => app.fetch(request),
    });
  }

  const root = new Hono();
  root.all('/api/*', (c) => {
    const target = deployed.find(({ definition }) =>
      definition.routes.some((prefix) => routeMatches(prefix, c.req.path)),
    );
    if (!target)
      return c.json({ detail: `Not found: ${c.req.method} ${c.req.path}`, type: 'NotFoundError' }, 404);
    return target.app.fetch(c.req.raw, c.env);
  });
  root.get('/health/liveness', (c) => c.json({ status: 'ok' }));
  root.get('/health/readiness', async (c) => {
    const sandbox = await platform.sandbox.check();
    try {
      await platform.store.ping();
    } catch (error) {
      return c.json({ status: 'not_ready', detail: (error as Error).message }, 503);
    }
    return c.json({ status: 'ready', sandbox });
  });

  const webRoot = options.webRoot && path.resolve(options.webRoot);
  if (webRoot && existsSync(path.join(webRoot, 'index.html'))) {
    const indexHtml = readFileSync(path.join(webRoot, 'index.html'), 'utf8');
    root.use('*', securityHeaders(platform.config));
    root.use(
      '/assets/*',
      serveStatic({
        root: webRoot,
        onFound: (_path, c) => {
          c.header('Cache-Control', 'public, max-age=31536000, immutable');
        },
      }),
    );
    root.use('*', serveStatic({ root: webRoot }));
    // Client-side routes (/editor, /history, ...) all load the app shell.
    root.get('*', (c) => {
      c.header('Cache-Control', 'no-cache');
      return c.html(indexHtml);
    });
  }
  return root;
}
