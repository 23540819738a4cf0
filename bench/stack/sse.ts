/**
 * stream-sse under many streams: one process from its bundle on the stack platform, 5,000 concurrent
 * streams for one execution (opened 100 at a time), then one event published through the platform's
 * EventPublisher (stored, then fanned out over Redis). Prints how many streams received it, the receive
 * latency from the publish call (p50/p99) and the stream-sse process's RSS, then closes everything.
 * The event is an `execution_output` chunk: stored and fanned out, never put on Kafka.
 * Run: `npm run build:functions && npx tsx bench/stack/sse.ts` (BENCH_STREAMS overrides 5,000;
 * BENCH_SSE_CLIENT=fetch reads the streams with fetch instead of node:http).
 * Each stream is one socket on each side; `ulimit -n` must exceed the stream count.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createParser } from 'eventsource-parser';
import { MongoClient } from 'mongodb';
import type { ExecutionFrame } from '../../functions/stream-sse/frames';
import { loadConfig } from '../../shared/config/config';
import { newExecution } from '../../shared/domain/execution';
import type { EventOf } from '../../shared/events/schemas';
import { createStackPlatform } from '../../shared/platform/stack';
import {
  bundlePath,
  ms,
  newRun,
  percentile,
  rssMiB,
  services,
  signIn,
  startProcess,
  verdict,
} from './support';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 5000);
const OPEN_BATCH = 100;
const OPEN_TIMEOUT_MS = 180_000;
const RECEIVE_TIMEOUT_MS = 15_000;
/**
 * `http` (default): node:http, light per chunk, so the figures are mostly the server's.
 * `fetch`: Node's fetch; its web streams add the client's own delay to the figures.
 */
const CLIENT = process.env.BENCH_SSE_CLIENT === 'fetch' ? 'fetch' : 'http';
// One socket per stream, no cap.
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

interface Stream {
  controller: AbortController;
  /** performance.now() when the published event's frame arrived. */
  receivedAt?: number;
}

const svc = services();
const run = newRun('sse', svc);
const mongo = new MongoClient(run.env.MONGO_URL!);
const platform = await createStackPlatform(loadConfig(run.env), 'bench');
const streams: Stream[] = [];
let server: Awaited<ReturnType<typeof startProcess>> | undefined;
try {
  const session = await signIn(run);
  const executionId = randomUUID();
  await platform.store.executions.create(
    newExecution({
      execution_id: executionId,
      user_id: session.userId,
      script: 'print("hello")',
      stdin: '',
      lang: 'python',
      lang_version: '3.11',
      priority: 'normal',
      created_at: new Date().toISOString(),
    }),
  );
  // BENCH_SSE_NODE_ARGS: extra node options for the stream-sse process, e.g. `--cpu-prof`.
  const nodeArgs = (process.env.BENCH_SSE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  server = await startProcess('stream-sse', [...nodeArgs, bundlePath('stream-sse')], run.env);
  const pid = server.child.pid!;
  const rssIdle = rssMiB(pid);
  const url = `${server.url}/api/v1/events/executions/${executionId}`;

  /** Opens one stream; resolves once its first frame (the current status) has arrived. */
  const open = (stream: Stream): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const parser = createParser({
        onEvent(message) {
          const frame = JSON.parse(message.data) as ExecutionFrame;
          if (frame.event_type === 'status') resolve();
          else if (frame.event_type === 'execution_output') stream.receivedAt ??= performance.now();
        },
      });
      const headers = { Accept: 'text/event-stream', Cookie: session.cookie };
      const { signal } = stream.controller;
      const failed = (error: Error) => {
        if (!signal.aborted) reject(error);
      };
      if (CLIENT === 'fetch') {
        // Node's fetch (undici) opens a socket per concurrent request to one origin; it sets no cap.
        fetch(url, { headers, signal })
          .then(async (response) => {
            if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
            const decoder = new TextDecoder();
            for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
              parser.feed(decoder.decode(chunk, { stream: true }));
          })
          .catch(failed);
        return;
      }
      const request = http.get(url, { agent, headers, signal }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          failed(new Error(`stream answered ${response.statusCode}`));
          return;
        }
        response.setEncoding('utf8');
        response.on('data', (text: string) => parser.feed(text));
        response.on('error', failed);
      });
      request.on('error', failed);
    });

  const openStarted = performance.now();
  let failures = 0;
  for (let i = 0; i < STREAMS && performance.now() - openStarted < OPEN_TIMEOUT_MS; i += OPEN_BATCH) {
    const batch = Array.from({ length: Math.min(OPEN_BATCH, STREAMS - i) }, () => ({
      controller: new AbortController(),
    }));
    streams.push(...batch);
    const results = await Promise.allSettled(batch.map(open));
    failures += results.filter((r) => r.status === 'rejected').length;
  }
  const openSeconds = (performance.now() - openStarted) / 1000;
  const rssOpen = rssMiB(pid);

  const event = platform.events.create<EventOf<'execution_output'>>({
    event_type: 'execution_output',
    execution_id: executionId,
    stream: 'stdout',
    data: 'one line for every stream\n',
  });
  let rssPeak = rssOpen;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMiB(pid));
  }, 20);
  const published = performance.now();
  await platform.events.publish(event);
  const publishMs = performance.now() - published;
  const opened = streams.length - failures;
  for (let waited = 0; waited < RECEIVE_TIMEOUT_MS; waited += 10) {
    if (streams.filter((s) => s.receivedAt !== undefined).length >= opened) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  clearInterval(sampler);
  const latencies = streams.flatMap((s) => (s.receivedAt === undefined ? [] : [s.receivedAt - published]));
  const p99 = percentile(latencies, 99);

  console.log(
    `\n== stream-sse: ${STREAMS} concurrent streams on one process, one fanned-out event (${CLIENT} client)`,
  );
  console.log(
    `streams open          ${opened}/${STREAMS} in ${openSeconds.toFixed(1)} s (${failures} failed)`,
  );
  console.log(`publish call          ${ms(publishMs)} (store append + Redis PUBLISH)`);
  console.log(`received              ${latencies.length}/${opened}`);
  console.log(
    `receive latency       min ${ms(Math.min(...latencies))}  p50 ${ms(percentile(latencies, 50))}  p99 ${ms(p99)}  max ${ms(Math.max(...latencies))}`,
  );
  console.log(
    `stream-sse RSS        idle ${rssIdle.toFixed(0)} MiB, ${opened} open ${rssOpen.toFixed(0)} MiB, peak ${rssPeak.toFixed(0)} MiB`,
  );
  console.log(`target p99 ≤ 250 ms   ${verdict(latencies.length === STREAMS && p99 <= 250)}`);
  console.log(`target RSS ≤ 512 MiB  ${verdict(rssPeak <= 512)}`);
  // A quiet second keeps the delivery apart from the disconnects in a CPU profile.
  if (nodeArgs.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
} finally {
  for (const stream of streams) stream.controller.abort();
  agent.destroy();
  await server?.stop();
  await mongo
    .db(run.database)
    .dropDatabase()
    .catch(() => undefined);
  await mongo.close();
  await platform.close();
  run.cleanup();
}
