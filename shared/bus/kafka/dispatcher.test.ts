/**
 * KafkaSource behaviour beyond the bus contract, on a real broker: dead letters on the dead-letter
 * topic, at-least-once across a dispatcher restart, per-partition blocking, and delivery latency.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Partitioners } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC } from '../../../knative/manifests';
import { parseCloudEvent } from '../../events/cloudevents';
import { executionStarted, podCreated } from '../../events/sample-events';
import { MemoryDeadLetters, ScriptedSink } from '../bus.contract';
import type { DeliveryPolicy } from '../port';
import { recordToRequest } from './binding';
import { createKafka } from './client';
import { type KafkaSourceDefinition, KafkaSourceDispatcher } from './dispatcher';
import { KafkaEventBus } from './event-bus';
import {
  kafkaBrokers,
  quietLog,
  readRecords,
  reportSkip,
  spreadingPartitioner,
  TestTopics,
  uniquePrefix,
} from './test-support';

reportSkip('the KafkaSourceDispatcher tests');

const brokers = kafkaBrokers ?? [];
const FAST: DeliveryPolicy = { retry: 2, backoffPolicy: 'exponential', backoffDelayMs: 5, timeoutMs: 1000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function source(sink: ScriptedSink, prefix: string, delivery: DeliveryPolicy = FAST): KafkaSourceDefinition {
  return {
    name: sink.name,
    consumerGroup: `${prefix}${sink.name}`,
    topics: sink.eventTypes,
    delivery,
    deliver: (request) => sink.deliver(request),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

describe.skipIf(!brokers.length)('KafkaSourceDispatcher on a real broker', () => {
  let prefix: string;
  let topics: TestTopics;
  let closers: (() => Promise<void>)[];

  beforeEach(() => {
    prefix = uniquePrefix();
    topics = new TestTopics();
    closers = [];
  });

  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    await topics.removeAll();
  });

  function publisher(partitioner = spreadingPartitioner): KafkaEventBus {
    const bus = new KafkaEventBus({ brokers, log: quietLog, topicPrefix: prefix, partitioner });
    closers.push(() => bus.close());
    return bus;
  }

  async function dispatcher(
    sources: KafkaSourceDefinition[],
    deadLetters = new MemoryDeadLetters(),
  ): Promise<KafkaSourceDispatcher> {
    const running = new KafkaSourceDispatcher({
      brokers,
      log: quietLog,
      deadLetters,
      topicPrefix: prefix,
      sources,
      sessionTimeoutMs: 6000,
      maxWaitTimeInMs: 100,
    });
    await running.start();
    closers.push(() => running.stop(0));
    return running;
  }

  it('dead-letters records that are not CloudEvents, in the repository and on the dead-letter topic', async () => {
    await topics.ensure([`${prefix}pod_created`, `${prefix}${DEAD_LETTER_TOPIC}`], 1);
    const sink = new ScriptedSink('run-pod', ['pod_created']);
    const deadLetters = new MemoryDeadLetters();
    const running = await dispatcher([source(sink, prefix)], deadLetters);
    const kafka = createKafka({ brokers, log: quietLog });
    const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    await raw.send({
      topic: `${prefix}pod_created`,
      messages: [
        { key: 'k-1', value: 'not an event', headers: { origin: 'legacy' } },
        { key: 'k-2', value: '{"hello":"world"}', headers: { 'content-type': 'application/json' } },
      ],
    });
    await raw.disconnect();

    await running.drain();

    // The sink refuses both (no JSON: 415; JSON that is no domain event: 400); neither is retried.
    expect(sink.calls).toEqual([]);
    expect(deadLetters.letters).toMatchObject([
      {
        subscriber: 'run-pod',
        event: null,
        raw: 'not an event',
        event_type: 'dev.knative.kafka.event',
        event_id: 'partition:0/offset:0',
        attempts: 1,
      },
      { event: null, raw: '{"hello":"world"}', event_id: 'partition:0/offset:1', attempts: 1 },
    ]);
    expect(deadLetters.letters[0]!.error).toMatch(/^HTTP 415 from run-pod: binary-mode data must be/);
    expect(deadLetters.letters[1]!.error).toMatch(/^HTTP 400 from run-pod: /);
    const letters = await readRecords(`${prefix}${DEAD_LETTER_TOPIC}`, 2);
    const headers = letters.map((letter) =>
      Object.fromEntries(Object.entries(letter.headers ?? {}).map(([name, value]) => [name, String(value)])),
    );
    expect(headers[0]).toMatchObject({
      ce_specversion: '1.0',
      ce_type: 'dev.knative.kafka.event',
      ce_id: 'partition:0/offset:0',
      ce_source: `/apis/v1/namespaces/integr8scode/kafkasources/run-pod#${prefix}pod_created`,
      ce_kafkaheaderorigin: 'legacy',
      ce_knativeerrordest: 'http://run-pod.local/',
      ce_knativeerrorcode: '415',
    });
    expect(headers[1]).toMatchObject({ ce_knativeerrorcode: '400', 'content-type': 'application/json' });
    expect(Buffer.from(headers[1]!.ce_knativeerrordata!, 'base64').toString()).toContain(
      'event data is invalid',
    );
    expect(letters.map((letter) => letter.key?.toString())).toEqual(['k-1', 'k-2']);
    expect(letters[0]!.value?.toString()).toBe('not an event');
  });

  it('puts a dead-lettered event on the dead-letter topic with its own ce_ headers, still a valid CloudEvent', async () => {
    await topics.ensure([`${prefix}pod_created`, `${prefix}${DEAD_LETTER_TOPIC}`], 1);
    const sink = new ScriptedSink('run-pod', ['pod_created'], () => 422);
    const running = await dispatcher([source(sink, prefix)]);
    const event = podCreated();

    await publisher().publish(event);
    await running.drain();

    const [letter] = await readRecords(`${prefix}${DEAD_LETTER_TOPIC}`, 1);
    const message = letter!;
    expect(String(message.headers?.ce_id)).toBe(event.event_id);
    expect(String(message.headers?.ce_knativeerrorcode)).toBe('422');
    expect(Buffer.from(String(message.headers?.ce_knativeerrordata), 'base64').toString()).toBe(
      'sink says 422',
    );
    const request = recordToRequest({ topic: 'dlq', partition: 0, message }, 'http://dlq.local/', {
      name: 'dlq',
      namespace: 'integr8scode',
    });
    expect(await parseCloudEvent(request)).toEqual({ ok: true, event });
  });

  it('leaves a record it had not acked when stopped to the next dispatcher of the group, and only that one', async () => {
    await topics.ensure([`${prefix}pod_created`, `${prefix}${DEAD_LETTER_TOPIC}`], 2);
    const acked = podCreated();
    const unfinished = podCreated(acked.execution_id);
    const first = new ScriptedSink('monitor', ['pod_created'], (event) =>
      event.event_id === unfinished.event_id ? 'hang' : 202,
    );
    const deadLetters = new MemoryDeadLetters();
    const policy = { ...FAST, timeoutMs: 60_000 };
    const before = await dispatcher([source(first, prefix, policy)], deadLetters);
    const bus = publisher();
    await bus.publish(acked);
    await bus.publish(unfinished);
    await until(() => first.calls.length === 2, 'the second delivery to start');

    await before.stop(0);

    const second = new ScriptedSink('monitor', ['pod_created']);
    const after = await dispatcher([source(second, prefix, policy)], deadLetters);
    await after.drain();
    expect(first.acked.map((ack) => ack.event.event_id)).toEqual([acked.event_id]);
    expect(second.callIds()).toEqual([unfinished.event_id]);
    expect(deadLetters.letters).toEqual([]);
  });

  it('redelivers after the dispatcher process is killed mid-delivery (no graceful stop)', async () => {
    await topics.ensure([`${prefix}pod_created`, `${prefix}${DEAD_LETTER_TOPIC}`], 1);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./crash-fixture.ts', import.meta.url))],
      {
        env: { ...process.env, CRASH_FIXTURE_PREFIX: prefix },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await until(() => output.includes('started'), 'the child dispatcher to join', 30_000);
      const event = podCreated();
      await publisher().publish(event);
      await until(() => output.includes(`delivering ${event.event_id}`), 'the child to start delivering');

      child.kill('SIGKILL');
      await exited;

      // The dead member holds the partition until its session (6 s) expires; then the group moves on.
      const sink = new ScriptedSink('monitor', ['pod_created']);
      const deadLetters = new MemoryDeadLetters();
      const after = await dispatcher([source(sink, prefix)], deadLetters);
      await after.drain();
      expect(sink.callIds()).toEqual([event.event_id]);
      expect(deadLetters.letters).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('blocks a partition while its head is retried: another aggregate on the same partition waits', async () => {
    await topics.ensure([`${prefix}pod_created`, `${prefix}${DEAD_LETTER_TOPIC}`], 1);
    const blocked = podCreated();
    const behind = podCreated();
    const sink = new ScriptedSink('monitor', ['pod_created'], (event, attempt) =>
      event.event_id === blocked.event_id && attempt < 2 ? 503 : 202,
    );
    const running = await dispatcher([source(sink, prefix, { ...FAST, backoffDelayMs: 40 })]);
    const bus = publisher();

    await bus.publish(blocked);
    await bus.publish(behind);
    await running.drain();

    expect(sink.callIds()).toEqual([blocked.event_id, blocked.event_id, blocked.event_id, behind.event_id]);
  });

  it('keeps one aggregate in order within a topic while other partitions go on', async () => {
    await topics.ensure([`${prefix}execution_started`, `${prefix}${DEAD_LETTER_TOPIC}`], 4);
    const sink = new ScriptedSink('store-result', ['execution_started'], (_event, attempt) =>
      attempt === 0 ? 503 : 202,
    );
    const running = await dispatcher([source(sink, prefix)]);
    const bus = publisher(Partitioners.DefaultPartitioner);
    const executions = ['a', 'b', 'c'].map((name) => `exec-${name}-${prefix}`);
    const published = executions.flatMap((id) => [executionStarted(id), executionStarted(id)]);

    for (const event of published) await bus.publish(event);
    await running.drain();

    for (const id of executions) {
      const mine = published.filter((event) => event.aggregate_id === id).map((event) => event.event_id);
      const acked = sink.acked
        .filter((ack) => ack.event.aggregate_id === id)
        .map((ack) => ack.event.event_id);
      expect(acked).toEqual(mine);
    }
  });

  it('measures produce → sink latency over 200 records', async () => {
    await topics.ensure([`${prefix}pod_created`, `${prefix}${DEAD_LETTER_TOPIC}`], 6);
    const called = new Map<string, number>();
    const sink = new ScriptedSink('notify', ['pod_created'], (event) => {
      called.set(event.event_id, performance.now());
      return 202;
    });
    const running = await dispatcher([source(sink, prefix)]);
    const bus = publisher(Partitioners.DefaultPartitioner);
    const sent = new Map<string, number>();
    const acks: number[] = [];
    const started = performance.now();
    for (let i = 0; i < 200 && performance.now() - started < 30_000; i++) {
      const event = podCreated();
      const at = performance.now();
      sent.set(event.event_id, at);
      await bus.publish(event);
      acks.push(performance.now() - at);
      await sleep(2);
    }
    await running.drain();

    const latencies = [...sent].map(([id, at]) => called.get(id)! - at).sort((a, b) => a - b);
    acks.sort((a, b) => a - b);
    console.info(
      `Kafka produce→sink over ${latencies.length} records: p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms; publish ack p50 ${percentile(acks, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(acks, 99).toFixed(1)} ms`,
    );
    expect(latencies).toHaveLength(200);
    expect(latencies.every((ms) => Number.isFinite(ms))).toBe(true);
    expect(percentile(latencies, 50)).toBeLessThan(250);
  });
});
