/**
 * Listing latency of the embedded store: 100,000 executions across 10,000 users in a temporary file,
 * then p50/p99 of one user's first page and of deep pages. Run: npx tsx bench/store-list.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ExecutionRecord } from '../shared/domain/execution';
import type { ExecutionFilter, Repositories } from '../shared/store/ports';
import { openSqliteStore } from '../shared/store/sqlite';

const EXECUTIONS = 100_000;
const USERS = 10_000;
const SAMPLES = 1_000;
const DEEP_SAMPLES = 100;
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

async function measure(
  name: string,
  samples: number,
  query: (sample: number) => { filter: ExecutionFilter; skip: number },
  store: Repositories,
): Promise<void> {
  const durations: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const { filter, skip } = query(sample);
    const started = performance.now();
    await store.executions.list(filter, { limit: 50, skip });
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  const percentile = (p: number) =>
    durations[Math.min(durations.length - 1, Math.floor(p * durations.length))]!;
  console.log(
    `${name.padEnd(44)} n=${String(samples).padStart(5)}  p50=${percentile(0.5).toFixed(3)} ms  p99=${percentile(0.99).toFixed(3)} ms`,
  );
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'integr8s-bench-'));
  const store = openSqliteStore(join(directory, 'store.db'));
  try {
    const random = seeded(42);
    const loadStarted = performance.now();
    for (let index = 0; index < EXECUTIONS; index++) await store.executions.create(execution(index, random));
    console.log(
      `inserted ${EXECUTIONS} executions for ${USERS} users in ${(performance.now() - loadStarted).toFixed(0)} ms`,
    );

    const pick = seeded(7);
    const someUser = () => `user-${Math.floor(pick() * USERS)}`;
    await measure(
      'one user, first page',
      SAMPLES,
      () => ({ filter: { userId: someUser() }, skip: 0 }),
      store,
    );
    await measure(
      'one user + status, first page',
      SAMPLES,
      () => ({ filter: { userId: someUser(), status: 'completed' }, skip: 0 }),
      store,
    );
    await measure('all users, first page', SAMPLES, () => ({ filter: {}, skip: 0 }), store);
    await measure(
      'all users, deep page (skip 90,000-99,950)',
      DEEP_SAMPLES,
      (sample) => ({ filter: {}, skip: 90_000 + (sample % 200) * 50 }),
      store,
    );
    await measure(
      'status=failed, deep page (skip 9,000)',
      DEEP_SAMPLES,
      () => ({ filter: { status: 'failed' }, skip: 9_000 }),
      store,
    );
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
