/**
 * Stack mode on one machine: every function from its own bundle as its own process against real
 * MongoDB, Redis and Kafka; a dispatcher that reads the KafkaSource manifests and delivers records to
 * the functions as KafkaSource would; and a gateway that routes /api/v1 by the registry's table and
 * serves the web app. Start the servers first (scripts/services/services.sh start).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { FUNCTIONS } from '../../functions/registry';
import { ensureBootstrapAccounts } from '../auth/bootstrap';
import { KafkaSourceDispatcher } from '../bus/kafka/dispatcher';
import { sourcesFromManifests } from '../bus/kafka/manifests';
import { type Config, loadConfig } from '../config/config';
import type { FunctionDefinition } from './function';
import { createGateway } from './gateway';
import { createStackPlatform } from './stack';

export interface RunningStack {
  url: string;
  functionUrl(name: string): string;
  /** Stops one function's process (fault tests restart it with `restartFunction`). */
  killFunction(name: string): Promise<void>;
  restartFunction(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Environment for every process: service URLs, DATA_DIR, limits. */
  env: Record<string, string>;
  /** Gateway port; 0 picks a free one. */
  port?: number;
  /** First function port; each function takes the next one. */
  functionBasePort?: number;
  webRoot?: string;
  bundleDir?: string;
  onLog?: (name: string, line: string) => void;
}

const READY_TIMEOUT_MS = 30_000;

/** A child that ended by a signal keeps `exitCode` null; `signalCode` tells it is gone. */
const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

async function waitReady(url: string, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited(child))
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      if ((await fetch(`${url}/health/readiness`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} was not ready within ${READY_TIMEOUT_MS} ms`);
}

/** The CSRF key every function must share: from SECRET_KEY or kept beside the data. */
function sharedSecret(env: Record<string, string>, dataDir: string): string {
  if (env.SECRET_KEY) return env.SECRET_KEY;
  const file = path.join(dataDir, 'secret-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, key, { mode: 0o600 });
  return key;
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const dataDir = path.resolve(options.env.DATA_DIR ?? '.data/stack');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    ...options.env,
    DATA_DIR: dataDir,
    PLATFORM: 'stack',
    HOST: '127.0.0.1',
    // The functions hear every request from the gateway on loopback, which names the client.
    TRUSTED_PROXIES: options.env.TRUSTED_PROXIES ?? '127.0.0.1,::1',
  };
  env.SECRET_KEY = sharedSecret(env, dataDir);
  const config: Config = loadConfig(env);
  const bundleDir = options.bundleDir ?? 'dist/functions';
  const basePort = options.functionBasePort ?? 18_100;
  const ports = new Map(FUNCTIONS.map((definition, index) => [definition.name, basePort + index]));
  const urlOf = (name: string) => `http://127.0.0.1:${ports.get(name)}`;
  const children = new Map<string, ChildProcess>();

  async function startFunction(definition: FunctionDefinition): Promise<void> {
    const bundle = path.join(bundleDir, `${definition.name}.mjs`);
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build:functions`);
    const child = spawn(process.execPath, ['--enable-source-maps', bundle], {
      env: { ...process.env, ...env, PORT: String(ports.get(definition.name)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        for (const line of text.split('\n')) if (line) options.onLog?.(definition.name, line);
      });
    }
    children.set(definition.name, child);
    await waitReady(urlOf(definition.name), child, definition.name);
  }

  async function killFunction(name: string): Promise<void> {
    const child = children.get(name);
    if (!child || exited(child)) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  const platform = await createStackPlatform(config, 'gateway');
  let dispatcher: KafkaSourceDispatcher | undefined;
  let server: ReturnType<typeof serve> | undefined;
  try {
    await Promise.all(FUNCTIONS.map(startFunction));
    await ensureBootstrapAccounts(platform, { demo: config.DEMO_ACCOUNT, dataDir });
    // Sink Service names in the manifests are `integr8scode-<function>`.
    const sources = sourcesFromManifests('knative/base/kafka-sources.yaml', (service) =>
      urlOf(service.replace(/^integr8scode-/, '')),
    );
    dispatcher = new KafkaSourceDispatcher({
      brokers: config.KAFKA_BROKERS!,
      clientId: 'integr8scode-dispatcher',
      sources,
      deadLetters: platform.store.deadLetters,
      log: platform.log.child({ component: 'dispatcher' }),
    });
    await dispatcher.start();
    const gateway = createGateway(config, FUNCTIONS, (definition) => urlOf(definition.name), {
      webRoot: options.webRoot,
    });
    server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve(
        { fetch: gateway.fetch, port: options.port ?? config.PORT, hostname: '127.0.0.1' },
        () => resolve(s),
      );
    });
  } catch (error) {
    await dispatcher?.stop().catch(() => undefined);
    for (const name of children.keys()) await killFunction(name);
    await platform.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const running = server;
  const activeDispatcher = dispatcher;
  return {
    url: `http://127.0.0.1:${port}`,
    functionUrl: urlOf,
    killFunction,
    async restartFunction(name) {
      await killFunction(name);
      const definition = FUNCTIONS.find((f) => f.name === name);
      if (!definition) throw new Error(`no function named ${name}`);
      await startFunction(definition);
    },
    async stop() {
      (running as import('node:http').Server).closeAllConnections();
      await new Promise((resolve) => running.close(resolve));
      await activeDispatcher.stop();
      await Promise.all(
        [...children.values()].map(async (child) => {
          if (exited(child)) return;
          const gone = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await gone;
        }),
      );
      await platform.close();
    },
  };
}
