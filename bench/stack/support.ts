/**
 * What the stack benchmarks share: the addresses of the real servers, a fresh database and data folder
 * per run, starting one function bundle as its own process and waiting for its readiness, signing in
 * through the auth function, percentiles and RSS.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { registerAndLogin, type TestSession } from '../../test/support/http';

export interface Services {
  mongoUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
}

/** The running servers: from INTEGR8S_* variables, else from `services.sh env`; exits when there are none. */
export function services(): Services {
  let { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
  if (!(INTEGR8S_MONGO_URL && INTEGR8S_REDIS_URL && INTEGR8S_KAFKA_BROKERS)) {
    try {
      const out = execFileSync('bash', ['scripts/services/services.sh', 'env'], { encoding: 'utf8' });
      const value = (name: string) => new RegExp(`${name}=(\\S+)`).exec(out)?.[1];
      INTEGR8S_MONGO_URL = value('INTEGR8S_MONGO_URL');
      INTEGR8S_REDIS_URL = value('INTEGR8S_REDIS_URL');
      INTEGR8S_KAFKA_BROKERS = value('INTEGR8S_KAFKA_BROKERS');
    } catch {
      // reported below
    }
  }
  if (!(INTEGR8S_MONGO_URL && INTEGR8S_REDIS_URL && INTEGR8S_KAFKA_BROKERS)) {
    console.error('The servers are not running: bash scripts/services/services.sh start');
    process.exit(2);
  }
  return { mongoUrl: INTEGR8S_MONGO_URL, redisUrl: INTEGR8S_REDIS_URL, kafkaBrokers: INTEGR8S_KAFKA_BROKERS };
}

/** A run of its own: a fresh database, a data folder and a shared secret for every process it starts. */
export interface BenchRun {
  id: string;
  database: string;
  dataDir: string;
  env: Record<string, string>;
  cleanup(): void;
}

export function newRun(label: string, svc: Services, extra: Record<string, string> = {}): BenchRun {
  const id = `${label}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = `bench_${id}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), `integr8scode-bench-${label}-`));
  return {
    id,
    database,
    dataDir,
    env: {
      PLATFORM: 'stack',
      HOST: '127.0.0.1',
      MONGO_URL: svc.mongoUrl.replace(/\/[^/]*$/, `/${database}`),
      REDIS_URL: svc.redisUrl,
      KAFKA_BROKERS: svc.kafkaBrokers,
      DATA_DIR: dataDir,
      SECRET_KEY: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ENABLED: 'false',
      COOKIE_SECURE: 'false',
      DEMO_ACCOUNT: 'false',
      ...extra,
    },
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

export interface RunningProcess {
  child: ChildProcess;
  url: string;
  /** Milliseconds from spawn to the first 200 from /health/readiness. */
  readyMs: number;
  stop(): Promise<void>;
}

/** A free port from a range nothing else in the project uses. */
export const freePort = (): number => 19_500 + Math.floor(Math.random() * 400);

/**
 * Starts `node <args>` with `env` on `port`, polls /health/readiness every `pollMs` until it answers 200
 * (at most `timeoutMs`), and returns the process.
 */
export async function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  options: {
    port?: number;
    pollMs?: number;
    timeoutMs?: number;
    quiet?: boolean;
    /** How long a SIGTERM may take before SIGKILL (default 5 s). */
    stopTimeoutMs?: number;
  } = {},
): Promise<RunningProcess> {
  const port = options.port ?? freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs ?? 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = started + (options.timeoutMs ?? 30_000);
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    try {
      const response = await fetch(`${url}/health/readiness`);
      await response.body?.cancel();
      if (response.status === 200) return { child, url, readyMs: performance.now() - started, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 20));
  }
  await stop();
  throw new Error(`${name} was not ready within ${options.timeoutMs ?? 30_000} ms`);
}

export const bundlePath = (name: string): string => path.join('dist/functions', `${name}.mjs`);

/** Bytes of a function's bundle: its entry and the chunks it imports from dist/functions/<name>/. */
export function bundleBytes(name: string): number {
  const chunks = path.join('dist/functions', name);
  return readdirSync(chunks)
    .filter((file) => file.endsWith('.mjs'))
    .reduce((sum, file) => sum + statSync(path.join(chunks, file)).size, statSync(bundlePath(name)).size);
}

/** Starts the auth bundle, registers and signs in one user, and stops it again. */
export async function signIn(run: BenchRun): Promise<TestSession> {
  const auth = await startProcess('auth', [bundlePath('auth')], run.env, { quiet: true });
  try {
    return await registerAndLogin({ request: (p, init) => fetch(auth.url + p, init) });
  } finally {
    await auth.stop();
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export const ms = (value: number): string => `${value.toFixed(1)} ms`;

/** Resident set size of a process from /proc, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** A Kafka client for the benchmarks' own checks, without log output. */
export const benchKafka = (brokers: string): Kafka =>
  new Kafka({ clientId: 'integr8scode-bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
