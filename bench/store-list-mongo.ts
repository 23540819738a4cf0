/**
 * Listing latency of the MongoDB store: 100,000 executions across 10,000 users in a fresh database,
 * then p50/p99 of one user's first page and of the all-users first page. Every loop is bounded in
 * count and time; the database is dropped afterwards.
 * Run: INTEGR8S_MONGO_URL=mongodb://127.0.0.1:27018/test npx tsx bench/store-list-mongo.ts
 * (BENCH_EXECUTIONS, BENCH_USERS and BENCH_SAMPLES override the sizes.)
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import type { ExecutionRecord } from '../shared/domain/execution';
import { openMongoStore } from '../shared/store/mongo';
import type { ExecutionFilter, Repositories } from '../shared/store/ports';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 100_000);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
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
    execution_id: `exec-${String(index).padStart(6, '0')}`,
    user_id: `user-${Math.floor(random() * USERS)}`,
    script: 'print("hello")\n',
    stdin: '',
    lang: random() < 0.7 ? 'python' : 'node',
    lang_version: '3.12',
    priority: 'normal',
    status: random() < 0.9 ? 'completed' : 'failed',
    stdout: 'hello\n',
    stderr: '',
    exit_code: 0,
    error_type: null,
    error_message: null,
    resource_usage: {
      execution_time_wall_seconds: 0.05,
      cpu_time_jiffies: 3,
      clk_tck_hertz: 100,
      peak_memory_kb: 9000,
      cpu_time_seconds: 0.03,
    },
    output: { stdout_truncated: false, stderr_truncated: false, stdout_bytes: 6, stderr_bytes: 0 },
    created_at: created,
    updated_at: created,
    scheduled_at: created,
    started_at: created,
    finished_at: created,
  };
}

async function measure(name: string, query: () => ExecutionFilter, store: Repositories): Promise<void> {
  const durations: number[] = [];
  const began = performance.now();
  while (durations.length < SAMPLES && performance.now() - began < MEASURE_BUDGET_MS) {
    const filter = query();
    const started = performance.now();
    await store.executions.list(filter, { limit: 50, skip: 0 });
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  const percentile = (p: number) =>
    durations[Math.min(durations.length - 1, Math.floor(p * durations.length))]!;
  console.log(
    `${name.padEnd(32)} n=${String(durations.length).padStart(5)}  p50=${percentile(0.5).toFixed(1)} ms  p99=${percentile(0.99).toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  const url = process.env.INTEGR8S_MONGO_URL;
  if (!url) {
    console.error('set INTEGR8S_MONGO_URL, e.g. mongodb://127.0.0.1:27018/test');
    process.exit(2);
  }
  const dbName = `integr8s_bench_${randomBytes(4).toString('hex')}`;
  const store = await openMongoStore(url, { dbName });
  try {
    const random = seeded(42);
    const loadStarted = performance.now();
    // Batches of concurrent creates through the port, so the load exercises what the product does.
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
    await measure('one user, first page', () => ({ userId: `user-${Math.floor(pick() * USERS)}` }), store);
    await measure('all users, first page', () => ({}), store);
  } finally {
    await store.close();
    const admin = await new MongoClient(url).connect();
    await admin.db(dbName).dropDatabase();
    await admin.close();
  }
}

await main();
