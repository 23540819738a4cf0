/**
 * Embedded-default benchmark. Starts the built server (dist/embedded.mjs) as its own process and prints:
 *  1. submit → final SSE frame latency for hello-world Python (p50/p99), the sandboxed process's own wall
 *     time, and the platform's overhead (the difference), beside a plain `python3` spawn as a baseline;
 *  2. a sustained rate (default 20 executions/s for 60 s): failures, latency and the server's peak RSS.
 * Run: `npm run build:functions && npx tsx bench/latency.ts` (BENCH_RATE, BENCH_SECONDS and BENCH_SAMPLES override).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionResult } from '../shared/domain/execution';
import { authHeaders, registerAndLogin } from '../test/support/http';
import { readSse } from '../test/support/sse';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const PORT = 18_000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${PORT}`;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const fmt = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(1)} ms  p99 ${percentile(values, 99).toFixed(1)} ms  (n=${values.length})`;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function waitReady(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${base}/health/readiness`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready');
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-bench-'));
const server = spawn('node', ['dist/embedded.mjs'], {
  env: {
    ...process.env,
    PORT: String(PORT),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_ENABLED: 'false',
    COOKIE_SECURE: 'false',
    DEMO_ACCOUNT: 'false',
    MAX_CONCURRENT_EXECUTIONS: '8',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});

try {
  await waitReady();
  const client = { request: (p: string, init?: RequestInit) => fetch(base + p, init) };
  const session = await registerAndLogin(client);
  const headers = authHeaders(session, { 'Content-Type': 'application/json' });

  async function execute(): Promise<{ totalMs: number; sandboxMs: number; status: string }> {
    const started = performance.now();
    const response = await fetch(`${base}/api/v1/execute`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ script: 'print("hello")', lang: 'python' }),
    });
    if (!response.ok) throw new Error(`submit: ${response.status} ${await response.text()}`);
    const { execution_id } = (await response.json()) as { execution_id: string };
    let result: ExecutionResult | null = null;
    await readSse(`${base}/api/v1/events/executions/${execution_id}`, {
      headers: { Cookie: session.cookie },
      timeoutMs: 30_000,
      until: (frame) => {
        const data = JSON.parse(frame.data) as { event_type: string; result: ExecutionResult | null };
        if (data.event_type === 'result_stored') result = data.result;
        return data.event_type === 'result_stored' || data.event_type === 'result_failed';
      },
    });
    const totalMs = performance.now() - started;
    const final = result as ExecutionResult | null;
    return {
      totalMs,
      sandboxMs: (final?.resource_usage?.execution_time_wall_seconds ?? Number.NaN) * 1000,
      status: final?.status ?? 'no result',
    };
  }

  // Baseline: the interpreter alone, no sandbox, no platform.
  const plain: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    spawnSync('/usr/bin/python3', ['-c', 'print("hello")']);
    plain.push(performance.now() - t);
  }

  for (let i = 0; i < 5; i++) await execute(); // warm-up
  const totals: number[] = [];
  const sandboxed: number[] = [];
  const overhead: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const r = await execute();
    if (r.status !== 'completed') throw new Error(`sample ${i} ended ${r.status}`);
    totals.push(r.totalMs);
    sandboxed.push(r.sandboxMs);
    overhead.push(r.totalMs - r.sandboxMs);
  }
  console.log('\n== hello-world Python, one at a time (embedded default)');
  console.log(`plain python3 spawn (baseline)    ${fmt(plain)}`);
  console.log(`submit → result_stored frame      ${fmt(totals)}`);
  console.log(`sandboxed process wall time       ${fmt(sandboxed)}`);
  console.log(`platform overhead (difference)    ${fmt(overhead)}`);
  console.log(
    `ratio to plain spawn (p50)        ${(percentile(totals, 50) / percentile(plain, 50)).toFixed(2)}x`,
  );

  console.log(`\n== sustained: ${RATE} executions/s for ${SECONDS} s`);
  const latencies: number[] = [];
  const failures: string[] = [];
  let peakRss = rssMiB(server.pid!);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMiB(server.pid!));
  }, 250);
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      execute()
        .then((r) => {
          if (r.status === 'completed') latencies.push(r.totalMs);
          else failures.push(r.status);
        })
        .catch((error: Error) => {
          failures.push(error.message);
        }),
    );
  }
  await Promise.all(inflight);
  clearInterval(sampler);
  const elapsed = (performance.now() - start) / 1000;
  console.log(
    `completed ${latencies.length}/${RATE * SECONDS} in ${elapsed.toFixed(1)} s, failures: ${failures.length}`,
  );
  if (failures.length) console.log(`first failures: ${failures.slice(0, 3).join(' | ')}`);
  console.log(`latency under load                ${fmt(latencies)}`);
  console.log(`server peak RSS                   ${peakRss.toFixed(0)} MiB`);
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dataDir, { recursive: true, force: true });
}
