/**
 * Stack mode end to end: every function from its bundle as its own process, the KafkaSource dispatcher
 * and the gateway (startStack), on FerretDB, Redis and Kafka. Hello-world Python, one at a time: from
 * POST /api/v1/execute to the `result_stored` frame on the execution's SSE stream, 50 runs after 3
 * warm-up runs. Prints p50/p99, the sandboxed process's own wall time beside it, and where the time
 * goes: the median time from submit's `execution_requested` to each later event being stored (from the
 * events' `stored_at`, one clock, millisecond resolution).
 * Run: `npm run build:functions && npx tsx bench/stack/latency.ts` (BENCH_SAMPLES overrides 50).
 * Stack mode's consumer groups have fixed names, so this waits until no other stack is running.
 */
import { MongoClient } from 'mongodb';
import type { ExecutionFrame } from '../../functions/stream-sse/frames';
import { startStack } from '../../shared/platform/stack-runner';
import { authHeaders, registerAndLogin } from '../../test/support/http';
import { takeStackTurn } from '../../test/support/kafka-groups';
import { frameData, readSse } from '../../test/support/sse';
import { ms, newRun, percentile, services, verdict } from './support';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 50);
const WARMUP = 3;

const svc = services();
const releaseTurn = await takeStackTurn(svc.kafkaBrokers);
const run = newRun('latency', svc);
const mongo = new MongoClient(run.env.MONGO_URL!);
const errors: string[] = [];
const stack = await startStack({
  env: run.env,
  port: 0,
  functionBasePort: 19_900 + Math.floor(Math.random() * 50),
  onLog: (name, line) => {
    if (line.includes('"level":"error"') && errors.length < 20) errors.push(`${name}: ${line}`);
  },
});
try {
  const session = await registerAndLogin({ request: (p, init) => fetch(stack.url + p, init) });
  const headers = authHeaders(session, { 'Content-Type': 'application/json' });

  /** Milliseconds from `execution_requested` being stored to each later event type being stored. */
  async function stages(executionId: string): Promise<Map<string, number>> {
    const stored = await mongo
      .db(run.database)
      .collection('events')
      .find({ aggregate_id: executionId }, { projection: { event_type: 1, stored_at: 1 } })
      .toArray();
    const at = new Map(stored.map((e) => [String(e.event_type), Date.parse(String(e.stored_at))]));
    const start = at.get('execution_requested') ?? Number.NaN;
    return new Map([...at].map(([type, time]) => [type, time - start]));
  }

  async function once(): Promise<{
    totalMs: number;
    sandboxMs: number;
    status: string;
    executionId: string;
  }> {
    const started = performance.now();
    const response = await fetch(`${stack.url}/api/v1/execute`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ script: 'print("hello")', lang: 'python' }),
    });
    if (!response.ok) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
    const { execution_id } = (await response.json()) as { execution_id: string };
    const { frames } = await readSse(`${stack.url}/api/v1/events/executions/${execution_id}`, {
      headers: { Cookie: session.cookie },
      timeoutMs: 60_000,
      until: (frame) => frameData<ExecutionFrame>(frame).event_type === 'result_stored',
    });
    const totalMs = performance.now() - started;
    const last = frames.at(-1);
    const frame = last ? frameData<ExecutionFrame>(last) : null;
    if (frame?.event_type !== 'result_stored') throw new Error(`no result_stored frame for ${execution_id}`);
    return {
      totalMs,
      sandboxMs: (frame.result?.resource_usage?.execution_time_wall_seconds ?? Number.NaN) * 1000,
      status: frame.result?.status ?? 'no result',
      executionId: execution_id,
    };
  }

  for (let i = 0; i < WARMUP; i++) await once();
  const totals: number[] = [];
  const sandboxed: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const r = await once();
    if (r.status !== 'completed') throw new Error(`run ${i} ended ${r.status}`);
    totals.push(r.totalMs);
    sandboxed.push(r.sandboxMs);
    ids.push(r.executionId);
  }
  const offsets = new Map<string, number[]>();
  for (const id of ids)
    for (const [type, offset] of await stages(id)) offsets.set(type, [...(offsets.get(type) ?? []), offset]);
  const p50 = percentile(totals, 50);
  console.log(
    `\n== stack mode, hello-world Python, ${SAMPLES} sequential runs (${WARMUP} warm-up runs before)`,
  );
  console.log(`submit → result_stored frame   p50 ${ms(p50)}  p99 ${ms(percentile(totals, 99))}`);
  console.log(
    `sandboxed process wall time    p50 ${ms(percentile(sandboxed, 50))}  p99 ${ms(percentile(sandboxed, 99))}`,
  );
  console.log('stored after execution_requested (median of each event type, ms):');
  const medians = [...offsets].map(([type, values]) => [type, percentile(values, 50)] as const);
  for (const [type, median] of medians.sort((a, b) => a[1] - b[1]))
    console.log(`  ${type.padEnd(28)} ${median.toFixed(0).padStart(5)}`);
  console.log(`target p50 ≤ 250 ms            ${verdict(p50 <= 250)}`);
} finally {
  await stack.stop();
  releaseTurn();
  // After the stack: its functions may still be writing (notifications) until they stop.
  await mongo
    .db(run.database)
    .dropDatabase()
    .catch(() => undefined);
  await mongo.close();
  run.cleanup();
  if (errors.length > 0) console.warn(`errors logged by the stack:\n${errors.join('\n')}`);
}
