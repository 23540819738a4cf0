/**
 * Every function bundle, laid out as its container image lays it out (Containerfile): a folder holding
 * only `function.mjs`, the chunks it imports, their source maps and the run-time packages the bundle
 * leaves external. Each starts
 * with plain `node`, becomes ready, stops cleanly on SIGTERM and writes nothing beside itself; a bad
 * configuration stops it with exit code 2 and a message naming the variable. With the real servers
 * (INTEGR8S_* from scripts/services/services.sh) the bundles run with PLATFORM=stack, otherwise on the
 * embedded platform in a temporary DATA_DIR. Needs `npm run build:functions`.
 *
 * Prints every bundle's size and its process start → readiness times (BUNDLE_STARTS starts each, default 3).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../functions/registry';

const root = path.resolve(import.meta.dirname, '..');
const bundleDir = path.join(root, 'dist/functions');

/**
 * What an image carries besides the bundle: better-sqlite3 (imported and opened only by the embedded
 * platform's chunk) and the two packages that locate its native addon. Keep in step with the runtime
 * stage of the Containerfile.
 */
const RUNTIME_FILES = [
  'better-sqlite3/package.json',
  'better-sqlite3/lib',
  'better-sqlite3/build/Release/better_sqlite3.node',
  'bindings',
  'file-uri-to-path',
];

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const STARTS = Math.max(1, Number(process.env.BUNDLE_STARTS) || 3);
const TARGET_READY_P50_MS = 300;

const { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
const stack = Boolean(INTEGR8S_MONGO_URL && INTEGR8S_REDIS_URL && INTEGR8S_KAFKA_BROKERS);
if (!stack)
  console.warn(
    '[bundles.test] INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL or INTEGR8S_KAFKA_BROKERS unset: ' +
      'bundles run on the embedded platform',
  );
const database = `bundles_${Date.now().toString(36)}`;
const mongoUrl = INTEGR8S_MONGO_URL?.replace(/\/[^/]*$/, `/${database}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node --enable-source-maps function.mjs` in `appDir` with nothing but `env` (and PATH). */
function startBundle(appDir: string, env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--enable-source-maps', 'function.mjs'], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (text.length < 64_000) text += chunk;
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => text, exited };
}

/** Milliseconds from the process start until /health/readiness answers 200. */
async function waitReady(started: Started, port: number, since: number): Promise<number> {
  const deadline = since + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (started.child.exitCode !== null || started.child.signalCode !== null)
      throw new Error(
        `exited (${started.child.exitCode ?? started.child.signalCode}) before ready:\n${started.output()}`,
      );
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/readiness`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`not ready within ${READY_TIMEOUT_MS} ms:\n${started.output()}`);
}

async function stopWithin(started: Started, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  const result = await Promise.race([started.exited, timeout]);
  clearTimeout(timer);
  if (result === null) {
    started.child.kill('SIGKILL');
    await started.exited;
  }
  return result;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Every file under `dir`, relative to it. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe(`function bundles with plain node (${stack ? 'stack: Kafka, MongoDB wire, Redis' : 'embedded'})`, () => {
  const work = mkdtempSync(path.join(tmpdir(), 'integr8scode-bundles-'));
  const figures: { name: string; bytes: number; mapBytes: number; readyMs: number[]; stopMs: number[] }[] =
    [];

  /**
   * The image's /app for one function: function.mjs, <name>.mjs.map (the name the entry links), the
   * chunks in <name>/ and node_modules.
   */
  function appDirFor(name: string): string {
    const appDir = path.join(work, 'apps', name);
    if (existsSync(appDir)) return appDir;
    mkdirSync(appDir, { recursive: true });
    cpSync(path.join(bundleDir, `${name}.mjs`), path.join(appDir, 'function.mjs'));
    cpSync(path.join(bundleDir, `${name}.mjs.map`), path.join(appDir, `${name}.mjs.map`));
    cpSync(path.join(bundleDir, name), path.join(appDir, name), { recursive: true });
    for (const entry of RUNTIME_FILES)
      cpSync(path.join(root, 'node_modules', entry), path.join(appDir, 'node_modules', entry), {
        recursive: true,
      });
    return appDir;
  }

  function baseEnv(name: string, port: number, run: number): Record<string, string> {
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      PORT: String(port),
      // The image's only writable place is /tmp; here a folder of its own per start.
      DATA_DIR: path.join(work, 'tmp', `${name}-${run}`),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      DEMO_ACCOUNT: 'false',
      SECRET_KEY: 'bundle-smoke-test-secret-key-0123456789',
    };
    if (stack)
      Object.assign(env, {
        PLATFORM: 'stack',
        MONGO_URL: mongoUrl!,
        REDIS_URL: INTEGR8S_REDIS_URL!,
        KAFKA_BROKERS: INTEGR8S_KAFKA_BROKERS!,
      });
    return env;
  }

  beforeAll(() => {
    const missing = FUNCTIONS.filter((f) => !existsSync(path.join(bundleDir, `${f.name}.mjs`)));
    if (missing.length > 0)
      throw new Error(`${missing.map((f) => f.name).join(', ')}: no bundle; run npm run build:functions`);
  });

  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    if (stack) {
      const client = new MongoClient(mongoUrl!, { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.db(database).dropDatabase();
      } catch (error) {
        console.warn(`[bundles.test] could not drop ${database}: ${(error as Error).message}`);
      } finally {
        await client.close();
      }
    }
    if (figures.length === 0) return;
    const width = Math.max(...figures.map((f) => f.name.length));
    const lines = figures.map(
      ({ name, bytes, mapBytes, readyMs, stopMs }) =>
        `${name.padEnd(width)}  ${kib(bytes).padStart(12)}  map ${kib(mapBytes).padStart(12)}  ` +
        `start→ready ${readyMs.map((ms) => `${Math.round(ms)}`.padStart(5)).join(' ')} ms ` +
        `(p50 ${Math.round(median(readyMs))})  SIGTERM→exit p50 ${Math.round(median(stopMs))} ms`,
    );
    const all = figures.flatMap((f) => f.readyMs);
    const p50 = median(all);
    lines.push(
      `all ${all.length} starts: start→ready p50 ${Math.round(p50)} ms, max ${Math.round(Math.max(...all))} ms ` +
        `(target p50 ≤ ${TARGET_READY_P50_MS} ms: ${p50 <= TARGET_READY_P50_MS ? 'met' : 'missed'}), ` +
        `node ${process.version}, ${stack ? 'PLATFORM=stack' : 'embedded'}`,
    );
    console.log(`[bundles.test] bundle sizes and start times\n${lines.join('\n')}`);
  });

  for (const { name } of FUNCTIONS) {
    it(`${name}: starts with plain node, becomes ready and stops cleanly on SIGTERM`, async () => {
      const appDir = appDirFor(name);
      const shipped = listFiles(appDir);
      const readyMs: number[] = [];
      const stopMs: number[] = [];
      for (let run = 0; run < STARTS; run++) {
        const port = await freePort();
        const since = performance.now();
        const started = startBundle(appDir, baseEnv(name, port, run));
        try {
          readyMs.push(await waitReady(started, port, since));
        } catch (error) {
          started.child.kill('SIGKILL');
          await started.exited;
          throw error;
        }
        const stopping = performance.now();
        started.child.kill('SIGTERM');
        const exit = await stopWithin(started, STOP_TIMEOUT_MS);
        stopMs.push(performance.now() - stopping);
        expect(exit, `${name} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`).not.toBeNull();
        expect(exit, started.output()).toEqual({ code: 0, signal: null });
      }
      // Read-only root: a run writes only under DATA_DIR, never beside the bundle.
      expect(listFiles(appDir)).toEqual(shipped);
      /** Bytes of the entry and its chunks whose names end in `suffix`. */
      const bundleBytes = (suffix: string) =>
        shipped
          .filter((file) => file.endsWith(suffix) && !file.startsWith('node_modules'))
          .reduce((sum, file) => sum + statSync(path.join(appDir, file)).size, 0);
      figures.push({
        name,
        bytes: bundleBytes('.mjs'),
        mapBytes: bundleBytes('.mjs.map'),
        readyMs,
        stopMs,
      });
    });
  }

  it('a bad configuration stops every bundle with exit code 2 and a message naming the variable', async () => {
    for (const { name } of FUNCTIONS) {
      const started = startBundle(appDirFor(name), { ...baseEnv(name, 8080, 0), PORT: 'abc' });
      const exit = await stopWithin(started, 10_000);
      expect(exit, `${name}:\n${started.output()}`).toEqual({ code: 2, signal: null });
      expect(started.output()).toMatch(/PORT="abc": must be a whole number/);
    }
  });
});
