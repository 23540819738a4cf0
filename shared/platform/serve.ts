/**
 * Entry of a single function's bundle: one function, one process, one port — how Knative runs it.
 * The platform comes from the environment; only the embedded adapters exist so far, so a lone
 * bundle keeps its state and events to itself.
 */
import { serve } from '@hono/node-server';
import { loadConfigOrExit } from '../config/config';
import { createEmbeddedPlatform } from './embedded';
import type { FunctionDefinition } from './function';

export async function serveFunction(definition: FunctionDefinition): Promise<void> {
  const config = loadConfigOrExit();
  const platform = await createEmbeddedPlatform(config);
  const app = definition.createApp(platform);
  if (definition.triggers.length > 0) {
    platform.bus.subscribe({
      name: definition.name,
      eventTypes: definition.triggers,
      deliver: async (r) => app.fetch(r),
    });
  }
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
    platform.log.info('listening', { function: definition.name, port: info.port }),
  );
  const stop = async () => {
    server.close();
    await platform.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
