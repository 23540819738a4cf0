/**
 * The submit function alone under load. One process runs submit on the stack platform (FerretDB, Redis,
 * Kafka; rate limit off) and nothing consumes what it publishes: no run-pod, no dispatcher. Its topics get
 * a per-run prefix (see submit-server.ts) so no stack's run-pod ever reads the load. After one sign-in
 * through the auth bundle and a short warm-up, two phases of 20 s run on POST /api/v1/execute with up to
 * 50 connections:
 * - at the target rate: 300 requests/s arriving evenly (see arrival-rate.ts: autocannon's own rate
 *   option sends each second's budget in one burst), each request timed from when it was due, so waiting
 *   for a free connection counts. The first 2 s at that rate open the sockets and are not timed. This is
 *   the steady state the p99 target is about, so it runs first;
 * - capacity (autocannon): every connection sends its next request as soon as the last is answered, so
 *   requests/s is the most the function sustains (and latency is just connections ÷ throughput). It runs
 *   second because the store's clean-up of its tens of thousands of writes (PostgreSQL autovacuum under
 *   FerretDB) goes on for seconds after it and would land in the timed phase.
 * Then the run checks that every accepted request was persisted (executions in MongoDB) and published
 * (records on the execution_requested topic, keyed by execution id).
 * Run: `npm run build:functions && npx tsx bench/stack/submit.ts` (BENCH_CONNECTIONS, BENCH_SECONDS,
 * BENCH_RATE override 50, 20 and 300).
 */
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { authHeaders } from '../../test/support/http';
import { runAtArrivalRate } from './arrival-rate';
import { benchKafka, ms, newRun, percentile, services, signIn, startProcess, verdict } from './support';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 300);
const WARMUP_SECONDS = 2;
const RATE_WARMUP_SECONDS = 2;

const svc = services();
const run = newRun('submit', svc);
const prefix = `bench-${run.id}.`;
const topic = `${prefix}execution_requested`;
const kafka = benchKafka(svc.kafkaBrokers);
const admin = kafka.admin();
await admin.connect();
const mongo = new MongoClient(run.env.MONGO_URL!);

/** Every record key on `topic`, read from the start up to the high watermark (bounded in time). */
async function topicKeys(): Promise<{ keys: string[]; records: number }> {
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)] as const),
  );
  const records = [...ends.values()].reduce((a, b) => a + b, 0);
  const keys: string[] = [];
  if (records === 0) return { keys, records };
  const groupId = `${prefix}reader`;
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const reached = new Map<number, number>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`read ${keys.length}/${records} records in 120 s`)),
      120_000,
    );
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) keys.push(message.key?.toString('utf8') ?? '');
        const last = batch.messages.at(-1);
        if (last) reached.set(batch.partition, Number(last.offset) + 1);
        const done = [...ends].every(([partition, end]) => (reached.get(partition) ?? 0) >= end);
        if (done) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return { keys, records };
}

