/** The embedded server on a real loopback port, for end-to-end and browser tests. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { FUNCTIONS } from '../../functions/registry';
import { createEmbeddedServer } from '../../shared/platform/embedded-server';
import { createTestPlatform, type TestPlatform } from './platform';

export interface RunningServer {
  baseUrl: string;
  platform: TestPlatform;
  close(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  webRoot?: string,
): Promise<RunningServer> {
  const platform = await createTestPlatform({ COOKIE_SECURE: 'false', ...env });
  const app = createEmbeddedServer(platform, FUNCTIONS, { webRoot });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    platform,
    async close() {
      (server as import('node:http').Server).closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await platform.close();
    },
  };
}
