/**
 * What every function is: a name, the API paths it serves, the event types its CloudEvent sink takes
 * (its KafkaSources), and a Hono app built from the platform's ports. The embedded server, the stack
 * gateway and the Knative manifests all read this one table.
 */
import { Hono } from 'hono';
import type { EventType } from '../events/schemas';
import { authenticate } from '../http/auth';
import { errorResponse } from '../http/errors';
import { bodySizeLimit, noStoreByDefault, securityHeaders } from '../http/security';
import type { Platform } from './platform';

export type SandboxUse = 'run' | 'runtimes';

export interface FunctionDefinition {
  name: string;
  /** Path prefixes under /api/v1 this function answers (matched at segment boundaries). */
  routes: readonly string[];
  /** Event types delivered to `POST /` (one KafkaSource per function). */
  triggers: readonly EventType[];
  /** Long-lived streams: min-scale 1, no container concurrency cap. */
  streaming?: boolean;
  /**
   * What the function needs of the sandbox: to `run` scripts, or only the `runtimes` it offers (to check
   * requests against). Absent: nothing, so its own process skips looking for runtimes.
   */
  sandbox?: SandboxUse;
  createApp(platform: Platform): Hono<AppEnv>;
}

export interface AppEnv {
  Variables: {
    user: import('../domain/user').Principal | null;
    requestId: string;
  };
}

/** True when `path` is `prefix` or lies under it. */
export const routeMatches = (prefix: string, path: string): boolean =>
  path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

/** The function whose routes own `path`: the routing table of every front door. */
export const functionForPath = <F extends Pick<FunctionDefinition, 'routes'>>(
  functions: readonly F[],
  path: string,
): F | undefined =>
  functions.find((definition) => definition.routes.some((prefix) => routeMatches(prefix, path)));

export const routeNotFound = (method: string, path: string) => ({
  detail: `Not found: ${method} ${path}`,
  type: 'NotFoundError',
});

/**
 * The common frame of a function's app: error mapping, the Knative health probes, security headers
 * and, on the API, the body-size limit, no-store caching and the signed-in user with CSRF checks.
 */
export function createFunctionApp(
  platform: Platform,
  name: string,
  /** A function that publishes no events stays ready while the bus is down. */
  options: { publishes?: boolean } = {},
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const log = platform.log.child({ function: name });
  app.onError((error, c) =>
    errorResponse(error, c, (e) => log.error('unhandled error', { error: e, path: c.req.path })),
  );
  app.notFound((c) => c.json(routeNotFound(c.req.method, c.req.path), 404));
  app.use('*', securityHeaders(platform.config));
  // The CloudEvent sink (`POST /`) is cluster-internal and carries whole results; the limits are for the API.
  app.use('/api/*', noStoreByDefault, bodySizeLimit(platform.config.MAX_BODY_BYTES), authenticate(platform));
  app.get('/health/liveness', (c) => c.json({ status: 'ok' }));
  app.get('/health/readiness', async (c) => {
    try {
      await Promise.all([platform.store.ping(), options.publishes === false ? null : platform.bus.ready()]);
      return c.json({ status: 'ready' });
    } catch (error) {
      return c.json({ status: 'not_ready', detail: (error as Error).message }, 503);
    }
  });
  return app;
}
