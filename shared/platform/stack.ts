/**
 * The stack platform: the same ports on real servers — MongoDB (or a MongoDB-wire server) for the
 * store, Redis for keyed state and the fan-out, Kafka for the bus. Each function process builds one;
 * KafkaSource (or the stack's dispatcher) delivers the events.
 */
import path from 'node:path';
import { KafkaEventBus } from '../bus/kafka/event-bus';
import type { Config } from '../config/config';
import { EventPublisher } from '../events/publisher';
import { RedisFanout } from '../fanout/redis';
import { RedisKeyValueStore } from '../kv/redis';
import { createLogger } from '../log';
import { openMongoStore } from '../store/mongo';
import type { Repositories } from '../store/ports';
import { RedisSessionRepository } from '../store/redis/sessions';
import type { SandboxUse } from './function';
import { type Platform, SERVICE_VERSION } from './platform';
import { createSandbox } from './sandbox-backend';

export interface StackPlatform extends Platform {
  close(): Promise<void>;
}

/** Key and channel prefix, so one Redis can serve several deployments. */
const REDIS_PREFIX = 'integr8scode:';

/** `sandboxUse`: what the function needs of the sandbox (see FunctionDefinition); absent, nothing. */
export async function createStackPlatform(
  config: Config,
  service: string,
  sandboxUse?: SandboxUse,
): Promise<StackPlatform> {
  const { MONGO_URL, REDIS_URL, KAFKA_BROKERS, SECRET_KEY } = config;
  const missing = Object.entries({ MONGO_URL, REDIS_URL, KAFKA_BROKERS, SECRET_KEY })
    .filter(([, value]) => value === undefined)
    .map(([name]) => name);
  if (missing.length > 0) throw new Error(`PLATFORM=stack needs ${missing.join(', ')}`);
  const log = createLogger(config.LOG_LEVEL, { service: `integr8scode-${service}` });
  // Only run-pod runs scripts; submit and executions check requests against the runtimes. Either set-up
  // waits on child processes (each interpreter's `--version`, bubblewrap's trial), so it goes on while
  // MongoDB connects.
  const sandboxReady = createSandbox(config, {
    use: sandboxUse,
    workDir: path.join(path.resolve(config.DATA_DIR), 'runs', service),
    // Every function process must offer the same runtimes; ones that need a trial build are left out.
    probeRuntimes: false,
    log: log.child({ component: 'sandbox' }),
  });
  const durable = await openMongoStore(MONGO_URL!);
  const sessions = new RedisSessionRepository(REDIS_URL!, {
    keyPrefix: REDIS_PREFIX,
    logger: log.child({ component: 'sessions' }),
  });
  const store: Repositories = {
    ...durable,
    sessions,
    async ping() {
      await Promise.all([durable.ping(), sessions.ping()]);
    },
    async close() {
      await Promise.all([durable.close(), sessions.close()]);
    },
  };
  const kv = new RedisKeyValueStore(REDIS_URL!, {
    keyPrefix: REDIS_PREFIX,
    logger: log.child({ component: 'kv' }),
  });
  const fanout = new RedisFanout(REDIS_URL!, {
    channelPrefix: REDIS_PREFIX,
    logger: log.child({ component: 'fanout' }),
  });
  const bus = new KafkaEventBus({ brokers: KAFKA_BROKERS!, clientId: `integr8scode-${service}`, log });
  const now = () => new Date();
  const events = new EventPublisher(
    store.events,
    fanout,
    bus,
    { name: service, version: SERVICE_VERSION },
    now,
  );
  const sandbox = await sandboxReady;
  return {
    config,
    secretKey: SECRET_KEY!,
    store,
    kv,
    fanout,
    bus,
    events,
    sandbox,
    log,
    now,
    async close() {
      await sandbox.close();
      await bus.close();
      await fanout.close();
      await kv.close();
      await store.close();
    },
  };
}
