/**
 * The embedded platform: every port backed by something inside this process — SQLite under
 * DATA_DIR for the store and keyed state, an in-process bus with KafkaSource's delivery rules, an
 * in-process fan-out, and the local sandbox (or, with SANDBOX_BACKEND=kubernetes, pods). Nothing to
 * install or start.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InProcessBus } from '../bus/in-process';
import type { DeliveryPolicy } from '../bus/port';
import type { Config } from '../config/config';
import { EventPublisher } from '../events/publisher';
import { InProcessFanout } from '../fanout/in-process';
import { SqliteKeyValueStore } from '../kv/sqlite';
import { createLogger, type Logger } from '../log';
import type { Sandbox } from '../sandbox/port';
import { openSqliteStore } from '../store/sqlite';
import { type Platform, SERVICE_VERSION } from './platform';
import { createSandbox } from './sandbox-backend';

export interface EmbeddedPlatform extends Platform {
  bus: InProcessBus;
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  log?: Logger;
  /** Another sandbox backend (tests use this to count runs). */
  sandbox?: Sandbox;
  delivery?: DeliveryPolicy;
  now?: () => Date;
}

/** The CSRF signing key: from SECRET_KEY, or generated once and kept beside the data. */
function loadSecretKey(config: Config, dataDir: string): string {
  if (config.SECRET_KEY) return config.SECRET_KEY;
  const file = path.join(dataDir, 'secret-key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const key = randomBytes(32).toString('base64url');
    writeFileSync(file, key, { mode: 0o600 });
    return key;
  }
}

export async function createEmbeddedPlatform(
  config: Config,
  options: EmbeddedOptions = {},
): Promise<EmbeddedPlatform> {
  const dataDir = path.resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = options.log ?? createLogger(config.LOG_LEVEL, { service: 'integr8scode' });
  const databaseFile = path.join(dataDir, 'integr8scode.db');
  const store = openSqliteStore(databaseFile);
  const kv = new SqliteKeyValueStore(databaseFile);
  const fanout = new InProcessFanout({ logger: log.child({ component: 'fanout' }) });
  const bus = new InProcessBus({
    deadLetters: store.deadLetters,
    log: log.child({ component: 'bus' }),
    policy: options.delivery,
  });
  const now = options.now ?? (() => new Date());
  const events = new EventPublisher(
    store.events,
    fanout,
    bus,
    { name: 'integr8scode', version: SERVICE_VERSION },
    now,
  );
  const sandbox =
    options.sandbox ??
    (await createSandbox(config, {
      use: 'run',
      workDir: path.join(dataDir, 'runs'),
      probeRuntimes: true,
      log: log.child({ component: 'sandbox' }),
    }));
  return {
    config,
    secretKey: loadSecretKey(config, dataDir),
    store,
    kv,
    fanout,
    bus,
    events,
    sandbox,
    log,
    now,
    async close() {
      await bus.close();
      await sandbox.close();
      await fanout.close();
      await kv.close();
      await store.close();
    },
  };
}
