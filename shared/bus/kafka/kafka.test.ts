/**
 * The event-bus contract on a real broker: KafkaEventBus produces, KafkaSourceDispatcher delivers with
 * KafkaSource's rules, and every test gets topics and consumer groups of its own.
 */
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC } from '../../../knative/manifests';
import { parseCloudEvent } from '../../events/cloudevents';
import { executionOutput, executionRequested, podCreated } from '../../events/sample-events';
import type { DomainEvent } from '../../events/schemas';
import type { DeadLetterRepository } from '../../store/ports';
import { describeEventBusContract } from '../bus.contract';
import type { DeliveryPolicy, EventBus, Subscription } from '../port';
import { recordToRequest } from './binding';
import { KafkaSourceDispatcher } from './dispatcher';
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

reportSkip('the Kafka event-bus contract');

/** A KafkaEventBus and a dispatcher started at the first publish, when every subscription is known. */
export function kafkaBusPair(deadLetters: DeadLetterRepository, policy: DeliveryPolicy) {
  const brokers = kafkaBrokers ?? [];
  const prefix = uniquePrefix();
  const topics = new TestTopics();
  const producer = new KafkaEventBus({
    brokers,
    log: quietLog,
    topicPrefix: prefix,
    partitioner: spreadingPartitioner,
  });
  const subscriptions: Subscription[] = [];
  let dispatcher: KafkaSourceDispatcher | null = null;
  let starting: Promise<void> | null = null;
  let closed = false;

  const start = () =>
    (starting ??= (async () => {
      const consumed = subscriptions.flatMap((subscription) => subscription.eventTypes);
      await topics.ensure([...new Set(consumed), DEAD_LETTER_TOPIC].map((topic) => `${prefix}${topic}`));
      dispatcher = new KafkaSourceDispatcher({
        brokers,
        log: quietLog,
        deadLetters,
        topicPrefix: prefix,
        // A short long-poll: stop() waits for the fetch under way.
        maxWaitTimeInMs: 100,
        sources: subscriptions.map((subscription) => ({
          name: subscription.name,
          consumerGroup: `${prefix}${subscription.name}`,
          topics: subscription.eventTypes,
          delivery: policy,
          deliver: (request) => subscription.deliver(request),
        })),
      });
      await dispatcher.start();
    })());

  const bus: EventBus = {
    async publish(event: DomainEvent) {
      if (closed) throw new Error(`event bus is closed; ${event.event_id} was not published`);
      await start();
      await topics.ensure([producer.topicFor(event.event_type)]);
      await producer.publish(event);
    },
    async ready() {},
    async drain() {
      await producer.drain();
      if (starting) {
        await starting;
        await dispatcher!.drain();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await bus.drain();
      await producer.close();
      await dispatcher?.stop();
      await topics.removeAll();
    },
  };
  return {
    bus,
    subscribe: (subscription: Subscription) => {
      if (starting) throw new Error('subscribe before the first publish');
      subscriptions.push(subscription);
    },
    close: () => bus.close(),
  };
}

describe.skipIf(!kafkaBrokers?.length)('Kafka event bus', () => {
  describeEventBusContract('kafka', async (deadLetters, policy) => kafkaBusPair(deadLetters, policy));
});

describe.skipIf(!kafkaBrokers?.length)('KafkaEventBus records', () => {
  const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('is ready while a broker accepts connections, without loading a Kafka client', async () => {
    const bus = new KafkaEventBus({ brokers: kafkaBrokers ?? [], log: quietLog });
    await expect(bus.ready()).resolves.toBeUndefined();
    // Port 1 on loopback: nothing listens there.
    const nowhere = new KafkaEventBus({ brokers: ['127.0.0.1:1'], log: quietLog });
    await expect(nowhere.ready()).rejects.toThrow('no Kafka broker accepts connections (127.0.0.1:1)');
  });

  it('writes a keyed binary-mode CloudEvent that a KafkaSource would forward as it is', async () => {
    const prefix = uniquePrefix();
    const topics = new TestTopics();
    const bus = new KafkaEventBus({ brokers: kafkaBrokers ?? [], log: quietLog, topicPrefix: prefix });
    try {
      await topics.ensure([`${prefix}execution_requested`], 3);
      const event = executionRequested(undefined, TRACEPARENT);

      await bus.publish(event);
      // No topic exists for output: publishing it would fail (or hang) if it were sent at all.
      await bus.publish(executionOutput(event.execution_id));

      const [record] = await readRecords(`${prefix}execution_requested`, 1);
      const headers = Object.fromEntries(
        Object.entries(record!.headers ?? {}).map(([name, value]) => [name, String(value)]),
      );
      expect(headers).toEqual({
        ce_specversion: '1.0',
        ce_id: event.event_id,
        ce_type: 'execution_requested',
        ce_source: '/integr8scode/submit',
        ce_subject: event.aggregate_id,
        ce_time: event.timestamp,
        ce_partitionkey: event.aggregate_id,
        'content-type': 'application/json',
        traceparent: TRACEPARENT,
      });
      expect(record!.key?.toString()).toBe(event.aggregate_id);
      expect(JSON.parse(record!.value!.toString())).toEqual(event);
      const request = recordToRequest(
        { topic: `${prefix}execution_requested`, partition: 0, message: record! },
        'http://run-pod.local/',
        { name: 'run-pod', namespace: 'integr8scode' },
      );
      expect(await parseCloudEvent(request)).toEqual({ ok: true, event, traceparent: TRACEPARENT });
    } finally {
      await bus.close();
      await topics.removeAll();
    }
  });

  it('sends concurrent publishes together and keeps their call order', async () => {
    const prefix = uniquePrefix();
    const topics = new TestTopics();
    const bus = new KafkaEventBus({ brokers: kafkaBrokers ?? [], log: quietLog, topicPrefix: prefix });
    try {
      await topics.ensure([`${prefix}execution_requested`], 3);
      const executionId = executionRequested().execution_id;
      const events = Array.from({ length: 60 }, () => executionRequested(executionId));

      await Promise.all(events.map((event) => bus.publish(event)));

      const records = await readRecords(`${prefix}execution_requested`, events.length);
      expect(records.map((record) => JSON.parse(record.value!.toString()).event_id)).toEqual(
        events.map((event) => event.event_id),
      );
    } finally {
      await bus.close();
      await topics.removeAll();
    }
  });

  it('does not let a topic it cannot write hold up publishes to the others', async () => {
    const prefix = uniquePrefix();
    const topics = new TestTopics();
    const bus = new KafkaEventBus({
      brokers: kafkaBrokers ?? [],
      log: quietLog,
      topicPrefix: prefix,
      publishTimeoutMs: 1500,
    });
    try {
      await topics.ensure([`${prefix}execution_requested`], 1);
      // No pod_created topic exists in this run.
      const stuck = bus.publish(podCreated()).then(
        () => 'sent',
        (error: Error) => error.message,
      );
      const started = performance.now();
      await bus.publish(executionRequested());
      await bus.publish(executionRequested());
      expect(performance.now() - started).toBeLessThan(1000);
      expect(await stuck).toMatch(/did not acknowledge .*pod_created.* within 1500 ms/);
      expect(await readRecords(`${prefix}execution_requested`, 2)).toHaveLength(2);
    } finally {
      await bus.close();
      await topics.removeAll();
    }
  });

  it('refuses to publish after close()', async () => {
    const bus = new KafkaEventBus({
      brokers: kafkaBrokers ?? [],
      log: quietLog,
      topicPrefix: uniquePrefix(),
    });
    await bus.close();
    await expect(bus.publish(executionRequested())).rejects.toThrow(/closed/);
  });

  it('fails a publish the broker cannot take within publishTimeoutMs instead of hanging', async () => {
    const bus = new KafkaEventBus({
      brokers: kafkaBrokers ?? [],
      log: quietLog,
      topicPrefix: `${uniquePrefix()}missing.`,
      publishTimeoutMs: 500,
    });
    try {
      await expect(bus.publish(executionRequested())).rejects.toThrow(/did not acknowledge.*500 ms/);
    } finally {
      await bus.close();
    }
  });
});
