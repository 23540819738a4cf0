/**
 * Entry of a single function's bundle: one function, one process, one port — how Knative runs it.
 * With PLATFORM=stack the ports are MongoDB, Redis and Kafka, and events arrive from KafkaSource (or
 * the stack's dispatcher) at `POST /`. With the embedded default a lone bundle keeps its state and
 * events to itself, which is only useful to try the bundle.
 */
import { serve } from '@hono/node-server';
import { loadConfigOrExit } from '../config/config';
import type { FunctionDefinition } from './function';

export async function serveFunction(definition: FunctionDefinition): Promise<void> {
  const config = loadConfigOrExit();
  // Imported on demand: the bundles are split, so a process loads only its own platform's code.
  const embedded =
    config.PLATFORM === 'embedded' ? await (await import('./embedded')).createEmbeddedPlatform(config) : null;
  const platform =
    embedded ??
    (await (await import('./stack')).createStackPlatform(config, definition.name, definition.sandbox));
  const app = definition.createApp(platform);
  if (embedded && definition.triggers.length > 0) {
    embedded.bus.subscribe({
      name: definition.name,
      eventTypes: definition.triggers,
      deliver: async (r) => app.fetch(r),
    });
  }
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
    platform.log.info('listening', { function: definition.name, port: info.port, platform: config.PLATFORM }),
  );
  const stop = async () => {
    server.close();
    await platform.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
