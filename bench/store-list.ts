/**
 * Listing latency of an execution store: 100,000 executions across 10,000 users, then p50/p99 of one
 * user's first page, filtered and unfiltered first pages and deep pages. Every loop is bounded in count
 * and time; the data is removed afterwards.
 * Run: npx tsx bench/store-list.ts                       (embedded SQLite, in a temporary file)
 *      BENCH_STORE=mongo INTEGR8S_MONGO_URL=mongodb://127.0.0.1:27018/test npx tsx bench/store-list.ts
 * (BENCH_EXECUTIONS, BENCH_USERS and BENCH_SAMPLES override the sizes.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { type ExecutionRecord, newExecution } from '../shared/domain/execution';
import { openMongoStore } from '../shared/store/mongo';
import type { ExecutionFilter, Repositories } from '../shared/store/ports';
import { openSqliteStore } from '../shared/store/sqlite';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 100_000);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1_000);
const DEEP_SAMPLES = Math.min(100, SAMPLES);
const BATCH = 500;
/** A measurement stops early once it has run this long, with however many samples it has. */
const MEASURE_BUDGET_MS = 120_000;
const START = Date.UTC(2025, 0, 1);

/** Deterministic pseudo-random numbers so runs are comparable. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function execution(index: number, random: () => number): ExecutionRecord {
  // Several executions share each second, so the id tie-break is exercised.
  const created = new Date(START + Math.floor(index / 4) * 1000).toISOString();
  return {
    ...newExecution({
      execution_id: `exec-${String(index).padStart(6, '0')}`,
      user_id: `user-${Math.floor(random() * USERS)}`,
      script: 'print("hello")\n',
      stdin: '',
      lang: random() < 0.7 ? 'python' : 'node',
      lang_version: '3.12',
      priority: 'normal',
      created_at: created,
    }),
    status: random() < 0.9 ? 'completed' : 'failed',
    stdout: 'hello\n',
    stderr: '',
    exit_code: 0,
    finished_at: created,
  };
}

async function measure(
  store: ListedStore,
  name: string,
  samples: number,
  query: (sample: number) => { filter: ExecutionFilter; skip: number },
): Promise<void> {
  const durations: number[] = [];
  const began = performance.now();
  for (let sample = 0; sample < samples && performance.now() - began < MEASURE_BUDGET_MS; sample++) {
    const { filter, skip } = query(sample);
    const started = performance.now();
    await store.executions.list(filter, { limit: 50, skip });
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  const percentile = (p: number) =>
    durations[Math.min(durations.length - 1, Math.floor(p * durations.length))]!;
  console.log(
    `${name.padEnd(44)} n=${String(durations.length).padStart(5)}  p50=${percentile(0.5).toFixed(3)} ms  p99=${percentile(0.99).toFixed(3)} ms`,
  );
}

/** The store under test and how to remove what the run created. */
/** What the listing needs of either store. */
type ListedStore = Pick<Repositories, 'executions' | 'close'>;

async function openStore(): Promise<{ store: ListedStore; cleanUp(): Promise<void> }> {
  if (process.env.BENCH_STORE !== 'mongo') {
    const directory = mkdtempSync(join(tmpdir(), 'integr8s-bench-'));
    return {
      store: openSqliteStore(join(directory, 'store.db')),
      cleanUp: async () => rmSync(directory, { recursive: true, force: true }),
    };
  }
  const url = process.env.INTEGR8S_MONGO_URL;
  if (!url) {
    console.error('set INTEGR8S_MONGO_URL, e.g. mongodb://127.0.0.1:27018/test');
    process.exit(2);
  }
  const dbName = `integr8s_bench_${randomBytes(4).toString('hex')}`;
  return {
    store: await openMongoStore(url, { dbName }),
    async cleanUp() {
      const admin = await new MongoClient(url).connect();
      await admin.db(dbName).dropDatabase();
      await admin.close();
    },
  };
}

const { store, cleanUp } = await openStore();
try {
  const random = seeded(42);
  const loadStarted = performance.now();
  // Batches of concurrent creates through the port, as the product writes them.
  for (let first = 0; first < EXECUTIONS; first += BATCH) {
    const batch = [];
    for (let index = first; index < Math.min(first + BATCH, EXECUTIONS); index++) {
      batch.push(store.executions.create(execution(index, random)));
    }
    await Promise.all(batch);
  }
  console.log(
    `inserted ${EXECUTIONS} executions for ${USERS} users in ${(performance.now() - loadStarted).toFixed(0)} ms`,
  );

  const pick = seeded(7);
  const someUser = () => `user-${Math.floor(pick() * USERS)}`;
  await measure(store, 'one user, first page', SAMPLES, () => ({ filter: { userId: someUser() }, skip: 0 }));
  await measure(store, 'one user + status, first page', SAMPLES, () => ({
    filter: { userId: someUser(), status: 'completed' },
    skip: 0,
  }));
  await measure(store, 'all users, first page', SAMPLES, () => ({ filter: {}, skip: 0 }));
  await measure(store, 'all users, deep page (skip 90,000-99,950)', DEEP_SAMPLES, (sample) => ({
    filter: {},
    skip: Math.max(0, EXECUTIONS - 10_000) + (sample % 200) * 50,
  }));
  await measure(store, 'status=failed, deep page (skip 9,000)', DEEP_SAMPLES, () => ({
    filter: { status: 'failed' },
    skip: 9_000,
  }));
} finally {
  await store.close();
  await cleanUp();
}