let submit: Awaited<ReturnType<typeof startProcess>> | undefined;
try {
  await admin.createTopics({
    topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const session = await signIn(run);
  submit = await startProcess(
    'submit',
    ['--import', 'tsx', 'bench/stack/submit-server.ts'],
    {
      ...run.env,
      BENCH_TOPIC_PREFIX: prefix,
    },
    { stopTimeoutMs: 70_000 },
  );
  const acceptedIds: string[] = [];
  const url = `${submit.url}/api/v1/execute`;
  const request = {
    method: 'POST' as const,
    headers: authHeaders(session, { 'Content-Type': 'application/json' }),
    body: JSON.stringify({ script: 'print("hello")', lang: 'python' }),
    onResponse: (status: number, body: string) => {
      if (status >= 200 && status < 300)
        acceptedIds.push((JSON.parse(body) as { execution_id: string }).execution_id);
    },
  };
  const target = { url, requests: [request] };

  await autocannon({ ...target, connections: 10, duration: WARMUP_SECONDS });
  const atRate = await runAtArrivalRate({
    url,
    ...request,
    rate: RATE,
    seconds: SECONDS,
    warmupSeconds: RATE_WARMUP_SECONDS,
    connections: CONNECTIONS,
  });
  const capacity = await autocannon({ ...target, connections: CONNECTIONS, duration: SECONDS });
  await submit.stop();
  submit = undefined;

  const accepted = new Set(acceptedIds);
  const db = mongo.db(run.database);
  const documents = await db
    .collection('executions')
    .find({}, { projection: { _id: 1, status: 1 } })
    .toArray();
  const stored = new Set(documents.map((d) => String(d._id)));
  const { keys, records } = await topicKeys();
  const onTopic = new Map<string, number>();
  for (const key of keys) onTopic.set(key, (onTopic.get(key) ?? 0) + 1);
  const persisted = [...accepted].filter((id) => stored.has(id)).length;
  const published = [...accepted].filter((id) => onTopic.get(id) === 1).length;

  console.log(`\n== submit alone: POST /api/v1/execute, ${CONNECTIONS} connections (autocannon)`);
  console.log(
    'process: bench/stack/submit-server.ts on FerretDB + Redis + Kafka, rate limit off, no consumers',
  );
  const { latencies } = atRate;
  console.log(
    `-- ${RATE} req/s arriving evenly, ${SECONDS} s after ${RATE_WARMUP_SECONDS} s untimed (open loop, timed from each due time)`,
  );
  console.log(`requests              ${atRate.sent} sent, ${atRate.ok} 2xx, ${atRate.failed} failed`);
  console.log(
    `latency               p50 ${ms(percentile(latencies, 50))}  p99 ${ms(percentile(latencies, 99))}  max ${ms(latencies.at(-1) ?? 0)}`,
  );
  console.log(`-- then capacity, ${SECONDS} s (autocannon)`);
  console.log(
    `requests/s            ${capacity.requests.average.toFixed(1)} average (${capacity.requests.total} requests)`,
  );
  console.log(
    `latency               p50 ${ms(capacity.latency.p50)}  p99 ${ms(capacity.latency.p99)}  max ${ms(capacity.latency.max)}`,
  );
  console.log(
    `2xx / non-2xx         ${capacity['2xx']} / ${capacity.non2xx}  (errors ${capacity.errors}, timeouts ${capacity.timeouts})`,
  );
  const rps = capacity.requests.average;
  const p99 = percentile(latencies, 99);
  console.log(`accepted (2xx) incl. warm-ups ${accepted.size}`);
  console.log(
    `persisted             ${persisted}/${accepted.size} accepted ids in MongoDB (${stored.size} executions stored)`,
  );
  console.log(
    `published             ${published}/${accepted.size} accepted ids exactly once (${records} records on ${topic})`,
  );
  // Requests the client gave up on (timeouts) may still have been stored, and published or not.
  const unpublished = documents.filter((d) => !onTopic.has(String(d._id)));
  const statuses = new Map<string, number>();
  for (const d of unpublished) statuses.set(String(d.status), (statuses.get(String(d.status)) ?? 0) + 1);
  const byStatus = [...statuses].map(([status, n]) => `${status}: ${n}`).join(', ');
  console.log(`stored, not published ${unpublished.length}${byStatus ? ` (${byStatus})` : ''}`);
  console.log(`target capacity ≥ 300 req/s          ${verdict(rps >= 300)}`);
  console.log(
    `target p99 ≤ 50 ms at ${RATE} req/s     ${verdict(p99 <= 50 && RATE >= 300 && atRate.failed === 0)}`,
  );
  const complete = persisted === accepted.size && published === accepted.size;
  console.log(`every accepted request persisted and published exactly once: ${verdict(complete)}`);
  await db.dropDatabase();
} finally {
  await submit?.stop();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await mongo.close();
  run.cleanup();
}
