/**
 * Faults in stack mode, against the real servers: duplicate deliveries, a function killed mid-flow, a
 * Kafka broker restart, a Redis restart under open SSE clients, and a poison record. Each scenario ends
 * with every execution finished exactly once. This suite restarts the shared Kafka and Redis of
 * scripts/services/services.sh, so it must not run beside other suites that use them (vitest runs one
 * file at a time on this two-core machine); it leaves the servers running.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../functions/registry';
import type { ExecutionFrame } from '../functions/stream-sse/frames';
import { isVisible } from '../functions/stream-sse/frames';
import { DEAD_LETTER_TOPIC } from '../knative/manifests';
import { backoffMs } from '../shared/bus/delivery';
import { sourcesFromManifests } from '../shared/bus/kafka/manifests';
import { toBinaryRequest } from '../shared/events/cloudevents';
import type { DomainEvent, EventType } from '../shared/events/schemas';
import { processedKey } from '../shared/http/cloudevent-sink';
import { type RunningStack, startStack } from '../shared/platform/stack-runner';
import { type MongoRepositories, openMongoStore } from '../shared/store/mongo';
import { takeStackTurn } from './support/kafka-groups';
import { type ServiceName, serviceRunning, services } from './support/services';
import { frameData, readSse, type SseFrame } from './support/sse';
import { dropStackDatabase, pollFor, type StackUser, stackTestEnv, stackUser } from './support/stack-client';

const { INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL, INTEGR8S_KAFKA_BROKERS } = process.env;
const available = Boolean(INTEGR8S_MONGO_URL && INTEGR8S_REDIS_URL && INTEGR8S_KAFKA_BROKERS);
if (!available)
  console.warn(
    '[stack-faults.test] INTEGR8S_MONGO_URL, INTEGR8S_REDIS_URL or INTEGR8S_KAFKA_BROKERS unset: skipped',
  );

/** The Redis prefix of the stack platform's keyed state (shared/platform/stack.ts). */
const REDIS_PREFIX = 'integr8scode:';
/** Wall-clock limit per script in this stack: low, so the timeout path is quick to reach. */
const EXECUTION_TIMEOUT_SECONDS = 5;
/** A database outage that outlasts several delivery attempts and the sandbox's own run. */
const OUTAGE_MS = 12_000;

/** The functions whose CloudEvent sink takes `type`, from the registry (the manifests' source). */
const consumersOf = (type: EventType) =>
  FUNCTIONS.filter((definition) => definition.triggers.includes(type)).map((d) => d.name);

/** How long a KafkaSource keeps retrying one record before dead-lettering it, from the manifests. */
function retryBudgetMs(functionName: string): number {
  const source = sourcesFromManifests('knative/base/kafka-sources.yaml', () => 'http://unused/').find(
    (s) => s.name === functionName || s.name === `integr8scode-${functionName}`,
  );
  if (!source) throw new Error(`no KafkaSource for ${functionName}`);
  let total = 0;
  for (let attempt = 0; attempt < source.delivery.retry; attempt++)
    total += backoffMs(source.delivery, attempt);
  return total;
}

