/**
 * All functions in one process: each function keeps its own Hono app, exactly as deployed; API
 * requests reach the app whose routes own the path (what the gateway does on Knative), and events
 * reach each app's `POST /` through the in-process bus (what KafkaSource does).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { Config } from '../config/config';
import { securityHeaders } from '../http/security';
import type { EmbeddedPlatform } from './embedded';
import { type FunctionDefinition, functionForPath, routeNotFound } from './function';

export function createEmbeddedServer(
  platform: EmbeddedPlatform,
  functions: readonly FunctionDefinition[],
  options: { webRoot?: string } = {},
): Hono {
  const deployed = functions.map((definition) => ({ ...definition, app: definition.createApp(platform) }));
  for (const { name, triggers, app } of deployed) {
    if (triggers.length === 0) continue;
    platform.bus.subscribe({ name, eventTypes: triggers, deliver: async (request) => app.fetch(request) });
  }

  const root = new Hono();
  root.all('/api/*', (c) => {
    const target = functionForPath(deployed, c.req.path);
    if (!target) return c.json(routeNotFound(c.req.method, c.req.path), 404);
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

  if (options.webRoot) serveWebApp(root, platform.config, options.webRoot);
  return root;
}

/** The built web app: hashed assets cached for good, every other path answered with the app shell. */
export function serveWebApp(app: Hono, config: Config, webRootOption: string): void {
  const webRoot = path.resolve(webRootOption);
  if (!existsSync(path.join(webRoot, 'index.html'))) return;
  const indexHtml = readFileSync(path.join(webRoot, 'index.html'), 'utf8');
  app.use('*', securityHeaders(config));
  app.use(
    '/assets/*',
    serveStatic({
      root: webRoot,
      onFound: (_path, c) => {
        c.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
    }),
  );
  app.use('*', serveStatic({ root: webRoot }));
  // Client-side routes (/editor, /history, ...) all load the app shell.
  app.get('*', (c) => {
    c.header('Cache-Control', 'no-cache');
    return c.html(indexHtml);
  });
}