describe.skipIf(!available)('stack mode under faults (real Kafka, MongoDB wire, Redis)', () => {
  let stack: RunningStack;
  let releaseTurn: (() => void) | undefined;
  let env: Record<string, string> | undefined;
  let store: MongoRepositories;
  let redis: Redis;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'integr8scode-faults-'));
  const logs: string[] = [];
  const timings: Record<string, number> = {};
  const disrupted = new Set<ServiceName>();

  /** Runs `body` and records its wall time under `name` for the summary. */
  async function timed<T>(name: string, body: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await body();
    } finally {
      timings[name] = Math.round(performance.now() - started);
    }
  }

  beforeAll(async () => {
    env = stackTestEnv(dataDir, `faults_${Date.now().toString(36)}`, {
      EXECUTION_TIMEOUT_SECONDS: String(EXECUTION_TIMEOUT_SECONDS),
    });
    const mongoUrl = env.MONGO_URL!;
    releaseTurn = await takeStackTurn(INTEGR8S_KAFKA_BROKERS!);
    stack = await startStack({
      env,
      port: 0,
      functionBasePort: 20_000 + Math.floor(Math.random() * 40) * 10,
      onLog: (name, line) => logs.push(`${name}: ${line}`),
    });
    store = await openMongoStore(mongoUrl);
    redis = new Redis(INTEGR8S_REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 5 });
    await redis.connect();
  }, 900_000); // may wait its turn behind another stack (takeStackTurn)

  afterAll(async () => {
    // A scenario that failed half-way must not leave a shared server down.
    for (const service of disrupted)
      if (!(await serviceRunning(service))) await services('start', service).catch(() => undefined);
    await stack?.stop();
    releaseTurn?.();
    await store?.close();
    if (env) await dropStackDatabase(env);
    redis?.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
    if (process.env.FAULTS_LOG) writeFileSync(process.env.FAULTS_LOG, logs.join('\n'));
    console.info(
      `[stack-faults] scenario wall times (ms): ${Object.entries(timings)
        .map(([name, ms]) => `${name}=${ms}`)
        .join(', ')}`,
    );
    if (logs.some((line) => line.includes('"level":"error"')))
      console.warn(
        `[stack-faults] error lines from the stack (expected around restarts):\n${logs
          .filter((l) => l.includes('"level":"error"'))
          .slice(-20)
          .join('\n')}`,
      );
  }, 180_000);

  /** What "nothing changed" compares: the record, the notifications, and the stored events. */
  async function snapshot(user: StackUser, ids: string[]) {
    const perExecution = [];
    for (const id of ids) {
      const events = await user.events(id);
      perExecution.push({
        record: await store.executions.get(id),
        eventIds: events.map((event) => event.event_id),
        resultStored: events.filter((event) => event.event_type === 'result_stored').length,
      });
    }
    return { perExecution, notifications: await user.notificationCount() };
  }

  /** POSTs `event` as a binary-mode CloudEvent to the sink of every function that consumes it. */
  async function redeliver(event: DomainEvent): Promise<{ to: string; status: number; body: string }[]> {
    const answers = [];
    for (const name of consumersOf(event.event_type)) {
      const response = await fetch(toBinaryRequest(event, `${stack.functionUrl(name)}/`));
      answers.push({ to: name, status: response.status, body: await response.text() });
    }
    return answers;
  }

  it('every event type delivered twice changes nothing', async () => {
    await timed('duplicates', async () => {
      const user = await stackUser(stack.url);
      const completed = await user.submit('print("once")');
      const failed = await user.submit('import sys\nsys.exit(3)');
      const timedOut = await user.submit('import time\ntime.sleep(60)');
      const cancelled = await user.submit('import time\ntime.sleep(60)');
      await user.waitStatus(cancelled, 'running');
      expect(await user.cancel(cancelled)).toBe(200);
      const ids = [completed, failed, timedOut, cancelled];
      const results = await Promise.all(ids.map((id) => user.waitStored(id, 60_000)));
      expect(results.map((r) => r.status)).toEqual(['completed', 'failed', 'timeout', 'cancelled']);
      // notify works after store-result: wait until each terminal event has had its notification.
      await pollFor(
        'one notification per execution',
        async () => ((await user.notificationCount()) >= ids.length ? true : undefined),
        15_000,
      );
      await sleep(1000); // let the last acks and marker writes land
      const before = await snapshot(user, ids);
      expect(before.notifications).toBe(ids.length);
      expect(before.perExecution.map((e) => e.resultStored)).toEqual([1, 1, 1, 1]);

      const events = (await Promise.all(ids.map((id) => user.events(id)))).flat();
      const consumed = events.filter((event) => consumersOf(event.event_type).length > 0);
      const typesDelivered = new Set(consumed.map((event) => event.event_type));
      // Every type a function consumes occurs in these four executions.
      const consumable = new Set(FUNCTIONS.flatMap((definition) => definition.triggers));
      expect([...typesDelivered].sort()).toEqual([...consumable].sort());

      // Round 1: as a redelivery arrives, with the sinks' processed markers in place.
      for (const event of consumed) {
        for (const answer of await redeliver(event)) {
          expect(answer, `${event.event_type} → ${answer.to}`).toMatchObject({ status: 200 });
          expect(JSON.parse(answer.body)).toEqual({ status: 'duplicate' });
        }
      }
      // Round 2: as if the marker write had failed after the work was done, so every handler runs again.
      const markers = consumed.flatMap((event) =>
        consumersOf(event.event_type).map((name) => `${REDIS_PREFIX}${processedKey(name, event.event_id)}`),
      );
      expect(await redis.del(...markers)).toBe(markers.length);
      let processedAgain = 0;
      for (const event of consumed) {
        for (const answer of await redeliver(event)) {
          expect(answer, `${event.event_type} → ${answer.to}`).toMatchObject({ status: 200 });
          // A derived event republished by an earlier redelivery may have reached this sink first.
          processedAgain += JSON.parse(answer.body).status === 'processed' ? 1 : 0;
        }
      }
      expect(processedAgain).toBeGreaterThan(0);
      // Handlers that ran again republished derived events; let those deliveries finish too.
      await sleep(3000);
      expect(await snapshot(user, ids)).toEqual(before);
    });
  }, 120_000);

  it('a poison record lands in the dead-letter queue and delivery goes on', async () => {
    await timed('poison', async () => {
      const marker = `poison-${randomUUID()}`;
      const kafka = new Kafka({
        clientId: 'integr8scode-fault-suite',
        brokers: INTEGR8S_KAFKA_BROKERS!.split(','),
        logLevel: logLevel.NOTHING,
      });
      const producer = kafka.producer();
      const consumer = kafka.consumer({ groupId: `integr8scode-fault-suite-${randomUUID()}` });
      const inTopic: { value: string; headers: Record<string, string> }[] = [];
      await producer.connect();
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            const value = message.value?.toString('utf8') ?? '';
            if (!value.includes(marker)) return;
            const headers: Record<string, string> = {};
            for (const [name, raw] of Object.entries(message.headers ?? {}))
              headers[name] = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
            inTopic.push({ value, headers });
          },
        });
        // Plain JSON without ce_ headers: KafkaSource wraps it as a Kafka-record event run-pod does not handle.
        await producer.send({
          topic: 'execution_requested',
          messages: [{ key: randomUUID(), value: JSON.stringify({ hello: marker }) }],
        });
        const letter = await pollFor(
          'the poison record in the dead-letter store',
          async () => {
            const page = await store.deadLetters.list({ limit: 100, offset: 0 });
            return page.items.find((item) => item.raw?.includes(marker));
          },
          30_000,
        );
        expect(letter).toMatchObject({ subscriber: 'run-pod', event: null, attempts: 1 });
        expect(letter.error).toMatch(/^HTTP 4\d\d from run-pod: \{"detail":".+"\}$/);
        expect(await store.deadLetters.get(letter.dead_letter_id)).toEqual(letter);
        await pollFor('the poison record in the dead-letter topic', async () => inTopic[0], 30_000);
        expect(inTopic[0]!.headers).toMatchObject({
          ce_type: 'dev.knative.kafka.event',
          ce_knativeerrorcode: expect.stringMatching(/^4\d\d$/),
        });

        // The partition is not stuck: a real execution after it completes.
        const user = await stackUser(stack.url);
        const id = await user.submit('print("after the poison")');
        expect(await user.waitStored(id, 60_000)).toMatchObject({
          status: 'completed',
          stdout: 'after the poison\n',
        });
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
    });
  }, 120_000);

  it('functions killed mid-flow and restarted finish the execution exactly once', async () => {
    await timed('kill-function', async () => {
      const user = await stackUser(stack.url);
      const id = await user.submit('import time\ntime.sleep(1.5)\nprint("survived")');
      await user.waitStatus(id, 'running');
      const down = performance.now();
      await Promise.all([stack.killFunction('monitor'), stack.killFunction('store-result')]);
      // run-pod stores pod_terminated; its delivery to monitor now fails and is retried.
      await pollFor(
        'pod_terminated while monitor is down',
        async () => ((await user.events(id, ['pod_terminated'])).length > 0 ? true : undefined),
        30_000,
      );
      await sleep(800); // a few failed attempts
      await Promise.all([stack.restartFunction('monitor'), stack.restartFunction('store-result')]);
      const downMs = performance.now() - down;
      timings['kill-function.downtime'] = Math.round(downMs);
      // The outage has to fit in the manifests' retry budget, or the record would be dead-lettered.
      expect(downMs).toBeLessThan(retryBudgetMs('monitor'));

      const result = await user.waitStored(id, 60_000);
      expect(result).toMatchObject({ status: 'completed', exit_code: 0, stdout: 'survived\n' });
      await pollFor(
        'the notification',
        async () => ((await user.notificationCount()) >= 1 ? true : undefined),
        15_000,
      );
      await sleep(1500); // a second result or notification would show up by now
      expect((await user.events(id, ['result_stored'])).length).toBe(1);
      expect((await user.events(id)).filter((e) => e.event_type === 'execution_completed').length).toBe(1);
      expect(await user.notificationCount()).toBe(1);
      const letters = await store.deadLetters.list({ limit: 100, offset: 0 });
      expect(letters.items.filter((letter) => letter.event?.aggregate_id === id)).toEqual([]);
    });
  }, 120_000);

  it('a Redis restart loses no frame of an open stream, and clients resume with Last-Event-ID with no gap', async () => {
    await timed('redis-restart', async () => {
      const user = await stackUser(stack.url);
      const id = await user.submit(
        'import time\nfor i in range(10):\n    print(f"line {i}", flush=True)\n    time.sleep(0.3)',
      );
      const url = `${stack.url}/api/v1/events/executions/${id}`;
      const headers = { Cookie: user.session.cookie };
      const first = await readSse(url, {
        headers,
        timeoutMs: 30_000,
        until: (_frame, frames) =>
          frames.filter((f) => frameData<ExecutionFrame>(f).event_type === 'execution_output').length >= 2,
      });
      expect(first.status).toBe(200);
      const lastId = first.frames.at(-1)!.id!;
      // A stream that stays open through the restart: what the fan-out lost, the store gives back.
      let subscribed = () => {};
      const following = new Promise<void>((resolve) => {
        subscribed = resolve;
      });
      const kept = readSse(url, {
        headers,
        timeoutMs: 90_000,
        onFrame: () => subscribed(),
        until: (frame) => frameData<ExecutionFrame>(frame).event_type === 'result_stored',
      });
      await following;

      disrupted.add('redis');
      await timed('redis-restart.services', () => services('restart', 'redis'));

      const second = await readSse(url, {
        headers: { ...headers, 'Last-Event-ID': lastId },
        timeoutMs: 60_000,
        until: (frame) => frameData<ExecutionFrame>(frame).event_type === 'result_stored',
      });
      expect(second.status).toBe(200);
      expect(frameData<ExecutionFrame>(second.frames.at(-1)!).result).toMatchObject({
        status: 'completed',
        stdout: Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join(''),
      });

      const eventFrames = (frames: SseFrame[]) =>
        frames.filter((frame) => frameData<ExecutionFrame>(frame).event_id !== null);
      const union = [...eventFrames(first.frames), ...eventFrames(second.frames)];
      const seqs = union.map((frame) => Number(frame.id));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      const stored = (await user.events(id)).filter(isVisible);
      expect(union.map((frame) => frameData<ExecutionFrame>(frame).event_id)).toEqual(
        stored.map((event) => event.event_id),
      );
      const throughout = await kept;
      expect(throughout.status).toBe(200);
      expect(
        eventFrames(throughout.frames).map((frame) => frameData<ExecutionFrame>(frame).event_id),
      ).toEqual(stored.map((event) => event.event_id));
    });
  }, 120_000);

  it('a Kafka broker restart mid-flow loses no execution', async () => {
    await timed('kafka-restart', async () => {
      const user = await stackUser(stack.url);
      const ids = [];
      for (let i = 0; i < 3; i++)
        ids.push(await user.submit(`import time\ntime.sleep(1)\nprint("in flight ${i}")`));
      disrupted.add('kafka');
      const restartStarted = performance.now();
      await services('stop', 'kafka');
      // Publishing functions say they cannot work; one that publishes nothing stays ready.
      const readiness = (name: string) => fetch(`${stack.functionUrl(name)}/health/readiness`);
      expect((await readiness('submit')).status).toBe(503);
      expect((await readiness('stream-sse')).status).toBe(200);
      await services('start', 'kafka');
      timings['kafka-restart.services'] = Math.round(performance.now() - restartStarted);
      await pollFor(
        'submit ready again',
        async () => ((await readiness('submit')).status === 200 ? true : undefined),
        30_000,
      );

      const results = await Promise.all(ids.map((id) => user.waitStored(id, 120_000)));
      expect(results).toMatchObject(ids.map((_, i) => ({ status: 'completed', stdout: `in flight ${i}\n` })));
      // And the stack keeps working once the broker is back.
      const after = await user.submit('print("after the restart")');
      expect(await user.waitStored(after, 60_000)).toMatchObject({ status: 'completed' });
      await pollFor(
        'a notification per execution',
        async () => ((await user.notificationCount()) >= ids.length + 1 ? true : undefined),
        30_000,
      );
      await sleep(1500);
      for (const id of [...ids, after]) expect((await user.events(id, ['result_stored'])).length, id).toBe(1);
      expect(await user.notificationCount()).toBe(ids.length + 1);
    });
  }, 240_000);

  // FerretDB itself down, and PostgreSQL (its storage) down underneath a running FerretDB.
  it.each(['ferretdb', 'postgres'] as const)(
    'a %s outage mid-run loses no execution; functions report not-ready meanwhile',
    async (server) => {
      await timed(`${server}-outage`, async () => {
        const user = await stackUser(stack.url);
        const id = await user.submit('import time\ntime.sleep(2)\nprint("outlived the outage")');
        await user.waitStatus(id, 'running');
        disrupted.add(server);
        await services('stop', server);
        const readiness = `${stack.functionUrl('store-result')}/health/readiness`;
        // Down: functions say so, and the run ends while its outcome cannot be stored.
        await pollFor(
          'store-result reporting not ready',
          async () => ((await fetch(readiness)).status === 503 ? true : undefined),
          15_000,
        );
        await sleep(OUTAGE_MS);
        await services('start', server);
        await pollFor(
          'store-result ready again',
          async () => ((await fetch(readiness)).status === 200 ? true : undefined),
          30_000,
        );

        const result = await user.waitStored(id, 120_000);
        expect(result).toMatchObject({ status: 'completed', stdout: 'outlived the outage\n' });
        const after = await user.submit('print("after the outage")');
        expect(await user.waitStored(after, 60_000)).toMatchObject({ status: 'completed' });
        await sleep(1500); // a second result would show up by now
        for (const done of [id, after])
          expect((await user.events(done, ['result_stored'])).length, done).toBe(1);
        const letters = await store.deadLetters.list({ limit: 100, offset: 0 });
        expect(letters.items.filter((letter) => letter.event?.aggregate_id === id)).toEqual([]);
      });
    },
    240_000,
  );
});
